"""Reconstruction throughput, in price-level updates per second (each [price, qty] pair is one).

Run on demand (not a test): ``python benchmarks/bench_reconstruct.py [--all] [--json]``.

Two paths, each against its pure-Python reference measured in the same run:

* kernel: replaying parsed messages and emitting the top 10 after every diff
  (:func:`lobutils.book.replay.reconstruct`'s numba kernel vs :class:`lobutils.book.replay.ReferenceBook`);
* end-to-end: from the gzip files to the book frame, parsing included
  (:func:`read_binance_recording` + :func:`reconstruct` vs :func:`read_recording_python` +
  :class:`ReferenceBook`).

The reference runs on the COIN-M BTC segment only unless ``--all`` is given (it is slow).
Each fast timing is the best of several repeats after a warm-up (numba compiles once).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from lobutils.book.replay import ReferenceBook, reconstruct
from lobutils.data.binance import read_binance_recording, read_recording_python
from lobutils.data.catalog import segments

LEVELS = 10


def best_of(fn, repeats):
    best = float("inf")
    out = None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench_segment(seg, with_reference: bool, repeats: int) -> dict:
    files = seg.files
    rec = read_binance_recording(files)  # warm-up: numba loads or compiles its kernels
    reconstruct(rec, levels=LEVELS)
    n = int((rec.depth.side != 0).sum())
    kernel = min(reconstruct(rec, levels=LEVELS).stats["seconds"] for _ in range(repeats))
    parse, _ = best_of(lambda: read_binance_recording(files), repeats)
    e2e, _ = best_of(lambda: reconstruct(read_binance_recording(files), levels=LEVELS), repeats)
    row = {
        "segment": seg.name,
        "level_updates": n,
        "kernel_s": kernel,
        "kernel_per_s": n / kernel,
        "parse_s": parse,
        "parse_per_s": n / parse,
        "e2e_s": e2e,
        "e2e_per_s": n / e2e,
    }
    if with_reference:
        msgs = ReferenceBook.messages(rec.depth)
        ref_kernel, _ = best_of(lambda: ReferenceBook(rec.market).replay(msgs, LEVELS), 1)

        def ref_e2e():
            r = read_recording_python(files)
            return ReferenceBook(r.market).run(r.depth, LEVELS)

        ref_total, _ = best_of(ref_e2e, 1)
        row |= {
            "ref_kernel_per_s": n / ref_kernel,
            "ref_e2e_per_s": n / ref_total,
            "kernel_speedup": ref_kernel / kernel,
            "e2e_speedup": ref_total / e2e,
        }
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--all", action="store_true", help="run the pure-Python reference on every segment"
    )
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print only the JSON line")
    args = ap.parse_args()
    rows = [
        bench_segment(s, args.all or s.name == "cm_btcusd_perp", args.repeats) for s in segments()
    ]
    total_n = sum(r["level_updates"] for r in rows)
    total = {
        "level_updates": total_n,
        "kernel_per_s": total_n / sum(r["kernel_s"] for r in rows),
        "parse_per_s": total_n / sum(r["parse_s"] for r in rows),
        "e2e_per_s": total_n / sum(r["e2e_s"] for r in rows),
    }
    result = {
        "benchmark": "reconstruct",
        "levels": LEVELS,
        "machine": platform.processor() or platform.machine(),
        "segments": rows,
        "total": total,
    }
    if not args.json:
        print(
            f"{'segment':<16} {'updates':>9} {'kernel/s':>10} {'e2e/s':>10} {'ref kern/s':>11} {'ref e2e/s':>10} {'kern x':>7} {'e2e x':>6}"
        )
        for r in rows:
            ref = r.get("ref_kernel_per_s")
            extra = (
                f"{ref:>11.3g} {r['ref_e2e_per_s']:>10.3g} {r['kernel_speedup']:>7.0f} {r['e2e_speedup']:>6.1f}"
                if ref
                else ""
            )
            print(
                f"{r['segment']:<16} {r['level_updates']:>9} {r['kernel_per_s']:>10.3g} {r['e2e_per_s']:>10.3g} {extra}"
            )
        print(
            f"{'all':<16} {total_n:>9} {total['kernel_per_s']:>10.3g} {total['e2e_per_s']:>10.3g}"
        )
        print("targets: kernel >= 2e7 level updates/s (top 10 per diff); end-to-end >= 2e6")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
