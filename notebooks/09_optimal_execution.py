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
# # 9. Optimal execution: Almgren–Chriss on the real book
#
# Chapter 8 asked whether a forecast pays for trading. This chapter asks the opposite question:
# a trader *has* to sell a large position within a minute. How should the sale be cut into
# slices? Selling fast walks deep into the book; selling slowly leaves the position exposed to
# the price. Almgren and Chriss (2000) {cite}`almgren2000optimal` answer it with a model of
# impact and risk. We estimate that model from the book, past data only, and measure every
# schedule by its implementation shortfall on the real book.
#
# **Learning objectives.** After this chapter you can
#
# - derive the Almgren–Chriss trajectory and check its TWAP limit;
# - estimate its volatility and temporary impact from the mid and from the depth of the book,
#   on any declared instrument (`lobutils.trading.execution`, `lobutils.markets.instrument`);
# - compare TWAP, VWAP, AC at several risk aversions and a predictive schedule by the mean and
#   the standard deviation of their implementation shortfall: the efficient frontier;
# - compare two schedules on the same windows, with an interval that respects the overlap of
#   the windows.
#
# **Prerequisites.** Chapter 2 (the reconstructed book), chapter 3 (order-flow imbalance) and
# chapter 8 (walking the book, and what a fill costs against the mid).
#
# **Outputs.** The figures and tables below, and in `reports/09_optimal_execution/`:
# `estimates.csv` (per market: X, sigma, eta, half-spread), `shortfall.csv` (one row per start
# time and schedule), `frontier.csv`, `vs_twap.csv` and `metrics.json` with the headline numbers.
#
# **Cost.** The chapter replays every bundled segment at 100 levels and runs about a hundred
# liquidations per schedule: under a minute on one core, under 2 GB of memory.
#
# **A caveat on size.** The bundled recordings are six to eleven minutes per market and the
# liquidation windows overlap. Every number here shows the method at work on little data; none
# is evidence about these markets. Longer recordings (`DATA_DIR`) give the numbers some weight.

# %% [markdown]
# ## Setup

# %%
import numpy as np

from lobutils.data import segment, segments
from lobutils.paths import report_dir, write_metrics
from lobutils.plots import trading as plots
from lobutils.report import say, setup_display
from lobutils.trading import execution as ex
from lobutils.trading import liquidation as lq
from lobutils.trading import study
from lobutils.trading import verdicts as vd
from lobutils.trading.tables import book_table

setup_display()

# %% tags=["parameters"]
DATA_DIR = None  # a directory of <market>_<symbol>_<YYYYMMDD>.gz recordings; None: the bundled data
SEGMENTS = None  # segment names, e.g. ["spot_btcusdt"]; None: every segment found
LEVELS = 100  # book levels per side kept for walking the book (deep enough for the sale)
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
N_BOOT = 1000  # block-bootstrap resamples
CONFIDENCE = 0.95
SEED = 0
REPORT_DIR = None  # where the outputs go; None: reports/09_optimal_execution/

# %%
out_dir = report_dir("09_optimal_execution", REPORT_DIR)
chosen = segments(DATA_DIR) if SEGMENTS is None else [segment(n, DATA_DIR) for n in SEGMENTS]
print(f"{len(chosen)} segment(s): {', '.join(s.name for s in chosen)}")

# %% [markdown]
# ## 1. The problem, the model and the measure
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

# %% [markdown]
# ## 2. The books, and the model estimated at every start time
#
# Each market is read once and replayed at `LEVELS` levels per side; its instrument
# (`lobutils.markets.instrument`) turns `LIQUIDATION_VALUE` into units (base units, or whole
# contracts on an inverse market) at the first mid, and values every slice. The study then
# estimates $\sigma$ and $\eta$ before each start time and runs every schedule.

# %%
liq_config = dict(
    horizon_s=LIQUIDATION_HORIZON_S,
    n_slices=N_SLICES,
    risk_aversions=tuple(RISK_AVERSIONS),
    sigma_window_s=SIGMA_WINDOW_S,
    impact_window_s=IMPACT_WINDOW_S,
    vwap_lookback_s=VWAP_LOOKBACK_S,
    predictive_alpha=PREDICTIVE_ALPHA,
    signal_window_s=OFI_WINDOW_S,
    permanent_bps_per_million=PERMANENT_BPS_PER_MILLION,
)

