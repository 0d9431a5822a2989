"""The lake keeps its data: no silent replacement, no collision, crash-safe swaps (synthetic files).

Every raw file here is synthetic: a Tardis-format incremental L2 file with a few thousand
updates spread over UTC days, and its truncated copy.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lobutils.data import lake
from lobutils.data.binance import RecordingError
from lobutils.runner.cli import main

pytestmark = pytest.mark.filterwarnings("ignore:.*truncated:UserWarning")

DAY_US = 86_400_000_000
T0_US = 1_723_075_200_000_000  # 2024-08-08 00:00 UTC


def _tardis_l2(
    path: Path, days: int = 2, per_day: int = 1500, symbol="BTC-PERPETUAL", t0: int = T0_US
) -> Path:
    """A synthetic Tardis incremental_book_L2 file: a snapshot, then updates on ``days`` days."""
    lines = ["exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"]
    lines += [
        f"deribit,{symbol},{t0},{t0 + 9},true,bid,100.0,10",
        f"deribit,{symbol},{t0},{t0 + 9},true,ask,100.5,10",
    ]
    for d in range(days):
        for i in range(per_day):
            t = t0 + d * DAY_US + 1000 * (i + 1)
            side, px = ("bid", 99.5 - (i % 5) * 0.5) if i % 2 else ("ask", 101.0 + (i % 5) * 0.5)
            lines.append(f"deribit,{symbol},{t},{t + 9},false,{side},{px},{1 + i % 7}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def _truncated_copy(src: Path, dest: Path, keep: float = 0.5) -> Path:
    """A copy of a gzip file cut mid-stream (as a killed download or writer leaves it)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * keep)])
    return dest


NAME = "deribit_incremental_book_L2_2024-08-08_BTC-PERPETUAL.csv.gz"


@pytest.fixture
def raw(tmp_path):
    return _tardis_l2(tmp_path / "raw" / NAME)


def _depth_rows(root) -> list[int]:
    return lake.partitions(root, "depth").rows.tolist()


def test_a_truncated_input_is_an_error_unless_partial_data_is_asked_for(raw, tmp_path):
    cut = _truncated_copy(raw, tmp_path / "cut" / NAME)
    with pytest.raises(RecordingError, match="truncated"):
        lake.convert(cut, tmp_path / "lake")
    assert not (tmp_path / "lake").exists() or len(lake.partitions(tmp_path / "lake")) == 0
    out = lake.convert(cut, tmp_path / "lake", partial=True)
    assert out and {w["status"] for w in out} == {"written"}


def test_a_truncated_copy_never_replaces_the_full_partition_without_force(raw, tmp_path):
    root = tmp_path / "lake"
    lake.convert(raw, root)
    full = _depth_rows(root)
    cut = _truncated_copy(raw, tmp_path / "cut" / NAME, keep=0.7)
    with pytest.raises(lake.LakeConflict, match=r"only [\d,]+ \(truncated\?\)"):
        lake.convert(cut, root, partial=True)
    assert _depth_rows(root) == full and lake.verify(root) == []
    lake.convert(cut, root, partial=True, force=True)
    assert sum(_depth_rows(root)) < sum(full)


def test_data_from_other_sources_never_replaces_a_partition_without_force(raw, tmp_path):
    root = tmp_path / "lake"
    lake.convert(raw, root)
    full = _depth_rows(root)
    other = _tardis_l2(tmp_path / "other" / NAME.replace("2024-08-08", "2024-08-07"), per_day=2000)
    with pytest.raises(lake.LakeConflict, match="holds data from"):
        lake.convert(other, root)
    assert _depth_rows(root) == full
    # the same file again is the same write: replacing it is allowed, and changes nothing
    again = lake.convert(raw, root)
    assert [w["rows"] for w in again] == full and lake.verify(root) == []


def test_two_inputs_that_map_to_one_partition_are_refused_when_they_overlap(raw, tmp_path):
    twin = _tardis_l2(tmp_path / "twin" / NAME.replace(".csv", "-copy.csv"), per_day=900)
    with pytest.raises(lake.LakeConflict, match="overlap in time"):
        lake.convert([raw, twin], tmp_path / "lake")
    assert not (tmp_path / "lake").exists() or len(lake.partitions(tmp_path / "lake")) == 0


