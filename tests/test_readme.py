"""README.md quotes the reproduction's report and the expert check word for word, and says what --help says."""

import re

from conftest import REPO_ROOT
from cs294 import arguments, report

README = (REPO_ROOT / "README.md").read_text()


def block(text: str, marks: tuple[str, str] = (report.HEADLINE_START, report.HEADLINE_END)) -> list[str]:
    start, end = text.index(marks[0]), text.index(marks[1])
    return text[start:end].strip().splitlines()


def test_readme_headline_is_the_reports():
    assert block(README) == block((REPO_ROOT / "results" / "REPORT.md").read_text())


def test_readme_data_efficiency_table_is_the_reports():
    marks = (report.EFFICIENCY_START, report.EFFICIENCY_END)
    assert block(README, marks) == block((REPO_ROOT / "results" / "REPORT.md").read_text(), marks)


def test_readme_expert_table_is_the_expert_checks():
    checked = (REPO_ROOT / "results" / "expert_check" / "experts.md").read_text().strip().splitlines()
    assert "\n".join(checked) in README


def test_readme_is_short_and_links_every_docs_page():
    assert len(README.splitlines()) <= 250
    for page in sorted((REPO_ROOT / "docs").glob("*.md")):
        assert f"docs/{page.name}" in README, page.name


def test_readme_and_help_agree_on_the_input_clip_default():
    default = arguments.bc_parser().get_default("clip_observations")
    for text in [README, *(page.read_text() for page in (REPO_ROOT / "docs").glob("*.md"))]:
        for claim in re.findall(r"--clip_observations[^.]*?default[^.]*?(\d+)", text):
            assert float(claim) == default


def test_ci_runs_the_readmes_test_command_and_every_install_is_the_same():
    commands = re.findall(r"^python3\.11 -m venv .*$", README, flags=re.MULTILINE)
    tests = [command for command in commands if command.endswith("-m pytest")]
    ci = [line for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("python3.11")]
    assert len(tests) == 1 and ci == tests
    install = tests[0].removesuffix(" && .venv/bin/python -m pytest")
    for text in [README, (REPO_ROOT / "docs" / "install.md").read_text(), (REPO_ROOT / "docs" / "cluster.md").read_text()]:
        assert all(line.startswith(install) for line in re.findall(r"^python3\.11 -m venv .*$", text, flags=re.MULTILINE))
