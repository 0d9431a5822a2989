"""Bad-input matrix: every reader meets every bad-input case (issue 9, "Reliability: bad input").

The rule each cell checks: a bad input gives either an exception that names the file and the
line or row (for ccxt polls: the symbol and the poll), or an event that is skipped, dropped or
flagged *and counted* in the stats the reader returns (``Recording.stats``, ``Book.stats``,
``frame.attrs["stats"]``, ``Collector.stats``: what the chapters write to metrics.json), with
the rest of the output still correct: the book rebuilt from a file with the fault equals the
book without it, is marked invalid across a gap, or is not emitted at all. Never a silently
wrong book or feature.

All inputs are synthetic. The Binance recording fragments are the first lines of the bundled
real recordings (``data/binance-2024-08-08``, see its README) with synthetic faults injected.
The archive fragments are small files written here in the exact layouts of the real archives
(the readers' module notes give the sources of the layouts; ``tests/test_archives.py`` uses
the same ones). The ccxt polls are dicts in the layout ccxt returns, served by a fake exchange
object: no network.

Matrix
------
Columns are the readers: ``binance`` (:func:`lobutils.data.binance.read_binance_recording` with
:func:`lobutils.book.replay.reconstruct`), ``bybit`` (:func:`~lobutils.data.archives.read_bybit_orderbook`),
``td_l2``, ``td_snap``, ``td_trd`` (Tardis ``incremental_book_L2``, ``book_snapshot_N``,
``trades``), ``dv_trd``, ``dv_tick``, ``dv_depth`` (data.vision ``trades``/``aggTrades``,
``bookTicker``, ``bookDepth``) and ``ccxt`` (:class:`lobutils.acquire.collect.Collector` polling a fake
exchange, with :func:`~lobutils.acquire.polls.polls_to_depth`, :func:`~lobutils.acquire.polls.trades_to_frame`
and :func:`~lobutils.acquire.collect.read_collected`).

Codes: ``R`` raises, naming file and line or row (a fault of the whole file, such as an empty
or cut archive, names the file); ``C`` skipped, dropped or flagged, and counted; ``R/C``
raises by default, skipped and counted with the documented option (``errors="skip"``,
``symbol=...``, ``on_truncated="warn"``); ``C/R`` counted by default, raises under the option
(``on_truncated="raise"``, ``on_gap="raise"``), in the stricter sub-case the cell also tests (no
snapshot at all), or, for ccxt, where the strict converters meet what the collector counts;
``n/a`` does not apply (see below).

============  =======  =====  =====  =======  ======  ======  =======  ========  ====
case          binance  bybit  td_l2  td_snap  td_trd  dv_trd  dv_tick  dv_depth  ccxt
============  =======  =====  =====  =======  ======  ======  =======  ========  ====
empty         R        R      R      R        R       R       R        R         C/R
truncated     C/R      R      R/C    R/C      R/C     R       R        R         R
malformed     R/C      R/C    R/C    R/C      R/C     R/C     R/C      R/C       C/R
unknown_type  C        C      R/C    n/a      R/C     R/C     n/a      n/a       C
out_of_order  C        C      C      C        C       C       C        C         C
duplicates    C        C      C      C        C       C       C        C         C
seq_gap       C        C/R    n/a    n/a      n/a     C       n/a      n/a       C
delta_first   C/R      C/R    C/R    n/a      n/a     n/a     n/a      n/a       n/a
crossed       C        C      C      C        n/a     n/a     C        n/a       C
bad_values    R/C      R/C    R/C    R/C      R/C     R/C     R/C      R/C       C/R
nan           R/C      R/C    R/C    R/C      R/C     R/C     R/C      R/C       C/R
wrong_symbol  R/C      R/C    R/C    R/C      R/C     R       R        R         C
============  =======  =====  =====  =======  ======  ======  =======  ========  ====

Cases: an empty file (for ccxt: an empty book, and an empty parquet part); a truncated gzip
or zip (ccxt: a cut parquet part); a malformed line in the middle; an unknown message type
(an unknown stream or ``type``; in CSV files an unknown value of an enumerated field such as
``side``; ccxt: a trade whose side is unknown); out-of-order timestamps; duplicated messages;
a sequence gap; a delta before any snapshot; a crossed snapshot; zero or negative prices and
sizes (a size of 0 in a diff is legal: it deletes the level; in a snapshot it is counted, see
each reader's notes); NaN strings; a wrong symbol mixed in (data.vision rows carry no symbol:
there the check is the archive member's name and the list of files).

Not applicable (also the reasons of the skipped tests): see :data:`NA`.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import json
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lobutils.acquire.collect import Collector, read_collected
from lobutils.acquire.polls import polls_to_depth, trades_to_frame
from lobutils.book.replay import CROSSED, INVALID, VALID, BookError, reconstruct
from lobutils.data.archives import (
    read_bybit_orderbook,
    read_tardis_book,
    read_tardis_book_snapshots,
    read_tardis_trades,
    read_vision_book_depth,
    read_vision_book_ticker,
    read_vision_trades,
)
from lobutils.data.binance import RecordingError, read_binance_recording
from lobutils.data.catalog import segment
from lobutils.schema import SNAPSHOT

READERS = (
    "binance",
    "bybit",
    "td_l2",
    "td_snap",
    "td_trd",
    "dv_trd",
    "dv_tick",
    "dv_depth",
    "ccxt",
)
CASES = (
    "empty",
    "truncated",
    "malformed",
    "unknown_type",
    "out_of_order",
    "duplicates",
    "seq_gap",
    "delta_first",
    "crossed",
    "bad_values",
    "nan",
    "wrong_symbol",
)

_NOT_A_BOOK = "{what}, not a book: there is no snapshot or delta"
NA: dict[tuple[str, str], str] = {
    ("td_l2", "seq_gap"): (
        "Tardis incremental_book_L2 rows carry no sequence number or update id, so a lost "
        "message cannot be told from the file (Tardis writes a new snapshot after a reconnect, "
        "which the reader honours)"
    ),
    ("td_snap", "unknown_type"): (
        "book_snapshot_N rows have no message-type or enumerated field: every row is a snapshot"
    ),
    ("td_snap", "seq_gap"): (
        "book_snapshot_N rows carry no sequence number, and each is a complete top-N book: a "
        "missing row loses no state"
    ),
    ("td_snap", "delta_first"): "book_snapshot_N holds snapshots only, no deltas",
    ("td_trd", "seq_gap"): (
        "Tardis trade ids are the exchange's and not consecutive in general (BitMEX uses "
        "UUIDs): a gap cannot be told from the file"
    ),
    ("td_trd", "delta_first"): _NOT_A_BOOK.format(what="trades"),
    ("td_trd", "crossed"): "trades, not a book or quotes: nothing can cross",
    ("dv_trd", "delta_first"): _NOT_A_BOOK.format(what="trades"),
    ("dv_trd", "crossed"): "trades, not a book or quotes: nothing can cross",
    ("dv_tick", "unknown_type"): "bookTicker rows have no message-type or enumerated field",
    ("dv_tick", "seq_gap"): (
        "a bookTicker update id is the book's update id when the top changed; the book changes "
        "more often than its top, so the ids skip by design (ids going back are counted, under "
        "out_of_order)"
    ),
    ("dv_tick", "delta_first"): _NOT_A_BOOK.format(what="best quotes"),
    ("dv_depth", "unknown_type"): "bookDepth rows have no message-type or enumerated field",
    ("dv_depth", "seq_gap"): (
        "bookDepth samples carry no sequence number, and their spacing (30-60 s) is irregular "
        "by design"
    ),
    ("dv_depth", "delta_first"): _NOT_A_BOOK.format(what="cumulative depth bands"),
    ("dv_depth", "crossed"): "cumulative depth bands have no best bid and ask that could cross",
    ("ccxt", "delta_first"): "every poll is a full book snapshot: there are no deltas",
}
"""Cells that do not apply, with the reason (the reason of the skipped test)."""

CELLS: dict[tuple[str, str], Callable[[Path], str]] = {}


def cell(reader: str, case: str):
    """Register the test of one cell; it returns the code it checked (R, C, R/C, C/R)."""
    assert reader in READERS and case in CASES and (reader, case) not in CELLS

    def register(fn):
        CELLS[(reader, case)] = fn
        return fn

    return register


def grid() -> dict[tuple[str, str], str]:
    """The matrix of the module docstring as ``{(reader, case): code}``."""
    lines = [line.split() for line in __doc__.splitlines()]
    header = next(words for words in lines if words[:1] == ["case"])
    rows = [w for w in lines if len(w) == len(header) and w[0] in CASES]
    return {
        (reader, row[0]): code
        for row in rows
        for reader, code in zip(header[1:], row[1:], strict=True)
    }


def raises_at(exc_type, where: Path | str, line: int | None = None, what: str = ""):
    """``pytest.raises`` whose message must name the file (and line) and match ``what``."""
    loc = re.escape(str(where)) + (f":{line}" if line is not None else "")
    return pytest.raises(exc_type, match=loc + (r"\b.*" + what if what else ""))


T0 = 1_723_075_200_000  # 2024-08-08 00:00:00 UTC, ms
US0 = T0 * 1000


# =========================================================================== Binance recordings


@functools.cache
def rec_lines(name: str = "spot_btcusdt", n: int = 800) -> tuple[str, ...]:
    """The first ``n`` lines of a bundled real recording (the material faults are injected in)."""
    with gzip.open(segment(name).files[0], "rt") as fh:
        return tuple(itertools.islice(fh, n))


def write_rec(tmp_path: Path, lines, name: str = "spot_btcusdt_20240808.gz") -> Path:
    p = tmp_path / name
    p.write_bytes(gzip.compress("".join(lines).encode()))
    return p


def kinds(lines) -> dict[str, list[int]]:
    """0-based indices of the lines of each kind: depth, trade, bbo, snapshot."""
    out: dict[str, list[int]] = {"depth": [], "trade": [], "bbo": [], "snapshot": []}
    for i, line in enumerate(lines):
        if '"lastUpdateId"' in line[:80]:
            out["snapshot"].append(i)
        elif "@depth" in line[:80]:
            out["depth"].append(i)
        elif "@trade" in line[:80]:
            out["trade"].append(i)
        elif "@bookTicker" in line[:80]:
            out["bbo"].append(i)
    return out


def edit(line: str, fn, local_shift: int = 0) -> str:
    """A recording line with its JSON changed by ``fn(obj)`` (and its local time shifted)."""
    local, body = line.split(" ", 1)
    obj = json.loads(body)
    fn(obj)
    return f"{int(local) + local_shift} {json.dumps(obj, separators=(',', ':'))}\n"


def inject(lines, before: dict[int, list[str]]) -> tuple[list[str], list[int]]:
    """Insert lines before the given 0-based indices; returns them and the new 1-based lines."""
    out, added = [], []
    for i, line in enumerate([*lines, None]):
        for extra in before.get(i, []):
            out.append(extra)
            added.append(len(out))
        if line is not None:
            out.append(line)
    return out, added


def unshift(frame: pd.DataFrame, added) -> pd.DataFrame:
    """A frame's ``line`` column as it was before the lines ``added`` were inserted."""
    out = frame.copy()
    ins = np.sort(np.asarray(added, np.int64))
    out["line"] = out["line"] - np.searchsorted(ins, out["line"].to_numpy(), side="left")
    return out


def assert_same_recording(rec, clean, added=(), tables=("depth", "trades", "bbo")):
    for t in tables:
        pd.testing.assert_frame_equal(unshift(getattr(rec, t), added), getattr(clean, t), obj=t)


