"""Readers that turn raw exchange data into the normalised event schema.

:func:`read_binance_recording` reads Binance combined-stream recordings: gzip or plain text
lines ``<local timestamp> <JSON>``, as written by the book's recorder and by hftbacktest's
collector (the bundled data). It returns a :class:`Recording` holding three typed frames (see
:mod:`lobutils.schema`): depth events, trades and best bid/offer quotes.

How a line is read
------------------
* A byte-level numba kernel (:mod:`lobutils.data._binance_kernels`) parses the common stream messages:
  ``depthUpdate`` diffs (spot ``depth@100ms``/``depth``, futures ``depth@0ms``), ``trade`` and
  ``bookTicker``.
* Everything else goes through :func:`parse_line`, the pure-Python reference parser: the REST
  depth snapshot line (``{"lastUpdateId": ...}``), and any line the kernel declines (unusual
  number formats, missing fields). The test-suite checks that both paths agree.
* Streams the reader does not use (``aggTrade``, ``markPrice``, partial books, ...) are skipped
  and counted by name in :attr:`Recording.stats`.
* Local timestamps may be in ns, µs or ms: the unit is detected per file from the magnitude and
  everything is converted to ns. Exchange times (ms) become ns.

Bad input
---------
Errors name the file and the line. A malformed line raises :class:`RecordingError` unless
``errors="skip"``, which skips and counts it (``stats["malformed"]``, with the first few line
numbers). A gzip file cut mid-write (a killed recorder) is read up to its last complete line,
and the cut is reported (``stats["truncated"]``) with a warning; ``on_truncated="raise"``
makes it an error. An empty file, or a file with lines of several symbols when no ``symbol``
was asked for, raises; with ``symbol=...`` the other symbols' lines are skipped and counted
(``stats["other_symbol"]``).

A value no market sends makes its line malformed (an error naming file and line, or skipped
and counted with ``errors="skip"``): a price that is not > 0, a negative size, a trade size
that is not > 0, or a number that is not finite (the text ``"NaN"``). A size of 0 in a depth
diff is legal (it deletes the level); in a snapshot it is counted
(``stats["zero_size_snapshot_levels"]``) and the level is left out of the book, as a zero size
always is. Repeated trades (a trade id seen before) and repeated quotes are dropped and counted
(``duplicate_trades``, ``duplicate_bbo``); jumps in the consecutive trade ids
(``trade_id_gaps``, ``missing_trade_ids``), exchange times that go back per table
(``ts_backwards``), receive times that go back (``local_ts_backwards``) and crossed quotes
(``crossed_bbo``) are counted. Repeated, missing or crossed depth messages are the book
engine's to judge: :func:`lobutils.book.replay.reconstruct` skips duplicates, marks the book invalid
across a gap and refuses a crossed snapshot, counting each in ``Book.stats``.

Examples
--------
>>> from lobutils.data.catalog import segment
>>> rec = read_binance_recording(segment("usdm_btcusdt").files)
>>> rec.symbol, rec.market
('btcusdt', 'futures')
>>> sorted(rec.depth.columns) == sorted(DEPTH_COLUMNS)
True
>>> int((rec.depth.kind == SNAPSHOT).sum()) > 0  # the REST snapshot's levels
True
"""

from __future__ import annotations

import io as _stdio
import itertools
import math
import os
import re
import warnings
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from lobutils.data import _binance_kernels as K
from lobutils.data.checks import RecordingError, count_backwards, input_paths, locate, note_lines

try:  # zlib-ng inflates about twice as fast as zlib, with the same API
    from zlib_ng import zlib_ng as _zlib
except ImportError:  # pragma: no cover
    _zlib = zlib
from lobutils.schema import (
    ASK,
    BBO_COLUMNS,
    BID,
    DEPTH_COLUMNS,
    DIFF,
    SNAPSHOT,
    TRADE_COLUMNS,
    TS_NA,
)

__all__ = [
    "Recording",
    "RecordingError",
    "read_binance_recording",
    "read_text",
    "parse_line",
    "ParsedLine",
]

_MS = 1_000_000


# --------------------------------------------------------------------------- raw bytes


