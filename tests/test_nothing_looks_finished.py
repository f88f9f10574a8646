"""Issue 25: nothing wrong may look finished. Diverged runs, bad experts, stray runs and dead addresses end in one line.

Most checks run a script's main in this process through its own entry point (cli.run), as `python hw1/<script>` does:
what they check does not need a fresh interpreter, which only added its start-up (TensorFlow's import, 5-10 s each). A
fresh process stays where the check is about one: Ctrl-C reaching a running bc.py, a runner that must not hang (only a
child can be stopped if it does), and a full disk met mid-run (a run that fails there in this process could keep files
open on the mount the test must unmount). A lock held by another process is held by a small child without TensorFlow.
"""

import importlib
import json
import pickle
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from conftest import EXPERTS_DIR, REPO_ROOT, run_script
from cs294 import cli, locks


@pytest.fixture
def run_main(capsys, monkeypatch):
    """run_main(script, *args, cwd=REPO_ROOT) -> what run_script gives (exit code, stdout, stderr), run in this process.

    The script's main runs through cli.run from `cwd` (this test's working directory is restored afterwards, as reproduce.py
    and sweep.py change it), with warnings ignored (run_script sets PYTHONWARNINGS=ignore), and the run-directory locks it
    took are given up after, as the end of its process would.
    """

    def run(script: str, *args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
        module = importlib.import_module(script.removesuffix(".py"))
        monkeypatch.chdir(cwd)
        held = set(locks._HELD)
        capsys.readouterr()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                code = cli.run(module.main, module.build_parser(), list(args))
        except SystemExit as exit_:  # argparse's own refusals exit as the interpreter would
            code = exit_.code
        finally:
            for path in set(locks._HELD) - held:
                locks.release(path)
        captured = capsys.readouterr()
        return subprocess.CompletedProcess([script, *args], code, captured.out, captured.err)

    return run


def one_line_error(result, *fragments: str) -> str:
    """The one stderr line of a refused run (exit 2), checked to name each fragment."""
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]  # progress bars go to stderr too
    errors = [line for line in lines if ": error: " in line]
    assert errors == lines[-1:] and "Traceback" not in result.stderr, result.stderr[-2000:]
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def huge_expert_dir(tmp_path_factory) -> Path:
    """Hopper's expert with finite but huge output weights (1e38): its actions overflow to infinity in float32."""
    with open(EXPERTS_DIR / "Hopper-v1.pkl", "rb") as handle:
        raw = pickle.load(handle)  # the committed, trusted file
    out = raw["GaussianPolicy"]["out"]["AffineLayer"]
    out["W"] = np.full_like(out["W"], 1e38)
    directory = tmp_path_factory.mktemp("experts")
    with open(directory / "Hopper-v1.pkl", "wb") as handle:
        pickle.dump(raw, handle)
    return directory


# One batch of all the data, no validation, one epoch: the recorded loss is the one before the update, so it is
# finite, while the single Adam step of size 1e30 leaves finite weights whose outputs overflow.
DIVERGING = ("--epochs", "1", "--batch_size", "100000", "--validation_fraction", "0", "--learning_rate", "1e30")


def test_bc_whose_policy_gives_infinite_actions_writes_no_result(run_main, hopper_data, tmp_path):
    run_dir = tmp_path / "bc"
    result = run_main("bc.py", "Hopper-v1", "--data", str(hopper_data), *DIVERGING, "--eval_episodes", "2", "--run_dir", str(run_dir))
    one_line_error(result, "NaN or infinite", "epoch 1", "--learning_rate")
    assert not (run_dir / "metrics.json").exists() and not (run_dir / "policy.keras").exists()


def test_dagger_whose_policy_diverges_commits_nothing(run_main, hopper_data, tmp_path):
    run_dir = tmp_path / "dagger"
    result = run_main("dagger.py", "Hopper-v1", "--data", str(hopper_data), *DIVERGING, "--iterations", "1", "--eval_episodes", "2",
                      "--rollouts_per_iter", "1", "--run_dir", str(run_dir))
    one_line_error(result, "NaN or infinite", "iteration 0", "--learning_rate")
    assert not (run_dir / "state.json").exists() and not (run_dir / "metrics.json").exists()


