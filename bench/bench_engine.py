"""Benchmark: the engine's KPI set and snapshot build at 1x, 10x and 100x the sample, against the DuckDB SQL
floor and plain pandas.

For each size (a folder of canonical Parquet files, ``DATA_ROOT/<size>/``) and each of three ways of
computing the same frames,

* **engine**: ``Engine.from_files(folder, memory_limit=...)`` then :func:`salesops.engine.kpis.kpi_set`
  (``kpis``) and, apart, the snapshot build :func:`salesops.engine.snapshots.pipeline_totals` at the 12 quarter
  ends (``snapshot``);
* **floor**: the same aggregations written by hand in DuckDB SQL over ``read_parquet`` (``_engine_sql.py``),
  one connection with the same settings;
* **pandas**: ``pandas.read_parquet`` of the columns needed and ``groupby`` (``_engine_pandas.py``), only at
  the sizes where its memory, extrapolated linearly from the smaller sizes, fits ``--pandas-budget``;

every repeat runs in a fresh subprocess, which reports its wall time (from opening the data to the last frame
in pandas, imports excluded) and its peak resident set size (``ru_maxrss``, the interpreter and imports
included). The first repeat of each also saves its frames, and the benchmark checks that engine, floor and
pandas computed the same numbers before it compares their times. Printed: one row per size and job with the
median times, the ratios engine/floor and pandas/engine, each one's peak RSS and the engine's seconds per
million rows read (the snapshot reads the history, the KPI set every counted table); then one verdict line
per criterion of issue 9 (peak <= 6 GB at the largest size; engine within 1.5x of the floor; faster than
pandas; time per million rows at the largest size within 2x of the size before it). Before the table, each
size prints the seconds of every frame, engine and floor, in one warm process: where the time goes.

    .venv/bin/python bench/bench_engine.py [--data-root DIR] [--sizes 1x,10x,100x] [--repeat 3]
        [--repeat-largest 2] [--memory-limit 4GB] [--pandas-budget-gb 8]

Without ``--data-root`` the sizes missing from the cache folder (``--cache``) are generated there first with
``salesops sample --size <size> --out <cache>/<size>``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "salesops-bench-engine"
#: The tables whose rows are counted for the time-per-million-rows figure.
COUNTED = ("activities", "opportunity_history", "opportunities", "leads")
METHODS = ("engine", "floor", "pandas")
JOBS = ("kpis", "snapshot")
PEAK_BOUND_GB = 6.0
RATIO_BOUND = 1.5
LINEAR_BOUND = 2.0


# --- the worker: one measurement in its own process ---------------------------------------------------------

def _work(method: str, job: str, folder: Path, as_of: pd.Timestamp, memory_limit: str) -> dict[str, pd.DataFrame]:
    """Compute ``job`` (``kpis`` or ``snapshot``) with ``method`` on ``folder``; returns the frames."""
    sys.path.insert(0, str(HERE))
    naive_as_of = as_of.tz_convert("UTC").tz_localize(None)
    if method == "engine":
        from salesops.engine import Engine
        from salesops.engine.kpis import kpi_set, quarter_ends

        engine = Engine.from_files(folder, as_of=as_of, memory_limit=memory_limit)
        if job == "kpis":
            return kpi_set(engine)
        from salesops.engine.snapshots import pipeline_totals

        return {"pipeline": pipeline_totals(engine, quarter_ends(engine))}
    from types import SimpleNamespace

    from salesops.engine.kpis import quarter_ends

    moments = quarter_ends(SimpleNamespace(as_of=as_of))  # type: ignore[arg-type]  (it reads only .as_of)
    if method == "floor":
        import _engine_sql as floor

        con = floor.connect(memory_limit)
        if job == "snapshot":
            fill = floor.has_blank_amounts(folder, con)
            return floor.run_floor(con, {"pipeline": floor.snapshot_sql(folder, moments, fill=fill)})
        return floor.run_floor(con, floor.kpi_queries(folder, naive_as_of, moments, con))
    import _engine_pandas as plain
    import _engine_sql as floor

    stages = floor.stage_sets(folder)
    if job == "kpis":
        return plain.kpi_set(folder, naive_as_of, moments, stages)
    return {"pipeline": plain.snapshots(folder, moments, stages)}


def _breakdown(folder: Path, as_of: pd.Timestamp, memory_limit: str) -> dict[str, tuple[float, float]]:
    """Seconds of each frame of the KPI set, engine and floor, in one warm process (second of two runs each):
    where the engine's time goes, and which frame to look at when its ratio to the floor is high."""
    sys.path.insert(0, str(HERE))
    import _engine_sql as floor

    from salesops.engine import Engine
    from salesops.engine.activity import activity_counts
    from salesops.engine.cohorts import revenue_cohorts
    from salesops.engine.kpis import quarter_ends, sales_cycles, win_rates
    from salesops.engine.leads import lead_stage_counts
    from salesops.engine.snapshots import pipeline_totals

    engine = Engine.from_files(folder, as_of=as_of, memory_limit=memory_limit)
    moments = quarter_ends(engine)
    jobs = {
        "activity": lambda: activity_counts(engine, ["rep_id", "type"], "month"),
        "pipeline": lambda: pipeline_totals(engine, moments),
        "lead_funnel": lambda: lead_stage_counts(engine, "month"),
        "win_rate": lambda: win_rates(engine),
        "sales_cycle": lambda: sales_cycles(engine),
        "revenue_cohorts": lambda: revenue_cohorts(engine, "quarter"),
    }
    con = floor.connect(memory_limit)
    queries = floor.kpi_queries(folder, as_of.tz_convert("UTC").tz_localize(None), moments, con)
    out = {}
    for name, sql in queries.items():
        took = []
        for fn in (jobs[name], lambda sql=sql: con.execute(sql).df()):
            fn()
            start = time.perf_counter()
            fn()
            took.append(time.perf_counter() - start)
        out[name] = (took[0], took[1])
    return out


