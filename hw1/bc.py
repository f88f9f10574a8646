"""Behavioral cloning: fit a policy to expert rollouts, then score it in the simulator.

    python hw1/bc.py Hopper-v1

Reads data/<ENV>_<N>_rollouts.h5 (N is seed 002's rollout count for the task), trains a Keras
MLP with its input normalization inside the model, evaluates it on fresh episodes, and writes
policy.keras, metrics.json and TensorBoard logs to runs/<ENV>/bc/seed<S>_<time>/ (git-ignored; reproduce.py
writes its own runs under results/).
"""

import argparse

from cs294 import arguments, cli


def build_parser() -> argparse.ArgumentParser:
    return arguments.bc_parser(__doc__)


def main(args: argparse.Namespace) -> dict:
    """Train, evaluate and save one behavioral cloning run; returns its metrics."""
    from cs294 import runs  # here, not above: it imports Keras, which --help does not need

    return runs.behavioral_cloning(args)


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
