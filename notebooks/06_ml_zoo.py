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
# # 6. A zoo of classical models, evaluated honestly
#
# Papers and notebooks on order-book prediction often report one number, an accuracy or an R²,
# for one model. That number means little on its own. It needs the same number for a naive
# forecast on the same rows, an interval that says how much it could move on other data, and a
# split that keeps the future out of the training set. This chapter runs six classical model
# families, from linear regression to a small neural network, through one protocol that gives
# all three. It then asks which of them beat the naive baselines beyond the noise, and whether
# any of them would pay for its trading costs.
#
# **Learning objectives.** After this chapter you can
#
# - turn a recording into a modelling table with causal features, forward targets and the time
#   at which each target is realised (`lobutils.features.dataset.build_dataset`);
# - split it by time into train, validation and test blocks, *purged* so that no training
#   target overlaps the test period, and tune hyperparameters on the validation block only;
# - compare every model with the naive baselines (zero return, last return, majority class,
#   persistence, a stratified guess) on block-bootstrap confidence intervals;
# - read an accuracy next to the majority-class share of the same labels, and say what a
#   headline like "86% accuracy" does and does not show;
# - measure a model's P&L net of the half-spread and the taker fee, and the feature importance
#   on held-out rows.
#
# **Prerequisites.** Chapter 3 (the features), chapter 4 (forward returns and labels) and the
# evaluation protocol of `lobutils.evaluation`. Basic scikit-learn.
#
# **Outputs.** The tables and figures below, and in `reports/06_ml_zoo/`: `results.csv` and
# `results.parquet` (one tidy table: model × target × horizon × metric, with CIs and the best
# baseline beside each model), `primary_view.csv` (its headline metric per model),
# `datasets.csv`, `models.csv`, `claim.csv`, `pnl.csv`, `importance.csv`, `gain.csv`,
# `tuning.csv`, `splits.csv`, `skipped.csv`, and `metrics.json` with the headline numbers.
#
# **A caveat on size.** The bundled recordings are six to eleven minutes per market. On a
# one-second grid that is a few hundred rows, and a test block of a few minutes. At a 60-second
# horizon the test block holds only a handful of *independent* targets. Read every number here
# as a demonstration of the method on little data, not as evidence about these markets.

# %% [markdown]
# ## Setup

# %%
import dataclasses

import numpy as np
import pandas as pd

from lobutils import evaluation as ev
from lobutils.data import segment, segments
from lobutils.features.dataset import build_dataset
from lobutils.models import zoo
from lobutils.paths import report_dir
from lobutils.plots import models as plots
from lobutils.report import fmt_ci, say, setup_display

setup_display()


# %% tags=["parameters"]
DATA_DIR = None  # a directory of <market>_<symbol>_<YYYYMMDD>.gz recordings; None: the bundled data
SEGMENTS = None  # segment names, e.g. ["spot_btcusdt"]; None: every segment found
GRID = "1s"  # clock grid of the rows; None: event time (one row per book update)
LEVELS = 25  # book levels per side (VAMP at 60,000 USD needs depth)
HORIZONS = [1, 10, 60]  # target horizons: seconds on a grid, events in event time
TARGETS = ["return", "three_class"]  # from zoo.TARGETS: return, binary, three_class
THREE_CLASS_K = 1.0  # 3-class threshold: k x std of the training returns
MODELS = ["linear", "tree", "forest", "xgboost", "svm", "mlp"]  # from zoo.MODEL_CONFIGS
FRACTIONS = [0.6, 0.2, 0.2]  # train / validation / test shares of each segment's time span
N_BOOT = 500  # block-bootstrap resamples of every CI
CONFIDENCE = 0.95  # level of the CIs
MIN_BLOCK_ROWS = 10  # bootstrap blocks: max(horizon in rows, this)
FEE_BPS = None  # taker fee per side (bps); None: Binance regular tier per market
PNL_THRESHOLD_BPS = 0.0  # a return forecast trades when |forecast| exceeds this
IMPORTANCE_REPEATS = 5  # permutation-importance repeats on the test block (0: off)
IMPORTANCE_MODELS = ["linear", "forest", "xgboost"]  # models whose importance is computed
CLAIM_ACCURACY = 0.86  # the headline accuracy to put next to its majority-class rate
L1_HORIZONS = None  # horizons of the future-L1 section; None: HORIZONS
SEED = 0
REPORT_DIR = None  # where the outputs go; None: reports/06_ml_zoo/

# %%
out_dir = report_dir("06_ml_zoo", REPORT_DIR)
chosen = segments(DATA_DIR) if SEGMENTS is None else [segment(n, DATA_DIR) for n in SEGMENTS]
models = zoo.make_models(MODELS, seed=SEED)
unit_word = "s" if GRID is not None else "events"
print(f"{len(chosen)} segment(s), horizons {HORIZONS} ({unit_word}), {len(models)} models")

