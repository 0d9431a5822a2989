"""Tests of lobutils.trading.execution: the Almgren–Chriss closed form against a numerical minimisation,
the TWAP limit, shortfall known answers on hand-built books, the impact estimate, and the
execution kernel against its pure-Python reference.

Every book here is synthetic and labelled as such.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from lobutils.schema import book_columns
from lobutils.trading import _kernels as K
from lobutils.trading import backtest as bt
from lobutils.trading import execution as ex

S = 1_000_000_000


def uniform_book(n_states=1, levels=40, tick=0.01, qty=1.0, best_bid=100.0, step=S):
    """``levels`` levels of ``qty`` every ``tick`` on each side, spread one tick (synthetic)."""
    rows = []
    for k in range(n_states):
        bp = [best_bid - tick * i for i in range(levels)]
        ap = [best_bid + tick + tick * i for i in range(levels)]
        rows.append([k * step, 0, k, *bp, *([qty] * levels), *ap, *([qty] * levels)])
    return pd.DataFrame(rows, columns=book_columns(levels))


def book_around(mids, levels, qty):
    """One state a second with mid ``mids[k]``: ``levels`` levels of ``qty`` a cent apart on
    each side, spread one cent (synthetic)."""
    n = len(mids)
    d = {"ts": np.arange(n, dtype=np.int64) * S, "local_ts": 0, "update_id": np.arange(n)}
    d |= {f"bid_px_{i + 1}": mids - 0.005 - 0.01 * i for i in range(levels)}
    d |= {f"bid_qty_{i + 1}": qty for i in range(levels)}
    d |= {f"ask_px_{i + 1}": mids + 0.005 + 0.01 * i for i in range(levels)}
    d |= {f"ask_qty_{i + 1}": qty for i in range(levels)}
    return pd.DataFrame(d)


# --------------------------------------------------------------------------------------
# Almgren–Chriss
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lam", "sigma", "eta", "gamma"),
    [(1e-3, 2.0, 0.5, 0.0), (1e-2, 1.0, 3.0, 0.0), (5e-2, 0.5, 1.0, 0.1), (0.2, 3.0, 2.0, 0.0)],
)
def test_closed_form_matches_numerical_minimisation(lam, sigma, eta, gamma):
    X, T, n = 10.0, 30.0, 6

    def objective(inner):
        x = np.concatenate([[X], inner, [0.0]])
        return ex.ac_objective(x, T, lam, sigma, eta, gamma=gamma)

    x0 = np.linspace(X, 0.0, n + 1)[1:-1]
    res = minimize(objective, x0, method="BFGS", options={"gtol": 1e-12})
    closed = ex.ac_holdings(X, T, n, lam, sigma, eta, gamma=gamma)
    np.testing.assert_allclose(closed[1:-1], res.x, rtol=1e-5, atol=1e-6)
    assert objective(closed[1:-1]) <= res.fun + 1e-9


def test_twap_limit():
    X, T, n = 7.0, 60.0, 12
    twap = X * (1 - np.arange(n + 1) / n)
    np.testing.assert_allclose(ex.ac_holdings(X, T, n, 0.0, 1.0, 1.0), twap, atol=1e-12)
    np.testing.assert_allclose(ex.ac_holdings(X, T, n, 1e-14, 1.0, 1.0), twap, atol=1e-9)
    np.testing.assert_allclose(
        -np.diff(ex.ac_holdings(X, T, n, 0.0, 1.0, 1.0)), ex.twap_slices(X, n), atol=1e-12
    )


def test_trajectory_front_loads_with_risk_aversion_and_is_stable():
    x1 = [ex.ac_holdings(1.0, 60.0, 12, lam, 1.0, 1.0)[1] for lam in (0.0, 1e-3, 1e-2, 1e-1, 1e3)]
    assert all(a > b for a, b in zip(x1, x1[1:], strict=False))
    huge = ex.ac_holdings(1.0, 60.0, 12, 1e9, 1.0, 1e-6)  # kappa T in the thousands
    assert np.all(np.isfinite(huge)) and huge[1] < 1e-12 and huge[0] == 1.0


def test_discrete_kappa_tends_to_continuous():
    cont = ex.ac_kappa(1e-3, 2.0, 0.5)
    disc = [ex.ac_kappa(1e-3, 2.0, 0.5, tau=t) for t in (10.0, 1.0, 0.01)]
    assert abs(disc[-1] - cont) / cont < 1e-6
    assert abs(disc[0] - cont) > abs(disc[1] - cont)
    with pytest.raises(ValueError):
        ex.ac_kappa(1e-3, 1.0, 0.1, tau=10.0, gamma=1.0)


def test_frontier_is_efficient():
    fr = ex.ac_frontier(10.0, 60.0, 12, 1.0, 2.0, [0.0, 1e-3, 1e-2, 1e-1])
    assert fr["expected_cost"].is_monotonic_increasing
    assert fr["std_cost"].is_monotonic_decreasing
    assert fr["kappa_T"].iloc[0] == 0.0


# --------------------------------------------------------------------------------------
# shortfall on the book
# --------------------------------------------------------------------------------------


def test_single_slice_shortfall_equals_the_book_walk_cost():
    f = uniform_book(levels=40)
    b = bt.book_arrays_of(f)
    for q in (0.5, 3.0, 12.25):
        walk = bt.walk_book(b.bid_px[0], b.bid_qty[0], q)
        mid = 100.005
        r = ex.implementation_shortfall(f, 0, [q], tau_s=1.0)
        assert r["shortfall_quote"].iloc[0] == pytest.approx(q * mid - walk["notional"])
        assert r["shortfall_bps"].iloc[0] == pytest.approx((1 - walk["vwap"] / mid) * 1e4)
        buy = ex.implementation_shortfall(f, 0, [q], tau_s=1.0, side=1)
        w2 = bt.walk_book(b.ask_px[0], b.ask_qty[0], q)
        assert buy["shortfall_quote"].iloc[0] == pytest.approx(w2["notional"] - q * mid)


def test_zero_size_has_zero_shortfall():
    f = uniform_book()
    r = ex.implementation_shortfall(f, [0, 0], np.zeros((2, 4)), tau_s=1.0)
    assert r["shortfall_quote"].tolist() == [0.0, 0.0]
    assert r["shortfall_bps"].tolist() == [0.0, 0.0]


def test_slices_walk_a_fresh_book_each_time_and_carry_the_unfilled():
    f = uniform_book(n_states=3, levels=2, qty=1.0)  # 2 units visible per state
    r = ex.implementation_shortfall(f, 0, [2.0, 2.0, 2.0], tau_s=1.0)
    # each slice takes levels 100 and 99.99 again: the book refills
    assert r["shortfall_quote"].iloc[0] == pytest.approx(3 * (2 * 100.005 - 199.99))
    carry = ex.implementation_shortfall(f, 0, [3.0, 1.0, 0.0], tau_s=1.0)
    # 1 unit carried from the first slice, filled in the second
    assert carry["unfilled_qty"].iloc[0] == 0.0
    assert carry["shortfall_quote"].iloc[0] == pytest.approx(4 * 100.005 - 2 * 199.99)
    left = ex.implementation_shortfall(f, 0, [0.0, 0.0, 5.0], tau_s=1.0)
    assert left["unfilled_qty"].iloc[0] == 3.0
    # the rest is valued at the deepest visible bid, 99.99
    assert left["shortfall_quote"].iloc[0] == pytest.approx(5 * 100.005 - (199.99 + 3 * 99.99))


def test_inverse_shortfall_in_usd():
    f = uniform_book(levels=3, qty=10.0, best_bid=50000.0, tick=1.0)
    r = ex.implementation_shortfall(f, 0, [15.0], tau_s=1.0, contract_value=100.0)
    mid = 50000.5
    coin = 100.0 * (10 / 50000.0 + 5 / 49999.0) - 15 * 100.0 / mid
    assert r["shortfall_quote"].iloc[0] == pytest.approx(coin * mid, rel=1e-10)
    assert r["arrival_value"].iloc[0] == 1500.0


def test_permanent_impact_and_fees_add_costs():
    f = uniform_book(n_states=2, levels=50, qty=100.0)
    base = ex.implementation_shortfall(f, 0, [1.0, 1.0], tau_s=1.0)
    perm = ex.implementation_shortfall(f, 0, [1.0, 1.0], tau_s=1.0, permanent_bps_per_million=1e6)
    # the second slice (100 quote of value) trades after 100 of value: 100 * (1e6 bps/1e6 * 100)
    extra = perm["shortfall_quote"].iloc[0] - base["shortfall_quote"].iloc[0]
    assert extra == pytest.approx(100.0 * 100.0 * 1e-4 * 100.005**2 / 100.0**2, rel=1e-3)
    fee = ex.implementation_shortfall(f, 0, [1.0, 1.0], tau_s=1.0, fee_bps=10.0)
    assert fee["shortfall_bps"].iloc[0] - base["shortfall_bps"].iloc[0] == pytest.approx(10.0)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_execute_schedules_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n_states, L, W, n = 12, 4, 5, 4
    ts = np.sort(rng.choice(np.arange(1, 100), n_states, replace=False)).astype(np.int64) * 10**8
    px = 100 - np.cumsum(rng.uniform(0.01, 0.1, (n_states, L)), axis=1)
    px[rng.random((n_states, L)) < 0.1] = np.nan
    qty = rng.uniform(0.0, 2.0, (n_states, L))
    slice_ts = np.sort(rng.integers(0, 11 * 10**9, (W, n)), axis=1).astype(np.int64)
    slices = rng.uniform(0.0, 3.0, (W, n))
    fast = K.execute_schedules(ts, px, qty, slice_ts, slices)
    ref = K.execute_schedules_py(ts, px, qty, slice_ts, slices)
    for a, b in zip(fast, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    filled, _, _, left, _ = fast
    np.testing.assert_allclose(filled.sum(axis=1) + left, slices.sum(axis=1), rtol=1e-9)


# --------------------------------------------------------------------------------------
# estimating the model
# --------------------------------------------------------------------------------------


def test_eta_estimate_on_a_hand_built_book():
    # 1 unit every 0.01 below 100.00: selling q whole units costs 0.005 q per unit
    f = uniform_book(levels=40)
    est = ex.estimate_impact(f, [0], [1.0, 2.0, 4.0, 8.0, 16.0])
    assert est.eta_slice == pytest.approx(0.005)
    assert est.epsilon == pytest.approx(0.0, abs=1e-9)
    assert est.half_spread == pytest.approx(0.005)
    assert est.eta(5.0) == pytest.approx(0.025)
    np.testing.assert_allclose(est.median_cost, 0.005 * np.array([1, 2, 4, 8, 16]))
    # twice the depth per level halves the impact per unit of size
    deep = ex.estimate_impact(uniform_book(levels=40, qty=2.0), [0], [2.0, 4.0, 8.0, 16.0])
    assert deep.eta_slice == pytest.approx(0.0025)
    # a size beyond the visible depth is left out of the fit
    thin = ex.estimate_impact(uniform_book(levels=5), [0], [1.0, 2.0, 4.0, 8.0])
    assert thin.unfilled_share.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert thin.eta_slice == pytest.approx(0.005)


def test_sigma_uses_the_past_only():
    rng = np.random.default_rng(0)
    mids = 100 + np.cumsum(rng.normal(0, 0.1, 300))
    f = pd.DataFrame(
        {
            "ts": np.arange(300, dtype=np.int64) * S,
            "local_ts": 0,
            "update_id": np.arange(300),
            "bid_px_1": mids - 0.01,
            "bid_qty_1": 1.0,
            "ask_px_1": mids + 0.01,
            "ask_qty_1": 1.0,
        }
    )
    sig = ex.estimate_sigma(f, 200 * S, 120.0)
    assert sig == pytest.approx(np.std(np.diff(mids[80:201]), ddof=1))
    g = f.copy()
    g.loc[g["ts"] > 200 * S, ["bid_px_1", "ask_px_1"]] += 50.0
    assert ex.estimate_sigma(g, 200 * S, 120.0) == sig
    inv = ex.estimate_sigma(f, 200 * S, 120.0, contract_value=10.0)
    r = np.diff(mids[80:201]) / mids[80:200] * 10.0
    assert inv == pytest.approx(np.std(r, ddof=1))


def test_volume_profile_uses_trades_before_the_start_only():
    t = np.array([1, 2, 9, 10, 11], dtype=np.int64) * S
    q = np.array([1.0, 1.0, 2.0, 100.0, 100.0])
    p = ex.volume_profile(t, q, start_ts=10 * S, horizon_s=5.0, n=5, lookback_s=10.0)
    # windows [0, 5) and [5, 10): bins of 1 s; 1 s, 2 s and 9 s land in bins 1, 2 and 4
    np.testing.assert_allclose(p, [0.0, 0.25, 0.25, 0.0, 0.5])
    assert ex.volume_profile(t, q, 0, 5.0, 5, 10.0).tolist() == [0.2] * 5


def test_predictive_slices():
    sig = np.array([-1, -1, 1, 0, 1, -1], dtype=float)
    s = ex.predictive_slices(6.0, sig, alpha=0.5)
    assert s.sum() == pytest.approx(6.0) and np.all(s >= 0)
    assert s[0] > 1.0  # a seller speeds up when the price is expected to fall
    np.testing.assert_allclose(ex.predictive_slices(6.0, sig, alpha=0.0), np.ones(6))
    buy = ex.predictive_slices(6.0, sig, alpha=0.5, side=1)
    assert buy[0] < 1.0
    huge = ex.predictive_slices(6.0, -np.ones(6), alpha=10.0)
    assert huge[0] == 6.0 and huge[1:].sum() == 0.0


def test_liquidation_study_on_a_synthetic_book():
    rng = np.random.default_rng(5)
    n = 400
    mids = 100 + np.cumsum(rng.normal(0, 0.02, n))
    f = book_around(mids, levels=10, qty=2.0)
    trades = pd.DataFrame({"ts": np.arange(0, n, 3, dtype=np.int64) * S, "qty": 1.0})
    cfg = ex.LiquidationConfig(qty=6.0, horizon_s=30.0, n_slices=6, risk_aversions=(0.0, 1.0))
    starts = ex.start_times(f, cfg, every_s=20.0)
    assert starts[0] >= cfg.warmup_s * S and starts[-1] + 30 * S <= f["ts"].iloc[-1]
    res = ex.liquidation_study(f, trades, starts, cfg)
    tab = res.table
    assert set(tab["strategy"]) == {"twap", "vwap", "ac_0", "ac_1", "predictive"}
    assert len(tab) == 5 * starts.size
    for k, sl in res.schedules.items():
        np.testing.assert_allclose(sl.sum(axis=1), 6.0, err_msg=k)
    tw = tab[tab["strategy"] == "twap"]
    ac0 = tab[tab["strategy"] == "ac_0"]
    np.testing.assert_allclose(tw["shortfall_quote"].to_numpy(), ac0["shortfall_quote"].to_numpy())
    assert (tab.loc[tab["strategy"] == "ac_1", "first_slice_share"] > 1 / 6).all()
    fr = ex.frontier_table(tab)
    assert list(fr["strategy"]) == ["twap", "vwap", "ac_0", "ac_1", "predictive"]
    assert (fr["n"] == starts.size).all()
    # the future after start + T does not change any window's result
    g = f.copy()
    last = int(starts[-1]) + 30 * S
    g.loc[g["ts"] > last, [c for c in g.columns if c.startswith(("bid_px", "ask_px"))]] += 5.0
    res2 = ex.liquidation_study(g, trades, starts, cfg)
    cols = ["shortfall_quote", "sigma", "eta_slice"]
    pd.testing.assert_frame_equal(res.table[cols], res2.table[cols])


def test_shortfall_splits_into_walk_timing_permanent_and_fees():
    rng = np.random.default_rng(2)
    n = 50
    mids = 100 + np.cumsum(rng.normal(0, 0.05, n))
    f = book_around(mids, levels=5, qty=1.0)
    for cv in (None, 10.0):
        r = ex.implementation_shortfall(
            f,
            [0, 10 * S],
            [[2.0, 3.0, 1.0, 7.0], [0.0, 1.0, 1.0, 0.5]],
            tau_s=2.0,
            contract_value=cv,
            permanent_bps_per_million=5.0,
            fee_bps=3.0,
        )
        parts = r[["walk_cost_bps", "timing_bps", "permanent_bps", "fee_bps"]].sum(axis=1)
        np.testing.assert_allclose(parts, r["shortfall_bps"], rtol=1e-10, atol=1e-10)
        assert (r["walk_cost_bps"] > 0).all()
        assert r["fee_bps"].tolist() == pytest.approx([3.0, 3.0])
