"""End to end: serve the what-if app with Voilà on 127.0.0.1 and drive Debian's Chromium with Playwright.

Every request the page makes is recorded (none may go to a host other than the loopback one it came from) and
every console error fails the test; the page opens on the current plan's figures
(:func:`salesops.comp.baseline.plan_year`, the review's numbers), a slider moves them, Reset restores them, the
controls show their units and the movers their names. A server whose data cannot be loaded shows no traceback
to the browser and logs it for the operator. Screenshots go to a temporary folder (printed with ``-s``).
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from _browser import chromium as launch_chromium

from salesops.comp.baseline import plan_year
from salesops.whatif.serve import VoilaServer

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

pytestmark = pytest.mark.slow


class Recorder:
    """Every request, console error and page error of one page."""

    def __init__(self, page):
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"requestfailed: {r.url} {r.failure}"))

    def foreign(self) -> list[str]:
        """Requests to any host but the loopback one (data: and blob: URLs stay in the page)."""
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname not in LOOPBACK:
                out.append(url)
        return out


def open_app(browser, url: str, timeout_ms: int = 90_000):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    rec = Recorder(page)
    page.goto(url, timeout=timeout_ms)
    page.wait_for_selector(".whatif-cos", timeout=timeout_ms)
    page.wait_for_selector(".whatif-app img[src^='blob:'], .whatif-app img[src^='data:']", timeout=timeout_ms)
    return page, rec


def slider(page, label: str):
    return page.locator(".widget-slider", has=page.locator("label", has_text=label))


def press_slider(page, label: str, key: str = "ArrowRight") -> None:
    """Move the slider whose description is ``label`` one step with the keyboard."""
    handle = slider(page, label).locator(".noUi-handle")
    handle.focus()
    handle.press(key)


def money(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


@pytest.fixture(scope="module")
def chromium():
    yield from launch_chromium()


@pytest.fixture(scope="module")
def server():
    with VoilaServer(SAMPLE) as s:
        yield s


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("whatif_screenshots")
    print(f"\nscreenshots of the what-if app: {folder}")
    return folder


def test_opens_on_the_current_plan_and_moves_resets_offline(chromium, server, sample, screenshots):
    page, rec = open_app(chromium, server.url)
    current = plan_year("ae_standard", sample).cost
    cos, total = page.locator(".whatif-cos"), page.locator(".whatif-total")
    assert cos.inner_text() == f"{current.cost_of_sales:.2%}"
    assert total.inner_text() == f"${current.variable_pay:,.0f}"
    # units on the controls, names in the movers' place, the plan year in the title
    assert slider(page, "Quota level").locator(".widget-readout").inner_text().strip() == "100%"
    assert slider(page, "SPIF").locator(".widget-readout").inner_text().strip() == "$500"
    units = page.locator(".whatif-unit").all_inner_texts()
    assert units.count("× target") == 3 and "per deal" in units and "of each quota" in units
    assert "plan year 2025" in page.locator(".whatif-app h3").inner_text()
    movers = page.locator(".whatif-movers")
    box_before = movers.bounding_box()
    page.screenshot(path=str(screenshots / "whatif_open.png"), full_page=True)

    press_slider(page, "Accelerator")
    page.wait_for_function("prev => document.querySelector('.whatif-total').innerText !== prev",
                           arg=total.inner_text(), timeout=90_000)
    assert money(total.inner_text()) > current.variable_pay  # a richer accelerator pays more
    # somebody gains, by name (the sample's reps have names; no id such as R0004 is shown)
    page.wait_for_function("() => !document.querySelector('.whatif-movers td').innerText.includes('nobody')",
                           timeout=90_000)
    first_gainer = movers.locator("tr").first.locator("td").first.inner_text()
    names = set(sample.reps["name"])
    assert first_gainer in names
    assert "R0" not in movers.inner_text()
    box_after = movers.bounding_box()
    assert (box_after["y"], box_after["height"]) == (box_before["y"], box_before["height"]), "the layout jumped"
    page.screenshot(path=str(screenshots / "whatif_moved.png"), full_page=True)

    page.locator(".whatif-reset").click()
    page.wait_for_function("want => document.querySelector('.whatif-total').innerText === want",
                           arg=f"${current.variable_pay:,.0f}", timeout=90_000)
    assert cos.inner_text() == f"{current.cost_of_sales:.2%}"
    assert slider(page, "Accelerator").locator(".widget-readout").inner_text().strip() == "2.0"

    assert rec.requests, "the recorder saw nothing"
    assert rec.foreign() == [], f"requests left the machine: {rec.foreign()}"
    assert rec.errors == []
    page.close()


def test_a_failure_shows_no_traceback_and_is_logged(chromium, tmp_path):
    with VoilaServer(tmp_path / "no_such_export") as broken:
        page = chromium.new_page()
        rec = Recorder(page)
        page.goto(broken.url, timeout=90_000)
        page.wait_for_selector("text=There was an error when executing cell", timeout=90_000)
        text = page.inner_text("body")
        page.close()
        log = broken.log_path.read_text()
    assert "Traceback" not in text and "no_such_export" not in text and "File \"" not in text
    assert "Traceback" in log and "no_such_export" in log
    assert rec.foreign() == []


def test_an_idle_kernel_is_shut_down(chromium):
    with VoilaServer(SAMPLE, idle_timeout=4) as server:
        page, _ = open_app(chromium, server.url)
        page.close()  # the visit ends: its kernel has no connection left
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "seconds of inactivity" not in server.log_path.read_text():
            time.sleep(1)
        log = server.log_path.read_text()
    assert "Culling kernels with idle durations > 4 seconds" in log
    assert "due to" in log and "seconds of inactivity" in log
