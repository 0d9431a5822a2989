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
# # 8. From forecasts to trades: a backtest with costs, and optimal liquidation
#
# A forecast is worth what a trader can earn with it after paying to trade. This chapter turns
# the best classical model of chapter 6, and the DeepLOB classifiers of chapter 7, into orders
# and runs them through an event-driven backtest on the reconstructed book. Each order arrives a little after its decision and walks
# the real price levels at arrival. It pays the spread, the slippage of the deeper levels and
# the exchange's fee. The result is compared with buying and holding, with random trading at
# the same rate, and with perfect foresight, the upper bound no forecast can beat. The second
# half asks the opposite question: a trader *has* to sell a large position within a minute.
# How should the sale be cut into slices? Almgren and Chriss (2000) {cite}`almgren2000optimal`
# answer it with a model of impact and risk. We estimate that model from the book, and measure every
# schedule by its
# implementation shortfall on the real book.
#
# **Learning objectives.** After this chapter you can
#
# - turn model forecasts into target positions, and target positions into orders with a decision
#   latency, a cooldown and position limits (`lobutils.trading.backtest`);
# - fill taker orders by walking the reconstructed book at arrival, and split what a trade costs
#   into half-spread, depth slippage and fees;
# - read a backtest against three benchmarks: holding, random signals at the same trade rate
#   and the perfect-foresight bound; and put an interval on the mean P&L per trade;
# - derive the Almgren–Chriss trajectory, check its TWAP limit, and estimate its volatility and
#   temporary impact from the mid and from the depth of the book (`lobutils.trading.execution`);
# - compare TWAP, VWAP, AC at several risk aversions and a predictive schedule by the mean and
#   the standard deviation of their implementation shortfall: the efficient frontier.
#
# **Prerequisites.** Chapter 2 (the reconstructed book), chapter 3 (features, OFI), chapter 4
# (forward returns), chapter 6 (the model zoo and its evaluation protocol) and, for section 8,
# chapter 7's `signals.parquet` (without it, that section says so and the chapter goes on).
#
# **Outputs.** The figures and tables below, and in `reports/08_strategy_and_execution/`:
# `backtest.csv` (one row per strategy run), `orders.csv` (every order of the model),
# `round_trips.csv`, `shortfall.csv` (one row per start time and schedule), `frontier.csv`,
# `backtest_deeplob.csv` (the DeepLOB runs, when chapter 7's signals are there) and
# `metrics.json` with the headline numbers (DeepLOB's under `deeplob`).
#
# **A caveat on size.** The bundled recordings are six to eleven minutes per market. The test
# block of each model holds a few minutes and a few dozen trades. The liquidation windows
# overlap. Every number here shows the method at work on little data; none is evidence about
# these markets. The same chapter runs on any recording directory in the bundled format
# (`DATA_DIR`), and longer recordings give the numbers some weight.

# %% [markdown]
# ## Setup

# %%
import dataclasses
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import display
from sklearn.exceptions import ConvergenceWarning

from lobutils import evaluation as ev
from lobutils.book import reconstruct
from lobutils.data import read_binance_recording, segment, segments
from lobutils.features.dataset import build_dataset
from lobutils.markets import contract_value, fees_bps
from lobutils.models import zoo
from lobutils.paths import report_dir, write_metrics
from lobutils.plots import trading as plots
from lobutils.plots.style import units
from lobutils.report import fmt_ci, say, setup_display
from lobutils.trading import backtest as bt
from lobutils.trading import execution as ex

setup_display()
NS = 1_000_000_000


# %% tags=["parameters"]
DATA_DIR = None  # a directory of <market>_<symbol>_<YYYYMMDD>.gz recordings; None: the bundled data
SEGMENTS = None  # segment names, e.g. ["spot_btcusdt"]; None: every segment found
LEVELS = 100  # book levels per side kept for walking the book (deep enough for the liquidation)
FEATURE_LEVELS = 25  # book levels per side of the model's features (as in chapter 6)
GRID = "1s"  # decision clock of the model
HORIZON = 10  # forecast horizon and holding time of a signal (s)
MODELS = ["linear", "tree", "xgboost"]  # candidate classical models; the best on validation trades
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
LIQUIDATION_VALUE = 250_000.0  # size of the position to sell, in quote currency
LIQUIDATION_HORIZON_S = 60.0  # T (s)
N_SLICES = 12  # n: slices every T / n seconds
RISK_AVERSIONS = [1e-6, 1e-5, 1e-4, 1e-3]  # AC lambda, per unit of quote currency
START_EVERY_S = 10.0  # a liquidation starts every this many seconds
SIGMA_WINDOW_S = 120.0  # past window of the volatility estimate (s)
IMPACT_WINDOW_S = 60.0  # past window of the impact estimate (s)
VWAP_LOOKBACK_S = 120.0  # past window of the volume profile (s)
PREDICTIVE_ALPHA = 0.5  # speed-up of the predictive schedule
OFI_WINDOW_S = 1.0  # the predictive signal: sign of the OFI over this past window (s)
PERMANENT_BPS_PER_MILLION = 0.0  # permanent impact (bps per million of quote traded)
SEED = 0
REPORT_DIR = None  # where the outputs go; None: reports/08_strategy_and_execution/

# %%
out_dir = report_dir("08_strategy_and_execution", REPORT_DIR)
chosen = segments(DATA_DIR) if SEGMENTS is None else [segment(n, DATA_DIR) for n in SEGMENTS]
models = zoo.make_models(MODELS, seed=SEED)
print(f"{len(chosen)} segment(s): {[s.name for s in chosen]}")

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

# %%
markets = {}
for seg in chosen:
    rec = read_binance_recording(seg.files)
    frame = reconstruct(rec, levels=LEVELS, include_invalid=True).frame
    book = bt.book_arrays_of(frame)
    del frame
    ds = build_dataset(rec, grid=GRID, levels=FEATURE_LEVELS, horizons=(HORIZON,))
    cv = contract_value(seg.market, seg.symbol)
    maker_fee, taker_fee = fees_bps(seg.market)
    markets[seg.name] = {
        "segment": seg,
        "trades": rec.trades,
        "book": book,
        "dataset": ds,
        "contract_value": cv,
        "taker_fee_bps": taker_fee if TAKER_FEE_BPS is None else float(TAKER_FEE_BPS),
        "maker_fee_bps": maker_fee if MAKER_FEE_BPS is None else float(MAKER_FEE_BPS),
        "units": units(seg.market, seg.symbol),
    }


def visible_depth_quote(m: dict) -> float:
    """Median quote value of the visible bid side."""
    b, cv = m["book"], m["contract_value"]
    val = b.bid_qty * (cv if cv is not None else np.nan_to_num(b.bid_px))
    return float(np.median(val.sum(axis=1)))


