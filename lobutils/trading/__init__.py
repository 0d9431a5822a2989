"""Trading: what a signal is worth once it meets the book.

:mod:`lobutils.trading.backtest`
    The event-driven taker backtest that walks the book (latency, fees, position limits).
:mod:`lobutils.trading.execution`
    Optimal liquidation: Almgren-Chriss against TWAP, VWAP and a predictive schedule.

Both share the numba kernels in ``_kernels``, each beside a pure-Python reference.
"""
