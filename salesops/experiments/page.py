"""What notebook 09 (process evaluation) says in words and records for the review.

``describe_*`` turn a study into a short Markdown answer (or its message when there is no number);
:func:`page_metrics` gives ``{key: (value, unit, description)}`` with finite values only and stable keys.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from salesops.escape import md
from salesops.experiments.campaigns import Campaign
from salesops.experiments.common import MissingData, cutoff_of
from salesops.experiments.events import list_events
from salesops.experiments.its import DidStudy, ItsStudy

__all__ = ["describe_benchmarks", "describe_campaign", "describe_events", "describe_its", "describe_roi",
           "page_metrics"]


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def describe_events(data: Any, quarter: str | None = None, as_of: Any = None) -> str:
    """The ``events`` entries up to the cutoff as a Markdown table (or what is missing)."""
    try:
        ev = list_events(data.events if hasattr(data, "events") else data.get("events"),
                         until=cutoff_of(quarter, as_of))
    except MissingData as exc:
        return f"**No events on record.** {md(exc)}."
    if ev.empty:
        return "**No events on record** up to the end of the quarter."
    lines = ["| date | event | kind | scope |", "|---|---|---|---|"]
    for r in ev.itertuples():
        scope = "" if r.scope is None or (isinstance(r.scope, float) and math.isnan(r.scope)) else str(r.scope)
        lines.append(f"| {r.date.date()} | {md(r.event_id)} {md(r.name)} | {md(r.kind)} | {md(scope)} |")
    return "\n".join(lines)


def describe_its(study: ItsStudy) -> str:
    """The process-change answer: level change with its interval, slope change, and the placebo."""
    e = study.effect
    if not e.available:
        return f"**No estimate.** {md(study.message or e.message)}"
    text = (f"At the change the rate jumped by **{100 * e.value:+.1f} points** (95% CI {100 * e.lower:+.1f} to "
            f"{100 * e.upper:+.1f}, p = {e.p_value:.2g}), against the trend of the {study.result.n_pre} months before; "
            f"its slope changed by {100 * study.slope.value:+.2f} points a month afterwards "
            f"(95% CI {100 * study.slope.lower:+.2f} to {100 * study.slope.upper:+.2f}).")
    pl = study.placebo
    if pl is not None:
        if pl.effect.available:
            verdict = ("finds no jump" if not pl.effect.significant
                       else "**also finds a jump: the design may be reading noise or drift as change**")
            text += (f" Placebo: the same analysis at {pl.break_date.date()}, on the months before the change only, "
                     f"{verdict} ({100 * pl.effect.value:+.1f} points, 95% CI {100 * pl.effect.lower:+.1f} to "
                     f"{100 * pl.effect.upper:+.1f}, p = {pl.effect.p_value:.2f}).")
        else:
            text += f" No placebo check: {md(pl.message)}"
    return text


def describe_campaign(campaign: Campaign | None, study: DidStudy) -> str:
    """The campaign-lift answer: the lead ratio with its interval, the pre-trend check and the placebo."""
    e = study.effect
    if campaign is None or not e.available:
        return f"**No campaign estimate.** {md(study.message or e.message)}"
    text = (f"**{md(campaign.name)}** ({md(campaign.channel)}, {campaign.start.date()} to {campaign.end.date()}): during the "
            f"campaign the channel brought **{e.value:.2f} times** the leads its pre-campaign trend against the other "
            f"channels implies (95% CI {e.lower:.2f} to {e.upper:.2f}, p = {e.p_value:.2g}).")
    pt = study.pretrend
    if pt.available:
        text += (f" Before the campaign the channel moved with the others (slope difference {pt.value:+.3f} log-leads "
                 f"a week, p = {pt.p_value:.2f}).")
    pl = study.placebo
    if pl is not None and pl.effect.available:
        verdict = "finds no lift" if not pl.effect.significant else "**finds a lift too**"
        text += (f" The same weeks a year earlier {verdict} ({pl.effect.value:.2f}x, 95% CI {pl.effect.lower:.2f} to "
                 f"{pl.effect.upper:.2f}).")
    if e.message:
        text += f" Caveat: {md(e.message)}; the placebo shows how large noise alone gets."
    return text


def describe_roi(roi: pd.DataFrame, by: str = "channel") -> str:
    """Which channel returns the most pipeline per dollar, and the total."""
    if roi is None or roi.empty:
        return "**No ROI.** No spend or leads."
    rows = roi[roi[by] != "total"].dropna(subset=["pipeline_per_spend"])
    total = roi[roi[by] == "total"]
    if rows.empty or total.empty:
        return "**No ROI.** No spend matched to leads."
    best, worst = rows.loc[rows["pipeline_per_spend"].idxmax()], rows.loc[rows["pipeline_per_spend"].idxmin()]
    t = total.iloc[0]
    return (f"Over the window, every dollar of marketing spend created **{t['pipeline_per_spend']:.0f} dollars of "
            f"pipeline** and {t['bookings_per_spend']:.1f} dollars of bookings so far ({100 * t['closed_share']:.0f}% "
            f"of that pipeline is decided). Most pipeline per dollar: {md(best[by])} ({best['pipeline_per_spend']:.0f}); "
            f"least: {md(worst[by])} ({worst['pipeline_per_spend']:.0f}).")


def describe_benchmarks(comparison: pd.DataFrame) -> str:
    """One line per metric: our figure against the benchmarks, better or worse."""
    if comparison is None or comparison.empty:
        return "**No benchmarks.**"
    lines = []
    for metric, g in comparison.groupby("metric", sort=False):
        company = g["company"].iat[0]
        if not _finite(company):
            lines.append(f"- **{md(metric.replace('_', ' '))}**: our figure is not available "
                         f"({md(g['company_note'].iat[0])}).")
            continue
        parts = [f"{md(r.status)} than {r.benchmark:g} ({md(r.source.split(',')[0])}, "
                 f"{'year n/a' if pd.isna(r.year) else int(r.year)})" for r in g.itertuples()]
        lines.append(f"- **{md(metric.replace('_', ' '))}**: ours {company:.3g}; " + "; ".join(parts) + ".")
    return "\n".join(lines)


def page_metrics(process: ItsStudy, campaign: DidStudy, roi: pd.DataFrame | None, figures: pd.DataFrame | None,
                 by: str = "channel") -> dict[str, tuple[Any, str, str]]:
    """Headline numbers of the page: ``{key: (value, unit, description)}``, finite values only."""
    out: dict[str, tuple[Any, str, str]] = {}

    def put(key: str, value: Any, unit: str, description: str) -> None:
        if _finite(value):
            out[key] = (value, unit, description)

    e = process.effect
    put("experiments.process_change.level_change", e.value, "share", "jump of the conversion rate at the change")
    put("experiments.process_change.level_change_lower", e.lower, "share", "lower end of its 95% interval")
    put("experiments.process_change.level_change_upper", e.upper, "share", "upper end of its 95% interval")
    put("experiments.process_change.p_value", e.p_value, "p", "p-value of no jump")
    if process.placebo is not None:
        put("experiments.process_change.placebo_p_value", process.placebo.effect.p_value, "p",
            "p-value of the placebo a year earlier")
    c = campaign.effect
    put("experiments.campaign.lead_lift", c.value, "ratio", "campaign channel's leads vs its expected trend")
    put("experiments.campaign.lead_lift_lower", c.lower, "ratio", "lower end of its 95% interval")
    put("experiments.campaign.lead_lift_upper", c.upper, "ratio", "upper end of its 95% interval")
    if campaign.placebo is not None:
        put("experiments.campaign.placebo_p_value", campaign.placebo.effect.p_value, "p",
            "p-value of the placebo a year earlier")
    if roi is not None and len(roi):
        total = roi[roi[by] == "total"]
        if len(total):
            put("experiments.marketing.pipeline_per_spend", total["pipeline_per_spend"].iat[0], "ratio",
                "pipeline created per dollar of marketing spend over the window")
            put("experiments.marketing.roi", total["roi"].iat[0], "ratio",
                "(bookings won so far - spend) / spend over the window")
    if figures is not None:
        units = {"win_rate": "share", "sales_cycle_days": "days", "ltv_to_cac": "ratio",
                 "cac_payback_months": "months", "quota_attainment": "share"}
        for r in figures.itertuples():
            if r.metric in units:
                put(f"experiments.benchmarks.{r.metric}", r.value, units[r.metric],
                    f"our {r.metric.replace('_', ' ')} for the benchmark comparison ({r.note})")
    return out