overview = pd.DataFrame(
    {
        name: {
            "market": m["segment"].market,
            "contract_value": m["contract_value"],
            "book_states": m["book"].ts.size,
            "minutes": (m["book"].ts[-1] - m["book"].ts[0]) / NS / 60,
            "trades": len(m["trades"]),
            "median_spread_bps": float(np.nanmedian(m["dataset"].spread_bps)),
            f"bid_depth_{LEVELS}_levels_quote": visible_depth_quote(m),
            "taker_fee_bps": m["taker_fee_bps"],
            "maker_fee_bps": m["maker_fee_bps"],
        }
        for name, m in markets.items()
    }
).T
overview

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
zoo_cfg = zoo.ZooConfig(
    models=models,
    targets=("return",),
    horizons=(HORIZON,),
    holdout=ev.HoldoutConfig(fractions=tuple(FRACTIONS)),
    importance_repeats=0,
    seed=SEED,
)
selection_rows, signal_info = [], {}
for name, m in markets.items():
    ds = m["dataset"]
    try:
        td = zoo.make_task(ds, HORIZON, "return", zoo_cfg)
    except ValueError as exc:
        print(f"{name}: skipped ({exc})")
        continue
    train, val, test = (np.asarray(a) for a in (td.split.train, td.split.val, td.split.test))
    scores = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for mc in models:
            tuned = zoo.tune(mc, "regression", td.X, td.y, td.split).best
            r = ev.fit_predict_fold(
                tuned.build("regression"), td.X, td.y, ev.Fold(train, val), scaler=tuned.scaler
            )
            scores[mc.name] = (ev.mse(td.y[val], r.y_pred), tuned)
        best_name = min(scores, key=lambda k: scores[k][0])
        best_cfg = scores[best_name][1]
        fit = zoo.fit_final(best_cfg, "regression", td.X, td.y, td.split)
    pred = np.asarray(fit.y_pred, dtype=float)
    dts = td.ts[test]
    direction = ev.regression_signal(pred, SIGNAL_THRESHOLD_BPS)
    target = bt.hold_targets(dts, direction, float(HORIZON))
    signal_info[name] = {
        "decision_ts": dts,
        "target": target,
        "forecast": pred,
        "model": best_name,
        "median_abs_move_bps": float(np.median(np.abs(td.y[test]))),
        "y": td.y[test],
        "train_mean_abs_bps": float(np.mean(np.abs(td.y[train]))),
    }
    row = {"segment": name, "chosen": best_name}
    row |= {f"val_mse_{k}": v[0] for k, v in scores.items()}
    row |= {
        "test_rows": test.size,
        "test_minutes": (dts[-1] - dts[0]) / NS / 60,
        "test_r2_oos": ev.r2_oos(td.y[test], pred),
        "test_hit_rate": float(np.mean(np.sign(pred) == np.sign(td.y[test]))),
        "median_abs_move_bps": signal_info[name]["median_abs_move_bps"],
        "signal_share": float(np.mean(direction != 0)),
        "position_changes": int(np.count_nonzero(np.diff(np.concatenate([[0.0], target])))),
    }
    selection_rows.append(row)
if not selection_rows:
    raise ValueError("no segment could be split into train, validation and test blocks")
selection = pd.DataFrame(selection_rows)
selection.round(3)

# %%
say(
    "The model chosen on the validation block: "
    + ", ".join(f"**{r.chosen}** on {r.segment}" for r in selection.itertuples())
    + ". Its out-of-sample $R^2$ on the test block (against forecasting no move) is negative in "
    f"{int((selection['test_r2_oos'] < 0).sum())} of {len(selection)} markets (its best is "
    f"{selection['test_r2_oos'].max():.3f}): as a forecast of the size of the move it does worse "
    f"than forecasting no move at all. It gets the sign of the {HORIZON}-second return right on "
    f"{selection['test_hit_rate'].min():.0%} to {selection['test_hit_rate'].max():.0%} of the "
    "test rows. Chapter 6 put intervals on such numbers; here the question is what they are "
    "worth in money."
)

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
def backtest_source(infos: dict) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Backtest one source of signals (per market: decision times and targets) next to the
    benchmarks; the comparisons, and the runs, orders and round trips of all markets."""
    comparisons, tables, order_tables, trip_tables = {}, [], [], []
    for name, info in infos.items():
        m = markets[name]
        dts = info["decision_ts"]
        m0 = float(m["book"].mid_at(dts[:1])[0])
        qty = bt.qty_for_value(ORDER_VALUE, m0, m["contract_value"])
        cfg = bt.BacktestConfig(
            order_qty=qty,
            max_position=MAX_POSITION * qty,
            max_notional=MAX_NOTIONAL,
            latency_s=LATENCY_S,
            cooldown_s=COOLDOWN_S,
            taker_fee_bps=m["taker_fee_bps"],
            maker_fee_bps=m["maker_fee_bps"],
            maker_ttl_s=MAKER_TTL_S,
            contract_value=m["contract_value"],
        )
        info["backtest_config"] = cfg
        cmp = bt.compare_strategies(
            m["book"], dts, info["target"], cfg, m["trades"], seeds=range(SEED, SEED + N_RANDOM)
        )
        comparisons[name] = cmp
        tables.append(cmp.table.assign(segment=name))
        order_tables.append(cmp.results["model"].orders.assign(segment=name))
        for key, res in cmp.results.items():
            trip_tables.append(
                res.round_trips.assign(
                    segment=name, strategy=key.split("_")[0] if key.startswith("random_") else key
                )
            )
    return (
        comparisons,
        pd.concat(tables, ignore_index=True),
        pd.concat(order_tables, ignore_index=True),
        pd.concat(trip_tables, ignore_index=True),
    )


comparisons, runs, orders, trips = backtest_source(signal_info)
for name, info in signal_info.items():
    markets[name]["backtest_config"] = info["backtest_config"]
cols = [
    "segment",
    "n_orders",
    "n_round_trips",
    "n_skipped_cooldown",
    "n_partial",
    "turnover_quote",
    "gross_pnl_bps",
    "pnl_bps",
    "mean_trade_bps",
    "sharpe_per_trade",
    "hit_rate_gross",
    "hit_rate",
    "mean_slippage_bps",
    "max_drawdown_bps",
]
SUMMARY_COLS = [
    "n_orders",
    "n_round_trips",
    "turnover_quote",
    "gross_pnl_bps",
    "pnl_bps",
    "mean_trade_bps",
    "sharpe_per_trade",
    "hit_rate",
    "hit_rate_gross",
    "max_drawdown_bps",
]  # the headline columns of metrics.json
model_runs = runs[runs["strategy"] == "model"]
model_runs[cols].round(2)

# %% [markdown]
# The table is the model's run per market: orders sent, round trips (flat to flat, a flip
# closes one and opens the next), decisions skipped by the cooldown, partial fills, turnover,
# the P&L gross and net in bps of the capital (one `ORDER_VALUE` position), the mean net P&L
# per round trip in bps of its notional, its Sharpe ratio per round trip, the share of round
# trips that were right before costs (`hit_rate_gross`) and after (`hit_rate`), the mean
# slippage of a fill against the mid, and the maximum drawdown.
#
# Here is one market's orders, as the backtest records them:

# %%
first = next(iter(comparisons))
comparisons[first].results["model"].orders[
    [
        "decision_ts",
        "arrival_ts",
        "side",
        "filled_qty",
        "vwap",
        "mid",
        "slippage_bps",
        "half_spread_bps",
        "depth_bps",
        "fee_quote",
        "position",
        "levels",
    ]
].head(8)

# %% [markdown]
# ## 4. Equity curves
#
# The P&L over time, marked to the mid, in bps of the capital of one position. Thin grey lines
# are the random runs, one per seed; the model is blue, holding green, perfect foresight purple.


# %%
def equity_of(comparisons: dict, infos: dict) -> pd.DataFrame:
    """Every run's equity curve in bps of its capital, time from the first decision."""
    eq_parts = []
    for name, cmp in comparisons.items():
        t0 = infos[name]["decision_ts"][0]
        for key, res in cmp.results.items():
            cap = res.summary["capital_quote"]
            e = res.equity
            eq_parts.append(
                pd.DataFrame(
                    {
                        "segment": name,
                        "strategy": "random" if key.startswith("random_") else key,
                        "seed": int(key.split("_")[1]) if key.startswith("random_") else -1,
                        "t_s": (e["ts"].to_numpy() - t0) / NS,
                        "equity_bps": e["equity"].to_numpy() / cap * 1e4,
                    }
                )
            )
    return pd.concat(eq_parts, ignore_index=True)


equity_frame = equity_of(comparisons, signal_info)
plots.equity_curves(
    equity_frame, title="net p&l over the test block, marked to the mid (bps of one position)"
).show()

# %% [markdown]
# Each downward step of the model's curve is a trade: a round trip at the taker fee costs twice
# the fee before the price has moved at all. The perfect-foresight curve shows the same
# staircase, with steps up between the trades.

