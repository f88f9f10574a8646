"""Replaying recorded episodes in the simulator, which is how this project renders.

TensorFlow and Mesa's OpenGL crash when they share a process (measured: a segfault on the first
rendered frame once TensorFlow is imported, with GLFW under Xvfb and with EGL alike). Episodes are
reproducible from their reset seed and actions, so a process that never imports TensorFlow can
replay a rollout file and render it. Nothing in this module imports TensorFlow.
"""

import os
import sys
from pathlib import Path
from typing import Sequence

import gymnasium as gym
import numpy as np

from cs294 import data, environments
from cs294.errors import UserError


def replay_episode(env: gym.Env, trajectory: data.Trajectory) -> float:
    """Step env through the episode's actions from its reset seed; the largest drift from the recorded observations."""
    observation, _ = env.reset(seed=trajectory.seed)
    drift = float(np.abs(observation - trajectory.observations[0]).max())
    for step, action in enumerate(trajectory.actions):
        observation, *_ = env.step(action)
        drift = max(drift, float(np.abs(observation - trajectory.observations[step + 1]).max()))
    return drift


def replay_file(path: str | Path, episodes: Sequence[int] | None = None, render_mode: str | None = "human") -> list[float]:
    """Replay some (default: all) episodes of a rollout file with rendering; the drift of each."""
    rollouts = data.read_rollouts(path)
    spec = environments.resolve(rollouts.attributes["env_name"])
    chosen = range(len(rollouts.trajectories)) if episodes is None else episodes
    env = environments.make_env(spec, render_mode=render_mode)
    try:
        return [replay_episode(env, rollouts.trajectories[index]) for index in chosen]
    finally:
        env.close()


def check_display() -> None:
    """A window needs a display; say so plainly instead of letting GLFW crash."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise UserError("rendering opens a window, but no display was found (DISPLAY is not set); "
                        "on a headless machine run it under xvfb-run, or drop --render")
