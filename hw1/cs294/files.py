"""Files written whole or not at all: a reader sees the old file or the new one, never half of one.

Nothing here imports TensorFlow, so TensorFlow-free processes (rendering, the report) can use it.
"""

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

from cs294.errors import UserError


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it to `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The suffix stays last because some writers insist on it (Keras saves only to *.keras).
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    """Write a text file atomically: readers see the old file or the new one, never half of one."""
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def read_json(path: str | Path) -> Any:
    """Read a JSON file this project wrote."""
    return json.loads(Path(path).read_text())


def write_json(path: str | Path, payload: Any) -> None:
    """Write JSON atomically."""
    write_text(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def check_json_copy(output: Path, whose: str) -> None:
    """A markdown --output and its JSON copy (<name>.json) are two files, and the copy can be written (cli checked the rest)."""
    # `whose` is a possessive ("table's", "tables'") because the scripts write one table or several.
    copy = output.with_suffix(".json")
    if output.suffix.lower() == ".json":  # the copy would be --output itself
        raise UserError(f"--output {output} names the {whose} JSON copy ({copy.name}, written beside --output) itself; "
                        f"name a .md file, such as {output.with_suffix('.md').name}")
    if copy.is_dir():
        raise UserError(f"--output {output} writes its JSON copy to {copy}, which is a directory; choose another --output")
