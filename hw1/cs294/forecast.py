"""Step times of a profile never run here, scaled from the measured steps of one that was.

A step of the new profile is matched to the measured step of the same name (a seed the measured
profile lacks borrows seed `seed % 3`'s). One with the same settings (its arguments apart from
paths) takes the measured time as it is. Otherwise steps that train scale their training time by
the ratio of epochs, using the seconds the run itself recorded in metrics.json: a BC step keeps its
measured start-up and evaluation and trains for `epochs / measured epochs` as long; a DAgger
step keeps each iteration's measured rollout and labelling time, and its training time follows
the epochs and the data of each fit (the data grows by the measured mean per iteration). Any
other step with other settings, and a step with no measured counterpart, keeps the plan's
estimate.
"""

import dataclasses
import functools
import json
import re
from pathlib import Path

from cs294 import pipeline
from cs294.errors import UserError


def flag(args: list[str], name: str, default: float) -> float:
    """The value of --name in a step's arguments, or the default."""
    return float(args[args.index(name) + 1]) if name in args else default


def counterpart(job: pipeline.Job, measured: dict[str, pipeline.Job]) -> pipeline.Job | None:
    """The measured job of the same name, or of the same name with a seed it ran (seed % 3)."""
    if job.name in measured:
        return measured[job.name]
    match = re.search(r"seed(\d+)$", job.name)
    return measured.get(job.name[:match.start()] + f"seed{int(match.group(1)) % 3}") if match else None


def read_json(path: Path) -> dict | None:
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def bc_seconds(job: pipeline.Job, reference: pipeline.Job, seconds: float) -> float | None:
    """A bc.py step: its measured time with the training part scaled by the epochs."""
    metrics = read_json(reference.output / "metrics.json")
    if not metrics or not isinstance(metrics.get("seconds"), dict):
        return None
    training = float(metrics["seconds"].get("training", 0.0))
    ratio = flag(job.args, "--epochs", 100) / flag(reference.args, "--epochs", 100)
    return seconds - training + training * ratio


def dagger_seconds(job: pipeline.Job, reference: pipeline.Job, seconds: float) -> float | None:
    """A dagger.py step: per fit, the measured rollout time plus training scaled by epochs and data."""
    metrics = read_json(reference.output / "metrics.json")
    bc = read_json(reference.output.parents[1] / "bc" / reference.output.name / "metrics.json")
    if not metrics or not bc or not metrics.get("iterations") or not bc.get("training_samples_per_second"):
        return None
    rate = float(bc["training_samples_per_second"])
    held_out = 1.0 - float(metrics["config"].get("training.validation_fraction", 0.1))
    iterations = metrics["iterations"]
    epochs = [flag(reference.args, "--epochs", 100)] + [flag(reference.args, "--retrain_epochs", 10)] * (len(iterations) - 1)
    training = [epoch * row["transitions"] * held_out / rate for epoch, row in zip(epochs, iterations)]
    rollouts = [max(0.0, row["seconds"] - train) for row, train in zip(iterations, training)]
    overhead = seconds - sum(row["seconds"] for row in iterations)
    growth = (iterations[-1]["transitions"] - iterations[0]["transitions"]) / max(1, len(iterations) - 1)
    new_epochs = [flag(job.args, "--epochs", 100)] + [flag(job.args, "--retrain_epochs", 10)] * int(flag(job.args, "--iterations", 10))
    total = overhead
    for index, epoch in enumerate(new_epochs):
        transitions = iterations[0]["transitions"] + growth * index
        total += rollouts[min(index, len(rollouts) - 1)] + epoch * transitions * held_out / rate
    return total


def settings(args: list[str]) -> list[str]:
    """A step's arguments with each path cut to its file name: two profiles' steps with equal settings run the same work in other
    folders (the name stays, as a rollout file's name holds its number of rollouts)."""
    return [Path(arg).name if "/" in arg else arg for arg in args]


