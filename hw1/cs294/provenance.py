"""What produced a file: content hashes and package versions, recorded in every output."""

import hashlib
import importlib.metadata
import platform
from pathlib import Path

RECORDED_PACKAGES = ("numpy", "tensorflow-cpu", "keras", "gymnasium", "mujoco", "h5py")


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
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
