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
import importlib.util
import os
import sys
import tempfile
from types import ModuleType

__all__ = ["BACKENDS", "import_quietly", "load_keras"]

BACKENDS = ("tensorflow", "jax", "torch")
"""The Keras 3 backends the model code runs on."""
_PACKAGES = {"tensorflow": "tensorflow-cpu", "jax": "jax", "torch": "torch"}


def import_quietly(name: str) -> ModuleType:
    """``importlib.import_module(name)`` with the C-level standard error captured.

    A module already imported is returned at once. On failure the captured text is written
    to ``sys.stderr`` before the exception propagates, so nothing that explains an error is
    lost.

    Parameters
    ----------
    name : str
        Dotted module name, e.g. ``"keras"``.

    Returns
    -------
    types.ModuleType
        The imported module.
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


def load_keras(backend: str | None = None) -> ModuleType:
    """Import Keras on the chosen backend (quietly) and return the module.

    Keras reads ``KERAS_BACKEND`` once, when it is first imported, so a chapter's ``BACKEND``
    parameter must be applied before anything imports Keras. ``None`` keeps
    ``$KERAS_BACKEND``, or Keras's default (TensorFlow). TensorFlow's C++ start-up notices are
    silenced (``TF_CPP_MIN_LOG_LEVEL=3``); real errors still raise.

    Parameters
    ----------
    backend : {"tensorflow", "jax", "torch"} or None
        The Keras backend; None keeps ``$KERAS_BACKEND`` or Keras's default.

    Returns
    -------
    types.ModuleType
        The ``keras`` module.

    Raises
    ------
    ValueError
        For an unknown backend name.
    RuntimeError
        When Keras was already imported on another backend (restart the kernel).
    ModuleNotFoundError
        When the backend's library is not installed; the message names the package.

    Examples
    --------
    >>> load_keras("theano")
    Traceback (most recent call last):
    ...
    ValueError: backend must be one of ('tensorflow', 'jax', 'torch') or None, got 'theano'
    """
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS} or None, got {backend!r}")
    if "keras" in sys.modules:
        active = sys.modules["keras"].backend.backend()
        if backend is not None and active != backend:
            raise RuntimeError(
                f"Keras is already running on {active!r} in this process; restart the kernel "
                f"to use {backend!r} (Keras picks its backend once, at import)"
            )
        return sys.modules["keras"]
    if backend is not None:
        os.environ["KERAS_BACKEND"] = backend
    chosen = os.environ.get("KERAS_BACKEND", "tensorflow")
    if chosen in _PACKAGES and importlib.util.find_spec(chosen) is None:
        raise ModuleNotFoundError(
            f"the Keras backend {chosen!r} is not installed: pip install {_PACKAGES[chosen]}"
        )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras = import_quietly("keras")
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # tf.function retracing notices
    return keras
