"""What reproduce.py runs: the profiles' budgets and the plan of steps they make.

A Profile holds one reproduction's budgets (tasks, seeds, epochs, DAgger schedules, the studies,
BCO, the videos and the benchmark); Plan turns one into pipeline.Jobs, each an ordinary command of
this project with its inputs, outputs, dependencies and a cost estimate. No TensorFlow here.
"""

import dataclasses
from pathlib import Path

from cs294 import data, pipeline, studies, sweeps

SEED_002_TASKS = ("Ant-v1", "HalfCheetah-v1", "Hopper-v1", "Humanoid-v1", "Reacher-v1", "Walker2d-v1")
# The video episodes' reset seeds come from this generator seed, far from every run's own seeds.
VIDEO_SEED = 2017


@dataclasses.dataclass(frozen=True)
class Profile:
    """The budgets of one reproduction."""

    tasks: tuple[str, ...]
    seeds: tuple[int, ...]
    rollouts: dict[str, int]
    """Expert episodes per task (seed 002's counts in the full profile)."""
    bc_epochs: dict[str, int]
    dagger: dict[str, tuple[int, int]]
    """(iterations, retrain epochs) per task."""
    eval_episodes: int
    dagger_rollouts: int = 5
    """Episodes of the learner per DAgger iteration."""
    dagger_first_epochs: int | None = None
    """Epochs of DAgger's first fit (default: the task's BC epochs)."""
    study_seeds: tuple[int, ...] = ()
    study_epochs: int = 100
    curves: dict[str, tuple[tuple[int, ...], tuple[int, ...], int]] = dataclasses.field(default_factory=dict)
    """Per task: (demonstration counts, seeds, epochs)."""
    bco: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = dataclasses.field(default_factory=dict)
    """Per task: (seeds, bco.py options such as --iterations)."""
    bco_seeds: tuple[int, ...] = ()
    """The seeds of label_noise.py; its inverse model is BCO's on the first."""
    bco_budget: tuple[str, ...] = ()
    """bco.py options every BCO run gets (the tiny profile's small ensembles and epochs)."""
    label_noise: tuple[float, ...] = ()
    """Noise stds for label_noise.py on Hopper, beside BCO seed 0's inferred labels (none: no such step)."""
    benchmark_steps: int = 0
    benchmark_tasks: tuple[str, ...] = ()
    benchmark_shapes: tuple[str, ...] = ("hopper", "humanoid")
    """Data shapes of the benchmark's training section (benchmark.py --training_shapes)."""
    benchmark_trials: int = 3
    benchmark_sections: tuple[str, ...] = ("training", "fits", "policy", "loops")
    """benchmark.py --sections (the demo leaves out the fits, 25 s of its 90 s budget)."""
    benchmark_alone: bool = True
    """Run the benchmark with nothing beside it (the demo lets other steps share the cores; its ratios are interleaved, so they hold)."""
    video_tasks: tuple[str, ...] = ()
    data_max_steps: int | None = None
    """Cut expert episodes short (tiny test runs only)."""
    clip_observations: dict[str, float] = dataclasses.field(default_factory=dict)
    """bc.py's --clip_observations per task, for BC, DAgger and the curve (default: off)."""
    expert_check: tuple[tuple[str, ...], int] = ((), 0)
    """check_experts.py: the tasks and the episodes per expert (none: no such step)."""
    efficiency: tuple[int, ...] = ()
    """The data-efficiency study: BC and DAgger from the first N rollouts of each task's file, for these N below its published
    count (the published count's point is the main table's runs); the profile's seeds, DAgger schedules and evaluation."""
    efficiency_epochs: int = 100
    """Epochs of BC, and of DAgger's first fit, on the study's few rollouts."""
    efficiency_dagger: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    """DAgger's (iterations, retrain epochs) in the study, for the tasks where it is not the main table's."""


