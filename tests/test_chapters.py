"""The chapter runner (lobutils.runner.chapters) on synthetic chapters written by the tests."""

from __future__ import annotations

import json
import re
import shutil
import textwrap

import jupytext
import pytest

from lobutils import paths
from lobutils.runner import chapters

# A synthetic, minimal chapter that follows the contract: one parameters cell with REPORT_DIR,
# a Plotly figure, and a metrics.json write.
GOOD = """\
# %% [markdown]
# # A synthetic chapter

# %% tags=["parameters"]
N = 10
REPORT_DIR = None

# %%
import plotly.graph_objects as go
import plotly.io as pio

from lobutils.paths import report_dir, write_metrics

out = report_dir("98_synthetic", REPORT_DIR)
total = sum(range(N))
go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2])).show()
write_metrics(out, {"n": N, "total": total, "renderer": pio.renderers.default})
"""

FAILING = """\
# %% tags=["parameters"]
REPORT_DIR = None

# %%
x = 1
y = 2

# %%
x = 1
y = x / 0
"""


def write(tmp_path, name, text):
    src = tmp_path / "notebooks" / f"{name}.py"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(textwrap.dedent(text))
    return src


def test_toc_chapters_of_the_repository():
    entries = chapters.toc_chapters()
    assert entries == sorted(entries), "chapters are listed in NN order"
    assert all(e.startswith("notebooks/") for e in entries)


def test_chapters_reports_missing_sources(tmp_path):
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n- file: notebooks/01_here\n- file: notebooks/02_gone\n"
    )
    write(tmp_path, "01_here", GOOD)
    with pytest.raises(FileNotFoundError, match="02_gone"):
        chapters.chapters(tmp_path / "_toc.yml")
    write(tmp_path, "02_gone", GOOD)
    assert [p.name for p in chapters.chapters(tmp_path / "_toc.yml")] == [
        "01_here.py",
        "02_gone.py",
    ]


def test_run_chapter_injects_parameters_and_writes_metrics(tmp_path):
    src = write(tmp_path, "98_synthetic", GOOD)
    out = chapters.run_chapter(src, tmp_path / "out.ipynb", {"N": 4}, report_dir=tmp_path / "rep")
    assert paths.read_metrics(tmp_path / "rep") == {"n": 4, "total": 6, "renderer": "notebook"}
    nb = json.loads(out.read_text())
    # papermill's metadata keeps no absolute path of this machine
    assert not nb["metadata"]["papermill"]["input_path"].startswith("/")
    # the figure embeds its data in an HTML output (renderer "notebook")
    html = [
        "".join(o["data"]["text/html"])
        for c in nb["cells"]
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    ]
    assert any("plotly-graph-div" in h and "[1,3,2]" in h.replace(" ", "") for h in html)


def test_failure_names_chapter_and_cell(tmp_path):
    src = write(tmp_path, "99_broken", FAILING)
    with pytest.raises(chapters.ChapterError) as err:
        chapters.run_chapter(src, tmp_path / "out.ipynb", report_dir=tmp_path / "rep")
    message = str(err.value)
    assert "99_broken" in message
    assert "ZeroDivisionError" in message
    assert "y = x / 0" in message
    # the cell starting at line 9, not the earlier cell that begins with the same line
    assert "line 9 of 99_broken.py" in message


def test_contract_violations(tmp_path):
    src = write(tmp_path, "97_noparams", "# %%\nREPORT_DIR = None\n")
    with pytest.raises(chapters.ChapterError, match="exactly one code cell tagged 'parameters'"):
        chapters.run_chapter(src, tmp_path / "a.ipynb")
    src = write(tmp_path, "96_noreport", '# %% tags=["parameters"]\nN = 1\n')
    with pytest.raises(chapters.ChapterError, match="REPORT_DIR"):
        chapters.run_chapter(src, tmp_path / "b.ipynb")
    src = write(tmp_path, "98_synthetic", GOOD)
    with pytest.raises(chapters.ChapterError, match="'NN'"):
        chapters.run_chapter(src, tmp_path / "c.ipynb", {"NN": 3})


