"""Every reader against a corpus of crafted bad files, and the flags and outputs a script must refuse.

Each case must end in one line on stderr and exit code 2: no traceback, nothing written, and
no memory spent on what a file merely declares.
"""

import importlib.util
import pickle
import shutil
import struct
import tracemalloc
from pathlib import Path

import h5py
import numpy as np
import pytest

import bc
import bco
import dagger
import label_noise
import run_expert
import show_data
from conftest import EXPERTS_DIR, write_expert_rollouts
from cs294 import cli

MEMORY_BOUND = 256 * 2**20


def run_in_process(module, argv, capsys) -> tuple[int, str]:
    tracemalloc.start()
    try:
        code = cli.run(module.main, module.build_parser(), [str(a) for a in argv])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    stderr = capsys.readouterr().err.strip()
    assert peak < MEMORY_BOUND, f"{peak / 2**20:.0f} MB"
    return code, stderr


def assert_one_line_refusal(code: int, stderr: str, message: str) -> None:
    assert code == 2, stderr
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr
    assert message in stderr, stderr


@pytest.fixture(scope="module")
def good_rollouts(tmp_path_factory) -> Path:
    return write_expert_rollouts(tmp_path_factory.mktemp("good"), "Hopper-v1", 2, 20)


def damage_hdf5(how: str, path: Path, scratch: Path) -> None:
    with h5py.File(path, "a") as file:
        episode = file["episode_000000"]
        if how == "format_version":
            file.attrs["format_version"] = "one"
        elif how == "env_name_array":
            file.attrs["env_name"] = np.arange(3)
        elif how == "soft_link_loop":
            del file["episode_000000"]
            file["episode_000000"] = h5py.SoftLink("/episode_000000")
        elif how == "no_episodes":
            for name in [name for name in file if name.startswith("episode_0")]:
                del file[name]
            del file["episode_lengths"]
            file.create_dataset("episode_lengths", data=np.zeros(0, np.int64))
        elif how == "declares_4_tib":
            del episode["observations"]
            episode.create_dataset("observations", shape=(2**38, 11), dtype="f4")  # no storage is written for it
        elif how == "external_storage":
            (scratch / "foreign.bin").write_bytes(b"\x01" * 4096)
            shape = episode["observations"].shape
            del episode["observations"]
            episode.create_dataset("observations", shape=shape, dtype="f4", external=[(str(scratch / "foreign.bin"), 0, 4096)])
        elif how == "virtual":
            values = episode["observations"][()]
            other = scratch / "other.h5"
            with h5py.File(other, "w") as source:
                source.create_dataset("x", data=values)
            layout = h5py.VirtualLayout(shape=values.shape, dtype=values.dtype)
            layout[:] = h5py.VirtualSource(str(other), "x", shape=values.shape)
            del episode["observations"]
            episode.create_virtual_dataset("observations", layout)
        elif how == "external_link":
            del file["episode_000000"]
            file["episode_000000"] = h5py.ExternalLink(str(scratch / "elsewhere.h5"), "/episode")
        elif how == "nan_observations":
            episode["observations"][3, 2] = np.nan
        elif how == "inf_rewards":
            episode["rewards"][0] = np.inf


HDF5_DAMAGE = {
    "format_version": "format_version", "env_name_array": "env_name is not a string", "soft_link_loop": "damaged",
    "no_episodes": "holds no episodes", "declares_4_tib": "declares", "external_storage": "outside the file",
    "virtual": "outside the file", "external_link": "damaged", "nan_observations": "NaN or infinite",
    "inf_rewards": "NaN or infinite",
}


@pytest.mark.parametrize("how", HDF5_DAMAGE)
def test_crafted_rollout_files_are_refused_in_one_line(how, good_rollouts, tmp_path, capsys):
    path = tmp_path / "bad.h5"
    shutil.copyfile(good_rollouts, path)
    damage_hdf5(how, path, tmp_path)
    assert_one_line_refusal(*run_in_process(show_data, [path], capsys), HDF5_DAMAGE[how])
    code, stderr = run_in_process(bc, ["Hopper-v1", "--data", path, "--epochs", 1, "--run_dir", tmp_path / "run"], capsys)
    assert_one_line_refusal(code, stderr, "")
    assert not (tmp_path / "run" / "metrics.json").exists()


def expert_structure() -> dict:
    with open(EXPERTS_DIR / "Hopper-v1.pkl", "rb") as file:
        return pickle.load(file)  # the published expert, a trusted file


