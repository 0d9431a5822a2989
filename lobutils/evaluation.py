"""One honest evaluation protocol for every model in the book.

The protocol has five parts, each a few functions here:

Chronological splits
    :func:`walk_forward_splits` (expanding or rolling windows), :func:`train_val_test_split`
    (by time fractions) and :func:`day_splits` (walk-forward over UTC days). Every split is
    *purged* and *embargoed* by :func:`purge_embargo`.
Training-only normalisation
    :func:`scaled_pipeline` puts the scaler inside a scikit-learn ``Pipeline``;
    :func:`fit_predict_fold` and :func:`walk_forward_predict` clone, wrap and fit it on the
    training rows of each fold and nothing else.
Naive baselines
    :func:`walk_forward_baselines`: zero and last return for regression; majority class,
    persistence and a stratified guess for classification. Persistence is causal: it is the last
    target *realised* by time t (:func:`persistence_forecast`), never a future value.
Metrics with uncertainty
    :func:`regression_metrics`, :func:`classification_metrics`, block-bootstrap confidence
    intervals (:func:`block_bootstrap_ci`), a paired bootstrap test
    (:func:`paired_bootstrap_test`), the Diebold--Mariano test (:func:`diebold_mariano`) and one
    tidy table that puts every model number next to its best naive baseline
    (:func:`results_table`).
P&L net of costs
    :func:`regression_signal`, :func:`classifier_signal` and :func:`pnl_net_of_costs`.

Clocks and units
----------------
Splits run on a *clock*: either the rows' exchange timestamps (``int64`` ns, non-decreasing) or,
when an ``int`` ``n`` is passed instead, the row positions ``0..n-1``. ``horizon``, ``embargo``
and ``target_end`` are in the units of that clock (ns, or rows). Row ``i``'s target window is
``[ts[i], target_end[i]]``; with a fixed horizon ``target_end = ts + horizon``.

Drop rows without a target (NaN returns, invalid label codes) *before* splitting, and keep
their clock: with a horizon in seconds pass the kept rows' ``ts``; with a horizon in events
pass the kept rows' original positions (``np.flatnonzero(labels.valid)``) as ``ts``, so that
``horizon`` still counts events of the full series.

Block lengths of the bootstrap are always in rows. Choose them at least as long as the target
horizon in rows, so that the overlapping targets inside a block stay together.

Dependencies: the splits, baselines, metrics and bootstrap need only numpy and pandas. The
pipeline helpers import scikit-learn, and :func:`diebold_mariano` imports scipy, when called
(the ``ml`` extra).

Examples
--------
A 10-row series, a 2-row target horizon, three walk-forward folds of two test rows each:

>>> folds = walk_forward_splits(10, WalkForwardConfig(n_splits=3, test_size=2), horizon=2)
>>> [(f.train.tolist(), f.test.tolist()) for f in folds]
[([0, 1], [4, 5]), ([0, 1, 2, 3], [6, 7]), ([0, 1, 2, 3, 4, 5], [8, 9])]

Rows 2 and 3 of the first fold are purged: their targets end at rows 4 and 5, inside the test
block.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = [
    "BINANCE_SPOT_TAKER_FEE_BPS",
    "BINANCE_USDM_TAKER_FEE_BPS",
    "CLASSIFICATION_BASELINES",
    "GREATER_IS_BETTER",
    "NS_PER_DAY",
    "REGRESSION_BASELINES",
    "BootstrapCI",
    "BootstrapConfig",
    "CostModel",
    "DayConfig",
    "DieboldMarianoResult",
    "Fold",
    "FoldResult",
    "HoldoutConfig",
    "PairedBootstrapResult",
    "PnLResult",
    "TrainValTest",
    "WalkForwardConfig",
    "accuracy",
    "balanced_accuracy",
    "block_bootstrap_ci",
    "block_bootstrap_indices",
    "block_shuffle",
    "class_balance",
    "classification_metrics",
    "classifier_signal",
    "cohen_kappa",
    "confusion_matrix",
    "day_splits",
    "diebold_mariano",
    "fit_predict_fold",
    "folds_frame",
    "mae",
    "macro_f1",
    "majority_class",
    "mcc",
    "mse",
    "paired_bootstrap_test",
    "pearson",
    "persistence_forecast",
    "pnl_net_of_costs",
    "purge_embargo",
    "r2",
    "r2_oos",
    "regression_metrics",
    "regression_signal",
    "results_table",
    "ClippedStandardScaler",
    "scaled_pipeline",
    "spearman",
    "stratified_guess",
    "trade_pnl",
    "train_val_test_split",
    "walk_forward_baselines",
    "walk_forward_predict",
    "walk_forward_splits",
    "zero_forecast",
]

NS_PER_DAY = 86_400 * 1_000_000_000
"""Nanoseconds in a UTC day."""

BINANCE_SPOT_TAKER_FEE_BPS = 10.0
"""Binance spot taker fee, regular (VIP 0) tier without BNB discount: 0.1 % per side."""

BINANCE_USDM_TAKER_FEE_BPS = 5.0
"""Binance USD-M futures taker fee, regular (VIP 0) tier: 0.05 % per side."""

REGRESSION_BASELINES = ("zero", "last_return")
"""Names of the naive regression baselines, in the order :func:`walk_forward_baselines` emits."""

CLASSIFICATION_BASELINES = ("majority", "persistence", "stratified")
"""Names of the naive classification baselines."""

_REGRESSION_METRICS = ("mse", "mae", "r2", "r2_oos", "pearson", "spearman")
_CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "mcc", "cohen_kappa")

GREATER_IS_BETTER: dict[str, bool] = {
    "mse": False,
    "mae": False,
    "r2": True,
    "r2_oos": True,
    "pearson": True,
    "spearman": True,
    "accuracy": True,
    "balanced_accuracy": True,
    "macro_f1": True,
    "mcc": True,
    "cohen_kappa": True,
}
"""Direction of every metric that :func:`regression_metrics` and
:func:`classification_metrics` return."""


# --------------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------------


class Fold(NamedTuple):
    """One chronological split: sorted training and test row indices.

    A ``Fold`` unpacks as ``train, test``, so a list of folds can be passed as ``cv=`` to
    scikit-learn's searches.
    """

    train: np.ndarray
    test: np.ndarray


class TrainValTest(NamedTuple):
    """Training, validation and test row indices of a hold-out split."""

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
    horizon, target_end
        The target windows (exactly one), in clock units.

    Returns
    -------
    TrainValTest

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


# --------------------------------------------------------------------------------------------
# Training-only normalisation
# --------------------------------------------------------------------------------------------


class ClippedStandardScaler(TransformerMixin, BaseEstimator):
    """Standardise with training mean and std, then clip to ``+-clip`` training standard deviations.

    Order-book features can be nearly constant over a training window (a one-tick spread for
    an hour) and then move in the test window; a plain ``StandardScaler`` turns that move into
    a z-score of 1e6 and a linear model's prediction explodes. Here a feature whose training
    std is below ``rel_tol x (|mean| + 1)`` is treated as constant (mapped to 0), and every
    other feature is clipped at ``clip`` standard deviations. All statistics come from the rows
    passed to :meth:`fit`, i.e. the training rows.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0 + 1e-12]])
    >>> sc = ClippedStandardScaler(clip=3.0).fit(X)
    >>> sc.transform(np.array([[2.0, 6.0], [100.0, 5.0]])).tolist()
    [[0.0, 0.0], [3.0, 0.0]]
    """

    def __init__(self, clip: float = 10.0, rel_tol: float = 1e-9) -> None:
        self.clip = clip
        self.rel_tol = rel_tol

    def fit(self, X: Any, y: Any = None) -> ClippedStandardScaler:
        if not self.clip > 0:
            raise ValueError(f"clip must be positive, got {self.clip!r}")
        a = np.asarray(X, dtype=np.float64)
        self.mean_ = np.nanmean(a, axis=0)
        std = np.nanstd(a, axis=0)
        self.constant_ = ~(std > self.rel_tol * (np.abs(self.mean_) + 1.0))
        self.scale_ = np.where(self.constant_, 1.0, std)
        self.n_features_in_ = a.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        a = np.asarray(X, dtype=np.float64)
        if a.shape[1] != self.n_features_in_:
            raise ValueError(f"fitted on {self.n_features_in_} features, got {a.shape[1]}")
        z = np.clip((a - self.mean_) / self.scale_, -self.clip, self.clip)
        z[:, self.constant_] = 0.0
        return z


def scaled_pipeline(estimator: Any, scaler: str | Any | None = "standard") -> Any:
    """A scikit-learn ``Pipeline`` with the scaler in front of the model.

    Fitting the pipeline fits the scaler on exactly the rows the model is fitted on, so test
    statistics never reach the scaler. An estimator that already is a ``Pipeline`` is returned
    unchanged (it is trusted to hold its own preprocessing).

    Parameters
    ----------
    estimator : scikit-learn estimator
    scaler : {"standard", "robust", "clipped"}, transformer or None
        ``"clipped"`` is :class:`ClippedStandardScaler`; ``None`` returns ``estimator``
        unwrapped (e.g. for trees, which do not need scaling).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> scaled_pipeline(LogisticRegression()).steps[0][0]
    'scaler'
    """
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import RobustScaler, StandardScaler

    if isinstance(estimator, Pipeline) or scaler is None:
        return estimator
    if isinstance(scaler, str):
        makers = {
            "standard": StandardScaler,
            "robust": RobustScaler,
            "clipped": ClippedStandardScaler,
        }
        if scaler not in makers:
            raise ValueError(
                "scaler must be 'standard', 'robust', 'clipped', a transformer or None, "
                f"got {scaler!r}"
            )
        scaler_obj = makers[scaler]()
    else:
        if not (hasattr(scaler, "fit") and hasattr(scaler, "transform")):
            raise ValueError("scaler must have fit and transform methods")
        scaler_obj = clone(scaler)
    return Pipeline([("scaler", scaler_obj), ("model", estimator)])


@dataclass(frozen=True)
class FoldResult:
    """Out-of-sample predictions of one fold and the estimator fitted on its training rows."""

    test: np.ndarray = field(repr=False)
    y_pred: np.ndarray = field(repr=False)
    proba: np.ndarray | None = field(repr=False)
    classes: np.ndarray | None
    estimator: Any = field(repr=False)


def _take(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if isinstance(X, pd.DataFrame | pd.Series) else np.asarray(X)[idx]


def fit_predict_fold(
    estimator: Any,
    X: Any,
    y: Any,
    fold: Fold | tuple[Any, Any],
    *,
    scaler: str | Any | None = "standard",
    proba: bool = False,
) -> FoldResult:
    """Clone, wrap in :func:`scaled_pipeline`, fit on the training rows, predict the test rows.

    This is the only place a model is fitted in the protocol. It refuses folds whose training
    rows do not all precede their test rows.

    Parameters
    ----------
    estimator : scikit-learn estimator
        Not modified; a fresh clone is fitted.
    X : array (n, p) or DataFrame
    y : array (n,)
    fold : Fold or (train, test)
    scaler : see :func:`scaled_pipeline`
    proba : bool
        Also return ``predict_proba`` (classifiers).

    Returns
    -------
    FoldResult

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(8.0).reshape(-1, 1); y = 2 * X[:, 0]
    >>> r = fit_predict_fold(LinearRegression(), X, y, Fold(np.arange(6), np.arange(6, 8)))
    >>> np.round(r.y_pred, 6).tolist(), r.estimator.named_steps["scaler"].mean_.tolist()
    ([12.0, 14.0], [2.5])
    """
    from sklearn.base import clone

    train, test = fold
    y_arr = _array_1d("y", y)
    n = len(y_arr)
    if len(X) != n:
        raise ValueError(f"X has {len(X)} rows, y has {n}")
    tr = _indices("train", train, n)
    te = _indices("test", test, n)
    if tr.size == 0 or te.size == 0:
        raise ValueError("a fold needs at least one training and one test row")
    if tr[-1] >= te[0]:
        raise ValueError(
            "training rows must all precede test rows (chronological splits only); "
            "build folds with walk_forward_splits, day_splits or train_val_test_split"
        )
    if y_arr.dtype.kind == "f" and not np.all(np.isfinite(y_arr[np.r_[tr, te]])):
        raise ValueError("y has NaN targets in this fold; drop rows without a target first")
    model = scaled_pipeline(clone(estimator), scaler)
    model.fit(_take(X, tr), y_arr[tr])
    X_test = _take(X, te)
    y_pred = np.asarray(model.predict(X_test))
    p = classes = None
    if proba:
        p = np.asarray(model.predict_proba(X_test))
        classes = np.asarray(model.classes_)
    return FoldResult(te, y_pred, p, classes, model)


def walk_forward_predict(
    estimator: Any,
    X: Any,
    y: Any,
    folds: Sequence[Fold],
    *,
    scaler: str | Any | None = "standard",
    proba: bool = False,
) -> pd.DataFrame:
    """Pooled out-of-sample predictions over folds, via :func:`fit_predict_fold`.

    Returns
    -------
    pandas.DataFrame
        Columns ``row``, ``fold``, ``y_true``, ``y_pred`` and, with ``proba``, one
        ``proba_<class>`` column per class; in fold order.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(10.0).reshape(-1, 1); y = X[:, 0] + 1
    >>> folds = walk_forward_splits(10, WalkForwardConfig(n_splits=2, test_size=2), horizon=1)
    >>> walk_forward_predict(LinearRegression(), X, y, folds).round(6)
       row  fold  y_true  y_pred
    0    6     0     7.0     7.0
    1    7     0     8.0     8.0
    2    8     1     9.0     9.0
    3    9     1    10.0    10.0
    """
    y_arr = _array_1d("y", y)
    parts = []
    for k, fold in enumerate(folds):
        r = fit_predict_fold(estimator, X, y_arr, fold, scaler=scaler, proba=proba)
        part = {"row": r.test, "fold": np.full(r.test.size, k), "y_true": y_arr[r.test]}
        part["y_pred"] = r.y_pred
        if proba and r.proba is not None and r.classes is not None:
            for j, c in enumerate(r.classes):
                part[f"proba_{c}"] = r.proba[:, j]
        parts.append(pd.DataFrame(part))
    if not parts:
        raise ValueError("no folds given")
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Naive baselines
# --------------------------------------------------------------------------------------------


def zero_forecast(n: int) -> np.ndarray:
    """The zero-return forecast (the martingale benchmark for returns).

    Examples
    --------
    >>> zero_forecast(3).tolist()
    [0.0, 0.0, 0.0]
    """
    _check_nonneg_int("n", n)
    return np.zeros(int(n))


def persistence_forecast(
    y: Any,
    ts: int | Any,
    *,
    horizon: int | None = None,
    target_end: Any | None = None,
    fill: Any = np.nan,
) -> np.ndarray:
    """The last *realised* target known at each row's time.

    At row ``j`` the forecast is ``y[i]`` for the latest row ``i`` whose target window has
    closed, ``target_end[i] <= ts[j]``. For a forward return over ``h`` rows this is the return
    over the past ``h`` rows ending at ``j``, i.e. ``y[j - h]``: the "last return" of a
    regression and the "last realised label" of a classifier. It never uses a value that is
    still in the future at ``ts[j]``. Rows with a NaN target are not realised.

    Parameters
    ----------
    y : array (n,)
        Targets, numeric or labels.
    ts : int or array of int64
        Row timestamps in ns, or the number of rows to use positions.
    horizon, target_end
        The target windows (exactly one), in clock units.
    fill : scalar
        Value where no target is realised yet (the first rows).

    Examples
    --------
    Forward 2-row returns: the forecast at row j is the return of row j - 2.

    >>> persistence_forecast([1.0, -2.0, 3.0, -4.0, 5.0], 5, horizon=2).tolist()
    [nan, nan, 1.0, -2.0, 3.0]
    """
    y_arr = _array_1d("y", y)
    t = _clock(ts)
    if len(t) != len(y_arr):
        raise ValueError(f"y has {len(y_arr)} rows, the clock has {len(t)}")
    e = _target_end(t, horizon, target_end)
    src = _last_realised(y_arr, t, e)
    fill_arr = np.asarray(fill)
    if y_arr.dtype.kind in "biuf" and fill_arr.dtype.kind in "biuf":
        out = np.full(len(y_arr), fill, dtype=np.result_type(y_arr.dtype, fill_arr.dtype))
    else:
        out = np.full(len(y_arr), fill, dtype=object)
    has = src >= 0
    out[has] = y_arr[src[has]]
    return out


def _last_realised(y: np.ndarray, t: np.ndarray, e: np.ndarray) -> np.ndarray:
    """For each row j, the largest i with ``e[i] <= t[j]`` and a defined ``y[i]``; else -1."""
    valid = np.isfinite(y) if y.dtype.kind in "fc" else np.ones(len(y), dtype=bool)
    vi = np.flatnonzero(valid)
    if vi.size == 0:
        return np.full(len(t), -1, dtype=np.int64)
    order = np.argsort(e[vi], kind="stable")
    latest = np.maximum.accumulate(vi[order])
    k = np.searchsorted(e[vi][order], t, side="right")
    return np.where(k > 0, latest[np.maximum(k - 1, 0)], -1).astype(np.int64)


def majority_class(y_train: Any, n: int) -> np.ndarray:
    """The most frequent training label, repeated ``n`` times (ties: the smallest label).

    Examples
    --------
    >>> majority_class([0, 1, 1, 2], 3).tolist()
    [1, 1, 1]
    """
    yt = _array_1d("y_train", y_train)
    if yt.size == 0:
        raise ValueError("y_train is empty")
    _check_nonneg_int("n", n)
    labels, counts = np.unique(yt, return_counts=True)
    return np.full(int(n), labels[np.argmax(counts)], dtype=yt.dtype)


def stratified_guess(y_train: Any, n: int, seed: int | Sequence[int] = 0) -> np.ndarray:
    """Random labels drawn with the training class frequencies (seeded).

    Examples
    --------
    >>> g = stratified_guess([0, 0, 0, 1], 10_000, seed=1)
    >>> round(float((g == 0).mean()), 2)
    0.75
    """
    yt = _array_1d("y_train", y_train)
    if yt.size == 0:
        raise ValueError("y_train is empty")
    _check_nonneg_int("n", n)
    labels, counts = np.unique(yt, return_counts=True)
    rng = np.random.default_rng(seed)
    return labels[rng.choice(labels.size, size=int(n), p=counts / counts.sum())]


def walk_forward_baselines(
    y: Any,
    folds: Sequence[Fold],
    *,
    task: Literal["regression", "classification"],
    ts: int | Any | None = None,
    horizon: int | None = None,
    target_end: Any | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """The naive baselines on the test rows of every fold, aligned with
    :func:`walk_forward_predict`.

    Regression: ``zero`` and ``last_return`` (:func:`persistence_forecast`). Classification:
    ``majority`` (of the fold's training labels), ``persistence`` (the last realised label) and
    ``stratified`` (training frequencies, seeded per fold). Where no target is realised yet,
    persistence falls back to 0 (regression) or the training majority (classification); with a
    purged fold that never happens in the test block.

    Parameters
    ----------
    y : array (n,)
    folds : sequence of Fold
    task : {"regression", "classification"}
    ts : int or array of int64, optional
        The clock; default the row positions.
    horizon, target_end
        The target windows (exactly one), in clock units, as for the splits.
    seed : int

    Returns
    -------
    pandas.DataFrame
        ``row``, ``fold``, ``y_true`` and one column per baseline.

    Examples
    --------
    >>> y = np.array([0.5, -1.0, 2.0, 1.0, -3.0, 4.0])
    >>> folds = walk_forward_splits(6, WalkForwardConfig(n_splits=1, test_size=2), horizon=1)
    >>> walk_forward_baselines(y, folds, task="regression", horizon=1)
       row  fold  y_true  zero  last_return
    0    4     0    -3.0   0.0          1.0
    1    5     0     4.0   0.0         -3.0
    """
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
    y_arr = _array_1d("y", y)
    t = _clock(len(y_arr) if ts is None else ts)
    if len(t) != len(y_arr):
        raise ValueError(f"y has {len(y_arr)} rows, the clock has {len(t)}")
    src = _last_realised(y_arr, t, _target_end(t, horizon, target_end))
    parts = []
    for k, (train, test) in enumerate(folds):
        part: dict[str, Any] = {"row": test, "fold": np.full(len(test), k), "y_true": y_arr[test]}
        if task == "regression":
            part["zero"] = zero_forecast(len(test))
            s_te = src[test]
            last = np.zeros(len(test))
            last[s_te >= 0] = y_arr[s_te[s_te >= 0]]
            part["last_return"] = last
        else:
            maj = majority_class(y_arr[train], len(test))
            part["majority"] = maj
            s_te = src[test]
            pers = maj.copy()
            pers[s_te >= 0] = y_arr[s_te[s_te >= 0]]
            part["persistence"] = pers
            part["stratified"] = stratified_guess(y_arr[train], len(test), seed=[seed, k])
        parts.append(pd.DataFrame(part))
    if not parts:
        raise ValueError("no folds given")
    return pd.concat(parts, ignore_index=True)


def block_shuffle(y: Any, block_length: int, seed: int = 0) -> np.ndarray:
    """Permute contiguous blocks of ``y`` (a placebo: labels unrelated to the features that keep
    their own autocorrelation within blocks).

    A model trained and tested on block-shuffled labels must score at chance under a leak-free
    protocol; above chance signals leakage (e.g. overlapping targets across the train/test
    boundary).

    Examples
    --------
    >>> block_shuffle(np.arange(6), 2, seed=0).tolist()
    [4, 5, 0, 1, 2, 3]
    """
    y_arr = _array_1d("y", y)
    _check_pos_int("block_length", block_length)
    n = len(y_arr)
    n_blocks = -(-n // block_length)
    order = np.random.default_rng(seed).permutation(n_blocks)
    idx = np.concatenate(
        [np.arange(b * block_length, min(n, (b + 1) * block_length)) for b in order]
    )
    return y_arr[idx]


# --------------------------------------------------------------------------------------------
# Regression metrics
# --------------------------------------------------------------------------------------------


def _reg_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    yt = _float_1d("y_true", y_true)
    yp = _float_1d("y_pred", y_pred)
    if _same_length(y_true=yt, y_pred=yp) == 0:
        raise ValueError("y_true is empty")
    return yt, yp


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error.

    Examples
    --------
    >>> mse([0.0, 2.0], [1.0, 0.0])
    2.5
    """
    yt, yp = _reg_pair(y_true, y_pred)
    return float(np.mean((yt - yp) ** 2))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error.

    Examples
    --------
    >>> mae([0.0, 2.0], [1.0, 0.0])
    1.5
    """
    yt, yp = _reg_pair(y_true, y_pred)
    return float(np.mean(np.abs(yt - yp)))


def _r2(yt: np.ndarray, yp: np.ndarray) -> float:
    sse = float(np.sum((yt - yp) ** 2))
    sst = float(np.sum((yt - yt.mean()) ** 2))
    if sst == 0.0:
        return 1.0 if sse == 0.0 else 0.0
    return 1.0 - sse / sst


def r2(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination as scikit-learn computes it on the test block.

    ``1 - SSE / sum((y - mean(y))**2)``, where the mean is the *test* block's: the benchmark is
    a forecaster that knew the test mean in advance. For returns prefer :func:`r2_oos`.
    A constant ``y_true`` gives 1 for a perfect forecast and 0 otherwise (scikit-learn's rule).

    Examples
    --------
    >>> r2([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    """
    return _r2(*_reg_pair(y_true, y_pred))


def _r2_oos(yt: np.ndarray, yp: np.ndarray) -> float:
    den = float(np.sum(yt**2))
    if den == 0.0:
        return math.nan
    return 1.0 - float(np.sum((yt - yp) ** 2)) / den


def r2_oos(y_true: Any, y_pred: Any) -> float:
    """Out-of-sample R² against the zero forecast, ``1 - SSE / sum(y**2)``.

    The standard for returns (Campbell & Thompson 2008; Gu, Kelly & Xiu 2020): positive means
    the model beats predicting no move. NaN when every ``y_true`` is zero.

    Examples
    --------
    >>> r2_oos([1.0, -1.0], [0.5, -0.5])
    0.75
    """
    return _r2_oos(*_reg_pair(y_true, y_pred))


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    # einsum, not np.dot: a multi-threaded BLAS spins threads for long vectors, which costs
    # far more than it saves inside a bootstrap loop on a busy machine.
    xm = x - x.mean()
    ym = y - y.mean()
    den = math.sqrt(float(np.einsum("i,i->", xm, xm)) * float(np.einsum("i,i->", ym, ym)))
    if den == 0.0:
        return math.nan
    return float(np.clip(np.einsum("i,i->", xm, ym) / den, -1.0, 1.0))


def _dense_codes(a: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense rank codes ``0..k-1`` of ``a`` (equal values share a code) and ``k``."""
    uniq, inv = np.unique(a, return_inverse=True)
    return inv.astype(np.int64).ravel(), len(uniq)


def _ranks_from_codes(codes: np.ndarray, k: int) -> np.ndarray:
    """Average ranks (1-based, ties averaged) from dense codes, in O(n) without a sort.

    A bootstrap resample keeps the original order of values, so the ranks of the resample
    follow from how often each code occurs in it.
    """
    counts = np.bincount(codes, minlength=k)
    start = np.cumsum(counts) - counts
    return (start + (counts + 1) / 2.0)[codes]


def _average_ranks(a: np.ndarray) -> np.ndarray:
    return _ranks_from_codes(*_dense_codes(a))


def pearson(y_true: Any, y_pred: Any) -> float:
    """Pearson correlation; NaN if either input is constant.

    Examples
    --------
    >>> pearson([1.0, 2.0, 3.0], [2.0, 4.0, 7.0])
    0.9933992677987828
    """
    return _pearson(*_reg_pair(y_true, y_pred))


def spearman(y_true: Any, y_pred: Any) -> float:
    """Spearman rank correlation (average ranks for ties); NaN if either input is constant.

    Examples
    --------
    >>> spearman([1.0, 2.0, 3.0], [2.0, 4.0, 70.0])
    1.0
    """
    yt, yp = _reg_pair(y_true, y_pred)
    return _pearson(_average_ranks(yt), _average_ranks(yp))


def _regression_vector(
    yt: np.ndarray, yp: np.ndarray, ct: np.ndarray, kt: int, cp: np.ndarray, kp: int
) -> np.ndarray:
    """All regression metrics; ``ct``/``cp`` are the dense rank codes of ``yt``/``yp``."""
    err = yt - yp
    return np.array(
        [
            np.mean(err**2),
            np.mean(np.abs(err)),
            _r2(yt, yp),
            _r2_oos(yt, yp),
            _pearson(yt, yp),
            _pearson(_ranks_from_codes(ct, kt), _ranks_from_codes(cp, kp)),
        ]
    )


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """MSE, MAE, R² (test-mean benchmark), R²_oos (zero benchmark), Pearson and Spearman.

    Examples
    --------
    >>> {k: round(v, 3) for k, v in regression_metrics([1.0, -1.0, 2.0], [0.5, -0.5, 1.0]).items()}
    {'mse': 0.5, 'mae': 0.667, 'r2': 0.679, 'r2_oos': 0.75, 'pearson': 1.0, 'spearman': 1.0}
    """
    yt, yp = _reg_pair(y_true, y_pred)
    vec = _regression_vector(yt, yp, *_dense_codes(yt), *_dense_codes(yp))
    return dict(zip(_REGRESSION_METRICS, vec.tolist(), strict=True))


# --------------------------------------------------------------------------------------------
# Classification metrics
# --------------------------------------------------------------------------------------------


def _encode(labels: np.ndarray, name: str, y: np.ndarray) -> np.ndarray:
    codes = np.searchsorted(labels, y)
    codes = np.clip(codes, 0, len(labels) - 1)
    if not np.all(labels[codes] == y):
        raise ValueError(f"{name} holds labels outside labels={labels.tolist()}")
    return codes.astype(np.int64)


def _class_pair(
    y_true: Any, y_pred: Any, labels: Any | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    yt = _array_1d("y_true", y_true)
    yp = _array_1d("y_pred", y_pred)
    if _same_length(y_true=yt, y_pred=yp) == 0:
        raise ValueError("y_true is empty")
    for name, a in (("y_true", yt), ("y_pred", yp)):
        if a.dtype.kind == "f" and np.isnan(a).any():
            raise ValueError(f"{name} contains NaN labels")
    lab = np.unique(np.concatenate([yt, yp])) if labels is None else np.unique(np.asarray(labels))
    return _encode(lab, "y_true", yt), _encode(lab, "y_pred", yp), lab


def _confusion(ct: np.ndarray, cp: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(ct * k + cp, minlength=k * k).reshape(k, k)


def _metrics_from_confusion(C: np.ndarray) -> np.ndarray:
    C = C.astype(np.float64)
    n = C.sum()
    t = C.sum(axis=1)
    p = C.sum(axis=0)
    tp = np.diag(C)
    acc = tp.sum() / n
    present = t > 0
    bal = float(np.mean(tp[present] / t[present]))
    den = t + p
    seen = den > 0
    f1 = float(np.mean(2 * tp[seen] / den[seen]))
    cov_tp = tp.sum() * n - float(np.dot(t, p))
    cov_pp = n * n - float(np.dot(p, p))
    cov_tt = n * n - float(np.dot(t, t))
    mcc_v = 0.0 if cov_pp * cov_tt == 0 else cov_tp / math.sqrt(cov_pp * cov_tt)
    pe = float(np.dot(t, p)) / (n * n)
    kappa = math.nan if pe == 1.0 else (acc - pe) / (1.0 - pe)
    return np.array([acc, bal, f1, mcc_v, kappa])


def confusion_matrix(y_true: Any, y_pred: Any, labels: Any | None = None) -> pd.DataFrame:
    """Counts with true labels as rows and predicted labels as columns.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])  # doctest: +NORMALIZE_WHITESPACE
    pred  0  1  2
    true
    0     1  0  0
    1     0  1  1
    2     0  0  1
    """
    ct, cp, lab = _class_pair(y_true, y_pred, labels)
    C = _confusion(ct, cp, len(lab))
    return pd.DataFrame(C, index=pd.Index(lab, name="true"), columns=pd.Index(lab, name="pred"))


def _one_metric(j: int) -> Callable[..., float]:
    def metric(y_true: Any, y_pred: Any, labels: Any | None = None) -> float:
        ct, cp, lab = _class_pair(y_true, y_pred, labels)
        return float(_metrics_from_confusion(_confusion(ct, cp, len(lab)))[j])

    return metric


def accuracy(y_true: Any, y_pred: Any, labels: Any | None = None) -> float:
    """Share of correct labels.

    Examples
    --------
    >>> accuracy([0, 1, 1, 1], [1, 1, 1, 1])
    0.75
    """
    return _one_metric(0)(y_true, y_pred, labels)


def balanced_accuracy(y_true: Any, y_pred: Any, labels: Any | None = None) -> float:
    """Mean recall over the classes present in ``y_true``; chance is ``1 / n_classes``.

    Examples
    --------
    >>> balanced_accuracy([0, 1, 1, 1], [1, 1, 1, 1])
    0.5
    """
    return _one_metric(1)(y_true, y_pred, labels)


def macro_f1(y_true: Any, y_pred: Any, labels: Any | None = None) -> float:
    """Unweighted mean F1 over the classes seen in ``y_true`` or ``y_pred``.

    Examples
    --------
    >>> round(macro_f1([0, 1, 1, 1], [1, 1, 1, 1]), 4)
    0.4286
    """
    return _one_metric(2)(y_true, y_pred, labels)


def mcc(y_true: Any, y_pred: Any, labels: Any | None = None) -> float:
    """Matthews correlation coefficient (multiclass form); 0 when undefined.

    Examples
    --------
    >>> mcc([0, 1, 1, 1], [1, 1, 1, 1])
    0.0
    """
    return _one_metric(3)(y_true, y_pred, labels)


def cohen_kappa(y_true: Any, y_pred: Any, labels: Any | None = None) -> float:
    """Cohen's κ, agreement beyond chance; NaN when chance agreement is 1.

    Examples
    --------
    >>> cohen_kappa([0, 0, 1, 1], [0, 0, 1, 0])
    0.5
    """
    return _one_metric(4)(y_true, y_pred, labels)


def classification_metrics(y_true: Any, y_pred: Any, labels: Any | None = None) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro F1, MCC and Cohen's κ.

    Examples
    --------
    >>> classification_metrics([0, 0, 1, 1], [0, 0, 1, 0])
    {'accuracy': 0.75, 'balanced_accuracy': 0.75, 'macro_f1': 0.7333333333333334, 'mcc': 0.5773502691896258, 'cohen_kappa': 0.5}
    """
    ct, cp, lab = _class_pair(y_true, y_pred, labels)
    vec = _metrics_from_confusion(_confusion(ct, cp, len(lab)))
    return dict(zip(_CLASSIFICATION_METRICS, vec.tolist(), strict=True))


