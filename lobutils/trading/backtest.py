"""An event-driven backtest: signals become orders, orders walk the reconstructed book.

A model's forecast at decision time ``t`` (using data stamped at or before ``t``) becomes a
*target position*. The backtest sends an order for the difference to the current position,
which arrives at the exchange ``latency`` later and fills against the book state the exchange
holds then: the last reconstructed state at or before ``t + latency``, never an earlier one.

What an order pays
------------------
*Taker* orders (the default) walk the visible levels of the book at arrival, best first: an
order larger than the best level pays the second level's price for the rest, and so on. If
the visible levels cannot fill it, what they hold is filled and the rest is reported as
unfilled (``status == "partial"``); nothing is assumed beyond the book. The cost of a fill
against the mid at arrival splits into the *half-spread* (mid to the touch) and the *depth
slippage* (beyond the touch), and the fee is charged on the filled notional.

*Maker* orders (``order_type="maker"``) post at the best price of their side at arrival. They
fill only from later trades of the trades stream that print strictly *through* that price (a
trade at the price itself may have filled the queue ahead instead: this is the conservative
queue assumption), up to those trades' sizes, within ``maker_ttl_s``; the rest is cancelled.
No spread is paid, but adverse selection is: the order fills when the price moves against it.

Fees default to Binance's regular tier without BNB discount (:data:`lobutils.markets.BINANCE_FEES_BPS`): spot
10 bps maker and taker, USD-M and COIN-M futures 2 bps maker and 5 bps taker. VIP tiers and
BNB payment lower them; pass your own.

Limits and timing
-----------------
One order at a time: a decision made while an order is in flight (before its arrival) or
still working (a maker order) is skipped, as is one within ``cooldown_s`` of the previous
order's decision. Target positions are clipped to ``max_position`` units and to
``max_notional`` in quote currency (valued at the mid known at decision time). With
``close_at_end`` the final position is closed by a taker order after the last decision.

Linear and inverse markets
--------------------------
Spot and USD-M quantities are in base units: a fill of ``q`` at ``p`` is worth ``p * q`` quote.
COIN-M (inverse) quantities are *contracts* of a fixed USD value ``C``
(``contract_value``): the book's quantities are contracts too, and the P&L of a long position
of ``q`` contracts from ``p0`` to ``p1`` is ``q * C * (1/p0 - 1/p1)`` **coin**. The backtest
keeps the books of an inverse market in coin exactly and reports every amount in USD converted
at one fixed price, the mid at the first decision (``coin_to_quote`` in the summary), so that
the accounting identities hold exactly and the numbers compare across markets; divide by it
for coin. Every amount labelled ``_quote`` below is in the quote currency (USDT, or USD).

Outputs
-------
:func:`run_backtest` returns a :class:`BacktestResult`: the order table (time, side, quantity,
VWAP fill price, slippage against the mid in bps, fees), the equity curve marked to the mid,
the round trips, and a summary: net and gross P&L in quote and bps, costs split into
half-spread, depth slippage and fees, turnover, hit rate, Sharpe ratio per round trip, maximum
drawdown.

Benchmarks (:func:`compare_strategies`): buying at the start and holding to the end, random
targets with the model's rate of position changes (several seeds: a distribution), and the
perfect-foresight bound: at each time the model changed its position, take the full position
in the direction the mid actually moves until the model's next change. Gross of costs, no
strategy that changes position at those times can beat it; net of costs it shows how much
the costs eat.

Examples
--------
A hand-built book (synthetic): one state with asks 1 @ 100, 1 @ 101, 5 @ 102. A target of +3
units decided at 0 s arrives 0.1 s later and walks three levels.

>>> frame = pd.DataFrame({"ts": [0], "local_ts": [0], "update_id": [1],
...     "bid_px_1": [99.0], "bid_px_2": [98.0], "bid_px_3": [97.0],
...     "bid_qty_1": [1.0], "bid_qty_2": [1.0], "bid_qty_3": [5.0],
...     "ask_px_1": [100.0], "ask_px_2": [101.0], "ask_px_3": [102.0],
...     "ask_qty_1": [1.0], "ask_qty_2": [1.0], "ask_qty_3": [5.0]})
>>> cfg = BacktestConfig(order_qty=3.0, taker_fee_bps=10.0, close_at_end=False)
>>> res = run_backtest(frame, [0], [1.0], cfg)
>>> o = res.orders.iloc[0]
>>> float(o.vwap), float(o.filled_qty), round(float(o.fee_quote), 3)
(101.0, 3.0, 0.303)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from lobutils.book.replay import VALID
from lobutils.markets import Instrument, fees_bps
from lobutils.schema import book_arrays as _frame_arrays
from lobutils.trading import _kernels as K

__all__ = [
    "BacktestConfig",
    "BacktestResult",
    "BookArrays",
    "Comparison",
    "asof_values",
    "book_arrays_of",
    "compare_strategies",
    "hold_targets",
    "holding_targets",
    "max_drawdown",
    "perfect_foresight_targets",
    "proba_forecast",
    "qty_for_value",
    "random_targets",
    "run_backtest",
    "signal_forecasts",
    "walk_book",
]

BPS = 1e4
NS_PER_S = 1_000_000_000

_STATUS = np.array(["filled", "partial", "unfilled"])


# --------------------------------------------------------------------------------------
# the book as arrays
# --------------------------------------------------------------------------------------


class BookArrays(NamedTuple):
    """A book frame as arrays: ``ts`` (N,) int64 ns and four (N, L) float64 sides.

    Build it once with :func:`book_arrays_of` when a book is backtested many times.

    Parameters
    ----------
    ts : numpy.ndarray
        int64 times (ns) of the states, shape ``(N,)``, sorted.
    bid_px, bid_qty, ask_px, ask_qty : numpy.ndarray
        float64 sides, shape ``(N, L)``, best level first; an empty level has a NaN price and a
        zero quantity.
    """

    ts: np.ndarray
    bid_px: np.ndarray
    bid_qty: np.ndarray
    ask_px: np.ndarray
    ask_qty: np.ndarray

    @property
    def levels(self) -> int:
        """Levels per side, ``L``."""
        return int(self.bid_px.shape[1])

    def mid(self) -> np.ndarray:
        """Mid of every state; NaN where a side is empty.

        Returns
        -------
        numpy.ndarray
            float64 mid per state, quote currency.
        """
        with np.errstate(invalid="ignore"):
            return 0.5 * (self.bid_px[:, 0] + self.ask_px[:, 0])

    def state_at(self, t: Any) -> np.ndarray:
        """Index of the last state at or before each time (-1 before the first state).

        Parameters
        ----------
        t : int or array of int64
            Times (ns).

        Returns
        -------
        numpy.ndarray
            int64 state index per time; -1 before the first state.

        Examples
        --------
        >>> b = BookArrays(np.array([10, 20]), *(np.ones((2, 1)),) * 4)
        >>> b.state_at([5, 10, 15, 25]).tolist()
        [-1, 0, 0, 1]
        """
        return np.searchsorted(self.ts, np.asarray(t, dtype=np.int64), side="right") - 1

    def mid_at(self, t: Any) -> np.ndarray:
        """The mid of the last state at or before each time, carrying the last valid mid over
        states without one (NaN before the first valid state).

        Parameters
        ----------
        t : int or array of int64
            Times (ns).

        Returns
        -------
        numpy.ndarray
            float64 mid per time (past-only: the state known at that time).
        """
        m = pd.Series(self.mid()).ffill().to_numpy()
        idx = self.state_at(t)
        out = np.full(idx.shape, np.nan)
        ok = idx >= 0
        out[ok] = m[idx[ok]]
        return out


def book_arrays_of(book: pd.DataFrame | BookArrays) -> BookArrays:
    """:class:`BookArrays` of a book frame (``lobutils.book.replay.reconstruct(...).frame``).

    Rows whose ``status`` (``include_invalid=True``) is not valid become empty books, so no
    order fills against a state the replay does not know. The frame must be ordered by ``ts``.

    Parameters
    ----------
    book : DataFrame or BookArrays
        A book frame ordered by ``ts``; a :class:`BookArrays` is returned unchanged.

    Returns
    -------
    BookArrays
        Contiguous arrays of the frame.

    Raises
    ------
    TypeError
        If ``book`` is neither a frame nor :class:`BookArrays`.
    ValueError
        If the frame is not ordered by ``ts``.

    Examples
    --------
    >>> from lobutils.schema import book_columns
    >>> f = pd.DataFrame([[0, 0, 1, 10.0, 2.0, 11.0, 3.0]], columns=book_columns(1))
    >>> b = book_arrays_of(f)
    >>> b.ts.tolist(), b.ask_qty.tolist(), b.mid().tolist()
    ([0], [[3.0]], [10.5])
    """
    if isinstance(book, BookArrays):
        return book
    if not isinstance(book, pd.DataFrame):
        raise TypeError(f"book must be a book frame or BookArrays, got {type(book).__name__}")
    ts = book["ts"].to_numpy(np.int64)
    if ts.size > 1 and np.any(np.diff(ts) < 0):
        raise ValueError("the book frame is not ordered by ts")
    bp, bq, ap, aq = (np.ascontiguousarray(a) for a in _frame_arrays(book))
    if "status" in book.columns:
        bad = book["status"].to_numpy() != VALID
        if bad.any():
            for a in (bp, ap):
                a[bad] = np.nan
            for a in (bq, aq):
                a[bad] = 0.0
    return BookArrays(np.ascontiguousarray(ts), bp, bq, ap, aq)


def walk_book(px: Any, qty: Any, size: float) -> dict[str, float]:
    """Fill ``size`` units against one side of one book state, best level first.

    Parameters
    ----------
    px, qty : array_like (L,)
        The side's prices and quantities, best first (asks for a buy, bids for a sell).
        NaN prices and zero quantities (missing levels) are skipped.
    size : float
        Units to fill, >= 0.

    Returns
    -------
    dict
        ``filled``, ``unfilled``, ``vwap`` (NaN when nothing filled), ``notional`` (sum of
        ``q * p``), ``inverse_notional`` (sum of ``q / p``: the coin value per USD of contract
        value on an inverse market) and ``levels`` (levels touched).

    Examples
    --------
    >>> walk_book([100.0, 101.0, 102.0], [1.0, 1.0, 5.0], 3.0)["vwap"]
    101.0
    >>> r = walk_book([100.0, 101.0], [1.0, 1.0], 5.0)
    >>> r["filled"], r["unfilled"]
    (2.0, 3.0)
    """
    p = np.ascontiguousarray(px, dtype=np.float64)
    q = np.ascontiguousarray(qty, dtype=np.float64)
    if p.ndim != 1 or p.shape != q.shape:
        raise ValueError("px and qty must be 1-d arrays of the same length")
    if not (np.isfinite(size) and size >= 0):
        raise ValueError(f"size must be finite and >= 0, got {size!r}")
    f, sqp, sqi, rem, used = K.walk_side(p, q, float(size))
    return {
        "filled": float(f),
        "unfilled": float(rem),
        "vwap": float(sqp / f) if f > 0 else math.nan,
        "notional": float(sqp),
        "inverse_notional": float(sqi),
        "levels": int(used),
    }


def qty_for_value(value: float, price: float, contract_value: float | None = None) -> float:
    """Order quantity worth ``value`` quote at ``price``: base units, or whole contracts.

    A shorthand for :meth:`lobutils.markets.Instrument.qty_for_value` of an instrument known
    by its contract value.

    Parameters
    ----------
    value, price : float
        Quote value wanted and price of the base asset, both > 0.
    contract_value : float, optional
        Quote value of one contract (inverse market); None: linear.

    Returns
    -------
    float
        Units: base units, or whole contracts (at least one).

    Examples
    --------
    >>> qty_for_value(10_000.0, 50_000.0), qty_for_value(10_000.0, 50_000.0, contract_value=100.0)
    (0.2, 100.0)
    """
    return Instrument.from_terms(contract_value).qty_for_value(value, price)


# --------------------------------------------------------------------------------------
# configuration and signals
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestConfig:
    """How signals become orders and what they cost.

    Parameters
    ----------
    order_qty : float
        Units (base units, or contracts on an inverse market) per unit of target: a target
        of +1 is a long position of ``order_qty``.
    max_position : float, optional
        Position limit in units (absolute); default none beyond the target.
    max_notional : float, optional
        Inventory limit in quote currency, at the mid known at decision time.
    latency_s : float
        Decision-to-arrival latency (s): the order fills against the last book state at or
        before ``decision + latency``.
    cooldown_s : float
        Minimum time between the decisions of two orders (s).
    taker_fee_bps, maker_fee_bps : float
        Fees in bps of the filled notional. Defaults: Binance spot, regular tier
        (:data:`lobutils.markets.BINANCE_FEES_BPS`; use :meth:`for_market` or
        :meth:`for_instrument`).
    order_type : {"taker", "maker"}
        Walk the book at arrival, or post at the touch and wait for trades through it.
    maker_ttl_s : float
        How long a maker order works before the rest is cancelled (s).
    contract_value : float, optional
        USD per contract on an inverse (COIN-M) market; None for a linear one.
    close_at_end : bool
        Close the final position with a taker order after the last decision.

    Examples
    --------
    >>> cfg = BacktestConfig.for_market("usdm", order_qty=0.1, latency_s=0.05)
    >>> cfg.taker_fee_bps, cfg.maker_fee_bps, cfg.latency_ns
    (5.0, 2.0, 50000000)
    """

    order_qty: float
    max_position: float | None = None
    max_notional: float | None = None
    latency_s: float = 0.1
    cooldown_s: float = 0.0
    taker_fee_bps: float = 10.0
    maker_fee_bps: float = 10.0
    order_type: Literal["taker", "maker"] = "taker"
    maker_ttl_s: float = 5.0
    contract_value: float | None = None
    close_at_end: bool = True

    def __post_init__(self) -> None:
        if not (np.isfinite(self.order_qty) and self.order_qty > 0):
            raise ValueError(f"order_qty must be positive, got {self.order_qty!r}")
        for name in ("max_position", "max_notional", "contract_value"):
            v = getattr(self, name)
            if v is not None and not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be positive or None, got {v!r}")
        for name in ("latency_s", "cooldown_s", "taker_fee_bps", "maker_fee_bps"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {v!r}")
        if not (np.isfinite(self.maker_ttl_s) and self.maker_ttl_s > 0):
            raise ValueError(f"maker_ttl_s must be positive, got {self.maker_ttl_s!r}")
        if self.order_type not in ("taker", "maker"):
            raise ValueError(f"order_type must be 'taker' or 'maker', got {self.order_type!r}")

    @classmethod
    def for_market(cls, market: str, order_qty: float, **kwargs: Any) -> BacktestConfig:
        """A config with the market's default fees (:func:`lobutils.markets.fees_bps`).

        Parameters
        ----------
        market : str
            ``"spot"``, ``"usdm"`` or ``"cm"``.
        order_qty : float
            Units per unit of target.
        **kwargs
            Any other field; they override the fees.

        Returns
        -------
        BacktestConfig
            With the market's fees and contract value.
        """
        maker, taker = fees_bps(market)
        kw = {"maker_fee_bps": maker, "taker_fee_bps": taker} | kwargs
        return cls(order_qty=order_qty, **kw)

    @classmethod
    def for_instrument(cls, inst: Instrument, order_qty: float, **kwargs: Any) -> BacktestConfig:
        """A config with the contract value and the fees of an instrument.

        Parameters
        ----------
        inst : lobutils.markets.Instrument
            The market traded (:func:`lobutils.markets.instrument`).
        order_qty : float
            Units per unit of target.
        **kwargs
            Any other field.

        Returns
        -------
        BacktestConfig
            With the instrument's fees and contract value.

        Examples
        --------
        >>> from lobutils.markets import instrument
        >>> cfg = BacktestConfig.for_instrument(instrument("cm", "btcusd_perp"), order_qty=3.0)
        >>> cfg.contract_value, cfg.taker_fee_bps, cfg.instrument.inverse
        (100.0, 5.0, True)
        """
        terms = {
            "contract_value": inst.contract_value,
            "maker_fee_bps": inst.maker_fee_bps,
            "taker_fee_bps": inst.taker_fee_bps,
        }
        return cls(order_qty=order_qty, **(terms | kwargs))

    @property
    def instrument(self) -> Instrument:
        """The instrument of this config's terms (contract value and fees), which does the
        accounting (:class:`lobutils.markets.Instrument`)."""
        return Instrument.from_terms(self.contract_value, self.maker_fee_bps, self.taker_fee_bps)

    @property
    def latency_ns(self) -> int:
        """``latency_s`` in ns (rounded)."""
        return int(round(self.latency_s * NS_PER_S))

    @property
    def cooldown_ns(self) -> int:
        """``cooldown_s`` in ns (rounded)."""
        return int(round(self.cooldown_s * NS_PER_S))

    @property
    def inverse(self) -> bool:
        """True on an inverse market (asks :attr:`instrument`)."""
        return self.instrument.inverse


def hold_targets(decision_ts: Any, direction: Any, hold_s: float) -> np.ndarray:
    """Entry signals to target positions: take each signal's direction and hold it ``hold_s``.

    A non-zero ``direction[i]`` sets the target to it until ``ts[i] + hold_s`` (a later signal
    extends or flips it); after that the target is 0 (flat). NaN directions count as 0.

    Parameters
    ----------
    decision_ts : array of int64 (n,)
        Decision times (ns), non-decreasing.
    direction : array (n,)
        Entry signal per decision: -1, 0, +1 (or any float); NaN counts as 0.
    hold_s : float
        Holding time in s, > 0.

    Returns
    -------
    numpy.ndarray
        float64 target position per decision.

    Raises
    ------
    ValueError
        If the lengths differ or ``hold_s`` is not positive.

    Examples
    --------
    >>> s = 10**9
    >>> hold_targets(np.arange(6) * s, [1, 0, 0, -1, 0, 0], hold_s=2.0).tolist()
    [1.0, 1.0, 0.0, -1.0, -1.0, 0.0]
    """
    t = _times("decision_ts", decision_ts)
    d = np.nan_to_num(np.asarray(direction, dtype=np.float64), nan=0.0)
    if d.shape != t.shape:
        raise ValueError(f"direction has {d.size} values for {t.size} decision times")
    if not (np.isfinite(hold_s) and hold_s > 0):
        raise ValueError(f"hold_s must be positive, got {hold_s!r}")
    hold = int(round(hold_s * NS_PER_S))
    out = np.zeros(t.size)
    cur, until = 0.0, np.iinfo(np.int64).min
    for i in range(t.size):
        if d[i] != 0.0:
            cur, until = float(d[i]), int(t[i]) + hold
        elif t[i] >= until:
            cur = 0.0
        out[i] = cur
    return out


def asof_values(
    signal_ts: Any, values: Any, decision_ts: Any, max_age_s: float | None = None
) -> np.ndarray:
    """The last signal at or before each decision time (an as-of join, no look-ahead).

    Parameters
    ----------
    signal_ts : array of int64 (n,)
        Times of the signals (ns), non-decreasing: the time at which each was known.
    values : array (n,) or (n, k)
        The signals.
    decision_ts : array of int64 (m,)
        Decision times (ns), non-decreasing.
    max_age_s : float, optional
        A signal older than this at the decision is not used (NaN), e.g. across a gap.

    Returns
    -------
    numpy.ndarray of float (m,) or (m, k)
        NaN where no signal is at or before the decision time (or it is too old).

    Examples
    --------
    Signals every 100 ms (synthetic), decisions every second; the one at 2.05 s is older than
    the 0.5 s allowed at 3 s:

    >>> s = 10**9
    >>> sig_ts = np.array([0.9, 1.0, 1.1, 2.05]) * s
    >>> asof_values(sig_ts.astype(np.int64), [1.0, 2.0, 3.0, 4.0],
    ...             np.arange(4) * s, max_age_s=0.5).tolist()
    [nan, 2.0, nan, nan]
    """
    st = _times("signal_ts", signal_ts)
    dt = _times("decision_ts", decision_ts)
    v = np.asarray(values, dtype=np.float64)
    if v.shape[:1] != st.shape:
        raise ValueError(f"values has {v.shape[0] if v.ndim else 0} rows for {st.size} times")
    idx = np.searchsorted(st, dt, side="right") - 1
    ok = idx >= 0
    if max_age_s is not None:
        ok &= dt - st[np.maximum(idx, 0)] <= int(round(max_age_s * NS_PER_S))
    out = np.full((dt.size, *v.shape[1:]), np.nan)
    out[ok] = v[idx[ok]]
    return out


def proba_forecast(p_down: Any, p_up: Any, scale_bps: float) -> np.ndarray:
    """A down / flat / up classifier's probabilities as a return forecast in bps.

    The expected direction ``p_up - p_down`` (in [-1, 1]) times ``scale_bps``, the typical
    size of a move (e.g. the mean absolute forward return of the training block). Its sign
    is the direction the classifier leans to; ``scale_bps`` only matters against a threshold.

    Parameters
    ----------
    p_down, p_up : array (n,)
        Probabilities of the down and up classes.
    scale_bps : float
        Typical size of a move in bps, > 0 (estimate it on training rows only).

    Returns
    -------
    numpy.ndarray
        float64 forecast per row, bps.

    Raises
    ------
    ValueError
        If ``scale_bps`` is not positive.

    Examples
    --------
    >>> proba_forecast([0.2, 0.6, 0.1], [0.5, 0.1, 0.1], scale_bps=2.0).round(6).tolist()
    [0.6, -1.0, 0.0]
    """
    if not (np.isfinite(scale_bps) and scale_bps > 0):
        raise ValueError(f"scale_bps must be positive, got {scale_bps!r}")
    d = np.asarray(p_up, dtype=np.float64) - np.asarray(p_down, dtype=np.float64)
    return d * float(scale_bps)


def signal_forecasts(
    signals: pd.DataFrame,
    decision_ts: Any,
    scale_bps: float,
    *,
    max_age_s: float | None = None,
) -> np.ndarray:
    """Forecasts (bps) at the decision times from a table of classifier probabilities.

    ``signals`` is one segment's and one model's rows of a signals table (chapter 7's
    ``signals.parquet``: columns ``ts``, ``p_down``, ``p_up``; ``ts`` the time the window's
    last row was known). Each decision takes the last signal at or before it
    (:func:`asof_values`) and turns it into ``(p_up - p_down) * scale_bps``
    (:func:`proba_forecast`); NaN where there is none.

    Parameters
    ----------
    signals : pandas.DataFrame
        Columns ``ts`` (int64 ns), ``p_down`` and ``p_up``.
    decision_ts : array of int64 (m,)
        Decision times (ns), non-decreasing.
    scale_bps : float
        Typical size of a move in bps, > 0 (see :func:`proba_forecast`).
    max_age_s : float, optional
        A signal older than this (s) at the decision is not used.

    Returns
    -------
    numpy.ndarray
        float64 forecast per decision, bps; NaN without a recent enough signal.

    Examples
    --------
    Synthetic probabilities every 100 ms, decisions every second:

    >>> s = 10**9
    >>> sig = pd.DataFrame({"ts": np.arange(1, 30) * s // 10,
    ...                     "p_down": 0.2, "p_up": np.linspace(0.1, 0.7, 29)})
    >>> signal_forecasts(sig, np.arange(4) * s, scale_bps=10.0).round(3).tolist()
    [nan, 0.929, 3.071, 5.0]
    """
    sig = signals.sort_values("ts", kind="stable")
    f = proba_forecast(sig["p_down"].to_numpy(), sig["p_up"].to_numpy(), scale_bps)
    return asof_values(sig["ts"].to_numpy(np.int64), f, decision_ts, max_age_s=max_age_s)


def holding_targets(n: int, size: float = 1.0) -> np.ndarray:
    """Buy ``size`` at the first decision and hold (NaN: no further decision).

    Parameters
    ----------
    n : int
        Number of decisions, >= 1.
    size : float
        Position held, in units of ``order_qty``.

    Returns
    -------
    numpy.ndarray
        ``size`` then NaN.

    Raises
    ------
    ValueError
        If ``n < 1``.

    Examples
    --------
    >>> holding_targets(3).tolist()
    [1.0, nan, nan]
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    out = np.full(n, np.nan)
    out[0] = size
    return out


