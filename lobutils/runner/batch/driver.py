"""A whole batch: plan the runs, execute the pending ones on Dask, write the tables.

:func:`run_batch` is the entry point (also ``python -m lobutils batch``); :func:`plan` says what it
would do; :class:`BatchResult` holds the runs table, the metrics and where everything went.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lobutils.runner.batch.cluster import _progress, dask_client
from lobutils.runner.batch.execute import (
    _describe_cell,
    _failed_cell,
    _first_line,
    _write_json,
    execute_run,
    is_done,
)
from lobutils.runner.batch.grid import (
    _RUN_ID_RE,
    Run,
    _canonical,
    code_version,
    load_grid,
    runs_root,
)
from lobutils.runner.batch.tables import (
    _label_value,
    _param_frame,
    _read_record,
    _write_table,
    collect_metrics,
    collect_tables,
)

__all__ = ["BatchResult", "plan", "run_batch"]


@dataclass
class BatchResult:
    """What :func:`run_batch` did.

    Attributes
    ----------
    run_id : str
    root : pathlib.Path
        The batch folder, ``reports/runs/<run-id>``.
    runs : pandas.DataFrame
        One row per run, in grid order: ``chapter``, ``params_hash``, the parameters,
        ``status`` (``ok``, ``cached``: finished earlier and skipped, ``failed``),
        ``seconds``, ``error``, ``failed_cell`` (a one-line description), ``notebook``
        (path relative to ``root``).
    metrics : pandas.DataFrame
        :func:`collect_metrics` of the finished runs (long format).
    seconds : float
        Wall time of this call.
    records : list of dict
        The ``run.json`` record of each run, in grid order.
    runs_list : list of Run
        The runs, in grid order.
    """

    run_id: str
    root: Path
    runs: pd.DataFrame
    metrics: pd.DataFrame
    seconds: float
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)
    runs_list: list[Run] = field(default_factory=list, repr=False)

    @property
    def failed(self) -> pd.DataFrame:
        """The failed runs."""
        return self.runs[self.runs["status"] == "failed"]

    @property
    def ok(self) -> bool:
        """True when no run failed."""
        return self.failed.empty

    def table(self, name: str) -> pd.DataFrame:
        """:func:`collect_tables` of this batch's runs.

        Parameters
        ----------
        name : str
            The table's name (a ``<name>.parquet`` each run wrote in its folder).

        Returns
        -------
        pandas.DataFrame
            The runs' tables stacked, with the parameters as columns.
        """
        return collect_tables(self.root, name, self.runs_list)

    def summary(self) -> dict[str, Any]:
        """Counts, failures and output paths, as plain JSON types.

        Returns
        -------
        dict
            ``run_id``, ``root``, counts per status, ``seconds``, ``failures`` (parameters,
            failing cell, notebook of each failed run) and the paths of the tables.
        """
        counts = self.runs["status"].value_counts().to_dict()
        return {
            "run_id": self.run_id,
            "root": str(self.root),
            "runs": len(self.runs),
            "executed": int(counts.get("ok", 0) + counts.get("failed", 0)),
            "ok": int(counts.get("ok", 0)),
            "cached": int(counts.get("cached", 0)),
            "failed": int(counts.get("failed", 0)),
            "seconds": round(self.seconds, 3),
            "failures": [
                {
                    "params_hash": r["params_hash"],
                    "chapter": r["chapter"],
                    "parameters": r.get("labels"),
                    "cell": _describe_cell(r.get("failed_cell"), r["chapter"]),
                    "error": _first_line(r.get("error")),
                    "notebook": str(self.root / r["params_hash"] / r["notebook"]),
                }
                for r in self.records
                if r["status"] == "failed"
            ],
            "metrics": str(self.root / "metrics.parquet"),
            "runs_table": str(self.root / "runs.parquet"),
        }


def plan(runs: Sequence[Run], root: str | os.PathLike[str], force: bool = False) -> pd.DataFrame:
    """Which runs are done and which would execute.

    Parameters
    ----------
    runs
        The runs (:func:`~lobutils.runner.batch.grid.expand_grid`).
    root
        The batch folder.
    force
        Whether every run would execute anyway.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``chapter``, ``params_hash``, the parameters, ``done``, ``will_run``.
    """
    versions = {s: code_version(s) for s in {r.source for r in runs}}
    rows = []
    for r in runs:
        done = is_done(r, r.folder(root), versions[r.source])
        rows.append(
            {"chapter": r.chapter, "params_hash": r.params_hash}
            | {k: _label_value(v) for k, v in r.labels.items()}
            | {"done": done, "will_run": force or not done}
        )
    return pd.DataFrame(rows)


def run_batch(
    grid: str | os.PathLike[str] | Mapping[str, Any] | Sequence[Run],
    *,
    run_id: str | None = None,
    root: str | os.PathLike[str] | None = None,
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
    force: bool = False,
    progress: bool = True,
) -> BatchResult:
    """Run a grid of chapter executions on Dask, skip finished ones, collect the metrics.

    Parameters
    ----------
    grid : path-like, mapping or sequence of Run
        A grid file, a parsed spec, or runs from :func:`expand_grid`.
    run_id : str, optional
        The batch's name (default: the spec's ``run_id``, else the grid file's stem).
    root : path-like, optional
        Parent of the batch folder (default ``reports/runs``, following
        ``$LOBUTILS_REPORTS_DIR``).
    client : distributed.Client, optional
        An existing client; else one is made by :func:`dask_client` from ``scheduler``,
        ``workers`` and ``processes``, only if some run has to execute.
    scheduler, workers, processes
        Passed to :func:`dask_client` when no ``client`` is given: a scheduler address, the
        number of LocalCluster workers, and whether they are processes (else threads).
    force : bool
        Execute every run, finished or not.
    progress : bool
        Show a progress bar (tqdm, on stderr) as runs complete.

    Returns
    -------
    BatchResult
        Failed runs do not raise: see ``result.failed`` and ``result.summary()["failures"]``.
        The tables ``runs`` and ``metrics`` (parquet and CSV) and ``summary.json`` are
        written into the batch folder.
    """
    t0 = time.perf_counter()
    rid, runs = _resolve_runs(grid, run_id)
    base = runs_root(rid, root)
    base.mkdir(parents=True, exist_ok=True)
    _write_json(
        base / "grid.json",
        [
            {"chapter": r.chapter, "params_hash": r.params_hash, "parameters": r.parameters}
            for r in runs
        ],
    )
    versions = {s: code_version(s) for s in {r.source for r in runs}}
    records: dict[str, dict[str, Any]] = {}
    todo = []
    for r in runs:
        if not force and is_done(r, r.folder(base), versions[r.source]):
            records[r.params_hash] = _cached_record(r, r.folder(base))
        else:
            todo.append(r)
    if todo:
        with dask_client(client, scheduler, workers, processes) as c:
            records |= _execute_pending(c, todo, base, versions, f"batch {rid}", progress)
    ordered = [records[r.params_hash] for r in runs]
    table = _runs_table(ordered)
    metrics = collect_metrics(
        base, [r for r in runs if records[r.params_hash]["status"] != "failed"]
    )
    _write_table(table, base / "runs")
    _write_table(metrics, base / "metrics")
    result = BatchResult(rid, base, table, metrics, time.perf_counter() - t0, ordered, runs)
    _write_json(base / "summary.json", result.summary())
    return result


def _resolve_runs(grid, run_id: str | None) -> tuple[str, list[Run]]:
    """The batch's run id and runs, from runs, a parsed spec or a grid file; checked."""
    if (
        isinstance(grid, Sequence)
        and not isinstance(grid, str | bytes)
        and all(isinstance(r, Run) for r in grid)
    ):
        runs, rid = list(grid), run_id or "batch"
    else:
        rid, runs, _ = load_grid(grid, run_id)
    if not _RUN_ID_RE.match(rid):
        raise ValueError(f"run id {rid!r}: use letters, digits, '.', '_' and '-' only")
    if not runs:
        raise ValueError("the grid has no runs")
    return rid, runs


