"""Behavioral cloning from observation on real CartPole rollouts."""

import json
import shutil

import h5py
import keras
import numpy as np
import pytest

import bco
from conftest import tensorboard_tags, write_expert_rollouts
from cs294 import cli, environments, experts, inverse_dynamics, models, rollouts, training
from cs294.bco import demonstration_distance, select_iteration, split


def test_inverse_model_beats_chance_on_held_out_cartpole_transitions():
    keras.utils.set_random_seed(0)
    spec = environments.resolve("CartPole-v1")
    env = environments.make_env(spec)
    explorer = inverse_dynamics.exploration_policy(env.action_space, seed=0)
    own = rollouts.sample_trajectories(explorer, spec, list(range(1000)), max_total_steps=3000)
    states, next_states, actions = inverse_dynamics.transitions(own)
    assert sum(t.length for t in own) == 3000 and 0.4 < actions.mean() < 0.6  # random pushes, both ways
    train, held_out = split((states, next_states, actions), 0.2, np.random.default_rng(0))
    model = inverse_dynamics.build_inverse_model(train[0], train[1], 2, models.PolicyConfig())
    config = training.TrainingConfig(epochs=5)
    training.compile_policy(model, config, discrete=True)
    training.fit_policy(model, ((train[0], train[1]), train[2]), ((held_out[0], held_out[1]), held_out[2]), config, seed=0)
    accuracy = np.mean(model.predict([held_out[0], held_out[1]], verbose=0).argmax(axis=-1) == held_out[2])
    assert accuracy > 0.9  # chance is 0.5


def test_the_exploration_policies_draw_from_their_own_seeded_generators_inside_the_bounds():
    """BCO's random and exploring policies are numpy drivers of the rollout loop: seeded, bounded, and as noisy as asked."""
    hopper = environments.make_env(environments.resolve("Hopper-v1"))
    box, observations = hopper.action_space, np.zeros((20_000, 11), np.float32)
    uniform = inverse_dynamics.exploration_policy(box, seed=3).batch_policy(16, box)(observations)
    assert uniform.dtype == box.dtype and (uniform >= box.low).all() and (uniform <= box.high).all()
    assert np.allclose(uniform.mean(axis=0), 0, atol=0.02) and np.allclose(uniform.std(axis=0), 1 / np.sqrt(3), atol=0.02)
    np.testing.assert_array_equal(uniform, inverse_dynamics.exploration_policy(box, seed=3).batch_policy(16, box)(observations))
    assert not np.array_equal(uniform, inverse_dynamics.exploration_policy(box, seed=4).batch_policy(16, box)(observations))

    keras.utils.set_random_seed(0)
    learner = models.build_policy(np.random.default_rng(0).normal(size=(100, 11)).astype(np.float32), 3, models.PolicyConfig())
    assert inverse_dynamics.exploring_policy(learner, box, 0.0, seed=1) is learner
    clean = np.asarray(learner(observations[:1]))[0]
    noisy = inverse_dynamics.exploring_policy(learner, box, 0.1, seed=1).batch_policy(16, box)(observations)
    assert (noisy >= box.low).all() and (noisy <= box.high).all()
    np.testing.assert_allclose(noisy.mean(axis=0), clean, atol=0.01)  # unbiased: the learner's action stays inside the bounds
    np.testing.assert_allclose(noisy.std(axis=0), 0.1, rtol=0.05)  # 0.1 x half of Hopper's range [-1, 1]

    cartpole = environments.make_env(environments.resolve("CartPole-v1"))
    discrete = cartpole.action_space
    keras.utils.set_random_seed(0)
    chooser = models.build_policy(np.random.default_rng(0).normal(size=(100, 4)).astype(np.float32), 2, models.PolicyConfig())
    greedy = int(np.asarray(chooser(np.zeros((1, 4), np.float32))).argmax())
    actions = inverse_dynamics.exploring_policy(chooser, discrete, 0.3, seed=1).batch_policy(16, discrete)(np.zeros((20_000, 4), np.float32))
    assert set(np.unique(actions)) == {0, 1} and np.mean(actions != greedy) == pytest.approx(0.15, abs=0.01)  # a random half of 30%


