"""reproduce.py --backend ray: a real two-node Ray cluster on this machine gives the local backend's numbers, and a killed worker's or driver's step goes on from its last commit."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import reproduce
from conftest import REPO_ROOT
from test_reproduce import TINY_STEPS
from cs294 import cluster

pytestmark = pytest.mark.slow


def numbers(payload, path: str = ""):
    """Every number in a JSON document, by its path, times aside."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            yield from numbers(value, f"{path}/{key}")
    elif isinstance(payload, list):
        for index, value in enumerate(payload):
            yield from numbers(value, f"{path}/{index}")
    elif isinstance(payload, (int, float)) and not isinstance(payload, bool):
        if not any(word in path.lower() for word in ("second", "time", "utc")):
            yield path, payload


def result_numbers(root: Path) -> dict[str, dict]:
    """The numbers of every JSON file a step wrote under root (the runner's own records and the speed benchmark's rates aside)."""
    found = {path.relative_to(root).as_posix(): dict(numbers(json.loads(path.read_text())))
             for path in root.rglob("*.json") if "reproduce" not in path.relative_to(root).parts and path.name != "benchmark.json"}
    assert found and all(found.values())
    return found


def tiny(tmp_path: Path, *extra: str) -> list[str]:
    return ["--profile", "tiny", "--root", str(tmp_path / "results"), "--data_dir", str(tmp_path / "data"), *extra]


@pytest.fixture(scope="module")
def local_numbers(tiny_reproduction) -> dict[str, dict]:
    """The numbers of the tiny profile on the local backend, two steps at a time."""
    return result_numbers(tiny_reproduction[0] / "results")


def test_two_node_cluster_gives_the_local_numbers_with_a_step_forced_onto_the_second_node(tmp_path, local_numbers):
    from ray.cluster_utils import Cluster

    head = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        second = head.add_node(num_cpus=1, resources={"second_node": 1})
        head.wait_for_nodes()
        args = reproduce.build_parser().parse_args(tiny(tmp_path, "--backend", "ray", "--address", head.address, "--place", "bc/=second_node"))
        outcome = reproduce.main(args)
    finally:
        head.shutdown()
    assert len(outcome["ran"]) == len(TINY_STEPS) and not outcome["cached"]
    stamps = {path.stem: json.loads(path.read_text()) for path in (tmp_path / "results" / "reproduce" / "jobs").glob("*.json")}
    assert stamps["bc__Hopper-v1__seed0"]["node"].startswith(second.node_id[:8])  # --place put it there
    assert {stamp["node"] for stamp in stamps.values()} - {stamps["bc__Hopper-v1__seed0"]["node"]}  # the others ran on the head
    assert result_numbers(tmp_path / "results") == local_numbers
    metrics = (tmp_path / "results" / "Hopper-v1" / "bc" / "seed0" / "metrics.json").read_text()
    assert "cs294-step-" not in metrics and str(tmp_path / "data") in metrics  # the driver's paths, not the worker's scratch


def live_processes() -> dict[int, tuple[int, list[str]]]:
    """Every live process on this machine, read from /proc: pid -> (parent pid, command line); zombies count as gone."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            words = [word for word in (entry / "cmdline").read_bytes().decode(errors="replace").split("\0") if word]
        except OSError:  # it ended while we looked
            continue
        state, parent = stat[stat.rindex(")") + 2:].split()[:2]
        if state != "Z":
            found[int(entry.name)] = (int(parent), words)
    return found


def step_processes(script: str, directory: Path) -> list[tuple[int, int]]:
    """(guard pid, Ray worker pid) of this test's running steps of `script` started by a Ray worker, from a cs294-step- scratch directory.

    A fresh step's guard is step_guard.py, a child of the worker, with the step's command line. On Linux the guard is forked
    from the worker's warm server (cs294.warm_start), the worker's child, and has the server's command line: there the step
    is told by its scratch directory, which holds this test's run directory of the script's method (e.g. .../dagger/seed0).
    """
    table, found = live_processes(), []
    for pid, (parent, words) in table.items():
        if (any(word.endswith("step_guard.py") for word in words) and any(word.endswith(f"hw1/{script}") and "cs294-step-" in word for word in words)
                and any(str(directory) in word for word in words)):
            found.append((pid, parent))
        elif is_warm_guard(pid, parent, table) and list((working_directory(pid) / "_abs" / str(directory).lstrip("/")).rglob(Path(script).stem)):
            found.append((pid, table[parent][0]))
    return found


def working_directory(pid: int) -> Path:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return Path("/nonexistent")


def is_warm_guard(pid: int, parent: int, table: dict) -> bool:
    """A process forked from a warm server into a step's scratch directory by the server itself (the step is the guard's child)."""
    server = any("warm_start.serve()" in word for word in table.get(parent, (0, []))[1])
    return (server and any("warm_start.serve()" in word for word in table[pid][1]) and "cs294-step-" in str(working_directory(pid))
            and "cs294-step-" not in str(working_directory(parent)))


def descendants(pid: int) -> set[int]:
    """The live processes below `pid`, children's children included."""
    table, found, frontier = live_processes(), set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def tiny_dagger_on_ray(tmp_path: Path, pause_at: str | None) -> tuple[list[str], dict[str, str]]:
    """The command and environment of a tiny DAgger run on a private Ray instance whose step stops for good at `pause_at`."""
    command = [sys.executable, str(REPO_ROOT / "hw1" / "reproduce.py"), *tiny(tmp_path, "--backend", "ray", "--only", "dagger/")]
    pause = {"CS294_PAUSE_AT": pause_at, "CS294_PAUSED_FILE": str(tmp_path / "paused")} if pause_at else {}
    return command, {key: value for key, value in os.environ.items() if not key.startswith("CS294_PAUSE")} | pause