# %% [markdown]
# ## 1. From a recording to a modelling table
#
# `build_dataset` runs the pipeline of the earlier chapters once per segment: read the
# recording, replay the book, sample it on the clock grid, compute the features of chapter 3 and
# the forward returns of chapter 4. It returns a `Dataset` with
#
# - `X`, the model features. They are the scale-free readings of chapter 3: the spread in bps,
#   microprice − mid and mid − VAMP in bps, the quote imbalance (QI), multi-level order-flow
#   imbalance (OFI, levels 1–5, summed over the past 10 s), realised volatility and trade
#   imbalance (TI) and intensity over the past 60 s, and the past mid return over each horizon.
#   Price *levels* are left out: they are unit-root series (chapter 5), and a model fitted on
#   them learns where the price was, not where it goes. The time of day is left out too: within
#   minutes it is just a clock.
# - `returns`, the forward mid log return over each horizon in bps, NaN where the horizon runs
#   past the end of the data;
# - `target_end`, the time at which each target is realised. The purge needs it.
#
# Every feature at row $i$ uses book states and trades stamped at or before $t_i$ only; the
# tests of `lobutils.features.dataset` check that truncating the recording leaves earlier rows unchanged.
#
# The table below has one row per segment: its rows, minutes, median spread, and the rows
# usable at each horizon (finite features and a target). The full overview is `datasets.csv`.

# %%
datasets = [
    build_dataset(seg, grid=GRID, levels=LEVELS, horizons=HORIZONS, feature_config=None)
    for seg in chosen
]
overview = pd.DataFrame({ds.name: ds.summary() for ds in datasets}).T.rename_axis("segment")
overview.to_csv(out_dir / "datasets.csv")
usable = [c for c in overview.columns if c.startswith("usable_")]
pd.DataFrame(
    {
        "rows": overview["rows"].astype(int),
        "minutes": overview["minutes"].astype(float).round(1),
        "spread bps": overview["median_spread_bps"].astype(float).round(2),
        **{c.replace("_", " "): overview[c].astype(int) for c in usable},
    }
)

# %% [markdown]
# The features of the first segment, summarised:

# %%
stats = datasets[0].X.describe().T.rename(columns={"50%": "median"})
stats[["mean", "std", "min", "median", "max"]].round(3)

# %% tags=["remove-input"]
shortest = min(datasets, key=len)
longest = max(datasets, key=len)
say(
    f"The segments hold {len(shortest)} to {len(longest)} rows "
    f"({float(overview['minutes'].min()):.1f} to {float(overview['minutes'].max()):.1f} minutes). "
    f"The first rows lack the 60-second windows of volatility and trade features, and the last "
    f"rows lack a target, so the usable rows per horizon are fewer still."
)

# %% [markdown]
# ## 2. The protocol
#
# One protocol measures every model in this book (`lobutils.evaluation`); here is what it does
# for each (segment, target, horizon).
#
# **Chronological split, purged.** The rows with finite features and a target are cut by time
# into a training block (the first 60% of the time span), a validation block (the next 20%) and
# a test block (the last 20%). A forward return at row $i$ covers $[t_i, t_i + h]$. A training
# row whose window reaches into the validation or test period shares price moves with the rows
# it is scored on; it is *purged* (dropped), as López de Prado (2018) prescribes
# {cite}`lopezdeprado2018advances`. So a horizon of $h$ seconds costs about $h$ rows at each
# boundary.
#
# **Training-only statistics.** The scaler sits inside the model's pipeline, so it is fitted on
# the training rows only. The 3-class threshold ($k$ times the standard deviation of the
# returns) is fitted on the training rows only too.
#
# **Tuning on the validation block.** Each model has a small grid. Every grid point is fitted
# on the training block and scored on the validation block (MSE for regression, balanced
# accuracy for classification). The chosen point is refitted on training + validation and
# predicts the test block, which nothing has seen before.
#
# **Baselines, always.** For returns: the zero forecast (no move) and the last realised return.
# For labels: the majority class of the training rows, persistence (the last realised label)
# and a random guess with the training class frequencies. Each model's metric is compared with
# the *best* baseline on that metric, on the same test rows.
#
# **Uncertainty.** Every metric gets a block-bootstrap 95% interval {cite}`kunsch1989jackknife`
# (blocks at least one horizon long, so that overlapping targets stay together), and the difference
# to the baseline gets a
# paired interval: both are scored on the same resampled rows. A model *beats its baseline*
# only when that whole interval lies on the better side of zero. Diebold & Mariano's (1995)
# test of equal loss is reported beside it {cite}`diebold1995comparing`.

# %%
zoo_cfg = zoo.ZooConfig(
    models=models,
    targets=tuple(TARGETS),
    holdout=ev.HoldoutConfig(fractions=tuple(FRACTIONS)),
    three_class_k=THREE_CLASS_K,
    n_boot=N_BOOT,
    confidence=CONFIDENCE,
    min_block_rows=MIN_BLOCK_ROWS,
    fee_bps=FEE_BPS,
    pnl_threshold_bps=PNL_THRESHOLD_BPS,
    importance_repeats=IMPORTANCE_REPEATS,
    importance_models=tuple(IMPORTANCE_MODELS),
    seed=SEED,
)

