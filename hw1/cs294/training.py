"""Supervised training of a policy on (observation, action) pairs: the project's one training engine.

Every fit (BC, DAgger, BCO's policy and inverse model, ensembles, label noise) runs here. An
epoch is one compiled TensorFlow call (XLA for fits large enough to pay for its compilation): the data stays resident as tensors, the batch order
is drawn in the graph from a seed, and a loop over batches applies the model's own compiled
loss and optimizer to the Keras model's own variables. `model.fit` spends most of its time in
Python between batches of a network this small; this engine measured several times its
samples/s (docs/speed.md), and the saved model is the same plain Keras model.
"""

import dataclasses
import logging
import math
import time
import weakref
from typing import Any, NamedTuple, Sequence

from cs294 import quiet_tensorflow  # noqa: F401  (first: before keras)

import keras
import numpy as np
import tensorflow as tf

from cs294 import interrupts
from cs294.configs import TrainingConfig  # defined without TensorFlow, for the parsers; training.TrainingConfig still works
from cs294.errors import UserError


@dataclasses.dataclass(frozen=True)
class TrainingResult:
    """Losses per epoch and how fast training went (compilation included)."""

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


def split_train_validation(observations: np.ndarray, actions: np.ndarray, fraction: float, rng: np.random.Generator,
                           batch_size: int = TrainingConfig.batch_size):
    """Shuffle the transitions with rng and hold out `fraction` of them (at least one) for validation.

    Each part is taken straight into the buffer fit_policy trains from (take_rows), so a large data
    set is not copied again on its way into the engine.
    """
    order = rng.permutation(len(observations))
    held_out = held_out_count(len(order), fraction)
    validation, train = order[:held_out], order[held_out:]
    return ((take_rows(observations, train, batch_size), take_rows(actions, train, batch_size)),
            (take_rows(observations, validation, batch_size), take_rows(actions, validation, batch_size)))


def make_optimizer(config: TrainingConfig) -> keras.optimizers.Optimizer:
    if config.optimizer == "adam":
        return keras.optimizers.Adam(config.learning_rate)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(config.learning_rate)
    raise ValueError(f"optimizer must be adam or sgd, not {config.optimizer!r}")


def policy_loss(discrete: bool) -> keras.losses.Loss:
    """MSE to the expert's actions, or cross-entropy on logits for discrete actions."""
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True) if discrete else keras.losses.MeanSquaredError()


def compile_policy(model: keras.Model, config: TrainingConfig, discrete: bool) -> None:
    """Give the model its optimizer and loss; fit_policy trains with exactly these."""
    model.compile(optimizer=make_optimizer(config), loss=policy_loss(discrete))


class ResidentData(NamedTuple):
    """Inputs and labels as tensors padded to a power-of-two capacity, so a growing data set (DAgger) recompiles rarely.

    A named tuple, so that tf.function sees its tensors as arguments rather than a Python value.
    """

    inputs: Any
    labels: Any
    count: tf.Tensor
    """The real rows (int32 scalar); the rest is padding."""


def capacity_for(count: int, batch_size: int) -> int:
    """Rows to hold `count` samples plus one batch of padding (the last, partial batch reads past the end)."""
    return 1 << max(6, math.ceil(math.log2(count + batch_size)))


def engine_dtype(array: np.ndarray) -> np.dtype:
    """What the engine holds an array as: int32 for integer labels, float32 for everything else."""
    return np.dtype(np.int32 if array.dtype.kind in "iu" else np.float32)


# Every fresh page of a large array costs a page fault, which made copies of DAgger's 400 MB data sets cost seconds here
# (docs/speed.md). So take_rows gathers a split straight into a zeroed buffer of the engine's capacity, 64-byte aligned as
# TensorFlow requires, and the engine hands that memory to TensorFlow without a copy (DLPack). This maps the address of
# each such split to the array that owns its memory (a split's `.base`), for as long as the memory lives.
_PADDED_OWNERS: "weakref.WeakValueDictionary[int, np.ndarray]" = weakref.WeakValueDictionary()
ALIGNMENT = 64