def test_dagger_with_an_expert_whose_actions_overflow_is_refused(run_main, hopper_data, huge_expert_dir, tmp_path):
    run_dir = tmp_path / "dagger"
    result = run_main("dagger.py", "Hopper-v1", "--data", str(hopper_data), "--expert", str(huge_expert_dir / "Hopper-v1.pkl"),
                      "--epochs", "1", "--iterations", "1", "--eval_episodes", "2", "--rollouts_per_iter", "1", "--run_dir", str(run_dir))
    one_line_error(result, "the expert", "NaN or infinite", "iteration 0", "experts/")
    metrics = run_dir / "metrics.json"
    assert not metrics.exists() or json.loads(metrics.read_text()).get("complete") is not True


def test_run_expert_with_a_policy_whose_actions_overflow_writes_no_file(run_main, huge_expert_dir, tmp_path):
    output = tmp_path / "rollouts.h5"
    result = run_main("run_expert.py", str(huge_expert_dir / "Hopper-v1.pkl"), "Hopper-v1", "--num_rollouts", "2", "--output", str(output))
    one_line_error(result, "Hopper-v1.pkl gave a NaN or infinite action", "nothing was written")
    assert not output.exists() and "mean return" not in result.stdout  # it wrote a file its own readers refused, and exited 0


def test_the_expert_check_refuses_an_expert_whose_return_is_not_finite(run_main, huge_expert_dir):
    result = run_main("check_experts.py", "--tasks", "Hopper-v1", "--episodes", "2", "--experts_dir", str(huge_expert_dir))
    one_line_error(result, "Hopper-v1.pkl", "NaN or infinite", "git checkout -- experts/")


