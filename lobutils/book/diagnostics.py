"""What a replay did, as small tables: the sync walk, damaged streams, event and clock time.

Chapter 2 shows the rules of :mod:`lobutils.book.replay` at work. The computations behind its
tables live here, where the tests check them, so that each of the chapter's cells does one
thing:

* :func:`sync_walk`: the first diffs of a recording fed to the reference book, in arrival order;
* :func:`first_applied`: per recording, the snapshot and the first diff the book applied;
* :func:`futures_continuation`: the futures case where ``U`` alone would see a gap;
* :func:`damaged_depth` and :func:`damage_table`: a depth frame with one message lost,
  duplicated or corrupted, and what the replay made of each;
* :func:`reference_check`: the pure-Python book against the numba kernel, with timings;
* :func:`event_time_table` and :func:`clock_age_table`: the book frame in event and clock time.

Every table is small and formatted for the book (integers as integers, short column names).

Examples
--------
>>> from lobutils.data import read_binance_recording, segment
>>> rec = read_binance_recording(segment("cm_btcusd_perp").files)
>>> walk, L = sync_walk(rec, after=2)
>>> list(walk.columns)
['line', 'arrived', 'U - L', 'u - L', 'pu - L', 'levels', 'outcome']
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
import pandas as pd

from lobutils.book.replay import INVALID, VALID, Book, ReferenceBook, check_bbo, reconstruct
from lobutils.book.sampling import sample_clock
from lobutils.schema import BID, DIFF, SNAPSHOT

__all__ = [
    "DAMAGES",
    "clock_age_table",
    "damage_table",
    "damaged_depth",
    "event_time_table",
    "first_applied",
    "futures_continuation",
    "reference_check",
    "sync_walk",
]

DAMAGES = ("original", "gap", "duplicate", "crossed")
"""The scenarios of :func:`damaged_depth`, in the order of its result."""


def _messages(depth: pd.DataFrame) -> pd.DataFrame:
    return depth.drop_duplicates("msg")


def _line_in_file(rec, line: int) -> int:
    """The line number within its file of a recording's global line number."""
    return int(rec.locate(int(line)).rsplit(":", 1)[1])


def sync_walk(rec, after: int = 6) -> tuple[pd.DataFrame, int]:
    """The first diffs of a recording, fed to the reference book as a reader must.

    Diffs that arrived before the snapshot are buffered and replayed once it is loaded, then
    the diffs after it follow in order (:meth:`lobutils.book.replay.ReferenceBook.diff`).

    Parameters
    ----------
    rec : lobutils.data.binance.BinanceRecording
        A recording (``depth``, ``market``, ``locate``).
    after : int
        Messages after the snapshot to include.

    Returns
    -------
    walk : pandas.DataFrame
        One row per diff: ``line`` (in its file), ``arrived`` (before or after the snapshot),
        its ids relative to the snapshot's ``lastUpdateId`` L (``U - L``, ``u - L``,
        ``pu - L``; ``<NA>`` on spot, which has no ``pu``), ``levels`` and the book's
        ``outcome``.
    L : int
        The snapshot's ``lastUpdateId``.

    Examples
    --------
    >>> from lobutils.data import read_binance_recording, segment
    >>> rec = read_binance_recording(segment("spot_btcusdt").files)
    >>> walk, L = sync_walk(rec)
    >>> "applied" in set(walk.outcome), bool(walk["pu - L"].isna().all())
    (True, True)
    """
    depth = rec.depth
    snap_msg = int(depth.loc[depth.kind == SNAPSHOT, "msg"].iat[0])
    head = depth[depth.msg <= snap_msg + after]
    msgs = ReferenceBook.messages(head)
    lines = _messages(head)["line"].to_numpy()
    snap_pos = next(i for i, m in enumerate(msgs) if m[0] == SNAPSHOT)
    book = ReferenceBook(rec.market)
    _, _, L, _, _, _, snap_bids, snap_asks = msgs[snap_pos]
    book.snapshot(L, snap_bids, snap_asks)
    rows = []
    for i, (kind, first, last, prev, _, _, bids, asks) in enumerate(msgs):
        if kind == SNAPSHOT:
            continue  # buffered diffs (i < snap_pos) are replayed first, then the rest in order
        rows.append(
            {
                "line": _line_in_file(rec, lines[i]),
                "arrived": "before the snapshot" if i < snap_pos else "after",
                "U - L": first - L,
                "u - L": last - L,
                "pu - L": prev - L if prev >= 0 else None,
                "levels": len(bids) + len(asks),
                "outcome": book.diff(first, last, prev, bids, asks),
            }
        )
    walk = pd.DataFrame(rows).astype({"pu - L": "Int64"})
    return walk, int(L)