def test_overrides_file_of_the_repository():
    overrides = chapters.load_overrides()
    assert "*" in overrides
    for stem, cfg in overrides.items():
        assert isinstance(cfg.parameters, dict), stem
        assert cfg.timeout is None or cfg.timeout > 0, stem
        assert "REPORT_DIR" not in cfg.parameters, f"{stem}: the test sets REPORT_DIR itself"


def test_overrides_reject_unknown_keys(tmp_path):
    f = tmp_path / "o.yaml"
    f.write_text("chapters:\n  01_x: {timout: 5}\n")
    with pytest.raises(ValueError, match="timout"):
        chapters.load_overrides(f)


def _toc(tmp_path, *stems):
    lines = ["format: jb-book", "root: intro", "chapters:"] + [
        f"- file: notebooks/{s}" for s in stems
    ]
    toc = tmp_path / "_toc.yml"
    toc.write_text("\n".join(lines) + "\n")
    return toc


def test_cli_list_and_only(tmp_path, capsys):
    toc = _toc(tmp_path, "01_here", "02_there")
    write(tmp_path, "01_here", GOOD)
    write(tmp_path, "02_there", FAILING)
    assert chapters.main(["--toc", str(toc), "--list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["01_here.py", "02_there.py"]
    assert chapters.main(["--toc", str(toc), "--list", "--only", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == ["02_there.py"]
    assert chapters.main(["--toc", str(toc), "--list", "--only", "7"]) == 1
    assert "no chapter matches '7'" in capsys.readouterr().err


def test_cli_runs_with_params_file(tmp_path, capsys):
    toc = _toc(tmp_path, "01_here", "02_there")
    write(tmp_path, "01_here", GOOD)
    write(tmp_path, "02_there", FAILING)
    params = tmp_path / "params.yaml"
    params.write_text("chapters:\n  01_here: {parameters: {N: 3}, timeout: 120}\n")
    out, rep = tmp_path / "out", tmp_path / "rep"
    argv = [
        "--toc",
        str(toc),
        "--params-file",
        str(params),
        "--output-dir",
        str(out),
        "--report-root",
        str(rep),
    ]
    assert chapters.main([*argv, "--only", "01"]) == 0
    assert paths.read_metrics(rep / "01_here")["total"] == 3
    assert (out / "01_here.ipynb").is_file()
    assert chapters.main(argv) == 1
    err = capsys.readouterr().err
    assert "chapter 02_there failed" in err and "ZeroDivisionError" in err


def test_cli_data_dir_reaches_only_chapters_that_read_data(tmp_path, capsys):
    """Synthetic chapters: one takes DATA_DIR, one DATA_DIRS, one neither."""
    reads = """\
    # %% tags=["parameters"]
    DATA_DIR = None
    REPORT_DIR = None

    # %%
    from lobutils.paths import report_dir, write_metrics

    write_metrics(report_dir("01_one", REPORT_DIR), {"data": DATA_DIR.rsplit("/", 1)[-1]})
    """
    reads_list = reads.replace("DATA_DIR = None", "DATA_DIRS = [None]").replace(
        'DATA_DIR.rsplit("/", 1)[-1]', '[d.rsplit("/", 1)[-1] for d in DATA_DIRS]'
    )
    toc = _toc(tmp_path, "01_one", "02_many", "03_none")
    write(tmp_path, "01_one", reads)
    write(tmp_path, "02_many", reads_list)
    write(tmp_path, "03_none", GOOD)
    data = tmp_path / "recordings"
    data.mkdir()
    rep = tmp_path / "rep"
    argv = ["--toc", str(toc), "--output-dir", str(tmp_path / "out"), "--report-root", str(rep)]
    assert chapters.main([*argv, "--data-dir", str(data)]) == 0
    assert paths.read_metrics(rep / "01_one") == {"data": "recordings"}
    assert paths.read_metrics(rep / "02_many") == {"data": ["recordings"]}
    assert paths.read_metrics(rep / "03_none")["n"] == 10
    capsys.readouterr()
    assert chapters.main([*argv, "--data-dir", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nope does not exist" in err and "Traceback" not in err


# ------------------------------------------------------------------ the chapters in JupyterLab

DRAWS = """\
# %% tags=["parameters"]
REPORT_DIR = None

# %%
import plotly.graph_objects as go
import plotly.io as pio

import lobutils.plots.style  # noqa: F401  (every chapter that draws imports a plots module)
from lobutils.paths import report_dir, write_metrics

write_metrics(report_dir("97_draws", REPORT_DIR), {"renderer": pio.renderers.default})
go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2])).show()
"""


@pytest.mark.notebook
def test_figures_are_written_without_plotly_js(tmp_path):
    """With lobutils.plots imported, the runner's figures leave plotly.js out of the notebook.

    Each output holds the Plotly JSON (JupyterLab draws it) and an HTML div that calls
    ``Plotly.newPlot`` (the book draws it, with the one plotly.js of its ``_static/``).
    """
    src = write(tmp_path, "97_draws", DRAWS)
    out = chapters.run_chapter(src, tmp_path / "out.ipynb", report_dir=tmp_path / "rep")
    assert paths.read_metrics(tmp_path / "rep") == {"renderer": "book"}
    assert out.stat().st_size < 100_000, "plotly.js (4.8 MB) is in the executed notebook"
    outputs = [o for c in json.loads(out.read_text())["cells"] for o in c.get("outputs", [])]
    figures = [o["data"] for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 1
    assert figures[0]["application/vnd.plotly.v1+json"]["data"][0]["y"] == [1, 3, 2]
    html = "".join(figures[0]["text/html"])
    assert "plotly-graph-div" in html and "Plotly.newPlot" in html


def _lab_kernel() -> dict[str, str]:
    """The kernel `make venv` installs for JupyterLab: its name and display name."""
    make = (paths.REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    found = dict(re.findall(r"^KERNEL_(NAME|DISPLAY) := (.+)$", make, flags=re.M))
    return {"name": found["NAME"].strip(), "display_name": found["DISPLAY"].strip()}


def test_one_kernel_everywhere():
    """The chapters' headers, the runner and JupyterLab's kernel agree on one kernel."""
    lab = _lab_kernel()
    assert lab == {"name": chapters.KERNEL_NAME, "display_name": "Python 3"}
    for src in sorted(paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py")):
        spec = jupytext.read(src).metadata["kernelspec"]
        assert {k: spec[k] for k in lab} == lab, f"{src.name}: kernelspec {spec}"


CHAPTER_STEMS = sorted(p.stem for p in paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_saving_a_chapter_in_jupyterlab_changes_nothing(tmp_path, stem):
    """Open a chapter as JupyterLab does (jupytext's contents manager), save it: same bytes.

    The lab adds the running kernel and ``language_info`` to the notebook; the header must not
    change (no jupytext version lines: ``notebooks/jupytext.toml``) and the paired ``.ipynb``
    is written beside it.
    """
    shutil.copy(paths.NOTEBOOKS_DIR / "jupytext.toml", tmp_path / "jupytext.toml")
    before = (paths.NOTEBOOKS_DIR / f"{stem}.py").read_text(encoding="utf-8")
    (tmp_path / f"{stem}.py").write_text(before, encoding="utf-8")
    manager = jupytext.TextFileContentsManager(root_dir=str(tmp_path))
    for _ in range(2):  # the second save finds the paired .ipynb of the first
        model = manager.get(f"{stem}.py")
        model["content"].metadata["kernelspec"] = {**_lab_kernel(), "language": "python"}
        model["content"].metadata["language_info"] = {"name": "python", "version": "3.11"}
        manager.save(model, f"{stem}.py")
        assert (tmp_path / f"{stem}.py").read_text(encoding="utf-8") == before
    assert (tmp_path / f"{stem}.ipynb").is_file()


# The sidebar shows each page's title: the book numbers its chapters in their titles ("# 3. ..."),
# not with `numbered: true` in _toc.yml (which would also number the appendix pages).
@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_chapter_titles_are_numbered(stem):
    """A chapter's title (its first ``# # `` line) starts with its number: ``# # 2. ...``."""
    text = (paths.NOTEBOOKS_DIR / f"{stem}.py").read_text(encoding="utf-8")
    title = next(line[4:] for line in text.splitlines() if line.startswith("# # "))
    assert title.startswith(f"{int(stem[:2])}. "), f"{stem}: title {title!r}"
