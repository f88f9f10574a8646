"""Run a 2017 expert policy in today's simulator and save its rollouts to HDF5.

    python hw1/run_expert.py experts/Hopper-v1.pkl Hopper-v1 --num_rollouts 10

Prints each episode's return, then the mean and std, and writes the episodes to
data/<ENV>_<N>_rollouts.h5 (docs/data-format.md describes the format). A learned policy
saved by bc.py, dagger.py or bco.py (a .keras file) runs the same way in place of the pickle.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cs294 import arguments, cli, data, environments, provenance, replay
from cs294.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("run_expert.py", __doc__)
    parser.add_argument("expert_policy_file", help="expert pickle, e.g. experts/Hopper-v1.pkl, or a learned policy.keras")
    parser.add_argument("envname", help="Ant-v1, HalfCheetah-v1, Hopper-v1, Humanoid-v1, Reacher-v1, Walker2d-v1, or a gymnasium id")
    episodes = parser.add_argument_group("episodes")
    output = parser.add_argument_group("output")
    episodes.add_argument("--num_rollouts", type=int, default=None,
                          help="number of expert episodes (default: the count bc.py and dagger.py look for: seed 002's, 10 or 250; 20 for other tasks)")
    episodes.add_argument("--max_timesteps", type=int, default=None, help="cut each episode after this many steps (default: the env's limit, 1000 for MuJoCo)")
    episodes.add_argument("--seed", type=int, default=0, help="seed from which the episodes' reset seeds are drawn (default: 0)")
    output.add_argument("--output", type=Path, default=None, help="HDF5 file to write (default: data/<envname>_<num_rollouts>_rollouts.h5)")
    output.add_argument("--render", action="store_true", help="then show the episodes in a window (needs a display), replayed by replay.py")
    arguments.add_num_envs_argument(episodes, "; results do not depend on it")
    return parser


def check_args(args: argparse.Namespace) -> None:
    """Reject impossible settings before anything slow happens; fill in the task's default --num_rollouts."""
    if args.num_rollouts is None:  # the file bc.py and dagger.py then find by default: data/<env>_<N>_rollouts.h5
        args.num_rollouts = data.DEMONSTRATION_ROLLOUTS.get(args.envname, 20)
    if args.num_rollouts < 1:
        raise UserError(f"--num_rollouts must be at least 1, got {args.num_rollouts}")
    if args.max_timesteps is not None and args.max_timesteps < 1:
        raise UserError(f"--max_timesteps must be at least 1, got {args.max_timesteps}")
    if args.num_envs < 1:
        raise UserError(f"--num_envs must be at least 1, got {args.num_envs}")
    if args.render:
        replay.check_display()


def main(args: argparse.Namespace) -> dict:
    """Roll out the expert, print the returns, write the HDF5 file; return the stats and path."""
    from cs294 import experts, rollouts, runs  # here, not above: they import Keras, which --help does not need

    check_args(args)
    spec = environments.resolve(args.envname)
    model = experts.load_expert_or_policy(args.expert_policy_file, spec)
    expert_sha256 = provenance.file_sha256(args.expert_policy_file)
    seeds = rollouts.episode_seeds(np.random.default_rng(args.seed), args.num_rollouts)
    output = args.output or data.default_rollouts_path(args.envname, args.num_rollouts)

    with tqdm(total=args.num_rollouts, unit="episode", desc=f"{args.envname} expert") as progress:
        def report(index: int, trajectory: data.Trajectory) -> None:
            progress.write(f"episode {index:4d}  return {trajectory.episode_return:10.2f}  steps {trajectory.length:5d}")
            progress.update()

        trajectories = rollouts.sample_trajectories(
            model, spec, seeds,
            max_episode_steps=args.max_timesteps,
            num_envs=args.num_envs,
            on_episode_end=report,
        )
    runs.check_finite_episodes(trajectories, str(args.expert_policy_file), "in run_expert.py", "nothing was written: roll out a "
                               "policy whose actions are finite (the task's expert, or the policy.keras of a finished run)")
    stats = rollouts.rollout_stats(trajectories)
    print(f"mean return {stats.mean:.2f}")
    print(f"std of return {stats.std:.2f}")
    data.write_rollouts(output, trajectories, {
        "env_name": args.envname,
        "gym_id": spec.gym_id,
        "gym_kwargs": spec.kwargs_json,
        "dynamics": spec.dynamics,
        "policy": "learned" if experts.is_keras_file(args.expert_policy_file) else "expert",
        "policy_file": str(args.expert_policy_file),
        "policy_sha256": expert_sha256,
        "seed": args.seed,
        "max_episode_steps": args.max_timesteps or environments.default_max_episode_steps(spec) or 0,
        "package_versions": provenance.package_versions(),
        # No creation time: the same command writes the same bytes, so the steps that read the file stay cached when it is remade.
    })
    print(f"wrote {len(trajectories)} episodes, {sum(t.length for t in trajectories)} steps, to {output}")
    if args.render:
        # Rendering runs in a fresh process: TensorFlow, loaded here, crashes alongside OpenGL.
        subprocess.run([sys.executable, str(Path(__file__).with_name("replay.py")), str(output)], check=False)
    return {"output": output, "stats": stats}


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
