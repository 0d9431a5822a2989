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
# # 8. From forecasts to trades: a backtest with costs
#
# A forecast is worth what a trader can earn with it after paying to trade. This chapter turns
# the best classical model of chapter 6, and the DeepLOB classifiers of chapter 7, into orders
# and runs them through an event-driven backtest on the reconstructed book. Each order arrives
# a little after its decision and walks the real price levels at arrival. It pays the spread,
# the slippage of the deeper levels and the exchange's fee. The result is compared with buying
# and holding, with random trading at the same rate, and with perfect foresight, the upper
# bound no forecast can beat. Chapter 9 asks the opposite question: how to sell a position that
# has to be sold.
#
# **Learning objectives.** After this chapter you can
#
# - turn model forecasts into target positions, and target positions into orders with a decision
#   latency, a cooldown and position limits (`lobutils.trading.backtest`);
# - declare a market once (`lobutils.markets.instrument`: contract value, maker and taker
#   fees) and let the backtest ask it, on linear and inverse markets alike;
# - fill taker orders by walking the reconstructed book at arrival, and split what a trade costs
#   into half-spread, depth slippage and fees;
# - read a backtest against three benchmarks: holding, random signals at the same trade rate
#   and the perfect-foresight bound; and put an interval on the mean P&L per trade;
# - compare crossing the spread with posting at the touch, and name the adverse selection that
#   a maker pays instead.
#
# **Prerequisites.** Chapter 2 (the reconstructed book), chapter 3 (features), chapter 4
# (forward returns), chapter 6 (the model zoo and its evaluation protocol) and, for section 8,
# chapter 7's `signals.parquet` (without it, that section says so and the chapter goes on).
#
# **Outputs.** The figures and tables below, and in `reports/08_backtest/`: `markets.csv`,
# `selection.csv`, `backtest.csv` (one row per strategy run), `orders.csv` (every order of the
# model), `round_trips.csv`, `trip_cis.csv`, `maker.csv`, `backtest_deeplob.csv` (the DeepLOB
# runs, when chapter 7's signals are there) and `metrics.json` with the headline numbers
# (DeepLOB's under `deeplob`).
#
# **Cost.** At full size the chapter reads every bundled segment, replays each at 100 levels
# and runs 50 random seeds per market: a few minutes on one core, under 4 GB of memory.
#
# **A caveat on size.** The bundled recordings are six to eleven minutes per market. The test
# block of each model holds a few minutes and a few dozen trades. Every number here shows the
# method at work on little data; none is evidence about these markets. The same chapter runs
# on any recording directory in the bundled format (`DATA_DIR`), and longer recordings give
# the numbers some weight.

# %% [markdown]
# ## Setup

# %%
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import display

from lobutils import evaluation as ev
from lobutils.data import segment, segments
from lobutils.models import zoo
from lobutils.paths import report_dir, write_metrics
from lobutils.plots import trading as plots
from lobutils.report import say, setup_display
from lobutils.trading import backtest as bt
from lobutils.trading import study
from lobutils.trading import verdicts as vd
from lobutils.trading.tables import book_table

setup_display()

