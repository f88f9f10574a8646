"""A graph of script runs, each cached by a key of everything it reads: reproduce.py's engine.

A job is one `python hw1/<script> ARGS` process that writes one output (a run directory or a
file). Its cache key hashes the script's arguments, the content of the files it reads, the
source of the code it runs (the script and every project module it imports, found by reading
the imports) and the versions of the packages that shape results. A job whose
stamp holds the same key and whose output exists is skipped; any change to an input gives a new
key and the job runs again, and so does everything downstream of it, since their inputs change.
A stamp is written when a job starts and marked done when it ends, so a job interrupted halfway
is either resumed (DAgger) or redone from scratch. A done stamp also records the size and
sha256 of every file the job wrote; a cache hit checks them, so a damaged or deleted output is
remade, and with it everything downstream. Independent jobs run side by side, longest chain
first. Each job runs in its own process group under a guard (step_guard.py) that kills the group
when the runner dies, on Linux and macOS alike, so a killed runner leaves no step writing behind
it; one runner at a time may use a state directory. Nothing here imports TensorFlow.
"""

import ast
import dataclasses
import datetime
import functools
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Protocol, Sequence

from cs294 import files, locks, provenance
from cs294.errors import UserError

HW1_DIR = Path(__file__).resolve().parents[1]
PACKAGE_DIR = Path(__file__).resolve().parent


@dataclasses.dataclass
class Job:
    """One script run: what it runs, what it reads, what it writes, and what must finish first."""

    name: str
    script: str
    """A file in hw1/, e.g. bc.py."""
    args: list[str]
    output: Path
    """The run directory or file the job writes; removed before a fresh start."""
    stage: str
    """The report's grouping, e.g. 'BC'."""
    deps: tuple[str, ...] = ()
    inputs: tuple[Path, ...] = ()
    """Files read, hashed into the key (e.g. a rollout file made by another job)."""
    cost: float = 10.0
    """Expected seconds, to start the longest chains first."""
    resume_args: tuple[str, ...] = ()
    resume_marker: str | None = None
    """A file in the output whose presence means that an interrupted run can be resumed with resume_args."""
    regenerable: tuple[str, ...] = ()
    """Files in the output that git does not keep (large, and remade by the step): a fresh checkout lacks them, so the
    done check leaves them out, and a resume needs them."""
    exclusive: bool = False
    """Run alone (a speed benchmark should not share the cores)."""
    extra_outputs: tuple[Path, ...] = ()
    """Further files the job writes beside its output (a table's JSON and plot)."""
    cpus: int = 1
    """Cores the step uses: the Ray backend reserves them and sets TensorFlow's threads to match."""

    @property
    def outputs(self) -> tuple[Path, ...]:
        return (self.output, *self.extra_outputs)

    @property
    def command(self) -> list[str]:
        return [sys.executable, str(HW1_DIR / self.script), *self.args]


# dagger.py's runs: --resume continues from state.json's commit, with the episodes of aggregated.h5 (which git ignores).
DAGGER_RESUME = {"resume_args": ("--resume",), "resume_marker": "state.json", "regenerable": ("aggregated.h5",)}


class Hasher:
    """sha256 of files, remembered by (path, size, mtime) so a large rollout file is read once; and the package versions."""

    def __init__(self) -> None:
        self.known: dict[tuple[str, int, int], str] = {}
        self.versions: dict[str, str] | None = None

    def package_versions(self) -> dict[str, str]:
        """provenance.package_versions(), looked up once (it scans the installed packages' metadata)."""
        if self.versions is None:
            self.versions = provenance.package_versions()
        return self.versions

    def file(self, path: Path) -> str:
        status = path.stat()
        identity = (str(path.resolve()), status.st_size, status.st_mtime_ns)
        if identity not in self.known:
            self.known[identity] = provenance.file_sha256(path)
        return self.known[identity]


