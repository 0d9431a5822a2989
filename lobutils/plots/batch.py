"""Figures of the batch chapter: results across markets, horizons and models, and the runs.

Every builder takes a tidy frame and returns a :class:`plotly.graph_objects.Figure` with one
idea, lowercase axis labels, and no renderer settings (the chapter runner chooses the
renderer). The frames are those of :mod:`lobutils.runner.batch` (the runs table) and of chapter 6
gathered over a batch (:func:`lobutils.runner.batch.collect_tables` of ``results.parquet``: one row
per run, segment, model and metric, with ``value``, ``ci_low``, ``ci_high``), or of
:func:`lobutils.models.crossmarket.compare_pooled`.

Examples
--------
A synthetic results table: two markets, one model, one horizon.

>>> t = pd.DataFrame({"segment": ["spot_btcusdt", "usdm_btcusdt"], "market": ["spot", "usdm"],
...     "symbol": ["btcusdt", "btcusdt"], "model": ["linear"] * 2, "role": ["model"] * 2,
...     "horizon": ["1s"] * 2, "horizon_value": [1, 1], "metric": ["r2_oos"] * 2,
...     "value": [0.2, 0.1], "ci_low": [0.1, 0.0], "ci_high": [0.3, 0.2],
...     "beats_baseline": [True, False]})
>>> fig = metric_by_market(t, "r2_oos")
>>> [tr.name for tr in fig.data], list(fig.data[0].x)
(['linear'], ['spot_btcusdt', 'usdm_btcusdt'])
>>> [tr.name for tr in spot_vs_perpetual(t, "r2_oos").data]
['linear']
>>> asset_of("btcusd_perp"), asset_of("ethusdt"), market_kind("cm")
('btc', 'eth', 'perpetual (coin-m)')
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lobutils.plots.style import METRIC_LABELS as _METRIC_LABELS
from lobutils.plots.style import TEMPLATE

__all__ = [
    "METRIC_LABELS",
    "asset_of",
    "market_kind",
    "metric_by_market",
    "pooled_vs_own",
    "run_times",
    "spot_vs_perpetual",
    "wins_heatmap",
]

METRIC_LABELS = {**_METRIC_LABELS, "r2": "r²"}
"""Axis label of each metric (:data:`lobutils.plots.style.METRIC_LABELS`, with a shorter r²)."""

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2")
_MARKETS = ("spot", "usdm", "cm")
_KIND = {"spot": "spot", "usdm": "perpetual (usd-m)", "cm": "perpetual (coin-m)"}
_QUOTE = re.compile(r"(usdt|usdc|busd|usd_perp|usd|_perp)$")


def asset_of(symbol: str) -> str:
    """The base asset of a symbol: ``btcusdt``, ``btcusd_perp``, ``BTC-USDT`` -> ``btc``.

    Parameters
    ----------
    symbol : str
        A symbol in any case, with or without ``-`` or ``/``.

    Returns
    -------
    str
        The lowercase symbol without its quote asset (``usdt``, ``usdc``, ``busd``, ``usd``,
        ``_perp``).

    Examples
    --------
    >>> [asset_of(s) for s in ("btcusdt", "ethusd_perp", "solusdc", "xrp")]
    ['btc', 'eth', 'sol', 'xrp']
    """
    s = str(symbol).lower().replace("-", "").replace("/", "")
    return _QUOTE.sub("", s) or s


def market_kind(market: str) -> str:
    """``spot``, ``perpetual (usd-m)`` or ``perpetual (coin-m)`` for a Binance market name.

    Parameters
    ----------
    market : str
        ``"spot"``, ``"usdm"`` or ``"cm"``.

    Returns
    -------
    str
        The kind of market; an unknown name is returned as it is.

    Examples
    --------
    >>> market_kind("usdm")
    'perpetual (usd-m)'
    """
    return _KIND.get(str(market), str(market))


def _color(i: int) -> str:
    return _PALETTE[i % len(_PALETTE)]


def _horizons(table: pd.DataFrame) -> list:
    if "horizon_value" in table.columns:
        order = table.drop_duplicates("horizon").sort_values("horizon_value")["horizon"]
        return list(order)
    return list(dict.fromkeys(table["horizon"]))


def _segments(table: pd.DataFrame) -> list:
    # spot, usd-m, coin-m; then by symbol
    seg = table.drop_duplicates("segment")
    if "market" in seg.columns:
        rank = seg["market"].map({m: i for i, m in enumerate(_MARKETS)}).fillna(len(_MARKETS))
        seg = seg.assign(_r=rank.to_numpy()).sort_values(["_r", "segment"], kind="stable")
    return list(seg["segment"])


def _models(table: pd.DataFrame) -> list:
    return list(dict.fromkeys(table["model"]))


def _select(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    t = table[table["metric"] == metric]
    if "role" in t.columns:
        t = t[t["role"] == "model"]
    if t.empty:
        raise ValueError(f"no model rows with metric {metric!r}")
    return t


def _layout(fig: go.Figure, title: str | None, height: int = 420, **kw) -> go.Figure:
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        height=height,
        legend={"orientation": "h", "yanchor": "top", "y": -70 / height},
        margin={"t": 70, "b": 90},
        **kw,
    )
    return fig


def _floor(metric: str, floor: float | str | None) -> float | None:
    if floor == "auto":
        return -1.0 if metric in ("r2", "r2_oos") else None
    return None if floor is None else float(floor)


def _points(
    fig: go.Figure,
    t: pd.DataFrame,
    x: str,
    order: Sequence,
    models: Sequence,
    row: int,
    col: int,
    first: bool,
    floor: float | None = None,
) -> None:
    """One marker with its CI per (x, model); values below ``floor`` drawn at it as ▼."""
    n = len(models)
    for i, m in enumerate(models):
        tm = t[t["model"] == m].set_index(x).reindex(order)
        v, lo, hi = (tm[c].to_numpy(float) for c in ("value", "ci_low", "ci_high"))
        shown, lo_s, hi_s = v.copy(), lo.copy(), hi.copy()
        below = np.zeros(len(v), dtype=bool)
        if floor is not None:
            below = v < floor
            shown = np.maximum(v, floor)
            lo_s, hi_s = np.maximum(lo, floor), np.maximum(hi, floor)
        offset = (i - (n - 1) / 2) * 0.8 / max(n, 1)
        xs = np.arange(len(order)) + offset
        text = [
            f"{m}<br>{o}: {a:.3f} [{b:.3f}, {c:.3f}]" + (" (below the axis)" if d else "")
            for o, a, b, c, d in zip(order, v, lo, hi, below, strict=True)
        ]
        fig.add_trace(
            go.Scatter(
                x=list(order) if n == 1 else xs,
                y=shown,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": hi_s - shown,
                    "arrayminus": shown - lo_s,
                    "thickness": 1.2,
                    "width": 3,
                },
                mode="markers",
                marker={
                    "color": _color(i),
                    "size": 8,
                    "symbol": np.where(below, "triangle-down", "circle").tolist(),
                },
                name=str(m),
                legendgroup=str(m),
                showlegend=first,
                text=text,
                hovertemplate="%{text}<extra></extra>",
            ),
            row=row,
            col=col,
        )
    if n > 1:
        fig.update_xaxes(
            tickmode="array",
            tickvals=list(range(len(order))),
            ticktext=list(order),
            row=row,
            col=col,
        )
    if floor is not None:
        top = np.nanmax(t["ci_high"].to_numpy(float)) if len(t) else 0.0
        top = max(top if np.isfinite(top) else 0.0, 0.0)
        low = np.nanmin(t["ci_low"].to_numpy(float)) if len(t) else floor
        low = max(low if np.isfinite(low) else floor, floor)
        pad = 0.05 * max(top - low, 0.1)
        fig.update_yaxes(range=[low - pad, top + pad], row=row, col=col)


def metric_by_market(
    table: pd.DataFrame,
    metric: str = "r2_oos",
    *,
    floor: float | str | None = "auto",
    title: str | None = None,
) -> go.Figure:
    """A metric with its confidence interval for every market, model and horizon.

    One row of panels per horizon; markets on the x axis (spot, USD-M, COIN-M), one colour
    per model, a dashed line at zero.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``segment, model, horizon, metric, value, ci_low, ci_high`` (and optionally
        ``role``, ``market``, ``horizon_value``).
    metric : str
        The metric to draw (``r2_oos``, ``accuracy``, ...).
    floor : float, "auto" or None
        The axis stops here; values below it are drawn at it as ▼ (their hover text has the
        value). ``"auto"``: -1 for r² metrics (a forecast far worse than none), else None.
    title : str, optional
        Figure title (default: one naming the metric).

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per horizon.

    Raises
    ------
    ValueError
        When ``table`` has no model rows with ``metric``.
    """
    t = _select(table, metric)
    horizons, order, models = _horizons(t), _segments(t), _models(t)
    low = _floor(metric, floor)
    fig = make_subplots(
        rows=len(horizons),
        cols=1,
        shared_xaxes=True,
        subplot_titles=[f"horizon {h}" for h in horizons],
        vertical_spacing=0.12 / max(len(horizons), 1) + 0.03,
    )
    for j, h in enumerate(horizons, start=1):
        _points(fig, t[t["horizon"] == h], "segment", order, models, j, 1, j == 1, low)
        fig.add_hline(y=0, line={"dash": "dash", "color": "#888", "width": 1}, row=j, col=1)
        fig.update_yaxes(title_text=METRIC_LABELS.get(metric, metric), row=j, col=1)
    note = f" (▼: below {low:g})" if low is not None else ""
    return _layout(
        fig,
        title or f"{METRIC_LABELS.get(metric, metric)} by market, 95% ci{note}",
        140 + 240 * len(horizons),
    )


def spot_vs_perpetual(
    table: pd.DataFrame,
    metric: str = "r2_oos",
    *,
    horizon: str | None = None,
    floor: float | str | None = "auto",
    title: str | None = None,
) -> go.Figure:
    """The same asset on spot and on perpetual futures: one panel per asset.

    Parameters
    ----------
    table : pandas.DataFrame
        As for :func:`metric_by_market`, with ``market`` and ``symbol``.
    metric : str
        The metric to draw.
    horizon : str, optional
        One horizon (default: every horizon, as separate rows of panels).
    floor : float, "auto" or None
        As for :func:`metric_by_market`.
    title : str, optional
        Figure title (default: one naming the metric).

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per asset (and horizon), spot and perpetual side by side.
    """
    t = _select(table, metric).copy()
    if horizon is not None:
        t = t[t["horizon"] == horizon]
    t["asset"] = t["symbol"].map(asset_of)
    t["kind"] = t["market"].map(market_kind)
    assets = sorted(t["asset"].unique())
    horizons = _horizons(t)
    kinds = [market_kind(m) for m in _MARKETS if (t["market"] == m).any()]
    kinds += [k for k in dict.fromkeys(t["kind"]) if k not in kinds]
    models = _models(t)
    low = _floor(metric, floor)
    fig = make_subplots(
        rows=len(horizons),
        cols=len(assets),
        shared_yaxes=low is None,
        subplot_titles=[f"{a}, horizon {h}" for h in horizons for a in assets],
        vertical_spacing=0.12 if len(horizons) > 1 else 0.0,
        horizontal_spacing=0.05,
    )
    for i, h in enumerate(horizons, start=1):
        for j, a in enumerate(assets, start=1):
            sub = t[(t["asset"] == a) & (t["horizon"] == h)]
            _points(fig, sub, "kind", kinds, models, i, j, i == 1 and j == 1, low)
            fig.add_hline(y=0, line={"dash": "dash", "color": "#888", "width": 1}, row=i, col=j)
        fig.update_yaxes(title_text=METRIC_LABELS.get(metric, metric), row=i, col=1)
    return _layout(
        fig,
        title or f"spot against perpetual futures: {METRIC_LABELS.get(metric, metric)}, 95% ci",
        300 + 220 * len(horizons),
    )


def pooled_vs_own(diffs: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Pooled minus per-market score for every market and model, with its paired 95% CI.

    Right of zero: the pooled model scores higher (better for r²_oos and correlations).

    Parameters
    ----------
    diffs : pandas.DataFrame
        :attr:`lobutils.models.crossmarket.PooledComparison.diffs`: ``segment, model, horizon,
        metric, diff, ci_low, ci_high`` (and ``market``).
    title : str, optional
        Figure title (default: one naming the metric).

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per horizon, markets on the y axis.

    Examples
    --------
    >>> d = pd.DataFrame({"segment": ["a", "b"], "model": ["linear"] * 2, "horizon": ["1s"] * 2,
    ...                   "metric": ["r2_oos"] * 2, "diff": [0.1, -0.05],
    ...                   "ci_low": [0.0, -0.1], "ci_high": [0.2, 0.0]})
    >>> list(pooled_vs_own(d).data[0].y)
    ['a', 'b']
    """
    t = diffs.rename(columns={"diff": "value"})
    metric = str(t["metric"].iloc[0]) if "metric" in t.columns and len(t) else "score"
    horizons, order, models = _horizons(t), _segments(t), _models(t)
    fig = make_subplots(
        rows=1,
        cols=len(horizons),
        shared_yaxes=True,
        subplot_titles=[f"horizon {h}" for h in horizons],
        horizontal_spacing=0.04,
    )
    n = len(models)
    for j, h in enumerate(horizons, start=1):
        th = t[t["horizon"] == h]
        for i, m in enumerate(models):
            tm = th[th["model"] == m].set_index("segment").reindex(order)
            offset = (i - (n - 1) / 2) * 0.6 / max(n, 1)
            fig.add_trace(
                go.Scatter(
                    x=tm["value"],
                    y=list(order) if n == 1 else np.arange(len(order)) + offset,
                    error_x={
                        "type": "data",
                        "symmetric": False,
                        "array": tm["ci_high"] - tm["value"],
                        "arrayminus": tm["value"] - tm["ci_low"],
                        "thickness": 1.2,
                        "width": 3,
                    },
                    mode="markers",
                    marker={"color": _color(i), "size": 8},
                    name=str(m),
                    legendgroup=str(m),
                    showlegend=j == 1,
                    customdata=np.array(order, dtype=object),
                    hovertemplate=f"{m}<br>%{{customdata}}: %{{x:.3f}}<extra></extra>",
                ),
                row=1,
                col=j,
            )
        fig.add_vline(x=0, line={"dash": "dash", "color": "#888", "width": 1}, row=1, col=j)
        fig.update_xaxes(title_text=f"pooled − own, {metric}", row=1, col=j)
    if n > 1:
        fig.update_yaxes(tickmode="array", tickvals=list(range(len(order))), ticktext=order)
    fig.update_yaxes(autorange="reversed")
    return _layout(
        fig,
        title or f"pooled minus per-market training: {metric}, paired 95% ci",
        120 + 50 * len(order),
    )


