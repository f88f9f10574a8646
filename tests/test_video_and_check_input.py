"""render_video.py and check_experts.py refuse bad input in one line, before they render, run or write anything."""

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_script, write_expert_rollouts


def one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """The refusal: exit code 2, one line on stderr that holds every fragment, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout[-2000:], result.stderr[-3000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def episodes(tmp_path_factory) -> dict[str, Path]:
    """One real 20-step expert episode each of Hopper-v1 and CartPole-v1, as run_expert.py writes them."""
    directory = tmp_path_factory.mktemp("episodes")
    return {task: write_expert_rollouts(directory, task, 1, 20) for task in ("Hopper-v1", "CartPole-v1")}


# render_video.py


def test_render_video_refuses_a_task_that_is_not_mujoco(episodes, tmp_path):
    result = run_script("render_video.py", str(episodes["CartPole-v1"]), "--output", str(tmp_path / "clip.mp4"))
    one_line_error(result, "MuJoCo tasks only", "CartPole-v1", "replay.py")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("task", ["Hopper-v3", "LunarLander-v3"])
def test_render_video_refuses_a_task_it_cannot_make_in_one_line(task):
    """gymnasium registers Hopper-v3 through a function (it needs mujoco-py), and LunarLander needs Box2D: neither is a traceback."""
    import render_video
    from cs294 import environments
    from cs294.errors import UserError

    with pytest.raises(UserError, match=task):
        render_video.check_mujoco(environments.resolve(task))


@pytest.mark.parametrize("flags, fragments", [
    (["--size", "100000"], ["--size 100000", "at most 2048"]),  # was mujoco.FatalError: Offscreen framebuffer is not complete
    (["--frame_skip", "100000"], ["--frame_skip 100000", "1000"]),  # was OverflowError in the GIF's frame duration
])
def test_render_video_refuses_a_size_or_frame_skip_too_large_to_render(episodes, tmp_path, flags, fragments):
    result = run_script("render_video.py", str(episodes["Hopper-v1"]), *flags, "--output", str(tmp_path / "clip.gif"))
    one_line_error(result, *fragments)
    assert not list(tmp_path.iterdir())


def test_render_video_refuses_an_mp4_wider_than_h264_takes(episodes, tmp_path):
    # 9 tiles of 2048 pixels: 18432 > libx264's 16384, which wrote nothing (or an empty file) after all the rendering
    result = run_script("render_video.py", *[str(episodes["Hopper-v1"])] * 9, "--size", "2048", "--output", str(tmp_path / "clip.mp4"))
    one_line_error(result, "18432 pixels wide", "16384", "--size")
    assert not list(tmp_path.iterdir())


def test_render_video_refuses_an_episode_without_a_reset_seed(episodes, tmp_path):
    import h5py

    unseeded = tmp_path / "unseeded.h5"
    shutil.copyfile(episodes["Hopper-v1"], unseeded)
    with h5py.File(unseeded, "a") as file:
        file["episode_000000"].attrs["seed"] = -1  # a Minari import's unknown seed; was gymnasium.error.Error: Seed must be greater or equal to zero
    result = run_script("render_video.py", str(unseeded), "--size", "32", "--output", str(tmp_path / "clip.mp4"))
    one_line_error(result, str(unseeded), "episode 0", "reset seed -1")
    assert not (tmp_path / "clip.mp4").exists()


def test_render_video_refuses_an_episode_the_file_does_not_hold(episodes, tmp_path):
    result = run_script("render_video.py", str(episodes["Hopper-v1"]), "--episode", "1", "--size", "32", "--output", str(tmp_path / "clip.mp4"))
    one_line_error(result, "--episode 1 is out of range", str(episodes["Hopper-v1"]), "numbered 0 to 0")
    assert not (tmp_path / "clip.mp4").exists()


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder that takes no new files, even for root (who ignores a folder's permissions)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        (locked / "probe").touch()
    except OSError:
        return locked
    (locked / "probe").unlink()
    if Path("/proc/self").is_dir():
        return Path("/proc")
    pytest.skip("no folder here refuses new files to this user")


@pytest.mark.parametrize("gif, fragments", [
    ("clip.txt", ["--gif must end in .gif", "clip.txt"]),
    ("folder.gif", ["--gif", "folder.gif", "is a directory"]),
    ("a_file/clip.gif", ["--gif", "a_file", "is a file"]),
    ("clip.mp4", ["--gif must end in .gif"]),
    ("unwritable", ["--gif", "cannot be written"]),
    ("same", ["--output and --gif both name"]),
])
def test_render_video_checks_gif_before_writing_the_video(episodes, tmp_path, gif, fragments):
    (tmp_path / "folder.gif").mkdir()
    (tmp_path / "a_file").write_text("not a folder")
    output = tmp_path / ("clip.gif" if gif == "same" else "clip.mp4")
    path = {"unwritable": unwritable_folder(tmp_path) / "clip.gif", "same": output}.get(gif, tmp_path / gif)
    result = run_script("render_video.py", str(episodes["Hopper-v1"]), "--size", "32", "--output", str(output), "--gif", str(path))
    one_line_error(result, *fragments)
    assert not output.exists() and not (tmp_path / "clip.gif").exists()


def test_render_video_refuses_a_gif_that_would_overwrite_a_rollout_file(episodes, tmp_path):
    rollouts = tmp_path / "episode.gif"  # an HDF5 rollout file, whatever its name
    shutil.copyfile(episodes["Hopper-v1"], rollouts)
    result = run_script("render_video.py", str(rollouts), "--size", "32", "--output", str(tmp_path / "clip.mp4"), "--gif", str(rollouts))
    one_line_error(result, "--gif", "would overwrite the input")
    assert rollouts.read_bytes() == episodes["Hopper-v1"].read_bytes() and not (tmp_path / "clip.mp4").exists()


# check_experts.py


def test_check_experts_refuses_an_output_that_is_its_own_json_copy(tmp_path):
    result = run_script("check_experts.py", "--tasks", "CartPole-v1", "--episodes", "1", "--output", str(tmp_path / "table.json"))
    one_line_error(result, "table.json", "JSON copy", "name a .md file")
    assert not list(tmp_path.iterdir())


def test_check_experts_refuses_an_output_whose_json_copy_is_a_folder(tmp_path):
    (tmp_path / "table.json").mkdir()
    result = run_script("check_experts.py", "--tasks", "CartPole-v1", "--episodes", "1", "--output", str(tmp_path / "table.md"))
    one_line_error(result, "table.json", "is a directory")
    assert not (tmp_path / "table.md").exists() and "CartPole-v1:" not in result.stdout  # refused before the expert ran


def test_check_experts_refuses_absurd_episode_counts(tmp_path):
    result = run_script("check_experts.py", "--tasks", "CartPole-v1", "--episodes", "99999999999")  # was MemoryError
    one_line_error(result, "--episodes 99999999999", "at most 1000")


def test_check_experts_refuses_a_task_named_twice(tmp_path):
    result = run_script("check_experts.py", "--tasks", "CartPole-v1,Hopper-v1,CartPole-v1", "--episodes", "1")
    one_line_error(result, "CartPole-v1 more than once")
    assert "CartPole-v1:" not in result.stdout
