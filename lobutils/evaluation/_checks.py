"""Input validation shared by the evaluation modules: one-dimensional, numeric, finite
arrays, row clocks and target windows, row indices.

Private: every public function validates its inputs with these helpers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "_array_1d",
    "_check_nonneg_int",
    "_check_pos_int",
    "_clock",
    "_float_1d",
    "_indices",
    "_int64_times",
    "_same_length",
    "_target_end",
]
"""The helpers the evaluation modules share (private to the package: not re-exported)."""


def _array_1d(name: str, a: Any) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _float_1d(name: str, a: Any, *, finite: bool = True) -> np.ndarray:
    arr = _array_1d(name, a)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; drop those rows first")
    return arr


def _same_length(**arrays: np.ndarray) -> int:
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"arrays must have the same length, got {lengths}")
    return next(iter(lengths.values()))


def _int64_times(name: str, a: Any) -> np.ndarray:
    arr = _array_1d(name, a)
    if arr.dtype.kind == "M":
        arr = arr.astype("datetime64[ns]").view(np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer timestamps (int64 ns), got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _clock(ts: int | Any) -> np.ndarray:
    """Row clock: timestamps (validated, non-decreasing) or positions ``0..n-1``."""
    if isinstance(ts, int | np.integer) and not isinstance(ts, bool):
        if ts < 1:
            raise ValueError(f"the number of rows must be positive, got {ts}")
        return np.arange(int(ts), dtype=np.int64)
    t = _int64_times("ts", ts)
    if t.size == 0:
        raise ValueError("ts is empty")
    if np.any(np.diff(t) < 0):
        raise ValueError("ts must be non-decreasing (sort rows by exchange time first)")
    return t


def _target_end(t: np.ndarray, horizon: int | None, target_end: Any | None) -> np.ndarray:
    if (horizon is None) == (target_end is None):
        raise ValueError(
            "give exactly one of horizon (a scalar in the clock's units) or target_end "
            "(each row's target end time); purging needs to know the target windows"
        )
    if horizon is not None:
        if not isinstance(horizon, int | np.integer) or isinstance(horizon, bool) or horizon < 0:
            raise ValueError(f"horizon must be a non-negative integer, got {horizon!r}")
        return t + np.int64(horizon)
    e = _int64_times("target_end", target_end)
    if len(e) != len(t):
        raise ValueError(f"target_end has {len(e)} rows, the clock has {len(t)}")
    if np.any(e < t):
        raise ValueError("target_end must not precede the row's own time")
    return e


def _check_nonneg_int(name: str, value: Any) -> None:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _check_pos_int(name: str, value: Any) -> None:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _indices(name: str, idx: Any, n: int) -> np.ndarray:
    arr = _array_1d(name, idx)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer row indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"{name} holds indices outside [0, {n})")
    if np.unique(arr).size != arr.size:
        raise ValueError(f"{name} holds repeated indices")
    return np.sort(arr)
