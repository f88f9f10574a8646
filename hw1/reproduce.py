"""Reproduce every table, plot and video of this project in one command, then write REPORT.md.

    python hw1/reproduce.py                  # everything: six tasks, five seeds (results/)
    python hw1/reproduce.py --profile demo   # a short version of every stage (results/demo/)

Stages: the speed benchmark; every expert checked over 100 episodes; expert data with seed 002's
rollout counts; BC and DAgger on six tasks over five seeds; the data-efficiency study (BC and
DAgger from 1, 2 and 5 expert rollouts); seed 000's Hopper architecture study; BC against the
number of demonstrations on Humanoid; BCO on six tasks (CartPole, MountainCar, Reacher, Hopper,
HalfCheetah and Ant), with its table and plot; videos of the expert, BC and DAgger; and the
report, ROOT/REPORT.md. Every step is an ordinary command of
this project (the report lists them), run in its own process, two at a time on two cores.

Steps are cached by their inputs: the arguments, the content of the files they read, the code
they run and the package versions. Running the command again skips what is done and redoes what
changed; after an interruption it continues where it stopped (DAgger resumes mid-run). --dry_run
lists what would run. Each step's output goes to ROOT/reproduce/logs/.
"""

import argparse
import dataclasses
import os
import platform
import subprocess
import sys
from pathlib import Path

from cs294 import cli, forecast, locks, pipeline, report
from cs294.plans import PROFILES, Plan
from cs294.errors import UserError

def rendering_problem() -> str | None:
    """None if offscreen rendering works here, else why not (checked in a process without TensorFlow)."""
    check = subprocess.run([sys.executable, str(Path(__file__).with_name("render_video.py")), "--check"],
                           capture_output=True, text=True, timeout=120)
    return None if check.returncode == 0 else (check.stderr.strip().splitlines() or ["unknown error"])[-1]


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("reproduce.py", __doc__)
    what = parser.add_argument_group("what to run")
    where = parser.add_argument_group("where it runs")
    mode = parser.add_argument_group("modes")
    what.add_argument("--profile", choices=tuple(PROFILES), default="full",
        help="full (default), paper (seed 002's budgets, five seeds), demo (a few minutes), or tiny (every stage in about a minute)")
    what.add_argument("--root", type=pipeline.path_argument, default=None, help="where runs and REPORT.md go (default: results for full, results/demo for demo)")
    what.add_argument("--data_dir", type=pipeline.path_argument, default=None, help="where expert rollouts go (default: data for full, data/demo for demo)")
    where.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="steps run side by side (default: the number of cores)")
    where.add_argument("--backend", choices=("local", "ray"), default="local",
        help="local: subprocesses of this machine (default); ray: tasks on a Ray cluster (see --address)")
    where.add_argument("--address", default=None,
        help="with --backend ray: HOST:PORT of a running cluster's head, or auto (default: start a private Ray instance for this run)")
    where.add_argument("--address_timeout", type=float, default=30.0,
        help="with --address HOST:PORT: seconds to wait for the Ray head to answer before giving up (default: 30)")
    where.add_argument("--place", action="append", default=[], metavar="STEP_PREFIX=RESOURCE",
        help="with --backend ray: run the steps whose names start with STEP_PREFIX only on nodes that declare the custom resource")
    what.add_argument("--only", default=None, metavar="PREFIXES",
        help="run only the steps whose names start with one of these comma-separated prefixes, and the steps they need (e.g. bco/,study/)")
    what.add_argument("--no_videos", action="store_true", help="skip the videos")
    mode.add_argument("--dry_run", action="store_true", help="list the steps and whether each is cached, and predict the wall time; run nothing")
    mode.add_argument("--workers", default=None, help="with --dry_run: the numbers of steps side by side to predict the wall time for (default: 1,2,4,8,16,32)")
    mode.add_argument("--report_only", action="store_true", help="rewrite REPORT.md from the finished steps, run nothing")
    return parser


