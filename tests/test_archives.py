"""Archive readers: Bybit ob200/ob500, Tardis CSV, Binance data.vision.

Every input file here is synthetic-in-real-format: small files written by the tests in the
exact layout of the real archives (see each reader's module notes for the sources of the
layouts), with books whose expected state is computed by hand.
"""

from __future__ import annotations

import gzip
import itertools
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from lobutils.book.replay import CROSSED, VALID, reconstruct
from lobutils.data.archives import (
    detect,
    read_binance_vision,
    read_bybit_orderbook,
    read_tardis_book,
    read_tardis_book_snapshots,
    read_tardis_trades,
    read_vision_book_depth,
    read_vision_book_ticker,
    read_vision_trades,
)
from lobutils.data.binance import RecordingError
from lobutils.schema import (
    BBO_COLUMNS,
    DEPTH_COLUMNS,
    DIFF,
    SNAPSHOT,
    TRADE_COLUMNS,
    TS_NA,
    book_columns,
)

T0 = 1_723_075_200_000  # 2024-08-08 00:00:00 UTC in ms


def after_diffs(book, rec):
    """The book states emitted after diffs (the engine may also emit one per snapshot)."""
    d = rec.depth[rec.depth.kind == DIFF]
    keys = set(zip(d.ts, d.local_ts, d.last_id, strict=True))
    f = book.frame
    mask = [k in keys for k in zip(f.ts, f.local_ts, f.update_id, strict=True)]
    return f[mask].reset_index(drop=True)


def tops(frame, levels=2):
    """Rows of (bid px, bid qty, ask px, ask qty) for levels 1..levels, NaN as None."""
    cols = []
    for i in range(1, levels + 1):
        cols += [f"bid_px_{i}", f"bid_qty_{i}"]
    for i in range(1, levels + 1):
        cols += [f"ask_px_{i}", f"ask_qty_{i}"]
    out = frame[cols].to_numpy().tolist()
    return [[None if x != x else x for x in row] for row in out]


# =========================================================================== Bybit


def bmsg(typ, u, k=0, b=(), a=(), sym="BTCUSDT", ts=None):
    """One Bybit archive line (as a dict) in the real v5 layout."""
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
BOOK_D1 = [100.0, 3.0, 99.0, 2.0, 102.0, 2.0, None, 0.0]
BOOK_D2 = [100.5, 1.0, 100.0, 3.0, 101.5, 4.0, 102.0, 2.0]


def test_bybit_snapshot_and_deltas_give_the_hand_computed_book(tmp_path):
    rec = read_bybit_orderbook(bybit_zip(tmp_path, [SNAP, D1, D2]))
    assert (rec.symbol, rec.market) == ("btcusdt", "none")
    assert list(rec.depth.columns) == list(DEPTH_COLUMNS)
    assert rec.depth.dtypes.astype(str).to_dict() == {
        k: np.dtype(v).name for k, v in DEPTH_COLUMNS.items()
    }
    d = rec.depth
    assert d.groupby("msg").kind.first().tolist() == [SNAPSHOT, DIFF, DIFF]
    assert d.groupby("msg").last_id.first().tolist() == [10, 11, 12]
    assert (d.first_id == d.last_id).all() and (d.prev_id == -1).all()
    assert (d.local_ts == TS_NA).all()  # an archive has no receive time
    assert d.ts.iat[0] == T0 * 1_000_000  # the message's ts, in ns
    assert d.line.tolist() == [1, 1, 1, 1, 2, 2, 3, 3]
    assert rec.stats["depth"] == 200 and rec.stats["gaps"] == 0
    book = reconstruct(rec, levels=2)
    assert tops(after_diffs(book, rec)) == [BOOK_D1, BOOK_D2]
    assert after_diffs(book, rec).update_id.tolist() == [11, 12]


def test_bybit_restart_snapshot_with_u_1_replaces_the_book(tmp_path):
    restart = bmsg("snapshot", 1, 3, b=[(200, 5)], a=[(201, 6)])
    after = bmsg("delta", 2, 4, b=[(200, 7)])
    rec = read_bybit_orderbook(bybit_zip(tmp_path, [SNAP, D1, restart, after]))
    assert rec.stats["snapshots"] == 2 and rec.stats["duplicates"] == 0
    book = reconstruct(rec, levels=1)
    assert tops(after_diffs(book, rec), 1) == [[100.0, 3.0, 102.0, 2.0], [200.0, 7.0, 201.0, 6.0]]
    assert book.stats["snapshots"] == 2


# --- bad input ------------------------------------------------------------------


def test_bybit_empty_and_truncated_archives_raise(tmp_path):
    empty = tmp_path / "2024-08-08_BTCUSDT_ob200.data.zip"
    empty.write_bytes(b"")
    with pytest.raises(RecordingError, match="empty"):
        read_bybit_orderbook(empty)
    blank = bybit_zip(tmp_path, [], name="2024-08-09_BTCUSDT_ob200.data.zip")
    with pytest.raises(RecordingError, match="empty"):
        read_bybit_orderbook(blank)
    good = bybit_zip(tmp_path, [SNAP, D1, D2] * 50, name="2024-08-10_BTCUSDT_ob200.data.zip")
    cut = tmp_path / "2024-08-11_BTCUSDT_ob200.data.zip"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(
        RecordingError,
        match=r"truncated or corrupt zip.*2024-08-11|2024-08-11.*truncated or corrupt",
    ):
        read_bybit_orderbook(cut)


