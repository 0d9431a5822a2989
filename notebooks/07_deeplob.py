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
# # 7. DeepLOB: a deep network on minutes of order-book data
#
# DeepLOB (Zhang, Zohren & Roberts 2019 {cite}`zhang2019deeplob`) reads the last 100 states of
# a 10-level order book and forecasts whether the mid price goes up, down or nowhere. It was the
# first deep model to
# beat the linear and classical benchmarks on the FI-2010 benchmark by a wide margin, and most
# deep order-book models since then reuse its ideas. This chapter builds it in Keras, trains it
# and four relatives on the bundled Binance recordings, and judges them with exactly the
# protocol of chapter 6: the same chronological, purged splits, the same naive baselines and
# the same block-bootstrap intervals, next to the best classical models on the same rows. The
# recordings are minutes long, and a model with about 142,000 parameters needs far more data
# than that. The chapter measures how far short it falls, and says so.
#
# **Learning objectives.** After this chapter you can
#
# - explain DeepLOB's layers: convolutions that pair price with size and bid with ask, an
#   Inception module over time, and an LSTM, and count its parameters;
# - feed a network windows of the book without copying them: a `keras.utils.PyDataset` that
#   cuts each batch out of a strided view of one `(N, 40)` array, normalised with statistics
#   of the training rows only;
# - train with early stopping, learning-rate reduction, gradient clipping and checkpoints that
#   resume, and read the learning curves;
# - compare a deep model with the naive baselines and the classical models on the same test
#   rows, per market and pooled over markets;
# - check that a model trained on a smoothed target still has to be scored on the raw return.
#
# **Prerequisites.** Chapters 4 (targets, the EMA leakage audit) and 6 (the evaluation
# protocol, the classical zoo). Basic Keras: layers, `compile`, `fit`.
#
# **Outputs.** The tables and figures below, and in `reports/07_deeplob/`: `results.csv` (one
# tidy table: model × segment × target × metric, with CIs and the best baseline beside each
# model), `histories.csv` (the learning curves), `splits.csv`, `throughput.csv` and
# `metrics.json` with the headline numbers, and `signals.parquet`: the test-block class
# probabilities of each market's own classifiers (columns `segment`, `model`, `split`, `ts`,
# `horizon_s`, `p_down`, `p_flat`, `p_up`; `ts` is the time of the window's last row, so each
# signal uses only data known at `ts`), which chapter 8 backtests. Checkpoints go to
# `reports/07_deeplob/checkpoints/`.
#
# **A caveat on size.** The bundled recordings are six to eleven minutes per market. On a
# 100-millisecond grid that is a few thousand rows, and, at a 10-second horizon, a test block
# holding a handful of independent targets. Every number here demonstrates the method; none
# of them is evidence about these markets.

# %% [markdown]
# ## Setup

# %%
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from lobutils import evaluation as ev
from lobutils import paths
from lobutils.data import segment, segments
from lobutils.models.backend import load_keras
from lobutils.paths import report_dir
from lobutils.plots import deep as pdeep
from lobutils.plots import models as plots_models
from lobutils.report import fmt_ci, say, setup_display

setup_display()


# %% tags=["parameters"]
DATA_DIR = None  # a directory of <market>_<symbol>_<YYYYMMDD>.gz recordings; None: the bundled data
SEGMENTS = None  # segment names, e.g. ["cm_btcusd_perp"]; None: every segment found
GRID = "100ms"  # clock grid of the rows (DeepLOB reads T consecutive rows)
LEVELS = 10  # book levels per side (4 columns each: 40 input columns)
T = 100  # rows per input window (100 rows of 100 ms: 10 s of book)
HORIZON = 10  # forecast horizon (s)
LONG_HORIZON = 60  # the multi-task model's second horizon (s)
THREE_CLASS_K = 1.0  # down / flat / up threshold: k x std of the training returns
MODELS = ["deeplob", "cnn"]  # per-market classifiers: deeplob, deeplob_tcn, cnn
POOLED = True  # also train one DeepLOB on every market's training windows
CLASSICAL = ["linear", "xgboost"]  # chapter 6 models fitted on the same rows
VARIANT_SEGMENTS = ["cm_btcusd_perp"]  # where the variants below run ([] skips them)
VARIANTS = ["deeplob_tcn", "ema", "multitask", "l1_lstm"]  # TCN, EMA target, 10 s + 60 s, L1
EMA_ALPHA = 0.2  # seed 004's smoothing weight of the EMA training target
PRICES = "relative"  # "relative": bps from the window's last mid; "zscore": raw price levels
SIZES = "log"  # "log": log1p sizes before the z-score; "zscore": raw sizes
EPOCHS = 5  # at most (early stopping may end sooner)
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
PATIENCE = 3  # early-stopping patience (epochs)
TRAIN_STRIDE = 5  # keep every k-th training / validation window (neighbours overlap in T-1 rows)
FRACTIONS = [0.6, 0.2, 0.2]  # train / validation / test shares of each segment's time span
N_BOOT = 500  # block-bootstrap resamples of every CI
THROUGHPUT_STEPS = 20  # timed training steps of the throughput measurement (section 7)
MIN_BLOCK_ROWS = 10  # bootstrap blocks: max(horizon in rows, this)
BACKEND = None  # Keras backend: "tensorflow", "jax" or "torch"; None: $KERAS_BACKEND or tensorflow
SEED = 0
CHECKPOINT_DIR = None  # None: REPORT_DIR/checkpoints (a finished run is reused, not retrained)
REPORT_DIR = None  # where the outputs go; None: reports/07_deeplob/

# %%
# Keras picks its backend once, when first imported: the parameter applies before the modules
# that import Keras. TensorFlow's C++ start-up notices are silenced; real errors still raise.
keras = load_keras(BACKEND)

from lobutils.models import deeplob as dl  # noqa: E402
from lobutils.models import study  # noqa: E402
from lobutils.models.windows import load_lob, lob_columns  # noqa: E402

