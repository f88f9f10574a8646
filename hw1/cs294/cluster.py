"""The Ray backend of the step graph: each step runs as a Ray task on any node of a cluster.

No filesystem is shared. A step's inputs travel by content through Ray's object store (each file
is put once per run), the step runs in a scratch directory of its own on the worker, and its
output comes back as bytes and lands under results/ atomically: in a temporary directory beside
its place, renamed into place only when the whole output is there. The project's code goes with
the job (a runtime_env working_dir). Before a step runs, the worker checks that its packages are
the versions requirements.txt pins. A worker that dies mid-step makes Ray run the step again
elsewhere (at most RETRIES more times); a step that fails on its own is not retried.

A resumable step (DAgger) ships each iteration it commits back while it runs: the worker sends a
snapshot of its output directory, taken when the commit record changes, to an actor on the
driver's node. The driver lands the snapshot in place, as a local run leaves its committed
iterations on disk, so a rerun after the driver's death resumes from it; and a retried attempt
starts from the latest snapshot instead of from the beginning.

Only `reproduce.py --backend ray` imports this module; the local path never imports Ray.
"""

import dataclasses
import importlib.metadata
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from packaging.requirements import Requirement

from cs294 import pipeline, provenance, warm_start
from cs294.errors import UserError

CHECKOUT = pipeline.HW1_DIR.parent
RETRIES = 2
STORE_TIMEOUT = 300
"""Seconds a call to the store of commits may take (a snapshot of a large run directory is hundreds of MB)."""
# What the workers need of the checkout: the code, the experts and the pins. Results and data travel as step inputs.
SHIPPED = ("hw1", "experts", "requirements.txt")
ADDRESS_TIMEOUT = 30.0
"""Seconds to wait for a Ray head at --address to answer before giving up (--address_timeout)."""
# Asks the head's GCS for the cluster's id, as ray.init does first. Run in a child process because a port that
# accepts connections but never answers makes Ray retry forever, and a thread stuck in Ray cannot be stopped.
GCS_PROBE = "import sys; from ray._raylet import GcsClient; GcsClient(address=sys.argv[1]).cluster_id"
# A private instance's raylet and GCS die with a driver killed by kill -9, but its two agents, which notice the dead raylet
# at once, then spend 60 s telling the dead GCS about it (Ray's publish_error timeout). This process, started beside the
# instance, waits for the driver's end (its stdin closes) and then kills what the instance's raylet started: the children
# it saw the raylet have (the agents retitle themselves over their environment, so only their parent names them) and every
# process whose environment names the raylet (the workers and the steps under them).
REAPER = """
import os, select, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
raylet, started = sys.argv[1], sys.argv[2]
mark, namespace = ("RAY_RAYLET_PID=" + raylet).encode(), os.readlink("/proc/self/ns/pid")

def start_time(pid):
    return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[19]

children = {}
while not select.select([0], [], [], 2.0)[0] or os.read(0, 1):
    try:
        if start_time(raylet) == started:
            for tasks in os.listdir(f"/proc/{raylet}/task"):
                for child in open(f"/proc/{raylet}/task/{tasks}/children").read().split():
                    children.setdefault(child, start_time(child))
    except (OSError, IndexError):
        pass
for _ in range(2):  # twice: a process forked while the first pass ran is caught by the second
    for entry in os.listdir("/proc"):
        try:
            when = start_time(entry)
            # RAY_RAYLET_PID names a pid of this pid namespace only; a container's Ray may hold the same number.
            if entry.isdigit() and (children.get(entry) == when or (int(when) >= int(started) and os.readlink(f"/proc/{entry}/ns/pid") == namespace
                    and mark in open(f"/proc/{entry}/environ", "rb").read().split(b"\\0"))):
                os.kill(int(entry), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass
    time.sleep(0.2)
"""
TEXT_SUFFIXES = {".json", ".md", ".txt", ".csv"}
TEMPORARY = re.compile(r"^\..*\.tmp-\d+")
"""What files.atomic_path names a file while it is being written."""


