"""Downloading exchange archives: caching, resume, checksums, retries.

:func:`fetch` downloads one URL to a file:

* **cache**: a file already at the destination is used as is, with no request, when it matches
  the expected sha256 (or when none is known: complete files only ever appear there by an
  atomic rename, so a file present is a file complete);
* **resume**: bytes go to ``<dest>.part``; after a dropped connection the next attempt asks for
  the rest with an HTTP ``Range`` request (and ``If-Range``, so a file changed on the server in
  between is downloaded again from the start), and the ``.part`` file is renamed into place
  only when complete;
* **checksum**: data.vision publishes ``<file>.CHECKSUM`` (``sha256sum`` format) next to every
  archive; :func:`fetch_binance_vision` fetches and caches it, and a download that does not
  match is deleted, never renamed into place (one fresh retry if it had been resumed).
  Bybit and Tardis publish no checksum: :func:`lobutils.data.lake.convert` records the size and
  sha256 of every source file in the lake's manifests instead;
* **retries** with exponential backoff on network errors, timeouts and HTTP 429/5xx; other
  HTTP errors (404: no file for that day or symbol) fail at once;
* a tqdm **progress bar** (on a terminal, or with ``progress=True``);
* **redirects** keep credentials on their origin: a redirect that changes scheme, host or port
  drops the ``Authorization`` (and ``Cookie``) headers, and an https → http downgrade is
  refused (:class:`DownloadError`).

URL builders (base URLs are arguments, so tests and mirrors can point them elsewhere):

``binance_vision_url``
    ``https://data.binance.vision/data/{spot|futures/um|futures/cm}/{daily|monthly}/{type}/
    {SYMBOL}/{SYMBOL}-{type}-{date}.zip``, documented in Binance's ``binance-public-data``
    README.
``bybit_url``
    ``https://quote-saver.bycsi.com/orderbook/{linear|inverse|spot}/{SYMBOL}/
    {YYYY-MM-DD}_{SYMBOL}_ob{N}.data.zip``. Bybit documents no URL scheme; this one is the
    pattern of the files its download page links to, as used by several public downloaders.
    Linear files were ``ob500`` up to 2025-08-20 and ``ob200`` after (observed by third
    parties, assumed here by ``depth=None``).
``tardis_url``
    ``https://datasets.tardis.dev/v1/{exchange}/{data_type}/{YYYY}/{MM}/{DD}/{SYMBOL}.csv.gz``
    as documented by Tardis.dev. The first day of each month needs no API key; other days need
    one, read from the ``TARDIS_API_KEY`` environment variable only.

Downloads go under :func:`default_cache_dir` (``<data dir>/archives``), in a tree that mirrors
the URL (:func:`cache_path`), so the path of a file still says its market.

Examples
--------
>>> binance_vision_url("usdm", "trades", "btcusdt", "2024-08-08")
'https://data.binance.vision/data/futures/um/daily/trades/BTCUSDT/BTCUSDT-trades-2024-08-08.zip'
>>> bybit_url("BTCUSDT", "2024-08-08")
'https://quote-saver.bycsi.com/orderbook/linear/BTCUSDT/2024-08-08_BTCUSDT_ob500.data.zip'
>>> tardis_url("binance-futures", "incremental_book_L2", "btcusdt", "2024-08-01")
'https://datasets.tardis.dev/v1/binance-futures/incremental_book_L2/2024/08/01/BTCUSDT.csv.gz'
>>> cache_path(tardis_url("deribit", "trades", "BTC-PERPETUAL", "2024-08-01"), "/tmp/a").as_posix()
'/tmp/a/datasets.tardis.dev/v1/deribit/trades/2024/08/01/BTC-PERPETUAL.csv.gz'
"""

from __future__ import annotations

import datetime as _dt
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lobutils.paths import sha256_file

__all__ = [
    "BINANCE_VISION_BASE",
    "BYBIT_ORDERBOOK_BASE",
    "ChecksumMismatch",
    "DownloadError",
    "FetchResult",
    "TARDIS_DATASETS_BASE",
    "TARDIS_KEY_ENV",
    "binance_vision_url",
    "bybit_url",
    "cache_path",
    "days",
    "default_cache_dir",
    "fetch",
    "fetch_binance_vision",
    "fetch_bybit",
    "fetch_tardis",
    "read_checksum_file",
    "tardis_url",
]

