"""Tests of lobutils.evaluation: known answers written from the definitions, pure-Python
references checked against the vectorised code with hypothesis, and the protocol's placebo test
(shuffled labels score at chance)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lobutils import evaluation as ev
from lobutils.evaluation import (
    BootstrapConfig,
    CostModel,
    DayConfig,
    Fold,
    HoldoutConfig,
    WalkForwardConfig,
)
from lobutils.evaluation.inference import _long_run_variance
from lobutils.evaluation.results import _RESULT_COLUMNS

H = 3_600 * 10**9  # one hour in ns
FAST = settings(max_examples=60, deadline=None)


def lists(train_test):
    return [(f.train.tolist(), f.test.tolist()) for f in train_test]


# ============================================================================================
# Purge and embargo: known answers
# ============================================================================================


def test_purge_embargo_rows_known_answer():
    # Clock = row positions 0..11, horizon 2 rows: row i's target window is [i, i + 2].
    # Test rows 6, 7, 8: test span [6, 8], test *label* span [6, 10].
    # purge: rows whose window meets [6, 10]: i + 2 >= 6 and i <= 10 -> 4, 5 (and 9, 10 after).
    # embargo 1 before: i in [5, 6) -> 5.  embargo 1 after: i in (8, 9] -> 9.
    # kept: 0, 1, 2, 3, 11.
    train = [0, 1, 2, 3, 4, 5, 9, 10, 11]
    kept = ev.purge_embargo(train, [6, 7, 8], 12, horizon=2, embargo=1)
    assert kept.tolist() == [0, 1, 2, 3, 11]
    # Without embargo only the purge acts: row 11 starts after the label span ends at 10.
    assert ev.purge_embargo(train, [6, 7, 8], 12, horizon=2).tolist() == [0, 1, 2, 3, 11]
    # Embargo 3: before [3, 6) -> 3, 4, 5; after (8, 11] -> 9, 10, 11.
    assert ev.purge_embargo(train, [6, 7, 8], 12, horizon=2, embargo=3).tolist() == [0, 1, 2]


def test_purge_is_closed_interval():
    # Row 4's target ends exactly at row 6, the first test row: both use the price at row 6,
    # so the windows overlap (closed intervals) and row 4 is purged; row 3 (ends at 5) is kept.
    assert ev.purge_embargo([0, 1, 2, 3, 4], [6, 7], 8, horizon=2).tolist() == [0, 1, 2, 3]
    # Horizon 0: a target window is the single instant ts[i]; nothing before the test overlaps.
    assert ev.purge_embargo([0, 1, 2, 3, 4, 5], [6, 7], 8, horizon=0).tolist() == [0, 1, 2, 3, 4, 5]


def test_purge_embargo_irregular_timestamps_known_answer():
    # Event-time rows with irregular ns timestamps and per-row target ends (an event horizon).
    ts = [0, 10, 15, 30, 45, 52, 60, 61, 70, 90, 100]
    te = [12, 15, 31, 50, 55, 58, 90, 95, 80, 100, 120]
    test = [6, 7]  # test span [60, 61], test label span [60, max(90, 95)] = [60, 95]
    train = [0, 1, 2, 3, 4, 5, 8, 9, 10]
    # Row 5: [52, 58] ends before 60 -> not purged.  Row 8: [70, 80] inside [60, 95] -> purged.
    # Row 9: [90, 100] starts at 90 <= 95 -> purged.  Row 10: starts at 100 > 95 -> kept.
    assert ev.purge_embargo(train, test, ts, target_end=te).tolist() == [0, 1, 2, 3, 4, 5, 10]
    # Embargo 10 ns: before [50, 60) -> row 5 (t = 52); after (61, 71] -> no row left there.
    assert ev.purge_embargo(train, test, ts, target_end=te, embargo=10).tolist() == [
        0,
        1,
        2,
        3,
        4,
        10,
    ]
    # Embargo 40 ns: before [20, 60) -> rows 3, 4, 5; after (61, 101] -> row 10 (t = 100).
    assert ev.purge_embargo(train, test, ts, target_end=te, embargo=40).tolist() == [0, 1, 2]
    # The same rows with a fixed 20 ns horizon: windows [t, t + 20].
    # Row 4: [45, 65] meets [60, 81] -> purged; row 5 likewise; row 9 starts at 90 > 81 -> kept.
    assert ev.purge_embargo(train, test, ts, horizon=20).tolist() == [0, 1, 2, 3, 9, 10]


def test_walk_forward_expanding_known_answer():
    # 20 rows, 3 test blocks of 4 rows: the blocks are rows 8-11, 12-15, 16-19.
    # Horizon 2 purges the 2 rows before each block; embargo 1 adds nothing new (the row just
    # before the block is already purged).
    folds = ev.walk_forward_splits(
        20, WalkForwardConfig(n_splits=3, test_size=4, embargo=1), horizon=2
    )
    assert lists(folds) == [
        (list(range(0, 6)), [8, 9, 10, 11]),
        (list(range(0, 10)), [12, 13, 14, 15]),
        (list(range(0, 14)), [16, 17, 18, 19]),
    ]
    # Embargo 4: rows [test_start - 4, test_start) are dropped -> training ends 5 rows earlier.
    folds = ev.walk_forward_splits(
        20, WalkForwardConfig(n_splits=3, test_size=4, embargo=4), horizon=2
    )
    assert [f.train.tolist() for f in folds] == [list(range(4)), list(range(8)), list(range(12))]


def test_walk_forward_rolling_known_answer():
    # Same layout, rolling windows of 5 rows counted after purging: the last 5 eligible rows.
    cfg = WalkForwardConfig(n_splits=3, test_size=4, window="rolling", train_size=5, embargo=1)
    folds = ev.walk_forward_splits(20, cfg, horizon=2)
    assert lists(folds) == [
        ([1, 2, 3, 4, 5], [8, 9, 10, 11]),
        ([5, 6, 7, 8, 9], [12, 13, 14, 15]),
        ([9, 10, 11, 12, 13], [16, 17, 18, 19]),
    ]


def test_walk_forward_default_layout_matches_sklearn_time_series_split():
    from sklearn.model_selection import TimeSeriesSplit

    ours = ev.walk_forward_splits(23, WalkForwardConfig(n_splits=4), horizon=0)
    theirs = list(TimeSeriesSplit(n_splits=4).split(np.zeros(23)))
    assert [f.test.tolist() for f in ours] == [te.tolist() for _, te in theirs]
    assert [f.train.tolist() for f in ours] == [tr.tolist() for tr, _ in theirs]


def test_positions_of_kept_rows_as_clock():
    # Rows 2 and 5 of 12 were dropped (no target). The clock is the kept rows' original
    # positions, so an events horizon of 2 still means "2 events of the full series".
    pos = np.array([0, 1, 3, 4, 6, 7, 8, 9, 10, 11])
    (fold,) = ev.walk_forward_splits(pos, WalkForwardConfig(n_splits=1, test_size=4), horizon=2)
    # Test = kept rows 6-9 (positions 8-11). Position 7 (row 5) and 6 (row 4) end at 9 and 8:
    # purged; position 4 (row 3) ends at 6 < 8: kept.
    assert fold.test.tolist() == [6, 7, 8, 9] and fold.train.tolist() == [0, 1, 2, 3]
    # Persistence at position 8 (row 6): the latest position ending <= 8 is position 6 (row 4).
    y = np.arange(10.0)
    assert ev.persistence_forecast(y, pos, horizon=2)[6] == 4.0


def test_walk_forward_on_timestamps_uses_ns_for_purge_and_embargo():
    # Rows every 100 ns except a pause of 10 us before row 6; horizon 250 ns.
    ts = np.array([0, 100, 200, 300, 400, 500, 10_500, 10_600, 10_700, 10_800])
    # One test block of 4 rows (6-9). Row 5 (t=500) ends at 750 < 10_500 -> not purged.
    (fold,) = ev.walk_forward_splits(ts, WalkForwardConfig(n_splits=1, test_size=4), horizon=250)
    assert fold.train.tolist() == [0, 1, 2, 3, 4, 5]
    # An embargo of 10_050 ns reaches back to t >= 450: row 5 is dropped.
    cfg = WalkForwardConfig(n_splits=1, test_size=4, embargo=10_050)
    (fold,) = ev.walk_forward_splits(ts, cfg, horizon=250)
    assert fold.train.tolist() == [0, 1, 2, 3, 4]
    # datetime64 input is the same clock.
    (fold2,) = ev.walk_forward_splits(ts.astype("datetime64[ns]"), cfg, horizon=250)
    assert fold2.train.tolist() == fold.train.tolist()


def test_day_splits_known_answer():
    # Day 0: 22:00, 23:30; day 1: 00:10, 12:00; day 2: 00:00:30, 06:00. Horizon 1 h.
    ts = np.array([22 * H, 23 * H + H // 2, 24 * H + H // 6, 36 * H, 48 * H + 30 * 10**9, 54 * H])
    folds = ev.day_splits(ts, horizon=H)
    # Test day 1: row 1's target (23:30 -> 00:30) crosses midnight into the test day: purged.
    # Test day 2: rows 0-3 all end before day 2 starts: kept.
    assert lists(folds) == [([0], [2, 3]), ([0, 1, 2, 3], [4, 5])]
    # Rolling one day: only day 1 trains the model tested on day 2.
    folds = ev.day_splits(ts, DayConfig(window="rolling", train_days=1), horizon=H)
    assert lists(folds) == [([0], [2, 3]), ([2, 3], [4, 5])]
    # Only day 2 as test day, embargo 12.5 h: training rows with t in [11:30:30, 00:00:30) of
    # day 1 are dropped -> row 3 (12:00).  Row 1's target ends 00:30 on day 1: kept.
    folds = ev.day_splits(ts, DayConfig(min_train_days=2, embargo=45_000 * 10**9), horizon=H)
    assert lists(folds) == [([0, 1, 2], [4, 5])]
    # Embargo 3 h before test day 1 (00:10) reaches back to 21:10: no training row is left.
    with pytest.raises(ValueError, match="fold 0 keeps 0 training rows"):
        ev.day_splits(ts, DayConfig(embargo=3 * H), horizon=H)
    with pytest.raises(ValueError, match="UTC day"):
        ev.day_splits(ts[:2], horizon=H)
    with pytest.raises(ValueError, match="timestamps"):
        ev.day_splits(6, horizon=1)


def test_train_val_test_split_by_time_known_answer():
    ts = [0, 5, 10, 20, 40, 55, 62, 70, 79, 85, 100]
    # By time: cuts at 60 and 80 -> train t < 60 (rows 0-5), val [60, 80) (rows 6-8), test 9-10.
    s = ev.train_val_test_split(ts, HoldoutConfig(), horizon=5)
    assert (s.train.tolist(), s.val.tolist(), s.test.tolist()) == (
        [0, 1, 2, 3, 4, 5],
        [6, 7, 8],
        [9, 10],
    )
    # Horizon 7: row 5 [55, 62] meets val (starts 62) -> purged; row 8 [79, 86] meets test
    # (starts 85) -> purged from val.
    s = ev.train_val_test_split(ts, HoldoutConfig(), horizon=7)
    assert (s.train.tolist(), s.val.tolist(), s.test.tolist()) == ([0, 1, 2, 3, 4], [6, 7], [9, 10])
    # By rows: 11 rows -> cuts at round(6.6) = 7 and round(8.8) = 9 -> rows 0-6 / 7-8 / 9-10.
    # Horizon 7: row 6 [62, 69] ends before val starts (70): kept; row 8 purged as above.
    s = ev.train_val_test_split(ts, HoldoutConfig(by="rows"), horizon=7)
    assert (s.train.tolist(), s.val.tolist(), s.test.tolist()) == (list(range(7)), [7], [9, 10])
    # Embargo 15 ns before val (t in [47, 62)) drops row 5 and before test (t in [70, 85)) 7, 8.
    s = ev.train_val_test_split(ts, HoldoutConfig(embargo=15), horizon=0)
    assert (s.train.tolist(), s.val.tolist()) == ([0, 1, 2, 3, 4], [6])


def test_train_val_test_split_errors():
    # One late row: by time, nothing falls in the validation window [60, 80).
    with pytest.raises(ValueError, match="at least one"):
        ev.train_val_test_split([0, 1, 2, 3, 4, 5, 6, 7, 8, 100], horizon=0)
    with pytest.raises(ValueError, match="fractions"):
        HoldoutConfig(fractions=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="no training"):
        ev.train_val_test_split(10, horizon=8)


# ============================================================================================
# Purge and embargo: pure-Python reference and invariants
# ============================================================================================


def purge_reference(train, test, ts, target_end, embargo):
    """Row by row from the definition in purge_embargo's docstring."""
    lo = min(ts[j] for j in test)
    hi = max(ts[j] for j in test)
    label_hi = max(target_end[j] for j in test)
    kept = []
    for i in train:
        overlaps = ts[i] <= label_hi and target_end[i] >= lo
        embargoed = lo - embargo <= ts[i] < lo or hi < ts[i] <= hi + embargo
        if not (overlaps or embargoed):
            kept.append(i)
    return sorted(kept)


