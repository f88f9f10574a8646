"""Behavioral cloning from observation (Torabi, Warnell and Stone, IJCAI 2018).

    python hw1/bco.py CartPole-v1
    python hw1/bco.py Hopper-v1 --iterations 15

The demonstrations are state-only: only the observations of the rollout file are read, never its
actions. The agent first acts at random for --pre_steps steps, |I_pre|, and fits an inverse
dynamics model (s, s') -> a to its own transitions (softmax and cross-entropy for discrete
actions, MSE for continuous ones). It infers the demonstrations' missing actions with that
model and clones them: BCO(0), iteration 0. Each further iteration is BCO(alpha): the current
policy, exploring (see --exploration), takes alpha x |I_pre| new steps, the inverse
model is refit on all of the agent's transitions, the actions are inferred again, and the policy
is refit.

The policy to keep is chosen without the reward: after each iteration the policy drives
--selection_episodes noise-free episodes, and the kept policy is the one whose states came
closest to the demonstrations. Interactions are counted exactly, by purpose: |I_pre|, alpha
|I_pre| per iteration (the post-demonstration steps) and the selection episodes. The evaluation episodes, which
score each iteration against the expert and a random policy on the same episodes, are not
interactions and choose nothing: BCO(0), the last iteration and the kept one are scored on all
--eval_episodes, each iteration in between on the first --curve_episodes.

The policy and the inverse model are each the mean of --ensemble and --inverse_ensemble members,
initialized apart and fit each on its own: on Hopper one cloned network depends heavily on its
random start, and the mean of several is far more consistent (docs/bco.md).

The run directory holds policy.keras (the kept policy: observations -> actions, or logits for
discrete actions), last_policy.keras, inverse_dynamics.keras (inputs state and next_state),
metrics.json and TensorBoard logs.
"""

import argparse

from cs294 import arguments, cli


def build_parser() -> argparse.ArgumentParser:
    return arguments.bco_parser(__doc__)


def main(args: argparse.Namespace) -> dict:
    """Run BCO(0) and then BCO(alpha); returns the metrics."""
    from cs294 import bco  # here, not above: it imports Keras, which --help does not need

    return bco.run(args)


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
