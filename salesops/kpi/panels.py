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

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesops.caught import caught_warnings
from salesops.escape import md
from salesops.io.data import SalesData
from salesops.kpi._common import MissingDataError, as_day, slug
from salesops.kpi.activity import activity_distribution, activity_per_working_day
from salesops.kpi.cac import cac, cac_payback
from salesops.kpi.calendar import Holidays
from salesops.kpi.churn import monthly_churn
from salesops.kpi.cycle import cycle_curves, sales_cycle
from salesops.kpi.ltv import fit_clv, ltv_to_cac, rfm, subscription_ltv, transactional_ltv
from salesops.kpi.retention import cohort_retention
from salesops.kpi.seasonality import bookings, q4_uplift
from salesops.kpi.win_rate import rep_win_rates, win_rates
from salesops.periods import Quarter, parse_quarter

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


# --- sections -------------------------------------------------------------------------------------------------------


def activity_panel(data: SalesData, window: Window, *, holidays: Holidays = None) -> Panel:
    """Activities per rep per working day in the quarter, by role, with their spread across reps.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    window : Window
        The quarter under review (:func:`review_window`).
    holidays : holiday calendar, optional
        For working days (default US federal holidays).

    Returns
    -------
    Panel
        Tables: ``table`` (role: reps, working days, activities, pooled per day, and the spread of per-rep rates:
        median, p25, p75 from :func:`salesops.kpi.activity.activity_distribution`); frames ``per_rep`` (one row
        per rep), ``by_type`` (role x type per day) and ``trend`` (role x quarter, to the quarter).
    """
    panel = Panel("activity", "Activity per rep per working day")
    prevents = "activity per rep per working day"
    kw = dict(start=window.start, end=window.as_of, holidays=holidays)
    per_role = _guard(panel, prevents, lambda: activity_per_working_day(data, "role", **kw))
    if per_role is None:
        return panel
    if int(per_role["activities"].sum()) == 0:
        panel.missing.append(f"No activity was logged in {window.label}, so activity per rep per working day "
                             "cannot be shown.")
        return panel
    per_rep = activity_per_working_day(data, ["rep_id", "role"], **kw)
    spread = activity_distribution(per_rep, "role", min_days=1)
    table = per_role.merge(spread[["role", "median", "p25", "p75"]], on="role", how="left")
    panel.table = table
    panel.frames["per_rep"] = per_rep
    panel.frames["by_type"] = (activity_per_working_day(data, ["role", "type"], **kw)
                               if "type" in data.activities.columns else pd.DataFrame())
    panel.frames["trend"] = activity_per_working_day(data, "role", "quarter", end=window.as_of, holidays=holidays)
    days = per_role.attrs.get("working_days_in_window", 0)
    lines = [f"In {window.label} ({days} working days, weekends and holidays excluded, each rep counted only "
             "while employed):"]
    by_type = panel.frames["by_type"]
    for _, row in table.iterrows():
        if not row["working_days"]:
            continue
        line = (f"- **{md(row['role'])}**: {_num(row['per_day'], 1)} activities per working day "
                f"({int(row['reps'])} reps); the median rep logged {_num(row['median'], 1)}, the middle half "
                f"{_num(row['p25'], 1)} to {_num(row['p75'], 1)}")
        if not by_type.empty:
            parts = by_type[by_type["role"].eq(row["role"])].sort_values("per_day", ascending=False)
            kinds = ", ".join(f"{_num(p, 1)} {md(t)}s" for t, p in zip(parts["type"], parts["per_day"]))
            line += f" ({kinds})"
        lines.append(line + ".")
        panel.add_metric(f"activity.per_day.{slug(row['role'])}", row["per_day"], "activities per working day",
                         f"activities per {row['role']} per working day in the quarter")
    if len(lines) == 1:
        panel.table = None
        panel.missing.append(f"No rep of a selling role was employed in {window.label}, so activity per rep per "
                             "working day cannot be shown.")
        return panel
    panel.text = "\n".join(lines)
    return panel