def book_of(rec, **kw):
    return reconstruct(rec, levels=5, include_invalid=True, **kw)


@functools.cache
def clean_spot() -> tuple:
    """The fault-free fragment: its recording and its book (read once)."""
    with tempfile.TemporaryDirectory() as d:
        rec = read_binance_recording(write_rec(Path(d), rec_lines()))
    return rec, book_of(rec)


def assert_valid_prefix_then_invalid(book, clean_book, lost_u: int):
    """The book across a gap: valid rows equal the fault-free rows before the lost diff, then
    one INVALID marker, and no valid row after it (no snapshot follows to resync)."""
    f = book.frame
    valid = f[f.status == VALID].reset_index(drop=True)
    ref = clean_book.frame
    ref = ref[(ref.status == VALID) & (ref.update_id < lost_u)].reset_index(drop=True)
    pd.testing.assert_frame_equal(valid, ref)
    marker = np.flatnonzero(f.status.to_numpy() == INVALID)
    assert len(marker) == 1 and marker[0] == len(f) - 1 and f.update_id.iat[-1] > lost_u
    assert np.isnan(f.iloc[-1][[c for c in f.columns if "_px_" in c]].to_numpy(float)).all()
    assert book.stats["gaps"] == 1


@cell("binance", "empty")
def _(tmp_path):
    for p, raw in (
        (tmp_path / "spot_btcusdt_20240808.gz", gzip.compress(b"")),
        (tmp_path / "spot_btcusdt_20240809.txt", b"\n\n"),
    ):
        p.write_bytes(raw)
        with raises_at(RecordingError, p, what="file is empty"):
            read_binance_recording(p)
    return "R"


