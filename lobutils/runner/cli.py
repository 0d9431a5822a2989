"""Command line: ``python -m lobutils <command>`` (also installed as ``lobutils``).

Commands
--------
reconstruct FILE... --levels N [--grid 1s] [--out book.parquet] [--json]
    Read one recording segment (several files are one continuous stream), replay the book,
    check it against the bookTicker stream, and write the book frame (parquet or csv by the
    extension). ``--levels`` is capped at the deepest book seen. Prints one JSON line with the
    counts on ``--json`` (``other_symbol``: lines of other symbols skipped;
    ``crossed_snapshots``: snapshots not synced on because they were crossed).
segments [--data-dir DIR] [--json]
    List the recording segments in a data directory (default: the bundled data).
verify [--data-dir DIR]
    Verify the data files against SHA256SUMS.
record SYMBOL... --market spot|usdm|cm [--out DIR] [--duration S]
    Record Binance depth, trade and bookTicker streams live (:mod:`lobutils.acquire.recorder`).
collect SYMBOL... [--exchange bybit] / rank [--exchange binance] [--top N]
    Poll order books and trades through ccxt; rank symbols by quote volume
    (:mod:`lobutils.acquire.collect`).
fetch ... / convert ... / lake clean|verify
    Download exchange archives (Binance data.vision, Bybit, Tardis) with caching, resume and
    checksums; convert recordings and archives into the parquet lake (:mod:`lobutils.data.archives`);
    repair and check the lake (:mod:`lobutils.runner.cli_archives`).

Errors
------
Bad input is one line on stderr naming the file, with exit status 1 (2 for a usage error):
missing, unreadable or directory inputs, an ``--out`` that cannot be written (checked before
any work), outputs that would not fit in memory (``--levels``, ``--grid``; the message says how
much they would need), files of different symbols, a replay with no valid row (with the
reason). Every message, and the traceback of an unexpected failure, goes through
:func:`lobutils.runner.errors.redact`, so API keys from the environment are never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from lobutils.paths import write_frame
from lobutils.runner.errors import InputError, check_memory, describe, redact, writable_output

__all__ = ["main"]

_ROW_BYTES = 32  # ts, local_ts, update_id, status (and state_ts on a grid), per book row
_COPIES = 3  # the replay's arrays, the frame made of them, and the valid rows taken from it


def _check_inputs(files) -> None:
    """Every input is a readable file: one line naming the first that is not."""
    for f in map(Path, files):
        if f.is_dir():
            raise InputError(f"{f}: is a directory, not a recording file")
        if not f.exists():
            raise InputError(f"{f}: no such file")
        try:
            with open(f, "rb") as fh:
                fh.read(1)
        except OSError as exc:
            raise InputError(
                f"{f}: cannot read it ({(exc.strerror or str(exc)).lower()})"
            ) from None


def _file_symbol(path: Path, limit: int = 4 << 20) -> str | None:
    """The symbol of the first stream message in a recording file (reading at most ``limit``)."""
    import gzip
    import zlib

    from lobutils.data.binance import _first_symbol

    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    data = b""
    try:
        with (gzip.open if gz else open)(path, "rb") as fh:
            while len(data) < limit:
                chunk = fh.read(1 << 16)
                if not chunk:
                    break
                data += chunk
                sym = _first_symbol(data)
                if sym:
                    return sym
    except (OSError, EOFError, zlib.error):
        pass  # a cut or odd file: the reader reports it
    return _first_symbol(data)


def _one_symbol(files) -> None:
    """Files of different symbols are not one segment: an error naming both."""
    seen: dict[str, Path] = {}
    for f in map(Path, files):
        sym = _file_symbol(f)
        if sym:
            seen.setdefault(sym, f)
    if len(seen) > 1:
        (a, fa), (b, fb) = list(seen.items())[:2]
        raise InputError(
            f"{fa.name} holds {a.upper()} and {fb.name} holds {b.upper()}: files of different "
            "symbols are not one segment; reconstruct each on its own, or pick one with --symbol"
        )


def _level_bound(depth) -> int:
    """An upper bound of the book's depth: the distinct prices seen on the busier side."""
    side = depth["side"].to_numpy()
    px = depth["price"].to_numpy()
    return max(len(np.unique(px[side == s])) for s in (1, -1))


