"""Minari both ways (hw1/minari_data.py, cs294.minari_io) on real episodes, real files and Minari's own reader.

No dataset can be downloaded here, so each test builds its datasets in a temporary
MINARI_DATASETS_PATH: exported from real expert rollouts, or recorded on gymnasium's own tasks
the way Minari's collection scripts do (float64 observations, infos, only the first reset seeded).
"""

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import h5py
import numpy as np
import pytest

import bc
import minari_data
from conftest import REPO_ROOT
from cs294 import bco as bco_library
from cs294 import arguments, cli, dagger as dagger_library, data, environments, minari_io, provenance, runs
from cs294.errors import UserError

minari = pytest.importorskip("minari", reason="minari[hdf5] is pinned in requirements.txt")


@pytest.fixture(autouse=True)
def minari_root(tmp_path, monkeypatch):
    """A Minari datasets folder of this test's own, and the test's folder as the working directory (data/minari/ lands there)."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "minari"


def export(path, dataset_id, *options):
    return minari_data.main(minari_data.build_parser().parse_args(["export", str(path), dataset_id, *map(str, options)]))


def run_script_main(module, argv, capsys):
    code = cli.run(module.main, module.build_parser(), [str(a) for a in argv])
    return code, capsys.readouterr()


def gymnasium_dataset(dataset_id, env_id, episodes=3, steps=40, nan=False, **make_options):
    """Random-action episodes of gymnasium's task as registered, stored as Minari's own collection scripts store them (nan: one NaN observation)."""
    env = gym.make(env_id, max_episode_steps=steps, **make_options)
    env.action_space.seed(0)
    buffers = []
    for index in range(episodes):
        seed = 100 if index == 0 else None  # the collection scripts seed the first reset only
        observation, _ = env.reset(seed=seed)
        observations, actions, rewards, terminations, truncations, infos = [observation], [], [], [], [], []
        while not (terminations and (terminations[-1] or truncations[-1])):
            action = env.action_space.sample()
            observation, reward, terminated, truncated, info = env.step(action)
            for values, value in zip((observations, actions, rewards, terminations, truncations, infos),
                                     (observation, action, reward, terminated, truncated, float(info.get("x_position", 0.0)))):
                values.append(value)
        if nan and index == 1:
            observations[-1] = np.full_like(observations[-1], np.nan)
        buffers.append(minari.data_collector.EpisodeBuffer(
            seed=seed, observations=np.array(observations), actions=np.array(actions), rewards=np.array(rewards),
            terminations=np.array(terminations), truncations=np.array(truncations), infos={"x_position": np.array(infos)}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Minari's advice to name an evaluation env
        return minari.create_dataset_from_buffers(dataset_id, buffers, env=env, algorithm_name="uniform random actions",
                                                  author="tests/test_minari.py", author_email="nobody@example.org",
                                                  code_permalink="tests/test_minari.py", description="a test dataset"), buffers


def assert_same_episodes(found: list[data.Trajectory], expected: list[data.Trajectory]) -> None:
    assert len(found) == len(expected) > 0
    for trajectory, reference in zip(found, expected):
        assert trajectory.seed == reference.seed
        for field in data.EPISODE_FIELDS:
            value, wanted = getattr(trajectory, field), getattr(reference, field)
            assert value.dtype == wanted.dtype and np.array_equal(value, wanted), field


def test_round_trip_is_exact(tmp_path, hopper_data, minari_root):
    """File -> Minari -> file, with the original deleted in between: every array, dtype, seed and attribute comes back."""
    original_path = tmp_path / "hopper.h5"
    shutil.copyfile(hopper_data, original_path)
    original = data.read_rollouts(original_path, env_name="Hopper-v1")
    exported = export(original_path, "cs294/hopper/expert-v0", "--ref_episodes", 2)
    original_path.unlink()
    assert exported.folder == minari_root / "cs294" / "hopper" / "expert-v0" and exported.env_id == "CS294/Hopper-v1"
    assert (exported.episodes, exported.steps) == (4, 1000)
    assert sorted(path.name for path in (exported.folder / "data").iterdir()) == ["main_data.hdf5", "metadata.json"]
    assert not [path for path in minari_root.iterdir() if path.name.startswith(".")]  # the staging folder is gone

    back = minari_data.main(minari_data.build_parser().parse_args(["import", "cs294/hopper/expert-v0", str(tmp_path / "back.h5")]))
    reread = data.read_rollouts(tmp_path / "back.h5", env_name="Hopper-v1")  # the project's reader, with its dynamics check
    assert_same_episodes(reread.trajectories, original.trajectories)
    assert reread.episode_attributes == original.episode_attributes
    assert {name: reread.attributes[name] for name in original.attributes} == original.attributes
    assert set(reread.attributes) - set(original.attributes) == set(minari_io.IMPORTED_ATTRIBUTES)
    assert reread.attributes["minari_dataset_id"] == "cs294/hopper/expert-v0" and len(back.trajectories) == 4


def test_minari_reads_the_export_as_its_own(tmp_path, hopper_data):
    """Minari's loader sees Minari's layout, the same numbers, and fields that say what made the dataset."""
    original = data.read_rollouts(hopper_data, env_name="Hopper-v1")
    export(hopper_data, "cs294/hopper/expert-v0", "--ref_episodes", 2)
    dataset = minari.load_dataset("cs294/hopper/expert-v0")
    seeds = [episode["seed"] for episode in dataset.storage.get_episode_metadata(dataset.episode_indices)]
    assert seeds == [t.seed for t in original.trajectories]
    for episode, trajectory in zip(dataset.iterate_episodes(), original.trajectories, strict=True):
        assert episode.observations.dtype == np.float64 and np.array_equal(episode.observations, trajectory.observations)
        for field in ("actions", "rewards", "terminations", "truncations"):
            assert np.array_equal(getattr(episode, field), getattr(trajectory, field)), field
    with h5py.File(dataset.storage.data_path / "main_data.hdf5") as file:
        assert sorted(file) == ["episode_0", "episode_1", "episode_2", "episode_3"]
    metadata = dataset.storage.metadata
    assert metadata["author"] == {minari_io.DEFAULT_AUTHOR}
    assert "Hopper-v1.pkl" in metadata["algorithm_name"] and "run_expert.py" in metadata["algorithm_name"]
    assert metadata["code_permalink"].startswith("hw1/minari_data.py of cs294-hw1")
    assert "cs294-hw1" in metadata["requirements"] and metadata["num_episodes_average_score"] == 2
    # Reference scores from the project's rollout loop: a random policy falls at once, the expert hops as in the data.
    data_mean = np.mean([t.episode_return for t in original.trajectories])
    assert metadata["ref_min_score"] < 0.1 * data_mean and abs(metadata["ref_max_score"] - data_mean) < 0.02 * data_mean
    assert minari.get_normalized_score(dataset, np.array([metadata["ref_max_score"]]))[0] == pytest.approx(1.0)


def test_recovered_environment_is_the_2017_task_and_replays_the_data(hopper_data):
    original = data.read_rollouts(hopper_data, env_name="Hopper-v1").trajectories[0]
    export(hopper_data, "cs294/hopper/expert-v0", "--ref_episodes", 0)
    dataset = minari.load_dataset("cs294/hopper/expert-v0")
    assert "ref_max_score" not in dataset.storage.metadata  # --ref_episodes 0 leaves both scores out
    env = dataset.recover_environment()
    assert env.spec.id == "CS294/Hopper-v1" and env.spec.max_episode_steps == 250  # the file's --max_timesteps
    assert dataset.recover_environment(eval_env=True).spec.id == "CS294/Hopper-v1"
    reference = environments.make_env(environments.resolve("Hopper-v1"))
    assert np.array_equal(env.unwrapped.model.body_mass, reference.unwrapped.model.body_mass)
    observation, _ = env.reset(seed=original.seed)
    observations, rewards, truncated = [observation], [], False
    for action in original.actions:
        observation, reward, _, truncated, _ = env.step(action)
        observations.append(observation)
        rewards.append(reward)
    assert np.array_equal(np.asarray(observations, np.float32), original.observations)
    assert np.array_equal(rewards, original.rewards) and truncated  # cut by the recovered time limit, as the data was


def test_recovered_from_another_folder_in_a_fresh_process(tmp_path, hopper_data, minari_root):
    """What a user of Minari elsewhere does: load_dataset and recover_environment, with no import of cs294 and no PYTHONPATH."""
    export(hopper_data, "cs294/hopper/expert-v0", "--ref_episodes", 0)
    code = ("import minari\n"
            "env = minari.load_dataset('cs294/hopper/expert-v0').recover_environment()\n"
            "print(env.spec.id, type(env.unwrapped).__name__, env.unwrapped.model.body_mass[1])\n")
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    completed = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                               env={**environment, "MINARI_DATASETS_PATH": str(minari_root), "PYTHONWARNINGS": "ignore"})
    assert completed.returncode == 0, completed.stderr
    gym_id, name, torso_mass = completed.stdout.split()
    reference = environments.make_env(environments.resolve("Hopper-v1")).unwrapped.model.body_mass[1]
    assert (gym_id, name, float(torso_mass)) == ("CS294/Hopper-v1", "HopperEnv", float(reference))


def test_discrete_cartpole_round_trip(tmp_path, cartpole_demos):
    original = data.read_rollouts(cartpole_demos, env_name="CartPole-v1")
    exported = export(cartpole_demos, "cs294/cartpole/expert-v0", "--ref_episodes", 0)
    assert exported.env_id == "CartPole-v1"
    dataset = minari.load_dataset("cs294/cartpole/expert-v0")
    assert dataset.action_space == gym.spaces.Discrete(2) and dataset.recover_environment().spec.id == "CartPole-v1"
    minari_io.import_dataset("cs294/cartpole/expert-v0", tmp_path / "back.h5")
    reread = data.read_rollouts(tmp_path / "back.h5", env_name="CartPole-v1")
    assert_same_episodes(reread.trajectories, original.trajectories)
    assert reread.trajectories[0].actions.dtype == np.int64


def test_a_v5_dataset_maps_to_gymnasiums_task_and_is_refused_for_the_2017_one(tmp_path, capsys):
    """As the public mujoco/* datasets are: Hopper-v5 as registered. It imports as Hopper-v5 and never mixes with Hopper-v1."""
    dataset, buffers = gymnasium_dataset("mujoco/hopper/expert-v0", "Hopper-v5")
    rollouts = minari_io.import_dataset("mujoco/hopper/expert-v0", tmp_path / "v5.h5")
    imported = data.read_rollouts(tmp_path / "v5.h5", env_name="Hopper-v5")
    assert (imported.attributes["env_name"], imported.attributes["gym_id"], imported.attributes["dynamics"]) == ("Hopper-v5", "Hopper-v5", "as registered")
    assert [t.seed for t in imported.trajectories] == [100, -1, -1]  # unseeded resets have no seed to give back
    for trajectory, buffer in zip(imported.trajectories, buffers, strict=True):
        assert np.array_equal(trajectory.observations, buffer.observations.astype(np.float32))
        assert np.array_equal(trajectory.actions, buffer.actions) and np.array_equal(trajectory.rewards, buffer.rewards)
        assert trajectory.truncations[-1] == buffer.truncations[-1] and trajectory.terminations[-1] == buffer.terminations[-1]
    assert imported.attributes["policy"] == "uniform random actions" and len(rollouts.trajectories) == 3

    with pytest.raises(UserError, match="holds rollouts of Hopper-v5, not Hopper-v1"):
        data.read_rollouts(tmp_path / "v5.h5", env_name="Hopper-v1")
    code, output = run_script_main(bc, ["Hopper-v1", "--data", "minari:mujoco/hopper/expert-v0", "--epochs", 1], capsys)
    assert code == cli.USER_ERROR_EXIT_CODE and len(output.err.strip().splitlines()) == 1
    assert ("minari:mujoco/hopper/expert-v0 was recorded on Hopper-v5 as registered, but Hopper-v1 (gymnasium's Hopper-v4 with "
            "2017 inertials) is another task") in output.err
    assert not (tmp_path / "data").exists()  # refused before anything was converted


def test_minari_data_flag_is_converted_once_and_again_when_the_dataset_changes(tmp_path):
    dataset, buffers = gymnasium_dataset("mujoco/hopper/expert-v0", "Hopper-v5")
    path = runs.resolve_data_path("Hopper-v5", minari_io.PREFIX + "mujoco/hopper/expert-v0")
    assert path.parent == Path("data/minari/mujoco/hopper/expert-v0") and path.name.startswith("Hopper-v5-")  # in the working folder
    stamp = path.stat().st_mtime_ns
    assert runs.resolve_data_path("Hopper-v5", "minari:mujoco/hopper/expert-v0") == path and path.stat().st_mtime_ns == stamp
    dataset.update_dataset_from_buffer(buffers[:1])  # the dataset grows: its conversion must follow
    grown = runs.resolve_data_path("Hopper-v5", "minari:mujoco/hopper/expert-v0")
    assert grown != path and not path.exists() and len(data.read_rollouts(grown, env_name="Hopper-v5").trajectories) == 4


def test_bc_dagger_and_bco_take_minari_data(tmp_path, hopper_data, capsys):
    export(hopper_data, "cs294/hopper/expert-v0", "--ref_episodes", 0)
    code, output = run_script_main(bc, ["Hopper-v1", "--data", "minari:cs294/hopper/expert-v0", "--epochs", 1, "--eval_episodes", 1,
                                        "--run_dir", tmp_path / "bc"], capsys)
    assert code == 0, output.err
    assert "converted minari:cs294/hopper/expert-v0 to data/minari/cs294/hopper/expert-v0/Hopper-v1-" in output.out
    metrics = json.loads((tmp_path / "bc" / "metrics.json").read_text())
    cached = runs.resolve_data_path("Hopper-v1", "minari:cs294/hopper/expert-v0")
    assert metrics["data"]["path"] == str(cached) and metrics["data"]["sha256"] != provenance.file_sha256(hopper_data)
    assert_same_episodes(data.read_rollouts(cached).trajectories, data.read_rollouts(hopper_data).trajectories)
    # dagger.py (--data) and bco.py (--demos) resolve their data through the same function.
    dagger_args = arguments.dagger_parser().parse_args(["Hopper-v1", "--data", "minari:cs294/hopper/expert-v0"])
    assert runs.RunConfig.from_args(dagger_args, dagger_library.OPTIONS).data == cached
    bco_args = arguments.bco_parser().parse_args(["Hopper-v1", "--demos", "minari:cs294/hopper/expert-v0"])
    assert runs.RunConfig.from_args(bco_args, bco_library.OPTIONS).data == cached


@pytest.mark.parametrize("case", ["missing", "malformed", "discrete observations", "multi-discrete actions", "no env spec",
                                  "unregistered env", "other options", "not finite", "exists", "no expert"])
def test_bad_input_is_one_line(tmp_path, hopper_data, capsys, case):
    if case == "discrete observations":
        gymnasium_dataset("toy/frozenlake/random-v0", "FrozenLake-v1", steps=10)
    if case in ("no env spec", "multi-discrete actions"):  # datasets that record spaces but no environment
        box = gym.spaces.Box(-1, 1, (2,), np.float32)
        actions = gym.spaces.MultiDiscrete([3, 3]) if case == "multi-discrete actions" else box
        buffer = minari.data_collector.EpisodeBuffer(observations=np.zeros((3, 2), np.float32), actions=np.zeros((2, 2), actions.dtype),
                                                     rewards=np.zeros(2), terminations=np.zeros(2, bool), truncations=np.zeros(2, bool))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            minari.create_dataset_from_buffers(f"toy/{case.replace(' ', '-')}-v0", [buffer], observation_space=box, action_space=actions)
    if case == "unregistered env":  # recorded where some package registered the task, read where none did
        gym.register("Toy/Hopper-v0", entry_point=gym.spec("Hopper-v5").entry_point, max_episode_steps=20)
        try:
            gymnasium_dataset("toy/unregistered-v0", "Toy/Hopper-v0")
        finally:
            del gym.registry["Toy/Hopper-v0"]
    if case == "other options":
        gymnasium_dataset("toy/heavy-v0", "Hopper-v5", forward_reward_weight=2.0)
    if case == "not finite":
        gymnasium_dataset("toy/nan-v0", "Hopper-v5", nan=True)
    if case == "exists":
        export(hopper_data, "cs294/hopper/expert-v0", "--ref_episodes", 0)
    if case == "no expert":
        gymnasium_dataset("mujoco/hopper/expert-v0", "Hopper-v5")
        minari_io.import_dataset("mujoco/hopper/expert-v0", tmp_path / "v5.h5")
    argv, expected = {
        "missing": (["import", "cs294/hopper/expert-v7", tmp_path / "x.h5"], "no Minari dataset cs294/hopper/expert-v7 in MINARI_DATASETS_PATH="),
        "malformed": (["import", "hopper expert", tmp_path / "x.h5"], "is not a Minari dataset id"),
        "discrete observations": (["import", "toy/frozenlake/random-v0", tmp_path / "x.h5"], "has observations Discrete(16); this project learns from flat vectors"),
        "multi-discrete actions": (["import", "toy/multi-discrete-actions-v0", tmp_path / "x.h5"],
                                   "has actions MultiDiscrete([3 3]); this project takes a 1-D Box of real numbers or a Discrete(n)"),
        "no env spec": (["import", "toy/no-env-spec-v0", tmp_path / "x.h5"], "records no environment"),
        "unregistered env": (["import", "toy/unregistered-v0", tmp_path / "x.h5"], "was recorded on Toy/Hopper-v0, which is not registered here"),
        "other options": (["import", "toy/heavy-v0", tmp_path / "x.h5"],
                          "was recorded on Hopper-v5 with options {'forward_reward_weight': 2.0}, but this project builds Hopper-v5 with {}"),
        "not finite": (["import", "toy/nan-v0", tmp_path / "x.h5"], "minari:toy/nan-v0: episode 1 holds NaN or infinite values"),
        "exists": (["export", hopper_data, "cs294/hopper/expert-v0"], "already exists"),
        "no expert": (["export", tmp_path / "v5.h5", "cs294/hopper/v5-v0"], "no expert for Hopper-v5"),
    }[case]
    code, output = run_script_main(minari_data, argv, capsys)
    assert code == cli.USER_ERROR_EXIT_CODE and expected in output.err and len(output.err.strip().splitlines()) == 1, output.err
    assert not (tmp_path / "x.h5").exists()


def test_a_refused_dataset_leaves_no_minari_folder(tmp_path, monkeypatch, capsys):
    """Minari creates its datasets folder whenever it looks for one; a refusal here must not (e.g. ~/.minari for a typo)."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "nowhere"))
    code, output = run_script_main(minari_data, ["import", "cs294/hopper/typo-v0", tmp_path / "x.h5"], capsys)
    assert code == cli.USER_ERROR_EXIT_CODE and f"MINARI_DATASETS_PATH={tmp_path / 'nowhere'}" in output.err
    assert not (tmp_path / "nowhere").exists()


def dataset_files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("output", ["its main_data.hdf5", "a new file, through a symlink", "its main_data.hdf5, relative"])
def test_import_refuses_to_write_into_the_dataset_it_reads(tmp_path, cartpole_demos, minari_root, monkeypatch, capsys, output):
    """An output inside the dataset's own folder is refused before anything is written, however the path reaches it."""
    export(cartpole_demos, "cs294/cartpole/expert-v0", "--ref_episodes", 0)
    folder = minari_root / "cs294" / "cartpole" / "expert-v0"
    before = dataset_files(folder)
    if output == "a new file, through a symlink":
        (tmp_path / "link").symlink_to(folder / "data")
        path = tmp_path / "link" / "cartpole.h5"
    elif output == "its main_data.hdf5, relative":
        monkeypatch.chdir(folder)
        path = Path("data/main_data.hdf5")
    else:
        path = folder / "data" / "main_data.hdf5"
    code, result = run_script_main(minari_data, ["import", "cs294/cartpole/expert-v0", path], capsys)
    assert code == cli.USER_ERROR_EXIT_CODE and len(result.err.strip().splitlines()) == 1, result.err
    assert f"the output {path} lies in the folder of Minari dataset cs294/cartpole/expert-v0" in result.err
    assert dataset_files(folder) == before  # not a byte of the dataset changed, and nothing was added
    minari_io.import_dataset("cs294/cartpole/expert-v0", tmp_path / "elsewhere.h5")  # the dataset still reads


DAMAGES = ["truncated main_data.hdf5", "metadata.json is []", "main_data.hdf5 is a rollout file", "an episode missing"]


def damage_dataset(files: Path, damage: str, rollout_file: Path) -> tuple[Path, str]:
    """Damage the exported 3-episode dataset whose data folder is `files`; returns the file now broken and what the message says of it."""
    main_data, metadata = files / "main_data.hdf5", files / "metadata.json"
    if damage == "truncated main_data.hdf5":  # e.g. a download or copy cut short
        with main_data.open("r+b") as file:
            file.truncate(main_data.stat().st_size // 2)
    if damage == "metadata.json is []":  # valid JSON, the wrong shape
        metadata.write_text("[]")
    if damage == "main_data.hdf5 is a rollout file":  # what an import over the dataset's own file used to leave
        shutil.copyfile(rollout_file, main_data)
    if damage == "an episode missing":
        with h5py.File(main_data, "a") as file:
            del file["episode_2"]
    broken = metadata if damage == "metadata.json is []" else main_data
    expected = {"truncated main_data.hdf5": "cannot be read as HDF5 (Unable to synchronously open file (truncated file",
                "metadata.json is []": "holds an array, not the JSON object of Minari's metadata",
                "main_data.hdf5 is a rollout file": "lacks the group episode_0 of the 3 episodes that metadata.json counts",
                "an episode missing": "lacks the group episode_2 of the 3 episodes"}[damage]
    return broken, expected


def assert_damaged_message(err: str, minari_root: Path, broken: Path, expected: str) -> None:
    """One line that names the dataset, its broken file and the problem, and says to delete the dataset and get it again."""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert f"Minari dataset cs294/cartpole/expert-v0 in MINARI_DATASETS_PATH={minari_root} is damaged: {broken} {expected}" in err
    assert (f"delete its folder {minari_root / 'cs294' / 'cartpole' / 'expert-v0'}, then download it again "
            "(minari download cs294/cartpole/expert-v0) or export it again") in err


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_dataset_is_one_line(tmp_path, cartpole_demos, minari_root, capsys, damage):
    export(cartpole_demos, "cs294/cartpole/expert-v0", "--ref_episodes", 0)
    broken, expected = damage_dataset(minari_root / "cs294" / "cartpole" / "expert-v0" / "data", damage, cartpole_demos)
    code, output = run_script_main(minari_data, ["import", "cs294/cartpole/expert-v0", tmp_path / "x.h5"], capsys)
    assert code == cli.USER_ERROR_EXIT_CODE, output.err
    assert_damaged_message(output.err, minari_root, broken, expected)
    assert not (tmp_path / "x.h5").exists()


@pytest.mark.parametrize("damage", DAMAGES)
def test_bc_on_a_damaged_minari_dataset_is_one_line(tmp_path, cartpole_demos, minari_root, capsys, damage):
    """--data minari:ID reads the dataset through minari_io.load as the import does, so bc.py (and dagger.py, bco.py) refuse it alike."""
    export(cartpole_demos, "cs294/cartpole/expert-v0", "--ref_episodes", 0)
    broken, expected = damage_dataset(minari_root / "cs294" / "cartpole" / "expert-v0" / "data", damage, cartpole_demos)
    code, output = run_script_main(bc, ["CartPole-v1", "--data", "minari:cs294/cartpole/expert-v0", "--epochs", 1, "--eval_episodes", 1,
                                        "--run_dir", tmp_path / "bc"], capsys)
    assert code == cli.USER_ERROR_EXIT_CODE, output.err
    assert output.err.startswith("bc.py: error: ")
    assert_damaged_message(output.err, minari_root, broken, expected)
    assert not (tmp_path / "bc" / "metrics.json").exists()
    assert not (tmp_path / "data").exists()  # refused before anything was converted


@pytest.mark.parametrize("case", ["a file", "under a file", "a namespace that is a file", "not writable"])
def test_export_into_a_datasets_folder_that_cannot_take_it_is_one_line(tmp_path, cartpole_demos, monkeypatch, capsys, case):
    (tmp_path / "afile").write_text("not a folder")
    root = {"a file": tmp_path / "afile", "under a file": tmp_path / "afile" / "minari", "a namespace that is a file": tmp_path / "ns",
            "not writable": tmp_path / "readonly" / "minari"}[case]
    if case == "a namespace that is a file":
        root.mkdir()
        (root / "cs294").write_text("not a namespace folder")
    if case == "not writable":
        if os.geteuid() == 0:  # root writes into any folder whatever its mode; sysfs takes no new folders, even from root
            if not Path("/sys/kernel").is_dir():
                pytest.skip("running as root, and no /sys/kernel to stand for a folder that takes no new entries")
            root = Path("/sys/kernel/cs294-test-minari")
        else:
            (tmp_path / "readonly").mkdir(mode=0o555)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    before = sorted(tmp_path.rglob("*"))
    code, output = run_script_main(minari_data, ["export", cartpole_demos, "cs294/cartpole/expert-v0", "--ref_episodes", 0], capsys)
    assert code == cli.USER_ERROR_EXIT_CODE and len(output.err.strip().splitlines()) == 1, output.err
    expected = {"a file": f"MINARI_DATASETS_PATH={root} is a file, not a folder; point MINARI_DATASETS_PATH at a folder",
                "under a file": f"MINARI_DATASETS_PATH={root}: {tmp_path / 'afile'} is a file, so {root} cannot be made",
                "a namespace that is a file": (f"MINARI_DATASETS_PATH={root}: {root / 'cs294'} is a file, "
                                               f"so {root / 'cs294' / 'cartpole'} cannot be made"),
                "not writable": f"MINARI_DATASETS_PATH={root} is not writable: {root.parent} takes no new folders"}[case]
    assert expected in output.err
    assert sorted(tmp_path.rglob("*")) == before and (tmp_path / "afile").read_text() == "not a folder"  # nothing made or changed
    assert case != "not writable" or not root.exists()


def test_minari_is_never_imported_on_the_normal_path(tmp_path):
    code = ("import sys\n"
            "import bc, dagger, bco\n"
            "from cs294 import minari_io, runs\n"
            "print('minari' in sys.modules)\n")
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                               env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "hw1"), "PYTHONWARNINGS": "ignore"})
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "False"
