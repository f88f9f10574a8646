"""Bad input to replay.py and tables.py: each ends in one line on stderr and exit code 2, never a traceback.

replay.py refuses an episode number its file does not have, and a task whose window needs a package that is
not installed, before any window opens. tables.py refuses a run's metrics.json that is valid JSON of the wrong
shape, a folder, or holds a return that is NaN or infinite, naming the file, as it refuses one that is not JSON.
"""

import importlib.util
import json
import math
import shutil
import sys
from pathlib import Path

import pytest
import tables
from conftest import run_script, write_expert_rollouts
from cs294 import cli

# A display that does not exist: a replay that got as far as opening a window would crash on it, not refuse.
NO_SUCH_DISPLAY = ":cs294-no-such-display"


def one_line_refusal(result) -> str:
    """The script's one-line refusal on stderr, asserted as such."""
    stderr = result.stderr.strip()
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr
    return stderr


@pytest.fixture(scope="module")
def rollout_files(tmp_path_factory) -> dict[str, Path]:
    """Two real episodes each of Hopper (a MuJoCo task) and CartPole (a classic-control one), written by run_expert.py."""
    directory = tmp_path_factory.mktemp("replay")
    return {env: write_expert_rollouts(directory, env, 2, 10) for env in ("Hopper-v1", "CartPole-v1")}


@pytest.mark.parametrize("episodes", ["2", "99", "-1", "0,5"])
def test_replay_refuses_an_episode_the_file_does_not_have(rollout_files, episodes, monkeypatch):
    monkeypatch.setenv("DISPLAY", NO_SUCH_DISPLAY)
    message = one_line_refusal(run_script("replay.py", str(rollout_files["Hopper-v1"]), "--episodes", episodes))
    outside = next(index for index in map(int, episodes.split(",")) if not 0 <= index < 2)
    assert f"--episodes {outside} is out of range" in message and "has 2 episodes, numbered 0 to 1" in message, message


@pytest.mark.skipif(importlib.util.find_spec("pygame") is not None, reason="pygame is installed: CartPole's window would open")
def test_replay_of_a_classic_control_task_without_pygame_says_what_to_install(rollout_files, monkeypatch):
    monkeypatch.setenv("DISPLAY", NO_SUCH_DISPLAY)
    message = one_line_refusal(run_script("replay.py", str(rollout_files["CartPole-v1"])))
    assert "CartPole-v1" in message and "pygame" in message and 'pip install "gymnasium[classic-control]"' in message, message


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display check is Linux's")
def test_replay_without_a_display_names_what_replay_offers_not_a_flag_it_lacks(rollout_files, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    message = one_line_refusal(run_script("replay.py", str(rollout_files["Hopper-v1"])))
    assert "no display was found" in message and "xvfb-run" in message and "render_video.py" in message, message
    assert "--render" not in message, message  # replay.py has no --render to drop


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory, rollout_files) -> dict[str, Path]:
    """One short real bc.py run and one real dagger.py run on Hopper: their run folders, each with its metrics.json."""
    import bc
    import dagger

    directory = tmp_path_factory.mktemp("runs")
    common = ["Hopper-v1", "--data", str(rollout_files["Hopper-v1"]), "--epochs", "1", "--eval_episodes", "1", "--hidden", "8,8"]
    runs = {"bc": directory / "bc", "dagger": directory / "dagger"}
    assert cli.run(bc.main, bc.build_parser(), [*common, "--run_dir", str(runs["bc"])]) == 0
    assert cli.run(dagger.main, dagger.build_parser(), [*common, "--iterations", "1", "--rollouts_per_iter", "1", "--retrain_epochs", "1",
                                                        "--curve_episodes", "1", "--run_dir", str(runs["dagger"])]) == 0
    return runs


def results_tree(root: Path, real_runs: dict[str, Path]) -> Path:
    """<root>/results/Hopper-v1/{bc,dagger}/seed0: the real runs where tables.py looks for them."""
    results = root / "results"
    for method, run_dir in real_runs.items():
        shutil.copytree(run_dir, results / "Hopper-v1" / method / "seed0")
    return results


