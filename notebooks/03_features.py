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
# # 3. Features of the order book
#
# A model never sees the order book itself. It sees numbers computed from it: the mid price, the
# spread, how much is queued on each side, how aggressively traders have been buying. This
# chapter defines the features the rest of the book uses, each in words, as a formula and as a
# call to `lobutils.features.core`. It then computes them on every bundled market, in event time and
# in clock time, and looks at how they move together and with the price that follows.
#
# **Learning objectives.** After this chapter you can
#
# - compute the mid, the spread, the microprice and the depth of a book, and say what each measures;
# - compute the volume-adjusted mid price (VAMP) at a dollar cutoff, on linear and on inverse
#   (COIN-M) markets, and say when it is undefined;
# - compute trade imbalance (TI), quote imbalance (QI) and order-flow imbalance (OFI, MLOFI);
# - explain why every feature here is causal, and how event-time and clock-time features differ;
# - read a binned-return plot and its confidence band, and know when the band is too narrow.
#
# **Prerequisites.** Chapter 2 (the book frame of `lobutils.book.replay.reconstruct` and clock sampling
# with `lobutils.book.sampling.sample_clock`). Basic numpy and pandas.
#
# **Outputs.** The figures below, and `reports/03_features/metrics.json` with, per market, the
# spread, the VAMP depth counts per cutoff, and the rank correlations of the key features with
# the forward return.

# %% [markdown]
# ## Setup

# %%
import numpy as np
import pandas as pd

from lobutils import features as F
from lobutils.book.market import load_market
from lobutils.data import segment, segments
from lobutils.features import analysis as A
from lobutils.features import targets
from lobutils.paths import report_dir, write_frame, write_metrics
from lobutils.plots import features as plots
from lobutils.schema import book_arrays

# %% tags=["parameters"]
DATA_DIR = None  # a directory of Binance recordings (None: the bundled data)
SEGMENTS = None  # segment names, e.g. ["spot_btcusdt"] (None: every segment found)
LEVELS = 25  # book levels per side (VAMP walks deep into the book)
GRID = "1s"  # clock-grid step
HORIZONS_S = [1, 10, 60]  # forward-return horizons (s)
VAMP_CUTOFF = 60_000.0  # VAMP cutoff v in quote currency (the paper's value)
VAMP_CUTOFFS = [10_000.0, 30_000.0, 60_000.0, 125_000.0, 250_000.0, 500_000.0]
QI_LEVELS = 5  # levels summed by the quote imbalance
OFI_LEVELS = 5  # levels of the multi-level OFI
OFI_WINDOW_S = 10.0  # OFI summed over this past window (s)
VOL_WINDOW_S = 60.0  # realised-volatility window (s)
TRADE_WINDOW_S = 60.0  # trade imbalance and intensity window (s)
N_BINS = 10  # bins of the binned-return figure (deciles)
SHOWCASE = None  # the market of the one-market figures (None: the first)
REPORT_DIR = None  # where metrics.json goes (None: reports/03_features/)

# %% [markdown]
# ## 1. The markets
#
# `load_market` reads a recording, replays its top `LEVELS` levels after every diff (event
# time), and samples that book every `GRID` (clock time: the last state at or before each grid
# time). It also looks up the *contract value*: Binance's COIN-M perpetuals are quoted in
# contracts worth a fixed number of US dollars, so a quantity there is not in coins. For a
# linear market (spot, USD-M) the contract value is `None` and quantities are in the base asset.

# %%
chosen = segments(DATA_DIR) if SEGMENTS is None else [segment(n, DATA_DIR) for n in SEGMENTS]
markets = {seg.name: load_market(seg, levels=LEVELS, grid=GRID) for seg in chosen}
show = markets[SHOWCASE] if SHOWCASE is not None else next(iter(markets.values()))
out_dir = report_dir("03_features", REPORT_DIR)

# %%
overview = pd.DataFrame(
    {
        name: {
            "contract (USD)": mk.contract_value,
            "book events": len(mk.events),
            "clock rows": len(mk.clock),
            "trades": len(mk.trades),
            "minutes": round((mk.events.ts.iloc[-1] - mk.events.ts.iloc[0]) / 60e9, 1),
        }
        for name, mk in markets.items()
    }
).T
overview.astype({c: "Int64" for c in overview.columns if c != "minutes"})

# %% [markdown]
# The bundled data hold six to eleven minutes per market. That is enough to define and check
# every feature, and far too little to claim that any of them predicts anything: keep that in
# mind in sections 8 and 9. The figures that show one market use the one named in `SHOWCASE`.

