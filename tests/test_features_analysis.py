"""lobutils.features.analysis, lobutils.models.leakage and plots.features.pooled_binned."""

import numpy as np
import pandas as pd
import pytest

from lobutils.features import analysis as A
from lobutils.features import targets as T
from lobutils.models import leakage as L
from lobutils.plots import features as P


def _walk(n=20_000, seed=0):
    """A synthetic geometric random walk of mids."""
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0, 1e-4, n)))


def test_chrono_split_purges_rows_whose_target_crosses_the_cut():
    ts = np.arange(100) * 1_000_000_000
    train, test, cut = L.chrono_split(ts, 5_000_000_000, train_fraction=0.5)
    assert cut == int(49.5e9)
    assert np.flatnonzero(test).min() == 50
    # rows 45..49 look 5 s ahead, past the cut: purged, neither train nor test
    assert np.flatnonzero(train).max() == 44
    assert not (train & test).any()


@pytest.mark.parametrize("h", [1, 3, 10])
def test_ema_known_plus_unknown_is_the_target(h):
    m = _walk(2_000)
    s, known = A.ema_known_part(m, h, 0.2)
    unknown = A.ema_unknown_part(m, h, 0.2)
    ok = np.isfinite(s) & np.isfinite(known) & np.isfinite(unknown)
    assert ok.sum() > 1_900
    np.testing.assert_allclose(known[ok] + unknown[ok], s[ok], atol=1e-8)


def test_ema_known_part_uses_the_past_only():
    m = _walk(500)
    _, known = A.ema_known_part(m, 5, 0.2)
    changed = m.copy()
    changed[300:] *= 1.01  # change the future after row 299
    _, known2 = A.ema_known_part(changed, 5, 0.2)
    # s_{t-h} uses mids up to t, so K at rows < 300 is unchanged
    np.testing.assert_array_equal(known[:300], known2[:300])


@pytest.mark.parametrize("alpha", [0.2, 0.5])
def test_known_share_on_a_random_walk_is_one_minus_alpha_squared(alpha):
    s, known = A.ema_known_part(_walk(), 1, alpha)
    assert T.past_correlation(s, known) ** 2 == pytest.approx((1 - alpha) ** 2, abs=0.02)


def test_label_sets_and_long_balance():
    m = _walk(300)
    r = T.forward_returns(m, events=2)
    sets = A.label_sets(r, m, 2, np.arange(300) < 200)
    assert list(sets) == [
        "binary (drop zeros)",
        "binary (keep zeros)",
        "3-class",
        "deeplob current",
        "deeplob past",
    ]
    table = A.long_balance(sets)
    assert table["count"].dtype.kind == "i"
    valid = table[table["class"] != "(invalid)"]
    np.testing.assert_allclose(valid.groupby("labels", sort=False)["share"].sum(), 1.0)


def test_return_summary_counts_zeros_among_finite_rows():
    out = A.return_summary(np.array([0.0, 0.0, 2.0, -2.0, np.nan]), 2.0)
    assert out == {
        "rows with a target": 4,
        "independent horizons": 2.0,
        "share exactly 0": 0.5,
        "std (bps)": pytest.approx(np.sqrt(2.0)),
    }


def test_ema_skill_inflates_the_smoothed_target_on_a_random_walk():
    m = _walk(3_000)
    past = np.column_stack([np.r_[np.nan, 1e4 * np.diff(np.log(m))]])
    raw = T.forward_returns(m, events=1)
    rows = np.arange(m.size)
    t = L.ema_skill(past, raw, m, 1, rows < 2_000, rows >= 2_001, n_boot=50).set_index("target")
    assert t.loc["ema → ema", "ci_low"] > 0.1  # apparent skill, from the known part
    assert t.loc["known part → ema", "r2_oos"] == pytest.approx(0.64, abs=0.06)  # (1 - alpha)^2
    assert t.loc["ema → raw", "r2_oos"] < 0.01  # nothing for a trader


def test_rank_correlations_and_pooled_binned():
    rng = np.random.default_rng(1)  # synthetic feature and returns
    f = pd.DataFrame({"x": rng.normal(size=400)})
    fwd = {h: f["x"].to_numpy() + rng.normal(size=400) for h in (1, 4)}
    rc = A.rank_correlations(f, fwd, {"x": lambda t: t["x"], "-x": lambda t: -t["x"]})
    assert rc.index.tolist() == [1, 4] and rc.columns.tolist() == ["x", "-x"]
    np.testing.assert_allclose(rc["x"], -rc["-x"])
    assert (rc["x"] > 0.5).all()
    table = P.pooled_binned({"a": f["x"].to_numpy()}, {"a": fwd}, [1, 4], n_bins=5, grid_s=1.0)
    assert sorted(table.horizon_s.unique()) == [1, 4] and len(table) == 10


def test_adf_power_has_its_size_on_a_random_walk_and_power_on_fast_reversion():
    t = A.adf_power([300], [2, np.inf], 200, alpha=0.05, rng=np.random.default_rng(3))
    fast, walk = t["rate"].tolist()
    assert fast > 0.99  # a 2-step half-life: always detected (simulated AR(1) series)
    assert 0.01 < walk < 0.10  # a random walk: rejected about alpha of the time
    assert t["phi"].tolist() == [pytest.approx(0.5**0.5), 1.0]


def test_adf_power_is_reproducible_with_the_same_generator():
    a = A.adf_power([100], [10], 20, rng=np.random.default_rng(5))
    b = A.adf_power([100], [10], 20, rng=np.random.default_rng(5))
    pd.testing.assert_frame_equal(a, b)
