"""The rollout loop with real environments and real Keras models, and the episode statistics."""

import keras
import numpy as np
import pytest

from conftest import EXPERTS_DIR
from cs294 import data, ensembles, environments, experts, models, rollouts


@pytest.fixture(scope="module")
def hopper_expert():
    return experts.build_expert_model(experts.load_expert_weights(EXPERTS_DIR / "Hopper-v1.pkl"))


def test_episodes_are_recorded_step_by_step(hopper_expert):
    spec = environments.resolve("Hopper-v1")
    trajectories = rollouts.sample_trajectories(hopper_expert, spec, [11, 12], max_episode_steps=40, num_envs=2)
    assert [t.seed for t in trajectories] == [11, 12]
    env = environments.make_env(spec, max_episode_steps=40)
    for trajectory in trajectories:
        assert trajectory.observations.shape == (41, 11)
        assert trajectory.actions.shape == (40, 3)
        assert trajectory.truncations[-1] and not trajectory.terminations.any()
        # Replaying the recorded actions from the same reset seed gives the recorded episode.
        observation, _ = env.reset(seed=trajectory.seed)
        np.testing.assert_allclose(observation, trajectory.observations[0], rtol=1e-6)
        for step, action in enumerate(trajectory.actions):
            observation, reward, *_ = env.step(action)
            np.testing.assert_allclose(observation, trajectory.observations[step + 1], rtol=1e-5, atol=1e-5)
            assert reward == pytest.approx(trajectory.rewards[step])


def test_episodes_do_not_depend_on_the_number_of_envs(hopper_expert):
    spec = environments.resolve("Hopper-v1")
    seeds = [3, 4, 5]
    alone = rollouts.sample_trajectories(hopper_expert, spec, seeds, max_episode_steps=60, num_envs=1)
    together = rollouts.sample_trajectories(hopper_expert, spec, seeds, max_episode_steps=60, num_envs=3)
    for a, b in zip(alone, together):
        np.testing.assert_allclose(a.observations, b.observations, atol=1e-4)


def test_the_expert_keeps_hopper_up_and_a_zero_policy_falls(hopper_expert):
    spec = environments.resolve("Hopper-v1")
    expert_run = rollouts.sample_trajectories(hopper_expert, spec, [0], max_episode_steps=200)[0]
    inputs = keras.Input((11,))
    zero_policy = keras.Model(inputs, keras.layers.Dense(3, kernel_initializer="zeros")(inputs))
    fallen = rollouts.sample_trajectories(zero_policy, spec, [0])[0]
    assert expert_run.truncations[-1] and expert_run.length == 200
    assert fallen.terminations[-1] and fallen.length < 200
    assert expert_run.episode_return > 3 * fallen.episode_return


def test_discrete_policies_act_by_argmax_of_logits():
    inputs = keras.Input((4,))
    always_right = keras.layers.Dense(2, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant([0.0, 1.0]))
    model = keras.Model(inputs, always_right(inputs))
    trajectories = rollouts.sample_trajectories(model, environments.resolve("CartPole-v1"), [0, 1])
    for trajectory in trajectories:
        assert trajectory.actions.dtype == np.int64
        assert set(trajectory.actions.tolist()) == {1}
        assert trajectory.terminations[-1]  # pushing right forever drops the pole
        assert trajectory.length < 100


def test_episode_end_callback_sees_every_episode(hopper_expert):
    seen = []
    rollouts.sample_trajectories(hopper_expert, environments.resolve("Hopper-v1"), [1, 2, 3], max_episode_steps=5,
                                 num_envs=2, on_episode_end=lambda index, trajectory: seen.append((index, trajectory.length)))
    assert sorted(seen) == [(0, 5), (1, 5), (2, 5)]


def test_a_ctrl_c_swallowed_at_an_episode_end_still_stops_the_rollouts_at_the_next_step(hopper_expert, ctrl_c_as_in_a_terminal):
    from conftest import swallow_a_ctrl_c

    seen = []

    def swallow_after_the_first(index, trajectory):
        seen.append(index)
        swallow_a_ctrl_c()

    with pytest.raises(KeyboardInterrupt):
        rollouts.sample_trajectories(hopper_expert, environments.resolve("Hopper-v1"), [1, 2, 3], max_episode_steps=5, num_envs=1,
                                     on_episode_end=swallow_after_the_first)
    assert seen == [0]


def test_episode_seeds_come_from_the_generator():
    assert rollouts.episode_seeds(np.random.default_rng(1), 4) == rollouts.episode_seeds(np.random.default_rng(1), 4)
    assert rollouts.episode_seeds(np.random.default_rng(1), 4) != rollouts.episode_seeds(np.random.default_rng(2), 4)


