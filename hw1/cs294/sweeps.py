"""A grid of bc.py, dagger.py or bco.py runs (tasks x seeds x hyperparameters) as cached steps, and its table.

Every run is a step of the same cached graph reproduce.py uses (cs294.pipeline), so a sweep
skips what is done, resumes what was cut short, and runs on either backend. The table gives, per
cell, the mean, std, n and a 95% bootstrap confidence interval of the final return over seeds
(BC: the evaluation; DAgger and BCO: the last iteration), beside the expert on the same episodes.
"""

import dataclasses
import hashlib
import itertools
import json
import math
import re
import tomllib
from pathlib import Path

import numpy as np

from cs294 import arguments, cli, data, pipeline
from cs294.errors import UserError

SCRIPTS = {"bc": "bc.py", "dagger": "dagger.py", "bco": "bco.py"}
BOOTSTRAP_SAMPLES = 10_000
MAX_RUNS = 10_000
"""The most runs (tasks x cells x seeds) a sweep may plan: more would only exhaust memory while planning."""
# Seeds go to numpy and Keras, whose seeds are 32-bit.
SEED_LIMIT = 2**32


@dataclasses.dataclass(frozen=True)
class Sweep:
    """What to run: one script over tasks x seeds x every combination of the grid's values."""

    script: str
    tasks: tuple[str, ...]
    seeds: tuple[int, ...]
    grid: dict[str, tuple[str, ...]]
    """Option name (without --) -> the values to try, as they are typed on the command line."""
    fixed: dict[str, str] = dataclasses.field(default_factory=dict)
    """Options every run gets."""
    rollouts: int | None = None
    """Expert episodes per task (default: seed 002's count)."""

    def cells(self) -> list[dict[str, str]]:
        """Every combination of the grid's values, in the grid's order."""
        names = list(self.grid)
        return [dict(zip(names, values)) for values in itertools.product(*(self.grid[name] for name in names))] or [{}]


def parse_grid(words: list[str]) -> dict[str, tuple[str, ...]]:
    """--grid NAME=V1,V2 (a value holding commas, such as --hidden 64,64, is written with ';' between values: hidden=64,64;32,32)."""
    grid = {}
    for word in words:
        name, _, values = word.partition("=")
        separator = ";" if ";" in values else ","
        split = tuple(value.strip() for value in values.split(separator) if value.strip())
        if not name or not split:
            raise UserError(f"--grid {word!r}: write NAME=VALUE1,VALUE2, e.g. --grid learning_rate=0.001,0.0003")
        name = name.strip().removeprefix("--")
        if name in grid:  # a later --grid would silently replace the earlier one
            raise UserError(f"--grid names {name} twice; give all its values in one --grid {name}=V1,V2")
        grid[name] = split
    return grid


def read_toml(path: Path) -> dict:
    """A sweep file: script, tasks, seeds, [grid] and [fixed] tables (docs/sweeps.md), with their types checked."""
    try:
        with open(path, "rb") as handle:
            settings = tomllib.load(handle)
    except FileNotFoundError:
        raise UserError(f"{path}: no such sweep file") from None
    except IsADirectoryError:
        raise UserError(f"--config {path} is a directory; name a TOML sweep file") from None
    except OSError as error:
        raise UserError(f"--config {path} cannot be read ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not a valid TOML sweep file ({error})") from None
    unknown = set(settings) - {"script", "tasks", "seeds", "grid", "fixed", "rollouts"}
    if unknown:
        raise UserError(f"{path}: unknown keys {sorted(unknown)}; a sweep file holds script, tasks, seeds, rollouts, [grid] and [fixed]")
    kinds = {"script": str, "tasks": list, "seeds": list, "grid": dict, "fixed": dict, "rollouts": int}
    for key, kind in kinds.items():
        # TOML's true and false are Python bools, which isinstance counts as ints.
        if key in settings and (not isinstance(settings[key], kind) or isinstance(settings[key], bool)):
            raise UserError(f"{path}: {key} must be {KIND_NAMES[kind]}, e.g. {EXAMPLES[key]}")
    if not all(isinstance(task, str) for task in settings.get("tasks", [])) or not all(
            isinstance(seed, int) and not isinstance(seed, bool) for seed in settings.get("seeds", [])):
        raise UserError(f"{path}: tasks are strings and seeds whole numbers, e.g. {EXAMPLES['tasks']} and {EXAMPLES['seeds']}")
    if not all(isinstance(values, list) and values for values in settings.get("grid", {}).values()):
        raise UserError(f"{path}: each [grid] entry is a list of values, e.g. {EXAMPLES['grid']}")
    return settings


