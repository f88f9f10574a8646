"""Rollout speed: the package's loop with the Keras expert against a bare loop with a numpy expert.

    python hw1/benchmark.py --steps 20000

Both loops run here, one after the other, for each environment. The bare loop is one environment
and a numpy forward pass per step: the fastest a single-process loop of the expert can go. The
package loop is cs294.rollouts.sample_trajectories, which records every step and calls the Keras
model once per step for all of its environments. The ratio is package steps/s over bare steps/s.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from cs294 import cli, environments, experts, rollouts

EXPERTS_DIR = Path(__file__).resolve().parents[1] / "experts"
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


def package_loop_steps_per_second(weights: experts.ExpertWeights, spec: environments.EnvSpec, steps: int, seed: int, num_envs: int) -> float:
    """Steps/s of sample_trajectories with the Keras expert, compile time excluded."""
    model = experts.build_expert_model(weights)
    episode_steps = environments.default_max_episode_steps(spec)
    rng = np.random.default_rng(seed)
    rollouts.sample_trajectories(model, spec, rollouts.episode_seeds(rng, 1), max_episode_steps=5, num_envs=num_envs)
    # Whole batches of episodes, so that no env idles at the end while the others finish.
    batches = -(-steps // (episode_steps * num_envs))
    seeds = rollouts.episode_seeds(rng, batches * num_envs)
    start = time.perf_counter()
    trajectories = rollouts.sample_trajectories(model, spec, seeds, num_envs=num_envs)
    elapsed = time.perf_counter() - start
    return sum(t.length for t in trajectories) / elapsed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmark.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", default=",".join(EXPERT_ENVS), help="comma-separated published env names (default: all six)")
    parser.add_argument("--steps", type=int, default=20000, help="environment steps per loop and env (default: 20000)")
    parser.add_argument("--num_envs", type=int, default=rollouts.DEFAULT_NUM_ENVS, help="environments in the package loop")
    parser.add_argument("--seed", type=int, default=0, help="seed of the episodes")
    return parser


def main(args: argparse.Namespace) -> list[dict]:
    rows = []
    print("| env | bare numpy loop (steps/s) | package loop, Keras expert (steps/s) | ratio |")
    print("|---|---|---|---|")
    for name in args.envs.split(","):
        spec = environments.resolve(name)
        weights = experts.load_expert_weights(EXPERTS_DIR / f"{name}.pkl")
        bare = bare_loop_steps_per_second(weights, spec, args.steps, args.seed)
        package = package_loop_steps_per_second(weights, spec, args.steps, args.seed, args.num_envs)
        rows.append({"env": name, "bare": bare, "package": package, "ratio": package / bare})
        print(f"| {name} | {bare:,.0f} | {package:,.0f} | {package / bare:.2f} |", flush=True)
    return rows


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
