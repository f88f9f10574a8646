"""The expert's returns on a run's evaluation episodes: played once per machine, then read back.

bc.py and dagger.py score the expert on the very episodes they score the policy on, so that the %
compares like with like. Those episodes depend on the run's --seed and on the data file's episode
seeds, not on the method or on --num_demos, so the full reproduction's BC, DAgger and
data-efficiency runs of one task and seed played the same 50 expert episodes eight times. The
first run now keeps the returns in a small JSON file named by a hash of everything that decides
them: the expert file's sha256, the task, the episode seeds, --num_envs, the CPU (cpu_identity), the
versions of the packages that shape results and the source of this package (an edit to any module plays them
again). A file that cannot be read, holds another key, or whose returns do not add up to its
summary is played again and rewritten, atomically. The files live in $CS294_CACHE/expert_scores
(default ~/.cache/cs294); CS294_CACHE=off plays the episodes every time.
"""

import dataclasses
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Callable

from cs294 import data, environments, files, provenance, rollouts

PACKAGE_DIR = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    """Where the played returns are kept; None when CS294_CACHE=off."""
    setting = os.environ.get("CS294_CACHE")
    if setting is None:
        try:
            setting = str(Path.home() / ".cache" / "cs294")
        except RuntimeError:  # no home directory to keep them in: play them every time
            return None
    return None if setting == "off" else Path(setting) / "expert_scores"


def cpu_identity() -> str:
    """The machine's architecture, CPU model and a hash of its instruction-set flags.

    MuJoCo's arithmetic differs in its last bits between CPU models, and an episode grows that into
    other returns: the expert's on the same 50 Humanoid episodes were 10375.3 on one x86-64 machine
    and 10173.4 on another (docs/reproduction.md). A cache shared between them must keep each one's own.
    """
    try:
        lines = Path("/proc/cpuinfo").read_text(errors="replace").splitlines()
    except OSError:  # not Linux
        lines = []
    field = lambda names: next((line.split(":", 1)[1].strip() for line in lines if line.split(":")[0].strip() in names), "")  # noqa: E731
    model = field(("model name", "Hardware", "cpu model", "uarch"))
    flags = " ".join(sorted(field(("flags", "Features", "isa")).split()))
    if not model and sys.platform == "darwin":
        try:
            model = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            model = platform.processor()
    return f"{platform.machine()} | {model or platform.processor()} | {hashlib.sha256(flags.encode()).hexdigest()[:16]}"


def cache_key(expert_path: Path, spec: environments.EnvSpec, seeds: list[int], num_envs: int) -> str:
    """sha256 of everything that decides the expert's returns on these episodes."""
    source = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        source.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    decided_by = {"expert": provenance.file_sha256(expert_path), "spec": repr(spec), "seeds": list(seeds), "num_envs": num_envs,
                  "cpu": cpu_identity(),  # a cache shared over a network between nodes of different CPUs keeps each one's own
                  "versions": provenance.package_versions(), "source": source.hexdigest()}
    return hashlib.sha256(json.dumps(decided_by, sort_keys=True).encode()).hexdigest()


def expert_returns(expert_path: Path, spec: environments.EnvSpec, seeds: list[int], num_envs: int,
                   play: Callable[[], tuple[rollouts.EpisodeStats, list[data.Trajectory]]]) -> tuple[rollouts.EpisodeStats, list[float]]:
    """The expert's stats and returns on `seeds`: read back if kept (saying so), else played with `play()` and kept."""
    directory = cache_dir()
    key = cache_key(expert_path, spec, seeds, num_envs) if directory else ""
    path = directory / f"{key}.json" if directory else None
    kept = read(path, key, len(seeds)) if path else None
    if kept:
        print(f"the expert's returns on these {len(seeds)} evaluation episodes were played before: read back from {directory}")
        return kept
    stats, episodes = play()
    returns = [trajectory.episode_return for trajectory in episodes]
    if path:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            files.write_json(path, {"key": key, "stats": dataclasses.asdict(stats), "returns": returns})
        except OSError:  # a cache that cannot be written (read-only home, full disk) only costs the next run the episodes
            pass
    return stats, returns


def read(path: Path, key: str, episodes: int) -> tuple[rollouts.EpisodeStats, list[float]] | None:
    """A kept file's stats and returns, or None if it is missing, damaged or not this key's."""
    try:
        kept = json.loads(path.read_text())
        stats, returns = rollouts.EpisodeStats(**kept["stats"]), [float(value) for value in kept["returns"]]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    whole = (kept.get("key") == key and len(returns) == episodes == stats.episodes and all(map(math.isfinite, returns))
             and math.isclose(sum(returns) / episodes, stats.mean, rel_tol=1e-9, abs_tol=1e-9))
    return (stats, returns) if whole else None
