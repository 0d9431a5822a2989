"""L2 reconstruction: known answers, the kernel against the reference book, and real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lobutils.book import _replay_kernels as K
from lobutils.book.replay import (
    CROSSED,
    INVALID,
    VALID,
    BookError,
    ReferenceBook,
    check_bbo,
    price_grid,
    reconstruct,
)
from lobutils.book.sampling import sample_clock
from lobutils.data.binance import read_binance_recording
from lobutils.data.catalog import segment, segments
from lobutils.schema import ASK, BID, DEPTH_COLUMNS, DIFF, SNAPSHOT

COUNTS = (
    "applied",
    "stale",
    "duplicates",
    "gaps",
    "crossed",
    "snapshots",
    "snapshots_skipped",
    "crossed_snapshots",
    "unsynced",
)


def depth_frame(messages):
    """Synthetic depth frame from ``(kind, first, last, prev, bids, asks)`` tuples."""
    rows = []
    for k, (kind, first, last, prev, bids, asks) in enumerate(messages):
        levels = [(BID, p, q) for p, q in bids] + [(ASK, p, q) for p, q in asks] or [
            (0, np.nan, np.nan)
        ]
        for side, p, q in levels:
            rows.append(
                (1000 * (k + 1), 1000 * (k + 1) - 7, k, kind, first, last, prev, side, p, q, k + 1)
            )
    return pd.DataFrame(rows, columns=list(DEPTH_COLUMNS)).astype(DEPTH_COLUMNS)


def snap(last, bids, asks):
    return (SNAPSHOT, last, last, -1, bids, asks)


def diff(first, last, bids=(), asks=(), prev=-1):
    return (DIFF, first, last, prev, list(bids), list(asks))


# ---------------------------------------------------------------- known answers


def test_spot_sync_gap_and_resync_known_answer():
    msgs = [
        diff(9, 11, bids=[(99.0, 5.0)]),  # arrives before the snapshot: buffered, straddles 11
        snap(10, bids=[(99.0, 1.0), (98.0, 1.0)], asks=[(101.0, 1.0)]),
        diff(12, 12, asks=[(100.5, 2.0)]),  # chains: applied
        diff(14, 15, bids=[(99.5, 1.0)]),  # 13 missing: a gap
        diff(16, 17, bids=[(98.0, 0.0)]),  # no book: buffered
        snap(16, bids=[(99.0, 3.0), (98.0, 4.0)], asks=[(101.0, 1.0)]),
        diff(18, 18, asks=[(101.0, 0.0), (102.0, 1.0)]),
    ]
    book = reconstruct(depth_frame(msgs), levels=2, include_invalid=True)
    f = book.frame
    # by hand: rows for diffs 9-11, 12, the gap marker at 15, then 16-17 (replayed) and 18
    assert f.update_id.tolist() == [11, 12, 15, 17, 18]
    assert f.status.tolist() == [VALID, VALID, INVALID, VALID, VALID]
    assert f.bid_px_1.tolist()[:2] == [99.0, 99.0] and f.bid_qty_1.tolist()[:2] == [5.0, 5.0]
    assert f.ask_px_1.tolist()[:2] == [101.0, 100.5]
    assert np.isnan(f.bid_px_1.iat[2])
    # after the resync the 98 level was deleted by the replayed diff 16-17
    assert f.bid_px_1.iat[3] == 99.0 and f.bid_qty_1.iat[3] == 3.0 and np.isnan(f.bid_px_2.iat[3])
    assert f.ask_px_1.iat[4] == 102.0
    s = book.stats
    # the gap diff 14-15 is buffered too and replayed after snapshot 16: stale then
    assert (s["applied"], s["gaps"], s["snapshots"], s["stale"], s["unsynced"]) == (4, 1, 2, 1, 0)
    assert len(reconstruct(depth_frame(msgs), levels=2).frame) == 4  # the marker is left out


def test_futures_first_diff_uses_pu():
    # U > lastUpdateId + 1, yet pu <= lastUpdateId: the diff straddles the snapshot (futures ids
    # are not contiguous), so the futures rule applies it
    msgs = [
        snap(100, bids=[(10.0, 1.0)], asks=[(11.0, 1.0)]),
        diff(90, 99, prev=85, bids=[(10.0, 9.0)]),  # u < lastUpdateId: stale
        diff(105, 110, prev=100, bids=[(10.0, 2.0)]),
        diff(111, 120, prev=110, asks=[(11.0, 3.0)]),
        diff(121, 125, prev=118, asks=[(11.0, 4.0)]),  # pu != 120: a gap
    ]
    book = reconstruct(depth_frame(msgs), levels=1, chain="futures", include_invalid=True)
    assert book.frame.status.tolist() == [VALID, VALID, INVALID]
    assert book.frame.bid_qty_1.tolist()[:2] == [2.0, 2.0] and book.frame.ask_qty_1.iat[1] == 3.0
    assert (book.stats["stale"], book.stats["gaps"]) == (1, 1)
    # Binance's documented U condition alone would not sync here (it needs U <= 101)
    spot_rule = reconstruct(depth_frame(msgs), levels=1, chain="spot", include_invalid=True)
    assert spot_rule.stats["applied"] == 0


def test_duplicates_are_skipped_and_counted():
    msgs = [
        snap(10, bids=[(1.0, 1.0)], asks=[(2.0, 1.0)]),
        diff(11, 12, bids=[(1.0, 2.0)]),
        diff(11, 12, bids=[(1.0, 2.0)]),  # replayed by the exchange or the recorder
        diff(13, 13, bids=[(1.0, 3.0)]),
    ]
    book = reconstruct(depth_frame(msgs), levels=1)
    assert book.stats["duplicates"] == 1 and book.stats["gaps"] == 0
    assert book.frame.bid_qty_1.tolist() == [2.0, 3.0]


def test_crossed_book_is_flagged_not_emitted():
    msgs = [
        snap(10, bids=[(1.0, 1.0)], asks=[(2.0, 1.0)]),
        diff(11, 11, bids=[(2.5, 1.0)]),  # bid above the ask: crossed
        diff(12, 12, bids=[(2.5, 0.0)]),
    ]
    book = reconstruct(depth_frame(msgs), levels=1, include_invalid=True)
    assert book.frame.status.tolist() == [CROSSED, VALID]
    assert book.stats["crossed"] == 1
    assert reconstruct(depth_frame(msgs), levels=1).frame.update_id.tolist() == [12]


def test_crossed_snapshot_is_not_synced_on():
    msgs = [snap(10, bids=[(3.0, 1.0)], asks=[(2.0, 1.0)]), diff(11, 11, bids=[(1.0, 1.0)])]
    book = reconstruct(depth_frame(msgs), levels=1)
    assert (book.stats["crossed_snapshots"], book.stats["unsynced"], len(book.frame)) == (1, 1, 0)


def test_no_snapshot_is_an_error():
    with pytest.raises(BookError, match="no depth snapshot"):
        reconstruct(depth_frame([diff(1, 2, bids=[(1.0, 1.0)])]))


@pytest.mark.parametrize(
    "price,qty", [(np.nan, 1.0), (0.0, 1.0), (-1.0, 1.0), (1.0, -2.0), (1.0, np.inf)]
)
def test_invalid_levels_name_the_line(price, qty):
    msgs = [snap(10, bids=[(1.0, 1.0)], asks=[(2.0, 1.0)]), diff(11, 11, bids=[(price, qty)])]
    with pytest.raises(BookError, match="line 2: invalid level"):
        reconstruct(depth_frame(msgs))


def test_levels_beyond_the_book_are_nan_and_zero():
    msgs = [snap(10, bids=[(1.0, 1.0)], asks=[(2.0, 1.0), (3.0, 1.0)]), diff(11, 11)]
    f = reconstruct(depth_frame(msgs), levels=3).frame
    assert f.ask_px_2.iat[0] == 3.0 and np.isnan(f.ask_px_3.iat[0]) and f.ask_qty_3.iat[0] == 0.0
    assert np.isnan(f.bid_px_2.iat[0]) and f.bid_qty_2.iat[0] == 0.0


def test_price_grid_is_exact_on_real_prices():
    d = read_binance_recording(segment("spot_btcusdt").files).depth
    mask = d.side.to_numpy() != 0
    tick0, step, p10, ticks = price_grid(d.price.to_numpy(), mask)
    back = (tick0 + ticks[mask] * step) / p10
    np.testing.assert_array_equal(back, d.price.to_numpy()[mask])
    assert p10 == 100.0  # BTCUSDT spot quotes in cents


def test_far_levels_use_the_overflow_in_order():
    # 1e5 is 10 M ticks of 0.01 away from 1.00: beyond one ladder, so it lives in the overflow
    msgs = [
        snap(10, bids=[(1.00, 1.0), (0.99, 1.0)], asks=[(1.01, 1.0), (100000.00, 5.0)]),
        diff(11, 11, asks=[(1.01, 0.0), (1.02, 0.0)]),
        diff(12, 12, bids=[(0.01, 7.0)], asks=[(100000.00, 0.0), (2.0, 1.0)]),
    ]
    depth = depth_frame(msgs)
    assert (price_grid(depth.price.to_numpy(), depth.side.to_numpy() != 0)[3].max()) > K.MAX_CELLS
    f = reconstruct(depth, levels=3).frame
    assert f.ask_px_1.tolist() == [100000.0, 2.0] and np.isnan(f.ask_px_2.iat[0])
    assert f.bid_px_3.tolist() == [np.nan, 0.01] or (
        np.isnan(f.bid_px_3.iat[0]) and f.bid_px_3.iat[1] == 0.01
    )
    pd.testing.assert_frame_equal(
        ReferenceBook("spot").run(depth, 3).drop(columns="status"), f, check_dtype=True
    )


# ---------------------------------------------------------------- kernel == reference


@st.composite
def message_sequences(draw):
    """Synthetic random interleavings of snapshots, diffs, gaps, duplicates and stale diffs."""
    far = draw(st.booleans())

    def price():
        if far and draw(st.integers(0, 9)) == 0:
            return round(100000.0 + draw(st.integers(0, 50)) * 0.01, 2)
        return round(99.90 + draw(st.integers(0, 20)) * 0.01, 2)

    def levels(n_max):
        return [
            (price(), float(draw(st.sampled_from([0, 0, 1, 2, 3.5]))))
            for _ in range(draw(st.integers(0, n_max)))
        ]

    uid = draw(st.integers(10, 20))
    msgs = []
    for _ in range(draw(st.integers(1, 40))):
        op = draw(st.sampled_from(["diff"] * 6 + ["snap", "gap", "dup", "stale"]))
        if op == "snap":
            last = uid + draw(st.integers(-3, 2))
            bids = [(p, q or 1.0) for p, q in levels(6) if p < 100.0]
            asks = [(p, q or 1.0) for p, q in levels(6) if p >= 100.0]
            msgs.append(snap(last, bids, asks))
        elif op == "dup" and any(m[0] == DIFF for m in msgs):
            msgs.append(draw(st.sampled_from([m for m in msgs if m[0] == DIFF])))
        elif op == "stale":
            msgs.append(diff(uid - 5, uid - 3, levels(3), levels(3), prev=uid - 6))
        else:
            skip = draw(st.integers(1, 3)) if op == "gap" else 0
            n = draw(st.integers(1, 3))
            msgs.append(diff(uid + 1 + skip, uid + skip + n, levels(4), levels(4), prev=uid + skip))
            uid += skip + n
    if not any(m[0] == SNAPSHOT for m in msgs):
        msgs.insert(draw(st.integers(0, len(msgs))), snap(uid, [(99.95, 1.0)], [(100.05, 1.0)]))
    return msgs


@settings(max_examples=150, deadline=None)
@given(
    msgs=message_sequences(),
    chain=st.sampled_from(["spot", "futures", "none"]),
    levels=st.integers(1, 12),
)
def test_kernel_equals_reference_book(msgs, chain, levels):
    depth = depth_frame(msgs)
    fast = reconstruct(depth, levels=levels, chain=chain, include_invalid=True)
    ref = ReferenceBook(chain)
    slow = ref.run(depth, levels)
    pd.testing.assert_frame_equal(fast.frame, slow)
    assert {k: fast.stats[k] for k in COUNTS} == {k: ref.counts[k] for k in COUNTS}


@st.composite
def observed_streams(draw):
    """Synthetic exchange stream with a known truth, then what a recorder might write of it.

    The true stream is a book at id 10 and contiguous diffs. The observed messages drop some
    diffs (gaps), repeat some (duplicates), and carry snapshots of the true book taken at some
    earlier id (a REST snapshot lags the stream), at random places, before and after gaps.
    Returns ``(messages, truth)`` with ``truth[u]`` the true top-3 book after update id ``u``.
    """
    futures = draw(st.booleans())

    def levels(n):
        return [
            (
                round(99.95 + draw(st.integers(-5, 5)) * 0.01, 2),
                float(draw(st.sampled_from([0, 1, 2]))),
            )
            for _ in range(n)
        ]

    book = {BID: {99.94: 1.0, 99.93: 2.0}, ASK: {99.96: 1.0, 99.97: 2.0}}
    books = {10: {k: dict(v) for k, v in book.items()}}
    diffs = []
    uid = 10
    for _ in range(draw(st.integers(1, 30))):
        n = draw(st.integers(1, 3))
        bids = [(p, q) for p, q in levels(draw(st.integers(0, 3))) if p <= 99.95]
        asks = [(p, q) for p, q in levels(draw(st.integers(0, 3))) if p > 99.95]
        for side, lv in ((BID, bids), (ASK, asks)):
            for p, q in lv:
                if q == 0:
                    book[side].pop(p, None)
                else:
                    book[side][p] = q
        diffs.append(diff(uid + 1, uid + n, bids, asks, prev=uid))
        uid += n
        books[uid] = {k: dict(v) for k, v in book.items()}

    def snapshot_of(u):
        b = books[u]
        return snap(u, sorted(b[BID].items(), reverse=True), sorted(b[ASK].items()))

    ids = sorted(books)
    msgs = []
    for d in diffs:
        op = draw(st.sampled_from(["keep"] * 8 + ["drop", "dup", "snap"]))
        if op == "snap":
            msgs.append(
                snapshot_of(draw(st.sampled_from([u for u in ids if u <= d[2] - 1] or [10])))
            )
        if op != "drop":
            msgs.append(d)
        if op == "dup":
            msgs.append(draw(st.sampled_from([m for m in msgs if m[0] == DIFF])))
    msgs.insert(draw(st.integers(0, len(msgs))), snapshot_of(draw(st.sampled_from(ids))))

    def top(u):
        b = books[u]
        bids = sorted(b[BID].items(), reverse=True)[:3]
        asks = sorted(b[ASK].items())[:3]
        return bids, asks

    truth = {u: top(u) for u in ids}
    return msgs, truth, "futures" if futures else "spot"


@settings(max_examples=200, deadline=None)
@given(case=observed_streams())
def test_every_valid_state_is_the_true_book(case):
    """Whatever gaps, duplicates and lagging snapshots the input has, no state is reported
    valid unless it is exactly the exchange's book at that update id."""
    msgs, truth, chain = case
    f = reconstruct(depth_frame(msgs), levels=3, chain=chain, include_invalid=True).frame
    for row in f[f.status == VALID].itertuples():
        bids, asks = truth[row.update_id]
        got_b = [(getattr(row, f"bid_px_{k}"), getattr(row, f"bid_qty_{k}")) for k in (1, 2, 3)]
        got_a = [(getattr(row, f"ask_px_{k}"), getattr(row, f"ask_qty_{k}")) for k in (1, 2, 3)]
        assert [x for x in got_b if x[1] > 0] == bids
        assert [x for x in got_a if x[1] > 0] == asks
    assert f.update_id[f.status == VALID].is_monotonic_increasing


