"""The metric tables: every run's ``metrics.json`` flattened into one long table, and per-run tables.

See "The metrics table" in :mod:`lobutils.runner.batch`: :func:`flatten_metrics` turns nested
metrics into ``(path, value, text)`` rows, :func:`collect_metrics` gathers them over runs with the
parameters as columns, :func:`metrics_wide` pivots chosen ones, :func:`collect_tables` gathers a
table each run wrote.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lobutils import paths as _paths
from lobutils.runner.batch.grid import DONE_FILE, RUN_FILE, Run, _canonical

__all__ = ["collect_metrics", "collect_tables", "flatten_metrics", "metrics_wide"]


def flatten_metrics(metrics: Any, prefix: str = "") -> list[tuple[str, float, str | None]]:
    """Flatten a ``metrics.json`` into ``(dotted key, value, text)`` rows.

    Mappings add ``.key``, lists ``.index``. Numbers go to ``value`` (booleans as 1.0 and
    0.0), strings to ``text`` (with ``value`` NaN); ``None`` gives NaN and no text. An empty
    mapping or list gives no row.

    Parameters
    ----------
    metrics
        A parsed ``metrics.json``.
    prefix
        The dotted key of ``metrics`` itself (empty at the top).

    Returns
    -------
    list of (str, float, str or None)

    Examples
    --------
    >>> flatten_metrics({"n": 3, "best": {"model": "linear", "ci": [0.1, 0.3]}, "ok": True})
    [('n', 3.0, None), ('best.model', nan, 'linear'), ('best.ci.0', 0.1, None), ('best.ci.1', 0.3, None), ('ok', 1.0, None)]
    """
    rows: list[tuple[str, float, str | None]] = []
    if isinstance(metrics, Mapping):
        for k, v in metrics.items():
            rows += flatten_metrics(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(metrics, list | tuple):
        for i, v in enumerate(metrics):
            rows += flatten_metrics(v, f"{prefix}.{i}" if prefix else str(i))
    elif isinstance(metrics, bool):
        rows.append((prefix, float(metrics), None))
    elif isinstance(metrics, int | float):
        rows.append((prefix, float(metrics), None))
    elif metrics is None:
        rows.append((prefix, math.nan, None))
    else:
        rows.append((prefix, math.nan, str(metrics)))
    return rows


def _label_value(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return _canonical(v)


def _param_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run: chapter, params_hash and the labels as columns of one type each."""
    rows = [
        {"chapter": r["chapter"], "params_hash": r["params_hash"]}
        | {k: _label_value(v) for k, v in (r.get("labels") or {}).items()}
        for r in records
    ]
    frame = pd.DataFrame(rows)
    for col in frame.columns:
        vals = [
            v for v in frame[col] if v is not None and not (isinstance(v, float) and math.isnan(v))
        ]
        kinds = {type(v) for v in vals}
        if kinds and not kinds <= {int, float} and kinds != {bool} and kinds != {str}:
            # mixed types (1 and "1s"): text, so that the column has one type in parquet
            frame[col] = [None if v is None else str(v) for v in frame[col]]
    return frame


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def collect_metrics(
    root: str | os.PathLike[str], runs: Sequence[Run] | None = None
) -> pd.DataFrame:
    """Every finished run's ``metrics.json`` under a batch folder, in one long table.

    Parameters
    ----------
    root : path-like
        The batch folder, ``reports/runs/<run-id>``.
    runs : sequence of Run, optional
        Only these runs (default: every run folder with a ``done`` marker).

    Returns
    -------
    pandas.DataFrame
        Columns ``chapter``, ``params_hash``, the parameters (one column each), ``metric``,
        ``value``, ``text``; one row per (run, flattened metric). See the module docstring.
    """
    root = Path(root)
    folders = (
        [r.folder(root) for r in runs]
        if runs is not None
        else sorted(d for d in root.iterdir() if d.is_dir() and (d / DONE_FILE).is_file())
        if root.is_dir()
        else []
    )
    records, flat = [], []
    for d in folders:
        rec = _read_record(d)
        if rec is None or not (d / DONE_FILE).is_file():
            continue
        try:
            metrics = _paths.read_metrics(d)
        except (OSError, ValueError):
            continue
        records.append(rec)
        flat.append(flatten_metrics(metrics))
    cols = ["metric", "value", "text"]
    if not records:
        return pd.DataFrame(
            {"chapter": pd.Series(dtype="str"), "params_hash": pd.Series(dtype="str")}
            | {"metric": pd.Series(dtype="str"), "value": pd.Series(dtype="float64")}
            | {"text": pd.Series(dtype="str")}
        )
    params = _param_frame(records)
    parts = []
    for i, rows in enumerate(flat):
        m = pd.DataFrame(rows, columns=cols)
        left = params.iloc[[i] * len(m)].reset_index(drop=True)
        parts.append(pd.concat([left, m], axis=1))
    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].astype("float64")
    return out


