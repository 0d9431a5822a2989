"""Analysis helpers of chapters 3 to 5: how features and targets relate, per market.

The chapters call these once per market and horizon and keep only the loop, the prose and the
figure. Everything works on plain arrays of one market on a regular grid (rows in time order,
int64 nanosecond times); returns are in basis points (bps).

- :func:`return_summary`: rows with a target, zeros and spread of one forward-return series.
- :func:`label_sets`: the five label types of chapter 4 on one return series.
- :func:`ema_known_part`, :func:`ema_unknown_part`: the exact split of the EMA-smoothed forward
  return into the part known at prediction time and the part that lies ahead.
- :func:`rank_correlations`: features against forward returns (chapter 3).
- :func:`stationarity_series`: the features and targets chapter 5 tests, by name.
- :func:`adf_power`: how often the Dickey–Fuller test detects simulated mean reversion.

The chronological split and the model of past returns that chapter 4 scores on these targets
are in :mod:`lobutils.models.leakage`; the pooled decile table of chapter 3 is
:func:`lobutils.plots.features.pooled_binned`, beside the figure it feeds.

Examples
--------
>>> r = np.array([0.0, 1.0, -1.0, np.nan])
>>> return_summary(r, 1.5)["rows with a target"]
3
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from lobutils.features import core as F
from lobutils.features import stationarity as S
from lobutils.features import targets as T

__all__ = [
    "adf_power",
    "ema_known_part",
    "ema_unknown_part",
    "label_sets",
    "long_balance",
    "rank_correlations",
    "return_summary",
    "stationarity_series",
]


def return_summary(returns: np.ndarray, independent: float) -> dict[str, float]:
    """Rows with a target, the share of exact zeros and the spread of one forward-return series.

    Parameters
    ----------
    returns : numpy.ndarray
        Forward returns (bps), NaN where the horizon runs past the data.
    independent : float
        How many non-overlapping horizons the sample holds (span / horizon).

    Returns
    -------
    dict
        ``rows with a target``, ``independent horizons``, ``share exactly 0``, ``std (bps)``.

    Examples
    --------
    >>> return_summary(np.array([0.0, 1.0, -1.0, np.nan]), 1.5)["share exactly 0"]
    0.3333333333333333
    """
    r = np.asarray(returns, dtype=float)
    ok = r[np.isfinite(r)]
    return {
        "rows with a target": int(ok.size),
        "independent horizons": float(independent),
        "share exactly 0": float(np.mean(ok == 0)) if ok.size else np.nan,
        "std (bps)": float(np.std(ok)) if ok.size else np.nan,
    }


def label_sets(
    returns: np.ndarray, mid: np.ndarray, steps: int, train_mask: np.ndarray, k: float = 1.0
) -> dict[str, T.Labels]:
    """The five label types of chapter 4 for one forward-return series.

    Parameters
    ----------
    returns : numpy.ndarray
        Raw forward returns (bps) over ``steps`` rows.
    mid : numpy.ndarray
        The mids they come from (for DeepLOB's smoothed labels).
    steps : int
        The horizon in rows: the k of DeepLOB's means.
    train_mask : numpy.ndarray of bool
        Rows the 3-class thresholds are fitted on.
    k : float, default 1.0
        Threshold in training standard deviations.

    Returns
    -------
    dict of str to Labels
        ``binary (drop zeros)``, ``binary (keep zeros)``, ``3-class``, ``deeplob current``,
        ``deeplob past``.

    Examples
    --------
    >>> m = 100 + np.cumsum(np.random.default_rng(0).choice([-0.1, 0.0, 0.1], 50))  # synthetic
    >>> r = T.forward_returns(m, events=1)
    >>> sorted(label_sets(r, m, 1, np.arange(50) < 30))[0]
    '3-class'
    """
    return {
        "binary (drop zeros)": T.binary_labels(returns, no_change="drop"),
        "binary (keep zeros)": T.binary_labels(returns, no_change="keep"),
        "3-class": T.three_class_labels(returns, train_mask=train_mask, k=k),
        "deeplob current": T.three_class_labels(
            T.smoothed_returns(mid, steps, reference="current"), train_mask=train_mask, k=k
        ),
        "deeplob past": T.three_class_labels(
            T.smoothed_returns(mid, steps, reference="past"), train_mask=train_mask, k=k
        ),
    }


def long_balance(labels: Mapping[str, T.Labels]) -> pd.DataFrame:
    """Class counts and shares of several label sets, one row per label type and class.

    Parameters
    ----------
    labels : mapping of str to Labels
        Label sets by name, e.g. from :func:`label_sets`.

    Returns
    -------
    pandas.DataFrame
        ``labels``, ``class``, ``count`` (int), ``share``.

    Examples
    --------
    >>> long_balance({"b": T.binary_labels(np.array([1.0, -1.0, 2.0]))})["count"].tolist()
    [1, 2, 0]
    """
    parts = [
        lab.balance()
        .rename_axis("class")
        .reset_index()
        .assign(labels=kind, count=lambda t: t["count"].astype(int))
        for kind, lab in labels.items()
    ]
    return pd.concat(parts, ignore_index=True)[["labels", "class", "count", "share"]]


def ema_known_part(mid: np.ndarray, h: int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The EMA-smoothed h-step forward return s and its part K known at t (bps, h in rows).

    With :math:`L = 10^4 \\log m`,
    :math:`K_t = (1-\\alpha)^h s_{t-h} + \\sum_{j=1}^{h-1} \\alpha (1-\\alpha)^j (L_t - L_{t-j})`:
    only rows up to t enter (:math:`s_{t-h}` is built from returns that ended by t).

    Parameters
    ----------
    mid : numpy.ndarray
        Mids on a regular grid.
    h : int
        Horizon in rows.
    alpha : float
        EMA weight of the newest forward return.

    Returns
    -------
    s : numpy.ndarray
        The EMA-smoothed forward return (bps).
    known : numpy.ndarray
        Its part known at t (bps), NaN for the first h rows.

    Examples
    --------
    >>> s, k = ema_known_part(np.array([100.0, 101.0, 100.0, 102.0]), 1, 0.5)
    >>> bool(np.isnan(k[0])), bool(np.isclose(k[1], 0.5 * s[0]))
    (True, True)
    """
    L = 1e4 * np.log(mid)
    s = T.ema_smoothed_returns(T.forward_returns(mid, events=h), alpha)
    known = np.full(mid.size, np.nan)
    known[h:] = (1 - alpha) ** h * s[:-h]
    for j in range(1, h):
        known[h:] += alpha * (1 - alpha) ** j * (L[h:] - L[h - j : mid.size - j])
    return s, known


def ema_unknown_part(mid: np.ndarray, h: int, alpha: float) -> np.ndarray:
    """The part of the EMA-smoothed forward return that lies ahead of t (bps, h in rows).

    :math:`U_t = \\sum_{j=0}^{h-1} \\alpha (1-\\alpha)^j (L_{t-j+h} - L_t)`, so that
    :math:`s = K + U` with K from :func:`ema_known_part`.

    Parameters
    ----------
    mid : numpy.ndarray
        Mids on a regular grid.
    h : int
        Horizon in rows.
    alpha : float
        EMA weight.

    Returns
    -------
    numpy.ndarray
        U (bps), NaN for the first and last h rows.

    Examples
    --------
    >>> m = np.exp(np.cumsum(np.random.default_rng(1).normal(0, 1e-3, 40)))  # synthetic walk
    >>> s, k = ema_known_part(m, 3, 0.2)
    >>> u = ema_unknown_part(m, 3, 0.2)
    >>> ok = np.isfinite(s + k + u)
    >>> bool(np.allclose(k[ok] + u[ok], s[ok]))
    True
    """
    L = 1e4 * np.log(mid)
    n = mid.size
    out = np.full(n, np.nan)
    rows = np.arange(h, n - h)
    out[rows] = sum(alpha * (1 - alpha) ** j * (L[rows - j + h] - L[rows]) for j in range(h))
    return out


def rank_correlations(
    features: pd.DataFrame,
    forward: Mapping[int, np.ndarray],
    columns: Mapping[str, Callable[[pd.DataFrame], pd.Series]],
) -> pd.DataFrame:
    """Spearman correlations of derived feature columns with forward returns, per horizon.

    Parameters
    ----------
    features : pandas.DataFrame
        One market's feature frame.
    forward : mapping of int to numpy.ndarray
        Forward returns by horizon, aligned with ``features``.
    columns : mapping of str to callable
        Each feature's name and how to compute it from ``features``.

    Returns
    -------
    pandas.DataFrame
        One row per horizon (index ``horizon_s``), one column per feature.

    Examples
    --------
    >>> f = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    >>> c = rank_correlations(f, {1: np.array([1.0, 3.0, 2.0, 4.0])}, {"x": lambda f: f["x"]})
    >>> c.round(6).to_dict()
    {'x': {1: 0.8}}
    """
    derived = {
        name: pd.Series(np.asarray(fn(features), dtype=float)) for name, fn in columns.items()
    }
    rows = {}
    for h, y in forward.items():
        target = pd.Series(np.asarray(y, dtype=float))
        rows[h] = {name: x.corr(target, method="spearman") for name, x in derived.items()}
    return pd.DataFrame(rows).T.rename_axis("horizon_s")


def stationarity_series(
    clock: pd.DataFrame, trades: pd.DataFrame, config: F.FeatureConfig, horizons_s: Sequence[int]
) -> dict[str, np.ndarray]:
    """The features and forward returns chapter 5 tests, by name, on one market's clock grid.

    Everything but the mid is in units that do not depend on the price level (bps, shares,
    quantities, counts).

    Parameters
    ----------
    clock : pandas.DataFrame
        The market's clock-grid book frame.
    trades : pandas.DataFrame
        Its trades.
    config : lobutils.features.core.FeatureConfig
        Feature settings (VAMP cutoff, contract value, windows).
    horizons_s : sequence of int
        Forward-return horizons (s).

    Returns
    -------
    dict of str to numpy.ndarray
        ``mid``, ``spread (bps)``, ``microprice − mid (bps)``, ``mid − vamp (bps)``, ``qi``,
        ``ofi``, ``ti``, ``realised vol (bps)``, ``trade intensity (1/s)`` and
        ``forward return {h} s`` per horizon.
    """
    f = F.compute_features(clock, trades, config)
    ts = clock["ts"].to_numpy()
    mid = f["mid"].to_numpy()
    out = {
        "mid": mid,
        "spread (bps)": f["spread_bps"].to_numpy(),
        "microprice − mid (bps)": (1e4 * (f["microprice"] - f["mid"]) / f["mid"]).to_numpy(),
        "mid − vamp (bps)": (1e4 * f["mid_minus_vamp"] / f["mid"]).to_numpy(),
        "qi": f["qi"].to_numpy(),
        "ofi": f["ofi_1"].to_numpy(),
        "ti": f["ti"].to_numpy(),
        "realised vol (bps)": f["realized_vol"].to_numpy(),
        "trade intensity (1/s)": f["trade_intensity"].to_numpy(),
    }
    for h in horizons_s:
        out[f"forward return {h} s"] = T.forward_returns(mid, ts=ts, seconds=h)
    return out


def adf_power(
    sample_sizes: Sequence[int],
    half_lives: Sequence[float],
    n_sim: int,
    *,
    alpha: float = 0.05,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """Rejection rate of the Dickey–Fuller test on simulated AR(1) series, by size and half-life.

    Each series is :math:`x_t = \\phi x_{t-1} + \\varepsilon_t` with standard normal shocks and
    :math:`\\phi = 0.5^{1/H}` for a half-life of H steps (an infinite half-life is a random walk,
    whose rate is the test's size). The test is ADF without lagged differences, the right model
    for an AR(1).

    Parameters
    ----------
    sample_sizes : sequence of int
        Series lengths (steps).
    half_lives : sequence of float
        Half-lives of the mean reversion (steps); ``numpy.inf`` for a random walk.
    n_sim : int
        Series per (size, half-life).
    alpha : float, default 0.05
        Significance level.
    rng : numpy.random.Generator, optional
        Source of the shocks (default: seed 0). The series are drawn in the order of the loops,
        size first.

    Returns
    -------
    pandas.DataFrame
        ``n``, ``half_life_s``, ``phi``, ``rate`` (share of series where ADF rejects the unit root).

    Examples
    --------
    >>> t = adf_power([200], [2, np.inf], 20)
    >>> t["rate"].iloc[0] > t["rate"].iloc[1]
    np.True_
    """
    from scipy.signal import lfilter

    rng = np.random.default_rng(0) if rng is None else rng
    rows = []
    for n in sample_sizes:
        for half_life in half_lives:
            phi = 0.5 ** (1.0 / half_life)  # 1.0 for an infinite half-life: a random walk
            rejected = 0
            for _ in range(n_sim):
                path = lfilter([1.0], [1.0, -phi], rng.normal(size=n))
                test = S.adf_test(path, autolag=None, maxlag=0, alpha=alpha)
                rejected += test["verdict"] == "reject H0"
            rows.append({"n": n, "half_life_s": half_life, "phi": phi, "rate": rejected / n_sim})
    return pd.DataFrame(rows)