def tables_run(results: Path, capsys) -> tuple[int, str, str]:
    code = cli.run(tables.main, tables.build_parser(), ["--results", str(results)])
    output = capsys.readouterr()
    return code, output.out, output.err.strip()


def damage(metrics_path: Path, how: str) -> str:
    """Damage a real metrics.json as named; returns what the refusal must say is wrong."""
    if how == "a folder":
        metrics_path.unlink()
        metrics_path.mkdir()
        return "a folder, not a file"
    metrics = json.loads(metrics_path.read_text())
    if how == "a list":
        metrics, problem = [metrics], "a JSON list"
    elif how == "no expert":
        del metrics["expert"]
        problem = "expert is missing"
    elif how == "no iterations":
        metrics["iterations"], problem = [], "iterations is empty"
    elif how == "NaN mean":
        metrics["evaluation"]["mean"], problem = math.nan, "evaluation.mean is NaN, not a finite number"
    elif how == "infinite expert":
        metrics["expert"]["mean"], problem = -math.inf, "expert.mean is -Infinity, not a finite number"
    elif how == "NaN iteration":
        last = len(metrics["iterations"]) - 1
        metrics["iterations"][last]["return_mean"], problem = math.nan, f"iterations[{last}].return_mean is NaN"
    elif how == "bad losses":
        metrics["validation_loss_per_epoch"], problem = "x", 'validation_loss_per_epoch is "x", not a list of lists'
    elif how == "string mean":
        metrics["evaluation"]["mean"], problem = "abc", 'evaluation.mean is "abc", not a number'
    metrics_path.write_text(json.dumps(metrics))  # Python writes NaN and Infinity, which json.loads reads back
    return problem


@pytest.mark.parametrize("method, how", [("bc", "a list"), ("bc", "no expert"), ("dagger", "no iterations"), ("bc", "a folder"),
                                         ("bc", "NaN mean"), ("dagger", "infinite expert"), ("dagger", "NaN iteration"), ("bc", "string mean"),
                                         ("dagger", "bad losses")])
def test_tables_refuse_a_damaged_metrics_file_in_one_line_naming_it(tmp_path, real_runs, method, how, capsys):
    results = results_tree(tmp_path, real_runs)
    metrics_path = results / "Hopper-v1" / method / "seed0" / "metrics.json"
    problem = damage(metrics_path, how)
    code, out, err = tables_run(results, capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert f"{metrics_path} is damaged ({problem}" in err and "make that run again" in err and "remove that run's folder" in err, err
    assert "nan" not in out.lower()


def test_tables_refuse_a_damaged_run_of_the_data_efficiency_study(tmp_path, real_runs, capsys):
    results = results_tree(tmp_path, real_runs)
    study_run = results / "Hopper-v1" / "efficiency" / "dagger" / "demos1_seed0"
    shutil.copytree(real_runs["dagger"], study_run)
    damage(study_run / "metrics.json", "no iterations")
    code, _, err = tables_run(results, capsys)
    assert code == 2 and f"{study_run / 'metrics.json'} is damaged (iterations is empty)" in err, err


def test_tables_pass_over_a_study_folder_that_is_no_run_and_an_unfinished_run(tmp_path, real_runs, capsys):
    results = results_tree(tmp_path, real_runs)
    shutil.copytree(real_runs["bc"], results / "Hopper-v1" / "efficiency" / "bc" / "demos1_seed0")
    (results / "Hopper-v1" / "efficiency" / "bc" / "demosX_seed0").mkdir()  # not studies.efficiency_run_dir's demos<N>_seed<S>
    unfinished = results / "Hopper-v1" / "dagger" / "seed1"
    shutil.copytree(real_runs["dagger"], unfinished)
    metrics = json.loads((unfinished / "metrics.json").read_text())
    (unfinished / "metrics.json").write_text(json.dumps({**metrics, "complete": False, "iterations": []}))  # stopped before a commit
    code, out, err = tables_run(results, capsys)
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("| Hopper-v1"))
    assert "| 1/1 |" in row and "nan" not in out, row  # one BC run and one DAgger run: the unfinished one counts in no table
    assert any(line.startswith("| Hopper-v1 | 1 |") for line in out.splitlines()), out  # the study's row from 1 rollout
