"""The live recorder against a loopback Binance: a websocket server replaying a bundled recording
and an HTTP server for depth snapshots, both on 127.0.0.1.

What is checked: the recorded files rebuild the same book as the original recording over the
same messages (every emitted state, exact), with every bookTicker matching; a dropped diff is a
gap the recorder repairs with an in-line snapshot; a reconnect and a failing snapshot request
are survived; files rotate at an injected UTC midnight and each file rebuilds alone; SIGTERM
and SIGINT leave complete gzip files; SIGKILL leaves a file readable up to its last flushed line.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import orjson
import pytest

from lobutils.acquire.recorder import (
    Recorder,
    RecorderConfig,
    recorded_files,
    repair_gzip,
    snapshot_url,
    stream_url,
)
from lobutils.acquire.replay_server import ReplayServer
from lobutils.book.replay import check_bbo, reconstruct
from lobutils.data.binance import read_binance_recording, read_text
from lobutils.data.catalog import segment, segments
from lobutils.runner.cli_acquire import add_parsers

N_LINES = 2000  # of usdm_ethusdt_20240808.gz: its REST snapshot is line 41
SNAP_INDEX = 40  # messages sent before the snapshot is served, as in the original
MIDNIGHT_NS = 1723161600 * 10**9  # 2024-08-09 00:00:00 UTC
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """The first lines of a bundled recording: raw lines, messages, snapshot, and its book."""
    path = segment("usdm_ethusdt").files[0]
    lines = []
    with gzip.open(path, "rb") as fh:
        for line in fh:
            lines.append(line)
            if len(lines) == N_LINES:
                break
    payloads = [line.rstrip(b"\n").partition(b" ")[2] for line in lines]
    snap_at = [i for i, p in enumerate(payloads) if p.startswith(b'{"lastUpdateId"')]
    assert snap_at == [SNAP_INDEX]
    messages = payloads[:SNAP_INDEX] + payloads[SNAP_INDEX + 1 :]
    copy = tmp_path_factory.mktemp("original") / "usdm_ethusdt_20240808.gz"
    copy.write_bytes(gzip.compress(b"".join(lines)))
    rec = read_binance_recording(copy)
    book = reconstruct(rec, levels=10)
    assert book.stats["gaps"] == 0 and len(book.frame) > 100
    return {
        "messages": messages,
        "snapshot": payloads[SNAP_INDEX],
        "rec": rec,
        "frame": book.frame,
    }


def FakeBinance(messages, snapshot, **options) -> ReplayServer:
    """The library's loopback USD-M stand-in, replaying the original's messages.

    ``gates`` default to holding message ``SNAP_INDEX`` back until the first snapshot has been
    served, as in the original recording; see :class:`lobutils.acquire.replay_server.ReplayServer`.
    """
    return ReplayServer(messages, snapshot, "usdm", snapshot_at=SNAP_INDEX, **options)


def _config(fake, out_dir, **kw) -> RecorderConfig:
    opts = dict(
        symbols=("ethusdt",),
        market="usdm",
        out_dir=out_dir,
        ws_url=fake.ws_url,
        rest_url=fake.rest_url,
        flush_interval=0.1,
        status_interval=0,
        snapshot_min_interval=0.02,
        backoff_initial=0.02,
        max_seconds=20,
    )
    opts.update(kw)
    return RecorderConfig(**opts)


def _run(cfg) -> dict:
    return asyncio.run(Recorder(cfg).run(handle_signals=False))


def _payloads(path) -> list[bytes]:
    data, _ = read_text(path, on_truncated="ignore")
    return [line.partition(b" ")[2] for line in data.splitlines()]


def _assert_same_book(frame, orig, min_rows):
    """Every emitted state of ``frame`` equals the original's state at the same update id."""
    assert frame["update_id"].is_unique and len(frame) >= min_rows
    cols = [c for c in orig.columns if c != "local_ts"]
    merged = frame[cols].merge(orig[cols], on="update_id", how="left", suffixes=("", "_o"))
    assert merged["ts_o"].notna().all(), "a state the original never had"
    for c in cols:
        if c != "update_id":
            np.testing.assert_array_equal(merged[c].to_numpy(), merged[f"{c}_o"].to_numpy(), c)


# --------------------------------------------------------------------------- integration


