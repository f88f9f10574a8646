"""The command lines of the training scripts: bc.py's, dagger.py's and bco.py's parsers and the argument groups scripts share.

Nothing here imports TensorFlow or Keras (the defaults come from cs294.configs), so that a
script's `--help`, and a mistyped flag, answer at once: a script imports its heavy modules in
main(). What the flags mean for a run is checked where the run is made (runs.RunConfig,
dagger.check_args, bco.check_args).
"""

import argparse
from pathlib import Path

from cs294 import cli, configs

# What parser.add_argument_group returns; argparse names no public type for it.
ArgumentGroup = argparse._ArgumentGroup

SIDE_BY_SIDE = "environments stepped side by side"
EVERYTHING_RANDOM = "seed of everything random in the run"


def parse_hidden(text: str) -> tuple[int, ...]:
    """'64,64' -> (64, 64)."""
    try:
        units = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden takes comma-separated layer sizes such as 64,64, not {text!r}") from None
    if not units or min(units) < 1:
        raise argparse.ArgumentTypeError(f"--hidden needs at least one layer of at least 1 unit, not {text!r}")
    return units


def add_model_arguments(parser: argparse.ArgumentParser) -> ArgumentGroup:
    """The "model and training" group: the policy's architecture and how it is fit (bc.py, dagger.py, bco.py, label_noise.py)."""
    policy, train = configs.PolicyConfig(), configs.TrainingConfig()
    group = parser.add_argument_group("model and training")
    group.add_argument("--epochs", type=int, default=train.epochs, help=f"passes over the data (default: {train.epochs})")
    group.add_argument("--batch_size", type=int, default=train.batch_size, help=f"samples per gradient step (default: {train.batch_size})")
    group.add_argument("--learning_rate", type=float, default=train.learning_rate, help=f"optimizer step size (default: {train.learning_rate})")
    group.add_argument("--optimizer", choices=("adam", "sgd"), default=train.optimizer, help=f"default: {train.optimizer}")
    group.add_argument("--validation_fraction", type=float, default=train.validation_fraction, help=f"share of transitions held out (default: {train.validation_fraction})")
    group.add_argument("--hidden", type=parse_hidden, default=policy.hidden, help="hidden layer sizes, e.g. 64,64 (default: %s)" % ",".join(map(str, policy.hidden)))
    group.add_argument("--activation", choices=("relu", "tanh"), default=policy.activation, help=f"hidden activation (default: {policy.activation})")
    group.add_argument("--l2", type=float, default=policy.l2, help=f"L2 penalty on kernels (default: {policy.l2})")
    group.add_argument("--head", choices=("linear", "lstm"), default=policy.head, help="output block: linear, or seed 000's LSTM output layer (default: linear)")
    group.add_argument("--clip_observations", type=float, default=policy.observation_clip, help="clip normalized observations to +-C inside the model; 0 is off (default: 0)")
    return group


def add_num_envs_argument(group: ArgumentGroup, note: str = "") -> None:
    """--num_envs, the rollout loop's width; `note` follows the shared help text."""
    group.add_argument("--num_envs", type=int, default=configs.DEFAULT_NUM_ENVS, help=SIDE_BY_SIDE + note)


def add_evaluation_arguments(parser: argparse.ArgumentParser, episodes_help: str, num_envs_note: str = "") -> ArgumentGroup:
    """The "evaluation" group: --eval_episodes (10) and --num_envs; returned for a method's own evaluation flags."""
    group = parser.add_argument_group("evaluation")
    group.add_argument("--eval_episodes", type=int, default=10, help=episodes_help)
    add_num_envs_argument(group, num_envs_note)
    return group


def add_run_arguments(parser: argparse.ArgumentParser, method: str, seed_help: str = EVERYTHING_RANDOM) -> ArgumentGroup:
    """The "run" group of a script that writes a run directory: --seed, --run_dir and --overwrite; returned for its own flags."""
    group = parser.add_argument_group("run")
    group.add_argument("--seed", type=int, default=0, help=seed_help)
    group.add_argument("--run_dir", type=Path, default=None, help=f"output directory (default: runs/<env>/{method}/seed<S>_<time>)")
    group.add_argument("--overwrite", action="store_true", help="replace what --run_dir holds (default: refuse a non-empty --run_dir)")
    return group


def bc_parser(description: str | None = None) -> argparse.ArgumentParser:
    """bc.py's command line: hopper_study.py and bc_curve.py parse the runs they make with it too."""
    parser = cli.make_parser("bc.py", description or "")
    parser.add_argument("env", help="Ant-v1, HalfCheetah-v1, Hopper-v1, Humanoid-v1, Reacher-v1, Walker2d-v1, or a gymnasium id")
    demonstrations = parser.add_argument_group("demonstrations")
    demonstrations.add_argument("--data", type=Path, default=None, help="rollout file, or minari:DATASET_ID for a local Minari dataset (default: data/<env>_<N>_rollouts.h5 with seed 002's N)")
    demonstrations.add_argument("--num_demos", type=int, default=None, help="use only the first N episodes of the file (default: all)")
    add_model_arguments(parser)
    add_evaluation_arguments(parser, "evaluation episodes in the simulator", num_envs_note=" in evaluation")
    add_run_arguments(parser, "bc", seed_help="seed of initialization, shuffling, the split and the evaluation episodes")
    return parser