def run_bco(argv, capsys):
    code = cli.run(bco.main, bco.build_parser(), [str(a) for a in argv])
    return code, capsys.readouterr()


def tiny_run(demos, run_dir):
    return ["CartPole-v1", "--demos", demos, "--pre_steps", 400, "--alpha", 0.5, "--iterations", 1, "--epochs", 3,
            "--inverse_epochs", 3, "--retrain_epochs", 2, "--eval_episodes", 2, "--hidden", "16,16", "--ensemble", 3, "--inverse_ensemble", 2,
            "--run_dir", run_dir]


@pytest.fixture(scope="module")
def tiny_cartpole_run(tmp_path_factory, cartpole_demos):
    """The run directory of one tiny_run on the CartPole demonstrations, made once for the tests that only read it (on one worker: conftest.py)."""
    run_dir = tmp_path_factory.mktemp("bco") / "run"
    assert cli.run(bco.main, bco.build_parser(), [str(a) for a in tiny_run(cartpole_demos, run_dir)]) == 0
    return run_dir



def test_short_real_run_writes_both_models_and_metrics(tiny_cartpole_run):
    run_dir = tiny_cartpole_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [(row["pre_interactions"], row["post_interactions"]) for row in metrics["iterations"]] == [(400, 0), (400, 200)]  # alpha x |I_pre|
    assert all(0 <= row["inverse_accuracy"] <= 1 for row in metrics["iterations"])
    policy = keras.saving.load_model(run_dir / "policy.keras")
    assert policy(np.zeros((5, 4), np.float32)).shape == (5, 2)  # logits
    inverse = keras.saving.load_model(run_dir / "inverse_dynamics.keras")
    assert inverse([np.zeros((5, 4), np.float32), np.ones((5, 4), np.float32)]).shape == (5, 2)
    assert all(row["collected_distance"] > 0 and row["evaluation_distance"] >= 0 and row["selection_distance"] >= 0 for row in metrics["iterations"])
    assert {"eval/return_mean", "eval/normalized_score", "inverse/inverse_accuracy", "distance/collected", "distance/selection",
            "distance/evaluation"} <= tensorboard_tags(run_dir)


def test_scrambling_the_demonstration_actions_changes_nothing(tmp_path, cartpole_demos, tiny_cartpole_run, capsys):
    scrambled = tmp_path / "scrambled.h5"
    shutil.copyfile(cartpole_demos, scrambled)
    with h5py.File(scrambled, "a") as file:
        for name in file:
            if name.startswith("episode_0"):
                actions = file[name]["actions"]
                actions[...] = np.random.default_rng(0).integers(0, 2, size=actions.shape)
    assert run_bco(tiny_run(scrambled, tmp_path / "scrambled"), capsys)[0] == 0
    results = []
    for run_dir in (tiny_cartpole_run, tmp_path / "scrambled"):  # the same tiny_run on the original demonstrations, and on these
        metrics = json.loads((run_dir / "metrics.json").read_text())
        policy = keras.saving.load_model(run_dir / "policy.keras")
        probe = np.random.default_rng(1).normal(size=(64, 4)).astype(np.float32)
        results.append(([{k: v for k, v in row.items() if k not in ("seconds", "phase_seconds")} for row in metrics["iterations"]], np.asarray(policy(probe))))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_ensembles_of_both_models_run_and_save_their_mean(tmp_path, cartpole_demos, capsys):
    run_dir = tmp_path / "run"
    code, output = run_bco(tiny_run(cartpole_demos, run_dir) + ["--ensemble", 2, "--inverse_ensemble", 3], capsys)
    assert code == 0, output.err
    policy = keras.saving.load_model(run_dir / "policy.keras")
    assert sum(layer.name.startswith("policy_member_") for layer in policy.layers) == 2
    assert policy(np.zeros((5, 4), np.float32)).shape == (5, 2)  # the members' mean logits
    inverse = keras.saving.load_model(run_dir / "inverse_dynamics.keras")
    assert sum(layer.name.startswith("inverse_dynamics_member_") for layer in inverse.layers) == 3
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["config"]["ensemble"] == 2 and metrics["config"]["inverse_ensemble"] == 3


