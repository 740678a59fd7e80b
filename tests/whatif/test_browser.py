"""End to end: serve the what-if app with Voilà on 127.0.0.1, drive Debian's Chromium with Playwright, move a
slider and see the cost figure change."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesops.whatif.serve import VoilaServer

CHROMIUM = Path("/usr/bin/chromium")
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def open_app(browser, url: str, timeout_ms: int = 90_000):
    page = browser.new_page()
    page.goto(url, timeout=timeout_ms)
    page.wait_for_selector(".whatif-cos", timeout=timeout_ms)
    return page


def press_slider(page, label: str, key: str = "ArrowRight") -> None:
    """Move the slider whose description is ``label`` one step with the keyboard."""
    box = page.locator(".widget-slider", has=page.locator("label", has_text=label))
    handle = box.locator(".noUi-handle")
    handle.focus()
    handle.press(key)


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_moving_a_slider_changes_the_cost(chromium):
    with VoilaServer(SAMPLE) as server:
        page = open_app(chromium, server.url)
        before = page.locator(".whatif-cos").inner_text()
        total_before = page.locator(".whatif-total").inner_text()
        assert before.endswith("%")
        press_slider(page, "Accelerator")
        page.wait_for_function(
            "prev => document.querySelector('.whatif-total').innerText !== prev", arg=total_before, timeout=20_000)
        after = page.locator(".whatif-total").inner_text()
        assert after != total_before
        # a higher accelerator pays more
        as_number = lambda t: float(t.replace("$", "").replace(",", ""))  # noqa: E731
        assert as_number(after) > as_number(total_before)
        page.close()
