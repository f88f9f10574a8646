"""The CS294/* gymnasium ids: registered by `import cs294` alone, and the very tasks make_env builds."""

import os
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import cs294
from cs294 import environments, gym_ids

from conftest import REPO_ROOT

TASKS = gym_ids.TASKS


def outside_checkout(code: str, tmp_path, **extra_env: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter in an empty folder, with no PYTHONPATH: as another project would."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**environment, "PYTHONWARNINGS": "ignore", **extra_env})


def test_import_from_any_folder_registers_the_ids_and_loads_nothing_heavy(tmp_path):
    completed = outside_checkout(
        "import sys, cs294, gymnasium as gym\n"
        "print(cs294.__file__)\n"
        "print(sorted(name for name in gym.registry if name.startswith('CS294/')))\n"
        "print(sorted(name for name in ('tensorflow', 'keras', 'ray', 'minari', 'mujoco', 'h5py') if name in sys.modules))\n",
        tmp_path)
    assert completed.returncode == 0, completed.stderr
    location, ids, heavy = completed.stdout.splitlines()
    assert location == str(REPO_ROOT / "hw1" / "cs294" / "__init__.py")  # the checkout's package, installed editable
    assert ids == str(sorted(f"CS294/{task}" for task in TASKS))
    assert heavy == "[]"


def test_module_prefix_makes_the_task_without_an_import(tmp_path):
    """gym.make("cs294:CS294/Hopper-v1") imports the package itself, as gymnasium documents for "module:id"."""
    completed = outside_checkout(
        "import gymnasium as gym\n"
        "env = gym.make('cs294:CS294/Hopper-v1')\n"
        "print(type(env.unwrapped).__name__, env.spec.max_episode_steps, env.unwrapped.model.body_mass[1])\n", tmp_path)
    assert completed.returncode == 0, completed.stderr
    name, limit, torso_mass = completed.stdout.split()
    reference = environments.make_env(environments.resolve("Hopper-v1"))
    assert (name, int(limit), float(torso_mass)) == ("HopperEnv", 1000, float(reference.unwrapped.model.body_mass[1]))


@pytest.mark.parametrize("task", TASKS)
def test_registration_matches_the_project_names(task):
    spec = environments.resolve(task)
    registered = gym.spec(gym_ids.gym_id(task))
    # gym_ids registers without importing MuJoCo, so it derives the v4 id from the name; this holds it to PUBLISHED_ENVS.
    assert spec.gym_id == task.replace("-v1", "-v4")
    assert registered.max_episode_steps == environments.default_max_episode_steps(spec)
    assert registered.kwargs == {"task": task} and registered.additional_wrappers == ()
    assert gym_ids.task_of(gym_ids.gym_id(task)) == task and gym_ids.task_of(spec.gym_id) is None


def rollout(env: gym.Env, actions: np.ndarray, seeds: list[int]) -> list[tuple]:
    """Step through `actions`, resetting with the next seed whenever an episode ends; every value returned, in order."""
    seeds = iter(seeds)
    observation, _ = env.reset(seed=next(seeds))
    steps = [("reset", observation)]
    for action in actions:
        observation, reward, terminated, truncated, info = env.step(action)
        steps.append((observation, reward, terminated, truncated, info.get("reward_contact_2017")))
        if terminated or truncated:
            observation, _ = env.reset(seed=next(seeds))
            steps.append(("reset", observation))
    return steps


def assert_same(steps: list[tuple], reference: list[tuple]) -> None:
    assert len(steps) == len(reference)
    for index, (step, expected) in enumerate(zip(steps, reference)):
        for value, expected_value in zip(step, expected, strict=True):
            assert np.array_equal(value, expected_value), f"step {index}: {value} != {expected_value}"


@pytest.mark.parametrize("task", TASKS)
def test_gym_make_gives_the_trajectories_of_make_env(task):
    """Bit for bit, for actions up to twice the bounds (Humanoid's clipping must act), across resets and Reacher's time limit."""
    registered = gym.make(gym_ids.gym_id(task))
    project = environments.make_env(environments.resolve(task))
    low, high = registered.action_space.low, registered.action_space.high
    actions = np.random.default_rng(7).uniform(2 * low, 2 * high, size=(120, *low.shape)).astype(np.float32)
    steps = rollout(registered, actions, list(range(100, 200)))
    assert_same(steps, rollout(project, actions, list(range(100, 200))))
    for field in ("body_mass", "body_inertia", "body_ipos", "body_iquat"):
        assert np.array_equal(getattr(registered.unwrapped.model, field), getattr(project.unwrapped.model, field))
    # Not gymnasium's task as registered: the 2017 masses differ from today's.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # v4 is out of date: gymnasium says so on make
        today = gym.make(environments.resolve(task).gym_id, **environments.resolve(task).kwargs)
    assert not np.array_equal(today.unwrapped.model.body_mass, registered.unwrapped.model.body_mass)
    if task == "Reacher-v1":
        assert sum(1 for step in steps if not isinstance(step[0], str) and step[3]) == 2  # two 50-step episodes truncated


def test_humanoid_same_trajectory_as_make_env_with_2017_step():
    """The issue's check: gym.make("CS294/Humanoid-v1") and make_env("Humanoid-v1") give the same trajectory, and the 2017 step acts in it."""
    actions = np.random.default_rng(0).uniform(-1, 1, size=(300, 17)).astype(np.float32)  # bounds are ±0.4: most entries get clipped
    seeds = list(range(50))
    steps = rollout(gym.make("CS294/Humanoid-v1"), actions, seeds)
    assert_same(steps, rollout(environments.make_env(environments.resolve("Humanoid-v1")), actions, seeds))
    contact_costs = [step[4] for step in steps if not isinstance(step[0], str)]
    assert all(cost is not None and cost <= 0 for cost in contact_costs) and min(contact_costs) < 0
    # Without the 2017 step (today's Humanoid with only the 2017 inertials) the rewards differ.
    unclipped = environments.make_env(environments.EnvSpec("Humanoid-v1", "Humanoid-v4", inertials_2017=True))
    rewards_2017 = [step[1] for step in steps if not isinstance(step[0], str)]
    rewards_plain = [step[1] for step in rollout(unclipped, actions, seeds) if not isinstance(step[0], str)]
    assert rewards_2017 != rewards_plain


@pytest.mark.parametrize("task", TASKS)
def test_check_env_passes(task):
    """gymnasium's env_checker on the environment itself; its only warnings are those it gives gymnasium's own v4 task (unbounded observations)."""
    def warnings_of(env: gym.Env) -> list[str]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(env, skip_render_check=True)  # rendering: the next test, offscreen
        return sorted(str(warning.message) for warning in caught)

    found = warnings_of(gym.make(gym_ids.gym_id(task)).unwrapped)
    spec = environments.resolve(task)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # v4 is out of date: gymnasium says so on make
        today = gym.make(spec.gym_id, **spec.kwargs).unwrapped
    assert found == warnings_of(today)
    assert all("infinity" in message for message in found)


def test_offscreen_render_modes_pass_the_checker(tmp_path):
    """check_env's render check without "human" (it needs a window): every other declared mode, offscreen through EGL."""
    completed = outside_checkout(
        "import cs294, gymnasium as gym\n"
        "from gymnasium.utils.passive_env_checker import env_render_passive_checker\n"
        "for task in cs294.gym_ids.TASKS:\n"
        "    modes = [m for m in gym.make(cs294.gym_ids.gym_id(task)).metadata['render_modes'] if m != 'human']\n"
        "    for mode in modes:\n"
        "        env = gym.make(cs294.gym_ids.gym_id(task), render_mode=mode, width=32, height=32)\n"
        "        env.reset(seed=0)\n"
        "        env_render_passive_checker(env.unwrapped)\n"
        "        env.close()\n"
        "    print(task, ','.join(modes))\n", tmp_path, MUJOCO_GL="egl")
    if completed.returncode != 0 and ("OpenGL" in completed.stderr or "EGL" in completed.stderr):
        pytest.skip(f"no offscreen OpenGL here (MUJOCO_GL=egl): {completed.stderr.strip().splitlines()[-1]}")
    assert completed.returncode == 0, completed.stderr
    assert [line.split()[0] for line in completed.stdout.splitlines()] == list(TASKS)
    assert all("rgb_array" in line for line in completed.stdout.splitlines())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vectorized_environments_step_the_same_task(mode):
    """gym.make_vec builds the ids too; async mode rebuilds them in worker processes from the entry point alone."""
    actions = np.random.default_rng(1).uniform(-1, 1, size=(20, 2, 3)).astype(np.float32)
    vector = gym.make_vec("CS294/Hopper-v1", num_envs=2, vectorization_mode=mode)
    try:
        observations, _ = vector.reset(seed=[3, 4])
        steps = [vector.step(action)[:2] for action in actions]
    finally:
        vector.close()
    for slot, seed in enumerate([3, 4]):
        single = environments.make_env(environments.resolve("Hopper-v1"))
        assert np.array_equal(single.reset(seed=seed)[0], observations[slot])
        for action, (vector_observation, vector_reward) in zip(actions, steps):
            observation, reward, terminated, truncated, _ = single.step(action[slot])
            assert np.array_equal(observation, vector_observation[slot]) and reward == vector_reward[slot]
            if terminated or truncated:
                break


def test_registration_is_idempotent():
    before = {name: gym.spec(name) for name in gym.registry if name.startswith("CS294/")}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # gymnasium warns when an id is registered twice
        gym_ids.register()
    assert {name: gym.spec(name) for name in gym.registry if name.startswith("CS294/")} == before
    assert cs294.gym_ids is gym_ids
