"""Grids of runs: the grid file, its expansion into runs, params hashes and code versions.

A :class:`Run` is one chapter with one set of parameters; its *params hash*
(:func:`params_hash`) names its folder and its *code version* (:func:`code_version`) says whether
a finished run is still valid. See :mod:`lobutils.runner.batch` for the grid file's format.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lobutils import paths as _paths
from lobutils.runner import chapters as _chapters
from lobutils.runner.errors import load_yaml

__all__ = [
    "DONE_FILE",
    "HASH_LENGTH",
    "RUN_FILE",
    "Run",
    "code_version",
    "expand_grid",
    "load_grid",
    "params_hash",
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

    Parameters
    ----------
    chapter
        The chapter's stem or path.
    parameters
        The run's parameters.

    Returns
    -------
    str
        12 hex digits.

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

    The package part is recomputed only when a file changed.

    Parameters
    ----------
    source
        The chapter's source file.

    Returns
    -------
    str
        12 hex digits.

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
        """``root / params_hash``: the run's folder (its ``REPORT_DIR``) under a batch root.

        Parameters
        ----------
        root : path-like
            The batch folder (:func:`runs_root`).

        Returns
        -------
        pathlib.Path
            The run's folder (not created).
        """
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

    Parameters
    ----------
    grid
        A YAML grid file, or its parsed spec.
    run_id
        The batch's name, overriding the spec's.

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
        spec = load_yaml(path, "batch grid") or {}
        if not isinstance(spec, Mapping):
            raise ValueError(f"{path}: a grid file is a YAML mapping")
        spec, base, stem = dict(spec), path.resolve().parent, path.stem
    rid = str(run_id or spec.get("run_id") or stem)
    if not _RUN_ID_RE.match(rid):
        raise ValueError(f"run id {rid!r}: use letters, digits, '.', '_' and '-' only")
    return rid, expand_grid(spec, base), spec


def runs_root(run_id: str, root: str | os.PathLike[str] | None = None) -> Path:
    """The folder of a batch: ``root / run_id``, with ``root`` default ``reports/runs``.

    Parameters
    ----------
    run_id
        The batch's name.
    root
        The parent folder (default ``reports/runs``, following ``$LOBUTILS_REPORTS_DIR``).

    Returns
    -------
    pathlib.Path
        The batch folder (not created).

    Examples
    --------
    >>> runs_root("zoo", "/tmp/r").as_posix()
    '/tmp/r/zoo'
    >>> runs_root("zoo").relative_to(_paths.reports_dir()).as_posix()
    'runs/zoo'
    """
    base = Path(root) if root is not None else _paths.reports_dir() / "runs"
    return base / run_id
