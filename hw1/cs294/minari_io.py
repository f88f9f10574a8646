"""Minari datasets both ways: a rollout file becomes a Minari dataset and back, and `--data minari:ID` reads one.

Minari (the successor of D4RL) keeps a dataset as a folder under MINARI_DATASETS_PATH (default
~/.minari/datasets): `data/metadata.json` (env spec, spaces, reference scores, authors) and
`data/main_data.hdf5`, one group per episode (`episode_0`, ...) holding the arrays this project's
files hold too. Minari's own functions read and write the datasets here (an export is built in a
hidden folder and renamed into place), so what they accept is what this module accepts; the
arrays are copied, everything around them is translated (docs/data-format.md).

Minari is imported inside the functions that need it: nothing on the normal path loads it.
"""

import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import gymnasium as gym
import h5py
import numpy as np

from cs294 import data, environments, gym_ids, provenance
from cs294.errors import UserError

PREFIX = "minari:"
"""`--data minari:ID` names a Minari dataset instead of a rollout file."""
CACHE_DIR = Path("data") / "minari"
"""Where `minari:ID` is converted to, beside the rollout files: data/minari/<ID>/<env>-<content hash>.h5."""
METADATA_KEY = "cs294_rollouts"
"""The metadata.json entry holding a rollout file's own attributes, so that an exported file comes back exactly."""
DEFAULT_REF_EPISODES = 10
REFERENCE_STREAM = 2_000_000
"""The reference episodes' seeds come from the generator (seed, REFERENCE_STREAM), apart from the streams runs draw from."""
REQUIREMENT = "minari[hdf5]==0.5.4"
DEFAULT_AUTHOR = "cs294-hw1, Berkeley CS294-112 HW1 in Keras 3 (hw1/minari_data.py)"
IMPORTED_ATTRIBUTES = ("minari_dataset_id", "minari_sha256")
"""What an imported file carries besides the rollout attributes: the dataset it came from, by id and content."""


def _minari():
    try:
        import minari
    except ImportError:
        raise UserError(f"Minari is not installed; install it with: pip install '{REQUIREMENT}' (requirements.txt pins it)") from None
    return minari


def check_dataset_id(dataset_id: str) -> None:
    """Refuse what Minari would not take as a dataset id (its form is also what keeps the id inside the datasets folder)."""
    from minari.dataset.minari_dataset import parse_dataset_id

    try:
        parse_dataset_id(dataset_id)
    except (ValueError, TypeError):  # TypeError: Minari's parser fails so on an id without -vN
        raise UserError(f"{dataset_id!r} is not a Minari dataset id; ids look like (namespace/)name-vN, "
                        "for example cs294/hopper/expert-v0") from None


def datasets_root() -> Path:
    """Minari's datasets folder, found as minari.storage.get_dataset_path finds it, but not created: a refusal leaves no folder."""
    path = os.environ.get("MINARI_DATASETS_PATH")
    return Path(path) if path is not None else Path.home() / ".minari" / "datasets"


def _where() -> str:
    path = os.environ.get("MINARI_DATASETS_PATH")
    return f"MINARI_DATASETS_PATH={path}" if path else f"{datasets_root()} (MINARI_DATASETS_PATH is not set)"


def load(dataset_id: str):
    """The local Minari dataset `dataset_id`; a missing, damaged or unreadable one is a UserError. Nothing is downloaded.

    Every reader of a dataset comes through here: minari_data.py import, and bc.py, dagger.py
    and bco.py with --data (--demos) minari:ID, by way of cached_rollouts.
    """
    minari = _minari()
    check_dataset_id(dataset_id)
    if not (datasets_root() / dataset_id / "data" / "metadata.json").is_file():
        raise UserError(f"no Minari dataset {dataset_id} in {_where()}; download it where the internet is reachable with "
                        f"`minari download {dataset_id}`, or make one with: python hw1/minari_data.py export FILE.h5 {dataset_id}")
    check_dataset_files(dataset_id)
    try:
        return minari.load_dataset(dataset_id)
    except (ValueError, KeyError, TypeError, AssertionError, OSError, gym.error.Error) as error:
        raise UserError(f"Minari dataset {dataset_id} in {_where()} cannot be read: {error}") from None


