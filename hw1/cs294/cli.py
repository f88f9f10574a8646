"""Running a script's main() so that user mistakes end in one clear line, not a traceback."""

import argparse
import errno
import math
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

from cs294 import interrupts
from cs294.errors import UserError

class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The description as written, and each option's default where its help does not already give it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" not in text and action.option_strings and not any(action.default is nothing for nothing in (None, False, argparse.SUPPRESS)):
            text += " (default: %(default)s)"
        return text


def make_parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """A script's parser in the project's one --help style: its docstring, defaults shown, its example command last."""
    lines = doc.strip("\n").splitlines()
    examples = [line.strip() for line in lines if line.startswith("    python hw1/")]
    description = re.sub(r"\n{3,}", "\n\n", "\n".join(line for line in lines if not line.startswith("    python hw1/")))
    epilog = ("example" + ("s" if len(examples) > 1 else "") + ":\n" + "\n".join(f"  {line}" for line in examples)) if examples else None
    return argparse.ArgumentParser(prog=prog, description=description, epilog=epilog, formatter_class=HelpFormatter)


USER_ERROR_EXIT_CODE = 2
INTERRUPTED_EXIT_CODE = 130


def comma_integers(text: str, flag: str, repeats: bool = False) -> list[int]:
    """'0,1,2' -> [0, 1, 2]; anything else, or unless `repeats` a value given twice (a row or a mean counted twice), is a UserError naming the flag."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise UserError(f"{flag} takes comma-separated integers such as 0,1,2, not {text!r}") from None
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated and not repeats:
        raise UserError(f"{flag} lists {repeated[0]} twice; give each value once")
    return values


# The flags through which scripts write; every other path-valued argument is something they read.
OUTPUT_FLAGS = ("output", "output_dir", "run_dir", "root", "data_dir")


class BlankOutput(str):
    """An output flag given as "" or spaces, kept as given: Path("") would be the current directory, silently."""

    flag: str
    """The flag as the user gives it: --run_dir, or a positional's name."""
    way_out: str
    """What else the user may do besides naming a path (", or leave the flag out for the default"), or ""."""


