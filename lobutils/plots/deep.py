"""Figures of the deep-learning chapters (7: DeepLOB, 9: volume forecasting).

Every builder takes plain arrays or tidy frames and returns a
:class:`plotly.graph_objects.Figure` with one idea, lowercase axis labels with units, and no
renderer settings (the chapter runner chooses the renderer). :func:`layer_table` computes what
the architecture figure draws.

Examples
--------
>>> h = pd.DataFrame({"model": ["m"] * 2, "segment": ["a"] * 2, "epoch": [1, 2],
...                   "loss": [1.0, 0.8], "val_loss": [1.1, 1.0]})
>>> fig = learning_curves(h)
>>> [t.name for t in fig.data]
['a', 'a']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lobutils.plots.style import _color, _layout, utc

__all__ = [
    "architecture",
    "forecast_vs_actual",
    "layer_table",
    "learning_curves",
    "metric_by_segment",
    "window_heatmap",
]

_DEEPLOB_GROUPS: tuple[tuple[str, str], ...] = (
    (r"^add_channel$", "input"),
    (r"^conv1", "conv block 1: (1,2) stride 2, price with size"),
    (r"^conv2", "conv block 2: (1,2) stride 2, bid with ask"),
    (r"^conv3", "conv block 3: (1,L) across levels"),
    (r"^inc|^inception$", "inception module: 1x1+3x1, 1x1+5x1, pool+1x1"),
    (r"^to_sequence$|^channel_dropout$", "to a sequence (time x channels)"),
    (r"^tcn|^last", "causal dilated tcn (1,2,4,8)"),
    (r"^lstm_short$", "short-horizon lstm"),
    (
        r"^lstm_long$|^query$|^cross_attention$|^attended$|^gated_fusion$|^hierarchy$",
        "long lstm, cross-attention, gate",
    ),
    (r"^lstm$", "lstm"),
    (r"^conv\d|^pool|^gap$|^dropout$", "convolutions over time"),
)


def _deeplob_group(name: str) -> str:
    for pattern, label in _DEEPLOB_GROUPS:
        if re.search(pattern, name):
            return label
    return name


def layer_table(model, group: Callable[[str], str] | None = None) -> pd.DataFrame:
    """Layers of a Keras model grouped into blocks: output shape and parameters per block.

    Parameters
    ----------
    model : keras.Model
        A built model.
    group : callable, optional
        Layer name -> block name; default knows the layer names of
        :mod:`lobutils.models.deeplob`. Layers of one block must be consecutive.

    Returns
    -------
    pandas.DataFrame
        ``block``, ``layers``, ``output`` (the last layer's output shape, batch axis dropped)
        and ``params``, in model order; the input first.

    Examples
    --------
    >>> from lobutils.models.deeplob import build_deeplob
    >>> t = layer_table(build_deeplob())
    >>> t[["block", "params"]].iloc[[1, 4, -1]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['conv block 1: (1,2) stride 2, price with size', 8352],
     ['inception module: 1x1+3x1, 1x1+5x1, pool+1x1', 39232], ['out', 195]]
    >>> int(t["params"].sum())
    142435
    """
    g = group or _deeplob_group
    rows: list[dict] = []
    for lay in model.layers:
        if lay.__class__.__name__ == "InputLayer":
            shape = tuple(lay.output.shape[1:])
            rows.append({"block": "input", "layers": 1, "output": shape, "params": 0})
            continue
        name = g(lay.name)
        out = lay.output
        if isinstance(out, list | tuple):
            out = out[0]
        shape = tuple(out.shape[1:])
        if rows and rows[-1]["block"] == name:
            rows[-1]["layers"] += 1
            rows[-1]["output"] = shape
            rows[-1]["params"] += lay.count_params()
        else:
            rows.append({"block": name, "layers": 1, "output": shape, "params": lay.count_params()})
    return pd.DataFrame(rows)


def architecture(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """The blocks of a model as a vertical flow: one box per block, its output shape and
    parameter count beside it, the box width growing with the parameters.

    Parameters
    ----------
    table : DataFrame
        From :func:`layer_table`.
    title : str, optional
        Figure title (default: the total parameter count).

    Returns
    -------
    plotly.graph_objects.Figure
        One box per block, top to bottom in the order of ``table``.

    Examples
    --------
    >>> t = pd.DataFrame({"block": ["input", "lstm"], "layers": [1, 1],
    ...                   "output": [(10, 4), (8,)], "params": [0, 416]})
    >>> len(architecture(t).layout.shapes)
    2
    """
    n = len(table)
    fig = go.Figure()
    pmax = max(float(table["params"].max()), 1.0)
    total = int(table["params"].sum())
    for i, r in enumerate(table.itertuples()):
        y = n - 1 - i
        w = 0.25 + 0.75 * np.sqrt(r.params / pmax)
        fig.add_shape(
            type="rect",
            x0=-w,
            x1=w,
            y0=y - 0.35,
            y1=y + 0.35,
            line={"color": _color(i)},
            fillcolor=_color(i),
            opacity=0.35,
        )
        shape = " x ".join(str(s) for s in r.output)
        fig.add_annotation(x=0, y=y, text=r.block, showarrow=False, font={"size": 12})
        fig.add_annotation(
            x=1.05,
            y=y,
            text=f"out {shape} · {int(r.params):,} params",
            showarrow=False,
            xanchor="left",
            font={"size": 11},
        )
        if i:
            fig.add_annotation(
                x=0, y=y + 0.35, ax=0, ay=y + 0.65, xref="x", yref="y", axref="x", ayref="y",
                text="", showarrow=True, arrowhead=2,
            )  # fmt: skip
    fig.update_xaxes(visible=False, range=[-1.1, 2.6])
    fig.update_yaxes(visible=False, range=[-0.6, n - 0.4])
    _layout(
        fig,
        title or f"layers, top to bottom ({total:,} parameters)",
        None,
        None,
        height=70 * n + 80,
    )
    return fig


def window_heatmap(
    window: np.ndarray, columns: Sequence[str], step_s: float, title: str | None = None
) -> go.Figure:
    """One normalised input window: time steps down, book columns across, colour the z-score.

    Parameters
    ----------
    window : numpy.ndarray
        ``(T, F)``: one window, normalised (:class:`lobutils.models.windows.WindowDataset`).
    columns : sequence of str
        Names of the ``F`` columns.
    step_s : float
        Seconds between rows (the grid step); the y axis is the time before the target row.
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        A heatmap on a symmetric colour scale around zero.

    Examples
    --------
    >>> fig = window_heatmap(np.zeros((3, 2)), ["ask_px_1", "ask_qty_1"], step_s=0.1)
    >>> fig.data[0].z.shape, list(fig.data[0].x)
    ((3, 2), ['ask_px_1', 'ask_qty_1'])
    """
    w = np.asarray(window, dtype=float)
    T = w.shape[0]
    lag = (np.arange(T) - (T - 1)) * float(step_s)
    lim = float(np.nanmax(np.abs(w))) if w.size else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=w,
            x=list(columns),
            y=lag,
            colorscale="RdBu_r",
            zmin=-lim,
            zmax=lim,
            colorbar={"title": "z"},
        )
    )
    return _layout(fig, title, "book column", "time before the target row (s)")


def learning_curves(
    history: pd.DataFrame,
    *,
    facet: str = "model",
    color: str = "segment",
    title: str | None = None,
) -> go.Figure:
    """Training (dashed) and validation (solid) loss per epoch; a panel per model.

    Parameters
    ----------
    history : DataFrame
        Columns ``epoch``, ``loss``, ``val_loss`` (optional), ``facet`` and ``color``.
    facet : str
        Column whose values get a panel each.
    color : str
        Column whose values get a colour each.
    title : str, optional
        Figure title (default: what the line styles mean).

    Returns
    -------
    plotly.graph_objects.Figure
        Loss against epoch, one panel per ``facet`` value.
    """
    panels = list(dict.fromkeys(history[facet]))
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[str(p) for p in panels])
    colors = {c: _color(i) for i, c in enumerate(dict.fromkeys(history[color]))}
    shown: set = set()
    for j, p in enumerate(panels):
        for c, g in history[history[facet] == p].groupby(color, sort=False):
            g = g.sort_values("epoch")
            legend = c not in shown
            shown.add(c)
            fig.add_trace(
                go.Scatter(
                    x=g["epoch"], y=g["loss"], name=str(c), legendgroup=str(c),
                    line={"color": colors[c], "dash": "dash"}, showlegend=False,
                    hovertemplate=f"{c} train: %{{y:.4f}}<extra></extra>",
                ),
                row=1, col=j + 1,
            )  # fmt: skip
            if "val_loss" in g and g["val_loss"].notna().any():
                fig.add_trace(
                    go.Scatter(
                        x=g["epoch"], y=g["val_loss"], name=str(c), legendgroup=str(c),
                        line={"color": colors[c]}, showlegend=legend,
                        hovertemplate=f"{c} validation: %{{y:.4f}}<extra></extra>",
                    ),
                    row=1, col=j + 1,
                )  # fmt: skip
    fig.update_xaxes(title_text="epoch", dtick=1)
    fig.update_yaxes(title_text="loss", col=1)
    return _layout(
        fig, title or "learning curves: validation (solid) and training (dashed) loss", None, None
    )


def metric_by_segment(
    frame: pd.DataFrame,
    *,
    x: str = "segment",
    color: str = "model",
    reference: float | None = None,
    ylabel: str = "metric",
    title: str | None = None,
) -> go.Figure:
    """A metric with its CI per segment, one colour per model (e.g. per-symbol vs pooled).

    Parameters
    ----------
    frame : DataFrame
        Columns ``x``, ``color``, ``value``, ``ci_low``, ``ci_high``.
    x : str
        Column on the x axis.
    color : str
        Column whose values get a colour (a trace) each.
    reference : float, optional
        A horizontal line (chance level).
    ylabel : str
        Label of the y axis (the metric, with its unit).
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        Markers with their interval as error bars, grouped per x value.

    Examples
    --------
    >>> f = pd.DataFrame({"segment": ["a", "a"], "model": ["own", "pooled"], "value": [0.4, 0.3],
    ...                   "ci_low": [0.3, 0.2], "ci_high": [0.5, 0.4]})
    >>> [t.name for t in metric_by_segment(f, reference=1 / 3).data]
    ['own', 'pooled']
    """
    fig = go.Figure()
    names = list(dict.fromkeys(frame[color]))
    k = len(names)
    for i, nm in enumerate(names):
        g = frame[frame[color] == nm]
        fig.add_trace(
            go.Scatter(
                x=g[x], y=g["value"], mode="markers", name=str(nm),
                marker={"color": _color(i), "size": 9},
                error_y={"type": "data", "symmetric": False,
                         "array": g["ci_high"] - g["value"], "arrayminus": g["value"] - g["ci_low"]},
                offsetgroup=str(i),
            )
        )  # fmt: skip
    if reference is not None:
        fig.add_hline(y=reference, line_dash="dot", line_color="grey")
    fig.update_layout(scattermode="group", scattergap=0.5 if k > 1 else 0.0)
    return _layout(fig, title, x, ylabel)


def forecast_vs_actual(
    ts: np.ndarray,
    actual: np.ndarray,
    forecasts: Mapping[str, np.ndarray],
    *,
    ylabel: str = "value",
    title: str | None = None,
) -> go.Figure:
    """The actual series (black) and each forecast (a colour) over the test period.

    Parameters
    ----------
    ts : numpy.ndarray of int64
        Times (ns since the epoch, UTC).
    actual : array-like
        The realised values, one per time.
    forecasts : mapping of str to array-like
        Name to its forecast at each time.
    ylabel : str
        Label of the y axis (with its unit).
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        One line per series against UTC time.

    Examples
    --------
    >>> s = 1_000_000_000
    >>> fig = forecast_vs_actual(np.arange(3) * s, [1.0, 2.0, 3.0], {"naive": [1.0, 1.0, 2.0]})
    >>> [t.name for t in fig.data]
    ['actual', 'naive']
    """
    t = utc(ts)
    fig = go.Figure(
        go.Scatter(x=t, y=np.asarray(actual), name="actual", line={"color": "black", "width": 1.5})
    )
    for i, (nm, f) in enumerate(forecasts.items()):
        fig.add_trace(
            go.Scatter(x=t, y=np.asarray(f), name=str(nm), line={"color": _color(i), "width": 1})
        )
    return _layout(fig, title, "time (utc)", ylabel)
