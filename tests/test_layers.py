"""The layer rule: dependencies run data -> book -> features -> evaluation -> models -> trading -> runner.

Each test imports every module of one layer in a fresh interpreter (so nothing that an earlier
test imported counts) and lists the ``lobutils`` modules of higher layers that got imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lobutils"

ABOVE_DATA = ("book", "features", "models", "trading", "acquire", "runner", "plots")
ABOVE_BOOK = ("features", "models", "trading", "acquire", "runner", "plots")
ABOVE_FEATURES = ("models", "trading", "acquire", "runner", "plots")
ABOVE_EVALUATION = ("models", "trading", "acquire", "runner", "plots")
ABOVE_MODELS = ("trading", "acquire", "runner", "plots")
ABOVE_TRADING = ("acquire", "runner", "plots")
LAYERS = {
    "data": ABOVE_DATA,
    "book": ABOVE_BOOK,
    "features": ABOVE_FEATURES,
    "evaluation": ABOVE_EVALUATION,
    "models": ABOVE_MODELS,
    "trading": ABOVE_TRADING,
}


def modules_of(layer: str) -> list[str]:
    """Every module under ``lobutils/<layer>/``, by dotted name."""
    names = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def imported_above(modules: list[str], above: tuple[str, ...]) -> list[str]:
    """Import ``modules`` in a fresh interpreter; the ``lobutils.<above>`` modules it loaded."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"above = {above!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "                        if m.split('.')[:2][-1] in above and m.startswith('lobutils.'))))\n"
    )
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_layer_has_modules():
    assert "lobutils.data.archives.tardis" in modules_of("data")
    assert "lobutils.book.replay" in modules_of("book")


@pytest.mark.parametrize(("layer", "above"), list(LAYERS.items()), ids=list(LAYERS))
def test_a_layer_imports_nothing_above_it(layer, above):
    assert imported_above(modules_of(layer), above) == []


def test_the_check_sees_an_upward_import():
    """The probe itself: importing a runner module does load runner modules."""
    assert "lobutils.runner.batch.grid" in imported_above(["lobutils.runner.batch"], ("runner",))


def test_snapshot_status_codes_are_the_replays():
    """The Tardis snapshot reader writes the replay's status codes without importing it."""
    from lobutils.book.replay import CROSSED, VALID
    from lobutils.data.archives import tardis

    assert (tardis._VALID, tardis._CROSSED) == (VALID, CROSSED)
