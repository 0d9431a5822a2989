"""The parquet lake: event tables partitioned by exchange, symbol and UTC day.

Layout (one table kind per top folder, hive-style partitions)::

    <lake>/<kind>/exchange=<exchange>/symbol=<symbol>/date=<YYYY-MM-DD>/
        data.parquet      the rows, in the schema of the kind
        _manifest.json    what the partition holds and where it came from

Kinds (:data:`KINDS`): ``depth``, ``trades``, ``bbo`` (the three tables of a
:class:`~lobutils.data.binance.Recording`, :mod:`lobutils.schema`), ``book`` (book frames, e.g. Tardis
``book_snapshot_25``) and ``book_depth`` (data.vision depth bands,
:data:`lobutils.data.archives.binance_vision.BOOK_DEPTH_COLUMNS`). Exchange names follow Tardis.dev's
ids, which tell markets apart: ``binance`` (spot), ``binance-futures`` (USD-M),
``binance-delivery`` (COIN-M), ``bybit`` (derivatives), ``bybit-spot``. Names are stored in
lower case.

A row's day is the UTC day of its ``ts`` (``local_ts`` where ``ts`` is missing, as for Binance
spot quotes), taken as a running maximum over the source order: a partition is then always one
contiguous run of the source, and a message is never split across days, even where exchange
times step back around midnight.

The manifest records the lake format and writer version, the table kind, exchange, symbol, day
and market (the chain rule, see :class:`~lobutils.data.binance.Recording`), rows and messages, the time
span, the column dtypes, the data file's size and sha256, the source files (names, sizes,
sha256: the only checksum of Bybit and Tardis files), their line offsets (so that ``line``
still locates a row in its source) and the reader's counts of skipped and repaired input.

Atomic writes
-------------
A partition is written into a hidden sibling folder (``.date=...tmp-<id>``), files flushed to
disk, then renamed into place in one step; a failed write removes it. Readers (these functions,
and ``pyarrow.dataset``, which skips names starting with ``.`` or ``_``) therefore never see a
half-written partition. Replacing a partition renames the old one away first
(``.date=...old-<id>``) and deletes it only once the new one is in place; a writer killed in
between leaves the old copy, which :func:`restore` (and :func:`clean`, and the next write of that
partition) puts back. :func:`clean` removes the other leftovers of writes that were killed.

Safe replacement
----------------
Every write has a ``write_id`` derived from its content (sources, exchange, symbol and rows), so
a rerun of an interrupted conversion writes the same id and its partitions agree with the ones
the killed run left. Each manifest lists all partitions of its write and their rows
(``write_parts``), which :func:`verify` checks. A partition is never replaced by data from
other source files, nor by fewer rows from another copy of the same files (a truncated one),
unless ``force=True``: such a write raises :class:`LakeConflict` before anything is written.

Examples
--------
>>> import tempfile
>>> from lobutils.data.catalog import segment
>>> from lobutils.data.binance import read_binance_recording
>>> rec = read_binance_recording(segment("usdm_ethusdt").files)
>>> lake = tempfile.mkdtemp()
>>> written = write_recording(lake, "binance-futures", rec)
>>> sorted({w["kind"] for w in written}), sorted({w["date"] for w in written})
(['bbo', 'depth', 'trades'], ['2024-08-08', '2024-08-09'])
>>> back = read(lake, "depth", "binance-futures", "ethusdt")
>>> back.equals(rec.depth)
True
>>> read_recording(lake, "binance-futures", "ethusdt").market
'futures'
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lobutils.data.binance import Recording, RecordingError
from lobutils.schema import BBO_COLUMNS, DEPTH_COLUMNS, TRADE_COLUMNS, TS_NA, empty_frame

__all__ = [
    "KINDS",
    "LAKE_FORMAT",
    "LakeConflict",
    "clean",
    "convert",
    "manifest",
    "partitions",
    "read",
    "read_recording",
    "restore",
    "verify",
    "write_recording",
    "write_table",
]

LAKE_FORMAT = 1
"""Version of the lake layout and manifest; bumped on an incompatible change."""

KINDS = ("depth", "trades", "bbo", "book", "book_depth")
DATA_FILE = "data.parquet"
MANIFEST_FILE = "_manifest.json"

_SCHEMAS = {"depth": DEPTH_COLUMNS, "trades": TRADE_COLUMNS, "bbo": BBO_COLUMNS}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_COUNT_KEYS = (
    "lines",
    "rows",
    "messages",
    "snapshots",
    "diffs",
    "deltas",
    "updates",
    "trades",
    "bbo",
    "malformed",
    "duplicates",
    "gaps",
    "before_first_snapshot",
    "dropped_after_gap",
    "other_symbol",
    "ts_backwards",
    "local_ts_backwards",
    "id_backwards",
    "id_gaps",
    "missing_ids",
    "crossed",
    "unknown_side",
    "non_numeric_ids",
)


class LakeConflict(ValueError):
    """A write would replace partitions with other sources' data or fewer rows (no ``force``)."""


_KILL_ENV = "LOBUTILS_LAKE_KILL_AT"
_hits: dict[str, int] = {}


def _checkpoint(name: str) -> None:
    """Test hook: ``LOBUTILS_LAKE_KILL_AT=<name>:<n>`` SIGKILLs the process the n-th time here."""
    spec = os.environ.get(_KILL_ENV)
    if not spec:
        return
    _hits[name] = _hits.get(name, 0) + 1
    point, _, n = spec.partition(":")
    if point == name and _hits[name] == int(n or 1):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("lobutils")
    except Exception:  # pragma: no cover - running from a source tree that is not installed
        return "unknown"


