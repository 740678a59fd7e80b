"""The sections of the KPI page: for a quarter under review, each KPI's tables, the sentences that answer
its question, and the metrics the review records.

A section whose data lack a table or column is still returned: its ``table`` is None and ``missing`` holds
one sentence naming what is missing and which figures it prevents, so the page reads "this data has no
marketing_spend table ..." instead of showing a stack trace or NaN. Everything here only calls the KPI
modules; each number in a sentence is a value of the section's tables.

>>> from salesops.kpi import panels          # doctest: +SKIP
>>> sections = panels.kpi_panels(data, "2025Q4")
>>> sections["win_rate"].text
"""

from __future__ import annotations

from collections.abc import Callable

from salesops.caught import caught_warnings
from salesops.escape import md
from salesops.io.data import SalesData
from salesops.kpi._common import as_day
from salesops.kpi.calendar import Holidays
from salesops.kpi.panel_base import (
    MetricSpec,
    Panel,
    Window,
    review_window,
)
from salesops.kpi.panels_sales import activity_panel, bookings_panel, cycle_panel, rep_panel, win_rate_panel
from salesops.kpi.panels_value import cac_panel, churn_panel, clv_panel, ltv_panel
from salesops.periods import Quarter

__all__ = [
    "MetricSpec",
    "Panel",
    "Window",
    "activity_panel",
    "bookings_panel",
    "cac_panel",
    "churn_panel",
    "clv_panel",
    "cycle_panel",
    "describe_missing",
    "kpi_panels",
    "ltv_panel",
    "panel_metrics",
    "quiet_panel",
    "rep_panel",
    "review_window",
    "win_rate_panel",
]


# --- the page ----------------------------------------------------------------------------------------------------


def kpi_panels(
    data: SalesData,
    quarter: str | Quarter,
    *,
    by: str | None = "segment",
    gross_margin: float = 0.75,
    holidays: Holidays = None,
) -> dict[str, Panel]:
    """Every section of the KPI page for ``quarter``, in reading order.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    quarter : str or Quarter
        Quarter under review (``2025Q4``).
    by : str or None
        Breakdown of win rate, cycle, churn and LTV (``segment``; any dimension of
        :func:`salesops.kpi._common.add_dimension`; None for overall figures only).
    gross_margin : float
        Gross margin of recurring revenue, for CAC payback and LTV.
    holidays : holiday calendar, optional
        For working days (default US federal holidays).
    """
    w = review_window(data, quarter)
    if data.as_of is not None and w.start > as_day(data.as_of):
        raise ValueError(f"quarter {w.label} starts after the data's as-of day {as_day(data.as_of).date()}; "
                         "choose a quarter the data cover")
    by = by or None
    builders: dict[str, Callable[[], Panel]] = {
        "activity": lambda: activity_panel(data, w, holidays=holidays),
        "win_rate": lambda: win_rate_panel(data, w, by),
        "rep_win_rate": lambda: rep_panel(data, w, by),
        "cycle": lambda: cycle_panel(data, w, by),
        "bookings": lambda: bookings_panel(data, w),
        "cac": lambda: cac_panel(data, w, gross_margin),
        "churn": lambda: churn_panel(data, w, by),
        "ltv": lambda: ltv_panel(data, w, gross_margin, by),
        "clv": lambda: clv_panel(data, w),
    }
    return {name: quiet_panel(build) for name, build in builders.items()}


def quiet_panel(build: Callable[[], Panel]) -> Panel:
    """``build()`` with every library warning it raises caught and said in a sentence on the panel (no warning
    text or internal path reaches the page; see :mod:`salesops.caught`)."""
    with caught_warnings() as caught:
        panel = build()
    panel.missing += caught.sentences(f"the {panel.title.lower()} figures")
    return panel


def describe_missing(panels: dict[str, Panel]) -> str:
    """Markdown list of everything the data could not show, by section (or a sentence saying nothing is missing)."""
    lines = [f"- **{p.title}**: {md(s)}" for p in panels.values() for s in p.missing]
    if not lines:
        return "The data hold every table and column the KPIs need."
    return "Some figures could not be computed from this data:\n\n" + "\n".join(lines)


def panel_metrics(panels: dict[str, Panel]) -> list[MetricSpec]:
    """Every section's metrics, in page order (keys are unique: each belongs to one section)."""
    out: list[MetricSpec] = []
    seen: set[str] = set()
    for p in panels.values():
        for m in p.metrics:
            if m.key not in seen:
                seen.add(m.key)
                out.append(m)
    return out
