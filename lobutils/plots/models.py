"""Figures of the model chapters: metrics with confidence intervals, against the baselines.

Every builder takes a tidy frame (the results table of :func:`lobutils.models.zoo.run_zoo`,
which follows :func:`lobutils.evaluation.results_table`, or a frame with the columns it names)
and returns a :class:`plotly.graph_objects.Figure` with one idea, lowercase axis labels, and no
renderer settings (the chapter runner chooses the renderer).

Examples
--------
A synthetic results table of one model and one baseline:

>>> t = pd.DataFrame({"segment": ["a", "a"], "target": ["return"] * 2, "horizon": ["1s"] * 2,
...     "model": ["m", "zero"], "role": ["model", "baseline"], "metric": ["r2_oos"] * 2,
...     "value": [0.1, 0.0], "ci_low": [0.05, 0.0], "ci_high": [0.15, 0.0],
...     "diff": [0.1, np.nan], "diff_ci_low": [0.05, np.nan], "diff_ci_high": [0.15, np.nan],
...     "beats_baseline": [True, None], "baseline": ["zero", None]})
>>> fig = metric_ci(t, "r2_oos")
>>> [tr.name for tr in fig.data], list(fig.data[0].x)
(['a'], ['m', 'zero'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lobutils.plots.style import METRIC_LABELS, TEMPLATE

__all__ = [
    "METRIC_LABELS",
    "accuracy_vs_majority",
    "diff_ci",
    "importance_bars",
    "metric_ci",
    "pnl_per_trade",
]

_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
)


def _order(values: Sequence) -> list:
    return list(dict.fromkeys(values))


def _facet_columns(panels: Sequence, facet: str) -> go.Figure:
    """One panel per ``facet`` value, side by side, sharing the y axis."""
    return make_subplots(
        rows=1,
        cols=len(panels),
        shared_yaxes=True,
        subplot_titles=[f"{facet} {p}" for p in panels],
        horizontal_spacing=0.03,
    )


def _ci_bars(value: Any, low: Any, high: Any, **style) -> dict:
    """Asymmetric error bars from ``value`` out to the CI bounds ``low`` and ``high``."""
    v, lo, hi = (np.asarray(a, dtype=np.float64) for a in (value, low, high))
    return dict(
        type="data",
        symmetric=False,
        array=np.maximum(hi - v, 0.0),
        arrayminus=np.maximum(v - lo, 0.0),
        **style,
    )


def _floored(
    value: Any, low: Any, high: Any, floor: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Estimates and CI ends below ``floor`` drawn at ``floor``, and which estimates were.

    Parameters
    ----------
    value, low, high : array-like
        Estimates and their interval ends.
    floor : float or None
        Lowest value drawn; None draws everything as it is.

    Returns
    -------
    tuple of numpy.ndarray
        The drawn estimates, lows and highs, and a boolean mask of the clipped estimates.

    Examples
    --------
    >>> y, lo, hi, clipped = _floored([0.1, -12.0], [0.0, -20.0], [0.2, -5.0], -1.0)
    >>> y.tolist(), lo.tolist(), hi.tolist(), clipped.tolist()
    ([0.1, -1.0], [0.0, -1.0], [0.2, -1.0], [False, True])
    """
    v, lo, hi = (np.asarray(a, dtype=np.float64) for a in (value, low, high))
    if floor is None:
        return v, lo, hi, np.zeros(v.shape, dtype=bool)
    return np.maximum(v, floor), np.maximum(lo, floor), np.maximum(hi, floor), v < floor


def _floor_range(high: Any, floor: float) -> list[float]:
    """An axis range from just below ``floor`` to just above the highest interval end."""
    top = float(np.nanmax(np.maximum(np.asarray(high, dtype=np.float64), floor)))
    pad = 0.05 * max(top - floor, 1e-9)
    return [floor - pad, top + pad]


def _select(table: pd.DataFrame, metric: str, target: str | Sequence[str] | None) -> pd.DataFrame:
    t = table[table["metric"] == metric]
    if target is not None:
        targets = [target] if isinstance(target, str) else list(target)
        t = t[t["target"].isin(targets)]
    if t.empty:
        raise ValueError(f"no rows for metric {metric!r} and target {target!r}")
    return t


def _symbols(baseline: np.ndarray, clipped: np.ndarray) -> list[str]:
    """Marker per point: circle (model) or open diamond (baseline); a downward triangle,
    filled or open, for an estimate drawn at the floor."""
    return [
        ("triangle-down-open" if b else "triangle-down")
        if c
        else ("diamond-open" if b else "circle")
        for b, c in zip(baseline, clipped, strict=True)
    ]


