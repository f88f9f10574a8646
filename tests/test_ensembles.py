"""Ensembles of real Keras networks: averaged at the output, each member fit on its own."""

import keras
import numpy as np

from cs294 import ensembles, inverse_dynamics, models, reporting, training


def noisy_regression(rng: np.random.Generator, count: int = 512):
    observations = rng.normal(size=(count, 4)).astype(np.float32)
    actions = np.stack([np.sin(observations[:, 0]), observations[:, 1] * observations[:, 2]], axis=1)
    return observations, (actions + 0.3 * rng.normal(size=actions.shape)).astype(np.float32)


def test_ensemble_averages_members_fit_apart_and_loads_plainly(tmp_path):
    keras.utils.set_random_seed(0)
    observations, actions = noisy_regression(np.random.default_rng(0))
    ensemble = ensembles.build_ensemble(lambda name: models.build_policy(observations, 2, models.PolicyConfig(hidden=(16,)), name), 3, "policy")
    config = training.TrainingConfig(epochs=4)
    ensembles.compile_ensemble(ensemble, config, discrete=False)
    result = ensembles.fit_ensemble(ensemble, (observations, actions), (observations[:64], actions[:64]), config, seed=0)

    members = [layer for layer in ensemble.model.layers if layer.name.startswith("policy_member_")]
    assert len(members) == 3
    member_outputs = [np.asarray(member(observations)) for member in members]
    assert not np.allclose(member_outputs[0], member_outputs[1])  # initialized apart, so they disagree
    np.testing.assert_allclose(np.asarray(ensemble.model(observations)), np.mean(member_outputs, axis=0), rtol=1e-5, atol=1e-6)
    # the logged loss is the members' mean: recompute it from each member's own error
    member_losses = [np.mean((np.asarray(member(observations[:64])) - actions[:64]) ** 2) for member in members]
    assert abs(result.validation_loss[-1] - np.mean(member_losses)) < 1e-4

    reporting.save_policy(ensemble.model, tmp_path / "policy.keras")
    loaded = keras.saving.load_model(tmp_path / "policy.keras")
    np.testing.assert_allclose(np.asarray(loaded(observations)), np.asarray(ensemble.model(observations)), rtol=1e-5, atol=1e-6)


def test_size_one_is_the_member_itself():
    observations, _ = noisy_regression(np.random.default_rng(1), 32)
    ensemble = ensembles.build_ensemble(lambda name: models.build_policy(observations, 2, models.PolicyConfig(), name), 1, "policy")
    assert ensemble.model is ensemble.trainer and ensemble.model.name == "policy"


def test_inverse_model_ensemble_takes_both_states():
    rng = np.random.default_rng(2)
    states, next_states = rng.normal(size=(64, 3)).astype(np.float32), rng.normal(size=(64, 3)).astype(np.float32)
    ensemble = ensembles.build_ensemble(
        lambda name: inverse_dynamics.build_inverse_model(states, next_states, 2, models.PolicyConfig(hidden=(8,)), name), 2, "inverse_dynamics")
    assert [tensor.name for tensor in ensemble.model.inputs] == ["state", "next_state"]
    assert ensemble.model.predict([states, next_states], verbose=0).shape == (64, 2)
