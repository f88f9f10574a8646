"""The trajectory type and the HDF5 reader and writer."""

import h5py
import numpy as np
import pytest

from cs294 import data
from cs294.errors import UserError

ATTRIBUTES = {
    "env_name": "Hopper-v1", "gym_id": "Hopper-v4", "gym_kwargs": "{}", "dynamics": "2017 inertials", "policy": "expert",
    "policy_sha256": "0" * 64, "seed": 7, "package_versions": {"numpy": "2.4.6"},
}


def random_trajectory(rng, steps, observation_dim=11, action_dim=3, seed=0, discrete=False, terminated=True):
    actions = rng.integers(0, 2, size=steps) if discrete else rng.standard_normal((steps, action_dim))
    last = np.arange(steps) == steps - 1
    return data.make_trajectory(
        observations=rng.standard_normal((steps + 1, observation_dim)),
        actions=actions,
        rewards=rng.standard_normal(steps),
        terminations=last & terminated,
        truncations=last & (not terminated),
        seed=seed,
    )


def assert_same_trajectories(expected, actual):
    assert len(expected) == len(actual)
    for a, b in zip(expected, actual):
        for field in data.EPISODE_FIELDS:
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
            assert getattr(a, field).dtype == getattr(b, field).dtype
        assert a.seed == b.seed


@pytest.mark.parametrize("discrete", [False, True])
def test_write_then_read_is_exact(tmp_path, discrete):
    rng = np.random.default_rng(0)
    env_name, observation_dim = ("CartPole-v1", 4) if discrete else ("Hopper-v1", 11)  # the reader checks shapes against the task's
    attributes = {**ATTRIBUTES, "env_name": env_name, "gym_id": "CartPole-v1", "dynamics": "as registered"} if discrete else ATTRIBUTES
    trajectories = [random_trajectory(rng, steps, observation_dim, seed=i, discrete=discrete, terminated=i % 2 == 0)
                    for i, steps in enumerate([5, 1, 17])]
    path = tmp_path / "rollouts.h5"
    data.write_rollouts(path, trajectories, attributes)
    loaded = data.read_rollouts(path, env_name=env_name)
    assert_same_trajectories(trajectories, loaded.trajectories)
    assert loaded.attributes["package_versions"] == {"numpy": "2.4.6"}
    assert loaded.attributes["seed"] == 7
    with h5py.File(path) as file:  # the summary datasets agree with the episodes
        np.testing.assert_array_equal(file["episode_lengths"][()], [5, 1, 17])
        np.testing.assert_array_equal(file["episode_returns"][()], [t.episode_return for t in trajectories])


def test_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "rollouts.h5"
    trajectories = [random_trajectory(np.random.default_rng(0), 4)]
    with pytest.raises(TypeError):
        data.write_rollouts(path, trajectories, {**ATTRIBUTES, "seed": object()})  # h5py cannot store it
    assert list(tmp_path.iterdir()) == []


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "rollouts.h5"
    data.write_rollouts(path, [random_trajectory(np.random.default_rng(0), 50)], ATTRIBUTES)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(UserError, match="truncated"):
        data.read_rollouts(path)


def test_foreign_hdf5_file_is_a_clear_error(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as file:
        file["observations"] = np.zeros((3, 2))
    with pytest.raises(UserError, match="not a rollout file of this project"):
        data.read_rollouts(path)


def test_data_of_another_env_is_a_clear_error(tmp_path):
    path = tmp_path / "rollouts.h5"
    data.write_rollouts(path, [random_trajectory(np.random.default_rng(0), 3)], ATTRIBUTES)
    with pytest.raises(UserError, match="holds rollouts of Hopper-v1, not Walker2d-v1"):
        data.read_rollouts(path, env_name="Walker2d-v1")


def test_damaged_episode_is_a_clear_error(tmp_path):
    path = tmp_path / "rollouts.h5"
    data.write_rollouts(path, [random_trajectory(np.random.default_rng(0), 3)], ATTRIBUTES)
    with h5py.File(path, "a") as file:
        del file["episode_000000/rewards"]
        file["episode_000000/rewards"] = np.zeros(2)
    with pytest.raises(UserError, match="damaged: episode_000000: rewards"):
        data.read_rollouts(path)


@pytest.mark.parametrize("broken", ["observations", "rewards", "flags"])
def test_trajectory_rejects_inconsistent_shapes(broken):
    steps = 4
    fields = dict(observations=np.zeros((steps + 1, 2)), actions=np.zeros((steps, 1)), rewards=np.zeros(steps),
                  terminations=np.zeros(steps, bool), truncations=np.zeros(steps, bool), seed=0)
    if broken == "observations":
        fields["observations"] = np.zeros((steps, 2))  # the final observation is missing
    elif broken == "rewards":
        fields["rewards"] = np.zeros(steps + 1)
    else:
        fields["terminations"] = np.array([True, False, False, False])
    with pytest.raises(ValueError):
        data.make_trajectory(**fields)


def test_append_grows_the_file_by_exactly_the_new_episodes(tmp_path):
    rng = np.random.default_rng(0)
    first = [random_trajectory(rng, steps, seed=i) for i, steps in enumerate([4, 6])]
    added = [random_trajectory(rng, steps, seed=10 + i) for i, steps in enumerate([3, 5, 7])]
    path = tmp_path / "rollouts.h5"
    data.write_rollouts(path, first, ATTRIBUTES, [{"iteration": 0}] * 2)
    data.append_rollouts(path, added, [{"iteration": 1}] * 3, attributes={"iterations_completed": 1})
    loaded = data.read_rollouts(path)
    assert_same_trajectories(first + added, loaded.trajectories)
    assert [a["iteration"] for a in loaded.episode_attributes] == [0, 0, 1, 1, 1]
    assert loaded.attributes["iterations_completed"] == 1
    assert sum(t.length for t in loaded.trajectories) == 10 + 15
    with h5py.File(path) as file:
        np.testing.assert_array_equal(file["episode_seeds"][()], [0, 1, 10, 11, 12])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rollouts.h5"]
