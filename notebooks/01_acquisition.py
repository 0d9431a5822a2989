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
# # Order-book data and where it comes from
#
# A limit order book (LOB) is the list of resting buy and sell orders for one instrument on one
# exchange. Every later chapter works on books rebuilt from exchange data, so this one asks what
# that data is, where it comes from, and what a raw recording looks like before any processing.
# It ends with a first measured look at the bundled Binance recordings: what message types they
# hold and how fast they arrive, how their update ids chain, how the two clocks in them differ,
# and what the trades look like.
#
# **Learning objectives.** After this chapter you can
#
# - tell L1, L2 and L3 data apart, and snapshots from incremental diffs;
# - describe the four routes to order-book data (live websocket streams with REST snapshots,
#   exchange archives, vendors such as Tardis.dev, and REST polling with ccxt), and what each
#   costs in coverage, latency and licence terms;
# - read a raw Binance recording line by line, and check its update-id chain;
# - keep exchange time and local receive time apart, and say why their difference is not a
#   latency.
#
# **Prerequisites.** Python and pandas. No market microstructure is assumed.
#
# **Outputs.** Tables and figures below, and `reports/01_acquisition/metrics.json`: per segment,
# the message counts and rates, the update-id chain breaks, and the median local-minus-exchange
# clock difference.
#
# **A caveat on size.** The bundled recordings are about eleven minutes of six markets. That is
# enough to learn the formats and test every step, and not enough for strong statistical claims.
# The numbers below describe these minutes, nothing more.

# %%
import numpy as np
import pandas as pd

from lobutils import plots
from lobutils.data import segment, segments, verify_checksums
from lobutils.io import parse_line, read_binance_recording, read_text
from lobutils.paths import report_dir, write_metrics
from lobutils.schema import ASK, BID, DIFF, SNAPSHOT

pd.set_option("display.width", 120)

# %% tags=["parameters"]
DATA_DIR = None  # a directory of <market>_<symbol>_<YYYYMMDD>.gz recordings; None: the bundled data
SEGMENTS = None  # segment names to read, e.g. ["spot_btcusdt"]; None: every segment found
RATE_EVERY = "1s"  # window of the message-rate figure and grid of the price paths
CONTRACT_USD = {"btcusd_perp": 100, "ethusd_perp": 10}  # USD per COIN-M contract, by symbol
REPORT_DIR = None  # where metrics.json goes; None: reports/01_acquisition/

# %%
OUT = report_dir("01_acquisition", REPORT_DIR)
SEGS = segments(DATA_DIR) if SEGMENTS is None else [segment(n, DATA_DIR) for n in SEGMENTS]
print(f"{len(SEGS)} segments:", ", ".join(s.name for s in SEGS))

# %% [markdown]
# ## 1. What order-book data is
#
# An exchange keeps, for each instrument, the resting limit orders on both sides: *bids* (buy
# orders) and *asks* (sell orders, also called offers). A trade happens when an incoming order
# crosses the best price on the other side. Data about the book comes at three levels of detail.
#
# | level | what it holds | typical source |
# |---|---|---|
# | L1 | best bid and best ask, with their sizes (the top of the book) | quote streams such as Binance `bookTicker` |
# | L2 | every price level with the *total* size resting there ("market by price") | depth snapshots and depth diffs |
# | L3 | every individual order, with its own id, size and queue position ("market by order") | a few venues only (Coinbase's full channel, some equity feeds) |
#
# Crypto exchanges publish L2 data almost everywhere, and L3 rarely. This book works with L2.
#
# L2 data reaches you in two forms:
#
# - a **snapshot** is the whole book (or its top N levels) at one moment;
# - an **incremental diff** lists only the levels that changed since the previous message, each
#   as `[price, new total size]`. A size of 0 deletes the level.
#
# A snapshot alone is large and quickly stale. Diffs alone tell you nothing until you know the
# state they apply to. Together they give the exact book at every update: load one snapshot,
# then apply every diff after it, in order, without missing one. Chapter 2 does exactly that.
#
# Two more streams come with the book. **Trades** report each execution: price, size, time and
# the *aggressor* side (whether the buyer or the seller crossed the spread). The **best bid and
# offer** (BBO, L1) stream repeats the top of the book at every change; we use it to check the
# book we rebuild.
#
# Here is an L2 book: the top five levels of the REST snapshot in the first recording.