@cell("binance", "truncated")
def _(tmp_path):
    lines = rec_lines()
    raw = write_rec(tmp_path, lines, "whole.gz").read_bytes()
    cut = tmp_path / "spot_btcusdt_20240808.gz"
    cut.write_bytes(raw[: len(raw) * 2 // 3])
    with pytest.warns(UserWarning, match=re.escape(str(cut)) + ": file is truncated"):
        rec = read_binance_recording(cut)
    assert rec.stats["truncated"] == [cut.name]
    n = rec.stats["lines"]
    assert kinds(lines)["snapshot"][0] < n < len(lines)
    # what was read equals the fault-free file of its complete lines
    clean = read_binance_recording(write_rec(tmp_path, lines[:n], "head.gz"))
    assert_same_recording(rec, clean)
    with raises_at(RecordingError, cut, what="file is truncated"):
        read_binance_recording(cut, on_truncated="raise")
    return "C/R"


@cell("binance", "malformed")
def _(tmp_path):
    lines = rec_lines()
    clean, clean_book = clean_spot()
    bad = '1723161254087891268 {"stream":"btcusdt@trade","data":{"p":\n'
    at = 300
    faulty, added = inject(lines, {at: [bad]})
    p = write_rec(tmp_path, faulty)
    with raises_at(RecordingError, p, at + 1, "malformed JSON"):
        read_binance_recording(p)
    rec = read_binance_recording(p, errors="skip")
    assert rec.stats["malformed"] == 1 and rec.stats["malformed_lines"] == [f"{p}:{at + 1}"]
    assert_same_recording(rec, clean, added)
    # a depth diff cut short: skipped and counted, and the book engine sees the gap it leaves
    k = kinds(lines)["depth"][30]
    cut = list(lines)
    cut[k] = lines[k][:90] + "\n"
    p2 = write_rec(tmp_path, cut, "spot_btcusdt_20240809.gz")
    with raises_at(RecordingError, p2, k + 1, "malformed JSON"):
        read_binance_recording(p2)
    rec2 = read_binance_recording(p2, errors="skip")
    assert rec2.stats["malformed"] == 1
    lost_u = json.loads(lines[k].split(" ", 1)[1])["data"]["u"]
    assert_valid_prefix_then_invalid(book_of(rec2), clean_book, lost_u)
    return "R/C"


@cell("binance", "unknown_type")
def _(tmp_path):
    lines = rec_lines()
    clean, clean_book = clean_spot()
    local = lines[299].split(" ", 1)[0]
    extra = [
        f'{local} {{"stream":"btcusdt@markPrice@1s","data":{{"e":"markPriceUpdate","p":"1"}}}}\n',
        f'{local} {{"stream":"btcusdt@kline_1m","data":{{"e":"kline","k":{{}}}}}}\n',
        f'{local} {{"result":null,"id":7}}\n',  # a valid JSON object of no known layout
    ]
    faulty, added = inject(lines, {300: extra})
    rec = read_binance_recording(write_rec(tmp_path, faulty))
    assert rec.stats["skipped_streams"] == {
        **clean.stats["skipped_streams"],
        "btcusdt@markPrice@1s": 1,
        "btcusdt@kline_1m": 1,
        "<unknown message>": 1,
    }
    assert_same_recording(rec, clean, added)
    pd.testing.assert_frame_equal(book_of(rec).frame, clean_book.frame)
    return "C"


@cell("binance", "out_of_order")
def _(tmp_path):
    lines = rec_lines()
    clean, clean_book = clean_spot()
    k = kinds(lines)
    tr, dp, bb = k["trade"][10], k["depth"][30], k["bbo"][100]
    faulty = list(lines)

    def earlier(field):
        def fn(obj):
            obj["data"][field] -= 10_000  # 10 s before the message before it

        return fn

    faulty[tr] = edit(lines[tr], earlier("T"))
    faulty[dp] = edit(lines[dp], earlier("E"))
    faulty[bb] = edit(lines[bb], lambda obj: None, local_shift=-10 * 10**9)
    p = write_rec(tmp_path, faulty)
    rec = read_binance_recording(p)
    assert rec.stats["ts_backwards"] == {"depth": 1, "trades": 1, "bbo": 0}
    assert rec.stats["ts_backwards_first"] == {"depth": f"{p}:{dp + 1}", "trades": f"{p}:{tr + 1}"}
    assert rec.stats["local_ts_backwards"] == 1
    assert rec.stats["local_ts_backwards_first"] == f"{p}:{bb + 1}"
    # the book follows the update ids, not the clock: the same book, one state's time changed
    book = book_of(rec).frame
    pd.testing.assert_frame_equal(book.drop(columns="ts"), clean_book.frame.drop(columns="ts"))
    assert int((book.ts != clean_book.frame.ts).sum()) == 1
    return "C"


@cell("binance", "duplicates")
def _(tmp_path):
    lines = rec_lines()
    clean, clean_book = clean_spot()
    k = kinds(lines)
    dp, tr, bb = k["depth"][30], k["trade"][10], k["bbo"][100]
    faulty, added = inject(lines, {i + 1: [lines[i]] for i in (dp, tr, bb)})
    rec = read_binance_recording(write_rec(tmp_path, faulty))
    assert (rec.stats["duplicate_trades"], rec.stats["duplicate_bbo"]) == (1, 1)
    assert_same_recording(rec, clean, added, tables=("trades", "bbo"))
    book = book_of(rec)
    assert book.stats["duplicates"] == 1
    pd.testing.assert_frame_equal(book.frame, clean_book.frame)
    return "C"


@cell("binance", "seq_gap")
def _(tmp_path):
    lines = rec_lines()
    clean, clean_book = clean_spot()
    k = kinds(lines)
    dp, tr = k["depth"][30], k["trade"][10]
    faulty = [x for i, x in enumerate(lines) if i not in (dp, tr)]
    rec = read_binance_recording(write_rec(tmp_path, faulty))
    # a trade id missing: counted
    assert (rec.stats["trade_id_gaps"], rec.stats["missing_trade_ids"]) == (1, 1)
    lost_trade = json.loads(lines[tr].split(" ", 1)[1])["data"]["t"]
    assert rec.trades.trade_id.tolist() == [t for t in clean.trades.trade_id if t != lost_trade]
    # a depth diff missing: the book is invalid from the gap on, and nothing valid follows
    lost_u = json.loads(lines[dp].split(" ", 1)[1])["data"]["u"]
    book = book_of(rec)
    assert_valid_prefix_then_invalid(book, clean_book, lost_u)
    assert book.stats["unsynced"] == int(
        (clean.depth.drop_duplicates("msg").last_id > lost_u).sum()
    )
    return "C"


@cell("binance", "delta_first")
def _(tmp_path):
    lines = rec_lines()
    clean, clean_book = clean_spot()
    snap = kinds(lines)["snapshot"][0]
    last_id = json.loads(lines[snap].split(" ", 1)[1])["lastUpdateId"]
    # every diff now arrives before the snapshot: buffered, then replayed (or counted stale)
    moved = [x for i, x in enumerate(lines) if i != snap] + [lines[snap]]
    book = book_of(read_binance_recording(write_rec(tmp_path, moved)))
    pd.testing.assert_frame_equal(book.frame, clean_book.frame)
    diffs = clean.depth.drop_duplicates("msg")
    stale = int(((diffs.kind != SNAPSHOT) & (diffs.last_id <= last_id)).sum())
    assert stale > 0 and book.stats["stale"] == stale and book.stats["unsynced"] == 0
    # no snapshot at all: no diff can be applied, and the error names the first line
    p = write_rec(tmp_path, [x for i, x in enumerate(lines) if i != snap], "nosnap.gz")
    with raises_at(BookError, "nosnap.gz", 1, "no depth snapshot"):
        reconstruct(read_binance_recording(p))
    return "C/R"


def _cross(obj):
    best_ask = min(float(p) for p, _ in obj["asks"])
    obj["bids"].insert(0, [f"{best_ask + 1:.8f}", "1.00000000"])


@cell("binance", "crossed")
def _(tmp_path):
    lines = rec_lines()
    snap = kinds(lines)["snapshot"][0]
    faulty = list(lines)
    faulty[snap] = edit(lines[snap], _cross)
    rec = read_binance_recording(write_rec(tmp_path, faulty))
    book = book_of(rec)
    assert book.stats["crossed_snapshots"] == 1 and book.stats["snapshots"] == 0
    assert len(book.frame) == 0  # no state at all, not even an invalid one
    assert book.stats["unsynced"] == rec.stats["diffs"]
    return "C"


def _set_level(table: str, which: int, value: str):
    """An edit that puts ``value`` at position ``which`` of the first bid level (depth,
    snapshot) or of the trade/quote field named by ``which``."""

    def fn(obj):
        if table == "snapshot":
            obj["bids"][0][which] = value
        elif table == "depth":
            data = obj["data"]
            (data["b"] or data["a"])[0][which] = value
        else:
            obj["data"][which] = value

    return fn


def _binance_bad_values(tmp_path, cases, name):
    lines = rec_lines()
    clean, clean_book = clean_spot()
    k = kinds(lines)
    rows = {"depth": k["depth"][30], "snapshot": k["snapshot"][0], "trade": k["trade"][10]}
    rows["bbo"] = k["bbo"][100]
    for n, (table, which, value, message) in enumerate(cases):
        i = rows[table]
        faulty = list(lines)
        faulty[i] = edit(lines[i], _set_level(table, which, value))
        p = write_rec(tmp_path, faulty, f"{name}{n}_20240808.gz")
        with raises_at(RecordingError, p, i + 1, re.escape(message)):
            read_binance_recording(p)
        rec = read_binance_recording(p, errors="skip")
        assert rec.stats["malformed"] == 1 and rec.stats["malformed_lines"] == [f"{p}:{i + 1}"]
        for t in ("trades", "bbo"):  # nothing else lost, no bad value kept
            ref = getattr(clean, t)
            pd.testing.assert_frame_equal(
                getattr(rec, t), ref[ref.line != i + 1].reset_index(drop=True), obj=t
            )
        if table == "depth":  # the lost diff is a gap for the book
            lost_u = json.loads(lines[i].split(" ", 1)[1])["data"]["u"]
            assert_valid_prefix_then_invalid(book_of(rec), clean_book, lost_u)
        elif table == "snapshot":  # no snapshot left: no book
            with pytest.raises(BookError, match="no depth snapshot"):
                book_of(rec)
        else:
            pd.testing.assert_frame_equal(book_of(rec).frame, clean_book.frame)


@cell("binance", "bad_values")
def _(tmp_path):
    _binance_bad_values(
        tmp_path,
        [
            ("depth", 0, "0.00000000", "price '0.00000000' is not > 0"),
            ("depth", 0, "-61800.00", "price '-61800.00' is not > 0"),
            ("depth", 1, "-0.5", "size '-0.5' is not >= 0"),
            ("snapshot", 0, "0", "price '0' is not > 0"),
            ("snapshot", 1, "-2", "size '-2' is not >= 0"),
            ("trade", "p", "0.00000000", "price '0.00000000' is not > 0"),
            ("trade", "q", "0.00000000", "size '0.00000000' is not > 0"),
            ("trade", "p", "-1", "price '-1' is not > 0"),
            ("bbo", "b", "-61837.63", "price '-61837.63' is not > 0"),
            ("bbo", "A", "-1.5", "size '-1.5' is not >= 0"),
        ],
        "bad",
    )
    # a size of 0 in a diff is legal (it deletes the level): read, applied, nothing counted
    lines = rec_lines()
    clean, clean_book = clean_spot()
    i = kinds(lines)["depth"][30]
    zero = list(lines)
    zero[i] = edit(lines[i], _set_level("depth", 1, "0.00000000"))
    rec = read_binance_recording(write_rec(tmp_path, zero, "zero_diff.gz"))
    assert rec.stats["malformed"] == 0 and rec.stats["zero_size_snapshot_levels"] == 0
    assert reconstruct(rec).stats["applied"] == clean_book.stats["applied"]
    # in a snapshot it is suspicious (a REST snapshot lists no empty level): counted, and the
    # level is left out of the book, so the book is the fault-free one
    snap = kinds(lines)["snapshot"][0]
    extra = list(lines)
    extra[snap] = edit(lines[snap], lambda o: o["bids"].append(["1.00000000", "0.00000000"]))
    rec = read_binance_recording(write_rec(tmp_path, extra, "zero_snap.gz"))
    assert rec.stats["zero_size_snapshot_levels"] == 1
    pd.testing.assert_frame_equal(book_of(rec).frame, clean_book.frame)
    return "R/C"


@cell("binance", "nan")
def _(tmp_path):
    _binance_bad_values(
        tmp_path,
        [
            ("depth", 0, "NaN", "expected a finite number, got 'NaN'"),
            ("depth", 1, "nan", "expected a finite number, got 'nan'"),
            ("snapshot", 1, "NaN", "expected a finite number, got 'NaN'"),
            ("trade", "p", "NaN", "expected a finite number, got 'NaN'"),
            ("trade", "q", "Infinity", "expected a finite number, got 'Infinity'"),
            ("bbo", "a", "NaN", "expected a finite number, got 'NaN'"),
            ("bbo", "B", "-inf", "expected a finite number, got '-inf'"),
        ],
        "nan",
    )
    return "R/C"


@cell("binance", "wrong_symbol")
def _(tmp_path):
    # COIN-M: snapshots name their symbol, so one symbol can be read out of a mixed file
    btc = rec_lines("cm_btcusd_perp", 400)
    eth = list(rec_lines("cm_ethusd_perp", 400)[100:110])  # diffs, trades, quotes; no snapshot
    faulty, added = inject(btc, {200: eth})
    p = write_rec(tmp_path, faulty, "cm_btcusd_perp_20240808.gz")
    with raises_at(RecordingError, p, 201, r"another symbol \(ethusd_perp\)"):
        read_binance_recording(p)
    rec = read_binance_recording(p, symbol="btcusd_perp")
    assert rec.stats["other_symbol"] == len(eth)
    clean = read_binance_recording(write_rec(tmp_path, btc, "clean.gz"))
    assert_same_recording(rec, clean, added)
    # spot snapshots name no symbol: a mixed spot file cannot be read, even for one symbol
    spot = rec_lines()
    mixed, _ = inject(spot, {300: list(rec_lines("spot_ethusdt", 50)[20:30])})
    q = write_rec(tmp_path, mixed, "spot_btcusdt_20240808.gz")
    snap = kinds(spot)["snapshot"][0] + 1
    with raises_at(RecordingError, q, snap, "does not say which symbol"):
        read_binance_recording(q, symbol="btcusdt")
    return "R/C"


# =========================================================================== Bybit


def bmsg(typ, u, k=0, b=(), a=(), sym="BTCUSDT", ts=None):
    """One Bybit ob200 archive line (as a dict) in the real v5 layout."""
    ts = T0 + 100 * k if ts is None else ts
    return {
        "topic": f"orderbook.200.{sym}",
        "type": typ,
        "ts": ts,
        "data": {
            "s": sym,
            "b": [[str(p), str(q)] for p, q in b],
            "a": [[str(p), str(q)] for p, q in a],
            "u": u,
            "seq": 1000 + u,
        },
        "cts": ts - 2,
    }


def bybit_zip(tmp_path, lines, name="2024-08-08_BTCUSDT_ob200.data.zip"):
    path = tmp_path / name
    body = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name.removesuffix(".zip"), body)
    return path


SNAP = bmsg("snapshot", 10, 0, b=[(100, 1), (99, 2)], a=[(101, 1), (102, 2)])
D1 = bmsg("delta", 11, 1, b=[(100, 3)], a=[(101, 0)])
D2 = bmsg("delta", 12, 2, b=[(100.5, 1)], a=[(101.5, 4)])
D3 = bmsg("delta", 13, 3, a=[(101.5, 2)])
RESNAP = bmsg("snapshot", 20, 5, b=[(100, 9)], a=[(103, 9)])
D21 = bmsg("delta", 21, 6, a=[(103, 1)])


def bybit_book(tmp_path, lines, name, **kw):
    """The reader's recording of ``lines`` and its replayed book frame (chain "none")."""
    rec = read_bybit_orderbook(bybit_zip(tmp_path, lines, name), **kw)
    return rec, reconstruct(rec, levels=2, include_invalid=True)


def bybit_clean(tmp_path, lines):
    return bybit_book(tmp_path, lines, "2024-07-01_BTCUSDT_ob200.data.zip")[1].frame


@cell("bybit", "empty")
def _(tmp_path):
    empty = tmp_path / "2024-08-08_BTCUSDT_ob200.data.zip"
    empty.write_bytes(b"")
    with raises_at(RecordingError, empty, what="file is empty"):
        read_bybit_orderbook(empty)
    blank = bybit_zip(tmp_path, ["", ""], name="2024-08-09_BTCUSDT_ob200.data.zip")
    with raises_at(RecordingError, blank, what="file is empty"):
        read_bybit_orderbook(blank)
    return "R"


@cell("bybit", "truncated")
def _(tmp_path):
    good = bybit_zip(tmp_path, [SNAP, D1, D2] * 50, name="2024-08-10_BTCUSDT_ob200.data.zip")
    cut = tmp_path / "2024-08-11_BTCUSDT_ob200.data.zip"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with raises_at(RecordingError, cut, what="truncated or corrupt zip"):
        read_bybit_orderbook(cut)
    return "R"


@cell("bybit", "malformed")
def _(tmp_path):
    lines = [SNAP, '{"topic": "orderbook.200.BTCUSDT", "type": "del', D2, RESNAP, D21]
    path = bybit_zip(tmp_path, lines)
    with raises_at(RecordingError, path, 2, "malformed JSON"):
        read_bybit_orderbook(path)
    with pytest.warns(UserWarning, match="malformed=1"):
        rec, book = bybit_book(tmp_path, lines, path.name, errors="skip")
    assert rec.stats["malformed"] == 1 and rec.stats["malformed_lines"] == [f"{path}:2"]
    # the lost message may have changed the book: D2 is left out (counted) until the resync
    assert rec.stats["dropped_after_gap"] == 1
    pd.testing.assert_frame_equal(book.frame, bybit_clean(tmp_path, [SNAP, RESNAP, D21]))
    return "R/C"


@cell("bybit", "unknown_type")
def _(tmp_path):
    rec, book = bybit_book(tmp_path, [SNAP, dict(D1, type="mystery"), D1, D2], "x.data.zip")
    assert rec.stats["unknown_types"] == {"mystery": 1}
    pd.testing.assert_frame_equal(book.frame, bybit_clean(tmp_path, [SNAP, D1, D2]))
    return "C"


@cell("bybit", "out_of_order")
def _(tmp_path):
    rec, book = bybit_book(tmp_path, [SNAP, D1, dict(D2, ts=T0 - 5), D3], "x.data.zip")
    assert rec.stats["ts_backwards"] == 1
    assert rec.stats["ts_backwards_first"] == f"{tmp_path / 'x.data.zip'}:3"
    clean = bybit_clean(tmp_path, [SNAP, D1, D2, D3])
    pd.testing.assert_frame_equal(book.frame.drop(columns="ts"), clean.drop(columns="ts"))
    return "C"


@cell("bybit", "duplicates")
def _(tmp_path):
    rec, book = bybit_book(tmp_path, [SNAP, D1, D1, D2, D1, D3, SNAP], "x.data.zip")
    assert rec.stats["duplicates"] == 3  # two re-sent deltas and a re-sent old snapshot
    pd.testing.assert_frame_equal(book.frame, bybit_clean(tmp_path, [SNAP, D1, D2, D3]))
    return "C"


@cell("bybit", "seq_gap")
def _(tmp_path):
    jump, after = bmsg("delta", 14, 3, b=[(98, 1)]), bmsg("delta", 15, 4, b=[(97, 1)])
    lines = [SNAP, D1, D2, jump, after, RESNAP, D21]
    path = bybit_zip(tmp_path, lines)
    with pytest.warns(UserWarning, match="gaps=1"):
        rec, book = bybit_book(tmp_path, lines, path.name)
    assert rec.stats["gaps"] == 1 and rec.stats["dropped_after_gap"] == 2
    assert rec.stats["gap_lines"] == [f"{path}:4 (u 12 -> 14)"]
    # no state is built on the missing update: the book resumes at the next snapshot
    pd.testing.assert_frame_equal(book.frame, bybit_clean(tmp_path, [SNAP, D1, D2, RESNAP, D21]))
    with raises_at(RecordingError, path, 4, "update id gap"):
        read_bybit_orderbook(path, on_gap="raise")
    return "C/R"


@cell("bybit", "delta_first")
def _(tmp_path):
    early = bmsg("delta", 9, 0, b=[(150, 1)])
    rec, book = bybit_book(tmp_path, [early, SNAP, D1, D2], "x.data.zip")
    assert rec.stats["before_first_snapshot"] == 1
    pd.testing.assert_frame_equal(book.frame, bybit_clean(tmp_path, [SNAP, D1, D2]))
    only = bybit_zip(tmp_path, [early, D1], name="2024-08-09_BTCUSDT_ob200.data.zip")
    with raises_at(RecordingError, only, what="no usable order-book message"):
        read_bybit_orderbook(only)
    return "C/R"


@cell("bybit", "crossed")
def _(tmp_path):
    crossed = bmsg("snapshot", 30, 3, b=[(105, 1)], a=[(104, 1)])
    after = bmsg("delta", 31, 4, b=[(104.5, 1)])
    resnap = bmsg("snapshot", 40, 5, b=[(100, 9)], a=[(103, 9)])
    rec, book = bybit_book(tmp_path, [SNAP, D1, crossed, after, resnap], "x.data.zip")
    assert book.stats["crossed_snapshots"] == 1
    # no state from the crossed snapshot, nor from the delta on top of it
    pd.testing.assert_frame_equal(book.frame, bybit_clean(tmp_path, [SNAP, D1, resnap]))
    return "C"


def _bybit_bad(tmp_path, levels):
    for n, (level, message) in enumerate(levels):
        bad = bmsg("delta", 13, 3, b=[level])
        lines = [SNAP, D1, D2, bad, bmsg("delta", 14, 4, a=[(102, 5)]), RESNAP, D21]
        path = bybit_zip(tmp_path, lines, name=f"2024-08-{n + 10}_BTCUSDT_ob200.data.zip")
        with raises_at(RecordingError, path, 4, re.escape(message)):
            read_bybit_orderbook(path)
        with pytest.warns(UserWarning, match="malformed=1"):
            rec, book = bybit_book(tmp_path, lines, path.name, errors="skip")
        assert rec.stats["malformed"] == 1 and rec.stats["malformed_lines"] == [f"{path}:4"]
        assert rec.stats["dropped_after_gap"] == 1
        assert not rec.depth.price[rec.depth.side != 0].isna().any()
        pd.testing.assert_frame_equal(
            book.frame, bybit_clean(tmp_path, [SNAP, D1, D2, RESNAP, D21])
        )


@cell("bybit", "bad_values")
def _(tmp_path):
    _bybit_bad(
        tmp_path,
        [
            ((100, -1), "invalid level price=100.0 size=-1.0"),
            ((0, 1), "invalid level price=0.0 size=1.0"),
            ((-5, 1), "invalid level price=-5.0 size=1.0"),
        ],
    )
    # a size of 0 in a snapshot: counted, left out of the book
    zero = bmsg("snapshot", 10, 0, b=[(100, 1), (99, 2), (98, 0)], a=[(101, 1), (102, 2)])
    rec, book = bybit_book(tmp_path, [zero, D1, D2], "z.data.zip")
    assert rec.stats["zero_size_snapshot_levels"] == 1
    pd.testing.assert_frame_equal(book.frame, bybit_clean(tmp_path, [SNAP, D1, D2]))
    return "R/C"


@cell("bybit", "nan")
def _(tmp_path):
    _bybit_bad(
        tmp_path,
        [
            (("NaN", 1), "invalid level price=nan size=1.0"),
            ((100, "NaN"), "invalid level price=100.0 size=nan"),
            (("Infinity", 1), "invalid level price=inf size=1.0"),
        ],
    )
    return "R/C"


@cell("bybit", "wrong_symbol")
def _(tmp_path):
    eth = bmsg("delta", 11, 1, b=[(3000, 1)], sym="ETHUSDT")
    lines = [SNAP, eth, D1, D2]
    path = bybit_zip(tmp_path, lines)
    with raises_at(RecordingError, path, 2, "a message of symbol 'ethusdt'"):
        read_bybit_orderbook(path)
    rec, book = bybit_book(tmp_path, lines, path.name, symbol="BTCUSDT")
    assert rec.stats["other_symbol"] == 1
    pd.testing.assert_frame_equal(book.frame, bybit_clean(tmp_path, [SNAP, D1, D2]))
    return "R/C"


# =========================================================================== Tardis

L2_HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"
TRADE_HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
SNAP_HEADER = (
    "exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price,"
    "bids[0].amount,asks[1].price,asks[1].amount,bids[1].price,bids[1].amount"
)


def l2(rows, ex="binance-futures", sym="BTCUSDT"):
    """Rows (ts_offset_us, local_offset_us, snapshot, side, price, amount) as CSV lines."""
    out = []
    for r in rows:
        if isinstance(r, str):
            out.append(r)
            continue
        t, lt, snap, side, px, amt = r
        out.append(
            f"{ex},{sym},{US0 + t},{US0 + lt},{'true' if snap else 'false'},{side},{px},{amt}"
        )
    return out


def tardis_gz(tmp_path, lines, header=L2_HEADER, name="BTCUSDT.csv.gz"):
    path = tmp_path / name
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join([header, *lines]) + "\n")
    return path


