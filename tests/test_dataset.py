"""Tests of lobutils.features.dataset on the bundled real recordings (real data, no synthetic books):
shapes, causality under truncation, target ends and the contract value."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from lobutils.data import binance as io
from lobutils.data.catalog import segment
from lobutils.features.core import FeatureConfig
from lobutils.features.dataset import (
    DEFAULT_FEATURES,
    TS_NEVER,
    Dataset,
    build_dataset,
    horizon_label,
)
from lobutils.markets import contract_value

S = 1_000_000_000


@pytest.fixture(scope="module")
def rec():
    return io.read_binance_recording(segment("usdm_ethusdt").files)


@pytest.fixture(scope="module")
def grid_ds(rec):
    return build_dataset(rec, grid="1s", levels=10, horizons=(1, 5, 30))


def test_shapes_and_columns(grid_ds):
    ds = grid_ds
    n = len(ds)
    assert isinstance(ds, Dataset)
    assert (ds.name, ds.market, ds.symbol, ds.contract_value) == (
        "usdm_ethusdt",
        "usdm",
        "ethusdt",
        None,
    )
    assert ds.unit == "s" and ds.horizon_labels == ("1s", "5s", "30s")
    assert ds.ts.dtype == np.int64 and np.all(np.diff(ds.ts) == S)
    for frame in (ds.features, ds.X, ds.returns, ds.bid_change, ds.ask_change, ds.target_end):
        assert len(frame) == n
        assert frame.index.equals(pd.RangeIndex(n))
    for arr in (ds.mid, ds.bid, ds.ask, ds.spread_bps):
        assert arr.shape == (n,)
    assert list(ds.returns.columns) == list(ds.horizon_labels)
    assert all(ds.target_end[c].dtype == np.int64 for c in ds.target_end.columns)
    # X holds the default stationary features, no price levels and no time of day
    assert {"spread_bps", "qi", "ofi_1", "past_ret_30s", "mid_minus_vamp_bps"} <= set(ds.X.columns)
    assert not {"mid", "microprice", "vamp", "tod_sin", "tod_cos"} & set(ds.X.columns)
    assert len(DEFAULT_FEATURES) >= 8
    assert np.allclose(ds.mid, (ds.bid + ds.ask) / 2)
    s = ds.summary()
    assert s["rows"] == n and s["usable_1s"] > s["usable_30s"] > 0


def test_targets_are_nan_exactly_past_the_end(grid_ds):
    ds = grid_ds
    for h, lab in zip(ds.horizons, ds.horizon_labels, strict=True):
        past = ds.ts + h * S > ds.ts[-1]
        r = ds.returns[lab].to_numpy()
        assert np.all(np.isnan(r[past]))
        assert np.all(np.isfinite(r[~past]))
        assert np.all(np.isnan(ds.bid_change[lab].to_numpy()[past]))


def test_target_end_matches_the_horizon_on_a_grid(grid_ds):
    ds = grid_ds
    for h, lab in zip(ds.horizons, ds.horizon_labels, strict=True):
        end = ds.target_end[lab].to_numpy()
        assert np.all(end - ds.ts == h * S)
        ok = np.isfinite(ds.returns[lab].to_numpy())
        j = np.searchsorted(ds.ts, end[ok])
        assert np.all(ds.ts[j] == end[ok])  # the target's price is the row at target_end
        expected = 1e4 * np.log(ds.mid[j] / ds.mid[ok])
        assert np.allclose(ds.returns[lab].to_numpy()[ok], expected)
        assert np.allclose(ds.ask_change[lab].to_numpy()[ok], 1e4 * np.log(ds.ask[j] / ds.ask[ok]))
        assert ds.horizon_rows(lab) == h


def test_event_time_horizons_count_events(rec):
    ds = build_dataset(rec, grid=None, levels=5, horizons=(10, 100))
    assert ds.unit == "events" and ds.horizon_labels == ("10ev", "100ev")
    assert len(ds) > 6000
    for h, lab in zip(ds.horizons, ds.horizon_labels, strict=True):
        end = ds.target_end[lab].to_numpy()
        assert np.array_equal(end[:-h], ds.ts[h:])
        assert np.all(end[-h:] == TS_NEVER)
        r = ds.returns[lab].to_numpy()
        assert np.allclose(r[:-h], 1e4 * np.log(ds.mid[h:] / ds.mid[:-h]))
        assert np.all(np.isnan(r[-h:]))
        assert ds.horizon_rows(lab) == h
    assert horizon_label(7, "events") == "7ev"


def _truncate(rec: io.Recording, cut: int) -> io.Recording:
    return dataclasses.replace(
        rec,
        depth=rec.depth[rec.depth["ts"] <= cut].reset_index(drop=True),
        trades=rec.trades[rec.trades["ts"] <= cut].reset_index(drop=True),
        bbo=rec.bbo[rec.bbo["ts"] <= cut].reset_index(drop=True),
    )


@pytest.mark.parametrize("grid", ["1s", None])
def test_truncating_the_recording_leaves_earlier_rows_unchanged(rec, grid):
    horizons = (2, 7) if grid else (5, 50)
    full = build_dataset(rec, grid=grid, levels=10, horizons=horizons)
    t0, t1 = int(full.ts[0]), int(full.ts[-1])
    for frac in (0.4, 0.75):
        cut = t0 + int(frac * (t1 - t0))
        part = build_dataset(_truncate(rec, cut), grid=grid, levels=10, horizons=horizons)
        k = len(part)
        assert 0 < k < len(full)
        assert np.array_equal(part.ts, full.ts[:k])
        # every feature of every earlier row: identical, NaN where NaN
        pd.testing.assert_frame_equal(part.features, full.features.iloc[:k])
        pd.testing.assert_frame_equal(part.X, full.X.iloc[:k])
        for lab in part.horizon_labels:
            r_part = part.returns[lab].to_numpy()
            r_full = full.returns[lab].to_numpy()[:k]
            known = np.isfinite(r_part)
            # a target known in the truncated data is the same target; the rest are NaN, never
            # a shorter horizon
            assert np.array_equal(r_part[known], r_full[known])
            assert known.sum() < np.isfinite(r_full).sum()
            end = part.target_end[lab].to_numpy()
            assert np.array_equal(end[known], full.target_end[lab].to_numpy()[:k][known])
            assert np.all(end[known] <= part.ts[-1])


def test_inputs_segment_files_and_recording_agree(rec):
    seg = segment("usdm_ethusdt")
    a = build_dataset(seg, horizons=(1,), levels=5)
    b = build_dataset(list(seg.files), horizons=(1,), levels=5)
    c = build_dataset(rec, horizons=(1,), levels=5)
    for other in (b, c):
        assert other.name == a.name
        pd.testing.assert_frame_equal(other.X, a.X)
        pd.testing.assert_frame_equal(other.returns, a.returns)


def test_coin_m_gets_its_contract_value():
    ds = build_dataset(segment("cm_ethusd_perp"), horizons=(1,), levels=5)
    assert ds.contract_value == 10.0 == contract_value("cm", "ethusd_perp")
    assert ds.feature_config.contract_value == 10.0
    with pytest.raises(ValueError, match="contradicts"):
        build_dataset(
            segment("cm_ethusd_perp"),
            horizons=(1,),
            feature_config=FeatureConfig(contract_value=1.0),
        )
    with pytest.raises(KeyError, match="no contract value"):
        contract_value("cm", "dogeusd_perp")


def test_feature_columns_and_validation(rec):
    ds = build_dataset(rec, horizons=(1, 3), levels=5, feature_columns=["qi", "past_ret_*"])
    assert list(ds.X.columns) == ["qi", "past_ret_1s", "past_ret_3s"]
    with pytest.raises(KeyError, match="no feature column"):
        build_dataset(rec, horizons=(1,), feature_columns=["nope"])
    with pytest.raises(ValueError, match="horizons"):
        build_dataset(rec, horizons=(1, 1))
    with pytest.raises(ValueError, match="horizons"):
        build_dataset(rec, horizons=(0,))
    with pytest.raises(TypeError):
        build_dataset(42)
    with pytest.raises(KeyError):
        ds.label(60)
    assert ds.label("3s") == "3s" and ds.horizon_value("3s") == 3
    usable = ds.usable(1)
    assert usable.dtype == bool and usable.sum() < len(ds)