def read_text(path: str | os.PathLike, on_truncated: str = "warn") -> tuple[bytes, dict]:
    """Read a gzip or plain file, returning its bytes up to the last complete line.

    gzip is recognised by its magic bytes, not the file name. A gzip stream that ends early (a
    recorder killed mid-write) yields what could be decompressed, minus the partial last line;
    ``info["truncated"]`` is then True. A plain file whose last line has no newline counts as cut
    too, since every writer ends its lines. Concatenated gzip members are read in turn.

    Parameters
    ----------
    path
        The file.
    on_truncated
        ``"warn"`` (default), ``"ignore"`` or ``"raise"`` when the file was cut.

    Returns
    -------
    data, info
        The bytes (ending with a newline unless empty) and ``{"truncated": bool,
        "dropped_bytes": int}``.

    Examples
    --------
    >>> import gzip, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.gz")
    >>> full = gzip.compress(b"1 {}\\n2 {}\\n3 {\\"partial")
    >>> _ = open(p, "wb").write(full)
    >>> read_text(p, on_truncated="ignore")
    (b'1 {}\\n2 {}\\n', {'truncated': True, 'dropped_bytes': 11})
    """
    if on_truncated not in ("warn", "ignore", "raise"):
        raise ValueError(f"on_truncated must be 'warn', 'ignore' or 'raise', got {on_truncated!r}")
    path = Path(path)
    raw = path.read_bytes()
    truncated = False
    if raw[:2] == b"\x1f\x8b":
        chunks = []
        rest = raw
        while rest:
            d = _zlib.decompressobj(wbits=31)
            try:
                chunks.append(d.decompress(rest))
            except (zlib.error, _zlib.error) as exc:
                raise RecordingError(f"{path}: corrupt gzip data ({exc})") from exc
            if not d.eof:
                truncated = True
                break
            rest = d.unused_data
            if rest and rest[:2] != b"\x1f\x8b":
                raise RecordingError(f"{path}: trailing garbage after the gzip stream")
        data = b"".join(chunks)
    else:
        data = raw
        _check_text(path, raw)
    dropped = 0
    if data and not data.endswith(b"\n"):
        # every writer ends its lines with a newline: an unterminated last line was cut
        cut = data.rfind(b"\n") + 1
        dropped = len(data) - cut
        data = data[:cut]
        truncated = True
    info = {"truncated": truncated, "dropped_bytes": dropped}
    if truncated:
        msg = (
            f"{path}: file is truncated (cut mid-write?); read up to its last complete line, "
            f"{dropped} bytes of a partial line dropped"
        )
        if on_truncated == "raise":
            raise RecordingError(msg)
        if on_truncated == "warn":
            warnings.warn(msg, stacklevel=2)
    return data, info


def _check_text(path: Path, raw: bytes) -> None:
    """Raise unless a file that is not gzip looks like text (no NUL byte, UTF-8 at its head)."""
    head = raw[:65536]
    try:
        head.decode("utf-8")
        binary = b"\x00" in head
    except UnicodeDecodeError as exc:
        binary = exc.start < len(head) - 4  # a cut multi-byte character at the end is text
    if binary:
        raise RecordingError(
            f"{path}: not a recording: binary data that is neither gzip nor text "
            f"(starts with {raw[:4]!r})"
        )


# --------------------------------------------------------------------------- reference parser


@dataclass
class ParsedLine:
    """One line as the reference parser sees it.

    Parameters
    ----------
    kind
        ``"blank"``, ``"depth"``, ``"snapshot"``, ``"trade"``, ``"bbo"``, ``"other_stream"``,
        ``"other_symbol"`` (``stream`` holds its name) or ``"unknown"`` (valid JSON, no known
        layout).
    local
        The local receive time as written (-1 for a blank line).
    stream
        The combined-stream name, where there is one.
    fields
        The values the schema needs (exchange times still in ms).
    """

    kind: str
    local: int = -1
    stream: str = ""
    fields: dict = field(default_factory=dict)


def _num(x) -> float:
    if isinstance(x, bool):
        raise ValueError(f"expected a number, got {x!r}")
    v = float(x)
    if not math.isfinite(v):  # the text "NaN" or "Infinity", or an overflowing exponent
        raise ValueError(f"expected a finite number, got {x!r}")
    return v


def _price(x) -> float:
    v = _num(x)
    if v <= 0:
        raise ValueError(f"price {x!r} is not > 0")
    return v


def _size(x, zero_ok: bool = True) -> float:
    v = _num(x)
    if v < 0 or (v == 0 and not zero_ok):
        raise ValueError(f"size {x!r} is not {'>=' if zero_ok else '>'} 0")
    return v


def _levels(rows) -> list[tuple[float, float]]:
    out = []
    for row in rows:
        if not isinstance(row, list | tuple) or len(row) < 2:
            raise ValueError(f"a price level must be [price, qty], got {row!r}")
        out.append((_price(row[0]), _size(row[1])))
    return out


