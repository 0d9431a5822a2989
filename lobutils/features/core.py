"""Causal features of a limit order book and its trades.

Book features take the four ``(N, L)`` arrays of :func:`lobutils.schema.book_arrays`
(``bid_px, bid_qty, ask_px, ask_qty``; level 1 is the best, missing levels have NaN price and
zero quantity; a side whose quantities are all NaN is an *unknown* state, such as a clock-grid
time before the first book state, and gives NaN features). A 1-D array is read as a one-level
book ``(N, 1)``. They return ``(N,)`` (or
``(N, levels)`` for per-level features). Rows are book states in time order: one per event
(event time) or one per grid time (clock time, :mod:`lobutils.book.sampling`); every feature works on
both, and the windowed ones take their window in events or in seconds.

**Causality.** The value at row ``i`` uses rows ``0..i`` only, and trades with ``ts <= ts[i]``
only (a trade stamped exactly at the query time counts: it has happened by then). A window
that reaches back before the first row (or the first trade) gives NaN, never a shorter window.
Truncating the input at any time leaves every earlier value unchanged; the tests check it.

**Quote value and contract sizes.** Where a feature needs the value of a quantity in quote
currency (VAMP's dollar cutoff, trade value), ``contract_value=None`` means a *linear* market
(spot, USD-M): ``value = price * qty`` with ``qty`` in the base asset. A number means an
*inverse* (COIN-M) market quoted in contracts of that many quote units each:
``value = qty * contract_value``, whatever the price (see :data:`lobutils.markets.COIN_M_CONTRACT_VALUE_USD`).

**Units.** Prices in quote currency; returns and volatilities in basis points of log price
(``1e4 * log(p1 / p0)``); times in int64 nanoseconds; windows in seconds or events.

Examples
--------
A two-level book of two states (synthetic):

>>> bid_px = np.array([[100.0, 99.0], [100.0, 99.0]])
>>> bid_qty = np.array([[2.0, 5.0], [1.0, 5.0]])
>>> ask_px = np.array([[101.0, 102.0], [101.0, 102.0]])
>>> ask_qty = np.array([[1.0, 4.0], [1.0, 4.0]])
>>> mid(bid_px, ask_px).tolist()
[100.5, 100.5]
>>> quote_imbalance(bid_qty, ask_qty, levels=2).round(4).tolist()
[0.1667, 0.0909]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lobutils.features import _kernels as _k
from lobutils.schema import TS_NA, book_arrays

__all__ = [
    "FeatureConfig",
    "VampResult",
    "compute_features",
    "cumulative_depth",
    "depth",
    "level_log_returns",
    "level_log_volumes",
    "microprice",
    "mid",
    "mid_minus_vamp",
    "mlofi",
    "ofi",
    "ofi_contributions",
    "past_returns",
    "quote_imbalance",
    "quote_value",
    "realized_volatility",
    "spread",
    "spread_bps",
    "time_of_day",
    "trade_imbalance",
    "trade_intensity",
    "vamp",
    "vamp_detail",
]

BPS = 1e4
NS_PER_S = 1_000_000_000
DAY_NS = 86_400 * NS_PER_S


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------


def _as_2d(a, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (N, L) or (N,), got shape {arr.shape}")
    return arr


def _same_shape(**arrays: np.ndarray) -> None:
    shapes = {k: v.shape for k, v in arrays.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"book arrays must have the same shape, got {shapes}")


def _check_qty(qty: np.ndarray, name: str, row_offset: int = 0) -> None:
    """Quantities must be finite and >= 0, except on unknown rows (all NaN on that side)."""
    bad = ~(qty >= 0) | np.isinf(qty)
    if bad.any():
        bad &= ~np.isnan(qty).all(axis=1, keepdims=True)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} must be finite and >= 0 (missing levels have qty 0); "
            f"row {i + row_offset}, level {j + 1} is {qty[i, j]}"
        )


def _check_px(px: np.ndarray, qty: np.ndarray, name: str, row_offset: int = 0) -> None:
    """Prices must be finite and positive wherever the quantity is positive."""
    bad = (qty > 0) & ~((px > 0) & np.isfinite(px))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} must be finite and > 0 where the level has a quantity; "
            f"row {i + row_offset}, level {j + 1} has price {px[i, j]} and qty {qty[i, j]}"
        )


def _book(bid_px, bid_qty, ask_px, ask_qty, levels: int | None = None):
    """Validated float64 (N, L) arrays, cut to the first ``levels`` levels."""
    arrays = {
        "bid_px": _as_2d(bid_px, "bid_px"),
        "bid_qty": _as_2d(bid_qty, "bid_qty"),
        "ask_px": _as_2d(ask_px, "ask_px"),
        "ask_qty": _as_2d(ask_qty, "ask_qty"),
    }
    _same_shape(**arrays)
    n_levels = arrays["bid_px"].shape[1]
    if levels is not None:
        levels = _positive_int(levels, "levels")
        if levels > n_levels:
            raise ValueError(f"levels={levels} but the book has only {n_levels} levels")
        arrays = {k: v[:, :levels] for k, v in arrays.items()}
    for side in ("bid", "ask"):
        _check_qty(arrays[f"{side}_qty"], f"{side}_qty")
        _check_px(arrays[f"{side}_px"], arrays[f"{side}_qty"], f"{side}_px")
    return arrays["bid_px"], arrays["bid_qty"], arrays["ask_px"], arrays["ask_qty"]


def _best(px, name: str) -> np.ndarray:
    arr = _as_2d(px, name)[:, 0]
    bad = ~np.isnan(arr) & ~((arr > 0) & np.isfinite(arr))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be > 0 and finite, or NaN for a missing level; row {i}")
    return arr


def _positive_int(x, name: str) -> int:
    if isinstance(x, bool) or not isinstance(x, int | np.integer) or x < 1:
        raise ValueError(f"{name} must be a positive integer, got {x!r}")
    return int(x)


def _positive_float(x, name: str) -> float:
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {x!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {x!r}")
    return value


def _contract_value(contract_value) -> float:
    """0.0 for a linear market, the contract value for an inverse one."""
    if contract_value is None:
        return 0.0
    return _positive_float(contract_value, "contract_value")


def _as_ts(ts, name: str = "ts", *, sorted_: bool = True) -> np.ndarray:
    arr = np.asarray(ts)
    if arr.dtype.kind == "M":
        arr = arr.astype("datetime64[ns]").view(np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must be int64 nanoseconds (or datetime64), got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if (arr == TS_NA).any():
        raise ValueError(f"{name} contains missing timestamps (TS_NA / NaT)")
    if sorted_ and arr.size > 1 and (np.diff(arr) < 0).any():
        i = int(np.flatnonzero(np.diff(arr) < 0)[0])
        raise ValueError(f"{name} must be non-decreasing; row {i + 1} is earlier than row {i}")
    return arr


def _as_1d(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


def _seconds_to_ns(seconds, name: str) -> int:
    return int(round(_positive_float(seconds, name) * NS_PER_S))


def _window(n: int, *, events, seconds, ts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bounds ``[start, stop)`` of each row's past window and whether it is fully covered.

    ``events=k``: rows ``i-k+1..i``, covered when ``i-k+1 >= 0``. ``seconds=W``: rows with
    ``ts[i] - W < ts <= ts[i]`` (and index <= i), covered when ``ts[i] - W >= ts[0]``.
    """
    if (events is None) == (seconds is None):
        raise ValueError("give exactly one of events= (a count) or seconds= (with ts=)")
    idx = np.arange(n, dtype=np.int64)
    stop = idx + 1
    if events is not None:
        if ts is not None:
            raise ValueError("ts= is only used with seconds=")
        k = _positive_int(events, "events")
        start = np.maximum(idx - k + 1, 0)
        covered = idx - k + 1 >= 0
        return start, stop, covered
    if ts is None:
        raise ValueError("seconds= needs ts= (int64 ns per row)")
    t = _as_ts(ts)
    if t.size != n:
        raise ValueError(f"ts has {t.size} rows but the data has {n}")
    w = _seconds_to_ns(seconds, "seconds")
    start = np.searchsorted(t, t - w, side="right").astype(np.int64)
    covered = (t - w >= t[0]) if n else np.zeros(0, dtype=bool)
    return start, stop, covered