def test_bybit_malformed_line_names_file_and_line_or_is_skipped_with_a_resync(tmp_path):
    resnap = bmsg("snapshot", 20, 5, b=[(100, 9)], a=[(103, 9)])
    path = bybit_zip(
        tmp_path,
        [
            SNAP,
            '{"topic": "orderbook.200.BTCUSDT", "type": "del',
            D2,
            resnap,
            bmsg("delta", 21, 6, a=[(103, 1)]),
        ],
    )
    with pytest.raises(
        RecordingError, match=r"2024-08-08_BTCUSDT_ob200.data.zip:2: malformed JSON"
    ):
        read_bybit_orderbook(path)
    with pytest.warns(UserWarning, match="malformed=1"):
        rec = read_bybit_orderbook(path, errors="skip")
    assert rec.stats["malformed"] == 1
    assert rec.stats["malformed_lines"] == [f"{path}:2"]
    # the lost message may have changed the book: D2 is not applied on it, the resync is
    assert rec.stats["dropped_after_gap"] == 1
    assert tops(after_diffs(reconstruct(rec, levels=1), rec), 1) == [[100.0, 9.0, 103.0, 1.0]]


def test_bybit_unknown_message_type_is_counted_and_skipped(tmp_path):
    odd = dict(D1, type="mystery")
    rec = read_bybit_orderbook(bybit_zip(tmp_path, [SNAP, odd, D1, D2]))
    assert rec.stats["unknown_types"] == {"mystery": 1}
    assert tops(after_diffs(reconstruct(rec, levels=2), rec)) == [BOOK_D1, BOOK_D2]


def test_bybit_out_of_order_timestamps_are_counted(tmp_path):
    late = dict(D2, ts=T0 - 5)
    rec = read_bybit_orderbook(bybit_zip(tmp_path, [SNAP, D1, late]))
    assert rec.stats["ts_backwards"] == 1
    assert rec.stats["ts_backwards_first"].endswith(":3")
    assert tops(after_diffs(reconstruct(rec, levels=2), rec)) == [BOOK_D1, BOOK_D2]


def test_bybit_duplicated_messages_are_skipped_and_counted(tmp_path):
    rec = read_bybit_orderbook(bybit_zip(tmp_path, [SNAP, D1, D1, D2, D1, SNAP]))
    assert rec.stats["duplicates"] == 3  # two re-sent deltas and a re-sent old snapshot
    assert tops(after_diffs(reconstruct(rec, levels=2), rec)) == [BOOK_D1, BOOK_D2]


def test_bybit_delta_before_any_snapshot_is_left_out_and_counted(tmp_path):
    early = bmsg("delta", 9, 0, b=[(150, 1)])
    rec = read_bybit_orderbook(bybit_zip(tmp_path, [early, SNAP, D1, D2]))
    assert rec.stats["before_first_snapshot"] == 1
    assert rec.depth.line.min() == 2
    assert tops(after_diffs(reconstruct(rec, levels=2), rec)) == [BOOK_D1, BOOK_D2]
    only = bybit_zip(tmp_path, [early], name="2024-08-09_BTCUSDT_ob200.data.zip")
    with pytest.raises(RecordingError, match="no usable order-book message"):
        read_bybit_orderbook(only)


def test_bybit_crossed_snapshot_is_counted_and_never_gives_a_book(tmp_path):
    crossed = bmsg("snapshot", 30, 3, b=[(105, 1)], a=[(104, 1)])
    after = bmsg("delta", 31, 4, b=[(104.5, 1)])
    rec = read_bybit_orderbook(bybit_zip(tmp_path, [SNAP, D1, crossed, after]))
    book = reconstruct(rec, levels=2)
    assert book.stats["crossed_snapshots"] == 1
    assert tops(after_diffs(book, rec)) == [BOOK_D1]  # nothing on top of the crossed snapshot
    assert (book.frame.ts < crossed["ts"] * 1_000_000).all()


@pytest.mark.parametrize(
    "level, message",
    [
        ((100, -1), "invalid level price=100.0 size=-1.0"),
        ((0, 1), "invalid level price=0.0 size=1.0"),
        ((-5, 1), "invalid level price=-5.0"),
        (("NaN", 1), "invalid level price=nan"),
        ((100, "NaN"), "invalid level price=100.0 size=nan"),
        (("abc", 1), "invalid level price=nan"),
    ],
)
def test_bybit_bad_prices_and_sizes_raise_naming_the_line(tmp_path, level, message):
    bad = bmsg("delta", 11, 1, b=[level])
    path = bybit_zip(tmp_path, [SNAP, bad, D2])
    with pytest.raises(RecordingError, match=rf"ob200.data.zip:2: {message}"):
        read_bybit_orderbook(path)


def test_bybit_zero_size_deletes_a_level(tmp_path):
    rec = read_bybit_orderbook(bybit_zip(tmp_path, [SNAP, bmsg("delta", 11, 1, b=[(100, 0)])]))
    assert tops(after_diffs(reconstruct(rec, levels=1), rec), 1) == [[99.0, 2.0, 101.0, 1.0]]


def test_bybit_wrong_symbol_raises_or_is_skipped_when_a_symbol_is_asked(tmp_path):
    eth = bmsg("delta", 11, 1, b=[(3000, 1)], sym="ETHUSDT")
    path = bybit_zip(tmp_path, [SNAP, eth, D1, D2])
    with pytest.raises(RecordingError, match=r"ob200.data.zip:2: a message of symbol 'ethusdt'"):
        read_bybit_orderbook(path)
    rec = read_bybit_orderbook(path, symbol="BTCUSDT")
    assert rec.stats["other_symbol"] == 1
    assert tops(after_diffs(reconstruct(rec, levels=2), rec)) == [BOOK_D1, BOOK_D2]