@st.composite
def clock_and_split(draw):
    n = draw(st.integers(3, 40))
    gaps = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    ts = np.cumsum(gaps).astype(np.int64)
    hz = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    te = ts + np.array(hz, dtype=np.int64)
    lo = draw(st.integers(0, n - 1))
    hi = draw(st.integers(lo + 1, n))
    test = list(range(lo, hi))
    train = [i for i in range(n) if i not in test]
    embargo = draw(st.integers(0, 10))
    return ts, te, train, test, embargo


@FAST
@given(clock_and_split())
def test_purge_embargo_matches_reference(case):
    ts, te, train, test, embargo = case
    got = ev.purge_embargo(train, test, ts, target_end=te, embargo=embargo)
    assert got.tolist() == purge_reference(train, test, ts.tolist(), te.tolist(), embargo)


@FAST
@given(
    n=st.integers(12, 80),
    n_splits=st.integers(1, 4),
    horizon=st.integers(0, 3),
    embargo=st.integers(0, 3),
    rolling=st.booleans(),
)
def test_walk_forward_invariants(n, n_splits, horizon, embargo, rolling):
    cfg = WalkForwardConfig(
        n_splits=n_splits,
        embargo=embargo,
        window="rolling" if rolling else "expanding",
        train_size=3 if rolling else None,
    )
    try:
        folds = ev.walk_forward_splits(n, cfg, horizon=horizon)
    except ValueError as err:
        assert "training rows" in str(err) or "cannot hold" in str(err)
        return
    tests = np.concatenate([f.test for f in folds])
    # The test blocks tile the end of the series, in order, without overlap.
    assert tests.tolist() == list(range(n - tests.size, n))
    for train, test in folds:
        assert train.size >= 1 and (not rolling or train.size <= 3)
        # Chronological, and no training target reaches the test block or the embargo.
        assert train.max() + horizon < test.min()
        assert train.max() < test.min() - embargo


