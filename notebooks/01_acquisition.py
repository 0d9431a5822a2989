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
# # 1. Order-book data and where it comes from
#
# A limit order book (LOB) is the list of resting buy and sell orders for one instrument on one
# exchange. Every later chapter works on books rebuilt from exchange data, so this one asks what
# that data is, where it comes from, and what a raw recording looks like before any processing.
# It takes a first measured look at the bundled Binance recordings: what message types they
# hold and how fast they arrive, how their update ids chain, how the two clocks in them differ,
# and what the trades look like. Then it runs each route to more data: the live recorder,
# exchange archives and vendor files, and REST polling with ccxt. Last, it stores everything in
# one parquet lake.
#
# **Learning objectives.** After this chapter you can
#
# - tell L1, L2 and L3 data apart, and snapshots from incremental diffs;
# - describe the routes to order-book data (live websocket streams with REST snapshots,
#   exchange archives, vendors such as Tardis.dev, and REST polling with ccxt), and what each
#   costs in coverage, latency and licence terms;
# - read a raw Binance recording line by line, and check its update-id chain;
# - keep exchange time and local receive time apart, and say why their difference is not a
#   latency;
# - record, download, poll and store order-book data with `lobutils`, and check that what you
#   stored rebuilds the same book.
#
# **Prerequisites.** Python and pandas. No market microstructure is assumed.
#
# **Outputs.** Tables and figures below, and `reports/01_acquisition/metrics.json`: per segment,
# the message counts and rates, the update-id chain breaks, and the median local-minus-exchange
# clock difference; and the results of the offline demonstrations (messages re-recorded, book
# and quote match rates, lake rows per table).
#
# **The network.** The book builds offline. Cells that need the internet (a real recording, a
# real download, a real poll) run only when you set `LIVE = True` in the parameters cell;
# otherwise they print what they would do. The same code then runs against local stand-ins:
# a websocket server on 127.0.0.1 that replays a bundled recording, files written in the
# vendors' formats, and hand-written polls.
#
# **A caveat on size.** The bundled recordings are about eleven minutes of six markets. That is
# enough to learn the formats and test every step, and not enough for strong statistical claims.
# The numbers below describe these minutes, nothing more.

# %%
import gzip
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from lobutils.book import reconstruct, sample_clock, survey
from lobutils.data import lake, segment, segments, verify_checksums
from lobutils.data.binance import parse_line, read_binance_recording, read_text
from lobutils.paths import report_dir, write_frame, write_metrics
from lobutils.plots import book as plots
from lobutils.plots.style import units
from lobutils.report import say, setup_display
from lobutils.schema import ASK, BID, SNAPSHOT

setup_display(width=100)

# %%
# the three routes to more data: record, download (and read archives), poll
from lobutils.acquire import download
from lobutils.acquire.collect import collect
from lobutils.acquire.polls import polls_to_depth
from lobutils.acquire.recorder import RecorderConfig, record, snapshot_url, stream_url
from lobutils.acquire.replay_server import ReplayServer
from lobutils.book.export import to_tardis_csv
from lobutils.data.archives import detect, read_binance_vision, read_tardis_book, read_tardis_trades

# %% tags=["parameters"]
DATA_DIR = None  # a directory of <market>_<symbol>_<YYYYMMDD>.gz recordings; None: the bundled data
SEGMENTS = None  # segment names to read, e.g. ["spot_btcusdt"]; None: every segment found
RATE_EVERY = "1s"  # window of the message-rate figure and grid of the price paths
CONTRACT_USD = {"btcusd_perp": 100, "ethusd_perp": 10}  # USD per COIN-M contract, by symbol
REPORT_DIR = None  # where metrics.json goes; None: reports/01_acquisition/
REPLAY_LINES = 2000  # lines of the first segment the offline recorder demo replays
POLL_EVERY = "1s"  # polling interval of the what-polling-misses comparison
LIVE = False  # True: also run the cells that need the internet (record, download, poll)
LIVE_SYMBOL = "btcusdt"  # Binance symbol the live recorder records
LIVE_MARKET = "spot"  # its market: spot, usdm or cm
LIVE_SECONDS = 30  # length of the live recording (s)
# data.vision market, type, symbol and day of the live download
LIVE_ARCHIVE = ("usdm", "bookDepth", "BTCUSDT", "2024-08-08")
LIVE_CCXT = ("bybit", "BTC/USDT")  # exchange and symbol of the live ccxt poll
LIVE_POLLS = 10  # polls, one per second
LIVE_DIR = None  # where live recordings, polls and downloads go; None: lobutils' defaults

# %%
OUT = report_dir("01_acquisition", REPORT_DIR)
SEGS = segments(DATA_DIR) if SEGMENTS is None else [segment(n, DATA_DIR) for n in SEGMENTS]
SCRATCH = tempfile.TemporaryDirectory(prefix="lob-ch01-")  # removed when the kernel exits
WORK = Path(SCRATCH.name)  # scratch space of the offline demos
print(f"{len(SEGS)} segments:", ", ".join(s.name for s in SEGS))
print("LIVE:", LIVE)

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
n_bid, n_ask = int((snap.side == BID).sum()), int((snap.side == ASK).sum())
print(
    f"{SEGS[0].name}: snapshot lastUpdateId {int(snap.last_id.iat[0])}, {n_bid} bid and {n_ask} ask levels"
)
top5