def win_rate_panel(data: SalesData, window: Window, by: str | None = "segment") -> Panel:
    """Win rate of the deals closed in the quarter, overall and by ``by``, against the four quarters before.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    window : Window
        The quarter under review (:func:`review_window`).
    by : str or None
        Breakdown dimension (see :func:`salesops.kpi.win_rates`).

    Returns
    -------
    Panel
        Tables: ``table`` (group rows: closed, won, win rate with Wilson interval, value win rate with interval);
        frames ``trend`` (every quarter to the quarter under review).
    """
    panel = Panel("win_rate", "Win rate")
    prevents = "win rates"
    trend = _guard(panel, prevents, lambda: win_rates(data, None, "quarter", as_of=window.as_of))
    if trend is None:
        return panel
    panel.frames["trend"] = trend
    total = trend[trend["period"].eq(window.label)].drop(columns="period")
    if total.empty or int(total["closed"].iloc[0]) == 0:
        panel.missing.append(f"No deal closed in {window.label}, so the quarter has no win rate.")
        return panel
    breakdown = None
    if by is not None:
        breakdown = _guard(panel, f"win rates by {_by_label(by)}",
                           lambda: win_rates(data, by, "quarter", as_of=window.as_of))
        if breakdown is not None:
            breakdown = breakdown[breakdown["period"].eq(window.label)].drop(columns="period")
    table = _with_total(breakdown, total, by)
    panel.table = table
    t = table.iloc[0]
    before = trend[(trend["period"] < window.label)].tail(4)
    text = (f"Of the {int(t['closed']):,} deals closed in {window.label}, {int(t['won']):,} were won: a win rate of "
            f"**{_pct(t['win_rate'])}** (95% interval {_pct(t['lower'])} to {_pct(t['upper'])}); by value "
            f"{_pct(t['value_win_rate'])}.")
    lost_value = float(t["closed_value"] - t["won_value"])
    if int(t["won"]) < int(t["closed"]) and lost_value <= 0:
        text += " (Lost deals carry no amount in this data, so the rate by value says nothing here.)"
    if len(before) and before["closed"].sum() > 0:
        prior = before["won"].sum() / before["closed"].sum()
        text += f" Over the {len(before)} quarters before it was {_pct(prior)}."
    rows = table.iloc[1:]
    if len(rows):
        text += "\n\nBy " + _by_label(by) + ": " + "; ".join(
            f"{md(r['group'])} {_pct(r['win_rate'])} ({_pct(r['lower'])} to {_pct(r['upper'])}, {int(r['closed'])} deals)"
            for _, r in rows.iterrows()) + "."
    panel.text = text
    for _, r in table.iterrows():
        panel.add_metric(f"win_rate.{slug(r['group'])}", r["win_rate"], "share",
                         f"won / closed deals in the quarter ({r['group']})")
    panel.add_metric("win_rate_by_value.all", t["value_win_rate"], "share", "won / closed amount in the quarter")
    panel.add_metric("deals_closed.all", int(t["closed"]), "deals", "deals closed in the quarter")
    return panel


#: Level of the posterior interval behind the KPI page's under/over-performer flags: a rep is flagged when
#: the 90% interval of their win rate over every deal to date excludes their segment's prior mean, i.e. when
#: the posterior probability of being below (above) that mean exceeds 0.95.
FLAG_LEVEL = 0.9


