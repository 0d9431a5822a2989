"""Benchmark: DeepLOB training throughput (windows per second) with each available backend.

Run on demand (not a test)::

    .venv/bin/python benchmarks/bench_deeplob.py [--batch 64] [--steps 20] [--T 100]

For each Keras backend that is installed (tensorflow, jax, torch), a fresh Python process
builds the 142,435-parameter DeepLOB classifier (``lobutils.models.deeplob.build_deeplob``),
runs a few warm-up steps (graph tracing and compilation), then times ``--steps`` training
steps on random inputs of shape ``(batch, T, 40)`` (``measure_throughput``: pure training,
no data loading). It also times ``WindowDataset`` cutting batches from a memory-mapped array,
to show that serving windows costs far less than training on them. Ratios are against the
first backend measured in this run. The inputs are SYNTHETIC (random). The last line is JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

CHILD = r"""
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from lobutils.models.backend import import_quietly
keras = import_quietly("keras")
from lobutils.models import deeplob as dl
T, batch, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
model = dl.build_deeplob(T=T)
r = dl.measure_throughput(model, batch_size=batch, steps=steps, warmup=3,
                          config=dl.TrainConfig(batch_size=batch))
r["gpu"] = dl.has_gpu()
r["parameters"] = model.count_params()
print("RESULT " + json.dumps(r))
"""


def backends() -> list[str]:
    return [b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b) is not None]


def run_backend(backend: str, T: int, batch: int, steps: int) -> dict:
    env = dict(os.environ, KERAS_BACKEND=backend)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(T), str(batch), str(steps)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"backend": backend, "error": (out.stderr or out.stdout).strip().splitlines()[-1:]}


def window_serving(T: int, batch: int, rows: int = 200_000) -> float:
    """Windows per second that WindowDataset cuts from a memory-mapped (rows, 40) array."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from lobutils.models.backend import import_quietly

    import_quietly("keras")
    from lobutils.models.windows import WindowDataset

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "lob.npy")
        np.save(path, rng.normal(size=(rows, 40)).astype("float32"))
        mm = np.load(path, mmap_mode="r")
        ds = WindowDataset(mm, np.arange(T - 1, rows), T=T, batch_size=batch, shuffle=True)
        n = min(len(ds), 200)
        t0 = time.perf_counter()
        for i in range(n):
            ds[i]
        secs = time.perf_counter() - t0
    return n * batch / secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    results = [run_backend(b, args.T, args.batch, args.steps) for b in backends()]
    ref = next((r for r in results if "samples_per_s" in r), None)
    print(f"DeepLOB training throughput, T={args.T}, batch {args.batch}, {args.steps} steps")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    for r in results:
        if "samples_per_s" not in r:
            print(f"  {r['backend']:<11} failed: {r['error']}")
            continue
        ratio = r["samples_per_s"] / ref["samples_per_s"]
        where = "GPU" if r["gpu"] else "CPU"
        print(
            f"  {r['backend']:<11} {where}: {r['samples_per_s']:8.0f} windows/s "
            f"({ratio:.2f}x {ref['backend']})"
        )
    serve = window_serving(args.T, args.batch)
    print(f"  WindowDataset over a memory map: {serve:,.0f} windows/s served (no training)")
    print(json.dumps({"training": results, "window_serving_per_s": serve}))


if __name__ == "__main__":
    main()
