"""Running the book: chapters, batch grids, and the command line.

:mod:`lobutils.runner.chapters`
    Executes the chapters listed in ``_toc.yml`` with papermill
    (``python -m lobutils.runner.chapters``).
:mod:`lobutils.runner.batch`
    Runs a chapter over a parameter grid on Dask and collects every run's metrics.
:mod:`lobutils.runner.cli`
    ``python -m lobutils`` (the ``lobutils`` script): every subcommand and all argparse code.
:mod:`lobutils.runner.cli_acquire`
    The ``record``, ``collect`` and ``rank`` subcommands.
:mod:`lobutils.runner.cli_archives`
    The ``fetch``, ``convert`` and ``lake`` subcommands.
:mod:`lobutils.runner.errors`
    One-line error messages for the command line: what went wrong and which file, with API
    keys redacted; a YAML loader that reports syntax errors by file, line and column.
"""

__all__ = []
