"""The review in a real browser: Debian's Chromium, driven by Playwright, opens the index and every page of the
review of the sample, served on 127.0.0.1, and fails on any console error, page error, failed request or broken
image. Screenshots of every page are saved to a temporary folder (printed with ``-s``).

Skips with the reason when /usr/bin/chromium is missing; under CI=true that skip is a failure (``.ci/run`` installs
chromium).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _browser import chromium, serving

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def sample_reviewed(tmp_path_factory):
    from _sample_review import sample_review

    return sample_review(tmp_path_factory)


@pytest.fixture(scope="module")
def served(sample_reviewed):
    """The review folder on http://127.0.0.1:<free port>/."""
    _, out = sample_reviewed
    with serving(out) as url:
        yield url, out


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("review_screenshots")
    print(f"\nscreenshots of the review pages: {folder}")
    return folder


def visit(browser, url: str, screenshot: Path) -> dict:
    """Open ``url``; return the problems seen (console errors, page errors, failed requests, broken images)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: dict[str, list[str]] = {"console": [], "pageerror": [], "requestfailed": [], "http": []}
    page.on("console", lambda m: problems["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems["pageerror"].append(str(e)))
    page.on("requestfailed", lambda r: problems["requestfailed"].append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: problems["http"].append(f"{r.status} {r.url}") if r.status >= 400 else None)
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url}: {response.status if response else 'no response'}"
    broken = page.eval_on_selector_all(
        "img", "imgs => imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => (i.src || '').slice(0, 80))"
    )
    images = page.eval_on_selector_all("img", "imgs => imgs.length")
    links = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    page.screenshot(path=str(screenshot), full_page=True)
    title = page.title()
    page.close()
    problems["broken_images"] = broken
    return {"problems": {k: v for k, v in problems.items() if v}, "images": images, "links": links, "title": title}


def test_index_and_every_page_render_without_errors(browser, served, screenshots):
    base, out = served
    index = visit(browser, f"{base}/index.html", screenshots / "index.png")
    assert not index["problems"], f"index.html: {index['problems']}"
    pages = [h for h in index["links"] if h.endswith(".html") and h != "index.html"]
    on_disk = sorted(p.name for p in out.glob("*.html") if p.name != "index.html")
    assert sorted(pages) == on_disk, "the index links every page written, and only those"
    assert pages[0] == "00_executive_summary.html", "the executive summary comes first"
    failures = {}
    for href in pages:
        seen = visit(browser, f"{base}/{href}", screenshots / f"{Path(href).stem}.png")
        if seen["problems"]:
            failures[href] = seen["problems"]
        assert "index.html" in seen["links"], f"{href} links back to the index"
    assert not failures, f"pages with browser problems: {failures}"
    assert len(list(screenshots.glob("*.png"))) == len(pages) + 1


def test_the_executive_summary_shows_its_figure_and_narrative(browser, served, screenshots):
    base, _ = served
    page = browser.new_page()
    page.goto(f"{base}/00_executive_summary.html", wait_until="load")
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    text = page.inner_text("body")
    page.close()
    assert widths and min(widths) > 300, "the small-multiples figure is rendered"
    assert "Bookings in 2025Q4 were $9.36M" in text
    assert "Biggest movers" in text and "Risks" in text
    assert "import salesops" not in text, "no code on the page"
