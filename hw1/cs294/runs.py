"""What the scripts share to make a run: the run configuration their flags describe, run directories,
behavioral cloning itself, and reuse of a finished run.

bc.py, dagger.py, bco.py, label_noise.py, hopper_study.py and bc_curve.py import this module in
main(), never each other; their flags are defined in cs294.arguments, which imports no TensorFlow.
"""

import argparse
import dataclasses
import datetime
import json
import time
from pathlib import Path

import numpy as np

from cs294 import data, environments, expert_scores, experts, files, locks, models, provenance, reporting, rollouts, training
from cs294.errors import UserError

import keras  # noqa: E402  (after cs294, which keeps TensorFlow's start-up banner quiet)


# Where runs started by hand go by default: git-ignored, and read by no reproduce.py profile.
MANUAL_RUNS = Path("runs")


def check_at_least(args: argparse.Namespace, least: dict[str, int]) -> None:
    """Refuse the first flag whose value is below its least allowed value, in one line."""
    for name, bound in least.items():
        if getattr(args, name) < bound:
            raise UserError(f"--{name} must be at least {bound}, got {getattr(args, name)}")


def configs_from_args(args: argparse.Namespace) -> tuple[models.PolicyConfig, training.TrainingConfig]:
    """The architecture and training settings the flags describe, checked."""
    check_at_least(args, {"epochs": 1, "batch_size": 1, "eval_episodes": 1, "num_envs": 1})
    if not 0 <= args.validation_fraction < 1:
        raise UserError(f"--validation_fraction must be in [0, 1), got {args.validation_fraction}")
    if args.learning_rate <= 0:
        raise UserError(f"--learning_rate must be positive, got {args.learning_rate:g}")
    if args.l2 < 0:
        raise UserError(f"--l2 must not be negative, got {args.l2:g}")
    if args.clip_observations < 0:
        raise UserError(f"--clip_observations must not be negative, got {args.clip_observations}")
    policy = models.PolicyConfig(hidden=tuple(args.hidden), activation=args.activation, l2=args.l2, head=args.head,
                                 observation_clip=args.clip_observations)
    train = training.TrainingConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                                     optimizer=args.optimizer, validation_fraction=args.validation_fraction)
    return policy, train


def resolve_data_path(env_name: str, data_path: Path | None) -> Path:
    """The rollout file to read; a missing one is a UserError that says how to make it."""
    if data_path is not None and str(data_path).startswith("minari:"):  # a Minari dataset, converted once (cs294.minari_io)
        from cs294 import minari_io  # here: the normal path never loads the converter
        return minari_io.cached_rollouts(str(data_path), env_name)
    num_rollouts = data.DEMONSTRATION_ROLLOUTS.get(env_name, 20)
    path = data_path or data.default_rollouts_path(env_name, num_rollouts)
    if not path.exists():
        expert = experts.default_expert_path(env_name)
        if not expert.exists():  # no published expert: only the user's own policy can demonstrate the task
            raise UserError(f"data file {path} does not exist, and experts/ holds no expert of {env_name} to make it with; record demonstrations "
                            f"with your own policy: python hw1/run_expert.py POLICY.keras {env_name} --num_rollouts {num_rollouts} --output {path}")
        raise UserError(f"data file {path} does not exist; make it with: "
                        f"python hw1/run_expert.py experts/{expert.name} {env_name} --num_rollouts {num_rollouts}"
                        + (f" --output {path}" if data_path else ""))
    return path


def default_run_dir(env_name: str, method: str, seed: int) -> Path:
    """runs/<env>/<method>/seed<S>_<UTC time>: one directory per run.

    Not under results/, where the reproduction's runs are: a run made by hand never mixes with them.
    """
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return MANUAL_RUNS / env_name / method / f"seed{seed}_{stamp}"