def test_bc_without_run_dir_writes_where_no_profile_reads(run_main, hopper_data, tmp_path):
    result = run_main("bc.py", "Hopper-v1", "--data", str(hopper_data), "--epochs", "1", "--eval_episodes", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert [path.name[:6] for path in (tmp_path / "runs" / "Hopper-v1" / "bc").glob("*/metrics.json") for path in [path.parent]] == ["seed0_"]
    assert not (tmp_path / "results").exists()


def headline_row(root: Path, task: str = "Hopper-v1") -> str:
    """The task's row of the report's headline table."""
    return next(line for line in (root / "REPORT.md").read_text().splitlines() if line.startswith(f"| {task} |"))


def test_the_report_counts_only_its_own_finished_steps(run_main, hopper_data, tmp_path):
    root, data_dir = tmp_path / "results", tmp_path / "data"
    reproduce = ("--profile", "tiny", "--root", str(root), "--data_dir", str(data_dir), "--only", "bc/", "--jobs", "1")
    first = run_main("reproduce.py", *reproduce)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    row = headline_row(root)
    assert "(n = 1)" in row, row
    # --only ran part of the profile: the report names the steps it left out and shows no section of a step not finished now.
    report = (root / "REPORT.md").read_text()
    assert "steps of this profile are not finished" in report and "dagger/Hopper-v1/seed0" in report
    assert "*Left out: `hopper_architectures.md`" in report and "Left out: `benchmark.md`" in report
    # What it tells to run keeps this invocation's --root and --data_dir, and drops --only: it finishes every step.
    assert f"`python hw1/reproduce.py --profile tiny --root {root} --data_dir {data_dir}` finishes them" in report

    # A run made by hand under the profile's root, as in the issue (there with another learning rate): here a real
    # bc.py run directory of the same kind, so on the old code the cell read "… ± 0.0" over two runs.
    shutil.copytree(root / "Hopper-v1" / "bc" / "seed0", root / "Hopper-v1" / "bc" / "seed0_20261203-190000")
    again = run_main("reproduce.py", *reproduce)
    assert again.returncode == 0 and "0 steps ran" in again.stdout, again.stdout[-3000:]
    assert headline_row(root) == row

    # A changed input makes the BC step stale: --report_only leaves its run out and says so, instead of its old number.
    data_file = next(data_dir.glob("Hopper-v1_*_rollouts.h5"))
    data_file.write_bytes(hopper_data.read_bytes())
    stale = run_main("reproduce.py", *reproduce, "--report_only")
    assert stale.returncode == 0, stale.stdout[-3000:] + stale.stderr[-2000:]
    report = (root / "REPORT.md").read_text()
    assert "bc/Hopper-v1/seed0" in report and "left out" in report
    assert headline_row(root).split(" | ")[2] == "–", headline_row(root)


@pytest.fixture
def silent_port():
    """A port on this machine that accepts TCP connections and never says a word, as in the issue."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []
    thread = threading.Thread(target=lambda: [accepted.append(server.accept()) for _ in iter(int, 1)], daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()


def tiny_ray(tmp_path: Path, *extra: str) -> tuple[str, ...]:
    return ("--profile", "tiny", "--root", str(tmp_path / "results"), "--data_dir", str(tmp_path / "data"), "--backend", "ray", *extra)


def test_an_address_that_answers_tcp_but_not_ray_is_given_up_on_in_bounded_time(silent_port, tmp_path):
    # A fresh process: what is checked is that the runner does not hang, and only a child can be stopped if it does.
    address = f"127.0.0.1:{silent_port}"
    started = time.monotonic()
    result = run_script("reproduce.py", *tiny_ray(tmp_path, "--address", address, "--address_timeout", "3"), timeout=120)
    one_line_error(result, f"--address {address}", "within 3 s", "--address_timeout")
    assert time.monotonic() - started < 60


def test_address_flags_are_checked_before_any_work(run_main, tmp_path):
    dry = run_main("reproduce.py", *tiny_ray(tmp_path, "--address", "foo", "--dry_run"))
    one_line_error(dry, "--address 'foo'", "HOST:PORT")
    local = run_main("sweep.py", "bc", "--tasks", "CartPole-v1", "--seeds", "0", "--root", str(tmp_path / "sweep"), "--address", "auto", "--dry_run")
    one_line_error(local, "--address auto needs --backend ray")


# Holds the lock of the directory in argv[1] until its stdin closes: another process, as a first runner is (a lock this
# process held would count as the runner's own). It imports no TensorFlow, so it starts in a moment.
HOLD_LOCK = ("import sys; sys.path.insert(0, 'hw1'); from cs294 import locks; locks.acquire(sys.argv[1]); print('held', flush=True); "
             "sys.stdin.read()")


def test_a_second_runner_is_refused_before_it_joins_the_cluster(run_main, silent_port, tmp_path):
    state = tmp_path / "results" / "reproduce"
    state.mkdir(parents=True)
    first = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(state)], cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "held"
        result = run_main("reproduce.py", *tiny_ray(tmp_path, "--address", f"127.0.0.1:{silent_port}", "--address_timeout", "60"))
    finally:
        first.stdin.close()
        first.wait(timeout=60)
    one_line_error(result, "is in use by", f"pid {first.pid}")


def test_bco_whose_policy_diverges_writes_no_result(run_main, cartpole_demos, tmp_path):
    run_dir = tmp_path / "bco"
    result = run_main("bco.py", "CartPole-v1", "--demos", str(cartpole_demos), "--iterations", "0", *DIVERGING, "--ensemble", "1",
                      "--inverse_ensemble", "1", "--inverse_epochs", "1", "--eval_episodes", "2", "--run_dir", str(run_dir))
    # BCO's fits hold out data, so the training engine's check on the loss speaks first; the evaluation's check backs it.
    one_line_error(result, "epoch 1", "--learning_rate")
    assert not (run_dir / "metrics.json").exists() and not (run_dir / "policy.keras").exists()


def test_dagger_resume_checks_the_expert_and_num_envs_and_records_extended_iterations(run_main, hopper_data, tmp_path):
    run_dir = tmp_path / "dagger"
    flags = ("Hopper-v1", "--data", str(hopper_data), "--epochs", "1", "--retrain_epochs", "1", "--rollouts_per_iter", "1",
             "--eval_episodes", "1", "--run_dir", str(run_dir))
    first = run_main("dagger.py", *flags, "--iterations", "1", "--num_envs", "4")
    assert first.returncode == 0, first.stderr[-2000:]
    config = json.loads((run_dir / "metrics.json").read_text())["config"]
    assert config["num_envs"] == 4 and len(config["expert_sha256"]) == 64 and config["expert"] == "experts/Hopper-v1.pkl"

    with open(EXPERTS_DIR / "Hopper-v1.pkl", "rb") as handle:
        raw = pickle.load(handle)  # the committed, trusted file, with one weight nudged: another expert of the same shapes
    raw["GaussianPolicy"]["out"]["AffineLayer"]["b"] = raw["GaussianPolicy"]["out"]["AffineLayer"]["b"] + 0.01
    other = tmp_path / "other_expert.pkl"
    other.write_bytes(pickle.dumps(raw))
    refused = run_main("dagger.py", *flags, "--iterations", "1", "--num_envs", "4", "--resume", "--expert", str(other))
    one_line_error(refused, "--resume of", "other_expert.pkl", "resume with the run's own --expert")
    envs = run_main("dagger.py", *flags, "--iterations", "1", "--num_envs", "2", "--resume")
    one_line_error(envs, "num_envs was 4, now 2")

    # The same expert spelled out in full is the run's own; --iterations may grow, and the record follows.
    extended = run_main("dagger.py", *flags, "--iterations", "2", "--num_envs", "4", "--resume", "--expert", str(EXPERTS_DIR / "Hopper-v1.pkl"))
    assert extended.returncode == 0, extended.stderr[-2000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["config"]["iterations"] == 2 and [row["iteration"] for row in metrics["iterations"]] == [0, 1, 2] and metrics["complete"]


def test_workers_without_a_dry_run_is_refused_before_any_work(run_main, tmp_path):
    result = run_main("reproduce.py", "--profile", "tiny", "--root", str(tmp_path / "results"), "--data_dir", str(tmp_path / "data"),
                      "--workers", "4")
    one_line_error(result, "--workers 4 only predicts times with --dry_run", "--jobs N")
    assert not (tmp_path / "results").exists()


def test_a_damaged_entry_of_the_invocation_log_is_dropped(run_main, tmp_path):
    root = tmp_path / "results"
    reproduce = ("--profile", "tiny", "--root", str(root), "--data_dir", str(tmp_path / "data"), "--only", "data/Hopper-v1", "--jobs", "1")
    first = run_main("reproduce.py", *reproduce)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    # The run covered one step; recorded as a clean start of the whole plan, so that the damaged entries compete with it.
    planned = int(re.search(r"^(\d+) steps, ", run_main("reproduce.py", *reproduce[:6], "--dry_run").stdout, re.MULTILINE).group(1))
    log = root / "reproduce" / "invocations.json"
    history = [{**entry, "ran": planned, "cached": 0} for entry in json.loads(log.read_text())]
    clean = history[-1]
    history += [{**clean, "started_utc": "yesterday"}, {**clean, "started_utc": "2026-12-03T10:00:00", "finished_utc": "2026-12-03T11:00:00"}]
    log.write_text(json.dumps(history))
    for extra in (("--report_only",), ()):
        result = run_main("reproduce.py", *reproduce, *extra)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout[-2000:] + result.stderr[-3000:]
    assert f"started {history[0]['started_utc'][:19]}" in (root / "REPORT.md").read_text()  # the damaged entries are not the latest clean run


def test_a_rollout_file_with_a_link_to_another_file_is_refused(run_main, hopper_data, tmp_path):
    import h5py

    other, linked = tmp_path / "other.h5", tmp_path / "linked.h5"
    other.write_bytes(hopper_data.read_bytes())
    linked.write_bytes(hopper_data.read_bytes())
    with h5py.File(linked, "a") as file:  # episode 0 now lives in another (real, valid) rollout file
        del file["episode_000000"]
        file["episode_000000"] = h5py.ExternalLink(str(other), "/episode_000000")
    result = run_main("show_data.py", str(linked))
    one_line_error(result, "linked.h5 is damaged", "episode_000000 links to /episode_000000 in another file", "other.h5")


def sweep_settings(*words: str):
    """sweep.py's plan of a command line, as its main makes it: the Sweep and its steps (nothing runs)."""
    import sweep
    from cs294 import sweeps

    args = sweep.build_parser().parse_args(list(words))
    plan = sweep.settings(args)
    return plan, sweeps.jobs(plan, args.root, args.data_dir)


def test_sweep_grid_values_never_make_a_directory_outside_the_root(tmp_path):
    root = tmp_path / "sweep"
    plan, steps = sweep_settings("dagger", "--tasks", "Hopper-v1", "--seeds", "0", "--root", str(root),
                                 "--grid", "expert=../../../../elsewhere/x.pkl;experts/Hopper-v1.pkl;./experts/Hopper-v1.pkl")
    outputs = [step.output for step in steps if step.script == "dagger.py"]
    assert len(set(outputs)) == 3
    for output in outputs:
        assert output.resolve().is_relative_to(root.resolve()) and output.parent.parent.parent == root / "Hopper-v1", output
    from cs294 import sweeps
    from cs294.errors import UserError

    with pytest.raises(UserError, match="would share the directory"):
        sweeps.check_cells(sweeps.Sweep(script="bc", tasks=("Hopper-v1",), seeds=(0,), grid={"hidden": ("64,64", "64-64")}))


def test_a_sweep_naming_a_missing_file_is_refused_before_anything_runs(run_main, tmp_path):
    result = run_main("sweep.py", "dagger", "--tasks", "Hopper-v1", "--seeds", "0", "--root", str(tmp_path / "sweep"),
                      "--grid", "expert=experts/Hopper-v1.pkl,experts/nowhere.pkl", "--dry_run")
    one_line_error(result, "--expert experts/nowhere.pkl: no such file")
    assert not (tmp_path / "sweep").exists()


@pytest.mark.parametrize("config, words, message", [
    ("rollouts = true", (), "rollouts must be a whole number"),
    ("rollouts = -3", (), "--rollouts must be at least 1"),
    ("rollouts = 0", (), "--rollouts must be at least 1"),
    ("", ("--rollouts", "-2"), "--rollouts must be at least 1"),
    ("tasks = []", (), "--tasks: give one or more tasks"),
    ("seeds = [true, false]", (), "seeds whole numbers"),
    ("seeds = [4294967296]", (), "from 0 to 4294967295"),
    ("", ("--grid", "learning_rate=0.1", "--grid", "learning_rate=0.2"), "--grid names learning_rate twice"),
    ("", ("--set", "epochs=1", "--set", "epochs=2"), "--set epochs is given twice"),
    ("", ("--grid", "epochs=" + ",".join(map(str, range(1, 102))), "--grid", "batch_size=" + ",".join(map(str, range(1, 102)))),
     "would plan 30,603 runs"),
])
def test_sweep_settings_are_refused_before_any_step_is_planned(tmp_path, config, words, message):
    import sweep
    from cs294.errors import UserError

    file = tmp_path / "sweep.toml"
    file.write_text('script = "bc"\n' + config + "\n")
    args = sweep.build_parser().parse_args(["--config", str(file), "--root", str(tmp_path / "sweep"), "--dry_run", *words])
    started = time.monotonic()
    with pytest.raises(UserError, match=message):
        sweep.main(args)
    assert time.monotonic() - started < 10


def test_sweep_config_that_is_a_directory_is_one_line(run_main, tmp_path):
    result = run_main("sweep.py", "--config", str(tmp_path), "--dry_run")
    one_line_error(result, "is a directory")


def test_an_expert_file_too_large_to_be_one_is_refused_before_it_is_read(run_main, tmp_path):
    huge = tmp_path / "Hopper-v1.pkl"
    huge.write_bytes((EXPERTS_DIR / "Hopper-v1.pkl").read_bytes())
    with open(huge, "r+b") as handle:
        handle.truncate(2 * 2**30)  # a valid expert followed by 2 GiB of (sparse) zeros, which the unpickler would never reach
    result = run_main("check_experts.py", "--tasks", "Hopper-v1", "--episodes", "1", "--experts_dir", str(tmp_path))
    one_line_error(result, "2,147,483,648 bytes", "not an expert file")


def test_integer_actions_on_a_continuous_task_are_refused(run_main, hopper_data, tmp_path):
    import h5py

    integers = tmp_path / "integers.h5"
    integers.write_bytes(hopper_data.read_bytes())
    with h5py.File(integers, "a") as file:
        for name in [name for name in file if name.startswith("episode_") and isinstance(file[name], h5py.Group)]:
            actions = np.rint(file[name]["actions"][()]).astype(np.int64)
            del file[name]["actions"]
            file[name]["actions"] = actions
    result = run_main("bc.py", "Hopper-v1", "--data", str(integers), "--epochs", "1", "--run_dir", str(tmp_path / "bc"))
    one_line_error(result, "holds actions of type int64", "continuous")
    assert not (tmp_path / "bc").exists()


def test_bc_interrupted_by_ctrl_c_is_refused_as_unfinished_and_never_offered_a_resume(run_main, hopper_data, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from conftest import REPO_ROOT, as_if_from_a_terminal

    run_dir = tmp_path / "bc"
    command = [sys.executable, str(REPO_ROOT / "hw1" / "bc.py"), "Hopper-v1", "--data", str(hopper_data), "--epochs", "100000", "--run_dir", str(run_dir)]
    # stderr goes to a file, not a pipe: the progress bar writes a line per epoch, and a pipe that nobody reads fills
    # (64 KB, about 500 epochs here) and blocks the run, and then its exit, which is a hang of the test and not of bc.py.
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=log, text=True, preexec_fn=as_if_from_a_terminal)
    deadline = time.monotonic() + 120
    while not list(run_dir.glob("events.out.tfevents.*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    time.sleep(1.0)  # into training
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130, stderr.read_text()[-2000:]
    assert not (run_dir / "metrics.json").exists()
    rerun = run_main("bc.py", "Hopper-v1", "--data", str(hopper_data), "--epochs", "1", "--eval_episodes", "1", "--run_dir", str(run_dir))
    line = one_line_error(rerun, "an unfinished (interrupted or failed) run", "--overwrite")
    assert "--resume" not in line
    assert list(run_dir.glob("events.out.tfevents.*"))  # refused: nothing of the old run was touched


@pytest.fixture
def mount(tmp_path):
    """mount(options) -> a fresh tmpfs folder mounted with those options (e.g. size=256k, or ro); skipped where mounting is not allowed."""
    import subprocess

    mounted = []

    def make(options: str) -> Path:
        point = tmp_path / f"mount{len(mounted)}"
        point.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True).returncode != 0:
            pytest.skip("mounting a tmpfs needs root and CAP_SYS_ADMIN")
        mounted.append(point)
        return point

    yield make
    for point in mounted:
        subprocess.run(["umount", str(point)], capture_output=True)


def test_a_full_disk_ends_dagger_in_one_line(hopper_data, mount, tmp_path):
    full = mount("size=256k")
    flags = ("Hopper-v1", "--data", str(hopper_data), "--epochs", "1", "--iterations", "2", "--retrain_epochs", "1", "--rollouts_per_iter", "1",
             "--eval_episodes", "1", "--run_dir", str(full / "dagger"))
    one_line_error(run_script("dagger.py", *flags), "the disk is full", "run the same command again with --resume")


def test_a_disk_that_fills_inside_the_hdf5_writer_ends_run_expert_in_one_line_and_leaves_no_file(mount):
    # At 200k the disk fills while the episodes are written, not before: HDF5 then used to leave its
    # objects half closed, and h5py crashed the process (signal 11) with the temporary file left behind.
    full = mount("size=200k")
    result = run_script("run_expert.py", str(EXPERTS_DIR / "Hopper-v1.pkl"), "Hopper-v1", "--num_rollouts", "3", "--output", str(full / "h.h5"))
    one_line_error(result, "the disk is full writing", "h.h5", "run the same command again")
    assert list(full.iterdir()) == []


def test_a_root_on_a_read_only_mount_is_refused_before_any_step(run_main, mount, tmp_path):
    read_only = mount("ro")
    result = run_main("reproduce.py", "--profile", "tiny", "--root", str(read_only / "results"), "--data_dir", str(tmp_path / "data"))
    one_line_error(result, "--root", "cannot be written")
    assert not (tmp_path / "data").exists()


def test_a_sweep_of_a_diverging_run_fails_and_writes_no_nan_row(run_main, tmp_path):
    root = tmp_path / "sweep"
    settings = [f"--set={flag.removeprefix('--')}={value}" for flag, value in zip(DIVERGING[::2], DIVERGING[1::2])]
    result = run_main("sweep.py", "bc", "--tasks", "Hopper-v1", "--seeds", "0", "--rollouts", "2", *settings, "--set", "eval_episodes=1",
                      "--root", str(root), "--data_dir", str(tmp_path / "data"))
    one_line_error(result, "1 runs failed")
    assert "nan" not in (root / "sweep.md").read_text()
