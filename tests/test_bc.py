"""Behavioral cloning on real expert rollouts: the model, training, the script and its outputs."""

import json

import h5py
import keras
import numpy as np
import pytest

import bc
from cs294 import cli, data, environments, models, reporting, rollouts, runs, training


def run_bc(argv, capsys):
    code = cli.run(bc.main, bc.build_parser(), [str(a) for a in argv])
    return code, capsys.readouterr()


@pytest.mark.parametrize("head", ["linear", "lstm"])
def test_saved_policy_loads_with_plain_keras_and_acts_identically(tmp_path, hopper_data, head):
    observations, actions = data.transitions(data.read_rollouts(hopper_data).trajectories)
    model = models.build_policy(observations, 3, models.PolicyConfig(head=head))
    training.compile_policy(model, training.TrainingConfig(epochs=1), discrete=False)
    training.fit_policy(model, (observations, actions), (observations[:0], actions[:0]), training.TrainingConfig(epochs=1), seed=0)
    reporting.save_policy(model, tmp_path / "policy.keras")
    loaded = keras.saving.load_model(tmp_path / "policy.keras")
    probe = observations[:64] + np.random.default_rng(0).normal(size=(64, 11)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(model(probe)), np.asarray(loaded(probe)))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["policy.keras"]  # no temporary left


def test_training_lowers_the_validation_loss(hopper_data):
    keras.utils.set_random_seed(0)
    observations, actions = data.transitions(data.read_rollouts(hopper_data).trajectories)
    config = training.TrainingConfig(epochs=5)
    train, validation = training.split_train_validation(observations, actions, 0.2, np.random.default_rng(0))
    model = models.build_policy(train[0], 3, models.PolicyConfig())
    training.compile_policy(model, config, discrete=False)
    before = model.evaluate(*validation, verbose=0)
    result = training.fit_policy(model, train, validation, config, seed=0)
    assert result.validation_loss[-1] < 0.5 * before
    assert len(result.train_loss) == 5 and result.samples_per_second > 0


def test_constant_features_do_not_blow_up():
    rng = np.random.default_rng(0)
    observations = rng.normal(size=(500, 3)).astype(np.float32)
    observations[:, 1] = 4.2  # constant in the training data
    model = models.build_policy(observations, 2, models.PolicyConfig())
    shifted = observations[:10].copy()
    shifted[:, 1] = 4.7  # moves later, as Humanoid's masses do between simulators
    np.testing.assert_allclose(np.asarray(model(shifted)), np.asarray(model(observations[:10])), atol=1e-5)


def test_bc_run_writes_policy_metrics_and_tensorboard(tmp_path, hopper_data, capsys):
    run_dir = tmp_path / "run"
    code, output = run_bc(["Hopper-v1", "--data", hopper_data, "--epochs", "3", "--eval_episodes", "2",
                           "--hidden", "32,32", "--run_dir", run_dir], capsys)
    assert code == 0, output.err
    assert "BC return" in output.out and "of the expert's" in output.out
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert len(metrics["train_loss"]) == len(metrics["validation_loss"]) == 3
    assert metrics["evaluation"]["episodes"] == 2 and len(metrics["evaluation"]["returns"]) == 2
    assert metrics["config"]["policy.hidden"] == [32, 32]
    with h5py.File(hopper_data) as file:
        data_seeds = set(file["episode_seeds"][()].tolist())
    assert not data_seeds & set(metrics["evaluation"]["seeds"])  # never scored on training episodes
    assert metrics["data"]["sha256"] and metrics["expert_in_data"]["episodes"] == 4
    assert metrics["expert"]["episodes"] == 2  # the expert, scored on the evaluation seeds
    assert list(run_dir.glob("events.out.tfevents.*"))  # in the run directory: TensorBoard names the run by it
    policy = keras.saving.load_model(run_dir / "policy.keras")
    assert policy(np.zeros((1, 11), np.float32)).shape == (1, 3)


def test_missing_data_file_says_which_command_makes_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an empty checkout: no data/ yet
    code, output = run_bc(["Hopper-v1"], capsys)
    assert code == 2
    assert "python hw1/run_expert.py experts/Hopper-v1.pkl Hopper-v1 --num_rollouts 10" in output.err


def test_non_hdf5_data_file_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "rollouts.h5"
    path.write_text("observation,action\n1,2\n")
    code, output = run_bc(["Hopper-v1", "--data", path, "--run_dir", tmp_path / "run"], capsys)
    assert code == 2 and "not a readable HDF5 file" in output.err and len(output.err.strip().splitlines()) == 1


def test_data_of_another_env_is_a_clear_error(tmp_path, hopper_data, capsys):
    code, output = run_bc(["Walker2d-v1", "--data", hopper_data, "--run_dir", tmp_path / "run"], capsys)
    assert code == 2 and "holds rollouts of Hopper-v1, not Walker2d-v1" in output.err


def test_bad_hidden_sizes_are_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        bc.build_parser().parse_args(["Hopper-v1", "--hidden", "64,abc"])
    assert exit_info.value.code == 2 and "comma-separated layer sizes" in capsys.readouterr().err