# ============================================================================================
# Training-only normalisation
# ============================================================================================


def test_fit_predict_fold_fits_scaler_on_training_rows_only():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)) + np.linspace(0, 10, 50)[:, None]  # a trend: test stats differ
    y = X @ [1.0, -1.0, 0.5]
    est = Ridge(alpha=1.0)
    fold = Fold(np.arange(30), np.arange(35, 50))
    r = ev.fit_predict_fold(est, X, y, fold)
    scaler = r.estimator.named_steps["scaler"]
    np.testing.assert_allclose(scaler.mean_, X[:30].mean(axis=0))
    np.testing.assert_allclose(scaler.scale_, X[:30].std(axis=0))
    assert not hasattr(est, "coef_")  # the caller's estimator is never fitted (a clone is)
    assert r.test.tolist() == list(range(35, 50)) and r.y_pred.shape == (15,)
    # DataFrame input works the same.
    r2 = ev.fit_predict_fold(est, pd.DataFrame(X), y, fold)
    np.testing.assert_allclose(r2.y_pred, r.y_pred)
    # scaler=None leaves the estimator unwrapped.
    assert isinstance(ev.fit_predict_fold(est, X, y, fold, scaler=None).estimator, Ridge)


def test_fit_predict_fold_refuses_leaky_folds():
    from sklearn.linear_model import LinearRegression

    X = np.arange(10.0).reshape(-1, 1)
    y = X[:, 0].copy()
    with pytest.raises(ValueError, match="precede"):
        ev.fit_predict_fold(LinearRegression(), X, y, (np.array([0, 1, 8]), np.array([5, 6])))
    with pytest.raises(ValueError, match="share rows|repeated"):
        ev.purge_embargo([1, 2], [2, 3], 5, horizon=0)
    y[6] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ev.fit_predict_fold(LinearRegression(), X, y, (np.arange(5), np.array([5, 6])))
    with pytest.raises(ValueError, match="scaler"):
        ev.scaled_pipeline(LinearRegression(), scaler="minmax")


def test_walk_forward_predict_proba_columns_and_sklearn_cv():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 2))
    y = (X[:, 0] > 0).astype(int)
    folds = ev.walk_forward_splits(120, WalkForwardConfig(n_splits=3), horizon=1)
    out = ev.walk_forward_predict(LogisticRegression(), X, y, folds, proba=True)
    assert list(out.columns) == ["row", "fold", "y_true", "y_pred", "proba_0", "proba_1"]
    assert out["row"].tolist() == np.concatenate([f.test for f in folds]).tolist()
    np.testing.assert_allclose(out[["proba_0", "proba_1"]].sum(axis=1), 1.0)
    # Folds unpack as (train, test): scikit-learn accepts them as cv.
    scores = cross_val_score(ev.scaled_pipeline(LogisticRegression()), X, y, cv=folds)
    assert scores.shape == (3,)


# ============================================================================================
# Baselines
# ============================================================================================


def test_persistence_known_answers():
    # Rows as clock, horizon 2: forecast[j] = y[j - 2], i.e. the return over (j-2, j] ending now.
    y = np.array([1.0, -2.0, 3.0, -4.0, 5.0, 6.0])
    got = ev.persistence_forecast(y, 6, horizon=2)
    np.testing.assert_array_equal(got, [np.nan, np.nan, 1.0, -2.0, 3.0, -4.0])
    # Irregular times and target ends: at row j take the latest i with target_end[i] <= ts[j].
    ts = [0, 10, 20, 30, 40]
    te = [25, 15, 40, 45, 50]
    # row 0 (t=0) and row 1 (t=10): nothing realised yet -> fill;
    # row 2 (t=20): row 1 (ends 15) -> "b";
    # row 3 (t=30): rows 0 (ends 25) and 1 (ends 15) -> the latest row, 1 -> "b";
    # row 4 (t=40): rows 0, 1, 2 (ends 40, closed) -> "c".
    got = ev.persistence_forecast(["a", "b", "c", "d", "e"], ts, target_end=te, fill="-")
    assert got.tolist() == ["-", "-", "b", "b", "c"]
    # A NaN target is never realised: at row 2 the last realised target is y[0], not y[1].
    y = np.array([1.0, np.nan, 3.0, 4.0])
    np.testing.assert_array_equal(ev.persistence_forecast(y, 4, horizon=1), [np.nan, 1.0, 1.0, 3.0])
    # Integer labels keep their dtype when the fill is an integer.
    got = ev.persistence_forecast(np.array([1, -1, 0]), 3, horizon=1, fill=0)
    assert got.dtype.kind == "i" and got.tolist() == [0, 1, -1]


def persistence_reference(y, ts, te, fill=np.nan):
    out = []
    for j in range(len(y)):
        best = -1
        for i in range(len(y)):
            if np.isfinite(y[i]) and te[i] <= ts[j]:
                best = max(best, i)
        out.append(y[best] if best >= 0 else fill)
    return np.array(out)