def test_bybit_update_id_gap_resyncs_raises_or_keeps(tmp_path):
    jump = bmsg("delta", 14, 3, b=[(98, 1)])
    after = bmsg("delta", 15, 4, b=[(97, 1)])
    resnap = bmsg("snapshot", 16, 5, b=[(100, 1)], a=[(101, 1)])
    path = bybit_zip(
        tmp_path, [SNAP, D1, D2, jump, after, resnap, bmsg("delta", 17, 6, a=[(101, 2)])]
    )
    with pytest.warns(UserWarning, match="gaps=1"):
        rec = read_bybit_orderbook(path)
    assert rec.stats["gaps"] == 1 and rec.stats["dropped_after_gap"] == 2
    assert "(u 12 -> 14)" in rec.stats["gap_lines"][0]
    book = reconstruct(rec, levels=2)
    assert tops(after_diffs(book, rec)) == [
        BOOK_D1,
        BOOK_D2,
        [100.0, 1.0, None, 0.0, 101.0, 2.0, None, 0.0],
    ]
    with pytest.raises(RecordingError, match=r"ob200.data.zip:4 \(u 12 -> 14\): update id gap"):
        read_bybit_orderbook(path, on_gap="raise")
    with pytest.warns(UserWarning):
        kept = read_bybit_orderbook(path, on_gap="keep")
    assert kept.stats["dropped_after_gap"] == 0
    assert len(after_diffs(reconstruct(kept), kept)) == 5


def test_bybit_level_strings_convert_bit_for_bit_like_float():
    from lobutils.data.archives.bybit import _floats_bulk

    rng = np.random.default_rng(0)
    plain = [
        f"{x:.{d}f}"
        for x, d in zip(rng.uniform(0, 1e6, 2000), rng.integers(0, 9, 2000), strict=True)
    ]
    odd = [
        "1e3",
        " 2.5",
        "+1",
        "-0",
        "-1.5",
        ".5",
        "1.",
        "nan",
        "inf",
        "1_0",
        "123456789.123456789",
    ]
    values = plain + odd + ["0.000000000000000000000001", "99999999999999999999"]
    out, unparsed = _floats_bulk(values)
    assert not unparsed.any()
    assert out.tobytes() == np.array([float(v) for v in values]).tobytes()
    out, unparsed = _floats_bulk(["1", "x", "", ".", "2\n3", "4"])
    assert unparsed.tolist() == [False, True, True, True, True, False]
    assert out[[0, 5]].tolist() == [1.0, 4.0]


def test_bybit_long_file_names_a_bad_line_deep_in_it(tmp_path):
    # thousands of clean lines are read in bulk; the chunk holding the bad one line by line
    deltas = [bmsg("delta", 11 + k, 1 + k, b=[(100, 1 + k % 7)]) for k in range(9000)]
    bad = bmsg("delta", 5011, 5001, b=[(100, -2)])
    lines = [SNAP, *deltas[:5000], bad, *deltas[5001:], ""]
    path = bybit_zip(tmp_path, lines)
    with pytest.raises(RecordingError, match=r"ob200.data.zip:5002: invalid level .* size=-2.0"):
        read_bybit_orderbook(path)
    with pytest.warns(UserWarning, match="malformed=1"):
        rec = read_bybit_orderbook(path, errors="skip")
    assert rec.stats["malformed_lines"] == [f"{path}:5002"]
    assert rec.stats["lines"] == 9002 and rec.stats["blank"] == 1
    assert rec.stats["dropped_after_gap"] == 3999 and rec.stats["messages"] == 5001
    clean = read_bybit_orderbook(bybit_zip(tmp_path, [SNAP, *deltas], name="x_ob200.data.zip"))
    assert clean.stats["messages"] == 9001 and len(clean.depth) == 4 + 9000
    assert clean.depth.qty.iloc[-1] == 1 + 8999 % 7


def test_bybit_several_days_read_as_one_stream(tmp_path):
    day1 = bybit_zip(tmp_path, [SNAP, D1], name="2024-08-08_BTCUSDT_ob500.data.zip")
    snap2 = bmsg("snapshot", 12, ts=T0 + 86_400_000, b=[(100, 1)], a=[(101, 1)])
    d3 = bmsg("delta", 13, ts=T0 + 86_400_100, b=[(100.5, 1)])
    day2 = bybit_zip(tmp_path, [snap2, d3], name="2024-08-09_BTCUSDT_ob500.data.zip")
    rec = read_bybit_orderbook([day1, day2])
    assert rec.stats["snapshots"] == 2 and rec.stats["depth"] == 500
    assert rec.locate(int(rec.depth.line.iat[-1])) == f"{day2.name}:2"


# =========================================================================== Tardis

L2_HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"
US0 = T0 * 1000  # µs


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


def tardis_gz(
    tmp_path,
    lines,
    header=L2_HEADER,
    name="binance-futures_incremental_book_L2_2024-08-08_BTCUSDT.csv.gz",
):
    path = tmp_path / name
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join([header, *lines]) + "\n")
    return path


# the snapshot run has rows of two slightly different timestamps: still one snapshot
TARDIS_ROWS = [
    (0, 10, True, "bid", 100.0, 1),
    (0, 10, True, "bid", 99.0, 2),
    (1, 11, True, "ask", 101.0, 1),
    (1, 11, True, "ask", 102.0, 2),
    (50, 60, False, "bid", 100.0, 3),  # one message: two rows with the same local time
    (50, 60, False, "ask", 101.0, 0),
    (70, 80, False, "bid", 100.5, 1),
    (90, 100, True, "bid", 90.0, 5),  # a second snapshot replaces the whole book
    (90, 100, True, "ask", 91.0, 6),
    (95, 105, False, "ask", 91.0, 0.5),
]