def default_dirs(args: argparse.Namespace) -> tuple[Path, Path]:
    if args.profile == "full":
        return args.root or Path("results"), args.data_dir or Path("data")
    if args.profile in ("demo", "paper"):
        return args.root or Path(f"results/{args.profile}"), args.data_dir or Path(f"data/{args.profile}")
    if args.root is None or args.data_dir is None:
        raise UserError("--profile tiny needs --root and --data_dir (it is meant for tests)")
    return args.root, args.data_dir


def command_text(args: argparse.Namespace, with_only: bool = True) -> str:
    """The command that reproduces this report; without --only, the one that finishes every step of the profile."""
    words = ["python", "hw1/reproduce.py", "--profile", args.profile]
    for flag in ("root", "data_dir"):
        if getattr(args, flag) is not None:
            words += [f"--{flag}", str(getattr(args, flag))]
    if args.only and with_only:
        words += ["--only", args.only]
    return " ".join(words + (["--no_videos"] if args.no_videos else []))


def only(jobs: list[pipeline.Job], prefixes: str | None) -> list[pipeline.Job]:
    """The steps named by --only and every step they need, in plan order."""
    if prefixes is None:
        return jobs
    wanted = [prefix for prefix in prefixes.split(",") if prefix]
    by_name = {job.name: job for job in jobs}
    keep = {job.name for job in jobs if any(job.name.startswith(prefix) for prefix in wanted)}
    if not keep:
        raise UserError(f"--only {prefixes}: no step's name starts with that; `--dry_run` lists the steps")
    todo = list(keep)
    while todo:
        for dep in by_name[todo.pop()].deps:
            if dep not in keep:
                keep.add(dep)
                todo.append(dep)
    return [job for job in jobs if job.name in keep]


def predicted_costs(runner: pipeline.Runner, args: argparse.Namespace) -> tuple[dict[str, float], str]:
    """Each step's seconds: its own measured time, else scaled from the full profile's measured step; and where they came from."""
    own = {name for name, job in runner.jobs.items() if pipeline.measured_seconds(pipeline.read_stamp(runner.state_dir, job)) is not None}
    reference = Plan(PROFILES["full"], Path("results"), Path("data"), videos=True).build()
    scaled, matched = forecast.scaled_costs(list(runner.jobs.values()), reference, Path("results") / "reproduce")
    costs = {name: runner.costs[name] if name in own else scaled[name] for name in runner.jobs}
    borrowed = len(matched - own)
    source = (f"{len(own)} of {len(runner.jobs)} step times measured in this profile's earlier runs"
              + (f", {borrowed} taken or scaled from the full profile's measured steps (results/reproduce)" if borrowed else "")
              + ", the plan's estimates for the rest")
    return costs, source


def dry_run(runner: pipeline.Runner, args: argparse.Namespace) -> dict:
    """List the steps and whether each is cached, and predict a clean start's wall time for several numbers of workers."""
    try:
        workers = [int(word) for word in ("1,2,4,8,16,32" if args.workers is None else args.workers).split(",")]
    except ValueError:
        raise UserError(f"--workers {args.workers!r}: give whole numbers separated by commas, e.g. 1,2,4") from None
    if not workers or min(workers) < 1:
        raise UserError(f"--workers {args.workers!r}: every number must be at least 1")
    for job, state in runner.plan():
        print(f"{state:7s} {job.name}: {pipeline.command_text(job)}")
    costs, source = predicted_costs(runner, args)
    predictions = {count: pipeline.predict_wall_time(runner.jobs, costs, count) for count in workers}
    print(f"{len(runner.jobs)} steps, {sum(costs.values()) / 60:.1f} min of step time ({source}).")
    print("predicted wall time of a clean start: " + ", ".join(f"{workers_text(count)} {seconds / 60:.1f} min" for count, seconds in predictions.items()))
    floor, stages = simulation_floor(runner, workers)
    return {"jobs": len(runner.jobs), "predicted_seconds": predictions, "step_seconds": sum(costs.values()), "floor_seconds": floor,
            "stages": stages}