def test_recording_rebuilds_the_same_book(original, tmp_path):
    msgs = original["messages"]
    with FakeBinance(msgs, original["snapshot"]) as fake:
        stats = _run(_config(fake, tmp_path, max_messages=len(msgs)))
    assert fake.problems == []
    assert fake.ws_paths == ["/stream?streams=ethusdt@depth@0ms/ethusdt@trade/ethusdt@bookTicker"]
    assert fake.requests == ["/fapi/v1/depth?symbol=ETHUSDT&limit=1000"]
    assert stats["messages"] == len(msgs) and stats["stopped_by"] == "max_messages"
    assert (stats["gaps"], stats["snapshots"], stats["reconnects"]) == (0, 1, 0)
    [seg] = segments(tmp_path)
    assert seg.name == "usdm_ethusdt" and [Path(f) for f in stats["files"]] == list(seg.files)

    # raw text as received, in order, plus the snapshot line exactly as served
    recorded = _payloads(seg.files[0])
    assert [p for p in recorded if not p.startswith(b'{"lastUpdateId"')] == msgs
    assert recorded.count(original["snapshot"]) == 1

    rec = read_binance_recording(seg.files, on_truncated="raise")
    book = reconstruct(rec, levels=10)
    assert (book.stats["gaps"], book.stats["unsynced"]) == (0, 0)
    assert len(book.frame) == len(original["frame"])
    _assert_same_book(book.frame, original["frame"], len(original["frame"]))
    bbo = check_bbo(book.frame, rec.bbo)
    assert bbo["bbo_mismatched"] == 0 and bbo["bbo_matched"] == bbo["bbo_compared"] > 0
    orig_bbo = check_bbo(original["frame"], original["rec"].bbo)
    assert bbo["bbo_compared"] == orig_bbo["bbo_compared"]
    assert len(rec.bbo) == len(original["rec"].bbo)
    local = rec.depth["local_ts"].to_numpy()
    assert (np.diff(local[rec.depth["kind"].to_numpy() == 0]) >= 0).all()