def metric_ci(
    table: pd.DataFrame,
    metric: str,
    target: str | None = None,
    *,
    facet: str = "horizon",
    floor: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """A metric with its CI for every model and baseline, one colour per segment.

    Models are filled circles, baselines open diamonds; one panel per value of ``facet``
    (the horizon). A model whose interval does not clear its best baseline's has not shown
    skill, whatever its point value. R² has no lower bound, and one bad fit would squash every
    other point: with ``floor``, estimates and interval ends below it are drawn at the floor,
    the estimates as downward triangles (the hover text keeps the true values).

    Parameters
    ----------
    table : DataFrame
        Columns ``segment``, ``model``, ``role``, ``metric``, ``value``, ``ci_low``,
        ``ci_high``, ``facet`` (and ``target`` when ``target`` is given).
    metric : str
        The metric to draw (a value of the ``metric`` column, e.g. ``"r2_oos"``).
    target : str, optional
        Keep only this target.
    facet : str
        Column whose values become panels.
    floor : float, optional
        Lowest value drawn (e.g. -1 for R²); None draws every value.
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per ``facet`` value, one trace per segment.
    """
    t = _select(table, metric, target)
    if "target" in t.columns and t["target"].nunique() > 1:
        raise ValueError(
            f"the table holds several targets {sorted(t['target'].unique())}; pass target="
        )
    panels = _order(t[facet])
    models = _order(t.loc[t["role"] == "model", "model"]) + _order(
        t.loc[t["role"] == "baseline", "model"]
    )
    segs = _order(t["segment"])
    fig = _facet_columns(panels, facet)
    for j, p in enumerate(panels, start=1):
        tp = t[t[facet] == p]
        for k, seg in enumerate(segs):
            ts = tp[tp["segment"] == seg].set_index("model").reindex([m for m in models])
            ts = ts[ts["value"].notna()]
            if ts.empty:
                continue
            base = (ts["role"] == "baseline").to_numpy()
            y, lo, hi, clipped = _floored(ts["value"], ts["ci_low"], ts["ci_high"], floor)
            fig.add_trace(
                go.Scatter(
                    x=list(ts.index),
                    y=y,
                    error_y=_ci_bars(y, lo, hi, thickness=1.2, width=3),
                    mode="markers",
                    marker=dict(
                        color=_PALETTE[k % len(_PALETTE)],
                        size=8,
                        symbol=_symbols(base, clipped),
                    ),
                    name=seg,
                    legendgroup=seg,
                    showlegend=j == 1,
                    customdata=ts[["value", "ci_low", "ci_high"]].to_numpy(),
                    hovertemplate="%{x}: %{customdata[0]:.4f} "
                    "[%{customdata[1]:.4f}, %{customdata[2]:.4f}]<extra>" + seg + "</extra>",
                ),
                row=1,
                col=j,
            )
        fig.update_xaxes(categoryorder="array", categoryarray=models, row=1, col=j)
    fig.update_yaxes(title_text=METRIC_LABELS.get(metric, metric), row=1, col=1)
    if floor is not None:
        fig.update_yaxes(range=_floor_range(t["ci_high"], floor))
    fig.update_layout(
        template=TEMPLATE,
        scattermode="group",
        title=title or f"{METRIC_LABELS.get(metric, metric)}: models (●) and baselines (◇), 95% CI",
        legend_title_text="segment",
        height=420,
    )
    return fig


def diff_ci(
    table: pd.DataFrame,
    metric: str,
    target: str | Sequence[str] | None = None,
    *,
    facet: str = "horizon",
    floor: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """Model minus its best baseline on one metric, with the paired bootstrap CI.

    One row per (segment, model), one panel per ``facet`` value. Green: the whole interval is
    on the better side of zero (``beats_baseline``); grey: it is not. With ``floor``,
    differences and interval ends below it are drawn at the floor, the differences as
    left-pointing triangles. The x-axis title is written once, under all the panels.

    Parameters
    ----------
    table : DataFrame
        Columns ``segment``, ``model``, ``role``, ``metric``, ``diff``, ``diff_ci_low``,
        ``diff_ci_high``, ``beats_baseline``, ``baseline``, ``facet`` (and ``target``).
    metric : str
        The metric to draw (a value of the ``metric`` column).
    target : str or sequence of str, optional
        Keep only these targets; with several, each row names its target.
    facet : str
        Column whose values become panels.
    floor : float, optional
        Lowest difference drawn (e.g. -1 for R²); None draws every value.
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per ``facet`` value, one marker per (segment, model).

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["a"], "target": ["return"], "horizon": ["1s"],
    ...     "model": ["m"], "role": ["model"], "metric": ["mse"], "diff": [-0.2],
    ...     "diff_ci_low": [-0.3], "diff_ci_high": [-0.1], "beats_baseline": [True],
    ...     "baseline": ["zero"]})
    >>> diff_ci(t, "mse").data[0].marker.color
    '#1b9e77'
    """
    t = _select(table, metric, target)
    t = t[t["role"] == "model"].copy()
    if "target" in t.columns and t["target"].nunique() > 1:
        t["row"] = t["segment"] + " · " + t["target"] + " · " + t["model"]
    else:
        t["row"] = t["segment"] + " · " + t["model"]
    panels = _order(t[facet])
    rows = _order(t["row"])[::-1]
    fig = _facet_columns(panels, facet)
    for j, p in enumerate(panels, start=1):
        tp = t[t[facet] == p]
        for beats, color, name in ((True, "#1b9e77", "beats baseline"), (False, "#9e9e9e", "not")):
            sel = tp[tp["beats_baseline"].fillna(False).astype(bool) == beats]
            if sel.empty:
                continue
            x, lo, hi, clipped = _floored(
                sel["diff"], sel["diff_ci_low"], sel["diff_ci_high"], floor
            )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=sel["row"],
                    error_x=_ci_bars(x, lo, hi, thickness=1.2, width=2),
                    mode="markers",
                    marker=dict(
                        color=color,
                        size=7,
                        symbol=np.where(clipped, "triangle-left", "circle").tolist(),
                    ),
                    name=name,
                    legendgroup=name,
                    showlegend=j == 1,
                    customdata=sel[["baseline", "diff"]].to_numpy(),
                    hovertemplate="%{y}: %{customdata[1]:.4f} vs %{customdata[0]}<extra></extra>",
                ),
                row=1,
                col=j,
            )
        fig.add_vline(x=0.0, line=dict(color="black", width=1), row=1, col=j)
    if floor is not None:
        fig.update_xaxes(range=_floor_range(t["diff_ci_high"], floor))
    fig.update_yaxes(categoryorder="array", categoryarray=rows)
    fig.add_annotation(
        text=f"Δ {METRIC_LABELS.get(metric, metric)}",
        x=0.5,
        y=0.0,
        xref="paper",
        yref="paper",
        yanchor="top",
        yshift=-30,
        showarrow=False,
    )
    fig.update_layout(
        template=TEMPLATE,
        title=title or f"model minus best baseline, {METRIC_LABELS.get(metric, metric)}, 95% CI",
        height=max(320, 18 * len(rows) + 160),
        margin=dict(b=70),
    )
    return fig