def test_tardis_snapshot_run_updates_and_second_snapshot_give_the_hand_computed_book(tmp_path):
    rec = read_tardis_book(tardis_gz(tmp_path, l2(TARDIS_ROWS)))
    assert (rec.symbol, rec.market, rec.stats["exchange"]) == ("btcusdt", "none", "binance-futures")
    assert (rec.stats["snapshots"], rec.stats["updates"], rec.stats["messages"]) == (2, 3, 5)
    d = rec.depth
    assert d.groupby("msg").kind.first().tolist() == [SNAPSHOT, DIFF, DIFF, SNAPSHOT, DIFF]
    first = d[d.msg == 0]
    assert len(first) == 4 and (first.ts == (US0 + 1) * 1000).all()  # the last row's time
    assert (first.local_ts == (US0 + 11) * 1000).all()
    assert (d.first_id == -1).all()
    book = reconstruct(rec, levels=2)
    assert tops(after_diffs(book, rec)) == [
        [100.0, 3.0, 99.0, 2.0, 102.0, 2.0, None, 0.0],
        [100.5, 1.0, 100.0, 3.0, 102.0, 2.0, None, 0.0],
        [90.0, 5.0, None, 0.0, 91.0, 0.5, None, 0.0],
    ]
    assert book.stats["snapshots"] == 2
    assert after_diffs(book, rec).local_ts.tolist() == [(US0 + x) * 1000 for x in (60, 80, 105)]


def test_tardis_rows_before_the_first_snapshot_are_left_out_and_counted(tmp_path):
    rows = [(-5, -5, False, "bid", 150.0, 1), *TARDIS_ROWS]
    rec = read_tardis_book(tardis_gz(tmp_path, l2(rows)))
    assert rec.stats["before_first_snapshot"] == 1
    assert len(after_diffs(reconstruct(rec, levels=2), rec)) == 3


def test_tardis_book_snapshot_25_loads_as_a_book_frame(tmp_path):
    n = 25
    cols = []
    for i in range(n):
        cols += [f"asks[{i}].price", f"asks[{i}].amount", f"bids[{i}].price", f"bids[{i}].amount"]
    header = "exchange,symbol,timestamp,local_timestamp," + ",".join(cols)

    def row(t, mid, crossed=False):
        vals = []
        for i in range(n):
            ask, bid = mid + 0.5 + i, mid - 0.5 - i
            if crossed and i == 0:
                bid = ask + 1
                vals += [f"{ask}", "1", f"{bid}", "1"]
                continue
            if i == n - 1:  # the last bid level is missing in this file
                vals += [f"{ask}", f"{i + 1}", "", ""]
            else:
                vals += [f"{ask}", f"{i + 1}", f"{bid}", f"{2 * i + 1}"]
        return f"binance-futures,BTCUSDT,{US0 + t},{US0 + t + 7}," + ",".join(vals)

    lines = [row(0, 100.0), row(10, 100.5), row(20, 100.5, crossed=True)]
    p = tardis_gz(tmp_path, lines, header=header, name="book_snapshot_25.csv.gz")
    book = read_tardis_book_snapshots(p)
    assert book.levels == 25
    assert list(book.frame.columns) == book_columns(25)
    assert len(book.frame) == 2 and book.stats["crossed"] == 1
    f = book.frame
    assert f.ts.tolist() == [US0 * 1000, (US0 + 10) * 1000]
    assert f.local_ts.tolist() == [(US0 + 7) * 1000, (US0 + 17) * 1000]
    assert (f.update_id == -1).all()
    assert f.bid_px_1.tolist() == [99.5, 100.0] and f.ask_px_1.tolist() == [100.5, 101.0]
    assert f.bid_qty_2.tolist() == [3.0, 3.0] and f.ask_qty_25.tolist() == [25.0, 25.0]
    assert f.bid_px_25.isna().all() and (f.bid_qty_25 == 0).all()  # a missing level
    assert f.dtypes["ts"] == np.int64 and f.dtypes["bid_px_1"] == np.float64
    full = read_tardis_book_snapshots(p, include_invalid=True)
    assert full.frame.status.tolist() == [VALID, VALID, CROSSED]


def test_tardis_trades_sides_ids_and_duplicates(tmp_path):
    header = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
    lines = [
        f"bitmex,XBTUSD,{US0},{US0 + 5},a1b2-c3,buy,60000.5,100",
        f"bitmex,XBTUSD,{US0 + 10},{US0 + 15},d4e5-f6,sell,60000.0,200",
        f"bitmex,XBTUSD,{US0 + 10},{US0 + 15},d4e5-f6,sell,60000.0,200",
        f"bitmex,XBTUSD,{US0 + 20},{US0 + 25},99,unknown,60001.0,50",
    ]
    p = tardis_gz(tmp_path, lines, header=header, name="trades.csv.gz")
    rec = read_tardis_trades(p)
    t = rec.trades
    assert list(t.columns) == list(TRADE_COLUMNS)
    assert t.side.tolist() == [1, -1, 0]
    assert t.trade_id.tolist() == [-1, -1, 99]
    assert t.ts.tolist() == [US0 * 1000, (US0 + 10) * 1000, (US0 + 20) * 1000]
    assert t.line.tolist() == [2, 3, 5]
    s = rec.stats
    assert (s["duplicates"], s["unknown_side"], s["non_numeric_ids"]) == (1, 1, 2)


# --- bad input ------------------------------------------------------------------


def test_tardis_empty_truncated_and_foreign_files_raise(tmp_path):
    empty = tmp_path / "e.csv.gz"
    empty.write_bytes(b"")
    with pytest.raises(RecordingError, match="empty"):
        read_tardis_book(empty)
    header_only = tardis_gz(tmp_path, [], name="h.csv.gz")
    with pytest.raises(RecordingError, match="no data rows"):
        read_tardis_book(header_only)
    good = tardis_gz(tmp_path, l2(TARDIS_ROWS * 200), name="g.csv.gz")
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(good.read_bytes()[:-200])
    with pytest.raises(RecordingError, match="cut.csv.gz: truncated or corrupt gzip"):
        read_tardis_book(cut)
    with pytest.warns(UserWarning, match="truncated"):
        rec = read_tardis_book(cut, on_truncated="warn")
    assert rec.stats["rows"] < 2000
    trades = tardis_gz(
        tmp_path,
        ["x,Y,1,1,1,buy,1,1"],
        header="exchange,symbol,timestamp,local_timestamp,id,side,price,amount",
        name="t.csv.gz",
    )
    with pytest.raises(RecordingError, match="t.csv.gz:1: this is a Tardis trades file"):
        read_tardis_book(trades)


