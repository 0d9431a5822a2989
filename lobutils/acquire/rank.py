"""Ranking an exchange's symbols by average daily quote volume, through ccxt.

24 h tickers pick the candidates, then daily candles over the last complete UTC days give each
one's average daily quote volume (:func:`rank_symbols`).

Examples
--------
Live (needs the network)::

    from lobutils.acquire.rank import rank_symbols
    top = rank_symbols("binance", quote="USDT", top=10, days=30)
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from lobutils.acquire.collect import _Retry, make_exchange

__all__ = ["rank_symbols"]

_DAY_MS = 86_400_000


def rank_symbols(
    exchange="binance",
    quote: str = "USDT",
    top: int = 20,
    days: int = 30,
    market_type: str = "spot",
    min_days: int | None = None,
    candidates: int | None = None,
    exclude: Iterable[str] = (),
    api_url: str | None = None,
    options: Mapping | None = None,
    now_ms: int | None = None,
    retries: int = 5,
    backoff: float = 1.0,
    progress: bool = False,
) -> pd.DataFrame:
    """The ``top`` most liquid symbols of an exchange by average daily quote volume.

    24 h tickers pick the candidates (``candidates`` symbols with the largest 24 h quote
    volume), then daily candles over the last ``days`` complete UTC days give each one's
    average daily quote volume, approximated as the sum over days of
    ``volume * (high + low + close) / 3`` (the typical price stands in for the day's VWAP),
    divided by the days observed.

    Parameters
    ----------
    exchange
        A ccxt exchange id or object (default ``"binance"``).
    quote
        Quote currency of the markets to rank (``"USDT"``).
    top
        How many to return.
    days
        Window length in complete UTC days, ending at the last midnight.
    market_type
        ccxt market type: ``"spot"``, ``"swap"``, ``"future"``.
    min_days
        Leave out symbols with fewer daily candles in the window (default: all ``days``).
    candidates
        How many symbols (by 24 h volume) get their candles fetched (default
        ``max(3 * top, top + 20)``; all when the exchange has no tickers endpoint).
    exclude
        Symbols (``"USDC/USDT"``) or base currencies (``"USDC"``) to leave out.
    api_url, options
        See :func:`make_exchange`.
    now_ms
        "Now" in ms since the epoch (default: the local clock), for reproducible windows.
    retries, backoff
        Retries of failing requests, as in :func:`collect`.
    progress
        Show a progress bar over the candidates.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``symbol``, ``base``, ``quote``, ``avg_daily_quote_volume``, ``days``,
        ``quote_volume_24h``, ``first_day``, ``last_day``; best first.
    """
    ex = (
        make_exchange(exchange, api_url=api_url, options=options)
        if isinstance(exchange, str)
        else exchange
    )
    retry = _Retry(retries, backoff, 60.0)
    if top < 1 or days < 1:
        raise ValueError("top and days must be >= 1")
    min_days = days if min_days is None else min_days
    excluded = {e.upper() for e in exclude}
    markets = retry(ex.load_markets)
    pool = [
        m
        for m in markets.values()
        if m.get("type") == market_type
        and m.get("quote") == quote
        and m.get("active") is not False
        and m["symbol"].upper() not in excluded
        and str(m.get("base", "")).upper() not in excluded
    ]
    if not pool:
        raise ValueError(f"{ex.id} has no active {market_type} market quoted in {quote}")
    vol24 = {}
    if ex.has.get("fetchTickers"):
        tickers = retry(ex.fetch_tickers, None, {"type": market_type})
        for m in pool:
            t = tickers.get(m["symbol"]) or {}
            qv = t.get("quoteVolume")
            if qv is None and t.get("baseVolume") is not None and t.get("last") is not None:
                qv = t["baseVolume"] * t["last"]
            vol24[m["symbol"]] = float(qv) if qv is not None else math.nan
        n_cand = candidates if candidates is not None else max(3 * top, top + 20)
        pool.sort(key=lambda m: -np.nan_to_num(vol24[m["symbol"]], nan=-1.0))
        pool = pool[:n_cand]
    now_ms = int(time.time() * 1000) if now_ms is None else int(now_ms)
    end = now_ms - now_ms % _DAY_MS  # the last UTC midnight: only complete days count
    start = end - days * _DAY_MS
    rows = []
    it = pool
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(pool, desc=f"{ex.id} daily candles", unit="symbol")
    for m in it:
        candles = retry(ex.fetch_ohlcv, m["symbol"], "1d", start, days + 1)
        c = np.array([row[:6] for row in candles if start <= row[0] < end], dtype=float)
        c = c[np.isfinite(c[:, 5])] if len(c) else c
        if len(c) < max(min_days, 1):
            continue
        qv = c[:, 5] * (c[:, 2] + c[:, 3] + c[:, 4]) / 3.0
        rows.append(
            {
                "symbol": m["symbol"],
                "base": m.get("base"),
                "quote": m.get("quote"),
                "avg_daily_quote_volume": float(qv.sum() / len(c)),
                "days": len(c),
                "quote_volume_24h": vol24.get(m["symbol"], math.nan),
                "first_day": pd.Timestamp(int(c[0, 0]), unit="ms", tz="UTC").date().isoformat(),
                "last_day": pd.Timestamp(int(c[-1, 0]), unit="ms", tz="UTC").date().isoformat(),
            }
        )
    cols = [
        "rank",
        "symbol",
        "base",
        "quote",
        "avg_daily_quote_volume",
        "days",
        "quote_volume_24h",
        "first_day",
        "last_day",
    ]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows).sort_values(
        ["avg_daily_quote_volume", "symbol"], ascending=[False, True], kind="stable"
    )
    out = out.head(top).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out[cols]