def dagger_parser(description: str = "") -> argparse.ArgumentParser:
    """dagger.py's command line (the script passes its docstring, shown by --help)."""
    parser = cli.make_parser("dagger.py", description)
    parser.add_argument("env", help="Ant-v1, HalfCheetah-v1, Hopper-v1, Humanoid-v1, Reacher-v1 or Walker2d-v1")
    sources = parser.add_argument_group("data and expert")
    sources.add_argument("--data", type=Path, default=None, help="expert rollout file, or minari:DATASET_ID, to start from (default: bc.py's)")
    sources.add_argument("--num_demos", type=int, default=None, help="start from only the first N episodes of the file, as bc.py's --num_demos (default: all)")
    sources.add_argument("--expert", type=Path, default=None, help="expert that labels the states: a 2017 pickle or any .keras policy of the task (default: experts/<env>.pkl)")
    dagger = parser.add_argument_group("DAgger")
    dagger.add_argument("--iterations", type=int, default=10, help="DAgger iterations after the initial cloning (default: 10)")
    dagger.add_argument("--rollouts_per_iter", type=int, default=5, help="episodes of the current policy per iteration (default: 5)")
    dagger.add_argument("--retrain_epochs", type=int, default=10, help="epochs over all aggregated data per iteration, warm-started (default: 10)")
    dagger.add_argument("--beta", type=float, default=0.0, help="iteration i lets the expert act at each step with probability beta**i (default: 0, the learner always drives)")
    add_model_arguments(parser)
    evaluation = add_evaluation_arguments(parser, "episodes that score the last iteration, the same as bc.py's of this seed")
    evaluation.add_argument("--curve_episodes", type=int, default=10,
                            help="episodes that score each earlier iteration: the first K of the evaluation episodes (default: 10)")
    run = add_run_arguments(parser, "dagger")
    run.add_argument("--resume", action="store_true", help="continue the run in --run_dir after its last completed iteration")
    return parser


def bco_parser(description: str = "") -> argparse.ArgumentParser:
    """bco.py's command line (the script passes its docstring, shown by --help)."""
    parser = cli.make_parser("bco.py", description)
    parser.add_argument("env", help="CartPole-v1, MountainCar-v0, Hopper-v1, or another task with an expert and a rollout file")
    demonstrations = parser.add_argument_group("demonstrations")
    demonstrations.add_argument("--demos", type=Path, default=None, help="rollout file (or minari:DATASET_ID) whose observations are the demonstrations (default: bc.py's data file)")
    demonstrations.add_argument("--demo_episodes", type=int, default=None, help="use only the first N episodes of the file (default: all)")
    interaction = parser.add_argument_group("interaction")
    interaction.add_argument("--pre_steps", type=int, default=None, help="|I_pre|: random-action steps before the demonstrations are used (default: as many as the demonstrations have)")
    interaction.add_argument("--alpha", type=float, default=0.5, help="post-demonstration steps per iteration, as a multiple of |I_pre| (default: 0.5)")
    interaction.add_argument("--iterations", type=int, default=10, help="BCO(alpha) iterations after BCO(0) (default: 10; 0 gives BCO(0) alone)")
    interaction.add_argument("--exploration", type=float, default=0.1, help="while the policy collects: the probability of a random action (discrete), or the std of Gaussian action noise as a share of half the action range (continuous) (default: 0.1)")
    interaction.add_argument("--selection_episodes", type=int, default=2, help="noise-free episodes per iteration that choose the policy to keep, counted as interactions; 0 keeps the last iteration (default: 2)")
    models = parser.add_argument_group("inverse model and ensembles")
    models.add_argument("--inverse_epochs", type=int, default=30, help="epochs of the inverse model's first fit (default: 30)")
    models.add_argument("--inverse_retrain_epochs", type=int, default=10, help="epochs of each warm-started refit of the inverse model (default: 10)")
    models.add_argument("--inverse_batch_size", type=int, default=256, help="samples per gradient step of the inverse model (default: 256)")
    models.add_argument("--retrain_epochs", type=int, default=10, help="policy epochs per BCO(alpha) iteration, warm-started (default: 10)")
    models.add_argument("--ensemble", type=int, default=10, help="members of the policy, each fit to the inferred actions on its own, averaged (default: 10)")
    models.add_argument("--inverse_ensemble", type=int, default=5, help="members of the inverse model, each fit on its own, averaged (default: 5)")
    add_model_arguments(parser)
    evaluation = add_evaluation_arguments(parser, "episodes that score BCO(0), the last iteration and the kept one (and the expert and a random policy)")
    evaluation.add_argument("--curve_episodes", type=int, default=10,
                            help="episodes that score each iteration in between: the first K of the evaluation episodes (default: 10)")
    add_run_arguments(parser, "bco")
    return parser
