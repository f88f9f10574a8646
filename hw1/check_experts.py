"""Check every expert against its published return: N episodes each, mean ± std, falls.

    python hw1/check_experts.py --episodes 100

Runs the six 2017 experts and the designed CartPole and MountainCar experts, each
deterministically on reset seeds 0..N-1, and prints one table: mean ± std of the return, how
many episodes failed, and the published figure beside it. A failure is a fall (an episode that
ended before the time limit), except on MountainCar-v0, where ending early is reaching the flag
and a failure is an episode that never did. --today runs the same experts in today's gymnasium
tasks (<name>-today) instead of the 2017 ones. --output also writes the table as markdown, and
JSON beside it.
"""

import argparse
from pathlib import Path

import numpy as np

from cs294 import arguments, cli, environments, files, published
from cs294.errors import UserError

TASKS = (*published.TASKS, "CartPole-v1", "MountainCar-v0")
# Tasks whose episodes end early on success: there a failure is reaching the time limit.
GOAL_TASKS = ("MountainCar-v0",)
# Every episode of an expert is kept until its row is made: 1000 Humanoid episodes are already a few GB.
MAX_EPISODES = 1000


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("check_experts.py", __doc__)
    experts = parser.add_argument_group("the experts")
    evaluation = parser.add_argument_group("evaluation")
    output = parser.add_argument_group("output")
    experts.add_argument("--tasks", default=",".join(TASKS), help="comma-separated tasks (default: all eight)")
    evaluation.add_argument("--episodes", type=int, default=100, help=f"episodes per expert, reset seeds 0..N-1, at most {MAX_EPISODES} (default: 100)")
    experts.add_argument("--today", action="store_true", help="today's gymnasium tasks instead of the 2017 ones")
    experts.add_argument("--experts_dir", type=Path, default=None, help="folder of the expert pickles, <task>.pkl (default: this checkout's experts/)")
    output.add_argument("--output", type=Path, default=None, help="also write the table to this markdown file, such as table.md (and table.json beside it)")
    arguments.add_num_envs_argument(evaluation, "; results do not depend on it")
    return parser


def check_expert(task: str, episodes: int, today: bool, num_envs: int, experts_dir: Path | None = None) -> dict:
    """One expert's returns and failures (falls; on a goal task, episodes that missed the goal) over reset seeds 0..episodes-1."""
    from cs294 import experts, rollouts  # here, not above: they import Keras, which --help does not need

    name = task + environments.TODAY_SUFFIX if today and task in published.SEED_002 else task
    spec = environments.resolve(name)
    path = experts.default_expert_path(task) if experts_dir is None else experts_dir / experts.default_expert_path(task).name
    expert = experts.load_checked_expert(path, spec)
    with np.errstate(all="ignore"):  # the refusal below says it in one line
        stats, trajectories = rollouts.evaluate(expert, spec, list(range(episodes)), num_envs=num_envs)
    # A NaN or infinite return would print as a number in the table and pass for a checked expert.
    diverged = [t.seed for t in trajectories if not (np.isfinite(t.episode_return) and np.isfinite(t.actions).all())]
    if diverged:
        raise UserError(f"the expert {path} gives a NaN or infinite action or return on {name} (reset seed {diverged[0]}, "
                        f"{len(diverged)} of {episodes} episodes); restore the committed file (git checkout -- experts/)")
    published_return = published.SEED_002[task][1] if task in published.SEED_002 else "–"
    return {"task": name, "dynamics": spec.dynamics, "episodes": stats.episodes, "mean": stats.mean, "std": stats.std,
            "min": stats.min, "falls": sum(bool(t.terminations[-1]) != (task in GOAL_TASKS) for t in trajectories), "published": published_return}


def markdown(rows: list[dict]) -> str:
    """The table of check results."""
    lines = ["| task | dynamics | episodes | return, mean ± std | min | falls (MountainCar: flag missed) | published expert (seed 002) |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['task']} | {row['dynamics']} | {row['episodes']} | {row['mean']:.1f} ± {row['std']:.1f} | {row['min']:.1f} "
                     f"| {row['falls']} | {row['published']} |")
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> list[dict]:
    """Check the experts, print the table, and write it if asked; returns the rows."""
    tasks = [task for task in args.tasks.split(",") if task]
    unknown = [task for task in tasks if task not in TASKS]
    if unknown or not tasks:
        raise UserError(f"--tasks takes names among {','.join(TASKS)}, not {args.tasks!r}")
    repeated = sorted({task for task in tasks if tasks.count(task) > 1})
    if repeated:
        raise UserError(f"--tasks names {', '.join(repeated)} more than once; name each task once")
    if args.episodes < 1 or args.num_envs < 1:
        raise UserError("--episodes and --num_envs must be at least 1")
    if args.episodes > MAX_EPISODES:
        raise UserError(f"--episodes {args.episodes} is too many: at most {MAX_EPISODES} per expert, whose episodes are all kept in memory")
    if args.output is not None:
        files.check_json_copy(args.output, "table's")
    rows = []
    for task in tasks:
        rows.append(check_expert(task, args.episodes, args.today, args.num_envs, args.experts_dir))
        print(f"{rows[-1]['task']}: {rows[-1]['mean']:.1f} ± {rows[-1]['std']:.1f}, {rows[-1]['falls']} falls", flush=True)
    table = markdown(rows)
    print(table)
    if args.output is not None:
        files.write_json(args.output.with_suffix(".json"), rows)
        files.write_text(args.output, table)
        print(f"wrote {args.output}")
    return rows


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
