"""Tardis.dev downloadable CSV files: ``incremental_book_L2``, ``book_snapshot_N``, ``trades``.

Tardis.dev records exchanges' websocket feeds and publishes them, normalised, as gzip CSV files,
one per exchange, data type, symbol and day, at
``https://datasets.tardis.dev/v1/<exchange>/<data_type>/<YYYY>/<MM>/<DD>/<SYMBOL>.csv.gz``
(see :func:`lobutils.acquire.download.tardis_url`). The first day of each month is free to download
without an API key. All timestamps are µs since the epoch, UTC; ``timestamp`` is the exchange's
time (or the receive time where the exchange sends none) and ``local_timestamp`` the time
Tardis received the message.

``incremental_book_L2`` -> :func:`read_tardis_book`
    ``exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount``, one row per
    level change; ``side`` is ``bid`` or ``ask``; ``amount`` is the new size at ``price``
    (0 removes the level). Rows of one exchange message share ``local_timestamp``; they become
    one message of the event schema. A run of ``is_snapshot == true`` rows is one snapshot:
    Tardis' rule is that when a snapshot row follows a non-snapshot row, the book is discarded,
    so the whole run replaces the book, whatever the timestamps of its rows (the message takes
    the timestamps of its last row, when the book is complete). Tardis writes a snapshot at the
    start of each day and after every reconnection; rows before the first snapshot are buffered
    updates that cannot be applied, and are left out and counted
    (``stats["before_first_snapshot"]``). There are no update ids: ``first_id``, ``last_id`` and
    ``prev_id`` are -1 and ``market`` is ``"none"``, so :func:`lobutils.book.replay.reconstruct`
    replays with ``chain="none"``.
``book_snapshot_5``, ``book_snapshot_25`` (any N) -> :func:`read_tardis_book_snapshots`
    ``exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price,
    bids[0].amount,asks[1].price,...``: the top N levels after every change, already
    reconstructed by Tardis. They load directly as a book frame (a :class:`SnapshotBook`, with
    the fields of :class:`lobutils.book.replay.Book`), with ``update_id == -1``; an empty field is a missing level
    (NaN price, zero size).
``trades`` -> :func:`read_tardis_trades`
    ``exchange,symbol,timestamp,local_timestamp,id,side,price,amount``; ``side`` is the taker's
    (aggressor's) side, ``buy`` -> +1, ``sell`` -> -1, and ``unknown`` (exchanges that do not
    say) -> 0, counted in ``stats["unknown_side"]``. A non-numeric ``id`` (BitMEX uses UUIDs)
    becomes -1, counted in ``stats["non_numeric_ids"]``.

Writing a recording in these layouts needs the replay's decisions (which diffs a correct book
consumes): that is :func:`lobutils.book.export.to_tardis_csv`, in the book layer.

Bad input
---------
A line with the wrong number of fields, text in a numeric field, an unknown ``side`` or
``is_snapshot`` value, a price that is not a positive number or a negative or NaN size raise
:class:`~lobutils.data.binance.RecordingError` naming file and line; ``errors="skip"`` drops the whole
message instead, counts it (``stats["malformed"]``) and, in the incremental book, also drops
the updates after it up to the next snapshot (``stats["dropped_after_gap"]``), since the book
they would apply to is wrong. An empty file, a header of another data type and a truncated gzip
raise (``on_truncated="warn"`` reads a cut file up to its last complete line instead, and
lists it in ``stats["truncated"]``; the incremental book also leaves out the file's last
message, which the cut may have shortened, counting its rows in ``stats["dropped_at_cut"]``).
Rows of another symbol or exchange raise, unless ``symbol=`` is given: they are then skipped
and counted (``stats["other_symbol"]``). Exact duplicate rows are skipped and counted
(``stats["duplicates"]``); a re-sent L2 update is harmless anyway, since it sets an absolute
size. An amount of 0 removes a level in an update; in a snapshot row it is counted
(``stats["zero_size_snapshot_levels"]``), since a snapshot lists no empty level, and is left
out of the book like any zero size. In ``book_snapshot_N`` an empty field is a missing level,
so the text ``NaN`` there is malformed. Timestamps that go backwards are counted
(``ts_backwards`` for the exchange clock, ``local_ts_backwards`` for the receive clock); rows
keep the file's order, which is arrival order. A crossed snapshot is counted by the replay
(``Book.stats["crossed_snapshots"]``).

Examples
--------
Synthetic rows in the real layout: a two-row snapshot, one update, then a second snapshot that
replaces the book, then one more update.

>>> import gzip, os, tempfile
>>> rows = '''exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount
... binance-futures,BTCUSDT,1000,1100,true,bid,100.0,1
... binance-futures,BTCUSDT,1000,1100,true,ask,101.0,2
... binance-futures,BTCUSDT,2000,2100,false,bid,100.5,3
... binance-futures,BTCUSDT,3000,3100,true,bid,90.0,5
... binance-futures,BTCUSDT,3000,3100,true,ask,91.0,6
... binance-futures,BTCUSDT,4000,4100,false,ask,91.0,0.5
... '''
>>> p = os.path.join(tempfile.mkdtemp(), "BTCUSDT.csv.gz")
>>> with gzip.open(p, "wt") as fh:
...     _ = fh.write(rows)
>>> rec = read_tardis_book(p)
>>> rec.symbol, rec.market, rec.stats["snapshots"], rec.stats["updates"]
('btcusdt', 'none', 2, 2)
>>> from lobutils.book.replay import reconstruct
>>> last = reconstruct(rec, levels=1).frame.iloc[-1]  # the second snapshot, then its update
>>> last[["bid_px_1", "bid_qty_1", "ask_px_1", "ask_qty_1"]].tolist()
[90.0, 5.0, 91.0, 0.5]
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lobutils.data.archives import _common as C
from lobutils.data.archives._csv import category_mask, category_text, read_table
from lobutils.data.binance import Recording, RecordingError
from lobutils.data.checks import (
    check_choice,
    count_backwards,
    input_paths,
    locate,
    reject_rows,
)
from lobutils.schema import ASK, BID, DIFF, SNAPSHOT, TRADE_COLUMNS, book_columns

__all__ = [
    "INCREMENTAL_COLUMNS",
    "TRADE_CSV_COLUMNS",
    "SnapshotBook",
    "read_tardis_book",
    "read_tardis_book_snapshots",
    "read_tardis_trades",
    "tardis_data_type",
]

INCREMENTAL_COLUMNS = [
    "exchange",
    "symbol",
    "timestamp",
    "local_timestamp",
    "is_snapshot",
    "side",
    "price",
    "amount",
]
TRADE_CSV_COLUMNS = [
    "exchange",
    "symbol",
    "timestamp",
    "local_timestamp",
    "id",
    "side",
    "price",
    "amount",
]
_HEAD = ["exchange", "symbol", "timestamp", "local_timestamp"]
_HEAD_SPECS = ["cat", "cat", "int", "int"]
_US = 1_000
_VALID, _CROSSED = 0, 1  # the book frame's status codes: lobutils.book.replay.VALID, CROSSED


@dataclass
class SnapshotBook:
    """Top-N book states read from Tardis ``book_snapshot_N`` files.

    The same fields as :class:`lobutils.book.replay.Book`, the book that a replay builds: these
    states come already built, and the data layer does not import the book layer.

    Attributes
    ----------
    frame : pandas.DataFrame
        The book frame (:func:`lobutils.schema.book_columns`), with a ``status`` column when
        crossed rows were kept.
    stats : dict
        Counts (see :func:`read_tardis_book_snapshots`).
    levels : int
        N, the levels per side in the frame.
    """

    frame: pd.DataFrame
    stats: dict
    levels: int


def tardis_data_type(header: list[str] | str) -> str:
    """The Tardis data type a CSV header belongs to.

    Parameters
    ----------
    header : list of str or str
        The header's fields, or the header line itself.

    Returns
    -------
    str
        ``"incremental_book_L2"``, ``"trades"`` or ``"book_snapshot_<N>"``.

    Raises
    ------
    ValueError
        If the header is none of these.

    Examples
    --------
    >>> tardis_data_type("exchange,symbol,timestamp,local_timestamp,id,side,price,amount")
    'trades'
    >>> tardis_data_type(["exchange", "symbol", "timestamp", "local_timestamp",
    ...                   "asks[0].price", "asks[0].amount", "bids[0].price", "bids[0].amount"])
    'book_snapshot_1'
    """
    cols = header.strip().split(",") if isinstance(header, str) else list(header)
    if cols == INCREMENTAL_COLUMNS:
        return "incremental_book_L2"
    if cols == TRADE_CSV_COLUMNS:
        return "trades"
    if cols[:4] == _HEAD and len(cols) > 4 and (len(cols) - 4) % 4 == 0:
        n = (len(cols) - 4) // 4
        if cols[4:] == _snapshot_columns(n):
            return f"book_snapshot_{n}"
    raise ValueError(
        f"not a Tardis incremental_book_L2, book_snapshot_N or trades header: {cols[:8]}"
    )


def _snapshot_columns(n: int) -> list[str]:
    out = []
    for i in range(n):
        out += [f"asks[{i}].price", f"asks[{i}].amount", f"bids[{i}].price", f"bids[{i}].amount"]
    return out


def _header(path: Path, on_truncated: str) -> list[str]:
    from lobutils.data.archives._csv import first_line

    if path.stat().st_size == 0:
        raise RecordingError(f"{path}: file is empty")
    try:
        import gzip

        with open(path, "rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        opener = gzip.open if gz else open
        with opener(path, "rb") as fh:
            head = fh.read(1 << 16)
    except (EOFError, OSError) as exc:
        if on_truncated == "raise":
            raise RecordingError(f"{path}: truncated or corrupt gzip file ({exc})") from None
        head = C.read_maybe_gzip(path, on_truncated)[0][: 1 << 16]
    line = first_line(head)
    if not line:
        raise RecordingError(f"{path}: file is empty")
    return line.split(",")


def _expect(path: Path, on_truncated: str, wanted: str) -> list[str]:
    cols = _header(path, on_truncated)
    try:
        kind = tardis_data_type(cols)
    except ValueError as exc:
        raise RecordingError(f"{path}:1: {exc}") from None
    if not kind.startswith(wanted):
        raise RecordingError(f"{path}:1: this is a Tardis {kind} file, not {wanted}")
    return cols


def _symbol_filter(tab, path: Path, symbol: str | None, given: bool, exchange, stats: dict):
    """Rows to keep by symbol and exchange; raises on a mix unless a symbol was asked for.

    Malformed rows (``tab.bad``) are kept, to be counted and dropped by the caller.
    """
    f = tab.frame
    ok = ~tab.bad
    if not ok.any():
        return tab.bad.copy(), symbol, exchange
    codes, texts = category_text(f["symbol"], lower=True)
    sym = texts[codes]
    codes, texts = category_text(f["exchange"])
    exch = texts[codes]
    first = int(np.flatnonzero(ok)[0])
    symbol = symbol or str(sym[first])
    exchange = exchange or str(exch[first])
    for name, col, want in (("symbol", sym, symbol), ("exchange", exch, exchange)):
        other = ok & (col != want)
        if other.any() and not given:
            k = int(np.flatnonzero(other)[0])
            raise RecordingError(
                f"{path}:{int(tab.line[k])}: rows of {name} {col[k]!r} among {want!r}; pass "
                "symbol=... to read one symbol of several"
            )
    keep = tab.bad | ((sym == symbol) & (exch == exchange))
    stats["other_symbol"] += int((~keep).sum())
    return keep, symbol, exchange


def read_tardis_book(
    files: str | os.PathLike | Iterable[str | os.PathLike],
    symbol: str | None = None,
    errors: str = "raise",
    on_truncated: str = "raise",
) -> Recording:
    """Read Tardis ``incremental_book_L2`` CSV file(s) of one symbol into the event schema.

    Parameters
    ----------
    files : str, path-like or iterable of them
        One ``.csv.gz`` (or plain ``.csv``) file or several consecutive days, in order.
    symbol : str, optional
        Symbol to read (any case); needed only when a file holds several.
    errors : {"raise", "skip"}
        ``"raise"`` (default) or ``"skip"`` (see the module notes).
    on_truncated : {"raise", "warn", "ignore"}
        ``"raise"`` (default), ``"warn"`` or ``"ignore"`` for a cut gzip file.

    Returns
    -------
    Recording
        ``depth`` filled (``market == "none"``). ``stats``: ``rows``, ``messages``,
        ``snapshots``, ``updates``, ``malformed``, ``other_symbol``, ``duplicates``,
        ``before_first_snapshot``, ``dropped_after_gap``, ``zero_size_snapshot_levels``,
        ``ts_backwards``, ``local_ts_backwards``, ``truncated`` (files cut mid-write, read
        with ``on_truncated="warn"``), ``dropped_at_cut``, ``exchange``.
    """
    check_choice("errors", errors, ("raise", "skip"))
    check_choice("on_truncated", on_truncated, ("raise", "warn", "ignore"))
    paths = input_paths(files)
    symbol = symbol.lower() if symbol else None
    given = symbol is not None
    specs = _HEAD_SPECS + ["bool", frozenset({"bid", "ask"}), "float", "float"]
    stats: dict = {
        "rows": 0,
        "malformed": 0,
        "malformed_lines": [],
        "other_symbol": 0,
        "truncated": [],
        "dropped_at_cut": 0,
    }
    exchange = None
    cols: dict[str, list] = {
        k: [] for k in ("ts", "local", "snap", "side", "px", "qty", "line", "bad")
    }
    offsets = [0]
    for p in paths:
        _expect(p, on_truncated, "incremental_book_L2")
        tab = read_table(
            p, INCREMENTAL_COLUMNS, specs, header=True, errors=errors, on_truncated=on_truncated
        )
        if tab.truncated:
            stats["truncated"].append(p.name)
        keep, symbol, exchange = _symbol_filter(tab, p, symbol, given, exchange, stats)
        if tab.truncated:
            keep = _drop_cut_message(tab, keep, stats)
        f = tab.frame[keep]
        cols["ts"].append(f["timestamp"].to_numpy(np.int64) * _US)
        cols["local"].append(f["local_timestamp"].to_numpy(np.int64) * _US)
        cols["snap"].append(f["is_snapshot"].to_numpy(bool))
        cols["side"].append(np.where(category_mask(f["side"], {"bid"}), BID, ASK).astype(np.int8))
        cols["px"].append(f["price"].to_numpy(np.float64))
        cols["qty"].append(f["amount"].to_numpy(np.float64))
        cols["line"].append(tab.line[keep] + offsets[-1])
        cols["bad"].append(tab.bad[keep])
        stats["rows"] += len(tab.frame)
        offsets.append(offsets[-1] + int(tab.line[-1]))
    r = {k: np.concatenate(v) for k, v in cols.items()}
    r["bad"] |= C.bad_level(r["px"], r["qty"])
    reject_rows(
        stats,
        r["bad"],
        errors,
        "invalid level price={px} amount={qty}; prices must be positive numbers and amounts "
        "numbers >= 0",
        lines=r["line"],
        paths=paths,
        offsets=offsets,
        px=r["px"],
        qty=r["qty"],
    )
    depth = _book_messages(r, paths, offsets, stats)
    stats["exchange"] = exchange
    C.warn_counts(str(paths[0]), stats, ("dropped_after_gap", "malformed"))
    return C.recording(
        symbol=symbol or "",
        market=C.NO_CHAIN,
        paths=paths,
        offsets=offsets,
        stats=stats,
        depth=depth,
    )


def _drop_cut_message(tab, keep: np.ndarray, stats: dict) -> np.ndarray:
    """Leave out the last message of a file cut mid-write: the cut may have taken some of its
    rows (half a snapshot is a wrong book). Counts its rows in ``stats["dropped_at_cut"]``."""
    rows = np.flatnonzero(keep)
    if not len(rows):
        return keep
    snap = tab.frame["is_snapshot"].to_numpy(bool)[rows]
    local = tab.frame["local_timestamp"].to_numpy(np.int64)[rows]
    new = (snap[1:] != snap[:-1]) | (~snap[1:] & (local[1:] != local[:-1]))
    starts = np.flatnonzero(new)
    start = int(starts[-1]) + 1 if len(starts) else 0
    keep = keep.copy()
    keep[rows[start:]] = False
    stats["dropped_at_cut"] += len(rows) - start
    return keep


def _book_messages(r: dict, paths, offsets, stats: dict) -> pd.DataFrame:
    n = len(r["ts"])
    if n == 0:
        raise RecordingError(f"{paths[0]}: no rows of the requested symbol")
    snap, local = r["snap"].copy(), r["local"].copy()
    # a malformed row's own fields cannot be trusted: it joins the message before it, so that
    # the whole message it may have belonged to is dropped
    bad_rows = np.flatnonzero(r["bad"])
    if len(bad_rows):
        idx = np.where(r["bad"], 0, np.arange(n))
        np.maximum.accumulate(idx, out=idx)
        snap[bad_rows] = snap[idx[bad_rows]]
        local[bad_rows] = local[idx[bad_rows]]
    new = np.ones(n, bool)
    new[1:] = (snap[1:] != snap[:-1]) | (~snap[1:] & (local[1:] != local[:-1]))
    msg = np.cumsum(new) - 1
    n_msg = int(msg[-1]) + 1
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], n] - 1  # last row of each message
    m_kind = np.where(snap[starts], SNAPSHOT, DIFF).astype(np.int8)
    m_bad = np.zeros(n_msg, bool)
    np.logical_or.at(m_bad, msg, r["bad"])
    keep, before, after = C.apply_sync(m_kind, m_bad, np.zeros(n_msg, bool))
    stats["before_first_snapshot"] = int(before.sum())
    stats["dropped_after_gap"] = int(after.sum())
    if not keep.any():
        raise RecordingError(
            f"{paths[0]}: no usable order-book message (snapshots: {int((m_kind == SNAPSHOT).sum())})"
        )
    rows = keep[msg]
    # exact duplicate rows within a message are harmless re-sends of the same absolute size
    lvl = pd.DataFrame({"m": msg, "s": r["side"], "p": r["px"], "q": r["qty"]})
    dup = lvl.duplicated().to_numpy() & rows
    stats["duplicates"] = int(dup.sum())
    rows &= ~dup
    # a snapshot lists no empty level: one is counted, and left out of the book like any 0 size
    zero = rows & (m_kind[msg] == SNAPSHOT) & (r["qty"] == 0)
    stats["zero_size_snapshot_levels"] = int(np.count_nonzero(zero))
    new_index = np.cumsum(keep) - 1
    good_end = ends.copy()
    if len(bad_rows):  # take a message's times from its last well-formed row
        last_good = np.maximum.accumulate(np.where(r["bad"], -1, np.arange(n)))
        good_end = np.where(last_good[ends] >= starts, last_good[ends], ends)
    m_ts, m_local, m_line = r["ts"][good_end], local[good_end], r["line"][ends]
    depth = C.depth_frame(
        m_ts[keep],
        m_local[keep],
        m_kind[keep],
        np.full(int(keep.sum()), -1, np.int64),
        m_line[keep],
        new_index[msg[rows]],
        r["side"][rows],
        r["px"][rows],
        r["qty"][rows],
    )
    stats["messages"] = int(keep.sum())
    stats["snapshots"] = int((m_kind[keep] == SNAPSHOT).sum())
    stats["updates"] = int((m_kind[keep] == DIFF).sum())
    for name, arr in (("ts_backwards", m_ts[keep]), ("local_ts_backwards", m_local[keep])):
        count, first = count_backwards(arr)
        stats[name] = count
        if count:
            stats[name + "_first"] = locate(paths, offsets, int(m_line[keep][first]))
    return depth


def read_tardis_trades(
    files: str | os.PathLike | Iterable[str | os.PathLike],
    symbol: str | None = None,
    errors: str = "raise",
    on_truncated: str = "raise",
) -> Recording:
    """Read Tardis ``trades`` CSV file(s) of one symbol into the event schema.

    ``side`` becomes the aggressor side (+1 buy, -1 sell, 0 unknown); duplicated trade ids are
    skipped and counted (``stats["duplicates"]``); a price or amount that is not a positive
    number raises (or, with ``errors="skip"``, drops the row, counted in ``malformed``).

    Parameters
    ----------
    files : str, path-like or iterable of them
        One ``.csv.gz`` (or plain ``.csv``) file or several consecutive days, in order.
    symbol : str, optional
        Symbol to read (any case); needed only when a file holds several.
    errors : {"raise", "skip"}
        A malformed row raises, or is dropped and counted.
    on_truncated : {"raise", "warn", "ignore"}
        What a gzip file cut mid-stream does: raise, or read up to its last complete line.

    Returns
    -------
    Recording
        ``trades`` filled (``ts`` and ``local_ts`` in int64 ns, from Tardis's µs),
        ``market == "none"``; ``stats`` counts ``rows``, ``malformed``, ``duplicates``,
        ``other_symbol`` and names the ``truncated`` files.

    Raises
    ------
    lobutils.data.binance.RecordingError
        If a file is empty, cut (``on_truncated="raise"``), not a Tardis trades file, holds
        several symbols and none is named, or (``errors="raise"``) a row is malformed.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "trades.csv")
    >>> _ = open(p, "w").write(
    ...     "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\\n"
    ...     "binance,BTCUSDT,1000,1200,7,buy,100.5,0.1\\n"
    ...     "binance,BTCUSDT,2000,2200,8,sell,100.0,0.3\\n")
    >>> t = read_tardis_trades(p).trades
    >>> t[["ts", "trade_id", "side", "qty"]].to_numpy().tolist()
    [[1000000.0, 7.0, 1.0, 0.1], [2000000.0, 8.0, -1.0, 0.3]]
    """
    check_choice("errors", errors, ("raise", "skip"))
    paths = input_paths(files)
    symbol = symbol.lower() if symbol else None
    given = symbol is not None
    specs = _HEAD_SPECS + ["str", frozenset({"buy", "sell", "unknown"}), "float", "float"]
    stats: dict = {
        "rows": 0,
        "malformed": 0,
        "malformed_lines": [],
        "other_symbol": 0,
        "truncated": [],
    }
    frames = []
    offsets = [0]
    exchange = None
    for p in paths:
        _expect(p, on_truncated, "trades")
        tab = read_table(
            p, TRADE_CSV_COLUMNS, specs, header=True, errors=errors, on_truncated=on_truncated
        )
        if tab.truncated:
            stats["truncated"].append(p.name)
        keep, symbol, exchange = _symbol_filter(tab, p, symbol, given, exchange, stats)
        f = tab.frame
        px = f["price"].to_numpy(np.float64)
        qty = f["amount"].to_numpy(np.float64)
        with np.errstate(invalid="ignore"):
            bad_val = ~(np.isfinite(px) & (px > 0) & np.isfinite(qty) & (qty > 0))
        bad = (tab.bad | bad_val) & keep
        reject_rows(
            stats,
            bad,
            errors,
            "invalid trade price={px} amount={qty}; both must be positive numbers",
            lines=tab.line,
            paths=p,
            px=px,
            qty=qty,
        )
        keep &= ~bad
        ids = f["id"].to_numpy()[keep]
        num = pd.to_numeric(pd.Series(ids), errors="coerce")
        frames.append(
            pd.DataFrame(
                {
                    "ts": f["timestamp"].to_numpy(np.int64)[keep] * _US,
                    "local_ts": f["local_timestamp"].to_numpy(np.int64)[keep] * _US,
                    "trade_id": num.fillna(-1).to_numpy(np.int64),
                    "price": px[keep],
                    "qty": qty[keep],
                    "side": (
                        category_mask(f["side"], {"buy"}).astype(np.int8)
                        - category_mask(f["side"], {"sell"}).astype(np.int8)
                    )[keep],
                    "line": tab.line[keep] + offsets[-1],
                    "_id": ids,
                }
            )
        )
        stats["rows"] += len(f)
        offsets.append(offsets[-1] + int(tab.line[-1]))
    t = pd.concat(frames, ignore_index=True)
    dup = (t["_id"].duplicated() & (t["_id"] != "")).to_numpy()
    stats["duplicates"] = int(dup.sum())
    t = t[~dup].reset_index(drop=True)
    stats["non_numeric_ids"] = int((t["trade_id"] == -1).sum())
    stats["unknown_side"] = int((t["side"] == 0).sum())
    stats["trades"] = len(t)
    stats["exchange"] = exchange
    for name, col in (("ts_backwards", "ts"), ("local_ts_backwards", "local_ts")):
        count, first = count_backwards(t[col].to_numpy())
        stats[name] = count
        if count:
            stats[name + "_first"] = locate(paths, offsets, int(t["line"].iat[first]))
    trades = t.drop(columns="_id").astype(TRADE_COLUMNS)
    return C.recording(
        symbol=symbol or "",
        market=C.NO_CHAIN,
        paths=paths,
        offsets=offsets,
        stats=stats,
        trades=trades,
    )


def read_tardis_book_snapshots(
    files: str | os.PathLike | Iterable[str | os.PathLike],
    symbol: str | None = None,
    include_invalid: bool = False,
    errors: str = "raise",
    on_truncated: str = "raise",
) -> SnapshotBook:
    """Load Tardis ``book_snapshot_N`` CSV file(s) directly as a book frame.

    Parameters
    ----------
    files : str, path-like or iterable of them
        One file or several consecutive days of the same N.
    symbol : str, optional
        Symbol to read; needed only when a file holds several.
    include_invalid : bool
        Keep crossed rows (best bid >= best ask), with a ``status`` column (``VALID`` = 0 or
        ``CROSSED`` = 1) as :func:`lobutils.book.replay.reconstruct` does. By default they are left out
        and counted (``stats["crossed"]``).
    errors, on_truncated : str
        As for :func:`read_tardis_book`. A level that is not a positive price with a positive
        amount, or levels out of price order, are malformed.

    Returns
    -------
    SnapshotBook
        ``frame`` in the book-frame layout (:func:`lobutils.schema.book_columns`), ``levels``
        N, ``stats`` with ``rows``, ``crossed``, ``duplicates`` (consecutive identical rows,
        skipped), ``malformed``, ``other_symbol``, ``ts_backwards``, ``local_ts_backwards``,
        ``truncated``.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "snap.csv")
    >>> _ = open(p, "w").write(
    ...     "exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,"
    ...     "bids[0].price,bids[0].amount,asks[1].price,asks[1].amount,bids[1].price,"
    ...     "bids[1].amount\\n"
    ...     "deribit,BTC-PERPETUAL,1000,1500,101,2,100,1,102,3,,\\n")
    >>> b = read_tardis_book_snapshots(p)
    >>> b.levels, b.frame.iloc[0][["bid_px_1", "bid_px_2", "bid_qty_2", "ask_px_2"]].tolist()
    (2, [100.0, nan, 0.0, 102.0])
    """
    check_choice("errors", errors, ("raise", "skip"))
    paths = input_paths(files)
    symbol = symbol.lower() if symbol else None
    given = symbol is not None
    stats: dict = {
        "rows": 0,
        "malformed": 0,
        "malformed_lines": [],
        "other_symbol": 0,
        "truncated": [],
    }
    levels = None
    frames = []
    offsets = [0]
    exchange = None
    for p in paths:
        cols = _expect(p, on_truncated, "book_snapshot_")
        n = (len(cols) - 4) // 4
        if levels is not None and n != levels:
            raise RecordingError(f"{p}: book_snapshot_{n} after book_snapshot_{levels} files")
        levels = n
        tab = read_table(
            p,
            cols,
            _HEAD_SPECS + ["float?"] * (4 * n),
            header=True,
            errors=errors,
            on_truncated=on_truncated,
        )
        if tab.truncated:
            stats["truncated"].append(p.name)
        keep, symbol, exchange = _symbol_filter(tab, p, symbol, given, exchange, stats)
        f = tab.frame
        arr = {
            (side, field): f[[f"{side}[{i}].{field}" for i in range(n)]].to_numpy(np.float64)
            for side in ("bids", "asks")
            for field in ("price", "amount")
        }
        bad = tab.bad | _bad_snapshot_rows(arr)
        reject_rows(
            stats,
            bad & keep,
            errors,
            "invalid book levels (prices must be positive and in order, amounts positive, and a "
            "missing level has neither)",
            lines=tab.line,
            paths=p,
        )
        keep &= ~bad
        data = {
            "ts": f["timestamp"].to_numpy(np.int64)[keep] * _US,
            "local_ts": f["local_timestamp"].to_numpy(np.int64)[keep] * _US,
            "update_id": np.full(int(keep.sum()), -1, np.int64),
        }
        for side, short in (("bids", "bid"), ("asks", "ask")):
            px = arr[(side, "price")][keep]
            qty = np.nan_to_num(arr[(side, "amount")][keep], nan=0.0)
            for i in range(n):
                data[f"{short}_px_{i + 1}"] = px[:, i]
            for i in range(n):
                data[f"{short}_qty_{i + 1}"] = qty[:, i]
        frame = pd.DataFrame(data)
        frame["_line"] = tab.line[keep] + offsets[-1]
        frames.append(frame)
        stats["rows"] += len(f)
        offsets.append(offsets[-1] + int(tab.line[-1]))
    frame = pd.concat(frames, ignore_index=True)
    body = frame.drop(columns=["_line"])
    same = (body.iloc[1:].to_numpy() == body.iloc[:-1].to_numpy()) | (
        np.isnan(body.iloc[1:].to_numpy(np.float64)) & np.isnan(body.iloc[:-1].to_numpy(np.float64))
    )
    dup = np.r_[False, same.all(axis=1)] if len(body) > 1 else np.zeros(len(body), bool)
    stats["duplicates"] = int(dup.sum())
    frame = frame[~dup].reset_index(drop=True)
    with np.errstate(invalid="ignore"):
        crossed = (frame["bid_px_1"] >= frame["ask_px_1"]).to_numpy()
    stats["crossed"] = int(crossed.sum())
    for name, col in (("ts_backwards", "ts"), ("local_ts_backwards", "local_ts")):
        count, first = count_backwards(frame[col].to_numpy())
        stats[name] = count
        if count:
            stats[name + "_first"] = locate(paths, offsets, int(frame["_line"].iat[first]))
    frame = frame.drop(columns="_line")
    if include_invalid:
        frame["status"] = np.where(crossed, _CROSSED, _VALID).astype(np.int8)
    else:
        frame = frame[~crossed].reset_index(drop=True)
    stats["exchange"] = exchange
    stats["symbol"] = symbol
    stats["sources"] = [str(p) for p in paths]
    dtypes = dict.fromkeys(book_columns(levels), np.float64) | {
        "ts": np.int64,
        "local_ts": np.int64,
        "update_id": np.int64,
    }
    frame = frame.astype(dtypes)
    stats["rows_out"] = len(frame)
    return SnapshotBook(frame=frame, stats=stats, levels=int(levels))


def _bad_snapshot_rows(arr: dict) -> np.ndarray:
    """Rows with an invalid level: bad numbers, half-missing levels, or levels out of order."""
    bad = np.zeros(len(arr[("bids", "price")]), bool)
    for side in ("bids", "asks"):
        px, qty = arr[(side, "price")], arr[(side, "amount")]
        miss_px, miss_q = np.isnan(px), np.isnan(qty)
        with np.errstate(invalid="ignore"):
            bad |= (miss_px != miss_q).any(axis=1)
            bad |= (~miss_px & ~((px > 0) & np.isfinite(px))).any(axis=1)
            bad |= (~miss_q & ~((qty > 0) & np.isfinite(qty))).any(axis=1)
            # a missing level must not be followed by a present one
            bad |= (miss_px[:, :-1] & ~miss_px[:, 1:]).any(axis=1)
            step = np.diff(px, axis=1)
            wrong = step >= 0 if side == "bids" else step <= 0
            bad |= (wrong & ~np.isnan(step)).any(axis=1)
    return bad
