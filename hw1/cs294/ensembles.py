"""Ensembles: K copies of a network, initialized apart and each fit to the same labels, averaged at the output.

On Hopper, one network cloned from the same labels can score 45% of the expert with one random
start and 100% with another; the mean of several members is far more consistent, which BCO,
whose labels come from an inverse model, needs (README, "BCO"). The averaged model is built
from Keras's own layers, so it saves and loads like any other policy.
"""

import dataclasses
from typing import Callable, Sequence

from cs294 import quiet_tensorflow  # noqa: F401  (first: before keras)

import keras
import numpy as np

from cs294 import training


@dataclasses.dataclass(frozen=True)
class Ensemble:
    """One network or several: `model` maps inputs to the members' mean, `trainer` to each member's output."""

    model: keras.Model
    trainer: keras.Model
    size: int


def build_ensemble(build_member: Callable[[str], keras.Model], size: int, name: str) -> Ensemble:
    """`size` members made by build_member(member_name); size 1 is the member itself, unchanged."""
    if size < 1:
        raise ValueError(f"an ensemble needs at least one member, not {size}")
    if size == 1:
        member = build_member(name)
        return Ensemble(member, member, 1)
    members = [build_member(f"{name}_member_{index}") for index in range(size)]
    inputs = [keras.Input(shape=tensor.shape[1:], name=tensor.name) for tensor in members[0].inputs]
    member_inputs = inputs if len(inputs) > 1 else inputs[0]
    outputs = [member(member_inputs) for member in members]
    model = keras.Model(member_inputs, keras.layers.Average(name="mean")(outputs), name=name)
    return Ensemble(model, keras.Model(member_inputs, outputs, name=f"{name}_members"), size)


def compile_ensemble(ensemble: Ensemble, config: training.TrainingConfig, discrete: bool) -> None:
    """Each member gets the policy loss; weights of 1/K make the reported loss the members' mean."""
    if ensemble.size == 1:
        training.compile_policy(ensemble.trainer, config, discrete)
        return
    ensemble.trainer.compile(optimizer=training.make_optimizer(config), loss=[training.policy_loss(discrete)] * ensemble.size,
                             loss_weights=[1 / ensemble.size] * ensemble.size)


def fit_ensemble(
    ensemble: Ensemble,
    train: tuple,
    validation: tuple,
    config: training.TrainingConfig,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    *,
    seed: int | Sequence[int],
    xla: bool | None = None,
) -> training.TrainingResult:
    """Fit every member on the same (inputs, labels); all members see the same batches, in an order drawn from `seed` (xla: as fit_policy)."""
    def repeat(labels: np.ndarray):
        return labels if ensemble.size == 1 else [labels] * ensemble.size

    return training.fit_policy(ensemble.trainer, (train[0], repeat(train[1])), (validation[0], repeat(validation[1])),
                               config, list(callbacks), seed=seed, xla=xla)