def imported_project_files(path: Path) -> set[Path]:
    """The cs294 modules and hw1/ scripts that one source file imports directly."""
    stat = path.stat()
    return set(_imported_project_files(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=None)
def _imported_project_files(path: Path, mtime_ns: int, size: int) -> frozenset[Path]:
    """imported_project_files, parsed once per version of the file (a plan of 236 steps would parse each module hundreds of times)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "cs294":
            found |= {PACKAGE_DIR / f"{alias.name}.py" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cs294."):
            found.add(PACKAGE_DIR / f"{node.module.split('.')[1]}.py")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top, _, rest = alias.name.partition(".")
                found.add(PACKAGE_DIR / f"{rest.split('.')[0]}.py" if top == "cs294" and rest else HW1_DIR / f"{top}.py")
    return frozenset(file for file in found if file.exists())


def code_files(script: str) -> list[Path]:
    """The script and every project file it imports, directly or not: the code a job runs."""
    seen, todo = set(), [HW1_DIR / script, PACKAGE_DIR / "__init__.py"]
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(imported_project_files(path) - seen)
    return sorted(seen)


def code_digest(script: str, hasher: Hasher) -> str:
    """sha256 over the code a job runs; editing a module the job never imports leaves it alone."""
    parts = [f"{path.parent.name}/{path.name}:{hasher.file(path)}" for path in code_files(script)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def cache_key(job: Job, hasher: Hasher, upstream: dict[str, object] | None = None) -> str:
    """The key of everything the job's result depends on; a missing input file makes it 'missing:<path>'.

    `upstream` holds the recorded outputs of the steps it waits on whose outputs it reads without
    naming them as inputs (a table reads its runs' metrics): a redone run changes the table's key.
    """
    inputs = {}
    for path in job.inputs:
        inputs[str(path)] = hasher.file(path) if path.exists() else "missing"
    payload = {"script": job.script, "args": job.args, "inputs": inputs,
               "code": code_digest(job.script, hasher), "packages": hasher.package_versions()}
    if upstream:
        payload["upstream"] = upstream
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def reads_unnamed(job: Job, dep: Job) -> bool:
    """Whether `job` reads `dep`'s output without any of its inputs lying in it (then the inputs' hashes do not cover it)."""
    return not any(path == output or output in path.parents for path in job.inputs for output in dep.outputs)


def stamp_path(state_dir: Path, job: Job) -> Path:
    return state_dir / "jobs" / (job.name.replace("/", "__") + ".json")


def log_path(state_dir: Path, job: Job) -> Path:
    return state_dir / "logs" / (job.name.replace("/", "__") + ".log")


def read_stamp(state_dir: Path, job: Job) -> dict | None:
    path = stamp_path(state_dir, job)
    try:
        stamp = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):  # missing, or damaged (JSON or UTF-8): the step counts as never run
        return None
    return stamp if isinstance(stamp, dict) else None  # valid JSON but not a stamp: damaged too


def files_of(path: Path) -> list[Path]:
    """The files an output consists of: the file itself, every file under a directory, or none if it is missing."""
    if path.is_file():
        return [path]
    return sorted(file for file in path.rglob("*") if file.is_file()) if path.is_dir() else []


def output_manifest(job: Job, hasher: Hasher) -> dict[str, list]:
    """[size, sha256] of every file a job wrote (each output file, and every file under an output directory)."""
    manifest = {}
    skipped = {job.output / name for name in job.regenerable}
    for output in job.outputs:
        manifest |= {path.relative_to(job.output.parent).as_posix() if path.is_relative_to(job.output.parent) else str(path):
                     [path.stat().st_size, hasher.file(path)] for path in files_of(output) if path not in skipped}
    return manifest


def is_done(job: Job, key: str, state_dir: Path, hasher: Hasher) -> bool:
    """Finished earlier with the same key, and its output is still there, byte for byte as it was written."""
    stamp = read_stamp(state_dir, job)
    if not (isinstance(stamp, dict) and stamp.get("status") == "done" and stamp.get("key") == key and all(path.exists() for path in job.outputs)):
        return False
    recorded = stamp.get("outputs")
    return recorded is not None and output_manifest(job, hasher) == recorded


def path_argument(text: str) -> Path | str:
    """argparse's type for the runners' path flags: a blank one stays "" for main to refuse, since Path("") is the current
    directory, which from the checkout is its top level."""
    return Path(text) if text.strip() else ""


def checkout_relative(path: Path) -> Path:
    """A path given relative to the current directory, as the steps see it: relative to the checkout if inside it, else absolute."""
    absolute = (Path.cwd() / path).resolve() if not path.is_absolute() else path
    return absolute.relative_to(HW1_DIR.parent) if absolute.is_relative_to(HW1_DIR.parent) else absolute


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def measured_seconds(stamp: dict | None) -> float | None:
    """The seconds a finished step's stamp recorded, or None: not finished, or a time that is not a positive finite number."""
    seconds = (stamp or {}).get("seconds")
    measured = (stamp or {}).get("status") == "done" and isinstance(seconds, (int, float)) and 0 < seconds < float("inf")
    return float(seconds) if measured else None


def measured_costs(jobs: dict[str, Job], state_dir: Path) -> dict[str, float]:
    """Each job's seconds as its stamp recorded them in an earlier run, or the plan's estimate where there is none."""
    costs = {}
    for name, job in jobs.items():
        seconds = measured_seconds(read_stamp(state_dir, job))
        costs[name] = job.cost if seconds is None else seconds
    return costs


def predict_wall_time(jobs: dict[str, Job], costs: dict[str, float], workers: int) -> float:
    """Seconds a clean start would take with `workers` slots: the runner's own schedule, simulated with these costs."""
    import heapq

    priority = chain_costs(jobs, costs)
    clock, finished, pending = 0.0, set(), set(jobs)
    running: list[tuple[float, str]] = []
    while pending or running:
        # In plan order before the sort, as the runner has them: equal chains start in the same order, and the prediction is the same each time.
        ready = sorted((name for name in jobs if name in pending and all(dep in finished for dep in jobs[name].deps)), key=lambda name: -priority[name])
        exclusive_running = any(jobs[name].exclusive for _, name in running)
        for name in ready:
            if exclusive_running or len(running) >= workers or (jobs[name].exclusive and running):
                continue
            pending.discard(name)
            heapq.heappush(running, (clock + costs[name], name))
            exclusive_running = jobs[name].exclusive
        if not running:
            raise RuntimeError(f"jobs wait on each other: {sorted(pending)}")
        clock, name = heapq.heappop(running)
        finished.add(name)
    return clock


def chain_costs(jobs: dict[str, Job], costs: dict[str, float] | None = None) -> dict[str, float]:
    """Each job's cost plus the costliest chain of jobs that wait on it: start the long chains first."""
    waiting_on: dict[str, list[str]] = {name: [] for name in jobs}
    for job in jobs.values():
        for dep in job.deps:
            waiting_on[dep].append(job.name)
    memo: dict[str, float] = {}

    def cost(name: str) -> float:
        if name not in memo:
            own = costs[name] if costs is not None else jobs[name].cost
            memo[name] = own + max((cost(child) for child in waiting_on[name]), default=0.0)
        return memo[name]

    return {name: cost(name) for name in jobs}


class StepHandle(Protocol):
    """A step started by a backend."""

    node: str

    def poll(self) -> int | None:
        """The exit status once the step has ended and its output has landed, else None."""

    def stop(self) -> None:
        """Stop the step and everything it started; nothing more of its output lands (a resumable step keeps its commits)."""


class LocalStep:
    """A step running as a subprocess of this machine, in its own process group."""

    node = "local"

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process

    def poll(self) -> int | None:
        return self.process.poll()

    def stop(self) -> None:
        signal_group(self.process, signal.SIGTERM)
        self.process.wait()


class WarmStep:
    """A step forked from the warm interpreter (cs294.warm_start), in its own process group under its guard."""

    node = "local"

    def __init__(self, server, pid: int) -> None:
        self.server, self.pid = server, pid  # the guard's pid, which ends as the step did

    def poll(self) -> int | None:
        return self.server.returncode(self.pid)

    @property
    def returncode(self) -> int | None:
        return self.poll()

    def wait(self, timeout: float | None = None) -> int:
        """As Popen.wait: the exit status, or subprocess.TimeoutExpired after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"step {self.pid}", timeout)
            time.sleep(0.05)
        return code

    def stop(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        while self.poll() is None:
            time.sleep(0.05)


class LocalBackend:
    """Steps as subprocesses of this machine: the default, and it never imports Ray."""

    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self.servers = None  # the warm-start servers (Linux), started with the first step

    def launch(self, job: "Job", command: list[str], log: Path, env: dict[str, str], reads: list[Path]) -> "LocalStep | WarmStep":
        """Start the step's command; it reads its inputs and writes its output in place."""
        from cs294 import warm_start  # imports no TensorFlow here: the server it starts does

        if warm_start.available(command):
            self.servers = self.servers or warm_start.Pool()
            server = self.servers.server({**os.environ, **env})
            return WarmStep(server, server.start(command, log, {**os.environ, **env}, HW1_DIR.parent))
        with open(log, "a") as handle:
            process = subprocess.Popen(guarded(command), stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **env},
                                       cwd=HW1_DIR.parent, start_new_session=True)
        return LocalStep(process)

    def close(self) -> None:
        """End the warm-start servers, if any were started."""
        if self.servers is not None:
            self.servers.close()


