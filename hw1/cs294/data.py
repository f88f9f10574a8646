"""The trajectory type and the one HDF5 reader and writer for rollout files."""

import contextlib
import dataclasses
import functools
import io
import json
import shutil
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import h5py
import numpy as np

from cs294.errors import UserError
from cs294.files import atomic_path

FORMAT_NAME = "cs294-hw1-rollouts"
FORMAT_VERSION = 1
# Attributes every rollout file carries; the writer refuses to write a file without them.
REQUIRED_ATTRIBUTES = ("env_name", "gym_id", "gym_kwargs", "policy", "policy_sha256", "seed", "package_versions")
# Written since the 2017 dynamics came back (EnvSpec.dynamics); a file without it was recorded before.
WRITTEN_ATTRIBUTES = (*REQUIRED_ATTRIBUTES, "dynamics")
# Expert rollouts per task in seed 002's reward table (CartPole: this project's choice); bc.py,
# dagger.py and bco.py default to these files.
DEMONSTRATION_ROLLOUTS = {"Ant-v1": 250, "HalfCheetah-v1": 10, "Hopper-v1": 10, "Humanoid-v1": 250, "Reacher-v1": 10,
                          "Walker2d-v1": 250, "CartPole-v1": 10}
EPISODE_FIELDS = ("observations", "actions", "rewards", "terminations", "truncations")
# The reset seed of an episode whose seed is not known (an import from Minari writes it); every other seed is non-negative.
UNKNOWN_SEED = -1


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """One episode: T steps, with the T+1 observations so that every (s, a, s') triple is there."""

    observations: np.ndarray
    """(T+1, obs_dim) float32: the reset observation, then the one after each step."""
    actions: np.ndarray
    """(T, act_dim) float32 for continuous actions, (T,) int64 for discrete ones."""
    rewards: np.ndarray
    """(T,) float64."""
    terminations: np.ndarray
    """(T,) bool: the episode ended inside the task (the hopper fell); only the last can be True."""
    truncations: np.ndarray
    """(T,) bool: the episode was cut by the time limit; only the last can be True."""
    seed: int
    """The seed the episode's reset used."""

    def __post_init__(self) -> None:
        steps = len(self.actions)
        expected = {
            "observations": (self.observations, steps + 1, 2),
            "rewards": (self.rewards, steps, 1),
            "terminations": (self.terminations, steps, 1),
            "truncations": (self.truncations, steps, 1),
        }
        for name, (array, length, ndim) in expected.items():
            if array.ndim != ndim or len(array) != length:
                raise ValueError(f"{name} has shape {array.shape}; with {steps} actions it needs {length} rows")
        if self.actions.ndim not in (1, 2):
            raise ValueError(f"actions have shape {self.actions.shape}; expected (T,) or (T, act_dim)")
        if steps == 0:
            raise ValueError("an episode needs at least one step")
        for name in ("terminations", "truncations"):
            if getattr(self, name)[:-1].any():
                raise ValueError(f"{name} is set before the last step")

    @property
    def length(self) -> int:
        return len(self.actions)

    @property
    def episode_return(self) -> float:
        return float(self.rewards.sum())


def make_trajectory(
    *,
    observations: Sequence | np.ndarray,
    actions: Sequence | np.ndarray,
    rewards: Sequence | np.ndarray,
    terminations: Sequence | np.ndarray,
    truncations: Sequence | np.ndarray,
    seed: int,
) -> Trajectory:
    """Build a Trajectory, casting each field to the dtype the file format uses."""
    actions = np.asarray(actions)
    action_dtype = np.int64 if actions.dtype.kind in "iu" else np.float32
    return Trajectory(
        observations=np.asarray(observations, dtype=np.float32),
        actions=actions.astype(action_dtype),
        rewards=np.asarray(rewards, dtype=np.float64),
        terminations=np.asarray(terminations, dtype=bool),
        truncations=np.asarray(truncations, dtype=bool),
        seed=int(seed),
    )


