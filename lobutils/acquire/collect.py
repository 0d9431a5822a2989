"""Order-book and trade polling through ccxt, in the shared event schema; liquid-symbol ranking.

This is the seed's first acquisition method: poll an exchange's REST order book (top N levels)
and its recent trades at a fixed interval, for any exchange ccxt supports (Bybit by default).
It reaches every exchange with one code path, at the cost of seeing the book only at the
polling times (a websocket recording, :mod:`lobutils.acquire.record`, sees every change).

Event schema
------------
Each poll of a book becomes depth events (:data:`~lobutils.schema.DEPTH_COLUMNS`): one
:data:`~lobutils.schema.SNAPSHOT` message with the book's levels. ``first_id == last_id`` is the book's sequence number (ccxt's ``nonce``, e.g. Bybit's ``u``)
when the exchange sends one, else the poll's number. ``ts`` is the exchange's timestamp of the
book when it sends one, else the local receive time; ``local_ts`` is the receive time; ``line``
is the poll's number. Replaying with ``chain="none"`` (every snapshot replaces the book and is
emitted as a state) gives one book-frame row per poll:

>>> from lobutils.book.replay import reconstruct
>>> polls = [{"bids": [[100.0, 1.0]], "asks": [[101.0, 2.0]], "nonce": 7, "timestamp": 1000}]
>>> depth = polls_to_depth(polls, local_ts=[1_000_000_123])
>>> reconstruct(depth, levels=1, chain="none").frame.iloc[0].tolist()
[1000000000.0, 1000000123.0, 7.0, 100.0, 1.0, 101.0, 2.0]

Trades become :data:`~lobutils.schema.TRADE_COLUMNS` rows, de-duplicated by trade id
across polls; ``side`` is ccxt's ``side`` of the taker (+1 buy, -1 sell, 0 unknown). Ids that
are not integers (Bybit's derivatives use UUIDs) become a stable 63-bit hash of the id.

Bad responses
-------------
:func:`polls_to_depth` and :func:`trades_to_frame` raise ``ValueError`` naming the poll for a
book or trade they cannot store correctly. The :class:`Collector` never stores one: it skips,
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
printed or logged: log records of this module and of ccxt's logger have them masked. ccxt's
rate limiter is on (``enableRateLimit``); network errors, HTTP 429/418/5xx and timeouts
(ccxt's ``NetworkError`` family) are retried with exponential backoff and jitter.

Examples
--------
Live (needs the network)::

    from lobutils.acquire.collect import collect, rank_symbols
    top = rank_symbols("binance", quote="USDT", top=10, days=30)
    run = collect("bybit", ["BTC/USDT"], levels=50, interval=1.0, duration=60)
    depth, trades = run.frames("BTC/USDT")
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import math
import os
import random
import re
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lobutils.schema import ASK, BID, DEPTH_COLUMNS, SNAPSHOT, TRADE_COLUMNS, empty_frame

__all__ = [
    "Collection",
    "Collector",
    "add_parsers",
    "api_credentials",
    "collect",
    "make_exchange",
    "polls_to_depth",
    "rank_symbols",
    "read_collected",
    "trades_to_frame",
]

log = logging.getLogger("lobutils.acquire.collect")

_CREDENTIALS = {"API_KEY": "apiKey", "SECRET": "secret", "PASSWORD": "password", "UID": "uid"}
_MS = 1_000_000
_DAY_MS = 86_400_000


# --------------------------------------------------------------------------- secrets


_MIN_SECRET_LEN = 6


class _Redact(logging.Filter):
    """Masks registered secret values in log records (message and arguments)."""

    def __init__(self):
        super().__init__("lobutils-redact")
        self.secrets: set[str] = set()

    def redact(self, text: str) -> str:
        for s in self.secrets:
            if len(s) >= _MIN_SECRET_LEN:  # a one-letter "secret" would mask every word
                text = text.replace(s, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            try:
                msg = record.getMessage()
            except Exception:  # pragma: no cover - a broken record: leave it to logging
                return True
            clean = self.redact(msg)
            if clean != msg:
                record.msg, record.args = clean, None
        return True


_REDACT = _Redact()


def _guard_loggers() -> None:
    for name in ("ccxt.base.exchange", "ccxt", log.name):
        lg = logging.getLogger(name)
        if _REDACT not in lg.filters:
            lg.addFilter(_REDACT)


def _redact(text: str) -> str:
    return _REDACT.redact(text)


def api_credentials(exchange: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """ccxt credentials for ``exchange`` from ``LOBUTILS_<EXCHANGE>_*`` environment variables.

    Only the variables that are set and non-empty are returned; an empty dict means public
    access. The values are registered for masking in logs.

    Examples
    --------
    >>> env = {"LOBUTILS_BYBIT_API_KEY": "key-123456", "LOBUTILS_BYBIT_SECRET": "secret-123456"}
    >>> sorted(api_credentials("bybit", env))
    ['apiKey', 'secret']
    >>> api_credentials("kraken", env)
    {}
    """
    env = os.environ if env is None else env
    prefix = f"LOBUTILS_{re.sub(r'[^A-Za-z0-9]', '_', exchange).upper()}_"
    out = {}
    for suffix, attr in _CREDENTIALS.items():
        value = env.get(prefix + suffix, "").strip()
        if value:
            out[attr] = value
            _REDACT.secrets.add(value)
    return out


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

    Examples
    --------
    >>> ex = make_exchange("bybit", api_url="http://127.0.0.1:9", env={})
    >>> ex.enableRateLimit, ex.urls["api"]["public"], bool(ex.apiKey)
    (True, 'http://127.0.0.1:9', False)
    """
    import ccxt

    _guard_loggers()
    if exchange not in ccxt.exchanges:
        raise ValueError(f"unknown ccxt exchange {exchange!r}")
    settings = dict(config or {})
    leaked = set(settings) & set(_CREDENTIALS.values())
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
    """Calls with exponential backoff on ccxt's network errors (429, 5xx, timeouts)."""

    def __init__(self, retries: int, backoff: float, backoff_max: float, sleep=time.sleep):
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.sleep = sleep
        self.count = 0

    def __call__(self, fn: Callable, *args, **kwargs):
        import ccxt

        attempt = 0
        while True:
            try:
                return fn(*args, **kwargs)
            except ccxt.NetworkError as exc:
                if attempt >= self.retries:
                    raise
                delay = min(self.backoff_max, self.backoff * 2**attempt)
                delay *= 0.5 + random.random() / 2
                attempt += 1
                self.count += 1
                log.warning(
                    "%s: %s; retry %d of %d in %.2f s",
                    getattr(fn, "__name__", "call"),
                    _redact(_short(exc)),
                    attempt,
                    self.retries,
                    delay,
                )
                self.sleep(delay)


