"""The 2017 expert pickles: a restricted loader, a numpy reference forward pass and the Keras expert."""

import _codecs
import dataclasses
import io
import pickle
from pathlib import Path
from typing import Any

from cs294 import quiet_tensorflow  # noqa: F401  (first: before keras)

import gymnasium as gym
import keras
import numpy as np
from numpy._core import multiarray

from cs294 import models, provenance
from cs294.environments import PUBLISHED_ENVS, EnvSpec, default_expert_path, make_env  # noqa: F401  (default_expert_path: re-exported, experts.default_expert_path still works)
from cs294.errors import UserError

# The only globals an expert pickle references (experts/README.md). Resolving nothing else means a
# crafted file cannot call anything: pickle runs code only through the globals it can look up.
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
    # The same function under the name numpy >= 2 writes, for experts pickled today.
    ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _codecs.encode,
}

# The published experts by content, so that an expert paired with another task of the same
# observation and action sizes (HalfCheetah and Walker2d are both 17 -> 6) is caught too.
PUBLISHED_EXPERT_SHA256 = {
    "a1af3914f14366dd171ede0cf37663047764799d1fca40a6a3ada5e935065dbe": "Ant-v1",
    "f26c60dd80a4bedecf8a82463e07fde6c168004f07df1b8880b07658666a0862": "HalfCheetah-v1",
    "56145a42b49fa5d7ca20bdc30407752a0830ee4cae882eccfd01e4fdddc4cf92": "Hopper-v1",
    "e9067186f23ef26668ac98df5bd1917587ed2c64169c2ad3b42af48eab48b9bb": "Humanoid-v1",
    "9a7aa5620c0314d127c251f2b3a1d6ea22306b0298778d73d029821bdd1a3dbf": "Reacher-v1",
    "cd70901c89e3c89348661e32d4207c5d417a804370daa33226d149d9f60bb8ad": "Walker2d-v1",
}

NORMALIZER_EPSILON = 1e-6
MAX_EXPERT_BYTES = 16 * 2**20
"""The largest expert pickle accepted: 40 times the largest published one, so no file can make the loader hold gigabytes."""


class ForbiddenGlobalError(pickle.UnpicklingError):
    """A pickle asked for a global outside ALLOWED_GLOBALS."""


class _RestrictedUnpickler(pickle._Unpickler):  # pure Python: it never allocates what a length field merely declares
    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise ForbiddenGlobalError(f"it references {module}.{name}, which no expert file needs") from None


@dataclasses.dataclass(frozen=True)
class ExpertWeights:
    """The numbers inside an expert pickle, checked for shape."""

    observation_mean: np.ndarray
    """(obs_dim,) mean of the expert's observation normalizer."""
    observation_std: np.ndarray
    """(obs_dim,) std of the normalizer, sqrt(max(0, meansq - mean^2))."""
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    """(kernel, bias) pairs: the tanh hidden layers, then the linear output layer."""
    nonlinearity: str
    discrete: bool = False
    """True when the outputs are one logit per discrete action (the CartPole expert), acted on by argmax."""

    def __post_init__(self) -> None:
        inputs = self.observation_mean.shape[0]
        if self.observation_std.shape != (inputs,):
            raise ValueError(f"normalizer mean has shape {(inputs,)} but std has {self.observation_std.shape}")
        for kernel, bias in self.layers:
            if kernel.ndim != 2 or kernel.shape[0] != inputs or bias.shape != (kernel.shape[1],):
                raise ValueError(f"layer of shape {kernel.shape} with bias {bias.shape} does not take {inputs} inputs")
            inputs = kernel.shape[1]

    @property
    def observation_dim(self) -> int:
        return self.observation_mean.shape[0]

    @property
    def action_dim(self) -> int:
        return self.layers[-1][0].shape[1]


