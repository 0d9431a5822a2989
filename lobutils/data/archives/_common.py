"""Shared pieces of the archive readers: opening files, time units, message policies, frames."""

from __future__ import annotations

import warnings
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from lobutils.data.binance import Recording, RecordingError
from lobutils.schema import (
    BBO_COLUMNS,
    DEPTH_COLUMNS,
    DIFF,
    SNAPSHOT,
    TRADE_COLUMNS,
    empty_frame,
)

__all__ = [
    "NO_CHAIN",
    "apply_sync",
    "bad_level",
    "depth_frame",
    "open_zip_member",
    "read_maybe_gzip",
    "read_zip_member",
    "recording",
    "time_unit",
    "warn_counts",
]

NO_CHAIN = "none"
"""``Recording.market`` of archive depth that has no update-id chain (Bybit, Tardis).

:func:`lobutils.book.replay.reconstruct` uses ``Recording.market`` as its chain rule when
``chain="auto"``, so these recordings replay with ``chain="none"``: every snapshot resets the
book.
"""


def read_zip_member(path: Path, suffix: str | None = None) -> tuple[str, bytes]:
    """The name and bytes of the one file inside a zip archive.

    Parameters
    ----------
    path : pathlib.Path
        The zip archive.
    suffix : str, optional
        Keep only members whose name ends so (when any does), e.g. ``".csv"``.

    Returns
    -------
    name : str
        The member's name inside the archive.
    data : bytes
        Its uncompressed bytes.

    Raises
    ------
    lobutils.data.binance.RecordingError
        If the file is empty, holds more or fewer than one (matching) member, or is truncated
        or corrupt (no central directory, bad CRC). Unlike a gzip recording cut by a killed
        recorder, a cut archive is a broken download and is fetched again.
    """
    if path.stat().st_size == 0:
        raise RecordingError(f"{path}: file is empty")
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            if suffix is not None:
                names = [n for n in names if n.endswith(suffix)] or names
            if len(names) != 1:
                raise RecordingError(
                    f"{path}: expected one file in the zip archive, found {len(names)} ({names[:5]})"
                )
            data = zf.read(names[0])
    except zipfile.BadZipFile as exc:
        raise RecordingError(
            f"{path}: truncated or corrupt zip archive ({exc}); download it again"
        ) from None
    except (EOFError, zlib.error) as exc:
        raise RecordingError(f"{path}: truncated or corrupt zip data ({exc})") from None
    return names[0], data


def open_zip_member(path: Path, suffix: str | None = None):
    """Open the one file inside a zip archive for streaming.

    Parameters
    ----------
    path : pathlib.Path
        The zip archive.
    suffix : str, optional
        Keep only members whose name ends so (when any does).

    Returns
    -------
    archive : zipfile.ZipFile
        The open archive; the caller closes it after the member.
    name : str
        The member's name.
    stream : typing.BinaryIO
        The member, open for reading its uncompressed bytes.

    Raises
    ------
    lobutils.data.binance.RecordingError
        If the file is empty, not a readable zip archive, or holds more or fewer than one
        (matching) member.
    """
    if path.stat().st_size == 0:
        raise RecordingError(f"{path}: file is empty")
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise RecordingError(
            f"{path}: truncated or corrupt zip archive ({exc}); download it again"
        ) from None
    names = [n for n in zf.namelist() if not n.endswith("/")]
    if suffix is not None:
        names = [n for n in names if n.endswith(suffix)] or names
    if len(names) != 1:
        zf.close()
        raise RecordingError(
            f"{path}: expected one file in the zip archive, found {len(names)} ({names[:5]})"
        )
    return zf, names[0], zf.open(names[0])


def read_maybe_gzip(path: Path, on_truncated: str) -> tuple[bytes, dict]:
    """Bytes of a plain or gzip file.

    Parameters
    ----------
    path : pathlib.Path
        The file (gzip is recognised by its magic bytes).
    on_truncated : {"raise", "warn", "ignore"}
        What a gzip file cut mid-stream does: raise, or read it up to its last complete line
        with or without a warning.

    Returns
    -------
    data : bytes
        The (uncompressed) content, up to the last complete line of a cut file.
    info : dict
        ``truncated`` (bool) and ``dropped_bytes`` (of the partial last line), as
        :func:`lobutils.data.binance.read_text` reports them.

    Raises
    ------
    lobutils.data.binance.RecordingError
        If the file is empty, or cut and ``on_truncated="raise"``.
    """
    from lobutils.data.binance import read_text

    if path.stat().st_size == 0:
        raise RecordingError(f"{path}: file is empty")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data, info = read_text(path, on_truncated="ignore")
    if info["truncated"]:
        if on_truncated == "raise":
            raise RecordingError(
                f"{path}: truncated or corrupt gzip file (it ends mid-stream); download it "
                "again, or pass on_truncated='warn' to read it up to its last complete line"
            )
        if on_truncated == "warn":
            warnings.warn(
                f"{path}: file is truncated; read up to its last complete line "
                f"({info['dropped_bytes']} bytes of a partial line dropped)",
                stacklevel=3,
            )
    return data, info


