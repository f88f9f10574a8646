"""Rollout and training speed: the package's loop against a bare loop with a numpy expert.

    python hw1/benchmark.py --steps 20000

For each environment, one after the other in this process:
1. bare loop: one environment and a numpy forward pass of the expert per step, nothing recorded;
   the fastest a single-process loop of the expert goes;
2. package loop, expert: cs294.rollouts.sample_trajectories with the Keras expert, which records
   every step and calls the model once per step for all of its environments;
3. training: a BC policy (bc.py's default network) fit to the episodes of step 2, in samples/s;
4. package loop, learned: the same loop driven by that learned policy.
The ratios are package steps/s over bare steps/s.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from cs294 import cli, data, files, environments, experts, models, rollouts, training

import keras  # noqa: E402  (after cs294, which keeps TensorFlow's start-up banner quiet)

EXPERT_ENVS = ("Ant-v1", "HalfCheetah-v1", "Hopper-v1", "Humanoid-v1", "Reacher-v1", "Walker2d-v1")


def bare_loop_steps_per_second(weights: experts.ExpertWeights, spec: environments.EnvSpec, steps: int, seed: int) -> float:
    """Steps/s of one environment driven by the numpy expert, with nothing recorded."""
    env = environments.make_env(spec)
    observation, _ = env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        action = experts.numpy_forward(weights, observation[None])[0]
        observation, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            observation, _ = env.reset()
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def package_loop(model: keras.Model, spec: environments.EnvSpec, steps: int, seed: int, num_envs: int) -> tuple[float, list[data.Trajectory]]:
    """Steady-state steps/s of sample_trajectories with `model` acting, compile time excluded, and the episodes.

    More episodes wait than can run, and the loop stops after exactly `steps` steps, so no
    environment idles while the others finish, however short the episodes are.
    """
    rng = np.random.default_rng(seed)
    # Compiles the model's batch policy, which the timed call then reuses.
    rollouts.sample_trajectories(model, spec, rollouts.episode_seeds(rng, num_envs), max_episode_steps=5, num_envs=num_envs)
    seeds = rollouts.episode_seeds(rng, steps)  # an episode takes at least one step
    start = time.perf_counter()
    trajectories = rollouts.sample_trajectories(model, spec, seeds, num_envs=num_envs, max_total_steps=steps)
    elapsed = time.perf_counter() - start
    return sum(t.length for t in trajectories) / elapsed, trajectories


def train_policy(trajectories: list[data.Trajectory], epochs: int) -> tuple[keras.Model, float]:
    """A BC policy with bc.py's default network fit to the episodes; the model and samples/s."""
    observations, actions = data.transitions(trajectories)
    config = training.TrainingConfig(epochs=epochs)
    model = models.build_policy(observations, actions.shape[1], models.PolicyConfig())
    training.compile_policy(model, config, discrete=False)
    result = training.fit_policy(model, (observations, actions), (observations[:0], actions[:0]), config)
    return model, result.samples_per_second


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("benchmark.py", __doc__)
    loops = parser.add_argument_group("the loops")
    training = parser.add_argument_group("training")
    output = parser.add_argument_group("output")
    loops.add_argument("--envs", default=",".join(EXPERT_ENVS), help="comma-separated published env names (default: all six)")
    loops.add_argument("--steps", type=int, default=20000, help="environment steps per loop and env (default: 20000)")
    loops.add_argument("--num_envs", type=int, default=rollouts.DEFAULT_NUM_ENVS, help="environments in the package loop")
    loops.add_argument("--seed", type=int, default=0, help="seed of the episodes")
    training.add_argument("--epochs", type=int, default=5, help="epochs of the learned policy's training (default: 5)")
    output.add_argument("--output", type=Path, default=None, help="also write the table to this markdown file, and the rows beside it as .json")
    return parser


def main(args: argparse.Namespace) -> list[dict]:
    rows = []
    lines = ["| env | bare numpy loop (steps/s) | Keras expert (steps/s) | ratio | learned policy (steps/s) | ratio | training (samples/s) |",
             "|---|---|---|---|---|---|---|"]
    print("\n".join(lines))
    for name in args.envs.split(","):
        spec = environments.resolve(name)
        weights = experts.load_expert_weights(experts.default_expert_path(name))
        keras.utils.set_random_seed(args.seed)
        bare = bare_loop_steps_per_second(weights, spec, args.steps, args.seed)
        expert, trajectories = package_loop(experts.build_expert_model(weights), spec, args.steps, args.seed, args.num_envs)
        policy, samples_per_second = train_policy(trajectories, args.epochs)
        learned, _ = package_loop(policy, spec, args.steps, args.seed + 1, args.num_envs)
        row = {"env": name, "bare": bare, "expert": expert, "expert_ratio": expert / bare,
               "learned": learned, "learned_ratio": learned / bare, "training_samples_per_second": samples_per_second}
        rows.append(row)
        lines.append(f"| {name} | {bare:,.0f} | {expert:,.0f} | {expert / bare:.2f} | {learned:,.0f} | {learned / bare:.2f} | {samples_per_second:,.0f} |")
        print(lines[-1], flush=True)
    if args.output:
        files.write_text(args.output, "\n".join(lines) + "\n")
        files.write_json(args.output.with_suffix(".json"), {"steps": args.steps, "num_envs": args.num_envs, "epochs": args.epochs, "rows": rows})
    return rows


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
