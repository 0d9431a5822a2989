"""Tests of lobutils.models.volume: bars, causal features, forward targets, naive forecasts.

Trades are synthetic (hand-written or seeded), so every expected value is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lobutils.models import training
from lobutils.models import volume as V

S = 1_000_000_000


def trades(ts_s, qty, side=None, price=100.0):
    ts = (np.asarray(ts_s, dtype=float) * S).astype(np.int64)
    return pd.DataFrame(
        {
            "ts": ts,
            "price": price,
            "qty": np.asarray(qty, dtype=float),
            "side": np.ones(len(ts), int) if side is None else np.asarray(side),
        }
    )


def test_bars_hold_the_half_open_interval_and_use_quote_value():
    tr = trades([1.0, 1.5, 2.0, 2.0001], [1, 2, 3, 4], side=[1, -1, 1, -1])
    bars = V.volume_bars(tr, "1s", start=S, end=3 * S)
    # bar 1 s holds (0, 1]: the trade at exactly 1.0; bar 2 s holds (1, 2]: 1.5 and 2.0
    assert bars["ts"].tolist() == [S, 2 * S, 3 * S]
    assert bars["volume"].tolist() == [100.0, 500.0, 400.0]
    assert bars["buy_volume"].tolist() == [100.0, 300.0, 0.0]
    assert bars["n_trades"].tolist() == [1, 2, 1]
    coin_m = V.volume_bars(tr, "1s", start=S, end=3 * S, contract_value=10.0)
    assert coin_m["volume"].tolist() == [10.0, 50.0, 40.0]  # contracts x USD per contract


def test_features_are_causal_and_target_is_forward():
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 300, 2000))
    tr = trades(t, rng.exponential(1.0, t.size), side=rng.choice([-1, 1], t.size))
    bars = V.volume_bars(tr, "1s", start=S, end=300 * S)
    full = V.volume_table(bars, k=5, lags=3, windows=(4, 20))
    cut = V.volume_table(bars.iloc[:200], k=5, lags=3, windows=(4, 20))
    # truncating the future leaves every feature of the earlier bars unchanged
    pd.testing.assert_frame_equal(full.X.iloc[:200], cut.X)
    # the target at t is the volume of bars t+1..t+5, realised 5 s later
    v = bars["volume"].to_numpy()
    np.testing.assert_allclose(np.expm1(full.y[10]), v[11:16].sum())
    assert full.target_end[10] == bars["ts"].iloc[10] + 5 * S
    assert np.isnan(full.y[-5:]).all() and np.isfinite(full.y[:-5]).all()


def test_naive_forecasts_use_only_the_past():
    bars = V.volume_bars(trades([0.5, 1.5, 2.5, 3.5], [1, 2, 3, 4]), "1s", start=S, end=4 * S)
    vt = V.volume_table(bars, k=2, lags=1, windows=(1,))
    f = V.naive_forecasts(vt, mean_window=3, ewma_halflife=1.0)
    # at bar 2 s the last two bars hold 100 + 200
    assert V.to_volume(f["last_window"])[1] == pytest.approx(300.0)
    # rolling mean of bars 1..3 s (100, 200, 300) times k = 2
    assert V.to_volume(f["rolling_mean"])[2] == pytest.approx(400.0)
    assert np.isnan(f["rolling_mean"].iloc[1])
    # changing a later bar leaves earlier forecasts alone
    bars2 = bars.copy()
    bars2.loc[3, "volume"] = 1e9
    f2 = V.naive_forecasts(
        V.volume_table(bars2, k=2, lags=1, windows=(1,)), mean_window=3, ewma_halflife=1.0
    )
    pd.testing.assert_frame_equal(f.iloc[:3], f2.iloc[:3])


def test_evaluate_volume_on_a_persistent_synthetic_market():
    """Volume with regimes (labelled synthetic): the fitted models and naive ones run, are
    scored on the same test bars, and the table carries the protocol's columns."""
    rng = np.random.default_rng(1)
    n = 400
    level = np.repeat(rng.uniform(0.5, 5.0, n // 40), 40)
    counts = rng.poisson(level)
    t = np.concatenate([i + np.sort(rng.uniform(0, 1, c)) for i, c in enumerate(counts)])
    tr = trades(t, rng.exponential(1.0, t.size))
    bars = V.volume_bars(tr, "1s", start=S, end=n * S)
    vt = V.volume_table(bars, k=5, lags=2, windows=(5, 20))
    res = V.evaluate_volume(
        vt,
        "synthetic",
        T=6,
        models=("linear",),
        train_config=training.TrainConfig(
            epochs=1, run_eagerly=True, early_stopping_patience=None, reduce_lr_patience=None
        ),
        n_boot=30,
    )
    mse = res.table[res.table["metric"] == "mse"].set_index("model")
    assert set(mse.index) == {"linear", "lstm", "last_window", "rolling_mean", "ewma"}
    assert mse.loc["linear", "baseline"] in {"last_window", "rolling_mean", "ewma"}
    assert len(res.predictions) == res.split["n_test"] > 0
    assert res.predictions["ts"].is_monotonic_increasing
    assert len(res.history) == 1


def _regime_bars(n: int = 300, seed: int = 1) -> pd.DataFrame:
    """Bars of a synthetic market whose trade rate switches level every 40 s."""
    rng = np.random.default_rng(seed)
    level = np.repeat(rng.uniform(0.5, 5.0, n // 40 + 1), 40)[:n]
    counts = rng.poisson(level)
    t = np.concatenate([i + np.sort(rng.uniform(0, 1, c)) for i, c in enumerate(counts)])
    side = rng.choice([-1, 1], t.size)
    return V.volume_bars(trades(t, rng.exponential(1.0, t.size), side), "1s", start=S, end=n * S)


def test_time_of_day_is_optional_and_changes_nothing_else():
    bars = _regime_bars()
    with_tod = V.volume_table(bars, k=5, lags=2, windows=(5,))
    without = V.volume_table(bars, k=5, lags=2, windows=(5,), time_of_day=False)
    assert {"tod_sin", "tod_cos"} <= set(with_tod.X) and "tod_sin" not in without.X
    pd.testing.assert_frame_equal(with_tod.X.drop(columns=["tod_sin", "tod_cos"]), without.X)
    np.testing.assert_array_equal(with_tod.y, without.y)


def test_overview_persistence_and_several_markets():
    """Two synthetic markets, one far too short: it is skipped with its reason, the other is
    scored, and the naive summary counts its comparisons."""
    long_, short = _regime_bars(), _regime_bars(n=20, seed=2)
    ov = V.bar_overview({"long": long_, "short": short})
    assert ov.loc["long", "bars"] == len(long_) and ov["trades"].dtype.kind == "i"
    p = V.persistence(long_, 5)
    assert p["lag1"] > 0.1  # the regimes make volume persistent
    tables = {n: V.volume_table(b, k=5, lags=2, windows=(5, 20)) for n, b in
              (("long", long_), ("short", short))}  # fmt: skip
    table, preds, splits, hist, skipped = V.evaluate_markets(
        tables, T=6, models=("linear",), keras_model=False, n_boot=30
    )
    assert list(skipped) == ["short"] and set(table["segment"]) == {"long"}
    assert list(splits["segment"]) == ["long"] and len(preds) == splits["n_test"].iloc[0]
    assert hist.empty
    ns = V.naive_summary(table)
    assert len(ns["models"]) == 1 and ns["best_by_segment"]["long"] in {
        "last_window",
        "rolling_mean",
        "ewma",
    }