def _changes(target: np.ndarray) -> np.ndarray:
    """Rows where the (forward-filled, initially 0) target changes."""
    held = pd.Series(target).ffill().fillna(0.0).to_numpy()
    prev = np.concatenate([[0.0], held[:-1]])
    return np.flatnonzero(held != prev)


def random_targets(target: Any, seed: int = 0) -> np.ndarray:
    """Random targets that change position as often as ``target`` does.

    ``target`` (NaN: hold) changes value at ``k`` rows. The random series changes at ``k``
    rows drawn uniformly without replacement; at each it moves to a value drawn uniformly from
    the other values ``target`` takes (e.g. -1, 0, +1), so it never "changes" to where it is.

    Parameters
    ----------
    target : array (n,)
        The model's target positions (NaN: hold).
    seed : int
        Seed of the random generator.

    Returns
    -------
    numpy.ndarray
        float64 random target per decision (all 0 when ``target`` never changes).

    Examples
    --------
    >>> t = np.array([0, 1, 1, -1, -1, 0, 0, 1, 1, 1], dtype=float)
    >>> r = random_targets(t, seed=1)
    >>> int((np.diff(np.concatenate([[0.0], r])) != 0).sum()), set(r.tolist()) <= {-1.0, 0.0, 1.0}
    (4, True)
    """
    t = np.asarray(target, dtype=np.float64)
    rows = _changes(t)
    values = np.unique(np.concatenate([[0.0], t[np.isfinite(t)]]))
    out = np.zeros(t.size)
    if rows.size == 0 or values.size < 2:
        return out
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(t.size, size=rows.size, replace=False))
    cur = 0.0
    for r in picks:
        others = values[values != cur]
        cur = float(rng.choice(others))
        out[r:] = cur
    return out


