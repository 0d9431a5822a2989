"""Naive baselines that every model number sits next to.

:func:`walk_forward_baselines`: zero and last return for regression; majority class,
persistence and a stratified guess for classification. Persistence is causal: it is the last
target *realised* by time t (:func:`persistence_forecast`), never a future value.
:func:`block_shuffle` makes the placebo target of the protocol's sanity check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from lobutils.evaluation._checks import (
    _array_1d,
    _check_nonneg_int,
    _check_pos_int,
    _clock,
    _target_end,
)
from lobutils.evaluation.splits import Fold

__all__ = [
    "CLASSIFICATION_BASELINES",
    "REGRESSION_BASELINES",
    "block_shuffle",
    "majority_class",
    "persistence_forecast",
    "stratified_guess",
    "walk_forward_baselines",
    "zero_forecast",
]

REGRESSION_BASELINES = ("zero", "last_return")
"""Names of the naive regression baselines, in the order :func:`walk_forward_baselines` emits."""

CLASSIFICATION_BASELINES = ("majority", "persistence", "stratified")
"""Names of the naive classification baselines."""


def zero_forecast(n: int) -> np.ndarray:
    """The zero-return forecast (the martingale benchmark for returns).

    Parameters
    ----------
    n : int
        Number of rows.

    Returns
    -------
    numpy.ndarray
        ``n`` zeros (float64).

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

    Returns
    -------
    numpy.ndarray
        One forecast per row, ``fill`` where nothing is realised yet (past-only).

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

    Parameters
    ----------
    y_train : array (n_train,)
        Training labels (training-only: never the test rows).
    n : int
        Number of forecasts.

    Returns
    -------
    numpy.ndarray
        ``n`` copies of the majority label, with ``y_train``'s dtype.

    Raises
    ------
    ValueError
        If ``y_train`` is empty.

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

    Parameters
    ----------
    y_train : array (n_train,)
        Training labels (training-only), whose frequencies the draws follow.
    n : int
        Number of draws.
    seed : int or sequence of int
        Seed of the random generator.

    Returns
    -------
    numpy.ndarray
        ``n`` labels drawn independently.

    Raises
    ------
    ValueError
        If ``y_train`` is empty.

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
        Targets (returns or labels), in time order.
    folds : sequence of Fold
        Chronological folds; each fold's baselines use its training rows only.
    task : {"regression", "classification"}
        Which baselines.
    ts : int or array of int64, optional
        The clock; default the row positions.
    horizon, target_end
        The target windows (exactly one), in clock units, as for the splits.
    seed : int
        Seed of the stratified guess.

    Returns
    -------
    pandas.DataFrame
        ``row``, ``fold``, ``y_true`` and one column per baseline.

    Examples
    --------
    >>> y = np.array([0.5, -1.0, 2.0, 1.0, -3.0, 4.0])
    >>> from lobutils.evaluation.splits import WalkForwardConfig, walk_forward_splits
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

    Parameters
    ----------
    y : array (n,)
        Targets in time order.
    block_length : int
        Rows per block (the last block may be shorter).
    seed : int
        Seed of the permutation.

    Returns
    -------
    numpy.ndarray
        ``y`` with its blocks in a random order.

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
