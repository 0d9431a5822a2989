"""The command line under bad input: one clear line naming the file, a non-zero exit, no
traceback, no secret; and sizes checked before anything big is allocated.

The small recordings written here are synthetic (a few Binance spot stream lines); the others
are the bundled ones.
"""

from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lobutils.book.replay import BookError, price_grid
from lobutils.data.catalog import segment
from lobutils.runner import chapters, cli, errors
from lobutils.runner.cli import main
from lobutils.schema import book_columns

T = 1_723_161_253_937_085_768  # local receive time, ns
ROOT = os.geteuid() == 0  # root may write anywhere: permission cases cannot fail for it


def _diff(k: int, first: int, last: int, bids=(), asks=()) -> str:
    data = {"e": "depthUpdate", "E": 1_723_161_255_208 + k, "s": "BTCUSDT", "U": first,
            "u": last, "b": [list(b) for b in bids], "a": [list(a) for a in asks]}  # fmt: skip
    return f"{T + k * 1_000_000} " + json.dumps({"stream": "btcusdt@depth@100ms", "data": data})


def _snapshot(k: int, last: int, bids, asks) -> str:
    body = {"lastUpdateId": last, "bids": [list(b) for b in bids], "asks": [list(a) for a in asks]}
    return f"{T + k * 1_000_000} " + json.dumps(body)


def _recording(path, lines) -> str:
    """A synthetic spot recording file."""
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    return str(path)


def _shallow(tmp_path) -> str:
    """A synthetic book that is never deeper than 3 bids and 2 asks."""
    return _recording(
        tmp_path / "spot_btcusdt_20240808.gz",
        [
            _diff(0, 5, 6, bids=[("100", "1")]),
            _snapshot(1, 6, bids=[("100", "1"), ("99", "1")], asks=[("101", "1")]),
            _diff(2, 7, 8, bids=[("98", "1")]),
            _diff(3, 9, 10, asks=[("102", "1")]),
        ],
    )


def _run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _one_line(err: str) -> str:
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


# --------------------------------------------------------------------------- silent wrong books


def test_files_of_different_symbols_are_an_error_naming_both(capsys):
    btc = segment("spot_btcusdt").files[0]
    eth = segment("spot_ethusdt").files[1]
    rc, out, err = _run(capsys, "reconstruct", btc, eth, "--json")
    assert rc == 1 and out == ""
    err = _one_line(err)
    assert f"{btc.name} holds BTCUSDT and {eth.name} holds ETHUSDT" in err


def test_a_crossed_snapshot_gives_no_row_and_a_reason(tmp_path, capsys):
    f = _recording(
        tmp_path / "crossed.gz",
        [
            _diff(0, 5, 6, bids=[("100", "1")]),
            _snapshot(1, 6, bids=[("101", "1")], asks=[("100", "1")]),  # bid above ask
            _diff(2, 7, 8, bids=[("99", "1")]),
        ],
    )
    rc, _, err = _run(capsys, "reconstruct", f, "--json")
    assert rc == 1
    assert "no valid book row" in _one_line(err) and "every snapshot is crossed" in err
    assert "1 crossed snapshots" in err


def test_files_in_the_wrong_order_give_no_row_and_a_reason(capsys):
    files = segment("spot_btcusdt").files
    rc, _, err = _run(capsys, "reconstruct", files[1], files[0], "--json")
    assert rc == 1 and "are the files given in time order?" in _one_line(err)


def test_the_summary_reports_other_symbols_and_crossed_snapshots(tmp_path, capsys):
    rc, out, _ = _run(capsys, "reconstruct", _shallow(tmp_path), "--json")
    summary = json.loads(out)
    assert rc == 0 and (summary["other_symbol"], summary["crossed_snapshots"]) == (0, 0)


# --------------------------------------------------------------------------- resource limits


def test_levels_are_capped_at_the_deepest_book_seen(tmp_path, capsys):
    out = tmp_path / "book.parquet"
    rc, text, _ = _run(capsys, "reconstruct", _shallow(tmp_path), "--levels", 100_000,
                       "--out", out, "--json")  # fmt: skip
    summary = json.loads(text)
    assert rc == 0 and (summary["levels"], summary["levels_requested"]) == (3, 100_000)
    frame = pd.read_parquet(out)
    assert list(frame.columns) == book_columns(3)
    assert frame[["bid_px_1", "bid_px_2", "bid_px_3"]].iloc[-1].tolist() == [100.0, 99.0, 98.0]