def _name(value: str, what: str) -> str:
    v = str(value).strip().lower()
    if not _NAME_RE.match(v):
        raise ValueError(
            f"{what} {value!r} cannot name a lake partition (letters, digits, '.', '_', '-')"
        )
    return v


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return kind


# --------------------------------------------------------------------------- time


def _to_ns(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(ts.value)


def _clock(frame: pd.DataFrame) -> tuple[np.ndarray, str]:
    """The per-row time used for days and filters: ``ts``, falling back to ``local_ts``."""
    ts = frame["ts"].to_numpy(np.int64)
    if "local_ts" not in frame.columns:
        return ts, "ts"
    local = frame["local_ts"].to_numpy(np.int64)
    if (ts != TS_NA).all():
        return ts, "ts"
    return np.where(ts != TS_NA, ts, local), "ts, else local_ts"


def _days(clock: np.ndarray, what: str) -> np.ndarray:
    if (clock == TS_NA).any():
        k = int(np.flatnonzero(clock == TS_NA)[0])
        raise ValueError(f"{what}: row {k} has no timestamp at all; it cannot be given a day")
    run = np.maximum.accumulate(clock)
    return run // 86_400_000_000_000


def _iso(ns: int) -> str:
    return pd.Timestamp(int(ns)).isoformat() + "Z"


# --------------------------------------------------------------------------- write


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    from lobutils.paths import sha256_file

    return sha256_file(path)


def _sources_info(sources: Sequence[str], hash_sources: bool) -> list[dict]:
    out = []
    for s in sources:
        p = Path(s)
        item: dict = {"name": p.name, "bytes": None, "sha256": None}
        if p.is_file():
            item["bytes"] = p.stat().st_size
            if hash_sources:
                item["sha256"] = _sha256(p)
        out.append(item)
    return out


def _partition_dir(root: Path, kind: str, exchange: str, symbol: str, day: str) -> Path:
    return root / kind / f"exchange={exchange}" / f"symbol={symbol}" / f"date={day}"


def _write_partition(final: Path, frame: pd.DataFrame, meta: dict) -> dict:
    """Write ``frame`` and its manifest into a hidden folder, then rename it to ``final``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:12]
    tmp = parent / f".{final.name}.tmp-{tag}"
    tmp.mkdir()
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata(
            {
                **(table.schema.metadata or {}),
                b"lobutils.data.lake": json.dumps(
                    {k: meta[k] for k in ("lake_format", "kind", "exchange", "symbol", "date")}
                ).encode(),
            }
        )
        data = tmp / DATA_FILE
        pq.write_table(table, data)
        _fsync_file(data)
        _checkpoint("data")
        meta = {**meta, "data_file": DATA_FILE, "data_bytes": data.stat().st_size}
        meta["data_sha256"] = _sha256(data)
        man = tmp / MANIFEST_FILE
        man.write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        _fsync_file(man)
        _checkpoint("ready")
        if final.exists():
            old = parent / f".{final.name}.old-{tag}"
            os.rename(final, old)
            _checkpoint("swap")  # killed here: the old copy is kept, and restore() puts it back
            os.rename(tmp, final)
            _fsync_dir(parent)
            _checkpoint("swapped")
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
            _fsync_dir(parent)
        _checkpoint("written")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta


def _write_id(exchange: str, symbol: str, src: list[dict], line_offsets, frames) -> str:
    """A write's id, derived from what it writes: a rerun of the same input gets the same id."""
    h = hashlib.sha256()
    h.update(json.dumps([exchange, symbol, src, line_offsets], default=str).encode())
    for kind, frame in frames:
        h.update(kind.encode())
        h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()[:32]


def _check_frame(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    if kind in _SCHEMAS:
        want = _SCHEMAS[kind]
        if list(frame.columns) != list(want):
            raise ValueError(
                f"a {kind} frame needs columns {list(want)}, got {list(frame.columns)}"
            )
        frame = frame.astype(want)
    return frame


def _plan_table(root, kind, exchange, symbol, frame, market, src, line_offsets, counts, write_id):
    """The partitions one table splits into: ``[(folder, rows, manifest), ...]``."""
    if len(frame) == 0:
        return []
    clock, clock_name = _clock(frame)
    day_num = _days(clock, f"{kind} of {exchange}/{symbol}")
    cuts = np.flatnonzero(np.diff(day_num)) + 1
    bounds = np.r_[0, cuts, len(frame)]
    plans = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        day = (_dt.date(1970, 1, 1) + _dt.timedelta(days=int(day_num[a]))).isoformat()
        part = frame.iloc[a:b].reset_index(drop=True)
        c = clock[a:b]
        valid = c[c != TS_NA]
        meta = {
            "lake_format": LAKE_FORMAT,
            "writer": "lobutils.data.lake",
            "writer_version": _version(),
            "written_utc": _dt.datetime.now(_dt.UTC).replace(tzinfo=None).isoformat() + "Z",
            "write_id": write_id,
            "kind": kind,
            "exchange": exchange,
            "symbol": symbol,
            "date": day,
            "market": market,
            "rows": len(part),
            "messages": int(part["msg"].nunique()) if kind == "depth" else None,
            "clock": clock_name,
            "ts_min": int(valid.min()),
            "ts_max": int(valid.max()),
            "ts_min_utc": _iso(valid.min()),
            "ts_max_utc": _iso(valid.max()),
            "columns": {c_: str(t) for c_, t in part.dtypes.items()},
            "sources": src,
            "line_offsets": [int(x) for x in line_offsets] if line_offsets is not None else None,
            "reader_stats": counts,
        }
        plans.append((_partition_dir(root, kind, exchange, symbol, day), part, meta))
    return plans


def _conflict(old: dict, new: dict) -> str | None:
    """Why ``new`` may not replace ``old`` without ``force`` (None: it may)."""
    if old.get("write_id") == new["write_id"]:
        return None  # the same data again (a rerun)
    names_old = sorted(s["name"] for s in old.get("sources") or [])
    names_new = sorted(s["name"] for s in new.get("sources") or [])
    if names_old != names_new:
        return f"it holds data from {names_old or 'no named source'}, not {names_new}"
    if new["rows"] < old["rows"]:
        return (
            f"it holds {old['rows']:,} rows of {names_old or 'these sources'}; this copy gives "
            f"only {new['rows']:,} (truncated?)"
        )
    return None


def _commit(plans: list, mode: str, force: bool) -> list[dict]:
    """Check every planned partition against the lake, then write them (nothing on a refusal)."""
    if mode not in ("overwrite", "skip", "error"):
        raise ValueError(f"mode must be 'overwrite', 'skip' or 'error', got {mode!r}")
    todo, out, conflicts = [], [], []
    for final, frame, meta in plans:
        _restore_one(final)
        if final.exists():
            if mode == "skip":
                out.append(
                    {"status": "skipped", "kind": meta["kind"], "date": meta["date"],
                     "path": str(final)}
                )  # fmt: skip
                continue
            if mode == "error":
                raise FileExistsError(f"lake partition {final} exists (mode='error')")
            why = None if force else _conflict(manifest(final), meta)
            if why:
                conflicts.append(f"{final}: {why}")
        todo.append((final, frame, meta))
    if conflicts:
        more = f" (and {len(conflicts) - 3} more)" if len(conflicts) > 3 else ""
        raise LakeConflict(
            f"refusing to replace {len(conflicts)} lake partition(s): {'; '.join(conflicts[:3])}"
            f"{more}; pass force=True (--force) to replace them"
        )
    for final, frame, meta in todo:
        meta = _write_partition(final, frame, meta)
        out.append({"status": "written", "path": str(final), **meta})
    return out


def _plan_write(root, exchange, symbol, tables, market, sources, line_offsets, stats, hash_sources,
                src=None):  # fmt: skip
    exchange, symbol = _name(exchange, "exchange"), _name(symbol, "symbol")
    tables = [(kind, _check_frame(_kind(kind), frame)) for kind, frame in tables]
    src = src if src is not None else _sources_info(sources, hash_sources)
    counts = {
        k: int(v)
        for k, v in (stats or {}).items()
        if k in _COUNT_KEYS and isinstance(v, int | np.integer)
    }
    lo = [int(x) for x in line_offsets] if line_offsets is not None else None
    wid = _write_id(exchange, symbol, src, lo, tables)
    plans = []
    for kind, frame in tables:
        plans += _plan_table(
            Path(root), kind, exchange, symbol, frame, market, src, lo, counts, wid
        )
    parts = {f"{m['kind']}/{m['date']}": m["rows"] for _, _, m in plans}
    for _, _, meta in plans:
        meta["write_parts"] = parts
    return plans


def write_table(
    lake_root: str | os.PathLike,
    kind: str,
    exchange: str,
    symbol: str,
    frame: pd.DataFrame,
    *,
    market: str | None = None,
    sources: Sequence[str] = (),
    line_offsets: Sequence[int] | None = None,
    stats: dict | None = None,
    mode: str = "overwrite",
    force: bool = False,
    hash_sources: bool = True,
) -> list[dict]:
    """Write one table into the lake, one partition per UTC day.

    Parameters
    ----------
    lake_root
        The lake's root folder (created if needed).
    kind
        One of :data:`KINDS`. ``depth``/``trades``/``bbo`` frames must have exactly the schema's
        columns; ``book`` frames the book-frame layout.
    exchange, symbol
        Partition names (stored in lower case).
    frame
        The rows, in source order.
    market
        The chain rule of depth (``"spot"``, ``"futures"``, ``"none"``), kept for
        :func:`read_recording`.
    sources, line_offsets
        The source files and the global line number where each starts (as in
        :class:`~lobutils.data.binance.Recording`). Only file names, sizes and sha256 are stored.
    stats
        Reader counts; the scalar ones are stored in the manifest.
    mode
        ``"overwrite"`` (replace an existing partition), ``"skip"`` (keep it) or ``"error"``.
    force
        Replace partitions even with data from other sources or with fewer rows of the same
        sources (otherwise :class:`LakeConflict` is raised and nothing is written).
    hash_sources
        Store the sha256 of every source file.

    Returns
    -------
    list of dict
        The manifests written (or, for skipped partitions, ``{"status": "skipped", ...}``).
    """
    if mode not in ("overwrite", "skip", "error"):
        raise ValueError(f"mode must be 'overwrite', 'skip' or 'error', got {mode!r}")
    plans = _plan_write(
        lake_root, exchange, symbol, [(kind, frame)], market, sources, line_offsets, stats,
        hash_sources,
    )  # fmt: skip
    return _commit(plans, mode, force)


def _plan_recording(lake_root, exchange: str, recording: Recording, hash_sources: bool = True):
    return _plan_write(
        lake_root, exchange, recording.symbol,
        [(k, getattr(recording, k)) for k in ("depth", "trades", "bbo")],
        recording.market, recording.sources, recording.line_offsets.tolist(), recording.stats,
        hash_sources,
    )  # fmt: skip


def write_recording(
    lake_root: str | os.PathLike,
    exchange: str,
    recording: Recording,
    *,
    mode: str = "overwrite",
    force: bool = False,
    hash_sources: bool = True,
) -> list[dict]:
    """Write a :class:`~lobutils.data.binance.Recording`'s depth, trades and bbo tables into the lake.

    Parameters
    ----------
    lake_root
        The lake.
    exchange
        Partition exchange name.
    recording
        What to write; empty tables write nothing.
    mode, force, hash_sources
        As for :func:`write_table`; all partitions are checked before any is written.

    Returns
    -------
    list of dict
        The manifests written (see :func:`write_table`).
    """
    if mode not in ("overwrite", "skip", "error"):
        raise ValueError(f"mode must be 'overwrite', 'skip' or 'error', got {mode!r}")
    return _commit(_plan_recording(lake_root, exchange, recording, hash_sources), mode, force)


# --------------------------------------------------------------------------- read


def manifest(partition: str | os.PathLike) -> dict:
    """The manifest of one partition folder.

    Parameters
    ----------
    partition : str or path-like
        A partition folder, ``<lake>/<kind>/exchange=.../symbol=.../date=...``.

    Returns
    -------
    dict
        The parsed ``_manifest.json`` (format, kind, exchange, symbol, date, market, rows, time
        span in int64 ns, dtypes, data file checksum, sources and the reader's counts).

    Raises
    ------
    FileNotFoundError
        If the folder has no manifest (not a partition, or a write that did not finish).
    """
    p = Path(partition) / MANIFEST_FILE
    if not p.is_file():
        raise FileNotFoundError(f"{partition}: not a lake partition (no {MANIFEST_FILE})")
    return json.loads(p.read_text(encoding="utf-8"))


def partitions(
    lake_root: str | os.PathLike,
    kind: str | None = None,
    exchange: str | None = None,
    symbol: str | None = None,
) -> pd.DataFrame:
    """The partitions of a lake, sorted by kind, exchange, symbol and day.

    Folders of interrupted writes (hidden names) are not listed.

    Parameters
    ----------
    lake_root : str or path-like
        The lake.
    kind : str, optional
        One of :data:`KINDS`; all kinds when left out.
    exchange, symbol : str, optional
        Keep only this exchange or symbol (case-insensitive); all when left out.

    Returns
    -------
    pandas.DataFrame
        One row per partition: ``kind``, ``exchange``, ``symbol``, ``date`` (``YYYY-MM-DD``),
        ``rows`` (from the manifest) and ``path`` (the folder).

    Raises
    ------
    ValueError
        If ``kind`` is not one of :data:`KINDS`.
    FileNotFoundError
        If a partition folder has no manifest.
    """
    root = Path(lake_root)
    kinds = [_kind(kind)] if kind else list(KINDS)
    rows = []
    for k in kinds:
        for d in sorted((root / k).glob("exchange=*/symbol=*/date=*")):
            ex = d.parent.parent.name.partition("=")[2]
            sy = d.parent.name.partition("=")[2]
            if exchange and ex != exchange.lower():
                continue
            if symbol and sy != symbol.lower():
                continue
            m = manifest(d)
            rows.append(
                {
                    "kind": k,
                    "exchange": ex,
                    "symbol": sy,
                    "date": d.name.partition("=")[2],
                    "rows": m["rows"],
                    "path": str(d),
                }
            )
    cols = ["kind", "exchange", "symbol", "date", "rows", "path"]
    return pd.DataFrame(rows, columns=cols)


def _day_bounds(start, end) -> tuple[int | None, int | None, str | None, str | None]:
    s, e = _to_ns(start), _to_ns(end)
    day = 86_400_000_000_000
    d0 = None if s is None else (_dt.date(1970, 1, 1) + _dt.timedelta(days=s // day)).isoformat()
    d1 = (
        None
        if e is None
        else (_dt.date(1970, 1, 1) + _dt.timedelta(days=(e - 1) // day)).isoformat()
    )
    return s, e, d0, d1


def _read_parts(lake_root, kind, exchange, symbol, start, end):
    kind = _kind(kind)
    parts = partitions(lake_root, kind, exchange, symbol)
    pairs = sorted(set(zip(parts["exchange"], parts["symbol"], strict=True)))
    if len(pairs) > 1:
        raise ValueError(
            f"{len(pairs)} exchange/symbol pairs match in the lake's {kind} "
            f"({', '.join(f'{a}/{b}' for a, b in pairs[:10])}); name one"
        )
    s, e, d0, d1 = _day_bounds(start, end)
    if d0:
        parts = parts[parts["date"] >= d0]
    if d1:
        parts = parts[parts["date"] <= d1]
    frames, metas = [], []
    for path in parts["path"]:
        m = manifest(path)
        f = pd.read_parquet(Path(path) / DATA_FILE)
        if len(f) != m["rows"]:
            raise RecordingError(f"{path}: {len(f)} rows, the manifest says {m['rows']}")
        frames.append(f)
        metas.append(m)
    return kind, frames, metas, s, e


def _line_offsets_by_write(metas: list[dict]) -> tuple[dict, list[str], list[int]]:
    """Per write id: the offset added to its lines; and the joint sources and line offsets.

    Each :func:`write_recording` call numbers lines over its own sources from 1; reading
    several writes back shifts each write's lines past the previous writes' sources.
    """
    shift: dict[str, int] = {}
    sources: list[str] = []
    offsets: list[int] = [0]
    for m in metas:
        wid = _write_key(m)
        if wid in shift:
            continue
        shift[wid] = offsets[-1]
        srcs = m.get("sources") or []
        lo = m.get("line_offsets")
        if lo is None or len(lo) != len(srcs) + 1:
            lo = [0] * (len(srcs) + 1)
        base = offsets[-1]
        for i, src in enumerate(srcs):
            sources.append(src["name"])
            offsets.append(base + int(lo[i + 1]))
    return shift, sources, offsets


def _write_key(m: dict) -> str:
    return m.get("write_id") or f"{m['kind']}/{m['date']}"


def read(
    lake_root: str | os.PathLike,
    kind: str,
    exchange: str | None = None,
    symbol: str | None = None,
    start=None,
    end=None,
) -> pd.DataFrame:
    """Read one table of one exchange and symbol from the lake, in time order.

    Parameters
    ----------
    lake_root : str or path-like
        The lake.
    kind : str
        One of :data:`KINDS`.
    exchange, symbol : str, optional
        Which partitions; may be left out when only one pair is in the lake for ``kind``.
    start, end : int, str or pandas.Timestamp, optional
        Optional time range ``[start, end)``: anything :class:`pandas.Timestamp` takes (naive
        means UTC) or int64 ns since the epoch. Rows are selected by ``ts`` (``local_ts`` where
        ``ts`` is missing).

    Returns
    -------
    pandas.DataFrame
        The schema's columns and dtypes. For ``depth``, ``msg`` is renumbered 0, 1, 2, ... over
        the result (the same numbers as the source when a whole recording is read); ``line``
        numbers are shifted so that they follow one another across separately written
        recordings, as :func:`read_recording`'s ``sources`` list them.

    Raises
    ------
    ValueError
        If ``kind`` is unknown, or several exchange/symbol pairs match.
    lobutils.data.binance.RecordingError
        If a data file's row count differs from its manifest's.
    """
    return _read(lake_root, kind, exchange, symbol, start, end, None)


def _read(lake_root, kind, exchange, symbol, start, end, shift) -> pd.DataFrame:
    kind, frames, metas, s, e = _read_parts(lake_root, kind, exchange, symbol, start, end)
    if not frames:
        if kind in _SCHEMAS:
            return empty_frame(_SCHEMAS[kind])
        return pd.DataFrame()
    if shift is None:
        shift, _, _ = _line_offsets_by_write(metas)
    if "line" in frames[0].columns:
        for f, m in zip(frames, metas, strict=True):
            add = shift.get(_write_key(m), 0)
            if add:
                f["line"] = f["line"] + add
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if kind == "depth":
        msg = out["msg"].to_numpy()
        part = np.repeat(np.arange(len(frames)), [len(f) for f in frames])
        new = np.ones(len(out), bool)
        new[1:] = (msg[1:] != msg[:-1]) | (part[1:] != part[:-1])
        out["msg"] = np.cumsum(new) - 1
    if s is not None or e is not None:
        clock, _ = _clock(out)
        keep = np.ones(len(out), bool)
        if s is not None:
            keep &= clock >= s
        if e is not None:
            keep &= clock < e
        if not keep.all():
            out = out[keep].reset_index(drop=True)
            if kind == "depth":
                msg = out["msg"].to_numpy()
                out["msg"] = (
                    np.concatenate([[0], np.cumsum(msg[1:] != msg[:-1])]) if len(msg) else msg
                )
    if kind in _SCHEMAS:
        out = out.astype(_SCHEMAS[kind])
    return out.reset_index(drop=True)


def read_recording(
    lake_root: str | os.PathLike,
    exchange: str | None = None,
    symbol: str | None = None,
    start=None,
    end=None,
) -> Recording:
    """Read depth, trades and bbo of one exchange and symbol back into a Recording.

    Parameters
    ----------
    lake_root : str or path-like
        The lake.
    exchange, symbol : str, optional
        Which partitions; may be left out when the lake holds one pair only.
    start, end : int, str or pandas.Timestamp, optional
        Time range ``[start, end)`` as in :func:`read` (int64 ns, or naive means UTC).

    Returns
    -------
    lobutils.data.binance.Recording
        ``market`` comes from the manifests (so :func:`lobutils.book.replay.reconstruct`
        applies the same chain rule as on the source); ``sources`` are the source file names,
        and ``locate`` works on the ``line`` column as on the source. ``stats`` names the lake,
        the exchange and the number of partitions read.

    Raises
    ------
    LookupError
        If no depth, trades or bbo partition matches.
    ValueError
        If several exchange/symbol pairs match, or the manifests disagree on the market.
    """
    metas_all = []
    for kind in ("depth", "trades", "bbo"):
        parts = partitions(lake_root, kind, exchange, symbol)
        metas_all += [manifest(p) for p in parts["path"]]
    if not metas_all:
        raise LookupError(
            f"no depth, trades or bbo partition for {exchange}/{symbol} in {lake_root}"
        )
    pairs = {(m["exchange"], m["symbol"]) for m in metas_all}
    if len(pairs) > 1:
        raise ValueError(f"several exchange/symbol pairs match: {sorted(pairs)}; name one")
    markets = {m["market"] for m in metas_all if m.get("market")}
    if len(markets) > 1:
        raise ValueError(f"partitions disagree on the market: {sorted(markets)}")
    metas_all.sort(key=lambda m: (m["date"], KINDS.index(m["kind"])))
    shift, sources, offsets = _line_offsets_by_write(metas_all)
    ((ex, sym),) = pairs
    tables = {
        kind: _read(lake_root, kind, ex, sym, start, end, shift)
        for kind in ("depth", "trades", "bbo")
    }
    return Recording(
        depth=tables["depth"],
        trades=tables["trades"],
        bbo=tables["bbo"],
        symbol=sym,
        market=markets.pop() if markets else "",
        sources=tuple(sources),
        line_offsets=np.asarray(offsets, dtype=np.int64),
        stats={"lake": str(lake_root), "exchange": ex, "partitions": len(metas_all)},
    )


def verify(lake_root: str | os.PathLike) -> list[str]:
    """Check the lake: every data file against its manifest, and every write's partitions.

    Each partition's data file must have the manifest's size, sha256 and row count. The
    partitions of one write (one ``write_id``) must agree: each manifest of the write lists the
    same partitions (``write_parts``), and each of those holds that write with those rows (a
    rerun that mixed two writes, or a partition replaced on its own, shows up here).

    Parameters
    ----------
    lake_root
        The lake.

    Returns
    -------
    list of str
        The problems found, one line each (an empty list for a sound lake).
    """
    import pyarrow.parquet as pq

    problems = []
    parts = partitions(lake_root)
    metas = {}
    for k, path in zip(parts["kind"], parts["path"], strict=True):
        m = manifest(path)
        metas[(k, m["exchange"], m["symbol"], m["date"])] = m
        data = Path(path) / m.get("data_file", DATA_FILE)
        if not data.is_file():
            problems.append(f"{path}: {data.name} is missing")
            continue
        if data.stat().st_size != m["data_bytes"] or _sha256(data) != m["data_sha256"]:
            problems.append(f"{path}: {data.name} does not match its manifest's sha256")
            continue
        rows = pq.ParquetFile(data).metadata.num_rows
        if rows != m["rows"]:
            problems.append(f"{path}: {rows} rows, the manifest says {m['rows']}")
    by_write: dict[str, list[dict]] = {}
    for m in metas.values():
        if m.get("write_parts") is not None:
            by_write.setdefault(m["write_id"], []).append(m)
    for wid, ms in sorted(by_write.items()):
        listed = ms[0]["write_parts"]
        if any(m["write_parts"] != listed for m in ms[1:]):
            problems.append(f"write {wid}: its partitions list different partitions of it")
        ex, sym = ms[0]["exchange"], ms[0]["symbol"]
        for key, rows in sorted(listed.items()):
            kind, _, day = key.partition("/")
            m = metas.get((kind, ex, sym, day))
            where = f"{kind}/exchange={ex}/symbol={sym}/date={day}"
            if m is None:
                problems.append(f"write {wid}: partition {where} ({rows} rows) is missing")
            elif m.get("write_id") != wid:
                problems.append(
                    f"write {wid}: partition {where} holds another write ({m.get('write_id')})"
                )
            elif m["rows"] != rows:
                problems.append(f"write {wid}: {where} has {m['rows']} rows, the write {rows}")
    return problems


_LEFTOVER_RE = re.compile(r"^\.(?P<name>date=[^/]+?)\.(?P<what>tmp|old)-[0-9a-f]+$")


def _restore_one(final: Path) -> str | None:
    """Put back the old copy of ``final`` if a writer was killed between its two renames."""
    if final.exists() or not final.parent.is_dir():
        return None
    olds = sorted(final.parent.glob(f".{final.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if not olds:
        return None
    os.rename(olds[-1], final)
    return str(final)


def restore(lake_root: str | os.PathLike) -> list[str]:
    """Put back partitions whose replacement was killed between its two renames.

    Parameters
    ----------
    lake_root
        The lake.

    Returns
    -------
    list of str
        The partitions restored (their old copy is in place again).
    """
    restored = []
    for k in KINDS:
        for d in sorted(Path(lake_root, k).glob("exchange=*/symbol=*/.date=*")):
            m = _LEFTOVER_RE.match(d.name)
            if m and m["what"] == "old":
                done = _restore_one(d.parent / m["name"])
                if done:
                    restored.append(done)
    return restored


def clean(lake_root: str | os.PathLike) -> list[str]:
    """Restore interrupted replacements, then remove the hidden folders of killed writes.

    Partitions whose replacement was cut between its two renames get their old copy back
    (:func:`restore`); the remaining ``.date=*.tmp-*`` and ``.date=*.old-*`` folders are removed.
    Do not run it while another process writes to the lake.

    Parameters
    ----------
    lake_root
        The lake.

    Returns
    -------
    list of str
        The removed paths.
    """
    restore(lake_root)
    removed = []
    for k in KINDS:
        for d in Path(lake_root, k).glob("exchange=*/symbol=*/.date=*"):
            if _LEFTOVER_RE.match(d.name):
                shutil.rmtree(d, ignore_errors=True)
                removed.append(str(d))
    return removed


# --------------------------------------------------------------------------- convert

_RECORDING_RE = re.compile(
    r"^(?P<market>spot|usdm|cm)_(?P<symbol>[a-z0-9][a-z0-9_]*?)_(?P<day>\d{8})(_(?P<hour>\d{2}))?\.gz$"
)
_BINANCE_EXCHANGE = {"spot": "binance", "usdm": "binance-futures", "cm": "binance-delivery"}


def _vision_exchange(path: Path, symbol: str, market: str) -> str:
    posix = path.as_posix()
    if "/futures/um/" in posix:
        return "binance-futures"
    if "/futures/cm/" in posix or "_" in symbol:
        return "binance-delivery"
    if "/spot/" in posix:
        return "binance"
    return "binance" if market == "spot" else "binance-futures"


def _recording_groups(files: list[Path]) -> list[list[Path]]:
    """Binance recording files grouped into segments: one market and symbol, no time missing.

    The recorder's files are daily (``..._YYYYMMDD.gz``) or hourly (``..._YYYYMMDD_HH.gz``); a
    file continues the one before it when it starts where that one's period ends.
    """
    by: dict[tuple[str, str], list[tuple[_dt.datetime, _dt.timedelta, Path]]] = {}
    for p in files:
        m = _RECORDING_RE.match(p.name)
        start = _dt.datetime.strptime(m["day"], "%Y%m%d")
        period = _dt.timedelta(days=1)
        if m["hour"] is not None:
            start += _dt.timedelta(hours=int(m["hour"]))
            period = _dt.timedelta(hours=1)
        by.setdefault((m["market"], m["symbol"]), []).append((start, period, p))
    out = []
    for key in sorted(by):
        items = sorted(by[key])
        run = [items[0]]
        for it in items[1:]:
            if it[0] == run[-1][0] + run[-1][1]:
                run.append(it)
            else:
                out.append([p for *_, p in run])
                run = [it]
        out.append([p for *_, p in run])
    return out


def convert(
    raw_files: str | os.PathLike | Iterable[str | os.PathLike],
    lake_root: str | os.PathLike,
    *,
    exchange: str | None = None,
    symbol: str | None = None,
    mode: str = "overwrite",
    errors: str = "raise",
    force: bool = False,
    partial: bool = False,
) -> list[dict]:
    """Read raw files of any supported format and write them into the lake.

    Formats are recognised by :func:`lobutils.data.archives.detect`: Binance stream recordings
    (grouped into segments of consecutive days, each read as one stream), data.vision archives,
    Bybit order-book archives and Tardis CSV files (each file on its own). Inputs that map to
    the same partition are merged into one write when they cover different times (in time
    order, lines and messages numbered as one stream) and refused when they overlap. Every
    input is read and every partition checked before the first one is written: a refusal
    writes nothing.

    Parameters
    ----------
    raw_files
        Files (or one file).
    lake_root
        The lake.
    exchange
        Partition exchange name. By default it is inferred: Binance recordings by market
        (``binance``, ``binance-futures``, ``binance-delivery``); data.vision by the folder
        the file sits in (as :func:`lobutils.acquire.download.fetch_binance_vision` stores them), else
        by its layout; Bybit ``bybit`` (``bybit-spot`` under a ``spot`` folder); Tardis from
        the file's ``exchange`` column.
    symbol
        Read only this symbol of files that hold several.
    mode
        As for :func:`write_table`.
    errors
        Passed to the readers (``"raise"`` or ``"skip"``).
    force
        Replace partitions that hold other sources' data or more rows (:func:`write_table`).
    partial
        Keep the complete lines of a truncated (cut) gzip file; by default a truncated input
        is an error.

    Returns
    -------
    list of dict
        One summary per partition: ``source``, ``data_type``, ``files``, ``kind``,
        ``exchange``, ``symbol``, ``date``, ``rows``, ``status``.

    Raises
    ------
    LakeConflict
        A partition would be replaced without ``force`` (see :func:`write_table`), or two
        inputs that overlap in time map to the same partition.
    """
    from lobutils.data import archives as A
    from lobutils.data.binance import read_binance_recording

    if isinstance(raw_files, str | os.PathLike):
        raw_files = [raw_files]
    files = [Path(f) for f in raw_files]
    if not files:
        raise ValueError("no file given")
    for f in files:
        if f.is_dir():
            raise IsADirectoryError(f"{f}: is a directory, not a data file")
        if not f.is_file():
            raise FileNotFoundError(f"no such file: {f}")
    detected = [(f, *A.detect(f)) for f in files]
    jobs: list[tuple[str, str, list[Path]]] = []
    recs = [f for f, src, _ in detected if src == "binance-recording"]
    for group in _recording_groups(recs) if recs else []:
        jobs.append(("binance-recording", "stream", group))
    jobs += [(src, dt, [f]) for f, src, dt in detected if src != "binance-recording"]
    trunc = "warn" if partial else "raise"
    root = Path(lake_root)

    specs = []  # (job, what to write: the arguments of _plan_write)
    for src, dtype, group in jobs:
        if src == "binance-recording":
            rec = read_binance_recording(group, symbol=symbol, errors=errors, on_truncated=trunc)
            ex = exchange or _BINANCE_EXCHANGE[_RECORDING_RE.match(group[0].name)["market"]]
            spec = _recording_spec(ex, rec)
        elif src == "binance-vision":
            obj = A.read_binance_vision(group, errors=errors)
            if isinstance(obj, Recording):
                ex = exchange or _vision_exchange(group[0], obj.symbol, obj.market)
                spec = _recording_spec(ex, obj)
            else:
                st = obj.attrs.get("stats", {})
                ex = exchange or _vision_exchange(group[0], st.get("symbol", ""), "futures")
                spec = _spec(ex, st["symbol"], [("book_depth", obj)], None, group, None, st)
        elif src == "bybit":
            rec = A.read_bybit_orderbook(group, symbol=symbol, errors=errors)
            spot = "/spot/" in group[0].as_posix()
            spec = _recording_spec(exchange or ("bybit-spot" if spot else "bybit"), rec)
        else:  # tardis
            kw = {"symbol": symbol, "errors": errors, "on_truncated": trunc}
            if dtype.startswith("book_snapshot_"):
                book = A.read_tardis_book_snapshots(group, **kw)
                ex = exchange or book.stats["exchange"]
                spec = _spec(
                    ex, book.stats["symbol"], [("book", book.frame)], None, group, None, book.stats
                )
            else:
                reader = (
                    A.read_tardis_book if dtype == "incremental_book_L2" else A.read_tardis_trades
                )
                rec = reader(group, **kw)
                spec = _recording_spec(exchange or rec.stats["exchange"], rec)
        specs.append(((src, dtype, group), spec))
    planned = _merge_collisions(root, specs)

    written = _commit([p for _, plans in planned for p in plans], mode, force)
    job_of = {str(final): job for job, plans in planned for final, _, _ in plans}
    summary = []
    for w in written:
        src, dtype, group = job_of[w["path"]]
        summary.append(
            {
                "source": src,
                "data_type": dtype,
                "files": [p.name for p in group],
                "kind": w.get("kind"),
                "exchange": w.get("exchange", exchange),
                "symbol": w.get("symbol"),
                "date": w.get("date"),
                "rows": w.get("rows"),
                "status": w["status"],
            }
        )
    return summary


def _spec(exchange, symbol, tables, market, sources, line_offsets, stats) -> dict:
    return {
        "exchange": exchange,
        "symbol": symbol,
        "tables": tables,
        "market": market,
        "sources": list(sources),
        "line_offsets": None if line_offsets is None else [int(x) for x in line_offsets],
        "stats": stats,
    }


def _recording_spec(exchange: str, rec: Recording) -> dict:
    tables = [(k, getattr(rec, k)) for k in ("depth", "trades", "bbo")]
    return _spec(exchange, rec.symbol, tables, rec.market, rec.sources, rec.line_offsets, rec.stats)


def _span(spec: dict) -> tuple[int, int]:
    """First and last row time of a write (``ts``, else ``local_ts``)."""
    lo, hi = [], []
    for _, frame in spec["tables"]:
        if len(frame):
            c, _ = _clock(frame)
            c = c[c != TS_NA]
            if len(c):
                lo.append(int(c.min()))
                hi.append(int(c.max()))
    return (min(lo), max(hi)) if lo else (0, 0)


def _merged(specs: list[dict]) -> dict | None:
    """One write of several that cover different times, in time order; None if they overlap.

    Lines are renumbered past the earlier writes' sources, and depth messages past their
    messages, as if the files had been read as one stream.
    """
    specs = sorted(specs, key=_span)
    spans = [_span(s) for s in specs]
    if any(a[1] >= b[0] for a, b in zip(spans, spans[1:], strict=False)):
        return None
    keys = {(_name(s["exchange"], "exchange"), s["symbol"].lower(), s["market"]) for s in specs}
    if len(keys) > 1 or any(s["line_offsets"] is None for s in specs):
        return None
    sources, offsets, stats = [], [0], {}
    tables: dict[str, list[pd.DataFrame]] = {}
    for s in specs:
        base = offsets[-1]
        sources += s["sources"]
        offsets += [base + x for x in s["line_offsets"][1:]]
        for kind, frame in s["tables"]:
            f = frame.copy()
            if "line" in f.columns:
                f["line"] = f["line"] + base
            if kind == "depth" and len(f) and tables.get(kind):
                f["msg"] = f["msg"] + int(tables[kind][-1]["msg"].max()) + 1
            tables.setdefault(kind, []).append(f)
        for k, v in (s["stats"] or {}).items():
            if isinstance(v, int | np.integer) and not isinstance(v, bool):
                stats[k] = stats.get(k, 0) + int(v)
    frames = [(k, pd.concat(fs, ignore_index=True)) for k, fs in tables.items()]
    ex, sym, market = keys.pop()
    return _spec(ex, sym, frames, market, sources, offsets, stats)


def _merge_collisions(root: Path, specs: list) -> list:
    """Plan every write; writes that share a partition are merged if their times differ.

    Returns ``[(job, plans), ...]``; a merged job lists the files of all its parts. Writes
    that share a partition and overlap in time are refused (:class:`LakeConflict`).
    """
    plans = [_plan_write(root, **spec, hash_sources=True) for _, spec in specs]
    owner: dict[Path, int] = {}
    group = list(range(len(specs)))  # union-find over writes sharing a partition

    def find(i):
        while group[i] != i:
            i = group[i]
        return i

    for i, ps in enumerate(plans):
        for final, _, _ in ps:
            if final in owner:
                group[find(i)] = find(owner[final])
            else:
                owner[final] = i
    out = []
    for r in sorted({find(i) for i in range(len(specs))}):
        members = [i for i in range(len(specs)) if find(i) == r]
        if len(members) == 1:
            out.append((specs[r][0], plans[r]))
            continue
        merged = _merged([specs[i][1] for i in members])
        files = [f for i in members for f in specs[i][0][2]]
        if merged is None:
            a, b = (" + ".join(p.name for p in specs[i][0][2]) for i in members[:2])
            raise LakeConflict(
                f"{a} and {b} map to the same lake partitions and overlap in time; convert "
                "them in separate commands (the second needs --force to replace the first)"
            )
        src, dtype, _ = specs[r][0]
        out.append(((src, dtype, files), _plan_write(root, **merged, hash_sources=True)))
    return out