ROWS = [
    (0, 10, True, "bid", 100.0, 1),
    (0, 10, True, "bid", 99.0, 2),
    (1, 11, True, "ask", 101.0, 1),
    (1, 11, True, "ask", 102.0, 2),
    (50, 60, False, "bid", 100.0, 3),  # one message: two rows with the same local time
    (50, 60, False, "ask", 101.0, 0),
    (70, 80, False, "bid", 100.5, 1),  # file line 8
    (90, 100, True, "bid", 90.0, 5),  # a second snapshot replaces the whole book
    (90, 100, True, "ask", 91.0, 6),
    (95, 105, False, "ask", 91.0, 0.5),
]


def tardis_book(tmp_path, lines, name="BTCUSDT.csv.gz", **kw):
    rec = read_tardis_book(tardis_gz(tmp_path, lines, name=name), **kw)
    return rec, reconstruct(rec, levels=2, include_invalid=True)


def tardis_clean(tmp_path, rows, without=()):
    """The fault-free book frame, less the states of the messages received at ``without``."""
    f = tardis_book(tmp_path, l2(rows), name="clean.csv.gz")[1].frame
    drop = f.local_ts.isin([(US0 + x) * 1000 for x in without])
    return f[~drop].reset_index(drop=True)


@cell("td_l2", "empty")
def _(tmp_path):
    empty = tmp_path / "e.csv.gz"
    empty.write_bytes(b"")
    with raises_at(RecordingError, empty, what="file is empty"):
        read_tardis_book(empty)
    header_only = tardis_gz(tmp_path, [], name="h.csv.gz")
    with raises_at(RecordingError, header_only, what="no data rows"):
        read_tardis_book(header_only)
    return "R"


def _many_rows(n=200):
    return [(t + 1000 * k, lt + 1000 * k, *rest) for k in range(n) for t, lt, *rest in ROWS]


@cell("td_l2", "truncated")
def _(tmp_path):
    rows = _many_rows()
    good = tardis_gz(tmp_path, l2(rows), name="g.csv.gz")
    cut = tmp_path / "BTCUSDT.csv.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with raises_at(RecordingError, cut, what="truncated or corrupt gzip"):
        read_tardis_book(cut)
    with pytest.warns(UserWarning, match="truncated"):
        rec = read_tardis_book(cut, on_truncated="warn")
    assert rec.stats["truncated"] == [cut.name]
    # the last message may have lost rows at the cut: it is left out, counted
    n = rec.stats["rows"] - rec.stats["dropped_at_cut"]
    assert 0 < rec.stats["dropped_at_cut"] <= 4 and 0 < n < len(rows)
    book = reconstruct(rec, levels=2, include_invalid=True).frame
    pd.testing.assert_frame_equal(book, tardis_clean(tmp_path, rows[:n]))
    return "R/C"


@cell("td_l2", "malformed")
def _(tmp_path):
    lines = l2(ROWS)
    lines.insert(5, "binance-futures,BTCUSDT,oops,1,false,bid,1,1")  # file line 7
    p = tardis_gz(tmp_path, lines)
    with raises_at(RecordingError, p, 7, "timestamp 'oops' is not a number"):
        read_tardis_book(p)
    with pytest.warns(UserWarning, match="malformed=1"):
        rec, book = tardis_book(tmp_path, lines, errors="skip")
    assert rec.stats["malformed"] == 1 and rec.stats["malformed_lines"] == [f"{p}:7"]
    # the message the bad row may belong to is dropped, and the update after it waits for the
    # second snapshot
    assert rec.stats["dropped_after_gap"] == 1
    pd.testing.assert_frame_equal(book.frame, tardis_clean(tmp_path, ROWS, without=(60, 80)))
    return "R/C"


@cell("td_l2", "unknown_type")
def _(tmp_path):
    for n, (old, new, message) in enumerate(
        [
            (",bid,", ",middle,", "side 'middle' is not one of"),
            (",false,", ",maybe,", "is_snapshot"),
        ]
    ):
        lines = l2(ROWS)
        lines[6] = lines[6].replace(old, new)
        p = tardis_gz(tmp_path, lines, name=f"u{n}.csv.gz")
        with raises_at(RecordingError, p, 8, message):
            read_tardis_book(p)
        with pytest.warns(UserWarning, match="malformed=1"):
            rec, book = tardis_book(tmp_path, lines, name=p.name, errors="skip")
        assert rec.stats["malformed"] == 1
        # a bad row joins the message before it, which is dropped with it
        pd.testing.assert_frame_equal(book.frame, tardis_clean(tmp_path, ROWS, without=(60, 80)))
    return "R/C"


@cell("td_l2", "out_of_order")
def _(tmp_path):
    rows = list(ROWS)
    rows[6] = (40, 80, False, "bid", 100.5, 1)  # exchange time before the message before it
    rec, book = tardis_book(tmp_path, l2(rows))
    assert (rec.stats["ts_backwards"], rec.stats["local_ts_backwards"]) == (1, 0)
    assert rec.stats["ts_backwards_first"].endswith("BTCUSDT.csv.gz:8")
    clean = tardis_clean(tmp_path, ROWS)
    pd.testing.assert_frame_equal(book.frame.drop(columns="ts"), clean.drop(columns="ts"))
    return "C"


@cell("td_l2", "duplicates")
def _(tmp_path):
    rows = [*ROWS[:6], ROWS[5], ROWS[4], *ROWS[6:]]  # a message's rows sent twice
    rec, book = tardis_book(tmp_path, l2(rows))
    assert rec.stats["duplicates"] == 2
    pd.testing.assert_frame_equal(book.frame, tardis_clean(tmp_path, ROWS))
    return "C"


@cell("td_l2", "delta_first")
def _(tmp_path):
    rec, book = tardis_book(tmp_path, l2([(-5, -5, False, "bid", 150.0, 1), *ROWS]))
    assert rec.stats["before_first_snapshot"] == 1
    pd.testing.assert_frame_equal(book.frame, tardis_clean(tmp_path, ROWS))
    only = tardis_gz(tmp_path, l2(ROWS[4:7]), name="u.csv.gz")
    with raises_at(RecordingError, only, what="no usable order-book message"):
        read_tardis_book(only)
    return "C/R"


@cell("td_l2", "crossed")
def _(tmp_path):
    crossed = [(-9, -9, True, "bid", 101.0, 1), (-9, -9, True, "ask", 100.0, 1)]
    rec, book = tardis_book(tmp_path, l2([*crossed, (-5, -5, False, "bid", 99.0, 1), *ROWS]))
    assert book.stats["crossed_snapshots"] == 1
    pd.testing.assert_frame_equal(book.frame, tardis_clean(tmp_path, ROWS))
    return "C"


