"""DAgger: the learned policy drives, the expert labels every state it visits, the data grows.

    python hw1/dagger.py Hopper-v1 --iterations 5

Iteration 0 is behavioral cloning on the expert's rollouts (bc.py's model and flags). Each
iteration then rolls out the current policy (--rollouts_per_iter episodes; with --beta B the
expert acts at each step with probability B**i), relabels every visited observation with the
expert's action, appends those episodes to the aggregated HDF5 file in one atomic step,
retrains the policy warm-started from its current weights (--retrain_epochs on all the data),
and evaluates it on held-out episodes: the first --curve_episodes of them for each iteration, all
--eval_episodes for the last (the same episodes bc.py scores its run of this seed on).

The run directory holds aggregated.h5, metrics.json, policy.keras (the last iteration),
checkpoints/, state.json, returns.png, validation_loss.png and TensorBoard's event files. After
an interruption (Ctrl-C, or kill -9), --resume continues after the last completed iteration.
"""

import argparse

from cs294 import arguments, cli


def build_parser() -> argparse.ArgumentParser:
    return arguments.dagger_parser(__doc__)


def main(args: argparse.Namespace) -> dict:
    """Run (or resume) DAgger; returns its metrics."""
    from cs294 import dagger  # here, not above: it imports Keras, which --help does not need

    return dagger.run(args)


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
