"""``python -m lobutils``: the book's command line (:func:`lobutils.runner.cli.main`).

Run ``python -m lobutils --help`` for the subcommands. This module only calls the command line
and exits with its status; it exports nothing.
"""

import sys

from lobutils.runner.cli import main

__all__ = []

if __name__ == "__main__":  # importing it (autosummary does) runs nothing
    sys.exit(main())
