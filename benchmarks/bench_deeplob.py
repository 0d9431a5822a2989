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

Keras against the PyTorch reference (``--compare-torch``)
--------------------------------------------------------
The project's target: on a GPU, DeepLOB in Keras with the JAX backend trains at least **2x** the
samples/s of the authors' PyTorch architecture written in plain PyTorch
(``benchmarks/deeplob_torch.py``), at the same batch size and ``T``, measured in the same run::

    KERAS_BACKEND=jax .venv/bin/python benchmarks/bench_deeplob.py --compare-torch \
        [--batch 64] [--steps 200] [--repeats 5] [--batch-norm] [--keras-loop fit] [--cpu]

Two fresh processes, one after the other: Keras (``KERAS_BACKEND``, ``jax`` when unset) builds
``build_deeplob(T)`` (142,435 parameters; ``--batch-norm`` adds the reference's batch norms)
and compiles it with the reference's optimiser (Adam, learning rate 1e-4, no clipping);
PyTorch builds the reference (143,907 parameters: batch norms, unpadded ``(4, 1)``
convolutions, so its LSTM runs over ``T - 18`` steps). Each runs ``--warmup`` steps (3), then
``--repeats`` timed runs of ``--steps`` steps on one random batch; the median run counts.
Both loops copy the batch from the host and wait for the device every step (Keras'
``train_on_batch``; the reference's ``loss.item()``); ``--keras-loop fit`` times Keras'
``Model.fit`` over ``steps x batch`` in-memory windows instead. Each side runs on the GPU when it
sees one (``--cpu`` hides it from both). The output names each device, the samples/s, the
ratio keras/torch and whether the 2x target is met (judged on a GPU only; on a CPU the ratio
is printed but the target does not apply). The last line is JSON; the exit status is 1 when a
side failed.

On the lent GPU machine (``run`` tool; the image has JAX and PyTorch but no TensorFlow, no Keras
and no network; ``python3`` there is Python 3.12 with numpy, pandas, absl-py, h5py,
ml-dtypes, rich and packaging). ``lobutils.models.deeplob`` imports only keras, numpy and
pandas (``lobutils/__init__.py`` and ``lobutils/models/__init__.py`` import nothing), and
Keras needs ``namex`` and ``optree`` (which needs typing-extensions, also there) besides what
the image has: three wheels. Once, here, in the repository root (``.whl/`` is in
``.gitignore``)::

    .venv/bin/pip download --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d .whl keras==3.15.1 namex==0.1.0 optree==0.20.0

then one ``run`` call with ``carry=[".whl"]`` and the command::

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:. || exit;
    nvidia-smi -L; KERAS_BACKEND=jax PYTHONUNBUFFERED=1 python3 \
        benchmarks/bench_deeplob.py --compare-torch --batch 64 --steps 200 --repeats 5

(the reference's batch size is 64; add a second invocation with ``--batch 256`` or
``--keras-loop fit`` in the same command to see how the ratio moves). The children get the
repository root on ``PYTHONPATH`` themselves, so ``:.`` only matters for imports in the
parent.
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
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TORCH_SCRIPT = REPO / "benchmarks" / "deeplob_torch.py"
TARGET_RATIO = 2.0
"""Keras (JAX) samples/s over the PyTorch reference's, on a GPU, that the project aims for."""

CHILD = r"""
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from lobutils.models.backend import import_quietly
keras = import_quietly("keras")
from lobutils.models import deeplob as dl
from lobutils.models import training as tr
T, batch, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
model = dl.build_deeplob(T=T)
r = tr.measure_throughput(model, batch_size=batch, steps=steps, warmup=3,
                          config=tr.TrainConfig(batch_size=batch))
r["gpu"] = tr.has_gpu()
r["parameters"] = model.count_params()
print("RESULT " + json.dumps(r))
"""


def backends() -> list[str]:
    return [b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b) is not None]


def _child_env(**extra: str) -> dict[str, str]:
    """The environment of a child: the repository importable wherever this runs from."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def _run_child(argv: list[str], env: dict[str, str], label: str, tail: int = 1) -> dict:
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    lines = (out.stderr or out.stdout).strip().splitlines()
    return {"backend": label, "error": lines[-tail:] or [f"exit status {out.returncode}"]}


def run_backend(backend: str, T: int, batch: int, steps: int) -> dict:
    env = _child_env(KERAS_BACKEND=backend)
    argv = [sys.executable, "-c", CHILD, str(T), str(batch), str(steps)]
    return _run_child(argv, env, backend)


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


# --------------------------------------------------------------------------------------
# --compare-torch: Keras DeepLOB against the PyTorch reference, in one run
# --------------------------------------------------------------------------------------

COMPARE_CHILD = r"""
import json, os, platform, statistics, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from lobutils.models.backend import import_quietly
keras = import_quietly("keras")
import numpy as np
from lobutils.models import deeplob as dl
from lobutils.models import training as tr
T, batch, steps, warmup, repeats, bn = (int(a) for a in sys.argv[1:7])
loop = sys.argv[7]
backend = keras.backend.backend()


def device_name():
    cpu = f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"
    if backend == "jax":
        import jax
        d = jax.devices()[0]
        return cpu if d.platform == "cpu" else f"{d.device_kind} ({d.platform})"
    if backend == "torch":
        import torch
        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else cpu
    if backend == "tensorflow":
        import tensorflow as tf
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    return cpu


model = dl.build_deeplob(T=T, batch_norm=bool(bn))
# The reference's optimiser: Adam with learning rate 1e-4, no gradient clipping.
cfg = tr.TrainConfig(batch_size=batch, learning_rate=1e-4, clipnorm=None)
runs = []
if loop == "fit":
    tr.compile_model(model, "classification", cfg)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(steps * batch, T, 40)).astype("float32")
    y = rng.integers(0, 3, size=steps * batch)
    n_warm = max(1, warmup) * batch
    model.fit(x[:n_warm], y[:n_warm], batch_size=batch, epochs=1, shuffle=False, verbose=0)
    import time
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
        runs.append(steps * batch / (time.perf_counter() - t0))