KIND_NAMES = {str: "a string", list: "a list", dict: "a table", int: "a whole number"}
EXAMPLES = {"script": 'script = "bc"', "tasks": 'tasks = ["Hopper-v1"]', "seeds": "seeds = [0, 1, 2]",
            "grid": "learning_rate = [0.001, 0.0003] under [grid]", "fixed": "epochs = 20 under [fixed]", "rollouts": "rollouts = 10"}


def text(value) -> str:
    """A TOML value as it is typed on the command line (a list of numbers becomes 64,64)."""
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def data_job(task: str, rollouts: int, data_dir: Path, max_steps: int | None = None) -> pipeline.Job:
    """The step that writes a task's expert rollouts with run_expert.py."""
    output = data_dir / f"{task}_{rollouts}_rollouts.h5"
    args = [f"experts/{task}.pkl", task, "--num_rollouts", str(rollouts), "--output", str(output)]
    if max_steps:
        args += ["--max_timesteps", str(max_steps)]
    return pipeline.Job(name=f"data/{task}", script="run_expert.py", args=args, output=output, stage="expert data",
                        inputs=(Path("experts") / f"{task}.pkl",), cost=rollouts * (0.4 if task in ("Ant-v1", "Humanoid-v1") else 0.15))


def value_slug(value: str) -> str:
    """A value as a safe piece of a directory name: itself if plain (64,64 as 64-64), else a hash (a path, or anything with / or spaces)."""
    plain = value.replace(",", "-")
    if re.fullmatch(r"[A-Za-z0-9.+-]+", plain) and plain.strip(".") and len(plain) <= 40:
        return plain
    return "h" + hashlib.sha256(value.encode()).hexdigest()[:12]


def cell_slug(cell: dict[str, str]) -> str:
    """A directory name for one cell of the grid, e.g. learning_rate-0.001_hidden-64-64; never a path out of the sweep's root."""
    return "_".join(f"{name}-{value_slug(value)}" for name, value in cell.items()) or "default"


def check_cells(sweep: Sweep) -> None:
    """Refuse a grid whose cells would share a directory (64,64 and 64-64 both read 64-64): one run would overwrite another."""
    seen: dict[str, dict[str, str]] = {}
    for cell in sweep.cells():
        slug = cell_slug(cell)
        if slug in seen:
            raise UserError(f"the grid's cells {seen[slug]} and {cell} would share the directory {slug}; give each value one spelling")
        seen[slug] = cell


def run_dir(root: Path, sweep: Sweep, task: str, cell: dict[str, str], seed: int) -> Path:
    return root / task / sweep.script / cell_slug(cell) / f"seed{seed}"


def jobs(sweep: Sweep, root: Path, data_dir: Path) -> list[pipeline.Job]:
    """The data steps and one step per task x cell x seed."""
    check_cells(sweep)
    steps = []
    for task in sweep.tasks:
        rollouts = sweep.rollouts or data.DEMONSTRATION_ROLLOUTS.get(task, 10)
        source = data_job(task, rollouts, data_dir)
        steps.append(source)
        for cell in sweep.cells():
            options = {**sweep.fixed, **cell}
            for seed in sweep.seeds:
                directory = run_dir(root, sweep, task, cell, seed)
                args = [task, "--demos" if sweep.script == "bco" else "--data", str(source.output), "--seed", str(seed), "--run_dir", str(directory)]
                for name, value in options.items():
                    args += [f"--{name}", value]
                steps.append(pipeline.Job(name=f"{sweep.script}/{task}/{cell_slug(cell)}/seed{seed}", script=SCRIPTS[sweep.script], args=args,
                                          output=directory, stage="sweep", deps=(source.name,),
                                          inputs=(source.output, *((Path("experts") / f"{task}.pkl",) if sweep.script in ("dagger", "bco") else ())),
                                          cost=60, **(pipeline.DAGGER_RESUME if sweep.script == "dagger" else {})))
    return steps