def class_balance(y: Any, labels: Any | None = None) -> pd.DataFrame:
    """Count and share of each label.

    Examples
    --------
    >>> class_balance([-1, 1, 1, 0])  # doctest: +NORMALIZE_WHITESPACE
           count  fraction
    label
    -1         1      0.25
     0         1      0.25
     1         2      0.50
    """
    y_arr = _array_1d("y", y)
    if y_arr.size == 0:
        raise ValueError("y is empty")
    lab = np.unique(y_arr) if labels is None else np.unique(np.asarray(labels))
    counts = np.bincount(_encode(lab, "y", y_arr), minlength=len(lab))
    return pd.DataFrame(
        {"count": counts, "fraction": counts / counts.sum()}, index=pd.Index(lab, name="label")
    )


# --------------------------------------------------------------------------------------------
# Block bootstrap
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BootstrapConfig:
    """Block-bootstrap settings.

    Parameters
    ----------
    block_length : int
        Rows per block; at least the target horizon in rows (overlapping targets inside a block
        stay together). No default, on purpose.
    n_boot : int
        Resamples.
    method : {"circular", "moving"}
        Circular blocks wrap around the end (every row equally likely, Politis & Romano 1992);
        moving blocks (Künsch 1989) start anywhere a whole block fits.
    confidence : float
        Level of the percentile interval.
    seed : int
    """

    block_length: int
    n_boot: int = 1000
    method: Literal["circular", "moving"] = "circular"
    confidence: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        _check_pos_int("block_length", self.block_length)
        _check_pos_int("n_boot", self.n_boot)
        if self.method not in ("circular", "moving"):
            raise ValueError(f"method must be 'circular' or 'moving', got {self.method!r}")
        if not 0.0 < float(self.confidence) < 1.0:
            raise ValueError(f"confidence must lie in (0, 1), got {self.confidence!r}")
        _check_nonneg_int("seed", self.seed)


