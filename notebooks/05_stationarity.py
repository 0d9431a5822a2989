# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Stationarity
#
# Most models assume that the relation they learn on the training period still holds on the
# test period. For that, at the very least, the inputs should not wander off: their
# distribution should stay put over time. This chapter tests the features of chapter 3 and the
# targets of chapter 4 for stationarity with two complementary tests, ADF and KPSS, on every
# bundled market, applies the usual transformations (differences, log differences, a rolling
# z-score with past-only statistics), and asks what a few minutes of data can and cannot tell.
#
# **Learning objectives.** After this chapter you can
#
# - state the null hypotheses of the ADF and KPSS tests and read their two verdicts together;
# - transform a series toward stationarity without looking ahead;
# - run both tests over many series with `lobutils.features.stationarity.stationarity_table` and read the
#   tidy table it returns;
# - explain why a short sample cannot tell a random walk from a slowly mean-reverting series.
#
# **Prerequisites.** Chapters 3 and 4 (features and forward returns). The idea of a hypothesis
# test and a p-value.
#
# **Outputs.** The tables and figures below, `reports/05_stationarity/stationarity.csv` (the
# full tidy table) and `reports/05_stationarity/metrics.json` with the counts of verdicts per
# transform and market, and the simulated power of the test.

# %% [markdown]
# ## Setup

# %%
import numpy as np
import pandas as pd

from lobutils import features as F
from lobutils.book.market import load_market
from lobutils.data import segment, segments
from lobutils.features import analysis as A
from lobutils.features import stationarity as S
from lobutils.paths import report_dir, write_frame, write_metrics
from lobutils.plots import features as plots

# %% tags=["parameters"]
DATA_DIR = None  # a directory of Binance recordings (None: the bundled data)
SEGMENTS = None  # segment names, e.g. ["spot_btcusdt"] (None: every segment found)
LEVELS = 25  # book levels per side (for VAMP)
GRID = "1s"  # clock-grid step
HORIZONS_S = [1, 10, 60]  # forward-return horizons (s)
VAMP_CUTOFF = 60_000.0  # VAMP cutoff in quote currency
ZSCORE_WINDOW = 60  # rolling z-score window (grid steps)
ALPHA = 0.05  # significance level of each test
REGRESSION = "c"  # deterministic terms of both tests: "c" (level) or "ct" (level and trend)
KPSS_NLAGS = "legacy"  # KPSS bandwidth: "legacy" (12 (n/100)^(1/4) lags), "auto", or a number
POWER_SAMPLE_SIZES = [600, 3_600, 14_400]  # simulated sample sizes (steps): 10 min, 1 h, 4 h at 1 s
# half-lives of the simulated mean reversion (steps)
POWER_HALF_LIVES_S = [5, 15, 30, 60, 120, 300, 600, 1_800]
POWER_SIMULATIONS = 200  # simulated series per (size, half-life)
SHOWCASE = None  # the market of the one-market tables (None: the first)
REPORT_DIR = None  # where metrics.json goes (None: reports/05_stationarity/)

# %% [markdown]
# ## 1. Two tests, two nulls
#
# A series is (weakly) **stationary** when its mean, variance and autocorrelations do not change
# over time. A **unit root** is the classic way to fail: a random walk $x_t = x_{t-1} +
# \varepsilon_t$ has no fixed level, and its variance grows with time.
#
# - The **augmented Dickey–Fuller** test (ADF; Dickey & Fuller 1979) regresses $\Delta x_t$ on
#   $x_{t-1}$, a constant and lagged differences. Its null hypothesis is a **unit root**; a
#   small p-value is evidence *for* stationarity {cite}`dickey1979distribution`.
# - The **KPSS** test (Kwiatkowski, Phillips, Schmidt & Shin 1992) has the opposite null:
#   the series is **stationary** around a level (or a trend). A small p-value is evidence
#   *against* stationarity {cite}`kwiatkowski1992testing`.
#
# Read together, at level $\alpha$:
#
# | ADF rejects? | KPSS rejects? | combined verdict |
# |---|---|---|
# | yes | no | stationary |
# | no | yes | unit root |
# | yes | yes | conflicting |
# | no | no | inconclusive (too little data for either test) |
#
# `stationarity_table` runs both on every series and transformation and returns one tidy row
# per (series, transformation, test). KPSS p-values come from a table that stops at 0.01 and
# 0.10; outside it the p-value is that bound, and the `note` column says so.

