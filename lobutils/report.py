"""Writing a chapter's prose from its results: generated Markdown, CIs, pandas display.

A chapter never types a number into its text: sentences that quote a result are built from it
and shown with :func:`say`. :func:`fmt_ci` writes an estimate with its confidence interval,
and :func:`setup_display` sets the pandas display options every chapter prints its tables
with.

Examples
--------
>>> fmt_ci(0.1234, 0.05, 0.2)
'0.123 [0.050, 0.200]'
"""

from __future__ import annotations

import pandas as pd

__all__ = ["fmt_ci", "say", "setup_display"]


def say(text: str) -> None:
    """Show generated Markdown: sentences that quote numbers are written from the results.

    In a notebook the text renders as Markdown; elsewhere IPython prints the object's repr.
    IPython is imported on the first call (it comes with the ``book`` extra).

    Maths is written as in the chapters' Markdown cells, ``$R^2_{oos}$`` inline and ``$$...$$``
    for a display (in an f-string: ``rf"$\\alpha = {a}$"``, braces doubled). JupyterLab
    typesets it in the output; the book parses these outputs as MyST with the chapters'
    extensions (``nb_render_markdown_format: myst`` in ``jupyter-book.yml``), so MathJax
    renders it there too (``tests/test_book_browser.py`` checks). A cell that only calls
    ``say`` is tagged ``remove-input``: the reader sees the sentence, not the code.

    Parameters
    ----------
    text
        Markdown source.

    Returns
    -------
    None
        The text is displayed.

    Examples
    --------
    >>> say(f"The mean is **{2.5:.1f}**.")
    <IPython.core.display.Markdown object>
    """
    from IPython.display import Markdown, display

    display(Markdown(text))


def fmt_ci(value: float, lo: float, hi: float, digits: int = 3) -> str:
    """An estimate with its confidence interval: ``"value [lo, hi]"``, all to ``digits`` places.

    Parameters
    ----------
    value
        The point estimate.
    lo, hi
        The interval's bounds.
    digits
        Decimal places of all three numbers.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_ci(1.0, -0.25, 2.5)
    '1.000 [-0.250, 2.500]'
    >>> fmt_ci(12.345, 10.0, 14.5, digits=2)
    '12.35 [10.00, 14.50]'
    """
    return f"{value:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def setup_display(width: int = 140, max_columns: int = 30) -> None:
    """Set the pandas display options the chapters print their tables with.

    Parameters
    ----------
    width
        Characters per line of a printed frame (``display.width``).
    max_columns
        Columns shown before a frame is cut in the middle (``display.max_columns``).

    Examples
    --------
    >>> with pd.option_context("display.width", 80, "display.max_columns", 20):
    ...     setup_display()
    ...     pd.get_option("display.width"), pd.get_option("display.max_columns")
    (140, 30)
    """
    pd.set_option("display.width", width)
    pd.set_option("display.max_columns", max_columns)