def padded_buffer(capacity: int, row_shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A zeroed (capacity, *row_shape) array whose data starts on a 64-byte boundary."""
    size = capacity * int(np.prod(row_shape, dtype=np.int64)) * dtype.itemsize
    raw = np.zeros(size + ALIGNMENT, dtype=np.uint8)
    offset = -raw.ctypes.data % ALIGNMENT
    return raw[offset:offset + size].view(dtype).reshape(capacity, *row_shape)


def take_rows(array: np.ndarray, rows: np.ndarray, batch_size: int) -> np.ndarray:
    """array[rows], as the leading rows of a padded buffer of the engine's capacity when the engine holds it as it is."""
    array = np.asarray(array)
    if array.dtype != engine_dtype(array):  # the engine converts it anyway; its caller keeps the dtype it gave
        return array[rows]
    taken = padded_buffer(capacity_for(len(rows), batch_size), array.shape[1:], array.dtype)[:len(rows)]
    np.take(array, rows, axis=0, out=taken)
    _PADDED_OWNERS[taken.ctypes.data] = taken.base
    return taken


def padded_view(array: np.ndarray, capacity: int) -> np.ndarray | None:
    """The zero-padded buffer of `capacity` rows that take_rows gathered `array` into, or None if it did not."""
    owner = _PADDED_OWNERS.get(array.ctypes.data)
    if owner is None or array.base is not owner or not array.flags.c_contiguous or array.dtype != engine_dtype(array):
        return None
    start = array.ctypes.data - owner.ctypes.data
    size = capacity * int(np.prod(array.shape[1:], dtype=np.int64)) * array.dtype.itemsize
    if start + size > owner.nbytes:  # made for a larger batch size's capacity than this one
        return None
    return owner[start:start + size].view(array.dtype).reshape(capacity, *array.shape[1:])


def resident_tensor(array: np.ndarray, count: int, capacity: int) -> tf.Tensor:
    """The first `count` rows of `array`, zero-padded to `capacity` rows, as a tensor; take_rows's buffers are used without a copy."""
    array = np.asarray(array)
    buffer = padded_view(array, capacity) if len(array) == count else None
    if buffer is None:
        buffer = padded_buffer(capacity, array.shape[1:], engine_dtype(array))
        buffer[:count] = array
    return tf.experimental.dlpack.from_dlpack(buffer.__dlpack__())  # shares the buffer, and keeps it alive


def make_resident(inputs: Any, labels: Any, batch_size: int) -> ResidentData:
    """Pad each array of the (nested) inputs and labels to the same capacity; an array given twice is stored once."""
    count = len(tf.nest.flatten(inputs)[0])
    capacity = capacity_for(count, batch_size)
    stored: dict[int, tf.Tensor] = {}

    def resident(array: np.ndarray) -> tf.Tensor:
        if id(array) not in stored:
            stored[id(array)] = resident_tensor(array, count, capacity)
        return stored[id(array)]

    return ResidentData(tf.nest.map_structure(resident, inputs), tf.nest.map_structure(resident, labels), tf.constant(count, tf.int32))


def rows_of(inputs: Any) -> tf.Tensor:
    """The capacity of resident inputs, read at run time: a trace with open row counts serves every capacity."""
    return tf.shape(tf.nest.flatten(inputs)[0])[0]


def mean_weights(capacity: int | tf.Tensor, count: tf.Tensor) -> tf.Tensor:
    """Sample weights that turn Keras's sum-over-batch-size loss into the mean over the first `count` rows only."""
    valid = tf.range(capacity) < count
    return tf.where(valid, tf.cast(capacity, tf.float32) / tf.cast(count, tf.float32), 0.0)


def mix32(values: tf.Tensor) -> tf.Tensor:
    """An integer hash of uint32 values (xor-shift-multiply): the same bits eagerly, under XLA and on any device."""
    for shift, factor in ((16, 0x7FEB352D), (15, 0x846CA68B)):
        values = tf.bitwise.bitwise_xor(values, tf.bitwise.right_shift(values, shift)) * tf.constant(factor, tf.uint32)
    return tf.bitwise.bitwise_xor(values, tf.bitwise.right_shift(values, 16))


def batch_order(key: tf.Tensor, count: tf.Tensor, capacity: int | tf.Tensor) -> tf.Tensor:
    """The epoch's sample order drawn from `key` (two uint32): a permutation of rows 0..count-1, then the padding rows.

    Rows are sorted by a keyed hash of their index. TensorFlow's stateless random ops give other
    numbers under XLA than eagerly; integer arithmetic does not, so a test can replay the order.
    """
    rows = tf.cast(tf.range(capacity), tf.uint32)
    scores = tf.cast(mix32(tf.bitwise.bitwise_xor(mix32(rows + key[0]), key[1])), tf.int64)
    # Padding rows get a score above every real one, so they sort last.
    scores = tf.where(tf.range(capacity) < count, scores, tf.constant(2**32, tf.int64))
    return tf.argsort(scores, stable=True)


# A fit of fewer samples (rows × epochs) runs its epochs as a plain TensorFlow graph: XLA's compilation of a new model
# costs more seconds than XLA then saves. Measured under load on 2 cores (docs/speed.md): XLA added 2.5-4.8 s to a fresh
# model's fit and ran 1.6-3.2x the graph's samples/s, so it pays from roughly this many samples on.
XLA_MIN_SAMPLES = 400_000


EPOCH_KEY_SPEC = tf.TensorSpec([2], tf.uint32)


def open_rows(data: ResidentData | None) -> Any:
    """The type of resident data with every tensor's row count left open (the count stays a scalar)."""
    if data is None:
        return None
    return tf.nest.map_structure(lambda t: tf.TensorSpec([None, *t.shape[1:]] if t.shape.rank else [], t.dtype), data)


def trace_structure(*parts: ResidentData | None) -> tuple:
    """What decides an open-rows trace: which parts are present, and each tensor's dtype and shape past the rows."""
    return tuple(None if part is None else tuple((t.dtype, tuple(t.shape[1:])) for t in tf.nest.flatten(part)) for part in parts)


class EpochEngine:
    """One model's compiled epoch: shuffle in the graph, then every batch's forward pass, loss, gradient and update."""

    def __init__(self, model: keras.Model, batch_size: int, xla: bool = True) -> None:
        self.model = model
        self.batch_size = batch_size
        self.xla = xla
        self._compiled_epoch = tf.function(self._epoch, jit_compile=xla)
        self._open_traces: set[tuple] = set()

    def run_epoch(self, key: tf.Tensor, data: ResidentData, held_out: ResidentData | None) -> tuple[tf.Tensor, tf.Tensor]:
        """One epoch (see _epoch). A plain graph is traced once with its row counts left open and then serves every capacity;
        XLA needs static shapes, so it compiles once per capacity."""
        if not self.xla:
            # A growing data set (DAgger's and BCO's refits) retraced at each new capacity: ~0.7 s each, 3.3 s of a Reacher
            # DAgger run's 9.3 s of fits. A call whose shapes fit this trace dispatches to it.
            structure = trace_structure(data, held_out)
            if structure not in self._open_traces:  # looking the trace up costs 0.19 ms, 3% of a 1,000-row epoch
                self._compiled_epoch.get_concrete_function(EPOCH_KEY_SPEC, open_rows(data), open_rows(held_out))
                self._open_traces.add(structure)
        return self._compiled_epoch(key, data, held_out)

    def _step(self, inputs: Any, labels: Any, weights: tf.Tensor | None) -> tf.Tensor:
        """One gradient step with the model's compiled loss (its L2 penalties included) and optimizer."""
        model = self.model
        with tf.GradientTape() as tape:
            predictions = model(inputs, training=True)
            loss = model.compute_loss(inputs, labels, predictions, sample_weight=weights, training=True)
        gradients = tape.gradient(loss, model.trainable_variables)
        model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    def _epoch(self, key: tf.Tensor, data: ResidentData, held_out: ResidentData | None) -> tuple[tf.Tensor, tf.Tensor]:
        """One pass over the data in an order drawn from `key`, then the loss on the held-out data (NaN without)."""
        train_loss = self._train(key, data.inputs, data.labels, data.count)
        if held_out is None:
            return train_loss, tf.constant(float("nan"))
        return train_loss, self._validation_loss(held_out.inputs, held_out.labels, held_out.count)

    def _train(self, key: tf.Tensor, inputs: Any, labels: Any, count: tf.Tensor) -> tf.Tensor:
        """Every batch of the first `count` rows in an order drawn from `key`; the loss averaged over samples, as Keras reports it."""
        size = self.batch_size
        order = batch_order(key, count, rows_of(inputs))

        def batch(start: tf.Tensor) -> tuple[Any, Any]:
            rows = tf.slice(order, [start], [size])
            take = lambda tensor: tf.gather(tensor, rows)  # noqa: E731
            return tf.nest.map_structure(take, inputs), tf.nest.map_structure(take, labels)

        def step(start: tf.Tensor, total: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            # Keras's last batch is smaller: there the padded rows get weight 0 (elsewhere every weight is 1).
            rows_in_batch = tf.minimum(size, count - start)
            loss = self._step(*batch(start), mean_weights(size, rows_in_batch))
            return start + size, total + loss * tf.cast(rows_in_batch, tf.float32)

        # A plain while loop: `for start in tf.range(0, count, size)` made XLA treat `count` as a compile-time constant,
        # so every new data size recompiled the epoch, even inside one padded capacity.
        _, total = tf.while_loop(lambda start, total: start < count, step, (tf.constant(0), tf.constant(0.0)))
        return total / tf.cast(count, tf.float32)

    def _validation_loss(self, inputs: Any, labels: Any, count: tf.Tensor) -> tf.Tensor:
        """The loss on the first `count` rows, L2 penalties included, as Keras's val_loss is."""
        capacity = rows_of(inputs)
        predictions = self.model(inputs, training=False)
        return self.model.compute_loss(inputs, labels, predictions, sample_weight=mean_weights(capacity, count), training=False)


class _WithoutRetracingWarnings(logging.Filter):
    """Drops TensorFlow's warning about retracing: every model, and every data capacity, gets its own trace by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


tf.get_logger().addFilter(_WithoutRetracingWarnings())

# Engines by model, then batch size and XLA or not: DAgger's and BCO's refits reuse the traced epoch,
# which retraces only when the data outgrows its capacity.
_ENGINES: "weakref.WeakKeyDictionary[keras.Model, dict[tuple[int, bool], EpochEngine]]" = weakref.WeakKeyDictionary()


def engine_for(model: keras.Model, batch_size: int, xla: bool = True) -> EpochEngine:
    """The model's epoch engine for this batch size, with or without XLA, made once."""
    engines = _ENGINES.setdefault(model, {})
    if (batch_size, xla) not in engines:
        engines[batch_size, xla] = EpochEngine(model, batch_size, xla)
    return engines[batch_size, xla]


def uses_xla(samples: int, epochs: int) -> bool:
    """Whether a fit of `epochs` passes over `samples` rows is large enough for XLA to pay for its compilation."""
    return samples * epochs >= XLA_MIN_SAMPLES


def check_finite_data(arrays: Any, what: str) -> None:
    """Refuse NaN or infinite inputs or labels before they turn every weight into NaN."""
    for array in tf.nest.flatten(arrays):
        array = np.asarray(array)
        # NaN propagates through min and max, and an infinity is one of them: two passes, with no array of flags to allocate.
        if array.dtype.kind == "f" and array.size and not (np.isfinite(array.min()) and np.isfinite(array.max())):
            raise UserError(f"the {what} hold {int(np.size(array) - np.isfinite(array).sum())} NaN or infinite values; "
                            "check the data file (hw1/show_data.py shows it)")


def prepare(model: keras.Model, inputs: Any, labels: Any) -> None:
    """Build the optimizer's slots and the compiled loss eagerly, so the traced epoch creates no variables."""
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    head = lambda array: np.asarray(array)[:1]  # noqa: E731
    sample_inputs, sample_labels = tf.nest.map_structure(head, inputs), tf.nest.map_structure(head, labels)
    model.compute_loss(sample_inputs, sample_labels, model(sample_inputs, training=False), training=False)


def diverged(epoch: int, epochs: int, name: str, value: float, model: keras.Model) -> UserError:
    """The one-line error of a fit whose loss stopped being a number."""
    rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    return UserError(f"training diverged in epoch {epoch + 1} of {epochs}: the {name} is {value}; nothing was saved. "
                     f"Try a smaller --learning_rate (this fit used {rate:g}) or check the data for extreme values")


def epoch_keys(seed: int | Sequence[int], epochs: int) -> np.ndarray:
    """One stateless shuffle key per epoch, drawn from `seed`."""
    return np.random.default_rng(seed).integers(0, 2**32, size=(epochs, 2), dtype=np.uint32)


def fit_policy(
    model: keras.Model,
    train: tuple[Any, Any],
    validation: tuple[Any, Any],
    config: TrainingConfig,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    *,
    seed: int | Sequence[int],
    xla: bool | None = None,
) -> TrainingResult:
    """Fit a compiled model for config.epochs; the losses are the mean loss per epoch, L2 penalty included.

    The batch order of every epoch comes from `seed`. Callbacks see Keras's per-epoch logs
    ("loss", "val_loss") and may set model.stop_training. A loss that is not finite stops the fit
    with a UserError. The epochs run under XLA when the fit is large enough to pay for it
    (uses_xla), or as `xla` says.
    """
    check_finite_data(train, "training inputs and labels")
    start = time.perf_counter()
    prepare(model, *train)
    rows = len(tf.nest.flatten(train[0])[0])
    engine = engine_for(model, config.batch_size, uses_xla(rows, config.epochs) if xla is None else xla)
    data = make_resident(*train, config.batch_size)
    held_out = make_resident(*validation, config.batch_size) if len(tf.nest.flatten(validation[0])[0]) else None
    callback_list = keras.callbacks.CallbackList(list(callbacks), model=model)
    model.stop_training = False
    train_losses: list[float] = []
    validation_losses: list[float] = []
    callback_list.on_train_begin()
    try:
        for epoch, key in enumerate(epoch_keys(seed, config.epochs)):
            interrupts.stop_if_interrupted()
            callback_list.on_epoch_begin(epoch)
            train_loss, validation_loss = engine.run_epoch(tf.constant(key), data, held_out)
            logs = {"loss": float(train_loss)} if held_out is None else {"loss": float(train_loss), "val_loss": float(validation_loss)}
            for name, value in logs.items():
                if not math.isfinite(value):
                    raise diverged(epoch, config.epochs, "training loss" if name == "loss" else "validation loss", value, model)
            train_losses.append(logs["loss"])
            if "val_loss" in logs:
                validation_losses.append(logs["val_loss"])
            callback_list.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
    finally:
        callback_list.on_train_end()
    seconds = time.perf_counter() - start
    return TrainingResult(train_loss=train_losses, validation_loss=validation_losses, seconds=seconds,
                          samples_per_second=len(train_losses) * int(data.count) / seconds)