# %% [markdown]
# ## 2. The series
#
# For each market, on the clock grid: the features of chapter 3 and the forward returns of
# chapter 4. All in units that do not depend on the price level (bps), except the mid itself.

# %%
chosen = segments(DATA_DIR) if SEGMENTS is None else [segment(n, DATA_DIR) for n in SEGMENTS]
markets = {seg.name: load_market(seg, levels=LEVELS, grid=GRID) for seg in chosen}
show = markets[SHOWCASE] if SHOWCASE is not None else next(iter(markets.values()))

# %% [markdown]
# `lobutils.features.analysis.stationarity_series` computes them, by name.

# %%
series = {}
for name, mk in markets.items():
    config = F.FeatureConfig(vamp_cutoff=VAMP_CUTOFF, contract_value=mk.contract_value)
    series[name] = A.stationarity_series(mk.clock, mk.trades, config, HORIZONS_S)
finite = pd.DataFrame(
    {name: {k: int(np.isfinite(v).sum()) for k, v in s.items()} for name, s in series.items()}
)
out_dir = report_dir("05_stationarity", REPORT_DIR)
write_frame(finite.rename_axis("series").reset_index(), out_dir / "finite_values.csv")
finite.agg(["min", "median", "max"], axis=1).astype(int).rename_axis(columns="over markets")

# %% [markdown]
# The table counts the finite values per series, over markets (345 to 650 per market on the
# bundled data; every market is in `finite_values.csv`), fewer where a window must fill first
# (TI, realised volatility) or a horizon runs past the end. The tests drop NaN values, which
# joins the pieces around interior gaps.

# %% [markdown]
# ## 3. Transformations, all causal
#
# - **difference**: $\Delta x_t = x_t - x_{t-1}$; removes a unit root (a random walk's
#   differences are its shocks);
# - **log difference**: $\log x_t - \log x_{t-1}$, for positive series (prices, volatility):
#   the log return;
# - **rolling z-score**: $z_t = (x_t - \bar x_{t-w..t-1}) / s_{t-w..t-1}$, the value measured
#   in standard deviations of the previous $w$ values. Mean and standard deviation come from
#   the *past* window only, never from the whole sample (which would use the test period's
#   statistics) and never including $x_t$.
#
# The cell checks the last point on real data: the z-score computed on the first half of a
# series equals the first half of the z-score computed on all of it.

# %%
x = series[show.name]["mid"]
half = x.size // 2
z_all = S.rolling_zscore(x, ZSCORE_WINDOW)
z_half = S.rolling_zscore(x[:half], ZSCORE_WINDOW)
np.testing.assert_array_equal(z_half, z_all[:half])
print(
    f"rolling z-score of the mid ({ZSCORE_WINDOW} steps): causal; first value at row {np.flatnonzero(np.isfinite(z_all))[0]}"
)

# %% [markdown]
# ### A note on the KPSS bandwidth
#
# KPSS compares the wandering of the partial sums with the series' *long-run* variance, which
# it estimates with a kernel over a number of lags. statsmodels' automatic choice
# (`nlags="auto"`, after Hobijn, Franses & Ooms {cite}`hobijn2004generalizations`) adapts the
# number to the data. On a series
# of tiny noise with rare spikes, such as the differenced spread, it picks almost as many lags
# as there are observations; the statistic then collapses to 0.5, just above the 5 % critical
# value of 0.463, whatever the data, and the test "rejects". The cell shows it on the showcase
# market. This chapter therefore uses the fixed rule `KPSS_NLAGS = "legacy"` (Schwert's
# $12 (n/100)^{1/4}$ lags, 20 for 650 rows {cite}`schwert1989tests`).

# %%
spread_diff = S.difference(series[show.name]["spread (bps)"])
pd.DataFrame(
    {nl: S.kpss_test(spread_diff, nlags=nl, alpha=ALPHA) for nl in ("auto", "legacy")}
).loc[["statistic", "pvalue", "lags", "nobs", "verdict"]]

