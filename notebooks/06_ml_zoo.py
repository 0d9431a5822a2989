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
# baseline beside each model), `pnl.csv`, `importance.csv`, `gain.csv`, `tuning.csv`,
# `splits.csv`, and `metrics.json` with the headline numbers.
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
from lobutils.features import targets
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
print(f"{len(chosen)} segment(s), horizons {HORIZONS} ({unit_word}), models {MODELS}")

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

# %%
datasets = [
    build_dataset(seg, grid=GRID, levels=LEVELS, horizons=HORIZONS, feature_config=None)
    for seg in chosen
]
overview = pd.DataFrame({ds.name: ds.summary() for ds in datasets}).T
overview

# %%
ds0 = datasets[0]
print(f"features of {ds0.name}: {list(ds0.X.columns)}")
ds0.X.describe().T.round(3)

# %%
shortest = min(datasets, key=len)
longest = max(datasets, key=len)
say(
    f"The segments hold {len(shortest)} to {len(longest)} rows "
    f"({float(overview['minutes'].min()):.1f} to {float(overview['minutes'].max()):.1f} minutes). "
    f"The first rows lack the 60-second windows of volatility and trade features, and the last "
    f"rows lack a target, so the usable rows per horizon (`usable_*` above) are fewer still."
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
zoo.describe_models(models)

# %% [markdown]
# ## 4. Running the zoo
#
# `run_zoo` loops over segments, targets and horizons. A combination whose rows cannot be split
# after purging (a horizon too long for a short segment) is recorded as skipped, with the
# reason, instead of being run on a meaningless split.

# %%
results = zoo.run_zoo(datasets, zoo_cfg)
print(f"zoo: {results.seconds:.0f} s, {len(results.table)} result rows")
results.skipped

# %%
splits = results.splits.copy()
splits[
    [
        "segment",
        "target",
        "horizon",
        "n_rows",
        "n_train",
        "n_val",
        "n_test",
        "n_purged",
        "n_test_independent",
        "threshold_bps",
    ]
].round(2)

# %%
indep = splits.groupby("horizon", sort=False)["n_test_independent"].agg(["min", "max"])
lines = [
    f"- at **{h}**: {row['min']:.0f} to {row['max']:.0f} independent test targets"
    for h, row in indep.iterrows()
]
skipped_note = (
    f" {len(results.skipped)} (segment, target, horizon) combinations could not be split at all "
    "and are listed above."
    if len(results.skipped)
    else ""
)
say(
    "How much evidence does a test block hold? Overlapping targets are not independent: a test "
    "block of $n$ rows at a horizon of $h$ rows holds about $n / h$ non-overlapping targets.\n\n"
    + "\n".join(lines)
    + "\n\nEvery interval below is as wide as these counts allow, and at the longest horizon "
    "the bootstrap has only a few blocks to resample: its intervals are themselves rough."
    + skipped_note
)

# %% [markdown]
# ## 5. Every model next to its baselines
#
# The full table has one row per (segment, target, horizon, model, metric). The view below
# keeps the headline metric of each task: the out-of-sample $R^2_{oos} = 1 - \sum (y - \hat y)^2
# / \sum y^2$ for returns (positive means better than forecasting no move; Campbell & Thompson
# 2008 {cite}`campbell2008predicting`), and the balanced accuracy for labels (the mean recall
# over classes; chance is $1/K$ whatever the class balance).

# %%
view = zoo.primary_view(results.table)
view.round(3)

# %%
for target in TARGETS:
    task = zoo.task_of(target)
    metric = zoo.PRIMARY_METRIC[task]
    if not (results.table["target"] == target).any():
        continue
    fig = plots.metric_ci(
        results.table,
        metric,
        target,
        title=f"{target}: {plots.METRIC_LABELS[metric]} on the test block, 95% CI",
    )
    fig.show()

# %% [markdown]
# Each panel is one horizon; each colour one market. Filled circles are the models, open
# diamonds the baselines. The next figure shows what the verdict rests on: each model's
# difference to its best baseline, with the paired interval.

# %%
for target in TARGETS:
    task = zoo.task_of(target)
    metric = zoo.PRIMARY_METRIC[task]
    if not (results.table["target"] == target).any():
        continue
    plots.diff_ci(
        results.table,
        metric,
        target,
        title=f"{target}: model minus best baseline, {plots.METRIC_LABELS[metric]}, 95% CI",
    ).show()

# %% [markdown]
# ## 6. Which models beat the baselines?

# %%
n_comp = len(view)
beat = view[view["beats_baseline"].fillna(False).astype(bool)]
worse = view[
    np.where(
        view["metric"].map(ev.GREATER_IS_BETTER),
        view["diff_ci_high"] < 0,
        view["diff_ci_low"] > 0,
    )
]
parts = [
    f"Of **{n_comp}** (model, segment, target, horizon) comparisons on the headline metric, "
    f"**{len(beat)}** beat their best baseline beyond the 95% interval, **{len(worse)}** are "
    f"worse than it beyond the interval, and the other {n_comp - len(beat) - len(worse)} cannot "
    "be told apart from it."
]
for target in TARGETS:
    vt = view[view["target"] == target]
    bt = beat[beat["target"] == target]
    if vt.empty:
        continue
    if bt.empty:
        parts.append(f"- **{target}**: no model beats its baseline beyond the interval.")
        continue
    items = "; ".join(
        f"{r.model} on {r.segment} at {r.horizon} ({r.metric} {r.value:.3f} vs "
        f"{r.baseline} {r.baseline_value:.3f}, difference "
        f"{fmt_ci(r.diff, r.diff_ci_low, r.diff_ci_high)})"
        for r in bt.itertuples()
    )
    parts.append(f"- **{target}** ({len(bt)} of {len(vt)}): {items}.")
by_h = (
    view.assign(b=view["beats_baseline"].fillna(False).astype(bool))
    .groupby("horizon", sort=False)["b"]
    .agg(["sum", "size"])
)
parts.append(
    "By horizon: "
    + ", ".join(f"{h}: {int(r['sum'])} of {int(r['size'])}" for h, r in by_h.iterrows())
    + "."
)
thin = splits.set_index(["segment", "target", "horizon"])["n_test_independent"]
beat_thin = [
    r for r in beat.itertuples() if thin.get((r.segment, r.target, r.horizon), np.inf) < 10
]
if len(beat):
    parts.append(
        f"{len(beat_thin)} of the {len(beat)} wins come from test blocks with fewer than ten "
        "independent targets. There the bootstrap resamples a handful of blocks, and its "
        "interval is too narrow to trust: treat those wins as anecdotes."
    )
expected_by_chance = 0.025 * n_comp
parts.append(
    f"With {n_comp} comparisons, about {expected_by_chance:.1f} would land on the better side "
    "of zero by chance alone if no model had any skill (each interval misses on that side 2.5% "
    "of the time, and the comparisons share their test rows, so the count varies more than a "
    "binomial one). The intervals are not corrected for this multiplicity."
)
say("\n\n".join(parts))

# %%
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

# %%
imp = results.importance
if imp.empty:
    print("permutation importance is off (IMPORTANCE_REPEATS = 0 or no IMPORTANCE_MODELS)")
else:
    imp_mean = (
        imp.groupby(["target", "feature"], sort=False)["importance_mean"]
        .agg(["mean", "std"])
        .reset_index()
        .rename(columns={"mean": "importance_mean", "std": "importance_spread"})
    )
    for target in TARGETS:
        it = imp_mean[imp_mean["target"] == target]
        if it.empty:
            continue
        unit = "mse, bps²" if zoo.task_of(target) == "regression" else "balanced accuracy"
        plots.importance_bars(
            it,
            error="importance_spread",
            top=12,
            title=f"{target}: permutation importance on the test block, mean over segments, "
            "horizons and models (bars: spread across them)",
            xlabel=f"drop in score when shuffled ({unit})",
        ).show()

# %%
gain = results.gain
if gain.empty:
    print("no XGBoost model in MODELS: no gain to show")
else:
    gain_mean = gain.groupby(["target", "feature"], sort=False)["gain_share"].mean().reset_index()
    plots.importance_bars(
        gain_mean,
        value="gain_share",
        color="target",
        top=12,
        title="xgboost gain share (in sample), mean over segments and horizons",
        xlabel="share of total gain",
    ).show()

# %%
sentences = []
for target in TARGETS:
    if not imp.empty and (imp_mean["target"] == target).any():
        top = imp_mean[imp_mean["target"] == target].nlargest(3, "importance_mean")
        sentences.append(
            f"For **{target}**, the largest mean permutation importances "
            f"({'drop in MSE, bps²' if zoo.task_of(target) == 'regression' else 'drop in balanced accuracy'}) are "
            + ", ".join(f"`{r.feature}` ({r.importance_mean:.3g})" for r in top.itertuples())
            + "."
        )
    if not gain.empty and (gain_mean["target"] == target).any():
        topg = gain_mean[gain_mean["target"] == target].nlargest(3, "gain_share")
        sentences.append(
            f"XGBoost's largest gain shares for {target}: "
            + ", ".join(f"`{r.feature}` ({r.gain_share:.0%})" for r in topg.itertuples())
            + "."
        )
if sentences:
    say(
        " ".join(sentences)
        + " Where a model has no skill on the test block, its permutation importances are noise "
        "around zero; the averages above mix skilful and unskilful fits, so read them as a "
        "ranking of what the models lean on, not as evidence that a feature predicts."
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
# protocol.

# %%
h_claim = HORIZONS[0]
claim_cfg = dataclasses.replace(
    zoo_cfg,
    targets=("three_class",),
    tune_metric_classification="accuracy",
    importance_repeats=0,
)
claim_rows, claim_tables = [], []
for ds in datasets:
    try:
        td = zoo.make_task(ds, h_claim, "three_class", zoo_cfg)
    except ValueError as exc:
        print(f"{ds.name}: skipped ({exc})")
        continue
    band = float(np.quantile(np.abs(td.returns[td.split.train]), CLAIM_ACCURACY))
    labels = targets.three_class_labels(td.returns, threshold=band)
    y = labels.codes.astype(np.int64)
    if np.unique(y[td.split.train]).size < 2:
        print(f"{ds.name}: the wide band leaves one class in the training block; skipped")
        continue
    td_wide = dataclasses.replace(td, y=y, target="three_class_wide", threshold=band)
    tab = zoo.evaluate_task(td_wide, claim_cfg)["table"]
    claim_tables.append(tab)
    acc = tab[(tab["metric"] == "accuracy") & (tab["role"] == "model")]
    best = acc.loc[acc["value"].idxmax()]
    maj = tab[(tab["metric"] == "accuracy") & (tab["model"] == "majority")].iloc[0]
    other = tab[(tab["model"] == best["model"])].set_index("metric")
    claim_rows.append(
        {
            "segment": ds.name,
            "model": best["model"],
            "band_bps": band,
            "accuracy": best["value"],
            "accuracy_ci_low": best["ci_low"],
            "accuracy_ci_high": best["ci_high"],
            "majority_share": maj["value"],
            "balanced_accuracy": other.loc["balanced_accuracy", "value"],
            "mcc": other.loc["mcc", "value"],
            "beats_majority": bool(best["beats_baseline"]),
        }
    )
claim = pd.DataFrame(claim_rows)
claim.round(3)

# %%
if not claim.empty:
    plots.accuracy_vs_majority(
        claim[["segment", "accuracy", "majority_share", "balanced_accuracy", "mcc"]],
        title=f"the best model's accuracy at {h_claim}{unit_word} next to the majority-class share",
    ).show()

# %%
if claim.empty:
    say("No segment could be labelled with the wide band; nothing to compare.")
else:
    n_beat = int(claim["beats_majority"].sum())
    gap = float((claim["accuracy"] - claim["majority_share"]).abs().max())
    lines = [
        f"- **{r.segment}**: {r.model} scores {r.accuracy:.0%} accuracy "
        f"[{r.accuracy_ci_low:.0%}, {r.accuracy_ci_high:.0%}]; always predicting the majority "
        f"class scores {r.majority_share:.0%} on the same test labels. Balanced accuracy "
        f"{r.balanced_accuracy:.2f} (chance 0.33), MCC {r.mcc:.2f} (chance 0)."
        for r in claim.itertuples()
    ]
    say(
        f"The flat band ({claim['band_bps'].min():.2g} to {claim['band_bps'].max():.2g} bps) "
        f"holds {CLAIM_ACCURACY:.0%} of the *training* returns by construction, and "
        f"{claim['majority_share'].min():.0%} to {claim['majority_share'].max():.0%} of the test "
        "labels fall in the majority class. The best accuracy per market ranges from "
        f"{claim['accuracy'].min():.0%} to {claim['accuracy'].max():.0%}:\n\n"
        + "\n".join(lines)
        + f"\n\nNo accuracy differs from the majority-class share of its own test labels by more "
        f"than {gap:.1%}, and {n_beat} of {len(claim)} beat their best baseline (the majority "
        "class, persistence or the stratified guess) beyond the 95% interval. An accuracy "
        "like this one measures, for the most part, the share of flat moves in the labels; "
        "balanced accuracy and MCC show how much is left once that share is accounted for. A "
        "headline accuracy should always come with the class balance of its test labels and "
        "the accuracy of the majority class on them."
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
# one; chapter 8's backtest nets positions properly.

# %%
best_idx = view.groupby(["segment", "target", "horizon"], sort=False)["value"].idxmax()
best_models = view.loc[best_idx, ["segment", "target", "horizon", "model"]]
pnl_best = results.pnl.merge(best_models, on=["segment", "target", "horizon", "model"])
pnl_cols = [
    "segment",
    "target",
    "horizon",
    "model",
    "fee_bps",
    "n_trades",
    "hit_rate",
    "mean_gross_bps",
    "mean_cost_bps",
    "mean_net_bps",
    "ci_low",
    "ci_high",
]
pnl_best[pnl_cols].round(3)

# %%
for target in TARGETS:
    pt = pnl_best[pnl_best["target"] == target]
    if pt["n_trades"].sum() == 0:
        continue
    plots.pnl_per_trade(
        pt, title=f"{target}: p&l per trade of the best model, net (●, 95% CI) and gross (○)"
    ).show()

# %%
traded = pnl_best[pnl_best["n_trades"] > 0]
if traded.empty:
    say("None of the best models traded on the test block.")
else:
    pos_net = traded[traded["ci_low"] > 0]
    pos_gross = traded[traded["mean_gross_bps"] > 0]
    best_gross = float(traded["mean_gross_bps"].max())
    least_cost = float(traded["mean_cost_bps"].min())
    verdict = (
        "None of them pays for its costs at a taker's prices."
        if pos_net.empty
        else "Net of costs, "
        + ", ".join(
            f"{r.model} on {r.segment} ({r.target}, {r.horizon})" for r in pos_net.itertuples()
        )
        + " stay above zero; with this many candidates and minutes of data, that calls for a "
        "longer test, not a strategy."
    )
    say(
        f"Of the {len(traded)} best models that traded, {len(pos_gross)} earn a positive mean "
        f"*gross* return per trade, and {len(pos_net)} a mean *net* P&L whose 95% interval is "
        f"above zero. Mean costs run from {least_cost:.1f} to "
        f"{traded['mean_cost_bps'].max():.1f} bps per round trip, against mean gross returns "
        f"per trade from {traded['mean_gross_bps'].min():.2f} to {best_gross:.2f} bps: the "
        f"largest gross edge is {best_gross / least_cost:.0%} of the smallest cost. {verdict}"
    )

# %% [markdown]
# ## 10. Seed 002: the future L1 state
#
# Instead of the mid's direction, one can forecast the whole best quote: the best bid and the
# best ask at $t + h$. We forecast each as its change from now in bps,
# $10^4 \log(b_{t+h} / b_t)$, with gradient boosting (XGBoost, tuned on the validation block as
# above), against **persistence** (no change: the quote stays where it is) and the last realised
# change. Persistence is a strong baseline wherever the best quotes often stay put over the
# horizon. The LSTM version of this model comes with the deep-learning chapter.

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
l1_view.round(3)

# %%
plots.diff_ci(
    l1.table,
    "mse",
    list(zoo.L1_TARGETS),
    title="future l1 state: xgboost mse minus the best baseline's (bps²), 95% CI",
).show()

# %%
l1_mse = l1.table[(l1.table["role"] == "model") & (l1.table["metric"] == "mse")]
l1_beat = l1_mse[l1_mse["beats_baseline"].fillna(False).astype(bool)]
by_side = l1_beat.groupby("target").size().reindex(list(zoo.L1_TARGETS), fill_value=0)
h1 = datasets[0].horizon_labels[0]
co_move = np.nanmedian(
    [
        pd.Series(ds.bid_change[h1]).corr(pd.Series(ds.ask_change[h1]))
        for ds in datasets
        if h1 in ds.horizon_labels
    ]
)
l1_wins = l1_view.loc[l1_view["beats_baseline"].fillna(False).astype(bool), "value"]
say(
    f"XGBoost has a lower mean squared error than the best of persistence and the last change, "
    f"beyond the 95% interval, in {len(l1_beat)} of {len(l1_mse)} (segment, quote, horizon) "
    "cases ("
    + ", ".join(f"{side}: {n}" for side, n in by_side.items())
    + "). "
    + (
        f"Where it wins, its out-of-sample $R^2$ against no change is {l1_wins.min():.3f} to "
        f"{l1_wins.max():.3f}. "
        if len(l1_wins)
        else "Persistence is not beaten anywhere. "
    )
    + f"The {h1} changes of the best bid and the best ask have a median correlation of "
    f"{co_move:.2f} across the markets: "
    + (
        "the two quotes mostly move together (the spread rarely changes), so the bid, ask and "
        "mid forecasts are close to one problem."
        if co_move > 0.8
        else "the spread changes often enough that the bid and the ask are separate problems."
    )
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
combined = results.combine(l1)
extra = {
    "parameters": {
        "grid": GRID,
        "levels": LEVELS,
        "horizons": HORIZONS,
        "targets": TARGETS,
        "models": MODELS,
        "fractions": FRACTIONS,
        "n_boot": N_BOOT,
        "confidence": CONFIDENCE,
        "fee_bps": FEE_BPS,
    },
    "datasets": {ds.name: ds.summary() for ds in datasets},
    "min_test_independent_by_horizon": indep["min"],
    "zoo": {
        "n_comparisons": n_comp,
        "n_beat_baseline": len(beat),
        "n_worse_than_baseline": len(worse),
        "expected_by_chance": expected_by_chance,
        "dm_better": len(dm_better),
        "dm_worse": len(dm_worse),
    },
    "claim": {
        "target_accuracy": CLAIM_ACCURACY,
        "horizon": f"{h_claim}{unit_word}",
        "by_segment": claim,
    },
    "pnl_best": pnl_best[pnl_cols],
    "l1": {"n_cases": len(l1_mse), "n_beat_persistence": len(l1_beat)},
    "skipped": combined.skipped,
    "seconds": {"zoo": results.seconds, "l1": l1.seconds},
}
written = zoo.save_results(combined, out_dir, extra)
sorted(written)

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
# ````
#
# ````{admonition} Solution 2
# :class: dropdown
# ```python
# ds = datasets[0]
# for mode in ("drop", "keep"):
#     cfg = dataclasses.replace(zoo_cfg, models=(zoo.LinearConfig(seed=SEED),), targets=("binary",),
#                               binary_no_change=mode, importance_repeats=0)
#     td = zoo.make_task(ds, HORIZONS[0], "binary", cfg)
#     tab = zoo.evaluate_task(td, cfg)["table"]
#     print(mode, len(td.y), tab.query("model == 'linear' and metric in ['accuracy', 'balanced_accuracy']")
#           [["metric", "value", "ci_low", "ci_high"]].round(3).to_dict("records"))
# ```
# With "drop", the rows where the mid does not move (at one second, often a large share) are gone
# before the model is scored, so the model never has to say whether the price moves at all, and
# those rows are chosen with knowledge of the future.
# ````
#
# ````{admonition} Solution 3
# :class: dropdown
# ```python
# maker = ev.CostModel(fee_bps=0.0, spread_fraction=0.0)
# preds = results.predictions.merge(best_models.query("target == 'return'"),
#                                   on=["segment", "target", "horizon", "model"])
# for (seg, h), p in preds.groupby(["segment", "horizon"]):
#     ds = next(d for d in datasets if d.name == seg)
#     rows = p["row"].to_numpy()
#     r = ev.pnl_net_of_costs(ev.regression_signal(p["y_pred"].to_numpy()),
#                             ds.returns[h].to_numpy()[rows], ds.spread_bps[rows], costs=maker)
#     print(seg, h, r.n_trades, round(r.mean_net_bps, 3))
# ```
# Without costs the mean per trade is the gross edge. A maker could live on it only if its own
# orders were filled when the forecast is right, which is the adverse-selection problem of
# chapter 8.
# ````
#
# ````{admonition} Solution 4
# :class: dropdown
# ```python
# td = zoo.make_task(datasets[0], HORIZONS[0], "three_class", zoo_cfg)
# placebo = dataclasses.replace(td, y=ev.block_shuffle(td.y, 50, seed=1))
# cfg = dataclasses.replace(zoo_cfg, models=(zoo.LinearConfig(seed=SEED),), importance_repeats=0)
# tab = zoo.evaluate_task(placebo, cfg)["table"]
# tab.query("model == 'linear' and metric == 'balanced_accuracy'")[["value", "ci_low", "ci_high"]]
# ```
# The interval should cover 1/3: with the link between features and labels cut, nothing is
# left to learn, and a leak-free protocol does not invent skill. `tests/test_zoo.py` runs the same check.
# ````

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