# %%
print(f"showcase market: {show.name}")
bid_px, bid_qty, ask_px, ask_qty = book_arrays(show.events)
ts = show.events["ts"].to_numpy()
bid_px.shape

# %% [markdown]
# `book_arrays` returns four `(N, L)` arrays: prices and quantities of the bid and ask side,
# level 1 first. Every feature function below takes these arrays (or one side of them) and
# returns one value per row. A value at row $i$ uses rows $0..i$ only, and trades stamped at or
# before $t_i$ only: the features are *causal*, and `tests/test_features.py` checks it by
# truncating the input at random times.

# %% [markdown]
# ## 2. Prices: mid, spread, microprice
#
# The **mid** is the average of the best bid $P^b$ and the best ask $P^a$. The **spread** is
# their difference, in price units or in basis points of the mid (1 bp = 0.01 %):
#
# $$ m = \frac{P^b + P^a}{2}, \qquad s = P^a - P^b, \qquad s_{\text{bps}} = 10^4\,\frac{s}{m}. $$

# %%
mid = F.mid(bid_px, ask_px)
spread = F.spread(bid_px, ask_px)
spread_bps = F.spread_bps(bid_px, ask_px)
pd.DataFrame({"mid": mid, "spread": spread, "spread (bps)": spread_bps}).describe().round(4)

# %% [markdown]
# The **microprice** (here, the size-weighted mid) weighs each best price by the quantity on the
# *other* side, $Q^b$ and $Q^a$:
#
# $$ \mu = \frac{P^b Q^a + P^a Q^b}{Q^b + Q^a}. $$
#
# In words: when the bid queue is much larger than the ask queue, the next move is more likely
# up, and $\mu$ leans toward the ask. Stoikov (2018) defines the micro-price as the limit of
# expected future mids given the imbalance and the spread; the size-weighted mid is its simplest
# approximation {cite}`stoikov2018microprice`.

# %%
micro = F.microprice(bid_px, bid_qty, ask_px, ask_qty)
micro_bps = 1e4 * (micro - mid) / mid
print(f"microprice − mid: median |.| = {np.nanmedian(np.abs(micro_bps)):.4f} bps")

# %% [markdown]
# Across markets, the spread tells how liquid each one is. On the bundled data every book sits
# at its smallest spread (one tick) almost all the time (last column), so the spread in bps is
# tiny and almost constant. A feature that barely moves carries little information.

# %%
price_rows = {}
for name, mk in markets.items():
    bp, _, ap, _ = book_arrays(mk.events)
    ticks = F.spread(bp, ap)
    sb = F.spread_bps(bp, ap)
    price_rows[name] = {
        "mean spread (bps)": np.nanmean(sb),
        "median spread (bps)": np.nanmedian(sb),
        "share at the smallest spread": np.mean(np.isclose(ticks, np.nanmin(ticks))),
    }
price_table = pd.DataFrame(price_rows).T
price_table.rename(columns=lambda c: c.replace(" spread", "").replace(" the", "")).round(4)

# %% [markdown]
# ## 3. Depth and cumulative depth
#
# **Depth** is the quantity queued on one side, over the first $k$ levels; **cumulative depth**
# is that sum for every $k$ at once. To compare markets, and for VAMP below, we want it in quote
# currency (USD or USDT): $x_j = P_j Q_j$ on a linear market, and $x_j = Q_j \cdot c$ on an
# inverse market with contracts worth $c$ USD each (the price plays no role there).
# `quote_value` does both.

# %%
depth_rows = {}
for name, mk in markets.items():
    bp, bq, ap, aq = book_arrays(mk.events)
    bid_cum = F.cumulative_depth(F.quote_value(bp, bq, mk.contract_value))
    ask_cum = F.cumulative_depth(F.quote_value(ap, aq, mk.contract_value))
    for k in sorted({1, 5, 10, LEVELS}):
        depth_rows[(name, k)] = {
            "bid (median, quote)": np.nanmedian(bid_cum[:, k - 1]),
            "ask (median, quote)": np.nanmedian(ask_cum[:, k - 1]),
        }
depth_table = pd.DataFrame(depth_rows).T.rename_axis(["segment", "levels"])
# in thousands of the quote currency (USD or USDT)
sides = {"bid (median, quote)": "bid, k", "ask (median, quote)": "ask, k"}
(depth_table / 1e3).round().astype(int).rename(columns=sides).unstack("levels")

# %% [markdown]
# On the bundled data the best level holds tens of thousands of dollars on the ETH books and
# more than a hundred thousand on the BTC books; the top 25 levels hold a few hundred thousand.
# A trader who wants 60,000 USD at once walks several levels on the thinner books. That is
# what VAMP measures.

