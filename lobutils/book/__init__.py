"""Stage 2, the order book: exact L2 reconstruction from depth events.

:mod:`lobutils.book.replay`
    The replay engine: snapshot/diff synchronisation, gap handling, the event-time book frame,
    the ``bookTicker`` check (numba kernels in ``_replay_kernels``), and
    :class:`~lobutils.book.replay.ReferenceBook`, the pure-Python book it is tested against.
:mod:`lobutils.book.sampling`
    Event time to clock time: the book on a regular grid, never looking ahead.
:mod:`lobutils.book.market`
    One recorded market ready for features: read, replay, sample, contract value.
:mod:`lobutils.book.diagnostics`
    What a replay tells about its data: the ``bookTicker`` check summarised, gaps, the damage
    a lost message does, staleness of the clock grid (chapter 2).
:mod:`lobutils.book.survey`
    A first measured look at recordings (chapter 1): message counts and rates, update-id
    chains, the two clocks, trades, books rebuilt from different sources side by side.
:mod:`lobutils.book.export`
    Book frames written in other formats (Tardis ``incremental_book_L2`` CSV), through the
    reference replay.

The most used names are importable from here:

>>> from lobutils.book import reconstruct, sample_clock
"""

from lobutils.book.replay import (
    CROSSED,
    INVALID,
    VALID,
    Book,
    BookError,
    ReferenceBook,
    check_bbo,
    price_grid,
    reconstruct,
)
from lobutils.book.sampling import grid_times, sample_clock, to_ns

__all__ = [
    "CROSSED",
    "INVALID",
    "VALID",
    "Book",
    "BookError",
    "ReferenceBook",
    "check_bbo",
    "grid_times",
    "price_grid",
    "reconstruct",
    "sample_clock",
    "to_ns",
]