def wait_for_head(address: str, timeout: float) -> None:
    """Return once the Ray head at HOST:PORT answers; a UserError naming the address after `timeout` seconds or a refusal."""
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=min(5.0, timeout)).close()
    except (OSError, ValueError) as error:
        raise UserError(f"--address {address}: no Ray cluster answers there ({error}); start one with `ray start --head` "
                        "or leave out --address for a private one") from None
    try:
        probe = subprocess.run([sys.executable, "-c", GCS_PROBE, address], capture_output=True, text=True, timeout=timeout,
                               env={**os.environ, "RAY_BACKEND_LOG_LEVEL": "fatal"})
    except subprocess.TimeoutExpired:
        raise UserError(f"--address {address}: something accepts connections there, but no Ray head answered within {timeout:g} s; "
                        "give the port of `ray start --head --port PORT`, or wait longer with --address_timeout") from None
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or [f"exit {probe.returncode}"])[-1]
        raise UserError(f"--address {address}: no Ray head answered there ({reason}); give the port of `ray start --head --port PORT`")


def connect(address: str | None, workers: int | None = None, timeout: float = ADDRESS_TIMEOUT) -> "RayBackend":
    """Join the cluster at `address` ('HOST:PORT' or 'auto'), or start a private Ray instance when it is None.

    A HOST:PORT head must answer within `timeout` seconds; Ray itself would retry for ever.
    """
    if address and address != "auto":
        wait_for_head(address, timeout)
    try:
        import ray  # only here: the local backend never imports Ray
    except ImportError:
        raise UserError("--backend ray needs Ray: .venv/bin/pip install -r requirements.txt") from None

    excludes = [f"/{path.name}" for path in CHECKOUT.iterdir() if path.name not in SHIPPED]
    try:
        ray.init(address=address, runtime_env={"working_dir": str(CHECKOUT), "excludes": excludes, "py_modules": [str(pipeline.PACKAGE_DIR)]},
                 include_dashboard=False if address is None else None, log_to_driver=False, logging_level="ERROR")
    except ConnectionError as error:
        raise UserError(f"--address {address}: could not join a Ray cluster ({str(error).splitlines()[0]}); "
                        "start one with `ray start --head`, or leave out --address for a private one") from None
    except Exception as error:  # e.g. a cluster of another Ray version
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserError(f"Ray could not start{' at ' + address if address else ''}: {first}") from None
    return RayBackend(ray, started_here=address is None, workers=workers, reaper=start_reaper() if address is None else None)


def start_reaper() -> subprocess.Popen | None:
    """The REAPER of the private instance this process just started (Linux: it reads /proc); None where there is none to watch."""
    if not sys.platform.startswith("linux"):
        return None
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except (OSError, IndexError):
            continue
        if entry.name.isdigit() and int(stat[1]) == os.getpid() and command.endswith(b"/raylet"):
            return subprocess.Popen([sys.executable, "-c", REAPER, entry.name, stat[19]], stdin=subprocess.PIPE, start_new_session=True)
    return None  # RAY_ADDRESS named a cluster, so ray.init started nothing here


