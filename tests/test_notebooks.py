"""Every chapter in _toc.yml runs through papermill and writes a non-empty metrics.json.

Parameters come from tests/notebook_params.yaml (small sizes, timeouts, slow/gpu flags), so
the chapters run the same code as in the book, on less data.
"""

from __future__ import annotations

import shutil

import pytest

from lobutils import chapters, paths

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


@pytest.mark.parametrize("entry, cfg", [_param(e) for e in ENTRIES])
def test_chapter_runs_and_writes_metrics(entry, cfg, tmp_path):
    source = paths.REPO_ROOT / f"{entry}.py"
    assert source.is_file(), f"_toc.yml lists {entry} but {entry}.py does not exist"
    stem = source.stem
    report = tmp_path / "reports" / stem
    out = chapters.run_chapter(
        source,
        output=tmp_path / f"{stem}.ipynb",
        parameters=cfg.parameters,
        report_dir=report,
        timeout=cfg.timeout,
    )
    assert out.is_file()
    metrics = paths.read_metrics(report)
    assert isinstance(metrics, dict) and metrics, f"{stem} wrote an empty metrics.json"