# %%
markets = {seg.name: study.load_market(seg, levels=LEVELS) for seg in chosen}
books = {name: (m.instrument, m.book, m.trades) for name, m in markets.items()}
liq = lq.run_markets(books, LIQUIDATION_VALUE, START_EVERY_S, **liq_config)
for name, why in liq.skipped.items():
    print(f"{name}: {why}")

# %%
estimates = lq.estimates_table(liq)
book_table(
    estimates,
    ints=["start_times"],
    sci=["eta_slice"],
    digits={"qty": 3, "sigma_bps_per_sqrt_s": 3, "half_spread_bps": 3},
)

# %% [markdown]
# The impact the fit sees: the median cost per unit of walking the book for a slice, against
# the slice's size as a share of $X$. It is flat while the best levels last and rises once the
# slice eats into the book: not the straight line of the model, which is why the evaluation
# walks the real book instead of trusting the line.

# %%
plots.impact_curves(
    lq.impact_curves(liq.estimates),
    title=f"cost of one slice against the mid, median over past book states (x: share of {LIQUIDATION_VALUE:,.0f})",
).show()

# %% [markdown]
# The schedules of one liquidation (the middle start time of the first market): the share of
# the position still held over time.

# %%
ex_name = next(iter(liq.markets))
plots.schedules(
    lq.inventory_paths(liq.markets[ex_name]),
    LIQUIDATION_HORIZON_S,
    title=f"{ex_name}: inventory left under each schedule (one start time)",
).show()

# %%
book_table(lq.urgency_table(liq.shortfall), digits=2)

# %% [markdown]
# The table shows the median urgency $\kappa T$ and the share of $X$ sold in the first slice,
# per market and risk aversion. The same $\lambda$ makes a trader sell faster where the book is
# deep (small $\eta$) and the price volatile (large $\sigma$): $\kappa = \sqrt{\lambda\sigma^2/\eta}$.

# %% [markdown]
# ## 3. The shortfall of each schedule, and the efficient frontier

# %%
shortfall = liq.shortfall
front = lq.frontier_parts(shortfall)
pooled = ex.frontier_table(shortfall).set_index("strategy")
parts = shortfall.groupby("strategy")[["walk_cost_bps", "timing_bps"]].mean()
book_table(
    pooled.join(parts), ["n", "mean_bps", "std_bps", "walk_cost_bps", "timing_bps"], ints=["n"]
)

# %%
theory = lq.theory_frontiers(liq, np.logspace(-8, -1, 40))
plots.frontier(
    front,
    theory=theory,
    title="implementation shortfall: mean against std over start times (bps); dashed: the ac model",
).show()

# %% [markdown]
# The table pools the markets: each schedule's mean and standard deviation of the shortfall
# over all start times, and the mean walk cost and timing part (per market in `frontier.csv`).

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
paired = lq.paired_vs_twap(
    shortfall,
    horizon_s=LIQUIDATION_HORIZON_S,
    start_every_s=START_EVERY_S,
    n_boot=N_BOOT,
    confidence=CONFIDENCE,
    seed=SEED,
)
book_table(paired, index="strategy", ints=["n_windows"], digits=3)

# %% tags=["remove-input"]
say(
    vd.liquidation_verdict(
        shortfall,
        pooled,
        paired,
        value=LIQUIDATION_VALUE,
        horizon_s=LIQUIDATION_HORIZON_S,
        confidence=CONFIDENCE,
    )
)

# %% [markdown]
# ## 4. Outputs
#
# The full tables go to the report directory; `metrics.json` holds the headline numbers.

# %%
estimates.to_csv(out_dir / "estimates.csv")
shortfall.to_csv(out_dir / "shortfall.csv", index=False)
front.to_csv(out_dir / "frontier.csv", index=False)
paired.to_csv(out_dir / "vs_twap.csv", index=False)
parameters = dict(
    segments=list(liq.markets),
    levels=LEVELS,
    liquidation_value=LIQUIDATION_VALUE,
    liquidation_horizon_s=LIQUIDATION_HORIZON_S,
    n_slices=N_SLICES,
    risk_aversions=RISK_AVERSIONS,
    start_every_s=START_EVERY_S,
    permanent_bps_per_million=PERMANENT_BPS_PER_MILLION,
)

