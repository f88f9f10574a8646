"""The 2017 names mean the 2017 tasks: capsule inertials, clipped controls and Humanoid's 2017 reward."""

import dataclasses

import h5py
import mujoco
import numpy as np
import pytest

from conftest import EXPERTS_DIR, write_expert_rollouts
from cs294 import data, environments, experts, rollouts
from cs294.errors import UserError

# Humanoid-v4's observation: qpos[2:] (22), qvel (23), then cinert, 10 numbers per body, the mass last.
HUMANOID_CINERT_START, HUMANOID_BODIES = 45, 14


def model_of(name: str) -> mujoco.MjModel:
    env = environments.make_env(environments.resolve(name))
    model = env.unwrapped.model
    env.close()
    return model


def test_a_capsule_weighs_what_a_cylinder_of_length_L_plus_r_weighs():
    # Hopper's torso is one capsule from z=1.45 to z=1.05 of radius 0.05, density 1000 (gymnasium's hopper.xml).
    radius, length, density = 0.05, 0.40, 1000.0
    mass = density * np.pi * radius**2 * (length + radius)
    axial_inertia = mass * radius**2 / 2  # the cylinder about its own axis
    model = model_of("Hopper-v1")
    torso = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "torso")
    assert model.body_mass[torso] == pytest.approx(mass, rel=1e-9)
    assert min(model.body_inertia[torso]) == pytest.approx(axial_inertia, rel=1e-9)
    today = model_of("Hopper-v1-today")
    # Today's MuJoCo weighs the true capsule: the cylinder of length L and two half-spheres.
    assert today.body_mass[torso] == pytest.approx(density * (np.pi * radius**2 * length + 4 / 3 * np.pi * radius**3), rel=1e-9)


def test_humanoid_masses_equal_the_experts_normalizer():
    weights = experts.load_expert_weights(EXPERTS_DIR / "Humanoid-v1.pkl")
    mass_inputs = HUMANOID_CINERT_START + 10 * np.arange(HUMANOID_BODIES) + 9
    model = model_of("Humanoid-v1")
    np.testing.assert_allclose(model.body_mass, weights.observation_mean[mass_inputs], rtol=0, atol=1e-9)
    assert model.body_mass.sum() == pytest.approx(weights.observation_mean[mass_inputs].sum(), rel=1e-12)
    assert not np.allclose(model_of("Humanoid-v1-today").body_mass, model.body_mass)


def test_patching_twice_or_resetting_does_not_compound():
    first, second = model_of("Walker2d-v1"), model_of("Walker2d-v1")
    np.testing.assert_array_equal(first.body_mass, second.body_mass)
    env = environments.make_env(environments.resolve("Walker2d-v1"))
    before = env.unwrapped.model.body_inertia.copy()
    for seed in range(3):
        env.reset(seed=seed)
    environments.restore_2017_inertials(env.unwrapped.model, env.unwrapped.data, env.unwrapped.fullpath)
    np.testing.assert_array_equal(env.unwrapped.model.body_inertia, before)
    env.close()


def test_clipping_changes_the_reward_only_never_the_next_state():
    clipped_spec = environments.resolve("Humanoid-v1")
    raw_spec = dataclasses.replace(clipped_spec, clip_actions=False)
    clipped, raw = environments.make_env(clipped_spec), environments.make_env(raw_spec)
    clipped.reset(seed=3)
    raw.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(20):
        action = rng.uniform(-1.5, 1.5, size=clipped.action_space.shape)  # mostly outside the +-0.4 bounds
        after_clipped, reward_clipped, *_ = clipped.step(action)
        after_raw, reward_raw, *_ = raw.step(action)
        np.testing.assert_array_equal(after_clipped, after_raw)
        assert reward_clipped > reward_raw  # the raw action is charged for more control than the physics applied


def test_humanoid_reward_subtracts_the_2017_contact_cost():
    spec = environments.resolve("Humanoid-v1")
    with_cost, without = environments.make_env(spec), environments.make_env(dataclasses.replace(spec, contact_cost_2017=False))
    with_cost.reset(seed=1)
    without.reset(seed=1)
    action = np.zeros(with_cost.action_space.shape)
    for _ in range(30):  # the humanoid settles onto its feet: contact forces appear
        _, reward, _, _, info = with_cost.step(action)
        _, reference, *_ = without.step(action)
        cost = min(0.5e-6 * np.square(with_cost.unwrapped.data.cfrc_ext).sum(), 10.0)
        assert reward == pytest.approx(reference - cost, abs=1e-9)
        assert info["reward_contact_2017"] == pytest.approx(-cost)
    assert cost > 0


def test_humanoid_expert_stays_up_for_1000_steps():
    spec = environments.resolve("Humanoid-v1")
    expert = experts.load_checked_expert(EXPERTS_DIR / "Humanoid-v1.pkl", spec)
    stats, episodes = rollouts.evaluate(expert, spec, [0, 1, 2], num_envs=3)
    assert [t.length for t in episodes] == [1000, 1000, 1000]
    assert not any(t.terminations.any() for t in episodes)
    assert stats.mean > 10000


def test_today_names_build_gymnasiums_task_unchanged():
    spec = environments.resolve("Ant-v1-today")
    assert (spec.gym_id, dict(spec.kwargs), spec.dynamics) == ("Ant-v4", {"use_contact_forces": True}, "as registered")
    assert experts.default_expert_path("Ant-v1-today").name == "Ant-v1.pkl"


def test_data_recorded_before_the_2017_dynamics_is_refused(tmp_path):
    path = write_expert_rollouts(tmp_path, "Hopper-v1", 1, 20)
    assert data.read_rollouts(path, env_name="Hopper-v1").attributes["dynamics"] == "2017 inertials"
    with h5py.File(path, "a") as file:  # a file written before this project restored the 2017 dynamics
        del file.attrs["dynamics"]
    with pytest.raises(UserError, match="remake it with: python hw1/run_expert.py"):
        data.read_rollouts(path, env_name="Hopper-v1")
