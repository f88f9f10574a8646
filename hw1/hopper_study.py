"""Seed 000's Hopper architecture study: seven BC configurations, several seeds, one table.

    python hw1/hopper_study.py --seeds 0,1,2

Each configuration is a bc.py run on the Hopper-v1 expert data. The network follows seed 000's
BCModel: hidden layers of 128 and 64 units; its regularization, tf.contrib's
l2_regularizer(0.01) = 0.01 * sum(w^2) / 2, is Keras L2(0.005). Runs whose metrics.json already
holds the same settings are reused, so an interrupted study continues where it stopped. The
table, beside seed 000's numbers, goes to runs/hopper_architectures.md (reproduce.py writes it to
results/hopper_architectures.md).
"""

import argparse
from pathlib import Path

import numpy as np

from cs294 import arguments, cli, files, studies

def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("hopper_study.py", __doc__)
    the_runs = parser.add_argument_group("the runs")
    output = parser.add_argument_group("output")
    the_runs.add_argument("--seeds", default="0,1,2", help="comma-separated seeds, one BC run per seed and configuration (default: 0,1,2)")
    the_runs.add_argument("--data", type=Path, default=None, help="Hopper-v1 rollout file (default: data/Hopper-v1_10_rollouts.h5)")
    the_runs.add_argument("--epochs", type=int, default=100, help="epochs per run (default: 100)")
    the_runs.add_argument("--eval_episodes", type=int, default=10, help="evaluation episodes per run (default: 10)")
    output.add_argument("--results_dir", type=Path, default=Path("runs/Hopper-v1/architecture_study"), help="where the runs go (default: runs/Hopper-v1/architecture_study)")
    output.add_argument("--output", type=Path, default=Path("runs/hopper_architectures.md"), help="the markdown table (default: runs/hopper_architectures.md)")
    output.add_argument("--reuse_only", action="store_true", help="only read finished runs; a missing one is an error (reproduce.py runs them itself)")
    return parser


def run_or_reuse(config: studies.StudyConfig, seed: int, args: argparse.Namespace) -> dict:
    """The metrics of one run, trained now unless a finished run with the same settings exists."""
    from cs294 import runs  # here, not above: it imports Keras, which --help does not need

    print(f"=== {config.label}, seed {seed}")
    argv = studies.study_bc_argv(config, seed, args.epochs, args.eval_episodes, args.data, studies.study_run_dir(args.results_dir, config, seed))
    return runs.run_or_reuse(arguments.bc_parser().parse_args(argv), reuse_only=args.reuse_only)


def summarize(results: dict[studies.StudyConfig, list[dict]]) -> dict[studies.StudyConfig, tuple[float, float]]:
    """Mean and std over seeds of each configuration's mean evaluation return."""
    return {config: (float(np.mean([m["evaluation"]["mean"] for m in runs])), float(np.std([m["evaluation"]["mean"] for m in runs])))
            for config, runs in results.items()}


def finding(claim: str, better: list[tuple[float, float]], worse: list[tuple[float, float]], detail: str) -> str:
    """One of seed 000's claims, checked on the means: reproduced where every comparison holds."""
    holding = sum(b[0] > w[0] for b, w in zip(better, worse))
    verdict = "reproduced" if holding == len(better) else "not reproduced" if holding == 0 else "partly reproduced"
    return f"- **{claim}**: {verdict} ({detail})."


def findings(summary: dict[studies.StudyConfig, tuple[float, float]]) -> list[str]:
    by = {config.slug: summary[config] for config in summary}
    tanh_sgd, tanh_adam, relu_sgd, relu_adam, tanh_reg, relu_reg, relu_lstm = (by[c.slug] for c in studies.CONFIGS)
    fmt = lambda pair: f"{pair[0]:.0f} ± {pair[1]:.0f}"  # noqa: E731
    return [
        finding("Adam beats SGD", [tanh_adam, relu_adam], [tanh_sgd, relu_sgd],
                f"tanh {fmt(tanh_adam)} vs {fmt(tanh_sgd)}, ReLU {fmt(relu_adam)} vs {fmt(relu_sgd)}"),
        finding("tanh beats ReLU", [tanh_adam, tanh_reg], [relu_adam, relu_reg],
                f"without L2 {fmt(tanh_adam)} vs {fmt(relu_adam)}, with L2 {fmt(tanh_reg)} vs {fmt(relu_reg)}"),
        finding("Regularization helps", [tanh_reg, relu_reg], [tanh_adam, relu_adam],
                f"tanh {fmt(tanh_reg)} vs {fmt(tanh_adam)}, ReLU {fmt(relu_reg)} vs {fmt(relu_adam)}"),
        finding("The LSTM output layer does not help", [relu_reg], [relu_lstm],
                f"linear {fmt(relu_reg)} vs LSTM {fmt(relu_lstm)}"),
    ]


def markdown_report(results: dict[studies.StudyConfig, list[dict]], args: argparse.Namespace) -> str:
    summary = summarize(results)
    expert = next(iter(results.values()))[0]["expert"]
    first = next(iter(results.values()))[0]
    lines = [
        "# Hopper-v1 architecture study (seed 000)",
        "",
        f"Behavioral cloning on `{first['data']['path']}` ({first['data']['episodes']} expert episodes, "
        f"{first['data']['transitions']} transitions; expert {expert['mean']:.1f} ± {expert['std']:.1f}). "
        f"Hidden layers 128 and 64, {args.epochs} epochs, batch 32, learning rate 1e-3, L2 {studies.SEED_000_L2} where regularized "
        f"(seed 000's l2_regularizer(0.01)). Each seed's return is the mean of {args.eval_episodes} evaluation episodes; "
        "the table gives the mean ± std of that over seeds.",
        "",
        f"Made by `python hw1/hopper_study.py --seeds {args.seeds} --epochs {args.epochs} --eval_episodes {args.eval_episodes}`.",
        "",
        "| configuration | seed 000 | this project | per seed | % of expert |",
        "|---|---|---|---|---|",
    ]
    for config, seed_runs in results.items():
        mean, std = summary[config]
        per_seed = ", ".join(f"{m['evaluation']['mean']:.0f}" for m in seed_runs)
        lines.append(f"| {config.label} | {config.published:g} | {mean:.1f} ± {std:.1f} | {per_seed} | {100 * mean / expert['mean']:.1f}% |")
    lines += ["", "## Seed 000's findings, checked", "", *findings(summary), ""]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> dict:
    seeds = cli.comma_integers(args.seeds, "--seeds")
    results = {config: [run_or_reuse(config, seed, args) for seed in seeds] for config in studies.CONFIGS}
    report = markdown_report(results, args)
    files.write_text(args.output, report)
    print(report)
    print(f"wrote {args.output}")
    return {config.slug: summarize(results)[config] for config in studies.CONFIGS}


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
