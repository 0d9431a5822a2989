"""Stationarity tests (ADF and KPSS) as one tidy table, and the transformations to try.

The two tests have opposite null hypotheses, so they are read together:

- **ADF** (augmented Dickey-Fuller): H0 = a unit root. Rejecting it is evidence of
  stationarity.
- **KPSS** (Kwiatkowski-Phillips-Schmidt-Shin): H0 = stationary (around a level with
  ``regression="c"``, around a linear trend with ``"ct"``). Rejecting it is evidence of a unit
  root.

:func:`stationarity_table` gives one row per (series, test) with the statistic, p-value,
lags, observations and the test's verdict at level ``alpha``, and a combined verdict per
series:

``"stationary"`` (or ``"trend-stationary"`` with ``regression="ct"``)
    ADF rejects a unit root and KPSS does not reject stationarity.
``"unit root"``
    ADF does not reject a unit root and KPSS rejects stationarity.
``"conflicting"``
    both reject: common in long high-frequency samples with breaks, long memory or
    changing variance; the tests disagree, so neither label is safe.
``"inconclusive"``
    neither rejects: usually too little data for either test to have power.
``"not tested"``
    a constant series or fewer than ``min_obs`` finite values; ``note`` says which.

KPSS p-values come from a table that stops at 0.01 and 0.10; outside it the p-value is that
bound, and ``note`` says so. Both tests need statsmodels (``pip install lobutils[ml]``).

Examples
--------
Synthetic: white noise and its cumulative sum (a random walk).

>>> rng = np.random.default_rng(0)
>>> noise = rng.normal(size=500)
>>> table = stationarity_table({"noise": noise, "walk": np.cumsum(noise)})
>>> table.groupby("series")["combined"].first().to_dict()
{'noise': 'stationary', 'walk': 'unit root'}
>>> list(table.columns)  # doctest: +NORMALIZE_WHITESPACE
['series', 'transform', 'test', 'statistic', 'pvalue', 'lags', 'nobs', 'n_dropped', 'null',
 'verdict', 'combined', 'note']
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "TRANSFORMS",
    "adf_test",
    "difference",
    "kpss_test",
    "log_difference",
    "log_transform",
    "rolling_zscore",
    "stationarity_table",
    "transform",
]


# --------------------------------------------------------------------------------------
# transformations (all causal: row i uses rows <= i)
# --------------------------------------------------------------------------------------


def _series(x, name: str = "x") -> np.ndarray:
    if isinstance(x, pd.Series):
        x = x.to_numpy()
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


def difference(x, periods: int = 1) -> np.ndarray:
    """``x[i] - x[i - periods]``; the first ``periods`` rows are NaN.

    Parameters
    ----------
    x : array_like or pandas.Series, shape (N,)
        The series, in time order.
    periods : int
        The lag, at least 1.

    Returns
    -------
    numpy.ndarray, shape (N,)
        The differences.

    Examples
    --------
    >>> difference([1.0, 4.0, 9.0]).tolist()
    [nan, 3.0, 5.0]
    """
    a = _series(x)
    if isinstance(periods, bool) or not isinstance(periods, int | np.integer) or periods < 1:
        raise ValueError(f"periods must be a positive integer, got {periods!r}")
    out = np.full(a.size, np.nan)
    out[periods:] = a[periods:] - a[:-periods]
    return out


def log_transform(x) -> np.ndarray:
    """Natural log; raises on non-positive values (NaN stays NaN).

    Parameters
    ----------
    x : array_like or pandas.Series, shape (N,)
        The series, in time order.

    Returns
    -------
    numpy.ndarray, shape (N,)
        ``log(x)``.

    Raises
    ------
    ValueError
        If a value is zero or negative.

    Examples
    --------
    >>> log_transform([1.0, np.e]).tolist()
    [0.0, 1.0]
    """
    a = _series(x)
    if (a[~np.isnan(a)] <= 0).any():
        raise ValueError("log needs positive values; the series has values <= 0")
    return np.log(a)


def log_difference(x, periods: int = 1) -> np.ndarray:
    """``log(x[i]) - log(x[i - periods])`` (a log return, not scaled to bps).

    Parameters
    ----------
    x : array_like or pandas.Series, shape (N,)
        The series, in time order.
    periods : int
        The lag, at least 1.

    Returns
    -------
    numpy.ndarray, shape (N,)
        The log differences; the first ``periods`` rows are NaN.

    Examples
    --------
    >>> log_difference([1.0, np.e]).tolist()
    [nan, 1.0]
    """
    return difference(log_transform(x), periods)


def rolling_zscore(x, window: int, *, min_periods: int | None = None) -> np.ndarray:
    """Standardise each value with the mean and std of the *previous* ``window`` values.

    ``z[i] = (x[i] - mean(x[i-window..i-1])) / std(x[i-window..i-1])`` (ddof=1). The
    statistics exclude the current value and never look ahead, so no test-period
    information enters. NaN while fewer than ``min_periods`` (default ``window``) past values
    are available, and where the past std is 0.

    Parameters
    ----------
    x : array_like or pandas.Series, shape (N,)
        The series, in time order.
    window : int
        Past values in the statistics, at least 2.
    min_periods : int, optional
        Fewest past values for a z-score, between 2 and ``window`` (default ``window``).

    Returns
    -------
    numpy.ndarray, shape (N,)
        The z-scores.

    Examples
    --------
    >>> rolling_zscore([1.0, 3.0, 2.0, 10.0], window=2).round(4).tolist()
    [nan, nan, 0.0, 10.6066]
    """
    a = _series(x)
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 2:
        raise ValueError(f"window must be an integer >= 2, got {window!r}")
    mp = window if min_periods is None else int(min_periods)
    if not 2 <= mp <= window:
        raise ValueError(f"min_periods must be in [2, window], got {min_periods!r}")
    past = pd.Series(a).shift(1).rolling(window, min_periods=mp)
    mean = past.mean().to_numpy()
    std = past.std(ddof=1).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (a - mean) / std
    z[~(std > 0)] = np.nan
    return z


TRANSFORMS: Mapping[str, Callable[[np.ndarray], np.ndarray]] = {
    "level": lambda a: _series(a),
    "diff": difference,
    "log": log_transform,
    "log_diff": log_difference,
}
"""Named transformations for :func:`transform` and :func:`stationarity_table`.

