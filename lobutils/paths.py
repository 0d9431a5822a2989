"""Project paths, and writing a chapter's ``metrics.json``.

Every path a chapter or a script needs comes from here, so that nothing machine-specific is
written in a notebook. The paths resolve relative to the source checkout (the project is
installed in editable mode with ``pip install -e .``). Two environment variables override them,
and they are read each time a path is asked for, so a test or a batch job can set them at any
point:

``LOBUTILS_DATA_DIR``
    where downloaded and recorded data live (default ``<repo>/data``).
``LOBUTILS_REPORTS_DIR``
    where chapters write their outputs (default ``<repo>/reports``).

The module attributes ``REPO_ROOT``, ``DATA_DIR``, ``BUNDLED_DATA_DIR``, ``REPORTS_DIR`` and
``NOTEBOOKS_DIR`` are :class:`pathlib.Path` objects. ``DATA_DIR`` and ``REPORTS_DIR`` are
computed on access (``from lobutils.paths import DATA_DIR`` reads the environment at that
moment). The bundled dataset ships inside the repository, so ``BUNDLED_DATA_DIR`` is always
``<repo>/data/binance-2024-08-08``, whatever ``LOBUTILS_DATA_DIR`` says.

Examples
--------
>>> from lobutils import paths
>>> (paths.REPO_ROOT / "pyproject.toml").is_file()
True
>>> paths.BUNDLED_DATA_DIR.relative_to(paths.REPO_ROOT).as_posix()
'data/binance-2024-08-08'
>>> paths.NOTEBOOKS_DIR.name
'notebooks'
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import pandas as pd

REPO_ROOT: Path = Path(__file__).resolve().parent.parent
"""The root of the source checkout (the directory holding ``pyproject.toml``)."""

BUNDLED_DATA_DIR: Path = REPO_ROOT / "data" / "binance-2024-08-08"
"""The real Binance recordings that ship with the project (see ``data/README.md``)."""

NOTEBOOKS_DIR: Path = REPO_ROOT / "notebooks"
"""The chapters, ``NN_topic.py`` in jupytext py:percent format."""

DATA_ENV = "LOBUTILS_DATA_DIR"
"""Environment variable that overrides the data directory."""
REPORTS_ENV = "LOBUTILS_REPORTS_DIR"
"""Environment variable that overrides the reports directory."""

METRICS_FILE = "metrics.json"
"""File name of a chapter's key numbers in its report directory."""

__all__ = [
    "sha256_file",
    "write_frame",
    "BUNDLED_DATA_DIR",
    "DATA_DIR",  # noqa: F822 (module __getattr__)
    "NOTEBOOKS_DIR",
    "REPORTS_DIR",  # noqa: F822 (module __getattr__)
    "REPO_ROOT",
    "data_dir",
    "read_metrics",
    "report_dir",
    "reports_dir",
    "to_jsonable",
    "write_metrics",
]


def _from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser().resolve() if value else default


def data_dir() -> Path:
    """The data directory: ``$LOBUTILS_DATA_DIR`` if set, else ``<repo>/data``.

    Returns
    -------
    pathlib.Path
        The directory, resolved (it may not exist yet).

    Examples
    --------
    >>> import os
    >>> "LOBUTILS_DATA_DIR" in os.environ or data_dir() == REPO_ROOT / "data"
    True
    """
    return _from_env(DATA_ENV, REPO_ROOT / "data")


def reports_dir() -> Path:
    """The reports directory: ``$LOBUTILS_REPORTS_DIR`` if set, else ``<repo>/reports``.

    Returns
    -------
    pathlib.Path
        The directory, resolved (it may not exist yet).

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     os.environ["LOBUTILS_REPORTS_DIR"] = tmp
    ...     try:
    ...         same = reports_dir() == Path(tmp).resolve()
    ...     finally:
    ...         del os.environ["LOBUTILS_REPORTS_DIR"]
    >>> same
    True
    """
    return _from_env(REPORTS_ENV, REPO_ROOT / "reports")


