"""One writer per run directory: an exclusive lock held for the life of the writing process.

The lock is `fcntl.flock` on a file beside the directory (`.<name>.lock`), not inside it, so that
clearing the directory for a fresh start never removes a lock another process holds. The kernel
drops the lock when its holder dies, however it dies (kill -9 included), so a stale lock file
from a dead process never blocks anyone: the next writer simply takes it. The file records the
holder's pid, host and start time, to name it in the refusal a second writer gets.

Native Windows has no flock, and the reproduction's runner needs POSIX process groups as well, so
there taking a lock is refused in one line that points to WSL2, where the Linux install applies.
"""

import datetime
import fnmatch
import json
import os
import shutil
import socket
from pathlib import Path

from cs294.errors import UserError

try:
    import fcntl
except ImportError:  # native Windows
    fcntl = None

NATIVE_WINDOWS = ("native Windows is not supported: run the homework in WSL2 (wsl --install, then the Linux install "
                  "in its Ubuntu; docs/install.md)")

_HELD: dict[Path, int] = {}
"""Locks this process holds, by locked path; each stays held until release() or the process ends."""


def locked_path(path: Path) -> Path:
    """The path a lock is keyed on: absolute, with symlinks followed, so a link to a directory and the directory share one lock."""
    return Path(path).resolve()


def lock_file(path: Path) -> Path:
    """The lock file of a run directory or output: `.<name>.lock` beside it (beside the real one, for a symlink)."""
    path = locked_path(path)
    return path.with_name(f".{path.name}.lock")


def holder(path: Path) -> str:
    """Who holds (or last held) the lock of `path`, in words."""
    try:
        owner = json.loads(lock_file(path).read_text())
        return f"pid {owner['pid']} on {owner['host']} (since {owner['started_utc']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def acquire(path: Path) -> None:
    """Take the exclusive lock of `path` for this process, or raise a UserError naming its holder."""
    if fcntl is None:
        raise UserError(NATIVE_WINDOWS)
    path = locked_path(path)
    if path in _HELD:
        return
    lock = lock_file(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise UserError(f"{path} is in use by {holder(path)}; wait for that run to end, or write to another directory") from None
    owner = {"pid": os.getpid(), "host": socket.gethostname(),
             "started_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    os.ftruncate(descriptor, 0)
    os.write(descriptor, json.dumps(owner).encode())
    _HELD[path] = descriptor


def release(path: Path) -> None:
    """Give up this process's lock of `path` (the process's end does the same)."""
    descriptor = _HELD.pop(locked_path(path), None)
    if descriptor is not None:
        os.close(descriptor)


def is_locked(path: Path) -> bool:
    """Whether some process (this one included) holds the lock of `path` now."""
    path = locked_path(path)
    if path in _HELD:
        return True
    if not lock_file(path).exists():
        return False
    try:
        acquire(path)
    except UserError:
        return True
    release(path)
    return False


RUN_ENTRIES = ("metrics.json", "policy.keras", "last_policy.keras", "inverse_dynamics.keras", "aggregated.h5", "state.json",
               "checkpoints", "returns.png", "validation_loss.png", "events.out.tfevents.*", ".*.tmp-*",
               "tensorboard", "policy_last.keras")
"""Names bc.py, dagger.py and bco.py write in a run directory (files.atomic_path's temporary names, then the names of earlier
versions: bc_curve's tensorboard/, dagger.py's policy_last.keras); nothing else is a run's. Only the top level is checked."""


def refuse_foreign_files(run_dir: Path) -> None:
    """Refuse a run directory holding a name no run writes: --overwrite must never delete a user's own files."""
    if not run_dir.is_dir():
        return
    foreign = sorted(entry.name for entry in run_dir.iterdir()
                     if not any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in RUN_ENTRIES))
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise UserError(f"--run_dir {run_dir} holds files no run writes ({shown}), so it is not a run directory and is "
                        "never cleared, --overwrite or not; choose another directory")


def claim_run_dir(run_dir: Path, *, resume: bool = False, overwrite: bool = False) -> Path:
    """Lock a run directory for this process and make sure a fresh run starts empty.

    A fresh run refuses a directory that holds anything, unless `overwrite` clears it first, and
    refuses one holding anything a run does not write even then; `resume` continues what is there.
    Returns the directory, created if needed.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"--run_dir {run_dir} is a file, not a directory; name a directory")
    acquire(run_dir)
    if not resume:
        refuse_foreign_files(run_dir)
    if not resume and run_dir.is_dir() and any(run_dir.iterdir()):
        if not overwrite:
            raise UserError(f"--run_dir {run_dir} already holds a run; pass --resume to continue it (dagger.py), "
                            "--overwrite to replace it, or choose another directory")
        shutil.rmtree(run_dir.resolve())  # a symlink's target is cleared; the link itself is the user's and stays
    try:
        run_dir.resolve().mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create --run_dir {run_dir}: {error.strerror}") from None
    return run_dir
