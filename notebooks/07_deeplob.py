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
EMA_ALPHA = 0.2  # smoothing weight of the EMA training target
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
from lobutils.models import runs, study, training  # noqa: E402
from lobutils.models.windows import lob_columns  # noqa: E402

# %%
out_dir = report_dir("07_deeplob", REPORT_DIR)
ckpt_root = out_dir / "checkpoints" if CHECKPOINT_DIR is None else Path(CHECKPOINT_DIR)
chosen = segments(DATA_DIR) if SEGMENTS is None else [segment(n, DATA_DIR) for n in SEGMENTS]
gpu = training.has_gpu()
if gpu:
    keras.mixed_precision.set_global_policy("mixed_float16")  # the heads stay float32
keras.utils.set_random_seed(SEED)
print(
    f"Keras {keras.__version__}, backend {keras.backend.backend()}, "
    f"{'GPU (mixed precision)' if gpu else 'CPU'}; {len(chosen)} segment(s)"
)

# %% [markdown]
# Every run below shares one set of settings (a frozen `runs.RunSettings`) and one training
# configuration, and leaves its learning curve, speed and predictions in one `runs.RunLog`.

# %%
settings = runs.RunSettings(
    grid=GRID, levels=LEVELS, T=T, horizon_s=HORIZON, long_horizon_s=LONG_HORIZON,
    k=THREE_CLASS_K, prices=PRICES, sizes=SIZES, train_stride=TRAIN_STRIDE, fractions=FRACTIONS,
    ema_alpha=EMA_ALPHA, classical=CLASSICAL, n_boot=N_BOOT, min_block_rows=MIN_BLOCK_ROWS,
    seed=SEED,
)  # fmt: skip
train_cfg = training.TrainConfig(
    epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
    early_stopping_patience=PATIENCE, reduce_lr_patience=max(1, PATIENCE - 1),
    class_weight="balanced", seed=SEED,
)  # fmt: skip
h_lab = settings.h_lab
log = runs.RunLog()

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
# the data: 100 times here, 400 GB for 25 million rows (a few weeks of one busy market). The
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
lobs, load_skipped = runs.load_lobs(chosen, settings)
runs.lob_overview(lobs)

# %% [markdown]
# The tasks below keep the rows that have a complete book over their whole window, a finite
# target and finite chapter 6 features (the classical models need them), and split them by
# time. A window never spans a gap in the book, and never spans the boundary between the
# training, validation and test blocks: the first $T - 1$ rows of each block only feed windows
# as history, never as targets of another block.

# %%
tasks, task_skipped = runs.make_tasks(lobs, settings)
task_skipped = {**load_skipped, **task_skipped}
splits = runs.split_view(tasks)
splits

# %% tags=["remove-input"]
if task_skipped:
    say("Skipped, with the reason: " + "; ".join(f"**{k}**: {v}" for k, v in task_skipped.items()))

# %%
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

# %% tags=["remove-input"]
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
# Two smaller relatives run alongside. The **CNN** is two 1-D convolutions over time with all
# 40 columns as channels, global average pooling and a softmax: a few thousand parameters.
# Section 6 adds a **TCN** version of DeepLOB (causal dilated convolutions in place of the
# LSTM), a **multi-task** model with a 10-second and a 60-second head, and a small **LSTM for
# the future best quotes**.

# %%
builders = runs.builders(settings)
sizes = pd.Series({name: b().count_params() for name, b in builders.items()}, name="parameters")
sizes.to_frame()

# %% [markdown]
# ## 3. Training, market by market
#
# Each market gets its own models (section 5 asks whether one model pooled over the markets
# does better). The training choices:
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
speeds = runs.train_markets(tasks, MODELS, settings, train_cfg, log, ckpt_root)
cols = ["model", "segment", "epochs", "seconds", "samples_per_s", "stopped_early"]
speeds[cols].round({"seconds": 1, "samples_per_s": 0}).astype({"samples_per_s": "Int64"})

# %%
history = log.history()
pdeep.learning_curves(
    history[history["scope"] == "own"],
    title="learning curves per market: validation (solid) and training (dashed) loss",
).show()

