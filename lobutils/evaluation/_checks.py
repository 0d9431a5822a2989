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
    """An array that must be one-dimensional.

    Parameters
    ----------
    name : str
        The argument's name, for the error message.
    a : array_like
        The values.

    Returns
    -------
    numpy.ndarray
        ``a`` as an array (no copy when it already is one).

    Raises
    ------
    ValueError
        If ``a`` is not one-dimensional.
    """
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _float_1d(name: str, a: Any, *, finite: bool = True) -> np.ndarray:
    """A one-dimensional numeric array as float64.

    Parameters
    ----------
    name : str
        The argument's name, for the error message.
    a : array_like
        Numeric values (bool, integer or float).
    finite : bool
        Refuse NaN and infinite values.

    Returns
    -------
    numpy.ndarray
        float64 values.

    Raises
    ------
    ValueError
        If ``a`` is not one-dimensional, not numeric, or (with ``finite``) not finite.

    Examples
    --------
    >>> _float_1d("x", [1, 2])
    array([1., 2.])
    """
    arr = _array_1d(name, a)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; drop those rows first")
    return arr


def _same_length(**arrays: np.ndarray) -> int:
    """The common length of several arrays.

    Parameters
    ----------
    **arrays : numpy.ndarray
        Arrays by name (the names appear in the error message).

    Returns
    -------
    int
        Their length.

    Raises
    ------
    ValueError
        If the lengths differ.
    """
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"arrays must have the same length, got {lengths}")
    return next(iter(lengths.values()))


def _int64_times(name: str, a: Any) -> np.ndarray:
    """One-dimensional timestamps as int64 ns.

    Parameters
    ----------
    name : str
        The argument's name, for the error message.
    a : array_like
        Integer timestamps (ns) or ``datetime64`` values.

    Returns
    -------
    numpy.ndarray
        int64 ns.

    Raises
    ------
    ValueError
        If ``a`` is not one-dimensional or holds neither integers nor datetimes.
    """
    arr = _array_1d(name, a)
    if arr.dtype.kind == "M":
        arr = arr.astype("datetime64[ns]").view(np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer timestamps (int64 ns), got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _clock(ts: int | Any) -> np.ndarray:
    """Row clock: timestamps (validated, non-decreasing) or positions ``0..n-1``.

    Parameters
    ----------
    ts : int or array_like
        Either the number of rows (the clock is then their positions) or the rows' timestamps
        (int64 ns or ``datetime64``), sorted.

    Returns
    -------
    numpy.ndarray
        int64 clock, one value per row.

    Raises
    ------
    ValueError
        If the count is not positive, or the timestamps are empty or decrease.

    Examples
    --------
    >>> _clock(3)
    array([0, 1, 2])
    """
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
    """Each row's target end time, from a fixed horizon or given per row.

    Parameters
    ----------
    t : numpy.ndarray
        The row clock (from :func:`_clock`).
    horizon : int or None
        Target horizon in the clock's units (ns for timestamps, rows for positions).
    target_end : array_like or None
        Each row's target end time, in the clock's units. Give exactly one of the two.

    Returns
    -------
    numpy.ndarray
        int64 end times, one per row, never before the row's own time.

    Raises
    ------
    ValueError
        If both or neither are given, or the values are invalid.
    """
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
    """Refuse anything but a non-negative integer (bool refused).

    Parameters
    ----------
    name : str
        The argument's name, for the error message.
    value : object
        The value to check.

    Raises
    ------
    ValueError
        If ``value`` is not an integer ``>= 0``.
    """
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _check_pos_int(name: str, value: Any) -> None:
    """Refuse anything but a positive integer (bool refused).

    Parameters
    ----------
    name : str
        The argument's name, for the error message.
    value : object
        The value to check.

    Raises
    ------
    ValueError
        If ``value`` is not an integer ``>= 1``.
    """
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _indices(name: str, idx: Any, n: int) -> np.ndarray:
    """Distinct row indices into ``n`` rows, sorted.

    Parameters
    ----------
    name : str
        The argument's name, for the error message.
    idx : array_like
        Integer row indices.
    n : int
        Number of rows they index.

    Returns
    -------
    numpy.ndarray
        Sorted int64 indices (empty when ``idx`` is).

    Raises
    ------
    ValueError
        If the indices are not integers, fall outside ``[0, n)`` or repeat.
    """
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
