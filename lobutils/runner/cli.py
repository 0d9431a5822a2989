"""Command line: ``python -m lobutils <command>`` (also installed as ``lobutils``).

Commands
--------
reconstruct FILE... --levels N [--grid 1s] [--out book.parquet] [--json]
    Read one recording segment (several files are one continuous stream), replay the book,
    check it against the bookTicker stream, and write the book frame (parquet or csv by the
    extension). Prints one JSON line with the counts on ``--json``.
segments [--data-dir DIR] [--json]
    List the recording segments in a data directory (default: the bundled data).
verify [--data-dir DIR]
    Verify the data files against SHA256SUMS.
record SYMBOL... --market spot|usdm|cm [--out DIR] [--duration S]
    Record Binance depth, trade and bookTicker streams live (:mod:`lobutils.acquire.recorder`).
collect SYMBOL... [--exchange bybit] / rank [--exchange binance] [--top N]
    Poll order books and trades through ccxt; rank symbols by quote volume
    (:mod:`lobutils.acquire.collect`).
fetch ... / convert ...
    Download exchange archives (Binance data.vision, Bybit, Tardis) with caching, resume and
    checksums; convert recordings and archives into the parquet lake (:mod:`lobutils.data.archives`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from lobutils.acquire.redact import redact  # masks API keys taken from the environment
from lobutils.paths import write_frame

__all__ = ["main"]


def _reconstruct(args) -> dict:
    from lobutils.book.replay import check_bbo, reconstruct
    from lobutils.book.sampling import sample_clock
    from lobutils.data.binance import read_binance_recording

    t0 = time.perf_counter()
    rec = read_binance_recording(args.files, symbol=args.symbol, errors=args.errors)
    t_read = time.perf_counter() - t0
    book = reconstruct(rec, levels=args.levels, include_invalid=True)
    bbo = check_bbo(book.frame, rec.bbo)
    if args.grid:
        frame = sample_clock(book.frame, args.grid)
    else:
        frame = book.frame[book.frame["status"] == 0].drop(columns="status").reset_index(drop=True)
    if args.out:
        write_frame(frame, args.out)
    summary = {
        "files": [Path(f).name for f in rec.sources],
        "symbol": rec.symbol,
        "market": rec.market,
        "levels": args.levels,
        "grid": args.grid,
        "rows": len(frame),
        "level_updates": book.stats["level_updates"],
        **{
            k: book.stats[k]
            for k in ("applied", "stale", "duplicates", "gaps", "crossed", "snapshots", "unsynced")
        },
        **{k: bbo[k] for k in ("bbo_matched", "bbo_mismatched", "bbo_compared")},
        "skipped_streams": rec.stats["skipped_streams"],
        "malformed": rec.stats["malformed"],
        "truncated": rec.stats["truncated"],
        "read_seconds": round(t_read, 4),
        "seconds": round(time.perf_counter() - t0, 4),
        "out": str(args.out) if args.out else None,
    }
    return summary


def _segments(args) -> list[dict]:
    from lobutils.data.catalog import segments

    return [
        {"name": s.name, "market": s.market, "symbol": s.symbol, "files": [f.name for f in s.files]}
        for s in segments(args.data_dir)
    ]


def _verify(args) -> dict:
    from lobutils.data.catalog import verify_checksums

    files = verify_checksums(args.data_dir)
    return {"verified": [Path(f).name for f in files]}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lobutils", description="Limit order book research tools."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("reconstruct", help="replay an L2 book from a recording segment")
    p.add_argument("files", nargs="+", help="recording files of one segment, in order")
    p.add_argument("--levels", type=int, default=10, help="levels per side (default 10)")
    p.add_argument(
        "--grid", default=None, help="clock grid, e.g. 100ms or 1s (default: event time)"
    )
    p.add_argument("--out", default=None, help="output .parquet or .csv")
    p.add_argument("--symbol", default=None, help="symbol to read when a file holds several")
    p.add_argument("--errors", choices=("raise", "skip"), default="raise", help="malformed lines")
    p.add_argument("--json", action="store_true", help="print one JSON line")
    p.set_defaults(func=_reconstruct)

    p = sub.add_parser("segments", help="list recording segments")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_segments)

    p = sub.add_parser("verify", help="verify data checksums")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_verify)

    # heavy imports (websockets, ccxt, dask) wait for use
    from lobutils.runner import batch, cli_acquire, cli_archives

    cli_acquire.add_parsers(sub)
    cli_archives.add_parsers(sub)
    batch.add_parsers(sub)
    return parser


def _print_human(result) -> None:
    if isinstance(result, list):
        for row in result:
            print(
                f"{row['name']:<20} {row['market']:<5} {row['symbol']:<12} {' + '.join(row['files'])}"
            )
        return
    for k, v in result.items():
        print(f"{k:>16}: {v}")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 bad input, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except (ValueError, FileNotFoundError) as exc:  # bad input: one clear line, no traceback
        print(f"lobutils {args.command}: error: {redact(str(exc))}", file=sys.stderr)
        return 1
    if getattr(args, "json", False):
        print(json.dumps(result, default=str))
    else:
        getattr(args, "show", _print_human)(result)
    return 0
