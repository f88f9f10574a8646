"""How much label noise behavioral cloning can take, and what averaging an ensemble buys back.

    python hw1/label_noise.py Hopper-v1 --noise 0.1 --ensemble 1,5 --seeds 0,1,2
    python hw1/label_noise.py Hopper-v1 --inverse results/Hopper-v1/bco/seed0/inverse_dynamics.keras

This is why bco.py averages ensembles. Every row clones the same demonstrations, with different
labels:
- the expert's actions clipped to the action bounds, which is the most an inverse model can
  recover, since the simulator applies only the clipped action;
- those plus Gaussian noise N(0, sigma^2), once for each --noise sigma;
- with --inverse, the actions that a saved inverse dynamics model (bco.py's
  inverse_dynamics.keras) infers from the states alone.
Every column is a policy of K averaged members (--ensemble), with bc.py's network and training.
The table gives each label set's MSE against the clipped true actions, and each policy's return
on held-out episodes (mean ± std over --seeds, which set the noise, the networks and the
episodes) as a share of the expert's on the same episodes. One seed is not enough: on Hopper,
the same labels can give 70% with one seed and 100% with another. --output writes the table
as markdown, and a .json beside it.
"""

from __future__ import annotations  # the annotations name Keras types without importing Keras

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import gymnasium as gym
import numpy as np

from cs294 import arguments, cli, configs, data, environments, files
from cs294.errors import UserError

if TYPE_CHECKING:
    import keras


