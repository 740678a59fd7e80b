"""The summary's numbers as review metrics (``summary.*`` keys, stable across quarters)."""

from __future__ import annotations

import math
import re

import pandas as pd

__all__ = ["summary_metrics"]

_DESCRIPTIONS = {
    "bookings": "won amount closed in the quarter",
    "deals_won": "opportunities won in the quarter",
    "win_rate": "won / closed by count, deals closed in the quarter",
    "avg_deal_size": "bookings / deals won",
    "median_cycle_days": "median days from creation to close of deals won in the quarter",
    "new_pipeline": "amount at creation of opportunities created in the quarter",
    "next_quarter_pipeline": "open amount at quarter end expected to close next quarter",
    "next_quarter_coverage": "next-quarter pipeline / bookings quota",
    "activities_per_rep_day": "activities per AE per working day",
}
_UNITS = {"currency": None, "share": "share", "deals": "deals", "days": "days", "ratio": "ratio",
          "activities": "activities"}


def _slug(text: object) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_") or "unknown"


def summary_metrics(
    headline: pd.DataFrame, by_segment: pd.DataFrame | None = None, *, currency: str = ""
) -> dict[str, tuple[float, str | None, str]]:
    """``{key: (value, unit, description)}`` of the headline KPIs, for :func:`salesops.report.record`.

    Keys: ``summary.<kpi>`` for every KPI of :func:`salesops.summary.headline_kpis` (group ``"all"``),
    ``summary.win_rate_lower`` / ``_upper``, ``summary.bookings_vs_quota`` (value / target),
    ``summary.bookings_change_vs_previous`` / ``_vs_last_year`` (relative), and per segment
    ``summary.bookings.<segment>`` and ``summary.win_rate.<segment>`` (segment in snake case). Values that are
    not finite are left out (a metric is a finite number).
    """
    out: dict[str, tuple[float, str | None, str]] = {}

    def put(key: str, value: float, unit: str | None, description: str) -> None:
        if value is not None and math.isfinite(float(value)):
            out[key] = (float(value), unit, description)

    def unit_of(u: str) -> str | None:
        return currency or None if u == "currency" else _UNITS.get(u, u)

    overall = headline[headline["group"] == "all"]
    for _, r in overall.iterrows():
        put(f"summary.{r['kpi']}", r["value"], unit_of(r["unit"]), _DESCRIPTIONS.get(r["kpi"], r["label"]))
        if r["kpi"] == "win_rate":
            put("summary.win_rate_lower", r["lower"], "share", "lower bound of the 95% Wilson interval")
            put("summary.win_rate_upper", r["upper"], "share", "upper bound of the 95% Wilson interval")
        if r["kpi"] == "bookings":
            put("summary.bookings_vs_quota", r["vs_target"], "share", "bookings / bookings quota")
            put("summary.bookings_change_vs_previous", r["change_vs_previous"], "share",
                "bookings / previous quarter's - 1")
            put("summary.bookings_change_vs_last_year", r["change_vs_last_year"], "share",
                "bookings / same quarter last year's - 1")
    if by_segment is not None:
        for _, r in by_segment[by_segment["kpi"].isin(["bookings", "win_rate"])].iterrows():
            put(f"summary.{r['kpi']}.{_slug(r['group'])}", r["value"], unit_of(r["unit"]),
                f"{_DESCRIPTIONS[r['kpi']]}, segment {r['group']}")
    return dict(sorted(out.items()))