def test_outputs_too_big_for_memory_are_refused_before_allocating(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(errors, "available_memory", lambda: 2**30)
    f = segment("usdm_ethusdt").files[0]
    called = []
    monkeypatch.setattr("lobutils.book.replay.reconstruct", lambda *a, **k: called.append(1))
    rc, _, err = _run(capsys, "reconstruct", f, "--levels", 100_000, "--json")
    assert rc == 1 and not called
    assert "--levels 100000 (at most " in _one_line(err)
    assert "would need about" in err and "is available" in err
    rc, _, err = _run(capsys, "reconstruct", f, "--levels", 1, "--grid", "1us", "--json")
    assert rc == 1 and not called
    assert "--grid 1us" in _one_line(err) and "GiB of memory" in err


def test_a_price_beyond_2_53_ticks_is_a_book_error_not_an_index_error():
    with pytest.raises(BookError, match=r"more than 2\*\*53 ticks"):
        price_grid(np.array([1e15, 60_000.01]))
    assert price_grid(np.array([1e15]))[0] == 10**15  # alone it still fits


# --------------------------------------------------------------------------- one clear line


def test_an_out_that_is_a_directory_is_refused_before_the_replay(tmp_path, capsys, monkeypatch):
    called = []
    monkeypatch.setattr(cli, "_check_inputs", lambda files: called.append(files))
    (tmp_path / "d.parquet").mkdir()
    rc, _, err = _run(capsys, "reconstruct", "x.gz", "--out", tmp_path / "d.parquet")
    assert rc == 1 and not called
    assert f"{tmp_path / 'd.parquet'}: --out is a directory" in _one_line(err)
    (tmp_path / "file").write_text("")
    rc, _, err = _run(capsys, "reconstruct", "x.gz", "--out", tmp_path / "file" / "b.csv")
    assert rc == 1 and "is not a directory" in _one_line(err) and not called


def test_a_read_only_out_directory_is_one_line(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if ROOT:  # root writes into a 0555 folder; /sys is read-only even for root
        ro = Path("/sys")
    if not ro.is_dir():
        pytest.skip("no read-only directory to try")
    try:
        rc, _, err = _run(capsys, "reconstruct", "x.gz", "--out", ro / "b.parquet")
    finally:
        (tmp_path / "ro").chmod(0o755)
    assert rc == 1 and f"cannot write in {ro}" in _one_line(err)


def test_inputs_that_are_directories_or_missing_are_named(tmp_path, capsys):
    rc, _, err = _run(capsys, "reconstruct", tmp_path)
    assert rc == 1 and f"{tmp_path}: is a directory" in _one_line(err)
    rc, _, err = _run(capsys, "reconstruct", tmp_path / "nope.gz")
    assert rc == 1 and f"{tmp_path / 'nope.gz'}: no such file" in _one_line(err)


@pytest.mark.skipif(ROOT, reason="root reads files whatever their mode")
def test_an_unreadable_input_is_named(tmp_path, capsys):
    f = tmp_path / "spot_btcusdt_20240808.gz"
    f.write_bytes(b"")
    f.chmod(0)
    rc, _, err = _run(capsys, "reconstruct", f)
    assert rc == 1 and f"{f}: cannot read it (permission denied)" in _one_line(err)


def test_segments_of_a_missing_data_dir_is_one_line(tmp_path, capsys):
    rc, _, err = _run(capsys, "segments", "--data-dir", tmp_path / "nowhere")
    assert rc == 1 and f"{tmp_path / 'nowhere'}: --data-dir: no such directory" in _one_line(err)
    rc, _, err = _run(capsys, "verify", "--data-dir", tmp_path / "nowhere")
    assert rc == 1 and "no such directory" in _one_line(err)


def test_output_files_get_the_usual_permissions(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        out = tmp_path / "book.csv"
        assert _run(capsys, "reconstruct", _shallow(tmp_path), "--out", out)[0] == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_every_error_path_masks_the_api_key(capsys, monkeypatch):
    monkeypatch.setenv("TARDIS_API_KEY", "tardis-secret-987")

    def leaky(args):
        raise RuntimeError("server said: bad key tardis-secret-987")

    monkeypatch.setattr(cli, "_segments", leaky)
    rc, _, err = _run(capsys, "segments")
    assert rc == 1 and "tardis-secret-987" not in err and "bad key ***" in err
    assert "Traceback" in err  # an unexpected failure keeps its traceback, masked

    def bad_input(args):
        raise ValueError("wrong key tardis-secret-987")

    monkeypatch.setattr(cli, "_segments", bad_input)
    rc, _, err = _run(capsys, "segments")
    assert rc == 1 and _one_line(err).endswith("wrong key ***\n")


def test_network_errors_of_ccxt_are_one_line(capsys, monkeypatch):
    ccxt = pytest.importorskip("ccxt")

    def offline(args):
        raise ccxt.NetworkError("binance GET https://api.binance.com/api/v3/ticker/24hr failed")

    monkeypatch.setattr(cli, "_segments", offline)
    rc, _, err = _run(capsys, "segments")
    assert rc == 1 and "NetworkError: binance GET" in _one_line(err)


# --------------------------------------------------------------------------- chapters --params-file


@pytest.mark.parametrize(
    "text, expect",
    [
        ("chapters:\n  01_x: {parameters: [1, 2\n", "YAML syntax error (line"),
        ("chapters: !!python/object/apply:os.system ['true']\n", "a Python tag"),
    ],
)
def test_a_broken_params_file_is_one_line_naming_it(tmp_path, capsys, text, expect):
    params = tmp_path / "params.yaml"
    params.write_text(text)
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: intro\nchapters:\n- file: notebooks/01_x\n")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_x.py").write_text("# %%\nx = 1\n")
    rc = chapters.main(["--toc", str(toc), "--params-file", str(params)])
    err = capsys.readouterr().err
    assert rc == 1 and str(params) in _one_line(err) and expect in err


@pytest.mark.parametrize(
    "text, expect",
    [
        ("chapter: x\ngrid: {N: [1, 2\n", "YAML syntax error (line 3, column 1)"),
        ("chapter: !!python/object/apply:os.system ['true']\n", "a Python tag"),
    ],
)
def test_a_broken_batch_grid_is_one_line_naming_it(tmp_path, capsys, text, expect):
    grid = tmp_path / "grid.yaml"
    grid.write_text(text)
    rc, _, err = _run(capsys, "batch", grid, "--dry-run")
    assert rc == 1 and f"{grid}: batch grid: " in _one_line(err) and expect in err