# %% [markdown]
# ## 5. Where the money goes: costs against the gross edge


# %%
def breakdown(t: pd.DataFrame) -> pd.DataFrame:
    cap = t["capital_quote"]
    return pd.DataFrame(
        {
            "segment": t["segment"],
            "strategy": t["strategy"],
            "gross_bps": t["gross_pnl_quote"] / cap * 1e4,
            "spread_bps": t["spread_cost_quote"] / cap * 1e4,
            "depth_bps": t["depth_cost_quote"] / cap * 1e4,
            "fees_bps": t["fees_quote"] / cap * 1e4,
            "net_bps": t["net_pnl_quote"] / cap * 1e4,
        }
    )


costs = breakdown(model_runs)
plots.cost_breakdown(
    costs, title="the model: gross p&l (●), its costs (bars) and what is left (◆), bps of capital"
).show()

# %%
pf_runs = runs[runs["strategy"] == "perfect_foresight"]
pf_costs = breakdown(pf_runs)
plots.cost_breakdown(
    pf_costs, title="perfect foresight at the model's trade times: gross, costs and net (bps)"
).show()

# %%
tot = model_runs[["spread_cost_quote", "depth_cost_quote", "fees_quote"]].sum()
fee_share = float(tot["fees_quote"] / tot.sum()) if tot.sum() > 0 else math.nan
spread_share = float(tot["spread_cost_quote"] / tot.sum()) if tot.sum() > 0 else math.nan
fills = orders[orders["filled_qty"] > 0]
say(
    f"Across the markets the model's costs add up to "
    f"{float((costs['spread_bps'] + costs['depth_bps'] + costs['fees_bps']).sum()):.0f} bps of "
    f"one position's capital, against a gross P&L of {float(costs['gross_bps'].sum()):.0f} bps. "
    f"Fees are {fee_share:.1%} of the costs, the half-spread {spread_share:.1%} and the depth "
    f"slippage the rest. At {ORDER_VALUE:,.0f} per order the best level alone fills "
    f"{float((fills['levels'] == 1).mean()):.0%} of the orders (the deepest walk takes "
    f"{fills['levels'].max():.0f} levels), and a fill costs {fills['slippage_bps'].median():.2f} bps against the mid at the median. "
    f"The median spread of these books is {overview['median_spread_bps'].min():.3f} to "
    f"{overview['median_spread_bps'].max():.3f} bps; the taker fee is "
    f"{overview['taker_fee_bps'].min():g} to {overview['taker_fee_bps'].max():g} bps per side. "
    "A strategy that crosses the spread has to be right by more than twice the fee per round trip."
)

# %% [markdown]
# ## 6. The P&L distribution and the benchmarks
#
# First the round trips: the net P&L of each, in bps of its notional, for the model, perfect
# foresight and all random runs pooled over the markets.

# %%
trip_view = trips[trips["closed"]]
plots.pnl_distribution(
    trip_view[trip_view["strategy"].isin(["model", "perfect_foresight", "random"])],
    title="net p&l per round trip (bps of notional), all markets",
).show()

# %% [markdown]
# Then the whole test block: the net P&L of each random run (histogram) next to the model,
# holding and perfect foresight (vertical lines), per market.

# %%
plots.random_distribution(
    runs,
    metric="pnl_bps",
    title="net p&l of the test block (bps of capital): random runs and the rest",
).show()


# %%
def rank_among_random(t: pd.DataFrame, metric: str) -> pd.DataFrame:
    rows = []
    for name, g in t.groupby("segment", sort=False):
        rnd = g.loc[g["strategy"] == "random", metric].to_numpy()
        row = {"segment": name}
        for s in ("model", "holding", "perfect_foresight"):
            v = float(g.loc[g["strategy"] == s, metric].iloc[0])
            row[s] = v
        row["random_median"] = float(np.median(rnd))
        row["random_p05"], row["random_p95"] = (float(x) for x in np.quantile(rnd, [0.05, 0.95]))
        row["model_share_of_random_below"] = float(np.mean(rnd < row["model"]))
        rows.append(row)
    return pd.DataFrame(rows)


ranks = rank_among_random(runs, "pnl_bps")
ranks.round(2)

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


def trip_ci(strategy: str, value: str, view: pd.DataFrame | None = None) -> ev.BootstrapCI | None:
    view = trip_view if view is None else view
    v = view.loc[view["strategy"] == strategy, value].to_numpy()
    v = v[np.isfinite(v)]
    if v.size < max(2, BLOCK_TRIPS):
        return None
    return ev.block_bootstrap_ci(np.mean, v, config=boot)


ci_rows = []
for s in ("model", "perfect_foresight", "holding"):
    for value in ("net_bps", "gross_bps"):
        ci = trip_ci(s, value)
        n_trips = int((trip_view["strategy"] == s).sum())
        ci_rows.append(
            {
                "strategy": s,
                "value": value,
                "n_trips": n_trips,
                "mean": ci.estimate if ci else math.nan,
                "ci_low": ci.ci_low if ci else math.nan,
                "ci_high": ci.ci_high if ci else math.nan,
            }
        )
trip_cis = pd.DataFrame(ci_rows)
trip_cis.round(2)

