"""The executive summary on whatever tables the data hold.

:func:`executive_summary` computes every part of the summary page that the data allow and says in sentences
what the others would need: transactions only (no deals: bookings come from orders), no segment (no breakdown,
no movers), only won deals (a 100% win rate that says nothing), no quotas, no stage history. Library warnings
raised on the way are caught and said in a sentence (:mod:`salesops.caught`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from salesops.caught import caught_warnings
from salesops.io.data import SalesData
from salesops.periods import Quarter
from salesops.summary.kpis import (
    as_quarter,
    headline_kpis,
    kpis_by_quarter,
    reporting_currency,
    trailing_quarters,
)
from salesops.summary.movers import biggest_movers
from salesops.summary.narrative import Insights, narrative, optional_insights
from salesops.summary.significance import rate_tests

__all__ = ["ExecutiveSummary", "data_limits", "executive_summary", "summary_dimension"]


def summary_dimension(data: SalesData, by: str = "segment") -> str | None:
    """``by`` when some deal (or transaction) of the data can be placed in a ``by`` group through its own
    column, its account's or its owner's; else None (the summary then has no breakdown)."""
    opps = getattr(data, "opportunities", None)
    frame = opps if opps is not None else getattr(data, "transactions", None)
    if frame is None or frame.empty:
        return None
    if by in frame.columns and frame[by].notna().any():
        return by
    for table, key, own in (("accounts", "account_id", "account_id"), ("reps", "rep_id", "owner_rep_id")):
        other = getattr(data, table, None)
        if other is not None and by in other.columns and own in frame.columns:
            values = frame[own].map(other.drop_duplicates(key).set_index(key)[by])
            if values.notna().any():
                return by
    return None


def data_limits(data: SalesData, by: str = "segment") -> list[str]:
    """One sentence per thing the data cannot show on the summary, naming what is missing and what it prevents.

    Checked: no opportunities (transactions only, or nothing), no lost deal, no ``by`` dimension, no quotas,
    no stage history, no activities.
    """
    out: list[str] = []
    opps = getattr(data, "opportunities", None)
    if opps is None:
        if getattr(data, "transactions", None) is not None:
            out.append("The data hold transactions (orders) but no opportunities: bookings are the amount of the "
                       "quarter's orders, and win rate, deal size, sales cycle and pipeline cannot be shown.")
        else:
            out.append("The data hold neither opportunities nor transactions, so no headline number can be shown.")
    else:
        closed = opps["is_closed"].astype(bool)
        if closed.any() and not (closed & ~opps["is_won"].astype(bool)).any():
            out.append("The data hold no lost deal, only won (and open) ones: the win rate is 100% by construction, "
                       "so it cannot show how often deals are lost or whether that got worse.")
        for table, prevents in (("quotas", "attainment against quota and pipeline coverage"),
                                ("opportunity_history", "the pipeline for next quarter as it stood at quarter end"),
                                ("activities", "activities per rep")):
            if getattr(data, table, None) is None:
                out.append(f"The data have no {table} table, so the summary cannot show {prevents}.")
    if summary_dimension(data, by) is None:
        out.append(f"The data have no {by.replace('_', ' ')} (on the deals, their accounts or their owners), so "
                   f"the figures are for the whole company, without a breakdown by {by.replace('_', ' ')} or its "
                   "biggest movers.")
    return out


@dataclass
class ExecutiveSummary:
    """Everything the summary page shows.

    Attributes
    ----------
    quarter : Quarter
    currency : str
    headline : DataFrame
        :func:`salesops.summary.headline_kpis` for the whole company.
    by_group : DataFrame or None
        The same by ``by``; None when the data lack the dimension.
    movers : DataFrame or None
        :func:`salesops.summary.biggest_movers`; None without the dimension.
    trend : DataFrame
        :func:`salesops.summary.kpis_by_quarter` over the eight quarters to this one.
    insights : Insights
    limits : list of str
        What the data cannot show (:func:`data_limits`) and any warning caught, as sentences.
    paragraphs : list of str
        :func:`salesops.summary.narrative`.
    tests : DataFrame
        The tests behind the narrative's words about rates (:func:`salesops.summary.significance.rate_tests`
        against last year): the company's win rate (``scope`` ``company``, a family of one) and each group's
        (``scope`` the dimension, Holm-adjusted over the groups).
    """

    quarter: Quarter
    currency: str
    headline: pd.DataFrame
    by_group: pd.DataFrame | None
    movers: pd.DataFrame | None
    trend: pd.DataFrame
    insights: Insights
    limits: list[str] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    tests: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def markdown(self) -> str:
        """The narrative as one Markdown text."""
        return "\n\n".join(self.paragraphs)


def executive_summary(data: SalesData, quarter: str | Quarter, by: str = "segment") -> ExecutiveSummary:
    """The summary page's numbers and sentences for ``quarter``, on whatever tables ``data`` hold.

    Raises
    ------
    ValueError
        When the data hold neither opportunities nor transactions (there is no headline number at all).
    """
    q = as_quarter(quarter)
    with caught_warnings() as caught:
        currency = reporting_currency(data)
        headline = headline_kpis(data, q)
        dim = summary_dimension(data, by)
        by_group = headline_kpis(data, q, by=dim) if dim else None
        movers = biggest_movers(data, q, by=dim, headline=by_group) if dim else None
        trend = kpis_by_quarter(data, trailing_quarters(q, 8))
        insights = optional_insights(data, q)
    limits = data_limits(data, by) + caught.sentences("the summary's figures")
    paragraphs = narrative(headline, movers, quarter=q, by_segment=by_group, insights=insights, currency=currency,
                           limits=limits)
    tests = pd.concat([rate_tests(headline).assign(scope="company")]
                      + ([rate_tests(by_group).assign(scope=dim)] if by_group is not None else []), ignore_index=True)
    return ExecutiveSummary(q, currency, headline, by_group, movers, trend, insights, limits, paragraphs,
                            tests[["scope", *tests.columns[:-1]]])