def first_demonstrations(rollouts_file: data.Rollouts, num_demos: int | None, path: Path) -> data.Rollouts:
    """The file's first `num_demos` episodes (all of them for None); a count outside the file is a UserError."""
    if num_demos is None:
        return rollouts_file
    if not 1 <= num_demos <= len(rollouts_file.trajectories):
        raise UserError(f"--num_demos must be between 1 and the {len(rollouts_file.trajectories)} episodes in {path}, got {num_demos}")
    return data.Rollouts(rollouts_file.trajectories[:num_demos], rollouts_file.attributes, rollouts_file.episode_attributes[:num_demos])


def check_finite_weights(model: keras.Model, where: str, hint: str) -> None:
    """Refuse a policy with a NaN or infinite weight: a diverged fit must end the run, not be saved as its result."""
    if not all(np.isfinite(weights).all() for weights in model.get_weights()):
        raise UserError(f"the policy's weights became NaN or infinite {where}; {hint}")


def check_finite_episodes(trajectories: list[data.Trajectory], actor: str, where: str, hint: str) -> None:
    """Refuse episodes with a NaN or infinite action or return, so that no mean of them is written as a finished result."""
    for trajectory in trajectories:
        bad = ("actions" if not np.isfinite(trajectory.actions).all()
               else "return" if not np.isfinite(trajectory.episode_return) else None)
        if bad:
            raise UserError(f"{actor} gave a NaN or infinite {'action' if bad == 'actions' else 'return'} {where} "
                            f"(episode seed {trajectory.seed}); {hint}")


def evaluate_finite(model: rollouts.Policy, spec: environments.EnvSpec, seeds: list[int], num_envs: int, actor: str, where: str,
                    hint: str) -> tuple[rollouts.EpisodeStats, list[data.Trajectory]]:
    """rollouts.evaluate, refusing NaN or infinite actions and returns in one line (numpy's warnings on them are not shown)."""
    with np.errstate(all="ignore"):
        stats, episodes = rollouts.evaluate(model, spec, seeds, num_envs=num_envs)
    check_finite_episodes(episodes, actor, where, hint)
    return stats, episodes


def divergence_hint(args: argparse.Namespace) -> str:
    """What to try when a policy's training diverged: the flags that bound it."""
    return (f"nothing was marked complete; try a smaller --learning_rate (now {args.learning_rate:g}), "
            "--clip_observations 10, or another --seed")


def expert_hint(path: Path) -> str:
    """What to do when an expert's actions or returns are not finite."""
    return f"nothing was marked complete; {path} is no usable expert: use the task's published one (experts/<task>.pkl)"


def claim_fresh_run_dir(run_dir: Path, overwrite: bool, script: str) -> Path:
    """locks.claim_run_dir for a script that cannot resume (bc.py, bco.py), whose refusal of a non-empty directory says what it holds."""
    locks.refuse_foreign_files(run_dir)
    if not overwrite and run_dir.is_dir() and any(run_dir.iterdir()) and not locks.is_locked(run_dir):
        finished = (run_dir / "metrics.json").exists()  # written last: without it the run was interrupted or failed
        raise UserError(f"--run_dir {run_dir} already holds {'a finished' if finished else 'an unfinished (interrupted or failed)'} run; "
                        f"{script} cannot resume one: pass --overwrite to {'replace' if finished else 'start'} it again, or choose another directory")
    return locks.claim_run_dir(run_dir, overwrite=overwrite)


