"""HTML pages of a review: each executed notebook without its code, and the index that links them.

Both go through Jinja with escaping. A notebook page is rendered by nbconvert: its outputs are the HTML
that pandas produced (``DataFrame`` HTML escapes every cell), Markdown whose data values the pages escaped
with :mod:`salesops.escape`, tracebacks that nbconvert escapes, and images. Every HTML, Markdown and SVG
output is then cleaned by :func:`salesops.report.sanitize.sanitize_html` (bleach, an allow-list of the
markup outputs use; the template's ``salesops_sanitize`` filter), JavaScript and widget outputs are not
written, and the template loads no script at all, so a name that slipped past escaping still cannot run.
nbconvert's own ``sanitize_html`` is left off: its allow-list drops headings and table headers, which would
break every page. The index is rendered by :func:`render_index` with ``autoescape`` on. No data value is
ever pasted into HTML by hand.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import jinja2
import nbformat

from salesops.paths import templates_dir
from salesops.report.applicable import NOT_APPLICABLE, strip_stop

__all__ = ["PageEntry", "QualityHeadline", "report_template_dir", "render_index", "render_notebook_html"]

TEMPLATE_NAME = "report"
INDEX_TEMPLATE = "review_index.html.j2"


def report_template_dir() -> Path:
    """``templates/report/``: the nbconvert template and the index template, in the house style.

    Raises
    ------
    FileNotFoundError
        When the folder is missing (a non-editable install: set ``SALESOPS_TEMPLATES``).
    """
    folder = templates_dir() / TEMPLATE_NAME
    if not (folder / "conf.json").is_file():
        raise FileNotFoundError(
            f"report templates not found in {folder}; run from a source checkout or set SALESOPS_TEMPLATES "
            "to the checkout's templates/ folder"
        )
    return folder


@dataclass(frozen=True)
class PageEntry:
    """One line of the index.

    Attributes
    ----------
    name : str
        Notebook stem, e.g. ``01_data_quality``.
    title : str
        Human title of the page.
    status : str
        ``ok`` or ``failed``.
    html_href, notebook_href : str or None
        Links relative to the index.
    message : str or None
        What went wrong, for a failed page.
    """

    name: str
    title: str
    status: str
    html_href: str | None = None
    notebook_href: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class QualityHeadline:
    """Rows read, accepted and rejected over all tables, and where the quarantine is."""

    read: int
    accepted: int
    rejected: int
    quarantine_href: str | None = None


def _version() -> str:
    try:
        return metadata.version("salesops")
    except metadata.PackageNotFoundError:
        return "(source checkout)"


def render_index(
    pages: Sequence[PageEntry],
    *,
    quarter: str,
    source: str,
    as_of: str | None = None,
    quality: QualityHeadline | None = None,
    load_error: str | None = None,
    problems: Sequence[str] = (),
    metrics_href: str = "metrics.json",
    title: str | None = None,
    comparison_href: str | None = None,
    comparison_label: str | None = None,
    lang: str = "en",
) -> str:
    """The review's ``index.html``: every page with its status, the data headline, a link to the metrics.

    Parameters
    ----------
    pages : sequence of PageEntry
        In reading order.
    quarter : str
        Quarter under review.
    source : str
        The data source as shown to readers (database URLs without passwords).
    as_of : str, optional
        The data's as-of moment.
    quality : QualityHeadline, optional
        Rows read/accepted/rejected.
    load_error : str, optional
        The loader's message when the data could not be loaded.
    problems : sequence of str
        Other failures of the review (metrics that could not be merged).
    metrics_href : str
        Link to ``metrics.json``.
    title : str, optional
        Page title; default ``Quarterly sales-ops review <quarter>``.
    comparison_href, comparison_label : str, optional
        Link to ``comparison.html`` (with ``--compare``) and what it compares against.
    lang : str
        Language of the page's text, declared as ``<html lang>`` (a BCP 47 tag: ``en``, ``th``).

    Returns
    -------
    str
        The HTML document. Every value is escaped.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(report_template_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    template = env.get_template(INDEX_TEMPLATE)
    ok = all(p.status in ("ok", NOT_APPLICABLE) for p in pages) and load_error is None and not problems
    return template.render(
        title=title or f"Quarterly sales-ops review {quarter}",
        quarter=quarter,
        source=source,
        as_of=as_of,
        quality=quality,
        load_error=load_error,
        problems=list(problems),
        pages=list(pages),
        metrics_href=metrics_href,
        comparison_href=comparison_href,
        comparison_label=comparison_label,
        ok=ok,
        version=_version(),
        lang=lang,
    )


def notebook_title(nb: nbformat.NotebookNode, default: str) -> str:
    """The text of the notebook's first Markdown heading, else ``default``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip() or default
    return default


def render_notebook_html(
    notebook: str | os.PathLike[str] | nbformat.NotebookNode,
    out_path: str | os.PathLike[str],
    *,
    title: str | None = None,
    review_title: str = "Review",
    status: str | None = None,
    index_href: str = "index.html",
    lang: str = "en",
) -> Path:
    """Render an executed notebook to an HTML page without code cells, in the house style.

    Parameters
    ----------
    notebook : path or NotebookNode
        The executed notebook.
    out_path : path
        The HTML file to write.
    title : str, optional
        Page title; default: the notebook's first heading.
    review_title : str
        Text of the link back to the index.
    status : str, optional
        ``ok``, ``failed`` or ``not_applicable``, shown as a badge.
    index_href : str
        Link back to the index.
    lang : str
        Language of the page's text, declared as ``<html lang>`` (``en``, ``th``).

    Returns
    -------
    pathlib.Path
        The page written.
    """
    from nbconvert import HTMLExporter  # heavy imports, only when rendering

    from salesops.report.sanitize import sanitize_html

    if isinstance(notebook, nbformat.NotebookNode):
        nb, name = notebook, "notebook"
    else:
        nb, name = nbformat.read(os.fspath(notebook), as_version=4), Path(notebook).stem
    page_title = title or notebook_title(nb, name)
    if status == NOT_APPLICABLE:
        strip_stop(nb)  # the page says why in a sentence; the stop's traceback is not for readers
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(report_template_dir().parent)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        language_code=lang,
        filters={"salesops_sanitize": sanitize_html},
    )
    resources = {
        "metadata": {"name": page_title},
        "salesops": {
            "index_href": index_href,
            "review_title": review_title,
            "page_title": page_title,
            "status": status or "",
            "notebook": f"{name}.ipynb",
        },
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out
