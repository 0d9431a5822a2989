"""Chronological splits, purged and embargoed.

:func:`walk_forward_splits` (expanding or rolling windows), :func:`train_val_test_split` (by
time fractions) and :func:`day_splits` (walk-forward over UTC days). Every split is *purged* and
*embargoed* by :func:`purge_embargo`; see :mod:`lobutils.evaluation` for the clocks and units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from lobutils.evaluation._checks import (
    _check_nonneg_int,
    _check_pos_int,
    _clock,
    _indices,
    _target_end,
)

__all__ = [
    "DayConfig",
    "Fold",
    "HoldoutConfig",
    "NS_PER_DAY",
    "TrainValTest",
    "WalkForwardConfig",
    "day_splits",
    "folds_frame",
    "purge_embargo",
    "train_val_test_split",
    "walk_forward_splits",
]

NS_PER_DAY = 86_400 * 1_000_000_000
"""Nanoseconds in a UTC day."""


class Fold(NamedTuple):
    """One chronological split: sorted training and test row indices.

    A ``Fold`` unpacks as ``train, test``, so a list of folds can be passed as ``cv=`` to
    scikit-learn's searches.

    Parameters
    ----------
    train : numpy.ndarray
        Sorted int64 training row indices, all before the test rows.
    test : numpy.ndarray
        Sorted int64 test row indices.
    """

    train: np.ndarray
    test: np.ndarray


class TrainValTest(NamedTuple):
    """Training, validation and test row indices of a hold-out split.

    Parameters
    ----------
    train, val, test : numpy.ndarray
        Sorted int64 row indices, in this chronological order.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class WalkForwardConfig:
    """Walk-forward layout.

    Parameters
    ----------
    n_splits : int
        Number of test blocks.
    test_size : int or None
        Rows per test block; default ``n // (n_splits + 1)``. The test blocks are the last
        ``n_splits * test_size`` rows, back to back, as in scikit-learn's ``TimeSeriesSplit``.
    window : {"expanding", "rolling"}
        Expanding: train on every eligible row before the test block. Rolling: keep only the
        last ``train_size`` eligible rows.
    train_size : int or None
        Training rows of a rolling window, counted after purging (required for rolling, not
        allowed for expanding).
    embargo : int
        Gap, in clock units, on each side of a test block in which rows are not used for
        training (see :func:`purge_embargo`).
    min_train_size : int
        A fold with fewer training rows after purging raises ``ValueError``.
    """

    n_splits: int = 5
    test_size: int | None = None
    window: Literal["expanding", "rolling"] = "expanding"
    train_size: int | None = None
    embargo: int = 0
    min_train_size: int = 1

    def __post_init__(self) -> None:
        _check_pos_int("n_splits", self.n_splits)
        if self.test_size is not None:
            _check_pos_int("test_size", self.test_size)
        if self.window not in ("expanding", "rolling"):
            raise ValueError(f"window must be 'expanding' or 'rolling', got {self.window!r}")
        if self.window == "rolling":
            if self.train_size is None:
                raise ValueError("a rolling window needs train_size (rows)")
            _check_pos_int("train_size", self.train_size)
        elif self.train_size is not None:
            raise ValueError("train_size applies to window='rolling' only")
        _check_nonneg_int("embargo", self.embargo)
        _check_pos_int("min_train_size", self.min_train_size)


@dataclass(frozen=True)
class HoldoutConfig:
    """Train/validation/test split by fractions of the clock's span.

    Parameters
    ----------
    fractions : tuple of three floats
        Shares of train, validation and test; positive, summing to one.
    by : {"time", "rows"}
        ``"time"`` cuts the time span ``[ts[0], ts[-1]]`` (so busy and quiet periods weigh by
        duration); ``"rows"`` cuts the row count. A clock of row positions (an ``int`` ``n``)
        always cuts rows.
    embargo : int
        Gap, in clock units, before the validation and before the test block.
    """

    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    by: Literal["time", "rows"] = "time"
    embargo: int = 0

    def __post_init__(self) -> None:
        fr = tuple(float(f) for f in self.fractions)
        if len(fr) != 3 or min(fr) <= 0 or abs(sum(fr) - 1.0) > 1e-9:
            raise ValueError(
                f"fractions must be three positive numbers summing to 1, got {self.fractions!r}"
            )
        if self.by not in ("time", "rows"):
            raise ValueError(f"by must be 'time' or 'rows', got {self.by!r}")
        _check_nonneg_int("embargo", self.embargo)