def check_dataset_files(dataset_id: str) -> None:
    """Refuse a dataset whose metadata.json is not a JSON object, or whose main_data.hdf5 does not open or lacks an episode.

    Minari's reader fails on these with an AttributeError, OSError or KeyError from deep inside,
    some of them only once the episodes are read. `dataset_id` is a checked id whose metadata.json exists.
    """
    folder = datasets_root() / dataset_id
    data_folder = folder / "data"

    def damaged(file: Path, problem: str) -> UserError:
        # Not `minari delete`: Minari lists no dataset whose metadata.json it cannot read, and so deletes none.
        return UserError(f"Minari dataset {dataset_id} in {_where()} is damaged: {file} {problem}; delete its folder {folder}, then "
                         f"download it again (minari download {dataset_id}) or export it again "
                         f"(python hw1/minari_data.py export FILE.h5 {dataset_id})")

    metadata_path = data_folder / "metadata.json"
    try:
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:  # ValueError: not UTF-8, or not JSON
        raise damaged(metadata_path, f"cannot be read as JSON ({' '.join(str(error).split())})") from None
    if not isinstance(metadata, dict):
        kind = {list: "an array", str: "a string", bool: "true or false", int: "a number", float: "a number"}.get(type(metadata), "null")
        raise damaged(metadata_path, f"holds {kind}, not the JSON object of Minari's metadata")
    if "data_format" not in metadata:
        raise damaged(metadata_path, "names no data_format")
    if metadata["data_format"] != "hdf5":
        return  # another storage format: Minari's own reader checks it
    main_data = data_folder / "main_data.hdf5"
    if not main_data.is_file():
        raise damaged(main_data, "is not a file" if main_data.exists() else "is missing")
    try:
        with h5py.File(main_data, "r") as file:
            episodes = metadata.get("total_episodes")
            if isinstance(episodes, int):
                groups = (f"episode_{index}" for index in range(episodes))
                missing = next((name for name in groups if not isinstance(file.get(name), h5py.Group)), None)
                if missing is not None:
                    raise damaged(main_data, f"lacks the group {missing} of the {episodes} episodes that metadata.json counts")
    except OSError as error:  # h5py: a truncated file, one that is not HDF5, a folder, ...
        raise damaged(main_data, f"cannot be read as HDF5 ({' '.join(str(error).split())})") from None


def dataset_sha256(dataset_id: str) -> str:
    """One hash of every file of the dataset's data folder, by name and content."""
    folder = datasets_root() / dataset_id / "data"
    digest = hashlib.sha256()
    for file in sorted(path for path in folder.rglob("*") if path.is_file()):
        digest.update(file.relative_to(folder).as_posix().encode() + b"\0" + bytes.fromhex(provenance.file_sha256(file)))
    return digest.hexdigest()


# -- tasks: the project's environment names and the env specs Minari records ---------------------


def _as_json(value: Any) -> Any:
    """As the env spec's JSON holds it (tuples become lists), so that specs read back compare equal."""
    return json.loads(json.dumps(value))


def recorded_as(spec: environments.EnvSpec) -> tuple[str, dict]:
    """The gymnasium id and options under which the task `spec` names appears in an env spec.

    A 2017 task is only built by its CS294/* id; a task as registered is its gymnasium id with
    the project's options (Ant-v1-today: Ant-v4 with use_contact_forces) over the registered ones.
    """
    if spec.dynamics != "as registered":
        return gym_ids.gym_id(spec.name), _as_json(gym.spec(gym_ids.gym_id(spec.name)).kwargs)
    return spec.gym_id, _as_json({**gym.spec(spec.gym_id).kwargs, **spec.kwargs})


