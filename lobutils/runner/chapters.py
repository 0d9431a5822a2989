"""Execute the book's chapters with papermill: for ``make book``, the notebook tests and batch runs.

A chapter is a jupytext py:percent file ``notebooks/NN_topic.py``. The chapters of the book are
the ``notebooks/NN_*`` entries of ``_toc.yml``, in order. Running one means:

1. convert the ``.py`` to an ``.ipynb`` with jupytext;
2. check the chapter contract: exactly one cell tagged ``parameters``, which defines
   ``REPORT_DIR`` and every parameter that is passed in;
3. execute it in-process with papermill on the ``python3`` kernel, in the ``notebooks/``
   directory (as JupyterLab would), with ``PLOTLY_RENDERER=notebook``, which
   :mod:`lobutils.plots.style` turns into its ``book`` renderer: each figure carries Plotly
   JSON (for JupyterLab) and HTML without plotly.js (the book loads one local copy per page);
4. on failure, raise :class:`ChapterError` naming the chapter, the failing cell and the error.

Per-chapter overrides (small parameters for tests, a per-cell timeout, ``slow`` and ``gpu``
flags) come from one YAML file, ``tests/notebook_params.yaml``; see :func:`load_overrides`.

Command line::

    python -m lobutils.runner.chapters                      # every chapter, into notebooks/NN_*.ipynb
    python -m lobutils.runner.chapters --only 02            # just chapter 02
    python -m lobutils.runner.chapters --params-file tests/notebook_params.yaml --report-root /tmp/r
    python -m lobutils.runner.chapters --list

Examples
--------
>>> toc_chapters()[:2]
['notebooks/01_acquisition', 'notebooks/02_lob_reconstruction']
>>> chapter_stem("notebooks/02_lob_reconstruction.py")
'02_lob_reconstruction'
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from lobutils.paths import NOTEBOOKS_DIR, REPO_ROOT

TOC_FILE = REPO_ROOT / "_toc.yml"
OVERRIDES_FILE = REPO_ROOT / "tests" / "notebook_params.yaml"
KERNEL_NAME = "python3"
REPORT_PARAM = "REPORT_DIR"

_CHAPTER_RE = re.compile(r"^notebooks/(\d\d)_[A-Za-z0-9_]+$")
_KERNEL_ENV = {
    # plotly.js embedded in each notebook: the only renderer that displays in the offline book.
    "PLOTLY_RENDERER": "notebook",
    # quieten ipykernel's debugger warning about frozen modules on Python 3.11+
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}

__all__ = [
    "ChapterConfig",
    "ChapterError",
    "chapter_stem",
    "chapters",
    "load_overrides",
    "main",
    "parameter_names",
    "run_chapter",
    "run_chapters",
    "select",
    "to_notebook",
    "toc_chapters",
]


class ChapterError(RuntimeError):
    """A chapter broke its contract or failed while executing."""


@dataclass(frozen=True)
class ChapterConfig:
    """How to run one chapter (an entry of the overrides YAML).

    Attributes
    ----------
    parameters : dict
        Values injected into the chapter's ``parameters`` cell.
    timeout : float or None
        Seconds any one cell may run (papermill's per-cell ``execution_timeout``); ``None``
        for no limit.
    slow : bool
        Too heavy for the default test run; the notebook test marks it ``slow``.
    gpu : bool
        Needs a GPU; the notebook test skips it on machines without one.
    unseen_data : bool
        The chapter takes ``DATA_DIR`` and ``SEGMENTS`` and must work on any recording in the
        bundled format: the notebook test runs it on a disguised copy of the bundled data
        (other directory, dates and timestamp units, hourly and uncompressed files) and checks
        that its ``metrics.json`` names every segment it was given.
    """

    parameters: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    slow: bool = False
    gpu: bool = False
    unseen_data: bool = False


def chapter_stem(path: str | os.PathLike[str]) -> str:
    """The chapter's name, its file stem.

    Parameters
    ----------
    path : str or path-like
        A chapter's source, notebook or toc entry.

    Returns
    -------
    str
        ``notebooks/02_lob_reconstruction.py`` gives ``"02_lob_reconstruction"``.
    """
    return Path(path).stem


def _toc_files(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key in ("root", "file"):
            if isinstance(node.get(key), str):
                yield node[key]
        for value in node.values():
            if isinstance(value, Mapping | list):
                yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def toc_chapters(toc: str | os.PathLike[str] | None = None) -> list[str]:
    """The chapter entries of a Jupyter Book table of contents, in order.

    Parameters
    ----------
    toc : path-like, optional
        The ``_toc.yml`` (default: the repository's).

    Returns
    -------
    list of str
        Entries like ``"notebooks/01_acquisition"`` (no suffix), relative to the toc's
        directory. Other pages (``intro``, ``references``) are left out. The files may not
        exist; :func:`chapters` checks that.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "_toc.yml").write_text(
    ...         "format: jb-book\\nroot: intro\\nparts:\\n- chapters:\\n"
    ...         "  - file: notebooks/01_a.ipynb\\n  - file: references\\n"
    ...         "  - file: notebooks/02_b\\n"
    ...     )
    ...     toc_chapters(Path(tmp) / "_toc.yml")
    ['notebooks/01_a', 'notebooks/02_b']
    """
    path = Path(toc) if toc is not None else TOC_FILE
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: list[str] = []
    for entry in _toc_files(tree):
        entry = entry.removesuffix(".ipynb").removesuffix(".py").removesuffix(".md")
        if _CHAPTER_RE.match(entry) and entry not in out:
            out.append(entry)
    return out


def chapters(toc: str | os.PathLike[str] | None = None) -> list[Path]:
    """The chapter source files (``notebooks/NN_topic.py``) in book order.

    The list comes from ``_toc.yml``. Without a toc file it falls back to every
    ``notebooks/NN_*.py`` in name order.

    Parameters
    ----------
    toc : str or path-like, optional
        The ``_toc.yml`` (default: the repository's; a toc named here must exist).

    Returns
    -------
    list of pathlib.Path
        The ``.py`` sources, in the toc's order.

    Raises
    ------
    FileNotFoundError
        If a toc given does not exist, or it lists a chapter whose ``.py`` source does not
        exist.
    """
    path = Path(toc) if toc is not None else TOC_FILE
    if not path.is_file():
        if toc is not None:
            raise FileNotFoundError(f"no table of contents at {path}")
        return sorted(p for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py"))
    root = path.parent
    out = []
    for entry in toc_chapters(path):
        src = root / f"{entry}.py"
        if not src.is_file():
            raise FileNotFoundError(
                f"{path.name} lists chapter {entry!r} but {entry}.py does not exist"
            )
        out.append(src)
    return out


def select(paths: Sequence[Path], only: Sequence[str] | None) -> list[Path]:
    """Keep the chapters named in ``only``.

    Parameters
    ----------
    paths : sequence of pathlib.Path
        Chapter sources, e.g. :func:`chapters`.
    only : sequence of str or None
        Chapter numbers or stems (``"2"``, ``"02"``, ``"02_lob_reconstruction"``); None or
        empty keeps every chapter.

    Returns
    -------
    list of pathlib.Path
        The chapters kept, in the order of ``paths``.

    Raises
    ------
    ChapterError
        If a name matches no chapter; the message lists the chapters.

    Examples
    --------
    >>> ps = [Path("notebooks/01_acquisition.py"), Path("notebooks/02_lob_reconstruction.py")]
    >>> [p.stem for p in select(ps, ["2"])]
    ['02_lob_reconstruction']
    >>> select(ps, ["07"])
    Traceback (most recent call last):
    ...
    lobutils.runner.chapters.ChapterError: no chapter matches '07'; chapters: 01_acquisition, 02_lob_reconstruction
    """
    if not only:
        return list(paths)
    out = []
    for key in only:
        key = chapter_stem(key)
        hits = [
            p
            for p in paths
            if p.stem == key or (key.isdigit() and p.stem.split("_")[0] == f"{int(key):02d}")
        ]
        if not hits:
            names = ", ".join(p.stem for p in paths) or "(none)"
            raise ChapterError(f"no chapter matches {key!r}; chapters: {names}")
        out += [p for p in hits if p not in out]
    return [p for p in paths if p in out]


def load_overrides(path: str | os.PathLike[str] | None = None) -> dict[str, ChapterConfig]:
    """Read the per-chapter overrides YAML.

    The file has a ``defaults`` mapping and a ``chapters`` mapping from chapter stem to
    settings; each chapter's settings are layered on the defaults (``parameters`` merge key by
    key). The keys are those of :class:`ChapterConfig`.

    Parameters
    ----------
    path : path-like, optional
        The YAML file (default ``tests/notebook_params.yaml``).

    Returns
    -------
    dict
        Chapter stem -> :class:`ChapterConfig`, plus the key ``"*"`` for the defaults, which
        apply to chapters the file does not name.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = Path(tmp) / "o.yaml"
    ...     _ = f.write_text(
    ...         "defaults: {timeout: 60, parameters: {LEVELS: 10}}\\n"
    ...         "chapters:\\n  02_x: {slow: true, parameters: {GRID: 1s}}\\n"
    ...     )
    ...     o = load_overrides(f)
    >>> o["02_x"].parameters, o["02_x"].timeout, o["02_x"].slow, o["02_x"].gpu
    ({'LEVELS': 10, 'GRID': '1s'}, 60, True, False)
    >>> o["*"].parameters
    {'LEVELS': 10}
    """
    path = Path(path) if path is not None else OVERRIDES_FILE
    from lobutils.runner.errors import load_yaml

    raw = load_yaml(path, "params file") or {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: params file must be a mapping, got {type(raw).__name__}")
    unknown = set(raw) - {"defaults", "chapters"}
    if unknown:
        raise ValueError(
            f"{path}: unknown top-level keys {sorted(unknown)}; expected defaults, chapters"
        )
    flags = ("timeout", "slow", "gpu", "unseen_data")
    allowed = {"parameters", *flags}

    def build(base: ChapterConfig, settings: Any, where: str) -> ChapterConfig:
        settings = settings or {}
        if not isinstance(settings, Mapping):
            raise ValueError(f"{path}: {where} must be a mapping, got {settings!r}")
        bad = set(settings) - allowed
        if bad:
            raise ValueError(
                f"{path}: {where} has unknown keys {sorted(bad)}; allowed: {sorted(allowed)}"
            )
        params = settings.get("parameters") or {}
        if not isinstance(params, Mapping):
            raise ValueError(f"{path}: {where}.parameters must be a mapping")
        return replace(
            base,
            parameters={**base.parameters, **params},
            **{k: settings[k] for k in flags if k in settings},
        )

    default = build(ChapterConfig(), raw.get("defaults"), "defaults")
    out = {"*": default}
    for stem, settings in (raw.get("chapters") or {}).items():
        out[str(stem)] = build(default, settings, f"chapters.{stem}")
    return out


def to_notebook(source: str | os.PathLike[str]):
    """Read a py:percent chapter as an ``nbformat`` notebook on the ``python3`` kernel.

    Parameters
    ----------
    source : str or path-like
        The chapter, ``notebooks/NN_topic.py``.

    Returns
    -------
    nbformat.NotebookNode
        The notebook, with the ``python3`` kernelspec set.
    """
    import jupytext

    nb = jupytext.read(Path(source), fmt="py:percent")
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata.setdefault("language_info", {"name": "python"})
    return nb


def parameter_names(nb, name: str = "chapter") -> set[str]:
    """The names the chapter's one ``parameters`` cell assigns.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The chapter as a notebook (:func:`to_notebook`).
    name : str
        The chapter, for the error messages.

    Returns
    -------
    set of str
        Every name assigned at the top level of the cell (tuple targets included).

    Raises
    ------
    ChapterError
        If there is not exactly one cell tagged ``parameters``, or it is not valid Python.

    Examples
    --------
    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell("A = 1\\nB, C = 2, 3", metadata={"tags": ["parameters"]})
    >>> sorted(parameter_names(nbformat.v4.new_notebook(cells=[cell])))
    ['A', 'B', 'C']
    """
    cells = [
        c
        for c in nb.cells
        if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if len(cells) != 1:
        raise ChapterError(
            f"{name}: expected exactly one code cell tagged 'parameters' "
            f'(in py:percent: # %% tags=["parameters"]), found {len(cells)}'
        )
    try:
        tree = ast.parse(cells[0].source)
    except SyntaxError as exc:
        raise ChapterError(f"{name}: the parameters cell is not valid Python: {exc}") from exc
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        for t in targets:
            names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def _source_line(source: Path, cell_source: str) -> int | None:
    # The line of the .py where a failing cell starts: the first place where the cell's
    # non-blank lines appear in order (jupytext keeps code cells verbatim).
    want = [ln.strip() for ln in cell_source.splitlines() if ln.strip()]
    if not want:
        return None
    have = [
        (i, ln.strip())
        for i, ln in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1)
        if ln.strip()
    ]
    texts = [t for _, t in have]
    for k in range(len(have) - len(want) + 1):
        if texts[k : k + len(want)] == want:
            return have[k][0]
    return None


@contextmanager
def _kernel_env() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in _KERNEL_ENV}
    os.environ.update(_KERNEL_ENV)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return path.name


def run_chapter(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    report_dir: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    kernel_name: str = KERNEL_NAME,
) -> Path:
    """Execute one chapter with papermill.

    Parameters
    ----------
    source : path-like
        The chapter, ``notebooks/NN_topic.py``.
    output : path-like, optional
        The executed notebook (default: the ``.ipynb`` next to the source).
    parameters : mapping, optional
        Values for the ``parameters`` cell. Every name must be defined there.
    report_dir : path-like, optional
        Passed as ``REPORT_DIR``. When ``None`` the chapter uses its own default
        (``reports/<stem>/``), and no machine-specific path enters the notebook.
    timeout : float, optional
        Seconds any one cell may run.
    kernel_name : str
        The Jupyter kernel (``python3``, the project's virtual environment).

    Returns
    -------
    pathlib.Path
        The executed notebook.

    Raises
    ------
    ChapterError
        If the chapter breaks the contract (no parameters cell, unknown parameter) or a cell
        fails; the message names the chapter, the cell, its line in the source, and the error.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = Path(source).resolve()
    stem = chapter_stem(source)
    if not source.is_file():
        raise FileNotFoundError(f"chapter source {source} does not exist")
    output = Path(output).resolve() if output is not None else source.with_suffix(".ipynb")
    output.parent.mkdir(parents=True, exist_ok=True)

    params = dict(parameters or {})
    if report_dir is not None:
        params[REPORT_PARAM] = str(Path(report_dir).resolve())
    nb = to_notebook(source)
    defined = parameter_names(nb, stem)
    if REPORT_PARAM not in defined:
        raise ChapterError(
            f"{stem}: the parameters cell must define {REPORT_PARAM} (see the chapter contract)"
        )
    unknown = sorted(set(params) - defined)
    if unknown:
        raise ChapterError(
            f"{stem}: parameters {unknown} are not defined in its parameters cell (defined: {sorted(defined)})"
        )
    nbformat.write(nb, output)

    try:
        with _kernel_env():
            papermill.execute_notebook(
                str(output),
                str(output),
                parameters=params,
                kernel_name=kernel_name,
                language="python",
                cwd=str(source.parent),
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout,
            )
    except PapermillExecutionError as exc:
        line = _source_line(source, exc.source)
        where = f"line {line} of {source.name}" if line else f"a cell of {source.name}"
        where += f" (cell {exc.cell_index} of the executed notebook)"
        preview = "\n".join("    " + ln for ln in exc.source.splitlines()[:12])
        raise ChapterError(
            f"chapter {stem} failed in the cell at {where}: {exc.ename}: {exc.evalue}\n"
            f"  cell source:\n{preview}\n"
            f"  the executed notebook with the full traceback: {output}"
        ) from None
    except Exception as exc:  # timeouts, a dead kernel, a missing kernel
        raise ChapterError(f"chapter {stem} failed: {type(exc).__name__}: {exc}") from exc

    # papermill records absolute paths in the notebook's metadata; keep them repo-relative.
    done = nbformat.read(output, as_version=4)
    pm = done.metadata.get("papermill", {})
    pm["input_path"] = _relative(source)
    pm["output_path"] = _relative(output)
    nbformat.write(done, output)
    return output


def run_chapters(
    paths: Sequence[Path],
    overrides: Mapping[str, ChapterConfig] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    report_root: str | os.PathLike[str] | None = None,
    progress: bool = True,
    data_dir: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Execute several chapters in order, with a progress bar; stop at the first failure.

    Parameters
    ----------
    paths : sequence of pathlib.Path
        Chapter sources, e.g. :func:`chapters`.
    overrides : mapping, optional
        From :func:`load_overrides`; chapters it does not name run with its ``"*"`` defaults,
        or with their own full-size parameters when there are no overrides at all.
    output_dir : path-like, optional
        Where the executed notebooks go (default: next to their sources).
    report_root : path-like, optional
        When given, each chapter gets ``REPORT_DIR = report_root / <stem>``.
    progress : bool
        Show a tqdm progress bar over the chapters.
    data_dir : path-like, optional
        A directory of recordings for every chapter that reads one: passed as ``DATA_DIR``, or
        as ``DATA_DIRS = [data_dir]`` to a chapter that takes a list; chapters that take
        neither run unchanged.

    Returns
    -------
    list of pathlib.Path
        The executed notebooks, in order.

    Raises
    ------
    NotADirectoryError
        If ``data_dir`` is not a directory.
    ChapterError
        At the first chapter that fails (as :func:`run_chapter` raises).
    """
    from tqdm.auto import tqdm

    if data_dir is not None and not Path(data_dir).is_dir():
        raise NotADirectoryError(f"data directory {data_dir} does not exist")

    overrides = overrides or {}
    done = []
    with tqdm(list(paths), desc="chapters", unit="chapter", disable=not progress) as bar:
        for src in bar:
            stem = chapter_stem(src)
            bar.set_postfix_str(stem)
            cfg = overrides.get(stem, overrides.get("*", ChapterConfig()))
            out = Path(output_dir) / f"{stem}.ipynb" if output_dir is not None else None
            rep = Path(report_root) / stem if report_root is not None else None
            params = dict(cfg.parameters)
            if data_dir is not None:
                params.update(_data_params(src, Path(data_dir).resolve()))
            done.append(run_chapter(src, out, params, rep, cfg.timeout))
    return done


def _data_params(source: Path, data_dir: Path) -> dict[str, Any]:
    """``DATA_DIR`` or ``DATA_DIRS`` for a chapter, whichever its parameters cell defines."""
    defined = parameter_names(to_notebook(source), chapter_stem(source))
    if "DATA_DIR" in defined:
        return {"DATA_DIR": str(data_dir)}
    if "DATA_DIRS" in defined:
        return {"DATA_DIRS": [str(data_dir)]}
    return {}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m lobutils.runner.chapters [--only NN] [--params-file YAML] ...``.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``); ``--help`` lists them.

    Returns
    -------
    int
        The exit status: 0 on success, 1 with a one-line message on stderr when a chapter
        fails or a file is missing.
    """
    ap = argparse.ArgumentParser(
        prog="python -m lobutils.runner.chapters",
        description="Execute the book's chapters (listed in _toc.yml) with papermill.",
    )
    ap.add_argument(
        "--only",
        action="append",
        metavar="NN",
        help="run only this chapter (repeatable): 02 or 02_lob_reconstruction",
    )
    ap.add_argument(
        "--params-file",
        metavar="YAML",
        help="per-chapter overrides, in the format of tests/notebook_params.yaml",
    )
    ap.add_argument("--toc", metavar="FILE", help="table of contents (default: _toc.yml)")
    ap.add_argument(
        "--output-dir",
        metavar="DIR",
        help="where executed notebooks go (default: next to their .py)",
    )
    ap.add_argument(
        "--report-root",
        metavar="DIR",
        help="pass REPORT_DIR=DIR/<chapter> (default: each chapter's own reports/<chapter>/)",
    )
    ap.add_argument(
        "--data-dir",
        metavar="DIR",
        help="recordings for every chapter that reads them (DATA_DIR; default: the bundled data)",
    )
    ap.add_argument("--list", action="store_true", help="list the chapters and exit")
    args = ap.parse_args(argv)

    try:
        paths = select(chapters(args.toc), args.only)
        if args.list:
            for p in paths:
                print(_relative(p))
            return 0
        if not paths:
            print("no chapters to run", file=sys.stderr)
            return 1
        overrides = load_overrides(args.params_file) if args.params_file else None
        start = time.perf_counter()
        done = run_chapters(
            paths, overrides, args.output_dir, args.report_root, data_dir=args.data_dir
        )
    except (
        ChapterError,
        FileNotFoundError,
        PermissionError,
        IsADirectoryError,
        NotADirectoryError,
        ValueError,
    ) as exc:
        # one line, naming the file (a chapter's failure keeps its executed notebook)
        from lobutils.runner.errors import describe, redact

        text = str(exc) if isinstance(exc, ChapterError) else describe(exc)
        print(redact(f"error: {text}"), file=sys.stderr)
        return 1
    print(
        f"executed {len(done)} chapter(s) in {time.perf_counter() - start:.1f} s", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