# %%
ci_net = trip_cis.query("strategy == 'model' and value == 'net_bps'").iloc[0]
ci_gross = trip_cis.query("strategy == 'model' and value == 'gross_bps'").iloc[0]
pf_net = trip_cis.query("strategy == 'perfect_foresight' and value == 'net_bps'").iloc[0]
n_seg = len(model_runs)
n_model_pos = int((model_runs["pnl_bps"] > 0).sum())
n_pf_neg = int((pf_runs["pnl_bps"] < 0).sum())
n_model_beats_median = int((ranks["model"] > ranks["random_median"]).sum())
n_model_above_p95 = int((ranks["model"] > ranks["random_p95"]).sum())
hold_runs = runs[runs["strategy"] == "holding"]
moves = np.array([signal_info[k]["median_abs_move_bps"] for k in model_runs["segment"]])
fees_rt = np.array([2 * markets[k]["taker_fee_bps"] for k in model_runs["segment"]])
n_model_beats_hold = int((model_runs["pnl_bps"].to_numpy() > hold_runs["pnl_bps"].to_numpy()).sum())
net_verdict = (
    "loses money net of costs, and the whole interval is below zero"
    if ci_net["ci_high"] < 0
    else (
        "makes money net of costs, and the whole interval is above zero"
        if ci_net["ci_low"] > 0
        else "cannot be told apart from zero net of costs"
    )
)
gross_verdict = (
    "a positive gross edge beyond the interval"
    if ci_gross["ci_low"] > 0
    else (
        "a negative gross edge beyond the interval"
        if ci_gross["ci_high"] < 0
        else "no gross edge that the interval can tell from zero"
    )
)
say(
    f"**Verdict.** Over {int(ci_net['n_trips'])} round trips in {n_seg} markets, the model's "
    f"mean net P&L per round trip is {fmt_ci(ci_net['mean'], ci_net['ci_low'], ci_net['ci_high'], 2)} "
    f"bps ({CONFIDENCE:.0%} block-bootstrap interval): the strategy {net_verdict}. Before costs "
    f"it earns {fmt_ci(ci_gross['mean'], ci_gross['ci_low'], ci_gross['ci_high'], 2)} bps per round "
    f"trip, {gross_verdict}. It ends the test block with a profit in {n_model_pos} of {n_seg} "
    f"markets, beats holding in {n_model_beats_hold}, beats the median random run in "
    f"{n_model_beats_median} and the 95th percentile of the random runs in {n_model_above_p95}.\n\n"
    f"Perfect foresight at the same trade times earns "
    f"{fmt_ci(pf_net['mean'], pf_net['ci_low'], pf_net['ci_high'], 2)} bps per round trip net of "
    f"costs, and loses money in {n_pf_neg} of {n_seg} markets: "
    + (
        "at this horizon and these taker fees, even knowing the future does not pay for "
        "crossing the spread. "
        if n_pf_neg == n_seg
        else "knowing the future would pay in some markets, but "
        "the model captures little of that bound. "
    )
    + f"The median absolute {HORIZON}-second move of the mid on the test rows is "
    f"{moves.min():.2f} to {moves.max():.2f} bps per market, against a round-trip taker fee of "
    f"{fees_rt.min():g} to {fees_rt.max():g} bps"
    + (": the typical move is smaller than the fee alone. " if (moves < fees_rt).all() else ". ")
    + (
        "Nothing survives costs here that a taker could trade; a forecast at this horizon could "
        "help a trader who pays no spread and much lower fees, or one who has to trade anyway "
        "(section 10)."
        if ci_net["ci_high"] < 0
        else "Whatever survives here needs a much longer test before anyone trades it."
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
deep_info, deep_rows, deep_skipped, deep_note = {}, [], {}, None
if deep_path is None:
    deep_note = "DEEP_SIGNALS = None: the DeepLOB backtest is skipped."
elif not deep_path.exists():
    deep_note = (
        f"No DeepLOB signals at {deep_path.parent.name}/{deep_path.name} (run chapter 7 first, "
        "or point DEEP_SIGNALS at its signals.parquet): the DeepLOB backtest is skipped."
    )
else:
    sig = pd.read_parquet(deep_path)
    sig = sig[
        (sig["model"] == DEEP_MODEL)
        & (sig["split"] == "test")
        & np.isclose(sig["horizon_s"].astype(float), HORIZON)
    ]
    for name, info in signal_info.items():
        s_m = sig[sig["segment"] == name]
        if s_m.empty:
            deep_skipped[name] = f"no {DEEP_MODEL} test signals at a {HORIZON} s horizon"
            continue
        dts = info["decision_ts"]
        keep = (dts >= s_m["ts"].min()) & (dts <= s_m["ts"].max())
        if keep.sum() < 2:
            deep_skipped[name] = "the two test blocks do not overlap"
            continue
        d = dts[keep]
        fc = bt.signal_forecasts(s_m, d, info["train_mean_abs_bps"], max_age_s=DEEP_MAX_AGE_S)
        direction = ev.regression_signal(np.nan_to_num(fc), SIGNAL_THRESHOLD_BPS)
        target = bt.hold_targets(d, direction, float(HORIZON))
        y, ok, ct = info["y"][keep], np.isfinite(fc), info["target"][keep]
        deep_info[name] = {
            "decision_ts": d,
            "target": target,
            "forecast": fc,
            "model": DEEP_MODEL,
            "median_abs_move_bps": float(np.median(np.abs(y))),
            "classical_target": ct,
        }
        deep_rows.append(
            {
                "segment": name,
                "test_minutes_ch8": (dts[-1] - dts[0]) / NS / 60,
                "overlap_minutes": (d[-1] - d[0]) / NS / 60,
                "overlap_rows": int(d.size),
                "share_with_signal": float(ok.mean()),
                "scale_bps": info["train_mean_abs_bps"],
                "hit_rate": float(np.mean(np.sign(fc[ok]) == np.sign(y[ok])))
                if ok.any()
                else math.nan,
                "classical_hit_rate": float(np.mean(np.sign(info["forecast"][keep]) == np.sign(y))),
                "signal_share": float(np.mean(direction != 0)),
                "position_changes": int(np.count_nonzero(np.diff(np.concatenate([[0.0], target])))),
                "classical_position_changes": int(
                    np.count_nonzero(np.diff(np.concatenate([[0.0], ct])))
                ),
            }
        )
    if not deep_info:
        deep_note = (
            "No market has DeepLOB test signals that overlap this chapter's test block: "
            + "; ".join(f"{k}: {v}" for k, v in deep_skipped.items())
        )
deep_sel = pd.DataFrame(deep_rows)
if deep_note:
    print(deep_note)
else:
    if deep_skipped:
        print("skipped: " + "; ".join(f"{k}: {v}" for k, v in deep_skipped.items()))
    display(deep_sel.round(3))

# %%
if deep_info:
    deep_cmp, deep_runs, deep_orders, deep_trips = backtest_source(deep_info)
    same_rows = []
    for name, info in deep_info.items():
        m = markets[name]
        r = bt.run_backtest(
            m["book"], info["decision_ts"], info["classical_target"], info["backtest_config"]
        )
        same_rows.append({"strategy": "classical", "seed": -1, "segment": name} | r.summary)
    deep_model_runs = deep_runs[deep_runs["strategy"] == "model"]
    classical_same = pd.DataFrame(same_rows)
    display(
        pd.concat([deep_model_runs.assign(strategy=DEEP_MODEL), classical_same])[
            ["strategy", *cols]
        ].round(2)
    )

# %% [markdown]
# The table holds DeepLOB's run per market on the overlap, and the classical model's on the
# same decision times, with the columns of section 3. The plots are those of sections 4 to 6,
# with DeepLOB in the model's place.

# %%
if deep_info:
    plots.equity_curves(
        equity_of(deep_cmp, deep_info),
        title=f"{DEEP_MODEL}: net p&l on the overlap of the two test blocks (bps of one position)",
    ).show()
    deep_costs = breakdown(deep_model_runs)
    plots.cost_breakdown(
        deep_costs, title=f"{DEEP_MODEL}: gross p&l (●), its costs (bars) and what is left (◆), bps"
    ).show()
    deep_view = deep_trips[deep_trips["closed"]]
    plots.pnl_distribution(
        deep_view[deep_view["strategy"].isin(["model", "perfect_foresight", "random"])],
        title=f"{DEEP_MODEL} (model): net p&l per round trip (bps of notional), all markets",
    ).show()
    plots.random_distribution(
        deep_runs,
        metric="pnl_bps",
        title=f"{DEEP_MODEL} (model): net p&l of the overlap (bps of capital) among random runs",
    ).show()
else:
    print(deep_note)


# %%
def ci_dict(ci: ev.BootstrapCI | None) -> dict:
    return {
        "estimate": ci.estimate if ci else math.nan,
        "ci": [ci.ci_low if ci else math.nan, ci.ci_high if ci else math.nan],
    }


def ci_text(ci: ev.BootstrapCI | None) -> str:
    if ci is None:
        return "not estimable (too few round trips for the bootstrap)"
    return f"{fmt_ci(ci.estimate, ci.ci_low, ci.ci_high, 2)} bps"


deep_metrics: dict = {"signals_found": bool(deep_info), "model": DEEP_MODEL, "note": deep_note}
if deep_info:
    deep_ranks = rank_among_random(deep_runs, "pnl_bps")
    d_net, d_gross = (
        trip_ci("model", "net_bps", deep_view),
        trip_ci("model", "gross_bps", deep_view),
    )
    n_d = len(deep_model_runs)
    d_pnl = deep_model_runs.set_index("segment")["pnl_bps"]
    c_pnl = classical_same.set_index("segment")["pnl_bps"]
    n_d_trips = int(deep_model_runs["n_round_trips"].sum())
    n_d_beats_cl = int((d_pnl > c_pnl.reindex(d_pnl.index)).sum())
    n_d_pos = int((d_pnl > 0).sum())
    n_d_above_med = int((deep_ranks["model"] > deep_ranks["random_median"]).sum())
    n_d_above_p95 = int((deep_ranks["model"] > deep_ranks["random_p95"]).sum())
    d_tot_costs = float(
        (deep_costs["spread_bps"] + deep_costs["depth_bps"] + deep_costs["fees_bps"]).sum()
    )
    say(
        f"**DeepLOB, net of costs.** On the overlap of the two test blocks "
        f"({deep_sel['overlap_minutes'].min():.1f} to {deep_sel['overlap_minutes'].max():.1f} "
        f"minutes per market, against {deep_sel['test_minutes_ch8'].min():.1f} to "
        f"{deep_sel['test_minutes_ch8'].max():.1f} minutes of this chapter's test block), "
        f"{DEEP_MODEL} has a signal at {deep_sel['share_with_signal'].min():.0%} to "
        f"{deep_sel['share_with_signal'].max():.0%} of the decision times and changes its position "
        f"{int(deep_sel['position_changes'].sum())} times (the classical model "
        f"{int(deep_sel['classical_position_changes'].sum())} times on the same decision times): "
        f"{n_d_trips} round trips in {n_d} market(s). Its sign is right on "
        f"{deep_sel['hit_rate'].min():.0%} to {deep_sel['hit_rate'].max():.0%} of the decision "
        f"times (the classical model: {deep_sel['classical_hit_rate'].min():.0%} to "
        f"{deep_sel['classical_hit_rate'].max():.0%} on the same times). Its mean net P&L per "
        f"round trip is {ci_text(d_net)}, its gross {ci_text(d_gross)}. Its costs add up to "
        f"{d_tot_costs:.0f} bps of one position's capital against a gross P&L of "
        f"{float(deep_costs['gross_bps'].sum()):.0f} bps. It ends the overlap with a profit in "
        f"{n_d_pos} of {n_d} markets, beats the classical model on the same times in "
        f"{n_d_beats_cl}, the median random run in {n_d_above_med} and the 95th percentile of "
        f"the random runs in {n_d_above_p95}. "
        + (
            "The interval of the net mean lies below zero: net of taker costs, DeepLOB's "
            "signals lose money here, like the classical model's."
            if d_net is not None and d_net.ci_high < 0
            else "With this few minutes and trades, the comparison says little either way; it "
            "shows that the deep model's signals run through exactly the same accounting."
        )
    )
    deep_metrics |= {
        "overlap": deep_sel,
        "skipped": deep_skipped,
        "backtest": {
            "model": deep_model_runs[["segment", *SUMMARY_COLS]],
            "classical_same_times": classical_same[["segment", *SUMMARY_COLS]],
            "perfect_foresight": deep_runs[deep_runs["strategy"] == "perfect_foresight"][
                ["segment", *SUMMARY_COLS]
            ],
            "holding": deep_runs[deep_runs["strategy"] == "holding"][["segment", *SUMMARY_COLS]],
            "random_pnl_bps": deep_ranks[
                [
                    "segment",
                    "random_median",
                    "random_p05",
                    "random_p95",
                    "model_share_of_random_below",
                ]
            ],
            "mean_trade_net_bps": ci_dict(d_net),
            "mean_trade_gross_bps": ci_dict(d_gross),
            "n_round_trips": n_d_trips,
            "markets_with_profit": n_d_pos,
            "markets_beating_classical": n_d_beats_cl,
        },
    }
    deep_runs.assign(source=DEEP_MODEL).to_csv(out_dir / "backtest_deeplob.csv", index=False)
else:
    say(f"**DeepLOB.** {deep_note}")

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
maker_rows = []
for name, info in signal_info.items():
    m = markets[name]
    cfg = m["backtest_config"]
    mk = bt.run_backtest(
        m["book"],
        info["decision_ts"],
        info["target"],
        dataclasses.replace(cfg, order_type="maker"),
        m["trades"],
    )
    tk = comparisons[name].results["model"]
    o = mk.orders[mk.orders["maker"]]
    req = o["requested_qty"].sum()
    maker_rows.append(
        {
            "segment": name,
            "maker_orders": len(o),
            "fill_rate": float(o["filled_qty"].sum() / req) if req > 0 else math.nan,
            "maker_slippage_bps": float(
                np.average(o["slippage_bps"].fillna(0), weights=o["filled_qty"])
            )
            if o["filled_qty"].sum() > 0
            else math.nan,
            "maker_gross_bps": mk.summary["gross_pnl_bps"],
            "maker_net_bps": mk.summary["pnl_bps"],
            "taker_gross_bps": tk.summary["gross_pnl_bps"],
            "taker_net_bps": tk.summary["pnl_bps"],
        }
    )
maker = pd.DataFrame(maker_rows)
maker.round(2)

# %%
say(
    f"As a maker, the model's orders fill {maker['fill_rate'].min():.0%} to "
    f"{maker['fill_rate'].max():.0%} of their size within {MAKER_TTL_S:g} s, at "
    f"{maker['maker_slippage_bps'].median():.2f} bps against the mid at the median (negative: "
    f"better than the mid). The net P&L changes from {maker['taker_net_bps'].mean():.1f} bps of "
    f"capital per market on average as a taker to {maker['maker_net_bps'].mean():.1f} bps as a "
    "maker"
    + (
        " (no spread to pay, a lower fee where the maker fee is lower, and fewer fills). "
        if maker["maker_net_bps"].mean() > maker["taker_net_bps"].mean()
        else ". "
    )
    + "The gross P&L, measured from the "
    f"mid at each order's arrival, moves from {maker['taker_gross_bps'].mean():.1f} to "
    f"{maker['maker_gross_bps'].mean():.1f} bps: "
    + (
        "the maker keeps less of the forecast's edge, because the orders that fill are those the "
        "market moved against, and those that do not fill are those that would have paid. "
        if maker["maker_gross_bps"].mean() < maker["taker_gross_bps"].mean()
        else "on these few orders the fills did not select against the maker. "
    )
    + "The fill rule is conservative about the queue but assumes our order would not have "
    "changed the trades that filled it; exercise 3 asks how the answer moves with the time to "
    "live."
)

# %% [markdown]
# ## 10. Optimal liquidation: Almgren–Chriss on the real book
#
# Now the trader has no choice about trading: a position worth `LIQUIDATION_VALUE` must be sold
# within `LIQUIDATION_HORIZON_S` seconds, in `N_SLICES` slices $n_1, \dots, n_N$ sent every
# $\tau = T / N$ seconds. Selling fast costs impact; selling slowly leaves the rest of the
# position exposed to the price. Almgren & Chriss (2000) {cite}`almgren2000optimal` write the
# expected cost and its variance of a schedule with holdings $x_k = X - \sum_{j \le k} n_j$ as
#
# $$E = \tfrac12 \gamma X^2 + \epsilon \sum_k |n_k| + \frac{\tilde\eta}{\tau} \sum_k n_k^2,
# \qquad V = \sigma^2 \tau \sum_k x_k^2,$$
#
# with temporary impact $\eta$ (each slice pays $\eta n_k / \tau$ per unit beyond the
# half-spread $\epsilon$), permanent impact $\gamma$, and volatility $\sigma$ of one unit's value.
# Minimising $E + \lambda V$ for a risk aversion $\lambda$ gives
#
# $$x(t) = X \frac{\sinh(\kappa (T - t))}{\sinh(\kappa T)}, \qquad
# \kappa = \sqrt{\lambda \sigma^2 / \eta},$$
#
# a curve that sells faster early the larger $\kappa T$ is, and the straight line of TWAP as
# $\lambda \to 0$. (With slices of finite length the exact optimum has the same form, with
# $\kappa$ from $2(\cosh \kappa\tau - 1)/\tau^2 = \lambda\sigma^2/\tilde\eta$; `execution.ac_holdings`
# uses it, and the tests check it against a direct numerical minimisation.) $\lambda$ is in
# 1/USD here: $\lambda = 10^{-4}$ charges 1 USD for a shortfall standard deviation of 100 USD,
# on every market alike.
#
# **Estimating the model, past only.** At each start time $t_0$: $\sigma$ from the mid on a
# one-second grid over the previous `SIGMA_WINDOW_S` seconds; $\eta$ from the depth of the book
# over the previous `IMPACT_WINDOW_S` seconds. At each past second the book is walked for slices
# from 1/16 of $X$ to all of it; the median cost per unit at each size is fitted by a straight
# line, whose slope per slice gives $\eta = \text{slope} \times \tau$
# (`execution.estimate_impact`). The permanent impact cannot be measured by replaying a book
# that never saw our orders: it is a parameter (`PERMANENT_BPS_PER_MILLION`, 0 here).
#
# **The schedules.**
#
# - **TWAP**: equal slices.
# - **VWAP**: slices in proportion to the traded volume in each slice's position within the
#   previous `VWAP_LOOKBACK_S` seconds, cut into windows of length $T$ (past trades only).
# - **AC** at each risk aversion in `RISK_AVERSIONS`.
# - **Predictive**: TWAP of what is left, sped up when a short-horizon forecast says the price is
#   about to fall and slowed down when it says it will rise: each slice is the remaining
#   quantity over the slices left, times $1 + \alpha \cdot \text{side} \cdot s_k$, where $s_k$ is
#   the sign of the order-flow imbalance (OFI) of the last `OFI_WINDOW_S` at the slice time
#   (Cont, Kukanov & Stoikov 2014 {cite}`cont2014price`; `execution.predictive_slices`) and
#   $\alpha$ is `PREDICTIVE_ALPHA`. The last slice sells whatever is left.
#
# **The measure.** The implementation shortfall {cite}`perold1988implementation` against the
# arrival mid $m_0$: $X m_0$ minus the proceeds, in bps of $X m_0$, positive when the sale did worse
# than selling everything at
# the arrival mid. Each slice walks the book at its time. **Simplification: the book refills
# between slices**: each slice meets the recorded book as if our earlier slices had left no
# trace. A real book refills only partly, so the costs of fast schedules are understated. The
# shortfall splits into the *walk cost* (each slice against the mid at its time: what AC's
# impact terms model) and the *timing* part (the mid's moves between the arrival and the
# slices: AC's risk).
#
# Liquidations start every `START_EVERY_S` seconds after a warm-up. With a horizon longer than
# that step, neighbouring windows overlap and share price moves: they are not independent, and
# their count overstates the evidence.

# %%
liq_tables, est_tables, liq_info = [], [], {}
for name, m in markets.items():
    b, cv = m["book"], m["contract_value"]
    m_first = (
        float(b.mid_at(b.ts[:1])[0]) if np.isfinite(b.mid()[0]) else float(np.nanmedian(b.mid()))
    )
    X = bt.qty_for_value(LIQUIDATION_VALUE, m_first, cv)
    lcfg = ex.LiquidationConfig(
        qty=X,
        horizon_s=LIQUIDATION_HORIZON_S,
        n_slices=N_SLICES,
        risk_aversions=tuple(RISK_AVERSIONS),
        sigma_window_s=SIGMA_WINDOW_S,
        impact_window_s=IMPACT_WINDOW_S,
        vwap_lookback_s=VWAP_LOOKBACK_S,
        predictive_alpha=PREDICTIVE_ALPHA,
        signal_window_s=OFI_WINDOW_S,
        permanent_bps_per_million=PERMANENT_BPS_PER_MILLION,
        contract_value=cv,
    )
    starts = ex.start_times(b, lcfg, START_EVERY_S)
    if starts.size == 0:
        print(f"{name}: too short for a {LIQUIDATION_HORIZON_S:g} s liquidation after the warm-up")
        continue
    res = ex.liquidation_study(b, m["trades"], starts, lcfg)
    liq_tables.append(res.table.assign(segment=name))
    est_tables.append(res.estimates.assign(segment=name))
    liq_info[name] = {
        "config": lcfg,
        "result": res,
        "X": X,
        "unit_value": m_first if cv is None else cv,
    }
if not liq_tables:
    raise ValueError("no segment is long enough for the warm-up and one liquidation horizon")
shortfall = pd.concat(liq_tables, ignore_index=True)
estimates = pd.concat(est_tables, ignore_index=True)
pd.DataFrame(
    {
        name: {
            "X (units)": i["X"],
            "start_times": i["result"].table["start_ts"].nunique(),
            "median_sigma_bps_per_sqrt_s": float(
                np.median(i["result"].estimates["sigma"]) / i["unit_value"] * 1e4
            ),
            "median_eta_slice": float(np.median(i["result"].estimates["eta_slice"])),
            "median_half_spread_bps": float(
                np.median(i["result"].estimates["half_spread"]) / i["unit_value"] * 1e4
            ),
        }
        for name, i in liq_info.items()
    }
).T

# %% [markdown]
# The impact the fit sees: the median cost per unit of walking the book for a slice, against
# the slice's size as a share of $X$. It is flat while the best levels last and rises once the
# slice eats into the book: not the straight line of the model, which is why the evaluation
# walks the real book instead of trusting the line.

# %%
fr_cols = [c for c in estimates.columns if c.startswith("impact_bps_")]
curves = (
    estimates.groupby("segment", sort=False)[fr_cols]
    .median()
    .reset_index()
    .melt(id_vars="segment", var_name="size", value_name="cost_bps")
)
curves["size"] = curves["size"].str.removeprefix("impact_bps_").str.removesuffix("X").astype(float)
plots.impact_curves(
    curves.sort_values(["segment", "size"]),
    title=f"cost of one slice against the mid, median over past book states (x: share of {LIQUIDATION_VALUE:,.0f})",
).show()

# %% [markdown]
# The schedules of one liquidation (the middle start time of the first market): the share of
# the position still held over time.

# %%
ex_name = next(iter(liq_info))
ex_res = liq_info[ex_name]["result"]
w_mid = ex_res.table["start_ts"].nunique() // 2
hold_paths = {
    k: np.concatenate([[1.0], 1.0 - np.cumsum(v[w_mid]) / liq_info[ex_name]["X"]])
    for k, v in ex_res.schedules.items()
}
plots.schedules(
    hold_paths,
    LIQUIDATION_HORIZON_S,
    title=f"{ex_name}: inventory left under each schedule (one start time)",
).show()

# %%
kap = (
    shortfall[shortfall["strategy"].str.startswith("ac_")]
    .groupby(["segment", "strategy"], sort=False)[["kappa_T", "first_slice_share"]]
    .median()
    .unstack("strategy")
)
kap.round(2)

# %% [markdown]
# The table shows the median urgency $\kappa T$ and the share of $X$ sold in the first slice,
# per market and risk aversion. The same $\lambda$ makes a trader sell faster where the book is
# deep (small $\eta$) and the price volatile (large $\sigma$): $\kappa = \sqrt{\lambda\sigma^2/\eta}$.

# %% [markdown]
# ## 11. The shortfall of each schedule, and the efficient frontier

# %%
front = ex.frontier_table(shortfall, by=["segment", "strategy"])
parts = (
    shortfall.groupby(["segment", "strategy"], sort=False)[
        ["walk_cost_bps", "timing_bps", "unfilled_qty"]
    ]
    .mean()
    .reset_index()
)
front = front.merge(parts, on=["segment", "strategy"])
front[
    [
        "segment",
        "strategy",
        "n",
        "mean_bps",
        "std_bps",
        "walk_cost_bps",
        "timing_bps",
        "se_mean_bps",
    ]
].round(3)

# %%
theory_rows = []
lam_grid = np.logspace(-8, -1, 40)
for name, i in liq_info.items():
    e = i["result"].estimates
    sigma, eta_s, half = (float(np.median(e[c])) for c in ("sigma", "eta_slice", "half_spread"))
    cfg_l = i["config"]
    fr = ex.ac_frontier(
        i["X"], cfg_l.horizon_s, cfg_l.n_slices, sigma, eta_s * cfg_l.tau_s, lam_grid, epsilon=half
    )
    value = i["X"] * i["unit_value"]
    theory_rows.append(
        pd.DataFrame(
            {
                "segment": name,
                "risk_aversion": fr["risk_aversion"],
                "mean_bps": fr["expected_cost"] / value * 1e4,
                "std_bps": fr["std_cost"] / value * 1e4,
            }
        )
    )
theory = pd.concat(theory_rows, ignore_index=True)
plots.frontier(
    front,
    theory=theory,
    title="implementation shortfall: mean against std over start times (bps); dashed: the ac model",
).show()

# %% [markdown]
# Each point is one schedule in one market: its mean shortfall over the start times against
# the standard deviation. Lower and further left is better. The dashed line is the frontier the
# AC model predicts with the median $\sigma$ and $\eta$ of that market. The measured means carry
# the drift of these few minutes: their timing part is what the mid happened to do, and its
# standard error is about the std over the square root of the number of *independent* windows
# (fewer than the windows).
#
# A fair comparison between two schedules is paired: the same start time, the same price path.
# Below, each schedule minus TWAP, pooled over markets, with a block bootstrap whose blocks span
# the windows that overlap.

# %%
blk = max(1, math.ceil(LIQUIDATION_HORIZON_S / START_EVERY_S))
twap = shortfall[shortfall["strategy"] == "twap"].set_index(["segment", "start_ts"])
pair_rows = []
for s in dict.fromkeys(shortfall["strategy"]):
    if s == "twap":
        continue
    other = shortfall[shortfall["strategy"] == s].set_index(["segment", "start_ts"])
    d = (other["shortfall_bps"] - twap["shortfall_bps"]).to_numpy()
    walk_d = (other["walk_cost_bps"] - twap["walk_cost_bps"]).to_numpy()
    cfg_b = ev.BootstrapConfig(
        block_length=min(blk, d.size), n_boot=N_BOOT, confidence=CONFIDENCE, seed=SEED
    )
    ci = ev.block_bootstrap_ci(np.mean, d, config=cfg_b)
    pair_rows.append(
        {
            "strategy": s,
            "n_windows": d.size,
            "mean_diff_bps": ci.estimate,
            "ci_low": ci.ci_low,
            "ci_high": ci.ci_high,
            "walk_cost_diff_bps": float(walk_d.mean()),
            "std_ratio": float(other["shortfall_bps"].std() / twap["shortfall_bps"].std()),
        }
    )
paired = pd.DataFrame(pair_rows)
paired.round(3)

# %%
pooled = ex.frontier_table(shortfall).set_index("strategy")
walk_mean = shortfall.groupby("strategy")["walk_cost_bps"].mean()
best_mean = pooled["mean_bps"].idxmin()
best_std = pooled["std_bps"].idxmin()
ac_names = [s for s in pooled.index if s.startswith("ac_")]
most_urgent = ac_names[-1] if ac_names else None
better = paired[paired["ci_high"] < 0]["strategy"].tolist()
worse = paired[paired["ci_low"] > 0]["strategy"].tolist()
pred = paired[paired["strategy"] == "predictive"].iloc[0]
lines = [
    f"Over {int((shortfall['strategy'] == 'twap').sum())} start times in "
    f"{shortfall['segment'].nunique()} "
    f"markets, selling {LIQUIDATION_VALUE:,.0f} of quote value in {LIQUIDATION_HORIZON_S:g} s "
    f"costs TWAP {pooled.loc['twap', 'mean_bps']:.2f} bps on average (std "
    f"{pooled.loc['twap', 'std_bps']:.2f} bps). Of that mean, the walk through the book is "
    f"{walk_mean['twap']:.3f} bps and the mid's moves between the arrival and the slices "
    f"{shortfall.loc[shortfall['strategy'] == 'twap', 'timing_bps'].mean():.3f} bps."
]
if most_urgent:
    cuts = pooled.loc[most_urgent, "std_bps"] < pooled.loc["twap", "std_bps"]
    lines.append(
        f"The most risk-averse AC schedule ({most_urgent}) walks "
        f"{'deeper' if walk_mean[most_urgent] > walk_mean['twap'] else 'no deeper'} "
        f"({walk_mean[most_urgent]:.3f} bps of walk cost) and "
        + (
            f"cuts the standard deviation to {pooled.loc[most_urgent, 'std_bps']:.2f} bps: selling "
            "early trades impact for risk, as the model says"
            if cuts
            else f"has a standard deviation of {pooled.loc[most_urgent, 'std_bps']:.2f} bps"
        )
        + (
            f". Its extra walk cost, {walk_mean[most_urgent] - walk_mean['twap']:.3f} bps, is small "
            f"next to the {pooled.loc['twap', 'std_bps'] - pooled.loc[most_urgent, 'std_bps']:.2f} "
            "bps of standard deviation it removes: on books this deep for this size, timing risk "
            "is the larger cost."
            if cuts
            and walk_mean[most_urgent] - walk_mean["twap"]
            < pooled.loc["twap", "std_bps"] - pooled.loc[most_urgent, "std_bps"]
            else "."
        )
    )
lines.append(
    f"The lowest mean shortfall belongs to **{best_mean}** and the lowest standard deviation to "
    f"**{best_std}**. Against TWAP on the same windows, "
    + (
        f"{', '.join(better)} {'is' if len(better) == 1 else 'are'} cheaper beyond the "
        f"{CONFIDENCE:.0%} interval"
        if better
        else "no schedule is cheaper beyond the interval"
    )
    + (
        f", and {', '.join(worse)} {'is' if len(worse) == 1 else 'are'} dearer beyond it"
        if worse
        else ""
    )
    + "."
)
lines.append(
    f"The predictive schedule differs from TWAP by "
    f"{fmt_ci(pred['mean_diff_bps'], pred['ci_low'], pred['ci_high'], 3)} bps: "
    + (
        "the one-second OFI helps to time the slices here."
        if pred["ci_high"] < 0
        else "the sign of the last second's OFI does not buy a measurable saving on this data."
    )
    + " The differences between the means are mostly timing luck on a few overlapping minutes; "
    "the walk costs and the standard deviations are the parts that a longer recording would "
    "confirm."
)
say("\n\n".join(lines))

# %% [markdown]
# ## 12. Outputs

# %%
runs.to_csv(out_dir / "backtest.csv", index=False)
orders.to_csv(out_dir / "orders.csv", index=False)
trips.to_csv(out_dir / "round_trips.csv", index=False)
shortfall.to_csv(out_dir / "shortfall.csv", index=False)
front.to_csv(out_dir / "frontier.csv", index=False)
metrics = {
    "parameters": {
        "segments": list(markets),
        "levels": LEVELS,
        "horizon_s": HORIZON,
        "models": MODELS,
        "fractions": FRACTIONS,
        "order_value": ORDER_VALUE,
        "latency_s": LATENCY_S,
        "cooldown_s": COOLDOWN_S,
        "taker_fee_bps": {k: m["taker_fee_bps"] for k, m in markets.items()},
        "maker_fee_bps": {k: m["maker_fee_bps"] for k, m in markets.items()},
        "n_random": N_RANDOM,
        "liquidation_value": LIQUIDATION_VALUE,
        "liquidation_horizon_s": LIQUIDATION_HORIZON_S,
        "n_slices": N_SLICES,
        "risk_aversions": RISK_AVERSIONS,
        "start_every_s": START_EVERY_S,
        "deep_model": DEEP_MODEL,
        "deep_max_age_s": DEEP_MAX_AGE_S,
    },
    "chosen_model": dict(zip(selection["segment"], selection["chosen"], strict=True)),
    "test_r2_oos": dict(zip(selection["segment"], selection["test_r2_oos"], strict=True)),
    "backtest": {
        "model": model_runs.set_index("segment")[SUMMARY_COLS],
        "perfect_foresight": pf_runs.set_index("segment")[SUMMARY_COLS],
        "holding": hold_runs.set_index("segment")[SUMMARY_COLS],
        "random_pnl_bps": ranks.set_index("segment")[["random_median", "random_p05", "random_p95"]],
        "model_share_of_random_below": ranks.set_index("segment")["model_share_of_random_below"],
        "mean_trade_net_bps": {
            "estimate": ci_net["mean"],
            "ci": [ci_net["ci_low"], ci_net["ci_high"]],
        },
        "mean_trade_gross_bps": {
            "estimate": ci_gross["mean"],
            "ci": [ci_gross["ci_low"], ci_gross["ci_high"]],
        },
        "perfect_foresight_trade_net_bps": {
            "estimate": pf_net["mean"],
            "ci": [pf_net["ci_low"], pf_net["ci_high"]],
        },
        "n_round_trips": int(ci_net["n_trips"]),
        "markets_with_profit": n_model_pos,
        "markets_perfect_foresight_loses": n_pf_neg,
        "fee_share_of_costs": fee_share,
        "maker": maker.set_index("segment"),
    },
    "execution": {
        "frontier": pooled.reset_index(),
        "walk_cost_bps": walk_mean,
        "vs_twap": paired,
        "lowest_mean": best_mean,
        "lowest_std": best_std,
        "n_start_times": int((shortfall["strategy"] == "twap").sum()),
    },
    "deeplob": deep_metrics,
}
written = write_metrics(out_dir, metrics)
sorted(p.name for p in out_dir.iterdir())

# %% [markdown]
# ## Key takeaways
#
# - A backtest that fills orders at the mid, or at the best price whatever their size, tells
#   you about the forecast, not about a strategy. Here every order arrives after a latency and
#   walks the book that was there at arrival, and it pays the half-spread, the depth slippage
#   and the fee.
# - On liquid crypto books the spread is often a fraction of a basis point while the taker fee is
#   5 to 10 bps per side, so a round trip costs 10 to 20 bps. A forecast has to be right by more
#   than that; section 7 compares it with how far the mids here move within the horizon.
# - Perfect foresight at the model's trade times is the ceiling. When even the ceiling loses
#   money net of costs, no forecast at that horizon and rate can pay for trading as a taker; the
#   question becomes how to trade less, slower, or as a maker.
# - Random signals at the same trade rate give the distribution of luck; a strategy is
#   interesting only well outside it, and its mean P&L per trade needs an interval that respects
#   the dependence between neighbouring trades.
# - For a forced sale, Almgren–Chriss turns risk aversion into a schedule. Estimated from the
#   book, $\eta$ says how expensive speed is; section 11 weighs the walk cost against the timing
#   risk. Where the book is deep for the size, risk dominates, and schedules that sell early cut
#   the spread of outcomes at a small cost in impact.
# - Replaying a recorded book assumes our orders leave no trace: the book refills between
#   slices and nobody reacts. The costs of fast or large orders are therefore lower bounds.

# %% [markdown]
# ## Exercises
#
# 1. Double the latency to 0.2 s and then set it to 0. How much does the model's gross P&L
#    change? Why does latency matter less here than in a market-making strategy?
# 2. Trade only strong forecasts: set `SIGNAL_THRESHOLD_BPS` to the round-trip cost (twice the
#    taker fee). How many trades remain, and what happens to the mean net P&L per trade?
# 3. Rerun section 9 with a maker time-to-live of 1 s and of 30 s. How do the fill rate and the
#    slippage of the filled orders change? What does that say about adverse selection?
# 4. Increase `LIQUIDATION_VALUE` tenfold. Which schedules' walk costs grow, and does the AC
#    schedule with the largest risk aversion remain on the frontier?
# 5. Replace the OFI sign of the predictive schedule by the sign of the chapter-6 model's
#    forecast (available on the test block only). Does it time the slices better?

# %% [markdown]
# ````{admonition} Solution 1
# :class: dropdown
# ```python
# for lat in (0.0, 0.2):
#     for name, info in signal_info.items():
#         m = markets[name]
#         cfg = dataclasses.replace(m["backtest_config"], latency_s=lat)
#         r = bt.run_backtest(m["book"], info["decision_ts"], info["target"], cfg)
#         print(lat, name, round(r.summary["gross_pnl_bps"], 1), round(r.summary["pnl_bps"], 1))
# ```
# The model's forecasts are about a 10-second move, and a tenth of a second is a small part of
# it; the fills barely change because the best level of these books rarely moves within a
# tenth of a second. A market maker lives on the spread and on being first in the queue:
# there, 100 ms decides whether an order is filled at all, and by whom.
# ````
#
# ````{admonition} Solution 2
# :class: dropdown
# ```python
# for name, info in signal_info.items():
#     m = markets[name]
#     thr = 2 * m["taker_fee_bps"]
#     direction = ev.regression_signal(info["forecast"], thr)
#     target = bt.hold_targets(info["decision_ts"], direction, float(HORIZON))
#     r = bt.run_backtest(m["book"], info["decision_ts"], target, m["backtest_config"])
#     print(name, r.summary["n_round_trips"], round(r.summary["mean_trade_bps"], 2))
# ```
# The forecasts of return over 10 s are rarely larger than 10 to 20 bps, so few or no trades
# remain. Fewer trades cost less in total, but a forecast that large is rare and the few that
# remain carry no measurable edge.
# ````
#
# ````{admonition} Solution 3
# :class: dropdown
# ```python
# for ttl in (1.0, 30.0):
#     for name, info in signal_info.items():
#         m = markets[name]
#         cfg = dataclasses.replace(m["backtest_config"], order_type="maker", maker_ttl_s=ttl)
#         r = bt.run_backtest(m["book"], info["decision_ts"], info["target"], cfg, m["trades"])
#         o = r.orders[r.orders["maker"]]
#         print(ttl, name, round(o["filled_qty"].sum() / o["requested_qty"].sum(), 2),
#               round(r.summary["pnl_bps"], 1))
# ```
# A longer life fills more, and the extra fills come from larger moves through our price: the
# mid has moved against the order by the time it fills. The fill rate and the quality of the
# fills pull in opposite directions: that is adverse selection.
# ````
#
# ````{admonition} Solution 4
# :class: dropdown
# Rerun the chapter with `LIQUIDATION_VALUE: 2500000` in a parameters file
# (`python -m lobutils.runner.chapters --only 08 --params-file my.yaml`). The walk costs of the
# front-loaded AC schedules grow fastest, because their first slices go deepest; TWAP's slices
# still fit near the top of the book. The fitted $\eta$ rises, so the same $\lambda$ gives a
# smaller $\kappa T$: the model itself slows down. With `LEVELS = 100` some slices may now run
# out of visible depth (`unfilled_qty`), and their rest is valued at the deepest visible price.
# ````
#
# ````{admonition} Solution 5
# :class: dropdown
# ```python
# name = next(iter(signal_info))
# info, i = signal_info[name], liq_info[name]
# sig = (info["decision_ts"], np.sign(info["forecast"]))
# starts = ex.start_times(markets[name]["book"], i["config"], START_EVERY_S)
# starts = starts[(starts >= info["decision_ts"][0])
#                 & (starts + LIQUIDATION_HORIZON_S * NS <= info["decision_ts"][-1])]
# res = ex.liquidation_study(markets[name]["book"], markets[name]["trades"], starts,
#                            i["config"], signal=sig)
# ex.frontier_table(res.table)
# ```
# Only the test block has forecasts, so only a few start times remain, and the comparison with
# TWAP on them has little power. The model forecasts a 10-second return; the slices are
# five seconds apart, so its horizon roughly matches the decision it informs.
# ````

# %% [markdown]
# ## References
#
# - Almgren & Chriss (2000), *Optimal execution of portfolio transactions*
#   {cite}`almgren2000optimal`.
# - Cont, Kukanov & Stoikov (2014), *The price impact of order book events*
#   {cite}`cont2014price`.
# - Künsch (1989), *The jackknife and the bootstrap for general stationary observations*
#   {cite}`kunsch1989jackknife`.
# - López de Prado (2018), *Advances in financial machine learning*
#   {cite}`lopezdeprado2018advances`.
# - Perold (1988), *The implementation shortfall: paper versus reality*
#   {cite}`perold1988implementation`.
# - Zhang, Zohren & Roberts (2019), *DeepLOB* {cite}`zhang2019deeplob`.
#
# The full list is on the {doc}`/references` page.