def env_spec_for(env_name: str, max_episode_steps: int | None) -> gym.envs.registration.EnvSpec:
    """The env spec of a rollout file's task, which gym.make (and so Minari's recover_environment) builds again."""
    gym_id, options = recorded_as(environments.resolve(env_name))
    registered = gym.spec(gym_id)
    return dataclasses.replace(registered, kwargs=options, max_episode_steps=max_episode_steps or registered.max_episode_steps)


def project_env_name(env_spec: gym.envs.registration.EnvSpec | None, source: str, preferred: tuple[str | None, ...] = ()) -> str:
    """The project's name for the task an env spec records: CS294/Hopper-v1 -> Hopper-v1; Hopper-v5 as registered -> Hopper-v5.

    Of several names that build the same task (Hopper-v4 and Hopper-v1-today), the first of
    `preferred` wins. A task no name of the project builds is a UserError.
    """
    if env_spec is None:
        raise UserError(f"{source} records no environment (its env_spec is empty), so its episodes cannot be tied to a task")
    if env_spec.id not in gym.registry:
        raise UserError(f"{source} was recorded on {env_spec.id}, which is not registered here; install the package that registers it "
                        "(the dataset's `requirements` metadata may name it)")
    if env_spec.additional_wrappers:
        names = ", ".join(wrapper.name for wrapper in env_spec.additional_wrappers)
        raise UserError(f"{source} was recorded on {env_spec.id} inside wrappers ({names}), which this project does not apply")
    options = _as_json({name: value for name, value in env_spec.kwargs.items() if name != "render_mode"})
    task = gym_ids.task_of(env_spec.id)
    candidates = [task] if task else [*preferred, env_spec.id, *(name + environments.TODAY_SUFFIX for name in gym_ids.TASKS)]
    for name in filter(None, candidates):
        with contextlib.suppress(UserError):
            if recorded_as(environments.resolve(name)) == (env_spec.id, options):
                return name
    raise UserError(f"{source} was recorded on {env_spec.id} with options {options}, but this project builds {env_spec.id} with "
                    f"{_as_json(gym.spec(env_spec.id).kwargs)}; no environment name here gives its task")


def _describe(env_name: str) -> str:
    """`Hopper-v5 as registered`, `Hopper-v1 (gymnasium's Hopper-v4 with 2017 inertials)`."""
    spec = environments.resolve(env_name)
    if spec.gym_id == env_name and not spec.kwargs:
        return f"{env_name} as registered"
    built = spec.gym_id + (f" {dict(spec.kwargs)}" if spec.kwargs else "")
    dynamics = "as registered" if spec.dynamics == "as registered" else f"with {spec.dynamics}"
    return f"{env_name} (gymnasium's {built} {dynamics})"


def check_spaces(source: str, observation_space: gym.Space, action_space: gym.Space) -> None:
    """Refuse spaces the project's files cannot hold: observations must be flat vectors, actions flat reals or Discrete(n) from 0."""
    if not (isinstance(observation_space, gym.spaces.Box) and len(observation_space.shape) == 1):
        raise UserError(f"{source} has observations {observation_space}; this project learns from flat vectors (a 1-D Box) only")
    discrete = isinstance(action_space, gym.spaces.Discrete) and action_space.start == 0
    continuous = (isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1
                  and np.issubdtype(action_space.dtype, np.floating))
    if not (discrete or continuous):
        raise UserError(f"{source} has actions {action_space}; this project takes a 1-D Box of real numbers or a Discrete(n) "
                        "numbered from 0, not this")


# -- export: a rollout file -> a Minari dataset -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Exported:
    """What export_dataset wrote."""

    dataset_id: str
    folder: Path
    env_id: str
    episodes: int
    steps: int
    ref_min_score: float | None
    ref_max_score: float | None