# %% tags=["parameters"]
DATA_DIR = None  # a directory of <market>_<symbol>_<YYYYMMDD>.gz recordings; None: the bundled data
SEGMENTS = None  # segment names, e.g. ["spot_btcusdt"]; None: every segment found
LEVELS = 100  # book levels per side kept for walking the book
FEATURE_LEVELS = 25  # book levels per side of the model's features (as in chapter 6)
GRID = "1s"  # decision clock of the model
HORIZON = 10  # forecast horizon and holding time of a signal (s)
MODELS = ["linear", "tree", "xgboost"]  # candidate classical models; the best on validation
FRACTIONS = [0.5, 0.2, 0.3]  # train / validation / test shares of each segment's time span
SIGNAL_THRESHOLD_BPS = 0.0  # trade when |forecast| exceeds this (bps)
DEEP_SIGNALS = (
    "auto"  # chapter 7's signals.parquet; "auto": 07_deeplob/ beside REPORT_DIR; None: skip
)
DEEP_MODEL = "deeplob"  # which of chapter 7's per-market classifiers to backtest
DEEP_MAX_AGE_S = 1.0  # a DeepLOB signal older than this at a decision is not used (s)
ORDER_VALUE = 10_000.0  # quote value of one position (USD or USDT)
MAX_POSITION = 1.0  # position limit, in positions of ORDER_VALUE
MAX_NOTIONAL = None  # inventory limit in quote currency; None: no limit beyond MAX_POSITION
LATENCY_S = 0.1  # decision-to-arrival latency (s)
COOLDOWN_S = 1.0  # minimum time between two orders' decisions (s)
TAKER_FEE_BPS = None  # None: Binance regular tier per market (spot 10, futures 5)
MAKER_FEE_BPS = None  # None: Binance regular tier per market (spot 10, futures 2)
MAKER_TTL_S = 5.0  # how long a maker order rests before it is cancelled (s)
N_RANDOM = 50  # random-signal runs (seeds) per segment
N_BOOT = 1000  # block-bootstrap resamples
BLOCK_TRIPS = 5  # bootstrap block length, in round trips
CONFIDENCE = 0.95
SEED = 0
REPORT_DIR = None  # where the outputs go; None: reports/08_backtest/

# %%
out_dir = report_dir("08_backtest", REPORT_DIR)
chosen = segments(DATA_DIR) if SEGMENTS is None else [segment(n, DATA_DIR) for n in SEGMENTS]
print(f"{len(chosen)} segment(s): {', '.join(s.name for s in chosen)}")

# %% [markdown]
# ## 1. The data: the book in event time, the features on a clock
#
# The backtest needs two views of each recording. The **book in event time** (every applied
# diff, `LEVELS` levels per side) is what an order meets when it arrives: the last state at or
# before its arrival time. The **modelling table** of chapter 6 (`build_dataset`: causal
# features and forward returns on a one-second grid) is what the model sees when it decides.
# Both come from the same reading of the recording.
#
# Gaps in the recording (a broken update-id chain) become empty books in event time: an order
# that would arrive in a gap is skipped instead of filled against a book the replay does not
# know.
#
# Each market is declared once as an instrument (`lobutils.markets.instrument`): its contract
# value (COIN-M books count contracts of a fixed USD value) and its maker and taker fees. The
# backtest asks the instrument what a fill is worth; it never checks the contract type itself.

# %%
load = dict(levels=LEVELS, feature_levels=FEATURE_LEVELS, grid=GRID, horizons=(HORIZON,))
fees = dict(maker_fee_bps=MAKER_FEE_BPS, taker_fee_bps=TAKER_FEE_BPS)
markets = {seg.name: study.load_market(seg, **load, **fees) for seg in chosen}

# %%
overview = study.market_overview(markets)
book_table(
    overview,
    ["minutes", "book_states", "trades", "median_spread_bps", "bid_depth_quote", "taker_fee_bps"],
    ints=["book_states", "trades", "bid_depth_quote"],
    digits={"minutes": 1, "median_spread_bps": 3, "taker_fee_bps": 0},
    rename={"bid_depth_quote": f"bid_depth_{LEVELS}_levels_quote"},
)

# %% [markdown]
# ## 2. The signals: the best classical model, chosen on the validation block
#
# For each market we run chapter 6's protocol on the forward mid return over `HORIZON`
# seconds: a chronological split into train, validation and test blocks (purged), every
# candidate model tuned on the validation block, the model with the lowest validation error
# chosen, refitted on train + validation, and used to forecast the test block. Nothing about the
# test block enters the choice. Its forecasts are the signals of the backtest.
#
# The rule that turns a forecast into a position is deliberately simple: when the forecast
# exceeds `SIGNAL_THRESHOLD_BPS` in absolute value, take a position of one `ORDER_VALUE` in its
# direction and hold it for the forecast's horizon (`backtest.hold_targets`); a new signal
# extends or flips it; with no signal for `HORIZON` seconds the position is closed. The decision
# at grid time $t$ uses features of data stamped at or before $t$.
#
# Chapter 7's DeepLOB classifiers give probabilities of down, flat and up instead of a return;
# section 8 turns them into forecasts in the same format and runs them through the same
# backtest.