def workers_text(count: int) -> str:
    return f"{count} worker" if count == 1 else f"{count} workers"


def simulation_floor(runner: pipeline.Runner, workers: list[int]) -> tuple[float, dict[str, forecast.StageTime]]:
    """Print the least time the finished steps' recorded simulation and training could take, at the speed benchmark's loop rates,
    and where each stage's time went; returns the floor and the stages' times."""
    jobs = list(runner.jobs.values())
    benchmark = next((path for path in (runner.state_dir.parent / "benchmark.json", Path("results") / "benchmark.json") if path.is_file()), None)
    simulation, timed = forecast.simulation_seconds(forecast.simulated_steps(jobs, runner.state_dir), benchmark) if benchmark else (0.0, 0.0)
    if not timed:
        print(f"no floor: it needs the speed benchmark's loop rates ({runner.state_dir.parent / 'benchmark.json'} or results/benchmark.json, "
              "written by python hw1/benchmark.py) and finished steps that simulated the tasks it timed")
        return 0.0, {}
    training = forecast.training_seconds(jobs, runner.state_dir)
    floor = simulation + training
    print(f"the least it could take: the finished steps record {timed / 1e6:.1f} M MuJoCo steps ({simulation / 60:.1f} min at "
          f"{benchmark}'s fastest loop rates) and {training / 60:.1f} min of bc.py's and bco.py's fits, {floor / 60:.1f} min in all: "
          + ", ".join(f"{workers_text(count)} {floor / 60 / count:.1f} min" for count in workers))
    stages = forecast.stage_times(jobs, runner.state_dir, benchmark)
    print_stage_times(stages)
    return floor, stages


def print_stage_times(stages: dict[str, forecast.StageTime]) -> None:
    """Per stage, the finished steps' measured minutes beside the part the floor accounts for."""
    print("where the finished steps' time went, in minutes of step time: the simulation at those rates, the recorded fits, and "
          "the rest, which the floor leaves out (DAgger's fits, the expert's labels, loops slower than the fastest, start-up, saving):")
    total = forecast.StageTime(sum(s.steps for s in stages.values()), sum(s.seconds for s in stages.values()),
                               sum(s.simulation for s in stages.values()), sum(s.fits for s in stages.values()))
    width = max(map(len, [*stages, "stage"]))
    print(f"  {'stage':{width}s} {'steps':>5s} {'step time':>9s} {'simulation':>10s} {'fits':>6s} {'rest':>6s}")
    for name, stage in [*stages.items(), ("all", total)]:
        print(f"  {name:{width}s} {stage.steps:5d} {stage.seconds / 60:9.1f} {stage.simulation / 60:10.1f} {stage.fits / 60:6.1f} {stage.rest / 60:6.1f}")


def placements(args: argparse.Namespace) -> dict[str, str]:
    """--place STEP_PREFIX=RESOURCE, checked."""
    found = {}
    for word in args.place:
        prefix, _, resource = word.partition("=")
        if not prefix or not resource:
            raise UserError(f"--place {word!r}: give STEP_PREFIX=RESOURCE, e.g. --place bco/=big_memory")
        found[prefix] = resource
    if found and args.backend != "ray":
        raise UserError("--place needs --backend ray")
    return found


def run_steps(runner: pipeline.Runner, args: argparse.Namespace, root: Path) -> pipeline.Outcome:
    """Run the steps that are not cached, on this machine or on a Ray cluster."""
    if args.backend == "local":
        print(f"{len(runner.jobs)} steps, {args.jobs} at a time; logs in {root / 'reproduce' / 'logs'}")
        try:
            return runner.run()
        finally:
            runner.backend.close()
    from cs294 import cluster  # imports Ray

    if locks.is_locked(runner.state_dir):  # refuse a second runner before it joins the cluster, not after
        raise UserError(f"{runner.state_dir} is in use by {locks.holder(runner.state_dir)}; wait for that run to end, or use another --root")
    runner.backend = cluster.connect(args.address, timeout=args.address_timeout)
    try:
        runner.backend.place(placements(args))
        print(f"{len(runner.jobs)} steps on Ray, {runner.backend.workers} at a time; logs in {root / 'reproduce' / 'logs'}")
        return runner.run()
    finally:
        runner.backend.close()


