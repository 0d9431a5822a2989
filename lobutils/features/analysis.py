"""Analysis helpers of chapters 3 to 5: how features and targets relate, per market.

The chapters call these once per market and horizon and keep only the loop, the prose and the
figure. Everything works on plain arrays of one market on a regular grid (rows in time order,
int64 nanosecond times); returns are in basis points (bps).

- :func:`chrono_split`: a chronological train/test cut with the purged training rows removed.
- :func:`return_summary`: rows with a target, zeros and spread of one forward-return series.
- :func:`label_sets`: the five label types of chapter 4 on one return series.
- :func:`ema_known_part`, :func:`ema_unknown_part`: the exact split of the EMA-smoothed forward
  return into the part known at prediction time and the part that lies ahead.
- :func:`ols_forecast`, :func:`skill_rows`: a least-squares model of past returns and its
  out-of-sample :math:`R^2` with block-bootstrap intervals.
- :func:`rank_correlations`, :func:`pooled_binned`: features against forward returns (chapter 3).
- :func:`stationarity_series`: the features and targets chapter 5 tests, by name.
- :func:`adf_power`: how often the Dickey–Fuller test detects simulated mean reversion.

Examples
--------
>>> ts = np.arange(10) * 1_000_000_000
>>> train, test, cut = chrono_split(ts, 1_000_000_000, train_fraction=0.5)
>>> int(train.sum()), int(test.sum())
(4, 5)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from lobutils import evaluation as ev
from lobutils.features import core as F
from lobutils.features import stationarity as S
from lobutils.features import targets as T

__all__ = [
    "adf_power",
    "chrono_split",
    "ema_known_part",
    "ema_skill",
    "ema_unknown_part",
    "label_sets",
    "long_balance",
    "ols_forecast",
    "pooled_binned",
    "rank_correlations",
    "return_summary",
    "skill_rows",
    "stationarity_series",
]


def chrono_split(
    ts: np.ndarray, horizon_ns: int, train_fraction: float = 0.7
) -> tuple[np.ndarray, np.ndarray, int]:
    """Train and test masks of a chronological cut, with the purged training rows removed.

    The cut lies at ``train_fraction`` of the time span. Training rows whose target (``horizon_ns``
    ahead) reaches past the cut are purged: they are in neither mask.

    Parameters
    ----------
    ts : numpy.ndarray
        Row times (int64 ns), increasing.
    horizon_ns : int
        How far each row's target looks ahead (ns).
    train_fraction : float, default 0.7
        Share of the time span before the cut.

    Returns
    -------
    train : numpy.ndarray of bool
        Training rows, purged.
    test : numpy.ndarray of bool
        Rows at or after the cut.
    cut : int
        The cut time (ns).

    Examples
    --------
    >>> tr, te, cut = chrono_split(np.arange(10) * 10, 20, train_fraction=0.5)
    >>> np.flatnonzero(tr).tolist(), np.flatnonzero(te).tolist(), cut
    ([0, 1, 2], [5, 6, 7, 8, 9], 45)
    """
    ts = np.asarray(ts)
    cut = int(ts[0] + train_fraction * (ts[-1] - ts[0]))
    rows = np.arange(ts.size)
    train = ev.purge_embargo(rows[ts < cut], rows[ts >= cut], ts, horizon=horizon_ns)
    train_mask = np.zeros(ts.size, dtype=bool)
    train_mask[train] = True
    return train_mask, ts >= cut, cut


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


def ols_forecast(x: np.ndarray, y: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Least-squares fit of y on [1, x] over the training rows; forecasts for every row.

    Parameters
    ----------
    x : numpy.ndarray
        Regressors, shape (n, k).
    y : numpy.ndarray
        Target, shape (n,).
    train : numpy.ndarray of bool
        Rows the fit uses (all finite).

    Returns
    -------
    numpy.ndarray
        The fitted line's value at every row.

    Examples
    --------
    >>> x = np.arange(5.0)[:, None]
    >>> ols_forecast(x, 2 * x[:, 0] + 1, np.ones(5, bool)).round(6).tolist()
    [1.0, 3.0, 5.0, 7.0, 9.0]
    """
    design = np.column_stack([np.ones(len(x)), x])
    beta, *_ = np.linalg.lstsq(design[train], y[train], rcond=None)
    return design @ beta


def skill_rows(
    cases: Mapping[str, tuple[np.ndarray, np.ndarray]],
    test: np.ndarray,
    config: ev.BootstrapConfig,
) -> list[dict[str, float]]:
    """Out-of-sample :math:`R^2` against the zero forecast, with block-bootstrap intervals.

    Parameters
    ----------
    cases : mapping of str to (target, forecast)
        Each case's target and forecast, full length.
    test : numpy.ndarray of bool
        The rows scored.
    config : lobutils.evaluation.BootstrapConfig
        Block length, resamples and seed of the intervals.

    Returns
    -------
    list of dict
        Per case: ``target``, ``n_test``, ``r2_oos``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> y = np.random.default_rng(0).normal(size=60)  # synthetic
    >>> cfg = ev.BootstrapConfig(block_length=5, n_boot=50, seed=0)
    >>> skill_rows({"perfect": (y, y)}, np.ones(60, bool), cfg)[0]["r2_oos"]
    1.0
    """
    rows = []
    for case, (y, pred) in cases.items():
        ci = ev.block_bootstrap_ci(ev.r2_oos, y[test], pred[test], config=config)
        rows.append(
            {
                "target": case,
                "n_test": int(test.sum()),
                "r2_oos": ci.estimate,
                "ci_low": ci.ci_low,
                "ci_high": ci.ci_high,
            }
        )
    return rows