# %% [markdown]
# ## 4. VAMP, the volume-adjusted mid price
#
# VAMP ("Mind the Gaps", an article on short-term crypto price prediction
# {cite}`mindthegaps`) asks: *at what average price could I buy, and sell, $v$ dollars right now?*
# Each side walks its levels from
# the best, taking whole levels while their cumulative quote value stays below $v$, and the last
# level partially. With $x_j$ the quote value taken at level $j$ ($\sum_j x_j = v$), the side's
# average fill price is quote spent over base received,
#
# $$ P^{\text{side}}_v = \frac{v}{\sum_j x_j / P_j}, \qquad \text{VAMP}_v = \frac{P^{\text{bid}}_v + P^{\text{ask}}_v}{2}. $$
#
# When a side's visible depth is worth less than $v$, its fill price is unknown: VAMP is NaN
# there, and `vamp_detail` counts those rows instead of extrapolating. On a COIN-M market
# the cutoff is still in USD, because `contract_value` turns contracts into dollars.

# %%
v = F.vamp_detail(bid_px, bid_qty, ask_px, ask_qty, VAMP_CUTOFF, show.contract_value)
mid_minus_vamp_bps = 1e4 * (mid - v.vamp) / mid
print(
    f"{show.name}: VAMP at {VAMP_CUTOFF:,.0f} USD is NaN on {v.n_insufficient} of {len(mid)} "
    f"states (bid short {int(v.bid_insufficient.sum())}, ask short {int(v.ask_insufficient.sum())})"
)

# %% [markdown]
# The feature the article uses is $m - \text{VAMP}$, here in bps of the mid. It is positive when
# filling $v$ costs more on the bid side, that is when the bid book is *thinner* within the
# cutoff: the side that would give way first. When both best queues hold more than $v$, both
# sides fill at the best prices and VAMP equals the mid exactly; on the deep BTC books that is
# the usual case at 60,000 USD, and the feature carries information only when a best queue runs
# short.
#
# What the contract value does: on a COIN-M market, reading contracts as coins would value a
# level at price × contracts, tens of thousands of times too much, and VAMP would stay at the
# best level. The next cell shows it on every inverse market in the data (none, if you run the
# chapter on spot or USD-M recordings only).

# %%
for name, mk in markets.items():
    if mk.contract_value is None:
        continue
    bp, bq, ap, aq = book_arrays(mk.events)
    right = F.vamp_detail(bp, bq, ap, aq, VAMP_CUTOFF, mk.contract_value)
    wrong = F.vamp_detail(bp, bq, ap, aq, VAMP_CUTOFF, None)  # contracts read as coins: wrong
    m_ = F.mid(bp, ap)
    print(
        f"{name}: median |mid − VAMP| = {np.nanmedian(np.abs(1e4 * (m_ - right.vamp) / m_)):.3f} bps "
        f"with {mk.contract_value:g} USD contracts, "
        f"{np.nanmedian(np.abs(1e4 * (m_ - wrong.vamp) / m_)):.3f} bps if contracts were coins"
    )

# %% [markdown]
# ### VAMP at several cutoffs
#
# The cutoff sets how deep VAMP looks. A small cutoff stays near the best level; a large one
# sees the shape of the book but becomes undefined whenever the visible depth runs out. The
# table counts, per market and cutoff, the book states where a side lacks the depth.

# %%
insufficient = []
for name, mk in markets.items():
    bp, bq, ap, aq = book_arrays(mk.events)
    for cutoff in VAMP_CUTOFFS:
        r = F.vamp_detail(bp, bq, ap, aq, cutoff, mk.contract_value)
        insufficient.append(
            {
                "segment": name,
                "cutoff": cutoff,
                "n_insufficient": r.n_insufficient,
                "share": r.n_insufficient / len(bp),
            }
        )
insufficient = pd.DataFrame(insufficient)
shares = insufficient.pivot(index="segment", columns="cutoff", values="share")
shares.rename(columns=lambda c: f"{c / 1e3:,.0f}k").rename_axis(columns="cutoff (USD)").round(3)

# %%
plots.insufficient_depth(
    insufficient, title=f"how often {LEVELS} levels cannot fill the cutoff (event time)"
)

# %% [markdown]
# *What to see:* the share of states without enough depth rises steeply with the cutoff, and at
# different cutoffs for different markets. Past a market's knee, VAMP is mostly NaN, and where
# it is defined it depends on how many levels were recorded as much as on the market. Choose
# the cutoff per market, below its knee, or record more levels.

