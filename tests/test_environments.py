"""Published 2017 names map to gymnasium environments whose layouts fit the experts."""

import gymnasium as gym
import pytest

from cs294 import environments
from cs294.errors import UserError

# Observation and action sizes of the 2017 experts (experts/README.md).
EXPERT_SIZES = {
    "Ant-v1": (111, 8), "HalfCheetah-v1": (17, 6), "Hopper-v1": (11, 3),
    "Humanoid-v1": (376, 17), "Reacher-v1": (11, 2), "Walker2d-v1": (17, 6),
}


@pytest.mark.parametrize(("name", "sizes"), EXPERT_SIZES.items())
def test_published_names_build_envs_with_the_experts_layout(name, sizes):
    env = environments.make_env(environments.resolve(name))
    observation, _ = env.reset(seed=0)
    assert observation.shape == (sizes[0],)
    assert env.action_space.shape == (sizes[1],)
    env.close()


def test_cartpole_is_known_and_discrete():
    env = environments.make_env(environments.resolve("CartPole-v1"))
    assert isinstance(env.action_space, gym.spaces.Discrete)
    assert env.action_space.n == 2


def test_plain_gymnasium_ids_work():
    spec = environments.resolve("Hopper-v5")
    assert (spec.gym_id, dict(spec.kwargs)) == ("Hopper-v5", {})
    assert environments.make_env(spec).observation_space.shape == (11,)


def test_max_episode_steps_overrides_the_time_limit():
    env = environments.make_env(environments.resolve("Hopper-v1"), max_episode_steps=3)
    env.reset(seed=0)
    truncated = [env.step(env.action_space.sample() * 0)[3] for _ in range(3)]
    assert truncated == [False, False, True]


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UserError) as error:
        environments.resolve("Hoper-v1")
    message = str(error.value)
    assert "\n" not in message
    for name in environments.PUBLISHED_ENVS:
        assert name in message
    assert "Did you mean Hopper-v1?" in message
