"""Bybit historical order books: the daily ``ob200``/``ob500`` archives.

Bybit publishes one zip archive per symbol and day at
``https://quote-saver.bycsi.com/orderbook/<category>/<SYMBOL>/<YYYY-MM-DD>_<SYMBOL>_ob<N>.data.zip``
(``category`` is ``linear``, ``inverse`` or ``spot``; see :func:`lobutils.acquire.download.bybit_url`).
The archive holds one text file, ``<YYYY-MM-DD>_<SYMBOL>_ob<N>.data``, with one JSON message a
line, exactly as the v5 websocket ``orderbook.<N>.<SYMBOL>`` topic pushed it::

    {"topic":"orderbook.200.BTCUSDT","type":"snapshot","ts":1769904001070,
     "data":{"s":"BTCUSDT","b":[["78704.30","2.038"],...],"a":[["78704.40","0.176"],...],
             "u":16165145,"seq":519462036654},"cts":1769904001066}

``type`` is ``snapshot`` (the full book to N levels) or ``delta`` (levels that changed; size
``"0"`` deletes). ``b`` are bids best first, ``a`` asks best first.

How it maps to the event schema
-------------------------------
* One message a line; ``kind`` is :data:`~lobutils.schema.SNAPSHOT` or
  :data:`~lobutils.schema.DIFF`, ``first_id == last_id == u`` and ``prev_id == -1``.
* ``ts`` is the message's ``ts``: the time Bybit's market-data service produced the message,
  the counterpart of Binance's event time ``E`` that the Binance readers use. (``cts``, the
  matching engine's time, is Binance's ``T``; it is absent from older files, and not kept.)
* ``local_ts`` is :data:`~lobutils.schema.TS_NA`: an archive has no receive time, so latency
  cannot be studied on it.
* The recording's ``market`` is ``"none"``: there is no update-id chain to check across a
  snapshot, and every snapshot resets the book, so ``reconstruct(rec)`` replays it with
  ``chain="none"``.

Sync and bad input
------------------
Bybit documents ``u`` as consecutive between messages, and a snapshot with ``u == 1`` after a
service restart, which must overwrite the local book. The reader checks this itself, because
the replay engine's ``chain="none"`` does not:

* a delta with ``u`` at or below the last ``u`` is a duplicate: skipped, counted
  (``stats["duplicates"]``); so is a snapshot older than the last ``u`` (one with ``u == 1``
  is a restart, and resets the book);
* a delta whose ``u`` skips ahead is a gap (``stats["gaps"]``): by default (``on_gap="resync"``)
  the deltas from there to the next snapshot are left out (``stats["dropped_after_gap"]``), so
  that no book is built on a missing update; ``on_gap="raise"`` makes it an error and
  ``"keep"`` applies them anyway (only counted);
* deltas before the first snapshot are left out and counted (``stats["before_first_snapshot"]``);
* a malformed line, a level that is not ``[price, size]``, a price that is not a positive
  number or a size that is negative or NaN raise :class:`~lobutils.data.binance.RecordingError` naming file
  and line; with ``errors="skip"`` the message is dropped, counted (``stats["malformed"]``) and
  treated like a gap;
* a size of 0 deletes a level in a delta; a snapshot lists no empty level, so one there is
  counted (``stats["zero_size_snapshot_levels"]``) and, like any zero size, left out of the
  book;
* a message ``type`` other than snapshot/delta is skipped and counted by name
  (``stats["unknown_types"]``);
* a line of another symbol raises, unless ``symbol=`` was given: then it is skipped and counted
  (``stats["other_symbol"]``);
* timestamps that go backwards are counted (``stats["ts_backwards"]``); ``u`` orders the
  messages, not ``ts``;
* an empty file, or a truncated or corrupt zip, raises. A crossed snapshot is counted by the
  replay (``Book.stats["crossed_snapshots"]``), which then waits for the next snapshot.

Examples
--------
Synthetic lines in the real layout: a snapshot, then a delta that adds a bid and deletes the
best ask.

>>> import json, os, tempfile, zipfile
>>> from lobutils.book.replay import reconstruct
>>> msgs = [
...     {"topic": "orderbook.200.BTCUSDT", "type": "snapshot", "ts": 1700000000000,
...      "data": {"s": "BTCUSDT", "b": [["100.0", "1"]], "a": [["101.0", "2"], ["102.0", "3"]],
...               "u": 7, "seq": 1}, "cts": 1700000000000},
...     {"topic": "orderbook.200.BTCUSDT", "type": "delta", "ts": 1700000000100,
...      "data": {"s": "BTCUSDT", "b": [["100.5", "4"]], "a": [["101.0", "0"]],
...               "u": 8, "seq": 2}, "cts": 1700000000100}]
>>> p = os.path.join(tempfile.mkdtemp(), "2023-11-14_BTCUSDT_ob200.data.zip")
>>> with zipfile.ZipFile(p, "w") as z:
...     z.writestr("2023-11-14_BTCUSDT_ob200.data", "\\n".join(json.dumps(m) for m in msgs))
>>> rec = read_bybit_orderbook(p)
>>> rec.symbol, rec.market, rec.stats["snapshots"], rec.stats["deltas"]
('btcusdt', 'none', 1, 1)
>>> last = reconstruct(rec, levels=2).frame.iloc[-1]
>>> last[["bid_px_1", "bid_px_2", "ask_px_1", "ask_qty_1"]].tolist()
[100.5, 100.0, 102.0, 3.0]
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable
from itertools import chain
from pathlib import Path

import numpy as np
import orjson

from lobutils.data.archives import _common as C
from lobutils.data.archives._bybit_kernels import parse_decimals
from lobutils.data.binance import Recording, RecordingError
from lobutils.data.checks import (
    MAX_LISTED,
    check_choice,
    count_backwards,
    input_paths,
    locate,
    note_lines,
)
from lobutils.schema import DIFF, SNAPSHOT, TS_NA

__all__ = ["read_bybit_orderbook", "BYBIT_FILE_RE"]

BYBIT_FILE_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})_(?P<symbol>[A-Za-z0-9_.-]+?)_ob(?P<depth>\d+)\.data(\.zip)?$"
)
"""File name of a Bybit order-book archive, e.g. ``2024-08-08_BTCUSDT_ob500.data.zip``."""

_CHUNK = 200_000  # levels parsed to floats at a time
_KINDS = {"snapshot": SNAPSHOT, "delta": DIFF}
_KIND_NAMES = set(_KINDS)
_LINES = 4096  # lines a chunk: clean chunks take the fast path


class _Bad(ValueError):
    pass


def _floats(values: list) -> tuple[np.ndarray, np.ndarray]:
    """Parse price/size strings; returns the floats and a mask of unparseable entries."""
    try:
        return np.array(values, dtype=np.float64), np.zeros(len(values), bool)
    except (ValueError, TypeError):
        out = np.empty(len(values), np.float64)
        bad = np.zeros(len(values), bool)
        for i, v in enumerate(values):
            try:
                out[i] = float(v)
            except (ValueError, TypeError):
                out[i] = np.nan
                bad[i] = True
        return out, bad


class _FileParse:
    """The messages of one archive file, as arrays."""

    def __init__(self):
        self.ts: list[int] = []
        self.kind: list[int] = []
        self.u: list[int] = []
        self.line: list[int] = []
        self.bad: list[bool] = []
        self.n_b: list[int] = []
        self.n_a: list[int] = []
        self._px: list = []
        self._qty: list = []
        self.px_parts: list[np.ndarray] = []
        self.qty_parts: list[np.ndarray] = []
        self.unparsed_parts: list[np.ndarray] = []

    def flush(self) -> None:
        if self._px:
            px, b1 = _floats(self._px)
            qty, b2 = _floats(self._qty)
            self.px_parts.append(px)
            self.qty_parts.append(qty)
            self.unparsed_parts.append(b1 | b2)
            self._px, self._qty = [], []

    def add_bad(self, line: int) -> None:
        self.ts.append(TS_NA)
        self.kind.append(DIFF)
        self.u.append(-1)
        self.line.append(line)
        self.bad.append(True)
        self.n_b.append(0)
        self.n_a.append(0)


def _split_levels(rows, name: str) -> tuple[tuple, tuple]:
    if type(rows) is not list:
        raise _Bad(f"'{name}' is not a list of [price, size] levels")
    if not rows:
        return (), ()
    if set(map(type, rows)) != {list} or min(map(len, rows)) < 2:
        raise _Bad(f"a level in '{name}' is not [price, size]")
    cols = list(zip(*rows, strict=False))
    return cols[0], cols[1]


def _lines(fh, size: int = 1 << 24):
    """The lines of a binary file object, in lists, read in large blocks (faster than
    readline)."""
    rest = b""
    first = True
    while chunk := fh.read(size):
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        if first and parts:
            # the first line alone: it is read line by line, and names the symbol
            yield parts[:1]
            del parts[:1]
            first = False
        for i in range(0, len(parts), _LINES):
            yield parts[i : i + _LINES]
    if rest:
        yield [rest]


def _fast_chunk(lines: list, raw_sym: str | None):
    """A chunk of clean lines, parsed with the least work per line, or None.

    Clean means what the line-by-line path would accept as is: JSON objects of type snapshot
    or delta, with integer ``ts`` and ``u``, ``data.s`` equal to ``raw_sym`` (the symbol as
    written, already checked), and ``b`` and ``a`` lists of ``[price, size]`` pairs. Anything
    else (a blank line included) returns None, and the caller reads the chunk line by line.
    Returns ``(kind, ts, u, n_b, n_a, values)``: ``values`` the prices and sizes, in pairs.
    """
    ts: list = []
    kinds: list = []
    us: list = []
    syms: list = []
    n_b: list = []
    n_a: list = []
    values: list = []
    loads = orjson.loads
    flat = chain.from_iterable
    pair = {list}
    two = {2}
    # the level lists are checked and flattened line by line: kept alive for the chunk, they
    # would make the garbage collector walk them again and again
    try:
        for raw in lines:
            msg = loads(raw)
            data = msg["data"]
            kinds.append(msg["type"])
            ts.append(msg["ts"])
            us.append(data["u"])
            syms.append(data["s"])
            b = data["b"]
            a = data["a"]
            levels = b + a  # a list only when both are (str + str is a str)
            if type(levels) is not list:
                return None
            if levels:
                if set(map(type, levels)) != pair or set(map(len, levels)) != two:
                    return None
                values += flat(levels)
            n_b.append(len(b))
            n_a.append(len(a))
        if not set(kinds) <= _KIND_NAMES or set(syms) != {raw_sym}:
            return None
        if set(map(type, ts)) != {int} or set(map(type, us)) != {int}:
            return None
    except Exception:  # anything unusual: the line-by-line path says what it is
        return None
    kind = [SNAPSHOT if k == "snapshot" else DIFF for k in kinds]
    return kind, ts, us, n_b, n_a, values


def _floats_bulk(values: list) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_floats`, with the plain decimal strings parsed in one numba call."""
    n = len(values)
    try:
        buf = "\n".join(values).encode()
    except (TypeError, UnicodeEncodeError):
        return _floats(values)
    out = np.empty(n, np.float64)
    flag = np.empty(n, bool)
    if parse_decimals(np.frombuffer(buf, np.uint8), out, flag) != n:
        return _floats(values)  # a string holding the separator
    if flag.any():
        idx = np.flatnonzero(flag)
        out[idx], bad = _floats([values[i] for i in idx])
        unparsed = np.zeros(n, bool)
        unparsed[idx] = bad
        return out, unparsed
    return out, np.zeros(n, bool)