# %%
first_rec = read_binance_recording(SEGS[0].files)
snap = first_rec.depth[first_rec.depth.kind == SNAPSHOT]
top_bids = snap[snap.side == BID].nlargest(5, "price")[["qty", "price"]].reset_index(drop=True)
top_asks = snap[snap.side == ASK].nsmallest(5, "price")[["price", "qty"]].reset_index(drop=True)
top5 = pd.concat([top_bids.add_prefix("bid_"), top_asks.add_prefix("ask_")], axis=1)
top5.index = pd.RangeIndex(1, len(top5) + 1, name="level")
print(
    f"{SEGS[0].name}: snapshot lastUpdateId {int(snap.last_id.iat[0])}, "
    f"{int((snap.side == BID).sum())} bid and {int((snap.side == ASK).sum())} ask levels"
)
top5

# %% [markdown]
# ## 2. Where it comes from
#
# ### Live streams: websocket diffs plus a REST snapshot
#
# Exchanges push book changes over websockets. Binance's depth streams send a diff every
# 100 ms on spot (`<symbol>@depth@100ms`); on futures the recordings use `<symbol>@depth@0ms`,
# a faster variant without a fixed interval. Each diff carries update ids:
# `U`, the first update in it, and `u`, the last; futures diffs also carry `pu`, the `u` of the
# previous diff. A REST endpoint returns a snapshot of up to 1000 levels per side, stamped with
# `lastUpdateId`.
#
# Binance's procedure for keeping a local book in sync, in words:
#
# 1. Open the websocket stream and start buffering its diffs.
# 2. Request the REST snapshot.
# 3. Drop every buffered diff that the snapshot already contains (on spot `u <= lastUpdateId`,
#    on futures `u < lastUpdateId`).
# 4. The first diff applied must straddle the snapshot: its id range must include
#    `lastUpdateId + 1`.
# 5. Apply every later diff in order. Each must continue the previous one: on spot `U` equals the
#    previous `u + 1`; on futures `pu` equals the previous `u`.
# 6. If a diff does not continue the chain, updates were lost: the book is wrong from there on.
#    Throw it away and start again from step 2.
#
# Chapter 2 implements these rules exactly, with one refinement for futures, whose update ids
# are not contiguous (section 7 shows why).
#
# ### Exchange archives and vendors
#
# - **Binance public data** (data.vision) publishes daily and monthly zip files of CSV:
#   trades, aggregated trades and klines for spot and futures, best bid/offer (`bookTicker`)
#   for futures over some periods, and a coarse futures `bookDepth` (depth within fixed
#   percentage bands of the price). It has no full L2 diffs.
# - **Bybit** publishes daily historical order-book files: zipped newline-delimited JSON of
#   `snapshot` and `delta` messages for the top 200 or 500 levels (`ob200`, `ob500`), by market.
# - **Tardis.dev** sells normalised historical data from many exchanges as CSV:
#   `incremental_book_L2`, `book_snapshot_5`/`_25`, `trades`, `quotes`, and more. The first day
#   of each month is free without an API key.
#
# ### REST polling with ccxt
#
# The ccxt library wraps the REST APIs of about a hundred exchanges behind one interface
# (`fetch_order_book`, `fetch_trades`). Polling gives a snapshot every time you ask, limited by
# the exchange's rate limits. Whatever happens between two polls is lost, so polling gives
# sampled books, never an exact replay.
#
# ### Comparing the routes
#
# | route | what you get | history | latency | cost and licence |
# |---|---|---|---|---|
# | websocket diffs + REST snapshot (record it yourself) | exact L2 at every update, trades, BBO | from the moment you start recording | milliseconds | free public data; you run and monitor a recorder; exchange terms of use apply |
# | Binance data.vision | trades, aggTrades, klines; futures bookTicker and coarse bookDepth | years | next day (daily files) | free; Binance terms of use |
# | Bybit history files | L2 snapshot + delta messages, 200 or 500 levels | varies by market | next day | free; Bybit terms of use |
# | Tardis.dev CSV | normalised L2 diffs, book snapshots, trades, quotes, many exchanges | from 2019 for many venues | next day | paid API key; first day of each month free; commercial licence |
# | ccxt REST polling | sampled top-N books and recent trades, almost any exchange | none (you poll from now on) | one request per poll, hundreds of ms to seconds | free (MIT library); exchange rate limits and terms apply |
#
# ```{note}
# This revision of the book reads recordings in the Binance combined-stream format, which is
# what the bundled data are. The live recorder (`python -m lobutils record`), the ccxt collector
# and the readers and downloaders for data.vision, Bybit and Tardis come with a later revision
# of this chapter. Until then, this chapter describes those routes and runs nothing that needs
# the network.
# ```

