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
# # 11. Batch studies across markets
#
# One chapter run on one market says little. The same run on every market, every horizon and
# every month says more, but only if the runs are made the same way and their results land in
# one table. This chapter turns chapter 6 into a *batch study*: a grid of parameters, expanded
# into papermill executions of the unchanged notebook, run in parallel on Dask
# {cite}`rocklin2015dask`, resumed after an interruption, and collected into one tidy table. From
# that table it compares the markets:
# spot against perpetual futures, and a model per market against one model pooled over all of
# them. It ends with the same machinery on a parquet lake, one (exchange, symbol, day)
# partition at a time, which is how the study scales to months of your own data.
#
# **Learning objectives.** After this chapter you can
#
# - write a grid file for any chapter, and predict the runs it expands to and the folder of
#   each (the parameters hash);
# - run a batch on a local Dask cluster or on a scheduler of your own, follow its progress,
#   read its failures (which cell, which error), and resume it without redoing finished runs;
# - read the collected tables: one row per (run, metric), with the run's parameters as
#   columns;
# - compare a model across spot and perpetual markets, and a per-market model against a
#   pooled one trained without looking into any market's future;
# - map reconstruction and features over the partitions of a lake, and point the whole
#   chapter at months of your own data by changing its parameters only.
#
# **Prerequisites.** Chapter 6 (the protocol, the results table and its columns), chapter 2
# (replaying a book) and chapter 1 (the recordings and the lake). No Dask experience is
# assumed.
#
# **Outputs.** The tables and figures below, and in `reports/11_batch_studies/`: `grid.yaml`
# (the study as a grid file for the command line), `results.csv` and `results.parquet`
# (chapter 6's results gathered over the batch, with the parameters as columns),
# `pooled.csv`, `partitions.csv`, and `metrics.json`. The batch itself lives in
# `reports/11_batch_studies/runs/<RUN_ID>/`: one folder per run (its executed notebook and
# outputs) and the batch's `runs` and `metrics` tables.
#
# **A caveat on size.** The bundled recordings are minutes long, so each run's test block holds
# a few minutes. The point of this chapter is the method, which gives the same table on a
# year of data; the numbers here are a demonstration.

# %% [markdown]
# ## Setup

# %%
import os
import tempfile
import time
from functools import partial
from pathlib import Path

import pandas as pd
import yaml
from distributed import Client, LocalCluster
from IPython.display import display

from lobutils.data import lake, segment, segments
from lobutils.features.dataset import build_dataset
from lobutils.models import crossmarket
from lobutils.paths import REPO_ROOT, report_dir, write_metrics
from lobutils.plots import batch as plots
from lobutils.report import say, setup_display
from lobutils.runner import batch, digest

setup_display()


# %%
def shown(path) -> str:
    """A path as the command line in the repository's root would write it."""
    p = Path(path).resolve()
    return p.relative_to(REPO_ROOT).as_posix() if p.is_relative_to(REPO_ROOT) else str(p)