def reference_scores(env_name: str, expert_path: Path, episodes: int, seed: int, exclude: list[int],
                     max_episode_steps: int | None) -> tuple[float, float]:
    """Mean returns of a uniformly random policy and of the expert, on `episodes` evaluation episodes the data does not hold."""
    from cs294 import experts, inverse_dynamics, rollouts  # TensorFlow: only when the scores are computed

    spec = environments.resolve(env_name)
    seeds = rollouts.episode_seeds(np.random.default_rng([seed, REFERENCE_STREAM]), episodes, exclude=exclude)
    env = environments.make_env(spec)
    random_policy = inverse_dynamics.exploration_policy(env.action_space, seed=seed)
    env.close()
    expert = experts.load_checked_expert(expert_path, spec)
    scores = [rollouts.rollout_stats(rollouts.sample_trajectories(model, spec, seeds, max_episode_steps=max_episode_steps)).mean
              for model in (random_policy, expert)]
    return scores[0], scores[1]


def _code_version() -> str:
    """hw1/minari_data.py of this checkout, with its git commit where git can tell it."""
    checkout = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(checkout), "describe", "--always", "--dirty"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    version = provenance.installed_version("cs294-hw1") or "not installed"
    return f"hw1/minari_data.py of cs294-hw1 {version}" + (f", git commit {commit}" if commit else "")


def _algorithm(attributes: dict, episode_attributes: list[dict]) -> str:
    policy_file = Path(str(attributes.get("policy_file", "unknown"))).name
    policy = f"{attributes.get('policy', 'unknown')} policy {policy_file} (sha256 {str(attributes['policy_sha256'])[:12]})"
    iterations = sorted({int(episode["dagger_iteration"]) for episode in episode_attributes if "dagger_iteration" in episode})
    if iterations:
        return f"DAgger: {policy} and its relabeled iterations {iterations[0]}-{iterations[-1]} (hw1/dagger.py)"
    return f"{policy}, rolled out by hw1/run_expert.py"


