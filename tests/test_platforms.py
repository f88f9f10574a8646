"""Where students work: requirements.txt's markers, the TensorFlow distribution recorded, the refusal on native Windows."""

import importlib.metadata
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from cs294 import cluster, locks, provenance
from cs294.errors import UserError


def test_version_problem_checks_only_the_lines_whose_marker_holds_here(tmp_path):
    other = "win32" if sys.platform != "win32" else "linux"
    numpy = importlib.metadata.version("numpy")
    pins = tmp_path / "requirements.txt"
    pins.write_text(f'numpy=={numpy}; sys_platform == "{sys.platform}"\n'
                    f'no-such-package==1.0; sys_platform == "{other}"  # another platform\n'
                    f'numpy==0.0.1; python_version < "3.0"\n')
    assert cluster.version_problem(pins) is None
    pins.write_text(f'numpy==1.0.0; sys_platform == "{sys.platform}" and platform_machine == "{platform.machine()}"\n')
    assert cluster.version_problem(pins) == f"numpy {numpy} is installed, requirements.txt pins 1.0.0"


def test_requirements_pin_exactly_one_tensorflow_on_each_platform():
    lines = [line for line in (REPO_ROOT / "requirements.txt").read_text().splitlines() if line.startswith("tensorflow")]
    assert {line.split("==")[0] for line in lines} == {"tensorflow-cpu", "tensorflow"}
    from packaging.requirements import Requirement

    for environment in ({"sys_platform": "linux", "platform_machine": "x86_64"}, {"sys_platform": "linux", "platform_machine": "aarch64"},
                        {"sys_platform": "darwin", "platform_machine": "arm64"}, {"sys_platform": "win32", "platform_machine": "AMD64"}):
        chosen = [Requirement(line).name for line in lines if Requirement(line).marker.evaluate(environment)]
        assert len(chosen) == 1, (environment, chosen)
        expected = "tensorflow-cpu" if environment["sys_platform"] == "win32" or environment["platform_machine"] == "x86_64" else "tensorflow"
        assert chosen == [expected]
    here = dict(cluster.pins_for_this_machine(REPO_ROOT / "requirements.txt"))
    assert ("tensorflow-cpu" in here) != ("tensorflow" in here)


@pytest.mark.parametrize("installed", [("tensorflow-cpu",), ("tensorflow",), ()])
def test_provenance_records_whichever_tensorflow_is_installed(monkeypatch, installed):
    real = importlib.metadata.version

    def version(name: str) -> str:
        if name in provenance.TENSORFLOW_DISTRIBUTIONS:
            if name not in installed:
                raise importlib.metadata.PackageNotFoundError(name)
            return "2.21.0"
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    versions = provenance.package_versions()
    recorded = {name: value for name, value in versions.items() if name.startswith("tensorflow")}
    assert recorded == ({installed[0]: "2.21.0"} if installed else {"tensorflow-cpu": "not installed"})
    assert list(versions)[:3] == ["python", "numpy", installed[0] if installed else "tensorflow-cpu"]


