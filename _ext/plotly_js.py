"""Sphinx extension of the book: plotly.js once per site, from the installed plotly package.

The chapters' figures are written without the library (:class:`lobutils.plots.style.BookRenderer`:
a ``div`` and a ``Plotly.newPlot`` call). This extension copies ``plotly.min.js`` from the
installed ``plotly`` package, the version that wrote the figures, to
``_build/html/_static/plotly/plotly.min.js``, and loads it in the head of every HTML page, so a
page stays small, the browser caches one copy, and the book reads offline.

Each figure output also holds the Plotly JSON (``application/vnd.plotly.v1+json``) that
JupyterLab draws from. myst-nb renders every mime type of an output before it picks the HTML one,
and warns about the JSON it cannot render ("skipping unknown output mime type"), which fails the
``-W`` build: the extension renders that one mime type as nothing, quietly. Any other unknown
mime type still warns.

It is a local extension of ``jupyter-book.yml`` (``sphinx.local_extensions``); the library is
not copied into the repository, so it never goes stale against the installed plotly.
"""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

__all__ = ["PLOTLY_JS", "PLOTLY_MIME", "plotly_js_source", "setup"]

PLOTLY_JS = "plotly/plotly.min.js"
"""Where the library goes, relative to the built ``_static/``."""

PLOTLY_MIME = "application/vnd.plotly.v1+json"
"""The Plotly JSON mime type: JupyterLab's representation of a figure; the book uses the HTML."""


def plotly_js_source() -> Path:
    """The ``plotly.min.js`` that ships with the installed ``plotly`` package.

    Returns
    -------
    pathlib.Path
        The file (about 4.8 MB).
    """
    return Path(str(files("plotly") / "package_data" / "plotly.min.js"))


def _add_script(app) -> None:
    if app.builder.format == "html":
        # in <head>, not deferred: the figures' inline scripts call Plotly as the page parses
        app.add_js_file(PLOTLY_JS, priority=300)


def _copy_library(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / PLOTLY_JS
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plotly_js_source(), target)


def _quiet_plotly_json() -> None:
    from myst_nb.core.render import NbElementRenderer

    unhandled = NbElementRenderer.render_unhandled
    if getattr(unhandled, "_plotly_json_quiet", False):
        return

    def render_unhandled(self, data):
        if data.mime_type == PLOTLY_MIME:
            return []  # the output's text/html beside it is what the book shows
        return unhandled(self, data)

    render_unhandled._plotly_json_quiet = True
    NbElementRenderer.render_unhandled = render_unhandled


def setup(app) -> dict:
    """Register the extension with Sphinx.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The Sphinx application.

    Returns
    -------
    dict
        Extension metadata (safe for parallel reading and writing).
    """
    _quiet_plotly_json()
    app.connect("builder-inited", _add_script)
    app.connect("build-finished", _copy_library)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