def _tardis_l2_bad(tmp_path, values):
    for n, (price, amount, message) in enumerate(values):
        lines = l2(ROWS)
        lines[6] = f"binance-futures,BTCUSDT,{US0 + 70},{US0 + 80},false,bid,{price},{amount}"
        p = tardis_gz(tmp_path, lines, name=f"b{n}.csv.gz")
        with raises_at(RecordingError, p, 8, re.escape(message)):
            read_tardis_book(p)
        with pytest.warns(UserWarning, match="malformed=1"):
            rec, book = tardis_book(tmp_path, lines, name=p.name, errors="skip")
        assert rec.stats["malformed"] == 1 and rec.stats["malformed_lines"] == [f"{p}:8"]
        assert not rec.depth.price[rec.depth.side != 0].isna().any()
        pd.testing.assert_frame_equal(book.frame, tardis_clean(tmp_path, ROWS, without=(60, 80)))


@cell("td_l2", "bad_values")
def _(tmp_path):
    _tardis_l2_bad(
        tmp_path,
        [
            ("100", "-1", "invalid level price=100.0 amount=-1.0"),
            ("0", "1", "invalid level price=0.0 amount=1.0"),
            ("-3", "1", "invalid level price=-3.0 amount=1.0"),
        ],
    )
    # an amount of 0 in a snapshot row: counted, and left out of the book
    rec, book = tardis_book(tmp_path, l2([(0, 10, True, "bid", 98.0, 0), *ROWS]), name="z.csv.gz")
    assert rec.stats["zero_size_snapshot_levels"] == 1
    pd.testing.assert_frame_equal(book.frame, tardis_clean(tmp_path, ROWS))
    return "R/C"


@cell("td_l2", "nan")
def _(tmp_path):
    _tardis_l2_bad(
        tmp_path,
        [
            ("NaN", "1", "invalid level price=nan amount=1.0"),
            ("100", "NaN", "invalid level price=100.0 amount=nan"),
            ("nan", "1", "invalid level price=nan amount=1.0"),
        ],
    )
    return "R/C"


@cell("td_l2", "wrong_symbol")
def _(tmp_path):
    lines = l2(ROWS)
    lines.insert(6, *l2([(70, 80, False, "bid", 3000.0, 1)], sym="ETHUSDT"))
    p = tardis_gz(tmp_path, lines)
    with raises_at(RecordingError, p, 8, "rows of symbol 'ethusdt' among 'btcusdt'"):
        read_tardis_book(p)
    rec, book = tardis_book(tmp_path, lines, symbol="btcusdt")
    assert rec.stats["other_symbol"] == 1
    pd.testing.assert_frame_equal(book.frame, tardis_clean(tmp_path, ROWS))
    return "R/C"


# --- book_snapshot_2


def srow(t, mid, ex="binance-futures", sym="BTCUSDT", local=None, **override):
    """A book_snapshot_2 row around ``mid``; ``override`` replaces fields by column name."""
    f = {
        "asks[0].price": f"{mid + 0.5}",
        "asks[0].amount": "1",
        "bids[0].price": f"{mid - 0.5}",
        "bids[0].amount": "2",
        "asks[1].price": f"{mid + 1.5}",
        "asks[1].amount": "3",
        "bids[1].price": f"{mid - 1.5}",
        "bids[1].amount": "4",
    }
    f.update({k.replace("_", "[", 1).replace("_", "].", 1): v for k, v in override.items()})
    local = t + 7 if local is None else local
    return f"{ex},{sym},{US0 + t},{US0 + local}," + ",".join(f.values())


SNAPS = [srow(10 * k, m) for k, m in enumerate([100.0, 100.5, 101.0, 100.5, 100.0])]


def snaps(tmp_path, lines, name="book_snapshot_2.csv.gz", **kw):
    return read_tardis_book_snapshots(
        tardis_gz(tmp_path, lines, header=SNAP_HEADER, name=name), **kw
    )


def snaps_clean(tmp_path, lines):
    return snaps(tmp_path, lines, name="clean.csv.gz").frame


@cell("td_snap", "empty")
def _(tmp_path):
    empty = tmp_path / "book_snapshot_2.csv.gz"
    empty.write_bytes(b"")
    with raises_at(RecordingError, empty, what="file is empty"):
        read_tardis_book_snapshots(empty)
    header_only = tardis_gz(tmp_path, [], header=SNAP_HEADER, name="h.csv.gz")
    with raises_at(RecordingError, header_only, what="no data rows"):
        read_tardis_book_snapshots(header_only)
    return "R"


@cell("td_snap", "truncated")
def _(tmp_path):
    lines = [srow(10 * k, 100.0 + (k % 7) * 0.5) for k in range(3000)]
    good = tardis_gz(tmp_path, lines, header=SNAP_HEADER, name="g.csv.gz")
    cut = tmp_path / "book_snapshot_2.csv.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with raises_at(RecordingError, cut, what="truncated or corrupt gzip"):
        read_tardis_book_snapshots(cut)
    with pytest.warns(UserWarning, match="truncated"):
        book = read_tardis_book_snapshots(cut, on_truncated="warn")
    assert book.stats["truncated"] == [cut.name]
    n = book.stats["rows"]
    assert 0 < n < len(lines)
    pd.testing.assert_frame_equal(book.frame, snaps_clean(tmp_path, lines[:n]))
    return "R/C"


@cell("td_snap", "malformed")
def _(tmp_path):
    lines = list(SNAPS)
    lines[2] = lines[2].replace(",101.5,", ",x,", 1)  # file line 4
    p = tardis_gz(tmp_path, lines, header=SNAP_HEADER, name="book_snapshot_2.csv.gz")
    with raises_at(RecordingError, p, 4, "asks\\[0\\].price 'x' is not a number"):
        read_tardis_book_snapshots(p)
    book = snaps(tmp_path, lines, errors="skip")
    assert book.stats["malformed"] == 1 and book.stats["malformed_lines"] == [f"{p}:4"]
    pd.testing.assert_frame_equal(book.frame, snaps_clean(tmp_path, SNAPS[:2] + SNAPS[3:]))
    return "R/C"


@cell("td_snap", "out_of_order")
def _(tmp_path):
    lines = list(SNAPS)
    lines[3] = srow(5, 100.5, local=37)  # exchange time before the row before it
    book = snaps(tmp_path, lines)
    assert (book.stats["ts_backwards"], book.stats["local_ts_backwards"]) == (1, 0)
    assert book.stats["ts_backwards_first"].endswith("book_snapshot_2.csv.gz:5")
    clean = snaps_clean(tmp_path, SNAPS)
    pd.testing.assert_frame_equal(book.frame.drop(columns="ts"), clean.drop(columns="ts"))
    return "C"


@cell("td_snap", "duplicates")
def _(tmp_path):
    book = snaps(tmp_path, [*SNAPS[:3], SNAPS[2], *SNAPS[3:]])
    assert book.stats["duplicates"] == 1
    pd.testing.assert_frame_equal(book.frame, snaps_clean(tmp_path, SNAPS))
    return "C"


@cell("td_snap", "crossed")
def _(tmp_path):
    crossed = srow(25, 100.0, bids_0_price="101.0")  # best bid above the best ask
    lines = [*SNAPS[:3], crossed, *SNAPS[3:]]
    book = snaps(tmp_path, lines)
    assert book.stats["crossed"] == 1
    pd.testing.assert_frame_equal(book.frame, snaps_clean(tmp_path, SNAPS))
    full = snaps(tmp_path, lines, name="full.csv.gz", include_invalid=True).frame
    assert full.status.tolist() == [VALID] * 3 + [CROSSED] + [VALID] * 2
    return "C"


def _snap_bad(tmp_path, overrides):
    for n, override in enumerate(overrides):
        lines = list(SNAPS)
        lines[2] = srow(20, 101.0, **override)  # file line 4
        p = tardis_gz(tmp_path, lines, header=SNAP_HEADER, name=f"s{n}.csv.gz")
        with raises_at(RecordingError, p, 4):
            read_tardis_book_snapshots(p)
        book = snaps(tmp_path, lines, name=p.name, errors="skip")
        assert book.stats["malformed"] == 1 and book.stats["malformed_lines"] == [f"{p}:4"]
        pd.testing.assert_frame_equal(book.frame, snaps_clean(tmp_path, SNAPS[:2] + SNAPS[3:]))


@cell("td_snap", "bad_values")
def _(tmp_path):
    _snap_bad(
        tmp_path,
        [
            {"asks_0_amount": "0"},  # a zero amount: a missing level is empty fields instead
            {"bids_1_amount": "-1"},
            {"bids_0_price": "0"},
            {"asks_1_price": "-101.5"},
        ],
    )
    return "R/C"


@cell("td_snap", "nan")
def _(tmp_path):
    _snap_bad(
        tmp_path,
        [
            {"asks_0_price": "NaN"},
            {"bids_1_price": "NaN", "bids_1_amount": "NaN"},  # the last columns
            {"asks_1_price": "nan", "asks_1_amount": "nan"},  # a middle level
            {"bids_1_amount": "NaN"},  # the last column alone
        ],
    )
    # an empty level is how the format marks a missing one: fine, NaN price and zero size
    lines = list(SNAPS)
    lines[2] = srow(20, 101.0, bids_1_price="", bids_1_amount="")
    f = snaps(tmp_path, lines, name="missing.csv.gz").frame
    assert np.isnan(f.bid_px_2.iat[2]) and f.bid_qty_2.iat[2] == 0.0
    return "R/C"


@cell("td_snap", "wrong_symbol")
def _(tmp_path):
    lines = [*SNAPS[:2], srow(15, 3000.0, sym="ETHUSDT"), *SNAPS[2:]]
    p = tardis_gz(tmp_path, lines, header=SNAP_HEADER, name="book_snapshot_2.csv.gz")
    with raises_at(RecordingError, p, 4, "rows of symbol 'ethusdt' among 'btcusdt'"):
        read_tardis_book_snapshots(p)
    book = snaps(tmp_path, lines, symbol="BTCUSDT")
    assert book.stats["other_symbol"] == 1
    pd.testing.assert_frame_equal(book.frame, snaps_clean(tmp_path, SNAPS))
    return "R/C"


# --- trades


def trow(n, ex="binance-futures", sym="BTCUSDT", **kw):
    f = {"id": str(7000 + n), "side": "buy" if n % 2 else "sell", "price": f"{100 + n}.5"}
    f |= {"amount": f"0.{n + 1}", "t": US0 + 10 * n, "lt": US0 + 10 * n + 5} | kw
    return f"{ex},{sym},{f['t']},{f['lt']},{f['id']},{f['side']},{f['price']},{f['amount']}"


TRADES = [trow(n) for n in range(6)]


def ttrades(tmp_path, lines, name="trades.csv.gz", **kw):
    return read_tardis_trades(tardis_gz(tmp_path, lines, header=TRADE_HEADER, name=name), **kw)


def ttrades_clean(tmp_path, lines):
    return ttrades(tmp_path, lines, name="clean.csv.gz").trades.drop(columns="line")


@cell("td_trd", "empty")
def _(tmp_path):
    empty = tmp_path / "trades.csv.gz"
    empty.write_bytes(b"")
    with raises_at(RecordingError, empty, what="file is empty"):
        read_tardis_trades(empty)
    header_only = tardis_gz(tmp_path, [], header=TRADE_HEADER, name="h.csv.gz")
    with raises_at(RecordingError, header_only, what="no data rows"):
        read_tardis_trades(header_only)
    return "R"


@cell("td_trd", "truncated")
def _(tmp_path):
    lines = [trow(n) for n in range(5000)]
    good = tardis_gz(tmp_path, lines, header=TRADE_HEADER, name="g.csv.gz")
    cut = tmp_path / "trades.csv.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with raises_at(RecordingError, cut, what="truncated or corrupt gzip"):
        read_tardis_trades(cut)
    with pytest.warns(UserWarning, match="truncated"):
        rec = read_tardis_trades(cut, on_truncated="warn")
    assert rec.stats["truncated"] == [cut.name]
    n = rec.stats["rows"]
    assert 0 < n < len(lines)
    pd.testing.assert_frame_equal(
        rec.trades.drop(columns="line"), ttrades_clean(tmp_path, lines[:n])
    )
    return "R/C"