def test_evaluation_seeds_are_one_stream_whose_first_k_do_not_depend_on_the_count():
    assert rollouts.evaluation_seeds(3, 50)[:10] == rollouts.evaluation_seeds(3, 10)
    assert rollouts.evaluation_seeds(3, 10) != rollouts.evaluation_seeds(4, 10)
    taken = rollouts.evaluation_seeds(3, 10)[:2]
    assert not set(taken) & set(rollouts.evaluation_seeds(3, 10, exclude=taken))


def test_rollout_stats():
    def episode(rewards, fell=True):
        steps = len(rewards)
        last = np.arange(steps) == steps - 1
        return data.make_trajectory(observations=np.zeros((steps + 1, 1)), actions=np.zeros((steps, 1)), rewards=rewards,
                                    terminations=last & fell, truncations=last & (not fell), seed=0)
    stats = rollouts.rollout_stats([episode([1.0, 2.0]), episode([5.0], fell=False), episode([0.0, 0.0, 0.0])])
    assert (stats.mean, stats.min, stats.max, stats.episodes) == (8 / 3, 0.0, 5.0, 3)
    assert stats.std == pytest.approx(np.std([3.0, 5.0, 0.0]))
    assert stats.mean_length == 2.0
    assert stats.falls == 2  # the truncated episode reached the time limit: not a fall
    assert "falls 2/3" in str(stats)


@pytest.mark.parametrize("budget", [1, 37, 450])
def test_a_step_budget_collects_exactly_that_many_steps(hopper_expert, budget):
    trajectories = rollouts.sample_trajectories(hopper_expert, environments.resolve("Hopper-v1"), list(range(20)),
                                                max_episode_steps=100, num_envs=3, max_total_steps=budget)
    assert sum(t.length for t in trajectories) == budget
    assert all(t.truncations[-1] for t in trajectories)  # the expert neither falls nor finishes early


def test_a_model_is_compiled_once_and_follows_its_training():
    inputs = keras.Input((4,))
    layer = keras.layers.Dense(2, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant([0.0, 1.0]))
    model = keras.Model(inputs, layer(inputs))
    spec = environments.resolve("CartPole-v1")
    first = rollouts.sample_trajectories(model, spec, [0, 1])
    compiled = rollouts.batch_policy(model, 2, environments.make_env(spec).action_space)
    layer.bias.assign([1.0, 0.0])  # as training would: the same variables, new values
    second = rollouts.sample_trajectories(model, spec, [0, 1])
    assert rollouts.batch_policy(model, 2, environments.make_env(spec).action_space) is compiled
    assert {int(a) for t in first for a in t.actions} == {1} and {int(a) for t in second for a in t.actions} == {0}


def policy_networks() -> dict[str, keras.Model]:
    """Every kind of network the rollout loop drives: cloned MLPs, a clipped one, an ensemble, the expert, an LSTM head."""
    observations = np.random.default_rng(0).normal(size=(200, 11)).astype(np.float32)
    observations[:, 4] = 1.5  # a constant feature, as Humanoid's masses are
    keras.utils.set_random_seed(0)
    networks = {
        "relu": models.build_policy(observations, 3, models.PolicyConfig()),
        "tanh, clipped": models.build_policy(observations, 3, models.PolicyConfig(activation="tanh", observation_clip=2.0)),
        "ensemble": ensembles.build_ensemble(lambda name: models.build_policy(observations, 3, models.PolicyConfig(), name), 3, "policy").model,
        "expert": experts.build_expert_model(experts.load_expert_weights(EXPERTS_DIR / "Hopper-v1.pkl")),
        "lstm": models.build_policy(observations, 3, models.PolicyConfig(head="lstm")),
    }
    return networks


def test_the_numpy_policy_acts_as_the_keras_model_and_covers_only_what_it_knows():
    space = environments.make_env(environments.resolve("Hopper-v1")).action_space
    probe = np.random.default_rng(1).normal(scale=3.0, size=(16, 11)).astype(np.float32)
    for name, model in policy_networks().items():
        policy = rollouts.fast_policy(model, 16, space)
        assert isinstance(policy, rollouts.BatchPolicy if name == "lstm" else rollouts.NumpyPolicy), name
        np.testing.assert_allclose(policy(probe), rollouts.BatchPolicy(model, 16, space)(probe), rtol=1e-5, atol=1e-5, err_msg=name)


def test_the_numpy_policy_reads_the_weights_as_they_are_when_a_rollout_starts():
    model = policy_networks()["relu"]
    space = environments.make_env(environments.resolve("Hopper-v1")).action_space
    probe = np.ones((2, 11), dtype=np.float32)
    before = rollouts.fast_policy(model, 2, space)(probe)
    model.get_layer("actions").bias.assign(np.full(3, 5.0, np.float32))  # as training moves the weights
    after = rollouts.fast_policy(model, 2, space)(probe)
    np.testing.assert_allclose(after - before, 5.0, rtol=1e-5)
