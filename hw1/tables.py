"""The reward tables from the runs under results/: Expert / BC / DAgger beside seed 002, and BCO.

    python hw1/tables.py

Reads results/<ENV>/bc/seed*/metrics.json (made by `python hw1/bc.py <ENV> --seed S --run_dir
results/<ENV>/bc/seedS`) and results/<ENV>/dagger/seed*/metrics.json (made by dagger.py the
same way). A method's return is the mean over seeds of each run's mean evaluation return, ± the
std over seeds. For DAgger, each run's best iteration counts (the one saved as policy.keras). The
expert column is the expert scored on the same evaluation seeds as the BC runs; DAgger's
percentages use the expert on DAgger's own evaluation seeds. The best iteration is chosen on the
evaluation episodes, which flatters it a little; the last iteration's return is given too.

The BCO table reads results/<ENV>/bco/seed*/metrics.json (bco.py) for CartPole, Hopper and
HalfCheetah: BCO(0) is iteration 0, BCO(alpha) the last iteration.
"""

import argparse
import glob
import json
from pathlib import Path

import numpy as np

from cs294 import cli, files

TASKS = ("Ant-v1", "HalfCheetah-v1", "Hopper-v1", "Humanoid-v1", "Reacher-v1", "Walker2d-v1")
# Seed 002's table: rollouts, expert, BC, DAgger as mean (std).
SEED_002 = {
    "Ant-v1": (250, "4747 (459)", "905 (1)", "896 (2)"),
    "HalfCheetah-v1": (10, "4161 (69)", "4197 (76)", "4139 (57)"),
    "Hopper-v1": (10, "3780 (1)", "3581 (598)", "3775 (2)"),
    "Humanoid-v1": (250, "10402 (107)", "354 (7)", "385 (24)"),
    "Reacher-v1": (10, "-3.8 (1)", "-14 (5)", "-12 (3)"),
    "Walker2d-v1": (250, "5513 (49)", "4993 (1058)", "5460 (132)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tables.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=Path("results"), help="results directory (default: results)")
    parser.add_argument("--output", type=Path, default=None, help="also write the table to this markdown file")
    return parser


def load_runs(results: Path, env_name: str, method: str) -> list[dict]:
    return [json.loads(Path(path).read_text()) for path in sorted(glob.glob(str(results / env_name / method / "seed*" / "metrics.json")))]


def summarize(values: list[float]) -> str:
    return f"{np.mean(values):.1f} ± {np.std(values):.1f}" if values else "–"


def share(value: list[float], expert: list[float]) -> str:
    if not value or not expert:
        return ""
    if np.mean(expert) <= 0:  # Reacher's returns are negative: a gap reads better than a ratio
        return f" (gap {np.mean(value) - np.mean(expert):+.1f})"
    return f" ({100 * np.mean(value) / np.mean(expert):.0f}%)"


def table(results: Path) -> str:
    lines = ["| task | rollouts | expert (ours) | BC (ours) | DAgger, best iteration (ours) | DAgger, last iteration | DAgger data at best, wall time | seed 002 expert | seed 002 BC | seed 002 DAgger |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for env_name in TASKS:
        bc_runs, dagger_runs = load_runs(results, env_name, "bc"), load_runs(results, env_name, "dagger")
        expert = [run["expert"]["mean"] for run in bc_runs] or [run["expert"]["mean"] for run in dagger_runs]
        bc = [run["evaluation"]["mean"] for run in bc_runs]
        best = [run["iterations"][run["best_iteration"]] for run in dagger_runs]
        dagger = [row["return_mean"] for row in best]
        last = [run["iterations"][-1]["return_mean"] for run in dagger_runs]
        dagger_expert = [run["expert"]["mean"] for run in dagger_runs]
        cost = "; ".join(f"{row['transitions']} transitions at iteration {row['iteration']} of {len(run['iterations']) - 1}, "
                         f"{sum(r['seconds'] for r in run['iterations']):.0f} s" for row, run in zip(best, dagger_runs))
        rollouts, *published = SEED_002[env_name]
        lines.append(f"| {env_name} | {rollouts} | {summarize(expert)} | {summarize(bc)}{share(bc, expert)} | "
                     f"{summarize(dagger)}{share(dagger, dagger_expert)} | {summarize(last)}{share(last, dagger_expert)} | {cost or '–'} | "
                     + " | ".join(published) + " |")
    counts = ", ".join(f"{e} {len(load_runs(results, e, 'bc'))}/{len(load_runs(results, e, 'dagger'))}" for e in TASKS)
    lines += ["", f"Seeds (BC/DAgger runs) per task: {counts}. DAgger's wall time adds up its iterations "
              "(rollouts, labeling, training), evaluation excluded."]
    return "\n".join(lines) + "\n"


BCO_TASKS = ("CartPole-v1", "Hopper-v1", "HalfCheetah-v1")


def bco_table(results: Path) -> str:
    """Expert, BC with the true actions, BCO(0) and BCO(alpha), with the environment interactions each used."""
    lines = ["| task | expert | BC, true actions | BCO(0) | interactions | BCO(alpha) | interactions | seeds |",
             "|---|---|---|---|---|---|---|---|"]
    for env_name in BCO_TASKS:
        bco_runs = load_runs(results, env_name, "bco")
        if not bco_runs:
            continue
        bc = [run["evaluation"]["mean"] for run in load_runs(results, env_name, "bc")]
        expert = [run["expert"]["mean"] for run in bco_runs]
        first = [run["iterations"][0] for run in bco_runs]
        last = [run["iterations"][-1] for run in bco_runs]
        interactions = lambda rows: "/".join(sorted({str(row["interactions"]) for row in rows}))  # noqa: E731
        lines.append(f"| {env_name} | {summarize(expert)} | {summarize(bc)}{share(bc, expert)} | "
                     f"{summarize([r['return_mean'] for r in first])}{share([r['return_mean'] for r in first], expert)} | {interactions(first)} | "
                     f"{summarize([r['return_mean'] for r in last])}{share([r['return_mean'] for r in last], expert)} | {interactions(last)} | {len(bco_runs)} |")
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> str:
    text = table(args.results) + "\n" + bco_table(args.results)
    print(text)
    if args.output:
        files.write_text(args.output, text)
    return text


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
