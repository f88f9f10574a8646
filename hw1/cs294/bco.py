"""Behavioral cloning from observation (Torabi, Warnell and Stone, IJCAI 2018): one run, iteration by iteration.

BCO(0) acts at random for |I_pre| steps, fits an inverse dynamics model (s, s') -> a to those
transitions, labels the state-only demonstrations with it and clones them. Each BCO(alpha)
iteration lets the current policy, exploring, take alpha x |I_pre| further steps,
refits the inverse model on all of the agent's transitions, labels again and refits the policy.

Which iteration's policy to keep is decided without the reward: after each iteration the policy
drives a few noise-free selection episodes, and the kept policy is the one whose states and the
demonstrations lie closest, measured both ways (two_sided_distance). Those episodes are interactions, and they are counted. The
evaluation episodes, which read the reward, only report; nothing is chosen by them.
"""

import argparse
import dataclasses
import time

from cs294 import quiet_tensorflow  # noqa: F401  (first: before keras)

import gymnasium as gym
import keras
import numpy as np

from cs294 import data, ensembles, environments, experts, files, inverse_dynamics, models, provenance, reporting, rollouts, runs, training
from cs294.errors import UserError

# rollouts.EVALUATION_STREAM (1_000_000) draws the evaluation seeds; selection draws from its own streams.
SELECTION_STREAM = 2_000_000
HELD_OUT_TRANSITIONS = 0.1  # of the agent's own transitions, to score the inverse model
CONSTANT_SPREAD = 1e-6  # a demonstration dimension with a smaller std counts as constant
SCORE_SPREAD = 1e-6  # expert and random closer than this on the evaluation episodes: no normalized score
# Points per block of nearest_distances: a block of 64 x 50,000 float64 distances is 26 MB, where all the points at once
# would be gigabytes. Not faster than blocks of 1,000 (1.90-2.08 s against 1.54-1.70 s on Hopper's shape, docs/reproduction.md).
DISTANCE_ROWS = 64


# BCO's own settings that decide a run's result; metrics.json records them beside the shared ones.
OPTIONS = ("alpha", "iterations", "exploration", "inverse_epochs", "inverse_retrain_epochs", "inverse_batch_size", "retrain_epochs",
           "ensemble", "inverse_ensemble", "selection_episodes", "demo_episodes", "curve_episodes")


def check_args(args: argparse.Namespace) -> None:
    """BCO's own flags, checked (the shared ones are checked by runs.RunConfig)."""
    if args.pre_steps is not None and args.pre_steps < 2:
        raise UserError(f"--pre_steps must be at least 2 (the inverse model trains on some and holds one out), got {args.pre_steps}")
    if args.alpha <= 0 and args.iterations > 0:
        raise UserError(f"--alpha must be positive for BCO(alpha) iterations, got {args.alpha}")
    runs.check_at_least(args, {"iterations": 0, "selection_episodes": 0, "inverse_epochs": 1, "inverse_retrain_epochs": 1,
                               "retrain_epochs": 1, "ensemble": 1, "inverse_ensemble": 1, "inverse_batch_size": 1, "curve_episodes": 1})
    if not 0 <= args.exploration <= 1:
        raise UserError(f"--exploration must be in [0, 1], got {args.exploration}")
    if args.demo_episodes is not None:
        runs.check_at_least(args, {"demo_episodes": 1})


def split(arrays: tuple[np.ndarray, ...], fraction: float, rng: np.random.Generator) -> tuple[tuple, tuple]:
    """The same random split of several aligned arrays: (train parts, held-out parts)."""
    order = rng.permutation(len(arrays[0]))
    held_out = training.held_out_count(len(order), fraction)
    return tuple(a[order[held_out:]] for a in arrays), tuple(a[order[:held_out]] for a in arrays)