def _short(exc: BaseException, n: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= n else text[:n] + "..."


# --------------------------------------------------------------------------- schema


def _trade_id(raw) -> int:
    """An int64 trade id: the id itself when it is an integer, else a stable 63-bit hash.

    >>> _trade_id("2100000000007764263"), _trade_id(17)
    (2100000000007764263, 17)
    >>> _trade_id("bfa1c8f6-1b0e-5d2e-a7c1-3a8bbd0c7e0e") == _trade_id("bfa1c8f6-1b0e-5d2e-a7c1-3a8bbd0c7e0e")
    True
    """
    s = str(raw)
    if s.isdigit() and int(s) < 2**63:
        return int(s)
    return int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big") >> 1


def _ns(ms, fallback: int) -> int:
    if ms is None:
        return int(fallback)
    return int(ms) * _MS


def _finite(x) -> float:
    if isinstance(x, bool):
        raise ValueError(f"expected a number, got {x!r}")
    return float(x)


def _book_problem(book) -> str | None:
    """Why a polled ccxt order book cannot be stored as a snapshot (None: it can).

    Examples
    --------
    >>> _book_problem({"bids": [[100.0, 1.0]], "asks": []}) is None  # one-sided: fine
    True
    >>> _book_problem({"bids": [[100.0, 1.0]], "asks": [[-1.0, 2.0]]})
    'invalid ask level [-1.0, 2.0]: prices must be finite and > 0, amounts finite and >= 0'
    >>> _book_problem({"bids": [], "asks": []})
    'empty book (no level on either side)'
    """
    if not isinstance(book, Mapping):
        return f"not an order book (a {type(book).__name__})"
    n = 0
    for side in ("bids", "asks"):
        rows = book.get(side) or []
        if not isinstance(rows, list | tuple):
            return f"{side!r} is not a list of levels"
        for row in rows:
            try:
                px, q = _finite(row[0]), _finite(row[1])
            except (TypeError, ValueError, IndexError, KeyError):
                return f"a {side[:-1]} level is not [price, amount]: {row!r}"
            if not (math.isfinite(px) and px > 0 and math.isfinite(q) and q >= 0):
                return (
                    f"invalid {side[:-1]} level {list(row)!r}: prices must be finite and > 0, "
                    "amounts finite and >= 0"
                )
        n += len(rows)
    for key in ("nonce", "timestamp"):
        value = book.get(key)
        if value is not None and (isinstance(value, bool) or not _is_int(value)):
            return f"{key} {value!r} is not an integer"
    if n == 0:
        return "empty book (no level on either side)"
    return None


def _is_int(value) -> bool:
    try:
        return int(value) == float(value)
    except (TypeError, ValueError, OverflowError):
        return False


def _trade_problem(trade) -> str | None:
    """Why a polled ccxt trade cannot be stored (None: it can).

    >>> _trade_problem({"price": "NaN", "amount": 1.0, "timestamp": 5})
    "invalid trade price='NaN' amount=1.0: both must be finite and > 0"
    """
    if not isinstance(trade, Mapping):
        return f"not a trade (a {type(trade).__name__})"
    try:
        px, q = _finite(trade["price"]), _finite(trade["amount"])
    except (KeyError, TypeError, ValueError):
        return f"a trade without a numeric price and amount: {dict(trade)!r}"[:300]
    if not (math.isfinite(px) and px > 0 and math.isfinite(q) and q > 0):
        return (
            f"invalid trade price={trade['price']!r} amount={trade['amount']!r}: both must be "
            "finite and > 0"
        )
    ts = trade.get("timestamp")
    if ts is not None and (isinstance(ts, bool) or not _is_int(ts)):
        return f"trade timestamp {ts!r} is not an integer"
    return None


def polls_to_depth(
    books: Sequence[Mapping],
    local_ts: Sequence[int],
    first_msg: int = 0,
    first_poll: int = 1,
    polls: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Depth events (:data:`~lobutils.schema.DEPTH_COLUMNS`) from ccxt order books.

    Parameters
    ----------
    books
        ccxt order-book dicts (``bids``, ``asks`` as ``[price, amount]`` lists, ``timestamp``
        in ms, ``nonce``), one per poll.
    local_ts
        Receive time of each book, ns since the epoch.
    first_msg, first_poll
        Numbering of the first message (``msg``) and of the first poll (``line``, and the id
        of a book without ``nonce``).
    polls
        The poll number of each book instead (when some polls stored no book).

    Raises
    ------
    ValueError
        A book that cannot be stored correctly (see the module notes), naming its poll.

    Examples
    --------
    >>> d = polls_to_depth([{"bids": [[10.0, 1.0]], "asks": [], "timestamp": None}], [5])
    >>> d[["ts", "msg", "kind", "first_id", "side", "price"]].values.tolist()
    [[5.0, 0.0, 1.0, 1.0, 1.0, 10.0]]
    """
    cols: dict[str, list] = {k: [] for k in DEPTH_COLUMNS}
    msg = first_msg
    if polls is None:
        polls = range(first_poll, first_poll + len(books))
    for book, loc, poll in zip(books, local_ts, polls, strict=True):
        problem = _book_problem(book)
        if problem is not None:
            raise ValueError(f"poll {poll}: {problem}")
        nonce = book.get("nonce")
        uid = int(nonce) if nonce is not None else poll
        ts = _ns(book.get("timestamp"), loc)
        levels = [(BID, p, q) for p, q, *_ in book.get("bids") or []]
        levels += [(ASK, p, q) for p, q, *_ in book.get("asks") or []]
        if not levels:
            levels = [(0, math.nan, math.nan)]
        n = len(levels)
        cols["ts"] += [ts] * n
        cols["local_ts"] += [int(loc)] * n
        cols["msg"] += [msg] * n
        cols["kind"] += [SNAPSHOT] * n
        cols["first_id"] += [uid] * n
        cols["last_id"] += [uid] * n
        cols["prev_id"] += [-1] * n
        cols["side"] += [s for s, _, _ in levels]
        cols["price"] += [float(p) for _, p, _ in levels]
        cols["qty"] += [float(q) for _, _, q in levels]
        cols["line"] += [poll] * n
        msg += 1
    return pd.DataFrame({k: np.asarray(v, dtype=DEPTH_COLUMNS[k]) for k, v in cols.items()})


def trades_to_frame(trades: Sequence[Mapping], local_ts: Sequence[int], line: Sequence[int]):
    """Trade rows (:data:`~lobutils.schema.TRADE_COLUMNS`) from ccxt trade dicts.

    ``line`` is the poll of each trade; a trade that cannot be stored (no finite price and
    amount > 0) raises ``ValueError`` naming it.

    >>> t = [{"id": "9", "timestamp": 2, "price": 1.5, "amount": 3.0, "side": "sell"}]
    >>> trades_to_frame(t, [7], [1]).values.tolist()
    [[2000000.0, 7.0, 9.0, 1.5, 3.0, -1.0, 1.0]]
    """
    side = {"buy": 1, "sell": -1}
    for t, poll in zip(trades, line, strict=True):
        problem = _trade_problem(t)
        if problem is not None:
            raise ValueError(f"poll {poll}: {problem}")
    rows = {
        "ts": [_ns(t.get("timestamp"), lt) for t, lt in zip(trades, local_ts, strict=True)],
        "local_ts": [int(x) for x in local_ts],
        "trade_id": [_trade_id(t.get("id")) for t in trades],
        "price": [float(t["price"]) for t in trades],
        "qty": [float(t["amount"]) for t in trades],
        "side": [side.get(t.get("side"), 0) for t in trades],
        "line": [int(x) for x in line],
    }
    return pd.DataFrame({k: np.asarray(v, dtype=TRADE_COLUMNS[k]) for k, v in rows.items()})


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
        self.retry = _Retry(retries, backoff, backoff_max, sleep)
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
        if len(self.problems) < 20:
            self.problems.append(text)
        log.warning("%s; skipped", text)
        return False

    def _check_book(self, buf: _SymbolBuffer, book) -> bool:
        """Whether a polled book can be stored; counts what it cannot (module notes)."""
        problem = _book_problem(book)
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
            problem = _trade_problem(t)
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
        """Write the polls since the last flush as parquet parts; returns the new files."""
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
        """Depth and trade frames of one symbol: written parts plus what is not flushed yet."""
        buf = self.buffers[symbol]
        depth, trades = self._frames(buf)
        if buf.files:
            d0, t0 = read_collected(buf.files)
            depth = pd.concat([d0, depth], ignore_index=True)
            trades = pd.concat([t0, trades], ignore_index=True)
        return depth, trades

    @property
    def stats(self) -> dict:
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
    paths = sorted(Path(f) for f in files)
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
        from lobutils.data.binance import RecordingError

        raise RecordingError(f"{path}: empty, truncated or corrupt parquet part ({exc})") from None


@dataclass
class Collection:
    """What :func:`collect` did: files written per symbol, and counts."""

    files: dict[str, list[Path]]
    stats: dict
    _collector: Collector | None = field(default=None, repr=False)

    def frames(self, symbol: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(depth, trades) of one symbol in the event schema."""
        if self._collector is not None:
            return self._collector.frames(symbol)
        return read_collected(self.files[symbol])


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
        Stop after this many polls or seconds; with neither, run until interrupted (Ctrl-C
        or SIGTERM stop after the current poll, and everything is written).
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

    Returns
    -------
    Collection
        ``files`` per symbol, ``stats`` (polls, books, trades, duplicates, retries, ...), and
        :meth:`Collection.frames`.
    """
    import ccxt

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
    )
    stop = threading.Event()
    old = None
    if threading.current_thread() is threading.main_thread():
        try:
            old = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        except ValueError:  # pragma: no cover
            old = None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=polls, unit="poll", desc=f"{ex.id} {','.join(col.symbols)}")
    t0 = time.monotonic()
    next_t = t0
    n = 0
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
            except ccxt.NetworkError as exc:  # retries exhausted: skip this poll, go on
                col.errors += 1
                log.error("%s: poll failed after retries: %s", ex.id, _redact(_short(exc)))
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
    finally:
        col.flush()
        if bar is not None:
            bar.close()
        if old is not None:
            signal.signal(signal.SIGTERM, old)
    stats = col.stats | {"seconds": round(time.monotonic() - t0, 3), "stopped_by": stopped_by}
    log.info(
        "%s: %d polls, %d trades, %d retries",
        ex.id,
        stats["polls"],
        stats["trades"],
        stats["retries"],
    )
    return Collection({s: list(b.files) for s, b in col.buffers.items()}, stats, col)


# --------------------------------------------------------------------------- ranking


def rank_symbols(
    exchange="binance",
    quote: str = "USDT",
    top: int = 20,
    days: int = 30,
    market_type: str = "spot",
    min_days: int | None = None,
    candidates: int | None = None,
    exclude: Iterable[str] = (),
    api_url: str | None = None,
    options: Mapping | None = None,
    now_ms: int | None = None,
    retries: int = 5,
    backoff: float = 1.0,
    progress: bool = False,
) -> pd.DataFrame:
    """The ``top`` most liquid symbols of an exchange by average daily quote volume.

    Like seed 004's crawler: 24 h tickers pick the candidates (``candidates`` symbols with the
    largest 24 h quote volume), then daily candles over the last ``days`` complete UTC days
    give each one's average daily quote volume, approximated as the sum over days of
    ``volume * (high + low + close) / 3`` (the typical price stands in for the day's VWAP),
    divided by the days observed.

    Parameters
    ----------
    exchange
        A ccxt exchange id or object (default ``"binance"``).
    quote
        Quote currency of the markets to rank (``"USDT"``).
    top
        How many to return.
    days
        Window length in complete UTC days, ending at the last midnight.
    market_type
        ccxt market type: ``"spot"``, ``"swap"``, ``"future"``.
    min_days
        Leave out symbols with fewer daily candles in the window (default: all ``days``).
    candidates
        How many symbols (by 24 h volume) get their candles fetched (default
        ``max(3 * top, top + 20)``; all when the exchange has no tickers endpoint).
    exclude
        Symbols (``"USDC/USDT"``) or base currencies (``"USDC"``) to leave out.
    api_url, options
        See :func:`make_exchange`.
    now_ms
        "Now" in ms since the epoch (default: the local clock), for reproducible windows.
    retries, backoff
        Retries of failing requests, as in :func:`collect`.
    progress
        Show a progress bar over the candidates.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``symbol``, ``base``, ``quote``, ``avg_daily_quote_volume``, ``days``,
        ``quote_volume_24h``, ``first_day``, ``last_day``; best first.
    """
    ex = (
        make_exchange(exchange, api_url=api_url, options=options)
        if isinstance(exchange, str)
        else exchange
    )
    retry = _Retry(retries, backoff, 60.0)
    if top < 1 or days < 1:
        raise ValueError("top and days must be >= 1")
    min_days = days if min_days is None else min_days
    excluded = {e.upper() for e in exclude}
    markets = retry(ex.load_markets)
    pool = [
        m
        for m in markets.values()
        if m.get("type") == market_type
        and m.get("quote") == quote
        and m.get("active") is not False
        and m["symbol"].upper() not in excluded
        and str(m.get("base", "")).upper() not in excluded
    ]
    if not pool:
        raise ValueError(f"{ex.id} has no active {market_type} market quoted in {quote}")
    vol24 = {}
    if ex.has.get("fetchTickers"):
        tickers = retry(ex.fetch_tickers, None, {"type": market_type})
        for m in pool:
            t = tickers.get(m["symbol"]) or {}
            qv = t.get("quoteVolume")
            if qv is None and t.get("baseVolume") is not None and t.get("last") is not None:
                qv = t["baseVolume"] * t["last"]
            vol24[m["symbol"]] = float(qv) if qv is not None else math.nan
        n_cand = candidates if candidates is not None else max(3 * top, top + 20)
        pool.sort(key=lambda m: -np.nan_to_num(vol24[m["symbol"]], nan=-1.0))
        pool = pool[:n_cand]
    now_ms = int(time.time() * 1000) if now_ms is None else int(now_ms)
    end = now_ms - now_ms % _DAY_MS  # the last UTC midnight: only complete days count
    start = end - days * _DAY_MS
    rows = []
    it = pool
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(pool, desc=f"{ex.id} daily candles", unit="symbol")
    for m in it:
        candles = retry(ex.fetch_ohlcv, m["symbol"], "1d", start, days + 1)
        c = np.array([row[:6] for row in candles if start <= row[0] < end], dtype=float)
        c = c[np.isfinite(c[:, 5])] if len(c) else c
        if len(c) < max(min_days, 1):
            continue
        qv = c[:, 5] * (c[:, 2] + c[:, 3] + c[:, 4]) / 3.0
        rows.append(
            {
                "symbol": m["symbol"],
                "base": m.get("base"),
                "quote": m.get("quote"),
                "avg_daily_quote_volume": float(qv.sum() / len(c)),
                "days": len(c),
                "quote_volume_24h": vol24.get(m["symbol"], math.nan),
                "first_day": pd.Timestamp(int(c[0, 0]), unit="ms", tz="UTC").date().isoformat(),
                "last_day": pd.Timestamp(int(c[-1, 0]), unit="ms", tz="UTC").date().isoformat(),
            }
        )
    cols = [
        "rank",
        "symbol",
        "base",
        "quote",
        "avg_daily_quote_volume",
        "days",
        "quote_volume_24h",
        "first_day",
        "last_day",
    ]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows).sort_values(
        ["avg_daily_quote_volume", "symbol"], ascending=[False, True], kind="stable"
    )
    out = out.head(top).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out[cols]


# --------------------------------------------------------------------------- CLI


def _setup_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    _guard_loggers()


def _cmd_collect(args) -> dict:
    _setup_logging()
    run = collect(
        args.exchange,
        args.symbols,
        levels=args.levels,
        interval=args.interval,
        polls=args.polls,
        duration=args.duration,
        out_dir=args.out,
        flush_polls=args.flush_polls,
        trades=not args.no_trades,
        trade_limit=args.trade_limit,
        api_url=args.api_url,
        progress=not args.json,
    )
    return run.stats | {"files": {s: [str(p) for p in f] for s, f in run.files.items()}}


def _asof_ms(day: str | None) -> int | None:
    """Midnight UTC of a ``YYYY-MM-DD`` day in ms (None: now).

    >>> _asof_ms("2024-08-09")
    1723161600000
    """
    if day is None:
        return None
    try:
        d = _dt.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=_dt.UTC)
    except ValueError:
        raise ValueError(f"--asof must be a date like 2024-08-09, got {day!r}") from None
    return int(d.timestamp()) * 1000


def _cmd_rank(args) -> dict:
    _setup_logging()
    table = rank_symbols(
        args.exchange,
        quote=args.quote,
        top=args.top,
        days=args.days,
        market_type=args.type,
        min_days=args.min_days,
        exclude=args.exclude or (),
        api_url=args.api_url,
        now_ms=_asof_ms(args.asof),
        progress=not args.json,
    )
    return {
        "exchange": args.exchange,
        "quote": args.quote,
        "type": args.type,
        "days": args.days,
        "ranking": [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in table.to_dict(orient="records")
        ],
    }


def add_parsers(subparsers) -> None:
    """Add the ``collect`` and ``rank`` commands to a CLI's subparsers (see :mod:`lobutils.runner.cli`).

    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_parsers(p.add_subparsers(dest="command"))
    >>> a = p.parse_args(["collect", "BTC/USDT", "--polls", "10", "--levels", "20"])
    >>> a.exchange, a.symbols, a.polls, a.levels
    ('bybit', ['BTC/USDT'], 10, 20)
    >>> p.parse_args(["rank", "--top", "5"]).exchange
    'binance'
    """
    p = subparsers.add_parser(
        "collect",
        help="poll order books and trades through ccxt into parquet",
        description=(
            "Poll REST order books (N levels) and recent trades of any ccxt exchange into the "
            "event schema. Keys, if an exchange needs them, come from LOBUTILS_<EXCHANGE>_API_KEY "
            "/ _SECRET / _PASSWORD environment variables only."
        ),
    )
    p.add_argument("symbols", nargs="+", help="ccxt symbols, e.g. BTC/USDT or BTC/USDT:USDT")
    p.add_argument("--exchange", default="bybit", help="ccxt exchange id (default bybit)")
    p.add_argument("--levels", type=int, default=50)
    p.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    p.add_argument("--polls", type=int, default=None)
    p.add_argument("--duration", type=float, default=None, help="seconds to poll")
    p.add_argument("--out", default=None, help="output root (default data/recordings/ccxt)")
    p.add_argument("--flush-polls", type=int, default=600)
    p.add_argument("--no-trades", action="store_true")
    p.add_argument("--trade-limit", type=int, default=None)
    p.add_argument("--api-url", default=None, help="send REST requests to this origin")
    p.add_argument("--json", action="store_true", help="print one JSON line at the end")
    p.set_defaults(func=_cmd_collect)

    p = subparsers.add_parser(
        "rank", help="rank an exchange's symbols by average daily quote volume (ccxt)"
    )
    p.add_argument("--exchange", default="binance")
    p.add_argument("--quote", default="USDT")
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--type", default="spot", help="ccxt market type: spot, swap, future")
    p.add_argument("--min-days", type=int, default=None)
    p.add_argument("--exclude", nargs="*", default=None, help="symbols or bases to leave out")
    p.add_argument(
        "--asof",
        default=None,
        help="rank over the days before this date, YYYY-MM-DD (default today)",
    )
    p.add_argument("--api-url", default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_rank, show=_show_ranking)


def _show_ranking(result: dict) -> None:
    """Human output of the ``rank`` command: one line per symbol."""
    for row in result["ranking"]:
        print(
            f"{row['rank']:>3} {row['symbol']:<16} {row['avg_daily_quote_volume']:>18,.0f} "
            f"{row['days']:>3}d"
        )