def time_unit(values: np.ndarray, where: str, what: str = "timestamps") -> tuple[int, str]:
    """Scale to ns and unit name of epoch timestamps, detected from their magnitude.

    ms (about 1.7e12 today), µs (1.7e15) and ns (1.7e18) are told apart by magnitude; a file
    whose values are not all of one unit raises. Binance spot data.vision files switched from ms
    to µs on 2025-01-01; Tardis writes µs; Bybit ms.

    Parameters
    ----------
    values : numpy.ndarray of int64
        Epoch timestamps of one file.
    where : str
        The file, for the error message.
    what : str
        What the values are, for the error message.

    Returns
    -------
    scale : int
        The factor to ns: 1, 1 000 or 1 000 000 (1 for no values).
    unit : str
        ``"ns"``, ``"us"`` or ``"ms"``.

    Raises
    ------
    lobutils.data.binance.RecordingError
        If the values mix units or are not epoch times.

    Examples
    --------
    >>> time_unit(np.array([1_735_689_600_010_866]), "x.csv")
    (1000, 'us')
    >>> time_unit(np.array([1_700_000_000_000]), "x.csv")
    (1000000, 'ms')
    """
    v = np.asarray(values, dtype=np.int64)
    if len(v) == 0:
        return 1, "ns"
    lo, hi = int(v.min()), int(v.max())
    for scale, unit, low in ((1, "ns", 10**17), (1_000, "us", 10**14), (1_000_000, "ms", 10**11)):
        if lo >= low:
            if hi >= low * 1000:
                break
            return scale, unit
    raise RecordingError(
        f"{where}: {what} range {lo}..{hi} is not epoch ns, µs or ms throughout "
        "(mixed units, or not epoch times)"
    )


def bad_level(price: np.ndarray, qty: np.ndarray) -> np.ndarray:
    """Rows whose level is unusable: price not finite or <= 0, size not finite or < 0.

    Parameters
    ----------
    price, qty : numpy.ndarray of float64
        Level prices and sizes, one row per level.

    Returns
    -------
    numpy.ndarray of bool
        True where the level cannot be applied to a book.

    Examples
    --------
    >>> bad_level(np.array([100.0, 0.0, np.nan]), np.array([1.0, 1.0, 1.0])).tolist()
    [False, True, True]
    """
    with np.errstate(invalid="ignore"):
        return ~(np.isfinite(price) & (price > 0) & np.isfinite(qty) & (qty >= 0))