# %% [markdown]
# ## 3. The models
#
# Six families, each with a regression and a classification variant, built from a frozen
# configuration (`lobutils.models.zoo`):
#
# - **linear**: ridge regression, or L2-regularised logistic regression. The benchmark every
#   other model has to beat.
# - **tree**: one shallow decision tree (CART). Easy to read, and unstable.
# - **forest**: a random forest, an average of decorrelated deep trees (Breiman 2001
#   {cite}`breiman2001random`).
# - **xgboost**: gradient-boosted shallow trees (Chen & Guestrin 2016 {cite}`chen2016xgboost`).
# - **svm**: a support-vector machine {cite}`cortes1995support` with an RBF kernel, fitted on at
#   most `max_train_rows` evenly spaced training rows, because its fit time grows about with the
#   square of the rows.
# - **mlp**: a small multilayer perceptron (two hidden layers), without early stopping, which
#   would hold out a *random* part of the training block.
#
# The grids are deliberately small: with a validation block of a couple of minutes, a large
# search would mostly find the grid point that fits that block's noise best.

# %%
model_table = zoo.describe_models(models)
model_table.to_csv(out_dir / "models.csv")
model_table[["regression", "classification", "scaled"]]

# %% [markdown]
# The grid each model searches on the validation block (the defaults of the other
# hyperparameters are in `models.csv`):

# %%
zoo.grid_table(models)

# %% [markdown]
# ## 4. Running the zoo
#
# `run_zoo` loops over segments, targets and horizons. A combination whose rows cannot be split
# after purging (a horizon too long for a short segment) is recorded as skipped, with the
# reason, instead of being run on a meaningless split.

# %%
results = zoo.run_zoo(datasets, zoo_cfg)
print(f"zoo: {results.seconds:.0f} s, {len(results.table)} result rows")
print(f"skipped: {len(results.skipped)} (segment, target, horizon)")

# %% [markdown]
# The rows of each split of the first target (the other target keeps the same rows): training,
# validation and test rows, the rows purged at the boundaries, and the number of independent
# (non-overlapping) targets in the test block.

# %%
zoo.split_table(results.splits, TARGETS[0])

# %% tags=["remove-input"]
indep = results.splits.groupby("horizon", sort=False)["n_test_independent"].agg(["min", "max"])
lines = [
    f"- at **{h}**: {row['min']:.0f} to {row['max']:.0f} independent test targets"
    for h, row in indep.iterrows()
]
say(
    "How much evidence does a test block hold? Overlapping targets are not independent: a test "
    "block of $n$ rows at a horizon of $h$ rows holds about $n / h$ non-overlapping targets.\n\n"
    + "\n".join(lines)
    + "\n\nEvery interval below is as wide as these counts allow, and at the longest horizon "
    "the bootstrap has only a few blocks to resample: its intervals are themselves rough."
)

# %% tags=["remove-input"]
if len(results.skipped):
    say(
        " ".join(
            f"{r.segment} ({r.target}, {r.horizon}) could not be split: {r.reason}."
            for r in results.skipped.itertuples()
        )
    )

# %% [markdown]
# ## 5. Every model next to its baselines
#
# The full table has one row per (segment, target, horizon, model, metric); it is written to
# `results.csv`. The view below keeps the headline metric of each task: the out-of-sample
# $R^2_{oos} = 1 - \sum (y - \hat y)^2 / \sum y^2$ for returns (positive means better than
# forecasting no move; Campbell & Thompson 2008 {cite}`campbell2008predicting`), and the balanced
# accuracy for labels (the mean recall over classes; chance is $1/K$ whatever the class
# balance). Each cell counts the segments in which the model beats its best baseline beyond the
# 95% interval, out of the segments it ran on. The values and intervals behind the counts are in
# the figures below and in `primary_view.csv`.

# %%
view = zoo.primary_view(results.table)
view.to_csv(out_dir / "primary_view.csv", index=False)
zoo.verdict_pivot(view)

# %%
for target in TARGETS:
    metric = zoo.PRIMARY_METRIC[zoo.task_of(target)]
    if not (results.table["target"] == target).any():
        continue
    plots.metric_ci(
        results.table,
        metric,
        target,
        floor=-1.0 if metric == "r2_oos" else None,
        title=f"{target}: {plots.METRIC_LABELS[metric]} on the test block, 95% CI",
    ).show()

# %% [markdown]
# Each panel is one horizon; each colour one market. Filled circles are the models, open
# diamonds the baselines. An $R^2$ has no lower bound: values below −1 are drawn at −1 as
# downward triangles (hover for the true value), so that one bad fit does not flatten the rest.
# The next figure shows what the verdict rests on: each model's difference to its best
# baseline, with the paired interval (differences below −1 drawn at −1 as left triangles).

