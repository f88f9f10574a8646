"""Behavioral cloning from observation: the inverse dynamics model and the exploration policy.

The inverse dynamics model maps a transition (s, s') to the action that caused it. BCO learns it
from the agent's own interaction, then uses it to label state-only demonstrations.
"""

from typing import Any, Sequence

from cs294 import quiet_tensorflow  # noqa: F401  (first: before keras)

import gymnasium as gym
import keras
import numpy as np

from cs294 import aggregation, data, models


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


class _UniformActions(keras.layers.Layer):
    """Ignores the observation: uniform random actions in a box, or random logits for discrete actions."""

    def __init__(self, low: np.ndarray, high: np.ndarray, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.low, self.high = low.astype(np.float32), high.astype(np.float32)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, observations):
        batch = keras.ops.shape(observations)[0]
        draw = keras.random.uniform((batch, self.low.shape[0]), seed=self.seed_generator)
        return self.low + draw * (self.high - self.low)


def exploration_policy(observation_dim: int, action_space: gym.Space, seed: int) -> keras.Model:
    """The pre-demonstration policy of BCO: uniformly random actions, as a Keras model the rollout loop can drive."""
    if isinstance(action_space, gym.spaces.Discrete):
        low, high = np.zeros(action_space.n), np.ones(action_space.n)  # argmax of uniform logits: a uniform action
    else:
        low, high = action_space.low, action_space.high
    observations = keras.Input(shape=(observation_dim,), name="observations")
    return keras.Model(observations, _UniformActions(low, high, seed, name="uniform")(observations), name="exploration")


class _GaussianNoise(keras.layers.Layer):
    """Adds N(0, (scale * half range)^2) noise to each action and clips it to the bounds."""

    def __init__(self, low: np.ndarray, high: np.ndarray, scale: float, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.low, self.high = low.astype(np.float32), high.astype(np.float32)
        self.std = (scale * (self.high - self.low) / 2).astype(np.float32)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, actions):
        noise = keras.random.normal(keras.ops.shape(actions), seed=self.seed_generator) * self.std
        return keras.ops.clip(actions + noise, self.low, self.high)


def exploring_policy(policy: keras.Model, action_space: gym.Space, exploration: float, seed: int) -> keras.Model:
    """The policy that collects BCO(alpha)'s transitions: the learner, made to explore.

    Discrete actions: a uniformly random action with probability `exploration`. Continuous
    actions: Gaussian noise of std `exploration` x half the action range on every action, which
    keeps the agent near the states its policy reaches while still varying the actions there.
    """
    if exploration <= 0:
        return policy
    observations = keras.Input(shape=policy.input_shape[1:], name="observations")
    if isinstance(action_space, gym.spaces.Discrete):
        random_policy = exploration_policy(policy.input_shape[-1], action_space, seed)
        return aggregation.mixture_policy(policy, random_policy, exploration, seed)
    noisy = _GaussianNoise(action_space.low, action_space.high, exploration, seed, name="noise")(policy(observations))
    return keras.Model(observations, noisy, name="exploring")
