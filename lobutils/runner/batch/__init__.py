"""Batch studies: run chapters over a grid of parameters with papermill, on Dask.

A *grid file* (YAML) names a chapter and parameter lists. :func:`expand_grid` turns it into
runs: the Cartesian product of the ``grid`` lists, plus any explicit ``runs``. Each run is
one papermill execution of the chapter through :func:`lobutils.runner.chapters.run_chapter`, with
its own output notebook and ``REPORT_DIR``. :func:`run_batch` executes the runs on Dask
distributed: a :class:`~distributed.LocalCluster` sized to the machine by default (one
process per core, one thread each), or any scheduler address for a real cluster. It then
collects every run's ``metrics.json`` into one tidy table.

The grid file
-------------
::

    run_id: zoo_markets            # optional: default the file's stem
    chapter: 06_ml_zoo             # a stem, "06", or a path; a list runs the grid on each
    timeout: 600                   # seconds any one cell may run (optional)
    parameters:                    # the same for every run
      TARGETS: [return]
      N_BOOT: 200
    grid:                          # one run per combination (the last name varies fastest)
      SEGMENTS: [spot_btcusdt, usdm_btcusdt]
      HORIZONS: [1, 10]
      MODELS: [linear, xgboost]
    as_list: [SEGMENTS, HORIZONS, MODELS]   # pass each value as a one-element list
    runs:                          # extra runs, not crossed with the grid (optional)
      - {SEGMENTS: cm_btcusd_perp, HORIZONS: 60, MODELS: forest}

``as_list`` is for chapters whose parameters are lists (chapter 6 takes ``SEGMENTS =
["spot_btcusdt"]``): the grid lists plain values, and each run gets ``[value]``. Several
chapters with different grids go in a list under ``studies:``, each entry with the keys
above (but ``run_id``). Every parameter name must exist in the chapter's ``parameters``
cell; ``REPORT_DIR`` is set by the runner.

Where the outputs go
--------------------
::

    reports/runs/<run-id>/               (root: $LOBUTILS_REPORTS_DIR/runs, or --root)
        grid.json        the runs of the batch (chapter, parameters, hash)
        runs.csv, runs.parquet         one row per run: parameters, status, seconds, error
        metrics.csv, metrics.parquet   every run's metrics.json, in long format (below)
        summary.json     counts, failures and paths
        <params-hash>/   one run: REPORT_DIR of the chapter
            <chapter>.ipynb   the executed notebook (kept, partial, when the run fails)
            metrics.json ...  what the chapter writes
            stderr.log        the kernel's stderr (runs on worker processes)
            run.json          parameters, code version, status, timing, error, failing cell
            done              marker of a finished run (params hash and code version)

The *params hash* is the first 12 hex digits of the SHA-256 of the chapter's stem and its
parameters, as canonical JSON with sorted keys (:func:`params_hash`): the same run always
gets the same folder, on any machine. The *code version* is the SHA-256 of the chapter's
source and every ``lobutils/**/*.py`` file (:func:`code_version`). A content hash rather
than the git commit: it works without git (on cluster workers, in a tarball), and a commit
that touches neither the chapter nor ``lobutils`` leaves finished runs valid. Changes to the
data files are not part of it: rerun with ``--force`` when the data change under the same
parameters.

Resuming
--------
A run whose folder holds a ``done`` marker with the same params hash and code version is
skipped (status ``cached``) unless ``force``. The marker is written last, after the chapter
finished, so a batch killed mid-grid resumes where it stopped: the runs that finished are
skipped, the others (and any partial folder they left) are run again. A failed run has no
marker and is retried on the next call.

The metrics table
-----------------
``metrics.json`` files nest (chapter 6 writes the best model per segment, target and
horizon). They are flattened into a **long** table, one row per (run, metric): the metric's
dotted path (``headline.n_beat_baseline``, ``datasets.spot_btcusdt.rows``; list items get
their index, ``pnl_best.0.model``), its numeric ``value`` (float; booleans as 0/1, NaN for
text) and its ``text`` (strings; empty for numbers). Long rather than wide because runs of
different chapters, segments or horizons write different keys, and a wide table would be
mostly empty columns. :func:`metrics_wide` pivots chosen metrics to columns. Every row
carries the run's parameters as columns, under their names in the parameters cell
(``SEGMENTS``, ``HORIZONS``, ...), plus ``chapter`` and ``params_hash``. A parameter given
``as_list`` appears as its plain value (``SEGMENTS = "spot_btcusdt"``); other lists and
mappings as JSON text.

Tables that a chapter writes per run (chapter 6's ``results.parquet``) are gathered the
same way, with the parameter columns added, by :func:`collect_tables`.

Modules
-------
:mod:`~lobutils.runner.batch.grid`
    The grid file, runs, params hashes and code versions.
:mod:`~lobutils.runner.batch.execute`
    One run: papermill into the run's folder, status, the failing cell.
:mod:`~lobutils.runner.batch.cluster`
    The Dask client, and :func:`map_partitions` over lake partitions.
:mod:`~lobutils.runner.batch.tables`
    The metric tables.
:mod:`~lobutils.runner.batch.driver`
    :func:`run_batch` and :func:`plan`: a whole batch.
:mod:`~lobutils.runner.batch.cli`
    The ``batch`` subcommand.

Partitions
----------
:func:`map_partitions` maps a function over (exchange, symbol, day) partitions, or any
items, on the same kind of Dask client, with a progress bar and failures collected:
reconstruction and features per partition of a lake (:func:`lake_items`).

Command line::

    python -m lobutils batch GRID.yaml [--run-id ID] [--root DIR] [--scheduler tcp://...]
                                       [--workers N] [--force] [--dry-run] [--json]

Examples
--------
>>> spec = {"chapter": "06_ml_zoo", "parameters": {"N_BOOT": 50},
...         "grid": {"SEGMENTS": ["spot_btcusdt", "usdm_btcusdt"], "HORIZONS": [1, 10]},
...         "as_list": ["SEGMENTS", "HORIZONS"]}
>>> runs = expand_grid(spec)
>>> len(runs), runs[0].parameters
(4, {'HORIZONS': [1], 'N_BOOT': 50, 'SEGMENTS': ['spot_btcusdt']})
>>> runs[1].labels
{'HORIZONS': 10, 'N_BOOT': 50, 'SEGMENTS': 'spot_btcusdt'}
>>> runs[0].params_hash == params_hash("06_ml_zoo", runs[0].parameters)
True
"""

from lobutils.runner.batch.cli import add_parsers
from lobutils.runner.batch.cluster import PartitionResult, dask_client, lake_items, map_partitions
from lobutils.runner.batch.driver import BatchResult, plan, run_batch
from lobutils.runner.batch.execute import execute_run, is_done
from lobutils.runner.batch.grid import (
    DONE_FILE,
    HASH_LENGTH,
    RUN_FILE,
    Run,
    code_version,
    expand_grid,
    load_grid,
    params_hash,
    runs_root,
)
from lobutils.runner.batch.tables import (
    collect_metrics,
    collect_tables,
    flatten_metrics,
    metrics_wide,
)

__all__ = [
    "DONE_FILE",
    "HASH_LENGTH",
    "RUN_FILE",
    "BatchResult",
    "PartitionResult",
    "Run",
    "add_parsers",
    "code_version",
    "collect_metrics",
    "collect_tables",
    "dask_client",
    "execute_run",
    "expand_grid",
    "flatten_metrics",
    "is_done",
    "lake_items",
    "load_grid",
    "map_partitions",
    "metrics_wide",
    "params_hash",
    "plan",
    "run_batch",
    "runs_root",
]