# %%
metrics = {
    "parameters": parameters,
    "estimates": estimates,
    "frontier": pooled.reset_index(),
    "walk_cost_bps": shortfall.groupby("strategy")["walk_cost_bps"].mean(),
    "vs_twap": paired,
    "lowest_mean": pooled["mean_bps"].idxmin(),
    "lowest_std": pooled["std_bps"].idxmin(),
    "n_start_times": int((shortfall["strategy"] == "twap").sum()),
}
write_metrics(out_dir, metrics)
print(", ".join(sorted(p.name for p in out_dir.iterdir())))

# %% [markdown]
# ## Key takeaways
#
# - For a forced sale, Almgren–Chriss turns risk aversion into a schedule: $\kappa =
#   \sqrt{\lambda\sigma^2/\eta}$ sets how front-loaded it is, and TWAP is its limit as
#   $\lambda \to 0$.
# - Estimated from the book, $\eta$ says how expensive speed is. The real impact curve is flat
#   while the best levels last and then rises: not the model's straight line, so every
#   schedule is measured by walking the real book.
# - The shortfall splits into the walk cost (what AC's impact terms model) and timing (what
#   the mid did: AC's risk). Where the book is deep for the size, risk dominates, and
#   schedules that sell early cut the spread of outcomes at a small cost in impact.
# - Schedules are compared in pairs on the same windows, with a bootstrap whose blocks span the
#   windows that overlap; the count of windows overstates the evidence.
# - Replaying a recorded book assumes our orders leave no trace: the book refills between
#   slices and nobody reacts. The costs of fast or large orders are therefore lower bounds.

# %% [markdown]
# ## Exercises
#
# 1. Increase `LIQUIDATION_VALUE` tenfold. Which schedules' walk costs grow, and does the AC
#    schedule with the largest risk aversion remain on the frontier?
# 2. Set `PERMANENT_BPS_PER_MILLION` to 1. Which schedules pay most for it, and does it change
#    which schedule is best?

# %% [markdown]
# ````{admonition} Solution 1
# :class: dropdown
# The walk costs of the front-loaded AC schedules grow fastest, because their first slices go
# deepest; TWAP's slices still fit near the top of the book. The fitted $\eta$ rises, so the
# same $\lambda$ gives a smaller $\kappa T$: the model itself slows down. With `LEVELS = 100`
# some slices may now run out of visible depth (`unfilled_qty`), and their rest is valued at
# the deepest visible price. The cell below reruns the first market at ten times the value.
# ````

# %% tags=["hide-input"]
# Solution 1: walk cost and shortfall (bps) in the first market at ten times the value
big = lq.run_markets({ex_name: books[ex_name]}, 10 * LIQUIDATION_VALUE, START_EVERY_S, **liq_config)
cols = ["mean_bps", "std_bps", "walk_cost_bps", "unfilled_qty"]
book_table(lq.frontier_parts(big.shortfall), cols, index="strategy", digits=3)

# %% [markdown]
# ````{admonition} Solution 2
# :class: dropdown
# Permanent impact charges each slice for the value sold before it in the same sale: a total
# of the rate times $(V^2 - \sum_k v_k^2)/2$, where $v_k$ is the value of slice $k$ and $V$ their
# sum. That is nearly the same for every schedule: even slices (TWAP) pay a little more, and the
# front-loaded AC schedule, whose sale is concentrated in fewer slices, a little less.
# Almgren and Chriss find the same: permanent impact adds $\tfrac12 \gamma X^2$ to every
# schedule's expected cost and hardly moves the optimum. It is a parameter here, because a
# replayed book never saw our orders and cannot measure it. The cell below reruns the first
# market with 1 bps per million.
# ````

# %% tags=["hide-input"]
# Solution 2: the permanent-impact part of the shortfall (bps) at 1 bps per million
perm_config = liq_config | {"permanent_bps_per_million": 1.0}
perm = lq.run_markets({ex_name: books[ex_name]}, LIQUIDATION_VALUE, START_EVERY_S, **perm_config)
book_table(perm.shortfall.groupby("strategy", sort=False)[["permanent_bps"]].mean(), digits=4)

# %% [markdown]
# ## References
#
# - Almgren & Chriss (2000), *Optimal execution of portfolio transactions*
#   {cite}`almgren2000optimal`.
# - Cont, Kukanov & Stoikov (2014), *The price impact of order book events*
#   {cite}`cont2014price`.
# - Künsch (1989), *The jackknife and the bootstrap for general stationary observations*
#   {cite}`kunsch1989jackknife`.
# - Perold (1988), *The implementation shortfall: paper versus reality*
#   {cite}`perold1988implementation`.
#
# The full list is on the {doc}`/references` page.
