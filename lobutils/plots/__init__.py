"""Plotly figure builders for the chapters, one module per topic, one shared style.

:mod:`lobutils.plots.style`
    The shared template, colours, units and time axes, and the recording and book figures
    of chapters 1 and 2 (event rates, price paths, depth profiles, the depth heatmap).
:mod:`lobutils.plots.features`
    Features, targets and stationarity (chapters 3 to 5).
:mod:`lobutils.plots.models`
    The classical zoo and its comparisons (chapter 6).
:mod:`lobutils.plots.deep`
    DeepLOB training curves and results (chapter 7).
:mod:`lobutils.plots.trading`
    Backtests and execution schedules (chapters 8 and 9).
:mod:`lobutils.plots.batch`
    Batch studies across markets and horizons (chapter 11).

Every builder returns a :class:`plotly.graph_objects.Figure` and never shows it. Only the
chapters and the runner import this package.
"""

from lobutils.plots import style  # noqa: F401  (registers the book's Plotly renderer)

__all__ = []
