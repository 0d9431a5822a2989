"""Repository hygiene: nothing machine-specific or generated is committed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lobutils.paths import REPO_ROOT

FORBIDDEN_PARTS = ("__pycache__", ".ipynb_checkpoints", ".DS_Store", ".venv", "_build")


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True)
    return [REPO_ROOT / p for p in out.stdout.decode().split("\0") if p]


def test_no_generated_files_are_tracked():
    bad = [f for f in tracked_files() if any(part in f.parts for part in FORBIDDEN_PARTS)]
    bad += [f for f in tracked_files() if f.suffix in (".ipynb", ".pyc", ".keras", ".h5", ".ckpt")]
    assert not bad, f"generated files are tracked: {bad[:10]}"


def test_no_local_paths_in_tracked_text():
    needles = {str(REPO_ROOT), str(Path.home()) + "/"}
    hits = []
    for f in tracked_files():
        if not f.is_file() or f.suffix in (".gz", ".zip", ".parquet", ".png"):
            continue
        try:
            text = f.read_text()
        except UnicodeDecodeError:
            continue
        hits += [f"{f.relative_to(REPO_ROOT)}: {n}" for n in needles if n in text]
    assert not hits, f"machine-specific paths in tracked files: {hits[:10]}"