BINANCE_VISION_BASE = "https://data.binance.vision"
BYBIT_ORDERBOOK_BASE = "https://quote-saver.bycsi.com/orderbook"
TARDIS_DATASETS_BASE = "https://datasets.tardis.dev/v1"
TARDIS_KEY_ENV = "TARDIS_API_KEY"

_VISION_MARKETS = {
    "spot": "spot",
    "usdm": "futures/um",
    "um": "futures/um",
    "cm": "futures/cm",
    "coinm": "futures/cm",
}
_VISION_TYPES = ("trades", "aggTrades", "bookTicker", "bookDepth")
_BYBIT_OB200_FROM = _dt.date(2025, 8, 21)
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
_CHUNK = 1 << 20


class DownloadError(OSError):
    """A download failed for good (HTTP error, or retries exhausted); names the URL."""


class ChecksumMismatch(DownloadError):
    """The downloaded bytes do not have the expected sha256; nothing was kept."""


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch` did.

    Attributes
    ----------
    url : str
        The source.
    path : pathlib.Path
        The local file.
    size : int
        Of the local file, in bytes.
    sha256 : str or None
        Of the local file (None for a cache hit with no checksum to check).
    cached : bool
        True when the file was already there and no byte was downloaded.
    resumed : bool
        True when the download continued a ``.part`` file.
    requests : int
        HTTP requests made (0 for a cache hit).
    """

    url: str
    path: Path
    size: int
    sha256: str | None
    cached: bool
    resumed: bool
    requests: int


# --------------------------------------------------------------------------- URLs


def _date(value) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    return _dt.date.fromisoformat(str(value))


def days(start, end=None) -> list[_dt.date]:
    """Every day from ``start`` to ``end`` inclusive.

    Parameters
    ----------
    start : str, datetime.date or datetime.datetime
        The first day (``"2024-08-08"``; a datetime gives its date).
    end : str, datetime.date or datetime.datetime, optional
        The last day, included; defaults to ``start``.

    Returns
    -------
    list of datetime.date
        The days in order.

    Raises
    ------
    ValueError
        If ``end`` is before ``start``, or a value is not a date.

    Examples
    --------
    >>> [str(d) for d in days("2024-02-28", "2024-03-01")]
    ['2024-02-28', '2024-02-29', '2024-03-01']
    """
    a, b = _date(start), _date(end if end is not None else start)
    if b < a:
        raise ValueError(f"end {b} is before start {a}")
    return [a + _dt.timedelta(days=i) for i in range((b - a).days + 1)]


def binance_vision_url(
    market: str,
    data_type: str,
    symbol: str,
    date,
    period: str = "daily",
    base: str = BINANCE_VISION_BASE,
) -> str:
    """URL of a data.vision archive.

    Parameters
    ----------
    market : str
        ``"spot"``, ``"usdm"`` (or ``"um"``) or ``"cm"`` (or ``"coinm"``).
    data_type : str
        ``"trades"``, ``"aggTrades"``, ``"bookTicker"`` or ``"bookDepth"``.
    symbol : str
        Any case; data.vision uses upper case (``BTCUSD_PERP`` for COIN-M).
    date : str or datetime.date
        A day (``"2024-08-08"``) for ``period="daily"``, a month (``"2024-08"``) for
        ``"monthly"``.
    period : {"daily", "monthly"}
        Which archive series.
    base : str
        The site root.

    Returns
    -------
    str
        The archive's URL (its ``.CHECKSUM`` is this URL with ``.CHECKSUM`` appended).

    Raises
    ------
    ValueError
        If the market, data type, period or date is not one of those above.
    """
    if market not in _VISION_MARKETS:
        raise ValueError(f"market must be one of {sorted(_VISION_MARKETS)}, got {market!r}")
    if data_type not in _VISION_TYPES:
        raise ValueError(f"data_type must be one of {_VISION_TYPES}, got {data_type!r}")
    if period == "daily":
        when = _date(date).isoformat()
    elif period == "monthly":
        when = str(date)[:7]
        _dt.date.fromisoformat(when + "-01")
    else:
        raise ValueError(f"period must be 'daily' or 'monthly', got {period!r}")
    sym = symbol.upper()
    return (
        f"{base.rstrip('/')}/data/{_VISION_MARKETS[market]}/{period}/{data_type}/{sym}/"
        f"{sym}-{data_type}-{when}.zip"
    )


def bybit_url(
    symbol: str,
    date,
    depth: int | None = None,
    category: str = "linear",
    base: str = BYBIT_ORDERBOOK_BASE,
) -> str:
    """URL of a Bybit order-book archive (pattern not documented by Bybit: see the module notes).

    Parameters
    ----------
    symbol : str
        Any case; Bybit uses upper case (``BTCUSDT``).
    date : str or datetime.date
        The day.
    depth : int, optional
        Levels per side in the file name (``ob500``, ``ob200``). None picks 500 before
        2025-08-21 and 200 from then on (linear); give it explicitly for other categories or
        if Bybit changes it again.
    category : {"linear", "inverse", "spot"}
        The Bybit market.
    base : str
        The site root.

    Returns
    -------
    str
        The archive's URL.

    Raises
    ------
    ValueError
        If the category is not one of those above, or the date is not a date.
    """
    if category not in ("linear", "inverse", "spot"):
        raise ValueError(f"category must be 'linear', 'inverse' or 'spot', got {category!r}")
    day = _date(date)
    if depth is None:
        depth = 200 if (category != "linear" or day >= _BYBIT_OB200_FROM) else 500
    sym = symbol.upper()
    return f"{base.rstrip('/')}/{category}/{sym}/{day.isoformat()}_{sym}_ob{int(depth)}.data.zip"


def tardis_url(
    exchange: str, data_type: str, symbol: str, date, base: str = TARDIS_DATASETS_BASE
) -> str:
    """URL of a Tardis.dev CSV dataset file.

    Parameters
    ----------
    exchange : str
        Tardis's exchange id (``"binance-futures"``, ``"bybit"``, ``"deribit"``, ...).
    data_type : str
        ``"incremental_book_L2"``, ``"trades"``, ``"book_snapshot_25"``, ...
    symbol : str
        Any case; upper-cased as in Tardis's file names, ``/`` and ``:`` becoming ``-``.
    date : str or datetime.date
        The day.
    base : str
        The site root.

    Returns
    -------
    str
        The file's URL.
    """
    day = _date(date)
    sym = urllib.parse.quote(symbol.upper().replace("/", "-").replace(":", "-"), safe="-_.")
    return f"{base.rstrip('/')}/{exchange}/{data_type}/{day:%Y/%m/%d}/{sym}.csv.gz"


def default_cache_dir() -> Path:
    """Where downloads go by default.

    Returns
    -------
    pathlib.Path
        ``<lobutils.paths.data_dir()>/archives`` (not created here).
    """
    from lobutils import paths

    return paths.data_dir() / "archives"


def cache_path(url: str, root: str | os.PathLike | None = None) -> Path:
    """The local path mirroring a URL under ``root``.

    Parameters
    ----------
    url : str
        An absolute URL.
    root : str or path-like, optional
        The cache folder (default :func:`default_cache_dir`).

    Returns
    -------
    pathlib.Path
        ``<root>/<host>/<path parts of the URL>`` (a port becomes ``host_port``).

    Raises
    ------
    ValueError
        If the URL has no host or path, or a ``.`` or ``..`` part.
    """
    u = urllib.parse.urlsplit(url)
    parts = [urllib.parse.unquote(x) for x in u.path.split("/") if x]
    if not u.netloc or not parts or any(x in (".", "..") for x in parts):
        raise ValueError(f"cannot make a cache path of URL {url!r}")
    host = u.netloc.replace(":", "_")
    return Path(root if root is not None else default_cache_dir(), host, *parts)


# --------------------------------------------------------------------------- checksums


def read_checksum_file(path: str | os.PathLike, name: str | None = None) -> str:
    """The sha256 in a ``.CHECKSUM`` file (``<hex>  <file name>``), checking the name if given.

    Parameters
    ----------
    path : str or path-like
        The checksum file.
    name : str, optional
        The file name the checksum must be for (not checked when the file names none).

    Returns
    -------
    str
        The digest, 64 lower-case hex digits.

    Raises
    ------
    DownloadError
        If the file holds no sha256, or one for another file.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.zip.CHECKSUM")
    >>> _ = open(p, "w").write("ab" * 32 + "  a.zip\\n")
    >>> read_checksum_file(p, "a.zip") == "ab" * 32
    True
    """
    text = Path(path).read_text(encoding="utf-8", errors="replace").strip()
    parts = text.split()
    digest = parts[0].lower() if parts else ""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise DownloadError(f"{path}: not a sha256 checksum file ({text[:100]!r})")
    if name is not None and len(parts) > 1 and parts[1].lstrip("*") != name:
        raise DownloadError(f"{path}: the checksum is for {parts[1]!r}, not {name!r}")
    return digest


# --------------------------------------------------------------------------- fetch


def _progress_default() -> bool:
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def _content_range(value: str | None) -> tuple[int, int | None] | None:
    """``(start, total)`` of a ``Content-Range: bytes start-end/total`` header."""
    if not value or not value.startswith("bytes "):
        return None
    span, _, total = value[6:].partition("/")
    start = span.partition("-")[0]
    try:
        return int(start), (int(total) if total.strip() not in ("", "*") else None)
    except ValueError:
        return None


class _Retry(Exception):
    pass


_SENSITIVE_HEADERS = ("Authorization", "Proxy-authorization", "Cookie")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of a URL, with the scheme's default port filled in.

    >>> _origin("https://Example.com/a") == _origin("https://example.com:443/b")
    True
    """
    u = urllib.parse.urlsplit(url)
    scheme = u.scheme.lower()
    return scheme, (u.hostname or "").lower(), u.port or _DEFAULT_PORTS.get(scheme)


class _SafeRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but never carry credentials to another origin nor downgrade to http."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old, new = _origin(req.full_url), _origin(newurl)
        if old[0] == "https" and new[0] != "https":
            raise DownloadError(
                f"{req.full_url}: refused a redirect from https to {new[0]} ({new[1]})"
            )
        new_req = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new_req is not None and new != old:
            for name in _SENSITIVE_HEADERS:
                new_req.remove_header(name)
        return new_req


_OPENER = urllib.request.build_opener(_SafeRedirectHandler)


def fetch(
    url: str,
    dest: str | os.PathLike | None = None,
    *,
    sha256: str | None = None,
    retries: int = 4,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: bool | None = None,
    headers: dict[str, str] | None = None,
) -> FetchResult:
    """Download ``url`` to ``dest``, with caching, resume, checksum and retries.

    Parameters
    ----------
    url : str
        What to download.
    dest : str or path-like, optional
        The file to write (default: :func:`cache_path` of the URL). Its directory is created.
    sha256 : str, optional
        The expected hex digest. A cached file that does not match is downloaded again; a
        download that does not match is deleted and raises :class:`ChecksumMismatch`.
    retries : int
        Extra attempts after a network error, timeout or HTTP 429/5xx, each resuming where the
        last stopped, after ``backoff * 2**k`` seconds.
    backoff : float
        Seconds before the first retry, doubled for each further one.
    timeout : float
        Seconds to wait for the server on each read.
    progress : bool, optional
        Show a tqdm bar (default: when stderr is a terminal).
    headers : dict of str to str, optional
        Extra HTTP headers (e.g. ``Authorization``). They are never logged.

    Returns
    -------
    FetchResult
        The local file, its size and sha256, and whether it came from the cache or a resumed
        download.

    Raises
    ------
    DownloadError
        HTTP errors other than 429/5xx, or retries exhausted (the ``.part`` file is kept, so a
        later call resumes).
    ChecksumMismatch
        The bytes do not match ``sha256``.
    """
    dest = Path(dest) if dest is not None else cache_path(url)
    expected = sha256.lower() if sha256 else None
    if dest.is_file():
        if expected is None:
            return FetchResult(url, dest, dest.stat().st_size, None, True, False, 0)
        digest = sha256_file(dest)
        if digest == expected:
            return FetchResult(url, dest, dest.stat().st_size, digest, True, False, 0)
        dest.unlink()  # stale or corrupt copy: fetch again
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    meta = dest.with_name(dest.name + ".part.json")
    show = _progress_default() if progress is None else progress
    requests = 0
    resumed = False
    fresh_retry_done = False
    attempt = 0
    while True:
        try:
            n, did_resume = _download_once(url, part, meta, headers or {}, timeout, show)
            requests += n
            resumed |= did_resume
        except _Retry as exc:
            requests += 1
            attempt += 1
            if attempt > retries:
                kept = (
                    f"; {part.name} is kept and the next call resumes it"
                    if part.is_file() and part.stat().st_size
                    else ""
                )
                raise DownloadError(
                    f"{url}: giving up after {attempt} attempts ({exc.args[0]}){kept}"
                ) from None
            time.sleep(backoff * 2 ** (attempt - 1))
            continue
        digest = sha256_file(part)
        if expected is not None and digest != expected:
            part.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
            if resumed and not fresh_retry_done:
                fresh_retry_done = True
                resumed = False
                continue
            raise ChecksumMismatch(
                f"{url}: sha256 of the download is {digest}, expected {expected}; the file was "
                "deleted"
            )
        os.replace(part, dest)
        meta.unlink(missing_ok=True)
        return FetchResult(url, dest, dest.stat().st_size, digest, False, resumed, requests)


def _download_once(
    url: str, part: Path, meta: Path, headers: dict, timeout: float, show: bool
) -> tuple[int, bool]:
    """One HTTP request, appending to ``part``; raises :class:`_Retry` on a transient failure."""
    from tqdm.auto import tqdm

    offset = part.stat().st_size if part.is_file() else 0
    validator = None
    if offset and meta.is_file():
        try:
            validator = json.loads(meta.read_text()).get("validator")
        except (ValueError, OSError):
            validator = None
    req_headers = {"User-Agent": "lobutils", **headers}
    if offset:
        req_headers["Range"] = f"bytes={offset}-"
        if validator:
            req_headers["If-Range"] = validator
    req = urllib.request.Request(url, headers=req_headers)
    try:
        resp = _OPENER.open(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            # nothing left to send: the part is complete, or the file changed and shrank
            part.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
            raise _Retry("HTTP 416 on resume; restarting") from None
        if exc.code in _RETRY_STATUS:
            raise _Retry(f"HTTP {exc.code}") from None
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        raise _Retry(f"{type(exc).__name__}: {exc}") from None
    resumed = False
    with resp:
        status = resp.status
        total = None
        if offset and status == 206:
            cr = _content_range(resp.headers.get("Content-Range"))
            if cr is None or cr[0] != offset:
                part.unlink(missing_ok=True)
                raise _Retry("bad Content-Range on resume; restarting")
            total = cr[1]
            mode = "ab"
            resumed = True
        else:
            offset = 0  # a full response: the server ignored the range, or nothing to resume
            mode = "wb"
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
        if validator and not (validator.startswith("W/")):
            meta.write_text(json.dumps({"validator": validator}))
        bar = tqdm(
            total=total,
            initial=offset,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=Path(urllib.parse.urlsplit(url).path).name,
            disable=not show,
            leave=False,
        )
        with open(part, mode) as fh, bar:
            while True:
                try:
                    chunk = resp.read(_CHUNK)
                except (http.client.HTTPException, TimeoutError, ConnectionError, OSError) as exc:
                    raise _Retry(f"connection lost ({type(exc).__name__})") from None
                if not chunk:
                    break
                fh.write(chunk)
                bar.update(len(chunk))
    size = part.stat().st_size
    if total is not None and size != total:
        raise _Retry(f"got {size} of {total} bytes")
    return 1, resumed


# --------------------------------------------------------------------------- sources


def fetch_binance_vision(
    market: str,
    data_type: str,
    symbol: str,
    date,
    *,
    period: str = "daily",
    root: str | os.PathLike | None = None,
    base: str = BINANCE_VISION_BASE,
    **kwargs,
) -> FetchResult:
    """Download a data.vision archive and its ``.CHECKSUM``, verifying the one by the other.

    Both files are cached under ``root`` (default :func:`default_cache_dir`): a second call
    makes no request when the cached archive matches the cached checksum.

    Parameters
    ----------
    market, data_type, symbol, date, period
        As for :func:`binance_vision_url`.
    root : str or path-like, optional
        The cache folder (default :func:`default_cache_dir`).
    base : str
        The site root.
    **kwargs
        Passed to :func:`fetch` (``retries``, ``timeout``, ``progress``, ...).

    Returns
    -------
    FetchResult
        The archive; ``cached`` only when both files came from the cache, ``requests``
        counting both.

    Raises
    ------
    DownloadError
        If either download fails, or the checksum file is not one for this archive.
    ChecksumMismatch
        If the archive does not match its published checksum.
    """
    url = binance_vision_url(market, data_type, symbol, date, period=period, base=base)
    dest = cache_path(url, root)
    ck = fetch(url + ".CHECKSUM", dest.with_name(dest.name + ".CHECKSUM"), **kwargs)
    digest = read_checksum_file(ck.path, dest.name)
    res = fetch(url, dest, sha256=digest, **kwargs)
    return FetchResult(
        res.url,
        res.path,
        res.size,
        res.sha256,
        res.cached and ck.cached,
        res.resumed,
        res.requests + ck.requests,
    )


def fetch_bybit(
    symbol: str,
    date,
    *,
    depth: int | None = None,
    category: str = "linear",
    root: str | os.PathLike | None = None,
    base: str = BYBIT_ORDERBOOK_BASE,
    **kwargs,
) -> FetchResult:
    """Download a Bybit order-book archive (no checksum is published; see the module notes).

    Parameters
    ----------
    symbol, date, depth, category
        As for :func:`bybit_url`.
    root : str or path-like, optional
        The cache folder (default :func:`default_cache_dir`).
    base : str
        The site root.
    **kwargs
        Passed to :func:`fetch`.

    Returns
    -------
    FetchResult
        The archive.

    Raises
    ------
    DownloadError
        If the download fails (404: no file for that day, symbol or depth).
    """
    url = bybit_url(symbol, date, depth=depth, category=category, base=base)
    return fetch(url, cache_path(url, root), **kwargs)


def fetch_tardis(
    exchange: str,
    data_type: str,
    symbol: str,
    date,
    *,
    root: str | os.PathLike | None = None,
    base: str = TARDIS_DATASETS_BASE,
    api_key: str | None = None,
    **kwargs,
) -> FetchResult:
    """Download a Tardis.dev CSV file.

    The first day of a month needs no key. For other days the key comes from ``api_key`` or
    the ``TARDIS_API_KEY`` environment variable; it is sent as a bearer token to the
    dataset's host only (a redirect elsewhere drops it, see :func:`fetch`) and never written
    anywhere.

    Parameters
    ----------
    exchange, data_type, symbol, date
        As for :func:`tardis_url`.
    root : str or path-like, optional
        Cache folder (default :func:`default_cache_dir`).
    base : str
        The site root.
    api_key : str, optional
        The key (default: the ``TARDIS_API_KEY`` environment variable).
    **kwargs
        Passed to :func:`fetch`.

    Returns
    -------
    FetchResult
        The CSV file.

    Raises
    ------
    DownloadError
        If the download fails (401 or 403 without a valid key for a day that needs one).
    """
    url = tardis_url(exchange, data_type, symbol, date, base=base)
    key = api_key or os.environ.get(TARDIS_KEY_ENV) or None
    headers = dict(kwargs.pop("headers", None) or {})
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return fetch(url, cache_path(url, root), headers=headers, **kwargs)
