"""Private numba kernels of :mod:`lobutils.features.core` and :mod:`lobutils.features.targets`.

Each compiled kernel (``name``) sits next to a pure-Python reference (``name_py``) that
computes the same thing in the plainest way, without the kernel's tricks (running sums,
two pointers). ``tests/test_features.py`` and ``tests/test_targets.py`` check with hypothesis
that the two agree. The kernels trust their inputs: the public functions validate them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = [
    "ASK_INVALID",
    "BID_INVALID",
    "ema_restart",
    "ema_restart_py",
    "linear_weighted_sums",
    "linear_weighted_sums_py",
    "vamp_rows",
    "vamp_side_py",
    "window_sum",
    "window_sum_py",
]

BID_INVALID = 1
"""Status bit of :func:`vamp_rows`: an invalid quantity or price among the bid levels walked."""

ASK_INVALID = 2
"""Status bit of :func:`vamp_rows`: an invalid quantity or price among the ask levels walked."""

# The trade-imbalance kernel re-anchors its running sums when the query time has moved
# more than this many windows past the anchor, so rounding does not grow with the span.
_REANCHOR_WINDOWS = 8.0


# --------------------------------------------------------------------------------------
# VAMP: the average price of filling ``cutoff`` units of quote currency on one side
# --------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _vamp_walk(px, qty, i, cutoff, contract_value):
    """One side of row i: ``(average fill price or NaN, insufficient, valid)``.

    Validity is checked without branches on the levels walked: a negative quantity lowers
    ``qmin``, a non-positive price ``pmin``, and any NaN or infinity reaches ``total``.
    """
    inverse = contract_value > 0.0
    if px.shape[1] > 0 and math.isnan(qty[i, 0]):
        # a side whose quantities are all NaN is an unknown state (e.g. a clock-grid time
        # before the first book state): NaN, neither short of depth nor invalid
        unknown = True
        for j in range(px.shape[1]):
            unknown = unknown and math.isnan(qty[i, j])
        if unknown:
            return np.nan, False, True
    need = cutoff
    base = 0.0
    qmin = 0.0
    pmin = np.inf
    total = 0.0
    for j in range(px.shape[1]):
        q = qty[i, j]
        qmin = min(qmin, q)
        if q == 0.0:
            continue
        p = px[i, j]
        value = q * contract_value if inverse else p * q
        pmin = min(pmin, p)
        total += value + p
        if value >= need:
            base += need / p
            need = 0.0
            break
        base += q * contract_value / p if inverse else q
        need -= value
    valid = qmin >= 0.0 and pmin > 0.0 and total < np.inf
    if need > 0.0:
        return np.nan, True, valid
    return cutoff / base, False, valid


@njit(cache=True, parallel=True)
def vamp_rows(
    bid_px, bid_qty, ask_px, ask_qty, cutoff, contract_value, bid, ask, bid_short, ask_short, status
):
    """Walk both sides of every row (rows in parallel) until ``cutoff`` quote value is filled.

    ``contract_value > 0`` means an inverse book (a level's quote value is
    ``qty * contract_value``); ``contract_value <= 0`` a linear one (``px * qty``). Writes
    each side's average fill price (quote spent / base received, NaN where the side lacks
    depth), the lack-of-depth flags, and per-row ``status`` bits (:data:`BID_INVALID`,
    :data:`ASK_INVALID`) for invalid quantities or prices among the levels walked.

    Parameters
    ----------
    bid_px, bid_qty, ask_px, ask_qty : numpy.ndarray
        float64 levels, shape ``(n, levels)``, best first.
    cutoff : float
        Quote value to fill on each side.
    contract_value : float
        Quote value of one contract (inverse book); ``<= 0`` for a linear book.
    bid, ask : numpy.ndarray
        Output: float64 average fill price per row.
    bid_short, ask_short : numpy.ndarray
        Output: bool per row, the side lacks depth.
    status : numpy.ndarray
        Output: integer status bits per row.
    """
    for i in prange(bid_px.shape[0]):
        pb, sb, vb = _vamp_walk(bid_px, bid_qty, i, cutoff, contract_value)
        pa, sa, va = _vamp_walk(ask_px, ask_qty, i, cutoff, contract_value)
        bid[i] = pb
        ask[i] = pa
        bid_short[i] = sb
        ask_short[i] = sa
        status[i] = (0 if vb else BID_INVALID) | (0 if va else ASK_INVALID)


def vamp_side_py(px, qty, cutoff, contract_value):
    """Reference for one side of :func:`vamp_rows`: cumulative values, then the level that
    crosses.

    Assumes valid input (no NaN, no negative quantity).

    Parameters
    ----------
    px, qty : numpy.ndarray
        Prices and quantities of one side, shape ``(n, levels)``, best level first.
    cutoff : float
        Quote value to fill.
    contract_value : float
        Quote value of one contract (inverse book); ``<= 0`` for a linear book.

    Returns
    -------
    prices : numpy.ndarray
        Average fill price per row (quote spent / base received), NaN where depth is short.
    insufficient : numpy.ndarray
        bool per row: the side holds less than ``cutoff``.

    Examples
    --------
    >>> px, qty = np.array([[100.0, 99.0]]), np.array([[1.0, 2.0]])
    >>> prices, short = vamp_side_py(px, qty, 199.0, 0.0)
    >>> prices.tolist(), short.tolist()
    ([99.5], [False])
    """
    n, n_levels = px.shape
    out = np.full(n, np.nan)
    insufficient = np.zeros(n, dtype=bool)
    for i in range(n):
        prices, values, bases = [], [], []
        for j in range(n_levels):
            q, p = float(qty[i, j]), float(px[i, j])
            if q == 0.0:
                continue
            prices.append(p)
            values.append(q * contract_value if contract_value > 0 else p * q)
            bases.append(q * contract_value / p if contract_value > 0 else q)
        cumulative = 0.0
        crossing = None
        for k, v in enumerate(values):
            if cumulative + v >= cutoff:
                crossing = k
                break
            cumulative += v
        if crossing is None:
            insufficient[i] = True
            continue
        base = sum(bases[:crossing]) + (cutoff - cumulative) / prices[crossing]
        out[i] = cutoff / base
    return out, insufficient


# --------------------------------------------------------------------------------------
# Sums over moving windows [start[i], stop[i])
# --------------------------------------------------------------------------------------


@njit(cache=True)
def _neumaier(s, c, v):
    t = s + v
    if abs(s) >= abs(v):
        c += (s - t) + v
    else:
        c += (v - t) + s
    return t, c


@njit(cache=True)
def window_sum(x, start, stop):
    """``out[i] = sum(x[start[i]:stop[i]])``, NaN if any element of the window is NaN.

    ``start`` and ``stop`` are non-decreasing with ``start <= stop``. Two pointers and a
    compensated (Neumaier) running sum, reset to exactly zero whenever the window empties.

    Parameters
    ----------
    x : numpy.ndarray
        float64 values (NaN allowed).
    start, stop : numpy.ndarray
        int64 window bounds per output row, non-decreasing, ``start <= stop``.

    Returns
    -------
    numpy.ndarray
        float64 window sums, NaN where the window holds a NaN (0 for an empty window).
    """
    n = start.size
    out = np.empty(n)
    lo = 0
    hi = 0
    s = 0.0
    c = 0.0
    n_nan = 0
    for i in range(n):
        a = start[i]
        b = stop[i]
        while hi < b:
            v = x[hi]
            if math.isnan(v):
                n_nan += 1
            else:
                s, c = _neumaier(s, c, v)
            hi += 1
        while lo < a:
            v = x[lo]
            if math.isnan(v):
                n_nan -= 1
            else:
                s, c = _neumaier(s, c, -v)
            lo += 1
        if lo == hi:
            s = 0.0
            c = 0.0
        out[i] = np.nan if n_nan > 0 else s + c
    return out


def window_sum_py(x, start, stop):
    """Reference for :func:`window_sum`: sum each window from scratch.

    Parameters
    ----------
    x : numpy.ndarray
        float64 values (NaN allowed).
    start, stop : numpy.ndarray
        int64 window bounds per output row, non-decreasing, ``start <= stop``.

    Returns
    -------
    numpy.ndarray
        float64 window sums, NaN where the window holds a NaN (0 for an empty window).

    Examples
    --------
    >>> window_sum_py(np.array([1.0, 2.0, np.nan, 4.0]), [0, 1, 3], [2, 3, 4]).tolist()
    [3.0, nan, 4.0]
    """
    out = np.empty(len(start))
    for i, (a, b) in enumerate(zip(start, stop, strict=True)):
        window = [float(v) for v in x[a:b]]
        out[i] = np.nan if any(math.isnan(v) for v in window) else math.fsum(window)
    return out


# --------------------------------------------------------------------------------------
# Linearly weighted trade sums over (t - W, t]
# --------------------------------------------------------------------------------------


@njit(cache=True)
def linear_weighted_sums(trade_ts, signed, unsigned, query_ts, window_ns):
    """For each query time t (non-decreasing), sum ``w * signed`` and ``w * unsigned`` over
    the trades with ``t - W < ts <= t``, where ``w = (ts - (t - W)) / W`` (1 at t, 0 at t - W).

    Two pointers over the sorted trade times and running sums ``A = sum(v)`` and
    ``D = sum(v * (ts - r))`` around an anchor ``r``: ``sum(w v) = (D - (t - W - r) A) / W``.
    The anchor moves (and the sums are recomputed exactly) when the window empties or when t
    has moved more than a few windows past it, so rounding stays relative to the window.

    Parameters
    ----------
    trade_ts : numpy.ndarray
        int64 trade times (ns), sorted.
    signed, unsigned : numpy.ndarray
        float64 per-trade values (e.g. signed and unsigned quote volume).
    query_ts : numpy.ndarray
        int64 query times (ns), non-decreasing.
    window_ns : int
        Window length ``W`` in ns.

    Returns
    -------
    num, den : numpy.ndarray
        float64 weighted sums of ``signed`` and of ``unsigned``, divided by ``W`` in s.
    """
    n = query_ts.size
    num = np.empty(n)
    den = np.empty(n)
    lo = 0
    hi = 0
    w_s = window_ns / 1e9
    anchor = query_ts[0] if n > 0 else 0
    a_s = 0.0
    c_as = 0.0
    a_u = 0.0
    c_au = 0.0
    d_s = 0.0
    c_ds = 0.0
    d_u = 0.0
    c_du = 0.0
    for i in range(n):
        t = query_ts[i]
        left = t - window_ns
        while hi < trade_ts.size and trade_ts[hi] <= t:
            dt = (trade_ts[hi] - anchor) / 1e9
            a_s, c_as = _neumaier(a_s, c_as, signed[hi])
            a_u, c_au = _neumaier(a_u, c_au, unsigned[hi])
            d_s, c_ds = _neumaier(d_s, c_ds, signed[hi] * dt)
            d_u, c_du = _neumaier(d_u, c_du, unsigned[hi] * dt)
            hi += 1
        while lo < hi and trade_ts[lo] <= left:
            dt = (trade_ts[lo] - anchor) / 1e9
            a_s, c_as = _neumaier(a_s, c_as, -signed[lo])
            a_u, c_au = _neumaier(a_u, c_au, -unsigned[lo])
            d_s, c_ds = _neumaier(d_s, c_ds, -signed[lo] * dt)
            d_u, c_du = _neumaier(d_u, c_du, -unsigned[lo] * dt)
            lo += 1
        if lo == hi or (t - anchor) / 1e9 > _REANCHOR_WINDOWS * w_s:
            anchor = left
            a_s = 0.0
            c_as = 0.0
            a_u = 0.0
            c_au = 0.0
            d_s = 0.0
            c_ds = 0.0
            d_u = 0.0
            c_du = 0.0
            for k in range(lo, hi):
                dt = (trade_ts[k] - anchor) / 1e9
                a_s, c_as = _neumaier(a_s, c_as, signed[k])
                a_u, c_au = _neumaier(a_u, c_au, unsigned[k])
                d_s, c_ds = _neumaier(d_s, c_ds, signed[k] * dt)
                d_u, c_du = _neumaier(d_u, c_du, unsigned[k] * dt)
        off = (left - anchor) / 1e9
        num[i] = ((d_s + c_ds) - off * (a_s + c_as)) / w_s
        den[i] = ((d_u + c_du) - off * (a_u + c_au)) / w_s
    return num, den


def linear_weighted_sums_py(trade_ts, signed, unsigned, query_ts, window_ns):
    """Reference for :func:`linear_weighted_sums`: weight every trade of every window.

    Parameters
    ----------
    trade_ts : numpy.ndarray
        int64 trade times (ns), sorted.
    signed, unsigned : numpy.ndarray
        float64 per-trade values (e.g. signed and unsigned quote volume).
    query_ts : numpy.ndarray
        int64 query times (ns), non-decreasing.
    window_ns : int
        Window length ``W`` in ns.

    Returns
    -------
    num, den : numpy.ndarray
        float64 weighted sums of ``signed`` and of ``unsigned``, divided by ``W`` in s.
    """
    n = len(query_ts)
    num = np.zeros(n)
    den = np.zeros(n)
    for i, t in enumerate(query_ts):
        t = int(t)
        for s, vs, vu in zip(trade_ts, signed, unsigned, strict=True):
            s = int(s)
            if t - window_ns < s <= t:
                w = (s - (t - window_ns)) / window_ns
                num[i] += w * float(vs)
                den[i] += w * float(vu)
    return num, den


# --------------------------------------------------------------------------------------
# Exponential moving average that restarts after NaN
# --------------------------------------------------------------------------------------


@njit(cache=True)
def ema_restart(x, alpha):
    """``s[t] = alpha x[t] + (1 - alpha) s[t-1]``; NaN where x is NaN; restarts at ``s = x``
    on the first finite value after a NaN (or at the start).

    Parameters
    ----------
    x : numpy.ndarray
        float64 values (NaN allowed).
    alpha : float
        Smoothing weight in (0, 1].

    Returns
    -------
    numpy.ndarray
        float64 average, NaN where ``x`` is NaN.
    """
    n = x.size
    out = np.empty(n)
    prev = np.nan
    for i in range(n):
        v = x[i]
        if math.isnan(v):
            out[i] = np.nan
            prev = np.nan
        elif math.isnan(prev):
            out[i] = v
            prev = v
        else:
            prev = alpha * v + (1.0 - alpha) * prev
            out[i] = prev
    return out


def ema_restart_py(x, alpha):
    """Reference for :func:`ema_restart`: explicit weights over the current NaN-free run.

    Within a run that starts at ``t0``, ``s[t] = (1-a)^(t-t0) x[t0] + sum_{j=t0+1}^{t}
    a (1-a)^(t-j) x[j]``.

    Parameters
    ----------
    x : numpy.ndarray
        float64 values (NaN allowed).
    alpha : float
        Smoothing weight in (0, 1].

    Returns
    -------
    numpy.ndarray
        float64 average, NaN where ``x`` is NaN.

    Examples
    --------
    >>> ema_restart_py(np.array([1.0, 3.0, np.nan, 5.0]), 0.5).tolist()
    [1.0, 2.0, nan, 5.0]
    """
    out = np.full(len(x), np.nan)
    t0 = None
    for t, v in enumerate(x):
        if math.isnan(v):
            t0 = None
            continue
        if t0 is None:
            t0 = t
        total = (1 - alpha) ** (t - t0) * float(x[t0])
        for j in range(t0 + 1, t + 1):
            total += alpha * (1 - alpha) ** (t - j) * float(x[j])
        out[t] = total
    return out
