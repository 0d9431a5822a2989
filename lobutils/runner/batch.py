"""Batch studies: run chapters over a grid of parameters with papermill, on Dask.

A *grid file* (YAML) names a chapter and parameter lists. :func:`expand_grid` turns it into
runs: the Cartesian product of the ``grid`` lists, plus any explicit ``runs``. Each run is
one papermill execution of the chapter through :func:`lobutils.runner.chapters.run_chapter`, with
its own output notebook and ``REPORT_DIR``. :func:`run_batch` executes the runs on Dask
distributed: a :class:`~distributed.LocalCluster` sized to the machine by default (one
process per core, one thread each), or any scheduler address for a real cluster. It then
collects every run's ``metrics.json`` into one tidy table.

The grid file
-------------
::

    run_id: zoo_markets            # optional: default the file's stem
    chapter: 06_ml_zoo             # a stem, "06", or a path; a list runs the grid on each
    timeout: 600                   # seconds any one cell may run (optional)
    parameters:                    # the same for every run
      TARGETS: [return]
      N_BOOT: 200
    grid:                          # one run per combination (the last name varies fastest)
      SEGMENTS: [spot_btcusdt, usdm_btcusdt]
      HORIZONS: [1, 10]
      MODELS: [linear, xgboost]
    as_list: [SEGMENTS, HORIZONS, MODELS]   # pass each value as a one-element list
    runs:                          # extra runs, not crossed with the grid (optional)
      - {SEGMENTS: cm_btcusd_perp, HORIZONS: 60, MODELS: forest}

``as_list`` is for chapters whose parameters are lists (chapter 6 takes ``SEGMENTS =
["spot_btcusdt"]``): the grid lists plain values, and each run gets ``[value]``. Several
chapters with different grids go in a list under ``studies:``, each entry with the keys
above (but ``run_id``). Every parameter name must exist in the chapter's ``parameters``
cell; ``REPORT_DIR`` is set by the runner.

Where the outputs go
--------------------
::

    reports/runs/<run-id>/               (root: $LOBUTILS_REPORTS_DIR/runs, or --root)
        grid.json        the runs of the batch (chapter, parameters, hash)
        runs.csv, runs.parquet         one row per run: parameters, status, seconds, error
        metrics.csv, metrics.parquet   every run's metrics.json, in long format (below)
        summary.json     counts, failures and paths
        <params-hash>/   one run: REPORT_DIR of the chapter
            <chapter>.ipynb   the executed notebook (kept, partial, when the run fails)
            metrics.json ...  what the chapter writes
            stderr.log        the kernel's stderr (runs on worker processes)
            run.json          parameters, code version, status, timing, error, failing cell
            done              marker of a finished run (params hash and code version)

The *params hash* is the first 12 hex digits of the SHA-256 of the chapter's stem and its
parameters, as canonical JSON with sorted keys (:func:`params_hash`): the same run always
gets the same folder, on any machine. The *code version* is the SHA-256 of the chapter's
source and every ``lobutils/**/*.py`` file (:func:`code_version`). A content hash rather
than the git commit: it works without git (on cluster workers, in a tarball), and a commit
that touches neither the chapter nor ``lobutils`` leaves finished runs valid. Changes to the
data files are not part of it: rerun with ``--force`` when the data change under the same
parameters.

Resuming
--------
A run whose folder holds a ``done`` marker with the same params hash and code version is
skipped (status ``cached``) unless ``force``. The marker is written last, after the chapter
finished, so a batch killed mid-grid resumes where it stopped: the runs that finished are
skipped, the others (and any partial folder they left) are run again. A failed run has no
marker and is retried on the next call.

The metrics table
-----------------
``metrics.json`` files nest (chapter 6 writes the best model per segment, target and
horizon). They are flattened into a **long** table, one row per (run, metric): the metric's
dotted path (``headline.n_beat_baseline``, ``datasets.spot_btcusdt.rows``; list items get
their index, ``pnl_best.0.model``), its numeric ``value`` (float; booleans as 0/1, NaN for
text) and its ``text`` (strings; empty for numbers). Long rather than wide because runs of
different chapters, segments or horizons write different keys, and a wide table would be
mostly empty columns. :func:`metrics_wide` pivots chosen metrics to columns. Every row
carries the run's parameters as columns, under their names in the parameters cell
(``SEGMENTS``, ``HORIZONS``, ...), plus ``chapter`` and ``params_hash``. A parameter given
``as_list`` appears as its plain value (``SEGMENTS = "spot_btcusdt"``); other lists and
mappings as JSON text.

Tables that a chapter writes per run (chapter 6's ``results.parquet``) are gathered the
same way, with the parameter columns added, by :func:`collect_tables`.

Partitions
----------
:func:`map_partitions` maps a function over (exchange, symbol, day) partitions, or any
items, on the same kind of Dask client, with a progress bar and failures collected:
reconstruction and features per partition of a lake (:func:`lake_items`).

Command line::

    python -m lobutils batch GRID.yaml [--run-id ID] [--root DIR] [--scheduler tcp://...]
                                       [--workers N] [--force] [--dry-run] [--json]

Examples
--------
>>> spec = {"chapter": "06_ml_zoo", "parameters": {"N_BOOT": 50},
...         "grid": {"SEGMENTS": ["spot_btcusdt", "usdm_btcusdt"], "HORIZONS": [1, 10]},
...         "as_list": ["SEGMENTS", "HORIZONS"]}
>>> runs = expand_grid(spec)
>>> len(runs), runs[0].parameters
(4, {'HORIZONS': [1], 'N_BOOT': 50, 'SEGMENTS': ['spot_btcusdt']})
>>> runs[1].labels
{'HORIZONS': 10, 'N_BOOT': 50, 'SEGMENTS': 'spot_btcusdt'}
>>> runs[0].params_hash == params_hash("06_ml_zoo", runs[0].parameters)
True
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from lobutils import paths as _paths
from lobutils.runner import chapters as _chapters

__all__ = [
    "BatchResult",
    "PartitionResult",
    "Run",
    "add_parsers",
    "code_version",
    "collect_metrics",
    "collect_tables",
    "dask_client",
    "execute_run",
    "expand_grid",
    "flatten_metrics",
    "is_done",
    "lake_items",
    "load_grid",
    "map_partitions",
    "metrics_wide",
    "params_hash",
    "plan",
    "run_batch",
    "runs_root",
]

DONE_FILE = "done"
RUN_FILE = "run.json"
HASH_LENGTH = 12
_SPEC_KEYS = {"run_id", "chapter", "parameters", "grid", "as_list", "runs", "timeout", "studies"}
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


# --------------------------------------------------------------------------- runs and hashes


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def _plain(value: Any) -> Any:
    # YAML and Python values to JSON types (tuples to lists), so that hashes are stable.
    return json.loads(_canonical(value))


def params_hash(chapter: str, parameters: Mapping[str, Any]) -> str:
    """The stable id of a run: 12 hex digits of SHA-256 over the chapter and its parameters.

    The chapter is its stem (``notebooks/06_ml_zoo.py`` and ``06_ml_zoo`` are the same), and
    the parameters are canonical JSON with sorted keys, so the order in which they are given,
    tuples against lists, and the machine do not matter.

    Examples
    --------
    >>> params_hash("06_ml_zoo", {"HORIZONS": [1], "N_BOOT": 50})
    '38e3fbcfe27b'
    >>> params_hash("notebooks/06_ml_zoo.py", {"N_BOOT": 50, "HORIZONS": (1,)})
    '38e3fbcfe27b'
    >>> params_hash("06_ml_zoo", {"HORIZONS": [10], "N_BOOT": 50}) == params_hash(
    ...     "06_ml_zoo", {"HORIZONS": [1], "N_BOOT": 50})
    False
    """
    text = _canonical({"chapter": _chapters.chapter_stem(chapter), "parameters": dict(parameters)})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]


_DIGESTS: dict[tuple, str] = {}


def _package_digest() -> str:
    # Hash of lobutils/**/*.py, recomputed when a file changes (size, mtime) or appears: a
    # long-lived process (a notebook kernel, a worker) sees edits made after it started.
    pkg = Path(__file__).resolve().parent
    files = sorted(f for f in pkg.rglob("*.py") if "__pycache__" not in f.parts)
    key = tuple((f.as_posix(), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        for f in files:
            h.update(f.relative_to(pkg).as_posix().encode())
            h.update(b"\0")
            h.update(f.read_bytes())
            h.update(b"\0")
        _DIGESTS.clear()
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


def code_version(source: str | os.PathLike[str]) -> str:
    """The code version of a chapter: SHA-256 of its source and of ``lobutils/**/*.py``.

    Returns 12 hex digits. The package part is recomputed only when a file changed.

    Examples
    --------
    >>> v = code_version(_paths.NOTEBOOKS_DIR / "06_ml_zoo.py")
    >>> len(v), v == code_version(_paths.NOTEBOOKS_DIR / "06_ml_zoo.py")
    (12, True)
    """
    h = hashlib.sha256(_package_digest().encode())
    h.update(Path(source).read_bytes())
    return h.hexdigest()[:HASH_LENGTH]


@dataclass(frozen=True)
class Run:
    """One execution of a chapter in a batch.

    Attributes
    ----------
    chapter : str
        The chapter's stem, ``"06_ml_zoo"``.
    source : str
        Its ``.py`` source (absolute path).
    parameters : dict
        The values injected into the parameters cell (``REPORT_DIR`` is added at run time).
    labels : dict
        The same parameters as they go into the tables: ``as_list`` values unwrapped.
    timeout : float or None
        Seconds any one cell may run.
    """

    chapter: str
    source: str
    parameters: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None

    @property
    def params_hash(self) -> str:
        """:func:`params_hash` of the chapter and parameters: the run's folder name."""
        return params_hash(self.chapter, self.parameters)

    def folder(self, root: str | os.PathLike[str]) -> Path:
        """``root / params_hash``: the run's folder (its ``REPORT_DIR``) under a batch root."""
        return Path(root) / self.params_hash


