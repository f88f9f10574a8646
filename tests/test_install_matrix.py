"""requirements.txt resolves to wheels on each platform and Python version students use, as docs/install.md says.

Each cell is `uv pip compile --only-binary :all: --python-platform P --python-version V requirements.txt`,
which evaluates the markers (and those of every dependency) for P and V, not for this machine. It
needs the package registry: where that cannot be reached, the tests are skipped, saying so.

    python tests/test_install_matrix.py     # prints the matrix of docs/install.md
"""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"
PLATFORMS = {
    "Linux x86-64": "x86_64-manylinux_2_28",
    "Linux aarch64": "aarch64-manylinux_2_28",
    "macOS arm64": "aarch64-apple-darwin",
    "macOS x86-64": "x86_64-apple-darwin",
    "Windows x86-64": "x86_64-pc-windows-msvc",
}
PYTHONS = ("3.11", "3.12", "3.13")
UNSUPPORTED = {"macOS x86-64": "tensorflow"}
"""Cells that cannot resolve at these pins, and the package without a wheel there (TensorFlow's last Intel-Mac wheel is 2.16.2)."""


def resolve(platform: str, python: str, requirements: str = str(REQUIREMENTS), stdin: str | None = None) -> subprocess.CompletedProcess:
    """uv's resolution of requirements.txt (or of `stdin`, with requirements "-") for one cell, wheels only."""
    return subprocess.run([sys.executable, "-m", "uv", "pip", "compile", "--quiet", "--no-header", "--no-annotate", "--only-binary", ":all:",
                           "--python-platform", PLATFORMS[platform], "--python-version", python, requirements],
                          input=stdin, capture_output=True, text=True, timeout=300, cwd=REQUIREMENTS.parent,  # `-e .` is the checkout
                          env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"})  # resolve for the version; never fetch an interpreter


@pytest.fixture(scope="module")
def resolutions() -> dict[tuple[str, str], subprocess.CompletedProcess]:
    """Every cell's resolution, run side by side: each spends its time waiting on the registry."""
    pytest.importorskip("uv", reason="uv is pinned in requirements.txt; install it to resolve for other platforms")
    probe = resolve("Linux x86-64", "3.11", "-", stdin="packaging==26.4\n")  # one small package: can the registry be reached?
    if probe.returncode != 0:
        pytest.skip("the package registry cannot be reached from here, so requirements.txt cannot be resolved: "
                    + (probe.stderr.strip().splitlines() or ["no message"])[-1].strip())
    cells = [(platform, python) for platform in PLATFORMS for python in PYTHONS]
    with ThreadPoolExecutor(max_workers=len(cells)) as pool:
        return dict(zip(cells, pool.map(lambda cell: resolve(*cell), cells)))


@pytest.mark.registry
@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_requirements_resolve_to_wheels(resolutions, platform, python):
    completed = resolutions[platform, python]
    if platform in UNSUPPORTED:
        said = " ".join(completed.stderr.split())  # uv wraps its message to the terminal's width, which differs under pytest-xdist
        assert completed.returncode != 0 and f"{UNSUPPORTED[platform]}" in said and "no wheels with a matching platform tag" in said, completed.stderr
        return
    assert completed.returncode == 0, completed.stderr
    pins = dict(line.split("==") for line in completed.stdout.splitlines() if "==" in line)
    tensorflow = "tensorflow-cpu" if platform in ("Linux x86-64", "Windows x86-64") else "tensorflow"
    assert pins[tensorflow] == "2.21.0" and ({"tensorflow", "tensorflow-cpu"} - {tensorflow}).isdisjoint(pins)
    for line in REQUIREMENTS.read_text().splitlines():  # every pin of requirements.txt is what resolves
        if "==" in line and not line.startswith(("#", "tensorflow")):
            name, version = line.split(";")[0].strip().split("==")
            assert pins[name.split("[")[0]] == version, (name, version)


def matrix() -> str:
    """The Markdown table of docs/install.md: ✔ where every package has a wheel, else the first that has none."""
    rows = ["| | " + " | ".join(PYTHONS) + " |", "|---|" + "---|" * len(PYTHONS)]
    for platform in PLATFORMS:
        cells = []
        for python in PYTHONS:
            completed = resolve(platform, python)
            cause = next((line for line in completed.stderr.splitlines() if "no wheels" in line), "")
            cells.append("✔" if completed.returncode == 0 else "✘ " + cause.split("Because ")[-1].split(" has no wheels")[0].split("{")[0])
        rows.append(f"| {platform} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(matrix())
