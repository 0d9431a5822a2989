"""Binance public data (data.binance.vision): trades, aggTrades, bookTicker and bookDepth.

Binance publishes daily and monthly zip archives at
``https://data.binance.vision/data/<spot|futures/um|futures/cm>/<daily|monthly>/<type>/<SYMBOL>/
<SYMBOL>-<type>-<YYYY-MM-DD>.zip`` (see :func:`lobutils.acquire.download.binance_vision_url`), each
holding one CSV file of the same name and published next to a ``.CHECKSUM`` file (its
sha256, as ``sha256sum`` prints it). Column layouts, as Binance's ``binance-public-data``
README and the files themselves give them:

==============  ======================================================================
``trades``      spot: ``id, price, qty, quote_qty, time, is_buyer_maker, is_best_match``;
                USD-M: ``id, price, qty, quote_qty, time, is_buyer_maker``;
                COIN-M: ``id, price, qty, base_qty, time, is_buyer_maker``
``aggTrades``   ``agg_trade_id, price, quantity, first_trade_id, last_trade_id,
                transact_time, is_buyer_maker`` (spot adds ``is_best_match``)
``bookTicker``  (futures) ``update_id, best_bid_price, best_bid_qty, best_ask_price,
                best_ask_qty, transaction_time, event_time``
``bookDepth``   (futures) ``timestamp, percentage, depth, notional``
==============  ======================================================================

Futures files start with a header line; spot files have none: the reader detects it (a first
field that is not a number). Times are epoch ms, except spot files from 2025-01-01 on, which
are in µs: the unit is detected per file from the magnitude. ``is_buyer_maker == true`` means
the buyer's order was resting, so the aggressor sold: ``side = -1``; otherwise +1.

What each becomes
-----------------
* trades and aggTrades -> a :class:`~lobutils.data.binance.Recording` whose ``trades`` frame is filled
  (``trade_id`` is the trade id or the aggregate trade id). ``local_ts`` is
  :data:`~lobutils.schema.TS_NA`: archives carry no receive time.
* bookTicker -> a Recording with ``bbo`` filled; ``ts`` is ``event_time`` (as in the
  recording reader), ``update_id`` the book update id. Binance stopped publishing it in 2024.
* bookDepth -> a tidy frame (:func:`read_vision_book_depth`), **not** a book. Each row is the
  *cumulative* size (``depth``, base units) and value (``notional``, quote units) of all orders
  within ``percentage`` % of the price (negative: bids below, positive: asks above), sampled
  every 30-60 s. It has no price levels, no per-level sizes and no update ids, so no L2 book can
  be rebuilt from it and it cannot feed :func:`lobutils.book.replay.reconstruct`; it is a liquidity
  profile, useful next to a book, not instead of one.

Bad input
---------
An empty file, a truncated or corrupt zip (including a bad CRC), a zip whose CSV names another
symbol or data type, a header of another layout, a malformed line, times of mixed units, and a
price or size that is not a positive number raise :class:`~lobutils.data.binance.RecordingError` naming
file and line (``errors="skip"`` drops and counts malformed rows instead). Duplicated trade ids
and repeated identical quotes are skipped and counted (``stats["duplicates"]``); times or ids
that go backwards are counted (``ts_backwards``, ``id_backwards``), and so are jumps in the
consecutive trade ids (``id_gaps``, ``missing_ids``: trades missing from the archive); crossed
quotes are counted (``stats["crossed"]``).

Examples
--------
A synthetic USD-M trades file in the real layout (header, ms times):

>>> import os, tempfile, zipfile
>>> p = os.path.join(tempfile.mkdtemp(), "BTCUSDT-trades-2024-08-08.zip")
>>> with zipfile.ZipFile(p, "w") as z:
...     z.writestr("BTCUSDT-trades-2024-08-08.csv",
...                "id,price,qty,quote_qty,time,is_buyer_maker\\n"
...                "1,100.5,0.2,20.1,1723075200000,true\\n"
...                "2,100.6,0.1,10.06,1723075200007,false\\n")
>>> rec = read_binance_vision(p)
>>> rec.symbol, rec.market, rec.trades.side.tolist(), rec.stats["time_unit"]
('btcusdt', 'futures', [-1, 1], {'BTCUSDT-trades-2024-08-08.zip': 'ms'})
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from lobutils.data.archives import _common as C
from lobutils.data.archives._csv import read_table
from lobutils.data.binance import Recording, RecordingError
from lobutils.data.checks import (
    check_choice,
    count_backwards,
    input_paths,
    locate,
    reject_rows,
)
from lobutils.schema import BBO_COLUMNS, TRADE_COLUMNS, TS_NA

__all__ = [
    "VISION_FILE_RE",
    "VISION_TYPES",
    "read_binance_vision",
    "read_vision_book_depth",
    "read_vision_book_ticker",
    "read_vision_trades",
]

VISION_TYPES = ("trades", "aggTrades", "bookTicker", "bookDepth")
"""The data.vision data types these readers know."""

VISION_FILE_RE = re.compile(
    r"^(?P<symbol>[A-Z0-9_]+)-(?P<type>trades|aggTrades|bookTicker|bookDepth)-"
    r"(?P<date>\d{4}-\d{2}(-\d{2})?)\.(zip|csv)$"
)
"""File name of a data.vision archive (or its CSV), e.g. ``BTCUSDT-trades-2024-08-08.zip``."""

# layouts by data type and number of columns: (names, specs, market)
_B = "bool"
_LAYOUTS = {
    ("trades", 7): (
        ["id", "price", "qty", "quote_qty", "time", "is_buyer_maker", "is_best_match"],
        ["int", "float", "float", "float", "int", _B, "skip"],
        "spot",
    ),
    ("trades", 6): (
        ["id", "price", "qty", "quote_qty", "time", "is_buyer_maker"],
        ["int", "float", "float", "float", "int", _B],
        "futures",
    ),
    ("aggTrades", 8): (
        [
            "agg_trade_id",
            "price",
            "quantity",
            "first_trade_id",
            "last_trade_id",
            "transact_time",
            "is_buyer_maker",
            "is_best_match",
        ],
        ["int", "float", "float", "int", "int", "int", _B, "skip"],
        "spot",
    ),
    ("aggTrades", 7): (
        [
            "agg_trade_id",
            "price",
            "quantity",
            "first_trade_id",
            "last_trade_id",
            "transact_time",
            "is_buyer_maker",
        ],
        ["int", "float", "float", "int", "int", "int", _B],
        "futures",
    ),
    ("bookTicker", 7): (
        [
            "update_id",
            "best_bid_price",
            "best_bid_qty",
            "best_ask_price",
            "best_ask_qty",
            "transaction_time",
            "event_time",
        ],
        ["int", "float", "float", "float", "float", "int", "int"],
        "futures",
    ),
    ("bookDepth", 4): (
        ["timestamp", "percentage", "depth", "notional"],
        ["str", "float", "float", "float"],
        "futures",
    ),
}
# header names Binance uses that differ from the ones above, by position (COIN-M base_qty)
_ALIASES = {"base_qty": "quote_qty"}


def _name_parts(path: Path) -> tuple[str, str, str]:
    m = VISION_FILE_RE.match(path.name)
    if m is None:
        raise RecordingError(
            f"{path}: not a data.vision file name (<SYMBOL>-<type>-<date>.zip with type one of "
            f"{', '.join(VISION_TYPES)})"
        )
    return m["symbol"], m["type"], m["date"]


def _load(path: Path, errors: str, want: tuple[str, ...]):
    """Open one archive: checks names, picks the layout, parses the CSV."""
    symbol, dtype, _date = _name_parts(path)
    if dtype not in want:
        raise RecordingError(f"{path}: a {dtype} file, expected {' or '.join(want)}")
    if path.suffix == ".zip":
        member, data = C.read_zip_member(path, suffix=".csv")
        mname = Path(member).name
        m = VISION_FILE_RE.match(mname)
        if m is None or (m["symbol"], m["type"]) != (symbol, dtype):
            raise RecordingError(
                f"{path}: the archive holds {mname!r}, not a {dtype} file of {symbol}"
            )
        where = f"{path}"
    else:
        data = path.read_bytes()
        if not data.strip():
            raise RecordingError(f"{path}: file is empty")
        where = str(path)
    head = data[: data.find(b"\n") if b"\n" in data else len(data)].decode(errors="replace")
    if not head.strip():
        raise RecordingError(f"{where}: file is empty")
    n_cols = len(head.strip().split(","))
    if (dtype, n_cols) not in _LAYOUTS:
        known = sorted(n for t, n in _LAYOUTS if t == dtype)
        raise RecordingError(
            f"{where}:1: {n_cols} columns; a {dtype} file has {' or '.join(map(str, known))}"
        )
    names, specs, market = _LAYOUTS[(dtype, n_cols)]
    tab = read_table(path, names, specs, data=data, errors=errors, where=where)
    if tab.header is not None:
        got = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in tab.header]
        if got != [n.lower() for n in names]:
            raise RecordingError(
                f"{where}:1: unexpected header {','.join(tab.header)!r}; expected "
                f"{','.join(names)!r}"
            )
    return symbol, dtype, market, tab, where


def _many(files, errors: str, want: tuple[str, ...]):
    check_choice("errors", errors, ("raise", "skip"))
    paths = input_paths(files)
    loaded = [_load(p, errors, want) for p in paths]
    symbols = {x[0] for x in loaded}
    if len(symbols) > 1:
        raise RecordingError(f"{paths[0]}: files of several symbols given: {sorted(symbols)}")
    types = {x[1] for x in loaded}
    if len(types) > 1:
        raise RecordingError(f"{paths[0]}: files of several data types given: {sorted(types)}")
    offsets = [0]
    for x in loaded:
        offsets.append(offsets[-1] + (int(x[3].line[-1]) if len(x[3].line) else 0))
    return paths, loaded, offsets


def _times(tab, col: str, where: str, stats: dict, name: str) -> np.ndarray:
    t = tab.frame[col].to_numpy(np.int64)
    scale, unit = C.time_unit(t[~tab.bad], where, col)
    stats["time_unit"][name] = unit
    return t * scale


def read_vision_trades(
    files: str | os.PathLike | Iterable[str | os.PathLike], errors: str = "raise"
) -> Recording:
    """Read data.vision ``trades`` or ``aggTrades`` archives (one symbol, in order).

    Parameters
    ----------
    files : str, path-like or iterable of them
        ``<SYMBOL>-trades-<date>.zip`` archives (or their extracted ``.csv``) of one symbol,
        read in the order given.
    errors : {"raise", "skip"}
        A malformed row raises :class:`~lobutils.data.binance.RecordingError` naming the file
        and line, or is dropped and counted in ``malformed``.

    Returns
    -------
    Recording
        ``trades`` filled, ``market`` ``"spot"`` or ``"futures"`` (from the layout).
        ``stats``: ``data_type``, ``rows``, ``trades``, ``malformed``, ``duplicates``,
        ``ts_backwards``, ``id_backwards``, ``id_gaps`` (jumps in the consecutive ids) and
        ``missing_ids``, ``time_unit`` per file.

    Raises
    ------
    lobutils.data.binance.RecordingError
        If a file name is not a data.vision name of this type, an archive is empty, cut or
        holds another file, the header or column count is not a known layout, the files mix
        symbols or types, or (``errors="raise"``) a row is malformed.
    """
    paths, loaded, offsets = _many(files, errors, ("trades", "aggTrades"))
    stats: dict = {"rows": 0, "malformed": 0, "malformed_lines": [], "time_unit": {}}
    parts = []
    for (_symbol, dtype, _market, tab, where), off, p in zip(loaded, offsets, paths, strict=False):
        f = tab.frame
        id_col, qty_col, t_col = (
            ("id", "qty", "time")
            if dtype == "trades"
            else ("agg_trade_id", "quantity", "transact_time")
        )
        ts = _times(tab, t_col, where, stats, p.name)
        px = f["price"].to_numpy(np.float64)
        qty = f[qty_col].to_numpy(np.float64)
        with np.errstate(invalid="ignore"):
            bad_val = ~(np.isfinite(px) & (px > 0) & np.isfinite(qty) & (qty > 0))
        bad = tab.bad | bad_val  # tab.bad is empty under errors="raise": read_table raised
        reject_rows(
            stats,
            bad,
            errors,
            "invalid trade price={px} qty={qty}; both must be positive numbers",
            lines=tab.line,
            paths=where,
            px=px,
            qty=qty,
        )
        k = ~bad
        parts.append(
            pd.DataFrame(
                {
                    "ts": ts[k],
                    "local_ts": np.full(int(k.sum()), TS_NA, np.int64),
                    "trade_id": f[id_col].to_numpy(np.int64)[k],
                    "price": px[k],
                    "qty": qty[k],
                    "side": np.where(f["is_buyer_maker"].to_numpy(bool)[k], -1, 1),
                    "line": tab.line[k] + off,
                }
            )
        )
        stats["rows"] += len(f)
    trades = pd.concat(parts, ignore_index=True).astype(TRADE_COLUMNS)
    dup = trades["trade_id"].duplicated().to_numpy()
    stats["duplicates"] = int(dup.sum())
    trades = trades[~dup].reset_index(drop=True)
    stats["trades"] = len(trades)
    stats["data_type"] = loaded[0][1]
    _backwards(stats, trades["ts"].to_numpy(), trades["line"], paths, offsets, "ts_backwards")
    _backwards(stats, trades["trade_id"].to_numpy(), trades["line"], paths, offsets, "id_backwards")
    # trade ids (and aggregate trade ids) are consecutive: a jump means missing trades
    ids = trades["trade_id"].to_numpy()
    jumps = np.flatnonzero(np.diff(ids) > 1)
    stats["id_gaps"] = len(jumps)
    stats["missing_ids"] = int((np.diff(ids)[jumps] - 1).sum()) if len(jumps) else 0
    if len(jumps):
        stats["id_gaps_first"] = locate(paths, offsets, int(trades["line"].iat[jumps[0] + 1]))
    return C.recording(
        symbol=loaded[0][0].lower(),
        market=loaded[0][2],
        paths=paths,
        offsets=offsets,
        stats=stats,
        trades=trades,
    )


def _backwards(stats, values, line, paths, offsets, name):
    count, first = count_backwards(np.asarray(values, np.int64))
    stats[name] = count
    if count:
        stats[name + "_first"] = locate(paths, offsets, int(line.iat[first]))


def read_vision_book_ticker(
    files: str | os.PathLike | Iterable[str | os.PathLike], errors: str = "raise"
) -> Recording:
    """Read data.vision futures ``bookTicker`` archives (one symbol, in order).

    Parameters
    ----------
    files : str, path-like or iterable of them
        ``<SYMBOL>-bookTicker-<date>.zip`` archives (or their extracted ``.csv``) of one symbol,
        read in the order given.
    errors : {"raise", "skip"}
        A malformed row raises :class:`~lobutils.data.binance.RecordingError` naming the file
        and line, or is dropped and counted in ``malformed``.

    Returns
    -------
    Recording
        ``bbo`` filled (``ts`` from ``event_time``), ``market == "futures"``. ``stats``:
        ``rows``, ``bbo``, ``malformed``, ``duplicates``, ``crossed``, ``ts_backwards``,
        ``id_backwards``, ``time_unit``.

    Raises
    ------
    lobutils.data.binance.RecordingError
        If a file name is not a data.vision name of this type, an archive is empty, cut or
        holds another file, the header or column count is not a known layout, the files mix
        symbols or types, or (``errors="raise"``) a row is malformed.

    Examples
    --------
    >>> import os, tempfile, zipfile
    >>> p = os.path.join(tempfile.mkdtemp(), "ETHUSDT-bookTicker-2023-06-15.zip")
    >>> with zipfile.ZipFile(p, "w") as z:
    ...     z.writestr("ETHUSDT-bookTicker-2023-06-15.csv",
    ...                "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,"
    ...                "transaction_time,event_time\\n"
    ...                "5,1650.1,3.0,1650.2,1.5,1686787200009,1686787200015\\n")
    >>> q = read_vision_book_ticker(p).bbo
    >>> q[["update_id", "bid_px", "ask_qty"]].to_numpy().tolist(), int(q.ts.iat[0])
    ([[5.0, 1650.1, 1.5]], 1686787200015000000)
    """
    paths, loaded, offsets = _many(files, errors, ("bookTicker",))
    stats: dict = {"rows": 0, "malformed": 0, "malformed_lines": [], "time_unit": {}}
    parts = []
    for (_symbol, _dtype, _market, tab, where), off, p in zip(loaded, offsets, paths, strict=False):
        f = tab.frame
        ts = _times(tab, "event_time", where, stats, p.name)
        v = {
            k: f[c].to_numpy(np.float64)
            for k, c in (
                ("bid_px", "best_bid_price"),
                ("bid_qty", "best_bid_qty"),
                ("ask_px", "best_ask_price"),
                ("ask_qty", "best_ask_qty"),
            )
        }
        bad_val = C.bad_level(v["bid_px"], v["bid_qty"]) | C.bad_level(v["ask_px"], v["ask_qty"])
        bad = tab.bad | bad_val
        reject_rows(
            stats,
            bad,
            errors,
            "invalid quote (prices must be positive numbers, sizes numbers >= 0)",
            lines=tab.line,
            paths=where,
        )
        k = ~bad
        parts.append(
            pd.DataFrame(
                {
                    "ts": ts[k],
                    "local_ts": np.full(int(k.sum()), TS_NA, np.int64),
                    "update_id": f["update_id"].to_numpy(np.int64)[k],
                    **{name: arr[k] for name, arr in v.items()},
                    "line": tab.line[k] + off,
                }
            )
        )
        stats["rows"] += len(f)
    bbo = pd.concat(parts, ignore_index=True).astype(BBO_COLUMNS)
    dup = bbo.drop(columns="line").duplicated().to_numpy()
    stats["duplicates"] = int(dup.sum())
    bbo = bbo[~dup].reset_index(drop=True)
    stats["bbo"] = len(bbo)
    stats["crossed"] = int((bbo["bid_px"] >= bbo["ask_px"]).sum())
    _backwards(stats, bbo["ts"].to_numpy(), bbo["line"], paths, offsets, "ts_backwards")
    _backwards(stats, bbo["update_id"].to_numpy(), bbo["line"], paths, offsets, "id_backwards")
    return C.recording(
        symbol=loaded[0][0].lower(),
        market="futures",
        paths=paths,
        offsets=offsets,
        stats=stats,
        bbo=bbo,
    )


BOOK_DEPTH_COLUMNS: dict[str, type] = {
    "ts": np.int64,
    "percentage": np.float64,
    "side": np.int8,
    "depth": np.float64,
    "notional": np.float64,
    "line": np.int64,
}
"""Columns of :func:`read_vision_book_depth`'s frame."""


