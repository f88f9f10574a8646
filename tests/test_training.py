"""The training engine: whole epochs in one compiled call, checked against Keras's own batch-by-batch updates."""

import dataclasses
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from cs294 import ensembles, models, reporting, training
from cs294.errors import UserError


def regression_data(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A small nonlinear regression task shaped like Hopper's (11 observations, 3 actions)."""
    rng = np.random.default_rng(seed)
    observations = rng.normal(size=(samples, 11)).astype(np.float32)
    actions = np.tanh(observations[:, :3] * observations[:, 3:6]).astype(np.float32)
    return observations, actions


def new_policy(observations: np.ndarray, config: training.TrainingConfig, seed: int = 0, l2: float = 0.0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = models.build_policy(observations, 3, models.PolicyConfig(hidden=(16, 16), l2=l2))
    training.compile_policy(model, config, discrete=False)
    return model


def weights(model: keras.Model) -> list[np.ndarray]:
    return [np.asarray(variable) for variable in model.weights]


@pytest.mark.parametrize("xla", [True, False], ids=["xla", "graph"])
def test_one_epoch_equals_the_same_batches_applied_one_by_one_with_the_keras_optimizer(xla):
    observations, actions = regression_data(100)  # 3 batches of 32 and a last one of 4
    config = training.TrainingConfig(epochs=1)
    engine_model, reference = new_policy(observations, config, l2=0.01), new_policy(observations, config, l2=0.01)
    result = training.fit_policy(engine_model, (observations, actions), (observations[:0], actions[:0]), config, seed=7, xla=xla)

    key = training.epoch_keys(7, 1)[0]
    order = np.asarray(training.batch_order(tf.constant(key), tf.constant(100), training.capacity_for(100, 32)))[:100]
    reference.optimizer.build(reference.trainable_variables)
    losses = []
    for start in range(0, 100, 32):
        rows = order[start:start + 32]
        with tf.GradientTape() as tape:
            predictions = reference(observations[rows], training=True)
            loss = reference.compute_loss(observations[rows], actions[rows], predictions, training=True)
        reference.optimizer.apply_gradients(zip(tape.gradient(loss, reference.trainable_variables), reference.trainable_variables))
        losses.append(float(loss) * len(rows))
    for mine, theirs in zip(weights(engine_model), weights(reference)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)
    assert result.train_loss[0] == pytest.approx(sum(losses) / 100, rel=1e-4)  # Keras's per-sample mean over the epoch


def test_a_fit_runs_under_xla_only_when_large_enough_to_pay_for_its_compilation():
    assert not training.uses_xla(1000, 100) and training.uses_xla(9000, 100)  # Hopper: 1 rollout against 10, 100 epochs
    observations, actions = regression_data(200)
    config = training.TrainingConfig(epochs=2)
    model = new_policy(observations, config)
    training.fit_policy(model, (observations, actions), (observations[:0], actions[:0]), config, seed=0)
    assert [xla for _, xla in training._ENGINES[model]] == [False]


def test_validation_loss_is_what_keras_evaluate_reports_l2_included():
    observations, actions = regression_data(300)
    config = training.TrainingConfig(epochs=2)
    model = new_policy(observations, config, l2=0.01)
    result = training.fit_policy(model, (observations[:230], actions[:230]), (observations[230:], actions[230:]), config, seed=0)
    assert result.validation_loss[-1] == pytest.approx(model.evaluate(observations[230:], actions[230:], verbose=0), rel=1e-4)


@pytest.mark.parametrize("xla", [True, False], ids=["xla", "graph"])
def test_the_same_seed_gives_the_same_weights_and_another_seed_other_weights(xla):
    observations, actions = regression_data(500)
    config = training.TrainingConfig(epochs=3)

    def trained(shuffle_seed: int) -> list[np.ndarray]:
        model = new_policy(observations, config)
        training.fit_policy(model, (observations, actions), (observations[:0], actions[:0]), config, seed=shuffle_seed, xla=xla)
        return weights(model)

    first, again, other = trained(1), trained(1), trained(2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


@pytest.mark.parametrize("xla", [True, False], ids=["xla", "graph"])
def test_a_split_goes_into_the_engine_without_a_copy_and_trains_as_plain_arrays(xla):
    observations, actions = regression_data(700)
    config = training.TrainingConfig(epochs=2)
    (train, train_labels), (held_out, held_out_labels) = training.split_train_validation(observations, actions, 0.1, np.random.default_rng(3))
    order = np.random.default_rng(3).permutation(700)  # the split's own order: 70 held out, then the rest
    np.testing.assert_array_equal(train, observations[order[70:]])
    np.testing.assert_array_equal(held_out_labels, actions[order[:70]])
    assert train.ctypes.data % training.ALIGNMENT == 0
    tensor = training.resident_tensor(train, len(train), training.capacity_for(len(train), 32))
    train[0, 0] = 12345.0  # the tensor shares the split's buffer...
    assert float(tensor[0, 0]) == 12345.0 and not np.asarray(tensor[len(train):]).any()  # ...and its padding is zero
    train[0, 0] = observations[order[70], 0]

    def trained(*data) -> tuple[list[np.ndarray], training.TrainingResult]:
        model = new_policy(observations, config)
        result = training.fit_policy(model, *data, config, seed=5, xla=xla)
        return weights(model), result

    shared, shared_result = trained((train, train_labels), (held_out, held_out_labels))
    copied, copied_result = trained((train.copy(), train_labels.copy()), (held_out.copy(), held_out_labels.copy()))
    assert all(np.array_equal(a, b) for a, b in zip(shared, copied))
    assert shared_result.validation_loss == copied_result.validation_loss and shared_result.train_loss == copied_result.train_loss


def test_training_learns_and_the_saved_model_acts_as_the_trained_one(tmp_path):
    observations, actions = regression_data(2000)
    config = training.TrainingConfig(epochs=10)
    model = new_policy(observations, config)
    before = model.evaluate(observations[1800:], actions[1800:], verbose=0)
    result = training.fit_policy(model, (observations[:1800], actions[:1800]), (observations[1800:], actions[1800:]), config, seed=0)
    assert result.validation_loss[-1] < 0.5 * before and len(result.train_loss) == 10
    reporting.save_policy(model, tmp_path / "policy.keras")
    loaded = keras.saving.load_model(tmp_path / "policy.keras")
    np.testing.assert_array_equal(np.asarray(model(observations[:50])), np.asarray(loaded(observations[:50])))


def test_a_growing_data_set_keeps_training_the_same_model():
    """DAgger's refits: more rows each time, the same model, optimizer state carried over."""
    observations, actions = regression_data(3000)
    config = training.TrainingConfig(epochs=2)
    model = new_policy(observations, config)
    for rows in (500, 1200, 3000):
        result = training.fit_policy(model, (observations[:rows], actions[:rows]), (observations[:0], actions[:0]), config, seed=rows)
        assert len(result.train_loss) == 2 and all(math.isfinite(loss) for loss in result.train_loss)
    assert int(model.optimizer.iterations) == 2 * sum(math.ceil(rows / 32) for rows in (500, 1200, 3000))


def test_a_plain_graph_epoch_is_traced_once_for_every_capacity_and_trains_as_a_fresh_trace_would(monkeypatch):
    """A growing data set crosses capacities 1024, 2048 and 4096: one trace, and the same weights as a new engine per capacity."""
    observations, actions = regression_data(3000)
    config = training.TrainingConfig(epochs=1)
    refitted, retraced = new_policy(observations, config), new_policy(observations, config)
    for rows in (500, 1200, 3000):
        train, held_out = (observations[:rows], actions[:rows]), (observations[-64:], actions[-64:])
        training.fit_policy(refitted, train, held_out, config, seed=rows, xla=False)
        training._ENGINES.pop(retraced, None)  # a new engine, so a new trace at exactly this capacity
        training.fit_policy(retraced, train, held_out, config, seed=rows, xla=False)
    engine = training.engine_for(refitted, 32, xla=False)
    assert engine._compiled_epoch.experimental_get_tracing_count() == 1
    for mine, fresh in zip(weights(refitted), weights(retraced)):
        np.testing.assert_array_equal(mine, fresh)
    # The trace is looked up once per data structure, not every epoch: three more epochs on data it has seen look nothing up.
    lookups, open_rows = [], training.open_rows
    monkeypatch.setattr(training, "open_rows", lambda data: lookups.append(data) or open_rows(data))
    training.fit_policy(refitted, train, held_out, dataclasses.replace(config, epochs=3), seed=1, xla=False)
    assert lookups == [] and len(engine._open_traces) == 1


def test_an_ensemble_of_two_input_members_trains_every_member_on_its_loss():
    rng = np.random.default_rng(0)
    states = rng.normal(size=(400, 4)).astype(np.float32)
    next_states = states + rng.normal(scale=0.1, size=(400, 4)).astype(np.float32)
    labels = (states[:, 0] + next_states[:, 0] > 0).astype(np.int64)
    config = training.TrainingConfig(epochs=20)

    def member(name: str) -> keras.Model:
        first, second = keras.Input((4,)), keras.Input((4,))
        hidden = keras.layers.Dense(16, activation="relu")(keras.layers.Concatenate()([first, second]))
        return keras.Model([first, second], keras.layers.Dense(2)(hidden), name=name)

    keras.utils.set_random_seed(0)
    ensemble = ensembles.build_ensemble(member, 3, "inverse")
    ensembles.compile_ensemble(ensemble, config, discrete=True)
    result = ensembles.fit_ensemble(ensemble, ((states[:300], next_states[:300]), labels[:300]),
                                    ((states[300:], next_states[300:]), labels[300:]), config, seed=0)
    accuracy = np.mean(np.asarray(ensemble.model([states[300:], next_states[300:]])).argmax(axis=-1) == labels[300:])
    assert result.validation_loss[-1] < result.validation_loss[0] and accuracy > 0.8


def test_a_diverging_fit_stops_with_one_line_naming_the_epoch():
    observations, actions = regression_data(200)
    config = training.TrainingConfig(epochs=5, learning_rate=1e30)
    model = new_policy(observations, config)
    with pytest.raises(UserError, match=r"training diverged in epoch \d of 5: the training loss is nan.*--learning_rate"):
        training.fit_policy(model, (observations, actions), (observations[:0], actions[:0]), config, seed=0)


def test_non_finite_training_data_is_refused_before_training():
    observations, actions = regression_data(100)
    actions[7, 1] = np.nan
    config = training.TrainingConfig(epochs=1)
    with pytest.raises(UserError, match="1 NaN or infinite values"):
        training.fit_policy(new_policy(observations, config), (observations, actions), (observations[:0], actions[:0]), config, seed=0)


def test_a_callback_can_stop_training_early():
    observations, actions = regression_data(200)
    config = training.TrainingConfig(epochs=20)
    stopper = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)  # no epoch improves by 10
    result = training.fit_policy(new_policy(observations, config), (observations, actions), (observations[:0], actions[:0]), config,
                                 [stopper], seed=0)
    assert len(result.train_loss) == 2


def test_a_ctrl_c_that_tensorflow_swallows_in_a_callback_still_stops_the_fit_at_the_next_epoch(ctrl_c_as_in_a_terminal):
    from conftest import swallow_a_ctrl_c

    observations, actions = regression_data(200)
    config = training.TrainingConfig(epochs=50)
    epochs_ended = []

    class SwallowsOnce(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            epochs_ended.append(epoch)
            if epoch == 2:
                swallow_a_ctrl_c()

    with pytest.raises(KeyboardInterrupt):
        training.fit_policy(new_policy(observations, config), (observations, actions), (observations[:0], actions[:0]), config,
                            [SwallowsOnce()], seed=0)
    assert epochs_ended == [0, 1, 2]
