"""The acquisition commands: ``record``, ``collect`` and ``rank`` (argparse lives here only).

``record``
    Record Binance streams live (:func:`lobutils.acquire.recorder.record`).
``collect``
    Poll order books and trades through ccxt (:func:`lobutils.acquire.collect.collect`).
``rank``
    Rank an exchange's symbols by quote volume (:func:`lobutils.acquire.rank.rank_symbols`).

The network libraries (websockets, ccxt) are imported when a command runs, not when the parser
is built.

``record`` and ``collect`` give up: a permanent error (a malformed URL, a host name that does not
resolve, HTTP 4xx) stops them at once, transient ones are retried for at most
``--max-retry-time`` seconds; either way, and whenever a run wrote nothing, the exit status is
1 with one line on stderr.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import math
import sys

__all__ = ["add_parsers"]


def _setup_logging() -> None:
    from lobutils.acquire.redact import guard_loggers

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    guard_loggers()


def _positive(kind):
    """An argparse ``type`` that accepts only numbers above 0 (``--duration -1`` is an error)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def _cmd_record(args) -> dict:
    from lobutils.acquire.recorder import record

    log = logging.getLogger("lobutils.acquire.recorder")
    if not logging.getLogger().handlers and not log.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    stats = record(
        args.symbols,
        market=args.market,
        out_dir=args.out,
        rotate=args.rotate,
        ws_url=args.ws_url,
        rest_url=args.rest_url,
        depth_stream=args.depth_stream,
        snapshot_limit=args.snapshot_limit,
        flush_interval=args.flush_interval,
        fsync=args.fsync,
        max_messages=args.max_messages,
        max_seconds=args.duration,
        status_interval=args.status_interval,
        max_retry_time=args.max_retry_time,
    )
    if not stats["messages"]:
        _wrote_nothing(args, stats, f"recorded 0 messages in {stats['seconds']:g} s")
    return stats


def _wrote_nothing(args, result: dict, what: str) -> None:
    """A run that wrote nothing: its summary (as usual), then one error line and exit 1."""
    from lobutils.runner.errors import redact

    if args.json:
        print(json.dumps(result, default=str))
    print(
        redact(f"lobutils {args.command}: error: {what} (stopped by {result['stopped_by']})"),
        file=sys.stderr,
    )
    raise SystemExit(1)


def _add_record(subparsers) -> None:
    from lobutils.acquire.recorder import MARKET_ENDPOINTS

    p = subparsers.add_parser(
        "record",
        help="record Binance depth, trade and bookTicker streams to gzip files",
        description=(
            "Record Binance combined streams in the bundled recordings' format "
            "(<local ns> <raw JSON> per line), with REST depth snapshots in-line. "
            "Stops on SIGINT/SIGTERM, --max-messages or --duration."
        ),
    )
    p.add_argument("symbols", nargs="+", help="Binance symbols, e.g. btcusdt ethusdt")
    p.add_argument("--market", choices=sorted(MARKET_ENDPOINTS), default="spot")
    p.add_argument("--out", default=None, help="output directory (default data/recordings)")
    p.add_argument("--rotate", choices=("daily", "hourly"), default="daily")
    p.add_argument("--ws-url", default=None, help="websocket origin (default Binance's)")
    p.add_argument("--rest-url", default=None, help="REST origin (default Binance's)")
    p.add_argument("--depth-stream", default=None, help="e.g. depth@250ms (default per market)")
    p.add_argument("--snapshot-limit", type=int, default=1000)
    p.add_argument("--flush-interval", type=float, default=1.0, help="seconds between flushes")
    p.add_argument("--fsync", action="store_true", help="fsync at every flush")
    p.add_argument("--max-messages", type=_positive(int), default=None)
    p.add_argument("--duration", type=_positive(float), default=None, help="seconds to record")
    p.add_argument("--status-interval", type=float, default=10.0)
    _add_max_retry_time(p)
    p.add_argument("--json", action="store_true", help="print one JSON line at the end")
    p.set_defaults(func=_cmd_record)


def _cmd_collect(args) -> dict:
    from lobutils.acquire.collect import collect

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
        max_retry_time=args.max_retry_time,
    )
    result = run.stats | {"files": {s: [str(p) for p in f] for s, f in run.files.items()}}
    if not run.stats["books"]:
        _wrote_nothing(args, result, f"collected 0 books in {run.stats['polls']} polls")
    return result


def _add_max_retry_time(p) -> None:
    p.add_argument(
        "--max-retry-time",
        type=_positive(float),
        default=300.0,
        help="seconds of network failures in a row before giving up (default 300)",
    )


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
    from lobutils.acquire.rank import rank_symbols

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


def _add_collect(subparsers) -> None:
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
    p.add_argument("--polls", type=_positive(int), default=None)
    p.add_argument("--duration", type=_positive(float), default=None, help="seconds to poll")
    p.add_argument("--out", default=None, help="output root (default data/recordings/ccxt)")
    p.add_argument("--flush-polls", type=int, default=600)
    p.add_argument("--no-trades", action="store_true")
    p.add_argument("--trade-limit", type=int, default=None)
    p.add_argument("--api-url", default=None, help="send REST requests to this origin")
    _add_max_retry_time(p)
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


def add_parsers(subparsers) -> None:
    """Add the ``record``, ``collect`` and ``rank`` commands to a CLI's subparsers.

    Parameters
    ----------
    subparsers
        What :meth:`argparse.ArgumentParser.add_subparsers` returned (see
        :mod:`lobutils.runner.cli`).

    Returns
    -------
    None

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_parsers(p.add_subparsers(dest="command"))
    >>> a = p.parse_args(["record", "btcusdt", "--market", "usdm", "--duration", "60"])
    >>> a.symbols, a.market, a.duration, a.rotate
    (['btcusdt'], 'usdm', 60.0, 'daily')
    >>> a = p.parse_args(["collect", "BTC/USDT", "--polls", "10", "--levels", "20"])
    >>> a.exchange, a.symbols, a.polls, a.levels
    ('bybit', ['BTC/USDT'], 10, 20)
    >>> p.parse_args(["rank", "--top", "5"]).exchange
    'binance'
    """
    _add_record(subparsers)
    _add_collect(subparsers)
