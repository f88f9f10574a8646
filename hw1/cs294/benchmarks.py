"""The measurements behind benchmark.py: training paths, whole fits, policy calls and rollout loops, each timed side by side.

A library module, not the script, so that benchmark.py's --help imports no TensorFlow; the
script chooses what to measure and prints the tables.
"""

import statistics
import time
from typing import Callable

import mujoco
import numpy as np

from cs294 import data, environments, experts, models, rollouts, training

import keras  # noqa: E402  (after cs294, which keeps TensorFlow's start-up banner quiet)


def bare_loop_steps_per_second(act: Callable[[np.ndarray], np.ndarray], spec: environments.EnvSpec, steps: int, seed: int) -> float:
    """Steps/s of one environment driven by `act` (a (1, obs) batch to its actions, in numpy), with nothing recorded."""
    env = environments.make_env(spec)
    observation, _ = env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        action = act(observation[None])[0]
        observation, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            observation, _ = env.reset()
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def numpy_actor(model: keras.Model, spec: environments.EnvSpec) -> Callable[[np.ndarray], np.ndarray]:
    """The model as the rollout loop runs it, a numpy pass, for the bare loop's one environment."""
    env = environments.make_env(spec)
    policy = rollouts.fast_policy(model, 1, env.action_space)
    env.close()
    return lambda observations: np.asarray(policy(observations.astype(np.float32)))


def package_loop(model: keras.Model, spec: environments.EnvSpec, steps: int, seed: int, num_envs: int) -> tuple[float, list[data.Trajectory]]:
    """Steady-state steps/s of sample_trajectories with `model` acting, compile time excluded, and the episodes.

    More episodes wait than can run, and the loop stops after exactly `steps` steps, so no
    environment idles while the others finish, however short the episodes are. Making the
    environments is left out, as the bare loop leaves out making its one: the call's own
    make_env calls are timed (0.2 s for 16 Hopper environments, 0.4 s for 16 Humanoids here) and
    their time subtracted.
    """
    rng = np.random.default_rng(seed)
    # Warms up: a policy that needs compiling (LSTM, exploration) is compiled here, not in the timed call.
    rollouts.sample_trajectories(model, spec, rollouts.episode_seeds(rng, num_envs), max_episode_steps=5, num_envs=num_envs)
    seeds = rollouts.episode_seeds(rng, steps)  # an episode takes at least one step
    making, make_env = [], rollouts.make_env

    def timed_make_env(*args, **kwargs):
        started = time.perf_counter()
        env = make_env(*args, **kwargs)
        making.append(time.perf_counter() - started)
        return env

    rollouts.make_env = timed_make_env  # the loop's own name for it: its very calls are timed, not a stand-in
    try:
        start = time.perf_counter()
        trajectories = rollouts.sample_trajectories(model, spec, seeds, num_envs=num_envs, max_total_steps=steps)
        elapsed = time.perf_counter() - start - sum(making)
    finally:
        rollouts.make_env = make_env
    return sum(t.length for t in trajectories) / elapsed, trajectories


def train_policy(trajectories: list[data.Trajectory], epochs: int) -> keras.Model:
    """A BC policy with bc.py's default network fit to the episodes."""
    observations, actions = data.transitions(trajectories)
    config = training.TrainingConfig(epochs=epochs)
    model = models.build_policy(observations, actions.shape[1], models.PolicyConfig())
    training.compile_policy(model, config, discrete=False)
    training.fit_policy(model, (observations, actions), (observations[:0], actions[:0]), config, seed=0)
    return model


PLAIN_STEPS_PER_EXECUTION = 100  # what training.py used with model.fit before the engine