def first_applied(recs: Mapping[str, object], books: Mapping[str, Book]) -> pd.DataFrame:
    """Per recording: the snapshot, the diffs before it, and the first diff the book applied.

    Parameters
    ----------
    recs : mapping of str to recording
        Recordings by segment name.
    books : mapping of str to Book
        Their books (:func:`lobutils.book.replay.reconstruct`), by the same names.

    Returns
    -------
    pandas.DataFrame
        One row per segment: ``chain``, ``snapshot line`` (in its file), ``buffered`` (diffs that
        arrived before the snapshot), ``stale`` (diffs skipped as already in it), and the first
        applied diff's ids relative to the snapshot's L (``U - L``, ``u - L``, ``pu - L``).

    Examples
    --------
    >>> from lobutils.data import read_binance_recording, segment
    >>> rec = read_binance_recording(segment("cm_btcusd_perp").files)
    >>> t = first_applied({"cm": rec}, {"cm": reconstruct(rec, levels=1)})
    >>> t.loc["cm", "chain"], int(t.loc["cm", "u - L"]) >= 0
    ('futures', True)
    """
    rows = {}
    for name, book in books.items():
        r = recs[name]
        m = _messages(r.depth)
        snap = m[m.kind == SNAPSHOT].iloc[0]
        diffs = m[m.kind == DIFF]
        first = diffs[diffs.last_id == book.frame.update_id.iat[0]].iloc[0]
        lid = int(snap.last_id)
        rows[name] = {
            "chain": r.market,
            "snapshot line": _line_in_file(r, snap.line),
            "buffered": int((diffs.line < snap.line).sum()),
            "stale": int(book.stats["stale"]),
            "U - L": int(first.first_id) - lid,
            "u - L": int(first.last_id) - lid,
            "pu - L": int(first.prev_id) - lid if first.prev_id >= 0 else None,
        }
    return pd.DataFrame.from_dict(rows, orient="index").astype({"pu - L": "Int64"})


def futures_continuation(rec) -> dict:
    """The first futures diff that ends after the snapshot: does ``U`` alone see a gap?

    Parameters
    ----------
    rec : lobutils.data.binance.BinanceRecording
        A futures recording.

    Returns
    -------
    dict
        ``U - L`` and ``pu - L`` of the first diff with ``u > L``, and ``gap_by_U``: True when
        ``U > L + 1`` (the spot rule would call it a gap, while ``pu`` shows it continues).

    Examples
    --------
    >>> from lobutils.data import read_binance_recording, segment
    >>> rec = read_binance_recording(segment("cm_btcusd_perp").files)
    >>> sorted(futures_continuation(rec))
    ['U - L', 'gap_by_U', 'pu - L']
    """
    m = _messages(rec.depth)
    lid = int(m.loc[m.kind == SNAPSHOT, "last_id"].iat[0])
    nxt = m[(m.kind == DIFF) & (m.last_id > lid)].iloc[0]
    first, prev = int(nxt.first_id), int(nxt.prev_id)
    return {"U - L": first - lid, "pu - L": prev - lid, "gap_by_U": first > lid + 1}


