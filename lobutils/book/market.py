"""One recorded market, ready for features: the book in event time and on a clock grid.

Chapters 3 to 5 all start the same way: read a segment's recording, replay its book, sample
the book on a clock grid, and look up how a quantity converts to quote currency. This module
does those four steps once, so that no chapter repeats them.

Examples
--------
>>> from lobutils.data.catalog import segment
>>> m = load_market(segment("cm_btcusd_perp"), levels=5, grid="1s")
>>> m.name, m.contract_value, m.clock.shape[0] > 600
('cm_btcusd_perp', 100.0, True)
>>> bool((m.clock["ts"].diff().dropna() == 1_000_000_000).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from lobutils.book import replay as _book
from lobutils.book import sampling as _sampling
from lobutils.data import binance as _io
from lobutils.data.catalog import Segment
from lobutils.markets import contract_value

__all__ = ["Market", "contract_value", "load_market"]


@dataclass(frozen=True, eq=False)
class Market:
    """A segment's recording and its book, in event time and in clock time.

    Attributes
    ----------
    name, market, symbol : str
        From the :class:`~lobutils.data.catalog.Segment` (``"cm_btcusd_perp"``, ``"cm"``,
        ``"btcusd_perp"``).
    contract_value : float or None
        See :func:`contract_value`.
    recording : lobutils.data.binance.Recording
        Depth, trades and quotes; ``recording.trades`` feeds the trade features.
    events : pandas.DataFrame
        The book frame after every applied diff (event time).
    clock : pandas.DataFrame
        The book on the clock grid: the last state at or before each grid time.
    grid : str
        The grid step, e.g. ``"1s"``.
    """

    name: str
    market: str
    symbol: str
    contract_value: float | None
    recording: _io.Recording
    events: pd.DataFrame
    clock: pd.DataFrame
    grid: str

    @property
    def trades(self) -> pd.DataFrame:
        """The trades table (``ts, price, qty, side, ...``)."""
        return self.recording.trades


def load_market(segment: Segment, levels: int = 10, grid: str = "1s") -> Market:
    """Read a segment, replay its top ``levels`` levels, and sample them every ``grid``.

    Parameters
    ----------
    segment : lobutils.data.catalog.Segment
        The recording segment (see :func:`lobutils.data.catalog.segment`).
    levels : int
        Levels per side kept in the book frames.
    grid : str
        Clock-grid step for :func:`lobutils.book.sampling.sample_clock` (``"100ms"``, ``"1s"``).

    Returns
    -------
    Market
        The recording, its valid book states in event time, and the book on the clock grid
        (NaN levels across gaps).
    """
    rec = _io.read_binance_recording(segment.files)
    book = _book.reconstruct(rec, levels=levels, include_invalid=True).frame
    valid = book["status"].to_numpy() == _book.VALID
    events = book[valid].drop(columns="status").reset_index(drop=True)
    clock = _sampling.sample_clock(book, grid)  # NaN across gaps: never bridged
    return Market(
        name=segment.name,
        market=segment.market,
        symbol=segment.symbol,
        contract_value=contract_value(segment.market, segment.symbol),
        recording=rec,
        events=events,
        clock=clock,
        grid=grid,
    )
