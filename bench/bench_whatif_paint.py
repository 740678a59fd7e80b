"""Benchmark: time to first usable paint of the what-if app in Chromium (issue 18's target: <= 3 s on a warm
server).

Serves the app on the committed sample (``salesops whatif``'s command, on a free port of 127.0.0.1), opens it
once to warm the server, then opens it ``--visits`` more times in fresh pages and times, from ``goto`` to the
moment the page is usable: the cost of sales is shown, the sliders have their handles and the figure is drawn.
Also counts the requests each visit makes to a host other than 127.0.0.1 (must be 0).

    .venv/bin/python bench/bench_whatif_paint.py [--data data/sample] [--visits 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

from salesops.whatif.serve import VoilaServer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
ROOT = Path(__file__).resolve().parents[1]
USABLE = ("() => document.querySelector('.whatif-cos') && document.querySelectorAll('.noUi-handle').length >= 6"
          " && [...document.querySelectorAll('.widget-image')].some(i => (i.getAttribute('src') || '') !== '')")


def visit(browser, url: str) -> tuple[float, int]:
    """Seconds to first usable paint and the number of requests to other hosts."""
    page = browser.new_page()
    foreign: list[str] = []
    page.on("request", lambda r: foreign.append(r.url)
            if urlsplit(r.url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(r.url).hostname not in ("127.0.0.1", "localhost") else None)
    start = time.perf_counter()
    page.goto(url, timeout=180_000)
    page.wait_for_function(USABLE, timeout=180_000, polling=50)
    seconds = time.perf_counter() - start
    page.close()
    return seconds, len(foreign)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "data" / "sample"))
    parser.add_argument("--visits", type=int, default=3)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with VoilaServer(args.data) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        cold, _ = visit(browser, server.url)
        print(f"first visit (cold server): {cold:.1f} s")
        times = []
        for i in range(args.visits):
            seconds, foreign = visit(browser, server.url)
            times.append(seconds)
            print(f"visit {i + 1}: {seconds:.1f} s to first usable paint, {foreign} requests off 127.0.0.1")
        browser.close()
    print(f"first usable paint, warm server: median {statistics.median(times):.1f} s "
          f"(min {min(times):.1f}, max {max(times):.1f}; {len(times)} visits; target <= 3 s)")


if __name__ == "__main__":
    main()
