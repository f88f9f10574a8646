"""DAgger on real Hopper episodes: relabeling, mixing, aggregation on disk, and resuming."""

import json

import keras
import numpy as np
import pytest

import bc
import dagger
from conftest import EXPERTS_DIR
from cs294 import aggregation, cli, data, environments, experts, rollouts


@pytest.fixture(scope="module")
def hopper_expert():
    return experts.build_expert_model(experts.load_expert_weights(EXPERTS_DIR / "Hopper-v1.pkl"))


def zero_policy(observation_dim=11, action_dim=3):
    inputs = keras.Input((observation_dim,))
    return keras.Model(inputs, keras.layers.Dense(action_dim, kernel_initializer="zeros")(inputs))


def test_relabeling_keeps_observations_and_takes_the_experts_actions(hopper_expert):
    visited = rollouts.sample_trajectories(zero_policy(), environments.resolve("Hopper-v1"), [5, 6])
    relabeled = aggregation.relabel(visited, hopper_expert)
    for before, after in zip(visited, relabeled):
        np.testing.assert_array_equal(before.observations, after.observations)
        np.testing.assert_array_equal(before.rewards, after.rewards)
        assert not np.allclose(before.actions, after.actions)  # the zero policy's actions are gone
        np.testing.assert_allclose(after.actions, np.asarray(hopper_expert(before.observations[:-1])), atol=1e-5)


def test_beta_one_lets_the_expert_drive_and_beta_zero_the_learner(hopper_expert):
    learner = zero_policy()
    observations = np.random.default_rng(0).normal(size=(8, 11)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(aggregation.mixture_policy(learner, hopper_expert, 1.0, seed=0)(observations)),
                               np.asarray(hopper_expert(observations)), atol=1e-6)
    assert aggregation.mixture_policy(learner, hopper_expert, 0.0, seed=0) is learner
    half = np.asarray(aggregation.mixture_policy(learner, hopper_expert, 0.5, seed=0)(np.repeat(observations[:1], 400, axis=0)))
    from_expert = np.mean(np.abs(half).sum(axis=1) > 0)
    assert 0.35 < from_expert < 0.65


def run_dagger(argv, capsys):
    code = cli.run(dagger.main, dagger.build_parser(), [str(a) for a in argv])
    return code, capsys.readouterr()


def tiny_run(hopper_data, run_dir, iterations):
    return ["Hopper-v1", "--data", hopper_data, "--iterations", iterations, "--rollouts_per_iter", 2, "--epochs", 3,
            "--retrain_epochs", 2, "--eval_episodes", 2, "--hidden", "32,32", "--run_dir", run_dir]


def test_short_real_run_aggregates_exactly_the_visited_steps(tmp_path, hopper_data, capsys):
    run_dir = tmp_path / "run"
    code, output = run_dagger(tiny_run(hopper_data, run_dir, 2), capsys)
    assert code == 0, output.err
    metrics = json.loads((run_dir / "metrics.json").read_text())
    aggregated = data.read_rollouts(run_dir / "aggregated.h5")
    iterations = [a.get("dagger_iteration", 0) for a in aggregated.episode_attributes]
    assert iterations == [0, 0, 0, 0, 1, 1, 2, 2]
    for row in metrics["iterations"]:  # each iteration grew the file by exactly the episodes it visited
        assert row["transitions"] == sum(t.length for t, i in zip(aggregated.trajectories, iterations) if i <= row["iteration"])
    assert [row["iteration"] for row in metrics["iterations"]] == [0, 1, 2]
    # The expert labelled the initial rollouts and then every state the learner visited, each exactly once.
    visited = [sum(t.length for t, i in zip(aggregated.trajectories, iterations) if i == k) for k in (0, 1, 2)]
    assert [row["expert_labels"] for row in metrics["iterations"]] == [visited[0], visited[0] + visited[1], sum(visited)]
    assert metrics["iterations"][-1]["expert_labels"] == sum(t.length for t in aggregated.trajectories)
    for name in ("policy.keras", "returns.png", "validation_loss.png", "state.json"):
        assert (run_dir / name).exists(), name
    assert not (run_dir / "policy_last.keras").exists()  # policy.keras is the last iteration: no best chosen on the test episodes
    assert keras.saving.load_model(run_dir / "policy.keras")(np.zeros((1, 11), np.float32)).shape == (1, 3)