# %% [markdown]
# ## 3. The bundled recordings
#
# The repository ships real recordings of Binance public streams from 2024-08-08 23:54 to
# 2024-08-09 00:05 UTC: spot, USD-M futures (linear, quantities in coin) and COIN-M futures
# (inverse, quantities in contracts), for BTC and ETH. They are example data of the open-source
# project hftbacktest, MIT-licensed; `data/README.md` gives their provenance.
#
# First, check that the files are the ones the checksum list names. A directory without a
# `SHA256SUMS` file is read without the check.

# %%
try:
    verified = verify_checksums(DATA_DIR)
    print(f"{len(verified)} files match SHA256SUMS")
except FileNotFoundError:
    verified = []
    print("no SHA256SUMS in this directory: checksums not verified")

# %% [markdown]
# A *segment* is one stream recorded without interruption. The recorder rotated its files at
# midnight UTC, so a segment can span two files; they are read as one stream.

# %%
pd.DataFrame(
    {
        "segment": [s.name for s in SEGS],
        "market": [s.market for s in SEGS],
        "symbol": [s.symbol for s in SEGS],
        "files": [" + ".join(f.name for f in s.files) for s in SEGS],
        "MB (gzip)": [round(sum(f.stat().st_size for f in s.files) / 1e6, 2) for s in SEGS],
    }
)

# %% [markdown]
# ## 4. The recording format
#
# Each line is the local receive time (integer nanoseconds since the epoch), a space, and one
# JSON message exactly as Binance sent it. Stream messages come in a combined-stream envelope,
# `{"stream": "<symbol>@<channel>", "data": {...}}`. One line per segment is different: the REST
# snapshot, `{"lastUpdateId": ..., "bids": [...], "asks": [...]}`, written in-line by the
# recorder.
#
# Here is the first line of each kind in the first file, cut at 200 characters.
# `lobutils.io.parse_line` is the readable pure-Python parser that classifies them.

# %%
raw, _ = read_text(SEGS[0].files[0])
first_of_kind = {}
for number, line in enumerate(raw.splitlines(), start=1):
    kind = parse_line(line).kind
    first_of_kind.setdefault(kind, (number, line))
    if {"depth", "snapshot", "trade", "bbo"} <= first_of_kind.keys():
        break
for kind, (number, line) in first_of_kind.items():
    text = line.decode()
    print(f"line {number} ({kind}):\n  {text[:200]}{' ...' if len(text) > 200 else ''}\n")

# %% [markdown]
# In a depth diff, `b` and `a` list the changed bid and ask levels as `[price, size]` strings.
# In a trade, `m` is true when the buyer was the maker, so the *seller* was the aggressor.
# `bookTicker` carries the best bid `b`/`B` and ask `a`/`A` with the book update id `u`; on spot
# it has no event time.
#
# The reader, `lobutils.io.read_binance_recording`, turns a segment into three typed tables with
# int64 nanosecond timestamps: depth (one row per price level of each message), trades and BBO.
# Here are the rows of the first depth message.

# %%
first_rec.depth[first_rec.depth.msg == 0].head(6)

# %% [markdown]
# ## 5. Message types and counts
#
# Read every segment. The table counts lines and messages by type, and the rates divide by the
# recorded span (first to last receive time).

# %%
recs = {s.name: read_binance_recording(s.files) for s in SEGS}


def diff_messages(rec):
    """One row per depth diff message (its first level row), in arrival order."""
    d = rec.depth
    return d[d.kind == DIFF].drop_duplicates("msg")


