"""Live recorder of Binance market streams, in the format of the bundled recordings.

The recorder subscribes to Binance *combined streams* (depth diffs, trades and bookTicker) for
the symbols asked, on spot, USD-M or COIN-M futures, and writes every message as one line

```
<local receive time, ns since epoch> <raw JSON, exactly as received>
```

into one gzip file per (market, symbol) stream. That is the bundled data's format, so
:func:`lobutils.data.binance.read_binance_recording`, :func:`lobutils.book.replay.reconstruct` and
:func:`lobutils.data.catalog.segments` work unchanged on what it writes. No API key is needed: all of
it is public market data.

Snapshots
---------
A depth diff stream needs a REST depth snapshot to start a book from. The recorder fetches one
per symbol after subscribing and writes it in-line, as one line ``<local ns> <raw snapshot
JSON>``. It fetches (and writes) a fresh one

* at the start of every new file, so every file can be rebuilt on its own (the snapshot lands
  after the few messages that arrive while it is fetched; the reader buffers those diffs and
  replays them on the snapshot, as at the start of a recording);
* after a *gap* in a stream's update-id chain (spot ``U == prev_u + 1``, futures
  ``pu == prev_u``), so the reader re-syncs right after it;
* after every reconnect.

A snapshot older than the first diff it must cover (``lastUpdateId`` below the chain's start)
cannot sync a book: the recorder drops it, counts it (``stale_snapshots``) and fetches again.
Snapshot requests are spaced by at least ``snapshot_min_interval`` seconds per symbol and
retried with exponential backoff.

Files and rotation
------------------
Files are named ``<market>_<symbol>_<YYYYMMDD>.gz`` (``market`` in ``spot``, ``usdm``, ``cm``;
the UTC date of the local receive clock), the pattern :mod:`lobutils.data.catalog` reads: daily files of
a stream join into one segment. With ``rotate="daily"`` (the default) a new file starts at every
UTC midnight. With ``rotate="hourly"`` files are ``<market>_<symbol>_<YYYYMMDD>_<HH>.gz``:
:func:`lobutils.data.catalog.segments` ignores these names (its pattern ends in the 8-digit date), so
list them with :func:`recorded_files` and pass the list to
:func:`~lobutils.data.binance.read_binance_recording`. Every file starts with its own snapshot either way.

When a file of the same name already exists (a restart on the same day), the recorder appends a
new gzip member to it. A file left cut mid-write by a killed recorder is first repaired in place:
rewritten up to its last complete line.

Durability
----------
Output is flushed with ``Z_SYNC_FLUSH`` every ``flush_interval`` seconds and every
``flush_messages`` messages, so a killed recorder (``SIGKILL``, power cut) loses at most the
messages since the last flush, and the file is readable up to its last complete line (the reader
warns that it was cut). ``SIGINT``/``SIGTERM`` stop the recorder gracefully: every file is
closed as a complete gzip.

Status is logged (logger ``lobutils.acquire.recorder``) every ``status_interval`` seconds: messages per
second, files written, gaps, snapshots and reconnects.

Giving up
---------
A permanent error stops the recorder at once with a clear message: a URL that is malformed or
not ``ws://``/``wss://`` (``http://``/``https://`` for REST), a host name that does not resolve,
a handshake or snapshot request refused with HTTP 4xx (other than 408 and 429). Transient errors
(a refused or dropped connection, a timeout, HTTP 5xx or 429) are retried with backoff for at
most ``max_retry_time`` seconds without a working connection; then :meth:`Recorder.run` raises
:class:`ConnectionError`. SIGINT/SIGTERM stop it at once, also while it waits to retry.

Offline
-------
:class:`lobutils.acquire.replay_server.ReplayServer` stands in for Binance on 127.0.0.1: it replays a recording's messages
over a websocket and answers the snapshot request, so the recorder's live code runs without the
network (the tests, and chapter 1).

Examples
--------
>>> cfg = RecorderConfig(symbols=("BTCUSDT", "ethusdt"), market="usdm")
>>> cfg.symbols
('btcusdt', 'ethusdt')
>>> stream_url(cfg)
'wss://fstream.binance.com/stream?streams=btcusdt@depth@0ms/btcusdt@trade/btcusdt@bookTicker/ethusdt@depth@0ms/ethusdt@trade/ethusdt@bookTicker'
>>> snapshot_url(cfg, "btcusdt")
'https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=1000'

Recording for a minute (needs the network)::

    from lobutils.acquire.recorder import record
    stats = record(["btcusdt"], market="spot", out_dir="data/recordings", max_seconds=60)
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import gzip
import http.client
import logging
import os
import random
import signal
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

__all__ = [
    "MARKET_ENDPOINTS",
    "Endpoints",
    "Recorder",
    "RecorderConfig",
    "check_url",
    "file_name",
    "permanent_error",
    "record",
    "recorded_files",
    "repair_gzip",
    "snapshot_url",
    "stream_url",
]

log = logging.getLogger("lobutils.acquire.recorder")

_DAY_NS = 86_400 * 10**9
_HOUR_NS = 3_600 * 10**9


@dataclass(frozen=True)
class Endpoints:
    """Where one Binance market's streams and REST depth snapshots live.

    Attributes
    ----------
    ws
        Websocket origin; the recorder appends ``/stream?streams=...``.
    rest
        REST origin; the recorder appends ``depth_path``.
    depth_path
        Path of the depth-snapshot endpoint.
    depth_stream
        Depth channel suffix: ``depth@100ms`` (spot) or ``depth@0ms`` (futures).
    chain
        ``"spot"`` (diffs chain by ``U == prev_u + 1``) or ``"futures"`` (``pu == prev_u``).
    """

    ws: str
    rest: str
    depth_path: str
    depth_stream: str
    chain: str


MARKET_ENDPOINTS: dict[str, Endpoints] = {
    "spot": Endpoints(
        "wss://stream.binance.com:9443",
        "https://api.binance.com",
        "/api/v3/depth",
        "depth@100ms",
        "spot",
    ),
    "usdm": Endpoints(
        "wss://fstream.binance.com",
        "https://fapi.binance.com",
        "/fapi/v1/depth",
        "depth@0ms",
        "futures",
    ),
    "cm": Endpoints(
        "wss://dstream.binance.com",
        "https://dapi.binance.com",
        "/dapi/v1/depth",
        "depth@0ms",
        "futures",
    ),
}
"""Binance's public endpoints per market (``spot``, ``usdm``, ``cm``)."""