# %% [markdown]
# ## 2. Where it comes from
#
# ### Live streams: websocket diffs plus a REST snapshot
#
# Exchanges push book changes over websockets. Binance's depth streams send a diff every
# 100 ms on spot (`<symbol>@depth@100ms`). Binance's futures documentation lists 100, 250 and
# 500 ms; the bundled futures recordings use `<symbol>@depth@0ms`, which the servers accept
# and which delivered diffs at shorter, irregular intervals (section 5). Each diff carries update
# ids: `U`, the first update in it, and `u`, the last; futures diffs also carry `pu`, the `u` of
# the previous diff. A REST endpoint returns a snapshot of the book (up to 5000 levels per side
# on spot and 1000 on futures), stamped with `lastUpdateId`.
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
# - **Binance public data** (data.vision) publishes daily and monthly zip files of CSV, each
#   with a `.CHECKSUM` file: trades and aggregated trades for spot and futures, best bid/offer
#   (`bookTicker`) for futures over some periods, and a coarse futures `bookDepth` (the
#   cumulative size within ±1 % to ±5 % of the price, every 30 to 60 s). It has no L2 diffs,
#   so no full book can be rebuilt from it.
# - **Bybit** publishes daily historical order-book files: zipped newline-delimited JSON of
#   `snapshot` and `delta` messages for the top 200 or 500 levels (`ob200`, `ob500`), as its
#   websocket pushed them, for derivatives and spot.
# - **Tardis.dev** sells normalised historical data from many exchanges as CSV:
#   `incremental_book_L2`, `book_snapshot_5`/`_25`, `trades`, `quotes`, and more, with the
#   exchange's time and Tardis' own receive time. The first day of each month is free without
#   an API key.
#
# ### REST polling with ccxt
#
# The ccxt library wraps the REST APIs of about a hundred exchanges behind one interface
# (`fetch_order_book`, `fetch_trades`). Polling gives a snapshot every time you ask, limited by
# the exchange's rate limits. Whatever happens between two polls is lost, so polling gives
# sampled books, never an exact replay (section 12 measures how much is lost).
#
# ### Comparing the routes
#
# | source | coverage: markets, depth, history | latency and granularity | cost and licence |
# |---|---|---|---|
# | Binance websocket + REST snapshot, recorded yourself (`lobutils.acquire.recorder`) | one exchange, the symbols you subscribe; full L2 diffs (the book to any depth once synced), trades, BBO; history only from the moment you start | live: messages arrive within milliseconds of the event, plus your network; diffs every 100 ms (spot) or faster (futures); both clocks kept | free, no API key; you run and monitor the recorder; Binance's terms of use apply |
# | Binance data.vision (`fetch_binance_vision`, `read_binance_vision`) | Binance spot, USD-M, COIN-M; trades, aggTrades; futures bookTicker (some periods) and bookDepth bands; no L2 diffs; years of history | daily (and monthly) files, published after the day ends; trades at ms (µs on spot from 2025), bookDepth every 30–60 s; no receive time | free; Binance's terms of use apply |
# | Bybit order-book history (`fetch_bybit`, `read_bybit_orderbook`) | Bybit derivatives and spot; snapshots + deltas of the top 200 or 500 levels; daily files | daily files, published after the day ends; deltas at the websocket's push interval; exchange times only | free download; Bybit's terms of use apply |
# | Tardis.dev CSV (`fetch_tardis`, `read_tardis_*`) | tens of exchanges; tick-level L2 updates, top-5/25 snapshots, trades, quotes; history from 2019 for many venues | daily files of past days; every update as the exchange sent it, µs timestamps, with Tardis' receive time | paid API key, except the first day of each month; Tardis.dev's licence terms |
# | ccxt REST polling (`lobutils.acquire.collect`) | almost any exchange; top N levels of each poll (as deep as the REST endpoint allows) and recent trades; no book history | one request per poll: a round trip (tens to hundreds of ms); you see the book only at the polls, at most as often as the rate limits allow | free (ccxt is MIT-licensed); the exchange's rate limits and terms apply |
#
# What this table assumes, beyond what the exchanges and Tardis document:
#
# - *Publication delay.* data.vision, Bybit and Tardis publish a day's files after the day; how
#   long after varies, and none of them promises a time. Plan for a day or more.
# - *Bybit.* Bybit documents no file URL scheme or start date. `lobutils.acquire.download.bybit_url`
#   uses the pattern of the files its download page links to, and assumes linear files were
#   `ob500` up to 2025-08-20 and `ob200` after (observed by third parties). That the files hold
#   every websocket push is an assumption too.
# - *data.vision.* Which data types exist for which periods changes over time: Binance stopped
#   publishing futures `bookTicker` in 2024.
# - *Licences.* "Free" means free to download. Each exchange's terms of use restrict what you
#   may do with the data (redistribution, commercial use); read them before publishing data or
#   products built on it. This book's bundled files are Binance public data redistributed by
#   hftbacktest under the MIT licence (section 3).
#
# Sections 10 to 12 run each route. Every one of them has a `LIVE` cell that uses the real
# service, and an offline cell that runs the same code against a local stand-in.

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
        "market": [s.market for s in SEGS],
        "symbol": [s.symbol for s in SEGS],
        "files": [len(s.files) for s in SEGS],
        "MB": [round(sum(f.stat().st_size for f in s.files) / 1e6, 2) for s in SEGS],
    },
    index=pd.Index([s.name for s in SEGS], name="segment"),
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
# `lobutils.data.binance.parse_line` is the readable pure-Python parser that classifies them.

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
    cut = text[:200] + (" ..." if len(text) > 200 else "")
    print(
        f"line {number} ({kind}):\n"
        + textwrap.fill(cut, 90, initial_indent="  ", subsequent_indent="  ")
    )