def test_gap_is_repaired_with_an_inline_snapshot(original, tmp_path):
    msgs = original["messages"]
    depth_idx = [i for i, m in enumerate(msgs) if b"@depth" in m[:40]]
    dropped = depth_idx[len(depth_idx) // 3]
    gates = {SNAP_INDEX: 1, dropped + 40: 2}
    with FakeBinance(msgs, original["snapshot"], gates=gates, drop=[dropped]) as fake:
        stats = _run(_config(fake, tmp_path, max_messages=len(msgs) - 1))
    assert fake.problems == []
    assert (stats["gaps"], stats["snapshots"]) == (1, 2)
    [seg] = segments(tmp_path)
    rec = read_binance_recording(seg.files)
    assert rec.stats["snapshots"] == 2
    book = reconstruct(rec, levels=10, include_invalid=True)
    assert (book.stats["gaps"], book.stats["snapshots"]) == (1, 2)
    frame = book.frame
    gap_row = int(np.flatnonzero(frame["status"].to_numpy() == 2)[0])
    valid = frame[frame["status"] == 0].drop(columns="status")
    after = valid[valid.index > gap_row]
    assert len(after) > 20, "the book resynced after the gap"
    _assert_same_book(valid, original["frame"], len(original["frame"]) // 2)
    assert check_bbo(book.frame, rec.bbo)["bbo_mismatched"] == 0


def test_reconnect_and_failed_snapshot_request(original, tmp_path):
    msgs = original["messages"]
    gates = {SNAP_INDEX: 1, 900: 2}
    with FakeBinance(
        msgs, original["snapshot"], gates=gates, close_after=600, skip_on_reconnect=25, fail_first=1
    ) as fake:
        stats = _run(_config(fake, tmp_path, max_messages=len(msgs) - 25))
    assert fake.problems == []
    assert len(fake.ws_paths) == 2 and fake.requests[0] == fake.requests[1]  # 503, then retried
    assert stats["reconnects"] == 1 and stats["snapshots"] == 2
    assert stats["per_symbol"]["ethusdt"]["snapshot_errors"] == 1
    rec = read_binance_recording(stats["files"])
    book = reconstruct(rec, levels=10)
    # diffs missed while disconnected break the chain: one gap, healed by the new snapshot
    missed = [m for m in msgs[600:625] if b"@depth" in m[:40]]
    assert len(missed) > 0
    assert (book.stats["snapshots"], book.stats["gaps"]) == (2, 1)
    _assert_same_book(book.frame, original["frame"], len(original["frame"]) // 2)


def test_rotation_at_utc_midnight(original, tmp_path):
    msgs = original["messages"]
    # The injected clock ticks 1 ms per reading; the recorder reads it once per line, so it
    # crosses midnight at about message 1000. The server holds message 1010 back until the
    # new file's snapshot has been served.
    ticks = itertools.count()
    clock = lambda: MIDNIGHT_NS - 1000 * 10**6 + next(ticks) * 10**6  # noqa: E731
    with FakeBinance(msgs, original["snapshot"], gates={SNAP_INDEX: 1, 1010: 2}) as fake:
        stats = _run(_config(fake, tmp_path, max_messages=len(msgs), clock=clock))
    assert fake.problems == []
    names = [Path(f).name for f in stats["files"]]
    assert names == ["usdm_ethusdt_20240808.gz", "usdm_ethusdt_20240809.gz"]
    assert stats["snapshots"] == 2 and stats["gaps"] == 0

    # each file rebuilds on its own ...
    first, second = (tmp_path / n for n in names)
    for path in (first, second):
        rec = read_binance_recording(path, on_truncated="raise")
        assert rec.stats["snapshots"] == 1
        book = reconstruct(rec, levels=10)
        assert book.stats["gaps"] == 0 and len(book.frame) > 40
        _assert_same_book(book.frame, original["frame"], 40)
        assert check_bbo(book.frame, rec.bbo)["bbo_mismatched"] == 0
    local = read_binance_recording(second).depth["local_ts"]
    assert local.min() >= MIDNIGHT_NS
    assert read_binance_recording(first).depth["local_ts"].max() < MIDNIGHT_NS

    # ... and the pair is one segment that rebuilds the whole original book
    [seg] = segments(tmp_path)
    assert [f.name for f in seg.files] == names
    rec = read_binance_recording(seg.files)
    book = reconstruct(rec, levels=10)
    assert (book.stats["gaps"], book.stats["snapshots_skipped"]) == (0, 1)
    assert len(book.frame) == len(original["frame"])
    _assert_same_book(book.frame, original["frame"], len(original["frame"]))


def test_replay_server_from_a_spot_recording_with_a_gap(tmp_path):
    seg = segment("spot_btcusdt")
    server = ReplayServer.from_recording(seg.files, max_lines=1500)
    assert (server.market, server.symbol) == ("spot", "btcusdt")
    assert server.snapshot.startswith(b'{"lastUpdateId"') and 0 < server.snapshot_at < 200
    assert len(server.messages) == 1499 and server.gates == {server.snapshot_at: 1}
    depth_idx = [i for i, m in enumerate(server.messages) if b"@depth" in m[:40]]
    dropped = depth_idx[len(depth_idx) // 2]
    server.drop = {dropped}
    server.gates[dropped + 30] = 2  # the spot-chain book the server builds answers the gap
    with server:
        stats = _run(_config(server, tmp_path, symbols=("btcusdt",), market="spot",
                             max_messages=len(server.messages) - 1))  # fmt: skip
    assert server.problems == []
    assert server.requests[0] == "/api/v3/depth?symbol=BTCUSDT&limit=1000"
    assert (stats["gaps"], stats["snapshots"]) == (1, 2)
    rec = read_binance_recording(stats["files"])
    book = reconstruct(rec, levels=10)
    assert (book.stats["gaps"], book.stats["snapshots"]) == (1, 2)
    full = reconstruct(read_binance_recording(seg.files), levels=10).frame
    _assert_same_book(book.frame, full, 100)
    assert check_bbo(book.frame, rec.bbo)["bbo_mismatched"] == 0


def test_replay_server_bypasses_a_configured_proxy_for_loopback(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.setenv("no_proxy", "example.org")
    msgs = [b'{"stream":"btcusdt@trade","data":{}}']
    with ReplayServer(msgs, b'{"lastUpdateId":1,"bids":[],"asks":[]}', "spot"):
        assert os.environ["NO_PROXY"] == "127.0.0.1,localhost"
        assert os.environ["no_proxy"] == "example.org,127.0.0.1,localhost"
    assert "NO_PROXY" not in os.environ and os.environ["no_proxy"] == "example.org"
    with pytest.raises(ValueError, match="market"):
        ReplayServer(msgs, b"{}", "margin")


# --------------------------------------------------------------------------- signals


def _spawn(fake, out_dir):
    cmd = [
        sys.executable,
        "-m",
        "lobutils",
        "record",
        "ethusdt",
        "--market",
        "usdm",
        "--ws-url",
        fake.ws_url,
        "--rest-url",
        fake.rest_url,
        "--out",
        str(out_dir),
        "--flush-interval",
        "0.1",
        "--status-interval",
        "0",
        "--json",
    ]
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_lines(path: Path, n: int, proc, timeout: float = 15) -> int:
    deadline = time.monotonic() + timeout
    got = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"recorder exited early: {proc.communicate()}")
        if path.exists() and path.stat().st_size:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = len(read_text(path, on_truncated="ignore")[0].splitlines())
            if got >= n:
                return got
        time.sleep(0.05)
    raise AssertionError(f"only {got} of {n} lines flushed to {path}")


def _live_file(tmp_path, proc, timeout: float = 15) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        found = recorded_files(tmp_path, "usdm", "ethusdt")
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no recording file appeared: {proc.poll()}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_closes_a_complete_gzip(original, tmp_path, sig):
    msgs = original["messages"][:600]
    with FakeBinance(msgs, original["snapshot"], hold_open=True) as fake:
        proc = _spawn(fake, tmp_path)
        try:
            path = _live_file(tmp_path, proc)
            _wait_for_lines(path, len(msgs) + 1, proc)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err.decode()
    summary = json.loads(out)
    assert summary["stopped_by"] == signal.Signals(sig).name
    assert summary["messages"] == len(msgs) and summary["snapshots"] == 1
    data = gzip.decompress(path.read_bytes())  # a complete gzip stream: no EOFError
    assert data.endswith(b"\n") and len(data.splitlines()) == len(msgs) + 1
    rec = read_binance_recording(path, on_truncated="raise")
    assert reconstruct(rec).stats["gaps"] == 0


def test_sigkill_leaves_a_readable_file(original, tmp_path):
    msgs = original["messages"][:600]
    with FakeBinance(msgs, original["snapshot"], hold_open=True) as fake:
        proc = _spawn(fake, tmp_path)
        try:
            path = _live_file(tmp_path, proc)
            flushed = _wait_for_lines(path, len(msgs) + 1, proc)
            proc.kill()
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == -signal.SIGKILL
    with pytest.raises(EOFError):
        gzip.decompress(path.read_bytes())  # no gzip trailer: the writer was killed
    with pytest.warns(UserWarning, match="truncated"):
        rec = read_binance_recording(path)
    assert rec.stats["truncated"] == [path.name]
    assert rec.stats["lines"] == flushed == len(msgs) + 1
    assert _payloads(path)[:SNAP_INDEX] == msgs[:SNAP_INDEX]
    assert reconstruct(rec).stats["gaps"] == 0

    # the next recorder run repairs the cut file, then appends a complete gzip member
    before = path.read_bytes()
    info = repair_gzip(path)
    assert info["repaired"] and info["dropped_bytes"] == 0
    assert gzip.decompress(path.read_bytes()).count(b"\n") == flushed
    assert repair_gzip(path)["repaired"] is False and len(before) > 0


def test_a_file_cut_anywhere_reads_up_to_its_last_complete_line(original, tmp_path):
    lines = [b"%d %s\n" % (1723161255000000000 + i, m) for i, m in enumerate(original["messages"])]
    path = tmp_path / "usdm_ethusdt_20240808.gz"
    from lobutils.acquire.recorder import _LineFile

    f = _LineFile(path, compresslevel=6, fsync=False)
    for i, line in enumerate(lines[:300]):
        ts, _, payload = line.rstrip(b"\n").partition(b" ")
        f.write(int(ts), payload)
        if i % 50 == 49:
            f.flush()
    f.close()
    full = path.read_bytes()
    assert gzip.decompress(full) == b"".join(lines[:300])
    cut = tmp_path / "cut.gz"
    for size in np.linspace(20, len(full) - 1, 12).astype(int):
        cut.write_bytes(full[:size])
        data, info = read_text(cut, on_truncated="ignore")
        assert info["truncated"]
        n = len(data.splitlines())
        assert data == b"".join(lines[:n])  # a prefix of whole lines


# --------------------------------------------------------------------------- units (no network)


def _depth(sym, U, u, pu=None):
    data = {"e": "depthUpdate", "E": 1, "U": U, "u": u, "b": [], "a": []}
    if pu is not None:
        data["pu"] = pu
    return orjson.dumps({"stream": f"{sym}@depth@100ms", "data": data})


def test_chain_rules_gaps_duplicates_and_stale_snapshots(tmp_path):
    t = [MIDNIGHT_NS]
    rec = Recorder(RecorderConfig(("btcusdt",), out_dir=tmp_path, clock=lambda: t[0]))
    st = rec.streams["btcusdt"]
    rec._new_epoch(st, reconnect=True)
    rec._on_message(_depth("btcusdt", 100, 105))
    assert st.base == 99 and not st.synced
    rec._on_snapshot(st, 98, b'{"lastUpdateId":98,"bids":[],"asks":[]}')  # older: dropped
    assert st.counts["stale_snapshots"] == 1 and st.wanted.is_set()
    rec._on_snapshot(st, 103, b'{"lastUpdateId":103,"bids":[],"asks":[]}')
    assert st.synced and not st.wanted.is_set()
    rec._on_message(_depth("btcusdt", 106, 110))  # chained
    rec._on_message(_depth("btcusdt", 101, 104))  # already seen
    assert (st.counts["gaps"], st.counts["duplicates"]) == (0, 1)
    rec._on_message(_depth("btcusdt", 112, 115))  # 111 missing
    assert st.counts["gaps"] == 1 and not st.synced and st.wanted.is_set()
    assert st.base == 111  # the next snapshot must reach the update before the gap's diff
    rec._on_message(b'{"stream":"ethusdt@trade","data":{}}')
    assert rec.unrouted == 1
    st.file.close()
    assert _payloads(st.file.path).count(b'{"lastUpdateId":98,"bids":[],"asks":[]}') == 0


def test_each_symbol_gets_its_own_file(tmp_path):
    rec = Recorder(
        RecorderConfig(("btcusdt", "ethusdt"), out_dir=tmp_path, clock=lambda: MIDNIGHT_NS)
    )
    rec._on_message(_depth("ethusdt", 1, 2))
    rec._on_message(_depth("btcusdt", 7, 9))
    rec._on_message(b'{"stream":"btcusdt@trade","data":{"e":"trade"}}')
    for st in rec.streams.values():
        st.file.close()
    assert [Path(f).name for f in rec.files] == [
        "spot_ethusdt_20240809.gz",
        "spot_btcusdt_20240809.gz",
    ]
    assert len(_payloads(tmp_path / "spot_btcusdt_20240809.gz")) == 2
    assert rec.stats["per_symbol"]["ethusdt"]["depth"] == 1
    assert [s.name for s in segments(tmp_path)] == ["spot_btcusdt", "spot_ethusdt"]


def test_futures_chain_uses_pu(tmp_path):
    rec = Recorder(RecorderConfig(("btcusdt",), market="usdm", out_dir=tmp_path))
    st = rec.streams["btcusdt"]
    rec._on_message(_depth("btcusdt", 10, 20, pu=9))
    rec._on_message(_depth("btcusdt", 25, 30, pu=20))  # U jumps, pu chains: no gap
    rec._on_message(_depth("btcusdt", 31, 35, pu=29))
    assert st.counts["gaps"] == 1 and st.base == 29
    st.file.close()


@pytest.mark.parametrize("rotate", ["daily", "hourly"])
def test_rotation_opens_a_new_file_that_wants_a_snapshot(tmp_path, rotate):
    t = [MIDNIGHT_NS - 10**6]
    rec = Recorder(
        RecorderConfig(("btcusdt",), out_dir=tmp_path, rotate=rotate, clock=lambda: t[0])
    )
    st = rec.streams["btcusdt"]
    rec._on_message(_depth("btcusdt", 1, 2))
    rec._on_snapshot(st, 2, b'{"lastUpdateId":2,"bids":[],"asks":[]}')
    assert st.synced
    t[0] = MIDNIGHT_NS
    rec._on_message(_depth("btcusdt", 3, 4))
    assert not st.synced and st.wanted.is_set() and st.counts["gaps"] == 0
    st.file.close()
    names = [Path(f).name for f in rec.files]
    if rotate == "daily":
        assert names == ["spot_btcusdt_20240808.gz", "spot_btcusdt_20240809.gz"]
    else:
        assert names == ["spot_btcusdt_20240808_23.gz", "spot_btcusdt_20240809_00.gz"]
    # consecutive files, daily or hourly, are one segment for the chapters
    assert [f.name for f in segments(tmp_path)[0].files] == names
    assert [p.name for p in recorded_files(tmp_path, "spot", "btcusdt")] == names
    for f in rec.files:
        assert gzip.decompress(Path(f).read_bytes()).endswith(b"\n")


def test_urls_and_cli_parser():
    cfg = RecorderConfig(("BTCUSD_PERP",), market="cm", rest_url="http://127.0.0.1:1/")
    assert stream_url(cfg).startswith("wss://dstream.binance.com/stream?streams=btcusd_perp@")
    assert snapshot_url(cfg, "btcusd_perp") == (
        "http://127.0.0.1:1/dapi/v1/depth?symbol=BTCUSD_PERP&limit=1000"
    )
    with pytest.raises(ValueError, match="market"):
        RecorderConfig(("btcusdt",), market="margin")
    with pytest.raises(ValueError, match="symbols"):
        RecorderConfig(("btc/usdt",))
    import argparse

    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["record", "ethusdt", "--market", "cm", "--rotate", "hourly", "--json"]
    )
    assert (args.market, args.rotate, args.json, args.func.__name__) == (
        "cm",
        "hourly",
        True,
        "_cmd_record",
    )