def _default_out_dir() -> Path:
    from lobutils import paths

    return paths.data_dir() / "recordings"


@dataclass(frozen=True)
class RecorderConfig:
    """What to record, where, and how.

    Parameters
    ----------
    symbols
        Binance symbols (any case), e.g. ``("btcusdt",)`` or ``("btcusd_perp",)`` for COIN-M.
    market
        ``"spot"``, ``"usdm"`` (USD-M futures) or ``"cm"`` (COIN-M futures).
    out_dir
        Output directory (default ``$LOBUTILS_DATA_DIR/recordings``, see :mod:`lobutils.paths`).
    rotate
        ``"daily"`` or ``"hourly"``. Files always change at UTC midnight.
    ws_url, rest_url
        Override the websocket and REST origins of :data:`MARKET_ENDPOINTS` (tests, mirrors).
    depth_stream
        Override the depth channel, e.g. ``"depth@250ms"``.
    snapshot_limit
        Levels per side of the REST snapshot (Binance allows up to 5000 on spot, 1000 on
        futures).
    flush_interval, flush_messages
        Flush the gzip stream (``Z_SYNC_FLUSH``) at least this often, in seconds and messages.
    fsync
        Also ``fsync`` at every flush (survives a power cut, costs disk I/O).
    compresslevel
        gzip level, 1 (fast) to 9 (small).
    max_messages, max_seconds
        Stop after this many stream messages, or this many seconds (None: run until a signal).
        Both must be positive.
    max_retry_time
        Seconds of transient failures in a row (no websocket connection, no snapshot) after
        which the recorder gives up and :meth:`Recorder.run` raises :class:`ConnectionError`.
    status_interval
        Seconds between status log lines (0: none).
    snapshot_min_interval
        Least seconds between two snapshot requests of one symbol.
    backoff_initial, backoff_max
        Reconnect and retry delays: doubling from ``backoff_initial`` up to ``backoff_max``,
        with jitter.
    http_timeout
        Seconds before a snapshot request is given up (and retried).
    clock
        The local clock, a function returning ns since the epoch (default :func:`time.time_ns`).
        It stamps every line and decides rotation; tests inject one to cross midnight.
    """

    symbols: tuple[str, ...]
    market: str = "spot"
    out_dir: Path | None = None
    rotate: str = "daily"
    ws_url: str | None = None
    rest_url: str | None = None
    depth_stream: str | None = None
    snapshot_limit: int = 1000
    flush_interval: float = 1.0
    flush_messages: int = 10_000
    fsync: bool = False
    compresslevel: int = 6
    max_messages: int | None = None
    max_seconds: float | None = None
    status_interval: float = 10.0
    snapshot_min_interval: float = 1.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    http_timeout: float = 10.0
    max_retry_time: float = 300.0
    clock: Callable[[], int] = field(default=time.time_ns, compare=False, repr=False)

    def __post_init__(self) -> None:
        syms = (self.symbols,) if isinstance(self.symbols, str) else tuple(self.symbols)
        syms = tuple(dict.fromkeys(s.strip().lower() for s in syms))
        if not syms or any(not s or "/" in s or "@" in s for s in syms):
            raise ValueError(
                f"symbols must be Binance symbols like 'btcusdt', got {self.symbols!r}"
            )
        object.__setattr__(self, "symbols", syms)
        if self.market not in MARKET_ENDPOINTS:
            raise ValueError(
                f"market must be one of {sorted(MARKET_ENDPOINTS)}, got {self.market!r}"
            )
        if self.rotate not in ("daily", "hourly"):
            raise ValueError(f"rotate must be 'daily' or 'hourly', got {self.rotate!r}")
        out = Path(self.out_dir) if self.out_dir is not None else _default_out_dir()
        object.__setattr__(self, "out_dir", out)
        if self.flush_interval <= 0 or self.flush_messages < 1:
            raise ValueError("flush_interval must be > 0 and flush_messages >= 1")
        if not 1 <= self.compresslevel <= 9:
            raise ValueError(f"compresslevel must be 1..9, got {self.compresslevel}")
        for name in ("max_seconds", "max_messages", "max_retry_time"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        check_url(self.endpoints.ws, ("ws", "wss"), "ws_url")
        check_url(self.endpoints.rest, ("http", "https"), "rest_url")

    @property
    def endpoints(self) -> Endpoints:
        """The market's endpoints with the overrides applied."""
        e = MARKET_ENDPOINTS[self.market]
        return Endpoints(
            (self.ws_url or e.ws).rstrip("/"),
            (self.rest_url or e.rest).rstrip("/"),
            e.depth_path,
            self.depth_stream or e.depth_stream,
            e.chain,
        )


def check_url(url: str, schemes: tuple[str, ...], what: str) -> str:
    """Raise ``ValueError`` unless ``url`` has one of ``schemes`` and names a host.

    Parameters
    ----------
    url
        The URL (an origin such as ``wss://stream.binance.com:9443``).
    schemes
        The schemes allowed, e.g. ``("ws", "wss")``.
    what
        The option's name, for the message.

    Returns
    -------
    str
        ``url``.

    Examples
    --------
    >>> check_url("ws://127.0.0.1:8765", ("ws", "wss"), "ws_url")
    'ws://127.0.0.1:8765'
    >>> check_url("file:///etc/passwd", ("ws", "wss"), "ws_url")
    Traceback (most recent call last):
    ...
    ValueError: ws_url 'file:///etc/passwd': the URL must start with ws:// or wss:// and name a host
    """
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        ok = parts.scheme.lower() in schemes and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        allowed = " or ".join(f"{s}://" for s in schemes)
        raise ValueError(f"{what} {url!r}: the URL must start with {allowed} and name a host")
    return url


_TRANSIENT_HTTP = {408, 418, 429}  # timeout, Binance's IP ban (418, temporary) and rate limit


def permanent_error(exc: BaseException) -> str | None:
    """Why a network error will not go away by retrying, or ``None`` when it may.

    Permanent: a host name that does not resolve, a malformed URL, an HTTP 4xx answer other
    than 408, 418 and 429 (a wrong path or symbol). The exception's causes are searched too, as
    libraries wrap the socket error (ccxt, requests, urllib).

    Parameters
    ----------
    exc
        The exception raised by a connection or request.

    Returns
    -------
    str or None
        A short reason for the message, or ``None`` for a transient error.

    Examples
    --------
    >>> permanent_error(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    'the host name does not resolve (Name or service not known)'
    >>> permanent_error(ConnectionRefusedError(111, "Connection refused")) is None
    True
    """
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, socket.gaierror) and e.errno in _NO_NAME:
            return f"the host name does not resolve ({e.strerror or e})"
        status = getattr(e, "status", None) or getattr(
            getattr(e, "response", None), "status_code", None
        )
        if isinstance(status, int) and 400 <= status < 500 and status not in _TRANSIENT_HTTP:
            return f"the server answered HTTP {status} ({_short(e)})"
        if type(e).__name__ == "InvalidURI":
            return f"an invalid URL ({_short(e)})"
        text = str(e)
        if any(m in text for m in _NO_NAME_TEXT):
            return f"the host name does not resolve ({_short(e)})"
        reason = e.reason if isinstance(e, urllib.error.URLError) else None  # its socket error
        e = reason if isinstance(reason, BaseException) else (e.__cause__ or e.__context__)
    return None


