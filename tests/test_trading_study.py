"""The trading chapters' study layer: instruments in the accounting, the backtest study, the
liquidation study over markets, the verdicts and the page tables. All data here is synthetic."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lobutils import evaluation as ev
from lobutils.markets import Instrument, instrument
from lobutils.trading import backtest as bt
from lobutils.trading import liquidation as lq
from lobutils.trading import study
from lobutils.trading import verdicts as vd
from lobutils.trading.tables import book_table

S = 1_000_000_000


def random_walk_book(n=300, seed=0, spread=0.02, qty=50.0, levels=3, tick=0.01):
    """One state a second around a random-walk mid, ``levels`` levels per side (synthetic)."""
    rng = np.random.default_rng(seed)
    mid = 100 + np.cumsum(rng.normal(0, 0.05, n))
    d = {"ts": np.arange(n, dtype=np.int64) * S, "local_ts": 0, "update_id": np.arange(n)}
    d |= {f"bid_px_{i + 1}": mid - spread / 2 - tick * i for i in range(levels)}
    d |= {f"bid_qty_{i + 1}": qty for i in range(levels)}
    d |= {f"ask_px_{i + 1}": mid + spread / 2 + tick * i for i in range(levels)}
    d |= {f"ask_qty_{i + 1}": qty for i in range(levels)}
    return pd.DataFrame(d)


def synthetic_market(name="spot_synth", inst=None, n=300, seed=0):
    f = random_walk_book(n, seed)
    rng = np.random.default_rng(seed + 1)
    mids = 0.5 * (f["bid_px_1"] + f["ask_px_1"]).to_numpy()
    trades = pd.DataFrame(
        {
            "ts": f["ts"].to_numpy()[::2] + S // 2,
            "price": mids[::2] + rng.normal(0, 0.1, mids[::2].size),
            "qty": 5.0,
        }
    )
    inst = inst or Instrument.from_terms(None, 2.0, 5.0)
    return study.MarketData(name, inst, bt.book_arrays_of(f), trades, None)


def synthetic_signals(m, seed=0, every=1):
    rng = np.random.default_rng(seed)
    dts = m.book.ts[20:-20:every]
    fc = rng.normal(0, 2.0, dts.size)
    tgt = bt.hold_targets(dts, np.sign(fc), hold_s=5.0)
    y = rng.normal(0, 2.0, dts.size)
    return study.Signals(dts, tgt, fc, "linear", y, 2.0)


# --------------------------------------------------------------------------------------
# the instrument does the accounting
# --------------------------------------------------------------------------------------


def test_instrument_accounting_known_answers():
    lin, inv = Instrument.from_terms(), Instrument.from_terms(100.0)
    # a buy of 1 @ 100 and 1 @ 101 against a 100.5 mid
    qp, qi = 100.0 + 101.0, 1 / 100.0 + 1 / 101.0
    assert lin.walk_cost(2.0, qp, qi, 100.5) == pytest.approx(0.0)
    assert float(lin.average_price(2.0, qp, qi)) == pytest.approx(100.5)
    assert float(inv.average_price(2.0, qp, qi)) == pytest.approx(2 / qi)
    # inverse: a long of 10 contracts from 50k to 51k earns 10 * 100 * (1/50k - 1/51k) coin
    gain = 10 * (inv.settle_value(51_000.0) - inv.settle_value(50_000.0))
    assert gain == pytest.approx(10 * 100 * (1 / 50_000 - 1 / 51_000))
    assert inv.fill_notional(3.0, 1e9) == 300.0 and lin.fill_notional(3.0, 7.0) == 7.0
    assert inv.max_qty_for_value(250.0, np.array([1.0])).tolist() == [2.0]
    with pytest.raises(ValueError):
        lin.qty_for_value(100.0, 0.0)


def test_config_for_instrument_matches_the_hand_built_config():
    f = random_walk_book(120, seed=3)
    dts = f["ts"].to_numpy()[10:-10]
    tgt = bt.hold_targets(dts, np.sign(np.sin(np.arange(dts.size) / 5)), hold_s=3.0)
    inst = instrument("cm", "btcusd_perp")
    by_inst = bt.BacktestConfig.for_instrument(inst, 2.0, latency_s=0.0)
    by_hand = bt.BacktestConfig(
        order_qty=2.0, latency_s=0.0, contract_value=100.0, maker_fee_bps=2.0, taker_fee_bps=5.0
    )
    assert by_inst == by_hand and by_inst.inverse
    a = bt.run_backtest(f, dts, tgt, by_inst).summary
    b = bt.run_backtest(f, dts, tgt, by_hand).summary
    assert a == b
    # net = gross - spread - depth - fees on an inverse market too
    parts = a["gross_pnl_quote"] - a["spread_cost_quote"] - a["depth_cost_quote"]
    assert parts - a["fees_quote"] == pytest.approx(a["net_pnl_quote"], abs=1e-9)


# --------------------------------------------------------------------------------------
# the backtest study
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source():
    markets = {"a": synthetic_market("a", seed=1), "b": synthetic_market("b", seed=2)}
    signals = {k: synthetic_signals(m, seed=i) for i, (k, m) in enumerate(markets.items())}
    settings = study.BacktestSettings(order_value=1_000.0, seeds=(0, 1, 2, 3, 4))
    return markets, signals, settings, study.backtest_source(markets, signals, settings)


def test_backtest_source_runs_every_market_with_its_benchmarks(source):
    markets, signals, settings, src = source
    assert set(src.comparisons) == {"a", "b"}
    counts = src.runs.groupby("segment")["strategy"].value_counts().unstack()
    assert (counts["model"] == 1).all() and (counts["random"] == 5).all()
    # one position is worth order_value at the first mid
    for name, cfg in src.configs.items():
        m0 = float(markets[name].book.mid_at(signals[name].decision_ts[:1])[0])
        assert cfg.order_qty * m0 == pytest.approx(1_000.0)
        assert cfg.taker_fee_bps == 5.0 and cfg.max_position == cfg.order_qty
    assert set(src.orders["segment"]) == {"a", "b"}
    assert src.closed_trips["closed"].all()


def test_equity_cost_and_rank_tables(source):
    markets, signals, settings, src = source
    eq = study.equity_frame(src, signals)
    assert set(eq["strategy"]) == {"model", "holding", "perfect_foresight", "random"}
    assert eq.loc[eq["strategy"] != "random", "seed"].eq(-1).all()
    last = eq.groupby(["segment", "strategy", "seed"])["equity_bps"].last()
    model = src.strategy("model").set_index("segment")["pnl_bps"]
    for seg in ("a", "b"):
        assert last[(seg, "model", -1)] == pytest.approx(model[seg])
    costs = study.cost_breakdown(src.runs)
    np.testing.assert_allclose(
        costs["gross_bps"] - costs["spread_bps"] - costs["depth_bps"] - costs["fees_bps"],
        costs["net_bps"],
        atol=1e-9,
    )
    ranks = study.rank_among_random(src.runs)
    assert list(ranks["segment"]) == ["a", "b"]
    assert (
        (ranks["random_p05"] <= ranks["random_median"])
        & (ranks["random_median"] <= ranks["random_p95"])
    ).all()


def test_trip_cis_need_enough_trips(source):
    _, _, _, src = source
    boot = ev.BootstrapConfig(block_length=3, n_boot=50, seed=0)
    table = study.trip_ci_table(src.closed_trips, boot)
    model = table[(table["strategy"] == "model") & (table["value"] == "net_bps")].iloc[0]
    assert model["ci_low"] <= model["mean"] <= model["ci_high"]
    few = src.closed_trips.groupby("strategy").head(2)
    assert study.trip_ci(few, "model", "net_bps", boot) is None


def test_maker_table_reuses_the_taker_configs(source):
    markets, signals, _, src = source
    mk = study.maker_table(markets, signals, src)
    assert list(mk["segment"]) == ["a", "b"]
    assert ((mk["fill_rate"] >= 0) & (mk["fill_rate"] <= 1)).all()
    taker = src.strategy("model").set_index("segment")["pnl_bps"]
    assert mk.set_index("segment")["taker_net_bps"].tolist() == taker.tolist()


def test_deeplob_signals_overlap_and_notes():
    m = synthetic_market("a")
    cl = {"a": synthetic_signals(m)}
    none = study.deeplob_signals(None, cl, model="deeplob", horizon=10, missing_note="none")
    assert none.note == "none" and not none.signals
    dts = cl["a"].decision_ts
    sig = pd.DataFrame(
        {
            "segment": "a",
            "model": "deeplob",
            "split": "test",
            "horizon_s": 10,
            "ts": np.arange(dts[10], dts[40], S // 10),
            "p_down": 0.2,
            "p_up": 0.5,
        }
    )
    sel = study.deeplob_signals(sig, cl, model="deeplob", horizon=10, max_age_s=1.0)
    d = sel.signals["a"].decision_ts
    assert d[0] >= dts[10] and d[-1] <= dts[40] and sel.note is None
    np.testing.assert_array_equal(sel.classical["a"].decision_ts, d)
    assert sel.table["share_with_signal"].iloc[0] == 1.0
    other = study.deeplob_signals(sig.assign(horizon_s=1), cl, model="deeplob", horizon=10)
    assert "a" in other.skipped and other.note.startswith("No market")


# --------------------------------------------------------------------------------------
# the liquidation study
# --------------------------------------------------------------------------------------


def test_liquidation_over_markets_linear_and_inverse():
    f = bt.book_arrays_of(random_walk_book(400, seed=4, qty=20.0, levels=10))
    trades = pd.DataFrame({"ts": np.arange(0, 400, 3, dtype=np.int64) * S, "qty": 1.0})
    books = {
        "lin": (Instrument.from_terms(), f, trades),
        "inv": (Instrument.from_terms(10.0), f, trades),
        "short": (Instrument.from_terms(), bt.book_arrays_of(random_walk_book(50)), trades),
    }
    liq = lq.run_markets(
        books, 1_000.0, 20.0, horizon_s=30.0, n_slices=6, risk_aversions=(0.0, 1e-2)
    )
    assert set(liq.markets) == {"lin", "inv"} and "short" in liq.skipped
    assert liq.markets["inv"].qty == 100.0 and liq.markets["inv"].unit_value == 10.0
    est = lq.estimates_table(liq)
    assert (est["start_times"] > 0).all()
    paths = lq.inventory_paths(liq.markets["lin"])
    for p in paths.values():
        assert p[0] == 1.0 and p[-1] == pytest.approx(0.0, abs=1e-12)
    paired = lq.paired_vs_twap(liq.shortfall, horizon_s=30.0, start_every_s=20.0, n_boot=50)
    assert "twap" not in set(paired["strategy"])
    ac0 = paired.set_index("strategy").loc["ac_0"]
    assert ac0["mean_diff_bps"] == pytest.approx(0.0, abs=1e-9)
    kap = lq.urgency_table(liq.shortfall)
    assert list(kap.columns) == ["ac_0", "ac_0.01"]
    theory = lq.theory_frontiers(liq, [1e-6, 1e-3])
    assert len(theory) == 4 and (theory["std_bps"] >= 0).all()


# --------------------------------------------------------------------------------------
# verdicts and tables
# --------------------------------------------------------------------------------------


def _cis(net, gross, pf):
    rows = []
    for s, (lo, hi) in (("model", net), ("perfect_foresight", pf)):
        rows.append(
            {
                "strategy": s,
                "value": "net_bps",
                "n_trips": 40,
                "mean": (lo + hi) / 2,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    lo, hi = gross
    rows.append(
        {
            "strategy": "model",
            "value": "gross_bps",
            "n_trips": 40,
            "mean": (lo + hi) / 2,
            "ci_low": lo,
            "ci_high": hi,
        }
    )
    return pd.DataFrame(rows)


def test_backtest_verdict_follows_the_interval(source):
    _, _, _, src = source
    ranks = study.rank_among_random(src.runs)
    args = (src.runs, ranks, np.array([1.0, 2.0]), np.array([10.0, 10.0]))
    lose = vd.backtest_verdict(
        _cis((-9, -2), (-1, 1), (-5, -1)), *args, horizon=10, confidence=0.95
    )
    assert "the whole interval is below zero" in lose
    assert "no gross edge" in lose and "smaller than the fee alone" in lose
    unclear = vd.backtest_verdict(
        _cis((-2, 3), (1, 4), (-5, -1)), *args, horizon=10, confidence=0.95
    )
    assert "cannot be told apart from zero" in unclear and "positive gross edge" in unclear


def test_book_table_formats_and_narrows():
    t = pd.DataFrame(
        {"segment": ["a", "b"], "n": [3.0, np.nan], "x": [0.123456, 2.0], "skip": [1, 2]}
    )
    out = book_table(t, ["n", "x"], index="segment", ints=["n"], digits={"x": 3})
    assert list(out.columns) == ["n", "x"]
    assert out.loc["a"].tolist() == ["3", "0.123"] and out.loc["b", "n"] == "–"
    assert math.isclose(float(out.loc["b", "x"]), 2.0)


def test_deeplob_path_through_the_backtest_and_its_verdict():
    """The chapter's DeepLOB cells on a synthetic market and synthetic probabilities."""
    markets = {"a": synthetic_market("a", seed=7)}
    cl = {"a": synthetic_signals(markets["a"], seed=7)}
    dts = cl["a"].decision_ts
    rng = np.random.default_rng(8)
    ts = np.arange(dts[5], dts[-5], S // 10)
    p_up = rng.uniform(0, 0.6, ts.size)
    sig = pd.DataFrame(
        {
            "segment": "a",
            "model": "deeplob",
            "split": "test",
            "horizon_s": 10,
            "ts": ts,
            "p_down": 0.6 - p_up,
            "p_up": p_up,
        }
    )
    deep = study.deeplob_signals(sig, cl, model="deeplob", horizon=10, max_age_s=1.0)
    settings = study.BacktestSettings(order_value=1_000.0, seeds=(0, 1, 2))
    src = study.backtest_source(markets, deep.signals, settings)
    same = study.classical_on_times(markets, deep.classical, src.configs)
    assert same["strategy"].eq("classical").all() and list(same["segment"]) == ["a"]
    boot = ev.BootstrapConfig(block_length=2, n_boot=50, seed=0)
    text = vd.deeplob_verdict(
        deep.table,
        src.strategy("model"),
        same,
        study.rank_among_random(src.runs),
        study.cost_breakdown(src.strategy("model")),
        study.trip_ci(src.closed_trips, "model", "net_bps", boot),
        study.trip_ci(src.closed_trips, "model", "gross_bps", boot),
        model="deeplob",
    )
    assert text.startswith("**DeepLOB, net of costs.**") and "deeplob has a signal" in text
    eq = study.equity_frame(src, deep.signals)
    assert eq["t_s"].min() == 0.0


def test_maker_and_liquidation_verdicts_follow_the_numbers():
    maker = pd.DataFrame(
        {
            "fill_rate": [0.2, 0.4],
            "maker_slippage_bps": [-0.5, -0.1],
            "maker_gross_bps": [1.0, 2.0],
            "maker_net_bps": [-1.0, 0.0],
            "taker_gross_bps": [3.0, 4.0],
            "taker_net_bps": [-9.0, -8.0],
        }
    )
    text = vd.maker_verdict(maker, 5.0)
    assert "keeps less of the forecast's edge" in text and "(no spread to pay" in text
    sf = pd.DataFrame(
        {
            "segment": "a",
            "start_ts": [0, 0, 1, 1],
            "strategy": ["twap", "ac_1", "twap", "ac_1"],
            "shortfall_bps": [2.0, 2.5, 4.0, 2.7],
            "shortfall_quote": [2.0, 2.5, 4.0, 2.7],
            "walk_cost_bps": [0.1, 0.2, 0.1, 0.2],
            "timing_bps": [1.9, 2.3, 3.9, 2.5],
        }
    )
    from lobutils.trading import execution as ex

    pooled = ex.frontier_table(sf).set_index("strategy")
    paired = pd.DataFrame(
        {"strategy": ["ac_1"], "mean_diff_bps": [-0.4], "ci_low": [-1.0], "ci_high": [-0.1]}
    )
    text = vd.liquidation_verdict(sf, pooled, paired, value=1e5, horizon_s=60, confidence=0.95)
    assert "ac_1 is cheaper beyond the 95% interval" in text
    assert "cuts the standard deviation" in text