@contextlib.contextmanager
def _staged(dataset_id: str) -> Iterator[None]:
    """Build the dataset in a hidden folder of the datasets root, then move it into place with one rename.

    Minari writes a dataset where MINARI_DATASETS_PATH points, so that points to the hidden folder
    while the block runs. Minari lists no folder whose name starts with a dot, and a failed export
    leaves nothing behind.
    """
    from minari import namespace as namespaces
    from minari.dataset.minari_dataset import parse_dataset_id

    root = datasets_root()
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{dataset_id.replace('/', '_')}.tmp-{os.getpid()}"
    previous = os.environ.get("MINARI_DATASETS_PATH")
    try:
        os.environ["MINARI_DATASETS_PATH"] = str(staging)
        try:
            yield
        finally:
            if previous is None:
                del os.environ["MINARI_DATASETS_PATH"]
            else:
                os.environ["MINARI_DATASETS_PATH"] = previous
        namespace = parse_dataset_id(dataset_id)[0]
        if namespace is not None and namespace not in namespaces.list_local_namespaces():
            namespaces.create_namespace(namespace)
        try:
            os.rename(staging / dataset_id, root / dataset_id)
        except OSError as error:
            raise UserError(f"cannot move the new dataset into {root / dataset_id}: {error.strerror}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def export_dataset(path: str | Path, dataset_id: str, *, expert_path: Path | None = None, ref_episodes: int = DEFAULT_REF_EPISODES,
                   seed: int = 0, author: str = DEFAULT_AUTHOR, author_email: str | None = None) -> Exported:
    """Write the rollout file `path` as the Minari dataset `dataset_id`, with reference scores from `ref_episodes` episodes (0: none)."""
    minari = _minari()
    from minari.data_collector import EpisodeBuffer

    check_dataset_id(dataset_id)
    if ref_episodes < 0:
        raise UserError(f"--ref_episodes must not be negative, got {ref_episodes}")
    target = datasets_root() / dataset_id
    if target.exists():
        raise UserError(f"Minari dataset {dataset_id} already exists in {_where()}; choose another id or version (-v1), "
                        f"or delete it with: minari delete {dataset_id}")
    env_name = data.read_rollouts(path).attributes["env_name"]
    rollouts = data.read_rollouts(path, env_name=env_name)  # again, now checked against env_name's dynamics and spaces
    attributes, trajectories = rollouts.attributes, rollouts.trajectories
    max_episode_steps = int(attributes.get("max_episode_steps") or 0) or None
    env_spec = env_spec_for(env_name, max_episode_steps)
    scores: tuple[float | None, float | None] = (None, None)
    if ref_episodes:
        from cs294 import experts  # TensorFlow: only when the scores are computed

        expert_path = expert_path or experts.default_expert_path(env_name)
        if not Path(expert_path).is_file():
            raise UserError(f"no expert for {env_name} at {expert_path}; pass --expert FILE.pkl, or --ref_episodes 0 to leave out "
                            "ref_min_score and ref_max_score")
        scores = reference_scores(env_name, Path(expert_path), ref_episodes, seed, [t.seed for t in trajectories], max_episode_steps)
    env = gym.make(env_spec)
    observation_dtype = env.observation_space.dtype
    env.close()
    # The float32 observations are stored in the dtype the task's space declares (float64 for MuJoCo), which holds them exactly.
    buffers = [EpisodeBuffer(
        seed=None if t.seed < 0 else t.seed, observations=t.observations.astype(observation_dtype), actions=t.actions,
        rewards=t.rewards, terminations=t.terminations, truncations=t.truncations, infos={}) for t in trajectories]
    metadata = {METADATA_KEY: {"attributes": attributes, "episode_attributes": rollouts.episode_attributes}}
    steps = sum(t.length for t in trajectories)
    with _staged(dataset_id):
        dataset = minari.create_dataset_from_buffers(
            dataset_id, buffers, env=env_spec, eval_env=env_spec, algorithm_name=_algorithm(attributes, rollouts.episode_attributes),
            author=author, author_email=author_email or set(), code_permalink=_code_version(),
            ref_min_score=scores[0], ref_max_score=scores[1], num_episodes_average_score=ref_episodes,
            description=(f"{len(trajectories)} episodes ({steps} steps) of {env_name} ({environments.resolve(env_name).dynamics}) "
                         f"from the rollout file {Path(path).name}, sha256 {provenance.file_sha256(path)}; "
                         f"gym.make('{env_spec.id}') builds the task once `import cs294` has run"),
            requirements=_requirements(env_spec.id))
        dataset.storage.update_metadata(metadata)
    return Exported(dataset_id=dataset_id, folder=target, env_id=env_spec.id, episodes=len(trajectories), steps=steps,
                    ref_min_score=scores[0], ref_max_score=scores[1])


def _requirements(gym_id: str) -> list[str]:
    """What recover_environment needs installed: the versions this was made with, and this package for the CS294/* ids."""
    packages = ["gymnasium", "mujoco"] if gym_ids.task_of(gym_id) or "mujoco" in str(gym.spec(gym_id).entry_point) else ["gymnasium"]
    return [f"{name}=={provenance.installed_version(name)}" for name in packages] + (["cs294-hw1"] if gym_ids.task_of(gym_id) else [])


# -- import: a Minari dataset -> a rollout file ---------------------------------------------------


