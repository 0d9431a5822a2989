"""Acquisition: getting market data onto disk.

Nothing in the rest of the package imports this stage; it writes files that the data layer
(:mod:`lobutils.data`) reads.

:mod:`lobutils.acquire.record`
    The live Binance websocket recorder (depth diffs, trades, ``bookTicker``, in-line REST
    snapshots) and a loopback replay server that serves recorded files as a fake exchange.
:mod:`lobutils.acquire.collect`
    Polling any ccxt exchange for order books and trades, ranking symbols by volume, and
    redacting API keys from everything printed.
:mod:`lobutils.acquire.download`
    Resumable, checksummed downloads of exchange archives (Binance data.vision, Bybit,
    Tardis.dev).

The submodules import their network libraries (websockets, ccxt) only when used.
"""
