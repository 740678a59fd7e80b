"""The one way text from data reaches a page: every name a CRM export carries (a rep, segment, lead source,
product, programme, event, account, stage ...) is typed by someone, so a page writes it only through these
functions.

- :func:`md` for a value inside a Markdown sentence, list or table: HTML special characters become entities
  (``<script>`` is shown, never run), Markdown's marks are backslash-escaped (``[x](javascript:...)`` stays
  text instead of becoming a link, ``*`` no emphasis, ``|`` no new table cell, ``$`` no math), and line breaks
  become spaces (a value cannot start a heading or a list of its own).
- :func:`md_code` for a value shown as code (a table or column name): a code span whose fence is longer than
  any run of backticks in the value, so nothing in it is read as Markdown or HTML.
- :func:`html` for a value inside HTML text or a quoted attribute value.
- :func:`url` for a link target: ``http``, ``https``, ``mailto`` and relative links pass; ``javascript:``,
  ``data:``, ``vbscript:`` and every other scheme become ``#``.

Charts need no helper: :func:`salesops.plots.set_style` turns matplotlib's mathtext off (``text.parse_math``),
so a name with dollar signs is drawn as typed.

All of them also make bidirectional control characters visible (``U+202E`` RIGHT-TO-LEFT OVERRIDE is shown as
``(U+202E)``): an override in a name would otherwise reverse the text after it on the page.

>>> md('Ann <script>alert(1)</script> [x](javascript:alert(1))')
'Ann &lt;script&gt;alert\\\\(1\\\\)&lt;/script&gt; \\\\[x\\\\]\\\\(javascript:alert\\\\(1\\\\)\\\\)'
>>> url("javascript:alert(1)"), url("https://example.com/a?b=1")
('#', 'https://example.com/a?b=1')
"""

from __future__ import annotations

import html as _html
import re
from typing import Any

__all__ = ["BIDI_CONTROLS", "html", "md", "md_code", "text", "url"]

#: Bidirectional formatting characters (embeddings, overrides, isolates, marks) that reorder text on screen.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u0085\u2028\u2029\v\f]")
#: Every ASCII punctuation mark with a meaning in CommonMark, GFM tables and strikethrough, or nbconvert's math.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()#!|~$<>])")
#: A start that would open a list, a block quote or a setext heading if the value began a line.
_BLOCK_START = re.compile(r"^(\s*)([-+=]|\d+[.)])")
_SAFE_SCHEMES = ("http", "https", "mailto")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def text(value: Any) -> str:
    """``value`` as plain text: ``str(value)`` (``""`` for None) with bidirectional controls shown as
    ``(U+XXXX)``."""
    if value is None:
        return ""
    return _BIDI.sub(lambda m: f"(U+{ord(m.group()):04X})", str(value))


def html(value: Any) -> str:
    """``value`` safe inside HTML text or a quoted attribute: ``& < > " '`` as entities."""
    return _html.escape(text(value), quote=True)


def md(value: Any) -> str:
    """``value`` safe inside Markdown that is rendered to HTML: shown exactly as typed, never markup.

    HTML-escaped first (``<`` is ``&lt;``, ``&`` is ``&amp;``, so an entity typed in the data is shown as typed),
    then each Markdown mark backslash-escaped, and line breaks replaced by spaces.
    """
    escaped = _html.escape(_LINE_BREAKS.sub(" ", text(value)), quote=True)
    # entities are escaped by html.escape already; their '&' and ';' need no backslash, and '#' inside one
    # (&#x27;) must not get one or the entity breaks
    out, last = [], 0
    for m in re.finditer(r"&(?:[a-z]+|#x?[0-9a-f]+);", escaped, flags=re.I):
        out.append(_MARKDOWN_SPECIAL.sub(r"\\\1", escaped[last:m.start()]))
        out.append(m.group())
        last = m.end()
    out.append(_MARKDOWN_SPECIAL.sub(r"\\\1", escaped[last:]))
    return _BLOCK_START.sub(_inert_start, "".join(out))


def _inert_start(m: re.Match[str]) -> str:
    """``- x`` -> ``\\- x``, ``1. x`` -> ``1\\. x``: the mark that would open a block, backslash-escaped."""
    indent, mark = m.group(1), m.group(2)
    return f"{indent}{mark[:-1]}\\{mark[-1]}"


def md_code(value: Any) -> str:
    """``value`` as a Markdown code span, fenced with one more backtick than its longest run of backticks."""
    body = _LINE_BREAKS.sub(" ", text(value))
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    if body.startswith("`") or body.endswith("`") or not body.strip(" "):
        body = f" {body} "
    return f"{fence}{body}{fence}"


def url(value: Any) -> str:
    """``value`` as a link target, or ``"#"`` when its scheme is not ``http``, ``https`` or ``mailto``.

    Browsers ignore tabs, line breaks and leading control characters in a URL (``java\\tscript:`` runs), so
    the scheme is read with those removed. A relative link (no scheme) passes. The result still needs
    :func:`html` when written into an attribute.
    """
    raw = text(value)
    bare = _CONTROL.sub("", raw)
    m = _SCHEME.match(bare)
    if m:
        return raw if m.group(1).lower() in _SAFE_SCHEMES else "#"
    # no valid scheme, yet a colon before the path: not a relative link either, so refuse rather than guess
    return "#" if ":" in re.split(r"[/?#]", bare, maxsplit=1)[0] else raw

