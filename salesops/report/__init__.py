"""Reporting: metrics the notebooks record, HTML pages of a review, and exports safe for spreadsheets.

Public face::

    from salesops.report import record, to_safe_csv, render_index, render_notebook_html
"""

from __future__ import annotations

from salesops.report.applicable import NOT_APPLICABLE, PageNotApplicable, page_not_applicable
from salesops.report.compare import compare_documents, read_metrics_document, write_comparison
from salesops.report.export import neutralise_cell, neutralise_frame, to_safe_csv
from salesops.report.metrics import (
    METRICS_ENV,
    Metric,
    merge_records,
    metrics_document,
    metrics_table,
    read_records,
    record,
    write_metrics,
)
from salesops.report.pages import PageEntry, QualityHeadline, render_index, render_notebook_html

__all__ = [
    "METRICS_ENV",
    "NOT_APPLICABLE",
    "PageNotApplicable",
    "page_not_applicable",
    "Metric",
    "compare_documents",
    "read_metrics_document",
    "write_comparison",
    "PageEntry",
    "QualityHeadline",
    "merge_records",
    "metrics_document",
    "metrics_table",
    "neutralise_cell",
    "neutralise_frame",
    "read_records",
    "record",
    "render_index",
    "render_notebook_html",
    "to_safe_csv",
    "write_metrics",
]
