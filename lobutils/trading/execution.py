"""Optimal liquidation on the real book: Almgren–Chriss, TWAP, VWAP and a predictive schedule.

Selling ``X`` units over a horizon ``T`` in ``n`` slices of length ``tau = T / n`` trades off
two costs. Selling fast walks deep into the book (temporary impact); selling slowly leaves
the position exposed to the price for longer (risk). Almgren & Chriss (2000) price both with
a linear model: a slice of ``n_k`` units costs ``eps |n_k| + (eta / tau) n_k^2`` more than at
the mid, and the mid moves as an arithmetic random walk of volatility ``sigma``. A trader
with risk aversion ``lam`` minimises ``E + lam V`` (expected cost plus ``lam`` times its
variance), and the optimal holdings are

``x(t) = X sinh(kappa (T - t)) / sinh(kappa T)``,  ``kappa = sqrt(lam sigma^2 / eta)``,

which is the straight line of TWAP as ``lam -> 0``. With slices of finite length the exact
optimum has the same form with ``kappa`` from ``2 (cosh(kappa tau) - 1) / tau^2 = lam sigma^2 /
eta_tilde`` (:func:`ac_kappa`, ``discrete=True``); the continuous ``kappa`` is its limit.

Units
-----
Everything is in the quote currency (USD, USDT) and seconds. ``X`` is in units: base units on
a linear market, contracts on an inverse (COIN-M) one. ``sigma`` is the standard deviation of
one unit's quote value per sqrt(second) (:func:`estimate_sigma`); ``eta`` is in quote x s per
unit²; ``lam`` is in 1 / quote: a risk aversion of 1e-5 / USD charges 1 USD for a shortfall
standard deviation of about 316 USD. So the same ``lam`` means the same thing on every market.

Estimating the model from the real book
---------------------------------------
``sigma`` comes from the mid on a 1-second grid over a window before the start, and nothing
after it. ``eta`` comes from the book's depth (:func:`estimate_impact`): at each past book
state in a window before the start, walk the book for slices of several sizes (from a small
part of ``X`` to all of it, the range a schedule can choose); take the median cost per unit at
each size and fit ``cost per unit = eps + eta_slice * size`` by least squares. Then ``eta =
eta_slice * tau`` (a slice of ``q`` costs
``eps q + eta_slice q^2 = eps q + (eta / tau) q^2``). The real cost curve is not a straight
line (flat while the best level lasts, steep after it), so the fitted ``eps`` can come out
below the half-spread, even negative; the fit is AC's linear approximation over the sizes a
schedule can choose, the trajectory depends on ``eta`` only, and the evaluation below walks
the real book, not the line. Permanent impact cannot be measured by replaying a
book that never saw our orders, so it is a parameter (:attr:`LiquidationConfig.permanent_bps_per_million`).

Evaluation: implementation shortfall on the replayed book
---------------------------------------------------------
Each schedule is executed against the real book: slice ``k`` is sent at ``start + k tau``
(``k = 0 .. n-1``) and walks the last book state at or before that time. **Simplification:
the book refills between slices.** Each slice sees the recorded book, as if our earlier slices
had left no trace; a real market refills only partly, so costs of fast schedules are
understated. What a slice cannot fill (the visible levels run out) is carried to the next
slice; what is left after the last slice is valued at the deepest visible price of that
state. The implementation shortfall (Perold 1988) of a sale is the arrival value minus the
proceeds, ``X m0 - sum q p``, positive when the sale did worse than the arrival mid ``m0``; in bps
it is divided by the arrival value. On an inverse market the coin proceeds are converted to USD
at the arrival mid.

Examples
--------
The closed form, and its TWAP limit (synthetic numbers):

>>> ac_holdings(100.0, 60.0, 4, risk_aversion=0.0, sigma=1.0, eta=1.0).tolist()
[100.0, 75.0, 50.0, 25.0, 0.0]
>>> x = ac_holdings(100.0, 60.0, 4, risk_aversion=1e-2, sigma=1.0, eta=1.0)
>>> bool(x[1] < 75.0), float(x[-1])
(True, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lobutils.features import core as _features
from lobutils.markets import Instrument
from lobutils.trading import _kernels as K
from lobutils.trading.backtest import BookArrays, book_arrays_of

__all__ = [
    "ImpactEstimate",
    "LiquidationConfig",
    "LiquidationResult",
    "ac_frontier",
    "ac_holdings",
    "ac_kappa",
    "ac_objective",
    "ac_cost_moments",
    "estimate_impact",
    "estimate_sigma",
    "frontier_table",
    "implementation_shortfall",
    "liquidation_study",
    "ofi_signal",
    "predictive_slices",
    "signal_at",
    "start_times",
    "twap_slices",
    "volume_profile",
    "vwap_slices",
]

BPS = 1e4
NS_PER_S = 1_000_000_000


# --------------------------------------------------------------------------------------
# Almgren–Chriss
# --------------------------------------------------------------------------------------


def _check_positive(name: str, v: float, allow_zero: bool = False) -> float:
    v = float(v)
    ok = v >= 0 if allow_zero else v > 0
    if not (np.isfinite(v) and ok):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else 'positive'}, got {v!r}")
    return v


def ac_kappa(
    risk_aversion: float,
    sigma: float,
    eta: float,
    *,
    tau: float | None = None,
    gamma: float = 0.0,
) -> float:
    """The urgency ``kappa`` (1/s) of the Almgren–Chriss trajectory.

    Continuous (``tau=None``): ``sqrt(lam sigma^2 / eta)``. Discrete slices of length ``tau``:
    ``arccosh(1 + lam sigma^2 tau^2 / (2 eta_tilde)) / tau`` with ``eta_tilde = eta - gamma tau
    / 2`` (Almgren & Chriss 2000), the exact optimum of the sliced problem.

    Parameters
    ----------
    risk_aversion : float
        ``lam``, 1/quote, >= 0.
    sigma : float
        Volatility, quote per unit per sqrt(s).
    eta : float
        Temporary impact, quote x s per unit², > 0.
    tau : float, optional
        Slice length (s); None for the continuous ``kappa``.
    gamma : float
        Permanent impact, quote per unit².

    Returns
    -------
    float
        ``kappa`` in 1/s.

    Raises
    ------
    ValueError
        If an input is out of range or ``eta - gamma tau / 2 <= 0``.

    Examples
    --------
    >>> round(ac_kappa(1e-4, 2.0, 1.0), 6)
    0.02
    >>> round(ac_kappa(1e-4, 2.0, 1.0, tau=0.01), 6)
    0.02
    """
    lam = _check_positive("risk_aversion", risk_aversion, allow_zero=True)
    s = _check_positive("sigma", sigma, allow_zero=True)
    e = _check_positive("eta", eta)
    if tau is None:
        return math.sqrt(lam * s * s / e)
    t = _check_positive("tau", tau)
    e_t = e - 0.5 * float(gamma) * t
    if e_t <= 0:
        raise ValueError("eta - gamma * tau / 2 must be positive (AC's condition on the slices)")
    return math.acosh(1.0 + lam * s * s * t * t / (2.0 * e_t)) / t


def _sinh_ratio(a: np.ndarray, b: float) -> np.ndarray:
    """sinh(a) / sinh(b) for 0 <= a <= b, without overflow."""
    if b > 50.0:
        return np.exp(a - b) * (-np.expm1(-2.0 * a)) / (-np.expm1(-2.0 * b))
    return np.sinh(a) / np.sinh(b)


def ac_holdings(
    X: float,
    T: float,
    n: int,
    risk_aversion: float,
    sigma: float,
    eta: float,
    *,
    gamma: float = 0.0,
    discrete: bool = True,
) -> np.ndarray:
    """Optimal holdings ``x_0 = X, x_1, ..., x_n = 0`` at ``t_k = k T / n``.

    ``x_k = X sinh(kappa (T - t_k)) / sinh(kappa T)`` with ``kappa`` from :func:`ac_kappa`
    (discrete by default); ``risk_aversion = 0`` gives TWAP, ``x_k = X (1 - k / n)``.

    Parameters
    ----------
    X : float
        Units to sell (the same schedule buys ``X``).
    T : float
        Horizon (s).
    n : int
        Slices.
    risk_aversion, sigma, eta, gamma : float
        ``lam`` (1/quote), volatility (quote per unit per sqrt(s)), temporary impact (quote x s
        per unit²), permanent impact (quote per unit²).
    discrete : bool
        Use the exact ``kappa`` of slices of length ``T / n`` (True) or the continuous one.

    Returns
    -------
    numpy.ndarray
        ``n + 1`` holdings (units), from ``X`` down to 0.

    Examples
    --------
    >>> ac_holdings(10.0, 10.0, 2, 0.0, 1.0, 1.0).tolist()
    [10.0, 5.0, 0.0]
    """
    X = _check_positive("X", X, allow_zero=True)
    T = _check_positive("T", T)
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    tau = T / n
    kappa = ac_kappa(risk_aversion, sigma, eta, tau=tau if discrete else None, gamma=gamma)
    t = np.arange(n + 1) * tau
    if kappa * T < 1e-9:
        x = X * (1.0 - np.arange(n + 1) / n)
    else:
        x = X * _sinh_ratio(kappa * (T - t), kappa * T)
    x[0], x[-1] = X, 0.0
    return x


def ac_cost_moments(
    holdings: Any,
    T: float,
    sigma: float,
    eta: float,
    *,
    epsilon: float = 0.0,
    gamma: float = 0.0,
) -> tuple[float, float]:
    """Expected cost ``E`` and variance ``V`` (quote, quote²) of a trajectory under the AC model.

    ``E = gamma X^2 / 2 + eps sum |n_k| + (eta_tilde / tau) sum n_k^2`` and ``V = sigma^2 tau
    sum_{k>=1} x_k^2``, with ``n_k = x_{k-1} - x_k`` and ``eta_tilde = eta - gamma tau / 2``.

    Parameters
    ----------
    holdings : array (n + 1,)
        Holdings ``x_0 .. x_n`` (units), e.g. from :func:`ac_holdings`.
    T : float
        Horizon (s).
    sigma : float
        Volatility, quote per unit per sqrt(s).
    eta : float
        Temporary impact, quote x s per unit².
    epsilon : float
        Fixed cost per unit traded (e.g. the half-spread), quote.
    gamma : float
        Permanent impact, quote per unit².

    Returns
    -------
    E : float
        Expected cost, quote.
    V : float
        Variance of the cost, quote².

    Raises
    ------
    ValueError
        If ``holdings`` has fewer than two points.

    Examples
    --------
    >>> ac_cost_moments([2.0, 1.0, 0.0], T=2.0, sigma=1.0, eta=1.0)
    (2.0, 1.0)
    """
    x = np.asarray(holdings, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError("holdings must be 1-d with at least two points (x_0 and x_n)")
    n = x.size - 1
    tau = float(T) / n
    nk = -np.diff(x)
    X = float(x[0])
    e_t = float(eta) - 0.5 * float(gamma) * tau
    E = 0.5 * gamma * X * X + epsilon * np.abs(nk).sum() + e_t / tau * float(np.sum(nk * nk))
    V = float(sigma) ** 2 * tau * float(np.sum(x[1:] ** 2))
    return float(E), float(V)


def ac_objective(
    holdings: Any,
    T: float,
    risk_aversion: float,
    sigma: float,
    eta: float,
    *,
    epsilon: float = 0.0,
    gamma: float = 0.0,
) -> float:
    """``E + lam V`` of a trajectory (see :func:`ac_cost_moments`): what AC minimise.

    Parameters
    ----------
    holdings : array (n + 1,)
        Holdings ``x_0 .. x_n`` (units).
    T : float
        Horizon (s).
    risk_aversion : float
        ``lam``, 1/quote, >= 0.
    sigma : float
        Volatility, quote per unit per sqrt(s).
    eta : float
        Temporary impact, quote x s per unit², > 0.
    epsilon : float
        Fixed cost per unit traded (e.g. the half-spread), quote.
    gamma : float
        Permanent impact, quote per unit².

    Returns
    -------
    float
        ``E + lam V``, quote.

    Examples
    --------
    >>> ac_objective([2.0, 1.0, 0.0], T=2.0, risk_aversion=0.5, sigma=1.0, eta=1.0)
    2.5
    """
    E, V = ac_cost_moments(holdings, T, sigma, eta, epsilon=epsilon, gamma=gamma)
    return E + float(risk_aversion) * V


def ac_frontier(
    X: float,
    T: float,
    n: int,
    sigma: float,
    eta: float,
    risk_aversions: Sequence[float],
    *,
    epsilon: float = 0.0,
    gamma: float = 0.0,
) -> pd.DataFrame:
    """The model's efficient frontier: ``E`` and ``sqrt(V)`` of the optimum for each ``lam``.

    Parameters
    ----------
    X : float
        Units to sell.
    T : float
        Horizon (s).
    n : int
        Slices.
    sigma : float
        Volatility, quote per unit per sqrt(s).
    eta : float
        Temporary impact, quote x s per unit².
    risk_aversions : sequence of float
        The ``lam`` values (1/quote).
    epsilon : float
        Fixed cost per unit traded (e.g. the half-spread), quote.
    gamma : float
        Permanent impact, quote per unit².

    Returns
    -------
    pandas.DataFrame
        One row per ``lam``: ``risk_aversion``, ``kappa_T``, ``expected_cost`` and ``std_cost``
        (quote).

    Examples
    --------
    >>> fr = ac_frontier(10.0, 60.0, 6, 0.5, 2.0, [0.0, 1e-2, 1.0])
    >>> bool(fr["expected_cost"].is_monotonic_increasing), bool(fr["std_cost"].is_monotonic_decreasing)
    (True, True)
    """
    rows = []
    for lam in risk_aversions:
        x = ac_holdings(X, T, n, lam, sigma, eta, gamma=gamma)
        E, V = ac_cost_moments(x, T, sigma, eta, epsilon=epsilon, gamma=gamma)
        k = ac_kappa(lam, sigma, eta, tau=T / n, gamma=gamma)
        rows.append(
            {
                "risk_aversion": float(lam),
                "kappa_T": k * T,
                "expected_cost": E,
                "std_cost": math.sqrt(V),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# other schedules
# --------------------------------------------------------------------------------------


def twap_slices(X: float, n: int) -> np.ndarray:
    """``n`` equal slices of ``X``.

    Parameters
    ----------
    X : float
        Units to trade.
    n : int
        Slices, >= 1.

    Returns
    -------
    numpy.ndarray
        ``n`` slices of ``X / n`` units.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer.

    Examples
    --------
    >>> twap_slices(9.0, 3).tolist()
    [3.0, 3.0, 3.0]
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return np.full(int(n), float(X) / int(n))