out_dir = report_dir("07_deeplob", REPORT_DIR)
ckpt_root = out_dir / "checkpoints" if CHECKPOINT_DIR is None else Path(CHECKPOINT_DIR)
chosen = segments(DATA_DIR) if SEGMENTS is None else [segment(n, DATA_DIR) for n in SEGMENTS]
gpu = dl.has_gpu()
if gpu:
    keras.mixed_precision.set_global_policy("mixed_float16")  # the heads stay float32
keras.utils.set_random_seed(SEED)
train_cfg = dl.TrainConfig(
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
    learning_rate=LEARNING_RATE,
    early_stopping_patience=PATIENCE,
    reduce_lr_patience=max(1, PATIENCE - 1),
    class_weight="balanced",
    seed=SEED,
)
h_lab, h_long = f"{HORIZON}s", f"{LONG_HORIZON}s"
print(
    f"Keras {keras.__version__}, backend {keras.backend.backend()}, "
    f"{'GPU (mixed precision)' if gpu else 'CPU'}; {len(chosen)} segment(s)"
)

# %% [markdown]
# ## 1. The input: windows of the book
#
# DeepLOB's input at time $t$ is a matrix of $T$ rows, the book at $t - T + 1, \dots, t$, and
# 40 columns: for each of the 10 levels, the ask price, the ask size, the bid price and the
# bid size (FI-2010's order). We sample the book every 100 ms, as chapter 2 taught: the last
# state at or before each grid time, so nothing after $t$ enters row $t$.
#
# Two things about these windows matter more than the network.
#
# **No copies.** $N$ rows give $N - T + 1$ windows, and stacking them makes an array $T$ times
# the data: 100 times here, 400 GB for 25 million rows (seed 004's data). The
# `WindowDataset` of `lobutils.models.windows` keeps the `(N, 40)` array (a memory map, for
# data that do not fit in memory) and takes each batch from a *strided view*
# (`numpy.lib.stride_tricks.sliding_window_view`), which costs no memory at all; only the batch
# is ever copied.
#
# **Training statistics only.** The network wants inputs around zero with unit spread. Prices
# and sizes get one mean and one standard deviation per group, so that the levels keep their
# relative scale, both fitted on the rows the *training* windows read. Chapter 5 showed that
# price levels are unit-root series: the test block can sit at prices the training block never
# saw. With `PRICES = "relative"`, each window's prices are first expressed in bps from the
# mid at the window's last row, which keeps the moves inside the window and drops the level.
# Sizes are heavy-tailed, so `SIZES = "log"` takes `log1p` of them first.

# %%
lobs, load_skipped = [], {}
for seg in chosen:
    try:
        lobs.append(load_lob(seg, grid=GRID, levels=LEVELS, horizons=(HORIZON, LONG_HORIZON)))
    except ValueError as err:
        load_skipped[seg.name] = str(err)
overview = pd.DataFrame(
    {
        d.name: {
            "rows": len(d),
            "minutes": d.dataset.summary()["minutes"],
            "complete_book_share": float(d.valid.mean()),
            "median_spread_bps": d.dataset.summary()["median_spread_bps"],
        }
        for d in lobs
    }
).T
overview.round(3)

# %% [markdown]
# The tasks below keep the rows that have a complete book over their whole window, a finite
# target and finite chapter 6 features (the classical models need them), and split them by
# time. A window never spans a gap in the book, and never spans the boundary between the
# training, validation and test blocks: the first $T - 1$ rows of each block only feed windows
# as history, never as targets of another block.

# %%
tasks, task_skipped = {}, dict(load_skipped)
for d in lobs:
    try:
        tasks[d.name] = study.make_window_task(
            d,
            (HORIZON,),
            "three_class",
            T=T,
            holdout=ev.HoldoutConfig(fractions=tuple(FRACTIONS)),
            k=THREE_CLASS_K,
        )
    except ValueError as err:
        task_skipped[d.name] = str(err)
splits = pd.DataFrame([wt.summary() for wt in tasks.values()])
splits.round(2)

# %%
if task_skipped:
    say("Skipped, with the reason: " + "; ".join(f"**{k}**: {v}" for k, v in task_skipped.items()))
first = next(iter(tasks.values()))
norm0 = first.normalizer(prices=PRICES, sizes=SIZES)
x0 = norm0(first.lob.lob[first.test_ends[0] - T + 1 : first.test_ends[0] + 1])
step_s = pd.Timedelta(GRID).total_seconds()
pdeep.window_heatmap(
    x0,
    lob_columns(LEVELS),
    step_s,
    title=f"one normalised input window of {first.segment}: {T} rows x {4 * LEVELS} columns",
).show()

# %% [markdown]
# Each column of the heat map is one book quantity, each row a grid time before the target
# row at the top. With relative prices, the ask columns sit above zero and the bid columns
# below it, spreading out with the level; a move of the mid inside the window shows as a
# gradient down the price columns.

# %% [markdown]
# ## 2. The network
#
# DeepLOB treats the window as an image of $T \times 40$ pixels with one channel:
#
# 1. **Convolution block 1** has a $(1, 2)$ kernel with stride $(1, 2)$: it combines each price
#    with its size, leaving 20 columns, one per (side, level). Two $(4, 1)$ convolutions then
#    mix four neighbouring time steps.
# 2. **Block 2**, again $(1, 2)$ with stride 2, combines the ask and the bid of each level
#    (10 columns): a learned imbalance or micro-price per level.
# 3. **Block 3** is one $(1, 10)$ convolution across all levels, so each time step becomes a
#    vector of 32 features.
# 4. An **Inception module** (Szegedy et al. 2015 {cite}`szegedy2015going`) looks at the time
#    axis at three scales at once: $1 \times 1$ then $3 \times 1$, $1 \times 1$ then $5 \times 1$,
#    and a
#    $3 \times 1$ max-pool then $1 \times 1$; 192 channels in all.
# 5. An **LSTM** {cite}`hochreiter1997long` with 64 units reads the 192-dimensional sequence,
#    and a softmax layer turns its last state into the probabilities of down, flat and up.
#
# Every convolution is followed by a LeakyReLU. The builder follows the authors' Keras code, and
# its parameter count is the test of that.

