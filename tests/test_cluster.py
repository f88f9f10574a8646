"""reproduce.py --backend ray: a real two-node Ray cluster on this machine gives the local backend's numbers, and a killed worker's step is run again."""

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
    assert len(outcome["ran"]) == 19 and not outcome["cached"]
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
    """(pid, parent pid) of this test's running steps of `script` started by a Ray worker (run from a cs294-step- scratch directory, writing under `directory`)."""
    return [(pid, parent) for pid, (parent, words) in live_processes().items()
            if any(word.endswith(f"hw1/{script}") and "cs294-step-" in word for word in words) and any(str(directory) in word for word in words)]


def descendants(pid: int) -> set[int]:
    """The live processes below `pid`, children's children included."""
    table, found, frontier = live_processes(), set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def test_a_worker_killed_mid_step_is_retried_and_nothing_partial_lands(tmp_path, local_numbers):
    command = [sys.executable, str(REPO_ROOT / "hw1" / "reproduce.py"), *tiny(tmp_path, "--backend", "ray", "--only", "dagger/")]
    driver = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    run_dir = tmp_path / "results" / "Hopper-v1" / "dagger" / "seed0"
    try:
        deadline = time.time() + 180
        while not (steps := step_processes("dagger.py", tmp_path)) and time.time() < deadline and driver.poll() is None:
            time.sleep(0.2)
        assert steps, driver.communicate()[0] if driver.poll() is not None else "no dagger step started"
        time.sleep(1)  # mid-step: the tiny DAgger run takes several seconds
        os.kill(steps[0][1], signal.SIGKILL)  # the Ray worker that runs the step
        assert not run_dir.exists()  # nothing of the killed attempt lands
        output, _ = driver.communicate(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, output
    log = (tmp_path / "results" / "reproduce" / "logs" / "dagger__Hopper-v1__seed0.log").read_text()
    assert "2 attempts: a worker died" in log
    killed_and_retried = result_numbers(tmp_path / "results")
    assert killed_and_retried == {name: numbers for name, numbers in local_numbers.items() if name in killed_and_retried}
    assert "Hopper-v1/dagger/seed0/metrics.json" in killed_and_retried
    assert not list(run_dir.parent.glob(".*landing-*"))


def test_a_driver_killed_mid_step_leaves_no_ray_behind_and_a_rerun_finishes_from_the_cache(tmp_path, local_numbers):
    command = [sys.executable, str(REPO_ROOT / "hw1" / "reproduce.py"), *tiny(tmp_path, "--backend", "ray", "--only", "dagger/")]
    driver = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 180
        while not step_processes("dagger.py", tmp_path) and time.time() < deadline and driver.poll() is None:
            time.sleep(0.2)
        assert step_processes("dagger.py", tmp_path), "no dagger step started"
        private_instance = descendants(driver.pid)  # Ray's head services, its workers, the step
        assert private_instance
        os.kill(driver.pid, signal.SIGKILL)  # mid-step: the private Ray instance was the driver's to shut down
        driver.wait()
    finally:
        if driver.poll() is None:
            driver.kill()
    # Ray's head services die with the driver at once; its runtime-env agent notices a dead raylet by polling, later.
    killed, deadline = time.time(), time.time() + 180
    while (alive := private_instance & set(live_processes())) and time.time() < deadline:
        time.sleep(0.5)
    assert not alive, [" ".join(live_processes().get(pid, (0, []))[1][:3]) for pid in alive]
    print(f"the private Ray instance was gone {time.time() - killed:.0f} s after the driver's kill -9")
    run_dir = tmp_path / "results" / "Hopper-v1" / "dagger" / "seed0"
    assert not (run_dir / "metrics.json").exists()  # nothing of the killed step landed

    rerun = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "cached  data/Hopper-v1" in rerun.stdout or "1 cached" in rerun.stdout, rerun.stdout  # the data step finished before the kill
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
