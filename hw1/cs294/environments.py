"""Environment names: the 2017 published names, mapped to the gymnasium environments that fit them.

A 2017 name means the 2017 task. The v4 environments keep the 2017 observation layouts, and
make_env undoes two later MuJoCo changes: capsule masses and inertias (MuJoCo 2.1.1) and, where
the reward charges `data.ctrl`, the clamping of actions (2.2.1); Humanoid-v1 also gets back its
2017 contact cost. `<name>-today` builds the same task as gymnasium ships it today.
"""

import dataclasses
import difflib
import json
import warnings
from pathlib import Path
from typing import Any, Mapping

import gymnasium as gym
import mujoco
import numpy as np

from cs294.errors import UserError


class MujocoWarning(UserWarning):
    """A warning raised by the MuJoCo library."""


# Ant-v4's XML uses an attribute today's compiler calls deprecated; it still works as in 2017.
_EXPECTED_MUJOCO_WARNINGS = ("compiler attribute 'settotalmass' is deprecated",)


def _mujoco_warning(message: str) -> None:
    # MuJoCo's default handler prints to stdout and appends to MUJOCO_LOG.TXT in the working
    # directory; routing through Python's warnings shows each message once and writes no file.
    if not any(expected in message for expected in _EXPECTED_MUJOCO_WARNINGS):
        warnings.warn(message, MujocoWarning, stacklevel=2)


mujoco.set_mju_user_warning(_mujoco_warning)


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    """An environment as the user named it, and the gymnasium id and options that build it."""

    name: str
    """The name the user gave: a published 2017 name such as `Hopper-v1`, or a gymnasium id."""
    gym_id: str
    """The gymnasium id that is built, such as `Hopper-v4`."""
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Options passed to `gym.make`."""
    inertials_2017: bool = False
    """Give capsules the mass and inertia MuJoCo gave them before 2.1.1 (docs/experts.md)."""
    clip_actions: bool = False
    """Clip actions to the bounds before stepping, as MuJoCo clamped `data.ctrl` before 2.2.1."""
    contact_cost_2017: bool = False
    """Subtract Humanoid-v1's contact cost, min(0.5e-6 * sum(cfrc_ext^2), 10), which Humanoid-v4 dropped."""

    @property
    def dynamics(self) -> str:
        """What this project changes in the gymnasium environment; recorded in rollout files."""
        changes = [name for name, on in (("2017 inertials", self.inertials_2017), ("clipped actions", self.clip_actions),
                                         ("2017 contact cost", self.contact_cost_2017)) if on]
        return " + ".join(changes) if changes else "as registered"

    @property
    def kwargs_json(self) -> str:
        """The options as JSON, as they are stored in rollout files."""
        return json.dumps(dict(self.kwargs), sort_keys=True)


# The v4 environments keep the observation layouts the 2017 experts were trained on: Ant-v5
# has 105 observations instead of 111, Humanoid-v5 348 instead of 376, Reacher-v5 10 instead of
# 11, and Walker2d-v5 changed the model itself (see ../shared/NOTES.md in the project history).
PUBLISHED_ENVS: dict[str, EnvSpec] = {
    spec.name: spec
    for spec in (
        EnvSpec("Ant-v1", "Ant-v4", {"use_contact_forces": True}, inertials_2017=True),
        EnvSpec("HalfCheetah-v1", "HalfCheetah-v4", inertials_2017=True),
        EnvSpec("Hopper-v1", "Hopper-v4", inertials_2017=True),
        # Only Humanoid's reward reads data.ctrl; the other tasks charged the raw action in 2017 too.
        EnvSpec("Humanoid-v1", "Humanoid-v4", inertials_2017=True, clip_actions=True, contact_cost_2017=True),
        EnvSpec("Reacher-v1", "Reacher-v4", inertials_2017=True),
        EnvSpec("Walker2d-v1", "Walker2d-v4", inertials_2017=True),
        EnvSpec("CartPole-v1", "CartPole-v1"),
    )
}


# `Humanoid-v1-today` is the same task in today's simulator as gymnasium ships it, for comparison.
TODAY_SUFFIX = "-today"


def published_name(name: str) -> str:
    """The 2017 name behind a name: `Hopper-v1-today` -> `Hopper-v1`; other names are returned as they are."""
    base = name.removesuffix(TODAY_SUFFIX)
    return base if base in PUBLISHED_ENVS else name


def default_expert_path(env_name: str) -> Path:
    """experts/<env>.pkl in this checkout: the expert of the task's published name.

    Here, not in cs294.experts, so that a parser can show it as a default without importing TensorFlow.
    """
    return Path(__file__).resolve().parents[2] / "experts" / f"{published_name(env_name)}.pkl"