@FAST
@given(st.data())
def test_persistence_matches_reference(data):
    n = data.draw(st.integers(1, 30))
    ts = np.cumsum(data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)))
    te = ts + np.array(data.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)))
    y = np.array(
        data.draw(st.lists(st.sampled_from([1.0, -1.0, 2.0, np.nan]), min_size=n, max_size=n))
    )
    got = ev.persistence_forecast(y, ts, target_end=te)
    np.testing.assert_array_equal(got, persistence_reference(y, ts, te))


def test_persistence_is_causal():
    # Changing targets that are not yet realised at ts[j] never changes the forecast at j.
    rng = np.random.default_rng(3)
    ts = np.cumsum(rng.integers(1, 5, size=200))
    te = ts + rng.integers(0, 20, size=200)
    y = rng.normal(size=200)
    base = ev.persistence_forecast(y, ts, target_end=te)
    for j in (5, 50, 120, 199):
        y2 = y.copy()
        future = te > ts[j]
        y2[future] = rng.normal(size=future.sum()) + 100
        assert ev.persistence_forecast(y2, ts, target_end=te)[j] == pytest.approx(
            base[j], nan_ok=True
        )


def test_majority_and_stratified():
    assert ev.majority_class([2, 0, 0, 2], 2).tolist() == [0, 0]  # tie -> smallest label
    g1 = ev.stratified_guess([0, 1, 1, 1], 4000, seed=5)
    g2 = ev.stratified_guess([0, 1, 1, 1], 4000, seed=5)
    np.testing.assert_array_equal(g1, g2)
    assert abs((g1 == 1).mean() - 0.75) < 0.03
    assert set(ev.stratified_guess(["up", "down"], 50, seed=0).tolist()) <= {"up", "down"}
    with pytest.raises(ValueError, match="empty"):
        ev.majority_class([], 3)


def test_walk_forward_baselines_classification_known_answer():
    y = np.array([1, 1, -1, 1, -1, -1, 1, -1])
    folds = ev.walk_forward_splits(8, WalkForwardConfig(n_splits=1, test_size=3), horizon=1)
    # Test rows 5-7; row 4 is purged (its target ends at 5) -> training rows 0-3: majority +1.
    # Persistence at row j is y[j - 1]: rows 5, 6, 7 -> y[4], y[5], y[6] = -1, -1, 1.
    out = ev.walk_forward_baselines(y, folds, task="classification", horizon=1, seed=0)
    assert out["row"].tolist() == [5, 6, 7]
    assert out["majority"].tolist() == [1, 1, 1]
    assert out["persistence"].tolist() == [-1, -1, 1]
    assert set(out["stratified"]) <= {-1, 1}
    assert list(out.columns) == ["row", "fold", "y_true", *ev.CLASSIFICATION_BASELINES]
    with pytest.raises(ValueError, match="task"):
        ev.walk_forward_baselines(y, folds, task="ranking", horizon=1)


def test_block_shuffle_keeps_blocks():
    y = np.arange(10)
    s = ev.block_shuffle(y, 3, seed=2)
    assert sorted(s.tolist()) == y.tolist()
    # Blocks [0,1,2], [3,4,5], [6,7,8], [9] stay contiguous and in order inside.
    pieces = {tuple(y[i : i + 3]) for i in range(0, 10, 3)}
    pos = 0
    for _ in range(4):
        blk = next(p for p in pieces if s[pos] == p[0])
        assert tuple(s[pos : pos + len(blk)]) == blk
        pos += len(blk)


# ============================================================================================
# Metrics against scikit-learn and scipy
# ============================================================================================


label_lists = st.lists(st.integers(0, 2), min_size=1, max_size=40)


@FAST
@given(st.data())
def test_classification_metrics_match_sklearn(data):
    from sklearn import metrics as skm

    yt = np.array(data.draw(label_lists))
    yp = np.array(data.draw(st.lists(st.integers(0, 2), min_size=len(yt), max_size=len(yt))))
    got = ev.classification_metrics(yt, yp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = {
            "accuracy": skm.accuracy_score(yt, yp),
            "balanced_accuracy": skm.balanced_accuracy_score(yt, yp),
            "macro_f1": skm.f1_score(yt, yp, average="macro", zero_division=0),
            "mcc": skm.matthews_corrcoef(yt, yp),
            "cohen_kappa": skm.cohen_kappa_score(yt, yp),
        }
        want_cm = skm.confusion_matrix(yt, yp)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, nan_ok=True, abs=1e-12), k
    np.testing.assert_array_equal(ev.confusion_matrix(yt, yp).to_numpy(), want_cm)


@FAST
@given(st.data())
def test_regression_metrics_match_sklearn_and_scipy(data):
    from scipy import stats
    from sklearn import metrics as skm

    n = data.draw(st.integers(3, 40))
    vals = st.floats(-100, 100, allow_nan=False).map(lambda v: round(v, 2))
    yt = np.array(data.draw(st.lists(vals, min_size=n, max_size=n)))
    yp = np.array(data.draw(st.lists(vals, min_size=n, max_size=n)))
    got = ev.regression_metrics(yt, yp)
    assert got["mse"] == pytest.approx(skm.mean_squared_error(yt, yp))
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(yt, yp))
    assert got["r2"] == pytest.approx(skm.r2_score(yt, yp), abs=1e-9)
    sst0 = np.sum(yt**2)
    want_oos = 1 - np.sum((yt - yp) ** 2) / sst0 if sst0 > 0 else np.nan
    assert got["r2_oos"] == pytest.approx(want_oos, nan_ok=True)
    if np.ptp(yt) > 0 and np.ptp(yp) > 0:
        assert got["pearson"] == pytest.approx(stats.pearsonr(yt, yp)[0], abs=1e-9)
        assert got["spearman"] == pytest.approx(stats.spearmanr(yt, yp)[0], abs=1e-9)
    else:
        assert math.isnan(got["pearson"]) and math.isnan(got["spearman"])