def importance_bars(
    frame: pd.DataFrame,
    value: str = "importance_mean",
    error: str | None = None,
    *,
    color: str | None = None,
    top: int | None = None,
    xlabel: str = "drop in score when shuffled",
    title: str | None = None,
) -> go.Figure:
    """Horizontal bars of a feature importance, largest on top.

    Parameters
    ----------
    frame : DataFrame
        Columns ``feature``, ``value`` (and ``error``, ``color`` when given).
    value, error : str
        Bar length and its (symmetric) error bar.
    color : str, optional
        A column whose values become grouped bars (e.g. ``"method"`` or ``"target"``).
    top : int, optional
        Keep the ``top`` features by their mean value over groups.
    xlabel : str
        The x-axis label (what the importance measures).
    title : str, optional
        The figure's title (default ``"feature importance"``).

    Returns
    -------
    plotly.graph_objects.Figure
        One bar per feature (and group), the most important on top.

    Examples
    --------
    >>> f = pd.DataFrame({"feature": ["qi", "spread_bps"], "importance_mean": [0.3, 0.01]})
    >>> list(importance_bars(f).data[0].y)
    ['spread_bps', 'qi']
    """
    order = frame.groupby("feature", sort=False)[value].mean().sort_values(ascending=False)
    feats = list(order.index[:top] if top is not None else order.index)
    f = frame[frame["feature"].isin(feats)]
    groups = _order(f[color]) if color is not None else [None]
    fig = go.Figure()
    for k, g in enumerate(groups):
        fg = f if g is None else f[f[color] == g]
        fg = fg.set_index("feature").reindex(feats[::-1]).dropna(subset=[value])
        fig.add_trace(
            go.Bar(
                x=fg[value],
                y=list(fg.index),
                orientation="h",
                name=str(g) if g is not None else value,
                marker_color=_PALETTE[k % len(_PALETTE)],
                error_x=dict(type="data", array=fg[error]) if error is not None else None,
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        xaxis_title=xlabel,
        yaxis_title="feature",
        title=title or "feature importance",
        height=max(320, 22 * len(feats) * max(1, len(groups)) // 2 + 140),
        showlegend=color is not None,
    )
    return fig


def pnl_per_trade(
    pnl: pd.DataFrame, *, x: str = "segment", color: str = "horizon", title: str | None = None
) -> go.Figure:
    """Mean net P&L per trade (bps) with its CI, and the mean gross P&L (open markers).

    The gap between the two markers is the mean cost per trade. Rows without trades are left
    out.

    Parameters
    ----------
    pnl : DataFrame
        Columns of :class:`lobutils.evaluation.PnLResult` (``mean_net_bps``, ``ci_low``,
        ``ci_high``, ``mean_gross_bps``, ``n_trades``), ``x`` and ``color``.
    x : str
        The column along the x axis.
    color : str
        The column whose values get a colour each (net and gross markers share it).
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        Net (filled, with its interval) and gross (open) markers per ``x`` and colour.

    Examples
    --------
    >>> p = pd.DataFrame({"segment": ["a"], "horizon": ["1s"], "n_trades": [10],
    ...     "mean_net_bps": [-9.0], "ci_low": [-11.0], "ci_high": [-7.0], "mean_gross_bps": [1.0]})
    >>> [tr.name for tr in pnl_per_trade(p).data]
    ['net 1s', 'gross 1s']
    """
    p = pnl[pnl["n_trades"] > 0]
    fig = go.Figure()
    for k, g in enumerate(_order(p[color])):
        pg = p[p[color] == g]
        c = _PALETTE[k % len(_PALETTE)]
        fig.add_trace(
            go.Scatter(
                x=pg[x],
                y=pg["mean_net_bps"],
                error_y=_ci_bars(pg["mean_net_bps"], pg["ci_low"], pg["ci_high"]),
                mode="markers",
                marker=dict(color=c, size=9),
                name=f"net {g}",
                legendgroup=str(g),
            )
        )
        fig.add_trace(
            go.Scatter(
                x=pg[x],
                y=pg["mean_gross_bps"],
                mode="markers",
                marker=dict(color=c, size=9, symbol="circle-open"),
                name=f"gross {g}",
                legendgroup=str(g),
            )
        )
    fig.add_hline(y=0.0, line=dict(color="black", width=1))
    fig.update_layout(
        template=TEMPLATE,
        scattermode="group",
        xaxis_title=x,
        yaxis_title="p&l per trade (bps of notional)",
        title=title or "p&l per trade: net of costs (●, 95% CI) and gross (○)",
        legend_title_text=color,
    )
    return fig


def accuracy_vs_majority(
    frame: pd.DataFrame, *, x: str = "segment", title: str | None = None
) -> go.Figure:
    """Grouped bars: a model's accuracy next to the majority-class share of the same labels.

    Any other numeric columns given (``balanced_accuracy``, ``mcc``) are drawn too, so the
    figure shows how far the accuracy moves once class balance is accounted for.

    Parameters
    ----------
    frame : DataFrame
        Column ``x`` and numeric columns, e.g. ``accuracy``, ``majority_share``,
        ``balanced_accuracy``.
    x : str
        The column along the x axis (the groups of bars).
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace per numeric column, its value printed above each bar.

    Examples
    --------
    >>> f = pd.DataFrame({"segment": ["a"], "accuracy": [0.86], "majority_share": [0.87]})
    >>> [tr.name for tr in accuracy_vs_majority(f).data]
    ['accuracy', 'majority share']
    """
    cols = [c for c in frame.columns if c != x and pd.api.types.is_numeric_dtype(frame[c])]
    fig = go.Figure()
    for k, c in enumerate(cols):
        fig.add_trace(
            go.Bar(
                x=frame[x],
                y=frame[c],
                name=c.replace("_", " "),
                marker_color=_PALETTE[k % len(_PALETTE)],
                text=[f"{v:.2f}" for v in frame[c]],
                textposition="outside",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        xaxis_title=x,
        yaxis_title="score (share of test rows)",
        title=title or "accuracy next to the majority-class share of the same labels",
    )
    return fig
