"""The HTML of a notebook's outputs, cleaned before it goes into a review page (defence in depth).

The pages escape every data value they write (:mod:`salesops.escape`), so a name such as
``<script>alert(1)</script>`` reaches an output as text. This module is the second line: whatever HTML an output
carries (a ``DataFrame`` table, Markdown rendered to HTML, an SVG) passes through :func:`sanitize_html` before
the page template puts it in place. It uses ``bleach`` (maintained, html5lib-based, already required by
nbconvert) with an allow-list of the markup report outputs use:

- text and structure: headings, paragraphs, lists, emphasis, code, block quotes, rules, tables (with
  ``colspan``/``rowspan`` and the ``style`` pandas writes, CSS filtered by ``bleach.css_sanitizer``);
- links whose target is ``http``, ``https``, ``mailto``, a fragment or a relative path;
- images whose source is a ``data:image/png|jpeg|gif|webp;base64`` URL (figures), ``http(s)`` or relative.

Everything else is removed: ``<script>``, ``<style>``, ``<iframe>``, ``<object>``, ``<embed>``, ``<svg>``,
``<template>`` elements with their content, every other element's tag (its text is kept, escaped), every
``on*`` and other attribute not listed, and ``javascript:``/``data:``/``vbscript:`` targets. The page's own markup
(navigation bar, house CSS, footer) comes from the template and is not touched.
"""

from __future__ import annotations

import re

import bleach
from bleach.css_sanitizer import ALLOWED_CSS_PROPERTIES, CSSSanitizer
from bs4 import BeautifulSoup

from salesops.escape import text as text_with_visible_controls

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "REMOVED_WITH_CONTENT", "sanitize_html"]

#: Elements kept (their attributes filtered).
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl", "dt",
    "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "u", "ul",
})
#: Elements removed together with everything inside them (their content is code or foreign markup, not text).
REMOVED_WITH_CONTENT = ("script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg",
                        "math", "template", "noscript", "noembed", "noframes", "xmp", "title", "base", "meta",
                        "link", "form", "textarea", "select", "button", "input")
_GLOBAL_ATTRIBUTES = ("class", "title", "lang")
#: Attributes kept per element (besides ``class``, ``title`` and ``lang`` on every element).
ALLOWED_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "a": ("href",),
    "img": ("src", "alt", "width", "height"),
    "table": ("border",),
    "th": ("colspan", "rowspan", "style", "scope"),
    "td": ("colspan", "rowspan", "style"),
    "tr": ("style",),
    "col": ("span",),
    "colgroup": ("span",),
    "ol": ("start",),
    **{f"h{level}": ("id",) for level in range(1, 7)},  # nbconvert's anchors for headings
}
_IMAGE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_SAFE_LINK = re.compile(r"^(https?:|mailto:|#|/|\./|\.\./|[^:/?#]+(?:[/?#]|$))", re.I)
_CSS = CSSSanitizer(allowed_css_properties=ALLOWED_CSS_PROPERTIES)


def _attribute_allowed(tag: str, name: str, value: str) -> bool:
    if name in _GLOBAL_ATTRIBUTES:
        return True
    if name not in ALLOWED_ATTRIBUTES.get(tag, ()):
        return False
    bare = _CONTROL.sub("", value)
    if tag == "img" and name == "src":
        return bool(_IMAGE_DATA.match(value.strip())) or bool(re.match(r"^https?:", bare, re.I)) or (
            ":" not in bare.split("/")[0])
    if tag == "a" and name == "href":
        return bool(_SAFE_LINK.match(bare))
    return True


_CLEANER = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_attribute_allowed,
    protocols={"http", "https", "mailto", "data"},  # data: only survives _attribute_allowed on <img src>
    strip=True,
    strip_comments=True,
    css_sanitizer=_CSS,
)


def sanitize_html(fragment: str | bytes) -> str:
    """``fragment`` with only the allowed elements, attributes and link targets left.

    Parameters
    ----------
    fragment : str or bytes
        HTML of one output (UTF-8 when bytes).

    Returns
    -------
    str
        The cleaned HTML. Text is kept and escaped; elements in :data:`REMOVED_WITH_CONTENT` disappear with
        their content; other elements not in :data:`ALLOWED_TAGS` lose their tags but keep their text.
        Bidirectional controls (an RTL override in a name inside a ``DataFrame`` table) are shown as
        ``(U+202E)``, as :func:`salesops.escape.text` shows them, instead of reordering the text after them.
    """
    text = fragment.decode("utf-8") if isinstance(fragment, bytes) else str(fragment)
    soup = BeautifulSoup(text, "html.parser")
    for element in soup.find_all(REMOVED_WITH_CONTENT):
        element.decompose()
    return text_with_visible_controls(_CLEANER.clean(str(soup)))
