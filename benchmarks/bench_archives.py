"""Benchmark: the Bybit and Tardis archive readers, against naive line-by-line parsers.

Run on demand (not a test)::

    .venv/bin/python benchmarks/bench_archives.py [--messages 200000] [--rows 2000000]

The files are SYNTHETIC, written here in the real layouts (a Bybit ``ob200`` zip of one
200-level snapshot and deltas of 0-12 levels a side; a Tardis ``incremental_book_L2`` gzip
CSV of one snapshot and single-level updates) around 60,000 USD. The references are what a
first script would do: ``json.loads`` and ``float()`` per level for Bybit, the ``csv`` module
for Tardis, timed in the same process on the same files, without any of the readers' checks.
The last line is JSON.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import platform
import random
import tempfile
import time
import zipfile
from pathlib import Path

from lobutils.data.archives import read_bybit_orderbook, read_tardis_book

T0 = 1_723_075_200_000
MID = 60_000.0


def write_bybit(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)

    def lv(p, q):
        return [f"{p:.1f}", f"{q:.3f}"]

    lines = []
    snap = {
        "topic": "orderbook.200.BTCUSDT",
        "type": "snapshot",
        "ts": T0,
        "data": {
            "s": "BTCUSDT",
            "b": [lv(MID - 0.1 * i - 0.1, 1 + i) for i in range(200)],
            "a": [lv(MID + 0.1 * i, 1 + i) for i in range(200)],
            "u": 1,
            "seq": 1,
        },
        "cts": T0,
    }
    lines.append(json.dumps(snap, separators=(",", ":")))
    for k in range(1, n):
        b = [
            lv(MID - 0.1 * rng.randint(1, 200), rng.random() * 3) for _ in range(rng.randint(0, 12))
        ]
        a = [
            lv(MID + 0.1 * rng.randint(0, 199), rng.random() * 3) for _ in range(rng.randint(0, 12))
        ]
        msg = {
            "topic": "orderbook.200.BTCUSDT",
            "type": "delta",
            "ts": T0 + 100 * k,
            "data": {"s": "BTCUSDT", "b": b, "a": a, "u": k + 1, "seq": k + 1},
            "cts": T0 + 100 * k - 2,
        }
        lines.append(json.dumps(msg, separators=(",", ":")))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(path.name.removesuffix(".zip"), "\n".join(lines) + "\n")


def write_tardis(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    us = T0 * 1000
    rows = ["exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"]
    for i in range(200):
        rows.append(
            f"binance-futures,BTCUSDT,{us},{us + 5},true,bid,{MID - 0.1 * i - 0.1:.1f},{1 + i}"
        )
        rows.append(f"binance-futures,BTCUSDT,{us},{us + 5},true,ask,{MID + 0.1 * i:.1f},{1 + i}")
    for k in range(n):
        t = us + 10 + k // 3 * 1000
        if rng.random() < 0.5:
            px = MID - 0.1 * rng.randint(1, 200)
            side = "bid"
        else:
            px = MID + 0.1 * rng.randint(0, 199)
            side = "ask"
        rows.append(
            f"binance-futures,BTCUSDT,{t},{t + 5},false,{side},{px:.1f},{rng.random() * 3:.3f}"
        )
    with gzip.open(path, "wt", compresslevel=1) as fh:
        fh.write("\n".join(rows) + "\n")


def naive_bybit(path: Path) -> int:
    n = 0
    with zipfile.ZipFile(path) as z, z.open(z.namelist()[0]) as fh:
        for raw in fh:
            msg = json.loads(raw)
            for side in ("b", "a"):
                for p, q in msg["data"][side]:
                    float(p), float(q)
                    n += 1
    return n


def naive_tardis(path: Path) -> int:
    n = 0
    with gzip.open(path, "rt") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            int(row[2]), int(row[3]), row[4] == "true", float(row[6]), float(row[7])
            n += 1
    return n


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--rows", type=int, default=2_000_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    bybit = tmp / "2024-08-08_BTCUSDT_ob200.data.zip"
    tardis = tmp / "binance-futures_incremental_book_L2_2024-08-08_BTCUSDT.csv.gz"
    write_bybit(bybit, args.messages)
    write_tardis(tardis, args.rows)
    t_b, rec = timed(read_bybit_orderbook, bybit)
    t_bn, _ = timed(naive_bybit, bybit)
    t_t, rec_t = timed(read_tardis_book, tardis)
    t_tn, _ = timed(naive_tardis, tardis)
    result = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "bybit_messages": args.messages,
        "bybit_level_rows": len(rec.depth),
        "bybit_seconds": round(t_b, 3),
        "bybit_messages_per_s": round(args.messages / t_b),
        "bybit_naive_seconds": round(t_bn, 3),
        "bybit_speedup_vs_naive": round(t_bn / t_b, 2),
        "tardis_rows": args.rows,
        "tardis_seconds": round(t_t, 3),
        "tardis_rows_per_s": round(args.rows / t_t),
        "tardis_naive_seconds": round(t_tn, 3),
        "tardis_speedup_vs_naive": round(t_tn / t_t, 2),
        "tardis_messages": rec_t.stats["messages"],
    }
    for k, v in result.items():
        print(f"{k:>26}: {v}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
