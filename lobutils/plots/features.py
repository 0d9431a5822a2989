"""Figures of chapters 3 to 5: features, targets and stationarity.

Every builder takes plain arrays or a tidy frame and returns a :class:`plotly.graph_objects.Figure`
with one idea, lowercase axis labels with units, and no renderer settings (the chapter runner
chooses the renderer). Two small helpers compute what the binned-return figure shows:
:func:`quantile_bins` and :func:`binned_means`.

Times are int64 nanoseconds (exchange time) and are drawn as UTC date-times; returns and
price distances are in basis points (bps).

Examples
--------
>>> s = 1_000_000_000
>>> fig = features_over_time(np.arange(3) * s, [100.0, 100.5, 100.2], {"qi": [0.1, -0.2, 0.0]})
>>> [t.name for t in fig.data]
['mid', 'qi']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lobutils.plots.style import BPS, TEMPLATE, utc

__all__ = [
    "VERDICT_COLORS",
    "binned_means",
    "binned_returns",
    "box_stats",
    "class_balance",
    "correlation_matrix",
    "features_over_time",
    "insufficient_depth",
    "known_share",
    "pooled_binned",
    "quantile_bins",
    "rejection_rates",
    "return_distributions",
    "skill",
    "train_test_cut",
    "vamp_cutoffs",
    "verdict_heatmap",
]


VERDICT_COLORS: Mapping[str, str] = {
    "stationary": "#1b9e77",
    "trend-stationary": "#66a61e",
    "unit root": "#d95f02",
    "conflicting": "#7570b3",
    "inconclusive": "#bdbdbd",
    "not tested": "#ffffff",
}
"""Colour of each combined ADF/KPSS verdict of :func:`lobutils.features.stationarity.stationarity_table`."""


def _1d(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


# --------------------------------------------------------------------------------------
# binning
# --------------------------------------------------------------------------------------


def quantile_bins(x, n_bins: int = 10) -> np.ndarray:
    """Equal-count bins of x by rank: code ``0..n_bins-1``, -1 where x is not finite.

    A value's bin is ``floor((rank - 1/2) / n * n_bins)``, with ``n`` finite values and
    average ranks for ties, so equal values always share a bin (bins are then uneven) and
    distinct values fill the bins equally. Only x decides the bins.

    Parameters
    ----------
    x : array_like, shape (N,)
        The values to bin.
    n_bins : int
        Number of bins, e.g. 10 for deciles.

    Returns
    -------
    numpy.ndarray of int64, shape (N,)
        Bin code per value, -1 where it is not finite.

    Examples
    --------
    >>> quantile_bins([5.0, 1.0, 3.0, np.nan, 2.0, 4.0, 6.0], n_bins=3).tolist()
    [2, 0, 1, -1, 0, 1, 2]
    >>> quantile_bins([1.0, 1.0, 1.0, 2.0], n_bins=2).tolist()  # ties stay together
    [0, 0, 0, 1]
    """
    a = _1d(x, "x")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    out = np.full(a.size, -1, dtype=np.int64)
    ok = np.isfinite(a)
    n = int(ok.sum())
    if n == 0:
        return out
    ranks = pd.Series(a[ok]).rank(method="average").to_numpy()
    out[ok] = np.clip(np.floor((ranks - 0.5) / n * n_bins), 0, n_bins - 1).astype(np.int64)
    return out


def binned_means(
    x, y, n_bins: int = 10, *, groups=None, z: float = 1.96, se_scale: float = 1.0
) -> pd.DataFrame:
    """Mean of y in equal-count bins of x, with a normal confidence band.

    Rows where x or y is not finite are dropped first. With ``groups`` (e.g. the market of
    each row) the bins are formed within each group and then pooled, so decile 1 holds the
    lowest tenth of x *of every market*.

    The band is ``mean +/- z * se`` with ``se = se_scale * std(y, ddof=1) / sqrt(n)``. With
    ``se_scale=1`` that standard error assumes independent rows. Forward returns over
    overlapping horizons are autocorrelated, and the plain band is then too narrow: for
    h-step returns sampled every step, neighbours share h-1 of their h increments, and for
    a random walk the variance of their mean is about h times the independent-rows value.
    Pass ``se_scale=sqrt(h)`` for that correction, or thin the rows to non-overlapping
    horizons.

    Parameters
    ----------
    x, y : array_like, shape (N,)
        The feature (it alone decides the bins) and the outcome, e.g. a forward return.
    n_bins : int
        Number of bins.
    groups : array_like, shape (N,), optional
        Group label per row; bins are computed within each group.
    z : float
        Multiplier of the standard error (1.96 for a 95 % normal band).
    se_scale : float
        Factor on the independent-rows standard error (see above).

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``bin`` (1-based), ``n``, ``x_mean``, ``x_min``, ``x_max``,
        ``y_mean``, ``y_se``, ``y_lo``, ``y_hi``.

    Examples
    --------
    >>> t = binned_means([1.0, 2.0, 3.0, 4.0], [0.0, 2.0, 10.0, 20.0], n_bins=2)
    >>> t[["bin", "n", "x_mean", "y_mean", "y_se"]].to_dict("records")
    [{'bin': 1, 'n': 2, 'x_mean': 1.5, 'y_mean': 1.0, 'y_se': 1.0}, {'bin': 2, 'n': 2, 'x_mean': 3.5, 'y_mean': 15.0, 'y_se': 5.0}]
    """
    xa, ya = _1d(x, "x"), _1d(y, "y")
    if xa.size != ya.size:
        raise ValueError(f"x has {xa.size} rows, y has {ya.size}")
    ok = np.isfinite(xa) & np.isfinite(ya)
    if groups is None:
        g = np.zeros(xa.size, dtype=np.int64)
    else:
        g = pd.factorize(np.asarray(groups))[0]
        if g.size != xa.size:
            raise ValueError(f"groups has {g.size} rows, x has {xa.size}")
    codes = np.full(xa.size, -1, dtype=np.int64)
    for k in np.unique(g[ok]):
        rows = ok & (g == k)
        codes[rows] = quantile_bins(xa[rows], n_bins)
    keep = codes >= 0
    frame = pd.DataFrame({"bin": codes[keep] + 1, "x": xa[keep], "y": ya[keep]})
    table = frame.groupby("bin").agg(
        n=("y", "size"),
        x_mean=("x", "mean"),
        x_min=("x", "min"),
        x_max=("x", "max"),
        y_mean=("y", "mean"),
        y_std=("y", "std"),
    )
    table["y_se"] = se_scale * table.pop("y_std") / np.sqrt(table["n"])
    table["y_lo"] = table["y_mean"] - z * table["y_se"]
    table["y_hi"] = table["y_mean"] + z * table["y_se"]
    return table.reset_index()


# --------------------------------------------------------------------------------------
# chapter 3: features
# --------------------------------------------------------------------------------------


def features_over_time(
    ts, mid, features: Mapping[str, Sequence[float]], *, title: str | None = None
) -> go.Figure:
    """The mid price on top and each feature in its own panel below, on one time axis.

    Each value is drawn at its own timestamp: nothing is shifted or smoothed.

    Parameters
    ----------
    ts : array_like of int64 ns, shape (N,)
        Times (ns since the epoch, UTC).
    mid : array_like, shape (N,)
        Mid price (quote currency) at each time.
    features : mapping of str to array_like (N,)
        Panel label (lowercase, with units, e.g. ``"spread (bps)"``) to values.
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        The mid and one panel per feature, sharing the time axis (UTC).

    Examples
    --------
    >>> fig = features_over_time([0, 10**9], [1.0, 2.0], {"a": [0.0, 1.0], "b": [1.0, 0.0]})
    >>> len(fig.data), fig.layout.yaxis.title.text
    (3, 'mid (quote)')
    """
    t = utc(ts)
    m = _1d(mid, "mid")
    if m.size != t.size:
        raise ValueError(f"mid has {m.size} rows, ts has {t.size}")
    n_rows = 1 + len(features)
    fig = make_subplots(
        rows=n_rows, cols=1, shared_xaxes=True, vertical_spacing=0.03, row_heights=None
    )
    fig.add_trace(go.Scatter(x=t, y=m, name="mid", line={"width": 1}), row=1, col=1)
    fig.update_yaxes(title_text="mid (quote)", row=1, col=1)
    for i, (label, values) in enumerate(features.items(), start=2):
        v = _1d(values, label)
        if v.size != t.size:
            raise ValueError(f"feature {label!r} has {v.size} rows, ts has {t.size}")
        fig.add_trace(go.Scatter(x=t, y=v, name=label, line={"width": 1}), row=i, col=1)
        fig.update_yaxes(title_text=label, row=i, col=1)
    fig.update_xaxes(title_text="time (utc)", row=n_rows, col=1)
    fig.update_layout(template=TEMPLATE, title=title, showlegend=False, height=170 * n_rows + 80)
    return fig


def vamp_cutoffs(
    ts, mid, vamps: Mapping[float, Sequence[float]], *, title: str | None = None
) -> go.Figure:
    """VAMP at several cutoffs, as its distance from the mid in bps, one panel per cutoff.

    ``1e4 * (VAMP / mid - 1)``: above zero, filling the cutoff costs more on the ask side than
    on the bid side. The panels share both axes, so the swings compare directly. Gaps in a
    line are the times when a side lacked the depth for that cutoff (VAMP is NaN there, never
    extrapolated).

    Parameters
    ----------
    ts : array_like of int64 ns, shape (N,)
        Times (ns since the epoch, UTC).
    mid : array_like, shape (N,)
        Mid price (quote currency) at each time.
    vamps : mapping of float to array_like (N,)
        Cutoff in quote currency to VAMP values; panels go from the smallest cutoff down.
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per cutoff: VAMP minus mid (bps) against time.

    Examples
    --------
    >>> fig = vamp_cutoffs([0, 10**9], [100.0, 100.0], {1e4: [100.01, np.nan], 5e3: [100.0] * 2})
    >>> [tr.name for tr in fig.data], np.round(fig.data[1].y, 6).tolist()
    (['5,000', '10,000'], [1.0, nan])
    """
    t = utc(ts)
    m = _1d(mid, "mid")
    items = sorted(vamps.items())
    fig = make_subplots(
        rows=len(items),
        cols=1,
        shared_xaxes=True,
        shared_yaxes="all",
        vertical_spacing=0.04,
        subplot_titles=[f"cutoff {c:,.0f}" for c, _ in items],
    )
    for i, (cutoff, values) in enumerate(items, start=1):
        v = _1d(values, f"vamps[{cutoff}]")
        if v.size != t.size or m.size != t.size:
            raise ValueError("ts, mid and every VAMP series need the same length")
        fig.add_trace(
            go.Scatter(
                x=t, y=BPS * (v / m - 1.0), name=f"{cutoff:,.0f}", mode="lines", line={"width": 1}
            ),
            row=i,
            col=1,
        )
        fig.add_hline(y=0.0, line={"color": "grey", "width": 1, "dash": "dot"}, row=i, col=1)
    fig.update_yaxes(title_text="vamp − mid (bps)")
    fig.update_xaxes(title_text="time (utc)", row=len(items), col=1)
    fig.update_layout(
        template=TEMPLATE, title=title, showlegend=False, height=140 * len(items) + 120
    )
    return fig


def insufficient_depth(table: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Share of book states whose visible depth cannot fill the VAMP cutoff, per market.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``segment``, ``cutoff`` (quote currency) and ``share`` (0..1).
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        The share (%) against the cutoff (log scale), one line per market.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["a", "a"], "cutoff": [1e4, 1e5], "share": [0.0, 0.5]})
    >>> insufficient_depth(t).data[0].y.tolist()
    [0.0, 50.0]
    """
    fig = go.Figure()
    for name, part in table.groupby("segment", sort=False):
        part = part.sort_values("cutoff")
        fig.add_trace(
            go.Scatter(
                x=part["cutoff"].to_numpy(),
                y=100.0 * part["share"].to_numpy(),
                name=str(name),
                mode="lines+markers",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        xaxis={"title": "vamp cutoff (quote, log scale)", "type": "log"},
        yaxis={"title": "states without enough depth (%)", "range": [-2, 102]},
    )
    return fig


def binned_returns(
    table: pd.DataFrame,
    *,
    feature_label: str,
    return_label: str = "mean forward return (bps)",
    facet: str = "horizon_s",
    title: str | None = None,
) -> go.Figure:
    """Mean forward return per bin of a feature, with its confidence band, one panel per horizon.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`binned_means` output for several horizons, stacked, with a ``facet`` column.
    feature_label : str
        x-axis label, e.g. ``"mid − vamp (bps)"``; the x position is the bin's mean feature.
    return_label : str
        y-axis label.
    facet : str
        Column that splits the panels (default ``"horizon_s"``).
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per ``facet`` value: the bin means and their band.

    Examples
    --------
    >>> t = binned_means([1.0, 2.0, 3.0, 4.0], [0.0, 2.0, 10.0, 20.0], n_bins=2)
    >>> t["horizon_s"] = 10
    >>> fig = binned_returns(t, feature_label="x")
    >>> [tr.name for tr in fig.data]
    ['band', 'mean']
    """
    keys = list(dict.fromkeys(table[facet].tolist()))
    fig = make_subplots(
        rows=1,
        cols=len(keys),
        subplot_titles=[
            f"{facet.removesuffix('_s')} {k} s" if facet.endswith("_s") else str(k) for k in keys
        ],
        horizontal_spacing=0.07,
    )
    for j, key in enumerate(keys, start=1):
        part = table[table[facet] == key].sort_values("x_mean")
        x = part["x_mean"].to_numpy()
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([x, x[::-1]]),
                y=np.concatenate([part["y_hi"].to_numpy(), part["y_lo"].to_numpy()[::-1]]),
                fill="toself",
                fillcolor="rgba(31, 119, 180, 0.2)",
                line={"width": 0},
                hoverinfo="skip",
                name="band",
                showlegend=j == 1,
            ),
            row=1,
            col=j,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=part["y_mean"].to_numpy(),
                mode="lines+markers",
                line={"color": "rgb(31, 119, 180)"},
                name="mean",
                showlegend=j == 1,
                customdata=part[["n", "bin"]].to_numpy(),
                hovertemplate="bin %{customdata[1]}, n=%{customdata[0]}<br>x=%{x:.3g}"
                "<br>mean=%{y:.3g}<extra></extra>",
            ),
            row=1,
            col=j,
        )
        fig.add_hline(y=0.0, line={"color": "grey", "width": 1, "dash": "dot"}, row=1, col=j)
        fig.update_xaxes(title_text=feature_label, row=1, col=j)
    fig.update_yaxes(title_text=return_label, row=1, col=1)
    fig.update_layout(template=TEMPLATE, title=title, height=420)
    return fig