def span_s(rec):
    local = np.concatenate([rec.depth.local_ts, rec.trades.local_ts, rec.bbo.local_ts])
    return (local.max() - local.min()) / 1e9


counts = pd.DataFrame(
    {
        name: {
            "market": rec.market,
            "lines": rec.stats["lines"],
            "snapshots": rec.stats["snapshots"],
            "diffs": rec.stats["diffs"],
            "level updates": int(((rec.depth.kind == DIFF) & (rec.depth.side != 0)).sum()),
            "trades": rec.stats["trades"],
            "bbo": rec.stats["bbo"],
            "skipped": sum(rec.stats["skipped_streams"].values()),
            "span (s)": round(span_s(rec), 1),
            "median gap between diffs (ms)": np.median(np.diff(diff_messages(rec).ts)) / 1e6,
        }
        for name, rec in recs.items()
    }
).T
for col in ("diffs", "trades", "bbo"):
    counts[f"{col}/s"] = (counts[col] / counts["span (s)"]).astype(float).round(1)
counts

# %% [markdown]
# Spot diffs come at a fixed 10 per second: `depth@100ms` batches 100 ms of changes. The futures
# `depth@0ms` diffs are batched too, at shorter intervals that differ by market (the median gap
# in exchange time). Each bookTicker change is its own message, so the BBO stream is the
# busiest.
#
# ## 6. Message rates over time
#
# The figure counts messages per second in each window ending at the grid time. It uses the
# receive times, the one clock all three streams share (spot bookTicker carries no exchange
# time).

# %%
events = pd.concat(
    [
        pd.DataFrame({"ts": table.local_ts.to_numpy(), "segment": name, "stream": stream})
        for name, rec in recs.items()
        for stream, table in (
            ("depth diffs", diff_messages(rec)),
            ("trades", rec.trades),
            ("bookTicker", rec.bbo),
        )
    ],
    ignore_index=True,
)
fig = plots.event_rates(
    events,
    RATE_EVERY,
    facet="stream",
    ylabel="messages/s",
    title=f"Message rates per {RATE_EVERY} window, by stream",
)
fig.show()

# %% [markdown]
# *What to see:* spot diffs are a flat line at 10/s, while futures diffs, trades and quotes come
# in bursts. Bursts in one market tend to line up with bursts in the others: activity moves
# across markets together.
#
# ## 7. The update-id chains
#
# A diff must continue the one before it, or updates were lost. The rule differs by market:
#
# - spot: `U == prev_u + 1` (ids are contiguous within a symbol);
# - futures: `pu == prev_u` (the diff names its predecessor).
#
# The table checks the rule over every diff of every segment, and counts the *breaks*. It also
# measures how far the ids move: the id step from one diff to the next (`U - prev_u`), the ids
# covered by one diff (`u - U + 1`), and, for comparison, the price levels one diff changes.

# %%
chain_rows = {}
steps = {}
for name, rec in recs.items():
    m = diff_messages(rec)
    first_id = m.first_id.to_numpy()
    last_id = m.last_id.to_numpy()
    prev_id = m.prev_id.to_numpy()
    if rec.market == "spot":
        chained = first_id[1:] == last_id[:-1] + 1
    else:
        chained = prev_id[1:] == last_id[:-1]
    step = first_id[1:] - last_id[:-1]
    steps[name] = step
    chain_rows[name] = {
        "rule": "U == prev_u + 1" if rec.market == "spot" else "pu == prev_u",
        "diffs": len(m),
        "chain breaks": int((~chained).sum()),
        "U == prev_u + 1 (share)": round(float(np.mean(step == 1)), 4),
        "median id step": float(np.median(step)),
        "median ids per diff": float(np.median(last_id - first_id + 1)),
        "median levels per diff": float(
            np.median(rec.depth[rec.depth.kind == DIFF].msg.value_counts())
        ),
        "snapshot lastUpdateId": int(rec.depth.loc[rec.depth.kind == SNAPSHOT, "last_id"].iat[0]),
    }
chains = pd.DataFrame(chain_rows).T
chains