def _resolve_chapter(name: str, base: Path | None) -> Path:
    # A stem ("06_ml_zoo"), a number ("06"), or a path (relative to the grid file, the
    # repository or the working directory).
    text = str(name)
    candidates = []
    if text.endswith(".py") or "/" in text or os.sep in text:
        p = Path(text)
        candidates = [p] if p.is_absolute() else [(base or Path.cwd()) / p, _paths.REPO_ROOT / p]
        candidates += [Path.cwd() / p]
        for c in candidates:
            if c.with_suffix(".py").is_file():
                return c.with_suffix(".py").resolve()
        raise FileNotFoundError(f"chapter {text!r} not found (looked in {candidates[0].parent})")
    found = sorted(_paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py"))
    key = _chapters.chapter_stem(text)
    hits = [
        p
        for p in found
        if p.stem == key or (key.isdigit() and p.stem.split("_")[0] == f"{int(key):02d}")
    ]
    if len(hits) != 1:
        names = ", ".join(p.stem for p in found) or "(none)"
        raise FileNotFoundError(f"no single chapter matches {text!r}; chapters: {names}")
    return hits[0].resolve()


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def _study_runs(spec: Mapping[str, Any], base: Path | None, where: str) -> list[Run]:
    allowed = _SPEC_KEYS - {"run_id", "studies"}
    bad = set(spec) - allowed
    if bad:
        raise ValueError(f"{where}: unknown keys {sorted(bad)}; allowed: {sorted(allowed)}")
    if "chapter" not in spec:
        raise ValueError(f"{where}: name a chapter (chapter: 06_ml_zoo)")
    fixed = dict(spec.get("parameters") or {})
    grid = dict(spec.get("grid") or {})
    wrap = set(spec.get("as_list") or [])
    extra = list(spec.get("runs") or [])
    timeout = spec.get("timeout")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}: grid.{name} must be a non-empty list, got {values!r}")
    for i, r in enumerate(extra):
        if not isinstance(r, Mapping):
            raise ValueError(f"{where}: runs[{i}] must be a mapping of parameters, got {r!r}")
    overlap = set(fixed) & set(grid)
    if overlap:
        raise ValueError(f"{where}: {sorted(overlap)} are both fixed parameters and grid axes")
    never = wrap - set(fixed) - set(grid) - {k for r in extra for k in r}
    if never:
        raise ValueError(f"{where}: as_list names {sorted(never)}, which are never set")
    # the grid's combinations (one empty combination when there is no grid and no runs)
    combos: list[dict[str, Any]] = []
    if grid or not extra:
        combos = [dict(zip(grid, vals, strict=True)) for vals in itertools.product(*grid.values())]
    combos += [dict(r) for r in extra]

    sources = [_resolve_chapter(c, base) for c in _as_list(spec["chapter"])]
    out = []
    for src in sources:
        for combo in combos:
            # an explicit run may name its own chapter
            own = combo.get("chapter")
            here = _resolve_chapter(own, base) if own else src
            labels = _plain({**fixed, **{k: v for k, v in combo.items() if k != "chapter"}})
            params = {k: (_as_list(v) if k in wrap else v) for k, v in labels.items()}
            out.append(
                Run(
                    chapter=here.stem,
                    source=str(here),
                    parameters=params,
                    labels=labels,
                    timeout=float(timeout) if timeout is not None else None,
                )
            )
    return out


