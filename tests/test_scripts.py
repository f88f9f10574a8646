"""Every script: importable on its own, one --help style, and no script importing another."""

import ast
import importlib

import pytest

from conftest import REPO_ROOT
from cs294 import cli

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