@dataclass(frozen=True)
class DayConfig:
    """Walk-forward over UTC days: each test block is one day.

    Parameters
    ----------
    min_train_days : int
        Days before the first test day.
    window : {"expanding", "rolling"}
        Rolling keeps the last ``train_days`` days before the test day.
    train_days : int or None
        Days in a rolling window (required for rolling, not allowed for expanding), counted
        over the days present in the data.
    embargo : int
        Gap in ns on each side of a test day (see :func:`purge_embargo`).
    """

    min_train_days: int = 1
    window: Literal["expanding", "rolling"] = "expanding"
    train_days: int | None = None
    embargo: int = 0

    def __post_init__(self) -> None:
        _check_pos_int("min_train_days", self.min_train_days)
        if self.window not in ("expanding", "rolling"):
            raise ValueError(f"window must be 'expanding' or 'rolling', got {self.window!r}")
        if self.window == "rolling":
            if self.train_days is None:
                raise ValueError("a rolling window needs train_days")
            _check_pos_int("train_days", self.train_days)
        elif self.train_days is not None:
            raise ValueError("train_days applies to window='rolling' only")
        _check_nonneg_int("embargo", self.embargo)


def _purge_mask(
    t: np.ndarray, e: np.ndarray, train: np.ndarray, test: np.ndarray, embargo: int
) -> np.ndarray:
    """Boolean mask over ``train``: True where the row survives purge and embargo."""
    if test.size == 0 or train.size == 0:
        return np.ones(train.size, dtype=bool)
    test_lo = t[test].min()
    test_hi = t[test].max()
    label_hi = e[test].max()
    ti = t[train]
    ei = e[train]
    overlap = (ti <= label_hi) & (ei >= test_lo)
    before = (ti >= test_lo - embargo) & (ti < test_lo)
    after = (ti > test_hi) & (ti <= test_hi + embargo)
    return ~(overlap | before | after)


def purge_embargo(
    train: Any,
    test: Any,
    ts: int | Any,
    *,
    horizon: int | None = None,
    target_end: Any | None = None,
    embargo: int = 0,
) -> np.ndarray:
    """Drop the training rows that leak into a test block.

    The test block is the period from its first to its last row. A training row ``i`` is
    dropped when

    * **purge:** its target window ``[ts[i], target_end[i]]`` overlaps the test *label* span
      ``[min ts[test], max target_end[test]]`` (closed intervals: sharing one price counts); or
    * **embargo before:** ``min ts[test] - embargo <= ts[i] < min ts[test]`` (a gap between
      training and test when training precedes test); or
    * **embargo after:** ``max ts[test] < ts[i] <= max ts[test] + embargo`` (rows just after
      the test block, which matter when training data follows the test block).

    Parameters
    ----------
    train, test : array of int
        Row indices.
    ts : int or array of int64
        Row timestamps in ns (non-decreasing), or the number of rows ``n`` to use positions.
    horizon : int, optional
        Target horizon in clock units; ``target_end = ts + horizon``.
    target_end : array of int64, optional
        Each row's target end time, instead of ``horizon``.
    embargo : int
        Embargo in clock units.

    Returns
    -------
    numpy.ndarray
        The surviving training indices, sorted.

    Examples
    --------
    Twelve rows, horizon 2 rows, test rows 6..8, embargo 1 row. Rows 4 and 5 (their targets
    reach rows 6 and 7) and 9 and 10 (inside the test label span, which ends at row 10) are
    purged; 5 and 9 are also embargoed:

    >>> purge_embargo([0, 1, 2, 3, 4, 5, 9, 10, 11], [6, 7, 8], 12, horizon=2, embargo=1).tolist()
    [0, 1, 2, 3, 11]
    """
    t = _clock(ts)
    e = _target_end(t, horizon, target_end)
    _check_nonneg_int("embargo", embargo)
    tr = _indices("train", train, len(t))
    te = _indices("test", test, len(t))
    if np.intersect1d(tr, te).size:
        raise ValueError("train and test share rows")
    return tr[_purge_mask(t, e, tr, te, int(embargo))]


def _walk_forward_from_blocks(
    t: np.ndarray,
    e: np.ndarray,
    blocks: Sequence[tuple[int, int]],
    embargo: int,
    keep_last: Callable[[np.ndarray, int], np.ndarray],
    min_train: int,
) -> list[Fold]:
    folds = []
    for k, (lo, hi) in enumerate(blocks):
        test = np.arange(lo, hi, dtype=np.int64)
        cand = np.arange(0, lo, dtype=np.int64)
        train = cand[_purge_mask(t, e, cand, test, embargo)]
        train = keep_last(train, k)
        if train.size < min_train:
            raise ValueError(
                f"fold {k} keeps {train.size} training rows after purge and embargo "
                f"(minimum {min_train}); use fewer splits, a shorter horizon or embargo, "
                "or more data"
            )
        folds.append(Fold(train, test))
    return folds


