"""Tests of lobutils.plots.features (figures of chapters 3-5) and lobutils.book.market.

The figure data are synthetic, so every expected value is known; the checks are on what a
reader would see: bins, bands, positions in time, regions of a split, verdict colours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lobutils.markets import contract_value
from lobutils.plots import features as P

S = 1_000_000_000  # one second in ns
T0 = 1_723_161_600 * S  # 2024-08-09 00:00 UTC


# --------------------------------------------------------------------------------------
# binning
# --------------------------------------------------------------------------------------


def test_quantile_bins_equal_counts_for_distinct_values():
    x = np.random.default_rng(0).normal(size=100)
    codes = P.quantile_bins(x, 10)
    assert np.bincount(codes).tolist() == [10] * 10
    # bins are ordered: every value of bin k is below every value of bin k+1
    for k in range(9):
        assert x[codes == k].max() < x[codes == k + 1].min()


def test_quantile_bins_keep_ties_together_and_mark_nan():
    x = np.array([0.0] * 6 + [1.0, 2.0, np.nan, 3.0])
    codes = P.quantile_bins(x, 3)
    assert codes[8] == -1
    assert len(set(codes[:6])) == 1  # equal values, one bin
    assert codes[9] == 2


def test_quantile_bins_rejects_bad_n_bins():
    with pytest.raises(ValueError, match="n_bins"):
        P.quantile_bins([1.0, 2.0], 0)


def test_binned_means_matches_hand_computation():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    y = 2 * x + rng.normal(size=200)
    x[:5] = np.nan  # dropped before binning
    y[5:8] = np.nan
    table = P.binned_means(x, y, n_bins=4)
    ok = np.isfinite(x) & np.isfinite(y)
    assert table["n"].sum() == ok.sum() == 192
    assert table["n"].tolist() == [48] * 4
    codes = P.quantile_bins(x[ok], 4)
    for k, row in table.iterrows():
        yk = y[ok][codes == k]
        assert row["bin"] == k + 1
        assert row["y_mean"] == pytest.approx(yk.mean())
        assert row["y_se"] == pytest.approx(yk.std(ddof=1) / np.sqrt(yk.size))
        assert row["y_lo"] == pytest.approx(yk.mean() - 1.96 * row["y_se"])
        assert row["y_hi"] == pytest.approx(yk.mean() + 1.96 * row["y_se"])
    assert table["y_mean"].is_monotonic_increasing  # y = 2x + noise, big bins


def test_binned_means_se_scale_widens_the_band_only():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=100), rng.normal(size=100)
    plain = P.binned_means(x, y, 5)
    wide = P.binned_means(x, y, 5, se_scale=3.0)
    np.testing.assert_allclose(wide["y_mean"], plain["y_mean"])
    np.testing.assert_allclose(wide["y_se"], 3.0 * plain["y_se"])


def test_binned_means_bins_within_groups():
    # two markets on different scales: each contributes its own lower half to bin 1
    x = np.concatenate([np.arange(10.0), 1000.0 + np.arange(10.0)])
    y = np.concatenate([np.zeros(5), np.ones(5), np.zeros(5), np.ones(5)])
    groups = np.array(["a"] * 10 + ["b"] * 10)
    pooled = P.binned_means(x, y, 2, groups=groups)
    assert pooled["n"].tolist() == [10, 10]
    assert pooled["y_mean"].tolist() == [0.0, 1.0]
    ungrouped = P.binned_means(x, y, 2)  # without groups, bin 1 is market a only
    assert ungrouped["y_mean"].tolist() == [0.5, 0.5]


def test_binned_means_bins_depend_on_x_only():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=60), rng.normal(size=60)
    a = P.binned_means(x, y, 3)
    b = P.binned_means(x, rng.permutation(y), 3)
    np.testing.assert_array_equal(
        a[["n", "x_mean", "x_min", "x_max"]], b[["n", "x_mean", "x_min", "x_max"]]
    )


# --------------------------------------------------------------------------------------
# chapter 3 figures
# --------------------------------------------------------------------------------------


def test_features_over_time_plots_each_value_at_its_own_time():
    ts = T0 + np.array([0, 1, 5, 6]) * S
    mid = np.array([100.0, 100.5, 101.0, 100.0])
    feats = {"qi": np.array([0.1, -0.2, np.nan, 0.3]), "spread (bps)": np.ones(4)}
    fig = P.features_over_time(ts, mid, feats)
    assert [t.name for t in fig.data] == ["mid", "qi", "spread (bps)"]
    expected_x = pd.to_datetime(ts, unit="ns")  # UTC wall time, tz-naive as plotly wants
    for trace, values in zip(fig.data, [mid, *feats.values()], strict=True):
        assert pd.DatetimeIndex(trace.x).equals(expected_x)  # no shift, no resampling
        np.testing.assert_array_equal(trace.y, values)
    # one panel per series, sharing the time axis
    assert fig.data[1].yaxis == "y2" and fig.data[2].yaxis == "y3"
    assert fig.layout.yaxis2.title.text == "qi"


def test_features_over_time_rejects_misaligned_feature():
    with pytest.raises(ValueError, match="rows"):
        P.features_over_time([0, S], [1.0, 2.0], {"a": [1.0]})


def test_vamp_cutoffs_in_bps_and_sorted():
    ts = T0 + np.arange(3) * S
    mid = np.array([100.0, 100.0, 200.0])
    vamps = {60_000.0: np.array([99.0, np.nan, 202.0]), 10_000.0: np.array([100.0, 100.0, 200.0])}
    fig = P.vamp_cutoffs(ts, mid, vamps)
    assert [t.name for t in fig.data] == ["10,000", "60,000"]
    np.testing.assert_allclose(fig.data[1].y, [-100.0, np.nan, 100.0])  # gap kept, not filled


def test_insufficient_depth_in_percent_per_market():
    t = pd.DataFrame(
        {
            "segment": ["a", "a", "b", "b"],
            "cutoff": [6e4, 1e4, 1e4, 6e4],
            "share": [0.5, 0.0, 0.1, 1.0],
        }
    )
    fig = P.insufficient_depth(t)
    assert [tr.name for tr in fig.data] == ["a", "b"]
    assert fig.data[0].x.tolist() == [1e4, 6e4]  # sorted by cutoff
    assert fig.data[0].y.tolist() == [0.0, 50.0]
    assert fig.layout.xaxis.type == "log"


def test_binned_returns_one_panel_per_horizon_with_closed_band():
    rng = np.random.default_rng(4)
    x = rng.normal(size=300)
    parts = [P.binned_means(x, rng.normal(size=300), 5).assign(horizon_s=h) for h in (1, 10, 60)]
    fig = P.binned_returns(pd.concat(parts), feature_label="mid − vamp (bps)")
    bands = [t for t in fig.data if t.name == "band"]
    means = [t for t in fig.data if t.name == "mean"]
    assert len(bands) == len(means) == 3
    for band, mean, part in zip(bands, means, parts, strict=True):
        assert len(band.x) == 2 * len(part)  # upper edge then lower edge, reversed
        np.testing.assert_allclose(band.y[:5], part.sort_values("x_mean")["y_hi"])
        np.testing.assert_allclose(mean.y, part.sort_values("x_mean")["y_mean"])
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["horizon 1 s", "horizon 10 s", "horizon 60 s"]


def test_correlation_matrix_fixed_scale_and_symmetric():
    rng = np.random.default_rng(5)
    corr = pd.DataFrame(rng.normal(size=(50, 4)), columns=list("abcd")).corr()
    heat = P.correlation_matrix(corr).data[0]
    z = np.asarray(heat.z)
    np.testing.assert_allclose(z, z.T)
    assert (heat.zmin, heat.zmax) == (-1.0, 1.0)
    assert list(heat.x) == list(heat.y) == list("abcd")


# --------------------------------------------------------------------------------------
# chapter 4 figures
# --------------------------------------------------------------------------------------


def test_box_stats_match_numpy_and_tukey_whiskers():
    values = np.array([-50.0, -1.0, 0.0, 0.0, 1.0, 2.0, 3.0, 40.0, np.nan])
    st = P.box_stats(values)
    finite = values[np.isfinite(values)]
    q1, med, q3 = np.quantile(finite, [0.25, 0.5, 0.75])
    assert (st["n"], st["q1"], st["median"], st["q3"]) == (8, q1, med, q3)
    assert st["lowerfence"] == -1.0 and st["upperfence"] == 3.0  # outliers excluded


def test_return_distributions_embed_statistics_not_raw_returns():
    rng = np.random.default_rng(6)
    r = pd.DataFrame(
        {
            "segment": np.repeat(["a", "b"], 5000),
            "horizon": np.tile(np.repeat(["1 s", "10 s"], 2500), 2),
            "return_bps": rng.normal(size=10_000),
        }
    )
    fig = P.return_distributions(r)
    assert [t.name for t in fig.data] == ["a", "b"]
    box = fig.data[0]
    assert box.y is None  # 10,000 returns, but only five numbers per box in the figure
    assert list(box.x) == ["1 s", "10 s"]
    expected = np.median(r.return_bps[(r.segment == "a") & (r.horizon == "10 s")])
    assert box.median[1] == pytest.approx(expected)


def test_train_test_cut_regions_do_not_overlap():
    ts = T0 + np.arange(100) * S
    fig = P.train_test_cut(ts, np.ones(100), cut_ts=int(ts[70]), purge_from_ts=int(ts[60]))
    shapes = {s.name: (pd.Timestamp(s.x0), pd.Timestamp(s.x1)) for s in fig.layout.shapes}
    assert list(shapes) == ["train", "purged", "test"]
    utc = P.utc(ts)
    assert shapes["train"] == (utc[0], utc[60])
    assert shapes["purged"] == (utc[60], utc[70])
    assert shapes["test"] == (utc[70], utc[99])  # the test period starts exactly at the cut


def test_train_test_cut_rejects_purge_after_cut():
    ts = T0 + np.arange(10) * S
    with pytest.raises(ValueError, match="purge_from_ts"):
        P.train_test_cut(ts, np.ones(10), cut_ts=int(ts[5]), purge_from_ts=int(ts[6]))


def test_class_balance_stacks_to_one_hundred_percent():
    t = pd.DataFrame(
        {
            "labels": ["3-class"] * 6,
            "segment": ["m1"] * 3 + ["m2"] * 3,
            "class": ["down", "flat", "up"] * 2,
            "share": [0.2, 0.5, 0.3, 0.1, 0.8, 0.1],
        }
    )
    fig = P.class_balance(t)
    assert fig.layout.barmode == "stack"
    totals = np.sum([np.asarray(tr.y) for tr in fig.data], axis=0)
    np.testing.assert_allclose(totals, [100.0, 100.0])


def test_known_share_and_skill_figures():
    t = pd.DataFrame({"segment": ["a", "a"], "horizon_s": [10, 1], "share": [0.2, 0.6]})
    theory = pd.DataFrame({"horizon_s": [1, 10], "share": [0.64, 0.24]})
    fig = P.known_share(t, theory)
    assert fig.data[0].name == "random walk"
    assert fig.data[1].x.tolist() == [1, 10] and fig.data[1].y.tolist() == [60.0, 20.0]

    s = pd.DataFrame(
        {
            "segment": ["a", "b"],
            "horizon_s": [1, 1],
            "target": ["ema → ema"] * 2,
            "r2_oos": [0.5, -0.2],
            "ci_low": [0.4, -0.5],
            "ci_high": [0.7, 0.0],
        }
    )
    err = P.skill(s).data[0].error_y
    np.testing.assert_allclose(err.array, [0.2, 0.2])
    np.testing.assert_allclose(err.arrayminus, [0.1, 0.3])
    # an estimate below the floor is drawn at the floor, with its interval cut there
    s.loc[1, ["r2_oos", "ci_low", "ci_high"]] = [-4.0, -6.0, -0.5]
    trace = P.skill(s, floor=-1.0).data[0]
    assert trace.y.tolist() == [0.5, -1.0]
    assert trace.marker.symbol == ("circle", "triangle-down")
    np.testing.assert_allclose(trace.error_y.arrayminus, [0.1, 0.0])
    np.testing.assert_allclose(trace.error_y.array, [0.2, 0.5])
    assert trace.customdata[1].tolist() == [-4.0, -6.0, -0.5]  # true values in the hover


# --------------------------------------------------------------------------------------
# chapter 5 figures
# --------------------------------------------------------------------------------------


def test_verdict_heatmap_codes_every_cell():
    rows = []
    for seg, tr, series, verdict in [
        ("m1", "level", "mid", "unit root"),
        ("m1", "level", "qi", "stationary"),
        ("m2", "level", "mid", "conflicting"),
        ("m2", "level", "qi", "inconclusive"),
        ("m1", "diff", "mid", "stationary"),
    ]:
        for test in ("ADF", "KPSS"):
            rows.append(
                {
                    "segment": seg,
                    "transform": tr,
                    "series": series,
                    "test": test,
                    "combined": verdict,
                }
            )
    fig = P.verdict_heatmap(pd.DataFrame(rows))
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 2  # one panel per transform
    code = {c: i for i, c in enumerate(P.VERDICT_COLORS)}
    level = np.asarray(heat[0].z, dtype=float)
    assert level.shape == (2, 2)  # series x markets
    assert level.tolist() == [
        [code["unit root"], code["conflicting"]],
        [code["stationary"], code["inconclusive"]],
    ]
    diff = np.asarray(heat[1].z, dtype=float)
    assert diff[0, 0] == code["stationary"] and np.isnan(diff[1]).all()  # untested cells blank
    legend = [t.name for t in fig.data if t.type == "scatter"]
    assert set(legend) == {"unit root", "stationary", "conflicting", "inconclusive"}


def test_rejection_rates_leave_out_infinite_half_life():
    t = pd.DataFrame(
        {
            "n": [600, 600, 600, 3600, 3600, 3600],
            "half_life_s": [60.0, 5.0, np.inf, 60.0, 5.0, np.inf],
            "rate": [0.2, 1.0, 0.05, 1.0, 1.0, 0.05],
        }
    )
    fig = P.rejection_rates(t)
    assert [tr.name for tr in fig.data] == ["n = 600", "n = 3,600"]
    assert fig.data[0].x.tolist() == [5.0, 60.0]
    assert fig.data[0].y.tolist() == [100.0, 20.0]


# --------------------------------------------------------------------------------------
# lobutils.book.market
# --------------------------------------------------------------------------------------


def test_contract_value_from_market_and_symbol():
    assert contract_value("cm", "btcusd_perp") == 100.0
    assert contract_value("cm", "ETHUSD_PERP") == 10.0
    assert contract_value("usdm", "btcusdt") is None
    assert contract_value("spot", "ethusdt") is None
    with pytest.raises(KeyError, match="DOGEUSD_PERP"):
        contract_value("cm", "dogeusd_perp")


def test_class_balance_panel_titles_do_not_overlap():
    # synthetic shares; five label types used to sit in one row with overlapping titles
    kinds = ["binary (drop zeros)", "binary (keep zeros)", "3-class", "deeplob current", "past"]
    t = pd.DataFrame(
        {
            "labels": np.repeat(kinds, 2),
            "segment": ["spot_btcusdt"] * 10,
            "class": ["down", "up"] * 5,
            "share": [0.4, 0.6] * 5,
        }
    )
    fig = P.class_balance(t)
    titles = [a for a in fig.layout.annotations if a.text in kinds]
    assert len(titles) == 5
    rows = {}
    for a in titles:
        rows.setdefault(round(a.y, 6), []).append(a.x)
    assert max(len(xs) for xs in rows.values()) <= 2  # at most two titles side by side
    for xs in rows.values():  # titles in one row are at least a panel's width apart
        assert all(abs(x1 - x0) >= 0.45 for x0, x1 in zip(xs, xs[1:], strict=False))
