"""Project paths and metrics.json writing (lobutils.paths)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lobutils import paths


def test_repo_layout():
    assert (paths.REPO_ROOT / "pyproject.toml").is_file()
    assert paths.BUNDLED_DATA_DIR.is_dir()
    assert paths.NOTEBOOKS_DIR == paths.REPO_ROOT / "notebooks"


def test_env_overrides_are_read_on_access(monkeypatch, tmp_path):
    monkeypatch.delenv("LOBUTILS_DATA_DIR", raising=False)
    monkeypatch.delenv("LOBUTILS_REPORTS_DIR", raising=False)
    assert paths.DATA_DIR == paths.REPO_ROOT / "data"
    assert paths.REPORTS_DIR == paths.REPO_ROOT / "reports"
    monkeypatch.setenv("LOBUTILS_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("LOBUTILS_REPORTS_DIR", str(tmp_path / "r"))
    assert paths.DATA_DIR == tmp_path / "d"
    assert paths.REPORTS_DIR == tmp_path / "r"
    from lobutils.paths import DATA_DIR  # the from-import also reads the environment now

    assert DATA_DIR == tmp_path / "d"
    # the bundled data ship with the repository and do not move
    assert paths.BUNDLED_DATA_DIR == paths.REPO_ROOT / "data" / "binance-2024-08-08"
    with pytest.raises(AttributeError):
        paths.NOT_A_PATH  # noqa: B018


def test_report_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("LOBUTILS_REPORTS_DIR", str(tmp_path))
    out = paths.report_dir("02_lob_reconstruction")
    assert out == tmp_path / "02_lob_reconstruction"
    assert out.is_dir()
    explicit = paths.report_dir("02_lob_reconstruction", tmp_path / "x" / "y")
    assert explicit == tmp_path / "x" / "y" and explicit.is_dir()
    with pytest.raises(ValueError):
        paths.report_dir("../escape")


def test_write_metrics_converts_numpy_and_pandas(tmp_path):
    metrics = {
        "applied": np.int64(6495),
        "ratio": np.float32(0.25),
        "ok": np.bool_(True),
        "counts": np.array([1, 2, 3], dtype=np.int32),
        "nan": float("nan"),
        "per_segment": pd.Series({"spot_btcusdt": np.int64(1)}),
        "table": pd.DataFrame({"a": [1, 2]}),
        "when": pd.Timestamp("2024-08-08 23:54:13", tz="UTC"),
        "relative": Path("reports") / "02" / "fig.html",
        "inside_repo": paths.REPO_ROOT / "data" / "README.md",
        3: "int key",
    }
    written = paths.write_metrics(tmp_path / "new", metrics)
    out = tmp_path / "new" / "metrics.json"
    back = json.loads(out.read_text())  # plain JSON, no NaN token
    assert "NaN" not in out.read_text()
    assert back == {
        "applied": 6495,
        "ratio": 0.25,
        "ok": True,
        "counts": [1, 2, 3],
        "nan": None,
        "per_segment": {"spot_btcusdt": 1},
        "table": [{"a": 1}, {"a": 2}],
        "when": "2024-08-08T23:54:13+00:00",
        "relative": "reports/02/fig.html",
        "inside_repo": "data/README.md",
        "3": "int key",
    }
    assert paths.read_metrics(tmp_path / "new") == back == written


def test_write_metrics_refuses_machine_specific_paths(tmp_path):
    with pytest.raises(ValueError, match="absolute"):
        paths.write_metrics(tmp_path, {"file": str(tmp_path)})
    with pytest.raises(ValueError, match="outside the repository"):
        paths.write_metrics(tmp_path, {"nested": {"file": tmp_path / "a.parquet"}})
    assert not (tmp_path / "metrics.json").exists()


def test_write_metrics_is_atomic(tmp_path):
    paths.write_metrics(tmp_path, {"first": 1})
    with pytest.raises(TypeError):
        paths.write_metrics(tmp_path, {"second": object()})
    # the failed write left the previous file intact and no temporary file behind
    assert paths.read_metrics(tmp_path) == {"first": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_write_metrics_cleans_up_when_replace_fails(tmp_path, monkeypatch):
    paths.write_metrics(tmp_path, {"first": 1})

    def boom(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="simulated"):
        paths.write_metrics(tmp_path, {"second": 2})
    monkeypatch.undo()
    assert paths.read_metrics(tmp_path) == {"first": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_write_metrics_file_mode_follows_umask(tmp_path):
    paths.write_metrics(tmp_path, {"x": 1})
    out = tmp_path / "metrics.json"
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_metrics_needs_a_mapping(tmp_path):
    with pytest.raises(TypeError, match="mapping"):
        paths.write_metrics(tmp_path, [1, 2])  # type: ignore[arg-type]
