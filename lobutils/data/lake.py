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
half-written partition. Replacing a partition renames the old one away first, so for that
instant the partition is absent, never partial. :func:`clean` removes leftovers of writes that
were killed.

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
    "clean",
    "convert",
    "manifest",
    "partitions",
    "read",
    "read_recording",
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
        meta = {**meta, "data_file": DATA_FILE, "data_bytes": data.stat().st_size}
        meta["data_sha256"] = _sha256(data)
        man = tmp / MANIFEST_FILE
        man.write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        _fsync_file(man)
        if final.exists():
            old = parent / f".{final.name}.old-{tag}"
            os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta


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
    hash_sources: bool = True,
    write_id: str | None = None,
    _sources_cache: list[dict] | None = None,
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

    Returns
    -------
    list of dict
        The manifests written (or, for skipped partitions, ``{"status": "skipped", ...}``).
    """
    kind = _kind(kind)
    if mode not in ("overwrite", "skip", "error"):
        raise ValueError(f"mode must be 'overwrite', 'skip' or 'error', got {mode!r}")
    exchange, symbol = _name(exchange, "exchange"), _name(symbol, "symbol")
    if kind in _SCHEMAS:
        want = _SCHEMAS[kind]
        if list(frame.columns) != list(want):
            raise ValueError(
                f"a {kind} frame needs columns {list(want)}, got {list(frame.columns)}"
            )
        frame = frame.astype(want)
    if len(frame) == 0:
        return []
    root = Path(lake_root)
    clock, clock_name = _clock(frame)
    day_num = _days(clock, f"{kind} of {exchange}/{symbol}")
    cuts = np.flatnonzero(np.diff(day_num)) + 1
    bounds = np.r_[0, cuts, len(frame)]
    src = _sources_cache if _sources_cache is not None else _sources_info(sources, hash_sources)
    counts = {
        k: int(v)
        for k, v in (stats or {}).items()
        if k in _COUNT_KEYS and isinstance(v, int | np.integer)
    }
    write_id = write_id or uuid.uuid4().hex
    out = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        day = (_dt.date(1970, 1, 1) + _dt.timedelta(days=int(day_num[a]))).isoformat()
        final = _partition_dir(root, kind, exchange, symbol, day)
        if final.exists():
            if mode == "skip":
                out.append({"status": "skipped", "kind": kind, "date": day, "path": str(final)})
                continue
            if mode == "error":
                raise FileExistsError(f"lake partition {final} exists (mode='error')")
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
        meta = _write_partition(final, part, meta)
        out.append({"status": "written", "path": str(final), **meta})
    return out


def write_recording(
    lake_root: str | os.PathLike,
    exchange: str,
    recording: Recording,
    *,
    mode: str = "overwrite",
    hash_sources: bool = True,
) -> list[dict]:
    """Write a :class:`~lobutils.data.binance.Recording`'s depth, trades and bbo tables into the lake.

    Empty tables write nothing. Returns the manifests written (see :func:`write_table`).
    """
    src = _sources_info(recording.sources, hash_sources)
    write_id = uuid.uuid4().hex
    out = []
    for kind in ("depth", "trades", "bbo"):
        out += write_table(
            lake_root,
            kind,
            exchange,
            recording.symbol,
            getattr(recording, kind),
            market=recording.market,
            sources=recording.sources,
            line_offsets=recording.line_offsets.tolist(),
            stats=recording.stats,
            mode=mode,
            write_id=write_id,
            _sources_cache=src,
        )
    return out


# --------------------------------------------------------------------------- read


def manifest(partition: str | os.PathLike) -> dict:
    """The manifest of one partition folder."""
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
    """The partitions of a lake: ``kind, exchange, symbol, date, rows, path``, sorted.

    Folders of interrupted writes (hidden names) are not listed.
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
    lake_root
        The lake.
    kind
        One of :data:`KINDS`.
    exchange, symbol
        Which partitions; may be left out when only one pair is in the lake for ``kind``.
    start, end
        Optional time range ``[start, end)``: anything :class:`pandas.Timestamp` takes (naive
        means UTC) or int ns. Rows are selected by ``ts`` (``local_ts`` where ``ts`` is missing).

    Returns
    -------
    pandas.DataFrame
        The schema's columns and dtypes. For ``depth``, ``msg`` is renumbered 0, 1, 2, ... over
        the result (the same numbers as the source when a whole recording is read); ``line``
        numbers are shifted so that they follow one another across separately written
        recordings, as :func:`read_recording`'s ``sources`` list them.
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

    ``market`` comes from the manifests (so :func:`lobutils.book.replay.reconstruct` applies the same
    chain rule as on the source); ``sources`` are the source file names, and ``locate`` works
    on the ``line`` column as on the source.
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
    """Check every partition's data file against its manifest (size, sha256, rows).

    Returns the problems found (an empty list for a sound lake).
    """
    problems = []
    parts = partitions(lake_root)
    for path in parts["path"]:
        m = manifest(path)
        data = Path(path) / m.get("data_file", DATA_FILE)
        if not data.is_file():
            problems.append(f"{path}: {data.name} is missing")
            continue
        if data.stat().st_size != m["data_bytes"] or _sha256(data) != m["data_sha256"]:
            problems.append(f"{path}: {data.name} does not match its manifest's sha256")
    return problems


