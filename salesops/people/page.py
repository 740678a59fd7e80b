"""What notebook 08 (training and ramp) says in words and records for the review.

Each ``describe_*`` returns a short Markdown answer built from a study's numbers (or its message when there is
no number); :func:`page_metrics` returns the headline numbers as ``{key: (value, unit, description)}``, finite
values only, keys stable across quarters (a figure that cannot be computed is left out, its message shown).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from salesops.escape import md
from salesops.people.ramp import RampStudy
from salesops.people.training import TrainingStudy

__all__ = ["describe_coaching", "describe_first_deal", "describe_ramp", "describe_training", "page_metrics"]


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def describe_ramp(study: RampStudy) -> str:
    """The ramp answer: months to the target share of tenured output, with interval and the cohorts' medians."""
    e = study.months_to_target
    if not e.available:
        return f"**No ramp estimate.** {md(study.message or e.message)}"
    text = (f"New hires reach **{study.target:.0%} of a tenured peer's output after {e.value:.1f} months** "
            f"(95% interval {e.lower:.1f} to {e.upper:.1f}, {e.n} hires; fitted time constant {study.tau:.1f} months).")
    s = study.productivity_summary
    if s is not None and len(s):
        parts = []
        for r in s.itertuples():
            if r.group == "all":
                continue
            med = f"median {r.median_months:.0f} months" if _finite(r.median_months) else "median not reached yet"
            parts.append(f"{md(r.group)}: {r.events} of {r.hires} ramped, {med}")
        if parts:
            text += (" Counting each hire until their own rolling 3-month output first reaches the target "
                     "(Kaplan–Meier, hires still ramping kept as censored): " + "; ".join(parts) + ".")
    return text


def describe_first_deal(study: RampStudy) -> str:
    """Median days to the first won deal, overall and per cohort."""
    s = study.first_deal_summary
    if s is None or s.empty:
        return f"**No time-to-first-deal estimate.** {md(study.message)}"
    rows = {r.group: r for r in s.itertuples()}
    overall = rows.get("all")
    head = (f"Half of the new hires won their first deal within **{overall.median_days:.0f} days**"
            f" (95% interval {overall.lower:.0f} to "
            f"{'not reached' if not _finite(overall.upper) else f'{overall.upper:.0f}'} days, {overall.hires} hires)."
            if overall is not None and _finite(overall.median_days) else "Fewer than half of the hires have won a deal yet.")
    parts = [f"{md(g)}: {'median ' + format(r.median_days, '.0f') + ' days' if _finite(r.median_days) else 'median not reached'}"
             f" ({r.events} of {r.hires} with a win)" for g, r in rows.items() if g != "all"]
    return head + (" By hire cohort: " + "; ".join(parts) + "." if parts else "")


def describe_training(study: TrainingStudy) -> str:
    """The training answer: effect with interval, the parallel-trends check and the placebo."""
    e = study.effect
    if not e.available:
        return f"**No training estimate.** {md(study.message or e.message)}"
    p = study.program
    g = study.groups["group"].value_counts() if len(study.groups) else pd.Series(dtype=int)
    text = (f"**{md(p.name)}** ({p.start.date()} to {p.end.date()}, {g.get('treated', 0)} trained reps, "
            f"{g.get('control', 0)} untrained controls): the win rate of trained reps rose by "
            f"**{100 * e.value:+.1f} points** more than the controls' (95% CI {100 * e.lower:+.1f} to "
            f"{100 * e.upper:+.1f}, p = {e.p_value:.2g}).")
    pt = study.did.pretrend
    if pt.available:
        verdict = "no sign of diverging trends" if pt.p_value >= 0.05 else "**the groups were already drifting apart**"
        text += (f" Before the programme the two groups moved in parallel: {verdict} (difference in slope "
                 f"{100 * pt.value:+.2f} points per period, p = {pt.p_value:.2f}).")
    pl = study.did.placebo
    if pl is not None and pl.effect.available:
        found = "finds nothing" if not pl.effect.significant else "**finds an effect too, so read the estimate with care**"
        text += (f" The same analysis a year before the programme {found} ({100 * pl.effect.value:+.1f} points, "
                 f"95% CI {100 * pl.effect.lower:+.1f} to {100 * pl.effect.upper:+.1f}).")
    if e.message:
        text += f" Caveat: {md(e.message)}."
    return text


def describe_coaching(signals: pd.DataFrame, topics: pd.DataFrame) -> str:
    """How many reps have a coaching signal, and what the shrinkage did."""
    notes = list(signals.attrs.get("notes", [])) if signals is not None else []
    if signals is None or signals.empty:
        why = " ".join(md(n[:1].upper() + n[1:]) + "." for n in notes) if notes else "No rep has deals to compare."
        return f"**No coaching signals.** {why}"
    if signals["gap"].isna().all():
        return "**No coaching signals.** Too few reps per peer group to compare. " + " ".join(md(n) for n in notes)
    reps = signals["rep_id"].nunique()
    below = topics["rep_id"].nunique() if len(topics) else 0
    above = signals.loc[signals["flag"] == "above", "rep_id"].nunique()
    text = (f"Of {reps} reps, **{below}** {'has' if below == 1 else 'have'} at least one metric clearly below "
            f"their peers and {above} at least one clearly above (posterior probability 80% or more and a gap of 2 points or more, after shrinking "
            f"each rate towards the peer group).")
    if notes:
        text += " Not measured: " + "; ".join(md(n) for n in notes) + "."
    return text


def page_metrics(ramp: RampStudy, training: TrainingStudy, signals: pd.DataFrame,
                 topics: pd.DataFrame) -> dict[str, tuple[Any, str, str]]:
    """Headline numbers of the page: ``{key: (value, unit, description)}``, finite values only."""
    out: dict[str, tuple[Any, str, str]] = {}

    def put(key: str, value: Any, unit: str, description: str) -> None:
        if _finite(value):
            out[key] = (float(value) if isinstance(value, float) else value, unit, description)

    e = ramp.months_to_target
    put("people.ramp.months_to_90pct", e.value, "months", "months until new hires reach 90% of tenured output")
    put("people.ramp.months_to_90pct_lower", e.lower, "months", "lower end of its 95% interval")
    put("people.ramp.months_to_90pct_upper", e.upper, "months", "upper end of its 95% interval")
    if e.available:
        put("people.ramp.hires", int(e.n), "reps", "hires inside the observed period behind the ramp curve")
    fd = ramp.first_deal_summary
    if fd is not None and len(fd):
        allrow = fd[fd["group"] == "all"]
        if len(allrow):
            put("people.first_deal.median_days", allrow["median_days"].iat[0], "days",
                "Kaplan–Meier median days from hire to first won deal")
    t = training.effect
    put("people.training.effect", t.value, "share", "training effect on win rate (difference-in-differences)")
    put("people.training.effect_lower", t.lower, "share", "lower end of its 95% interval")
    put("people.training.effect_upper", t.upper, "share", "upper end of its 95% interval")
    put("people.training.p_value", t.p_value, "p", "p-value of no effect")
    put("people.training.pretrend_p_value", training.did.pretrend.p_value, "p",
        "p-value of the parallel-trends check (large: no sign of diverging trends)")
    if training.did.placebo is not None:
        put("people.training.placebo_p_value", training.did.placebo.effect.p_value, "p",
            "p-value of the placebo a year earlier (large: nothing found where nothing happened)")
    if signals is not None and len(signals) and signals["gap"].notna().any():
        put("people.coaching.reps_with_topics", int(topics["rep_id"].nunique()) if len(topics) else 0, "reps",
            "reps with at least one metric clearly below peers")
    return out
