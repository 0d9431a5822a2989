"""A first measured look at recordings: counts, rates, update-id chains, clocks, trades, polling.

It sits in the book stage because two of its questions rebuild books from the recordings
(:func:`check_recording`, :func:`polling_table`).

Chapter 1 surveys the bundled Binance recordings before any processing. The tables it shows
are computed here, one function per question, each from :class:`lobutils.data.binance.Recording`
objects (or the book frames rebuilt from them) keyed by segment name:

- :func:`message_counts`: lines and messages by type, the recorded span and the rates;
- :func:`chain_table`: the update-id chain rule of each market, its breaks, and how far ids move;
- :func:`clock_table`: local receive time minus exchange time, per segment;
- :func:`trade_values`, :func:`trade_table`: trade notionals and the aggressor balance;
- :func:`check_recording`, :func:`states_equal`: rebuild recorded files and compare books;
- :func:`polling_table`, :func:`busiest_window`: what a poller sees of the top of the book.

Examples
--------
>>> from lobutils.data import read_binance_recording, segments
>>> seg = segments()[0]
>>> recs = {seg.name: read_binance_recording(seg.files)}
>>> int(chain_table(recs)[0].loc[seg.name, "chain breaks"])
0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lobutils.book.replay import check_bbo, reconstruct
from lobutils.book.sampling import sample_clock
from lobutils.data.binance import read_binance_recording
from lobutils.schema import DIFF, SNAPSHOT

__all__ = [
    "busiest_window",
    "chain_table",
    "check_recording",
    "clock_table",
    "diff_messages",
    "message_counts",
    "polling_table",
    "price_changes",
    "span_s",
    "states_equal",
    "top_changes",
    "trade_table",
    "trade_values",
]


def diff_messages(rec) -> pd.DataFrame:
    """One row per depth diff message (its first level row), in arrival order.

    Parameters
    ----------
    rec : lobutils.data.binance.Recording
        A read recording.

    Returns
    -------
    pandas.DataFrame
        Rows of ``rec.depth`` with ``kind == DIFF``, one per message.
    """
    d = rec.depth
    return d[d.kind == DIFF].drop_duplicates("msg")


def span_s(rec) -> float:
    """Seconds from the first to the last receive time over depth, trades and quotes.

    Parameters
    ----------
    rec : lobutils.data.binance.Recording
        A read recording.

    Returns
    -------
    float
        The recorded span (s).
    """
    local = np.concatenate([rec.depth.local_ts, rec.trades.local_ts, rec.bbo.local_ts])
    return float((local.max() - local.min()) / 1e9)


def message_counts(recs: Mapping[str, Any]) -> pd.DataFrame:
    """Lines and messages by type per segment, the recorded span and the message rates.

    Parameters
    ----------
    recs : mapping of str to Recording
        Recordings by segment name.

    Returns
    -------
    pandas.DataFrame
        One row per segment: ``market``, ``lines``, ``snapshots``, ``diffs``, ``level updates``,
        ``trades``, ``bbo``, ``skipped``, ``span (s)``, ``median gap between diffs (ms)`` (in
        exchange time), and ``diffs/s``, ``trades/s``, ``bbo/s``.
    """
    rows = {}
    for name, rec in recs.items():
        st = rec.stats
        rows[name] = {
            "market": rec.market,
            "lines": st["lines"],
            "snapshots": st["snapshots"],
            "diffs": st["diffs"],
            "level updates": int(((rec.depth.kind == DIFF) & (rec.depth.side != 0)).sum()),
            "trades": st["trades"],
            "bbo": st["bbo"],
            "skipped": sum(st["skipped_streams"].values()),
            "span (s)": round(span_s(rec), 1),
            "median gap between diffs (ms)": np.median(np.diff(diff_messages(rec).ts)) / 1e6,
        }
    counts = pd.DataFrame(rows).T
    for col in ("diffs", "trades", "bbo"):
        counts[f"{col}/s"] = (counts[col] / counts["span (s)"]).astype(float).round(1)
    return counts


def chain_table(recs: Mapping[str, Any]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Check each segment's update-id chain, and measure how far the ids move.

    Spot diffs chain by ``U == prev_u + 1``; futures diffs by ``pu == prev_u``.

    Parameters
    ----------
    recs : mapping of str to Recording
        Recordings by segment name.

    Returns
    -------
    table : pandas.DataFrame
        One row per segment: ``rule``, ``diffs``, ``chain breaks``, ``step = 1 (share)`` (share
        of diffs with ``U == prev_u + 1``), the medians ``id step``, ``ids per diff`` and
        ``levels per diff``, and ``snapshot lastUpdateId``.
    steps : dict of str to numpy.ndarray
        The id step ``U - prev_u`` between consecutive diffs, per segment.
    """
    rows, steps = {}, {}
    for name, rec in recs.items():
        m = diff_messages(rec)
        first_id, last_id = m.first_id.to_numpy(), m.last_id.to_numpy()
        if rec.market == "spot":
            chained = first_id[1:] == last_id[:-1] + 1
        else:
            chained = m.prev_id.to_numpy()[1:] == last_id[:-1]
        step = first_id[1:] - last_id[:-1]
        steps[name] = step
        levels = rec.depth[rec.depth.kind == DIFF].msg.value_counts()
        rows[name] = {
            "rule": "U == prev_u + 1" if rec.market == "spot" else "pu == prev_u",
            "diffs": len(m),
            "chain breaks": int((~chained).sum()),
            "step = 1 (share)": round(float(np.mean(step == 1)), 4),
            "id step": float(np.median(step)),
            "ids per diff": float(np.median(last_id - first_id + 1)),
            "levels per diff": float(np.median(levels)),
            "snapshot lastUpdateId": int(
                rec.depth.loc[rec.depth.kind == SNAPSHOT, "last_id"].iat[0]
            ),
        }
    return pd.DataFrame(rows).T, steps