def test_dagger_and_bc_of_one_seed_play_the_same_evaluation_episodes_and_count_falls(tmp_path, hopper_data, capsys):
    dagger_dir, bc_dir = tmp_path / "dagger", tmp_path / "bc"
    argv = tiny_run(hopper_data, dagger_dir, 1)
    argv[argv.index("--eval_episodes") + 1] = 4
    code, output = run_dagger(argv + ["--curve_episodes", 2, "--num_demos", 1], capsys)
    assert code == 0, output.err
    assert cli.run(bc.main, bc.build_parser(), ["Hopper-v1", "--data", str(hopper_data), "--num_demos", "1", "--epochs", "2",
                                                "--eval_episodes", "4", "--run_dir", str(bc_dir)]) == 0
    dagger_metrics, bc_metrics = (json.loads((d / "metrics.json").read_text()) for d in (dagger_dir, bc_dir))
    assert dagger_metrics["evaluation"]["seeds"] == bc_metrics["evaluation"]["seeds"] == dagger_metrics["evaluation_seeds"]
    assert dagger_metrics["expert"]["mean"] == bc_metrics["expert"]["mean"]  # one expert column for both
    # --num_demos: DAgger started from the file's first episode only, as bc.py did.
    first = data.read_rollouts(hopper_data).trajectories[0]
    assert data.read_rollouts(dagger_dir / "aggregated.h5").trajectories[0].seed == first.seed
    assert dagger_metrics["iterations"][0]["expert_labels"] == bc_metrics["data"]["transitions"] == first.length
    # Iteration 0 is scored on the first --curve_episodes episodes, the last iteration on all of them.
    assert [row["episodes_scored"] for row in dagger_metrics["iterations"]] == [2, 4]
    for metrics in (dagger_metrics, bc_metrics):
        evaluation = metrics["evaluation"]
        assert evaluation["episodes"] == len(evaluation["returns"]) == 4
        assert 0 <= evaluation["falls"] <= 4
    # Two epochs of cloning from one rollout fall: the count says so (a hopper that stands 1000 steps is not cloned that fast).
    assert bc_metrics["evaluation"]["falls"] == 4 and bc_metrics["evaluation"]["mean_length"] < 1000


def test_resume_after_a_crash_continues_with_the_same_data(tmp_path, hopper_data, capsys):
    straight, crashed = tmp_path / "straight", tmp_path / "crashed"
    assert run_dagger(tiny_run(hopper_data, straight, 2), capsys)[0] == 0
    assert run_dagger(tiny_run(hopper_data, crashed, 1), capsys)[0] == 0
    # A crash after iteration 2 appended its episodes but before it finished: the file is ahead of state.json.
    partial = data.read_rollouts(straight / "aggregated.h5")
    data.append_rollouts(crashed / "aggregated.h5", partial.trajectories[-2:], [{"dagger_iteration": 2}] * 2)
    code, output = run_dagger(tiny_run(hopper_data, crashed, 2) + ["--resume"], capsys)
    assert code == 0, output.err
    assert "resuming" in output.out and "dropped 2 episodes" in output.out
    resumed, reference = data.read_rollouts(crashed / "aggregated.h5"), data.read_rollouts(straight / "aggregated.h5")
    assert [t.seed for t in resumed.trajectories] == [t.seed for t in reference.trajectories]
    assert [a.get("dagger_iteration", 0) for a in resumed.episode_attributes] == [0, 0, 0, 0, 1, 1, 2, 2]
    for before, after in zip(reference.trajectories[:6], resumed.trajectories[:6]):  # completed iterations untouched
        np.testing.assert_array_equal(before.observations, after.observations)
    assert [row["iteration"] for row in json.loads((crashed / "metrics.json").read_text())["iterations"]] == [0, 1, 2]

    # What a resume must refuse, each in one line and with the run left as it was.
    before = {name: (crashed / name).read_bytes() for name in ("metrics.json", "state.json", "aggregated.h5")}
    refusals = [(tiny_run(hopper_data, crashed, 1) + ["--resume"], "--iterations 1 is fewer than the 2 iterations"),  # records then disagreed
                (tiny_run(hopper_data, crashed, 3) + ["--resume", "--overwrite"], "give one of them")]
    for argv, message in refusals:
        code, output = run_dagger(argv, capsys)
        assert code == 2 and message in output.err and len(output.err.strip().splitlines()) == 1, output.err
    assert {name: (crashed / name).read_bytes() for name in before} == before
    (crashed / "aggregated.h5").write_bytes(before["aggregated.h5"][:1000])
    code, output = run_dagger(tiny_run(hopper_data, crashed, 3) + ["--resume"], capsys)
    assert code == 2 and "is not a readable HDF5 file: it is this run's aggregated data" in output.err, output.err
    assert "start the run again with --overwrite" in output.err and "run_expert" not in output.err  # not the reader's advice for data files


