"""Order-book and trade polling through ccxt, in the shared event schema.

The simplest acquisition method: poll an exchange's REST order book (top N levels)
and its recent trades at a fixed interval, for any exchange ccxt supports (Bybit by default).
It reaches every exchange with one code path, at the cost of seeing the book only at the
polling times (a websocket recording, :mod:`lobutils.acquire.recorder`, sees every change).

Each poll becomes events of the shared schema (:mod:`lobutils.acquire.polls`): a book is one
depth snapshot, trades are trade rows, de-duplicated by trade id across polls.

Bad responses
-------------
:func:`~lobutils.acquire.polls.polls_to_depth` and
:func:`~lobutils.acquire.polls.trades_to_frame` raise ``ValueError`` naming the poll for a book or
trade they cannot store correctly. The :class:`Collector` never stores one: it skips,
counts (:attr:`Collector.stats`) and logs it, naming symbol and poll, so that a long session
survives one bad answer (the next poll's book replaces the book anyway):

* ``empty_books``: a book with no level on either side (a one-sided book is kept);
* ``bad_books``: a level that is not ``[price, amount]``, a price that is not a finite number
  > 0, an amount that is negative or not finite (the text ``"NaN"``), a nonce or timestamp that
  is not an integer;
* ``stale_books``: a book older than the last one stored (a lower nonce or, without nonces, an
  earlier exchange timestamp), as a lagging server can answer;
* ``other_symbol``: a book or trade of another symbol than the one asked for;
* ``bad_trades``: a trade without a finite price and amount > 0;
* counted but kept: ``zero_size_levels`` (a REST book lists no empty level; the replay leaves it
  out, as it does any zero size), ``unknown_side`` (the exchange does not say),
  ``trade_ts_backwards`` (a new trade older than one already stored), ``duplicates`` (trades
  seen in an earlier poll, dropped) and ``trade_gaps`` (polls whose trades do not overlap the
  last poll's: trades may have been missed).

A crossed book is stored as polled: :func:`lobutils.book.replay.reconstruct` counts it
(``crossed_snapshots``) and emits no state for it. The first problems, as text, are in
``stats["problems"]``. :func:`read_collected` raises naming the file for a parquet part that is
empty, cut or corrupt.

Files
-----
Every ``flush_polls`` polls (and at the end) the collector writes one part per symbol and
table, atomically (a temporary file, then :func:`os.replace`)::

    <out_dir>/<exchange>/<SYMBOL>/depth_<session start>_<part>.parquet
    <out_dir>/<exchange>/<SYMBOL>/trades_<session start>_<part>.parquet

with ``SYMBOL`` the ccxt symbol with ``/`` and ``:`` turned into ``-`` (``BTC-USDT``).
:func:`read_collected` joins the parts of one symbol back into two frames.

Keys, rate limits, retries
--------------------------
Public data needs no key. Where an exchange wants one, it is read from the environment only:
``LOBUTILS_<EXCHANGE>_API_KEY``, ``..._SECRET`` and, for exchanges that use them,
``..._PASSWORD`` and ``..._UID`` (e.g. ``LOBUTILS_BYBIT_API_KEY``). The values are never
printed or logged: log records of this module and of ccxt's logger have them masked
(:mod:`lobutils.acquire.redact`). ccxt's
rate limiter is on (``enableRateLimit``); network errors, HTTP 429/418/5xx and timeouts
(ccxt's ``NetworkError`` family) are retried with exponential backoff and jitter.

Giving up
---------
A permanent error stops the collector at once: a malformed ``api_url``, a host name that does
not resolve, a bad symbol or key (ccxt's non-network errors). When polls keep failing on
network errors for ``max_retry_time`` seconds in a row (no book received), :func:`collect`
raises :class:`ConnectionError`. SIGTERM and Ctrl-C stop it after the current request.

Examples
--------
Live (needs the network)::

    from lobutils.acquire.collect import collect
    run = collect("bybit", ["BTC/USDT"], levels=50, interval=1.0, duration=60)
    depth, trades = run.frames("BTC/USDT")
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import random
import re
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lobutils.acquire.polls import book_problem, polls_to_depth, trade_problem, trades_to_frame
from lobutils.acquire.recorder import check_url, permanent_error
from lobutils.acquire.redact import CREDENTIALS, api_credentials, guard_loggers, redact
from lobutils.data.checks import MAX_LISTED, RecordingError, input_paths
from lobutils.schema import DEPTH_COLUMNS, TRADE_COLUMNS, empty_frame

__all__ = ["Collection", "Collector", "collect", "make_exchange", "read_collected"]

log = logging.getLogger("lobutils.acquire.collect")


# --------------------------------------------------------------------------- exchange


def _override_origin(urls, origin: str):
    """Replace the scheme and host of every URL in a (nested) ccxt ``urls['api']`` value."""
    if isinstance(urls, str):
        return re.sub(r"^[a-z]+://[^/]+", origin.rstrip("/"), urls)
    if isinstance(urls, dict):
        return {k: _override_origin(v, origin) for k, v in urls.items()}
    return urls


def make_exchange(
    exchange: str = "bybit",
    api_url: str | None = None,
    options: Mapping | None = None,
    config: Mapping | None = None,
    env: Mapping[str, str] | None = None,
):
    """A ccxt exchange with the rate limiter on and keys (if any) from the environment.

    Parameters
    ----------
    exchange
        A ccxt exchange id (``"bybit"``, ``"binance"``, ``"okx"``, ...).
    api_url
        Send every REST request to this origin instead (``http://127.0.0.1:8080``): the scheme
        and host of each URL in ``urls['api']`` are replaced, paths kept. For tests and mirrors.
    options
        Merged into the exchange's ccxt ``options`` (e.g. ``{"fetchMarkets": {"types":
        ["spot"]}}`` to load spot markets only).
    config
        Other ccxt constructor settings (``timeout``, ``rateLimit``, ...). Keys are not
        accepted here: they come from the environment only (:func:`api_credentials`).
    env
        The environment to read keys from (default :data:`os.environ`).

    Returns
    -------
    ccxt.Exchange
        The exchange object, its markets not loaded yet.

    Examples
    --------
    >>> ex = make_exchange("bybit", api_url="http://127.0.0.1:9", env={})
    >>> ex.enableRateLimit, ex.urls["api"]["public"], bool(ex.apiKey)
    (True, 'http://127.0.0.1:9', False)
    """
    import ccxt

    guard_loggers()
    if exchange not in ccxt.exchanges:
        raise ValueError(f"unknown ccxt exchange {exchange!r}")
    if api_url is not None:
        check_url(api_url, ("http", "https"), "api_url")
    settings = dict(config or {})
    leaked = set(settings) & set(CREDENTIALS.values())
    if leaked:
        raise ValueError(
            f"pass credentials through LOBUTILS_{exchange.upper()}_* environment variables, "
            f"not as {sorted(leaked)}"
        )
    settings.setdefault("enableRateLimit", True)
    settings.update(api_credentials(exchange, env))
    ex = getattr(ccxt, exchange)(settings)
    if options:
        ex.options.update(options)
    if api_url:
        ex.urls["api"] = _override_origin(ex.urls["api"], api_url)
    return ex


class _Retry:
    """Calls with exponential backoff on ccxt's network errors (429, 5xx, timeouts).

    No retry for a permanent error (:func:`~lobutils.acquire.recorder.permanent_error`), none
    after ``max_time`` seconds of failures in a row or once ``stop`` is set (SIGTERM), and no
    wait past that time.
    """

    def __init__(
        self,
        retries: int,
        backoff: float,
        backoff_max: float,
        sleep=time.sleep,
        max_time: float = float("inf"),
        stop: threading.Event | None = None,
    ):
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.sleep = sleep
        self.max_time = max_time
        self.stop = stop
        self.count = 0
        self.failing_since: float | None = None

    def __call__(self, fn: Callable, *args, **kwargs):
        import ccxt

        attempt = 0
        while True:
            try:
                out = fn(*args, **kwargs)
                self.failing_since = None
                return out
            except ccxt.NetworkError as exc:
                now = time.monotonic()
                if self.failing_since is None:
                    self.failing_since = now
                left = self.max_time - (now - self.failing_since)
                stopped = self.stop is not None and self.stop.is_set()
                if stopped or attempt >= self.retries or left <= 0 or permanent_error(exc):
                    raise
                delay = min(self.backoff_max, self.backoff * 2**attempt)
                delay = min(delay * (0.5 + random.random() / 2), left)
                attempt += 1
                self.count += 1
                log.warning(
                    "%s: %s; retry %d of %d in %.2f s",
                    getattr(fn, "__name__", "call"),
                    redact(_short(exc)),
                    attempt,
                    self.retries,
                    delay,
                )
                self.sleep(delay)


def _short(exc: BaseException, n: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= n else text[:n] + "..."


# --------------------------------------------------------------------------- collector


def _safe(symbol: str) -> str:
    """``BTC/USDT:USDT`` -> ``BTC-USDT-USDT``: a file-system-safe symbol.

    >>> _safe("BTC/USDT:USDT")
    'BTC-USDT-USDT'
    """
    return re.sub(r"[^A-Za-z0-9._]+", "-", symbol).strip("-")


def _write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class _SymbolBuffer:
    def __init__(self, symbol: str):
        self.symbol = symbol
        self.books: list[Mapping] = []
        self.book_local: list[int] = []
        self.book_poll: list[int] = []
        self.last_nonce: int | None = None
        self.last_ts: int | None = None
        self.last_trade_ts: int | None = None
        self.trades: list[Mapping] = []
        self.trade_local: list[int] = []
        self.trade_line: list[int] = []
        self.seen: set[str] = set()
        self.seen_order: deque[str] = deque()
        self.polls = 0  # books polled so far (the poll number)
        self.next_msg = 0
        self.part = 0
        self.files: list[Path] = []
        self.counts = dict.fromkeys(_COUNTS, 0)


_COUNTS = (
    "books",
    "trades",
    "duplicates",
    "trade_gaps",
    "empty_books",
    "bad_books",
    "stale_books",
    "other_symbol",
    "zero_size_levels",
    "bad_trades",
    "unknown_side",
    "trade_ts_backwards",
)
"""The per-symbol counts of :attr:`Collector.stats` (see the module notes)."""


class Collector:
    """Polls books and trades of some symbols through one ccxt exchange.

    Most users call :func:`collect`; the class is the same loop, one :meth:`poll` at a time,
    for a caller that schedules its own polls.

    Parameters
    ----------
    exchange
        A ccxt exchange object (see :func:`make_exchange`).
    symbols
        ccxt symbols, e.g. ``["BTC/USDT", "ETH/USDT:USDT"]``.
    levels
        Book levels per side to ask for.
    trades
        Also poll recent trades.
    trade_limit
        Trades to ask for per poll (None: the exchange's default).
    out_dir
        Where the parquet parts go; None keeps everything in memory until :meth:`frames`.
    retries, backoff, backoff_max
        Retries of a failing request and their delays (seconds, doubling, with jitter).
    clock
        Local clock in ns (default :func:`time.time_ns`).
    sleep
        How to wait between retries (default :func:`time.sleep`; tests record the delays).
    max_retry_time
        Seconds of failed requests in a row after which a request is not retried any more.
    stop
        An event that, once set (by SIGTERM in :func:`collect`), ends retrying at once.

    Returns
    -------
    Collector
        Call :meth:`poll`, then :meth:`flush` or :meth:`frames`.
    """

    def __init__(
        self,
        exchange,
        symbols: Iterable[str],
        levels: int = 50,
        trades: bool = True,
        trade_limit: int | None = None,
        out_dir: str | os.PathLike | None = None,
        retries: int = 5,
        backoff: float = 1.0,
        backoff_max: float = 60.0,
        clock: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], None] = time.sleep,
        max_retry_time: float = float("inf"),
        stop: threading.Event | None = None,
    ):
        self.exchange = exchange
        self.symbols = [symbols] if isinstance(symbols, str) else list(symbols)
        if not self.symbols:
            raise ValueError("no symbol given")
        if levels < 1:
            raise ValueError(f"levels must be >= 1, got {levels}")
        self.levels = levels
        self.with_trades = trades
        self.trade_limit = trade_limit
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.clock = clock
        self.retry = _Retry(retries, backoff, backoff_max, sleep, max_retry_time, stop)
        self.session = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S")
        self.buffers = {s: _SymbolBuffer(s) for s in self.symbols}
        if getattr(exchange, "id", None) in _SEQUENCE_FIELDS:
            exchange.enableLastJsonResponse = True  # the raw book response holds its update id
        self.errors = 0
        self.problems: list[str] = []
        self._markets_loaded = False

    def _load_markets(self) -> None:
        if not self._markets_loaded:
            self.retry(self.exchange.load_markets)
            missing = [s for s in self.symbols if s not in self.exchange.markets]
            if missing:
                raise ValueError(f"{self.exchange.id} has no market {missing}")
            self._markets_loaded = True

    def poll(self) -> None:
        """Poll every symbol's book (and trades) once.

        A book or trade that cannot be stored correctly is skipped, counted and logged (see
        the module notes); the poll still counts.
        """
        self._load_markets()
        for sym, buf in self.buffers.items():
            book = self.retry(self.exchange.fetch_order_book, sym, self.levels)
            local = self.clock()
            buf.polls += 1
            if isinstance(book, Mapping) and book.get("nonce") is None:
                seq = _sequence(self.exchange)
                if seq is not None:
                    book = {**book, "nonce": seq}
            if self._check_book(buf, book):
                buf.books.append(book)
                buf.book_local.append(local)
                buf.book_poll.append(buf.polls)
                buf.counts["books"] += 1
            if self.with_trades:
                got = self.retry(self.exchange.fetch_trades, sym, None, self.trade_limit)
                local = self.clock()
                self._add_trades(buf, got, local)

    def _skip(self, buf: _SymbolBuffer, count: str, why: str) -> bool:
        buf.counts[count] += 1
        text = f"{getattr(self.exchange, 'id', '?')} {buf.symbol} poll {buf.polls}: {why}"
        if len(self.problems) < MAX_LISTED:
            self.problems.append(text)
        log.warning("%s; skipped", text)
        return False

    def _check_book(self, buf: _SymbolBuffer, book) -> bool:
        """Whether a polled book can be stored; counts what it cannot (module notes)."""
        problem = book_problem(book)
        if problem is not None:
            return self._skip(
                buf, "empty_books" if problem.startswith("empty") else "bad_books", problem
            )
        other = book.get("symbol")
        if other is not None and other != buf.symbol:
            return self._skip(buf, "other_symbol", f"a book of {other!r}")
        nonce, ts = book.get("nonce"), book.get("timestamp")
        nonce = None if nonce is None else int(nonce)
        ts = None if ts is None else int(ts)
        if nonce is not None and buf.last_nonce is not None:
            stale = nonce < buf.last_nonce
        else:
            stale = ts is not None and buf.last_ts is not None and ts < buf.last_ts
        if stale:
            return self._skip(
                buf, "stale_books", f"a book older than the last one (nonce {nonce}, ts {ts})"
            )
        buf.last_nonce = nonce if nonce is not None else buf.last_nonce
        buf.last_ts = ts if ts is not None else buf.last_ts
        for side in ("bids", "asks"):
            buf.counts["zero_size_levels"] += sum(
                1 for r in book.get(side) or [] if float(r[1]) == 0
            )
        return True

    def _add_trades(self, buf: _SymbolBuffer, got: list[Mapping], local: int) -> None:
        good = []
        for t in got:
            problem = trade_problem(t)
            if problem is not None:
                self._skip(buf, "bad_trades", problem)
            elif t.get("symbol") not in (None, buf.symbol):
                self._skip(buf, "other_symbol", f"a trade of {t['symbol']!r}")
            else:
                good.append(t)
        got = good
        keys = [_trade_key(t) for t in got]
        if buf.seen and got and not any(k in buf.seen for k in keys):
            buf.counts["trade_gaps"] += 1  # no overlap with the last poll: trades may be missed
        fresh, taken = [], set()
        for k, t in zip(keys, got, strict=True):
            if k not in buf.seen and k not in taken:  # seen before, or twice in this answer
                taken.add(k)
                fresh.append((k, t))
        buf.counts["duplicates"] += len(got) - len(fresh)
        fresh.sort(key=lambda kt: (kt[1].get("timestamp") or 0, kt[0]))
        last = buf.last_trade_ts
        for k, t in fresh:
            ts = t.get("timestamp")
            if ts is not None:
                if last is not None and int(ts) < last:
                    buf.counts["trade_ts_backwards"] += 1
                buf.last_trade_ts = max(int(ts), buf.last_trade_ts or int(ts))
            if t.get("side") not in ("buy", "sell"):
                buf.counts["unknown_side"] += 1
            buf.seen.add(k)
            buf.seen_order.append(k)
            buf.trades.append(t)
            buf.trade_local.append(local)
            buf.trade_line.append(buf.polls)
        buf.counts["trades"] += len(fresh)
        while len(buf.seen_order) > 100_000:
            buf.seen.discard(buf.seen_order.popleft())

    def _frames(self, buf: _SymbolBuffer) -> tuple[pd.DataFrame, pd.DataFrame]:
        depth = polls_to_depth(
            buf.books, buf.book_local, first_msg=buf.next_msg, polls=buf.book_poll
        )
        trades = trades_to_frame(buf.trades, buf.trade_local, buf.trade_line)
        return depth, trades

    def flush(self) -> list[Path]:
        """Write the polls since the last flush as parquet parts.

        Returns
        -------
        list of pathlib.Path
            The parts written (none without an ``out_dir``).
        """
        if self.out_dir is None:
            return []
        written = []
        for sym, buf in self.buffers.items():
            if not buf.books and not buf.trades:
                continue
            depth, trades = self._frames(buf)
            folder = self.out_dir / _safe(self.exchange.id) / _safe(sym)
            stem = f"{self.session}_{buf.part:05d}.parquet"
            for name, frame in (("depth", depth), ("trades", trades)):
                path = _write_parquet(frame, folder / f"{name}_{stem}")
                buf.files.append(path)
                written.append(path)
            buf.part += 1
            buf.next_msg += len(buf.books)
            buf.books, buf.book_local, buf.book_poll = [], [], []
            buf.trades, buf.trade_local, buf.trade_line = [], [], []
        return written

    def frames(self, symbol: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Depth and trade frames of one symbol: written parts plus what is not flushed yet.

        Parameters
        ----------
        symbol : str
            One of the collector's ccxt symbols.

        Returns
        -------
        depth, trades : pandas.DataFrame
            Frames in the event schema.
        """
        buf = self.buffers[symbol]
        depth, trades = self._frames(buf)
        if buf.files:
            d0, t0 = read_collected(buf.files)
            depth = pd.concat([d0, depth], ignore_index=True)
            trades = pd.concat([t0, trades], ignore_index=True)
        return depth, trades

    @property
    def stats(self) -> dict:
        """Counts so far: polls, books, trades, duplicates, retries, errors, per symbol."""
        per = {s: dict(b.counts) for s, b in self.buffers.items()}
        return {
            "exchange": self.exchange.id,
            "symbols": list(self.symbols),
            "polls": max(b.polls for b in self.buffers.values()),
            **{k: sum(p[k] for p in per.values()) for k in next(iter(per.values()))},
            "retries": self.retry.count,
            "errors": self.errors,
            "problems": list(self.problems),
            "per_symbol": per,
        }


_SEQUENCE_FIELDS = {"bybit": ("result", "u")}
"""Where an exchange's raw order-book response keeps its update id when ccxt has no nonce."""


def _sequence(exchange) -> int | None:
    """The book's update id from the raw response, for exchanges in :data:`_SEQUENCE_FIELDS`."""
    path = _SEQUENCE_FIELDS.get(getattr(exchange, "id", ""))
    value = getattr(exchange, "last_json_response", None)
    if path is None:
        return None
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _trade_key(t: Mapping) -> str:
    tid = t.get("id")
    if tid is not None:
        return str(tid)
    return f"{t.get('timestamp')}|{t.get('price')}|{t.get('amount')}|{t.get('side')}"


def read_collected(
    files: str | os.PathLike | Iterable[str | os.PathLike],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join the collector's parquet parts of ONE symbol into (depth, trades) frames.

    Parameters
    ----------
    files
        A symbol's folder (``<out_dir>/<exchange>/<SYMBOL>``) or its part files.

    Returns
    -------
    depth, trades
        Frames in the event schema, in time order; ``msg`` is renumbered so that parts of
        several sessions join into one stream.
    """
    if isinstance(files, str | os.PathLike):
        p = Path(files)
        files = sorted(p.glob("*.parquet")) if p.is_dir() else [p]
    files = list(files)
    paths = sorted(input_paths(files, "collector part")) if files else []
    depth_parts = [p for p in paths if p.name.startswith("depth_")]
    trade_parts = [p for p in paths if p.name.startswith("trades_")]
    if not depth_parts and not trade_parts:
        raise FileNotFoundError(f"no collector parts (depth_*/trades_*.parquet) in {files}")
    depth = [_read_part(p) for p in depth_parts]
    offset = 0
    for d in depth:
        if len(d):
            d["msg"] = d["msg"] - int(d["msg"].iloc[0]) + offset
            offset = int(d["msg"].iloc[-1]) + 1
    d = pd.concat(depth, ignore_index=True) if depth else empty_frame(DEPTH_COLUMNS)
    t = (
        pd.concat([_read_part(p) for p in trade_parts], ignore_index=True)
        if trade_parts
        else empty_frame(TRADE_COLUMNS)
    )
    if len(t):
        t = t.drop_duplicates("trade_id", keep="first").reset_index(drop=True)
    return d.astype(DEPTH_COLUMNS), t.astype(TRADE_COLUMNS)


def _read_part(path: Path) -> pd.DataFrame:
    """One parquet part; an empty, cut or corrupt file raises naming it."""
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise RecordingError(f"{path}: empty, truncated or corrupt parquet part ({exc})") from None


@dataclass
class Collection:
    """What :func:`collect` did: files written per symbol, and counts.

    Attributes
    ----------
    files : dict
        ccxt symbol -> the parquet parts written for it.
    stats : dict
        Counts of the session (polls, books, trades, duplicates, retries, ...).
    _collector : Collector or None
        The collector itself, whose unflushed polls :meth:`frames` includes (internal).
    """

    files: dict[str, list[Path]]
    stats: dict
    _collector: Collector | None = field(default=None, repr=False)

    def frames(self, symbol: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(depth, trades) of one symbol in the event schema.

        Parameters
        ----------
        symbol : str
            A ccxt symbol of the collection.

        Returns
        -------
        depth, trades : pandas.DataFrame
            Frames with :data:`~lobutils.schema.DEPTH_COLUMNS` and
            :data:`~lobutils.schema.TRADE_COLUMNS`.
        """
        if self._collector is not None:
            return self._collector.frames(symbol)
        return read_collected(self.files[symbol])


@contextmanager
def _sigterm_sets(stop: threading.Event) -> Iterator[None]:
    """While inside, SIGTERM sets ``stop`` (main thread only); the old handler comes back after."""
    old = None
    if threading.current_thread() is threading.main_thread():
        try:
            old = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        except ValueError:  # pragma: no cover
            old = None
    try:
        yield
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


def _check_give_up(col: Collector, exc: BaseException, failing: float, limit: float) -> None:
    """Raise :class:`ConnectionError` for a permanent error, or after ``limit`` s of failures."""
    reason = permanent_error(exc)
    if reason is not None:
        raise ConnectionError(redact(f"{col.exchange.id}: {reason}; not retrying")) from None
    if failing >= limit:
        raise ConnectionError(
            redact(
                f"{col.exchange.id}: gave up after {failing:.1f} s without a successful poll "
                f"(max_retry_time {limit:g} s); last error: {_short(exc)}"
            )
        ) from None


def _poll_loop(
    col: Collector,
    interval: float,
    polls: int | None,
    duration: float | None,
    flush_polls: int,
    stop: threading.Event,
    bar,
    t0: float,
    max_retry_time: float = 300.0,
) -> str:
    """Poll every ``interval`` seconds from ``t0`` until a limit or a signal; what stopped it.

    Raises :class:`ConnectionError` on a permanent network error, or when no poll has
    succeeded for ``max_retry_time`` seconds.
    """
    import ccxt

    next_t = t0
    n = 0
    last_ok = t0
    stopped_by = "polls" if polls is not None else "duration"
    try:
        while True:
            if polls is not None and n >= polls:
                break
            if duration is not None and time.monotonic() - t0 >= duration:
                stopped_by = "duration"
                break
            if stop.is_set():
                stopped_by = "SIGTERM"
                break
            try:
                col.poll()
                last_ok = time.monotonic()
            except ccxt.NetworkError as exc:  # retries exhausted: skip this poll, go on
                col.errors += 1
                log.error("%s: poll failed after retries: %s", col.exchange.id, redact(_short(exc)))
                _check_give_up(col, exc, time.monotonic() - last_ok, max_retry_time)
            n += 1
            if n % flush_polls == 0:
                col.flush()
            if bar is not None:
                s = col.stats
                bar.update(1)
                bar.set_postfix(trades=s["trades"], retries=s["retries"], refresh=False)
            next_t += interval
            wait = next_t - time.monotonic()
            if wait > 0:
                stop.wait(wait)
            else:
                next_t = time.monotonic()
    except KeyboardInterrupt:
        stopped_by = "SIGINT"
    return stopped_by


def collect(
    exchange="bybit",
    symbols: Iterable[str] | str = ("BTC/USDT",),
    levels: int = 50,
    interval: float = 1.0,
    polls: int | None = None,
    duration: float | None = None,
    out_dir: str | os.PathLike | None = None,
    flush_polls: int = 600,
    trades: bool = True,
    trade_limit: int | None = None,
    api_url: str | None = None,
    options: Mapping | None = None,
    retries: int = 5,
    backoff: float = 1.0,
    backoff_max: float = 60.0,
    progress: bool = True,
    max_retry_time: float = 300.0,
) -> Collection:
    """Poll order books and trades at a fixed interval and write them as parquet parts.

    Parameters
    ----------
    exchange
        A ccxt exchange id (default ``"bybit"``) or a ready ccxt exchange object.
    symbols
        ccxt symbols, e.g. ``"BTC/USDT"`` (spot) or ``"BTC/USDT:USDT"`` (linear perpetual).
    levels
        Book levels per side (the exchange may cap it: Bybit spot 200, derivatives 500).
    interval
        Seconds between poll starts. A poll that overruns starts the next one at once.
    polls, duration
        Stop after this many polls or seconds (both positive); with neither, run until
        interrupted (Ctrl-C or SIGTERM stop after the current poll, and everything is
        written) or until the network gives out (``max_retry_time``).
    out_dir
        Output root (default ``$LOBUTILS_DATA_DIR/recordings/ccxt``, git-ignored); parts go to
        ``<out_dir>/<exchange>/<SYMBOL>/``.
    flush_polls
        Write a part every this many polls.
    trades, trade_limit
        Poll recent trades too, and how many per request.
    api_url, options
        See :func:`make_exchange` (ignored when ``exchange`` is an object).
    retries, backoff, backoff_max
        Retries of failing requests with exponential backoff (seconds).
    progress
        Show a tqdm progress bar on stderr.
    max_retry_time
        Seconds without a successful poll (network errors only) after which collecting
        stops with :class:`ConnectionError`; permanent errors stop it at once.

    Returns
    -------
    Collection
        ``files`` per symbol, ``stats`` (polls, books, trades, duplicates, retries, ...), and
        :meth:`Collection.frames`.
    """

    ex = (
        make_exchange(exchange, api_url=api_url, options=options)
        if isinstance(exchange, str)
        else exchange
    )
    if out_dir is None:
        from lobutils import paths

        out_dir = paths.data_dir() / "recordings" / "ccxt"
    if interval < 0 or flush_polls < 1:
        raise ValueError("interval must be >= 0 and flush_polls >= 1")
    for name, value in (
        ("polls", polls),
        ("duration", duration),
        ("max_retry_time", max_retry_time),
    ):
        if value is not None and not value > 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
    stop = threading.Event()
    col = Collector(
        ex,
        symbols,
        levels=levels,
        trades=trades,
        trade_limit=trade_limit,
        out_dir=out_dir,
        retries=retries,
        backoff=backoff,
        backoff_max=backoff_max,
        max_retry_time=max_retry_time,
        sleep=stop.wait,
        stop=stop,
    )
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=polls, unit="poll", desc=f"{ex.id} {','.join(col.symbols)}")
    t0 = time.monotonic()
    with _sigterm_sets(stop):
        try:
            stopped_by = _poll_loop(
                col, interval, polls, duration, flush_polls, stop, bar, t0, max_retry_time
            )
        finally:
            col.flush()
            if bar is not None:
                bar.close()
    stats = col.stats | {"seconds": round(time.monotonic() - t0, 3), "stopped_by": stopped_by}
    log.info(
        "%s: %d polls, %d trades, %d retries",
        ex.id,
        stats["polls"],
        stats["trades"],
        stats["retries"],
    )
    return Collection({s: list(b.files) for s, b in col.buffers.items()}, stats, col)