# %%
clock = show.clock
cbp, cbq, cap, caq = book_arrays(clock)
cmid = F.mid(cbp, cap)
vamps = {c: F.vamp(cbp, cbq, cap, caq, c, show.contract_value) for c in VAMP_CUTOFFS}
plots.vamp_cutoffs(
    clock["ts"], cmid, vamps, title=f"{show.name}: VAMP − mid at several cutoffs (clock time)"
)

# %% [markdown]
# *What to see:* the larger the cutoff, the further VAMP moves from the mid, and the more it
# swings as deep orders come and go; the lines break where a side ran out of depth.

# %% [markdown]
# ## 5. Imbalances: QI, TI, OFI
#
# **Quote imbalance** compares the quantities queued on the two sides over levels $1..k$:
#
# $$ \text{QI}_k = \frac{\sum_{j \le k} Q^b_j - \sum_{j \le k} Q^a_j}{\sum_{j \le k} Q^b_j + \sum_{j \le k} Q^a_j} \in [-1, 1]. $$
#
# Both sides are in the same unit (coins or contracts), so QI needs no contract value.

# %%
qi = F.quote_imbalance(bid_qty, ask_qty, levels=QI_LEVELS)
qi1 = F.quote_imbalance(bid_qty, ask_qty, levels=1)
print(
    f"QI over {QI_LEVELS} levels: mean {np.nanmean(qi):+.3f}; level 1 only: {np.nanmean(qi1):+.3f}"
)

# %% [markdown]
# **Trade imbalance** looks at trades instead of quotes. Over the past window $W$ (default
# 60 s), each trade $j$ has a side $s_j$ (+1 when the buyer was the aggressor, −1 when the
# seller was), a quote value $v_j$ (price × quantity, or contracts × contract value), and a
# weight that falls linearly from 1 (now) to 0 ($W$ ago):
#
# $$ \text{TI}(t) = \frac{\sum_j w_j s_j v_j}{\sum_j w_j v_j}, \qquad w_j = 1 - \frac{t - t_j}{W}. $$
#
# It is NaN until a full window of trades has been seen.

# %%
trades = show.trades
ti = F.trade_imbalance(
    ts,
    trades["ts"],
    trades["price"],
    trades["qty"],
    trades["side"],
    window=TRADE_WINDOW_S,
    contract_value=show.contract_value,
)
print(f"TI: {np.isfinite(ti).mean():.0%} of states defined, mean {np.nanmean(ti):+.3f}")

# %% [markdown]
# **Order-flow imbalance** (Cont, Kukanov & Stoikov 2014) counts what happened to the best
# queues between two consecutive states $n-1$ and $n$ {cite}`cont2014price`:
#
# $$ e_n = \mathbf{1}\{P^b_n \ge P^b_{n-1}\} Q^b_n - \mathbf{1}\{P^b_n \le P^b_{n-1}\} Q^b_{n-1} - \mathbf{1}\{P^a_n \le P^a_{n-1}\} Q^a_n + \mathbf{1}\{P^a_n \ge P^a_{n-1}\} Q^a_{n-1}. $$
#
# In words: a bid queue that grows or a bid price that improves adds buying pressure; an ask
# queue that grows or an ask price that improves adds selling pressure. OFI is the sum of
# $e_n$ over a past window, counted in events or in seconds. Applying the same formula to level
# $m$ gives the multi-level OFI (MLOFI) of Xu, Gould & Howison (2018)
# {cite}`xu2018multilevel`. OFI is in units of quantity (coins, or contracts on COIN-M).

# %%
ofi_events = F.ofi(bid_px, bid_qty, ask_px, ask_qty, events=100)
ofi_seconds = F.ofi(bid_px, bid_qty, ask_px, ask_qty, seconds=OFI_WINDOW_S, ts=ts)
mlofi = F.mlofi(bid_px, bid_qty, ask_px, ask_qty, levels=OFI_LEVELS, seconds=OFI_WINDOW_S, ts=ts)
pd.DataFrame(mlofi, columns=[f"level {k + 1}" for k in range(OFI_LEVELS)]).corr().round(2)

# %% [markdown]
# The OFI of neighbouring levels is correlated but far from identical: deeper levels carry
# their own flow, which is why MLOFI keeps one column per level.

# %% [markdown]
# ## 6. Level features, volatility, trade intensity and time of day
#
# The remaining features are simple:
#
# - **level log returns and log volumes**: $10^4 \log(P_{i,j} /
#   P_{i-1,j})$ for each level $j$ and side, and $\log Q_{i,j}$;
# - **realised volatility** over a past window: $10^4 \sqrt{\sum r_j^2}$ over the row-to-row log
#   returns of the mid in the window (not annualised);
# - **trade intensity**: trades per second over the past window;
# - **time of day** as a point on the circle, $(\sin, \cos)$ of $2\pi \cdot$ seconds since
#   midnight UTC / 86,400, so that 23:59:59 and 00:00:00 are neighbours.