def parse_line(line: bytes | str, symbol: str | None = None) -> ParsedLine:
    """Parse one recording line in pure Python (the reference for the numba kernel).

    Raises ``ValueError`` with a short reason for a line that is not ``<int> <JSON object>``,
    whose known message lacks a field, or which holds a value no market sends: a price that is
    not > 0, a negative size, a trade size that is not > 0, or a number that is not finite
    (the text ``"NaN"``). A size of 0 in a diff is legal: it deletes the level.

    Parameters
    ----------
    line
        One line of a recording, ``<local time> <JSON>``.
    symbol
        Lower-case symbol asked for; a stream of another symbol gives kind ``"other_symbol"``
        (None: any).

    Returns
    -------
    ParsedLine

    Examples
    --------
    >>> p = parse_line(b'17 {"stream":"btcusdt@trade","data":{"e":"trade","T":5,"t":9,'
    ...                b'"p":"1.5","q":"2","m":true}}')
    >>> p.kind, p.local, p.fields["price"], p.fields["side"]
    ('trade', 17, 1.5, -1)
    >>> parse_line(b"").kind
    'blank'
    """
    if isinstance(line, str):
        line = line.encode()
    text = line.strip()
    if not text:
        return ParsedLine("blank")
    head, sep, body = text.partition(b" ")
    if not sep or not head.isdigit():
        raise ValueError("line does not start with '<integer timestamp> '")
    local = int(head)
    try:
        msg = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"malformed JSON ({exc})") from None
    if not isinstance(msg, dict):
        raise ValueError("the JSON is not an object")
    if "lastUpdateId" in msg and "bids" in msg and "asks" in msg:
        # COIN-M snapshots name their symbol; spot and USD-M ones do not ("" below)
        snap_sym = str(msg.get("symbol", "")).lower()
        if symbol is not None and snap_sym and snap_sym != symbol:
            return ParsedLine("other_symbol", local, snap_sym)
        return ParsedLine(
            "snapshot",
            local,
            snap_sym,
            fields={
                "last_id": int(msg["lastUpdateId"]),
                "E": int(msg["E"]) if "E" in msg else -1,
                "bids": _levels(msg["bids"]),
                "asks": _levels(msg["asks"]),
            },
        )
    if "stream" not in msg or "data" not in msg or not isinstance(msg["stream"], str):
        return ParsedLine("unknown", local)
    stream = msg["stream"]
    data = msg["data"]
    sym, at, channel = stream.partition("@")
    if not at:
        return ParsedLine("other_stream", local, stream)
    if symbol is not None and sym != symbol:
        return ParsedLine("other_symbol", local, stream)
    if not isinstance(data, dict):
        raise ValueError(f"'data' of stream {stream!r} is not an object")
    try:
        if channel == "depth" or channel.startswith("depth@"):
            return ParsedLine(
                "depth",
                local,
                stream,
                {
                    "E": int(data["E"]),
                    "U": int(data["U"]),
                    "u": int(data["u"]),
                    "pu": int(data["pu"]) if "pu" in data else -1,
                    "bids": _levels(data["b"]),
                    "asks": _levels(data["a"]),
                },
            )
        if channel == "trade":
            if not isinstance(data["m"], bool):
                raise ValueError(f"field 'm' must be true/false, got {data['m']!r}")
            return ParsedLine(
                "trade",
                local,
                stream,
                {
                    "T": int(data["T"]),
                    "trade_id": int(data["t"]),
                    "price": _price(data["p"]),
                    "qty": _size(data["q"], zero_ok=False),
                    "side": -1 if data["m"] else 1,
                },
            )
        if channel == "bookTicker":
            return ParsedLine(
                "bbo",
                local,
                stream,
                {
                    "E": int(data["E"]) if "E" in data else -1,
                    "update_id": int(data["u"]),
                    "bid_px": _price(data["b"]),
                    "bid_qty": _size(data["B"]),
                    "ask_px": _price(data["a"]),
                    "ask_qty": _size(data["A"]),
                },
            )
    except KeyError as exc:
        raise ValueError(f"{stream} message lacks field {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{stream} message has a bad value: {exc}") from None
    return ParsedLine("other_stream", local, stream)


# --------------------------------------------------------------------------- recording