def parse_floats(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, like 0.1,0.2, not {text!r}")


def parse_sizes(text: str) -> list[int]:
    """'1,5' -> [1, 5]; an empty list or a value given twice (a column or a seed counted twice) is refused."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, like 1,5, not {text!r}")
    if not values:
        raise argparse.ArgumentTypeError("expected at least one whole number, like 1,5")
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise argparse.ArgumentTypeError(f"{repeated[0]} is given twice; give each value once")
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("label_noise.py", __doc__)
    parser.add_argument("env", help="a task with continuous actions and a rollout file, e.g. Hopper-v1")
    demonstrations = parser.add_argument_group("demonstrations")
    labels = parser.add_argument_group("labels and ensembles")
    demonstrations.add_argument("--data", type=Path, default=None, help="rollout file (default: bc.py's data file)")
    labels.add_argument("--noise", type=parse_floats, default=[0.1], help="std of the Gaussian noise added to the labels, one row each (default: 0.1)")
    labels.add_argument("--inverse", type=Path, default=None, help="also label the states with this inverse_dynamics.keras from bco.py")
    labels.add_argument("--ensemble", type=parse_sizes, default=[1, 5], help="members per policy, one column each (default: 1,5)")
    arguments.add_model_arguments(parser)
    arguments.add_evaluation_arguments(parser, "evaluation episodes per policy")
    run = parser.add_argument_group("run")
    run.add_argument("--seeds", type=parse_sizes, default=[0], help="seeds of the noise, the networks and the evaluation episodes, e.g. 0,1,2 (default: 0)")
    run.add_argument("--output", type=Path, default=None, help="write the table here (markdown) and a .json beside it")
    return parser


def label_sets(args: argparse.Namespace, seed: int, trajectories: list[data.Trajectory], space: gym.spaces.Box,
               inverse: keras.Model | None) -> list[tuple[str, np.ndarray]]:
    """(name, labels) per row, aligned with data.transitions(trajectories)."""
    from cs294 import inverse_dynamics  # here, not above: it imports Keras, which --help does not need

    clipped = np.clip(data.transitions(trajectories)[1], space.low, space.high)
    rows = [("true actions, clipped", clipped)]
    rng = np.random.default_rng([seed, 7])
    for sigma in args.noise:
        if sigma > 0:
            rows.append((f"clipped + N(0, {sigma:g}²)", (clipped + sigma * rng.normal(size=clipped.shape)).astype(np.float32)))
    if inverse is not None:
        labels = inverse_dynamics.infer_actions(inverse, [t.observations for t in trajectories], space)
        rows.append((f"inferred by {args.inverse}", np.concatenate(labels)))
    return rows


def clone(observations: np.ndarray, labels: np.ndarray, size: int, seed: int,
          policy_config: configs.PolicyConfig, training_config: configs.TrainingConfig) -> keras.Model:
    """bc.py's training on these labels, with `size` averaged members."""
    from cs294 import ensembles, models, training  # here, not above: they import Keras, which --help does not need

    import keras  # after cs294's modules, which keep TensorFlow's start-up banner quiet

    keras.utils.set_random_seed(seed)
    train, validation = training.split_train_validation(observations, labels, training_config.validation_fraction,
                                                        np.random.default_rng(seed), training_config.batch_size)
    policy = ensembles.build_ensemble(lambda name: models.build_policy(train[0], labels.shape[1], policy_config, name), size, "policy")
    ensembles.compile_ensemble(policy, training_config, discrete=False)
    ensembles.fit_ensemble(policy, train, validation, training_config, seed=seed)
    return policy.model


def main(args: argparse.Namespace) -> dict:
    """Clone each label set with each ensemble size; returns the table's numbers."""
    from cs294 import experts, models, rollouts, runs, training  # here, not above: they import Keras, which --help does not need

    policy_config, training_config = runs.configs_from_args(args)
    if not args.ensemble or min(args.ensemble) < 1 or any(sigma < 0 for sigma in args.noise):
        raise UserError("--ensemble sizes must be at least 1 and --noise values must not be negative")
    spec = environments.resolve(args.env)
    env = environments.make_env(spec)
    space = env.action_space
    env.close()
    if not isinstance(space, gym.spaces.Box):
        raise UserError(f"{args.env} has discrete actions; label noise is studied here on continuous ones, e.g. Hopper-v1")
    data_path = runs.resolve_data_path(args.env, args.data)
    trajectories = data.read_rollouts(data_path, env_name=args.env).trajectories
    training.check_split(sum(t.length for t in trajectories), training_config.validation_fraction, data_path)
    inverse = models.load_inverse_model(args.inverse, trajectories[0].observations.shape[1], space.shape[0]) if args.inverse else None
    observations = data.transitions(trajectories)[0]
    expert_model = experts.load_checked_expert(experts.default_expert_path(args.env), spec)
    results = {"env": args.env, "data": str(data_path), "seeds": args.seeds, "ensemble": args.ensemble, "rows": [], "experts": []}
    for seed in args.seeds:
        episodes = rollouts.evaluation_seeds(seed, args.eval_episodes, exclude=[t.seed for t in trajectories])
        expert = rollouts.evaluate(expert_model, spec, episodes, num_envs=args.num_envs)[0]
        results["experts"].append({"seed": seed, "evaluation_seeds": episodes, **vars(expert)})
        for index, (name, labels) in enumerate(label_sets(args, seed, trajectories, space, inverse)):
            if len(results["rows"]) <= index:
                results["rows"].append({"labels": name, "label_mse": [], "returns": {str(size): [] for size in args.ensemble}})
            row = results["rows"][index]
            row["label_mse"].append(float(np.mean((labels - np.clip(data.transitions(trajectories)[1], space.low, space.high)) ** 2)))
            for size in args.ensemble:
                stats = rollouts.evaluate(clone(observations, labels, size, seed, policy_config, training_config), spec, episodes,
                                          num_envs=args.num_envs)[0]
                row["returns"][str(size)].append(vars(stats))
                print(f"seed {seed}, {name}, {size} member(s): {stats.mean:.1f} ± {stats.std:.1f} "
                      f"({100 * stats.mean / expert.mean:.0f}% of the expert's {expert.mean:.1f})")
    table = render(results, args.ensemble)
    print(table)
    if args.output:
        files.write_text(args.output, table)
        files.write_json(args.output.with_suffix(".json"), results)
        print(f"wrote {args.output} and {args.output.with_suffix('.json')}")
    return results


def render(results: dict, sizes: list[int]) -> str:
    """The markdown table: one row per label set, one return column per ensemble size (mean ± std over seeds)."""
    expert = float(np.mean([e["mean"] for e in results["experts"]]))
    seeds = ",".join(map(str, results["seeds"]))
    header = "| labels | label MSE | " + " | ".join(f"{size} member{'s' if size > 1 else ''}" for size in sizes) + " |"
    lines = [f"{results['env']}: behavioral cloning on {results['data']}, seeds {seeds}; each cell is the mean ± std over seeds of "
             f"the mean return over {len(results['experts'][0]['evaluation_seeds'])} episodes. The expert scores {expert:.1f} on the same episodes.",
             "", header, "|---|---|" + "---|" * len(sizes)]
    for row in results["rows"]:
        cells = []
        for size in sizes:
            means = [r["mean"] for r in row["returns"][str(size)]]
            cells.append(f"{np.mean(means):.1f} ± {np.std(means):.1f} ({100 * np.mean(means) / expert:.0f}%)")
        lines.append(f"| {row['labels']} | {np.mean(row['label_mse']):.4f} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
