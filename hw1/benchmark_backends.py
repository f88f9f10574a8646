"""Wall time of reproduce.py's profiles on the local backend and on Ray, side by side, on this machine.

    python hw1/benchmark_backends.py                       # tiny and demo, local and a private Ray instance
    python hw1/benchmark_backends.py --profiles tiny --output results/backends.md

Each run starts clean in a temporary directory (nothing cached) and runs as many steps side by
side as the machine has cores. Ray's overhead per step is (Ray's wall time - local wall time) /
steps: what shipping inputs and outputs through the object store, starting tasks and the
workers' scratch directories cost. A benchmark, not a test: the numbers depend on the machine.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cs294 import cli, files
from cs294.errors import UserError
from cs294.plans import PROFILES

HW1_DIR = Path(__file__).resolve().parent


def timed_run(profile: str, backend: str, directory: Path) -> tuple[float, int]:
    """Seconds of one clean `reproduce.py --profile P --backend B`, and the steps it ran."""
    command = [sys.executable, str(HW1_DIR / "reproduce.py"), "--profile", profile, "--backend", backend, "--no_videos",
               "--root", str(directory / "results"), "--data_dir", str(directory / "data")]
    began = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {(completed.stderr.strip().splitlines() or ['?'])[-1]}")
    summary = [line for line in completed.stdout.splitlines() if "steps ran" in line][-1]
    return seconds, int(summary.split()[0])


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("benchmark_backends.py", __doc__)
    parser.add_argument("--profiles", default="tiny,demo", help="comma-separated profiles of reproduce.py (default: tiny,demo)")
    parser.add_argument("--output", type=Path, default=None, help="also write the table to this markdown file")
    return parser


def chosen_profiles(text: str) -> list[str]:
    """--profiles, checked before the first run starts: a misspelt one would otherwise fail only after the runs before it."""
    profiles = text.split(",")
    unknown = [profile for profile in profiles if profile not in PROFILES]
    if unknown:
        raise UserError(f"--profiles {text!r}: {unknown[0]!r} is not a profile of reproduce.py; choose from {', '.join(PROFILES)}")
    if len(set(profiles)) < len(profiles):
        raise UserError(f"--profiles {text!r} names a profile twice; name each once")
    return profiles


def main(args: argparse.Namespace) -> list[dict]:
    """Run each profile on both backends from a clean start; print and return the table."""
    rows = []
    for profile in chosen_profiles(args.profiles):
        times = {}
        for backend in ("local", "ray"):
            with tempfile.TemporaryDirectory(prefix=f"backends-{profile}-{backend}-") as directory:
                times[backend], steps = timed_run(profile, backend, Path(directory))
            print(f"{profile} on {backend}: {times[backend]:.1f} s, {steps} steps", flush=True)
        rows.append({"profile": profile, "steps": steps, "local": times["local"], "ray": times["ray"],
                     "ratio": times["ray"] / times["local"], "overhead_per_step": (times["ray"] - times["local"]) / steps})
    lines = [f"Measured by `python hw1/benchmark_backends.py --profiles {args.profiles}` on {os.cpu_count()} cores, each run from a clean start.", "",
             "| profile | steps | local | Ray (private instance) | Ray / local | Ray's overhead per step |", "|---|---|---|---|---|---|"]
    lines += [f"| {row['profile']} | {row['steps']} | {row['local']:.1f} s | {row['ray']:.1f} s | {row['ratio']:.2f} | {row['overhead_per_step']:+.2f} s |"
              for row in rows]
    print("\n".join(lines))
    if args.output:
        files.write_text(args.output, "# Local and Ray backends\n\n" + "\n".join(lines) + "\n")
    return rows


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))