def clock_table(recs: Mapping[str, Any]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Local receive time minus exchange time (ms) of the diffs and trades of each segment.

    Parameters
    ----------
    recs : mapping of str to Recording
        Recordings by segment name.

    Returns
    -------
    table : pandas.DataFrame
        One row per segment: ``diffs: median (ms)``, ``diffs: p1 (ms)``, ``diffs: p99 (ms)``,
        ``diffs: p99 - p1 (ms)``, ``trades: median (ms)``, rounded to 0.1 ms.
    offsets : dict of str to numpy.ndarray
        The difference of every diff (ms), per segment.
    """
    rows, offsets = {}, {}
    for name, rec in recs.items():
        m = diff_messages(rec)
        d = (m.local_ts.to_numpy() - m.ts.to_numpy()) / 1e6
        t = (rec.trades.local_ts.to_numpy() - rec.trades.ts.to_numpy()) / 1e6
        offsets[name] = d
        p1, p99 = np.percentile(d, 1), np.percentile(d, 99)
        rows[name] = {
            "diffs: median (ms)": np.median(d),
            "diffs: p1 (ms)": p1,
            "diffs: p99 (ms)": p99,
            "diffs: p99 - p1 (ms)": p99 - p1,
            "trades: median (ms)": np.median(t),
        }
    return pd.DataFrame(rows).T.round(1), offsets


def trade_values(market: str, trades: pd.DataFrame, contract_usd: float | None) -> np.ndarray:
    """Trade notionals: price × quantity on linear markets, contracts × contract value on COIN-M.

    Parameters
    ----------
    market : str
        ``spot``, ``usdm`` or ``cm``.
    trades : pandas.DataFrame
        ``price`` and ``qty`` (coins, or contracts on COIN-M).
    contract_usd : float or None
        USD per COIN-M contract; None gives NaN values on COIN-M.

    Returns
    -------
    numpy.ndarray
        USDT on spot and USD-M, USD on COIN-M.

    Examples
    --------
    >>> t = pd.DataFrame({"price": [60000.0], "qty": [2.0]})
    >>> trade_values("spot", t, None).tolist(), trade_values("cm", t, 100).tolist()
    ([120000.0], [200.0])
    """
    if market == "cm":
        cv = np.nan if contract_usd is None else contract_usd
        return trades.qty.to_numpy() * cv
    return (trades.price * trades.qty).to_numpy()


def trade_table(recs: Mapping[str, Any], values: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """The aggressor balance and the size of trades, per segment.

    Parameters
    ----------
    recs : mapping of str to Recording
        Recordings by segment name.
    values : mapping of str to numpy.ndarray
        Each segment's trade notionals (:func:`trade_values`).

    Returns
    -------
    pandas.DataFrame
        ``trades``, ``buys (trades)`` and ``buys (value)`` (the buyer-initiated share of the
        trades and of their value), ``value (M USD)``, and the ``median (USD)`` and
        ``mean (USD)`` trade.
    """
    rows = {}
    for name, rec in recs.items():
        side, v = rec.trades.side.to_numpy(), values[name]
        rows[name] = {
            "trades": len(side),
            "buys (trades)": round(float(np.mean(side == 1)), 3),
            "buys (value)": round(float(v[side == 1].sum() / v.sum()), 3),
            "value (M USD)": round(float(v.sum() / 1e6), 1),
            "median (USD)": round(float(np.median(v))),
            "mean (USD)": round(float(v.mean())),
        }
    return pd.DataFrame(rows).T.astype({"trades": int})


def states_equal(a: pd.DataFrame, b: pd.DataFrame, on: str, columns: Sequence[str]) -> np.ndarray:
    """Join two book frames on one column and compare the others, NaN equal to NaN.

    Parameters
    ----------
    a, b : pandas.DataFrame
        Book frames (``reconstruct(...).frame``).
    on : str
        The join column (``update_id``, or ``local_ts`` where there are no ids).
    columns : sequence of str
        The columns compared.

    Returns
    -------
    numpy.ndarray of bool
        One value per joined state: all columns equal.

    Examples
    --------
    >>> a = pd.DataFrame({"id": [1, 2], "x": [1.0, np.nan]})
    >>> states_equal(a, a.assign(x=[1.0, np.nan]), "id", ["x"]).tolist()
    [True, True]
    """
    joined = a[[on, *columns]].merge(b[[on, *columns]], on=on, suffixes=("", "_other"))
    same = np.ones(len(joined), bool)
    for c in columns:
        x, y = joined[c].to_numpy(), joined[f"{c}_other"].to_numpy()
        same &= (x == y) | (np.isnan(x) & np.isnan(y))
    return same


def check_recording(files: Sequence[str | Path], levels: int = 10):
    """Read recorded files, rebuild the book, and compare it with the bookTicker stream.

    Parameters
    ----------
    files : sequence of path
        The files of one recorded segment.
    levels : int, default 10
        Book levels rebuilt.

    Returns
    -------
    rec : Recording
        The recording read.
    book : lobutils.book.replay.Book
        The rebuilt book.
    summary : dict
        Messages read by type, book states, stale diffs, chain gaps, and the quotes compared
        and matched (``check_bbo``).
    """

    rec = read_binance_recording(files)
    book = reconstruct(rec, levels=levels)
    bbo = check_bbo(book.frame, rec.bbo)
    summary = {
        "files": ", ".join(Path(f).name for f in files),
        "lines": rec.stats["lines"],
        "snapshots": rec.stats["snapshots"],
        "diffs": rec.stats["diffs"],
        "trades": rec.stats["trades"],
        "bbo": rec.stats["bbo"],
        "book states": len(book.frame),
        "stale diffs (already in the snapshot)": book.stats["stale"],
        "chain gaps": book.stats["gaps"],
        "quotes compared": bbo["bbo_compared"],
        "quotes matched (share)": bbo["bbo_matched"] / max(bbo["bbo_compared"], 1),
    }
    return rec, book, summary


def top_changes(frame: pd.DataFrame) -> int:
    """How many times the best bid or ask (price or size) changes from one row to the next.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame with ``bid_px_1``, ``bid_qty_1``, ``ask_px_1``, ``ask_qty_1``.

    Returns
    -------
    int
        The number of changes.

    Examples
    --------
    >>> f = pd.DataFrame({"bid_px_1": [1, 1, 2], "bid_qty_1": [1, 2, 2],
    ...                   "ask_px_1": [3, 3, 3], "ask_qty_1": [1, 1, 1]})
    >>> top_changes(f), price_changes(f)
    (2, 1)
    """
    top = frame[["bid_px_1", "bid_qty_1", "ask_px_1", "ask_qty_1"]].to_numpy()
    return int(np.any(top[1:] != top[:-1], axis=1).sum())


def price_changes(frame: pd.DataFrame) -> int:
    """How many times the best bid or ask price changes from one row to the next.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame with ``bid_px_1`` and ``ask_px_1``.

    Returns
    -------
    int
        The number of changes.
    """
    top = frame[["bid_px_1", "ask_px_1"]].to_numpy()
    return int(np.any(top[1:] != top[:-1], axis=1).sum())


def polling_table(tops: Mapping[str, pd.DataFrame], every: str) -> pd.DataFrame:
    """Top-of-book changes that happened against those a poller every ``every`` sees.

    Parameters
    ----------
    tops : mapping of str to pandas.DataFrame
        Event-time book frames (one level is enough), by segment.
    every : str
        The polling interval, a pandas offset (``"1s"``).

    Returns
    -------
    pandas.DataFrame
        ``polls``; ``top changes`` (best prices or sizes), how many the polls ``seen``, and
        ``seen (share)``; the same for ``price changes`` (best prices only).
    """
    rows = {}
    for name, frame in tops.items():
        polled = sample_clock(frame, every)
        rows[name] = {
            "polls": len(polled),
            "top changes": top_changes(frame),
            "seen": top_changes(polled),
            "price changes": price_changes(frame),
            "price changes seen": price_changes(polled),
        }
    t = pd.DataFrame(rows).T
    t.insert(3, "seen (share)", (t["seen"] / t["top changes"]).round(3))
    t["price seen (share)"] = (t["price changes seen"] / t["price changes"]).round(3)
    return t


def busiest_window(ts: np.ndarray, values: np.ndarray, seconds: int = 30) -> tuple[int, int]:
    """The window of ``seconds`` (from the first time on) in which ``values`` changes most often.

    Parameters
    ----------
    ts : numpy.ndarray
        Times (int64 ns), increasing.
    values : numpy.ndarray
        The series (e.g. the best bid after every update).
    seconds : int, default 30
        Window length (s).

    Returns
    -------
    start : int
        The window's start (ns).
    changes : int
        How many times the value changed inside it.

    Examples
    --------
    >>> s = 10**9
    >>> busiest_window(np.array([0, 1, 40, 41, 42]) * s, np.array([1, 1, 1, 2, 3]), 30)
    (30000000000, 2)
    """
    width = seconds * 10**9
    moved = np.r_[False, values[1:] != values[:-1]]
    window = (ts - ts[0]) // width
    busiest = int(np.bincount(window[moved]).argmax())
    start = int(ts[0]) + busiest * width
    inside = moved & (ts >= start) & (ts < start + width)
    return start, int(inside.sum())