def correlation_matrix(corr: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """A correlation matrix as a heatmap on a fixed −1..1 diverging scale, values printed.

    Parameters
    ----------
    corr : pandas.DataFrame
        A square correlation matrix, the same labels on both axes.
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        A heatmap with each value printed in its cell.

    Examples
    --------
    >>> c = pd.DataFrame([[1.0, -0.5], [-0.5, 1.0]], index=["a", "b"], columns=["a", "b"])
    >>> fig = correlation_matrix(c)
    >>> fig.data[0].zmin, fig.data[0].zmax
    (-1.0, 1.0)
    """
    z = corr.to_numpy(dtype=np.float64)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[str(c) for c in corr.columns],
            y=[str(i) for i in corr.index],
            zmin=-1.0,
            zmax=1.0,
            colorscale="RdBu",
            reversescale=False,
            text=np.round(z, 2),
            texttemplate="%{text}",
            colorbar={"title": "corr"},
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        yaxis={"autorange": "reversed"},
        height=120 + 45 * len(corr),
    )
    return fig


# --------------------------------------------------------------------------------------
# chapter 4: targets
# --------------------------------------------------------------------------------------


def box_stats(values) -> dict[str, float]:
    """Box-plot statistics of the finite values: quartiles, and Tukey's whiskers.

    The whiskers reach the most extreme values within 1.5 interquartile ranges of the box.

    Parameters
    ----------
    values : array_like
        The values; NaN and infinities are dropped.

    Returns
    -------
    dict of str to float
        ``n``, ``q1``, ``median``, ``q3``, ``lowerfence`` and ``upperfence`` (Plotly's names for
        a precomputed box).

    Examples
    --------
    >>> box_stats([1.0, 2.0, 3.0, 4.0, 100.0, np.nan])
    {'n': 5, 'q1': 2.0, 'median': 3.0, 'q3': 4.0, 'lowerfence': 1.0, 'upperfence': 4.0}
    """
    a = _1d(values, "values")
    a = a[np.isfinite(a)]
    if a.size == 0:
        nan = float("nan")
        return {"n": 0, "q1": nan, "median": nan, "q3": nan, "lowerfence": nan, "upperfence": nan}
    q1, med, q3 = (float(q) for q in np.quantile(a, [0.25, 0.5, 0.75]))
    iqr = q3 - q1
    return {
        "n": int(a.size),
        "q1": q1,
        "median": med,
        "q3": q3,
        "lowerfence": float(a[a >= q1 - 1.5 * iqr].min()),
        "upperfence": float(a[a <= q3 + 1.5 * iqr].max()),
    }