# %%
for target in TARGETS:
    metric = zoo.PRIMARY_METRIC[zoo.task_of(target)]
    if not (results.table["target"] == target).any():
        continue
    plots.diff_ci(
        results.table,
        metric,
        target,
        floor=-1.0 if metric == "r2_oos" else None,
        title=f"{target}: model minus best baseline, {plots.METRIC_LABELS[metric]}, 95% CI",
    ).show()

# %% [markdown]
# ## 6. Which models beat the baselines?
#
# Each comparison gets a verdict from where its paired interval lies: *better* (wholly on the
# better side of zero), *worse*, or *undecided*.

# %%
indep_of = results.splits.set_index(["segment", "target", "horizon"])["n_test_independent"]
verdict = view.assign(
    verdict=zoo.verdicts(view),
    independent=[
        indep_of.get(k) for k in zip(view["segment"], view["target"], view["horizon"], strict=True)
    ],
)
counts = verdict["verdict"].value_counts().reindex(["better", "worse", "undecided"], fill_value=0)
counts.to_frame("comparisons").T

# %% tags=["remove-input"]
n_comp, n_beat, n_worse = len(verdict), int(counts["better"]), int(counts["worse"])
expected_by_chance = 0.025 * n_comp
say(
    f"Of **{n_comp}** (model, segment, target, horizon) comparisons on the headline metric, "
    f"**{n_beat}** beat their best baseline beyond the 95% interval, **{n_worse}** are "
    f"worse than it beyond the interval, and the other {n_comp - n_beat - n_worse} cannot "
    f"be told apart from it. With {n_comp} comparisons, about {expected_by_chance:.1f} would "
    "land on the better side of zero by chance alone if no model had any skill (each interval "
    "misses on that side 2.5% of the time, and the comparisons share their test rows, so the "
    "count varies more than a binomial one). The intervals are not corrected for this "
    "multiplicity."
)

# %% tags=["remove-input"]
beat = verdict[verdict["verdict"] == "better"]
items = [
    f"- **{r.target}**, {r.model} on {r.segment} at {r.horizon}: {r.metric} {r.value:.3f} vs "
    f"{r.baseline} {r.baseline_value:.3f}, difference "
    f"{fmt_ci(r.diff, r.diff_ci_low, r.diff_ci_high)}" + (" (thin)" if r.independent < 10 else "")
    for r in beat.itertuples()
]
thin = f"{int((beat['independent'] < 10).sum())} of the {len(beat)} wins (marked thin) come "
say(
    "No model beats its best baseline beyond the interval, on any target or horizon."
    if beat.empty
    else "The wins:\n\n" + "\n".join(items) + f"\n\n{thin} from test blocks with fewer than "
    "ten independent targets. There the bootstrap resamples a handful of blocks and its interval "
    "is too narrow to trust: treat those wins as anecdotes."
)

# %% tags=["remove-input"]
loss = results.table[
    (results.table["role"] == "model")
    & (results.table["metric"].isin(["mse", "accuracy"]))
    & results.table["dm_p_value"].notna()
]
dm_better = loss[(loss["dm_p_value"] < 0.05) & (loss["dm_stat"] < 0)]
dm_worse = loss[(loss["dm_p_value"] < 0.05) & (loss["dm_stat"] > 0)]
say(
    f"A cross-check with the Diebold–Mariano test on the loss metrics (squared error for "
    f"returns, 0–1 loss for labels), against the same best baseline: {len(dm_better)} of "
    f"{len(loss)} comparisons have a significantly lower loss (two-sided p < 0.05), and "
    f"{len(dm_worse)} a significantly higher one. The test assumes a long sample; on a test "
    "block of a few minutes its p-values are approximate at best."
)

# %% [markdown]
# Whatever the counts above, three things limit what they can say. The test blocks are minutes
# long, so a model can win or lose on one burst of activity. The comparisons are many and share
# their data, so a few wins are expected by chance. And one recording of one evening says
# nothing about other days, other volatility regimes, or other markets. A model that beats
# its baseline here has earned a longer test, not a conclusion.

# %% [markdown]
# ## 7. Which features matter?
#
# Two measures, which answer different questions:
#
# - **Permutation importance on the test block**: shuffle one feature's column, re-score the
#   fitted model, and record how much the score drops. It measures what the model *uses* on
#   data it has not seen, and it is near zero for a model without skill.
# - **XGBoost gain**: the total reduction of the training loss by the splits on each feature,
#   as a share. It is an in-sample measure: a feature can carry much gain by fitting noise.
#
# Both are averaged over segments, horizons and models; the bars of the permutation importance
# show the spread across them.

# %%
imp_mean = pd.DataFrame(columns=["target", "feature", "importance_mean", "importance_spread"])
if not results.importance.empty:
    imp_mean = (
        results.importance.groupby(["target", "feature"], sort=False)["importance_mean"]
        .agg(importance_mean="mean", importance_spread="std")
        .reset_index()
    )
gain_mean = pd.DataFrame(columns=["target", "feature", "gain_share"])
if not results.gain.empty:
    gain_mean = (
        results.gain.groupby(["target", "feature"], sort=False)["gain_share"].mean().reset_index()
    )