# %% tags=["parameters"]
CHAPTER = "06_ml_zoo"  # the chapter each run executes
DATA_DIRS = [None]  # recording directories, one study each (e.g. one per month); None: bundled
SEGMENTS = None  # a grid axis: segment names; None: every segment of each directory
HORIZONS = [1, 10, 60]  # a grid axis: target horizons (seconds on the 1 s grid)
MODELS = ["linear", "forest", "xgboost"]  # chapter 6 models, fitted in every run
# other chapter 6 parameters, the same in every run
FIXED = {"TARGETS": ["return"], "GRID": "1s", "LEVELS": 25, "N_BOOT": 300, "IMPORTANCE_REPEATS": 0}
TIMEOUT = 1200  # seconds any one cell of a run may take
RUN = True  # execute the batch (finished runs are reused); False: load an earlier batch
FORCE = False  # execute finished runs again
RUN_ID = "11_batch_studies"  # the batch's name: its folder under RUNS_DIR
RUNS_DIR = None  # where batches go; None: <REPORT_DIR>/runs
SCHEDULER = None  # a Dask scheduler address, e.g. "tcp://10.0.0.5:8786"; None: a LocalCluster
WORKERS = None  # LocalCluster worker processes; None: one per CPU core
POOLED_HORIZONS = [1, 10]  # horizons of the pooled against per-market comparison
POOLED_MODELS = ["linear", "xgboost"]  # models of that comparison
POOLED_N_BOOT = 500  # block-bootstrap resamples of its intervals
LAKE = None  # a parquet lake (lobutils.data.lake); None: the bundled data, converted
LAKE_EXCHANGES = None  # exchanges of the partition map, e.g. ["binance-futures"]; None: all
LAKE_SYMBOLS = None  # symbols of the partition map, e.g. ["btcusdt"]; None: all
LAKE_START = None  # first day of the partition map, "2024-08-01"; None: the lake's first
LAKE_END = None  # last day (inclusive); None: the lake's last
SEED = 0
REPORT_DIR = None  # where the outputs go; None: reports/11_batch_studies/

# %%
out_dir = report_dir("11_batch_studies", REPORT_DIR)
runs_dir = out_dir / "runs" if RUNS_DIR is None else RUNS_DIR
folder = batch.runs_root(RUN_ID, runs_dir)
studies = []  # (data directory, segment names)
for d in DATA_DIRS:
    names = [s.name for s in segments(d)] if SEGMENTS is None else list(SEGMENTS)
    studies.append((d, names))
n_segments = sum(len(n) for _, n in studies)
print(
    f"{n_segments} segment(s) in {len(studies)} data dir(s), horizons {HORIZONS}, models {MODELS}"
)

# %% [markdown]
# ## 1. A study is a grid
#
# A batch study names a chapter and lists values for some of its parameters. Every
# combination is one *run*: one execution of the unchanged notebook with those values
# injected into its `parameters` cell, exactly as the notebook tests do it. Here the chapter is
# chapter 6, and the grid crosses the markets with the horizons. The models and the other
# settings are fixed: each run fits all of `MODELS`.
#
# The grid goes into a YAML file, which is also what the command line reads. `as_list` says
# that chapter 6 takes lists (`SEGMENTS = ["spot_btcusdt"]`): the grid lists plain values and
# each run gets a one-element list.


# %%
def study_spec(data_dir, names):
    params = dict(FIXED, MODELS=list(MODELS), SEED=SEED)
    if data_dir is not None:
        params["DATA_DIR"] = str(data_dir)
    return {
        "chapter": CHAPTER,
        "timeout": TIMEOUT,
        "parameters": params,
        "grid": {"SEGMENTS": names, "HORIZONS": list(HORIZONS)},
        "as_list": ["SEGMENTS", "HORIZONS"],
    }


# %%
if len(studies) == 1:
    spec = {"run_id": RUN_ID, **study_spec(*studies[0])}
else:
    spec = {"run_id": RUN_ID, "studies": [study_spec(d, n) for d, n in studies]}
grid_file = out_dir / "grid.yaml"
grid_file.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
print(grid_file.read_text())

# %% [markdown]
# `expand_grid` turns the file into runs, in a fixed order (the last axis varies fastest).
# Each run gets a *parameters hash*: the first 12 hex digits of the SHA-256 of the chapter's
# name and its parameters written as canonical JSON (sorted keys). The same run always gets
# the same hash, on any machine, so it names the run's folder. `plan` checks each folder for a
# `done` marker written by an earlier batch with the same parameters *and* the same code
# version (a hash of the chapter's source and of `lobutils`): those runs will be skipped.

# %%
runs = batch.expand_grid(spec)
plan = batch.plan(runs, folder, force=FORCE)
plan_cols = ["params_hash", "DATA_DIR", "SEGMENTS", "HORIZONS", "done", "will_run"]
plan[[c for c in plan_cols if c in plan]]  # the fixed parameters are in grid.yaml above

