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
# # 2. Exact L2 reconstruction
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
import textwrap

import numpy as np
import pandas as pd

from lobutils.book import INVALID, VALID, ReferenceBook, check_bbo, reconstruct, sample_clock
from lobutils.book import diagnostics as diag
from lobutils.data import read_binance_recording, segment, segments
from lobutils.paths import report_dir, write_metrics
from lobutils.plots import book as plots
from lobutils.report import say, setup_display
from lobutils.runner import cli
from lobutils.schema import DIFF, SNAPSHOT

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
walk, L = diag.sync_walk(rec, after=6)
print(f"the snapshot's lastUpdateId: L = {L}")
walk

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
# shows. The table finds the first applied diff of each segment: the snapshot's line in its
# file, `buffered` (the diffs that arrived before the snapshot), `stale` (those skipped as
# already in it), and the first applied diff's ids relative to $L$.

# %%
reconstruct(rec, levels=LEVELS)  # warm-up: numba loads its compiled kernel once per process
books = {name: reconstruct(r, levels=LEVELS, include_invalid=True) for name, r in recs.items()}

# %%
diag.first_applied(recs, books)

# %% [markdown]
# Futures keep a diff whose `u` equals $L$ (it is not stale, and applying it again changes
# nothing). A reader that drops it, as the spot rule would, meets next a diff that starts
# after $L + 1$. Here is that case in each futures segment: the first diff with $u > L$.

# %% tags=["remove-input"]
for name, r in recs.items():
    if r.market == "futures":
        c = diag.futures_continuation(r)
        verdict = (
            "`U` alone would call this a gap, while `pu` shows it continues the snapshot"
            if c["gap_by_U"]
            else "it straddles $L + 1$, so `U` alone suffices"
        )
        say(f"- **{name}**: $U - L = {c['U - L']}$, $pu - L = {c['pu - L']}$: {verdict}.")

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
raw_stats = pd.DataFrame({name: b.stats for name, b in books.items()}).T
raw_stats[["applied", "stale", "duplicates", "gaps", "crossed", "unsynced"]].astype(int)

# %% [markdown]
# The book frame each replay produced, how deep the kernel's book got, and its throughput:

# %%
size = raw_stats[["rows", "level_updates", "max_bid_levels", "max_ask_levels"]].astype(int)
size["updates/s"] = (size.level_updates / raw_stats.seconds.astype(float)).astype(int)
size.rename(columns=lambda c: c.replace("_", " "))

# %% [markdown]
# On the bundled data every diff after the snapshot was applied: no gap, no duplicate, no crossed
# state, nothing left unsynced. The max bid and ask levels show how deep the book the kernel
# tracked got.
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
shown = bbo.rename(columns=lambda c: c.removeprefix("bbo_")).rename(columns={"total": "quotes"})
shown.assign(**{"matched (%)": (100 * bbo.bbo_matched / bbo.bbo_compared).round(2)})