def paused_once_a_commit_landed(tmp_path: Path, pause_at: str) -> tuple[subprocess.Popen, Path]:
    """Start the tiny DAgger run paused at `pause_at`; return once it is paused there and a commit has landed on the driver's disk."""
    command, env = tiny_dagger_on_ray(tmp_path, pause_at)
    driver = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    run_dir = tmp_path / "results" / "Hopper-v1" / "dagger" / "seed0"

    def landed() -> bool:
        return (tmp_path / "paused").exists() and (run_dir / "state.json").exists() and not list(run_dir.parent.glob(".*landing-*"))

    try:
        deadline = time.time() + 180
        while not landed() and time.time() < deadline and driver.poll() is None:
            time.sleep(0.2)
        assert landed(), driver.communicate()[0] if driver.poll() is not None else "no commit landed"
    except BaseException:  # the paused step would wait for good: take the driver and its private Ray instance down
        if driver.poll() is None:
            driver.kill()
            driver.wait()
        raise
    return driver, run_dir


def landed_commit(run_dir: Path) -> int:
    """The iteration a landed snapshot commits, after checking that it is whole and that nothing in it says the run is finished."""
    state = json.loads((run_dir / "state.json").read_text())
    assert (run_dir / state["checkpoint"]).exists() and (run_dir / "aggregated.h5").exists()
    if (run_dir / "metrics.json").exists():  # published after the commit; a snapshot may come before that
        assert json.loads((run_dir / "metrics.json").read_text())["complete"] is False
    assert not list(run_dir.rglob(".*tmp-*")) and not list(run_dir.parent.glob(".*landing-*"))
    stamp = json.loads((run_dir.parents[3] / "results" / "reproduce" / "jobs" / "dagger__Hopper-v1__seed0.json").read_text())
    assert stamp["status"] == "running"  # and the runner does not count the step done
    return state["completed_iterations"]