def __getattr__(name: str) -> Path:
    # PEP 562: DATA_DIR and REPORTS_DIR follow the environment at the time they are read.
    if name == "DATA_DIR":
        return data_dir()
    if name == "REPORTS_DIR":
        return reports_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def report_dir(chapter_stem: str, path: str | os.PathLike[str] | None = None) -> Path:
    """Create and return the output directory of a chapter.

    Parameters
    ----------
    chapter_stem : str
        The chapter's file stem, e.g. ``"02_lob_reconstruction"``.
    path : str or path-like, optional
        An explicit directory (a chapter's ``REPORT_DIR`` parameter, as injected by tests and
        batch runs). When it is ``None`` the directory is ``reports_dir() / chapter_stem``.

    Returns
    -------
    pathlib.Path
        The directory, created with its parents if needed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = report_dir("02_lob_reconstruction", Path(tmp) / "r")
    ...     made = out.is_dir()
    >>> made
    True

    A chapter's parameters cell sets ``REPORT_DIR = None`` and then calls
    ``report_dir("02_lob_reconstruction", REPORT_DIR)``, which gives
    ``reports/02_lob_reconstruction/`` unless a test or batch run passes another directory.
    """
    if not chapter_stem or any(sep in chapter_stem for sep in ("/", "\\")):
        raise ValueError(
            f"chapter_stem must be a file stem like '02_lob_reconstruction', got {chapter_stem!r}"
        )
    out = Path(path) if path is not None else reports_dir() / chapter_stem
    out.mkdir(parents=True, exist_ok=True)
    return out


def _check_not_local_path(text: str, where: str) -> None:
    # An absolute path that exists here is machine-specific; metrics must not carry it.
    if len(text) < 4096 and os.path.isabs(text) and os.path.exists(text):
        raise ValueError(
            f"metrics value at {where} is an absolute local path ({text!r}); "
            "write a path relative to the repository (or just the file name) instead"
        )


def to_jsonable(value: Any, _where: str = "$") -> Any:
    """Convert a value to plain JSON types (``dict``, ``list``, ``str``, ``int``, ``float``, ...).

    numpy scalars become Python numbers, arrays become nested lists, pandas Series become
    dicts and DataFrames lists of row dicts (a labelled index becomes a column, so that no row
    label is lost), dates become ISO strings, and non-finite floats
    (NaN, inf) become ``None`` (JSON has no NaN). A :class:`pathlib.Path` inside the repository
    becomes a repository-relative POSIX string. An absolute path that exists on this machine
    raises :class:`ValueError`, because it would make the output machine-specific.

    Parameters
    ----------
    value : object
        Any nesting of mappings, sequences, numpy and pandas objects, dates and paths.
    _where : str, optional
        Where ``value`` sits in the outer value (``$.a[0]``), for error messages; internal.

    Returns
    -------
    object
        The same data in ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None``.

    Raises
    ------
    TypeError
        For a value of a type with no JSON form.
    ValueError
        For a path that would make the output machine-specific.

    Examples
    --------
    >>> to_jsonable({"n": np.int64(3), "x": np.float32(0.5), "a": np.arange(3), "bad": np.nan})
    {'n': 3, 'x': 0.5, 'a': [0, 1, 2], 'bad': None}
    >>> to_jsonable(REPO_ROOT / "data" / "README.md")
    'data/README.md'
    >>> to_jsonable({1: (True, np.bool_(False))})
    {'1': [True, False]}
    >>> import pandas as pd
    >>> to_jsonable(pd.DataFrame({"pnl": [1.5]}, index=pd.Index(["spot_btcusdt"], name="segment")))
    [{'segment': 'spot_btcusdt', 'pnl': 1.5}]
    """
    import pandas as pd

    if value is None or isinstance(value, bool | str):
        if isinstance(value, str):
            _check_not_local_path(value, _where)
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, PurePath):
        p = Path(value)
        if not p.is_absolute():
            return p.as_posix()
        try:
            return p.resolve().relative_to(REPO_ROOT).as_posix()
        except ValueError:
            raise ValueError(
                f"metrics value at {_where} is an absolute path outside the repository ({p}); "
                "write a relative path or just the file name"
            ) from None
    if isinstance(value, pd.Timestamp | _dt.datetime | _dt.date | np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, pd.Timedelta | _dt.timedelta | np.timedelta64):
        return pd.Timedelta(value).total_seconds()
    if isinstance(value, np.ndarray):
        return [to_jsonable(v, f"{_where}[{i}]") for i, v in enumerate(value.tolist())]
    if isinstance(value, pd.DataFrame):
        labelled = not isinstance(value.index, pd.RangeIndex) or any(
            n is not None for n in value.index.names
        )
        if labelled and not set(value.index.names) & set(value.columns):
            value = value.reset_index()  # keep the row labels (e.g. the segment) as columns
        return to_jsonable(value.to_dict(orient="records"), _where)
    if isinstance(value, pd.Series):
        return to_jsonable(value.to_dict(), _where)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, f"{_where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [to_jsonable(v, f"{_where}[{i}]") for i, v in enumerate(items)]
    raise TypeError(
        f"metrics value at {_where} has type {type(value).__name__}, not JSON-serialisable"
    )


