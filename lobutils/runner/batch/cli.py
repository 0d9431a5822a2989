"""The ``batch`` subcommand: argparse for :func:`lobutils.runner.batch.driver.run_batch`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lobutils.runner.batch.driver import plan, run_batch
from lobutils.runner.batch.grid import _canonical, load_grid, runs_root

__all__ = ["add_parsers"]


def _cmd_batch(args) -> dict[str, Any]:
    rid, runs, _ = load_grid(args.grid, args.run_id)
    if args.dry_run:
        p = plan(runs, runs_root(rid, args.root), args.force)
        return {
            "run_id": rid,
            "root": str(runs_root(rid, args.root)),
            "runs": len(p),
            "to_run": int(p["will_run"].sum()),
            "plan": [
                {
                    "chapter": r.chapter,
                    "params_hash": r.params_hash,
                    "parameters": r.labels,
                    "done": bool(done),
                    "will_run": bool(will),
                }
                for r, done, will in zip(runs, p["done"], p["will_run"], strict=True)
            ],
        }
    res = run_batch(
        runs,
        run_id=rid,
        root=args.root,
        scheduler=args.scheduler,
        workers=args.workers,
        processes=not args.threads,
        force=args.force,
        progress=not args.no_progress,
    )
    summary = res.summary()
    if not res.ok:
        # the summary first (the CLI prints it on success), then a non-zero exit status
        if args.json:
            print(json.dumps(summary, default=str))
        else:
            _show(summary)
        raise SystemExit(1)
    return summary


def _show(summary: Mapping[str, Any]) -> None:
    if "plan" in summary:
        print(f"batch {summary['run_id']}: {summary['runs']} runs, {summary['to_run']} to run")
        for row in summary["plan"]:
            mark = "run " if row["will_run"] else "done"
            print(f"  {mark} {row['params_hash']} {row['chapter']} {_canonical(row['parameters'])}")
        return
    print(
        f"batch {summary['run_id']}: {summary['runs']} runs: {summary['ok']} ok, "
        f"{summary['cached']} cached, {summary['failed']} failed in {summary['seconds']:.1f} s"
    )
    for f in summary["failures"]:
        print(f"  FAILED {f['params_hash']} {f['chapter']} {_canonical(f['parameters'])}")
        print(f"    in {f['cell'] or '(no cell)'}")
        print(f"    notebook: {f['notebook']}")
    print(f"  runs:    {summary['runs_table']}")
    print(f"  metrics: {summary['metrics']}")


def add_parsers(subparsers) -> None:
    """Add the ``batch`` command to a CLI's subparsers (see :mod:`lobutils.runner.cli`).

    Exit status 0 when every run finished (or was cached), 1 when any run failed (the
    summary is printed first), as for other commands on bad input.

    Parameters
    ----------
    subparsers
        What :meth:`argparse.ArgumentParser.add_subparsers` returned.

    Returns
    -------
    None

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_parsers(p.add_subparsers(dest="command"))
    >>> a = p.parse_args(["batch", "grid.yaml", "--workers", "2", "--force"])
    >>> a.grid, a.workers, a.force, a.scheduler
    ('grid.yaml', 2, True, None)
    """
    p = subparsers.add_parser(
        "batch",
        help="run chapters over a parameter grid with papermill on Dask",
        description=(
            "Expand a grid file into papermill runs of chapters, execute them on a Dask "
            "LocalCluster (or --scheduler), skip runs finished earlier, and collect every "
            "run's metrics.json into reports/runs/<run-id>/metrics.parquet and .csv."
        ),
    )
    p.add_argument("grid", help="the grid file (YAML); see lobutils.runner.batch")
    p.add_argument("--run-id", default=None, help="batch name (default: the grid's file stem)")
    p.add_argument("--root", default=None, help="parent folder of batches (default reports/runs)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, tcp://host:8786")
    p.add_argument(
        "--workers", type=int, default=None, help="LocalCluster workers (default: cores)"
    )
    p.add_argument("--threads", action="store_true", help="LocalCluster workers as threads")
    p.add_argument("--force", action="store_true", help="rerun finished runs too")
    p.add_argument("--dry-run", action="store_true", help="list the runs and what would run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_batch, show=_show)
