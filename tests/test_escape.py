"""salesops.escape: every data value written into a page is shown as typed and never becomes markup."""

from __future__ import annotations

import pytest
from _render import rendered_html, rendered_text

from salesops import escape

NAMES = [
    '<script>alert("x")</script>',
    '<img src=x onerror=alert(1)>',
    '"><svg onload=alert(1)>',
    "[click](javascript:alert(1))",
    "![pic](javascript:alert(1))",
    "*star* _under_ `tick` | pipe # hash ~tilde~",
    "&lt;script&gt; &amp; &#x27;",
    "- starts a list",
    "1. starts a numbered list",
    "# a heading",
    "a\\b\\\\c",
    "$\\frac{x$ costs $5",
    "line one\nline two",
]


@pytest.mark.parametrize("name", NAMES)
def test_md_renders_exactly_the_name_and_no_markup(name):
    sentence = f"Rep {escape.md(name)} leads."
    html = rendered_html(sentence)
    assert html.count("<") == 2 and html.startswith("<p>") and html.rstrip().endswith("</p>"), html
    assert rendered_text(sentence).strip() == f"Rep {name.replace(chr(10), ' ')} leads."


def test_md_in_a_table_cell_keeps_the_table_shape():
    row = f"| {escape.md('a | b')} | {escape.md('[x](javascript:1)')} |"
    html = rendered_html(f"| rep | note |\n|---|---|\n{row}")
    assert html.count("<td>") == 2 and "<a" not in html


@pytest.mark.parametrize("name", ["a`b", "``x``", "<b>y</b>", "`"])
def test_md_code_is_one_code_span_showing_the_name(name):
    html = rendered_html(escape.md_code(name))
    assert html.count("<code>") == 1 and "<b>" not in html
    assert rendered_text(escape.md_code(name)).strip() == name


def test_bidi_controls_are_shown_not_applied():
    assert escape.text("abc\u202edef") == "abc(U+202E)def"
    assert "\u202e" not in escape.md("x\u202ey") and "\u2066" not in escape.html("\u2066")


def test_html_escapes_quotes_for_attributes():
    assert escape.html('"><img onerror=1>') == "&quot;&gt;&lt;img onerror=1&gt;"
    assert escape.html(None) == ""


@pytest.mark.parametrize(("target", "expected"), [
    ("https://example.com/a?b=1", "https://example.com/a?b=1"),
    ("mailto:ops@example.com", "mailto:ops@example.com"),
    ("02_kpis.html#top", "02_kpis.html#top"),
    ("javascript:alert(1)", "#"),
    ("JaVa\tScRiPt:alert(1)", "#"),
    ("\x01javascript:alert(1)", "#"),
    ("data:text/html;base64,PHNjcmlwdD4=", "#"),
    ("vbscript:msgbox", "#"),
    ("weird:thing/x", "#"),
])
def test_url_lets_only_safe_schemes_through(target, expected):
    assert escape.url(target) == expected
