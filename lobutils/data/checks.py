"""Checks every reader shares: input paths, option values, locations, and rows it rejects.

A reader either stores a row correctly or rejects it. Rejecting follows one policy everywhere
(:func:`reject_rows`): with ``errors="raise"`` the first bad row raises :class:`RecordingError`
naming its file and line; with ``errors="skip"`` the rows are left out, counted in
``stats["malformed"]`` and the first :data:`MAX_LISTED` of them listed, as ``path:line``, in
``stats["malformed_lines"]``.

"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from lobutils.schema import TS_NA

__all__ = [
    "MAX_LISTED",
    "RecordingError",
    "check_choice",
    "count_backwards",
    "input_paths",
    "locate",
    "note_lines",
    "reject_rows",
]

MAX_LISTED = 20
"""How many locations a stats list (``malformed_lines``, ``gap_lines``, ...) keeps."""


class RecordingError(ValueError):
    """Raised for input that cannot be read correctly; the message names file and line."""


def input_paths(
    files: str | os.PathLike | Iterable[str | os.PathLike], what: str = "file"
) -> list[Path]:
    """One path or several, each checked to be an existing file.

    Parameters
    ----------
    files
        A path, or an iterable of paths.
    what
        What a file is, for the error message (``"no such <what>: <path>"``).

    Returns
    -------
    list of pathlib.Path
        The paths, in the order given.

    Examples
    --------
    >>> input_paths([])
    Traceback (most recent call last):
    ...
    ValueError: no file given
    >>> input_paths("/nonexistent.gz", "recording file")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no such recording file: /nonexistent.gz
    >>> input_paths("/", "recording file")
    Traceback (most recent call last):
    ...
    IsADirectoryError: / is a directory, not a recording file
    """
    if isinstance(files, str | os.PathLike):
        files = [files]
    paths = [Path(f) for f in files]
    if not paths:
        raise ValueError("no file given")
    for p in paths:
        if p.is_dir():
            raise IsADirectoryError(f"{p} is a directory, not a {what}")
        if not p.is_file():
            raise FileNotFoundError(f"no such {what}: {p}")
    return paths


def check_choice(name: str, value: str, allowed: Iterable[str]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``.

    Parameters
    ----------
    name
        The option's name, for the message.
    value
        The value given.
    allowed
        The values accepted.

    Returns
    -------
    None

    Examples
    --------
    >>> check_choice("errors", "ignore", ("raise", "skip"))
    Traceback (most recent call last):
    ...
    ValueError: errors must be one of ('raise', 'skip'), got 'ignore'
    """
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def locate(paths: Sequence[str | os.PathLike], offsets: Sequence[int], line: int) -> str:
    """``"path:line"`` of a global line number over files read one after another.

    Parameters
    ----------
    paths
        The files, in reading order.
    offsets
        Lines read before each file (``offsets[0] == 0``).
    line
        The line number counted over all files.

    Returns
    -------
    str
        The file and the line number within it.

    Examples
    --------
    >>> locate(["a.gz", "b.gz"], [0, 100], 103)
    'b.gz:3'
    """
    k = max(int(np.searchsorted(offsets, line, side="left")) - 1, 0)
    return f"{paths[k]}:{line - int(offsets[k])}"


def count_backwards(ts: np.ndarray) -> tuple[int, int]:
    """Steps where ``ts`` decreases (:data:`~lobutils.schema.TS_NA` ignored), and the first one.

    Parameters
    ----------
    ts
        int64 timestamps.

    Returns
    -------
    count, first
        The number of decreasing steps and the index of the row after the first one (-1 if
        none).

    Examples
    --------
    >>> count_backwards(np.array([1, 3, 2, TS_NA, 1, 5]))
    (2, 2)
    """
    ok = np.flatnonzero(ts != TS_NA)
    idx = np.flatnonzero(np.diff(ts[ok]) < 0)
    return len(idx), (int(ok[idx[0] + 1]) if len(idx) else -1)


def note_lines(stats: dict, key: str, where: Iterable[str]) -> None:
    """Append locations to ``stats[key]`` until it holds :data:`MAX_LISTED`.

    Parameters
    ----------
    stats
        A reader's counts.
    key
        The list's key (created empty when missing).
    where
        Locations (``"path:line"``), consumed only as far as needed.

    Returns
    -------
    None
    """
    lst = stats.setdefault(key, [])
    for w in where:
        if len(lst) >= MAX_LISTED:
            break
        lst.append(w)


def reject_rows(
    stats: dict,
    bad: np.ndarray,
    errors: str,
    reason: str,
    *,
    lines: np.ndarray,
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    offsets: Sequence[int] = (0,),
    **values: np.ndarray,
) -> None:
    """Reject rows a reader cannot store: raise naming the first, or count and list them.

    Parameters
    ----------
    stats
        A reader's counts, with ``malformed`` (an int) and ``malformed_lines``.
    bad
        Boolean mask of the rows to reject.
    errors
        ``"raise"``: the first bad row raises :class:`RecordingError`. ``"skip"``: they are
        counted in ``stats["malformed"]`` and listed in ``stats["malformed_lines"]``; the
        caller leaves them out.
    reason
        What is wrong, for the error message; ``{name}`` fields are filled with
        ``values[name]`` at the first bad row.
    lines, paths, offsets
        Row ``i`` is line ``lines[i]`` of the files ``paths`` read one after another (see
        :func:`locate`); one path for one file.
    **values
        Arrays aligned with ``bad``, for ``reason``.

    Returns
    -------
    None

    Examples
    --------
    >>> stats = {"malformed": 0, "malformed_lines": []}
    >>> bad, price = np.array([False, True, True]), np.array([1.0, -2.0, np.nan])
    >>> reject_rows(stats, bad, "skip", "bad price {p}", lines=np.array([2, 3, 4]), paths="x.csv",
    ...             p=price)
    >>> stats
    {'malformed': 2, 'malformed_lines': ['x.csv:3', 'x.csv:4']}
    >>> reject_rows(stats, bad, "raise", "bad price {p}", lines=np.array([2, 3, 4]), paths="x.csv",
    ...             p=price)
    Traceback (most recent call last):
    ...
    lobutils.data.checks.RecordingError: x.csv:3: bad price -2.0
    """
    rows = np.flatnonzero(bad)
    if not len(rows):
        return
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    if errors == "raise":
        k = int(rows[0])
        text = reason.format(**{name: v[k] for name, v in values.items()})
        raise RecordingError(f"{locate(paths, offsets, int(lines[k]))}: {text}")
    stats["malformed"] += len(rows)
    note_lines(stats, "malformed_lines", (locate(paths, offsets, int(lines[i])) for i in rows))