@pytest.mark.slow
def test_cloned_hopper_beats_a_random_policy(tmp_path, hopper_data, capsys):
    run_dir = tmp_path / "run"
    code, output = run_bc(["Hopper-v1", "--data", hopper_data, "--epochs", "30", "--eval_episodes", "5", "--run_dir", run_dir], capsys)
    assert code == 0, output.err
    cloned = json.loads((run_dir / "metrics.json").read_text())["evaluation"]
    env = environments.make_env(environments.resolve("Hopper-v1"))
    env.action_space.seed(0)
    random_returns = []
    for seed in rollouts.episode_seeds(np.random.default_rng(1), 5):
        env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total, done = total + reward, terminated or truncated
        random_returns.append(total)
    # Random Hopper falls within a few dozen steps; the clone of 1000 expert steps hops on.
    assert cloned["min"] > max(random_returns)
    assert cloned["mean"] > 5 * np.mean(random_returns)


def test_hopper_study_runs_all_seven_configurations_and_reuses_them(tmp_path, hopper_data, capsys):
    import hopper_study
    argv = ["--seeds", "0", "--epochs", "1", "--eval_episodes", "1", "--data", str(hopper_data),
            "--results_dir", str(tmp_path / "runs"), "--output", str(tmp_path / "study.md")]
    assert cli.run(hopper_study.main, hopper_study.build_parser(), argv) == 0
    report = (tmp_path / "study.md").read_text()
    assert report.count("| Two layer") == 7 and "## Seed 000's findings, checked" in report
    capsys.readouterr()
    assert cli.run(hopper_study.main, hopper_study.build_parser(), argv) == 0  # second time: nothing retrained
    assert capsys.readouterr().out.count("reusing the finished run") == 7


def test_a_finished_run_is_reused_only_on_the_same_data(tmp_path, hopper_data, capsys):
    """A data file regenerated at the same path is new data: the run trains again (issue 29, bc_curve.py)."""
    import shutil

    from conftest import write_expert_rollouts
    data_path = tmp_path / "Hopper-v1.h5"
    shutil.copyfile(hopper_data, data_path)
    argv = ["Hopper-v1", "--data", str(data_path), "--epochs", "1", "--eval_episodes", "1", "--run_dir", str(tmp_path / "run")]
    first = runs.run_or_reuse(bc.build_parser().parse_args(argv))
    runs.run_or_reuse(bc.build_parser().parse_args(argv))
    assert "reusing the finished run" in capsys.readouterr().out
    write_expert_rollouts(tmp_path / "other", "Hopper-v1", 2, 120).replace(data_path)  # other episodes, same path
    again = runs.run_or_reuse(bc.build_parser().parse_args(argv))
    assert "reusing the finished run" not in capsys.readouterr().out
    assert again["data"]["sha256"] != first["data"]["sha256"] and again["data"]["episodes"] == 2


def test_bc_curve_writes_table_and_plot(tmp_path, hopper_data):
    import bc_curve
    argv = ["Hopper-v1", "--data", str(hopper_data), "--num_demos", "1,4", "--epochs", "1", "--eval_episodes", "1",
            "--output_dir", str(tmp_path)]
    assert cli.run(bc_curve.main, bc_curve.build_parser(), argv) == 0
    points = json.loads((tmp_path / "bc_curve.json").read_text())
    assert [p["transitions"] for p in points] == [250, 1000]
    assert (tmp_path / "bc_curve.png").read_bytes()[:4] == b"\x89PNG"


def test_tables_summarize_real_runs(tmp_path, hopper_data, capsys):
    import tables
    run_dir = tmp_path / "results" / "Hopper-v1" / "bc" / "seed0"
    assert run_bc(["Hopper-v1", "--data", hopper_data, "--epochs", "1", "--eval_episodes", "2", "--run_dir", run_dir], capsys)[0] == 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert cli.run(tables.main, tables.build_parser(), ["--results", str(tmp_path / "results"), "--output", str(tmp_path / "t.md")]) == 0
    row = next(line for line in (tmp_path / "t.md").read_text().splitlines() if line.startswith("| Hopper-v1"))
    evaluation = metrics["evaluation"]
    # One run: no std over seeds made up; the spread over its own episodes instead, as the homework's table has it.
    assert f"{evaluation['mean']:.1f} ± {evaluation['std']:.1f} over its 2 episodes (n = 1)" in row and "3581 (598)" in row
    # The rollout column gives the run's own rollouts first, seed 002's count in brackets.
    assert row.startswith(f"| Hopper-v1 | {metrics['data']['episodes']} (10) |"), row


def test_clipped_observations_bound_the_inputs_and_still_load(tmp_path):
    rng = np.random.default_rng(0)
    observations = rng.normal(size=(500, 3)).astype(np.float32)
    model = models.build_policy(observations, 2, models.PolicyConfig(observation_clip=10.0))
    far, farther = observations[:1].copy(), observations[:1].copy()
    far[0, 0], farther[0, 0] = 1e3, 1e6  # both beyond 10 stds: the network sees the same clipped input
    np.testing.assert_array_equal(np.asarray(model(far)), np.asarray(model(farther)))
    reporting.save_policy(model, tmp_path / "policy.keras")
    loaded = keras.saving.load_model(tmp_path / "policy.keras")
    np.testing.assert_array_equal(np.asarray(model(observations)), np.asarray(loaded(observations)))