def dataset_rollouts(dataset, source: str, env_name: str) -> data.Rollouts:
    """A Minari dataset's episodes as project trajectories of env_name, with a rollout file's attributes.

    A dataset exported by this project gives back its file's attributes; any other gets attributes
    that say where it came from. Missing reset seeds become -1.
    """
    check_spaces(source, dataset.observation_space, dataset.action_space)
    spec = environments.resolve(env_name)
    expected = environments.space_shapes(spec)
    found = (dataset.observation_space.shape, dataset.action_space.shape)
    if found != expected:
        raise UserError(f"{source} has observations {found[0]} and actions {found[1]}, but {env_name} has {expected[0]} and {expected[1]}")
    seeds = [episode.get("seed") for episode in dataset.storage.get_episode_metadata(dataset.episode_indices)]
    trajectories = []
    for episode, seed in zip(dataset.iterate_episodes(), seeds, strict=True):
        try:
            trajectory = data.make_trajectory(observations=episode.observations, actions=episode.actions, rewards=episode.rewards,
                                              terminations=episode.terminations, truncations=episode.truncations,
                                              seed=-1 if seed is None else seed)
        except ValueError as error:
            raise UserError(f"{source}: episode {episode.id} cannot be a project episode: {error}") from None
        if not all(np.isfinite(values).all() for values in (trajectory.observations, trajectory.rewards, trajectory.actions)):
            raise UserError(f"{source}: episode {episode.id} holds NaN or infinite values (or observations beyond float32's range)")
        trajectories.append(trajectory)
    if not trajectories:
        raise UserError(f"{source} holds no episodes")
    metadata = dataset.storage.metadata
    stored = metadata.get(METADATA_KEY) or {}
    attributes, episode_attributes = dict(stored.get("attributes") or {}), list(stored.get("episode_attributes") or [])
    if attributes.get("env_name") != env_name or len(episode_attributes) != len(trajectories):
        attributes = {"policy": str(metadata.get("algorithm_name", "unknown")), "policy_file": source, "policy_sha256": "unknown",
                      "seed": -1, "max_episode_steps": dataset.env_spec.max_episode_steps or 0,
                      "package_versions": {"minari": str(metadata.get("minari_version"))},
                      "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        episode_attributes = [{} for _ in trajectories]
    # The task always follows the env spec, whatever the stored attributes say.
    attributes |= {"env_name": env_name, "gym_id": spec.gym_id, "gym_kwargs": json.loads(spec.kwargs_json), "dynamics": spec.dynamics}
    return data.Rollouts(trajectories=trajectories, attributes=attributes, episode_attributes=episode_attributes)


def import_dataset(dataset_id: str, output: str | Path, env_name: str | None = None) -> data.Rollouts:
    """Write the Minari dataset `dataset_id` as the rollout file `output` (atomically), as env_name's episodes if given."""
    dataset = load(dataset_id)
    source = f"{PREFIX}{dataset_id}"
    check_spaces(source, dataset.observation_space, dataset.action_space)
    stored_name = (dataset.storage.metadata.get(METADATA_KEY) or {}).get("attributes", {}).get("env_name")
    found = project_env_name(dataset.env_spec, source, preferred=(env_name, stored_name))
    if env_name is not None and found != env_name:
        raise UserError(f"{source} was recorded on {_describe(found)}, but {_describe(env_name)} is another task: its episodes "
                        f"cannot train it; name {found} instead of {env_name} to learn this dataset's task")
    rollouts = dataset_rollouts(dataset, source, found)
    rollouts.attributes.update(minari_dataset_id=dataset_id, minari_sha256=dataset_sha256(dataset_id))
    data.write_rollouts(output, rollouts.trajectories, rollouts.attributes, rollouts.episode_attributes)
    return rollouts


def cached_rollouts(argument: str, env_name: str) -> Path:
    """`minari:ID` as a rollout file of env_name: converted once to data/minari/ID/<env>-<hash>.h5, again whenever the dataset changes.

    The file's name carries a hash of the dataset's files, so a file found there is the
    conversion of the dataset as it is now; older conversions beside it are removed.
    """
    dataset_id = argument.removeprefix(PREFIX)
    load(dataset_id)  # a missing or unreadable dataset is refused before anything is hashed
    digest = dataset_sha256(dataset_id)
    folder = CACHE_DIR / dataset_id
    path = folder / f"{env_name}-{digest[:16]}.h5"
    if not path.is_file():
        rollouts = import_dataset(dataset_id, path, env_name)
        print(f"converted {argument} to {path}: {len(rollouts.trajectories)} episodes of {env_name}")
        stale = re.compile(re.escape(env_name) + r"-[0-9a-f]{16}\.h5")
        for old in folder.iterdir():
            if old != path and stale.fullmatch(old.name):
                old.unlink(missing_ok=True)
    return path
