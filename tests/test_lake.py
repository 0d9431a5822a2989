"""The parquet lake: exact round trips, atomic partitions, manifests, conversion of archives."""

from __future__ import annotations

import argparse
import gzip
import json
import zipfile

import numpy as np
import pandas as pd
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from lobutils.book.replay import reconstruct
from lobutils.data import lake
from lobutils.data.binance import read_binance_recording
from lobutils.data.catalog import segment
from lobutils.paths import sha256_file
from lobutils.runner.cli_archives import add_parsers
from lobutils.schema import BBO_COLUMNS, DEPTH_COLUMNS, TRADE_COLUMNS

SCHEMAS = {"depth": DEPTH_COLUMNS, "trades": TRADE_COLUMNS, "bbo": BBO_COLUMNS}


@pytest.fixture(scope="module")
def spot():
    return read_binance_recording(segment("spot_btcusdt").files)


@pytest.fixture(scope="module")
def spot_lake(spot, tmp_path_factory):
    root = tmp_path_factory.mktemp("lake")
    written = lake.write_recording(root, "binance", spot)
    return root, written


@pytest.mark.parametrize("kind", ["depth", "trades", "bbo"])
def test_the_lake_round_trips_a_bundled_segment_exactly(spot, spot_lake, kind):
    root, _ = spot_lake
    back = lake.read(root, kind, "binance", "btcusdt")
    pd.testing.assert_frame_equal(back, getattr(spot, kind))
    assert back.dtypes.astype(str).to_dict() == {
        k: np.dtype(v).name for k, v in SCHEMAS[kind].items()
    }


def test_read_recording_gives_the_same_book_and_locations(spot, spot_lake):
    root, _ = spot_lake
    rec = lake.read_recording(root, "binance", "btcusdt")
    assert (rec.symbol, rec.market) == (spot.symbol, spot.market)
    assert list(rec.sources) == [p.name for p in segment("spot_btcusdt").files]
    last = int(spot.depth.line.iat[-1])
    assert rec.locate(last) == spot.locate(last)
    pd.testing.assert_frame_equal(reconstruct(rec, 5).frame, reconstruct(spot, 5).frame)


def test_partitions_split_by_utc_day_with_full_manifests(spot, spot_lake):
    root, written = spot_lake
    parts = lake.partitions(root, "depth")
    assert parts.date.tolist() == ["2024-08-08", "2024-08-09"]
    assert parts.rows.sum() == len(spot.depth)
    m = lake.manifest(parts.path.iat[0])
    assert m["lake_format"] == lake.LAKE_FORMAT and m["writer"] == "lobutils.data.lake"
    assert m["writer_version"] and m["market"] == "spot"
    assert m["clock"] == "ts, else local_ts"  # the spot REST snapshot has no exchange time
    files = segment("spot_btcusdt").files
    assert [s["name"] for s in m["sources"]] == [f.name for f in files]
    assert m["sources"][0]["sha256"] == sha256_file(files[0])
    assert m["sources"][0]["bytes"] == files[0].stat().st_size
    day = pd.Timestamp("2024-08-09").value
    assert m["ts_max"] < day <= lake.manifest(parts.path.iat[1])["ts_min"]
    assert m["messages"] + lake.manifest(parts.path.iat[1])["messages"] == spot.depth.msg.nunique()
    assert m["columns"]["kind"] == "int8" and m["reader_stats"]["diffs"] == spot.stats["diffs"]
    assert "/" not in json.dumps(m["sources"])  # file names only, never local paths
    bbo = lake.manifest(lake.partitions(root, "bbo").path.iat[0])
    assert bbo["clock"] == "ts, else local_ts"  # spot quotes carry no exchange time
    assert lake.verify(root) == []
    # pyarrow reads the lake directly (hive partitions), skipping the manifests
    table = pads.dataset(root / "depth", format="parquet", partitioning="hive").to_table()
    assert table.num_rows == len(spot.depth)


