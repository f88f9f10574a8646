"""Shared test helpers: paths into the checkout and a way to run the scripts as a user does."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EXPERTS_DIR = REPO_ROOT / "experts"
EXPERT_ENVS = ("Ant-v1", "HalfCheetah-v1", "Hopper-v1", "Humanoid-v1", "Reacher-v1", "Walker2d-v1")


def pytest_configure(config: pytest.Config) -> None:
    """One fresh cache of the expert's returns per test session (the xdist workers inherit it), as on a clean CI machine.

    The developer's ~/.cache/cs294 would otherwise let a test read back episodes that an earlier session played.
    """
    if "CS294_CACHE" not in os.environ:
        os.environ["CS294_CACHE"] = config.cs294_cache = tempfile.mkdtemp(prefix="cs294-test-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    if getattr(config, "cs294_cache", None):  # the process that made it: the controller, or a run without xdist
        shutil.rmtree(config.cs294_cache, ignore_errors=True)


def run_script(script: str, *args: str, cwd: Path = REPO_ROOT, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run hw1/<script> in a fresh interpreter, as `python hw1/<script> ...` from the checkout."""
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "hw1" / script), *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def as_if_from_a_terminal() -> None:
    """Popen's preexec_fn for a child that must take Ctrl-C: a shell's background job (a suite started with `&`) ignores
    SIGINT, and its children would inherit that; a terminal's Ctrl-C reaches a default handler."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def ctrl_c_as_in_a_terminal():
    """Python's own Ctrl-C handler in this process (a worker of the suite may have another) and the run's catching of it."""
    import signal

    from cs294 import interrupts

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with interrupts.ctrl_c_stops_the_run():
            yield
    finally:
        signal.signal(signal.SIGINT, previous)


def swallow_a_ctrl_c() -> None:
    """A Ctrl-C that lands where TensorFlow's C layer calls back into Python, and is dropped there (measured in
    tf.summary.scalar's context._handle; see cs294/interrupts.py)."""
    import signal

    try:
        signal.raise_signal(signal.SIGINT)
    except KeyboardInterrupt:
        pass


def tensorboard_tags(run_dir: Path) -> set[str]:
    """Every tag in a run's TensorBoard event files, read back as TensorBoard reads them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run_dir))
    accumulator.Reload()
    return {tag for tags in accumulator.Tags().values() if isinstance(tags, list) for tag in tags}


# The suite runs on two pytest-xdist workers (pyproject.toml). Every test of the session's tiny reproduction, and every test
# of test_cluster.py, goes to one worker: it builds that reproduction once for all of them (test_cluster.py compares its
# Ray clusters' numbers with it), and two Ray clusters never start at the same time. The other tests of test_reproduce.py
# go to either worker, so that the one holding the group is not the long pole by their 40 s or so.
SHARED_WORKER_FILES = {"test_cluster.py"}
# A module- or session-scoped fixture is made once per worker that runs a test using it, so each expensive one keeps its tests
# on one worker: the tiny reproduction (above), BCO's tiny CartPole run, the install matrix's 15 resolutions (about 15 s of
# CPU) and crash_safety's uninterrupted DAgger run (8 s). Fixture name: its group.
ONE_WORKER_FIXTURES = {"tiny_reproduction": "tiny_reproduction", "tiny_cartpole_run": "bco_tiny_cartpole_run",
                       "resolutions": "resolutions", "straight_dagger": "straight_dagger"}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        group = "tiny_reproduction" if item.path.name in SHARED_WORKER_FILES else next(
            (name for fixture, name in ONE_WORKER_FIXTURES.items() if fixture in fixtures), None)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))

@pytest.fixture
def expert_path():
    """Path of a published expert by env name."""
    return lambda env_name: EXPERTS_DIR / f"{env_name}.pkl"


def write_expert_rollouts(directory: Path, env_name: str, episodes: int, steps: int) -> Path:
    """Real expert episodes written by run_expert.py, as a user makes them."""
    import run_expert
    from cs294 import environments

    path = directory / f"{env_name}.h5"
    run_expert.main(run_expert.build_parser().parse_args(
        [str(EXPERTS_DIR / f"{environments.published_name(env_name)}.pkl"), env_name, "--num_rollouts", str(episodes), "--max_timesteps", str(steps), "--output", str(path)]))
    return path


@pytest.fixture(scope="session")
def hopper_data(tmp_path_factory):
    """Four real Hopper expert episodes of 250 steps."""
    return write_expert_rollouts(tmp_path_factory.mktemp("data"), "Hopper-v1", 4, 250)


@pytest.fixture(scope="session")
def cartpole_demos(tmp_path_factory):
    """Three real CartPole expert episodes of 200 steps."""
    return write_expert_rollouts(tmp_path_factory.mktemp("data"), "CartPole-v1", 3, 200)


@pytest.fixture(scope="session")
def tiny_reproduction(tmp_path_factory):
    """`reproduce.py --profile tiny` on the local backend, two steps at a time: (its directory, what ran). Every stage, once per session."""
    import reproduce

    directory = tmp_path_factory.mktemp("tiny")
    arguments = ["--profile", "tiny", "--root", str(directory / "results"), "--data_dir", str(directory / "data"), "--jobs", "2"]
    return directory, reproduce.main(reproduce.build_parser().parse_args(arguments))
