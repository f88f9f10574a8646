"""reproduce.py: cache keys, a tiny end-to-end reproduction, resuming, and the videos it renders."""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import reproduce
import tables
from conftest import REPO_ROOT, run_script, tensorboard_tags, write_expert_rollouts
from cs294 import data, files, forecast, pipeline, plans, report, studies

EFFICIENCY_MARKS = report.EFFICIENCY_START, report.EFFICIENCY_END


def make_job(tmp_path: Path, args: list[str], inputs: tuple[Path, ...] = (), script: str = "bc.py") -> pipeline.Job:
    return pipeline.Job(name="bc/Hopper-v1/seed0", script=script, args=args, output=tmp_path / "run", stage="BC", inputs=inputs)


def test_cache_key_is_stable_and_follows_every_input(tmp_path, monkeypatch):
    data = tmp_path / "rollouts.h5"
    data.write_bytes(b"first version of the data")
    job = make_job(tmp_path, ["Hopper-v1", "--epochs", "5"], inputs=(data,))
    key = pipeline.cache_key(job, pipeline.Hasher())
    assert key == pipeline.cache_key(job, pipeline.Hasher()) == pipeline.cache_key(make_job(tmp_path, ["Hopper-v1", "--epochs", "5"], (data,)), pipeline.Hasher())

    assert pipeline.cache_key(make_job(tmp_path, ["Hopper-v1", "--epochs", "6"], (data,)), pipeline.Hasher()) != key  # an argument
    assert pipeline.cache_key(make_job(tmp_path, ["Hopper-v1", "--epochs", "5"], (data,), script="bco.py"), pipeline.Hasher()) != key
    data.write_bytes(b"second version of the data")  # the content of a file the step reads
    assert pipeline.cache_key(job, pipeline.Hasher()) != key
    data.write_bytes(b"first version of the data")
    assert pipeline.cache_key(job, pipeline.Hasher()) == key  # content, not the time stamp

    # The code the step runs: a copy of the checkout's code with one module edited at a time.
    hw1 = tmp_path / "hw1"
    shutil.copytree(REPO_ROOT / "hw1", hw1, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(pipeline, "HW1_DIR", hw1)
    monkeypatch.setattr(pipeline, "PACKAGE_DIR", hw1 / "cs294")
    assert pipeline.cache_key(job, pipeline.Hasher()) == key
    (hw1 / "cs294" / "video.py").write_text("# bc.py never imports the video module\n")
    assert pipeline.cache_key(job, pipeline.Hasher()) == key
    with open(hw1 / "cs294" / "training.py", "a") as module:  # bc.py imports it
        module.write("\n# an edit\n")
    assert pipeline.cache_key(job, pipeline.Hasher()) != key


def test_a_step_is_stamped_with_the_code_it_ran_when_the_code_changed_while_it_waited(tmp_path, monkeypatch):
    # One worker: `uses` is ready at once but waits while `edit` runs, and `edit` edits the module `uses` imports.
    hw1 = tmp_path / "hw1"
    shutil.copytree(REPO_ROOT / "hw1" / "cs294", hw1 / "cs294", ignore=shutil.ignore_patterns("__pycache__"))
    (hw1 / "cs294" / "waited_on.py").write_text("VALUE = 1\n")
    (hw1 / "edit.py").write_text("import pathlib, sys\npathlib.Path(sys.argv[1]).write_text('VALUE = 2\\n')\npathlib.Path(sys.argv[2]).write_text('edited')\n")
    (hw1 / "uses.py").write_text("import pathlib, sys\nfrom cs294 import waited_on\npathlib.Path(sys.argv[1]).write_text(str(waited_on.VALUE))\n")
    monkeypatch.setattr(pipeline, "HW1_DIR", hw1)
    monkeypatch.setattr(pipeline, "PACKAGE_DIR", hw1 / "cs294")
    monkeypatch.setenv("CS294_FRESH_STEPS", "1")  # plain processes: the copied package starts no warm server of its own
    edit = pipeline.Job(name="edit", script="edit.py", args=[str(hw1 / "cs294" / "waited_on.py"), str(tmp_path / "edited")],
                        output=tmp_path / "edited", stage="BC", cost=100)
    uses = pipeline.Job(name="uses", script="uses.py", args=[str(tmp_path / "used")], output=tmp_path / "used", stage="BC", cost=1)
    state = tmp_path / "state"
    pipeline.Runner([edit, uses], state, pipeline.LocalBackend(1), echo=lambda line: None).run()
    assert (tmp_path / "used").read_text() == "2"  # it ran the edited module
    stamp = json.loads(pipeline.stamp_path(state, uses).read_text())
    assert stamp["status"] == "done" and stamp["key"] == pipeline.cache_key(uses, pipeline.Hasher())  # and its stamp says so
    (hw1 / "cs294" / "waited_on.py").write_text("VALUE = 1\n")  # so the code it never ran does not find it done
    assert not pipeline.is_done(uses, pipeline.cache_key(uses, pipeline.Hasher()), state, pipeline.Hasher())


def test_a_step_whose_output_is_a_symlink_clears_the_target_and_keeps_the_link(tmp_path, monkeypatch):
    hw1 = tmp_path / "hw1"
    shutil.copytree(REPO_ROOT / "hw1" / "cs294", hw1 / "cs294", ignore=shutil.ignore_patterns("__pycache__"))
    (hw1 / "write.py").write_text("import pathlib, sys\nout = pathlib.Path(sys.argv[1])\nout.mkdir(exist_ok=True)\n(out / 'new').write_text('new')\n")
    monkeypatch.setattr(pipeline, "HW1_DIR", hw1)
    monkeypatch.setattr(pipeline, "PACKAGE_DIR", hw1 / "cs294")
    monkeypatch.setenv("CS294_FRESH_STEPS", "1")
    target, link = tmp_path / "elsewhere", tmp_path / "run"
    target.mkdir()
    (target / "stale").write_text("from an earlier run")
    link.symlink_to(target)
    job = pipeline.Job(name="write", script="write.py", args=[str(link)], output=link, stage="BC")
    pipeline.Runner([job], tmp_path / "state", pipeline.LocalBackend(1), echo=lambda line: None).run()  # rmtree refused the link: a traceback
    assert link.is_symlink() and sorted(path.name for path in target.iterdir()) == ["new"]


def test_chain_costs_start_the_longest_chain_first(tmp_path):
    jobs = {name: pipeline.Job(name=name, script="bc.py", args=[], output=tmp_path / name, stage="BC", deps=deps, cost=cost)
            for name, deps, cost in [("data", (), 1), ("long", ("data",), 50), ("short", (), 10)]}
    costs = pipeline.chain_costs(jobs)
    assert costs == {"data": 51, "long": 50, "short": 10}


def test_the_schedule_simulation_follows_the_runners_rules_and_measured_times(tmp_path):
    jobs = {name: pipeline.Job(name=name, script="bc.py", args=[], output=tmp_path / name, stage="BC", deps=deps, cost=cost, exclusive=alone)
            for name, deps, cost, alone in [("data", (), 1, False), ("long", ("data",), 50, False), ("short", (), 10, False),
                                            ("benchmark", (), 5, True)]}
    costs = {name: job.cost for name, job in jobs.items()}
    assert pipeline.predict_wall_time(jobs, costs, workers=1) == 66
    # Two slots: data and short start; long follows data; the benchmark waits until nothing else runs.
    assert pipeline.predict_wall_time(jobs, costs, workers=2) == 56
    state_dir = tmp_path / "state"
    files.write_json(pipeline.stamp_path(state_dir, jobs["short"]), {"status": "done", "seconds": 80.0})
    measured = pipeline.measured_costs(jobs, state_dir)
    assert measured == {**costs, "short": 80.0}
    assert pipeline.chain_costs(jobs, measured)["short"] > pipeline.chain_costs(jobs, measured)["data"]  # now the longest chain


def test_the_schedule_simulation_breaks_ties_in_plan_order_as_the_runner_does():
    """Three chains of 10 s on 2 workers: starting `a` (5 s, then `a2`) first ends at 15 s, starting `b` and `c` first at 20 s."""
    program = textwrap.dedent("""
        from pathlib import Path
        from cs294 import pipeline
        plan = [("a", (), 5), ("b", (), 10), ("c", (), 10), ("a2", ("a",), 5)]
        jobs = {name: pipeline.Job(name=name, script="bc.py", args=[], output=Path(name), stage="BC", deps=deps, cost=cost)
                for name, deps, cost in plan}
        print(pipeline.predict_wall_time(jobs, {name: job.cost for name, job in jobs.items()}, workers=2))
    """)
    # Set order follows each interpreter's string hashes: several hash seeds would tell an order that depends on it.
    results = {subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=REPO_ROOT / "hw1",
                              env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout.strip() for seed in range(8)}
    assert results == {"15.0"}


def tiny_args(tmp_path: Path) -> list[str]:
    return ["--profile", "tiny", "--root", str(tmp_path / "results"), "--data_dir", str(tmp_path / "data")]


TINY_STEPS = ["bc/CartPole-v1/seed0", "bc/Hopper-v1/seed0", "benchmark", "bco/CartPole-v1/seed0", "curve/Hopper-v1/demos1_seed0",
              "curve/Hopper-v1/demos2_seed0", "curve/Hopper-v1/table", "dagger/Hopper-v1/seed0", "data/CartPole-v1", "data/Hopper-v1",
              "efficiency/Hopper-v1/bc/demos1_seed0", "efficiency/Hopper-v1/dagger/demos1_seed0", "expert_check", *sorted(f"study/{config.slug}/seed0" for config in studies.CONFIGS), "study/table"]


def test_tiny_reproduction_covers_every_stage_then_skips_or_resumes(tiny_reproduction):
    tmp_path, first = tiny_reproduction
    args = reproduce.build_parser().parse_args(tiny_args(tmp_path))
    assert sorted(first["ran"]) == sorted(TINY_STEPS)
    report = (tmp_path / "results" / "REPORT.md").read_text()
    for section in ("## The experts in the 2017 tasks", "## Expert, BC and DAgger beside seed 002", "## BC against the number of demonstrations",
                    "## Hopper architecture study", "## Behavioral cloning from observation", "## Speed", "Time per stage",
                    "## Data efficiency: BC against DAgger per expert label"):
        assert section in report
    assert "| CartPole-v1 | as registered | 2 | 500.0 ± 0.0 |" in report
    assert "| Hopper-v1 |" in report and "seed 002" in report
    assert "The latest complete run from a clean start took" in report
    row = next(line for line in report.splitlines() if line.startswith("| Hopper-v1 | 2 (10) |"))  # the runs' 2 rollouts, seed 002's 10
    assert "(n = 1)" in row and "± 0.0" not in row  # one seed: no std over seeds is made up
    assert (tmp_path / "results" / "figures" / "dagger_returns.png").stat().st_size > 1000
    assert (tmp_path / "results" / "figures" / "data_efficiency.png").stat().st_size > 1000
    # The study's rows: 1 rollout from its own runs, the published count (2 here) from the main table's runs.
    assert [line.split(" | ")[1] for line in report.splitlines() if line.startswith("| Hopper-v1 | ") and "falls" in line
            and line.count(" | ") == 5] == ["1", "2"]
    # The short table README.md quotes: BC and DAgger from the fewest rollouts, each a share of the expert with its falls.
    short = report[report.index(EFFICIENCY_MARKS[0]):report.index(EFFICIENCY_MARKS[1])].splitlines()
    assert short[1] == "| from 1 expert rollout | Hopper-v1 |"
    assert [line.split(" | ")[0] for line in short[3:6]] == ["| BC", "| DAgger, last iteration", "| DAgger: expert labels when it first scored as the expert"]
    assert all(re.search(r"\| -?\d+%, falls \d/1 \|$", line) for line in short[3:5]), short
    # The labels each method needed to score as the expert: a row per task, in the report and from tables.py on the same runs.
    assert "### Expert labels needed to score as the expert" in report
    needed = [line for line in report.splitlines() if line.startswith("| Hopper-v1 |") and "N = 1: " in line]
    assert len(needed) == 1, needed
    printed = tables.main(tables.build_parser().parse_args(["--results", str(tmp_path / "results")]))
    assert needed[0] in printed.splitlines()
    bc_run = tmp_path / "results" / "Hopper-v1" / "bc" / "seed0"
    assert (bc_run / "policy.keras").exists()
    for run_dir in (bc_run, tmp_path / "results" / "Hopper-v1" / "dagger" / "seed0"):
        tags = tensorboard_tags(run_dir)
        assert {"train/loss", "train/validation_loss", "eval/return_mean", "hyperparameters"} <= tags, tags

    # Nothing changed: every step is cached.
    second = reproduce.main(args)
    assert second["ran"] == [] and len(second["cached"]) == len(TINY_STEPS)

    # A lost output is made again; an interrupted DAgger run (stamp still 'running') resumes.
    shutil.rmtree(bc_run)
    stamp_file = pipeline.stamp_path(tmp_path / "results" / "reproduce", pipeline.Job(
        name="dagger/Hopper-v1/seed0", script="dagger.py", args=[], output=Path(), stage="DAgger"))
    stamp = json.loads(stamp_file.read_text())
    stamp_file.write_text(json.dumps({**stamp, "status": "running"}))
    third = reproduce.main(args)
    assert sorted(third["ran"]) == ["bc/Hopper-v1/seed0", "dagger/Hopper-v1/seed0"]
    assert "| BC | 1 |" in (report := (tmp_path / "results" / "REPORT.md").read_text()) and "– (redone later)" in report
    log = (tmp_path / "results" / "reproduce" / "logs" / "dagger__Hopper-v1__seed0.log").read_text()
    assert log.splitlines()[0].endswith("--resume") and "resuming" in log

    # A table reads its runs without naming them as inputs: a redone run redoes the table too.
    config = studies.CONFIGS[0]
    shutil.rmtree(studies.study_run_dir(tmp_path / "results" / "Hopper-v1" / "architecture_study", config, 0))
    fourth = reproduce.main(args)
    assert sorted(fourth["ran"]) == sorted([f"study/{config.slug}/seed0", "study/table"])

    # A fresh clone lacks the files git ignores (the rollout data, DAgger's aggregated.h5): the data is made again byte
    # for byte, so every step that reads it stays done; an interrupted DAgger run without its episodes starts over.
    for ignored in [*(tmp_path / "data").glob("*.h5"), *(tmp_path / "results").rglob("aggregated.h5")]:
        ignored.unlink()
    stamp_file.write_text(json.dumps({**json.loads(stamp_file.read_text()), "status": "running"}))
    fifth = reproduce.main(args)
    assert sorted(fifth["ran"]) == ["dagger/Hopper-v1/seed0", "data/CartPole-v1", "data/Hopper-v1"]
    log = (tmp_path / "results" / "reproduce" / "logs" / "dagger__Hopper-v1__seed0.log").read_text()
    assert not log.splitlines()[0].endswith("--resume") and "resuming" not in log


def test_the_dry_run_gives_the_least_time_the_recorded_simulation_and_fits_take(tiny_reproduction, capsys):
    tmp_path, _ = tiny_reproduction
    results = tmp_path / "results" / "Hopper-v1"
    bc_run = json.loads((results / "bc" / "seed0" / "metrics.json").read_text())
    dagger_run = json.loads((results / "dagger" / "seed0" / "metrics.json").read_text())
    # The expert's scoring episodes count once per episode set: DAgger's seed 0 reads bc.py's from the cache.
    assert dagger_run["evaluation_seeds"] == bc_run["evaluation"]["seeds"]
    expert = bc_run["expert"]["episodes"] * bc_run["expert"]["mean_length"]
    assert expert > 0 and forecast.run_steps(bc_run, set()) == expert + forecast.played(bc_run["evaluation"])
    seen: set = set()
    forecast.run_steps(bc_run, seen)
    with_expert, without = forecast.run_steps(dagger_run, set()), forecast.run_steps(dagger_run, seen)
    assert with_expert - without == expert
    # DAgger's driving steps are the episodes its aggregated file holds beyond the demonstrations.
    aggregated = data.read_rollouts(results / "dagger" / "seed0" / "aggregated.h5").trajectories
    driven = sum(t.length for t in aggregated[dagger_run["source_data"]["episodes"]:])
    rows = dagger_run["iterations"]
    curve = sum((row["episodes_scored"] - row["falls"]) * 1000 for row in rows[:-1])
    assert driven > 0 and without == driven + curve + forecast.played(dagger_run["evaluation"])
    # bco.py plays its expert and the random policy itself, and counts their episodes in its evaluation steps: once, marking nothing.
    bco_run = json.loads((tmp_path / "results" / "CartPole-v1" / "bco" / "seed0" / "metrics.json").read_text())
    counted = bco_run["interactions"]
    own_scoring = forecast.played(bco_run["expert"]) + forecast.played(bco_run["random"])
    assert 0 < own_scoring < counted["evaluation"] and forecast.run_steps(bco_run, seen) == counted["total"] + counted["evaluation"]
    assert forecast.run_steps(bco_run, set()) == counted["total"] + counted["evaluation"]

    outcome = reproduce.main(reproduce.build_parser().parse_args(tiny_args(tmp_path) + ["--dry_run", "--workers", "1,2"]))
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("the least it could take"))
    assert outcome["floor_seconds"] > 0 and f"2 workers {outcome['floor_seconds'] / 120:.1f} min" in line, line
    assert str(tmp_path / "results" / "benchmark.json") in line  # the tiny profile's own loop rates
    # Where the time went: the stages hold every finished step and its stamp's seconds, and their simulation and fits make up the floor.
    stages, state_dir = outcome["stages"], tmp_path / "results" / "reproduce"
    jobs = plans.Plan(plans.PROFILES["tiny"], tmp_path / "results", tmp_path / "data", videos=False).build()
    done = [stamp for stamp in (pipeline.read_stamp(state_dir, job) for job in jobs) if stamp and stamp.get("status") == "done"]
    assert sum(stage.steps for stage in stages.values()) == len(done) == len(TINY_STEPS)
    assert abs(sum(stage.seconds for stage in stages.values()) - sum(stamp["seconds"] for stamp in done)) < 1e-6
    assert stages["BC"].fits > 0 and stages["DAgger"].simulation > 0 and stages["DAgger"].fits == 0  # dagger.py records no fit time
    total = sum(stage.simulation + stage.fits for stage in stages.values())
    assert abs(total - outcome["floor_seconds"]) < 1e-6 * outcome["floor_seconds"]


