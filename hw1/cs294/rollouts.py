"""The one rollout loop: any Keras policy drives a batch of environments; plus episode statistics."""

import dataclasses
import weakref
from typing import Callable, Protocol, Sequence, runtime_checkable

from cs294 import quiet_tensorflow  # noqa: F401  (first: before keras)

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf

from cs294 import interrupts
from cs294.configs import DEFAULT_NUM_ENVS  # defined without TensorFlow, for the parsers; rollouts.DEFAULT_NUM_ENVS still works
from cs294.data import Trajectory, make_trajectory
from cs294.environments import EnvSpec, make_env


class BatchPolicy:
    """Calls a Keras model on a fixed-size batch through one XLA-compiled function.

    A plain `model(x)` costs ~1 ms and `model.predict` ~40 ms, against ~0.1 ms for a MuJoCo step.
    One compiled call (~0.15 ms) for a whole batch of environments spreads that cost over them, and
    padding every call to the same batch size means the function is compiled only once.
    """

    def __init__(self, model: keras.Model, batch_size: int, action_space: gym.Space) -> None:
        self.batch = np.zeros((batch_size, model.input_shape[-1]), dtype=np.float32)
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.action_dtype = action_space.dtype
        # The concrete function skips tf.function's per-call argument binding (~0.05 ms).
        self._forward = tf.function(
            lambda observations: model(observations, training=False),
            input_signature=[tf.TensorSpec(self.batch.shape, tf.float32)],
            jit_compile=True,
        ).get_concrete_function()

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        """Actions for the first len(observations) rows; discrete policies give logits, acted on by argmax."""
        count = len(observations)
        self.batch[:count] = observations
        outputs = self._forward(tf.constant(self.batch)).numpy()[:count]
        if self.discrete:
            return outputs.argmax(axis=-1)
        return outputs.astype(self.action_dtype)


class NumpyPolicy:
    """The same batch policy as a numpy forward pass over the model's current weights, for the plain MLPs that rollouts run.

    At batch 16 the compiled TensorFlow call costs about 9x a numpy pass of the same weights
    (results/benchmark.md), and the rollout loop calls the policy once per step. Only layers whose
    maths is spelled out below qualify (numpy_layers); anything else (LSTM, DAgger's β-mixture)
    stays on the compiled BatchPolicy. BCO's random and exploring policies are Drivers with their own numpy draws.
    """

    def __init__(self, layers: list[Callable[[np.ndarray], np.ndarray]], action_space: gym.Space) -> None:
        self.layers = layers
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.action_dtype = action_space.dtype

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        """Actions for every row; discrete policies give logits, acted on by argmax."""
        outputs = np.asarray(observations, dtype=np.float32)
        for layer in self.layers:
            outputs = layer(outputs)
        if self.discrete:
            return outputs.argmax(axis=-1)
        return outputs.astype(self.action_dtype)


def _activation(name: str) -> Callable[[np.ndarray], np.ndarray] | None:
    return {"linear": lambda x: x, "relu": lambda x: np.maximum(x, 0), "tanh": np.tanh}.get(name)


def _numpy_layer(layer: keras.layers.Layer) -> Callable[[np.ndarray], np.ndarray] | None:
    """One layer's forward pass in float32 numpy, with Keras's formulas; None for a layer this does not cover."""
    if isinstance(layer, keras.layers.InputLayer):
        return lambda x: x
    if isinstance(layer, keras.layers.Normalization) and not layer.invert:
        mean = np.asarray(layer.mean, np.float32)
        scale = np.maximum(np.sqrt(np.asarray(layer.variance, np.float32)), np.float32(keras.backend.epsilon()))
        return lambda x: (x - mean) / scale
    if isinstance(layer, keras.layers.Dense) and layer.lora_rank is None:
        activation = _activation(keras.activations.serialize(layer.activation))
        kernel = np.asarray(layer.kernel, np.float32)
        bias = np.asarray(layer.bias, np.float32) if layer.use_bias else np.float32(0)
        return None if activation is None else (lambda x: activation(x @ kernel + bias))
    if isinstance(layer, keras.layers.Rescaling):
        scale, offset = np.float32(layer.scale), np.float32(layer.offset)
        return lambda x: x * scale + offset
    if isinstance(layer, keras.layers.ReLU) and layer.negative_slope == 0 and layer.threshold == 0:
        top = np.float32(np.inf if layer.max_value is None else layer.max_value)
        return lambda x: np.minimum(np.maximum(x, 0), top)
    return None


def numpy_layers(model: keras.Model) -> list[Callable[[np.ndarray], np.ndarray]] | None:
    """The model as a chain of numpy layers, or None. Covers a chain of single-input layers and an Average of such chains (ensembles)."""
    if len(model.inputs) != 1:
        return None
    chain: list[Callable[[np.ndarray], np.ndarray]] = []
    members: list[list[Callable[[np.ndarray], np.ndarray]]] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            member = numpy_layers(layer)
            if member is None:
                return None
            members.append(member)
        elif isinstance(layer, keras.layers.Average) and members:
            chains, members = members, []
            chain.append(lambda x, chains=chains: np.mean([_run(c, x) for c in chains], axis=0))
        else:
            step = _numpy_layer(layer)
            if step is None or members:
                return None
            chain.append(step)
    return None if members else chain