# %%
level_ret = F.level_log_returns(bid_px)
level_vol = F.level_log_volumes(bid_qty)
rv = F.realized_volatility(mid, seconds=VOL_WINDOW_S, ts=ts)
intensity = F.trade_intensity(ts, trades["ts"], window=TRADE_WINDOW_S)
tod_sin, tod_cos = F.time_of_day(ts)
print(
    f"level features: {level_ret.shape} returns, {level_vol.shape} log volumes; "
    f"realised vol median {np.nanmedian(rv):.2f} bps per {VOL_WINDOW_S:g} s; "
    f"{np.nanmedian(intensity):.1f} trades/s; "
    f"time of day spans sin {tod_sin.min():+.3f}..{tod_sin.max():+.3f}"
)

# %% [markdown]
# The bundled recordings straddle midnight UTC, and the time-of-day pair moves smoothly across
# it. But a few minutes cover a sliver of the circle: nothing about intraday seasonality can be
# learnt from them.

# %% [markdown]
# ## 7. Event time and clock time
#
# `compute_features` computes all of the above for a whole book frame, with every window in
# seconds, so it works on an event-time frame and on a clock-grid frame alike. We compute both
# for every market.

# %%
configs = {
    name: F.FeatureConfig(
        vamp_cutoff=VAMP_CUTOFF,
        contract_value=mk.contract_value,
        qi_levels=QI_LEVELS,
        ofi_levels=OFI_LEVELS,
        ofi_window_s=OFI_WINDOW_S,
        vol_window_s=VOL_WINDOW_S,
        trade_window_s=TRADE_WINDOW_S,
    )
    for name, mk in markets.items()
}

# %%
event_features = {
    name: F.compute_features(mk.events, mk.trades, configs[name]) for name, mk in markets.items()
}
clock_features = {
    name: F.compute_features(mk.clock, mk.trades, configs[name]) for name, mk in markets.items()
}
columns = list(clock_features[show.name].columns)
print(f"{len(columns)} feature columns:", ", ".join(columns))

# %% [markdown]
# A clock-grid row *is* the last event-time state at or before the grid time, so the
# instantaneous book features (mid, spread, QI, VAMP) agree exactly between the two samplings.
# The check below confirms it on every market. Windowed *flow* features differ: OFI on the clock
# grid sees only the net change between two grid states, and misses every queue change that was
# undone within the second. The table gives, per market, the book events per second, the mean
# spread in each sampling, and the correlation of level-1 OFI between the two samplings.

# %%
sampling_rows = {}
for name, mk in markets.items():
    ev, ck = event_features[name], clock_features[name]
    # the event-time row each grid time uses: the last state at or before it
    state = np.searchsorted(mk.events["ts"].to_numpy(), mk.clock["ts"].to_numpy(), side="right") - 1
    for col in ("mid", "spread_bps", "qi", "vamp"):
        np.testing.assert_array_equal(ck[col].to_numpy(), ev[col].to_numpy()[state])
    ofi_event_at_grid = pd.Series(ev["ofi_1"].to_numpy()[state])
    sampling_rows[name] = {
        "events/s": len(mk.events) / len(mk.clock),
        "spread, events (bps)": ev["spread_bps"].mean(),
        "spread, clock (bps)": ck["spread_bps"].mean(),
        "ofi corr": ofi_event_at_grid.corr(ck["ofi_1"].reset_index(drop=True)),
    }
pd.DataFrame(sampling_rows).T.round(3)

# %% [markdown]
# Event time samples busy moments more densely: an average over events weighs a burst of
# updates more than a quiet minute, so event-time and clock-time averages differ. Neither is
# wrong; they answer different questions. The rest of the chapter works in clock time, where
# one row is one second and horizons are in seconds.

# %% [markdown]
# ## 8. Features over time
#
# A few features next to the mid of the showcase market, on the clock grid. Spread, VAMP and
# the microprice are in bps of the mid so that markets with different price levels compare.

# %%
fc = clock_features[show.name]
over_time = {
    "spread (bps)": fc["spread_bps"],
    "mid − vamp (bps)": 1e4 * fc["mid_minus_vamp"] / fc["mid"],
    f"qi, {QI_LEVELS} levels": fc["qi"],
    f"ofi, {OFI_WINDOW_S:g} s (qty)": fc["ofi_1"],
    f"ti, {TRADE_WINDOW_S:g} s": fc["ti"],
    f"realised vol, {VOL_WINDOW_S:g} s (bps)": fc["realized_vol"],
}
plots.features_over_time(
    show.clock["ts"], fc["mid"], over_time, title=f"{show.name}: features next to the mid"
)

