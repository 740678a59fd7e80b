"""Benchmark: the process-evaluation analyses of notebook 09 (ITS, campaign lift, ROI, benchmarks) on a CRM export.

Prints, per analysis, the median wall time over ``--repeat`` untraced runs and the peak traced memory
(tracemalloc, a separate run). The machine is shared and noisy: quote the medians.

    .venv/bin/python bench/bench_experiments.py [--data data/sample] [--quarter 2025Q4] [--repeat 3]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _timing import median_and_peak as measure

import salesops
from salesops.experiments import (
    campaign_lift_study,
    campaign_roi,
    company_figures,
    compare_to_benchmarks,
    process_change_study,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[1] / "data" / "sample"))
    parser.add_argument("--quarter", default="2025Q4")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = salesops.load(args.data)
    q = args.quarter
    n_leads = 0 if data.leads is None else len(data.leads)
    print(f"data: {args.data} ({n_leads:,} leads, {len(data.opportunities):,} opportunities), quarter {q}")
    cases = {
        "process_change_study (monthly ITS + placebo)": lambda: process_change_study(data, quarter=q),
        "campaign_lift_study (weekly DiD + placebo)": lambda: campaign_lift_study(data, quarter=q),
        "campaign_roi by campaign_id": lambda: campaign_roi(data, quarter=q),
        "company_figures + compare_to_benchmarks": lambda: compare_to_benchmarks(company_figures(data, quarter=q)),
    }
    for name, fn in cases.items():
        t, m = measure(fn, args.repeat)
        print(f"{name}: {t:.2f} s median, {m:.0f} MiB peak")


if __name__ == "__main__":
    main()