# %% [markdown]
# In a depth diff, `b` and `a` list the changed bid and ask levels as `[price, size]` strings.
# In a trade, `m` is true when the buyer was the maker, so the *seller* was the aggressor.
# `bookTicker` carries the best bid `b`/`B` and ask `a`/`A` with the book update id `u`; on spot
# it has no event time.
#
# The reader, `lobutils.data.binance.read_binance_recording`, turns a segment into three typed tables with
# int64 nanosecond timestamps: depth (one row per price level of each message), trades and BBO.
# Here are the rows of the first depth message, with its exchange time as a time of day (UTC).

# %%
first_msg = first_rec.depth[first_rec.depth.msg == 0].head(6)
first_msg.assign(time=plots.utc(first_msg.ts).strftime("%H:%M:%S.%f").str[:-3])[
    ["time", "msg", "kind", "side", "price", "qty", "first_id", "last_id"]
]

# %% [markdown]
# ## 5. Message types and counts
#
# Read every segment. The first table counts lines and messages by type; the second divides the
# counts by the recorded span (first to last receive time), and gives the median gap between
# diffs in exchange time. Both are in `counts.csv` in the report directory.

# %%
recs = {s.name: read_binance_recording(s.files) for s in SEGS}
counts = survey.message_counts(recs)  # the full table goes to counts.csv in the report dir
write_frame(counts.rename_axis("segment").reset_index(), OUT / "counts.csv")
count_cols = ["lines", "snapshots", "diffs", "level updates", "trades", "bbo", "skipped"]
counts[count_cols].astype(int)

# %%
rates = counts[["span (s)", "diffs/s", "trades/s", "bbo/s", "median gap between diffs (ms)"]]
rates.rename(columns={"median gap between diffs (ms)": "diff gap (ms, median)"}).astype(
    float
).round(1)

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
            ("depth diffs", survey.diff_messages(rec)),
            ("trades", rec.trades),
            ("bookTicker", rec.bbo),
        )
    ],
    ignore_index=True,
)

# %%
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
chains, steps = survey.chain_table(recs)
write_frame(chains.rename_axis("segment").reset_index(), OUT / "chains.csv")
chains.drop(columns=["diffs", "snapshot lastUpdateId"])  # id step, ids, levels: medians

