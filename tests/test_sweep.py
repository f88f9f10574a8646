"""sweep.py: a real grid of bc.py runs as cached steps, its table with n and bootstrap intervals, and the HParams logs."""

import json

import pytest

import sweep
from conftest import run_script
from cs294 import cli, sweeps


def test_bootstrap_interval_holds_the_mean_and_lies_within_the_values():
    low, high = sweeps.bootstrap_interval([1.0, 2.0, 3.0, 10.0])
    assert 1.0 <= low < 4.0 < high <= 10.0
    assert sweeps.bootstrap_interval([5.0]) == (5.0, 5.0)


@pytest.mark.slow
def test_a_grid_of_bc_runs_gives_one_row_per_cell_then_is_cached(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text('script = "bc"\ntasks = ["CartPole-v1"]\nseeds = [0, 1]\nrollouts = 2\n'
                      '[grid]\nlearning_rate = [0.01, 0.001]\n[fixed]\nepochs = 1\neval_episodes = 1\n')
    arguments = ["--config", str(config), "--root", str(tmp_path / "sweep"), "--data_dir", str(tmp_path / "data"), "--jobs", "2"]
    first = sweep.main(sweep.build_parser().parse_args(arguments))
    assert len(first["ran"]) == 5  # the data and 2 cells x 2 seeds
    rows = first["rows"]
    assert [row["cell"] for row in rows] == [{"learning_rate": "0.01"}, {"learning_rate": "0.001"}]
    for row in rows:
        assert row["n"] == 2 and min(row["returns"]) <= row["ci95"][0] <= row["mean"] <= row["ci95"][1] <= max(row["returns"])
        assert row["expert"] == 500.0
    table = (tmp_path / "sweep" / "sweep.md").read_text()
    assert "| CartPole-v1 | 0.01 |" in table and "(n = 2)" in table and "95% CI" in table
    assert json.loads((tmp_path / "sweep" / "sweep.json").read_text())["rows"] == json.loads(json.dumps(rows))
    assert "_hparams_/session_start_info" in tensorboard_tags_of(tmp_path / "sweep" / "hparams" / "CartPole-v1" / "learning_rate-0.01" / "seed0")

    again = sweep.main(sweep.build_parser().parse_args(arguments))
    assert again["ran"] == [] and len(again["cached"]) == 5 and again["rows"] == rows


def tensorboard_tags_of(directory):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(directory))
    accumulator.Reload()
    return {tag for tags in accumulator.Tags().values() if isinstance(tags, list) for tag in tags}


@pytest.mark.parametrize("arguments, message", [
    (["bc", "--grid", "no_such_option=1,2"], "bc.py has no option --no_such_option"),
    (["bc", "--grid", "learning_rate"], "write NAME=VALUE1,VALUE2"),
    (["bc", "--set", "seed=3"], "--seed is set by the sweep itself"),
    (["--tasks", "Hopper-v1"], "name the script to sweep"),
    (["bc", "--seeds", "a,b"], "give whole numbers"),
    (["bc", "--seeds", "0,0"], "seeds lists a value twice"),
    (["bc", "--set", "resume=1"], "--resume is the sweep's to decide"),
    (["bc", "--grid", "learning_rate=0.001,-1"], "run bc/Hopper-v1/learning_rate--1/seed0: --learning_rate must be positive"),
    (["bc", "--grid", "hidden=64,64;ab"], "--hidden takes comma-separated layer sizes"),
    (["dagger", "--set", "beta=2"], "--beta must be in [0, 1]"),
    (["bco", "--tasks", "Hoper-v1"], "Did you mean Hopper-v1?"),
    (["bc", "--set", "learning_rate=inf"], "--learning_rate must be a finite number"),
    (["bc", "--set", "help=1"], "--help is not an option of a run"),
    # An empty list is refused as ',' is, not taken for the defaults (--dry_run: without the check it would list the defaults' runs).
    (["bc", "--tasks", "", "--dry_run"], "--tasks: give one or more tasks"),
    (["bc", "--seeds", "", "--dry_run"], "--seeds: give one or more seeds"),
    (["bc", "--seeds", ",", "--dry_run"], "--seeds: give one or more seeds"),
    (["bc", "--config", "", "--dry_run"], "--config is empty; name a TOML sweep file"),
])
def test_a_bad_sweep_is_refused_in_one_line_before_anything_runs(tmp_path, arguments, message, capsys):
    # In this process, through the scripts' own entry point (cli.run): a fresh interpreter per case only added its start-up.
    code = cli.run(sweep.main, sweep.build_parser(), [*arguments, "--root", str(tmp_path / "sweep"), "--data_dir", str(tmp_path / "data")])
    error = capsys.readouterr().err
    assert code != 0 and "Traceback" not in error
    assert message in error and len(error.strip().splitlines()) == 1, error
    assert not (tmp_path / "sweep").exists() and not (tmp_path / "data").exists()


