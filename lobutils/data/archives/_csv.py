"""Reading archive CSV files fast, and locating bad lines exactly when the fast path fails.

The fast path is :func:`pandas.read_csv` with fixed dtypes. When it fails (a line with the wrong
number of fields, text in a numeric column, a cut gzip stream) the file is read again with the
standard :mod:`csv` module, line by line, so that the error can name the line, or the line can
be skipped and counted.
"""

from __future__ import annotations

import csv
import gzip
import io as _stdio
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lobutils.data.archives import _common as C
from lobutils.data.binance import RecordingError
from lobutils.data.checks import (
    MAX_LISTED,
)

# column specs: "int", "float" (a number; the text NaN parses, to be judged by the caller),
# "float?" (a number or empty -> NaN; the text NaN is malformed there, since an empty field is
# how the format marks a missing value), "str" (text), "cat" (text of few distinct values, read
# as a categorical), "bool" (true/false, any case; becomes bool), "skip" (not checked), or a
# frozenset of allowed text values (read as a categorical)
_FLOATS = ("float", "float?")

__all__ = ["Table", "category_mask", "category_text", "first_line", "read_table"]


@dataclass
class Table:
    """A parsed CSV: the frame (named columns), the file line of each row, and bad rows.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per data line, the columns named and typed by their specs.
    line : numpy.ndarray of int64
        Per row, its 1-based line in the file.
    bad : numpy.ndarray of bool
        Per row, it failed to parse or holds a value outside its spec.
    bad_reason : dict of int to str
        Row position to why it is bad.
    blank : int
        Blank lines skipped.
    header : list of str or None
        The header's fields, or None when the file has no header line.
    truncated : bool
        True when a cut gzip file was read up to its last complete line (only with
        ``on_truncated`` ``"warn"`` or ``"ignore"``).
    """

    frame: pd.DataFrame
    line: np.ndarray
    bad: np.ndarray
    bad_reason: dict[int, str]
    blank: int
    header: list[str] | None
    truncated: bool = False


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def first_line(data: bytes) -> str:
    """The first line of some bytes, decoded and stripped.

    Parameters
    ----------
    data : bytes
        The start of a file.

    Returns
    -------
    str
        Its first line (all of it without a newline); bytes that are not UTF-8 are replaced.

    Examples
    --------
    >>> first_line(b"a,b\\n1,2\\n")
    'a,b'
    """
    end = data.find(b"\n")
    return (data if end < 0 else data[:end]).decode("utf-8", errors="replace").strip()


def _pandas_dtype(spec):
    if spec == "int":
        return np.int64
    if spec in _FLOATS:
        return np.float64
    if spec == "str":
        return str
    return "category"  # parsed in C, far faster than a column of strings