# %%
models = zoo.make_models(MODELS, seed=SEED)
rule = dict(threshold_bps=SIGNAL_THRESHOLD_BPS, seed=SEED)
signals, selection_rows = {}, []
for name, m in markets.items():
    try:
        signals[name], row = study.classical_signals(m, models, HORIZON, FRACTIONS, **rule)
    except ValueError as exc:
        print(f"{name}: skipped ({exc})")
        continue
    selection_rows.append(row)
if not selection_rows:
    raise ValueError("no segment could be split into train, validation and test blocks")
selection = pd.DataFrame(selection_rows)

# %%
book_table(
    selection,
    ["chosen", "test_rows", "test_r2_oos", "test_hit_rate", "signal_share", "position_changes"],
    index="segment",
    ints=["test_rows", "position_changes"],
    pcts=["test_hit_rate", "signal_share"],
    digits={"test_r2_oos": 3},
)

# %% [markdown]
# The validation MSE of every candidate is in `selection.csv`.

# %% tags=["remove-input"]
say(vd.selection_verdict(selection, HORIZON))

# %% [markdown]
# ## 3. The backtest
#
# `backtest.run_backtest` replays the decisions in time order. At each decision time $t$:
#
# 1. the target position (in units of one `ORDER_VALUE` position, clipped to `MAX_POSITION`
#    and `MAX_NOTIONAL` at the mid known at $t$) is compared with the current position;
# 2. an order for the difference is sent, unless the previous order was decided less than
#    `COOLDOWN_S` ago or is still in flight;
# 3. it arrives at $t + $ `LATENCY_S` and fills against the **last book state at or before the
#    arrival**, never an earlier one. A taker order walks the levels best first: if the best
#    level holds less than the order, the rest pays the next level's price, and so on. What the
#    visible levels cannot fill is reported as unfilled, never assumed.
#
# Every fill is measured against the mid at arrival. Its cost splits into the **half-spread**
# (mid to the best price), the **depth slippage** (beyond the best price) and the **fee** on
# the notional. The P&L is marked to the mid, so *gross* P&L (before those three costs) is what
# the forecast earned, and *net* P&L is what the trader keeps. On an inverse (COIN-M) market the
# P&L is computed in coin, the settlement currency, and converted to USD at one fixed price,
# the mid at the first decision.
#
# Three benchmarks run on the same decision times, with the same latency, fees, limits and
# cooldown (`backtest.compare_strategies`):
#
# - **holding**: buy one position at the first decision and sell it at the end;
# - **random**: targets that change as often as the model's, at random times and to random
#   positions, `N_RANDOM` seeds: the distribution of what trading at this rate earns by luck;
# - **perfect foresight**: at each time the model changed its position, take the full position
#   in the direction the mid actually moves until the model's next change. Gross of costs,
#   nothing that trades at those times can earn more; net of costs, it shows how much of the
#   best possible edge the costs eat.

# %%
settings = study.BacktestSettings(
    order_value=ORDER_VALUE,
    max_position=MAX_POSITION,
    max_notional=MAX_NOTIONAL,
    latency_s=LATENCY_S,
    cooldown_s=COOLDOWN_S,
    maker_ttl_s=MAKER_TTL_S,
    seeds=tuple(range(SEED, SEED + N_RANDOM)),
)
src = study.backtest_source(markets, signals, settings)
model_runs = src.strategy("model")
RUN_COLS = ["n_orders", "n_round_trips", "gross_pnl_bps", "pnl_bps", "mean_trade_bps"]
RUN_COLS += ["hit_rate", "max_drawdown_bps"]
book_table(model_runs, RUN_COLS, index="segment", ints=RUN_COLS[:2], pcts=["hit_rate"])

