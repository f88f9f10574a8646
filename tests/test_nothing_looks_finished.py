"""Issue 25: nothing wrong may look finished. Diverged runs, bad experts, stray runs and dead addresses end in one line."""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from conftest import EXPERTS_DIR, run_script


def one_line_error(result, *fragments: str) -> str:
    """The one stderr line of a refused run (exit 2), checked to name each fragment."""
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def huge_expert_dir(tmp_path_factory) -> Path:
    """Hopper's expert with finite but huge output weights (1e38): its actions overflow to infinity in float32."""
    with open(EXPERTS_DIR / "Hopper-v1.pkl", "rb") as handle:
        raw = pickle.load(handle)  # the committed, trusted file
    out = raw["GaussianPolicy"]["out"]["AffineLayer"]
    out["W"] = np.full_like(out["W"], 1e38)
    directory = tmp_path_factory.mktemp("experts")
    with open(directory / "Hopper-v1.pkl", "wb") as handle:
        pickle.dump(raw, handle)
    return directory


# One batch of all the data, no validation, one epoch: the recorded loss is the one before the update, so it is
# finite, while the single Adam step of size 1e30 leaves finite weights whose outputs overflow.
DIVERGING = ("--epochs", "1", "--batch_size", "100000", "--validation_fraction", "0", "--learning_rate", "1e30")


def test_bc_whose_policy_gives_infinite_actions_writes_no_result(hopper_data, tmp_path):
    run_dir = tmp_path / "bc"
    result = run_script("bc.py", "Hopper-v1", "--data", str(hopper_data), *DIVERGING, "--eval_episodes", "2", "--run_dir", str(run_dir))
    one_line_error(result, "NaN or infinite", "epoch 1", "--learning_rate")
    assert not (run_dir / "metrics.json").exists() and not (run_dir / "policy.keras").exists()


def test_dagger_whose_policy_diverges_commits_nothing(hopper_data, tmp_path):
    run_dir = tmp_path / "dagger"
    result = run_script("dagger.py", "Hopper-v1", "--data", str(hopper_data), *DIVERGING, "--iterations", "1", "--eval_episodes", "2",
                        "--rollouts_per_iter", "1", "--run_dir", str(run_dir))
    one_line_error(result, "NaN or infinite", "iteration 0", "--learning_rate")
    assert not (run_dir / "state.json").exists() and not (run_dir / "metrics.json").exists()


def test_dagger_with_an_expert_whose_actions_overflow_is_refused(hopper_data, huge_expert_dir, tmp_path):
    run_dir = tmp_path / "dagger"
    result = run_script("dagger.py", "Hopper-v1", "--data", str(hopper_data), "--expert", str(huge_expert_dir / "Hopper-v1.pkl"),
                        "--epochs", "1", "--iterations", "1", "--eval_episodes", "2", "--rollouts_per_iter", "1", "--run_dir", str(run_dir))
    one_line_error(result, "the expert", "NaN or infinite", "iteration 0", "experts/")
    metrics = run_dir / "metrics.json"
    assert not metrics.exists() or json.loads(metrics.read_text()).get("complete") is not True


def test_the_expert_check_refuses_an_expert_whose_return_is_not_finite(huge_expert_dir):
    result = run_script("check_experts.py", "--tasks", "Hopper-v1", "--episodes", "2", "--experts_dir", str(huge_expert_dir))
    one_line_error(result, "Hopper-v1.pkl", "NaN or infinite", "git checkout -- experts/")
