"""Benchmark: ``salesops.load`` against reading the same files with plain pandas (no mapping, no checks).

Prints, for each run, wall time (untraced) and peak traced memory (tracemalloc, a separate run) of both, and their ratio; the
median over ``--repeat`` runs is what to quote (the machine is shared and noisy).

    .venv/bin/python bench/bench_load.py [--data data/sample] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from pathlib import Path

import salesops
from salesops.io.readers import iter_source


def plain_pandas(folder: Path) -> int:
    rows = 0
    for raw in iter_source(folder):
        rows += len(raw.frame)
    return rows


def measure(fn, *args) -> tuple[float, float]:
    """Wall time of one untraced run, then peak traced memory of a second run (tracing slows Python code)."""
    start = time.perf_counter()
    fn(*args)
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    fn(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[1] / "data" / "sample"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(args.data)
    rows = sum(len(t) for t in salesops.load(folder).tables.values())
    print(f"data: {folder} ({rows:,} accepted rows)")
    base, full = [], []
    for i in range(args.repeat):
        base.append(measure(plain_pandas, folder))
        full.append(measure(salesops.load, folder))
        print(f"run {i + 1}: read only {base[-1][0]:.2f} s / {base[-1][1]:.0f} MiB; "
              f"salesops.load {full[-1][0]:.2f} s / {full[-1][1]:.0f} MiB")
    t_base = statistics.median(t for t, _ in base)
    t_full = statistics.median(t for t, _ in full)
    m_base = statistics.median(m for _, m in base)
    m_full = statistics.median(m for _, m in full)
    print(f"median: read only {t_base:.2f} s, {m_base:.0f} MiB peak; salesops.load {t_full:.2f} s, {m_full:.0f} MiB peak")
    print(f"ratio load/read: time {t_full / t_base:.2f}x, peak memory {m_full / m_base:.2f}x")
    print(f"throughput: {rows / t_full:,.0f} rows/s validated")


if __name__ == "__main__":
    main()