def test_two_inputs_of_different_times_in_one_partition_are_merged(tmp_path):
    early = _tardis_l2(tmp_path / "a" / NAME, days=1, per_day=300)
    late = _tardis_l2(tmp_path / "b" / NAME.replace(".csv", "-pm.csv"), days=1, per_day=200,
                      t0=T0_US + DAY_US // 2)  # fmt: skip
    root = tmp_path / "lake"
    out = lake.convert([late, early], root)
    assert len(out) == 1 and out[0]["rows"] == 302 + 202  # one partition, counted once
    assert out[0]["files"] == [late.name, early.name]
    rec = lake.read_recording(root, "deribit", "btc-perpetual")
    assert list(rec.sources) == [early.name, late.name]  # in time order
    assert rec.locate(int(rec.depth.line.iat[-1])) == f"{late.name}:203"
    assert rec.depth.ts.is_monotonic_increasing and rec.depth.msg.is_monotonic_increasing
    assert lake.verify(root) == []


def _leftover_old(root) -> Path:
    """Simulate a writer killed between its two renames: the partition is moved away."""
    final = Path(lake.partitions(root, "depth").path.iat[0])
    old = final.parent / f".{final.name}.old-0123456789ab"
    os.rename(final, old)
    return final


def test_clean_restores_a_partition_whose_swap_was_cut(raw, tmp_path):
    root = tmp_path / "lake"
    lake.convert(raw, root)
    before = lake.partitions(root)
    final = _leftover_old(root)
    assert len(lake.partitions(root)) == len(before) - 1
    assert any("is missing" in p for p in lake.verify(root))  # the write lacks a partition
    lake.clean(root)
    assert final.is_dir() and lake.partitions(root).equals(before) and lake.verify(root) == []


def test_verify_finds_mixed_writes_and_rows_that_disagree(raw, tmp_path):
    root = tmp_path / "lake"
    lake.convert(raw, root)
    first = Path(lake.partitions(root, "depth").path.iat[0])
    cut = _truncated_copy(raw, tmp_path / "cut" / NAME, keep=0.3)
    lake.convert(cut, tmp_path / "lake2", partial=True)
    # one day of the truncated write dropped in by hand: a lake that mixes two writes
    shutil.rmtree(first)
    shutil.copytree(Path(lake.partitions(tmp_path / "lake2", "depth").path.iat[0]), first)
    problems = lake.verify(root)
    assert any("holds another write" in p for p in problems), problems
    m = json.loads((first / lake.MANIFEST_FILE).read_text())
    m["rows"] += 1
    (first / lake.MANIFEST_FILE).write_text(json.dumps(m))
    assert any("rows, the manifest says" in p for p in lake.verify(root))


def _snapshot(root: Path) -> dict:
    """A lake's content: per partition, the data file's sha256 and the manifest less its time."""
    out = {}
    for path in lake.partitions(root).path:
        m = lake.manifest(path)
        m.pop("written_utc")
        out[Path(path).relative_to(root).as_posix()] = m
    hidden = sorted(p.name for p in root.rglob(".date=*"))
    return {"partitions": out, "hidden": hidden}


def _convert(root: Path, files, kill_at: str | None = None, *extra) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(lake.__file__).parents[2])}
    env.pop("LOBUTILS_LAKE_KILL_AT", None)
    if kill_at:
        env["LOBUTILS_LAKE_KILL_AT"] = kill_at
    cmd = [sys.executable, "-m", "lobutils", "convert", *map(str, files), "--lake", str(root)]
    return subprocess.run([*cmd, *extra], env=env, capture_output=True, text=True, timeout=120)


def test_a_conversion_killed_at_any_point_reruns_to_the_same_lake(tmp_path):
    """``kill -9`` (SIGKILL) at named points of a conversion, then a rerun: the same lake."""
    files = [
        _tardis_l2(tmp_path / "raw" / NAME, days=3, per_day=400),
        _tardis_l2(tmp_path / "raw" / NAME.replace("BTC-PERPETUAL", "ETH-PERPETUAL"),
                   days=2, per_day=300, symbol="ETH-PERPETUAL"),
    ]  # fmt: skip
    ref = tmp_path / "ref"
    assert _convert(ref, files).returncode == 0
    want = _snapshot(ref)
    assert len(want["partitions"]) == 5 and want["hidden"] == []
    # killed while filling an empty lake (after a partition, mid-file), rerun with skip
    for point in ("written:1", "data:3"):
        root = tmp_path / f"empty-{point.replace(':', '-')}"
        res = _convert(root, files, point)
        assert res.returncode == -9, res.stderr
        assert _convert(root, files, None, "--mode", "skip").returncode == 0
        lake.clean(root)
        assert _snapshot(root) == want, point
    # killed while replacing a full lake: between the two renames, and after them
    for point in ("swap:1", "swapped:2", "ready:5"):
        root = tmp_path / f"full-{point.replace(':', '-')}"
        shutil.copytree(ref, root)
        res = _convert(root, files, point)
        assert res.returncode == -9, res.stderr
        assert len(lake.partitions(root)) >= 4  # at most the one partition being swapped is away
        assert _convert(root, files).returncode == 0
        lake.clean(root)
        assert _snapshot(root) == want, point
    # and `lake clean` alone restores what a cut swap moved away
    root = tmp_path / "clean-only"
    shutil.copytree(ref, root)
    assert _convert(root, files, "swap:2").returncode == -9
    assert main(["lake", "clean", "--lake", str(root), "--json"]) == 0
    assert _snapshot(root) == want
    assert main(["lake", "verify", "--lake", str(root), "--json"]) == 0


def test_the_convert_and_lake_commands_refuse_in_one_line(raw, tmp_path, capsys):
    root = tmp_path / "lake"
    assert main(["convert", str(raw), "--lake", str(root), "--json"]) == 0
    cut = _truncated_copy(raw, tmp_path / "cut" / NAME, keep=0.7)
    capsys.readouterr()
    assert main(["convert", str(cut), "--lake", str(root)]) == 1
    err = capsys.readouterr().err
    assert "truncated" in err and err.count("\n") == 1 and "Traceback" not in err
    assert main(["convert", str(cut), "--lake", str(root), "--partial"]) == 1
    err = capsys.readouterr().err
    assert "refusing to replace 1 lake partition(s)" in err and "--force" in err
    assert err.count("\n") == 1
    assert main(["convert", str(cut), "--lake", str(root), "--partial", "--force"]) == 0
    assert main(["lake", "verify", "--lake", str(root)]) == 0
    shutil.rmtree(Path(lake.partitions(root).path.iat[0]))
    capsys.readouterr()
    assert main(["lake", "verify", "--lake", str(root)]) == 1
    err = capsys.readouterr().err
    assert "1 problem(s)" in err and "is missing" in err and err.count("\n") == 1
    assert main(["lake", "clean", "--lake", str(tmp_path / "none")]) == 1
    assert "no such lake directory" in capsys.readouterr().err