def test_tardis_malformed_line_names_the_line_or_drops_until_the_next_snapshot(tmp_path):
    lines = l2(TARDIS_ROWS)
    lines.insert(5, "binance-futures,BTCUSDT,oops,1,false,bid,1,1")  # file line 7
    p = tardis_gz(tmp_path, lines)
    with pytest.raises(RecordingError, match=r"\.csv\.gz:7: timestamp 'oops' is not a number"):
        read_tardis_book(p)
    with pytest.warns(UserWarning, match="malformed=1"):
        rec = read_tardis_book(p, errors="skip")
    assert rec.stats["malformed"] == 1
    # the bad line joins the message before it, which is dropped; the next update waits for
    # the second snapshot
    assert rec.stats["dropped_after_gap"] == 1
    assert tops(after_diffs(reconstruct(rec, levels=2), rec)) == [
        [90.0, 5.0, None, 0.0, 91.0, 0.5, None, 0.0]
    ]
    short = tardis_gz(
        tmp_path, [*l2(TARDIS_ROWS[:4]), "binance-futures,BTCUSDT,1,1,false,bid"], name="s.csv.gz"
    )
    with pytest.raises(RecordingError, match=r"s\.csv\.gz:6: 6 fields, expected 8"):
        read_tardis_book(short)


def test_tardis_unknown_side_or_flag_raises_naming_the_line(tmp_path):
    rows = l2(TARDIS_ROWS)
    rows[6] = rows[6].replace(",bid,", ",middle,")
    with pytest.raises(RecordingError, match=r":8: side 'middle' is not one of \['ask', 'bid'\]"):
        read_tardis_book(tardis_gz(tmp_path, rows))
    rows = l2(TARDIS_ROWS)
    rows[6] = rows[6].replace(",false,", ",maybe,")
    with pytest.raises(RecordingError, match=r":8: is_snapshot 'maybe'"):
        read_tardis_book(tardis_gz(tmp_path, rows, name="b.csv.gz"))


def test_tardis_out_of_order_and_duplicated_rows_are_counted(tmp_path):
    rows = [*TARDIS_ROWS[:7], (40, 70, False, "bid", 100.5, 1), *TARDIS_ROWS[7:]]
    rows.insert(6, TARDIS_ROWS[5])  # an exact duplicate row within its message
    rec = read_tardis_book(tardis_gz(tmp_path, l2(rows)))
    assert rec.stats["duplicates"] == 1
    assert rec.stats["ts_backwards"] == 1 and rec.stats["local_ts_backwards"] == 1
    assert len(after_diffs(reconstruct(rec, levels=2), rec)) == 4


def test_tardis_crossed_snapshot_is_counted_by_the_replay(tmp_path):
    rows = [
        (0, 0, True, "bid", 101.0, 1),
        (0, 0, True, "ask", 100.0, 1),
        (5, 5, False, "bid", 99.0, 1),
        *[(10 + t, 10 + lt, *rest) for t, lt, *rest in TARDIS_ROWS],
    ]
    rec = read_tardis_book(tardis_gz(tmp_path, l2(rows)))
    book = reconstruct(rec, levels=2)
    assert book.stats["crossed_snapshots"] == 1
    assert len(after_diffs(book, rec)) == 3  # the update after the crossed snapshot waits
    assert (book.frame.ts >= (US0 + 10) * 1000).all()


@pytest.mark.parametrize(
    "price, amount, message",
    [
        ("100", "-1", "invalid level price=100.0 amount=-1.0"),
        ("0", "1", "invalid level price=0.0"),
        ("-3", "1", "invalid level price=-3.0"),
        ("NaN", "1", "invalid level price=nan"),
        ("100", "NaN", "invalid level price=100.0 amount=nan"),
    ],
)
def test_tardis_bad_prices_and_sizes_raise_naming_the_line(tmp_path, price, amount, message):
    rows = l2(TARDIS_ROWS)
    rows[6] = f"binance-futures,BTCUSDT,{US0 + 70},{US0 + 80},false,bid,{price},{amount}"
    with pytest.raises(RecordingError, match=rf"\.csv\.gz:8: {message}"):
        read_tardis_book(tardis_gz(tmp_path, rows))


def test_tardis_wrong_symbol_raises_or_is_skipped(tmp_path):
    rows = l2(TARDIS_ROWS)
    rows.insert(6, *l2([(70, 80, False, "bid", 3000.0, 1)], sym="ETHUSDT"))
    p = tardis_gz(tmp_path, rows)
    with pytest.raises(RecordingError, match=r":8: rows of symbol 'ethusdt' among 'btcusdt'"):
        read_tardis_book(p)
    rec = read_tardis_book(p, symbol="btcusdt")
    assert rec.stats["other_symbol"] == 1 and rec.stats["messages"] == 5


def test_tardis_trade_with_bad_price_raises(tmp_path):
    header = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
    p = tardis_gz(tmp_path, [f"x,Y,{US0},{US0},1,buy,0,1"], header=header, name="t.csv.gz")
    with pytest.raises(RecordingError, match=r"t\.csv\.gz:2: invalid trade price=0.0"):
        read_tardis_trades(p)


# =========================================================================== data.vision


def vision_zip(tmp_path, name, text, member=None):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member or name.replace(".zip", ".csv"), text)
    return path


SPOT_US = 1_735_689_600_000_000  # 2025-01-01 in µs: spot files are in µs from then on


