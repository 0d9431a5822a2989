"""Stage 1, the data layer: raw exchange files in, the event schema out.

Everything downstream (the book, features, models) reads market data through this package
and sees the same typed frames (:mod:`lobutils.schema`), whatever the source.

:mod:`lobutils.data.catalog`
    Recording *segments* on disk (one uninterrupted stream of one market, in daily or hourly
    files) and checksum verification.
:mod:`lobutils.data.binance`
    The reader of Binance combined-stream recordings (the bundled data and the book's own
    recorder), with its numba byte parser in ``_binance_kernels`` and a pure-Python reference.
:mod:`lobutils.data.archives`
    Readers of exchange archives: Binance data.vision, Bybit ``ob200``/``ob500``, Tardis.dev CSV.
:mod:`lobutils.data.lake`
    The parquet lake: atomic, partitioned, checksummed storage of any reader's output.

The most used names are importable from here:

>>> from lobutils.data import segment
>>> segment("spot_btcusdt").market
'spot'
"""

from lobutils.data.binance import Recording, RecordingError, read_binance_recording
from lobutils.data.catalog import Segment, segment, segments, verify_checksums

__all__ = [
    "Recording",
    "RecordingError",
    "Segment",
    "read_binance_recording",
    "segment",
    "segments",
    "verify_checksums",
]
