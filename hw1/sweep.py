"""Run bc.py, dagger.py or bco.py over a grid of tasks x seeds x hyperparameters, and tabulate it.

    python hw1/sweep.py bc --tasks Hopper-v1 --seeds 0,1,2 --grid learning_rate=0.001,0.0003 --set epochs=20
    python hw1/sweep.py --config sweep.toml --backend ray --address auto

Each run is an ordinary command of this project (bc.py ... --run_dir ROOT/<task>/<script>/<cell>/seed<S>)
and a cached step of the graph reproduce.py uses: running the same sweep again skips what is
done, an interrupted DAgger run resumes, and --backend ray runs the steps on a Ray cluster. The
table (ROOT/sweep.md and .json) gives per cell the final return's mean ± std, n and a 95%
bootstrap interval over seeds; ROOT/hparams holds one TensorBoard run per step for the HParams
view (tensorboard --logdir ROOT/hparams). A sweep file holds the same settings (docs/sweeps.md).
"""

import argparse
import math
import os
import shlex
from pathlib import Path

from cs294 import cli, files, locks, pipeline, sweeps
from cs294.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("sweep.py", __doc__)
    parser.add_argument("script", nargs="?", choices=tuple(sweeps.SCRIPTS), help="the script to sweep (or give it in --config)")
    grid = parser.add_argument_group("the runs")
    where = parser.add_argument_group("where they run")
    grid.add_argument("--config", type=pipeline.path_argument, default=None, help="a TOML sweep file; options given here override it")
    grid.add_argument("--tasks", default=None, help="comma-separated tasks (default: Hopper-v1)")
    grid.add_argument("--seeds", default=None, help="comma-separated seeds (default: 0,1,2)")
    grid.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2", help="an option of the script and the values to try (repeatable)")
    grid.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="an option every run gets (repeatable)")
    grid.add_argument("--rollouts", type=int, default=None, help="expert episodes per task (default: seed 002's count)")
    where.add_argument("--root", type=pipeline.path_argument, default=Path("results/sweep"), help="where the runs, the table and the HParams logs go (default: results/sweep)")
    where.add_argument("--data_dir", type=pipeline.path_argument, default=Path("data/sweep"), help="where the expert rollouts go (default: data/sweep)")
    where.add_argument("--jobs", type=int, default=1, help="local backend: runs side by side (default: 1)")
    where.add_argument("--backend", choices=("local", "ray"), default="local", help="local (default) or ray (see --address)")
    where.add_argument("--address", default=None, help="with --backend ray: HOST:PORT or auto (default: a private Ray instance)")
    where.add_argument("--address_timeout", type=float, default=30.0,
                       help="with --address HOST:PORT: seconds to wait for the Ray head to answer before giving up (default: 30)")
    where.add_argument("--dry_run", action="store_true", help="list the runs and whether each is cached; run nothing")
    return parser


def settings(args: argparse.Namespace) -> sweeps.Sweep:
    """The sweep from the file and the command line (the command line wins)."""
    if args.config == "":
        raise UserError("--config is empty; name a TOML sweep file, e.g. --config sweep.toml (or leave --config out)")
    file = sweeps.read_toml(args.config) if args.config is not None else {}
    script = args.script or file.get("script")
    if script not in sweeps.SCRIPTS:
        raise UserError(f"name the script to sweep: one of {', '.join(sweeps.SCRIPTS)} (as the first argument or script = ... in --config)")
    try:
        # An empty --tasks or --seeds ("" or ",") is a list of nothing, refused below, not a request for the defaults.
        tasks = tuple(args.tasks.split(",")) if args.tasks is not None else tuple(file.get("tasks", ["Hopper-v1"]))
        if args.seeds is not None:
            seeds = tuple(int(seed) for seed in args.seeds.split(",")) if args.seeds.replace(",", "").strip() else ()
        else:
            seeds = tuple(int(seed) for seed in file.get("seeds", [0, 1, 2]))
    except ValueError:
        raise UserError(f"--seeds {args.seeds!r}: give whole numbers separated by commas") from None
    if not tasks or not all(tasks):
        raise UserError("--tasks: give one or more tasks, e.g. --tasks Hopper-v1 (or tasks = [\"Hopper-v1\"] in --config)")
    grid = {name: tuple(sweeps.text(value) for value in values) for name, values in file.get("grid", {}).items()}
    command_grid = sweeps.parse_grid(args.grid)
    grid |= command_grid
    fixed = {name: sweeps.text(value) for name, value in file.get("fixed", {}).items()}
    command_set: set[str] = set()
    for word in args.set:
        name, _, value = word.partition("=")
        name = name.removeprefix("--")
        if not name or not value:
            raise UserError(f"--set {word!r}: write NAME=VALUE, e.g. --set epochs=20")
        if name in command_set or name in command_grid:  # one would silently replace the other
            raise UserError(f"--set {name} is given twice, or also in --grid; give each option once")
        command_set.add(name)
        fixed[name] = value
    if min(seeds, default=0) < 0 or not seeds or max(seeds) >= sweeps.SEED_LIMIT:
        raise UserError(f"--seeds: give one or more seeds from 0 to {sweeps.SEED_LIMIT - 1}")
    rollouts = args.rollouts if args.rollouts is not None else file.get("rollouts")
    if rollouts is not None and rollouts < 1:
        raise UserError(f"--rollouts must be at least 1 (or left out for seed 002's count), got {rollouts}")
    count = len(tasks) * len(seeds) * math.prod(len(values) for values in grid.values())
    if count > sweeps.MAX_RUNS:
        raise UserError(f"the sweep would plan {count:,} runs, more than {sweeps.MAX_RUNS:,}; split it into smaller sweeps")
    repeated = [name for name, values in [("tasks", tasks), ("seeds", seeds), *grid.items()] if len(set(values)) != len(values)]
    if repeated:
        raise UserError(f"{repeated[0]} lists a value twice; give each once (a value holding commas goes between ';', e.g. hidden=64,64;32,32)")
    return sweeps.Sweep(script=script, tasks=tasks, seeds=seeds, grid=grid, fixed=fixed, rollouts=rollouts)


