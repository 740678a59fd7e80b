"""Benchmark: slider move to updated number in the browser, for the what-if app served by Voilà (target: median
<= 250 ms).

Serves the app on the committed sample (``salesops whatif``'s command, on a free port of 127.0.0.1), opens it in
Debian's headless Chromium through Playwright, then repeatedly presses an arrow key on the Accelerator slider
and times, from the key press to the moment the variable-pay number on the page shows the new value. The
clock runs inside the page (``performance.now()`` at the keydown and at the DOM change seen by a
MutationObserver), so Playwright's own round trips are not counted. Between moves it waits for the figure to
be redrawn, so each move starts from an idle kernel.

    .venv/bin/python bench/bench_whatif_browser.py [--data data/sample] [--moves 21]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from salesops.whatif.serve import VoilaServer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
ROOT = Path(__file__).resolve().parents[1]

_ARM = """() => new Promise(resolve => {
  const target = document.querySelector('.whatif-total');
  const before = target.innerText;
  const handle = [...document.querySelectorAll('.widget-slider')]
      .find(s => s.querySelector('label') && s.querySelector('label').innerText.includes('Accelerator'))
      .querySelector('.noUi-handle');
  window.__whatif = {start: null, end: null};
  handle.addEventListener('keydown', () => { window.__whatif.start = performance.now(); }, {once: true});
  const obs = new MutationObserver(() => {
    if (document.querySelector('.whatif-total').innerText !== before) {
      window.__whatif.end = performance.now(); obs.disconnect();
    }
  });
  obs.observe(document.querySelector('.whatif-cost'), {subtree: true, childList: true, characterData: true});
  resolve(before);
})"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "data" / "sample"))
    parser.add_argument("--moves", type=int, default=21)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    start = time.perf_counter()
    with VoilaServer(args.data) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(server.url, timeout=120_000)
        page.wait_for_selector(".whatif-total", timeout=120_000)
        print(f"page ready in {time.perf_counter() - start:.1f} s ({server.url})")
        handle = page.locator(".widget-slider", has=page.locator("label", has_text="Accelerator")).locator(
            ".noUi-handle")
        times = []
        for i in range(args.moves):
            page.evaluate(_ARM)
            img = page.locator(".widget-image").first.get_attribute("src")
            handle.focus()
            handle.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
            page.wait_for_function("() => window.__whatif.end !== null", timeout=30_000)
            ms = page.evaluate("() => window.__whatif.end - window.__whatif.start")
            times.append(ms)
            page.wait_for_function("src => document.querySelector('.widget-image').getAttribute('src') !== src",
                                   arg=img, timeout=30_000)
            print(f"move {i + 1}: {ms:.0f} ms")
        browser.close()
    print(f"slider to updated number: median {statistics.median(times):.0f} ms (min {min(times):.0f}, "
          f"max {max(times):.0f}; {len(times)} moves; target <= 250 ms)")
    print(f"peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
          "(Voila and its kernel run in their own processes)")


if __name__ == "__main__":
    main()
