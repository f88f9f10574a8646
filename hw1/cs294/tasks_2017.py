"""The entry point of the CS294/* gymnasium ids (cs294.gym_ids): one 2017 task as one plain environment.

environments.make_env builds a 2017 task as gymnasium's v4 task, patched, inside gym.make's
wrappers, with Humanoid's 2017 step as a wrapper on the outside. Registered ids need the task
itself, unwrapped: gym.make adds the time limit and checker around it, and a wrapper of our own
would enter the env spec, which Minari and gym.make(spec) then could not recreate. So the same
two changes are made here on the environment itself, and tests/test_gym_ids.py checks that both
paths give the same trajectories, bit for bit.
"""

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.mujoco.humanoid_v4 import HumanoidEnv
from gymnasium.envs.registration import load_env_creator

from cs294 import environments


class Humanoid2017Env(HumanoidEnv):
    """Humanoid-v4 with the 2017 step of environments.Gym2017Step: clipped actions and Humanoid-v1's contact cost."""

    def step(self, action):
        # The physics clamps to ctrlrange anyway; clipping here changes only what the reward charges.
        action = np.clip(action, self.action_space.low, self.action_space.high)
        observation, reward, terminated, truncated, info = super().step(action)
        cost = min(environments.Gym2017Step.CONTACT_COST_WEIGHT * float(np.square(self.data.cfrc_ext).sum()),
                   environments.Gym2017Step.CONTACT_COST_CAP)
        return observation, float(reward) - cost, terminated, truncated, {**info, "reward_contact_2017": -cost}


def make_task(task: str, **options: Any) -> gym.Env:
    """The 2017 task `task` (e.g. `Hopper-v1`) as make_env builds it, without wrappers; options go to the environment (render_mode, width, ...)."""
    spec = environments.resolve(task)
    registered = gym.spec(spec.gym_id)
    if (spec.clip_actions, spec.contact_cost_2017) == (True, True) and registered.entry_point.endswith("humanoid_v4:HumanoidEnv"):
        environment_class = Humanoid2017Env
    elif spec.clip_actions or spec.contact_cost_2017:
        raise NotImplementedError(f"{task}: the 2017 step exists only for Humanoid-v4 here; add it to cs294.tasks_2017")
    else:
        environment_class = load_env_creator(registered.entry_point)
    env = environment_class(**{**registered.kwargs, **spec.kwargs, **options})
    if spec.inertials_2017:
        environments.restore_2017_inertials(env.model, env.data, env.fullpath)
    return env
