"""Behavioral cloning from observation: the inverse dynamics model and the exploration policies.

The inverse dynamics model maps a transition (s, s') to the action that caused it. BCO learns it
from the agent's own interaction, then uses it to label state-only demonstrations.
"""

from typing import Sequence

from cs294 import quiet_tensorflow  # noqa: F401  (first: before keras)

import gymnasium as gym
import keras
import numpy as np

from cs294 import data, models, rollouts


def transitions(trajectories: Sequence[data.Trajectory]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (s, s', a) of the episodes, stacked."""
    states = np.concatenate([t.observations[:-1] for t in trajectories])
    next_states = np.concatenate([t.observations[1:] for t in trajectories])
    actions = np.concatenate([t.actions for t in trajectories])
    return states, next_states, actions


def build_inverse_model(states: np.ndarray, next_states: np.ndarray, output_dim: int, config: models.PolicyConfig,
                        name: str = "inverse_dynamics") -> keras.Model:
    """(s, s') -> action (or logits): an MLP on [s, s' - s], normalized inside the model by these transitions' statistics.

    The change s' - s carries the action's effect; fed raw beside s it would be a small difference
    of large numbers, so it gets its own normalization.
    """
    observation_dim = states.shape[1]
    state = keras.Input(shape=(observation_dim,), name="state")
    next_state = keras.Input(shape=(observation_dim,), name="next_state")
    change = keras.layers.Subtract(name="change")([next_state, state])
    features = keras.layers.Concatenate(name="state_and_change")([state, change])
    mean, variance = models.normalizer_statistics(np.concatenate([states, next_states - states], axis=1))
    hidden = keras.layers.Normalization(mean=mean, variance=variance, name="normalize")(features)
    regularizer = keras.regularizers.L2(config.l2) if config.l2 > 0 else None
    for index, units in enumerate(config.hidden):
        hidden = keras.layers.Dense(units, activation=config.activation, kernel_regularizer=regularizer, name=f"hidden_{index}")(hidden)
    outputs = keras.layers.Dense(output_dim, kernel_regularizer=regularizer, name="actions")(hidden)
    return keras.Model([state, next_state], outputs, name=name)


def infer_actions(model: keras.Model, observation_sequences: Sequence[np.ndarray], action_space: gym.Space) -> list[np.ndarray]:
    """The inverse model's action for every step of each state-only episode; argmax for discrete, clipped to the bounds otherwise."""
    states = np.concatenate([sequence[:-1] for sequence in observation_sequences])
    next_states = np.concatenate([sequence[1:] for sequence in observation_sequences])
    outputs = model.predict([states, next_states], batch_size=8192, verbose=0)
    if isinstance(action_space, gym.spaces.Discrete):
        actions = outputs.argmax(axis=-1)
    else:
        actions = np.clip(outputs, action_space.low, action_space.high)
    return np.split(actions, np.cumsum([len(sequence) - 1 for sequence in observation_sequences])[:-1])


class RandomPolicy:
    """BCO's pre-demonstration policy: uniformly random actions from its own generator, whatever the observation.

    A numpy Driver of the rollout loop rather than a Keras model: each draw then costs microseconds,
    where a compiled model call costs ~0.2 ms a step, and BCO(0) collects whole demonstrations' worth of steps.
    """

    def __init__(self, action_space: gym.Space, seed: int) -> None:
        self.action_space = action_space
        self.rng = np.random.default_rng(seed)

    def batch_policy(self, batch_size: int, action_space: gym.Space) -> rollouts.Actions:
        return self.act

    def act(self, observations: np.ndarray) -> np.ndarray:
        """One uniformly random action per row."""
        space = self.action_space
        if isinstance(space, gym.spaces.Discrete):
            return self.rng.integers(space.n, size=len(observations)) + space.start
        draw = self.rng.random((len(observations), *space.shape), dtype=np.float32)
        return (space.low + draw * (space.high - space.low)).astype(space.dtype)


def exploration_policy(action_space: gym.Space, seed: int) -> RandomPolicy:
    """The pre-demonstration policy of BCO: uniformly random actions, a Driver the rollout loop can run."""
    return RandomPolicy(action_space, seed)


class ExploringPolicy:
    """BCO(alpha)'s collector: the learner's numpy batch policy, with exploration drawn from its own generator.

    Discrete actions: a uniformly random action with probability `exploration`. Continuous
    actions: Gaussian noise of std `exploration` x half the action range on every action, clipped
    to the bounds, which keeps the agent near the states its policy reaches while still varying
    the actions there.
    """

    def __init__(self, policy: keras.Model, action_space: gym.Space, exploration: float, seed: int) -> None:
        self.policy, self.action_space, self.exploration = policy, action_space, exploration
        self.rng = np.random.default_rng(seed)

    def batch_policy(self, batch_size: int, action_space: gym.Space) -> rollouts.Actions:
        act = rollouts.fast_policy(self.policy, batch_size, action_space)
        space, rng = self.action_space, self.rng
        if isinstance(space, gym.spaces.Discrete):
            def explore(observations: np.ndarray) -> np.ndarray:
                actions = act(observations)
                random = rng.random(len(actions)) < self.exploration
                return np.where(random, rng.integers(space.n, size=len(actions)) + space.start, actions)
            return explore
        low, high = space.low.astype(np.float32), space.high.astype(np.float32)
        std = (self.exploration * (high - low) / 2).astype(np.float32)

        def add_noise(observations: np.ndarray) -> np.ndarray:
            actions = act(observations)
            noise = rng.standard_normal(actions.shape, dtype=np.float32) * std
            return np.clip(actions + noise, low, high).astype(space.dtype)
        return add_noise


def exploring_policy(policy: keras.Model, action_space: gym.Space, exploration: float, seed: int) -> "keras.Model | ExploringPolicy":
    """The policy that collects BCO(alpha)'s transitions: the learner itself, or with `exploration` > 0 an ExploringPolicy."""
    if exploration <= 0:
        return policy
    return ExploringPolicy(policy, action_space, exploration, seed)