def test_the_floor_counts_a_damaged_or_unfinished_record_as_nothing(tmp_path):
    state_dir = tmp_path / "state"
    data_file = tmp_path / "Hopper-v1_1_rollouts.h5"
    data_file.write_bytes(b"\x89HDF\r\n" + bytes(100))  # a truncated HDF5 file
    run_dir = tmp_path / "run"
    files.write_json(run_dir / "metrics.json", {"config": {"env": "Hopper-v1"}, "evaluation": {"episodes": 2, "mean_length": 10.0}})
    data_job = pipeline.Job(name="data/Hopper-v1", script="run_expert.py", args=["experts/Hopper-v1.pkl", "Hopper-v1"], output=data_file, stage="data")
    bc_job = pipeline.Job(name="bc/Hopper-v1/seed0", script="bc.py", args=[], output=run_dir, stage="BC")
    assert forecast.simulated_steps([data_job, bc_job], state_dir) == {}  # no stamp: neither step finished
    for job in (data_job, bc_job):
        files.write_json(pipeline.stamp_path(state_dir, job), {"status": "done", "key": "k", "seconds": 1.0})
    assert forecast.simulated_steps([data_job, bc_job], state_dir) == {"Hopper-v1": 20.0}  # the damaged data file counts none
    files.write_json(run_dir / "metrics.json", {"config": {"env": "Hopper-v1"}, "evaluation": {"episodes": "many"}, "seconds": []})
    assert forecast.simulated_steps([data_job, bc_job], state_dir) == {} and forecast.training_seconds([bc_job], state_dir) == 0.0
    # A record that fails to count leaves its expert's episodes for the next run that has them, in any order of reading.
    experts: set = set()
    damaged = {"config": {"env": "Hopper-v1"}, "expert": {"episodes": 2, "mean_length": 10.0}, "evaluation_seeds": [1, 2], "evaluation": {"episodes": "many"}}
    with pytest.raises(ValueError):
        forecast.run_steps(damaged, experts)
    assert experts == set() and forecast.run_steps({**damaged, "evaluation": {"episodes": 1, "mean_length": 5.0}}, experts) == 25.0
    # A stamp's time that is not a positive finite number counts none in the table of where the time went, as in the prediction.
    benchmark = tmp_path / "benchmark.json"
    benchmark.write_text(json.dumps({"loops": ["damaged", {"env": "Hopper-v1", "bare_loop_expert": 1000.0}]}))
    assert forecast.loop_rates(benchmark) == {"Hopper-v1": 1000.0}  # the damaged row times nothing
    for seconds in ("NaN", "-1e9", "Infinity", '"5"'):
        pipeline.stamp_path(state_dir, bc_job).write_text(f'{{"status": "done", "key": "k", "seconds": {seconds}}}')
        stages = forecast.stage_times([data_job, bc_job], state_dir, benchmark)
        assert stages["BC"].steps == 1 and stages["BC"].seconds == 0.0 and stages["data"].seconds == 1.0, seconds
        assert pipeline.measured_costs({"bc": bc_job}, state_dir) == {"bc": bc_job.cost}


