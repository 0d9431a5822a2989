"""Tests of lobutils.models.runs: settings, the run log, per-market runs and the variants.

The runs read a bundled recording (spot BTCUSDT on a 1 s grid); the models are tiny (T = 8,
one epoch, run eagerly) so that the file stays quick on two busy CPU cores.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from lobutils.data.catalog import segment
from lobutils.models import runs, study, training

SETTINGS = runs.RunSettings(
    grid="1s", T=8, horizon_s=5, long_horizon_s=20, train_stride=7, n_boot=20, classical=()
)
CFG = training.TrainConfig(
    epochs=1, batch_size=32, run_eagerly=True, early_stopping_patience=None, class_weight="balanced"
)


@pytest.fixture(scope="module")
def tasks():
    lobs, skipped = runs.load_lobs([segment("spot_btcusdt")], SETTINGS)
    assert not skipped and len(lobs) == 1
    tasks, skipped = runs.make_tasks(lobs, SETTINGS)
    assert not skipped
    return tasks


def test_settings_are_frozen_and_label_the_horizons():
    s = runs.RunSettings(fractions=[0.5, 0.25, 0.25], classical=["linear"])
    assert (s.h_lab, s.h_long, s.fractions, s.classical) == (
        "10s",
        "60s",
        (0.5, 0.25, 0.25),
        ("linear",),
    )
    assert s.holdout.fractions == (0.5, 0.25, 0.25)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.T = 5  # type: ignore[misc]
    # a changed setting changes every run's checkpoint key
    assert study.run_key("m", s) != study.run_key("m", dataclasses.replace(s, T=50))


def test_overview_and_split_views_are_narrow(tasks):
    wt = tasks["spot_btcusdt"]
    view = runs.split_view(tasks)
    assert list(view.index) == ["spot_btcusdt"]
    assert view.loc["spot_btcusdt", "train"] == len(wt.split.train)
    assert view["test"].dtype.kind == "i"
    assert runs.lob_overview([wt.lob])["rows"].dtype.kind == "i"


def test_market_runs_log_scores_and_signals(tasks, tmp_path):
    log = runs.RunLog()
    speeds = runs.train_markets(tasks, ["cnn"], SETTINGS, CFG, log, tmp_path)
    wt = tasks["spot_btcusdt"]
    assert list(speeds["model"]) == ["cnn"] and speeds["epochs"].iloc[0] == 1
    fit = log.fits[("cnn", "spot_btcusdt")]
    np.testing.assert_array_equal(fit.y_true, wt.y_test())
    # the market's own classifier leaves its test probabilities as signals, at the window ends
    sig = log.signals_table()
    assert len(sig) == len(wt.split.test)
    np.testing.assert_array_equal(sig["ts"].to_numpy(), wt.ts[wt.split.test])
    # the checkpoint sits under the segment, named by the model and the key
    assert [p.name.split("-")[0] for p in (tmp_path / "spot_btcusdt").iterdir()] == ["cnn"]
    table = runs.score_markets(tasks, ["cnn"], SETTINGS, log)
    ba = table[(table["metric"] == "balanced_accuracy") & (table["model"] == "cnn")]
    assert len(ba) == 1 and 0 <= ba["value"].iloc[0] <= 1
    summ = runs.learning_summary(log.history())
    assert summ["runs"] == 1 and summ["chance"] == pytest.approx(np.log(3))
    assert runs.single_class_runs(log, ["cnn"], ["spot_btcusdt"]) in (0, 1)


def test_variants_return_one_tidy_table(tasks, tmp_path):
    log = runs.RunLog()
    out = runs.run_variants(tasks, ["spot_btcusdt", "absent"], ["l1_lstm"], SETTINGS, CFG, log,
                            tmp_path)  # fmt: skip
    assert set(out["target"]) == {"bid", "ask", "mid"}
    assert set(out["model"]) >= {"l1_lstm", "xgboost", "persistence"}
    assert ("l1_lstm", "spot_btcusdt") in log.fits and not log.signals  # a variant: no signals
    assert log.throughput()["scope"].tolist() == ["variant"]
    with pytest.raises(ValueError, match="unknown variants"):
        runs.run_variants(tasks, ["spot_btcusdt"], ["gru"], SETTINGS, CFG, log, tmp_path)


def test_data_budget_counts_thinned_windows_and_labels(tasks):
    wt = tasks["spot_btcusdt"]
    b = runs.data_budget(tasks, n_params=1_000, train_stride=7)
    n = len(wt.split.train)
    assert b["train_windows"] == n and b["train_windows_thinned"] == -(-n // 7)
    assert b["params_per_window"] == pytest.approx(1_000 / -(-n // 7))
    assert b["independent_targets"] == pytest.approx(n / wt.horizon_rows)


def test_ci_pivot_marks_winners_and_names_the_baseline():
    t = pd.DataFrame(
        {"segment": ["a", "a", "b"], "role": "model", "model": ["m", "n", "m"], "metric": "r2",
         "value": [0.1, -0.2, 0.3], "ci_low": [0.05, -0.4, -0.1], "ci_high": [0.2, 0.0, 0.5],
         "baseline": "zero", "baseline_value": 0.0, "beats_baseline": [True, False, None]}
    )  # fmt: skip
    v = study.ci_pivot(t, "r2", digits=2)
    assert v.loc["a", "m"] == "0.10 [0.05, 0.20] *" and v.loc["b", "m"] == "0.30 [-0.10, 0.50]"
    assert pd.isna(v.loc["b", "n"]) and v.loc["b", "best baseline"] == "zero 0.00"
