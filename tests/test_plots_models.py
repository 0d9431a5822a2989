"""Tests of lobutils.plots.models: R² clipped at a floor with distinct markers, and one x-axis
title under the panels of the difference figure. All tables here are synthetic."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lobutils.plots import models as plots


def synthetic_table() -> pd.DataFrame:
    """A synthetic results table: two models and a baseline at three horizons; the tree's R²
    at 10s is -12, far below every other value."""
    rows = []
    for h in ("1s", "10s", "60s"):
        for model, role, value in (
            ("linear", "model", 0.02),
            ("tree", "model", -12.0 if h == "10s" else -0.1),
            ("zero", "baseline", 0.0),
        ):
            is_model = role == "model"
            rows.append(
                {
                    "segment": "spot_synth",
                    "target": "return",
                    "horizon": h,
                    "model": model,
                    "role": role,
                    "metric": "r2_oos",
                    "value": value,
                    "ci_low": value - 0.5 if value < -1 else value - 0.01,
                    "ci_high": value + 0.01,
                    "baseline": "zero" if is_model else None,
                    "diff": value if is_model else np.nan,
                    "diff_ci_low": value - 0.02 if is_model else np.nan,
                    "diff_ci_high": value + 0.01 if is_model else np.nan,
                    "beats_baseline": (value - 0.02 > 0) if is_model else None,
                }
            )
    return pd.DataFrame(rows)


def test_metric_ci_clips_r2_at_the_floor_with_triangles():
    fig = plots.metric_ci(synthetic_table(), "r2_oos", "return", floor=-1.0)
    panel = fig.data[1]  # the 10s panel: linear, tree, zero
    assert list(panel.x) == ["linear", "tree", "zero"]
    assert list(panel.y) == [0.02, -1.0, 0.0]
    assert list(panel.marker.symbol) == ["circle", "triangle-down", "diamond-open"]
    assert panel.customdata[1][0] == -12.0  # the hover keeps the true value
    assert panel.error_y.arrayminus[1] == 0.0  # the interval end is clipped too
    lo, hi = fig.layout.yaxis.range
    assert -1.2 < lo < -1.0 and hi > 0.03  # the axis no longer runs to -12


def test_metric_ci_without_floor_draws_true_values():
    fig = plots.metric_ci(synthetic_table(), "r2_oos", "return")
    assert list(fig.data[1].y) == [0.02, -12.0, 0.0]
    assert fig.layout.yaxis.range is None


def test_diff_ci_has_one_x_title_and_clips():
    fig = plots.diff_ci(synthetic_table(), "r2_oos", "return", floor=-1.0)
    assert all(fig.layout[f"xaxis{k}"].title.text is None for k in ("", "2", "3"))
    titles = [a.text for a in fig.layout.annotations if a.text.startswith("Δ")]
    assert len(titles) == 1
    tree10 = [tr for tr in fig.data if "spot_synth · tree" in list(tr.y) and -1.0 in list(tr.x)]
    assert len(tree10) == 1 and "triangle-left" in list(tree10[0].marker.symbol)