# %% [markdown]
# Only positive series get the log difference (the log of a quantity that can be negative or
# zero is undefined), so we test two groups: every series with level, difference and z-score,
# and the positive ones also with the log difference.

# %%
base_transforms = ["level", "diff", f"zscore_{ZSCORE_WINDOW}"]
tables = []
for name, ser in series.items():
    positive = {k: v for k, v in ser.items() if (v[np.isfinite(v)] > 0).all()}
    options = {"regression": REGRESSION, "alpha": ALPHA, "kpss_nlags": KPSS_NLAGS}
    parts = [S.stationarity_table(ser, transforms=base_transforms, **options)]
    if positive:
        parts.append(S.stationarity_table(positive, transforms=["log_diff"], **options))
    tables.append(pd.concat(parts).assign(segment=name))
results = pd.concat(tables, ignore_index=True)
results = results[["segment", *[c for c in results.columns if c != "segment"]]]
results.to_csv(out_dir / "stationarity.csv", index=False)
tidy_cols = ["series", "transform", "test", "statistic", "pvalue", "lags", "verdict", "combined"]
results.loc[results.segment == show.name, tidy_cols].head(12).round(3)

# %% [markdown]
# That is the tidy table: one row per market, series, transformation and test, with the
# statistic, the p-value, the lags chosen and each test's own verdict; `combined` reads the two
# tests together. The full table, with the observations used and the notes, is in
# `stationarity.csv`. The combined verdicts of the showcase market:

# %%
order = list(series[show.name])
transforms_order = [*base_transforms[:2], "log_diff", base_transforms[2]]
(
    results[results.segment == show.name]
    .drop_duplicates(["series", "transform"])
    .pivot(index="series", columns="transform", values="combined")
    .reindex(index=order, columns=transforms_order)
    .fillna("")
)

# %% [markdown]
# ## 4. Every market at once

# %%
plots.verdict_heatmap(
    results.assign(transform=pd.Categorical(results["transform"], transforms_order)).sort_values(
        "transform", kind="stable"
    ),
    title=f"combined adf/kpss verdict at {ALPHA:.0%}, by series, transformation and market",
)

# %% [markdown]
# *What to see:*
#
# - **The mid has a unit root** on nearly every market (orange in the level panel); where it
#   does not, neither test rejects (grey), which is no evidence of stationarity either. Its
#   differences and log differences are stationary. That is the random-walk picture of prices.
# - **Realised volatility and trade intensity** look like unit roots in levels, or the tests
#   cannot decide. They are sums over a 60-second window, so consecutive values share 59 of
#   their 60 seconds: over ten minutes they are extremely persistent. They are not random walks
#   (both are bounded below and cannot drift off forever); the test sees persistence that is
#   long next to the sample.
# - **Imbalances (QI, OFI, mid − VAMP, microprice − mid) and short-horizon returns** are
#   stationary in levels on almost every market. TI, a 60-second window too, is mixed.
# - **Forward returns at 60 s** are mixed in levels: overlapping 60-second returns on a
#   1-second grid are a moving average of 60 shocks, and ten minutes hold only ten
#   independent ones.
# - **Conflicting** verdicts (both tests reject) are rare with the fixed KPSS bandwidth. With
#   `KPSS_NLAGS = "auto"` most differenced spreads, and several other differenced series, come
#   out "conflicting": the artefact of section 3, not a property of the data.
# - **The rolling z-score** gives mixed verdicts for the mid: a z-score against the last
#   minute still inherits some of the mid's persistence on this time scale.

# %% [markdown]
# ## 5. What minutes of data can and cannot show
#
# A verdict of "stationary" on ten minutes says the series did not wander *during those ten
# minutes*. It says nothing about tomorrow, about the hour after a news release, or about the
# difference between Asian and US trading hours: none of that is in the sample. And a verdict
# of "unit root" may only mean that the series reverts to its mean more slowly than the sample
# is long.
#
# How slowly is too slowly? We simulate a mean-reverting series, an AR(1) process
# $x_t = \phi x_{t-1} + \varepsilon_t$ whose shocks decay with a half-life of $H$ steps
# ($\phi = 0.5^{1/H}$), and count how often the Dickey–Fuller test (ADF with no lagged
# differences, the right model for an AR(1)) rejects the unit root at 5 %. That rate is the
# test's **power**: the chance of detecting the stationarity that is really there.