def resolve(name: str) -> EnvSpec:
    """Map a published name (optionally with -today) or a registered gymnasium id to an EnvSpec; anything else is a UserError."""
    if name in PUBLISHED_ENVS:
        return PUBLISHED_ENVS[name]
    if name.endswith(TODAY_SUFFIX) and published_name(name) in PUBLISHED_ENVS:
        return dataclasses.replace(PUBLISHED_ENVS[published_name(name)], name=name, inertials_2017=False,
                                   clip_actions=False, contact_cost_2017=False)
    if name in gym.registry:
        return EnvSpec(name, name)
    known = ", ".join(PUBLISHED_ENVS) + f" (each also as <name>{TODAY_SUFFIX}, today's dynamics)"
    close = difflib.get_close_matches(name, list(PUBLISHED_ENVS) + list(gym.registry), n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    raise UserError(
        f"unknown environment {name!r}. Known names: {known}, or any registered gymnasium id "
        f"such as Hopper-v4.{hint}"
    )


def make_env(spec: EnvSpec, *, max_episode_steps: int | None = None, render_mode: str | None = None, **render_options: Any) -> gym.Env:
    """Build the environment; max_episode_steps overrides the registered time limit, render_options go to gym.make (width, height)."""
    options: dict[str, Any] = {**spec.kwargs, **render_options}
    if max_episode_steps is not None:
        options["max_episode_steps"] = max_episode_steps
    if render_mode is not None:
        options["render_mode"] = render_mode
    with warnings.catch_warnings():
        # The v4 environments are chosen on purpose (see PUBLISHED_ENVS); their deprecation
        # warning would only alarm users.
        warnings.filterwarnings("ignore", message=r".*is out of date.*")
        warnings.filterwarnings("ignore", message=r".*deprecated.*", category=DeprecationWarning)
        try:
            env = gym.make(spec.gym_id, **options)
        except gym.error.DependencyNotInstalled as error:  # e.g. Box2D's tasks: gymnasium[box2d] is not in requirements.txt
            raise UserError(f"{spec.name} needs a package that is not installed ({error})") from None
    if spec.inertials_2017:
        restore_2017_inertials(env.unwrapped.model, env.unwrapped.data, env.unwrapped.fullpath)
    if spec.clip_actions or spec.contact_cost_2017:
        env = Gym2017Step(env, clip_actions=spec.clip_actions, contact_cost=spec.contact_cost_2017)
    return env


def space_shapes(spec: EnvSpec) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The shape of one observation and of one action (() for a discrete action)."""
    env = make_env(spec)
    shapes = tuple(env.observation_space.shape), tuple(env.action_space.shape)
    env.close()
    return shapes


def capsules_as_2017_cylinders(xml_path: str) -> mujoco.MjModel:
    """The task's model compiled with every capsule as MuJoCo < 2.1.1 weighed it: a cylinder of length L + r.

    A capsule of radius r is given either by end points (`fromto`, which wins when both are
    given) or by its half-length h; the cylinder reaches r/2 beyond each end point, or has
    half-length h + r/2. Masses still come from density and volume, and a fixed total mass
    (HalfCheetah's settotalmass) is honoured by the compiler as before.
    """
    spec = mujoco.MjSpec.from_file(xml_path)
    for geom in spec.geoms:
        if geom.type != mujoco.mjtGeom.mjGEOM_CAPSULE:
            continue
        radius = geom.size[0]
        geom.type = mujoco.mjtGeom.mjGEOM_CYLINDER
        if np.isnan(geom.fromto[0]):
            geom.size = [radius, geom.size[1] + radius / 2, 0.0]
        else:
            start, end = np.array(geom.fromto[:3]), np.array(geom.fromto[3:])
            extension = (end - start) / np.linalg.norm(end - start) * radius / 2
            geom.fromto = [*(start - extension), *(end + extension)]
    with warnings.catch_warnings():
        for expected in _EXPECTED_MUJOCO_WARNINGS:
            warnings.filterwarnings("ignore", message=f".*{expected}.*")
        return spec.compile()


def restore_2017_inertials(model: mujoco.MjModel, data: mujoco.MjData, xml_path: str) -> None:
    """Give the bodies of `model` their 2017 masses and inertias, computed from its own XML.

    Only the inertial properties are copied: collision shapes and everything else stay as
    today's model has them. The values are copied, not scaled, so patching twice is harmless.
    """
    reference = capsules_as_2017_cylinders(xml_path)
    if reference.nbody != model.nbody:
        raise ValueError(f"{xml_path}: the recompiled model has {reference.nbody} bodies, the task {model.nbody}")
    for field in ("body_mass", "body_inertia", "body_ipos", "body_iquat"):
        getattr(model, field)[:] = getattr(reference, field)
    mujoco.mj_setConst(model, data)  # derived constants (subtree masses, dof weights) follow the masses


class Gym2017Step(gym.Wrapper):
    """The 2017 step: actions clipped to the bounds before the reward sees them, and Humanoid-v1's contact cost."""

    CONTACT_COST_WEIGHT = 0.5e-6
    CONTACT_COST_CAP = 10.0

    def __init__(self, env: gym.Env, *, clip_actions: bool, contact_cost: bool) -> None:
        super().__init__(env)
        self.clip_actions = clip_actions
        self.contact_cost = contact_cost

    def step(self, action):
        if self.clip_actions:
            # The physics clamps to ctrlrange anyway; clipping here changes only what the reward charges.
            action = np.clip(action, self.action_space.low, self.action_space.high)
        observation, reward, terminated, truncated, info = self.env.step(action)
        if self.contact_cost:
            cost = min(self.CONTACT_COST_WEIGHT * float(np.square(self.env.unwrapped.data.cfrc_ext).sum()), self.CONTACT_COST_CAP)
            reward = float(reward) - cost
            info = {**info, "reward_contact_2017": -cost}
        return observation, reward, terminated, truncated, info


def default_max_episode_steps(spec: EnvSpec) -> int | None:
    """The registered episode limit of the environment (1000 for the MuJoCo tasks)."""
    return gym.spec(spec.gym_id).max_episode_steps
