"""The L2 replay kernel (private). Public entry point: :func:`lobutils.book.replay.reconstruct`.

Prices arrive as integer ticks on the finest decimal grid of the input (see
:func:`lobutils.book.replay.price_grid`). Each side is a price ladder: one quantity cell per tick,
so setting a level is O(1) whatever its depth, and the best cell is tracked as levels come and
go, and an occupancy bitmap (one bit per cell, stored after the cells in the same array) lets
the walk over the top levels jump across empty cells 64 at a time. The ladder grows to cover
new prices up to :data:`MAX_CELLS` cells; a level beyond that
(a stray order far from the market) goes to a small sorted overflow array, which is merged in
order when the top levels are written. No per-message allocation, no Python object.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import leading_zeros, trailing_zeros

__all__ = [
    "CHAIN_SPOT",
    "CHAIN_FUTURES",
    "CHAIN_NONE",
    "VALID",
    "CROSSED",
    "INVALID",
    "MAX_CELLS",
    "N_STATS",
    "STAT_NAMES",
    "replay",
]

# chain rules
CHAIN_SPOT = 0  # U == prev_u + 1 (Binance spot)
CHAIN_FUTURES = 1  # pu == prev_u (Binance USD-M and COIN-M)
CHAIN_NONE = 2  # no update-id chain: a snapshot resets the book (Bybit, Tardis)

# row status
VALID = 0
CROSSED = 1
INVALID = 2  # the book is not known from here on (a gap): the row carries no levels

# states
_NO_BOOK = 0
_SYNCING = 1
_LIVE = 2

# stats slots
S_APPLIED, S_STALE, S_DUPLICATE, S_GAPS, S_CROSSED, S_SNAPSHOTS = 0, 1, 2, 3, 4, 5
S_SNAPSHOTS_SKIPPED, S_CROSSED_SNAPSHOTS, S_UNSYNCED, S_ROWS, S_MAX_BIDS, S_MAX_ASKS = (
    6,
    7,
    8,
    9,
    10,
    11,
)
N_STATS = 12
STAT_NAMES = (
    "applied",
    "stale",
    "duplicates",
    "gaps",
    "crossed",
    "snapshots",
    "snapshots_skipped",
    "crossed_snapshots",
    "unsynced",
    "rows",
    "max_bid_levels",
    "max_ask_levels",
)


MAX_CELLS = 1 << 22  # the largest ladder per side (32 MiB); levels beyond go to the overflow
_SLACK = 4096
_ALL_BITS = np.uint64(0xFFFFFFFFFFFFFFFF)
_ONE = np.uint64(1)

# per-side scalar state, kept in a small int64 array so helpers can update it in place
_BASE, _SIZE, _BEST, _COUNT, _NOVER = 0, 1, 2, 3, 4

# what the last written row covers: per side the tick of its n-th level (``_NONE_*`` when the
# side had fewer levels, so that any update counts) and whether an update touched that range
_B_BOUND, _A_BOUND, _B_DIRTY, _A_DIRTY = 0, 1, 2, 3
_NONE_BID = np.iinfo(np.int64).min
_NONE_ASK = np.iinfo(np.int64).max


@njit(cache=True)
def _grow(a):
    b = np.empty(a.shape[0] * 2, a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True)
def _set_sorted(keys, qtys, n, key, qty):
    """Set ``key`` to ``qty`` (0 deletes) in a sorted array; returns the new count.

    The caller guarantees capacity for one more entry.
    """
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    if lo < n and keys[lo] == key:
        if qty == 0.0:
            for k in range(lo, n - 1):
                keys[k] = keys[k + 1]
                qtys[k] = qtys[k + 1]
            return n - 1
        qtys[lo] = qty
        return n
    if qty == 0.0:
        return n
    for k in range(n, lo, -1):
        keys[k] = keys[k - 1]
        qtys[k] = qtys[k - 1]
    keys[lo] = key
    qtys[lo] = qty
    return n + 1


@njit(cache=True)
def _clear(st, lad):
    if st[_COUNT] > 0:  # an empty ladder is all zeros already (its bitmap too)
        lad[:] = 0.0
    st[_BEST] = -1
    st[_COUNT] = 0
    st[_NOVER] = 0


@njit(cache=True, inline="always")
def _ladder_array(size):
    """A ladder of ``size`` cells followed by its occupancy bitmap (``(size + 63) // 64``
    words, read through a uint64 view of the same array): one allocation, zeroed together."""
    return np.zeros(size + ((size + 63) >> 6), np.float64)


@njit(cache=True, inline="always")
def _prev_set(bu, size, c):
    """The highest occupied cell ``<= c``, or -1."""
    if c < 0:
        return -1
    w = c >> 6
    word = bu[size + w] & (_ALL_BITS >> np.uint64(63 - (c & 63)))
    while word == 0:
        w -= 1
        if w < 0:
            return -1
        word = bu[size + w]
    return (w << 6) + 63 - np.int64(leading_zeros(word))


@njit(cache=True, inline="always")
def _next_set(bu, size, c):
    """The lowest occupied cell ``>= c``, or ``size``."""
    if c >= size:
        return size
    w = c >> 6
    n_words = (size + 63) >> 6
    word = bu[size + w] & (_ALL_BITS << np.uint64(c & 63))
    while word == 0:
        w += 1
        if w >= n_words:
            return size
        word = bu[size + w]
    return (w << 6) + np.int64(trailing_zeros(word))


@njit(cache=True)
def _rescan_best(st, bu, is_bid):
    """Find the best non-empty ladder cell after the best one was emptied."""
    if st[_COUNT] == 0:
        st[_BEST] = -1
        return
    if is_bid:
        st[_BEST] = _prev_set(bu, st[_SIZE], st[_BEST])
    else:
        st[_BEST] = _next_set(bu, st[_SIZE], st[_BEST])


@njit(cache=True, inline="always")
def _ladder_set(st, lad, bu, c, qty, is_bid):
    had = lad[c] > 0.0
    lad[c] = qty
    if qty > 0.0:
        if not had:
            st[_COUNT] += 1
            bu[st[_SIZE] + (c >> 6)] |= _ONE << np.uint64(c & 63)
        if st[_BEST] < 0 or (is_bid and c > st[_BEST]) or (not is_bid and c < st[_BEST]):
            st[_BEST] = c
    elif had:
        st[_COUNT] -= 1
        bu[st[_SIZE] + (c >> 6)] &= ~(_ONE << np.uint64(c & 63))
        if c == st[_BEST]:
            _rescan_best(st, bu, is_bid)


@njit(cache=True)
def _regrid(st, lad, ok, oq, lo, hi, is_bid):
    """Move the ladder to cover ticks ``[lo, hi)``, taking in overflow levels that now fit."""
    size = hi - lo
    new = _ladder_array(size)
    nbu = new.view(np.uint64)
    base = st[_BASE]
    for c in range(st[_SIZE]):
        if lad[c] > 0.0:
            n = base + c - lo
            new[n] = lad[c]
            nbu[size + (n >> 6)] |= _ONE << np.uint64(n & 63)
    st[_BASE] = lo
    st[_SIZE] = size
    if st[_BEST] >= 0:
        st[_BEST] = st[_BEST] + base - lo
    keep = 0
    for k in range(st[_NOVER]):
        t = ok[k]
        if lo <= t < hi:
            c = t - lo
            new[c] = oq[k]
            nbu[size + (c >> 6)] |= _ONE << np.uint64(c & 63)
            st[_COUNT] += 1
            if st[_BEST] < 0 or (is_bid and c > st[_BEST]) or (not is_bid and c < st[_BEST]):
                st[_BEST] = c
        else:
            ok[keep] = t
            oq[keep] = oq[k]
            keep += 1
    st[_NOVER] = keep
    return new


@njit(cache=True)
def _update_outside(st, lad, ok, oq, tick, qty, is_bid):
    """Set a level outside the ladder: grow the ladder, or use the overflow.

    Returns the (possibly new) arrays.
    """
    if qty > 0.0:
        if st[_SIZE] == 0:
            lo = tick - _SLACK
            hi = tick + _SLACK
        else:
            lo = min(st[_BASE], tick)
            hi = max(st[_BASE] + st[_SIZE], tick + 1)
            slack = (hi - lo) // 4 + _SLACK
            lo -= slack
            hi += slack
        if hi - lo > MAX_CELLS:
            # keep the ladder where it is: the level goes to the overflow (rare, deep levels)
            if st[_SIZE] == 0:
                lo = tick - MAX_CELLS // 2
                hi = lo + MAX_CELLS
            else:
                lo = hi = 0
        if hi > lo:
            lad = _regrid(st, lad, ok, oq, lo, hi, is_bid)
            _ladder_set(st, lad, lad.view(np.uint64), tick - lo, qty, is_bid)
            return lad, ok, oq
    if st[_NOVER] + 1 >= ok.shape[0]:
        ok = _grow(ok)
        oq = _grow(oq)
    st[_NOVER] = _set_sorted(ok, oq, st[_NOVER], tick, qty)
    return lad, ok, oq


@njit(cache=True, inline="always")
def _best_tick(st, ok, is_bid, none):
    """The best tick of a side over ladder and overflow, or ``none`` when empty."""
    hi = st[_BASE] + st[_SIZE]
    n = st[_NOVER]
    if is_bid:
        if n > 0 and ok[n - 1] >= hi:
            return ok[n - 1]
        if st[_BEST] >= 0:
            return st[_BASE] + st[_BEST]
        return ok[n - 1] if n > 0 else none
    if n > 0 and ok[0] < st[_BASE]:
        return ok[0]
    if st[_BEST] >= 0:
        return st[_BASE] + st[_BEST]
    return ok[0] if n > 0 else none


@njit(cache=True)
def _emit_side(st, lad, bu, ok, oq, is_bid, o_px, o_q, r, n_levels, tick0, step, p10, none):
    """Write the best ``n_levels`` of a side into row ``r``: overflow beyond the ladder's
    better end, then the ladder from its best cell, then overflow beyond its worse end.

    Returns the tick of the ``n_levels``-th level, or ``none`` when the side has fewer."""
    base = st[_BASE]
    hi = base + st[_SIZE]
    n = st[_NOVER]
    f = 0
    last = none
    if is_bid:
        k = n - 1
        while f < n_levels and k >= 0 and ok[k] >= hi:
            o_px[r, f] = (tick0 + ok[k] * step) / p10
            o_q[r, f] = oq[k]
            last = ok[k]
            f += 1
            k -= 1
        c = st[_BEST]  # occupied (or -1); each step jumps to the next occupied cell
        left = st[_COUNT]
        while f < n_levels and left > 0 and c >= 0:
            o_px[r, f] = (tick0 + (base + c) * step) / p10
            o_q[r, f] = lad[c]
            last = base + c
            f += 1
            left -= 1
            c = _prev_set(bu, st[_SIZE], c - 1)
        while f < n_levels and k >= 0:
            if ok[k] < base:
                o_px[r, f] = (tick0 + ok[k] * step) / p10
                o_q[r, f] = oq[k]
                last = ok[k]
                f += 1
            k -= 1
    else:
        k = 0
        while f < n_levels and k < n and ok[k] < base:
            o_px[r, f] = (tick0 + ok[k] * step) / p10
            o_q[r, f] = oq[k]
            last = ok[k]
            f += 1
            k += 1
        c = st[_BEST]
        left = st[_COUNT]
        while f < n_levels and left > 0 and 0 <= c < st[_SIZE]:
            o_px[r, f] = (tick0 + (base + c) * step) / p10
            o_q[r, f] = lad[c]
            last = base + c
            f += 1
            left -= 1
            c = _next_set(bu, st[_SIZE], c + 1)
        while f < n_levels and k < n:
            if ok[k] >= hi:
                o_px[r, f] = (tick0 + ok[k] * step) / p10
                o_q[r, f] = oq[k]
                last = ok[k]
                f += 1
            k += 1
    if f < n_levels:
        last = none
    while f < n_levels:
        o_px[r, f] = np.nan
        o_q[r, f] = 0.0
        f += 1
    return last


# fmt: off
# (the kernel passes its state as many arrays: the calls are wrapped by hand, not one
# argument per line)
@njit(cache=True, inline="always")
def _emit(
    bst, blad, bbu, bok, boq, ast, alad, abu, aok, aoq, mark, o_bp, o_bq, o_ap, o_aq, r,
    n_levels, tick0, step, p10
):
    """Write row ``r``'s levels. A side that no update touched at or inside its last written
    ``n_levels``-th level since row ``r - 1`` (``mark``, kept by :func:`_apply`) has the same
    top levels as that row: they are copied instead of walked again."""
    if mark[_B_DIRTY]:
        mark[_B_BOUND] = _emit_side(
            bst, blad, bbu, bok, boq, True, o_bp, o_bq, r, n_levels, tick0, step, p10, _NONE_BID
        )
        mark[_B_DIRTY] = 0
    else:
        o_bp[r, :] = o_bp[r - 1, :]
        o_bq[r, :] = o_bq[r - 1, :]
    if mark[_A_DIRTY]:
        mark[_A_BOUND] = _emit_side(
            ast, alad, abu, aok, aoq, False, o_ap, o_aq, r, n_levels, tick0, step, p10, _NONE_ASK
        )
        mark[_A_DIRTY] = 0
    else:
        o_ap[r, :] = o_ap[r - 1, :]
        o_aq[r, :] = o_aq[r - 1, :]


@njit(cache=True, inline="always")
def _load(m_start, lv_side, lv_tick, lv_qty, j, bst, blad, bok, boq, ast, alad, aok, aoq, mark):
    """Replace the book with snapshot ``j``; the next row is written in full."""
    _clear(bst, blad)
    _clear(ast, alad)
    mark[_B_DIRTY] = 1
    mark[_A_DIRTY] = 1
    return _apply(
        m_start, lv_side, lv_tick, lv_qty, j, bst, blad, bok, boq, ast, alad, aok, aoq, mark
    )


@njit(cache=True, inline="always")
def _apply_inside(lv_side, lv_tick, lv_qty, k, end, bst, blad, bbu, ast, alad, abu, mark):
    """Apply levels ``k .. end - 1`` while they fall inside the ladders (the hot path: no
    allocation, no array returned); flag a side whose written top levels they touch.

    Returns the index of the first level outside its side's ladder, or ``end``."""
    while k < end:
        s = lv_side[k]
        if s > 0:
            if lv_tick[k] >= mark[_B_BOUND]:
                mark[_B_DIRTY] = 1
            c = lv_tick[k] - bst[_BASE]
            if not 0 <= c < bst[_SIZE]:
                return k
            _ladder_set(bst, blad, bbu, c, lv_qty[k], True)
        elif s < 0:
            if lv_tick[k] <= mark[_A_BOUND]:
                mark[_A_DIRTY] = 1
            c = lv_tick[k] - ast[_BASE]
            if not 0 <= c < ast[_SIZE]:
                return k
            _ladder_set(ast, alad, abu, c, lv_qty[k], False)
        k += 1
    return end


