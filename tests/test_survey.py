"""lobutils.book.survey: the first-look tables of chapter 1."""

import numpy as np
import pandas as pd
import pytest

from lobutils.book import survey
from lobutils.data import read_binance_recording, segments


@pytest.fixture(scope="module")
def recs():
    """Two bundled segments: one spot, one futures."""
    chosen = [s for s in segments() if s.name in ("spot_btcusdt", "usdm_btcusdt")]
    return {s.name: read_binance_recording(s.files) for s in chosen}


def test_chain_table_uses_each_markets_rule(recs):
    chains, steps = survey.chain_table(recs)
    assert chains.loc["spot_btcusdt", "rule"] == "U == prev_u + 1"
    assert chains.loc["usdm_btcusdt", "rule"] == "pu == prev_u"
    assert (chains["chain breaks"] == 0).all()
    # spot ids are contiguous: every step is 1; futures ids are shared, the step almost never is
    assert (steps["spot_btcusdt"] == 1).all()
    assert chains.loc["usdm_btcusdt", "step = 1 (share)"] < 0.1


def test_message_counts_rates_divide_by_the_span(recs):
    counts = survey.message_counts(recs)
    row = counts.loc["spot_btcusdt"]
    assert row["diffs/s"] == pytest.approx(row["diffs"] / row["span (s)"], abs=0.05)
    assert row["median gap between diffs (ms)"] == pytest.approx(100, abs=5)  # depth@100ms


def test_trade_values_and_table():
    # synthetic trades: two buys and one sell
    trades = pd.DataFrame({"price": [100.0, 100.0, 100.0], "qty": [1.0, 3.0, 1.0]})
    v = survey.trade_values("usdm", trades, None)
    np.testing.assert_array_equal(v, [100.0, 300.0, 100.0])
    assert np.isnan(survey.trade_values("cm", trades, None)).all()

    class Rec:
        pass

    rec = Rec()
    rec.trades = trades.assign(side=[1, 1, -1])
    table = survey.trade_table({"x": rec}, {"x": v})
    assert table.loc["x", "buys (trades)"] == pytest.approx(0.667)
    assert table.loc["x", "buys (value)"] == pytest.approx(0.8)
    assert table["trades"].dtype.kind == "i"


def test_states_equal_treats_nan_as_equal_and_joins_on_the_key():
    a = pd.DataFrame({"k": [1, 2, 3], "x": [1.0, np.nan, 3.0]})
    b = pd.DataFrame({"k": [2, 3, 4], "x": [np.nan, 4.0, 5.0]})
    assert survey.states_equal(a, b, "k", ["x"]).tolist() == [True, False]


def test_polling_table_counts_changes_seen_on_a_grid():
    s = 1_000_000_000
    # synthetic book: the best bid changes 4 times within the first second, once after
    frame = pd.DataFrame(
        {
            "ts": np.array([0, 0.1, 0.2, 0.3, 0.4, 1.5]) * s,
            "local_ts": np.array([0, 0.1, 0.2, 0.3, 0.4, 1.5]) * s,
            "update_id": np.arange(6),
            "bid_px_1": [1.0, 2.0, 1.0, 2.0, 1.0, 3.0],
            "bid_qty_1": 1.0,
            "ask_px_1": 4.0,
            "ask_qty_1": 1.0,
        }
    ).astype({"ts": "int64", "local_ts": "int64"})
    t = survey.polling_table({"m": frame}, "1s")
    assert t.loc["m", "top changes"] == 5 and t.loc["m", "price changes"] == 5
    assert t.loc["m", "seen"] < 5
    start, n = survey.busiest_window(frame.ts.to_numpy(), frame.bid_px_1.to_numpy(), 1)
    assert (start, n) == (0, 4)