# %% [markdown]
# *What to see:* QI and mid − VAMP flicker second by second; OFI and TI move more slowly,
# because they sum over windows; TI and realised volatility start only after a full window.
# Jumps in the mid line up with swings in OFI.

# %% [markdown]
# ## 9. Features against the forward return
#
# Does a feature tell anything about the next move of the mid? The **forward return** over $h$
# seconds is $10^4 \log(m_{t+h} / m_t)$ in bps (chapter 4 covers targets in depth). We sort the
# rows of each market into deciles of the feature, pool the deciles over markets, and plot the
# mean forward return in each.
#
# The confidence band needs care. On a 1-second grid, two neighbouring 10-second returns share
# 9 of their 10 seconds, so the rows are far from independent, and the textbook standard error
# $\sigma / \sqrt{n}$ is too small. For a random walk the variance of the mean of overlapping
# $h$-step returns is about $h$ times larger, so the band below is $\pm 1.96 \sqrt{h}\,\sigma/\sqrt{n}$,
# with $h$ counted in grid steps. It is still only an approximation.

# %%
grid_s = pd.Timedelta(GRID).total_seconds()
forward = {
    name: {
        h: targets.forward_returns(
            clock_features[name]["mid"].to_numpy(), ts=mk.clock["ts"].to_numpy(), seconds=h
        )
        for h in HORIZONS_S
    }
    for name, mk in markets.items()
}

# %% [markdown]
# `lobutils.plots.features.pooled_binned` bins each market's feature, pools the bins and
# widens the band by $\sqrt{h}$.

# %%
vamp_bps = {
    name: 1e4 * (f["mid_minus_vamp"] / f["mid"]).to_numpy() for name, f in clock_features.items()
}
binned_vamp = plots.pooled_binned(vamp_bps, forward, HORIZONS_S, N_BINS, grid_s=grid_s)
plots.binned_returns(
    binned_vamp,
    feature_label="mid − vamp (bps)",
    title=f"forward return by decile of mid − vamp ({VAMP_CUTOFF:,.0f}), all markets",
)

# %% [markdown]
# *What to see:* over the next second, the mean return falls from the lowest decile of
# mid − VAMP to the highest: when the bid side is thinner within the cutoff, the mid tends to
# tick down, as the article argues. At 10 and 60 seconds the pattern is weaker and the bands
# (already widened for the overlap) are wide; the 60-second panel is dominated by the drift of
# these few minutes. Pooling deciles over markets mixes different price levels, but each market
# contributes equally to each decile.
#
# The same question for every key feature, as Spearman rank correlations per market and
# horizon:

# %%
key_features = {
    "mid − vamp": lambda f: f["mid_minus_vamp"] / f["mid"],
    "microprice − mid": lambda f: (f["microprice"] - f["mid"]) / f["mid"],
    "qi": lambda f: f["qi"],
    "ofi": lambda f: f["ofi_1"],
    "ti": lambda f: f["ti"],
}
rank_corr = pd.concat(
    {
        name: A.rank_correlations(clock_features[name], forward[name], key_features)
        for name in markets
    },
    names=["segment"],
)
rank_corr.round(2)

# %% [markdown]
# At one second, quote-based features (QI, mid − VAMP, microprice − mid) correlate clearly with
# the next move on every market, with the expected signs. At longer horizons the numbers shrink
# and their signs vary between markets. How much of that is noise? With ten minutes on a
# 1-second grid there are about 600 rows, but only about $600 / h$ independent $h$-second
# returns: 10 at 60 s. A correlation estimated from 10 independent values has a standard error
# around $1 / \sqrt{10} \approx 0.3$. **On this much data, nothing beyond the one-second horizon
# can be told apart from chance.** The chapters on models return to this with proper
# chronological evaluation.

# %% [markdown]
# ## 10. How the features move together
#
# A correlation matrix of the clock-time features shows which ones carry the same information.
# Rank (Spearman) correlations are computed within each market and then averaged over markets,
# so that no market's price level dominates.

# %%
corr_columns = {
    "spread (bps)": lambda f: f["spread_bps"],
    "microprice − mid": lambda f: (f["microprice"] - f["mid"]) / f["mid"],
    "mid − vamp": lambda f: f["mid_minus_vamp"] / f["mid"],
    "qi": lambda f: f["qi"],
    "ofi level 1": lambda f: f["ofi_1"],
    f"ofi level {OFI_LEVELS}": lambda f: f[f"ofi_{OFI_LEVELS}"],
    "ti": lambda f: f["ti"],
    "realised vol": lambda f: f["realized_vol"],
    "trade intensity": lambda f: f["trade_intensity"],
}