# %%
for target in imp_mean["target"].unique():
    unit = "mse, bps²" if zoo.task_of(target) == "regression" else "balanced accuracy"
    plots.importance_bars(
        imp_mean[imp_mean["target"] == target],
        error="importance_spread",
        top=12,
        title=f"{target}: permutation importance on the test block",
        xlabel=f"drop in score when shuffled ({unit})",
    ).show()

# %%
if not gain_mean.empty:
    plots.importance_bars(
        gain_mean,
        value="gain_share",
        color="target",
        top=12,
        title="xgboost gain share (in sample), mean over segments and horizons",
        xlabel="share of total gain",
    ).show()

# %% tags=["remove-input"]
top_imp = imp_mean.sort_values("importance_mean", ascending=False).groupby("target").head(3)
say(
    " ".join(
        f"For **{t}**, the largest mean permutation importances are "
        + ", ".join(f"`{r.feature}` ({r.importance_mean:.3g})" for r in g.itertuples())
        + "."
        for t, g in top_imp.groupby("target", sort=False)
    )
    + " Where a model has no skill on the test block, its permutation importances are noise "
    "around zero; the averages above mix skilful and unskilful fits, so read them as a ranking "
    "of what the models lean on, not as evidence that a feature predicts."
)

# %% tags=["remove-input"]
top_gain = gain_mean.sort_values("gain_share", ascending=False).groupby("target").head(3)
say(
    " ".join(
        f"XGBoost's largest gain shares for {t}: "
        + ", ".join(f"`{r.feature}` ({r.gain_share:.0%})" for r in g.itertuples())
        + "."
        for t, g in top_gain.groupby("target", sort=False)
    )
)

# %% [markdown]
# ## 8. "86% accuracy": a headline claim, reproduced honestly
#
# Reports on order-book models often lead with an accuracy, such as 86% on three classes
# (down, flat, up). An accuracy cannot be read without the class balance of the labels it was
# measured on. With a wide "flat" band most moves are flat, and a model that always says
# "flat" is right most of the time.
#
# To see it on our data we make such labels on purpose: at the shortest horizon, the flat band
# is set (on the training rows only) so that it holds `CLAIM_ACCURACY` of the training returns.
# The models are then tuned for plain accuracy, as such reports do, and evaluated with the
# protocol (`zoo.wide_band_claim`). The table shows, per segment, the most accurate model's
# accuracy with its interval next to the share of the majority class in the same test labels,
# and the balanced accuracy and MCC (Matthews correlation) of the same model.

# %%
h_claim = HORIZONS[0]
claim, claim_skipped = zoo.wide_band_claim(datasets, h_claim, zoo_cfg, CLAIM_ACCURACY)
claim.to_csv(out_dir / "claim.csv", index=False)
zoo.claim_table(claim) if not claim.empty else claim_skipped

# %%
if not claim.empty:
    plots.accuracy_vs_majority(
        claim[["segment", "accuracy", "majority_share", "balanced_accuracy", "mcc"]],
        title=f"the best model's accuracy at {h_claim}{unit_word} next to the majority-class share",
    ).show()

# %% tags=["remove-input"]
gap = float((claim["accuracy"] - claim["majority_share"]).abs().max()) if len(claim) else 0.0
say(
    "No segment could be labelled with the wide band; nothing to compare."
    if claim.empty
    else f"The flat band ({claim['band_bps'].min():.2g} to {claim['band_bps'].max():.2g} bps) "
    f"holds {CLAIM_ACCURACY:.0%} of the *training* returns by construction, and "
    f"{claim['majority_share'].min():.0%} to {claim['majority_share'].max():.0%} of the test "
    f"labels fall in the majority class. No accuracy differs from the majority-class share of "
    f"its own test labels by more than {gap:.1%}, and {int(claim['beats_majority'].sum())} of "
    f"{len(claim)} beat their best baseline (the majority class, persistence or the stratified "
    "guess) beyond the 95% interval. An accuracy like this one measures, for the most part, the "
    "share of flat moves in the labels; balanced accuracy and MCC show how much is left once "
    "that share is accounted for. A headline accuracy should always come with the class "
    "balance of its test labels."
)

# %% [markdown]
# A second, subtler way to inflate accuracy is to drop the rows whose price does not move before
# labelling up/down (the `binary` target with `no_change="drop"`). The labels then use the future
# to pick the rows: a model scored on them is never asked the hardest question, "will the price
# move at all?". Exercise 2 measures it.

# %% [markdown]
# ## 9. P&L net of costs
#
# A forecast is worth something to a taker only if its edge pays for crossing the spread and
# the fee on both legs. For the best model of each (segment, target, horizon) on the headline
# metric, the rule is simple: at each test row, trade in the forecast's direction (the sign of a
# return forecast whose size exceeds `PNL_THRESHOLD_BPS`; the up or down class of a classifier,
# no trade on "flat") and hold for the horizon. Each trade pays half the spread and the taker
# fee on entry and on exit (`evaluation.pnl_net_of_costs`). Trades overlap and are scored one by
# one; chapter 8's backtest nets positions properly. The table shows the number of trades and
# the mean gross and net P&L per trade in bps of notional; every column is in `pnl.csv`.

