"""salesops.report.sanitize: the second line of defence keeps report markup and removes anything that runs."""

from __future__ import annotations

import pytest

from salesops.report.sanitize import sanitize_html

LIVE = [
    '<script>alert("xss")</script>',
    '<img src=x onerror=alert("xss")>',
    '<svg onload=alert("xss")><circle/></svg>',
    '<a href="javascript:alert(1)">a</a>',
    '<a href=" java\tscript:alert(1)">a</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">a</a>',
    '<img src="data:text/html;base64,PHNjcmlwdD4=">',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<details open ontoggle=alert(1)>x</details>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<form action="javascript:alert(1)"><button>go</button></form>',
]


@pytest.mark.parametrize("fragment", LIVE)
def test_nothing_that_runs_survives(fragment):
    clean = sanitize_html(fragment).lower()
    for token in ("<script", "onerror", "onload", "ontoggle", "javascript:", "data:text", "<iframe", "<svg",
                  "<object", "<embed", "<form", "<style"):
        assert token not in clean, (fragment, clean)


def test_report_markup_is_kept():
    table = ('<table border="1" class="dataframe"><thead><tr style="text-align: right;"><th>rep</th></tr></thead>'
             '<tbody><tr><td>&lt;script&gt;</td></tr></tbody></table>')
    assert sanitize_html(table) == table
    figure = '<img alt="chart" src="data:image/png;base64,iVBORw0KGgo=">'  # bleach orders attributes
    assert sanitize_html(figure) == figure
    prose = ('<h2 id="kpis">KPIs</h2><p><strong>3</strong> of <em>5</em> <code>x</code> '
             '<a href="https://example.com/a">b</a> <a href="02_kpis.html#top">c</a></p>')
    assert sanitize_html(prose) == prose


def test_text_of_removed_tags_is_kept_escaped():
    assert sanitize_html("<blink>a &lt;b&gt;</blink>") == "a &lt;b&gt;"
    assert sanitize_html(b"<p>caf\xc3\xa9</p>") == "<p>café</p>"


def test_bidi_controls_in_a_table_are_shown_not_applied():
    clean = sanitize_html("<table><tr><th>East \u202eRTL override</th></tr></table>")
    assert "\u202e" not in clean and "East (U+202E)RTL override" in clean