def expand_grid(
    spec: Mapping[str, Any], base: str | os.PathLike[str] | None = None, check: bool = True
) -> list[Run]:
    """Expand a grid spec (the parsed grid file) into runs, in a stable order.

    The runs of each study are the Cartesian product of its ``grid`` lists (in file order,
    the last name varying fastest; :func:`itertools.product`), then its explicit ``runs``;
    with a list of chapters, the whole set once per chapter. A run that repeats an earlier
    one (same chapter and parameters) is dropped.

    Parameters
    ----------
    spec : mapping
        See the module docstring.
    base : path-like, optional
        Directory that relative chapter paths are resolved against (the grid file's).
    check : bool
        Check every parameter name against the chapter's parameters cell.

    Returns
    -------
    list of Run

    Examples
    --------
    >>> runs = expand_grid({"chapter": "06", "grid": {"HORIZONS": [1, 10], "SEED": [0, 1]},
    ...                     "runs": [{"HORIZONS": 60, "SEED": 0}], "as_list": ["HORIZONS"]})
    >>> [(r.labels["HORIZONS"], r.labels["SEED"]) for r in runs]
    [(1, 0), (1, 1), (10, 0), (10, 1), (60, 0)]
    >>> runs[-1].parameters, runs[-1].chapter
    ({'HORIZONS': [60], 'SEED': 0}, '06_ml_zoo')
    >>> expand_grid({"chapter": "06", "grid": {"NOT_A_PARAMETER": [1]}})
    Traceback (most recent call last):
    ...
    ValueError: 06_ml_zoo: parameters ['NOT_A_PARAMETER'] are not in its parameters cell
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"a grid spec is a mapping, got {type(spec).__name__}")
    bad = set(spec) - _SPEC_KEYS
    if bad:
        raise ValueError(f"unknown keys {sorted(bad)} in the grid; allowed: {sorted(_SPEC_KEYS)}")
    base_dir = Path(base) if base is not None else None
    if "studies" in spec:
        studies = spec["studies"]
        if not isinstance(studies, list) or not studies:
            raise ValueError("studies must be a non-empty list of study mappings")
        if set(spec) - {"run_id", "studies"}:
            raise ValueError("with studies:, put chapter, grid, ... inside each study")
        runs = [
            r
            for i, s in enumerate(studies)
            for r in _study_runs(s if isinstance(s, Mapping) else {}, base_dir, f"studies[{i}]")
        ]
    else:
        runs = _study_runs({k: v for k, v in spec.items() if k != "run_id"}, base_dir, "grid")
    seen, unique = set(), []
    for r in runs:
        if r.params_hash not in seen:
            seen.add(r.params_hash)
            unique.append(r)
    if check:
        defined: dict[str, set[str]] = {}
        for r in unique:
            if r.source not in defined:
                nb = _chapters.to_notebook(r.source)
                try:
                    defined[r.source] = _chapters.parameter_names(nb, r.chapter)
                except _chapters.ChapterError as exc:
                    raise ValueError(str(exc)) from None
            missing = sorted(set(r.parameters) - defined[r.source])
            if _chapters.REPORT_PARAM in r.parameters:
                raise ValueError(
                    f"{r.chapter}: REPORT_DIR is set by the batch runner, not the grid"
                )
            if missing:
                raise ValueError(
                    f"{r.chapter}: parameters {missing} are not in its parameters cell"
                )
    return unique


def load_grid(
    grid: str | os.PathLike[str] | Mapping[str, Any], run_id: str | None = None
) -> tuple[str, list[Run], dict[str, Any]]:
    """Read a grid file (or take a parsed spec) and expand it.

    Returns
    -------
    run_id : str
        ``run_id`` as given, else the grid file's ``run_id``, else the file's stem
        (``"batch"`` for a mapping without one).
    runs : list of Run
    spec : dict
        The parsed spec.
    """
    if isinstance(grid, Mapping):
        spec, base, stem = dict(grid), None, "batch"
    else:
        path = Path(grid)
        if not path.is_file():
            raise FileNotFoundError(f"no grid file at {path}")
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(spec, Mapping):
            raise ValueError(f"{path}: a grid file is a YAML mapping")
        spec, base, stem = dict(spec), path.resolve().parent, path.stem
    rid = str(run_id or spec.get("run_id") or stem)
    if not _RUN_ID_RE.match(rid):
        raise ValueError(f"run id {rid!r}: use letters, digits, '.', '_' and '-' only")
    return rid, expand_grid(spec, base), spec


def runs_root(run_id: str, root: str | os.PathLike[str] | None = None) -> Path:
    """The folder of a batch: ``root / run_id``, with ``root`` default ``reports/runs``.

    Examples
    --------
    >>> runs_root("zoo", "/tmp/r").as_posix()
    '/tmp/r/zoo'
    >>> runs_root("zoo").relative_to(_paths.reports_dir()).as_posix()
    'runs/zoo'
    """
    base = Path(root) if root is not None else _paths.reports_dir() / "runs"
    return base / run_id


# --------------------------------------------------------------------------- one run


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def is_done(run: Run, folder: str | os.PathLike[str], version: str) -> bool:
    """Whether ``folder`` holds a finished run of ``run`` at code version ``version``."""
    marker = Path(folder) / DONE_FILE
    try:
        done = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return done.get("params_hash") == run.params_hash and done.get("code_version") == version


_LINE_RE = re.compile(r"line (\d+) of ")


def _failed_cell(notebook: Path, message: str) -> dict[str, Any] | None:
    """The failing cell of a partial output notebook: index, source line, error."""
    import nbformat

    info: dict[str, Any] = {}
    m = _LINE_RE.search(message)
    if m:
        info["line"] = int(m.group(1))
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception:  # no notebook (the run failed before papermill wrote it)
        return info or None
    for i, cell in enumerate(nb.cells):
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
        where += f" (cell {cell['index']} of the notebook)"
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


# --------------------------------------------------------------------------- Dask


@contextmanager
def dask_client(
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
) -> Iterator[Any]:
    """A Dask distributed client: ``client`` as is, a scheduler's, or a new LocalCluster's.

    Parameters
    ----------
    client : distributed.Client, optional
        Used as is (and not closed).
    scheduler : str, optional
        A scheduler address (``tcp://host:8786``). Its workers must import ``lobutils`` and
        see the same file system paths (the chapters and the output root).
    workers : int, optional
        Workers of the LocalCluster (default: one per CPU core, ``os.cpu_count()``).
    processes : bool
        LocalCluster workers as processes (default; one thread each) or threads of this
        process (quicker to start, for tests).

    Yields
    ------
    distributed.Client
    """
    if client is not None:
        yield client
        return
    import logging

    from distributed import Client, LocalCluster

    if scheduler:
        c = Client(scheduler)
        try:
            yield c
        finally:
            c.close()
        return
    n = int(workers) if workers else max(1, os.cpu_count() or 1)
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=":0",  # any free port: never clash with another cluster
        silence_logs=logging.ERROR,
    )
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _progress(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="run", disable=not enabled, file=sys.stderr)


# --------------------------------------------------------------------------- tables


def flatten_metrics(metrics: Any, prefix: str = "") -> list[tuple[str, float, str | None]]:
    """Flatten a ``metrics.json`` into ``(dotted key, value, text)`` rows.

    Mappings add ``.key``, lists ``.index``. Numbers go to ``value`` (booleans as 1.0 and
    0.0), strings to ``text`` (with ``value`` NaN); ``None`` gives NaN and no text. An empty
    mapping or list gives no row.

    Examples
    --------
    >>> flatten_metrics({"n": 3, "best": {"model": "linear", "ci": [0.1, 0.3]}, "ok": True})
    [('n', 3.0, None), ('best.model', nan, 'linear'), ('best.ci.0', 0.1, None), ('best.ci.1', 0.3, None), ('ok', 1.0, None)]
    """
    rows: list[tuple[str, float, str | None]] = []
    if isinstance(metrics, Mapping):
        for k, v in metrics.items():
            rows += flatten_metrics(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(metrics, list | tuple):
        for i, v in enumerate(metrics):
            rows += flatten_metrics(v, f"{prefix}.{i}" if prefix else str(i))
    elif isinstance(metrics, bool):
        rows.append((prefix, float(metrics), None))
    elif isinstance(metrics, int | float):
        rows.append((prefix, float(metrics), None))
    elif metrics is None:
        rows.append((prefix, math.nan, None))
    else:
        rows.append((prefix, math.nan, str(metrics)))
    return rows


def _label_value(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return _canonical(v)


def _param_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run: chapter, params_hash and the labels as columns of one type each."""
    rows = [
        {"chapter": r["chapter"], "params_hash": r["params_hash"]}
        | {k: _label_value(v) for k, v in (r.get("labels") or {}).items()}
        for r in records
    ]
    frame = pd.DataFrame(rows)
    for col in frame.columns:
        vals = [
            v for v in frame[col] if v is not None and not (isinstance(v, float) and math.isnan(v))
        ]
        kinds = {type(v) for v in vals}
        if kinds and not kinds <= {int, float} and kinds != {bool} and kinds != {str}:
            # mixed types (1 and "1s"): text, so that the column has one type in parquet
            frame[col] = [None if v is None else str(v) for v in frame[col]]
    return frame


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def collect_metrics(
    root: str | os.PathLike[str], runs: Sequence[Run] | None = None
) -> pd.DataFrame:
    """Every finished run's ``metrics.json`` under a batch folder, in one long table.

    Parameters
    ----------
    root : path-like
        The batch folder, ``reports/runs/<run-id>``.
    runs : sequence of Run, optional
        Only these runs (default: every run folder with a ``done`` marker).

    Returns
    -------
    pandas.DataFrame
        Columns ``chapter``, ``params_hash``, the parameters (one column each), ``metric``,
        ``value``, ``text``; one row per (run, flattened metric). See the module docstring.
    """
    root = Path(root)
    folders = (
        [r.folder(root) for r in runs]
        if runs is not None
        else sorted(d for d in root.iterdir() if d.is_dir() and (d / DONE_FILE).is_file())
        if root.is_dir()
        else []
    )
    records, flat = [], []
    for d in folders:
        rec = _read_record(d)
        if rec is None or not (d / DONE_FILE).is_file():
            continue
        try:
            metrics = _paths.read_metrics(d)
        except (OSError, ValueError):
            continue
        records.append(rec)
        flat.append(flatten_metrics(metrics))
    cols = ["metric", "value", "text"]
    if not records:
        return pd.DataFrame(
            {"chapter": pd.Series(dtype="str"), "params_hash": pd.Series(dtype="str")}
            | {"metric": pd.Series(dtype="str"), "value": pd.Series(dtype="float64")}
            | {"text": pd.Series(dtype="str")}
        )
    params = _param_frame(records)
    parts = []
    for i, rows in enumerate(flat):
        m = pd.DataFrame(rows, columns=cols)
        left = params.iloc[[i] * len(m)].reset_index(drop=True)
        parts.append(pd.concat([left, m], axis=1))
    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].astype("float64")
    return out


