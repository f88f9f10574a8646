"""Reproduction steps forked from a warm interpreter on Linux: TensorFlow, Keras and the project are imported once per runner, not once per step.

A fresh `python hw1/<script>` spends about 6 s of CPU importing TensorFlow and Keras before it does
anything, more than half of a small step. So on Linux pipeline.LocalBackend starts one fork server
(`serve`, a child of the runner) that imports PRELOAD once and forks each step from it. The step
then runs its script as `python hw1/<script> ARGS` would: the same sys.argv, sys.path[0], working
directory, environment, log file and exit status. The fork comes before TensorFlow has started a
thread or run an op (it does both lazily, reading TF_NUM_INTRAOP_THREADS then), so a step sets up
its threads as a fresh process does; tests/test_warm_start.py checks that a forked step's numbers
equal a fresh one's.

The server keeps the code it imported. If the package's source changes during a run, the next
step gets a new server (the old one serves its running steps to their end), so a step never runs
older code than its cache key names.

Each process forked from the server is the step's guard, as step_guard.py is for a fresh step: it
leads the step's process group, forks the step with Linux's parent-death signal, passes SIGTERM
and SIGINT on, and kills the group once its parent, the server, is gone. The server exits as soon
as the runner is gone, kill -9 included: its stdin, a pipe from the runner, reaches end of file.
Elsewhere (macOS: fork after some of Apple's frameworks have loaded is unsafe), or with
CS294_FRESH_STEPS=1, every step starts fresh under step_guard.py, and so do FRESH_SCRIPTS' steps.
"""

import atexit
import contextlib
import importlib
import json
import os
import runpy
import select
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

from cs294 import step_guard
from cs294.errors import UserError

# Imported once by the server: what the steps' scripts import at start-up, TensorFlow first (quietly).
PRELOAD = ("cs294.quiet_tensorflow", "keras", "matplotlib.pyplot", "cs294.runs", "cs294.dagger", "cs294.bco", "cs294.video")
POLL_SECONDS = 0.05
PACKAGE_DIR = Path(__file__).resolve().parent


# Scripts that must start fresh: render_video.py sets MUJOCO_GL before MuJoCo is first imported, and OpenGL crashes
# (SIGSEGV) in a process that has TensorFlow loaded.
FRESH_SCRIPTS = ("render_video.py",)


def available(command: list[str]) -> bool:
    """Whether `command` (a Job's: python hw1/<script>.py ARGS) can be forked from the warm interpreter here."""
    return (sys.platform.startswith("linux") and os.environ.get("CS294_FRESH_STEPS") != "1"
            and len(command) >= 2 and command[0] == sys.executable and command[1].endswith(".py")
            and Path(command[1]).name not in FRESH_SCRIPTS)


