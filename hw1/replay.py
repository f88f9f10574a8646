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

from cs294 import cli, replay


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("replay.py", __doc__)
    parser.add_argument("path", type=Path, help="HDF5 rollout file")
    parser.add_argument("--episodes", default=None, help="comma-separated episode indices (default: all)")
    return parser


def main(args: argparse.Namespace) -> list[float]:
    episodes = None if args.episodes is None else cli.comma_integers(args.episodes, "--episodes", repeats=True)  # an episode shown twice is harmless
    replay.check_display("a replay opens a window", "on a headless machine run it under xvfb-run -a, or write a video of a MuJoCo "
                                                    "task with render_video.py, which needs none")
    drifts = replay.replay_file(args.path, episodes)
    print(f"replayed {len(drifts)} episodes; largest drift from the recorded observations {max(drifts):.2e}")
    return drifts


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