# %% [markdown]
# The table is the model's run per market: orders sent, round trips (flat to flat, a flip
# closes one and opens the next), the P&L gross and net in bps of the capital (one
# `ORDER_VALUE` position), the mean net P&L per round trip in bps of its notional, the share
# of round trips that made money after costs, and the maximum drawdown. The skips, partial
# fills, turnover, Sharpe ratio per round trip and slippage are in `backtest.csv`.
#
# Here is one market's first orders, as the backtest records them:

# %%
first = next(iter(src.comparisons))
ORDER_COLS = ["decision_ts", "side", "filled_qty", "vwap", "mid", "half_spread_bps"]
ORDER_COLS += ["depth_bps", "fee_quote", "levels"]
book_table(
    src.comparisons[first].results["model"].orders.head(8),
    ORDER_COLS,
    times=["decision_ts"],
    ints=["side", "levels"],
    digits={"filled_qty": 4, "half_spread_bps": 3, "depth_bps": 3},
)

# %% [markdown]
# ## 4. Equity curves
#
# The P&L over time, marked to the mid, in bps of the capital of one position. Thin grey lines
# are the random runs, one per seed; the model is blue, holding green, perfect foresight purple.

# %%
plots.equity_curves(
    study.equity_frame(src, signals),
    title="net p&l over the test block, marked to the mid (bps of one position)",
).show()

# %% [markdown]
# Each downward step of the model's curve is a trade: a round trip at the taker fee costs twice
# the fee before the price has moved at all. The perfect-foresight curve shows the same
# staircase, with steps up between the trades.

# %% [markdown]
# ## 5. Where the money goes: costs against the gross edge

# %%
costs = study.cost_breakdown(model_runs)
plots.cost_breakdown(
    costs, title="the model: gross p&l (●), its costs (bars) and what is left (◆), bps of capital"
).show()

# %%
plots.cost_breakdown(
    study.cost_breakdown(src.strategy("perfect_foresight")),
    title="perfect foresight at the model's trade times: gross, costs and net (bps)",
).show()

# %% tags=["remove-input"]
say(vd.cost_verdict(costs, model_runs, src.orders, overview, ORDER_VALUE))

# %% [markdown]
# ## 6. The P&L distribution and the benchmarks
#
# First the round trips: the net P&L of each, in bps of its notional, for the model, perfect
# foresight and all random runs pooled over the markets.

# %%
trip_view = src.closed_trips
plots.pnl_distribution(
    trip_view[trip_view["strategy"].isin(["model", "perfect_foresight", "random"])],
    title="net p&l per round trip (bps of notional), all markets",
).show()

# %% [markdown]
# Then the whole test block: the net P&L of each random run (histogram) next to the model,
# holding and perfect foresight (vertical lines), per market.

# %%
plots.random_distribution(
    src.runs,
    metric="pnl_bps",
    title="net p&l of the test block (bps of capital): random runs and the rest",
).show()

# %%
ranks = study.rank_among_random(src.runs, "pnl_bps")
RANK_COLS = ["model", "holding", "perfect_foresight", "random_p05", "random_median", "random_p95"]
book_table(ranks, RANK_COLS, index="segment", digits=1)

# %% [markdown]
# ## 7. How sure can we be?
#
# The model's round trips give a mean net P&L per trade. Neighbouring trades share market
# conditions, so its interval comes from a block bootstrap {cite}`kunsch1989jackknife` over the
# round trips, pooled over the markets in time order, with blocks of `BLOCK_TRIPS` trades
# (`evaluation.block_bootstrap_ci`).
# The gross mean gets the same treatment: it is the edge before costs. The random runs give a
# second yardstick that needs no assumption about independence: where does the model's
# total fall in the distribution of trading at random at the same rate?