def output_dim(env_spec: environments.EnvSpec, actions: np.ndarray) -> tuple[int, bool]:
    """Size of the policy's output and whether actions are discrete (then the outputs are logits)."""
    env = environments.make_env(env_spec)
    space = env.action_space
    env.close()
    if actions.ndim == 1:
        return int(space.n), True
    return actions.shape[1], False


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """What bc.py, dagger.py and bco.py runs share: the task, the demonstrations, the policy, its training, the evaluation and the seed.

    Each method adds its own settings in `options`. `record()` is what metrics.json and
    TensorBoard keep, and what a finished run is recognized by.
    """

    env: str
    spec: environments.EnvSpec
    data: Path
    """The rollout file the run learns from."""
    num_demos: int | None
    """Only the file's first N episodes (None: all)."""
    policy: models.PolicyConfig
    training: training.TrainingConfig
    seed: int
    eval_episodes: int
    num_envs: int
    options: dict = dataclasses.field(default_factory=dict)
    """The method's own settings, e.g. DAgger's iterations and beta."""

    @classmethod
    def from_args(cls, args: argparse.Namespace, options: tuple[str, ...] = (), data_path: Path | None = None) -> "RunConfig":
        """The configuration the flags describe, checked; the data file is resolved (and must exist) unless `data_path` is given."""
        policy, train = configs_from_args(args)
        source = args.demos if hasattr(args, "demos") else args.data  # bco.py names its file --demos
        return cls(env=args.env, spec=environments.resolve(args.env), data=data_path or resolve_data_path(args.env, source),
                   num_demos=getattr(args, "num_demos", getattr(args, "demo_episodes", None)), policy=policy, training=train,
                   seed=args.seed, eval_episodes=args.eval_episodes, num_envs=args.num_envs,
                   options={name: getattr(args, name) for name in options})

    def record(self, data: Path | None = None) -> dict:
        """Everything that determines the run's result, as metrics.json holds it (tuples as lists); `data` overrides the file's path."""
        config = {"env": self.env, "gym_id": self.spec.gym_id, "data": str(data or self.data), "num_demos": self.num_demos,
                  "seed": self.seed, "eval_episodes": self.eval_episodes,
                  **{f"policy.{k}": v for k, v in vars(self.policy).items()},
                  **{f"training.{k}": v for k, v in vars(self.training).items()}, **self.options}
        return json.loads(json.dumps(config))


