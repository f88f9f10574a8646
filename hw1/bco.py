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
interactions and choose nothing.

The policy and the inverse model are each the mean of --ensemble and --inverse_ensemble members,
initialized apart and fit each on its own: on Hopper one cloned network depends heavily on its
random start, and the mean of several is far more consistent (docs/bco.md).

The run directory holds policy.keras (the kept policy: observations -> actions, or logits for
discrete actions), last_policy.keras, inverse_dynamics.keras (inputs state and next_state),
metrics.json and TensorBoard logs.
"""

import argparse
from pathlib import Path

from cs294 import bco, cli, rollouts, runs
from cs294.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("bco.py", __doc__)
    parser.add_argument("env", help="CartPole-v1, MountainCar-v0, Hopper-v1, or another task with an expert and a rollout file")
    demonstrations = parser.add_argument_group("demonstrations")
    demonstrations.add_argument("--demos", type=Path, default=None, help="rollout file whose observations are the demonstrations (default: bc.py's data file)")
    demonstrations.add_argument("--demo_episodes", type=int, default=None, help="use only the first N episodes of the file (default: all)")
    interaction = parser.add_argument_group("interaction")
    interaction.add_argument("--pre_steps", type=int, default=None, help="|I_pre|: random-action steps before the demonstrations are used (default: as many as the demonstrations have)")
    interaction.add_argument("--alpha", type=float, default=0.5, help="post-demonstration steps per iteration, as a multiple of |I_pre| (default: 0.5)")
    interaction.add_argument("--iterations", type=int, default=10, help="BCO(alpha) iterations after BCO(0) (default: 10; 0 gives BCO(0) alone)")
    interaction.add_argument("--exploration", type=float, default=0.1, help="while the policy collects: the probability of a random action (discrete), or the std of Gaussian action noise as a share of half the action range (continuous) (default: 0.1)")
    interaction.add_argument("--selection_episodes", type=int, default=2, help="noise-free episodes per iteration that choose the policy to keep, counted as interactions; 0 keeps the last iteration (default: 2)")
    models_group = parser.add_argument_group("inverse model and ensembles")
    models_group.add_argument("--inverse_epochs", type=int, default=30, help="epochs of the inverse model's first fit (default: 30)")
    models_group.add_argument("--inverse_retrain_epochs", type=int, default=10, help="epochs of each warm-started refit of the inverse model (default: 10)")
    models_group.add_argument("--inverse_batch_size", type=int, default=256, help="samples per gradient step of the inverse model (default: 256)")
    models_group.add_argument("--retrain_epochs", type=int, default=10, help="policy epochs per BCO(alpha) iteration, warm-started (default: 10)")
    models_group.add_argument("--ensemble", type=int, default=10, help="members of the policy, each fit to the inferred actions on its own, averaged (default: 10)")
    models_group.add_argument("--inverse_ensemble", type=int, default=5, help="members of the inverse model, each fit on its own, averaged (default: 5)")
    runs.add_model_arguments(parser)
    evaluation = parser.add_argument_group("evaluation")
    evaluation.add_argument("--eval_episodes", type=int, default=10, help="evaluation episodes per iteration (default: 10)")
    evaluation.add_argument("--num_envs", type=int, default=rollouts.DEFAULT_NUM_ENVS, help=f"environments stepped side by side (default: {rollouts.DEFAULT_NUM_ENVS})")
    run = parser.add_argument_group("run")
    run.add_argument("--seed", type=int, default=0, help="seed of everything random in the run (default: 0)")
    run.add_argument("--run_dir", type=Path, default=None, help="output directory (default: results/<env>/bco/seed<S>_<time>)")
    runs.add_overwrite_argument(run)
    return parser


def check_args(args: argparse.Namespace) -> None:
    if args.pre_steps is not None and args.pre_steps < 2:
        raise UserError(f"--pre_steps must be at least 2 (the inverse model trains on some and holds one out), got {args.pre_steps}")
    if args.alpha <= 0 and args.iterations > 0:
        raise UserError(f"--alpha must be positive for BCO(alpha) iterations, got {args.alpha}")
    if args.iterations < 0 or min(args.inverse_epochs, args.inverse_retrain_epochs, args.retrain_epochs) < 1:
        raise UserError("--iterations must be >= 0, --inverse_epochs, --inverse_retrain_epochs and --retrain_epochs >= 1")
    if min(args.ensemble, args.inverse_ensemble, args.inverse_batch_size) < 1:
        raise UserError("--ensemble, --inverse_ensemble and --inverse_batch_size must be at least 1")
    if not 0 <= args.exploration <= 1:
        raise UserError(f"--exploration must be in [0, 1], got {args.exploration}")
    if args.selection_episodes < 0 or args.eval_episodes < 1:
        raise UserError(f"--selection_episodes must be >= 0 and --eval_episodes >= 1, got {args.selection_episodes} and {args.eval_episodes}")
    if args.demo_episodes is not None and args.demo_episodes < 1:
        raise UserError(f"--demo_episodes must be at least 1, got {args.demo_episodes}")


def main(args: argparse.Namespace) -> dict:
    """Run BCO(0) and then BCO(alpha); returns the metrics."""
    check_args(args)
    return bco.run(args)


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
