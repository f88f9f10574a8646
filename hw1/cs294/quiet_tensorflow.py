"""Import TensorFlow with its C++ start-up banner (absl and oneDNN notices) kept off stderr.

TF_CPP_MIN_LOG_LEVEL does not silence these when set from inside Python, so stderr is pointed at
/dev/null for the import alone. A failing import still raises, and its traceback shows. Set
CS294_TF_LOGS=1 to see the banner. Import this module before keras.
"""

import os
import sys


def _import_tensorflow_quietly() -> None:
    if os.environ.get("CS294_TF_LOGS") == "1" or "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)


_import_tensorflow_quietly()
