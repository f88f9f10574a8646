"""Behavioral cloning from observation (Torabi, Warnell and Stone, IJCAI 2018).

    python hw1/bco.py CartPole-v1
    python hw1/bco.py Hopper-v1

The demonstrations are state-only: only the observations of the rollout file are read, never its
actions. The agent first acts at random for --pre_steps steps and fits an inverse dynamics model
(s, s') -> a to its own transitions (softmax and cross-entropy for discrete actions, MSE for
continuous ones). It infers the demonstrations' missing actions with that model, and clones them
(BCO(0), iteration 0). Each further iteration is BCO(alpha): the current policy, exploring (see
--exploration), collects alpha x (demonstration steps) new transitions.
The inverse model is retrained on all of the agent's transitions, the actions are inferred
again, and the policy is retrained. Environment interactions are counted exactly; evaluation
episodes are not counted.

The policy and the inverse model are each the mean of --ensemble and --inverse_ensemble members,
initialized apart and fit each on its own. On Hopper, how well one cloned network does depends
heavily on its random start; the mean of several is far more consistent, and BCO(alpha) gets
much further with it (hw1/label_noise.py measures this; README, "BCO").

The run directory holds policy.keras (observations -> actions, or logits for discrete actions),
inverse_dynamics.keras (inputs state and next_state), metrics.json and TensorBoard logs.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from cs294 import cli, data, ensembles, environments, experts, files, inverse_dynamics, locks, models, provenance, reporting, rollouts, runs, training
from cs294.errors import UserError

import gymnasium as gym  # noqa: E402
import keras  # noqa: E402  (after cs294, which keeps TensorFlow's start-up banner quiet)

EVALUATION_STREAM = 1_000_000


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("bco.py", __doc__)
    parser.add_argument("env", help="CartPole-v1, Hopper-v1, or another task with a rollout file")
    parser.add_argument("--demos", type=Path, default=None, help="rollout file whose observations are the demonstrations (default: bc.py's data file)")
    parser.add_argument("--pre_steps", type=int, default=None, help="random-action steps before the demonstrations are used (default: as many as the demonstrations have)")
    parser.add_argument("--alpha", type=float, default=0.5, help="post-demonstration steps per iteration, as a multiple of the demonstration steps (default: 0.5)")
    parser.add_argument("--iterations", type=int, default=10, help="BCO(alpha) iterations after BCO(0) (default: 10; 0 gives BCO(0) alone)")
    parser.add_argument("--exploration", type=float, default=0.1, help="while the policy collects: the probability of a random action (discrete), or the std of Gaussian action noise as a share of half the action range (continuous) (default: 0.1)")
    parser.add_argument("--inverse_epochs", type=int, default=30, help="epochs of the inverse model per fit (default: 30)")
    parser.add_argument("--ensemble", type=int, default=10, help="members of the policy, each fit to the inferred actions on its own, averaged (default: 10)")
    parser.add_argument("--inverse_ensemble", type=int, default=5, help="members of the inverse model, each fit on its own, averaged (default: 5)")
    parser.add_argument("--inverse_batch_size", type=int, default=256, help="samples per gradient step of the inverse model (default: 256)")
    parser.add_argument("--retrain_epochs", type=int, default=30, help="policy epochs per BCO(alpha) iteration, warm-started (default: 30)")
    runs.add_model_arguments(parser)
    parser.add_argument("--eval_episodes", type=int, default=10, help="evaluation episodes per iteration (default: 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of everything random in the run (default: 0)")
    parser.add_argument("--run_dir", type=Path, default=None, help="output directory (default: results/<env>/bco/seed<S>_<time>)")
    parser.add_argument("--num_envs", type=int, default=rollouts.DEFAULT_NUM_ENVS, help="environments stepped side by side")
    runs.add_overwrite_argument(parser)
    return parser


def check_args(args: argparse.Namespace) -> None:
    if args.pre_steps is not None and args.pre_steps < 2:
        raise UserError(f"--pre_steps must be at least 2 (the inverse model trains on some and holds one out), got {args.pre_steps}")
    if args.alpha <= 0 and args.iterations > 0:
        raise UserError(f"--alpha must be positive for BCO(alpha) iterations, got {args.alpha}")
    if args.iterations < 0 or args.inverse_epochs < 1 or args.retrain_epochs < 1:
        raise UserError("--iterations must be >= 0, --inverse_epochs and --retrain_epochs >= 1")
    if min(args.ensemble, args.inverse_ensemble, args.inverse_batch_size) < 1:
        raise UserError("--ensemble, --inverse_ensemble and --inverse_batch_size must be at least 1")
    if not 0 <= args.exploration <= 1:
        raise UserError(f"--exploration must be in [0, 1], got {args.exploration}")


def split(arrays: tuple[np.ndarray, ...], fraction: float, rng: np.random.Generator) -> tuple[tuple, tuple]:
    """The same random split of several aligned arrays: (train parts, held-out parts)."""
    order = rng.permutation(len(arrays[0]))
    held_out = training.held_out_count(len(order), fraction)
    return tuple(a[order[held_out:]] for a in arrays), tuple(a[order[:held_out]] for a in arrays)


def demonstration_distance(states: np.ndarray, demo_states: np.ndarray) -> float:
    """Mean distance from each state to its nearest demonstration state, each dimension in units of the demonstrations' std."""
    scale = demo_states.std(axis=0) + 1e-6
    demos = (demo_states / scale).astype(np.float32)
    demo_norms = (demos ** 2).sum(axis=1)
    distances = []
    for chunk in np.array_split(states / scale, max(1, len(states) // 1000)):
        squared = (chunk ** 2).sum(axis=1)[:, None] + demo_norms[None, :] - 2 * chunk.astype(np.float32) @ demos.T
        distances.append(np.sqrt(np.maximum(squared.min(axis=1), 0)))
    return float(np.concatenate(distances).mean())


class BcoRun:
    """The state of one BCO run: demonstrations, the agent's own transitions, the two models."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.spec = environments.resolve(args.env)
        self.policy_config, self.training_config = runs.configs_from_args(args)
        self.demo_path = runs.resolve_data_path(args.env, args.demos)
        self.demos, demo_seeds = data.read_observations(self.demo_path, env_name=args.env)
        self.demo_steps = sum(len(sequence) - 1 for sequence in self.demos)
        self.demo_states = np.concatenate(self.demos)
        training.check_split(self.demo_steps, self.training_config.validation_fraction, self.demo_path)
        self.run_dir = args.run_dir or runs.default_run_dir(args.env, "bco", args.seed)
        env = environments.make_env(self.spec)
        self.action_space, self.observation_dim = env.action_space, env.observation_space.shape[0]
        env.close()
        self.discrete = isinstance(self.action_space, gym.spaces.Discrete)
        self.output_dim = int(self.action_space.n) if self.discrete else self.action_space.shape[0]
        self.evaluation_seeds = rollouts.episode_seeds(np.random.default_rng([args.seed, EVALUATION_STREAM]), args.eval_episodes, exclude=demo_seeds)
        self.used_seeds = set(demo_seeds) | set(self.evaluation_seeds)
        self.explorer = inverse_dynamics.exploration_policy(self.observation_dim, self.action_space, seed=args.seed)
        self.own: list[data.Trajectory] = []
        locks.claim_run_dir(self.run_dir, overwrite=args.overwrite)
        self.logger = reporting.TensorBoardLogger(self.run_dir / "tensorboard")

    def collect(self, driver: keras.Model, steps: int, stream: int) -> float:
        """Exactly `steps` environment steps with `driver` acting, added to the agent's own transitions; their distance to the demonstrations."""
        seeds = rollouts.episode_seeds(np.random.default_rng([self.args.seed, stream]), steps, exclude=self.used_seeds)
        self.used_seeds.update(seeds)
        collected = rollouts.sample_trajectories(driver, self.spec, seeds, num_envs=self.args.num_envs, max_total_steps=steps)
        self.own += collected
        return self.distance(collected)

    def distance(self, trajectories: list[data.Trajectory]) -> float:
        """How far the states of these episodes are from the demonstrations (demonstration_distance)."""
        return demonstration_distance(np.concatenate([t.observations for t in trajectories]), self.demo_states)

    def fit_inverse(self, model: ensembles.Ensemble | None, iteration: int) -> tuple[ensembles.Ensemble, float]:
        """(Re)fit the inverse model on all own transitions; its accuracy (discrete) or MSE (continuous) on held-out ones."""
        states, next_states, actions = inverse_dynamics.transitions(self.own)
        if not self.discrete:  # MuJoCo applies clipped controls, so a clipped action is what (s, s') can reveal
            actions = np.clip(actions, self.action_space.low, self.action_space.high)
        train, held_out = split((states, next_states, actions), 0.1, np.random.default_rng([self.args.seed, iteration, 1]))
        if model is None:
            model = ensembles.build_ensemble(
                lambda name: inverse_dynamics.build_inverse_model(train[0], train[1], self.output_dim, self.policy_config, name),
                self.args.inverse_ensemble, "inverse_dynamics")
            ensembles.compile_ensemble(model, self.training_config, self.discrete)
        config = training.TrainingConfig(**{**vars(self.training_config), "epochs": self.args.inverse_epochs, "batch_size": self.args.inverse_batch_size})
        callback = reporting.EpochLogger(self.logger, config.epochs, f"inverse model {iteration}", tag_prefix="inverse",
                                         step_offset=iteration * config.epochs)
        ensembles.fit_ensemble(model, ((train[0], train[1]), train[2]), ((held_out[0], held_out[1]), held_out[2]), config, [callback])
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
            config = training.TrainingConfig(**{**vars(self.training_config), "epochs": self.args.retrain_epochs})
        train, validation = training.split_train_validation(states, actions, config.validation_fraction, np.random.default_rng([self.args.seed, iteration, 2]))
        callback = reporting.EpochLogger(self.logger, config.epochs, f"policy {iteration}", tag_prefix="policy", step_offset=iteration * 1000)
        ensembles.fit_ensemble(policy, train, validation, config, [callback])
        return policy


def main(args: argparse.Namespace) -> dict:
    """Run BCO(0) and then BCO(alpha); returns the metrics."""
    check_args(args)
    run = BcoRun(args)
    keras.utils.set_random_seed(args.seed)
    pre_steps = args.pre_steps or run.demo_steps
    expert_stats, _ = rollouts.evaluate(experts.load_checked_expert(experts.default_expert_path(args.env), run.spec),
                                        run.spec, run.evaluation_seeds, num_envs=args.num_envs)
    config = {**runs.run_config(args, run.policy_config, run.training_config, run.demo_path, run.spec),
              **{name: getattr(args, name) for name in ("alpha", "iterations", "exploration", "inverse_epochs", "inverse_batch_size", "retrain_epochs", "ensemble", "inverse_ensemble")},
              "pre_steps": pre_steps}
    run.logger.text("hyperparameters", reporting.hyperparameter_table(config))
    metrics = {"config": config, "demonstrations": {"path": str(run.demo_path), "sha256": provenance.file_sha256(run.demo_path),
                                                    "episodes": len(run.demos), "steps": run.demo_steps},
               "expert": vars(expert_stats), "evaluation_seeds": run.evaluation_seeds, "iterations": [],
               "package_versions": provenance.package_versions()}
    inverse = policy = None
    for iteration in range(args.iterations + 1):
        started = time.perf_counter()
        if iteration == 0:
            distance = run.collect(run.explorer, pre_steps, stream=0)
        else:
            driver = inverse_dynamics.exploring_policy(policy.model, run.action_space, args.exploration, seed=args.seed * 1000 + iteration)
            distance = run.collect(driver, int(round(args.alpha * run.demo_steps)), stream=iteration)
        inverse, inverse_score = run.fit_inverse(inverse, iteration)
        policy = run.fit_policy(policy, inverse, iteration)
        stats, evaluation = rollouts.evaluate(policy.model, run.spec, run.evaluation_seeds, num_envs=args.num_envs)
        evaluation_distance = run.distance(evaluation)
        interactions = sum(t.length for t in run.own)
        score_name = "inverse_accuracy" if run.discrete else "inverse_mse"
        metrics["iterations"].append({"iteration": iteration, "interactions": interactions, score_name: inverse_score,
                                      "collected_distance": distance, "evaluation_distance": evaluation_distance, "return_mean": stats.mean, "return_std": stats.std, "return_min": stats.min,
                                      "seconds": time.perf_counter() - started})
        run.logger.scalars({"eval/return_mean": stats.mean, "eval/expert_return_mean": expert_stats.mean,
                            f"inverse/{score_name}": inverse_score, "data/interactions": interactions,
                            "distance/collected": distance, "distance/evaluation": evaluation_distance}, step=iteration)
        label = "BCO(0)" if iteration == 0 else f"BCO(alpha) {iteration}/{args.iterations}"
        print(f"{label}: {interactions} interactions, inverse model {score_name.split('_')[1]} {inverse_score:.4g}, "
              f"return {stats.mean:.1f} ± {stats.std:.1f} (expert {expert_stats.mean:.1f} on the same episodes); "
              f"distance to the demonstrations: collected {distance:.3g}, evaluation {evaluation_distance:.3g}")
    run.logger.close()
    reporting.save_policy(policy.model, run.run_dir / "policy.keras")
    reporting.save_policy(inverse.model, run.run_dir / "inverse_dynamics.keras")
    files.write_json(run.run_dir / "metrics.json", metrics)
    print(f"wrote {run.run_dir}/policy.keras, inverse_dynamics.keras, metrics.json and tensorboard/")
    return metrics


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