``"zscore_<window>"`` (e.g. ``"zscore_600"``) is accepted too: :func:`rolling_zscore`.
"""


def transform(x, name: str) -> np.ndarray:
    """Apply a named transformation: ``level``, ``diff``, ``log``, ``log_diff``, ``zscore_<w>``.

    Parameters
    ----------
    x : array_like or pandas.Series, shape (N,)
        The series, in time order.
    name : str
        A key of :data:`TRANSFORMS`, or ``"zscore_<window>"``.

    Returns
    -------
    numpy.ndarray, shape (N,)
        The transformed series.

    Examples
    --------
    >>> transform([1.0, 2.0, 4.0], "diff").tolist()
    [nan, 1.0, 2.0]
    """
    if name in TRANSFORMS:
        return TRANSFORMS[name](x)
    if name.startswith("zscore_") and name[len("zscore_") :].isdigit():
        return rolling_zscore(x, int(name[len("zscore_") :]))
    raise ValueError(
        f"unknown transform {name!r}; use one of {sorted(TRANSFORMS)} or 'zscore_<window>'"
    )


# --------------------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------------------


def _statsmodels():
    try:
        from statsmodels.tsa import stattools
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the stationarity tests need statsmodels: pip install 'lobutils[ml]'"
        ) from err
    return stattools


def _tuple_kwargs(func) -> dict:
    """``result_object=False`` where statsmodels has it (0.15+), to keep the plain tuple."""
    return {"result_object": False} if "result_object" in inspect.signature(func).parameters else {}


def _prepare(x, min_obs: int) -> tuple[np.ndarray, int, str | None]:
    """Finite values, how many were dropped, and why the series cannot be tested (or None)."""
    a = _series(x)
    finite = np.isfinite(a)
    values = a[finite]
    dropped = int(a.size - values.size)
    if values.size < min_obs:
        return values, dropped, f"too short: {values.size} finite values (min_obs={min_obs})"
    if np.ptp(values) == 0:
        return values, dropped, "constant series"
    return values, dropped, None


def _result(test, statistic, pvalue, lags, nobs, dropped, null, reject, note):
    verdict = "not tested" if reject is None else ("reject H0" if reject else "do not reject H0")
    return {
        "test": test,
        "statistic": statistic,
        "pvalue": pvalue,
        "lags": lags,
        "nobs": nobs,
        "n_dropped": dropped,
        "null": null,
        "verdict": verdict,
        "note": note,
    }


def adf_test(
    x,
    *,
    regression: Literal["c", "ct", "n"] = "c",
    autolag: str | None = "AIC",
    maxlag: int | None = None,
    alpha: float = 0.05,
    min_obs: int = 20,
) -> dict:
    """Augmented Dickey-Fuller test (statsmodels ``adfuller``) on the finite values of x.

    Parameters
    ----------
    x : array_like or pandas.Series, shape (N,)
        The series, in time order.
    regression : {"c", "ct", "n"}
        Deterministic terms: a constant, a constant and a trend, or none.
    autolag : str or None
        Lag selection of ``adfuller`` (``"AIC"``, ``"BIC"``, ``"t-stat"``, or None for
        ``maxlag``).
    maxlag : int, optional
        The largest lag tried.
    alpha : float
        Significance level of the verdict.
    min_obs : int
        Fewer finite values than this: not tested.

    Returns
    -------
    dict
        ``test, statistic, pvalue, lags, nobs, n_dropped, null, verdict, note``; a constant or
        too-short series gives NaN numbers, verdict ``"not tested"`` and a note instead of an
        error.

    Examples
    --------
    >>> adf_test(np.ones(50))["note"]
    'constant series'
    """
    null = "unit root"
    values, dropped, problem = _prepare(x, min_obs)
    if problem:
        return _result("ADF", np.nan, np.nan, np.nan, values.size, dropped, null, None, problem)
    stattools = _statsmodels()
    try:
        stat, pvalue, lags, nobs, *_ = stattools.adfuller(
            values,
            maxlag=maxlag,
            regression=regression,
            autolag=autolag,
            **_tuple_kwargs(stattools.adfuller),
        )
    except (ValueError, np.linalg.LinAlgError) as err:
        return _result("ADF", np.nan, np.nan, np.nan, values.size, dropped, null, None, str(err))
    note = f"dropped {dropped} non-finite values" if dropped else ""
    return _result(
        "ADF", float(stat), float(pvalue), int(lags), int(nobs), dropped, null, pvalue < alpha, note
    )


def kpss_test(
    x,
    *,
    regression: Literal["c", "ct"] = "c",
    nlags: str | int = "legacy",
    alpha: float = 0.05,
    min_obs: int = 20,
) -> dict:
    """KPSS test (statsmodels ``kpss``) on the finite values of x; same dict as :func:`adf_test`.

    ``nlags="legacy"`` (the default) is the Schwert (1989) rule, ``int(12 * (n/100)**0.25)``.
    statsmodels' ``"auto"`` (Hobijn et al. 2004) can pick nearly ``n`` lags on a series of tiny
    noise with rare spikes (a differenced spread, say); the statistic then collapses to 0.5 and
    the test rejects whatever the data. A lag count of ``n/2`` or more is flagged in ``note``.

    Parameters
    ----------
    x : array_like or pandas.Series, shape (N,)
        The series, in time order.
    regression : {"c", "ct"}
        Stationary around a level, or around a linear trend.
    nlags : str or int
        ``"legacy"``, ``"auto"`` or a lag count.
    alpha : float
        Significance level of the verdict.
    min_obs : int
        Fewer finite values than this: not tested.

    Returns
    -------
    dict
        The keys of :func:`adf_test`.

    Examples
    --------
    >>> kpss_test(np.arange(5.0))["note"]
    'too short: 5 finite values (min_obs=20)'
    """
    null = "trend-stationary" if regression == "ct" else "level-stationary"
    values, dropped, problem = _prepare(x, min_obs)
    if problem:
        return _result("KPSS", np.nan, np.nan, np.nan, values.size, dropped, null, None, problem)
    stattools = _statsmodels()
    from statsmodels.tools.sm_exceptions import InterpolationWarning

    notes = [f"dropped {dropped} non-finite values"] if dropped else []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InterpolationWarning)
            stat, pvalue, lags, _ = stattools.kpss(
                values, regression=regression, nlags=nlags, **_tuple_kwargs(stattools.kpss)
            )
    except (ValueError, np.linalg.LinAlgError, OverflowError) as err:
        return _result("KPSS", np.nan, np.nan, np.nan, values.size, dropped, null, None, str(err))
    if any(issubclass(w.category, InterpolationWarning) for w in caught):
        side = "smaller" if pvalue <= 0.01 else "greater"
        notes.append(f"p-value outside the KPSS table: the true one is {side}")
    if lags >= values.size / 2:
        notes.append(f"{lags} lags for {values.size} values: the statistic is not informative")
    return _result(
        "KPSS",
        float(stat),
        float(pvalue),
        int(lags),
        int(values.size),
        dropped,
        null,
        pvalue < alpha,
        "; ".join(notes),
    )


def _combined(adf: dict, kpss: dict, regression: str) -> str:
    if adf["verdict"] == "not tested" or kpss["verdict"] == "not tested":
        return "not tested"
    adf_rejects = adf["verdict"] == "reject H0"
    kpss_rejects = kpss["verdict"] == "reject H0"
    if adf_rejects and not kpss_rejects:
        return "trend-stationary" if regression == "ct" else "stationary"
    if kpss_rejects and not adf_rejects:
        return "unit root"
    return "conflicting" if adf_rejects else "inconclusive"


def stationarity_table(
    series,
    *,
    transforms: str | list[str] = "level",
    regression: Literal["c", "ct"] = "c",
    alpha: float = 0.05,
    min_obs: int = 20,
    adf_autolag: str | None = "AIC",
    adf_maxlag: int | None = None,
    kpss_nlags: str | int = "legacy",
) -> pd.DataFrame:
    """ADF and KPSS on each series (and each transformation of it), as one tidy table.

    Parameters
    ----------
    series : mapping of str to array_like, pandas.DataFrame, or pandas.Series
        The series to test, by name. NaN and infinite values are dropped (counted in
        ``n_dropped``), which joins the pieces around interior gaps.
    transforms : str or list of str
        Names for :func:`transform` applied before testing (default ``"level"``: as is).
    regression : {"c", "ct"}
        Deterministic terms in both tests: a constant, or a constant and a linear trend.
    alpha : float
        Significance level of each verdict.
    min_obs : int
        Fewer finite values than this: not tested.
    adf_autolag, adf_maxlag, kpss_nlags : str, int or None
        Passed to statsmodels' ``adfuller`` (``autolag``, ``maxlag``) and ``kpss``
        (``nlags``).

    Returns
    -------
    pandas.DataFrame
        One row per (series, transform, test): ``series, transform, test, statistic,
        pvalue, lags, nobs, n_dropped, null, verdict, combined, note``. ``verdict`` is the
        test's own (``"reject H0"``, ``"do not reject H0"``, ``"not tested"``);
        ``combined`` reads both tests together (module docstring) and repeats on the
        series' two rows.

    Examples
    --------
    >>> t = stationarity_table({"const": np.ones(100), "short": [1.0, 2.0]})
    >>> t[["series", "combined", "note"]].drop_duplicates("series").to_dict("records")
    [{'series': 'const', 'combined': 'not tested', 'note': 'constant series'}, {'series': 'short', 'combined': 'not tested', 'note': 'too short: 2 finite values (min_obs=20)'}]
    """
    if isinstance(series, pd.Series):
        series = {str(series.name): series.to_numpy()}
    elif isinstance(series, pd.DataFrame):
        series = {str(c): series[c].to_numpy() for c in series.columns}
    if not isinstance(series, Mapping) or not series:
        raise ValueError("series must be a non-empty mapping of name -> array (or a DataFrame)")
    if regression not in ("c", "ct"):
        raise ValueError(f"regression must be 'c' or 'ct', got {regression!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if min_obs < 10:
        raise ValueError(f"min_obs must be at least 10, got {min_obs}")
    names = [transforms] if isinstance(transforms, str) else list(transforms)
    rows = []
    for name, values in series.items():
        for tname in names:
            x = transform(values, tname)
            adf = adf_test(
                x,
                regression=regression,
                autolag=adf_autolag,
                maxlag=adf_maxlag,
                alpha=alpha,
                min_obs=min_obs,
            )
            kp = kpss_test(x, regression=regression, nlags=kpss_nlags, alpha=alpha, min_obs=min_obs)
            combined = _combined(adf, kp, regression)
            for res in (adf, kp):
                rows.append({"series": str(name), "transform": tname, **res, "combined": combined})
    columns = [
        "series",
        "transform",
        "test",
        "statistic",
        "pvalue",
        "lags",
        "nobs",
        "n_dropped",
        "null",
        "verdict",
        "combined",
        "note",
    ]
    table = pd.DataFrame(rows, columns=columns)
    table["lags"] = table["lags"].astype("Float64").astype("Int64")
    table["nobs"] = table["nobs"].astype("int64")
    return table