def test_a_profile_never_run_takes_measured_times_only_for_the_same_work(tmp_path):
    state_dir = tmp_path / "state"
    measured = [pipeline.Job(name="benchmark", script="benchmark.py", args=["--steps", "20000", "--output", "results/benchmark.md"],
                             output=tmp_path / "benchmark.md", stage="speed benchmark", cost=30.0),
                pipeline.Job(name="dagger/Reacher-v1/seed0", script="dagger.py", args=["Reacher-v1", "--iterations", "20", "--run_dir", "results/a"],
                             output=tmp_path / "a", stage="DAgger", cost=30.0)]
    for job, seconds in zip(measured, (175.0, 11.3)):
        files.write_json(pipeline.stamp_path(state_dir, job), {"status": "done", "key": "k", "seconds": seconds})
    elsewhere = [pipeline.Job(name=job.name, script=job.script, args=[arg.replace("results/", "/tmp/mine/") for arg in job.args],
                              output=job.output, stage=job.stage, cost=job.cost) for job in measured]
    costs, matched = forecast.scaled_costs(elsewhere, measured, state_dir)
    assert costs == {"benchmark": 175.0, "dagger/Reacher-v1/seed0": 11.3} and len(matched) == 2  # the same settings in other folders
    smaller = pipeline.Job(name="benchmark", script="benchmark.py", args=["--steps", "2000", "--output", "results/demo/benchmark.md"],
                           output=tmp_path / "b.md", stage="speed benchmark", cost=22.0)
    assert forecast.scaled_costs([smaller], measured, state_dir) == ({"benchmark": 22.0}, set())  # other settings: the plan's estimate
    # A path's file name is a setting: a data file's name holds its number of rollouts.
    expert_run = pipeline.Job(name="data/Hopper-v1", script="run_expert.py", args=["experts/Hopper-v1.pkl", "--output", "data/Hopper-v1_250_rollouts.h5"],
                              output=tmp_path / "d.h5", stage="expert data", cost=5.0)
    files.write_json(pipeline.stamp_path(state_dir, expert_run), {"status": "done", "key": "k", "seconds": 500.0})
    fewer = pipeline.Job(name="data/Hopper-v1", script="run_expert.py", args=["experts/Hopper-v1.pkl", "--output", "data/mine/Hopper-v1_1_rollouts.h5"],
                         output=tmp_path / "e.h5", stage="expert data", cost=5.0)
    assert forecast.scaled_costs([fewer], [expert_run], state_dir) == ({"data/Hopper-v1": 5.0}, set())


