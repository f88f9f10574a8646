"""DAgger, one run: the learned policy drives, the expert labels every state it visits, the data grows, the policy is refit.

Iteration 0 clones the expert's rollouts; each later iteration rolls out the current policy (with
beta, the expert acts at each step with probability beta**i), relabels, appends to the run's
aggregated HDF5 file in one atomic step, refits warm-started, and evaluates on the same
held-out episodes. state.json is the commit record of each iteration: --resume starts after the
last one committed.
"""


import argparse
import shutil
import time
from pathlib import Path

import numpy as np

from cs294 import aggregation, cli, crashpoints, data, expert_scores, experts, files, locks, models, plots, provenance, reporting, rollouts, runs, training
from cs294.errors import UserError

import keras  # noqa: E402  (after cs294, which keeps TensorFlow's start-up banner quiet)

AGGREGATED_FILE = "aggregated.h5"
PLOTS = ("returns.png", "validation_loss.png")

# The settings of DAgger's own that decide a run's result; metrics.json records them beside the shared ones.
OPTIONS = ("iterations", "rollouts_per_iter", "retrain_epochs", "beta", "curve_episodes")


def check_args(args: argparse.Namespace) -> None:
    """DAgger's own flags, checked (the shared ones are checked by runs.RunConfig)."""
    runs.check_at_least(args, {"iterations": 0, "rollouts_per_iter": 1, "retrain_epochs": 1, "curve_episodes": 1})
    if not 0 <= args.beta <= 1:
        raise UserError(f"--beta must be in [0, 1], got {args.beta}")
    if args.resume and args.overwrite:
        raise UserError("--resume continues the run in --run_dir and --overwrite deletes it: give one of them")
    if args.resume and args.run_dir is None:
        raise UserError("--resume needs --run_dir, the directory of the run to continue")
    if args.resume and not (args.run_dir / AGGREGATED_FILE).exists():
        if (args.run_dir / aggregation.STATE_FILE).exists():  # a run that came with a clone: git keeps its record, not its data
            raise UserError(f"{args.run_dir} holds a DAgger run but not its {AGGREGATED_FILE}, the data it was trained on (git does not keep it, "
                            "so a cloned or copied run has none), so it cannot be resumed; run it again with --overwrite instead of --resume")
        raise UserError(f"nothing to resume in {args.run_dir}: it has no {AGGREGATED_FILE}; start the run without --resume")


def fit(model: keras.Model, trajectories: list[data.Trajectory], config: training.TrainingConfig, seed: int,
        logger: reporting.TensorBoardLogger, description: str, epoch_offset: int) -> training.TrainingResult:
    """Fit the model to all transitions, with a fresh random validation split drawn from `seed`."""
    observations, actions = data.transitions(trajectories)
    train, validation = training.split_train_validation(observations, actions, config.validation_fraction, np.random.default_rng(seed),
                                                        config.batch_size)
    callback = reporting.EpochLogger(logger, config.epochs, description, step_offset=epoch_offset)
    return training.fit_policy(model, train, validation, config, callbacks=[callback], seed=seed)