def test_read_filters_by_time_and_renumbers_messages(spot, spot_lake):
    root, _ = spot_lake
    start = int(spot.depth.ts.iloc[len(spot.depth) // 3])
    end = int(spot.depth.ts.iloc[2 * len(spot.depth) // 3])
    part = lake.read(root, "depth", start=pd.Timestamp(start), end=end)
    want = spot.depth[(spot.depth.ts >= start) & (spot.depth.ts < end)]
    assert len(part) == len(want) and part.line.tolist() == want.line.tolist()
    assert part.msg.iat[0] == 0 and (np.diff(part.msg) >= 0).all()
    assert part.msg.nunique() == part.msg.iat[-1] + 1
    day2 = lake.read(root, "trades", start="2024-08-09")
    assert (day2.ts >= pd.Timestamp("2024-08-09").value).all() and len(day2) > 0
    assert len(lake.read(root, "trades", start="2030-01-01")) == 0


def _fail_mid_write(monkeypatch):
    real = pq.write_table

    def broken(table, where, **kw):
        real(table.slice(0, 10), where, **kw)  # some bytes reach the disk, then the writer dies
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(pq, "write_table", broken)


def test_an_interrupted_write_leaves_no_visible_partial_partition(monkeypatch, tmp_path):
    rec = read_binance_recording(segment("usdm_ethusdt").files)
    _fail_mid_write(monkeypatch)
    with pytest.raises(OSError, match="simulated"):
        lake.write_recording(tmp_path, "binance-futures", rec)
    assert len(lake.partitions(tmp_path)) == 0
    assert not list(tmp_path.rglob("date=*")) and not list(tmp_path.rglob(".date=*"))
    assert not list(tmp_path.rglob("*.parquet"))
    # replacing an existing partition fails the same way: the old one stays whole
    monkeypatch.undo()
    lake.write_recording(tmp_path, "binance-futures", rec)
    before = lake.read(tmp_path, "depth")
    _fail_mid_write(monkeypatch)
    with pytest.raises(OSError, match="simulated"):
        lake.write_recording(tmp_path, "binance-futures", rec)
    pd.testing.assert_frame_equal(lake.read(tmp_path, "depth"), before)
    assert lake.verify(tmp_path) == []


def test_a_killed_writers_leftovers_are_invisible_and_cleaned(spot, tmp_path):
    lake.write_table(tmp_path, "trades", "binance", "btcusdt", spot.trades)
    parent = tmp_path / "trades" / "exchange=binance" / "symbol=btcusdt"
    junk = parent / ".date=2024-08-10.tmp-0123456789ab"
    junk.mkdir()
    (junk / "data.parquet").write_bytes(b"PAR1 half a file")
    assert lake.partitions(tmp_path).date.tolist() == ["2024-08-08", "2024-08-09"]
    assert len(lake.read(tmp_path, "trades")) == len(spot.trades)
    assert pads.dataset(tmp_path / "trades", format="parquet").count_rows() == len(spot.trades)
    assert lake.clean(tmp_path) == [str(junk)] and not junk.exists()


def test_write_modes_and_bad_names(spot, tmp_path):
    lake.write_table(tmp_path, "trades", "binance", "btcusdt", spot.trades)
    out = lake.write_table(tmp_path, "trades", "binance", "btcusdt", spot.trades, mode="skip")
    assert {w["status"] for w in out} == {"skipped"}
    with pytest.raises(FileExistsError, match="exists"):
        lake.write_table(tmp_path, "trades", "binance", "btcusdt", spot.trades, mode="error")
    with pytest.raises(ValueError, match="cannot name a lake partition"):
        lake.write_table(tmp_path, "trades", "../x", "btcusdt", spot.trades)
    with pytest.raises(ValueError, match="needs columns"):
        lake.write_table(tmp_path, "trades", "binance", "btcusdt", spot.bbo)
    lake.write_table(tmp_path, "trades", "bybit", "btcusdt", spot.trades)
    with pytest.raises(ValueError, match="2 exchange/symbol pairs match"):
        lake.read(tmp_path, "trades")
    data = next((tmp_path / "trades").rglob("data.parquet"))
    data.write_bytes(data.read_bytes()[:-10] + b"0123456789")
    assert len(lake.verify(tmp_path)) == 1


# --------------------------------------------------------------------------- convert

T0 = 1_723_075_200_000


def _bybit(tmp_path, day, u0, ts0):
    lines = [
        {"topic": "orderbook.200.BTCUSDT", "type": "snapshot", "ts": ts0,
         "data": {"s": "BTCUSDT", "b": [["100", "1"]], "a": [["101", "1"]], "u": u0, "seq": 1}},
        {"topic": "orderbook.200.BTCUSDT", "type": "delta", "ts": ts0 + 100,
         "data": {"s": "BTCUSDT", "b": [["100", "2"]], "a": [], "u": u0 + 1, "seq": 2}},
    ]  # fmt: skip
    name = f"{day}_BTCUSDT_ob200.data"
    path = tmp_path / "linear" / "BTCUSDT" / f"{name}.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(name, "\n".join(json.dumps(x) for x in lines) + "\n")
    return path


def test_convert_archives_of_every_format_into_the_lake(tmp_path):
    raw = tmp_path / "raw"
    b1 = _bybit(raw, "2024-08-08", 10, T0)
    b2 = _bybit(raw, "2024-08-09", 500, T0 + 86_400_000)
    vis = raw / "data/futures/um/daily/trades/BTCUSDT/BTCUSDT-trades-2024-08-08.zip"
    vis.parent.mkdir(parents=True)
    with zipfile.ZipFile(vis, "w") as z:
        z.writestr(
            "BTCUSDT-trades-2024-08-08.csv",
            f"id,price,qty,quote_qty,time,is_buyer_maker\n1,100.5,0.1,10.05,{T0 + 5},true\n",
        )
    depth_bands = raw / "BTCUSDT-bookDepth-2024-08-08.zip"
    with zipfile.ZipFile(depth_bands, "w") as z:
        z.writestr(
            "BTCUSDT-bookDepth-2024-08-08.csv",
            "timestamp,percentage,depth,notional\n2024-08-08 00:00:08,-1.00,1.5,150.0\n",
        )
    us = T0 * 1000
    tardis = raw / "deribit_incremental_book_L2_2024-08-08_BTC-PERPETUAL.csv.gz"
    with gzip.open(tardis, "wt") as fh:
        fh.write(
            "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
            f"deribit,BTC-PERPETUAL,{us},{us + 9},true,bid,100.0,10\n"
            f"deribit,BTC-PERPETUAL,{us},{us + 9},true,ask,100.5,10\n"
            f"deribit,BTC-PERPETUAL,{us + 50},{us + 59},false,ask,100.5,20\n"
        )
    snaps = raw / "deribit_book_snapshot_5_2024-08-08_BTC-PERPETUAL.csv.gz"
    head = ",".join(
        f"asks[{i}].price,asks[{i}].amount,bids[{i}].price,bids[{i}].amount" for i in range(5)
    )
    with gzip.open(snaps, "wt") as fh:
        fh.write(f"exchange,symbol,timestamp,local_timestamp,{head}\n")
        fh.write(
            f"deribit,BTC-PERPETUAL,{us},{us + 9},"
            + ",".join(f"{100.5 + i},1,{100 - i},2" for i in range(5))
            + "\n"
        )
    root = tmp_path / "lake"
    files = [b1, b2, vis, depth_bands, tardis, snaps]
    out = lake.convert(files, root)
    got = {(w["kind"], w["exchange"], w["symbol"], w["date"]) for w in out}
    assert got == {
        ("depth", "bybit", "btcusdt", "2024-08-08"),
        ("depth", "bybit", "btcusdt", "2024-08-09"),
        ("trades", "binance-futures", "btcusdt", "2024-08-08"),
        ("book_depth", "binance-futures", "btcusdt", "2024-08-08"),
        ("depth", "deribit", "btc-perpetual", "2024-08-08"),
        ("book", "deribit", "btc-perpetual", "2024-08-08"),
    }
    # two separately written days read back as one stream, with lines locating their files
    rec = lake.read_recording(root, "bybit", "btcusdt")
    assert rec.market == "none" and list(rec.sources) == [b1.name, b2.name]
    assert rec.locate(int(rec.depth.line.iat[-1])) == f"{b2.name}:2"
    book = reconstruct(rec, 1).frame
    assert book.bid_qty_1.iat[-1] == 2.0 and book.update_id.iat[-1] == 501
    book = lake.read(root, "book", "deribit")
    assert book.bid_px_5.tolist() == [96.0] and book.update_id.tolist() == [-1]
    assert lake.read(root, "book_depth").depth.tolist() == [1.5]
    summary = lake.convert(files[:2], root, mode="skip")
    assert {w["status"] for w in summary} == {"skipped"}

    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["convert", str(tardis), "--lake", str(root), "--json"])
    res = args.func(args)
    assert (res["partitions"], res["rows"]) == (1, 3)
    json.dumps(res)


def test_convert_groups_binance_recordings_into_segments(tmp_path):
    files = segment("cm_ethusd_perp").files
    out = lake.convert(list(reversed(files)), tmp_path)
    assert {(w["kind"], w["exchange"]) for w in out} >= {("depth", "binance-delivery")}
    assert {tuple(w["files"]) for w in out} == {tuple(f.name for f in files)}
    with pytest.raises(ValueError, match="not a recognised archive"):
        lake.convert([files[0].parent / "README.md"], tmp_path)


def test_recorder_files_group_into_segments_daily_or_hourly(tmp_path):
    names = [
        "spot_btcusdt_20240808_22.gz",
        "spot_btcusdt_20240808_23.gz",
        "spot_btcusdt_20240809_01.gz",  # hour 00 missing: a new segment
        "usdm_btcusdt_20240808.gz",
        "usdm_btcusdt_20240809.gz",
    ]
    groups = lake._recording_groups([tmp_path / n for n in reversed(names)])
    assert [[p.name for p in g] for g in groups] == [
        names[:2],
        names[2:3],
        names[3:],
    ]
