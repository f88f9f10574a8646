"""Environment names: the 2017 published names, mapped to the gymnasium environments that fit them."""

import dataclasses
import difflib
import json
import warnings
from typing import Any, Mapping

import gymnasium as gym
import mujoco

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
        EnvSpec("Ant-v1", "Ant-v4", {"use_contact_forces": True}),
        EnvSpec("HalfCheetah-v1", "HalfCheetah-v4"),
        EnvSpec("Hopper-v1", "Hopper-v4"),
        EnvSpec("Humanoid-v1", "Humanoid-v4"),
        EnvSpec("Reacher-v1", "Reacher-v4"),
        EnvSpec("Walker2d-v1", "Walker2d-v4"),
        EnvSpec("CartPole-v1", "CartPole-v1"),
    )
}


def resolve(name: str) -> EnvSpec:
    """Map a published name or a registered gymnasium id to an EnvSpec; anything else is a UserError."""
    if name in PUBLISHED_ENVS:
        return PUBLISHED_ENVS[name]
    if name in gym.registry:
        return EnvSpec(name, name)
    known = ", ".join(PUBLISHED_ENVS)
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
        return gym.make(spec.gym_id, **options)


def default_max_episode_steps(spec: EnvSpec) -> int | None:
    """The registered episode limit of the environment (1000 for the MuJoCo tasks)."""
    return gym.spec(spec.gym_id).max_episode_steps
