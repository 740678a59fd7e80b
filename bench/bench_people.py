"""Benchmark: the people analyses of notebook 08 (ramp, training, coaching) on a CRM export.

Prints, per analysis, the median wall time over ``--repeat`` untraced runs and the peak traced memory
(tracemalloc, a separate run). The machine is shared and noisy: quote the medians.

    .venv/bin/python bench/bench_people.py [--data data/sample] [--quarter 2025Q4] [--repeat 3]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _timing import median_and_peak as measure

import salesops
from salesops.people import coaching_signals, coaching_topics, ramp_study, training_study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[1] / "data" / "sample"))
    parser.add_argument("--quarter", default="2025Q4")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = salesops.load(args.data)
    q = args.quarter
    print(f"data: {args.data} ({len(data.opportunities):,} opportunities, {len(data.reps):,} reps, "
          f"{0 if data.activities is None else len(data.activities):,} activities), quarter {q}")
    cases = {
        "ramp_study (panel, curve, fit, bootstrap 400, first deal)": lambda: ramp_study(data, quarter=q),
        "training_study (DiD, pre-trend, placebo)": lambda: training_study(data, quarter=q),
        "coaching_signals + topics (24 months)": lambda: coaching_topics(coaching_signals(data, quarter=q, months=24)),
    }
    for name, fn in cases.items():
        t, m = measure(fn, args.repeat)
        print(f"{name}: {t:.2f} s median, {m:.0f} MiB peak")


if __name__ == "__main__":
    main()
