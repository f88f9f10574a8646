"""Policy networks: Keras functional MLPs that map raw observations to actions (or logits)."""

import zipfile
from pathlib import Path

from cs294 import quiet_tensorflow  # noqa: F401  (first: before keras)

import keras
import numpy as np

from cs294.configs import PolicyConfig  # defined without TensorFlow, for the parsers; models.PolicyConfig still works
from cs294.errors import UserError

# Features whose spread in the training data is below this are constants to the policy: they get
# an enormous variance, so they normalize to ~0 whatever value they take later. Dividing by their
# real std (~0) would turn any later change in them into a huge input.
CONSTANT_FEATURE_STD = 1e-3
CONSTANT_FEATURE_VARIANCE = 1e12


def normalizer_statistics(observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance for the input normalizer, with near-constant features neutralized."""
    mean = observations.mean(axis=0)
    std = observations.std(axis=0)
    variance = np.where(std < CONSTANT_FEATURE_STD, CONSTANT_FEATURE_VARIANCE, std**2)
    return mean, variance


def clip_layers(features, limit: float):
    """clip(x, -limit, limit) from built-in layers only, so the saved model needs no custom code.

    A feature with a small spread in the training data can later sit thousands of stds away (a
    Humanoid contact force reached -17814 in a 25-demonstration run) and drive the actions to
    absurd values; clipping bounds what the network can be asked to extrapolate.
    """
    shifted = keras.layers.Rescaling(1.0, offset=limit, name="clip_shift")(features)
    bounded = keras.layers.ReLU(max_value=2 * limit, name="clip")(shifted)
    return keras.layers.Rescaling(1.0, offset=-limit, name="clip_unshift")(bounded)


def build_policy(observations: np.ndarray, output_dim: int, config: PolicyConfig, name: str = "policy") -> keras.Model:
    """An MLP whose Normalization layer is adapted to `observations`; raw observations in, actions out.

    With head="lstm" the last hidden features pass through an LSTM that sees each observation as
    a sequence of length 1, so the policy still maps one observation to one action and the saved
    model still takes (batch, obs_dim).
    """
    if config.activation not in ("relu", "tanh"):
        raise ValueError(f"activation must be relu or tanh, not {config.activation!r}")
    if config.head not in ("linear", "lstm"):
        raise ValueError(f"head must be linear or lstm, not {config.head!r}")
    regularizer = keras.regularizers.L2(config.l2) if config.l2 > 0 else None
    mean, variance = normalizer_statistics(observations)
    inputs = keras.Input(shape=(observations.shape[1],), name="observations")
    features = keras.layers.Normalization(mean=mean, variance=variance, name="normalize")(inputs)
    if config.observation_clip > 0:
        features = clip_layers(features, config.observation_clip)
    for index, units in enumerate(config.hidden):
        features = keras.layers.Dense(units, activation=config.activation, kernel_regularizer=regularizer, name=f"hidden_{index}")(features)
    if config.head == "lstm":
        sequence = keras.layers.Reshape((1, features.shape[-1]), name="as_sequence")(features)
        features = keras.layers.LSTM(config.hidden[-1], kernel_regularizer=regularizer, name="lstm")(sequence)
    outputs = keras.layers.Dense(output_dim, kernel_regularizer=regularizer, name="actions")(features)
    return keras.Model(inputs, outputs, name=name)


POLICY_HINT = "pass a policy.keras written by bc.py, dagger.py or bco.py"
INVERSE_HINT = "pass an inverse_dynamics.keras written by bco.py"


def load_keras_model(path: str | Path, hint: str) -> keras.Model:
    """A .keras file a user named, loaded in Keras's safe mode (no Lambda layers); any failure is a UserError ending in `hint`."""
    if not Path(path).is_file():
        raise UserError(f"model file {path} does not exist; {hint}")
    try:
        return keras.saving.load_model(path)
    except Exception as error:  # Keras raises ValueError, OSError or zipfile errors for a file it cannot read
        raise UserError(f"{path} is not a Keras model this project can load: {load_failure(error)}; {hint}") from None


def load_failure(error: Exception) -> str:
    """What Keras found wrong with a model file, in a few words: its own first sentence, or what it means here."""
    message = str(error)
    if "Lambda" in message:
        return "it holds a Lambda layer, Python code that this project never runs"
    if "No model config" in message:
        return "it is an HDF5 file with no Keras model in it"
    if "zip file" in message or isinstance(error, zipfile.BadZipFile):
        return "it is not a .keras archive"
    first = message.strip().splitlines()[0].split(". ")[0] if message.strip() else ""
    return f"{type(error).__name__}: {first[:160]}" if first else type(error).__name__


def load_policy(path: str | Path, observation_dim: int, action_dim: int) -> keras.Model:
    """A saved .keras policy, checked to map observation_dim inputs to action_dim outputs."""
    model = load_keras_model(path, POLICY_HINT)
    inputs, outputs = model.input_shape, model.output_shape
    if not (isinstance(inputs, tuple) and inputs[-1] == observation_dim and outputs[-1] == action_dim):
        raise UserError(f"{path} maps {inputs} to {outputs}, but the environment has {observation_dim} observations "
                        f"and {action_dim} actions; use a policy trained on this task")
    return model


def load_inverse_model(path: str | Path, observation_dim: int, action_dim: int) -> keras.Model:
    """A saved inverse dynamics model, checked to map two observation_dim inputs (s, s') to action_dim outputs."""
    model = load_keras_model(path, INVERSE_HINT)
    inputs, outputs = model.input_shape, model.output_shape
    if not (isinstance(inputs, list) and len(inputs) == 2 and all(shape[-1] == observation_dim for shape in inputs)
            and isinstance(outputs, tuple) and outputs[-1] == action_dim):
        raise UserError(f"{path} maps {inputs} to {outputs}, but an inverse model of this task maps two inputs of "
                        f"{observation_dim} observations to {action_dim} actions; {INVERSE_HINT} on this task")
    return model