def apply_sync(
    kind: np.ndarray, bad: np.ndarray, gap: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which messages of a snapshot-resets stream can be replayed correctly.

    A diff is kept only when a snapshot came before it and no dropped message (``bad``) or
    sequence gap (``gap``) came between that snapshot and it. A ``bad`` message is itself
    dropped; a ``gap`` message (one whose update id skipped ahead) is dropped too, since the
    book it would apply to is already wrong.

    Parameters
    ----------
    kind : numpy.ndarray of int8
        Per message, :data:`~lobutils.schema.SNAPSHOT` or :data:`~lobutils.schema.DIFF`.
    bad : numpy.ndarray of bool
        Per message, dropped by the reader (unusable levels, malformed).
    gap : numpy.ndarray of bool
        Per message, its update id skipped ahead of the previous one.

    Returns
    -------
    keep : numpy.ndarray of bool
        Messages to replay.
    before_snapshot : numpy.ndarray of bool
        Diffs dropped because no snapshot came before them.
    after_gap : numpy.ndarray of bool
        Diffs dropped because a bad message or a gap came after the last snapshot.

    Examples
    --------
    >>> k = np.array([0, 1, 0, 0, 0, 1, 0])
    >>> bad = np.zeros(7, bool)
    >>> gap = np.array([0, 0, 0, 1, 0, 0, 0], bool)
    >>> keep, before, after = apply_sync(k, bad, gap)
    >>> keep.astype(int).tolist(), before.astype(int).tolist(), after.astype(int).tolist()
    ([0, 1, 1, 0, 0, 1, 1], [1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 0, 0])
    """
    n = len(kind)
    idx = np.arange(n)
    is_snap = (kind == SNAPSHOT) & ~bad
    last_snap = np.maximum.accumulate(np.where(is_snap, idx, -1)) if n else idx
    breaks = bad | gap
    last_break = np.maximum.accumulate(np.where(breaks, idx, -1)) if n else idx
    diff = kind == DIFF
    before = diff & (last_snap < 0) & ~bad
    after = diff & (last_snap >= 0) & (last_break > last_snap) & ~bad
    keep = ~bad & ~before & ~after
    return keep, before, after


def depth_frame(
    m_ts: np.ndarray,
    m_local: np.ndarray,
    m_kind: np.ndarray,
    m_id: np.ndarray,
    m_line: np.ndarray,
    lv_msg: np.ndarray,
    lv_side: np.ndarray,
    lv_price: np.ndarray,
    lv_qty: np.ndarray,
) -> pd.DataFrame:
    """The depth frame from message arrays and level arrays.

    A message without levels gets the schema's marker row (``side == 0``, NaN price and size).

    Parameters
    ----------
    m_ts, m_local : numpy.ndarray of int64
        Per message, exchange and local time in ns (:data:`~lobutils.schema.TS_NA` unknown).
    m_kind : numpy.ndarray of int8
        Per message, :data:`~lobutils.schema.SNAPSHOT` or :data:`~lobutils.schema.DIFF`.
    m_id : numpy.ndarray of int64
        Per message, its update id.
    m_line : numpy.ndarray of int64
        Per message, its line in the source.
    lv_msg : numpy.ndarray of int64
        Per level, the index of its message, ascending.
    lv_side : numpy.ndarray of int8
        Per level, 1 bid or -1 ask.
    lv_price, lv_qty : numpy.ndarray of float64
        Per level, price and size (0 removes the level).

    Returns
    -------
    pandas.DataFrame
        Rows in :data:`~lobutils.schema.DEPTH_COLUMNS`; ``msg`` numbers the given messages 0,
        1, 2, ...; ``first_id == last_id == m_id`` and ``prev_id == -1``.
    """
    n_msg = len(m_ts)
    counts = np.bincount(lv_msg, minlength=n_msg) if len(lv_msg) else np.zeros(n_msg, np.int64)
    empty = np.flatnonzero(counts == 0)
    msg = np.concatenate([lv_msg.astype(np.int64), empty.astype(np.int64)])
    side = np.concatenate([lv_side.astype(np.int8), np.zeros(len(empty), np.int8)])
    price = np.concatenate([lv_price, np.full(len(empty), np.nan)])
    qty = np.concatenate([lv_qty, np.full(len(empty), np.nan)])
    if len(empty):
        order = np.argsort(msg, kind="stable")
        msg, side, price, qty = msg[order], side[order], price[order], qty[order]
    return pd.DataFrame(
        {
            "ts": m_ts[msg],
            "local_ts": m_local[msg],
            "msg": msg,
            "kind": m_kind[msg],
            "first_id": m_id[msg],
            "last_id": m_id[msg],
            "prev_id": np.full(len(msg), -1, np.int64),
            "side": side,
            "price": price,
            "qty": qty,
            "line": m_line[msg],
        }
    ).astype(DEPTH_COLUMNS)


def recording(
    *,
    symbol: str,
    market: str,
    paths: list[Path],
    offsets: list[int],
    stats: dict,
    depth: pd.DataFrame | None = None,
    trades: pd.DataFrame | None = None,
    bbo: pd.DataFrame | None = None,
) -> Recording:
    """A :class:`~lobutils.data.binance.Recording`, with empty typed frames for the tables not given.

    Parameters
    ----------
    symbol : str
        The symbol as the archive names it.
    market : str
        The chain rule (:data:`NO_CHAIN` for Bybit and Tardis depth).
    paths : list of pathlib.Path
        The source files, in reading order.
    offsets : list of int
        Per source file, the number of lines read before it (so that ``line`` locates a row).
    stats : dict
        The reader's counts of skipped and repaired input.
    depth, trades, bbo : pandas.DataFrame, optional
        The tables read; an empty frame of the schema for each one left out.

    Returns
    -------
    lobutils.data.binance.Recording
        The recording.
    """
    return Recording(
        depth=empty_frame(DEPTH_COLUMNS) if depth is None else depth,
        trades=empty_frame(TRADE_COLUMNS) if trades is None else trades,
        bbo=empty_frame(BBO_COLUMNS) if bbo is None else bbo,
        symbol=symbol,
        market=market,
        sources=tuple(str(p) for p in paths),
        line_offsets=np.asarray(offsets, dtype=np.int64),
        stats=stats,
    )


def warn_counts(where: str, stats: dict, keys: Iterable[str]) -> None:
    """One warning listing the non-zero counted problems among ``keys``.

    Parameters
    ----------
    where : str
        The file or files, at the start of the message.
    stats : dict
        The reader's counts.
    keys : iterable of str
        The counts worth a warning; zero or missing ones are left out.
    """
    found = {k: stats[k] for k in keys if stats.get(k)}
    if found:
        text = ", ".join(f"{k}={v}" for k, v in found.items())
        warnings.warn(f"{where}: {text} (see Recording.stats)", stacklevel=3)