# %% tags=["remove-input"]
total_compared, total_bad = int(bbo.bbo_compared.sum()), int(bbo.bbo_mismatched.sum())
say(
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
scenarios = diag.damaged_depth(depth, k, ask_px=after_k.ask_px_1)

# %% [markdown]
# Each copy is replayed with the same rules. The table counts what the replay did, the valid
# rows and `INVALID` marker rows of its frame, the valid rows whose levels are *unlike* the
# undamaged book's row of the same update id, and the bookTicker check.

# %%
damaged = {
    name: reconstruct(d, levels=LEVELS, chain=rec.market, include_invalid=True)
    for name, d in scenarios.items()
}
demo = diag.damage_table(damaged, rec.bbo)
demo.T

# %% [markdown]
# Reading the table scenario by scenario:
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
#   linger below the top until a real update at its price replaces it: `unlike original` counts
#   the valid rows that still differ from the undamaged book. The crossed check catches a
#   corrupted book only while the damage touches the top; update ids and the bookTicker check
#   guard the rest.
#
# On a clock grid, the gap shows up as missing values from the gap onwards: the sampler never
# carries the last valid state across an invalid stretch.

# %%
gap_frame = damaged["gap"].frame
gap_grid = sample_clock(gap_frame, GRID, start=base.ts.iat[0], end=base.ts.iat[-1])
gap_ts = gap_frame.loc[gap_frame.status == INVALID, "ts"].iat[0]
when = np.where(gap_grid.ts < gap_ts, "before the gap", "from the gap on")
has_book = gap_grid.bid_px_1.notna().groupby(when).agg(["sum", "size"])
has_book.set_axis([f"{GRID} grid times with a book", "grid times"], axis=1)

# %% [markdown]
# ## 6. The reference book and the kernel agree
#
# The numba kernel is fast because it works on arrays; the reference book is slow because it
# sorts Python dicts after every diff. They must produce the *same* frame. The test suite checks
# this on random diff sequences; here we check it on the start of a real recording, and time
# both on the same input.

# %%
ref = diag.reference_check(depth, rec.market, LEVELS, REFERENCE_MESSAGES)  # raises if unequal

# %% tags=["remove-input"]
n_updates, ref_s, kernel_s = ref["level_updates"], ref["reference_s"], ref["kernel_s"]
say(
    f"{FOCUS.name}, first {ref['messages']:,} messages ({n_updates:,} level updates): "
    f"{ref['rows']:,} rows, identical: **{ref['identical']}**. Measured on this machine, in "
    f"this run: the reference book replays {n_updates / ref_s:,.0f} level updates/s, the numba "
    f"kernel {n_updates / kernel_s:,.0f} (best of 5), {ref_s / kernel_s:,.0f} times as fast."
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
diag.event_time_table(books)

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
# used, so the age of the book at each grid time, $t - \text{state\_ts}$, is visible. The table
# checks, on every row, that no state comes from after its grid time.

# %%
diag.clock_age_table(books, (FINE_GRID, GRID))

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
one_tick = np.isclose(fine.ask_px_1 - fine.bid_px_1, tick)[fine.bid_px_1.notna()]

# %% tags=["remove-input"]
say(
    f"{FOCUS.name}: the median spread is {spread_bps.median():.4f} bps; the smallest bid price "
    f"step seen is {tick:g} {PRICE_UNIT}, and the spread is exactly that one step "
    f"{100 * one_tick.mean():.1f}% of the time."
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

# %% tags=["remove-input"]
say(
    f"Within {x_bps[-1]:.2f} bps of the mid, the median depth is "
    f"{np.median(bid_depth[:, -1]):,.2f} {QTY_UNIT} on the bid side and "
    f"{np.median(ask_depth[:, -1]):,.2f} {QTY_UNIT} on the ask side."
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
files = " ".join(f.name for f in FOCUS.files)
print(f"python -m lobutils reconstruct \\\n    {files} \\\n    {' '.join(argv[-7:])}")
with contextlib.chdir(OUT), contextlib.redirect_stdout(io.StringIO()) as captured:
    exit_status = cli.main(argv)
summary = json.loads(captured.getvalue())  # the JSON line: a few of its counts below
counts = ["rows", "applied", "gaps", "crossed", "unsynced", "bbo_compared", "bbo_mismatched"]
pd.Series(
    {"exit status": exit_status, **{c: summary[c] for c in counts}}, name=FOCUS.name
).to_frame()

# %%
written = pd.read_parquet(OUT / "book.parquet")
same = written.equals(sample_clock(books[FOCUS.name].frame, GRID))

# %% tags=["remove-input"]
say(
    f"`book.parquet` has {written.shape[0]:,} rows and {written.shape[1]} columns, and it is "
    f"equal to this chapter's {GRID} grid: **{same}**."
)

# %% [markdown]
# ## 10. Key numbers

# %%
keys = ["applied", "stale", "gaps", "crossed", "duplicates", "unsynced", "rows", "level_updates"]
quotes = ["bbo_matched", "bbo_mismatched", "bbo_compared"]
per_segment = {
    name: {**{c: b.stats[c] for c in keys}, **bbo.loc[name, quotes].to_dict()}
    for name, b in books.items()
}
damage = demo.drop(columns=["bbo_matched", "bbo_mismatched"]).rename(
    columns=lambda c: c.replace(" ", "_")
)
gap_demo = {s: damage.loc[s].to_dict() for s in ("gap", "duplicate", "crossed")}
speed = round(ref["reference_s"] / ref["kernel_s"], 1)
reference = {c: ref[c] for c in ("messages", "level_updates", "identical")}

# %% [markdown]
# `metrics.json` holds all of them; the table shows the counts that must be zero or large.

# %%
metrics = write_metrics(
    OUT,
    {
        "levels": LEVELS,
        "segments": per_segment,
        "gap_demo": {"segment": FOCUS.name, **gap_demo},
        "reference_check": {
            "segment": FOCUS.name,
            **reference,
            "kernel_over_reference_speed": speed,
        },
    },
)
pd.DataFrame(metrics["segments"]).T[["applied", "gaps", "crossed", "unsynced", *quotes[1:]]]

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

# %% [markdown]
# ````{admonition} Solution 1
# :class: dropdown
# No. Each side is kept in full by tick, and only the read-out is cut at N levels, so the best
# bid and ask, and their sizes, are the same in a one-level book as in the `LEVELS`-level book,
# row for row.
# ````

# %% tags=["hide-input"]
# Solution 1: the top level is the same whatever N is.
one = reconstruct(rec, levels=1).frame
top = valid[one.columns]
print(f"identical top of book with 1 and {LEVELS} levels: {one.equals(top)}")

# %% [markdown]
# ````{admonition} Solution 2
# :class: dropdown
# Without a snapshot the book never leaves `no_book`: no diff may be applied, since a diff only
# says how levels *changed*, and nothing can be said about the levels it leaves alone.
# `reconstruct` refuses with an error rather than emit a book it cannot know.
# ````

# %% tags=["hide-input"]
# Solution 2: without a snapshot no diff can be applied, and reconstruct says so.
try:
    reconstruct(depth[depth.kind != SNAPSHOT], levels=LEVELS, chain=rec.market)
except ValueError as exc:
    print(textwrap.fill(f"{type(exc).__name__}: {exc}", 72))

# %% [markdown]
# ````{admonition} Solution 3
# :class: dropdown
# Spot diffs come every 100 ms, so a state is rarely older than that: only when a 100 ms batch
# is missing (no change, so no message) or late. Futures diffs come more often, but a quiet
# moment can leave the book unchanged for longer than 100 ms.
# ````

# %% tags=["hide-input"]
# Solution 3: the share of grid times whose state is older than 100 ms, per segment.
older = {}
for name, b in books.items():
    s = sample_clock(b.frame, FINE_GRID)
    ok = s.bid_px_1.notna()
    older[name] = float(((s.ts - s.state_ts)[ok] > 100_000_000).mean())
pd.Series(older, name="share older than 100 ms").round(4).to_frame()

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
