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
# # 10. Forecasting traded volume
#
# The direction of the next price move is hard to forecast; over minutes and hours, how *much*
# will trade is much easier. Volume clusters: a busy hour tends to be followed by another, and
# every day has the same rhythm. Execution algorithms rely on that
# {cite}`brownlees2011intradaily,satish2014predicting`, since an order that takes a fixed share of
# the market's volume has to know how much volume to expect. Over a few seconds,
# on a few minutes of data, the question is how much of that predictability is left. This chapter forecasts the quote volume traded over the next few
# seconds from past volume, trade counts and order flow, with three naive forecasts, a linear
# model, gradient boosting and a small LSTM, scored with chapter 6's protocol: a purged
# chronological split, the same test bars for every model, and block-bootstrap intervals.
#
# **Learning objectives.** After this chapter you can
#
# - turn trades into volume bars with causal features and a forward volume target, and say
#   when each of them is known;
# - build the naive volume forecasts every model has to beat (the last window, a rolling mean,
#   an exponentially weighted mean) and see why they are strong;
# - fit linear, gradient-boosting and LSTM forecasts on the same bars, and compare them on the
#   logarithm of volume with confidence intervals;
# - explain why the time of day is a feature only when the data span many days.
#
# **Prerequisites.** Chapter 6 (the evaluation protocol and the classical zoo) and chapter 7
# (windows and Keras training).
#
# **Outputs.** The tables and figures below, and in `reports/10_volume_forecasting/`:
# `results.csv` (model × segment × metric, with CIs and the best naive forecast beside each
# model), `predictions.csv`, `splits.csv`, `histories.csv`, and `metrics.json` with the
# headline numbers.
#
# **A caveat on size.** Six to eleven minutes of trades per market give a few hundred
# one-second bars; with a 10-second horizon a test block holds a few dozen non-overlapping
# targets at most. Read the numbers as a worked example.

# %% [markdown]
# ## Setup

# %%
import numpy as np
import pandas as pd

from lobutils import evaluation as ev
from lobutils import paths
from lobutils.data import binance as io
from lobutils.data import segment, segments
from lobutils.markets import contract_value
from lobutils.models.backend import load_keras
from lobutils.paths import report_dir
from lobutils.plots import deep as pdeep
from lobutils.plots import models as plots_models
from lobutils.report import fmt_ci, say, setup_display

setup_display()


# %% tags=["parameters"]
DATA_DIR = None  # a directory of <market>_<symbol>_<YYYYMMDD>.gz recordings; None: the bundled data
SEGMENTS = None  # segment names, e.g. ["spot_btcusdt"]; None: every segment found
BAR = "1s"  # bar length (the timeframe)
HORIZON_BARS = 10  # forecast the volume of the next k bars
LAGS = 5  # bars of lagged log volume
WINDOWS = [10, 60]  # look-back windows of the rolling features (bars)
TIME_OF_DAY = False  # add the time of day (sine, cosine); see section 2
MODELS = ["linear", "xgboost"]  # chapter 6 models (lobutils.models.zoo)
KERAS_MODEL = True  # also an LSTM over windows of the features
LOOKBACK = 30  # bars per LSTM window (every model is scored on the bars that have one)
LSTM_UNITS = 16
EPOCHS = 20  # at most (early stopping on the validation block)
BATCH_SIZE = 32
MEAN_WINDOW = 60  # bars of the rolling-mean forecast
EWMA_HALFLIFE = 10.0  # half-life (bars) of the EWMA forecast
FRACTIONS = [0.6, 0.2, 0.2]  # train / validation / test shares of each segment's time span
N_BOOT = 500  # block-bootstrap resamples of every CI
MIN_BLOCK_ROWS = 10  # bootstrap blocks: max(horizon in bars, this)
BACKEND = None  # Keras backend: "tensorflow", "jax" or "torch"; None: $KERAS_BACKEND or tensorflow
SEED = 0
REPORT_DIR = None  # where the outputs go; None: reports/10_volume_forecasting/

# %%
keras = load_keras(BACKEND)  # before anything imports Keras: it picks its backend once

from lobutils.models import study, training, volume  # noqa: E402  (these import Keras)

# %%
out_dir = report_dir("10_volume_forecasting", REPORT_DIR)
chosen = segments(DATA_DIR) if SEGMENTS is None else [segment(n, DATA_DIR) for n in SEGMENTS]
bar_s = pd.Timedelta(BAR).total_seconds()
horizon_s = HORIZON_BARS * bar_s
keras.utils.set_random_seed(SEED)
print(f"{len(chosen)} segment(s), {BAR} bars, horizon {HORIZON_BARS} bars ({horizon_s:g} s)")