# BCO on the paper's tasks (CartPole, MountainCar, Reacher, Ant) and on Hopper and HalfCheetah: (seeds, bco.py options).
# Ant's file holds 250 episodes; BCO uses the first 10, like HalfCheetah's and Hopper's 10.
FULL_BCO = {
    "CartPole-v1": ((0, 1, 2), ("--iterations", "3")),
    "MountainCar-v0": ((0, 1, 2), ("--iterations", "3")),
    "Reacher-v1": ((0, 1, 2), ("--iterations", "10", "--selection_episodes", "10")),  # 50-step episodes: 2 would be a noisy choice
    "Hopper-v1": ((0, 1, 2, 3, 4), ("--iterations", "30")),  # iterations are cheap; the kept policy gains from more chances
    "HalfCheetah-v1": ((0, 1, 2), ("--iterations", "10")),
    "Ant-v1": ((0, 1, 2), ("--iterations", "10", "--demo_episodes", "10")),
}


def _full() -> Profile:
    rollouts = {task: data.DEMONSTRATION_ROLLOUTS[task] for task in (*SEED_002_TASKS, "CartPole-v1")} | {"MountainCar-v0": 10}
    large = {task for task, count in rollouts.items() if count >= 100}
    return Profile(
        tasks=SEED_002_TASKS, seeds=(0, 1, 2, 3, 4), rollouts=rollouts,
        # 250 rollouts hold 25x the data of 10: 10 epochs there are still 2.5x the gradient steps of 100 epochs on 10.
        bc_epochs={task: 10 if task in large else 100 for task in rollouts},
        # DAgger retrains warm, so a few epochs per iteration suffice; Reacher's 500 transitions need more passes.
        dagger={task: (5, 2) if task in large else (10, 10) if task == "Reacher-v1" else (10, 5) for task in SEED_002_TASKS},
        # 50 episodes per run show the falls that 10 hid (issue 27); the expert check plays 100.
        eval_episodes=50,
        study_seeds=(0, 1, 2), study_epochs=100,
        # Hopper's BC curve over 1, 2, 5 and 10 rollouts is the data-efficiency study's BC line.
        curves={"Humanoid-v1": ((10, 25, 50, 100, 250), (0,), 20)},
        efficiency=(1, 2, 5),
        # From a few rollouts the data is as small as the 10-rollout tasks', so every task gets their schedule; Reacher's 50-step
        # episodes add 250 states an iteration, so it gets 20. Chosen on seeds 10 and 11, whose episodes the study's seeds never
        # play: Humanoid from 2 rollouts 99.5% (5 x 2: 86%), Reacher's gap -0.2 (10 x 10: -1.2), docs/dagger.md.
        efficiency_dagger={task: (20, 10) if task == "Reacher-v1" else (10, 5) for task in SEED_002_TASKS},
        bco=FULL_BCO, bco_seeds=(0, 1, 2), label_noise=(0.1,),
        benchmark_steps=20000, benchmark_tasks=SEED_002_TASKS,
        video_tasks=SEED_002_TASKS,
        # Unclipped, a Humanoid clone once scored -1,071,294 in one episode (README); clipping costs Hopper 10%.
        clip_observations={"Humanoid-v1": 10.0},
        expert_check=((*SEED_002_TASKS, "CartPole-v1", "MountainCar-v0"), 100),
    )


def _paper() -> Profile:
    """Seed 002's budgets, five seeds: BC 100 epochs on every task; DAgger 40 epochs in all, as ten fits of 4 epochs.

    Only the Expert / BC / DAgger table: the study, the curves, BCO, the expert check and the videos would be
    the full profile's steps run again to the same numbers, so they stay there.
    """
    full = _full()
    return Profile(tasks=SEED_002_TASKS, seeds=(0, 1, 2, 3, 4), rollouts={task: full.rollouts[task] for task in SEED_002_TASKS},
                   bc_epochs={task: 100 for task in SEED_002_TASKS}, dagger={task: (9, 4) for task in SEED_002_TASKS},
                   dagger_first_epochs=4, eval_episodes=full.eval_episodes, clip_observations=full.clip_observations)


