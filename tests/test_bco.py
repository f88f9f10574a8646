"""Behavioral cloning from observation on real CartPole rollouts."""

import json
import shutil

import h5py
import keras
import numpy as np

import bco
from conftest import tensorboard_tags
from cs294 import cli, environments, inverse_dynamics, models, rollouts, training


def test_inverse_model_beats_chance_on_held_out_cartpole_transitions():
    keras.utils.set_random_seed(0)
    spec = environments.resolve("CartPole-v1")
    env = environments.make_env(spec)
    explorer = inverse_dynamics.exploration_policy(4, env.action_space, seed=0)
    own = rollouts.sample_trajectories(explorer, spec, list(range(1000)), max_total_steps=3000)
    states, next_states, actions = inverse_dynamics.transitions(own)
    assert sum(t.length for t in own) == 3000 and 0.4 < actions.mean() < 0.6  # random pushes, both ways
    train, held_out = bco.split((states, next_states, actions), 0.2, np.random.default_rng(0))
    model = inverse_dynamics.build_inverse_model(train[0], train[1], 2, models.PolicyConfig())
    training.compile_policy(model, training.TrainingConfig(epochs=5), discrete=True)
    model.fit([train[0], train[1]], train[2], epochs=5, verbose=0)
    accuracy = np.mean(model.predict([held_out[0], held_out[1]], verbose=0).argmax(axis=-1) == held_out[2])
    assert accuracy > 0.9  # chance is 0.5


def run_bco(argv, capsys):
    code = cli.run(bco.main, bco.build_parser(), [str(a) for a in argv])
    return code, capsys.readouterr()


def tiny_run(demos, run_dir):
    return ["CartPole-v1", "--demos", demos, "--pre_steps", 400, "--alpha", 0.5, "--iterations", 1, "--epochs", 3,
            "--inverse_epochs", 3, "--retrain_epochs", 2, "--eval_episodes", 2, "--hidden", "16,16", "--run_dir", run_dir]


def test_short_real_run_writes_both_models_and_metrics(tmp_path, cartpole_demos, capsys):
    run_dir = tmp_path / "run"
    code, output = run_bco(tiny_run(cartpole_demos, run_dir), capsys)
    assert code == 0, output.err
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [row["interactions"] for row in metrics["iterations"]] == [400, 400 + 300]  # alpha x 600 demonstration steps
    assert all(0 <= row["inverse_accuracy"] <= 1 for row in metrics["iterations"])
    policy = keras.saving.load_model(run_dir / "policy.keras")
    assert policy(np.zeros((5, 4), np.float32)).shape == (5, 2)  # logits
    inverse = keras.saving.load_model(run_dir / "inverse_dynamics.keras")
    assert inverse([np.zeros((5, 4), np.float32), np.ones((5, 4), np.float32)]).shape == (5, 2)
    assert all(row["collected_distance"] > 0 and row["evaluation_distance"] >= 0 for row in metrics["iterations"])
    assert {"eval/return_mean", "inverse/inverse_accuracy", "distance/collected", "distance/evaluation"} <= tensorboard_tags(run_dir)


def test_scrambling_the_demonstration_actions_changes_nothing(tmp_path, cartpole_demos, capsys):
    scrambled = tmp_path / "scrambled.h5"
    shutil.copyfile(cartpole_demos, scrambled)
    with h5py.File(scrambled, "a") as file:
        for name in file:
            if name.startswith("episode_0"):
                actions = file[name]["actions"]
                actions[...] = np.random.default_rng(0).integers(0, 2, size=actions.shape)
    results = []
    for demos, name in ((cartpole_demos, "original"), (scrambled, "scrambled")):
        assert run_bco(tiny_run(demos, tmp_path / name), capsys)[0] == 0
        metrics = json.loads((tmp_path / name / "metrics.json").read_text())
        policy = keras.saving.load_model(tmp_path / name / "policy.keras")
        probe = np.random.default_rng(1).normal(size=(64, 4)).astype(np.float32)
        results.append(([{k: v for k, v in row.items() if k != "seconds"} for row in metrics["iterations"]], np.asarray(policy(probe))))
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
    assert bco.demonstration_distance(demo_states[::7], demo_states) < 1e-3
    shifted = demo_states[::7] + 0.5 * demo_states.std(axis=0)  # half a std off in every dimension
    assert 0.5 < bco.demonstration_distance(shifted, demo_states) <= 1.0 + 1e-3  # sqrt(4 x 0.25) at most
