"""Tests of lobutils.trading.backtest: known answers on hand-built books, latency, limits, cooldown,
no look-ahead, the pure-Python references against the kernels, and the perfect-foresight bound.

Every book here is synthetic and labelled as such.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lobutils.markets import fees_bps
from lobutils.schema import book_columns
from lobutils.trading import _kernels as K
from lobutils.trading import backtest as bt

S = 1_000_000_000


def book_frame(ts, bids, asks) -> pd.DataFrame:
    """A book frame from per-state lists of (price, qty) levels (synthetic)."""
    L = max(max(len(b) for b in bids), max(len(a) for a in asks))
    rows = []
    for t, b, a in zip(ts, bids, asks, strict=True):
        bp = [p for p, _ in b] + [np.nan] * (L - len(b))
        bq = [q for _, q in b] + [0.0] * (L - len(b))
        ap = [p for p, _ in a] + [np.nan] * (L - len(a))
        aq = [q for _, q in a] + [0.0] * (L - len(a))
        rows.append([t, t, len(rows), *bp, *bq, *ap, *aq])
    return pd.DataFrame(rows, columns=book_columns(L))


def one_level_path(mids, spread=0.02, qty=1e6, step=S) -> pd.DataFrame:
    """One deep level per side around a mid path, one state per ``step`` (synthetic)."""
    mids = np.asarray(mids, dtype=float)
    n = mids.size
    return pd.DataFrame(
        {
            "ts": np.arange(n, dtype=np.int64) * step,
            "local_ts": np.zeros(n, np.int64),
            "update_id": np.arange(n),
            "bid_px_1": mids - spread / 2,
            "bid_qty_1": qty,
            "ask_px_1": mids + spread / 2,
            "ask_qty_1": qty,
        }
    )


THREE_LEVELS = book_frame(
    [0], [[(99.0, 1.0), (98.0, 1.0), (97.0, 5.0)]], [[(100.0, 1.0), (101.0, 1.0), (102.0, 5.0)]]
)


# --------------------------------------------------------------------------------------
# known answers
# --------------------------------------------------------------------------------------


def test_market_buy_walks_three_levels_with_fee():
    cfg = bt.BacktestConfig(order_qty=3.0, taker_fee_bps=10.0, close_at_end=False)
    r = bt.run_backtest(THREE_LEVELS, [0], [1.0], cfg)
    o = r.orders.iloc[0]
    assert o.vwap == pytest.approx((100 + 101 + 102) / 3)
    assert o.filled_qty == 3.0 and o.status == "filled" and o.levels == 3
    assert o.notional_quote == pytest.approx(303.0)
    assert o.fee_quote == pytest.approx(303.0 * 10 / 1e4)
    mid = 99.5
    assert o.mid == mid
    assert o.slippage_bps == pytest.approx((101.0 / mid - 1) * 1e4)
    assert o.half_spread_bps == pytest.approx((100.0 / mid - 1) * 1e4)
    assert o.cost_quote == pytest.approx(303.0 - 3 * mid)
    assert o.spread_cost_quote == pytest.approx(3 * 0.5)
    assert r.summary["final_position"] == 3.0
    # marked to the mid right after the fill: minus the cost and the fee
    assert r.summary["net_pnl_quote"] == pytest.approx(-(303.0 - 3 * mid) - 0.303)


def test_market_sell_walks_bids():
    cfg = bt.BacktestConfig(order_qty=2.0, taker_fee_bps=0.0, close_at_end=False)
    o = bt.run_backtest(THREE_LEVELS, [0], [-1.0], cfg).orders.iloc[0]
    assert o.side == -1 and o.vwap == pytest.approx(98.5)
    assert o.slippage_bps == pytest.approx(-(98.5 / 99.5 - 1) * 1e4)


def test_order_beyond_visible_depth_fills_what_is_there():
    cfg = bt.BacktestConfig(order_qty=10.0, taker_fee_bps=0.0, close_at_end=False)
    r = bt.run_backtest(THREE_LEVELS, [0], [1.0], cfg)
    o = r.orders.iloc[0]
    assert o.status == "partial"
    assert o.filled_qty == 7.0 and o.unfilled_qty == 3.0
    assert o.vwap == pytest.approx((100 + 101 + 5 * 102) / 7)
    assert r.summary["unfilled_qty"] == 3.0 and r.summary["n_partial"] == 1


def test_walk_book_public():
    r = bt.walk_book([100.0, np.nan, 101.0], [1.0, 5.0, 2.0], 2.0)
    assert r["vwap"] == pytest.approx(100.5) and r["levels"] == 2 and r["unfilled"] == 0.0
    assert bt.walk_book([100.0], [1.0], 0.0)["filled"] == 0.0


def test_round_trip_gross_net_and_accounting_identity():
    # mid 100 -> 110 -> 105 (synthetic), spread 0.02, long at 0 s, short at 1 s, close at 2 s
    f = one_level_path([100.0, 110.0, 105.0])
    cfg = bt.BacktestConfig(order_qty=1.0, latency_s=0.0, taker_fee_bps=5.0)
    r = bt.run_backtest(f, [0, S, 2 * S], [1.0, -1.0, np.nan], cfg)
    s = r.summary
    assert s["n_orders"] == 3
    # gross, marked to the mid: +10 on the long, +5 on the short
    assert s["gross_pnl_quote"] == pytest.approx(15.0)
    costs = s["spread_cost_quote"] + s["depth_cost_quote"] + s["fees_quote"]
    assert s["net_pnl_quote"] == pytest.approx(s["gross_pnl_quote"] - costs)
    assert s["spread_cost_quote"] == pytest.approx(0.01 * 4)  # 1 + 2 + 1 units
    assert r.equity["equity"].iloc[-1] == pytest.approx(s["net_pnl_quote"])
    trips = r.round_trips
    assert trips["direction"].tolist() == [1.0, -1.0]
    assert trips["gross_quote"].tolist() == pytest.approx([10.0, 5.0])
    assert trips["net_quote"].sum() == pytest.approx(s["net_pnl_quote"])
    assert s["hit_rate_gross"] == 1.0


def test_inverse_contract_pnl_in_coin_converted_once():
    # COIN-M style (synthetic): 10 contracts of 100 USD, bought at 50001, sold at 50999
    f = book_frame(
        [0, S],
        [[(49999.0, 1e6)], [(50999.0, 1e6)]],
        [[(50001.0, 1e6)], [(51001.0, 1e6)]],
    )
    cfg = bt.BacktestConfig(order_qty=10.0, latency_s=0.0, taker_fee_bps=0.0, contract_value=100.0)
    r = bt.run_backtest(f, [0, S], [1.0, np.nan], cfg)
    coin = 10 * 100 * (1 / 50001.0 - 1 / 50999.0)
    conv = r.summary["coin_to_quote"]
    assert conv == 50000.0
    assert r.summary["net_pnl_quote"] == pytest.approx(coin * conv, rel=1e-12)
    o = r.orders.iloc[0]
    assert o.notional_quote == 1000.0 and o.vwap == pytest.approx(50001.0)
    gross_coin = 10 * 100 * (1 / 50000.0 - 1 / 51000.0)
    assert r.summary["gross_pnl_quote"] == pytest.approx(gross_coin * conv, rel=1e-12)


def test_qty_for_value_and_default_fees():
    assert bt.qty_for_value(1000.0, 50.0) == 20.0
    assert bt.qty_for_value(1049.0, 1.0, contract_value=100.0) == 10.0
    assert fees_bps("usdm") == (2.0, 5.0)
    with pytest.raises(ValueError):
        fees_bps("options")


# --------------------------------------------------------------------------------------
# latency and no look-ahead
# --------------------------------------------------------------------------------------


LADDER = book_frame(
    [0, 100_000_000, 200_000_000],
    [[(99.0, 10.0)], [(104.0, 10.0)], [(109.0, 10.0)]],
    [[(100.0, 10.0)], [(105.0, 10.0)], [(110.0, 10.0)]],
)


@pytest.mark.parametrize(
    ("latency_s", "ask"), [(0.0, 100.0), (0.099, 100.0), (0.1, 105.0), (0.15, 105.0), (0.3, 110.0)]
)
def test_latency_fills_at_the_last_state_at_or_before_arrival(latency_s, ask):
    cfg = bt.BacktestConfig(order_qty=1.0, latency_s=latency_s, close_at_end=False)
    o = bt.run_backtest(LADDER, [0], [1.0], cfg).orders.iloc[0]
    assert o.vwap == ask
    assert o.state_ts <= o.arrival_ts == int(round(latency_s * S))


def test_no_book_before_arrival_skips():
    cfg = bt.BacktestConfig(order_qty=1.0, latency_s=0.0)
    r = bt.run_backtest(LADDER.iloc[1:], [0], [1.0], cfg)
    assert r.summary["n_orders"] == 0 and r.summary["n_skipped_no_book"] == 1


def _random_book(rng, n=60, levels=3):
    mids = 100 + np.cumsum(rng.normal(0, 0.05, n))
    ts = np.sort(rng.choice(np.arange(1, 40 * n), size=n, replace=False)).astype(np.int64) * 10**8
    d = {"ts": ts, "local_ts": ts, "update_id": np.arange(n)}
    for i in range(levels):
        d[f"bid_px_{i + 1}"] = mids - 0.01 - 0.01 * i
    for i in range(levels):
        d[f"bid_qty_{i + 1}"] = rng.uniform(0.1, 2.0, n)
    for i in range(levels):
        d[f"ask_px_{i + 1}"] = mids + 0.01 + 0.01 * i
    for i in range(levels):
        d[f"ask_qty_{i + 1}"] = rng.uniform(0.1, 2.0, n)
    return pd.DataFrame(d)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_truncating_the_future_leaves_earlier_orders_unchanged(seed):
    rng = np.random.default_rng(seed)
    f = _random_book(rng)
    dts = np.arange(1, 40) * 10**8 * 50
    tgt = rng.choice([-1.0, 0.0, 1.0, np.nan], size=dts.size)
    cfg = bt.BacktestConfig(order_qty=1.5, latency_s=0.35, close_at_end=False)
    full = bt.run_backtest(f, dts, tgt, cfg).orders
    assert len(full) > 3
    for k in (1, len(full) // 2, len(full) - 1):
        cut = f[f["ts"] <= full["arrival_ts"].iloc[k]]
        part = bt.run_backtest(cut, dts, tgt, cfg).orders
        cols = ["decision_ts", "side", "filled_qty", "vwap", "mid", "fee_quote"]
        pd.testing.assert_frame_equal(part[cols].iloc[: k + 1], full[cols].iloc[: k + 1])


# --------------------------------------------------------------------------------------
# limits, cooldown, one order at a time
# --------------------------------------------------------------------------------------


def test_position_limit_clips_targets():
    f = one_level_path(np.full(5, 100.0))
    cfg = bt.BacktestConfig(order_qty=1.0, max_position=2.0, latency_s=0.0, close_at_end=False)
    r = bt.run_backtest(f, np.arange(5) * S, [5.0, 5.0, -7.0, -7.0, 1.0], cfg)
    assert r.orders["position"].abs().max() == 2.0
    assert r.orders["position"].tolist() == [2.0, -2.0, 1.0]


def test_notional_limit_uses_the_decision_mid():
    f = one_level_path([100.0, 200.0])
    cfg = bt.BacktestConfig(order_qty=1.0, max_notional=300.0, latency_s=0.5, close_at_end=False)
    # decided at 0.9 s (mid 100: 3 units allowed), arriving at 1.4 s (mid 200)
    r = bt.run_backtest(f, [900_000_000], [10.0], cfg)
    assert r.orders["filled_qty"].tolist() == [3.0]


def test_cooldown_between_orders():
    n = 20
    f = one_level_path(np.full(n, 100.0))
    tgt = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    cfg = bt.BacktestConfig(order_qty=1.0, cooldown_s=2.5, latency_s=0.0, close_at_end=False)
    r = bt.run_backtest(f, np.arange(n) * S, tgt, cfg)
    gaps = np.diff(r.orders["decision_ts"].to_numpy())
    assert gaps.min() >= 2.5 * S
    assert r.summary["n_skipped_cooldown"] > 0
    # +1 at 0 s; -1 at 1 s waits; +1 at 2 s is no change; -1 at 3 s goes; and so on
    assert (r.orders["decision_ts"] // S).tolist() == [0, 3, 6, 9, 12, 15, 18]


def test_one_order_in_flight_at_a_time():
    f = one_level_path(np.full(10, 100.0))
    cfg = bt.BacktestConfig(order_qty=1.0, latency_s=2.0, close_at_end=False)
    tgt = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    r = bt.run_backtest(f, np.arange(10) * S, tgt, cfg)
    d = r.orders["decision_ts"].to_numpy()
    a = r.orders["arrival_ts"].to_numpy()
    assert np.all(d[1:] >= a[:-1])
    assert r.summary["n_skipped_busy"] > 0


def test_close_at_end_flattens():
    f = one_level_path(np.linspace(100, 101, 6))
    cfg = bt.BacktestConfig(order_qty=1.0, latency_s=0.0)
    r = bt.run_backtest(f, np.arange(5) * S, [1.0, np.nan, np.nan, np.nan, np.nan], cfg)
    assert r.summary["final_position"] == 0.0
    assert r.orders["decision_idx"].tolist() == [0, -1]
    assert r.orders["decision_ts"].iloc[-1] == 4 * S


# --------------------------------------------------------------------------------------
# maker orders
# --------------------------------------------------------------------------------------


def test_maker_order_fills_only_on_trades_through_its_price():
    f = one_level_path(np.full(20, 100.0), spread=1.0)  # bid 99.5, ask 100.5
    trades = pd.DataFrame(
        {
            "ts": np.array([1, 2, 3, 4], dtype=np.int64) * S,
            "price": [99.5, 99.0, 99.4, 99.0],  # at the price (no fill), through, through, through
            "qty": [5.0, 0.4, 0.8, 9.0],
        }
    )
    cfg = bt.BacktestConfig(
        order_qty=1.0,
        latency_s=0.0,
        order_type="maker",
        maker_fee_bps=2.0,
        maker_ttl_s=10.0,
        close_at_end=False,
    )
    r = bt.run_backtest(f, [0], [1.0], cfg, trades)
    o = r.orders.iloc[0]
    assert bool(o.maker) and o.vwap == 99.5 and o.filled_qty == pytest.approx(1.0)
    assert o.fill_ts == 3 * S
    assert o.fee_quote == pytest.approx(99.5 * 2e-4)
    assert o.slippage_bps < 0  # bought below the mid


def test_maker_order_expires_after_ttl():
    f = one_level_path(np.full(20, 100.0), spread=1.0)
    trades = pd.DataFrame({"ts": [5 * S], "price": [99.0], "qty": [1.0]})
    cfg = bt.BacktestConfig(order_qty=1.0, latency_s=0.0, order_type="maker", maker_ttl_s=2.0)
    r = bt.run_backtest(f, [0, S, 3 * S], [1.0, 1.0, np.nan], cfg, trades)
    assert r.orders["status"].iloc[0] == "unfilled"
    assert r.summary["n_skipped_busy"] == 1  # the decision at 1 s waits for the working order
    with pytest.raises(ValueError, match="trades"):
        bt.run_backtest(f, [0], [1.0], cfg)


# --------------------------------------------------------------------------------------
# the pure-Python references against the kernels
# --------------------------------------------------------------------------------------

level_px = st.one_of(st.just(math.nan), st.floats(1.0, 1e5))
level_qty = st.one_of(st.just(0.0), st.floats(1e-6, 1e3))


@settings(max_examples=300, deadline=None)
@given(
    px=st.lists(level_px, min_size=1, max_size=12),
    qty_seed=st.integers(0, 2**31 - 1),
    size=st.floats(0.0, 5e3),
)
def test_walk_side_matches_reference(px, qty_seed, size):
    rng = np.random.default_rng(qty_seed)
    qty = np.where(rng.random(len(px)) < 0.2, 0.0, rng.uniform(1e-3, 50.0, len(px)))
    p = np.array(px)
    fast = K.walk_side(p, qty, size)
    ref = K.walk_side_py(p, qty, size)
    assert fast[4] == ref[4]
    np.testing.assert_allclose(fast[:4], ref[:4], rtol=1e-12, atol=1e-12)
    filled, _, _, rem, _ = fast
    assert filled + rem == pytest.approx(size, rel=1e-12, abs=1e-12)
    visible = np.nansum(np.where((p > 0) & (qty > 0), qty, 0.0))
    assert filled <= visible * (1 + 1e-12) + 1e-12
    if size > visible:  # beyond the visible depth: everything visible is taken
        assert filled == pytest.approx(visible, rel=1e-12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    maker=st.booleans(),
    latency=st.integers(0, 3 * 10**8),
    cooldown=st.integers(0, 2 * 10**9),
    close=st.booleans(),
)
def test_simulate_matches_reference(seed, maker, latency, cooldown, close):
    rng = np.random.default_rng(seed)
    f = _random_book(rng, n=25)
    b = bt.book_arrays_of(f)
    dts = np.sort(rng.choice(np.arange(0, int(b.ts[-1]) + 10**9, 10**8), 15, replace=False))
    tgt = rng.choice([-2.0, -1.0, 0.0, 1.0, 2.0, np.nan], size=dts.size) * 0.7
    cap = np.full(dts.size, 1.0)
    tr_ts = np.sort(rng.choice(np.arange(0, int(b.ts[-1]), 10**7), 30, replace=False)).astype(
        np.int64
    )
    tr_px = 100 + rng.normal(0, 0.1, tr_ts.size)
    tr_q = rng.uniform(0.01, 1.0, tr_ts.size)
    args = (
        b.ts,
        b.bid_px,
        b.bid_qty,
        b.ask_px,
        b.ask_qty,
        dts.astype(np.int64),
        tgt,
        cap,
        np.int64(latency),
        np.int64(cooldown),
        maker,
        np.int64(2 * 10**9),
        tr_ts,
        tr_px,
        tr_q,
        close,
        np.int64(dts[-1]),
        1e-12,
    )
    arrays, skips = K.simulate(*args)
    orders, skips_ref = K.simulate_py(*args)
    assert list(skips) == skips_ref
    assert len(arrays[0]) == len(orders)
    names = ["dec_idx", "dec_t", "arr_t", "fill_t", "state", "requested", "filled", "sum_qp"]
    names += ["sum_q_over_p", "mid", "touch", "is_maker", "levels", "status"]
    for j, name in enumerate(names):
        ref = np.array([o[name] for o in orders], dtype=arrays[j].dtype)
        np.testing.assert_allclose(arrays[j], ref, rtol=1e-12, atol=1e-12, err_msg=name)


# --------------------------------------------------------------------------------------
# signals and benchmarks
# --------------------------------------------------------------------------------------


def test_hold_targets_and_random_targets():
    t = np.arange(8) * S
    h = bt.hold_targets(t, [1, 0, 0, 0, -1, 1, 0, 0], hold_s=2.0)
    assert h.tolist() == [1, 1, 0, 0, -1, 1, 1, 0]
    for seed in range(5):
        r = bt.random_targets(h, seed=seed)
        assert bt._changes(r).size == bt._changes(h).size
        assert set(np.unique(r)) <= {-1.0, 0.0, 1.0}
    np.testing.assert_array_equal(bt.random_targets(h, 3), bt.random_targets(h, 3))


def test_holding_earns_the_mid_move_gross():
    mids = np.linspace(100.0, 104.0, 9)
    f = one_level_path(mids)
    cfg = bt.BacktestConfig(order_qty=2.0, latency_s=0.0, taker_fee_bps=10.0)
    r = bt.run_backtest(f, np.arange(9) * S, bt.holding_targets(9), cfg)
    assert r.summary["gross_pnl_quote"] == pytest.approx(2.0 * 4.0)
    assert r.summary["n_orders"] == 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), latency=st.sampled_from([0.0, 0.2, 0.7]))
def test_perfect_foresight_bounds_gross_pnl_at_the_same_trade_times(seed, latency):
    rng = np.random.default_rng(seed)
    n = 80
    f = one_level_path(100 + np.cumsum(rng.normal(0, 0.05, n)), step=S // 2)
    dts = np.arange(2, n - 4, 2, dtype=np.int64) * (S // 2)
    cfg = bt.BacktestConfig(order_qty=1.0, latency_s=latency, cooldown_s=1.0, taker_fee_bps=10.0)
    model_t = bt.hold_targets(dts, rng.choice([-1, 0, 1], dts.size, p=[0.2, 0.6, 0.2]), 3.0)
    model = bt.run_backtest(f, dts, model_t, cfg)
    pf = bt.run_backtest(f, dts, bt.perfect_foresight_targets(model, f), cfg)
    g_pf = pf.summary["gross_pnl_quote"]
    assert g_pf >= model.summary["gross_pnl_quote"] - 1e-9
    assert pf.summary["n_orders"] <= model.summary["n_orders"]
    # any other strategy that changes position only at the model's order times, |pos| <= 1
    sent = model.orders[model.orders["decision_idx"] >= 0]["decision_idx"].to_numpy()
    for _ in range(5):
        other = np.full(dts.size, np.nan)
        other[sent] = rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0], sent.size)
        g = bt.run_backtest(f, dts, other, cfg).summary["gross_pnl_quote"]
        assert g_pf >= g - 1e-9


def test_compare_strategies_table():
    rng = np.random.default_rng(3)
    n = 120
    f = one_level_path(100 + np.cumsum(rng.normal(0, 0.05, n)))
    dts = f["ts"].to_numpy()
    tgt = bt.hold_targets(dts, rng.choice([-1, 0, 1], n, p=[0.1, 0.8, 0.1]), 5.0)
    cmp = bt.compare_strategies(f, dts, tgt, bt.BacktestConfig(order_qty=1.0), seeds=[4, 5])
    assert cmp.table["strategy"].tolist() == [
        "model",
        "holding",
        "perfect_foresight",
        "random",
        "random",
    ]
    assert cmp.table["seed"].tolist() == [-1, -1, -1, 4, 5]
    assert set(cmp.results) == {"model", "holding", "perfect_foresight", "random_4", "random_5"}
    t = cmp.table.set_index("strategy")
    assert t.loc["perfect_foresight", "gross_pnl_quote"] >= t.loc["model", "gross_pnl_quote"]


def test_max_drawdown():
    assert bt.max_drawdown([]) == 0.0
    assert bt.max_drawdown([-1.0, -3.0, 2.0]) == 3.0
    assert bt.max_drawdown([1.0, 2.0, 3.0]) == 0.0


def test_config_validation():
    with pytest.raises(ValueError):
        bt.BacktestConfig(order_qty=0.0)
    with pytest.raises(ValueError):
        bt.BacktestConfig(order_qty=1.0, order_type="limit")
    with pytest.raises(ValueError):
        bt.BacktestConfig(order_qty=1.0, latency_s=-1.0)
    f = one_level_path([100.0, 101.0])
    cfg = bt.BacktestConfig(order_qty=1.0)
    with pytest.raises(ValueError, match="decision times"):
        bt.run_backtest(f, [0, 1], [1.0], cfg)
    with pytest.raises(ValueError, match="int64"):
        bt.run_backtest(f, [0.5], [1.0], cfg)


# --------------------------------------------------------------------------------------
# classifier probabilities as signals (chapter 7 -> chapter 8)
# --------------------------------------------------------------------------------------


def test_proba_forecast_and_asof_alignment_known_answer():
    # synthetic: signals every 100 ms from 0.3 s, decisions every second from 0 s
    sig_ts = (np.arange(3, 40) * S // 10).astype(np.int64)
    p_up = np.where(np.arange(sig_ts.size) % 2 == 0, 0.7, 0.1)  # alternates up / down
    p_down = 1.0 - p_up - 0.2
    dec = np.arange(5, dtype=np.int64) * S
    sig = pd.DataFrame({"ts": sig_ts, "p_down": p_down, "p_up": p_up})
    f = bt.signal_forecasts(sig, dec, scale_bps=4.0)
    # 0 s: nothing known yet; k s: the signal stamped exactly k s (index 10k - 3), whose
    # parity sets the lean; 4 s: the last one, at 3.9 s
    exp = [math.nan]
    for i in (7, 17, 27, 36):
        exp.append((p_up[i] - p_down[i]) * 4.0)
    np.testing.assert_allclose(f, exp)
    assert bt.proba_forecast(0.1, 0.7, 4.0) == pytest.approx(2.4)
    # unsorted input is sorted by time first; a stale signal is dropped
    f2 = bt.signal_forecasts(sig.iloc[::-1], dec, scale_bps=4.0, max_age_s=0.05)
    np.testing.assert_allclose(f2, [math.nan, *exp[1:4], math.nan])
    # no look-ahead: changing every signal after 2 s leaves the decisions up to 2 s unchanged
    later = sig.assign(p_up=np.where(sig_ts > 2 * S, 0.0, p_up))
    np.testing.assert_array_equal(bt.signal_forecasts(later, dec, 4.0)[:3], f[:3])
    # 2-d values and validation
    v = bt.asof_values(sig_ts, np.column_stack([p_down, p_up]), dec)
    assert v.shape == (5, 2) and np.isnan(v[0]).all()
    with pytest.raises(ValueError, match="scale_bps"):
        bt.proba_forecast(0.1, 0.2, 0.0)
    with pytest.raises(ValueError, match="rows"):
        bt.asof_values(sig_ts, p_up[:-1], dec)


def test_synthetic_deeplob_signals_backtest_on_a_bundled_book(tmp_path):
    """Chapter 8's DeepLOB path on a real book with a synthetic signals.parquet."""
    from lobutils.book.replay import reconstruct
    from lobutils.data.binance import read_binance_recording
    from lobutils.data.catalog import segment
    from lobutils.models import study

    seg = segment("spot_btcusdt")
    rec = read_binance_recording(seg.files)
    book = bt.book_arrays_of(reconstruct(rec, levels=10, include_invalid=True).frame)
    t0 = (int(book.ts[0]) // S + 60) * S
    dec = t0 + np.arange(120, dtype=np.int64) * S  # two minutes of 1 s decisions
    # synthetic DeepLOB probabilities on a 100 ms grid, covering the second minute only
    sig_ts = t0 + 60 * S + np.arange(600, dtype=np.int64) * (S // 10)
    rng = np.random.default_rng(0)
    proba = rng.dirichlet([1.0, 2.0, 1.0], size=sig_ts.size)
    tab = study.signals_table(seg.name, "deeplob", sig_ts, proba, horizon_s=10)
    path = tmp_path / "signals.parquet"
    tab.to_parquet(path, index=False)
    back = pd.read_parquet(path)
    assert str(back["ts"].dtype) == "int64" and len(back) == 600
    keep = (dec >= back["ts"].min()) & (dec <= back["ts"].max())
    d = dec[keep]
    assert d.size == 60
    fc = bt.signal_forecasts(back, d, scale_bps=2.0, max_age_s=1.0)
    # decisions fall on the signal grid: each one takes the probabilities stamped at it
    i = np.searchsorted(sig_ts, d)
    np.testing.assert_allclose(fc, (proba[i, 2] - proba[i, 0]) * 2.0)
    from lobutils import evaluation as ev

    target = bt.hold_targets(d, ev.regression_signal(np.nan_to_num(fc)), 10.0)
    m0 = float(book.mid_at(d[:1])[0])
    qty = bt.qty_for_value(10_000.0, m0)
    cfg = bt.BacktestConfig(order_qty=qty, max_position=qty, cooldown_s=1.0, taker_fee_bps=10.0)
    cmp = bt.compare_strategies(book, d, target, cfg, rec.trades, seeds=3)
    tab = cmp.table.set_index("strategy")
    assert list(cmp.table["strategy"]) == [
        "model",
        "holding",
        "perfect_foresight",
        "random",
        "random",
        "random",
    ]
    model = tab.loc["model"]
    assert model["n_orders"] > 0
    assert model["fees_quote"] > 0
    assert tab.loc["perfect_foresight", "gross_pnl_quote"] >= model["gross_pnl_quote"] - 1e-9
    # net = gross - half-spread - depth - fees, as in section 5's breakdown
    assert model["net_pnl_quote"] == pytest.approx(
        model["gross_pnl_quote"]
        - model["spread_cost_quote"]
        - model["depth_cost_quote"]
        - model["fees_quote"],
        abs=1e-6,
    )
    assert cmp.results["model"].orders["decision_ts"].min() >= d[0]