def _ttrades_bad(tmp_path, bad_rows):
    for n, (row, message) in enumerate(bad_rows):
        lines = [*TRADES[:3], row, *TRADES[3:]]  # file line 5
        p = tardis_gz(tmp_path, lines, header=TRADE_HEADER, name=f"t{n}.csv.gz")
        with raises_at(RecordingError, p, 5, re.escape(message)):
            read_tardis_trades(p)
        rec = ttrades(tmp_path, lines, name=p.name, errors="skip")
        assert rec.stats["malformed"] == 1 and rec.stats["malformed_lines"] == [f"{p}:5"]
        assert rec.trades.price.notna().all() and (rec.trades.price > 0).all()
        pd.testing.assert_frame_equal(
            rec.trades.drop(columns="line"), ttrades_clean(tmp_path, TRADES)
        )


@cell("td_trd", "malformed")
def _(tmp_path):
    _ttrades_bad(
        tmp_path,
        [
            (trow(9, price="1x"), "price '1x' is not a number"),
            (trow(9).rsplit(",", 1)[0], "7 fields, expected 8"),  # cut short
            ("binance-futures,BTCUSDT,1,2", "4 fields, expected 8"),
        ],
    )
    return "R/C"


@cell("td_trd", "unknown_type")
def _(tmp_path):
    _ttrades_bad(tmp_path, [(trow(9, side="middle"), "side 'middle' is not one of")])
    # Tardis' own "unknown" (an exchange that does not say) is kept, side 0, and counted
    rec = ttrades(tmp_path, [*TRADES, trow(9, side="unknown")], name="u.csv.gz")
    assert rec.stats["unknown_side"] == 1 and rec.trades.side.iat[-1] == 0
    return "R/C"


@cell("td_trd", "out_of_order")
def _(tmp_path):
    lines = list(TRADES)
    lines[4] = trow(4, t=US0 + 5)  # file line 6, exchange time before the trade before it
    rec = ttrades(tmp_path, lines)
    assert (rec.stats["ts_backwards"], rec.stats["local_ts_backwards"]) == (1, 0)
    assert rec.stats["ts_backwards_first"].endswith("trades.csv.gz:6")
    clean = ttrades_clean(tmp_path, TRADES)
    pd.testing.assert_frame_equal(rec.trades.drop(columns=["line", "ts"]), clean.drop(columns="ts"))
    return "C"


@cell("td_trd", "duplicates")
def _(tmp_path):
    rec = ttrades(tmp_path, [*TRADES[:3], TRADES[2], TRADES[1], *TRADES[3:]])
    assert rec.stats["duplicates"] == 2
    clean = ttrades_clean(tmp_path, TRADES)
    pd.testing.assert_frame_equal(rec.trades.drop(columns="line"), clean)
    return "C"


@cell("td_trd", "bad_values")
def _(tmp_path):
    _ttrades_bad(
        tmp_path,
        [
            (trow(9, price="0"), "invalid trade price=0.0 amount=0.1"),
            (trow(9, price="-5"), "invalid trade price=-5.0"),
            (trow(9, amount="0"), "invalid trade price=109.5 amount=0.0"),
            (trow(9, amount="-1"), "invalid trade price=109.5 amount=-1.0"),
        ],
    )
    return "R/C"


@cell("td_trd", "nan")
def _(tmp_path):
    _ttrades_bad(
        tmp_path,
        [
            (trow(9, price="NaN"), "invalid trade price=nan"),
            (trow(9, amount="nan"), "invalid trade price=109.5 amount=nan"),
        ],
    )
    return "R/C"


@cell("td_trd", "wrong_symbol")
def _(tmp_path):
    lines = [*TRADES[:3], trow(9, sym="ETHUSDT"), *TRADES[3:]]
    p = tardis_gz(tmp_path, lines, header=TRADE_HEADER, name="trades.csv.gz")
    with raises_at(RecordingError, p, 5, "rows of symbol 'ethusdt' among 'btcusdt'"):
        read_tardis_trades(p)
    rec = ttrades(tmp_path, lines, symbol="BTCUSDT")
    assert rec.stats["other_symbol"] == 1
    pd.testing.assert_frame_equal(rec.trades.drop(columns="line"), ttrades_clean(tmp_path, TRADES))
    return "R/C"


# =========================================================================== data.vision

VT_HEADER = "id,price,qty,quote_qty,time,is_buyer_maker"
BT_HEADER = (
    "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time"
)
BD_HEADER = "timestamp,percentage,depth,notional"


def vision_zip(tmp_path, name, lines, header=None, member=None):
    path = tmp_path / name
    text = "".join(f"{x}\n" for x in ([header] if header else []) + list(lines))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member or name.replace(".zip", ".csv"), text)
    return path


def vtrow(n, price=None, qty=None, time=None, maker=None):
    price = f"{60000 + n}.5" if price is None else price
    qty = f"0.0{n + 1}" if qty is None else qty
    time = T0 + 10 * n if time is None else time
    maker = ("true" if n % 2 else "false") if maker is None else maker
    return f"{1000 + n},{price},{qty},1.0,{time},{maker}"


VT = [vtrow(n) for n in range(6)]
VT_NAME = "BTCUSDT-trades-2024-08-08.zip"


def vtrades(tmp_path, lines, name=VT_NAME, **kw):
    return read_vision_trades(vision_zip(tmp_path, name, lines, VT_HEADER), **kw)


def vtrades_clean(tmp_path, lines):
    return vtrades(tmp_path, lines, name="BTCUSDT-trades-2024-07-01.zip").trades.drop(
        columns="line"
    )


def _vision_empty_and_cut(tmp_path, name, reader, lines, header):
    empty = tmp_path / name
    empty.write_bytes(b"")
    with raises_at(RecordingError, empty, what="file is empty"):
        reader(empty)
    blank = vision_zip(tmp_path, name.replace("2024-08-08", "2024-08-09"), [])
    with raises_at(RecordingError, blank, what="file is empty"):
        reader(blank)
    good = vision_zip(tmp_path, name.replace("2024-08-08", "2024-08-10"), lines, header)
    cut = tmp_path / name.replace("2024-08-08", "2024-08-11")
    cut.write_bytes(good.read_bytes()[:-30])
    with raises_at(RecordingError, cut, what="truncated or corrupt zip"):
        reader(cut)


@cell("dv_trd", "empty")
def _(tmp_path):
    _vision_empty_and_cut(tmp_path, VT_NAME, read_vision_trades, VT, VT_HEADER)
    return "R"


