"""Tests of lobutils.models.windows: zero-copy windows, validity, training-only normalisation.

Synthetic arrays whose values encode their row number make every check exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lobutils.models import windows as W
from lobutils.schema import book_columns


def rows_array(n: int = 50, F: int = 8) -> np.ndarray:
    """Row r, column c holds 100 r + c (labelled synthetic)."""
    return (100.0 * np.arange(n)[:, None] + np.arange(F)[None, :]).astype("float32")


def naive(data: np.ndarray, ends: np.ndarray, T: int) -> np.ndarray:
    """The materialised (len(ends), T, F) copy the dataset avoids."""
    return np.stack([data[e - T + 1 : e + 1] for e in ends])


def test_batches_equal_naive_windows():
    X = rows_array()
    ends = np.array([4, 9, 10, 31, 49])
    ds = W.WindowDataset(X, ends, T=5, y=np.arange(5), batch_size=2)
    got = np.concatenate([ds[i][0] for i in range(len(ds))])
    np.testing.assert_array_equal(got, naive(X, ends, 5))
    assert np.concatenate([ds[i][1] for i in range(len(ds))]).tolist() == [0, 1, 2, 3, 4]


def test_windows_are_views_of_a_memory_map(tmp_path):
    X = rows_array(200, 8)
    np.save(tmp_path / "x.npy", X)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    ds = W.WindowDataset(mm, np.arange(9, 200), T=10, batch_size=32)
    # the strided view shares the memory map's buffer: no (N, T, F) array exists
    assert np.shares_memory(ds._view, mm)
    assert ds._view.nbytes > mm.nbytes  # a 10x "virtual" array on the same bytes
    np.testing.assert_array_equal(ds[1][0], naive(X, np.arange(41, 73), 10))


def test_no_window_reads_a_row_after_its_end():
    X = rows_array()
    ends = np.arange(6, 50)
    ds = W.WindowDataset(X, ends, T=7, batch_size=8, shuffle=True, seed=3)
    for i in range(len(ds)):
        pos = ds.batch_positions(i)
        x = ds[i][0]
        last_row = x[:, :, 0] // 100  # the row number each step came from
        assert (last_row <= ends[pos][:, None]).all()
        assert (last_row[:, -1] == ends[pos]).all()  # the window ends at its target row
        assert (np.diff(last_row, axis=1) == 1).all()  # consecutive rows, in time order


def test_shuffle_is_seeded_and_changes_per_epoch():
    X = rows_array()
    a = W.WindowDataset(X, np.arange(4, 50), T=5, batch_size=46, shuffle=True, seed=1)
    b = W.WindowDataset(X, np.arange(4, 50), T=5, batch_size=46, shuffle=True, seed=1)
    first = a[0][0][:, -1, 0].copy()
    np.testing.assert_array_equal(first, b[0][0][:, -1, 0])
    a.on_epoch_end()
    assert not np.array_equal(first, a[0][0][:, -1, 0])
    assert sorted(first.tolist()) == sorted(a[0][0][:, -1, 0].tolist())


def test_window_ends_skip_gaps_and_block_boundaries():
    valid = np.ones(20, bool)
    valid[7] = False  # a gap in the book
    blocks = np.r_[np.zeros(12), np.ones(8)]  # e.g. train | validation
    ends = W.window_ends(valid, 3, blocks=blocks)
    for e in ends:
        rows = np.arange(e - 2, e + 1)
        assert valid[rows].all() and len(set(blocks[rows])) == 1
    assert ends.tolist() == [2, 3, 4, 5, 6, 10, 11, 14, 15, 16, 17, 18, 19]
    assert W.window_ends(valid, 3, candidates=np.array([5, 8, 19])).tolist() == [5, 19]


def test_bad_ends_are_rejected():
    X = rows_array(10)
    with pytest.raises(ValueError, match="window ends"):
        W.WindowDataset(X, [2], T=5)
    with pytest.raises(ValueError, match="window ends"):
        W.WindowDataset(X, [10], T=2)
    with pytest.raises(ValueError, match="rows"):
        W.WindowDataset(X, [5, 6], T=2, y=np.zeros(3))


def test_normalisation_stats_come_from_training_rows_only():
    rng = np.random.default_rng(0)
    n, T = 60, 5
    X = np.c_[
        100 + rng.normal(size=n),
        rng.uniform(1, 2, n),
        99 + rng.normal(size=n),
        rng.uniform(1, 2, n),
    ]
    train_ends = np.arange(T - 1, 30)
    clean = W.fit_normalizer(X, train_ends, T)
    X2 = X.copy()
    X2[30:] *= 1000.0  # validation and test rows: wildly different
    dirty = W.fit_normalizer(X2, train_ends, T)
    np.testing.assert_array_equal(clean.mean, dirty.mean)
    np.testing.assert_array_equal(clean.std, dirty.std)
    # one mean and std per group: prices (cols 0, 2), sizes (cols 1, 3)
    rows = X[:30]
    assert clean.mean[0] == clean.mean[2] == pytest.approx(rows[:, [0, 2]].mean())
    assert clean.std[1] == clean.std[3] == pytest.approx(rows[:, [1, 3]].std())
    assert clean.n_rows == 30
    # and only the rows the training windows read: windows ending at 10..20 read rows 6..20
    part = W.fit_normalizer(X, np.arange(10, 21), T)
    assert part.mean[1] == pytest.approx(X[6:21, [1, 3]].mean())


def test_relative_prices_use_the_windows_last_mid():
    n, T = 40, 4
    mid = 100.0 + np.arange(n)
    X = np.c_[mid + 0.5, np.ones(n), mid - 0.5, np.ones(n)]
    nz = W.fit_normalizer(X, np.arange(T - 1, 20), T, prices="relative", sizes="log")
    ds = W.WindowDataset(X, [25], T=T, normalizer=nz)
    raw = nz.transform_raw(naive(X, np.array([25]), T))
    last_mid = mid[25]
    np.testing.assert_allclose(raw[0, :, 0], 1e4 * ((mid[22:26] + 0.5) / last_mid - 1))
    np.testing.assert_allclose(raw[0, :, 1], np.log(2.0))
    np.testing.assert_allclose(ds[0][0], ((raw - nz.mean) / nz.std).astype("float32"), rtol=1e-6)


def test_pooled_windows_use_each_segments_normalizer():
    X = np.r_[rows_array(20, 4), 10 * rows_array(20, 4)]
    seg = np.r_[np.zeros(20, int), np.ones(20, int)]
    n0 = W.fit_normalizer(X[:20], np.arange(3, 10), 4)
    n1 = W.fit_normalizer(X[20:], np.arange(3, 10), 4)
    ds = W.WindowDataset(X, [10, 30], T=4, normalizer=[n0, n1], normalizer_index=seg)
    x = ds[0][0]
    np.testing.assert_allclose(x[0], n0(X[7:11]), rtol=1e-6)
    np.testing.assert_allclose(x[1], n1(X[27:31]), rtol=1e-6)


def test_lob_matrix_order():
    f = pd.DataFrame(
        [[0, 0, 1, 99.0, 98.0, 1.0, 2.0, 101.0, 102.0, 3.0, 4.0]], columns=book_columns(2)
    )
    assert W.lob_columns(2) == [
        "ask_px_1", "ask_qty_1", "bid_px_1", "bid_qty_1",
        "ask_px_2", "ask_qty_2", "bid_px_2", "bid_qty_2",
    ]  # fmt: skip
    assert W.lob_matrix(f).tolist() == [[101.0, 3.0, 99.0, 1.0, 102.0, 4.0, 98.0, 2.0]]


def test_training_rows():
    assert W.training_rows(np.array([4]), 3, 10).tolist() == [2, 3, 4]
    with pytest.raises(ValueError):
        W.training_rows(np.array([1]), 3, 10)