def block_bootstrap_indices(n: int, config: BootstrapConfig) -> Iterator[np.ndarray]:
    """Yield ``config.n_boot`` resampled row-index arrays of length ``n``.

    Each array is ``ceil(n / L)`` blocks of ``L`` consecutive rows laid end to end and cut to
    ``n``. Block starts are uniform on ``0..n-1`` (circular, indices taken modulo ``n``) or on
    ``0..n-L`` (moving).

    Examples
    --------
    >>> [i.tolist() for i in block_bootstrap_indices(5, BootstrapConfig(block_length=2, n_boot=2))]
    [[4, 0, 3, 4, 2], [1, 2, 1, 2, 0]]
    """
    _check_pos_int("n", n)
    L = config.block_length
    if L > n:
        raise ValueError(f"block_length={L} exceeds the {n} rows")
    rng = np.random.default_rng(config.seed)
    n_blocks = -(-n // L)
    offsets = np.arange(L, dtype=np.int64)
    high = n if config.method == "circular" else n - L + 1
    for _ in range(config.n_boot):
        starts = rng.integers(0, high, size=n_blocks)
        idx = (starts[:, None] + offsets).ravel()[:n]
        if config.method == "circular":
            idx %= n
        yield idx


def _bootstrap(
    stat: Callable[..., Any], arrays: Sequence[np.ndarray], config: BootstrapConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Point estimate (m,) and bootstrap samples (n_boot, m) of a vector statistic."""
    n = _same_length(**{f"array {i}": a for i, a in enumerate(arrays)})
    est = np.atleast_1d(np.asarray(stat(*arrays), dtype=np.float64))
    samples = np.empty((config.n_boot, est.size))
    for b, idx in enumerate(block_bootstrap_indices(n, config)):
        samples[b] = np.asarray(stat(*(a[idx] for a in arrays)), dtype=np.float64)
    return est, samples


def _percentile(samples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1.0 - confidence
    out_lo = np.full(samples.shape[1], np.nan)
    out_hi = np.full(samples.shape[1], np.nan)
    for j in range(samples.shape[1]):
        col = samples[:, j]
        col = col[np.isfinite(col)]
        if col.size:
            out_lo[j], out_hi[j] = np.quantile(col, [alpha / 2, 1 - alpha / 2])
    return out_lo, out_hi


@dataclass(frozen=True)
class BootstrapCI:
    """A point estimate with its block-bootstrap percentile interval.

    ``n_valid`` counts the resamples where the metric was defined (finite).
    """

    estimate: float
    ci_low: float
    ci_high: float
    std_error: float
    confidence: float
    block_length: int
    n_boot: int
    n_valid: int
    samples: np.ndarray = field(repr=False)


def block_bootstrap_ci(
    metric: Callable[..., float], *arrays: Any, config: BootstrapConfig
) -> BootstrapCI:
    """Block-bootstrap percentile confidence interval of ``metric(*arrays)``.

    The arrays are resampled jointly (the same row indices), so ``metric(y_true, y_pred)``
    keeps each forecast with its target.

    Parameters
    ----------
    metric : callable
        Returns a float; e.g. :func:`mse` or ``np.mean``.
    *arrays : arrays of equal length
    config : BootstrapConfig

    Returns
    -------
    BootstrapCI

    Examples
    --------
    >>> ci = block_bootstrap_ci(np.mean, np.full(50, 2.0), config=BootstrapConfig(block_length=5))
    >>> ci.estimate, ci.ci_low, ci.ci_high
    (2.0, 2.0, 2.0)
    """
    if not callable(metric):
        raise ValueError("metric must be callable")
    if not arrays:
        raise ValueError("give at least one array")
    arrs = [_array_1d(f"array {i}", a) for i, a in enumerate(arrays)]
    est, samples = _bootstrap(lambda *a: float(metric(*a)), arrs, config)
    lo, hi = _percentile(samples, config.confidence)
    s = samples[:, 0]
    ok = np.isfinite(s)
    se = float(np.std(s[ok], ddof=1)) if ok.sum() > 1 else math.nan
    return BootstrapCI(
        float(est[0]),
        float(lo[0]),
        float(hi[0]),
        se,
        float(config.confidence),
        config.block_length,
        config.n_boot,
        int(ok.sum()),
        s,
    )


@dataclass(frozen=True)
class PairedBootstrapResult:
    """Model minus baseline on one metric, with a paired block-bootstrap CI and p-value."""

    model_value: float
    baseline_value: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    block_length: int
    n_boot: int


def _paired_p_value(diff: float, d_samples: np.ndarray) -> float:
    d = d_samples[np.isfinite(d_samples)]
    if d.size == 0 or not np.isfinite(diff):
        return math.nan
    return float((1 + np.sum(np.abs(d - diff) >= abs(diff))) / (d.size + 1))


def paired_bootstrap_test(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true: Any,
    pred_model: Any,
    pred_baseline: Any,
    *,
    config: BootstrapConfig,
) -> PairedBootstrapResult:
    """Paired block-bootstrap test of ``metric(y, model) - metric(y, baseline)``.

    Both forecasts are scored on the same resampled rows, so the interval is for the
    difference. The two-sided p-value tests "no difference" by centring the bootstrap
    distribution on zero: ``(1 + #{|d* - d| >= |d|}) / (1 + B)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=400)
    >>> res = paired_bootstrap_test(mse, y, y + 0.1 * rng.normal(size=400), np.zeros(400),
    ...                             config=BootstrapConfig(block_length=10, n_boot=200))
    >>> res.diff < 0, res.ci_high < 0, res.p_value < 0.01
    (True, True, True)
    """
    if not callable(metric):
        raise ValueError("metric must be callable")
    y = _array_1d("y_true", y_true)
    a = _array_1d("pred_model", pred_model)
    b = _array_1d("pred_baseline", pred_baseline)
    _same_length(y_true=y, pred_model=a, pred_baseline=b)
    est, samples = _bootstrap(
        lambda yy, aa, bb: [metric(yy, aa), metric(yy, bb)], [y, a, b], config
    )
    diff = float(est[0] - est[1])
    d = samples[:, 0] - samples[:, 1]
    lo, hi = _percentile(d[:, None], config.confidence)
    return PairedBootstrapResult(
        float(est[0]),
        float(est[1]),
        diff,
        float(lo[0]),
        float(hi[0]),
        _paired_p_value(diff, d),
        config.block_length,
        config.n_boot,
    )


# --------------------------------------------------------------------------------------------
# Diebold-Mariano
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DieboldMarianoResult:
    """Diebold-Mariano test of equal expected loss.

    ``statistic < 0`` means model A has the lower loss. ``p_value`` is two-sided;
    ``p_value_a_better`` is one-sided for "A has lower expected loss".
    """

    statistic: float
    p_value: float
    p_value_a_better: float
    mean_diff: float
    long_run_variance: float
    n: int
    horizon: int
    kernel: str


def _long_run_variance(d: np.ndarray, lags: int, kernel: str) -> float:
    n = d.size
    u = d - d.mean()
    v = float(np.dot(u, u)) / n
    for k in range(1, lags + 1):
        w = 1.0 if kernel == "rectangular" else 1.0 - k / (lags + 1)
        v += 2.0 * w * float(np.dot(u[k:], u[:-k])) / n
    return v


def diebold_mariano(
    loss_a: Any,
    loss_b: Any,
    horizon: int = 1,
    *,
    kernel: Literal["bartlett", "rectangular"] = "bartlett",
) -> DieboldMarianoResult:
    """Diebold-Mariano (1995) test with the Harvey-Leybourne-Newbold (1997) correction.

    With ``d = loss_a - loss_b`` and ``h = horizon`` (in rows), the long-run variance is
    ``γ0 + 2 Σ_{k=1}^{h-1} w_k γ_k`` with autocovariances ``γ_k = Σ_t (d_t - d̄)(d_{t-k} - d̄)
    / n``. The default weights are Newey-West's Bartlett weights ``w_k = 1 - k / h`` (never
    negative); ``kernel="rectangular"`` gives the original ``w_k = 1``, which can go negative
    and then falls back to Bartlett. The statistic ``d̄ / sqrt(V / n)`` is multiplied by
    ``sqrt((n + 1 - 2h + h(h - 1) / n) / n)`` and compared with Student's t on ``n - 1``
    degrees of freedom. Forecasts of ``h``-row overlapping targets have MA(h-1) errors, hence
    ``h - 1`` lags.

    Parameters
    ----------
    loss_a, loss_b : array (n,)
        Per-row losses, e.g. squared errors of model and baseline.
    horizon : int
        Forecast horizon in rows.
    kernel : {"bartlett", "rectangular"}

    Returns
    -------
    DieboldMarianoResult

    Examples
    --------
    >>> r = diebold_mariano([1.0, 2.0, 1.0, 3.0], [2.0, 2.0, 2.0, 2.0], horizon=1)
    >>> round(r.statistic, 4), round(r.p_value, 4)
    (-0.5222, 0.6376)
    """
    a = _float_1d("loss_a", loss_a)
    b = _float_1d("loss_b", loss_b)
    n = _same_length(loss_a=a, loss_b=b)
    _check_pos_int("horizon", horizon)
    if kernel not in ("bartlett", "rectangular"):
        raise ValueError(f"kernel must be 'bartlett' or 'rectangular', got {kernel!r}")
    if n < 2 * horizon + 1:
        raise ValueError(f"need at least 2*horizon+1 = {2 * horizon + 1} rows, got {n}")
    from scipy.special import stdtr

    d = a - b
    dbar = float(d.mean())
    used = kernel
    v = _long_run_variance(d, horizon - 1, kernel)
    if v <= 0 and kernel == "rectangular":
        used = "bartlett"
        v = _long_run_variance(d, horizon - 1, "bartlett")
    if v <= 0:
        stat = 0.0 if dbar == 0 else math.copysign(math.inf, dbar)
    else:
        stat = dbar / math.sqrt(v / n)
        stat *= math.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    df = n - 1
    p_less = float(stdtr(df, stat))
    p_two = float(min(1.0, 2.0 * min(p_less, 1.0 - p_less)))
    return DieboldMarianoResult(stat, p_two, p_less, dbar, v, n, int(horizon), used)


# --------------------------------------------------------------------------------------------
# P&L net of costs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostModel:
    """Taker costs of one round trip, in bps of notional.

    Every side (entry, exit) crosses half the quoted spread and pays the taker fee, so a round
    trip costs ``sides * (spread_fraction * spread_bps + fee_bps)``.

    Parameters
    ----------
    fee_bps : float
        Taker fee per side. Default :data:`BINANCE_SPOT_TAKER_FEE_BPS` (0.1 %, Binance spot,
        regular tier). Futures are cheaper: USD-M 0.05 % (:data:`BINANCE_USDM_TAKER_FEE_BPS`);
        BNB discounts and VIP tiers lower both.
    sides : int
        1 (entry only) or 2 (a round trip, the default).
    spread_fraction : float
        Share of the spread paid per side; 0.5 (cross from mid to the touch).
    """

    fee_bps: float = BINANCE_SPOT_TAKER_FEE_BPS
    sides: int = 2
    spread_fraction: float = 0.5

    def __post_init__(self) -> None:
        if not (np.isfinite(self.fee_bps) and self.fee_bps >= 0):
            raise ValueError(f"fee_bps must be finite and >= 0, got {self.fee_bps!r}")
        if self.sides not in (1, 2):
            raise ValueError(f"sides must be 1 or 2, got {self.sides!r}")
        if not (np.isfinite(self.spread_fraction) and self.spread_fraction >= 0):
            raise ValueError(f"spread_fraction must be >= 0, got {self.spread_fraction!r}")


def regression_signal(pred: Any, threshold: float = 0.0) -> np.ndarray:
    """Trade the sign of a return forecast where ``|pred| > threshold``; else 0.

    ``threshold`` is in the forecast's units (bps for bps targets); the round-trip cost is a
    natural choice.

    Examples
    --------
    >>> regression_signal([3.0, -0.5, -4.0, 0.0], threshold=1.0).tolist()
    [1, 0, -1, 0]
    """
    p = _float_1d("pred", pred)
    if not (np.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be finite and >= 0, got {threshold!r}")
    return np.where(np.abs(p) > threshold, np.sign(p), 0).astype(np.int8)


def classifier_signal(
    proba: Any,
    classes: Any,
    threshold: float = 0.0,
    directions: Any | None = None,
) -> np.ndarray:
    """Trade the predicted class's direction where its probability is at least ``threshold``.

    Parameters
    ----------
    proba : array (n, k)
        Class probabilities, columns in the order of ``classes``.
    classes : array (k,)
        Class labels (``estimator.classes_``).
    threshold : float
        Minimum probability of the arg-max class.
    directions : array (k,) of {-1, 0, 1}, optional
        Trade direction of each class. Default: the sign of the label, allowed only when the
        labels are ``-1/+1`` or ``-1/0/+1``; for e.g. ``0/1`` labels pass ``directions=[-1, 1]``.

    Examples
    --------
    >>> proba = np.array([[0.2, 0.1, 0.7], [0.4, 0.35, 0.25], [0.1, 0.8, 0.1]])
    >>> classifier_signal(proba, [-1, 0, 1], threshold=0.5).tolist()
    [1, 0, 0]
    """
    P = np.asarray(proba, dtype=np.float64)
    cls = _array_1d("classes", classes)
    if P.ndim != 2 or P.shape[1] != cls.size:
        raise ValueError(f"proba must have shape (n, {cls.size}), got {P.shape}")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold!r}")
    if directions is None:
        if cls.dtype.kind not in "iuf" or not set(cls.tolist()) <= {-1, 0, 1} or -1 not in cls:
            raise ValueError(
                f"cannot infer trade directions from classes {cls.tolist()}; pass directions"
            )
        dirs = np.sign(cls).astype(np.int8)
    else:
        dirs = _array_1d("directions", directions)
        if dirs.size != cls.size or not set(dirs.tolist()) <= {-1, 0, 1}:
            raise ValueError("directions must hold -1, 0 or 1 for each class")
        dirs = dirs.astype(np.int8)
    best = np.argmax(P, axis=1)
    conf = P[np.arange(len(P)), best]
    return np.where(conf >= threshold, dirs[best], 0).astype(np.int8)


def trade_pnl(
    direction: Any,
    forward_return_bps: Any,
    spread_bps: Any,
    *,
    costs: CostModel | None = None,
    exit_spread_bps: Any | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row gross and net P&L in bps of notional (0 where there is no trade).

    ``gross = direction * forward_return_bps``; ``net = gross - cost`` on traded rows, with
    cost ``spread_fraction * (spread_bps + exit_spread_bps) + sides * fee_bps`` for a round
    trip (the exit spread defaults to the entry spread) and ``spread_fraction * spread_bps +
    fee_bps`` for one side. Each row's trade is scored on its own: overlapping holding periods
    are not netted (that is the backtest's job, :mod:`lobutils.trading.backtest`).

    Examples
    --------
    >>> gross, net = trade_pnl([1, -1, 0], [5.0, 3.0, 9.0], [2.0, 2.0, 2.0])
    >>> gross.tolist(), net.tolist()
    ([5.0, -3.0, 0.0], [-17.0, -25.0, 0.0])
    """
    cm = CostModel() if costs is None else costs
    dirs = _array_1d("direction", direction)
    if dirs.dtype.kind not in "iuf" or not np.all(np.isin(dirs, (-1, 0, 1))):
        raise ValueError("direction must hold -1, 0 or 1")
    ret = _float_1d("forward_return_bps", forward_return_bps)
    spr = _float_1d("spread_bps", spread_bps)
    ex = spr if exit_spread_bps is None else _float_1d("exit_spread_bps", exit_spread_bps)
    _same_length(direction=dirs, forward_return_bps=ret, spread_bps=spr, exit_spread_bps=ex)
    if np.any(spr < 0) or np.any(ex < 0):
        raise ValueError("spreads must be >= 0")
    d = dirs.astype(np.float64)
    traded = d != 0
    gross = d * ret
    if cm.sides == 2:
        cost = cm.spread_fraction * (spr + ex) + 2 * cm.fee_bps
    else:
        cost = cm.spread_fraction * spr + cm.fee_bps
    net = np.where(traded, gross - cost, 0.0)
    return gross, net


@dataclass(frozen=True)
class PnLResult:
    """Summary of :func:`pnl_net_of_costs`; per-trade values in bps of notional."""

    n_rows: int
    n_trades: int
    trade_rate: float
    hit_rate: float
    mean_gross_bps: float
    mean_cost_bps: float
    mean_net_bps: float
    total_gross_bps: float
    total_net_bps: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, float]:
        """Plain dict (for ``metrics.json``)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _ratio_of_sums(num: np.ndarray, den: np.ndarray) -> float:
    s = den.sum()
    return float(num.sum() / s) if s > 0 else math.nan


def pnl_net_of_costs(
    direction: Any,
    forward_return_bps: Any,
    spread_bps: Any,
    *,
    costs: CostModel | None = None,
    bootstrap: BootstrapConfig | None = None,
    exit_spread_bps: Any | None = None,
) -> PnLResult:
    """P&L per trade, gross and net of half-spread and taker fees, with a bootstrap CI.

    Parameters
    ----------
    direction : array of {-1, 0, 1}
        From :func:`regression_signal` or :func:`classifier_signal`.
    forward_return_bps : array
        The realised mid return over the holding horizon, in bps (the regression target).
    spread_bps : array
        Quoted spread at entry, in bps of mid.
    costs : CostModel, optional
        Default: Binance spot taker, round trip.
    bootstrap : BootstrapConfig, optional
        When given, ``ci_low``/``ci_high`` bound the mean net P&L per trade: rows (traded or
        not) are block-resampled and the statistic is ``sum(net) / n_trades``.
    exit_spread_bps : array, optional
        Spread at exit; default the entry spread.

    Returns
    -------
    PnLResult
        ``hit_rate`` is the share of trades with positive *gross* P&L (the direction was
        right). Means are NaN when nothing traded.

    Examples
    --------
    >>> r = pnl_net_of_costs([1, -1, 0, 1], [30.0, -25.0, 4.0, -10.0], [1.0, 1.0, 1.0, 1.0])
    >>> r.n_trades, round(r.hit_rate, 3), r.mean_gross_bps, r.mean_net_bps
    (3, 0.667, 15.0, -6.0)
    """
    gross, net = trade_pnl(
        direction, forward_return_bps, spread_bps, costs=costs, exit_spread_bps=exit_spread_bps
    )
    traded = np.asarray(direction) != 0
    n_tr = int(traded.sum())
    n = len(traded)
    if n_tr:
        g = gross[traded]
        nt = net[traded]
        mean_g, mean_n = float(g.mean()), float(nt.mean())
        hit = float(np.mean(g > 0))
    else:
        mean_g = mean_n = hit = math.nan
    lo = hi = math.nan
    if bootstrap is not None and n_tr:
        tr_f = traded.astype(np.float64)
        _, samples = _bootstrap(_ratio_of_sums, [net, tr_f], bootstrap)
        lo_a, hi_a = _percentile(samples, bootstrap.confidence)
        lo, hi = float(lo_a[0]), float(hi_a[0])
    return PnLResult(
        n_rows=n,
        n_trades=n_tr,
        trade_rate=n_tr / n if n else math.nan,
        hit_rate=hit,
        mean_gross_bps=mean_g,
        mean_cost_bps=mean_g - mean_n if n_tr else math.nan,
        mean_net_bps=mean_n,
        total_gross_bps=float(gross[traded].sum()),
        total_net_bps=float(net.sum()),
        ci_low=lo,
        ci_high=hi,
    )


# --------------------------------------------------------------------------------------------
# The results table
# --------------------------------------------------------------------------------------------

_RESULT_COLUMNS = [
    "model",
    "role",
    "target",
    "horizon",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "baseline",
    "baseline_value",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "p_value",
    "beats_baseline",
    "dm_stat",
    "dm_p_value",
    "n",
    "block_length",
    "n_boot",
]


def results_table(
    y_true: Any,
    predictions: Mapping[str, Any],
    baselines: Mapping[str, Any],
    *,
    task: Literal["regression", "classification"],
    config: BootstrapConfig,
    target: str = "",
    horizon: Any = "",
    labels: Any | None = None,
    dm_horizon: int | None = None,
) -> pd.DataFrame:
    """Every metric of every model next to its best naive baseline, with bootstrap CIs.

    All forecasts are scored on the same block-resampled rows, so the differences are paired.
    For each model and metric, ``baseline`` is the naive baseline with the best point value on
    that metric (the hardest one to beat); ``diff = value - baseline_value`` with its CI and
    the paired p-value of :func:`paired_bootstrap_test`. ``beats_baseline`` is True when the
    whole CI of ``diff`` lies on the better side of zero. With ``dm_horizon`` (rows), the loss
    metrics (MSE: squared loss, MAE: absolute loss, accuracy: 0-1 loss) also get the
    :func:`diebold_mariano` statistic and p-value of model against that baseline. Baseline rows
    (``role == "baseline"``) carry their own value and CI only.

    Parameters
    ----------
    y_true : array (n,)
        Pooled out-of-sample targets.
    predictions, baselines : mapping name -> array (n,)
        Model and baseline forecasts (predicted values or labels) on the same rows.
    task : {"regression", "classification"}
    config : BootstrapConfig
    target, horizon
        Labels written into the table (e.g. ``"ret_bps"``, ``"10s"``).
    labels : array, optional
        Class labels (classification); default all labels seen.
    dm_horizon : int, optional
        Target horizon in rows for the Diebold-Mariano columns.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per (model, metric); columns as listed in the source. Concatenate tables
        of several targets and horizons with ``pd.concat``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=300)
    >>> tab = results_table(y, {"oracle": y + 0.3 * rng.normal(size=300)}, {"zero": np.zeros(300)},
    ...                     task="regression", config=BootstrapConfig(block_length=5, n_boot=100))
    >>> tab.query("metric == 'mse'")[["model", "role", "baseline", "beats_baseline"]]
        model      role baseline  beats_baseline
    0  oracle     model     zero            True
    6    zero  baseline      NaN            <NA>
    """
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
    if not predictions:
        raise ValueError("predictions is empty")
    if not baselines:
        raise ValueError("give at least one baseline: every model number sits next to one")
    clash = set(predictions) & set(baselines)
    if clash:
        raise ValueError(f"names used for both a model and a baseline: {sorted(clash)}")
    names = [*predictions, *baselines]
    roles = ["model"] * len(predictions) + ["baseline"] * len(baselines)
    raw = [*predictions.values(), *baselines.values()]
    if task == "regression":
        yt = _float_1d("y_true", y_true)
        preds = [_float_1d(f"prediction {nm!r}", p) for nm, p in zip(names, raw, strict=True)]
        metric_names = _REGRESSION_METRICS
        # Rank codes travel through the resampling with the values: Spearman without sorting.
        ct, kt = _dense_codes(yt)
        codes = [_dense_codes(p) for p in preds]
        extra = [ct, *[c for c, _ in codes]]
        ks = [k for _, k in codes]
        n_f = len(preds)

        def stat(*arrs: np.ndarray) -> np.ndarray:
            y, ps, cy, cps = arrs[0], arrs[1 : 1 + n_f], arrs[1 + n_f], arrs[2 + n_f :]
            return np.concatenate(
                [
                    _regression_vector(y, p, cy, kt, c, k)
                    for p, c, k in zip(ps, cps, ks, strict=True)
                ]
            )

    else:
        yt0 = _array_1d("y_true", y_true)
        preds0 = [_array_1d(f"prediction {nm!r}", p) for nm, p in zip(names, raw, strict=True)]
        lab = (
            np.unique(np.concatenate([yt0, *preds0]))
            if labels is None
            else np.unique(np.asarray(labels))
        )
        yt = _encode(lab, "y_true", yt0)
        preds = [_encode(lab, f"prediction {nm!r}", p) for nm, p in zip(names, preds0, strict=True)]
        k = len(lab)
        metric_names = _CLASSIFICATION_METRICS
        extra = []

        def stat(*arrs: np.ndarray) -> np.ndarray:
            return np.concatenate(
                [_metrics_from_confusion(_confusion(arrs[0], p, k)) for p in arrs[1:]]
            )

    n = _same_length(
        y_true=yt, **{f"prediction {nm!r}": p for nm, p in zip(names, preds, strict=True)}
    )
    if n == 0:
        raise ValueError("y_true is empty")
    est, samples = _bootstrap(stat, [yt, *preds, *extra], config)
    m = len(metric_names)
    est = est.reshape(len(names), m)
    samples = samples.reshape(config.n_boot, len(names), m)
    lo_all, hi_all = _percentile(samples.reshape(config.n_boot, -1), config.confidence)
    lo_all = lo_all.reshape(len(names), m)
    hi_all = hi_all.reshape(len(names), m)
    base_ix = [i for i, r in enumerate(roles) if r == "baseline"]
    loss_of = {
        "mse": lambda y, p: (y - p) ** 2,
        "mae": lambda y, p: np.abs(y - p),
        "accuracy": lambda y, p: (y != p).astype(np.float64),
    }
    rows = []
    for i, (name, role) in enumerate(zip(names, roles, strict=True)):
        for j, metric in enumerate(metric_names):
            row: dict[str, Any] = {
                "model": name,
                "role": role,
                "target": target,
                "horizon": horizon,
                "metric": metric,
                "value": est[i, j],
                "ci_low": lo_all[i, j],
                "ci_high": hi_all[i, j],
                "baseline": None,
                "baseline_value": math.nan,
                "diff": math.nan,
                "diff_ci_low": math.nan,
                "diff_ci_high": math.nan,
                "p_value": math.nan,
                "beats_baseline": None,
                "dm_stat": math.nan,
                "dm_p_value": math.nan,
                "n": n,
                "block_length": config.block_length,
                "n_boot": config.n_boot,
            }
            if role == "model":
                better = GREATER_IS_BETTER[metric]
                vals = np.array([est[b, j] for b in base_ix])
                finite = np.isfinite(vals)
                if finite.any():
                    pick = np.where(finite, vals, -np.inf if better else np.inf)
                    bi = base_ix[int(np.argmax(pick) if better else np.argmin(pick))]
                    d = samples[:, i, j] - samples[:, bi, j]
                    diff = float(est[i, j] - est[bi, j])
                    dlo, dhi = _percentile(d[:, None], config.confidence)
                    row.update(
                        baseline=names[bi],
                        baseline_value=est[bi, j],
                        diff=diff,
                        diff_ci_low=float(dlo[0]),
                        diff_ci_high=float(dhi[0]),
                        p_value=_paired_p_value(diff, d),
                        beats_baseline=bool(dlo[0] > 0) if better else bool(dhi[0] < 0),
                    )
                    if dm_horizon is not None and metric in loss_of and n >= 2 * dm_horizon + 1:
                        la = loss_of[metric](yt, preds[i])
                        lb = loss_of[metric](yt, preds[bi])
                        dm = diebold_mariano(la, lb, dm_horizon)
                        row.update(dm_stat=dm.statistic, dm_p_value=dm.p_value)
            rows.append(row)
    out = pd.DataFrame(rows, columns=_RESULT_COLUMNS)
    out["beats_baseline"] = out["beats_baseline"].astype("boolean")
    return out