def keep_blank_outputs(parser: argparse.ArgumentParser) -> None:
    """Make the output flags' parsing (type Path, str or none) keep a blank value as a BlankOutput for check_common_arguments to refuse.

    A type of the script's own (pipeline.path_argument) is left alone: it keeps a blank as "" and the script refuses it in its words.
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in dict.fromkeys(action.choices.values()):
                keep_blank_outputs(subparser)
        elif action.dest in OUTPUT_FLAGS and action.type in (None, str, Path) and not getattr(action, "keeps_blank", False):
            if not action.option_strings or action.required:  # a positional or required flag cannot be left out
                way_out = ""
            elif action.default is not None or "default" in (action.help or ""):
                way_out = ", or leave the flag out for the default"
            else:
                way_out = ", or leave the flag out"
            action.type = blank_keeping(action.type or str, action.option_strings[0] if action.option_strings else action.dest, way_out)
            action.keeps_blank = True


def blank_keeping(convert: Callable[[str], Any], flag: str, way_out: str) -> Callable[[str], Any]:
    def typed(text: str) -> Any:
        if text.strip():
            return convert(text)
        blank = BlankOutput(text)
        blank.flag, blank.way_out = flag, way_out
        return blank

    typed.__name__ = getattr(convert, "__name__", "path")  # argparse names the type in its own error messages
    return typed


def check_blank_output(flag: str, value: Any) -> None:
    """Refuse an output flag that is empty or only spaces (a Path of spaces, or a BlankOutput from keep_blank_outputs)."""
    if isinstance(value, BlankOutput) or (isinstance(value, Path) and not str(value).strip()):
        name, way_out = getattr(value, "flag", f"--{flag}"), getattr(value, "way_out", ", or leave the flag out for the default")
        raise UserError(f"{name} is empty; give a {'file' if flag == 'output' else 'folder'}{way_out}")


def check_common_arguments(args: argparse.Namespace) -> None:
    """Checks every script needs: UTF-8 text, finite numbers, a seed numpy accepts, and outputs that can be written."""
    values = vars(args)
    check_utf8(values)
    for name, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"--{name} must be a finite number, got {value}")
    if isinstance(values.get("seed"), int) and values["seed"] < 0:
        raise UserError(f"--seed must be a non-negative integer, got {values['seed']}")
    inputs = [resolved(name, value) for name, value in values.items()
              if name not in OUTPUT_FLAGS and isinstance(value, (str, Path)) and value and is_file(value)]
    for flag in OUTPUT_FLAGS:
        if values.get(flag) is None:
            continue
        check_blank_output(flag, values[flag])
        try:
            check_output(flag, values[flag], inputs)
        except OSError as error:  # e.g. a folder on the way that we may not look into
            raise UserError(f"--{flag} {values[flag]} cannot be written ({error.strerror or error}); choose another path") from None


def check_utf8(values: dict[str, Any]) -> None:
    """Refuse text arguments holding bytes that are not UTF-8 (e.g. a path with byte 0xff): TensorBoard, JSON and the tables need text."""
    for name, value in values.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, (str, Path)) and not str(item).isascii():
                try:
                    str(item).encode("utf-8")
                except UnicodeEncodeError:
                    raise UserError(f"{name}={os.fsencode(str(item))!r} holds bytes that are not UTF-8; "
                                    "rename the file or folder with UTF-8 characters only") from None


def check_ray_address(address: str | None, backend: str, timeout: float) -> None:
    """--address and --address_timeout of reproduce.py and sweep.py, checked before any work (--dry_run included)."""
    if address is not None and backend != "ray":
        raise UserError(f"--address {address} needs --backend ray (the local backend runs on this machine alone)")
    if address not in (None, "auto"):
        host, colon, port = address.rpartition(":")
        if not (colon and host and port.isdigit() and 0 < int(port) < 65536):
            raise UserError(f"--address {address!r}: give HOST:PORT of the Ray head, such as 10.0.0.5:6379, or auto")
    if not 0 < timeout < math.inf:
        raise UserError(f"--address_timeout must be a positive number of seconds, got {timeout:g}")


def is_file(value: str | Path) -> bool:
    """Whether an argument names an existing file; a path we may not look at is none."""
    try:
        return Path(value).is_file()
    except OSError:
        return False


def resolved(name: str, value: str | Path) -> Path:
    """The absolute path of an argument; a symlink loop is a UserError."""
    try:
        return Path(value).resolve()
    except (OSError, RuntimeError) as error:
        raise UserError(f"{name} {value} cannot be resolved ({error}); name a path without a symlink loop") from None


def check_output(flag: str, value: str | Path, inputs: list[Path]) -> None:
    """An output must not clobber an input, must be a file or directory as the flag expects, and must lie where files can be made."""
    output = resolved(f"--{flag}", value)
    if flag == "output" and output.is_dir():
        raise UserError(f"--output {value} is a directory; name a file inside it")
    if flag != "output" and output.exists() and not output.is_dir():
        raise UserError(f"--{flag} {value} is a file, not a directory; name a directory")
    writes = {output, output.with_suffix(".json")} if flag == "output" else {output}
    clobbered = [path for path in inputs if path in writes or (flag != "output" and output in path.parents)]
    if clobbered:
        raise UserError(f"--{flag} {value} would overwrite the input {clobbered[0]}; write the output somewhere else")
    folder = next((parent for parent in output.parents if parent.exists()), output)
    if not folder.is_dir():
        raise UserError(f"--{flag} {value} lies under {folder}, which is a file; choose another path")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UserError(f"--{flag} {value} cannot be written: {folder} takes no new files ({error.strerror}); choose another path") from None


def run(
    main: Callable[[argparse.Namespace], Any],
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None = None,
) -> int:
    """Parse argv, call main, and turn a UserError or Ctrl-C into a one-line message and exit code."""
    keep_blank_outputs(parser)
    args = parser.parse_args(argv)
    try:
        with interrupts.ctrl_c_stops_the_run():
            check_common_arguments(args)
            main(args)
    except UserError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return USER_ERROR_EXIT_CODE
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return INTERRUPTED_EXIT_CODE
    except BrokenPipeError:
        # The reader of our stdout (e.g. `| head`) went away; that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:
        message = write_failure(error, parser.prog)
        if message is None:
            raise
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return USER_ERROR_EXIT_CODE
    return 0


# A full disk, a quota or a read-only mount met mid-run: the user's to fix, not a bug to show as a traceback.
WRITE_ERRNOS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up", errno.EROFS: "the file system is read-only"}


def write_failure(error: OSError, prog: str) -> str | None:
    """One line for an OSError that a full or read-only disk causes (h5py reports ENOSPC only in its message), else None."""
    reason = WRITE_ERRNOS.get(error.errno) or ("the disk is full" if "No space left on device" in str(error) else None)
    if reason is None:
        return None
    where = f" writing {error.filename}" if error.filename else ""
    return (f"{reason}{where}; files are written whole or not at all, so what was finished is intact: make room (or choose another "
            "place) and run the same command again" + (" with --resume" if prog == "dagger.py" else ""))
