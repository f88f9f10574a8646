"""label_noise.py on real Hopper expert episodes: noisy and inferred labels, ensembles of real Keras policies."""

import json

import numpy as np

import label_noise
from cs294 import cli, data, inverse_dynamics, models, reporting


def run(argv, capsys):
    code = cli.run(label_noise.main, label_noise.build_parser(), [str(a) for a in argv])
    return code, capsys.readouterr()


def test_noisy_and_inferred_labels_are_cloned_by_each_ensemble_size(tmp_path, hopper_data, capsys):
    trajectories = data.read_rollouts(hopper_data).trajectories
    states, next_states, _ = inverse_dynamics.transitions(trajectories)
    inverse = inverse_dynamics.build_inverse_model(states, next_states, 3, models.PolicyConfig(hidden=(8,)))  # untrained: any labels will do
    reporting.save_policy(inverse, tmp_path / "inverse_dynamics.keras")
    output = tmp_path / "table.md"
    code, printed = run(["Hopper-v1", "--data", hopper_data, "--noise", "0.5", "--inverse", tmp_path / "inverse_dynamics.keras",
                         "--ensemble", "1,2", "--seeds", "0,1", "--epochs", 2, "--hidden", "16,16", "--eval_episodes", 2, "--output", output], capsys)
    assert code == 0, printed.err
    results = json.loads(output.with_suffix(".json").read_text())
    assert [row["labels"].split(" ")[0] for row in results["rows"]] == ["true", "clipped", "inferred"]
    assert results["rows"][0]["label_mse"] == [0, 0]
    assert all(0.2 < mse < 0.3 for mse in results["rows"][1]["label_mse"])  # noise of std 0.5 on 1000 x 3 labels, per seed
    inferred = np.concatenate(inverse_dynamics.infer_actions(inverse, [t.observations for t in trajectories], _box()))
    clipped = np.clip(data.transitions(trajectories)[1], -1, 1)
    assert all(abs(mse - np.mean((inferred - clipped) ** 2)) < 1e-6 for mse in results["rows"][2]["label_mse"])
    for row in results["rows"]:  # one evaluation per seed and ensemble size
        assert set(row["returns"]) == {"1", "2"} and all(len(runs) == 2 and all(r["episodes"] == 2 for r in runs) for runs in row["returns"].values())
    assert [e["seed"] for e in results["experts"]] == [0, 1]
    assert results["experts"][0]["evaluation_seeds"] != results["experts"][1]["evaluation_seeds"]
    assert "| labels | label MSE | 1 member | 2 members |" in output.read_text()


def _box():
    import gymnasium as gym
    return gym.spaces.Box(-1.0, 1.0, (3,), np.float32)


def test_bad_input_is_one_line(tmp_path, hopper_data, cartpole_demos, capsys):
    for argv, words in ((["Hopper-v1", "--data", hopper_data, "--inverse", tmp_path / "none.keras"], "does not exist"),
                        (["CartPole-v1", "--data", cartpole_demos], "discrete"),
                        (["Hopper-v1", "--data", hopper_data, "--ensemble", "0"], "--ensemble")):
        code, printed = run(argv, capsys)
        assert code != 0 and words in printed.err and "Traceback" not in printed.err