else:
    for i in range(repeats):
        r = tr.measure_throughput(model, batch_size=batch, steps=steps,
                                  warmup=warmup if i == 0 else 0, config=cfg)
        runs.append(r["samples_per_s"])
out = {
    "framework": "keras", "backend": backend, "version": keras.__version__, "loop": loop,
    "samples_per_s": statistics.median(runs), "runs": runs, "steps": steps,
    "batch_size": batch, "T": T, "batch_norm": bool(bn), "gpu": tr.has_gpu(),
    "device_name": device_name(), "parameters": model.count_params(),
}
print("RESULT " + json.dumps(out))
"""


def compare_torch(args: argparse.Namespace) -> int:
    """Keras DeepLOB against the PyTorch reference at the same batch size and T."""
    backend = os.environ.get("KERAS_BACKEND", "jax")
    hide = {"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"} if args.cpu else {}
    common = [str(args.T), str(args.batch), str(args.steps), str(args.warmup), str(args.repeats)]
    if importlib.util.find_spec(backend) is None:
        keras_r = {"backend": backend, "error": [f"the {backend} backend is not installed"]}
    else:
        argv = [sys.executable, "-c", COMPARE_CHILD, *common, str(int(args.batch_norm))]
        argv.append(args.keras_loop)
        keras_r = _run_child(argv, _child_env(KERAS_BACKEND=backend, **hide), backend, tail=5)
    if importlib.util.find_spec("torch") is None:
        torch_r = {"backend": "torch", "error": ["PyTorch is not installed"]}
    else:
        argv = [sys.executable, str(TORCH_SCRIPT), "--T", str(args.T), "--batch", str(args.batch)]
        argv += ["--steps", str(args.steps), "--warmup", str(args.warmup)]
        argv += ["--repeats", str(args.repeats), "--device", "cpu" if args.cpu else "auto"]
        torch_r = _run_child(argv, _child_env(**hide), "torch", tail=5)

    print(
        f"DeepLOB training throughput, Keras ({backend}) against the PyTorch reference: "
        f"T={args.T}, batch {args.batch}, {args.steps} steps x {args.repeats} runs (median), "
        "SYNTHETIC inputs"
    )
    print(f"host: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    ok = True
    for name, r in (("keras", keras_r), ("torch", torch_r)):
        if "samples_per_s" not in r:
            ok = False
            print(f"  {name:<6} failed: {' | '.join(r['error'])}")
            continue
        dev = r["device_name"] if not r["gpu"] else f"GPU {r['device_name']}"
        extra = f", {r['loop']}" if name == "keras" else ""
        print(
            f"  {name:<6} {dev}: {r['samples_per_s']:10,.0f} samples/s "
            f"({r['parameters']:,} parameters{extra}; runs "
            + ", ".join(f"{v:,.0f}" for v in r["runs"])
            + ")"
        )
    ratio = on_gpu = met = None
    if ok:
        ratio = keras_r["samples_per_s"] / torch_r["samples_per_s"]
        on_gpu = bool(keras_r["gpu"] and torch_r["gpu"])
        spread = [max(r["runs"]) / min(r["runs"]) - 1 for r in (keras_r, torch_r)]
        print(f"  ratio keras/torch: {ratio:.2f}x (run-to-run spread up to {max(spread):.0%})")
        if on_gpu:
            met = ratio >= TARGET_RATIO
            print(f"  {TARGET_RATIO:g}x target on GPU: {'MET' if met else 'NOT met'}")
        else:
            print(
                f"  {TARGET_RATIO:g}x target: not judged (it is a GPU target; "
                f"keras on {'GPU' if keras_r['gpu'] else 'CPU'}, "
                f"torch on {'GPU' if torch_r['gpu'] else 'CPU'})"
            )
    summary = {
        "mode": "compare-torch",
        "T": args.T,
        "batch_size": args.batch,
        "steps": args.steps,
        "repeats": args.repeats,
        "keras": keras_r,
        "torch": torch_r,
        "ratio_keras_over_torch": ratio,
        "on_gpu": on_gpu,
        "target_ratio": TARGET_RATIO,
        "target_met": met,
    }
    print(json.dumps(summary))
    return 0 if ok else 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument(
        "--compare-torch",
        action="store_true",
        help="time Keras DeepLOB (KERAS_BACKEND, default jax) against the PyTorch reference",
    )
    ap.add_argument("--repeats", type=int, default=3, help="--compare-torch: timed runs each")
    ap.add_argument("--warmup", type=int, default=3, help="--compare-torch: warm-up steps")
    ap.add_argument(
        "--batch-norm", action="store_true", help="--compare-torch: Keras with batch norms"
    )
    ap.add_argument(
        "--keras-loop",
        choices=("train_on_batch", "fit"),
        default="train_on_batch",
        help="--compare-torch: how Keras trains",
    )
    ap.add_argument("--cpu", action="store_true", help="--compare-torch: hide GPUs from both")
    args = ap.parse_args()
    if args.compare_torch:
        raise SystemExit(compare_torch(args))
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