@pytest.mark.parametrize("flags, message", [
    (["--root", ""], "--root is empty; name a folder"), (["--data_dir", " "], "--data_dir is empty; name a folder"),
    (["--dry_run", "--workers", ""], "--workers ''"), (["--dry_run", "--report_only"], "--dry_run and --report_only: choose one")])
def test_reproduce_refuses_empty_folders_and_conflicting_modes_in_one_line(flags, message):
    result = run_script("reproduce.py", *flags)
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0 and message in result.stderr, result.stderr


def test_the_report_counts_no_dagger_run_stopped_mid_way(tiny_reproduction, tmp_path):
    finished = json.loads((tiny_reproduction[0] / "results" / "Hopper-v1" / "dagger" / "seed0" / "metrics.json").read_text())
    assert finished["complete"] is True
    for seed, complete in ((0, True), (1, False)):  # seed 1 as a kill after a commit leaves it, awaiting its resume
        files.write_json(tmp_path / "Hopper-v1" / "dagger" / f"seed{seed}" / "metrics.json", {**finished, "complete": complete})
    assert [run["complete"] for run in report.load_runs(tmp_path, "Hopper-v1", "dagger")] == [True]



def test_a_run_that_found_steps_cached_is_not_reported_as_a_clean_start(tmp_path):
    state = tmp_path / "reproduce"
    plan = [pipeline.Job(name=f"step{index}", script="bc.py", args=[], output=tmp_path / f"step{index}", stage="BC") for index in range(66)]
    context = report.Context(command="", profile="paper", profile_settings={}, root=tmp_path, jobs=plan, outcome=pipeline.Outcome(),
                             video_problem=None, machine="")
    assert report.partial_run_text(context) == "no complete run is recorded"
    pipeline.record_invocation(state, pipeline.now(), pipeline.Outcome(ran=[], cached=["data/Hopper-v1"], seconds=70.4), interrupted=True)
    pipeline.record_invocation(state, pipeline.now(), pipeline.Outcome(ran=["bc"] * 65, cached=["data/Hopper-v1"], seconds=4922.1))
    pipeline.record_invocation(state, pipeline.now(), pipeline.Outcome(ran=["data"] * 8, seconds=101.8))  # --only data/: 8 of the 66 steps
    assert report.latest_clean_run(context) is None
    assert report.partial_run_text(context) == "no clean start is recorded; the latest complete run ran 65 steps in 82.0 min with 1 cached"
    pipeline.record_invocation(state, pipeline.now(), pipeline.Outcome(ran=["bc"] * 66, seconds=4930.0))
    assert report.latest_clean_run(context)["ran"] == 66


