"""Return of behavioral cloning against the number of expert demonstrations.

    python hw1/bc_curve.py Humanoid-v1 --num_demos 10,25,50,100,250 --seeds 0

Runs bc.py on the first N episodes of the task's rollout file for each N and seed (finished runs
with the same settings are reused), then writes a table and a plot of evaluation return against
N, with the expert's line, to runs/<env>/bc_curve/bc_curve.md and .png (reproduce.py gives its own --output_dir).
"""

import argparse
from pathlib import Path

import numpy as np

from cs294 import arguments, cli, configs, files, plots, studies


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("bc_curve.py", __doc__)
    parser.add_argument("env", help="a task with a rollout file, e.g. Hopper-v1 or Humanoid-v1")
    curve = parser.add_argument_group("the curve")
    each_run = parser.add_argument_group("each run")
    output = parser.add_argument_group("output")
    curve.add_argument("--num_demos", default="1,2,5,10", help="comma-separated episode counts (default: 1,2,5,10)")
    curve.add_argument("--seeds", default="0", help="comma-separated seeds (default: 0)")
    each_run.add_argument("--data", type=Path, default=None, help="rollout file (default: bc.py's)")
    each_run.add_argument("--epochs", type=int, default=100, help="epochs per run (default: 100)")
    each_run.add_argument("--eval_episodes", type=int, default=10, help="evaluation episodes per run (default: 10)")
    each_run.add_argument("--clip_observations", type=float, default=configs.PolicyConfig().observation_clip,
                          help="bc.py's --clip_observations (default: %(default)s; 0 is off)")
    output.add_argument("--output_dir", type=Path, default=None, help="where runs, table and plot go (default: runs/<env>/bc_curve)")
    output.add_argument("--reuse_only", action="store_true", help="only read finished runs; a missing one is an error (reproduce.py runs them itself)")
    return parser


def main(args: argparse.Namespace) -> list[dict]:
    from cs294 import runs  # here, not above: it imports Keras, which --help does not need

    num_demos, seeds = cli.comma_integers(args.num_demos, "--num_demos"), cli.comma_integers(args.seeds, "--seeds")
    output_dir = args.output_dir or runs.MANUAL_RUNS / args.env / "bc_curve"
    points, expert_mean = [], None
    for count in num_demos:
        seed_runs = []
        for seed in seeds:
            argv = studies.curve_bc_argv(args.env, count, seed, args.epochs, args.clip_observations, args.eval_episodes, args.data,
                           studies.curve_run_dir(output_dir, count, seed))
            seed_runs.append(runs.run_or_reuse(arguments.bc_parser().parse_args(argv), reuse_only=args.reuse_only))
        returns = [run["evaluation"]["mean"] for run in seed_runs]
        expert_mean = seed_runs[0]["expert"]["mean"] if expert_mean is None else expert_mean
        points.append({"num_demos": count, "transitions": seed_runs[0]["data"]["transitions"], "mean": float(np.mean(returns)),
                       "std": float(np.std(returns)), "per_seed": returns,
                       "expert_mean": float(np.mean([run["expert"]["mean"] for run in seed_runs]))})
    lines = [f"# {args.env}: behavioral cloning against the number of demonstrations", "",
             f"Made by `python hw1/bc_curve.py {args.env} --num_demos {args.num_demos} --seeds {args.seeds} --epochs {args.epochs} "
             f"--eval_episodes {args.eval_episodes} --clip_observations {args.clip_observations:g}`; bc.py's default network. Return: mean ± std over seeds of each run's "
             f"mean over {args.eval_episodes} evaluation episodes.", "",
             "| demonstrations | transitions | BC return | per seed | expert on the same episodes | % of expert |", "|---|---|---|---|---|---|"]
    for p in points:
        lines.append(f"| {p['num_demos']} | {p['transitions']} | {p['mean']:.1f} ± {p['std']:.1f} | "
                     f"{', '.join(f'{r:.0f}' for r in p['per_seed'])} | {p['expert_mean']:.1f} | "
                     f"{100 * p['mean'] / p['expert_mean']:.1f}% |")
    report = "\n".join(lines) + "\n"
    files.write_text(output_dir / "bc_curve.md", report)
    files.write_json(output_dir / "bc_curve.json", points)
    plots.plot_demonstration_curve(output_dir / "bc_curve.png", args.env, [p["num_demos"] for p in points],
                                       [p["mean"] for p in points], [p["std"] for p in points], expert_mean)
    print(report)
    print(f"wrote {output_dir}/bc_curve.md, bc_curve.json and bc_curve.png")
    return points


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