@dataclasses.dataclass(frozen=True)
class Rollouts:
    """The episodes of one rollout file and its attributes."""

    trajectories: list[Trajectory]
    attributes: dict[str, Any]
    episode_attributes: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    """Per episode, the attributes of its group besides `seed` (DAgger records its iteration there)."""


def transitions(trajectories: Sequence[Trajectory]) -> tuple[np.ndarray, np.ndarray]:
    """All (observation, action) pairs of the episodes, stacked: the supervised data of cloning."""
    observations = np.concatenate([t.observations[:-1] for t in trajectories])
    actions = np.concatenate([t.actions for t in trajectories])
    return observations, actions


def default_rollouts_path(env_name: str, num_rollouts: int) -> Path:
    """Where run_expert.py writes rollouts unless told otherwise, and where bc.py looks for them."""
    return Path("data") / f"{env_name}_{num_rollouts}_rollouts.h5"


def _episode_name(index: int) -> str:
    return f"episode_{index:06d}"


def write_rollouts(
    path: str | Path,
    trajectories: Sequence[Trajectory],
    attributes: Mapping[str, Any],
    episode_attributes: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """Write episodes and attributes to an HDF5 file atomically: a temporary name, then a rename."""
    missing = [name for name in WRITTEN_ATTRIBUTES if name not in attributes]
    if missing:
        raise ValueError(f"rollout attributes lack {missing}")
    if not trajectories:
        raise ValueError("no episodes to write")
    with _hdf5_image(path) as file:
        file.attrs["format"] = FORMAT_NAME
        file.attrs["format_version"] = FORMAT_VERSION
        _set_attributes(file.attrs, attributes)
        _write_episodes(file, 0, trajectories, episode_attributes)


def append_rollouts(
    path: str | Path,
    trajectories: Sequence[Trajectory],
    episode_attributes: Sequence[Mapping[str, Any]] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> None:
    """Add episodes (and update file attributes) in one atomic step: a copy grows, then replaces the file."""
    path = Path(path)
    with _hdf5_image(path, start_from=path) as file:
        _set_attributes(file.attrs, attributes or {})
        _write_episodes(file, len(file["episode_lengths"]), trajectories, episode_attributes)


@contextlib.contextmanager
def _hdf5_image(path: Path, start_from: Path | None = None) -> Iterator[h5py.File]:
    """An HDF5 file built in memory (as a copy of the file `start_from`, if given) and then written to `path` atomically.

    HDF5 never writes to the disk itself: when it meets a full disk it leaves its objects half
    closed, and h5py then crashes the process (signal 11) as they are freed. Plain Python
    writes the finished image instead, so a full disk is an ordinary OSError.
    """
    image = io.BytesIO()
    if start_from is not None:
        with start_from.open("rb") as source:
            shutil.copyfileobj(source, image)  # streamed: one copy of the file in memory, where read_bytes() made two
    with h5py.File(image, "a" if start_from is not None else "w") as file:
        yield file
    with atomic_path(path) as temporary:
        try:
            temporary.write_bytes(image.getbuffer())
        except OSError as error:
            if error.filename is not None:
                raise
            raise OSError(error.errno, error.strerror, str(path)) from error  # a failed write() names no file; name the one being written


def _set_attributes(target: h5py.AttributeManager, attributes: Mapping[str, Any]) -> None:
    for name, value in attributes.items():
        target[name] = json.dumps(value) if isinstance(value, (dict, list)) else value


def _write_episodes(file: h5py.File, first_index: int, trajectories: Sequence[Trajectory],
                    episode_attributes: Sequence[Mapping[str, Any]] | None) -> None:
    """Write episode groups from first_index on, then rebuild the per-episode summary datasets."""
    for offset, trajectory in enumerate(trajectories):
        group = file.create_group(_episode_name(first_index + offset))
        group.attrs["seed"] = trajectory.seed
        if episode_attributes is not None:
            _set_attributes(group.attrs, episode_attributes[offset])
        for field in EPISODE_FIELDS:
            group.create_dataset(field, data=getattr(trajectory, field))
    count = first_index + len(trajectories)
    groups = [file[_episode_name(index)] for index in range(count)]
    summaries = {
        "episode_returns": ([float(g["rewards"][()].sum()) for g in groups], np.float64),
        "episode_lengths": ([len(g["actions"]) for g in groups], np.int64),
        "episode_seeds": ([int(g.attrs["seed"]) for g in groups], np.int64),
    }
    for name, (values, dtype) in summaries.items():
        if name in file:
            del file[name]
        file.create_dataset(name, data=np.asarray(values, dtype=dtype))


@contextlib.contextmanager
def _open_rollout_file(path: str | Path, env_name: str | None) -> Iterator[tuple[Path, h5py.File]]:
    """Open a rollout file for reading after checking it exists, is HDF5, has our format and the right env."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"data file {path} is a directory; name the .h5 rollout file itself")
    if not path.is_file():
        raise UserError(f"data file {path} does not exist")
    try:
        file = h5py.File(path, "r")
    except OSError as error:
        raise UserError(f"{path} is not a readable HDF5 file; it may be truncated or of another format ({error})") from None
    with file:
        _check_format(path, file)
        found = file.attrs["env_name"]
        if env_name is not None and found != env_name:
            raise UserError(f"{path} holds rollouts of {found}, not {env_name}; use the data of {env_name} or name {found}")
        if env_name is not None:
            _check_dynamics(path, file, env_name)
        try:
            yield path, file
        except (KeyError, ValueError, OSError, RuntimeError, TypeError) as error:  # h5py's errors for broken structure
            raise UserError(f"{path} is damaged: {error}") from None


def read_rollouts(path: str | Path, *, env_name: str | None = None) -> Rollouts:
    """Read and validate a rollout file; every problem is a UserError naming the file.

    With env_name, the episodes' observation and action shapes must also be env_name's.
    """
    with _open_rollout_file(path, env_name) as (path, file):
        attributes = {name: _decode_attribute(value) for name, value in file.attrs.items()}
        count = len(file["episode_lengths"])
        trajectories = [_read_episode(file, index) for index in range(count)]
        episode_attributes = [{name: _decode_attribute(value) for name, value in file[_episode_name(index)].attrs.items()
                               if name != "seed"} for index in range(count)]
        _check_same_shapes(trajectories)
    if env_name is not None:
        _check_env_shapes(path, trajectories, env_name)
    _check_discrete_actions(path, trajectories, attributes["env_name"])
    return Rollouts(trajectories=trajectories, attributes=attributes, episode_attributes=episode_attributes)


def read_episode_lengths(path: str | Path) -> np.ndarray:
    """The episodes' lengths alone, from a checked rollout file: its steps counted without reading the episodes."""
    with _open_rollout_file(path, None) as (path, file):
        try:
            return _checked_dataset(file, file["episode_lengths"])
        except (KeyError, ValueError, OSError, RuntimeError, TypeError) as error:
            raise UserError(f"{path} is damaged: {error}") from None


def read_observations(path: str | Path, *, env_name: str | None = None) -> tuple[list[np.ndarray], list[int]]:
    """Only the observation sequences of a rollout file, (T+1, obs) each, and the episodes' reset seeds.

    State-only demonstrations: the file is read and checked as read_rollouts checks it, but its
    actions are not returned, so they cannot leak into learning from observation.
    """
    trajectories = read_rollouts(path, env_name=env_name).trajectories
    return [t.observations for t in trajectories], [t.seed for t in trajectories]


def _shapes(trajectory: Trajectory) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The shape of one observation and of one action (() for a discrete action)."""
    return trajectory.observations.shape[1:], trajectory.actions.shape[1:]


def _check_same_shapes(trajectories: Sequence[Trajectory]) -> None:
    """Every episode must have the first one's observation and action shapes."""
    first = _shapes(trajectories[0])
    for index, trajectory in enumerate(trajectories):
        if _shapes(trajectory) != first:
            raise ValueError(f"{_episode_name(index)} has observations {_shapes(trajectory)[0]} and actions {_shapes(trajectory)[1]}, "
                             f"but {_episode_name(0)} has {first[0]} and {first[1]}")


def _check_env_shapes(path: Path, trajectories: Sequence[Trajectory], env_name: str) -> None:
    """Refuse episodes whose observations or actions have other shapes than env_name's spaces."""
    from cs294 import environments  # here: only this check needs the simulator

    expected = environments.space_shapes(environments.resolve(env_name))
    found = _shapes(trajectories[0])
    if found != expected:
        raise UserError(f"{path} holds observations of shape {found[0]} and actions of shape {found[1]}, but {env_name} has "
                        f"{expected[0]} and {expected[1]}; use a rollout file recorded on {env_name} (hw1/run_expert.py makes one)")
    kind = trajectories[0].actions.dtype
    if expected[1] != () and kind.kind != "f":  # a continuous task's actions are real numbers; integers mean another task's data
        raise UserError(f"{path} holds actions of type {kind}, but {env_name} takes continuous (floating-point) actions; "
                        f"use a rollout file recorded on {env_name} (hw1/run_expert.py makes one)")


@functools.lru_cache(maxsize=None)
def discrete_actions(env_name: str) -> tuple[int, int] | None:
    """(first, count) of a discrete-action task's actions (CartPole-v1: (0, 2)); None for continuous actions or a task not built here.

    Only a task whose rollout files hold one number per step asks, and those are the classic-control tasks, which build in a
    millisecond; the MuJoCo tasks' files hold action vectors and never get here.
    """
    import gymnasium as gym

    from cs294 import environments  # here: only this check needs the simulator

    try:
        env = environments.make_env(environments.resolve(env_name))
    except (UserError, gym.error.Error):  # an unknown name or a missing package: the file's users report that themselves
        return None
    try:
        space = env.action_space
        return (int(space.start), int(space.n)) if isinstance(space, gym.spaces.Discrete) else None
    finally:
        env.close()


def _check_discrete_actions(path: Path, trajectories: Sequence[Trajectory], env_name: str) -> None:
    """Refuse a discrete-action task's episode holding an action outside its action space (CartPole-v1: other than 0 or 1).

    Continuous actions are not checked against their bounds: experts may exceed them, and MuJoCo clips.
    """
    if trajectories[0].actions.ndim != 1 or (space := discrete_actions(env_name)) is None:
        return
    first, count = space
    values = [str(value) for value in range(first, first + count)]
    allowed = ", ".join(values[:-1]) + " and " + values[-1] if 1 < count <= 4 else f"the integers {first} to {first + count - 1}"
    for index, trajectory in enumerate(trajectories):
        actions = trajectory.actions
        if actions.dtype.kind not in "iu":
            raise UserError(f"{path} is damaged: {_episode_name(index)} holds actions of type {actions.dtype}, but {env_name}'s "
                            f"actions are {allowed}; remake it with run_expert.py")
        outside = np.flatnonzero((actions < first) | (actions >= first + count))
        if len(outside):
            step = int(outside[0])
            raise UserError(f"{path} is damaged: {_episode_name(index)} holds the action {actions[step]} at step {step}, but "
                            f"{env_name}'s actions are {allowed}; remake it with run_expert.py")


def _check_dynamics(path: Path, file: h5py.File, env_name: str) -> None:
    """Refuse data recorded under other dynamics than env_name has now (e.g. before the 2017 inertials)."""
    from cs294 import environments  # here: reading a file's bytes needs no simulator

    expected = environments.resolve(env_name).dynamics
    found = _decode_attribute(file.attrs.get("dynamics", "as registered"))
    if found != expected:
        raise UserError(f"{path} was recorded with {env_name}'s dynamics {found!r}, but {env_name} now means {expected!r}; "
                        f"remake it with: python hw1/run_expert.py experts/{env_name}.pkl {env_name} --num_rollouts N --output {path}")


def _check_format(path: Path, file: h5py.File) -> None:
    if file.attrs.get("format") != FORMAT_NAME:
        raise UserError(f"{path} is an HDF5 file but not a rollout file of this project (no format={FORMAT_NAME!r} attribute)")
    try:
        version = int(file.attrs.get("format_version", -1))
    except (TypeError, ValueError):
        raise UserError(f"{path} is damaged: its format_version is {file.attrs.get('format_version')!r}, not an integer") from None
    if version != FORMAT_VERSION:
        raise UserError(f"{path} has rollout format version {version}; this code reads version {FORMAT_VERSION}")
    _check_links(path, file)
    missing = [name for name in REQUIRED_ATTRIBUTES if name not in file.attrs]
    if missing or "episode_lengths" not in file:
        raise UserError(f"{path} is damaged: it lacks {missing or ['episode_lengths']}")
    if not isinstance(_decode_attribute(file.attrs["env_name"]), str):
        raise UserError(f"{path} is damaged: its env_name is not a string")
    if len(file["episode_lengths"]) == 0:
        raise UserError(f"{path} holds no episodes; remake it with run_expert.py")


def _check_links(path: Path, file: h5py.File) -> None:
    """Refuse a file with links to another file (or soft links): its data would not be its own, and rollout files have none."""
    def first_link(name: str) -> tuple[str, object] | None:  # a value other than None stops the walk
        link = file.get(name, getlink=True)
        return (name, link) if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)) else None

    found = file.visit_links(first_link)  # walks the links themselves, so no other file is ever opened
    if found is None:
        return
    name, link = found
    if isinstance(link, h5py.ExternalLink):
        raise UserError(f"{path} is damaged: {name} links to {link.path} in another file, {link.filename}; "
                        "rollout files keep all their data inside; remake it with run_expert.py")
    raise UserError(f"{path} is damaged: {name} is a link to {link.path}, which rollout files never hold; remake it with run_expert.py")


