"""Shared test helpers: paths into the checkout and a way to run the scripts as a user does."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EXPERTS_DIR = REPO_ROOT / "experts"
EXPERT_ENVS = ("Ant-v1", "HalfCheetah-v1", "Hopper-v1", "Humanoid-v1", "Reacher-v1", "Walker2d-v1")


def run_script(script: str, *args: str, cwd: Path = REPO_ROOT, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run hw1/<script> in a fresh interpreter, as `python hw1/<script> ...` from the checkout."""
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "hw1" / script), *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


@pytest.fixture
def expert_path():
    """Path of a published expert by env name."""
    return lambda env_name: EXPERTS_DIR / f"{env_name}.pkl"


@pytest.fixture(scope="session")
def hopper_data(tmp_path_factory):
    """Four real Hopper expert episodes of 250 steps, written by run_expert.py."""
    import run_expert

    path = tmp_path_factory.mktemp("data") / "hopper.h5"
    run_expert.main(run_expert.build_parser().parse_args(
        [str(EXPERTS_DIR / "Hopper-v1.pkl"), "Hopper-v1", "--num_rollouts", "4", "--max_timesteps", "250", "--output", str(path)]))
    return path
