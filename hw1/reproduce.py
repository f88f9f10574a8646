"""Reproduce every table, plot and video of this project in one command, then write REPORT.md.

    python hw1/reproduce.py                  # everything: six tasks, three seeds (results/)
    python hw1/reproduce.py --profile demo   # a short version of every stage (results/demo/)

Stages: the speed benchmark; expert data with seed 002's rollout counts; BC and DAgger on six
tasks over three seeds; seed 000's Hopper architecture study; BC against the number of
demonstrations on Hopper and Humanoid; BCO on six tasks (CartPole, MountainCar, Reacher, Hopper,
HalfCheetah and Ant), with its table and plot; videos of the
expert, BC and DAgger; and the report, ROOT/REPORT.md. Every step is an ordinary command of
this project (the report lists them), run in its own process, two at a time on two cores.

Steps are cached by their inputs: the arguments, the content of the files they read, the code
they run and the package versions. Running the command again skips what is done and redoes what
changed; after an interruption it continues where it stopped (DAgger resumes mid-run). --dry_run
lists what would run. Each step's output goes to ROOT/reproduce/logs/.
"""

import argparse
import dataclasses
import os
import platform
import subprocess
import sys
from pathlib import Path

from cs294 import cli, data, forecast, locks, models, pipeline, report, studies, sweeps
from cs294.errors import UserError

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
        tasks=SEED_002_TASKS, seeds=(0, 1, 2), rollouts=rollouts,
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
        bco={"CartPole-v1": ((0,), ("--iterations", "1"))}, bco_seeds=(0,), benchmark_steps=5000, benchmark_tasks=("Hopper-v1",),
        benchmark_shapes=("hopper",), video_tasks=("Hopper-v1",), expert_check=(("Hopper-v1", "CartPole-v1"), 10),
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
                        resume_args=("--resume",), resume_marker="state.json")

    def dagger_schedule(self, task: str, first_epochs: int) -> list[str]:
        """dagger.py's schedule flags of this profile for one task."""
        iterations, retrain_epochs = self.profile.dagger[task]
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
                    args += self.dagger_schedule(task, p.efficiency_epochs) if method == "dagger" else ["--epochs", str(p.efficiency_epochs)]
                    inputs = (self.data_path(task),) + ((Path("experts") / f"{task}.pkl",) if method == "dagger" else ())
                    self.add(name=f"efficiency/{task}/{method}/demos{count}_seed{seed}", script=script, args=args, output=run_dir,
                             stage="data efficiency", deps=(self.expert_data(task),), inputs=inputs,
                             cost=20 + p.efficiency_epochs * count * 0.05 + (p.dagger[task][0] * 10 if method == "dagger" else 0),
                             **({"resume_args": ("--resume",), "resume_marker": "state.json"} if method == "dagger" else {}))

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
        clip = self.profile.clip_observations.get(task, models.PolicyConfig().observation_clip)
        names = []
        for count in counts:
            for seed in seeds:
                run_dir = studies.curve_run_dir(output_dir, count, seed)
                args = studies.curve_bc_argv(task, count, seed, epochs, clip, self.profile.eval_episodes, self.data_path(task), run_dir)
                names.append(self.add(name=f"curve/{task}/demos{count}_seed{seed}", script="bc.py", args=args, output=run_dir,
                                      stage="BC curves", deps=(self.expert_data(task),), inputs=(self.data_path(task),), cost=10 + count * epochs * 0.02))
        args = [task, "--num_demos", ",".join(map(str, counts)), "--seeds", ",".join(map(str, seeds)), "--epochs", str(epochs),
                "--clip_observations", str(clip), "--eval_episodes", str(self.profile.eval_episodes), "--data", str(self.data_path(task)),
                "--output_dir", str(output_dir), "--reuse_only"]
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
                "--training_shapes", ",".join(self.profile.benchmark_shapes), "--trials", str(self.profile.benchmark_trials), "--output", str(output)]
        self.add(name="benchmark", script="benchmark.py", args=args, output=output, stage="speed benchmark", extra_outputs=(output.with_suffix(".json"),),
                 cost=self.profile.benchmark_steps * len(self.profile.benchmark_tasks) / 1000, exclusive=True)

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