# %%
reference = dl.build_deeplob(T=100, n_features=40)
arch = pdeep.layer_table(reference)
pdeep.architecture(arch, title="deeplob, T = 100 rows x 40 columns, top to bottom").show()

# %%
arch.assign(output=arch["output"].map(lambda s: " x ".join(map(str, s))))

# %%
n_params = reference.count_params()
say(
    f"The classifier has **{n_params:,}** parameters: "
    + ", ".join(
        f"{int(r.params):,} in the {r.block.split(':')[0]}" for r in arch.itertuples() if r.params
    )
    + f". This matches the authors' Keras implementation ({dl.DEEPLOB_KERAS_PARAMS:,}); their "
    f"PyTorch port has {dl.DEEPLOB_PYTORCH_PARAMS:,}, because it adds batch normalisation after "
    "every convolution and PyTorch's LSTM keeps two bias vectors. Almost half of the "
    "parameters sit in the LSTM, whose input is the 192 Inception channels."
)

# %% [markdown]
# Two smaller relatives run alongside. The **CNN** of seed 000 is two 1-D convolutions over
# time with all 40 columns as channels, global average pooling and a softmax: a few thousand
# parameters. Section 6 adds a **TCN** version of DeepLOB (causal dilated convolutions in
# place of the LSTM), a **multi-task** model with a 10-second and a 60-second head, and seed
# 002's **LSTM for the future best quotes**.

# %%
builders = {
    "deeplob": lambda: dl.build_deeplob(T=T, n_features=4 * LEVELS),
    "deeplob_tcn": lambda: dl.build_deeplob_tcn(T=T, n_features=4 * LEVELS),
    "cnn": lambda: dl.build_cnn_classifier(T=T, n_features=4 * LEVELS),
}
sizes = pd.Series({name: b().count_params() for name, b in builders.items()}, name="parameters")
sizes.to_frame()

# %% [markdown]
# ## 3. Training, market by market
#
# Each market gets its own models (seed 004 found per-market models better than pooled ones;
# section 5 checks that here). The training choices:
#
# - **Loss and labels.** Cross-entropy on down / flat / up at the 10-second horizon, with the
#   threshold of chapter 6 ($k$ times the standard deviation of the *training* returns). The
#   flat class is the majority, so the classes are weighted inversely to their training
#   frequency; otherwise the cheapest solution is to always say "flat".
# - **Adam** with a learning rate of $10^{-3}$ and gradient clipping (global norm 1).
# - **Early stopping** on the validation loss, with the best epoch's weights restored, and the
#   learning rate halved when the validation loss stalls (`ReduceLROnPlateau`).
# - **Thinned windows.** Neighbouring windows share $T - 1$ of their $T$ rows. Training on every
#   `TRAIN_STRIDE`-th one loses little and saves most of the time. The test block is never
#   thinned.
# - **Checkpoints that resume.** After every epoch the model, its optimizer state and the
#   history are saved under a name derived from all the settings; an interrupted run continues
#   from its last epoch, and a finished one is loaded instead of trained again.

# %%
results, histories, throughput, predictions, signal_parts = [], [], [], {}, []


def record(name: str, wt: study.WindowTask, fit: dl.FitResult, scope: str = "own") -> None:
    """Keep a trained model's learning curve, speed and test predictions (and, for a
    market's own classifier, its test probabilities as trading signals for chapter 8)."""
    h = fit.train.history.assign(model=name, segment=wt.segment, scope=scope)
    histories.append(h)
    throughput.append(
        {
            "model": name,
            "segment": wt.segment,
            "scope": scope,
            "epochs": len(h),
            "epochs_run": fit.train.epochs_run,
            "seconds": fit.train.seconds,
            "samples_per_s": fit.train.samples_per_s,
            "stopped_early": fit.train.stopped_early,
        }
    )
    predictions[(name, wt.segment)] = fit
    if scope == "own" and wt.task == "classification":
        # decision time = the timestamp of the window's last row: data known at ts
        signal_parts.append(
            study.signals_table(wt.segment, name, wt.ts[wt.split.test], fit.proba, HORIZON)
        )


for wt in tasks.values():
    norm = wt.normalizer(prices=PRICES, sizes=SIZES)
    for name in MODELS:
        key = study.run_key(name, wt.segment, GRID, T, h_lab, THREE_CLASS_K, PRICES, SIZES,
                            TRAIN_STRIDE, FRACTIONS, train_cfg)  # fmt: skip
        fit = study.fit_windows(
            builders[name],
            wt.lob.lob,
            wt.targets[h_lab],
            wt.train_ends,
            wt.val_ends,
            wt.test_ends,
            T=T,
            task="classification",
            config=train_cfg,
            normalizer=norm,
            train_stride=TRAIN_STRIDE,
            checkpoint_dir=ckpt_root / wt.segment / f"{name}-{key}",
        )
        record(name, wt, fit)
history = pd.concat(histories, ignore_index=True)
pd.DataFrame(throughput).round(2)

# %%
pdeep.learning_curves(
    history[history["scope"] == "own"],
    title="learning curves per market: validation (solid) and training (dashed) loss",
).show()