def return_distributions(returns: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Box plots of forward returns per horizon, one colour per market.

    The boxes are drawn from precomputed statistics (:func:`box_stats`), so the figure stays
    small however many returns there are: box from the first to the third quartile, a line at
    the median, whiskers to the most extreme return within 1.5 box lengths; no outlier points.

    Parameters
    ----------
    returns : pandas.DataFrame
        Long format: ``segment``, ``horizon`` (a label such as ``"10 s"``), ``return_bps``.
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        One box per horizon and market, markets side by side.

    Examples
    --------
    >>> r = pd.DataFrame({"segment": ["a"] * 4, "horizon": ["1 s"] * 4,
    ...                   "return_bps": [0.0, 1.0, -1.0, 0.5]})
    >>> fig = return_distributions(r)
    >>> fig.data[0].name, fig.data[0].median
    ('a', (0.25,))
    """
    fig = go.Figure()
    for name, part in returns.groupby("segment", sort=False):
        horizons = list(dict.fromkeys(part["horizon"].tolist()))
        stats = [box_stats(part.loc[part["horizon"] == h, "return_bps"]) for h in horizons]
        fig.add_trace(
            go.Box(
                x=horizons,
                q1=[st["q1"] for st in stats],
                median=[st["median"] for st in stats],
                q3=[st["q3"] for st in stats],
                lowerfence=[st["lowerfence"] for st in stats],
                upperfence=[st["upperfence"] for st in stats],
                name=str(name),
                boxpoints=False,
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        boxmode="group",
        xaxis_title="horizon",
        yaxis_title="forward return (bps)",
        legend_title_text="market",
    )
    return fig


def train_test_cut(
    ts, mid, cut_ts: int, purge_from_ts: int | None = None, *, title: str | None = None
) -> go.Figure:
    """The mid price with the chronological split drawn on it: train, purge gap, test.

    Training rows are those before ``purge_from_ts`` (their horizon ends before the cut);
    rows from ``purge_from_ts`` to ``cut_ts`` are purged (their target would reach into the
    test period); test rows start at ``cut_ts``.

    Parameters
    ----------
    ts : array_like of int64 ns
        Times (ns since the epoch, UTC).
    mid : array_like
        Mid price (quote currency) at each time.
    cut_ts : int
        First time of the test period (ns).
    purge_from_ts : int, optional
        First purged time (ns); default: no purge gap.
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        The mid against time (UTC), the train, purged and test spans shaded.

    Examples
    --------
    >>> s = 10**9
    >>> fig = train_test_cut(np.arange(10) * s, np.ones(10), cut_ts=7 * s, purge_from_ts=6 * s)
    >>> [r.name for r in fig.layout.shapes]
    ['train', 'purged', 'test']
    """
    t = np.asarray(ts, dtype=np.int64)
    m = _1d(mid, "mid")
    start = int(t[0])
    end = int(t[-1])
    purge = int(cut_ts) if purge_from_ts is None else int(purge_from_ts)
    if not start <= purge <= int(cut_ts) <= end:
        raise ValueError("need ts[0] <= purge_from_ts <= cut_ts <= ts[-1]")
    fig = go.Figure(go.Scatter(x=utc(t), y=m, name="mid", line={"width": 1}))
    regions = [
        ("train", start, purge, "rgba(31, 119, 180, 0.12)"),
        ("purged", purge, int(cut_ts), "rgba(127, 127, 127, 0.35)"),
        ("test", int(cut_ts), end, "rgba(255, 127, 14, 0.15)"),
    ]
    for name, lo, hi, color in regions:
        x0, x1 = utc([lo, hi])
        fig.add_vrect(
            x0=x0,
            x1=x1,
            fillcolor=color,
            line_width=0,
            layer="below",
            name=name,
            annotation_text=name if hi > lo else None,
            annotation_position="top left",
        )
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        xaxis_title="time (utc)",
        yaxis_title="mid (quote)",
        showlegend=False,
    )
    return fig


def class_balance(table: pd.DataFrame, *, max_cols: int = 2, title: str | None = None) -> go.Figure:
    """Stacked class shares per market, one panel per label type.

    The panels wrap onto rows of at most ``max_cols``, so that each panel's title fits above
    it (five panels in one row made the titles run into each other).

    Parameters
    ----------
    table : pandas.DataFrame
        Long format: ``labels`` (label type), ``segment``, ``class``, ``share`` (0..1, of the
        valid rows).
    max_cols : int, default 2
        Panels per row.
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        One stacked bar per market in each panel, in percent of the labelled rows.

    Examples
    --------
    >>> t = pd.DataFrame({"labels": ["b", "b"], "segment": ["m", "m"],
    ...                   "class": ["down", "up"], "share": [0.4, 0.6]})
    >>> [tr.name for tr in class_balance(t).data]
    ['down', 'up']
    """
    kinds = list(dict.fromkeys(table["labels"].tolist()))
    classes = list(dict.fromkeys(table["class"].tolist()))
    palette = {
        "down": "#d62728",
        "not up": "#ff9896",
        "flat": "#c7c7c7",
        "up": "#2ca02c",
    }
    n_cols = min(len(kinds), max_cols)
    n_rows = -(-len(kinds) // n_cols)
    fig = make_subplots(
        rows=n_rows,
        cols=n_cols,
        subplot_titles=kinds,
        shared_yaxes=True,
        horizontal_spacing=0.06,
        vertical_spacing=0.5 / n_rows if n_rows > 1 else 0.0,
    )
    for j, kind in enumerate(kinds):
        part = table[table["labels"] == kind]
        for cls in classes:
            rows = part[part["class"] == cls]
            if rows.empty:
                continue
            fig.add_trace(
                go.Bar(
                    x=rows["segment"].to_numpy(),
                    y=100.0 * rows["share"].to_numpy(),
                    name=cls,
                    marker_color=palette.get(cls),
                    legendgroup=cls,
                    showlegend=cls not in {tr.name for tr in fig.data},
                ),
                row=j // n_cols + 1,
                col=j % n_cols + 1,
            )
    for r in range(1, n_rows + 1):
        fig.update_yaxes(title_text="share (%)", row=r, col=1)
    fig.update_layout(template=TEMPLATE, title=title, barmode="stack", height=120 + 280 * n_rows)
    return fig


def known_share(
    table: pd.DataFrame, theory: pd.DataFrame | None = None, *, title: str | None = None
) -> go.Figure:
    """Share of a smoothed target's variance already known at t, against the horizon.

    Parameters
    ----------
    table : pandas.DataFrame
        ``segment``, ``horizon_s``, ``share`` (0..1): measured on each market.
    theory : pandas.DataFrame, optional
        ``horizon_s``, ``share``: the same quantity for a reference process (a random walk),
        drawn as a line.
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        The share (%) against the horizon (s), one colour per market.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["a"], "horizon_s": [1], "share": [0.64]})
    >>> known_share(t).data[0].y.tolist()
    [64.0]
    """
    fig = go.Figure()
    if theory is not None:
        th = theory.sort_values("horizon_s")
        fig.add_trace(
            go.Scatter(
                x=th["horizon_s"].to_numpy(),
                y=100.0 * th["share"].to_numpy(),
                name="random walk",
                mode="lines",
                line={"color": "black", "dash": "dash"},
            )
        )
    for name, part in table.groupby("segment", sort=False):
        part = part.sort_values("horizon_s")
        fig.add_trace(
            go.Scatter(
                x=part["horizon_s"].to_numpy(),
                y=100.0 * part["share"].to_numpy(),
                name=str(name),
                mode="markers",
                marker={"size": 9},
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        xaxis={"title": "horizon (s, log scale)", "type": "log"},
        yaxis={"title": "variance known at t (%)", "range": [0, 100]},
    )
    return fig


def skill(table: pd.DataFrame, *, floor: float = -1.0, title: str | None = None) -> go.Figure:
    """Out-of-sample R² per market and target, with block-bootstrap intervals, a panel per horizon.

    R² has no lower bound, and one bad market would squash the others; estimates and interval
    ends below ``floor`` are drawn at ``floor``, estimates as downward triangles (the hover text
    keeps the true values).

    Parameters
    ----------
    table : pandas.DataFrame
        ``segment``, ``horizon_s``, ``target`` (what was predicted and scored),
        ``r2_oos``, ``ci_low``, ``ci_high``.
    floor : float
        Lowest value drawn (default -1).
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per horizon: R² with its interval per market and target.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["a", "b"], "horizon_s": [1, 1], "target": ["raw"] * 2,
    ...                   "r2_oos": [0.0, -3.0], "ci_low": [-0.1, -5.0], "ci_high": [0.1, -2.0]})
    >>> tr = skill(t).data[0]
    >>> tr.y.tolist(), tr.marker.symbol, tr.error_y.array.tolist()
    ([0.0, -1.0], ('circle', 'triangle-down'), [0.1, 0.0])
    """
    horizons = list(dict.fromkeys(table["horizon_s"].tolist()))
    targets = list(dict.fromkeys(table["target"].tolist()))
    colors = ["#d62728", "#1f77b4", "#7f7f7f", "#2ca02c", "#9467bd"]
    fig = make_subplots(
        rows=1,
        cols=len(horizons),
        subplot_titles=[f"horizon {h} s" for h in horizons],
        shared_yaxes=True,
        horizontal_spacing=0.04,
    )
    for j, h in enumerate(horizons, start=1):
        part = table[table["horizon_s"] == h]
        for k, target in enumerate(targets):
            rows = part[part["target"] == target]
            est = rows["r2_oos"].to_numpy(dtype=np.float64)
            lo = np.maximum(rows["ci_low"].to_numpy(dtype=np.float64), floor)
            hi = np.maximum(rows["ci_high"].to_numpy(dtype=np.float64), floor)
            y = np.maximum(est, floor)
            fig.add_trace(
                go.Scatter(
                    x=rows["segment"].to_numpy(),
                    y=y,
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": hi - y,
                        "arrayminus": y - lo,
                    },
                    mode="markers",
                    marker={
                        "color": colors[k % len(colors)],
                        "size": 9,
                        "symbol": tuple(np.where(est < floor, "triangle-down", "circle")),
                    },
                    customdata=rows[["r2_oos", "ci_low", "ci_high"]].to_numpy(),
                    hovertemplate="%{x}: r² %{customdata[0]:.3f} "
                    "[%{customdata[1]:.3f}, %{customdata[2]:.3f}]<extra></extra>",
                    name=target,
                    legendgroup=target,
                    offsetgroup=target,
                    showlegend=j == 1,
                ),
                row=1,
                col=j,
            )
        fig.add_hline(y=0.0, line={"color": "grey", "width": 1}, row=1, col=j)
    fig.update_yaxes(range=[floor - 0.05, 1.0])
    fig.update_yaxes(title_text="out-of-sample r² vs zero forecast", row=1, col=1)
    fig.update_xaxes(tickangle=45)
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        height=560,
        scattermode="group",
        legend={"orientation": "h", "y": -0.3, "x": 0.0},
        margin={"b": 140},
    )
    return fig


# --------------------------------------------------------------------------------------
# chapter 5: stationarity
# --------------------------------------------------------------------------------------


def verdict_heatmap(table: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Combined ADF/KPSS verdicts: series (rows) by market (columns), one panel per transform.

    Parameters
    ----------
    table : pandas.DataFrame
        Stacked :func:`lobutils.features.stationarity.stationarity_table` outputs with an added
        ``segment`` column (one row per series, transform and test; the ``combined`` verdict
        repeats on the two test rows).
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap per transform, a colour per verdict.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["m", "m"], "series": ["x", "x"],
    ...                   "transform": ["level", "level"], "test": ["ADF", "KPSS"],
    ...                   "combined": ["unit root", "unit root"]})
    >>> fig = verdict_heatmap(t)
    >>> fig.data[0].z.tolist(), fig.data[0].text.tolist()
    ([[2.0]], [['unit root']])
    """
    cats = list(VERDICT_COLORS)
    code = {c: i for i, c in enumerate(cats)}
    k = len(cats)
    scale = []
    for i, c in enumerate(cats):
        scale += [[i / k, VERDICT_COLORS[c]], [(i + 1) / k, VERDICT_COLORS[c]]]
    one = table.drop_duplicates(["segment", "series", "transform"])
    transforms = list(dict.fromkeys(one["transform"].tolist()))
    segments = list(dict.fromkeys(one["segment"].tolist()))
    series = list(dict.fromkeys(one["series"].tolist()))
    fig = make_subplots(rows=1, cols=len(transforms), subplot_titles=transforms, shared_yaxes=True)
    for j, tr in enumerate(transforms, start=1):
        grid = (
            one[one["transform"] == tr]
            .pivot(index="series", columns="segment", values="combined")
            .reindex(index=series, columns=segments)
        )
        text = grid.astype(object).where(grid.notna(), "").to_numpy(dtype=object)
        z = np.vectorize(lambda v: float(code[v]) if v in code else np.nan, otypes=[float])(text)
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=segments,
                y=series,
                text=text,
                zmin=-0.5,
                zmax=k - 0.5,
                colorscale=scale,
                showscale=False,
                xgap=2,
                ygap=2,
                hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
            ),
            row=1,
            col=j,
        )
    for c in cats:
        if (one["combined"] == c).any():
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    marker={
                        "color": VERDICT_COLORS[c],
                        "size": 12,
                        "symbol": "square",
                        "line": {"color": "#999", "width": 1},
                    },
                    name=c,
                )
            )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=45)
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        height=160 + 32 * len(series),
        legend={"orientation": "h", "y": -0.35},
        plot_bgcolor="#f0f0f0",
    )
    return fig