@dataclasses.dataclass
class Outcome:
    """What happened to each job in one invocation."""

    ran: list[str] = dataclasses.field(default_factory=list)
    cached: list[str] = dataclasses.field(default_factory=list)
    failed: list[str] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0


class Runner:
    """Runs the jobs through a backend, at most `backend.workers` at a time, with their output in log files."""

    def __init__(self, jobs: Sequence[Job], state_dir: Path, backend: "LocalBackend | None" = None, env: dict[str, str] | None = None,
                 echo: Callable[[str], None] = print) -> None:
        self.jobs = {job.name: job for job in jobs}
        missing = {dep for job in jobs for dep in job.deps if dep not in self.jobs}
        if missing:
            raise ValueError(f"jobs depend on unknown jobs: {sorted(missing)}")
        self.state_dir = state_dir
        self.backend = backend or LocalBackend(1)
        self.env = dict(env or {})
        self.echo = echo
        self.hasher = Hasher()
        # Measured step times from earlier runs rank the chains where they exist; the plan's estimates elsewhere.
        self.costs = measured_costs(self.jobs, state_dir)
        self.priority = chain_costs(self.jobs, self.costs)

    def key(self, job: Job) -> str:
        """The job's cache key, with the recorded outputs of the steps it reads unnamed."""
        upstream = {dep: (read_stamp(self.state_dir, self.jobs[dep]) or {}).get("outputs", "missing")
                    for dep in job.deps if reads_unnamed(job, self.jobs[dep])}
        return cache_key(job, self.hasher, upstream)

    def plan(self) -> list[tuple[Job, str]]:
        """Each job and whether it would be skipped ('cached') or run ('to run'), without running anything."""
        return [(job, "cached" if is_done(job, self.key(job), self.state_dir, self.hasher) else "to run") for job in self.jobs.values()]

    def reads(self, job: Job, resuming: bool) -> list[Path]:
        """What the step reads: its input files, the outputs of the steps it waits on, and its own output when it resumes."""
        paths = [*job.inputs, *(output for dep in job.deps for output in self.jobs[dep].outputs), *([job.output] if resuming else [])]
        return list(dict.fromkeys(paths))

    def start(self, job: Job, key: str) -> StepHandle:
        stamp = read_stamp(self.state_dir, job)
        resuming = bool(job.resume_marker and stamp and stamp.get("key") == key and stamp.get("status") == "running"
                        and all((job.output / name).exists() for name in (job.resume_marker, *job.regenerable)))
        if locks.is_locked(job.output):  # e.g. a step left running by a runner on another machine
            raise UserError(f"{job.output} is in use by {locks.holder(job.output)}; wait for it to end, then run again")
        if not resuming:
            for output in job.outputs:
                if output.is_dir():
                    shutil.rmtree(output.resolve())  # through a symlink, its target: rmtree refuses the link itself
                    if output.is_symlink():
                        output.resolve().mkdir()  # the link is the user's: it keeps pointing at a directory, now empty
                elif output.exists():
                    output.unlink()
        command = job.command + (list(job.resume_args) if resuming else [])
        files.write_json(stamp_path(self.state_dir, job), {"name": job.name, "stage": job.stage, "key": key, "status": "running",
                                                           "command": command_text(job, resuming), "started_utc": now()})
        log = log_path(self.state_dir, job)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("$ " + command_text(job, resuming) + "\n")
        self.echo(f"start   {job.name}" + (" (resuming)" if resuming else ""))
        env = {**self.env, **thread_env(job.cpus)} if self.backend.name != "local" else self.env
        return self.backend.launch(job, command, log, env, self.reads(job, resuming))

    def finish(self, job: Job, key: str, returncode: int, seconds: float, node: str) -> bool:
        stamp = read_stamp(self.state_dir, job) or {}
        stamp.update({"status": "done" if returncode == 0 else "failed", "returncode": returncode,
                      "seconds": round(seconds, 2), "finished_utc": now(), "key": key, "node": node})
        missing = [path for path in job.outputs if not path.exists()]
        if returncode == 0:
            if missing:
                returncode = stamp["returncode"] = 1
                stamp["status"] = "failed"
                with log_path(self.state_dir, job).open("a") as log:
                    log.write(f"the step ended without writing {', '.join(map(str, missing))}\n")
            else:
                stamp["outputs"] = output_manifest(job, self.hasher)
        files.write_json(stamp_path(self.state_dir, job), stamp)
        where = "" if node == "local" else f" on {node}"
        if returncode == 0:
            self.echo(f"done    {job.name} ({seconds:.1f} s{where})")
            return True
        tail = log_path(self.state_dir, job).read_text(errors="replace").strip().splitlines()[-3:]
        self.echo(f"FAILED  {job.name}{where} (exit {returncode}, log {log_path(self.state_dir, job)}): " + " | ".join(tail))
        return False

    def run(self) -> Outcome:
        """Run every job that is not cached, dependencies first; returns what ran, was cached, failed or was skipped."""
        # `kill` stops the steps as Ctrl-C does (a background job started by a shell ignores SIGINT).
        locks.acquire(self.state_dir)  # one runner per state directory; a second one gets a one-line refusal
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            return self._run()
        finally:
            signal.signal(signal.SIGTERM, previous)
            locks.release(self.state_dir)

    def progress(self, outcome: Outcome, running: dict[str, tuple[StepHandle, str, float]]) -> None:
        """One line: how many steps are done, running (and where), cached and failed."""
        places = ", ".join(f"{name} @ {handle.node}" for name, (handle, _, _) in running.items()) if self.backend.name != "local" else ""
        self.echo(f"        [{len(outcome.ran)} done, {len(running)} running{': ' + places if places else ''}, "
                  f"{len(outcome.cached)} cached, {len(outcome.failed)} failed, of {len(self.jobs)}]")

    def _run(self) -> Outcome:
        outcome, started, started_utc = Outcome(), time.perf_counter(), now()
        pending, finished, failed = dict(self.jobs), set(), set()
        running: dict[str, tuple[StepHandle, str, float]] = {}
        keys: dict[str, str] = {}
        try:
            while pending or running:
                for name, (handle, key, began) in list(running.items()):
                    returncode = handle.poll()
                    if returncode is not None:
                        del running[name]
                        seconds = getattr(handle, "seconds", None) or time.perf_counter() - began
                        ok = self.finish(self.jobs[name], key, returncode, seconds, handle.node)
                        (finished if ok else failed).add(name)
                        (outcome.ran if ok else outcome.failed).append(name)
                        self.progress(outcome, running)
                for name, job in list(pending.items()):
                    if any(dep in failed or dep in outcome.skipped for dep in job.deps):
                        del pending[name]
                        outcome.skipped.append(name)
                        self.echo(f"skip    {name}: a job it needs failed")
                ready = sorted((job for job in pending.values() if all(dep in finished for dep in job.deps)),
                               key=lambda job: -self.priority[job.name])
                exclusive_running = any(self.jobs[name].exclusive for name in running)
                for job in ready:
                    room = not (exclusive_running or len(running) >= self.backend.workers or (job.exclusive and running))
                    if job.name in keys and not room:
                        continue  # hashed and not done when it became ready; it waits for room
                    # Hashed when it becomes ready (cached jobs further down the list are ticked off while others wait for
                    # room) and again as it starts: code edited while it waited is the code it runs, and its stamp must name that.
                    key = keys[job.name] = self.key(job)
                    if is_done(job, key, self.state_dir, self.hasher):
                        del pending[job.name]
                        finished.add(job.name)
                        outcome.cached.append(job.name)
                        continue
                    if not room:
                        continue
                    del pending[job.name]
                    running[job.name] = (self.start(job, key), key, time.perf_counter())
                    exclusive_running = job.exclusive
                if running:
                    time.sleep(0.2)
                elif pending and not ready:
                    raise RuntimeError(f"jobs wait on each other: {sorted(pending)}")
        except BaseException:  # Ctrl-C, kill, or a backend's refusal: stop the steps; nothing of theirs lands
            for handle, _, _ in running.values():
                try:
                    handle.stop()
                except Exception as error:  # e.g. the cluster is gone already; stop the others all the same
                    self.echo(f"could not stop a step: {error}")
            outcome.seconds = time.perf_counter() - started
            record_invocation(self.state_dir, started_utc, outcome, interrupted=True)
            raise
        outcome.seconds = time.perf_counter() - started
        record_invocation(self.state_dir, started_utc, outcome)
        return outcome