def test_resync_from_a_snapshot_that_arrived_while_live():
    # a recorder reconnects: the new snapshot's line (id 20) comes before the first diff of the
    # new connection, so the book is still live when it arrives; the chain then breaks at 21-22
    msgs = [
        snap(10, bids=[(1.0, 1.0)], asks=[(3.0, 1.0)]),
        diff(11, 12, bids=[(1.0, 2.0)]),
        diff(19, 20, bids=[(1.5, 1.0)]),  # written before the snapshot line, newer than 12
        snap(18, bids=[(1.0, 5.0)], asks=[(3.0, 1.0)]),
        diff(21, 22, asks=[(2.5, 1.0)]),
    ]
    book = reconstruct(depth_frame(msgs), levels=2, include_invalid=True)
    f = book.frame
    # by hand: 11-12 applied; 19-20 is a gap (no standby yet); the book waits; snapshot 18 syncs,
    # the buffered 19-20 straddles it, 21-22 chains
    assert f.status.tolist() == [VALID, INVALID, VALID, VALID]
    assert f.update_id.tolist() == [12, 20, 20, 22]
    msgs2 = [msgs[0], msgs[1], msgs[3], msgs[2], msgs[4]]  # the snapshot line first this time
    f2 = reconstruct(depth_frame(msgs2), levels=2, include_invalid=True).frame
    # 19-20 breaks the chain while snapshot 18 is on standby: resync at once from it
    assert f2.status.tolist() == [VALID, INVALID, VALID, VALID]
    assert f2.bid_qty_2.tolist()[2:] == [5.0, 5.0] and f2.ask_px_1.iat[3] == 2.5