def _times(name: str, ts: Any) -> np.ndarray:
    t = np.asarray(ts)
    if t.ndim != 1:
        raise ValueError(f"{name} must be 1-d")
    if t.size and t.dtype.kind not in "iu":
        raise ValueError(f"{name} must be int64 ns timestamps, got dtype {t.dtype}")
    t = t.astype(np.int64)
    if t.size > 1 and np.any(np.diff(t) < 0):
        raise ValueError(f"{name} must be non-decreasing")
    return t


# --------------------------------------------------------------------------------------
# the backtest
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """What :func:`run_backtest` returns.

    Attributes
    ----------
    orders : pandas.DataFrame
        One row per order sent: ``decision_ts``, ``arrival_ts``, ``fill_ts`` and ``state_ts``
        (the book state it filled against) in int64 ns; ``decision_idx`` (-1: the closing
        order); ``side`` (+1 buy, -1 sell); ``requested_qty``, ``filled_qty``,
        ``unfilled_qty`` (units, unsigned); ``status`` (filled / partial / unfilled);
        ``maker``; ``vwap`` (the average fill price; harmonic on an inverse market); ``mid``
        and ``touch`` at arrival; ``notional_quote``; ``slippage_bps`` (VWAP against the mid,
        positive = paid), split into ``half_spread_bps`` and ``depth_bps``; ``cost_quote``
        (= ``spread_cost_quote + depth_cost_quote``), ``fee_quote``; ``position`` after the
        fill; ``levels`` (levels walked).
    equity : pandas.DataFrame
        At each mark time ``ts``: ``position``, ``mid``, ``equity`` (net P&L so far, marked to
        the mid), ``gross`` (the same without costs and fees), ``costs`` and ``fees`` so far.
    round_trips : pandas.DataFrame
        From a fill that opens a position (from flat) to the fill that closes or flips it:
        ``open_ts``, ``close_ts``, ``direction``, ``max_qty``, ``notional_quote``,
        ``gross_quote``, ``cost_quote``, ``fee_quote``, ``net_quote``, ``net_bps`` and
        ``gross_bps`` (of ``notional_quote``), ``closed`` (False: still open at the end, marked
        to the last mid).
    summary : dict
        The headline numbers (see :func:`run_backtest`).
    config : BacktestConfig
        The configuration of the run.
    decision_ts, target : numpy.ndarray
        The inputs (target in units of ``order_qty``).
    """

    orders: pd.DataFrame
    equity: pd.DataFrame
    round_trips: pd.DataFrame
    summary: dict[str, Any]
    config: BacktestConfig
    decision_ts: np.ndarray = field(repr=False)
    target: np.ndarray = field(repr=False)