def clean(lake_root: str | os.PathLike) -> list[str]:
    """Remove the hidden folders of interrupted writes (``.date=*.tmp-*``, ``.date=*.old-*``).

    Returns the removed paths. Do not run it while another process writes to the lake.
    """
    removed = []
    for k in KINDS:
        for d in Path(lake_root, k).glob("exchange=*/symbol=*/.date=*"):
            if re.search(r"\.(tmp|old)-[0-9a-f]+$", d.name):
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
) -> list[dict]:
    """Read raw files of any supported format and write them into the lake.

    Formats are recognised by :func:`lobutils.data.archives.detect`: Binance stream recordings
    (grouped into segments of consecutive days, each read as one stream), data.vision archives,
    Bybit order-book archives and Tardis CSV files (each file on its own).

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

    Returns
    -------
    list of dict
        One summary per partition: ``source``, ``data_type``, ``files``, ``kind``,
        ``exchange``, ``symbol``, ``date``, ``rows``, ``status``.
    """
    from lobutils.data import archives as A
    from lobutils.data.binance import read_binance_recording

    if isinstance(raw_files, str | os.PathLike):
        raw_files = [raw_files]
    files = [Path(f) for f in raw_files]
    if not files:
        raise ValueError("no file given")
    for f in files:
        if not f.is_file():
            raise FileNotFoundError(f"no such file: {f}")
    detected = [(f, *A.detect(f)) for f in files]
    jobs: list[tuple[str, str, list[Path]]] = []
    recs = [f for f, src, _ in detected if src == "binance-recording"]
    for group in _recording_groups(recs) if recs else []:
        jobs.append(("binance-recording", "stream", group))
    jobs += [(src, dt, [f]) for f, src, dt in detected if src != "binance-recording"]

    summary = []
    for src, dtype, group in jobs:
        if src == "binance-recording":
            rec = read_binance_recording(group, symbol=symbol, errors=errors)
            ex = exchange or _BINANCE_EXCHANGE[_RECORDING_RE.match(group[0].name)["market"]]
            written = write_recording(lake_root, ex, rec, mode=mode)
        elif src == "binance-vision":
            obj = A.read_binance_vision(group, errors=errors)
            if isinstance(obj, Recording):
                ex = exchange or _vision_exchange(group[0], obj.symbol, obj.market)
                written = write_recording(lake_root, ex, obj, mode=mode)
            else:
                st = obj.attrs.get("stats", {})
                ex = exchange or _vision_exchange(group[0], st.get("symbol", ""), "futures")
                written = write_table(
                    lake_root, "book_depth", ex, st["symbol"], obj, sources=group,
                    stats=st, mode=mode,
                )  # fmt: skip
        elif src == "bybit":
            rec = A.read_bybit_orderbook(group, symbol=symbol, errors=errors)
            spot = "/spot/" in group[0].as_posix()
            ex = exchange or ("bybit-spot" if spot else "bybit")
            written = write_recording(lake_root, ex, rec, mode=mode)
        else:  # tardis
            if dtype.startswith("book_snapshot_"):
                book = A.read_tardis_book_snapshots(group, symbol=symbol, errors=errors)
                ex = exchange or book.stats["exchange"]
                written = write_table(
                    lake_root, "book", ex, book.stats["symbol"], book.frame, sources=group,
                    stats=book.stats, mode=mode,
                )  # fmt: skip
            else:
                reader = (
                    A.read_tardis_book if dtype == "incremental_book_L2" else A.read_tardis_trades
                )
                rec = reader(group, symbol=symbol, errors=errors)
                ex = exchange or rec.stats["exchange"]
                written = write_recording(lake_root, ex, rec, mode=mode)
        for w in written:
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
