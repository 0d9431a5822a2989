"""lobutils.book.diagnostics: the tables of chapter 2, on a bundled recording."""

from __future__ import annotations

import pytest

from lobutils.book import diagnostics as diag
from lobutils.book import reconstruct
from lobutils.data import read_binance_recording, segment
from lobutils.schema import DIFF


@pytest.fixture(scope="module")
def rec():
    return read_binance_recording(segment("cm_btcusd_perp").files)


def test_sync_walk_skips_stale_then_applies(rec):
    walk, L = diag.sync_walk(rec, after=6)
    outcomes = walk.outcome.tolist()
    assert "applied" in outcomes
    first = outcomes.index("applied")
    assert set(outcomes[:first]) <= {"stale"}, outcomes
    # the first applied diff reaches past L; every stale one ends before (futures: u < L)
    assert walk["u - L"].iat[first] >= 0
    assert (walk["u - L"].iloc[:first] < 0).all()


def test_damage_table_counts_each_damage_once(rec):
    depth = rec.depth
    diffs = depth.loc[depth.kind == DIFF, "msg"].unique()
    k = int(diffs[len(diffs) // 2])
    book = reconstruct(rec, levels=5, include_invalid=True)
    last = int(depth.loc[depth.msg == k, "last_id"].iat[0])
    ask = float(book.frame.loc[book.frame.update_id == last, "ask_px_1"].iat[0])
    damaged = {
        name: reconstruct(d, levels=5, chain=rec.market, include_invalid=True)
        for name, d in diag.damaged_depth(depth, k, ask).items()
    }
    t = diag.damage_table(damaged, rec.bbo)
    assert list(t.index) == list(diag.DAMAGES)
    assert t.loc["original", ["gaps", "duplicates", "crossed", "invalid"]].tolist() == [0, 0, 0, 0]
    assert t.loc["gap", "gaps"] == 1 and t.loc["gap", "invalid"] == 1
    assert t.loc["duplicate", "duplicates"] == 1
    assert t.loc["duplicate", "unlike original"] == 0
    assert t.loc["duplicate", "valid"] == t.loc["original", "valid"]
    assert t.loc["crossed", "crossed"] >= 1
    assert (t.bbo_mismatched == 0).all()
