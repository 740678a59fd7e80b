"""Benchmark: BG/NBD maximum-likelihood fit on all 23,570 CDNOW customers (target: under 5 s on one core).

The RFM summary is built from ``cdnow_master_transactions.csv`` over the 39-week calibration period
1997-01-01..1997-09-30 (the period of Fader, Hardie & Lee 2005). Prints the wall time of each fit (untraced),
their median, the peak traced memory of one more fit (tracemalloc, a separate run since tracing slows Python
code) and the process's peak resident set size. Numerical libraries are limited to one thread.

    .venv/bin/python bench/bench_clv.py [--data ../shared/data/real/cdnow_lifetimes] [--repeat 5]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: set before numpy loads its BLAS

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from salesops.stats.clv import BGNBD, rfm_summary  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "cdnow_lifetimes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT), help="folder holding cdnow_master_transactions.csv")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = Path(args.data) / "cdnow_master_transactions.csv"
    if not path.exists():
        raise SystemExit(f"not found: {path} (the real data sets live beside the checkout, see shared/data/real)")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    tx = pd.read_csv(path, dtype={"customer_id": str})
    start = time.perf_counter()
    cal = rfm_summary(tx, "customer_id", "date", "dollar_value", observation_end="1997-09-30", date_format="%Y%m%d")
    rfm_time = time.perf_counter() - start
    print(f"data: {path} ({len(tx):,} transactions, {len(cal):,} customers); RFM summary {rfm_time:.3f} s")

    times = []
    model = BGNBD()
    for i in range(args.repeat):
        start = time.perf_counter()
        model = BGNBD().fit(cal.frequency, cal.recency, cal["T"])
        times.append(time.perf_counter() - start)
        print(f"run {i + 1}: fit {times[-1]:.3f} s")
    tracemalloc.start()
    BGNBD().fit(cal.frequency, cal.recency, cal["T"])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    params = ", ".join(f"{k} = {v:.4f}" for k, v in model.params_.items())
    print(f"fitted: {params}; log-likelihood {model.log_likelihood_:.2f}; converged {model.converged_}; "
          f"{model.n_distinct_:,} distinct (x, t_x, T) rows")
    print(f"median fit time over {args.repeat}: {statistics.median(times):.3f} s (target < 5 s)")
    print(f"peak traced memory of one fit: {peak / 2**20:.1f} MiB; process peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
