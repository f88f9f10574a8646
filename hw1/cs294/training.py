"""Supervised training of a policy on (observation, action) pairs, with Keras."""

import dataclasses
import math
import time

from cs294 import quiet_tensorflow  # noqa: F401  (first: before keras)

import keras
import numpy as np

from cs294.errors import UserError

# Several batches per compiled call: for networks this small, Python overhead per batch costs
# more than the maths, and this measured 2.7x more samples/s at batch 32 (README, "Speed").
STEPS_PER_EXECUTION = 100


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """How a policy is fit; the defaults are seed 002's (batch 32, learning rate 1e-3, 100 epochs, Adam)."""

    epochs: int = 100
    """Passes over the training data."""
    batch_size: int = 32
    """Samples per gradient step."""
    learning_rate: float = 1e-3
    """Step size of the optimizer."""
    optimizer: str = "adam"
    """adam or sgd."""
    validation_fraction: float = 0.1
    """Share of the transitions held out to measure validation loss."""


@dataclasses.dataclass(frozen=True)
class TrainingResult:
    """Losses per epoch and how fast training went."""

    train_loss: list[float]
    validation_loss: list[float]
    seconds: float
    samples_per_second: float


def held_out_count(samples: int, fraction: float) -> int:
    """How many of `samples` transitions a split holds out: `fraction` of them, rounded, and at least one unless it is 0."""
    return max(1, int(round(fraction * samples))) if fraction > 0 else 0


def check_split(samples: int, fraction: float, source: object) -> None:
    """Refuse, before any training, a --validation_fraction that leaves no transition of `source` to train on."""
    if samples - held_out_count(samples, fraction) >= 1:
        return
    largest = math.floor(1000 * (samples - 1) / samples) / 1000
    hint = f"use --validation_fraction {largest:g} or less" if largest > 0 else "use --validation_fraction 0 (no validation)"
    raise UserError(f"--validation_fraction {fraction:g} holds out all {samples} transitions of {source}, leaving none to train on; "
                    f"{hint}, or more data")


def split_train_validation(observations: np.ndarray, actions: np.ndarray, fraction: float, rng: np.random.Generator):
    """Shuffle the transitions with rng and hold out `fraction` of them (at least one) for validation."""
    order = rng.permutation(len(observations))
    held_out = held_out_count(len(order), fraction)
    validation, train = order[:held_out], order[held_out:]
    return (observations[train], actions[train]), (observations[validation], actions[validation])


def make_optimizer(config: TrainingConfig) -> keras.optimizers.Optimizer:
    if config.optimizer == "adam":
        return keras.optimizers.Adam(config.learning_rate)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(config.learning_rate)
    raise ValueError(f"optimizer must be adam or sgd, not {config.optimizer!r}")


def compile_policy(model: keras.Model, config: TrainingConfig, discrete: bool) -> None:
    """MSE to the expert's actions, or cross-entropy on logits for discrete actions."""
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True) if discrete else keras.losses.MeanSquaredError()
    model.compile(optimizer=make_optimizer(config), loss=loss, steps_per_execution=STEPS_PER_EXECUTION)


def fit_policy(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    config: TrainingConfig,
    callbacks: list[keras.callbacks.Callback] = (),
) -> TrainingResult:
    """Fit a compiled model; the losses are the mean loss per epoch (L2 penalty included in train)."""
    start = time.perf_counter()
    history = model.fit(
        *train,
        validation_data=validation if len(validation[0]) else None,
        epochs=config.epochs,
        batch_size=config.batch_size,
        shuffle=True,
        callbacks=list(callbacks),
        verbose=0,
    )
    seconds = time.perf_counter() - start
    return TrainingResult(
        train_loss=[float(value) for value in history.history["loss"]],
        validation_loss=[float(value) for value in history.history.get("val_loss", [])],
        seconds=seconds,
        samples_per_second=config.epochs * len(train[0]) / seconds,
    )
