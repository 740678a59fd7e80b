"""Stored script injection: a review of a copy of the sample whose every name carries payloads (script tags,
event-handler attributes, SVG onload, ``javascript:`` and ``data:`` URLs, attribute breakouts, Markdown links and
images, HTML entities, an RTL override, mathtext dollars; see tests/_payloads.py), opened page by page in
Debian's Chromium. On no page may a dialog open, an element carry an ``on*`` attribute, a script element exist
(the report template emits none), or a link or source start with ``javascript:`` / ``data:text``; the payload
must be readable as text (the literal ``<script>``) on every page that shows names, and an RTL override must
be shown as ``(U+202E)``, never applied.

Runtime: the review of 2025Q4 with every notebook (the payload copy of the sample, two jobs) takes most of it,
about as long as tests/test_browser.py's review of the sample (10 min in all on 2 shared cores).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _browser import chromium, serving
from _payloads import MARKER, SCRIPT, write_payload_crm

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"

#: Pages that show names from the data, so the payload must be visible on them as text.
SHOWS_NAMES = ("00_executive_summary", "02_kpis", "03_pipeline_and_funnel", "04_forecast", "05_leads_and_routing",
               "06_comp_whatif", "07_territories", "08_training_and_ramp", "09_process_evaluation")

pytestmark = pytest.mark.slow

#: Every element with an on* attribute, every script element (the report template emits none, so any script
#: came from data), every dangerous link or source, every frame or plug-in.
FIND_LIVE = """marker => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const name = a.name.toLowerCase(), value = a.value.trim().toLowerCase();
      if (name.startsWith('on')) found.push(`${el.tagName} ${name}=${a.value.slice(0, 60)}`);
      if (['href', 'src', 'xlink:href', 'action', 'formaction', 'data'].includes(name)
          && (value.startsWith('javascript:') || value.startsWith('data:text') || value.startsWith('vbscript:')))
        found.push(`${el.tagName} ${name}=${a.value.slice(0, 60)}`);
    }
    if (el.tagName === 'SCRIPT') found.push(`SCRIPT ${el.textContent.slice(0, 60)}`);  // pages carry no script
    if (['IFRAME', 'OBJECT', 'EMBED'].includes(el.tagName)) found.push(el.tagName);
  }
  return found;
}"""


@pytest.fixture(scope="module")
def payload_review(tmp_path_factory):
    """``(ReviewResult, output folder)`` of the review of 2025Q4 of the payload copy of the sample."""
    if not any(SAMPLE.glob("opportunities.*")):
        pytest.skip(f"no sample CRM in {SAMPLE} (write it with `salesops sample --out data/sample`)")
    from salesops.review import run_review

    root = tmp_path_factory.mktemp("payload_review")
    write_payload_crm(SAMPLE, root / "crm")
    out = root / "out"
    return run_review(root / "crm", "2025Q4", out, jobs=2), out


@pytest.fixture(scope="module")
def served(payload_review):
    """The review folder on http://127.0.0.1:<free port>/."""
    _, out = payload_review
    with serving(out) as url:
        yield url, out


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def inspect(browser, url: str, screenshot: Path | None = None) -> dict:
    """Open ``url``; the dialogs that fired, the live payloads in the DOM and the page's visible text."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(300)  # let any onload / onerror / ontoggle handler fire
    live = page.evaluate(FIND_LIVE, MARKER)
    text = page.inner_text("body")
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return {"dialogs": dialogs, "live": live, "text": text}


def test_the_payload_review_ran_every_page(payload_review):
    result, out = payload_review
    assert {o.name: o.status for o in result.pages} == dict.fromkeys(
        (p.stem for p in sorted(out.glob("[0-9][0-9]_*.html"))), "ok"), "every page runs on payload names"
    assert all(o.status == "ok" for o in result.pages), {o.name: o.message for o in result.pages}


def test_no_payload_runs_on_any_page_and_names_read_as_text(browser, served, tmp_path_factory):
    base, out = served
    shots = tmp_path_factory.mktemp("payload_screenshots")
    print(f"\nscreenshots of the payload review: {shots}")
    pages = ["index"] + sorted(p.stem for p in out.glob("[0-9][0-9]_*.html"))
    assert set(SHOWS_NAMES) <= set(pages), f"pages missing from the review: {set(SHOWS_NAMES) - set(pages)}"
    live, unreadable = {}, []
    for stem in pages:
        seen = inspect(browser, f"{base}/{stem}.html", shots / f"{stem}.png")
        if seen["dialogs"] or seen["live"]:
            live[stem] = {"dialogs": seen["dialogs"], "live": seen["live"][:8]}
        if stem in SHOWS_NAMES and SCRIPT not in seen["text"]:
            unreadable.append(stem)
        if "\u202e" in seen["text"]:  # an RTL override reaches the reader; it must be shown as (U+202E)
            unreadable.append(f"{stem} (raw U+202E)")
    assert not live, f"payloads live on these pages: {live}"
    assert not unreadable, f"the names' payload is not readable as text on: {unreadable}"


def test_the_checks_catch_a_live_payload(browser, tmp_path):
    """The detector itself: a page with one live payload of each kind is reported."""
    (tmp_path / "bad.html").write_text(
        "<html><body><p>x</p><img src=x onerror=\"alert('xss')\"><a href=\"javascript:alert('xss')\">a</a>"
        "<script>document.title = 'xss'</script></body></html>", encoding="utf-8")
    seen = inspect(browser, (tmp_path / "bad.html").as_uri())
    assert seen["dialogs"] == ["xss"]
    assert any(s.startswith("IMG onerror") for s in seen["live"])
    assert any(s.startswith("A href=javascript:") for s in seen["live"])
    assert any(s.startswith("SCRIPT") for s in seen["live"])