def test_bad_ensemble_size_is_one_line(tmp_path, cartpole_demos, capsys):
    code, output = run_bco(tiny_run(cartpole_demos, tmp_path / "run") + ["--ensemble", 0], capsys)
    assert code != 0 and "--ensemble" in output.err and "Traceback" not in output.err
    assert not (tmp_path / "run").exists()


def test_demonstration_distance_is_zero_on_the_demonstrations_and_grows_off_them(cartpole_demos):
    from cs294 import data
    sequences, _ = data.read_observations(cartpole_demos, env_name="CartPole-v1")
    demo_states = np.concatenate(sequences)
    assert demonstration_distance(demo_states[::7], demo_states) < 1e-3
    shifted = demo_states[::7] + 0.5 * demo_states.std(axis=0)  # half a std off in every dimension
    assert 0.5 < demonstration_distance(shifted, demo_states) <= 1.0 + 1e-3  # sqrt(4 x 0.25) at most


def test_selection_picks_the_smallest_distance_and_the_first_on_a_tie():
    assert select_iteration([2.0, 0.7, 1.1, 0.9]) == 1
    assert select_iteration([0.5, 0.5, 0.6]) == 0


class _CountingRewardScrambler:
    """Wraps every environment the rollout loop makes: counts the steps, and replaces each reward with a random number."""

    def __init__(self, make_env):
        self.make_env, self.steps, self.rng = make_env, 0, np.random.default_rng(123)

    def __call__(self, *args, **kwargs):
        import gymnasium as gym

        counter = self

        class Scrambled(gym.Wrapper):
            def step(self, action):
                observation, _, terminated, truncated, info = self.env.step(action)
                counter.steps += 1
                return observation, float(counter.rng.normal() * 1e3), terminated, truncated, info

        return Scrambled(self.make_env(*args, **kwargs))


def test_the_kept_policy_is_chosen_without_the_reward_and_every_step_is_accounted_for(tmp_path, cartpole_demos, capsys, monkeypatch):
    arguments = ["--iterations", 3, "--selection_episodes", 2]
    assert run_bco(tiny_run(cartpole_demos, tmp_path / "plain") + arguments, capsys)[0] == 0
    scrambler = _CountingRewardScrambler(rollouts.make_env)
    monkeypatch.setattr(rollouts, "make_env", scrambler)
    code, output = run_bco(tiny_run(cartpole_demos, tmp_path / "scrambled") + arguments, capsys)
    assert code == 0, output.err
    plain, scrambled = (json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("plain", "scrambled"))
    # The rewards were noise, so every return differs, yet the selection saw the same states and kept the same policy.
    assert [row["return_mean"] for row in plain["iterations"]] != [row["return_mean"] for row in scrambled["iterations"]]
    assert [row["selection_distance"] for row in plain["iterations"]] == [row["selection_distance"] for row in scrambled["iterations"]]
    kept = scrambled["summary"]["kept"]["iteration"]
    assert kept == plain["summary"]["kept"]["iteration"] == select_iteration([row["selection_distance"] for row in scrambled["iterations"]])
    # Pre + post + selection are the interactions; evaluation is counted apart; together they are every step taken.
    counts = scrambled["interactions"]
    assert counts["pre"] == 400 and counts["post"] == 3 * 200 and counts["selection"] > 0
    assert counts["total"] == counts["pre"] + counts["post"] + counts["selection"] == scrambled["iterations"][-1]["interactions"]
    assert scrambler.steps == counts["total"] + counts["evaluation"]
    assert counts["post_to_pre"] == 3 * 0.5
    for name in ("policy.keras", "last_policy.keras", "inverse_dynamics.keras"):
        assert (tmp_path / "scrambled" / name).exists()