# %%
print(
    f"{int(chains['chain breaks'].sum())} chain breaks in {int(chains['diffs'].sum()):,} diffs "
    f"over {len(chains)} segments"
)

# %% [markdown]
# A break would mean the recording lost messages there, and a book rebuilt across it would be
# wrong until the next snapshot. The bundled recordings have none.
#
# The id steps tell the two markets apart. On spot, the next diff always starts one id after the
# previous one ended: the ids count this symbol's updates only. On futures the step is almost
# never 1, a single futures diff spans far more ids than it changes levels, and the snapshot ids
# of symbols of the same market are close to each other. Futures update ids come from a counter
# that other symbols' updates advance too, so each book sees only some of the numbers, even
# inside its own `[U, u]` ranges. That is why futures diffs carry `pu`. Checking `U == prev_u + 1` on a
# futures stream would report a "gap" at nearly every message.

# %%
fig = plots.histograms(
    steps,
    "update-id step between consecutive diffs, U - prev_u (ids)",
    log_x=True,
    bins=50,
    ylabel="share of diffs",
    title="Update-id steps: 1 on spot, many ids on futures",
)
fig.show()

# %% [markdown]
# *What to see:* each spot segment is a single spike at 1. The futures segments spread over
# decades. The USD-M ids advance much faster than the COIN-M ones, as expected if far more
# updates across the USD-M market draw on its counter.
#
# ## 8. Two clocks: exchange time and receive time
#
# Every message has two timestamps. The exchange's own time (`E`, the event time of a diff; `T`,
# the trade time) and the local receive time the recorder wrote at the start of the line. Their
# difference is
#
# $$\text{local} - \text{exchange} = \text{clock skew} + \text{latency},$$
#
# where the skew is how far the recording machine's clock is off from the exchange's, and the
# latency (always positive) is the time the message spent in flight and in queues. A
# *negative* difference is impossible for a latency alone: it shows the local clock was behind.
# Without a clock synchronised to the exchange, the two parts cannot be separated. What the
# distribution does show is the *jitter*: how much the delay varies from message to message.

# %%
offsets = {}
clock_rows = {}
for name, rec in recs.items():
    m = diff_messages(rec)
    d = (m.local_ts.to_numpy() - m.ts.to_numpy()) / 1e6
    t = (rec.trades.local_ts.to_numpy() - rec.trades.ts.to_numpy()) / 1e6
    offsets[name] = d
    clock_rows[name] = {
        "diffs: median (ms)": np.median(d),
        "diffs: p1 (ms)": np.percentile(d, 1),
        "diffs: p99 (ms)": np.percentile(d, 99),
        "diffs: p99 - p1 (ms)": np.percentile(d, 99) - np.percentile(d, 1),
        "trades: median (ms)": np.median(t),
    }
clocks = pd.DataFrame(clock_rows).T.round(1)
clocks

# %%
med = clocks["diffs: median (ms)"]
print(
    f"local minus exchange time, median over diffs: from {med.min():,.0f} to {med.max():,.0f} ms "
    f"across segments. The local clock ran {'behind' if med.max() < 0 else 'ahead of'} the "
    "exchange's by about the same amount on every stream: that common part is skew."
)

# %%
fig = plots.histograms(
    offsets,
    "local receive time minus exchange event time (ms)",
    bins=80,
    quantiles=(0.001, 0.999),
    ylabel="share of diffs",
    title="Local minus exchange time of depth diffs: a skew plus a little jitter",
)
fig.show()

# %% [markdown]
# *What to see:* on the bundled data all segments sit at the same offset of roughly −1.3 s (the
# recorder's clock was behind), with a spread of a few milliseconds. The shared offset is the skew. The width of each
# distribution is the variation in delay. Their right tails are messages that waited longer.
#
# Two consequences for the rest of the book: order and sample events by **exchange time**, and
# never read local-minus-exchange differences as latencies.
#
# ## 9. Trades
#
# Each trade has an aggressor side: +1 when the buyer crossed the spread (a market buy), −1 when
# the seller did. To compare sizes across markets, convert each trade to its notional value:
# `price × quantity` on spot and USD-M (quantity in coin, value in USDT), and
# `contracts × contract value` on COIN-M, where a contract is worth a fixed number of USD
# (the `CONTRACT_USD` parameter).