# %%
boot = ev.BootstrapConfig(block_length=BLOCK_TRIPS, n_boot=N_BOOT, confidence=CONFIDENCE, seed=SEED)
trip_cis = study.trip_ci_table(trip_view, boot)
book_table(trip_cis.set_index(["strategy", "value"]), ints=["n_trips"])

# %% tags=["remove-input"]
moves = np.array([signals[k].median_abs_move_bps for k in model_runs["segment"]])
fees_rt = np.array([2 * markets[k].instrument.taker_fee_bps for k in model_runs["segment"]])
say(
    vd.backtest_verdict(
        trip_cis, src.runs, ranks, moves, fees_rt, horizon=HORIZON, confidence=CONFIDENCE
    )
)

# %% [markdown]
# ## 8. DeepLOB's signals through the same backtest
#
# Chapter 7 trained DeepLOB per market on a 100-millisecond grid to say whether the mid goes
# down, stays flat or goes up over the next 10 seconds, and wrote the class probabilities of
# its test block to `signals.parquet`: one row per input window, stamped with the time of the
# window's last row, so that each signal uses only data known at its time stamp.
# `DEEP_SIGNALS` points at that file; `"auto"` takes the one that chapter 7 wrote beside this
# chapter's outputs (`07_deeplob/signals.parquet`).
#
# A classifier gives probabilities, not a return. The forecast is the expected direction
# $p_\text{up} - p_\text{down}$ times the mean absolute `HORIZON`-second return of this
# chapter's training block (`backtest.signal_forecasts`): its sign is the direction the
# network leans to, and the scale puts it in bps, so that `SIGNAL_THRESHOLD_BPS` means the
# same for both models. Each one-second decision takes the last DeepLOB signal at or before
# it (an as-of join, `backtest.asof_values`), and none when that signal is more than
# `DEEP_MAX_AGE_S` old. From there on, everything is the code of sections 3 to 7: the same
# holding rule, orders, fills, fees and limits, the same three benchmarks and the same plots.
#
# The two chapters split time differently: chapter 7 tests on the last 20 % of each
# recording, this chapter on the last 30 %. Both models are out of sample only where the two
# test blocks overlap, so **the DeepLOB backtest covers only that overlap**: the decision
# times of this chapter's test block inside the span of chapter 7's test signals. The
# classical model is rerun on exactly those decision times, for a like-for-like comparison.

# %%
if DEEP_SIGNALS is None:
    deep_path = None
elif DEEP_SIGNALS == "auto":
    deep_path = out_dir.parent / "07_deeplob" / "signals.parquet"
else:
    deep_path = Path(DEEP_SIGNALS)
found = deep_path is not None and deep_path.exists()
missing = (
    "DEEP_SIGNALS = None: the DeepLOB backtest is skipped."
    if deep_path is None
    else f"No DeepLOB signals at {deep_path.parent.name}/{deep_path.name} (run chapter 7 "
    "first, or point DEEP_SIGNALS at its signals.parquet): the DeepLOB backtest is skipped."
)

# %%
deep = study.deeplob_signals(
    pd.read_parquet(deep_path) if found else None,
    signals,
    model=DEEP_MODEL,
    horizon=HORIZON,
    threshold_bps=SIGNAL_THRESHOLD_BPS,
    max_age_s=DEEP_MAX_AGE_S,
    missing_note=missing,
)
for line in [deep.note] if deep.note else [f"skipped {k}: {v}" for k, v in deep.skipped.items()]:
    print(line)
if deep.signals:
    OVERLAP_COLS = ["overlap_minutes", "share_with_signal", "hit_rate", "classical_hit_rate"]
    display(book_table(deep.table, OVERLAP_COLS, index="segment", pcts=OVERLAP_COLS[1:]))