def walk_forward_splits(
    ts: int | Any,
    config: WalkForwardConfig | None = None,
    *,
    horizon: int | None = None,
    target_end: Any | None = None,
) -> list[Fold]:
    """Walk-forward splits with purge and embargo.

    Each test block is preceded by its training rows: every earlier row (expanding) or the last
    ``train_size`` of them (rolling), minus those that :func:`purge_embargo` drops. Training
    never follows test inside a fold, so the embargo's effect is the gap before each test block.

    Parameters
    ----------
    ts : int or array of int64
        Row timestamps in ns (non-decreasing), or the number of rows to use positions.
    config : WalkForwardConfig, optional
        Layout; the default is ``WalkForwardConfig()``.
    horizon, target_end
        The target windows (exactly one), in clock units; see :func:`purge_embargo`.

    Returns
    -------
    list of Fold
        One fold per test block, in time order.

    Examples
    --------
    Rolling windows of 3 rows, horizon 1, embargo 2. Before the test rows 6-7, row 5 is
    purged (its target ends at row 6) and rows 4-5 are embargoed:

    >>> cfg = WalkForwardConfig(n_splits=2, test_size=2, window="rolling", train_size=3, embargo=2)
    >>> [(f.train.tolist(), f.test.tolist()) for f in walk_forward_splits(10, cfg, horizon=1)]
    [([1, 2, 3], [6, 7]), ([3, 4, 5], [8, 9])]
    """
    cfg = WalkForwardConfig() if config is None else config
    t = _clock(ts)
    e = _target_end(t, horizon, target_end)
    n = len(t)
    test_size = cfg.test_size if cfg.test_size is not None else n // (cfg.n_splits + 1)
    if test_size < 1 or cfg.n_splits * test_size >= n:
        raise ValueError(
            f"{n} rows cannot hold {cfg.n_splits} test blocks of {test_size} rows after a "
            "training block"
        )
    first = n - cfg.n_splits * test_size
    blocks = [(first + k * test_size, first + (k + 1) * test_size) for k in range(cfg.n_splits)]

    def keep_last(train: np.ndarray, _k: int) -> np.ndarray:
        return train[-cfg.train_size :] if cfg.window == "rolling" else train

    return _walk_forward_from_blocks(t, e, blocks, cfg.embargo, keep_last, cfg.min_train_size)


def day_splits(
    ts: Any,
    config: DayConfig | None = None,
    *,
    horizon: int | None = None,
    target_end: Any | None = None,
) -> list[Fold]:
    """Walk-forward over UTC days: test on each day, train on the days before.

    Days are UTC calendar dates of ``ts`` (``ts // NS_PER_DAY``). Purge and embargo apply at
    each day boundary as in :func:`walk_forward_splits`, so a target that crosses midnight
    never trains a model tested on the next day.

    Parameters
    ----------
    ts : array of int64
        Row timestamps in ns, non-decreasing.
    config : DayConfig, optional
        Default :class:`DayConfig`'s.
    horizon, target_end
        The target windows in ns (exactly one).

    Returns
    -------
    list of Fold
        One fold per test day, in date order.

    Examples
    --------
    Two rows on each of three days, a 1-hour horizon:

    >>> h = 3_600 * 10**9
    >>> ts = [d * NS_PER_DAY + k * 12 * h for d in range(3) for k in range(2)]
    >>> [(f.train.tolist(), f.test.tolist()) for f in day_splits(ts, horizon=h)]
    [([0, 1], [2, 3]), ([0, 1, 2, 3], [4, 5])]
    """
    cfg = DayConfig() if config is None else config
    if isinstance(ts, int | np.integer):
        raise ValueError("day_splits needs timestamps in ns, not a row count")
    t = _clock(ts)
    e = _target_end(t, horizon, target_end)
    day = np.floor_divide(t, NS_PER_DAY)
    starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    bounds = list(zip(starts.tolist(), [*starts[1:].tolist(), len(t)], strict=True))
    if len(bounds) <= cfg.min_train_days:
        raise ValueError(
            f"ts spans {len(bounds)} UTC day(s); day splits need more than "
            f"min_train_days={cfg.min_train_days}"
        )
    blocks = bounds[cfg.min_train_days :]
    first_row_of_day = np.array([b[0] for b in bounds])

    def keep_last(train: np.ndarray, k: int) -> np.ndarray:
        if cfg.window == "expanding":
            return train
        test_day = cfg.min_train_days + k
        lo_day = max(0, test_day - cfg.train_days)
        return train[train >= first_row_of_day[lo_day]]

    return _walk_forward_from_blocks(t, e, blocks, cfg.embargo, keep_last, 1)


