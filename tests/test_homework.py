"""docs/homework.md's commands, run as written from a fresh folder, with smaller numbers appended (a later flag wins)."""

import re
import shlex

import pytest

from conftest import REPO_ROOT, run_script

PAGE = REPO_ROOT / "docs" / "homework.md"
# Appended to each script's commands: the same runs on tiny budgets. Everything else is the page's own words.
SMALLER = {
    "run_expert.py": ["--max_timesteps", "30"],
    "bc.py": ["--epochs", "2", "--eval_episodes", "1"],
    "bc_curve.py": ["--num_demos", "1,2", "--epochs", "2", "--eval_episodes", "1"],
    "dagger.py": ["--iterations", "1", "--epochs", "2", "--retrain_epochs", "1", "--eval_episodes", "1", "--curve_episodes", "1",
                  "--rollouts_per_iter", "1"],
    "hopper_study.py": ["--seeds", "0", "--epochs", "1", "--eval_episodes", "1"],
    "render_video.py": ["--size", "64"],
}


def page_commands() -> list[list[str]]:
    """Every `python hw1/...` line of the page's bash blocks, as words."""
    blocks = re.findall(r"```bash\n(.*?)```", PAGE.read_text(), flags=re.S)
    return [shlex.split(line) for block in blocks for line in block.splitlines() if line.startswith("python hw1/")]


def test_the_page_names_a_tiny_budget_for_each_of_its_scripts():
    scripts = {words[1].removeprefix("hw1/") for words in page_commands()}
    assert scripts == set(SMALLER), scripts


@pytest.mark.slow
def test_every_command_of_the_homework_page_runs_from_a_fresh_folder(tmp_path):
    (tmp_path / "experts").symlink_to(REPO_ROOT / "experts")
    rendering = run_script("render_video.py", "--check").returncode == 0
    for words in page_commands():
        script = words[1].removeprefix("hw1/")
        if script == "render_video.py" and not rendering:
            continue  # offscreen rendering is not available here; tests/test_reproduce.py says so too
        arguments = [word.replace("/tmp/", f"{tmp_path}/") for word in words[2:]] + SMALLER[script]
        result = run_script(script, *arguments, cwd=tmp_path, timeout=600)
        assert result.returncode == 0, f"{' '.join(words)}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert (tmp_path / "data" / "Hopper-v1_10_rollouts.h5").exists()  # where bc.py and dagger.py found it
    for run in ("bc_hopper", "bc_hopper_1rollout", "dagger_hopper_1rollout"):
        assert (tmp_path / "runs" / "homework" / run / "metrics.json").exists(), run
    assert (tmp_path / "runs" / "homework" / "bc_curve" / "bc_curve.png").exists()
    assert not (tmp_path / "results").exists()  # a student's runs never land among the project's tables
