"""Every script: importable on its own, one --help style, and no script importing another."""

import ast
import importlib
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO_ROOT
from cs294 import cli
from cs294.errors import UserError

SCRIPTS = sorted(path.stem for path in (REPO_ROOT / "hw1").glob("*.py"))


def test_the_scripts_are_the_ones_the_readme_tours():
    assert {"bc", "dagger", "bco", "run_expert", "reproduce", "check_experts"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_no_script_imports_another_script(script):
    tree = ast.parse((REPO_ROOT / "hw1" / f"{script}.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & set(SCRIPTS), f"{script}.py imports the script(s) {imported & set(SCRIPTS)}; move what it needs into cs294"


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_has_the_projects_one_style(script, capsys):
    module = importlib.import_module(script)
    parser = module.build_parser()
    with pytest.raises(SystemExit) as exit_:
        cli.run(module.main, parser, ["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: {script}.py")
    assert f"example:\n  python hw1/{script}.py" in text or f"examples:\n  python hw1/{script}.py" in text
    for action in parser._actions:  # every option with a default says what it is
        if action.option_strings and action.default not in (None, False) and action.dest != "help":
            assert "default" in parser.formatter_class(script)._get_help_string(action), action.dest


# Runs a script with --help in a fresh interpreter, as `python hw1/<script> --help` would, then reports its exit
# code, what it printed and which of the heavy modules got imported.
HELP_PROBE = """
import contextlib, io, json, runpy, sys
script = sys.argv[1]
sys.argv = [script, "--help"]
sys.path.insert(0, str(__import__("pathlib").Path(script).parent))  # as python puts a script's folder first
with contextlib.redirect_stdout(io.StringIO()) as shown:
    try:
        runpy.run_path(script, run_name="__main__")
        code = None
    except SystemExit as exit_:
        code = exit_.code
print(json.dumps({"code": code, "help": shown.getvalue(), "heavy": [name for name in ("tensorflow", "keras") if name in sys.modules]}))
"""


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_imports_neither_tensorflow_nor_keras(script):
    """--help answers at once: a script imports its heavy modules in main(), and its flags come from cs294.arguments."""
    completed = subprocess.run([sys.executable, "-c", HELP_PROBE, str(REPO_ROOT / "hw1" / f"{script}.py")], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert completed.returncode == 0, completed.stderr
    probe = json.loads(completed.stdout.splitlines()[-1])
    assert probe["code"] == 0 and probe["help"].startswith(f"usage: {script}.py"), completed.stderr
    assert probe["heavy"] == [], f"{script}.py --help imports {probe['heavy']}; import them in main() instead"


def test_every_option_of_a_script_with_several_sits_in_a_named_group():
    for script in SCRIPTS:
        parser = importlib.import_module(script).build_parser()
        options = [action.dest for action in parser._actions if action.option_strings and action.dest != "help"]
        ungrouped = [action.dest for group in parser._action_groups if group.title in ("options", "optional arguments")
                     for action in group._group_actions if action.dest != "help"]
        assert len(options) < 4 or not ungrouped, f"{script}.py: put {ungrouped} into named argument groups"


def test_bc_dagger_and_bco_record_the_shared_settings_alike(tmp_path):
    """One typed run configuration: the same shared flags give the same record in all three methods."""
    from cs294 import arguments, bco, dagger, runs

    data_file = tmp_path / "demos.h5"
    shared = ["--seed", "3", "--epochs", "7", "--hidden", "32,16", "--activation", "tanh", "--l2", "0.001", "--eval_episodes", "4"]
    parsed = {"bc": (arguments.bc_parser().parse_args(["Hopper-v1", "--data", str(data_file), *shared]), ()),
              "dagger": (arguments.dagger_parser().parse_args(["Hopper-v1", "--data", str(data_file), "--beta", "0.5", *shared]), dagger.OPTIONS),
              "bco": (arguments.bco_parser().parse_args(["Hopper-v1", "--demos", str(data_file), "--alpha", "0.25", *shared]), bco.OPTIONS)}
    records = {name: runs.RunConfig.from_args(args, options, data_path=data_file).record() for name, (args, options) in parsed.items()}
    common = set.intersection(*(set(record) for record in records.values()))
    assert {"env", "data", "seed", "eval_episodes", "policy.hidden", "policy.activation", "policy.l2", "training.epochs"} <= common
    for key in common:
        assert records["bc"][key] == records["dagger"][key] == records["bco"][key], key
    assert records["bc"]["policy.hidden"] == [32, 16] and records["dagger"]["beta"] == 0.5 and records["bco"]["alpha"] == 0.25
    with pytest.raises(UserError, match="--epochs must be at least 1"):
        runs.RunConfig.from_args(arguments.bc_parser().parse_args(["Hopper-v1", "--epochs", "0"]), data_path=data_file)
