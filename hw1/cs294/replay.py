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


def chosen_episodes(path: str | Path, count: int, episodes: Sequence[int] | None) -> list[int]:
    """The episodes to replay (default: all), each checked against the file's episode count before a window opens."""
    if count == 0:
        raise UserError(f"{path} holds no episodes; there is nothing to replay")
    if episodes is None:
        return list(range(count))
    outside = [index for index in episodes if not 0 <= index < count]
    if outside:
        raise UserError(f"--episodes {outside[0]} is out of range: {path} has {count} episode{'s' if count > 1 else ''}, "
                        f"numbered 0 to {count - 1}")
    return list(episodes)


def replay_file(path: str | Path, episodes: Sequence[int] | None = None, render_mode: str | None = "human") -> list[float]:
    """Replay some (default: all) episodes of a rollout file with rendering; the drift of each."""
    rollouts = data.read_rollouts(path)
    chosen = chosen_episodes(path, len(rollouts.trajectories), episodes)
    env_name = rollouts.attributes["env_name"]
    env = environments.make_env(environments.resolve(env_name), render_mode=render_mode)
    try:
        return [replay_episode(env, rollouts.trajectories[index]) for index in chosen]
    except gym.error.DependencyNotInstalled as error:  # the classic-control tasks' window needs pygame; raised at the first reset
        raise UserError(f"{path} holds {env_name} episodes, whose window needs a package that is not installed: {error}") from None
    finally:
        env.close()


def check_display(opens: str = "rendering opens a window",
                  remedy: str = "on a headless machine run it under xvfb-run, or drop --render") -> None:
    """A window needs a display; say so plainly instead of letting GLFW crash (each caller names its own way out)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise UserError(f"{opens}, but no display was found (DISPLAY is not set); {remedy}")
