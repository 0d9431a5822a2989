"""The ``fetch``, ``convert`` and ``lake`` subcommands of ``python -m lobutils`` (wired by the CLI).

``fetch SOURCE --symbol S --date D [--end D2] ...``
    Download archives into the cache (``<data dir>/archives``, mirroring the URLs), with
    resume and checksums (:mod:`lobutils.acquire.download`). ``SOURCE`` is ``binance-vision``
    (``--market spot|usdm|cm --type trades|aggTrades|bookTicker|bookDepth``), ``bybit``
    (``--category linear|inverse|spot``, ``--depth 200|500``) or ``tardis``
    (``--exchange binance-futures --type incremental_book_L2|book_snapshot_25|trades``; the API
    key, if any, from ``TARDIS_API_KEY``).
``convert FILE... [--lake DIR] [--mode overwrite|skip|error] [--force] [--partial]``
    Read raw files of any supported format and write them into the parquet lake
    (:func:`lobutils.data.lake.convert`; default lake ``<data dir>/lake``). A partition is
    replaced by other sources' data, or by fewer rows of the same sources, only with
    ``--force``; a truncated input is an error unless ``--partial``.
``lake clean [--lake DIR]`` / ``lake verify [--lake DIR]``
    Restore partitions whose replacement was killed and remove leftovers of killed writes
    (:func:`lobutils.data.lake.clean`); check data files and writes against their manifests
    (:func:`lobutils.data.lake.verify`, exit status 1 when a problem is found).

All print one JSON object with ``--json``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "add_convert_parser",
    "add_fetch_parser",
    "add_lake_parser",
    "add_parsers",
    "default_lake_dir",
]


def default_lake_dir() -> Path:
    """The default lake: ``<lobutils.paths.data_dir()>/lake``.

    Returns
    -------
    pathlib.Path
    """
    from lobutils import paths

    return paths.data_dir() / "lake"


def _fetch(args) -> dict:
    from lobutils.acquire import download as D

    kw = {"retries": args.retries, "progress": False if args.no_progress else None}
    results = []
    try:
        for day in D.days(args.date, args.end):
            if args.source == "binance-vision":
                r = D.fetch_binance_vision(
                    args.market or "usdm",
                    args.type or "trades",
                    args.symbol,
                    day,
                    root=args.root,
                    base=args.base_url or D.BINANCE_VISION_BASE,
                    **kw,
                )
            elif args.source == "bybit":
                r = D.fetch_bybit(
                    args.symbol,
                    day,
                    depth=args.depth,
                    category=args.category,
                    root=args.root,
                    base=args.base_url or D.BYBIT_ORDERBOOK_BASE,
                    **kw,
                )
            else:
                if not args.exchange:
                    raise ValueError("fetch tardis needs --exchange (e.g. binance-futures)")
                r = D.fetch_tardis(
                    args.exchange,
                    args.type or "incremental_book_L2",
                    args.symbol,
                    day,
                    root=args.root,
                    base=args.base_url or D.TARDIS_DATASETS_BASE,
                    **kw,
                )
            results.append(r)
    except D.DownloadError as exc:  # the CLI reports bad input and failed downloads alike
        raise ValueError(str(exc)) from exc
    return {
        "source": args.source,
        "files": [
            {
                "file": r.path.name,
                "path": str(r.path),
                "bytes": r.size,
                "sha256": r.sha256,
                "cached": r.cached,
                "resumed": r.resumed,
            }
            for r in results
        ],
        "downloaded": sum(not r.cached for r in results),
        "cached": sum(r.cached for r in results),
        "bytes": sum(r.size for r in results),
    }


def _convert(args) -> dict:
    from lobutils.data import lake

    root = Path(args.lake) if args.lake else default_lake_dir()
    try:
        out = lake.convert(
            args.files,
            root,
            exchange=args.exchange,
            symbol=args.symbol,
            mode=args.mode,
            errors=args.errors,
            force=args.force,
            partial=args.partial,
        )
    except FileExistsError as exc:  # --mode error: reported like bad input
        raise ValueError(str(exc)) from exc  # (LakeConflict is a ValueError already)
    written = [w for w in out if w["status"] == "written"]
    return {
        "lake": str(root),
        "partitions": len(written),
        "skipped": len(out) - len(written),
        "rows": sum(w["rows"] or 0 for w in written),
        "written": out,
    }


def _lake_root(args) -> Path:
    root = Path(args.lake) if args.lake else default_lake_dir()
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such lake directory")
    return root


def _lake_clean(args) -> dict:
    from lobutils.data import lake

    root = _lake_root(args)
    restored = lake.restore(root)
    return {"lake": str(root), "restored": restored, "removed": lake.clean(root)}


def _lake_verify(args) -> dict:
    from lobutils.data import lake

    root = _lake_root(args)
    problems = lake.verify(root)
    if problems:
        raise ValueError(f"{root}: {len(problems)} problem(s): " + "; ".join(problems))
    return {"lake": str(root), "partitions": len(lake.partitions(root)), "problems": []}


def add_fetch_parser(subparsers) -> None:
    """Register ``fetch`` on an argparse subparsers object.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned.
    """
    p = subparsers.add_parser("fetch", help="download exchange archives (cached, resumable)")
    p.add_argument("source", choices=("binance-vision", "bybit", "tardis"))
    p.add_argument("--symbol", required=True, help="e.g. BTCUSDT")
    p.add_argument("--date", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--end", default=None, help="last day (default: --date)")
    p.add_argument("--market", choices=("spot", "usdm", "cm"), default=None, help="data.vision")
    p.add_argument("--type", default=None, help="data type (data.vision or Tardis)")
    p.add_argument("--exchange", default=None, help="Tardis exchange id, e.g. binance-futures")
    p.add_argument("--category", choices=("linear", "inverse", "spot"), default="linear")
    p.add_argument("--depth", type=int, default=None, help="Bybit obN (default: by date)")
    p.add_argument("--root", default=None, help="cache folder (default <data dir>/archives)")
    p.add_argument("--base-url", default=None, help="another site root (a mirror, a test)")
    p.add_argument("--retries", type=int, default=4)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true", help="print one JSON line")
    p.set_defaults(func=_fetch)


def add_convert_parser(subparsers) -> None:
    """Register ``convert`` on an argparse subparsers object.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned.
    """
    p = subparsers.add_parser("convert", help="write raw files into the parquet lake")
    p.add_argument("files", nargs="+", help="raw files of any supported format")
    p.add_argument("--lake", default=None, help="lake folder (default <data dir>/lake)")
    p.add_argument("--exchange", default=None, help="partition name (default: inferred)")
    p.add_argument("--symbol", default=None, help="read this symbol of multi-symbol files")
    p.add_argument("--mode", choices=("overwrite", "skip", "error"), default="overwrite")
    p.add_argument("--errors", choices=("raise", "skip"), default="raise")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace partitions holding other sources' data or more rows",
    )
    p.add_argument(
        "--partial", action="store_true", help="keep what a truncated input holds (else an error)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON line")
    p.set_defaults(func=_convert)


def add_lake_parser(subparsers) -> None:
    """Register ``lake clean`` and ``lake verify`` on an argparse subparsers object.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned.

    Returns
    -------
    None
    """
    p = subparsers.add_parser("lake", help="maintain the parquet lake (clean, verify)")
    sub = p.add_subparsers(dest="lake_command", required=True)
    for name, func, text in (
        ("clean", _lake_clean, "restore interrupted replacements, remove leftovers"),
        ("verify", _lake_verify, "check data files and writes against their manifests"),
    ):
        q = sub.add_parser(name, help=text)
        q.add_argument("--lake", default=None, help="lake folder (default <data dir>/lake)")
        q.add_argument("--json", action="store_true", help="print one JSON line")
        q.set_defaults(func=func)


def add_parsers(subparsers) -> None:
    """Register ``fetch``, ``convert`` and ``lake``.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned.

    Returns
    -------
    None
    """
    add_fetch_parser(subparsers)
    add_convert_parser(subparsers)
    add_lake_parser(subparsers)
