"""Benchmark: lobutils.features.core on 1 M rows of 25-level books, against a per-row Python loop.

Run on demand (not a test)::

    .venv/bin/python benchmarks/bench_features.py [--rows 1000000] [--levels 25]

The book and trades are SYNTHETIC (a seeded random walk around 60,000 USD with random level
sizes), built here so the benchmark needs no data. The reference is the way a first attempt
computes VAMP, a Python loop over rows and levels, in two forms: over the book frame's rows
(``itertuples``, the book frame's layout; the target is against this one) and over
plain numpy arrays (a stricter reference, reported beside it). Each is timed on a subsample
(``--sample`` rows, default 20,000) and scaled per row to the full size, in the same process
as the compiled version; the output says so. Numba kernels are compiled (or loaded from the
cache) before timing. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time

import numba
import numpy as np
import pandas as pd

from lobutils.features import core as F
from lobutils.schema import book_columns

NS = 1_000_000_000
VAMP_CASE = "vamp_detail (60k USD)"


def synthetic_book(rows: int, levels: int, seed: int = 0):
    """SYNTHETIC book: best bid a random walk on a 0.1 USD tick around 60,000 USD; level
    sizes exponential with mean 0.25 BTC (about 15,000 USD), so a 60,000 USD cutoff walks
    about four to five levels; 1% of rows lose their deepest level."""
    rng = np.random.default_rng(seed)
    tick = 0.1
    best_bid = 60_000.0 + tick * np.cumsum(rng.integers(-1, 2, rows))
    best_ask = best_bid + tick * rng.integers(1, 3, rows)
    gaps = rng.integers(1, 4, (2, rows, levels)).astype(np.float64)
    gaps[:, :, 0] = 0.0
    bid_px = best_bid[:, None] - tick * np.cumsum(gaps[0], axis=1)
    ask_px = best_ask[:, None] + tick * np.cumsum(gaps[1], axis=1)
    del gaps
    bid_qty = rng.exponential(0.25, (rows, levels)).round(3) + 0.001
    ask_qty = rng.exponential(0.25, (rows, levels)).round(3) + 0.001
    for px, qty in ((bid_px, bid_qty), (ask_px, ask_qty)):
        gone = rng.random(rows) < 0.01
        px[gone, -1] = np.nan
        qty[gone, -1] = 0.0
    ts = 1_723_161_600 * NS + np.cumsum(rng.integers(0, 200_000_000, rows)).astype(np.int64)
    return ts, bid_px, bid_qty, ask_px, ask_qty


def synthetic_trades(ts: np.ndarray, n: int, seed: int = 1):
    """SYNTHETIC trades spread over the book's time span."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(ts[0], ts[-1], n)).astype(np.int64)
    price = 60_000.0 + rng.normal(0, 50, n)
    qty = rng.exponential(0.05, n) + 0.001
    side = rng.choice(np.array([-1, 1], dtype=np.int8), n)
    return t, price, qty, side


def vamp_python_loop(bid_px, bid_qty, ask_px, ask_qty, cutoff):
    """The reference: a plain Python loop over rows and levels, as a first attempt writes it."""
    n, n_levels = bid_px.shape
    out = np.empty(n)
    for i in range(n):
        sides = []
        for px, qty in ((bid_px, bid_qty), (ask_px, ask_qty)):
            remaining = cutoff
            base = 0.0
            for j in range(n_levels):
                p = px[i, j]
                q = qty[i, j]
                if q == 0 or math.isnan(p):
                    continue
                value = p * q
                if value >= remaining:
                    base += remaining / p
                    remaining = 0.0
                    break
                base += q
                remaining -= value
            sides.append(cutoff / base if remaining == 0.0 else math.nan)
        out[i] = (sides[0] + sides[1]) / 2
    return out


def vamp_frame_loop(frame, levels: int, cutoff: float) -> np.ndarray:
    """The same walk in the seed's data layout: row by row over a book frame's columns.

    A first attempt computes VAMP on the book frame itself, a row at a time. This is that loop with
    ``itertuples`` (the fastest pandas row iterator) and nothing else changed.
    """
    names = [
        [(f"{s}_px_{k}", f"{s}_qty_{k}") for k in range(1, levels + 1)] for s in ("bid", "ask")
    ]
    cols = list(frame.columns)
    idx = [[(cols.index(p), cols.index(q)) for p, q in side] for side in names]
    out = np.empty(len(frame))
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        sides = []
        for side in idx:
            remaining, base = cutoff, 0.0
            for jp, jq in side:
                p, q = row[jp], row[jq]
                if q == 0 or math.isnan(p):
                    continue
                value = p * q
                if value >= remaining:
                    base += remaining / p
                    remaining = 0.0
                    break
                base += q
                remaining -= value
            sides.append(cutoff / base if remaining == 0.0 else math.nan)
        out[i] = (sides[0] + sides[1]) / 2
    return out