def start_runner(tmp_path, step_code: str) -> tuple[subprocess.Popen, int]:
    """A stand-in runner that starts one guarded step as pipeline.LocalBackend does; returns it and the step's pid."""
    runner_code = ("import subprocess, sys, time; sys.path.insert(0, 'hw1'); from cs294 import pipeline; "
                   f"log = open({str(tmp_path / 'step.log')!r}, 'a'); "
                   f"subprocess.Popen(pipeline.guarded([sys.executable, '-c', {step_code!r}]), stdout=log, stderr=log, start_new_session=True); "
                   "time.sleep(600)")
    runner = subprocess.Popen([sys.executable, "-c", runner_code], cwd=REPO_ROOT)
    deadline = time.monotonic() + 30
    while not (tmp_path / "step.pid").exists():
        assert runner.poll() is None and time.monotonic() < deadline, "the step never started"
        time.sleep(0.05)
    time.sleep(0.1)  # the pid file is complete
    return runner, int((tmp_path / "step.pid").read_text())


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="the step guard is POSIX; native Windows is refused (docs/install.md)")
def test_the_step_guard_takes_its_step_along_when_the_runner_is_killed(tmp_path):
    """The portable parent watch alone: the runner->guard link has no prctl, so only the guard's poll can act."""
    child = tmp_path / "grandchild.pid"
    step_code = (f"import os, subprocess, sys, time; g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
                 f"open({str(child)!r}, 'w').write(str(g.pid)); open({str(tmp_path / 'step.pid')!r}, 'w').write(str(os.getpid())); time.sleep(600)")
    runner, step = start_runner(tmp_path, step_code)
    grandchild = int(child.read_text())
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()
    deadline = time.monotonic() + 10
    while pid_alive(step) or pid_alive(grandchild):
        assert time.monotonic() < deadline, "the step or what it started outlived its runner"
        time.sleep(0.05)
    assert f"the runner (pid {runner.pid}) is gone; stopping the step (pid {step})" in (tmp_path / "step.log").read_text()


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="the step guard is POSIX; native Windows is refused (docs/install.md)")
def test_the_step_guard_ends_as_its_step_does_and_waits_for_a_stopping_step(tmp_path):
    from cs294 import pipeline

    assert subprocess.run(pipeline.guarded([sys.executable, "-c", "raise SystemExit(3)"])).returncode == 3
    killed = subprocess.run(pipeline.guarded([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]))
    assert killed.returncode == -signal.SIGKILL
    # A step stopped with SIGTERM to its group (LocalStep.stop) finishes its handler before the guard exits.
    done = tmp_path / "cleaned_up"
    step_code = (f"import os, signal, sys, time\n"
                 f"def stop(*_):\n    time.sleep(0.5); open({str(done)!r}, 'w').write('yes'); sys.exit(130)\n"
                 f"signal.signal(signal.SIGTERM, stop); open({str(tmp_path / 'step.pid')!r}, 'w').write(str(os.getpid())); time.sleep(600)")
    guard = subprocess.Popen(pipeline.guarded([sys.executable, "-c", step_code]), start_new_session=True)
    deadline = time.monotonic() + 30
    while not (tmp_path / "step.pid").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.1)
    pipeline.LocalStep(guard).stop()
    assert guard.returncode == 130 and done.read_text() == "yes"


def test_a_failed_render_check_says_what_to_set_on_this_platform_and_on_macos():
    from cs294 import video

    assert "MUJOCO_GL=glfw" in video.rendering_advice("darwin") and "cgl" in video.rendering_advice("darwin")
    assert "libosmesa6" in video.rendering_advice("linux") and "macOS: MUJOCO_GL=glfw" in video.rendering_advice("linux")
    # A backend that cannot work here (no X display for GLFW) is refused in one line, with that advice.
    completed = subprocess.run([sys.executable, str(REPO_ROOT / "hw1" / "render_video.py"), "--check"], capture_output=True, text=True,
                               timeout=120, env={**os.environ, "MUJOCO_GL": "glfw", "DISPLAY": "", "PYTHONWARNINGS": "ignore"})
    refusal = [line for line in completed.stderr.splitlines() if line.startswith("render_video.py: error:")]
    assert completed.returncode == 2 and "Traceback" not in completed.stderr and len(refusal) == 1
    assert "offscreen rendering with MUJOCO_GL=glfw failed" in refusal[0] and video.rendering_advice() in refusal[0]


def test_native_windows_is_refused_in_one_line_that_points_to_wsl2(monkeypatch, tmp_path):
    monkeypatch.setattr(locks, "fcntl", None)  # as on Windows, where the module does not exist
    with pytest.raises(UserError, match="native Windows is not supported: run the homework in WSL2") as refusal:
        locks.claim_run_dir(tmp_path / "run")
    assert "\n" not in str(refusal.value) and not (tmp_path / "run").exists()