# %%
ls = runs.learning_summary(history[history["scope"] == "own"])
n_fit = int(np.median([-(-len(wt.split.train) // TRAIN_STRIDE) for wt in tasks.values()]))
n_stopped = int(speeds["stopped_early"].sum())

# %% tags=["remove-input"]
say(
    f"A classifier that has learned nothing scores a cross-entropy of $\\ln 3 \\approx "
    f"{ls['chance']:.3f}$ on balanced classes. The best validation loss of the {ls['runs']} runs "
    f"ranges from {ls['best_min']:.3f} to {ls['best_max']:.3f}, and {ls['improved']} of them get "
    f"below {ls['chance'] - 0.01:.2f}. Each run saw a median of {n_fit:,} (thinned) training "
    f"windows per epoch; {n_stopped} of {len(speeds)} runs stopped early. "
    + (f"In {ls['overfit']} of {ls['runs']} runs the training loss ends below the validation "
       "loss: the network fits its own training block better than the next minutes, and early "
       "stopping keeps the epoch with the best validation loss."
       if ls["overfit"] > ls["runs"] / 2
       else f"The training loss ends below the validation loss in only {ls['overfit']} of "
       f"{ls['runs']} runs: in {EPOCHS} epoch(s) the networks have moved little from where "
       "they started.")
)  # fmt: skip

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
#
# The table gives each model's balanced accuracy on the test block with its 95% interval; a
# star marks a model that beats the best baseline (named in the last column). Every metric of
# every model is in `results.csv`.

# %%
table = runs.score_markets(tasks, MODELS, settings, log)
study.ci_pivot(table, "balanced_accuracy")

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
ba = table[(table["metric"] == "balanced_accuracy") & (table["role"] == "model")]
deep, classic = ba[ba["model"].isin(MODELS)], ba[ba["model"].isin(CLASSICAL)]
n_beat_deep = int(deep["beats_baseline"].fillna(False).astype(bool).sum())
n_beat_classic = int(classic["beats_baseline"].fillna(False).astype(bool).sum())
n_collapsed = runs.single_class_runs(log, MODELS, list(tasks))
n_deep_runs = len(MODELS) * len(tasks)
indep = splits["independent test targets"]

# %% tags=["remove-input"]
say(
    f"On balanced accuracy (chance 1/3), **{n_beat_deep} of {len(deep)}** deep "
    f"(model, market) pairs and **{n_beat_classic} of {len(classic)}** classical ones beat "
    f"their best naive baseline beyond the 95% interval. The deep models' point values run "
    f"from {deep['value'].min():.2f} to {deep['value'].max():.2f}, and their intervals are "
    f"{float((deep['ci_high'] - deep['ci_low']).median()):.2f} wide at the median: the test "
    f"blocks hold only {indep.min():.1f} to {indep.max():.1f} non-overlapping {h_lab} targets "
    "per market, so two models would have to differ by a great deal before this data could "
    f"tell them apart. **{n_collapsed} of {n_deep_runs}** deep classifiers predict a single "
    "class on the whole test block (a balanced accuracy of exactly 1/3): they have fallen back "
    "on one answer rather than learned a rule."
)

# %% [markdown]
# ## 5. One model per market, or one for all?
#
# Pooling gives a model more data: every market's training windows at once, each market
# normalised with its own training statistics (a BTC price and an ETH price, or a size in BTC
# and a size in contracts, are not on the same scale). Here the pooled DeepLOB is scored on
# each market's test block, next to that market's own model.

# %%
if POOLED and len(tasks) > 1:
    pooled, n_pool_train = runs.train_pooled(tasks, settings, train_cfg, log, ckpt_root)
    pv = pooled[pooled["metric"] == "balanced_accuracy"]
    pdeep.metric_by_segment(
        pv,
        reference=1 / 3,
        ylabel="balanced accuracy",
        title="deeplob per market (its own model) and pooled over markets, 95% ci",
    ).show()
else:
    pooled, pv = pd.DataFrame(), pd.DataFrame()
    print("pooling needs POOLED = True and at least two segments")

# %% tags=["remove-input"]
if len(pv) and "deeplob" in MODELS:
    wide = pv.pivot_table(index="segment", columns="model", values="value")
    better = int((wide["deeplob_pooled"] > wide["deeplob"]).sum())
    n_pool_beat = pv[pv["model"] == "deeplob_pooled"]["beats_baseline"].fillna(False).sum()
    say(
        f"The pooled model trained on {n_pool_train:,} windows (before thinning), "
        f"{n_pool_train / max(1, len(tasks)):,.0f} per market on average. Its balanced "
        f"accuracy is higher than the market's own model on {better} of {len(wide)} markets, "
        f"by {float((wide['deeplob_pooled'] - wide['deeplob']).mean()):+.3f} on average; "
        f"{int(n_pool_beat)} of its per-market scores beat the best baseline beyond the "
        "interval. With intervals this wide, neither the claim that per-market models are "
        "better nor its opposite can be confirmed here."
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
# - **The EMA target.** A model can be trained on an exponentially smoothed forward return,
#   $s_t = \alpha r_t + (1 - \alpha) s_{t-1}$. Chapter 4's audit showed that $s_t$ mixes the
#   forward returns of *earlier* rows, part of which is already known at $t$. A model trained
#   on it may look skilful on the smoothed target; only its skill on the *raw* forward return
#   counts. Here two DeepLOB regressors (Huber loss on standardised targets, with the training
#   rows' mean and standard deviation), one trained on the raw return and one on its EMA, are
#   both scored on the raw return.
# - **Multi-task**: one shared front end, a 10-second and a 60-second head; the long
#   branch queries the short branch's sequence through cross-attention
#   {cite}`vaswani2017attention`, a learned gate mixes the two, and the loss weights both heads 0.5.
# - **The future best quotes**: a small LSTM forecasts the change of the best bid, the best ask
#   and the mid over 10 seconds, against persistence (no change).
#
# `runs.run_variants` trains each of them with the same settings and returns one tidy table;
# the one below shows the out-of-sample $R^2$ of every regression, per target (the return, or
# the change of the bid, ask or mid) and horizon.

# %%
var_segments = [s for s in VARIANT_SEGMENTS if s in tasks] if VARIANTS else []
variants = runs.run_variants(tasks, var_segments, VARIANTS, settings, train_cfg, log, ckpt_root)

# %%
keys = ["segment", "target", "horizon", "model"]
r2_view = study.ci_pivot(variants, "r2_oos", index=keys, by_model=False) if len(variants) else None
r2_view

# %% tags=["remove-input"]
tcn = variants[variants["model"] == "deeplob_tcn"] if len(variants) else variants
if len(tcn):
    t = tcn[tcn["metric"] == "balanced_accuracy"].iloc[0]
    say(f"DeepLOB-TCN's balanced accuracy on {t.segment} is "
        f"{fmt_ci(t.value, t.ci_low, t.ci_high)} (best baseline {t.baseline}, "
        f"{t.baseline_value:.3f}).")  # fmt: skip
if log.skipped:
    say("Not run: " + "; ".join(f"**{k}**: {v}" for k, v in log.skipped.items()))

# %%
if len(variants):
    plots_models.diff_ci(
        variants[variants["target"] == "return"],
        "r2_oos",
        "return",
        title="forward return: r²_oos minus the best baseline's (zero or last return), 95% ci",
    ).show()

# %% tags=["remove-input"]
seg_v = var_segments[0] if var_segments else None
ema = runs.ema_comparison(variants, log, seg_v, h_lab) if "ema" in VARIANTS and seg_v else None
if ema:
    say(
        f"On {seg_v}, the raw {h_lab} return has a standard deviation of {ema['sd_y']:.2f} bps "
        f"on the test block; the forecasts of the two regressors vary by {ema['sd_raw']:.2f} and "
        f"{ema['sd_ema']:.2f} bps. "
        + ("Both stay close to a constant: the networks have settled on forecasting almost "
           "no move, the safest answer under the Huber loss when they find no usable signal."
           if max(ema["sd_raw"], ema["sd_ema"]) < 0.1 * ema["sd_y"] else "")
    )  # fmt: skip

# %% tags=["remove-input"]
if ema:
    say(
        f"Scored on the **raw** {h_lab} return, the DeepLOB trained on the raw return has "
        f"$R^2_{{oos}}$ = {ema['r2_raw']} and the one trained on the EMA ($\\alpha$ = "
        f"{EMA_ALPHA}) has {ema['r2_ema']}; their correlations with the raw return are "
        f"{ema['corr_raw']:.3f} and {ema['corr_ema']:.3f}. "
        + ("At least one beats the zero forecast beyond the interval; with this little data, a "
           "longer test should confirm it first. " if ema["beats"]
           else "Neither beats the zero forecast beyond the interval. ")
        + "Whatever skill a model shows on the smoothed target itself is partly the past "
        "returns that the EMA mixes in (chapter 4), which is why the book never scores it there."
    )  # fmt: skip

# %% tags=["remove-input"]
l1 = variants[variants["target"].isin(["bid", "ask", "mid"])] if len(variants) else variants
l1 = l1[(l1["metric"] == "mse") & (l1["role"] == "model")] if len(l1) else l1
if len(l1):
    lstm, xgb = l1[l1["model"] == "l1_lstm"], l1[l1["model"] == "xgboost"]
    say(
        "For the future best quotes, the LSTM's mean squared error is "
        + ", ".join(f"{r.target} {r.value:.2f} bps² (best baseline {r.baseline}, "
                    f"{r.baseline_value:.2f})" for r in lstm.itertuples())
        + f". It beats its best baseline beyond the interval on "
        f"{int(lstm['beats_baseline'].fillna(False).sum())} of {len(lstm)} quotes, and XGBoost "
        f"on {int(xgb['beats_baseline'].fillna(False).sum())}."
    )  # fmt: skip

# %% [markdown]
# ## 7. How much data would it take?
#
# The speed of training decides how far this can be pushed on one machine. First the pure
# training speed of DeepLOB at this chapter's window length and batch size, on random inputs
# (`training.measure_throughput`: a few warm-up steps, then timed steps, no data loading); then
# the speed of each run above, whose seconds also include building the graph, reading the
# windows and scoring the validation block.

# %%
speed = training.measure_throughput(
    builders["deeplob"](), batch_size=BATCH_SIZE, steps=THROUGHPUT_STEPS, config=train_cfg
)
rate = float(speed["samples_per_s"])
print(f"deeplob, T={T}, batch {BATCH_SIZE}: {rate:,.0f} training windows per second "
      f"({speed['backend']}, {'GPU' if gpu else 'CPU'})")  # fmt: skip

# %%
tp = log.throughput()
cols = ["model", "segment", "scope", "epochs", "seconds", "samples_per_s"]
tp[cols].round({"seconds": 1, "samples_per_s": 0}).astype({"samples_per_s": "Int64"})

# %%
budget = runs.data_budget(tasks, n_params, TRAIN_STRIDE)
big = 25_000_000  # windows in a multi-week training set of one busy market
hours = big / rate / 3600 if np.isfinite(rate) and rate > 0 else float("nan")

# %% tags=["remove-input"]
say(
    f"**The verdict.** DeepLOB has {n_params:,} parameters. A market's training block here "
    f"holds a median of {budget['train_windows']:,.0f} windows "
    f"({budget['train_windows_thinned']:,.0f} after thinning) and about "
    f"**{budget['independent_targets']:.0f} non-overlapping {h_lab} targets**: "
    f"{budget['params_per_window']:,.0f} parameters per training window, and "
    f"{budget['params_per_label']:,.0f} per independent label. **Minutes of data are far too "
    f"little for a model of this size.** Here, {n_beat_deep} of {len(deep)} per-market deep "
    f"classifiers beat a naive baseline beyond the interval, {n_collapsed} of {n_deep_runs} "
    f"fell back on a single class, and the best validation loss of {ls['improved']} of "
    f"{ls['runs']} runs got more than 0.01 below that of a model that knows nothing. This "
    "chapter does not show that DeepLOB fails on crypto books; it shows that this data cannot "
    "test it."
)

# %% tags=["remove-input"]
say(
    f"The paper trained on about seven days of FI-2010 events. A training set of 25 million "
    f"windows, a few weeks of one busy market, would take about **{hours:,.1f} hours** per "
    f"epoch at the {rate:,.0f} windows per second measured here ({keras.backend.backend()} on "
    f"{'a GPU' if gpu else 'the CPU'}). That scale needs days of recordings (chapter 1's "
    "recorder, the archive readers), a GPU and the memory-mapped windows of section 1, not a "
    "larger model."
)

# %% [markdown]
# ## 8. Outputs

# %%
results = pd.concat([table, variants, pooled[pooled["model"] == "deeplob_pooled"]]
                    if len(pooled) else [table, variants], ignore_index=True)  # fmt: skip
signals, split_rows = log.signals_table(), pd.DataFrame([wt.summary() for wt in tasks.values()])
results.to_csv(out_dir / "results.csv", index=False)
log.history().to_csv(out_dir / "histories.csv", index=False)
split_rows.to_csv(out_dir / "splits.csv", index=False)
tp.to_csv(out_dir / "throughput.csv", index=False)
signals.to_parquet(out_dir / "signals.parquet", index=False)

# %%
run_params = {
    "grid": GRID, "levels": LEVELS, "T": T, "horizon_s": HORIZON, "epochs": EPOCHS,
    "batch_size": BATCH_SIZE, "train_stride": TRAIN_STRIDE, "models": MODELS, "prices": PRICES,
    "sizes": SIZES, "backend": keras.backend.backend(), "gpu": gpu,
}  # fmt: skip

# %%
metrics = {
    "parameters": run_params,
    "deeplob_parameters": n_params, "deeplob_reference_parameters": dl.DEEPLOB_KERAS_PARAMS,
    "segments": split_rows.set_index("segment")[["n_train", "n_val", "n_test",
                                                 "n_test_independent"]].to_dict("index"),
    "skipped": {**task_skipped, **log.skipped},
    "balanced_accuracy": ba[["segment", "model", "value", "ci_low", "ci_high", "baseline",
                             "baseline_value", "beats_baseline"]],
    "n_deep_beat_baseline": n_beat_deep, "n_deep_comparisons": len(deep),
    "n_classical_beat_baseline": n_beat_classic, "n_classical_comparisons": len(classic),
    "n_deep_single_class": n_collapsed,
    "parameters_per_training_window": budget["params_per_window"],
    "training_samples_per_s": rate, "hours_per_epoch_at_25M_windows": hours,
    "signals": {"rows": len(signals), "models": sorted(signals["model"].unique()),
                "segments": sorted(signals["segment"].unique())},
}  # fmt: skip

# %%
written = paths.write_metrics(out_dir, metrics)
print("written:", ", ".join(sorted(written)))

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
# With z-scored levels, a test row outside the training range looks to the network like an
# input it has never seen, far out in the tails of the first layer's inputs. Relative prices
# avoid that by construction. The cell below measures how often the test block's mid leaves
# the training block's range on the first market.
# ````

# %% tags=["hide-input"]
# Solution 1: the share of test rows whose mid lies outside the training block's range
mid = 0.5 * (first.lob.lob[:, 0] + first.lob.lob[:, 2])
lo, hi = mid[first.train_ends].min(), mid[first.train_ends].max()
test_mid = mid[first.test_ends]
print(f"{first.segment}: training mid from {lo:,.2f} to {hi:,.2f}; test rows outside it: "
      f"{np.mean((test_mid < lo) | (test_mid > hi)):.0%}")  # fmt: skip

# %% [markdown]
# ````{admonition} Solution 2
# :class: dropdown
# Run the chapter with `python -m lobutils.runner.chapters --only 07 --params-file my.yaml`, with
# `chapters: {07_deeplob: {parameters: {TRAIN_STRIDE: 1}}}` in `my.yaml`, and compare
# `throughput.csv` and `results.csv` with the default run. An epoch takes about `TRAIN_STRIDE`
# times longer. Neighbouring windows differ by one row out of `T`, so the extra windows add
# little new information, and the intervals stay as wide: they are limited by the number of
# independent *test* targets, which thinning the training windows does not touch. The cell
# below puts the windows per epoch, the seconds an epoch would take at the speed measured in
# section 7, and the independent test targets side by side.
# ````

# %% tags=["hide-input"]
# Solution 2: windows and seconds per epoch without thinning, against the test targets
n_train = pd.Series({name: len(wt.split.train) for name, wt in tasks.items()})
pd.DataFrame({
    f"windows, stride {TRAIN_STRIDE}": -(-n_train // TRAIN_STRIDE),
    "windows, stride 1": n_train,
    "s per epoch, stride 1": (n_train / rate).round(1),
    "independent test targets": indep,
})  # fmt: skip

# %% [markdown]
# ````{admonition} Solution 3
# :class: dropdown
# Download FI-2010, then `fi2010.load_deeplob_setup("path/to/FI-2010", normalisation="DecPre")`
# gives the paper's three parts, and `fi2010.train_deeplob` trains DeepLOB on them with the
# paper's optimizer (Adam, learning rate 0.01, epsilon 1.0). FI-2010 is already normalised
# (DecPre divides prices by a constant), so no `Normalizer` is needed, and the test windows
# stay inside their day. The cell below runs the same code on a small **synthetic** file in
# FI-2010's layout (the book does not bundle the data), so its score means nothing.
# ````

# %% tags=["hide-input"]
# Solution 3: the paper's setup end to end, on a small synthetic file in FI-2010's layout
import tempfile  # noqa: E402

from lobutils.models import fi2010  # noqa: E402

with tempfile.TemporaryDirectory() as tmp:
    fi2010.write_synthetic(tmp, n_train=max(300, 10 * T), n_test=max(80, 3 * T), seed=SEED)
    fi = fi2010.load_deeplob_setup(tmp, normalisation="DecPre")
cfg_fi = training.TrainConfig(epochs=1, learning_rate=0.01, adam_epsilon=1.0, seed=SEED)
res_fi, y_fi, p_fi = fi2010.train_deeplob(fi, T=T, config=cfg_fi)
print(f"synthetic FI-2010, T={T}: test balanced accuracy "
      f"{ev.classification_metrics(y_fi, p_fi)['balanced_accuracy']:.3f}")  # fmt: skip

# %% [markdown]
# ````{admonition} Solution 4
# :class: dropdown
# Shorter windows and horizons give more rows per market (fewer are lost at the edges and to
# the purge) and more non-overlapping test targets (about twice as many at 5 s as at 10 s). The
# number of parameters barely changes (only the LSTM's input sequence gets shorter, not its
# size), so the parameters per independent label halve at best: still thousands. The cell
# below builds the first market's task both ways.
# ````

# %% tags=["hide-input"]
# Solution 4: the first market's split with T = 50 rows and a 5 s horizon, next to this chapter's
from lobutils.models.windows import load_lob  # noqa: E402

lob5 = load_lob(segment(first.segment, DATA_DIR), grid=GRID, levels=LEVELS, horizons=(5,))
wt5 = study.make_window_task(lob5, (5,), "three_class", T=50, holdout=settings.holdout,
                             k=THREE_CLASS_K)  # fmt: skip
n50 = dl.build_deeplob(T=50, n_features=4 * LEVELS).count_params()
cmp = pd.DataFrame([first.summary(), wt5.summary()]).set_index(["T", "horizon"])
cmp["parameters per independent label"] = np.array([n_params, n50]) / (
    cmp["n_train"] / cmp["horizon_rows"]
)
cmp = cmp.round({"n_test_independent": 1, "parameters per independent label": 0})
cmp[["n_train", "n_test", "n_test_independent", "parameters per independent label"]].astype(
    {"parameters per independent label": int}
)

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
