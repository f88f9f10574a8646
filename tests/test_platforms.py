"""Where students work: requirements.txt's markers, the TensorFlow distribution recorded, the refusal on native Windows."""

import importlib.metadata
import platform
import sys

import pytest

from conftest import REPO_ROOT
from cs294 import cluster, locks, provenance
from cs294.errors import UserError


def test_version_problem_checks_only_the_lines_whose_marker_holds_here(tmp_path):
    other = "win32" if sys.platform != "win32" else "linux"
    numpy = importlib.metadata.version("numpy")
    pins = tmp_path / "requirements.txt"
    pins.write_text(f'numpy=={numpy}; sys_platform == "{sys.platform}"\n'
                    f'no-such-package==1.0; sys_platform == "{other}"  # another platform\n'
                    f'numpy==0.0.1; python_version < "3.0"\n')
    assert cluster.version_problem(pins) is None
    pins.write_text(f'numpy==1.0.0; sys_platform == "{sys.platform}" and platform_machine == "{platform.machine()}"\n')
    assert cluster.version_problem(pins) == f"numpy {numpy} is installed, requirements.txt pins 1.0.0"


def test_requirements_pin_exactly_one_tensorflow_on_each_platform():
    lines = [line for line in (REPO_ROOT / "requirements.txt").read_text().splitlines() if line.startswith("tensorflow")]
    assert {line.split("==")[0] for line in lines} == {"tensorflow-cpu", "tensorflow"}
    from packaging.requirements import Requirement

    for environment in ({"sys_platform": "linux", "platform_machine": "x86_64"}, {"sys_platform": "linux", "platform_machine": "aarch64"},
                        {"sys_platform": "darwin", "platform_machine": "arm64"}, {"sys_platform": "win32", "platform_machine": "AMD64"}):
        chosen = [Requirement(line).name for line in lines if Requirement(line).marker.evaluate(environment)]
        assert len(chosen) == 1, (environment, chosen)
        expected = "tensorflow-cpu" if environment["sys_platform"] == "win32" or environment["platform_machine"] == "x86_64" else "tensorflow"
        assert chosen == [expected]
    here = dict(cluster.pins_for_this_machine(REPO_ROOT / "requirements.txt"))
    assert ("tensorflow-cpu" in here) != ("tensorflow" in here)


@pytest.mark.parametrize("installed", [("tensorflow-cpu",), ("tensorflow",), ()])
def test_provenance_records_whichever_tensorflow_is_installed(monkeypatch, installed):
    real = importlib.metadata.version

    def version(name: str) -> str:
        if name in provenance.TENSORFLOW_DISTRIBUTIONS:
            if name not in installed:
                raise importlib.metadata.PackageNotFoundError(name)
            return "2.21.0"
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    versions = provenance.package_versions()
    recorded = {name: value for name, value in versions.items() if name.startswith("tensorflow")}
    assert recorded == ({installed[0]: "2.21.0"} if installed else {"tensorflow-cpu": "not installed"})
    assert list(versions)[:3] == ["python", "numpy", installed[0] if installed else "tensorflow-cpu"]