def train_val_test_split(
    ts: int | Any,
    config: HoldoutConfig | None = None,
    *,
    horizon: int | None = None,
    target_end: Any | None = None,
) -> TrainValTest:
    """Chronological train/validation/test split with purge and embargo.

    Training rows are purged and embargoed against the validation *and* test period (one span
    from the first validation row to the last test label), and validation rows against the test
    block, so a model tuned on validation and refitted on train + validation is still clean.

    Parameters
    ----------
    ts : int or array of int64
        Row timestamps in ns (non-decreasing), or the number of rows to use positions.
    config : HoldoutConfig, optional
        Default :class:`HoldoutConfig`'s.
    horizon, target_end
        The target windows (exactly one), in clock units.

    Returns
    -------
    TrainValTest
        Sorted row indices of the three blocks, purged.

    Examples
    --------
    Ten rows cut 6/2/2 with a 1-row horizon: row 5's target reaches validation row 6 and row 7's
    reaches test row 8, so both are purged.

    >>> s = train_val_test_split(10, HoldoutConfig(fractions=(0.6, 0.2, 0.2)), horizon=1)
    >>> s.train.tolist(), s.val.tolist(), s.test.tolist()
    ([0, 1, 2, 3, 4], [6], [8, 9])
    """
    cfg = HoldoutConfig() if config is None else config
    t = _clock(ts)
    e = _target_end(t, horizon, target_end)
    n = len(t)
    f_train, f_val, _ = cfg.fractions
    if cfg.by == "rows" or isinstance(ts, int | np.integer):
        c1 = round(n * f_train)
        c2 = round(n * (f_train + f_val))
    else:
        span = float(t[-1] - t[0])
        b1 = t[0] + math.floor(span * f_train)
        b2 = t[0] + math.floor(span * (f_train + f_val))
        c1 = int(np.searchsorted(t, b1, side="left"))
        c2 = int(np.searchsorted(t, b2, side="left"))
    rows = np.arange(n, dtype=np.int64)
    train, val, test = rows[:c1], rows[c1:c2], rows[c2:]
    if train.size == 0 or val.size == 0 or test.size == 0:
        raise ValueError(
            f"the split by {cfg.by} gives {train.size}/{val.size}/{test.size} rows; "
            "each part needs at least one"
        )
    train = train[_purge_mask(t, e, train, rows[c1:], cfg.embargo)]
    val = val[_purge_mask(t, e, val, test, cfg.embargo)]
    if train.size == 0 or val.size == 0:
        raise ValueError("purge and embargo leave no training or validation rows")
    return TrainValTest(train, val, test)


def folds_frame(folds: Sequence[Fold], ts: Any | None = None) -> pd.DataFrame:
    """One row per fold: sizes and first/last rows (and their times when ``ts`` is given).

    Parameters
    ----------
    folds : sequence of Fold
        The folds, in order.
    ts : array of int64, optional
        Row timestamps in ns; adds ``train_start_ts``, ``train_end_ts``, ``test_start_ts`` and
        ``test_end_ts`` (int64 ns).

    Returns
    -------
    pandas.DataFrame
        ``fold``, ``n_train``, ``n_test`` and the first/last row of each part (-1 when empty).

    Examples
    --------
    >>> folds_frame(walk_forward_splits(10, WalkForwardConfig(n_splits=2), horizon=1))
       fold  n_train  n_test  train_first  train_last  test_first  test_last
    0     0        3       3            0           2           4          6
    1     1        6       3            0           5           7          9
    """
    rows = []
    t = None if ts is None else _clock(ts)
    for k, (train, test) in enumerate(folds):
        row = {
            "fold": k,
            "n_train": int(train.size),
            "n_test": int(test.size),
            "train_first": int(train[0]) if train.size else -1,
            "train_last": int(train[-1]) if train.size else -1,
            "test_first": int(test[0]) if test.size else -1,
            "test_last": int(test[-1]) if test.size else -1,
        }
        if t is not None:
            for key in ("train_first", "train_last", "test_first", "test_last"):
                row[key.replace("first", "start").replace("last", "end") + "_ts"] = (
                    t[row[key]] if row[key] >= 0 else np.iinfo(np.int64).min
                )
        rows.append(row)
    return pd.DataFrame(rows)
