"""Event time and clock time: sampling a book frame on a regular grid without look-ahead.

A book frame from :func:`lobutils.book.replay.reconstruct` has one row per applied diff: *event
time*. Models and features often want *clock time*: one row every 100 ms or 1 s.
:func:`sample_clock` takes, for each grid time ``g``, the last state with ``ts <= g``. A state
stamped exactly at ``g`` counts (it was known at ``g``); nothing after ``g`` is ever used.

Where the frame carries a ``status`` column (``reconstruct(..., include_invalid=True)``), a
grid time whose last state is a gap marker or a crossed book gets NaN levels, so a gap is never
bridged by carrying the last good book forward.

Examples
--------
Synthetic: states at 0.2 s and 1.5 s, sampled every second from 0 s to 2 s.

>>> from lobutils.schema import book_columns
>>> f = pd.DataFrame([[200_000_000, 0, 1, 10.0, 1.0, 11.0, 1.0],
...                   [1_500_000_000, 0, 2, 10.5, 1.0, 11.0, 1.0]], columns=book_columns(1))
>>> s = sample_clock(f, "1s", start=0, end=2_000_000_000)
>>> s.ts.tolist(), s.update_id.tolist(), s.bid_px_1.tolist()
([0, 1000000000, 2000000000], [-1, 1, 2], [nan, 10.0, 10.5])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lobutils.book.replay import VALID
from lobutils.schema import book_levels

__all__ = ["sample_clock", "grid_times", "to_ns"]


def to_ns(every: str | int | pd.Timedelta) -> int:
    """A duration in ns from ``"100ms"``, ``"1s"``, a Timedelta or an int of ns.

    Parameters
    ----------
    every : str, int or pandas.Timedelta
        The duration; an int is already in ns.

    Returns
    -------
    int
        Nanoseconds, positive.

    Raises
    ------
    ValueError
        If ``every`` is not a duration or is not positive.

    Examples
    --------
    >>> to_ns("100ms"), to_ns("1s"), to_ns(5)
    (100000000, 1000000000, 5)
    """
    if isinstance(every, int | np.integer):
        ns = int(every)
    else:
        try:
            ns = int(pd.Timedelta(every).value)
        except ValueError as exc:
            raise ValueError(f"not a duration: {every!r} (try '100ms' or '1s')") from exc
    if ns <= 0:
        raise ValueError(f"the sampling interval must be positive, got {every!r}")
    return ns


def grid_times(first_ts: int, last_ts: int, every) -> np.ndarray:
    """Grid times ``k * every`` from the first multiple >= ``first_ts`` to the last <= ``last_ts``.

    Parameters
    ----------
    first_ts, last_ts : int
        Bounds in ns since the epoch, both included.
    every : str, int or pandas.Timedelta
        The grid step (see :func:`to_ns`).

    Returns
    -------
    numpy.ndarray of int64
        The grid times in ns, empty when no multiple of the step lies in the bounds.

    Examples
    --------
    >>> grid_times(1_200, 3_100, 1_000).tolist()
    [2000, 3000]
    """
    step = to_ns(every)
    lo = -(-int(first_ts) // step) * step
    hi = int(last_ts) // step * step
    if hi < lo:
        return np.empty(0, np.int64)
    return np.arange(lo, hi + 1, step, dtype=np.int64)


def sample_clock(
    frame: pd.DataFrame,
    every: str | int = "1s",
    start: int | None = None,
    end: int | None = None,
) -> pd.DataFrame:
    """Sample a book frame on a clock grid: the last state at or before each grid time.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame ordered by ``ts`` (optionally with a ``status`` column).
    every : str or int
        The grid step: ``"100ms"``, ``"1s"``, or ns.
    start, end : int, optional
        Grid bounds in ns (default: the frame's first and last ``ts``).

    Returns
    -------
    pandas.DataFrame
        Book-frame columns with ``ts`` the grid time; ``local_ts`` and ``update_id`` are those
        of the state used, and ``state_ts`` its exchange time (so ``ts - state_ts`` is the age
        of the book at the grid time). Grid times before the first state, or whose last state is
        invalid, have NaN levels and ``update_id == -1``.
    """
    book_levels(frame)  # checks it is a book frame
    ts = frame["ts"].to_numpy(np.int64)
    if len(ts) and np.any(np.diff(ts) < 0):
        raise ValueError("the book frame is not ordered by ts")
    if len(ts) == 0 and (start is None or end is None):
        raise ValueError("cannot sample an empty book frame without start and end")
    lo = int(ts[0]) if start is None else int(start)
    hi = int(ts[-1]) if end is None else int(end)
    grid = grid_times(lo, hi, every)
    idx = np.searchsorted(ts, grid, side="right") - 1
    ok = idx >= 0
    if "status" in frame.columns:
        status = frame["status"].to_numpy()
        ok &= status[np.maximum(idx, 0)] == VALID
    value_cols = [c for c in frame.columns if c not in ("ts", "local_ts", "update_id", "status")]
    values = frame[value_cols].to_numpy(np.float64)[np.maximum(idx, 0)]
    values[~ok] = np.nan
    out = pd.DataFrame(values, columns=value_cols)
    safe = np.maximum(idx, 0)
    out.insert(0, "state_ts", np.where(ok, ts[safe], np.iinfo(np.int64).min) if len(ts) else -1)
    out.insert(
        0, "update_id", np.where(ok, frame["update_id"].to_numpy()[safe], -1) if len(ts) else -1
    )
    out.insert(
        0,
        "local_ts",
        np.where(ok, frame["local_ts"].to_numpy()[safe], np.iinfo(np.int64).min) if len(ts) else -1,
    )
    out.insert(0, "ts", grid)
    return out