def ema_skill(
    past: np.ndarray,
    raw: np.ndarray,
    mid: np.ndarray,
    steps: int,
    train: np.ndarray,
    test: np.ndarray,
    *,
    alpha: float = 0.2,
    n_boot: int = 1000,
) -> pd.DataFrame:
    """Apparent and real skill of a linear model of past returns on the EMA target.

    Fits ordinary least squares of the EMA-smoothed target and of the raw forward return on the
    past returns (training rows), and scores five cases on the test rows: ``ema → ema`` (the
    apparent skill), ``raw → raw``, ``ema → raw`` (what a trader earns from), and the
    zero-parameter forecast :math:`K_t` of :func:`ema_known_part` against either target. The
    bootstrap blocks cover the horizon and the EMA's memory (:math:`1/\alpha`), at most a fifth
    of the test rows.

    Parameters
    ----------
    past : numpy.ndarray
        Past returns known at t, shape (n, k).
    raw : numpy.ndarray
        Raw forward returns over ``steps`` rows (bps).
    mid : numpy.ndarray
        The mids on the same grid.
    steps : int
        Horizon in rows.
    train, test : numpy.ndarray of bool
        Purged training rows and test rows.
    alpha : float, default 0.2
        EMA weight.
    n_boot : int, default 1000
        Bootstrap resamples.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`skill_rows`, one per case.

    Examples
    --------
    >>> rng = np.random.default_rng(0)  # synthetic random walk
    >>> m = np.exp(np.cumsum(rng.normal(0, 1e-4, 400)))
    >>> past = (1e4 * np.log(m / np.r_[m[0], m[:-1]]))[:, None]
    >>> raw = T.forward_returns(m, events=1)
    >>> t = ema_skill(past, raw, m, 1, np.arange(400) < 250, np.arange(400) >= 260, n_boot=20)
    >>> t.target.tolist()[:3]
    ['ema → ema', 'raw → raw', 'ema → raw']
    """
    s, known = ema_known_part(mid, steps, alpha)
    ok = np.isfinite(past).all(axis=1) & np.isfinite(raw) & np.isfinite(s) & np.isfinite(known)
    train, test = train & ok, test & ok
    pred_ema, pred_raw = ols_forecast(past, s, train), ols_forecast(past, raw, train)
    block = int(min(max(steps, round(1 / alpha)), max(1, test.sum() // 5)))
    config = ev.BootstrapConfig(block_length=block, n_boot=n_boot, seed=0)
    cases = {
        "ema → ema": (s, pred_ema),
        "raw → raw": (raw, pred_raw),
        "ema → raw": (raw, pred_ema),
        "known part → ema": (s, known),
        "known part → raw": (raw, known),
    }
    return pd.DataFrame(skill_rows(cases, test, config))


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


def pooled_binned(
    values: Mapping[str, np.ndarray],
    forward: Mapping[str, Mapping[int, np.ndarray]],
    horizons: Sequence[int],
    n_bins: int = 10,
    *,
    grid_s: float = 1.0,
) -> pd.DataFrame:
    """Quantile bins of one feature per market, pooled, against the forward return per horizon.

    The band of each bin is widened by :math:`\\sqrt{h}` (h in grid steps, at least 1): overlapping
    h-step returns are far from independent.

    Parameters
    ----------
    values : mapping of str to numpy.ndarray
        The feature, by market.
    forward : mapping of str to mapping of int to numpy.ndarray
        Forward returns by market and horizon (s), aligned with ``values``.
    horizons : sequence of int
        Horizons (s) to bin against.
    n_bins : int, default 10
        Bins per market.
    grid_s : float, default 1.0
        Grid step (s).

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`lobutils.plots.features.binned_means` per horizon, with ``horizon_s``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)  # synthetic feature and returns
    >>> v = {"a": rng.normal(size=200)}
    >>> t = pooled_binned(v, {"a": {1: v["a"] + rng.normal(size=200)}}, [1], n_bins=4)
    >>> len(t), bool(t.y_mean.is_monotonic_increasing)
    (4, True)
    """
    from lobutils.plots.features import binned_means

    names = list(values)
    x = np.concatenate([np.asarray(values[n], dtype=float) for n in names])
    groups = np.concatenate([[n] * len(values[n]) for n in names])
    parts = []
    for h in horizons:
        y = np.concatenate([np.asarray(forward[n][h], dtype=float) for n in names])
        scale = np.sqrt(max(h / grid_s, 1.0))
        table = binned_means(x, y, n_bins, groups=groups, se_scale=scale)
        parts.append(table.assign(horizon_s=h))
    return pd.concat(parts, ignore_index=True)


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