def run_backtest(
    book: pd.DataFrame | BookArrays,
    decision_ts: Any,
    target: Any,
    config: BacktestConfig,
    trades: pd.DataFrame | None = None,
    *,
    end_ts: int | None = None,
    mark_ts: Any | None = None,
) -> BacktestResult:
    """Backtest target positions against the reconstructed book.

    Parameters
    ----------
    book : DataFrame or BookArrays
        Book frame in event time (one row per state, ordered by ``ts``), as deep as the
        orders need: levels beyond the frame are never assumed.
    decision_ts : array of int64 ns
        Decision times, non-decreasing. The target at ``decision_ts[i]`` must use data
        stamped at or before it (the backtest cannot check what the model saw).
    target : array of float
        Wanted position in units of ``config.order_qty`` (``+1`` long, ``-1`` short, ``0``
        flat, any float), NaN for no decision (keep the position). Use :func:`hold_targets`
        to turn entry signals into positions held for a horizon.
    config : BacktestConfig
        Order size, latency, fees, limits and order type.
    trades : DataFrame, optional
        The trades stream (``ts``, ``price``, ``qty``); needed for maker orders.
    end_ts : int, optional
        Decision time of the closing order (default: the last decision time).
    mark_ts : array of int64 ns, optional
        Times of the equity curve (default: the decision times and the fill times).

    Returns
    -------
    BacktestResult
        ``summary`` holds ``net_pnl_quote`` (= ``gross_pnl_quote - spread_cost_quote -
        depth_cost_quote - fees_quote``), ``pnl_bps`` (net P&L in bps of ``capital_quote``,
        the quote value of the largest position the targets allow at the first mid),
        ``net_bps_of_turnover``, ``turnover_quote``, order counts and skips, ``hit_rate`` (share
        of round trips with positive net P&L; ``hit_rate_gross`` before costs),
        ``mean_trade_bps``, ``std_trade_bps``, ``sharpe_per_trade`` (their ratio, per round
        trip, not annualised), ``max_drawdown_quote`` and ``max_drawdown_bps`` (of capital),
        ``unfilled_qty``, ``final_position``, and for inverse markets ``coin_to_quote``.

    Examples
    --------
    Two states (synthetic): the mid rises from 100.5 to 102.5 at 1 s. A long decided at 0 s is
    closed at the end, 2 s, without fees.

    >>> f = pd.DataFrame({"ts": [0, 10**9], "local_ts": [0, 0], "update_id": [1, 2],
    ...     "bid_px_1": [100.0, 102.0], "bid_qty_1": [5.0, 5.0],
    ...     "ask_px_1": [101.0, 103.0], "ask_qty_1": [5.0, 5.0]})
    >>> cfg = BacktestConfig(order_qty=1.0, taker_fee_bps=0.0, latency_s=0.0)
    >>> r = run_backtest(f, [0, 2 * 10**9], [1.0, np.nan], cfg)
    >>> r.orders[["side", "vwap", "mid"]].values.tolist()
    [[1.0, 101.0, 100.5], [-1.0, 102.0, 102.5]]
    >>> r.summary["gross_pnl_quote"], r.summary["net_pnl_quote"]
    (2.0, 1.0)
    """
    b = book_arrays_of(book)
    if b.ts.size == 0:
        raise ValueError("the book is empty")
    dts = _times("decision_ts", decision_ts)
    tgt = np.asarray(target, dtype=np.float64)
    if tgt.shape != dts.shape:
        raise ValueError(f"target has {tgt.size} values for {dts.size} decision times")
    if np.any(np.isinf(tgt)):
        raise ValueError("target must be finite or NaN")
    cfg = config
    inst = cfg.instrument
    dec_mid = b.mid_at(dts)
    sim = _simulate(b, dts, tgt, cfg, _position_caps(cfg, dec_mid), trades, end_ts)
    m0 = float(dec_mid[np.isfinite(dec_mid)][0]) if np.isfinite(dec_mid).any() else math.nan
    conv = inst.to_quote(m0)
    orders, cash_flow = _order_table(sim, b, cfg, conv)
    equity = _equity_curve(b, sim, orders, cash_flow, inst, conv, dts, mark_ts)
    marks = equity["ts"].to_numpy()
    last_mid = float(equity["mid"].iloc[-1]) if len(equity) else math.nan
    trips = _round_trips(orders, inst, conv, last_mid, marks)
    capital = _capital(tgt, cfg, m0)
    summary = _summary(orders, equity, trips, sim, capital, dts.size, inst, conv)
    return BacktestResult(orders, equity, trips, summary, cfg, dts, tgt)