# %%
rng = np.random.default_rng(0)
half_lives = [*POWER_HALF_LIVES_S, np.inf]
power = A.adf_power(POWER_SAMPLE_SIZES, half_lives, POWER_SIMULATIONS, alpha=ALPHA, rng=rng)
power.pivot(index="half_life_s", columns="n", values="rate").round(2)

# %%
plots.rejection_rates(
    power,
    title="how often the dickey–fuller test detects mean reversion, by sample size",
)

# %% [markdown]
# *What to see:* with 600 one-second steps (ten minutes), mean reversion with a half-life of a
# minute is detected only now and then, and a half-life of five minutes no more often than a
# random walk: it looks exactly like one. An hour of data detects a one-minute half-life
# reliably, and four hours a five-minute one, but not a half-hour one. The random-walk row of
# the table (infinite half-life) is the test's size: close to the nominal 5 %, within the noise
# of a few hundred simulations.
#
# So on the bundled data:
#
# - "**unit root**" for a windowed feature (realised volatility, trade intensity, TI) is what
#   a ten-minute sample must say about a series with minute-long memory. Do not difference
#   such a feature on this evidence alone; test it again on days of data.
# - "**stationary**" is a statement about these minutes. A model whose inputs passed here can
#   still meet a different distribution on the next day: the walk-forward evaluation of the
#   modelling chapters, not a stationarity test, is what protects against that.
# - The tests cannot see **seasonality** (an intraday pattern needs many days), **breaks**
#   (a change of regime needs data on both sides of it), or **long memory** in volatility and
#   volume, which are documented on long samples.

# %% [markdown]
# ## 6. Metrics
#
# Counts of combined verdicts per transformation and market, the share of series judged
# stationary, and the simulated power.

# %%
one_per_series = results.drop_duplicates(["segment", "series", "transform"])
verdict_counts = (
    one_per_series.groupby(["segment", "transform"])["combined"]
    .value_counts()
    .unstack(fill_value=0)
)
verdict_counts

# %%
metrics = {"grid": GRID, "alpha": ALPHA, "regression": REGRESSION, "kpss_nlags": KPSS_NLAGS}
metrics |= {"zscore_window": ZSCORE_WINDOW, "n_tests": len(results)}
metrics["verdict_counts"] = {
    name: {
        tr: verdict_counts.loc[(name, tr)].to_dict()
        for tr in transforms_order
        if (name, tr) in verdict_counts.index
    }
    for name in markets
}
metrics["verdicts"] = {
    name: {
        tr: dict(zip(part["series"], part["combined"], strict=True))
        for tr, part in one_per_series[one_per_series.segment == name].groupby("transform")
    }
    for name in markets
}

# %%
metrics["power"] = {}
for n, part in power.groupby("n"):
    labels = ["random walk" if np.isinf(h) else f"{h:g}s" for h in part["half_life_s"]]
    metrics["power"][f"n={n}"] = dict(zip(labels, part["rate"], strict=True))
written = write_metrics(out_dir, metrics)
print(f"metrics.json in {out_dir.name}/: {', '.join(sorted(written))}")

# %% [markdown]
# ## Key takeaways
#
# - ADF's null is a unit root, KPSS's null is stationarity; read them together, and treat
#   "conflicting" and "inconclusive" as answers, not as errors.
# - Transform causally: differences and log differences use the previous value, the rolling
#   z-score the previous window, never statistics of the whole sample.
# - A test's tuning can decide its verdict: KPSS's automatic bandwidth degenerates on series
#   with rare spikes and rejects whatever the data. Look at the `lags` column.
# - On the bundled minutes the mid has a unit root and its returns are stationary; imbalance
#   features are stationary in levels; windowed activity features look like unit roots because
#   their memory is long next to ten minutes.
# - A ten-minute sample cannot tell a random walk from mean reversion with a half-life of a few
#   minutes, and says nothing about days, seasonality or regime changes. Test again on more
#   data before transforming features on this evidence.

