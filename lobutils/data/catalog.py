"""The recorded market streams on disk: segments, and checksum verification.

A *segment* is one market stream recorded without interruption, e.g. Binance spot BTCUSDT.
The recorder rotates its files at midnight UTC, so a stream that crosses midnight lies in
two files, ``spot_btcusdt_20240808.gz`` and ``spot_btcusdt_20240809.gz``; the second continues
the first, and a reader treats the pair as one segment.

File names follow ``<market>_<symbol>_<YYYYMMDD>.gz`` (daily files) or
``<market>_<symbol>_<YYYYMMDD>_<HH>.gz`` (the recorder's hourly rotation) with ``market`` one
of :data:`MARKETS` (``spot``, ``usdm`` for USD-M futures, ``cm`` for COIN-M futures) and
``symbol`` in lower case as in Binance's stream names (``btcusdt``, ``btcusd_perp``); the
``.gz`` may be missing for an uncompressed recording. Files of the same market and symbol
whose periods follow one another (day after day, hour after hour, or the first hour of a day
after a daily file) join into one segment; a missing period starts a new segment. Other files
in the directory (README, licence, checksums) are ignored.

Examples
--------
>>> [s.name for s in segments()]
['spot_btcusdt', 'spot_ethusdt', 'usdm_btcusdt', 'usdm_ethusdt', 'cm_btcusd_perp', 'cm_ethusd_perp']
>>> seg = segment("spot_btcusdt")
>>> seg.market, seg.symbol, [f.name for f in seg.files]
('spot', 'btcusdt', ['spot_btcusdt_20240808.gz', 'spot_btcusdt_20240809.gz'])
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from lobutils import paths
from lobutils.paths import sha256_file

MARKETS: tuple[str, ...] = ("spot", "usdm", "cm")
"""Binance markets: spot, USD-M (linear) futures, COIN-M (inverse) futures."""

CHECKSUM_FILE = "SHA256SUMS"
_DAY = _dt.timedelta(days=1)

_FILE_RE = re.compile(
    r"^(?P<market>spot|usdm|cm)_(?P<symbol>[a-z0-9][a-z0-9_]*?)_(?P<day>\d{8})"
    r"(?:_(?P<hour>\d{2}))?(?:\.gz)?$"
)

__all__ = [
    "CHECKSUM_FILE",
    "MARKETS",
    "ChecksumError",
    "Segment",
    "parse_file_name",
    "segment",
    "segments",
    "verify_checksums",
]


class ChecksumError(ValueError):
    """A data file is missing or its SHA-256 differs from the one in ``SHA256SUMS``."""


@dataclass(frozen=True)
class Segment:
    """One uninterrupted recording of one market stream.

    Attributes
    ----------
    name : str
        ``<market>_<symbol>``, e.g. ``"cm_btcusd_perp"``. When one directory holds several
        separate recordings of the same stream (days missing in between), each name gets the
        segment's first day appended: ``"spot_btcusdt_20240808"``.
    market : str
        One of :data:`MARKETS`.
    symbol : str
        The lower-case Binance symbol, e.g. ``"btcusdt"``.
    files : tuple of pathlib.Path
        The segment's files in time order; read them one after another as one stream.

    Examples
    --------
    >>> seg = segment("usdm_ethusdt")
    >>> seg.days
    ('20240808',)
    >>> len(seg.files)
    1
    """

    name: str
    market: str
    symbol: str
    files: tuple[Path, ...]

    def __post_init__(self) -> None:
        if self.market not in MARKETS:
            raise ValueError(f"market must be one of {MARKETS}, got {self.market!r}")
        if not self.files:
            raise ValueError(f"segment {self.name!r} has no files")
        object.__setattr__(self, "files", tuple(Path(f) for f in self.files))

    @property
    def days(self) -> tuple[str, ...]:
        """The ``YYYYMMDD`` day of each file, in order (repeated for hourly files)."""
        return tuple(parse_file_name(f.name)[2] for f in self.files)


def parse_file_name(filename: str) -> tuple[str, str, str]:
    """Market, symbol and day of a recording file's name.

    Parameters
    ----------
    filename
        ``<market>_<symbol>_<YYYYMMDD>[_<HH>].gz``.

    Returns
    -------
    market, symbol, day : str
        ``day`` as ``YYYYMMDD``; a name of another form raises ``ValueError``.

    Examples
    --------
    >>> parse_file_name("usdm_btcusdt_20240808.gz")
    ('usdm', 'btcusdt', '20240808')
    """
    m = _FILE_RE.match(filename)
    if m is None:
        raise ValueError(f"{filename!r} is not named <market>_<symbol>_<YYYYMMDD>[_<HH>].gz")
    return m["market"], m["symbol"], m["day"]


def _period(day: str, hour: str | None) -> tuple[_dt.datetime, _dt.datetime] | None:
    """The UTC period ``[start, end)`` a file covers, or None for an impossible date."""
    try:
        start = _dt.datetime.strptime(day + (hour or "00"), "%Y%m%d%H")
    except ValueError:
        return None
    return start, start + (_dt.timedelta(hours=1) if hour else _DAY)


def segments(data_dir: str | os.PathLike[str] | None = None) -> list[Segment]:
    """List the segments recorded in a directory.

    Parameters
    ----------
    data_dir : str or path-like, optional
        A directory of files named ``<market>_<symbol>_<YYYYMMDD>[_<HH>][.gz]`` (see the
        module docstring). The default is the
        bundled dataset, :data:`lobutils.paths.BUNDLED_DATA_DIR`. Subdirectories are not
        searched, and files with other names (or impossible dates) are ignored.

    Returns
    -------
    list of Segment
        Ordered by market (spot, USD-M, COIN-M), then symbol, then first day.

    Examples
    --------
    >>> segs = segments()
    >>> {s.name: len(s.files) for s in segs if s.market == "cm"}
    {'cm_btcusd_perp': 2, 'cm_ethusd_perp': 2}
    """
    root = Path(data_dir) if data_dir is not None else paths.BUNDLED_DATA_DIR
    if not root.is_dir():
        raise NotADirectoryError(f"data directory {root} does not exist or is not a directory")
    streams: dict[tuple[str, str], list[tuple[_dt.datetime, _dt.datetime, Path]]] = {}
    for path in root.iterdir():
        m = _FILE_RE.match(path.name)
        if m is None or not path.is_file():
            continue
        period = _period(m["day"], m["hour"])
        if period is None:
            continue
        streams.setdefault((m["market"], m["symbol"]), []).append((*period, path))

    out: list[Segment] = []
    for (market, symbol), files in sorted(
        streams.items(), key=lambda kv: (MARKETS.index(kv[0][0]), kv[0][1])
    ):
        files.sort()
        for (_, end, a), (start, _, b) in zip(files, files[1:], strict=False):
            if start < end:  # e.g. x_20240808.gz beside x_20240808, or a day and its hours
                raise ValueError(f"{a.name} and {b.name} in {root} cover the same time")
        runs = [[files[0]]]
        for item in files[1:]:
            if item[0] == runs[-1][-1][1]:  # starts where the previous file's period ends
                runs[-1].append(item)
            else:
                runs.append([item])
        base = f"{market}_{symbol}"
        for run in runs:
            first = run[0][0]
            suffix = f"{first:%Y%m%d}" + (f"_{first:%H}" if run[0][1] - first < _DAY else "")
            name = base if len(runs) == 1 else f"{base}_{suffix}"
            out.append(Segment(name, market, symbol, tuple(p for *_, p in run)))
    return out


def segment(name: str, data_dir: str | os.PathLike[str] | None = None) -> Segment:
    """Look up one segment by name (see :func:`segments`).

    Parameters
    ----------
    name : str
        ``<market>_<symbol>`` (``"spot_btcusdt"``), or with the first day appended when the
        directory holds several recordings of the same stream.
    data_dir : str or path-like, optional
        The directory to search; the default is the bundled dataset,
        :data:`lobutils.paths.BUNDLED_DATA_DIR`.

    Returns
    -------
    Segment
        The segment of that name.

    Raises
    ------
    LookupError
        If there is no segment of that name; the message lists the available names.

    Examples
    --------
    >>> segment("cm_btcusd_perp").symbol
    'btcusd_perp'
    >>> segment("spot_dogeusdt")
    Traceback (most recent call last):
    ...
    LookupError: no segment named 'spot_dogeusdt' in ...; available: spot_btcusdt, ...
    """
    segs = segments(data_dir)
    for seg in segs:
        if seg.name == name:
            return seg
    root = Path(data_dir) if data_dir is not None else paths.BUNDLED_DATA_DIR
    names = ", ".join(s.name for s in segs) or "(none)"
    raise LookupError(f"no segment named {name!r} in {root}; available: {names}")


def _read_sums(sums: Path) -> list[tuple[str, str]]:
    entries = []
    for i, raw in enumerate(sums.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        digest = parts[0].lower()
        if len(parts) != 2 or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ChecksumError(f"{sums}, line {i}: expected '<sha256>  <file name>', got {raw!r}")
        name = parts[1].strip()
        name = name[1:] if name.startswith("*") else name  # sha256sum's binary-mode marker
        entries.append((digest, name))
    if not entries:
        raise ChecksumError(f"{sums} lists no files")
    return entries


def verify_checksums(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Check every file listed in a directory's ``SHA256SUMS`` against its SHA-256.

    Parameters
    ----------
    data_dir : str or path-like, optional
        The directory holding ``SHA256SUMS`` (in ``sha256sum`` format) and the files it lists.
        The default is the bundled dataset.

    Returns
    -------
    list of pathlib.Path
        The verified files, in the order ``SHA256SUMS`` lists them.

    Raises
    ------
    FileNotFoundError
        If the directory has no ``SHA256SUMS``.
    ChecksumError
        If a listed file is missing or its digest differs. The message names every such file.

    Examples
    --------
    >>> [p.name for p in verify_checksums()][:2]
    ['cm_btcusd_perp_20240808.gz', 'cm_btcusd_perp_20240809.gz']
    """
    root = Path(data_dir) if data_dir is not None else paths.BUNDLED_DATA_DIR
    sums = root / CHECKSUM_FILE
    if not sums.is_file():
        raise FileNotFoundError(f"no {CHECKSUM_FILE} in {root}")
    verified: list[Path] = []
    problems: list[str] = []
    for digest, name in _read_sums(sums):
        path = root / name
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        actual = sha256_file(path)
        if actual != digest:
            problems.append(f"{name}: sha256 {actual}, expected {digest}")
            continue
        verified.append(path)
    if problems:
        raise ChecksumError(f"checksum verification failed in {root}:\n  " + "\n  ".join(problems))
    return verified