def test_metric_known_answers_and_errors():
    # y = [1, -1, 2], forecast [0.5, -0.5, 1]: errors 0.5, -0.5, 1 -> MSE 1.5/3 = 0.5.
    assert ev.mse([1.0, -1.0, 2.0], [0.5, -0.5, 1.0]) == 0.5
    # R2_oos = 1 - 1.5 / (1 + 1 + 4) = 0.75.
    assert ev.r2_oos([1.0, -1.0, 2.0], [0.5, -0.5, 1.0]) == 0.75
    # Balanced accuracy of "always 1" on [0, 1, 1, 1]: recalls 0 and 1 -> 0.5.
    assert ev.balanced_accuracy([0, 1, 1, 1], [1, 1, 1, 1]) == 0.5
    bal = ev.class_balance(["up", "down", "up", "flat"])
    assert bal["count"].to_dict() == {"down": 1, "flat": 1, "up": 2}
    assert bal["fraction"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same length"):
        ev.mse([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        ev.mae([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="outside"):
        ev.accuracy([0, 1], [0, 2], labels=[0, 1])
    with pytest.raises(ValueError, match="one-dimensional"):
        ev.r2(np.zeros((2, 2)), np.zeros((2, 2)))


# ============================================================================================
# Block bootstrap
# ============================================================================================


def bootstrap_indices_reference(n, cfg):
    """Loop version: draws the same block starts from the same generator."""
    rng = np.random.default_rng(cfg.seed)
    L = cfg.block_length
    n_blocks = -(-n // L)
    high = n if cfg.method == "circular" else n - L + 1
    out = []
    for _ in range(cfg.n_boot):
        starts = rng.integers(0, high, size=n_blocks)
        idx = []
        for s in starts:
            for j in range(L):
                idx.append((s + j) % n if cfg.method == "circular" else s + j)
        out.append(idx[:n])
    return out


@FAST
@given(
    n=st.integers(1, 40),
    block=st.integers(1, 40),
    method=st.sampled_from(["circular", "moving"]),
    seed=st.integers(0, 1000),
)
def test_block_bootstrap_indices_match_reference(n, block, method, seed):
    block = min(block, n)
    cfg = BootstrapConfig(block_length=block, n_boot=3, method=method, seed=seed)
    got = [i.tolist() for i in ev.block_bootstrap_indices(n, cfg)]
    assert got == bootstrap_indices_reference(n, cfg)
    for idx in got:
        assert len(idx) == n and min(idx) >= 0 and max(idx) < n


def test_block_bootstrap_indices_block_structure():
    # Moving blocks of 4 over 10 rows: 3 blocks (the last cut to 2 rows), each a run of
    # consecutive indices that never wraps around.
    cfg = BootstrapConfig(block_length=4, n_boot=50, method="moving", seed=1)
    for idx in ev.block_bootstrap_indices(10, cfg):
        for b in range(0, 10, 4):
            run = idx[b : b + 4]
            assert np.all(np.diff(run) == 1)
    with pytest.raises(ValueError, match="exceeds"):
        next(ev.block_bootstrap_indices(3, BootstrapConfig(block_length=4)))


def test_bootstrap_constant_data_gives_degenerate_ci():
    x = np.full(100, 3.5)
    ci = ev.block_bootstrap_ci(np.mean, x, config=BootstrapConfig(block_length=10, n_boot=200))
    assert ci.estimate == ci.ci_low == ci.ci_high == 3.5
    assert ci.std_error == 0.0 and ci.n_valid == 200
    # A perfect forecast: MSE is 0 in every resample.
    ci = ev.block_bootstrap_ci(ev.mse, x, x, config=BootstrapConfig(block_length=10, n_boot=50))
    assert (ci.estimate, ci.ci_low, ci.ci_high) == (0.0, 0.0, 0.0)


def test_bootstrap_is_seeded():
    x = np.random.default_rng(0).normal(size=300)
    a = ev.block_bootstrap_ci(
        np.mean, x, config=BootstrapConfig(block_length=7, n_boot=100, seed=3)
    )
    b = ev.block_bootstrap_ci(
        np.mean, x, config=BootstrapConfig(block_length=7, n_boot=100, seed=3)
    )
    c = ev.block_bootstrap_ci(
        np.mean, x, config=BootstrapConfig(block_length=7, n_boot=100, seed=4)
    )
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high) != (c.ci_low, c.ci_high)


def coverage(make_series, block_length, reps=200, n_boot=200):
    hits = 0
    for r in range(reps):
        x, true_mean = make_series(np.random.default_rng(10_000 + r))
        cfg = BootstrapConfig(block_length=block_length, n_boot=n_boot, seed=r)
        ci = ev.block_bootstrap_ci(np.mean, x, config=cfg)
        hits += ci.ci_low <= true_mean <= ci.ci_high
    return hits / reps


def test_bootstrap_coverage_iid_normal():
    # 95 % percentile CIs of the mean of 100 iid N(1, 1) draws: about 95 % of 200 seeded
    # repetitions contain 1 (binomial sd 1.5 pp; the percentile interval runs slightly short).
    cov = coverage(lambda rng: (rng.normal(1.0, 1.0, size=100), 1.0), block_length=1)
    assert 0.90 <= cov <= 0.99


def test_block_bootstrap_restores_coverage_under_autocorrelation():
    # AR(1) with phi = 0.6: the variance of the mean is (1 + phi) / (1 - phi) = 4 times the iid
    # one, so an iid bootstrap (blocks of 1) covers far too rarely; blocks of 25 rows do better.
    def ar1(rng, n=400, phi=0.6):
        e = rng.normal(size=n)
        x = np.empty(n)
        x[0] = e[0] / math.sqrt(1 - phi**2)
        for t in range(1, n):
            x[t] = phi * x[t - 1] + e[t]
        return x, 0.0

    iid = coverage(ar1, block_length=1, reps=120, n_boot=150)
    blocks = coverage(ar1, block_length=25, reps=120, n_boot=150)
    assert iid < 0.80
    assert blocks > 0.85
    assert blocks - iid > 0.1


def test_paired_bootstrap_test():
    rng = np.random.default_rng(7)
    y = rng.normal(size=500)
    cfg = BootstrapConfig(block_length=10, n_boot=300)
    # Identical forecasts: a degenerate zero difference with p = 1.
    same = ev.paired_bootstrap_test(ev.mse, y, np.zeros(500), np.zeros(500), config=cfg)
    assert (same.diff, same.ci_low, same.ci_high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    # An informative forecast against zero: MSE lower, CI below zero, small p-value.
    good = ev.paired_bootstrap_test(
        ev.mse, y, 0.8 * y + 0.2 * rng.normal(size=500), np.zeros(500), config=cfg
    )
    assert good.diff < 0 and good.ci_high < 0 and good.p_value < 0.01
    assert good.baseline_value == pytest.approx(ev.mse(y, np.zeros(500)))
    # Two pure-noise forecasts: no significant difference in correlation either way.
    noise = ev.paired_bootstrap_test(
        ev.pearson, y, rng.normal(size=500), rng.normal(size=500), config=cfg
    )
    assert noise.ci_low < 0 < noise.ci_high and noise.p_value > 0.05


# ============================================================================================
# Diebold-Mariano
# ============================================================================================


def test_diebold_mariano_hand_computed_h1():
    # d = loss_a - loss_b = [1, -1, 2, 0]; mean 0.5; deviations [0.5, -1.5, 1.5, -0.5];
    # gamma0 = (0.25 + 2.25 + 2.25 + 0.25) / 4 = 1.25 (no lags at h = 1).
    # DM = 0.5 / sqrt(1.25 / 4) = 0.894427...; HLN factor sqrt((4 + 1 - 2) / 4) = sqrt(0.75)
    # -> 0.894427 * 0.866025 = sqrt(0.6) = 0.774597; p from Student t with 3 df.
    from scipy import stats

    r = ev.diebold_mariano([2.0, 0.0, 3.0, 1.0], [1.0, 1.0, 1.0, 1.0], horizon=1)
    assert r.mean_diff == 0.5 and r.long_run_variance == pytest.approx(1.25)
    assert r.statistic == pytest.approx(math.sqrt(0.6))
    assert r.p_value == pytest.approx(2 * stats.t.sf(math.sqrt(0.6), df=3))
    assert r.p_value_a_better == pytest.approx(stats.t.cdf(math.sqrt(0.6), df=3))


def test_diebold_mariano_hand_computed_h2_and_fallback():
    # d = [1, -1, 2, 0, 3]; mean 1; deviations u = [0, -2, 1, -1, 2].
    # gamma0 = (0 + 4 + 1 + 1 + 4) / 5 = 2; gamma1 = (0*(-2) + (-2)*1 + 1*(-1) + (-1)*2) / 5 = -1.
    # Bartlett (Newey-West, 1 lag, w1 = 1 - 1/2): V = 2 + 2 * 0.5 * (-1) = 1.
    # DM = 1 / sqrt(1 / 5) = sqrt(5); HLN (5 + 1 - 4 + 2 * 1 / 5) / 5 = 0.48 -> sqrt(2.4).
    r = ev.diebold_mariano([1.0, -1.0, 2.0, 0.0, 3.0], np.zeros(5), horizon=2)
    assert r.long_run_variance == pytest.approx(1.0)
    assert r.statistic == pytest.approx(math.sqrt(2.4))
    assert r.kernel == "bartlett"
    # The rectangular kernel gives V = 2 + 2 * (-1) = 0 here, so it falls back to Bartlett.
    r2 = ev.diebold_mariano(
        [1.0, -1.0, 2.0, 0.0, 3.0], np.zeros(5), horizon=2, kernel="rectangular"
    )
    assert r2.kernel == "bartlett" and r2.statistic == pytest.approx(r.statistic)


def test_diebold_mariano_variance_matches_statsmodels_hac():
    import statsmodels.api as sm

    rng = np.random.default_rng(11)
    d = rng.normal(size=300) + np.convolve(rng.normal(size=304), np.ones(5), "valid")
    for h in (1, 3, 6):
        r = ev.diebold_mariano(d, np.zeros_like(d), horizon=h)
        fit = sm.OLS(d, np.ones_like(d)).fit(
            cov_type="HAC", cov_kwds={"maxlags": h - 1, "use_correction": False}
        )
        assert r.long_run_variance / len(d) == pytest.approx(fit.bse[0] ** 2)


def lrv_reference(d, lags, kernel):
    n = len(d)
    m = sum(d) / n
    v = 0.0
    for k in range(-lags, lags + 1):
        w = 1.0 if kernel == "rectangular" else 1.0 - abs(k) / (lags + 1)
        for t in range(abs(k), n):
            v += w * (d[t] - m) * (d[t - abs(k)] - m) / n
    return v


@FAST
@given(
    d=st.lists(st.floats(-10, 10, allow_nan=False), min_size=8, max_size=30),
    lags=st.integers(0, 3),
    kernel=st.sampled_from(["bartlett", "rectangular"]),
)
def test_long_run_variance_matches_reference(d, lags, kernel):
    got = _long_run_variance(np.array(d), lags, kernel)
    assert got == pytest.approx(lrv_reference(d, lags, kernel), abs=1e-9)


def test_diebold_mariano_edge_cases():
    same = ev.diebold_mariano(np.ones(10), np.ones(10), horizon=2)
    assert same.statistic == 0.0 and same.p_value == 1.0
    with pytest.raises(ValueError, match="2\\*horizon"):
        ev.diebold_mariano(np.ones(4), np.zeros(4), horizon=2)
    with pytest.raises(ValueError, match="kernel"):
        ev.diebold_mariano(np.ones(9), np.zeros(9), kernel="parzen")


# ============================================================================================
# P&L net of costs
# ============================================================================================


def test_trade_pnl_known_answer():
    # Binance spot taker 10 bps per side; round trip on a 2 bps spread:
    # cost = 0.5 * (2 + 2) + 2 * 10 = 22 bps.
    gross, net = ev.trade_pnl([1, -1, 0, 1], [30.0, -25.0, 4.0, -10.0], [2.0, 2.0, 2.0, 2.0])
    assert gross.tolist() == [30.0, 25.0, 0.0, -10.0]
    assert net.tolist() == [8.0, 3.0, 0.0, -32.0]
    # USD-M futures taker (5 bps), one side only: cost = 0.5 * 2 + 5 = 6 bps.
    cm = CostModel(fee_bps=ev.BINANCE_USDM_TAKER_FEE_BPS, sides=1)
    _, net = ev.trade_pnl([1], [30.0], [2.0], costs=cm)
    assert net.tolist() == [24.0]
    # A different exit spread: 0.5 * (2 + 6) + 20 = 24 bps.
    _, net = ev.trade_pnl([1], [30.0], [2.0], exit_spread_bps=[6.0])
    assert net.tolist() == [6.0]
    assert CostModel().fee_bps == 10.0
    with pytest.raises(ValueError, match="direction"):
        ev.trade_pnl([2], [1.0], [1.0])
    with pytest.raises(ValueError, match="sides"):
        CostModel(sides=3)


def test_pnl_summary_known_answer():
    r = ev.pnl_net_of_costs([1, -1, 0, 1], [30.0, -25.0, 4.0, -10.0], [2.0] * 4)
    # Trades: gross 30, 25, -10 -> mean 15, hits 2 of 3; net 8, 3, -32 -> mean -7, total -21.
    assert (r.n_rows, r.n_trades, r.trade_rate) == (4, 3, 0.75)
    assert r.hit_rate == pytest.approx(2 / 3)
    assert (r.mean_gross_bps, r.mean_net_bps, r.mean_cost_bps) == (15.0, -7.0, 22.0)
    assert (r.total_gross_bps, r.total_net_bps) == (45.0, -21.0)
    assert math.isnan(r.ci_low) and set(r.to_dict()) >= {"hit_rate", "ci_high"}
    none = ev.pnl_net_of_costs([0, 0], [1.0, 2.0], [1.0, 1.0])
    assert none.n_trades == 0 and math.isnan(none.mean_net_bps) and none.total_net_bps == 0.0


def test_pnl_bootstrap_ci():
    # Every trade nets exactly -12 bps: the CI of the mean per trade is degenerate.
    d = np.tile([1, 0, -1, 0], 50)
    ret = 10.0 * d  # direction always right, 10 bps gross
    r = ev.pnl_net_of_costs(
        d, ret, np.full(200, 4.0), bootstrap=BootstrapConfig(block_length=4, n_boot=100)
    )
    assert r.mean_net_bps == pytest.approx(10 - 4 - 20)
    assert r.ci_low == pytest.approx(-14.0) and r.ci_high == pytest.approx(-14.0)
    # Noisy P&L: the CI brackets the mean.
    rng = np.random.default_rng(2)
    ret = rng.normal(0, 30, size=400)
    dirs = ev.regression_signal(ret + rng.normal(0, 30, size=400), threshold=10.0)
    r = ev.pnl_net_of_costs(
        dirs, ret, np.full(400, 1.0), bootstrap=BootstrapConfig(block_length=5, n_boot=200)
    )
    assert r.ci_low < r.mean_net_bps < r.ci_high


def test_signals():
    assert ev.regression_signal([5.0, -5.0, 0.2, -0.2], threshold=1.0).tolist() == [1, -1, 0, 0]
    proba = np.array([[0.9, 0.1], [0.45, 0.55], [0.3, 0.7]])
    # 0/1 labels are ambiguous (is 0 "down" or "flat"?): directions must be given.
    with pytest.raises(ValueError, match="directions"):
        ev.classifier_signal(proba, [0, 1])
    got = ev.classifier_signal(proba, [0, 1], threshold=0.6, directions=[-1, 1])
    assert got.tolist() == [-1, 0, 1]
    assert ev.classifier_signal(proba, [-1, 1]).tolist() == [-1, 1, 1]
    with pytest.raises(ValueError, match="shape"):
        ev.classifier_signal(proba, [-1, 0, 1])


# ============================================================================================
# The results table
# ============================================================================================


def test_results_table_regression():
    rng = np.random.default_rng(0)
    y = rng.normal(size=400)
    preds = {"good": 0.7 * y + 0.3 * rng.normal(size=400), "noise": rng.normal(size=400)}
    base = {"zero": np.zeros(400), "last_return": np.r_[0.0, y[:-1]]}
    cfg = BootstrapConfig(block_length=5, n_boot=200)
    tab = ev.results_table(
        y, preds, base, task="regression", config=cfg, target="ret", horizon="1s", dm_horizon=1
    )
    assert list(tab.columns) == _RESULT_COLUMNS
    assert len(tab) == 4 * 6 and tab["role"].tolist().count("model") == 2 * 6
    row = tab.query("model == 'good' and metric == 'mse'").iloc[0]
    # The zero forecast has the lower MSE of the two baselines (persistence of iid noise doubles it).
    assert row["baseline"] == "zero" and bool(row["beats_baseline"]) and row["dm_p_value"] < 0.01
    assert row["ci_low"] <= row["value"] <= row["ci_high"]
    noise = tab.query("model == 'noise' and metric == 'mse'").iloc[0]
    assert not bool(noise["beats_baseline"]) and noise["diff"] > 0
    # The same numbers as the stand-alone functions.
    assert row["value"] == pytest.approx(ev.mse(y, preds["good"]))
    assert row["diff"] == pytest.approx(ev.mse(y, preds["good"]) - ev.mse(y, base["zero"]))
    pt = ev.paired_bootstrap_test(ev.mse, y, preds["good"], base["zero"], config=cfg)
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx((pt.ci_low, pt.ci_high))
    # Baseline rows carry no comparison.
    assert tab.query("role == 'baseline'")["baseline"].isna().all()
    assert tab["target"].eq("ret").all() and tab["horizon"].eq("1s").all()


def test_results_table_classification_and_errors():
    rng = np.random.default_rng(4)
    y = rng.choice([-1, 0, 1], size=300, p=[0.2, 0.6, 0.2])
    cfg = BootstrapConfig(block_length=5, n_boot=100)
    tab = ev.results_table(
        y,
        {"oracle": y},
        {"majority": np.zeros(300, dtype=int), "stratified": ev.stratified_guess(y, 300, seed=1)},
        task="classification",
        config=cfg,
    )
    ba = tab.query("model == 'oracle' and metric == 'balanced_accuracy'").iloc[0]
    assert ba["value"] == 1.0 and ba["ci_low"] == 1.0 and bool(ba["beats_baseline"])
    acc = tab.query("model == 'oracle' and metric == 'accuracy'").iloc[0]
    assert acc["baseline"] == "majority" and acc["baseline_value"] == pytest.approx(np.mean(y == 0))
    maj = tab.query("model == 'majority' and metric == 'balanced_accuracy'").iloc[0]
    assert maj["value"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="baseline"):
        ev.results_table(y, {"m": y}, {}, task="classification", config=cfg)
    with pytest.raises(ValueError, match="both"):
        ev.results_table(y, {"m": y}, {"m": y}, task="classification", config=cfg)


def test_string_labels_flow_through_baselines_and_table():
    y = np.array(["up", "down", "up", "flat", "up", "down", "up", "up", "flat", "up"])
    folds = ev.walk_forward_splits(10, WalkForwardConfig(n_splits=2, test_size=3), horizon=1)
    base = ev.walk_forward_baselines(y, folds, task="classification", horizon=1)
    # Fold 0 tests rows 4-6 after training rows 0-2 (row 3 purged): majority "up";
    # persistence at row j is y[j - 1].
    assert base["majority"].tolist()[:3] == ["up", "up", "up"]
    assert base["persistence"].tolist()[:3] == ["flat", "up", "down"]
    tab = ev.results_table(
        base["y_true"].to_numpy(),
        {"oracle": base["y_true"].to_numpy()},
        {k: base[k].to_numpy() for k in ev.CLASSIFICATION_BASELINES},
        task="classification",
        config=BootstrapConfig(block_length=2, n_boot=50),
    )
    assert tab.query("model == 'oracle' and metric == 'accuracy'")["value"].item() == 1.0


# ============================================================================================
# Configs and validation
# ============================================================================================


def test_config_and_input_validation():
    with pytest.raises(ValueError, match="rolling"):
        WalkForwardConfig(window="rolling")
    with pytest.raises(ValueError, match="train_size"):
        WalkForwardConfig(train_size=10)
    with pytest.raises(ValueError, match="window"):
        WalkForwardConfig(window="sliding")
    with pytest.raises(ValueError, match="embargo"):
        WalkForwardConfig(embargo=-1)
    with pytest.raises(ValueError, match="block_length"):
        BootstrapConfig(block_length=0)
    with pytest.raises(ValueError, match="confidence"):
        BootstrapConfig(block_length=2, confidence=95)
    with pytest.raises(ValueError, match="exactly one"):
        ev.walk_forward_splits(10)
    with pytest.raises(ValueError, match="exactly one"):
        ev.walk_forward_splits(10, horizon=1, target_end=np.arange(10))
    with pytest.raises(ValueError, match="non-decreasing"):
        ev.walk_forward_splits([0, 2, 1, 3, 4, 5], horizon=1)
    with pytest.raises(ValueError, match="precede"):
        ev.walk_forward_splits([0, 1, 2], target_end=[0, 0, 5])
    with pytest.raises(ValueError, match="cannot hold"):
        ev.walk_forward_splits(5, WalkForwardConfig(n_splits=5, test_size=1), horizon=0)
    with pytest.raises(ValueError, match="training rows after purge"):
        ev.walk_forward_splits(10, WalkForwardConfig(n_splits=2, test_size=4), horizon=3)
    with pytest.raises(ValueError, match="integer timestamps"):
        ev.walk_forward_splits(np.array([0.0, 1.0, 2.0]), horizon=1)
    with pytest.raises(AttributeError):
        WalkForwardConfig().n_splits = 3  # frozen


def test_folds_frame():
    ts = np.arange(10) * 1000
    frame = ev.folds_frame(
        ev.walk_forward_splits(ts, WalkForwardConfig(n_splits=2), horizon=1000), ts
    )
    assert frame["n_test"].tolist() == [3, 3]
    assert frame["test_start_ts"].tolist() == [4000, 7000]
    assert frame["train_end_ts"].tolist() == [2000, 5000]


# ============================================================================================
# The protocol end to end: placebo and leak
# ============================================================================================


def ar1_features(rng, n, k, phi):
    X = np.zeros((n, k))
    e = rng.normal(size=(n, k))
    for t in range(1, n):
        X[t] = phi * X[t - 1] + math.sqrt(1 - phi**2) * e[t]
    return X


def test_shuffled_labels_score_at_chance_under_the_protocol():
    from sklearn.linear_model import LogisticRegression

    # Autocorrelated features; the next-step return depends on feature 0; the label is the
    # sign of the return over the next h rows (overlapping windows, like a forward-return label).
    rng = np.random.default_rng(0)
    n, h = 3020, 20
    X = ar1_features(rng, n, 3, phi=0.95)
    r = 0.15 * X[:, 0] + rng.normal(size=n)
    price = np.r_[0.0, np.cumsum(r)]
    y = (price[h:n] - price[: n - h] > 0).astype(int)  # row t: price[t + h] - price[t]
    X = X[: n - h]
    folds = ev.walk_forward_splits(len(y), WalkForwardConfig(n_splits=5, embargo=h), horizon=h)
    cfg = BootstrapConfig(block_length=2 * h, n_boot=300)

    def balanced_accuracy_ci(labels):
        out = ev.walk_forward_predict(LogisticRegression(), X, labels, folds)
        return ev.block_bootstrap_ci(
            ev.balanced_accuracy, out["y_true"].to_numpy(), out["y_pred"].to_numpy(), config=cfg
        )

    # Positive control: the real labels are predictable, and the protocol shows it.
    real = balanced_accuracy_ci(y)
    assert real.ci_low > 0.52
    # Placebo: labels block-shuffled (blocks of 200 rows keep the overlap structure but cut the
    # link to the features). Balanced accuracy is at chance, 0.5.
    placebo = balanced_accuracy_ci(ev.block_shuffle(y, 200, seed=0))
    assert placebo.ci_low <= 0.5 <= placebo.ci_high
    assert abs(placebo.estimate - 0.5) < 0.05


def test_without_purge_overlapping_targets_fake_skill():
    from sklearn.neighbors import KNeighborsClassifier

    # Labels from a pure random walk: sign of the move over the next h rows. They carry no
    # information about anything observable, but neighbouring labels share h - 1 increments.
    # A 1-nearest-neighbour model on a time feature predicts each test row with the label of
    # the last training row. Without purge that label's window overlaps the test windows
    # (fake skill); with purge it ends before the test block starts (chance).
    rng = np.random.default_rng(100)
    n, h = 3000, 20
    price = np.r_[0.0, np.cumsum(rng.normal(size=n + h))]
    y = (price[h : n + h] - price[:n] > 0).astype(int)
    X = np.arange(n, dtype=float)[:, None]
    cfg = BootstrapConfig(block_length=2 * h, n_boot=300)
    layout = WalkForwardConfig(n_splits=250, test_size=h // 2)
    res = {}
    for name, horizon in (("leaky", 0), ("purged", h)):
        folds = ev.walk_forward_splits(n, layout, horizon=horizon)
        out = ev.walk_forward_predict(KNeighborsClassifier(n_neighbors=1), X, y, folds)
        res[name] = ev.block_bootstrap_ci(
            ev.balanced_accuracy, out["y_true"].to_numpy(), out["y_pred"].to_numpy(), config=cfg
        )
    assert res["leaky"].ci_low > 0.65
    assert res["purged"].ci_low <= 0.5 <= res["purged"].ci_high
    assert res["leaky"].estimate - res["purged"].estimate > 0.15


def test_clipped_scaler_keeps_a_flat_training_feature_from_exploding_a_linear_model():
    """Synthetic (known answer): feature 1 is flat in training and jumps in the test rows."""
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(3)
    n = 400
    x0 = rng.normal(size=n)
    x1 = np.full(n, 0.5)
    x1[:200] += rng.normal(scale=1e-7, size=200)  # near-constant in training
    x1[300:] = 0.6  # the regime changes in the test window
    X = np.column_stack([x0, x1])
    y = x0 + rng.normal(scale=0.1, size=n)
    train, test = np.arange(200), np.arange(300, 400)
    plain = ev.scaled_pipeline(Ridge(alpha=1.0), "standard").fit(X[train], y[train])
    clipped = ev.scaled_pipeline(Ridge(alpha=1.0), "clipped").fit(X[train], y[train])
    err_plain = np.abs(plain.predict(X[test]) - y[test]).max()
    err_clipped = np.abs(clipped.predict(X[test]) - y[test]).max()
    assert err_clipped < 1.0 < err_plain
    z = clipped.named_steps["scaler"].transform(X[test])
    assert np.abs(z).max() <= 10.0


def test_clipped_scaler_uses_training_statistics_only():
    X_train = np.array([[0.0], [2.0]])
    sc = ev.ClippedStandardScaler(clip=100.0).fit(X_train)
    assert sc.transform(np.array([[4.0]]))[0, 0] == pytest.approx(3.0)
    with pytest.raises(ValueError, match="clip"):
        ev.ClippedStandardScaler(clip=0).fit(X_train)
