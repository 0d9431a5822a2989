"""Network tools that give up: ``record`` and ``collect`` stop on permanent errors at once,
retry transient ones for at most ``--max-retry-time`` seconds, exit non-zero when they wrote
nothing, and exit promptly on SIGTERM.

No real network: the servers are loopback ones (:class:`~lobutils.acquire.replay_server.ReplayServer`
with a synthetic one-message stream), and "no network" is a loopback port nobody listens on.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lobutils.acquire.collect import collect, make_exchange
from lobutils.acquire.recorder import RecorderConfig, permanent_error
from lobutils.acquire.replay_server import ReplayServer
from lobutils.runner.cli import main

REPO = Path(__file__).resolve().parents[1]

# synthetic: one trade message (never sent, see ``drop``) and an empty snapshot
TRADE = (
    b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255208,"s":"BTCUSDT",'
    b'"t":1,"p":"60000.0","q":"0.001","T":1723161255208,"m":true}}'
)
SNAPSHOT = b'{"lastUpdateId":1,"bids":[],"asks":[]}'


def _closed_port() -> int:
    """A loopback port nobody listens on: connections to it are refused (no network)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _silent_server() -> ReplayServer:
    """A loopback Binance that accepts the websocket, serves snapshots and sends no message."""
    return ReplayServer([TRADE], SNAPSHOT, "spot", gates={}, drop={0}, hold_open=True)


def _run(capsys, *argv) -> tuple[int, str, str]:
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def _error_line(err: str) -> str:
    """The one ``error:`` line of stderr (log lines may come before it), without a traceback."""
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ": error: " in ln]
    assert len(lines) == 1, err
    return lines[0]


def _resolves_not(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 9)
    except socket.gaierror as exc:
        return permanent_error(exc) is not None
    return False


NO_HOST = "no-such-host.invalid"  # RFC 6761: never resolves
needs_nxdomain = pytest.mark.skipif(
    not _resolves_not(NO_HOST), reason="this machine's resolver does not answer 'no such name'"
)


# --------------------------------------------------------------------------- record


def test_record_without_network_gives_up_after_max_retry_time(tmp_path, capsys):
    url = f"ws://127.0.0.1:{_closed_port()}"
    t0 = time.monotonic()
    rc, _, err = _run(
        capsys, "record", "btcusdt", "--ws-url", url, "--rest-url", url.replace("ws", "http"),
        "--out", tmp_path, "--max-retry-time", "1", "--status-interval", "0",
    )  # fmt: skip
    assert rc == 1 and time.monotonic() - t0 < 8
    line = _error_line(err)
    assert (
        "gave up after" in line
        and "max_retry_time 1 s" in line
        and "connect call failed" in line.lower()
    )


@pytest.mark.parametrize(
    "url, expect",
    [
        ("file:///etc/passwd", "the URL must start with ws:// or wss://"),
        ("not a url", "the URL must start with ws:// or wss://"),
        ("ws://127.0.0.1:notaport", "the URL must start with ws:// or wss://"),
    ],
)
def test_record_refuses_a_bad_url_at_once(tmp_path, capsys, url, expect):
    t0 = time.monotonic()
    rc, _, err = _run(capsys, "record", "btcusdt", "--ws-url", url, "--out", tmp_path)
    assert rc == 1 and expect in _error_line(err) and time.monotonic() - t0 < 2


@needs_nxdomain
def test_record_stops_at_once_on_a_name_that_does_not_resolve(tmp_path, capsys):
    t0 = time.monotonic()
    rc, _, err = _run(
        capsys, "record", "btcusdt", "--ws-url", f"ws://{NO_HOST}:9", "--out", tmp_path,
        "--max-retry-time", "60", "--status-interval", "0",
    )  # fmt: skip
    line = _error_line(err)
    assert rc == 1 and "does not resolve" in line and "not retrying" in line
    assert time.monotonic() - t0 < 5  # long before --max-retry-time


def test_record_stops_at_once_when_the_snapshot_is_refused(tmp_path, capsys):
    # the loopback server knows btcusdt only: the snapshot request for ethusdt is HTTP 404
    with _silent_server() as fake:
        rc, _, err = _run(
            capsys, "record", "ethusdt", "--ws-url", fake.ws_url, "--rest-url", fake.rest_url,
            "--out", tmp_path, "--max-retry-time", "60", "--status-interval", "0",
        )  # fmt: skip
    line = _error_line(err)
    assert rc == 1 and "HTTP 404" in line and "not retrying" in line
    assert len(fake.requests) == 1


def test_record_that_wrote_no_message_exits_non_zero(tmp_path, capsys):
    with _silent_server() as fake:
        rc, out, err = _run(
            capsys, "record", "btcusdt", "--ws-url", fake.ws_url, "--rest-url", fake.rest_url,
            "--out", tmp_path, "--duration", "1", "--status-interval", "0", "--json",
        )  # fmt: skip
    assert rc == 1 and "recorded 0 messages" in _error_line(err)
    assert '"messages": 0' in out and '"stopped_by": "max_seconds"' in out


@pytest.mark.parametrize(
    "argv, expect",
    [
        (["--duration", "-1"], "--duration: must be positive, got -1"),
        (["--duration", "0"], "--duration: must be positive, got 0"),
        (["--max-messages", "0"], "--max-messages: must be positive, got 0"),
        (["--max-retry-time", "-5"], "--max-retry-time: must be positive, got -5"),
    ],
)
def test_record_limits_must_be_positive(capsys, argv, expect):
    rc, _, err = _run(capsys, "record", "btcusdt", *argv)
    assert rc == 2 and expect in err


