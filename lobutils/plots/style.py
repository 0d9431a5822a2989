"""The shared style of every figure in the book.

Each builder in :mod:`lobutils.plots` takes frames or arrays in the book's schemas
(:mod:`lobutils.schema`) and returns a :class:`plotly.graph_objects.Figure`; it never shows it
(a chapter calls ``fig.show()``). The conventions, held here:

* one idea per figure, and the title says it;
* lower-case axis labels with units (``bps``, ``s``, ``USDT``, ``contracts``, ...): :func:`units`;
* one template (:data:`TEMPLATE`), bid and ask colours, and metric labels (:data:`METRIC_LABELS`);
* time axes are UTC datetimes: int64 ns timestamps go through :func:`utc`;
* anything sampled in time uses the last value *at or before* each grid time, never a later
  one (the rule of :func:`lobutils.book.sampling.sample_clock`), so no figure looks ahead;
* a figure is written once for the book and JupyterLab alike, without plotly.js
  (:class:`BookRenderer`): the book loads one copy of plotly.js per site.

Examples
--------
>>> units("cm", "btcusd_perp")
('USD', 'contracts')
>>> str(utc([0])[0])
'1970-01-01 00:00:00'
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import qualitative
from plotly.io.base_renderers import MimetypeRenderer, PlotlyRenderer

__all__ = [
    "BPS",
    "METRIC_LABELS",
    "TEMPLATE",
    "COLORS",
    "BID_COLOR",
    "ASK_COLOR",
    "BookRenderer",
    "use_book_renderer",
    "nice_step",
    "units",
    "utc",
]

BPS = 1e4
"""Basis points per unit: a relative difference ``x`` is ``x * BPS`` bps."""

TEMPLATE = "plotly_white"
"""The Plotly template of every figure."""
COLORS = qualitative.Plotly
"""Colours of successive series (segments, models), in order."""
BID_COLOR = "#1f77b4"
"""Colour of the bid side."""
ASK_COLOR = "#d62728"
"""Colour of the ask side."""
_QUOTES = ("usdt", "usdc", "fdusd", "busd", "tusd", "usd", "btc", "eth", "bnb", "eur", "try")

METRIC_LABELS = {
    "mse": "mse (bps²)",
    "mae": "mae (bps)",
    "r2": "r² (test-mean benchmark)",
    "r2_oos": "r²_oos (vs. zero forecast)",
    "pearson": "pearson correlation",
    "spearman": "spearman correlation",
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "macro_f1": "macro f1",
    "mcc": "matthews correlation",
    "cohen_kappa": "cohen's kappa",
}
"""Axis label of each metric of :mod:`lobutils.evaluation` (the model chapters' figures)."""


def utc(ts) -> pd.DatetimeIndex:
    """int64 ns since the epoch -> UTC datetimes (naive, as plotly wants); ``TS_NA`` -> NaT.

    Parameters
    ----------
    ts : array_like of int64
        Nanoseconds since the epoch.

    Returns
    -------
    pandas.DatetimeIndex
        Naive datetimes in UTC.

    Examples
    --------
    >>> from lobutils.schema import TS_NA
    >>> [str(t) for t in utc([1_723_161_600_000_000_000, TS_NA])]
    ['2024-08-09 00:00:00', 'NaT']
    """
    return pd.DatetimeIndex(np.asarray(ts, dtype=np.int64).view("datetime64[ns]"))


def units(market: str, symbol: str) -> tuple[str, str]:
    """Axis-label units ``(price, quantity)`` for a Binance segment.

    Spot and USD-M symbols are ``<base><quote>``: prices are in the quote asset, quantities in
    the base asset. COIN-M (``cm``) books quote USD per coin, and their quantities are
    contracts. A symbol with no known quote suffix gets generic names. This is for labels only.

    Parameters
    ----------
    market : str
        ``"spot"``, ``"usdm"`` or ``"cm"``.
    symbol : str
        The symbol, e.g. ``"btcusdt"`` or ``"btcusd_perp"``.

    Returns
    -------
    price, quantity : str
        The units, e.g. ``("USDT", "BTC")``.

    Examples
    --------
    >>> units("spot", "btcusdt"), units("cm", "ethusd_perp"), units("usdm", "xyz")
    (('USDT', 'BTC'), ('USD', 'contracts'), ('quote', 'base'))
    """
    if market == "cm":
        return "USD", "contracts"
    sym = symbol.lower()
    for quote in _QUOTES:
        if sym.endswith(quote) and len(sym) > len(quote):
            return quote.upper(), sym[: -len(quote)].upper()
    return "quote", "base"


def nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten that is >= ``raw`` (> 0).

    Parameters
    ----------
    raw : float
        The step wanted, positive and finite.

    Returns
    -------
    float
        A round step at least as large.

    Examples
    --------
    >>> nice_step(0.37), nice_step(2.1), nice_step(7.0), nice_step(0.01)
    (0.5, 2.5, 10.0, 0.01)
    """
    if not raw > 0 or not math.isfinite(raw):
        raise ValueError(f"raw step must be a positive number, got {raw!r}")
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        step = float(f"{m * power:.12g}")  # drop binary noise: 0.1 * 5 -> 0.5
        if step >= raw * (1 - 1e-12):
            return step
    raise AssertionError("unreachable")  # pragma: no cover


def _layout(fig: go.Figure, title: str | None, xlabel: str | None, ylabel: str | None, **kw):
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        margin={"l": 60, "r": 20, "t": 60 if title else 30, "b": 50},
        **kw,
    )
    fig.update_layout(legend_title_text=None)
    if xlabel is not None:
        fig.update_xaxes(title_text=xlabel)
    if ylabel is not None:
        fig.update_yaxes(title_text=ylabel)
    return fig


def _color(i: int) -> str:
    return COLORS[i % len(COLORS)]


# ----------------------------------------------------------------------------- rendering


class BookRenderer(MimetypeRenderer):
    """Plotly renderer ``"book"``: each figure as Plotly JSON and as HTML without plotly.js.

    The output of a figure holds two representations, and each reader takes its own:

    * ``application/vnd.plotly.v1+json``: JupyterLab (its bundled ``jupyterlab-plotly``
      extension), VS Code and nteract draw the figure from it;
    * ``text/html``: a ``div`` and a script that calls ``Plotly.newPlot``, *without* the 4.8 MB
      plotly.js library. The book picks this one, and loads plotly.js once per site from
      ``_static/plotly/plotly.min.js`` in every page's head (the local Sphinx extension
      ``_ext/plotly_js.py``, configured in ``jupyter-book.yml``), offline.

    Plotly's own ``notebook`` renderer instead inlines plotly.js in every page that has a
    figure (pages of 5-7 MB).

    Parameters
    ----------
    config : dict, optional
        plotly.js config options (default: ``{"responsive": True}``, as the ``notebook``
        renderer).

    Returns
    -------
    BookRenderer
        A renderer; :meth:`to_mimebundle` gives a figure's output bundle.

    Examples
    --------
    >>> bundle = BookRenderer().to_mimebundle(go.Figure(go.Scatter(y=[1, 2])).to_dict())
    >>> sorted(bundle)
    ['application/vnd.plotly.v1+json', 'text/html']
    >>> "Plotly.newPlot" in bundle["text/html"], len(bundle["text/html"]) < 10_000
    (True, True)
    """

    def __init__(self, config: dict | None = None):
        self.config = dict(config) if config else {"responsive": True}

    def to_mimebundle(self, fig_dict: dict) -> dict:
        """The figure's output bundle: Plotly JSON and HTML without the library.

        Parameters
        ----------
        fig_dict : dict
            A figure as a dict (``fig.to_dict()``).

        Returns
        -------
        dict
            ``{mime type: data}`` for IPython's ``display``.
        """
        bundle = PlotlyRenderer(config=self.config).to_mimebundle(dict(fig_dict))
        html = pio.to_html(
            fig_dict,
            config=self.config,
            include_plotlyjs=False,
            include_mathjax=False,
            full_html=False,
            validate=False,
        )
        return {**bundle, "text/html": html}


def use_book_renderer() -> str:
    """Register the ``"book"`` renderer, and use it where the book's runner asked for ``notebook``.

    :mod:`lobutils.runner.chapters` executes the chapters with ``PLOTLY_RENDERER=notebook``
    (plotly validates that variable when it is imported, before this module can register a
    renderer of its own). Where that is the default, it becomes ``"book"``: the same static
    HTML, without a copy of plotly.js in every page. Any other default (JupyterLab's
    ``plotly_mimetype``, a browser, one a user set) is left alone. Called when
    :mod:`lobutils.plots` is imported.

    Parameters
    ----------
    None

    Returns
    -------
    str
        The default renderer now in force.

    Examples
    --------
    >>> before = pio.renderers.default
    >>> pio.renderers.default = "notebook"
    >>> use_book_renderer()
    'book'
    >>> pio.renderers.default = before
    """
    if "book" not in pio.renderers:
        pio.renderers["book"] = BookRenderer()
    if pio.renderers.default == "notebook":
        pio.renderers.default = "book"
    return pio.renderers.default


use_book_renderer()