class RayStep:
    """A step running as a Ray task; its output lands when the task has returned (a resumable step's commits before)."""

    def __init__(self, backend: "RayBackend", job: pipeline.Job, reference, log: Path) -> None:
        self.backend, self.job, self.reference, self.log = backend, job, reference, log
        self.node = "queued"
        self.seconds: float | None = None

    def poll(self) -> int | None:
        ray = self.backend.ray
        self.backend.drain_placements()
        self.node = self.backend.placements.get(self.job.name, [self.node])[-1]
        ready, _ = ray.wait([self.reference], timeout=0)
        if not ready:
            self.backend.drain_commits()
            return None
        self.backend.end(self.job.name)  # the whole output comes now: no commit of it lands any more
        self.backend.drain_placements(now=True)
        attempts = self.backend.placements.pop(self.job.name, [])
        if len(attempts) > 1:
            with self.log.open("a") as handle:
                handle.write(f"{len(attempts)} attempts: a worker died on {', '.join(attempts[:-1])}; Ray ran the step again\n")
        try:
            result = ray.get(self.reference)
        except ray.exceptions.RayError as error:  # the worker died more than RETRIES times, or the task could not start
            with self.log.open("a") as handle:
                handle.write(f"the Ray task failed: {error}\n")
            return 1
        self.node, self.seconds = result["node"], result["seconds"]
        if result.get("version_problem"):  # the cache keys hold the driver's versions: a node with others would break them
            raise UserError(f"node {result['node']}: {result['version_problem']}; install the pinned versions there "
                            "(pip install -r requirements.txt) and run again; nothing was changed")
        with self.log.open("a") as handle:
            handle.write(result["log"])
        if result["returncode"] == 0:
            try:
                for output, contents in zip(self.job.outputs, result["files"]):
                    land(output, contents)
            except OSError as error:  # e.g. a full disk: the step fails, and what did land is removed at its next start
                with self.log.open("a") as handle:
                    handle.write(f"the output could not be put in place: {error}\n")
                return 1
        return result["returncode"]

    def stop(self) -> None:
        self.backend.end(self.job.name)
        self.backend.ray.cancel(self.reference, force=True)