def synthetic_task(samples: int, observation_dim: int, action_dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Observations and smooth labels of a task's shape; the rates depend on the shapes, not on the values."""
    rng = np.random.default_rng(seed)
    observations = rng.normal(size=(samples, observation_dim)).astype(np.float32)
    actions = np.tanh(observations @ rng.normal(scale=observation_dim**-0.5, size=(observation_dim, action_dim))).astype(np.float32)
    return observations, actions


def training_paths(observations: np.ndarray, actions: np.ndarray, seed: int) -> dict[str, Callable[[int], None]]:
    """Each training path as epochs -> None, on its own copy of bc.py's network, already compiled (one warm-up epoch)."""
    config = training.TrainingConfig(epochs=1)
    empty = (observations[:0], actions[:0])

    def network(**compile_options) -> keras.Model:
        keras.utils.set_random_seed(seed)
        model = models.build_policy(observations, actions.shape[1], models.PolicyConfig())
        if compile_options:
            model.compile(optimizer=training.make_optimizer(config), loss=training.policy_loss(False), **compile_options)
        else:
            training.compile_policy(model, config, discrete=False)
        return model

    engine, graph_engine = network(), network()
    plain = network(steps_per_execution=PLAIN_STEPS_PER_EXECUTION)
    whole_epoch = network(jit_compile=True, steps_per_execution=-(-len(observations) // config.batch_size))
    # The engine as large fits run it (XLA), and as small ones do (a plain graph: no XLA compilation to pay for).
    paths = {
        "engine": lambda epochs: training.fit_policy(engine, (observations, actions), empty,
                                                     training.TrainingConfig(epochs=epochs), seed=seed, xla=True),
        "engine without XLA": lambda epochs: training.fit_policy(graph_engine, (observations, actions), empty,
                                                                 training.TrainingConfig(epochs=epochs), seed=seed, xla=False),
        "plain fit": lambda epochs: plain.fit(observations, actions, batch_size=32, epochs=epochs, shuffle=True, verbose=0),
        "compiled fit": lambda epochs: whole_epoch.fit(observations, actions, batch_size=32, epochs=epochs, shuffle=True, verbose=0),
    }
    for run in paths.values():
        run(1)
    return paths


def interleaved_rates(paths: dict[str, Callable[[], float]], trials: int) -> dict[str, float]:
    """The median over `trials` rounds of each path's rate, the paths taking turns so that load on the machine hits all alike."""
    rates: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(trials):
        for name, measure in paths.items():
            rates[name].append(measure())
    return {name: statistics.median(values) for name, values in rates.items()}


def training_rows(shapes: dict[str, tuple[int, int, int, int]], trials: int, seed: int) -> list[dict]:
    """Samples/s of every training path on each shape (name: samples, observations, actions, epochs per timed trial); the engine's ratios."""
    rows = []
    for shape, (samples, observation_dim, action_dim, epochs) in shapes.items():
        observations, actions = synthetic_task(samples, observation_dim, action_dim, seed)
        paths = training_paths(observations, actions, seed)

        def timed(run: Callable[[int], None]) -> Callable[[], float]:
            def measure() -> float:
                start = time.perf_counter()
                run(epochs)
                return epochs * samples / (time.perf_counter() - start)
            return measure

        rates = interleaved_rates({name: timed(run) for name, run in paths.items()}, trials)
        rows.append({"shape": f"{shape} ({samples:,} x {observation_dim} -> {action_dim})", **rates,
                     "engine / plain fit": rates["engine"] / rates["plain fit"],
                     "engine / compiled fit": rates["engine"] / rates["compiled fit"]})
    return rows


# rows, observations, actions, epochs: fits small and large, as BC from 1 Hopper rollout, from 10, and a 250-rollout task's slice.
FIT_SIZES = ((1_000, 11, 3, 5), (1_000, 11, 3, 100), (10_000, 11, 3, 100), (50_000, 376, 17, 3))


def fit_rows(trials: int, seed: int) -> list[dict]:
    """Seconds of a fresh model's whole fit, compilation included, under XLA and as a plain graph; what training.uses_xla picks."""
    rows = []
    for samples, observation_dim, action_dim, epochs in FIT_SIZES:
        observations, actions = synthetic_task(samples, observation_dim, action_dim, seed)
        config = training.TrainingConfig(epochs=epochs)

        def fresh_fit(xla: bool) -> Callable[[], float]:
            def measure() -> float:
                keras.utils.set_random_seed(seed)
                model = models.build_policy(observations, action_dim, models.PolicyConfig())
                training.compile_policy(model, config, discrete=False)
                start = time.perf_counter()
                training.fit_policy(model, (observations, actions), (observations[:0], actions[:0]), config, seed=seed, xla=xla)
                return time.perf_counter() - start
            return measure

        seconds = interleaved_rates({"XLA": fresh_fit(True), "graph": fresh_fit(False)}, trials)
        rows.append({"fit": f"{samples:,} x {observation_dim} -> {action_dim}, {epochs} epochs", "XLA s": seconds["XLA"], "graph s": seconds["graph"],
                     "graph / XLA": seconds["graph"] / seconds["XLA"], "engine picks": "XLA" if training.uses_xla(samples, epochs) else "graph"})
        print(f"  {rows[-1]['fit']}: XLA {seconds['XLA']:.2f} s, graph {seconds['graph']:.2f} s", flush=True)
    return rows


def policy_call_row(calls: int, trials: int, seed: int) -> dict:
    """Microseconds per call at batch 16: bc.py's network compiled and in numpy, and 16 bare mj_step calls of Hopper."""
    spec = environments.resolve("Hopper-v1")
    env = environments.make_env(spec)
    observations = np.random.default_rng(seed).normal(size=(rollouts.DEFAULT_NUM_ENVS, 11)).astype(np.float32)
    keras.utils.set_random_seed(seed)
    model = models.build_policy(observations, 3, models.PolicyConfig())
    compiled = rollouts.BatchPolicy(model, rollouts.DEFAULT_NUM_ENVS, env.action_space)
    fast = rollouts.fast_policy(model, rollouts.DEFAULT_NUM_ENVS, env.action_space)
    env.reset(seed=seed)
    physics, state = env.unwrapped.model, env.unwrapped.data

    def per_call(call: Callable[[], object]) -> Callable[[], float]:
        def measure() -> float:
            start = time.perf_counter()
            for _ in range(calls):
                call()
            return 1e6 * (time.perf_counter() - start) / calls
        return measure

    def bare_steps() -> None:
        for _ in range(rollouts.DEFAULT_NUM_ENVS):
            mujoco.mj_step(physics, state, nstep=env.unwrapped.frame_skip)

    micros = interleaved_rates({"compiled TensorFlow": per_call(lambda: compiled(observations)), "numpy (rollout loop)": per_call(lambda: fast(observations)),
                                "16 bare Hopper steps": per_call(bare_steps)}, trials)
    env.close()
    difference = float(np.abs(compiled(observations) - fast(observations)).max())
    return {**micros, "compiled / numpy": micros["compiled TensorFlow"] / micros["numpy (rollout loop)"], "max action difference": difference}


def loop_rows(envs: list[str], steps: int, seed: int, num_envs: int, epochs: int, trials: int = 1) -> list[dict]:
    """The bare loop against the package loop, each driven by the expert and by a learned policy, per environment.

    `steps` per loop in all, in `trials` rounds in which the four loops take turns (the median round is kept), so that load
    on the machine hits them alike. The learned policy is trained on the expert loop's episodes of the first round. Each
    policy is compared with the bare loop under the same policy: a weak policy falls sooner, and a falling body's contacts
    and the resets make every step dearer in any loop (Humanoid: 90-step episodes against the expert's 1,000).
    The envs are MuJoCo tasks with a published expert (benchmark.py checks --envs): the loops step the expert's numpy pass, continuous
    actions, and train the learned policy for them; a discrete task such as CartPole-v1 takes no such action.
    """
    rows, per_round = [], max(1, steps // trials)
    for name in envs:
        spec = environments.resolve(name)
        weights = experts.load_expert_weights(experts.default_expert_path(name))
        keras.utils.set_random_seed(seed)
        expert_model, learned_model = experts.build_expert_model(weights), []

        def expert() -> float:
            rate, trajectories = package_loop(expert_model, spec, per_round, seed, num_envs)
            if not learned_model:
                model = train_policy(trajectories, epochs)
                learned_model.extend([model, numpy_actor(model, spec)])
            return rate

        rates = interleaved_rates({"bare": lambda: bare_loop_steps_per_second(lambda o: experts.numpy_forward(weights, o), spec, per_round, seed),
                                   "expert": expert,
                                   "bare learned": lambda: bare_loop_steps_per_second(learned_model[1], spec, per_round, seed + 1),
                                   "learned": lambda: package_loop(learned_model[0], spec, per_round, seed + 1, num_envs)[0]}, trials)
        bare, expert_rate, bare_learned, learned = rates["bare"], rates["expert"], rates["bare learned"], rates["learned"]
        rows.append({"env": name, "bare loop, expert": bare, "package loop, expert": expert_rate, "expert: package / bare": expert_rate / bare,
                     "bare loop, learned": bare_learned, "package loop, learned": learned, "learned: package / bare": learned / bare_learned})
        print(f"  {name}: expert bare {bare:,.0f}, package {expert_rate:,.0f} ({expert_rate / bare:.2f}); "
              f"learned bare {bare_learned:,.0f}, package {learned:,.0f} ({learned / bare_learned:.2f}) steps/s", flush=True)
    return rows