class Server:
    """The runner's end of the fork server: one request line per step, answered with its guard's pid, then its exit status."""

    def __init__(self, env: dict[str, str], package_dir: Path | None = None) -> None:
        """A server importing the package from `package_dir` (a Ray worker's shipped copy of the checkout), by default this one."""
        self.package_dir = package_dir or PACKAGE_DIR
        self.sources = source_stamp(self.package_dir)  # what it will import; taken first, so that an edit during its start-up counts
        # Its package, ahead of any install of it: a step forked from the server runs the code the cache key hashed, also in a
        # second checkout whose virtual environment holds an editable install of the first (the step's own environment is its own).
        env = {**env, "PYTHONPATH": os.pathsep.join([str(self.package_dir.parent), *filter(None, [env.get("PYTHONPATH")])])}
        self.process = subprocess.Popen([sys.executable, "-c", "from cs294 import warm_start; warm_start.serve()"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.pending, self.ended, self.running = b"", {}, set()

    def start(self, command: list[str], log: Path, env: dict[str, str], cwd: Path) -> int:
        """Fork a step's guard; returns its pid."""
        request = {"script_and_args": command[1:], "log": str(log), "env": env, "cwd": str(cwd), "runner": os.getpid()}
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()
        while True:
            for reply in self.read(timeout=None):
                if "started" in reply:
                    # The kernel reuses pids: an earlier guard's exit status under this pid is not this step's. Its "ended"
                    # reply came before this one (the server reaps a guard, and replies, before the pid can be given again).
                    self.ended.pop(reply["started"], None)
                    self.running.add(reply["started"])
                    return reply["started"]

    def returncode(self, pid: int) -> int | None:
        """The guard's exit status (negative: the signal it died of) once it has ended, else None."""
        if pid in self.ended or self.process.stdout.closed:  # known, or asked after close(), when every step had ended
            return self.ended.get(pid)
        self.read(timeout=0)
        if pid not in self.ended and self.process.poll() is not None and not is_alive(pid):
            return -signal.SIGKILL  # the server died first; the guard then killed its step (its parent was gone)
        return self.ended.get(pid)

    def read(self, timeout: float | None) -> list[dict]:
        """The replies that have come, waiting up to `timeout` seconds (None: until one comes); exit statuses are kept."""
        replies = []
        while not replies:
            if not select.select([self.process.stdout], [], [], timeout)[0]:
                break
            chunk = os.read(self.process.stdout.fileno(), 65536)
            if not chunk:
                if timeout is None:
                    raise UserError("the warm-start server of the steps ended; run again with CS294_FRESH_STEPS=1 to start every step fresh")
                break
            *lines, self.pending = (self.pending + chunk).split(b"\n")
            replies += [json.loads(line) for line in lines]
        for reply in replies:
            if "ended" in reply:
                self.ended[reply["ended"]] = reply["returncode"]
                self.running.discard(reply["ended"])
        return replies

    def stale(self) -> bool:
        """Whether the package's source changed since the server imported it: a step forked from it would run the old code."""
        return source_stamp(self.package_dir) != self.sources

    def close(self) -> None:
        """End the server (its steps have ended): end of file on its stdin."""
        self.process.stdin.close()
        self.process.wait()
        self.process.stdout.close()


class Pool:
    """The servers of one runner or Ray worker: the current one, and those retired since, which serve their running steps to the end."""

    def __init__(self, package_dir: Path | None = None) -> None:
        self.package_dir, self.current, self.retired = package_dir, None, []

    def server(self, env: dict[str, str]) -> Server:
        """The current server, started on first use and again once the package's source is edited or the server has died."""
        if self.current is not None and (self.current.stale() or self.current.process.poll() is not None):
            self.retired.append(self.current)
            self.current = None
        for server in list(self.retired):  # a retired server whose steps have all ended goes, with the memory TensorFlow holds
            server.read(timeout=0)
            if not server.running:  # (a dead server's steps are told apart by returncode(), which needs it open)
                server.close()
                self.retired.remove(server)
        if self.current is None:
            self.current = Server(env, self.package_dir)
        return self.current

    def close(self) -> None:
        """End every server (their steps have ended)."""
        for server in [*self.retired, *([self.current] if self.current else [])]:
            server.close()
        self.current, self.retired = None, []


def source_stamp(package_dir: Path | None = None) -> tuple:
    """The size and modification time of every module of the package, which the server imports once and keeps."""
    paths = sorted((package_dir or PACKAGE_DIR).glob("*.py"))
    return tuple((path.name, path.stat().st_size, path.stat().st_mtime_ns) for path in paths)


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def serve() -> None:
    """The server: import PRELOAD, then fork a guarded step per request line on stdin, until stdin ends (the runner is gone)."""
    global REPLIES
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle (it stops the steps); the server ends with it
    REPLIES = os.dup(1)  # the pipe to the runner, for replies alone: whatever else writes to stdout goes to stderr
    os.dup2(2, 1)
    for name in PRELOAD:
        importlib.import_module(name)
    guards, pending = set(), b""
    while True:
        if select.select([0], [], [], POLL_SECONDS)[0]:
            chunk = os.read(0, 65536)
            if not chunk:
                return  # the runner is gone: each guard sees its parent change and stops its step
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                server = os.getpid()  # before the fork: a guard that asked after it could find the server gone and watch init
                pid = os.fork()
                if pid == 0:
                    code = 1
                    try:
                        code = guard_step(**json.loads(line), server=server)
                    except BaseException:
                        traceback.print_exc()
                    finally:
                        os._exit(code)
                with contextlib.suppress(OSError):  # the group exists before the runner hears of it, so an early stop reaches it
                    os.setpgid(pid, pid)
                guards.add(pid)
                reply({"started": pid})
        for pid in list(guards):
            ended, status = os.waitpid(pid, os.WNOHANG)
            if ended:
                guards.discard(pid)
                reply({"ended": pid, "returncode": os.waitstatus_to_exitcode(status)})


REPLIES = 1


def reply(message: dict) -> None:
    os.write(REPLIES, json.dumps(message).encode() + b"\n")


def guard_step(script_and_args: list[str], log: str, env: dict[str, str], cwd: str, runner: int, server: int) -> int:
    """In the process forked from the server: lead a new process group, start the step in it, and end as it did."""
    with contextlib.suppress(OSError):  # the server may have made the group already
        os.setpgid(0, 0)  # the runner stops a step by signalling this group
    os.close(REPLIES)
    devnull = os.open(os.devnull, os.O_RDONLY)
    output = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    for descriptor, target in ((devnull, 0), (output, 1), (output, 2)):  # off the server's pipes, onto the log
        os.dup2(descriptor, target)
    os.close(devnull)
    os.close(output)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)  # the runner's environment with the step's own, as Popen(env=...) gives a fresh step
    return step_guard.guard(lambda: ForkedStep(script_and_args), runner, parent=server)


class ForkedStep:
    """The step, forked from its guard: the waiting side of subprocess.Popen, which step_guard.guard uses."""

    def __init__(self, script_and_args: list[str]) -> None:
        guard = os.getpid()
        # Signals wait until the step has its own handlers: the guard's, inherited by fork, would swallow them.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, step_guard.PASSED_ON)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                step_guard.die_with_parent(guard)()  # SIGKILL if the guard dies
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                code = run_script(script_and_args[0], script_and_args[1:])
            finally:
                os._exit(code)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        self.pid, self.returncode = pid, None

    def wait(self, timeout: float) -> int:
        """The step's exit status (negative: the signal it died of), or subprocess.TimeoutExpired after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                return self.returncode
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)


def run_script(script: str, args: list[str]) -> int:
    """Run hw1/<script> as its __main__, as `python hw1/<script> ARGS` does, and return its exit status."""
    sys.argv = [script, *args]
    sys.path.insert(0, str(Path(script).resolve().parent))
    try:
        runpy.run_path(script, run_name="__main__")
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
        if not isinstance(exit.code, (int, type(None))):
            print(exit.code, file=sys.stderr)
    except KeyboardInterrupt:  # unhandled: end as a fresh Python does, by SIGINT
        finish()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        code = 130
    except BaseException:
        traceback.print_exc()
        code = 1
    finish()
    return code


def finish() -> None:
    """What a fresh interpreter does on its way out, which os._exit skips: the atexit handlers, then the flush."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
