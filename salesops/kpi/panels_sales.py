"""KPI page sections on selling: activity per working day, win rate, reps against their peers, sales cycle and
bookings (:mod:`salesops.kpi.panels` assembles the page)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesops.escape import md
from salesops.io.data import SalesData
from salesops.kpi._common import slug
from salesops.kpi.activity import activity_distribution, activity_per_working_day
from salesops.kpi.calendar import Holidays
from salesops.kpi.cycle import cycle_curves, sales_cycle
from salesops.kpi.panel_base import (
    ALL,
    Panel,
    Window,
    _by_label,
    _currency,
    _guard,
    _money,
    _num,
    _pct,
    _with_total,
)
from salesops.kpi.seasonality import bookings, q4_uplift
from salesops.kpi.win_rate import rep_win_rates, win_rates

# --- sections on selling -------------------------------------------------------------------------------------------------------


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