def best_time(func, repeat: int) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--levels", type=int, default=25)
    parser.add_argument("--sample", type=int, default=20_000, help="rows for the Python loop")
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--cutoff", type=float, default=60_000.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    ts, bp, bq, ap, aq = synthetic_book(args.rows, args.levels)
    trade_ts, price, qty, side = synthetic_trades(ts, args.trades)
    m = F.mid(bp, ap)

    # compile (or load the cached kernels) outside the timings
    small = slice(0, 1000)
    F.vamp_detail(bp[small], bq[small], ap[small], aq[small], args.cutoff)
    F.ofi(bp[small], bq[small], ap[small], aq[small], seconds=1.0, ts=ts[small])
    F.trade_imbalance(ts[small], trade_ts[:1000], price[:1000], qty[:1000], side[:1000])

    cases = {
        "mid + spread_bps + microprice": lambda: (
            F.mid(bp, ap),
            F.spread_bps(bp, ap),
            F.microprice(bp, bq, ap, aq),
        ),
        VAMP_CASE: lambda: F.vamp_detail(bp, bq, ap, aq, args.cutoff),
        "quote_imbalance (5 levels)": lambda: F.quote_imbalance(bq, aq, levels=5),
        "ofi (best, 1 s window)": lambda: F.ofi(bp, bq, ap, aq, seconds=1.0, ts=ts),
        "mlofi (10 levels, 100 events)": lambda: F.mlofi(bp, bq, ap, aq, levels=10, events=100),
        "realized_volatility (60 s)": lambda: F.realized_volatility(m, seconds=60.0, ts=ts),
        "trade_imbalance (60 s)": lambda: F.trade_imbalance(
            ts, trade_ts, price, qty, side, window=60.0
        ),
        "trade_intensity (60 s)": lambda: F.trade_intensity(ts, trade_ts, window=60.0),
        "level log returns + volumes": lambda: (
            F.level_log_returns(bp),
            F.level_log_volumes(bq),
        ),
        "time_of_day": lambda: F.time_of_day(ts),
    }
    timings = {}
    for name, func in cases.items():
        timings[name], result = best_time(func, args.repeat)
        if name == VAMP_CASE:
            vamp_result = result

    sample = min(args.sample, args.rows)
    sub = slice(0, sample)
    t0 = time.perf_counter()
    ref = vamp_python_loop(bp[sub], bq[sub], ap[sub], aq[sub], args.cutoff)
    loop_sample_s = time.perf_counter() - t0
    loop_per_row = loop_sample_s / sample
    loop_full_s = loop_per_row * args.rows
    np.testing.assert_allclose(vamp_result.vamp[sub], ref, rtol=1e-10, equal_nan=True)
    frame = pd.DataFrame(
        np.concatenate([bp[sub], bq[sub], ap[sub], aq[sub]], axis=1),
        columns=book_columns(args.levels)[3:],
    )
    t0 = time.perf_counter()
    ref_frame = vamp_frame_loop(frame, args.levels, args.cutoff)
    frame_per_row = (time.perf_counter() - t0) / sample
    np.testing.assert_allclose(ref_frame, ref, rtol=1e-12, equal_nan=True)
    vamp_s = timings[VAMP_CASE]
    speedup = loop_full_s / vamp_s
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        vamp_1t_s, _ = best_time(lambda: F.vamp_detail(bp, bq, ap, aq, args.cutoff), args.repeat)
    finally:
        numba.set_num_threads(threads)
    speedup_1t = loop_full_s / vamp_1t_s
    frame_full_s = frame_per_row * args.rows

    print(
        f"SYNTHETIC book: {args.rows:,} rows x {args.levels} levels per side, "
        f"{args.trades:,} synthetic trades; best of {args.repeat} runs; "
        f"numba threads: {threads} ({numba.threading_layer()})"
    )
    print(f"{'feature':<34}{'seconds':>10}{'ns/row':>10}")
    for name, sec in timings.items():
        print(f"{name:<34}{sec:>10.3f}{sec / args.rows * 1e9:>10.1f}")
    total = sum(timings.values())
    print(f"{'all of the above':<34}{total:>10.3f}{total / args.rows * 1e9:>10.1f}")
    print(
        f"\nPython per-row VAMP loop over the frame: {loop_sample_s:.2f} s on {sample:,} rows "
        f"= {loop_per_row * 1e6:.2f} us/row, scaled per row to {args.rows:,} rows: "
        f"{loop_full_s:.1f} s (results agree with lobutils on the subsample)"
    )
    print(
        f"the same loop over the book frame's rows (itertuples, the seed's layout): "
        f"{frame_per_row * 1e6:.2f} us/row, scaled: {frame_full_s:.1f} s"
    )
    print(f"{'':<34}{'seconds':>10}{'vs array loop':>15}{'vs frame loop':>15}")
    for label, sec in (
        (f"vamp_detail, {threads} threads", vamp_s),
        ("vamp_detail, 1 thread", vamp_1t_s),
    ):
        print(f"{label:<34}{sec:>10.3f}{loop_full_s / sec:>14.0f}x{frame_full_s / sec:>14.0f}x")
    print(
        "(speed-up = scaled Python loop time / lobutils time, same process; target >= 100x "
        "against a per-row loop over the book frame)"
    )
    print(f"rows where a side lacked depth for the cutoff: {vamp_result.n_insufficient:,}")

    summary = {
        "benchmark": "bench_features",
        "data": "synthetic",
        "rows": args.rows,
        "levels": args.levels,
        "trades": args.trades,
        "cutoff": args.cutoff,
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
        "total_s": round(total, 4),
        "python_loop_sample_rows": sample,
        "python_loop_us_per_row": round(loop_per_row * 1e6, 3),
        "python_loop_scaled_s": round(loop_full_s, 2),
        "vamp_s": round(vamp_s, 4),
        "vamp_speedup": round(speedup, 1),
        "frame_loop_us_per_row": round(frame_per_row * 1e6, 3),
        "vamp_speedup_vs_frame_loop": round(frame_full_s / vamp_s, 1),
        "numba_threads": threads,
        "vamp_1thread_s": round(vamp_1t_s, 4),
        "vamp_1thread_speedup": round(speedup_1t, 1),
        "target_speedup": 100,
        "vamp_insufficient_rows": vamp_result.n_insufficient,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