_NO_NAME = {getattr(socket, n) for n in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, n)}
_NO_NAME_TEXT = ("Name or service not known", "nodename nor servname provided")


def stream_url(cfg: RecorderConfig) -> str:
    """The combined-stream URL: depth, trade and bookTicker of every symbol.

    Parameters
    ----------
    cfg
        The recorder's configuration (market endpoints and symbols).

    Returns
    -------
    str
        The websocket URL to connect to.

    Examples
    --------
    >>> stream_url(RecorderConfig(("btcusdt",), ws_url="ws://127.0.0.1:8765"))
    'ws://127.0.0.1:8765/stream?streams=btcusdt@depth@100ms/btcusdt@trade/btcusdt@bookTicker'
    """
    e = cfg.endpoints
    names = [f"{s}@{c}" for s in cfg.symbols for c in (e.depth_stream, "trade", "bookTicker")]
    return f"{e.ws}/stream?streams={'/'.join(names)}"


def snapshot_url(cfg: RecorderConfig, symbol: str) -> str:
    """The REST depth-snapshot URL of one symbol.

    Parameters
    ----------
    cfg
        The recorder's configuration (market endpoints and ``snapshot_limit``).
    symbol
        The symbol, any case.

    Returns
    -------
    str
        The URL to GET.

    Examples
    --------
    >>> snapshot_url(RecorderConfig(("btcusdt",)), "btcusdt")
    'https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000'
    """
    e = cfg.endpoints
    return f"{e.rest}{e.depth_path}?symbol={symbol.upper()}&limit={cfg.snapshot_limit}"


