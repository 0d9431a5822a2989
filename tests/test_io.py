"""The Binance recording reader: kernel against the pure-Python reference, units, bad input."""

from __future__ import annotations

import gzip
import json
import random
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lobutils.data.binance import (
    RecordingError,
    parse_line,
    read_binance_recording,
    read_recording_python,
    read_text,
)
from lobutils.data.catalog import segment, segments
from lobutils.schema import BBO_COLUMNS, DEPTH_COLUMNS, DIFF, SNAPSHOT, TRADE_COLUMNS

ALL = [s.name for s in segments()]


def assert_same_recording(a, b):
    for table in ("depth", "trades", "bbo"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table), obj=table)
    assert a.symbol == b.symbol and a.market == b.market
    assert a.stats["skipped_streams"] == b.stats["skipped_streams"]


@pytest.fixture(scope="module")
def recordings():
    return {name: read_binance_recording(segment(name).files) for name in ALL}


@pytest.mark.parametrize("name", ALL)
def test_kernel_matches_reference_parser_on_real_data(name, recordings):
    """Every bundled segment parses identically through the numba kernel and pure Python."""
    assert_same_recording(recordings[name], read_recording_python(segment(name).files))


@pytest.mark.parametrize("name", ALL)
def test_bundled_counts_match_data_readme(name, recordings):
    # The data README's table gives per-segment message counts, counted there with grep.
    readme = {
        "spot_btcusdt": (6495, 19904, 73174),
        "spot_ethusdt": (6470, 14515, 58758),
        "usdm_btcusdt": (6551, 21313, 66089),
        "usdm_ethusdt": (6586, 14076, 53992),
        "cm_btcusd_perp": (44795, 5235, 48355),
        "cm_ethusd_perp": (39155, 3595, 35563),
    }
    rec = recordings[name]
    assert (rec.stats["diffs"], rec.stats["trades"], rec.stats["bbo"]) == readme[name]
    assert rec.stats["snapshots"] == 1
    assert rec.market == ("spot" if name.startswith("spot") else "futures")
    assert list(rec.depth.columns) == list(DEPTH_COLUMNS)
    assert list(rec.trades.columns) == list(TRADE_COLUMNS)
    assert list(rec.bbo.columns) == list(BBO_COLUMNS)


def test_schema_values_are_sane(recordings):
    rec = recordings["usdm_btcusdt"]
    d = rec.depth
    lv = d[d.side != 0]
    assert (lv.price > 0).all() and (lv.qty >= 0).all()
    # the README: the recording clock ran about 1.3 s behind Binance's
    diffs = d[d.kind == DIFF].drop_duplicates("msg")
    skew_s = np.median((diffs.local_ts - diffs.ts).to_numpy()) / 1e9
    assert -2.0 < skew_s < -0.5
    # futures bookTicker has an event time; spot bookTicker has none (NaT)
    assert (rec.bbo.ts > 0).all()
    assert (recordings["spot_btcusdt"].bbo.ts == np.iinfo(np.int64).min).all()
    # diffs received before the snapshot line come first in the file
    first_snap = d.loc[d.kind == SNAPSHOT, "msg"].min()
    assert (d.loc[d.msg < first_snap, "kind"] == DIFF).all() and first_snap > 0


# ---------------------------------------------------------------- synthetic messages

# Synthetic lines in the Binance layout, serialised with varying white space, key order and
# number formats, so that the kernel's JSON walker meets more than the canonical form.

decimals = st.builds(lambda m, d: f"{m / 10**d:.{d}f}", st.integers(0, 10**9), st.integers(0, 8))
# prices, and trade sizes, are > 0 (the reader refuses anything else as malformed)
positive = st.builds(lambda m, d: f"{m / 10**d:.{d}f}", st.integers(1, 10**9), st.integers(0, 8))


def _dump(obj: dict, rnd: random.Random) -> str:
    items = list(obj.items())
    rnd.shuffle(items)
    if rnd.random() < 0.5:
        return json.dumps(dict(items), separators=(",", ":"))
    return json.dumps(dict(items), separators=(", ", ": "))