def wins_heatmap(
    table: pd.DataFrame,
    metric: str = "r2_oos",
    *,
    title: str | None = None,
) -> go.Figure:
    """How many models beat their best baseline beyond the CI, per market and horizon.

    Parameters
    ----------
    table : pandas.DataFrame
        As for :func:`metric_by_market`, with ``beats_baseline``.
    metric : str
        The metric whose comparisons are counted.
    title : str, optional
        Figure title (default: one naming the metric).

    Returns
    -------
    plotly.graph_objects.Figure
        A heatmap of markets by horizons: the models that beat their best baseline.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["a", "a", "b"], "model": ["m1", "m2", "m1"],
    ...     "horizon": ["1s"] * 3, "metric": ["r2_oos"] * 3, "beats_baseline": [True, False, True]})
    >>> wins_heatmap(t).data[0].z.tolist()
    [[1.0], [1.0]]
    """
    t = _select(table, metric)
    horizons, order = _horizons(t), _segments(t)
    beats = t["beats_baseline"].astype("boolean").fillna(False).astype(bool)
    wins = t.assign(_b=beats.to_numpy()).pivot_table(
        index="segment", columns="horizon", values="_b", aggfunc="sum"
    )
    total = t.pivot_table(index="segment", columns="horizon", values="model", aggfunc="count")
    wins = wins.reindex(index=order, columns=horizons)
    total = total.reindex(index=order, columns=horizons)
    text = [
        [f"{int(w)} of {int(n)}" if np.isfinite(n) else "" for w, n in zip(rw, rn, strict=True)]
        for rw, rn in zip(wins.to_numpy(float), total.to_numpy(float), strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=wins.to_numpy(float),
            x=[str(h) for h in horizons],
            y=order,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            colorbar={"title": "models"},
            hovertemplate="%{y}, %{x}: %{text} beat the baseline<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="horizon")
    fig.update_yaxes(autorange="reversed")
    return _layout(
        fig,
        title or f"models that beat their best baseline beyond the 95% ci ({metric})",
        120 + 45 * len(order),
    )


def run_times(
    runs: pd.DataFrame, *, label: str | Sequence[str] | None = None, title: str | None = None
) -> go.Figure:
    """Seconds per run of a batch, coloured by status (``ok``, ``cached``, ``failed``).

    Parameters
    ----------
    runs : pandas.DataFrame
        :attr:`lobutils.runner.batch.BatchResult.runs`: ``params_hash, status, seconds`` and the
        parameter columns.
    label : str or sequence of str, optional
        Parameter columns that name a run on the axis (default: the params hash).
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar per run, one trace per status.

    Examples
    --------
    >>> r = pd.DataFrame({"params_hash": ["a1", "b2"], "N": [1, 2], "status": ["ok", "failed"],
    ...                   "seconds": [3.0, 1.5]})
    >>> [tr.name for tr in run_times(r, label="N").data]
    ['ok', 'failed']
    """
    cols = [label] if isinstance(label, str) else list(label or [])
    names = (
        runs[cols].astype(str).agg(" · ".join, axis=1) if cols else runs["params_hash"].astype(str)
    )
    colors = {"ok": "#2ca02c", "cached": "#9e9e9e", "failed": "#d62728"}
    fig = go.Figure()
    for status in dict.fromkeys(runs["status"]):
        m = (runs["status"] == status).to_numpy()
        fig.add_trace(
            go.Bar(
                x=runs["seconds"].to_numpy(float)[m],
                y=names.to_numpy()[m],
                orientation="h",
                name=str(status),
                marker_color=colors.get(status, "#1f77b4"),
            )
        )
    fig.update_xaxes(title_text="seconds (the run's own execution, cached: when it ran)")
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, title or "batch runs: execution time and status", 160 + 18 * len(runs))