# %% [markdown]
# ## Exercises
#
# 1. Rerun the tables with `REGRESSION = "ct"` (a deterministic trend in both tests). Which
#    verdicts change for the mid, and why is a trend a poor model of ten minutes of prices?
# 2. Realised volatility over a 60-second window looked like a unit root. Recompute it over
#    5 seconds (`FeatureConfig(vol_window_s=5)`) and test it again.
# 3. Using the power simulation, find the sample size at which a half-life of 60 steps is
#    detected 80 % of the time.

# %% [markdown]
# ````{admonition} Solution 1
# :class: dropdown
# With a trend term, a mid that drifted in one direction for ten minutes can pass as
# "trend-stationary"; on the bundled minutes the verdicts move between "unit root" and
# "inconclusive" instead (the cell tests the mid of every market both ways). Either way a price
# is not a trend plus noise: extrapolating the trend is a forecast of the drift, which the next
# ten minutes will not follow. To rerun the whole chapter, set `REGRESSION: ct` in a parameters
# file.
# ````

# %% tags=["hide-input"]
# Solution 1: the combined verdict on the mid's level, with a level ("c") and with a trend ("ct").
mid_verdicts = {}
for name, ser in series.items():
    for reg in ("c", "ct"):
        t = S.stationarity_table(
            {"mid": ser["mid"]},
            transforms=["level"],
            regression=reg,
            alpha=ALPHA,
            kpss_nlags=KPSS_NLAGS,
        )
        mid_verdicts[(name, reg)] = t["combined"].iat[0]
pd.Series(mid_verdicts).unstack().rename_axis(columns="regression")

# %% [markdown]
# ````{admonition} Solution 2
# :class: dropdown
# A 5-second window shares less with its neighbours, so the series forgets faster: ADF now
# rejects the unit root. Where KPSS still rejects stationarity the verdict is "conflicting"
# rather than "stationary", so ten minutes remain short; but most of the "unit root" was the
# window, not the market.
# ````

# %% tags=["hide-input"]
# Solution 2: realised volatility over 5 s instead of 60 s, tested on the showcase market.
config = F.FeatureConfig(
    vamp_cutoff=VAMP_CUTOFF, contract_value=show.contract_value, vol_window_s=5
)
rv5 = F.compute_features(show.clock, show.trades, config)["realized_vol"].to_numpy()
vols = {"realised vol 5 s": rv5, "realised vol 60 s": series[show.name]["realised vol (bps)"]}
t = S.stationarity_table(vols, transforms=["level"], alpha=ALPHA, kpss_nlags=KPSS_NLAGS)
t[["series", "test", "statistic", "pvalue", "verdict", "combined"]].round(3)

# %% [markdown]
# ````{admonition} Solution 3
# :class: dropdown
# About half an hour of one-second data (1,800 steps): three times as long as the bundled
# recordings.
# ````

# %% tags=["hide-input"]
# Solution 3: Dickey–Fuller power against a 60-step half-life, by sample size.
sizes = [600, 1_200, 1_800, 2_400, 3_600]
rates = A.adf_power(sizes, [60], POWER_SIMULATIONS, alpha=ALPHA, rng=np.random.default_rng(1))
rates.set_index("n")["rate"].rename("detected (share)").to_frame().T

# %% [markdown]
# ## References
#
# - Dickey & Fuller (1979), *Distribution of the estimators for autoregressive time series with
#   a unit root* {cite}`dickey1979distribution`.
# - Kwiatkowski, Phillips, Schmidt & Shin (1992), *Testing the null hypothesis of stationarity
#   against the alternative of a unit root* {cite}`kwiatkowski1992testing`.
# - Schwert (1989), *Tests for unit roots: a Monte Carlo investigation* {cite}`schwert1989tests`.
# - Hobijn, Franses & Ooms (2004), *Generalizations of the KPSS-test for stationarity*
#   {cite}`hobijn2004generalizations`.
#
# The full list is on the {doc}`/references` page.