def main(args: argparse.Namespace) -> dict:
    """Plan the steps, run those not cached, write the report; returns the outcome."""
    if args.jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {args.jobs}")
    for flag in ("root", "data_dir"):
        if getattr(args, flag) == "":
            raise UserError(f"--{flag} is empty; name a folder, e.g. --{flag} results/mine, or leave it out for the profile's default")
    if args.dry_run and args.report_only:
        raise UserError("--dry_run and --report_only: choose one (--dry_run lists the steps and predicts, --report_only rewrites REPORT.md)")
    if args.workers is not None and not args.dry_run:
        raise UserError(f"--workers {args.workers} only predicts times with --dry_run; to run N steps side by side, pass --jobs N")
    cli.check_ray_address(args.address, args.backend, args.address_timeout)
    placements(args)
    checkout = Path(__file__).resolve().parents[1]
    for flag in ("root", "data_dir"):  # a relative path means one under the current directory, as for any command
        if getattr(args, flag) is not None:
            setattr(args, flag, pipeline.checkout_relative(getattr(args, flag)))
    os.chdir(checkout)  # every path in a step's command is relative to the checkout
    root, data_dir = default_dirs(args)
    profile = PROFILES[args.profile]
    video_problem = None
    if profile.video_tasks and not args.no_videos and not args.dry_run and not args.report_only:
        video_problem = rendering_problem()
        if video_problem:
            print(f"videos skipped: {video_problem}")
    plan = Plan(profile, root, data_dir, videos=bool(profile.video_tasks) and not args.no_videos and video_problem is None).build()
    jobs = only(plan, args.only)
    # One math thread per process: with one process per core, more threads only fight over the cores.
    threads = pipeline.thread_env(1) if args.jobs > 1 else {}
    env = {**threads, "TQDM_DISABLE": "1", "PYTHONWARNINGS": "ignore"}
    runner = pipeline.Runner(jobs, root / "reproduce", pipeline.LocalBackend(args.jobs), env=env)
    if args.dry_run:
        return dry_run(runner, args)
    if args.report_only:
        outcome = pipeline.Outcome(cached=[job.name for job, state in runner.plan() if state == "cached"])
    else:
        outcome = run_steps(runner, args, root)
    # The report covers the whole profile, --only or not: a step it did not run counts if it is cached with the current code and
    # inputs, and is listed as left out otherwise, so a partial run never shows another code's runs as this one's.
    everything = pipeline.Runner(plan, root / "reproduce", env=env)
    everything.hasher = runner.hasher  # the files this run hashed need no second reading
    cached = [job.name for job, state in everything.plan() if state == "cached" and job.name not in outcome.ran]
    shown = dataclasses.replace(outcome, cached=cached)
    context = report.Context(command=command_text(args), finish_command=command_text(args, with_only=False), profile=args.profile, profile_settings=dataclasses.asdict(profile), root=root, jobs=plan,
                             outcome=shown, video_problem=video_problem if profile.video_tasks else "this profile makes no videos",
                             machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    report_path = report.write_report(context)
    print(f"{len(outcome.ran)} steps ran, {len(outcome.cached)} were cached, in {outcome.seconds:.0f} s; wrote {report_path}")
    if outcome.failed or outcome.skipped:
        raise UserError(f"{len(outcome.failed)} steps failed ({', '.join(outcome.failed)}) and {len(outcome.skipped)} could not run; "
                        f"see their logs in {root / 'reproduce' / 'logs'}, fix, and run the same command again")
    return {"ran": outcome.ran, "cached": outcome.cached, "report": report_path}


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