@st.composite
def message_lines(draw):
    rnd = random.Random(draw(st.integers(0, 2**32)))
    futures = draw(st.booleans())
    lines = []
    uid = 1000
    local = 1723161254000000000
    for _ in range(draw(st.integers(1, 25))):
        local += draw(st.integers(1, 10**8))
        kind = draw(st.sampled_from(["depth", "trade", "bbo", "other"]))
        e = local // 1_000_000 + 1300
        if kind == "depth":
            n_b, n_a = draw(st.integers(0, 4)), draw(st.integers(0, 4))
            data = {
                "e": "depthUpdate",
                "E": e,
                "s": "BTCUSDT",
                "U": uid + 1,
                "u": uid + 3,
                "b": [[draw(positive), draw(decimals)] for _ in range(n_b)],
                "a": [[draw(positive), draw(decimals)] for _ in range(n_a)],
            }
            if futures:
                data["pu"] = uid
                data["T"] = e - 1
            uid += 3
            stream = "btcusdt@depth@0ms" if futures else "btcusdt@depth@100ms"
        elif kind == "trade":
            data = {
                "e": "trade",
                "E": e,
                "T": e - 1,
                "s": "BTCUSDT",
                "t": draw(st.integers(0, 10**12)),
                "p": draw(positive),
                "q": draw(positive),
                "m": draw(st.booleans()),
                "M": True,
            }
            if rnd.random() < 0.3:  # numbers need not be quoted
                data["p"] = float(data["p"])
            stream = "btcusdt@trade"
        elif kind == "bbo":
            data = {
                "u": uid,
                "s": "BTCUSDT",
                "b": draw(positive),
                "B": draw(decimals),
                "a": draw(positive),
                "A": draw(decimals),
            }
            if futures:
                data["E"] = e
            stream = "btcusdt@bookTicker"
        else:
            data = {"e": "markPriceUpdate", "E": e, "p": draw(decimals)}
            stream = "btcusdt@markPrice@1s"
        lines.append(f"{local} " + _dump({"stream": stream, "data": data}, rnd))
    return "\n".join(lines) + "\n"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=message_lines())
def test_kernel_matches_reference_on_synthetic_lines(tmp_path, text):
    path = tmp_path / "synthetic.txt"
    path.write_text(text)
    assert_same_recording(read_binance_recording(path), read_recording_python(path))


def test_parse_line_reference_values():
    p = parse_line(
        b'5 {"stream":"x@depth@100ms","data":{"E":7,"U":1,"u":2,"b":[["1.10","0"]],"a":[]}}'
    )
    assert p.kind == "depth" and p.fields["bids"] == [(1.1, 0.0)] and p.fields["pu"] == -1
    assert parse_line(b'5 {"lastUpdateId":9,"bids":[],"asks":[["2","3"]]}').kind == "snapshot"
    assert parse_line(b'5 {"stream":"x@aggTrade","data":{}}').kind == "other_stream"
    with pytest.raises(ValueError, match="malformed JSON"):
        parse_line(b'5 {"stream": ')
    with pytest.raises(ValueError, match="lacks field 'u'"):
        parse_line(b'5 {"stream":"x@depth","data":{"E":7,"U":1,"b":[],"a":[]}}')


# ---------------------------------------------------------------- units and formats


def _rewrite(src_files, dst, transform, compress=True, limit=3000):
    """Write the first ``limit`` lines of a real segment through ``transform(line)``."""
    out = []
    for f in src_files:
        with gzip.open(f, "rt") as fh:
            for line in fh:
                out.append(transform(line))
                if len(out) >= limit:
                    break
    data = "".join(out).encode()
    dst.write_bytes(gzip.compress(data) if compress else data)
    return dst


