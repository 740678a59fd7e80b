"""Benchmark: the funnel's history-heavy computations on the sample and on a larger generated CRM.

Times (median of ``--repeat`` untraced runs) and peak traced memory (tracemalloc, one more run) of:

* ``transitions``: stage spells and stage outcomes of the whole history;
* ``snapshots``: the pipeline at the end of every quarter of the data (12 on the sample);
* ``flow``: the pipeline flow of every quarter;
* ``bottlenecks``: the bottleneck scan of every quarter by segment.

    .venv/bin/python bench/bench_funnel.py [--data data/sample] [--size 10] [--repeat 3] [--cache DIR]

``--size`` generates ``salesops.sample.generate(size=...)`` (10: ten times the sample; about a minute and a
few GB); ``--cache DIR`` keeps the generated tables as Parquet files for the next run.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from pathlib import Path

import pandas as pd

import salesops
from salesops import funnel as fn
from salesops.io import SalesData
from salesops.periods import quarter_of

TABLES = ("stages", "reps", "accounts", "opportunities", "opportunity_history")


def generated(size: float, cache: Path | None) -> SalesData:
    """The generated CRM of ``size`` (only the tables the funnel's history computations read)."""
    folder = cache / f"size_{size:g}" if cache else None
    if folder is not None and all((folder / f"{t}.parquet").exists() for t in TABLES):
        tables = {t: pd.read_parquet(folder / f"{t}.parquet") for t in TABLES}
        as_of = pd.read_parquet(folder / "as_of.parquet")["as_of"].iloc[0]
        return SalesData(tables=tables, as_of=as_of, source=str(folder))
    from salesops.sample import generate

    crm = generate(size=size)
    tables = {t: crm.tables[t] for t in TABLES}
    as_of = pd.Timestamp(crm.truth["as_of"])
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for t, frame in tables.items():
            frame.to_parquet(folder / f"{t}.parquet")
        pd.DataFrame({"as_of": [as_of]}).to_parquet(folder / "as_of.parquet")
    return SalesData(tables=tables, as_of=as_of, source=f"generate(size={size:g})")


def quarters(data: SalesData) -> list:
    first = quarter_of(fn.observation_start(data.opportunity_history, data.stages).tz_localize(None))
    last = quarter_of(data.as_of.tz_localize(None))
    out, q = [], first
    while q <= last:
        out.append(q)
        q = q.next()
    return out


def transitions(data: SalesData) -> int:
    h = fn.prepare_history(data.opportunity_history, data.stages)
    spells = fn.stage_spells(h, data.stages, data.as_of, prepared=True)
    outcomes = fn.stage_outcomes(h, data.stages, data.as_of, prepared=True)
    return len(spells) + len(outcomes)


def snapshots(data: SalesData) -> int:
    h = fn.prepare_history(data.opportunity_history, data.stages)
    moments = [
        min(pd.Timestamp(q.end).tz_localize("UTC") + pd.Timedelta(days=1), data.as_of) for q in quarters(data)
    ]
    return sum(len(fn.snapshot(h, data.opportunities, m, data.stages, prepared=True)) for m in moments)


def flows(data: SalesData) -> int:
    return sum(len(fn.pipeline_flow(data, q)) for q in quarters(data))


def bottlenecks(data: SalesData) -> int:
    return len(fn.bottleneck_scan(data, by="segment"))


def measure(fn_, data: SalesData, repeat: int) -> tuple[float, float]:
    """Median wall time of ``repeat`` untraced runs, then peak traced memory (MiB) of one more run."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn_(data)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn_(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


def report(label: str, data: SalesData, repeat: int) -> None:
    h = data.opportunity_history
    print(
        f"\n{label}: {len(data.opportunities):,} opportunities, {len(h):,} history rows, "
        f"{len(quarters(data))} quarters"
    )
    for name, job in (
        ("transitions", transitions),
        ("snapshots", snapshots),
        ("flow", flows),
        ("bottlenecks", bottlenecks),
    ):
        seconds, mib = measure(job, data, repeat)
        print(
            f"  {name:<12} {seconds:7.3f} s median of {repeat}   peak {mib:7.1f} MiB   "
            f"{len(h) / seconds:,.0f} history rows/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[1] / "data" / "sample"))
    parser.add_argument("--size", type=float, default=10.0, help="size of the generated CRM (0: skip it)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", default=None, help="folder to keep the generated tables in")
    args = parser.parse_args()
    report(f"sample {args.data}", salesops.load(args.data), args.repeat)
    if args.size:
        start = time.perf_counter()
        big = generated(args.size, Path(args.cache) if args.cache else None)
        print(f"\n(generated or read size {args.size:g} in {time.perf_counter() - start:.0f} s)")
        report(f"generated size {args.size:g}", big, args.repeat)


if __name__ == "__main__":
    main()
