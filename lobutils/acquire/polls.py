"""ccxt polls in the event schema: order books as depth snapshots, trades as trade rows.

Each poll of a book becomes depth events (:data:`~lobutils.schema.DEPTH_COLUMNS`): one
:data:`~lobutils.schema.SNAPSHOT` message with the book's levels. ``first_id == last_id`` is the
book's sequence number (ccxt's ``nonce``, e.g. Bybit's ``u``) when the exchange sends one, else the
poll's number. ``ts`` is the exchange's timestamp of the book when it sends one, else the local
receive time; ``local_ts`` is the receive time; ``line`` is the poll's number. Replaying with
``chain="none"`` (every snapshot replaces the book and is emitted as a state) gives one book-frame
row per poll:

>>> from lobutils.book.replay import reconstruct
>>> polls = [{"bids": [[100.0, 1.0]], "asks": [[101.0, 2.0]], "nonce": 7, "timestamp": 1000}]
>>> depth = polls_to_depth(polls, local_ts=[1_000_000_123])
>>> reconstruct(depth, levels=1, chain="none").frame.iloc[0].tolist()
[1000000000.0, 1000000123.0, 7.0, 100.0, 1.0, 101.0, 2.0]

Trades become :data:`~lobutils.schema.TRADE_COLUMNS` rows; ``side`` is ccxt's ``side`` of the
taker (+1 buy, -1 sell, 0 unknown). Ids that are not integers (Bybit's derivatives use UUIDs)
become a stable 63-bit hash of the id.

:func:`polls_to_depth` and :func:`trades_to_frame` raise ``ValueError`` naming the poll for a book
or trade they cannot store correctly; :func:`book_problem` and :func:`trade_problem` say what is
wrong with one, for the collector, which skips and counts it instead.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from lobutils.schema import ASK, BID, DEPTH_COLUMNS, SNAPSHOT, TRADE_COLUMNS

__all__ = ["book_problem", "polls_to_depth", "trade_problem", "trades_to_frame"]

_MS = 1_000_000


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


def book_problem(book) -> str | None:
    """Why a polled ccxt order book cannot be stored as a snapshot (None: it can).

    Parameters
    ----------
    book
        A ccxt order book (``{"bids": [[price, amount], ...], "asks": ..., "nonce": ...}``).

    Returns
    -------
    str or None
        The problem, in words, or None for a book that can be stored.

    Examples
    --------
    >>> book_problem({"bids": [[100.0, 1.0]], "asks": []}) is None  # one-sided: fine
    True
    >>> book_problem({"bids": [[100.0, 1.0]], "asks": [[-1.0, 2.0]]})
    'invalid ask level [-1.0, 2.0]: prices must be finite and > 0, amounts finite and >= 0'
    >>> book_problem({"bids": [], "asks": []})
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


def trade_problem(trade) -> str | None:
    """Why a polled ccxt trade cannot be stored (None: it can).

    Parameters
    ----------
    trade
        A ccxt trade (``{"price": ..., "amount": ..., "timestamp": ..., "side": ...}``).

    Returns
    -------
    str or None
        The problem, in words, or None for a trade that can be stored.

    Examples
    --------
    >>> trade_problem({"price": "NaN", "amount": 1.0, "timestamp": 5})
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

    Returns
    -------
    pandas.DataFrame
        One snapshot message per book, in the depth schema.

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
        problem = book_problem(book)
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

    Parameters
    ----------
    trades
        ccxt trade dicts (``id``, ``timestamp`` in ms, ``price``, ``amount``, ``side``).
    local_ts
        Receive time of each trade, ns since the epoch.
    line
        The poll of each trade.

    Returns
    -------
    pandas.DataFrame
        The trades in the trade schema; a trade that cannot be stored (no finite price and
        amount > 0) raises ``ValueError`` naming it.

    Examples
    --------
    >>> t = [{"id": "9", "timestamp": 2, "price": 1.5, "amount": 3.0, "side": "sell"}]
    >>> trades_to_frame(t, [7], [1]).values.tolist()
    [[2000000.0, 7.0, 9.0, 1.5, 3.0, -1.0, 1.0]]
    """
    side = {"buy": 1, "sell": -1}
    for t, poll in zip(trades, line, strict=True):
        problem = trade_problem(t)
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