# %%
per_market = [
    pd.DataFrame({k: fn(f) for k, fn in corr_columns.items()}).corr(method="spearman")
    for f in clock_features.values()
]
mean_corr = sum(per_market) / len(per_market)
plots.correlation_matrix(mean_corr, title="rank correlations of the features, mean over markets")

# %% [markdown]
# *What to see:* microprice − mid and QI move almost in lockstep, and mid − VAMP mirrors them
# with the opposite sign: all three read the imbalance of the book. OFI at levels 1 and 5 go
# together, and relate moderately to QI (a growing bid queue also tilts the imbalance); TI is
# only weakly related to anything here. Realised volatility, trade intensity and the spread
# form a third group, activity. A model given all of these columns gets far fewer independent
# signals than columns.

# %% [markdown]
# ## 11. Metrics
#
# The key numbers go to `metrics.json`: per market, the sizes, the spread, the VAMP depth
# counts per cutoff, and the rank correlations of the key features with the forward return;
# and the pooled decile table of mid − VAMP.

# %%
metrics = {"grid": GRID, "levels": LEVELS, "vamp_cutoff": VAMP_CUTOFF, "horizons_s": HORIZONS_S}
metrics["segments"] = {}
for name, mk in markets.items():
    short = insufficient[insufficient.segment == name]
    metrics["segments"][name] = {
        "n_events": len(mk.events),
        "n_clock": len(mk.clock),
        "n_trades": len(mk.trades),
        "contract_value": mk.contract_value,
        "mean_spread_bps": price_table.loc[name, "mean spread (bps)"],
        "median_spread_bps": price_table.loc[name, "median spread (bps)"],
        "vamp_insufficient": {f"{r.cutoff:.0f}": int(r.n_insufficient) for r in short.itertuples()},
        "vamp_insufficient_share": {f"{r.cutoff:.0f}": r.share for r in short.itertuples()},
        "spearman_with_forward_return": {
            f"{h}s": rank_corr.loc[(name, h)].to_dict() for h in HORIZONS_S
        },
    }

# %%
deciles = binned_vamp[["horizon_s", "bin", "n", "x_mean", "y_mean", "y_lo", "y_hi"]]
metrics["mid_minus_vamp_deciles"] = deciles
written = write_metrics(out_dir, metrics)
write_frame(deciles, out_dir / "mid_minus_vamp_deciles.csv")
print(f"metrics.json in {out_dir.name}/: {', '.join(sorted(written))}")

# %% [markdown]
# ## Key takeaways
#
# - Every feature here is a causal function of the book (and of past trades): row $i$ uses rows
#   $0..i$ only. `lobutils.features.core` computes them on `(N, L)` arrays, in event or clock time.
# - VAMP needs a cutoff in quote currency. On COIN-M markets that means contracts × contract
#   value, not price × quantity. When the visible depth cannot fill the cutoff, VAMP is NaN and
#   counted, and the count tells you how deep a book you need to record.
# - QI, microprice − mid and mid − VAMP are three readings of the same thing, the imbalance of
#   the book. OFI and TI measure flow over a window instead.
# - Clock-grid book features equal the event-time features sampled at the grid; flow features
#   like OFI do not, because the grid misses changes within a step.
# - On the bundled minutes, the book's imbalance lines up with the next second's move on every
#   market. Beyond a few seconds, a few minutes of data cannot separate signal from noise, and
#   overlapping returns make naive confidence bands far too narrow.

# %% [markdown]
# ## Exercises
#
# 1. Recompute the insufficient-depth table with `LEVELS = 10`. Which markets can still support
#    a 60,000 USD VAMP?
# 2. Compute QI over 1, 5 and 10 levels on the clock grid and compare their Spearman
#    correlations with the 1-second forward return, market by market.
# 3. Thin the rows to non-overlapping 10-second returns (every 10th grid row) and redo the
#    decile plot of mid − VAMP at 10 s with `se_scale=1`. Compare the band with the one above.
# 4. Verify by hand the VAMP of the first clock-grid row of a COIN-M market: walk the bid side
#    level by level until 60,000 USD of contracts are taken.

# %% [markdown]
# ````{admonition} Solution 1
# :class: dropdown
# Ten levels hold less value than 25, so every market's share rises at each cutoff; the thinner
# books (ETH, here) lose the 60,000 USD VAMP first. The cell below keeps the first ten levels of
# the books already loaded, which is what `LEVELS = 10` would load. To rerun the whole chapter
# with other parameters: `python -m lobutils.runner.chapters --only 03 --params-file my.yaml`,
# with `LEVELS: 10` under `chapters: {03_features: {parameters: ...}}`.
# ````

