"""Tests of lobutils.models.study (chapter 6's protocol on windows) and lobutils.plots.deep.

The window task is built on one bundled segment at a 1-second grid (about a second to load);
the split checks are exact, synthetic where they can be.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lobutils import evaluation as ev
from lobutils.data.catalog import segment
from lobutils.models import deeplob as dl
from lobutils.models import study, training
from lobutils.models.windows import load_lob
from lobutils.plots import deep as plots_deep


@pytest.fixture(scope="module")
def lob():
    return load_lob(segment("spot_btcusdt"), grid="1s", levels=10, horizons=(5, 20))


def test_window_split_purges_and_never_straddles():
    n, T, h = 200, 6, 3
    valid = np.ones(n, bool)
    valid[50] = False  # a gap
    ts = np.arange(n, dtype=np.int64)
    rows, s = study.window_split(
        valid, T, np.ones(n, bool), ts, ts + h, ev.HoldoutConfig(by="rows")
    )
    tr, va, te = rows[s.train], rows[s.val], rows[s.test]
    # purge: no training target reaches the validation block, no validation target the test
    assert ts[tr].max() + h < ts[va].min()
    assert ts[va].max() + h < ts[te].min()
    # no window reads a row of an earlier block ...
    assert va.min() - T + 1 > tr.max()
    assert te.min() - T + 1 > va.max()
    # ... or spans the gap at row 50
    assert not np.isin(np.arange(50, 50 + T), rows).any()
    assert len(tr) > 90 and len(va) > 20 and len(te) > 20


def test_window_task_rows_labels_and_threshold(lob):
    wt = study.make_window_task(lob, (5,), "three_class", T=10)
    ds = lob.dataset
    # every kept row has a complete window, a label and finite features
    for e in wt.rows[:: max(1, len(wt.rows) // 50)]:
        assert lob.valid[e - 9 : e + 1].all()
    assert np.isfinite(wt.X.to_numpy()).all()
    assert set(np.unique(wt.y)) <= {0, 1, 2}
    # the threshold comes from the training rows' returns only
    r_train = ds.returns["5s"].to_numpy()[wt.train_ends]
    assert wt.threshold.value == pytest.approx(np.std(r_train, ddof=1))
    # training targets end before the validation block starts (purged)
    te = ds.target_end["5s"].to_numpy()
    assert te[wt.train_ends].max() < ds.ts[wt.val_ends].min()
    assert te[wt.val_ends].max() < ds.ts[wt.test_ends].min()
    # the targets of the whole series line up with the kept rows
    np.testing.assert_array_equal(wt.targets["5s"][wt.rows], wt.y)


def test_multi_horizon_task_purges_with_the_longest_and_switches_primary(lob):
    wt = study.make_window_task(lob, (5, 20), "return", T=10)
    ds = lob.dataset
    assert ds.target_end["20s"].to_numpy()[wt.train_ends].max() < ds.ts[wt.val_ends].min()
    w20 = wt.for_horizon("20s")
    assert w20.horizon_rows == 20 and w20.horizons[0] == "20s"
    np.testing.assert_array_equal(w20.y, ds.returns["20s"].to_numpy()[wt.rows])


def test_score_and_baselines_and_pooling(lob):
    wt = study.make_window_task(lob, (5,), "three_class", T=10)
    base = study.baselines(wt)
    assert set(base) == {"majority", "persistence", "stratified"}
    tab = study.score(wt, {"always_flat": np.ones(len(wt.split.test), int)}, n_boot=20)
    row = tab[(tab["model"] == "always_flat") & (tab["metric"] == "balanced_accuracy")]
    assert row["value"].iloc[0] == pytest.approx(1 / 3)
    assert {"segment", "baseline", "beats_baseline", "n_test_independent"} <= set(tab.columns)
    P = study.pool([wt, wt.for_horizon("5s")])
    assert P.data.shape[0] == 2 * len(lob)
    np.testing.assert_array_equal(P.train_ends[len(wt.train_ends) :], wt.train_ends + len(lob))


def test_fit_windows_thins_training_windows_only(lob):
    wt = study.make_window_task(lob, (5,), "return", T=8)
    cfg = training.TrainConfig(epochs=1, run_eagerly=True, early_stopping_patience=None)
    fit = study.fit_windows(
        lambda: dl.build_l1_lstm(T=8, n_features=40, n_outputs=1, units=4),
        lob.lob,
        wt.targets["5s"],
        wt.train_ends,
        wt.val_ends,
        wt.test_ends,
        T=8,
        task="regression",
        config=cfg,
        normalizer=wt.normalizer(prices="relative", sizes="log"),
        train_stride=7,
    )
    assert fit.y_pred.shape == (len(wt.test_ends),)  # the test block is never thinned
    np.testing.assert_array_equal(fit.y_true, wt.y_test())
    assert study.run_key("a", 1, cfg) == study.run_key("a", 1, cfg) != study.run_key("a", 2, cfg)


def test_plots_deep_figures():
    h = pd.DataFrame(
        {"model": ["m"] * 4, "segment": ["a", "a", "b", "b"], "epoch": [1, 2, 1, 2],
         "loss": [1.0, 0.9, 1.1, 1.0], "val_loss": [1.05, 1.0, 1.1, 1.2]}
    )  # fmt: skip
    fig = plots_deep.learning_curves(h)
    assert len(fig.data) == 4 and fig.layout.xaxis.title.text == "epoch"
    t = plots_deep.layer_table(dl.build_deeplob_tcn(T=16, n_features=8))
    assert t["block"].iloc[0] == "input" and "causal dilated tcn (1,2,4,8)" in set(t["block"])
    assert int(t["params"].sum()) == dl.build_deeplob_tcn(T=16, n_features=8).count_params()
    fig = plots_deep.architecture(t)
    assert len(fig.layout.shapes) == len(t)
