"""Prediction targets: forward returns, labels, smoothing, and the leakage audit.

Targets look *forward* from row i; they are the only place in :mod:`lobutils` that does. A row
whose horizon runs past the end of the data gets NaN, never a shorter horizon. Returns are
log returns in basis points (``1e4 * log(p1 / p0)``).

Labels come as a :class:`Labels` object: integer class codes ``0..K-1`` (so they feed Keras
and scikit-learn as they are), a ``valid`` mask (False where the target is NaN or a no-change
row was dropped; the code there is -1 and is no class), the class names, and
:meth:`Labels.balance`, the class-balance table to report wherever labels are made.

Thresholds that depend on the data (the 3-class ``k x std``) are fitted on training rows
only: :func:`fit_threshold` takes a training mask and returns a :class:`Threshold` that
records what it was fitted on. No function here fits on all rows by default.

Examples
--------
Synthetic mids, one row per event:

>>> mids = np.array([100.0, 100.0, 101.0, 100.0])
>>> forward_returns(mids, events=1).round(1).tolist()
[0.0, 99.5, -99.5, nan]
>>> labels = binary_labels(forward_returns(mids, events=1), no_change="drop")
>>> labels.codes.tolist(), labels.classes
([-1, 1, 0, -1], ('down', 'up'))
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from lobutils.features import _kernels as _k
from lobutils.features.core import (
    BPS,
    _as_1d,
    _as_ts,
    _check_prices_1d,
    _positive_float,
    _positive_int,
    _seconds_to_ns,
)

__all__ = [
    "Labels",
    "Threshold",
    "binary_labels",
    "class_balance",
    "ema_smoothed_returns",
    "fit_threshold",
    "forward_returns",
    "leakage_audit",
    "past_correlation",
    "smoothed_returns",
    "three_class_labels",
    "variance_explained_by_past",
]


# --------------------------------------------------------------------------------------
# forward returns
# --------------------------------------------------------------------------------------


def forward_returns(
    mid,
    *,
    ts=None,
    seconds: float | None = None,
    events: int | None = None,
    end_ts: int | None = None,
) -> np.ndarray:
    """Forward log return of the mid over a horizon, in bps.

    ``1e4 * log(mid[j] / mid[i])``, where ``j = i + h`` (``events=h``) or ``j`` is the last
    row with ``ts <= ts[i] + h`` (``seconds=h``): the book state in force at ``t + h``.

    NaN where the horizon runs past the data: ``i + h > N - 1`` for events, and
    ``ts[i] + h > end_ts`` for seconds. ``end_ts`` (default ``ts[-1]``) is the last time the
    book is known; pass the end of a clock grid or of the recording when it is later than
    the last row.

    Parameters
    ----------
    mid : array_like, shape (N,)
        Mid prices (> 0, or NaN where the book is one-sided).
    ts : array_like of int64 ns, shape (N,), optional
        Non-decreasing times; required with ``seconds``.
    seconds, events : float or int
        The horizon; give exactly one.
    end_ts : int, optional
        Last time covered by the data (ns).

    Returns
    -------
    numpy.ndarray, shape (N,)
        Forward log returns in bps.

    Examples
    --------
    >>> s = 1_000_000_000
    >>> forward_returns([100.0, 101.0, 102.0], ts=[0, 1 * s, 3 * s], seconds=2.0).round(2).tolist()
    [99.5, 98.52, nan]
    """
    m = _as_1d(mid, "mid")
    _check_prices_1d(m, "mid")
    n = m.size
    out = np.full(n, np.nan)
    if (events is None) == (seconds is None):
        raise ValueError("give exactly one of events= or seconds= (with ts=)")
    if events is not None:
        if ts is not None or end_ts is not None:
            raise ValueError("ts= and end_ts= are only used with seconds=")
        h = _positive_int(events, "events")
        if h < n:
            out[:-h] = BPS * (np.log(m[h:]) - np.log(m[:-h]))
        return out
    if ts is None:
        raise ValueError("seconds= needs ts= (int64 ns per row)")
    t = _as_ts(ts)
    if t.size != n:
        raise ValueError(f"ts has {t.size} rows but mid has {n}")
    if n == 0:
        return out
    h = _seconds_to_ns(seconds, "seconds")
    end = int(t[-1]) if end_ts is None else int(end_ts)
    if end < t[-1]:
        raise ValueError(f"end_ts={end} is before the last row's ts={int(t[-1])}")
    target = t + h
    j = np.searchsorted(t, target, side="right") - 1
    ok = target <= end
    out[ok] = BPS * (np.log(m[j[ok]]) - np.log(m[ok]))
    return out


def smoothed_returns(
    mid, k: int, *, reference: Literal["current", "past"] = "current"
) -> np.ndarray:
    """DeepLOB-style smoothed forward return over the next k rows, in bps.

    ``1e4 * log(m_plus / m_ref)`` with ``m_plus = mean(mid[i+1 .. i+k])``, the next k mids
    (the current one excluded), and

    - ``reference="current"``: ``m_ref = mid[i]`` (Ntakaris et al. 2018, FI-2010);
    - ``reference="past"``: ``m_ref = mean(mid[i-k+1 .. i])``, the current and the k-1
      previous mids (Zhang, Zohren & Roberts 2019, DeepLOB; the paper writes the sum from
      i-k to i over k, which has k+1 terms; this uses k).

    The papers use the simple ratio ``m_plus / m_ref - 1``; the log differs from it by about
    half its square (below 0.01 bps for moves under 14 bps). With ``"past"``, part of the
    target, ``log(mid[i] / m_ref)``, is already known at row i: a model scores on it without
    predicting anything. Audit it with :func:`leakage_audit`.

    NaN where ``i + k > N - 1`` or (``"past"``) ``i - k + 1 < 0``, or a mid in either mean is
    NaN. Horizons are in rows: events, or grid steps on a clock-sampled frame.

    Parameters
    ----------
    mid : array_like, shape (N,)
        Mid prices (> 0, or NaN).
    k : int
        The horizon in rows.
    reference : {"current", "past"}
        The mid the future mean is compared with (see above).

    Returns
    -------
    numpy.ndarray, shape (N,)
        Smoothed forward log returns in bps.

    Examples
    --------
    >>> smoothed_returns([100.0, 100.0, 102.0, 104.0], 2).round(2).tolist()
    [99.5, 295.59, nan, nan]
    >>> smoothed_returns([100.0, 100.0, 102.0, 104.0], 2, reference="past").round(2).tolist()
    [nan, 295.59, nan, nan]
    """
    m = _as_1d(mid, "mid")
    _check_prices_1d(m, "mid")
    k = _positive_int(k, "k")
    if reference not in ("current", "past"):
        raise ValueError(f"reference must be 'current' or 'past', got {reference!r}")
    n = m.size
    idx = np.arange(n, dtype=np.int64)
    fstart = np.minimum(idx + 1, n)
    fstop = np.minimum(idx + k + 1, n)
    m_plus = _k.window_sum(m, fstart, fstop) / k
    m_plus[idx + k > n - 1] = np.nan
    if reference == "current":
        m_ref = m
    else:
        m_ref = _k.window_sum(m, np.maximum(idx - k + 1, 0), idx + 1) / k
        m_ref[idx - k + 1 < 0] = np.nan
    return BPS * (np.log(m_plus) - np.log(m_ref))


def ema_smoothed_returns(returns, alpha: float = 0.2) -> np.ndarray:
    """Exponentially smoothed forward returns (a training option of chapter 7): ``s_t = a r_t + (1-a) s_t-1``.

    The recursion runs forward in row order over the forward returns ``r`` (e.g. from
    :func:`forward_returns`), so ``s_t = sum_j a (1-a)^j r_t-j`` (with the oldest term's
    weight making the weights sum to one): it mixes the forward returns of *earlier* rows,
    whose horizons overlap the past. Part of ``s_t`` is therefore known at t; measure it
    with :func:`leakage_audit` and always evaluate on the raw forward return.

    It starts at ``s = r`` on the first row and restarts that way after any NaN (NaN rows
    stay NaN, e.g. the last rows, whose horizon runs past the data). On NaN-free input it
    equals ``pandas.Series(r).ewm(alpha=alpha, adjust=False).mean()``.

    Parameters
    ----------
    returns : array_like, shape (N,)
        Forward returns, e.g. from :func:`forward_returns`.
    alpha : float
        Weight of the newest return, in (0, 1] (default 0.2).

    Returns
    -------
    numpy.ndarray, shape (N,)
        The smoothed returns; NaN where ``returns`` is NaN.

    Examples
    --------
    >>> ema_smoothed_returns([10.0, 0.0, 0.0, np.nan, 5.0], alpha=0.5).tolist()
    [10.0, 5.0, 2.5, nan, 5.0]
    """
    r = _as_1d(returns, "returns")
    if np.isinf(r).any():
        raise ValueError("returns must not be infinite")
    a = _positive_float(alpha, "alpha")
    if a > 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    return _k.ema_restart(r, a)


# --------------------------------------------------------------------------------------
# labels
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Labels:
    """Class labels per row.

    Attributes
    ----------
    codes : numpy.ndarray of int8, shape (N,)
        Class code ``0..K-1``; -1 where ``valid`` is False (no class).
    valid : numpy.ndarray of bool, shape (N,)
        Rows with a label: the target is finite (and, if no-change rows were dropped, not zero).
    classes : tuple of str
        Class names; ``classes[c]`` names code ``c``.
    """

    codes: np.ndarray
    valid: np.ndarray
    classes: tuple[str, ...]

    def balance(self) -> pd.DataFrame:
        """Class-balance table: see :func:`class_balance`.

        Returns
        -------
        pandas.DataFrame
            ``count`` and ``share`` per class, then the invalid rows.
        """
        return class_balance(self)


def class_balance(labels: Labels) -> pd.DataFrame:
    """Count and share of each class among valid rows, plus the invalid (unlabelled) rows.

    The ``share`` of the invalid row is its share of *all* rows; class shares are of valid
    rows (the majority share is the accuracy of always predicting that class).

    Parameters
    ----------
    labels : Labels
        Labels from :func:`binary_labels` or :func:`three_class_labels`.

    Returns
    -------
    pandas.DataFrame
        Index ``class`` (the class names, then ``"(invalid)"``); columns ``count`` (int) and
        ``share``.

    Examples
    --------
    >>> table = binary_labels([1.0, -2.0, 3.0, 0.0, np.nan]).balance()
    >>> table["count"].to_dict()
    {'down': 1, 'up': 2, '(invalid)': 2}
    >>> table["share"].round(3).to_dict()
    {'down': 0.333, 'up': 0.667, '(invalid)': 0.4}
    """
    if not isinstance(labels, Labels):
        raise TypeError(f"labels must be a Labels object, got {type(labels).__name__}")
    n_valid = int(labels.valid.sum())
    counts = np.bincount(labels.codes[labels.valid], minlength=len(labels.classes))
    n = labels.codes.size
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = counts / n_valid if n_valid else np.full(counts.size, np.nan)
        invalid_share = (n - n_valid) / n if n else np.nan
    table = pd.DataFrame(
        {
            "count": np.append(counts, n - n_valid).astype(np.int64),
            "share": np.append(shares, invalid_share),
        },
        index=pd.Index([*labels.classes, "(invalid)"], name="class"),
    )
    return table


def binary_labels(returns, *, no_change: Literal["drop", "keep"] = "drop") -> Labels:
    """Up/down labels with strict inequalities: up iff ``r > 0``, down iff ``r < 0``.

    Rows with ``r == 0`` exactly (no change) are invalid with ``no_change="drop"`` (classes
    ``("down", "up")``); with ``"keep"`` they join class 0, which is then ``"not up"``
    (``r <= 0``). NaN returns are always invalid.

    Parameters
    ----------
    returns : array_like, shape (N,)
        Forward returns.
    no_change : {"drop", "keep"}
        What a return of exactly 0 becomes: invalid, or class 0.

    Returns
    -------
    Labels
        Codes 0 (down, or not up) and 1 (up).

    Examples
    --------
    >>> lab = binary_labels([1.0, 0.0, -1.0], no_change="keep")
    >>> lab.codes.tolist(), lab.classes
    ([1, 0, 0], ('not up', 'up'))
    """
    r = _as_1d(returns, "returns")
    if no_change not in ("drop", "keep"):
        raise ValueError(f"no_change must be 'drop' or 'keep', got {no_change!r}")
    finite = np.isfinite(r)
    up = finite & (r > 0)
    valid = finite & (r != 0) if no_change == "drop" else finite
    codes = np.where(valid, up.astype(np.int8), np.int8(-1)).astype(np.int8)
    classes = ("down", "up") if no_change == "drop" else ("not up", "up")
    return Labels(codes=codes, valid=valid, classes=classes)


@dataclass(frozen=True)
class Threshold:
    """A 3-class threshold fitted on training rows only.

    Attributes
    ----------
    value : float
        The threshold, in the returns' units (bps): ``k * std``.
    k : float
        Multiple of the standard deviation.
    std : float
        Sample standard deviation (ddof=1) of the finite training returns.
    n_train : int
        Number of finite training returns it was fitted on.
    """

    value: float
    k: float
    std: float
    n_train: int


def fit_threshold(returns, train_mask, k: float = 1.0) -> Threshold:
    """Fit ``k x std`` of the *training* returns, for :func:`three_class_labels`.

    Parameters
    ----------
    returns : array_like, shape (N,)
        Forward returns.
    train_mask : array_like of bool, shape (N,)
        True on training rows. Only their finite returns are used.
    k : float
        Multiple of the standard deviation (default 1).

    Returns
    -------
    Threshold
        The value ``k x std`` and what it was fitted on.

    Examples
    --------
    >>> r = np.array([-1.0, 1.0, -1.0, 1.0, 50.0])
    >>> fit_threshold(r, [True, True, True, True, False]).value  # the test row's 50 is unused
    1.1547005383792515
    """
    r = _as_1d(returns, "returns")
    mask = _mask(train_mask, r.size, "train_mask")
    kk = _positive_float(k, "k")
    train = r[mask & np.isfinite(r)]
    if train.size < 2:
        raise ValueError(f"need at least 2 finite training returns, got {train.size}")
    std = float(np.std(train, ddof=1))
    return Threshold(value=kk * std, k=kk, std=std, n_train=int(train.size))


def _mask(mask, n: int, name: str) -> np.ndarray:
    arr = np.asarray(mask)
    if arr.dtype != np.bool_:
        raise ValueError(f"{name} must be a boolean array, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    return arr


def three_class_labels(
    returns,
    *,
    threshold: Threshold | float | None = None,
    train_mask=None,
    k: float = 1.0,
) -> Labels:
    """Down / flat / up labels: up iff ``r > c``, down iff ``r < -c``, flat iff ``|r| <= c``.

    The threshold ``c`` comes from exactly one of:

    - ``train_mask``: ``c = k x std`` of the training rows' returns (:func:`fit_threshold`);
    - ``threshold``: a :class:`Threshold` fitted earlier on training data (label validation
      and test rows with the training threshold), or a fixed number in the returns' units,
      chosen without looking at the data.

    Classes ``("down", "flat", "up")`` with codes 0, 1, 2; NaN returns are invalid.
    A ``train_mask`` that selects every finite row warns: the threshold then saw the test
    rows. Training rows whose horizon reaches into the test period should be purged from the
    mask first (:mod:`lobutils.evaluation`).

    DeepLOB-style labels are ``three_class_labels(smoothed_returns(mid, k), ...)``.

    Parameters
    ----------
    returns : array_like, shape (N,)
        Forward returns.
    threshold : Threshold or float, optional
        A fitted threshold, or a fixed one in the returns' units.
    train_mask : array_like of bool, shape (N,), optional
        Fit ``k x std`` on these rows instead.
    k : float
        Multiple of the standard deviation, with ``train_mask`` (default 1).

    Returns
    -------
    Labels
        Codes 0 (down), 1 (flat), 2 (up).

    Examples
    --------
    >>> r = np.array([-3.0, -0.5, 0.5, 3.0, 10.0, -10.0])
    >>> train = np.array([True, True, True, True, False, False])
    >>> lab = three_class_labels(r, train_mask=train)
    >>> lab.codes.tolist()
    [0, 1, 1, 2, 2, 0]
    >>> three_class_labels(r, threshold=0.4).codes.tolist()
    [0, 0, 2, 2, 2, 0]
    """
    r = _as_1d(returns, "returns")
    if (threshold is None) == (train_mask is None):
        raise ValueError(
            "give exactly one of train_mask= (fit k*std on training rows) or threshold= "
            "(a Threshold from fit_threshold, or a fixed number)"
        )
    if train_mask is not None:
        mask = _mask(train_mask, r.size, "train_mask")
        finite = np.isfinite(r)
        if finite.any() and mask[finite].all():
            warnings.warn(
                "train_mask selects every labelled row: the threshold is fitted on the rows "
                "it labels (test rows included)",
                UserWarning,
                stacklevel=2,
            )
        c = fit_threshold(r, mask, k).value
    elif isinstance(threshold, Threshold):
        c = threshold.value
    else:
        try:
            c = float(threshold)
        except (TypeError, ValueError):
            raise ValueError(
                f"threshold must be a Threshold or a number, got {threshold!r}"
            ) from None
        if not (np.isfinite(c) and c >= 0):
            raise ValueError(f"threshold must be finite and >= 0, got {threshold!r}")
    valid = np.isfinite(r)
    codes = np.full(r.size, -1, dtype=np.int8)
    codes[valid] = 1
    codes[valid & (r > c)] = 2
    codes[valid & (r < -c)] = 0
    return Labels(codes=codes, valid=valid, classes=("down", "flat", "up"))


# --------------------------------------------------------------------------------------
# leakage audit
# --------------------------------------------------------------------------------------


def _past_matrix(past, n: int) -> tuple[list[str], np.ndarray]:
    if isinstance(past, pd.DataFrame):
        past = {str(c): past[c].to_numpy() for c in past.columns}
    if not isinstance(past, Mapping) or not past:
        raise ValueError("past must be a non-empty mapping of name -> array (or a DataFrame)")
    names = [str(k) for k in past]
    cols = []
    for name, x in past.items():
        a = _as_1d(x, f"past[{name!r}]")
        if a.size != n:
            raise ValueError(f"past[{name!r}] has {a.size} rows, the target has {n}")
        cols.append(a)
    return names, np.column_stack(cols)


def past_correlation(target, past) -> float:
    """Pearson correlation of a target with one past (observable-at-t) series.

    Uses the rows where both are finite; NaN with fewer than 3 such rows or zero variance.

    Parameters
    ----------
    target : array_like, shape (N,)
        The target.
    past : array_like, shape (N,)
        A series known at each row.

    Returns
    -------
    float
        The correlation, or NaN.

    Examples
    --------
    >>> round(past_correlation([1.0, 2.0, 3.0, np.nan], [2.0, 4.0, 7.0, 1.0]), 4)
    0.9934
    """
    y = _as_1d(target, "target")
    x = _as_1d(past, "past")
    if x.size != y.size:
        raise ValueError(f"target has {y.size} rows, past has {x.size}")
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def variance_explained_by_past(target, past, *, train_mask=None) -> float:
    """Share of a target's variance that a linear function of past information explains.

    Fits ``target ~ 1 + past`` by least squares and returns ``R^2 = 1 - SSE / SST``. With
    ``train_mask`` the fit uses the training rows and R^2 is measured on the other rows, out
    of sample against the training mean (``SST = sum (y - mean(y_train))^2``, the constant
    forecast; so it can be negative); otherwise in sample. Rows
    where the target or any past series is not finite are left out.

    A raw forward return should score about 0 here; a target that scores well above 0 is
    partly known when it is predicted.

    Parameters
    ----------
    target : array_like, shape (N,)
        The target.
    past : mapping of str to array_like (N,), or pandas.DataFrame
        Series observable at t, e.g. :func:`lobutils.features.core.past_returns` at several
        lookbacks.
    train_mask : array_like of bool, optional
        Fit on these rows and measure R^2 on the others.

    Returns
    -------
    float
        R^2, NaN when too few rows are left.

    Examples
    --------
    Synthetic: a target that is 2 x a past return exactly.

    >>> x = np.array([1.0, -1.0, 2.0, 0.5, -3.0])
    >>> round(variance_explained_by_past(2 * x, {"past": x}), 6)
    1.0
    """
    y = _as_1d(target, "target")
    _, x = _past_matrix(past, y.size)
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
    if train_mask is None:
        fit_rows = eval_rows = ok
    else:
        mask = _mask(train_mask, y.size, "train_mask")
        fit_rows, eval_rows = ok & mask, ok & ~mask
    p = x.shape[1] + 1
    if fit_rows.sum() <= p or eval_rows.sum() < 2:
        return float("nan")
    design = np.column_stack([np.ones(y.size), x])
    beta, *_ = np.linalg.lstsq(design[fit_rows], y[fit_rows], rcond=None)
    resid = y[eval_rows] - design[eval_rows] @ beta
    # benchmark: the constant forecast fitted on the same rows as the regression
    sst = float(np.sum((y[eval_rows] - y[fit_rows].mean()) ** 2))
    if sst == 0:
        return float("nan")
    return 1.0 - float(np.sum(resid**2)) / sst


def leakage_audit(targets, past, *, train_mask=None) -> pd.DataFrame:
    """How much of each target is already known at t, one row per target.

    Columns: ``n`` (rows where the target is finite), ``corr_<name>`` (the target's
    correlation with each past series, :func:`past_correlation`), and ``r2_past`` (the share
    of its variance explained by all past series together, :func:`variance_explained_by_past`).
    Put the raw forward return next to its smoothed versions: the raw one is the yardstick.

    Parameters
    ----------
    targets : mapping of str to array_like (N,), or pandas.DataFrame
        The targets, by name.
    past : mapping of str to array_like (N,), or pandas.DataFrame
        Series known at t, by name.
    train_mask : array_like of bool, optional
        Fit the R^2 regression on these rows and measure it on the others.

    Returns
    -------
    pandas.DataFrame
        Index ``target``; columns ``n``, ``corr_<name>`` per past series, ``r2_past``.

    Examples
    --------
    Synthetic random walk: the raw forward return is unrelated to the past return; its EMA
    is not.

    >>> from lobutils.features.core import past_returns
    >>> rng = np.random.default_rng(0)
    >>> mids = 100 * np.exp(np.cumsum(rng.normal(0, 1e-4, 5000)))
    >>> raw = forward_returns(mids, events=10)
    >>> table = leakage_audit({"raw": raw, "ema": ema_smoothed_returns(raw)},
    ...                       {"past_10": past_returns(mids, events=10)})
    >>> bool(abs(table.loc["raw", "corr_past_10"]) < 0.1), bool(table.loc["ema", "r2_past"] > 0.1)
    (True, True)
    """
    if isinstance(targets, pd.DataFrame):
        targets = {str(c): targets[c].to_numpy() for c in targets.columns}
    if not isinstance(targets, Mapping) or not targets:
        raise ValueError("targets must be a non-empty mapping of name -> array (or a DataFrame)")
    rows = {}
    for name, target in targets.items():
        y = _as_1d(target, f"targets[{name!r}]")
        names, x = _past_matrix(past, y.size)
        row: dict[str, float] = {"n": int(np.isfinite(y).sum())}
        for k, pname in enumerate(names):
            row[f"corr_{pname}"] = past_correlation(y, x[:, k])
        row["r2_past"] = variance_explained_by_past(
            y, dict(zip(names, x.T, strict=True)), train_mask=train_mask
        )
        rows[str(name)] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "target"
    return table
