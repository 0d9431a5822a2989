"""Figures of the recordings and the book (chapters 1 and 2).

Event rates, distributions, price paths, clock against event time, depth profiles and the
depth heatmap. The shared template, colours and units come from :mod:`lobutils.plots.style`.

The numbers behind the less obvious figures come from plain functions that the tests check:
:func:`rates` (events per second), :func:`heatmap_grid` (quantity per price bin and grid time)
and :func:`cumulative_profile` (depth against distance from the mid).

Examples
--------
>>> import pandas as pd
>>> from lobutils.schema import book_columns
>>> f = pd.DataFrame([[0, 0, 1, 99.0, 1.0, 101.0, 2.0],
...                   [10**9, 0, 2, 100.0, 1.0, 101.0, 2.0]], columns=book_columns(1))
>>> fig = mid_spread(f)
>>> len(fig.data), fig.data[0].y.tolist()
(2, [100.0, 100.5])
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lobutils.book.sampling import grid_times, sample_clock, to_ns
from lobutils.plots.style import (  # units and utc: chapters 1 and 2 use them as plots.units/utc
    ASK_COLOR,
    BID_COLOR,
    BPS,
    _color,
    _layout,
    nice_step,
    units,  # noqa: F401  (the chapters label axes with plots.units)
    utc,
)
from lobutils.schema import book_arrays

__all__ = [
    "HEATMAP_BID",
    "clock_vs_event",
    "cumulative_profile",
    "depth_heatmap",
    "depth_profile",
    "event_rates",
    "heatmap_grid",
    "histograms",
    "mid_spread",
    "price_paths",
    "rates",
]


HEATMAP_BID = "#00bfff"
"""The best-bid line of :func:`depth_heatmap`: a light blue that shows on the heatmap's dark
colours and, in the legend, on the white page (the bid blue, :data:`BID_COLOR`, is too dark on
the heatmap; white, as before, left a white swatch on a white legend)."""

# ----------------------------------------------------------------------------- event rates


def rates(ts, every="1s") -> tuple[np.ndarray, np.ndarray]:
    """Events per second in the window ``(t - every, t]`` ending at each grid time ``t``.

    Only complete windows inside the events' own span are returned: the first grid time is
    the first one whose window starts at or after the first event.

    Parameters
    ----------
    ts : array of int64 ns
        Event times, in any order.
    every : str or int
        Window length and grid step, e.g. ``"1s"``.

    Returns
    -------
    grid, per_second : ndarray
        Grid times (int64 ns) and the event rate (events / s) over the window ending at each.

    Examples
    --------
    Five events between 0.5 s and 2.9 s. The only complete window is (1 s, 2 s], which
    holds the events at 1.2 s, 1.9 s and 2.0 s.

    >>> t = np.array([0.5, 1.2, 1.9, 2.0, 2.9]) * 1e9
    >>> grid, r = rates(t.astype(np.int64), "1s")
    >>> grid.tolist(), r.tolist()
    ([2000000000], [3.0])
    """
    t = np.sort(np.asarray(ts, dtype=np.int64))
    step = to_ns(every)
    if len(t) == 0:
        return np.empty(0, np.int64), np.empty(0)
    grid = grid_times(int(t[0]) + step, int(t[-1]), step)
    counts = np.searchsorted(t, grid, side="right") - np.searchsorted(t, grid - step, side="right")
    return grid, counts / (step / 1e9)


def event_rates(
    events: pd.DataFrame,
    every="1s",
    *,
    color: str = "segment",
    facet: str | None = None,
    ts: str = "ts",
    ylabel: str = "events/s",
    title: str | None = None,
) -> go.Figure:
    """Event rates over time: one line per ``color`` group, one panel per ``facet`` group.

    Parameters
    ----------
    events : pandas.DataFrame
        Long form: one row per event, with an int64 ns time column ``ts`` and the grouping
        columns.
    every : str or int
        Window and grid step (see :func:`rates`).
    color, facet : str
        Column names: a line per value of ``color``; with ``facet``, a panel (shared time
        axis) per value of it.
    ts : str
        The time column.
    ylabel, title : str
        Labels.

    Returns
    -------
    plotly.graph_objects.Figure
        One line per group and panel.

    Examples
    --------
    >>> ev = pd.DataFrame({"ts": np.arange(0, 5_000_000_000, 100_000_000),
    ...                    "segment": "a", "kind": ["depth", "trade"] * 25})
    >>> fig = event_rates(ev, "1s", facet="kind")
    >>> len(fig.data), sorted(set(fig.data[0].y.tolist()))
    (2, [5.0])
    """
    series = list(dict.fromkeys(events[color]))
    panels = list(dict.fromkeys(events[facet])) if facet else [None]
    fig = make_subplots(
        rows=len(panels),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=[str(p) for p in panels] if facet else None,
    )
    for r, panel in enumerate(panels, start=1):
        sub = events if panel is None else events[events[facet] == panel]
        for i, name in enumerate(series):
            t = sub.loc[sub[color] == name, ts].to_numpy()
            if len(t) == 0:
                continue
            grid, per_s = rates(t, every)
            fig.add_trace(
                go.Scatter(
                    x=utc(grid),
                    y=per_s,
                    name=str(name),
                    mode="lines",
                    line={"width": 1.2, "color": _color(i)},
                    legendgroup=str(name),
                    showlegend=r == 1,
                ),
                row=r,
                col=1,
            )
        fig.update_yaxes(title_text=ylabel, row=r, col=1)
    fig.update_xaxes(title_text="time (UTC)", row=len(panels), col=1)
    return _layout(fig, title, None, None, height=max(320, 230 * len(panels)))


# ----------------------------------------------------------------------------- distributions


def histograms(
    samples: Mapping[str, np.ndarray],
    xlabel: str,
    *,
    bins: int = 60,
    log_x: bool = False,
    quantiles: tuple[float, float] = (0.0, 1.0),
    ylabel: str = "share of observations",
    title: str | None = None,
) -> go.Figure:
    """Overlaid histograms on common bins, drawn as step lines; y is the share per bin.

    Parameters
    ----------
    samples : mapping of str to array
        One line per entry. NaN values are dropped, and with ``log_x`` so are values <= 0.
    xlabel : str
        The x axis label, with its unit.
    bins : int
        Number of bins over the pooled range (log-spaced with ``log_x``).
    log_x : bool
        Log-spaced bins on a log axis: for sizes that span decades.
    quantiles : (float, float)
        Bins span these quantiles of the pooled values; values outside are left out (e.g.
        ``(0.001, 0.999)`` keeps a few outliers from squashing the picture).
    ylabel, title : str
        Labels.

    Returns
    -------
    plotly.graph_objects.Figure
        One step line per sample.

    Examples
    --------
    >>> fig = histograms({"a": np.array([1.0, 10, 100]), "b": np.array([0.0, 5, 50])},
    ...                  "size (USD)", bins=4, log_x=True)
    >>> len(fig.data), float(np.sum(fig.data[0].y[:-1]))
    (2, 1.0)
    """
    clean = {}
    for name, x in samples.items():
        x = np.asarray(x, dtype=np.float64)
        x = x[np.isfinite(x)]
        clean[name] = x[x > 0] if log_x else x
    pooled = np.concatenate([x for x in clean.values()] or [np.empty(0)])
    if len(pooled) == 0:
        raise ValueError("no finite values to plot")
    lo, hi = np.quantile(pooled, quantiles)
    if log_x:
        lo, hi = np.log10(lo), np.log10(hi)
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    xs = 10.0**edges if log_x else edges
    fig = go.Figure()
    for i, (name, x) in enumerate(clean.items()):
        v = np.log10(x) if log_x else x
        counts, _ = np.histogram(v, bins=edges)
        share = counts / max(len(x), 1)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=np.r_[share, share[-1:]],
                name=f"{name} (n={len(x):,})",
                mode="lines",
                line={"shape": "hv", "width": 1.5, "color": _color(i)},
            )
        )
    if log_x:
        fig.update_xaxes(type="log")
    return _layout(fig, title, xlabel, ylabel, height=380)


# ----------------------------------------------------------------------------- prices


def price_paths(
    prices: Mapping[str, pd.DataFrame],
    every="1s",
    *,
    price: str = "price",
    title: str | None = None,
) -> go.Figure:
    """Price paths of several series on one scale: bps of log price since their first grid time.

    Each series is sampled on its own clock grid (the last price at or before each grid time,
    never a later one), and shown as ``1e4 * log(p_t / p_0)`` so that series of any price level
    share an axis.

    Parameters
    ----------
    prices : mapping of str to pandas.DataFrame
        Frames with ``ts`` (int64 ns) and a ``price`` column, e.g. trades.
    every : str or int
        Grid step.
    price : str
        The price column.
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        One line per series.

    Examples
    --------
    >>> tr = pd.DataFrame({"ts": [0, 400_000_000, 1_500_000_000], "price": [100.0, 101.0, 99.0]})
    >>> fig = price_paths({"x": tr}, "1s")
    >>> fig.data[0].y.round(1).tolist()  # at 0 s: 100, at 1 s: 101 (the 1.5 s trade is later)
    [0.0, 99.5]
    """
    fig = go.Figure()
    for i, (name, df) in enumerate(prices.items()):
        t = df["ts"].to_numpy(np.int64)
        p = df[price].to_numpy(np.float64)
        order = np.argsort(t, kind="stable")
        t, p = t[order], p[order]
        grid = grid_times(int(t[0]), int(t[-1]), every)
        idx = np.searchsorted(t, grid, side="right") - 1  # last price at or before grid time
        path = BPS * np.log(p[idx] / p[idx[0]])
        fig.add_trace(
            go.Scatter(
                x=utc(grid),
                y=path,
                name=str(name),
                mode="lines",
                line={"width": 1.3, "color": _color(i)},
            )
        )
    return _layout(fig, title, "time (UTC)", "log price change since start (bps)", height=400)


def mid_spread(
    frame: pd.DataFrame,
    *,
    price_unit: str = "quote",
    title: str | None = None,
) -> go.Figure:
    """Mid price (top panel) and quoted spread in bps (bottom panel) of a book frame.

    ``mid = (bid_px_1 + ask_px_1) / 2`` and ``spread_bps = 1e4 * (ask_px_1 - bid_px_1) / mid``.
    Rows whose best levels are NaN (no valid book) leave gaps in the lines.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame, in event or clock time.
    price_unit : str
        Unit of the mid axis label, e.g. ``"USDT"``.
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        Two panels sharing the time axis.

    Examples
    --------
    >>> from lobutils.schema import book_columns
    >>> f = pd.DataFrame([[0, 0, 1, 99.0, 1.0, 101.0, 2.0]], columns=book_columns(1))
    >>> fig = mid_spread(f, price_unit="USD")
    >>> fig.data[1].y.round(1).tolist(), fig.layout.yaxis.title.text
    ([200.0], 'mid (USD)')
    """
    bid = frame["bid_px_1"].to_numpy(np.float64)
    ask = frame["ask_px_1"].to_numpy(np.float64)
    mid = (bid + ask) / 2
    spread_bps = BPS * (ask - bid) / mid
    x = utc(frame["ts"].to_numpy())
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.05
    )
    fig.add_trace(
        go.Scatter(x=x, y=mid, name="mid", mode="lines", line={"width": 1.2, "color": _color(0)}),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=spread_bps,
            name="spread",
            mode="lines",
            line={"width": 1.0, "shape": "hv", "color": _color(1)},
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(title_text=f"mid ({price_unit})", row=1, col=1)
    fig.update_yaxes(title_text="spread (bps)", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="time (UTC)", row=2, col=1)
    return _layout(fig, title, None, None, height=480, showlegend=False)


def clock_vs_event(
    frame: pd.DataFrame,
    every="1s",
    *,
    column: str = "bid_px_1",
    start: int | None = None,
    end: int | None = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> go.Figure:
    """One book column in event time (a step line) and on a clock grid (markers).

    The grid values come from :func:`lobutils.book.sampling.sample_clock`: each is the state at or
    before its grid time, so every marker sits on the step line at its left, never on a later
    step.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame in event time.
    every : str or int
        The clock grid.
    column : str
        The column to show.
    start, end : int, optional
        A time window in ns (default: the whole frame).
    ylabel : str, optional
        The y axis label (default the column's name).
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        The event-time step line and the clock-grid markers.

    Examples
    --------
    >>> from lobutils.schema import book_columns
    >>> f = pd.DataFrame([[200_000_000, 0, 1, 10.0, 1.0, 11.0, 1.0],
    ...                   [1_500_000_000, 0, 2, 10.5, 1.0, 11.0, 1.0]], columns=book_columns(1))
    >>> fig = clock_vs_event(f, "1s", start=0, end=2_000_000_000)
    >>> [len(d.x) for d in fig.data], fig.data[1].y.tolist()
    ([2, 3], [nan, 10.0, 10.5])
    """
    ts = frame["ts"].to_numpy(np.int64)
    lo = int(ts[0]) if start is None else int(start)
    hi = int(ts[-1]) if end is None else int(end)
    # the state in force at the window's start is the last one at or before it
    first = max(int(np.searchsorted(ts, lo, side="right")) - 1, 0)
    last = int(np.searchsorted(ts, hi, side="right"))
    ev = frame.iloc[first:last]
    grid = sample_clock(frame, every, start=lo, end=hi)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=utc(ev["ts"].to_numpy()),
            y=ev[column].to_numpy(np.float64),
            name="event time (every update)",
            mode="lines+markers",
            line={"shape": "hv", "width": 1.2, "color": _color(0)},
            marker={"size": 4},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=utc(grid["ts"].to_numpy()),
            y=grid[column].to_numpy(np.float64),
            name=f"clock time (every {every})",
            mode="markers",
            marker={"size": 10, "symbol": "diamond-open", "color": _color(1), "line": {"width": 2}},
        )
    )
    fig.update_xaxes(range=[utc([lo])[0], utc([hi])[0]])
    return _layout(fig, title, "time (UTC)", ylabel or column, height=380)


# ----------------------------------------------------------------------------- depth


def cumulative_profile(
    frame: pd.DataFrame, points: int = 200, max_bps: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative depth against distance from the mid, per row, on a common bps grid.

    For a book state with mid ``m``, a bid level at price ``p`` lies ``1e4 * (m - p) / m`` bps
    from the mid and an ask level ``1e4 * (p - m) / m`` bps. The cumulative depth at distance
    ``x`` is the total quantity of the levels within ``x`` bps. The grid stops where the
    shallowest row's top-N levels end on either side (``max_bps`` lowers it further), so that
    no row's depth is understated by levels beyond its top N.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame; rows without a valid book (NaN best levels) are dropped.
    points : int
        Grid points from 0 to the maximum distance.
    max_bps : float, optional
        Cap on the distance.

    Returns
    -------
    bps, bid_depth, ask_depth : ndarray
        The grid ``(points,)`` and the cumulative depths ``(rows, points)``.

    Examples
    --------
    Mid 100: bids 1 at 99.9 (10 bps) and 2 at 99.8 (20 bps); asks 3 at 100.1 and 100.3.

    >>> from lobutils.schema import book_columns
    >>> f = pd.DataFrame([[0, 0, 1, 99.9, 99.8, 1.0, 2.0, 100.1, 100.3, 3.0, 3.0]],
    ...                  columns=book_columns(2))
    >>> x, b, a = cumulative_profile(f, points=3)
    >>> x.round(6).tolist(), b.tolist(), a.tolist()
    ([0.0, 10.0, 20.0], [[0.0, 1.0, 3.0]], [[0.0, 3.0, 3.0]])
    """
    bp, bq, ap, aq = book_arrays(frame)
    ok = np.isfinite(bp[:, 0]) & np.isfinite(ap[:, 0])
    bp, bq, ap, aq = bp[ok], bq[ok], ap[ok], aq[ok]
    if len(bp) == 0:
        raise ValueError("the frame has no valid book state")
    mid = (bp[:, :1] + ap[:, :1]) / 2
    db = BPS * (mid - bp) / mid
    da = BPS * (ap - mid) / mid
    reach = min(np.nanmin(np.nanmax(db, axis=1)), np.nanmin(np.nanmax(da, axis=1)))
    if max_bps is not None:
        reach = min(reach, float(max_bps))
    x = np.linspace(0.0, reach, points)
    tol = 1e-9 * max(reach, 1.0)  # a level exactly at a grid distance counts despite rounding

    chunk = max(1, 20_000_000 // (bp.shape[1] * points))

    def cum(d, q):
        q = np.nan_to_num(q)
        out = np.empty((len(d), points))
        for i in range(0, len(d), chunk):  # (rows, levels, points) at most ~2e7 at a time
            within = d[i : i + chunk, :, None] <= x[None, None, :] + tol
            out[i : i + chunk] = np.einsum("rl,rlp->rp", q[i : i + chunk], within)
        return out

    return x, cum(db, bq), cum(da, aq)


def depth_profile(
    frame: pd.DataFrame,
    *,
    qty_unit: str = "base",
    points: int = 200,
    max_bps: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """Median cumulative depth against distance from the mid, bids and asks.

    Pass a clock-sampled frame (:func:`lobutils.book.sampling.sample_clock`) so that each second
    weighs the same; the median over its rows is drawn. See :func:`cumulative_profile` for the
    computation.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame, best clock-sampled.
    qty_unit : str
        Unit of the depth axis label, e.g. ``"BTC"``.
    points : int
        Points of the bps grid.
    max_bps : float, optional
        Cap on the distance (default: where the shallowest row's top N levels end).
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        A step line per side.

    Examples
    --------
    >>> from lobutils.schema import book_columns
    >>> f = pd.DataFrame([[0, 0, 1, 99.9, 99.8, 1.0, 2.0, 100.1, 100.3, 3.0, 3.0]],
    ...                  columns=book_columns(2))
    >>> fig = depth_profile(f, points=3)
    >>> [d.name for d in fig.data], fig.data[0].y.tolist()
    (['bids', 'asks'], [0.0, 1.0, 3.0])
    """
    x, b, a = cumulative_profile(frame, points=points, max_bps=max_bps)
    fig = go.Figure()
    for name, depth, color in (("bids", b, BID_COLOR), ("asks", a, ASK_COLOR)):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=np.median(depth, axis=0),
                name=name,
                mode="lines",
                line={"shape": "hv", "width": 2, "color": color},
            )
        )
    return _layout(
        fig,
        title,
        "distance from mid (bps)",
        f"cumulative depth ({qty_unit})",
        height=400,
    )


def heatmap_grid(
    frame: pd.DataFrame,
    every="1s",
    *,
    max_bins: int = 150,
    bin_size: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Resting quantity per price bin and clock-grid time, from a book frame's top N levels.

    The frame is first sampled on the clock grid (:func:`lobutils.book.sampling.sample_clock`): the
    column for grid time ``t`` holds the book state at or before ``t``, never a later one. Each
    level's quantity is added to the bin holding its price; bin ``k`` covers
    ``[edges[k], edges[k + 1])``. Bins outside the price range the top N levels cover at that
    time (below the N-th bid or above the N-th ask) are NaN: the frame says nothing about
    them. Inside the range a bin without a level is 0.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame in event time (or already on a grid).
    every : str or int
        The clock grid.
    max_bins : int
        The bin size is the smallest "nice" size (see :func:`nice_step`) that covers the price
        range seen in at most this many bins ...
    bin_size : float, optional
        ... unless a bin size is given.

    Returns
    -------
    times : ndarray of int64 ns, shape (T,)
    edges : ndarray, shape (B + 1,)
    z : ndarray, shape (B, T)
        Quantity per bin (rows) and grid time (columns).
    sampled : pandas.DataFrame
        The clock-sampled frame the columns come from.

    Examples
    --------
    A book state from t = 0.5 s: bid 1.0 @ 99.5, ask 2.0 @ 100.5; unit bins.

    >>> from lobutils.schema import book_columns
    >>> f = pd.DataFrame([[500_000_000, 0, 1, 99.5, 1.0, 100.5, 2.0]], columns=book_columns(1))

    The same state again at t = 2 s; grid times 1 s and 2 s.

    >>> f = pd.concat([f, f.assign(ts=2_000_000_000)])
    >>> t, e, z, _ = heatmap_grid(f, "1s", bin_size=1.0)
    >>> t.tolist(), e.tolist(), z.tolist()
    ([1000000000, 2000000000], [99.0, 100.0, 101.0], [[1.0, 1.0], [2.0, 2.0]])
    """
    sampled = sample_clock(frame, every)
    bp, bq, ap, aq = book_arrays(sampled)
    px = np.concatenate([bp, ap], axis=1)  # (T, 2N)
    qty = np.concatenate([bq, aq], axis=1)
    if not np.isfinite(px).any():
        raise ValueError("no book state on the clock grid: nothing to draw")
    lo, hi = float(np.nanmin(px)), float(np.nanmax(px))
    if bin_size is None:
        bin_size = nice_step(max(hi - lo, 1e-12) / max_bins)
    bin_size = float(bin_size)
    first = math.floor(lo / bin_size + 1e-9)
    nbins = math.floor(hi / bin_size + 1e-9) - first + 1
    edges = (first + np.arange(nbins + 1)) * bin_size
    times = sampled["ts"].to_numpy(np.int64)
    z = np.zeros((nbins, len(times)))
    valid = np.isfinite(px) & np.isfinite(qty) & (qty > 0)
    k = np.floor(np.where(valid, px, lo) / bin_size + 1e-9).astype(np.int64) - first
    k = np.clip(k, 0, nbins - 1)
    col = np.broadcast_to(np.arange(len(times))[:, None], px.shape)
    np.add.at(z, (k[valid], col[valid]), qty[valid])
    # unknown beyond the deepest level of each side (and where there is no book at all)
    with np.errstate(all="ignore"):
        deepest_bid = np.nanmin(np.where(np.isfinite(bp), bp, np.inf), axis=1)
        deepest_ask = np.nanmax(np.where(np.isfinite(ap), ap, -np.inf), axis=1)
    none = ~np.isfinite(bp[:, 0]) | ~np.isfinite(ap[:, 0])
    outside = (edges[1:, None] <= deepest_bid[None, :] - 1e-9 * bin_size) | (
        edges[:-1, None] > deepest_ask[None, :] + 1e-9 * bin_size
    )
    z[outside | none[None, :]] = np.nan
    return times, edges, z, sampled


def depth_heatmap(
    frame: pd.DataFrame,
    every="1s",
    *,
    max_bins: int = 150,
    bin_size: float | None = None,
    price_unit: str = "quote",
    qty_unit: str = "base",
    zmax_quantile: float = 0.99,
    title: str | None = None,
) -> go.Figure:
    """Depth heatmap: resting quantity by price bin (y) and clock time (x), best quotes on top.

    The grid comes from :func:`heatmap_grid` (the state at or before each grid time; NaN, drawn
    blank, where the top N levels do not reach). The colour scale is capped at the
    ``zmax_quantile`` of the non-empty bins so that a few very large orders do not wash out the
    rest. Two lines mark the best bid (:data:`HEATMAP_BID`) and best ask at each grid time.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame in event time.
    every : str or int
        The clock grid.
    max_bins : int
        The most price bins.
    bin_size : float, optional
        Bin width in price units (default: chosen from ``max_bins``, see :func:`heatmap_grid`).
    price_unit, qty_unit : str
        Units of the axis and colour-bar labels.
    zmax_quantile : float
        Quantile of the non-empty bins where the colour scale stops.
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        The heatmap and the two best-quote lines.

    Examples
    --------
    >>> from lobutils.schema import book_columns
    >>> f = pd.DataFrame([[0, 0, 1, 99.5, 1.0, 100.5, 2.0],
    ...                   [3_000_000_000, 0, 2, 99.5, 4.0, 100.5, 2.0]], columns=book_columns(1))
    >>> fig = depth_heatmap(f, "1s", bin_size=1.0)
    >>> len(fig.data), np.asarray(fig.data[0].z).shape
    (3, (2, 4))
    >>> [(d.name, d.line.color) for d in fig.data[1:]]
    [('best bid', '#00bfff'), ('best ask', '#d62728')]
    """
    times, edges, z, sampled = heatmap_grid(frame, every, max_bins=max_bins, bin_size=bin_size)
    x = utc(times)
    filled = z[np.isfinite(z) & (z > 0)]
    zmax = float(np.quantile(filled, zmax_quantile)) if len(filled) else 1.0
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            x=x,
            y=(edges[:-1] + edges[1:]) / 2,
            z=z,
            zmin=0.0,
            zmax=zmax,
            colorscale="Viridis",
            colorbar={"title": {"text": f"quantity ({qty_unit})", "side": "right"}},
            hovertemplate="%{x}<br>price %{y}<br>quantity %{z}<extra></extra>",
            name="depth",
        )
    )
    for name, col, color in (
        ("best bid", "bid_px_1", HEATMAP_BID),
        ("best ask", "ask_px_1", ASK_COLOR),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=sampled[col].to_numpy(np.float64),
                name=name,
                mode="lines",
                line={"width": 1.6, "color": color},
            )
        )
    return _layout(
        fig,
        title,
        "time (UTC)",
        f"price ({price_unit})",
        height=520,
        legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"},
    )