@pytest.mark.parametrize("unit,div", [("us", 1_000), ("ms", 1_000_000)])
def test_local_timestamp_unit_is_detected(tmp_path, unit, div):
    files = segment("usdm_ethusdt").files
    ns = read_binance_recording(_rewrite(files, tmp_path / "ns.gz", lambda s: s))

    def coarser(line):
        t, rest = line.split(" ", 1)
        return f"{int(t) // div} {rest}"

    other = read_binance_recording(_rewrite(files, tmp_path / f"{unit}.gz", coarser))
    assert other.stats["local_ts_unit"] == {f"{unit}.gz": unit}
    np.testing.assert_array_equal(other.depth.local_ts, ns.depth.local_ts // div * div)
    pd.testing.assert_frame_equal(
        other.depth.drop(columns="local_ts"), ns.depth.drop(columns="local_ts")
    )


def test_plain_text_reads_like_gzip(tmp_path):
    files = segment("spot_ethusdt").files
    a = read_binance_recording(_rewrite(files, tmp_path / "a.gz", lambda s: s))
    b = read_binance_recording(_rewrite(files, tmp_path / "a.txt", lambda s: s, compress=False))
    assert_same_recording(a, b)


# ---------------------------------------------------------------- bad input


def test_truncated_gzip_keeps_complete_lines(tmp_path):
    src = segment("cm_ethusd_perp").files[0]
    full = read_binance_recording(src)
    raw = src.read_bytes()
    cut = tmp_path / "cut.gz"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.warns(UserWarning, match="truncated"):
        rec = read_binance_recording(cut)
    assert rec.stats["truncated"] == ["cut.gz"]
    n = rec.stats["lines"]
    assert 0 < n < full.stats["lines"]
    # everything read equals the first n lines of the whole file
    head = full.depth[full.depth.line <= n].reset_index(drop=True)
    pd.testing.assert_frame_equal(rec.depth, head)
    with pytest.raises(RecordingError, match="cut.gz: file is truncated"):
        read_binance_recording(cut, on_truncated="raise")


def test_read_text_detects_gzip_by_magic_and_corruption(tmp_path):
    p = tmp_path / "no_suffix"
    p.write_bytes(gzip.compress(b"1 {}\n"))
    assert read_text(p) == (b"1 {}\n", {"truncated": False, "dropped_bytes": 0})
    bad = bytearray(gzip.compress(b"1 {}\n" * 1000))
    bad[-8] ^= 0xFF  # the member's CRC-32 no longer matches its data
    q = tmp_path / "corrupt.gz"
    q.write_bytes(bytes(bad))
    with pytest.raises(RecordingError, match="corrupt.gz"):
        read_text(q)


def _inject(tmp_path, name, bad_line, at=200):
    files = segment("spot_btcusdt").files
    lines = gzip.open(files[0], "rt").readlines()[:400]
    lines.insert(at, bad_line)
    p = tmp_path / name
    p.write_bytes(gzip.compress("".join(lines).encode()))
    return p


def test_malformed_line_names_file_and_line(tmp_path):
    p = _inject(tmp_path, "bad.gz", '1723161254087891268 {"stream":"btcusdt@trade","data":{"p":\n')
    with pytest.raises(RecordingError, match=r"bad.gz:201: malformed JSON"):
        read_binance_recording(p)
    rec = read_binance_recording(p, errors="skip")
    assert rec.stats["malformed"] == 1 and rec.stats["malformed_lines"] == [f"{p}:201"]


def test_line_without_timestamp_is_an_error(tmp_path):
    p = _inject(tmp_path, "nots.gz", '{"stream":"btcusdt@trade","data":{}}\n', at=10)
    with pytest.raises(RecordingError, match="nots.gz:11: line does not start"):
        read_binance_recording(p)


def test_unknown_streams_are_skipped_and_counted(tmp_path):
    line = '1723161254087891268 {"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","p":"1"}}\n'
    p = _inject(tmp_path, "mark.gz", line)
    base = read_binance_recording(_inject(tmp_path, "plain.gz", ""))
    rec = read_binance_recording(p)
    assert rec.stats["skipped_streams"] == {"btcusdt@markPrice@1s": 1}
    assert rec.stats["diffs"] == base.stats["diffs"] and rec.stats["trades"] == base.stats["trades"]


def test_known_stream_missing_a_field_is_an_error(tmp_path):
    line = '1723161254087891268 {"stream":"btcusdt@trade","data":{"e":"trade","T":1,"t":2,"q":"1","m":true}}\n'
    with pytest.raises(RecordingError, match="lacks field 'p'"):
        read_binance_recording(_inject(tmp_path, "nop.gz", line))


def test_empty_file_is_an_error(tmp_path):
    for p, content in ((tmp_path / "empty.gz", gzip.compress(b"")), (tmp_path / "empty.txt", b"")):
        p.write_bytes(content)
        with pytest.raises(RecordingError, match="is empty"):
            read_binance_recording(p)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.gz"):
        read_binance_recording(tmp_path / "nothere.gz")


def _mix(tmp_path, a, b, n=300):
    la = gzip.open(segment(a).files[0], "rt").readlines()[:n]
    lb = gzip.open(segment(b).files[0], "rt").readlines()[:n]
    p = tmp_path / f"{a}+{b}.gz"
    p.write_bytes(gzip.compress("".join(la + lb).encode()))
    return p


def test_mixed_symbols_need_a_choice(tmp_path):
    p = _mix(tmp_path, "cm_btcusd_perp", "cm_ethusd_perp")
    with pytest.raises(RecordingError, match=r"another symbol \(ethusd_perp\)"):
        read_binance_recording(p)
    # COIN-M snapshots name their symbol, so one symbol can be read out of a mixed file
    eth = read_binance_recording(p, symbol="ethusd_perp")
    assert eth.symbol == "ethusd_perp" and eth.stats["snapshots"] == 1
    assert eth.stats["other_symbol"] == 300 and eth.depth.line.min() > 300


def test_mixed_symbols_with_anonymous_snapshots_are_refused(tmp_path):
    # spot snapshots carry no symbol: in a mixed file they cannot be attributed
    p = _mix(tmp_path, "spot_btcusdt", "spot_ethusdt")
    with pytest.raises(RecordingError, match="does not say which symbol"):
        read_binance_recording(p, symbol="ethusdt")


def _head(tmp_path, name, n=300):
    """The first ``n`` lines of a bundled real file, written as a small gzip file."""
    p = tmp_path / segment(name).files[0].name
    p.write_bytes(
        gzip.compress("".join(gzip.open(segment(name).files[0], "rt").readlines()[:n]).encode())
    )
    return p


def test_files_of_different_symbols_are_an_error_naming_both(tmp_path):
    # the first file's inferred symbol used to be applied to the second, which was then dropped
    btc = _head(tmp_path, "spot_btcusdt")
    eth = _head(tmp_path, "spot_ethusdt")
    with pytest.raises(RecordingError) as info:
        read_binance_recording([btc, eth])
    msg = str(info.value)
    assert str(eth) in msg and str(btc) in msg and "'ethusdt'" in msg and "'btcusdt'" in msg
    # one symbol given: the file without it is named, with the symbol it holds
    with pytest.raises(RecordingError, match=re.escape(f"{eth}: no stream of symbol 'btcusdt'")):
        read_binance_recording([btc, eth], symbol="btcusdt")


def test_wrong_symbol_names_the_file_and_what_it_holds(tmp_path):
    p = _head(tmp_path, "spot_btcusdt")
    with pytest.raises(
        RecordingError,
        match=re.escape(f"{p}: no stream of symbol 'xrpusdt'; the file holds btcusdt"),
    ):
        read_binance_recording(p, symbol="xrpusdt")


def test_directory_is_reported_as_a_directory(tmp_path):
    with pytest.raises(RecordingError, match=re.escape(f"{tmp_path}: is a directory")):
        read_binance_recording(tmp_path)


def test_binary_file_is_not_reported_as_truncated(tmp_path):
    p = tmp_path / "spot_btcusdt_20240808.gz"
    p.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)  # synthetic: a zip-like binary file
    with pytest.raises(RecordingError, match=re.escape(f"{p}: not a recording: binary data")):
        read_binance_recording(p)
