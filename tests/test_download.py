"""Downloads against a local HTTP server on 127.0.0.1: resume, checksums, cache, retries."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lobutils.acquire import download as D
from lobutils.runner.cli_archives import add_parsers


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        srv = self.server
        rng = self.headers.get("Range")
        srv.log.append({"path": self.path, "range": rng, "auth": self.headers.get("Authorization")})
        if srv.fail_first.get(self.path, 0) > 0:
            srv.fail_first[self.path] -= 1
            self.send_error(503)
            return
        data = srv.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        if rng and not srv.ignore_range:
            start = int(rng.removeprefix("bytes=").partition("-")[0])
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("ETag", '"v1"')
        self.end_headers()
        body = data[start:]
        if self.path in srv.cut_first:
            srv.cut_first.discard(self.path)
            body = body[: len(body) // 2]  # the connection drops mid-file
            self.close_connection = True
        self.wfile.write(body)


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.files, srv.log, srv.cut_first, srv.fail_first = {}, [], set(), {}
    srv.ignore_range = False
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


PAYLOAD = os.urandom(300_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_a_download_cut_mid_file_resumes_with_a_range_request(server, tmp_path):
    server.files["/a.zip"] = PAYLOAD
    server.cut_first.add("/a.zip")
    dest = tmp_path / "a.zip"
    r = D.fetch(server.url + "/a.zip", dest, sha256=SHA, backoff=0, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert (r.resumed, r.cached, r.requests, r.sha256) == (True, False, 2, SHA)
    assert server.log[0]["range"] is None
    assert server.log[1]["range"] == f"bytes={len(PAYLOAD) // 2}-"
    assert not (tmp_path / "a.zip.part").exists() and not (tmp_path / "a.zip.part.json").exists()


def test_a_killed_download_leaves_a_part_file_that_the_next_call_resumes(server, tmp_path):
    server.files["/b.zip"] = PAYLOAD
    server.cut_first.add("/b.zip")
    dest = tmp_path / "b.zip"
    with pytest.raises(D.DownloadError, match="giving up after 1 attempts.*resumes"):
        D.fetch(server.url + "/b.zip", dest, retries=0, progress=False)
    assert not dest.exists()
    assert (tmp_path / "b.zip.part").stat().st_size == len(PAYLOAD) // 2
    r = D.fetch(server.url + "/b.zip", dest, sha256=SHA, progress=False)
    assert r.resumed and dest.read_bytes() == PAYLOAD


def test_a_wrong_checksum_is_detected_and_nothing_is_kept(server, tmp_path):
    server.files["/c.zip"] = PAYLOAD
    dest = tmp_path / "c.zip"
    with pytest.raises(D.ChecksumMismatch, match="expected 0000"):
        D.fetch(server.url + "/c.zip", dest, sha256="0" * 64, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    # a resumed download that fails the checksum is fetched once more from the start
    server.cut_first.add("/c.zip")
    with pytest.raises(D.ChecksumMismatch):
        D.fetch(server.url + "/c.zip", dest, sha256="0" * 64, backoff=0, progress=False)
    assert [e["range"] is None for e in server.log[1:]] == [True, False, True]
    assert list(tmp_path.iterdir()) == []


def test_a_cache_hit_makes_no_request(server, tmp_path):
    server.files["/d.csv.gz"] = PAYLOAD
    dest = tmp_path / "d.csv.gz"
    D.fetch(server.url + "/d.csv.gz", dest, progress=False)
    n = len(server.log)
    again = D.fetch(server.url + "/d.csv.gz", dest, progress=False)
    checked = D.fetch(server.url + "/d.csv.gz", dest, sha256=SHA, progress=False)
    assert (again.cached, again.requests, checked.cached, checked.requests) == (True, 0, True, 0)
    assert len(server.log) == n
    # a cached copy that no longer matches the expected checksum is downloaded again
    dest.write_bytes(b"corrupt")
    fixed = D.fetch(server.url + "/d.csv.gz", dest, sha256=SHA, progress=False)
    assert not fixed.cached and dest.read_bytes() == PAYLOAD


def test_binance_vision_checksum_file_is_fetched_cached_and_enforced(server, tmp_path):
    url = D.binance_vision_url("usdm", "trades", "BTCUSDT", "2024-08-08", base=server.url)
    path = url.removeprefix(server.url)
    server.files[path] = PAYLOAD
    server.files[path + ".CHECKSUM"] = f"{SHA}  BTCUSDT-trades-2024-08-08.zip\n".encode()
    kw = {"root": tmp_path, "base": server.url, "progress": False}
    r = D.fetch_binance_vision("usdm", "trades", "BTCUSDT", "2024-08-08", **kw)
    assert r.path == D.cache_path(url, tmp_path) and r.path.read_bytes() == PAYLOAD
    assert r.path.parent.as_posix().endswith("data/futures/um/daily/trades/BTCUSDT")
    assert (r.requests, r.cached) == (2, False)
    again = D.fetch_binance_vision("usdm", "trades", "BTCUSDT", "2024-08-08", **kw)
    assert (again.requests, again.cached) == (0, True)
    # a published checksum that does not match: the archive is not kept
    url2 = D.binance_vision_url("spot", "aggTrades", "ETHUSDT", "2024-08-08", base=server.url)
    p2 = url2.removeprefix(server.url)
    server.files[p2] = PAYLOAD
    server.files[p2 + ".CHECKSUM"] = ("f" * 64 + "  ETHUSDT-aggTrades-2024-08-08.zip\n").encode()
    with pytest.raises(D.ChecksumMismatch):
        D.fetch_binance_vision("spot", "aggTrades", "ETHUSDT", "2024-08-08", **kw)
    assert not D.cache_path(url2, tmp_path).exists()


def test_http_errors_retries_and_servers_that_ignore_ranges(server, tmp_path):
    with pytest.raises(D.DownloadError, match="HTTP 404"):
        D.fetch(server.url + "/missing.zip", tmp_path / "m.zip", backoff=0, progress=False)
    assert len(server.log) == 1  # not retried
    server.files["/e.zip"] = PAYLOAD
    server.fail_first["/e.zip"] = 2
    r = D.fetch(server.url + "/e.zip", tmp_path / "e.zip", backoff=0, progress=False)
    assert r.requests == 3 and (tmp_path / "e.zip").read_bytes() == PAYLOAD
    server.ignore_range = True
    server.files["/f.zip"] = PAYLOAD
    server.cut_first.add("/f.zip")
    r = D.fetch(server.url + "/f.zip", tmp_path / "f.zip", sha256=SHA, backoff=0, progress=False)
    assert not r.resumed and (tmp_path / "f.zip").read_bytes() == PAYLOAD


def test_tardis_key_comes_from_the_environment_and_is_not_reported(server, tmp_path, monkeypatch):
    url = D.tardis_url("deribit", "trades", "BTC-PERPETUAL", "2024-08-02", base=server.url)
    server.files[url.removeprefix(server.url)] = PAYLOAD
    monkeypatch.setenv(D.TARDIS_KEY_ENV, "secret-key-123")
    r = D.fetch_tardis(
        "deribit", "trades", "BTC-PERPETUAL", "2024-08-02", root=tmp_path, base=server.url,
        progress=False,
    )  # fmt: skip
    assert server.log[-1]["auth"] == "Bearer secret-key-123"
    assert "secret-key-123" not in repr(r)


def test_fetch_command_prints_a_json_summary(server, tmp_path, capsys):
    for day in ("2024-08-08", "2024-08-09"):
        url = D.bybit_url("BTCUSDT", day, base=server.url)
        server.files[url.removeprefix(server.url)] = PAYLOAD
    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command"))
    argv = ["fetch", "bybit", "--symbol", "BTCUSDT", "--date", "2024-08-08", "--end", "2024-08-09"]
    args = parser.parse_args([*argv, "--root", str(tmp_path), "--base-url", server.url, "--json"])
    out = args.func(args)
    assert (out["downloaded"], out["cached"], out["bytes"]) == (2, 0, 2 * len(PAYLOAD))
    assert [f["file"] for f in out["files"]] == [
        "2024-08-08_BTCUSDT_ob500.data.zip",
        "2024-08-09_BTCUSDT_ob500.data.zip",
    ]
    json.dumps(out)
    args = parser.parse_args(["fetch", "bybit", "--symbol", "X", "--date", "2024-08-08",
                              "--root", str(tmp_path), "--base-url", server.url])  # fmt: skip
    with pytest.raises(ValueError, match="HTTP 404"):
        args.func(args)


def test_url_builders():
    assert D.binance_vision_url("cm", "bookTicker", "btcusd_perp", "2024-08", period="monthly") == (
        "https://data.binance.vision/data/futures/cm/monthly/bookTicker/BTCUSD_PERP/"
        "BTCUSD_PERP-bookTicker-2024-08.zip"
    )
    assert D.bybit_url("ETHUSDT", "2025-09-01").endswith(
        "/linear/ETHUSDT/2025-09-01_ETHUSDT_ob200.data.zip"
    )
    assert D.bybit_url("ETHUSDT", "2025-08-20").endswith("_ob500.data.zip")
    assert D.bybit_url("BTCUSDT", "2024-01-01", category="spot").endswith(
        "/spot/BTCUSDT/2024-01-01_BTCUSDT_ob200.data.zip"
    )
    with pytest.raises(ValueError, match="market must be one of"):
        D.binance_vision_url("margin", "trades", "BTCUSDT", "2024-08-08")
    with pytest.raises(ValueError, match="end 2024-01-01 is before"):
        D.days("2024-01-02", "2024-01-01")


class _Redirect(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        self.server.log.append({"path": self.path, "auth": self.headers.get("Authorization")})
        self.send_response(302)
        self.send_header("Location", self.server.target + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def redirector():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    srv.log, srv.target = [], None
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_the_tardis_key_is_not_sent_to_the_host_a_redirect_points_at(
    server, redirector, tmp_path, monkeypatch
):
    url = D.tardis_url("deribit", "trades", "BTC-PERPETUAL", "2024-08-02", base=redirector.url)
    path = url.removeprefix(redirector.url)
    server.files[path] = PAYLOAD
    redirector.target = server.url  # same host, another port: another origin
    monkeypatch.setenv(D.TARDIS_KEY_ENV, "secret-key-123")
    r = D.fetch_tardis(
        "deribit", "trades", "BTC-PERPETUAL", "2024-08-02", root=tmp_path, base=redirector.url,
        progress=False,
    )  # fmt: skip
    assert r.path.read_bytes() == PAYLOAD
    assert redirector.log == [{"path": path, "auth": "Bearer secret-key-123"}]
    assert [e["auth"] for e in server.log] == [None]  # the other origin never saw the key


def test_a_redirect_on_the_same_origin_keeps_the_key(server):
    req = D.urllib.request.Request(server.url + "/old", headers={"Authorization": "Bearer k"})
    new = D._SafeRedirectHandler().redirect_request(
        req, None, 302, "Found", {}, server.url + "/new.csv.gz"
    )
    assert new.get_header("Authorization") == "Bearer k"
    other = D._SafeRedirectHandler().redirect_request(
        req, None, 302, "Found", {}, "http://localhost:1/new.csv.gz"
    )
    assert other.get_header("Authorization") is None


def test_an_https_to_http_downgrade_is_refused():
    req = D.urllib.request.Request("https://example.com/a", headers={"Authorization": "Bearer k"})
    with pytest.raises(D.DownloadError, match="refused a redirect from https to http"):
        D._SafeRedirectHandler().redirect_request(
            req, None, 302, "Found", {}, "http://example.com/a"
        )