def rejection_rates(table: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """How often a test rejects, against the true persistence, one line per sample size.

    Parameters
    ----------
    table : pandas.DataFrame
        ``half_life_s`` (of the simulated AR(1); ``inf`` for a random walk), ``n`` (sample
        size) and ``rate`` (0..1).
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        The rejection rate (%) against the half-life (s), one line per ``n``.

    Examples
    --------
    >>> t = pd.DataFrame({"half_life_s": [10.0, 100.0], "n": [600, 600], "rate": [1.0, 0.2]})
    >>> rejection_rates(t).data[0].name
    'n = 600'
    """
    fig = go.Figure()
    for n, part in table.groupby("n", sort=True):
        part = part[np.isfinite(part["half_life_s"])].sort_values("half_life_s")
        fig.add_trace(
            go.Scatter(
                x=part["half_life_s"].to_numpy(),
                y=100.0 * part["rate"].to_numpy(),
                name=f"n = {int(n):,}",
                mode="lines+markers",
            )
        )
    fig.add_hline(y=5.0, line={"color": "grey", "dash": "dot"}, annotation_text="5 % level")
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        xaxis={"title": "true half-life of the mean reversion (s, log scale)", "type": "log"},
        yaxis={"title": "adf rejects a unit root (%)", "range": [0, 102]},
        legend_title_text="sample size",
    )
    return fig