# %%
best = zoo.best_models(view)
pnl_best = results.pnl.merge(best, on=["segment", "target", "horizon", "model"])
zoo.pnl_table(pnl_best)

# %%
for target in TARGETS:
    pt = pnl_best[pnl_best["target"] == target]
    if pt["n_trades"].sum() == 0:
        continue
    plots.pnl_per_trade(
        pt, title=f"{target}: p&l per trade of the best model, net (●, 95% CI) and gross (○)"
    ).show()

# %% tags=["remove-input"]
ps = zoo.pnl_summary(pnl_best)
say(
    "None of the best models traded on the test block."
    if ps["n_traded"] == 0
    else f"Of the {ps['n_traded']} best models that traded, {ps['n_gross_positive']} earn a "
    f"positive mean *gross* return per trade, and {len(ps['net_positive'])} a mean *net* P&L "
    f"whose 95% interval is above zero. Mean costs run from {ps['cost_min']:.1f} to "
    f"{ps['cost_max']:.1f} bps per round trip, against mean gross returns per trade from "
    f"{ps['gross_min']:.2f} to {ps['gross_max']:.2f} bps."
)

# %% tags=["remove-input"]
say(
    f"Net of costs, {', '.join(ps['net_positive'])} stay above zero; with this many candidates "
    "and minutes of data, that calls for a longer test, not a strategy."
    if ps["net_positive"]
    else "None of them pays for its costs at a taker's prices."
)

# %% [markdown]
# ## 10. The future L1 state
#
# Instead of the mid's direction, one can forecast the whole best quote: the best bid and the
# best ask at $t + h$. We forecast each as its change from now in bps,
# $10^4 \log(b_{t+h} / b_t)$, with gradient boosting (XGBoost, tuned on the validation block as
# above), against **persistence** (no change: the quote stays where it is) and the last realised
# change. Persistence is a strong baseline wherever the best quotes often stay put over the
# horizon. The LSTM version of this model comes with the deep-learning chapter.
#
# The table shows XGBoost's out-of-sample $R^2$ against no change, with its interval, per
# segment, horizon and quote; ✓ marks a forecast that beats its best baseline beyond the
# interval.

# %%
l1_cfg = dataclasses.replace(
    zoo_cfg,
    models=(zoo.XGBConfig(seed=SEED),),
    targets=zoo.L1_TARGETS,
    horizons=tuple(L1_HORIZONS) if L1_HORIZONS is not None else None,
    importance_repeats=0,
)
l1 = zoo.run_zoo(datasets, l1_cfg)
l1_view = zoo.primary_view(l1.table)
zoo.ci_pivot(l1_view)

# %%
plots.diff_ci(
    l1.table,
    "mse",
    list(zoo.L1_TARGETS),
    title="future l1 state: xgboost mse minus the best baseline's (bps²), 95% CI",
).show()

# %% [markdown]
# How often do the two quotes move together? The median correlation, across markets, of the
# changes of the best bid and the best ask over the shortest horizon:

# %%
h1 = datasets[0].horizon_labels[0]
co_move = np.nanmedian(
    [ds.bid_change[h1].corr(ds.ask_change[h1]) for ds in datasets if h1 in ds.horizon_labels]
)
print(f"median correlation of the {h1} bid and ask changes: {co_move:.2f}")

# %%
l1_mse = l1.table[(l1.table["role"] == "model") & (l1.table["metric"] == "mse")]
l1_beat = l1_mse[l1_mse["beats_baseline"].fillna(False).astype(bool)]
by_side = l1_beat.groupby("target").size().reindex(list(zoo.L1_TARGETS), fill_value=0)
by_side.to_frame("cases where xgboost beats persistence").T

# %% tags=["remove-input"]
l1_wins = l1_view.loc[l1_view["beats_baseline"].fillna(False).astype(bool), "value"]
say(
    f"XGBoost has a lower mean squared error than the best of persistence and the last change, "
    f"beyond the 95% interval, in {len(l1_beat)} of {len(l1_mse)} (segment, quote, horizon) "
    "cases. "
    + (
        f"Where it wins, its out-of-sample $R^2$ against no change is {l1_wins.min():.3f} to "
        f"{l1_wins.max():.3f}."
        if len(l1_wins)
        else "Persistence is not beaten anywhere."
    )
)

# %% tags=["remove-input"]
say(
    f"With a correlation of {co_move:.2f}, the two quotes mostly move together (the spread "
    "rarely changes), so the bid, ask and mid forecasts are close to one problem."
    if co_move > 0.8
    else f"With a correlation of {co_move:.2f}, the spread changes often enough that the bid "
    "and the ask are separate problems."
)