def test_dry_run_lists_every_stage_of_the_full_reproduction(tmp_path, capsys):
    args = reproduce.build_parser().parse_args(["--dry_run", "--root", str(tmp_path / "results"), "--data_dir", str(tmp_path / "data")])
    assert reproduce.main(args)["jobs"] > 100
    listed = capsys.readouterr().out
    for step in ("benchmark", "expert_check", "data/Humanoid-v1", "bc/Ant-v1/seed2", "dagger/Walker2d-v1/seed2", "study/table",
                 "efficiency/Walker2d-v1/dagger/demos5_seed2", "efficiency/Reacher-v1/bc/demos1_seed0",
                 "curve/Humanoid-v1/table", "bco/Hopper-v1/seed2", "video/Walker2d-v1"):
        assert f" {step}:" in listed
    assert "to run  data/Hopper-v1: python hw1/run_expert.py experts/Hopper-v1.pkl Hopper-v1 --num_rollouts 10" in listed



def test_the_paper_profile_is_seed_002s_table_at_seed_002s_budgets(tmp_path, capsys):
    args = reproduce.build_parser().parse_args(["--profile", "paper", "--dry_run", "--root", str(tmp_path / "results"),
                                                "--data_dir", str(tmp_path / "data")])
    assert reproduce.main(args)["jobs"] == 6 + 6 * 5 * 2
    steps = [line for line in capsys.readouterr().out.splitlines() if line.startswith("to run  ")]
    assert {line.split()[2].split("/")[0] for line in steps} == {"data", "bc", "dagger"}
    for task in plans.SEED_002_TASKS:
        for seed in range(5):
            assert any(f"bc/{task}/seed{seed}:" in line and "--epochs 100 " in line for line in steps)
            assert any(f"dagger/{task}/seed{seed}:" in line and "--epochs 4 --iterations 9 --retrain_epochs 4 " in line for line in steps)


