"""Markdown as a reader of the review sees it: rendered by nbconvert's Markdown renderer (the one the review's
pages use), then reduced to its visible text. Tests of page sentences compare this text, so a name escaped for
Markdown (``opportunity\\_history``, ``\\(BG/NBD\\)``) is checked as it reads, not as it is spelled in the source.
"""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup


def rendered_html(markdown: str) -> str:
    """``markdown`` rendered to HTML as a review page renders a Markdown output."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(markdown)


def rendered_text(markdown: str) -> str:
    """The visible text of ``markdown`` once rendered (tags gone, entities and backslash escapes resolved)."""
    return BeautifulSoup(rendered_html(markdown), "html.parser").get_text()


def notebook_markdown_text(path: Path) -> str:
    """The visible text of every Markdown output of the executed notebook at ``path``, one after the other."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    parts = [output["data"]["text/markdown"] for cell in nb.cells if cell.cell_type == "code"
             for output in cell.get("outputs", []) if "text/markdown" in output.get("data", {})]
    return "\n".join(rendered_text(part) for part in parts)
