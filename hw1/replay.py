"""Show recorded episodes in a window by replaying their actions in the simulator.

    python hw1/replay.py data/Hopper-v1_10_rollouts.h5 --episodes 0,1

Each episode is reset from its recorded seed and stepped through its recorded actions, so what
you see is the recorded episode. This process never imports TensorFlow, which crashes alongside
OpenGL (see hw1/cs294/replay.py). run_expert.py --render calls this script.
"""

import argparse
import os
import sys
from pathlib import Path

from cs294 import cli, replay
from cs294.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="replay.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, help="HDF5 rollout file")
    parser.add_argument("--episodes", default=None, help="comma-separated episode indices (default: all)")
    return parser


def check_display() -> None:
    """A window needs a display; say so plainly instead of letting GLFW crash."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise UserError("rendering opens a window, but no display was found (DISPLAY is not set); "
                        "on a headless machine run it under xvfb-run, or drop --render")


def main(args: argparse.Namespace) -> list[float]:
    episodes = None if args.episodes is None else cli.comma_integers(args.episodes, "--episodes")
    check_display()
    drifts = replay.replay_file(args.path, episodes)
    print(f"replayed {len(drifts)} episodes; largest drift from the recorded observations {max(drifts):.2e}")
    return drifts


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
