"""The bundled dataset, segment listing, and checksum verification (lobutils.data.catalog)."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import pytest

from lobutils import paths
from lobutils.data import catalog as data

BUNDLED = paths.BUNDLED_DATA_DIR

# What the data README documents: 6 streams, spot and COIN-M recorded across midnight.
EXPECTED_SEGMENTS = {
    "spot_btcusdt": ("spot", "btcusdt", ["spot_btcusdt_20240808.gz", "spot_btcusdt_20240809.gz"]),
    "spot_ethusdt": ("spot", "ethusdt", ["spot_ethusdt_20240808.gz", "spot_ethusdt_20240809.gz"]),
    "usdm_btcusdt": ("usdm", "btcusdt", ["usdm_btcusdt_20240808.gz"]),
    "usdm_ethusdt": ("usdm", "ethusdt", ["usdm_ethusdt_20240808.gz"]),
    "cm_btcusd_perp": (
        "cm",
        "btcusd_perp",
        ["cm_btcusd_perp_20240808.gz", "cm_btcusd_perp_20240809.gz"],
    ),
    "cm_ethusd_perp": (
        "cm",
        "ethusd_perp",
        ["cm_ethusd_perp_20240808.gz", "cm_ethusd_perp_20240809.gz"],
    ),
}


def test_bundled_checksums_verify():
    verified = data.verify_checksums()
    listed = [line.split()[1] for line in (BUNDLED / "SHA256SUMS").read_text().splitlines() if line]
    assert [p.name for p in verified] == listed
    assert len(verified) == 10
    # Independent check of the first file with hashlib, not through lobutils.
    first = verified[0]
    digest = (BUNDLED / "SHA256SUMS").read_text().split()[0]
    assert hashlib.sha256(first.read_bytes()).hexdigest() == digest


def test_bundled_files_are_gzip_recordings():
    for seg in data.segments():
        for path in seg.files:
            with gzip.open(path, "rt") as fh:
                ts, _, message = fh.readline().partition(" ")
            assert ts.isdigit(), path.name
            assert message.lstrip().startswith("{"), path.name


def test_bundled_provenance_files_present():
    for name in ("README.md", "LICENSE-hftbacktest-examples", "SHA256SUMS"):
        assert (BUNDLED / name).is_file(), name
    assert "MIT License" in (BUNDLED / "LICENSE-hftbacktest-examples").read_text()
    assert (paths.REPO_ROOT / "data" / "README.md").is_file()


def test_bundled_segments():
    segs = data.segments()
    assert {s.name for s in segs} == set(EXPECTED_SEGMENTS)
    assert len(segs) == 6
    for seg in segs:
        market, symbol, files = EXPECTED_SEGMENTS[seg.name]
        assert (seg.market, seg.symbol) == (market, symbol)
        assert [f.name for f in seg.files] == files
        assert all(f.parent == BUNDLED for f in seg.files)
    # spot first, then USD-M, then COIN-M
    assert [s.market for s in segs] == ["spot", "spot", "usdm", "usdm", "cm", "cm"]


def test_segment_lookup():
    seg = data.segment("cm_ethusd_perp")
    assert seg.days == ("20240808", "20240809")
    with pytest.raises(LookupError, match="no segment named 'spot_xrpusdt'") as err:
        data.segment("spot_xrpusdt")
    for name in EXPECTED_SEGMENTS:
        assert name in str(err.value)


def test_segment_is_frozen():
    seg = data.segment("spot_btcusdt")
    with pytest.raises(AttributeError):
        seg.name = "other"  # type: ignore[misc]


def _copy_bundle(dst: Path) -> Path:
    shutil.copytree(BUNDLED, dst)
    for p in dst.iterdir():
        p.chmod(0o644)
    return dst


def test_corrupted_copy_fails_naming_the_file(tmp_path):
    copy = _copy_bundle(tmp_path / "bundle")
    assert len(data.verify_checksums(copy)) == 10
    victim = copy / "usdm_ethusdt_20240808.gz"
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # flip one byte
    victim.write_bytes(bytes(raw))
    with pytest.raises(data.ChecksumError) as err:
        data.verify_checksums(copy)
    message = str(err.value)
    assert "usdm_ethusdt_20240808.gz" in message
    # only the corrupted file is blamed
    assert "usdm_btcusdt_20240808.gz" not in message


def test_missing_file_fails_naming_the_file(tmp_path):
    copy = _copy_bundle(tmp_path / "bundle")
    (copy / "spot_ethusdt_20240809.gz").unlink()
    with pytest.raises(data.ChecksumError, match=r"spot_ethusdt_20240809\.gz: missing"):
        data.verify_checksums(copy)


def test_missing_checksum_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="SHA256SUMS"):
        data.verify_checksums(tmp_path)


def test_synthetic_directory_with_gaps_in_days(tmp_path):
    # Synthetic: empty files whose names alone drive the segment logic.
    names = [
        "spot_btcusdt_20240830.gz",  # month boundary: 30, 31, 1 are consecutive
        "spot_btcusdt_20240831.gz",
        "spot_btcusdt_20240901.gz",
        "spot_btcusdt_20240903.gz",  # 2 September missing: a new segment
        "usdm_btcusdt_20241231.gz",  # year boundary
        "usdm_btcusdt_20250101.gz",
        "cm_ethusd_perp_20240808.gz",
        "cm_ethusd_perp_20240810.gz",  # gap
        "spot_ethusdt_20240808.gz",  # alone: keeps the bare name
        # not matching the pattern, ignored:
        "README.md",
        "spot_btcusdt_20240832.gz",  # impossible date
        "spot_btcusdt_20240902.txt",  # neither .gz nor plain: does NOT bridge the gap
        "binance_btcusdt_20240902.gz",  # unknown market
        "spot_BTCUSDT_20240902.gz",  # upper case
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "spot_btcusdt_20240902.gz").mkdir()  # a directory, not a file: ignored

    segs = data.segments(tmp_path)
    got = {s.name: [f.name for f in s.files] for s in segs}
    assert got == {
        "spot_btcusdt_20240830": [
            "spot_btcusdt_20240830.gz",
            "spot_btcusdt_20240831.gz",
            "spot_btcusdt_20240901.gz",
        ],
        "spot_btcusdt_20240903": ["spot_btcusdt_20240903.gz"],
        "spot_ethusdt": ["spot_ethusdt_20240808.gz"],
        "usdm_btcusdt": ["usdm_btcusdt_20241231.gz", "usdm_btcusdt_20250101.gz"],
        "cm_ethusd_perp_20240808": ["cm_ethusd_perp_20240808.gz"],
        "cm_ethusd_perp_20240810": ["cm_ethusd_perp_20240810.gz"],
    }
    assert [s.market for s in segs] == ["spot", "spot", "spot", "usdm", "cm", "cm"]
    assert data.segment("cm_ethusd_perp_20240810", tmp_path).symbol == "ethusd_perp"


def test_segments_of_missing_directory(tmp_path):
    with pytest.raises(NotADirectoryError):
        data.segments(tmp_path / "nope")


def test_hourly_and_plain_recordings_join_into_segments(tmp_path):
    # Synthetic: empty files named as the recorder names them with --rotate hourly, an
    # uncompressed recording, and a daily file followed by hourly ones.
    names = [
        "spot_btcusdt_20240808_22.gz",
        "spot_btcusdt_20240808_23.gz",
        "spot_btcusdt_20240809_00.gz",  # crosses midnight: same segment
        "spot_btcusdt_20240809_02.gz",  # 01 missing: a new segment
        "usdm_ethusdt_20240808",  # plain text, no .gz
        "usdm_ethusdt_20240809_00.gz",  # the first hour after a daily file continues it
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    got = {s.name: [f.name for f in s.files] for s in data.segments(tmp_path)}
    assert got == {
        "spot_btcusdt_20240808_22": [
            "spot_btcusdt_20240808_22.gz",
            "spot_btcusdt_20240808_23.gz",
            "spot_btcusdt_20240809_00.gz",
        ],
        "spot_btcusdt_20240809_02": ["spot_btcusdt_20240809_02.gz"],
        "usdm_ethusdt": ["usdm_ethusdt_20240808", "usdm_ethusdt_20240809_00.gz"],
    }


@pytest.mark.parametrize(
    "pair",
    [
        ("spot_btcusdt_20240808.gz", "spot_btcusdt_20240808"),  # compressed and plain copies
        ("spot_btcusdt_20240808.gz", "spot_btcusdt_20240808_05.gz"),  # a day and one of its hours
    ],
)
def test_files_covering_the_same_time_are_refused(tmp_path, pair):
    for name in pair:
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(ValueError, match="cover the same time") as err:
        data.segments(tmp_path)
    assert all(name in str(err.value) for name in pair)
