"""Benchmark the comp area: payout recompute for 2,000 reps x 12 months (target <= 20 ms median, in-process)
and 10,000 Monte Carlo runs x 500 reps (target <= 5 s).

The recompute is what the what-if app does on every slider move: apply the levers to the plan (validated
again), evaluate the capped tier curve on every rep-month, add the SPIF, total per rep and compare with the
baseline. Synthetic attainment (log-normal around 0.9 of quota), monthly variant of the ``ae_standard``
template. Prints each run, the median, the peak traced memory (tracemalloc, one extra run) and the peak RSS.

    .venv/bin/python bench/bench_comp.py [--repeat 21] [--runs 10000] [--reps 500]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import time
import tracemalloc

import numpy as np
import pandas as pd

from salesops.comp.plan import load_plan
from salesops.comp.simulate import AttainmentSampler, simulate_cost
from salesops.whatif.model import Levers, WhatIfModel


def _peak(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def bench_recompute(repeat: int) -> None:
    rng = np.random.default_rng(0)
    reps, months = 2_000, 12
    plan = dataclasses.replace(load_plan("ae_standard"), period="month")
    quota = np.full((reps, months, 1), 40_000 * 100.0)
    achieved = np.rint(quota * rng.lognormal(np.log(0.9), 0.5, quota.shape))
    scale = np.full(quota.shape, plan.variable_annual / 12)
    spif = rng.poisson(0.3, (reps, months)).astype(float)
    model = WhatIfModel(plan, achieved, quota, scale, spif, np.full(reps, plan.base_annual),
                        [f"R{i:05d}" for i in range(reps)])
    settings = [Levers(quota_level=1.0 + 0.05 * (i % 5), accelerator=1.5 + 0.1 * (i % 7), cap=2.0 + 0.1 * (i % 3),
                       spif_amount=100.0 * (i % 4)) for i in range(repeat)]
    times = []
    for lev in settings:
        start = time.perf_counter()
        s = model.evaluate(lev)
        times.append(time.perf_counter() - start)
    print(f"payout recompute, {reps:,} reps x {months} months: median {statistics.median(times) * 1e3:.2f} ms "
          f"(min {min(times) * 1e3:.2f}, max {max(times) * 1e3:.2f}; {repeat} runs; target <= 20 ms); "
          f"last cost of sales {s.cost_of_sales:.3f}")
    print(f"  peak traced memory {_peak(lambda: model.evaluate(settings[0])):.1f} MiB")


def bench_monte_carlo(runs: int, n_reps: int, repeat: int) -> None:
    rng = np.random.default_rng(1)
    hist = pd.DataFrame({"rep_id": np.repeat([f"R{i:04d}" for i in range(n_reps)], 8),
                         "attainment": rng.lognormal(np.log(0.85), 0.45, n_reps * 8)})
    sampler = AttainmentSampler(seed=2).fit(hist)
    plan = load_plan("ae_standard")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        res = simulate_cost(plan, sampler, n_runs=runs)
        times.append(time.perf_counter() - start)
    s = res.summary()
    print(f"Monte Carlo, {runs:,} runs x {n_reps} reps x 4 quarters: median {statistics.median(times):.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in times)}; target <= 5 s); expected cost {s['expected_cost']:,.0f}, "
          f"P90 {s['p90_cost']:,.0f}, share above quota {s['share_above_quota']:.3f}")
    print(f"  peak traced memory {_peak(lambda: simulate_cost(plan, sampler, n_runs=runs)):.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21, help="recompute repeats")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--mc-repeat", type=int, default=3)
    args = parser.parse_args()
    bench_recompute(args.repeat)
    bench_monte_carlo(args.runs, args.reps, args.mc_repeat)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