def _check_sizes(args, rec, levels: int) -> None:
    """Refuse, before the replay, outputs that would not fit in memory."""
    import pandas as pd

    row = 4 * 8 * levels + _ROW_BYTES
    msgs = int(rec.depth["msg"].nunique())
    asked = f"--levels {args.levels}" + (
        f" (at most {levels}, the prices seen on a side)" if levels < args.levels else ""
    )
    check_memory(_COPIES * msgs * row, f"{asked} over {msgs:,} depth messages")
    if args.grid:
        try:
            step = int(pd.Timedelta(args.grid).value)
        except ValueError:
            raise InputError(f"--grid {args.grid!r} is not a duration (e.g. 100ms, 1s)") from None
        if step <= 0:
            raise InputError(f"--grid must be positive, got {args.grid!r}")
        ts = rec.depth["ts"].to_numpy(np.int64)
        ts = ts[ts >= 0]
        span = int(ts.max() - ts.min()) if len(ts) else 0
        check_memory(
            2 * (span // step + 1) * (row + 8), f"--grid {args.grid} over {span / 1e9:,.0f} s"
        )


def _why_empty(rec, stats: dict) -> str:
    """Why a replay gave no valid book row, from the reader's and the replay's counts."""
    if len(rec.depth) == 0:
        other = rec.stats.get("other_symbol", 0)
        return f"no depth message for {rec.symbol!r}" + (
            f" ({other:,} lines of other symbols were skipped; pick one with --symbol)"
            if other
            else ""
        )
    counts = ", ".join(
        f"{stats[k]:,} {k.replace('_', ' ')}"
        for k in ("snapshots", "crossed_snapshots", "crossed", "gaps", "unsynced", "stale")
    )
    hint = (
        "every snapshot is crossed (best bid >= best ask)"
        if stats["snapshots"] == 0 and stats["crossed_snapshots"]
        else "no diff ever followed a snapshot in order: are the files given in time order?"
        if stats["applied"] == 0
        else "every book state was crossed or invalid"
    )
    return f"no valid book row ({counts}): {hint}"


def _reconstruct(args) -> dict:
    from lobutils.book.replay import check_bbo, reconstruct
    from lobutils.book.sampling import sample_clock
    from lobutils.data.binance import read_binance_recording
    from lobutils.schema import book_columns

    if args.levels < 1:
        raise InputError(f"--levels must be at least 1, got {args.levels}")
    if args.out:
        writable_output(args.out)  # before the replay, not after it
    _check_inputs(args.files)
    if args.symbol is None and len(args.files) > 1:
        _one_symbol(args.files)
    t0 = time.perf_counter()
    rec = read_binance_recording(args.files, symbol=args.symbol, errors=args.errors)
    t_read = time.perf_counter() - t0
    levels = min(args.levels, max(_level_bound(rec.depth), 1)) if len(rec.depth) else 1
    _check_sizes(args, rec, levels)
    book = reconstruct(rec, levels=levels, include_invalid=True) if len(rec.depth) else None
    if book is None or book.stats["applied"] == 0 or not (book.frame["status"] == 0).any():
        raise InputError(
            f"{', '.join(map(str, args.files))}: {_why_empty(rec, book.stats if book else {})}"
        )
    events = book.frame
    deepest = max(book.stats["max_bid_levels"], book.stats["max_ask_levels"], 1)
    if deepest < levels:  # cap at the deepest book seen
        levels = deepest
        events = events[book_columns(levels) + ["status"]]
    bbo = check_bbo(events, rec.bbo)
    if args.grid:
        frame = sample_clock(events, args.grid)
    else:
        frame = events[events["status"] == 0].drop(columns="status").reset_index(drop=True)
    if args.out:
        write_frame(frame, args.out)
    summary = {
        "files": [Path(f).name for f in rec.sources],
        "symbol": rec.symbol,
        "market": rec.market,
        "levels": levels,
        "levels_requested": args.levels,
        "grid": args.grid,
        "rows": len(frame),
        "level_updates": book.stats["level_updates"],
        **{
            k: book.stats[k]
            for k in (
                "applied",
                "stale",
                "duplicates",
                "gaps",
                "crossed",
                "snapshots",
                "crossed_snapshots",
                "unsynced",
            )
        },
        **{k: bbo[k] for k in ("bbo_matched", "bbo_mismatched", "bbo_compared")},
        "skipped_streams": rec.stats["skipped_streams"],
        "other_symbol": rec.stats["other_symbol"],
        "malformed": rec.stats["malformed"],
        "truncated": rec.stats["truncated"],
        "read_seconds": round(t_read, 4),
        "seconds": round(time.perf_counter() - t0, 4),
        "out": str(args.out) if args.out else None,
    }
    return summary


def _data_dir(args):
    if args.data_dir is not None and not Path(args.data_dir).is_dir():
        what = "not a directory" if Path(args.data_dir).exists() else "no such directory"
        raise InputError(f"{args.data_dir}: --data-dir: {what}")
    return args.data_dir


def _segments(args) -> list[dict]:
    from lobutils.data.catalog import segments

    args.data_dir = _data_dir(args)
    return [
        {"name": s.name, "market": s.market, "symbol": s.symbol, "files": [f.name for f in s.files]}
        for s in segments(args.data_dir)
    ]


def _verify(args) -> dict:
    from lobutils.data.catalog import verify_checksums

    args.data_dir = _data_dir(args)
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


def _error(command: str, text: str) -> None:
    print(redact(f"lobutils {command}: error: {text}"), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m lobutils``.

    Bad input (a missing, unreadable or unsuitable file, a wrong argument, an output that would
    not fit) is reported as one line naming the file, never a traceback. Anything unexpected
    prints its traceback; every message goes through :func:`lobutils.runner.errors.redact`,
    so no API key taken from the environment is ever printed.

    Parameters
    ----------
    argv
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 ok, 1 bad input or a failure, 2 usage, 130 interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
        if getattr(args, "json", False):
            text = json.dumps(result, default=str)
            print(text)
        else:
            getattr(args, "show", _print_human)(result)
    except KeyboardInterrupt:
        _error(args.command, "interrupted")
        return 130
    except (ValueError, LookupError, OSError, MemoryError) as exc:  # bad input: one line
        _error(args.command, describe(exc))
        return 1
    except Exception as exc:
        if type(exc).__module__.startswith("ccxt"):  # network, auth, bad symbol: the user's
            _error(args.command, f"{type(exc).__name__}: {describe(exc)}")
            return 1
        import traceback  # a bug: its traceback, with secrets masked like every other message

        print(redact(traceback.format_exc()), file=sys.stderr, end="")
        _error(args.command, "unexpected failure (the traceback above); please report it")
        return 1
    return 0
