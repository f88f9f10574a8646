"""The restricted expert loader and the Keras expert, checked against the numpy reference."""

import pickle

import numpy as np
import pytest

from conftest import EXPERT_ENVS, EXPERTS_DIR
from cs294 import environments, experts, provenance
from cs294.errors import UserError


@pytest.mark.parametrize("env_name", EXPERT_ENVS)
def test_keras_expert_equals_numpy_forward(env_name):
    weights = experts.load_expert_weights(EXPERTS_DIR / f"{env_name}.pkl")
    model = experts.build_expert_model(weights)
    rng = np.random.default_rng(0)
    # Observations spread around the expert's own normalizer, plus some far outside it.
    scale = np.maximum(weights.observation_std, 0.1)
    observations = weights.observation_mean + scale * rng.standard_normal((512, weights.observation_dim)) * 3
    expected = experts.numpy_forward(weights, observations)
    actual = np.asarray(model(observations.astype(np.float32)))
    assert actual.shape == (512, weights.action_dim)
    assert np.abs(actual - expected).max() <= 1e-4


def test_humanoid_near_constant_inputs_normalize_to_zero_in_the_2017_task():
    # 41 inputs (body masses and inertias) have std < 1e-3 in the expert's normalizer; with the 2017
    # inertials they equal its mean, so the unchanged 2017 normalization keeps them near zero.
    weights = experts.load_expert_weights(EXPERTS_DIR / "Humanoid-v1.pkl")
    constant = weights.observation_std < 1e-3
    assert constant.sum() == 41
    env = environments.make_env(environments.resolve("Humanoid-v1"))
    observation, _ = env.reset(seed=0)
    normalized = (observation - weights.observation_mean) / (weights.observation_std + experts.NORMALIZER_EPSILON)
    assert np.abs(normalized[constant]).max() < 1e-5


class _CreatesFile:
    """Unpickling an instance of this calls open(path, 'w'): code that runs on load."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_crafted_pickle_is_refused_before_it_runs(tmp_path):
    victim = tmp_path / "created_by_pickle.txt"
    crafted = tmp_path / "evil.pkl"
    crafted.write_bytes(pickle.dumps({"nonlin_type": "tanh", "GaussianPolicy": _CreatesFile(victim)}, protocol=2))
    with pytest.raises(UserError, match=r"refusing to load .*references io\.open"):
        experts.load_expert_weights(crafted)
    assert not victim.exists()
    pickle.loads(crafted.read_bytes())  # the payload is real: an unrestricted load runs it
    assert victim.exists()


def test_pickle_of_allowed_types_but_wrong_structure_is_refused(tmp_path):
    path = tmp_path / "not_an_expert.pkl"
    path.write_bytes(pickle.dumps({"nonlin_type": "tanh", "weights": np.zeros(3)}, protocol=2))
    with pytest.raises(UserError, match="does not have the expert format"):
        experts.load_expert_weights(path)


def test_garbage_file_is_refused(tmp_path):
    path = tmp_path / "garbage.pkl"
    path.write_bytes(b"this is not a pickle at all")
    with pytest.raises(UserError, match="not a readable expert pickle"):
        experts.load_expert_weights(path)


def test_missing_expert_file_names_the_experts_folder(tmp_path):
    with pytest.raises(UserError, match="does not exist.*experts/"):
        experts.load_expert_weights(tmp_path / "Hopper-v1.pkl")


@pytest.mark.parametrize(("expert_env", "env_name", "message"), [
    ("Hopper-v1", "Walker2d-v1", "is the expert of Hopper-v1"),
    ("HalfCheetah-v1", "Walker2d-v1", "is the expert of HalfCheetah-v1"),  # same 17 -> 6 sizes
])
def test_expert_paired_with_the_wrong_env_is_refused(expert_env, env_name, message):
    path = EXPERTS_DIR / f"{expert_env}.pkl"
    spec = environments.resolve(env_name)
    with pytest.raises(UserError, match=message):
        experts.check_fits_env(experts.load_expert_weights(path), environments.make_env(spec), path, spec, provenance.file_sha256(path))


def test_size_mismatch_is_refused_for_an_unpublished_expert(tmp_path):
    path = EXPERTS_DIR / "Hopper-v1.pkl"
    spec = environments.resolve("Walker2d-v4")
    with pytest.raises(UserError, match="takes 11 observations and gives 3 continuous actions"):
        experts.check_fits_env(experts.load_expert_weights(path), environments.make_env(spec), path, spec, "not-a-known-hash")


def test_published_expert_hashes_match_the_files():
    for sha256, env_name in experts.PUBLISHED_EXPERT_SHA256.items():
        assert provenance.file_sha256(EXPERTS_DIR / f"{env_name}.pkl") == sha256