def volume_profile(
    trade_ts: Any,
    trade_qty: Any,
    start_ts: int,
    horizon_s: float,
    n: int,
    lookback_s: float,
) -> np.ndarray:
    """The traded-volume share of each of ``n`` slices, from past windows only.

    The ``floor(lookback_s / horizon_s)`` windows of length ``horizon_s`` that end at
    ``start_ts`` are each cut into ``n`` bins; the profile is the traded volume per bin summed
    over the windows, as shares. Only trades strictly before ``start_ts`` count. Without any
    volume the profile is flat (TWAP).

    Parameters
    ----------
    trade_ts : array of int64
        Trade times (ns).
    trade_qty : array of float
        Trade sizes (units).
    start_ts : int
        Start of the schedule (ns); only earlier trades count.
    horizon_s : float
        Length of the schedule (s).
    n : int
        Slices.
    lookback_s : float
        Past window (s) of the profile.

    Returns
    -------
    numpy.ndarray
        ``n`` shares summing to 1.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer or a length is not positive.

    Examples
    --------
    Trades (synthetic) of 3 units early and 1 unit late in each of two past 2-s windows:

    >>> s = 10**9
    >>> volume_profile([s // 2, 3 * s // 2, 5 * s // 2, 7 * s // 2], [3.0, 1.0, 3.0, 1.0],
    ...                start_ts=4 * s, horizon_s=2.0, n=2, lookback_s=4.0).tolist()
    [0.75, 0.25]
    """
    t = np.asarray(trade_ts, dtype=np.int64)
    q = np.asarray(trade_qty, dtype=np.float64)
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    H = int(round(_check_positive("horizon_s", horizon_s) * NS_PER_S))
    W = int(_check_positive("lookback_s", lookback_s) // horizon_s)
    shares = np.zeros(n)
    if W < 1:
        return np.full(n, 1.0 / n)
    lo = int(start_ts) - W * H
    sel = (t >= lo) & (t < int(start_ts))
    if sel.any():
        pos = ((t[sel] - lo) % H) * n // H
        shares = np.bincount(pos, weights=q[sel], minlength=n)[:n].astype(np.float64)
    total = shares.sum()
    return shares / total if total > 0 else np.full(n, 1.0 / n)


def vwap_slices(X: float, profile: Any) -> np.ndarray:
    """Slices proportional to a volume profile (:func:`volume_profile`).

    Parameters
    ----------
    X : float
        Units to trade.
    profile : array (n,)
        Non-negative volume shares (normalised here).

    Returns
    -------
    numpy.ndarray
        ``n`` slices (units) summing to ``X``.

    Raises
    ------
    ValueError
        If the profile is empty, negative somewhere or sums to 0.

    Examples
    --------
    >>> vwap_slices(8.0, [0.75, 0.25]).tolist()
    [6.0, 2.0]
    """
    p = np.asarray(profile, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or np.any(p < 0) or p.sum() <= 0:
        raise ValueError("profile must be non-negative shares with a positive sum")
    return float(X) * p / p.sum()


def predictive_slices(X: float, signal: Any, alpha: float, side: int = -1) -> np.ndarray:
    """TWAP of the remaining quantity, sped up or slowed down by a short-horizon forecast.

    At slice ``k`` of ``n`` the base size is the remainder spread evenly over the slices left,
    ``r_k / (n - k)``. It is multiplied by ``1 + alpha * side * signal[k]`` (clipped to
    ``[0, r_k]``): a seller (``side=-1``) sells more now when the forecast says the price will
    fall (``signal < 0``) and less when it says it will rise; a buyer the reverse. The last
    slice takes whatever is left, so the total is always ``X``. ``signal`` must be known at
    each slice time (e.g. the sign of the order-flow imbalance of the last second,
    :func:`ofi_signal`).

    Parameters
    ----------
    X : float
        Units to trade.
    signal : array (n,)
        Forecast known at each slice time (NaN read as 0), e.g. -1, 0, +1.
    alpha : float
        Speed-up per unit of signal, >= 0.
    side : {-1, 1}
        -1 sells, +1 buys.

    Returns
    -------
    numpy.ndarray
        ``n`` non-negative slices (units) summing to ``X``.

    Raises
    ------
    ValueError
        If ``signal`` is empty, ``side`` is not -1 or 1, or ``alpha`` is negative.

    Examples
    --------
    >>> predictive_slices(12.0, [-1, 1, 0, 0], alpha=0.5).tolist()
    [4.5, 1.25, 3.125, 3.125]
    """
    s = np.nan_to_num(np.asarray(signal, dtype=np.float64), nan=0.0)
    if s.ndim != 1 or s.size < 1:
        raise ValueError("signal must be 1-d with one value per slice")
    if side not in (-1, 1):
        raise ValueError("side must be -1 (sell) or +1 (buy)")
    a = _check_positive("alpha", alpha, allow_zero=True)
    n = s.size
    out = np.zeros(n)
    rem = float(X)
    for k in range(n):
        if k == n - 1:
            out[k] = rem
            break
        q = rem / (n - k) * (1.0 + a * side * s[k])
        q = min(max(q, 0.0), rem)
        out[k] = q
        rem -= q
    return out


def signal_at(sig_ts: Any, sig_value: Any, t: Any) -> np.ndarray:
    """The last signal value at or before each time (0 before the first).

    Parameters
    ----------
    sig_ts : array of int64
        Times (ns) at which each signal value was known, sorted.
    sig_value : array of float
        The signal values (NaN read as 0).
    t : int or array of int64
        Query times (ns).

    Returns
    -------
    numpy.ndarray
        float64 value per query time (past-only).

    Examples
    --------
    >>> signal_at([10, 20], [1.0, -1.0], [5, 10, 25]).tolist()
    [0.0, 1.0, -1.0]
    """
    st = np.asarray(sig_ts, dtype=np.int64)
    sv = np.asarray(sig_value, dtype=np.float64)
    idx = np.searchsorted(st, np.asarray(t, dtype=np.int64), side="right") - 1
    out = np.where(idx >= 0, sv[np.maximum(idx, 0)] if sv.size else 0.0, 0.0)
    return np.nan_to_num(out, nan=0.0)


def ofi_signal(
    book: pd.DataFrame | BookArrays, window_s: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Sign of the best-level order-flow imbalance over the past ``window_s`` at each state.

    Cont, Kukanov & Stoikov (2014): positive OFI (bid queues growing, ask queues shrinking) comes
    with rising prices. Returns ``(ts, sign)``; use :func:`signal_at` for the value known at a
    time. Causal: the value at a state uses that state and earlier ones only.

    Parameters
    ----------
    book : DataFrame or BookArrays
        Book in event time, ordered by ``ts``.
    window_s : float
        OFI window, s.

    Returns
    -------
    ts : numpy.ndarray
        int64 time (ns) of each state.
    sign : numpy.ndarray
        float64 sign of the OFI at each state, in {-1, 0, 1}.

    Examples
    --------
    The bid queue grows at 2 s (synthetic), nothing changes at 3 s:

    >>> s = 10**9
    >>> f = pd.DataFrame({"ts": [0, 2 * s, 3 * s], "local_ts": 0, "update_id": [1, 2, 3],
    ...     "bid_px_1": [100.0, 100.0, 100.0], "bid_qty_1": [5.0, 7.0, 7.0],
    ...     "ask_px_1": [101.0, 101.0, 101.0], "ask_qty_1": [4.0, 4.0, 4.0]})
    >>> ofi_signal(f, 1.0)[1].tolist()
    [0.0, 1.0, 0.0]
    """
    b = book_arrays_of(book)
    o = _features.ofi(
        b.bid_px[:, :1],
        b.bid_qty[:, :1],
        b.ask_px[:, :1],
        b.ask_qty[:, :1],
        seconds=float(window_s),
        ts=b.ts,
    )
    return b.ts, np.sign(np.nan_to_num(o, nan=0.0))


# --------------------------------------------------------------------------------------
# estimating sigma and eta from the real book
# --------------------------------------------------------------------------------------


def estimate_sigma(
    book: pd.DataFrame | BookArrays,
    end_ts: int,
    window_s: float,
    *,
    step_s: float = 1.0,
    contract_value: float | None = None,
) -> float:
    """Volatility of one unit's quote value (quote per sqrt(s)) from the mid before ``end_ts``.

    The mid is sampled every ``step_s`` on ``(end_ts - window_s, end_ts]`` (last state at or
    before each grid time; nothing after ``end_ts``), and ``sigma = std(changes) /
    sqrt(step_s)``. On an inverse market one contract's USD value moves as ``C dm / m``, so
    the relative changes times ``C`` are used.

    Parameters
    ----------
    book : DataFrame or BookArrays
        Book in event time, ordered by ``ts``.
    end_ts : int
        End of the window (ns); nothing later is read.
    window_s : float
        Length of the window, s.
    step_s : float
        Grid step, s.
    contract_value : float, optional
        USD per contract on an inverse market.

    Returns
    -------
    float
        ``sigma`` in quote per unit per sqrt(s); NaN with fewer than three mids.

    Examples
    --------
    A mid alternating between 100 and 101 every second (synthetic):

    >>> s = 10**9
    >>> f = pd.DataFrame({"ts": np.arange(11) * s, "local_ts": 0, "update_id": np.arange(11),
    ...     "bid_px_1": 99.5 + np.arange(11) % 2, "bid_qty_1": 1.0,
    ...     "ask_px_1": 100.5 + np.arange(11) % 2, "ask_qty_1": 1.0})
    >>> round(estimate_sigma(f, 10 * s, 10.0), 3)
    1.054
    """
    b = book_arrays_of(book)
    step = int(round(_check_positive("step_s", step_s) * NS_PER_S))
    k = int(_check_positive("window_s", window_s) * NS_PER_S // step)
    grid = int(end_ts) - step * np.arange(k, -1, -1, dtype=np.int64)
    m = b.mid_at(grid)
    m = m[np.isfinite(m)]
    if m.size < 3:
        return math.nan
    d = Instrument.from_terms(contract_value).price_move_value(m[:-1], m[1:])
    return float(np.std(d, ddof=1) / math.sqrt(step / NS_PER_S))


@dataclass(frozen=True)
class ImpactEstimate:
    """Temporary impact of slices, measured by walking the book (:func:`estimate_impact`).

    Attributes
    ----------
    epsilon : float
        Fitted intercept of the cost per unit (quote per unit). A convex cost curve (flat,
        then steep) puts it below the half-spread.
    half_spread : float
        The median half-spread (quote per unit): the cost per unit of a vanishing slice.
    eta_slice : float
        Fitted extra cost per unit per unit of slice size (quote per unit²): a slice of ``q``
        costs ``epsilon q + eta_slice q^2``. AC's ``eta`` is ``eta_slice * tau``.
    sizes : numpy.ndarray
        Slice sizes (units).
    median_cost : numpy.ndarray
        Median cost per unit (quote) at each size over the book states that could fill it.
    median_cost_bps : numpy.ndarray
        The same in bps of the mid.
    n_states : int
        Book states used.
    unfilled_share : numpy.ndarray
        Share of states whose visible depth could not fill each size.
    """

    epsilon: float
    half_spread: float
    eta_slice: float
    sizes: np.ndarray = field(repr=False)
    median_cost: np.ndarray = field(repr=False)
    median_cost_bps: np.ndarray = field(repr=False)
    n_states: int = 0
    unfilled_share: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def eta(self, tau: float) -> float:
        """AC's temporary-impact coefficient for slices of ``tau`` seconds.

        Parameters
        ----------
        tau : float
            Time between slices, s.

        Returns
        -------
        float
            ``eta = eta_slice * tau``, quote x s per unit².
        """
        return self.eta_slice * float(tau)


def _slice_cost(side: int, q, sqp, sqi, m, inst: Instrument):
    """Shortfall (quote) of filling ``q`` with sums ``sqp``, ``sqi`` against mid ``m``,
    converted at ``m``."""
    return side * inst.to_quote(m) * inst.walk_cost(q, sqp, sqi, m)


def estimate_impact(
    book: pd.DataFrame | BookArrays,
    at_ts: Any,
    sizes: Any,
    *,
    side: int = -1,
    contract_value: float | None = None,
    min_slope: float = 1e-12,
) -> ImpactEstimate:
    """Fit ``cost per unit = epsilon + eta_slice * size`` by walking the book at ``at_ts``.

    At each time, the last book state at or before it is walked for each size (bids for a
    sale, ``side=-1``; asks for a purchase). The cost per unit is the slice's shortfall
    against the mid divided by its size. The median over states at each size (states whose
    visible depth cannot fill a size are left out for it) is fitted by ordinary least squares;
    a negative slope is floored at ``min_slope``.

    Parameters
    ----------
    book : DataFrame or BookArrays
        Book in event time, ordered by ``ts``.
    at_ts : array of int64
        Times (ns) whose book states are walked (past-only for a schedule that starts later).
    sizes : array of float
        At least two slice sizes (units), > 0.
    side : {-1, 1}
        -1 walks the bids (a sale), +1 the asks.
    contract_value : float, optional
        USD per contract on an inverse market.
    min_slope : float
        Floor of the fitted ``eta_slice``.

    Returns
    -------
    ImpactEstimate
        The fit and the median costs per size.

    Raises
    ------
    ValueError
        If ``side`` is not -1 or 1, fewer than two positive sizes are given, or no book state
        precedes the times.

    Examples
    --------
    A hand-built book (synthetic) with 1 unit at every 0.01 below a 100.00 best bid and the ask
    at 100.01: selling ``q`` whole units costs 0.005 q per unit against the 100.005 mid.

    >>> L = 20
    >>> f = pd.DataFrame({"ts": [0], "local_ts": [0], "update_id": [1]}
    ...     | {f"bid_px_{i+1}": [100.0 - 0.01 * i] for i in range(L)}
    ...     | {f"bid_qty_{i+1}": [1.0] for i in range(L)}
    ...     | {f"ask_px_{i+1}": [100.01 + 0.01 * i] for i in range(L)}
    ...     | {f"ask_qty_{i+1}": [1.0] for i in range(L)})
    >>> est = estimate_impact(f, [0], [1.0, 2.0, 4.0, 8.0])
    >>> abs(round(est.epsilon, 6)), round(est.eta_slice, 6), round(est.half_spread, 6)
    (0.0, 0.005, 0.005)
    """
    b = book_arrays_of(book)
    if side not in (-1, 1):
        raise ValueError("side must be -1 (sell) or +1 (buy)")
    q = np.asarray(sizes, dtype=np.float64)
    if q.ndim != 1 or q.size < 2 or np.any(~(q > 0)):
        raise ValueError("give at least two positive sizes")
    rows = b.state_at(at_ts)
    rows = rows[rows >= 0]
    if rows.size == 0:
        raise ValueError("no book state at or before the given times")
    mid = b.mid()[rows]
    ok_rows = rows[np.isfinite(mid)]
    mid = mid[np.isfinite(mid)]
    px, qty = (b.bid_px, b.bid_qty) if side < 0 else (b.ask_px, b.ask_qty)
    R = np.repeat(ok_rows, q.size)
    S = np.tile(q, ok_rows.size)
    M = np.repeat(mid, q.size)
    filled, sqp, sqi, rem = K.walk_many(px, qty, R.astype(np.int64), S)
    inst = Instrument.from_terms(contract_value)
    cost = _slice_cost(side, S, sqp, sqi, M, inst) / S
    cost = np.where(rem > 0, np.nan, cost).reshape(ok_rows.size, q.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit_value = inst.quote_value(M.reshape(ok_rows.size, q.size), 1.0)
        cost_bps = cost / unit_value * BPS
        touch = px[ok_rows, 0]
        half = _slice_cost(side, 1.0, touch, 1.0 / touch, mid, inst)
    unfilled = np.mean(np.isnan(cost), axis=0) if ok_rows.size else np.ones(q.size)
    med = np.full(q.size, np.nan)
    med_bps = np.full(q.size, np.nan)
    for j in range(q.size):
        c = cost[:, j]
        if np.isfinite(c).any():
            med[j] = np.nanmedian(c)
            med_bps[j] = np.nanmedian(cost_bps[:, j])
    ok = np.isfinite(med)
    if ok.sum() >= 2:
        slope, intercept = (float(v) for v in np.polyfit(q[ok], med[ok], 1))
        slope = max(slope, min_slope)
    elif ok.sum() == 1:
        slope, intercept = min_slope, float(med[ok][0])
    else:
        slope, intercept = math.nan, math.nan
    return ImpactEstimate(
        epsilon=float(intercept),
        half_spread=float(np.nanmedian(half)) if np.isfinite(half).any() else math.nan,
        eta_slice=float(slope),
        sizes=q,
        median_cost=med,
        median_cost_bps=med_bps,
        n_states=int(ok_rows.size),
        unfilled_share=unfilled,
    )


# --------------------------------------------------------------------------------------
# implementation shortfall on the replayed book
# --------------------------------------------------------------------------------------


def implementation_shortfall(
    book: pd.DataFrame | BookArrays,
    start_ts: Any,
    slices: Any,
    tau_s: float,
    *,
    side: int = -1,
    contract_value: float | None = None,
    permanent_bps_per_million: float = 0.0,
    fee_bps: float = 0.0,
) -> pd.DataFrame:
    """Execute slice schedules on the real book and measure their shortfall.

    Parameters
    ----------
    book : DataFrame or BookArrays
        Book in event time, ordered by ``ts``.
    start_ts : int or array (W,) of int64 ns
        Arrival times; the arrival mid is that of the last state at or before each.
    slices : array (n,) or (W, n)
        Units per slice (one schedule per start time, or one for all).
    tau_s : float
        Seconds between slices: slice ``k`` is sent at ``start + k tau``.
    side : {-1, 1}
        Sell (liquidate) or buy.
    contract_value : float, optional
        USD per contract on an inverse market.
    permanent_bps_per_million : float
        Permanent impact: every million of quote value already traded moves the price of later
        slices against us by this many bps of the arrival mid (0: none; the replay cannot
        measure it).
    fee_bps : float
        Fee on the traded value (the same for every schedule of the same size).

    Returns
    -------
    pandas.DataFrame
        One row per schedule: ``start_ts``, ``arrival_mid``, ``qty``, ``arrival_value``
        (quote), ``shortfall_quote`` and ``shortfall_bps`` (positive = cost), and its parts
        in bps, ``shortfall_bps = walk_cost_bps + timing_bps + permanent_bps + fee_bps``:
        ``walk_cost_bps`` is each slice's walk against the mid of the state it walked (spread
        and depth: what AC's temporary impact models), ``timing_bps`` what the mid's moves
        between the arrival and the slices cost (AC's risk term; zero on average for a
        martingale mid); ``unfilled_qty`` (left after the last slice, valued at the deepest
        visible price) and ``end_mid`` (the mid at ``start + n tau``).

    Examples
    --------
    Selling 3 units in one slice into bids 1 @ 100, 1 @ 99, 5 @ 98 with the ask at 101
    (synthetic): the arrival mid is 100.5, the proceeds 297.

    >>> f = pd.DataFrame({"ts": [0], "local_ts": [0], "update_id": [1],
    ...     "bid_px_1": [100.0], "bid_px_2": [99.0], "bid_px_3": [98.0],
    ...     "bid_qty_1": [1.0], "bid_qty_2": [1.0], "bid_qty_3": [5.0],
    ...     "ask_px_1": [101.0], "ask_px_2": [102.0], "ask_px_3": [103.0],
    ...     "ask_qty_1": [1.0], "ask_qty_2": [1.0], "ask_qty_3": [5.0]})
    >>> r = implementation_shortfall(f, 0, [3.0], tau_s=1.0)
    >>> float(r.shortfall_quote.iloc[0]), round(float(r.shortfall_bps.iloc[0]), 2)
    (4.5, 149.25)
    """
    b = book_arrays_of(book)
    if side not in (-1, 1):
        raise ValueError("side must be -1 (sell) or +1 (buy)")
    starts = np.atleast_1d(np.asarray(start_ts, dtype=np.int64))
    sl = np.asarray(slices, dtype=np.float64)
    if sl.ndim == 1:
        sl = np.broadcast_to(sl, (starts.size, sl.size))
    if sl.ndim != 2 or sl.shape[0] != starts.size:
        raise ValueError(f"slices must be (n,) or ({starts.size}, n), got {np.shape(slices)}")
    if np.any(sl < 0) or not np.all(np.isfinite(sl)):
        raise ValueError("slices must be finite and >= 0")
    n = sl.shape[1]
    tau = int(round(_check_positive("tau_s", tau_s) * NS_PER_S))
    slice_ts = starts[:, None] + tau * np.arange(n, dtype=np.int64)[None, :]
    px, qty = (b.bid_px, b.bid_qty) if side < 0 else (b.ask_px, b.ask_qty)
    filled, sqp, sqi, left, last_state = K.execute_schedules(
        b.ts, px, qty, np.ascontiguousarray(slice_ts), np.ascontiguousarray(sl)
    )
    m0 = b.mid_at(starts)
    X = sl.sum(axis=1)
    # the rest after the last slice: valued at the deepest visible price of that state
    deep = np.full(starts.size, np.nan)
    for w in np.flatnonzero(left > 0):
        s = last_state[w]
        if s >= 0:
            p = px[s][np.isfinite(px[s]) & (qty[s] > 0)]
            if p.size:
                deep[w] = p.min() if side < 0 else p.max()
    extra_qp = np.where(left > 0, left * deep, 0.0)
    extra_qi = np.where(left > 0, left / deep, 0.0)
    tot_qp = sqp.sum(axis=1) + extra_qp
    tot_qi = sqi.sum(axis=1) + extra_qi
    inst = Instrument.from_terms(contract_value)
    impact = _slice_cost(side, X, tot_qp, tot_qi, m0, inst)
    # the walk alone: each slice against the mid of the state it walked (in the settlement
    # currency, converted at the arrival mid)
    m_k = b.mid_at(slice_ts.ravel()).reshape(slice_ts.shape)
    m_last = b.mid_at(slice_ts[:, -1])
    with np.errstate(invalid="ignore", divide="ignore"):
        wk = np.where(filled > 0, inst.walk_cost(filled, sqp, sqi, m_k), 0.0).sum(axis=1)
        wk += np.where(left > 0, inst.walk_cost(left, left * deep, left / deep, m_last), 0.0)
        walk = side * inst.to_quote(m0) * wk
    unit_value = inst.quote_value(m0, np.ones(starts.size))
    value = X * unit_value
    # permanent impact: later slices trade at a price moved by the value already traded
    traded_value = (filled + 0.0) * unit_value[:, None]
    before = np.cumsum(traded_value, axis=1) - traded_value
    perm = float(permanent_bps_per_million) / BPS / 1e6 * np.sum(traded_value * before, axis=1)
    fees = float(fee_bps) / BPS * value
    total = impact + perm + fees
    has = X > 0

    def bps(v: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(value > 0, v / value * BPS, 0.0)

    end_mid = b.mid_at(starts + tau * n)
    walk = np.where(has, walk, 0.0)
    timing = np.where(has, impact - walk, 0.0)
    return pd.DataFrame(
        {
            "start_ts": starts,
            "arrival_mid": m0,
            "qty": X,
            "arrival_value": value,
            "shortfall_quote": np.where(has, total, 0.0),
            "shortfall_bps": bps(np.where(has, total, 0.0)),
            "walk_cost_bps": bps(walk),
            "timing_bps": bps(timing),
            "permanent_bps": bps(np.where(has, perm, 0.0)),
            "fee_bps": bps(np.where(has, fees, 0.0)),
            "unfilled_qty": left,
            "end_mid": end_mid,
        }
    )


# --------------------------------------------------------------------------------------
# the study: many start times, several schedules
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiquidationConfig:
    """The liquidation study of :func:`liquidation_study`.

    Parameters
    ----------
    qty : float
        ``X``, units to sell (base units or contracts).
    horizon_s : float
        ``T`` (s).
    n_slices : int
        ``n``; slices are ``T / n`` apart.
    side : {-1, 1}
        -1 liquidates a long position (sell), +1 buys.
    risk_aversions : tuple of float
        AC ``lam`` in 1/quote (e.g. 1e-6 .. 1e-3 per USD).
    sigma_window_s : float
        Past window of :func:`estimate_sigma`.
    impact_window_s : float
        Past window of book states (one per second) of :func:`estimate_impact`.
    impact_fractions : tuple of float
        Slice sizes of the impact fit, as fractions of ``X`` (up to all of it: AC may sell
        everything at once when the risk aversion is high).
    vwap_lookback_s : float
        Past window of the volume profile (:func:`volume_profile`).
    predictive_alpha : float
        Speed-up of :func:`predictive_slices`.
    signal_window_s : float
        OFI window of the predictive signal (:func:`ofi_signal`).
    permanent_bps_per_million, fee_bps : float
        See :func:`implementation_shortfall`.
    contract_value : float, optional
        USD per contract on an inverse market.
    """

    qty: float
    horizon_s: float = 60.0
    n_slices: int = 12
    side: int = -1
    risk_aversions: tuple[float, ...] = (1e-6, 1e-5, 1e-4, 1e-3)
    sigma_window_s: float = 120.0
    impact_window_s: float = 60.0
    impact_fractions: tuple[float, ...] = (0.0625, 0.125, 0.25, 0.5, 1.0)
    vwap_lookback_s: float = 120.0
    predictive_alpha: float = 0.5
    signal_window_s: float = 1.0
    permanent_bps_per_million: float = 0.0
    fee_bps: float = 0.0
    contract_value: float | None = None

    def __post_init__(self) -> None:
        _check_positive("qty", self.qty)
        _check_positive("horizon_s", self.horizon_s)
        if int(self.n_slices) != self.n_slices or self.n_slices < 1:
            raise ValueError(f"n_slices must be a positive integer, got {self.n_slices!r}")
        if self.side not in (-1, 1):
            raise ValueError("side must be -1 (sell) or +1 (buy)")
        object.__setattr__(self, "risk_aversions", tuple(float(x) for x in self.risk_aversions))
        object.__setattr__(self, "impact_fractions", tuple(float(x) for x in self.impact_fractions))
        for lam in self.risk_aversions:
            _check_positive("risk_aversion", lam, allow_zero=True)

    @classmethod
    def for_value(
        cls, inst: Instrument, value: float, price: float, **kwargs: Any
    ) -> LiquidationConfig:
        """Sell ``value`` quote of an instrument at ``price``: ``qty`` and contract value from it.

        Parameters
        ----------
        inst : lobutils.markets.Instrument
            The market (:func:`lobutils.markets.instrument`).
        value, price : float
            Quote value of the position and the price that turns it into units.
        **kwargs
            Any other field.

        Returns
        -------
        LiquidationConfig
            With ``qty`` in the instrument's units and its contract value.

        Examples
        --------
        >>> from lobutils.markets import instrument
        >>> cfg = LiquidationConfig.for_value(instrument("cm", "ethusd_perp"), 25_000.0, 2_500.0)
        >>> cfg.qty, cfg.contract_value, cfg.instrument.inverse
        (2500.0, 10.0, True)
        """
        qty = inst.qty_for_value(value, price)
        return cls(qty=qty, contract_value=inst.contract_value, **kwargs)

    @property
    def instrument(self) -> Instrument:
        """The instrument of this config's contract value (fees: ``fee_bps`` both sides)."""
        return Instrument.from_terms(self.contract_value, self.fee_bps, self.fee_bps)

    @property
    def tau_s(self) -> float:
        """Time between two slices, ``T / n`` (s)."""
        return self.horizon_s / self.n_slices

    @property
    def warmup_s(self) -> float:
        """Past data every start time needs (s): the longest estimation window."""
        return max(self.sigma_window_s, self.impact_window_s, self.vwap_lookback_s)


def start_times(
    book: pd.DataFrame | BookArrays, config: LiquidationConfig, every_s: float
) -> np.ndarray:
    """Start times every ``every_s`` with a full warm-up before and a full horizon after.

    Parameters
    ----------
    book : DataFrame or BookArrays
        Book in event time, ordered by ``ts``.
    config : LiquidationConfig
        Gives the warm-up (:attr:`LiquidationConfig.warmup_s`) and the horizon.
    every_s : float
        Spacing of the start times, s.

    Returns
    -------
    numpy.ndarray
        int64 start times (ns), multiples of ``every_s``; empty when the book is too short.

    Examples
    --------
    >>> f = pd.DataFrame({"ts": [0, 600 * 10**9], "local_ts": 0, "update_id": [1, 2],
    ...     "bid_px_1": 1.0, "bid_qty_1": 1.0, "ask_px_1": 2.0, "ask_qty_1": 1.0})
    >>> st = start_times(f, LiquidationConfig(qty=1.0), every_s=60.0)
    >>> (st // 10**9).tolist()
    [120, 180, 240, 300, 360, 420, 480, 540]
    """
    b = book_arrays_of(book)
    step = int(round(_check_positive("every_s", every_s) * NS_PER_S))
    lo = int(b.ts[0]) + int(round(config.warmup_s * NS_PER_S))
    hi = int(b.ts[-1]) - int(round(config.horizon_s * NS_PER_S))
    first = -(-lo // step) * step
    if hi < first:
        return np.empty(0, np.int64)
    return np.arange(first, hi + 1, step, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class LiquidationResult:
    """:func:`liquidation_study`'s output.

    ``table``: one row per (start time, strategy) with the columns of
    :func:`implementation_shortfall` plus ``strategy``, ``risk_aversion`` (AC rows),
    ``kappa_T``, ``first_slice_share``, ``sigma``, ``epsilon``, ``eta_slice`` and
    ``price_move_bps`` (the mid's move over the horizon, in bps, signed so that positive helps
    the trade). ``schedules``: the slices (W, n) of each strategy. ``estimates``: per start time,
    ``sigma``, ``epsilon``, ``eta_slice`` and the median impact in bps at each fitted size.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (start time, strategy).
    schedules : dict of str to numpy.ndarray
        Slices (units) per strategy, shape ``(W, n)``.
    estimates : pandas.DataFrame
        Model inputs per start time, estimated from past data only.
    config : LiquidationConfig
        The study's configuration.
    """

    table: pd.DataFrame
    schedules: dict[str, np.ndarray] = field(repr=False)
    estimates: pd.DataFrame = field(repr=False)
    config: LiquidationConfig = field(repr=False)


def liquidation_study(
    book: pd.DataFrame | BookArrays,
    trades: pd.DataFrame,
    starts: Any,
    config: LiquidationConfig,
    *,
    signal: tuple[np.ndarray, np.ndarray] | None = None,
) -> LiquidationResult:
    """TWAP, VWAP, AC at each risk aversion and the predictive schedule, at every start time.

    At each start ``t0`` the model inputs are estimated from data before ``t0`` only:
    ``sigma`` (:func:`estimate_sigma` over ``sigma_window_s``), ``epsilon`` and ``eta``
    (:func:`estimate_impact` on one state per second over ``impact_window_s``, slice sizes
    ``impact_fractions x X``) and the volume profile (``vwap_lookback_s``). The predictive
    schedule reads ``signal`` (default: :func:`ofi_signal` of the book) at each slice time.
    Every schedule is then executed on the book (:func:`implementation_shortfall`).

    Overlapping windows share price moves: the shortfalls of start times closer than the
    horizon are not independent.

    Parameters
    ----------
    book : DataFrame or BookArrays
        Book in event time, ordered by ``ts``.
    trades : pandas.DataFrame
        The trades stream (``ts``, ``qty``), for the VWAP profile.
    starts : array of int64
        Start times (ns), e.g. from :func:`start_times`.
    config : LiquidationConfig
        Size, horizon, slices, risk aversions and estimation windows.
    signal : tuple of numpy.ndarray, optional
        ``(ts, value)`` of the predictive signal; default :func:`ofi_signal` of the book.

    Returns
    -------
    LiquidationResult
        The shortfall table, the schedules and the estimates.
    """
    b = book_arrays_of(book)
    cfg = config
    st = np.asarray(starts, dtype=np.int64)
    n, X, T, tau = int(cfg.n_slices), float(cfg.qty), float(cfg.horizon_s), cfg.tau_s
    tau_ns = int(round(tau * NS_PER_S))
    sig_ts, sig_val = signal if signal is not None else ofi_signal(b, cfg.signal_window_s)
    tr_ts = trades["ts"].to_numpy(np.int64)
    tr_q = trades["qty"].to_numpy(np.float64)
    sizes = np.array(cfg.impact_fractions) * X
    names = ["twap", "vwap", *[f"ac_{lam:g}" for lam in cfg.risk_aversions], "predictive"]
    sched = {k: np.zeros((st.size, n)) for k in names}
    kappa_T = {k: np.full(st.size, np.nan) for k in names}
    est_rows = []
    for w, t0 in enumerate(st):
        sigma = estimate_sigma(b, int(t0), cfg.sigma_window_s, contract_value=cfg.contract_value)
        grid = int(t0) - NS_PER_S * np.arange(int(cfg.impact_window_s), -1, -1, dtype=np.int64)
        imp = estimate_impact(b, grid, sizes, side=cfg.side, contract_value=cfg.contract_value)
        eta = imp.eta(tau)
        est_rows.append(
            {
                "start_ts": int(t0),
                "sigma": sigma,
                "epsilon": imp.epsilon,
                "half_spread": imp.half_spread,
                "eta_slice": imp.eta_slice,
            }
            | {
                f"impact_bps_{f:g}X": v
                for f, v in zip(cfg.impact_fractions, imp.median_cost_bps, strict=True)
            }
        )
        sched["twap"][w] = twap_slices(X, n)
        kappa_T["twap"][w] = 0.0
        prof = volume_profile(tr_ts, tr_q, int(t0), T, n, cfg.vwap_lookback_s)
        sched["vwap"][w] = vwap_slices(X, prof)
        for lam in cfg.risk_aversions:
            key = f"ac_{lam:g}"
            if np.isfinite(sigma) and np.isfinite(eta) and eta > 0:
                x = ac_holdings(X, T, n, lam, sigma, eta)
                kappa_T[key][w] = ac_kappa(lam, sigma, eta, tau=tau) * T
            else:
                x = ac_holdings(X, T, n, 0.0, 1.0, 1.0)
            sched[key][w] = -np.diff(x)
        s = signal_at(sig_ts, sig_val, int(t0) + tau_ns * np.arange(n))
        sched["predictive"][w] = predictive_slices(X, s, cfg.predictive_alpha, side=cfg.side)
    estimates = pd.DataFrame(est_rows)
    parts = []
    for k in names:
        r = implementation_shortfall(
            b,
            st,
            sched[k],
            tau,
            side=cfg.side,
            contract_value=cfg.contract_value,
            permanent_bps_per_million=cfg.permanent_bps_per_million,
            fee_bps=cfg.fee_bps,
        )
        r.insert(0, "strategy", k)
        r["risk_aversion"] = float(k[3:]) if k.startswith("ac_") else np.nan
        r["kappa_T"] = kappa_T[k]
        r["first_slice_share"] = sched[k][:, 0] / X
        parts.append(r)
    table = pd.concat(parts, ignore_index=True)
    if len(estimates):
        table = table.merge(estimates[["start_ts", "sigma", "epsilon", "eta_slice"]], on="start_ts")
    with np.errstate(invalid="ignore"):
        table["price_move_bps"] = -cfg.side * (table["end_mid"] / table["arrival_mid"] - 1.0) * BPS
    return LiquidationResult(table, sched, estimates, cfg)


def frontier_table(table: pd.DataFrame, by: str | Sequence[str] = "strategy") -> pd.DataFrame:
    """Mean and standard deviation of the shortfall (bps and quote) per strategy.

    ``se_mean_bps`` is the naive standard error (std / sqrt(n)); with overlapping windows it
    understates the uncertainty.

    Parameters
    ----------
    table : pandas.DataFrame
        ``LiquidationResult.table`` or any frame with ``shortfall_bps`` and ``shortfall_quote``.
    by : str or sequence of str
        Grouping columns.

    Returns
    -------
    pandas.DataFrame
        Per group: ``n``, ``mean_bps``, ``std_bps``, ``mean_quote``, ``std_quote`` and
        ``se_mean_bps``.

    Examples
    --------
    >>> t = pd.DataFrame({"strategy": ["a", "a", "b", "b"], "shortfall_bps": [1.0, 3.0, 2.0, 2.0],
    ...                   "shortfall_quote": [10.0, 30.0, 20.0, 20.0]})
    >>> frontier_table(t)[["strategy", "mean_bps", "std_bps"]].values.tolist()
    [['a', 2.0, 1.4142135623730951], ['b', 2.0, 0.0]]
    """
    keys = [by] if isinstance(by, str) else list(by)
    g = table.groupby(keys, sort=False)
    out = g.agg(
        n=("shortfall_bps", "size"),
        mean_bps=("shortfall_bps", "mean"),
        std_bps=("shortfall_bps", "std"),
        mean_quote=("shortfall_quote", "mean"),
        std_quote=("shortfall_quote", "std"),
    ).reset_index()
    out["se_mean_bps"] = out["std_bps"] / np.sqrt(out["n"])
    return out