class RayBackend:
    """Launches steps as Ray tasks, one CPU each unless the step asks for more."""

    name = "ray"

    def __init__(self, ray, started_here: bool, workers: int | None, reaper: subprocess.Popen | None = None) -> None:
        self.ray, self.started_here, self.reaper = ray, started_here, reaper
        # As many steps in flight as the cluster has cores: more would only queue inside Ray, out of the runner's order.
        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.uploaded: dict[tuple[str, int, int], object] = {}
        self.placements: dict[str, list[str]] = {}
        """Step name -> the node of each attempt, in order."""
        self.placement_queue = PlacementQueue()
        self.drained_at = self.commits_drained_at = 0.0
        self.store_lost = False
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        # On the driver's node, so that a snapshot outlives the worker that sent it.
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        self.commits = ray.remote(num_cpus=0)(CommitStore).options(scheduling_strategy=here).remote()
        self.running: dict[str, RayStep] = {}
        """The resumable steps in flight, whose commits land as they come."""
        self.resources: dict[str, str] = {}
        """Step-name prefix -> a custom resource the step must be placed on (--place)."""
        self.remote = ray.remote(max_retries=RETRIES, retry_exceptions=False)(run_step)
        self.versions = provenance.package_versions()
        """The driver's versions of the packages that shape results, which the cache keys hold; every node must have the same."""

    def place(self, resources: dict[str, str]) -> None:
        """Send the steps whose names start with each prefix only to nodes declaring its custom resource; refuse one no node has."""
        available = self.ray.cluster_resources()
        missing = sorted({name for name in resources.values() if name not in available})
        if missing:
            raise UserError(f"--place: no node of the cluster declares the resource {', '.join(missing)}; "
                            "start a node with `ray start --resources '{\"NAME\": 1}'` or drop --place")
        self.resources = dict(resources)

    def upload(self, path: Path) -> dict[str, object]:
        """Object references of every file under `path` (a file or a directory), keyed by its path relative to the checkout."""
        references = {}
        for file in pipeline.files_of(path):
            status = file.stat()
            identity = (str(file.resolve()), status.st_size, status.st_mtime_ns)
            if identity not in self.uploaded:
                self.uploaded[identity] = self.ray.put(file.read_bytes())
            references[scratch_path(file)] = self.uploaded[identity]
        return references

    def launch(self, job: pipeline.Job, command: list[str], log: Path, env: dict[str, str], reads: list[Path]) -> RayStep:
        """Send the step, its inputs by content, to any node with `job.cpus` free cores (and the resource --place names)."""
        references: dict[str, object] = {}
        for path in reads:
            if not path.resolve().is_relative_to(CHECKOUT / "experts"):  # the experts travel with the code
                references.update(self.upload(path))
        options = {"num_cpus": job.cpus}
        resource = next((name for prefix, name in self.resources.items() if job.name.startswith(prefix)), None)
        if resource:
            options["resources"] = {resource: 0.001}
        arguments = [scratch_path(Path(word)) if word.startswith("/") else word for word in command[2:]]
        # Paths the step's text inputs and outputs may name: the driver's form and the scratch directory's.
        named = [Path(word) for word in command[2:] if word.startswith("/")] + [path for path in (*reads, *job.outputs) if path.is_absolute()]
        paths = {str(CHECKOUT): "."} | {str(path): scratch_path(path) for path in named}
        resume = (scratch_path(job.output), list(job.resume_args), job.resume_marker) if job.resume_marker else None
        reference = self.remote.options(**options).remote(
            job.name, job.script, arguments, references, [scratch_path(output) for output in job.outputs], env, paths, self.placement_queue.actor,
            self.versions, resume, self.commits if resume else None)
        step = RayStep(self, job, reference, log)
        if resume:
            self.running[job.name] = step
        return step

    def drain_commits(self) -> None:
        """Land the latest committed snapshot of each resumable step in flight (at most once a second), one step at a time."""
        if not self.running or time.perf_counter() - self.commits_drained_at < 1.0:
            return
        self.commits_drained_at = time.perf_counter()
        for _ in range(len(self.running)):
            try:
                taken = self.ray.get(self.commits.take.remote(sorted(self.running)), timeout=STORE_TIMEOUT)
            except self.ray.exceptions.RayError as error:  # the store is gone or stuck: the steps go on; a retry would start over
                if not self.store_lost:
                    self.store_lost = True
                    for step in self.running.values():
                        with step.log.open("a") as handle:
                            handle.write(f"the store of DAgger's commits failed ({type(error).__name__}); commits no longer land while this runs\n")
                return
            if taken is None:
                return
            name, contents = taken
            step = self.running.get(name)
            if step is None:
                continue
            try:
                land(step.job.output, contents)
            except OSError as error:  # e.g. a full disk: this commit is not kept here; the step and the others go on
                with step.log.open("a") as handle:
                    handle.write(f"a commit could not be put in place: {error}\n")

    def end(self, name: str) -> None:
        """The step has ended (or is stopped): land none of its snapshots any more, and free them."""
        if self.running.pop(name, None) is not None:
            try:
                self.commits.forget.remote(name)
            except Exception:  # Ray is shutting down; the store goes with it
                pass

    def drain_placements(self, now: bool = False) -> None:
        """Read the nodes the steps reported starting on, at most once a second unless `now` (each read calls an actor)."""
        if now or time.perf_counter() - self.drained_at > 1.0:
            for name, node in self.placement_queue.drain():
                self.placements.setdefault(name, []).append(node)
            self.drained_at = time.perf_counter()

    def close(self) -> None:
        """Disconnect; a private instance stops, a cluster joined with --address keeps running."""
        self.ray.shutdown()
        if self.reaper is not None:  # whatever of the private instance outlived its shutdown goes now
            self.reaper.stdin.close()
            try:
                self.reaper.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a process stuck in the kernel holds /proc up; the run's own work is done
                self.reaper.kill()


def scratch_path(path: Path) -> str:
    """Where a driver path lives in a step's scratch directory: relative paths as they are, absolute ones under _abs/."""
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    if path.is_relative_to(CHECKOUT):
        return path.relative_to(CHECKOUT).as_posix()
    return "_abs" + path.as_posix()