# %% [markdown]
# ## 1. From trades to volume bars
#
# A bar labelled $t$ holds the trades with $t - \Delta < \text{ts} \le t$, so it is complete,
# and known, at $t$. Its volume is in the quote currency: price times quantity on spot and USD-M
# markets, where a quantity is in BTC or ETH, and quantity times the contract's USD value on
# COIN-M markets, where a quantity counts contracts. That makes the markets comparable.
# Buys and sells are split by the aggressor side.
#
# The target at bar $t$ is the volume of the next $k$ bars, $V_{t+1} + \dots + V_{t+k}$,
# realised at $t + k\Delta$. Volume is positive and skewed (a few bars carry most of it), so
# every forecast here is of $\log(1 + V)$: an error of 0.1 in it is an error of about 10% in
# volume, whatever the market's size.

# %%
trades_of, cv_of, bars_of = {}, {}, {}
for seg in chosen:
    trades_of[seg.name] = io.read_binance_recording(seg.files).trades
    cv_of[seg.name] = contract_value(seg.market, seg.symbol)
    bars_of[seg.name] = volume.volume_bars(trades_of[seg.name], BAR, contract_value=cv_of[seg.name])
volume.bar_overview(bars_of)

# %%
tables = {
    name: volume.volume_table(
        b, HORIZON_BARS, lags=LAGS, windows=tuple(WINDOWS), time_of_day=TIME_OF_DAY
    )
    for name, b in bars_of.items()
}

# %%
name0 = max(bars_of, key=lambda n: bars_of[n]["volume"].sum())
b0 = bars_of[name0]
pdeep.forecast_vs_actual(
    b0["ts"].to_numpy(),
    np.log1p(b0["volume"].to_numpy()),
    {f"mean of the last {MEAN_WINDOW} bars": np.log1p(b0["volume"].rolling(MEAN_WINDOW).mean())},
    ylabel="log(1 + volume per bar), usd",
    title=f"{name0}: volume per {BAR} bar and its rolling mean",
).show()

# %%
pers = pd.DataFrame({n: volume.persistence(b, HORIZON_BARS) for n, b in bars_of.items()}).T
pers.round(2)

# %% tags=["remove-input"]
ratio = pers["mean_over_median"]
no_median = int(ratio.isna().sum())
say(
    f"The mean bar volume is {ratio.min():.1f} to {ratio.max():.1f} times the median"
    + (f" ({no_median} market(s) have a median bar without any trade)" if no_median else "")
    + ": a few bars carry much of the volume. Bar by bar, the log volume is barely "
    f"persistent: its correlation with the next bar's (`lag1`) is {pers['lag1'].min():.2f} to "
    f"{pers['lag1'].max():.2f} across the markets. Summed over {HORIZON_BARS} bars, the "
    f"volume of the last {horizon_s:g} s correlates with that of the next {horizon_s:g} s "
    f"(`next_k`) at {pers['next_k'].min():.2f} to {pers['next_k'].max():.2f}: "
    + ("aggregation brings the persistence out, and it is what the forecasts below live on."
       if pers["next_k"].max() >= 0.3
       else "even aggregated, little persistence is left to forecast with.")
)  # fmt: skip

# %% [markdown]
# ## 2. Features, and what they leave out
#
# Every feature at bar $t$ uses bars up to $t$:
#
# - the log volume of the last `LAGS` bars, and the log of the mean bar volume over each
#   window in `WINDOWS`;
# - the order-flow imbalance over each window, (buys − sells) / (buys + sells);
# - the number of trades over each window (log);
# - the absolute change of the last trade price over each window (bps), since volume and
#   volatility move together.
#
# The **time of day** is the strongest volume feature in a long sample: volume follows a daily
# pattern, with peaks at the opening of the big equity markets. It needs many days to learn,
# though. Within minutes it is a clock running in one direction, and a model can only fit the
# training block's trend on it and carry that trend into the test block. It is left out here
# (`TIME_OF_DAY = False`); exercise 2 puts it back. For the same reason, the *seasonal-naive*
# forecast (the volume at the same time on the previous day) needs at least a day of data.

# %%
vt0 = tables[name0]
vt0.X.describe().T[["mean", "std", "min", "max"]].round(2)