def _base_record(r: Run) -> dict[str, Any]:
    return {
        "chapter": r.chapter,
        "params_hash": r.params_hash,
        "labels": r.labels,
        "notebook": f"{r.chapter}.ipynb",
    }


def _cached_record(r: Run, folder: Path) -> dict[str, Any]:
    """The record of a run finished earlier (status ``cached``), with its time then."""
    rec = _read_record(folder) or {}
    return _base_record(r) | {
        "seconds": rec.get("seconds"),
        "status": "cached",
        "error": None,
        "failed_cell": None,
    }


def _lost_record(r: Run, base: Path, exc: Exception) -> dict[str, Any]:
    """The record of a run whose task did not come back (a worker died, it could not run)."""
    return _base_record(r) | {
        "status": "failed",
        "seconds": None,
        "error": f"{type(exc).__name__}: {exc}",
        "failed_cell": _failed_cell(r.folder(base) / f"{r.chapter}.ipynb", str(exc)),
    }


def _execute_pending(
    client: Any,
    todo: Sequence[Run],
    base: Path,
    versions: Mapping[str, str],
    desc: str,
    progress: bool,
) -> dict[str, dict[str, Any]]:
    """Submit the runs to the Dask client; their records by params hash, as they complete."""
    from distributed import as_completed

    futures = {
        client.submit(
            execute_run,
            r,
            str(r.folder(base)),
            versions[r.source],
            os.getpid(),
            key=f"run-{r.chapter}-{r.params_hash}-{time.time_ns()}",
            pure=False,
        ): r
        for r in todo
    }
    records = {}
    with _progress(len(todo), desc, progress) as bar:
        for fut in as_completed(futures):
            r = futures[fut]
            try:
                rec = fut.result()
            except Exception as exc:  # a worker died, the task could not run
                rec = _lost_record(r, base, exc)
            records[r.params_hash] = rec
            bar.update(1)
            if progress and rec["status"] == "failed":
                bar.write(
                    f"failed: {r.chapter} {r.params_hash} "
                    f"{_canonical(r.labels)[:120]}: "
                    f"{_describe_cell(rec.get('failed_cell'), r.chapter) or rec['error']}"
                )
    return records


def _runs_table(ordered: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The runs table: parameters, then status, seconds, error, failed cell and notebook."""
    table = _param_frame(ordered)
    table["status"] = [rec["status"] for rec in ordered]
    table["seconds"] = [rec.get("seconds") for rec in ordered]
    table["error"] = [_first_line(rec.get("error")) for rec in ordered]
    table["failed_cell"] = [
        _describe_cell(rec.get("failed_cell"), rec["chapter"]) or None for rec in ordered
    ]
    table["notebook"] = [f"{rec['params_hash']}/{rec['notebook']}" for rec in ordered]
    return table