def _parse_file(
    path: Path,
    first_line: int,
    symbol: str | None,
    errors: str,
    stats: dict,
    unknown: Counter,
) -> tuple[_FileParse, str | None]:
    # Chunks of lines that are clean (the usual case) are parsed by _fast_chunk: orjson and
    # list extends per line, the checks in bulk over the chunk, the level strings converted
    # in one numba call. A chunk with anything unusual in it is read line by line, with every
    # check made per message (the reference behaviour, and the errors' messages).
    out = _FileParse()
    zf, member, fh = C.open_zip_member(path, suffix=".data")
    n = 0
    blank = 0
    raw_sym = None  # data.s as written on a line already accepted
    try:
        with zf, fh:
            for chunk in _lines(fh):
                fast = _fast_chunk(chunk, raw_sym) if raw_sym is not None else None
                if fast is not None:
                    kind, ts, us, n_b, n_a, values = fast
                    out.flush()
                    out.ts += ts
                    out.kind += kind
                    out.u += us
                    out.line += range(first_line + n + 1, first_line + n + 1 + len(chunk))
                    out.bad += [False] * len(chunk)
                    out.n_b += n_b
                    out.n_a += n_a
                    if values:
                        v, unparsed = _floats_bulk(values)
                        out.px_parts.append(v[0::2])
                        out.qty_parts.append(v[1::2])
                        out.unparsed_parts.append(unparsed[0::2] | unparsed[1::2])
                    n += len(chunk)
                    continue
                for raw in chunk:
                    n += 1
                    line = first_line + n
                    if not raw.strip():
                        blank += 1
                        continue
                    try:
                        msg = orjson.loads(raw)
                        if not isinstance(msg, dict):
                            raise _Bad("the line is not a JSON object")
                        typ = msg.get("type")
                        data = msg.get("data")
                        if typ not in _KINDS:
                            if isinstance(typ, str):
                                unknown[typ] += 1
                                continue
                            raise _Bad("message has no 'type'")
                        if not isinstance(data, dict):
                            raise _Bad("message has no 'data' object")
                        sym = data.get("s")
                        if sym is None:
                            topic = msg.get("topic")
                            sym = topic.rsplit(".", 1)[-1] if isinstance(topic, str) else None
                        if not isinstance(sym, str) or not sym:
                            raise _Bad("message names no symbol ('data.s' or 'topic')")
                        sym_as_written = sym
                        sym = sym.lower()
                        if symbol is None:
                            symbol = sym
                        elif sym != symbol:
                            if not stats["_symbol_given"]:
                                raise RecordingError(
                                    f"{path}:{n}: a message of symbol {sym!r} among {symbol!r}; "
                                    "pass symbol=... to read one symbol of several"
                                )
                            stats["other_symbol"] += 1
                            continue
                        ts = msg["ts"]
                        u = data["u"]
                        if isinstance(ts, bool) or not isinstance(ts, int):
                            raise _Bad(f"'ts' is not an integer ({ts!r})")
                        if isinstance(u, bool) or not isinstance(u, int):
                            raise _Bad(f"'u' is not an integer ({u!r})")
                        bpx, bq = _split_levels(data.get("b", []), "b")
                        apx, aq = _split_levels(data.get("a", []), "a")
                    except (orjson.JSONDecodeError, _Bad, KeyError) as exc:
                        reason = (
                            f"field {exc.args[0]!r} missing"
                            if isinstance(exc, KeyError)
                            else (
                                "malformed JSON" if isinstance(exc, orjson.JSONDecodeError) else exc
                            )
                        )
                        if errors == "raise":
                            raise RecordingError(f"{path}:{n}: {reason}: {raw[:120]!r}") from None
                        stats["malformed"] += 1
                        note_lines(stats, "malformed_lines", [f"{path}:{n}"])
                        out.add_bad(line)
                        continue
                    if "s" in data:
                        raw_sym = sym_as_written
                    out.ts.append(ts)
                    out.kind.append(_KINDS[typ])
                    out.u.append(u)
                    out.line.append(line)
                    out.bad.append(False)
                    out.n_b.append(len(bpx))
                    out.n_a.append(len(apx))
                    out._px.extend(bpx)
                    out._px.extend(apx)
                    out._qty.extend(bq)
                    out._qty.extend(aq)
                    if len(out._px) >= _CHUNK:
                        out.flush()
    except (EOFError, OSError, zipfile.BadZipFile, zlib.error) as exc:
        raise RecordingError(f"{path}: truncated or corrupt zip data ({exc})") from None
    out.flush()
    stats["lines"] += n
    stats["blank"] += blank
    if not out.ts and not stats["other_symbol"] and not sum(unknown.values()):
        raise RecordingError(f"{path}: file is empty (no message in {member})")
    return out, symbol


