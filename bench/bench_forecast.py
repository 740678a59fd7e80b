"""Benchmark: the whole forecast backtest on the sample CRM (target: under 2 minutes on 2 cores).

Every quarter with four complete quarters of history before it (2024Q1..2025Q4 on the sample), at day 1, week 4
and week 8, every baseline and model; scored by WAPE, bias and P10-P90 coverage in total, by segment and by team.
Prints the wall time of each run (a fresh snapshot builder each time, so nothing is cached between runs), their
median, the process's peak resident set size, the score tables and the issue's acceptance checks: the best model's
WAPE <= 0.8 x the weighted pipeline's and below the commit baseline's, with coverage between 70 % and 90 %;
and each model's coverage per level of roll-up after the split-conformal calibration.

    .venv/bin/python bench/bench_forecast.py [--data data/sample] [--repeat 1]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

import pandas as pd

import salesops as so
from salesops.forecast import (
    MODELS,
    SnapshotBuilder,
    backtest,
    backtest_scores,
    calibrate_backtest,
    coverage_by_level,
)

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "sample"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT), help="CRM folder (default: the committed sample)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    data = so.load(args.data)
    times, results = [], None
    for i in range(args.repeat):
        start = time.perf_counter()
        results = backtest(SnapshotBuilder(data))
        times.append(time.perf_counter() - start)
        print(f"run {i + 1}: backtest {times[-1]:.1f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"median {statistics.median(times):.1f} s over {len(times)} run(s); peak RSS {rss:,.0f} MiB")
    assert results is not None
    quarters = sorted(results["quarter"].unique())
    print(f"quarters {quarters[0]}..{quarters[-1]} ({len(quarters)}), points {sorted(results['point'].unique())}")
    pd.set_option("display.width", 160)
    scores = backtest_scores(results, by=["dimension", "method"])
    print("\nWAPE, bias and P10-P90 coverage (total = one forecast per quarter and point):")
    print(scores.pivot(index="method", columns="dimension", values=["wape", "bias", "coverage"]).round(3).to_string())
    print("\nTotal by as-of point:")
    by_point = backtest_scores(results.loc[results["dimension"] == "total"], by=["point", "method"])
    print(by_point.pivot(index="method", columns="point", values=["wape", "coverage"]).round(3).to_string())
    calibrated = calibrate_backtest(results)
    for m in MODELS:
        print(f"\n{m}: P10-P90 coverage per level, calibrated on earlier quarters only (simulated beside it):")
        print(coverage_by_level(calibrated, m).round(3).to_string(index=False))
    total = scores.loc[scores["dimension"] == "total"].set_index("method")
    best = total.loc[list(MODELS), "wape"].idxmin()
    b, wp, cm = total.loc[best], total.loc["weighted_pipeline"], total.loc["commit"]
    print(f"\nbest model: {best}  WAPE {b['wape']:.3f}  bias {b['bias']:+.3f}  coverage {b['coverage']:.0%}")
    checks = {
        f"WAPE <= 0.8 x weighted pipeline ({0.8 * wp['wape']:.3f})": b["wape"] <= 0.8 * wp["wape"],
        f"WAPE < commit ({cm['wape']:.3f})": b["wape"] < cm["wape"],
        "P10-P90 coverage in [70%, 90%]": 0.7 <= b["coverage"] <= 0.9,
        "backtest under 120 s": statistics.median(times) < 120,
    }
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")


if __name__ == "__main__":
    main()
