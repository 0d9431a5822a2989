"""The ccxt collector and the symbol ranking against loopback emulations of exchange REST APIs.

Bybit v5 (the collector's default exchange): instruments-info (what ccxt's ``load_markets``
asks for), orderbook, recent-trade, and the private coin-info endpoint ccxt calls once keys are
set. Binance spot (the ranking's default): exchangeInfo, 24 h tickers and daily klines. Only
the fields ccxt's parsers read are served. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd
import pytest

from lobutils.acquire.collect import Collector, collect, make_exchange, read_collected
from lobutils.acquire.rank import rank_symbols
from lobutils.acquire.redact import api_credentials
from lobutils.book.replay import reconstruct
from lobutils.runner.cli import main
from lobutils.schema import DEPTH_COLUMNS, SNAPSHOT, TRADE_COLUMNS, book_columns

T0_MS = 1723161600000  # 2024-08-09 00:00 UTC


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    for var in ("LOBUTILS_BYBIT_API_KEY", "LOBUTILS_BYBIT_SECRET"):
        monkeypatch.delenv(var, raising=False)


class FakeREST:
    """A loopback HTTP server with a route table; ``fail[path]`` lists statuses to answer first."""

    def __init__(self):
        self.routes = {}
        self.fail: dict[str, list[int]] = {}
        self.requests: list[tuple[str, dict, dict]] = []
        self.lock = threading.Lock()

    def __enter__(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                with fake.lock:
                    fake.requests.append((parts.path, query, dict(self.headers)))
                    failing = fake.fail.get(parts.path)
                    code = failing.pop(0) if failing else None
                if code is not None:
                    self._send(code, b"")
                    return
                route = fake.routes.get(parts.path)
                if route is None:
                    self._send(404, b'{"retCode":10001,"retMsg":"no such path"}')
                    return
                with fake.lock:
                    body = route(query)
                self._send(200, json.dumps(body).encode())

            def _send(self, code, body):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self, path):
        return [q for p, q, _ in self.requests if p == path]


# --------------------------------------------------------------------------- Bybit v5


def _ok(result):
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": T0_MS}


SPOT = {
    "symbol": "BTCUSDT",
    "baseCoin": "BTC",
    "quoteCoin": "USDT",
    "status": "Trading",
    "marginTrading": "none",
    "lotSizeFilter": {"basePrecision": "0.000001", "quotePrecision": "0.00000001"},
    "priceFilter": {"tickSize": "0.1"},
}
LINEAR = {
    "symbol": "ETHUSDT",
    "contractType": "LinearPerpetual",
    "status": "Trading",
    "baseCoin": "ETH",
    "quoteCoin": "USDT",
    "settleCoin": "USDT",
    "launchTime": "1585526400000",
    "deliveryTime": "0",
    "priceFilter": {"tickSize": "0.1", "minPrice": "0.1", "maxPrice": "100000"},
    "lotSizeFilter": {"maxOrderQty": "1000", "minOrderQty": "0.01", "qtyStep": "0.01"},
    "leverageFilter": {"minLeverage": "1", "maxLeverage": "100", "leverageStep": "0.01"},
}


class FakeBybit(FakeREST):
    """Bybit v5: markets, books that change with every request, overlapping trade windows."""

    def __init__(self):
        super().__init__()
        self.books: dict[str, list[dict]] = {"BTCUSDT": [], "ETHUSDT": []}
        self.trade_polls = {"BTCUSDT": 0, "ETHUSDT": 0}
        self.routes = {
            "/v5/market/instruments-info": self._instruments,
            "/v5/market/orderbook": self._orderbook,
            "/v5/market/recent-trade": self._trades,
            "/v5/asset/coin/query-info": lambda q: _ok({"rows": []}),
        }

    def _instruments(self, q):
        lists = {"spot": [SPOT], "linear": [LINEAR] if q.get("status") != "PreLaunch" else []}
        return _ok({"category": q["category"], "list": lists.get(q["category"], [])})

    def _orderbook(self, q):
        sym, limit = q["symbol"], int(q["limit"])
        k = len(self.books[sym])
        base = 60000.0 if sym == "BTCUSDT" else 2600.0
        n_bid, n_ask = min(limit, 8), min(limit, 3 if k == 2 else 8)  # poll 2: a thin ask side
        bids = [
            [f"{base - 0.1 * k - 0.5 * i:.1f}", f"{1 + i + 0.25 * k:.2f}"] for i in range(n_bid)
        ]
        asks = [[f"{base + 0.5 - 0.1 * k + 0.5 * i:.1f}", f"{2 + i:.2f}"] for i in range(n_ask)]
        book = {"s": sym, "b": bids, "a": asks, "ts": T0_MS + 1000 * k, "u": 5000 + 7 * k}
        self.books[sym].append(book)
        return _ok(book)

    def trade(self, sym, n):
        tid = str(2100000000000000000 + n) if sym == "BTCUSDT" else str(uuid.UUID(int=n + 1))
        return {
            "execId": tid,
            "symbol": sym,
            "price": f"{100 + n}.5",
            "size": f"0.{n + 1:03d}",
            "side": "Buy" if n % 3 else "Sell",
            "time": str(T0_MS + 100 * n),
            "isBlockTrade": False,
        }

    def _trades(self, q):
        sym = q["symbol"]
        k = self.trade_polls[sym]
        self.trade_polls[sym] += 1
        window = range(3 * k, 3 * k + 5)  # 5 trades, the first 2 seen in the last poll
        return _ok({"category": q["category"], "list": [self.trade(sym, n) for n in window][::-1]})


def _expected_frame(books, levels):
    rows = []
    for b in books:
        bp, bq, ap, aq = ([np.nan] * levels, [0.0] * levels, [np.nan] * levels, [0.0] * levels)
        for i, (p, q) in enumerate(b["b"][:levels]):
            bp[i], bq[i] = float(p), float(q)
        for i, (p, q) in enumerate(b["a"][:levels]):
            ap[i], aq[i] = float(p), float(q)
        rows.append([b["ts"] * 10**6, 0, b["u"], *bp, *bq, *ap, *aq])
    return pd.DataFrame(rows, columns=book_columns(levels))


def test_polls_rebuild_the_served_books_and_trades_dedupe(tmp_path):
    syms = ["BTC/USDT", "ETH/USDT:USDT"]
    with FakeBybit() as fake:
        ex = make_exchange("bybit", api_url=fake.url, config={"rateLimit": 1})
        assert ex.enableRateLimit
        run = collect(
            ex,
            syms,
            levels=5,
            interval=0,
            polls=6,
            flush_polls=4,
            out_dir=tmp_path,
            progress=False,
            backoff=0.01,
        )
    s = run.stats
    assert (s["polls"], s["books"], s["retries"], s["errors"]) == (6, 12, 0, 0)
    assert s["stopped_by"] == "polls"
    categories = {q["category"] for q in fake.paths("/v5/market/orderbook")}
    assert categories == {"spot", "linear"}
    assert {q["limit"] for q in fake.paths("/v5/market/orderbook")} == {"5"}
    for sym, raw in (("BTC/USDT", "BTCUSDT"), ("ETH/USDT:USDT", "ETHUSDT")):
        folder = tmp_path / "bybit" / sym.replace("/", "-").replace(":", "-")
        names = sorted(p.name for p in folder.iterdir())
        assert (
            len(names) == 4 and [n.split("_")[0] for n in names] == ["depth"] * 2 + ["trades"] * 2
        )
        assert [Path(p).parent for p in run.files[sym]] == [folder] * 4
        depth, trades = read_collected(folder)
        assert dict(depth.dtypes) == {k: np.dtype(v) for k, v in DEPTH_COLUMNS.items()}
        assert dict(trades.dtypes) == {k: np.dtype(v) for k, v in TRADE_COLUMNS.items()}
        assert (depth.groupby("msg")["kind"].first() == SNAPSHOT).sum() == 6

        book = reconstruct(depth, levels=5, chain="none")
        frame = book.frame
        assert book.stats["gaps"] == 0 and len(frame) == 6
        expected = _expected_frame(fake.books[raw], 5)
        cols = [c for c in expected.columns if c != "local_ts"]
        pd.testing.assert_frame_equal(frame[cols], expected[cols], check_dtype=False)
        assert (np.diff(frame["local_ts"]) >= 0).all() and frame["local_ts"].iloc[0] > T0_MS

        # 6 polls of 5 trades each, 2 overlapping: 3 * 5 + 5 distinct trades, in time order
        assert len(trades) == 20 and trades["trade_id"].is_unique
        assert (np.diff(trades["ts"]) > 0).all()
        want = [fake.trade(raw, n) for n in range(20)]
        assert trades["ts"].tolist() == [int(t["time"]) * 10**6 for t in want]
        assert trades["price"].tolist() == [float(t["price"]) for t in want]
        assert trades["side"].tolist() == [1 if t["side"] == "Buy" else -1 for t in want]
        if raw == "BTCUSDT":
            assert trades["trade_id"].tolist() == [int(t["execId"]) for t in want]
    assert s["trades"] == 40 and s["duplicates"] == 2 * 5 * 2 and s["trade_gaps"] == 0

    # the in-memory view equals the files
    d1, t1 = run.frames("BTC/USDT")
    d2, t2 = read_collected(run.files["BTC/USDT"])
    pd.testing.assert_frame_equal(d1, d2)
    pd.testing.assert_frame_equal(t1, t2)


def test_rate_limit_and_unavailable_are_retried_with_backoff(tmp_path):
    sleeps = []
    with FakeBybit() as fake:
        fake.fail["/v5/market/orderbook"] = [429, 503]
        fake.fail["/v5/market/recent-trade"] = [503]
        ex = make_exchange("bybit", api_url=fake.url, config={"rateLimit": 1})
        col = Collector(
            ex, ["BTC/USDT"], levels=3, out_dir=tmp_path, backoff=0.5, sleep=sleeps.append
        )
        col.poll()
        col.poll()
    assert col.stats["retries"] == 3 and col.stats["books"] == 2
    assert len(sleeps) == 3
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # doubling, with jitter
    assert len(fake.paths("/v5/market/orderbook")) == 4  # 2 failed + 2 served


def test_retries_are_bounded_and_a_failed_poll_is_skipped(tmp_path, caplog):
    with FakeBybit() as fake:
        fake.fail["/v5/market/orderbook"] = [503] * 3
        run = collect(
            make_exchange("bybit", api_url=fake.url, config={"rateLimit": 1}),
            "BTC/USDT",
            levels=3,
            interval=0,
            polls=2,
            trades=False,
            out_dir=tmp_path,
            progress=False,
            retries=2,
            backoff=0.001,
        )
    assert run.stats["errors"] == 1 and run.stats["books"] == 1 and run.stats["retries"] == 2
    assert "poll failed after retries" in caplog.text
    depth, _ = run.frames("BTC/USDT")
    assert len(reconstruct(depth, levels=3, chain="none").frame) == 1


def test_keys_come_from_the_environment_and_never_leak(tmp_path, monkeypatch, caplog, capsys):
    key, secret = "FAKEKEY" + uuid.uuid4().hex, "FAKESECRET" + uuid.uuid4().hex
    monkeypatch.setenv("LOBUTILS_BYBIT_API_KEY", key)
    monkeypatch.setenv("LOBUTILS_BYBIT_SECRET", secret)
    caplog.set_level(logging.DEBUG)
    with FakeBybit() as fake:
        fake.fail["/v5/asset/coin/query-info"] = [503]  # a retried private request gets logged
        code = main(
            [
                "collect",
                "BTC/USDT",
                "--polls",
                "2",
                "--interval",
                "0",
                "--out",
                str(tmp_path),
                "--api-url",
                fake.url,
                "--json",
            ]
        )
        ex = make_exchange("bybit", api_url=fake.url)
        with pytest.raises(ValueError, match="environment"):
            make_exchange("bybit", config={"apiKey": key})
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["books"] == 2
    # the keys were read and used: ccxt signed its private request with them ...
    private = [h for p, _, h in fake.requests if p == "/v5/asset/coin/query-info"]
    assert private and all(h.get("X-BAPI-API-KEY") == key for h in private)
    assert (ex.apiKey, ex.secret) == (key, secret)
    # ... and ccxt logged that request's headers, masked
    assert "X-BAPI-API-KEY" in caplog.text and "***" in caplog.text
    texts = [out, err, caplog.text] + [r.getMessage() for r in caplog.records]
    blobs = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    assert blobs, "the collector wrote files"
    for secret_value in (key, secret):
        assert all(secret_value not in t for t in texts)
        assert all(secret_value.encode() not in b for b in blobs)


def test_api_credentials_names():
    env = {"LOBUTILS_OKX_API_KEY": "a", "LOBUTILS_OKX_SECRET": "b", "LOBUTILS_OKX_PASSWORD": "c"}
    assert api_credentials("okx", env) == {"apiKey": "a", "secret": "b", "password": "c"}
    assert api_credentials("bybit", {"LOBUTILS_BYBIT_API_KEY": " "}) == {}


# --------------------------------------------------------------------------- Binance: ranking

NOW_MS = T0_MS + 12 * 3_600_000  # 2024-08-09 12:00 UTC: the window ends at 2024-08-09 00:00
DAY = 86_400_000


def _binance_symbol(sym, base, quote, status="TRADING"):
    return {
        "symbol": sym,
        "status": status,
        "baseAsset": base,
        "quoteAsset": quote,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "MARKET"],
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "permissions": ["SPOT"],
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": "0.01",
                "maxPrice": "1e6",
                "tickSize": "0.01",
            },
            {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1e6", "stepSize": "0.001"},
        ],
    }


# symbol -> (price, daily volume of the first day, growth per day, days listed, 24 h quote volume)
UNIVERSE = {
    "BTCUSDT": (100.0, 1000.0, 0.0, 40, 1e5),
    "ETHUSDT": (50.0, 1900.0, 10.0, 40, 2e5),
    "SOLUSDT": (20.0, 100.0, 0.0, 40, 1e3),
    "NEWUSDT": (10.0, 1e6, 0.0, 3, 1e9),  # huge, but listed 3 days ago
    "USDCUSDT": (1.0, 5e6, 0.0, 40, 1e7),  # a stablecoin pair, excluded by the caller
    "ETHBTC": (0.05, 1e6, 0.0, 40, 1e6),  # not quoted in USDT
}


class FakeBinance(FakeREST):
    def __init__(self):
        super().__init__()
        self.routes = {
            "/api/v3/exchangeInfo": lambda q: {
                "timezone": "UTC",
                "serverTime": NOW_MS,
                "rateLimits": [],
                "symbols": [
                    _binance_symbol(
                        s,
                        s[:-4] if s.endswith("USDT") else s[:-3],
                        s[-4:] if s.endswith("USDT") else "BTC",
                    )
                    for s in UNIVERSE
                ]
                + [_binance_symbol("OLDUSDT", "OLD", "USDT", status="BREAK")],
            },
            "/fapi/v1/exchangeInfo": lambda q: {"symbols": [], "rateLimits": []},
            "/dapi/v1/exchangeInfo": lambda q: {"symbols": [], "rateLimits": []},
            "/api/v3/ticker/24hr": lambda q: [
                {
                    "symbol": s,
                    "lastPrice": str(p),
                    "volume": str(qv / p),
                    "quoteVolume": str(qv),
                    "openTime": NOW_MS - DAY,
                    "closeTime": NOW_MS,
                }
                for s, (p, _, _, _, qv) in UNIVERSE.items()
            ],
            "/api/v3/klines": self._klines,
        }

    @staticmethod
    def candles(sym):
        p, v0, g, listed, _ = UNIVERSE[sym]
        first = T0_MS - (listed - 1) * DAY - DAY  # ... up to the day before T0, then today
        out = []
        for d in range(listed + 1):  # the last one is today's unfinished candle
            t = first + d * DAY
            vol = v0 + g * d
            out.append([t, str(p), str(p * 1.1), str(p * 0.9), str(p), str(vol)])
        return out

    def _klines(self, q):
        start, limit = int(q["startTime"]), int(q["limit"])
        rows = [c for c in self.candles(q["symbol"]) if c[0] >= start][:limit]
        return [r + [r[0] + DAY - 1, "0", 1, "0", "0", "0"] for r in rows]


def _avg_quote_volume(sym, days):
    start, end = T0_MS - days * DAY, T0_MS
    c = [r for r in FakeBinance.candles(sym) if start <= r[0] < end]
    return np.mean([float(r[5]) * (float(r[2]) + float(r[3]) + float(r[4])) / 3 for r in c]), len(c)


def test_rank_symbols_by_average_daily_quote_volume():
    with FakeBinance() as fake:
        ex = make_exchange("binance", api_url=fake.url, config={"rateLimit": 1})
        table = rank_symbols(ex, "USDT", top=3, days=30, exclude=["USDC"], now_ms=NOW_MS)
        loose = rank_symbols(ex, "USDT", top=10, days=30, min_days=1, now_ms=NOW_MS)
    assert table["symbol"].tolist() == ["ETH/USDT", "BTC/USDT", "SOL/USDT"]
    assert table["rank"].tolist() == [1, 2, 3]
    for row in table.itertuples():
        want, n = _avg_quote_volume(row.symbol.replace("/", ""), 30)
        assert row.days == n == 30
        assert row.avg_daily_quote_volume == pytest.approx(want, rel=1e-12)
    assert table["last_day"].tolist() == ["2024-08-08"] * 3  # today's partial candle left out
    assert table["first_day"].tolist() == ["2024-07-10"] * 3
    # with a short history allowed, the new listing and the stablecoin pair lead
    assert loose["symbol"].tolist()[:2] == ["NEW/USDT", "USDC/USDT"]
    assert loose["days"].tolist()[:2] == [3, 30]
    assert "OLD/USDT" not in loose["symbol"].tolist() and "ETH/BTC" not in loose["symbol"].tolist()
    klines = fake.paths("/api/v3/klines")
    assert {q["interval"] for q in klines} == {"1d"}
    assert {int(q["startTime"]) for q in klines} == {T0_MS - 30 * DAY}


def test_rank_cli_json(capsys):
    with FakeBinance() as fake:
        code = main(
            [
                "rank",
                "--top",
                "2",
                "--days",
                "5",
                "--asof",
                "2024-08-09",
                "--api-url",
                fake.url,
                "--json",
            ]
        )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exchange"] == "binance" and len(out["ranking"]) == 2
    assert all(r["days"] == 5 for r in out["ranking"])