def read_bybit_orderbook(
    files: str | os.PathLike | Iterable[str | os.PathLike],
    symbol: str | None = None,
    errors: str = "raise",
    on_gap: str = "resync",
) -> Recording:
    """Read Bybit ``ob200``/``ob500`` archive(s) of one symbol into the event schema.

    Parameters
    ----------
    files
        One ``YYYY-MM-DD_SYMBOL_obN.data.zip`` or several consecutive days, in order.
    symbol
        Symbol to read (any case). Needed only when a file holds several; other symbols'
        lines are then skipped and counted.
    errors
        ``"raise"`` (default) or ``"skip"`` for malformed lines and invalid levels (see the
        module notes: a skipped message breaks the book until the next snapshot).
    on_gap
        ``"resync"`` (default), ``"raise"`` or ``"keep"``: what to do when ``u`` skips ahead.

    Returns
    -------
    Recording
        ``depth`` filled, ``trades`` and ``bbo`` empty, ``market == "none"``. ``stats`` holds
        ``lines``, ``blank``, ``messages``, ``snapshots``, ``deltas``, ``malformed``,
        ``unknown_types``, ``other_symbol``, ``duplicates``, ``gaps``, ``gap_lines``,
        ``before_first_snapshot``, ``dropped_after_gap``, ``zero_size_snapshot_levels``,
        ``ts_backwards`` and ``depth``
        (the N of ``obN``, from the topic, when seen).
    """
    check_choice("errors", errors, ("raise", "skip"))
    check_choice("on_gap", on_gap, ("resync", "raise", "keep"))
    paths = input_paths(files)
    symbol = symbol.lower() if symbol else None
    stats: dict = {
        "lines": 0,
        "blank": 0,
        "malformed": 0,
        "malformed_lines": [],
        "other_symbol": 0,
        "_symbol_given": symbol is not None,
    }
    unknown: Counter = Counter()
    parts = []
    offsets = [0]
    for p in paths:
        part, sym = _parse_file(p, offsets[-1], symbol, errors, stats, unknown)
        if symbol is None:
            symbol = sym
        parts.append(part)
        offsets.append(stats["lines"])
    del stats["_symbol_given"]
    stats["unknown_types"] = dict(unknown)
    m = _join(parts)
    _check_levels(m, paths, offsets, errors, stats)
    dup, gap = _sequence(m, stats, paths, offsets, on_gap)
    sel = ~dup
    keep_sub, before, after = C.apply_sync(m["kind"][sel], m["bad"][sel], gap[sel])
    keep = np.zeros(len(sel), bool)
    keep[np.flatnonzero(sel)[keep_sub]] = True
    stats["before_first_snapshot"] = int(before.sum())
    stats["dropped_after_gap"] = int(after.sum())
    if not keep.any():
        raise RecordingError(
            f"{paths[0]}: no usable order-book message (snapshots: "
            f"{int((m['kind'] == SNAPSHOT).sum())}, deltas before any snapshot: "
            f"{stats['before_first_snapshot']})"
        )
    depth = _frame(m, keep)
    snap_lv = keep[m["lv_msg"]] & (m["kind"][m["lv_msg"]] == SNAPSHOT)
    stats["zero_size_snapshot_levels"] = int(np.count_nonzero(snap_lv & (m["qty"] == 0)))
    kind = m["kind"][keep]
    stats["messages"] = int(keep.sum())
    stats["snapshots"] = int((kind == SNAPSHOT).sum())
    stats["deltas"] = int((kind == DIFF).sum())
    n_back, first = count_backwards(m["ts"][keep])
    stats["ts_backwards"] = n_back
    if n_back:
        stats["ts_backwards_first"] = locate(paths, offsets, int(m["line"][keep][first]))
    name = BYBIT_FILE_RE.match(paths[0].name)
    if name:
        stats["depth"] = int(name["depth"])
    C.warn_counts(str(paths[0]), stats, ("gaps", "dropped_after_gap", "malformed"))
    return C.recording(
        symbol=symbol or "",
        market=C.NO_CHAIN,
        paths=paths,
        offsets=offsets,
        stats=stats,
        depth=depth,
    )