def demonstration_scale(demo_states: np.ndarray) -> np.ndarray:
    """Each dimension's unit: the demonstrations' std, or 1 (raw units) where the demonstrations hold it constant.

    In units of a zero std (Ant's contact forces on its torso and legs), any contact would swamp
    every other dimension.
    """
    spread = demo_states.std(axis=0)
    return np.where(spread > CONSTANT_SPREAD, spread, 1.0)


def nearest_distances(points: np.ndarray, references: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """For each point, the distance to its nearest reference, in the units of `scale`."""
    references = (references / scale).astype(np.float64)
    reference_norms = (references ** 2).sum(axis=1)
    points = (points / scale).astype(np.float64)
    distances = np.empty(len(points))
    for start in range(0, len(points), DISTANCE_ROWS):
        chunk = points[start:start + DISTANCE_ROWS]
        squared = (chunk ** 2).sum(axis=1)[:, None] + reference_norms[None, :] - 2 * chunk @ references.T
        distances[start:start + DISTANCE_ROWS] = np.sqrt(np.maximum(squared.min(axis=1), 0))
    return distances


def demonstration_distance(states: np.ndarray, demo_states: np.ndarray) -> float:
    """Mean distance from each state to its nearest demonstration state (units: demonstration_scale)."""
    return float(nearest_distances(states, demo_states, demonstration_scale(demo_states)).mean())


def two_sided_distance(states: np.ndarray, demo_states: np.ndarray) -> tuple[float, float]:
    """(states to the demonstrations, demonstrations to the states): the mean nearest distance each way.

    The first alone favours a policy that falls at once, since its few states sit near the
    demonstrations' start; the second is large for it, as most demonstration states are then far
    from anything it visited. Their sum selects the policy to keep.
    """
    scale = demonstration_scale(demo_states)
    return float(nearest_distances(states, demo_states, scale).mean()), float(nearest_distances(demo_states, states, scale).mean())


def select_iteration(selection_distances: list[float | None]) -> int:
    """The iteration to keep: the one whose selection episodes came closest to the demonstrations (the first, on a tie).

    A missing or NaN distance (no selection episodes, or states that diverged) never wins.
    """
    distances = [np.inf if value is None or not np.isfinite(value) else value for value in selection_distances]
    return int(np.argmin(distances))


def normalized_score(value: float, random: float, expert: float) -> float:
    """(return - random) / (expert - random): 0 acts like the random policy, 1 like the expert."""
    return (value - random) / (expert - random)


@dataclasses.dataclass(frozen=True)
class Curve:
    """What an iteration between BCO(0) and the last is scored on: the first `episodes` evaluation episodes, and the expert's and random means there."""

    episodes: int
    expert: float
    random: float

    @classmethod
    def of(cls, expert: list[data.Trajectory], random: list[data.Trajectory], episodes: int) -> "Curve":
        """The first `episodes` of these; all of them where expert and random tie on the first few (no normalized score there)."""
        for count in (min(episodes, len(expert)), len(expert)):
            expert_mean = float(np.mean([t.episode_return for t in expert[:count]]))
            random_mean = float(np.mean([t.episode_return for t in random[:count]]))
            if abs(expert_mean - random_mean) >= SCORE_SPREAD:
                break
        return cls(count, expert_mean, random_mean)


@dataclasses.dataclass
class Interactions:
    """Environment steps BCO took, by purpose; evaluation steps are kept apart and are not interactions."""

    pre: int = 0
    """|I_pre|: random actions before the demonstrations are used (BCO(0))."""
    post: int = 0
    """|I_post|: alpha |I_pre| per BCO(alpha) iteration, summed: the exploring policy's steps."""
    selection: int = 0
    """The noise-free episodes that choose the policy to keep."""
    evaluation: int = 0
    """Scoring only (expert, random policy, every iteration's policy): not counted."""

    @property
    def total(self) -> int:
        return self.pre + self.post + self.selection


class BcoRun:
    """The state of one BCO run: demonstrations, the agent's own transitions, the two models and the accounting."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        environments.resolve(args.env)  # an unknown task is named as such before its missing expert
        expert = experts.default_expert_path(args.env)
        if not expert.exists():  # before the data: recording demonstrations without an expert would not help
            scored = ", ".join(sorted(path.stem for path in expert.parent.glob("*.pkl")))
            raise UserError(f"bco.py scores its policy between a random policy and the task's expert, and experts/ holds no expert of "
                            f"{args.env}; run it on a task with one ({scored})")
        self.config = runs.RunConfig.from_args(args, OPTIONS)
        self.spec, self.policy_config, self.training_config = self.config.spec, self.config.policy, self.config.training
        self.demo_path = self.config.data
        demos, demo_seeds = data.read_observations(self.demo_path, env_name=args.env)
        if args.demo_episodes is not None and args.demo_episodes > len(demos):
            raise UserError(f"--demo_episodes {args.demo_episodes}, but {self.demo_path} holds {len(demos)} episodes; use at most {len(demos)}")
        episodes = args.demo_episodes or len(demos)
        self.demos, demo_seeds = demos[:episodes], demo_seeds[:episodes]
        self.demo_steps = sum(len(sequence) - 1 for sequence in self.demos)
        self.demo_states = np.concatenate(self.demos)
        training.check_split(self.demo_steps, self.training_config.validation_fraction, self.demo_path)
        self.run_dir = args.run_dir or runs.default_run_dir(args.env, "bco", args.seed)
        env = environments.make_env(self.spec)
        self.action_space = env.action_space
        self.horizon = env.spec.max_episode_steps or 1000
        env.close()
        self.discrete = isinstance(self.action_space, gym.spaces.Discrete)
        self.output_dim = int(self.action_space.n) if self.discrete else self.action_space.shape[0]
        self.evaluation_seeds = rollouts.evaluation_seeds(args.seed, args.eval_episodes, exclude=demo_seeds)
        self.used_seeds = set(demo_seeds) | set(self.evaluation_seeds)
        self.explorer = inverse_dynamics.exploration_policy(self.action_space, seed=args.seed)
        self.own: list[data.Trajectory] = []
        self.interactions = Interactions()
        runs.claim_fresh_run_dir(self.run_dir, args.overwrite, "bco.py")
        self.logger = reporting.TensorBoardLogger(self.run_dir)  # opened by its first write: a refusal while the expert is scored leaves none

    def fresh_seeds(self, count: int, stream: int) -> list[int]:
        """Reset seeds no demonstration, evaluation or earlier episode of this run used."""
        seeds = rollouts.episode_seeds(np.random.default_rng([self.args.seed, stream]), count, exclude=self.used_seeds)
        self.used_seeds.update(seeds)
        return seeds

    def collect(self, driver: rollouts.Policy, steps: int, stream: int) -> float:
        """Exactly `steps` environment steps with `driver` acting, added to the agent's own transitions; their distance to the demonstrations.

        No more environments run side by side than the budget fills with whole episodes, so that
        episodes play out to their end (only the last ones are cut) and the late states of an
        episode are collected too: with 16 side by side, a 5000-step budget would stop every
        Hopper episode near step 312.
        """
        side_by_side = max(1, min(self.args.num_envs, steps // self.horizon))
        collected = rollouts.sample_trajectories(driver, self.spec, self.fresh_seeds(steps, stream), num_envs=side_by_side, max_total_steps=steps)
        self.own += collected
        return self.distance(collected)

    def select(self, policy: keras.Model, iteration: int) -> tuple[float, float]:
        """Noise-free episodes of the policy, counted as interactions and kept as transitions; their two-sided distance to the demonstrations.

        Only observations are read here: the reward of these episodes plays no part.
        """
        episodes = rollouts.sample_trajectories(policy, self.spec, self.fresh_seeds(self.args.selection_episodes, SELECTION_STREAM + iteration),
                                                num_envs=self.args.num_envs)
        self.own += episodes
        self.interactions.selection += sum(t.length for t in episodes)
        return two_sided_distance(np.concatenate([t.observations for t in episodes]), self.demo_states)

    def evaluate(self, model: rollouts.Policy, actor: str, where: str, hint: str,
                 count: int | None = None) -> tuple[rollouts.EpisodeStats, list[data.Trajectory]]:
        """Score a model on the first `count` evaluation episodes (default: all); a NaN or infinite action or return ends the run.

        Their steps are counted apart, not as interactions.
        """
        stats, trajectories = runs.evaluate_finite(model, self.spec, self.evaluation_seeds[:count], self.args.num_envs, actor, where, hint)
        self.interactions.evaluation += sum(t.length for t in trajectories)
        return stats, trajectories

    def distance(self, trajectories: list[data.Trajectory]) -> float:
        """How far the states of these episodes are from the demonstrations (demonstration_distance)."""
        return demonstration_distance(np.concatenate([t.observations for t in trajectories]), self.demo_states)

    def fit_inverse(self, model: ensembles.Ensemble | None, iteration: int) -> tuple[ensembles.Ensemble, float]:
        """(Re)fit the inverse model on all own transitions; its accuracy (discrete) or MSE (continuous) on held-out ones.

        A refit starts from the previous weights, so it needs fewer epochs than the first fit.
        """
        states, next_states, actions = inverse_dynamics.transitions(self.own)
        if not self.discrete:  # MuJoCo applies clipped controls, so a clipped action is what (s, s') can reveal
            actions = np.clip(actions, self.action_space.low, self.action_space.high)
        train, held_out = split((states, next_states, actions), HELD_OUT_TRANSITIONS, np.random.default_rng([self.args.seed, iteration, 1]))
        if model is None:
            model = ensembles.build_ensemble(
                lambda name: inverse_dynamics.build_inverse_model(train[0], train[1], self.output_dim, self.policy_config, name),
                self.args.inverse_ensemble, "inverse_dynamics")
            ensembles.compile_ensemble(model, self.training_config, self.discrete)
            epochs = self.args.inverse_epochs
        else:
            epochs = self.args.inverse_retrain_epochs
        config = dataclasses.replace(self.training_config, epochs=epochs, batch_size=self.args.inverse_batch_size)
        callback = reporting.EpochLogger(self.logger, epochs, f"inverse model {iteration}", tag_prefix="inverse", step_offset=iteration * 1000)
        ensembles.fit_ensemble(model, ((train[0], train[1]), train[2]), ((held_out[0], held_out[1]), held_out[2]), config, [callback],
                               seed=[self.args.seed, iteration, 3])
        predictions = model.model.predict([held_out[0], held_out[1]], batch_size=8192, verbose=0)
        if self.discrete:
            return model, float(np.mean(predictions.argmax(axis=-1) == held_out[2]))
        return model, float(np.mean((predictions - held_out[2]) ** 2))

    def fit_policy(self, policy: ensembles.Ensemble | None, inverse: ensembles.Ensemble, iteration: int) -> ensembles.Ensemble:
        """Label the demonstrations with the inverse model and clone them (warm-started after iteration 0)."""
        labels = inverse_dynamics.infer_actions(inverse.model, self.demos, self.action_space)
        states = np.concatenate([sequence[:-1] for sequence in self.demos])
        actions = np.concatenate(labels)
        if policy is None:
            policy = ensembles.build_ensemble(lambda name: models.build_policy(states, self.output_dim, self.policy_config, name),
                                              self.args.ensemble, "policy")
            ensembles.compile_ensemble(policy, self.training_config, self.discrete)
            config = self.training_config
        else:
            config = dataclasses.replace(self.training_config, epochs=self.args.retrain_epochs)
        train, validation = training.split_train_validation(states, actions, config.validation_fraction,
                                                            np.random.default_rng([self.args.seed, iteration, 2]), config.batch_size)
        callback = reporting.EpochLogger(self.logger, config.epochs, f"policy {iteration}", tag_prefix="policy", step_offset=iteration * 1000)
        # A refit sees data of the first fit's shapes, so it runs on the first fit's engine: under XLA, already compiled for
        # these shapes, where that fit was large enough for XLA (a refit alone is too small to pay for a compilation).
        xla = training.uses_xla(len(train[0]), self.training_config.epochs)
        ensembles.fit_ensemble(policy, train, validation, config, [callback], seed=[self.args.seed, iteration, 4], xla=xla)
        return policy


class PhaseClock:
    """Seconds per phase of one iteration, each phase timed from the end of the one before."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.clock = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = now - self.clock
        self.clock = now


def run(args: argparse.Namespace) -> dict:
    """BCO(0), then BCO(alpha) iterations; keeps the policy closest to the demonstrations and returns the metrics."""
    check_args(args)
    bco = BcoRun(args)
    keras.utils.set_random_seed(args.seed)
    try:
        metrics, policy, inverse = learn(bco)
    finally:
        bco.logger.close()  # before the files that mark the run finished, and also when a refusal ends it
    reporting.save_policy(policy.model, bco.run_dir / "policy.keras")
    reporting.save_policy(inverse.model, bco.run_dir / "inverse_dynamics.keras")
    files.write_json(bco.run_dir / "metrics.json", metrics)
    kept, last = metrics["summary"]["kept"], metrics["summary"]["last"]
    why = "closest to the demonstrations" if args.selection_episodes else "the last, as --selection_episodes 0 asks"
    print(f"kept iteration {kept['iteration']} ({why}): return {kept['return']:.1f}, normalized score "
          f"{kept['normalized_score']:.2f}; the last iteration: {last['return']:.1f}, {last['normalized_score']:.2f}. "
          f"Interactions: |I_pre| = {bco.interactions.pre}, alpha |I_pre| = {bco.interactions.post}, selection {bco.interactions.selection}")
    print(f"wrote {bco.run_dir}/policy.keras (kept), last_policy.keras, inverse_dynamics.keras, metrics.json and TensorBoard events")
    return metrics


def score_baselines(bco: BcoRun) -> tuple[rollouts.EpisodeStats, rollouts.EpisodeStats, Curve]:
    """The expert and the random policy on every evaluation episode, and the curve's first episodes with their means there."""
    args, expert_path = bco.args, experts.default_expert_path(bco.args.env)
    # Progress before the first epoch's line: on Humanoid, scoring and BCO(0)'s collection take minutes.
    print(f"scoring the expert and a random policy on {args.eval_episodes} evaluation episode{'s' if args.eval_episodes != 1 else ''}")
    expert_stats, expert_episodes = bco.evaluate(experts.load_checked_expert(expert_path, bco.spec), f"the expert {expert_path}",
                                                 "on the evaluation episodes", runs.expert_hint(expert_path))
    random_stats, random_episodes = bco.evaluate(bco.explorer, "the random policy", "on the evaluation episodes", "report this as a bug")
    if abs(expert_stats.mean - random_stats.mean) < SCORE_SPREAD:
        raise UserError(f"the expert ({expert_stats.mean:.1f}) and a random policy ({random_stats.mean:.1f}) score the same on these "
                        f"{args.eval_episodes} evaluation episodes, so no normalized score exists; use more --eval_episodes")
    # Each iteration in between is a point of the curve, scored on the first --curve_episodes (dagger.py's too): at 50 episodes an
    # iteration, the evaluation and its distances took a third of a Hopper run. The reported ones are scored on all of them.
    return expert_stats, random_stats, Curve.of(expert_episodes, random_episodes, args.curve_episodes)


def train_iteration(bco: BcoRun, iteration: int, inverse: ensembles.Ensemble | None, policy: ensembles.Ensemble | None, steps: int,
                    clock: PhaseClock) -> tuple[ensembles.Ensemble, ensembles.Ensemble, float, float]:
    """Collect `steps` interactions (random in BCO(0), the exploring learner after), refit the inverse model, relabel, refit the policy.

    Returns the inverse model, the policy, the collected states' distance to the demonstrations and the inverse model's score.
    """
    if iteration == 0:
        collected_distance = bco.collect(bco.explorer, steps, stream=0)
        bco.interactions.pre += steps
    else:
        driver = inverse_dynamics.exploring_policy(policy.model, bco.action_space, bco.args.exploration, seed=bco.args.seed * 1000 + iteration)
        collected_distance = bco.collect(driver, steps, stream=iteration)
        bco.interactions.post += steps
    clock.lap("collect")
    inverse, inverse_score = bco.fit_inverse(inverse, iteration)
    clock.lap("inverse_fit")
    policy = bco.fit_policy(policy, inverse, iteration)
    runs.check_finite_weights(policy.model, f"in BCO iteration {iteration}", runs.divergence_hint(bco.args))  # argmax hides NaN logits
    clock.lap("policy_fit")
    return inverse, policy, collected_distance, inverse_score


def learn(bco: BcoRun) -> tuple[dict, ensembles.Ensemble, ensembles.Ensemble]:
    """Every iteration, then the kept policy scored on all evaluation episodes; the metrics, the policy (kept weights), the inverse model."""
    args = bco.args
    pre_steps = args.pre_steps or bco.demo_steps
    post_steps = int(round(args.alpha * pre_steps))  # the paper's |I_post| = alpha |I_pre|, per iteration
    if args.iterations and post_steps < 1:
        raise UserError(f"--alpha {args.alpha} x |I_pre| = {pre_steps} rounds to no post-demonstration steps; raise --alpha or --pre_steps")
    expert_stats, random_stats, curve = score_baselines(bco)
    config = {**bco.config.record(), "pre_steps": pre_steps, "post_steps_per_iteration": post_steps}
    bco.logger.text("hyperparameters", reporting.hyperparameter_table(config))
    bco.logger.hparams(config)
    metrics = {"config": config, "demonstrations": {"path": str(bco.demo_path), "sha256": provenance.file_sha256(bco.demo_path),
                                                    "episodes": len(bco.demos), "steps": bco.demo_steps},
               "expert": vars(expert_stats), "random": vars(random_stats), "evaluation_seeds": bco.evaluation_seeds, "iterations": [],
               "package_versions": provenance.package_versions()}
    print(f"expert {expert_stats.mean:.1f}, random policy {random_stats.mean:.1f}; "
          f"collecting |I_pre| = {pre_steps} interactions with the random policy")
    inverse = policy = None
    selection_distances: list[float | None] = []
    kept_weights: list[np.ndarray] = []
    for iteration in range(args.iterations + 1):
        clock = PhaseClock()
        inverse, policy, collected_distance, inverse_score = train_iteration(bco, iteration, inverse, policy,
                                                                             pre_steps if iteration == 0 else post_steps, clock)
        to_demos, from_demos = bco.select(policy.model, iteration) if args.selection_episodes else (None, None)
        selection_distances.append(None if to_demos is None else to_demos + from_demos)
        if args.selection_episodes and select_iteration(selection_distances) == iteration:
            kept_weights = [weights.copy() for weights in policy.model.get_weights()]
        clock.lap("selection")
        scored = None if iteration in (0, args.iterations) else curve.episodes  # BCO(0) and the last: every evaluation episode
        stats, evaluation = bco.evaluate(policy.model, "the policy", f"in the evaluation of BCO iteration {iteration}", runs.divergence_hint(args),
                                         scored)
        expert_mean, random_mean = (expert_stats.mean, random_stats.mean) if scored is None else (curve.expert, curve.random)
        clock.lap("evaluation")
        record = {"iteration": iteration, "interactions": bco.interactions.total, "pre_interactions": bco.interactions.pre,
                  "post_interactions": bco.interactions.post, "selection_interactions": bco.interactions.selection,
                  "post_to_pre": bco.interactions.post / pre_steps,
                  ("inverse_accuracy" if bco.discrete else "inverse_mse"): inverse_score,
                  "collected_distance": collected_distance, "selection_distance": selection_distances[-1],
                  "selection_to_demonstrations": to_demos, "selection_from_demonstrations": from_demos,
                  "evaluation_distance": bco.distance(evaluation),
                  "episodes_scored": stats.episodes, "expert_return_mean": expert_mean,
                  "return_mean": stats.mean, "return_std": stats.std, "return_min": stats.min, "normalized_score": normalized_score(stats.mean, random_mean, expert_mean),
                  "phase_seconds": clock.seconds, "seconds": sum(clock.seconds.values())}
        metrics["iterations"].append(record)
        log_iteration(bco, record, args.iterations)
    last = metrics["iterations"][-1]
    kept_iteration = select_iteration(selection_distances) if args.selection_episodes else last["iteration"]
    reporting.save_policy(policy.model, bco.run_dir / "last_policy.keras")
    if kept_weights:  # from here on the model is the kept policy (the last one's weights are saved above)
        policy.model.set_weights(kept_weights)
    kept = metrics["iterations"][kept_iteration]
    if kept["episodes_scored"] < args.eval_episodes:  # its curve point saw the first few episodes; the kept policy is scored on all
        stats, _ = bco.evaluate(policy.model, "the kept policy", f"in the evaluation of BCO iteration {kept_iteration}", runs.divergence_hint(args))
        kept = {**kept, "return_mean": stats.mean, "normalized_score": normalized_score(stats.mean, random_stats.mean, expert_stats.mean)}
    metrics["interactions"] = dataclasses.asdict(bco.interactions) | {"total": bco.interactions.total, "post_to_pre": bco.interactions.post / pre_steps}
    metrics["summary"] = {
        "expert": expert_stats.mean, "random": random_stats.mean,
        "bco0": {"return": metrics["iterations"][0]["return_mean"], "normalized_score": metrics["iterations"][0]["normalized_score"]},
        "last": {"iteration": last["iteration"], "return": last["return_mean"], "normalized_score": last["normalized_score"]},
        "kept": {"iteration": kept_iteration, "return": kept["return_mean"], "normalized_score": kept["normalized_score"],
                 "selection_distance": kept["selection_distance"]},
    }
    return metrics, policy, inverse


def log_iteration(bco: BcoRun, record: dict, iterations: int) -> None:
    """One iteration to TensorBoard and one line to stdout."""
    score_name = "inverse_accuracy" if bco.discrete else "inverse_mse"
    scalars = {"eval/return_mean": record["return_mean"], "eval/expert_return_mean": record["expert_return_mean"],
               "eval/normalized_score": record["normalized_score"], f"inverse/{score_name}": record[score_name],
               "data/interactions": record["interactions"], "distance/collected": record["collected_distance"],
               "distance/evaluation": record["evaluation_distance"]}
    if record["selection_distance"] is not None:
        scalars["distance/selection"] = record["selection_distance"]
    bco.logger.scalars(scalars, step=record["iteration"])
    selection = "none" if record["selection_distance"] is None else f"{record['selection_distance']:.3g}"
    label = "BCO(0)" if record["iteration"] == 0 else f"BCO(alpha) {record['iteration']}/{iterations}"
    print(f"{label}: {record['interactions']} interactions, inverse model {score_name.split('_')[1]} {record[score_name]:.4g}, "
          f"return {record['return_mean']:.1f} on {record['episodes_scored']} episodes (normalized {record['normalized_score']:.2f}; "
          f"expert {record['expert_return_mean']:.1f} on the same ones); "
          f"distance to the demonstrations: selection {selection}, evaluation {record['evaluation_distance']:.3g}; "
          f"{record['seconds']:.0f} s", flush=True)

