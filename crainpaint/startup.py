"""Start-up of the command-line programs: TensorFlow's start-up noise kept off the terminal.

Importing TensorFlow prints lines meant for its developers (oneDNN, CUDA stubs, CPU features,
absl's "before InitializeLog" notice). Some come from C++ before any log level applies, so
``TF_CPP_MIN_LOG_LEVEL`` alone does not hide them: the import runs with the process's standard
error pointed at /dev/null. Nothing of ours is printed meanwhile, and an import that fails still
shows its Python traceback, raised after standard error is restored.

Only binaries call this (before they import anything that imports TensorFlow); ``--verbose`` or
a ``TF_CPP_MIN_LOG_LEVEL`` set by the user keeps TensorFlow's output as it is.
"""

from __future__ import annotations

import os
import sys
from typing import Sequence

VERBOSE_FLAG = "--verbose"


def wants_verbose(argv: Sequence[str]) -> bool:
    """True when ``argv`` asks for TensorFlow's own logs (``--verbose``/``--verbose=true``)."""
    for argument in argv[1:]:
        if argument == "--":
            break
        if argument == VERBOSE_FLAG or argument.lower() in (f"{VERBOSE_FLAG}=true",
                                                             f"{VERBOSE_FLAG}=1"):
            return True
    return False


def import_tensorflow_quietly(argv: Sequence[str] = ()) -> None:
    """Imports TensorFlow with its start-up lines hidden, unless the user asked for them.

    Args:
        argv: the command line; ``--verbose`` in it keeps TensorFlow's output.
    """
    if "tensorflow" in sys.modules:
        return
    if wants_verbose(argv) or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # No usable file descriptor 2 (an embedding host).
        import tensorflow  # noqa: F401
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                import tensorflow  # noqa: F401
                from absl import logging as absl_logging
                absl_logging.set_verbosity(absl_logging.WARNING)
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)