# ---------------------------------------------------------------- real data

ALL = [s.name for s in segments()]


@pytest.fixture(scope="module")
def recordings():
    return {name: read_binance_recording(segment(name).files) for name in ALL}


@pytest.mark.parametrize("name", ALL)
def test_bundled_segments_replay_exactly(name, recordings):
    rec = recordings[name]
    book = reconstruct(rec, levels=10, include_invalid=True)
    assert book.stats["gaps"] == 0 and book.stats["crossed"] == 0 and book.stats["unsynced"] == 0
    assert book.stats["applied"] == rec.stats["diffs"] - book.stats["stale"]
    bbo = check_bbo(book.frame, rec.bbo)
    # every quote whose update id is a diff's final id matches the rebuilt top of book exactly
    assert bbo["bbo_compared"] > 500 and bbo["bbo_mismatched"] == 0
    assert bbo["bbo_matched"] == bbo["bbo_compared"]


def test_bbo_check_catches_a_wrong_book(recordings):
    rec = recordings["usdm_ethusdt"]
    f = reconstruct(rec, levels=1).frame.copy()
    checked = np.flatnonzero(f.update_id.isin(rec.bbo.update_id).to_numpy())
    f.loc[f.index[checked[:10]], "bid_qty_1"] += 1.0  # corrupt ten states that get compared
    res = check_bbo(f, rec.bbo)
    assert res["bbo_mismatched"] == 10 and res["bbo_first_mismatch"] is not None