# %% [markdown]
# ## 3. The forecasts and the protocol
#
# Three naive forecasts, each computed from bars up to $t$:
#
# - **last window**: the volume of the last $k$ bars (volume persists);
# - **rolling mean**: $k$ times the mean bar volume over the last `MEAN_WINDOW` bars;
# - **EWMA**: $k$ times an exponentially weighted mean bar volume, half-life `EWMA_HALFLIFE`
#   bars.
#
# Three fitted ones: **ridge regression** and **XGBoost** {cite}`chen2016xgboost` on the
# features of bar $t$ (chapter 6's configurations, tuned on the validation block), and an
# **LSTM** {cite}`hochreiter1997long` (16 units) that reads the features of the last `LOOKBACK`
# bars, trained with early stopping on the validation
# block, each feature standardised with its training mean and standard deviation.
#
# The bars are split by time into 60% training, 20% validation and 20% test, purged so that no
# training target overlaps the later blocks; every model is scored on the same test bars (those
# with a full LSTM window), and the LSTM's windows never reach across a block boundary. The
# metric is the mean squared error of $\log(1 + V)$, with a block-bootstrap interval (blocks of
# at least $k$ bars) and a paired interval for the difference to the best naive forecast.

# %%
train_cfg = training.TrainConfig(
    epochs=EPOCHS, batch_size=BATCH_SIZE, loss="mse", early_stopping_patience=5,
    reduce_lr_patience=3, seed=SEED,
)  # fmt: skip
table, preds, splits, histories, skipped = volume.evaluate_markets(
    tables, T=LOOKBACK, holdout=ev.HoldoutConfig(fractions=tuple(FRACTIONS)),
    models=tuple(MODELS), keras_model=KERAS_MODEL, lstm_units=LSTM_UNITS,
    train_config=train_cfg, mean_window=MEAN_WINDOW, ewma_halflife=EWMA_HALFLIFE,
    n_boot=N_BOOT, min_block_rows=MIN_BLOCK_ROWS, seed=SEED,
)  # fmt: skip
splits.set_index("segment").round(1)

# %% tags=["remove-input"]
if skipped:
    say("Skipped, with the reason: " + "; ".join(f"**{k}**: {v}" for k, v in skipped.items()))

# %% [markdown]
# ## 4. Results
#
# The table gives each fitted model's mean squared error of $\log(1 + V)$ on the test bars,
# with its 95% interval; a star marks a model that beats the best naive forecast (named in the
# last column, with its error) beyond the interval. Every metric is in `results.csv`.

# %%
study.ci_pivot(table, "mse")

# %%
plots_models.metric_ci(
    table,
    "mse",
    "log_volume",
    title=f"mse of log(1 + volume) over the next {horizon_s:g} s on the test bars, 95% ci",
).show()

# %%
plots_models.diff_ci(
    table,
    "mse",
    "log_volume",
    title="mse minus the best naive forecast's, 95% ci (below zero: better)",
).show()

# %%
fitted = [*MODELS, *(["lstm"] if KERAS_MODEL else [])]
ns = volume.naive_summary(table, "mse")
wins, losses, r2 = ns["wins"], ns["losses"], ns["r2"]["value"]

# %% tags=["remove-input"]
say(
    "The best naive forecast is "
    + ", ".join(f"**{m}** on {c} market(s)" for m, c in ns["best_naive"].items())
    + f". Of {len(ns['models'])} (model, market) pairs, **{len(wins)}** have a lower error "
    f"than the best naive forecast beyond the 95% interval and **{len(losses)}** a higher one; "
    "the rest cannot be told apart from it. "
    + "".join(f"{r.model} beats it on {r.segment} (mse {r.value:.3f} against {r.baseline}'s "
              f"{r.baseline_value:.3f}). " for r in wins.itertuples())
    + "Measured against the test block's own mean (R², a benchmark no forecast could know in "
    f"advance), the fitted models have a median R² of {r2.median():.2f} (from {r2.min():.2f} "
    f"to {r2.max():.2f}): below zero, a model does worse than that constant, which happens "
    "when the test block's volume level differs from the training block's."
)  # fmt: skip

# %% [markdown]
# The next figure shows the test block of the busiest market: the realised log volume of the
# next $k$ bars and the forecasts made for it.