# %% tags=["remove-input"]
say(
    f"{len(runs)} runs: {n_segments} segments × {len(HORIZONS)} horizons. {int(plan['done'].sum())} are already done at this code "
    f"version; {int(plan['will_run'].sum())} will run."
)

# %% [markdown]
# ## 2. Running the batch on Dask
#
# [Dask distributed](https://distributed.dask.org) runs Python functions on *workers*,
# coordinated by a *scheduler*. A `LocalCluster` starts both on this machine: one worker
# process per core, one thread each, because every run starts its own Jupyter kernel and keeps
# a core busy. On a real cluster the same code takes the scheduler's address (`SCHEDULER`);
# the workers need this repository installed at the same path, and a shared file system for
# the outputs.
#
# The client made here serves the whole chapter: the batch in this section, and the map over
# lake partitions in section 5.

# %%
if SCHEDULER is None:
    cluster = LocalCluster(
        n_workers=WORKERS or os.cpu_count() or 1,
        threads_per_worker=1,
        dashboard_address=":0",
        silence_logs=50,  # logging.CRITICAL: keep the workers' logs out of the page
    )
    client = Client(cluster)
else:
    cluster, client = None, Client(SCHEDULER)
n_workers = len(client.scheduler_info()["workers"])
print(f"{n_workers} worker(s)")

# %% [markdown]
# `run_batch` submits every run that is not done, one task per run, and follows them with a
# progress bar as they complete (in a terminal; here it only prints the summary). A run that
# fails does not stop the others: its partial notebook stays in its folder, and the summary
# names the cell that raised. When everything has finished, every run's `metrics.json` is
# read into one table.
#
# Run it again and nothing executes: every run is `cached`. Stop it half-way (Ctrl-C, a
# killed job, a lost node) and run it again: the finished runs are skipped, because the
# `done` marker is written last, and only the rest execute. `FORCE = True` runs everything.

# %%
t0 = time.perf_counter()
if RUN:
    result = batch.run_batch(
        runs, run_id=RUN_ID, root=runs_dir, client=client, force=FORCE, progress=False
    )
    runs_table = result.runs
else:
    runs_table = pd.read_parquet(folder / "runs.parquet")
batch_seconds = time.perf_counter() - t0
counts = digest.run_counts(runs_table)
print(
    f"{counts['runs']} runs: {counts['executed']} executed ({counts['ok']} finished, "
    f"{counts['failed']} failed), {counts['cached']} cached, in {batch_seconds:.0f} s"
)

# %%
# the cell that failed is named below the figure
runs_table[["params_hash", "SEGMENTS", "HORIZONS", "status", "seconds"]].round(1).fillna("")

# %%
plots.run_times(
    runs_table,
    label=["SEGMENTS", "HORIZONS"],
    title="the batch's runs: seconds each run took when it executed",
).show()

# %% tags=["remove-input"]
say(digest.failure_text(runs_table))

# %% [markdown]
# ## 3. One table for the whole batch
#
# Each run wrote a nested `metrics.json` (chapter 6's headline numbers). The batch flattens them
# into a **long** table: one row per (run, metric), the metric named by its dotted path, its
# number in `value` and any text in `text`. Long, because runs of different markets and
# horizons write different keys; a wide table would be mostly empty. The run's parameters are
# columns, under their names in the parameters cell.

# %%
metrics_long = pd.read_parquet(folder / "metrics.parquet")
print(f"{len(metrics_long)} rows; columns:", ", ".join(metrics_long.columns))
varying = [c for c in runs_table.columns[2:] if c in metrics_long and metrics_long[c].nunique() > 1]
metrics_long.loc[
    metrics_long["metric"].str.startswith("zoo."), [*varying, "metric", "value", "text"]
].head(8)

