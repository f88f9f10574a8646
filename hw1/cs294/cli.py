"""Running a script's main() so that user mistakes end in one clear line, not a traceback."""

import argparse
import os
import sys
from typing import Any, Callable, Sequence

from cs294.errors import UserError

USER_ERROR_EXIT_CODE = 2
INTERRUPTED_EXIT_CODE = 130


def comma_integers(text: str, flag: str) -> list[int]:
    """'0,1,2' -> [0, 1, 2]; anything else is a UserError naming the flag."""
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise UserError(f"{flag} takes comma-separated integers such as 0,1,2, not {text!r}") from None


def run(
    main: Callable[[argparse.Namespace], Any],
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None = None,
) -> int:
    """Parse argv, call main, and turn a UserError or Ctrl-C into a one-line message and exit code."""
    args = parser.parse_args(argv)
    try:
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
    return 0
