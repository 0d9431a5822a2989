"""Acquisition: getting market data onto disk.

Nothing in the rest of the package imports this stage; it writes files that the data layer
(:mod:`lobutils.data`) reads.

:mod:`lobutils.acquire.recorder`
    The live Binance websocket recorder (depth diffs, trades, ``bookTicker``, in-line REST
    snapshots).
:mod:`lobutils.acquire.replay_server`
    A loopback replay server that serves recorded files as a fake exchange, so the recorder runs
    offline.
:mod:`lobutils.acquire.collect`
    Polling any ccxt exchange for order books and trades into parquet parts.
:mod:`lobutils.acquire.polls`
    ccxt books and trades in the event schema, and the checks that reject bad ones.
:mod:`lobutils.acquire.rank`
    Ranking an exchange's symbols by average daily quote volume.
:mod:`lobutils.acquire.redact`
    API keys from the environment only, masked in everything printed or logged.
:mod:`lobutils.acquire.download`
    Resumable, checksummed downloads of exchange archives (Binance data.vision, Bybit,
    Tardis.dev).

The submodules import their network libraries (websockets, ccxt) only when used. Their command
line (``record``, ``collect``, ``rank``) is :mod:`lobutils.runner.cli_acquire`.
"""

__all__ = []