# %%
p0 = preds[preds["segment"] == name0] if len(preds) else preds
if len(p0):
    cols = [c for c in [*fitted, "rolling_mean", "last_window"] if c in p0.columns]
    pdeep.forecast_vs_actual(
        p0["ts"].to_numpy(),
        p0["y_true"].to_numpy(),
        {c: p0[c].to_numpy() for c in cols},
        ylabel=f"log(1 + volume of the next {horizon_s:g} s), usd",
        title=f"{name0}: forecast against actual on the test block",
    ).show()

# %%
if len(histories):
    pdeep.learning_curves(
        histories, title="lstm learning curves: validation (solid) and training (dashed) mse"
    ).show()

# %% [markdown]
# ## 5. Outputs

# %%
table.to_csv(out_dir / "results.csv", index=False)
preds.to_csv(out_dir / "predictions.csv", index=False)
splits.to_csv(out_dir / "splits.csv", index=False)
histories.to_csv(out_dir / "histories.csv", index=False)

# %%
mse = table[table["metric"] == "mse"]
metrics = {
    "parameters": {"bar": BAR, "horizon_bars": HORIZON_BARS, "lookback": LOOKBACK,
                   "models": fitted, "time_of_day": TIME_OF_DAY, "n_boot": N_BOOT},
    "splits": splits.set_index("segment").to_dict("index"),
    "skipped": skipped,
    "mse": mse[["segment", "model", "role", "value", "ci_low", "ci_high", "baseline",
                "baseline_value", "diff", "diff_ci_low", "diff_ci_high", "beats_baseline"]],
    "best_naive": ns["best_by_segment"],
    "n_model_comparisons": len(ns["models"]),
    "n_beat_best_naive": len(wins),
    "n_worse_than_best_naive": len(losses),
}  # fmt: skip
written = paths.write_metrics(out_dir, metrics)
print("written:", ", ".join(sorted(written)))

# %% [markdown]
# ## Key takeaways
#
# - The benchmark for a volume forecast is a naive one built from recent volume (the last
#   window, a rolling mean, an EWMA), never zero; section 4 says which one was hardest to beat
#   here, and how often a fitted model beat it.
# - Forecast the logarithm of volume: its errors are relative, and one busy bar does not
#   dominate the score.
# - Every feature must be known at the bar's end, and the target starts after it. The purge
#   keeps a training target from overlapping the validation and test blocks.
# - The time of day and the seasonal-naive forecast are the strongest tools in a long sample,
#   and meaningless within minutes.
# - With a few dozen independent test targets per market, the intervals are wide; days of
#   trades are needed before a model's edge over the rolling mean is more than a guess.

# %% [markdown]
# ## Exercises
#
# 1. Use 10-second bars and a one-minute horizon (`BAR = "10s"`, `HORIZON_BARS = 6`,
#    `WINDOWS = [6, 30]`, `LOOKBACK = 12`). How many test targets are left per market?
# 2. Set `TIME_OF_DAY = True`. What happens to the linear model's test error, and why?
# 3. Which naive forecast is best when the half-life of the EWMA or the window of the rolling
#    mean changes? Try `EWMA_HALFLIFE` of 3 and 30, and `MEAN_WINDOW` of 10.
# 4. Forecast the buy share of the next $k$ bars' volume instead of the volume. Is it as
#    predictable?

# %% [markdown]
# ````{admonition} Solution 1
# :class: dropdown
# Run `python -m lobutils.runner.chapters --only 09 --params-file my.yaml` with those values under
# `chapters: {10_volume_forecasting: {parameters: {...}}}` in `my.yaml`. Eleven minutes make 66
# ten-second bars; after the 30-bar warm-up of the features, the 12-bar LSTM window and the
# one-minute horizon, a handful of bars are left for testing, and the split may fail on the
# shortest markets (they are then listed as skipped). Longer bars need longer recordings. The
# cell below makes the split with those settings and counts what is left.
# ````

# %% tags=["hide-input"]
# Solution 1: independent test targets per market with 10 s bars and a one-minute horizon
left = {}
for seg in chosen:
    b10 = volume.volume_bars(trades_of[seg.name], "10s", contract_value=cv_of[seg.name])
    v10 = volume.volume_table(b10, 6, lags=LAGS, windows=(6, 30), time_of_day=False)
    ok = np.isfinite(v10.X.to_numpy(np.float64)).all(axis=1)
    try:
        _, sp = study.window_split(ok, 12, v10.usable(), v10.ts, v10.target_end,
                                   ev.HoldoutConfig(fractions=tuple(FRACTIONS)))  # fmt: skip
        left[seg.name] = f"{len(sp.test)} test bars, {len(sp.test) / 6:.1f} independent"
    except ValueError:  # the split needs a few windows in each block
        left[seg.name] = "too few bars to split"