# A rollout file is written uncompressed, so no dataset can hold (much) more than the file's size;
# one that declares more is damaged or crafted, and reading it would only exhaust memory.
MAX_EXPANSION = 100


def _checked_dataset(file: h5py.File, dataset: h5py.Dataset) -> np.ndarray:
    """A dataset's values, refused if its storage lies outside the file, it declares absurd sizes, or it is not finite."""
    if dataset.is_virtual or dataset.external:
        raise ValueError(f"{dataset.name} keeps its data outside the file (virtual or external storage), which rollout files never do")
    file_size = Path(file.filename).stat().st_size
    if dataset.size * dataset.dtype.itemsize > MAX_EXPANSION * file_size + 2**20:
        raise ValueError(f"{dataset.name} declares {dataset.size * dataset.dtype.itemsize:,} bytes in a file of {file_size:,}")
    values = dataset[()]
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise ValueError(f"{dataset.name} holds NaN or infinite values")
    return values


def _read_episode(file: h5py.File, index: int) -> Trajectory:
    name = _episode_name(index)
    group = file[name]
    try:
        trajectory = Trajectory(**{field: _checked_dataset(file, group[field]) for field in EPISODE_FIELDS}, seed=int(group.attrs["seed"]))
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None
    if trajectory.seed < UNKNOWN_SEED:
        raise ValueError(f"{name} has the reset seed {trajectory.seed}, but a reset seed is a non-negative integer "
                         f"({UNKNOWN_SEED} where it is unknown); remake it with run_expert.py")
    if trajectory.length != file["episode_lengths"][index]:
        raise ValueError(f"{name} has {trajectory.length} steps but episode_lengths says {file['episode_lengths'][index]}")
    return trajectory


def _decode_attribute(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str) and value[:1] in "{[":
        with contextlib.suppress(json.JSONDecodeError):
            return json.loads(value)
    return value
