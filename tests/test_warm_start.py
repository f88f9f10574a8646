"""Steps forked from the warm interpreter (cs294.warm_start) run as fresh `python hw1/<script>` processes do, give their numbers, and die with their runner."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT, write_expert_rollouts
from test_cluster import numbers
from test_platforms import pid_alive
from test_reproduce import rendering_works
from cs294 import pipeline, warm_start

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="steps are forked from a warm interpreter on Linux only")

JOB = pipeline.Job(name="step", script="step.py", args=[], output=Path("unused"), stage="test")


@pytest.fixture(scope="module")
def backend():
    """The local backend, as reproduce.py uses it: its server is started by the first step and shared by the rest."""
    local = pipeline.LocalBackend(2)
    yield local
    local.close()


def run_step(backend, command: list[str], log: Path, env: dict[str, str] | None = None, timeout: float = 120) -> int:
    assert warm_start.available(command)
    handle = backend.launch(JOB, command, log, env or {}, [])
    assert isinstance(handle, pipeline.WarmStep)
    deadline = time.monotonic() + timeout
    while (code := handle.poll()) is None:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    return code


def test_a_forked_step_sees_what_a_fresh_python_would_and_ends_as_it_does(backend, tmp_path):
    script = tmp_path / "step.py"
    script.write_text("import json, os, sys\n"
                      "print(json.dumps({'argv': sys.argv, 'cwd': os.getcwd(), 'path0': sys.path[0], 'name': __name__, "
                      "'variable': os.environ.get('CS294_TEST_VARIABLE'), 'stdin': sys.stdin.read()}))\n"
                      "raise SystemExit(int(sys.argv[1]))\n")
    log = tmp_path / "step.log"
    assert run_step(backend, [sys.executable, str(script), "3", "--flag"], log, {"CS294_TEST_VARIABLE": "set"}) == 3
    seen = json.loads(log.read_text())
    assert seen == {"argv": [str(script), "3", "--flag"], "cwd": str(REPO_ROOT), "path0": str(tmp_path), "name": "__main__",
                    "variable": "set", "stdin": ""}
    crash = tmp_path / "crash.py"
    crash.write_text("raise ValueError('a bug')\n")
    assert run_step(backend, [sys.executable, str(crash)], tmp_path / "crash.log") == 1
    assert "ValueError: a bug" in (tmp_path / "crash.log").read_text()  # the traceback, in the step's log
    killed = tmp_path / "killed.py"
    killed.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    assert run_step(backend, [sys.executable, str(killed)], tmp_path / "killed.log") == -signal.SIGKILL


def test_a_step_whose_pid_an_ended_step_had_is_running_until_it_ends(backend, tmp_path):
    """In a long run the kernel gives an ended guard's pid to a new one: the old exit status must not end the new step.

    The full reproduction of 2026-12-05 marked a 15-second study step done after 0.2 s this way, with a partial manifest.
    """
    first = tmp_path / "first.py"
    first.write_text("pass\n")
    assert run_step(backend, [sys.executable, str(first)], tmp_path / "first.log") == 0
    server = backend.servers.server({})
    # What hours of steps leave behind: exit statuses recorded for the pids the next guards will get.
    next_pid = int(Path("/proc/sys/kernel/ns_last_pid").read_text()) if Path("/proc/sys/kernel/ns_last_pid").exists() else os.getpid()
    server.ended.update({pid: 0 for pid in range(next_pid, next_pid + 5000)})
    slow = tmp_path / "slow.py"
    slow.write_text("import time\ntime.sleep(1.5)\nraise SystemExit(4)\n")
    handle = backend.launch(JOB, [sys.executable, str(slow)], tmp_path / "slow.log", {}, [])
    assert handle.pid in range(next_pid, next_pid + 5000), "the guard's pid fell outside the recorded range; widen it"
    assert handle.poll() is None  # running: the recorded status of an earlier guard with this pid is not its own
    assert handle.wait(timeout=60) == 4


def test_a_forked_bc_run_gives_a_fresh_runs_numbers(backend, tmp_path, hopper_data, monkeypatch):
    def bc(run_dir: Path) -> list[str]:
        return [sys.executable, str(REPO_ROOT / "hw1" / "bc.py"), "Hopper-v1", "--data", str(hopper_data), "--epochs", "3",
                "--eval_episodes", "2", "--seed", "4", "--run_dir", str(run_dir)]

    monkeypatch.setenv("CS294_CACHE", "off")  # both runs play the expert's episodes: none reads the other's back
    assert run_step(backend, bc(tmp_path / "forked"), tmp_path / "forked.log") == 0
    monkeypatch.setenv("CS294_FRESH_STEPS", "1")
    assert not warm_start.available(bc(tmp_path / "fresh"))
    fresh = pipeline.LocalBackend(1).launch(JOB, bc(tmp_path / "fresh"), tmp_path / "fresh.log", {}, [])
    assert isinstance(fresh, pipeline.LocalStep) and fresh.process.wait(timeout=120) == 0

    def metrics(run_dir: Path) -> dict:
        return dict(numbers(json.loads((run_dir / "metrics.json").read_text())))

    forked, fresh_numbers = metrics(tmp_path / "forked"), metrics(tmp_path / "fresh")
    assert forked == fresh_numbers and len(forked) > 20  # weights, losses and returns alike: the same run


def test_a_stopped_step_finishes_its_handler_before_its_guard_ends(backend, tmp_path):
    done, started = tmp_path / "cleaned_up", tmp_path / "step.pid"
    script = tmp_path / "step.py"
    script.write_text("import os, signal, sys, time\n"
                      f"def stop(*_):\n    time.sleep(0.5); open({str(done)!r}, 'w').write('yes'); sys.exit(130)\n"
                      f"signal.signal(signal.SIGTERM, stop); open({str(started)!r}, 'w').write(str(os.getpid())); time.sleep(600)\n")
    handle = backend.launch(JOB, [sys.executable, str(script)], tmp_path / "step.log", {}, [])
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline and handle.poll() is None, (tmp_path / "step.log").read_text()
        time.sleep(0.05)
    handle.stop()
    assert handle.poll() == 130 and done.read_text() == "yes"


def test_a_killed_runner_takes_its_forked_step_and_what_it_started_along(tmp_path):
    child, started = tmp_path / "grandchild.pid", tmp_path / "step.pid"
    script = tmp_path / "step.py"
    script.write_text("import os, subprocess, sys, time\n"
                      "g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
                      f"open({str(child)!r}, 'w').write(str(g.pid)); open({str(started)!r}, 'w').write(str(os.getpid())); time.sleep(600)\n")
    log = tmp_path / "step.log"
    runner_code = ("import sys, time; from pathlib import Path; from cs294 import pipeline; "
                   f"pipeline.LocalBackend(1).launch(None, [sys.executable, {str(script)!r}], Path({str(log)!r}), {{}}, []); time.sleep(600)")
    runner = subprocess.Popen([sys.executable, "-c", runner_code], cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + 90
        while not started.exists():
            assert runner.poll() is None and time.monotonic() < deadline, "the step never started"
            time.sleep(0.05)
        time.sleep(0.2)  # the pid files are complete
        step, grandchild = int(started.read_text()), int(child.read_text())
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
    finally:
        if runner.poll() is None:
            runner.kill()
    deadline = time.monotonic() + 15
    while pid_alive(step) or pid_alive(grandchild):
        assert time.monotonic() < deadline, "the step or what it started outlived its runner"
        time.sleep(0.05)
    assert f"the runner (pid {runner.pid}) is gone; stopping the step (pid {step})" in log.read_text()


def test_a_render_step_starts_fresh_and_renders(backend, tmp_path):
    """OpenGL crashes (SIGSEGV) beside TensorFlow, which the warm interpreter holds: render_video.py's steps must not be forked."""
    if not rendering_works():
        pytest.skip("offscreen rendering is not available on this machine (render_video.py --check fails)")
    episodes = write_expert_rollouts(tmp_path, "Hopper-v1", 1, 8)
    command = [sys.executable, str(REPO_ROOT / "hw1" / "render_video.py"), str(episodes), "--size", "32", "--output", str(tmp_path / "clip.gif")]
    handle = backend.launch(JOB, command, tmp_path / "render.log", {}, [])
    assert isinstance(handle, pipeline.LocalStep)
    assert handle.process.wait(timeout=120) == 0, (tmp_path / "render.log").read_text()
    assert (tmp_path / "clip.gif").stat().st_size > 0


