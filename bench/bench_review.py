"""Benchmark: the quarterly review of the sample, as ``salesops review`` runs it.

Prints, per run, the time of every notebook (of which the kernel start, the set-up), the review's total wall time,
and the peak resident memory of the review process and of its workers (each worker runs its notebooks' kernels as
child processes: their peak is included). The set-up is reported apart: the time to start a Python with salesops
imported (what every kernel pays before the first cell) and each notebook's kernel start. The median over
``--repeat`` runs is what to quote (the machine is shared and noisy). Target: the review of the sample in <= 90 s
on 2 cores.

    .venv/bin/python bench/bench_review.py [--data data/sample] [--quarter 2025Q4] [--jobs N] [--repeat 1]

With ``--sizes 1x,10x`` (issue 19) each size is reviewed in a fresh process instead: ``1x`` is the committed
``data/sample``, ``10x``, ``100x`` and ``large`` are written once by ``salesops sample --size ...`` into ``--work``
(reused when already there). Per size it prints each page's status and wall time (the review's own timing), the
resident memory of the review's whole process tree (main process, workers and kernels, summed, sampled from /proc
every 0.5 s) at its peak while that page ran (pages run side by side, so this includes the other page's kernel),
the time before the first page starts (the one shared load), the total wall time, the peak of the summed tree and
the peak of the largest single process (what ``/usr/bin/time -v`` reports as maximum resident set size).

    .venv/bin/python bench/bench_review.py --sizes 1x,10x [--work /tmp/bench-review] [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from salesops.review import run_review

REPO = Path(__file__).resolve().parents[1]
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def interpreter_start() -> float:
    """Seconds to start this Python and import salesops and pandas (the set-up every kernel repeats)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import salesops, pandas, matplotlib"], check=True)
    return time.perf_counter() - start


def _tree_rss(root: int) -> int:
    """Summed resident bytes of ``root`` and all its descendants (from /proc; vanished processes count 0)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)  # fields[1]: parent pid
        rss[pid] = int(fields[21]) * PAGE_SIZE  # fields[21]: resident pages
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def _child(data: str, quarter: str, out: str, jobs: int | None, report: str) -> None:
    """Run one review in this (fresh) process; write the per-page timings and start/end moments as JSON."""
    moments: dict[str, dict[str, float]] = {}

    def progress(event: str, name: str, seconds: float, message: str | None) -> None:
        moments.setdefault(name, {})["start" if event == "started" else "end"] = time.time()

    start = time.time()
    result = run_review(data, quarter, out, jobs=jobs, progress=progress)
    pages = [{"name": p.name, "status": p.status, "seconds": p.seconds, "message": p.message,
              **moments.get(p.name, {})} for p in result.pages]
    Path(report).write_text(json.dumps({"start": start, "end": time.time(), "exit_code": result.exit_code,
                                        "pages": pages}), encoding="utf-8")


def _data_for(size: str, work: Path) -> Path:
    """``data/sample`` for 1x; else the scaled set in ``work/<size>``, written by the CLI when not there yet."""
    if size == "1x":
        return REPO / "data" / "sample"
    folder = work / size
    if not (folder / "README.md").exists():
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "salesops", "sample", "--size", size, "--out", str(folder)], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"{size}: data written to {folder} in {time.perf_counter() - started:.0f} s")
    return folder


def bench_sizes(sizes: list[str], quarter: str, jobs: int | None, work: Path) -> None:
    """Review each size in a fresh process; print per-page and total wall time and memory."""
    summary = []
    for size in sizes:
        data = _data_for(size, work)
        with tempfile.TemporaryDirectory(prefix=f"bench-review-{size}-") as tmp:
            report = Path(tmp) / "report.json"
            cmd = [sys.executable, __file__, "--child", "--data", str(data), "--quarter", quarter,
                   "--out", str(Path(tmp) / "out"), "--report", str(report)] + (["--jobs", str(jobs)] if jobs else [])
            started = time.perf_counter()
            proc = subprocess.Popen(cmd)
            samples: list[tuple[float, int]] = []
            while True:
                samples.append((time.time(), _tree_rss(proc.pid)))
                done, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.5)
            wall = time.perf_counter() - started
            largest = usage.ru_maxrss / 1024  # KiB -> MiB; the child and every process it waited for
            if not report.exists():
                print(f"{size}: the review process failed (status {status}) after {wall:.0f} s")
                continue
            doc = json.loads(report.read_text(encoding="utf-8"))
        peak = max(b for _, b in samples) / 2**20
        first = min((p["start"] for p in doc["pages"] if "start" in p), default=doc["start"])
        print(f"\n{size}: {data}")
        print(f"  {'page':<30} {'status':<7} {'seconds':>8} {'tree MiB':>9}")
        for p in doc["pages"]:
            during = [b for t, b in samples if p.get("start", 0) <= t <= p.get("end", 0)]
            mem = f"{max(during) / 2**20:9.0f}" if during else f"{'-':>9}"
            print(f"  {p['name']:<30} {p['status']:<7} {p['seconds']:8.1f} {mem}"
                  + (f"  {p['message'][:100]}" if p.get("message") else ""))
        ok = sum(p["status"] == "ok" for p in doc["pages"])
        print(f"  before the first page (the shared load): {first - doc['start']:.1f} s")
        print(f"  total {wall:.1f} s wall, exit code {doc['exit_code']}, {ok} of {len(doc['pages'])} pages ok; peak "
              f"memory: process tree {peak:,.0f} MiB summed, largest single process {largest:,.0f} MiB")
        summary.append((size, wall, peak, largest, ok, len(doc["pages"])))
    if len(summary) > 1:
        base = summary[0][1]
        print("\nsize   wall s  x first  tree MiB  largest MiB  pages ok")
        for size, wall, peak, largest, ok, n in summary:
            print(f"{size:<6} {wall:6.0f}  {wall / base:6.2f}  {peak:8,.0f}  {largest:11,.0f}  {ok}/{n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO / "data" / "sample"))
    parser.add_argument("--quarter", default="2025Q4")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--only", action="append", default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--sizes", default=None, help="comma-separated sizes (1x = data/sample, 10x, 100x, large), "
                        "each reviewed in a fresh process")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "bench-review"),
                        help="where the scaled data sets are written and reused")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--report", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.data, args.quarter, args.out, args.jobs, args.report)
        return
    if args.sizes:
        bench_sizes([s.strip() for s in args.sizes.split(",") if s.strip()], args.quarter, args.jobs, Path(args.work))
        return

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
