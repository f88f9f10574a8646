"""More of issue 14's bad input: impossible splits, foreign models and data, unwritable outputs, resuming another run.

Each case must end in one line on stderr and exit code 2, before any training or rollout, and
leave nothing half-written behind.
"""

import os
import shutil
from pathlib import Path

import bc
import benchmark
import benchmark_backends
import bco
import dagger
import h5py
import label_noise
import numpy as np
import pytest
import run_expert
import show_data
import tables
from conftest import EXPERTS_DIR, write_expert_rollouts
from cs294 import cli, environments, inverse_dynamics, models, reporting


def refusal(module, argv, capsys) -> str:
    """Run a script's main as its command line does; assert it refused in one line, and return that line."""
    code = cli.run(module.main, module.build_parser(), [str(a) for a in argv])
    stderr = capsys.readouterr().err.strip()
    assert code == 2, stderr
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr
    return stderr


@pytest.fixture(scope="module")
def tiny_hopper(tmp_path_factory) -> Path:
    """One real Hopper episode of 5 steps: too few transitions for most validation splits."""
    return write_expert_rollouts(tmp_path_factory.mktemp("tiny"), "Hopper-v1", 1, 5)


@pytest.fixture(scope="module")
def tiny_cartpole(tmp_path_factory) -> Path:
    return write_expert_rollouts(tmp_path_factory.mktemp("tiny"), "CartPole-v1", 2, 10)


def test_a_validation_split_that_leaves_nothing_to_train_on_is_refused_before_training(tiny_hopper, tiny_cartpole, tmp_path, capsys):
    run_dir = tmp_path / "run"
    message = refusal(bc, ["Hopper-v1", "--data", tiny_hopper, "--validation_fraction", 0.999, "--epochs", 1, "--run_dir", run_dir], capsys)
    assert "--validation_fraction 0.999 holds out all 5 transitions" in message and "0.8 or less" in message
    message = refusal(dagger, ["Hopper-v1", "--data", tiny_hopper, "--validation_fraction", 0.95, "--iterations", 0, "--run_dir", run_dir], capsys)
    assert "--validation_fraction 0.95" in message
    message = refusal(bco, ["CartPole-v1", "--demos", tiny_cartpole, "--validation_fraction", 0.99, "--run_dir", run_dir], capsys)
    assert "all 20 transitions" in message
    message = refusal(label_noise, ["Hopper-v1", "--data", tiny_hopper, "--validation_fraction", 0.95], capsys)
    assert "leaving none to train on" in message
    assert "--pre_steps must be at least 2" in refusal(bco, ["CartPole-v1", "--demos", tiny_cartpole, "--pre_steps", 1, "--run_dir", run_dir], capsys)
    assert not run_dir.exists()


def test_a_file_that_is_not_an_inverse_model_is_refused_before_any_rollout(tiny_hopper, tmp_path, capsys):
    broken = tmp_path / "inverse_dynamics.keras"
    broken.write_bytes(b"PK\x03\x04 not a Keras model")
    message = refusal(label_noise, ["Hopper-v1", "--data", tiny_hopper, "--inverse", broken], capsys)
    assert "is not a Keras model this project can load" in message and "inverse_dynamics.keras written by bco.py" in message

    policy = tmp_path / "policy.keras"  # a real Keras model, but a policy: one input, not (s, s')
    reporting.save_policy(models.build_policy(np.zeros((4, 11), np.float32), 3, models.PolicyConfig(hidden=(4,))), policy)
    assert "maps two inputs of 11 observations to 3 actions" in refusal(label_noise, ["Hopper-v1", "--data", tiny_hopper, "--inverse", policy], capsys)

    inverse = tmp_path / "cartpole_inverse.keras"  # an inverse model of another task
    states = np.zeros((4, 4), np.float32)
    reporting.save_policy(inverse_dynamics.build_inverse_model(states, states, 2, models.PolicyConfig(hidden=(4,))), inverse)
    assert "maps two inputs of 11 observations" in refusal(label_noise, ["Hopper-v1", "--data", tiny_hopper, "--inverse", inverse], capsys)


def relabel_as(source: Path, destination: Path, env_name: str) -> Path:
    """A copy of a rollout file that claims to hold another task's episodes."""
    shutil.copyfile(source, destination)
    with h5py.File(destination, "a") as file:
        file.attrs["env_name"] = env_name
        file.attrs["dynamics"] = environments.resolve(env_name).dynamics
    return destination


