"""Exact L2 order-book reconstruction from a snapshot and diffs.

:func:`reconstruct` replays the depth events of a :class:`~lobutils.data.binance.Recording` (or any
depth frame in the event schema) by the exchange's sync rules and returns the book frame: the
top N levels after every applied diff, in event time. :func:`lobutils.book.sampling.sample_clock`
turns it into a clock-time grid.

Sync rules (Binance)
--------------------
1. Diffs that arrive before the snapshot are buffered, and replayed once it is loaded.
2. Drop diffs the snapshot already contains: spot ``u <= lastUpdateId``, futures
   ``u < lastUpdateId``.
3. The first diff applied must straddle the snapshot: spot ``U <= lastUpdateId + 1 <= u``;
   futures ``u >= lastUpdateId`` and (``U <= lastUpdateId + 1`` or ``pu <= lastUpdateId``).
   Binance documents only the ``U`` condition for futures. The ``pu`` alternative matters when
   the diff with ``u == lastUpdateId`` is missing (or dropped, as the spot rule would drop it):
   futures update ids are not contiguous, so the next diff starts well above
   ``lastUpdateId + 1`` although its ``pu`` shows it follows the snapshot exactly.
4. Every later diff must chain: spot ``U == prev_u + 1``, futures ``pu == prev_u``. A diff
   already seen (``u <= prev_u``) is a duplicate and is skipped and counted. Anything else is a
   *gap*: counted, the book is invalid from there (an ``INVALID`` row marks the moment) until
   the next snapshot, and no state is emitted as valid across it.
5. A snapshot that arrives while the book is live (a recorder writes one at the top of every
   file, and one after each reconnect) is kept on standby. If the chain then breaks, the book
   resyncs from it at once by rules 2 and 3, replaying the diffs it does not contain, including
   those written before its line; states already emitted are not emitted twice.

A crossed book (best bid >= best ask) is counted; its row is flagged ``CROSSED`` and left out
of the frame unless asked for. A crossed snapshot is not synced on.

Without an update-id chain (``chain="none"``: Bybit, Tardis, ccxt polls) every snapshot
replaces the book, even a live one, and is emitted as a state of its own; diffs apply in order.

The replay is a numba kernel over flat arrays (:mod:`lobutils.book._replay_kernels`);
:class:`ReferenceBook` is the readable pure-Python version it is tested against.

Examples
--------
>>> from lobutils.data.catalog import segment
>>> from lobutils.data.binance import read_binance_recording
>>> rec = read_binance_recording(segment("spot_btcusdt").files)
>>> book = reconstruct(rec, levels=5)
>>> book.stats["gaps"], book.stats["crossed"]
(0, 0)
>>> list(book.frame.columns[:5])
['ts', 'local_ts', 'update_id', 'bid_px_1', 'bid_px_2']
>>> bool((book.frame.bid_px_1 < book.frame.ask_px_1).all())
True
>>> check_bbo(book.frame, rec.bbo)["bbo_mismatched"]
0
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lobutils.book import _replay_kernels as K
from lobutils.data.binance import Recording
from lobutils.schema import ASK, BID, DEPTH_COLUMNS, DIFF, SNAPSHOT, book_columns

__all__ = [
    "Book",
    "BookError",
    "ReferenceBook",
    "reconstruct",
    "check_bbo",
    "price_grid",
    "VALID",
    "CROSSED",
    "INVALID",
]

VALID, CROSSED, INVALID = K.VALID, K.CROSSED, K.INVALID
_CHAINS = {"spot": K.CHAIN_SPOT, "futures": K.CHAIN_FUTURES, "none": K.CHAIN_NONE}


class BookError(ValueError):
    """Raised for depth input that cannot give a correct book; names the line."""


@dataclass
class Book:
    """A reconstructed book.

    Attributes
    ----------
    frame : pandas.DataFrame
        The book frame (:func:`lobutils.schema.book_columns`): one row per applied diff (and
        per snapshot under ``chain="none"``), valid
        states only unless ``include_invalid`` was asked for, in which case a ``status`` column
        (``VALID``, ``CROSSED``, ``INVALID``) is added and gap markers are kept.
    stats : dict
        Counts: ``applied`` (diffs applied, replays after a resync included), ``stale``
        (dropped as already in the snapshot), ``duplicates``, ``gaps``, ``crossed`` (emitted
        crossed states), ``snapshots`` (synced on), ``snapshots_skipped`` (never needed: they
        arrived while the book was live and no gap followed), ``crossed_snapshots``, ``unsynced`` (diffs never applied because no
        snapshot followed them), ``rows``, ``max_bid_levels``, ``max_ask_levels``,
        ``level_updates`` (price levels read, snapshots' included) and ``seconds`` (the
        kernel's time).
    levels : int
        N, the levels per side in the frame.
    """

    frame: pd.DataFrame
    stats: dict
    levels: int


def _messages(depth: pd.DataFrame) -> dict[str, np.ndarray]:
    """Message-level arrays (one entry per message) from the flat depth frame."""
    msg = depth["msg"].to_numpy()
    if len(msg) and np.any(np.diff(msg) < 0):
        raise BookError("depth frame is not ordered by 'msg'")
    first = np.flatnonzero(np.r_[True, msg[1:] != msg[:-1]]) if len(msg) else np.empty(0, np.int64)
    start = np.r_[first, len(msg)].astype(np.int64)
    take = {
        c: depth[c].to_numpy()[first]
        for c in ("kind", "first_id", "last_id", "prev_id", "ts", "local_ts")
    }
    take["start"] = start
    return take


def price_grid(price: np.ndarray, mask: np.ndarray | None = None, max_decimals: int = 12):
    """Map prices to integer ticks on the coarsest decimal grid that holds them all exactly.

    Parameters
    ----------
    price : numpy.ndarray
        Prices (float64).
    mask : numpy.ndarray of bool, optional
        The entries that are prices (default all); the others get tick 0.
    max_decimals : int
        The finest grid tried, in decimals.

    Returns
    -------
    tick0 : int
        The lowest price times ``p10``.
    step : int
        The grid step in units of ``1 / p10``.
    p10 : float
        The power of ten of the grid.
    ticks : numpy.ndarray of int64
        Per price, its tick: ``price == (tick0 + ticks * step) / p10`` exactly (as doubles)
        for every price under ``mask``.

    Raises
    ------
    BookError
        If some price needs more than ``max_decimals`` decimals.

    Examples
    --------
    >>> tick0, step, p10, t = price_grid(np.array([100.5, 101.0, 99.5]))
    >>> (tick0, step, p10, t.tolist())
    (995, 5, 10.0, [2, 3, 0])
    >>> ((tick0 + t * step) / p10).tolist()
    [100.5, 101.0, 99.5]
    """
    price = np.asarray(price, dtype=np.float64)
    m = np.ones(len(price), bool) if mask is None else np.asarray(mask, bool)
    ticks = np.zeros(len(price), np.int64)
    if not m.any():
        return 0, 1, 1.0, ticks
    u = price[m]
    for dec in range(max_decimals + 1):
        p10 = 10.0**dec
        scaled = np.round(u * p10)
        if np.all(scaled / p10 == u):
            if scaled.max() < 2**53:
                break
            # more decimals only make the ticks larger: int64 ticks would no longer be exact
            raise BookError(
                f"prices from {float(u.min())!r} to {float(u.max())!r} need {dec} decimals, more than 2**53 "
                "ticks; a price is out of range (a corrupt or mis-scaled input?)"
            )
    else:
        bad = u[np.round(u * p10) / p10 != u]
        raise BookError(
            f"prices are not on a decimal grid of at most {max_decimals} decimals (e.g. {bad[0]!r})"
        )
    ints = scaled.astype(np.int64)
    tick0 = int(ints.min())
    step = int(np.gcd.reduce(ints - tick0)) or 1
    ticks[m] = (ints - tick0) // step
    return tick0, step, p10, ticks


def _tick_range(ticks: np.ndarray, side: np.ndarray, which: int) -> tuple[int, int]:
    """The tick range the kernel's ladder for one side starts with.

    All of the side's ticks when they fit in one ladder; otherwise the central 99 % of them
    (stray orders far from the market would make the ladder huge and sparse): levels outside
    grow the ladder or go to its overflow as they come.
    """
    t = ticks[side == which]
    if len(t) == 0:
        return 0, 0
    lo, hi = int(t.min()), int(t.max()) + 1
    if hi - lo > K.MAX_CELLS:
        q_lo, q_hi = np.quantile(t, [0.005, 0.995])
        pad = int((q_hi - q_lo) * 0.1) + 1
        lo, hi = int(q_lo) - pad, int(q_hi) + pad
        if hi - lo > K.MAX_CELLS:
            mid = int(np.median(t))
            lo, hi = mid - K.MAX_CELLS // 2, mid + K.MAX_CELLS // 2
    return lo, hi


def _validate(depth: pd.DataFrame, where) -> None:
    missing = [c for c in DEPTH_COLUMNS if c not in depth.columns]
    if missing:
        raise BookError(f"depth frame lacks columns {missing}")
    side = depth["side"].to_numpy()
    px = depth["price"].to_numpy()
    qty = depth["qty"].to_numpy()
    lv = side != 0
    bad = lv & ~((px > 0) & np.isfinite(px) & (qty >= 0) & np.isfinite(qty))
    bad |= ~np.isin(side, (BID, ASK, 0))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise BookError(
            f"{where(int(depth['line'].iat[k]))}: invalid level side={side[k]} price={px[k]} "
            f"qty={qty[k]} ({int(bad.sum())} such rows); prices must be > 0 and sizes >= 0"
        )


def reconstruct(
    source: Recording | pd.DataFrame,
    levels: int = 10,
    chain: str = "auto",
    include_invalid: bool = False,
) -> Book:
    """Replay depth events into the top-``levels`` book after every applied diff.

    Parameters
    ----------
    source : lobutils.data.binance.Recording or pandas.DataFrame
        A :class:`~lobutils.data.binance.Recording`, or a depth frame in the event schema.
    levels : int
        Levels per side in the output (any N; levels the book lacks are NaN / 0).
    chain : str
        ``"spot"``, ``"futures"``, ``"none"`` (no update-id chain: Bybit, Tardis) or
        ``"auto"`` (futures when diffs carry ``prev_id``, else spot).
    include_invalid : bool
        Keep crossed rows and gap markers, with a ``status`` column.

    Returns
    -------
    Book
        The book frame, the replay's counters and the number of levels.

    Raises
    ------
    BookError
        No snapshot at all, or an invalid level (NaN, price <= 0, size < 0), naming the line.

    Examples
    --------
    Synthetic example: a snapshot with update id 10, then one spot diff (U=11, u=12) that adds
    a bid level and deletes the best ask.

    >>> from lobutils.schema import frame_from_arrays
    >>> depth = frame_from_arrays(DEPTH_COLUMNS,
    ...     ts=[0, 0, 0, 5, 5], local_ts=[0] * 5, msg=[0, 0, 0, 1, 1], kind=[1, 1, 1, 0, 0],
    ...     first_id=[10, 10, 10, 11, 11], last_id=[10, 10, 10, 12, 12], prev_id=[-1] * 5,
    ...     side=[1, -1, -1, 1, -1], price=[99.0, 101.0, 102.0, 100.0, 101.0],
    ...     qty=[1.0, 2.0, 3.0, 4.0, 0.0], line=[1, 1, 1, 2, 2])
    >>> b = reconstruct(depth, levels=2)
    >>> b.frame[["bid_px_1", "bid_qty_1", "bid_px_2", "ask_px_1", "ask_px_2"]].to_numpy().tolist()
    [[100.0, 4.0, 99.0, 102.0, nan]]
    """
    if not isinstance(levels, int | np.integer) or levels < 1:
        raise ValueError(f"levels must be a positive integer, got {levels!r}")
    if isinstance(source, Recording):
        depth = source.depth
        where = source.locate
        if chain == "auto":
            chain = source.market
    elif isinstance(source, pd.DataFrame):
        depth = source
        where = lambda line: f"line {line}"  # noqa: E731
    else:
        raise TypeError(
            f"source must be a Recording or a depth DataFrame, not {type(source).__name__}"
        )
    _validate(depth, where)
    if chain == "auto":
        chain = "futures" if bool((depth.loc[depth.kind == DIFF, "prev_id"] >= 0).any()) else "spot"
    if chain not in _CHAINS:
        raise ValueError(f"chain must be one of {sorted(_CHAINS)} or 'auto', got {chain!r}")
    if not bool((depth["kind"] == SNAPSHOT).any()):
        first = where(int(depth["line"].iat[0])) if len(depth) else "input"
        raise BookError(
            f"{first}: no depth snapshot in the input, so no diff can be applied; read the file "
            "that holds the snapshot (the first file of a recording segment) as well"
        )
    m = _messages(depth)
    side = depth["side"].to_numpy()
    tick0, step, p10, ticks = price_grid(depth["price"].to_numpy(), side != 0)
    qty = depth["qty"].to_numpy()
    ranges = (*_tick_range(ticks, side, BID), *_tick_range(ticks, side, ASK))
    t0 = time.perf_counter()  # the replay alone: parsing and the price grid come before
    out = K.replay(
        m["start"],
        m["kind"],
        m["first_id"],
        m["last_id"],
        m["prev_id"],
        m["ts"],
        m["local_ts"],
        side,
        ticks,
        qty,
        _CHAINS[chain],
        int(levels),
        tick0,
        step,
        p10,
        *ranges,
    )
    seconds = time.perf_counter() - t0
    ts, loc, uid, status, bp, bq, ap, aq, st = out
    stats = {name: int(v) for name, v in zip(K.STAT_NAMES, st, strict=True)}
    stats["level_updates"] = int((depth["side"] != 0).sum())
    stats["seconds"] = seconds
    frame = _frame(ts, loc, uid, bp, bq, ap, aq, levels)
    if include_invalid:
        frame["status"] = status
    else:
        frame = frame[status == VALID].reset_index(drop=True)
    return Book(frame=frame, stats=stats, levels=int(levels))


def _frame(ts, loc, uid, bp, bq, ap, aq, levels) -> pd.DataFrame:
    data = np.concatenate([bp, bq, ap, aq], axis=1)
    frame = pd.DataFrame(data, columns=book_columns(levels)[3:])
    frame.insert(0, "update_id", uid)
    frame.insert(0, "local_ts", loc)
    frame.insert(0, "ts", ts)
    return frame


def check_bbo(frame: pd.DataFrame, bbo: pd.DataFrame) -> dict:
    """Compare a book frame's top level with the exchange's best bid/offer stream.

    Every quote whose ``update_id`` equals the ``update_id`` of an emitted book state must
    match that state's best bid, best ask and their sizes exactly.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame from :func:`reconstruct` (rows whose ``status`` is not ``VALID`` are
        left out).
    bbo : pandas.DataFrame
        Quotes in the :data:`lobutils.schema.BBO_COLUMNS` schema.

    Returns
    -------
    dict
        ``bbo_matched``, ``bbo_mismatched``, ``bbo_compared`` (quotes with an equal update id),
        ``bbo_total`` and ``bbo_first_mismatch`` (the line of the first mismatching quote, or
        None).

    Examples
    --------
    Synthetic: one book state and two quotes, one with the same update id.

    >>> f = pd.DataFrame([[0, 0, 7, 10.0, 1.0, 11.0, 2.0]], columns=book_columns(1))
    >>> q = pd.DataFrame({"update_id": [7, 8], "bid_px": [10.0, 9.0], "bid_qty": [1.0, 1.0],
    ...                   "ask_px": [11.0, 11.0], "ask_qty": [2.0, 2.0], "line": [3, 4]})
    >>> r = check_bbo(f, q)
    >>> r["bbo_matched"], r["bbo_mismatched"], r["bbo_compared"]
    (1, 0, 1)
    """
    if "status" in frame.columns:
        frame = frame[frame["status"] == VALID]
    states = frame.drop_duplicates("update_id", keep="last").set_index("update_id")
    quotes = bbo[bbo["update_id"].isin(states.index)]
    s = states.loc[quotes["update_id"].to_numpy()]
    ok = (
        (s["bid_px_1"].to_numpy() == quotes["bid_px"].to_numpy())
        & (s["bid_qty_1"].to_numpy() == quotes["bid_qty"].to_numpy())
        & (s["ask_px_1"].to_numpy() == quotes["ask_px"].to_numpy())
        & (s["ask_qty_1"].to_numpy() == quotes["ask_qty"].to_numpy())
    )
    bad = np.flatnonzero(~ok)
    return {
        "bbo_matched": int(ok.sum()),
        "bbo_mismatched": int(len(bad)),
        "bbo_compared": int(len(quotes)),
        "bbo_total": int(len(bbo)),
        "bbo_first_mismatch": int(quotes["line"].iat[bad[0]]) if len(bad) else None,
    }


class ReferenceBook:
    """The readable pure-Python book: dicts of price -> size and the same sync rules.

    It is the reference the numba kernel is tested against, and the version the
    reconstruction chapter walks through. :meth:`run` produces the same rows as
    :func:`reconstruct` with ``include_invalid=True``.

    Parameters
    ----------
    chain : str
        The update-id rule: ``"spot"`` (``U == prev_u + 1``), ``"futures"``
        (``pu == prev_u``) or ``"none"`` (no chain: every snapshot resets the book).

    Attributes
    ----------
    bids, asks : dict of float to float
        Price to size, per side.
    state : str
        ``"no_book"``, ``"syncing"`` or ``"live"``.
    counts : dict of str to int
        The counters of :attr:`Book.stats`, kept as the replay goes.

    Examples
    --------
    >>> b = ReferenceBook(chain="spot")
    >>> b.snapshot(10, bids=[(99.0, 1.0)], asks=[(101.0, 2.0)])
    True
    >>> b.diff(first=11, last=12, prev=-1, bids=[(100.0, 4.0)], asks=[(101.0, 0.0)])
    'applied'
    >>> b.top(1)
    ([(100.0, 4.0)], [])
    """

    def __init__(self, chain: str = "spot"):
        if chain not in _CHAINS:
            raise ValueError(f"chain must be one of {sorted(_CHAINS)}")
        self.chain = chain
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.state = "no_book"
        self.snap_id = -1
        self.last_u = -1
        self.counts = dict.fromkeys(K.STAT_NAMES, 0)

    @staticmethod
    def _set(side: dict, px: float, qty: float) -> None:
        if qty == 0.0:
            side.pop(px, None)
        else:
            side[px] = qty

    def crossed(self) -> bool:
        """Whether the best bid is at or above the best ask.

        Returns
        -------
        bool
            False when a side is empty.
        """
        return bool(self.bids) and bool(self.asks) and max(self.bids) >= min(self.asks)

    def snapshot(self, last_id: int, bids, asks) -> bool:
        """Load a snapshot.

        Parameters
        ----------
        last_id : int
            The snapshot's update id.
        bids, asks : iterable of (float, float)
            Its ``(price, size)`` levels.

        Returns
        -------
        bool
            False when it is ignored: the book is live (under a chain), or it is crossed.
        """
        if self.state == "live" and self.chain != "none":
            self.counts["snapshots_skipped"] += 1
            return False
        self.bids, self.asks = {}, {}
        for px, q in bids:
            self._set(self.bids, px, q)
        for px, q in asks:
            self._set(self.asks, px, q)
        if self.crossed():
            self.counts["crossed_snapshots"] += 1
            self.bids, self.asks, self.state = {}, {}, "no_book"
            return False
        self.counts["snapshots"] += 1
        self.snap_id = last_id
        if self.chain == "none":
            self.state, self.last_u = "live", last_id
        else:
            self.state = "syncing"
        return True

    def diff(self, first: int, last: int, prev: int, bids, asks) -> str:
        """Apply one diff if the chain rules allow.

        Parameters
        ----------
        first, last, prev : int
            The diff's update ids ``U``, ``u`` and ``pu`` (-1 where absent).
        bids, asks : iterable of (float, float)
            Its ``(price, size)`` levels; size 0 deletes the level.

        Returns
        -------
        str
            What happened: ``"applied"``, ``"stale"``, ``"duplicate"``, ``"gap"`` or
            ``"no_book"``.
        """
        if self.state == "no_book":
            return "no_book"
        if self.state == "syncing":
            if self.chain == "spot":
                if last <= self.snap_id:
                    outcome = "stale"
                else:
                    outcome = "applied" if first <= self.snap_id + 1 else "gap"
            else:
                if last < self.snap_id:
                    outcome = "stale"
                elif first <= self.snap_id + 1 or prev <= self.snap_id:
                    outcome = "applied"
                else:
                    outcome = "gap"
        else:
            chained = {
                "spot": first == self.last_u + 1,
                "futures": prev == self.last_u,
                "none": True,
            }[self.chain]
            if chained:
                outcome = "applied"
            elif last <= self.last_u:
                outcome = "duplicate"
            else:
                outcome = "gap"
        if outcome == "applied":
            for px, q in bids:
                self._set(self.bids, px, q)
            for px, q in asks:
                self._set(self.asks, px, q)
            self.state, self.last_u = "live", last
            self.counts["applied"] += 1
        elif outcome == "gap":
            self.counts["gaps"] += 1
            self.state = "no_book"
        else:
            self.counts["stale" if outcome == "stale" else "duplicates"] += 1
        return outcome

    def top(self, n: int) -> tuple[list, list]:
        """The best ``n`` (price, size) levels of each side, best first.

        Parameters
        ----------
        n : int
            Levels per side.

        Returns
        -------
        bids, asks : list of (float, float)
            At most ``n`` levels each.
        """
        bids = sorted(self.bids.items(), reverse=True)[:n]
        asks = sorted(self.asks.items())[:n]
        return bids, asks

    def run(self, depth: pd.DataFrame, levels: int) -> pd.DataFrame:
        """Replay a depth frame like :func:`reconstruct` (``include_invalid=True``).

        Parameters
        ----------
        depth : pandas.DataFrame
            Depth events in the :data:`lobutils.schema.DEPTH_COLUMNS` schema.
        levels : int
            Levels per side in the output.

        Returns
        -------
        pandas.DataFrame
            The book frame with a ``status`` column.
        """
        return self.replay(self.messages(depth), levels)

    @staticmethod
    def messages(depth: pd.DataFrame) -> list[tuple]:
        """The depth frame as a list of Python message tuples (what :meth:`replay` takes).

        Parameters
        ----------
        depth : pandas.DataFrame
            Depth events in the :data:`lobutils.schema.DEPTH_COLUMNS` schema.

        Returns
        -------
        list of tuple
            ``(kind, first_id, last_id, prev_id, ts, local_ts, bids, asks)`` per message, with
            ``bids`` and ``asks`` lists of ``(price, qty)`` in message order.
        """
        m = _messages(depth)
        side = depth["side"].to_numpy()
        price = depth["price"].to_numpy()
        qty = depth["qty"].to_numpy()
        head = zip(
            *(m[c].tolist() for c in ("kind", "first_id", "last_id", "prev_id", "ts", "local_ts")),
            strict=True,
        )
        msgs = []
        for k, fields in enumerate(head):
            lo, hi = m["start"][k], m["start"][k + 1]
            s, p, q = side[lo:hi], price[lo:hi], qty[lo:hi]
            bids = list(zip(p[s == BID].tolist(), q[s == BID].tolist(), strict=True))
            asks = list(zip(p[s == ASK].tolist(), q[s == ASK].tolist(), strict=True))
            msgs.append((*fields, bids, asks))
        return msgs

    def replay(self, msgs: list[tuple], levels: int) -> pd.DataFrame:
        """Replay message tuples, emitting the top ``levels`` after every applied diff.

        Diffs that arrive while there is no book are buffered and replayed after the next
        snapshot. A snapshot that arrives while the book is live is kept on standby: if the
        chain then breaks, the book resyncs from it at once, replaying the diffs it does not
        contain (states already emitted are not emitted twice).

        Parameters
        ----------
        msgs : list of tuple
            Messages from :meth:`messages`.
        levels : int
            Levels per side in the output.

        Returns
        -------
        pandas.DataFrame
            The book frame with a ``status`` column, as :func:`reconstruct` gives it with
            ``include_invalid=True``.
        """
        rows: list = []
        pending = None  # index of the first diff buffered while there is no book
        standby = None  # index of a snapshot that arrived while the book was live
        last_snap = -1
        emitted = None  # update id of the last state emitted
        j = 0
        while j < len(msgs):
            kind, first, last, prev, ts, loc, bids, asks = msgs[j]
            if kind == SNAPSHOT:
                if self.state == "live" and self.chain != "none":
                    self.counts["snapshots_skipped"] += 1
                    standby = j
                    j += 1
                    continue
                j += 1
                if not self.snapshot(last, bids, asks):
                    continue  # crossed: the buffered diffs wait for another snapshot
                last_snap, standby = j - 1, None
                if self.chain == "none":  # no chain: the snapshot is a book state of its own
                    rows.append([ts, loc, last, *self._row(levels)])
                    pending = None
                    continue
                if pending is None:
                    continue
                i, end, pending = pending, j - 1, None
            else:
                if self.state == "no_book":
                    pending = j if pending is None else pending
                    j += 1
                    continue
                i, end = j, j + 1
                j += 1
            while i < end:
                kind, first, last, prev, ts, loc, bids, asks = msgs[i]
                if kind != DIFF:
                    i += 1
                    continue
                outcome = self.diff(first, last, prev, bids, asks)
                if outcome == "gap":
                    rows.append([ts, loc, last, *([np.nan] * (4 * levels)), INVALID])
                    if standby is None:
                        pending = i
                        break
                    s, standby = standby, None
                    _, _, s_last, _, _, _, s_bids, s_asks = msgs[s]
                    if not self.snapshot(s_last, s_bids, s_asks):
                        pending = i
                        break
                    self.counts["snapshots_skipped"] -= 1
                    k = s - 1  # diffs written before the snapshot's line may be newer than it
                    while k > last_snap and (msgs[k][0] != DIFF or msgs[k][2] > s_last):
                        k -= 1
                    last_snap = s
                    end, i = max(end, i + 1), k + 1
                    continue
                if outcome == "applied" and (
                    self.chain == "none" or emitted is None or last > emitted
                ):
                    emitted = last
                    rows.append([ts, loc, last, *self._row(levels)])
                i += 1
        if pending is not None:
            self.counts["unsynced"] = sum(1 for m in msgs[pending:] if m[0] == DIFF)
        self.counts["rows"] = len(rows)
        cols = book_columns(levels) + ["status"]
        frame = (
            pd.DataFrame(rows, columns=cols, dtype=object) if rows else pd.DataFrame(columns=cols)
        )
        dtypes = dict.fromkeys(cols, np.float64) | dict.fromkeys(
            ["ts", "local_ts", "update_id"], np.int64
        )
        return frame.astype(dtypes | {"status": np.int8})

    def _row(self, levels: int) -> list:
        """The top ``levels`` as a flat row (prices and sizes per side), then the status."""
        b, a = self.top(levels)
        pad = [(np.nan, 0.0)] * levels
        b, a = (b + pad)[:levels], (a + pad)[:levels]
        status = CROSSED if self.crossed() else VALID
        self.counts["crossed"] += status == CROSSED
        return (
            [p for p, _ in b] + [q for _, q in b] + [p for p, _ in a] + [q for _, q in a] + [status]
        )