# %%
if deep.signals:
    deep_src = study.backtest_source(markets, deep.signals, settings)
    classical_same = study.classical_on_times(markets, deep.classical, deep_src.configs)
    both = pd.concat([deep_src.strategy("model").assign(strategy=DEEP_MODEL), classical_same])
    DEEP_COLS = ["n_round_trips", "gross_pnl_bps", "pnl_bps", "mean_trade_bps"]
    display(book_table(both, DEEP_COLS, index=["segment", "strategy"], ints=DEEP_COLS[:1]))

# %% [markdown]
# The table holds DeepLOB's run per market on the overlap, and the classical model's on the
# same decision times, with the columns of section 3. The plots are those of sections 4 to 6,
# with DeepLOB in the model's place.

# %%
if deep.signals:
    plots.equity_curves(
        study.equity_frame(deep_src, deep.signals),
        title=f"{DEEP_MODEL}: net p&l on the overlap of the two test blocks (bps of one position)",
    ).show()
    deep_costs = study.cost_breakdown(deep_src.strategy("model"))
    plots.cost_breakdown(
        deep_costs, title=f"{DEEP_MODEL}: gross p&l (●), its costs (bars) and what is left (◆), bps"
    ).show()

# %%
if deep.signals:
    deep_view = deep_src.closed_trips
    plots.pnl_distribution(
        deep_view[deep_view["strategy"].isin(["model", "perfect_foresight", "random"])],
        title=f"{DEEP_MODEL} (model): net p&l per round trip (bps of notional), all markets",
    ).show()

# %%
if deep.signals:
    plots.random_distribution(
        deep_src.runs,
        metric="pnl_bps",
        title=f"{DEEP_MODEL} (model): net p&l of the overlap (bps of capital) among random runs",
    ).show()

# %%
if deep.signals:
    deep_ranks = study.rank_among_random(deep_src.runs, "pnl_bps")
    d_net = study.trip_ci(deep_view, "model", "net_bps", boot)
    d_gross = study.trip_ci(deep_view, "model", "gross_bps", boot)

# %% tags=["remove-input"]
if deep.signals:
    say(
        vd.deeplob_verdict(
            deep.table,
            deep_src.strategy("model"),
            classical_same,
            deep_ranks,
            deep_costs,
            d_net,
            d_gross,
            model=DEEP_MODEL,
        )
    )
else:
    say(f"**DeepLOB.** {deep.note}")

# %% [markdown]
# ## 9. Posting instead of crossing: the same signals as maker orders
#
# A maker order pays no spread and a lower fee on futures (2 bps instead of 5 at Binance's
# regular tier; spot charges 10 either way). It waits at the best price of its side and fills
# only when the market trades *through* that price (a trade at the price itself may have filled
# the queue ahead of us instead), up to the size of those trades, within `MAKER_TTL_S`. The
# backtest allows one working order at a time and closes the final position as a taker.
#
# The catch is **adverse selection**: a resting buy order fills when sellers push the price
# down through it, which is exactly when a buyer would rather not be filled.

# %%
maker = study.maker_table(markets, signals, src)
MAKER_COLS = ["fill_rate", "maker_gross_bps", "maker_net_bps", "taker_gross_bps", "taker_net_bps"]
book_table(maker, MAKER_COLS, index="segment", pcts=["fill_rate"], digits=1)

# %% tags=["remove-input"]
say(vd.maker_verdict(maker, MAKER_TTL_S))

# %% [markdown]
# ## 10. Outputs
#
# The full tables go to the report directory; `metrics.json` holds the headline numbers.

# %%
overview.to_csv(out_dir / "markets.csv")
selection.to_csv(out_dir / "selection.csv", index=False)
src.runs.to_csv(out_dir / "backtest.csv", index=False)
src.orders.to_csv(out_dir / "orders.csv", index=False)
src.trips.to_csv(out_dir / "round_trips.csv", index=False)
trip_cis.to_csv(out_dir / "trip_cis.csv", index=False)
maker.to_csv(out_dir / "maker.csv", index=False)
if deep.signals:
    deep_src.runs.assign(source=DEEP_MODEL).to_csv(out_dir / "backtest_deeplob.csv", index=False)

