"""One run: execute a chapter with papermill into its folder, record status and failing cell.

:func:`execute_run` is what a Dask worker calls; :func:`is_done` says whether a run's folder
holds a valid ``done`` marker (same params hash and code version).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from lobutils.runner.batch.grid import DONE_FILE, RUN_FILE, Run

__all__ = ["execute_run", "is_done"]


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def is_done(run: Run, folder: str | os.PathLike[str], version: str) -> bool:
    """Whether ``folder`` holds a finished run of ``run`` at code version ``version``.

    Parameters
    ----------
    run
        The run.
    folder
        Its folder (:meth:`Run.folder`).
    version
        The code version it must have finished at (:func:`~lobutils.runner.batch.grid.code_version`).

    Returns
    -------
    bool
        True when the ``done`` marker holds the run's params hash and ``version``.
    """
    marker = Path(folder) / DONE_FILE
    try:
        done = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return done.get("params_hash") == run.params_hash and done.get("code_version") == version


_LINE_RE = re.compile(r"line (\d+) of ")
_CELL_RE = re.compile(r"\(cell (\d+) of the executed notebook\)")
_PAPERMILL_MARKER = "papermill-error-cell-tag"  # the note cells papermill adds on a failure


def _failed_cell(notebook: Path, message: str) -> dict[str, Any] | None:
    """The failing cell of a partial output notebook: index, source line, error.

    ``index`` counts the cells of the executed notebook without the two note cells papermill
    adds on a failure, as :class:`~lobutils.runner.chapters.ChapterError` does, so every
    message names the same cell.
    """
    import nbformat

    info: dict[str, Any] = {}
    m = _LINE_RE.search(message)
    if m:
        info["line"] = int(m.group(1))
    m = _CELL_RE.search(message)
    if m:
        info["index"] = int(m.group(1))
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception:  # no notebook (the run failed before papermill wrote it)
        return info or None
    cells = [c for c in nb.cells if _PAPERMILL_MARKER not in c.get("metadata", {}).get("tags", [])]
    for i, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if errors or status in ("failed", "running"):
            lines = [ln for ln in cell.source.splitlines() if ln.strip()]
            info.update(
                index=i,
                source=lines[-1].strip() if errors and lines else (lines[0] if lines else ""),
                ename=errors[0].get("ename") if errors else None,
                evalue=errors[0].get("evalue") if errors else None,
            )
            if errors:
                # the line the traceback points at, when the cell's source shows it
                tb = "\n".join(errors[0].get("traceback", []))
                tb = re.sub(r"\x1b\[[0-9;]*m", "", tb)
                arrows = re.findall(r"^-+> *\d+ (.*)$", tb, flags=re.M)
                if arrows:
                    info["source"] = arrows[0].strip()
            break
    return info or None


def _first_line(text: str | None, limit: int = 500) -> str | None:
    lines = (text or "").strip().splitlines()
    return lines[0][:limit] if lines else None


def _describe_cell(cell: Mapping[str, Any] | None, chapter: str) -> str:
    if not cell:
        return ""
    where = f"line {cell['line']} of {chapter}.py" if "line" in cell else "a cell"
    if "index" in cell:
        where += f" (cell {cell['index']} of the executed notebook)"
    err = f"{cell.get('ename')}: {cell.get('evalue')}" if cell.get("ename") else "did not finish"
    src = f" at `{cell['source']}`" if cell.get("source") else ""
    return f"{where}{src}: {err}"


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    # Send this process's file descriptor 2 (and so the stderr of the kernels it starts) to a
    # file. Only used in a worker process of its own: a thread worker shares the driver's.
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as fh:
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def execute_run(
    run: Run, folder: str, version: str, driver_pid: int | None = None
) -> dict[str, Any]:
    """Execute one run into ``folder`` (its ``REPORT_DIR``); the task a Dask worker runs.

    Any previous content of ``folder`` (a partial run killed earlier, an outdated one) is
    removed first. On success the ``done`` marker is written last. Errors are returned, not
    raised: the record has ``status`` ``"ok"`` or ``"failed"``, and for a failure the
    ``error`` message and the ``failed_cell`` (index in the executed notebook, line in the
    source, the line that raised, exception name and value).

    In a worker process other than ``driver_pid`` (the process that submitted the run), the
    stderr of the run (the chapter's kernel: warnings, logs) goes to ``stderr.log`` in the
    folder instead of the worker's terminal, or the notebook that started the batch.

    Parameters
    ----------
    run
        The run.
    folder
        Its folder, the chapter's ``REPORT_DIR``.
    version
        The code version to write into the ``done`` marker.
    driver_pid
        The process that submitted the run.

    Returns
    -------
    dict
        The run's record (also written to ``run.json``): chapter, params hash, labels,
        notebook, ``status``, ``seconds``, ``error``, ``failed_cell``.
    """
    from lobutils.runner.chapters import ChapterError, run_chapter

    out = Path(folder)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    notebook = out / f"{run.chapter}.ipynb"
    record: dict[str, Any] = {
        "chapter": run.chapter,
        "params_hash": run.params_hash,
        "code_version": version,
        "parameters": run.parameters,
        "labels": run.labels,
        "notebook": notebook.name,
        "status": "running",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": os.uname().nodename if hasattr(os, "uname") else "",
        "pid": os.getpid(),
    }
    _write_json(out / RUN_FILE, record)
    t0 = time.perf_counter()
    error, cell = None, None
    own_process = driver_pid is not None and os.getpid() != driver_pid
    try:
        with _stderr_to(out / "stderr.log") if own_process else nullcontext():
            run_chapter(run.source, notebook, run.parameters, report_dir=out, timeout=run.timeout)
    except ChapterError as exc:
        error = str(exc)
        cell = _failed_cell(notebook, error)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        cell = _failed_cell(notebook, error)
    record.update(
        status="ok" if error is None else "failed",
        seconds=round(time.perf_counter() - t0, 3),
        finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        error=error,
        failed_cell=cell,
    )
    _write_json(out / RUN_FILE, record)
    if error is None:
        _write_json(
            out / DONE_FILE,
            {
                "params_hash": run.params_hash,
                "code_version": version,
                "finished": record["finished"],
            },
        )
    return record
