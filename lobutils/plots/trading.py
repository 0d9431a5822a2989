"""Figures of the trading chapter: equity curves, P&L distributions, costs, schedules, frontier.

Every builder takes a tidy frame (or arrays) from :mod:`lobutils.trading.backtest` or
:mod:`lobutils.trading.execution` and returns a :class:`plotly.graph_objects.Figure` with one idea,
lowercase axis labels with units, and no renderer settings (the chapter runner chooses the
renderer).

Examples
--------
Synthetic equity curves of one segment:

>>> eq = pd.DataFrame({"segment": "a", "strategy": ["model"] * 2 + ["random"] * 2,
...     "seed": [-1, -1, 0, 0], "t_s": [0.0, 1.0] * 2, "equity_bps": [0.0, -5.0, 0.0, -3.0]})
>>> fig = equity_curves(eq)
>>> sorted({tr.name for tr in fig.data})
['model', 'random']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lobutils.plots.style import TEMPLATE

__all__ = [
    "STRATEGY_COLORS",
    "cost_breakdown",
    "equity_curves",
    "frontier",
    "impact_curves",
    "pnl_distribution",
    "random_distribution",
    "schedules",
]

STRATEGY_COLORS = {
    "model": "#1f77b4",
    "holding": "#2ca02c",
    "perfect_foresight": "#9467bd",
    "random": "#bbbbbb",
    "maker": "#ff7f0e",
    "twap": "#1f77b4",
    "vwap": "#2ca02c",
    "predictive": "#d62728",
}
"""Colour of each strategy (AC schedules get shades of purple)."""

_AC_SHADES = ("#c7b3e5", "#a585d6", "#8257c4", "#5e2fa8", "#3d1a78", "#24104a")
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")


def _color(name: str, i: int = 0) -> str:
    if name in STRATEGY_COLORS:
        return STRATEGY_COLORS[name]
    if name.startswith("ac_"):
        return _AC_SHADES[i % len(_AC_SHADES)]
    return _PALETTE[i % len(_PALETTE)]


def _facet_grid(
    panels: Sequence, titled: bool = True
) -> tuple[go.Figure, list[tuple[int, int]], int]:
    """Subplots for ``panels``, two per row: the figure, each panel's ``(row, col)``, the rows."""
    cols = min(2, max(len(panels), 1))
    rows = math.ceil(max(len(panels), 1) / cols)
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=[str(p) for p in panels] if titled else None
    )
    return fig, [(k // cols + 1, k % cols + 1) for k in range(len(panels))], rows


def _finish_grid(
    fig: go.Figure,
    rows: int,
    title: str | None,
    xlabel: str,
    ylabel: str,
    row_height: int = 280,
    **layout,
) -> go.Figure:
    """Label the bottom row's x axes and the first column's y axes; size the figure by rows."""
    fig.update_xaxes(title_text=xlabel, row=rows)
    fig.update_yaxes(title_text=ylabel, col=1)
    fig.update_layout(template=TEMPLATE, title=title, height=row_height * rows + 80, **layout)
    return fig


def equity_curves(
    equity: pd.DataFrame,
    *,
    facet: str = "segment",
    title: str | None = None,
    ylabel: str = "p&l (bps of capital)",
) -> go.Figure:
    """Equity curves marked to the mid, one panel per ``facet`` value.

    Parameters
    ----------
    equity : DataFrame
        Columns ``facet``, ``strategy``, ``seed`` (random runs; -1 otherwise), ``t_s``
        (seconds since the first decision) and ``equity_bps``. Random runs are thin grey lines
        (one per seed, the distribution of luck); the others are coloured.
    facet : str
        The column whose values get a panel each.
    title : str, optional
        The figure's title.
    ylabel : str
        The y-axis label, with its unit.

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per ``facet`` value, time in seconds along the x axis.

    Examples
    --------
    >>> eq = pd.DataFrame({"segment": ["a", "a"], "strategy": "model", "seed": -1,
    ...                    "t_s": [0.0, 1.0], "equity_bps": [0.0, 2.0]})
    >>> [tr.name for tr in equity_curves(eq).data]
    ['model']
    """
    panels = list(dict.fromkeys(equity[facet]))
    fig, places, rows = _facet_grid(panels)
    shown: set[str] = set()
    order = ["random"] + [s for s in dict.fromkeys(equity["strategy"]) if s != "random"]
    for p, (r, c) in zip(panels, places, strict=True):
        ep = equity[equity[facet] == p]
        for s in order:
            es = ep[ep["strategy"] == s]
            for seed, g in es.groupby("seed", sort=False):
                fig.add_trace(
                    go.Scatter(
                        x=g["t_s"],
                        y=g["equity_bps"],
                        mode="lines",
                        line=dict(
                            color=_color(s),
                            width=0.7 if s == "random" else 2,
                            shape="hv",
                        ),
                        opacity=0.6 if s == "random" else 1.0,
                        name=s,
                        legendgroup=s,
                        showlegend=s not in shown,
                        hovertemplate=f"{s}{'' if seed < 0 else f' seed {seed}'}: %{{y:.1f}}<extra></extra>",
                    ),
                    row=r,
                    col=c,
                )
                shown.add(s)
    return _finish_grid(fig, rows, title, "time since the first decision (s)", ylabel)


def pnl_distribution(
    trips: pd.DataFrame,
    *,
    value: str = "net_bps",
    group: str = "strategy",
    title: str | None = None,
    xlabel: str = "net p&l per round trip (bps of notional)",
) -> go.Figure:
    """Distribution of the P&L per round trip, one box per ``group`` (points shown).

    Parameters
    ----------
    trips : DataFrame
        One row per round trip, with columns ``value`` and ``group``.
    value : str
        The column drawn (bps of notional).
    group : str
        The column whose values get a box each.
    title : str, optional
        The figure's title.
    xlabel : str
        The value axis label, with its unit.

    Returns
    -------
    plotly.graph_objects.Figure
        One box per group, every trip shown as a point.

    Examples
    --------
    >>> t = pd.DataFrame({"strategy": ["model"] * 3 + ["random"] * 3,
    ...                   "net_bps": [-10.0, -12.0, 3.0, -9.0, -11.0, -10.0]})
    >>> [tr.name for tr in pnl_distribution(t).data]
    ['model', 'random']
    """
    fig = go.Figure()
    for i, g in enumerate(dict.fromkeys(trips[group])):
        v = trips.loc[trips[group] == g, value]
        fig.add_trace(
            go.Box(
                x=v,
                name=str(g),
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker=dict(color=_color(str(g), i), size=4),
                line=dict(color=_color(str(g), i)),
                orientation="h",
            )
        )
    fig.add_vline(x=0.0, line=dict(color="black", width=1))
    fig.update_layout(template=TEMPLATE, title=title, xaxis_title=xlabel, showlegend=False)
    return fig


def random_distribution(
    table: pd.DataFrame,
    *,
    metric: str = "pnl_bps",
    facet: str = "segment",
    title: str | None = None,
    xlabel: str = "net p&l (bps of capital)",
) -> go.Figure:
    """The random-signal runs' ``metric`` as a histogram per panel, with the model, holding
    and perfect foresight as vertical lines.

    Parameters
    ----------
    table : DataFrame
        One row per run: columns ``facet``, ``strategy`` (``"random"`` for the histogram;
        ``"model"``, ``"holding"``, ``"perfect_foresight"`` and ``"maker"`` drawn as lines
        when present) and ``metric``.
    metric : str
        The column drawn.
    facet : str
        The column whose values get a panel each.
    title : str, optional
        The figure's title.
    xlabel : str
        The x-axis label, with its unit.

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per ``facet`` value: a histogram of the random runs and a vertical line
        per benchmark.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": "a", "strategy": ["model", "random", "random"],
    ...                   "pnl_bps": [-5.0, -8.0, -2.0]})
    >>> len(random_distribution(t).data)
    2
    """
    panels = list(dict.fromkeys(table[facet]))
    fig, places, rows = _facet_grid(panels)
    shown: set[str] = set()
    for p, (r, c) in zip(panels, places, strict=True):
        tp = table[table[facet] == p]
        rnd = tp.loc[tp["strategy"] == "random", metric]
        fig.add_trace(
            go.Histogram(
                x=rnd,
                marker=dict(color=_color("random")),
                name="random",
                legendgroup="random",
                showlegend="random" not in shown,
                nbinsx=20,
            ),
            row=r,
            col=c,
        )
        shown.add("random")
        for s in ("model", "holding", "perfect_foresight", "maker"):
            v = tp.loc[tp["strategy"] == s, metric]
            if v.empty:
                continue
            fig.add_trace(
                go.Scatter(
                    x=[float(v.iloc[0])] * 2,
                    y=[0, max(len(rnd), 1) / 4],
                    mode="lines",
                    line=dict(color=_color(s), width=3),
                    name=s,
                    legendgroup=s,
                    showlegend=s not in shown,
                ),
                row=r,
                col=c,
            )
            shown.add(s)
    return _finish_grid(fig, rows, title, xlabel, "random runs", row_height=260, barmode="overlay")


def cost_breakdown(
    table: pd.DataFrame,
    *,
    x: str = "segment",
    title: str | None = None,
    ylabel: str = "bps of capital",
) -> go.Figure:
    """Gross P&L against its costs: stacked bars of half-spread, depth slippage and fees
    (negative), the gross P&L (a marker) and the net P&L (a diamond), per ``x``.

    Parameters
    ----------
    table : DataFrame
        Columns ``x``, ``gross_bps``, ``spread_bps``, ``depth_bps``, ``fees_bps`` and
        ``net_bps`` (all in the same unit, costs positive).
    x : str
        The column along the x axis.
    title : str, optional
        The figure's title.
    ylabel : str
        The y-axis label, with the unit of the columns.

    Returns
    -------
    plotly.graph_objects.Figure
        Stacked cost bars below zero, gross and net P&L as markers, per ``x``.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["a"], "gross_bps": [5.0], "spread_bps": [1.0],
    ...                   "depth_bps": [0.5], "fees_bps": [20.0], "net_bps": [-16.5]})
    >>> [tr.name for tr in cost_breakdown(t).data]
    ['half-spread', 'depth slippage', 'fees', 'gross p&l', 'net p&l']
    """
    fig = go.Figure()
    for col, name, color in (
        ("spread_bps", "half-spread", "#ff9896"),
        ("depth_bps", "depth slippage", "#d62728"),
        ("fees_bps", "fees", "#7f7f7f"),
    ):
        fig.add_trace(go.Bar(x=table[x], y=-table[col], name=name, marker_color=color))
    fig.add_trace(
        go.Scatter(
            x=table[x],
            y=table["gross_bps"],
            mode="markers",
            marker=dict(color="#1f77b4", size=12, symbol="circle"),
            name="gross p&l",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=table[x],
            y=table["net_bps"],
            mode="markers",
            marker=dict(color="black", size=12, symbol="diamond"),
            name="net p&l",
        )
    )
    fig.add_hline(y=0.0, line=dict(color="black", width=1))
    fig.update_layout(
        template=TEMPLATE, title=title, barmode="relative", yaxis_title=ylabel, xaxis_title=x
    )
    return fig


def schedules(
    holdings: Mapping[str, Sequence[float]],
    horizon_s: float,
    *,
    title: str | None = None,
    ylabel: str = "inventory left (share of X)",
) -> go.Figure:
    """Inventory left over time for each schedule (``x_0 = 1, ..., x_n = 0``), as steps.

    Parameters
    ----------
    holdings : mapping of str to sequence of float
        Per schedule name, the inventory left at each of the ``n + 1`` equally spaced
        decision times, as a share of the order (``ac_*`` names share the Almgren-Chriss
        colours).
    horizon_s : float
        The liquidation horizon in seconds (the last decision time).
    title : str, optional
        The figure's title.
    ylabel : str
        The y-axis label.

    Returns
    -------
    plotly.graph_objects.Figure
        One line per schedule, time in seconds along the x axis.

    Examples
    --------
    >>> fig = schedules({"twap": [1.0, 0.5, 0.0], "ac_0.001": [1.0, 0.2, 0.0]}, 60.0)
    >>> [tr.name for tr in fig.data], fig.data[0].x.tolist()
    (['twap', 'ac_0.001'], [0.0, 30.0, 60.0])
    """
    fig = go.Figure()
    ac = 0
    for name, x in holdings.items():
        x = np.asarray(x, dtype=np.float64)
        t = np.linspace(0.0, float(horizon_s), x.size)
        i = ac if name.startswith("ac_") else 0
        ac += name.startswith("ac_")
        fig.add_trace(
            go.Scatter(
                x=t,
                y=x,
                mode="lines+markers",
                line=dict(color=_color(name, i), shape="linear", width=2),
                name=name,
            )
        )
    fig.update_layout(
        template=TEMPLATE, title=title, xaxis_title="time since the start (s)", yaxis_title=ylabel
    )
    return fig


def frontier(
    points: pd.DataFrame,
    *,
    facet: str | None = "segment",
    theory: pd.DataFrame | None = None,
    title: str | None = None,
) -> go.Figure:
    """Mean against standard deviation of the implementation shortfall, one point per strategy.

    Parameters
    ----------
    points : DataFrame
        Columns ``strategy``, ``mean_bps``, ``std_bps`` (:func:`lobutils.trading.execution.frontier_table`),
        and ``facet`` (one panel each) unless it is None.
    theory : DataFrame, optional
        The AC model's frontier per panel (columns ``facet``, ``std_bps``, ``mean_bps``), drawn
        as a dashed line.
    facet : str or None
        The column whose values get a panel each; None draws one panel.
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        Standard deviation along the x axis, mean along the y axis (bps), one marker per
        strategy.

    Examples
    --------
    >>> p = pd.DataFrame({"segment": "a", "strategy": ["twap", "ac_0.001"],
    ...                   "mean_bps": [1.0, 1.5], "std_bps": [5.0, 2.0]})
    >>> [tr.name for tr in frontier(p).data]
    ['twap', 'ac_0.001']
    """
    panels = list(dict.fromkeys(points[facet])) if facet else [None]
    fig, places, rows = _facet_grid(panels, titled=bool(facet))
    shown: set[str] = set()
    for p, (r, c) in zip(panels, places, strict=True):
        pp = points if p is None else points[points[facet] == p]
        ac = 0
        for s in dict.fromkeys(pp["strategy"]):
            row = pp[pp["strategy"] == s]
            i = ac if s.startswith("ac_") else 0
            ac += s.startswith("ac_")
            fig.add_trace(
                go.Scatter(
                    x=row["std_bps"],
                    y=row["mean_bps"],
                    mode="markers",
                    marker=dict(
                        color=_color(s, i),
                        size=11,
                        symbol="diamond" if s.startswith("ac_") else "circle",
                    ),
                    name=s,
                    legendgroup=s,
                    showlegend=s not in shown,
                ),
                row=r,
                col=c,
            )
            shown.add(s)
        if theory is not None:
            th = theory if p is None else theory[theory[facet] == p]
            if len(th):
                fig.add_trace(
                    go.Scatter(
                        x=th["std_bps"],
                        y=th["mean_bps"],
                        mode="lines",
                        line=dict(color="#5e2fa8", dash="dash", width=1),
                        name="ac model",
                        legendgroup="ac model",
                        showlegend="ac model" not in shown,
                    ),
                    row=r,
                    col=c,
                )
                shown.add("ac model")
    return _finish_grid(fig, rows, title, "std of shortfall (bps)", "mean shortfall (bps)")


def impact_curves(
    curves: pd.DataFrame,
    *,
    color: str = "segment",
    title: str | None = None,
    xlabel: str = "slice size (share of X)",
    ylabel: str = "median cost per unit (bps of mid)",
) -> go.Figure:
    """The cost per unit of walking the book for a slice, against the slice size.

    Parameters
    ----------
    curves : DataFrame
        Columns ``color``, ``size`` and ``cost_bps`` (and optionally ``fit_bps``, the linear
        fit, drawn dashed).
    color : str
        The column whose values get a curve (and colour) each.
    title : str, optional
        The figure's title.
    xlabel, ylabel : str
        The axis labels, with their units.

    Returns
    -------
    plotly.graph_objects.Figure
        One curve per ``color`` value.

    Examples
    --------
    >>> c = pd.DataFrame({"segment": "a", "size": [0.5, 1.0], "cost_bps": [0.1, 0.4]})
    >>> [tr.name for tr in impact_curves(c).data]
    ['a']
    """
    fig = go.Figure()
    for i, g in enumerate(dict.fromkeys(curves[color])):
        cg = curves[curves[color] == g]
        col = _PALETTE[i % len(_PALETTE)]
        fig.add_trace(
            go.Scatter(
                x=cg["size"],
                y=cg["cost_bps"],
                mode="lines+markers",
                name=str(g),
                line=dict(color=col),
            )
        )
        if "fit_bps" in cg:
            fig.add_trace(
                go.Scatter(
                    x=cg["size"],
                    y=cg["fit_bps"],
                    mode="lines",
                    line=dict(color=col, dash="dash", width=1),
                    name=f"{g} (linear fit)",
                    showlegend=False,
                )
            )
    fig.update_layout(template=TEMPLATE, title=title, xaxis_title=xlabel, yaxis_title=ylabel)
    return fig
