"""Replaying recorded episodes in the simulator, which is how this project renders.

TensorFlow and Mesa's OpenGL crash when they share a process (measured: a segfault on the first
rendered frame once TensorFlow is imported, with GLFW under Xvfb and with EGL alike). Episodes are
reproducible from their reset seed and actions, so a process that never imports TensorFlow can
replay a rollout file and render it. Nothing in this module imports TensorFlow.
"""

import os
import re
import socket
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


def check_replayable(path: str | Path, trajectories: Sequence[data.Trajectory], chosen: Sequence[int],
                     flag: str = "--episodes", verb: str = "replay") -> None:
    """Each chosen episode is in the file and has a known reset seed: refused before a window or renderer opens."""
    count = len(trajectories)
    if count == 0:  # data.read_rollouts already refuses such a file; this keeps any other list from "numbered 0 to -1"
        raise UserError(f"{path} holds no episodes; there is nothing to {verb}")
    outside = [index for index in chosen if not 0 <= index < count]
    if outside:
        raise UserError(f"{flag} {outside[0]} is out of range: {path} has {count} episode{'s' if count > 1 else ''}, "
                        f"numbered 0 to {count - 1}")
    unknown = [index for index in chosen if trajectories[index].seed < 0]
    if unknown:
        raise UserError(f"{path} episode {unknown[0]} has reset seed {trajectories[unknown[0]].seed} (unknown, as an import "
                        f"from Minari writes it), so it cannot be replayed; {verb} episodes that run_expert.py recorded")


def replay_file(path: str | Path, episodes: Sequence[int] | None = None, render_mode: str | None = "human") -> list[float]:
    """Replay some (default: all) episodes of a rollout file with rendering; the drift of each."""
    rollouts = data.read_rollouts(path)
    chosen = list(range(len(rollouts.trajectories))) if episodes is None else list(episodes)
    check_replayable(path, rollouts.trajectories, chosen)
    env_name = rollouts.attributes["env_name"]
    env = environments.make_env(environments.resolve(env_name), render_mode=render_mode)
    try:
        return [replay_episode(env, rollouts.trajectories[index]) for index in chosen]
    except gym.error.DependencyNotInstalled as error:  # the classic-control tasks' window needs pygame; raised at the first reset
        raise UserError(f"{path} holds {env_name} episodes, whose window needs a package that is not installed: {error}") from None
    finally:
        env.close()


# Where a local X server listens: X<N> for display :N (also in Linux's abstract socket namespace, under the same name).
X11_SOCKET_DIR = Path("/tmp/.X11-unix")
X11_TCP_PORT = 6000
X11_CONNECT_TIMEOUT_S = 1.0


def check_display(opens: str = "rendering opens a window",
                  remedy: str = "on a headless machine run it under xvfb-run, or drop --render") -> None:
    """A window needs a display; say so plainly instead of letting GLFW crash (each caller names its own way out).

    On Linux, a DISPLAY that names an X server nobody answers at (DISPLAY=:99 with no server) makes GLFW abort the
    process when the window opens, so the server is reached here first: nothing is opened, and nothing is sent to it.
    """
    if not sys.platform.startswith("linux"):
        return
    display = os.environ.get("DISPLAY")
    if not (display or os.environ.get("WAYLAND_DISPLAY")):
        raise UserError(f"{opens}, but no display was found (DISPLAY is not set); {remedy}")
    if os.environ.get("WAYLAND_DISPLAY"):
        return  # a Wayland session: GLFW may use Wayland, and XWayland starts on demand
    problem = x_display_problem(display)
    if problem:
        raise UserError(f"{opens}, but DISPLAY={display} names no X display that can be reached ({problem}); {remedy}")


def x_display_problem(display: str) -> str | None:
    """Why the X display `[protocol/][host]:N[.S]` cannot be reached, or None if it can (or DISPLAY has a form not parsed here).

    As Xlib (libxcb) does: an empty host or `unix` means the local socket X<N> (Linux's abstract namespace first, then the
    file), and an empty host then also TCP to localhost; any other host means TCP port 6000+N.
    """
    protocol, _, rest = display.rpartition("/")
    host, colon, number = rest.rpartition(":")
    match = re.fullmatch(r"(\d+)(?:\.\d+)?", number)
    if not colon or match is None or host.endswith(":") or protocol not in ("", "unix", "tcp", "inet", "inet6"):
        return None  # not a form parsed here (a DECnet `host::N`, a socket path): left to Xlib, as before this check
    number, host = int(match.group(1)), host.removeprefix("[").removesuffix("]")
    problems = []
    if protocol == "unix" or host in ("", "unix"):
        socket_path = X11_SOCKET_DIR / f"X{number}"
        if _unix_connects("\0" + str(socket_path)) or _unix_connects(str(socket_path)):
            return None
        problems.append(f"no X server listens at {socket_path}")
        if protocol == "unix" or host == "unix":
            return problems[0]
    port = X11_TCP_PORT + number
    if port > 65535:
        return "; ".join([*problems, f"display number {number} is too large"])
    tcp_problem = _tcp_problem(host or "localhost", port)
    if tcp_problem is None:
        return None
    return "; ".join([*problems, f"{host or 'localhost'} port {port}: {tcp_problem}"])


def _unix_connects(address: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(X11_CONNECT_TIMEOUT_S)
        try:
            connection.connect(address)
        except OSError:
            return False
    return True


def _tcp_problem(host: str, port: int) -> str | None:
    try:
        socket.create_connection((host, port), timeout=X11_CONNECT_TIMEOUT_S).close()
    except socket.timeout:
        return f"no answer within {X11_CONNECT_TIMEOUT_S:g} s"
    except OSError as error:  # refused, no route, or a host name that does not resolve
        return error.strerror or str(error)
    except ValueError as error:  # a host name that cannot even be encoded (UnicodeError)
        return str(error)
    return None