def _windowed_sum(x: np.ndarray, *, events, seconds, ts) -> np.ndarray:
    """Past-window sums of each column of ``x`` (N,) or (N, M); NaN where not covered."""
    start, stop, covered = _window(x.shape[0], events=events, seconds=seconds, ts=ts)
    cols = x[:, None] if x.ndim == 1 else x
    out = np.empty(cols.shape)
    for m in range(cols.shape[1]):
        out[:, m] = _k.window_sum(np.ascontiguousarray(cols[:, m]), start, stop)
    out[~covered] = np.nan
    return out[:, 0] if x.ndim == 1 else out


# --------------------------------------------------------------------------------------
# basics
# --------------------------------------------------------------------------------------


def mid(bid_px, ask_px) -> np.ndarray:
    """Mid price ``(best bid + best ask) / 2``; NaN where a side is empty.

    Parameters
    ----------
    bid_px, ask_px : array_like, shape (N, L) or (N,)
        Prices; only level 1 is used.

    Returns
    -------
    numpy.ndarray, shape (N,)
        The mid price.

    Examples
    --------
    >>> mid(np.array([[100.0], [np.nan]]), np.array([[101.0], [101.0]])).tolist()
    [100.5, nan]
    """
    b, a = _best(bid_px, "bid_px"), _best(ask_px, "ask_px")
    if b.shape != a.shape:
        raise ValueError(f"bid_px and ask_px have {b.size} and {a.size} rows")
    return (b + a) / 2.0


def spread(bid_px, ask_px) -> np.ndarray:
    """Quoted spread ``best ask - best bid`` in price units; NaN where a side is empty.

    Parameters
    ----------
    bid_px, ask_px : array_like, shape (N, L) or (N,)
        Prices; only level 1 is used.

    Returns
    -------
    numpy.ndarray, shape (N,)
        The spread in price units.

    Examples
    --------
    >>> spread(np.array([100.0]), np.array([100.5])).tolist()
    [0.5]
    """
    b, a = _best(bid_px, "bid_px"), _best(ask_px, "ask_px")
    if b.shape != a.shape:
        raise ValueError(f"bid_px and ask_px have {b.size} and {a.size} rows")
    return a - b


def spread_bps(bid_px, ask_px) -> np.ndarray:
    """Quoted spread relative to the mid, in basis points: ``1e4 * (ask - bid) / mid``.

    Parameters
    ----------
    bid_px, ask_px : array_like, shape (N, L) or (N,)
        Prices; only level 1 is used.

    Returns
    -------
    numpy.ndarray, shape (N,)
        The spread in bps of the mid.

    Examples
    --------
    >>> spread_bps(np.array([99.5]), np.array([100.5])).tolist()
    [100.0]
    """
    return BPS * spread(bid_px, ask_px) / mid(bid_px, ask_px)