def rep_panel(data: SalesData, window: Window, within: str | None = "segment", *,
              flag_level: float = FLAG_LEVEL) -> Panel:
    r"""Per-rep win rates over the four quarters to the quarter, shrunk towards their segment's rate by a
    hierarchical prior with the segment's own between-rep spread, ranked within ``within``; and the reps
    flagged as under or over performers on every deal closed to the quarter's end.

    Both use :func:`salesops.kpi.rep_win_rates`, whose prior per segment (mean :math:`\mu_s`, between-rep
    SD :math:`\tau_s`, weight :math:`\kappa_s` in deals) is fitted on every deal closed to the quarter's
    end. The flag rests on that whole history, since skill is what persists and four quarters of one rep
    are too few to tell it from luck: with posterior
    :math:`\theta_j \mid x_j \sim \mathrm{Beta}(\kappa_s\mu_s + x_j, \kappa_s(1-\mu_s) + n_j - x_j)` over the
    rep's :math:`n_j` deals to date, a rep is ``under`` when the equal-tailed interval of level
    ``flag_level`` lies below :math:`\mu_s` (:math:`P(\theta_j < \mu_s) > (1 + \text{level})/2`; 0.95 by
    default), ``over`` when it lies above.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    window : Window
        The quarter under review (:func:`review_window`).
    within : str or None
        Groups reps are ranked within.
    flag_level : float
        Level of the posterior interval behind the flags (:data:`FLAG_LEVEL`).

    Returns
    -------
    Panel
        Tables: ``table`` (group, rep, closed, won, raw and shrunk rate with interval over the four quarters,
        ranks, prior, ``flag``); frames ``flags`` (every rep over all deals to date: shrunk rate, interval at
        ``flag_level``, ``prob_below``, ``flag``) and ``priors`` (per group: prior mean, between-rep SD, its
        own estimate, prior weight in deals, weight on the median rep, variance source).
    """
    panel = Panel("rep_win_rate", "Win rate per rep, shrunk")
    kw = dict(as_of=window.as_of, start=window.trailing_start, prior_start="all")
    reps = None
    if within is not None:
        reps = _guard(panel, f"per-rep win rates within {_by_label(within)} (reps are compared across all "
                      "deals instead)", lambda: rep_win_rates(data, within, **kw))
    if reps is None:
        reps = _guard(panel, "per-rep win rates", lambda: rep_win_rates(data, None, **kw))
        within = None
    if reps is None or reps.empty:
        if reps is not None:
            panel.missing.append(f"No deal closed in {window.trailing_label}, so reps cannot be compared.")
        return panel
    names = data.reps.drop_duplicates("rep_id").set_index("rep_id")["name"] if data.reps is not None else None

    def tidy(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.rename(columns={within: "group"}) if within else frame.assign(group=ALL)
        frame.insert(2, "name", frame["rep_id"].map(names) if names is not None else frame["rep_id"])
        frame["name"] = frame["name"].fillna(frame["rep_id"])
        return frame

    to_date = rep_win_rates(data, within, as_of=window.as_of, confidence=flag_level)
    priors = pd.DataFrame(to_date.attrs["priors"])
    priors = priors.rename(columns={within: "group"}) if within else priors.assign(group=ALL)
    panel.frames["priors"] = priors[["group", *[c for c in priors.columns if c != "group"]]]
    flags = tidy(to_date).sort_values(["group", "rank_shrunk"]).reset_index(drop=True)
    panel.frames["flags"] = flags
    reps = tidy(reps)
    reps["flag"] = pd.MultiIndex.from_frame(reps[["group", "rep_id"]]).map(
        flags.set_index(["group", "rep_id"])["flag"]).fillna("")
    panel.table = reps.sort_values(["group", "rank_shrunk"]).reset_index(drop=True)
    lines = [f"Over {window.trailing_label}, each rep's win rate is pulled towards the average of their "
             f"{_by_label(within) if within else 'team'}, the more the fewer deals they closed and the less reps "
             f"of that {_by_label(within) if within else 'team'} differ over every deal closed to date "
             "(a hierarchical empirical-Bayes prior per group), so a rep with three deals is not ranked on noise."]
    for _, p in panel.frames["priors"].iterrows():
        how = {"segment": "measured on its own reps",
               "pooled": "its own reps vary no more than chance, so the spread of reps around their own "
                         "group's rate over every group is used",
               "none": "reps vary no more than chance anywhere"}[p["variance_source"]]
        lines.append(f"- **{p['group']}** prior: average {_pct(p['prior_mean'])}, reps truly differ by "
                     f"{100 * p['between_sd']:.1f} points (SD; {how}); the prior weighs "
                     f"{_num(min(p['prior_deals'], 1e7))} deals, so the median rep's shrunk rate is "
                     f"{_pct(p['weight_on_prior'], 0)} prior.")
    for group, g in panel.table.groupby("group", sort=True):
        if len(g) < 2:
            continue
        spread = g["shrunk_rate"].max() - g["shrunk_rate"].min()
        if g["weight_on_prior"].min() > 0.99 or spread < 0.005:
            lines.append(f"- **{md(group)}**: the {len(g)} reps' win rates vary no more than chance would make them; "
                         f"the data cannot rank them (all about {_pct(g['prior_mean'].iloc[0])}).")
            continue
        top, bottom = g.iloc[0], g.iloc[-1]
        lines.append(
            f"- **{md(group)}**: top {md(top['name'])} {_pct(top['shrunk_rate'])} (raw {_pct(top['raw_rate'])} on "
            f"{int(top['closed'])} deals), bottom {md(bottom['name'])} {_pct(bottom['shrunk_rate'])} (raw "
            f"{_pct(bottom['raw_rate'])} on {int(bottom['closed'])} deals); average {_pct(g['prior_mean'].iloc[0])}.")
        moved = g[(g["rank_raw"] - g["rank_shrunk"]).abs() >= 2]
        if len(moved):
            lines[-1] += f" {len(moved)} rep(s) move two or more places once their deal counts are taken into account."
    flagged = flags[flags["flag"] != ""]
    side = (1 + flag_level) / 2
    if len(flagged):
        lines.append(f"Flagged on every deal closed to {window.quarter}, when the {_pct(flag_level, 0)} posterior "
                     f"interval of the rep's win rate excludes their group's average (probability above "
                     f"{_pct(side, 1)} of being below, or above, it):")
        for _, r in flagged.iterrows():
            prob = r["prob_below"] if r["flag"] == "under" else 1 - r["prob_below"]
            lines.append(f"- **{r['name']}** ({r['group']}) {r['flag']}-performer: {_pct(r['shrunk_rate'])} "
                         f"({_pct(r['lower'])} to {_pct(r['upper'])}; raw {_pct(r['raw_rate'])} on "
                         f"{int(r['closed'])} deals) against {_pct(r['prior_mean'])}; probability {prob:.3f}.")
    else:
        lines.append(f"No rep's {_pct(flag_level, 0)} posterior interval over every deal closed to "
                     f"{window.quarter} excludes their group's average: nobody is flagged.")
    panel.text = "\n".join(lines)
    panel.add_metric("rep_flags.under", int((flags["flag"] == "under").sum()), "reps",
                     "reps whose win rate to date is below their group's prior mean (posterior interval)")
    panel.add_metric("rep_flags.over", int((flags["flag"] == "over").sum()), "reps",
                     "reps whose win rate to date is above their group's prior mean (posterior interval)")
    return panel


def cycle_panel(data: SalesData, window: Window, by: str | None = "segment") -> Panel:
    """Median sales cycle of the deals created in the four quarters to the quarter, by Kaplan–Meier (deals
    still open at the quarter's end are censored), with the naive figure beside it.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    window : Window
        The quarter under review (:func:`review_window`).
    by : str or None
        Breakdown dimension.

    Returns
    -------
    Panel
        Tables: ``table`` (group: deals, won, still open, KM median with interval, naive median); frames
        ``curves`` (Kaplan–Meier curves per group) and ``decision`` (time to any close, overall).
    """
    panel = Panel("cycle", "Sales-cycle length")
    kw = dict(as_of=window.as_of, created_from=window.trailing_start)
    total = _guard(panel, "sales-cycle length", lambda: sales_cycle(data, None, outcome="won", **kw))
    if total is None:
        return panel
    if total.empty or int(total["deals"].iloc[0]) == 0:
        panel.missing.append(f"No deal was created in {window.trailing_label}, so there is no cycle to measure.")
        return panel
    breakdown = None
    if by is not None:
        breakdown = _guard(panel, f"sales-cycle length by {_by_label(by)}",
                           lambda: sales_cycle(data, by, outcome="won", **kw))
    table = _with_total(breakdown, total, by)
    panel.table = table
    panel.frames["curves"] = cycle_curves(data, by if breakdown is not None else None, outcome="won", **kw)
    decision = sales_cycle(data, None, outcome="closed", **kw)
    panel.frames["decision"] = decision
    t = table.iloc[0]
    if np.isfinite(t["median"]):
        text = (f"Deals created in {window.trailing_label} and won took a median of **{_num(t['median'])} days** "
                f"(95% interval {_num(t['lower'])} to {_num(t['upper'])}), counting the {int(t['censored']):,} "
                f"still open on {window.as_of.date()} as censored. Looking only at the {int(t['ended']):,} already "
                f"won would say {_num(t['naive_median'])} days: short deals finish first, so ignoring open deals "
                "understates the cycle.")
    else:
        text = f"The median won cycle of deals created in {window.trailing_label} is not known yet: {md(t['note'])}."
    d = decision.iloc[0]
    if np.isfinite(d["median"]):
        text += f" Counting losses too, half of the deals reached a decision within {_num(d['median'])} days."
    rows = table.iloc[1:]
    if len(rows):
        text += "\n\nBy " + _by_label(by) + ": " + "; ".join(
            f"{md(r['group'])} {_num(r['median'])} days (naive {_num(r['naive_median'])}, {int(r['censored'])} open)"
            if np.isfinite(r["median"]) else f"{md(r['group'])}: median not reached yet"
            for _, r in rows.iterrows()) + "."
    panel.text = text
    for _, r in table.iterrows():
        panel.add_metric(f"sales_cycle.won_median_days.{slug(r['group'])}", r["median"], "days",
                         f"Kaplan-Meier median days from creation to win, deals of the last four quarters ({r['group']})")
    panel.add_metric("sales_cycle.decision_median_days.all", d["median"], "days",
                     "Kaplan-Meier median days from creation to close (won or lost), last four quarters")
    return panel


def bookings_panel(data: SalesData, window: Window) -> Panel:
    """Bookings per quarter to the quarter, and the Q4 effect over complete years.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    window : Window
        The quarter under review (:func:`review_window`).

    Returns
    -------
    Panel
        Tables: ``table`` (per complete year and pooled: Q4 bookings, Q1-Q3 mean, uplift with bootstrap
        interval); frames ``quarterly`` (bookings per quarter).
    """
    panel = Panel("bookings", "Bookings and Q4 seasonality")
    quarterly = _guard(panel, "bookings", lambda: bookings(data, None, "quarter", as_of=window.as_of))
    if quarterly is None:
        return panel
    panel.frames["quarterly"] = quarterly
    unit = _currency(data)
    this = quarterly[quarterly["period"].eq(window.label)]
    booked = float(this["bookings"].sum())
    n_won = int(this["won_deals"].sum())
    text = f"Bookings in {window.label}: **{_money(booked, unit)}** from {n_won:,} deal{'s' if n_won != 1 else ''} won."
    panel.add_metric("bookings.quarter", booked, unit.strip() or "money", "amount of deals won in the quarter")
    uplift = q4_uplift(data, as_of=window.as_of)
    if uplift.empty:
        panel.missing.append("The data cover no complete calendar year, so the Q4 effect (Q4 bookings against "
                             "the rest of the year) cannot be measured.")
        panel.table = None
        panel.text = text
        return panel
    panel.table = uplift
    pooled = uplift.iloc[-1]
    years = uplift.iloc[:-1]
    text += (f"\n\nOver {len(years)} complete year(s), Q4 booked **{_pct(pooled['uplift'], 0)} more** than the "
             f"average of Q1 to Q3 (95% interval {_pct(pooled['lower'], 0)} to {_pct(pooled['upper'], 0)}): "
             + ", ".join(f"{md(r['year'])} {_pct(r['uplift'], 0)}" for _, r in years.iterrows()) + ".")
    panel.text = text
    panel.add_metric("q4_uplift.pooled", pooled["uplift"], "share", "Q4 bookings / mean of Q1-Q3 - 1, complete years")
    return panel


def cac_panel(data: SalesData, window: Window, gross_margin: float) -> Panel:
    """CAC per quarter (blended) and by channel over the four quarters to the quarter, with payback.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    window : Window
        The quarter under review (:func:`review_window`).
    gross_margin : float
        Gross margin of recurring revenue, for the payback.

    Returns
    -------
    Panel
        Tables: ``table`` (by channel, four quarters: new customers, marketing spend, allocated sales costs, CAC
        with interval, payback months when ``revenue`` is there); frames ``trend`` (blended CAC per quarter) and
        ``blended`` (blended, four quarters).
    """
    panel = Panel("cac", "Customer acquisition cost")
    prevents = "CAC, CAC payback or LTV:CAC"
    trend = _guard(panel, prevents, lambda: cac(data, None, "quarter", end=window.end))
    if trend is None:
        return panel
    panel.frames["trend"] = trend[trend["period"] <= window.label]
    kw = dict(start=window.trailing_start, end=window.end)
    if int(cac(data, None, **kw)["new_customers"].iloc[0]) == 0:
        panel.missing.append(f"No new customer was won in {window.trailing_label}, so CAC cannot be computed.")
        return panel
    by_channel = _guard(panel, "CAC by channel", lambda: cac(data, "channel", **kw))
    blended = cac(data, None, **kw)
    payback = _guard(panel, "CAC payback", lambda: cac_payback(data, gross_margin, "channel", **kw))
    blended_payback = cac_payback(data, gross_margin, None, **kw) if payback is not None else None
    if payback is not None:
        by_channel = payback
        blended = blended_payback
    panel.frames["blended"] = blended
    panel.table = by_channel
    unit = _currency(data)
    q = trend[trend["period"].eq(window.label)]
    b = blended.iloc[0]
    text = ""
    if len(q) and int(q["new_customers"].iloc[0]) > 0:
        r = q.iloc[0]
        text = (f"In {window.label}, {int(r['new_customers'])} new customers cost **{_money(r['cac'], unit)}** each "
                f"(marketing spend plus sales costs over new customers; 95% interval {_money(r['lower'], unit)} to "
                f"{_money(r['upper'], unit)}). ")
        panel.add_metric("cac.blended.quarter", r["cac"], unit.strip() or "money", "blended CAC in the quarter")
    text += (f"Over {window.trailing_label}: {_money(b['cac'], unit)} per new customer across "
             f"{int(b['new_customers'])} customers.")
    panel.add_metric("cac.blended.four_quarters", b["cac"], unit.strip() or "money",
                     "blended CAC over the four quarters to the quarter")
    if "payback_months" in blended.columns and np.isfinite(b["payback_months"]):
        text += (f" At a {_pct(gross_margin, 0)} gross margin a new customer repays it in "
                 f"**{_num(b['payback_months'], 1)} months**.")
        panel.add_metric("cac_payback_months.blended", b["payback_months"], "months",
                         "months of gross-margin MRR to repay blended CAC, four quarters")
    if by_channel is not None and len(by_channel):
        ch = by_channel[by_channel["new_customers"] > 0].sort_values("cac")
        if len(ch):
            text += ("\n\nBy channel (sales costs shared by customers won, so channels differ by their marketing "
                     "cost per customer): " + "; ".join(
                         f"{md(r['channel'])} {_money(r['cac'], unit)} ({int(r['new_customers'])} customers)"
                         for _, r in ch.iterrows()) + ".")
        for _, r in by_channel.iterrows():
            panel.add_metric(f"cac.{slug(r['channel'])}", r["cac"], unit.strip() or "money",
                             f"CAC of {r['channel']} over the four quarters to the quarter")
    panel.text = text
    return panel


def churn_panel(data: SalesData, window: Window, by: str | None = "segment") -> Panel:
    """Monthly churn (revenue and logos) over the twelve months to the quarter's end, and cohort retention.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    window : Window
        The quarter under review (:func:`review_window`).
    by : str or None
        Account dimension of the breakdown.

    Returns
    -------
    Panel
        Tables: ``table`` (group: revenue churn with interval, logo churn with interval); frames ``trend``
        (revenue churn per quarter) and ``retention`` (logo retention by quarterly start cohort).
    """
    panel = Panel("churn", "Churn and retention")
    kw = dict(start=window.trailing_start, end=window.end)
    prevents = "churn, retention curves or subscription LTV"
    total = _guard(panel, prevents, lambda: monthly_churn(data, None, kind="revenue", **kw))
    if total is None:
        return panel
    logo_total = monthly_churn(data, None, kind="logo", **kw)
    breakdown = logo = None
    if by is not None:
        breakdown = _guard(panel, f"churn by {_by_label(by)}", lambda: monthly_churn(data, by, kind="revenue", **kw))
        if breakdown is not None:
            logo = monthly_churn(data, by, kind="logo", **kw)
    table = _with_total(breakdown, total, by)
    logo_table = _with_total(logo, logo_total, by)
    table = table.merge(logo_table[["group", "churn", "lower", "upper"]].rename(
        columns={"churn": "logo_churn", "lower": "logo_lower", "upper": "logo_upper"}), on="group", how="left")
    panel.table = table
    panel.frames["trend"] = monthly_churn(data, None, "quarter", kind="revenue", end=window.end)
    panel.frames["retention"] = cohort_retention(data, "quarter", end=window.end)
    t = table.iloc[0]
    text = (f"Over {window.trailing_label}, **{_pct(t['churn'], 2)}** of the recurring revenue was lost each month "
            f"to customers leaving (95% interval {_pct(t['lower'], 2)} to {_pct(t['upper'], 2)}); by customer count "
            f"{_pct(t['logo_churn'], 2)} a month.")
    rows = table.iloc[1:]
    if len(rows):
        text += "\n\nBy " + _by_label(by) + ": " + "; ".join(
            f"{md(r['group'])} {_pct(r['churn'], 2)} of revenue, {_pct(r['logo_churn'], 2)} of customers"
            for _, r in rows.iterrows()) + "."
    ret = panel.frames["retention"]
    at12 = ret[ret["months_since_start"].eq(12)]
    if len(at12):
        share = at12["retained"].sum() / at12["accounts"].sum()
        text += (f"\n\nOf the customers who started paying in the data's cohorts, {_pct(share, 0)} still paid twelve "
                 "months later.")
        panel.add_metric("retention.logo_12_months", share, "share", "customers still paying 12 months after start")
    panel.text = text
    for _, r in table.iterrows():
        panel.add_metric(f"churn.revenue_monthly.{slug(r['group'])}", r["churn"], "share per month",
                         f"monthly gross revenue churn, last four quarters ({r['group']})")
        panel.add_metric(f"churn.logo_monthly.{slug(r['group'])}", r["logo_churn"], "share per month",
                         f"monthly customer churn, last four quarters ({r['group']})")
    return panel


def ltv_panel(data: SalesData, window: Window, gross_margin: float, by: str | None = "segment") -> Panel:
    """Subscription LTV (ARPA x gross margin / monthly logo churn) over the four quarters to the quarter, and
    LTV:CAC blended and by acquisition channel.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    window : Window
        The quarter under review (:func:`review_window`).
    gross_margin : float
        Gross margin of recurring revenue.
    by : str or None
        Account dimension of the breakdown.

    Returns
    -------
    Panel
        Tables: ``table`` (group: ARPA, churn, lifetime, LTV with interval); frames ``ratio`` (LTV:CAC,
        blended) and ``ratio_by_channel``.
    """
    panel = Panel("ltv", "Lifetime value and LTV:CAC")
    kw = dict(start=window.trailing_start, end=window.end)
    total = _guard(panel, "subscription LTV or LTV:CAC", lambda: subscription_ltv(data, gross_margin, None, **kw))
    if total is None:
        return panel
    breakdown = None
    if by is not None:
        breakdown = _guard(panel, f"LTV by {_by_label(by)}", lambda: subscription_ltv(data, gross_margin, by, **kw))
    table = _with_total(breakdown, total, by)
    panel.table = table
    unit = _currency(data)
    t = table.iloc[0]
    text = (f"At a {_pct(gross_margin, 0)} gross margin, an average customer paying {_money(t['arpa'], unit)} a "
            f"month and leaving at {_pct(t['churn'], 2)} a month is worth **{_money(t['ltv'], unit)}** over an "
            f"expected {_num(t['lifetime_months'])} months (95% interval {_money(t['lower'], unit)} to "
            f"{_money(t['upper'], unit)}).")
    rows = table.iloc[1:]
    if len(rows):
        text += "\n\nBy " + _by_label(by) + ": " + "; ".join(
            f"{md(r['group'])} {_money(r['ltv'], unit)}" for _, r in rows.iterrows()) + "."
    for _, r in table.iterrows():
        panel.add_metric(f"ltv.{slug(r['group'])}", r["ltv"], unit.strip() or "money",
                         f"subscription LTV, ARPA x margin / monthly logo churn ({r['group']})")
    cac_blended = _guard(panel, "LTV:CAC", lambda: cac(data, None, **kw))
    if cac_blended is not None:
        ratio = ltv_to_cac(total, cac_blended)
        panel.frames["ratio"] = ratio
        r = ratio.iloc[0]
        text += (f"\n\nLTV:CAC is **{_num(r['ltv_to_cac'], 1)}** (interval {_num(r['lower'], 1)} to "
                 f"{_num(r['upper'], 1)}); 3 is the usual bar for efficient growth.")
        panel.add_metric("ltv_to_cac.blended", r["ltv_to_cac"], "ratio", "subscription LTV / blended CAC")
        by_channel = _guard(panel, "LTV:CAC by channel", lambda: ltv_to_cac(
            subscription_ltv(data, gross_margin, "channel", **kw), cac(data, "channel", **kw), on="channel"))
        if by_channel is not None and len(by_channel):
            panel.frames["ratio_by_channel"] = by_channel
            ok = by_channel[np.isfinite(by_channel["ltv_to_cac"])].sort_values("ltv_to_cac")
            if len(ok):
                text += (f" By acquisition channel it runs from {_num(ok['ltv_to_cac'].iloc[0], 1)} "
                         f"({md(ok['channel'].iloc[0])}) to {_num(ok['ltv_to_cac'].iloc[-1], 1)} "
                         f"({md(ok['channel'].iloc[-1])}).")
    panel.text = text
    return panel


def clv_panel(data: SalesData, window: Window, *, horizon_months: int = 12, margin: float = 1.0) -> Panel:
    """Transactional customer lifetime value (BG/NBD x Gamma-Gamma) from the ``transactions`` table, as of
    the quarter's end.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    window : Window
        The quarter under review (:func:`review_window`).
    horizon_months : int
        Months of purchases valued.
    margin : float
        Share of revenue kept.

    Returns
    -------
    Panel
        Tables: ``table`` (model parameters with intervals); frames ``customers`` (per-customer CLV).
    """
    panel = Panel("clv", "Transactional lifetime value (BG/NBD)")
    prevents = ("transactional lifetime value (BG/NBD and Gamma-Gamma); for subscription revenue the "
                "subscription LTV above applies")
    summary = _guard(panel, prevents, lambda: rfm(data, observation_end=window.as_of))
    if summary is None:
        return panel
    if summary.empty or int((summary["frequency"] > 0).sum()) < 2:
        panel.missing.append(f"Fewer than two customers bought twice by {window.as_of.date()}, so the BG/NBD and "
                             "Gamma-Gamma models cannot be fitted.")
        return panel
    fit = fit_clv(summary)
    customers = transactional_ltv(summary, horizon_months=horizon_months, margin=margin, fit=fit)
    panel.table = fit.params()
    panel.frames["customers"] = customers
    bg = fit.transactions
    text = (f"Fitted on {fit.customers:,} customers ({fit.repeat_customers:,} bought again): purchase rate "
            f"r = {bg.r_:.3f}, alpha = {bg.alpha_:.3f}, drop-out a = {bg.a_:.3f}, b = {bg.b_:.3f}. Over the next "
            f"{horizon_months} months a customer is expected to be worth **{_num(customers['clv'].mean(), 2)}** on "
            f"average (median {_num(customers['clv'].median(), 2)}); "
            f"{_pct((customers['prob_alive'] > 0.5).mean(), 0)} of customers are more likely alive than not.")
    doubts = fit.reliability()
    if doubts:
        text += "\n\n**These figures are unreliable.** " + " ".join(doubts)
    panel.text = text
    panel.add_metric("clv.mean_12_months" if horizon_months == 12 else f"clv.mean_{horizon_months}_months",
                     customers["clv"].mean(), "money", "mean expected value of a customer's purchases ahead")
    panel.add_metric("clv.customers", int(fit.customers), "customers", "customers the CLV models were fitted on")
    return panel


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