# %% [markdown]
# `metrics_wide` pivots chosen metrics back into columns, one row per run:

# %%
keys = ["zoo.n_comparisons", "zoo.n_beat_baseline", "seconds.zoo", "seconds.l1"]
wide = batch.metrics_wide(metrics_long, keys)
wide[["params_hash", *varying, *keys]].round(2)

# %% [markdown]
# The richer table is chapter 6's own `results.parquet`: one row per (segment, model, metric),
# with its interval and its best baseline. `collect_tables` gathers it from every finished
# run and puts the run's parameters in front.

# %%
results = batch.collect_tables(folder, "results.parquet", runs)
results = results[results["target"] == "return"]
model_rows = results[(results["role"] == "model") & (results["metric"] == "r2_oos")]
row_cols = ["SEGMENTS", "HORIZONS", "model", "value", "ci_low", "ci_high", "baseline"]
model_rows[row_cols].round(3).head(12)

# %% [markdown]
# ## 4. Across markets
#
# ### Every market, horizon and model
#
# The headline metric for returns is the out-of-sample $R^2_{oos} = 1 - \sum (y - \hat y)^2 /
# \sum y^2$: the share of the squared return that the forecast explains, against a forecast of
# no move. Positive is better than the zero forecast; the bars are 95% block-bootstrap
# intervals on each run's test block.

# %%
plots.metric_by_market(model_rows, "r2_oos").show()

# %%
plots.wins_heatmap(model_rows, "r2_oos").show()

# %% tags=["remove-input"]
beat = digest.beat_counts(model_rows)
say(digest.beat_text(beat))

# %% [markdown]
# ### Spot against perpetual futures
#
# The bundled data hold BTC and ETH on three markets: spot, the USD-M (linear, USDT-margined)
# perpetual and the COIN-M (inverse, coin-margined) perpetual. The same asset trades on all
# three at nearly the same price, but the books differ: who trades there, with what leverage,
# at what tick size and fee. Does a model that reads one book do as well on another?

# %%
plots.spot_vs_perpetual(model_rows, "r2_oos").show()

# %% tags=["remove-input"]
kind_median = digest.kind_medians(model_rows)
say(digest.kind_text(kind_median))

# %% [markdown]
# ### One model per market, or one for all?
#
# Each run above trained on one market. A *pooled* model trains on the rows of every market
# at once: more data, and the chance to learn what is common to order books, as
# Sirignano & Cont (2019) {cite}`sirignano2019universal` found for a deep network pooled over
# hundreds of stocks. Pooling needs two precautions here (`lobutils.models.crossmarket`):
#
# - **no look-ahead across markets.** The markets were recorded over the same minutes. For the
#   test block of market S, which starts at $t_{test}$, the pooled training rows are those of
#   *every* market whose target is realised before S's validation block starts, and the pooled
#   validation rows those realised before $t_{test}$. No pooled row knows S's test period.
# - **one scale.** Order-flow imbalance counts coins or contracts, so each market's features
#   are standardised with the mean and standard deviation of its own training rows first.
#
# Both models are tuned on the validation block and refitted as in chapter 6, then scored on
# the same test rows of S, so their difference has a paired bootstrap interval. This part runs
# in this notebook, not as a batch: it is one computation over all markets (those of the first
# data directory).

# %%
all_names = [n for _, names in studies for n in names]
pool_dir, pool_names = studies[0]
datasets = [
    build_dataset(
        segment(n, pool_dir),
        grid=FIXED.get("GRID", "1s"),
        levels=FIXED.get("LEVELS", 25),
        horizons=tuple(POOLED_HORIZONS),
    )
    for n in pool_names
]

