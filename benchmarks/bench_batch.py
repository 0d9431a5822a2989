"""Benchmark: a batch of chapter runs on 2 Dask workers, against the same grid on 1 worker.

Run on demand (not a test)::

    .venv/bin/python benchmarks/bench_batch.py [--workers 2] [--segments 2] [--horizons 1 10]

The grid is chapter 6 on the bundled data, one run per (segment, horizon), with small settings
(one model, a small bootstrap), so each run is dominated by what every batch run pays: a
kernel start, the imports and the dataset. Both batches run with ``force=True`` into temporary
folders, through the same code (:func:`lobutils.runner.batch.run_batch` on a LocalCluster), so the
ratio is the parallel speed-up of the batch runner on this machine. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

from lobutils.data.catalog import segments
from lobutils.runner import batch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--segments", type=int, default=2, help="first N bundled segments")
    ap.add_argument("--horizons", type=int, nargs="+", default=[1, 10])
    args = ap.parse_args()

    names = [s.name for s in segments()][: args.segments]
    spec = {
        "chapter": "06_ml_zoo",
        "parameters": {
            "MODELS": ["linear"],
            "TARGETS": ["return"],
            "LEVELS": 10,
            "N_BOOT": 50,
            "IMPORTANCE_REPEATS": 0,
        },
        "grid": {"SEGMENTS": names, "HORIZONS": args.horizons},
        "as_list": ["SEGMENTS", "HORIZONS"],
    }
    runs = batch.expand_grid(spec)
    seconds = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, workers in (("sequential", 1), ("parallel", args.workers)):
            t0 = time.perf_counter()
            res = batch.run_batch(
                runs,
                run_id=label,
                root=tmp,
                workers=workers,
                force=True,
                progress=False,
            )
            seconds[label] = time.perf_counter() - t0
            if not res.ok:
                raise SystemExit(f"{label}: {len(res.failed)} run(s) failed")
            print(f"{label:>10}: {len(runs)} runs on {workers} worker(s) in {seconds[label]:.1f} s")
    speedup = seconds["sequential"] / seconds["parallel"]
    print(f"speed-up with {args.workers} workers: {speedup:.2f}x")
    print(
        json.dumps(
            {
                "benchmark": "batch",
                "runs": len(runs),
                "workers": args.workers,
                "sequential_s": round(seconds["sequential"], 2),
                "parallel_s": round(seconds["parallel"], 2),
                "speedup": round(speedup, 3),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
