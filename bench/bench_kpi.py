"""Benchmark: the whole KPI set on the sample and on a 10x generated CRM, and the BG/NBD fit on all CDNOW customers.

Three measurements, each printed as the wall time of every run (untraced), their median, and the peak traced
memory of one more run (tracemalloc, a separate run since tracing slows Python code):

1. the KPI set (every function of :mod:`salesops.kpi` on the whole data, plus the KPI page's sections for
   the latest complete quarter) on ``data/sample``, already loaded;
2. the same on a CRM generated with ``salesops.sample.generate(size=10)`` and written to a temporary folder
   (or ``--big PATH``, a folder written before), then loaded; generation and loading are timed apart;
3. the BG/NBD fit (through :func:`salesops.kpi.fit_clv`'s model) on all 23,570 CDNOW customers, calibration
   period 1997-01-01..1997-09-30, on one core; target under 5 s.

Numerical libraries are limited to one thread and the process to one core.

    .venv/bin/python bench/bench_kpi.py [--repeat 3] [--size 10] [--big PATH] [--skip-big] [--cdnow PATH]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: set before numpy loads its BLAS

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from _timing import times_and_peak  # noqa: E402

import salesops  # noqa: E402
from salesops import kpi  # noqa: E402
from salesops.kpi.panels import kpi_panels  # noqa: E402
from salesops.periods import latest_complete_quarter  # noqa: E402
from salesops.stats import BGNBD  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT.parent / "shared" / "data" / "real" / "cdnow_lifetimes"


def kpi_set(data: salesops.SalesData) -> dict[str, float]:
    """Every KPI on the whole data; returns the seconds each took (a KPI the data cannot support is skipped)."""
    quarter = latest_complete_quarter(data.as_of)
    jobs: list[tuple[str, Callable[[], object]]] = [
        ("activity by role", lambda: kpi.activity_per_working_day(data, "role")),
        ("activity per rep-quarter + spread", lambda: kpi.activity_distribution(
            kpi.activity_per_working_day(data, ["rep_id", "role"], "quarter"), "role")),
        ("activity by role x type x month", lambda: kpi.activity_per_working_day(data, ["role", "type"], "month")),
        ("win rate by segment x quarter", lambda: kpi.win_rates(data, "segment", "quarter")),
        ("shrunk win rate per rep", lambda: kpi.rep_win_rates(data, "segment", "quarter")),
        ("sales cycle (KM) by segment", lambda: kpi.sales_cycle(data, "segment")),
        ("cycle curves by segment", lambda: kpi.cycle_curves(data, "segment")),
        ("bookings + Q4 uplift", lambda: (kpi.bookings(data, "segment"), kpi.q4_uplift(data))),
        ("CAC by channel x quarter", lambda: kpi.cac(data, "channel", "quarter")),
        ("CAC payback by channel", lambda: kpi.cac_payback(data, 0.75, "channel")),
        ("churn by segment (revenue, logo)", lambda: (kpi.monthly_churn(data, "segment"),
                                                      kpi.monthly_churn(data, "segment", kind="logo"))),
        ("cohort retention", lambda: kpi.cohort_retention(data, "quarter", "segment")),
        ("subscription LTV + LTV:CAC", lambda: kpi.ltv_to_cac(kpi.subscription_ltv(data, 0.75, "channel"),
                                                              kpi.cac(data, "channel"), on="channel")),
        (f"KPI page sections {quarter}", lambda: kpi_panels(data, quarter)),
    ]
    took = {}
    for name, job in jobs:
        start = time.perf_counter()
        try:
            job()
        except kpi.MissingDataError:
            continue
        took[name] = time.perf_counter() - start
    return took


def measure(fn: Callable[[], object], repeat: int) -> tuple[list[float], float]:
    """Wall times of ``repeat`` untraced runs, then the peak traced memory (MiB) of one more run."""
    return times_and_peak(fn, repeat)


def bench_kpis(label: str, data: salesops.SalesData, repeat: int) -> None:
    rows = {k: len(v) for k, v in data.tables.items()}
    print(f"\n== KPI set on {label}: {rows.get('opportunities', 0):,} opportunities, "
          f"{rows.get('activities', 0):,} activities, {rows.get('revenue', 0):,} revenue rows")
    parts = kpi_set(data)  # warm-up, and the split of one run
    for name, seconds in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"   {seconds:7.3f} s  {name}")
    times, peak = measure(lambda: kpi_set(data), repeat)
    print("runs: " + ", ".join(f"{t:.2f} s" for t in times))
    print(f"median {statistics.median(times):.2f} s; peak traced memory {peak:,.0f} MiB")


def bench_bgnbd(folder: Path, repeat: int) -> None:
    path = folder / "cdnow_master_transactions.csv"
    if not path.exists():
        print(f"\n== BG/NBD on CDNOW: skipped, {path} not found (the real data sets live beside the checkout)")
        return
    raw = pd.read_csv(path, dtype={"customer_id": str})
    tx = pd.DataFrame({"customer_id": raw["customer_id"],
                       "date": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
                       "amount": raw["dollar_value"].astype(float)})
    start = time.perf_counter()
    summary = kpi.rfm(tx, observation_end="1997-09-30")
    rfm_time = time.perf_counter() - start
    print(f"\n== BG/NBD on all CDNOW customers: {len(tx):,} transactions, {len(summary):,} customers "
          f"(RFM summary {rfm_time:.3f} s)")

    def fit() -> BGNBD:
        return BGNBD().fit(summary["frequency"], summary["recency"], summary["T"])

    times, peak = measure(fit, repeat)
    model = fit()
    print("runs: " + ", ".join(f"{t:.3f} s" for t in times))
    print(f"median {statistics.median(times):.3f} s (target < 5 s on one core); peak traced memory {peak:,.1f} MiB")
    print(f"r = {model.r_:.4f}, alpha = {model.alpha_:.4f}, a = {model.a_:.4f}, b = {model.b_:.4f}, "
          f"{model.n_distinct_:,} distinct rows")
    times, peak = measure(lambda: kpi.fit_clv(summary), repeat)
    print(f"BG/NBD + Gamma-Gamma (kpi.fit_clv): median {statistics.median(times):.3f} s, "
          f"peak traced memory {peak:,.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "data" / "sample"), help="the sample CRM folder")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=float, default=10.0, help="size of the generated CRM")
    parser.add_argument("--big", default=None, help="folder of a CRM generated before (skips generation)")
    parser.add_argument("--skip-big", action="store_true", help="only the sample and CDNOW")
    parser.add_argument("--cdnow", default=str(CDNOW), help="folder holding cdnow_master_transactions.csv")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    start = time.perf_counter()
    sample = salesops.load(args.data)
    print(f"loaded {args.data} in {time.perf_counter() - start:.1f} s")
    bench_kpis("the sample", sample, args.repeat)
    del sample

    if not args.skip_big:
        with tempfile.TemporaryDirectory(prefix="salesops-kpi-bench-") as tmp:
            folder = Path(args.big) if args.big else Path(tmp) / f"size{args.size:g}"
            if not args.big:
                from salesops.sample import generate, write

                start = time.perf_counter()
                write(generate(size=args.size), folder)
                print(f"\ngenerated size={args.size:g} into {folder} in {time.perf_counter() - start:.1f} s")
            start = time.perf_counter()
            big = salesops.load(folder)
            print(f"loaded it in {time.perf_counter() - start:.1f} s")
            bench_kpis(f"the {args.size:g}x CRM", big, args.repeat)
            del big

    bench_bgnbd(Path(args.cdnow), max(args.repeat, 5))
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak resident set size: {peak_rss:,.0f} MiB")


if __name__ == "__main__":
    main()