def test_the_mountaincar_expert_reaches_the_flag():
    spec = environments.resolve("MountainCar-v0")
    expert = experts.load_checked_expert(experts.default_expert_path("MountainCar-v0"), spec)
    stats, _ = rollouts.evaluate(expert, spec, list(range(5000, 5010)))
    assert stats.min > -200 and stats.mean >= -120  # -200 is the time limit: the car never reached the flag


def test_smoke_runs_on_mountaincar_and_reacher_write_both_models_and_normalized_scores(tmp_path, capsys):
    for env_name, episodes, steps, action_check in (("MountainCar-v0", 2, 200, (5, 3)), ("Reacher-v1", 4, 50, (5, 2))):
        demos = write_expert_rollouts(tmp_path, env_name, episodes, steps)
        run_dir = tmp_path / env_name
        code, output = run_bco([env_name, "--demos", demos, "--pre_steps", 300, "--iterations", 1, "--epochs", 2, "--inverse_epochs", 2,
                                "--inverse_retrain_epochs", 1, "--retrain_epochs", 1, "--eval_episodes", 2, "--selection_episodes", 1,
                                "--ensemble", 2, "--inverse_ensemble", 2, "--hidden", "16,16", "--run_dir", run_dir], capsys)
        assert code == 0, output.err
        metrics = json.loads((run_dir / "metrics.json").read_text())
        summary = metrics["summary"]
        assert summary["expert"] == metrics["expert"]["mean"] > summary["random"] == metrics["random"]["mean"]
        # Normalized against the expert and a random policy scored on the very evaluation episodes of the run.
        assert metrics["expert"]["episodes"] == metrics["random"]["episodes"] == len(metrics["evaluation_seeds"]) == 2
        policy = keras.saving.load_model(run_dir / "policy.keras")
        observation_dim = environments.space_shapes(environments.resolve(env_name))[0][0]
        assert policy(np.zeros((5, observation_dim), np.float32)).shape == action_check
        assert (run_dir / "inverse_dynamics.keras").exists()


def test_policy_keras_is_the_kept_iteration_and_last_policy_keras_the_last(tmp_path, cartpole_demos, capsys, monkeypatch):
    from cs294 import bco as bco_library

    probe = np.random.default_rng(2).normal(size=(64, 4)).astype(np.float32)
    code, output = run_bco(tiny_run(cartpole_demos, tmp_path / "bco0") + ["--iterations", 0, "--selection_episodes", 0], capsys)
    assert code == 0 and "kept iteration 0 (the last, as --selection_episodes 0 asks)" in output.out, output
    monkeypatch.setattr(bco_library, "select_iteration", lambda distances: 0)  # keep BCO(0) whatever the distances
    assert run_bco(tiny_run(cartpole_demos, tmp_path / "kept0") + ["--iterations", 2], capsys)[0] == 0
    metrics = json.loads((tmp_path / "kept0" / "metrics.json").read_text())
    assert metrics["summary"]["kept"]["iteration"] == 0 and metrics["summary"]["last"]["iteration"] == 2
    outputs = {name: np.asarray(keras.saving.load_model(path)(probe)) for name, path in (
        ("bco0", tmp_path / "bco0" / "policy.keras"), ("kept", tmp_path / "kept0" / "policy.keras"), ("last", tmp_path / "kept0" / "last_policy.keras"))}
    np.testing.assert_array_equal(outputs["kept"], outputs["bco0"])  # the same seed's BCO(0), restored after two more iterations
    assert not np.array_equal(outputs["kept"], outputs["last"])


def test_a_missing_or_nan_selection_distance_is_never_kept():
    assert select_iteration([None, 0.9, float("nan"), 0.4]) == 3
    assert select_iteration([float("nan"), 2.0]) == 1


def test_a_constant_demonstration_dimension_is_measured_in_raw_units():
    demos = np.zeros((50, 3))
    demos[:, 0] = np.linspace(0, 1, 50)  # dimension 0 varies; 1 and 2 are constant, as Ant's unused contact forces are
    touching = demos[:5].copy()
    touching[:, 1] = 1.0  # a contact the demonstrations never had: one raw unit off, not a million stds
    assert 0.99 < demonstration_distance(touching, demos) < 1.01


