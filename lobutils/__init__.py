"""lobutils: the numeric core of the limit order book research book.

The package follows the pipeline, one subpackage per stage. Each stage imports only the stages
above it in this list, so the tree reads top to bottom:

=============================  ===============================================================
module                         what lives there
=============================  ===============================================================
:mod:`lobutils.schema`         the event schema every reader produces, book column names,
                               the book-as-arrays type
:mod:`lobutils.markets`        instruments: linear or inverse, contract value
:mod:`lobutils.paths`          where data and reports live (environment overrides), atomic
                               writes, ``metrics.json``
:mod:`lobutils.data`           recordings on disk (segments, checksums), the Binance recording
                               reader, exchange archives (data.vision, Bybit, Tardis), the
                               parquet lake
:mod:`lobutils.book`           exact L2 reconstruction, the pure-Python reference book, clock
                               sampling, one market loaded for features
:mod:`lobutils.features`       causal book and trade features, targets and the leakage audit,
                               stationarity tests, the modelling table
:mod:`lobutils.evaluation`     chronological splits, naive baselines, metrics, block bootstrap,
                               P&L, result tables
:mod:`lobutils.models`         the classical zoo, DeepLOB and its variants, windows, studies,
                               per-market against pooled, volume forecasting, FI-2010
:mod:`lobutils.trading`        the taker backtest that walks the book, optimal execution
:mod:`lobutils.acquire`        getting data: the live recorder, ccxt polling, archive downloads
                               (writes files that :mod:`lobutils.data` reads; nothing imports it)
:mod:`lobutils.plots`          Plotly figures, one module per topic (chapters and runner only)
:mod:`lobutils.report`         the chapters' generated prose and display settings
:mod:`lobutils.runner`         the chapter runner (papermill), Dask batch grids, the command line
=============================  ===============================================================

Numba kernels live in private ``_*kernels.py`` modules beside the public function that
validates their input, and each has a pure-Python reference that the tests compare it with.

Examples
--------
>>> from lobutils.data import segment, read_binance_recording
>>> from lobutils.book import reconstruct
>>> seg = segment("cm_btcusd_perp")
>>> book = reconstruct(read_binance_recording(seg.files), levels=5).frame
>>> int(book["bid_px_1"].lt(book["ask_px_1"]).all())
1
"""

__all__ = []
