"""Executive summary of a quarter: headline KPIs against last quarter, last year and target, the biggest movers
by segment, and a narrative in plain sentences.

Public face::

    from salesops.summary import headline_kpis, biggest_movers, narrative
    h = headline_kpis(data, "2025Q4")
    movers = biggest_movers(data, "2025Q4", by="segment")
    print("\\n\\n".join(narrative(h, movers, quarter="2025Q4")))
"""

from __future__ import annotations

from salesops.summary.kpis import (
    KPI_LABELS,
    KPI_UNITS,
    KPIS,
    headline_kpis,
    kpis_by_quarter,
    next_quarter_pipeline,
    quarter_kpis,
    quarter_quota,
    reporting_currency,
    trailing_quarters,
)
from salesops.summary.metrics import summary_metrics
from salesops.summary.movers import MOVER_KPIS, biggest_movers, decompose_change
from salesops.summary.narrative import (
    CHANGE_HEADER,
    COVERAGE_RULE,
    Insights,
    format_value,
    headline_table,
    movers_table,
    narrative,
    optional_insights,
)
from salesops.summary.page import ExecutiveSummary, data_limits, executive_summary, summary_dimension
from salesops.summary.significance import ALPHA, evidence_text, rate_tests, tests_table

__all__ = [
    "ALPHA",
    "CHANGE_HEADER",
    "COVERAGE_RULE",
    "ExecutiveSummary",
    "KPIS",
    "KPI_LABELS",
    "KPI_UNITS",
    "MOVER_KPIS",
    "Insights",
    "biggest_movers",
    "data_limits",
    "decompose_change",
    "evidence_text",
    "executive_summary",
    "format_value",
    "headline_kpis",
    "headline_table",
    "kpis_by_quarter",
    "movers_table",
    "narrative",
    "next_quarter_pipeline",
    "optional_insights",
    "quarter_kpis",
    "quarter_quota",
    "rate_tests",
    "tests_table",
    "reporting_currency",
    "summary_dimension",
    "summary_metrics",
    "trailing_quarters",
]