# %% [markdown]
# ## 11. Outputs
#
# The tidy results of the zoo and of the L1 section go into one table, `results.csv` and
# `results.parquet`, with the supporting frames beside it. `metrics.json` holds the headline
# numbers: for every (segment, target, horizon), the best model on the headline metric, its
# interval, its best baseline and whether it beats it; the counts; the "86%" comparison; the
# P&L of the best models; and the data sizes.

# %%
parameters = dict(grid=GRID, levels=LEVELS, horizons=HORIZONS, targets=TARGETS, models=MODELS)
parameters |= dict(fractions=FRACTIONS, n_boot=N_BOOT, confidence=CONFIDENCE, fee_bps=FEE_BPS)
zoo_counts = dict(n_comparisons=n_comp, n_beat_baseline=n_beat, n_worse_than_baseline=n_worse)
zoo_counts |= dict(expected_by_chance=expected_by_chance, dm_better=len(dm_better))
zoo_counts |= dict(dm_worse=len(dm_worse))
claim_info = dict(target_accuracy=CLAIM_ACCURACY, horizon=f"{h_claim}{unit_word}")
pnl_info = pnl_best.drop(columns=["task", "role", "n_rows", "trade_rate"])
pnl_info = pnl_info.drop(columns=["total_gross_bps", "total_net_bps"])

# %%
combined = results.combine(l1)
extra = {
    "parameters": parameters,
    "datasets": {ds.name: ds.summary() for ds in datasets},
    "min_test_independent_by_horizon": indep["min"],
    "zoo": zoo_counts,
    "claim": claim_info | {"by_segment": claim},
    "pnl_best": pnl_info,
    "l1": {"n_cases": len(l1_mse), "n_beat_persistence": len(l1_beat)},
    "skipped": combined.skipped,
    "seconds": {"zoo": results.seconds, "l1": l1.seconds},
}
written = zoo.save_results(combined, out_dir, extra)

# %% tags=["remove-input"]
say(
    "Written to the report directory: "
    + ", ".join(f"`{p.name}`" for p in sorted(out_dir.iterdir()))
)

# %% [markdown]
# ## Key takeaways
#
# - One protocol, applied the same way to every model: chronological train / validation / test
#   blocks, purged by each target's end time; scalers and label thresholds fitted on training
#   rows; hyperparameters chosen on the validation block; the test block touched once.
# - Every model number sits next to the best naive baseline on the same rows, with a paired
#   block-bootstrap interval. "Beats the baseline" means the whole interval of the difference is
#   on the better side of zero, and section 6 counts how often that happened here and how often
#   chance alone would make it happen.
# - An accuracy is meaningless without the class balance of its labels: with a wide flat band,
#   "86% accuracy" can be the share of the majority class. Report balanced accuracy or MCC and
#   the majority-class rate beside it.
# - Statistical skill and economic value differ. A forecast that beats the zero return over
#   seconds can still lose money once half the spread and a taker fee are paid on both legs.
# - Minutes of data give test blocks with few independent targets, wide intervals and many
#   comparisons. Whatever wins here needs days of out-of-sample data before it is believed.

# %% [markdown]
# ## Exercises
#
# 1. Run the zoo in event time: `GRID = None`, `HORIZONS = [10, 100]` (events). How many rows
#    does each segment have now, and how many independent test targets?
# 2. Build `binary` labels with `no_change="drop"` and with `"keep"` at the shortest horizon, and
#    compare the logistic regression's accuracy and balanced accuracy on both. Which rows does
#    the "drop" version never have to predict?
# 3. Recompute the P&L of the best return models as a *maker* who pays no spread and no fee
#    (`CostModel(fee_bps=0, spread_fraction=0)`). How much gross edge is there at all?
# 4. The placebo: shuffle the labels of one task in blocks (`evaluation.block_shuffle`), run
#    `zoo.evaluate_task` on them, and check that the balanced accuracy sits at chance.

# %% [markdown]
# ````{admonition} Solution 1
# :class: dropdown
# Run the chapter with other parameters, for example with
# `python -m lobutils.runner.chapters --only 06 --params-file my.yaml` and
# `chapters: {06_ml_zoo: {parameters: {GRID: null, HORIZONS: [10, 100]}}}` in `my.yaml`.
# A busy book updates many times a second, so event time gives many more rows than the
# one-second grid; but a horizon of 100 events is a fraction of a second on a busy book and
# several seconds on a quiet one, and the number of independent targets is `n_test / 100` again.
# The cell below builds the first segment in event time and splits its return target.
# ````

# %% tags=["hide-input"]
# Solution 1: rows and independent test targets of the first segment in event time
ds_events = build_dataset(chosen[0], grid=None, levels=LEVELS, horizons=[10, 100])
splits_events = pd.DataFrame(
    [zoo.make_task(ds_events, h, "return", zoo_cfg).split_summary() for h in (10, 100)]
)
zoo.split_table(splits_events, "return")

# %% [markdown]
# ````{admonition} Solution 2
# :class: dropdown
# With "drop", the rows where the mid does not move (at one second, often a large share) are gone
# before the model is scored, so the model never has to say whether the price moves at all, and
# those rows are chosen with knowledge of the future. The cell below fits the logistic
# regression on both versions of the first segment's labels at the shortest horizon.
# ````