def land(output: Path, contents: dict[str, bytes]) -> None:
    """Put a step's returned files in place whole: written beside the output, then renamed into place.

    The old output is renamed aside before the new one is renamed in, so a kill between the two
    leaves no output (the step is redone), never a half-deleted one.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    replaced = f".{output.name}.replaced"
    for stale in output.parent.glob(f".{output.name}.landing-*"):  # left by a driver killed while landing
        restore(stale / replaced, output)
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.landing-", dir=output.parent))
    try:
        for relative, content in contents.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        source = staging / output.name
        if output.is_dir():
            os.replace(output, staging / replaced)
        os.replace(source, output)
    finally:
        restore(staging / replaced, output)  # interrupted between the two renames: the old output goes back
        shutil.rmtree(staging, ignore_errors=True)


def restore(replaced: Path, output: Path) -> None:
    """Put an output that was renamed aside back in place, unless a new one has taken its place."""
    if replaced.is_dir() and not output.exists():
        os.replace(replaced, output)


class CommitStore:
    """An actor holding the latest committed snapshot of each resumable step, sent by its worker."""

    def __init__(self) -> None:
        self.latest: dict[str, dict[str, bytes]] = {}
        self.fresh: set[str] = set()
        self.ended: set[str] = set()

    def put(self, name: str, contents: dict[str, bytes]) -> bool:
        """Keep the snapshot as the step's latest; True once kept (or dropped, for a step that has ended)."""
        if name not in self.ended:  # else a late attempt of a step that has ended: nobody will read it
            self.latest[name] = contents
            self.fresh.add(name)
        return True

    def get(self, name: str) -> dict[str, bytes] | None:
        return self.latest.get(name)

    def take(self, names: list[str]) -> tuple[str, dict[str, bytes]] | None:
        """One of `names` whose snapshot came since it was last taken, with that snapshot; None if there is none."""
        name = next((name for name in names if name in self.fresh), None)
        if name is None:
            return None
        self.fresh.discard(name)
        return name, self.latest[name]

    def forget(self, name: str) -> None:
        self.latest.pop(name, None)
        self.fresh.discard(name)
        self.ended.add(name)


class PlacementQueue:
    """Which node each step started on, reported by the task as it starts (for the progress line)."""

    def __init__(self) -> None:
        from ray.util.queue import Queue

        self.actor = Queue(actor_options={"num_cpus": 0})

    def drain(self) -> list[tuple[str, str]]:
        """Every (step, node) reported since the last drain."""
        try:
            size = self.actor.qsize()
            return self.actor.get_nowait_batch(size) if size else []
        except Exception:  # the queue's actor died: the progress line loses the nodes, the steps go on
            return []


def version_problem(requirements: Path, driver: dict[str, str] | None = None) -> str | None:
    """The first package whose installed version differs from requirements.txt's pin or from the driver's, or None."""
    for name, version in (driver or {}).items():
        if name == "python":
            continue
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            return f"{name} {installed} is installed, the driver has {version}"
    for name, pinned in pins_for_this_machine(requirements):
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return f"{name} is not installed (requirements.txt pins {pinned})"
        if installed != pinned:
            return f"{name} {installed} is installed, requirements.txt pins {pinned}"
    return None


def pins_for_this_machine(requirements: Path) -> list[tuple[str, str]]:
    """(name, version) of each `name==version` line of requirements.txt whose environment marker holds here.

    The markers choose tensorflow-cpu or tensorflow by platform; a line meant for another platform is no pin here.
    """
    pins = []
    for line in requirements.read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if not text or text.startswith("-"):  # a comment, or a pip option such as -r
            continue
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        exact = [specifier.version for specifier in requirement.specifier if specifier.operator == "=="]
        if exact:
            pins.append((requirement.name, exact[0]))
    return pins