# %% tags=["hide-input"]
# Solution 1: share of book states whose visible depth cannot fill the VAMP cutoff, 10 levels.
short_share = {}
for name, mk in markets.items():
    bp, bq, ap, aq = book_arrays(mk.events)
    for k in sorted({10, LEVELS}):
        r = F.vamp_detail(
            bp[:, :k], bq[:, :k], ap[:, :k], aq[:, :k], VAMP_CUTOFF, mk.contract_value
        )
        short_share[(name, f"{k} levels")] = r.n_insufficient / len(bp)
print(f"cutoff {VAMP_CUTOFF:,.0f} USD")
pd.Series(short_share).unstack().round(3)

# %% [markdown]
# ````{admonition} Solution 2
# :class: dropdown
# The best level usually carries most of the short-term information; deeper levels add less
# and sometimes dilute it.
# ````

# %% tags=["hide-input"]
# Solution 2: Spearman correlation of QI over 1, 5 and 10 levels with the 1 s forward return.
h1 = min(HORIZONS_S)
qi_corr = {}
for name, mk in markets.items():
    _, bq, _, aq = book_arrays(mk.clock)
    r = pd.Series(forward[name][h1])
    for k in (1, 5, 10):
        qi = pd.Series(F.quote_imbalance(bq, aq, levels=k))
        qi_corr[(name, k)] = qi.corr(r, method="spearman")
print(f"horizon {h1} s")
pd.Series(qi_corr).unstack().rename_axis(columns="qi levels").round(3)

# %% [markdown]
# ````{admonition} Solution 3
# :class: dropdown
# About a tenth of the rows remain, so the plain band of the thinned rows is roughly
# $\sqrt{10}$ times wider than the plain band of all rows: close to the corrected band above.
# ````

# %% tags=["hide-input"]
# Solution 3: mean band width (bps) of the mid − VAMP deciles, thinned rows against all rows.
h10 = 10 if 10 in HORIZONS_S else max(HORIZONS_S)
thin = {name: {h10: forward[name][h10][::h10]} for name in markets}
widths = {
    "every row, corrected band": binned_vamp[binned_vamp.horizon_s == h10],
    "every row, plain band": plots.pooled_binned(vamp_bps, forward, [h10], N_BINS, grid_s=h10),
    "every 10th row, plain band": plots.pooled_binned(
        {n: x[::h10] for n, x in vamp_bps.items()}, thin, [h10], N_BINS, grid_s=h10
    ),
}
band = pd.Series({k: (t.y_hi - t.y_lo).mean() for k, t in widths.items()})
band.to_frame("mean band width (bps)").round(3)

# %% [markdown]
# ````{admonition} Solution 4
# :class: dropdown
# Walk the bid side from the best level, converting each level's contracts to USD with the
# contract value, until the cutoff is spent; the fill price is the USD spent over the coins
# received. It equals the library's bid-side VAMP price.
# ````

# %% tags=["hide-input"]
# Solution 4: the bid-side VAMP price of the first clock row of a COIN-M market, by hand.
inverse = [m for m in markets.values() if m.contract_value is not None]
if not inverse:
    print("no COIN-M market among the segments read")
else:
    mk = inverse[0]
    bp, bq, ap, aq = book_arrays(mk.clock.iloc[:1])
    need, base = VAMP_CUTOFF, 0.0
    for p, q in zip(bp[0], bq[0], strict=True):
        take = min(need, q * mk.contract_value)  # USD taken at this level
        base, need = base + take / p, need - take  # coins received, USD still to spend
        if need <= 0:
            break
    lib = F.vamp_detail(bp, bq, ap, aq, VAMP_CUTOFF, mk.contract_value).bid[0]
    print(f"{mk.name}: by hand {VAMP_CUTOFF / base:,.4f}, vamp_detail {lib:,.4f}")

# %% [markdown]
# ## References
#
# - Cont, Kukanov & Stoikov (2014), *The price impact of order book events* {cite}`cont2014price`.
# - Stoikov (2018), *The micro-price: a high-frequency estimator of future prices*
#   {cite}`stoikov2018microprice`.
# - Xu, Gould & Howison (2018), *Multi-level order-flow imbalance in a limit order book*
#   {cite}`xu2018multilevel`.
# - "Mind the Gaps: short-term crypto price prediction" (web article), on VAMP
#   {cite}`mindthegaps`.
#
# The full list is on the {doc}`/references` page.
