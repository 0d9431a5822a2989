"""Readers for exchange archives: Binance data.vision, Bybit order books, Tardis.dev CSV.

The live recorder gives the richest data (both clocks, every stream), but only from the day it
starts. Exchange archives give history. Each reader here turns one archive format into the
event schema of :mod:`lobutils.schema`, so that everything downstream (the book engine, the
features, the lake) works on it unchanged:

Binance data.vision
    :func:`read_binance_vision` (:mod:`~lobutils.data.archives.binance_vision`): trades
    (``trades``, ``aggTrades``), quotes (``bookTicker``), depth bands (``bookDepth``).
Bybit order-book archives
    :func:`read_bybit_orderbook` (:mod:`~lobutils.data.archives.bybit`): L2 depth events
    (snapshot + deltas).
Tardis.dev CSV
    :func:`read_tardis_book`, :func:`read_tardis_book_snapshots`, :func:`read_tardis_trades`
    (:mod:`~lobutils.data.archives.tardis`): L2 depth events, book frames, trades.

:func:`lobutils.acquire.download.fetch` downloads them (with caching, resume and checksums) and
:func:`lobutils.data.lake.convert` stores them in the parquet lake.

Sync semantics differ by source, and the readers say which one applies through
``Recording.market``, the chain rule :func:`lobutils.book.replay.reconstruct` uses by default:
Binance streams chain by update id (``"spot"``, ``"futures"``); Bybit and Tardis have no chain
to check across a snapshot, and every snapshot replaces the book (``"none"``). The Bybit reader
checks Bybit's consecutive update ids itself, and both leave out updates that cannot be applied
to a correct book (before the first snapshot, after a gap), counting them in
``Recording.stats``.

None of the archives records when a message was received, except Tardis
(``local_timestamp``): elsewhere ``local_ts`` is :data:`~lobutils.schema.TS_NA`.

Examples
--------
>>> detect("BTCUSDT-aggTrades-2024-08-08.zip")
('binance-vision', 'aggTrades')
>>> detect("2024-08-08_BTCUSDT_ob500.data.zip")
('bybit', 'orderbook')
>>> detect("spot_btcusdt_20240808.gz"), detect("usdm_ethusdt_20240808_23.gz")[0]
(('binance-recording', 'stream'), 'binance-recording')
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lobutils.data.archives.binance_vision import (
    VISION_FILE_RE,
    read_binance_vision,
    read_vision_book_depth,
    read_vision_book_ticker,
    read_vision_trades,
)
from lobutils.data.archives.bybit import BYBIT_FILE_RE, read_bybit_orderbook
from lobutils.data.archives.tardis import (
    read_tardis_book,
    read_tardis_book_snapshots,
    read_tardis_trades,
    tardis_data_type,
)

__all__ = [
    "detect",
    "read_binance_vision",
    "read_bybit_orderbook",
    "read_tardis_book",
    "read_tardis_book_snapshots",
    "read_tardis_trades",
    "read_vision_book_depth",
    "read_vision_book_ticker",
    "read_vision_trades",
]

_RECORDING_RE = re.compile(r"^(spot|usdm|cm)_[a-z0-9][a-z0-9_]*?_\d{8}(_\d{2})?\.gz$")


def detect(path: str | os.PathLike) -> tuple[str, str]:
    """The source and data type of a raw file, from its name (and a Tardis CSV's header).

    Parameters
    ----------
    path : str or path-like
        The file; only a ``.csv`` or ``.csv.gz`` file is opened (to read its header).

    Returns
    -------
    source : str
        ``"binance-recording"``, ``"binance-vision"``, ``"bybit"`` or ``"tardis"``.
    data_type : str
        ``"stream"`` for a recording, the data.vision type (``"aggTrades"``, ...),
        ``"orderbook"`` for Bybit, or the Tardis data type (``"incremental_book_L2"``, ...).

    Raises
    ------
    ValueError
        If the file is none of these.
    """
    p = Path(path)
    name = p.name
    if _RECORDING_RE.match(name):
        return "binance-recording", "stream"
    m = VISION_FILE_RE.match(name)
    if m:
        return "binance-vision", m["type"]
    if BYBIT_FILE_RE.match(name):
        return "bybit", "orderbook"
    if name.endswith((".csv.gz", ".csv")):
        from lobutils.data.archives.tardis import _header

        try:
            return "tardis", tardis_data_type(_header(p, "warn"))
        except ValueError as exc:
            raise ValueError(f"{p}: not a recognised archive file ({exc})") from None
    raise ValueError(
        f"{p}: not a recognised archive file (Binance recording <market>_<symbol>_<YYYYMMDD>.gz, "
        "data.vision <SYMBOL>-<type>-<date>.zip, Bybit <date>_<SYMBOL>_obN.data.zip, or a "
        "Tardis .csv.gz)"
    )