def test_a_worker_killed_after_a_commit_is_retried_from_that_commit(tmp_path, local_numbers):
    # Paused just after iteration 0's commit: a retry that started over would stop there again for good.
    driver, run_dir = paused_once_a_commit_landed(tmp_path, "dagger:after_commit:0")
    try:
        steps = step_processes("dagger.py", tmp_path)
        assert len(steps) == 1
        assert len(descendants(steps[0][0])) >= 1  # the step itself runs under its guard
        assert steps[0][0] in descendants(steps[0][1])  # and the guard under the worker killed below
        assert landed_commit(run_dir) == 0  # the commit is on the driver's disk while the step runs on, as a local run's would be
        os.kill(steps[0][1], signal.SIGKILL)  # the Ray worker that runs the step
        output, _ = driver.communicate(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, output
    log = (tmp_path / "results" / "reproduce" / "logs" / "dagger__Hopper-v1__seed0.log").read_text()
    assert "2 attempts: a worker died" in log
    assert "goes on from the last commit" in log and "after iteration 0" in log  # resumed from the snapshot, not from the beginning
    killed_and_retried = result_numbers(tmp_path / "results")
    assert killed_and_retried == {name: numbers for name, numbers in local_numbers.items() if name in killed_and_retried}
    assert "Hopper-v1/dagger/seed0/metrics.json" in killed_and_retried
    assert not list(run_dir.parent.glob(".*landing-*"))


def test_a_driver_killed_mid_iteration_leaves_no_ray_behind_and_a_rerun_resumes_from_the_landed_commit(tmp_path, local_numbers):
    # Paused inside iteration 1, its episodes aggregated and its checkpoint written but not committed.
    driver, run_dir = paused_once_a_commit_landed(tmp_path, "dagger:before_commit:1")
    try:
        private_instance = descendants(driver.pid)  # Ray's head services, its workers, the step
        assert private_instance
        os.kill(driver.pid, signal.SIGKILL)  # mid-step: the private Ray instance was the driver's to shut down
        driver.wait()
    finally:
        if driver.poll() is None:
            driver.kill()
    # Ray's head services die with the driver at once. Its two agents would spend 60 s telling the dead GCS that their raylet
    # died; the reaper that cluster.connect starts beside a private instance kills them when the driver's pipe closes (0.6 s
    # here, against 62 s without it), so 30 s is a wide margin that still tells the two apart.
    killed, deadline = time.time(), time.time() + 30
    while (alive := private_instance & set(live_processes())) and time.time() < deadline:
        time.sleep(0.5)
    assert not alive, [" ".join(live_processes().get(pid, (0, []))[1][:3]) for pid in alive]
    print(f"the private Ray instance was gone {time.time() - killed:.0f} s after the driver's kill -9")
    assert landed_commit(run_dir) == 0  # iteration 0, whole; nothing of iteration 1 counts

    command, env = tiny_dagger_on_ray(tmp_path, None)
    rerun = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "cached  data/Hopper-v1" in rerun.stdout or "1 cached" in rerun.stdout, rerun.stdout  # the data step finished before the kill
    assert "start   dagger/Hopper-v1/seed0 (resuming)" in rerun.stdout, rerun.stdout
    log = (tmp_path / "results" / "reproduce" / "logs" / "dagger__Hopper-v1__seed0.log").read_text()
    assert "after iteration 0" in log, log
    resumed = result_numbers(tmp_path / "results")
    assert resumed == {name: numbers for name, numbers in local_numbers.items() if name in resumed}
    assert "Hopper-v1/dagger/seed0/metrics.json" in resumed


def test_an_unreachable_address_is_refused_in_one_line(tmp_path):
    completed = subprocess.run([sys.executable, str(REPO_ROOT / "hw1" / "reproduce.py"), *tiny(tmp_path, "--backend", "ray", "--address", "127.0.0.1:9")],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode != 0 and "Traceback" not in completed.stderr
    assert "no Ray cluster answers there" in completed.stderr.strip() and len(completed.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "results" / "reproduce" / "jobs").exists()  # the cache is untouched


def test_a_package_that_differs_from_the_pins_is_named(tmp_path):
    pins = tmp_path / "requirements.txt"
    pins.write_text((REPO_ROOT / "requirements.txt").read_text())
    assert cluster.version_problem(pins) is None  # this machine has what requirements.txt pins
    pins.write_text("# a pin this machine does not have\nnumpy==1.0.0\n")
    assert cluster.version_problem(pins) == f"numpy {__import__('numpy').__version__} is installed, requirements.txt pins 1.0.0"


def test_the_local_path_never_imports_ray(tmp_path):
    code = ("import sys; sys.path.insert(0, 'hw1'); import reproduce; "
            f"reproduce.main(reproduce.build_parser().parse_args(['--dry_run', '--root', {str(tmp_path / 'r')!r}, '--data_dir', {str(tmp_path / 'd')!r}])); "
            "assert 'ray' not in sys.modules, 'ray was imported'")
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr


def test_paths_are_translated_whole_and_back():
    paths = {"/home/u/cs294": "/scratch", "/home/u/cs294_data/x.h5": "/scratch/_abs/home/u/cs294_data/x.h5"}
    text = b'{"data": "/home/u/cs294_data/x.h5", "code": "/home/u/cs294/hw1", "other": "/home/u/cs294_data/y.h5"}'
    there = cluster.translate(text, paths)
    assert there == b'{"data": "/scratch/_abs/home/u/cs294_data/x.h5", "code": "/scratch/hw1", "other": "/home/u/cs294_data/y.h5"}'
    assert cluster.translate(there, {value: key for key, value in paths.items()} | {"/scratch/_abs": ""}) == text


def test_a_resource_no_node_has_is_refused_in_one_line(tmp_path):
    completed = subprocess.run([sys.executable, str(REPO_ROOT / "hw1" / "reproduce.py"),
                                *tiny(tmp_path, "--backend", "ray", "--place", "bc/=no_such_resource")], capture_output=True, text=True, timeout=120)
    assert completed.returncode != 0 and "Traceback" not in completed.stderr
    assert "no node of the cluster declares the resource no_such_resource" in completed.stderr and len(completed.stderr.strip().splitlines()) == 1