class DaggerRun:
    """One DAgger run directory: its aggregated data, policies, metrics and state."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_dir = args.run_dir or runs.default_run_dir(args.env, "dagger", args.seed)
        self.data_path = self.run_dir / AGGREGATED_FILE
        # A resumed run reads its own aggregated file; the file it started from need not exist any more.
        self.config = runs.RunConfig.from_args(args, OPTIONS, data_path=self.data_path if args.resume else None)
        self.spec, self.policy_config, self.training_config = self.config.spec, self.config.policy, self.config.training
        self.retrain_config = training.TrainingConfig(**{**vars(self.training_config), "epochs": args.retrain_epochs})
        self.expert_path = args.expert or experts.default_expert_path(args.env)
        self.expert = experts.load_expert_or_policy(self.expert_path, self.spec)  # a 2017 pickle or any .keras policy of the task
        self.expert_sha256 = provenance.file_sha256(self.expert_path)  # a resume must label with the very same expert
        if not args.resume:  # refuse bad data before claiming the directory
            demonstrations = data.read_rollouts(self.config.data, env_name=args.env)
            training.check_split(sum(t.length for t in demonstrations.trajectories), self.training_config.validation_fraction, self.config.data)
        locks.claim_run_dir(self.run_dir, resume=args.resume, overwrite=args.overwrite)
        self.logger = reporting.TensorBoardLogger(self.run_dir)  # opened by its first write: a no-op --resume adds no events file
        if args.curve_episodes > args.eval_episodes:  # not an error: --eval_episodes alone may be lowered below the default
            print(f"note: --curve_episodes {args.curve_episodes} is more than --eval_episodes {args.eval_episodes}, "
                  f"so every iteration is scored on all {args.eval_episodes} evaluation episodes")
        self.episodes: list[data.Trajectory] = []  # the aggregated file's episodes, kept as they are written: read back only to resume

    def seeds_for(self, iteration: int, count: int, exclude: list[int]) -> list[int]:
        """Episode seeds of one iteration, from a generator of (seed, iteration): a resumed iteration redoes the same episodes."""
        return rollouts.episode_seeds(np.random.default_rng([self.args.seed, iteration]), count, exclude=exclude)

    def start(self) -> tuple[keras.Model, dict, aggregation.DaggerState]:
        """Copy the expert data, clone it (iteration 0), evaluate; or pick up a run for --resume."""
        if self.args.resume:
            return self.resume()
        source = self.config.data
        whole_file = data.read_rollouts(source, env_name=self.args.env)
        demonstrations = runs.first_demonstrations(whole_file, self.args.num_demos, source)
        data.write_rollouts(self.data_path, demonstrations.trajectories, demonstrations.attributes, demonstrations.episode_attributes)
        self.episodes = list(demonstrations.trajectories)
        expert_stats = rollouts.rollout_stats(demonstrations.trajectories)
        # bc.py's run of this seed is scored on these very episodes: the expert column and the % agree across the two.
        evaluation_seeds = rollouts.evaluation_seeds(self.args.seed, self.args.eval_episodes, exclude=[t.seed for t in whole_file.trajectories])
        config = self.record()
        self.logger.text("hyperparameters", reporting.hyperparameter_table(config))
        self.logger.hparams(config)
        expert_on_evaluation, expert_returns = expert_scores.expert_returns(
            self.expert_path, self.spec, evaluation_seeds, self.args.num_envs, lambda: runs.evaluate_finite(
                self.expert, self.spec, evaluation_seeds, self.args.num_envs, f"the expert {self.expert_path}",
                "on the evaluation episodes, before iteration 0", runs.expert_hint(self.expert_path)))
        metrics = {"config": config, "source_data": {"path": str(source), "sha256": provenance.file_sha256(source),
                                                     "episodes": len(demonstrations.trajectories)},
                   "expert": {**vars(expert_on_evaluation), "returns": expert_returns},
                   "expert_in_data": vars(expert_stats), "evaluation_seeds": evaluation_seeds, "iterations": [],
                   "validation_loss_per_epoch": [], "package_versions": provenance.package_versions()}

        keras.utils.set_random_seed(self.args.seed)
        observations, actions = data.transitions(demonstrations.trajectories)
        action_dim, discrete = runs.output_dim(self.spec, actions)
        policy = models.build_policy(observations, action_dim, self.policy_config)
        training.compile_policy(policy, self.training_config, discrete)
        started = time.perf_counter()
        result = fit(policy, demonstrations.trajectories, self.training_config, self.args.seed, self.logger, f"{self.args.env} BC (iteration 0)", 0)
        state = aggregation.DaggerState(completed_iterations=-1, episodes=len(demonstrations.trajectories))
        self.finish_iteration(0, policy, result, metrics, state, demonstrations.trajectories, time.perf_counter() - started,
                              expert_labels=sum(t.length for t in demonstrations.trajectories))
        return policy, metrics, state

    def resume(self) -> tuple[keras.Model, dict, aggregation.DaggerState]:
        """Roll back to the last committed iteration: its episodes, its checkpoint and its metrics."""
        state = aggregation.DaggerState.load(self.run_dir)
        if state is None or not state.checkpoint:
            raise UserError(f"{self.run_dir} holds no completed iteration to resume from; start the run again with --overwrite")
        self.check_same_run(state.metrics["config"])
        if self.args.iterations < state.completed_iterations:  # its records would disagree: state.json and the last row say more
            raise UserError(f"--iterations {self.args.iterations} is fewer than the {state.completed_iterations} iterations {self.run_dir} "
                            f"has done; resume with --iterations {state.completed_iterations} or more")
        # --iterations may grow on resume: the record says what the run now aims at, and whether it got there.
        state.metrics["config"]["iterations"] = self.args.iterations
        state.metrics["complete"] = state.completed_iterations >= self.args.iterations
        try:
            self.episodes, dropped = aggregation.drop_unfinished_episodes(self.data_path, state.episodes)
        except UserError as error:  # the run's own data is unreadable; the reader's own advice (remake it with run_expert.py) does not apply
            problem = str(error).split(";")[0]
            raise UserError(f"{problem}: it is this run's aggregated data, so nothing can continue from it; start the run again with --overwrite") from None
        policy = models.load_keras_model(self.run_dir / state.checkpoint, "start the run again with --overwrite")  # with its optimizer state
        self.publish(state)
        print(f"resuming {self.run_dir} after iteration {state.completed_iterations}"
              + (f"; dropped {dropped} episodes of the unfinished iteration" if dropped else ""))
        return policy, state.metrics, state

    def record(self, data: Path | None = None) -> dict:
        """The run's settings as metrics.json keeps them: the shared ones, DAgger's own, --num_envs, and the expert's path and sha256."""
        expert = Path(self.expert_path).resolve()
        checkout = Path(__file__).resolve().parents[2]  # inside it, the path is recorded as the user and every Ray node spell it
        shown = expert.relative_to(checkout) if expert.is_relative_to(checkout) else self.expert_path
        return {**self.config.record(data=data), "num_envs": self.args.num_envs, "expert": str(shown), "expert_sha256": self.expert_sha256}

    def check_same_run(self, recorded: dict) -> None:
        """Refuse to resume a run with other settings than it was started with (only --iterations may grow; no --data means the run's own)."""
        source = Path(recorded["data"])
        if self.args.data is not None and cli.resolved("--data", self.args.data) != cli.resolved("the recorded data", source):
            raise UserError(f"--resume of {self.run_dir} with --data {self.args.data}, but the run started from {source}; "
                            "resume without --data (or with the run's own)")
        expected = self.record(data=source)
        if "expert_sha256" not in recorded:
            raise UserError(f"{self.run_dir} records no hash of its expert (an older dagger.py started it), so its resume cannot be checked; "
                            "start the run again with --overwrite")
        if recorded["expert_sha256"] != expected["expert_sha256"]:
            raise UserError(f"--resume of {self.run_dir} with the expert {self.expert_path}, but the run was labeled by {recorded.get('expert')} "
                            f"(another file: sha256 {recorded['expert_sha256'][:12]}…, now {expected['expert_sha256'][:12]}…); "
                            "resume with the run's own --expert")
        # The expert's path may be spelled another way; its hash, checked above, is what counts.
        differing = sorted(name for name in expected if name not in ("iterations", "expert", "expert_sha256") and recorded.get(name) != expected[name])
        if differing:
            shown = ", ".join(f"{name} was {recorded.get(name)!r}, now {expected[name]!r}" for name in differing)
            raise UserError(f"--resume of {self.run_dir} with other settings than the run's ({shown}); resume with the run's own flags")

    def iterate(self, iteration: int, policy: keras.Model, metrics: dict, state: aggregation.DaggerState) -> None:
        """Roll out, relabel, aggregate (one atomic step), retrain, evaluate."""
        started = time.perf_counter()
        beta = self.args.beta ** iteration
        driver = aggregation.mixture_policy(policy, self.expert, beta, seed=self.args.seed * 1000 + iteration)
        seeds = self.seeds_for(iteration, self.args.rollouts_per_iter,
                               exclude=metrics["evaluation_seeds"] + [t.seed for t in self.episodes])
        visited = rollouts.sample_trajectories(driver, self.spec, seeds, num_envs=self.args.num_envs)
        # Checked before the append: NaN or infinite episodes must never enter the aggregated data.
        runs.check_finite_episodes(visited, "the driving policy", f"in DAgger iteration {iteration}'s rollouts", runs.divergence_hint(self.args))
        labeled = aggregation.relabel(visited, self.expert)
        if not all(np.isfinite(t.actions).all() for t in labeled):
            raise UserError(f"the expert {self.expert_path} labeled states with NaN or infinite actions in DAgger iteration {iteration}; "
                            + runs.expert_hint(self.expert_path))
        data.append_rollouts(self.data_path, labeled, [{"dagger_iteration": iteration, "beta": beta}] * len(labeled))
        all_episodes = self.episodes = self.episodes + labeled
        keras.utils.set_random_seed(self.args.seed * 1000 + iteration)
        epoch_offset = self.training_config.epochs + (iteration - 1) * self.retrain_config.epochs
        result = fit(policy, all_episodes, self.retrain_config, self.args.seed * 1000 + iteration, self.logger,
                     f"{self.args.env} DAgger {iteration}/{self.args.iterations}", epoch_offset)
        self.finish_iteration(iteration, policy, result, metrics, state, all_episodes, time.perf_counter() - started,
                              expert_labels=metrics["iterations"][-1]["expert_labels"] + sum(t.length for t in labeled),
                              visited_return=rollouts.rollout_stats(visited).mean)

    def finish_iteration(self, iteration: int, policy: keras.Model, result: training.TrainingResult, metrics: dict,
                         state: aggregation.DaggerState, episodes: list[data.Trajectory], seconds: float, expert_labels: int,
                         visited_return: float | None = None) -> None:
        """Evaluate, save a checkpoint, commit the iteration in state.json, then publish the files derived from it."""
        # Nothing of a diverged iteration is committed: the last commit stays the run's state, with "complete": false.
        runs.check_finite_weights(policy, f"in DAgger iteration {iteration}", runs.divergence_hint(self.args))
        last = iteration >= self.args.iterations
        # The last iteration is the run's result, scored on every evaluation episode; the earlier ones draw the curve, on the first K.
        scored = metrics["evaluation_seeds"] if last else metrics["evaluation_seeds"][:self.args.curve_episodes]
        stats, evaluated = runs.evaluate_finite(policy, self.spec, scored, self.args.num_envs, "the policy",
                                                f"in the evaluation of DAgger iteration {iteration}", runs.divergence_hint(self.args))
        transitions = sum(t.length for t in episodes)
        row = {"iteration": iteration, "episodes": len(episodes), "transitions": transitions, "expert_labels": expert_labels,
               "train_loss": result.train_loss[-1], "validation_loss": result.validation_loss[-1] if result.validation_loss else None,
               "return_mean": stats.mean, "return_std": stats.std, "return_min": stats.min, "return_max": stats.max,
               "episodes_scored": stats.episodes, "falls": stats.falls,
               "expert_return_mean": float(np.mean(metrics["expert"]["returns"][:stats.episodes])),
               "driving_policy_return": visited_return, "seconds": seconds}
        metrics["iterations"].append(row)
        metrics["validation_loss_per_epoch"].append(result.validation_loss)
        # Step = expert labels so far, as bc.py logs its score: BC and DAgger share one axis in one chart.
        self.logger.scalars({"eval/return_mean": stats.mean, "eval/return_std": stats.std, "eval/expert_return_mean": row["expert_return_mean"],
                             "eval/bc_return_mean": metrics["iterations"][0]["return_mean"], "eval/falls": stats.falls,
                             "dagger/iteration": iteration, "data/transitions": transitions}, step=expert_labels)
        state.checkpoint = f"checkpoints/iteration_{iteration:03d}.keras"
        reporting.save_policy(policy, self.run_dir / state.checkpoint)
        if last:  # the run's score, laid out as bc.py's, on the same episodes as bc.py's run of this seed
            metrics["evaluation"] = {**vars(stats), "returns": [t.episode_return for t in evaluated], "seeds": scored, "iteration": iteration}
        metrics["complete"] = last
        state.completed_iterations, state.episodes, state.metrics = iteration, len(episodes), metrics
        crashpoints.reach(f"dagger:before_commit:{iteration}")
        state.save(self.run_dir)  # the commit: one atomic write that names everything the iteration produced
        crashpoints.reach(f"dagger:after_commit:{iteration}")
        self.publish(state)
        share = f"{100 * stats.mean / row['expert_return_mean']:.1f}% of the expert, " if row["expert_return_mean"] > 0 else ""
        print(f"iteration {iteration}: {len(episodes)} episodes, {transitions} transitions, "
              f"return {stats.mean:.1f} ± {stats.std:.1f} ({share}falls {stats.falls}/{stats.episodes}), {seconds:.1f} s")

    def publish(self, state: aggregation.DaggerState) -> None:
        """Rewrite the files derived from the commit record: metrics.json, the policy, the plots; drop stale checkpoints."""
        with files.atomic_path(self.run_dir / "policy.keras") as temporary:
            shutil.copyfile(self.run_dir / state.checkpoint, temporary)
        # The plots are drawn once, for the whole run (about a second each time, ten times a run); TensorBoard shows the
        # iterations as they come. A run that is not complete has none, so no plot of an unfinished run looks final.
        if state.metrics.get("complete"):
            self.plot(state.metrics)
        else:
            for name in PLOTS:
                (self.run_dir / name).unlink(missing_ok=True)
        # metrics.json last: a run killed before it says "complete" is not missing a plot.
        files.write_json(self.run_dir / "metrics.json", state.metrics)
        for path in (self.run_dir / "checkpoints").glob("*.keras"):
            if path.relative_to(self.run_dir).as_posix() != state.checkpoint:
                path.unlink()

    def plot(self, metrics: dict) -> None:
        rows = metrics["iterations"]
        plots.plot_dagger_returns(self.run_dir / PLOTS[0], self.args.env, [r["iteration"] for r in rows],
                                      [r["return_mean"] for r in rows], [r["return_std"] for r in rows],
                                      metrics["expert"]["mean"], rows[0]["return_mean"])
        losses = metrics["validation_loss_per_epoch"]
        if losses and losses[0]:
            plots.plot_validation_loss(self.run_dir / PLOTS[1], self.args.env, losses[0],
                                           [value for iteration in losses[1:] for value in iteration])


def run(args: argparse.Namespace) -> dict:
    """Run (or resume) DAgger; returns its metrics."""
    check_args(args)
    run = DaggerRun(args)
    try:
        policy, metrics, state = run.start()
        for iteration in range(state.completed_iterations + 1, args.iterations + 1):
            run.iterate(iteration, policy, metrics, state)
    finally:
        run.logger.close()
    last = metrics["iterations"][-1]
    print(f"last iteration {last['iteration']}: return {last['return_mean']:.1f} ± {last['return_std']:.1f} over {last['episodes_scored']} episodes "
          f"(falls {last['falls']}/{last['episodes_scored']}) with {last['expert_labels']} expert labels; "
          f"expert {metrics['expert']['mean']:.1f}, BC (iteration 0) {metrics['iterations'][0]['return_mean']:.1f}")
    print(f"wrote {run.run_dir}")
    return metrics
