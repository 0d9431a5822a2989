"""lobutils.models.backend: choosing the Keras backend before Keras is imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lobutils.models.backend import BACKENDS, load_keras


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="theano"):
        load_keras("theano")


def test_backend_is_applied_before_import_and_cannot_change_after():
    code = (
        "import os, sys\n"
        "from lobutils.models.backend import load_keras\n"
        "os.environ.pop('KERAS_BACKEND', None)\n"
        "k = load_keras('tensorflow')\n"
        "print(k.backend.backend(), os.environ['KERAS_BACKEND'])\n"
        "assert load_keras(None) is k and load_keras('tensorflow') is k\n"
        "try:\n"
        "    load_keras('jax')\n"
        "except RuntimeError as e:\n"
        "    print('refused:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "tensorflow tensorflow"
    assert lines[1].startswith("refused:") and "restart the kernel" in lines[1]


def test_backends_listed():
    assert BACKENDS == ("tensorflow", "jax", "torch")