def test_recorder_config_checks_limits_and_urls():
    with pytest.raises(ValueError, match="max_seconds must be positive, got -1"):
        RecorderConfig(("btcusdt",), max_seconds=-1)
    with pytest.raises(ValueError, match="rest_url 'file:///x': the URL must start with http"):
        RecorderConfig(("btcusdt",), rest_url="file:///x")


def _sigterm_while_retrying(argv, retrying: str) -> tuple[int, str, float]:
    """Start ``python -m lobutils *argv``, SIGTERM it once it retries; exit status, stderr,
    seconds from the signal to its exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lobutils", *map(str, argv)],
        cwd=REPO,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # wait until it is in its retry loop
            line = proc.stderr.readline()
            if retrying in line or not line:
                break
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=8)
        return proc.returncode, err, time.monotonic() - t0
    finally:
        proc.kill()
        proc.wait()


def test_record_exits_promptly_on_sigterm_while_retrying(tmp_path):
    url = f"ws://127.0.0.1:{_closed_port()}"
    rc, err, seconds = _sigterm_while_retrying(
        ["record", "btcusdt", "--ws-url", url, "--out", tmp_path, "--status-interval", "0"],
        "reconnecting in",
    )
    assert seconds < 3
    assert rc == 1 and "recorded 0 messages" in err and "(stopped by SIGTERM)" in err


# --------------------------------------------------------------------------- collect


def test_collect_without_network_gives_up_after_max_retry_time(tmp_path, capsys):
    t0 = time.monotonic()
    rc, _, err = _run(
        capsys, "collect", "BTC/USDT", "--api-url", f"http://127.0.0.1:{_closed_port()}",
        "--out", tmp_path, "--interval", "0", "--max-retry-time", "1", "--json",
    )  # fmt: skip
    line = _error_line(err)
    assert rc == 1 and "bybit: gave up after" in line and "max_retry_time 1 s" in line
    assert time.monotonic() - t0 < 9


@needs_nxdomain
def test_collect_stops_at_once_on_a_name_that_does_not_resolve(tmp_path):
    ex = make_exchange("bybit", api_url=f"http://{NO_HOST}:9", config={"rateLimit": 1})
    t0 = time.monotonic()
    with pytest.raises(ConnectionError, match="does not resolve.*not retrying"):
        collect(ex, "BTC/USDT", interval=0, out_dir=tmp_path, progress=False, backoff=0.5)
    assert time.monotonic() - t0 < 3  # not even one retry


@pytest.mark.parametrize(
    "argv, expect",
    [
        (["--api-url", "file:///etc"], "api_url 'file:///etc': the URL must start with http://"),
    ],
)
def test_collect_refuses_a_bad_url(tmp_path, capsys, argv, expect):
    rc, _, err = _run(capsys, "collect", "BTC/USDT", "--out", tmp_path, *argv)
    assert rc == 1 and expect in _error_line(err)


@pytest.mark.parametrize("arg", ["--polls", "--duration", "--max-retry-time"])
def test_collect_limits_must_be_positive(capsys, arg):
    rc, _, err = _run(capsys, "collect", "BTC/USDT", arg, "0")
    assert rc == 2 and f"{arg}: must be positive, got 0" in err


def test_collect_library_checks_limits(tmp_path):
    ex = make_exchange("bybit", api_url="http://127.0.0.1:9", config={"rateLimit": 1})
    with pytest.raises(ValueError, match="duration must be positive, got -1"):
        collect(ex, "BTC/USDT", duration=-1, out_dir=tmp_path, progress=False)


def test_collect_exits_promptly_on_sigterm_while_retrying(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}"
    rc, err, seconds = _sigterm_while_retrying(
        ["collect", "BTC/USDT", "--api-url", url, "--out", tmp_path, "--json"], "retry 1 of"
    )
    assert seconds < 3
    assert rc == 1 and "collected 0 books" in err and "(stopped by SIGTERM)" in err


def test_record_that_cannot_write_its_file_is_one_line(tmp_path, capsys):
    from lobutils.acquire.recorder import file_name

    # the file the first snapshot goes to is a directory: writing fails, the run stops
    (tmp_path / file_name("spot", "btcusdt", time.time_ns())).mkdir()
    with _silent_server() as fake:
        rc, _, err = _run(
            capsys, "record", "btcusdt", "--ws-url", fake.ws_url, "--rest-url", fake.rest_url,
            "--out", tmp_path, "--duration", "5", "--status-interval", "0",
        )  # fmt: skip
    line = _error_line(err)
    assert rc == 1 and "recording stopped" in line and "Is a directory" in line


def test_record_inside_an_event_loop_raises_its_error_too(tmp_path):
    # a notebook runs record() in a worker thread: its failure must not be swallowed
    from lobutils.acquire.recorder import record

    url = f"ws://127.0.0.1:{_closed_port()}"

    async def in_a_loop():
        return record("btcusdt", ws_url=url, out_dir=tmp_path, max_retry_time=0.5,
                      backoff_initial=0.05, status_interval=0)  # fmt: skip

    with pytest.raises(ConnectionError, match="gave up after"):
        asyncio.run(in_a_loop())
