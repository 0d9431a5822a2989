"""Trading: what a signal is worth once it meets the book.

Every stage asks the market's :class:`lobutils.markets.Instrument` (contract value, maker and
taker fees) what a fill is worth; none branches on the contract type itself.

:mod:`lobutils.trading.backtest`
    The event-driven backtest that walks the book (latency, fees, position limits), taker or
    maker, and its benchmarks (holding, random, perfect foresight).
:mod:`lobutils.trading.execution`
    Optimal liquidation: Almgren-Chriss against TWAP, VWAP and a predictive schedule.
:mod:`lobutils.trading.study`
    A backtest chapter's steps: markets, classical and DeepLOB signals, runs next to the
    benchmarks, equity, costs, ranks and intervals per trip (chapter 8).
:mod:`lobutils.trading.liquidation`
    The liquidation study over markets: estimates, frontier, schedules against TWAP
    (chapter 9).
:mod:`lobutils.trading.verdicts`
    The sentences that read those tables.
:mod:`lobutils.trading.tables`
    Narrow, formatted tables for the page.

The backtest and execution share the numba kernels in ``_kernels``, each beside a pure-Python
reference.
"""

__all__ = []