def run_step(name: str, script: str, arguments: list[str], references: dict[str, object], outputs: list[str], env: dict[str, str],
             paths: dict[str, str], placements, driver_versions: dict[str, str], resume: tuple[str, list[str], str] | None = None,
             commits=None) -> dict:
    """On a worker: check the versions, lay out the inputs in a scratch directory, run the step there, return its output.

    `resume` is (output, resume arguments, commit record) for a resumable step: the step starts from
    the latest snapshot an earlier attempt sent to `commits`, and sends each commit of its own.
    """
    import ray

    node = ray.get_runtime_context().get_node_id()[:8] + "@" + socket.gethostname()
    try:
        placements.put((name, node))
    except Exception:  # the progress line is best-effort; the step is not
        pass
    code = Path.cwd()  # the runtime_env's copy of the checkout
    problem = version_problem(code / "requirements.txt", driver_versions)
    if problem:
        return {"node": node, "seconds": 0.0, "version_problem": problem}
    with tempfile.TemporaryDirectory(prefix="cs294-step-") as scratch:
        scratch = Path(scratch).resolve()  # one spelling of it, in the arguments and in the translated files alike
        for shipped in ("hw1", "experts"):
            (scratch / shipped).symlink_to(code / shipped)
        translation = {driver: str(scratch / relative) if relative != "." else str(scratch) for driver, relative in paths.items()}
        for relative, content in zip(references, ray.get(list(references.values()))):
            lay_out(scratch / relative, content, translation)
        words = [str(scratch / word) if word.startswith("_abs/") else word for word in arguments]
        back = {here: driver for driver, here in translation.items()} | {f"{scratch}/_abs": ""}
        watch, note = None, ""
        if resume:
            output, resume_args, marker = resume
            watch = Watch(name, scratch / output, marker, commits, back)
            earlier = store_call(commits.get, name)
            if earlier:  # an attempt before this one died after a commit: go on from there
                shutil.rmtree(scratch / output, ignore_errors=True)
                for relative, content in earlier.items():
                    lay_out((scratch / output).parent / relative, content, translation)
                words += [word for word in resume_args if word not in words]
                note = "this attempt goes on from the last commit of the attempt before it\n"
            if (scratch / output / marker).exists():  # the commit it starts from is the driver's already
                watch.sent = (scratch / output / marker).read_bytes()
        began = time.perf_counter()
        process_log = scratch / ".step.log"
        command = [sys.executable, str(scratch / "hw1" / script), *words]
        with process_log.open("wb") as handle:
            # Under the same guard as a local step: the step and all it started die with this worker process, kill -9 included,
            # on Linux and macOS alike (the guard watches its parent's pid; prctl is Linux's only). On Linux it is forked from
            # this worker's warm server, which imported the shipped code once (cs294.warm_start).
            if warm_start.available(command):
                server = warm_server(code, env)
                process = pipeline.WarmStep(server, server.start(command, process_log, {**os.environ, **env}, scratch))
            else:
                process = subprocess.Popen(pipeline.guarded(command), cwd=scratch, stdout=handle, stderr=subprocess.STDOUT,
                                           env={**os.environ, **env}, start_new_session=True)
            try:
                watch.follow(process) if watch else process.wait()
            finally:  # whatever went wrong here, the step must not run on without its scratch directory
                if process.poll() is None:
                    pipeline.signal_group(process, signal.SIGKILL)
                    process.wait()
        seconds = time.perf_counter() - began
        log = note + process_log.read_bytes().decode(errors="replace")
        ok = process.returncode == 0 and all((scratch / output).exists() for output in outputs)
        contents = [collect(scratch / output, back) for output in outputs] if ok else []
        log = translate(log.encode(), back).decode()
    return {"node": node, "seconds": seconds, "returncode": process.returncode, "log": log, "files": contents}


WARM_SERVERS: dict[Path, "warm_start.Pool"] = {}
"""This worker process's warm servers, per shipped checkout; each ends when the worker does (its stdin closes)."""