def test_vision_spot_trades_headerless_in_microseconds(tmp_path):
    text = (
        f"1,94000.10,0.5,47000.05,{SPOT_US + 10},True,True\n"
        f"2,94000.20,0.25,23500.05,{SPOT_US + 20},False,True\n"
    )
    rec = read_vision_trades(vision_zip(tmp_path, "BTCUSDT-trades-2025-01-01.zip", text))
    t = rec.trades
    assert (rec.symbol, rec.market) == ("btcusdt", "spot")
    assert rec.stats["time_unit"] == {"BTCUSDT-trades-2025-01-01.zip": "us"}
    assert t.ts.tolist() == [(SPOT_US + 10) * 1000, (SPOT_US + 20) * 1000]
    assert t.side.tolist() == [-1, 1]  # buyer was maker -> the seller hit the bid
    assert (t.local_ts == TS_NA).all() and t.line.tolist() == [1, 2]
    assert t.dtypes.astype(str).to_dict() == {k: np.dtype(v).name for k, v in TRADE_COLUMNS.items()}


def test_vision_futures_and_coinm_trades_and_aggtrades(tmp_path):
    um = vision_zip(
        tmp_path,
        "BTCUSDT-trades-2024-08-08.zip",
        "id,price,qty,quote_qty,time,is_buyer_maker\n5,60000.1,0.01,600.001,1723075200001,false\n",
    )
    cm = vision_zip(
        tmp_path,
        "BTCUSD_PERP-trades-2024-08-08.zip",
        "id,price,qty,base_qty,time,is_buyer_maker\n7,60000.1,3,0.005,1723075200002,true\n",
    )
    agg = vision_zip(
        tmp_path,
        "BTCUSDT-aggTrades-2024-08-08.zip",
        "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
        "3383271130,65014.6,0.03,7900100566,7900100568,1723075200069,true\n",
    )
    assert read_vision_trades(um).trades.side.tolist() == [1]
    c = read_vision_trades(cm)
    assert (c.symbol, c.market, c.trades.qty.tolist()) == ("btcusd_perp", "futures", [3.0])
    a = read_binance_vision(agg)
    assert a.trades.trade_id.tolist() == [3383271130] and a.stats["data_type"] == "aggTrades"


def test_vision_book_ticker_and_book_depth(tmp_path):
    bt = vision_zip(
        tmp_path,
        "ETHUSDT-bookTicker-2023-06-15.zip",
        "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time\n"
        "2948552298577,1650.10,13.0,1650.20,1.5,1686787200009,1686787200015\n"
        "2948552298578,1650.30,2.0,1650.20,1.0,1686787200010,1686787200016\n"
        "2948552298578,1650.30,2.0,1650.20,1.0,1686787200010,1686787200016\n",
    )
    rec = read_vision_book_ticker(bt)
    assert list(rec.bbo.columns) == list(BBO_COLUMNS)
    assert rec.bbo.update_id.tolist() == [2948552298577, 2948552298578]
    assert (rec.stats["crossed"], rec.stats["duplicates"]) == (1, 1)
    bd = vision_zip(
        tmp_path,
        "BTCUSDT-bookDepth-2024-08-08.zip",
        "timestamp,percentage,depth,notional\n"
        "2024-08-08 00:00:08,-5.00,1000.5,5.2e7\n2024-08-08 00:00:08,-0.20,10.1,6.1e5\n"
        "2024-08-08 00:00:08,0.20,12.5,7.5e5\n2024-08-08 00:00:08,5.00,900.0,4.9e7\n",
    )
    f = read_vision_book_depth(bd)
    assert f.side.tolist() == [1, 1, -1, -1]
    assert f.attrs["stats"]["samples"] == 1
    assert (f.ts == pd.Timestamp("2024-08-08 00:00:08").value).all()


def test_vision_bad_input(tmp_path):
    empty = tmp_path / "BTCUSDT-trades-2024-08-08.zip"
    empty.write_bytes(b"")
    with pytest.raises(RecordingError, match="empty"):
        read_vision_trades(empty)
    good = vision_zip(
        tmp_path,
        "BTCUSDT-trades-2024-08-09.zip",
        "".join(f"{i},1.5,2,3,{T0 + i},true\n" for i in range(1, 500)),
    )
    cut = tmp_path / "BTCUSDT-trades-2024-08-10.zip"
    cut.write_bytes(good.read_bytes()[:-30])
    with pytest.raises(RecordingError, match="truncated or corrupt zip"):
        read_vision_trades(cut)
    other = vision_zip(
        tmp_path,
        "BTCUSDT-trades-2024-08-11.zip",
        "1,1.5,2,3,1723075200001,true\n",
        member="ETHUSDT-trades-2024-08-11.csv",
    )
    with pytest.raises(
        RecordingError, match="holds 'ETHUSDT-trades-2024-08-11.csv', not a trades file of BTCUSDT"
    ):
        read_vision_trades(other)
    bad = vision_zip(
        tmp_path,
        "BTCUSDT-trades-2024-08-12.zip",
        f"1,1.5,2,3,{T0},true\n2,x,2,3,{T0},true\n3,1.5,2,3,{T0},true\n",
    )
    with pytest.raises(RecordingError, match=r"2024-08-12.zip:2: price 'x' is not a number"):
        read_vision_trades(bad)
    rec = read_vision_trades(bad, errors="skip")
    assert rec.stats["malformed"] == 1 and rec.trades.trade_id.tolist() == [1, 3]
    for i, (px, qty) in enumerate([("0", "1"), ("-1", "1"), ("1", "0"), ("1", "-2"), ("NaN", "1")]):
        z = vision_zip(
            tmp_path,
            f"BTCUSDT-trades-2024-09-{i + 1:02d}.zip",
            f"1,1.5,2,3,{T0},true\n2,{px},{qty},3,{T0},false\n",
        )
        with pytest.raises(RecordingError, match=r":2: invalid trade price"):
            read_vision_trades(z)
    mixed = vision_zip(
        tmp_path,
        "BTCUSDT-trades-2024-08-13.zip",
        f"1,1.5,2,3,{T0},true\n2,1.5,2,3,{T0 * 1000},true\n",
    )
    with pytest.raises(RecordingError, match="not epoch ns, µs or ms throughout"):
        read_vision_trades(mixed)
    flag = vision_zip(tmp_path, "BTCUSDT-trades-2024-08-14.zip", f"1,1.5,2,3,{T0},maybe\n")
    with pytest.raises(RecordingError, match=":1: is_buyer_maker 'maybe'"):
        read_vision_trades(flag)
    head = vision_zip(
        tmp_path, "BTCUSDT-trades-2024-08-15.zip", "a,b,c,d,e,f\n1,1.5,2,3,1723075200001,true\n"
    )
    with pytest.raises(RecordingError, match="unexpected header"):
        read_vision_trades(head)
    with pytest.raises(RecordingError, match="not a data.vision file name"):
        read_vision_trades(vision_zip(tmp_path, "BTCUSDT-klines-2024-08-08.zip", "1\n"))


