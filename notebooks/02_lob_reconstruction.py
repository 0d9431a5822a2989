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
# # Exact L2 reconstruction
#
# A recording holds one snapshot of the book and a stream of diffs. This chapter turns them
# into the book itself: the exact top N price levels after every update, checked against the
# exchange's own best-bid-and-offer stream. It shows the exchange's rules for joining a snapshot
# to a diff stream, what goes wrong when a message is lost, duplicated or corrupted, and how
# to move from event time to a clock grid without looking ahead. Every later chapter starts
# from the book frame built here.
#
# **Learning objectives.** After this chapter you can
#
# - replay a snapshot and diffs into an L2 book, and state Binance's sync rules for spot and
#   futures, including the futures first-diff condition;
# - detect gaps, duplicates and crossed books, and say what a reconstruction must do with each;
# - validate a rebuilt book against the `bookTicker` stream;
# - sample a book on a clock grid with the last state at or before each grid time, and explain
#   why any other choice leaks the future;
# - read a book's mid, spread, depth profile and depth heatmap.
#
# **Prerequisites.** Chapter 1 (the recording format, update ids, the two clocks).
#
# **Outputs.** The figures below, and `reports/02_lob_reconstruction/metrics.json`: per segment
# the replay counts (applied, stale, gaps, crossed, duplicates, unsynced, rows, level updates)
# and the bookTicker check (matched, mismatched, compared), plus the counts of the gap
# demonstration. The command-line section writes `book.parquet` next to it.
#
# As in chapter 1, the bundled data are minutes long: good for checking every rule exactly,
# not for statistics about these markets.

# %%
import contextlib
import inspect
import io
import json
import time

import numpy as np
import pandas as pd

from lobutils.book import INVALID, VALID, ReferenceBook, check_bbo, reconstruct, sample_clock
from lobutils.data import read_binance_recording, segment, segments
from lobutils.paths import report_dir, write_metrics
from lobutils.plots import book as plots
from lobutils.report import setup_display
from lobutils.runner import cli
from lobutils.schema import BID, DIFF, SNAPSHOT

setup_display(width=120)

# %% tags=["parameters"]
DATA_DIR = None  # a directory of <market>_<symbol>_<YYYYMMDD>.gz recordings; None: the bundled data
SEGMENTS = None  # segment names to read; None: every segment found
LEVELS = 10  # levels per side in the book frame
GRID = "1s"  # the clock grid
FINE_GRID = "100ms"  # a finer clock grid
FOCUS_SEGMENT = None  # the segment of the single-segment figures and demos; None: the first found
DEEP_LEVELS = 200  # levels per side for the depth profile and the heatmap
HEATMAP_SECONDS = 180  # length of the heatmap window, from the first book state
HEATMAP_GRID = "500ms"  # time step of the heatmap
REFERENCE_MESSAGES = 2000  # messages replayed by the pure-Python book to check the kernel
REPORT_DIR = None  # where metrics.json and book.parquet go; None: reports/02_lob_reconstruction/

# %%
OUT = report_dir("02_lob_reconstruction", REPORT_DIR)
SEGS = segments(DATA_DIR) if SEGMENTS is None else [segment(n, DATA_DIR) for n in SEGMENTS]
FOCUS = next((s for s in SEGS if s.name == FOCUS_SEGMENT), SEGS[0])
recs = {s.name: read_binance_recording(s.files) for s in SEGS}
rec = recs[FOCUS.name]
PRICE_UNIT, QTY_UNIT = plots.units(FOCUS.market, FOCUS.symbol)
print(f"{len(SEGS)} segments; the figures and demonstrations use {FOCUS.name} ({rec.market})")

# %% [markdown]
# ## 1. The replay
#
# An L2 book is two maps from price to resting size: one for bids, one for asks. A snapshot
# fills them. A diff lists levels as `[price, size]`, and applying it means setting each level
# to its new size, or deleting it when the size is 0. Sizes in a diff are totals, not changes,
# so applying the same diff twice gives the same book.
#
# The hard part is deciding *whether* a diff may be applied. `lobutils.book.replay.ReferenceBook` is
# the readable pure-Python book that encodes the rules. Its `diff` method is the whole decision:

# %%
print(inspect.getsource(ReferenceBook.diff))

# %% [markdown]
# The book has three states. Before a snapshot there is `no_book`. After one it is `syncing`:
# the next diff must *straddle* the snapshot's `lastUpdateId` (call it $L$). Once a diff has
# been applied the book is `live`, and every diff must *chain* onto the one before. Diffs
# already contained in the snapshot are *stale*; diffs seen before are *duplicates*; anything
# else is a *gap*.
#
# A recorder subscribes to the stream first and fetches the snapshot second, so the first few
# diffs in a file arrive **before** the snapshot line. They are buffered and replayed once the
# snapshot is loaded. Here are the first diffs of the focus segment, fed to the reference book
# in that order, with their ids relative to $L$.

# %%
snap_msg = int(rec.depth.loc[rec.depth.kind == SNAPSHOT, "msg"].iat[0])
head = rec.depth[rec.depth.msg <= snap_msg + 6]
msgs = ReferenceBook.messages(head)
lines = head.drop_duplicates("msg")["line"].to_numpy()
snap_pos = next(i for i, m in enumerate(msgs) if m[0] == SNAPSHOT)
walk = ReferenceBook(rec.market)
_, _, L, _, _, _, snap_bids, snap_asks = msgs[snap_pos]
walk.snapshot(L, snap_bids, snap_asks)
steps = []
for i, (kind, first, last, prev, _, _, bids, asks) in enumerate(msgs):
    if kind == SNAPSHOT:
        continue  # buffered diffs (i < snap_pos) are replayed first, then the rest in order
    steps.append(
        {
            "line": rec.locate(int(lines[i])),
            "arrived": "before the snapshot" if i < snap_pos else "after",
            "U - L": first - L,
            "u - L": last - L,
            "pu - L": prev - L if prev >= 0 else None,
            "levels": len(bids) + len(asks),
            "outcome": walk.diff(first, last, prev, bids, asks),
        }
    )
print(f"snapshot at {rec.locate(int(lines[snap_pos]))}, lastUpdateId L = {L}")
pd.DataFrame(steps)

# %% [markdown]
# The diffs that ended before the snapshot are stale and skipped. The first one that reaches
# past $L$ straddles it and is applied, and from then on each diff chains onto the last.
#
# ## 2. The sync rules, spot and futures
#
# | | spot | futures (USD-M, COIN-M) |
# |---|---|---|
# | stale (skip) | `u <= L` | `u < L` |
# | first diff applied | `U <= L + 1 <= u` | `u >= L` and (`U <= L + 1` or `pu <= L`) |
# | every later diff | `U == prev_u + 1` | `pu == prev_u` |
#
# The futures first-diff condition has two halves. Binance documents the `U` half. The `pu`
# half is needed because futures ids are not contiguous (chapter 1): a diff can start well
# after $L + 1$ and still continue the snapshot exactly, which `pu` (the last id before it)
# shows. The table finds the first applied diff of each segment.

# %%
reconstruct(rec, levels=LEVELS)  # warm-up: numba loads its compiled kernel once per process
books = {name: reconstruct(r, levels=LEVELS, include_invalid=True) for name, r in recs.items()}


def sync_row(r, book):
    m = r.depth.drop_duplicates("msg")
    snap = m[m.kind == SNAPSHOT].iloc[0]
    diffs = m[m.kind == DIFF]
    first = diffs[diffs.last_id == book.frame.update_id.iat[0]].iloc[0]
    lid = int(snap.last_id)
    return {
        "chain": r.market,
        "snapshot at": r.locate(int(snap.line)),
        "lastUpdateId L": lid,
        "diffs before the snapshot": int((diffs.line < snap.line).sum()),
        "stale": book.stats["stale"],
        "first applied: U - L": int(first.first_id) - lid,
        "u - L": int(first.last_id) - lid,
        "pu - L": int(first.prev_id) - lid if first.prev_id >= 0 else None,
    }


