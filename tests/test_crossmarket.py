"""Per-market against pooled training (lobutils.models.crossmarket): no look-ahead, same protocol."""

from __future__ import annotations

import numpy as np
import pytest

from lobutils.data.catalog import segment
from lobutils.features.dataset import build_dataset
from lobutils.models import crossmarket, zoo

NAMES = ("spot_btcusdt", "usdm_btcusdt", "usdm_ethusdt")


@pytest.fixture(scope="module")
def datasets():
    return [build_dataset(segment(n), levels=10, horizons=(1, 10)) for n in NAMES]


def test_pooled_split_never_sees_the_target_test_period(datasets):
    cfg = zoo.ZooConfig(models=zoo.make_models(["linear"]), targets=("return",))
    tasks = [zoo.make_task(ds, 10, "return", cfg) for ds in datasets]
    for td in tasks:
        X, y, split, sizes = crossmarket.pooled_split(tasks, td)
        t_val = td.ts[td.split.val[0]]
        t_test = td.ts[td.split.test[0]]
        # the blocks follow each other: train, validation, then the market's own test rows
        n = len(y)
        assert split.train.tolist() == list(range(len(split.train)))
        assert split.val[0] == len(split.train) and split.test[-1] == n - 1
        assert len(split.test) == len(td.split.test)
        np.testing.assert_array_equal(y[split.test], td.y[td.split.test])
        # every pooled training row is realised before the validation block, every pooled
        # validation row before the test block, in every market
        for other in tasks:
            train = other.target_end < t_val
            val = (other.ts >= t_val) & (other.target_end < t_test)
            if train.sum() >= 2:
                assert sizes[other.segment] == int(train.sum() + val.sum())
        assert sum(sizes.values()) == len(split.train) + len(split.val)
        assert np.isfinite(X).all()


def test_own_scores_match_chapter_6(datasets):
    res = crossmarket.compare_pooled(datasets[:2], 1, ["linear"], n_boot=50)
    cfg = zoo.ZooConfig(
        models=zoo.make_models(["linear"]), targets=("return",), n_boot=50, importance_repeats=0
    )
    for ds in datasets[:2]:
        tab = zoo.evaluate_task(zoo.make_task(ds, 1, "return", cfg), cfg)["table"]
        ch6 = tab.query("model == 'linear' and metric == 'r2_oos'")["value"].iloc[0]
        own = res.scores.query("segment == @ds.name and training == 'own' and model == 'linear'")[
            "value"
        ].iloc[0]
        assert own == pytest.approx(ch6, rel=1e-9)
    d = res.diffs
    np.testing.assert_allclose(d["diff"], d["pooled"] - d["own"])
    assert ((d["ci_low"] <= d["diff"]) & (d["diff"] <= d["ci_high"])).all()


def test_classification_targets_are_refused(datasets):
    with pytest.raises(ValueError, match="regression"):
        crossmarket.compare_pooled(datasets[:2], 1, ["linear"], target="three_class")
