"""Tests of lobutils.features.stationarity on synthetic series (seeded white noise, random walks and
trends), whose stationarity is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("statsmodels")

from lobutils.features import stationarity as ST  # noqa: E402


@pytest.fixture(scope="module")
def series():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=1200)
    return {
        "noise": noise,
        "walk": np.cumsum(noise),
        "trend": 0.05 * np.arange(1200) + rng.normal(size=1200),
    }


def test_table_verdicts_on_known_series(series):
    table = ST.stationarity_table(series)
    combined = table.groupby("series")["combined"].first().to_dict()
    assert combined["noise"] == "stationary"
    assert combined["walk"] == "unit root"
    # a deterministic trend is not level-stationary...
    assert combined["trend"] != "stationary"
    # ...but is stationary around the trend
    ct = ST.stationarity_table({"trend": series["trend"]}, regression="ct")
    assert set(ct["combined"]) == {"trend-stationary"}
    assert set(ct.loc[ct["test"] == "KPSS", "null"]) == {"trend-stationary"}


def test_table_is_tidy(series):
    table = ST.stationarity_table(series, transforms=["level", "diff"])
    assert len(table) == 3 * 2 * 2  # series x transforms x tests
    assert list(table.columns) == [
        "series",
        "transform",
        "test",
        "statistic",
        "pvalue",
        "lags",
        "nobs",
        "n_dropped",
        "null",
        "verdict",
        "combined",
        "note",
    ]
    assert set(table["test"]) == {"ADF", "KPSS"}
    assert set(table["verdict"]) <= {"reject H0", "do not reject H0"}
    walk_diff = table[(table["series"] == "walk") & (table["transform"] == "diff")]
    assert set(walk_diff["combined"]) == {"stationary"}
    assert (walk_diff["n_dropped"] == 1).all()  # the first difference is NaN
    assert table["pvalue"].between(0, 1).all()
    adf = table[table["test"] == "ADF"]
    assert (adf["nobs"] + adf["lags"] + 1 <= 1200).all()


def test_constant_short_and_nan_series_do_not_crash():
    table = ST.stationarity_table(
        {
            "const": np.full(100, 3.0),
            "short": np.arange(5.0),
            "all_nan": np.full(50, np.nan),
            "gappy": np.where(
                np.arange(300) % 10 == 0, np.nan, np.random.default_rng(1).normal(size=300)
            ),
        }
    )
    by = table.drop_duplicates("series").set_index("series")
    assert by.loc["const", "combined"] == "not tested"
    assert by.loc["const", "note"] == "constant series"
    assert "too short: 5 finite values" in by.loc["short", "note"]
    assert "too short: 0 finite values" in by.loc["all_nan", "note"]
    assert np.isnan(by.loc["const", "statistic"])
    assert by.loc["gappy", "n_dropped"] == 30
    assert "dropped 30 non-finite values" in by.loc["gappy", "note"]
    assert by.loc["gappy", "combined"] != "not tested"


def test_kpss_pvalue_bound_is_noted(series):
    kp = ST.kpss_test(series["walk"])
    assert kp["pvalue"] == pytest.approx(0.01)
    assert "outside the KPSS table" in kp["note"]


def test_combined_verdict_cases():
    def fake(verdict):
        return {"verdict": verdict}

    r, n = fake("reject H0"), fake("do not reject H0")
    assert ST._combined(r, n, "c") == "stationary"
    assert ST._combined(r, n, "ct") == "trend-stationary"
    assert ST._combined(n, r, "c") == "unit root"
    assert ST._combined(r, r, "c") == "conflicting"
    assert ST._combined(n, n, "c") == "inconclusive"
    assert ST._combined(fake("not tested"), n, "c") == "not tested"


def test_argument_checks():
    with pytest.raises(ValueError, match="non-empty"):
        ST.stationarity_table({})
    with pytest.raises(ValueError, match="regression"):
        ST.stationarity_table({"x": np.arange(50.0)}, regression="n")
    with pytest.raises(ValueError, match="unknown transform"):
        ST.stationarity_table({"x": np.arange(50.0)}, transforms="sqrt")


# --------------------------------------------------------------------------------------
# transformations
# --------------------------------------------------------------------------------------


def test_transformations():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    np.testing.assert_array_equal(ST.difference(x), [np.nan, 1.0, 2.0, 4.0])
    np.testing.assert_array_equal(ST.difference(x, 2), [np.nan, np.nan, 3.0, 6.0])
    np.testing.assert_allclose(ST.log_difference(x)[1:], np.log(2.0))
    np.testing.assert_allclose(ST.transform(x, "log"), np.log(x))
    np.testing.assert_array_equal(ST.transform(x, "level"), x)
    with pytest.raises(ValueError, match="positive"):
        ST.log_transform([1.0, 0.0])
    with pytest.raises(ValueError, match="periods"):
        ST.difference(x, 0)


def test_rolling_zscore_uses_past_only():
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    w = 10
    z = ST.rolling_zscore(x, w)
    assert np.isnan(z[:w]).all()
    for i in range(w, x.size):
        past = x[i - w : i]  # the previous w values, the current one excluded
        assert z[i] == pytest.approx((x[i] - past.mean()) / past.std(ddof=1))
    # changing later values leaves earlier z-scores alone
    y = x.copy()
    y[40:] += 100
    np.testing.assert_array_equal(ST.rolling_zscore(y, w)[:40], z[:40])
    assert np.isnan(ST.rolling_zscore(np.ones(20), 5)[5:]).all()  # zero past std
    np.testing.assert_allclose(ST.transform(x, "zscore_10"), z, equal_nan=True)
    with pytest.raises(ValueError, match="window"):
        ST.rolling_zscore(x, 1)
