"""Step times of a profile never run here, scaled from the measured steps of one that was.

A step of the new profile is matched to the measured step of the same name (a seed the measured
profile lacks borrows seed `seed % 3`'s). Steps that train scale their training time by the
ratio of epochs, using the seconds the run itself recorded in metrics.json: a BC step keeps its
measured start-up and evaluation and trains for `epochs / measured epochs` as long; a DAgger
step keeps each iteration's measured rollout and labelling time, and its training time follows
the epochs and the data of each fit (the data grows by the measured mean per iteration). Any
other step takes its measured time as it is, and a step with no measured counterpart keeps the
plan's estimate.
"""

import json
import re
from pathlib import Path

from cs294 import pipeline


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


def scaled_costs(jobs: list[pipeline.Job], measured_jobs: list[pipeline.Job], state_dir: Path) -> tuple[dict[str, float], int]:
    """Predicted seconds per job, and how many came from a measured step."""
    measured = {job.name: job for job in measured_jobs}
    costs, matched = {}, 0
    for job in jobs:
        reference = counterpart(job, measured)
        stamp = pipeline.read_stamp(state_dir, reference) if reference else None
        seconds = stamp.get("seconds") if stamp and stamp.get("status") == "done" else None
        if not isinstance(seconds, (int, float)):
            costs[job.name] = job.cost
            continue
        scaled = float(seconds)
        if job.script == "bc.py":
            scaled = bc_seconds(job, reference, float(seconds))
        elif job.script == "dagger.py":
            scaled = dagger_seconds(job, reference, float(seconds))
        if scaled is None:  # a training step whose measured run left no metrics to scale: the plan's estimate
            costs[job.name] = job.cost
            continue
        costs[job.name] = scaled
        matched += 1
    return costs, matched