pd.Series(left, name="10 s bars, 1 min horizon").to_frame()

# %% [markdown]
# ````{admonition} Solution 2
# :class: dropdown
# Within minutes, the sine and cosine of the time of day are almost straight lines in time.
# The linear model fits the training block's volume trend on them and extrapolates it into the
# test block, so its error usually grows; tree models cannot extrapolate and barely change.
# With many days, the same features describe the daily volume pattern and become the most
# useful ones. The cell below fits the linear model on the busiest market with and without
# them.
# ````

# %% tags=["hide-input"]
# Solution 2: the linear model's test error with and without the time of day (busiest market)
kw = dict(T=LOOKBACK, holdout=ev.HoldoutConfig(fractions=tuple(FRACTIONS)), models=("linear",),
          keras_model=False, n_boot=N_BOOT, seed=SEED)  # fmt: skip
tod = {}
for flag in (False, True):
    vt_f = volume.volume_table(bars_of[name0], HORIZON_BARS, lags=LAGS, windows=tuple(WINDOWS),
                               time_of_day=flag)  # fmt: skip
    t = volume.evaluate_volume(vt_f, name0, **kw).table
    r = t[(t["metric"] == "mse") & (t["model"] == "linear")].iloc[0]
    tod["with" if flag else "without"] = fmt_ci(r.value, r.ci_low, r.ci_high)
pd.Series(tod, name=f"linear model, test mse on {name0}").rename_axis("time of day").to_frame()

# %% [markdown]
# ````{admonition} Solution 3
# :class: dropdown
# A short memory follows bursts quickly but is noisy; a long one is smooth but slow. Which wins
# depends on how long the market's busy spells last compared with the horizon. The cell below
# scores the naive forecasts on each market's test bars for three half-lives of the EWMA and a
# rolling mean over 10 bars. With a horizon of 10 bars, that rolling mean *is* the last
# window: $k$ times the mean of the last $k$ bars is their sum.
# ````

# %% tags=["hide-input"]
# Solution 3: test mse of the naive forecasts, EWMA half-lives of 3, 10 and 30 bars, 10-bar mean
rows = []
for name in preds["segment"].unique():
    vt, p = tables[name], preds[preds["segment"] == name]
    at, y = np.searchsorted(vt.ts, p["ts"].to_numpy()), p["y_true"].to_numpy()
    for hl in (3.0, 10.0, 30.0):
        f = volume.naive_forecasts(vt, mean_window=10, ewma_halflife=hl).iloc[at]
        rows += [{"segment": name, "half-life": hl, "forecast": c,
                  "mse": float(np.mean((y - f[c].to_numpy()) ** 2))} for c in f.columns]  # fmt: skip
pd.DataFrame(rows).pivot_table(
    index=["segment", "half-life"], columns="forecast", values="mse"
).round(3)

# %% [markdown]
# ````{admonition} Solution 4
# :class: dropdown
# The buy share of future volume is the direction of order flow, close to the direction of the
# price: far less persistent than the amount of volume, and correspondingly harder to forecast.
# The cell below compares the correlation of each with its own value $k$ bars earlier.
# ````

# %% tags=["hide-input"]
# Solution 4: persistence of the next k bars' buy share against that of their log volume
k = HORIZON_BARS
rows = {}
for name, b in bars_of.items():
    buy, tot = (b[c].rolling(k).sum().shift(-k) for c in ("buy_volume", "volume"))
    share = buy / tot.where(tot > 0)
    rows[name] = {"buy share": share.autocorr(k), "log volume": np.log1p(tot).autocorr(k)}
pd.DataFrame(rows).T.round(2)

# %% [markdown]
# ## References
#
# - Brownlees, Cipollini & Gallo (2011), *Intra-daily volume modeling and prediction for
#   algorithmic trading* {cite}`brownlees2011intradaily`.
# - Chen & Guestrin (2016), *XGBoost: a scalable tree boosting system* {cite}`chen2016xgboost`.
# - Hochreiter & Schmidhuber (1997), *Long short-term memory* {cite}`hochreiter1997long`.
# - Künsch (1989), *The jackknife and the bootstrap for general stationary observations*
#   {cite}`kunsch1989jackknife`.
# - Satish, Saxena & Palmer (2014), *Predicting intraday trading volume and volume
#   percentages* {cite}`satish2014predicting`.
#
# The full list is on the {doc}`/references` page.