def _period(ts_ns: int, rotate: str) -> tuple[str, int]:
    """``(file key, end of the period in ns)`` for a local timestamp."""
    step = _DAY_NS if rotate == "daily" else _HOUR_NS
    start = ts_ns - ts_ns % step
    t = _dt.datetime.fromtimestamp(start // 10**9, _dt.UTC)
    key = t.strftime("%Y%m%d") if rotate == "daily" else t.strftime("%Y%m%d_%H")
    return key, start + step


def file_name(market: str, symbol: str, ts_ns: int, rotate: str = "daily") -> str:
    """The file a line stamped ``ts_ns`` goes to.

    Parameters
    ----------
    market, symbol
        The stream (``market`` in ``spot``, ``usdm``, ``cm``).
    ts_ns
        The line's local receive time, ns since the epoch.
    rotate
        ``"daily"`` or ``"hourly"`` files.

    Returns
    -------
    str
        The file name (UTC date, and hour when hourly).

    Examples
    --------
    >>> t = 1723161599_000_000_000  # 2024-08-08 23:59:59 UTC
    >>> file_name("usdm", "ethusdt", t), file_name("usdm", "ethusdt", t + 10**9)
    ('usdm_ethusdt_20240808.gz', 'usdm_ethusdt_20240809.gz')
    >>> file_name("spot", "btcusdt", t, rotate="hourly")
    'spot_btcusdt_20240808_23.gz'
    """
    return f"{market}_{symbol}_{_period(ts_ns, rotate)[0]}.gz"


def recorded_files(
    directory: str | os.PathLike, market: str, symbol: str, rotate: str | None = None
) -> list[Path]:
    """The recorder's files of one stream in a directory, in time order.

    Daily files (``<market>_<symbol>_<YYYYMMDD>.gz``) and hourly files (``..._<HH>.gz``) are
    both listed unless ``rotate`` picks one kind. Pass the list to
    :func:`lobutils.data.binance.read_binance_recording` to read them as one stream.

    Parameters
    ----------
    directory
        Where the recorder wrote.
    market, symbol
        The stream.
    rotate
        ``"daily"`` or ``"hourly"`` to list one kind only (default both).

    Returns
    -------
    list of pathlib.Path
        The files, oldest first.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for n in ("spot_btcusdt_20240809_00.gz", "spot_btcusdt_20240808_23.gz", "x.gz"):
    ...     _ = (d / n).write_bytes(b"")
    >>> [p.name for p in recorded_files(d, "spot", "btcusdt")]
    ['spot_btcusdt_20240808_23.gz', 'spot_btcusdt_20240809_00.gz']
    """
    import re

    pat = re.compile(
        rf"^{re.escape(market)}_{re.escape(symbol.lower())}_(\d{{8}})(?:_(\d{{2}}))?\.gz$"
    )
    out = []
    for p in Path(directory).iterdir():
        m = pat.match(p.name)
        if m is None or not p.is_file():
            continue
        hourly = m[2] is not None
        if rotate is not None and hourly != (rotate == "hourly"):
            continue
        out.append((m[1], m[2] or "", p))
    return [p for *_, p in sorted(out)]


# --------------------------------------------------------------------------- files


def repair_gzip(path: str | os.PathLike) -> dict:
    """Make a gzip file that was cut mid-write complete again, in place.

    Its complete lines are kept (concatenated members included); a partial last line and the
    undecodable tail are dropped. A complete file is left untouched.

    Parameters
    ----------
    path
        The gzip file.

    Returns
    -------
    dict
        ``{"repaired": bool, "kept_bytes": int, "dropped_bytes": int}`` (uncompressed bytes).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.gz"
    >>> _ = p.write_bytes(gzip.compress(b"1 {}\\n2 {}\\n3 {\\"cut")[:-8])  # no trailer
    >>> repair_gzip(p)["repaired"], gzip.decompress(p.read_bytes())
    (True, b'1 {}\\n2 {}\\n')
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.repair")
    complete = True
    kept = dropped = 0
    with open(path, "rb") as src:
        raw = src.read()
    pieces = []
    rest = raw
    while rest:
        d = zlib.decompressobj(wbits=31)
        try:
            pieces.append(d.decompress(rest))
        except zlib.error:
            complete = False
            break
        if not d.eof:
            complete = False
            break
        rest = d.unused_data
    data = b"".join(pieces)
    if complete and (not data or data.endswith(b"\n")):
        return {"repaired": False, "kept_bytes": len(data), "dropped_bytes": 0}
    cut = data.rfind(b"\n") + 1
    kept, dropped = cut, len(data) - cut
    with open(tmp, "wb") as fh:
        with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
            gz.write(data[:cut])
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return {"repaired": True, "kept_bytes": kept, "dropped_bytes": dropped}


class _LineFile:
    """An appendable gzip file of lines, flushable so that a killed writer leaves it readable."""

    def __init__(self, path: Path, compresslevel: int, fsync: bool):
        self.path = path
        self.fsync = fsync
        if path.exists() and path.stat().st_size:
            info = repair_gzip(path)
            if info["repaired"]:
                log.warning(
                    "%s was cut mid-write; repaired (kept %d bytes, dropped %d)",
                    path.name,
                    info["kept_bytes"],
                    info["dropped_bytes"],
                )
        self._fh = open(path, "ab")  # noqa: SIM115 (closed in close())
        self._gz = gzip.GzipFile(fileobj=self._fh, mode="wb", compresslevel=compresslevel)
        self.lines = 0
        self.unflushed = 0

    def write(self, ts: int, payload: bytes) -> None:
        self._gz.write(b"%d %s\n" % (ts, payload))
        self.lines += 1
        self.unflushed += 1

    def flush(self) -> None:
        if self.unflushed:
            self._gz.flush(zlib.Z_SYNC_FLUSH)  # also flushes the file object
            if self.fsync:
                os.fsync(self._fh.fileno())
            self.unflushed = 0

    def close(self) -> None:
        if self._gz is None:
            return
        self._gz.close()
        self._fh.flush()
        if self.fsync:
            os.fsync(self._fh.fileno())
        self._fh.close()
        self._gz = None


def _one_line(payload: bytes) -> bytes:
    """The payload on one line: JSON whitespace newlines become spaces (strings hold none)."""
    payload = payload.strip()
    if b"\n" in payload or b"\r" in payload:
        payload = payload.replace(b"\r", b" ").replace(b"\n", b" ")
    return payload


# --------------------------------------------------------------------------- recorder


class _Stream:
    """Per-symbol state: the open file, the update-id chain and the snapshot bookkeeping."""

    def __init__(self, symbol: str):
        self.symbol = symbol
        self.file: _LineFile | None = None
        self.period_end = -1
        self.prev_u: int | None = None  # last diff's final update id (None: chain restarts)
        self.base: int | None = None  # the update id the epoch's snapshot must reach
        self.snap_id: int | None = None  # lastUpdateId of the epoch's snapshot
        self.synced = False
        self.wanted = asyncio.Event()
        self.last_request = -1e9
        self.counts = dict.fromkeys(
            (
                "messages",
                "depth",
                "trades",
                "bbo",
                "other",
                "gaps",
                "duplicates",
                "snapshots",
                "stale_snapshots",
                "snapshot_errors",
            ),
            0,
        )


class Recorder:
    """Records Binance combined streams to gzip files; see the module docstring.

    Use :meth:`run` in a running event loop (``await Recorder(cfg).run()`` in a notebook), or
    :func:`record` from plain code. :meth:`stop` ends it gracefully; it is safe to call from a
    signal handler or another thread.

    Attributes
    ----------
    config
        The :class:`RecorderConfig`.
    stats
        Live counters (``messages``, ``gaps``, ``snapshots``, ``reconnects``, ``files``, ...).
    """

    def __init__(self, config: RecorderConfig):
        self.config = config
        self.streams = {s: _Stream(s) for s in config.symbols}
        self.files: list[str] = []
        self.reconnects = 0
        self.connections = 0
        self.messages = 0
        self.unrouted = 0
        self.stopped_by: str | None = None
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = time.monotonic()
        self._futures = config.endpoints.chain == "futures"

    # ----------------------------------------------------------------- control

    def stop(self, reason: str = "stop") -> None:
        """Ask the recorder to stop; files are closed as complete gzip streams.

        Parameters
        ----------
        reason : str
            Why, kept as ``stats["stopped_by"]`` (``"SIGTERM"``, ``"max_seconds"``, ...).

        Returns
        -------
        None
        """
        if self.stopped_by is None:
            self.stopped_by = reason
        if self._loop is not None and self._stop is not None:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is self._loop:
                self._stop.set()
            else:
                self._loop.call_soon_threadsafe(self._stop.set)

    def _give_up(self, exc: BaseException) -> None:
        """A network error that retrying will not mend: stop, and raise it from :meth:`run`."""
        if self._error is None:
            self._error = exc
            log.error("%s", exc)
        self.stop("error")

    def _retry_delay(self, failing_since: float, attempt: int, exc: BaseException, what: str):
        """The backoff before the next try, or ``None`` after giving up (permanent, or too long)."""
        reason = permanent_error(exc)
        if reason is not None:
            self._give_up(ConnectionError(f"{what}: {reason}; not retrying"))
            return None
        waited = time.monotonic() - failing_since
        if waited >= self.config.max_retry_time:
            self._give_up(
                ConnectionError(
                    f"{what}: gave up after {waited:.1f} s of failures "
                    f"(max_retry_time {self.config.max_retry_time:g} s); last error: {_short(exc)}"
                )
            )
            return None
        delay = self._backoff(attempt)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            delay = max(delay, retry_after)
        return min(delay, max(self.config.max_retry_time - waited, 0.0) + 1e-3)

    def _fail(self, exc: BaseException) -> None:
        """A fatal error (a file cannot be written): stop, and raise it from :meth:`run`."""
        if self._error is None:
            self._error = (
                _WriteError(f"recording stopped: {exc}") if isinstance(exc, OSError) else exc
            )
            log.error("%s", self._error)
        self.stop("error")

    @property
    def stats(self) -> dict:
        """Counts so far: messages, gaps, snapshots, reconnects, files, what stopped it."""
        per = {s: dict(st.counts) for s, st in self.streams.items()}
        total = {k: sum(c[k] for c in per.values()) for k in next(iter(per.values()))}
        return {
            "market": self.config.market,
            "symbols": list(self.config.symbols),
            "messages": self.messages,
            **{k: total[k] for k in ("gaps", "duplicates", "snapshots", "stale_snapshots")},
            "reconnects": self.reconnects,
            "files": list(self.files),
            "unrouted": self.unrouted,
            "seconds": round(time.monotonic() - self._t0, 3),
            "stopped_by": self.stopped_by,
            "per_symbol": per,
        }

    async def run(self, handle_signals: bool = True) -> dict:
        """Record until :meth:`stop`, a signal, ``max_messages`` or ``max_seconds``.

        Parameters
        ----------
        handle_signals
            Install SIGINT/SIGTERM handlers that stop gracefully (main thread only).

        Returns
        -------
        dict
            The final :attr:`stats`.
        """
        cfg = self.config
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._t0 = time.monotonic()
        cfg.out_dir.mkdir(parents=True, exist_ok=True)
        installed = []
        if handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    self._loop.add_signal_handler(sig, self.stop, signal.Signals(sig).name)
                    installed.append(sig)
                except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
                    pass
        if self.stopped_by is not None:
            self._stop.set()
        ws_task = asyncio.create_task(self._ws_loop(), name="ws")
        stop_task = asyncio.create_task(self._stop.wait(), name="stop")
        tasks = [
            ws_task,
            stop_task,
            asyncio.create_task(self._flush_loop(), name="flush"),
            *(
                asyncio.create_task(self._snapshot_worker(st), name=f"snapshot-{s}")
                for s, st in self.streams.items()
            ),
        ]
        if cfg.status_interval > 0:
            tasks.append(asyncio.create_task(self._status_loop(), name="status"))
        log.info("recording %s %s to %s", cfg.market, ",".join(cfg.symbols), cfg.out_dir)
        try:
            done, _ = await asyncio.wait(
                {ws_task, stop_task}, timeout=cfg.max_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                self.stop("max_seconds")
            elif ws_task in done and not ws_task.cancelled() and ws_task.exception() is not None:
                self._fail(ws_task.exception())
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for st in self.streams.values():
                if st.file is not None:
                    st.file.close()
                    st.file = None
            for sig in installed:
                self._loop.remove_signal_handler(sig)
        self._log_status(final=True)
        if self._error is not None:
            raise self._error
        return self.stats

    # ----------------------------------------------------------------- websocket

    async def _ws_loop(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, WebSocketException

        cfg = self.config
        url = stream_url(cfg)
        attempt = 0
        failing_since: float | None = None
        while True:
            t_open = time.monotonic()
            try:
                async with connect(
                    url,
                    max_size=2**24,
                    max_queue=4096,
                    open_timeout=cfg.http_timeout,
                    ping_interval=20,
                    ping_timeout=20,
                    close_timeout=2,
                    compression=None,
                ) as ws:
                    self.connections += 1
                    failing_since = None
                    if self.connections > 1:
                        self.reconnects += 1
                        log.warning("reconnected (%d so far)", self.reconnects)
                    for st in self.streams.values():
                        self._new_epoch(st, reconnect=True)
                    while True:
                        raw = await ws.recv(decode=False)
                        try:
                            self._on_message(raw)
                        except OSError as exc:  # the disk, not the network: fatal
                            self._fail(exc)
                        if self.stopped_by is not None:
                            return
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, InvalidHandshake, WebSocketException) as exc:
                if time.monotonic() - t_open > 60:
                    attempt = 0  # the connection lived: start the backoff again
                if failing_since is None:
                    failing_since = t_open
                delay = self._retry_delay(failing_since, attempt, exc, f"websocket {url}")
                if delay is None:
                    return
                attempt += 1
                log.warning("websocket: %s; reconnecting in %.1f s", _short(exc), delay)
                await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        cfg = self.config
        base = min(cfg.backoff_max, cfg.backoff_initial * 2**attempt)
        return base * (0.5 + random.random() / 2)

    def _on_message(self, raw: bytes | str) -> None:
        if isinstance(raw, str):
            raw = raw.encode()
        ts = self.config.clock()
        self.messages += 1
        stream = _stream_name(raw)
        if stream is None:
            try:
                msg = orjson.loads(raw)
                stream = msg.get("stream") if isinstance(msg, dict) else None
            except orjson.JSONDecodeError:
                stream = None
        sym, _, channel = (stream or "").partition("@")
        st = self.streams.get(sym)
        if st is None:
            self.unrouted += 1
            if self.unrouted <= 5:
                log.warning("message of no recorded symbol: %r", raw[:120])
        else:
            f = self._file(st, ts)
            f.write(ts, _one_line(raw))
            st.counts["messages"] += 1
            if channel.startswith("depth"):
                st.counts["depth"] += 1
                self._on_depth(st, raw)
            elif channel == "trade":
                st.counts["trades"] += 1
            elif channel == "bookTicker":
                st.counts["bbo"] += 1
            else:
                st.counts["other"] += 1
            if f.unflushed >= self.config.flush_messages:
                f.flush()
        if self.config.max_messages is not None and self.messages >= self.config.max_messages:
            self.stop("max_messages")

    def _on_depth(self, st: _Stream, raw: bytes) -> None:
        try:
            d = orjson.loads(raw)["data"]
            first, last = int(d["U"]), int(d["u"])
            prev = int(d["pu"]) if self._futures else first - 1
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("%s: depth message without U/u%s", st.symbol, "/pu" * self._futures)
            return
        if st.prev_u is not None:
            chained = prev == st.prev_u
            if not chained:
                if last <= st.prev_u:
                    st.counts["duplicates"] += 1
                    return
                st.counts["gaps"] += 1
                log.warning(
                    "%s: gap in the depth stream (expected %s %d, got %d); fetching a snapshot",
                    st.symbol,
                    "pu" if self._futures else "U-1",
                    st.prev_u,
                    prev,
                )
                self._new_epoch(st)
        st.prev_u = last
        if st.base is None:
            st.base = prev  # the snapshot must reach at least the update before this diff
            if st.snap_id is not None:
                self._check_snapshot(st)

    def _new_epoch(self, st: _Stream, reconnect: bool = False) -> None:
        """A new stretch that needs its own snapshot: new file, gap, or reconnect."""
        if reconnect:
            st.prev_u = None
        st.base = None
        st.snap_id = None
        st.synced = False
        st.wanted.set()

    def _check_snapshot(self, st: _Stream) -> None:
        if st.snap_id is not None and st.base is not None:
            if st.snap_id >= st.base:
                st.synced = True
            else:
                st.counts["stale_snapshots"] += 1
                log.info(
                    "%s: snapshot %d older than the stream (%d); fetching another",
                    st.symbol,
                    st.snap_id,
                    st.base,
                )
                st.snap_id = None
                st.wanted.set()

    def _file(self, st: _Stream, ts: int) -> _LineFile:
        """The stream's file for a line stamped ``ts``, rotating when its period is over."""
        if st.file is None or ts >= st.period_end:
            cfg = self.config
            rotated = st.file is not None
            if rotated:
                st.file.close()
            key, st.period_end = _period(ts, cfg.rotate)
            path = cfg.out_dir / f"{cfg.market}_{st.symbol}_{key}.gz"
            st.file = _LineFile(path, cfg.compresslevel, cfg.fsync)
            self.files.append(str(path))
            log.info("writing %s", path.name)
            if rotated:
                self._new_epoch(st)  # the new file gets its own snapshot
        return st.file

    # ----------------------------------------------------------------- snapshots

    async def _snapshot_worker(self, st: _Stream) -> None:
        cfg = self.config
        url = snapshot_url(cfg, st.symbol)
        while True:
            await st.wanted.wait()
            wait = st.last_request + cfg.snapshot_min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            st.wanted.clear()
            attempt = 0
            failing_since = time.monotonic()
            while True:
                st.last_request = time.monotonic()
                try:
                    body = await asyncio.to_thread(_http_get, url, cfg.http_timeout)
                    snap = _parse_snapshot(body)
                except (OSError, ValueError) as exc:
                    st.counts["snapshot_errors"] += 1
                    delay = self._retry_delay(failing_since, attempt, exc, f"snapshot {url}")
                    if delay is None:
                        return
                    attempt += 1
                    log.warning(
                        "%s: snapshot request failed (%s); retrying in %.1f s",
                        st.symbol,
                        _short(exc),
                        delay,
                    )
                    await asyncio.sleep(delay)
                    continue
                try:
                    self._on_snapshot(st, *snap)
                except OSError as exc:
                    self._fail(exc)
                    return
                break

    def _on_snapshot(self, st: _Stream, last_id: int, payload: bytes) -> None:
        if st.base is not None and last_id < st.base:
            st.counts["stale_snapshots"] += 1
            log.info("%s: snapshot %d older than the stream (%d)", st.symbol, last_id, st.base)
            st.wanted.set()
            return
        ts = self.config.clock()
        f = self._file(st, ts)  # may rotate: then this snapshot opens the new file
        f.write(ts, payload)
        f.flush()
        st.counts["snapshots"] += 1
        st.snap_id = last_id
        st.wanted.clear()
        self._check_snapshot(st)

    # ----------------------------------------------------------------- housekeeping

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.flush_interval)
            try:
                for st in self.streams.values():
                    if st.file is not None:
                        st.file.flush()
            except OSError as exc:
                self._fail(exc)
                return

    async def _status_loop(self) -> None:
        last_t, last_n = time.monotonic(), self.messages
        while True:
            await asyncio.sleep(self.config.status_interval)
            now = time.monotonic()
            rate = (self.messages - last_n) / max(now - last_t, 1e-9)
            last_t, last_n = now, self.messages
            self._log_status(rate=rate)

    def _log_status(self, rate: float | None = None, final: bool = False) -> None:
        s = self.stats
        if rate is None:
            rate = s["messages"] / max(s["seconds"], 1e-9)
        log.info(
            "%s%d msgs (%.1f/s), %d files, %d gaps, %d snapshots, %d reconnects",
            "done: " if final else "",
            s["messages"],
            rate,
            len(s["files"]),
            s["gaps"],
            s["snapshots"],
            s["reconnects"],
        )