@dataclass
class Recording:
    """A parsed recording of one symbol: depth events, trades and quotes in the event schema.

    Attributes
    ----------
    depth, trades, bbo
        Frames with the columns of :data:`~lobutils.schema.DEPTH_COLUMNS`,
        :data:`~lobutils.schema.TRADE_COLUMNS` and :data:`~lobutils.schema.BBO_COLUMNS`.
        Their ``line`` column is a line number over the concatenated sources (1-based); use
        :meth:`locate` to turn it into a file and a line.
    symbol
        Lower-case symbol of the streams, e.g. ``"btcusdt"``.
    market
        The update-id chain rule of the depth stream, which :func:`lobutils.book.replay.reconstruct`
        follows: ``"spot"`` (diffs chain by ``U == prev_u + 1``), ``"futures"`` (by
        ``pu == prev_u``) or ``"none"`` (no chain: every snapshot replaces the book; Bybit and
        Tardis archives, ccxt polls).
    sources
        The files read, in order.
    line_offsets
        Lines before each source in the global numbering (``line_offsets[k] + 1`` is the first
        line of ``sources[k]``), ending with the total.
    stats
        Counts: lines, messages per kind, skipped streams by name, malformed and blank lines,
        truncation, the detected local-timestamp unit per file, and the checks of the module
        notes (duplicates, trade-id gaps, times that go back, zero sizes in snapshots, crossed
        quotes).
    """

    depth: pd.DataFrame
    trades: pd.DataFrame
    bbo: pd.DataFrame
    symbol: str
    market: str
    sources: tuple[str, ...]
    line_offsets: np.ndarray
    stats: dict

    def locate(self, line: int) -> str:
        """``"file:line"`` for a global line number.

        Parameters
        ----------
        line : int
            A 1-based line number over the concatenated sources (a frame's ``line`` column).

        Returns
        -------
        str
            The file's name and its own line number.

        Examples
        --------
        >>> from lobutils.data.catalog import segment
        >>> rec = read_binance_recording(segment("cm_btcusd_perp").files)
        >>> rec.locate(1), rec.locate(int(rec.line_offsets[1]) + 1)
        ('cm_btcusd_perp_20240808.gz:1', 'cm_btcusd_perp_20240809.gz:1')
        """
        k = int(np.searchsorted(self.line_offsets, line, side="left")) - 1
        k = max(k, 0)
        return f"{Path(self.sources[k]).name}:{line - int(self.line_offsets[k])}"


def _detect_unit(local: np.ndarray, path: Path) -> tuple[int, str]:
    """Scale factor to ns and unit name, from the magnitude of epoch timestamps."""
    lo, hi = int(local.min()), int(local.max())
    for scale, unit, low in ((1, "ns", 10**17), (1_000, "us", 10**14), (1_000_000, "ms", 10**11)):
        if lo >= low:
            if hi >= low * 1000:
                break  # values span more than one unit: mixed units
            return scale, unit
    raise RecordingError(
        f"{path}: local timestamps range {lo}..{hi} is not epoch ns, us or ms throughout"
    )