def thread_env(cpus: int) -> dict[str, str]:
    """TensorFlow's and OpenMP's thread counts for a step given `cpus` cores, so steps sharing a node do not fight over them."""
    return {"TF_NUM_INTRAOP_THREADS": str(cpus), "TF_NUM_INTEROP_THREADS": str(cpus), "OMP_NUM_THREADS": str(cpus)}


INVOCATIONS_FILE = "invocations.json"


def record_invocation(state_dir: Path, started_utc: str, outcome: Outcome, interrupted: bool = False) -> None:
    """Append one run of the runner to ROOT/reproduce/invocations.json: when, how long, and what it ran."""
    history = read_invocations(state_dir)
    history.append({"started_utc": started_utc, "finished_utc": now(), "seconds": round(outcome.seconds, 1),
                    "ran": len(outcome.ran), "cached": len(outcome.cached), "failed": len(outcome.failed),
                    "skipped": len(outcome.skipped), "interrupted": interrupted})
    files.write_json(state_dir / INVOCATIONS_FILE, history)


def read_invocations(state_dir: Path) -> list[dict]:
    """Every recorded run of the runner, oldest first."""
    path = state_dir / INVOCATIONS_FILE
    try:
        history = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except ValueError:  # a damaged log of past runs is started afresh; the stamps, not this log, decide what is done
        return []
    # Only well-formed entries count; a damaged one is dropped, as a damaged file is.
    fields = {"started_utc": str, "finished_utc": str, "seconds": (int, float)}
    return [run for run in history if isinstance(run, dict) and all(isinstance(run.get(key), kind) for key, kind in fields.items())
            and is_utc_time(run["started_utc"]) and is_utc_time(run["finished_utc"])] if isinstance(history, list) else []


def is_utc_time(text: str) -> bool:
    """Whether `text` is an ISO timestamp with a time zone, as now() writes; others cannot be compared with ours."""
    try:
        return datetime.datetime.fromisoformat(text).tzinfo is not None
    except (TypeError, ValueError):
        return False


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def signal_group(process: subprocess.Popen, signum: int) -> None:
    """Signal a job and every process it started (its own process group)."""
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def guarded(command: list[str]) -> list[str]:
    """The command run under step_guard.py, which kills its process group when this process dies, even by kill -9."""
    return [sys.executable, "-I", str(PACKAGE_DIR / "step_guard.py"), str(os.getpid()), *command]


def command_text(job: Job, resuming: bool = False) -> str:
    """The job's command as a user would type it from the top of the checkout."""
    words = ["python", f"hw1/{job.script}", *job.args, *(job.resume_args if resuming else ())]
    return " ".join(word if word and " " not in word else repr(word) for word in words)