def rendering_problem() -> str | None:
    """None if offscreen rendering works here, else why not (checked in a process without TensorFlow)."""
    check = subprocess.run([sys.executable, str(Path(__file__).with_name("render_video.py")), "--check"],
                           capture_output=True, text=True, timeout=120)
    return None if check.returncode == 0 else (check.stderr.strip().splitlines() or ["unknown error"])[-1]


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("reproduce.py", __doc__)
    what = parser.add_argument_group("what to run")
    where = parser.add_argument_group("where it runs")
    mode = parser.add_argument_group("modes")
    what.add_argument("--profile", choices=tuple(PROFILES), default="full",
        help="full (default), paper (seed 002's budgets, five seeds), demo (a few minutes), or tiny (every stage in about a minute)")
    what.add_argument("--root", type=Path, default=None, help="where runs and REPORT.md go (default: results for full, results/demo for demo)")
    what.add_argument("--data_dir", type=Path, default=None, help="where expert rollouts go (default: data for full, data/demo for demo)")
    where.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="steps run side by side (default: the number of cores)")
    where.add_argument("--backend", choices=("local", "ray"), default="local",
        help="local: subprocesses of this machine (default); ray: tasks on a Ray cluster (see --address)")
    where.add_argument("--address", default=None,
        help="with --backend ray: HOST:PORT of a running cluster's head, or auto (default: start a private Ray instance for this run)")
    where.add_argument("--address_timeout", type=float, default=30.0,
        help="with --address HOST:PORT: seconds to wait for the Ray head to answer before giving up (default: 30)")
    where.add_argument("--place", action="append", default=[], metavar="STEP_PREFIX=RESOURCE",
        help="with --backend ray: run the steps whose names start with STEP_PREFIX only on nodes that declare the custom resource")
    what.add_argument("--only", default=None, metavar="PREFIXES",
        help="run only the steps whose names start with one of these comma-separated prefixes, and the steps they need (e.g. bco/,study/)")
    what.add_argument("--no_videos", action="store_true", help="skip the videos")
    mode.add_argument("--dry_run", action="store_true", help="list the steps and whether each is cached, and predict the wall time; run nothing")
    mode.add_argument("--workers", default="1,2,4,8,16,32", help="with --dry_run: the numbers of steps side by side to predict the wall time for")
    mode.add_argument("--report_only", action="store_true", help="rewrite REPORT.md from the finished steps, run nothing")
    return parser


def default_dirs(args: argparse.Namespace) -> tuple[Path, Path]:
    if args.profile == "full":
        return args.root or Path("results"), args.data_dir or Path("data")
    if args.profile in ("demo", "paper"):
        return args.root or Path(f"results/{args.profile}"), args.data_dir or Path(f"data/{args.profile}")
    if args.root is None or args.data_dir is None:
        raise UserError("--profile tiny needs --root and --data_dir (it is meant for tests)")
    return args.root, args.data_dir


def command_text(args: argparse.Namespace) -> str:
    """The command that reproduces this report."""
    words = ["python", "hw1/reproduce.py", "--profile", args.profile]
    for flag in ("root", "data_dir"):
        if getattr(args, flag) is not None:
            words += [f"--{flag}", str(getattr(args, flag))]
    if args.only:
        words += ["--only", args.only]
    return " ".join(words + (["--no_videos"] if args.no_videos else []))


def only(jobs: list[pipeline.Job], prefixes: str | None) -> list[pipeline.Job]:
    """The steps named by --only and every step they need, in plan order."""
    if prefixes is None:
        return jobs
    wanted = [prefix for prefix in prefixes.split(",") if prefix]
    by_name = {job.name: job for job in jobs}
    keep = {job.name for job in jobs if any(job.name.startswith(prefix) for prefix in wanted)}
    if not keep:
        raise UserError(f"--only {prefixes}: no step's name starts with that; `--dry_run` lists the steps")
    todo = list(keep)
    while todo:
        for dep in by_name[todo.pop()].deps:
            if dep not in keep:
                keep.add(dep)
                todo.append(dep)
    return [job for job in jobs if job.name in keep]


def predicted_costs(runner: pipeline.Runner, args: argparse.Namespace) -> tuple[dict[str, float], str]:
    """Each step's seconds: its own measured time, else scaled from the full profile's measured step; and where they came from."""
    own = {name for name, job in runner.jobs.items() if (pipeline.read_stamp(runner.state_dir, job) or {}).get("status") == "done"}
    reference = Plan(PROFILES["full"], Path("results"), Path("data"), videos=True).build()
    scaled, matched = forecast.scaled_costs(list(runner.jobs.values()), reference, Path("results") / "reproduce")
    costs = {name: runner.costs[name] if name in own else scaled[name] for name in runner.jobs}
    borrowed = len([name for name in runner.jobs if name not in own]) if args.profile != "full" else 0
    source = (f"{len(own)} of {len(runner.jobs)} step times measured in this profile's earlier runs"
              + (f", {min(matched, borrowed)} scaled from the full profile's measured steps (results/reproduce)" if borrowed else "")
              + ", the plan's estimates for the rest")
    return costs, source