def test_too_many_demo_episodes_is_refused_in_one_line(tmp_path, cartpole_demos, capsys):
    code, output = run_bco(tiny_run(cartpole_demos, tmp_path / "run") + ["--demo_episodes", 4], capsys)
    assert code != 0 and "--demo_episodes 4" in output.err and "holds 3 episodes" in output.err and "Traceback" not in output.err


def test_a_policy_that_falls_at_once_is_close_one_way_but_far_the_other():
    from cs294.bco import two_sided_distance

    demos = np.stack([np.linspace(0, 10, 500), np.sin(np.linspace(0, 10, 500))], axis=1)  # one long demonstration
    fell_at_once = demos[:5] + 0.01  # a few states near the start, as a policy that falls stays there
    played_through = demos[::3] + 0.05  # states all along the demonstration, a little off
    near, far = two_sided_distance(fell_at_once, demos)
    assert near < two_sided_distance(played_through, demos)[0]  # one way, falling looks better
    assert sum(two_sided_distance(played_through, demos)) < near + far  # both ways, playing through wins


def test_iterations_between_the_first_and_last_are_scored_on_the_curve_episodes_and_the_kept_one_on_all(tmp_path, cartpole_demos, capsys,
                                                                                                          monkeypatch):
    from cs294 import bco as bco_library

    monkeypatch.setattr(bco_library, "select_iteration", lambda distances: min(1, len(distances) - 1))  # keep iteration 1, a curve point
    run_dir, steps, make_env = tmp_path / "run", [], rollouts.make_env

    def counted_env(*args, **kwargs):
        import gymnasium as gym

        class Counted(gym.Wrapper):
            def step(self, action):
                steps.append(1)
                return self.env.step(action)

        return Counted(make_env(*args, **kwargs))

    monkeypatch.setattr(rollouts, "make_env", counted_env)
    code, output = run_bco(tiny_run(cartpole_demos, run_dir) + ["--iterations", 3, "--eval_episodes", 7, "--curve_episodes", 3], capsys)
    monkeypatch.setattr(rollouts, "make_env", make_env)
    assert code == 0, output.err
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [row["episodes_scored"] for row in metrics["iterations"]] == [7, 3, 3, 7]
    counts = metrics["interactions"]  # the kept policy's second scoring is counted with the evaluation steps
    assert len(steps) == counts["total"] + counts["evaluation"]
    spec, seeds = environments.resolve("CartPole-v1"), metrics["evaluation_seeds"]
    expert_stats, expert_episodes = rollouts.evaluate(experts.load_checked_expert(experts.default_expert_path("CartPole-v1"), spec), spec, seeds)
    curve_expert = np.mean([t.episode_return for t in expert_episodes[:3]])
    assert [row["expert_return_mean"] for row in metrics["iterations"]] == pytest.approx([expert_stats.mean, curve_expert, curve_expert, expert_stats.mean])
    # The kept iteration's curve point saw 3 episodes; the summary scores the kept policy, policy.keras, on all 7.
    kept_stats, _ = rollouts.evaluate(keras.saving.load_model(run_dir / "policy.keras"), spec, seeds)
    kept = metrics["summary"]["kept"]
    assert kept["iteration"] == 1 and kept["return"] == pytest.approx(kept_stats.mean)
    assert kept["normalized_score"] == pytest.approx((kept_stats.mean - metrics["random"]["mean"]) / (expert_stats.mean - metrics["random"]["mean"]))
    last_stats, _ = rollouts.evaluate(keras.saving.load_model(run_dir / "last_policy.keras"), spec, seeds)
    assert metrics["summary"]["last"]["return"] == pytest.approx(last_stats.mean) == metrics["iterations"][-1]["return_mean"]
    assert "on 3 episodes" in output.out and "on 7 episodes" in output.out