# %% tags=["hide-input"]
# Solution 2: logistic regression on up/down labels, no-change rows dropped or kept
sol2 = {}
for mode in ("drop", "keep"):
    cfg = dataclasses.replace(
        zoo_cfg, models=(zoo.LinearConfig(seed=SEED),), binary_no_change=mode, importance_repeats=0
    )
    td = zoo.make_task(datasets[0], HORIZONS[0], "binary", cfg)
    tab = zoo.evaluate_task(td, cfg)["table"].query("model == 'linear'").set_index("metric")
    cis = {
        m: fmt_ci(*tab.loc[m, ["value", "ci_low", "ci_high"]], 2)
        for m in ("accuracy", "balanced_accuracy")
    }
    sol2[mode] = {"rows": len(td.y), **cis}
pd.DataFrame(sol2).T

# %% [markdown]
# ````{admonition} Solution 3
# :class: dropdown
# Without costs the mean per trade is the gross edge. A maker could live on it only if its own
# orders were filled when the forecast is right, which is the adverse-selection problem of
# chapter 8. The cell below rescores the best return models' test forecasts with
# `CostModel(fee_bps=0, spread_fraction=0)`.
# ````

# %% tags=["hide-input"]
# Solution 3: P&L per trade of the best return models for a maker (no spread, no fee)
maker = ev.CostModel(fee_bps=0.0, spread_fraction=0.0)
preds = results.predictions.merge(best.query("target == 'return'"), on=[*best.columns])
sol3 = {}
for (seg, h), p in preds.groupby(["segment", "horizon"], sort=False):
    ds = next(d for d in datasets if d.name == seg)
    rows = p["row"].to_numpy()
    signal = ev.regression_signal(p["y_pred"].to_numpy())
    r = ev.pnl_net_of_costs(
        signal, ds.returns[h].to_numpy()[rows], ds.spread_bps[rows], costs=maker
    )
    sol3[(seg, h)] = {"trades": r.n_trades, "mean bps": round(r.mean_net_bps, 3)}
pd.DataFrame.from_dict(sol3, orient="index")

# %% [markdown]
# ````{admonition} Solution 4
# :class: dropdown
# With the link between features and labels cut, nothing is left to learn, and a leak-free
# protocol does not invent skill: the balanced accuracies should scatter around 1/3, and most
# intervals should cover it. A single placebo can still land outside: an interval misses 5% of
# the time by design, and on a test block of a few minutes it is rough. So the cell below
# shuffles the 3-class labels of the first segment five times, in blocks as long as the
# bootstrap's (longer shuffle blocks would give the labels a persistence that the bootstrap
# does not see), and scores the logistic regression on each. `tests/test_zoo.py` runs the same
# check on synthetic data.
# ````

# %% tags=["hide-input"]
# Solution 4: five placebos, 3-class labels block-shuffled, logistic regression
td = zoo.make_task(datasets[0], HORIZONS[0], "three_class", zoo_cfg)
cfg = dataclasses.replace(zoo_cfg, models=(zoo.LinearConfig(seed=SEED),), importance_repeats=0)
block = max(td.horizon_rows, MIN_BLOCK_ROWS)
sol4 = {}
for seed in range(1, 6):
    placebo = dataclasses.replace(td, y=ev.block_shuffle(td.y, block, seed=seed))
    tab = zoo.evaluate_task(placebo, cfg)["table"].set_index(["model", "metric"])
    r = tab.loc[("linear", "balanced_accuracy")]
    sol4[seed] = {
        "balanced accuracy (CI)": fmt_ci(r["value"], r["ci_low"], r["ci_high"], 2),
        "covers 1/3": bool(r["ci_low"] <= 1 / 3 <= r["ci_high"]),
    }
pd.DataFrame.from_dict(sol4, orient="index").rename_axis("shuffle seed")

# %% [markdown]
# ## References
#
# - Breiman (2001), *Random forests* {cite}`breiman2001random`.
# - Campbell & Thompson (2008), *Predicting excess stock returns out of sample*
#   {cite}`campbell2008predicting`.
# - Chen & Guestrin (2016), *XGBoost: a scalable tree boosting system* {cite}`chen2016xgboost`.
# - Cortes & Vapnik (1995), *Support-vector networks* {cite}`cortes1995support`.
# - Diebold & Mariano (1995), *Comparing predictive accuracy* {cite}`diebold1995comparing`.
# - Künsch (1989), *The jackknife and the bootstrap for general stationary observations*
#   {cite}`kunsch1989jackknife`.
# - López de Prado (2018), *Advances in financial machine learning* {cite}`lopezdeprado2018advances`.
# - Ntakaris et al. (2018), *Benchmark dataset for mid-price forecasting of limit order book
#   data with machine learning methods* {cite}`ntakaris2018benchmark`.
# - Zhang, Zohren & Roberts (2019), *DeepLOB* {cite}`zhang2019deeplob`.
#
# The full list is on the {doc}`/references` page.