# %%
pooled_parts = [
    crossmarket.compare_pooled(datasets, h, POOLED_MODELS, n_boot=POOLED_N_BOOT, seed=SEED)
    for h in POOLED_HORIZONS
]
pooled_scores = pd.concat([p.scores for p in pooled_parts], ignore_index=True)
pooled = pd.concat([p.diffs for p in pooled_parts], ignore_index=True)
pooled_skipped = pd.concat([p.skipped for p in pooled_parts], ignore_index=True)

# %%
shown_cols = ["segment", "horizon", "model", "own", "pooled", "diff", "ci_low", "ci_high"]
pooled[shown_cols].round(3)

# %%
plots.pooled_vs_own(pooled).show()

# %% tags=["remove-input"]
say(digest.pooled_text(pooled, pooled_skipped))

# %% [markdown]
# Pooling helps most where a market's own training block is short (the USD-M recordings are
# half as long as the others) and the features mean the same thing everywhere. It can hurt
# where a market's book behaves differently: a pooled model is an average over markets. With
# minutes per market, expect wide intervals either way; on months of data this comparison is
# one of the most useful a batch can make.

# %% [markdown]
# ## 5. Partitions of a lake on the same client
#
# A lake (chapter 1, `lobutils.data.lake`) stores events partitioned by exchange, symbol and UTC
# day. Reconstruction and features split the same way: one task per partition, mapped over
# the partitions with `batch.map_partitions` on the client of section 2. A failing partition
# is recorded with its error and the others go on.
#
# A day's book needs the last snapshot before it, which may lie in the previous day (a
# recording that crosses midnight has its snapshot on the first day only). So each task reads
# its day *and the day before*, replays the book, and keeps the rows of its own day. With
# `LAKE = None` the bundled recordings are converted into a small lake first.

# %%
if LAKE is None:
    lake_root = out_dir / "lake"
    files = [f for n in pool_names for f in segment(n, pool_dir).files]
    converted = lake.convert(files, lake_root)
    print(f"converted {len(files)} files into {len(converted)} partitions")
else:
    lake_root = LAKE
items = [
    it
    for it in batch.lake_items(lake_root, "depth", start=LAKE_START, end=LAKE_END)
    if (LAKE_EXCHANGES is None or it["exchange"] in LAKE_EXCHANGES)
    and (LAKE_SYMBOLS is None or it["symbol"] in LAKE_SYMBOLS)
]
print(f"{len(items)} (exchange, symbol, day) partitions")


# %% [markdown]
# Each task is `lobutils.runner.digest.day_summary`: it reads its day and the day before from
# the lake, rebuilds the book, computes the features on the clock grid and summarises the day.

# %%
summarise = partial(digest.day_summary, grid=FIXED.get("GRID", "1s"), levels=10)
part = batch.map_partitions(summarise, items, client, progress=False, desc="days")
days = part.frame().drop(columns="lake", errors="ignore")
day_cols = ["exchange", "symbol", "date", "rows", "minutes", "median_spread_bps"]
day_cols += ["vol_1s_bps", "ofi_next_return_corr"]
days[[c for c in day_cols if c in days]].round(3)

# %%
if not part.ok:
    display(
        part.failed.assign(item=part.failed["item"].map(lambda i: f"{i['symbol']} {i['date']}"))
    )

# %% tags=["remove-input"]
say(
    f"{len(items)} partitions in {part.seconds:.1f} s on {n_workers} worker(s): "
    f"{len(days)} summarised, {len(part.errors)} failed. The correlation between level-1 "
    "order-flow imbalance and the next second's return (Spearman) is the relation of "
    "Cont, Kukanov & Stoikov (2014), measured per day: on months of data its day-to-day "
    "spread says how stable the relation is, and which days break it. Days with only a few "
    "minutes of data (the recordings end just after midnight) give rough numbers."
)