def damaged_depth(depth: pd.DataFrame, k: int, ask_px: float) -> dict[str, pd.DataFrame]:
    """A depth frame, and three copies damaged at diff message ``k``.

    Parameters
    ----------
    depth : pandas.DataFrame
        Depth events (:data:`lobutils.schema.DEPTH_COLUMNS`), with a ``msg`` number per message.
    k : int
        The diff message to damage.
    ask_px : float
        The best ask after message ``k`` in the undamaged book: the price of the bogus bid.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``original``; ``gap`` (message ``k`` deleted); ``duplicate`` (message ``k`` delivered
        twice: messages are renumbered ``2 * msg`` to make room for the copy, ``2 * k + 1``);
        ``crossed`` (one bogus bid level at ``ask_px`` added to message ``k``).

    Examples
    --------
    >>> d = pd.DataFrame({"msg": [0, 1, 1, 2], "side": [1, 1, -1, 1],
    ...                   "price": [1.0, 2.0, 3.0, 4.0], "qty": [1.0, 1.0, 1.0, 1.0]})
    >>> out = damaged_depth(d, 1, ask_px=3.0)  # synthetic rows
    >>> [len(out[s]) for s in DAMAGES], out["duplicate"].msg.tolist()
    ([4, 2, 6, 5], [0, 2, 2, 3, 3, 4])
    """
    gap = depth[depth.msg != k]
    renumbered = depth.assign(msg=2 * depth.msg)  # room for a second copy of message k
    copy = renumbered[renumbered.msg == 2 * k].assign(msg=2 * k + 1)
    duplicate = pd.concat([renumbered, copy]).sort_values("msg", kind="stable")
    bogus = depth[depth.msg == k].iloc[:1].assign(side=BID, price=ask_px, qty=1.0)
    crossed = pd.concat([depth, bogus]).sort_values("msg", kind="stable")
    return {"original": depth, "gap": gap, "duplicate": duplicate, "crossed": crossed}


def _levels(frame: pd.DataFrame) -> pd.DataFrame:
    rows = frame[frame.status == VALID].drop(columns=["ts", "local_ts", "status"])
    return rows.set_index("update_id")


def damage_table(books: Mapping[str, Book], bbo: pd.DataFrame) -> pd.DataFrame:
    """What the replay made of each damaged stream, against the ``original`` one.

    Parameters
    ----------
    books : mapping of str to Book
        Books rebuilt with ``include_invalid=True``, one per scenario, ``original`` among them.
    bbo : pandas.DataFrame
        The recording's ``bookTicker`` quotes (:func:`lobutils.book.replay.check_bbo`).

    Returns
    -------
    pandas.DataFrame
        One row per scenario (int64): ``applied``, ``gaps``, ``duplicates``, ``crossed``,
        ``unsynced``, ``valid`` and ``invalid`` rows, ``unlike original`` (valid rows whose
        levels differ from the original book's row of the same update id), and the
        ``bbo_matched``/``bbo_mismatched`` quotes.

    Examples
    --------
    >>> from lobutils.data import read_binance_recording, segment
    >>> rec = read_binance_recording(segment("cm_btcusd_perp").files)
    >>> b = reconstruct(rec, levels=2, include_invalid=True)
    >>> t = damage_table({"original": b}, rec.bbo)
    >>> int(t.loc["original", "unlike original"]), int(t.loc["original", "bbo_mismatched"])
    (0, 0)
    """
    original = _levels(books["original"].frame)
    rows = {}
    for name, b in books.items():
        levels = _levels(b.frame)
        same = np.isclose(levels, original.loc[levels.index], rtol=0, atol=0, equal_nan=True).all(
            axis=1
        )
        quotes = check_bbo(b.frame, bbo)
        rows[name] = {
            **{c: b.stats[c] for c in ("applied", "gaps", "duplicates", "crossed", "unsynced")},
            "valid": int((b.frame.status == VALID).sum()),
            "invalid": int((b.frame.status == INVALID).sum()),
            "unlike original": int((~same).sum()),
            "bbo_matched": quotes["bbo_matched"],
            "bbo_mismatched": quotes["bbo_mismatched"],
        }
    return pd.DataFrame.from_dict(rows, orient="index").astype("int64")


def reference_check(depth: pd.DataFrame, chain: str, levels: int, messages: int) -> dict:
    """The pure-Python reference book and the numba kernel on the first ``messages`` messages.

    Raises if the two frames differ in any value. The kernel's time is the best of 5 runs.

    Parameters
    ----------
    depth : pandas.DataFrame
        Depth events.
    chain : str
        ``"spot"`` or ``"futures"`` (the sync rules).
    levels : int
        Levels per side.
    messages : int
        Messages from the start (``msg < messages``).

    Returns
    -------
    dict
        ``messages``, ``level_updates``, ``rows``, ``identical`` (bool), and the seconds
        ``reference_s`` and ``kernel_s``.

    Examples
    --------
    >>> from lobutils.data import read_binance_recording, segment
    >>> rec = read_binance_recording(segment("cm_btcusd_perp").files)
    >>> out = reference_check(rec.depth, rec.market, levels=2, messages=50)
    >>> out["identical"], out["messages"]
    (True, 50)
    """
    prefix = depth[depth.msg < messages]
    msgs = ReferenceBook.messages(prefix)
    t0 = time.perf_counter()
    ref = ReferenceBook(chain).replay(msgs, levels)
    ref_s = time.perf_counter() - t0
    fast = [reconstruct(prefix, levels=levels, chain=chain, include_invalid=True) for _ in range(5)]
    pd.testing.assert_frame_equal(fast[0].frame, ref)  # raises if any value differs
    return {
        "messages": len(msgs),
        "level_updates": int((prefix.side != 0).sum()),
        "rows": len(ref),
        "identical": bool(fast[0].frame.equals(ref)),
        "reference_s": ref_s,
        "kernel_s": min(b.stats["seconds"] for b in fast),
    }