def test_data_whose_shapes_are_not_the_environments_is_refused_before_training(tiny_hopper, tmp_path, capsys):
    forged = relabel_as(tiny_hopper, tmp_path / "walker.h5", "Walker2d-v1")
    expected = "holds observations of shape (11,) and actions of shape (3,), but Walker2d-v1 has (17,) and (6,)"
    assert expected in refusal(bc, ["Walker2d-v1", "--data", forged, "--epochs", 1, "--run_dir", tmp_path / "bc"], capsys)
    assert expected in refusal(dagger, ["Walker2d-v1", "--data", forged, "--iterations", 0, "--run_dir", tmp_path / "dagger"], capsys)
    assert not (tmp_path / "bc").exists() and not (tmp_path / "dagger").exists()


def test_episodes_of_different_shapes_in_one_file_are_refused(tmp_path, capsys):
    path = write_expert_rollouts(tmp_path, "Hopper-v1", 2, 5)
    with h5py.File(path, "a") as file:
        episode = file["episode_000001"]
        observations = episode["observations"][()]
        wider = np.concatenate([observations, np.zeros((len(observations), 1), np.float32)], axis=1)
        del episode["observations"]
        episode.create_dataset("observations", data=wider)
    capsys.readouterr()  # run_expert's progress
    assert "episode_000001 has observations (12,)" in refusal(show_data, [path], capsys)


def test_bco_checks_its_demonstrations_as_the_other_scripts_do(tiny_cartpole, tmp_path, capsys):
    path = tmp_path / "demos.h5"
    shutil.copyfile(tiny_cartpole, path)
    with h5py.File(path, "a") as file:
        episode = file["episode_000000"]
        short = episode["observations"][:-1]  # one observation fewer than the steps need
        del episode["observations"]
        episode.create_dataset("observations", data=short)
    quick = ["--pre_steps", 10, "--iterations", 0, "--epochs", 1, "--inverse_epochs", 1, "--ensemble", 1, "--inverse_ensemble", 1,
             "--eval_episodes", 1, "--run_dir", tmp_path / "run"]
    message = refusal(bco, ["CartPole-v1", "--demos", path, *quick], capsys)
    assert "is damaged" in message and "episode_000000" in message
    forged = relabel_as(tiny_cartpole, tmp_path / "hopper.h5", "Hopper-v1")
    assert "but Hopper-v1 has (11,) and (3,)" in refusal(bco, ["Hopper-v1", "--demos", forged, *quick], capsys)
    assert not (tmp_path / "run").exists()


def test_outputs_that_cannot_be_written_are_refused_before_any_rollout(tiny_hopper, tmp_path, capsys):
    expert = EXPERTS_DIR / "Hopper-v1.pkl"
    message = refusal(run_expert, [expert, "Hopper-v1", "--num_rollouts", 1, "--output", "/proc/rollouts.h5"], capsys)
    assert "--output /proc/rollouts.h5 cannot be written" in message
    assert "cannot be written" in refusal(bc, ["Hopper-v1", "--data", tiny_hopper, "--run_dir", "/proc/run"], capsys)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert "is a file, not a directory" in refusal(dagger, ["Hopper-v1", "--data", tiny_hopper, "--run_dir", blocker], capsys)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert "symlink loop" in refusal(run_expert, [expert, "Hopper-v1", "--num_rollouts", 1, "--output", tmp_path / "loop" / "x.h5"], capsys)
    assert blocker.read_text() == "x"


def test_a_path_with_bytes_that_are_not_utf8_is_refused_in_one_line(tiny_hopper, tmp_path, capsys):
    strange = Path(os.fsdecode(bytes(tmp_path) + b"/rollouts\xff.h5"))  # the str an interpreter makes of such an argument
    shutil.copyfile(tiny_hopper, strange)
    message = refusal(bc, ["Hopper-v1", "--data", strange, "--epochs", 1, "--run_dir", tmp_path / "run"], capsys)
    assert "holds bytes that are not UTF-8" in message and "\\xff" in message
    assert not (tmp_path / "run").exists()