def _parse_snapshot(body: bytes) -> tuple[int, bytes]:
    """``(lastUpdateId, the body on one line)``; ``ValueError`` if it is no depth snapshot."""
    payload = _one_line(body)
    try:
        snap = orjson.loads(payload)
        last_id = int(snap["lastUpdateId"])
        ok = isinstance(snap["bids"], list) and isinstance(snap["asks"], list)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a depth snapshot ({_short(exc)}): {payload[:120]!r}") from None
    if not ok:
        raise ValueError(f"not a depth snapshot (bids/asks): {payload[:120]!r}")
    return last_id, payload


def _stream_name(raw: bytes) -> str | None:
    """The stream name of a combined-stream envelope without parsing it, if it leads."""
    if raw.startswith(b'{"stream":"'):
        end = raw.find(b'"', 11)
        if end > 11:
            return raw[11:end].decode("ascii", "replace")
    return None


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 200 else text[:200] + "..."


class _WriteError(OSError):
    """Writing a recording file failed (disk full, permissions): the recorder stops."""


class _HTTPStatusError(OSError):
    def __init__(self, message: str, retry_after: float | None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


def _http_get(url: str, timeout: float) -> bytes:
    """GET a URL with the standard library; raises ``OSError`` on HTTP errors."""
    req = urllib.request.Request(url, headers={"User-Agent": "lobutils-recorder"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        retry = exc.headers.get("Retry-After") if exc.headers else None
        try:
            retry_after = float(retry) if retry else None
        except ValueError:
            retry_after = None
        body = exc.read()[:200]
        raise _HTTPStatusError(
            f"HTTP {exc.code} from {url}: {body!r}", retry_after, exc.code
        ) from None
    except http.client.HTTPException as exc:  # a broken response (IncompleteRead, ...)
        raise OSError(f"bad HTTP response from {url}: {_short(exc)}") from None


# --------------------------------------------------------------------------- entry point


def record(symbols: Iterable[str] | str, market: str = "spot", **options) -> dict:
    """Record Binance streams until a signal, ``max_messages`` or ``max_seconds``.

    Parameters
    ----------
    symbols
        Binance symbols, e.g. ``["btcusdt", "ethusdt"]``.
    market
        ``"spot"``, ``"usdm"`` or ``"cm"``.
    **options
        Any other :class:`RecorderConfig` field (``out_dir``, ``rotate``, ``max_seconds``, ...).

    Returns
    -------
    dict
        Counts: ``messages``, ``gaps``, ``snapshots``, ``reconnects``, ``files``, per symbol.

    Raises
    ------
    ConnectionError
        A permanent network error, or ``max_retry_time`` seconds of transient ones.
    OSError
        A recording file could not be written.

    Notes
    -----
    Inside a running event loop (a notebook) the recording runs in a worker thread, without
    signal handlers; interrupt the kernel to stop it, or use ``await Recorder(cfg).run()``.
    Its errors are raised in the caller's thread all the same.
    """
    symbols = (symbols,) if isinstance(symbols, str) else tuple(symbols)
    rec = Recorder(RecorderConfig(symbols=symbols, market=market, **options))
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(rec.run())
    result: dict = {}
    failure: list[BaseException] = []

    def work():
        try:
            result.update(asyncio.run(rec.run(handle_signals=False)))
        except BaseException as exc:  # raised again in the caller's thread
            failure.append(exc)

    t = threading.Thread(target=work, name="lobutils-recorder", daemon=True)
    t.start()
    try:
        while t.is_alive():
            t.join(0.2)
    except KeyboardInterrupt:
        rec.stop("SIGINT")
        t.join()
    if failure:
        raise failure[0]
    return result
