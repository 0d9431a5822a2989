"""Private numba kernels of :mod:`lobutils.trading.backtest` and :mod:`lobutils.trading.execution`.

Each compiled kernel (``name``) sits next to a pure-Python reference (``name_py``) that does the
same thing in the plainest way: a loop over price levels, a loop over decisions.
``tests/test_backtest.py`` checks with hypothesis that the two agree. The kernels trust their
inputs (sorted times, float64 arrays, one row per book state); the public functions validate.

Book sides are arrays of shape ``(N, L)``: level 1 (the best) first, a missing level has a NaN
price or a zero quantity and is skipped.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "FILLED",
    "N_SKIP",
    "PARTIAL",
    "SKIP_BUSY",
    "SKIP_COOLDOWN",
    "SKIP_NO_BOOK",
    "UNFILLED",
    "execute_schedules",
    "execute_schedules_py",
    "simulate",
    "simulate_py",
    "walk_many",
    "walk_side",
    "walk_side_py",
]

# order status codes of ``simulate``
FILLED = 0
PARTIAL = 1
UNFILLED = 2

# why a decision did not become an order (counters returned by ``simulate``)
SKIP_COOLDOWN = 0
SKIP_BUSY = 1
SKIP_NO_BOOK = 2
N_SKIP = 3


# --------------------------------------------------------------------------------------
# walking one side of the book
# --------------------------------------------------------------------------------------


@njit(cache=True)
def walk_side(px, qty, size):
    """Take ``size`` units from one side ``(L,)``, best level first.

    Returns ``(filled, sum_qp, sum_q_over_p, remaining, levels_used)``: the units filled, the
    sums of ``q * p`` and ``q / p`` over the fills (quote notional of a linear market; coin
    notional per unit of contract value of an inverse one), what the visible levels could
    not fill (exactly 0.0 when they could), and the number of levels touched.

    Parameters
    ----------
    px, qty : numpy.ndarray
        Prices and quantities of one side, shape ``(L,)``, best level first.
    size : float
        Units to take, ``>= 0``.

    Returns
    -------
    filled : float
        Units filled.
    sum_qp, sum_q_over_p : float
        Sums of ``q * p`` and ``q / p`` over the fills.
    remaining : float
        Units the visible levels could not fill (exactly 0.0 when they could).
    levels_used : int
        Levels touched.
    """
    remaining = size
    filled = 0.0
    sqp = 0.0
    sqi = 0.0
    used = 0
    for j in range(px.shape[0]):
        if remaining <= 0.0:
            break
        p = px[j]
        q = qty[j]
        if not (q > 0.0) or not (p > 0.0):  # NaN-safe: missing levels are skipped
            continue
        if q >= remaining:
            take = remaining
            remaining = 0.0
        else:
            take = q
            remaining -= q
        filled += take
        sqp += take * p
        sqi += take / p
        used += 1
    return filled, sqp, sqi, remaining, used


def walk_side_py(px, qty, size):
    """Pure-Python reference of :func:`walk_side`: a plain loop over the levels.

    Examples
    --------
    >>> filled, sum_qp, sum_q_over_p, remaining, used = walk_side_py([100.0, 101.0], [1.0, 5.0], 2.0)
    >>> filled, sum_qp, round(sum_q_over_p, 6), remaining, used
    (2.0, 201.0, 0.019901, 0.0, 2)

    Parameters
    ----------
    px, qty : numpy.ndarray
        Prices and quantities of one side, shape ``(L,)``, best level first.
    size : float
        Units to take, ``>= 0``.

    Returns
    -------
    filled : float
        Units filled.
    sum_qp, sum_q_over_p : float
        Sums of ``q * p`` and ``q / p`` over the fills.
    remaining : float
        Units the visible levels could not fill (exactly 0.0 when they could).
    levels_used : int
        Levels touched.
    """
    remaining = float(size)
    filled = sqp = sqi = 0.0
    used = 0
    for p, q in zip(list(px), list(qty), strict=True):
        if remaining <= 0.0:
            break
        p, q = float(p), float(q)
        if math.isnan(p) or math.isnan(q) or q <= 0.0 or p <= 0.0:
            continue
        take = min(q, remaining)
        remaining = 0.0 if q >= remaining else remaining - q
        filled += take
        sqp += take * p
        sqi += take / p
        used += 1
    return filled, sqp, sqi, remaining, used


@njit(cache=True)
def walk_many(px, qty, rows, sizes):
    """:func:`walk_side` for many (book row, size) pairs: arrays of filled, sum_qp, sum_q/p,
    remaining. A row of -1 (no book yet) fills nothing.

    Parameters
    ----------
    px, qty : numpy.ndarray
        One side of the book, shape ``(N, L)``.
    rows : numpy.ndarray
        int64 book row of each walk; -1 for none.
    sizes : numpy.ndarray
        float64 units to take per walk.

    Returns
    -------
    filled, sum_qp, sum_q_over_p, remaining : numpy.ndarray
        float64 per walk, as :func:`walk_side` returns them.
    """
    n = rows.shape[0]
    filled = np.zeros(n)
    sqp = np.zeros(n)
    sqi = np.zeros(n)
    rem = np.zeros(n)
    for i in range(n):
        if rows[i] < 0:
            rem[i] = sizes[i]
            continue
        f, a, b, r, _ = walk_side(px[rows[i]], qty[rows[i]], sizes[i])
        filled[i] = f
        sqp[i] = a
        sqi[i] = b
        rem[i] = r
    return filled, sqp, sqi, rem


# --------------------------------------------------------------------------------------
# the event loop of the backtest
# --------------------------------------------------------------------------------------


@njit(cache=True)
def _last_at_or_before(ts, t):
    """Index of the last ``ts <= t`` (binary search), -1 if none."""
    return np.searchsorted(ts, t, side="right") - 1


def _last_at_or_before_py(ts, t):
    """Pure-Python reference of :func:`_last_at_or_before`: a plain scan."""
    s = -1
    for idx, x in enumerate(ts):
        if x <= t:
            s = idx
        else:
            break
    return s


@njit(cache=True)
def simulate(
    book_ts,
    bid_px,
    bid_qty,
    ask_px,
    ask_qty,
    dec_ts,
    target,
    cap,
    latency,
    cooldown,
    maker,
    ttl,
    trade_ts,
    trade_px,
    trade_qty,
    close_at_end,
    end_ts,
    min_qty,
):
    """Turn target positions into orders and fill them against the book at arrival.

    ``target[i]`` is the wanted position (units) at decision ``i`` (NaN: no decision), clipped
    to ``[-cap[i], cap[i]]``. An order for the difference to the current position is sent at
    ``dec_ts[i]`` unless it is within ``cooldown`` of the previous order's decision or an
    earlier order is still in flight or working (``dec_ts[i] < busy_until``). It arrives at
    ``dec_ts[i] + latency`` and

    - as a taker (``maker=False``) walks the last book state at or before its arrival;
    - as a maker posts at the best price of its side in that state and is filled by the later
      trades that print strictly through that price, up to their size, within ``ttl`` of its
      arrival; what is left is cancelled.

    With ``close_at_end`` a non-zero position is closed by a taker order decided at
    ``max(end_ts, busy_until)`` (ignoring the cooldown; decision index -1).

    Returns the order arrays ``(dec_idx, dec_t, arr_t, fill_t, state, requested, filled,
    sum_qp, sum_q_over_p, mid, touch, is_maker, levels, status)`` cut to the number of orders,
    and the skip counters (indexed by the ``SKIP_*`` codes).

    Parameters
    ----------
    book_ts : numpy.ndarray
        int64 times (ns) of the book states, sorted.
    bid_px, bid_qty, ask_px, ask_qty : numpy.ndarray
        float64 book sides, shape ``(N, L)``.
    dec_ts : numpy.ndarray
        int64 decision times (ns), sorted.
    target : numpy.ndarray
        float64 wanted position (units) per decision; NaN: no decision.
    cap : numpy.ndarray
        float64 largest absolute position (units) per decision.
    latency : int
        Decision-to-arrival delay, ns.
    cooldown : int
        Least time between two orders' decisions, ns.
    maker : bool
        Post at the touch instead of crossing the spread.
    ttl : int
        Life of a maker order after its arrival, ns.
    trade_ts, trade_px, trade_qty : numpy.ndarray
        The trades (int64 ns, float64) that fill maker orders, sorted by time.
    close_at_end : bool
        Close a position left at the end with a taker order.
    end_ts : int
        Time (ns) of that closing decision, at the earliest.
    min_qty : float
        Order differences up to this size (units) are not sent.

    Returns
    -------
    orders : tuple of numpy.ndarray
        ``(dec_idx, dec_t, arr_t, fill_t, state, requested, filled, sum_qp, sum_q_over_p, mid,
        touch, is_maker, levels, status)``, one entry per order sent; ``requested`` and
        ``filled`` are signed units, times int64 ns, ``status`` a ``FILLED``/``PARTIAL``/
        ``UNFILLED`` code.
    skips : numpy.ndarray
        int64 counts of the decisions not sent, indexed by the ``SKIP_*`` codes.
    """
    m = dec_ts.shape[0]
    nmax = m + 1
    o_dec = np.empty(nmax, np.int64)
    o_dts = np.empty(nmax, np.int64)
    o_arr = np.empty(nmax, np.int64)
    o_fill = np.empty(nmax, np.int64)
    o_state = np.empty(nmax, np.int64)
    o_req = np.empty(nmax)
    o_filled = np.empty(nmax)
    o_sqp = np.empty(nmax)
    o_sqi = np.empty(nmax)
    o_mid = np.empty(nmax)
    o_touch = np.empty(nmax)
    o_maker = np.empty(nmax, np.bool_)
    o_levels = np.empty(nmax, np.int64)
    o_status = np.empty(nmax, np.int64)
    skips = np.zeros(N_SKIP, np.int64)

    n_tr = trade_ts.shape[0]
    pos = 0.0
    has_last = False
    last_dec = np.int64(0)
    busy_until = np.iinfo(np.int64).min
    k = 0
    for step in range(m + 1):
        if step < m:
            i = step
            t_want = target[i]
            if math.isnan(t_want):
                continue
            c = cap[i]
            if t_want > c:
                t_want = c
            elif t_want < -c:
                t_want = -c
            q = t_want - pos
            if abs(q) <= min_qty:
                continue
            d = dec_ts[i]
            if has_last and d - last_dec < cooldown:
                skips[SKIP_COOLDOWN] += 1
                continue
            if d < busy_until:
                skips[SKIP_BUSY] += 1
                continue
            as_maker = maker
        else:
            if not close_at_end or abs(pos) <= min_qty:
                break
            i = -1
            q = -pos
            d = end_ts if end_ts > busy_until else busy_until
            as_maker = False
        arr = d + latency
        s = _last_at_or_before(book_ts, arr)
        if s < 0:
            skips[SKIP_NO_BOOK] += 1
            continue
        bb = bid_px[s, 0]
        ba = ask_px[s, 0]
        if not (bb > 0.0) or not (ba > 0.0):
            skips[SKIP_NO_BOOK] += 1
            continue
        mid = 0.5 * (bb + ba)
        side = 1.0 if q > 0.0 else -1.0
        size = abs(q)
        if not as_maker:
            if side > 0.0:
                f, sqp, sqi, rem, used = walk_side(ask_px[s], ask_qty[s], size)
                touch = ba
            else:
                f, sqp, sqi, rem, used = walk_side(bid_px[s], bid_qty[s], size)
                touch = bb
            fill_t = arr
            busy_until = arr
        else:
            touch = bb if side > 0.0 else ba
            rem = size
            fill_t = arr + ttl
            j = np.searchsorted(trade_ts, arr, side="right")
            while j < n_tr and trade_ts[j] <= arr + ttl and rem > 0.0:
                through = trade_px[j] < touch if side > 0.0 else trade_px[j] > touch
                if through and trade_qty[j] > 0.0:
                    if trade_qty[j] >= rem:
                        rem = 0.0
                    else:
                        rem -= trade_qty[j]
                    fill_t = trade_ts[j]
                j += 1
            f = size - rem
            busy_until = fill_t if rem <= 0.0 else arr + ttl
            if f == 0.0:
                fill_t = arr + ttl
            sqp = f * touch
            sqi = f / touch
            used = 1 if f > 0.0 else 0
        o_dec[k] = i
        o_dts[k] = d
        o_arr[k] = arr
        o_fill[k] = fill_t
        o_state[k] = s
        o_req[k] = side * size
        o_filled[k] = side * f
        o_sqp[k] = sqp
        o_sqi[k] = sqi
        o_mid[k] = mid
        o_touch[k] = touch
        o_maker[k] = as_maker
        o_levels[k] = used
        o_status[k] = FILLED if rem <= 0.0 else (UNFILLED if f == 0.0 else PARTIAL)
        k += 1
        pos += side * f
        if i >= 0:
            has_last = True
            last_dec = d
    return (
        o_dec[:k],
        o_dts[:k],
        o_arr[:k],
        o_fill[:k],
        o_state[:k],
        o_req[:k],
        o_filled[:k],
        o_sqp[:k],
        o_sqi[:k],
        o_mid[:k],
        o_touch[:k],
        o_maker[:k],
        o_levels[:k],
        o_status[:k],
    ), skips


def simulate_py(
    book_ts,
    bid_px,
    bid_qty,
    ask_px,
    ask_qty,
    dec_ts,
    target,
    cap,
    latency,
    cooldown,
    maker,
    ttl,
    trade_ts,
    trade_px,
    trade_qty,
    close_at_end,
    end_ts,
    min_qty,
):
    """Pure-Python reference of :func:`simulate` (taker and maker orders), in plain loops.

    Returns a list of order dicts and the skip counters.

    Parameters
    ----------
    book_ts : numpy.ndarray
        int64 times (ns) of the book states, sorted.
    bid_px, bid_qty, ask_px, ask_qty : numpy.ndarray
        float64 book sides, shape ``(N, L)``.
    dec_ts : numpy.ndarray
        int64 decision times (ns), sorted.
    target : numpy.ndarray
        float64 wanted position (units) per decision; NaN: no decision.
    cap : numpy.ndarray
        float64 largest absolute position (units) per decision.
    latency : int
        Decision-to-arrival delay, ns.
    cooldown : int
        Least time between two orders' decisions, ns.
    maker : bool
        Post at the touch instead of crossing the spread.
    ttl : int
        Life of a maker order after its arrival, ns.
    trade_ts, trade_px, trade_qty : numpy.ndarray
        The trades (int64 ns, float64) that fill maker orders, sorted by time.
    close_at_end : bool
        Close a position left at the end with a taker order.
    end_ts : int
        Time (ns) of that closing decision, at the earliest.
    min_qty : float
        Order differences up to this size (units) are not sent.

    Returns
    -------
    orders : list of dict
        One dict per order, keyed like the arrays :func:`simulate` returns.
    skips : list of int
        Counts of the decisions not sent, indexed by the ``SKIP_*`` codes.
    """
    book_ts = [int(x) for x in book_ts]
    orders = []
    skips = [0] * N_SKIP
    pos = 0.0
    last_dec = None
    busy_until = None
    steps = [(i, False) for i in range(len(dec_ts))] + [(-1, True)]
    for i, closing in steps:
        if not closing:
            want = float(target[i])
            if math.isnan(want):
                continue
            want = max(-float(cap[i]), min(float(cap[i]), want))
            q = want - pos
            if abs(q) <= min_qty:
                continue
            d = int(dec_ts[i])
            if last_dec is not None and d - last_dec < cooldown:
                skips[SKIP_COOLDOWN] += 1
                continue
            if busy_until is not None and d < busy_until:
                skips[SKIP_BUSY] += 1
                continue
            as_maker = bool(maker)
        else:
            if not close_at_end or abs(pos) <= min_qty:
                break
            q = -pos
            d = int(end_ts) if busy_until is None else max(int(end_ts), busy_until)
            as_maker = False
        arr = d + int(latency)
        s = _last_at_or_before_py(book_ts, arr)
        if s < 0 or not (bid_px[s][0] > 0.0) or not (ask_px[s][0] > 0.0):
            skips[SKIP_NO_BOOK] += 1
            continue
        bb, ba = float(bid_px[s][0]), float(ask_px[s][0])
        mid = 0.5 * (bb + ba)
        side = 1.0 if q > 0 else -1.0
        size = abs(q)
        if not as_maker:
            px, qt = (ask_px[s], ask_qty[s]) if side > 0 else (bid_px[s], bid_qty[s])
            f, sqp, sqi, rem, used = walk_side_py(px, qt, size)
            touch = ba if side > 0 else bb
            fill_t = arr
            busy_until = arr
        else:
            touch = bb if side > 0 else ba
            rem = size
            fill_t = arr + int(ttl)
            for tt, tp, tq in zip(trade_ts, trade_px, trade_qty, strict=True):
                if tt <= arr:
                    continue
                if tt > arr + ttl or rem <= 0.0:
                    break
                through = (side > 0 and tp < touch) or (side < 0 and tp > touch)
                if through and tq > 0.0:
                    rem = 0.0 if tq >= rem else rem - float(tq)
                    fill_t = int(tt)
            f = size - rem
            busy_until = fill_t if rem <= 0.0 else arr + int(ttl)
            if f == 0.0:
                fill_t = arr + int(ttl)
            sqp, sqi = f * touch, f / touch
            used = 1 if f > 0 else 0
        orders.append(
            dict(
                dec_idx=-1 if closing else i,
                dec_t=d,
                arr_t=arr,
                fill_t=fill_t,
                state=s,
                requested=side * size,
                filled=side * f,
                sum_qp=sqp,
                sum_q_over_p=sqi,
                mid=mid,
                touch=touch,
                is_maker=as_maker,
                levels=used,
                status=FILLED if rem <= 0 else (UNFILLED if f == 0 else PARTIAL),
            )
        )
        pos += side * f
        if not closing:
            last_dec = d
    return orders, skips


# --------------------------------------------------------------------------------------
# executing slice schedules (lobutils.trading.execution)
# --------------------------------------------------------------------------------------


@njit(cache=True)
def execute_schedules(book_ts, px, qty, slice_ts, slices):
    """Walk one side for every slice of every schedule, carrying what a slice leaves unfilled.

    ``slice_ts`` and ``slices`` are ``(W, n)``: schedule ``w`` sends ``slices[w, k]`` units
    (plus whatever its earlier slices could not fill) at ``slice_ts[w, k]``, against the last
    book state at or before that time, fresh each time (the book refills between slices).
    Returns ``(filled, sum_qp, sum_q_over_p)`` of shape ``(W, n)``, the units left after the
    last slice ``(W,)`` and the book state of each schedule's last slice ``(W,)``.

    Parameters
    ----------
    book_ts : numpy.ndarray
        int64 times (ns) of the book states, sorted.
    px, qty : numpy.ndarray
        The side walked, shape ``(N, L)``.
    slice_ts : numpy.ndarray
        int64 send time (ns) of each slice, shape ``(W, n)``.
    slices : numpy.ndarray
        float64 units of each slice, shape ``(W, n)``.

    Returns
    -------
    filled, sum_qp, sum_q_over_p : numpy.ndarray
        float64 per slice, shape ``(W, n)``.
    left : numpy.ndarray
        float64 units unfilled after each schedule's last slice, shape ``(W,)``.
    last_state : numpy.ndarray
        int64 book row of each schedule's last slice (-1: none), shape ``(W,)``.
    """
    w_n, n = slices.shape
    filled = np.zeros((w_n, n))
    sqp = np.zeros((w_n, n))
    sqi = np.zeros((w_n, n))
    left = np.zeros(w_n)
    last_state = np.full(w_n, -1, np.int64)
    for w in range(w_n):
        carry = 0.0
        for k in range(n):
            size = slices[w, k] + carry
            s = _last_at_or_before(book_ts, slice_ts[w, k])
            last_state[w] = s
            if size <= 0.0:
                carry = 0.0
                continue
            if s < 0:
                carry = size
                continue
            f, a, b, r, _ = walk_side(px[s], qty[s], size)
            filled[w, k] = f
            sqp[w, k] = a
            sqi[w, k] = b
            carry = r
        left[w] = carry
    return filled, sqp, sqi, left, last_state


def execute_schedules_py(book_ts, px, qty, slice_ts, slices):
    """Pure-Python reference of :func:`execute_schedules`.

    Parameters
    ----------
    book_ts : numpy.ndarray
        int64 times (ns) of the book states, sorted.
    px, qty : numpy.ndarray
        The side walked, shape ``(N, L)``.
    slice_ts : numpy.ndarray
        int64 send time (ns) of each slice, shape ``(W, n)``.
    slices : numpy.ndarray
        float64 units of each slice, shape ``(W, n)``.

    Returns
    -------
    filled, sum_qp, sum_q_over_p, left, last_state : numpy.ndarray
        As :func:`execute_schedules` returns them.
    """
    w_n, n = np.shape(slices)
    filled = np.zeros((w_n, n))
    sqp = np.zeros((w_n, n))
    sqi = np.zeros((w_n, n))
    left = np.zeros(w_n)
    last_state = np.full(w_n, -1, np.int64)
    for w in range(w_n):
        carry = 0.0
        for k in range(n):
            size = float(slices[w][k]) + carry
            s = _last_at_or_before_py(book_ts, slice_ts[w][k])
            last_state[w] = s
            if size <= 0.0:
                carry = 0.0
                continue
            if s < 0:
                carry = size
                continue
            f, a, b, r, _ = walk_side_py(px[s], qty[s], size)
            filled[w, k], sqp[w, k], sqi[w, k] = f, a, b
            carry = r
        left[w] = carry
    return filled, sqp, sqi, left, last_state
