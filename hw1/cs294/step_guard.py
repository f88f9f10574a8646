"""Run one reproduction step and take it down if the runner dies, kill -9 included, on Linux and macOS alike.

    python -I hw1/cs294/step_guard.py RUNNER_PID COMMAND...

The runner (pipeline.LocalBackend) starts this in a new process group; it starts the step in that
same group and waits for it. Every POLL_SECONDS it compares its parent's pid with RUNNER_PID: a dead
runner's children are handed to another parent (init, launchd or a subreaper), so a change means the
runner is gone, and the guard kills the whole group, the step and whatever it started, itself last.
That works wherever there is a parent pid to read, unlike Linux's prctl(PR_SET_PDEATHSIG), which the
step still gets on Linux so that it also dies if the guard itself is killed. The guard exits as the
step did, with its exit code or by its signal. SIGTERM and SIGINT sent to the group stop the step;
the guard itself lets them pass and waits for the step to finish stopping, so a runner that stops a
step and waits for this process knows the step has ended. Only the standard library is used here,
and `-I` keeps hw1/cs294 off sys.path, since this file runs as a script.
"""

import ctypes
import os
import signal
import subprocess
import sys

POLL_SECONDS = 0.2
PASSED_ON = (signal.SIGTERM, signal.SIGINT)
"""Signals the guard outlives, so that it ends only after the step has."""


def die_with_parent(parent_pid: int):
    """A preexec_fn (Linux only) that gives the child SIGKILL when `parent_pid`, its parent, dies, however it dies; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded here, not between fork and exec
    PR_SET_PDEATHSIG = 1

    def arrange() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return arrange


def main(argv: list[str]) -> int:
    runner, command = int(argv[0]), argv[1:]
    return guard(lambda: subprocess.Popen(command, preexec_fn=die_with_parent(os.getpid())), runner)


def guard(start_step, runner: int, parent: int | None = None) -> int:
    """Lead a process group, start the step in it, kill the group if `parent` (the runner by default) is gone; end as the step did.

    `start_step()` returns the step with Popen's `pid`, `wait(timeout)` and `returncode`: a Popen
    here, a fork of a warm interpreter in cs294.warm_start, whose guard's parent is the fork server.
    """
    parent = runner if parent is None else parent
    if os.getpgrp() != os.getpid():  # started without a group of its own: make one, so the kill below takes nothing else
        os.setpgid(0, 0)
    stops = []
    for signum in PASSED_ON:  # the step gets these too, through the group; the step resets the handler
        signal.signal(signum, lambda signum, frame: stops.append(signum))
    step = start_step()
    if stops:  # a stop that came before the step had started: pass it on now
        os.killpg(os.getpgrp(), stops[0])
    while True:
        if os.getppid() != parent:
            print(f"step_guard: the runner (pid {runner}) is gone; stopping the step (pid {step.pid})", flush=True)
            os.killpg(os.getpgrp(), signal.SIGKILL)
        try:
            step.wait(timeout=POLL_SECONDS)  # returns as soon as the step ends
            break
        except subprocess.TimeoutExpired:
            pass
    if step.returncode < 0:  # end as the step did, so the runner sees the same signal
        if -step.returncode in PASSED_ON:
            signal.signal(-step.returncode, signal.SIG_DFL)
        os.kill(os.getpid(), -step.returncode)
    return step.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