def pooled_binned(
    values: Mapping[str, np.ndarray],
    forward: Mapping[str, Mapping[int, np.ndarray]],
    horizons: Sequence[int],
    n_bins: int = 10,
    *,
    grid_s: float = 1.0,
) -> pd.DataFrame:
    """Quantile bins of one feature per market, pooled, against the forward return per horizon.

    The band of each bin is widened by :math:`\\sqrt{h}` (h in grid steps, at least 1): overlapping
    h-step returns are far from independent.

    Parameters
    ----------
    values : mapping of str to numpy.ndarray
        The feature, by market.
    forward : mapping of str to mapping of int to numpy.ndarray
        Forward returns by market and horizon (s), aligned with ``values``.
    horizons : sequence of int
        Horizons (s) to bin against.
    n_bins : int, default 10
        Bins per market.
    grid_s : float, default 1.0
        Grid step (s).

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`lobutils.plots.features.binned_means` per horizon, with ``horizon_s``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)  # synthetic feature and returns
    >>> v = {"a": rng.normal(size=200)}
    >>> t = pooled_binned(v, {"a": {1: v["a"] + rng.normal(size=200)}}, [1], n_bins=4)
    >>> len(t), bool(t.y_mean.is_monotonic_increasing)
    (4, True)
    """
    names = list(values)
    x = np.concatenate([np.asarray(values[n], dtype=float) for n in names])
    groups = np.concatenate([[n] * len(values[n]) for n in names])
    parts = []
    for h in horizons:
        y = np.concatenate([np.asarray(forward[n][h], dtype=float) for n in names])
        scale = np.sqrt(max(h / grid_s, 1.0))
        table = binned_means(x, y, n_bins, groups=groups, se_scale=scale)
        parts.append(table.assign(horizon_s=h))
    return pd.concat(parts, ignore_index=True)
