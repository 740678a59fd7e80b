"""A page that cannot run on the data at hand says so and stops, without failing the review.

A notebook calls :func:`page_not_applicable` when the data lack what the whole page needs (the comp page on
order lines without reps or quotas). The reason is shown on the page as a sentence, no later cell runs, and
the review lists the page as ``not applicable`` with the reason: neither ``ok`` (nothing was computed) nor
``failed`` (nothing is broken), so the review still exits 0.
"""

from __future__ import annotations

#: The status of such a page in the review, its index and ``metrics.json``.
NOT_APPLICABLE = "not_applicable"


class PageNotApplicable(Exception):  # noqa: N818 - named for what the reader sees, not as an error
    """Raised by :func:`page_not_applicable`; the review reads it as the page's status, not as a failure."""


def page_not_applicable(reason: str) -> None:
    """Show why this page cannot be shown for these data, then stop the notebook.

    Parameters
    ----------
    reason : str
        A sentence naming what is missing and what it prevents (our own words, not data: it is escaped
        anyway).

    Raises
    ------
    PageNotApplicable
        Always; the review turns it into the status ``not_applicable`` and hides its traceback.
    """
    from IPython.display import Markdown, display

    from salesops.escape import md

    display(Markdown(f"**This page cannot be shown for these data.** {md(reason[:1].upper() + reason[1:])}"))
    raise PageNotApplicable(reason)


def strip_stop(nb) -> None:
    """Make an executed notebook that stopped itself read as a finished page (in place).

    Removes papermill's error banners, the :class:`PageNotApplicable` traceback, and every cell after the one
    that stopped (they never ran: their headings would promise sections that are not there).
    """
    cells = [c for c in nb.get("cells", []) if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    for i, cell in enumerate(cells):
        outputs = cell.get("outputs") or []
        stop = [o for o in outputs if o.get("output_type") == "error" and o.get("ename") == PageNotApplicable.__name__]
        if stop:
            cell["outputs"] = [o for o in outputs if o not in stop]
            cells = cells[: i + 1]
            break
    nb["cells"] = cells