def event_time_table(books: Mapping[str, Book]) -> pd.DataFrame:
    """The book frames in event time: valid rows, their rate, and the gaps between rows.

    Parameters
    ----------
    books : mapping of str to Book
        Books by segment name.

    Returns
    -------
    pandas.DataFrame
        One row per segment: ``rows`` (valid, int), ``rows/s``, and the ``median gap (ms)`` and
        ``max gap (ms)`` between consecutive rows, to 0.1.

    Examples
    --------
    >>> from lobutils.schema import book_columns
    >>> f = pd.DataFrame([[t, 0, t, 1.0, 1.0, 2.0, 1.0] for t in (0, 10**8, 3 * 10**8)],
    ...                  columns=book_columns(1)).assign(status=VALID)  # synthetic
    >>> b = Book(frame=f, stats={}, levels=1)
    >>> event_time_table({"x": b}).loc["x"].tolist()
    [3.0, 10.0, 150.0, 200.0]
    """
    rows = {}
    for name, b in books.items():
        ts = b.frame.ts.to_numpy(np.int64)
        valid = int((b.frame.status == VALID).sum())
        gaps_ms = np.diff(ts) / 1e6
        rows[name] = {
            "rows": valid,
            "rows/s": valid / ((ts[-1] - ts[0]) / 1e9),
            "median gap (ms)": float(np.median(gaps_ms)),
            "max gap (ms)": float(np.max(gaps_ms)),
        }
    return pd.DataFrame.from_dict(rows, orient="index").round(1).astype({"rows": "int64"})


def clock_age_table(books: Mapping[str, Book], grids: tuple[str, ...]) -> pd.DataFrame:
    """The book on clock grids: rows, rows with a book, and the age of the state used.

    Each grid time takes the last state at or before it (:func:`sample_clock`); the age is
    ``ts - state_ts``. Asserts on every row that no state comes from after its grid time.

    Parameters
    ----------
    books : mapping of str to Book
        Books by segment name.
    grids : tuple of str
        Grid steps, e.g. ``("100ms", "1s")``.

    Returns
    -------
    pandas.DataFrame
        Index (segment, grid); ``grid rows`` and ``with a book`` (int), ``median age (ms)`` and
        ``p99 age (ms)`` to 0.1.

    Examples
    --------
    >>> from lobutils.schema import book_columns
    >>> f = pd.DataFrame([[t, 0, t, 1.0, 1.0, 2.0, 1.0] for t in (0, 3 * 10**8, 9 * 10**8)],
    ...                  columns=book_columns(1))  # synthetic
    >>> b = Book(frame=f, stats={}, levels=1)
    >>> clock_age_table({"x": b}, ("500ms",)).loc[("x", "500ms")].tolist()
    [2.0, 2.0, 100.0, 198.0]
    """
    rows = {}
    for name, b in books.items():
        for every in grids:
            s = sample_clock(b.frame, every)
            ok = s.bid_px_1.notna()
            assert (s.state_ts[ok] <= s.ts[ok]).all(), "a grid time used a later state"
            age_ms = (s.ts - s.state_ts)[ok] / 1e6
            rows[(name, every)] = {
                "grid rows": len(s),
                "with a book": int(ok.sum()),
                "median age (ms)": float(np.median(age_ms)),
                "p99 age (ms)": float(np.percentile(age_ms, 99)),
            }
    table = pd.DataFrame.from_dict(rows, orient="index").round(1)
    return table.astype({"grid rows": "int64", "with a book": "int64"})