def finished_dagger_run(data_path: Path, run_dir: Path, capsys) -> list[str]:
    """A real DAgger run of iteration 0 only (behavioral cloning), finished; its flags."""
    argv = ["Hopper-v1", "--data", data_path, "--iterations", 0, "--epochs", 1, "--eval_episodes", 1, "--hidden", "8",
            "--validation_fraction", 0.2, "--run_dir", run_dir]
    assert cli.run(dagger.main, dagger.build_parser(), [str(a) for a in argv]) == 0, capsys.readouterr().err
    capsys.readouterr()
    return [str(a) for a in argv]


def test_resuming_dagger_with_other_data_is_refused_and_without_data_uses_the_runs(tiny_hopper, tmp_path, capsys):
    run_dir = tmp_path / "run"
    argv = finished_dagger_run(tiny_hopper, run_dir, capsys)
    other = tmp_path / "other.h5"
    shutil.copyfile(tiny_hopper, other)
    resume = [*argv, "--resume"]
    message = refusal(dagger, [str(other) if a == str(tiny_hopper) else a for a in resume], capsys)
    assert f"--data {other}, but the run started from {tiny_hopper}" in message

    without_data = [a for i, a in enumerate(resume) if a != "--data" and (i == 0 or resume[i - 1] != "--data")]
    assert cli.run(dagger.main, dagger.build_parser(), without_data) == 0, capsys.readouterr().err
    assert cli.run(dagger.main, dagger.build_parser(), resume) == 0, capsys.readouterr().err
    # Neither the refused resume nor the two with nothing left to do added a TensorBoard events file to the finished run.
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1

    (run_dir / "checkpoints" / "iteration_000.keras").write_bytes(b"truncated")
    assert "is not a Keras model this project can load" in refusal(dagger, resume, capsys)


def test_a_model_file_keras_cannot_load_is_named_for_what_it_holds(tmp_path):
    """Issue 25: the refusal says what was found (a Lambda layer, an HDF5 file without a model), not '(TypeError)' or 'KeyError: 72'."""
    import keras

    from cs294 import models
    from cs294.errors import UserError

    inputs = keras.Input((11,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x[:, :3] * 2)(inputs)).save(tmp_path / "lambda.keras")
    with h5py.File(tmp_path / "data.h5", "w") as file:
        file["observations"] = np.zeros((2, 11))
    (tmp_path / "text.keras").write_text("not a model")
    for name, words in (("lambda.keras", "a Lambda layer"), ("data.h5", "an HDF5 file with no Keras model"), ("text.keras", "not a .keras archive")):
        with pytest.raises(UserError, match=words) as refusal:
            models.load_policy(tmp_path / name, 11, 3)
        assert "\n" not in str(refusal.value) and "Error" not in str(refusal.value)


@pytest.mark.parametrize(("script", "argv", "message"), [
    (bc, ["Hopper-v1", "--data", "{data}", "--learning_rate", -1], "--learning_rate must be positive, got -1"),
    (bc, ["Hopper-v1", "--data", "{data}", "--l2", -0.5], "--l2 must not be negative, got -0.5"),
    (dagger, ["Hopper-v1", "--data", "{data}", "--iterations", -1], "--iterations must be at least 0, got -1"),
    (bco, ["CartPole-v1", "--selection_episodes", -1], "--selection_episodes must be at least 0, got -1"),
    (bco, ["CartPole-v1", "--inverse_ensemble", 0], "--inverse_ensemble must be at least 1, got 0"),
    (bco, ["Pendulum-v1", "--run_dir", "{tmp}/run"], "experts/ holds no expert of Pendulum-v1; run it on a task with one (Ant-v1, "),
    (bc, ["Pendulum-v1", "--run_dir", "{tmp}/run"], "experts/ holds no expert of Pendulum-v1 to make it with; record demonstrations with your own"),
    (show_data, ["{tmp}"], "is a directory; name the .h5 rollout file itself"),
    (show_data, ["/dev/null"], "data file /dev/null is a device, not a file"),
    (show_data, ["{tmp}/loop"], "cannot be opened (Too many levels of symbolic links)"),
    (show_data, ["{tmp}/dangling"], "is a symbolic link to {tmp}/gone.h5, which does not exist"),
    (tables, ["--results", "{data}"], "is a file; name the folder"),
    (benchmark_backends, ["--profiles", "tiny,nope"], "'nope' is not a profile of reproduce.py; choose from full, paper, demo, tiny"),
    (benchmark_backends, ["--profiles", "tiny,tiny"], "names a profile twice"),
])
def test_each_refusal_names_its_flag_or_file_and_what_is_wanted(script, argv, message, tiny_hopper, tmp_path, capsys):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone.h5")
    argv = [str(a).format(data=tiny_hopper, tmp=tmp_path) for a in argv]
    assert message.format(tmp=tmp_path) in refusal(script, argv, capsys)
    assert not (tmp_path / "run").exists()