@cell("dv_trd", "truncated")
def _(tmp_path):
    lines = [vtrow(n) for n in range(2000)]
    good = vision_zip(tmp_path, VT_NAME, lines, VT_HEADER)
    for n, keep in enumerate((len(good.read_bytes()) // 2, len(good.read_bytes()) - 30)):
        cut = tmp_path / f"BTCUSDT-trades-2024-09-0{n + 1}.zip"
        cut.write_bytes(good.read_bytes()[:keep])
        with raises_at(RecordingError, cut, what="truncated or corrupt zip"):
            read_vision_trades(cut)
    return "R"


def _vtrades_bad(tmp_path, bad_rows):
    for n, (row, message) in enumerate(bad_rows):
        lines = [*VT[:2], row, *VT[2:]]  # file line 4 (after the header)
        p = vision_zip(tmp_path, f"BTCUSDT-trades-2024-09-{n + 10}.zip", lines, VT_HEADER)
        with raises_at(RecordingError, p, 4, re.escape(message)):
            read_vision_trades(p)
        rec = read_vision_trades(p, errors="skip")
        assert rec.stats["malformed"] == 1 and rec.stats["malformed_lines"] == [f"{p}:4"]
        assert rec.trades.price.notna().all() and (rec.trades.price > 0).all()
        pd.testing.assert_frame_equal(rec.trades.drop(columns="line"), vtrades_clean(tmp_path, VT))


@cell("dv_trd", "malformed")
def _(tmp_path):
    _vtrades_bad(
        tmp_path,
        [
            (vtrow(9, price="x"), "price 'x' is not a number"),
            ("1009,60009.5,0.01", "3 fields, expected 6"),
        ],
    )
    return "R/C"


@cell("dv_trd", "unknown_type")
def _(tmp_path):
    _vtrades_bad(tmp_path, [(vtrow(9, maker="maybe"), "is_buyer_maker 'maybe' is not one of")])
    return "R/C"


@cell("dv_trd", "out_of_order")
def _(tmp_path):
    lines = list(VT)
    lines[3] = vtrow(3, time=T0 + 5)  # file line 5: before the trade before it
    rec = vtrades(tmp_path, lines)
    assert (rec.stats["ts_backwards"], rec.stats["id_backwards"]) == (1, 0)
    assert rec.stats["ts_backwards_first"].endswith(f"{VT_NAME}:5")
    clean = vtrades_clean(tmp_path, VT)
    pd.testing.assert_frame_equal(rec.trades.drop(columns=["line", "ts"]), clean.drop(columns="ts"))
    # rows swapped: times and ids both go back
    swapped = vtrades(
        tmp_path, [*VT[:2], VT[3], VT[2], *VT[4:]], name="BTCUSDT-trades-2024-08-09.zip"
    )
    assert (swapped.stats["ts_backwards"], swapped.stats["id_backwards"]) == (1, 1)
    return "C"


@cell("dv_trd", "duplicates")
def _(tmp_path):
    rec = vtrades(tmp_path, [*VT[:3], VT[2], VT[1], *VT[3:]])
    assert rec.stats["duplicates"] == 2
    pd.testing.assert_frame_equal(rec.trades.drop(columns="line"), vtrades_clean(tmp_path, VT))
    return "C"


@cell("dv_trd", "seq_gap")
def _(tmp_path):
    rec = vtrades(tmp_path, [*VT[:2], *VT[4:]])  # trade ids 1002 and 1003 missing
    s = rec.stats
    assert (s["id_gaps"], s["missing_ids"]) == (1, 2) and s["id_gaps_first"].endswith(":4")
    return "C"


@cell("dv_trd", "bad_values")
def _(tmp_path):
    _vtrades_bad(
        tmp_path,
        [
            (vtrow(9, price="0"), "invalid trade price=0.0"),
            (vtrow(9, price="-1"), "invalid trade price=-1.0"),
            (vtrow(9, qty="0"), "invalid trade price=60009.5 qty=0.0"),
            (vtrow(9, qty="-2"), "invalid trade price=60009.5 qty=-2.0"),
        ],
    )
    return "R/C"


@cell("dv_trd", "nan")
def _(tmp_path):
    _vtrades_bad(
        tmp_path,
        [
            (vtrow(9, price="NaN"), "invalid trade price=nan"),
            (vtrow(9, qty="nan"), "invalid trade price=60009.5 qty=nan"),
        ],
    )
    return "R/C"


@cell("dv_trd", "wrong_symbol")
def _(tmp_path):
    other = vision_zip(tmp_path, VT_NAME, VT, VT_HEADER, member="ETHUSDT-trades-2024-08-08.csv")
    with raises_at(RecordingError, other, what="holds 'ETHUSDT-trades-2024-08-08.csv'"):
        read_vision_trades(other)
    a = vision_zip(tmp_path, "BTCUSDT-trades-2024-08-09.zip", VT, VT_HEADER)
    b = vision_zip(tmp_path, "ETHUSDT-trades-2024-08-10.zip", VT, VT_HEADER)
    with raises_at(
        RecordingError, a, what=r"files of several symbols given: \['BTCUSDT', 'ETHUSDT'\]"
    ):
        read_vision_trades([a, b])
    return "R"


# --- bookTicker


def btrow(n, bid=None, ask=None, bq="2.0", aq="3.0", event=None, uid=None):
    bid = f"{1650 + n / 10:.1f}" if bid is None else bid
    ask = f"{1650.2 + n / 10:.1f}" if ask is None else ask
    event = T0 + 10 * n if event is None else event
    uid = 500 + 3 * n if uid is None else uid
    return f"{uid},{bid},{bq},{ask},{aq},{event - 2},{event}"


BT = [btrow(n) for n in range(6)]
BT_NAME = "ETHUSDT-bookTicker-2024-08-08.zip"


def ticker(tmp_path, lines, name=BT_NAME, **kw):
    return read_vision_book_ticker(vision_zip(tmp_path, name, lines, BT_HEADER), **kw)


def ticker_clean(tmp_path, lines):
    return ticker(tmp_path, lines, name="ETHUSDT-bookTicker-2024-07-01.zip").bbo.drop(
        columns="line"
    )


def _ticker_bad(tmp_path, bad_rows):
    for n, (row, message) in enumerate(bad_rows):
        lines = [*BT[:2], row, *BT[2:]]  # file line 4
        p = vision_zip(tmp_path, f"ETHUSDT-bookTicker-2024-09-{n + 10}.zip", lines, BT_HEADER)
        with raises_at(RecordingError, p, 4, re.escape(message)):
            read_vision_book_ticker(p)
        rec = read_vision_book_ticker(p, errors="skip")
        assert rec.stats["malformed"] == 1 and rec.stats["malformed_lines"] == [f"{p}:4"]
        assert rec.bbo[["bid_px", "ask_px"]].notna().all().all()
        pd.testing.assert_frame_equal(rec.bbo.drop(columns="line"), ticker_clean(tmp_path, BT))


@cell("dv_tick", "empty")
def _(tmp_path):
    _vision_empty_and_cut(tmp_path, BT_NAME, read_vision_book_ticker, BT * 50, BT_HEADER)
    return "R"


@cell("dv_tick", "truncated")
def _(tmp_path):
    good = vision_zip(tmp_path, BT_NAME, [btrow(n) for n in range(2000)], BT_HEADER)
    cut = tmp_path / "ETHUSDT-bookTicker-2024-08-12.zip"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with raises_at(RecordingError, cut, what="truncated or corrupt zip"):
        read_vision_book_ticker(cut)
    return "R"


@cell("dv_tick", "malformed")
def _(tmp_path):
    _ticker_bad(
        tmp_path,
        [
            (btrow(9, bid="1650.x"), "best_bid_price '1650.x' is not a number"),
            ("1,2,3", "3 fields"),
        ],
    )
    return "R/C"


@cell("dv_tick", "out_of_order")
def _(tmp_path):
    lines = list(BT)
    lines[3] = btrow(3, event=T0 + 5)  # file line 5
    rec = ticker(tmp_path, lines)
    assert (rec.stats["ts_backwards"], rec.stats["id_backwards"]) == (1, 0)
    assert rec.stats["ts_backwards_first"].endswith(f"{BT_NAME}:5")
    clean = ticker_clean(tmp_path, BT)
    pd.testing.assert_frame_equal(rec.bbo.drop(columns=["line", "ts"]), clean.drop(columns="ts"))
    swapped = ticker(
        tmp_path, [*BT[:2], BT[3], BT[2], *BT[4:]], name="ETHUSDT-bookTicker-2024-08-09.zip"
    )
    assert (swapped.stats["ts_backwards"], swapped.stats["id_backwards"]) == (1, 1)
    return "C"


@cell("dv_tick", "duplicates")
def _(tmp_path):
    rec = ticker(tmp_path, [*BT[:3], BT[2], BT[2], *BT[3:]])
    assert rec.stats["duplicates"] == 2
    pd.testing.assert_frame_equal(rec.bbo.drop(columns="line"), ticker_clean(tmp_path, BT))
    return "C"


@cell("dv_tick", "crossed")
def _(tmp_path):
    rec = ticker(tmp_path, [*BT[:3], btrow(9, bid="1700.0"), *BT[3:]])
    assert rec.stats["crossed"] == 1  # counted; a quote stream keeps what the exchange sent
    assert int((rec.bbo.bid_px >= rec.bbo.ask_px).sum()) == 1
    return "C"


@cell("dv_tick", "bad_values")
def _(tmp_path):
    _ticker_bad(
        tmp_path,
        [
            (btrow(9, bid="0"), "invalid quote"),
            (btrow(9, ask="-1650.2"), "invalid quote"),
            (btrow(9, aq="-1"), "invalid quote"),
        ],
    )
    return "R/C"


@cell("dv_tick", "nan")
def _(tmp_path):
    _ticker_bad(
        tmp_path, [(btrow(9, bid="NaN"), "invalid quote"), (btrow(9, bq="nan"), "invalid quote")]
    )
    return "R/C"


@cell("dv_tick", "wrong_symbol")
def _(tmp_path):
    other = vision_zip(tmp_path, BT_NAME, BT, BT_HEADER, member="BTCUSDT-bookTicker-2024-08-08.csv")
    with raises_at(RecordingError, other, what="holds 'BTCUSDT-bookTicker-2024-08-08.csv'"):
        read_vision_book_ticker(other)
    return "R"


# --- bookDepth


def bdrow(sample, pct, depth=None, notional=None):
    when = pd.Timestamp(T0 * 10**6 + sample * 30 * 10**9).strftime("%Y-%m-%d %H:%M:%S")
    depth = f"{abs(float(pct)) * 100:.1f}" if depth is None else depth
    notional = f"{abs(float(pct)) * 6e6:.1f}" if notional is None else notional
    return f"{when},{pct},{depth},{notional}"


BD = [bdrow(s, p) for s in range(3) for p in ("-1.00", "-0.20", "0.20", "1.00")]
BD_NAME = "BTCUSDT-bookDepth-2024-08-08.zip"


def bdepth(tmp_path, lines, name=BD_NAME, **kw):
    return read_vision_book_depth(vision_zip(tmp_path, name, lines, BD_HEADER), **kw)


def bdepth_clean(tmp_path, lines):
    return bdepth(tmp_path, lines, name="BTCUSDT-bookDepth-2024-07-01.zip").drop(columns="line")


def _bdepth_bad(tmp_path, bad_rows):
    for n, (row, message) in enumerate(bad_rows):
        lines = [*BD[:2], row, *BD[2:]]  # file line 4
        p = vision_zip(tmp_path, f"BTCUSDT-bookDepth-2024-09-{n + 10}.zip", lines, BD_HEADER)
        with raises_at(RecordingError, p, 4, re.escape(message)):
            read_vision_book_depth(p)
        f = read_vision_book_depth(p, errors="skip")
        assert f.attrs["stats"]["malformed"] == 1
        assert f.attrs["stats"]["malformed_lines"] == [f"{p}:4"]
        pd.testing.assert_frame_equal(f.drop(columns="line"), bdepth_clean(tmp_path, BD))


@cell("dv_depth", "empty")
def _(tmp_path):
    _vision_empty_and_cut(tmp_path, BD_NAME, read_vision_book_depth, BD * 20, BD_HEADER)
    return "R"


@cell("dv_depth", "truncated")
def _(tmp_path):
    rows = [bdrow(s, p) for s in range(1000) for p in ("-1.00", "1.00")]
    good = vision_zip(tmp_path, BD_NAME, rows, BD_HEADER)
    cut = tmp_path / "BTCUSDT-bookDepth-2024-08-12.zip"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with raises_at(RecordingError, cut, what="truncated or corrupt zip"):
        read_vision_book_depth(cut)
    return "R"


@cell("dv_depth", "malformed")
def _(tmp_path):
    _bdepth_bad(
        tmp_path,
        [
            (bdrow(9, "-0.50", depth="x"), "depth 'x' is not a number"),
            ("2024-08-08 00:04:30,-0.50", "2 fields, expected 4"),
            (bdrow(9, "-0.50").replace("2024-08-08 ", "yesterday "), "invalid bookDepth row"),
        ],
    )
    return "R/C"


@cell("dv_depth", "out_of_order")
def _(tmp_path):
    late = [*BD[:4], *BD[8:], *BD[4:8]]  # sample 1 after sample 2 (file lines 10-13)
    f = bdepth(tmp_path, late, name="BTCUSDT-bookDepth-2024-08-09.zip")
    assert f.attrs["stats"]["ts_backwards"] == 1
    assert f.attrs["stats"]["ts_backwards_first"].endswith("bookDepth-2024-08-09.zip:10")
    pd.testing.assert_frame_equal(
        f.drop(columns="line").sort_values("ts", kind="stable").reset_index(drop=True),
        bdepth_clean(tmp_path, BD),
    )
    return "C"


@cell("dv_depth", "duplicates")
def _(tmp_path):
    f = bdepth(tmp_path, [*BD[:5], BD[4], BD[4], *BD[5:]])
    assert f.attrs["stats"]["duplicates"] == 2
    pd.testing.assert_frame_equal(f.drop(columns="line"), bdepth_clean(tmp_path, BD))
    return "C"


@cell("dv_depth", "bad_values")
def _(tmp_path):
    _bdepth_bad(
        tmp_path,
        [
            (bdrow(9, "-0.50", depth="-1"), "invalid bookDepth row"),
            (bdrow(9, "-0.50", notional="-5"), "invalid bookDepth row"),
            (bdrow(9, "0.00"), "invalid bookDepth row"),  # a band of 0 %: no side
        ],
    )
    return "R/C"


@cell("dv_depth", "nan")
def _(tmp_path):
    _bdepth_bad(
        tmp_path,
        [
            (bdrow(9, "NaN", depth="1", notional="1"), "invalid bookDepth row"),
            (bdrow(9, "-0.50", depth="nan"), "invalid bookDepth row"),
        ],
    )
    return "R/C"


@cell("dv_depth", "wrong_symbol")
def _(tmp_path):
    other = vision_zip(tmp_path, BD_NAME, BD, BD_HEADER, member="ETHUSDT-bookDepth-2024-08-08.csv")
    with raises_at(RecordingError, other, what="holds 'ETHUSDT-bookDepth-2024-08-08.csv'"):
        read_vision_book_depth(other)
    return "R"


# =========================================================================== ccxt polls


def cbook(k, sym="BTC/USDT", **over):
    """A ccxt order book of poll ``k`` (synthetic numbers, the dict layout ccxt returns)."""
    book = {
        "symbol": sym,
        "bids": [[100.0 - 0.5 * k, 1.0 + k], [99.0 - 0.5 * k, 2.0]],
        "asks": [[101.0 - 0.5 * k, 1.5], [102.0 - 0.5 * k, 3.0]],
        "timestamp": T0 + 1000 * k,
        "datetime": None,
        "nonce": 500 + 7 * k,
    }
    return book | over


def ctrade(n, sym="BTC/USDT", **over):
    """A ccxt trade dict (synthetic)."""
    trade = {
        "id": str(9000 + n),
        "symbol": sym,
        "timestamp": T0 + 100 * n,
        "price": 100.0 + n,
        "amount": 0.1 * (n + 1),
        "side": "buy" if n % 2 else "sell",
    }
    return trade | over


def windows(polls: int) -> list[list[dict]]:
    """What ``fetch_trades`` answers at each poll: 4 recent trades, 2 of them seen before."""
    return [[ctrade(n) for n in range(2 * k, 2 * k + 4)] for k in range(polls)]


class FakeExchange:
    """The ccxt methods the Collector calls, answering from lists (no network)."""

    id = "fakex"

    def __init__(self, books, trades=None):
        self.books = list(books)
        self.trade_answers = list(trades or [])
        self.markets: dict = {}

    def load_markets(self):
        self.markets = {"BTC/USDT": {"symbol": "BTC/USDT"}}
        return self.markets

    def fetch_order_book(self, symbol, limit=None):
        return self.books.pop(0)

    def fetch_trades(self, symbol, since=None, limit=None):
        return self.trade_answers.pop(0)


def poll(books, trades=None, out_dir=None):
    """Run a Collector over the fake exchange, one poll per book."""
    clock = itertools.count(T0 * 10**6 + 35 * 10**6, 10**9)
    col = Collector(
        FakeExchange(books, trades),
        ["BTC/USDT"],
        levels=2,
        trades=trades is not None,
        out_dir=out_dir,
        clock=lambda: next(clock),
    )
    for _ in books:
        col.poll()
    col.flush()
    depth, tr = col.frames("BTC/USDT")
    return col.stats, depth, tr


def states(depth, include_invalid=False):
    """The replayed book frame, without the receive times (they depend on the poll count)."""
    book = reconstruct(depth, levels=2, chain="none", include_invalid=include_invalid)
    return book, book.frame.drop(columns="local_ts")


def ccxt_clean(books, trades=None):
    _, depth, tr = poll(books, trades)
    return states(depth)[1], tr.drop(columns=["local_ts", "line"])


@cell("ccxt", "empty")
def _(tmp_path):
    empty = cbook(2, bids=[], asks=[])
    books = [cbook(0), cbook(1), empty, cbook(3), cbook(4, asks=[])]  # one-sided: kept
    stats, depth, _ = poll(books)
    assert (stats["empty_books"], stats["books"], stats["polls"]) == (1, 4, 5)
    assert stats["problems"] == ["fakex BTC/USDT poll 3: empty book (no level on either side)"]
    assert sorted(set(depth.line)) == [1, 2, 4, 5]  # the line of a book is its poll
    pd.testing.assert_frame_equal(states(depth)[1], ccxt_clean([*books[:2], *books[3:]])[0])
    with pytest.raises(ValueError, match=r"^poll 3: empty book"):
        polls_to_depth(books, [0] * 5)
    part = tmp_path / "depth_20240808T000000_00000.parquet"
    part.write_bytes(b"")
    with raises_at(RecordingError, part, what="empty, truncated or corrupt parquet part"):
        read_collected(part)
    return "C/R"


@cell("ccxt", "truncated")
def _(tmp_path):
    stats, depth, _ = poll([cbook(k) for k in range(4)], windows(4), out_dir=tmp_path)
    folder = tmp_path / "fakex" / "BTC-USDT"
    part = sorted(folder.glob("depth_*.parquet"))[0]
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    with raises_at(RecordingError, part, what="empty, truncated or corrupt parquet part"):
        read_collected(folder)
    return "R"


@cell("ccxt", "malformed")
def _(tmp_path):
    books = [
        cbook(0),
        cbook(1, bids=[[99.5]]),
        cbook(2, asks="oops"),
        cbook(3, nonce="x"),
        cbook(4),
    ]
    answers = windows(5)
    answers[4][3] = {k: v for k, v in answers[4][3].items() if k != "price"}  # trade 11
    stats, depth, tr = poll(books, answers)
    assert (stats["bad_books"], stats["bad_trades"], stats["books"]) == (3, 1, 2)
    assert [p.split(":")[0] for p in stats["problems"]] == [
        f"fakex BTC/USDT poll {k}" for k in (2, 3, 4, 5)
    ]
    pd.testing.assert_frame_equal(states(depth)[1], ccxt_clean([books[0], books[4]])[0])
    assert tr.trade_id.tolist() == [9000 + n for n in range(11)]
    with pytest.raises(ValueError, match=r"^poll 2: a bid level is not \[price, amount\]"):
        polls_to_depth(books, [0] * 5)
    with pytest.raises(ValueError, match=r"^poll 5: a trade without a numeric price"):
        trades_to_frame(answers[4], [0] * 4, [5] * 4)
    return "C/R"


@cell("ccxt", "unknown_type")
def _(tmp_path):
    answers = windows(3)
    answers[1][2] = answers[1][2] | {"side": None}
    answers[2][3] = answers[2][3] | {"side": "liquidation"}
    stats, _, tr = poll([cbook(k) for k in range(3)], answers)
    assert stats["unknown_side"] == 2 and stats["trades"] == 8
    assert tr.set_index("trade_id").side.loc[[9004, 9007]].tolist() == [0, 0]
    assert (tr.side != 0).sum() == 6
    return "C"


@cell("ccxt", "out_of_order")
def _(tmp_path):
    # a lagging server answers an older book: skipped and counted
    books = [cbook(0), cbook(1), cbook(2), cbook(1), cbook(3)]
    late = windows(5)
    late[3].append(ctrade(50, timestamp=T0 - 1))  # a new trade, older than those stored
    stats, depth, tr = poll(books, late)
    assert (stats["stale_books"], stats["books"], stats["trade_ts_backwards"]) == (1, 4, 1)
    assert stats["problems"][0].startswith("fakex BTC/USDT poll 4: a book older than the last")
    pd.testing.assert_frame_equal(states(depth)[1], ccxt_clean([*books[:3], books[4]])[0])
    assert 9050 in set(tr.trade_id)
    # without nonces, the exchange time tells an older book
    bare = [{k: v for k, v in b.items() if k != "nonce"} for b in books]
    stats, depth, _ = poll(bare)
    assert stats["stale_books"] == 1 and stats["books"] == 4
    return "C"


@cell("ccxt", "duplicates")
def _(tmp_path):
    answers = windows(5)
    answers[4].append(answers[4][-1])  # a new trade twice in one answer, too
    stats, _, tr = poll([cbook(k) for k in range(5)], answers)
    assert stats["duplicates"] == 2 * 4 + 1 and stats["trades"] == 12
    assert tr.trade_id.tolist() == [9000 + n for n in range(12)] and tr.trade_id.is_unique
    return "C"


@cell("ccxt", "seq_gap")
def _(tmp_path):
    answers = windows(4)
    answers[3] = [ctrade(n) for n in range(20, 24)]  # no overlap with the last poll
    stats, _, tr = poll([cbook(k) for k in range(4)], answers)
    assert stats["trade_gaps"] == 1 and len(tr) == 12
    return "C"


@cell("ccxt", "crossed")
def _(tmp_path):
    crossed = cbook(1, bids=[[101.5, 1.0]])  # best bid above the best ask (100.5)
    books = [cbook(0), crossed, cbook(2)]
    stats, depth, _ = poll(books)
    assert stats["books"] == 3  # stored as polled; the replay refuses it
    book, frame = states(depth)
    assert book.stats["crossed_snapshots"] == 1
    pd.testing.assert_frame_equal(frame, ccxt_clean([books[0], books[2]])[0])
    return "C"


@cell("ccxt", "bad_values")
def _(tmp_path):
    books = [
        cbook(0),
        cbook(1, bids=[[0.0, 1.0]]),
        cbook(2, asks=[[-101.0, 1.0]]),
        cbook(3, bids=[[98.5, -1.0]]),
        cbook(4, bids=[[98.0, 1.0], [97.0, 0.0]]),  # a zero size: counted, kept, left out
    ]
    bad = [ctrade(60, price=0.0), ctrade(61, amount=0.0), ctrade(62, amount=-1.0)]
    answers = windows(5)
    for n, t in enumerate(bad):
        answers[n + 1].append(t)
    stats, depth, tr = poll(books, answers)
    assert (stats["bad_books"], stats["zero_size_levels"], stats["bad_trades"]) == (3, 1, 3)
    assert "poll 2: invalid bid level [0.0, 1.0]" in stats["problems"][0]
    pd.testing.assert_frame_equal(
        states(depth)[1], ccxt_clean([books[0], cbook(4, bids=[[98.0, 1.0]])])[0]
    )
    assert not set(tr.trade_id) & {9060, 9061, 9062} and (tr.price > 0).all()
    with pytest.raises(ValueError, match=r"^poll 2: invalid bid level \[0.0, 1.0\]"):
        polls_to_depth(books, [0] * 5)
    with pytest.raises(ValueError, match=r"^poll 2: invalid trade price=0.0"):
        trades_to_frame([bad[0]], [0], [2])
    return "C/R"


@cell("ccxt", "nan")
def _(tmp_path):
    books = [
        cbook(0),
        cbook(1, bids=[[float("nan"), 1.0]]),
        cbook(2, asks=[["NaN", 1.0]]),
        cbook(3, asks=[[101.0, "nan"]]),
        cbook(4, bids=[[float("inf"), 1.0]]),
        cbook(5),
    ]
    answers = windows(6)
    answers[2].append(ctrade(60, amount=float("nan")))
    answers[3].append(ctrade(61, price="NaN"))
    stats, depth, tr = poll(books, answers)
    assert (stats["bad_books"], stats["bad_trades"], stats["books"]) == (4, 2, 2)
    pd.testing.assert_frame_equal(states(depth)[1], ccxt_clean([books[0], books[5]])[0])
    assert tr.price.notna().all() and tr.qty.notna().all()
    with pytest.raises(ValueError, match=r"^poll 2: invalid bid level \[nan, 1.0\]"):
        polls_to_depth(books, [0] * 6)
    with pytest.raises(ValueError, match=r"^poll 3: invalid trade price='NaN'"):
        trades_to_frame([ctrade(61, price="NaN")], [0], [3])
    return "C/R"


@cell("ccxt", "wrong_symbol")
def _(tmp_path):
    books = [cbook(0), cbook(1, sym="ETH/USDT"), cbook(2)]
    answers = windows(3)
    answers[1].append(ctrade(70, sym="ETH/USDT"))
    stats, depth, tr = poll(books, answers)
    assert (stats["other_symbol"], stats["books"]) == (2, 2)
    assert "poll 2: a book of 'ETH/USDT'" in stats["problems"][0]
    pd.testing.assert_frame_equal(states(depth)[1], ccxt_clean([books[0], books[2]])[0])
    assert 9070 not in set(tr.trade_id)
    return "C"


# =========================================================================== the matrix


def _params():
    for case in CASES:
        for reader in READERS:
            marks = ()
            if (reader, case) in NA:
                marks = pytest.mark.skip(reason=f"n/a: {NA[(reader, case)]}")
            yield pytest.param(reader, case, id=f"{reader}-{case}", marks=marks)


@pytest.mark.parametrize("reader, case", list(_params()))
def test_matrix(reader, case, tmp_path):
    """One cell: the reader meets the bad input; the outcome is the one the matrix states."""
    assert CELLS[(reader, case)](tmp_path) == grid()[(reader, case)]


def test_matrix_is_complete_and_matches_the_docstring():
    """Every cell has a test or a stated reason, never both, and the docstring agrees."""
    table = grid()
    assert set(table) == {(r, c) for r in READERS for c in CASES}
    for key, code in table.items():
        assert (key in CELLS) != (key in NA), key
        assert (code == "n/a") == (key in NA), key
        assert code in ("R", "C", "R/C", "C/R", "n/a"), (key, code)