def _run(chain: list[Callable[[np.ndarray], np.ndarray]], x: np.ndarray) -> np.ndarray:
    for layer in chain:
        x = layer(x)
    return x


# Agreement a numpy pass must show with the model on a probe batch before it replaces it.
NUMPY_TOLERANCE = 1e-4


def fast_policy(model: keras.Model, batch_size: int, action_space: gym.Space) -> "NumpyPolicy | BatchPolicy":
    """A numpy pass over the model's weights as they are now, if it covers the model and matches it; else the compiled policy."""
    layers = numpy_layers(model)
    if layers is not None:
        policy = NumpyPolicy(layers, action_space)
        probe = np.random.default_rng(0).normal(size=(4, model.input_shape[-1])).astype(np.float32)
        expected = np.asarray(model(probe, training=False))
        if np.allclose(_run(layers, probe), expected, rtol=NUMPY_TOLERANCE, atol=NUMPY_TOLERANCE):
            return policy
    return batch_policy(model, batch_size, action_space)


Actions = Callable[[np.ndarray], np.ndarray]
"""A batch policy as the loop calls it: a batch of observations in, one action per row out."""


@runtime_checkable
class Driver(Protocol):
    """A policy that is not a Keras model (random or noisy exploration): it makes its own numpy batch policy."""

    def batch_policy(self, batch_size: int, action_space: gym.Space) -> Actions:
        ...


Policy = keras.Model | Driver
"""What the rollout loop can run: a Keras model, or a Driver."""


def acting(policy: Policy, batch_size: int, action_space: gym.Space) -> Actions:
    """The batch policy that drives `batch_size` environments: a Driver's own, or the model's fast_policy."""
    if isinstance(policy, Driver):
        return policy.batch_policy(batch_size, action_space)
    return fast_policy(policy, batch_size, action_space)


# Compiled batch policies by model, then by (batch size, action space): a model that is rolled out
# again (every DAgger or BCO iteration, an evaluation after training) is not compiled again. The
# compiled function reads the model's variables, so it follows later training.
_COMPILED: "weakref.WeakKeyDictionary[keras.Model, dict]" = weakref.WeakKeyDictionary()


def batch_policy(model: keras.Model, batch_size: int, action_space: gym.Space) -> BatchPolicy:
    """The model's compiled BatchPolicy for this batch size and action space, made once."""
    key = (batch_size, isinstance(action_space, gym.spaces.Discrete), str(action_space.dtype))
    compiled = _COMPILED.setdefault(model, {})
    if key not in compiled:
        compiled[key] = BatchPolicy(model, batch_size, action_space)
    return compiled[key]


class _EpisodeRecorder:
    """Collects one episode's steps as they happen."""

    def __init__(self, index: int, seed: int, observation: np.ndarray) -> None:
        self.index = index
        self.seed = seed
        self.observations = [observation]
        self.actions: list[np.ndarray] = []
        self.rewards: list[float] = []
        self.terminated = False
        self.truncated = False

    def add(self, action: np.ndarray, reward: float, observation: np.ndarray, terminated: bool, truncated: bool) -> None:
        self.actions.append(action)
        self.rewards.append(reward)
        self.observations.append(observation)
        self.terminated, self.truncated = terminated, truncated

    def finish(self) -> Trajectory:
        steps = len(self.actions)
        last = np.arange(steps) == steps - 1
        return make_trajectory(
            observations=self.observations,
            actions=self.actions,
            rewards=self.rewards,
            terminations=last & self.terminated,
            truncations=last & self.truncated,
            seed=self.seed,
        )


def episode_seeds(rng: np.random.Generator, count: int, exclude: Sequence[int] = ()) -> list[int]:
    """Draw `count` distinct reset seeds from the caller's generator, none of them in `exclude`.

    Evaluation passes the training data's seeds as `exclude`, so a policy is never scored on
    the very episodes it was trained on.
    """
    excluded = set(int(seed) for seed in exclude)
    seeds: list[int] = []
    while len(seeds) < count:
        for seed in rng.integers(0, 2**31 - 1, size=count - len(seeds)):
            if int(seed) not in excluded:
                excluded.add(int(seed))
                seeds.append(int(seed))
    return seeds


# The generator of a run's evaluation seeds is (seed, EVALUATION_STREAM): apart from every stream a run
# draws its own episodes from, and the same for bc.py, dagger.py and bco.py, so that the expert, BC and
# DAgger of one seed are scored on the same episodes.
EVALUATION_STREAM = 1_000_000


def evaluation_seeds(seed: int, count: int, exclude: Sequence[int] = ()) -> list[int]:
    """The reset seeds a run of `seed` is scored on: the first k of them are the same for every count >= k."""
    return episode_seeds(np.random.default_rng([seed, EVALUATION_STREAM]), count, exclude=exclude)


