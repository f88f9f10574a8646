"""The layouts of the studies: seed 000's Hopper architecture study, the demonstration curve and the data-efficiency study.

Each point of a study is an ordinary bc.py run; hopper_study.py and bc_curve.py run (or reuse)
them one after the other, and reproduce.py runs the very same argument lists as separate steps.
"""

import dataclasses
from pathlib import Path

SEED_000_L2 = 0.005


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """One row of seed 000's table."""

    label: str
    activation: str
    optimizer: str
    l2: float
    head: str
    published: float
    """Seed 000's 'Avg Iteration Reward'."""

    @property
    def slug(self) -> str:
        return f"{self.activation}_{self.optimizer}_l2-{self.l2:g}_{self.head}"


CONFIGS = (
    StudyConfig("Two layer tanh SGD with linear output", "tanh", "sgd", 0.0, "linear", 213.0),
    StudyConfig("Two layer tanh Adam with linear output", "tanh", "adam", 0.0, "linear", 771.34),
    StudyConfig("Two layer ReLU SGD with linear output", "relu", "sgd", 0.0, "linear", 532.0),
    StudyConfig("Two layer ReLU Adam with linear output", "relu", "adam", 0.0, "linear", 913.65),
    StudyConfig("Two layer tanh with linear output with regularization (Adam)", "tanh", "adam", SEED_000_L2, "linear", 1169.94),
    StudyConfig("Two layer ReLU with linear output with regularization (Adam)", "relu", "adam", SEED_000_L2, "linear", 1127.3),
    StudyConfig("Two layer relu with regularization with lstm output layer", "relu", "adam", SEED_000_L2, "lstm", 991.2),
)


def study_bc_argv(config: StudyConfig, seed: int, epochs: int, eval_episodes: int, data: Path | None, run_dir: Path) -> list[str]:
    """The bc.py arguments of one run of the study (reproduce.py runs the same ones as separate jobs)."""
    argv = ["Hopper-v1", "--hidden", "128,64", "--activation", config.activation, "--optimizer", config.optimizer,
            "--l2", str(config.l2), "--head", config.head, "--epochs", str(epochs), "--seed", str(seed),
            "--eval_episodes", str(eval_episodes), "--run_dir", str(run_dir)]
    return argv + (["--data", str(data)] if data else [])


def study_run_dir(results_dir: Path, config: StudyConfig, seed: int) -> Path:
    return results_dir / config.slug / f"seed{seed}"


def efficiency_run_dir(root: Path, task: str, method: str, count: int, seed: int) -> Path:
    """ROOT/<task>/efficiency/<method>/demos<N>_seed<S>: one run of the data-efficiency study (BC or DAgger from the first N rollouts)."""
    return root / task / "efficiency" / method / f"demos{count}_seed{seed}"


def curve_run_dir(output_dir: Path, count: int, seed: int) -> Path:
    return output_dir / f"demos{count}_seed{seed}"


def curve_bc_argv(env_name: str, count: int, seed: int, epochs: int, clip: float | None, eval_episodes: int, data: Path | None,
                  run_dir: Path) -> list[str]:
    """The bc.py arguments of one point of the curve (reproduce.py runs the same ones as separate jobs); clip None or 0: bc.py's default."""
    argv = [env_name, "--num_demos", str(count), "--seed", str(seed), "--epochs", str(epochs),
            *(["--clip_observations", str(clip)] if clip else []), "--eval_episodes", str(eval_episodes), "--run_dir", str(run_dir)]
    return argv + (["--data", str(data)] if data else [])