@njit(cache=True)
def _apply_from(lv_side, lv_tick, lv_qty, k, end, bst, blad, bok, boq, ast, alad, aok, aoq, mark):
    """Apply levels ``k .. end - 1``, growing a ladder or using the overflow where a level
    falls outside it. Returns the (possibly new) arrays."""
    while True:
        k = _apply_inside(
            lv_side, lv_tick, lv_qty, k, end, bst, blad, blad.view(np.uint64), ast, alad,
            alad.view(np.uint64), mark
        )
        if k >= end:
            return blad, bok, boq, alad, aok, aoq
        if lv_side[k] > 0:
            blad, bok, boq = _update_outside(bst, blad, bok, boq, lv_tick[k], lv_qty[k], True)
        else:
            alad, aok, aoq = _update_outside(ast, alad, aok, aoq, lv_tick[k], lv_qty[k], False)
        k += 1


@njit(cache=True, inline="always")
def _apply(m_start, lv_side, lv_tick, lv_qty, j, bst, blad, bok, boq, ast, alad, aok, aoq, mark):
    """Apply message ``j``'s levels (see :func:`_apply_from`)."""
    return _apply_from(
        lv_side, lv_tick, lv_qty, m_start[j], m_start[j + 1], bst, blad, bok, boq, ast, alad, aok,
        aoq, mark
    )


