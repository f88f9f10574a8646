"""Summarize a rollout file: where it came from, and its episodes' returns and lengths.

    python hw1/show_data.py data/Hopper-v1_10_rollouts.h5
"""

import argparse
import os
import stat
from pathlib import Path

from cs294 import cli, data
from cs294.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("show_data.py", __doc__)
    parser.add_argument("path", type=Path, help="HDF5 rollout file written by run_expert.py")
    return parser


def check_regular_file(path: Path) -> None:
    """Name what the path is when it is there but is no file: the reader would call a device, FIFO or symlink loop missing."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise UserError(f"data file {path} is a symbolic link to {os.readlink(path)}, which does not exist") from None
        return  # missing: the reader says so
    except OSError as error:  # e.g. ELOOP, a link that leads back to itself
        raise UserError(f"data file {path} cannot be opened ({error.strerror}); name the .h5 rollout file itself") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):  # a folder: the reader's own line names it
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise UserError(f"data file {path} is {kind}, not a file; name the .h5 rollout file itself")


def main(args: argparse.Namespace) -> data.Rollouts:
    """Read the file through the validating reader and print a summary."""
    from cs294 import rollouts  # here, not above: it imports Keras, which --help does not need

    check_regular_file(args.path)
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