# %% [markdown]
# ## 6. Your own data over months, by parameters only
#
# Nothing above is specific to the bundled files. To run the same study on your own data, change
# the parameters, not the code.
#
# **The model grid over months.** Chapter 6 reads a directory of recordings
# (`<market>_<symbol>_<YYYYMMDD>.gz`, as `python -m lobutils record` writes them). Put each
# month in its own directory and list them: every month becomes its own study, with its own
# runs, and the results table gets a `DATA_DIR` column to compare months by.
#
# ```python
# DATA_DIRS = ["/data/binance/2024-01", "/data/binance/2024-02", "/data/binance/2024-03"]
# SEGMENTS = ["usdm_btcusdt", "usdm_ethusdt", "spot_btcusdt"]
# HORIZONS = [1, 10, 60]
# SCHEDULER = "tcp://10.0.0.5:8786"  # or None for this machine
# ```
#
# **The partition map over a lake.** Convert any supported files (recordings, data.vision,
# Bybit, Tardis; see the page on data formats) with `python -m lobutils convert FILE...
# --lake /data/lake`, then
#
# ```python
# LAKE = "/data/lake"
# LAKE_EXCHANGES = ["binance-futures"]
# LAKE_SYMBOLS = ["btcusdt", "ethusdt"]
# LAKE_START, LAKE_END = "2024-01-01", "2024-03-31"
# ```
#
# and the map of section 5 runs over 2 symbols × 91 days = 182 partitions.
#
# To run the chapter with such values, inject them with papermill {cite}`papermilldocs` instead
# of editing the file, for example with
# `python -m lobutils.runner.chapters --only 10 --params-file my.yaml`, or run the
# grid alone from the command line. The grid file this chapter wrote is a complete study:

# %%
print(f"python -m lobutils batch {shown(grid_file)} --root {shown(runs_dir)}")
print("python -m lobutils batch GRID.yaml --scheduler tcp://10.0.0.5:8786   # on a cluster")

# %% [markdown]
# A cluster needs a scheduler and workers started from this repository's environment, on
# machines that see the same paths:
#
# ```bash
# dask scheduler                                        # on one machine: prints tcp://host:8786
# dask worker tcp://host:8786 --nworkers 8 --nthreads 1 # on each worker machine
# python -m lobutils batch GRID.yaml --scheduler tcp://host:8786
# ```
#
# On a batch that runs for hours, two properties matter more than speed. Interrupt it at any
# point, and the next call picks up where it stopped. Edit `lobutils` or the chapter, and the
# code version changes, so the next call runs everything again rather than mixing results of
# two versions (`--dry-run` shows what would run).

# %% [markdown]
# ## 7. Outputs

# %%
results.to_parquet(out_dir / "results.parquet", index=False)
results.to_csv(out_dir / "results.csv", index=False)
pd.concat(
    [pooled.assign(kind="diff"), pooled_scores.assign(kind="score")], ignore_index=True
).to_csv(out_dir / "pooled.csv", index=False)
days.to_csv(out_dir / "partitions.csv", index=False)

# %%
metrics = {
    "batch": counts | {"run_id": RUN_ID, "seconds": batch_seconds, "workers": n_workers},
    "grid": {"chapter": CHAPTER, "segments": all_names, "horizons": HORIZONS, "models": MODELS},
}
metrics["batch"]["worker_seconds"] = float(runs_table["seconds"].dropna().sum())
metrics["markets"] = {
    "n_comparisons": beat["n"],
    "n_beat_baseline": beat["beat"],
    "beat_by_horizon": beat["by_horizon"]["sum"].astype(int),
    "median_r2_oos_by_kind": kind_median.round(6).to_dict(),
}

# %%
n_better, n_worse = int(pooled["pooled_better"].sum()), int(pooled["pooled_worse"].sum())
ratio = (pooled["n_train_pooled"] / pooled["n_train_own"]).median() if len(pooled) else None
metrics["pooled"] = {"n_pairs": len(pooled), "n_pooled_better": n_better}
metrics["pooled"] |= {"n_pooled_worse": n_worse, "median_train_ratio": ratio}
metrics["pooled"]["median_diff"] = float(pooled["diff"].median()) if len(pooled) else None
metrics["partitions"] = {"n": len(items), "ok": len(days), "failed": len(part.errors)}
metrics["partitions"]["seconds"] = part.seconds
written = write_metrics(out_dir, metrics)