def write_metrics(report_dir: str | os.PathLike[str], metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Write ``metrics.json`` into a report directory, atomically.

    The values go through :func:`to_jsonable`. The file is written to a temporary file in the
    same directory and moved into place with :func:`os.replace`, so a reader never sees a
    half-written file and a failed write leaves any previous ``metrics.json`` intact.

    Parameters
    ----------
    report_dir : str or path-like
        The chapter's report directory (created if missing).
    metrics : mapping
        The chapter's key numbers. Keys become strings.

    Returns
    -------
    dict
        The metrics as written (plain JSON types). A chapter that ends a cell with
        ``write_metrics(...)`` shows its key numbers, and no machine-specific path.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = write_metrics(tmp, {"applied": np.int64(6495), "gaps": 0})
    ...     back = read_metrics(tmp)
    >>> written
    {'applied': 6495, 'gaps': 0}
    >>> back == written
    True
    """
    if not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a mapping (a dict), got {type(metrics).__name__}")
    plain = to_jsonable(metrics)
    text = json.dumps(plain, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    out_dir = Path(report_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / METRICS_FILE
    # A unique name opened with "x" (not mkstemp, whose 0600 mode would survive os.replace).
    tmp_name = out_dir / f".{METRICS_FILE}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp_name, "x", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        tmp_name.unlink(missing_ok=True)
        raise
    return plain


def read_metrics(report_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``metrics.json`` from a report directory (see :func:`write_metrics`).

    Parameters
    ----------
    report_dir : str or path-like
        The chapter's report directory.

    Returns
    -------
    dict
        The metrics, as :func:`write_metrics` wrote them.
    """
    path = Path(report_dir) / METRICS_FILE
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x")
    >>> _ = open(p, "wb").write(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_frame(frame: pd.DataFrame, out: str | os.PathLike) -> Path:
    """Write a frame to parquet or csv (by extension) atomically: a temp file, then a rename.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; its index is not written.
    out : str or path-like
        The target, ending in ``.parquet`` or ``.csv``; its folder is created if missing.

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    ValueError
        If ``out`` has another extension.

    Examples
    --------
    >>> import tempfile, os
    >>> p = write_frame(pd.DataFrame({"a": [1]}), os.path.join(tempfile.mkdtemp(), "x.csv"))
    >>> p.read_text().split()
    ['a', '1']
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise ValueError(f"--out must end in .parquet or .csv, got {out.name!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    try:
        if suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