# %% tags=["remove-input"]
say(
    f"{int(chains['chain breaks'].sum())} chain breaks in {int(chains['diffs'].sum()):,} diffs "
    f"over {len(chains)} segments."
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
clocks, offsets = survey.clock_table(recs)
clocks.rename(columns=lambda c: c.replace(" (ms)", "")).rename_axis(columns="ms")

# %% tags=["remove-input"]
med = clocks["diffs: median (ms)"]
say(
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
values = {
    s.name: survey.trade_values(s.market, recs[s.name].trades, CONTRACT_USD.get(s.symbol))
    for s in SEGS
}
trades_table = survey.trade_table(recs, values)  # buys: buyer-initiated share
trades_table.drop(columns="trades")  # the counts are in the first table

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
# ## 10. Route 1: recording the streams yourself
#
# `lobutils.acquire.recorder` is the recorder that writes files like the bundled ones. For each symbol it
# subscribes to the depth, trade and bookTicker streams, fetches the REST snapshot after
# subscribing, and writes every message as `<local ns> <raw JSON>`, with the snapshot in-line.
# It starts a new gzip file at every UTC midnight (or hour), and fetches a new snapshot for each
# new file, after a gap in the update ids and after every reconnect, so that every file can be
# rebuilt on its own. It flushes every second, so a killed recorder loses at most a second, and
# SIGINT or SIGTERM close the files cleanly. From a shell:
#
# ```bash
# python -m lobutils record btcusdt ethusdt --market spot --duration 3600
# ```
#
# To see it work without the network, `lobutils.acquire.replay_server.ReplayServer` plays Binance on
# 127.0.0.1: a websocket server sends the messages of a bundled recording, and an HTTP server
# answers the snapshot request with the recording's own snapshot. The recorder runs its live
# code unchanged; only the two URLs differ. The check that matters is the last step: the
# recorded file must rebuild the same book as the bundled file. Chapter 2 explains how
# `lobutils.book.replay.reconstruct` rebuilds a book; here it is a black box.
#
# The same function checks the offline and the live recordings: read the files, rebuild the top
# 10 levels, and compare the book's best levels with the exchange's own bookTicker quotes
# (`check_bbo`: every quote whose update id equals a book state's must match it exactly).
# `lobutils.book.survey.check_recording` does these three steps and summarises them.


# %% [markdown]
# Replay the first `REPLAY_LINES` lines of the first segment through the loopback server, and
# record them with `record(...)`, the function the CLI calls.


# %%
def record_replay(server, out_dir, max_messages):
    """Record ``max_messages`` messages from a ReplayServer: its URLs replace Binance's."""
    return record(
        server.symbol,
        server.market,
        out_dir=out_dir,
        ws_url=server.ws_url,
        rest_url=server.rest_url,
        max_messages=max_messages,
        status_interval=0,
    )


# %%
with ReplayServer.from_recording(SEGS[0].files, max_lines=REPLAY_LINES) as server:
    replay_stats = record_replay(server, WORK / "recorded", len(server.messages))
print(
    f"served {len(server.messages)} stream messages and {server.served} snapshot over 127.0.0.1; "
    f"recorded {replay_stats['messages']} messages, {replay_stats['snapshots']} snapshot, "
    f"{replay_stats['gaps']} gaps, into {', '.join(Path(f).name for f in replay_stats['files'])}"
)

# %% [markdown]
# The file is named after today's UTC date, because the recorder stamps each line with its own
# clock. A replay keeps the messages and their order, not their timing.
#
# Now rebuild the book from the new file and from the whole bundled segment, and compare every
# book state the new file gives with the bundled book's state at the same update id (all
# columns but the receive time).

# %%
re_rec, re_book, re_summary = survey.check_recording(replay_stats["files"])
bundled_book = reconstruct(recs[SEGS[0].name], levels=10).frame
cols = [c for c in re_book.frame.columns if c not in ("local_ts", "update_id")]
same = survey.states_equal(re_book.frame, bundled_book, "update_id", cols)
replay_check = re_summary | {
    "states found in the bundled book": len(same),
    "states equal (share)": float(same.mean()),
}
pd.Series(replay_check, name=f"re-recorded {SEGS[0].name}").to_frame()

# %% [markdown]
# Every state of the re-recorded book is a state of the bundled book, equal level by level, and
# every bookTicker quote that can be compared matches. (Only quotes whose update id equals a
# book state's can be compared: on spot, where one diff batches 100 ms of updates, those are
# few.) The recorder wrote what it received, and the snapshot landed where the book engine can
# use it.
#
# With `LIVE = True` the next cell records `LIVE_SECONDS` of a real Binance stream and runs the
# same check. Expect a handful of stale diffs before the snapshot and no gap; a gap would mean
# a lost message, and the recorder would fetch a new snapshot right after it.

# %%
live_cfg = RecorderConfig(symbols=(LIVE_SYMBOL,), market=LIVE_MARKET)
if not LIVE:
    print(
        f"LIVE is False. With LIVE = True this cell records {LIVE_SYMBOL} on Binance "
        f"{LIVE_MARKET} for {LIVE_SECONDS} s from\n  {stream_url(live_cfg)}\n"
        f"with its snapshot from\n  {snapshot_url(live_cfg, LIVE_SYMBOL)}\n"
        "into data/recordings/ (or LIVE_DIR), then rebuilds the book and checks it."
    )

# %%
if LIVE:
    live_stats = record(
        [LIVE_SYMBOL],
        market=LIVE_MARKET,
        max_seconds=LIVE_SECONDS,
        out_dir=None if LIVE_DIR is None else Path(LIVE_DIR) / "recordings",
    )
    _, live_book, live_summary = survey.check_recording(live_stats["files"])
    print(f"{live_stats['messages']} messages in {live_stats['seconds']:.0f} s")
    print(pd.Series(live_summary).to_string())

# %% [markdown]
# ## 11. Route 2: exchange archives and vendors
#
# `lobutils.acquire.download` builds the archive URLs and downloads files with a cache, resumption of
# broken downloads, and checksums where the source publishes them (data.vision does; Bybit and
# Tardis do not, so the lake records a sha256 of every file it reads instead).
# `lobutils.data.archives` reads each format into the same three tables as the recordings. The URLs
# of the bundled day, for each source:

# %%
day = "2024-08-08"
urls = {
    "data.vision, USD-M trades": download.binance_vision_url("usdm", "trades", "BTCUSDT", day),
    "data.vision, USD-M bookDepth": download.binance_vision_url(
        "usdm", "bookDepth", "BTCUSDT", day
    ),
    "Bybit, linear ob500": download.bybit_url("BTCUSDT", day),
    "Tardis.dev, incremental_book_L2": download.tardis_url(
        "binance-futures", "incremental_book_L2", "BTCUSDT", day
    ),
    "Tardis.dev, trades": download.tardis_url("binance-futures", "trades", "BTCUSDT", day),
}
for label, url in urls.items():
    print(f"{label}:\n  {url}")

# %% [markdown]
# Tardis' `incremental_book_L2` has no update ids. Each row is one level change, and a run of
# `is_snapshot` rows replaces the whole book. To read such a file without a key, write one:
# `lobutils.book.export.to_tardis_csv` turns a recording into Tardis' CSV layout (µs
# times, `bid`/`ask`, `true`/`false`). It writes what a correct book consumes: the snapshot,
# then the buffered diff that straddles it, then every chained diff. The diffs the snapshot
# already holds are left out, because without update ids nothing downstream could drop them.
# Then read the files back with the Tardis readers, exactly as if they had been downloaded.

# %%
# Tardis' exchange ids of the Binance markets (the lake of section 13 uses them too)
EXCHANGE_ID = {"spot": "binance", "usdm": "binance-futures", "cm": "binance-delivery"}
seg0, rec0 = SEGS[0], recs[SEGS[0].name]
tardis_dir = WORK / "tardis"
tardis_dir.mkdir()
book_csv = tardis_dir / f"{seg0.symbol.upper()}_incremental_book_L2.csv.gz"
trades_csv = tardis_dir / f"{seg0.symbol.upper()}_trades.csv.gz"
exported = to_tardis_csv(rec0, book_csv, exchange=EXCHANGE_ID[seg0.market])
to_tardis_csv(rec0, trades_csv, "trades", exchange=EXCHANGE_ID[seg0.market])
for f in (book_csv, trades_csv):
    print(f"{f.name}: {detect(f)}, {f.stat().st_size / 1e6:.1f} MB")
left_out = [f"{v} {k}" for k, v in exported["left_out"].items() if v]
print("left out of the book file:", ", ".join(left_out) or "nothing")

# %%
with gzip.open(book_csv, "rt") as fh:
    print("".join(next(fh) for _ in range(4)))

# %%
t_book = read_tardis_book(book_csv)
t_trades = read_tardis_trades(trades_csv)
tardis_frame = reconstruct(t_book, levels=10).frame  # market "none": every snapshot is a state
# Tardis' files have no update ids: join the states by receive time, which Tardis keeps in µs
b = bundled_book.assign(local_ts=bundled_book.local_ts // 1000 * 1000)
t_cols = [c for c in tardis_frame.columns if c not in ("local_ts", "update_id")]
t_same = survey.states_equal(tardis_frame, b, "local_ts", t_cols)  # one per state in both

# %%
keep = ["ts", "trade_id", "price", "qty", "side"]
tardis_check = {
    "exchange": t_book.stats["exchange"],
    "book rows": t_book.stats["rows"],
    "messages (snapshots + updates)": f"{t_book.stats['snapshots']} + {t_book.stats['updates']}",
    "book states": len(tardis_frame),
    "states matched to the Binance book": len(t_same),
    "states equal (share)": float(t_same.mean()),
    "trades": len(t_trades.trades),
    "trades equal": bool(t_trades.trades[keep].equals(rec0.trades[keep])),
}
pd.Series(tardis_check, name=f"{seg0.name} via Tardis CSV").to_frame()

# %% [markdown]
# The Tardis reader gives one more state than the Binance book: without an update-id chain the
# snapshot is a book state of its own. Every other state equals the Binance book's, and every
# trade comes back with its id, price, size and aggressor side. The receive times keep only
# µs, the resolution of Tardis' files.
#
# Bybit's `ob200`/`ob500` files go through `read_bybit_orderbook` the same way (the tests write
# files in Bybit's layout; a Bybit `snapshot` resets the book). data.vision files go through
# `read_binance_vision`. Tardis' own files download with `fetch_tardis(exchange, data_type,
# symbol, day)`, free for the first day of a month. A day of L2 updates of a busy pair is
# large (hundreds of MB or more, an estimate), so the live cell below fetches a small
# data.vision file instead: with `LIVE = True` it downloads it, checks it against its
# published sha256, and reads it. From a shell: `python -m lobutils fetch binance-vision
# --market usdm --type bookDepth --symbol BTCUSDT --date 2024-08-08`.

# %%
vision_market, vision_type, vision_symbol, vision_day = LIVE_ARCHIVE
if not LIVE:
    url = download.binance_vision_url(vision_market, vision_type, vision_symbol, vision_day)
    print(
        f"LIVE is False. With LIVE = True this cell downloads\n  {url}\nand its .CHECKSUM into "
        "data/archives/ (or LIVE_DIR), verifies the sha256, and reads the file."
    )

# %%
if LIVE:
    got = download.fetch_binance_vision(
        vision_market,
        vision_type,
        vision_symbol,
        vision_day,
        root=None if LIVE_DIR is None else Path(LIVE_DIR) / "archives",
    )
    print(
        f"{got.path.name}: {got.size / 1e6:.2f} MB, sha256 {got.sha256[:16]}... matches its "
        f".CHECKSUM; cached: {got.cached}"
    )
    vision = read_binance_vision(got.path)
    print(vision.head(10) if isinstance(vision, pd.DataFrame) else vision.stats)

# %% [markdown]
# ## 12. Route 3: polling with ccxt
#
# `lobutils.acquire.collect.collect` polls an exchange's REST order book (top N levels) and its recent
# trades through ccxt, at a fixed interval, with ccxt's rate limiter on and retries with
# backoff. Bybit is the default exchange. Public data needs no key; where an exchange wants one,
# it is read from environment variables (`LOBUTILS_<EXCHANGE>_API_KEY`, `..._SECRET`) and never
# printed or logged. From a shell:
#
# ```bash
# python -m lobutils collect BTC/USDT --exchange bybit --levels 50 --interval 1 --duration 600
# ```
#
# Each poll becomes one snapshot message of the shared schema. Its update id is the book's
# sequence number when the exchange sends one (Bybit does), and its exchange time is the book's
# timestamp. Two hand-written polls (synthetic numbers, in the dict layout ccxt returns) show
# the schema, and what a book engine makes of it: one book state per poll, since every snapshot
# replaces the book (`chain="none"`).

# %%
ms = 1723161600000  # 2024-08-09 00:00:00 UTC, in ms
polls = [
    {"bids": [[61800.0, 1.2], [61799.9, 0.4]], "asks": [[61800.1, 0.8]], "nonce": 501, "timestamp": ms},
    {"bids": [[61800.0, 0.7]], "asks": [[61800.1, 1.5], [61800.2, 2.0]], "nonce": 509, "timestamp": ms + 1000},
]  # fmt: skip
received = [(ms + 35) * 10**6, (ms + 1041) * 10**6]  # local receive times (ns)
poll_depth = polls_to_depth(polls, local_ts=received)
poll_depth[["msg", "kind", "first_id", "side", "price", "qty"]]

# %% [markdown]
# And the book states a book engine makes of them (their best levels):

# %%
poll_book = reconstruct(poll_depth, levels=2, chain="none").frame
level_1 = ["update_id", "time", "bid_px_1", "bid_qty_1", "ask_px_1", "ask_qty_1"]
poll_book.assign(time=plots.utc(poll_book.ts).strftime("%H:%M:%S"))[level_1]

# %% [markdown]
# What does polling miss? Sample the exact books rebuilt from the bundled recordings as a poller
# would see them, once per `POLL_EVERY`, and count the changes of the top of the book (best
# prices and their sizes) that a poller sees against those that happened.


# %%
tops = {name: reconstruct(rec, levels=1).frame for name, rec in recs.items()}
polling = survey.polling_table(tops, POLL_EVERY)  # all columns in polling.csv
write_frame(polling.rename_axis("segment").reset_index(), OUT / "polling.csv")
polling[["polls", "top changes", "seen (share)", "price changes", "price seen (share)"]]

# %% tags=["remove-input"]
say(
    f"A poll every {POLL_EVERY} saw {polling['seen (share)'].min():.0%} to "
    f"{polling['seen (share)'].max():.0%} of the top-of-book changes, and "
    f"{polling['price seen (share)'].min():.0%} to "
    f"{polling['price seen (share)'].max():.0%} of the best-price changes."
)

# %% [markdown]
# A poll sees at most one change per interval, however many happened. Every change it misses
# is lost for good: the order flow between two polls cannot be recovered, and neither can the
# time a change happened. The figure shows the busiest 30 seconds of one segment (the most
# changes of the best bid): the best bid after every update, and what a poller sees.

# %%
f0 = tops[SEGS[0].name]
start, n_moves = survey.busiest_window(f0.ts.to_numpy(), f0.bid_px_1.to_numpy(), 30)
polled_bid = sample_clock(f0, POLL_EVERY, start=start, end=start + 30 * 10**9).bid_px_1.to_numpy()
print(
    f"{SEGS[0].name}, busiest 30 s: the best bid changed {n_moves} times; "
    f"polls every {POLL_EVERY} saw it change {int((polled_bid[1:] != polled_bid[:-1]).sum())} times"
)

# %%
fig = plots.clock_vs_event(
    f0,
    POLL_EVERY,
    column="bid_px_1",
    start=start,
    end=start + 30 * 10**9,
    ylabel=f"best bid ({units(SEGS[0].market, SEGS[0].symbol)[0]})",
    title=f"A poll every {POLL_EVERY} sees the book only at its diamonds",
)
fig.show()

# %% [markdown]
# *What to see:* the step line often moves more than once between two diamonds, and can move
# away and back in between. The poller sees only the diamonds: it misses the steps between them,
# and never knows when a step happened. A REST poll is fine for coarse snapshots of many
# exchanges; it cannot replace a stream for microstructure work.
#
# With `LIVE = True` the next cell polls a real exchange through ccxt and rebuilds one book
# state per poll.

# %%
ccxt_exchange, ccxt_symbol = LIVE_CCXT
if not LIVE:
    print(
        f"LIVE is False. With LIVE = True this cell polls {ccxt_symbol} on {ccxt_exchange} "
        f"{LIVE_POLLS} times, one second apart (50 levels and recent trades each), writes "
        "parquet parts under data/recordings/ccxt/ (or LIVE_DIR), and rebuilds the polled books."
    )

# %%
if LIVE:
    run = collect(
        ccxt_exchange,
        [ccxt_symbol],
        levels=50,
        interval=1.0,
        polls=LIVE_POLLS,
        out_dir=None if LIVE_DIR is None else Path(LIVE_DIR) / "ccxt",
        progress=False,
    )
    live_depth, live_trades = run.frames(ccxt_symbol)
    live_polls = reconstruct(live_depth, levels=5, chain="none").frame
    stats = ("polls", "books", "trades", "duplicates", "retries")
    print(", ".join(f"{run.stats[k]} {k}" for k in stats))
    print(live_polls[["ts", "update_id", "bid_px_1", "bid_qty_1", "ask_px_1", "ask_qty_1"]])

# %% [markdown]
# ## 13. One store for everything: the parquet lake
#
# Whatever the route, the data ends in the same three tables: depth events, trades and quotes.
# `lobutils.data.lake` stores them as parquet files partitioned by table, exchange, symbol and UTC
# day (`<lake>/<table>/exchange=<exchange>/symbol=<symbol>/date=<YYYY-MM-DD>/`), each partition
# written atomically (into a hidden folder, then renamed into place) with a manifest: its rows,
# time span and column types, the source files with their sizes and sha256, and the reader's
# counts. Exchange names follow Tardis' ids, which tell markets apart (`binance` is spot,
# `binance-futures` USD-M, `binance-delivery` COIN-M).
#
# `lake.convert` takes raw files of any supported format, recognises each (`detect`), and
# writes the lake. Convert the bundled recordings (from a shell: `python -m lobutils convert
# data/binance-2024-08-08/*.gz`):

# %%
converted = lake.convert([f for s in SEGS for f in s.files], WORK / "lake")
parts = lake.partitions(WORK / "lake")
print(f"{len(converted)} partitions written")
rows = parts.pivot_table(index=["exchange", "symbol", "date"], columns="kind", values="rows")
rows.astype("Int64").rename_axis(columns="rows")

# %% [markdown]
# A recording that crosses midnight lands in two day partitions. The manifest of one partition:

# %%
m = lake.manifest(parts.path.iat[0])
shown = {
    "partition": f"{m['kind']}/exchange={m['exchange']}/symbol={m['symbol']}/date={m['date']}",
    "market (chain rule)": m["market"],
    "rows, messages": f"{m['rows']:,}, {m['messages']:,}",
    "time span (UTC)": f"{m['ts_min_utc']} to {m['ts_max_utc']}",
    "columns": ", ".join(f"{c} {t}" for c, t in m["columns"].items()),
    "sources": ", ".join(f"{x['name']} (sha256 {x['sha256'][:12]}...)" for x in m["sources"]),
    "data file": f"{m['data_file']}, {m['data_bytes']:,} bytes, sha256 {m['data_sha256'][:12]}...",
    "reader counts": ", ".join(f"{v:,} {k}" for k, v in m["reader_stats"].items()),
}
for key, value in shown.items():
    print(textwrap.fill(f"{key}: {value}", 96, subsequent_indent="    "))

# %% [markdown]
# `lake.read_recording` gives back the raw reader's tables exactly, for every segment, as the
# same `Recording` object, so any code that takes a recording works on the lake too.
# `lake.verify` checks every data file against its manifest's sha256.

# %%
lake_rows = {}
for s in SEGS:
    back = lake.read_recording(WORK / "lake", EXCHANGE_ID[s.market], s.symbol)
    lake_rows[s.name] = {
        kind: getattr(back, kind).equals(getattr(recs[s.name], kind))
        for kind in ("depth", "trades", "bbo")
    } | {"market": back.market}
problems = lake.verify(WORK / "lake")
print(f"lake.verify: {len(problems)} problems")
pd.DataFrame(lake_rows).T.rename(columns=lambda k: f"{k} equal" if k != "market" else k)


# %% [markdown]
# ## 14. Key numbers
#
# The chapter writes its key numbers to `metrics.json` in its report directory: per segment,
# the first look of sections 3 to 9; and the results of the offline demonstrations of sections
# 10 to 13.

# %%
segment_metrics = {}
for seg in SEGS:
    name, st = seg.name, recs[seg.name].stats
    segment_metrics[name] = {"market": seg.market, "symbol": seg.symbol}
    segment_metrics[name] |= {k: st[k] for k in ("lines", "snapshots", "diffs", "trades", "bbo")}
    segment_metrics[name] |= {
        "span_s": counts.loc[name, "span (s)"],
        "diffs_per_s": counts.loc[name, "diffs/s"],
        "trades_per_s": counts.loc[name, "trades/s"],
        "bbo_per_s": counts.loc[name, "bbo/s"],
        "chain_breaks": chains.loc[name, "chain breaks"],
        "local_minus_exchange_ms_median": clocks.loc[name, "diffs: median (ms)"],
        "buy_share_trades": trades_table.loc[name, "buys (trades)"],
        "poll_share_of_top_changes_seen": polling.loc[name, "seen (share)"],
    }

# %%
replay_metrics = {"segment": SEGS[0].name, "messages_served": len(server.messages)}
replay_metrics["messages_recorded"] = replay_stats["messages"]
replay_metrics |= {k: replay_stats[k] for k in ("snapshots", "gaps")}
replay_metrics |= {
    "book_states": replay_check["book states"],
    "states_equal_share": replay_check["states equal (share)"],
    "bbo_compared": replay_check["quotes compared"],
    "bbo_match_rate": replay_check["quotes matched (share)"],
}
tardis_metrics = {"segment": seg0.name, "book_rows": tardis_check["book rows"]}
tardis_metrics |= {
    "book_states": tardis_check["book states"],
    "states_matched": tardis_check["states matched to the Binance book"],
    "states_equal_share": tardis_check["states equal (share)"],
}
tardis_metrics |= {"trades": tardis_check["trades"], "trades_equal": tardis_check["trades equal"]}

# %%
lake_equal = bool(pd.DataFrame(lake_rows).T[["depth", "trades", "bbo"]].all().all())
lake_metrics = {"partitions": len(parts), "rows": parts.groupby("kind")["rows"].sum().to_dict()}
lake_metrics |= {"verify_problems": len(problems), "roundtrip_equal": lake_equal}
metrics = {"files_verified": len(verified), "segments": segment_metrics, "live": LIVE}
metrics |= {"replay": replay_metrics, "tardis_roundtrip": tardis_metrics}
metrics |= {"polling": {"every": POLL_EVERY}, "lake": lake_metrics}
written = write_metrics(OUT, metrics)

# %% tags=["remove-input"]
say(
    f"`metrics.json` holds, for each of the {len(written['segments'])} segments, the counts, "
    "rates, chain breaks, clock offset, buyer share and polling share of the tables above, and "
    "the results of the offline demonstrations:"
)

# %%
offline = {}
for group in ("replay", "tardis_roundtrip", "lake"):
    for key, value in written[group].items():
        if isinstance(value, dict):
            offline.update({f"{group}: {key} ({k})": v for k, v in value.items()})
        else:
            offline[f"{group}: {key}"] = value
pd.Series(offline).to_frame("offline demos")

# %% [markdown]
# ## Key takeaways
#
# - L2 data is the book by price level. You rebuild it exactly from one snapshot plus every diff
#   after it, and you lose exactness the moment one diff is missing.
# - The routes trade coverage against effort: your own websocket recorder gives exact books,
#   with both clocks, but only from today; archives and vendors give history in their own
#   formats and terms; REST polling reaches almost any exchange but gives only sampled books.
#   Here a 1 s poll saw only a fraction of the top-of-book changes (section 12).
# - The update ids are the integrity check. Spot ids are contiguous (`U == prev_u + 1`); futures
#   ids are shared with other symbols, so futures diffs chain by `pu == prev_u`. The bundled
#   recordings have no break at all.
# - Each message carries two clocks. Local minus exchange time is skew plus latency; here the
#   skew dominates (about −1.3 s). Order and sample by exchange time.
# - Check every pipeline end to end: a re-recorded stream, a file converted to Tardis' format
#   and the parquet lake all rebuilt the same book, or gave back the same tables, as the
#   original.
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
# 4. Lose a message on purpose: replay section 10 again with one depth diff dropped
#    (`ReplayServer`'s `drop=`). What does the recorder do, and is the book rebuilt from its
#    file still right?
# %% [markdown]
# ````{admonition} Solution 1
# :class: dropdown
# Every change of the best quotes is its own bookTicker message, while a diff batches all the
# changes of its interval. The longer the interval, the more quote changes fall inside one diff:
# many per diff for 100 ms (spot) and ~50 ms batches, about one where diffs come every few ms.
# ````

# %% tags=["hide-input"]
# Solution 1: bookTicker messages per depth diff, by segment, next to the diff interval.
pd.DataFrame(
    {
        "bbo per diff": (counts["bbo"] / counts["diffs"]).astype(float).round(1),
        "diff gap (ms, median)": counts["median gap between diffs (ms)"].astype(float).round(1),
    }
)

# %% [markdown]
# ````{admonition} Solution 2
# :class: dropdown
# The minimum of each window is the message that waited least, so it tracks the skew. On the
# bundled data it moves steadily in one direction: the local clock drifts against the
# exchange's by a few milliseconds over these minutes, far less than the skew itself.
# ````

# %% tags=["hide-input"]
# Solution 2: the least-delayed message in each 30 s window tracks the clock skew.
m = survey.diff_messages(recs[SEGS[0].name])
window = (m.ts // 30_000_000_000) * 30_000_000_000
lowest = ((m.local_ts - m.ts) / 1e6).groupby(window).min()  # in time order
print(f"change from the first to the last window: {lowest.iat[-1] - lowest.iat[0]:+.1f} ms")
lowest.index = plots.utc(lowest.index).strftime("%H:%M:%S")
lowest.round(1).rename_axis("window start (UTC)").to_frame(f"{SEGS[0].name}: minimum (ms)")

# %% [markdown]
# ````{admonition} Solution 3
# :class: dropdown
# Trades cluster in time, so single trades are not independent: a rough standard error comes
# from 1-second blocks instead. If the two halves differ by less than a few of these standard
# errors, the minutes cannot tell the change from noise.
# ````

# %% tags=["hide-input"]
# Solution 3: the buyer-initiated share of value in each half of the first segment.
tr = recs[SEGS[0].name].trades.assign(value=values[SEGS[0].name])
tr = tr.assign(buy_value=tr.value * (tr.side == 1), second=tr.ts // 1_000_000_000)
half = np.where(tr.ts < tr.ts.median(), "first half", "second half")
halves = {}
for label, part in tr.groupby(half):
    per_second = part.groupby("second")[["buy_value", "value"]].sum()
    share = per_second.buy_value / per_second.value
    whole = part.buy_value.sum() / part.value.sum()
    se = share.std() / np.sqrt(len(share))
    halves[label] = {"share of value": whole, "mean of 1 s blocks": share.mean(), "s.e.": se}
pd.DataFrame(halves).T.round(3)

# %% [markdown]
# ````{admonition} Solution 4
# :class: dropdown
# The recorder sees the break in the update ids, fetches a new snapshot and writes it in-line.
# The book engine marks the gap, drops the book, and resyncs on that snapshot: the states it
# emits are all valid (the quotes still match), and only the stretch between the lost diff and
# the new snapshot has no book. The replay server still counts the dropped diff as sent, so its
# later snapshots include it, as a real exchange's would; it holds the messages after the gap
# back until the recorder has fetched its new snapshot, as a real exchange keeps streaming.
# ````

# %% tags=["hide-input"]
# Solution 4: drop the middle depth diff of the replay, record, and check the recorded book.
gap_server = ReplayServer.from_recording(SEGS[0].files, max_lines=REPLAY_LINES)
depth_at = [i for i, msg in enumerate(gap_server.messages) if b"@depth" in msg[:60]]
lost = depth_at[len(depth_at) // 2]
gap_server.drop = {lost}
gap_server.gates[lost + 30] = 2
with gap_server:
    gap_stats = record_replay(gap_server, WORK / "with_gap", len(gap_server.messages) - 1)
_, gap_book, gap_summary = survey.check_recording(gap_stats["files"])
print(f"recorder: {gap_stats['gaps']} gap seen, {gap_stats['snapshots']} snapshots written")
pd.Series(gap_summary, name="recorded with a lost diff").to_frame()

# %% [markdown]
# ## References
#
# - Gould, M. D., Porter, M. A., Williams, S., McDonald, M., Fenn, D. J. and Howison, S. D. (2013).
#   Limit order books. *Quantitative Finance* 13(11), 1709–1742 {cite}`gould2013limit`. A survey
#   of LOB data and models.
# - Bouchaud, J.-P., Bonart, J., Donier, J. and Gould, M. (2018). *Trades, Quotes and Prices:
#   Financial Markets Under the Microscope*. Cambridge University Press
#   {cite}`bouchaud2018trades`.
# - Cont, R., Kukanov, A. and Stoikov, S. (2014). The price impact of order book events
#   {cite}`cont2014price`: why the order-book events recorded here matter for prices.
# - Binance. *Spot API: WebSocket streams* and *USDⓈ-M / COIN-M Futures: how to manage a local
#   order book correctly* (developer documentation, binance-docs.github.io)
#   {cite}`binanceapidocs`: the sync procedure of section 2 and the recorder of section 10.
# - Binance. *binance-public-data* (README of the data.binance.vision archives, on GitHub)
#   {cite}`binancepublicdata`: the file layouts and checksums of section 11.
# - Bybit. *V5 API: WebSocket order book* and the historical-data download page
#   {cite}`bybitv5api`: the `ob200` / `ob500` messages of section 2.
# - Tardis.dev. *Downloadable CSV files* (documentation) {cite}`tardiscsv`: the
#   `incremental_book_L2` and `trades` layouts of section 11, and the free first day of each month.
# - ccxt. *Manual: order book, trades, rate limit* (docs.ccxt.com) {cite}`ccxtmanual`: the
#   polling route of section 12.
