"""Nothing wrong may look finished: real kill -9 at named points, two writers, damaged caches.

A run is paused at a named point (cs294.crashpoints, CS294_PAUSE_AT) and then killed with
SIGKILL, so each test kills at exactly the moment it names.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT, run_script
from cs294 import data, locks

pytestmark = pytest.mark.slow


def start_paused(script: str, args: list, point: str, marker: Path) -> subprocess.Popen:
    """Start hw1/<script> so that it stops at `point`; returns once it is there."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "CS294_PAUSE_AT": point, "CS294_PAUSED_FILE": str(marker)}
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / "hw1" / script), *map(str, args)], cwd=REPO_ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while not marker.exists():
        if process.poll() is not None:
            raise AssertionError(f"{script} ended (exit {process.returncode}) before reaching {point}: {process.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{script} did not reach {point}")
        time.sleep(0.1)
    return process


def is_dead(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # a zombie has stopped; only its exit status waits to be collected


def dagger_args(hopper_data: Path, run_dir: Path, seed: int = 0) -> list:
    return ["Hopper-v1", "--data", hopper_data, "--iterations", 2, "--rollouts_per_iter", 2, "--epochs", 3, "--retrain_epochs", 2,
            "--eval_episodes", 2, "--hidden", "32,32", "--seed", seed, "--run_dir", run_dir]


def comparable(run_dir: Path) -> list[tuple]:
    """What must equal an uninterrupted run's: each iteration's data size and returns."""
    rows = json.loads((run_dir / "metrics.json").read_text())["iterations"]
    return [(row["iteration"], row["episodes"], row["transitions"], row["return_mean"], row["train_loss"]) for row in rows]


@pytest.fixture(scope="module")
def straight_dagger(tmp_path_factory, hopper_data):
    run_dir = tmp_path_factory.mktemp("straight") / "run"
    result = run_script("dagger.py", *map(str, dagger_args(hopper_data, run_dir)), timeout=300)
    assert result.returncode == 0, result.stderr
    return run_dir


@pytest.mark.parametrize("point", ["dagger:before_commit:1", "dagger:after_commit:1"])
def test_dagger_killed_around_its_commit_resumes_to_the_uninterrupted_result(tmp_path, hopper_data, straight_dagger, point):
    run_dir = tmp_path / "run"
    process = start_paused("dagger.py", dagger_args(hopper_data, run_dir), point, tmp_path / "paused")
    process.kill()  # SIGKILL: no handler runs
    process.wait()
    state = json.loads((run_dir / "state.json").read_text())
    assert state["completed_iterations"] == (0 if "before" in point else 1)
    assert not list(run_dir.glob("*.png"))  # the plots are drawn for a complete run only: none of an unfinished one looks final

    wrong = run_script("dagger.py", *map(str, dagger_args(hopper_data, run_dir, seed=5)), "--resume")
    assert wrong.returncode == 2 and "other settings" in wrong.stderr and "seed was 0, now 5" in wrong.stderr
    fresh = run_script("dagger.py", *map(str, dagger_args(hopper_data, run_dir)))
    assert fresh.returncode == 2 and "already holds a run" in fresh.stderr and len(fresh.stderr.strip().splitlines()) == 1

    resumed = run_script("dagger.py", *map(str, dagger_args(hopper_data, run_dir)), "--resume", timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert comparable(run_dir) == comparable(straight_dagger)
    assert [a.get("dagger_iteration", 0) for a in data.read_rollouts(run_dir / "aggregated.h5").episode_attributes] == [0] * 4 + [1] * 2 + [2] * 2
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["complete"]
    assert {path.name for path in run_dir.glob("*.png")} == {"returns.png", "validation_loss.png"}
    # Only the last iteration's checkpoint is kept.
    assert {path.name for path in (run_dir / "checkpoints").iterdir()} == {"iteration_002.keras"}


def test_a_second_writer_is_refused_and_a_dead_holder_does_not_block(tmp_path, hopper_data):
    run_dir = tmp_path / "run"
    first = start_paused("dagger.py", dagger_args(hopper_data, run_dir), "dagger:before_commit:0", tmp_path / "paused")
    second = run_script("dagger.py", *map(str, dagger_args(hopper_data, run_dir)))
    assert second.returncode == 2 and f"in use by pid {first.pid}" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    link = tmp_path / "link"
    link.symlink_to(run_dir)  # the same directory by another name has the same lock
    through_link = run_script("dagger.py", *map(str, dagger_args(hopper_data, link)), "--resume")
    assert through_link.returncode == 2 and f"in use by pid {first.pid}" in through_link.stderr
    assert locks.is_locked(run_dir)
    first.kill()
    first.wait()
    assert not locks.is_locked(run_dir)  # the lock died with its holder; its file stays, naming the dead pid
    again = run_script("dagger.py", *map(str, dagger_args(hopper_data, run_dir)), "--overwrite", "--iterations", "0", timeout=300)
    assert again.returncode == 0, again.stderr


def tiny_reproduction(tmp_path: Path) -> list[str]:
    """The tiny profile's Hopper BC and DAgger steps (with the expert data they need) and the expert check, one at a time."""
    return [sys.executable, str(REPO_ROOT / "hw1" / "reproduce.py"), "--profile", "tiny", "--root", str(tmp_path / "results"),
            "--data_dir", str(tmp_path / "data"), "--jobs", "1", "--only", "bc/Hopper-v1/,dagger/Hopper-v1/,expert_check"]


def run_reproduction(tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(tiny_reproduction(tmp_path), cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def dry_run(tmp_path: Path) -> dict[str, str]:
    listed = subprocess.run(tiny_reproduction(tmp_path) + ["--dry_run"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    return {line.split()[1].rstrip(":"): line.split()[0] for line in listed.stdout.splitlines() if line.split()[0] in ("cached", "to")}


def test_killed_runner_takes_its_step_along_and_a_rerun_matches_a_clean_run(tmp_path):
    clean = run_reproduction(tmp_path / "clean")
    assert clean.returncode == 0, clean.stderr

    crashed = tmp_path / "crashed"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "CS294_PAUSE_AT": "dagger:before_commit:1", "CS294_PAUSED_FILE": str(tmp_path / "paused")}
    runner = subprocess.Popen(tiny_reproduction(crashed), cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (tmp_path / "paused").exists():
        assert runner.poll() is None and time.monotonic() < deadline, "the DAgger step never reached its commit"
        time.sleep(0.2)
    step = int((tmp_path / "paused").read_text())
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()
    deadline = time.monotonic() + 20
    while not is_dead(step):
        assert time.monotonic() < deadline, "the DAgger step outlived its runner"
        time.sleep(0.1)
    # The portable watch took it (step_guard.py, as on macOS), not only Linux's parent-death signal.
    logs = "".join(log.read_text() for log in (crashed / "results" / "reproduce" / "logs").glob("dagger*Hopper*"))
    assert f"the runner (pid {runner.pid}) is gone; stopping the step (pid {step})" in logs

    rerun = run_reproduction(crashed)
    assert rerun.returncode == 0, rerun.stderr
    assert "(resuming)" in rerun.stdout
    run = Path("results") / "Hopper-v1" / "dagger" / "seed0"
    assert comparable(crashed / run) == comparable(tmp_path / "clean" / run)
    episodes = data.read_rollouts(crashed / run / "aggregated.h5").episode_attributes
    assert [a.get("dagger_iteration", 0) for a in episodes] == [0, 0, 1]

    # A damaged or deleted output is not a cache hit: its step, and what reads it, run again.
    data_file = next((crashed / "data").glob("*.h5"))
    data_file.write_bytes(data_file.read_bytes()[:1000])
    (crashed / "results" / "Hopper-v1" / "bc" / "seed0" / "policy.keras").unlink()
    metrics = crashed / run / "metrics.json"
    metrics.write_text(metrics.read_text()[:50])
    plan = dry_run(crashed)
    assert plan.pop("expert_check") == "cached"  # it reads none of the damaged files
    assert set(plan.values()) == {"to"}
    remade = run_reproduction(crashed)
    assert remade.returncode == 0, remade.stderr
    assert set(dry_run(crashed).values()) == {"cached"}
    assert comparable(crashed / run) == comparable(tmp_path / "clean" / run)


def test_two_runners_on_one_root_are_refused(tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "CS294_PAUSE_AT": "dagger:before_commit:0", "CS294_PAUSED_FILE": str(tmp_path / "paused")}
    first = subprocess.Popen(tiny_reproduction(tmp_path), cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not (tmp_path / "paused").exists():
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        second = run_reproduction(tmp_path)
        assert second.returncode == 2 and f"in use by pid {first.pid}" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        first.kill()
        first.wait()
