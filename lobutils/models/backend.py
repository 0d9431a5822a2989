"""Backend helpers that import no deep-learning library themselves.

TensorFlow writes a few lines to the process's standard error while it loads (oneDNN notices,
absl's "log messages before InitializeLog" banner), from C++ and before any Python logging
setting applies, so they land in a notebook's output. :func:`import_quietly` imports a module
with file descriptor 2 captured, and shows what was captured only when the import fails.

Examples
--------
>>> json = import_quietly("json")
>>> json.dumps([1])
'[1]'
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from types import ModuleType

__all__ = ["import_quietly"]


def import_quietly(name: str) -> ModuleType:
    """``importlib.import_module(name)`` with the C-level standard error captured.

    A module already imported is returned at once. On failure the captured text is written
    to ``sys.stderr`` before the exception propagates, so nothing that explains an error is
    lost.
    """
    if name in sys.modules:
        return sys.modules[name]
    fd = 2  # the C library's stderr, whatever Python's sys.stderr is (a notebook's stream)
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), fd)
        try:
            module = importlib.import_module(name)
        except BaseException:
            os.dup2(saved, fd)
            tmp.seek(0)
            sys.stderr.write(tmp.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, fd)
            os.close(saved)
    return module