RESERVED = {"seed": "is set by the sweep itself; use --seeds, --root or --data_dir instead",
            "run_dir": "is set by the sweep itself; use --seeds, --root or --data_dir instead",
            "data": "is set by the sweep itself; use --seeds, --root or --data_dir instead",
            "demos": "is set by the sweep itself; use --seeds, --root or --data_dir instead",
            "resume": "is the sweep's to decide: a sweep resumes interrupted runs and redoes changed ones by itself",
            "overwrite": "is the sweep's to decide: a sweep resumes interrupted runs and redoes changed ones by itself",
            "help": "is not an option of a run; see python hw1/sweep.py --help"}


def check_runs(sweep: Sweep, steps: list[pipeline.Job]) -> None:
    """Parse every run's command line as its script will and check the run configuration it gives: a bad option or value is refused before anything runs."""
    from cs294 import bco, dagger, runs  # the methods' own settings and checks, and the run configuration (they import Keras)

    method = {"bc": (arguments.bc_parser, (), lambda args: None), "dagger": (arguments.dagger_parser, dagger.OPTIONS, dagger.check_args),
              "bco": (arguments.bco_parser, bco.OPTIONS, bco.check_args)}[sweep.script]
    make_parser, options, check = method
    script = SCRIPTS[sweep.script]
    known = make_parser()._option_string_actions
    for name in {**sweep.fixed, **sweep.grid}:
        if name in RESERVED:
            raise UserError(f"--{name} {RESERVED[name]}")
        if f"--{name}" not in known:
            raise UserError(f"{script} has no option --{name}; see python hw1/{script} --help")
    for name, values in {**{name: (value,) for name, value in sweep.fixed.items()}, **sweep.grid}.items():
        if known[f"--{name}"].type is Path:  # a file option, such as dagger.py's --expert: all must exist before any run starts
            missing = [value for value in values if not Path(value).is_file()]
            if missing:
                raise UserError(f"--{name} {missing[0]}: no such file (the runs start from {pipeline.HW1_DIR.parent}); "
                                "every file a sweep names must exist before it runs")
    sources = {step.name: step.output for step in steps if step.script == "run_expert.py"}
    for step in steps:
        if step.script != script:
            continue
        parser = make_parser()

        def refuse(message: str, step: pipeline.Job = step) -> None:
            raise UserError(f"run {step.name}: {message}")

        parser.error = refuse  # argparse would print the usage and exit
        try:
            args = parser.parse_args(step.args)
            cli.check_common_arguments(args)  # what cli.run checks before every script's main
            check(args)
            runs.RunConfig.from_args(args, options, data_path=sources[step.deps[0]])
        except UserError as error:
            message = str(error)
            raise UserError(message if message.startswith("run ") else f"run {step.name}: {message}") from None


def final_return(metrics: dict) -> tuple[float, float]:
    """(the run's final return, the expert's on the same episodes): BC's evaluation, DAgger's last iteration, BCO's kept policy."""
    if "evaluation" in metrics:
        score = metrics["evaluation"]["mean"]
    elif "summary" in metrics:  # BCO: the policy it kept, chosen without the reward (policy.keras)
        score = metrics["summary"]["kept"]["return"]
    else:
        score = metrics["iterations"][-1]["return_mean"]
    return float(score), float(metrics["expert"]["mean"])