def test_an_edit_to_the_package_gives_the_next_step_a_new_server(tmp_path, monkeypatch):
    """A server keeps the code it imported: after an edit, steps must not run it; the old server serves its steps to their end."""
    package = tmp_path / "package"
    package.mkdir()
    (package / "module.py").write_text("VALUE = 1\n")
    monkeypatch.setattr(warm_start, "PACKAGE_DIR", package)
    script = tmp_path / "step.py"
    script.write_text("import os, sys, time\ntime.sleep(float(sys.argv[1])); print(os.getppid())\n")
    local = pipeline.LocalBackend(2)
    try:
        slow = local.launch(JOB, [sys.executable, str(script), "3"], tmp_path / "slow.log", {}, [])
        first_server = local.servers.current
        (package / "module.py").write_text("VALUE = 22\n")
        quick = local.launch(JOB, [sys.executable, str(script), "0"], tmp_path / "quick.log", {}, [])
        assert local.servers.current is not first_server and local.servers.retired == [first_server]
        for handle in (slow, quick):
            while handle.poll() is None:
                time.sleep(0.05)
            assert handle.poll() == 0
        assert slow.server is first_server and quick.server is local.servers.current  # the running step stayed with its server to the end
        last = local.launch(JOB, [sys.executable, str(script), "0"], tmp_path / "last.log", {}, [])
        assert local.servers.retired == [] and first_server.process.poll() is not None  # its steps done, the old server is gone
        while last.poll() is None:
            time.sleep(0.05)
        assert last.poll() == 0 and slow.poll() == 0  # and what it served still answers
    finally:
        local.close()
    assert first_server.process.poll() is not None and local.servers.current is None