def _line_bounds(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ends = np.flatnonzero(buf == 10)
    starts = np.empty_like(ends)
    if len(ends):
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    return starts, ends


class _Collector:
    """Rows from the Python path, merged with the kernel's rows by line number afterwards."""

    def __init__(self):
        self.depth: list[tuple] = []
        self.trades: list[tuple] = []
        self.bbo: list[tuple] = []

    def add(self, p: ParsedLine, line: int):
        f = p.fields
        if p.kind in ("depth", "snapshot"):
            levels = [(BID, px, q) for px, q in f["bids"]] + [(ASK, px, q) for px, q in f["asks"]]
            if not levels:
                levels = [(0, np.nan, np.nan)]
            if p.kind == "depth":
                head = (f["E"], p.local, DIFF, f["U"], f["u"], f["pu"])
            else:
                head = (f["E"], p.local, SNAPSHOT, f["last_id"], f["last_id"], -1)
            self.depth += [(*head, s, px, q, line) for s, px, q in levels]
        elif p.kind == "trade":
            self.trades.append(
                (f["T"], p.local, f["trade_id"], f["price"], f["qty"], f["side"], line)
            )
        elif p.kind == "bbo":
            self.bbo.append(
                (
                    f["E"],
                    p.local,
                    f["update_id"],
                    f["bid_px"],
                    f["bid_qty"],
                    f["ask_px"],
                    f["ask_qty"],
                    line,
                )
            )


_STREAM_RE = re.compile(rb'"stream"\s*:\s*"([^"@]*)@')


def _first_symbol(data: bytes) -> str | None:
    """Symbol of the first stream message, e.g. ``btcusdt`` of ``btcusdt@trade``."""
    m = _STREAM_RE.search(data)
    return m.group(1).decode() if m else None


def _read_one(
    path: Path,
    first_line: int,
    symbol: str | None,
    errors: str,
    on_truncated: str,
    stats: dict,
    skipped: Counter,
) -> tuple[dict, dict, dict, str | None]:
    """Parse one file; returns raw column dicts (depth, trades, bbo) and the symbol seen.

    The numba kernel parses the lines it knows; the others (snapshots, odd spellings) go
    through :func:`parse_line` and are merged back by line number.
    """
    data, info = read_text(path, on_truncated=on_truncated)
    if info["truncated"]:
        stats["truncated"].append(path.name)
    buf = np.frombuffer(data, dtype=np.uint8)
    starts, ends = _line_bounds(buf)
    symbol_given = symbol is not None
    if symbol is None:
        symbol = _first_symbol(data)
    sym_arr = np.frombuffer((symbol or "").encode(), dtype=np.uint8)
    lv_cap = int(np.count_nonzero(buf == 91)) + len(starts) + 16
    out = K.parse_lines(buf, starts, ends, sym_arr, len(sym_arr), lv_cap)
    code, local, ints, floats, lv_first, lv_count, span, lv_side, lv_px, lv_qty, nlv = out
    assert nlv >= 0, "level buffer too small"  # lv_cap bounds the number of '[' + markers
    if np.all(code == K.BLANK):
        raise RecordingError(f"{path}: file is empty")
    if symbol_given:
        _check_symbol_present(path, data, symbol)
    n_other_symbol = _other_symbol_lines(path, data, code, span, symbol, symbol_given)
    for r in np.flatnonzero(code == K.OTHER_STREAM):
        skipped[bytes(data[span[r, 0] : span[r, 1]]).decode(errors="replace")] += 1
    py, n_other, anonymous_snapshots = _parse_fallback_lines(
        path,
        data,
        (starts, ends),
        code,
        local,
        first_line,
        (symbol, symbol_given),
        errors,
        stats,
        skipped,
    )
    n_other_symbol += n_other
    if n_other_symbol and anonymous_snapshots:
        raise RecordingError(
            f"{path}:{anonymous_snapshots[0]}: the file mixes symbols, and this depth snapshot does "
            "not say which symbol it belongs to; record one symbol per file"
        )
    stats["other_symbol"] += n_other_symbol
    valid_local = local[(code != K.BLANK) & (local >= 0)]
    if len(valid_local) == 0:
        raise RecordingError(f"{path}: no readable message")
    scale, unit = _detect_unit(valid_local, path)
    stats["local_ts_unit"][path.name] = unit
    stats["blank"] += int(np.count_nonzero(code == K.BLANK))
    stats["lines"] += len(starts)

    lines = np.arange(first_line + 1, first_line + 1 + len(starts), dtype=np.int64)
    depth, trades, bbo = _kernel_columns(
        code, local, ints, floats, lv_count, (lv_side, lv_px, lv_qty), nlv, lines
    )
    if py.depth:
        depth = _merge(depth, _columns(py.depth, "depth"))
    if py.trades:
        trades = _merge(trades, _columns(py.trades, "trades"))
    if py.bbo:
        bbo = _merge(bbo, _columns(py.bbo, "bbo"))
    for d in (depth, trades, bbo):
        d["local"] = d["local"] * scale
    return depth, trades, bbo, symbol


def _check_symbol_present(path: Path, data: bytes, symbol: str) -> None:
    """Raise when a file has stream messages but none of ``symbol`` (a wrong ``symbol=``)."""
    if re.search(rb'"stream"\s*:\s*"' + re.escape(symbol.encode()) + rb"@", data):
        return
    found = sorted({m.group(1).decode() for m in itertools.islice(_STREAM_RE.finditer(data), 1000)})
    if found:
        raise RecordingError(
            f"{path}: no stream of symbol {symbol!r}; the file holds {', '.join(found)}"
        )


def _other_symbol_lines(path, data, code, span, symbol, symbol_given: bool) -> int:
    """Lines the kernel found of another symbol; raises when no symbol was asked for."""
    other_sym = np.flatnonzero(code == K.OTHER_SYMBOL)
    if len(other_sym) and not symbol_given:
        names = sorted(
            {
                bytes(data[span[r, 0] : span[r, 1]]).decode().partition("@")[0]
                for r in other_sym[:1000]
            }
        )
        raise RecordingError(
            f"{path}:{other_sym[0] + 1}: streams of another symbol ({', '.join(names)}) mixed "
            f"with {symbol!r}; pass symbol=... to read one of them"
        )
    return len(other_sym)


def _parse_fallback_lines(
    path, data, bounds, code, local, first_line, symbol_info, errors, stats, skipped
) -> tuple[_Collector, int, list[int]]:
    """Parse the lines the kernel left to Python (``code == FALLBACK``) with :func:`parse_line`.

    Fills ``local`` for them, marks malformed lines blank (``errors="skip"``), counts skipped
    streams; returns their rows, the lines of another symbol, and the depth snapshots that do
    not name their symbol.
    """
    starts, ends = bounds
    symbol, symbol_given = symbol_info
    py = _Collector()
    n_other_symbol = 0
    anonymous_snapshots = []
    for r in np.flatnonzero(code == K.FALLBACK):
        line_no = first_line + int(r) + 1
        raw_line = bytes(data[starts[r] : ends[r]])
        try:
            p = parse_line(raw_line, symbol)
        except ValueError as exc:
            where = f"{path}:{int(r) + 1}"
            if errors == "raise":
                raise RecordingError(f"{where}: {exc}: {raw_line[:120]!r}") from None
            stats["malformed"] += 1
            note_lines(stats, "malformed_lines", [where])
            code[r] = K.BLANK
            continue
        if p.kind == "other_symbol":
            if not symbol_given:
                raise RecordingError(
                    f"{path}:{int(r) + 1}: stream {p.stream!r} is not of symbol {symbol!r}; "
                    "pass symbol=... to read one of several symbols"
                )
            n_other_symbol += 1
            continue
        if p.kind == "snapshot" and not p.stream:
            anonymous_snapshots.append(int(r) + 1)
        if p.kind == "other_stream":
            skipped[p.stream] += 1
        elif p.kind == "unknown":
            skipped["<unknown message>"] += 1
        else:
            local[r] = p.local
            py.add(p, line_no)
    return py, n_other_symbol, anonymous_snapshots


def _kernel_columns(code, local, ints, floats, lv_count, levels, nlv, lines):
    """The kernel's depth, trade and bbo rows as column dicts (levels repeated per message)."""
    lv_side, lv_px, lv_qty = levels
    dm = np.flatnonzero(code == K.DEPTH)
    # the kernel appends the levels of successfully parsed diffs contiguously, in line order
    rep = np.repeat(dm, lv_count[dm])
    lv_idx = np.arange(nlv)
    depth = {
        "E": ints[rep, 0],
        "local": local[rep],
        "kind": np.full(len(rep), DIFF, np.int8),
        "first_id": ints[rep, 2],
        "last_id": ints[rep, 3],
        "prev_id": ints[rep, 4],
        "side": lv_side[lv_idx],
        "price": lv_px[lv_idx],
        "qty": lv_qty[lv_idx],
        "line": lines[rep],
    }
    tm = np.flatnonzero(code == K.TRADE)
    trades = {
        "T": ints[tm, 1],
        "local": local[tm],
        "trade_id": ints[tm, 2],
        "price": floats[tm, 0],
        "qty": floats[tm, 1],
        "side": np.where(ints[tm, 5] == 1, -1, 1).astype(np.int8),
        "line": lines[tm],
    }
    bm = np.flatnonzero(code == K.BBO)
    bbo = {
        "E": ints[bm, 0],
        "local": local[bm],
        "update_id": ints[bm, 3],
        "bid_px": floats[bm, 0],
        "bid_qty": floats[bm, 1],
        "ask_px": floats[bm, 2],
        "ask_qty": floats[bm, 3],
        "line": lines[bm],
    }
    return depth, trades, bbo


def _merge(a: dict, b: dict) -> dict:
    """Concatenate two column dicts and order rows by line (stable: keeps level order)."""
    out = {k: np.concatenate([a[k], b[k].astype(a[k].dtype)]) for k in a}
    order = np.argsort(out["line"], kind="stable")
    return {k: v[order] for k, v in out.items()}


def _ms_to_ns(ms: np.ndarray) -> np.ndarray:
    ms = np.asarray(ms, dtype=np.int64)
    return np.where(ms >= 0, ms * _MS, TS_NA)


_PY_COLS = {
    "depth": [
        "E",
        "local",
        "kind",
        "first_id",
        "last_id",
        "prev_id",
        "side",
        "price",
        "qty",
        "line",
    ],
    "trades": ["T", "local", "trade_id", "price", "qty", "side", "line"],
    "bbo": ["E", "local", "update_id", "bid_px", "bid_qty", "ask_px", "ask_qty", "line"],
}


def _columns(rows: list[tuple], table: str) -> dict[str, np.ndarray]:
    cols = _PY_COLS[table]
    if not rows:
        return {c: np.empty(0) for c in cols}
    return {c: np.array([r[i] for r in rows]) for i, c in enumerate(cols)}


def _build(
    depth: dict,
    trades: dict,
    bbo: dict,
    paths: list[Path],
    offsets: list[int],
    symbol: str,
    stats: dict,
) -> Recording:
    """Assemble the schema frames from raw column dicts (exchange times still in ms)."""
    d = pd.DataFrame(
        {
            "ts": _ms_to_ns(depth["E"]),
            "local_ts": depth["local"],
            "msg": _message_numbers(depth["line"]),
            **{
                k: depth[k]
                for k in ("kind", "first_id", "last_id", "prev_id", "side", "price", "qty", "line")
            },
        }
    ).astype(DEPTH_COLUMNS)
    t = pd.DataFrame(
        {
            "ts": _ms_to_ns(trades["T"]),
            "local_ts": trades["local"],
            **{k: trades[k] for k in _PY_COLS["trades"][2:]},
        }
    ).astype(TRADE_COLUMNS)
    b = pd.DataFrame(
        {
            "ts": _ms_to_ns(bbo["E"]),
            "local_ts": bbo["local"],
            **{k: bbo[k] for k in _PY_COLS["bbo"][2:]},
        }
    ).astype(BBO_COLUMNS)
    kind = d["kind"].to_numpy()
    msg = d["msg"].to_numpy()
    is_diff = kind == DIFF
    prev = d["prev_id"].to_numpy()[is_diff]
    has_pu = bool(len(prev)) and bool((prev >= 0).any())
    if has_pu and not (prev >= 0).all():
        bad = int(d["line"].to_numpy()[is_diff][prev < 0][0])
        raise RecordingError(
            f"{locate(paths, offsets, bad)}: a diff without 'pu' among futures diffs"
        )
    starts = np.r_[True, msg[1:] != msg[:-1]] if len(msg) else np.zeros(0, bool)
    stats["snapshots"] = int(np.count_nonzero(starts & (kind == SNAPSHOT)))
    stats["diffs"] = int(np.count_nonzero(starts & is_diff))
    t, b = _screen_events(d, t, b, starts, paths, offsets, stats)
    stats["trades"] = len(t)
    stats["bbo"] = len(b)
    return Recording(
        depth=d,
        trades=t,
        bbo=b,
        symbol=symbol or "",
        market="futures" if has_pu else "spot",
        sources=tuple(str(p) for p in paths),
        line_offsets=np.asarray(offsets, dtype=np.int64),
        stats=stats,
    )


def _screen_events(d, t, b, starts, paths, offsets, stats) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count (and, for repeated trades and quotes, drop) what a recording should not hold.

    Fills ``stats`` with ``duplicate_trades`` and ``duplicate_bbo`` (dropped: a trade id seen
    before, a quote equal to an earlier one in all but its receive time), ``trade_id_gaps`` and
    ``missing_trade_ids`` (trade ids are consecutive per symbol), ``ts_backwards`` (per table:
    exchange times that go back; depth counts diffs only), ``local_ts_backwards`` (receive times
    that go back over the file's lines), their first locations (``..._first``),
    ``zero_size_snapshot_levels`` (a snapshot lists no empty level: such a level is left out of
    the book, as a zero size always is) and ``crossed_bbo`` (quotes with bid >= ask).
    Returns the trades and quotes without the repeats.
    """
    dup = t["trade_id"].duplicated().to_numpy()
    stats["duplicate_trades"] = int(dup.sum())
    if dup.any():
        t = t[~dup].reset_index(drop=True)
    dup = b.drop(columns=["local_ts", "line"]).duplicated().to_numpy()
    stats["duplicate_bbo"] = int(dup.sum())
    if dup.any():
        b = b[~dup].reset_index(drop=True)
    step = np.diff(t["trade_id"].to_numpy())
    stats["trade_id_gaps"] = int(np.count_nonzero(step > 1))
    stats["missing_trade_ids"] = int(step[step > 1].sum() - stats["trade_id_gaps"])
    first_rows = d[starts]
    tables = {"depth": first_rows[first_rows["kind"] == DIFF], "trades": t, "bbo": b}
    stats["ts_backwards"], firsts = {}, {}
    for name, frame in tables.items():
        n, k = count_backwards(frame["ts"].to_numpy())
        stats["ts_backwards"][name] = n
        if n:
            firsts[name] = locate(paths, offsets, int(frame["line"].iat[k]))
    if firsts:
        stats["ts_backwards_first"] = firsts
    line = np.concatenate(
        [first_rows["line"].to_numpy(), t["line"].to_numpy(), b["line"].to_numpy()]
    )
    local = np.concatenate(
        [first_rows["local_ts"].to_numpy(), t["local_ts"].to_numpy(), b["local_ts"].to_numpy()]
    )
    order = np.argsort(line, kind="stable")
    n, k = count_backwards(local[order])
    stats["local_ts_backwards"] = n
    if n:
        stats["local_ts_backwards_first"] = locate(paths, offsets, int(line[order][k]))
    zero = (d["kind"] == SNAPSHOT) & (d["side"] != 0) & (d["qty"] == 0)
    stats["zero_size_snapshot_levels"] = int(zero.sum())
    stats["crossed_bbo"] = int((b["bid_px"] >= b["ask_px"]).sum())
    return t, b


def _recording_paths(files) -> list[Path]:
    """:func:`input_paths`, with a directory reported as a directory."""
    listed = [files] if isinstance(files, str | os.PathLike) else list(files)
    for f in listed:
        if Path(f).is_dir():
            raise RecordingError(f"{f}: is a directory, not a recording file")
    return input_paths(listed, "recording file")


def read_binance_recording(
    files: str | os.PathLike | Iterable[str | os.PathLike],
    symbol: str | None = None,
    errors: str = "raise",
    on_truncated: str = "warn",
) -> Recording:
    """Read Binance combined-stream recording file(s) of one symbol into the event schema.

    Parameters
    ----------
    files
        One path or several. Several files are one continuous segment, read in the order
        given (e.g. ``..._20240808.gz`` then ``..._20240809.gz``).
    symbol
        Lower-case symbol to read (``"btcusdt"``). Needed only when a file holds several.
    errors
        ``"raise"`` (default): a malformed line raises :class:`RecordingError` naming file and
        line. ``"skip"``: it is skipped and counted in ``stats["malformed"]``.
    on_truncated
        What to do with a gzip file cut mid-write: ``"warn"`` (default), ``"ignore"``,
        ``"raise"``. Its complete lines are always kept.

    Returns
    -------
    Recording

    Examples
    --------
    >>> from lobutils.data.catalog import segment
    >>> rec = read_binance_recording(segment("spot_ethusdt").files)
    >>> rec.market, rec.stats["local_ts_unit"]
    ('spot', {'spot_ethusdt_20240808.gz': 'ns', 'spot_ethusdt_20240809.gz': 'ns'})
    >>> bool(rec.trades.side.isin([-1, 1]).all())
    True
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    paths = _recording_paths(files)
    symbol = symbol.lower() if symbol else None
    given = symbol
    stats: dict = {
        "lines": 0,
        "blank": 0,
        "malformed": 0,
        "malformed_lines": [],
        "truncated": [],
        "other_symbol": 0,
        "local_ts_unit": {},
    }
    skipped: Counter = Counter()
    parts = []
    offsets = [0]
    for p in paths:
        d, t, b, sym = _read_one(p, offsets[-1], given, errors, on_truncated, stats, skipped)
        if not parts:
            symbol = sym
        elif sym != symbol:
            raise RecordingError(
                f"{p}: symbol {sym!r} differs from {symbol!r} of {paths[0]}; "
                "files of one segment must hold one symbol"
            )
        parts.append((d, t, b))
        offsets.append(stats["lines"])
    stats["skipped_streams"] = dict(skipped)
    tables = [
        {k: np.concatenate([part[i][k] for part in parts]) for k in parts[0][i]} for i in range(3)
    ]
    return _build(*tables, paths, offsets, symbol, stats)


def _message_numbers(line: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... for each run of equal line numbers (one message per line)."""
    if len(line) == 0:
        return np.empty(0, np.int64)
    return np.concatenate([[0], np.cumsum(line[1:] != line[:-1])]).astype(np.int64)


def read_recording_python(files, symbol: str | None = None) -> Recording:
    """Read a recording with the pure-Python reference parser only (slow; for tests).

    It produces the same :class:`Recording` frames as :func:`read_binance_recording`, with no
    kernel involved, so comparing the two checks the kernel.
    """
    paths = input_paths(files, "recording file")
    col = _Collector()
    offsets = [0]
    stats: dict = {"local_ts_unit": {}}
    skipped: Counter = Counter()
    for p in paths:
        data, _ = read_text(p, on_truncated="ignore")
        rows = {"depth": [], "trades": [], "bbo": []}
        seen_local: list[int] = []
        n = 0
        for n, raw in enumerate(_stdio.BytesIO(data), start=1):
            parsed = parse_line(raw, symbol)
            if parsed.kind == "blank":
                continue
            if symbol is None and parsed.stream and parsed.kind != "snapshot":
                symbol = parsed.stream.partition("@")[0]
            seen_local.append(parsed.local)
            if parsed.kind in ("other_stream", "unknown"):
                skipped[parsed.stream or "<unknown message>"] += 1
                continue
            if parsed.kind == "other_symbol":
                continue
            one = _Collector()
            one.add(parsed, offsets[-1] + n)
            for table in rows:
                rows[table] += getattr(one, table)
        scale, stats["local_ts_unit"][p.name] = _detect_unit(np.array(seen_local, np.int64), p)
        for table in rows:
            getattr(col, table).extend(r[:1] + (r[1] * scale,) + r[2:] for r in rows[table])
        offsets.append(offsets[-1] + n)
    stats["skipped_streams"] = dict(skipped)
    tables = [_columns(getattr(col, t), t) for t in ("depth", "trades", "bbo")]
    return _build(*tables, paths, offsets, symbol, stats)