def metrics_wide(metrics: pd.DataFrame, keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Pivot the long metrics table: one row per run, one column per metric key.

    Numeric metrics give their ``value``, text metrics their ``text``.

    Parameters
    ----------
    metrics
        The long table (:func:`collect_metrics`).
    keys
        The metric keys to keep as columns (default: all).

    Returns
    -------
    pandas.DataFrame
        The run columns (``chapter``, ``params_hash``, parameters), then one column per key.

    Examples
    --------
    >>> long = pd.DataFrame({"chapter": ["c", "c"], "params_hash": ["a", "a"], "N": [1, 1],
    ...                      "metric": ["n", "best"], "value": [3.0, float("nan")],
    ...                      "text": [None, "x"]})
    >>> metrics_wide(long).to_dict("records")
    [{'chapter': 'c', 'params_hash': 'a', 'N': 1, 'best': 'x', 'n': 3.0}]
    """
    m = metrics if keys is None else metrics[metrics["metric"].isin(list(keys))]
    id_cols = [c for c in m.columns if c not in ("metric", "value", "text")]
    cell = m["value"].astype(object).where(m["text"].isna(), m["text"])
    wide = (
        m.assign(_cell=cell)
        .pivot_table(
            index="params_hash", columns="metric", values="_cell", aggfunc="first", dropna=False
        )
        .reset_index()
    )
    wide.columns.name = None
    ids = m[id_cols].drop_duplicates("params_hash")
    out = ids.merge(wide, on="params_hash", how="left")
    for k in [c for c in out.columns if c not in id_cols]:
        out[k] = _maybe_numeric(out[k])
    return out.reset_index(drop=True)


def _maybe_numeric(s: pd.Series) -> pd.Series:
    try:
        return pd.to_numeric(s)
    except (ValueError, TypeError):
        return s


def collect_tables(
    root: str | os.PathLike[str], name: str, runs: Sequence[Run] | None = None
) -> pd.DataFrame:
    """Concatenate a table that every run writes (``results.parquet``, ``pnl.csv``, ...).

    Each run's rows get the run's ``chapter``, ``params_hash`` and parameter columns in
    front. Runs without the file (failed, or not done) are left out.

    Parameters
    ----------
    root : path-like
        The batch folder.
    name : str
        File name inside each run folder; ``.parquet`` or ``.csv``.
    runs : sequence of Run, optional
        Only these runs (default: every finished run under ``root``).

    Returns
    -------
    pandas.DataFrame
        The rows of every run's table, with the run columns in front.
    """
    root = Path(root)
    folders = (
        [r.folder(root) for r in runs]
        if runs is not None
        else sorted(d for d in root.iterdir() if d.is_dir())
        if root.is_dir()
        else []
    )
    records, frames = [], []
    for d in folders:
        f = d / name
        rec = _read_record(d)
        if rec is None or not (d / DONE_FILE).is_file() or not f.is_file():
            continue
        frames.append(pd.read_parquet(f) if f.suffix == ".parquet" else pd.read_csv(f))
        records.append(rec)
    if not frames:
        return pd.DataFrame()
    params = _param_frame(records)
    parts = []
    for i, t in enumerate(frames):
        left = params.iloc[[i] * len(t)].reset_index(drop=True)
        clash = [c for c in left.columns if c in t.columns]
        left = left.rename(columns={c: f"param.{c}" for c in clash})
        parts.append(pd.concat([left, t.reset_index(drop=True)], axis=1))
    return pd.concat(parts, ignore_index=True)


def _write_table(frame: pd.DataFrame, stem: Path) -> None:
    from lobutils.paths import write_frame

    write_frame(frame, stem.with_suffix(".parquet"))
    write_frame(frame, stem.with_suffix(".csv"))