pd.DataFrame({name: sync_row(recs[name], b) for name, b in books.items()}).T

# %% [markdown]
# Futures keep a diff whose `u` equals $L$ (it is not stale, and applying it again changes
# nothing). A reader that drops it, as the spot rule would, meets next a diff that starts
# after $L + 1$. The cell below looks for that case in each futures segment.

# %%
for name, r in recs.items():
    if r.market != "futures":
        continue
    m = r.depth.drop_duplicates("msg")
    lid = int(m.loc[m.kind == SNAPSHOT, "last_id"].iat[0])
    nxt = m[(m.kind == DIFF) & (m.last_id > lid)].iloc[0]
    U, pu = int(nxt.first_id), int(nxt.prev_id)
    verdict = (
        "U alone would call this a gap; pu == L shows it continues the snapshot"
        if U > lid + 1
        else "it straddles L + 1, so U alone suffices"
    )
    print(f"{name}: first diff with u > L has U - L = {U - lid}, pu - L = {pu - lid}: {verdict}")

# %% [markdown]
# ## 3. Every segment, with the numba kernel
#
# `lobutils.book.replay.reconstruct` applies the same rules in a numba kernel over flat arrays: prices
# become integer ticks, each side is an array indexed by tick, and the top N levels are read off
# after every applied diff. It returns the book frame, one row per applied diff (columns `ts`,
# `local_ts`, `update_id`, then `bid_px_1..N`, `bid_qty_1..N`, `ask_px_1..N`, `ask_qty_1..N`),
# and the counts of what happened. With `include_invalid=True` the frame keeps a `status`
# column and the rows that are not valid states.

# %%
cols = ["applied", "stale", "duplicates", "gaps", "crossed", "snapshots", "unsynced", "rows"]
cols += ["level_updates", "max_bid_levels", "max_ask_levels"]
raw_stats = pd.DataFrame({name: b.stats for name, b in books.items()}).T
stats = raw_stats[cols].astype(int)
stats["level updates/s"] = (stats.level_updates / raw_stats.seconds.astype(float)).astype(int)
stats

# %% [markdown]
# On the bundled data every diff after the snapshot was applied: no gap, no duplicate, no crossed
# state, nothing left unsynced. `max_bid_levels` and `max_ask_levels` show how deep the book the kernel tracked got.
# It can exceed the snapshot's 1000 levels per side, because diffs add levels outside its range.
# Only the top of the book is certain, though: a level beyond the snapshot's depth that no diff
# touched is missing from the book, so the top N are exact only while N stays well inside the
# snapshot's depth. The throughput column is this machine's measurement, for scale only.
#
# ## 4. The bookTicker check
#
# Binance's `bookTicker` stream sends the best bid and ask, with sizes, at every change, tagged
# with the book's update id `u`. When that id equals the final id of a diff, the quote describes
# exactly the book after that diff. Every such quote must match the rebuilt book's first level:
# both prices and both sizes, exactly.

# %%
bbo = pd.DataFrame({name: check_bbo(b.frame, recs[name].bbo) for name, b in books.items()}).T
bbo = bbo.drop(columns="bbo_first_mismatch").astype(int)
bbo.assign(**{"matched (%)": (100 * bbo.bbo_matched / bbo.bbo_compared).round(2)})

# %%
total_compared = int(bbo.bbo_compared.sum())
total_bad = int(bbo.bbo_mismatched.sum())
print(
    f"{total_compared:,} quotes compared over {len(bbo)} segments, {total_bad} mismatched: "
    + ("every compared quote matches the rebuilt book exactly." if total_bad == 0 else "CHECK!")
)