# %% tags=["remove-input"]
b, p = written["batch"], written["partitions"]
say(
    f"`metrics.json` records the batch: **{b['runs']}** runs, {b['executed']} executed "
    f"({b['ok']} finished, {b['failed']} failed) and {b['cached']} cached, in "
    f"{b['seconds']:.0f} s on {b['workers']} worker(s) ({b['worker_seconds']:.0f} s of worker "
    f"time); {p['ok']} of {p['n']} lake partitions summarised. The tables are in "
    f"`{shown(out_dir)}`."
)

# %% [markdown]
# ## Key takeaways
#
# - A batch study is a grid file: a chapter, fixed parameters and lists to cross. The same
#   notebook runs unchanged in every run; tests, the book and batches differ only in the
#   values they inject.
# - Every run has a stable folder (the hash of its chapter and parameters) and a `done`
#   marker tied to the code version, so a batch is idempotent and resumes after an
#   interruption without redoing finished work, and never mixes results of two code versions.
# - Failures are collected, not fatal: the summary names the failing cell and the partial
#   notebook keeps the traceback.
# - One long table with the parameters as columns makes cross-market questions one `groupby`
#   away: per market, per horizon, spot against perpetual.
# - A pooled model must respect time across markets as well as within one: markets recorded at
#   the same hours share their future.
# - The same client maps reconstruction and features over (exchange, symbol, day) partitions,
#   which is how a study grows from minutes to months.

# %% [markdown]
# ## Exercises
#
# 1. Make the models a grid axis too: one run per (market, horizon, model). How many runs is
#    that, how does the batch's wall time change, and what do you gain when one model fails?
# 2. Run the batch twice and check that the second call executes nothing. Then change one fixed
#    parameter (`N_BOOT`) and run it again: which runs execute, and why?
# 3. Make one run fail on purpose (a segment name that does not exist) and read the failure in
#    the summary and in the run's notebook.
# 4. Pool only the markets of one asset (BTC spot, USD-M and COIN-M) and compare with the
#    pooled model over all markets. Does the asset or the market type matter more?

# %% [markdown]
# ````{admonition} Solution 1
# :class: dropdown
# Add `MODELS` to the grid and to `as_list`, and remove it from the fixed parameters. There are
# as many times more runs as there are models, and each repeats the fixed cost of a run (the
# kernel, the imports, the dataset, the L1 and accuracy sections), so the total worker time
# grows almost as much while the model fitting stays the same. In return a failure, or a change
# to one model, costs one small run instead of the run with every model.
# ````

# %% tags=["hide-input"]
# Solution 1: the runs of a grid with the models as a third axis.
by_model = {"SEGMENTS": studies[0][1], "HORIZONS": list(HORIZONS), "MODELS": list(MODELS)}
spec_models = {"chapter": CHAPTER, "parameters": dict(FIXED), "grid": by_model}
spec_models["as_list"] = ["SEGMENTS", "HORIZONS", "MODELS"]
n_model_runs = len(batch.expand_grid(spec_models))
print(
    f"{n_model_runs} runs ({len(studies[0][1])} markets × {len(HORIZONS)} horizons × {len(MODELS)} models)"
)

# %% [markdown]
# ````{admonition} Solution 2
# :class: dropdown
# The second call finds every run's `done` marker and executes nothing. `N_BOOT` is a parameter
# of every run, so changing it changes every parameters hash: each run has a new folder, and
# nothing is done there yet.
# ````

