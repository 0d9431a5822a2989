"""Tests of lobutils.features.targets. All prices here are synthetic (by hand or from seeded random
walks), so the expected values are known."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lobutils.features import _kernels as _k
from lobutils.features import targets as T
from lobutils.features.core import past_returns

S = 1_000_000_000
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def bps(a, b):
    return 1e4 * math.log(b / a)


# --------------------------------------------------------------------------------------
# forward returns
# --------------------------------------------------------------------------------------


def test_forward_returns_events():
    m = [100.0, 101.0, 102.0, 100.0]
    out = T.forward_returns(m, events=2)
    assert out[0] == pytest.approx(bps(100, 102)) and out[1] == pytest.approx(bps(101, 100))
    assert np.isnan(out[2:]).all()  # horizon past the end: NaN, never a shorter horizon
    assert np.isnan(T.forward_returns(m, events=4)).all()


def test_forward_returns_seconds_uses_last_state_at_or_before():
    """Rows at 0, 1, 1, 3 s (two states at 1 s). Horizon 2 s:
    row 0 (0 s): last state at or before 2 s is row 2 (the later of the two at 1 s) -> 103
    row 1 (1 s): 3 s -> row 3 exactly -> 104; row 2 likewise
    row 3 (3 s): 5 s is past the data -> NaN"""
    ts = np.array([0, 1, 1, 3]) * S
    m = [100.0, 101.0, 103.0, 104.0]
    out = T.forward_returns(m, ts=ts, seconds=2.0)
    np.testing.assert_allclose(out[:3], [bps(100, 103), bps(101, 104), bps(103, 104)])
    assert np.isnan(out[3])
    # with the data known to run to 6 s (e.g. the end of a clock grid), row 3 has a target
    out = T.forward_returns(m, ts=ts, seconds=2.0, end_ts=6 * S)
    assert out[3] == 0.0
    with pytest.raises(ValueError, match="end_ts"):
        T.forward_returns(m, ts=ts, seconds=2.0, end_ts=2 * S)


def test_forward_returns_arguments():
    with pytest.raises(ValueError, match="exactly one"):
        T.forward_returns([1.0, 2.0])
    with pytest.raises(ValueError, match="needs ts"):
        T.forward_returns([1.0, 2.0], seconds=1.0)
    with pytest.raises(ValueError, match="non-decreasing"):
        T.forward_returns([1.0, 2.0], ts=[2, 1], seconds=1.0)
    with pytest.raises(ValueError, match="mid must be > 0"):
        T.forward_returns([1.0, -2.0], events=1)


@st.composite
def timed_mids(draw):
    n = draw(st.integers(1, 30))
    steps = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    ts = np.cumsum(np.array(steps, dtype=np.int64)) * (S // 2)
    mids = np.array(draw(st.lists(st.floats(1.0, 1e5), min_size=n, max_size=n)))
    h = draw(st.integers(1, 12)) / 4
    return ts, mids, h


@PROPERTY
@given(timed_mids())
def test_forward_returns_match_a_plain_loop(case):
    ts, mids, h = case
    got = T.forward_returns(mids, ts=ts, seconds=h)
    h_ns = round(h * S)
    for i in range(ts.size):
        target = ts[i] + h_ns
        if target > ts[-1]:
            assert np.isnan(got[i])
            continue
        j = max(k for k in range(ts.size) if ts[k] <= target)
        assert got[i] == pytest.approx(bps(mids[i], mids[j]), abs=1e-9)
    # and the past return is its mirror image
    back = past_returns(mids, ts=ts, seconds=h)
    for i in range(ts.size):
        earlier = [k for k in range(ts.size) if ts[k] <= ts[i] - h_ns]
        if not earlier:
            assert np.isnan(back[i])
        else:
            assert back[i] == pytest.approx(bps(mids[max(earlier)], mids[i]), abs=1e-9)


# --------------------------------------------------------------------------------------
# labels
# --------------------------------------------------------------------------------------


def test_binary_labels_strict():
    r = np.array([0.5, 0.0, -0.5, np.nan])
    drop = T.binary_labels(r)
    assert drop.codes.tolist() == [1, -1, 0, -1]
    assert drop.valid.tolist() == [True, False, True, False]
    assert drop.classes == ("down", "up")
    keep = T.binary_labels(r, no_change="keep")
    assert keep.codes.tolist() == [1, 0, 0, -1]
    assert keep.classes == ("not up", "up")
    with pytest.raises(ValueError, match="no_change"):
        T.binary_labels(r, no_change="flat")


def test_class_balance_table():
    lab = T.binary_labels([1.0, 2.0, -1.0, 0.0])
    table = lab.balance()
    assert table["count"].tolist() == [1, 2, 1]
    np.testing.assert_allclose(table["share"], [1 / 3, 2 / 3, 1 / 4])
    assert list(table.index) == ["down", "up", "(invalid)"]
    with pytest.raises(TypeError):
        T.class_balance(np.array([0, 1]))


def test_three_class_threshold_uses_training_rows_only():
    rng = np.random.default_rng(0)
    r = rng.normal(0, 2.0, 1000)
    train = np.arange(1000) < 600
    lab = T.three_class_labels(r, train_mask=train)
    fitted = T.fit_threshold(r, train)
    assert fitted.value == pytest.approx(np.std(r[:600], ddof=1))
    assert fitted.n_train == 600
    # changing the test returns changes neither the threshold nor the training labels
    r2 = r.copy()
    r2[600:] *= 100
    lab2 = T.three_class_labels(r2, train_mask=train)
    assert T.fit_threshold(r2, train) == fitted
    np.testing.assert_array_equal(lab.codes[:600], lab2.codes[:600])
    # a fitted Threshold labels new data the same way
    again = T.three_class_labels(r, threshold=fitted)
    np.testing.assert_array_equal(again.codes, lab.codes)
    c = fitted.value
    expected = np.where(r > c, 2, np.where(r < -c, 0, 1))
    np.testing.assert_array_equal(lab.codes, expected)
    assert lab.classes == ("down", "flat", "up")


def test_three_class_guards_against_leakage():
    r = np.array([1.0, -1.0, 2.0, np.nan])
    with pytest.raises(ValueError, match="exactly one"):
        T.three_class_labels(r)
    with pytest.raises(ValueError, match="exactly one"):
        T.three_class_labels(r, threshold=1.0, train_mask=np.ones(4, bool))
    with pytest.warns(UserWarning, match="every labelled row"):
        T.three_class_labels(r, train_mask=np.array([True, True, True, False]))
    with pytest.raises(ValueError, match="boolean"):
        T.three_class_labels(r, train_mask=np.array([1, 1, 0, 0]))
    with pytest.raises(ValueError, match="at least 2"):
        T.fit_threshold(r, np.array([True, False, False, True]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lab = T.three_class_labels(r, train_mask=np.array([True, True, False, False]))
    assert lab.valid.tolist() == [True, True, True, False]
    # boundaries: |r| == c is flat (strict inequalities for up and down)
    assert T.three_class_labels([1.0, -1.0, 1.0001], threshold=1.0).codes.tolist() == [1, 1, 2]


# --------------------------------------------------------------------------------------
# smoothing
# --------------------------------------------------------------------------------------


def test_smoothed_returns_known_answer():
    """mids 100, 100, 102, 104, 106 and k = 2:
    current reference, row 0: mean(100, 102) = 101 vs 100; row 1: mean(102, 104) = 103 vs 100
    past reference, row 1: mean(102, 104) = 103 vs mean(100, 100) = 100;
                    row 2: mean(104, 106) = 105 vs mean(100, 102) = 101
    The last k rows have no k future mids: NaN."""
    m = [100.0, 100.0, 102.0, 104.0, 106.0]
    cur = T.smoothed_returns(m, 2)
    np.testing.assert_allclose(cur[:3], [bps(100, 101), bps(100, 103), bps(102, 105)])
    assert np.isnan(cur[3:]).all()
    past = T.smoothed_returns(m, 2, reference="past")
    assert np.isnan(past[0])
    np.testing.assert_allclose(past[1:3], [bps(100, 103), bps(101, 105)])
    assert np.isnan(past[3:]).all()
    with pytest.raises(ValueError, match="reference"):
        T.smoothed_returns(m, 2, reference="centre")


def test_smoothed_returns_average_exactly_the_documented_rows():
    """Perturb one mid at a time: the target at row i moves only when the mid is in
    i+1..i+k, or i (current reference) / i-k+1..i (past reference)."""
    rng = np.random.default_rng(5)
    m = 100 + rng.random(12)
    k, i = 3, 5
    for reference, used in (("current", {5, 6, 7, 8}), ("past", {3, 4, 5, 6, 7, 8})):
        base = T.smoothed_returns(m, k, reference=reference)[i]
        for j in range(m.size):
            bumped = m.copy()
            bumped[j] += 1.0
            moved = T.smoothed_returns(bumped, k, reference=reference)[i] != base
            assert moved == (j in used), (reference, j)


def test_ema_known_answer_and_pandas():
    r = np.array([10.0, 0.0, 0.0, np.nan, 5.0, 5.0])
    out = T.ema_smoothed_returns(r, alpha=0.2)
    np.testing.assert_allclose(out, [10.0, 8.0, 6.4, np.nan, 5.0, 5.0])
    x = np.random.default_rng(1).normal(size=200)
    expected = pd.Series(x).ewm(alpha=0.2, adjust=False).mean().to_numpy()
    np.testing.assert_allclose(T.ema_smoothed_returns(x), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="alpha"):
        T.ema_smoothed_returns(x, alpha=1.5)


@PROPERTY
@given(
    st.lists(st.one_of(st.floats(-1e4, 1e4), st.just(np.nan)), max_size=40),
    st.floats(0.01, 1.0),
)
def test_ema_kernel_matches_reference(values, alpha):
    x = np.array(values, dtype=float)
    np.testing.assert_allclose(
        _k.ema_restart(x, alpha), _k.ema_restart_py(x, alpha), rtol=1e-9, atol=1e-8, equal_nan=True
    )


# --------------------------------------------------------------------------------------
# leakage audit
# --------------------------------------------------------------------------------------


def test_leakage_audit_flags_the_smoothed_target():
    """Synthetic random walk: the raw forward return is independent of the past, so its
    correlation with past returns and its R^2 are about 0; the EMA of forward returns mixes
    in earlier rows' returns, most of which is already known: large R^2."""
    rng = np.random.default_rng(42)
    mids = 100 * np.exp(np.cumsum(rng.normal(0, 1e-4, 20_000)))
    raw = T.forward_returns(mids, events=20)
    ema = T.ema_smoothed_returns(raw, alpha=0.2)
    past = {f"past_{h}": past_returns(mids, events=h) for h in (1, 5, 20)}
    train = np.arange(mids.size) < 12_000
    table = T.leakage_audit({"raw": raw, "ema": ema}, past, train_mask=train)
    assert list(table.columns) == ["n", "corr_past_1", "corr_past_5", "corr_past_20", "r2_past"]
    # (overlapping 20-event returns: about 1,000 independent ones, so allow sampling noise)
    assert abs(table.loc["raw", "r2_past"]) < 0.02
    assert table.loc["raw", ["corr_past_1", "corr_past_5", "corr_past_20"]].abs().max() < 0.1
    assert table.loc["ema", "r2_past"] > 0.08
    assert table.loc["ema", "corr_past_5"] > 0.2
    assert table.loc["raw", "n"] == mids.size - 20


def test_variance_explained_edge_cases():
    x = np.arange(10.0)
    assert T.variance_explained_by_past(3 * x + 1, {"x": x}) == pytest.approx(1.0)
    assert np.isnan(T.variance_explained_by_past(np.ones(10), {"x": x}))
    assert np.isnan(T.past_correlation(np.ones(10), x))
    with pytest.raises(ValueError, match="rows"):
        T.variance_explained_by_past(x, {"x": x[:5]})
    with pytest.raises(ValueError, match="non-empty"):
        T.leakage_audit({"a": x}, {})