def scaled_costs(jobs: list[pipeline.Job], measured_jobs: list[pipeline.Job], state_dir: Path) -> tuple[dict[str, float], set[str]]:
    """Predicted seconds per job, and the names of the jobs whose prediction came from a measured step.

    A measured step with the same settings gives its time as it is; one with other settings is
    scaled if it trains (bc.py, dagger.py), and otherwise tells nothing: the demo's one-round
    benchmark is not the full profile's.
    """
    measured = {job.name: job for job in measured_jobs}
    costs, matched = {}, set()
    for job in jobs:
        reference = counterpart(job, measured)
        seconds = pipeline.measured_seconds(pipeline.read_stamp(state_dir, reference)) if reference else None
        scaled = None
        if seconds is not None and (job.script, settings(job.args)) == (reference.script, settings(reference.args)):
            scaled = seconds
        elif seconds is not None and job.script == "bc.py":
            scaled = bc_seconds(job, reference, seconds)
        elif seconds is not None and job.script == "dagger.py":
            scaled = dagger_seconds(job, reference, seconds)
        if scaled is None:  # nothing measured to go by, or a training step whose measured run left no metrics: the plan's estimate
            costs[job.name] = job.cost
            continue
        costs[job.name] = scaled
        matched.add(job.name)
    return costs, matched


@functools.cache
def time_limit(task: str) -> int:
    """Steps of an episode of `task` that ran to its registered time limit (0 for a name this project does not know).

    Where an episode's length is not recorded, one that did not fall counts this many steps and one that fell counts none.
    """
    from cs294 import environments  # gymnasium and MuJoCo: only when a dry run counts steps

    try:
        return environments.default_max_episode_steps(environments.resolve(task)) or 0
    except Exception:  # noqa: BLE001  (an unknown or unregistered task: its episodes count none)
        return 0


def played(record: dict) -> float:
    """Environment steps of one evaluation record (episodes and their mean length)."""
    return float(record.get("episodes", 0)) * float(record.get("mean_length", 0.0))


def run_steps(metrics: dict, experts: set) -> float:
    """Steps a bc.py, dagger.py or bco.py run simulated; bc.py's and dagger.py's expert episodes count once per episode set (then they are cached)."""
    if "interactions" in metrics:
        # bco.py: its interactions (pre, post, selection) and its evaluation steps, which hold the expert's and the random
        # policy's episodes too. It plays its expert itself, without the cache, so no episode set is marked.
        return float(metrics["interactions"]["total"] + metrics["interactions"]["evaluation"])
    env, evaluation = metrics["config"]["env"], metrics.get("evaluation") or {}
    seeds = tuple(metrics.get("evaluation_seeds") or evaluation.get("seeds") or ())
    steps = played(evaluation)
    iterations = metrics.get("iterations") or []
    if iterations:  # dagger.py: the driving episodes, and each earlier iteration's curve episodes
        steps += iterations[-1]["transitions"] - iterations[0]["transitions"]
        steps += sum((row["episodes_scored"] - row["falls"]) * time_limit(env) for row in iterations[:-1])
    # Marked only now: a record that fails above counts none, and its expert's episodes still count for the next run that has them.
    if isinstance(metrics.get("expert"), dict) and (env, seeds) not in experts:
        experts.add((env, seeds))
        steps += played(metrics["expert"])
    return steps


def job_steps(job: pipeline.Job, experts: set) -> dict[str, float]:
    """Environment steps per task that a finished job simulated, from what it wrote (none for a step that plays no episode)."""
    if job.script in ("bc.py", "dagger.py", "bco.py"):
        metrics = read_json(job.output / "metrics.json")
        return {metrics["config"]["env"]: run_steps(metrics, experts)} if metrics else {}
    if job.script == "run_expert.py" and job.output.is_file():
        from cs294 import data  # here: only a finished expert step needs h5py

        # The lengths only: reading the episodes themselves (750 MB for Humanoid's file) is not needed.
        return {job.args[1]: float(data.read_episode_lengths(job.output).sum())}
    if job.script == "label_noise.py":
        payload = read_json(job.output.with_suffix(".json")) or {}
        records = [record for row in payload.get("rows", []) for runs in row.get("returns", {}).values() for record in runs]
        return {payload.get("env"): sum(map(played, records + payload.get("experts", [])))} if payload else {}
    if job.script == "check_experts.py":  # its JSON is a list, which read_json refuses; recorded_steps catches a damaged one
        rows = json.loads((job.output / "experts.json").read_text())
        return {row["task"]: (row["episodes"] - row["falls"]) * time_limit(row["task"]) for row in rows}
    return {}


def recorded_steps(job: pipeline.Job, experts: set) -> dict[str, float]:
    """job_steps, where a record that is damaged or not in the expected form counts none (the total stays a lower bound)."""
    try:
        return {str(task): float(count) for task, count in job_steps(job, experts).items()}
    except (OSError, KeyError, IndexError, TypeError, ValueError, AttributeError, UserError):
        return {}


