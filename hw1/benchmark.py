"""Training, policy-call and rollout speed: the project's paths against plain ones, measured side by side.

    python hw1/benchmark.py --steps 20000
    python hw1/benchmark.py --sections training,policy --training_shapes hopper

Four sections, each a table of rates and of ratios measured in the same process:
1. training: samples/s of the project's engine (cs294.training.fit_policy) under XLA, as large
   fits run, and without XLA, as small ones run, of a plain
   `model.fit` (steps_per_execution=100, the path before the engine) and of Keras's own best
   compiled fit (XLA, one whole epoch per execution), on synthetic data of Hopper's shape
   (10,000 x 11 -> 3) and Humanoid's (250,000 x 376 -> 17); compilation excluded, trials
   interleaved, the median kept;
2. fits: seconds of a fresh model's whole fit, compilation included, under XLA and as a plain
   graph, for fits small and large, beside which of the two the engine picks (training.uses_xla);
3. policy: microseconds per call of bc.py's network on a batch of 16 observations, compiled
   TensorFlow against the numpy pass the rollout loop uses, beside 16 bare MuJoCo steps (mj_step) of
   Hopper, the physical cost of the step it drives;
4. loops, per environment: a bare loop (one environment, numpy expert, nothing recorded) against
   cs294.rollouts.sample_trajectories driven by the expert and by a policy trained on its episodes,
   the three taking turns in --trials rounds that share --steps.
"""

import argparse
from pathlib import Path
from typing import Sequence

from cs294 import cli, configs, files
from cs294.errors import UserError

EXPERT_ENVS = ("Ant-v1", "HalfCheetah-v1", "Hopper-v1", "Humanoid-v1", "Reacher-v1", "Walker2d-v1")
# name: (samples, observations, actions, epochs per timed trial)
TRAINING_SHAPES = {"hopper": (10_000, 11, 3, 5), "humanoid": (250_000, 376, 17, 1)}
MAX_SEED = 2**32 - 1  # keras.utils.set_random_seed seeds numpy's legacy generator, which takes no larger seed


def markdown_table(title: str, rows: list[dict], units: str) -> str:
    """One section: rates to 3 significant figures with thousands separators, ratios and differences as they need."""
    def cell(value: object) -> str:
        if isinstance(value, float):
            if value >= 100:
                return f"{value:,.0f}"
            return f"{value:.2g}" if value < 0.01 else f"{value:.2f}"
        return str(value)

    columns = list(rows[0])
    lines = [f"## {title} ({units})", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[column]) for column in columns) + " |" for row in rows]
    return "\n".join(lines)


SECTIONS = ("training", "fits", "policy", "loops")


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("benchmark.py", __doc__)
    what = parser.add_argument_group("what to measure")
    loops = parser.add_argument_group("the loops")
    output = parser.add_argument_group("output")
    what.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated sections: training, fits, policy, loops")
    what.add_argument("--training_shapes", default=",".join(TRAINING_SHAPES), help="comma-separated data shapes of the training section")
    what.add_argument("--trials", type=int, default=3, help="interleaved rounds of every section (the loops split --steps among them); the median is kept")
    loops.add_argument("--envs", default=",".join(EXPERT_ENVS), help="comma-separated MuJoCo tasks with a published expert, each also as <name>-today (default: all six)")
    loops.add_argument("--steps", type=int, default=20000, help="environment steps per loop and env, over all the rounds (default: 20000)")
    loops.add_argument("--num_envs", type=int, default=configs.DEFAULT_NUM_ENVS, help="environments in the package loop")
    loops.add_argument("--seed", type=int, default=0, help="seed of the episodes, the networks and the synthetic data")
    loops.add_argument("--epochs", type=int, default=5, help="epochs of the learned policy's training (default: 5)")
    output.add_argument("--output", type=Path, default=None, help="also write the tables to this markdown file, and the rows beside it as .json")
    return parser


def chosen(text: str, allowed: Sequence[str], flag: str) -> list[str]:
    """A comma-separated choice from `allowed`, or a UserError naming the flag."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise UserError(f"{flag} takes a comma-separated list of {', '.join(allowed)}; got {text!r}")
    return names


def loop_envs(text: str) -> list[str]:
    """--envs of the loops section, or a UserError: the loops drive continuous actions from a published MuJoCo expert's numpy pass."""
    from cs294.environments import TODAY_SUFFIX  # here, not above: it imports gymnasium and MuJoCo, which --help does not need

    names = [name.strip() for name in text.split(",") if name.strip()]
    supported = f"{', '.join(EXPERT_ENVS)} (each also as <name>{TODAY_SUFFIX})"
    unsupported = [name for name in names if name.removesuffix(TODAY_SUFFIX) not in EXPERT_ENVS]
    if not names:
        raise UserError(f"--envs names no task; the loops section runs the MuJoCo tasks with a published expert: {supported}")
    if unsupported:
        raise UserError(f"--envs names {', '.join(unsupported)}, but the loops section runs only the MuJoCo tasks with a published expert: {supported}")
    return names


def main(args: argparse.Namespace) -> dict:
    # Every flag is checked before Keras is imported and anything is measured.
    sections = chosen(args.sections, SECTIONS, "--sections")
    for flag in ("trials", "steps", "epochs", "num_envs"):
        if getattr(args, flag) < 1:
            raise UserError(f"--{flag} must be at least 1, got {getattr(args, flag)}")
    if args.seed > MAX_SEED:
        raise UserError(f"--seed must be at most {MAX_SEED} (2**32 - 1, the largest seed Keras takes), got {args.seed}")
    shapes = {name: TRAINING_SHAPES[name] for name in chosen(args.training_shapes, tuple(TRAINING_SHAPES), "--training_shapes")} if "training" in sections else {}
    envs = loop_envs(args.envs) if "loops" in sections else []
    if args.output:
        files.check_json_copy(args.output, "tables'")

    from cs294 import benchmarks  # here, not above: it imports Keras, which --help and a refusal do not need

    results, tables = {}, []
    if "training" in sections:
        results["training"] = benchmarks.training_rows(shapes, args.trials, args.seed)
        tables.append(markdown_table("Training, batch 32, Adam", results["training"], "samples/s; ratios in the same run"))
        print(tables[-1] + "\n", flush=True)
    if "fits" in sections:
        results["fits"] = benchmarks.fit_rows(args.trials, args.seed)
        tables.append(markdown_table("A fresh model's whole fit, XLA or a plain graph", results["fits"], "seconds, compilation included"))
        print(tables[-1] + "\n", flush=True)
    if "policy" in sections:
        results["policy"] = [benchmarks.policy_call_row(2000, args.trials, args.seed)]
        tables.append(markdown_table("Policy call, batch 16, bc.py's network", results["policy"], "microseconds per call"))
        print(tables[-1] + "\n", flush=True)
    if "loops" in sections:
        results["loops"] = benchmarks.loop_rows(envs, args.steps, args.seed, args.num_envs, args.epochs, args.trials)
        tables.append(markdown_table(f"Rollout loops, {args.steps:,} steps each in {args.trials} interleaved round{'s' if args.trials > 1 else ''}, {args.num_envs} environments", results["loops"], "steps/s"))
        print(tables[-1], flush=True)
    if args.output:
        files.write_text(args.output, "\n\n".join(tables) + "\n")
        files.write_json(args.output.with_suffix(".json"), {"steps": args.steps, "num_envs": args.num_envs, "epochs": args.epochs,
                                                             "trials": args.trials, **results})
    return results


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