def metrics_wide(metrics: pd.DataFrame, keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Pivot the long metrics table: one row per run, one column per metric key.

    Numeric metrics give their ``value``, text metrics their ``text``.

    Examples
    --------
    >>> long = pd.DataFrame({"chapter": ["c", "c"], "params_hash": ["a", "a"], "N": [1, 1],
    ...                      "metric": ["n", "best"], "value": [3.0, float("nan")],
    ...                      "text": [None, "x"]})
    >>> metrics_wide(long).to_dict("records")
    [{'chapter': 'c', 'params_hash': 'a', 'N': 1, 'best': 'x', 'n': 3.0}]
    """
    m = metrics if keys is None else metrics[metrics["metric"].isin(list(keys))]
    id_cols = [c for c in m.columns if c not in ("metric", "value", "text")]
    cell = m["value"].astype(object).where(m["text"].isna(), m["text"])
    wide = (
        m.assign(_cell=cell)
        .pivot_table(
            index="params_hash", columns="metric", values="_cell", aggfunc="first", dropna=False
        )
        .reset_index()
    )
    wide.columns.name = None
    ids = m[id_cols].drop_duplicates("params_hash")
    out = ids.merge(wide, on="params_hash", how="left")
    for k in [c for c in out.columns if c not in id_cols]:
        out[k] = _maybe_numeric(out[k])
    return out.reset_index(drop=True)


def _maybe_numeric(s: pd.Series) -> pd.Series:
    try:
        return pd.to_numeric(s)
    except (ValueError, TypeError):
        return s


def collect_tables(
    root: str | os.PathLike[str], name: str, runs: Sequence[Run] | None = None
) -> pd.DataFrame:
    """Concatenate a table that every run writes (``results.parquet``, ``pnl.csv``, ...).

    Each run's rows get the run's ``chapter``, ``params_hash`` and parameter columns in
    front. Runs without the file (failed, or not done) are left out.

    Parameters
    ----------
    root : path-like
        The batch folder.
    name : str
        File name inside each run folder; ``.parquet`` or ``.csv``.
    runs : sequence of Run, optional
        Only these runs (default: every finished run under ``root``).
    """
    root = Path(root)
    folders = (
        [r.folder(root) for r in runs]
        if runs is not None
        else sorted(d for d in root.iterdir() if d.is_dir())
        if root.is_dir()
        else []
    )
    records, frames = [], []
    for d in folders:
        f = d / name
        rec = _read_record(d)
        if rec is None or not (d / DONE_FILE).is_file() or not f.is_file():
            continue
        frames.append(pd.read_parquet(f) if f.suffix == ".parquet" else pd.read_csv(f))
        records.append(rec)
    if not frames:
        return pd.DataFrame()
    params = _param_frame(records)
    parts = []
    for i, t in enumerate(frames):
        left = params.iloc[[i] * len(t)].reset_index(drop=True)
        clash = [c for c in left.columns if c in t.columns]
        left = left.rename(columns={c: f"param.{c}" for c in clash})
        parts.append(pd.concat([left, t.reset_index(drop=True)], axis=1))
    return pd.concat(parts, ignore_index=True)


def _write_table(frame: pd.DataFrame, stem: Path) -> None:
    from lobutils.paths import write_frame

    write_frame(frame, stem.with_suffix(".parquet"))
    write_frame(frame, stem.with_suffix(".csv"))


# --------------------------------------------------------------------------- the batch


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
        """:func:`collect_tables` of this batch's runs."""
        return collect_tables(self.root, name, self.runs_list)

    def summary(self) -> dict[str, Any]:
        """Counts, failures and output paths, as plain JSON types."""
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
    """Which runs are done and which would execute: ``chapter, params_hash, params, done``."""
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
    if (
        isinstance(grid, Sequence)
        and not isinstance(grid, str | bytes)
        and all(isinstance(r, Run) for r in grid)
    ):
        runs, rid = list(grid), run_id or "batch"
    else:
        rid, runs, _ = load_grid(grid, run_id)  # type: ignore[arg-type]
    if not _RUN_ID_RE.match(rid):
        raise ValueError(f"run id {rid!r}: use letters, digits, '.', '_' and '-' only")
    if not runs:
        raise ValueError("the grid has no runs")
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
        folder = r.folder(base)
        if not force and is_done(r, folder, versions[r.source]):
            rec = _read_record(folder) or {}
            records[r.params_hash] = {
                "chapter": r.chapter,
                "params_hash": r.params_hash,
                "labels": r.labels,
                "notebook": f"{r.chapter}.ipynb",
                "seconds": rec.get("seconds"),
            } | {"status": "cached", "error": None, "failed_cell": None}
        else:
            todo.append(r)

    if todo:
        with dask_client(client, scheduler, workers, processes) as c:
            from distributed import as_completed

            futures = {
                c.submit(
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
            with _progress(len(todo), f"batch {rid}", progress) as bar:
                for fut in as_completed(futures):
                    r = futures[fut]
                    try:
                        rec = fut.result()
                    except Exception as exc:  # a worker died, the task could not run
                        rec = {
                            "chapter": r.chapter,
                            "params_hash": r.params_hash,
                            "labels": r.labels,
                            "notebook": f"{r.chapter}.ipynb",
                            "status": "failed",
                            "seconds": None,
                            "error": f"{type(exc).__name__}: {exc}",
                            "failed_cell": _failed_cell(
                                r.folder(base) / f"{r.chapter}.ipynb", str(exc)
                            ),
                        }
                    records[r.params_hash] = rec
                    bar.update(1)
                    if progress and rec["status"] == "failed":
                        bar.write(
                            f"failed: {r.chapter} {r.params_hash} "
                            f"{_canonical(r.labels)[:120]}: "
                            f"{_describe_cell(rec.get('failed_cell'), r.chapter) or rec['error']}"
                        )
    ordered = [records[r.params_hash] for r in runs]
    table = _param_frame(ordered)
    table["status"] = [rec["status"] for rec in ordered]
    table["seconds"] = [rec.get("seconds") for rec in ordered]
    table["error"] = [_first_line(rec.get("error")) for rec in ordered]
    table["failed_cell"] = [
        _describe_cell(rec.get("failed_cell"), rec["chapter"]) or None for rec in ordered
    ]
    table["notebook"] = [f"{rec['params_hash']}/{rec['notebook']}" for rec in ordered]
    metrics = collect_metrics(
        base, [r for r in runs if records[r.params_hash]["status"] != "failed"]
    )
    _write_table(table, base / "runs")
    _write_table(metrics, base / "metrics")
    result = BatchResult(rid, base, table, metrics, time.perf_counter() - t0, ordered, runs)
    _write_json(base / "summary.json", result.summary())
    return result


# --------------------------------------------------------------------------- partitions


@dataclass
class PartitionResult:
    """What :func:`map_partitions` returned.

    Attributes
    ----------
    items : list
        The inputs, in order.
    results : list
        ``fn(item)`` for each item, ``None`` where it failed.
    errors : dict
        Item position -> ``"ExceptionType: message"`` with the traceback's last lines.
    seconds : float
    """

    items: list[Any]
    results: list[Any]
    errors: dict[int, str]
    seconds: float

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return not self.errors

    @property
    def failed(self) -> pd.DataFrame:
        """One row per failed item: ``position``, ``item``, ``error``."""
        return pd.DataFrame(
            [{"position": i, "item": self.items[i], "error": e} for i, e in self.errors.items()],
            columns=["position", "item", "error"],
        )

    def frame(self) -> pd.DataFrame:
        """The successful results as one frame.

        Mapping results (dicts) become rows; DataFrame results are concatenated. A mapping
        item's keys are added as columns in front (when the result lacks them).
        """
        parts = []
        for item, res in zip(self.items, self.results, strict=True):
            if res is None:
                continue
            f = pd.DataFrame([res]) if isinstance(res, Mapping) else pd.DataFrame(res)
            if isinstance(item, Mapping):
                for j, (k, v) in enumerate(item.items()):
                    if k not in f.columns:
                        f.insert(j, k, [v] * len(f))
            parts.append(f)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _call(fn: Callable[[Any], Any], item: Any) -> tuple[bool, Any]:
    try:
        return True, fn(item)
    except Exception as exc:
        tb = traceback.format_exc().strip().splitlines()
        return False, f"{type(exc).__name__}: {exc}\n" + "\n".join(tb[-6:])


def map_partitions(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    client: Any = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
    progress: bool = True,
    desc: str = "partitions",
) -> PartitionResult:
    """Map ``fn`` over items (e.g. (exchange, symbol, day) partitions) on a Dask client.

    Each item is one task; a failing item is recorded and the others go on.

    Parameters
    ----------
    fn : callable
        Takes one item. With process workers it must be picklable by cloudpickle (a module
        function, or one defined in a notebook).
    items : iterable
        The partitions, e.g. :func:`lake_items`.
    client : distributed.Client, optional
        The client to use (the batch's); else :func:`dask_client` makes one from
        ``scheduler``, ``workers`` and ``processes``.
    progress : bool
        A progress bar on stderr.

    Returns
    -------
    PartitionResult

    Examples
    --------
    >>> res = map_partitions(lambda x: 10 / x, [1, 0, 5], processes=False, workers=1,
    ...                      progress=False)
    >>> res.results, sorted(res.errors), res.errors[1].splitlines()[0]
    ([10.0, None, 2.0], [1], 'ZeroDivisionError: division by zero')
    """
    t0 = time.perf_counter()
    items = list(items)
    results: list[Any] = [None] * len(items)
    errors: dict[int, str] = {}
    if items:
        with dask_client(client, scheduler, workers, processes) as c:
            from distributed import as_completed

            futures = {
                c.submit(_call, fn, item, key=f"{desc}-{i}-{time.time_ns()}", pure=False): i
                for i, item in enumerate(items)
            }
            with _progress(len(items), desc, progress) as bar:
                for fut in as_completed(futures):
                    i = futures[fut]
                    try:
                        ok, value = fut.result()
                    except Exception as exc:  # the task itself could not run
                        ok, value = False, f"{type(exc).__name__}: {exc}"
                    if ok:
                        results[i] = value
                    else:
                        errors[i] = value
                    bar.update(1)
    return PartitionResult(items, results, dict(sorted(errors.items())), time.perf_counter() - t0)


def lake_items(
    lake_root: str | os.PathLike[str],
    kind: str = "depth",
    exchange: str | None = None,
    symbol: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> list[dict[str, str]]:
    """The (exchange, symbol, date) partitions of a parquet lake, as items for a map.

    Parameters
    ----------
    lake_root : path-like
        A lake written by :mod:`lobutils.data.lake`.
    kind : str
        The table whose partitions are listed (``depth`` by default).
    exchange, symbol : str, optional
        Keep only these.
    start, end : str, optional
        ISO days, inclusive (``"2024-08-01"``).

    Returns
    -------
    list of dict
        ``{"lake": str, "exchange": ..., "symbol": ..., "date": "YYYY-MM-DD"}``, sorted.
    """
    from lobutils.data import lake

    parts = lake.partitions(lake_root, kind, exchange, symbol)
    if start is not None:
        parts = parts[parts["date"] >= str(start)]
    if end is not None:
        parts = parts[parts["date"] <= str(end)]
    return [
        {"lake": str(lake_root), "exchange": r.exchange, "symbol": r.symbol, "date": r.date}
        for r in parts.sort_values(["exchange", "symbol", "date"]).itertuples()
    ]


# --------------------------------------------------------------------------- command line


def _cmd_batch(args) -> dict[str, Any]:
    rid, runs, _ = load_grid(args.grid, args.run_id)
    if args.dry_run:
        p = plan(runs, runs_root(rid, args.root), args.force)
        return {
            "run_id": rid,
            "root": str(runs_root(rid, args.root)),
            "runs": len(p),
            "to_run": int(p["will_run"].sum()),
            "plan": [
                {
                    "chapter": r.chapter,
                    "params_hash": r.params_hash,
                    "parameters": r.labels,
                    "done": bool(done),
                    "will_run": bool(will),
                }
                for r, done, will in zip(runs, p["done"], p["will_run"], strict=True)
            ],
        }
    res = run_batch(
        runs,
        run_id=rid,
        root=args.root,
        scheduler=args.scheduler,
        workers=args.workers,
        processes=not args.threads,
        force=args.force,
        progress=not args.no_progress,
    )
    summary = res.summary()
    if not res.ok:
        # the summary first (the CLI prints it on success), then a non-zero exit status
        if args.json:
            print(json.dumps(summary, default=str))
        else:
            _show(summary)
        raise SystemExit(1)
    return summary


def _show(summary: Mapping[str, Any]) -> None:
    if "plan" in summary:
        print(f"batch {summary['run_id']}: {summary['runs']} runs, {summary['to_run']} to run")
        for row in summary["plan"]:
            mark = "run " if row["will_run"] else "done"
            print(f"  {mark} {row['params_hash']} {row['chapter']} {_canonical(row['parameters'])}")
        return
    print(
        f"batch {summary['run_id']}: {summary['runs']} runs: {summary['ok']} ok, "
        f"{summary['cached']} cached, {summary['failed']} failed in {summary['seconds']:.1f} s"
    )
    for f in summary["failures"]:
        print(f"  FAILED {f['params_hash']} {f['chapter']} {_canonical(f['parameters'])}")
        print(f"    in {f['cell'] or '(no cell)'}")
        print(f"    notebook: {f['notebook']}")
    print(f"  runs:    {summary['runs_table']}")
    print(f"  metrics: {summary['metrics']}")


def add_parsers(subparsers) -> None:
    """Add the ``batch`` command to a CLI's subparsers (see :mod:`lobutils.runner.cli`).

    Exit status 0 when every run finished (or was cached), 1 when any run failed (the
    summary is printed first), as for other commands on bad input.

    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_parsers(p.add_subparsers(dest="command"))
    >>> a = p.parse_args(["batch", "grid.yaml", "--workers", "2", "--force"])
    >>> a.grid, a.workers, a.force, a.scheduler
    ('grid.yaml', 2, True, None)
    """
    p = subparsers.add_parser(
        "batch",
        help="run chapters over a parameter grid with papermill on Dask",
        description=(
            "Expand a grid file into papermill runs of chapters, execute them on a Dask "
            "LocalCluster (or --scheduler), skip runs finished earlier, and collect every "
            "run's metrics.json into reports/runs/<run-id>/metrics.parquet and .csv."
        ),
    )
    p.add_argument("grid", help="the grid file (YAML); see lobutils.runner.batch")
    p.add_argument("--run-id", default=None, help="batch name (default: the grid's file stem)")
    p.add_argument("--root", default=None, help="parent folder of batches (default reports/runs)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, tcp://host:8786")
    p.add_argument(
        "--workers", type=int, default=None, help="LocalCluster workers (default: cores)"
    )
    p.add_argument("--threads", action="store_true", help="LocalCluster workers as threads")
    p.add_argument("--force", action="store_true", help="rerun finished runs too")
    p.add_argument("--dry-run", action="store_true", help="list the runs and what would run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_batch, show=_show)
