"""Clock sampling: known answers and no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lobutils.book.replay import reconstruct
from lobutils.book.sampling import grid_times, sample_clock, to_ns
from lobutils.data.binance import read_binance_recording
from lobutils.data.catalog import segment
from lobutils.schema import book_columns


def synthetic_frame(ts):
    """Synthetic book frame: the bid price at row i is 100 + i."""
    n = len(ts)
    data = {
        "ts": np.asarray(ts, np.int64),
        "local_ts": np.asarray(ts, np.int64) - 3,
        "update_id": np.arange(n),
    }
    data |= {
        "bid_px_1": 100.0 + np.arange(n),
        "bid_qty_1": np.ones(n),
        "ask_px_1": 200.0 + np.arange(n),
        "ask_qty_1": np.ones(n),
    }
    return pd.DataFrame(data)[book_columns(1)]


def test_state_at_exactly_grid_time_counts():
    f = synthetic_frame([1000, 2000, 2001])
    s = sample_clock(f, 1000, start=1000, end=3000)
    assert s.bid_px_1.tolist() == [100.0, 101.0, 102.0]
    assert s.state_ts.tolist() == [1000, 2000, 2001]
    assert s.local_ts.tolist() == [997, 1997, 1998]


@settings(max_examples=100, deadline=None)
@given(
    gaps=st.lists(st.integers(0, 2500), min_size=1, max_size=60),
    every=st.integers(100, 3000),
    cut=st.integers(0, 100_000),
)
def test_no_look_ahead(gaps, every, cut):
    """Synthetic frames: truncating the input after time t leaves every grid row <= t unchanged."""
    ts = np.cumsum(gaps)
    f = synthetic_frame(ts)
    full = sample_clock(f, every, start=0, end=int(ts[-1]))
    kept = f[f.ts <= cut]
    if len(kept) == 0:
        return
    part = sample_clock(kept, every, start=0, end=min(cut, int(ts[-1])))
    upto = full[full.ts <= min(cut, int(ts[-1]))].reset_index(drop=True)
    pd.testing.assert_frame_equal(part, upto)
    # and the value at each grid time is the last state at or before it, found by brute force
    for g, px in zip(full.ts, full.bid_px_1, strict=True):
        prior = np.flatnonzero(ts <= g)
        expect = 100.0 + prior[-1] if len(prior) else np.nan
        assert px == expect or (np.isnan(px) and np.isnan(expect))


def test_grid_on_real_book_is_regular_and_causal():
    book = reconstruct(read_binance_recording(segment("spot_ethusdt").files), levels=5)
    s = sample_clock(book.frame, "100ms")
    assert (np.diff(s.ts) == 100_000_000).all()
    assert (s.state_ts <= s.ts).all()
    assert s.bid_px_1.notna().all()
    assert set(book_columns(5)) <= set(s.columns)


def test_bad_arguments():
    with pytest.raises(ValueError, match="not a duration"):
        to_ns("soon")
    with pytest.raises(ValueError, match="positive"):
        to_ns(0)
    with pytest.raises(ValueError, match="not ordered"):
        sample_clock(synthetic_frame([5, 3]), 1)
    with pytest.raises(ValueError, match="not a book frame"):
        sample_clock(pd.DataFrame({"ts": [1]}), 1)
    assert grid_times(10, 5, 1).size == 0