PROFILES = {
    "full": _full(),
    "paper": _paper(),
    "demo": Profile(
        tasks=("Hopper-v1",), seeds=(0,), rollouts={"Hopper-v1": 10, "CartPole-v1": 5},
        bc_epochs={"Hopper-v1": 30, "CartPole-v1": 30}, dagger={"Hopper-v1": (3, 5)}, eval_episodes=5,
        study_seeds=(0,), study_epochs=20, curves={"Hopper-v1": ((1, 5, 10), (0,), 30)},
        bco={"CartPole-v1": ((0,), ("--iterations", "1"))}, bco_seeds=(0,), bco_budget=("--ensemble", "3", "--inverse_ensemble", "2"),
        benchmark_steps=2000, benchmark_tasks=("Hopper-v1",), benchmark_alone=False,
        benchmark_shapes=("hopper",), benchmark_trials=1, benchmark_sections=("training", "policy", "loops"), video_tasks=("Hopper-v1",), expert_check=(("Hopper-v1", "CartPole-v1"), 10),
        efficiency=(1,), efficiency_epochs=30,
    ),
    # For the test suite and the backend benchmark: every stage, with tiny budgets and nothing learned, in about a minute.
    "tiny": Profile(
        tasks=("Hopper-v1",), seeds=(0,), rollouts={"Hopper-v1": 2, "CartPole-v1": 2}, bc_epochs={"Hopper-v1": 2, "CartPole-v1": 2},
        dagger={"Hopper-v1": (1, 1)}, eval_episodes=1, dagger_rollouts=1, data_max_steps=100,
        study_seeds=(0,), study_epochs=1, curves={"Hopper-v1": ((1, 2), (0,), 1)}, bco={"CartPole-v1": ((0,), ("--iterations", "1"))}, bco_seeds=(0,),
        bco_budget=("--epochs", "2", "--inverse_epochs", "1", "--inverse_retrain_epochs", "1", "--retrain_epochs", "1", "--ensemble", "2",
                    "--inverse_ensemble", "1", "--selection_episodes", "1"),
        benchmark_steps=200, benchmark_tasks=("Hopper-v1",), benchmark_shapes=("hopper",), benchmark_trials=1, expert_check=(("CartPole-v1",), 2),
        efficiency=(1,), efficiency_epochs=2,
    ),
}


