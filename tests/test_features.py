"""Tests of lobutils.features.core. All books and trades here are synthetic (built by hand or by a
seeded generator below), so every expected value is known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lobutils.features import _kernels as _k
from lobutils.features import core as F
from lobutils.schema import book_columns

S = 1_000_000_000  # one second in ns

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------
# synthetic data
# --------------------------------------------------------------------------------------


def synthetic_book(n: int = 400, levels: int = 5, seed: int = 0):
    """A synthetic event-time book: a random-walk mid on a 0.5 tick, random sizes, some
    missing deep levels, some repeated timestamps. Returns (ts, bid_px, bid_qty, ask_px,
    ask_qty)."""
    rng = np.random.default_rng(seed)
    tick = 0.5
    best_bid = 1000.0 + tick * np.cumsum(rng.integers(-1, 2, n))
    spread_ticks = rng.integers(1, 3, n)
    offsets = tick * np.arange(levels)
    bid_px = best_bid[:, None] - offsets
    ask_px = (best_bid + tick * spread_ticks)[:, None] + offsets
    bid_qty = rng.exponential(2.0, (n, levels)).round(3) + 0.001
    ask_qty = rng.exponential(2.0, (n, levels)).round(3) + 0.001
    # missing deep levels on some rows (NaN price, zero quantity)
    for px, qty in ((bid_px, bid_qty), (ask_px, ask_qty)):
        rows = rng.random(n) < 0.1
        px[rows, levels - 1] = np.nan
        qty[rows, levels - 1] = 0.0
    gaps = rng.choice([0, 0, 50_000_000, 200_000_000, 1 * S], size=n)
    ts = 1_723_161_600 * S + np.cumsum(gaps).astype(np.int64)  # 2024-08-09 00:00 UTC
    return ts, bid_px, bid_qty, ask_px, ask_qty


def synthetic_trades(ts_book: np.ndarray, n: int = 300, seed: int = 1):
    rng = np.random.default_rng(seed)
    span = int(ts_book[-1] - ts_book[0])
    ts = np.sort(ts_book[0] - 5 * S + rng.integers(0, span + 10 * S, n)).astype(np.int64)
    price = 1000.0 + rng.normal(0, 2, n)
    qty = rng.exponential(0.5, n).round(4) + 0.0001
    side = rng.choice([-1, 1], n).astype(np.int8)
    return ts, price, qty, side


def book_frame(ts, bid_px, bid_qty, ask_px, ask_qty) -> pd.DataFrame:
    levels = bid_px.shape[1]
    data = np.column_stack([ts, ts, np.arange(ts.size), bid_px, bid_qty, ask_px, ask_qty])
    frame = pd.DataFrame(data, columns=book_columns(levels))
    for c in ("ts", "local_ts", "update_id"):
        frame[c] = frame[c].astype(np.int64)
    frame["ts"] = ts  # exact int64, not through float
    frame["local_ts"] = ts
    return frame


def trades_frame(ts, price, qty, side) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": ts,
            "local_ts": ts,
            "trade_id": np.arange(ts.size),
            "price": price,
            "qty": qty,
            "side": side,
            "line": np.arange(ts.size),
        }
    )


# The 3-level synthetic book of the known-answer tests:
#   bid 100 x 1, 99 x 2, 98 x 3     ask 101 x 1, 102 x 1, 103 x 2
BOOK3 = (
    np.array([[100.0, 99.0, 98.0]]),
    np.array([[1.0, 2.0, 3.0]]),
    np.array([[101.0, 102.0, 103.0]]),
    np.array([[1.0, 1.0, 2.0]]),
)


# --------------------------------------------------------------------------------------
# basics
# --------------------------------------------------------------------------------------


def test_basics_known_answers():
    bp, bq, ap, aq = BOOK3
    assert F.mid(bp, ap).tolist() == [100.5]
    assert F.spread(bp, ap).tolist() == [1.0]
    assert F.spread_bps(bp, ap)[0] == pytest.approx(1e4 / 100.5)
    # microprice = (100 * 1 + 101 * 1) / 2 with equal best sizes
    assert F.microprice(bp, bq, ap, aq)[0] == pytest.approx(100.5)
    # bid 100 x 3, ask 101 x 1: (100 * 1 + 101 * 3) / 4 = 100.75
    assert F.microprice([100.0], [3.0], [101.0], [1.0])[0] == pytest.approx(100.75)
    assert F.depth(bq).tolist() == [6.0]
    assert F.depth(bq, levels=2).tolist() == [3.0]
    assert F.cumulative_depth(aq).tolist() == [[1.0, 2.0, 4.0]]
    assert F.quote_value(bp, bq).tolist() == [[100.0, 198.0, 294.0]]
    assert F.quote_value(bp, bq, contract_value=10.0).tolist() == [[10.0, 20.0, 30.0]]


def test_one_sided_book_gives_nan():
    bp = np.array([[np.nan, np.nan]])
    bq = np.array([[0.0, 0.0]])
    ap = np.array([[101.0, 102.0]])
    aq = np.array([[1.0, 1.0]])
    assert np.isnan(F.mid(bp, ap)[0])
    assert np.isnan(F.spread_bps(bp, ap)[0])
    assert np.isnan(F.microprice(bp, bq, ap, aq)[0])
    assert F.quote_imbalance(bq, aq, levels=2).tolist() == [-1.0]


def test_quote_imbalance_levels():
    bp, bq, ap, aq = BOOK3
    # k = 1: (1 - 1) / 2 = 0; k = 3: (6 - 4) / 10 = 0.2
    assert F.quote_imbalance(bq, aq, levels=1).tolist() == [0.0]
    assert F.quote_imbalance(bq, aq, levels=3).tolist() == [pytest.approx(0.2)]
    with pytest.raises(ValueError, match="only 3 levels"):
        F.quote_imbalance(bq, aq, levels=5)
    assert np.isnan(F.quote_imbalance([[0.0]], [[0.0]], levels=1)[0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bid_qty": [[-1.0, 2.0, 3.0]]}, "bid_qty must be finite and >= 0"),
        ({"ask_qty": [[1.0, np.nan, 2.0]]}, "ask_qty must be finite"),
        ({"bid_px": [[100.0, np.nan, 98.0]]}, "bid_px must be finite and > 0"),
        ({"ask_px": [[101.0, 102.0]]}, "same shape"),
    ],
)
def test_book_validation_messages(kwargs, match):
    bp, bq, ap, aq = BOOK3
    args = {"bid_px": bp, "bid_qty": bq, "ask_px": ap, "ask_qty": aq} | kwargs
    with pytest.raises(ValueError, match=match):
        F.ofi_contributions(**args, levels=2 if "ask_px" in kwargs else 3)


def test_input_type_errors():
    with pytest.raises(ValueError, match="numeric"):
        F.mid(np.array(["a"]), np.array(["b"]))
    with pytest.raises(ValueError, match=r"shape \(N, L\)"):
        F.depth(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="positive integer"):
        F.depth(np.ones((2, 2)), levels=0)
    with pytest.raises(ValueError, match="int64 nanoseconds"):
        F.time_of_day(np.array([1.5]))


# --------------------------------------------------------------------------------------
# VAMP
# --------------------------------------------------------------------------------------


def test_vamp_three_level_known_answer():
    """Hand computation on the 3-level book (linear market), cutoff v = 300 USD.

    Bid: level values 100, 198, 294 (cumulative 100, 298, 592). Levels 1 and 2 are taken
    whole (100 + 198 = 298 USD for 1 + 2 = 3 units); the last 2 USD come from level 3 at 98,
    i.e. 2/98 = 1/49 units. Base received: 3 + 1/49 = 148/49. Average price:
    300 / (148/49) = 14700/148 = 3675/37 = 99.324324...

    Ask: values 101, 102, 206 (cumulative 101, 203, 409). Levels 1 and 2 whole (203 USD
    for 2 units), then 97 USD at 103 = 97/103 units. Base: 2 + 97/103 = 303/103. Average
    price: 300 * 103 / 303 = 10300/101 = 101.980198...

    VAMP = (3675/37 + 10300/101) / 2 = 100.652261...; mid = 100.5; mid - VAMP = -0.152261...
    """
    bid_side, ask_side = 3675 / 37, 10300 / 101
    r = F.vamp_detail(*BOOK3, cutoff=300.0)
    assert r.bid[0] == pytest.approx(bid_side, rel=1e-12)
    assert r.ask[0] == pytest.approx(ask_side, rel=1e-12)
    assert r.vamp[0] == pytest.approx((bid_side + ask_side) / 2, rel=1e-12)
    assert r.n_insufficient == 0
    assert F.vamp(*BOOK3, cutoff=300.0)[0] == pytest.approx(100.65226, abs=1e-5)
    assert F.mid_minus_vamp(*BOOK3, cutoff=300.0)[0] == pytest.approx(
        100.5 - (bid_side + ask_side) / 2, rel=1e-12
    )


def test_vamp_insufficient_depth_is_nan_and_counted():
    """Cutoff 500: the bid side holds 592 USD (enough: 3 units for 298 USD, then 202/98
    units at 98, price 500 / (3 + 202/98) = 98.7903...); the ask side holds only 409 USD:
    NaN, counted, never extrapolated."""
    r = F.vamp_detail(*BOOK3, cutoff=500.0)
    assert r.bid[0] == pytest.approx(500 / (3 + 202 / 98), rel=1e-12)
    assert np.isnan(r.ask[0]) and np.isnan(r.vamp[0])
    assert r.ask_insufficient.tolist() == [True]
    assert r.bid_insufficient.tolist() == [False]
    assert r.n_insufficient == 1
    # exactly enough depth is sufficient: the bid side's whole book is worth 592 USD
    assert not F.vamp_detail(*BOOK3, cutoff=592.0).bid_insufficient[0]


def test_vamp_inverse_contracts():
    """COIN-M style book, 10 USD per contract, cutoff 120 USD.

    Bid: 100 x 5 contracts (50 USD = 0.5 coin), 99 x 10 contracts (100 USD). Take level 1
    whole (50 USD, 0.5 coin) and 70 USD at 99 (70/99 coin). Price = 120 / (0.5 + 70/99).
    Ask: 101 x 20 contracts (200 USD): all 120 USD at 101, price 101.
    """
    bp, bq = np.array([[100.0, 99.0]]), np.array([[5.0, 10.0]])
    ap, aq = np.array([[101.0, 102.0]]), np.array([[20.0, 1.0]])
    r = F.vamp_detail(bp, bq, ap, aq, cutoff=120.0, contract_value=10.0)
    assert r.bid[0] == pytest.approx(120 / (0.5 + 70 / 99), rel=1e-12)
    assert r.ask[0] == pytest.approx(101.0, rel=1e-12)
    # the same book read as linear is a different book (5 coins at 100 = 500 USD)
    assert F.vamp_detail(bp, bq, ap, aq, cutoff=120.0).bid[0] == pytest.approx(100.0)


def test_vamp_skips_missing_levels_and_validates_walked_levels():
    bp = np.array([[100.0, np.nan]])
    bq = np.array([[1.0, 0.0]])
    ap = np.array([[101.0, np.nan]])
    aq = np.array([[1.0, 0.0]])
    assert F.vamp_detail(bp, bq, ap, aq, cutoff=150.0).n_insufficient == 1
    with pytest.raises(ValueError, match="bid_px must be finite and > 0"):
        F.vamp([[np.nan]], [[1.0]], [[101.0]], [[1.0]], cutoff=10.0)
    with pytest.raises(ValueError, match="ask_qty must be finite and >= 0"):
        F.vamp([[100.0]], [[1.0]], [[101.0]], [[-1.0]], cutoff=10.0)
    with pytest.raises(ValueError, match="cutoff must be a positive"):
        F.vamp(*BOOK3, cutoff=0.0)
    with pytest.raises(ValueError, match="contract_value"):
        F.vamp(*BOOK3, cutoff=10.0, contract_value=-1.0)


@st.composite
def one_side(draw, rows=None, levels=None):
    n = draw(st.integers(1, 6)) if rows is None else rows
    levels = draw(st.integers(1, 5)) if levels is None else levels
    best = draw(st.floats(1.0, 1e5))
    ticks = draw(st.lists(st.integers(1, 20), min_size=n * levels, max_size=n * levels))
    px = best + np.cumsum(np.array(ticks, dtype=float).reshape(n, levels), axis=1) * 0.5
    qty = np.array(
        draw(
            st.lists(
                st.one_of(st.just(0.0), st.floats(1e-4, 1e3)),
                min_size=n * levels,
                max_size=n * levels,
            )
        )
    ).reshape(n, levels)
    px[qty == 0] = np.nan
    return px, qty


@PROPERTY
@given(
    sides=one_side().flatmap(
        lambda b: st.tuples(st.just(b), one_side(rows=b[0].shape[0], levels=b[0].shape[1]))
    ),
    cutoff=st.floats(1.0, 1e6),
    contract_value=st.sampled_from([0.0, 10.0, 100.0]),
)
def test_vamp_kernel_matches_reference(sides, cutoff, contract_value):
    (bp, bq), (ap, aq) = sides
    n = bp.shape[0]
    bid, ask = np.empty(n), np.empty(n)
    bid_short, ask_short = np.empty(n, dtype=bool), np.empty(n, dtype=bool)
    status = np.empty(n, dtype=np.uint8)
    _k.vamp_rows(bp, bq, ap, aq, cutoff, contract_value, bid, ask, bid_short, ask_short, status)
    assert not status.any()
    for px, qty, out, short in ((bp, bq, bid, bid_short), (ap, aq, ask, ask_short)):
        ref, ref_short = _k.vamp_side_py(px, qty, cutoff, contract_value)
        np.testing.assert_array_equal(short, ref_short)
        np.testing.assert_allclose(out, ref, rtol=1e-10, equal_nan=True)
        # the average fill price lies between the best price and the last level's
        ok = ~short
        assert np.all(out[ok] >= np.nanmin(px[ok], axis=1) * (1 - 1e-12))
        assert np.all(out[ok] <= np.nanmax(px[ok], axis=1) * (1 + 1e-12))


@pytest.mark.parametrize(
    ("side", "field", "value", "match"),
    [
        ("bid", "qty", np.nan, "bid_qty must be finite and >= 0 .*; row 1, level 2"),
        ("bid", "qty", np.inf, "bid_qty must be finite"),
        ("ask", "qty", -0.5, "ask_qty must be finite and >= 0 .*; row 1, level 2"),
        ("ask", "px", np.nan, "ask_px must be finite and > 0 .* row 1, level 2"),
        ("bid", "px", 0.0, "bid_px must be finite and > 0"),
        ("ask", "px", np.inf, "ask_px must be finite and > 0"),
    ],
)
def test_vamp_rejects_invalid_walked_levels(side, field, value, match):
    book = [np.repeat(a, 3, axis=0) for a in BOOK3]
    index = {"bid_px": 0, "bid_qty": 1, "ask_px": 2, "ask_qty": 3}[f"{side}_{field}"]
    book[index][1, 1] = value  # row 1, level 2: walked with a 300 USD cutoff
    with pytest.raises(ValueError, match=match):
        F.vamp_detail(*book, cutoff=300.0)
    # levels beyond the cutoff are not walked, so not checked (documented)
    F.vamp_detail(*book, cutoff=50.0)


# --------------------------------------------------------------------------------------
# OFI / MLOFI
# --------------------------------------------------------------------------------------


def test_ofi_two_event_known_answer():
    """Two events after an initial state (best level only):

    state 0: bid 100 x 5, ask 101 x 4
    event 1: bid queue grows to 7 (same prices)
        e1 = 1{100>=100} 7 - 1{100<=100} 5 - 1{101<=101} 4 + 1{101>=101} 4 = 7 - 5 - 4 + 4 = 2
    event 2: the ask improves to 100.5 x 3, the bid stays 100 x 7
        e2 = 7 - 7 - 1{100.5<=101} 3 + 1{100.5>=101} 4 = -3
    OFI over the last 2 events at row 2: 2 + (-3) = -1.
    """
    bp, bq = [100.0, 100.0, 100.0], [5.0, 7.0, 7.0]
    ap, aq = [101.0, 101.0, 100.5], [4.0, 4.0, 3.0]
    e = F.ofi_contributions(bp, bq, ap, aq)[:, 0]
    assert np.isnan(e[0]) and e[1:].tolist() == [2.0, -3.0]
    assert F.ofi(bp, bq, ap, aq, events=1)[1:].tolist() == [2.0, -3.0]
    out = F.ofi(bp, bq, ap, aq, events=2)
    assert np.isnan(out[:2]).all() and out[2] == -1.0
    # clock windows: rows at 0 s, 1 s, 2 s; window 1.5 s at row 2 holds rows 1 and 2
    ts = np.array([0, 1, 2]) * S
    assert F.ofi(bp, bq, ap, aq, seconds=1.5, ts=ts)[2] == -1.0
    # window 1 s at row 2 holds only row 2 (ts in (1 s, 2 s])
    assert F.ofi(bp, bq, ap, aq, seconds=1.0, ts=ts)[2] == -3.0
    # the first 1.5 s are not covered
    assert np.isnan(F.ofi(bp, bq, ap, aq, seconds=1.5, ts=ts)[:2]).all()


def test_mlofi_level_two_and_missing_levels():
    """Level 2 by hand. state 0: bid2 99 x 2, ask2 102 x 3. state 1: bid2 missing (read as
    price -inf, qty 0), ask2 improves to 101.5 x 1.
    bid flow: 1{-inf >= 99} 0 - 1{-inf <= 99} 2 = -2
    ask flow: 1{101.5 <= 102} 1 - 1{101.5 >= 102} 3 = 1
    e = bid flow - ask flow = -3. Level 1 is unchanged: e = 0."""
    bp = np.array([[100.0, 99.0], [100.0, np.nan]])
    bq = np.array([[1.0, 2.0], [1.0, 0.0]])
    ap = np.array([[101.0, 102.0], [101.0, 101.5]])
    aq = np.array([[1.0, 3.0], [1.0, 1.0]])
    e = F.ofi_contributions(bp, bq, ap, aq, levels=2)
    assert e[1].tolist() == [0.0, -3.0]
    assert F.mlofi(bp, bq, ap, aq, levels=2, events=1)[1].tolist() == [0.0, -3.0]


def test_window_arguments_are_checked():
    bp, bq, ap, aq = [100.0] * 3, [1.0] * 3, [101.0] * 3, [1.0] * 3
    with pytest.raises(ValueError, match="exactly one"):
        F.ofi(bp, bq, ap, aq)
    with pytest.raises(ValueError, match="exactly one"):
        F.ofi(bp, bq, ap, aq, events=2, seconds=1.0, ts=[0, 1, 2])
    with pytest.raises(ValueError, match="needs ts"):
        F.ofi(bp, bq, ap, aq, seconds=1.0)
    with pytest.raises(ValueError, match="non-decreasing"):
        F.ofi(bp, bq, ap, aq, seconds=1.0, ts=[0, 2, 1])


@st.composite
def windows(draw):
    n = draw(st.integers(0, 40))
    x = np.array(
        draw(st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(np.nan)), min_size=n, max_size=n)),
        dtype=float,
    )
    stop = np.sort(
        np.array(draw(st.lists(st.integers(0, n), min_size=n, max_size=n)), dtype=np.int64)
    )
    lengths = np.array(draw(st.lists(st.integers(0, 8), min_size=n, max_size=n)), dtype=np.int64)
    start = np.maximum.accumulate(np.maximum(stop - lengths, 0)) if n else stop.copy()
    start = np.minimum(start, stop)
    return x, start, stop


@PROPERTY
@given(windows())
def test_window_sum_kernel_matches_reference(case):
    x, start, stop = case
    got = _k.window_sum(x, start, stop)
    ref = _k.window_sum_py(x, start, stop)
    scale = np.nansum(np.abs(x)) + 1.0
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * scale, equal_nan=True)


# --------------------------------------------------------------------------------------
# trades
# --------------------------------------------------------------------------------------


def test_trade_imbalance_known_answer_and_edges():
    """Window 60 s, query at t = 100 s. Trades (price 10, so value = 10 x qty):
    - t = 40 s, buy 100 USD: exactly t - W, weight 0 (outside the window either way)
    - t = 70 s, buy 100 USD: weight 1 - 30/60 = 0.5
    - t = 100 s, sell 300 USD: at exactly t, counts with weight 1
    - t = 101 s, buy: after t, not used
    TI = (0.5 * 100 - 1 * 300) / (0.5 * 100 + 1 * 300) = -250 / 350."""
    trade_ts = np.array([40, 70, 100, 101]) * S
    price = np.full(4, 10.0)
    qty = np.array([10.0, 10.0, 30.0, 50.0])
    side = np.array([1, 1, -1, 1])
    ti = F.trade_imbalance([100 * S], trade_ts, price, qty, side, window=60.0, start_ts=0)
    assert ti[0] == pytest.approx(-250 / 350, rel=1e-12)
    # inverse: value = qty x contract value, whatever the price
    ti_inv = F.trade_imbalance(
        [100 * S], trade_ts, price * 7, qty, side, contract_value=100.0, start_ts=0
    )
    assert ti_inv[0] == pytest.approx(-250 / 350, rel=1e-12)
    # no trade in the window: NaN; window before the data starts: NaN
    assert np.isnan(F.trade_imbalance([300 * S], trade_ts, price, qty, side, start_ts=0)[0])
    # (default start: the first trade, at 40 s; a 61 s window at 100 s starts before it)
    assert np.isnan(F.trade_imbalance([100 * S], trade_ts, price, qty, side, window=61.0)[0])
    assert np.isfinite(F.trade_imbalance([100 * S], trade_ts, price, qty, side, window=60.0)[0])
    # unsorted queries come back in their own order
    q = np.array([100, 70]) * S
    both = F.trade_imbalance(q, trade_ts, price, qty, side, start_ts=0)
    assert both[0] == pytest.approx(-250 / 350) and both[1] == 1.0


def test_trade_inputs_are_checked():
    ts = np.array([1, 2]) * S
    with pytest.raises(ValueError, match="trade_side must be"):
        F.trade_imbalance([3 * S], ts, [1.0, 1.0], [1.0, 1.0], [1, 0])
    with pytest.raises(ValueError, match="trade_qty"):
        F.trade_imbalance([3 * S], ts, [1.0, 1.0], [1.0, -1.0], [1, 1])
    with pytest.raises(ValueError, match="rows"):
        F.trade_imbalance([3 * S], ts, [1.0], [1.0, 1.0], [1, 1])
    with pytest.raises(ValueError, match="window"):
        F.trade_intensity([3 * S], ts, window=0)


def test_trade_intensity_known_answer():
    # window (8 s, 10 s] holds the trades at 9 and 10 s: 2 trades / 2 s
    trade_ts = np.array([1, 9, 10, 11]) * S
    assert F.trade_intensity([10 * S], trade_ts, window=2.0, start_ts=0).tolist() == [1.0]
    # default start: the first trade (1 s); 10 s - 60 s is before it
    assert np.isnan(F.trade_intensity([10 * S], trade_ts)[0])


@st.composite
def trade_cases(draw):
    m = draw(st.integers(0, 25))
    trade_ts = np.sort(
        np.array(draw(st.lists(st.integers(0, 60), min_size=m, max_size=m)), dtype=np.int64)
    ) * (S // 4)
    value = np.array(draw(st.lists(st.floats(0.0, 1e6), min_size=m, max_size=m)), dtype=float)
    sign = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=m, max_size=m)))
    k = draw(st.integers(1, 15))
    query = np.sort(
        np.array(draw(st.lists(st.integers(0, 80), min_size=k, max_size=k)), dtype=np.int64)
    ) * (S // 4)
    window_ns = draw(st.integers(1, 40)) * (S // 8)
    return trade_ts, sign * value, value, query, window_ns


@PROPERTY
@given(trade_cases())
def test_trade_imbalance_kernel_matches_reference(case):
    trade_ts, signed, unsigned, query, window_ns = case
    num, den = _k.linear_weighted_sums(trade_ts, signed, unsigned, query, window_ns)
    rnum, rden = _k.linear_weighted_sums_py(trade_ts, signed, unsigned, query, window_ns)
    atol = 1e-9 * (unsigned.sum() + 1.0)
    np.testing.assert_allclose(num, rnum, rtol=1e-9, atol=atol)
    np.testing.assert_allclose(den, rden, rtol=1e-9, atol=atol)


def test_trade_imbalance_long_span_stays_accurate():
    """A day of synthetic trades every 0.25 s (the anchor moves many times)."""
    rng = np.random.default_rng(3)
    m = 86_400 * 4
    trade_ts = np.arange(m, dtype=np.int64) * (S // 4)
    value = rng.exponential(1e4, m)
    signed = value * rng.choice([-1.0, 1.0], m)
    query = trade_ts[-50:] + 1
    num, den = _k.linear_weighted_sums(trade_ts, signed, value, query, 60 * S)
    last = trade_ts[-400:]
    rnum, rden = _k.linear_weighted_sums_py(last, signed[-400:], value[-400:], query, 60 * S)
    np.testing.assert_allclose(num, rnum, rtol=1e-9)
    np.testing.assert_allclose(den, rden, rtol=1e-9)


# --------------------------------------------------------------------------------------
# returns, volatility, level features, time of day
# --------------------------------------------------------------------------------------


def test_returns_and_volatility_known_answers():
    p = np.array([100.0, 101.0, 100.0, 100.0])
    r1 = 1e4 * np.log(101 / 100)
    r2 = 1e4 * np.log(100 / 101)
    np.testing.assert_allclose(F.past_returns(p, events=1), [np.nan, r1, r2, 0.0])
    # realised vol over the last 2 returns: sqrt(r1^2 + r2^2), then sqrt(r2^2 + 0)
    rv = F.realized_volatility(p, events=2)
    np.testing.assert_allclose(rv, [np.nan, np.nan, np.hypot(r1, r2), abs(r2)])
    ts = np.array([0, 1, 2, 3]) * S
    # 2.5 s window at 3 s: returns of rows with ts in (0.5 s, 3 s] -> rows 1, 2, 3
    rv_t = F.realized_volatility(p, seconds=2.5, ts=ts)
    assert rv_t[3] == pytest.approx(np.sqrt(r1**2 + r2**2))
    assert np.isnan(rv_t[:3]).all()
    # past return over 1.5 s at 3 s: price at the last row with ts <= 1.5 s (row 1)
    assert F.past_returns(p, seconds=1.5, ts=ts)[3] == pytest.approx(1e4 * np.log(100 / 101))


def test_level_features():
    px = np.array([[100.0, 99.0], [101.0, np.nan]])
    qty = np.array([[2.0, 1.0], [1.0, 0.0]])
    r = F.level_log_returns(px)
    assert np.isnan(r[0]).all() and np.isnan(r[1, 1])
    assert r[1, 0] == pytest.approx(1e4 * np.log(1.01))
    v = F.level_log_volumes(qty)
    assert v[0].tolist() == [np.log(2.0), 0.0] and np.isnan(v[1, 1])


def test_time_of_day():
    # 2024-08-09 06:00 UTC and 18:00 UTC
    midnight = 1_723_161_600 * S
    s, c = F.time_of_day(np.array([midnight, midnight + 6 * 3600 * S, midnight + 18 * 3600 * S]))
    np.testing.assert_allclose(s, [0.0, 1.0, -1.0], atol=1e-12)
    np.testing.assert_allclose(c, [1.0, 0.0, 0.0], atol=1e-12)
    s2, _ = F.time_of_day(np.array([midnight], dtype="datetime64[ns]"))
    assert s2[0] == pytest.approx(0.0)


# --------------------------------------------------------------------------------------
# frame wrapper and causality
# --------------------------------------------------------------------------------------


def test_compute_features_frame():
    ts, bp, bq, ap, aq = synthetic_book(200, levels=3)
    frame = book_frame(ts, bp, bq, ap, aq)
    trades = trades_frame(*synthetic_trades(ts))
    cfg = F.FeatureConfig(
        vamp_cutoff=500.0, qi_levels=2, ofi_levels=2, trade_window_s=10.0, level_features=True
    )
    out = F.compute_features(frame, trades, cfg)
    assert out.index.equals(frame.index)
    assert {"mid", "vamp", "qi", "ofi_1", "ofi_2", "ti", "trade_intensity"} <= set(out.columns)
    assert "bid_logret_3" in out.columns and "ask_logvol_1" in out.columns
    np.testing.assert_allclose(out["qi"], F.quote_imbalance(bq, aq, levels=2))
    ti = out["ti"].to_numpy()
    assert np.nanmax(np.abs(ti)) <= 1.0 and np.isfinite(ti).any()
    with pytest.raises(AttributeError):
        cfg.qi_levels = 3  # frozen


def test_unknown_state_rows_give_nan():
    """A clock-grid time before the first book state has NaN prices *and* quantities
    (lobutils.book.sampling); every book feature is NaN there instead of raising."""
    ts, bp, bq, ap, aq = synthetic_book(60, levels=3)
    for a in (bp, bq, ap, aq):
        a[:2] = np.nan
    cfg = F.FeatureConfig(vamp_cutoff=5.0, ofi_window_s=1.0, vol_window_s=2.0)
    out = F.compute_features(book_frame(ts, bp, bq, ap, aq), config=cfg)
    book_cols = [c for c in out.columns if not c.startswith("tod_")]
    assert out.loc[:1, book_cols].isna().all().all()
    assert out.loc[2:, ["mid", "vamp", "qi", "microprice"]].notna().all().all()
    r = F.vamp_detail(bp, bq, ap, aq, cutoff=500.0)
    assert not r.insufficient[:2].any()  # unknown, not short of depth
    assert np.isnan(F.quote_value(bp, bq)[:2]).all()
    # a NaN quantity inside a known state is still an error
    bq[5, 1] = np.nan
    with pytest.raises(ValueError, match="row 5, level 2"):
        F.quote_imbalance(bq, aq, levels=3)


def _registry():
    """Every public feature, as (function, f(ts, book, trades) -> array with a row per book row)."""
    mid_of = lambda b: F.mid(b[0], b[2])  # noqa: E731
    reg = {
        "mid": (F.mid, lambda ts, b, t: F.mid(b[0], b[2])),
        "spread": (F.spread, lambda ts, b, t: F.spread(b[0], b[2])),
        "spread_bps": (F.spread_bps, lambda ts, b, t: F.spread_bps(b[0], b[2])),
        "microprice": (F.microprice, lambda ts, b, t: F.microprice(*b)),
        "depth": (F.depth, lambda ts, b, t: F.depth(b[1], levels=3)),
        "cumulative_depth": (F.cumulative_depth, lambda ts, b, t: F.cumulative_depth(b[3])),
        "quote_value": (F.quote_value, lambda ts, b, t: F.quote_value(b[0], b[1])),
        "qi": (F.quote_imbalance, lambda ts, b, t: F.quote_imbalance(b[1], b[3], levels=5)),
        "vamp": (F.vamp, lambda ts, b, t: F.vamp(*b, cutoff=3000.0)),
        "vamp_detail": (
            F.vamp_detail,
            lambda ts, b, t: F.vamp_detail(*b, cutoff=30.0, contract_value=10.0).bid,
        ),
        "mid_minus_vamp": (
            F.mid_minus_vamp,
            lambda ts, b, t: F.mid_minus_vamp(*b, cutoff=30.0, contract_value=10.0),
        ),
        "ofi_contributions": (
            F.ofi_contributions,
            lambda ts, b, t: F.ofi_contributions(*b, levels=3),
        ),
        "ofi_events": (F.ofi, lambda ts, b, t: F.ofi(*b, events=7)),
        "ofi_seconds": (F.ofi, lambda ts, b, t: F.ofi(*b, seconds=2.5, ts=ts)),
        "mlofi_events": (F.mlofi, lambda ts, b, t: F.mlofi(*b, levels=4, events=3)),
        "mlofi_seconds": (F.mlofi, lambda ts, b, t: F.mlofi(*b, levels=4, seconds=4.0, ts=ts)),
        "level_log_returns": (F.level_log_returns, lambda ts, b, t: F.level_log_returns(b[2])),
        "level_log_volumes": (F.level_log_volumes, lambda ts, b, t: F.level_log_volumes(b[1])),
        "past_returns_events": (
            F.past_returns,
            lambda ts, b, t: F.past_returns(mid_of(b), events=5),
        ),
        "past_returns_seconds": (
            F.past_returns,
            lambda ts, b, t: F.past_returns(mid_of(b), seconds=3.0, ts=ts),
        ),
        "rv_events": (
            F.realized_volatility,
            lambda ts, b, t: F.realized_volatility(mid_of(b), events=10),
        ),
        "rv_seconds": (
            F.realized_volatility,
            lambda ts, b, t: F.realized_volatility(mid_of(b), seconds=5.0, ts=ts),
        ),
        "ti": (F.trade_imbalance, lambda ts, b, t: F.trade_imbalance(ts, *t, window=10.0)),
        "ti_inverse_start": (
            F.trade_imbalance,
            lambda ts, b, t: F.trade_imbalance(
                ts, *t, window=3.0, contract_value=100.0, start_ts=int(ts[0]) - 10 * S
            ),
        ),
        "trade_intensity": (
            F.trade_intensity,
            lambda ts, b, t: F.trade_intensity(ts, t[0], window=5.0),
        ),
        "time_of_day": (F.time_of_day, lambda ts, b, t: np.column_stack(F.time_of_day(ts))),
    }

    def all_frame_features(ts, b, t):
        cfg = F.FeatureConfig(
            vamp_cutoff=2000.0,
            ofi_window_s=2.0,
            vol_window_s=4.0,
            trade_window_s=6.0,
            level_features=True,
        )
        return F.compute_features(book_frame(ts, *b), trades_frame(*t), cfg).to_numpy()

    reg["compute_features"] = (F.compute_features, all_frame_features)
    return reg


REGISTRY = _registry()


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_features_are_causal(name):
    """Truncate the synthetic book and trades at random times t (keeping everything with
    ts <= t); the feature at every kept row must not change."""
    ts, bp, bq, ap, aq = synthetic_book(300, levels=5, seed=7)
    trades = synthetic_trades(ts, seed=8)
    _, feature = REGISTRY[name]
    full = np.asarray(feature(ts, (bp, bq, ap, aq), trades), dtype=float)
    assert full.shape[0] == ts.size
    assert np.isfinite(full).any(), f"{name} is all NaN on the synthetic book"
    rng = np.random.default_rng(11)
    cut_times = [*rng.integers(ts[0], ts[-1], 6), int(ts[5]), int(ts[-2])]
    for t in cut_times:
        keep = ts <= t
        tkeep = trades[0] <= t
        book = (bp[keep], bq[keep], ap[keep], aq[keep])
        part = np.asarray(feature(ts[keep], book, tuple(a[tkeep] for a in trades)), dtype=float)
        np.testing.assert_array_equal(part, full[keep], err_msg=f"{name} changed at t={t}")


def test_registry_covers_every_public_feature():
    not_features = {"contract_value"}  # a lookup of market constants, not a feature of the book
    public = {
        getattr(F, n)
        for n in F.__all__
        if callable(getattr(F, n)) and not isinstance(getattr(F, n), type) and n not in not_features
    }
    covered = {func for func, _ in REGISTRY.values()}
    assert public - covered == set()