def rendering_works() -> bool:
    return run_script("render_video.py", "--check").returncode == 0


def test_render_video_writes_a_labeled_mp4_and_gif(tmp_path):
    if not rendering_works():
        pytest.skip("offscreen rendering is not available on this machine (render_video.py --check fails)")
    episodes = write_expert_rollouts(tmp_path, "Hopper-v1", 1, 20)
    result = run_script("render_video.py", str(episodes), str(episodes), "--labels", "expert,again", "--size", "64",
                        "--output", str(tmp_path / "clip.mp4"), "--gif", str(tmp_path / "clip.gif"))
    assert result.returncode == 0, result.stderr
    assert "6 frames" in result.stdout  # every 4th of 20 steps, plus the reset frame
    import imageio.v2 as imageio

    frames = imageio.mimread(tmp_path / "clip.gif")
    assert len(frames) == 3 and frames[0].shape[:2] == (32, 64)  # every other frame of two 64-pixel tiles, at half size


def test_render_video_rejects_bad_input_in_one_line(tmp_path):
    result = run_script("render_video.py", "missing.h5", "--output", str(tmp_path / "clip.avi"))
    assert result.returncode == 2 and "must end in .mp4 or .gif" in result.stderr and "Traceback" not in result.stderr


def test_table_steps_never_train_in_place_of_a_cached_step(tmp_path):
    result = run_script("bc_curve.py", "Hopper-v1", "--num_demos", "1", "--reuse_only", "--output_dir", str(tmp_path / "curve"))
    assert result.returncode == 2 and "--reuse_only forbids training" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "curve" / "demos1_seed0").exists()