def test_dagger_says_when_every_iteration_is_scored_on_all_evaluation_episodes(tiny_hopper, tmp_path, capsys):
    argv = ["Hopper-v1", "--data", tiny_hopper, "--iterations", 0, "--epochs", 1, "--eval_episodes", 1, "--curve_episodes", 5,
            "--hidden", "8", "--validation_fraction", 0.2, "--run_dir", tmp_path / "run"]
    assert cli.run(dagger.main, dagger.build_parser(), [str(a) for a in argv]) == 0
    assert "--curve_episodes 5 is more than --eval_episodes 1, so every iteration is scored on all 1 evaluation episodes" in capsys.readouterr().out


def test_a_bco_run_refused_after_claiming_its_directory_leaves_it_empty(tiny_cartpole, tmp_path, capsys):
    run_dir = tmp_path / "run"
    argv = ["CartPole-v1", "--demos", tiny_cartpole, "--pre_steps", 10, "--alpha", 0.01, "--eval_episodes", 1, "--run_dir", run_dir]
    assert "rounds to no post-demonstration steps" in refusal(bco, argv, capsys)
    assert run_dir.is_dir() and not any(run_dir.iterdir())  # no events file: a rerun is not taken for an unfinished run


LOOP_TASKS = "Ant-v1, HalfCheetah-v1, Hopper-v1, Humanoid-v1, Reacher-v1, Walker2d-v1 (each also as <name>-today)"


@pytest.mark.parametrize(("argv", "message"), [
    (["--sections", "policy", "--output", "{tmp}/benchmark.json"],
     "--output {tmp}/benchmark.json names the tables' JSON copy (benchmark.json, written beside --output) itself; name a .md file, such as benchmark.md"),
    (["--sections", "policy", "--output", "{tmp}/BENCHMARK.JSON"], "names the tables' JSON copy (BENCHMARK.json, written beside --output) itself"),
    (["--sections", "loops", "--envs", "Hopper-v1", "--num_envs", -5], "--num_envs must be at least 1, got -5"),
    (["--sections", "loops", "--envs", "Hopper-v1", "--num_envs", 0], "--num_envs must be at least 1, got 0"),
    (["--sections", "loops", "--envs", "CartPole-v1"], f"--envs names CartPole-v1, but the loops section runs only the MuJoCo tasks with a published expert: {LOOP_TASKS}"),
    (["--sections", "loops", "--envs", "Hopper-v1,MountainCar-v0"], "--envs names MountainCar-v0, but the loops section runs only"),
    (["--sections", "policy", "--steps", 0], "--steps must be at least 1, got 0"),
    (["--sections", "policy", "--trials", -2], "--trials must be at least 1, got -2"),
    (["--sections", "policy", "--epochs", 0], "--epochs must be at least 1, got 0"),
    (["--sections", "policy", "--seed", 2**32], f"--seed must be at most {2**32 - 1} (2**32 - 1, the largest seed Keras takes), got {2**32}"),
], ids=["output_json", "output_JSON", "num_envs_negative", "num_envs_zero", "loops_cartpole", "loops_mountaincar", "steps_zero", "trials_negative",
        "epochs_zero", "seed_too_large"])
def test_benchmark_refuses_bad_flags_before_measuring_or_writing_anything(argv, message, tmp_path, capsys):
    """--output x.json would lose the tables to their JSON copy; no environments, a discrete task, a seed numpy refuses: one line each."""
    small = ["--steps", 20, "--trials", 1, "--epochs", 1, "--output", tmp_path / "benchmark.md"]  # quick, should a refusal be missed
    argv = [str(a).format(tmp=tmp_path) for a in [*small, *argv]]  # the case's flags come last, and win
    assert message.format(tmp=tmp_path) in refusal(benchmark, argv, capsys)
    assert not any(tmp_path.iterdir())