def worker(args: argparse.Namespace) -> None:
    """Run one measurement and print one JSON line: seconds, peak RSS (MiB)."""
    if args.method == "breakdown":
        print(json.dumps(_breakdown(Path(args.folder), pd.Timestamp(args.as_of), args.memory_limit)))
        return
    import salesops.engine  # noqa: F401  (imports are not timed: every method reads stage semantics from here)
    import salesops.funnel._common  # noqa: F401

    if args.method == "engine":
        import ibis.backends.duckdb  # noqa: F401
        import sqlglot.dialects.duckdb  # noqa: F401

        import salesops.engine.activity  # noqa: F401
        import salesops.engine.cohorts  # noqa: F401
        import salesops.engine.kpis  # noqa: F401
        import salesops.engine.leads  # noqa: F401
        import salesops.engine.snapshots  # noqa: F401
    start = time.perf_counter()
    frames = _work(args.method, args.job, Path(args.folder), pd.Timestamp(args.as_of), args.memory_limit)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.dump:
        with open(args.dump, "wb") as fh:
            pickle.dump(frames, fh)
    print(json.dumps({"seconds": seconds, "peak_mib": peak}))


# --- the driver ------------------------------------------------------------------------------------------------

def _run_once(method: str, job: str, folder: Path, as_of: pd.Timestamp, memory_limit: str,
              dump: Path | None) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one fresh-process run (its frames pickled to ``dump`` when given)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--method", method, "--job", job,
           "--folder", str(folder), "--as-of", as_of.isoformat(), "--memory-limit", memory_limit]
    if dump is not None:
        cmd += ["--dump", str(dump)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{method} {job} on {folder} failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["seconds"], result["peak_mib"]


def _normal(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame in a comparable form: datetime columns as naive datetime64[ns], rows sorted by every column."""
    frame = frame.copy()
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_datetime64_any_dtype(values) or (
                values.dtype == object and len(values) and hasattr(values.dropna().iloc[:1].squeeze(), "year")):
            values = pd.to_datetime(values)
            if values.dt.tz is not None:
                values = values.dt.tz_convert("UTC").dt.tz_localize(None)
            frame[col] = values.astype("datetime64[ns]")
    keys = [c for c in frame.columns if not pd.api.types.is_float_dtype(frame[c])]
    return frame.sort_values(keys).reset_index(drop=True)


def compare(reference: dict[str, pd.DataFrame], other: dict[str, pd.DataFrame], label: str) -> list[str]:
    """Differences between two results (empty when the same frames hold the same numbers)."""
    problems = []
    for name, ref in reference.items():
        if name not in other:
            problems.append(f"{label}: no frame {name!r}")
            continue
        got = other[name]
        missing = [c for c in ref.columns if c not in got.columns]
        if missing:
            problems.append(f"{label}: frame {name!r} lacks columns {missing} (has {list(got.columns)})")
            continue
        try:
            pd.testing.assert_frame_equal(_normal(ref), _normal(got[list(ref.columns)]), check_dtype=False,
                                          rtol=1e-9)
        except AssertionError as exc:
            problems.append(f"{label}: frame {name!r} differs: {str(exc).splitlines()[0:4]}")
    return problems


def row_counts(folder: Path) -> dict[str, int]:
    """Rows of each counted table, from the Parquet footers."""
    import duckdb

    out = {}
    for table in COUNTED:
        path = folder / table
        target = path / "*.parquet" if path.is_dir() else folder / f"{table}.parquet"
        out[table] = int(duckdb.sql(f"SELECT count(*) FROM read_parquet('{target}')").fetchall()[0][0])
    return out


def ensure_data(root: Path, size: str, generate: bool) -> Path:
    """The folder of ``size`` under ``root``, generated there first when missing and ``generate``."""
    folder = root / size
    if (folder / "activities.parquet").exists() or (folder / "activities").is_dir():
        return folder
    if not generate:
        raise SystemExit(f"{folder}: no activities.parquet; generate it with "
                         f"`salesops sample --size {size} --out {folder}` or drop --data-root")
    print(f"generating {size} into {folder} ...", flush=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "salesops", "sample", "--size", size, "--out", str(folder)],
                   check=True, cwd=ROOT)
    print(f"generated {size} in {time.perf_counter() - start:.0f} s", flush=True)
    return folder


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="folder holding <size>/ folders of canonical Parquet")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE), help="where missing sizes are generated")
    parser.add_argument("--sizes", default="1x,10x,100x")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process runs per measurement")
    parser.add_argument("--repeat-largest", type=int, default=2, help="runs at the largest size")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit of engine and floor")
    parser.add_argument("--pandas-budget-gb", type=float, default=8.0,
                        help="run pandas only where its extrapolated peak RSS fits this")
    parser.add_argument("--jobs", default="kpis,snapshot")
    parser.add_argument("--no-breakdown", action="store_true",
                        help="skip the per-frame engine/floor split printed for each size")
    # worker mode
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--method", choices=(*METHODS, "breakdown"), help=argparse.SUPPRESS)
    parser.add_argument("--job", choices=JOBS, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    root = Path(args.data_root) if args.data_root else Path(args.cache)
    print(f"engine benchmark: sizes {sizes}, jobs {jobs}, data {root}, DuckDB memory_limit {args.memory_limit}, "
          f"{os.cpu_count()} cores", flush=True)
    results: list[dict] = []
    pandas_mib_per_mrow: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        for size in sizes:
            folder = ensure_data(root, size, generate=args.data_root is None)
            rows = row_counts(folder)
            from salesops.engine import Engine

            as_of = Engine.from_files(folder).as_of
            repeat = args.repeat_largest if size == sizes[-1] and len(sizes) > 1 else args.repeat
            print(f"\n== {size}: {folder}  rows " + ", ".join(f"{k} {v:,}" for k, v in rows.items())
                  + f"  as of {as_of}", flush=True)
            if not args.no_breakdown:
                cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--method", "breakdown",
                       "--folder", str(folder), "--as-of", as_of.isoformat(), "--memory-limit", args.memory_limit]
                done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
                if done.returncode != 0:
                    raise RuntimeError(f"breakdown on {folder} failed:\n{done.stderr[-4000:]}")
                split = json.loads(done.stdout.strip().splitlines()[-1])
                print("   per frame, warm (engine s / floor s = ratio): " + "; ".join(
                    f"{k} {e:.2f}/{f:.2f}={e / f:.2f}" for k, (e, f) in split.items()), flush=True)
            for job in jobs:
                # the rows the job reads: the snapshot only the history, the KPI set every counted table
                mrows = (rows["opportunity_history"] if job == "snapshot" else sum(rows.values())) / 1e6
                row = {"size": size, "job": job, "rows": rows, "mrows": mrows}
                methods = list(METHODS)
                if job in pandas_mib_per_mrow:
                    need_gb = pandas_mib_per_mrow[job] * mrows / 1024
                    if need_gb > args.pandas_budget_gb:
                        row["pandas_skip"] = (f"pandas would need ~{need_gb:.1f} GB here (peak RSS per million rows "
                                              f"at the size before) > budget {args.pandas_budget_gb:g} GB")
                        print(f"   {job:<8} pandas skipped: {row['pandas_skip']}", flush=True)
                        methods.remove("pandas")
                times: dict[str, list[float]] = {m: [] for m in methods}
                peaks: dict[str, list[float]] = {m: [] for m in methods}
                frames = {}
                for i in range(repeat):  # methods interleaved, so a change in the machine's load hits them alike
                    for method in methods:
                        dump = Path(tmp) / f"{size}-{job}-{method}.pkl" if i == 0 else None
                        seconds, peak = _run_once(method, job, folder, as_of, args.memory_limit, dump)
                        times[method].append(seconds)
                        peaks[method].append(peak)
                        if dump is not None:
                            with open(dump, "rb") as fh:
                                frames[method] = pickle.load(fh)
                            dump.unlink()
                for method in methods:
                    row[method] = statistics.median(times[method])
                    row[f"{method}_peak"] = max(peaks[method])
                    print(f"   {job:<8} {method:<6} runs " + ", ".join(f"{t:.2f}" for t in times[method])
                          + f" s; median {row[method]:.2f} s; peak RSS {row[f'{method}_peak']:,.0f} MiB", flush=True)
                if "pandas" in methods:
                    pandas_mib_per_mrow[job] = row["pandas_peak"] / max(mrows, 1e-9)
                problems = compare(frames["floor"], frames["engine"], "engine vs floor")
                if "pandas" in frames:
                    problems += compare(frames["floor"], frames["pandas"], "pandas vs floor")
                row["agree"] = not problems
                for p in problems:
                    print(f"   !! {p}", flush=True)
                results.append(row)

    print_table(results)
    print_verdicts(results, sizes)
    return 0


def print_table(results: list[dict]) -> None:
    print("\n" + " | ".join(["size", "job", "activities", "history", "opps", "leads", "engine s", "floor s",
                              "eng/floor", "pandas s", "pandas/eng", "eng MiB", "floor MiB", "pandas MiB",
                              "eng s/Mrow read", "same numbers"]))
    for r in results:
        rows = r["rows"]
        ratio = r["engine"] / r["floor"]
        pandas_ratio = r["pandas"] / r["engine"] if "pandas" in r else None
        print(" | ".join([
            r["size"], r["job"], f"{rows['activities']:,}", f"{rows['opportunity_history']:,}",
            f"{rows['opportunities']:,}", f"{rows['leads']:,}", f"{r['engine']:.2f}", f"{r['floor']:.2f}",
            f"{ratio:.2f}", _fmt(r.get("pandas"), ".2f"), _fmt(pandas_ratio, ".2f"),
            f"{r['engine_peak']:,.0f}", f"{r['floor_peak']:,.0f}", _fmt(r.get("pandas_peak"), ",.0f"),
            f"{r['engine'] / r['mrows']:.3f}", "yes" if r["agree"] else "NO",
        ]))


def print_verdicts(results: list[dict], sizes: list[str]) -> None:
    largest = [r for r in results if r["size"] == sizes[-1]]
    print()
    peak = max(r["engine_peak"] for r in largest) / 1024
    print(f"[{'PASS' if peak <= PEAK_BOUND_GB else 'FAIL'}] peak memory at {sizes[-1]}: engine {peak:.2f} GB "
          f"(bound {PEAK_BOUND_GB:g} GB)")
    for r in largest:
        ratio = r["engine"] / r["floor"]
        print(f"[{'PASS' if ratio <= RATIO_BOUND else 'FAIL'}] {r['job']} at {r['size']}: engine/floor "
              f"{ratio:.2f} (bound {RATIO_BOUND:g}; every size: "
              + ", ".join(f"{x['size']} {x['engine'] / x['floor']:.2f}" for x in results if x["job"] == r["job"])
              + ")")
    for job in {r["job"] for r in results}:
        ran = [r for r in results if r["job"] == job and "pandas" in r]
        skipped = [r for r in results if r["job"] == job and "pandas_skip" in r]
        faster = all(r["pandas"] > r["engine"] for r in ran)
        print(f"[{'PASS' if ran and faster else 'FAIL'}] {job}: engine faster than pandas where pandas ran ("
              + ", ".join(f"{r['size']} pandas/engine {r['pandas'] / r['engine']:.2f}" for r in ran)
              + (f"; pandas skipped at {', '.join(r['size'] for r in skipped)}" if skipped else "") + ")")
        series = [r for r in results if r["job"] == job]
        if len(series) >= 2:
            a, b = series[-2], series[-1]
            growth = (b["engine"] / b["mrows"]) / (a["engine"] / a["mrows"])
            print(f"[{'PASS' if growth <= LINEAR_BOUND else 'FAIL'}] {job}: linear in rows, engine s/Mrow "
                  f"{a['engine'] / a['mrows']:.3f} at {a['size']} -> {b['engine'] / b['mrows']:.3f} at {b['size']} "
                  f"(x{growth:.2f}, bound {LINEAR_BOUND:g})")
    same = all(r["agree"] for r in results)
    print(f"[{'PASS' if same else 'FAIL'}] engine, floor and pandas computed the same numbers at every size")


if __name__ == "__main__":
    sys.exit(main())
