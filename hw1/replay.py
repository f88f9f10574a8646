"""Show recorded episodes in a window by replaying their actions in the simulator.

    python hw1/replay.py data/Hopper-v1_10_rollouts.h5 --episodes 0,1

Each episode is reset from its recorded seed and stepped through its recorded actions, so what
you see is the recorded episode. This process never imports TensorFlow, which crashes alongside
OpenGL (see hw1/cs294/replay.py). run_expert.py --render calls this script. The MuJoCo tasks
need nothing more; CartPole-v1 and gymnasium's other classic-control tasks draw their window
with pygame, which this project does not install (pip install "gymnasium[classic-control]").
"""

import argparse
from pathlib import Path

import gymnasium as gym

from cs294 import cli, data, environments, replay
from cs294.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("replay.py", __doc__)
    parser.add_argument("path", type=Path, help="HDF5 rollout file")
    parser.add_argument("--episodes", default=None, help="comma-separated episode indices (default: all)")
    return parser


def check_display() -> None:
    """cs294.replay's check, in this script's words: run_expert.py's advice to drop --render means nothing here."""
    try:
        replay.check_display()
    except UserError:
        raise UserError("a replay opens a window, but no display was found (DISPLAY is not set); on a headless machine run it "
                        "under xvfb-run -a, or write a video of a MuJoCo task with render_video.py, which needs none") from None


def chosen_episodes(path: Path, count: int, episodes: list[int] | None) -> list[int]:
    """The episodes to replay (default: all), each checked against the file's episode count before a window opens."""
    if count == 0:
        raise UserError(f"{path} holds no episodes; there is nothing to replay")
    if episodes is None:
        return list(range(count))
    outside = [index for index in episodes if not 0 <= index < count]
    if outside:
        raise UserError(f"--episodes {outside[0]} is out of range: {path} has {count} episode{'s' if count > 1 else ''}, "
                        f"numbered 0 to {count - 1}")
    return episodes


def main(args: argparse.Namespace) -> list[float]:
    episodes = None if args.episodes is None else cli.comma_integers(args.episodes, "--episodes")
    check_display()
    rollouts = data.read_rollouts(args.path)
    chosen = chosen_episodes(args.path, len(rollouts.trajectories), episodes)
    env_name = rollouts.attributes["env_name"]
    env = environments.make_env(environments.resolve(env_name), render_mode="human")
    try:
        drifts = [replay.replay_episode(env, rollouts.trajectories[index]) for index in chosen]
    except gym.error.DependencyNotInstalled as error:  # raised at the first reset, before a window opens
        raise UserError(f"{args.path} holds {env_name} episodes, whose window needs a package that is not installed: {error}") from None
    finally:
        env.close()
    print(f"replayed {len(drifts)} episodes; largest drift from the recorded observations {max(drifts):.2e}")
    return drifts


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