# %% [markdown]
# Only a minority of quotes can be compared. A quote is compared when its update id is the
# *last* update of a diff; quotes from inside a diff's batch describe states the diff stream
# never shows. Spot diffs batch 100 ms of updates, so a smaller share of spot quotes lands on a
# diff boundary than on COIN-M, whose diffs are smaller and more frequent.
#
# ## 5. When messages go missing: gaps, duplicates and crossed books
#
# The bundled recordings are clean. To see the safety rules work, we damage a copy of the focus
# segment's depth frame in three ways, in the middle of the recording:
#
# - **gap**: delete one diff message;
# - **duplicate**: deliver one diff message twice;
# - **crossed**: add a bogus bid level at the best ask price to one diff, as a buggy parser or a
#   corrupted message might.

# %%
depth = rec.depth
diff_msgs = depth.loc[depth.kind == DIFF, "msg"].unique()
k = int(diff_msgs[len(diff_msgs) // 2])  # a diff in the middle of the recording
base = books[FOCUS.name].frame
after_k = base[base.update_id == int(depth.loc[depth.msg == k, "last_id"].iat[0])].iloc[0]

gap_depth = depth[depth.msg != k]
renumbered = depth.assign(msg=2 * depth.msg)  # room for a second copy of message k
dup_depth = pd.concat([renumbered, renumbered[renumbered.msg == 2 * k].assign(msg=2 * k + 1)])
dup_depth = dup_depth.sort_values("msg", kind="stable")
bogus = depth[depth.msg == k].iloc[:1].assign(side=BID, price=after_k.ask_px_1, qty=1.0)
cross_depth = pd.concat([depth, bogus]).sort_values("msg", kind="stable")

scenarios = {"original": depth, "gap": gap_depth, "duplicate": dup_depth, "crossed": cross_depth}
damaged = {
    name: reconstruct(d, levels=LEVELS, chain=rec.market, include_invalid=True)
    for name, d in scenarios.items()
}
original = base[base.status == VALID].drop(columns=["ts", "local_ts", "status"])
original = original.set_index("update_id")


def unlike_original(frame):
    """Valid rows whose levels differ from the undamaged book's row of the same update id."""
    rows = frame[frame.status == VALID].drop(columns=["ts", "local_ts", "status"])
    rows = rows.set_index("update_id")
    same = np.isclose(rows, original.loc[rows.index], rtol=0, atol=0, equal_nan=True)
    return int((~same).any(axis=1).sum())


demo = pd.DataFrame(
    {
        name: {
            **{c: b.stats[c] for c in ("applied", "gaps", "duplicates", "crossed", "unsynced")},
            "valid rows": int((b.frame.status == VALID).sum()),
            "INVALID markers": int((b.frame.status == INVALID).sum()),
            "valid rows unlike the original": unlike_original(b.frame),
            **{
                c: v
                for c, v in check_bbo(b.frame, rec.bbo).items()
                if c in ("bbo_matched", "bbo_mismatched")
            },
        }
        for name, b in damaged.items()
    }
).T
demo

# %% [markdown]
# Reading the table row by row:
#
# - **gap**: the next diff does not chain, so the book counts one gap, emits one `INVALID`
#   marker row at that moment, and stops. Every later diff waits for a new snapshot. The bundled
#   recordings hold one snapshot per segment, so none comes, and those diffs end up `unsynced`.
#   A live recorder would fetch a fresh snapshot at this point and resync. No state after the
#   gap is ever emitted as valid, so the bookTicker check has nothing wrong to compare.
# - **duplicate**: the copy has `u <= prev_u`; it is counted and skipped, and the book is
#   otherwise identical to the original.
# - **crossed**: the bogus bid makes best bid >= best ask. Each such state is counted and
#   flagged `CROSSED` instead of being emitted as valid, and the quotes of flagged states are
#   not compared (fewer matches, no mismatch). The flag lasts only while the bogus level is at
#   or above the best ask. If the market moves away, the book uncrosses, and the bogus level can
#   linger below the top until a real update at its price replaces it: the last column counts
#   the valid rows that still differ from the undamaged book. The crossed check catches a
#   corrupted book only while the damage touches the top; update ids and the bookTicker check
#   guard the rest.
#
# On a clock grid, the gap shows up as missing values from the gap onwards: the sampler never
# carries the last valid state across an invalid stretch.

# %%
gap_grid = sample_clock(damaged["gap"].frame, GRID, start=base.ts.iat[0], end=base.ts.iat[-1])
gap_ts = damaged["gap"].frame.loc[damaged["gap"].frame.status == INVALID, "ts"].iat[0]
has_book = gap_grid.bid_px_1.notna()
print(
    f"{GRID} grid: {int(has_book[gap_grid.ts < gap_ts].sum())} of {int((gap_grid.ts < gap_ts).sum())} "
    f"grid times before the gap have a book, {int(has_book[gap_grid.ts >= gap_ts].sum())} of "
    f"{int((gap_grid.ts >= gap_ts).sum())} after it"
)

# %% [markdown]
# ## 6. The reference book and the kernel agree
#
# The numba kernel is fast because it works on arrays; the reference book is slow because it
# sorts Python dicts after every diff. They must produce the *same* frame. The test suite checks
# this on random diff sequences; here we check it on the start of a real recording, and time
# both on the same input.

# %%
prefix = depth[depth.msg < REFERENCE_MESSAGES]
n_updates = int((prefix.side != 0).sum())
ref_msgs = ReferenceBook.messages(prefix)
t0 = time.perf_counter()
ref_frame = ReferenceBook(rec.market).replay(ref_msgs, LEVELS)
ref_s = time.perf_counter() - t0
fast = [
    reconstruct(prefix, levels=LEVELS, chain=rec.market, include_invalid=True) for _ in range(5)
]
kernel_s = min(b.stats["seconds"] for b in fast)
pd.testing.assert_frame_equal(fast[0].frame, ref_frame)  # raises if any value differs
identical = fast[0].frame.equals(ref_frame)
print(
    f"{FOCUS.name}, first {len(ref_msgs):,} messages ({n_updates:,} level updates): "
    f"{len(ref_frame):,} rows, identical: {identical}"
)
print(
    "measured on this machine, in this run:\n"
    f"  reference book  {n_updates / ref_s:12,.0f} level updates/s\n"
    f"  numba kernel    {n_updates / kernel_s:12,.0f} level updates/s (best of 5)\n"
    f"  kernel / reference: {ref_s / kernel_s:,.0f}x"
)

# %% [markdown]
# The kernel's advantage grows with the input. On a prefix this small its fixed costs
# (allocating its price ladders, one cell per tick, and its output arrays) weigh heavily; on
# whole segments it runs faster still (the throughput column of section 3). The reference
# sorts every level of the book after each diff, while the kernel sets a level in one array
# cell and walks the ladder from the best price until it has N levels.
#
# ## 7. Event time and clock time
#
# The book frame is in **event time**: one row per applied diff, stamped with the exchange's
# event time. Its rows are irregular, and their rate differs from market to market.

# %%
event = pd.DataFrame(
    {
        name: {
            "rows": int((b.frame.status == VALID).sum()),
            "rows/s": (b.frame.status == VALID).sum()
            / ((b.frame.ts.iat[-1] - b.frame.ts.iat[0]) / 1e9),
            "median gap between rows (ms)": np.median(np.diff(b.frame.ts)) / 1e6,
            "max gap between rows (ms)": np.max(np.diff(b.frame.ts)) / 1e6,
        }
        for name, b in books.items()
    }
).T.astype(float)
event.round(1)

# %% [markdown]
# Models and statistics usually want **clock time**: one row every 100 ms or every second.
# `lobutils.book.sampling.sample_clock` builds it with one rule: the value at grid time $t$ is the
# last state at or before $t$,
#
# $$\text{state}(t) = \text{book after the last diff with } ts \le t .$$
#
# Taking the *nearest* state, or interpolating between the states around $t$, would use a diff
# from after $t$: information nobody had at $t$. Features built that way leak the future into
# every backtest that uses them. The sampled frame keeps `state_ts`, the time of the state it
# used, so the age of the book at each grid time, $t - \text{state\_ts}$, is visible.

# %%
clock_rows = {}
for name, b in books.items():
    for every in (FINE_GRID, GRID):
        s = sample_clock(b.frame, every)
        ok = s.bid_px_1.notna()
        age_ms = (s.ts - s.state_ts)[ok] / 1e6
        assert (s.state_ts[ok] <= s.ts[ok]).all()  # no look-ahead, checked on every row
        clock_rows[(name, every)] = {
            "grid rows": len(s),
            "with a book": int(ok.sum()),
            "median age (ms)": float(np.median(age_ms)),
            "p99 age (ms)": float(np.percentile(age_ms, 99)),
        }
clock = pd.DataFrame(clock_rows).T.round(1)
clock.astype({"grid rows": int, "with a book": int})

# %% [markdown]
# On spot, a diff arrives every 100 ms, so on a 100 ms grid the state is up to 100 ms old; on
# the faster futures streams it is younger. The figure shows the rule on ten seconds of the
# focus segment: the step line is the best bid in event time, and each marker is the sampled
# value at a grid time. Every marker sits on the step that began at or before it.

# %%
valid = books[FOCUS.name].frame
valid = valid[valid.status == VALID].drop(columns="status").reset_index(drop=True)
mid_t = int(valid.ts.iat[len(valid) // 2]) // 1_000_000_000 * 1_000_000_000
fig = plots.clock_vs_event(
    valid,
    GRID,
    column="bid_px_1",
    start=mid_t,
    end=mid_t + 10_000_000_000,
    ylabel=f"best bid ({PRICE_UNIT})",
    title=f"{FOCUS.name}: the clock grid takes the last state at or before each time",
)
fig.show()

# %% [markdown]
# ## 8. Looking at the book
#
# ### Mid price and spread
#
# The mid price is the average of the best bid and ask, $m = (b_1 + a_1)/2$. The quoted spread
# in basis points is $10^4 (a_1 - b_1) / m$. The figure samples the focus segment on the fine
# grid.

# %%
fine = sample_clock(valid, FINE_GRID)
fig = plots.mid_spread(
    fine,
    price_unit=PRICE_UNIT,
    title=f"{FOCUS.name}: mid price and quoted spread on a {FINE_GRID} grid",
)
fig.show()

# %%
spread_bps = 1e4 * (fine.ask_px_1 - fine.bid_px_1) / ((fine.ask_px_1 + fine.bid_px_1) / 2)
tick = float(np.min(np.diff(np.unique(valid.bid_px_1.round(10)))))
one_tick = np.isclose(fine.ask_px_1 - fine.bid_px_1, tick)
print(
    f"{FOCUS.name}: median spread {spread_bps.median():.4f} bps; the smallest bid price step "
    f"seen is {tick:g} {PRICE_UNIT}, and the spread is exactly that one step "
    f"{100 * one_tick[fine.bid_px_1.notna()].mean():.1f}% of the time"
)

# %% [markdown]
# *What to see:* the mid moves in steps. The spread stays at its minimum most of the time (the
# share printed above) and widens briefly when the best level on one side is taken out. A
# market whose spread is pinned at one tick is *tick-constrained*: its price moves a whole tick
# at a time, which matters for the features and targets of later chapters.
#
# ### The depth profile
#
# How much can be traded near the mid? For each grid time, add up the quantity resting within
# $x$ bps of the mid on each side: a level at price $p$ lies $10^4 (m - p)/m$ bps from the mid
# on the bid side and $10^4 (p - m)/m$ on the ask side. The figure draws the median of this
# cumulative depth over the segment, from a book rebuilt with more levels. On COIN-M the
# quantities are contracts (100 USD each for BTCUSD_PERP, 10 USD for ETHUSD_PERP), not coins.

# %%
deep = reconstruct(rec, levels=DEEP_LEVELS)
deep_grid = sample_clock(deep.frame, GRID)
fig = plots.depth_profile(
    deep_grid,
    qty_unit=QTY_UNIT,
    title=f"{FOCUS.name}: median cumulative depth near the mid (top {DEEP_LEVELS} levels)",
)
fig.show()

# %%
x_bps, bid_depth, ask_depth = plots.cumulative_profile(deep_grid)
print(
    f"within {x_bps[-1]:.2f} bps of the mid, median depth: bids {np.median(bid_depth[:, -1]):,.2f}, "
    f"asks {np.median(ask_depth[:, -1]):,.2f} {QTY_UNIT}"
)

# %% [markdown]
# *What to see:* depth grows with distance from the mid, and not evenly: the steps are price
# levels where much larger orders rest. The two sides need not be alike, even on average over
# these minutes, and at any one moment they rarely are; the imbalance features of the next
# chapters measure exactly that. The curve stops where the shallowest state's top levels end.
#
# ### The depth heatmap
#
# The heatmap shows the book over time: price on the y axis, time on the x axis, and the colour
# is the quantity resting in each price bin at each grid time (the state at or before it). Blank
# areas are beyond the top levels, where the frame says nothing; they are not empty. The lines
# are the best bid and best ask.

# %%
window = deep.frame[deep.frame.ts <= deep.frame.ts.iat[0] + HEATMAP_SECONDS * 1_000_000_000]
fig = plots.depth_heatmap(
    window,
    HEATMAP_GRID,
    price_unit=PRICE_UNIT,
    qty_unit=QTY_UNIT,
    title=f"{FOCUS.name}: resting quantity by price and time, top {DEEP_LEVELS} levels",
)
fig.show()

# %% [markdown]
# *What to see:* horizontal bands are large orders that rest at one price for a long time.
# Follow one as the best-quote lines approach it: an order that is cancelled ends before the
# line reaches it, and an order that is traded through ends where the line crosses it. When the
# price moves, the band of known depth moves with it.
#
# ## 9. The command line
#
# The same reconstruction runs without a notebook. `python -m lobutils reconstruct` reads a
# segment's files, replays the book, checks it against bookTicker, writes the book frame
# (parquet or csv) and prints one JSON line of counts. Here it is called in-process through
# `lobutils.runner.cli.main`, writing into the report directory; in a shell the same command is:

# %%
argv = ["reconstruct", *(str(f) for f in FOCUS.files)]
argv += ["--levels", str(LEVELS), "--grid", GRID, "--out", "book.parquet", "--json"]
print("python -m lobutils " + " ".join([argv[0], *(f.name for f in FOCUS.files), *argv[-7:]]))
with contextlib.chdir(OUT), contextlib.redirect_stdout(io.StringIO()) as captured:
    exit_status = cli.main(argv)
summary = json.loads(captured.getvalue())
print(f"exit status {exit_status}")
print(json.dumps(summary, indent=1))

# %%
written = pd.read_parquet(OUT / "book.parquet")
same = written.equals(sample_clock(books[FOCUS.name].frame, GRID))
print(
    f"book.parquet: {written.shape[0]} rows x {written.shape[1]} columns; equal to this chapter's {GRID} grid: {same}"
)

# %% [markdown]
# ## 10. Key numbers

# %%
keys = ["applied", "stale", "gaps", "crossed", "duplicates", "unsynced", "rows", "level_updates"]
metrics = {
    "levels": LEVELS,
    "segments": {
        name: {
            **{c: b.stats[c] for c in keys},
            **{c: bbo.loc[name, c] for c in ("bbo_matched", "bbo_mismatched", "bbo_compared")},
        }
        for name, b in books.items()
    },
    "gap_demo": {
        "segment": FOCUS.name,
        **{
            scenario: {
                c.lower().replace(" ", "_"): demo.loc[scenario, c]
                for c in demo.columns
                if c not in ("bbo_matched", "bbo_mismatched")
            }
            for scenario in ("gap", "duplicate", "crossed")
        },
    },
    "reference_check": {
        "segment": FOCUS.name,
        "messages": len(ref_msgs),
        "level_updates": n_updates,
        "identical": identical,
        "kernel_over_reference_speed": round(ref_s / kernel_s, 1),
    },
}
pd.DataFrame(write_metrics(OUT, metrics)["segments"]).T

# %% [markdown]
# ## Key takeaways
#
# - A book is rebuilt exactly from one snapshot plus every later diff, by three rules: skip what
#   the snapshot already holds, start with a diff that straddles it, then require an unbroken
#   chain (`U == prev_u + 1` on spot, `pu == prev_u` on futures).
# - Futures ids are not contiguous, so the futures first-diff condition also accepts a diff
#   whose `pu` is at or before the snapshot id.
# - A gap makes the book invalid until the next snapshot; a duplicate is skipped; a crossed
#   state is flagged. None of them is ever emitted as a valid state.
# - The `bookTicker` stream is an independent check: on the bundled data every comparable quote
#   matches the rebuilt book exactly.
# - The book frame is in event time. On a clock grid, take the last state at or before each
#   grid time, never a later one, and keep the state's own timestamp to know its age.
#
# ## Exercises
#
# 1. Does the top of the book depend on how many levels you keep? Rebuild the focus segment
#    with one level and compare its best bid and ask, with sizes, to the `LEVELS`-level book.
# 2. What happens if the snapshot line is missing (a recording that starts late, or a reader
#    given only the second file of a segment)? Remove the snapshot from the depth frame and
#    rebuild.
# 3. On the fine grid, what share of grid times sees a book state older than 100 ms, per
#    segment? Relate the answer to each stream's update interval.

# %% tags=["hide-input"]
# Solution 1: the top level is the same whatever N is.
one = reconstruct(rec, levels=1).frame
top = valid[one.columns]
print(f"identical top of book with 1 and {LEVELS} levels: {one.equals(top)}")

# %% tags=["hide-input"]
# Solution 2: without a snapshot no diff can be applied, and reconstruct says so.
try:
    reconstruct(depth[depth.kind != SNAPSHOT], levels=LEVELS, chain=rec.market)
except ValueError as exc:
    print(f"{type(exc).__name__}: {exc}")

# %% tags=["hide-input"]
# Solution 3: the share of grid times whose state is older than 100 ms.
older = {}
for name, b in books.items():
    s = sample_clock(b.frame, FINE_GRID)
    ok = s.bid_px_1.notna()
    older[name] = float(((s.ts - s.state_ts)[ok] > 100_000_000).mean())
print(pd.Series(older, name="share older than 100 ms").round(4).to_string())
# Spot diffs come every 100 ms, so a state is rarely older than that: only when a 100 ms batch
# is missing (no change, so no message) or late. Futures diffs come more often, but a quiet
# moment can leave the book unchanged for longer than 100 ms.

# %% [markdown]
# ## References
#
# - Binance. *How to manage a local order book correctly* (spot, USDⓈ-M and COIN-M futures
#   developer documentation, binance-docs.github.io) {cite}`binanceapidocs`: the sync rules of
#   sections 1 and 2.
# - Gould, M. D., Porter, M. A., Williams, S., McDonald, M., Fenn, D. J. and Howison, S. D. (2013).
#   Limit order books. *Quantitative Finance* 13(11), 1709–1742 {cite}`gould2013limit`.
# - Ntakaris, A. et al. (2018). Benchmark dataset for mid-price forecasting of limit order book
#   data {cite}`ntakaris2018benchmark`: the top-10-level book frame as a standard input.
# - Zhang, Z., Zohren, S. and Roberts, S. (2019). DeepLOB {cite}`zhang2019deeplob`: a model that
#   reads exactly this kind of frame, used in a later chapter.
