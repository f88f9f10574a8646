"""Edges of the input checks: a blank output flag, a DISPLAY with no X server behind it, and rollout files whose
reset seeds or discrete actions cannot be. Each ends in one clear UserError (one line, exit code 2 from cli.run).
"""

import contextlib
import socket
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest

import bc
import replay as replay_script
import run_expert
from cs294 import cli, data, environments, replay
from cs294.errors import UserError


def refusal(module, argv, capsys) -> str:
    """Run a script's main through cli.run as its __main__ does; the one line it printed, asserted as a refusal."""
    code = cli.run(module.main, module.build_parser(), [str(a) for a in argv])
    stderr = capsys.readouterr().err.strip()
    assert code == cli.USER_ERROR_EXIT_CODE, stderr
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr
    return stderr


# -- 1. an empty output flag is not the current directory --------------------------------------------


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_run_dir_is_refused_not_taken_as_the_current_directory(value, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    message = refusal(bc, ["Hopper-v1", "--run_dir", value, "--epochs", "1"], capsys)
    assert "--run_dir is empty; give a folder, or leave the flag out for the default" in message, message
    assert not any(tmp_path.iterdir())  # nothing was written where "" would have pointed


def test_an_empty_output_file_flag_is_refused_naming_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    message = refusal(run_expert, ["experts/Hopper-v1.pkl", "Hopper-v1", "--output="], capsys)
    assert "--output is empty; give a file" in message, message


def test_an_absent_output_flag_is_still_fine():
    args = bc.build_parser().parse_args(["Hopper-v1"])
    assert args.run_dir is None
    cli.keep_blank_outputs(bc.build_parser())  # wrapping a parser changes nothing for a flag left out
    cli.check_common_arguments(args)
    given = bc.build_parser()
    cli.keep_blank_outputs(given)
    assert given.parse_args(["Hopper-v1", "--run_dir", "runs/x"]).run_dir == Path("runs/x")  # a real path still becomes a Path


# -- 2. a DISPLAY must name an X server that answers -------------------------------------------------

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display check is Linux's")


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def x11_dir(monkeypatch):
    """An empty stand-in for /tmp/.X11-unix (short, for AF_UNIX's 108-byte path limit), with no X display to reach over TCP."""
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with tempfile.TemporaryDirectory(prefix="x11-", dir="/tmp") as directory:
        monkeypatch.setattr(replay, "X11_SOCKET_DIR", Path(directory), raising=False)
        monkeypatch.setattr(replay, "X11_TCP_PORT", closed_port() - 87, raising=False)  # display 87 over TCP: a closed port
        yield Path(directory)


@contextlib.contextmanager
def listening(family: int, address):
    """A socket that listens (and never answers): what a connect needs to succeed."""
    with socket.socket(family, socket.SOCK_STREAM) as server:
        server.bind(address)
        server.listen(1)
        yield server


@linux_only
def test_display_87_with_no_x_server_is_refused(monkeypatch):
    """As a user meets it: nothing patched, DISPLAY=:87 on a machine without that X server."""
    if Path("/tmp/.X11-unix/X87").exists():
        pytest.skip("this machine has an X display :87")
    monkeypatch.setenv("DISPLAY", ":87")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(UserError, match=r"^rendering opens a window, but DISPLAY=:87 names no X display that can be reached \("
                                        r".*\); on a headless machine run it under xvfb-run, or drop --render$"):
        replay.check_display()


@linux_only
@pytest.mark.parametrize("display", [":87", ":87.0", "unix:87"])
def test_a_display_without_an_x_server_is_refused_before_a_window_opens(display, x11_dir, monkeypatch):
    monkeypatch.setenv("DISPLAY", display)
    with pytest.raises(UserError) as refused:
        replay.check_display("a replay opens a window", "run it under xvfb-run -a")
    message = str(refused.value)
    assert message.startswith("a replay opens a window, but DISPLAY=" + display + " names no X display that can be reached")
    assert str(x11_dir / "X87") in message and message.endswith("; run it under xvfb-run -a"), message


@linux_only
def test_a_display_with_a_listening_x_socket_is_accepted(x11_dir, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":87")
    with listening(socket.AF_UNIX, str(x11_dir / "X87")):
        replay.check_display()
    (x11_dir / "X87").unlink()
    with pytest.raises(UserError, match="DISPLAY=:87"):  # a socket file left behind by a server that is gone
        (x11_dir / "X87").touch()
        replay.check_display()


@linux_only
def test_a_forwarded_display_is_reached_over_tcp(monkeypatch):
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", "localhost:10.0")  # as ssh -X sets it: port 6000 + 10
    with listening(socket.AF_INET, ("127.0.0.1", 0)) as server:
        monkeypatch.setattr(replay, "X11_TCP_PORT", server.getsockname()[1] - 10, raising=False)
        replay.check_display()
    monkeypatch.setattr(replay, "X11_TCP_PORT", closed_port() - 10, raising=False)
    with pytest.raises(UserError, match=r"DISPLAY=localhost:10\.0 names no X display that can be reached \(localhost port"):
        replay.check_display()


@linux_only
def test_the_existing_refusals_stay(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(UserError, match=r"no display was found \(DISPLAY is not set\); on a headless machine"):
        replay.check_display()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")  # a Wayland session is not probed
    monkeypatch.setenv("DISPLAY", ":87")
    replay.check_display()


@linux_only
def test_replay_py_refuses_an_unreachable_display_in_one_line(x11_dir, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DISPLAY", ":87")
    message = refusal(replay_script, [tmp_path / "any.h5"], capsys)
    assert "DISPLAY=:87 names no X display" in message and "xvfb-run -a" in message, message


# -- 3. rollout files: reset seeds and discrete actions ----------------------------------------------


def play(env_name: str, seeds, steps: int = 12) -> list[data.Trajectory]:
    """Real episodes of env_name with random actions (no policy, no TensorFlow)."""
    spec = environments.resolve(env_name)
    env = environments.make_env(spec)
    env.action_space.seed(0)
    trajectories = []
    for seed in seeds:
        observation, _ = env.reset(seed=seed)
        observations, actions, rewards, terminations, truncations = [observation], [], [], [], []
        for _ in range(steps):
            action = env.action_space.sample()
            observation, reward, terminated, truncated, _ = env.step(action)
            observations.append(observation), actions.append(action), rewards.append(reward)
            terminations.append(terminated), truncations.append(truncated)
            if terminated or truncated:
                break
        trajectories.append(data.make_trajectory(observations=observations, actions=actions, rewards=rewards,
                                                 terminations=terminations, truncations=truncations, seed=seed))
    env.close()
    return trajectories


def write_real_rollouts(directory: Path, env_name: str) -> Path:
    spec = environments.resolve(env_name)
    path = directory / f"{env_name}.h5"
    attributes = {"env_name": env_name, "gym_id": spec.gym_id, "gym_kwargs": spec.kwargs_json, "dynamics": spec.dynamics,
                  "policy": "random", "policy_sha256": "0" * 64, "seed": 0, "package_versions": {"numpy": np.__version__}}
    data.write_rollouts(path, play(env_name, [11, 12]), attributes)
    return path


@pytest.fixture(scope="module")
def real_files(tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("edges")
    return {env: write_real_rollouts(directory, env) for env in ("CartPole-v1", "MountainCar-v0", "Pendulum-v1")}


def damaged(real_files, env_name: str, tmp_path: Path, damage) -> Path:
    path = tmp_path / f"damaged-{env_name}.h5"
    path.write_bytes(real_files[env_name].read_bytes())
    with h5py.File(path, "a") as file:
        damage(file)
    return path


def set_action(episode: str, step: int, value):
    def damage(file):
        file[episode]["actions"][step] = value
    return damage


def test_the_real_files_read_back(real_files):
    for env_name, path in real_files.items():
        assert len(data.read_rollouts(path, env_name=env_name).trajectories) == 2


@pytest.mark.parametrize("seed", [-5, -2, np.iinfo(np.int64).min])
def test_a_negative_reset_seed_is_refused(seed, real_files, tmp_path):
    def damage(file):
        file["episode_000001"].attrs["seed"] = seed
    path = damaged(real_files, "CartPole-v1", tmp_path, damage)
    with pytest.raises(UserError) as refused:
        data.read_rollouts(path)
    message = str(refused.value)
    assert message.startswith(f"{path} is damaged: episode_000001 has the reset seed {seed}"), message
    assert "non-negative" in message and message.endswith("remake it with run_expert.py") and "\n" not in message, message


def test_the_unknown_seed_of_a_minari_import_still_reads_but_is_not_replayed(real_files, tmp_path):
    def damage(file):
        file["episode_000001"].attrs["seed"] = -1  # as minari_io.dataset_rollouts writes an episode without a seed
    path = damaged(real_files, "CartPole-v1", tmp_path, damage)
    assert [t.seed for t in data.read_rollouts(path).trajectories] == [11, -1]
    assert replay.replay_file(path, [0], render_mode=None) == [0.0]
    unknown = r"episode 1 has reset seed -1 \(unknown, as an import from Minari writes it\), so it cannot be replayed"
    with pytest.raises(UserError, match=unknown):
        replay.replay_file(path, render_mode=None)


@pytest.mark.parametrize("env_name, value, allowed", [
    ("CartPole-v1", 5, "0 and 1"), ("CartPole-v1", -1, "0 and 1"), ("CartPole-v1", 2, "0 and 1"),
    ("MountainCar-v0", 3, "0, 1 and 2"),
])
def test_a_discrete_action_outside_the_action_space_is_refused(env_name, value, allowed, real_files, tmp_path):
    path = damaged(real_files, env_name, tmp_path, set_action("episode_000001", 3, value))
    for given in (None, env_name):
        with pytest.raises(UserError) as refused:
            data.read_rollouts(path, env_name=given)
        message = str(refused.value)
        assert message == (f"{path} is damaged: episode_000001 holds the action {value} at step 3, but {env_name}'s actions are "
                           f"{allowed}; remake it with run_expert.py"), message


def test_real_valued_actions_of_a_discrete_task_are_refused(real_files, tmp_path):
    def damage(file):
        actions = file["episode_000000"]["actions"][()]
        del file["episode_000000"]["actions"]
        file["episode_000000"].create_dataset("actions", data=actions.astype(np.float32))
    path = damaged(real_files, "CartPole-v1", tmp_path, damage)
    with pytest.raises(UserError, match=r"episode_000000 holds actions of type float32, but CartPole-v1's actions are 0 and 1"):
        data.read_rollouts(path)


def test_continuous_actions_are_not_held_to_their_bounds(real_files, tmp_path):
    path = damaged(real_files, "Pendulum-v1", tmp_path, set_action("episode_000000", 0, [7.5]))  # Pendulum's bounds are ±2
    assert data.read_rollouts(path, env_name="Pendulum-v1").trajectories[0].actions[0, 0] == 7.5


def test_replay_py_refuses_a_bad_action_in_one_line(real_files, tmp_path, x11_dir, monkeypatch, capsys):
    path = damaged(real_files, "CartPole-v1", tmp_path, set_action("episode_000000", 0, 5))
    monkeypatch.setenv("DISPLAY", ":87")
    with listening(socket.AF_UNIX, str(x11_dir / "X87")):  # a display that answers, so the file is what is refused
        message = refusal(replay_script, [path], capsys)
    assert message == (f"replay.py: error: {path} is damaged: episode_000000 holds the action 5 at step 0, but CartPole-v1's "
                       "actions are 0 and 1; remake it with run_expert.py"), message


@linux_only
def test_a_display_form_not_parsed_here_is_left_to_xlib_as_before(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":cs294-unparsed")  # what test_replay_and_tables_input.py sets to get past the check
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    replay.check_display()