class Plan:
    """The jobs of one profile, with the paths they share."""

    def __init__(self, profile: Profile, root: Path, data_dir: Path, videos: bool) -> None:
        self.profile, self.root, self.data_dir = profile, root, data_dir
        self.jobs: list[pipeline.Job] = []
        self.videos = videos

    def add(self, **fields) -> str:
        job = pipeline.Job(**fields)
        self.jobs.append(job)
        return job.name

    def data_path(self, task: str) -> Path:
        return self.data_dir / f"{task}_{self.profile.rollouts[task]}_rollouts.h5"

    def expert_data(self, task: str) -> str:
        name = f"data/{task}"
        if not any(job.name == name for job in self.jobs):
            self.jobs.append(sweeps.data_job(task, self.profile.rollouts[task], self.data_dir, self.profile.data_max_steps))
        return name

    def clip_args(self, task: str) -> list[str]:
        clip = self.profile.clip_observations.get(task)
        return ["--clip_observations", str(clip)] if clip else []

    def run_dir(self, task: str, method: str, seed: int) -> Path:
        return self.root / task / method / f"seed{seed}"

    def bc(self, task: str, seed: int, stage: str = "BC") -> str:
        p = self.profile
        args = [task, "--data", str(self.data_path(task)), "--epochs", str(p.bc_epochs[task]), "--seed", str(seed),
                "--eval_episodes", str(p.eval_episodes), "--run_dir", str(self.run_dir(task, "bc", seed)), *self.clip_args(task)]
        return self.add(name=f"bc/{task}/seed{seed}", script="bc.py", args=args, output=self.run_dir(task, "bc", seed), stage=stage,
                        deps=(self.expert_data(task),), inputs=(self.data_path(task),), cost=30 + p.rollouts[task] * 0.3)

    def bc_for_bco(self, task: str, seed: int) -> None:
        """The BCO table's "BC with the true actions", on the demonstrations BCO saw.

        The main table's tasks have their BC runs; where BCO uses only the first N episodes of the
        file (--demo_episodes), BC gets the same N in results/<task>/bc_bco/.
        """
        options = self.profile.bco[task][1]
        if "--demo_episodes" in options:
            count, run_dir = options[options.index("--demo_episodes") + 1], self.run_dir(task, "bc_bco", seed)
            args = [task, "--data", str(self.data_path(task)), "--num_demos", count, "--epochs", "100", "--seed", str(seed),
                    "--eval_episodes", str(self.profile.eval_episodes), "--run_dir", str(run_dir)]
            self.add(name=f"bc_bco/{task}/seed{seed}", script="bc.py", args=args, output=run_dir, stage="BCO",
                     deps=(self.expert_data(task),), inputs=(self.data_path(task),), cost=40)
        elif task not in self.profile.tasks:
            self.bc(task, seed, stage="BCO")

    def dagger(self, task: str, seed: int) -> str:
        p = self.profile
        iterations = p.dagger[task][0]
        run_dir = self.run_dir(task, "dagger", seed)
        args = [task, "--data", str(self.data_path(task)), *self.dagger_schedule(task, p.dagger_first_epochs or p.bc_epochs[task]),
                "--seed", str(seed), "--eval_episodes", str(p.eval_episodes), "--run_dir", str(run_dir), *self.clip_args(task)]
        return self.add(name=f"dagger/{task}/seed{seed}", script="dagger.py", args=args, output=run_dir, stage="DAgger",
                        deps=(self.expert_data(task),), inputs=(self.data_path(task), Path("experts") / f"{task}.pkl"),
                        cost=60 + iterations * (15 if task in ("Ant-v1", "Humanoid-v1", "Walker2d-v1") else 6),
                        **pipeline.DAGGER_RESUME)

    def dagger_schedule(self, task: str, first_epochs: int, schedule: tuple[int, int] | None = None) -> list[str]:
        """dagger.py's schedule flags of this profile for one task (or the given (iterations, retrain epochs))."""
        iterations, retrain_epochs = schedule or self.profile.dagger[task]
        args = ["--epochs", str(first_epochs), "--iterations", str(iterations), "--retrain_epochs", str(retrain_epochs)]
        return args + (["--rollouts_per_iter", str(self.profile.dagger_rollouts)] if self.profile.dagger_rollouts != 5 else [])

    def efficiency(self, task: str) -> None:
        """BC and DAgger from the first N expert rollouts, each seed, for the study's N below the published count."""
        p = self.profile
        for count in (n for n in p.efficiency if n < p.rollouts[task]):
            for seed in p.seeds:
                for method, script in (("bc", "bc.py"), ("dagger", "dagger.py")):
                    run_dir = studies.efficiency_run_dir(self.root, task, method, count, seed)
                    args = [task, "--data", str(self.data_path(task)), "--num_demos", str(count), "--seed", str(seed),
                            "--eval_episodes", str(p.eval_episodes), "--run_dir", str(run_dir), *self.clip_args(task)]
                    schedule = p.efficiency_dagger.get(task)
                    args += self.dagger_schedule(task, p.efficiency_epochs, schedule) if method == "dagger" else ["--epochs", str(p.efficiency_epochs)]
                    inputs = (self.data_path(task),) + ((Path("experts") / f"{task}.pkl",) if method == "dagger" else ())
                    self.add(name=f"efficiency/{task}/{method}/demos{count}_seed{seed}", script=script, args=args, output=run_dir,
                             stage="data efficiency", deps=(self.expert_data(task),), inputs=inputs,
                             cost=20 + p.efficiency_epochs * count * 0.05 + ((schedule or p.dagger[task])[0] * 10 if method == "dagger" else 0),
                             **(pipeline.DAGGER_RESUME if method == "dagger" else {}))

    def study(self) -> None:
        p, task = self.profile, "Hopper-v1"
        results_dir = self.root / task / "architecture_study"
        names = []
        for config in studies.CONFIGS:
            for seed in p.study_seeds:
                run_dir = studies.study_run_dir(results_dir, config, seed)
                args = studies.study_bc_argv(config, seed, p.study_epochs, p.eval_episodes, self.data_path(task), run_dir)
                names.append(self.add(name=f"study/{config.slug}/seed{seed}", script="bc.py", args=args, output=run_dir, stage="Hopper study",
                                      deps=(self.expert_data(task),), inputs=(self.data_path(task),), cost=25))
        args = ["--seeds", ",".join(map(str, p.study_seeds)), "--data", str(self.data_path(task)), "--epochs", str(p.study_epochs),
                "--eval_episodes", str(p.eval_episodes), "--results_dir", str(results_dir), "--output", str(self.root / "hopper_architectures.md"),
                "--reuse_only"]
        self.add(name="study/table", script="hopper_study.py", args=args, output=self.root / "hopper_architectures.md", stage="Hopper study",
                 deps=tuple(names), inputs=(self.data_path(task),), cost=10)

    def curve(self, task: str) -> None:
        counts, seeds, epochs = self.profile.curves[task]
        output_dir = self.root / task / "bc_curve"
        clip = self.profile.clip_observations.get(task)  # None: bc.py's and bc_curve.py's own default
        names = []
        for count in counts:
            for seed in seeds:
                run_dir = studies.curve_run_dir(output_dir, count, seed)
                args = studies.curve_bc_argv(task, count, seed, epochs, clip, self.profile.eval_episodes, self.data_path(task), run_dir)
                names.append(self.add(name=f"curve/{task}/demos{count}_seed{seed}", script="bc.py", args=args, output=run_dir,
                                      stage="BC curves", deps=(self.expert_data(task),), inputs=(self.data_path(task),), cost=10 + count * epochs * 0.02))
        args = [task, "--num_demos", ",".join(map(str, counts)), "--seeds", ",".join(map(str, seeds)), "--epochs", str(epochs),
                *(["--clip_observations", str(clip)] if clip else []), "--eval_episodes", str(self.profile.eval_episodes),
                "--data", str(self.data_path(task)), "--output_dir", str(output_dir), "--reuse_only"]
        self.add(name=f"curve/{task}/table", script="bc_curve.py", args=args, output=output_dir / "bc_curve.md", stage="BC curves",
                 extra_outputs=(output_dir / "bc_curve.json", output_dir / "bc_curve.png"),
                 deps=tuple(names), inputs=(self.data_path(task),), cost=10)

    def bco(self, task: str, seed: int) -> str:
        run_dir = self.run_dir(task, "bco", seed)
        options = self.profile.bco[task][1]
        iterations = int(options[options.index("--iterations") + 1]) if "--iterations" in options else 10
        args = [task, "--demos", str(self.data_path(task)), *options, "--seed", str(seed), "--eval_episodes", str(self.profile.eval_episodes),
                "--run_dir", str(run_dir), *self.profile.bco_budget]
        return self.add(name=f"bco/{task}/seed{seed}", script="bco.py", args=args, output=run_dir, stage="BCO",
                        deps=(self.expert_data(task),), inputs=(self.data_path(task), Path("experts") / f"{task}.pkl"),
                        cost=60 + 25 * iterations)

    def label_noise(self, task: str = "Hopper-v1") -> None:
        """Cloning with true, noisy and BCO-inferred labels, with one member and with five."""
        seed = self.profile.bco_seeds[0]
        inverse = self.run_dir(task, "bco", seed) / "inverse_dynamics.keras"
        output = self.root / task / "label_noise.md"
        args = [task, "--data", str(self.data_path(task)), "--noise", ",".join(map(str, self.profile.label_noise)), "--inverse", str(inverse),
                "--ensemble", "1,5", "--seeds", ",".join(map(str, self.profile.bco_seeds)), "--eval_episodes", str(self.profile.eval_episodes),
                "--output", str(output)]
        self.add(name=f"label_noise/{task}", script="label_noise.py", args=args, output=output, stage="BCO", extra_outputs=(output.with_suffix(".json"),),
                 deps=(self.expert_data(task), f"bco/{task}/seed{seed}"), inputs=(self.data_path(task), inverse), cost=900)

    def expert_check(self) -> None:
        """Each expert over N episodes on reset seeds 0..N-1, beside its published return."""
        tasks, episodes = self.profile.expert_check
        output = self.root / "expert_check"
        args = ["--tasks", ",".join(tasks), "--episodes", str(episodes), "--output", str(output / "experts.md")]
        self.add(name="expert_check", script="check_experts.py", args=args, output=output, stage="expert check",
                 inputs=tuple(Path("experts") / f"{task}.pkl" for task in tasks), cost=episodes * len(tasks) * 0.3)

    def benchmark(self) -> None:
        output = self.root / "benchmark.md"
        args = ["--envs", ",".join(self.profile.benchmark_tasks), "--steps", str(self.profile.benchmark_steps),
                "--training_shapes", ",".join(self.profile.benchmark_shapes), "--trials", str(self.profile.benchmark_trials),
                "--sections", ",".join(self.profile.benchmark_sections), "--output", str(output)]
        self.add(name="benchmark", script="benchmark.py", args=args, output=output, stage="speed benchmark", extra_outputs=(output.with_suffix(".json"),),
                 cost=20 + self.profile.benchmark_steps * len(self.profile.benchmark_tasks) / 1000, exclusive=self.profile.benchmark_alone)

    def video(self, task: str) -> None:
        """One episode each of the expert, BC (seed 0) and DAgger (seed 0), on the same reset seed, side by side."""
        sources, names = [], []
        seed = self.profile.seeds[0]
        policies = {"expert": (Path("experts") / f"{task}.pkl", self.expert_data(task)),
                    "BC": (self.run_dir(task, "bc", seed) / "policy.keras", f"bc/{task}/seed{seed}"),
                    "DAgger": (self.run_dir(task, "dagger", seed) / "policy.keras", f"dagger/{task}/seed{seed}")}
        for label, (policy, producer) in policies.items():
            episode = self.root / "videos" / "episodes" / f"{task}_{label}.h5"
            args = [str(policy), task, "--num_rollouts", "1", "--seed", str(VIDEO_SEED), "--output", str(episode)]
            names.append(self.add(name=f"video/{task}/{label}", script="run_expert.py", args=args, output=episode, stage="videos",
                                  deps=(producer,), inputs=(policy,), cost=8))
            sources.append(episode)
        output = self.root / "videos" / f"{task}.mp4"
        args = [*map(str, sources), "--labels", ",".join(policies), "--output", str(output), "--gif", str(output.with_suffix(".gif"))]
        if task == "Reacher-v1":  # 50-step episodes: every step, or the clip lasts half a second
            args += ["--frame_skip", "1"]
        self.add(name=f"video/{task}", script="render_video.py", args=args, output=output, stage="videos", extra_outputs=(output.with_suffix(".gif"),),
                 deps=tuple(names), inputs=tuple(sources), cost=15)

    def build(self) -> list[pipeline.Job]:
        p = self.profile
        if p.benchmark_steps:
            self.benchmark()
        if p.expert_check[1]:
            self.expert_check()
        for task in p.tasks:
            for seed in p.seeds:
                self.bc(task, seed)
                self.dagger(task, seed)
        for task in p.tasks if p.efficiency else ():
            self.efficiency(task)
        if p.study_seeds:
            self.study()
        for task in p.curves:
            self.curve(task)
        for task, (seeds, _) in p.bco.items():
            for seed in seeds:
                self.bco(task, seed)
                self.bc_for_bco(task, seed)
        if p.label_noise and "Hopper-v1" in p.bco:
            self.label_noise()
        if self.videos:
            for task in p.video_tasks:
                self.video(task)
        return self.jobs