def test_vision_duplicates_and_out_of_order_are_counted(tmp_path):
    text = f"1,1.5,2,3,{T0 + 5},true\n2,1.5,2,3,{T0 + 1},true\n2,1.5,2,3,{T0 + 1},true\n3,1.5,2,3,{T0 + 9},false\n"
    rec = read_vision_trades(vision_zip(tmp_path, "BTCUSDT-trades-2024-08-08.zip", text))
    assert (rec.stats["duplicates"], rec.stats["ts_backwards"]) == (1, 1)
    assert rec.stats["ts_backwards_first"].endswith("BTCUSDT-trades-2024-08-08.zip:2")
    assert rec.trades.trade_id.tolist() == [1, 2, 3]
    gap = vision_zip(
        tmp_path, "BTCUSDT-trades-2024-08-09.zip", f"1,1.5,2,3,{T0},true\n5,1.5,2,3,{T0},true\n"
    )
    g = read_vision_trades(gap).stats
    assert (g["id_gaps"], g["missing_ids"]) == (1, 3) and g["id_gaps_first"].endswith(":2")


def test_valid_files_never_need_the_slow_line_by_line_path(tmp_path, monkeypatch):
    import lobutils.data.archives._csv as K

    def slow(*args, **kwargs):
        raise AssertionError("the slow path ran on a valid file")

    monkeypatch.setattr(K, "_slow", slow)
    read_tardis_book(tardis_gz(tmp_path, l2(TARDIS_ROWS)))
    header = "exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price,bids[0].amount"
    snaps = tardis_gz(tmp_path, ["x,Y,1,2,101,1,,"], header=header, name="s.csv.gz")
    assert read_tardis_book_snapshots(snaps).frame.bid_px_1.isna().all()
    trades = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
    read_tardis_trades(tardis_gz(tmp_path, ["x,Y,1,2,,buy,1,1"], header=trades, name="t.csv.gz"))
    read_vision_trades(
        vision_zip(tmp_path, "BTCUSDT-trades-2025-01-01.zip", f"1,1.5,2,3,{SPOT_US},True,True\n")
    )
    read_vision_trades(
        vision_zip(tmp_path, "BTCUSDT-aggTrades-2024-08-08.zip", f"1,1.5,2,3,4,{T0},false\n")
    )


def test_detect_names_every_format(tmp_path):
    assert detect("BTCUSDT-bookDepth-2024-08-08.zip") == ("binance-vision", "bookDepth")
    assert detect("2024-08-08_ETHUSDT_ob200.data.zip") == ("bybit", "orderbook")
    assert detect(tardis_gz(tmp_path, l2(TARDIS_ROWS))) == ("tardis", "incremental_book_L2")
    with pytest.raises(ValueError, match="not a recognised archive"):
        detect("notes.txt")


# =========================================================================== Tardis export