def sweep_command(sweep: sweeps.Sweep, args: argparse.Namespace) -> str:
    """The command that makes this table."""
    words = ["python", "hw1/sweep.py", sweep.script, "--tasks", ",".join(sweep.tasks), "--seeds", ",".join(map(str, sweep.seeds))]
    for name, values in sweep.grid.items():
        words += ["--grid", f"{name}={(';' if any(',' in value for value in values) else ',').join(values)}"]
    for name, value in sweep.fixed.items():
        words += ["--set", f"{name}={value}"]
    if sweep.rollouts:
        words += ["--rollouts", str(sweep.rollouts)]
    words += ["--root", str(args.root)]
    if args.data_dir != Path("data/sweep"):
        words += ["--data_dir", str(args.data_dir)]
    return shlex.join(words)


# What a sweep writes under its root besides the runs, and what each is for (named in the refusal).
OUTPUT_FOLDERS = {"": "--root", "hparams": "its HParams logs", "sweep_state": "its cache stamps", "sweep_state/jobs": "its cache stamps",
                  "sweep_state/logs": "the runs' logs"}
OUTPUT_FILES = {"sweep.md": "its table", "sweep.json": "its table", f"sweep_state/{pipeline.INVOCATIONS_FILE}": "its cache history"}


def check_outputs(root: Path) -> None:
    """Refuse a root where the table, the HParams logs or the cache stamps cannot go (sweep.md a folder, hparams a file) before any
    run: else every run would run first, and the sweep would end in a traceback."""
    for name, use in OUTPUT_FOLDERS.items():
        path = root / name
        if os.path.lexists(path) and not path.is_dir():  # a dangling symlink too
            where = f"--root {root}" if not name else f"{path} (where the sweep keeps {use})"
            raise UserError(f"{where} is a file, not a folder; move or delete it, or use another --root")
    for name, use in OUTPUT_FILES.items():
        if (root / name).is_dir():
            raise UserError(f"{root / name} (where the sweep writes {use}) is a folder, not a file; move or delete it, or use another --root")


def main(args: argparse.Namespace) -> dict:
    """Run (or reuse) every step of the sweep, then write its table and HParams logs."""
    for flag, example in (("root", "results/sweep"), ("data_dir", "data/sweep")):
        if getattr(args, flag) == "":  # not the current directory, which would fill the checkout's top level
            raise UserError(f"--{flag} is empty; give a folder, e.g. --{flag} {example} (or leave --{flag} out for that default)")
    sweep = settings(args)
    cli.check_ray_address(args.address, args.backend, args.address_timeout)
    if args.jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {args.jobs}")
    # The steps run from the top of the checkout: paths given relative to here are made relative to it.
    args.root, args.data_dir = pipeline.checkout_relative(args.root), pipeline.checkout_relative(args.data_dir)
    os.chdir(pipeline.HW1_DIR.parent)
    check_outputs(args.root)
    jobs = sweeps.jobs(sweep, args.root, args.data_dir)
    sweeps.check_runs(sweep, jobs)
    runner = pipeline.Runner(jobs, args.root / "sweep_state", pipeline.LocalBackend(args.jobs),
                             env={"TQDM_DISABLE": "1", "PYTHONWARNINGS": "ignore", **(pipeline.thread_env(1) if args.jobs > 1 else {})})
    if args.dry_run:
        for job, state in runner.plan():
            print(f"{state:7s} {job.name}: {pipeline.command_text(job)}")
        return {"jobs": len(jobs)}
    if args.backend == "ray":
        from cs294 import cluster  # imports Ray

        if locks.is_locked(runner.state_dir):  # refuse a second runner before it joins the cluster, not after
            raise UserError(f"{runner.state_dir} is in use by {locks.holder(runner.state_dir)}; wait for that run to end, or use another --root")
        runner.backend = cluster.connect(args.address, timeout=args.address_timeout)
    try:
        outcome = runner.run()
    finally:
        runner.backend.close()
    done = {runner.jobs[name].output for name in [*outcome.ran, *outcome.cached]}
    finished = sweeps.finished_runs(sweep, args.root, done)
    table = sweeps.rows(sweep, finished)
    command = sweep_command(sweep, args)
    files.write_text(args.root / "sweep.md", sweeps.markdown(sweep, table, command))
    files.write_json(args.root / "sweep.json", {"script": sweep.script, "tasks": sweep.tasks, "seeds": sweep.seeds, "grid": sweep.grid,
                                                "fixed": sweep.fixed, "rows": table})
    log_root = sweeps.log_hparams(sweep, finished, args.root)
    print(sweeps.markdown(sweep, table, command))
    print(f"{len(outcome.ran)} runs ran, {len(outcome.cached)} were cached; wrote {args.root / 'sweep.md'}, sweep.json and {log_root}/")
    if outcome.failed or outcome.skipped:
        raise UserError(f"{len(outcome.failed)} runs failed ({', '.join(outcome.failed)}); see their logs in {args.root / 'sweep_state' / 'logs'}")
    return {"rows": table, "ran": outcome.ran, "cached": outcome.cached}


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
