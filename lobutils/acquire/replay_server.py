"""A loopback stand-in for Binance: replays a recording over a websocket and serves snapshots.

:class:`ReplayServer` runs on 127.0.0.1 what the live recorder (:mod:`lobutils.acquire.recorder`)
talks to on the network: a websocket server sending a recording's combined-stream messages and an
HTTP server answering the REST depth-snapshot request. The recorder then runs its live code path
offline, as in the tests and in chapter 1.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import orjson

from lobutils.acquire.recorder import MARKET_ENDPOINTS, _stream_name

__all__ = ["ReplayServer"]


class ReplayServer:
    """A loopback stand-in for one Binance market: replays recorded messages, serves snapshots.

    It runs a websocket server that sends recorded combined-stream messages, and an HTTP server
    that answers the market's REST depth-snapshot request, both on 127.0.0.1 in a background
    thread. Point a :class:`Recorder` at it (``ws_url=server.ws_url``,
    ``rest_url=server.rest_url``) and the recorder runs exactly its live code path, offline:
    the tests use it, and so does chapter 1.

    Snapshots: the first request gets the recording's own snapshot line. Later ones (after a
    gap or a reconnect) get the exchange's book as of the last message sent, dropped messages
    included, built with :class:`lobutils.book.replay.ReferenceBook`.

    Timing: ``gates[i] = k`` holds message ``i`` back until ``k`` snapshots have been served.
    The default, ``{snapshot_at: 1}``, holds the messages that followed the snapshot line in
    the recording until the recorder has fetched its snapshot, so the snapshot lands where it
    was in the original and the replay does not depend on how fast either side runs.

    Parameters
    ----------
    messages
        Raw stream messages (combined-stream JSON, bytes), in order, without snapshot lines.
    snapshot
        The raw REST snapshot (``{"lastUpdateId": ..., "bids": ..., "asks": ...}``).
    market
        ``"spot"``, ``"usdm"`` or ``"cm"``: the REST path answered and the update-id chain of
        later snapshots.
    snapshot_at
        How many of ``messages`` came before the snapshot line in the recording.
    gates
        See above (default ``{snapshot_at: 1}``).
    drop
        Indices of messages not sent (they still happen at the exchange: a gap).
    close_after, skip_on_reconnect
        Close the first connection after sending this many messages, and let this many more
        happen while the client is away.
    fail_first
        Answer the first this many snapshot requests with HTTP 503.
    hold_open
        Keep the connection open after the last message (until the client closes it).

    Attributes
    ----------
    sent, served
        Messages that happened at the exchange (sent or dropped); snapshots served.
    requests, ws_paths
        The HTTP request paths and websocket paths seen.
    problems
        Things that went wrong on the server side (e.g. a gate never opened); empty when fine.

    Examples
    --------
    Replay the first 300 lines of a bundled recording and record them:

    >>> import tempfile
    >>> from lobutils.acquire.recorder import record
    >>> from lobutils.data.catalog import segment
    >>> out = tempfile.mkdtemp()
    >>> with ReplayServer.from_recording(segment("usdm_ethusdt").files, max_lines=300) as srv:
    ...     stats = record(srv.symbol, srv.market, out_dir=out, ws_url=srv.ws_url,
    ...                    rest_url=srv.rest_url, max_messages=len(srv.messages),
    ...                    status_interval=0)
    >>> stats["messages"] == len(srv.messages), stats["snapshots"], stats["gaps"]
    (True, 1, 0)
    """

    def __init__(
        self,
        messages: list[bytes],
        snapshot: bytes,
        market: str = "usdm",
        *,
        snapshot_at: int = 0,
        gates: dict[int, int] | None = None,
        drop: Iterable[int] = (),
        close_after: int | None = None,
        skip_on_reconnect: int = 0,
        fail_first: int = 0,
        hold_open: bool = False,
    ):
        if market not in MARKET_ENDPOINTS:
            raise ValueError(f"market must be one of {sorted(MARKET_ENDPOINTS)}, got {market!r}")
        self.messages = list(messages)
        self.snapshot = bytes(snapshot)
        self.market = market
        self.symbol = _replay_symbol(self.messages)
        self.snapshot_at = int(snapshot_at)
        self.gates = {self.snapshot_at: 1} if gates is None else dict(gates)
        self.drop = set(drop)
        self.close_after = close_after
        self.skip_on_reconnect = skip_on_reconnect
        self.fail_first = fail_first
        self.hold_open = hold_open
        self.sent = 0
        self.served = 0
        self.requests: list[str] = []
        self.ws_paths: list[str] = []
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._book = None  # the exchange's book, built on the first later snapshot request
        self._applied = 0
        self._depth_request = (
            f"{MARKET_ENDPOINTS[market].depth_path}?symbol={self.symbol.upper()}&limit="
        )
        self.httpd = None
        self.thread = None
        self._stop: asyncio.Event | None = None
        self._env: dict[str, str | None] = {}

    @classmethod
    def from_recording(
        cls,
        files: str | os.PathLike | Iterable[str | os.PathLike],
        max_lines: int | None = None,
        market: str | None = None,
        **options,
    ) -> ReplayServer:
        """A server replaying the first ``max_lines`` lines of a recording (one symbol).

        The first snapshot line becomes :attr:`snapshot` (later ones are left out: the server
        makes its own).

        Parameters
        ----------
        files
            The recording file(s) of one symbol.
        max_lines
            Lines to read (default all).
        market
            Default: the file name's prefix (``usdm_ethusdt_...``).
        **options
            Passed to the constructor (``gates``, ``drop``, ``close_after``, ...).

        Returns
        -------
        ReplayServer
            Not started yet: use it as a context manager.
        """
        paths = [Path(files)] if isinstance(files, str | os.PathLike) else [Path(f) for f in files]
        if market is None:
            market = paths[0].name.split("_", 1)[0]
        messages: list[bytes] = []
        snapshot, snapshot_at, n = None, 0, 0
        for p in paths:
            with gzip.open(p, "rb") as fh:
                for line in fh:
                    payload = line.rstrip(b"\r\n").partition(b" ")[2]
                    n += 1
                    if payload.startswith(b'{"lastUpdateId"'):
                        if snapshot is None:
                            snapshot, snapshot_at = payload, len(messages)
                    elif payload:
                        messages.append(payload)
                    if max_lines is not None and n >= max_lines:
                        break
            if max_lines is not None and n >= max_lines:
                break
        if snapshot is None:
            raise ValueError(f"no REST snapshot line in the first {n} lines of {paths[0].name}")
        return cls(messages, snapshot, market, snapshot_at=snapshot_at, **options)

    @property
    def ws_url(self) -> str:
        """The websocket origin, for ``RecorderConfig(ws_url=...)``."""
        return f"ws://127.0.0.1:{self.ws_port}"

    @property
    def rest_url(self) -> str:
        """The REST origin, for ``RecorderConfig(rest_url=...)``."""
        return f"http://127.0.0.1:{self.http_port}"

    # ---------------------------------------------------------------- http

    def _snapshot_body(self) -> bytes:
        with self._lock:
            if self.served == 0:
                return self.snapshot
            import numpy as np

            from lobutils.book.replay import ReferenceBook

            if self._book is None:
                snap = orjson.loads(self.snapshot)
                chain = MARKET_ENDPOINTS[self.market].chain
                self._book = ReferenceBook(chain=chain)
                self._book.snapshot(
                    int(snap["lastUpdateId"]),
                    [(float(p), float(q)) for p, q in snap["bids"]],
                    [(float(p), float(q)) for p, q in snap["asks"]],
                )
            book = self._book
            for raw in self.messages[self._applied : self.sent]:
                msg = orjson.loads(raw)
                if "@depth" in msg["stream"]:
                    d = msg["data"]
                    first, last = int(d["U"]), int(d["u"])
                    out = book.diff(
                        first,
                        last,
                        int(d.get("pu", first - 1)),
                        [(float(p), float(q)) for p, q in d["b"]],
                        [(float(p), float(q)) for p, q in d["a"]],
                    )
                    if out not in ("applied", "stale"):
                        self.problems.append(f"server book: diff {first}-{last} {out}")
            self._applied = self.sent
            bids, asks = book.top(1000)
            fmt = np.format_float_positional
            return orjson.dumps(
                {
                    "lastUpdateId": book.last_u,
                    "bids": [[fmt(p), fmt(q)] for p, q in bids],
                    "asks": [[fmt(p), fmt(q)] for p, q in asks],
                }
            )

    def _http_handler(self):
        from http.server import BaseHTTPRequestHandler

        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                if server.fail_first > 0:
                    server.fail_first -= 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if not self.path.startswith(server._depth_request):
                    self.send_error(404)
                    return
                body = server._snapshot_body()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                server.served += 1

            def log_message(self, *args):
                pass

        return Handler

    # ---------------------------------------------------------------- websocket

    async def _wait_served(self, k: int) -> None:
        deadline = time.monotonic() + 10
        while self.served < k:
            if time.monotonic() > deadline:
                self.problems.append(f"gate: snapshot {k} never requested")
                return
            await asyncio.sleep(0.002)

    async def _replay(self, ws) -> None:
        self.ws_paths.append(ws.request.path)
        first_connection = len(self.ws_paths) == 1
        n = 0
        while self.sent < len(self.messages):
            i = self.sent
            if i in self.gates:
                await self._wait_served(self.gates.pop(i))
            self.sent = i + 1
            if i in self.drop:
                continue
            await ws.send(self.messages[i].decode())
            n += 1
            if first_connection and self.close_after and n >= self.close_after:
                self.sent += self.skip_on_reconnect  # what happened while the client was away
                await ws.close()
                return
            if n % 64 == 0:
                await asyncio.sleep(0)
        if self.hold_open:
            await ws.wait_closed()

    async def _serve(self, ready: threading.Event) -> None:
        from websockets.asyncio.server import serve

        self._stop = asyncio.Event()
        async with serve(self._replay, "127.0.0.1", 0) as server:
            self.ws_port = server.sockets[0].getsockname()[1]
            ready.set()
            await self._stop.wait()

    def __enter__(self) -> ReplayServer:
        from http.server import ThreadingHTTPServer

        self._env = _bypass_proxies_for_loopback()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._http_handler())
        self.http_port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(
            target=lambda: self._loop.run_until_complete(self._serve(ready)),
            name="lobutils-replay",
            daemon=True,
        )
        self.thread.start()
        if not ready.wait(5):
            self.__exit__(None, None, None)
            raise RuntimeError("the replay websocket server did not start")
        return self

    def __exit__(self, *exc) -> None:
        if self.thread is not None:
            if self._stop is not None:
                self._loop.call_soon_threadsafe(self._stop.set)
            self.thread.join(5)
            if not self.thread.is_alive():
                self._loop.close()
            self.thread = None
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        for var, value in self._env.items():  # proxy settings as they were before __enter__
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
        self._env = {}


def _bypass_proxies_for_loopback() -> dict[str, str | None]:
    """Add 127.0.0.1 to ``NO_PROXY`` when a proxy is configured; returns the old values.

    The recorder's HTTP and websocket clients honour proxy variables, and a proxy cannot reach
    this machine's loopback servers.
    """
    names = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
    if not any(os.environ.get(n) for n in names):
        return {}
    old = {}
    for var in ("NO_PROXY", "no_proxy"):
        value = os.environ.get(var)
        if "127.0.0.1" not in (value or "").split(","):
            old[var] = value
            os.environ[var] = ",".join(x for x in (value, "127.0.0.1", "localhost") if x)
    return old


def _replay_symbol(messages: list[bytes]) -> str:
    """The one symbol of recorded combined-stream messages."""
    for raw in messages:
        name = _stream_name(raw)
        if name is None:
            try:
                name = orjson.loads(raw).get("stream")
            except (orjson.JSONDecodeError, AttributeError):
                name = None
        if name:
            return name.partition("@")[0]
    raise ValueError("no combined-stream message to replay")