# %%
h_own = history[history["scope"] == "own"]
last = h_own.sort_values("epoch").groupby(["model", "segment"]).tail(1)
best = h_own.loc[h_own.groupby(["model", "segment"])["val_loss"].idxmin()]
chance = float(np.log(3))
improved = best[best["val_loss"] < chance - 0.01]
n_overfit = int((last["loss"] < last["val_loss"]).sum())
n_fit_median = int(np.median([-(-len(wt.split.train) // TRAIN_STRIDE) for wt in tasks.values()]))
n_stopped = sum(bool(t["stopped_early"]) for t in throughput)
say(
    f"A classifier that has learned nothing scores a cross-entropy of $\\ln 3 \\approx {chance:.3f}$ "
    f"on balanced classes. The best validation loss of the {len(best)} runs ranges from "
    f"{best['val_loss'].min():.3f} to {best['val_loss'].max():.3f}, and {len(improved)} of them "
    f"get below {chance - 0.01:.2f}. Each run saw a median of {n_fit_median:,} (thinned) "
    f"training windows per epoch; {n_stopped} of {len(throughput)} runs stopped early. "
    + (
        f"In {n_overfit} of {len(last)} runs the training loss ends below the validation loss: "
        "the network fits its own training block better than the next minutes, and early "
        "stopping keeps the epoch with the best validation loss."
        if n_overfit > len(last) / 2
        else f"The training loss ends below the validation loss in only {n_overfit} of "
        f"{len(last)} runs: in {EPOCHS} epoch(s) the networks have moved little from where they "
        "started."
    )
)

# %% [markdown]
# ## 4. Against the baselines and the classical models
#
# The test rows are the same for every model of a market. The naive baselines are those of
# chapter 6: the majority class of the training labels, persistence (the last *realised*
# label, never a future one) and a random guess with the training class frequencies. The
# classical models are chapter 6's, tuned on the validation block and refitted on training and
# validation, reading the one-row features (spread, imbalances, order flow, volatility, past
# returns) at the same rows. Every metric gets a block-bootstrap interval, and a model *beats*
# its best baseline only when the whole interval of the difference lies on the better side.

# %%
for wt in tasks.values():
    preds = {name: predictions[(name, wt.segment)].y_pred for name in MODELS}
    preds.update(study.fit_classical(wt, CLASSICAL, seed=SEED))
    results.append(study.score(wt, preds, n_boot=N_BOOT, min_block_rows=MIN_BLOCK_ROWS, seed=SEED))
table = pd.concat(results, ignore_index=True)
view = table[(table["metric"] == "balanced_accuracy")]
view[["segment", "model", "role", "value", "ci_low", "ci_high", "baseline", "diff",
      "beats_baseline", "n_test_independent"]].round(3)  # fmt: skip

# %%
plots_models.metric_ci(
    table,
    "balanced_accuracy",
    "three_class",
    title=f"balanced accuracy on the test block at {h_lab}, 95% ci (chance 0.33)",
).show()

# %%
plots_models.diff_ci(
    table,
    "balanced_accuracy",
    "three_class",
    title="model minus its best baseline, balanced accuracy, 95% ci",
).show()

# %%
models_view = view[view["role"] == "model"]
deep = models_view[models_view["model"].isin(MODELS)]
classic = models_view[models_view["model"].isin(CLASSICAL)]
n_beat_deep = int(deep["beats_baseline"].fillna(False).astype(bool).sum())
n_beat_classic = int(classic["beats_baseline"].fillna(False).astype(bool).sum())
width = float((deep["ci_high"] - deep["ci_low"]).median())
indep = splits.set_index("segment")["n_test_independent"]
one_class = {
    (m, s): int(np.unique(predictions[(m, s)].y_pred).size) == 1 for m in MODELS for s in tasks
}
n_collapsed = sum(one_class.values())
say(
    f"On balanced accuracy (chance 1/3), **{n_beat_deep} of {len(deep)}** deep "
    f"(model, market) pairs and **{n_beat_classic} of {len(classic)}** classical ones beat "
    f"their best naive baseline beyond the 95% interval. The deep models' point values run "
    f"from {deep['value'].min():.2f} to {deep['value'].max():.2f}, and their intervals are "
    f"{width:.2f} wide at the median: the test blocks hold only {indep.min():.1f} to "
    f"{indep.max():.1f} non-overlapping {h_lab} targets per market, so two models would "
    "have to differ by a great deal before this data could tell them apart. "
    f"**{n_collapsed} of {len(one_class)}** deep classifiers predict a single class on the "
    "whole test block (a balanced accuracy of exactly 1/3): they have fallen back on one "
    "answer rather than learned a rule."
)

# %% [markdown]
# ## 5. One model per market, or one for all?
#
# Pooling gives a model more data: every market's training windows at once, each market
# normalised with its own training statistics (a BTC price and an ETH price, or a size in BTC
# and a size in contracts, are not on the same scale). Seed 004 found per-market models better.
# Here the pooled DeepLOB is scored on each market's test block, next to that market's own
# model.

# %%
if POOLED and len(tasks) > 1:
    P = study.pool(list(tasks.values()), prices=PRICES, sizes=SIZES)
    key = study.run_key("pooled", sorted(tasks), GRID, T, h_lab, THREE_CLASS_K, PRICES, SIZES,
                        TRAIN_STRIDE, FRACTIONS, train_cfg)  # fmt: skip
    all_test = np.concatenate([P.test_ends(wt) for wt in tasks.values()])
    fit_pool = study.fit_windows(
        builders["deeplob"],
        P.data,
        P.targets[h_lab],
        P.train_ends,
        P.val_ends,
        all_test,
        T=T,
        task="classification",
        config=train_cfg,
        normalizer=P.normalizers,
        normalizer_index=P.normalizer_index,
        train_stride=TRAIN_STRIDE,
        checkpoint_dir=ckpt_root / "pooled" / f"deeplob-{key}",
    )
    histories.append(
        fit_pool.train.history.assign(model="deeplob", segment="pooled", scope="pooled")
    )
    throughput.append(
        {"model": "deeplob", "segment": "pooled", "scope": "pooled",
         "epochs": len(fit_pool.train.history), "epochs_run": fit_pool.train.epochs_run,
         "seconds": fit_pool.train.seconds, "samples_per_s": fit_pool.train.samples_per_s,
         "stopped_early": fit_pool.train.stopped_early}
    )  # fmt: skip
    pooled_rows, start = [], 0
    for wt in tasks.values():
        n = len(wt.split.test)
        pred = fit_pool.y_pred[start : start + n]
        start += n
        tab = study.score(
            wt,
            {"deeplob": predictions[("deeplob", wt.segment)].y_pred, "deeplob_pooled": pred}
            if "deeplob" in MODELS
            else {"deeplob_pooled": pred},
            n_boot=N_BOOT,
            min_block_rows=MIN_BLOCK_ROWS,
            seed=SEED,
        )
        pooled_rows.append(tab[tab["model"] == "deeplob_pooled"])
        results.append(tab[tab["model"] == "deeplob_pooled"])
        if "deeplob" in MODELS:
            pooled_rows.append(tab[tab["model"] == "deeplob"])
    pooled = pd.concat(pooled_rows, ignore_index=True)
    pv = pooled[pooled["metric"] == "balanced_accuracy"]
    pdeep.metric_by_segment(
        pv,
        reference=1 / 3,
        ylabel="balanced accuracy",
        title="deeplob per market (its own model) and pooled over markets, 95% ci",
    ).show()
else:
    pv = pd.DataFrame()
    print("pooling needs POOLED = True and at least two segments")

# %%
if len(pv) and "deeplob" in MODELS:
    wide = pv.pivot_table(index="segment", columns="model", values="value")
    better = int((wide["deeplob_pooled"] > wide["deeplob"]).sum())
    say(
        f"The pooled model trained on {len(P.train_ends):,} windows (before thinning), "
        f"{len(P.train_ends) / max(1, len(tasks)):,.0f} per market on average. Its balanced "
        f"accuracy is higher than the market's own model on {better} of {len(wide)} markets, "
        f"by {float((wide['deeplob_pooled'] - wide['deeplob']).mean()):+.3f} on average; "
        f"{int(pv[pv['model'] == 'deeplob_pooled']['beats_baseline'].fillna(False).astype(bool).sum())} "
        "of its per-market scores beat the best baseline beyond the interval. With intervals "
        "this wide, neither seed 004's finding nor its opposite can be confirmed here."
    )

# %% [markdown]
# ## 6. Variants
#
# On the markets of `VARIANT_SEGMENTS` (by default `cm_btcusd_perp`, the one with the most
# rows), four relatives of DeepLOB, each scored like the rest.
#
# - **DeepLOB-TCN** replaces the LSTM with causal dilated convolutions
#   {cite}`bai2018empirical` (dilations 1, 2, 4, 8; kernel 3): step $t$ of each layer sees steps
#   $\le t$ only, and the stack sees 31 steps.
#   Convolutions train in parallel over time, where an LSTM steps through it.
# - **The EMA target.** Seed 004 trained on an exponentially smoothed forward return,
#   $s_t = \alpha r_t + (1 - \alpha) s_{t-1}$. Chapter 4's audit showed that $s_t$ mixes the
#   forward returns of *earlier* rows, part of which is already known at $t$. A model trained
#   on it may look skilful on the smoothed target; only its skill on the *raw* forward return
#   counts. Here two DeepLOB regressors (Huber loss on standardised targets, with the training
#   rows' mean and standard deviation), one trained on the raw return and one on its EMA, are
#   both scored on the raw return.
# - **Multi-task** (seed 004): one shared front end, a 10-second and a 60-second head; the long
#   branch queries the short branch's sequence through cross-attention
#   {cite}`vaswani2017attention`, a learned gate mixes the two, and the loss weights both heads 0.5.
# - **The future best quotes** (seed 002): a small LSTM forecasts the change of the best bid,
#   the best ask and the mid over 10 seconds, against persistence (no change).

# %%
var_segments = [s for s in VARIANT_SEGMENTS if s in tasks and VARIANTS]
reg_cfg = dataclasses.replace(train_cfg, class_weight="none")
holdout = ev.HoldoutConfig(fractions=tuple(FRACTIONS))
for seg_name in var_segments:
    lob = tasks[seg_name].lob
    ckpt = ckpt_root / seg_name

    if "deeplob_tcn" in VARIANTS:
        wt = tasks[seg_name]
        key = study.run_key("tcn", seg_name, GRID, T, h_lab, THREE_CLASS_K, PRICES, SIZES,
                            TRAIN_STRIDE, FRACTIONS, train_cfg)  # fmt: skip
        fit = study.fit_windows(
            builders["deeplob_tcn"], lob.lob, wt.targets[h_lab], wt.train_ends, wt.val_ends,
            wt.test_ends, T=T, task="classification", config=train_cfg,
            normalizer=wt.normalizer(prices=PRICES, sizes=SIZES), train_stride=TRAIN_STRIDE,
            checkpoint_dir=ckpt / f"deeplob_tcn-{key}",
        )  # fmt: skip
        record("deeplob_tcn", wt, fit, scope="variant")
        base_preds = {
            m: predictions[(m, seg_name)].y_pred for m in MODELS if (m, seg_name) in predictions
        }
        results.append(
            study.score(wt, {"deeplob_tcn": fit.y_pred, **base_preds}, n_boot=N_BOOT,
                        min_block_rows=MIN_BLOCK_ROWS, seed=SEED).query("model == 'deeplob_tcn'")
        )  # fmt: skip

    if "ema" in VARIANTS:
        wr = study.make_window_task(lob, (HORIZON,), "return", T=T, holdout=holdout)
        norm = wr.normalizer(prices=PRICES, sizes=SIZES)
        reg_preds = {}
        for label, alpha in (("deeplob_raw", None), ("deeplob_ema", EMA_ALPHA)):
            cfg = dataclasses.replace(reg_cfg, ema_alpha=alpha)
            key = study.run_key(label, seg_name, GRID, T, h_lab, PRICES, SIZES, TRAIN_STRIDE,
                                FRACTIONS, cfg)  # fmt: skip
            fit = study.fit_windows(
                lambda: dl.build_deeplob(T=T, n_features=4 * LEVELS, task="regression"),
                lob.lob, wr.targets[h_lab], wr.train_ends, wr.val_ends, wr.test_ends, T=T,
                task="regression", config=cfg, normalizer=norm, train_stride=TRAIN_STRIDE,
                checkpoint_dir=ckpt / f"{label}-{key}",
            )  # fmt: skip
            assert np.array_equal(fit.y_true, wr.y_test())  # scored on the raw return
            record(label, wr, fit, scope="variant")
            reg_preds[label] = fit.y_pred
        reg_preds.update(study.fit_classical(wr, CLASSICAL, seed=SEED))
        results.append(
            study.score(wr, reg_preds, n_boot=N_BOOT, min_block_rows=MIN_BLOCK_ROWS, seed=SEED)
        )

    if "multitask" in VARIANTS:
        try:
            wm = study.make_window_task(
                lob, (HORIZON, LONG_HORIZON), "return", T=T, holdout=holdout
            )
        except ValueError as err:
            say(f"The multi-task model is skipped on {seg_name}: {err}")
        else:
            key = study.run_key("multitask", seg_name, GRID, T, h_lab, h_long, PRICES, SIZES,
                                TRAIN_STRIDE, FRACTIONS, reg_cfg)  # fmt: skip
            fit = study.fit_windows(
                lambda: dl.build_multitask(T=T, n_features=4 * LEVELS, task="regression",
                                           horizons=(h_lab, h_long)),
                lob.lob, {h_lab: wm.targets[h_lab], h_long: wm.targets[h_long]}, wm.train_ends,
                wm.val_ends, wm.test_ends, T=T, task="regression", config=reg_cfg,
                normalizer=wm.normalizer(prices=PRICES, sizes=SIZES), train_stride=TRAIN_STRIDE,
                checkpoint_dir=ckpt / f"multitask-{key}",
            )  # fmt: skip
            record("multitask", wm, fit, scope="variant")
            for lab in (h_lab, h_long):
                w_h = wm.for_horizon(lab)
                results.append(
                    study.score(w_h, {"multitask": fit.y_pred[lab]}, n_boot=N_BOOT,
                                min_block_rows=MIN_BLOCK_ROWS, seed=SEED, target="return")
                )  # fmt: skip

    if "l1_lstm" in VARIANTS:
        wl = study.make_window_task(lob, (HORIZON,), "l1", T=T, holdout=holdout)
        key = study.run_key("l1_lstm", seg_name, GRID, T, h_lab, PRICES, SIZES, TRAIN_STRIDE,
                            FRACTIONS, reg_cfg)  # fmt: skip
        fit = study.fit_windows(
            lambda: dl.build_l1_lstm(T=T, n_features=4 * LEVELS, n_outputs=3),
            lob.lob, wl.targets[h_lab], wl.train_ends, wl.val_ends, wl.test_ends, T=T,
            task="regression", config=reg_cfg,
            normalizer=wl.normalizer(prices=PRICES, sizes=SIZES), train_stride=TRAIN_STRIDE,
            checkpoint_dir=ckpt / f"l1_lstm-{key}",
        )  # fmt: skip
        record("l1_lstm", wl, fit, scope="variant")
        for j, quote in enumerate(("bid", "ask", "mid")):
            yj = wl.y[:, j]
            base = study.baselines(wl, y=yj, seed=SEED)
            base = {"persistence": base["zero"], "last_change": base["last_return"]}
            preds = {
                "l1_lstm": fit.y_pred[:, j],
                **study.fit_classical(wl, ["xgboost"], SEED, y=yj),
            }
            results.append(
                study.score(wl, preds, y_true=yj[wl.split.test], base=base, target=quote,
                            n_boot=N_BOOT, min_block_rows=MIN_BLOCK_ROWS, seed=SEED)
            )  # fmt: skip

table = pd.concat(results, ignore_index=True)
history = pd.concat(histories, ignore_index=True)
variants = table[(table["segment"].isin(var_segments)) & (table["target"] != "three_class")]
variants[variants["metric"].isin(["r2_oos", "mse"])][
    ["segment", "target", "horizon", "model", "role", "metric", "value", "ci_low", "ci_high",
     "baseline", "beats_baseline"]
].round(3)  # fmt: skip

# %%
if len(variants):
    plots_models.diff_ci(
        variants[variants["target"] == "return"],
        "r2_oos",
        "return",
        title="forward return: r²_oos minus the best baseline's (zero or last return), 95% ci",
    ).show()

# %%
seg_v = var_segments[0] if var_segments else None
pick = (table["segment"] == seg_v) & (table["target"] == "return") & (table["horizon"] == h_lab)
pick &= table["model"].isin(["deeplob_raw", "deeplob_ema"])
ema_rows = table[pick & (table["metric"] == "r2_oos")]
if len(ema_rows):
    r = ema_rows.set_index("model")
    raw_r2, ema_r2 = r.loc["deeplob_raw"], r.loc["deeplob_ema"]
    corr = table[pick & (table["metric"] == "pearson")].set_index("model")
    fit_raw = predictions[("deeplob_raw", seg_v)]
    spread = {
        m: float(np.std(predictions[(m, seg_v)].y_pred)) for m in ("deeplob_raw", "deeplob_ema")
    }
    sd_y = float(np.std(fit_raw.y_true))
    say(
        f"On {seg_v}, the raw {h_lab} return has a standard deviation of {sd_y:.2f} bps on the "
        f"test block; the forecasts of the two regressors vary by {spread['deeplob_raw']:.2f} and "
        f"{spread['deeplob_ema']:.2f} bps. "
        + (
            "Both stay close to a constant: the networks have settled on forecasting almost "
            "no move, the safest answer under the Huber loss when they find no usable signal. "
            if max(spread.values()) < 0.1 * sd_y
            else ""
        )
    )
    say(
        f"Scored on the **raw** {h_lab} return, the DeepLOB trained on the raw return has "
        f"$R^2_{{oos}}$ = {fmt_ci(raw_r2.value, raw_r2.ci_low, raw_r2.ci_high)} and the one "
        f"trained on the EMA ($\\alpha$ = {EMA_ALPHA}) has "
        f"{fmt_ci(ema_r2.value, ema_r2.ci_low, ema_r2.ci_high)}; their correlations with the "
        f"raw return are {corr.loc['deeplob_raw', 'value']:.3f} and "
        f"{corr.loc['deeplob_ema', 'value']:.3f}. "
        + (
            "Neither beats the zero forecast beyond the interval. "
            if not ema_rows["beats_baseline"].fillna(False).astype(bool).any()
            else "At least one beats the zero forecast beyond the interval; with this little "
            "data, a longer test should confirm it first. "
        )
        + "Whatever skill a model shows on the smoothed target itself is partly the past "
        "returns that the EMA mixes in (chapter 4), which is why the book never scores it there."
    )

# %%
l1_mse = table[table["target"].isin(["bid", "ask", "mid"]) & (table["metric"] == "mse")
               & (table["role"] == "model")]  # fmt: skip
if len(l1_mse):
    lstm = l1_mse[l1_mse["model"] == "l1_lstm"]
    say(
        "For the future best quotes, the LSTM's mean squared error is "
        + ", ".join(
            f"{r.target} {r.value:.2f} bps² (persistence {r.baseline_value:.2f})"
            if r.baseline == "persistence"
            else f"{r.target} {r.value:.2f} bps² (best baseline {r.baseline}, {r.baseline_value:.2f})"
            for r in lstm.itertuples()
        )  # fmt: skip
        + f". It beats its best baseline beyond the interval on "
        f"{int(lstm['beats_baseline'].fillna(False).astype(bool).sum())} of {len(lstm)} quotes, "
        f"and XGBoost on {int(l1_mse[l1_mse['model'] == 'xgboost']['beats_baseline'].fillna(False).astype(bool).sum())}."
    )

# %% [markdown]
# ## 7. How much data would it take?
#
# The speed of training decides how far this can be pushed on one machine. First the pure
# training speed of DeepLOB at this chapter's window length and batch size, on random inputs
# (`deeplob.measure_throughput`: a few warm-up steps, then timed steps, no data loading); then
# the speed of each run above, whose seconds also include building the graph, reading the
# windows and scoring the validation block.

# %%
speed = dl.measure_throughput(
    builders["deeplob"](), batch_size=BATCH_SIZE, steps=THROUGHPUT_STEPS, config=train_cfg
)
rate = float(speed["samples_per_s"])
tp = pd.DataFrame(throughput)
print(f"deeplob, T={T}, batch {BATCH_SIZE}: {rate:,.0f} training windows per second "
      f"({speed['backend']}, {'GPU' if gpu else 'CPU'})")  # fmt: skip
tp.round(2)

# %%
n_train_windows = {s: len(wt.split.train) for s, wt in tasks.items()}
median_fit = float(np.median([-(-n // TRAIN_STRIDE) for n in n_train_windows.values()]))
ratio = n_params / median_fit
indep_train = float(np.median([len(wt.split.train) / wt.horizon_rows for wt in tasks.values()]))
seed004 = 25_000_000
hours = seed004 / rate / 3600 if np.isfinite(rate) and rate > 0 else float("nan")
n_deep_runs = len(one_class)
say(
    f"**The verdict.** DeepLOB has {n_params:,} parameters. A market's training block here "
    f"holds a median of {int(np.median(list(n_train_windows.values()))):,} windows "
    f"({median_fit:,.0f} after thinning) and about **{indep_train:.0f} non-overlapping "
    f"{h_lab} targets**: {ratio:,.0f} parameters per training window, and "
    f"{n_params / max(indep_train, 1):,.0f} per independent label. **Minutes of data are far "
    f"too little for a model of this size.** Here, {n_beat_deep} of {len(deep)} per-market "
    f"deep classifiers beat a naive baseline beyond the interval, {n_collapsed} of "
    f"{n_deep_runs} fell back on a single class, and the best validation loss of "
    f"{len(improved)} of {len(best)} runs got more than 0.01 below that of a model that knows "
    "nothing. This chapter does not show that DeepLOB fails on crypto books; it shows that "
    "this data cannot test it.\n\n"
    f"The paper trained on about seven days of FI-2010 events, and seed 004 on 25 million "
    f"samples. At the {rate:,.0f} windows per second measured here "
    f"({keras.backend.backend()} on {'a GPU' if gpu else 'the CPU'}), one epoch over 25 "
    f"million windows would take about **{hours:,.1f} hours**. That scale needs days of "
    "recordings (chapter 1's recorder, the archive readers), a GPU and the memory-mapped "
    "windows of section 1, not a larger model."
)

# %% [markdown]
# ## 8. Outputs

# %%
table.to_csv(out_dir / "results.csv", index=False)
history.to_csv(out_dir / "histories.csv", index=False)
splits.to_csv(out_dir / "splits.csv", index=False)
tp.to_csv(out_dir / "throughput.csv", index=False)
signals = (
    pd.concat(signal_parts, ignore_index=True)
    if signal_parts
    else pd.DataFrame(columns=list(study.SIGNAL_COLUMNS))
)
signals.to_parquet(out_dir / "signals.parquet", index=False)
head = view[view["role"] == "model"]
metrics = {
    "parameters": {
        "grid": GRID, "levels": LEVELS, "T": T, "horizon_s": HORIZON, "epochs": EPOCHS,
        "batch_size": BATCH_SIZE, "train_stride": TRAIN_STRIDE, "models": MODELS,
        "prices": PRICES, "sizes": SIZES, "backend": keras.backend.backend(), "gpu": gpu,
    },
    "deeplob_parameters": n_params,
    "deeplob_reference_parameters": dl.DEEPLOB_KERAS_PARAMS,
    "segments": splits.set_index("segment")[
        ["n_train", "n_val", "n_test", "n_test_independent"]
    ].to_dict("index"),
    "skipped": task_skipped,
    "balanced_accuracy": head[["segment", "model", "value", "ci_low", "ci_high", "baseline",
                               "baseline_value", "beats_baseline"]],
    "n_deep_beat_baseline": n_beat_deep,
    "n_deep_comparisons": len(deep),
    "n_classical_beat_baseline": n_beat_classic,
    "n_classical_comparisons": len(classic),
    "n_deep_single_class": n_collapsed,
    "parameters_per_training_window": ratio,
    "training_samples_per_s": rate,
    "hours_per_epoch_at_25M_windows": hours,
    "signals": {"rows": len(signals), "models": sorted(signals["model"].unique()),
                "segments": sorted(signals["segment"].unique())},
}  # fmt: skip
written = paths.write_metrics(out_dir, metrics)
sorted(written)

# %% [markdown]
# ## Key takeaways
#
# - DeepLOB is a small stack of ideas: convolutions that pair price with size and bid with ask,
#   an Inception module over time, and an LSTM; 142,435 parameters in the authors' Keras
#   layout, half of them in the LSTM.
# - Windows are views, not copies: a `PyDataset` over one `(N, 40)` array (or a memory map)
#   serves any number of windows, and normalisation statistics come from the training rows
#   only, per group of prices and sizes. Price levels are best expressed relative to the
#   window's mid.
# - The deep models go through the same protocol as the classical ones: the same purged split,
#   baselines, intervals and test rows. Without that, a deep model's accuracy is a number
#   without a reference.
# - A target smoothed over past rows (the EMA) may be a training device; the score is always
#   on the raw forward return.
# - Minutes of data cannot train or test a model with 142,000 parameters: the learning curves
#   memorise, the predictions collapse to one class, and the intervals are wide. Days of data
#   and a GPU are the way forward, and the code here scales to them unchanged.

# %% [markdown]
# ## Exercises
#
# 1. Train DeepLOB with `PRICES = "zscore"` (raw price levels, as in the paper) on one market.
#    Where does the test block's mid sit relative to the training block's range of prices?
# 2. Set `TRAIN_STRIDE = 1`. How much longer does an epoch take, and do the learning curves or
#    the test scores change?
# 3. Build DeepLOB on the FI-2010 benchmark with `lobutils.models.fi2010` (download the data
#    first) and train it in the paper's setup for a few epochs.
# 4. Run the chapter with `T = 50` and `HORIZON = 5`. Which counts in the verdict change, and
#    by how much?

# %% [markdown]
# ````{admonition} Solution 1
# :class: dropdown
# ```python
# wt = next(iter(tasks.values()))
# mid = 0.5 * (wt.lob.lob[:, 0] + wt.lob.lob[:, 2])
# lo, hi = mid[wt.train_ends].min(), mid[wt.train_ends].max()
# test_mid = mid[wt.test_ends]
# print(f"train mid range {lo:.2f} to {hi:.2f}; test rows outside it: "
#       f"{np.mean((test_mid < lo) | (test_mid > hi)):.0%}")
# ```
# With z-scored levels, a test row outside the training range looks to the network like an
# input it has never seen, far out in the tails of the first layer's inputs. Relative prices
# avoid that by construction.
# ````
#
# ````{admonition} Solution 2
# :class: dropdown
# Run the chapter with `python -m lobutils.runner.chapters --only 07 --params-file my.yaml`, with
# `chapters: {07_deeplob: {parameters: {TRAIN_STRIDE: 1}}}` in `my.yaml`, and compare
# `throughput.csv` and `results.csv` with the default run. An epoch takes about `TRAIN_STRIDE`
# times longer. Neighbouring windows differ by one row out of `T`, so the extra windows add
# little new information, and the intervals stay as wide: they are limited by the number of
# independent *test* targets, which thinning the training windows does not touch.
# ````
#
# ````{admonition} Solution 3
# :class: dropdown
# ```python
# from lobutils.models import fi2010
# from lobutils.models.windows import WindowDataset, window_ends
#
# s = fi2010.load_deeplob_setup("path/to/FI-2010", normalisation="DecPre")
# T_fi, h = 100, 10
# def ends(part):
#     return window_ends(np.ones(len(part), bool), T_fi, blocks=part.blocks)
# tr, va = ends(s.train), ends(s.val)
# train = WindowDataset(s.train.X, tr, T=T_fi, y=s.train.y(h)[tr], batch_size=64, shuffle=True)
# val = WindowDataset(s.val.X, va, T=T_fi, y=s.val.y(h)[va], batch_size=64)
# res = dl.train_model(lambda: dl.build_deeplob(), train, val, "classification",
#                      dl.TrainConfig(epochs=5, learning_rate=0.01, adam_epsilon=1.0))
# te = ends(s.test)
# pred = dl.predict(res.model, WindowDataset(s.test.X, te, T=T_fi, batch_size=256)).argmax(1)
# print(ev.classification_metrics(s.test.y(h)[te], pred))
# ```
# FI-2010 is already normalised (DecPre divides prices by a constant), so no `Normalizer` is
# needed. The test windows stay inside their day (`blocks`).
# ````
#
# ````{admonition} Solution 4
# :class: dropdown
# Shorter windows and horizons give more rows per market (fewer are lost at the edges and to
# the purge) and more non-overlapping test targets (about twice as many at 5 s as at 10 s). The
# number of parameters barely changes (only the LSTM's input sequence gets shorter, not its
# size), so the parameters per independent label halve at best: still thousands.
# ````

# %% [markdown]
# ## References
#
# - Bai, Kolter & Koltun (2018), *An empirical evaluation of generic convolutional and
#   recurrent networks for sequence modeling* (TCN) {cite}`bai2018empirical`.
# - Hochreiter & Schmidhuber (1997), *Long short-term memory* {cite}`hochreiter1997long`.
# - Ntakaris et al. (2018), *Benchmark dataset for mid-price forecasting of limit order book
#   data with machine learning methods* {cite}`ntakaris2018benchmark`.
# - Politis & Romano (1992), *A circular block-resampling procedure for stationary data*
#   {cite}`politis1992circular`.
# - Szegedy et al. (2015), *Going deeper with convolutions* (Inception) {cite}`szegedy2015going`.
# - Vaswani et al. (2017), *Attention is all you need* {cite}`vaswani2017attention`.
# - Zhang, Zohren & Roberts (2019), *DeepLOB: deep convolutional neural networks for limit
#   order books* {cite}`zhang2019deeplob`.
#
# The full list is on the {doc}`/references` page.