def dry_run(runner: pipeline.Runner, args: argparse.Namespace) -> dict:
    """List the steps and whether each is cached, and predict a clean start's wall time for several numbers of workers."""
    try:
        workers = [int(word) for word in args.workers.split(",")]
    except ValueError:
        raise UserError(f"--workers {args.workers!r}: give whole numbers separated by commas, e.g. 1,2,4") from None
    if not workers or min(workers) < 1:
        raise UserError(f"--workers {args.workers!r}: every number must be at least 1")
    for job, state in runner.plan():
        print(f"{state:7s} {job.name}: {pipeline.command_text(job)}")
    costs, source = predicted_costs(runner, args)
    predictions = {count: pipeline.predict_wall_time(runner.jobs, costs, count) for count in workers}
    print(f"{len(runner.jobs)} steps, {sum(costs.values()) / 60:.1f} min of step time ({source}).")
    print("predicted wall time of a clean start: " + ", ".join(f"{count} workers {seconds / 60:.1f} min" for count, seconds in predictions.items()))
    return {"jobs": len(runner.jobs), "predicted_seconds": predictions, "step_seconds": sum(costs.values())}


def placements(args: argparse.Namespace) -> dict[str, str]:
    """--place STEP_PREFIX=RESOURCE, checked."""
    found = {}
    for word in args.place:
        prefix, _, resource = word.partition("=")
        if not prefix or not resource:
            raise UserError(f"--place {word!r}: give STEP_PREFIX=RESOURCE, e.g. --place bco/=big_memory")
        found[prefix] = resource
    if found and args.backend != "ray":
        raise UserError("--place needs --backend ray")
    return found


def run_steps(runner: pipeline.Runner, args: argparse.Namespace, root: Path) -> pipeline.Outcome:
    """Run the steps that are not cached, on this machine or on a Ray cluster."""
    if args.backend == "local":
        print(f"{len(runner.jobs)} steps, {args.jobs} at a time; logs in {root / 'reproduce' / 'logs'}")
        return runner.run()
    from cs294 import cluster  # imports Ray

    if locks.is_locked(runner.state_dir):  # refuse a second runner before it joins the cluster, not after
        raise UserError(f"{runner.state_dir} is in use by {locks.holder(runner.state_dir)}; wait for that run to end, or use another --root")
    runner.backend = cluster.connect(args.address, timeout=args.address_timeout)
    try:
        runner.backend.place(placements(args))
        print(f"{len(runner.jobs)} steps on Ray, {runner.backend.workers} at a time; logs in {root / 'reproduce' / 'logs'}")
        return runner.run()
    finally:
        runner.backend.close()


def main(args: argparse.Namespace) -> dict:
    """Plan the steps, run those not cached, write the report; returns the outcome."""
    if args.jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {args.jobs}")
    cli.check_ray_address(args.address, args.backend, args.address_timeout)
    placements(args)
    checkout = Path(__file__).resolve().parents[1]
    for flag in ("root", "data_dir"):  # a relative path means one under the current directory, as for any command
        if getattr(args, flag) is not None:
            setattr(args, flag, pipeline.checkout_relative(getattr(args, flag)))
    os.chdir(checkout)  # every path in a step's command is relative to the checkout
    root, data_dir = default_dirs(args)
    profile = PROFILES[args.profile]
    video_problem = None
    if profile.video_tasks and not args.no_videos and not args.dry_run and not args.report_only:
        video_problem = rendering_problem()
        if video_problem:
            print(f"videos skipped: {video_problem}")
    jobs = only(Plan(profile, root, data_dir, videos=bool(profile.video_tasks) and not args.no_videos and video_problem is None).build(), args.only)
    # One math thread per process: with one process per core, more threads only fight over the cores.
    threads = pipeline.thread_env(1) if args.jobs > 1 else {}
    env = {**threads, "TQDM_DISABLE": "1", "PYTHONWARNINGS": "ignore"}
    runner = pipeline.Runner(jobs, root / "reproduce", pipeline.LocalBackend(args.jobs), env=env)
    if args.dry_run:
        return dry_run(runner, args)
    if args.report_only:
        outcome = pipeline.Outcome(cached=[job.name for job, state in runner.plan() if state == "cached"])
    else:
        outcome = run_steps(runner, args, root)
    context = report.Context(command=command_text(args), profile=args.profile, profile_settings=dataclasses.asdict(profile), root=root, jobs=jobs,
                             outcome=outcome, video_problem=video_problem if profile.video_tasks else "this profile makes no videos",
                             machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    report_path = report.write_report(context)
    print(f"{len(outcome.ran)} steps ran, {len(outcome.cached)} were cached, in {outcome.seconds:.0f} s; wrote {report_path}")
    if outcome.failed or outcome.skipped:
        raise UserError(f"{len(outcome.failed)} steps failed ({', '.join(outcome.failed)}) and {len(outcome.skipped)} could not run; "
                        f"see their logs in {root / 'reproduce' / 'logs'}, fix, and run the same command again")
    return {"ran": outcome.ran, "cached": outcome.cached, "report": report_path}


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