def crafted_pickle(how: str) -> bytes:
    if how == "declares_2_gib_bytes":
        return b"\x80\x04\x8e" + struct.pack("<Q", 2**31) + b"abc"
    if how == "top_level_array":
        return pickle.dumps(np.zeros(3), protocol=2)
    if how == "garbage":
        return b"\x00\x01 not a pickle"
    expert = expert_structure()
    hidden = expert["GaussianPolicy"]["hidden"]["FeedforwardNet"]
    if how == "layer_name_without_underscore":
        hidden["layer0"] = hidden.pop("layer_0")
    elif how == "nan_weights":
        hidden["layer_0"]["AffineLayer"]["W"][0, 0] = np.nan
    elif how == "truncated":
        return pickle.dumps(expert, protocol=2)[:3000]
    return pickle.dumps(expert, protocol=2)


PICKLE_DAMAGE = {
    "declares_2_gib_bytes": "not a readable expert pickle", "top_level_array": "does not have the expert format",
    "garbage": "not a readable expert pickle", "layer_name_without_underscore": "does not have the expert format",
    "nan_weights": "NaN or infinite weights", "truncated": "not a readable expert pickle",
}


@pytest.mark.parametrize("how", PICKLE_DAMAGE)
def test_crafted_expert_pickles_are_refused_in_one_line(how, tmp_path, capsys):
    path = tmp_path / "expert.pkl"
    path.write_bytes(crafted_pickle(how))
    code, stderr = run_in_process(run_expert, [path, "Hopper-v1", "--num_rollouts", 1, "--output", tmp_path / "out.h5"], capsys)
    assert_one_line_refusal(code, stderr, PICKLE_DAMAGE[how])
    assert not (tmp_path / "out.h5").exists()


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not really a zip", b"\x89HDF\r\n\x1a\n broken"])
def test_crafted_keras_files_are_refused_in_one_line(content, tmp_path, capsys):
    path = tmp_path / "policy.keras"
    path.write_bytes(content)
    code, stderr = run_in_process(run_expert, [path, "Hopper-v1", "--num_rollouts", 1, "--output", tmp_path / "out.h5"], capsys)
    assert_one_line_refusal(code, stderr, "not a Keras model")


@pytest.mark.parametrize("script, flag", [("bc_curve", "--seeds"), ("bc_curve", "--num_demos"), ("hopper_study", "--seeds")])
def test_a_seed_or_demo_count_given_twice_is_refused(script, flag, tmp_path, capsys):
    module = importlib.import_module(script)
    where = ["Hopper-v1", "--output_dir", tmp_path / "out"] if script == "bc_curve" else ["--results_dir", tmp_path / "out"]
    code, stderr = run_in_process(module, [*where, flag, "1,1"], capsys)
    assert_one_line_refusal(code, stderr, f"{flag} lists 1 twice")  # was a row, or a mean with ± 0.0, counted twice
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(importlib.util.find_spec("Box2D") is not None, reason="Box2D is installed here")
def test_a_task_whose_package_is_not_installed_is_refused_in_one_line(tmp_path, capsys):
    code, stderr = run_in_process(run_expert, [EXPERTS_DIR / "CartPole-v1.pkl", "LunarLander-v3", "--output", tmp_path / "out.h5"], capsys)
    assert_one_line_refusal(code, stderr, "LunarLander-v3 needs a package that is not installed (Box2D is not installed")
    assert not list(tmp_path.iterdir())


def test_a_keras_policy_on_a_task_without_vector_observations_is_refused_in_one_line(tmp_path, capsys):
    policy = tmp_path / "policy.keras"
    policy.write_bytes(b"never read: the task is refused first")
    code, stderr = run_in_process(run_expert, [policy, "FrozenLake-v1", "--output", tmp_path / "out.h5"], capsys)
    assert_one_line_refusal(code, stderr, "FrozenLake-v1 has observations of shape ()")  # was an IndexError


@pytest.mark.parametrize("flags, message", [
    (["--seeds", ""], "argument --seeds: expected at least one whole number"),  # was an IndexError after the work
    (["--seeds", "0,0"], "argument --seeds: 0 is given twice"),  # a mean over one seed counted twice, shown as ± 0.0
    (["--ensemble", "5,5"], "argument --ensemble: 5 is given twice"),
])
def test_label_noise_refuses_an_empty_or_repeated_list(flags, message, good_rollouts, tmp_path, capsys):
    with pytest.raises(SystemExit) as refused:  # argparse's own refusal: its usage, then one error line
        run_in_process(label_noise, ["Hopper-v1", "--data", good_rollouts, *flags, "--output", tmp_path / "table.md"], capsys)
    stderr = capsys.readouterr().err
    assert refused.value.code == 2 and "Traceback" not in stderr and message in stderr.strip().splitlines()[-1], stderr
    assert not list(tmp_path.iterdir())