def load_expert_weights(path: str | Path) -> ExpertWeights:
    """Read an expert pickle through the restricted unpickler and check its structure."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"expert file {path} does not exist; the six experts are in experts/, e.g. experts/Hopper-v1.pkl")
    size = path.stat().st_size
    if size > MAX_EXPERT_BYTES:  # checked before reading: a huge file would be held several times over while unpickled
        raise UserError(f"{path} is {size:,} bytes, far more than any expert pickle (the largest, Humanoid's, is 375 kB); "
                        "it is not an expert file")
    try:
        raw = _RestrictedUnpickler(io.BytesIO(path.read_bytes())).load()
    except ForbiddenGlobalError as error:
        raise UserError(f"refusing to load {path}: {error}; it is not an expert file") from None
    except Exception as error:  # a corrupt pickle can fail in many ways, none of them the user's bug
        raise UserError(f"{path} is not a readable expert pickle ({type(error).__name__}{f': {error}' if str(error) else ''}); "
                        "it may be truncated or of another format") from None
    try:
        return _parse_expert(raw)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise UserError(f"{path} does not have the expert format of experts/README.md ({type(error).__name__}: {error})") from None


def _array(value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        raise TypeError(f"expected a float array, found {type(value).__name__}")
    if not np.isfinite(value).all():
        raise ValueError("it holds NaN or infinite weights")
    return value.astype(np.float64)


def _affine(node: dict) -> tuple[np.ndarray, np.ndarray]:
    layer = node["AffineLayer"]
    return _array(layer["W"]), _array(layer["b"]).reshape(-1)


def _parse_expert(raw: Any) -> ExpertWeights:
    nonlinearity = raw["nonlin_type"]
    if nonlinearity != "tanh":
        raise ValueError(f"nonlin_type {nonlinearity!r} is not 'tanh'")
    policy = raw["GaussianPolicy"]
    normalizer = policy["obsnorm"]["Standardizer"]
    mean = _array(normalizer["mean_1_D"]).reshape(-1)
    mean_square = _array(normalizer["meansq_1_D"]).reshape(-1)
    hidden = policy["hidden"]["FeedforwardNet"]
    layer_names = sorted(hidden, key=lambda name: int(name.split("_")[1]))
    layers = tuple(_affine(hidden[name]) for name in layer_names) + (_affine(policy["out"]),)
    action_type = raw.get("action_type", "continuous")
    if action_type not in ("continuous", "discrete"):
        raise ValueError(f"action_type {action_type!r} is neither 'continuous' nor 'discrete'")
    return ExpertWeights(
        observation_mean=mean,
        observation_std=np.sqrt(np.maximum(0.0, mean_square - mean**2)),
        layers=layers,
        nonlinearity=nonlinearity,
        discrete=action_type == "discrete",
    )


def numpy_forward(weights: ExpertWeights, observations: np.ndarray) -> np.ndarray:
    """The reference forward pass, the 2017 one: a batch of raw observations to a batch of actions, in float64."""
    activations = (observations - weights.observation_mean) / (weights.observation_std + NORMALIZER_EPSILON)
    for kernel, bias in weights.layers[:-1]:
        activations = np.tanh(activations @ kernel + bias)
    kernel, bias = weights.layers[-1]
    return activations @ kernel + bias


def build_expert_model(weights: ExpertWeights, name: str = "expert") -> keras.Model:
    """A Keras model computing numpy_forward: raw observations in, actions out, no custom layers."""
    observations = keras.Input(shape=(weights.observation_dim,), name="observations")
    # Keras divides by sqrt(variance); this variance makes that exactly std + 1e-6.
    variance = (weights.observation_std + NORMALIZER_EPSILON) ** 2
    normalize = keras.layers.Normalization(mean=weights.observation_mean, variance=variance, name="normalize")
    hidden = normalize(observations)
    dense_layers = []
    for index in range(len(weights.layers) - 1):
        layer = keras.layers.Dense(weights.layers[index][0].shape[1], activation="tanh", name=f"hidden_{index}")
        hidden = layer(hidden)
        dense_layers.append(layer)
    output_layer = keras.layers.Dense(weights.action_dim, name="actions")
    actions = output_layer(hidden)
    dense_layers.append(output_layer)
    for layer, (kernel, bias) in zip(dense_layers, weights.layers):
        layer.set_weights([kernel, bias])
    return keras.Model(observations, actions, name=name)


def check_fits_env(weights: ExpertWeights, env: gym.Env, expert_path: str | Path, env_spec: EnvSpec, expert_sha256: str) -> None:
    """Raise a UserError unless the expert's sizes match the environment's and it is not another task's expert."""
    env_name = env_spec.name
    expert_of = PUBLISHED_EXPERT_SHA256.get(expert_sha256)
    if expert_of is not None and PUBLISHED_ENVS[expert_of].gym_id != env_spec.gym_id:
        raise UserError(f"{expert_path} is the expert of {expert_of}, not of {env_name}; use experts/{expert_of}.pkl with {expert_of}")
    env_observations = env.observation_space.shape
    env_discrete = isinstance(env.action_space, gym.spaces.Discrete)
    env_actions = (int(env.action_space.n),) if env_discrete else env.action_space.shape
    if env_observations == (weights.observation_dim,) and env_actions == (weights.action_dim,) and env_discrete == weights.discrete:
        return
    raise UserError(
        f"expert {expert_path} takes {weights.observation_dim} observations and gives {weights.action_dim} "
        f"{'discrete' if weights.discrete else 'continuous'} actions, but {env_name} has observations of shape {env_observations} "
        f"and {'discrete' if env_discrete else 'continuous'} actions of shape {env_actions}; "
        f"pair each expert with its own environment, e.g. experts/Hopper-v1.pkl with Hopper-v1"
    )


def load_checked_expert(path: str | Path, env_spec: EnvSpec) -> keras.Model:
    """Load an expert pickle safely, check it against the environment, and build its Keras model."""
    weights = load_expert_weights(path)
    env = make_env(env_spec)
    try:
        check_fits_env(weights, env, path, env_spec, provenance.file_sha256(path))
    finally:
        env.close()
    return build_expert_model(weights)


def is_keras_file(path: str | Path) -> bool:
    """A saved Keras policy (.keras), rather than a 2017 expert pickle."""
    return Path(path).suffix == ".keras"


def load_expert_or_policy(path: str | Path, env_spec: EnvSpec) -> keras.Model:
    """An expert pickle (safely unpickled and checked) or any saved .keras policy of the task (Keras's safe mode, checked shapes).

    The .keras policy may be one trained here (bc.py, dagger.py, bco.py) or anywhere else with Keras: run_expert.py runs it,
    and dagger.py's --expert labels with it.
    """
    if not is_keras_file(path):
        return load_checked_expert(path, env_spec)
    env = make_env(env_spec)
    space, observations = env.action_space, env.observation_space.shape
    env.close()
    if observations is None or len(observations) != 1:  # e.g. FrozenLake's single integer, or CarRacing's images
        raise UserError(f"a .keras policy here maps a vector of observations to actions, but {env_spec.name} has observations of "
                        f"shape {observations}; choose a task whose observations are a vector, such as Hopper-v1")
    observation_dim = observations[0]
    return models.load_policy(path, observation_dim, int(space.n) if hasattr(space, "n") else space.shape[0])