def test_relative_root_and_data_dir_are_relative_to_the_current_directory(tmp_path):
    result = run_script("reproduce.py", "--profile", "tiny", "--root", "out", "--data_dir", "rollouts", "--dry_run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"--run_dir {tmp_path.resolve() / 'out' / 'Hopper-v1' / 'bc' / 'seed0'}" in result.stdout
    assert f"--output {tmp_path.resolve() / 'rollouts' / 'Hopper-v1_2_rollouts.h5'}" in result.stdout


@pytest.mark.parametrize("damage", ["3", "[1]", '{"status": "done", "seconds": "abc", "key": "x"}', b"\xff\xfe"])
def test_a_damaged_stamp_or_run_log_counts_as_never_run(tmp_path, damage):
    job = make_job(tmp_path, ["Hopper-v1"])
    state_dir = tmp_path / "state"
    path = pipeline.stamp_path(state_dir, job)
    path.parent.mkdir(parents=True)
    path.write_bytes(damage if isinstance(damage, bytes) else damage.encode())
    (state_dir / pipeline.INVOCATIONS_FILE).write_bytes(b"[1, 2, {\"seconds\": 3}]" if isinstance(damage, str) else damage)
    assert not pipeline.is_done(job, "x", state_dir, pipeline.Hasher())
    assert pipeline.measured_costs({job.name: job}, state_dir) == {job.name: job.cost}
    assert pipeline.read_invocations(state_dir) == []
