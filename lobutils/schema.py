"""The normalised event schema every reader produces, and the book-frame layout.

Every reader in :mod:`lobutils.data.binance` (Binance stream recordings, and later Bybit, Tardis,
Binance data.vision and ccxt polls) returns the same three typed tables. Timestamps are
``int64`` nanoseconds since the Unix epoch, in two clocks:

``ts``
    the exchange's own time (event time ``E`` for depth diffs, trade time ``T`` for trades).
    :data:`TS_NA` where the exchange sends none (Binance spot ``bookTicker``).
``local_ts``
    the recording machine's receive time. It is a different clock: local minus exchange time is
    clock skew plus latency, never latency alone.

Depth events (:data:`DEPTH_COLUMNS`), one row per price level of a message
    ``msg`` numbers the messages of a stream (0, 1, 2, ...); all rows of one message share it.
    ``kind`` is :data:`DIFF` or :data:`SNAPSHOT`. ``first_id``/``last_id``/``prev_id`` are the
    exchange's update ids (Binance ``U``/``u``/``pu``; -1 where absent). ``side`` is
    :data:`BID` (+1) or :data:`ASK` (-1); a message with no level at all (it still advances the
    update-id chain) is one row with ``side == 0`` and NaN price. ``qty == 0`` deletes a level.
    ``line`` is the message's line in its source (see :class:`lobutils.data.binance.Recording`).

Trades (:data:`TRADE_COLUMNS`)
    ``side`` is the *aggressor*: +1 when the buyer took liquidity, -1 when the seller did
    (Binance ``m == true`` means the buyer was the maker, so the aggressor sold), 0 where the
    source does not say (some Tardis exchanges).

Best bid and offer (:data:`BBO_COLUMNS`)
    ``update_id`` is the book update id the quote belongs to (Binance ``bookTicker.u``).

The book frame (:func:`book_columns`) has one row per emitted book state: ``ts``,
``local_ts``, ``update_id``, then ``bid_px_1..N``, ``bid_qty_1..N``, ``ask_px_1..N``,
``ask_qty_1..N``. Level 1 is the best. Missing levels have NaN price and zero quantity.

Examples
--------
>>> book_columns(2)
['ts', 'local_ts', 'update_id', 'bid_px_1', 'bid_px_2', 'bid_qty_1', 'bid_qty_2', 'ask_px_1', 'ask_px_2', 'ask_qty_1', 'ask_qty_2']
>>> empty_frame(TRADE_COLUMNS).dtypes.astype(str).to_dict()
{'ts': 'int64', 'local_ts': 'int64', 'trade_id': 'int64', 'price': 'float64', 'qty': 'float64', 'side': 'int8', 'line': 'int64'}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "TS_NA",
    "DIFF",
    "SNAPSHOT",
    "BID",
    "ASK",
    "DEPTH_COLUMNS",
    "TRADE_COLUMNS",
    "BBO_COLUMNS",
    "book_columns",
    "book_levels",
    "book_arrays",
    "empty_frame",
    "frame_from_arrays",
]

TS_NA = np.iinfo(np.int64).min
"""Missing timestamp; it is ``NaT`` once viewed as ``datetime64[ns]``."""

DIFF = 0
"""``kind`` of a depth message that changes some levels."""
SNAPSHOT = 1
"""``kind`` of a depth message that replaces the whole book."""
BID = 1
"""``side`` of a bid level (and of a trade whose aggressor bought)."""
ASK = -1
"""``side`` of an ask level (and of a trade whose aggressor sold)."""

DEPTH_COLUMNS: dict[str, type] = {
    "ts": np.int64,
    "local_ts": np.int64,
    "msg": np.int64,
    "kind": np.int8,
    "first_id": np.int64,
    "last_id": np.int64,
    "prev_id": np.int64,
    "side": np.int8,
    "price": np.float64,
    "qty": np.float64,
    "line": np.int64,
}
"""Depth events: column name to dtype, one row per price level of a message."""

TRADE_COLUMNS: dict[str, type] = {
    "ts": np.int64,
    "local_ts": np.int64,
    "trade_id": np.int64,
    "price": np.float64,
    "qty": np.float64,
    "side": np.int8,
    "line": np.int64,
}
"""Trades: column name to dtype, ``side`` is the aggressor's."""

BBO_COLUMNS: dict[str, type] = {
    "ts": np.int64,
    "local_ts": np.int64,
    "update_id": np.int64,
    "bid_px": np.float64,
    "bid_qty": np.float64,
    "ask_px": np.float64,
    "ask_qty": np.float64,
    "line": np.int64,
}
"""Best bid and offer quotes: column name to dtype."""


