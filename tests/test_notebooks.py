"""Every chapter in _toc.yml runs through papermill and writes a non-empty metrics.json.

Parameters come from tests/notebook_params.yaml (small sizes, timeouts, slow/gpu flags), so
the chapters run the same code as in the book, on less data.

Chapters flagged ``unseen_data`` run on a disguised copy of the bundled recordings (see
:func:`disguised_data`), so that a chapter that hard-codes a file, a date, a timestamp unit or
a symbol fails here. Every run also sets fake API keys in the environment and checks that no
key value, and no local machine path, appears in the executed notebook's outputs or in the
chapter's reports.
"""

from __future__ import annotations

import gzip
import json
import shutil
import uuid
from pathlib import Path

import nbformat
import pytest

from lobutils import paths
from lobutils.data import catalog as data
from lobutils.runner import chapters

OVERRIDES = chapters.load_overrides()
ENTRIES = chapters.toc_chapters()


def _has_gpu() -> bool:
    return shutil.which("nvidia-smi") is not None


def _param(entry: str):
    stem = entry.rsplit("/", 1)[-1]
    cfg = OVERRIDES.get(stem, OVERRIDES["*"])
    marks = [pytest.mark.notebook]
    if cfg.slow:
        marks.append(pytest.mark.slow)
    if cfg.gpu:
        marks.append(pytest.mark.skipif(not _has_gpu(), reason=f"{stem} needs a GPU"))
    return pytest.param(entry, cfg, id=stem, marks=marks)


def test_toc_lists_chapters():
    assert ENTRIES, "_toc.yml lists no notebooks/NN_* chapters"


def test_overrides_name_only_toc_chapters():
    stems = {e.rsplit("/", 1)[-1] for e in ENTRIES}
    extra = sorted(set(OVERRIDES) - stems - {"*"})
    assert not extra, f"notebook_params.yaml names chapters that _toc.yml does not list: {extra}"


# How the disguised copy renames and re-times each bundled market: (file names, clock unit).
# Spot becomes hourly files (the recorder's --rotate hourly), USD-M uncompressed files with
# millisecond clocks, COIN-M daily files with microsecond clocks; all move to other dates
# (the day after the first crosses a month's end).
DISGUISE = {
    "spot": ("{market}_{symbol}_20250131_23.gz", "{market}_{symbol}_20250201_00.gz", 1_000),
    "usdm": ("{market}_{symbol}_20250131", None, 1_000_000),
    "cm": ("{market}_{symbol}_20250131.gz", "{market}_{symbol}_20250201.gz", 1_000),
}


def _retime(src: Path, dst: Path, divisor: int) -> None:
    """Copy a recording, dividing each line's local ns timestamp by ``divisor``."""
    opener = gzip.open if dst.suffix == ".gz" else open
    with gzip.open(src, "rb") as fin, opener(dst, "wb") as fout:
        for line in fin:
            ts, sep, rest = line.partition(b" ")
            fout.write(str(int(ts) // divisor).encode() + sep + rest)


@pytest.fixture(scope="session")
def disguised_data(tmp_path_factory) -> Path:
    """The bundled recordings, disguised as data no chapter has seen.

    Same messages, but in another directory, on other dates, with other local-clock units and
    file layouts (:data:`DISGUISE`). A 2-day segment keeps its 2 files; the 1-day USD-M
    segments become one plain file each.
    """
    root = tmp_path_factory.mktemp("unseen")
    for seg in data.segments():
        first, second, divisor = DISGUISE[seg.market]
        names = [first, second][: len(seg.files)]
        assert None not in names, f"{seg.name}: the disguise plan has no second file name"
        for src, name in zip(seg.files, names, strict=True):
            _retime(src, root / name.format(market=seg.market, symbol=seg.symbol), divisor)
    return root


def test_disguised_data_keeps_the_segments(disguised_data):
    assert [s.name for s in data.segments(disguised_data)] == [s.name for s in data.segments()]
    names = sorted(p.name for p in disguised_data.iterdir())
    assert "spot_btcusdt_20250201_00.gz" in names and "usdm_ethusdt_20250131" in names


FAKE_KEYS = ("LOBUTILS_BYBIT_API_KEY", "LOBUTILS_BYBIT_SECRET", "LOBUTILS_BINANCE_API_KEY")


def _leaks(nb_path: Path, report: Path, needles: dict[str, str]) -> list[str]:
    """Where any needle appears in the notebook's cell outputs or in a report file."""
    nb = nbformat.read(nb_path, as_version=4)
    texts = {
        f"{nb_path.name} cell {i}": json.dumps(cell.get("outputs", []))
        for i, cell in enumerate(nb.cells)
    }
    for f in report.rglob("*"):
        if f.is_file() and f.suffix not in (".parquet", ".keras", ".png", ".npy", ".weights.h5"):
            texts[str(f.relative_to(report))] = f.read_bytes().decode("utf-8", "replace")
    return [
        f"{what} in {where}" for where, t in texts.items() for what, n in needles.items() if n in t
    ]


@pytest.mark.parametrize("entry, cfg", [_param(e) for e in ENTRIES])
def test_chapter_runs_and_writes_metrics(entry, cfg, tmp_path, monkeypatch, request):
    source = paths.REPO_ROOT / f"{entry}.py"
    assert source.is_file(), f"_toc.yml lists {entry} but {entry}.py does not exist"
    stem = source.stem
    report = tmp_path / "reports" / stem
    secrets = {name: "FAKE" + uuid.uuid4().hex for name in FAKE_KEYS}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    parameters = dict(cfg.parameters)
    if cfg.unseen_data:
        parameters["DATA_DIR"] = str(request.getfixturevalue("disguised_data"))
    out = chapters.run_chapter(
        source,
        output=tmp_path / f"{stem}.ipynb",
        parameters=parameters,
        report_dir=report,
        timeout=cfg.timeout,
    )
    assert out.is_file()
    metrics = paths.read_metrics(report)
    assert isinstance(metrics, dict) and metrics, f"{stem} wrote an empty metrics.json"
    if cfg.unseen_data:
        given = parameters.get("SEGMENTS") or [
            s.name for s in data.segments(parameters["DATA_DIR"])
        ]
        text = json.dumps(metrics)
        missing = [name for name in given if name not in text]
        assert not missing, f"{stem} on unseen data: metrics.json never names {missing}"
    needles = {f"${k}": v for k, v in secrets.items()}
    needles["the repository path"] = str(paths.REPO_ROOT)
    needles["the home directory"] = str(Path.home()) + "/"
    leaks = _leaks(out, report, needles)
    assert not leaks, f"{stem} leaked: {leaks[:10]}"


def test_leak_scan_finds_planted_values(tmp_path):
    """The scan above can fail: plant a key in a cell output and a path in a report file."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(key)")
    cell.outputs = [nbformat.v4.new_output("stream", text="FAKE123 here\n")]
    nb.cells = [cell, nbformat.v4.new_code_cell("1")]
    nb_path = tmp_path / "x.ipynb"
    nbformat.write(nb, nb_path)
    report = tmp_path / "r"
    report.mkdir()
    (report / "metrics.json").write_text(json.dumps({"file": str(paths.REPO_ROOT / "data")}))
    needles = {"$KEY": "FAKE123", "the repository path": str(paths.REPO_ROOT), "none": "zzz"}
    assert sorted(_leaks(nb_path, report, needles)) == [
        "$KEY in x.ipynb cell 0",
        "the repository path in metrics.json",
    ]