def sample_trajectories(
    model: Policy,
    env_spec: EnvSpec,
    seeds: Sequence[int],
    *,
    max_episode_steps: int | None = None,
    num_envs: int = DEFAULT_NUM_ENVS,
    render_mode: str | None = None,
    on_episode_end: Callable[[int, Trajectory], None] | None = None,
    max_total_steps: int | None = None,
) -> list[Trajectory]:
    """Run one episode per seed with `model` acting, `num_envs` environments side by side.

    Episode i always resets with seeds[i], so without max_total_steps the episodes do not depend
    on num_envs. The trajectories come back in seed order; on_episode_end(i, trajectory) is
    called as each ends. With max_total_steps, sampling stops after exactly that many steps in
    all: the episodes running then end as truncated and the seeds not yet started are left out,
    so which episodes are cut, and where, depends on num_envs.
    """
    num_envs = max(1, min(num_envs, len(seeds)))
    envs = [make_env(env_spec, max_episode_steps=max_episode_steps, render_mode=render_mode) for _ in range(num_envs)]
    policy = acting(model, num_envs, envs[0].action_space)  # the weights as they are now: later training does not reach it
    # Row `slot` holds the latest observation of envs[slot]; rows of idle slots are ignored.
    current_observations = np.zeros((num_envs, *envs[0].observation_space.shape), dtype=np.float32)
    pending = iter(enumerate(seeds))
    recorders: list[_EpisodeRecorder | None] = [None] * num_envs
    finished: dict[int, Trajectory] = {}
    steps_left = max_total_steps if max_total_steps is not None else -1

    def start_next(slot: int) -> None:
        recorders[slot] = None
        next_episode = next(pending, None) if steps_left != 0 else None  # no new episode once the budget is spent
        if next_episode is not None:
            index, seed = next_episode
            observation, _ = envs[slot].reset(seed=seed)
            recorders[slot] = _EpisodeRecorder(index, seed, observation)
            current_observations[slot] = observation

    def end_episode(slot: int, recorder: _EpisodeRecorder) -> None:
        finished[recorder.index] = trajectory = recorder.finish()
        if on_episode_end is not None:
            on_episode_end(recorder.index, trajectory)
        start_next(slot)

    try:
        for slot in range(num_envs):
            start_next(slot)
        while any(recorders):
            interrupts.stop_if_interrupted()
            actions = policy(current_observations)
            for slot, recorder in enumerate(recorders):
                if recorder is None:
                    continue
                if steps_left == 0:  # the budget is spent: cut this episode short
                    recorder.truncated = True
                    if recorder.actions:  # one reset in the same pass as the last step has no step at all
                        end_episode(slot, recorder)
                    recorders[slot] = None
                    continue
                observation, reward, terminated, truncated, _ = envs[slot].step(actions[slot])
                steps_left -= 1
                recorder.add(actions[slot], float(reward), observation, terminated, truncated)
                current_observations[slot] = observation
                if terminated or truncated:
                    end_episode(slot, recorder)
    finally:
        for env in envs:
            env.close()
    return [finished[index] for index in sorted(finished)]


@dataclasses.dataclass(frozen=True)
class EpisodeStats:
    """Summary of a set of episodes; stdout, JSON, TensorBoard and the tables all read from this."""

    mean: float
    std: float
    min: float
    max: float
    mean_length: float
    episodes: int
    falls: int = 0
    """Episodes that ended inside the task (the walker fell) before the time limit."""

    def __str__(self) -> str:
        return (f"{self.mean:.1f} ± {self.std:.1f} (min {self.min:.1f}, max {self.max:.1f}, mean length {self.mean_length:.0f}, "
                f"{self.episodes} episodes, falls {self.falls}/{self.episodes})")


def rollout_stats(trajectories: Sequence[Trajectory]) -> EpisodeStats:
    """Mean, std (population, as numpy and the 2017 homework compute it), min, max of the returns."""
    returns = np.array([t.episode_return for t in trajectories])
    lengths = np.array([t.length for t in trajectories])
    return EpisodeStats(
        mean=float(returns.mean()),
        std=float(returns.std()),
        min=float(returns.min()),
        max=float(returns.max()),
        mean_length=float(lengths.mean()),
        episodes=len(returns),
        falls=int(sum(bool(t.terminations[-1]) for t in trajectories)),
    )


def evaluate(
    model: Policy,
    env_spec: EnvSpec,
    seeds: Sequence[int],
    *,
    num_envs: int = DEFAULT_NUM_ENVS,
    on_episode_end: Callable[[int, Trajectory], None] | None = None,
) -> tuple[EpisodeStats, list[Trajectory]]:
    """Run the policy for one episode per seed at the env's own time limit; the stats and the episodes."""
    trajectories = sample_trajectories(model, env_spec, seeds, num_envs=num_envs, on_episode_end=on_episode_end)
    return rollout_stats(trajectories), trajectories
