"""Shared measuring for the benchmark scripts (run as ``python bench/bench_x.py``, so this imports as ``_timing``)."""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable


def times_and_peak(fn: Callable[[], object], repeat: int) -> tuple[list[float], float]:
    """Wall times of ``repeat`` untraced runs, then the peak traced memory (MiB) of one more, traced, run.

    Tracing slows Python-level code, so time and memory come from separate runs.
    """
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return times, peak / 2**20


def median_and_peak(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall time of ``repeat`` untraced runs and the peak traced memory (MiB) of one more run."""
    times, peak = times_and_peak(fn, repeat)
    return statistics.median(times), peak