@njit(cache=True)
def replay(
    m_start,
    m_kind,
    m_first,
    m_last,
    m_prev,
    m_ts,
    m_local,
    lv_side,
    lv_tick,
    lv_qty,
    chain,
    n_levels,
    tick0,
    step,
    p10,
    b_lo,
    b_hi,
    a_lo,
    a_hi,
):
    """Replay messages; emit the top ``n_levels`` after every applied diff.

    Messages are given as offsets ``m_start`` (length n_msg + 1) into the level arrays. Prices
    are integer ticks: price = (tick0 + tick * step) / p10, which reproduces the parsed float
    exactly. Each side is a price ladder (one cell per tick) that starts out covering the
    side's ticks ``[lo, hi)`` of the input when that fits in :data:`MAX_CELLS`, grows as
    needed up to that size, and keeps a sorted overflow array for levels beyond it.

    Parameters
    ----------
    m_start : numpy.ndarray of int64
        Offsets of each message's levels in ``lv_*``, length n_msg + 1.
    m_kind : numpy.ndarray of int8
        Per message, ``DIFF`` (0) or ``SNAPSHOT`` (1).
    m_first, m_last, m_prev : numpy.ndarray of int64
        Per message, the exchange's update ids ``U``, ``u`` and ``pu`` (-1 where absent).
    m_ts, m_local : numpy.ndarray of int64
        Per message, exchange and local time in ns.
    lv_side : numpy.ndarray of int8
        Per level, ``BID`` (+1), ``ASK`` (-1) or 0 for a message without levels.
    lv_tick : numpy.ndarray of int64
        Per level, the price in ticks.
    lv_qty : numpy.ndarray of float64
        Per level, the quantity; 0 deletes the level.
    chain : int
        ``CHAIN_SPOT``, ``CHAIN_FUTURES`` or ``CHAIN_NONE``.
    n_levels : int
        Levels per side written per row.
    tick0, step : int
        The price grid: price = (tick0 + tick * step) / p10.
    p10 : float
        The grid's power of ten.
    b_lo, b_hi, a_lo, a_hi : int
        Range of bid and ask ticks in the input, to size the ladders once.

    Returns
    -------
    ts, local_ts, update_id : numpy.ndarray of int64
        Per output row.
    status : numpy.ndarray of int8
        Per row, ``VALID``, ``CROSSED`` or ``INVALID`` (a gap marker).
    bid_px, bid_qty, ask_px, ask_qty : numpy.ndarray of float64
        Shape (rows, n_levels); missing levels are NaN price and zero quantity.
    stats : numpy.ndarray of int64
        Counters, named by :data:`STAT_NAMES`.
    """
    n_msg = m_kind.shape[0]
    cap_rows = 2 * n_msg + 1  # a row per diff and per snapshot at most, plus gap markers
    o_ts = np.empty(cap_rows, np.int64)
    o_loc = np.empty(cap_rows, np.int64)
    o_uid = np.empty(cap_rows, np.int64)
    o_st = np.empty(cap_rows, np.int8)
    o_bp = np.empty((cap_rows, n_levels), np.float64)
    o_bq = np.empty((cap_rows, n_levels), np.float64)
    o_ap = np.empty((cap_rows, n_levels), np.float64)
    o_aq = np.empty((cap_rows, n_levels), np.float64)
    stats = np.zeros(N_STATS, np.int64)

    bst = np.zeros(5, np.int64)
    ast = np.zeros(5, np.int64)
    bst[_BEST] = -1
    ast[_BEST] = -1
    # size each ladder once to the range of ticks the input holds, when that fits
    blad = _ladder_array(0)
    alad = _ladder_array(0)
    if 0 < b_hi - b_lo <= MAX_CELLS:
        bst[_BASE] = b_lo
        bst[_SIZE] = b_hi - b_lo
        blad = _ladder_array(b_hi - b_lo)
    if 0 < a_hi - a_lo <= MAX_CELLS:
        ast[_BASE] = a_lo
        ast[_SIZE] = a_hi - a_lo
        alad = _ladder_array(a_hi - a_lo)
    bbu = blad.view(np.uint64)  # the bitmaps; renewed whenever a ladder array is replaced
    abu = alad.view(np.uint64)
    mark = np.empty(4, np.int64)  # filled per call: never a constant shared between calls
    mark[_B_BOUND] = _NONE_BID
    mark[_A_BOUND] = _NONE_ASK
    mark[_B_DIRTY] = 1
    mark[_A_DIRTY] = 1
    bok = np.empty(64, np.int64)
    boq = np.empty(64, np.float64)
    aok = np.empty(64, np.int64)
    aoq = np.empty(64, np.float64)
    none_b = np.iinfo(np.int64).min
    none_a = np.iinfo(np.int64).max
    state = _NO_BOOK
    snap_id = -1
    last_u = -1
    pending = -1
    standby = -1  # a snapshot that arrived while the book was live
    last_snap = -1  # the snapshot the book was last synced on
    emitted_u = np.iinfo(np.int64).min
    r = 0

    j = 0
    while j < n_msg:
        if m_kind[j] == 1:  # snapshot
            if state == _LIVE and chain != CHAIN_NONE:
                # not needed now; kept on standby in case the chain breaks before the next one
                stats[S_SNAPSHOTS_SKIPPED] += 1
                standby = j
                j += 1
                continue
            blad, bok, boq, alad, aok, aoq = _load(
                m_start, lv_side, lv_tick, lv_qty, j, bst, blad, bok, boq, ast, alad, aok, aoq, mark
            )
            bbu = blad.view(np.uint64)
            abu = alad.view(np.uint64)
            if _best_tick(bst, bok, True, none_b) >= _best_tick(ast, aok, False, none_a):
                stats[S_CROSSED_SNAPSHOTS] += 1
                state = _NO_BOOK
                _clear(bst, blad)
                _clear(ast, alad)
                j += 1
                continue
            stats[S_SNAPSHOTS] += 1
            snap_id = m_last[j]
            last_snap = j
            standby = -1
            if chain == CHAIN_NONE:
                # no update-id chain: the snapshot is itself a book state, emitted as one
                state = _LIVE
                last_u = snap_id
                pending = -1
                o_ts[r] = m_ts[j]
                o_loc[r] = m_local[j]
                o_uid[r] = snap_id
                o_st[r] = VALID
                _emit(
                    bst, blad, bbu, bok, boq, ast, alad, abu, aok, aoq, mark, o_bp, o_bq, o_ap,
                    o_aq, r, n_levels, tick0, step, p10
                )
                r += 1
            else:
                state = _SYNCING
            end = j
            j += 1
            if pending < 0:
                continue
            i = pending
            pending = -1
        else:
            if state == _NO_BOOK:
                if pending < 0:
                    pending = j
                j += 1
                continue
            i = j
            end = j + 1
            j += 1
        # process diffs i .. end - 1: one diff, or those buffered before a snapshot
        while i < end:
            if m_kind[i] != 0:
                i += 1
                continue
            u = m_last[i]
            apply = False
            gap = False
            if state == _SYNCING:
                if chain == CHAIN_SPOT:
                    if u <= snap_id:
                        stats[S_STALE] += 1
                    elif m_first[i] <= snap_id + 1:
                        apply = True
                    else:
                        gap = True
                else:
                    if u < snap_id:
                        stats[S_STALE] += 1
                    elif m_first[i] <= snap_id + 1 or m_prev[i] <= snap_id:
                        apply = True
                    else:
                        gap = True
            else:
                if chain == CHAIN_SPOT:
                    ok = m_first[i] == last_u + 1
                elif chain == CHAIN_FUTURES:
                    ok = m_prev[i] == last_u
                else:
                    ok = True
                if ok:
                    apply = True
                elif u <= last_u:
                    stats[S_DUPLICATE] += 1
                else:
                    gap = True
            if gap:
                stats[S_GAPS] += 1
                o_ts[r] = m_ts[i]
                o_loc[r] = m_local[i]
                o_uid[r] = u
                o_st[r] = INVALID
                o_bp[r, :] = np.nan
                o_bq[r, :] = np.nan
                o_ap[r, :] = np.nan
                o_aq[r, :] = np.nan
                r += 1
                if standby < 0:
                    state = _NO_BOOK
                    pending = i
                    break
                # resync at once from the snapshot on standby: replay from the first diff it
                # does not contain (diffs written before its line may be newer than it)
                s = standby
                standby = -1
                blad, bok, boq, alad, aok, aoq = _load(
                    m_start, lv_side, lv_tick, lv_qty, s, bst, blad, bok, boq, ast, alad, aok, aoq,
                    mark
                )
                bbu = blad.view(np.uint64)
                abu = alad.view(np.uint64)
                if _best_tick(bst, bok, True, none_b) >= _best_tick(ast, aok, False, none_a):
                    stats[S_CROSSED_SNAPSHOTS] += 1
                    _clear(bst, blad)
                    _clear(ast, alad)
                    state = _NO_BOOK
                    pending = i
                    break
                stats[S_SNAPSHOTS] += 1
                stats[S_SNAPSHOTS_SKIPPED] -= 1
                snap_id = m_last[s]
                state = _SYNCING
                k = s - 1
                while k > last_snap and (m_kind[k] != 0 or m_last[k] > snap_id):
                    k -= 1
                last_snap = s
                end = max(end, i + 1)
                i = k + 1
                continue
            if apply:
                k = _apply_inside(
                    lv_side, lv_tick, lv_qty, m_start[i], m_start[i + 1], bst, blad, bbu, ast, alad,
                    abu, mark
                )
                if k < m_start[i + 1]:  # a level outside its ladder (rare): arrays may change
                    blad, bok, boq, alad, aok, aoq = _apply_from(
                        lv_side, lv_tick, lv_qty, k, m_start[i + 1], bst, blad, bok, boq, ast, alad,
                        aok, aoq, mark
                    )
                    bbu = blad.view(np.uint64)
                    abu = alad.view(np.uint64)
                state = _LIVE
                last_u = u
                stats[S_APPLIED] += 1
                nb = bst[_COUNT] + bst[_NOVER]
                na = ast[_COUNT] + ast[_NOVER]
                if nb > stats[S_MAX_BIDS]:
                    stats[S_MAX_BIDS] = nb
                if na > stats[S_MAX_ASKS]:
                    stats[S_MAX_ASKS] = na
                if chain != CHAIN_NONE and u <= emitted_u:
                    i += 1  # replayed after a resync: this state was emitted already
                    continue
                emitted_u = u
                o_ts[r] = m_ts[i]
                o_loc[r] = m_local[i]
                o_uid[r] = u
                if _best_tick(bst, bok, True, none_b) >= _best_tick(ast, aok, False, none_a):
                    stats[S_CROSSED] += 1
                    o_st[r] = CROSSED
                else:
                    o_st[r] = VALID
                _emit(
                    bst, blad, bbu, bok, boq, ast, alad, abu, aok, aoq, mark, o_bp, o_bq, o_ap,
                    o_aq, r, n_levels, tick0, step, p10
                )
                r += 1
            i += 1
    if pending >= 0:
        for k in range(pending, n_msg):
            if m_kind[k] == 0:
                stats[S_UNSYNCED] += 1
    stats[S_ROWS] = r
    return (
        o_ts[:r],
        o_loc[:r],
        o_uid[:r],
        o_st[:r],
        o_bp[:r],
        o_bq[:r],
        o_ap[:r],
        o_aq[:r],
        stats,
    )
# fmt: on