def test_an_output_that_is_an_input_is_refused_and_the_input_survives(tmp_path, good_rollouts, capsys):
    expert = tmp_path / "Hopper-v1.pkl"
    shutil.copyfile(EXPERTS_DIR / "Hopper-v1.pkl", expert)
    before = expert.read_bytes()
    code, stderr = run_in_process(run_expert, [expert, "Hopper-v1", "--num_rollouts", 1, "--output", expert], capsys)
    assert_one_line_refusal(code, stderr, "would overwrite the input")
    assert expert.read_bytes() == before

    data = tmp_path / "data.h5"
    shutil.copyfile(good_rollouts, data)
    code, stderr = run_in_process(label_noise, ["Hopper-v1", "--data", data, "--output", data], capsys)
    assert_one_line_refusal(code, stderr, "would overwrite the input")
    code, stderr = run_in_process(bc, ["Hopper-v1", "--data", data, "--run_dir", tmp_path, "--overwrite"], capsys)
    assert_one_line_refusal(code, stderr, "would overwrite the input")
    assert data.read_bytes() == good_rollouts.read_bytes()


@pytest.mark.parametrize("script", [bc, dagger, bco], ids=["bc", "dagger", "bco"])
def test_a_run_dir_holding_a_users_own_files_is_refused_even_with_overwrite(script, good_rollouts, tmp_path, capsys):
    notes = tmp_path / "thesis"
    (notes / "chapter1").mkdir(parents=True)
    (notes / "draft.tex").write_text("my own words")
    (notes / "metrics.json").write_text("{}")  # a run's name beside the user's files does not make it a run directory
    data_flag = "--demos" if script is bco else "--data"
    for extra in ([], ["--overwrite"]):
        code, stderr = run_in_process(script, ["Hopper-v1", data_flag, good_rollouts, "--run_dir", notes, *extra], capsys)
        assert_one_line_refusal(code, stderr, "holds files no run writes (chapter1, draft.tex)")
    assert sorted(path.name for path in notes.iterdir()) == ["chapter1", "draft.tex", "metrics.json"]
    assert (notes / "draft.tex").read_text() == "my own words"


def test_overwrite_through_a_symlinked_run_dir_clears_its_target_and_keeps_the_link(good_rollouts, tmp_path, capsys):
    real, link = tmp_path / "real", tmp_path / "link"
    real.mkdir()
    link.symlink_to(real)
    flags = ["Hopper-v1", "--data", good_rollouts, "--epochs", 1, "--eval_episodes", 1, "--run_dir", link]
    assert run_in_process(bc, flags, capsys)[0] == 0
    (real / "policy.keras").unlink()  # so the rerun's files show that it, not the first run, wrote them
    code, stderr = run_in_process(bc, [*flags, "--overwrite"], capsys)
    assert code == 0, stderr  # shutil.rmtree refused the link itself with a traceback
    assert link.is_symlink() and (real / "policy.keras").is_file() and (real / "metrics.json").is_file()


@pytest.mark.parametrize(("flags", "message"), [
    (["--learning_rate", "nan"], "--learning_rate must be a finite number"),
    (["--clip_observations", "inf"], "--clip_observations must be a finite number"),
    (["--seed", "-1"], "--seed must be a non-negative integer"),
    (["--validation_fraction", "1.5"], "--validation_fraction must be in [0, 1)"),
])
def test_impossible_flags_are_refused_before_any_work(flags, message, good_rollouts, tmp_path, capsys):
    code, stderr = run_in_process(bc, ["Hopper-v1", "--data", good_rollouts, "--run_dir", tmp_path / "run", *flags], capsys)
    assert_one_line_refusal(code, stderr, message)
    assert not (tmp_path / "run").exists()


def test_outputs_under_a_file_or_at_a_directory_are_refused(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    expert = EXPERTS_DIR / "Hopper-v1.pkl"
    code, stderr = run_in_process(run_expert, [expert, "Hopper-v1", "--num_rollouts", 1, "--output", blocker / "out.h5"], capsys)
    assert_one_line_refusal(code, stderr, "which is a file")
    code, stderr = run_in_process(run_expert, [expert, "Hopper-v1", "--num_rollouts", 1, "--output", tmp_path], capsys)
    assert_one_line_refusal(code, stderr, "is a directory")