def read_vision_book_depth(
    files: str | os.PathLike | Iterable[str | os.PathLike], errors: str = "raise"
) -> pd.DataFrame:
    """Read data.vision futures ``bookDepth`` archives into a tidy frame of depth bands.

    Not a book: see the module notes. Each row is one band of one sample.

    Parameters
    ----------
    files : str, path-like or iterable of them
        ``<SYMBOL>-bookDepth-<date>.zip`` archives (or their extracted ``.csv``) of one symbol,
        read in the order given.
    errors : {"raise", "skip"}
        A malformed row raises :class:`~lobutils.data.binance.RecordingError` naming the file
        and line, or is dropped and counted in ``malformed``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BOOK_DEPTH_COLUMNS`: ``ts`` (int64 ns, the sample time, UTC),
        ``percentage`` (the band's edge in % of the price: -1 is bids down to 1 % below),
        ``side`` (+1 bids for a negative band, -1 asks for a positive one), ``depth``
        (cumulative size within the band, base units), ``notional`` (its value, quote units)
        and ``line``. ``frame.attrs["stats"]`` holds ``rows``, ``samples``, ``malformed``,
        ``duplicates``, ``ts_backwards`` (samples earlier than the row before), ``symbol`` and
        ``sources``.

    Raises
    ------
    lobutils.data.binance.RecordingError
        If a file name is not a data.vision name of this type, an archive is empty, cut or
        holds another file, the header or column count is not a known layout, the files mix
        symbols or types, or (``errors="raise"``) a row is malformed.

    Examples
    --------
    >>> import os, tempfile, zipfile
    >>> p = os.path.join(tempfile.mkdtemp(), "BTCUSDT-bookDepth-2024-08-08.zip")
    >>> with zipfile.ZipFile(p, "w") as z:
    ...     z.writestr("BTCUSDT-bookDepth-2024-08-08.csv",
    ...                "timestamp,percentage,depth,notional\\n"
    ...                "2024-08-08 00:00:08,-1.00,120.5,6500000.0\\n"
    ...                "2024-08-08 00:00:08,1.00,98.1,5300000.0\\n")
    >>> d = read_vision_book_depth(p)
    >>> d[["percentage", "side", "depth"]].to_numpy().tolist()
    [[-1.0, 1.0, 120.5], [1.0, -1.0, 98.1]]
    >>> str(pd.Timestamp(int(d.ts.iat[0])))
    '2024-08-08 00:00:08'
    """
    paths, loaded, offsets = _many(files, errors, ("bookDepth",))
    stats: dict = {"rows": 0, "malformed": 0, "malformed_lines": []}
    parts = []
    for (_symbol, _dtype, _market, tab, where), off in zip(loaded, offsets, strict=False):
        f = tab.frame
        when = pd.to_datetime(f["timestamp"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        pct = f["percentage"].to_numpy(np.float64)
        depth = f["depth"].to_numpy(np.float64)
        notional = f["notional"].to_numpy(np.float64)
        with np.errstate(invalid="ignore"):
            bad_val = (
                when.isna().to_numpy()
                | ~np.isfinite(pct)
                | (pct == 0)
                | ~(np.isfinite(depth) & (depth >= 0))
                | ~(np.isfinite(notional) & (notional >= 0))
            )
        bad = tab.bad | bad_val
        reject_rows(
            stats,
            bad,
            errors,
            "invalid bookDepth row (timestamp 'YYYY-MM-DD HH:MM:SS', a non-zero percentage, "
            "depth and notional >= 0)",
            lines=tab.line,
            paths=where,
        )
        k = ~bad
        ts = when.to_numpy("datetime64[ns]").astype(np.int64)
        parts.append(
            pd.DataFrame(
                {
                    "ts": ts[k],
                    "percentage": pct[k],
                    "side": np.where(pct[k] < 0, 1, -1),
                    "depth": depth[k],
                    "notional": notional[k],
                    "line": tab.line[k] + off,
                }
            )
        )
        stats["rows"] += len(f)
    frame = pd.concat(parts, ignore_index=True).astype(BOOK_DEPTH_COLUMNS)
    dup = frame.drop(columns="line").duplicated().to_numpy()
    stats["duplicates"] = int(dup.sum())
    frame = frame[~dup].reset_index(drop=True)
    stats["samples"] = int(frame["ts"].nunique())
    _backwards(stats, frame["ts"].to_numpy(), frame["line"], paths, offsets, "ts_backwards")
    stats["symbol"] = loaded[0][0].lower()
    stats["sources"] = [str(p) for p in paths]
    frame.attrs["stats"] = stats
    return frame


def read_binance_vision(
    files: str | os.PathLike | Iterable[str | os.PathLike], errors: str = "raise"
) -> Recording | pd.DataFrame:
    """Read data.vision archive(s) of one symbol and type, choosing the reader by file name.

    Parameters
    ----------
    files : str, path-like or iterable of them
        ``<SYMBOL>-<type>-<date>.zip`` archives of one symbol and type, read in the order
        given; the first file's name picks the reader.
    errors : {"raise", "skip"}
        A malformed row raises, or is dropped and counted (see the readers).

    Returns
    -------
    Recording or pandas.DataFrame
        ``trades``/``aggTrades`` (:func:`read_vision_trades`) and ``bookTicker``
        (:func:`read_vision_book_ticker`) give a :class:`~lobutils.data.binance.Recording`;
        ``bookDepth`` gives the frame of :func:`read_vision_book_depth`.

    Raises
    ------
    lobutils.data.binance.RecordingError
        If the first file's name is not a data.vision name, or as the reader chosen raises.
    """
    paths = input_paths(files)
    _, dtype, _ = _name_parts(paths[0])
    if dtype in ("trades", "aggTrades"):
        return read_vision_trades(paths, errors=errors)
    if dtype == "bookTicker":
        return read_vision_book_ticker(paths, errors=errors)
    return read_vision_book_depth(paths, errors=errors)