def warm_server(code: Path, env: dict[str, str]) -> "warm_start.Server":
    """The server that forks this worker's steps from the shipped checkout `code`, started on first use and again after an edit."""
    pool = WARM_SERVERS.setdefault(code, warm_start.Pool(code / "hw1" / "cs294"))
    return pool.server({**os.environ, **env})


def lay_out(target: Path, content: bytes, translation: dict[str, str]) -> None:
    """Write one input file into the scratch directory, with the scratch paths in text files."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(translate(content, translation) if target.suffix in TEXT_SUFFIXES else content)


def store_call(method, *arguments):
    """Call the store of commits from a worker: its answer, or None if it is gone or stuck (the step goes on; a retry would start over)."""
    import ray

    try:
        return ray.get(method.remote(*arguments), timeout=STORE_TIMEOUT)
    except ray.exceptions.RayError:
        return None


@dataclasses.dataclass
class Watch:
    """A resumable step's run directory, watched on its worker so that each commit goes to the driver once."""

    name: str
    output: Path
    marker: str
    commits: object
    back: dict[str, str]
    sent: bytes | None = None
    """The commit record last sent (or resumed from)."""

    def follow(self, process: subprocess.Popen) -> None:
        """Wait for the step to end, sending a snapshot each time a new commit has settled."""
        listing = None
        while True:
            try:
                process.wait(timeout=0.5)
                return
            except subprocess.TimeoutExpired:
                pass
            # A commit is followed by files derived from it: wait until the directory is still for one look.
            previous, listing = listing, quiet_listing(self.output)
            if listing is None or listing != previous:
                continue
            try:
                if (self.output / self.marker).read_bytes() == self.sent:  # no new commit: read nothing more
                    continue
            except OSError:
                continue
            snapshot = committed_snapshot(self.output, self.marker, self.back)
            if snapshot is not None and store_call(self.commits.put, self.name, snapshot[1]):  # else sent again at the next look
                self.sent = snapshot[0]


def quiet_listing(output: Path) -> tuple | None:
    """(name, size, mtime) of every file under the output, to tell whether anything changed between two looks."""
    try:
        return tuple((str(path), path.stat().st_size, path.stat().st_mtime_ns) for path in pipeline.files_of(output))
    except OSError:  # a file went away while we looked
        return None


def committed_snapshot(output: Path, marker: str, back: dict[str, str]) -> tuple[bytes, dict[str, bytes]] | None:
    """(the commit record, the output directory's files) as of its last commit; None if something changed under the reading.

    Each file is written whole and renamed into place, so each read is whole; reading the commit
    record first and last makes sure the files belong to one commit. What an unfinished
    iteration added beyond it (episodes) is rolled back by the resume itself.
    """
    try:
        record = (output / marker).read_bytes()
        contents = collect(output, back, skip_temporaries=True)
        unchanged = (output / marker).read_bytes() == record
    except OSError:  # the record is not there yet, or a file went away between the listing and the reading
        return None
    return (record, contents) if unchanged else None


def collect(output: Path, back: dict[str, str], skip_temporaries: bool = False) -> dict[str, bytes]:
    """The output's files keyed by their path relative to the output's parent, with the driver's paths in text files."""
    paths = [path for path in pipeline.files_of(output) if not (skip_temporaries and TEMPORARY.match(path.name))]
    return {path.relative_to(output.parent).as_posix(): translate(path.read_bytes(), back) if path.suffix in TEXT_SUFFIXES else path.read_bytes()
            for path in paths}


def translate(content: bytes, paths: dict[str, str]) -> bytes:
    """Replace each whole path by its counterpart in one pass, the longest first; /a/b does not match inside /a/bc."""
    if not paths:
        return content
    keys = sorted(paths, key=len, reverse=True)
    pattern = re.compile(b"(" + b"|".join(re.escape(key.encode()) for key in keys) + rb")(?=[/\"'`|,;:)\]}\s]|$)")
    return pattern.sub(lambda match: paths[match.group(0).decode()].encode(), content)
