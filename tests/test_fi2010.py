"""Tests of lobutils.models.fi2010 on small synthetic files written in the FI-2010 layout."""

from __future__ import annotations

import numpy as np
import pytest

from lobutils.models import fi2010
from lobutils.models.windows import WindowDataset, window_ends


def test_reads_the_layout_and_maps_labels(tmp_path):
    # 149 rows x 4 events, hand-written: level features, 104 filler rows, 5 label rows
    m = np.zeros((149, 4))
    m[0] = [10.1, 10.2, 10.3, 10.4]  # ask price level 1
    m[1] = [5, 6, 7, 8]  # ask volume level 1
    m[2] = [9.9, 10.0, 10.1, 10.2]  # bid price level 1
    m[39] = [1, 2, 3, 4]  # bid volume level 10
    m[144:] = np.array([[1, 2, 3, 1]] * 5)  # up, stationary, down, up at every horizon
    m[148] = [3, 3, 2, 1]  # horizon 10
    p = tmp_path / fi2010.file_name("train", 7)
    np.savetxt(p, m, fmt="%.4f")
    part = fi2010.read_fi2010(p, block=7)
    assert part.X.shape == (4, 40) and part.X.dtype == np.float32
    np.testing.assert_allclose(part.X[:, 0], m[0], rtol=1e-6)
    np.testing.assert_allclose(part.X[:, 39], [1, 2, 3, 4])
    assert part.y(1).tolist() == [2, 1, 0, 2]  # book codes: 0 down, 1 flat, 2 up
    assert part.y(10).tolist() == [0, 0, 1, 2]
    assert part.blocks.tolist() == [7] * 4
    assert part.balance(1).to_dict() == {"down": 0.25, "flat": 0.25, "up": 0.5}


def test_rejects_a_wrong_layout(tmp_path):
    p = tmp_path / "bad.txt"
    np.savetxt(p, np.ones((148, 3)))
    with pytest.raises(ValueError, match="149"):
        fi2010.read_fi2010(p)
    m = np.ones((149, 3))
    m[-1] = 4
    np.savetxt(p, m)
    with pytest.raises(ValueError, match="labels"):
        fi2010.read_fi2010(p)


def test_deeplob_setup(tmp_path):
    nested = tmp_path / "BenchmarkDatasets" / "NoAuction" / "3.NoAuction_DecPre"
    paths = fi2010.write_synthetic(nested, n_train=100, n_test=20, seed=1)
    assert [p.name for p in paths] == [
        "Train_Dst_NoAuction_DecPre_CF_7.txt",
        "Test_Dst_NoAuction_DecPre_CF_7.txt",
        "Test_Dst_NoAuction_DecPre_CF_8.txt",
        "Test_Dst_NoAuction_DecPre_CF_9.txt",
    ]
    s = fi2010.load_deeplob_setup(tmp_path)  # found below the nested folders
    full = fi2010.read_fi2010(paths[0])
    # train = first 80% of day 7's train file, validation = its last 20% (chronological)
    assert len(s.train) == 80 and len(s.val) == 20
    np.testing.assert_array_equal(s.train.X, full.X[:80])
    np.testing.assert_array_equal(s.val.X, full.X[80:])
    # test = CF_7, CF_8, CF_9 test files, in order, tagged by block
    assert len(s.test) == 60 and s.test.blocks.tolist() == [7] * 20 + [8] * 20 + [9] * 20
    # labels of the synthetic files are the sign of the forward mid move (labelled synthetic)
    mid = 0.5 * (full.X[:, 0] + full.X[:, 2]).astype(float)
    fwd = np.r_[mid[10:], np.repeat(mid[-1], 10)] - mid
    expect = np.where(fwd > 0.002, 2, np.where(fwd < -0.002, 0, 1))
    assert (full.y(10) == expect).mean() > 0.95  # float32 rounding may flip a borderline row
    # windows over the test part never cross from one file into the next
    ends = window_ends(np.ones(len(s.test), bool), 5, blocks=s.test.blocks)
    assert len(ends) == 3 * 16
    ds = WindowDataset(s.test.X, ends, T=5, y=s.test.y(10)[ends], batch_size=64)
    assert ds[0][0].shape == (48, 5, 40)


def test_missing_files_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="download FI-2010"):
        fi2010.load_deeplob_setup(tmp_path, normalisation="ZScore")
    with pytest.raises(ValueError, match="normalisation"):
        fi2010.file_name("train", 7, "Raw")
