"""Tests of lobutils.models.zoo and lobutils.plots.models.

All data here are synthetic (a seeded generator below): autocorrelated features and a mid
price whose next moves depend, or do not depend, on them. The expected behaviour is known:
a model fitted on labels unrelated to the features must score at chance under the protocol.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from lobutils import evaluation as ev
from lobutils import markets
from lobutils.features import targets as T
from lobutils.features.core import FeatureConfig
from lobutils.features.dataset import Dataset
from lobutils.models import zoo
from lobutils.plots import models as plots_models

S = 1_000_000_000


# --------------------------------------------------------------------------------------
# synthetic data
# --------------------------------------------------------------------------------------


def synthetic_dataset(
    n: int = 1500,
    horizons: tuple[int, ...] = (1, 5),
    signal: float = 0.5,
    seed: int = 0,
    placebo_block: int | None = None,
    name: str = "usdm_synthusdt",
) -> Dataset:
    """A synthetic 1-second-grid Dataset (labelled synthetic).

    Three AR(1) features; the mid's log increment from row t to t+1, in bps, is
    ``signal * f0[t] + noise``, so the forward return at t is predictable from the features at
    t. With ``placebo_block``, every horizon's forward returns are block-shuffled: labels that
    keep their overlap structure but are unrelated to the features.
    """
    rng = np.random.default_rng(seed)
    ts = 1_723_161_600 * S + np.arange(n, dtype=np.int64) * S
    X = np.zeros((n, 3))
    e = rng.normal(size=(n, 3))
    for t in range(1, n):
        X[t] = 0.9 * X[t - 1] + math.sqrt(1 - 0.81) * e[t]
    steps = np.r_[0.0, signal * X[:-1, 0] + rng.normal(size=n - 1)]
    mid = 100.0 * np.exp(np.cumsum(steps) / 1e4)
    bid, ask = mid * (1 - 0.5e-4), mid * (1 + 0.5e-4)
    labels = tuple(f"{h}s" for h in horizons)
    returns, bchg, achg, tend = {}, {}, {}, {}
    for h, lab in zip(horizons, labels, strict=True):
        r = T.forward_returns(mid, ts=ts, seconds=float(h))
        if placebo_block is not None:
            ok = np.isfinite(r)
            r[ok] = ev.block_shuffle(r[ok], placebo_block, seed=seed + 1)
        returns[lab] = r
        bchg[lab] = T.forward_returns(bid, ts=ts, seconds=float(h))
        achg[lab] = T.forward_returns(ask, ts=ts, seconds=float(h))
        tend[lab] = ts + np.int64(h) * S
    Xf = pd.DataFrame(X, columns=["f0", "f1", "f2"])
    return Dataset(
        name=name,
        market="usdm",
        symbol="synthusdt",
        contract_value=None,
        grid="1s",
        unit="s",
        horizons=tuple(horizons),
        levels=1,
        ts=ts,
        mid=mid,
        bid=bid,
        ask=ask,
        spread_bps=np.full(n, 1.0),
        features=Xf.copy(),
        X=Xf,
        returns=pd.DataFrame(returns),
        bid_change=pd.DataFrame(bchg),
        ask_change=pd.DataFrame(achg),
        target_end=pd.DataFrame(tend),
        feature_config=FeatureConfig(),
    )


def tiny_xy(n: int = 120, seed: int = 0, classes: int = 3):
    """Tiny synthetic regression and classification data."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    y_reg = X["a"].to_numpy() + 0.3 * rng.normal(size=n)
    y_cls = np.digitize(y_reg, np.quantile(y_reg, np.linspace(0, 1, classes + 1)[1:-1]))
    return X, y_reg, y_cls.astype(np.int64)


# --------------------------------------------------------------------------------------
# configs
# --------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", list(zoo.MODEL_CONFIGS))
@pytest.mark.parametrize("task", ["regression", "classification"])
def test_each_config_builds_and_fits_on_tiny_data(name, task):
    X, y_reg, y_cls = tiny_xy()
    y = y_reg if task == "regression" else y_cls
    cfg = zoo.MODEL_CONFIGS[name](seed=1)
    split = ev.TrainValTest(np.arange(80), np.arange(85, 100), np.arange(105, 120))
    fit = zoo.fit_final(cfg, task, X, y, split)
    assert fit.y_pred.shape == (15,)
    assert np.all(np.isfinite(fit.y_pred.astype(float)))
    if task == "classification":
        assert set(np.unique(fit.y_pred)) <= {0, 1, 2}
        assert fit.proba is None or fit.proba.shape == (15, len(fit.classes))
    # the pipeline scales exactly when the config says so
    has_scaler = hasattr(fit.estimator, "named_steps")
    assert has_scaler == (cfg.scaler is not None)
    # deterministic: the same config fits the same model
    again = zoo.fit_final(cfg, task, X, y, split)
    assert np.array_equal(fit.y_pred, again.y_pred)