class _Simulation(NamedTuple):
    """What the event kernel returns: one entry per order, and the skip counts."""

    decision_idx: np.ndarray
    decision_ts: np.ndarray
    arrival_ts: np.ndarray
    fill_ts: np.ndarray
    state: np.ndarray
    requested: np.ndarray
    filled: np.ndarray
    qty_price: np.ndarray
    qty_over_price: np.ndarray
    mid: np.ndarray
    touch: np.ndarray
    maker: np.ndarray
    levels: np.ndarray
    status: np.ndarray
    skips: np.ndarray


def _position_caps(cfg: BacktestConfig, dec_mid: np.ndarray) -> np.ndarray:
    """Step 1: the position limit in units at each decision, from the mid known then."""
    cap = np.full(dec_mid.size, np.inf)
    if cfg.max_position is not None:
        cap[:] = cfg.max_position
    if cfg.max_notional is not None:
        lim = cfg.instrument.max_qty_for_value(cfg.max_notional, dec_mid)
        cap = np.minimum(cap, np.where(np.isfinite(lim), lim, 0.0))
    return cap


def _trade_arrays(trades: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The trades stream as sorted arrays (``ts``, ``price``, ``qty``); empty without one."""
    if trades is None or not len(trades):
        return np.empty(0, np.int64), np.empty(0), np.empty(0)
    tr = trades.sort_values("ts", kind="stable")
    return (
        tr["ts"].to_numpy(np.int64),
        tr["price"].to_numpy(np.float64),
        tr["qty"].to_numpy(np.float64),
    )


def _simulate(
    b: BookArrays,
    dts: np.ndarray,
    tgt: np.ndarray,
    cfg: BacktestConfig,
    cap: np.ndarray,
    trades: pd.DataFrame | None,
    end_ts: int | None,
) -> _Simulation:
    """Step 2: replay the decisions through the event kernel (orders, arrivals, fills)."""
    if cfg.order_type == "maker" and trades is None:
        raise ValueError("maker orders need the trades stream (trades=...)")
    t_ts, t_px, t_q = _trade_arrays(trades)
    if end_ts is not None:
        end = int(end_ts)
    else:
        end = int(dts[-1]) if dts.size else int(b.ts[0])
    arrays, skips = K.simulate(
        b.ts,
        b.bid_px,
        b.bid_qty,
        b.ask_px,
        b.ask_qty,
        dts,
        tgt * cfg.order_qty,
        cap,
        np.int64(cfg.latency_ns),
        np.int64(cfg.cooldown_ns),
        cfg.order_type == "maker",
        np.int64(int(round(cfg.maker_ttl_s * NS_PER_S))),
        t_ts,
        t_px,
        t_q,
        bool(cfg.close_at_end),
        np.int64(end),
        float(1e-9 * cfg.order_qty),
    )
    return _Simulation(*arrays, skips)


def _order_table(
    sim: _Simulation, b: BookArrays, cfg: BacktestConfig, conv: float
) -> tuple[pd.DataFrame, np.ndarray]:
    """Step 3: price every fill (VWAP, slippage, cost split, fee) and its cash flow (quote).

    Amounts are kept in the settlement currency by the instrument and converted to quote at
    one fixed rate ``conv`` (1 on a linear market).
    """
    inst = cfg.instrument
    side = np.sign(sim.requested)
    f_abs = np.abs(sim.filled)
    mid, touch = sim.mid, sim.touch
    fee_bps = inst.fee_bps(sim.maker)
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = inst.average_price(f_abs, sim.qty_price, sim.qty_over_price)
        settled = inst.settle_sum(sim.qty_price, sim.qty_over_price) * conv
        cost = side * conv * inst.walk_cost(f_abs, sim.qty_price, sim.qty_over_price, mid)
        spread_cost = side * conv * inst.walk_cost(f_abs, f_abs * touch, f_abs / touch, mid)
        fee = fee_bps / BPS * np.abs(settled)
        cash_flow = -side * settled - fee
        slip = np.where(f_abs > 0, side * (vwap / mid - 1.0) * BPS, np.nan)
        half = np.where(f_abs > 0, side * (touch / mid - 1.0) * BPS, np.nan)
    orders = pd.DataFrame(
        {
            "decision_ts": sim.decision_ts,
            "arrival_ts": sim.arrival_ts,
            "fill_ts": sim.fill_ts,
            "state_ts": b.ts[sim.state],
            "decision_idx": sim.decision_idx,
            "side": side,
            "requested_qty": np.abs(sim.requested),
            "filled_qty": f_abs,
            "unfilled_qty": np.abs(sim.requested) - f_abs,
            "status": _STATUS[sim.status],
            "maker": sim.maker,
            "vwap": vwap,
            "mid": mid,
            "touch": touch,
            "notional_quote": inst.fill_notional(f_abs, sim.qty_price),
            "slippage_bps": slip,
            "half_spread_bps": half,
            "depth_bps": slip - half,
            "cost_quote": cost,
            "spread_cost_quote": spread_cost,
            "depth_cost_quote": cost - spread_cost,
            "fee_quote": fee,
            "position": np.cumsum(sim.filled),
            "levels": sim.levels,
        }
    )
    return orders, cash_flow


def _equity_curve(
    b: BookArrays,
    sim: _Simulation,
    orders: pd.DataFrame,
    cash_flow: np.ndarray,
    inst: Instrument,
    conv: float,
    dts: np.ndarray,
    mark_ts: Any | None,
) -> pd.DataFrame:
    """Step 4: equity = cash + position * value(mid) at each mark time (quote)."""
    f_t = sim.fill_ts
    marks = np.unique(np.concatenate([dts, f_t])) if mark_ts is None else _times("mark_ts", mark_ts)
    j = np.searchsorted(f_t, marks, side="right") - 1

    def at(a: np.ndarray) -> np.ndarray:
        return np.where(j >= 0, a[np.maximum(j, 0)] if a.size else 0.0, 0.0)

    costs_cum = at(np.cumsum(orders["cost_quote"].to_numpy()))
    fees_cum = at(np.cumsum(orders["fee_quote"].to_numpy()))
    m_marks = b.mid_at(marks)
    pos_m = at(orders["position"].to_numpy())
    eq = at(np.cumsum(cash_flow)) + np.where(
        pos_m != 0, pos_m * inst.settle_value(m_marks) * conv, 0.0
    )
    return pd.DataFrame(
        {
            "ts": marks,
            "position": pos_m,
            "mid": m_marks,
            "equity": eq,
            "gross": eq + costs_cum + fees_cum,
            "costs": costs_cum,
            "fees": fees_cum,
        }
    )


def _capital(tgt: np.ndarray, cfg: BacktestConfig, m0: float) -> float:
    """Step 5: the quote value of the largest position the targets and limits allow."""
    finite_t = np.abs(tgt[np.isfinite(tgt)])
    max_units = float(finite_t.max() * cfg.order_qty) if finite_t.size else 0.0
    if cfg.max_position is not None:
        max_units = min(max_units, cfg.max_position)
    capital = cfg.instrument.quote_value(m0, max_units)
    if cfg.max_notional is not None:
        capital = min(capital, cfg.max_notional)
    return capital


def _summary(
    orders: pd.DataFrame,
    equity: pd.DataFrame,
    trips: pd.DataFrame,
    sim: _Simulation,
    capital: float,
    n_decisions: int,
    inst: Instrument,
    conv: float,
) -> dict[str, Any]:
    """Step 6: the headline numbers of a run (see :func:`run_backtest`)."""
    eq = equity["equity"].to_numpy()
    f_abs = orders["filled_qty"].to_numpy()
    cost = orders["cost_quote"].to_numpy()
    spread_cost = orders["spread_cost_quote"].to_numpy()
    slip = orders["slippage_bps"].to_numpy()
    net = float(eq[-1]) if eq.size else 0.0
    total_cost = float(cost.sum())
    total_fee = float(orders["fee_quote"].sum())
    turnover = float(orders["notional_quote"].sum())
    dd = max_drawdown(eq)
    tb = trips["net_bps"].to_numpy() if len(trips) else np.empty(0)
    sd = float(np.std(tb, ddof=1)) if tb.size > 1 else math.nan
    position = orders["position"].to_numpy()

    def per_capital(v: float) -> float:
        return v / capital * BPS if capital > 0 else math.nan

    return {
        "n_decisions": int(n_decisions),
        "n_orders": len(orders),
        "n_fills": int((f_abs > 0).sum()),
        "n_partial": int((sim.status == K.PARTIAL).sum()),
        "n_unfilled": int((sim.status == K.UNFILLED).sum()),
        "n_skipped_cooldown": int(sim.skips[K.SKIP_COOLDOWN]),
        "n_skipped_busy": int(sim.skips[K.SKIP_BUSY]),
        "n_skipped_no_book": int(sim.skips[K.SKIP_NO_BOOK]),
        "n_round_trips": len(trips),
        "turnover_quote": turnover,
        "capital_quote": capital,
        "gross_pnl_quote": net + total_cost + total_fee,
        "spread_cost_quote": float(spread_cost.sum()),
        "depth_cost_quote": float((cost - spread_cost).sum()),
        "fees_quote": total_fee,
        "net_pnl_quote": net,
        "pnl_bps": per_capital(net),
        "gross_pnl_bps": per_capital(net + total_cost + total_fee),
        "net_bps_of_turnover": net / turnover * BPS if turnover > 0 else math.nan,
        "mean_trade_bps": float(tb.mean()) if tb.size else math.nan,
        "std_trade_bps": sd,
        "sharpe_per_trade": float(tb.mean() / sd) if tb.size > 1 and sd > 0 else math.nan,
        "hit_rate": float(np.mean(tb > 0)) if tb.size else math.nan,
        "hit_rate_gross": float(np.mean(trips["gross_quote"] > 0)) if len(trips) else math.nan,
        "mean_slippage_bps": float(np.nanmean(slip)) if (f_abs > 0).any() else math.nan,
        "max_drawdown_quote": dd,
        "max_drawdown_bps": per_capital(dd),
        "unfilled_qty": float(orders["unfilled_qty"].sum()),
        "final_position": float(position[-1]) if position.size else 0.0,
        "coin_to_quote": conv if inst.inverse else None,
    }


def _round_trips(
    orders: pd.DataFrame, inst: Instrument, conv: float, last_mid: float, marks: np.ndarray
) -> pd.DataFrame:
    """Cut the fills into round trips (flat -> ... -> flat, a flip closes one and opens one).

    A trip's gross P&L is its position marked to the mid from fill to fill; it carries the
    costs and fees of its fills, a flipping fill's split in proportion to the quantities that
    close and open.
    """
    cols = [
        "open_ts",
        "close_ts",
        "direction",
        "max_qty",
        "notional_quote",
        "gross_quote",
        "cost_quote",
        "fee_quote",
        "net_quote",
        "net_bps",
        "gross_bps",
        "closed",
    ]
    rows: list[dict[str, Any]] = []
    pos = 0.0
    trip: dict[str, Any] | None = None
    prev_v = 0.0
    tol = 1e-12

    f_t = orders["fill_ts"].to_numpy()
    filled = (orders["side"] * orders["filled_qty"]).to_numpy()
    mid = orders["mid"].to_numpy()
    cost = orders["cost_quote"].to_numpy()
    fee = orders["fee_quote"].to_numpy()

    def value(m: np.ndarray) -> np.ndarray:
        return inst.settle_value(m) * conv

    def unit_notional(m: float) -> float:
        return inst.quote_value(m, 1.0)

    def open_trip(k: int, qty: float, share: float) -> dict[str, Any]:
        return {
            "open_ts": int(f_t[k]),
            "direction": 1.0 if qty > 0 else -1.0,
            "max_qty": abs(qty),
            "notional_quote": abs(qty) * unit_notional(mid[k]),
            "gross_quote": 0.0,
            "cost_quote": share * cost[k],
            "fee_quote": share * fee[k],
        }

    def close_trip(tr: dict[str, Any], ts: int, closed: bool) -> None:
        tr["close_ts"] = ts
        tr["closed"] = closed
        tr["net_quote"] = tr["gross_quote"] - tr["cost_quote"] - tr["fee_quote"]
        n = tr["notional_quote"]
        tr["net_bps"] = tr["net_quote"] / n * BPS if n > 0 else math.nan
        tr["gross_bps"] = tr["gross_quote"] / n * BPS if n > 0 else math.nan
        rows.append(tr)

    for k in range(len(filled)):
        q = float(filled[k])
        if q == 0.0:
            continue
        v = float(value(np.array([mid[k]]))[0])
        if trip is not None:
            trip["gross_quote"] += pos * (v - prev_v)
        prev_v = v
        new = pos + q
        if trip is None:
            trip = open_trip(k, new, 1.0)
        elif abs(new) <= tol * max(abs(pos), 1.0):
            trip["cost_quote"] += cost[k]
            trip["fee_quote"] += fee[k]
            close_trip(trip, int(f_t[k]), True)
            trip, new = None, 0.0
        elif np.sign(new) == np.sign(pos):
            trip["cost_quote"] += cost[k]
            trip["fee_quote"] += fee[k]
            if abs(new) > trip["max_qty"]:
                trip["notional_quote"] += (abs(new) - trip["max_qty"]) * unit_notional(mid[k])
                trip["max_qty"] = abs(new)
        else:
            share = abs(pos) / abs(q)
            trip["cost_quote"] += share * cost[k]
            trip["fee_quote"] += share * fee[k]
            close_trip(trip, int(f_t[k]), True)
            trip = open_trip(k, new, 1.0 - share)
        pos = new
    if trip is not None:
        if np.isfinite(last_mid):
            v = float(value(np.array([last_mid]))[0])
            trip["gross_quote"] += pos * (v - prev_v)
        close_trip(trip, int(marks[-1]) if len(marks) else trip["open_ts"], False)
    return pd.DataFrame(rows, columns=cols)


def max_drawdown(equity: Any) -> float:
    """Largest fall of an equity curve from its running peak (the curve starts from 0).

    Parameters
    ----------
    equity : array
        Cumulative P&L (NaN ignored), any currency.

    Returns
    -------
    float
        Largest peak-to-trough fall, >= 0, in the units of ``equity``.

    Examples
    --------
    >>> max_drawdown([1.0, 3.0, 0.5, 2.0, -1.0, 4.0])
    4.0
    """
    e = np.asarray(equity, dtype=np.float64)
    e = e[np.isfinite(e)]
    if e.size == 0:
        return 0.0
    peak = np.maximum.accumulate(np.concatenate([[0.0], e]))
    return float(np.max(peak[1:] - e))


# --------------------------------------------------------------------------------------
# benchmarks
# --------------------------------------------------------------------------------------


def perfect_foresight_targets(
    result: BacktestResult, book: pd.DataFrame | BookArrays
) -> np.ndarray:
    """The perfect-foresight bound at the model's trade times.

    At each decision where the model sent an order, the target is the full position (the
    largest the model held, in units of ``order_qty``) in the direction of the mid's move from
    that order's arrival to the next order's arrival (the closing order's, or the last mark);
    0 if the mid does not move. Everywhere else NaN (hold). It looks ahead by construction:
    a bound, not a strategy.

    Gross of costs, no strategy that changes its position only at those times, with positions
    no larger, earns more (each interval's mid move is taken in full and in the right
    direction).

    Parameters
    ----------
    result : BacktestResult
        The model's run.
    book : DataFrame or BookArrays
        The book it ran on.

    Returns
    -------
    numpy.ndarray
        float64 target per decision: ``+-q`` or 0 where the model sent an order, NaN elsewhere.

    Examples
    --------
    >>> f = pd.DataFrame({"ts": [0, 10**9, 2 * 10**9], "local_ts": [0] * 3, "update_id": [1, 2, 3],
    ...     "bid_px_1": [100.0, 102.0, 99.0], "bid_qty_1": [9.0] * 3,
    ...     "ask_px_1": [101.0, 103.0, 100.0], "ask_qty_1": [9.0] * 3})
    >>> cfg = BacktestConfig(order_qty=1.0, latency_s=0.0)
    >>> model = run_backtest(f, [0, 10**9, 2 * 10**9], [-1.0, 1.0, np.nan], cfg)
    >>> perfect_foresight_targets(model, f).tolist()
    [1.0, -1.0, nan]
    """
    b = book_arrays_of(book)
    o = result.orders
    sent = o[o["decision_idx"] >= 0]
    out = np.full(result.decision_ts.size, np.nan)
    if sent.empty:
        return out
    arr = sent["arrival_ts"].to_numpy(np.int64)
    closing = o[o["decision_idx"] < 0]
    last = int(closing["arrival_ts"].iloc[0]) if len(closing) else int(result.equity["ts"].iloc[-1])
    ends = np.concatenate([arr[1:], [max(last, int(arr[-1]))]])
    move = b.mid_at(ends) - b.mid_at(arr)
    q = float(np.abs(o["position"]).max()) / result.config.order_qty if len(o) else 1.0
    q = q if q > 0 else 1.0
    out[sent["decision_idx"].to_numpy()] = np.sign(np.nan_to_num(move)) * q
    return out


@dataclass(frozen=True, eq=False)
class Comparison:
    """:func:`compare_strategies`: one summary row per run, and the runs themselves.

    ``table`` has the columns of :attr:`BacktestResult.summary` plus ``strategy`` (``model``,
    ``holding``, ``random``, ``perfect_foresight``) and ``seed`` (random runs; -1 otherwise).
    ``results`` maps ``"model"``, ``"holding"``, ``"perfect_foresight"`` and
    ``"random_<seed>"`` to their :class:`BacktestResult`.

    Parameters
    ----------
    table : pandas.DataFrame
        One summary row per run.
    results : dict of str to BacktestResult
        The runs by name.
    """

    table: pd.DataFrame
    results: dict[str, BacktestResult] = field(repr=False)


def compare_strategies(
    book: pd.DataFrame | BookArrays,
    decision_ts: Any,
    target: Any,
    config: BacktestConfig,
    trades: pd.DataFrame | None = None,
    *,
    seeds: Sequence[int] | int = 10,
    holding_size: float | None = None,
) -> Comparison:
    """Backtest a model's targets next to holding, random targets and perfect foresight.

    All runs share the book, decision times and ``config`` (latency, fees, limits,
    cooldown). Holding buys ``holding_size`` (default: the largest absolute target) at the
    first decision and closes at the end; the random runs use :func:`random_targets` with
    each seed; perfect foresight uses :func:`perfect_foresight_targets` on the model's run,
    always as a taker.

    Parameters
    ----------
    book : DataFrame or BookArrays
        Book in event time, ordered by ``ts``.
    decision_ts : array of int64
        Decision times (ns), non-decreasing.
    target : array of float
        The model's target positions (units of ``config.order_qty``; NaN: hold).
    config : BacktestConfig
        Shared by every run.
    trades : DataFrame, optional
        The trades stream (for maker orders).
    seeds : sequence of int or int
        Seeds of the random runs; an int ``k`` means ``range(k)``.
    holding_size : float, optional
        Position of the holding run; default the largest absolute target.

    Returns
    -------
    Comparison
        The summary table and every run.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 200
    >>> mid = 100 + np.cumsum(rng.normal(0, 0.05, n))
    >>> f = pd.DataFrame({"ts": np.arange(n) * 10**9, "local_ts": 0, "update_id": np.arange(n),
    ...     "bid_px_1": mid - 0.01, "bid_qty_1": 50.0, "ask_px_1": mid + 0.01, "ask_qty_1": 50.0})
    >>> tgt = hold_targets(f["ts"].to_numpy(), np.sign(rng.normal(size=n)), hold_s=5.0)
    >>> cmp = compare_strategies(f, f["ts"].to_numpy(), tgt, BacktestConfig(order_qty=1.0),
    ...                          seeds=3)
    >>> cmp.table["strategy"].tolist()
    ['model', 'holding', 'perfect_foresight', 'random', 'random', 'random']
    >>> pf = cmp.table.set_index("strategy")["gross_pnl_quote"]
    >>> bool(pf["perfect_foresight"] >= pf["model"])
    True
    """
    b = book_arrays_of(book)
    dts = _times("decision_ts", decision_ts)
    tgt = np.asarray(target, dtype=np.float64)
    seed_list = list(range(seeds)) if isinstance(seeds, int | np.integer) else list(seeds)
    results: dict[str, BacktestResult] = {}
    rows = []

    def run(name: str, t: np.ndarray, cfg: BacktestConfig, seed: int = -1) -> None:
        r = run_backtest(b, dts, t, cfg, trades)
        results[name] = r
        rows.append(
            {"strategy": name.split("_")[0] if seed >= 0 else name, "seed": seed} | r.summary
        )

    run("model", tgt, config)
    finite = np.abs(tgt[np.isfinite(tgt)])
    size = (
        holding_size if holding_size is not None else (float(finite.max()) if finite.size else 1.0)
    )
    if dts.size:
        run("holding", holding_targets(dts.size, size if size > 0 else 1.0), config)
    taker = replace(config, order_type="taker")
    run("perfect_foresight", perfect_foresight_targets(results["model"], b), taker)
    for s in seed_list:
        run(f"random_{s}", random_targets(tgt, seed=int(s)), config, seed=int(s))
    return Comparison(pd.DataFrame(rows), results)