def test_resume_without_a_run_is_a_clear_error(tmp_path, capsys):
    code, output = run_dagger(["Hopper-v1", "--resume", "--run_dir", tmp_path / "nothing"], capsys)
    assert code == 2 and "nothing to resume" in output.err


def test_a_cloned_run_without_its_aggregated_data_is_sent_to_overwrite_and_that_works(tmp_path, hopper_data, capsys):
    run_dir = tmp_path / "cloned"
    assert run_dagger(tiny_run(hopper_data, run_dir, 1), capsys)[0] == 0
    (run_dir / "aggregated.h5").unlink()  # what a clone of the repository holds: the record and the policy, not the data
    code, output = run_dagger(tiny_run(hopper_data, run_dir, 1) + ["--resume"], capsys)
    assert code == 2 and "cannot be resumed; run it again with --overwrite" in output.err and len(output.err.strip().splitlines()) == 1
    code, output = run_dagger(tiny_run(hopper_data, run_dir, 1) + ["--overwrite"], capsys)
    assert code == 0, output.err
    assert json.loads((run_dir / "metrics.json").read_text())["complete"] and (run_dir / "aggregated.h5").exists()


def test_a_saved_keras_policy_can_be_the_expert_that_labels(tmp_path, hopper_data, capsys):
    # Any .keras policy of the task labels the visited states: here a network with fixed, distinctive weights.
    inputs = keras.Input((11,))
    teacher = keras.Model(inputs, keras.layers.Dense(3, activation="tanh", kernel_initializer=keras.initializers.RandomNormal(seed=3),
                                                     bias_initializer=keras.initializers.Constant(0.3))(inputs))
    teacher.save(tmp_path / "teacher.keras")
    run_dir = tmp_path / "run"
    code, output = run_dagger(tiny_run(hopper_data, run_dir, 1) + ["--expert", tmp_path / "teacher.keras"], capsys)
    assert code == 0, output.err
    aggregated = data.read_rollouts(run_dir / "aggregated.h5")
    relabelled = [t for t, a in zip(aggregated.trajectories, aggregated.episode_attributes) if a.get("dagger_iteration") == 1]
    assert relabelled
    for trajectory in relabelled:
        np.testing.assert_allclose(trajectory.actions, np.asarray(teacher(trajectory.observations[:-1])), rtol=1e-5, atol=1e-6)
    assert json.loads((run_dir / "metrics.json").read_text())["config"]["expert"].endswith("teacher.keras")


def test_an_expert_policy_of_another_task_is_refused_in_one_line(tmp_path, hopper_data, capsys):
    inputs = keras.Input((17,))
    keras.Model(inputs, keras.layers.Dense(6)(inputs)).save(tmp_path / "walker.keras")
    code, output = run_dagger(tiny_run(hopper_data, tmp_path / "run", 1) + ["--expert", tmp_path / "walker.keras"], capsys)
    assert code == 2 and "maps (None, 17) to (None, 6)" in output.err and len(output.err.strip().splitlines()) == 1, output.err