@pytest.mark.parametrize("name", ["spot_btcusdt", "cm_ethusd_perp"])
def test_reference_book_agrees_on_real_data_prefix(name, recordings):
    rec = recordings[name]
    first_msgs = rec.depth[rec.depth.msg < 1500]
    fast = reconstruct(first_msgs, levels=10, chain=rec.market, include_invalid=True).frame
    slow = ReferenceBook(rec.market).run(first_msgs, 10)
    pd.testing.assert_frame_equal(fast, slow)


def test_gaps_make_clock_samples_nan():
    msgs = [
        snap(10, bids=[(1.0, 1.0)], asks=[(2.0, 1.0)]),
        diff(11, 11),  # ts 2000
        diff(13, 13),  # ts 3000: gap
        snap(13, bids=[(1.0, 1.0)], asks=[(2.0, 1.0)]),
        diff(14, 14),  # ts 5000
    ]
    f = reconstruct(depth_frame(msgs), levels=1, include_invalid=True).frame
    s = sample_clock(f, 500, start=2000, end=5500)
    valid = ~np.isnan(s.bid_px_1.to_numpy())
    # valid at 2000 and 2500; NaN from the gap at 3000 until the resynced state at 5000
    assert s.ts[valid].tolist() == [2000, 2500, 5000, 5500]
