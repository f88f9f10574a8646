"""What produced a file: content hashes and package versions, recorded in every output."""

import hashlib
import importlib.metadata
import platform
from pathlib import Path

RECORDED_PACKAGES = ("numpy", "tensorflow", "keras", "gymnasium", "mujoco", "h5py")
"""The packages that shape the results; "tensorflow" stands for whichever TensorFlow distribution is installed."""

TENSORFLOW_DISTRIBUTIONS = ("tensorflow-cpu", "tensorflow")
"""One TensorFlow release, two names: requirements.txt installs tensorflow-cpu on Linux x86-64 and
Windows, where it has wheels, and tensorflow on macOS and Linux aarch64."""


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """Python's version and those of the packages that shape the results."""
    versions = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        names = TENSORFLOW_DISTRIBUTIONS if name == "tensorflow" else (name,)
        found = {distribution: installed_version(distribution) for distribution in names}
        installed = {distribution: version for distribution, version in found.items() if version is not None}
        versions |= installed or {names[0]: "not installed"}
    return versions


def installed_version(distribution: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
