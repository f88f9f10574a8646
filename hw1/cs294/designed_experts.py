"""Experts this project designs for the tasks 2017 shipped none for (CartPole, MountainCar), in the 2017 pickle format.

A designed expert is linear: one logit per discrete action, no hidden layer and an identity
normalizer, so that it loads through the same restricted loader as the 2017 experts
(experts/README.md).
"""

import pickle
from pathlib import Path

import numpy as np

from cs294 import data, environments, experts, rollouts
from cs294.errors import UserError


def linear_discrete_pickle(kernel: np.ndarray, bias: np.ndarray) -> dict:
    """logits = observations @ kernel + bias as the 2017 pickle structure: identity normalizer, no hidden layer."""
    observation_dim, action_count = kernel.shape
    return {
        "nonlin_type": "tanh",
        "action_type": "discrete",
        "GaussianPolicy": {
            "obsnorm": {"Standardizer": {"mean_1_D": np.zeros((1, observation_dim)), "meansq_1_D": np.ones((1, observation_dim))}},
            "hidden": {"FeedforwardNet": {}},
            "out": {"AffineLayer": {"W": kernel.astype(np.float64), "b": bias.reshape(1, action_count).astype(np.float64)}},
            "logstdevs_1_Da": np.zeros((1, action_count)),
        },
    }


def write_checked(payload: dict, output: Path, env_name: str, seeds: list[int], minimum: float) -> rollouts.EpisodeStats:
    """Write the pickle atomically, but only if the expert, loaded as every expert is, scores at least `minimum` on every seed."""
    with data.atomic_path(output) as temporary:
        temporary.write_bytes(pickle.dumps(payload, protocol=2))
        spec = environments.resolve(env_name)
        model = experts.load_checked_expert(temporary, spec)  # through the same restricted loader as every expert
        stats, _ = rollouts.evaluate(model, spec, seeds)
        print(f"check: {stats}")
        if stats.min < minimum:
            raise UserError(f"the designed expert scored {stats.min} in a check episode, below {minimum}; nothing was written")
    return stats