# %%
SUMMARY_COLS = ["n_orders", "n_round_trips", "turnover_quote", "gross_pnl_bps", "pnl_bps"]
SUMMARY_COLS += ["mean_trade_bps", "sharpe_per_trade", "hit_rate", "max_drawdown_bps"]

# %%
parameters = dict(
    segments=list(markets),
    levels=LEVELS,
    horizon_s=HORIZON,
    models=MODELS,
    fractions=FRACTIONS,
    order_value=ORDER_VALUE,
    latency_s=LATENCY_S,
    cooldown_s=COOLDOWN_S,
    n_random=N_RANDOM,
    deep_model=DEEP_MODEL,
    deep_max_age_s=DEEP_MAX_AGE_S,
    taker_fee_bps={k: m.instrument.taker_fee_bps for k, m in markets.items()},
    maker_fee_bps={k: m.instrument.maker_fee_bps for k, m in markets.items()},
)

# %%
backtest = {
    s: src.strategy(s).set_index("segment")[SUMMARY_COLS]
    for s in ("model", "perfect_foresight", "holding")
}

# %%
backtest |= {
    "random_pnl_bps": ranks.set_index("segment")[["random_median", "random_p05", "random_p95"]],
    "model_share_of_random_below": ranks.set_index("segment")["model_share_of_random_below"],
    "trip_cis": trip_cis,
    "maker": maker.set_index("segment"),
}
deep_metrics = {"signals_found": bool(deep.signals), "model": DEEP_MODEL, "note": deep.note}
if deep.signals:
    deep_metrics |= {
        "overlap": deep.table,
        "skipped": deep.skipped,
        "model_runs": deep_src.strategy("model").set_index("segment")[SUMMARY_COLS],
        "classical_same_times": classical_same.set_index("segment")[SUMMARY_COLS],
        "trip_cis": study.trip_ci_table(deep_view, boot, strategies=("model",)),
    }

# %%
metrics = {
    "parameters": parameters,
    "chosen_model": dict(zip(selection["segment"], selection["chosen"], strict=True)),
    "test_r2_oos": dict(zip(selection["segment"], selection["test_r2_oos"], strict=True)),
    "backtest": backtest,
    "deeplob": deep_metrics,
}
write_metrics(out_dir, metrics)
print(", ".join(sorted(p.name for p in out_dir.iterdir())))

# %% [markdown]
# ## Key takeaways
#
# - A backtest that fills orders at the mid, or at the best price whatever their size, tells
#   you about the forecast, not about a strategy. Here every order arrives after a latency and
#   walks the book that was there at arrival, and it pays the half-spread, the depth slippage
#   and the fee.
# - Declare the instrument once: contract value and fees live on it, and the accounting asks
#   it, so a COIN-M book and a spot book go through the same code.
# - On liquid crypto books the spread is often a fraction of a basis point while the taker fee is
#   5 to 10 bps per side, so a round trip costs 10 to 20 bps. A forecast has to be right by more
#   than that; section 7 compares it with how far the mids here move within the horizon.
# - Perfect foresight at the model's trade times is the ceiling. When even the ceiling loses
#   money net of costs, no forecast at that horizon and rate can pay for trading as a taker; the
#   question becomes how to trade less, slower, or as a maker.
# - Random signals at the same trade rate give the distribution of luck; a strategy is
#   interesting only well outside it, and its mean P&L per trade needs an interval that respects
#   the dependence between neighbouring trades.
# - A maker pays no spread but is filled when the price moves against it: adverse selection
#   replaces the spread as the cost.

# %% [markdown]
# ## Exercises
#
# 1. Double the latency to 0.2 s and then set it to 0. How much does the model's gross P&L
#    change? Why does latency matter less here than in a market-making strategy?
# 2. Trade only strong forecasts: set `SIGNAL_THRESHOLD_BPS` to the round-trip cost (twice the
#    taker fee). How many trades remain, and what happens to the mean net P&L per trade?
# 3. Rerun section 9 with a maker time-to-live of 1 s and of 30 s. How do the fill rate and the
#    slippage of the filled orders change? What does that say about adverse selection?