def category_text(col: pd.Series, lower: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The codes and texts of a categorical column: row ``i`` holds ``texts[codes[i]]``.

    Parameters
    ----------
    col : pandas.Series
        A column (converted to a categorical when it is not one).
    lower : bool
        Give the texts in lower case. pandas reads ``true``/``false`` categories as booleans;
        this gives them as ``"true"``/``"false"``.

    Returns
    -------
    codes : numpy.ndarray of int64
        Per row, an index into ``texts``.
    texts : numpy.ndarray of object
        The categories as text, with an empty text appended for missing values.

    Examples
    --------
    >>> codes, texts = category_text(pd.Series(["buy", None, "sell", "buy"]))
    >>> texts[codes].tolist()
    ['buy', '', 'sell', 'buy']
    """
    if not isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype("category")
    cats = [str(c).lower() if lower else str(c) for c in col.cat.categories]
    texts = np.array([*cats, ""], dtype=object)
    codes = col.cat.codes.to_numpy().astype(np.int64)
    codes[codes < 0] = len(texts) - 1
    return codes, texts


def category_mask(col: pd.Series, wanted) -> np.ndarray:
    """Rows whose (lower-case) text is in ``wanted``.

    Parameters
    ----------
    col : pandas.Series
        A text or categorical column.
    wanted : collection of str
        Lower-case texts to match.

    Returns
    -------
    numpy.ndarray of bool
        True where the row's text is in ``wanted``.

    Examples
    --------
    >>> category_mask(pd.Series(["Buy", "sell", None]), {"buy"}).tolist()
    [True, False, False]
    """
    codes, texts = category_text(col, lower=True)
    return np.array([t in wanted for t in texts], bool)[codes]


def _fast(source, names, specs, header: bool) -> pd.DataFrame:
    last, last_spec = names[-1], specs[-1]
    dtypes = {n: _pandas_dtype(s) for n, s in zip(names, specs, strict=True)}
    if last_spec == "float?":
        # read as text: a short line leaves it missing (NaN) where an empty field gives ""
        dtypes[last] = str
    frame = pd.read_csv(
        source,
        header=0 if header else None,
        names=names,
        dtype=dtypes,
        skip_blank_lines=False,
        keep_default_na=False,
        na_values={
            n: ["", "NaN", "nan"] if s == "float" else [""]
            for n, s in zip(names, specs, strict=True)
            if s in _FLOATS and dtypes[n] is not str
        },
        engine="c",
        on_bad_lines="error",
    )
    for n, s in zip(names, specs, strict=True):
        if s == "float?" and n != last:
            continue
        if s == "float" or s == "int":
            # NaN where a number is required: an empty field, a short line, or the text NaN;
            # the slow path tells them apart
            if s == "float" and frame[n].isna().any():
                raise ValueError(f"column {n!r} has missing numbers")
            continue
        if frame[n].isna().any():  # a short line: fields missing
            raise ValueError(f"column {n!r} has missing fields")
    if last_spec == "float?":
        col = frame[last]
        values = np.asarray(col.where(col != "", "nan").to_numpy(), dtype=np.float64)
        if (np.isnan(values) & (col != "").to_numpy()).any():
            raise ValueError(f"column {last!r} holds the text NaN")  # the slow path names the line
        frame[last] = values
    return frame


def _check_values(frame: pd.DataFrame, names, specs) -> tuple[np.ndarray, dict[int, str]]:
    """Rows whose text fields are not allowed values; bool columns become bool."""
    bad = np.zeros(len(frame), bool)
    reason: dict[int, str] = {}
    for n, s in zip(names, specs, strict=True):
        if s == "bool":
            allowed = ["true", "false"]
        elif isinstance(s, frozenset):
            allowed = sorted(s)
        else:
            continue
        codes, texts = category_text(frame[n], lower=s == "bool")
        ok = np.array([t in allowed for t in texts], bool)[codes]
        if s == "bool":
            frame[n] = np.array([t == "true" for t in texts], bool)[codes]
        for k in np.flatnonzero(~ok & ~bad)[:MAX_LISTED]:
            reason[int(k)] = f"{n} {texts[codes[k]]!r} is not one of {allowed}"
        bad |= ~ok
    return bad, reason


def _slow(data: bytes, names, specs, header: bool, first_lineno: int):
    cols: dict[str, list] = {n: [] for n in names}
    lines: list[int] = []
    bad: list[bool] = []
    reason: dict[int, str] = {}
    blank = 0
    text = data.decode("utf-8", errors="replace").split("\n")
    if text and text[-1] == "":
        text.pop()
    start = 1 if header else 0
    for i, raw in enumerate(text[start:], start=start):
        lineno = first_lineno + i
        if not raw.strip():
            blank += 1
            continue
        fields = next(csv.reader([raw]))
        why = None
        values = []
        if len(fields) != len(names):
            why = f"{len(fields)} fields, expected {len(names)}"
        else:
            for n, s, f in zip(names, specs, fields, strict=True):
                try:
                    if s == "int":
                        values.append(int(f))
                    elif s == "float?" and not f.strip():
                        values.append(np.nan)
                    elif s == "float?" and np.isnan(float(f)):
                        why = f"{n} {f!r} is not a number (an empty field marks a missing value)"
                        break
                    elif s in _FLOATS:
                        values.append(float(f))
                    else:
                        values.append(f)
                except ValueError:
                    why = f"{n} {f!r} is not a number"
                    break
        if why is not None:
            values = [0 if s == "int" else (np.nan if s in _FLOATS else "") for s in specs]
            reason[len(lines)] = why
        for n, v in zip(names, values, strict=True):
            cols[n].append(v)
        lines.append(lineno)
        bad.append(why is not None)
    frame = pd.DataFrame(
        {n: pd.Series(cols[n], dtype=_pandas_dtype(s)) for n, s in zip(names, specs, strict=True)}
    )
    return frame, np.asarray(lines, np.int64), np.asarray(bad, bool), reason, blank


def read_table(
    path: Path,
    names: list[str],
    specs: list,
    *,
    data: bytes | None = None,
    header: bool | None = None,
    errors: str = "raise",
    on_truncated: str = "raise",
    where: str | None = None,
) -> Table:
    """Read a CSV (a file path, plain or gzip, or the bytes of a zip member).

    Parameters
    ----------
    path : pathlib.Path
        The file; with ``data`` given, only named in messages.
    names : list of str
        The column names, in file order.
    specs : list
        Per column, its spec: ``"int"``, ``"float"`` (a number; the text NaN parses, for the
        caller to judge), ``"float?"`` (a number, or empty for NaN), ``"str"``, ``"cat"``
        (text of few distinct values), ``"bool"`` (true/false, any case), ``"skip"`` (not
        checked), or a frozenset of allowed texts.
    data : bytes, optional
        The file's bytes (a zip member) instead of reading ``path``.
    header : bool, optional
        Whether the first line is a header; None detects one (a first field that is not a
        number). A header must have ``len(names)`` fields.
    errors : {"raise", "skip"}
        A row that fails to parse or holds a value outside its spec raises, or is marked
        ``bad`` for the caller to drop and count.
    on_truncated : {"raise", "warn", "ignore"}
        What a gzip file cut mid-stream does (see :func:`lobutils.data.archives._common.read_maybe_gzip`).
    where : str, optional
        The file as messages name it; default the path.

    Returns
    -------
    Table
        The frame, the line of each row, and its bad rows with their reasons.

    Raises
    ------
    lobutils.data.binance.RecordingError
        If the file is empty or has no data row, its header has the wrong number of fields,
        a gzip file is cut (``on_truncated="raise"``), or, with ``errors="raise"``, at the
        first bad row, naming ``where`` and the line.
    """
    where = where or str(path)
    if data is None:
        if path.stat().st_size == 0:
            raise RecordingError(f"{where}: file is empty")
        with open(path, "rb") as fh:
            head = fh.read(2)
        gz = head == b"\x1f\x8b"
        if gz:
            try:
                with gzip.open(path, "rb") as fh:
                    probe = fh.read(1 << 16)
            except (EOFError, OSError, zlib.error) as exc:
                if on_truncated == "raise":
                    raise RecordingError(
                        f"{where}: truncated or corrupt gzip file ({exc})"
                    ) from None
                probe = C.read_maybe_gzip(path, on_truncated)[0][: 1 << 16]
        else:
            with open(path, "rb") as fh:
                probe = fh.read(1 << 16)
    else:
        gz = False
        probe = data[: 1 << 16]
    head_line = first_line(probe)
    if not head_line:
        raise RecordingError(f"{where}: file is empty")
    fields = next(csv.reader([head_line]))
    if header is None:
        header = not _looks_numeric(fields[0])
    if header and len(fields) != len(names):
        raise RecordingError(
            f"{where}:1: header has {len(fields)} columns ({head_line[:200]!r}), expected "
            f"{len(names)}: {', '.join(names)}"
        )
    hdr = fields if header else None
    first_no = 1
    frame = None
    truncated = False
    try:
        source = _stdio.BytesIO(data) if data is not None else path
        frame = _fast(source, names, specs, header)
        line = np.arange(len(frame), dtype=np.int64) + (2 if header else 1)
        blank = 0
        parse_bad = np.zeros(len(frame), bool)
        parse_reason: dict[int, str] = {}
    except (ValueError, pd.errors.ParserError, EOFError, OSError, zlib.error, UnicodeDecodeError):
        if data is None:
            data, info = C.read_maybe_gzip(path, on_truncated) if gz else (path.read_bytes(), {})
            truncated = bool(info.get("truncated"))
            if not gz and data and not data.endswith(b"\n"):
                data += b"\n"
        frame, line, parse_bad, parse_reason, blank = _slow(data, names, specs, header, first_no)
    if len(frame) == 0:
        raise RecordingError(f"{where}: no data rows")
    val_bad, val_reason = _check_values(frame, names, specs)
    bad = parse_bad | val_bad
    reason = {**val_reason, **parse_reason}
    if bad.any() and errors == "raise":
        k = int(np.flatnonzero(bad)[0])
        raise RecordingError(f"{where}:{int(line[k])}: {reason.get(k, 'malformed line')}")
    return Table(frame, line, bad, reason, blank, hdr, truncated)
