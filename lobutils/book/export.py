"""A recording written in Tardis.dev's CSV layout, in the order a correct book consumes it.

:func:`to_tardis_csv` is the inverse of the Tardis readers
(:mod:`lobutils.data.archives.tardis`). Tardis' files carry no update ids, so a Binance recording
is written as the stream that the reference replay (:class:`~lobutils.book.replay.ReferenceBook`)
applies: deciding that order is a book-level step, which is why the writer lives in the book
layer and not beside the readers.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from lobutils.book.replay import ReferenceBook, _messages
from lobutils.data.binance import Recording
from lobutils.schema import ASK, BID, SNAPSHOT, TS_NA

__all__ = ["to_tardis_csv"]

_US = 1_000


def to_tardis_csv(
    source: Recording,
    path: str | os.PathLike,
    data_type: str = "incremental_book_L2",
    *,
    exchange: str,
    symbol: str | None = None,
) -> dict:
    """Write a recording's depth or trades as a Tardis.dev CSV file (gzip if ``.gz``).

    The inverse of :func:`~lobutils.data.archives.read_tardis_book` and
    :func:`~lobutils.data.archives.read_tardis_trades`: it writes the
    columns, value spellings and µs timestamps of Tardis' ``incremental_book_L2`` and ``trades``
    files, so that any recording (a Binance recording, a lake read) can be turned into a
    file in Tardis' layout, e.g. to test a Tardis pipeline offline.

    ``incremental_book_L2``
        Tardis' files have no update ids: after a snapshot every update applies. A source
        with an update-id chain (Binance, ``market`` ``"spot"`` or ``"futures"``) is therefore
        written as the stream a correct book consumes, decided by the chain rules of
        :class:`~lobutils.book.replay.ReferenceBook`: each snapshot that syncs a book, then the diffs
        it needs (the ones buffered before it included, so they follow its rows), then every
        chained diff. Diffs the snapshot already holds, duplicates, snapshots that arrive while
        the book is live, and diffs after a gap up to the next snapshot are left out (counted).
        A source without a chain (``market == "none"``) is written message by message.
        Messages without a level (an empty diff) have no row to write and are left out too.
    ``trades``
        One row per trade; ``side`` is the aggressor's (``buy``, ``sell``, ``unknown``) and a
        negative ``trade_id`` (none known) is written as an empty ``id``.

    Timestamps are written in µs (``ts // 1000``): ``timestamp`` is the exchange's time, or
    the receive time where the source has none (Binance spot snapshots), as Tardis does;
    ``local_timestamp`` is the receive time, or the exchange's time where the source has none.
    Reading the file back merges consecutive updates with the same µs ``local_timestamp`` into
    one message (Tardis' rule), which gives the same book after the merged message.

    Parameters
    ----------
    source
        A :class:`~lobutils.data.binance.Recording` (its ``depth`` or ``trades``).
    path
        The file to write (``.csv.gz`` like Tardis' downloads, or ``.csv``).
    data_type
        ``"incremental_book_L2"`` or ``"trades"``.
    exchange
        Tardis' exchange id, e.g. ``"binance"``, ``"binance-futures"``, ``"binance-delivery"``.
    symbol
        Symbol column (default the recording's, upper case as in Tardis' Binance files).

    Returns
    -------
    dict
        ``rows`` written and, for the book, ``messages``, ``snapshots``, ``updates`` and
        ``left_out`` (counts by reason).

    Examples
    --------
    A synthetic spot recording: two diffs buffered before the snapshot (one it already holds,
    one that straddles it), the snapshot, then a chained diff.

    >>> import os, tempfile
    >>> from lobutils.schema import BBO_COLUMNS, DEPTH_COLUMNS, TRADE_COLUMNS
    >>> from lobutils.schema import empty_frame, frame_from_arrays
    >>> depth = frame_from_arrays(DEPTH_COLUMNS,
    ...     ts=[5_000_000, 10_000_000, -2**63, -2**63, 30_000_000],
    ...     local_ts=[6_000_000, 11_000_000, 12_000_000, 12_000_000, 31_000_000],
    ...     msg=[0, 1, 2, 2, 3], kind=[0, 0, 1, 1, 0],
    ...     first_id=[3, 5, 6, 6, 8], last_id=[4, 7, 6, 6, 9], prev_id=[-1] * 5,
    ...     side=[1, 1, 1, -1, -1], price=[98.0, 99.5, 99.0, 101.0, 101.0],
    ...     qty=[5.0, 2.0, 1.0, 3.0, 0.5], line=[1, 2, 3, 3, 4])
    >>> from lobutils.data.binance import Recording
    >>> rec = Recording(depth, empty_frame(TRADE_COLUMNS), empty_frame(BBO_COLUMNS),
    ...                 symbol="btcusdt", market="spot", sources=(),
    ...                 line_offsets=np.zeros(1, np.int64), stats={})
    >>> p = os.path.join(tempfile.mkdtemp(), "BTCUSDT.csv.gz")
    >>> to_tardis_csv(rec, p, exchange="binance")["left_out"]["stale"]
    1
    >>> import gzip
    >>> print(gzip.open(p, "rt").read())
    exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount
    binance,BTCUSDT,12000,12000,true,bid,99.0,1.0
    binance,BTCUSDT,12000,12000,true,ask,101.0,3.0
    binance,BTCUSDT,10000,11000,false,bid,99.5,2.0
    binance,BTCUSDT,30000,31000,false,ask,101.0,0.5
    <BLANKLINE>
    >>> from lobutils.book.replay import reconstruct
    >>> from lobutils.data.archives import read_tardis_book
    >>> reconstruct(read_tardis_book(p), levels=1).frame.iloc[-1, 3:].tolist()
    [99.5, 2.0, 101.0, 0.5]
    """
    allowed = ("incremental_book_L2", "trades")
    if data_type not in allowed:
        raise ValueError(f"data_type must be one of {allowed}, got {data_type!r}")
    if not isinstance(source, Recording):
        raise TypeError(f"source must be a Recording, not {type(source).__name__}")
    sym = (symbol or source.symbol).upper()
    if not sym:
        raise ValueError("no symbol: the recording has none, give symbol=")
    if data_type == "trades":
        frame, stats = _trade_rows(source.trades)
    else:
        frame, stats = _book_rows(source.depth, source.market)
    frame.insert(0, "symbol", sym)
    frame.insert(0, "exchange", exchange)
    path = Path(path)
    compression = {"method": "gzip", "compresslevel": 1, "mtime": 0}
    frame.to_csv(
        path,
        index=False,
        lineterminator="\n",
        compression=compression if path.name.endswith(".gz") else None,
    )
    stats["rows"] = len(frame)
    return stats


def _us_times(ts: np.ndarray, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exchange and receive times in µs, each falling back on the other where missing."""
    ts_ok, loc_ok = ts != TS_NA, local != TS_NA
    if not (ts_ok | loc_ok).all():
        raise ValueError("rows without any timestamp cannot be written in Tardis' format")
    t = np.where(ts_ok, ts, local) // _US
    loc = np.where(loc_ok, local, ts) // _US
    return t, loc


def _trade_rows(trades: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    if not len(trades):
        raise ValueError("the recording has no trades")
    t, loc = _us_times(trades["ts"].to_numpy(np.int64), trades["local_ts"].to_numpy(np.int64))
    ids = trades["trade_id"].to_numpy(np.int64)
    side = trades["side"].to_numpy()
    frame = pd.DataFrame(
        {
            "timestamp": t,
            "local_timestamp": loc,
            "id": np.where(ids >= 0, ids.astype(str), ""),
            "side": np.select([side == 1, side == -1], ["buy", "sell"], "unknown"),
            "price": trades["price"].to_numpy(np.float64),
            "amount": trades["qty"].to_numpy(np.float64),
        }
    )
    return frame, {}


def _book_rows(depth: pd.DataFrame, market: str) -> tuple[pd.DataFrame, dict]:
    if not len(depth):
        raise ValueError("the recording has no depth events")
    m = _messages(depth)
    kind, start = m["kind"], m["start"]
    n_msg = len(kind)
    left = dict.fromkeys(
        ("before_first_snapshot", "stale", "duplicates", "live_snapshots", "after_gap"), 0
    )
    if market in ("spot", "futures"):
        order = _synced_order(m, depth, ReferenceBook(chain=market), left)
    else:
        order = np.arange(n_msg)
    rows = np.concatenate([np.arange(start[j], start[j + 1]) for j in order]) if len(order) else []
    rows = np.asarray(rows, dtype=np.int64)
    side = depth["side"].to_numpy()[rows]
    has_level = side != 0
    msg_of_row = np.repeat(order, np.diff(start)[order])[has_level]
    rows = rows[has_level]
    written = np.unique(msg_of_row)
    left["empty"] = int(np.isin(order, written, invert=True).sum())
    t, loc = _us_times(m["ts"][msg_of_row], m["local_ts"][msg_of_row])
    snap = kind[msg_of_row] == SNAPSHOT
    frame = pd.DataFrame(
        {
            "timestamp": t,
            "local_timestamp": loc,
            "is_snapshot": np.where(snap, "true", "false"),
            "side": np.where(side[has_level] == BID, "bid", "ask"),
            "price": depth["price"].to_numpy(np.float64)[rows],
            "amount": depth["qty"].to_numpy(np.float64)[rows],
        }
    )
    n_snap = int((kind[written] == SNAPSHOT).sum())
    stats = {
        "messages": len(written),
        "snapshots": n_snap,
        "updates": len(written) - n_snap,
        "left_out": left,
    }
    return frame, stats


def _synced_order(m: dict, depth: pd.DataFrame, book, left: dict) -> np.ndarray:
    """Message indices in the order a correct book consumes them (see :func:`to_tardis_csv`).

    ``book`` is a :class:`lobutils.book.replay.ReferenceBook` that decides every step; it is given
    the snapshots' levels (to refuse a crossed one) and no diff levels (only the decisions
    matter here).
    """
    kind, first, last, prev = m["kind"], m["first_id"], m["last_id"], m["prev_id"]
    start = m["start"]
    side = depth["side"].to_numpy()
    price = depth["price"].to_numpy()
    qty = depth["qty"].to_numpy()
    order: list[int] = []
    pending: list[int] = []  # diffs waiting for a snapshot

    def apply(i: int) -> str:
        out = book.diff(int(first[i]), int(last[i]), int(prev[i]), (), ())
        if out == "applied":
            order.append(i)
        elif out in ("stale", "duplicate"):
            left["stale" if out == "stale" else "duplicates"] += 1
        return out

    for j in range(len(kind)):
        if kind[j] == SNAPSHOT:
            if book.state == "live":
                left["live_snapshots"] += 1
                continue
            lo, hi = start[j], start[j + 1]
            s, p, q = side[lo:hi], price[lo:hi], qty[lo:hi]
            bids = list(zip(p[s == BID].tolist(), q[s == BID].tolist(), strict=True))
            asks = list(zip(p[s == ASK].tolist(), q[s == ASK].tolist(), strict=True))
            if not book.snapshot(int(last[j]), bids, asks):
                continue  # crossed: the buffered diffs wait for another snapshot
            order.append(j)
            waiting, pending = pending, []
            for k, i in enumerate(waiting):
                if apply(i) == "gap":
                    pending = waiting[k:]
                    break
        elif book.state == "no_book":
            pending.append(j)
        elif apply(j) == "gap":
            pending = [j]
    # diffs still waiting never met a snapshot: before the first one, or after a gap
    if not any(kind[j] == SNAPSHOT for j in order):
        left["before_first_snapshot"] = len(pending)
    else:
        left["after_gap"] = len(pending)
    return np.asarray(order, dtype=np.int64)