def behavioral_cloning(args: argparse.Namespace) -> dict:
    """Train, evaluate and save one behavioral cloning run (bc.py); returns its metrics."""
    run = RunConfig.from_args(args)
    spec, data_path, training_config = run.spec, run.data, run.training
    whole_file = data.read_rollouts(data_path, env_name=run.env)
    demonstrations = first_demonstrations(whole_file, run.num_demos, data_path)
    training.check_split(sum(t.length for t in demonstrations.trajectories), training_config.validation_fraction, data_path)
    run_dir = claim_fresh_run_dir(args.run_dir or default_run_dir(run.env, "bc", run.seed), args.overwrite, "bc.py")

    keras.utils.set_random_seed(run.seed)
    rng = np.random.default_rng(run.seed)
    observations, actions = data.transitions(demonstrations.trajectories)
    train, validation = training.split_train_validation(observations, actions, training_config.validation_fraction, rng,
                                                        training_config.batch_size)
    action_dim, discrete = output_dim(spec, actions)
    model = models.build_policy(train[0], action_dim, run.policy)
    training.compile_policy(model, training_config, discrete)

    config = run.record()
    logger = reporting.TensorBoardLogger(run_dir)
    try:
        logger.text("hyperparameters", reporting.hyperparameter_table(config))
        episodes = len(demonstrations.trajectories)
        print(f"training on {len(train[0])} transitions from {episodes} episode{'s' if episodes != 1 else ''} "
              f"({len(validation[0])} held out for validation)")
        fit = training.fit_policy(model, train, validation, training_config,
                                  callbacks=[reporting.EpochLogger(logger, training_config.epochs, f"{run.env} BC")], seed=run.seed)

        # A diverged fit must not be scored and saved as if it had learned: metrics.json marks a finished run.
        after = f"after epoch {training_config.epochs} of BC"
        check_finite_weights(model, after, divergence_hint(args))
        # The seeds dagger.py's run of this seed is scored on too (its expert column is then the same).
        evaluation_seeds = rollouts.evaluation_seeds(run.seed, run.eval_episodes, exclude=[t.seed for t in whole_file.trajectories])
        evaluation_start = time.perf_counter()
        stats, evaluation_episodes = evaluate_finite(model, spec, evaluation_seeds, run.num_envs, "the policy", f"in evaluation {after}",
                                                     divergence_hint(args))
        evaluation_seconds = time.perf_counter() - evaluation_start
        expert_in_data = rollouts.rollout_stats(demonstrations.trajectories)
        expert_path = experts.default_expert_path(run.env)
        expert_model = experts.load_checked_expert(expert_path, spec) if run.env in data.DEMONSTRATION_ROLLOUTS else None
        # The expert on the very episodes the policy was scored on: a paired, less noisy yardstick.
        if expert_model:
            expert, _ = expert_scores.expert_returns(expert_path, spec, evaluation_seeds, run.num_envs, lambda: evaluate_finite(
                expert_model, spec, evaluation_seeds, run.num_envs, f"the expert {expert_path}", "on the evaluation episodes",
                expert_hint(expert_path)))
        else:
            expert = expert_in_data
        # Step = expert-labelled transitions, as dagger.py logs its iterations: BC and DAgger share one axis in one chart.
        logger.scalars({"eval/return_mean": stats.mean, "eval/return_std": stats.std, "eval/expert_return_mean": expert.mean,
                        "eval/falls": stats.falls}, step=len(observations))
        logger.hparams(config)
    finally:
        logger.close()

    reporting.save_policy(model, run_dir / "policy.keras")
    metrics = {
        "config": config,
        "data": {"path": str(data_path), "sha256": provenance.file_sha256(data_path),
                 "episodes": len(demonstrations.trajectories), "transitions": len(observations)},
        "train_loss": fit.train_loss,
        "validation_loss": fit.validation_loss,
        "evaluation": {**vars(stats), "returns": [t.episode_return for t in evaluation_episodes], "seeds": evaluation_seeds},
        "expert": vars(expert),
        "expert_in_data": vars(expert_in_data),
        "seconds": {"training": fit.seconds, "evaluation": evaluation_seconds},
        "training_samples_per_second": fit.samples_per_second,
        "package_versions": provenance.package_versions(),
    }
    files.write_json(run_dir / "metrics.json", metrics)

    share = f"{100 * stats.mean / expert.mean:.1f}% of" if expert.mean > 0 else "vs."
    print(f"final loss: train {fit.train_loss[-1]:.5f}, validation {fit.validation_loss[-1] if fit.validation_loss else float('nan'):.5f} "
          f"({fit.seconds:.1f} s, {fit.samples_per_second:,.0f} samples/s)")
    print(f"BC return {stats.mean:.1f} ± {stats.std:.1f} over {stats.episodes} episodes (falls {stats.falls}/{stats.episodes}): "
          f"{share} the expert's {expert.mean:.1f} ± {expert.std:.1f} on the same episode seeds "
          f"({expert_in_data.mean:.1f} ± {expert_in_data.std:.1f} in the data)")
    print(f"wrote {run_dir}/policy.keras, metrics.json and TensorBoard events")
    return metrics


def run_or_reuse(args: argparse.Namespace, reuse_only: bool = False) -> dict:
    """The metrics of a bc.py run: read back if its run_dir holds a finished run with the same settings, else trained now.

    With reuse_only, a missing or different run is an error instead: reproduce.py runs every
    bc.py step itself, and a table step that retrained one would overwrite a cached step's output.
    """
    metrics_path = args.run_dir / "metrics.json"
    if metrics_path.exists():
        metrics = json.loads(metrics_path.read_text())
        run = RunConfig.from_args(args)
        # The same settings on other data (a file regenerated at the same path) are another run.
        same_data = metrics.get("data", {}).get("sha256") == provenance.file_sha256(run.data)
        if metrics.get("config") == run.record() and same_data:
            print(f"reusing the finished run in {args.run_dir}")
            return metrics
    if reuse_only:
        raise UserError(f"{args.run_dir} holds no finished bc.py run with these settings and this data, "
                        "and --reuse_only forbids training it here")
    args.overwrite = True  # what the directory holds is another run's, or an unfinished one
    return behavioral_cloning(args)