def book_columns(levels: int) -> list[str]:
    """Column names of a book frame with ``levels`` levels per side.

    Parameters
    ----------
    levels : int
        Price levels per side, at least 1.

    Returns
    -------
    list of str
        ``ts``, ``local_ts``, ``update_id``, then ``bid_px_1..N``, ``bid_qty_1..N``,
        ``ask_px_1..N``, ``ask_qty_1..N``.

    Examples
    --------
    >>> book_columns(1)
    ['ts', 'local_ts', 'update_id', 'bid_px_1', 'bid_qty_1', 'ask_px_1', 'ask_qty_1']
    """
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    cols = ["ts", "local_ts", "update_id"]
    for side in ("bid", "ask"):
        for field in ("px", "qty"):
            cols += [f"{side}_{field}_{i}" for i in range(1, levels + 1)]
    return cols


def book_levels(frame: pd.DataFrame) -> int:
    """Number of levels per side in a book frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame (columns of :func:`book_columns`).

    Returns
    -------
    int
        The number of ``bid_px_*`` columns.

    Raises
    ------
    ValueError
        If the frame has no ``bid_px_1`` column.

    Examples
    --------
    >>> book_levels(pd.DataFrame(columns=book_columns(3)))
    3
    """
    n = sum(1 for c in frame.columns if str(c).startswith("bid_px_"))
    if n == 0:
        raise ValueError("not a book frame: no bid_px_1.. columns")
    return n


def book_arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The (N, L) arrays ``bid_px, bid_qty, ask_px, ask_qty`` of a book frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame (columns of :func:`book_columns`) with N rows and L levels.

    Returns
    -------
    tuple of numpy.ndarray
        ``(bid_px, bid_qty, ask_px, ask_qty)``, each float64 of shape (N, L), level 1 first.

    Examples
    --------
    >>> f = pd.DataFrame([[0, 0, 1, 10.0, 2.0, 11.0, 3.0]], columns=book_columns(1))
    >>> [a.tolist() for a in book_arrays(f)]
    [[[10.0]], [[2.0]], [[11.0]], [[3.0]]]
    """
    n = book_levels(frame)
    out = []
    for side in ("bid", "ask"):
        for field in ("px", "qty"):
            cols = [f"{side}_{field}_{i}" for i in range(1, n + 1)]
            out.append(frame[cols].to_numpy(dtype=np.float64))
    return tuple(out)


def empty_frame(columns: dict[str, type]) -> pd.DataFrame:
    """An empty frame with the typed columns of one of the schemas.

    Parameters
    ----------
    columns : dict of str to type
        A schema: :data:`DEPTH_COLUMNS`, :data:`TRADE_COLUMNS` or :data:`BBO_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        No rows, one column per schema entry with its dtype.

    Examples
    --------
    >>> list(empty_frame(BBO_COLUMNS).columns)[:3]
    ['ts', 'local_ts', 'update_id']
    """
    return pd.DataFrame({k: np.empty(0, dtype=v) for k, v in columns.items()})


def frame_from_arrays(columns: dict[str, type], **arrays: np.ndarray) -> pd.DataFrame:
    """Build a schema frame, checking that every column is present and casting its dtype.

    Parameters
    ----------
    columns : dict of str to type
        A schema: :data:`DEPTH_COLUMNS`, :data:`TRADE_COLUMNS` or :data:`BBO_COLUMNS`.
    **arrays : numpy.ndarray
        One array per column of the schema, all of one length.

    Returns
    -------
    pandas.DataFrame
        The columns in schema order, cast to the schema's dtypes.

    Raises
    ------
    ValueError
        If a column is missing or one is not in the schema.

    Examples
    --------
    >>> f = frame_from_arrays(
    ...     BBO_COLUMNS, ts=[1], local_ts=[2], update_id=[3], bid_px=[9.5], bid_qty=[1.0],
    ...     ask_px=[10.5], ask_qty=[2.0], line=[1],
    ... )
    >>> f["update_id"].dtype.name, float(f["ask_px"].iloc[0])
    ('int64', 10.5)
    """
    missing = set(columns) - set(arrays)
    extra = set(arrays) - set(columns)
    if missing or extra:
        raise ValueError(f"schema mismatch: missing {sorted(missing)}, unexpected {sorted(extra)}")
    return pd.DataFrame({k: np.asarray(arrays[k], dtype=columns[k]) for k in columns})