def microprice(bid_px, bid_qty, ask_px, ask_qty) -> np.ndarray:
    """Size-weighted mid of the best level: ``(Pb Qa + Pa Qb) / (Qb + Qa)``.

    It leans toward the side with *less* size (the price more likely to move). NaN where a
    side is empty.

    Parameters
    ----------
    bid_px, bid_qty, ask_px, ask_qty : array_like, shape (N, L) or (N,)
        The book (:func:`lobutils.schema.book_arrays`).
        Only level 1 is used.

    Returns
    -------
    numpy.ndarray, shape (N,)
        The microprice.

    Examples
    --------
    >>> microprice([100.0], [3.0], [101.0], [1.0]).tolist()
    [100.75]
    """
    bp, bq, ap, aq = _book(bid_px, bid_qty, ask_px, ask_qty, levels=1)
    bp, bq, ap, aq = bp[:, 0], bq[:, 0], ap[:, 0], aq[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (bp * aq + ap * bq) / (bq + aq)
    out[(bq == 0) | (aq == 0)] = np.nan
    return out


def quote_value(px, qty, contract_value: float | None = None) -> np.ndarray:
    """Value of each level in quote currency; 0 for missing levels.

    Parameters
    ----------
    px, qty : array_like, shape (N, L) or (N,)
        One side of the book.
    contract_value : float, optional
        None for a linear market (``px * qty``); the quote value of one contract for an inverse
        (COIN-M) market (``qty * contract_value``).

    Returns
    -------
    numpy.ndarray, shape (N, L)
        Quote value per level (NaN where the quantity is NaN).

    Examples
    --------
    >>> quote_value([[100.0, np.nan]], [[2.0, 0.0]]).tolist()
    [[200.0, 0.0]]
    >>> quote_value([[60000.0]], [[3.0]], contract_value=100.0).tolist()
    [[300.0]]
    """
    p, q = _as_2d(px, "px"), _as_2d(qty, "qty")
    _same_shape(px=p, qty=q)
    _check_qty(q, "qty")
    _check_px(p, q, "px")
    cv = _contract_value(contract_value)
    if cv > 0:
        return q * cv
    return np.where(q > 0, p * q, np.where(np.isnan(q), np.nan, 0.0))


def depth(qty, levels: int | None = None) -> np.ndarray:
    """Total quantity of the first ``levels`` levels (all by default) of one side.

    Pass :func:`quote_value` instead of quantities for depth in quote currency.

    Parameters
    ----------
    qty : array_like, shape (N, L) or (N,)
        Quantities of one side, level 1 first.
    levels : int, optional
        Levels summed, at most L (default all).

    Returns
    -------
    numpy.ndarray, shape (N,)
        The summed quantity.

    Examples
    --------
    >>> depth([[2.0, 5.0, 1.0]], levels=2).tolist()
    [7.0]
    """
    q = _as_2d(qty, "qty")
    if levels is not None:
        levels = _positive_int(levels, "levels")
        if levels > q.shape[1]:
            raise ValueError(f"levels={levels} but the book has only {q.shape[1]} levels")
        q = q[:, :levels]
    _check_qty(q, "qty")
    return q.sum(axis=1)


def cumulative_depth(qty) -> np.ndarray:
    """Cumulative quantity from level 1 to each level, shape (N, L).

    Parameters
    ----------
    qty : array_like, shape (N, L) or (N,)
        Quantities of one side, level 1 first.

    Returns
    -------
    numpy.ndarray, shape (N, L)
        Column m holds the quantity of levels 1..m.

    Examples
    --------
    >>> cumulative_depth([[2.0, 5.0, 1.0]]).tolist()
    [[2.0, 7.0, 8.0]]
    """
    q = _as_2d(qty, "qty")
    _check_qty(q, "qty")
    return np.cumsum(q, axis=1)


def quote_imbalance(bid_qty, ask_qty, levels: int = 5) -> np.ndarray:
    """Quote imbalance over levels 1..k: ``(sum Vb - sum Va) / (sum Vb + sum Va)``, in [-1, 1].

    ``V`` is the quantity at a level; missing levels count as 0. NaN where both sides are
    empty over those levels.

    Parameters
    ----------
    bid_qty, ask_qty : array_like, shape (N, L)
        Quantities of each side, level 1 first.
    levels : int
        k, the number of levels summed (default 5); must not exceed L.

    Returns
    -------
    numpy.ndarray, shape (N,)
        The imbalance in [-1, 1].

    Examples
    --------
    >>> quote_imbalance([[3.0, 1.0]], [[1.0, 1.0]], levels=1).tolist()
    [0.5]
    """
    bq, aq = _as_2d(bid_qty, "bid_qty"), _as_2d(ask_qty, "ask_qty")
    _same_shape(bid_qty=bq, ask_qty=aq)
    vb, va = depth(bq, levels), depth(aq, levels)
    with np.errstate(invalid="ignore"):
        return (vb - va) / (vb + va)


# --------------------------------------------------------------------------------------
# VAMP
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class VampResult:
    """VAMP and its parts, one value per book state.

    Attributes
    ----------
    bid, ask : numpy.ndarray
        Each side's average fill price for ``cutoff`` quote units; NaN where the side lacks
        depth.
    vamp : numpy.ndarray
        ``(bid + ask) / 2``; NaN where either side lacks depth.
    bid_insufficient, ask_insufficient : numpy.ndarray of bool
        Where that side's visible depth is worth less than ``cutoff``.
    cutoff : float
        The cutoff in quote currency.
    """

    bid: np.ndarray
    ask: np.ndarray
    vamp: np.ndarray
    bid_insufficient: np.ndarray
    ask_insufficient: np.ndarray
    cutoff: float

    @property
    def insufficient(self) -> np.ndarray:
        """Rows where at least one side lacks depth (VAMP is NaN there)."""
        return self.bid_insufficient | self.ask_insufficient

    @property
    def n_insufficient(self) -> int:
        """Number of rows where VAMP is NaN because a side lacks depth."""
        return int(self.insufficient.sum())


def vamp_detail(
    bid_px,
    bid_qty,
    ask_px,
    ask_qty,
    cutoff: float = 60_000.0,
    contract_value: float | None = None,
) -> VampResult:
    """Volume-adjusted mid price (VAMP, "Mind the Gaps") with both sides and the depth count.

    Each side fills ``cutoff`` units of quote currency by walking its levels from the best,
    taking whole levels while their cumulative quote value is below the cutoff and the last
    level partially. The side price is the average fill price, quote spent over base
    received::

        P_side = cutoff / sum_j (x_j / p_j),

    where ``x_j`` is the quote value taken at level ``j`` (``sum_j x_j = cutoff``). This is
    the base-volume-weighted mean of the level prices: for a linear market the weights are
    quantities; for an inverse market they are ``contracts * contract_value / price``. VAMP
    is the mean of the two sides. A side whose visible depth is worth less than the cutoff
    gives NaN, counted in :attr:`VampResult.bid_insufficient` / ``ask_insufficient``; it is
    never extrapolated. Unknown states (all quantities NaN) give NaN and are not counted.
    Only the levels walked are validated.

    Parameters
    ----------
    bid_px, bid_qty, ask_px, ask_qty : array_like, shape (N, L)
        The book (:func:`lobutils.schema.book_arrays`).
    cutoff : float
        v, in quote currency (default 60,000, as in the paper).
    contract_value : float, optional
        None for a linear market; quote value of one contract for an inverse market
        (:data:`lobutils.markets.COIN_M_CONTRACT_VALUE_USD`).

    Returns
    -------
    VampResult
        Both side prices, VAMP, and where each side lacks depth.

    Examples
    --------
    Synthetic book: bid 100 x 1 and 99 x 2, ask 101 x 1 and 102 x 2; cutoff 150.

    >>> r = vamp_detail([[100.0, 99.0]], [[1.0, 2.0]], [[101.0, 102.0]], [[1.0, 2.0]], 150.0)
    >>> round(float(r.bid[0]), 4), round(float(r.ask[0]), 4), r.n_insufficient
    (99.6644, 101.3245, 0)
    >>> r = vamp_detail([[100.0]], [[1.0]], [[101.0]], [[1.0]], 150.0)
    >>> r.vamp.tolist(), r.n_insufficient
    ([nan], 1)
    """
    cut = _positive_float(cutoff, "cutoff")
    cv = _contract_value(contract_value)
    arrays = {
        "bid_px": _as_2d(bid_px, "bid_px"),
        "bid_qty": _as_2d(bid_qty, "bid_qty"),
        "ask_px": _as_2d(ask_px, "ask_px"),
        "ask_qty": _as_2d(ask_qty, "ask_qty"),
    }
    _same_shape(**arrays)
    n = arrays["bid_px"].shape[0]
    bid, ask = np.empty(n), np.empty(n)
    bid_short, ask_short = np.empty(n, dtype=np.bool_), np.empty(n, dtype=np.bool_)
    status = np.empty(n, dtype=np.uint8)
    _k.vamp_rows(*arrays.values(), cut, cv, bid, ask, bid_short, ask_short, status)
    if status.any():
        i = int(np.flatnonzero(status)[0])
        side = "bid" if status[i] & _k.BID_INVALID else "ask"
        row = {k: v[i : i + 1] for k, v in arrays.items()}
        _check_qty(row[f"{side}_qty"], f"{side}_qty", row_offset=i)
        _check_px(row[f"{side}_px"], row[f"{side}_qty"], f"{side}_px", row_offset=i)
    return VampResult(
        bid=bid,
        ask=ask,
        vamp=(bid + ask) / 2.0,
        bid_insufficient=bid_short,
        ask_insufficient=ask_short,
        cutoff=cut,
    )


def vamp(
    bid_px,
    bid_qty,
    ask_px,
    ask_qty,
    cutoff: float = 60_000.0,
    contract_value: float | None = None,
) -> np.ndarray:
    """VAMP values only, shape (N,); see :func:`vamp_detail` for the definition and counts.

    Parameters
    ----------
    bid_px, bid_qty, ask_px, ask_qty : array_like, shape (N, L)
        The book (:func:`lobutils.schema.book_arrays`).
    cutoff : float
        In quote currency (default 60,000).
    contract_value : float, optional
        None for a linear market; quote value of one contract for an inverse market.

    Returns
    -------
    numpy.ndarray, shape (N,)
        VAMP; NaN where a side lacks depth.

    Examples
    --------
    >>> vamp([[100.0, 99.0]], [[1.0, 2.0]], [[101.0, 102.0]], [[1.0, 2.0]], 150.0).round(4)
    array([100.4945])
    """
    return vamp_detail(bid_px, bid_qty, ask_px, ask_qty, cutoff, contract_value).vamp


def mid_minus_vamp(
    bid_px,
    bid_qty,
    ask_px,
    ask_qty,
    cutoff: float = 60_000.0,
    contract_value: float | None = None,
) -> np.ndarray:
    """``mid - VAMP`` in price units.

    Positive when filling the cutoff costs more on the bid side than on the ask side (the
    bid book is thinner within the cutoff, so its fill price lies further from the mid).

    Parameters
    ----------
    bid_px, bid_qty, ask_px, ask_qty : array_like, shape (N, L)
        The book (:func:`lobutils.schema.book_arrays`).
    cutoff : float
        In quote currency (default 60,000).
    contract_value : float, optional
        None for a linear market; quote value of one contract for an inverse market.

    Returns
    -------
    numpy.ndarray, shape (N,)
        ``mid - VAMP``; NaN where a side lacks depth.

    Examples
    --------
    >>> mid_minus_vamp([[100.0, 99.0]], [[1.0, 2.0]], [[101.0, 102.0]], [[1.0, 2.0]], 150.0).round(4)
    array([0.0055])
    """
    v = vamp(bid_px, bid_qty, ask_px, ask_qty, cutoff, contract_value)
    return mid(bid_px, ask_px) - v


# --------------------------------------------------------------------------------------
# order-flow imbalance
# --------------------------------------------------------------------------------------


def ofi_contributions(bid_px, bid_qty, ask_px, ask_qty, levels: int = 1) -> np.ndarray:
    """Per-event order-flow contributions ``e_n`` of Cont, Kukanov & Stoikov (2014), per level.

    For level m between rows n-1 and n::

        e_n = 1{Pb_n >= Pb_n-1} Qb_n - 1{Pb_n <= Pb_n-1} Qb_n-1
            - 1{Pa_n <= Pa_n-1} Qa_n + 1{Pa_n >= Pa_n-1} Qa_n-1

    Positive values are buying pressure (bid queues growing or improving, ask queues
    shrinking). Level m > 1 gives the multi-level OFI of Xu, Gould & Howison (2018). A missing
    level counts as a bid price of -inf or an ask price of +inf with zero quantity. Row 0 is
    NaN (it has no previous state).

    Parameters
    ----------
    bid_px, bid_qty, ask_px, ask_qty : array_like, shape (N, L)
        The book (:func:`lobutils.schema.book_arrays`).
    levels : int
        Number of levels (default 1, the best).

    Returns
    -------
    numpy.ndarray, shape (N, levels)
        ``e_n`` per row and level; row 0 is NaN.

    Examples
    --------
    Synthetic: the bid queue grows from 5 to 7, then the ask improves to 100.5 with 3.

    >>> ofi_contributions([100.0, 100.0, 100.0], [5.0, 7.0, 7.0],
    ...                   [101.0, 101.0, 100.5], [4.0, 4.0, 3.0])[:, 0].tolist()
    [nan, 2.0, -3.0]
    """
    bp, bq, ap, aq = _book(bid_px, bid_qty, ask_px, ask_qty, levels=levels)
    bp = np.where(np.isnan(bp), -np.inf, bp)
    ap = np.where(np.isnan(ap), np.inf, ap)
    out = np.full(bp.shape, np.nan)
    if bp.shape[0] < 2:
        return out
    b0, b1, qb0, qb1 = bp[:-1], bp[1:], bq[:-1], bq[1:]
    a0, a1, qa0, qa1 = ap[:-1], ap[1:], aq[:-1], aq[1:]
    bid_flow = np.where(b1 >= b0, qb1, 0.0) - np.where(b1 <= b0, qb0, 0.0)
    ask_flow = np.where(a1 <= a0, qa1, 0.0) - np.where(a1 >= a0, qa0, 0.0)
    out[1:] = bid_flow - ask_flow
    return out


def ofi(
    bid_px,
    bid_qty,
    ask_px,
    ask_qty,
    *,
    events: int | None = None,
    seconds: float | None = None,
    ts=None,
) -> np.ndarray:
    """Best-level OFI summed over a past window of events or of clock time.

    ``events=k`` sums the contributions of rows ``i-k+1..i`` (the changes over the last k
    events); ``seconds=W`` those of rows with ``ts[i] - W < ts <= ts[i]``. NaN where the
    window reaches before the first row. See :func:`ofi_contributions`.

    Parameters
    ----------
    bid_px, bid_qty, ask_px, ask_qty : array_like, shape (N, L) or (N,)
        The book (:func:`lobutils.schema.book_arrays`).
    events : int, optional
        Window in rows (give ``events`` or ``seconds``, not both).
    seconds : float, optional
        Window in seconds; needs ``ts``.
    ts : array_like of int64 ns, shape (N,), optional
        The rows' times, sorted.

    Returns
    -------
    numpy.ndarray, shape (N,)
        The summed best-level contributions.

    Examples
    --------
    >>> ofi([100.0, 100.0, 100.0], [5.0, 7.0, 7.0], [101.0, 101.0, 100.5], [4.0, 4.0, 3.0],
    ...     events=2).tolist()
    [nan, nan, -1.0]
    """
    flows = mlofi(bid_px, bid_qty, ask_px, ask_qty, levels=1, events=events, seconds=seconds, ts=ts)
    return flows[:, 0]


def mlofi(
    bid_px,
    bid_qty,
    ask_px,
    ask_qty,
    *,
    levels: int = 5,
    events: int | None = None,
    seconds: float | None = None,
    ts=None,
) -> np.ndarray:
    """Multi-level OFI: per-level OFI summed over a past window, shape (N, levels).

    Windows as in :func:`ofi`; per-level contributions as in :func:`ofi_contributions`.

    Parameters
    ----------
    bid_px, bid_qty, ask_px, ask_qty : array_like, shape (N, L) or (N,)
        The book (:func:`lobutils.schema.book_arrays`).
    levels : int
        Levels, at most L (default 5).
    events : int, optional
        Window in rows (give ``events`` or ``seconds``, not both).
    seconds : float, optional
        Window in seconds; needs ``ts``.
    ts : array_like of int64 ns, shape (N,), optional
        The rows' times, sorted.

    Returns
    -------
    numpy.ndarray, shape (N, levels)
        The summed contributions per level.

    Examples
    --------
    >>> ts = np.array([0, 1, 2]) * 1_000_000_000
    >>> mlofi([[10.0, 9.0]] * 3, [[1.0, 1.0], [1.0, 3.0], [2.0, 3.0]],
    ...       [[11.0, 12.0]] * 3, [[1.0, 1.0]] * 3, levels=2, seconds=1.5, ts=ts).tolist()
    [[nan, nan], [nan, nan], [1.0, 2.0]]
    """
    e = ofi_contributions(bid_px, bid_qty, ask_px, ask_qty, levels=levels)
    return _windowed_sum(e, events=events, seconds=seconds, ts=ts)


# --------------------------------------------------------------------------------------
# per-level features, returns and volatility
# --------------------------------------------------------------------------------------


def level_log_returns(px) -> np.ndarray:
    """Log return of each level's price from the previous row, in bps, shape (N, L).

    ``1e4 * log(p[i, m] / p[i-1, m])``; row 0, and rows where the level is missing now or
    before, are NaN.

    Parameters
    ----------
    px : array_like, shape (N, L) or (N,)
        Prices of one side; NaN for missing levels.

    Returns
    -------
    numpy.ndarray, shape (N, L)
        Log returns in bps.

    Examples
    --------
    >>> level_log_returns([[100.0], [101.0]]).round(2).tolist()
    [[nan], [99.5]]
    """
    p = _as_2d(px, "px")
    bad = ~np.isnan(p) & ~((p > 0) & np.isfinite(p))
    if bad.any():
        raise ValueError("px must be > 0 and finite, or NaN for a missing level")
    out = np.full(p.shape, np.nan)
    out[1:] = BPS * (np.log(p[1:]) - np.log(p[:-1]))
    return out


def level_log_volumes(qty) -> np.ndarray:
    """Natural log of each level's quantity, shape (N, L); NaN for missing (zero) levels.

    Parameters
    ----------
    qty : array_like, shape (N, L) or (N,)
        Quantities of one side.

    Returns
    -------
    numpy.ndarray, shape (N, L)
        ``log(qty)``, NaN where ``qty == 0``.

    Examples
    --------
    >>> level_log_volumes([[1.0, 0.0]]).tolist()
    [[0.0, nan]]
    """
    q = _as_2d(qty, "qty")
    _check_qty(q, "qty")
    with np.errstate(divide="ignore"):
        return np.where(q > 0, np.log(q), np.nan)


def _check_prices_1d(x: np.ndarray, name: str) -> None:
    bad = ~np.isnan(x) & ~((x > 0) & np.isfinite(x))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be > 0 and finite (or NaN); row {i} is {x[i]}")


def past_returns(
    price, *, ts=None, seconds: float | None = None, events: int | None = None
) -> np.ndarray:
    """Backward log return over a past horizon, in bps: known at row i.

    ``1e4 * log(p[i] / p[j])`` where ``j = i - h`` (``events=h``) or ``j`` is the last row
    with ``ts <= ts[i] - h`` (``seconds=h``). NaN where that reaches before the first row.
    The mirror image of :func:`lobutils.features.targets.forward_returns`.

    Parameters
    ----------
    price : array_like, shape (N,)
        Prices (e.g. the mid), positive or NaN.
    ts : array_like of int64 ns, shape (N,), optional
        The rows' times, sorted; needed with ``seconds``.
    seconds : float, optional
        Horizon in seconds (give ``seconds`` or ``events``, not both).
    events : int, optional
        Horizon in rows.

    Returns
    -------
    numpy.ndarray, shape (N,)
        Past log returns in bps.

    Examples
    --------
    >>> past_returns([100.0, 101.0, 102.0], events=2).round(2).tolist()
    [nan, nan, 198.03]
    """
    p = _as_1d(price, "price")
    _check_prices_1d(p, "price")
    n = p.size
    out = np.full(n, np.nan)
    if (events is None) == (seconds is None):
        raise ValueError("give exactly one of events= or seconds= (with ts=)")
    if events is not None:
        h = _positive_int(events, "events")
        if h < n:
            out[h:] = BPS * (np.log(p[h:]) - np.log(p[:-h]))
        return out
    if ts is None:
        raise ValueError("seconds= needs ts=")
    t = _as_ts(ts)
    if t.size != n:
        raise ValueError(f"ts has {t.size} rows but price has {n}")
    h = _seconds_to_ns(seconds, "seconds")
    j = np.searchsorted(t, t - h, side="right") - 1
    ok = j >= 0
    out[ok] = BPS * (np.log(p[ok]) - np.log(p[j[ok]]))
    return out


def realized_volatility(
    price, *, events: int | None = None, seconds: float | None = None, ts=None
) -> np.ndarray:
    """Realised volatility over a past window, in bps: ``1e4 * sqrt(sum r_j^2)``.

    ``r_j = log(p[j] / p[j-1])`` are the row-to-row log returns in the window (the last
    ``events`` returns, or those of rows with ``ts[i] - seconds < ts <= ts[i]``). Not
    annualised and not scaled by the window: the square root of the summed squared returns.
    NaN where the window reaches before the first return or holds a NaN price.

    Parameters
    ----------
    price : array_like, shape (N,)
        Prices (e.g. the mid), positive or NaN.
    events : int, optional
        Window in rows (give ``events`` or ``seconds``, not both).
    seconds : float, optional
        Window in seconds; needs ``ts``.
    ts : array_like of int64 ns, shape (N,), optional
        The rows' times, sorted.

    Returns
    -------
    numpy.ndarray, shape (N,)
        Realised volatility in bps.

    Examples
    --------
    >>> realized_volatility([100.0, 101.0, 100.0], events=2).round(2).tolist()
    [nan, nan, 140.72]
    """
    p = _as_1d(price, "price")
    _check_prices_1d(p, "price")
    r2 = np.full(p.size, np.nan)
    r2[1:] = np.diff(np.log(p)) ** 2
    s = _windowed_sum(r2, events=events, seconds=seconds, ts=ts)
    return BPS * np.sqrt(s)


def time_of_day(ts) -> tuple[np.ndarray, np.ndarray]:
    """Time of day as a point on the circle: ``(sin, cos)`` of ``2 pi s / 86400``.

    ``s`` is seconds since 00:00 UTC (nanosecond resolution), so 23:59:59 and 00:00:00 are
    close.

    Parameters
    ----------
    ts : array_like of int64 ns, shape (N,)
        Times since the epoch, any order.

    Returns
    -------
    sin, cos : numpy.ndarray, shape (N,)
        The two coordinates.

    Examples
    --------
    >>> s, c = time_of_day(np.array([0, 6 * 3600 * 10**9]))
    >>> s.round(6).tolist(), c.round(6).tolist()
    ([0.0, 1.0], [1.0, 0.0])
    """
    t = _as_ts(ts, sorted_=False)
    phase = 2.0 * np.pi * (np.mod(t, DAY_NS) / DAY_NS)
    return np.sin(phase), np.cos(phase)


# --------------------------------------------------------------------------------------
# trade features
# --------------------------------------------------------------------------------------


def _trades(trade_ts, *others):
    t = _as_ts(trade_ts, "trade_ts", sorted_=False)
    arrays = [_as_1d(x, name) for x, name in others]
    for (_, name), a in zip(others, arrays, strict=True):
        if a.size != t.size:
            raise ValueError(f"{name} has {a.size} rows but trade_ts has {t.size}")
    if t.size > 1 and (np.diff(t) < 0).any():
        order = np.argsort(t, kind="stable")
        t = t[order]
        arrays = [a[order] for a in arrays]
    return t, arrays


def _query(query_ts):
    q = _as_ts(query_ts, "query_ts", sorted_=False)
    if q.size > 1 and (np.diff(q) < 0).any():
        order = np.argsort(q, kind="stable")
        return q[order], order
    return q, None


def _coverage(q: np.ndarray, t: np.ndarray, window_ns: int, start_ts) -> np.ndarray:
    if start_ts is None:
        if t.size == 0:
            return np.zeros(q.size, dtype=bool)
        start = int(t[0])
    else:
        start = int(_as_ts(np.atleast_1d(start_ts), "start_ts")[0])
    return q - window_ns >= start


def trade_imbalance(
    query_ts,
    trade_ts,
    trade_price,
    trade_qty,
    trade_side,
    *,
    window: float = 60.0,
    contract_value: float | None = None,
    start_ts=None,
) -> np.ndarray:
    """Trade imbalance with linearly decaying weights over a past window, in [-1, 1].

    At query time t, over the trades with ``t - W < ts <= t`` (a trade stamped exactly t
    counts)::

        TI(t) = sum w_j s_j v_j / sum w_j v_j,    w_j = 1 - (t - ts_j) / W,

    with ``s_j`` the aggressor side (+1 buyer, -1 seller) and ``v_j`` the trade's quote value
    (``price * qty``, or ``qty * contract_value`` for an inverse market). Weights fall
    linearly from 1 (now) to 0 (W ago), so the window's edge needs no convention.

    NaN where no trade falls in the window, and where the window starts before the data
    does: ``t - W < start_ts`` (default: the first trade's time; pass the recording start if
    you know it).

    Parameters
    ----------
    query_ts : array_like of int64 ns, shape (N,)
        Times to evaluate at (e.g. the book frame's ``ts``); any order.
    trade_ts, trade_price, trade_qty, trade_side : array_like, shape (M,)
        The trades table's ``ts``, ``price``, ``qty``, ``side`` columns.
    window : float
        W in seconds (default 60).
    contract_value : float, optional
        None for a linear market; the quote value of one contract for an inverse one.
    start_ts : int, optional
        When the trade data starts (ns).

    Returns
    -------
    numpy.ndarray, shape (N,)
        The imbalance in [-1, 1], in the order of ``query_ts``.

    Examples
    --------
    Synthetic: a buy of 100 USD 30 s ago (weight 0.5), a sell of 100 USD now (weight 1):

    >>> s = 1_000_000_000
    >>> trade_imbalance([100 * s], [70 * s, 100 * s], [10.0, 10.0], [10.0, 10.0], [1, -1],
    ...                 start_ts=0).round(4).tolist()
    [-0.3333]
    """
    w_ns = _seconds_to_ns(window, "window")
    cv = _contract_value(contract_value)
    t, (price, qty, side) = _trades(
        trade_ts, (trade_price, "trade_price"), (trade_qty, "trade_qty"), (trade_side, "trade_side")
    )
    if not np.isin(side, (-1.0, 1.0)).all():
        raise ValueError("trade_side must be +1 (buyer aggressor) or -1 (seller aggressor)")
    if not ((qty >= 0) & np.isfinite(qty)).all():
        raise ValueError("trade_qty must be finite and >= 0")
    if not ((price > 0) & np.isfinite(price)).all():
        raise ValueError("trade_price must be finite and > 0")
    value = qty * cv if cv > 0 else price * qty
    q, order = _query(query_ts)
    num, den = _k.linear_weighted_sums(t, side * value, value, q, w_ns)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.clip(num / den, -1.0, 1.0)
    out[~(den > 0) | ~_coverage(q, t, w_ns, start_ts)] = np.nan
    return _unsort(out, order)


def _unsort(values: np.ndarray, order) -> np.ndarray:
    if order is None:
        return values
    out = np.empty_like(values)
    out[order] = values
    return out


def trade_intensity(query_ts, trade_ts, *, window: float = 60.0, start_ts=None) -> np.ndarray:
    """Trades per second over the past window: ``#{t - W < ts <= t} / W``.

    NaN where ``t - W < start_ts`` (default: the first trade's time), as in
    :func:`trade_imbalance`.

    Parameters
    ----------
    query_ts : array_like of int64 ns, shape (N,)
        Times to evaluate at; any order.
    trade_ts : array_like of int64 ns, shape (M,)
        The trades' times.
    window : float
        W in seconds (default 60).
    start_ts : int, optional
        When the trade data starts (ns).

    Returns
    -------
    numpy.ndarray, shape (N,)
        Trades per second, in the order of ``query_ts``.

    Examples
    --------
    >>> s = 1_000_000_000
    >>> trade_intensity([10 * s, 12 * s], [1 * s, 9 * s, 10 * s, 11 * s], window=2.0,
    ...                 start_ts=0).tolist()
    [1.0, 0.5]
    """
    w_ns = _seconds_to_ns(window, "window")
    t, _ = _trades(trade_ts)
    q = _as_ts(query_ts, "query_ts", sorted_=False)
    count = np.searchsorted(t, q, side="right") - np.searchsorted(t, q - w_ns, side="right")
    out = count / (w_ns / NS_PER_S)
    out[~_coverage(q, t, w_ns, start_ts)] = np.nan
    return out


# --------------------------------------------------------------------------------------
# frame-level wrapper
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureConfig:
    """Parameters of :func:`compute_features`.

    Parameters
    ----------
    vamp_cutoff : float
        VAMP cutoff in quote currency.
    contract_value : float or None
        None for a linear market; the contract's quote value for an inverse one.
    qi_levels : int
        Levels summed by the quote imbalance.
    ofi_levels : int
        Levels of MLOFI (columns ``ofi_1..``; ``ofi_1`` is the best-level OFI).
    ofi_window_s, vol_window_s, trade_window_s : float
        Past windows, in seconds, of OFI, realised volatility, and the trade features.
    level_features : bool
        Add the per-level log returns and log volumes (4 L columns), the inputs of the
        level-1 LSTM of chapter 7.
    """

    vamp_cutoff: float = 60_000.0
    contract_value: float | None = None
    qi_levels: int = 5
    ofi_levels: int = 5
    ofi_window_s: float = 10.0
    vol_window_s: float = 60.0
    trade_window_s: float = 60.0
    level_features: bool = False


def compute_features(
    frame: pd.DataFrame, trades: pd.DataFrame | None = None, config: FeatureConfig | None = None
) -> pd.DataFrame:
    """All the features of a book frame (and its trades), one column each, same index.

    Windows are in clock time (``config.*_window_s``), so this works on event-sampled and
    clock-sampled frames alike. QI and MLOFI use at most the frame's levels. Trade features
    are included when ``trades`` is given.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame (:func:`lobutils.schema.book_columns`) ordered by ``ts``.
    trades : pandas.DataFrame, optional
        Trades (:data:`lobutils.schema.TRADE_COLUMNS`) for ``ti`` and ``trade_intensity``.
    config : FeatureConfig, optional
        Windows, cutoffs and levels (default ``FeatureConfig()``).

    Returns
    -------
    pandas.DataFrame
        One column per feature, with the frame's index.

    Examples
    --------
    >>> from lobutils.schema import book_columns
    >>> f = pd.DataFrame([[0, 0, 1, 100.0, 2.0, 101.0, 1.0]], columns=book_columns(1))
    >>> list(compute_features(f).columns)  # doctest: +NORMALIZE_WHITESPACE
    ['mid', 'spread', 'spread_bps', 'microprice', 'vamp', 'mid_minus_vamp', 'qi', 'ofi_1',
     'realized_vol', 'tod_sin', 'tod_cos']
    """
    cfg = config or FeatureConfig()
    bp, bq, ap, aq = book_arrays(frame)
    ts = _as_ts(frame["ts"].to_numpy(), "frame ts")
    n_levels = bp.shape[1]
    cols: dict[str, np.ndarray] = {}
    cols["mid"] = m = mid(bp, ap)
    cols["spread"] = spread(bp, ap)
    cols["spread_bps"] = spread_bps(bp, ap)
    cols["microprice"] = microprice(bp, bq, ap, aq)
    v = vamp_detail(bp, bq, ap, aq, cfg.vamp_cutoff, cfg.contract_value)
    cols["vamp"] = v.vamp
    cols["mid_minus_vamp"] = m - v.vamp
    cols["qi"] = quote_imbalance(bq, aq, levels=min(cfg.qi_levels, n_levels))
    flows = mlofi(
        bp, bq, ap, aq, levels=min(cfg.ofi_levels, n_levels), seconds=cfg.ofi_window_s, ts=ts
    )
    for k in range(flows.shape[1]):
        cols[f"ofi_{k + 1}"] = flows[:, k]
    cols["realized_vol"] = realized_volatility(m, seconds=cfg.vol_window_s, ts=ts)
    if trades is not None:
        args = (
            trades["ts"].to_numpy(),
            trades["price"].to_numpy(),
            trades["qty"].to_numpy(),
            trades["side"].to_numpy(),
        )
        cols["ti"] = trade_imbalance(
            ts, *args, window=cfg.trade_window_s, contract_value=cfg.contract_value
        )
        cols["trade_intensity"] = trade_intensity(ts, args[0], window=cfg.trade_window_s)
    cols["tod_sin"], cols["tod_cos"] = time_of_day(ts)
    if cfg.level_features:
        for side, px, qty in (("bid", bp, bq), ("ask", ap, aq)):
            r, lv = level_log_returns(px), level_log_volumes(qty)
            for k in range(n_levels):
                cols[f"{side}_logret_{k + 1}"] = r[:, k]
                cols[f"{side}_logvol_{k + 1}"] = lv[:, k]
    return pd.DataFrame(cols, index=frame.index)