# %%
def notional(seg, rec):
    """Trade values: USDT on spot and USD-M, USD on COIN-M (NaN if CONTRACT_USD lacks it)."""
    if seg.market == "cm":
        return rec.trades.qty.to_numpy() * CONTRACT_USD.get(seg.symbol, np.nan)
    return (rec.trades.price * rec.trades.qty).to_numpy()


values = {s.name: notional(s, recs[s.name]) for s in SEGS}
trade_rows = {}
for name, rec in recs.items():
    side = rec.trades.side.to_numpy()
    v = values[name]
    trade_rows[name] = {
        "trades": len(side),
        "buyer-initiated (share of trades)": np.mean(side == 1),
        "buyer-initiated (share of value)": v[side == 1].sum() / v.sum(),
        "total value (M USD)": v.sum() / 1e6,
        "median trade (USD)": np.median(v),
        "mean trade (USD)": v.mean(),
    }
trades_table = pd.DataFrame(trade_rows).T.astype(float).round(3)
trades_table

# %% [markdown]
# The aggressor balance says who was pushing in these minutes: a share of buyer-initiated value
# above one half means market buys outweighed market sells. Eleven minutes of one night tell us
# nothing about these markets in general.
#
# The mean trade is far above the median in every market here: trade sizes are heavy-tailed, with
# many small trades and a few very large ones. A log scale shows it.

# %%
fig = plots.histograms(
    values,
    "trade value (USD or USDT, log scale)",
    log_x=True,
    bins=60,
    ylabel="share of trades",
    title="Trade sizes span several decades",
)
fig.show()

# %% [markdown]
# *What to see:* each distribution covers several decades, from a few dollars to hundreds of
# thousands. The spikes are popular sizes: exchange minimums, round quantities and, on COIN-M,
# whole contracts.
#
# Finally, the price path. To put BTC and ETH on one axis, each series is the change in log
# price since its start, in basis points (1 bp = 0.01 %): $10^4 \log(p_t / p_0)$, where $p_t$
# is the last trade price at or before grid time $t$.

# %%
fig = plots.price_paths(
    {name: rec.trades for name, rec in recs.items()},
    RATE_EVERY,
    title="Trade price paths: the markets of one asset move together",
)
fig.show()

# %% [markdown]
# *What to see:* spot, USD-M and COIN-M prices of the same asset are almost indistinguishable,
# and BTC and ETH move together. Here the spot and COIN-M recordings run past midnight, while the
# USD-M ones stop at 23:59:59.
#
# ## 10. Key numbers
#
# The chapter writes its key numbers to `metrics.json` in its report directory.

# %%
metrics = {
    "files_verified": len(verified),
    "segments": {
        name: {
            "market": rec.market,
            "symbol": SEGS[i].symbol,
            "lines": rec.stats["lines"],
            "snapshots": rec.stats["snapshots"],
            "diffs": rec.stats["diffs"],
            "trades": rec.stats["trades"],
            "bbo": rec.stats["bbo"],
            "span_s": counts.loc[name, "span (s)"],
            "diffs_per_s": counts.loc[name, "diffs/s"],
            "trades_per_s": counts.loc[name, "trades/s"],
            "bbo_per_s": counts.loc[name, "bbo/s"],
            "chain_breaks": chains.loc[name, "chain breaks"],
            "local_minus_exchange_ms_median": clocks.loc[name, "diffs: median (ms)"],
            "buy_share_trades": trades_table.loc[name, "buyer-initiated (share of trades)"],
        }
        for i, (name, rec) in enumerate(recs.items())
    },
}
pd.DataFrame(write_metrics(OUT, metrics)["segments"]).T

