"""Summarize a rollout file: where it came from, and its episodes' returns and lengths.

    python hw1/show_data.py data/Hopper-v1_10_rollouts.h5
"""

import argparse
from pathlib import Path

from cs294 import cli, data


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("show_data.py", __doc__)
    parser.add_argument("path", type=Path, help="HDF5 rollout file written by run_expert.py")
    return parser


def main(args: argparse.Namespace) -> data.Rollouts:
    """Read the file through the validating reader and print a summary."""
    from cs294 import rollouts  # here, not above: it imports Keras, which --help does not need

    loaded = data.read_rollouts(args.path)
    for name, value in sorted(loaded.attributes.items()):
        print(f"{name:18s} {value}")
    print(f"{'episodes':18s} {rollouts.rollout_stats(loaded.trajectories)}")
    first = loaded.trajectories[0]
    print(f"{'shapes':18s} observations {first.observations.shape[1:]}, actions {first.actions.shape[1:]}, "
          f"{sum(t.length for t in loaded.trajectories)} steps in all")
    return loaded


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