# %% [markdown]
# ````{admonition} Solution 1
# :class: dropdown
# The model's forecasts are about a 10-second move, and a tenth of a second is a small part of
# it; the fills barely change because the best level of these books rarely moves within a
# tenth of a second. A market maker lives on the spread and on being first in the queue:
# there, 100 ms decides whether an order is filled at all, and by whom.
# ````

# %% tags=["hide-input"]
# Solution 1: the model's gross P&L (bps of capital) at three latencies
rows = []
for lat in (0.0, LATENCY_S, 2 * LATENCY_S):
    for name, info in signals.items():
        cfg = dataclasses.replace(src.configs[name], latency_s=lat)
        r = bt.run_backtest(markets[name].book, info.decision_ts, info.target, cfg)
        rows.append({"segment": name, "latency_s": lat} | r.summary)
lat_runs = pd.DataFrame(rows).pivot(index="segment", columns="latency_s", values="gross_pnl_bps")
book_table(lat_runs.rename(columns=lambda c: f"gross_bps_{c:g}s"), digits=1)

# %% [markdown]
# ````{admonition} Solution 2
# :class: dropdown
# The forecasts of return over 10 s are rarely larger than 10 to 20 bps, so few or no trades
# remain. Fewer trades cost less in total, but a forecast that large is rare and the few that
# remain carry no measurable edge.
# ````

# %% tags=["hide-input"]
# Solution 2: round trips and mean net P&L per trip with a threshold of twice the taker fee
rows = []
for name, info in signals.items():
    thr = 2 * markets[name].instrument.taker_fee_bps
    direction = ev.regression_signal(info.forecast, thr)
    target = bt.hold_targets(info.decision_ts, direction, float(HORIZON))
    r = bt.run_backtest(markets[name].book, info.decision_ts, target, src.configs[name])
    rows.append({"segment": name, "threshold_bps": thr} | r.summary)
cols = ["threshold_bps", "n_round_trips", "mean_trade_bps"]
book_table(pd.DataFrame(rows), cols, index="segment", ints=cols[:2])

# %% [markdown]
# ````{admonition} Solution 3
# :class: dropdown
# A longer life fills more, and the extra fills come from larger moves through our price: the
# mid has moved against the order by the time it fills. The fill rate and the quality of the
# fills pull in opposite directions: that is adverse selection.
# ````

# %% tags=["hide-input"]
# Solution 3: maker fill rate and net P&L at a time to live of 1 s and 30 s
rows = []
for ttl in (1.0, 30.0):
    ttl_src = dataclasses.replace(
        src, configs={k: dataclasses.replace(c, maker_ttl_s=ttl) for k, c in src.configs.items()}
    )
    rows.append(study.maker_table(markets, signals, ttl_src).assign(ttl_s=ttl))
ttl = pd.concat(rows).pivot(index="segment", columns="ttl_s")[["fill_rate", "maker_net_bps"]]
ttl.columns = [f"{a}_{b:g}s" for a, b in ttl.columns]
book_table(ttl, pcts=["fill_rate_1s", "fill_rate_30s"], digits=1)

# %% [markdown]
# ## References
#
# - Cont, Kukanov & Stoikov (2014), *The price impact of order book events*
#   {cite}`cont2014price`.
# - Künsch (1989), *The jackknife and the bootstrap for general stationary observations*
#   {cite}`kunsch1989jackknife`.
# - López de Prado (2018), *Advances in financial machine learning*
#   {cite}`lopezdeprado2018advances`.
# - Zhang, Zohren & Roberts (2019), *DeepLOB* {cite}`zhang2019deeplob`.
#
# The full list is on the {doc}`/references` page.