# %% [markdown]
# ## Key takeaways
#
# - L2 data is the book by price level. You rebuild it exactly from one snapshot plus every diff
#   after it, and you lose exactness the moment one diff is missing.
# - The four routes trade coverage against effort: your own websocket recorder gives exact books
#   but only from today, archives and vendors give history in their own formats and terms, and
#   REST polling gives only sampled books.
# - The update ids are the integrity check. Spot ids are contiguous (`U == prev_u + 1`); futures
#   ids are shared with other symbols, so futures diffs chain by `pu == prev_u`. The bundled
#   recordings have no break at all.
# - Each message carries two clocks. Local minus exchange time is skew plus latency; here the
#   skew dominates (about −1.3 s). Order and sample by exchange time.
# - These are minutes of data: good for learning the mechanics, not for conclusions about the
#   markets.
#
# ## Exercises
#
# 1. How many bookTicker messages arrive per depth diff, on average, in each segment? Why is
#    the ratio so different between markets? (Hint: compare with the median gap between
#    diffs.)
# 2. Is the clock skew stable over the recording? Compute the minimum of local minus exchange
#    time of the diffs in each 30 s window of one segment. The minimum is the message that
#    waited least, so its changes track the skew (drift) rather than the jitter.
# 3. Split one segment's trades into its first and second half. Does the buyer-initiated share
#    of value change? With this little data, how would you judge whether the change is real?

# %% tags=["hide-input"]
# Solution 1: bookTicker messages per depth diff, by segment, next to the diff interval.
print(
    pd.DataFrame(
        {
            "bbo per diff": (counts["bbo"] / counts["diffs"]).astype(float).round(1),
            "median gap between diffs (ms)": counts["median gap between diffs (ms)"],
        }
    ).to_string()
)
# Every change of the best quotes is its own bookTicker message, while a diff batches all the
# changes of its interval. The longer the interval, the more quote changes fall inside one diff:
# many per diff for 100 ms (spot) and ~50 ms batches, about one where diffs come every few ms.

# %% tags=["hide-input"]
# Solution 2: the least-delayed message in each 30 s window tracks the clock skew.
m = diff_messages(recs[SEGS[0].name])
window = (m.ts // 30_000_000_000) * 30_000_000_000
lowest = ((m.local_ts - m.ts) / 1e6).groupby(plots.utc(window)).min()
print(f"{SEGS[0].name}: minimum local minus exchange time per 30 s window (ms)")
print(lowest.round(1).to_string())
print(f"change from the first to the last window: {lowest.iat[-1] - lowest.iat[0]:+.1f} ms")
# On the bundled data the minimum moves steadily in one direction: the local clock drifts against
# the exchange's by a few milliseconds over these minutes, far less than the skew itself.

# %% tags=["hide-input"]
# Solution 3: the aggressor balance in each half of the first segment, with a rough standard
# error from 1-second blocks (trades cluster in time, so single trades are not independent).
tr = recs[SEGS[0].name].trades.assign(value=values[SEGS[0].name])
half = np.where(tr.ts < tr.ts.median(), "first half", "second half")
for label, part in tr.groupby(half):
    per_second = part.groupby(part.ts // 1_000_000_000).apply(
        lambda g: (g.value * (g.side == 1)).sum() / g.value.sum(), include_groups=False
    )
    print(
        f"{label}: buyer-initiated share of value {(part.value * (part.side == 1)).sum() / part.value.sum():.3f}, "
        f"mean of 1 s blocks {per_second.mean():.3f} ± {per_second.std() / np.sqrt(len(per_second)):.3f} (s.e.)"
    )

# %% [markdown]
# ## References
#
# - Gould, M. D., Porter, M. A., Williams, S., McDonald, M., Fenn, D. J. and Howison, S. D. (2013).
#   Limit order books. *Quantitative Finance* 13(11), 1709–1742. A survey of LOB data and models.
# - Bouchaud, J.-P., Bonart, J., Donier, J. and Gould, M. (2018). *Trades, Quotes and Prices:
#   Financial Markets Under the Microscope*. Cambridge University Press.
# - Cont, R., Kukanov, A. and Stoikov, S. (2014). The price impact of order book events
#   {cite}`cont2014price`: why the order-book events recorded here matter for prices.
# - Binance. *Spot API: WebSocket streams* and *USDⓈ-M / COIN-M Futures: how to manage a local
#   order book correctly* (developer documentation, binance-docs.github.io): the sync procedure
#   of section 2.
# - Binance public data (data.binance.vision), Bybit historical data, Tardis.dev documentation,
#   and the ccxt manual: the archive and polling routes of section 2.