def _join(parts: list[_FileParse]) -> dict:
    def cat(name, dtype):
        return np.concatenate([np.asarray(getattr(p, name), dtype=dtype) for p in parts])

    m = {
        "ts": cat("ts", np.int64),
        "kind": cat("kind", np.int8),
        "u": cat("u", np.int64),
        "line": cat("line", np.int64),
        "bad": cat("bad", bool),
        "n_b": cat("n_b", np.int64),
        "n_a": cat("n_a", np.int64),
    }

    def parts_of(attr):
        arrs = [a for p in parts for a in getattr(p, attr)]
        return np.concatenate(arrs) if arrs else np.empty(0)

    m["px"] = parts_of("px_parts").astype(np.float64)
    m["qty"] = parts_of("qty_parts").astype(np.float64)
    m["unparsed"] = parts_of("unparsed_parts").astype(bool)
    n = len(m["ts"])
    counts = np.column_stack([m["n_b"], m["n_a"]]).ravel()
    m["lv_msg"] = np.repeat(np.arange(n), m["n_b"] + m["n_a"])
    m["lv_side"] = np.repeat(np.tile(np.array([1, -1], np.int8), n), counts)
    m["ts"] = np.where(m["ts"] == TS_NA, TS_NA, m["ts"] * 1_000_000)
    return m