@pytest.mark.parametrize("flag, blank", [("--root", ""), ("--data_dir", ""), ("--root", " ")])
def test_an_empty_root_or_data_dir_is_refused_not_taken_as_the_current_directory(tmp_path, monkeypatch, flag, blank, capsys):
    # Path("") is ".": a sweep started from the checkout would have written into its top level (and " " into a folder named " ").
    monkeypatch.chdir(tmp_path)
    paths = {"--root": str(tmp_path / "sweep"), "--data_dir": str(tmp_path / "data"), flag: blank}
    code = cli.run(sweep.main, sweep.build_parser(), ["bc", "--tasks", "CartPole-v1", "--seeds", "0", "--dry_run",
                                                      *[word for pair in paths.items() for word in pair]])
    error = capsys.readouterr().err
    assert code != 0 and f"{flag} is empty; give a folder" in error and len(error.strip().splitlines()) == 1, error
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, kind, message", [
    ("hparams", "file", "hparams (where the sweep keeps its HParams logs) is a file, not a folder"),
    ("sweep.md", "folder", "sweep.md (where the sweep writes its table) is a folder, not a file"),
    ("sweep.json", "folder", "sweep.json (where the sweep writes its table) is a folder, not a file"),
    ("sweep_state", "file", "sweep_state (where the sweep keeps its cache stamps) is a file, not a folder"),
])
def test_a_root_where_the_table_or_logs_cannot_go_is_refused_before_any_run(tmp_path, name, kind, message, capsys):
    # Not --dry_run: the sweep used to run every run and only then end in a traceback writing the table or the HParams logs.
    root = tmp_path / "sweep"
    root.mkdir()
    (root / name).mkdir() if kind == "folder" else (root / name).write_text("")
    code = cli.run(sweep.main, sweep.build_parser(), ["bc", "--tasks", "CartPole-v1", "--seeds", "0", "--rollouts", "1", "--set", "epochs=1",
                                                      "--set", "eval_episodes=1", "--root", str(root), "--data_dir", str(tmp_path / "data")])
    error = capsys.readouterr().err
    assert code != 0 and "Traceback" not in error
    assert message in error and "use another --root" in error and len(error.strip().splitlines()) == 1, error
    assert [path.name for path in root.iterdir()] == [name] and not (tmp_path / "data").exists()


def test_a_sweep_file_of_the_wrong_types_is_refused_in_one_line(tmp_path, capsys):
    for text, message in [('seeds = 3\nscript = "bc"\n', "seeds must be a list"), ('tasks = ["Hopper-v1"]\n[grid]\nlr = 0.1\n', "is a list of values"),
                          ('tasks = "Hopper-v1"\n', "tasks must be a list"), ("seeds = [", "not a valid TOML sweep file")]:
        config = tmp_path / "sweep.toml"
        config.write_text(text)
        code = cli.run(sweep.main, sweep.build_parser(), ["bc", "--config", str(config), "--root", str(tmp_path / "sweep")])
        error = capsys.readouterr().err
        assert code != 0 and message in error and len(error.strip().splitlines()) == 1, error


def test_relative_paths_are_relative_to_the_current_directory(tmp_path):
    result = run_script("sweep.py", "bc", "--tasks", "Hopper-v1", "--seeds", "0", "--root", "out", "--dry_run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"--run_dir {tmp_path.resolve() / 'out' / 'Hopper-v1' / 'bc' / 'default' / 'seed0'}" in result.stdout


def test_a_bco_run_is_scored_by_the_policy_it_kept_not_its_last_iteration():
    from cs294 import cli, sweeps

    bco_metrics = {"iterations": [{"return_mean": 900.0}, {"return_mean": 300.0}], "summary": {"kept": {"iteration": 0, "return": 900.0}},
                   "expert": {"mean": 1000.0}}
    dagger_metrics = {"iterations": [{"return_mean": 900.0}, {"return_mean": 300.0}], "expert": {"mean": 1000.0}}
    assert sweeps.final_return(bco_metrics) == (900.0, 1000.0)
    assert sweeps.final_return(dagger_metrics) == (300.0, 1000.0)