# %% tags=["hide-input"]
# Solution 2: the batch again (everything cached), then the plan after changing N_BOOT.
again = batch.run_batch(runs, run_id=RUN_ID, root=runs_dir, client=client, progress=False)
again_counts = digest.run_counts(again.runs)
spec2 = {"run_id": RUN_ID, **study_spec(*studies[0])}  # the first study, N_BOOT changed
spec2["parameters"]["N_BOOT"] = FIXED.get("N_BOOT", 300) + 1
will_run = int(batch.plan(batch.expand_grid(spec2), folder)["will_run"].sum())
print(f"same grid: {again_counts['cached']} of {again_counts['runs']} runs cached")
print(f"N_BOOT changed: {will_run} of {len(batch.expand_grid(spec2))} runs would execute")

# %% [markdown]
# ````{admonition} Solution 3
# :class: dropdown
# The summary names the cell of chapter 6 that raised (the one that reads the segments) and the
# error, saying that no such segment exists; the executed notebook in the run's folder holds the
# full traceback, and the run has no `done` marker, so the next call tries it again.
# ````

# %% tags=["hide-input"]
# Solution 3: a run with a segment that does not exist, and what the summary says about it.
bad_params = dict(FIXED, MODELS=[MODELS[0]], SEED=SEED)
bad_run = {"SEGMENTS": ["spot_nosuchcoin"], "HORIZONS": [HORIZONS[0]]}
bad = batch.expand_grid({"chapter": CHAPTER, "parameters": bad_params, "runs": [bad_run]})
scratch = tempfile.mkdtemp(prefix="lob-ch10-")  # outside the report dir: a throwaway batch
res = batch.run_batch(bad, run_id="broken", root=scratch, client=client, progress=False)
cell = next(r for r in res.records if r["status"] == "failed").get("failed_cell") or {}
# the error message names local paths: show where and what type only
print(
    f"status: {res.runs['status'].iat[0]}; {cell.get('ename')} at line {cell.get('line')} of {CHAPTER}.py:"
)
print(f"  {cell.get('source')}")

# %% [markdown]
# ````{admonition} Solution 4
# :class: dropdown
# Compare the `pooled` column with the pooled scores above for the same BTC markets. If pooling
# over the same asset does as well as pooling over everything, the gain comes from the asset's
# common price moves; if pooling over everything does better, the features carry something
# common to order books in general.
# ````

# %% tags=["hide-input"]
# Solution 4: BTC markets pooled among themselves, against pooling over every market.
btc = [ds for ds in datasets if plots.asset_of(ds.symbol) == "btc"]
h0 = POOLED_HORIZONS[0]
if len(btc) < 2:
    print("fewer than two BTC markets in this batch: nothing to pool")
else:
    only_btc = crossmarket.compare_pooled(btc, h0, POOLED_MODELS, n_boot=POOLED_N_BOOT, seed=SEED)
    both = only_btc.diffs.merge(pooled, on=["segment", "horizon", "model"], suffixes=("", "_all"))
    cols = ["segment", "model", "own", "pooled", "pooled_all"]
    display(
        both[cols].rename(columns={"pooled": "pooled (btc)", "pooled_all": "pooled (all)"}).round(3)
    )

# %%
if cluster is not None:  # the end of the chapter: stop the local cluster
    client.close()
    cluster.close()

# %% [markdown]
# ## References
#
# - Cont, Kukanov & Stoikov (2014), *The price impact of order book events*
#   {cite}`cont2014price`.
# - Sirignano & Cont (2019), *Universal features of price formation in financial markets:
#   perspectives from deep learning* {cite}`sirignano2019universal`.
# - Rocklin (2015), *Dask: parallel computation with blocked algorithms and task scheduling*
#   {cite}`rocklin2015dask`.
# - López de Prado (2018), *Advances in financial machine learning*
#   {cite}`lopezdeprado2018advances` (purging and embargo across assets).
# - The papermill documentation: parameterising and executing notebooks,
#   <https://papermill.readthedocs.io> {cite}`papermilldocs`.
#
# The full list is on the {doc}`/references` page.
