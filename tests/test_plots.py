"""Figure builders: the numbers behind the figures, on synthetic book frames with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lobutils.book.replay import INVALID, VALID
from lobutils.plots import book as plots
from lobutils.schema import book_columns

S = 1_000_000_000


def frame(rows, levels=1, status=None):
    """Book frame from rows ``(ts, [bid (px, qty)...], [ask (px, qty)...])``."""
    out = []
    for i, (ts, bids, asks) in enumerate(rows):
        bids = list(bids) + [(np.nan, 0.0)] * (levels - len(bids))
        asks = list(asks) + [(np.nan, 0.0)] * (levels - len(asks))
        out.append(
            [ts, ts, i + 1]
            + [p for p, _ in bids]
            + [q for _, q in bids]
            + [p for p, _ in asks]
            + [q for _, q in asks]
        )
    f = pd.DataFrame(out, columns=book_columns(levels))
    if status is not None:
        f["status"] = np.asarray(status, np.int8)
    return f


def test_heatmap_shape_bins_and_quantity():
    f = frame(
        [
            (0, [(99.5, 1.0), (98.5, 2.0)], [(100.5, 3.0), (101.5, 4.0)]),
            (3 * S, [(99.5, 1.0), (98.5, 2.0)], [(100.5, 3.0), (101.5, 4.0)]),
        ],
        levels=2,
    )
    t, edges, z, sampled = plots.heatmap_grid(f, "1s", bin_size=1.0)
    assert t.tolist() == [0, S, 2 * S, 3 * S]
    assert edges.tolist() == [98.0, 99.0, 100.0, 101.0, 102.0]
    assert z.shape == (len(edges) - 1, len(t)) == (4, 4)
    # every level lands in its bin, and each column holds the whole book's quantity
    assert z[:, 0].tolist() == [2.0, 1.0, 3.0, 4.0]
    assert np.allclose(np.nansum(z, axis=0), 10.0)
    fig = plots.depth_heatmap(f, "1s", bin_size=1.0)
    assert np.asarray(fig.data[0].z).shape == z.shape
    assert len(fig.data) == 3  # heatmap, best bid, best ask


def test_heatmap_has_no_look_ahead():
    """A state that begins at 1.5 s shows from the 2 s column on, never in the 1 s column."""
    f = frame(
        [
            (0, [(99.5, 1.0)], [(100.5, 1.0)]),
            (int(1.5 * S), [(99.5, 7.0)], [(100.5, 1.0)]),
            (3 * S, [(99.5, 7.0)], [(100.5, 1.0)]),
        ]
    )
    t, edges, z, _ = plots.heatmap_grid(f, "1s", bin_size=1.0)
    bid_bin = int(np.searchsorted(edges, 99.5, side="right")) - 1
    assert t.tolist() == [0, S, 2 * S, 3 * S]
    assert z[bid_bin].tolist() == [1.0, 1.0, 7.0, 7.0]
    # truncating the input after 1 s leaves the columns up to 1 s unchanged
    _, _, z_cut, _ = plots.heatmap_grid(f[f.ts <= S], "1s", bin_size=1.0)
    assert np.array_equal(z_cut[bid_bin, :1], z[bid_bin, :1])


def test_heatmap_marks_unknown_depth_and_invalid_states():
    # two levels: bins beyond the 2nd bid / 2nd ask are unknown (NaN), empty bins inside are 0
    f = frame(
        [
            (0, [(99.5, 1.0), (96.5, 1.0)], [(100.5, 1.0), (101.5, 1.0)]),
            (S, [(99.5, 1.0), (98.5, 1.0)], [(100.5, 1.0), (101.5, 1.0)]),
            (2 * S, [(99.5, 1.0), (98.5, 1.0)], [(100.5, 1.0), (101.5, 1.0)]),
        ],
        levels=2,
        status=[VALID, VALID, INVALID],
    )
    t, edges, z, _ = plots.heatmap_grid(f, "1s", bin_size=1.0)
    assert edges[0] == 96.0
    col0, col1, col2 = z[:, 0], z[:, 1], z[:, 2]
    assert col0.tolist() == [1.0, 0.0, 0.0, 1.0, 1.0, 1.0]  # 97-99 are empty, not unknown
    assert np.isnan(col1[:2]).all() and col1[2:].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert np.isnan(col2).all()  # the state at 2 s is a gap marker: nothing is known


def test_cumulative_profile_known_answer_and_monotone():
    f = frame(
        [
            (0, [(99.9, 1.0), (99.8, 2.0)], [(100.1, 3.0), (100.3, 3.0)]),
            (S, [(99.9, 2.0), (99.8, 2.0)], [(100.1, 1.0), (100.2, 1.0)]),
        ],
        levels=2,
    )
    x, b, a = plots.cumulative_profile(f, points=5)
    # the grid stops at the shallowest side of the shallowest state: 20 bps
    assert x[-1] == pytest.approx(20.0, rel=1e-9)
    assert b[0].tolist() == [0.0, 0.0, 1.0, 1.0, 3.0]
    assert a[1].tolist() == [0.0, 0.0, 1.0, 1.0, 2.0]
    assert (np.diff(b, axis=1) >= 0).all() and (np.diff(a, axis=1) >= 0).all()
    fig = plots.depth_profile(f, points=5)
    assert fig.data[0].y.tolist() == np.median(b, axis=0).tolist()


def test_rates_count_every_event_in_complete_windows():
    rng = np.random.default_rng(7)
    ts = np.sort(rng.integers(0, 20 * S, 500))
    grid, per_s = plots.rates(ts, "2s")
    assert grid[0] - 2 * S >= ts[0] and grid[-1] <= ts[-1]
    inside = (ts > grid[0] - 2 * S) & (ts <= grid[-1])
    assert per_s.sum() * 2 == inside.sum()


def test_price_paths_use_the_last_price_at_or_before_each_grid_time():
    tr = pd.DataFrame({"ts": [0, S, int(1.5 * S), 2 * S + 1], "price": [100.0, 110.0, 90.0, 1.0]})
    fig = plots.price_paths({"x": tr}, "1s")
    expected = 1e4 * np.log(np.array([100.0, 110.0, 90.0]) / 100.0)
    assert np.allclose(fig.data[0].y, expected)


def test_histograms_shares_sum_to_one_over_kept_values():
    x = np.r_[np.linspace(1, 1000, 999), [np.nan, -1.0, 0.0]]
    fig = plots.histograms({"a": x}, "size (USD)", bins=10, log_x=True)
    assert fig.layout.xaxis.type == "log"
    assert np.sum(fig.data[0].y[:-1]) == pytest.approx(1.0)


def test_time_axes_are_utc_datetimes():
    f = frame([(1_723_161_600 * S, [(99.0, 1.0)], [(101.0, 1.0)])])
    fig = plots.mid_spread(f)
    assert pd.Timestamp(fig.data[0].x[0]) == pd.Timestamp("2024-08-09 00:00:00")
    assert fig.layout.yaxis2.title.text == "spread (bps)"


def test_heatmap_best_quote_lines_show_in_the_legend():
    """Every line of the depth heatmap has a legend swatch that shows on the white page."""
    f = frame([(0, [(99.5, 1.0)], [(100.5, 2.0)]), (2 * S, [(99.5, 1.0)], [(100.5, 2.0)])])
    fig = plots.depth_heatmap(f, "1s", bin_size=1.0)
    lines = {d.name: d.line.color.lower() for d in fig.data[1:]}
    assert set(lines) == {"best bid", "best ask"}
    assert not {"#fff", "#ffffff", "white"} & set(lines.values()), lines
    assert len(set(lines.values())) == 2, "bid and ask lines share a colour"
