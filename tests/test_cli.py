"""The command line: JSON summaries equal the library's numbers; bad input exits 1."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pandas as pd

from lobutils.book.replay import check_bbo, reconstruct
from lobutils.data.binance import read_binance_recording
from lobutils.data.catalog import segment
from lobutils.runner.cli import main
from lobutils.schema import book_columns


def test_reconstruct_json_and_parquet(tmp_path, capsys):
    files = [str(f) for f in segment("usdm_ethusdt").files]
    out = tmp_path / "book.parquet"
    assert main(["reconstruct", *files, "--levels", "5", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    rec = read_binance_recording(files)
    book = reconstruct(rec, levels=5)
    for key in ("applied", "gaps", "crossed"):
        assert summary[key] == book.stats[key]
    bbo = check_bbo(book.frame, rec.bbo)
    assert (summary["bbo_matched"], summary["bbo_mismatched"]) == (bbo["bbo_matched"], 0)
    assert summary["seconds"] > 0
    frame = pd.read_parquet(out)
    assert list(frame.columns) == book_columns(5)
    pd.testing.assert_frame_equal(frame, book.frame)


def test_reconstruct_on_clock_grid_to_csv(tmp_path, capsys):
    files = [str(f) for f in segment("spot_ethusdt").files]
    out = tmp_path / "grid.csv"
    assert (
        main(["reconstruct", *files, "--levels", "3", "--grid", "1s", "--out", str(out), "--json"])
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    frame = pd.read_csv(out)
    assert len(frame) == summary["rows"] and (frame.ts.diff().dropna() == 1_000_000_000).all()


def test_bad_input_exits_1_with_file_and_line(tmp_path, capsys):
    p = tmp_path / "broken.gz"
    p.write_bytes(gzip.compress(b'1723161254087891268 {"stream":"btcusdt@trade","data":{\n'))
    assert main(["reconstruct", str(p), "--json"]) == 1
    err = capsys.readouterr().err
    assert "broken.gz:1" in err and "Traceback" not in err


def test_module_entry_point_runs():
    res = subprocess.run(
        [sys.executable, "-m", "lobutils", "segments", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = [s["name"] for s in json.loads(res.stdout)]
    assert "cm_btcusd_perp" in names and len(names) == 6