def bootstrap_interval(values: list[float], seed: int = 0) -> tuple[float, float]:
    """The 95% percentile bootstrap interval of the mean (the value itself when there is one run)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float(values.mean()), float(values.mean())
    generator = np.random.default_rng(seed)
    means = values[generator.integers(0, len(values), size=(BOOTSTRAP_SAMPLES, len(values)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def finished_runs(sweep: Sweep, root: Path, done: set[Path]) -> dict[tuple[str, str, int], dict]:
    """The metrics of the runs this sweep finished (ran or found cached), by (task, cell, seed); nothing else on disk counts."""
    found = {}
    for task in sweep.tasks:
        for cell in sweep.cells():
            for seed in sweep.seeds:
                directory = run_dir(root, sweep, task, cell, seed)
                metrics = json.loads((directory / "metrics.json").read_text()) if directory in done else None
                # A run whose score is not finite (one written before bc.py refused them) would make a row of nan.
                if metrics and metrics.get("complete", True) and all(map(np.isfinite, final_return(metrics))):
                    found[task, cell_slug(cell), seed] = metrics
    return found


def rows(sweep: Sweep, runs: dict[tuple[str, str, int], dict]) -> list[dict]:
    """One row per task x cell: the final returns over seeds, their mean, std, n and 95% bootstrap interval."""
    table = []
    for task in sweep.tasks:
        for cell in sweep.cells():
            scores, experts = [], []
            for seed in sweep.seeds:
                if (task, cell_slug(cell), seed) in runs:
                    score, expert = final_return(runs[task, cell_slug(cell), seed])
                    scores.append(score)
                    experts.append(expert)
            if scores:
                low, high = bootstrap_interval(scores)
                table.append({"task": task, "cell": cell, "returns": scores, "mean": float(np.mean(scores)), "std": float(np.std(scores)),
                              "n": len(scores), "ci95": [low, high], "expert": float(np.mean(experts))})
    return table


def markdown(sweep: Sweep, table: list[dict], command: str) -> str:
    """The sweep's table: one row per task and cell."""
    names = list(sweep.grid)
    lines = [f"# Sweep: {sweep.script}.py", "", f"Made by `{command}`. Final return over seeds {', '.join(map(str, sweep.seeds))}: "
             "mean ± std (n), and a 95% percentile bootstrap interval of the mean; the expert on the same episodes.", "",
             "| task | " + " | ".join(names) + (" | " if names else "") + "return | 95% CI | expert |",
             "|---|" + "---|" * len(names) + "---|---|---|"]
    for row in table:
        cells = " | ".join(row["cell"][name] for name in names)
        lines.append(f"| {row['task']} | {cells}{' | ' if names else ''}{row['mean']:.1f} ± {row['std']:.1f} (n = {row['n']}) | "
                     f"[{row['ci95'][0]:.1f}, {row['ci95'][1]:.1f}] | {row['expert']:.1f} |")
    return "\n".join(lines) + "\n"


def log_hparams(sweep: Sweep, runs: dict[tuple[str, str, int], dict], root: Path) -> Path:
    """One TensorBoard run per finished step under ROOT/hparams, with its hyperparameters and final return (the HParams view)."""
    import shutil

    from cs294 import quiet_tensorflow  # noqa: F401  (before TensorFlow)
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hparams

    log_root = root / "hparams"
    shutil.rmtree(log_root, ignore_errors=True)  # this sweep's runs only, not an earlier sweep's
    for task in sweep.tasks:
        for cell in sweep.cells():
            for seed in sweep.seeds:
                metrics = runs.get((task, cell_slug(cell), seed))
                if metrics is None:
                    continue
                score, expert = final_return(metrics)
                writer = tf.summary.create_file_writer(str(log_root / task / cell_slug(cell) / f"seed{seed}"))
                with writer.as_default():
                    hparams.hparams({"task": task, "seed": seed, **{name: number(value) for name, value in {**sweep.fixed, **cell}.items()}})
                    tf.summary.scalar("final_return", score, step=0)
                    tf.summary.scalar("expert_return", expert, step=0)
                writer.close()
    return log_root


def number(value: str) -> float | str:
    """A hyperparameter as a number where it is one, so the HParams view can sort and plot it."""
    try:
        return float(value)
    except ValueError:
        return value
