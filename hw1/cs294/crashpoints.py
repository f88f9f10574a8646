"""Named points where a test can stop a run dead, to check that a kill there leaves nothing wrong.

When the environment variable CS294_PAUSE_AT names a point, a process that reaches it writes
CS294_PAUSED_FILE (if set) and then waits to be killed; otherwise reaching a point costs nothing.
"""

import os
import time
from pathlib import Path


def reach(name: str) -> None:
    """Pause forever here if a test asked for it (CS294_PAUSE_AT=name)."""
    if os.environ.get("CS294_PAUSE_AT") != name:
        return
    marker = os.environ.get("CS294_PAUSED_FILE")
    if marker:
        Path(marker).write_text(f"{os.getpid()}\n")
    while True:
        time.sleep(60)
