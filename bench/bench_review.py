"""Benchmark: the quarterly review of the sample, as ``salesops review`` runs it.

Prints, per run, the time of every notebook (of which the kernel start, the set-up), the review's total wall time,
and the peak resident memory of the review process and of its workers (each worker runs its notebooks' kernels as
child processes: their peak is included). The set-up is reported apart: the time to start a Python with salesops
imported (what every kernel pays before the first cell) and each notebook's kernel start. The median over
``--repeat`` runs is what to quote (the machine is shared and noisy). Target: the review of the sample in <= 90 s
on 2 cores.

    .venv/bin/python bench/bench_review.py [--data data/sample] [--quarter 2025Q4] [--jobs N] [--repeat 1]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from salesops.review import run_review


def interpreter_start() -> float:
    """Seconds to start this Python and import salesops and pandas (the set-up every kernel repeats)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import salesops, pandas, matplotlib"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[1] / "data" / "sample"))
    parser.add_argument("--quarter", default="2025Q4")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--only", action="append", default=None)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    setup = interpreter_start()
    print(f"set-up: python + import salesops {setup:.1f} s (paid again by every kernel)")
    totals: list[float] = []
    per_notebook: dict[str, list[float]] = {}
    kernels: dict[str, list[float]] = {}
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
            start = time.perf_counter()
            result = run_review(args.data, args.quarter, Path(tmp) / "out", only=args.only, jobs=args.jobs)
            total = time.perf_counter() - start
        totals.append(total)
        print(f"run {i + 1}: {total:.1f} s, exit code {result.exit_code}")
        for page in result.pages:
            per_notebook.setdefault(page.name, []).append(page.seconds)
            kernels.setdefault(page.name, []).append(page.kernel_seconds or float("nan"))
            kernel = f"{page.kernel_seconds:.1f}" if page.kernel_seconds is not None else "-"
            print(f"  {page.name:<32} {page.seconds:6.1f} s  (kernel start {kernel} s)  {page.status}"
                  + (f": {page.message}" if page.message else ""))
    print("median per notebook (kernel start apart):")
    for name, times in per_notebook.items():
        k = statistics.median(kernels[name])
        print(f"  {name:<32} {statistics.median(times):6.1f} s  (kernel start {k:.1f} s, "
              f"without it {statistics.median(times) - k:.1f} s)")
    serial = sum(statistics.median(t) for t in per_notebook.values())
    print(f"sum of notebook times: {serial:.1f} s (what one worker would take)")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: review process {own:.0f} MiB; largest worker or kernel {children:.0f} MiB")
    print(f"median total: {statistics.median(totals):.1f} s with --jobs {args.jobs or 'default (cores)'} "
          f"(target <= 90 s on 2 cores)")


if __name__ == "__main__":
    main()