def _check_levels(m: dict, paths, offsets, errors: str, stats: dict) -> None:
    bad_lv = m["unparsed"] | C.bad_level(m["px"], m["qty"])
    if not bad_lv.any():
        return
    msgs = np.unique(m["lv_msg"][bad_lv])
    if errors == "raise":
        k = int(np.flatnonzero(bad_lv)[0])
        i = int(m["lv_msg"][k])
        raise RecordingError(
            f"{locate(paths, offsets, int(m['line'][i]))}: invalid level price={m['px'][k]} "
            f"size={m['qty'][k]} ({len(msgs)} such messages); prices must be positive numbers "
            "and sizes numbers >= 0"
        )
    stats["malformed"] += len(msgs)
    note_lines(stats, "malformed_lines", (locate(paths, offsets, int(m["line"][i])) for i in msgs))
    m["bad"][msgs] = True


def _sequence(m: dict, stats: dict, paths, offsets, on_gap: str) -> tuple[np.ndarray, np.ndarray]:
    """Duplicates and gaps by Bybit's update id ``u``."""
    n = len(m["u"])
    dup = np.zeros(n, bool)
    gap = np.zeros(n, bool)
    kind = m["kind"].tolist()
    u = m["u"].tolist()
    bad = m["bad"].tolist()
    last = None
    gap_lines = []
    for i in range(n):
        if bad[i]:
            continue
        if kind[i] == SNAPSHOT:
            if last is not None and 1 < u[i] < last:
                dup[i] = True
                continue
            last = u[i]
        elif last is not None:
            if u[i] <= last:
                dup[i] = True
            else:
                if u[i] != last + 1:
                    gap[i] = True
                    if len(gap_lines) < MAX_LISTED:
                        gap_lines.append(
                            f"{locate(paths, offsets, int(m['line'][i]))} (u {last} -> {u[i]})"
                        )
                last = u[i]
    stats["duplicates"] = int(dup.sum())
    stats["gaps"] = int(gap.sum())
    stats["gap_lines"] = gap_lines
    if gap.any() and on_gap == "raise":
        raise RecordingError(
            f"{gap_lines[0]}: update id gap ({int(gap.sum())} gaps in all); pass "
            "on_gap='resync' to drop the deltas up to the next snapshot"
        )
    if on_gap == "keep":
        gap[:] = False
    return dup, gap


def _frame(m: dict, keep: np.ndarray):
    new_index = np.cumsum(keep) - 1
    lv_keep = keep[m["lv_msg"]]
    return C.depth_frame(
        m["ts"][keep],
        np.full(int(keep.sum()), TS_NA, np.int64),
        m["kind"][keep],
        m["u"][keep],
        m["line"][keep],
        new_index[m["lv_msg"][lv_keep]],
        m["lv_side"][lv_keep],
        m["px"][lv_keep],
        m["qty"][lv_keep],
    )