def simulated_steps(jobs: list[pipeline.Job], state_dir: Path) -> dict[str, float]:
    """Environment steps per task that the outputs of the finished jobs record: a lower bound on what a clean start simulates."""
    experts: set = set()
    steps: dict[str, float] = {}
    for job in finished(jobs, state_dir):
        for task, count in recorded_steps(job, experts).items():
            steps[task] = steps.get(task, 0.0) + count
    return steps


def finished(jobs: list[pipeline.Job], state_dir: Path) -> list[pipeline.Job]:
    """The jobs whose stamp says done: a running or failed step's partial output, or a run someone left, counts none."""
    return [job for job in jobs if (pipeline.read_stamp(state_dir, job) or {}).get("status") == "done"]


def loop_rates(benchmark: Path) -> dict[str, float]:
    """Steps per second of each task the speed benchmark timed: the fastest of its four loop rates."""
    payload = read_json(benchmark) or {}
    rates = {}
    for row in payload.get("loops", []) if isinstance(payload.get("loops"), list) else []:
        if not isinstance(row, dict):  # a damaged benchmark.json: that row times nothing
            continue
        measured = [value for key, value in row.items() if key.endswith(("expert", "learned")) and isinstance(value, (int, float)) and value > 0]
        if measured and isinstance(row.get("env"), str):
            rates[row["env"]] = max(measured)
    return rates


def simulation_seconds(steps: dict[str, float], benchmark: Path) -> tuple[float, float]:
    """(seconds on one core, steps timed) for the tasks the benchmark timed, each at the fastest of its four loop rates."""
    rates = loop_rates(benchmark)
    timed = {task: count for task, count in steps.items() if task in rates}
    return sum(count / rates[task] for task, count in timed.items()), sum(timed.values())


def fit_seconds(metrics: dict) -> float:
    """Seconds one bc.py or bco.py run recorded as fitting."""
    total = float(metrics["seconds"].get("training", 0.0)) if isinstance(metrics.get("seconds"), dict) else 0.0
    for row in metrics.get("iterations") or []:
        total += sum(float(row.get("phase_seconds", {}).get(phase, 0.0)) for phase in ("inverse_fit", "policy_fit"))
    return total


def job_fit_seconds(job: pipeline.Job) -> float:
    """Seconds a finished bc.py or bco.py step recorded as fitting; 0 for any other step or a record not in the expected form."""
    metrics = read_json(job.output / "metrics.json") if job.script in ("bc.py", "bco.py") else None
    try:
        return fit_seconds(metrics) if metrics else 0.0
    except (KeyError, TypeError, ValueError, AttributeError):
        return 0.0


def training_seconds(jobs: list[pipeline.Job], state_dir: Path) -> float:
    """Seconds the finished bc.py and bco.py steps recorded as fitting (dagger.py records none apart from its rollouts)."""
    return sum(job_fit_seconds(job) for job in finished(jobs, state_dir))


@dataclasses.dataclass
class StageTime:
    """One stage's finished steps: their measured seconds, and the part the floor accounts for."""

    steps: int = 0
    seconds: float = 0.0
    simulation: float = 0.0
    """Their recorded MuJoCo steps at the benchmark's loop rates."""
    fits: float = 0.0
    """The fits bc.py and bco.py recorded."""

    @property
    def rest(self) -> float:
        """What the floor leaves out: DAgger's fits, the expert's labels, evaluation beyond the loop's rate, start-up, saving."""
        return self.seconds - self.simulation - self.fits


def stage_times(jobs: list[pipeline.Job], state_dir: Path, benchmark: Path) -> dict[str, StageTime]:
    """Per stage, in plan order, where the finished steps' measured time went: simulation, recorded fits and the rest.

    The expert's scoring episodes are played once per episode set, by the step that needs them
    first, so they count in the stage of the finished step that started first (by its stamp).
    """
    rates = loop_rates(benchmark)
    stamps = {job.name: pipeline.read_stamp(state_dir, job) or {} for job in finished(jobs, state_dir)}
    stages: dict[str, StageTime] = {job.stage: StageTime() for job in jobs if job.name in stamps}
    experts: set = set()
    for job in sorted((job for job in jobs if job.name in stamps), key=lambda job: str(stamps[job.name].get("started_utc", ""))):
        stage = stages[job.stage]
        stage.steps += 1
        stage.seconds += pipeline.measured_seconds(stamps[job.name]) or 0.0
        stage.simulation += sum(count / rates[task] for task, count in recorded_steps(job, experts).items() if task in rates)
        stage.fits += job_fit_seconds(job)
    return stages
