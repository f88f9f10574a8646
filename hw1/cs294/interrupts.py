"""Ctrl-C that stops a run even where TensorFlow swallows it.

Python raises KeyboardInterrupt wherever the main thread is when SIGINT arrives. When that is Python
code that TensorFlow's C layer calls back into (measured: `context._handle`, reached from
`tf.summary.scalar` in the per-epoch logger), the C layer drops the exception and the fit runs on:
100,000 epochs for a Ctrl-C. So the handler also records the interrupt, and the long loops (every
epoch of a fit, every step of the rollout loop) raise it again until it gets through.
"""

import contextlib
import signal
import threading
from typing import Iterator

_requested = False


def _record_and_raise(signum: int, frame: object) -> None:
    global _requested
    _requested = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def ctrl_c_stops_the_run() -> Iterator[None]:
    """Within the block, Ctrl-C raises KeyboardInterrupt and stays recorded for stop_if_interrupted.

    A SIGINT that is ignored (a shell's background job, the warm server) or handled otherwise stays so.
    """
    global _requested
    ours = threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if ours:
        signal.signal(signal.SIGINT, _record_and_raise)
    _requested = False
    try:
        yield
    finally:
        _requested = False
        if ours:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def stop_if_interrupted() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C arrived, even one that something swallowed on its way up."""
    if _requested:
        raise KeyboardInterrupt