def test_configs_are_frozen_with_normalised_grids():
    cfg = zoo.TreeConfig(grid={"max_depth": [2, 3], "min_samples_leaf": (5,)})
    assert cfg.grid == (("max_depth", (2, 3)), ("min_samples_leaf", (5,)))
    assert hash(cfg) == hash(zoo.TreeConfig(grid={"max_depth": (2, 3), "min_samples_leaf": [5]}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.max_depth = 7
    with pytest.raises(ValueError, match="not one of its fields"):
        zoo.LinearConfig(grid={"depth": (1, 2)})
    with pytest.raises(ValueError, match="empty"):
        zoo.LinearConfig(grid={"alpha": ()})
    lin = zoo.LinearConfig()
    # class_weight is searched for classification only
    assert len(lin.candidates("regression")) == 4
    assert len(lin.candidates("classification")) == 8
    assert zoo.LinearConfig(grid={}).candidates("regression") == [zoo.LinearConfig(grid={})]
    assert [m.name for m in zoo.make_models(["svm", "mlp"])] == ["svm", "mlp"]
    with pytest.raises(ValueError, match="unknown models"):
        zoo.make_models(["knn"])
    table = zoo.describe_models(zoo.default_models())
    assert list(table.index) == list(zoo.MODEL_CONFIGS)
    assert table.loc["xgboost", "regression"] == "XGBRegressor"


def test_svm_subsamples_and_xgb_survives_a_missing_class():
    X, y_reg, y_cls = tiny_xy(n=400)
    split = ev.TrainValTest(np.arange(300), np.arange(310, 350), np.arange(360, 400))
    fit = zoo.fit_final(zoo.SVMConfig(max_train_rows=50), "regression", X, y_reg, split)
    assert zoo.unwrap(fit.estimator).__class__.__name__ == "SVR"
    assert fit.estimator.named_steps["model"].n_fit_rows_ == 50
    # a training block without class 1: XGBoost still fits and never predicts the unseen class
    y = y_cls.copy()
    y[:350][y[:350] == 1] = 2
    fit = zoo.fit_final(zoo.XGBConfig(), "classification", X, y, split)
    assert fit.classes.tolist() == [0, 2]
    assert set(np.unique(fit.y_pred)) <= {0, 2}


# --------------------------------------------------------------------------------------
# the search sees train and validation rows only
# --------------------------------------------------------------------------------------

CALLS: list[tuple[str, tuple[int, ...]]] = []


class SpyRegressor(RegressorMixin, BaseEstimator):
    """Records the row labels of every fit and predict (synthetic instrumentation)."""

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, X, y):
        CALLS.append(("fit", tuple(X.index)))
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        CALLS.append(("predict", tuple(X.index)))
        return np.full(len(X), self.mean_)


@dataclasses.dataclass(frozen=True)
class SpyConfig(zoo.ModelConfig):
    name = "spy"
    scaler = None  # keep the DataFrame (and its row labels) all the way to the model
    alpha: float = 1.0
    grid: object = (("alpha", (1.0, 2.0, 3.0)),)

    def build(self, task):
        return SpyRegressor(alpha=self.alpha)


def test_hyperparameter_search_only_sees_train_and_validation_rows():
    ds = synthetic_dataset(n=600, horizons=(5,))
    cfg = zoo.ZooConfig(models=(SpyConfig(),), targets=("return",), n_boot=20)
    td = zoo.make_task(ds, 5, "return", cfg)
    rows_of = {k: set(td.rows[getattr(td.split, k)].tolist()) for k in ("train", "val", "test")}
    CALLS.clear()
    zoo.evaluate_task(td, dataclasses.replace(cfg, importance_repeats=1))
    fits = [set(r) for kind, r in CALLS if kind == "fit"]
    preds = [set(r) for kind, r in CALLS if kind == "predict"]
    assert len(fits) == 4  # three grid points, then one refit
    for rows in fits[:3]:
        assert rows == rows_of["train"]  # tuning fits: training rows only
    for rows in preds[:3]:
        assert rows == rows_of["val"]  # tuning scores: validation rows only
    assert fits[3] == rows_of["train"] | rows_of["val"]  # the refit
    assert all(not (rows & rows_of["test"]) for rows in fits)  # no fit ever sees a test row
    assert all(rows == rows_of["test"] for rows in preds[3:])  # test: predictions only
    # purged: no training or validation target reaches into the test block
    test_start = td.ts[td.split.test[0]]
    assert td.target_end[np.union1d(td.split.train, td.split.val)].max() < test_start
    assert td.target_end[td.split.train].max() < td.ts[td.split.val[0]]


def test_three_class_threshold_is_fitted_on_training_rows():
    ds = synthetic_dataset(n=800, horizons=(3,))
    td = zoo.make_task(ds, 3, "three_class", zoo.ZooConfig(three_class_k=0.5))
    expected = 0.5 * np.std(td.returns[td.split.train], ddof=1)
    assert td.threshold.value == pytest.approx(expected)
    assert td.classes == ("down", "flat", "up")
    c = td.threshold.value
    assert np.array_equal(td.y == 2, td.returns > c) and np.array_equal(td.y == 0, td.returns < -c)


# --------------------------------------------------------------------------------------
# the zoo end to end: a positive control, and shuffled labels at chance
# --------------------------------------------------------------------------------------

FAST = (zoo.LinearConfig(), zoo.XGBConfig(grid={"max_depth": (2, 3)}, n_estimators=60))


@pytest.fixture(scope="module")
def real_and_placebo():
    cfg = zoo.ZooConfig(
        models=FAST,
        targets=("return", "three_class"),
        n_boot=200,
        importance_repeats=2,
        importance_models=("linear",),
    )
    real = zoo.run_zoo(synthetic_dataset(n=2000, horizons=(1, 5), seed=3), cfg)
    placebo = zoo.run_zoo(
        synthetic_dataset(n=2000, horizons=(1, 5), seed=3, placebo_block=50, name="usdm_placebo"),
        cfg,
    )
    return real, placebo


def test_positive_control_the_protocol_finds_real_skill(real_and_placebo):
    real, _ = real_and_placebo
    view = zoo.primary_view(real.table)
    lin = view[view["model"] == "linear"]
    assert lin["beats_baseline"].all()  # both targets, both horizons
    assert (lin.loc[lin["target"] == "three_class", "value"] > 0.4).all()


def test_shuffled_labels_score_at_chance_through_the_zoo(real_and_placebo):
    _, placebo = real_and_placebo
    view = zoo.primary_view(placebo.table)
    assert len(view) == 2 * 2 * len(FAST)
    assert not view["beats_baseline"].any()
    ba = view[view["target"] == "three_class"]
    assert (ba["ci_low"] <= 1 / 3 + 0.02).all()  # chance is 1/3 on three classes
    assert (ba["value"] < 0.42).all()
    r2 = view[view["target"] == "return"]
    assert (r2["ci_low"] <= 0.0).all()


def test_results_table_has_a_baseline_and_a_ci_for_every_model_row(real_and_placebo):
    real, _ = real_and_placebo
    t = real.table
    expected = {
        "segment",
        "market",
        "symbol",
        "task",
        "model",
        "role",
        "target",
        "horizon",
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "baseline",
        "baseline_value",
        "diff",
        "diff_ci_low",
        "diff_ci_high",
        "p_value",
        "beats_baseline",
        "dm_stat",
        "dm_p_value",
        "n",
        "block_length",
        "n_boot",
        "horizon_value",
        "unit",
        "n_train",
        "n_test_independent",
        "params",
    }
    assert expected <= set(t.columns)
    models = t[t["role"] == "model"]
    assert models["baseline"].notna().all()
    assert models[["ci_low", "ci_high", "diff_ci_low", "diff_ci_high"]].notna().all().all()
    assert (models["ci_low"] <= models["value"] + 1e-12).all()
    assert (models["value"] <= models["ci_high"] + 1e-12).all()
    assert models["params"].map(json.loads).map(type).eq(dict).all()
    bases = set(t.loc[t["role"] == "baseline", "model"])
    assert bases == set(ev.REGRESSION_BASELINES) | set(ev.CLASSIFICATION_BASELINES)
    # one block at least as long as the horizon in rows
    assert (t.loc[t["horizon"] == "5s", "block_length"] >= 5).all()
    # every (segment, target, horizon, model) row set has all its metrics
    counts = models.groupby(["target", "horizon", "model"]).size()
    assert counts.isin([6, 5]).all()
    # the supporting frames
    assert {"feature", "importance_mean", "model"} <= set(real.importance.columns)
    assert set(real.importance["model"]) == {"linear"}
    assert real.gain.groupby(["target", "horizon"])["gain_share"].sum().round(6).eq(1).all()
    assert real.tuning.groupby(["target", "horizon", "model"])["chosen"].sum().eq(1).all()
    assert {"n_trades", "mean_net_bps", "ci_low", "fee_bps"} <= set(real.pnl.columns)
    assert (real.splits["n_test_independent"] > 0).all()
    assert real.skipped.empty


def test_pnl_fee_defaults_to_the_market_taker_fee(real_and_placebo):
    # Fees are declared once, in lobutils.markets; the zoo and evaluation read them there.
    real, _ = real_and_placebo
    taker = markets.fees_bps("usdm")[1]
    assert real.pnl["fee_bps"].eq(taker).all()
    assert ev.BINANCE_USDM_TAKER_FEE_BPS == taker
    assert ev.BINANCE_SPOT_TAKER_FEE_BPS == markets.fees_bps("spot")[1]


def test_headline_metrics_and_saved_files(real_and_placebo, tmp_path):
    real, placebo = real_and_placebo
    both = real.combine(placebo)
    head = zoo.headline_metrics(both.table)
    assert head["n_comparisons"] == 2 * 2 * 2 * len(FAST)
    assert head["n_beat_baseline"] == len(head["beat_baseline"])
    assert all(s.startswith("usdm_synthusdt/") for s in head["beat_baseline"])
    best = head["best"]["usdm_synthusdt"]["three_class"]["5s"]
    assert best["metric"] == "balanced_accuracy" and best["beats_baseline"] is True
    written = zoo.save_results(both, tmp_path, {"note": "synthetic"})
    assert written["note"] == "synthetic"
    back = pd.read_parquet(tmp_path / "results.parquet")
    assert len(back) == len(both.table)
    for name in ("results.csv", "pnl.csv", "importance.csv", "gain.csv", "splits.csv"):
        assert (tmp_path / name).is_file()
    assert json.loads((tmp_path / "metrics.json").read_text())["headline"]["n_comparisons"] > 0


def test_too_long_horizon_is_skipped_with_a_reason():
    ds = synthetic_dataset(n=120, horizons=(1, 40))
    res = zoo.run_zoo(
        ds,
        zoo.ZooConfig(models=(zoo.LinearConfig(),), targets=("return",), n_boot=20),
    )
    assert set(res.table["horizon"]) == {"1s"}
    assert res.skipped[["target", "horizon"]].values.tolist() == [["return", "40s"]]
    assert "purge" in res.skipped["reason"].iloc[0]


def test_l1_targets_use_persistence():
    ds = synthetic_dataset(n=600, horizons=(2,))
    cfg = zoo.ZooConfig(
        models=(zoo.XGBConfig(grid={}, n_estimators=30),),
        targets=zoo.L1_TARGETS,
        n_boot=20,
        importance_repeats=0,
    )
    res = zoo.run_zoo(ds, cfg)
    assert set(res.table["target"]) == {"bid", "ask", "mid"}
    assert set(res.table.loc[res.table["role"] == "baseline", "model"]) == {
        "persistence",
        "last_change",
    }
    assert res.pnl.empty
    td = zoo.make_task(ds, 2, "bid", cfg)
    assert np.allclose(td.y, ds.bid_change["2s"].to_numpy()[td.rows])


def test_binary_drop_removes_rows_without_a_move():
    ds = synthetic_dataset(n=400, horizons=(1,))
    ds.returns.loc[::7, "1s"] = 0.0
    drop = zoo.make_task(ds, 1, "binary", zoo.ZooConfig(binary_no_change="drop"))
    keep = zoo.make_task(ds, 1, "binary", zoo.ZooConfig(binary_no_change="keep"))
    assert np.all(drop.returns != 0) and np.any(keep.returns == 0)
    assert drop.classes == ("down", "up") and keep.directions == (0, 1)


# --------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------


def test_figures_build_from_a_results_table(real_and_placebo):
    real, _ = real_and_placebo
    fig = plots_models.metric_ci(real.table, "balanced_accuracy", "three_class")
    assert len(fig.layout.annotations) == 2  # one panel per horizon
    names = {tr.name for tr in fig.data}
    assert names == {"usdm_synthusdt"}
    fig = plots_models.diff_ci(real.table, "r2_oos", "return")
    assert all(tr.name in ("beats baseline", "not") for tr in fig.data)
    fig = plots_models.pnl_per_trade(real.pnl[real.pnl["role"] == "model"])
    assert fig.data
    with pytest.raises(ValueError, match="no rows"):
        plots_models.metric_ci(real.table, "balanced_accuracy", "bid")


def test_wide_band_claim_accuracy_is_the_majority_share_without_skill():
    # Synthetic data without signal: with 86% of the training returns inside the flat band, the
    # most accurate model is about as accurate as always saying "flat", and beats nothing.
    ds = synthetic_dataset(n=1500, horizons=(1,), signal=0.0, seed=5)
    cfg = zoo.ZooConfig(models=(zoo.LinearConfig(),), n_boot=50, importance_repeats=0)
    claim, skipped = zoo.wide_band_claim([ds], 1, cfg, 0.86)
    assert skipped.empty and len(claim) == 1
    row = claim.iloc[0]
    assert abs(row["majority_share"] - 0.86) < 0.1
    assert abs(row["accuracy"] - row["majority_share"]) < 0.05
    assert not row["beats_majority"]
    assert row["balanced_accuracy"] < 0.45
    table = zoo.claim_table(claim)
    assert list(table.columns) == ["model", "accuracy (CI)", "majority", "bal. acc.", "mcc"]
