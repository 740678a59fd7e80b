"""What every section of the KPI page is made of: the panel and metric records, the review window, and the
formatting and guarding helpers the sections share (:mod:`salesops.kpi.panels` assembles the page)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesops.escape import md
from salesops.io.data import SalesData
from salesops.kpi._common import MissingDataError, as_day
from salesops.periods import Quarter, parse_quarter

ALL = "all"


@dataclass(frozen=True)
class MetricSpec:
    """A number for the review's ``metrics.json``: key (``kpi.`` prefixed), finite value, unit, description."""

    key: str
    value: float | int
    unit: str
    description: str


@dataclass
class Panel:
    """One section of the KPI page.

    Attributes
    ----------
    name : str
        ``activity``, ``win_rate``, ``rep_win_rate``, ``cycle``, ``bookings``, ``cac``, ``churn``, ``ltv``,
        ``clv``.
    title : str
        Section title.
    table : DataFrame or None
        The main table; None when the data lack what the section needs.
    frames : dict of DataFrame
        Further tables the figures draw (trends, curves, distributions).
    text : str
        The answer, in Markdown.
    missing : list of str
        Sentences naming each missing table or column and the figures it prevents.
    metrics : list of MetricSpec
        Headline numbers (finite values only).
    """

    name: str
    title: str
    table: pd.DataFrame | None = None
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    text: str = ""
    missing: list[str] = field(default_factory=list)
    metrics: list[MetricSpec] = field(default_factory=list)

    @property
    def available(self) -> bool:
        """Whether the main table could be computed."""
        return self.table is not None

    @property
    def note(self) -> str:
        """The missing-data sentences as one string (empty when nothing is missing)."""
        return " ".join(self.missing)

    def markdown(self) -> str:
        """The answer followed by the missing-data sentences (in italics), as Markdown."""
        parts = [self.text] if self.text else []
        parts += [f"*{md(s)}*" for s in self.missing]
        return "\n\n".join(parts) if parts else "*Nothing to show for this quarter.*"

    def view(self) -> pd.DataFrame:
        """The main table rounded for reading: rates and small numbers to 4 decimals, larger ones to 1
        (an empty frame when it could not be computed)."""
        if self.table is None:
            return pd.DataFrame()
        out = self.table.copy()
        for col in out.columns:
            if pd.api.types.is_float_dtype(out[col]):
                values = out[col].to_numpy(dtype=float)
                finite = values[np.isfinite(values)]
                small = finite.size == 0 or np.abs(finite).max() < 10
                out[col] = out[col].round(4 if small else 1)
        return out

    def add_metric(self, key: str, value: Any, unit: str, description: str) -> None:
        """Keep ``value`` as metric ``kpi.<key>`` when it is a finite number."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            return
        if math.isfinite(v):
            self.metrics.append(MetricSpec(f"kpi.{key}", int(value) if isinstance(value, int | np.integer) else v,
                                           unit, description))


@dataclass(frozen=True)
class Window:
    """The quarter under review and the windows derived from it.

    Attributes
    ----------
    quarter : Quarter
    start, end : Timestamp
        First and last day of the quarter.
    trailing_start : Timestamp
        First day of the four quarters ending with this one.
    as_of : Timestamp
        Evaluation day: the quarter's last day, or the data's as-of day when earlier. Nothing after it is used.
    """

    quarter: Quarter
    start: pd.Timestamp
    end: pd.Timestamp
    trailing_start: pd.Timestamp
    as_of: pd.Timestamp

    @property
    def label(self) -> str:
        """The quarter as text, ``2025Q4``."""
        return str(self.quarter)

    @property
    def trailing_label(self) -> str:
        """"the four quarters to 2025Q4", for sentences."""
        return f"the four quarters to {self.quarter}"


def review_window(data: SalesData, quarter: str | Quarter) -> Window:
    """The :class:`Window` of ``quarter`` for ``data`` (as-of day: quarter end, or the data's as-of if earlier).

    Parameters
    ----------
    data : SalesData
        The loaded CRM (its ``as_of``).
    quarter : str or Quarter
        ``2025Q4``.
    """
    q = parse_quarter(quarter) if isinstance(quarter, str) else quarter
    start, end = pd.Timestamp(q.start), pd.Timestamp(q.end)
    first = q.previous().previous().previous()
    as_of = end if data.as_of is None else min(end, as_day(data.as_of))
    return Window(q, start, end, pd.Timestamp(first.start), as_of)


# --- formatting ---------------------------------------------------------------------------------------------------


def _pct(x: float, digits: int = 1) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.{digits}f}%"


def _num(x: float, digits: int = 0) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:,.{digits}f}"


def _currency(data: SalesData) -> str:
    opps = data.opportunities
    if opps is not None and "currency" in opps.columns:
        values = opps["currency"].dropna().unique()
        if len(values) == 1:
            return f" {values[0]}"
    return ""


def _money(x: float, unit: str) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.2f} million{md(unit)}"
    return f"{x:,.0f}{md(unit)}"


def _missing_sentence(err: Exception, prevents: str) -> str:
    text = str(err).rstrip(".")
    return f"{text}. Without it this page does not show {prevents}."


def _guard(panel: Panel, prevents: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn``; on :class:`MissingDataError` note the sentence on ``panel`` and return None."""
    try:
        return fn()
    except MissingDataError as err:
        panel.missing.append(_missing_sentence(err, prevents))
        return None


def _with_total(breakdown: pd.DataFrame | None, total: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """``total`` (one row) labelled ``all`` on top of ``breakdown`` (keyed by ``by``), in one ``group`` column."""
    top = total.assign(group=ALL)
    if breakdown is None or by is None or by not in breakdown.columns:
        out = top
    else:
        out = pd.concat([top, breakdown.rename(columns={by: "group"})], ignore_index=True)
    cols = ["group"] + [c for c in out.columns if c != "group"]
    return out[cols].reset_index(drop=True)


def _by_label(by: str | None) -> str:
    return (by or "group").replace("_", " ")
