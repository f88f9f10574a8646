"""DAgger's pieces: expert relabeling, a β-mixture of expert and learner, and the resumable state."""

import dataclasses
import json
from pathlib import Path
from typing import Any, Sequence

from cs294 import quiet_tensorflow  # noqa: F401  (first: before keras)

import keras
import numpy as np

from cs294 import data, files
from cs294.errors import UserError

STATE_FILE = "state.json"


def relabel(trajectories: Sequence[data.Trajectory], expert: keras.Model) -> list[data.Trajectory]:
    """The same episodes with every visited observation's action replaced by the expert's action.

    Observations, rewards and flags stay as the driving policy produced them.
    """
    observations = np.concatenate([t.observations[:-1] for t in trajectories])
    labels = expert.predict(observations, batch_size=8192, verbose=0)
    if labels.ndim == 2 and trajectories[0].actions.ndim == 1:  # discrete: the expert gives logits
        labels = labels.argmax(axis=-1)
    relabeled, start = [], 0
    for trajectory in trajectories:
        end = start + trajectory.length
        relabeled.append(dataclasses.replace(trajectory, actions=labels[start:end].astype(trajectory.actions.dtype)))
        start = end
    return relabeled


class _ExpertOrLearner(keras.layers.Layer):
    """Per row, the expert's output with probability beta, else the learner's."""

    def __init__(self, beta: float, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.beta = beta
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, expert_actions, learner_actions):
        draw = keras.random.uniform((keras.ops.shape(expert_actions)[0], 1), seed=self.seed_generator)
        return keras.ops.where(draw < self.beta, expert_actions, learner_actions)


def mixture_policy(learner: keras.Model, expert: keras.Model, beta: float, seed: int) -> keras.Model:
    """The policy that drives DAgger's rollouts: pi_i = beta * expert + (1 - beta) * learner, chosen per step."""
    if beta <= 0:
        return learner
    observations = keras.Input(shape=learner.input_shape[1:], name="observations")
    actions = _ExpertOrLearner(beta, seed, name="mix")(expert(observations), learner(observations))
    return keras.Model(observations, actions, name="mixture")


@dataclasses.dataclass
class DaggerState:
    """The commit record of a DAgger run: written last in each iteration, it names all that the iteration produced.

    An iteration counts as done only once this record says so. Whatever a killed iteration
    wrote beyond it (episodes, a checkpoint, files derived from the record) is rolled back or
    rewritten on resume, so a resumed run matches an uninterrupted one.
    """

    completed_iterations: int
    """Iterations finished; 0 means the initial behavioral cloning is done."""
    episodes: int
    """Episodes in the aggregated file once that iteration was done; any beyond are dropped on resume."""
    checkpoint: str = ""
    """The policy after the last completed iteration (with its optimizer state), relative to the run directory."""
    metrics: dict = dataclasses.field(default_factory=dict)
    """metrics.json as of the last completed iteration; metrics.json is rewritten from it."""

    def save(self, run_dir: Path) -> None:
        files.write_json(run_dir / STATE_FILE, dataclasses.asdict(self))

    @classmethod
    def load(cls, run_dir: Path) -> "DaggerState | None":
        path = run_dir / STATE_FILE
        if not path.exists():
            return None
        try:
            recorded = json.loads(path.read_text())
            # Older runs also recorded a "best iteration", chosen on the episodes that scored it; it is no longer kept.
            return cls(**{name: value for name, value in recorded.items() if not name.startswith("best_")})
        except (ValueError, TypeError, AttributeError) as error:
            raise UserError(f"{path} is damaged ({error}); start the run again with --overwrite") from None


def drop_unfinished_episodes(path: Path, keep: int) -> tuple[list[data.Trajectory], int]:
    """Cut the aggregated file back to its first `keep` episodes (what an unfinished iteration added): those episodes, and how many went."""
    rollouts = data.read_rollouts(path)
    extra = len(rollouts.trajectories) - keep
    if extra > 0:
        data.write_rollouts(path, rollouts.trajectories[:keep], rollouts.attributes, rollouts.episode_attributes[:keep])
    return rollouts.trajectories[:keep], max(extra, 0)