def _same_states_by_local_us(binance_frame, tardis_frame):
    """Tardis states joined to the Binance states at the same µs receive time: (n, all equal)."""
    b = binance_frame.assign(local_ts=binance_frame.local_ts // 1000 * 1000)
    b = b.drop(columns="update_id").drop_duplicates("local_ts", keep="last")
    t = tardis_frame.drop(columns="update_id")
    m = t.merge(b, on="local_ts", suffixes=("", "_b"))
    cols = [c for c in t.columns if c != "local_ts"]
    same = all(np.array_equal(m[c], m[f"{c}_b"], equal_nan=True) for c in cols)
    return len(m), same


@pytest.mark.parametrize("name", ["spot_ethusdt", "usdm_ethusdt"])
def test_to_tardis_csv_round_trips_a_bundled_recording(tmp_path, name):
    from lobutils.book.export import to_tardis_csv
    from lobutils.data.binance import read_binance_recording
    from lobutils.data.catalog import segment

    src = segment(name).files[0]
    with gzip.open(src, "rb") as fh:
        head = b"".join(itertools.islice(fh, 4000))
    cut = tmp_path / src.name
    cut.write_bytes(gzip.compress(head))
    rec = read_binance_recording(cut)
    exchange = "binance" if name.startswith("spot") else "binance-futures"
    book_csv = tmp_path / "book" / f"{name.split('_')[1].upper()}.csv.gz"
    book_csv.parent.mkdir()
    st = to_tardis_csv(rec, book_csv, exchange=exchange)
    assert detect(book_csv) == ("tardis", "incremental_book_L2")
    assert st["snapshots"] == 1 and st["left_out"]["stale"] > 0
    assert st["messages"] == 1 + st["updates"]
    back = read_tardis_book(book_csv)
    assert back.stats["exchange"] == exchange and back.symbol == rec.symbol
    assert back.stats["messages"] == st["messages"] and back.stats["rows"] == st["rows"]

    orig = reconstruct(rec, levels=20).frame
    tardis = reconstruct(back, levels=20).frame
    assert len(tardis) == len(orig) + 1  # the snapshot is a state of its own without a chain
    n, same = _same_states_by_local_us(orig, tardis)
    assert same and n == len(orig)

    trades_csv = tmp_path / "trades.csv"
    assert to_tardis_csv(rec, trades_csv, "trades", exchange=exchange)["rows"] == len(rec.trades)
    t = read_tardis_trades(trades_csv).trades
    keep = ["ts", "trade_id", "price", "qty", "side"]
    pd.testing.assert_frame_equal(t[keep], rec.trades[keep])
    assert (t.local_ts == rec.trades.local_ts // 1000 * 1000).all()


def _spot_depth(messages):
    """A spot depth frame from (kind, U, u, [(side, price, qty), ...]) tuples, 1 ms apart."""
    rows = []
    for k, (kind, first, last, levels) in enumerate(messages):
        ts = TS_NA if kind == SNAPSHOT else (T0 + k) * 10**6
        for side, px, q in levels:
            rows.append((ts, (T0 + k) * 10**6 + 7, k, kind, first, last, -1, side, px, q, k + 1))
    return pd.DataFrame(rows, columns=list(DEPTH_COLUMNS)).astype(DEPTH_COLUMNS)


def test_to_tardis_csv_leaves_out_what_no_correct_book_consumes(tmp_path):
    from lobutils.book.export import to_tardis_csv
    from lobutils.data.archives._common import recording

    depth = _spot_depth(
        [
            (DIFF, 1, 2, [(1, 99.0, 9.0)]),  # before any snapshot, and stale for it
            (SNAPSHOT, 4, 4, [(1, 100.0, 1.0), (-1, 101.0, 1.0)]),
            (DIFF, 5, 6, [(1, 100.0, 2.0)]),
            (DIFF, 3, 4, [(1, 100.0, 7.0)]),  # a duplicate of what the book holds
            (SNAPSHOT, 6, 6, [(1, 100.0, 2.0), (-1, 101.0, 1.0)]),  # standby: book is live
            (DIFF, 9, 10, [(-1, 101.0, 3.0)]),  # gap (7, 8 missing): the book is wrong
            (DIFF, 11, 12, [(1, 100.5, 1.0)]),  # after the gap: waits for a snapshot
            (SNAPSHOT, 11, 11, [(1, 100.0, 2.0), (-1, 101.0, 3.0)]),
            (DIFF, 13, 13, [(-1, 100.8, 1.0)]),
        ]
    )
    rec = recording(symbol="btcusdt", market="spot", paths=[], offsets=[0], stats={}, depth=depth)
    path = tmp_path / "BTCUSDT.csv"
    st = to_tardis_csv(rec, path, exchange="binance")
    assert st["left_out"] == {
        "before_first_snapshot": 0,
        "stale": 2,  # the first diff, then the gap diff (9-10) is stale for snapshot 11
        "duplicates": 1,
        "live_snapshots": 1,
        "after_gap": 0,
        "empty": 0,
    }
    assert (st["snapshots"], st["updates"]) == (2, 3)
    text = path.read_text().splitlines()
    assert text[0] == ",".join(
        ["exchange", "symbol", "timestamp", "local_timestamp", "is_snapshot", "side", "price"]
        + ["amount"]
    )
    # the spot snapshot has no exchange time: Tardis' fallback is the receive time
    assert text[1].startswith(f"binance,BTCUSDT,{(T0 + 1) * 1000},{(T0 + 1) * 1000},true,bid,")
    back = read_tardis_book(path)
    assert back.depth.groupby("msg").kind.first().tolist() == [
        SNAPSHOT, DIFF, SNAPSHOT, DIFF, DIFF,
    ]  # fmt: skip
    frame = reconstruct(back, levels=2).frame
    assert tops(frame, 2)[-1] == [100.5, 1.0, 100.0, 2.0, 100.8, 1.0, 101.0, 3.0]
    # every state the Binance rules emit as valid is a state of the Tardis file
    orig = reconstruct(rec, levels=2).frame
    n, same = _same_states_by_local_us(orig, frame)
    assert same and n == len(orig) == 3


def test_to_tardis_csv_trades_unknown_side_missing_id_and_bad_input(tmp_path):
    from lobutils.book.export import to_tardis_csv
    from lobutils.data.archives._common import recording

    trades = pd.DataFrame(
        {
            "ts": [T0 * 10**6, (T0 + 1) * 10**6],
            "local_ts": [TS_NA, (T0 + 2) * 10**6],
            "trade_id": [-1, 42],
            "price": [100.25, 100.5],
            "qty": [0.1, 2.0],
            "side": [0, -1],
            "line": [1, 2],
        }
    ).astype(TRADE_COLUMNS)
    rec = recording(symbol="ethusd_perp", market="none", paths=[], offsets=[0], stats={},
                    trades=trades)  # fmt: skip
    path = tmp_path / "trades.csv.gz"
    to_tardis_csv(rec, path, "trades", exchange="binance-delivery")
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    assert lines[1:] == [
        f"binance-delivery,ETHUSD_PERP,{T0 * 1000},{T0 * 1000},,unknown,100.25,0.1",
        f"binance-delivery,ETHUSD_PERP,{(T0 + 1) * 1000},{(T0 + 2) * 1000},42,sell,100.5,2.0",
    ]
    back = read_tardis_trades(path)
    assert back.stats["unknown_side"] == 1 and back.trades.side.tolist() == [0, -1]
    with pytest.raises(ValueError, match="data_type"):
        to_tardis_csv(rec, path, "quotes", exchange="binance")
    with pytest.raises(ValueError, match="no depth"):
        to_tardis_csv(rec, path, exchange="binance")
    with pytest.raises(TypeError, match="Recording"):
        to_tardis_csv(trades, path, "trades", exchange="binance")
