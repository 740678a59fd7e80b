"""The pipeline-and-funnel page in words: what the data allows, one short paragraph per figure, and the
headline metrics the review records.

Every function here reads tables computed by the other funnel modules; nothing is recomputed, so each
sentence shows exactly the numbers of the table beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from salesops.escape import md
from salesops.funnel._common import MissingDataError, as_moment, as_quarter, day_end
from salesops.funnel.pipeline import coverage_groups

__all__ = [
    "attempt",
    "availability",
    "describe_availability",
    "describe_bottlenecks",
    "describe_coverage",
    "describe_flow",
    "describe_lead_changes",
    "describe_pipeline",
    "describe_speed",
    "describe_stale",
    "describe_velocity",
    "funnel_metrics",
    "missing",
    "review_moment",
]


def review_moment(data: Any, quarter: Any, as_of: Any = None) -> pd.Timestamp:
    """The moment a quarter is reviewed at: the end of its last day, or the as-of moment when that is earlier
    (a quarter still running is seen as it stands)."""
    end = day_end(pd.Timestamp(as_quarter(quarter).end))
    cap = as_moment(as_of) if as_of not in (None, "") else getattr(data, "as_of", None)
    return min(end, cap) if cap is not None else end


def attempt(fn: Callable[..., pd.DataFrame], *args: Any, **kwargs: Any) -> pd.DataFrame:
    """``fn(*args, **kwargs)``, or, when the data lacks what it needs, an empty DataFrame whose
    ``attrs["missing"]`` is the sentence saying what is missing and what it prevents."""
    try:
        return fn(*args, **kwargs)
    except MissingDataError as exc:
        empty = pd.DataFrame()
        empty.attrs["missing"] = _sentence(str(exc))
        return empty


def missing(table: pd.DataFrame | None) -> str | None:
    """The missing-data sentence of an :func:`attempt` result as Markdown (escaped: it may name data), else None."""
    if table is None:
        return "Not computed."
    sentence = table.attrs.get("missing")
    return None if sentence is None else md(sentence)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def _has(data: Any, table: str, *columns: str) -> bool:
    t = getattr(data, table, None)
    return t is not None and all(c in t.columns and t[c].notna().any() for c in columns)


def availability(data: Any) -> pd.DataFrame:
    """Which parts of the page the data supports, and for the others which table or column is missing.

    Returns
    -------
    DataFrame
        ``analysis, available, needs`` (``needs`` names what is missing; empty when available).
    """
    checks = [
        ("open pipeline, velocity and age", [("opportunities",)]),
        (
            "pipeline at past moments, stage conversion, time in stage and bottlenecks",
            [("opportunity_history",)],
        ),
        ("pipeline flow", [("opportunity_history", "amount", "close_date")]),
        ("quota coverage", [("quotas",)]),
        ("breakdowns by segment", [("accounts", "segment"), ("reps", "segment")]),
        ("lead funnel", [("leads", "mql_at", "sql_at")]),
        ("speed-to-lead", [("leads", "first_touch_at")]),
    ]
    rows = []
    for name, alternatives in checks:
        ok = any(_has(data, t, *cols) for t, *cols in alternatives)
        needs = " or ".join(
            (f"the {t} table" if not cols else f"{', '.join(f'{t}.{c}' for c in cols)}")
            for t, *cols in alternatives
        )
        rows.append({"analysis": name, "available": ok, "needs": "" if ok else needs})
    return pd.DataFrame(rows)


def describe_availability(av: pd.DataFrame) -> str:
    """One sentence per part of the page the data cannot support, naming what is missing."""
    gaps = av[~av["available"]]
    if gaps.empty:
        return "The data holds every table and column this page uses."
    lines = [
        f"- **{r.analysis.capitalize()}** need{'s' if not r.analysis.endswith('s') else ''} {r.needs}, "
        "which this data does not have; those figures are left out below."
        for r in gaps.itertuples()
    ]
    return "Parts of this page cannot be computed:\n\n" + "\n".join(lines)


def _money(v: float) -> str:
    a = abs(v)
    if not np.isfinite(v):
        return "n/a"
    if a >= 1e6:
        return f"{v / 1e6:,.1f}m"
    if a >= 1e3:
        return f"{v / 1e3:,.0f}k"
    return f"{v:,.0f}"


def _pct(v: float, digits: int = 0) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{100 * v:.{digits}f}%"


def _day(ts: Any) -> str:
    return pd.Timestamp(ts).strftime("%d %b %Y") if ts is not None else "the as-of day"


def describe_pipeline(by_stage: pd.DataFrame, by_segment: pd.DataFrame | None = None) -> str:
    """The open pipeline's size, weighted size and where it sits."""
    if missing(by_stage):
        return missing(by_stage)
    deals, amount, weighted = (
        by_stage["deals"].sum(),
        by_stage["amount"].sum(),
        by_stage["weighted_amount"].sum(),
    )
    text = (
        f"On {_day(by_stage.attrs.get('as_of'))} the open pipeline holds **{deals:,} deals worth "
        f"{_money(amount)}**, {_money(weighted)} once each is weighted by its stage's win probability."
    )
    if "stage" in by_stage.columns and len(by_stage):
        top = by_stage.groupby("stage", sort=False)["amount"].sum()
        text += f" The largest share sits in {md(top.idxmax())} ({_pct(top.max() / amount)})."
    if (
        by_segment is not None
        and not missing(by_segment)
        and "segment" in by_segment.columns
        and len(by_segment)
    ):
        s = by_segment.groupby("segment")["amount"].sum().sort_values(ascending=False)
        text += " By segment: " + ", ".join(f"{md(k)} {_money(v)}" for k, v in s.items()) + "."
    return text


def describe_coverage(cov: pd.DataFrame) -> str:
    """Coverage of the quota still open, naming the thinnest group."""
    if missing(cov):
        return missing(cov)
    keys = coverage_groups(cov)
    total_open, total_pipe = cov["quota_open"].sum(), cov["pipeline"].sum()
    if total_open <= 0:
        quota = _money(cov["quota"].sum())
        return f"On {_day(cov.attrs.get('as_of'))} the quarter's quota ({quota}) is already met."
    text = (
        f"On {_day(cov.attrs.get('as_of'))}, {_money(total_pipe)} of pipeline was due in "
        f"{cov.attrs.get('quarter')} "
        f"against {_money(total_open)} of quota still open: **{total_pipe / total_open:.1f}× coverage** "
        f"({cov['weighted_pipeline'].sum() / total_open:.1f}× weighted by stage)."
    )
    if keys and len(cov) > 1 and cov["coverage"].notna().any():
        low = cov.loc[cov["coverage"].idxmin()]
        text += (
            f" The thinnest is {' · '.join(md(low[k]) for k in keys)} at {low['coverage']:.1f}× "
            f"({low['weighted_coverage']:.1f}× weighted)."
        )
    return text


def describe_velocity(vel: pd.DataFrame) -> str:
    """Velocity per group with its interval."""
    if missing(vel) or vel.empty:
        return missing(vel) or "No deal closed in the window, so velocity is unknown."
    keys = [
        c
        for c in vel.columns
        if c
        not in (
            "open_deals",
            "closed",
            "won",
            "win_rate",
            "win_rate_lower",
            "win_rate_upper",
            "avg_won_amount",
            "avg_cycle_days",
            "velocity_per_day",
            "velocity_lower",
            "velocity_upper",
        )
    ]
    parts = []
    for r in vel.itertuples(index=False):
        name = " · ".join(md(getattr(r, k)) for k in keys) or "All deals"
        parts.append(
            f"{name}: {_money(r.velocity_per_day)} a day (95% CI {_money(r.velocity_lower)}–"
            f"{_money(r.velocity_upper)}; {r.open_deals} open deals × {_pct(r.win_rate)} win rate × "
            f"{_money(r.avg_won_amount)} average won deal ÷ {r.avg_cycle_days:.0f} days)"
        )
    return (
        "Sales velocity (open deals × win rate × average won deal ÷ average cycle, over the deals closed in "
        f"the {vel.attrs.get('window_days', 365)} days before): " + "; ".join(parts) + "."
    )


def describe_stale(stale: pd.DataFrame) -> str:
    """How much of the open pipeline is stale, and why."""
    if missing(stale):
        return missing(stale)
    a = stale.attrs
    if not a.get("open_deals"):
        return "There is no open deal."
    n = len(stale)
    share = a["stale_amount"] / a["open_amount"] if a.get("open_amount") else np.nan
    if n == 0:
        return (
            f"None of the {a['open_deals']:,} open deals is stale: each changed or was worked within "
            f"{a['stale_days']:.0f} days (read from {a['basis']}) and none is past its expected close date."
        )
    idle = int(stale["reasons"].str.contains("no_change").sum())
    due = int(stale["reasons"].str.contains("past_due").sum())
    return (
        f"**{n} of {a['open_deals']:,} open deals ({_pct(share)} of the open amount) look stale**: "
        f"{idle} with no "
        f"change or activity for more than {a['stale_days']:.0f} days (read from {a['basis']}), {due} past "
        "their expected close date. The largest are listed above."
    )


def describe_lead_changes(changes: pd.DataFrame, names: dict[str, str] | None = None) -> str:
    """The funnel steps whose conversion in the period moved significantly from the periods before."""
    if missing(changes):
        return missing(changes)
    names = names or {
        "lead_to_mql": "lead → MQL",
        "mql_to_sql": "MQL → SQL",
        "sql_to_opportunity": "SQL → opportunity",
        "opportunity_to_won": "opportunity → won",
        "lead_to_won": "lead → won",
    }
    period, base = changes.attrs.get("period"), changes.attrs.get("baseline", [])
    head = (
        f"In {period}, against the pooled {len(base)} periods before ({', '.join(base)}), with every step "
        "tested together (two-proportion tests, Holm-adjusted):"
    )
    sig = changes[changes["significant"]]
    keys = [
        c
        for c in changes.columns
        if c
        not in (
            "step",
            "mature",
            "rate",
            "baseline_mature",
            "baseline_rate",
            "change",
            "change_lower",
            "change_upper",
            "p_value",
            "p_adjusted",
            "significant",
            "baseline_periods",
        )
    ]
    if sig.empty:
        immature = changes[changes["mature"].eq(0)]["step"].map(names).tolist()
        tail = (
            f" ({', '.join(immature)} cannot be judged yet: no lead of the period has had its full window.)"
            if immature
            else ""
        )
        return head + " no step converts significantly differently." + tail
    lines = []
    for r in sig.itertuples(index=False):
        who = " · ".join(md(getattr(r, k)) for k in keys)
        lines.append(
            f"- **{names.get(r.step, r.step)}{' (' + who + ')' if who else ''}**: {_pct(r.rate, 1)} against "
            f"{_pct(r.baseline_rate, 1)}, a change of {100 * r.change:+.1f} points (95% CI "
            f"{100 * r.change_lower:+.1f} to {100 * r.change_upper:+.1f})."
        )
    return head + "\n\n" + "\n".join(lines)


def describe_speed(speed: pd.DataFrame, bands: pd.DataFrame, effect: pd.DataFrame) -> str:
    """Speed-to-lead by source and its adjusted relation to MQL -> SQL conversion."""
    gone = [m for m in (missing(speed), missing(bands), missing(effect)) if m]
    if gone:
        return gone[0]
    fastest = speed.loc[speed["median_hours"].idxmin()]
    slowest = speed.loc[speed["median_hours"].idxmax()]
    key = [
        c
        for c in speed.columns
        if c not in ("leads", "touched", "median_hours", "lower", "upper", "within_1h", "within_24h")
    ]
    text = ""
    if key:
        k = key[0]
        text = (
            f"Leads from {md(fastest[k])} are touched fastest (median {fastest['median_hours']:.1f} h), "
            "those from "
            f"{md(slowest[k])} slowest ({slowest['median_hours']:.1f} h). "
        )
    e = effect.iloc[0]
    if not np.isfinite(e["coef"]):
        return text + f"The effect of speed on MQL → SQL conversion is not estimated: {md(e['note'])}."
    direction = "lowers" if e["upper"] < 0 else ("raises" if e["lower"] > 0 else "does not clearly change")
    text += (
        f"Raw conversion by speed band mixes speed with source; adjusted for {md(e['adjusted_for'])}, each "
        f"doubling of the wait before the first touch **{direction} the odds of an MQL becoming an SQL** "
        f"(odds × {e['odds_ratio']:.3f}, log-odds {e['coef']:+.3f}, 95% CI {e['lower']:+.3f} to "
        f"{e['upper']:+.3f}, {e['mqls']:,} MQLs)."
    )
    return text


def describe_bottlenecks(found: pd.DataFrame, stage_names: dict[str, str] | None = None) -> str:
    """The flagged stages of the quarter, with how far they moved."""
    if missing(found):
        return missing(found)
    if found.empty:
        return "No stage could be tested in this quarter."
    group = found.attrs.get("by")
    flagged = found[found["flagged"]]
    tested = int(found["p_time"].notna().sum() + found["p_conversion"].notna().sum())
    quarter = found["quarter"].iloc[0]
    if flagged.empty:
        return (
            f"In {quarter} no stage departs significantly from its own recent history ({tested} tests, "
            f"family-wise error held at {found.attrs.get('alpha', 0.05):.0%} with Holm's method)."
        )
    lines = []
    for r in flagged.itertuples(index=False):
        who = f"{md(getattr(r, group))} · {md(r.stage)}" if group else md(r.stage)
        what = []
        if r.flag_conversion or np.isfinite(r.conversion_change):
            what.append(
                f"conversion {_pct(r.conversion)} against {_pct(r.baseline_conversion)}"
                + (" (significant)" if r.flag_conversion else "")
            )
        what.append(
            f"median {r.median_days:.0f} days in stage against {r.baseline_median_days:.0f} "
            f"(×{r.time_ratio:.1f}{', significant' if r.flag_time else ''})"
        )
        lines.append(f"- **{who}**: " + "; ".join(what) + f" — baseline {md(r.baseline_quarters)}.")
    return (
        f"Flagged in {quarter} ({tested} tests, family-wise error held at "
        f"{found.attrs.get('alpha', 0.05):.0%} "
        "with Holm's method):\n\n" + "\n".join(lines)
    )


def describe_flow(flow: pd.DataFrame) -> str:
    """The quarter's waterfall in one paragraph, and whether it reconciles."""
    if missing(flow):
        return missing(flow)
    a = dict(zip(flow["step"], flow["amount"], strict=True))
    n = dict(zip(flow["step"], flow["deals"], strict=True))
    q = flow.attrs.get("quarter")
    ins = [
        f"{_money(a[s])} {s.replace('_', ' ')} ({n[s]})" for s in ("created", "pulled_in", "reopened") if a[s]
    ]
    outs = [
        f"{_money(-a[s])} {s.replace('_', ' ')} ({n[s]})"
        for s in ("won", "lost", "slipped", "pushed_out")
        if a[s]
    ]
    amount = a["amount_increase"] + a["amount_decrease"]
    text = (
        f"{q} started with **{_money(a['start'])}** of pipeline due in the quarter ({n['start']} deals). "
        f"In came {', '.join(ins) or 'nothing'}; out went {', '.join(outs) or 'nothing'}; amount changes "
        f"added {_money(amount)} net. It ended with **{_money(a['end'])}** still open and due "
        f"({n['end']} deals)."
    )
    text += (
        " Start plus every step equals the end to the cent."
        if flow.attrs.get("reconciled")
        else " The steps do NOT reconcile with the levels: report this as a bug."
    )
    return text


# --- metrics ------------------------------------------------------------------------------------------------


def _num(v: Any) -> Any:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def funnel_metrics(
    size: pd.DataFrame,
    cov: pd.DataFrame,
    velocity: pd.DataFrame,
    stale: pd.DataFrame,
    leads: pd.DataFrame,
    quarter: str,
    speed: pd.DataFrame,
    effect: pd.DataFrame,
    found: pd.DataFrame,
    flow: pd.DataFrame,
) -> dict[str, tuple[Any, str, str]]:
    """The page's headline numbers for ``metrics.json``: ``{key: (value, unit, description)}``.

    Keys are fixed (one per step, not per data value) so two quarters' files line up; a value the data does
    not allow is None.
    """
    m: dict[str, tuple[Any, str, str]] = {}
    ok = not missing(size)
    m["funnel.pipeline.open_amount"] = (
        _num(size["amount"].sum()) if ok else None,
        "currency",
        "open pipeline at the review moment",
    )
    m["funnel.pipeline.open_deals"] = (
        int(size["deals"].sum()) if ok else None,
        "deals",
        "open opportunities at the review moment",
    )
    m["funnel.pipeline.weighted_amount"] = (
        _num(size["weighted_amount"].sum()) if ok else None,
        "currency",
        "open pipeline weighted by stage win probability",
    )
    ok = not missing(cov) and cov["quota_open"].sum() > 0
    m["funnel.coverage.start_of_quarter"] = (
        _num(cov["pipeline"].sum() / cov["quota_open"].sum()) if ok else None,
        "ratio",
        "pipeline due in the quarter / quota still open, at the quarter's start",
    )
    ok = not missing(velocity) and len(velocity) == 1
    m["funnel.velocity.per_day"] = (
        _num(velocity["velocity_per_day"].iloc[0]) if ok else None,
        "currency/day",
        "open deals x win rate x average won deal / average cycle (last 365 days)",
    )
    ok = not missing(stale)
    m["funnel.stale.deals"] = (
        len(stale) if ok else None,
        "deals",
        "open deals idle beyond the threshold or past their close date",
    )
    m["funnel.stale.amount_share"] = (
        _num(stale.attrs["stale_amount"] / stale.attrs["open_amount"])
        if ok and stale.attrs.get("open_amount")
        else None,
        "share",
        "share of the open amount in stale deals",
    )
    for step in ("lead_to_mql", "mql_to_sql", "opportunity_to_won"):
        row = (
            leads[(leads["period"] == quarter) & (leads["step"] == step)]
            if not missing(leads) and len(leads)
            else []
        )
        m[f"funnel.leads.{step}"] = (
            _num(row["rate"].iloc[0]) if len(row) else None,
            "share",
            f"{step.replace('_', ' ')} conversion within its window, entries of the quarter",
        )
    ok = not missing(speed) and len(speed) == 1
    m["funnel.speed_to_lead.median_hours"] = (
        _num(speed["median_hours"].iloc[0]) if ok else None,
        "hours",
        "Kaplan-Meier median hours from lead creation to first touch, all leads",
    )
    ok = not missing(effect) and len(effect)
    m["funnel.speed_to_lead.log_odds_per_doubling"] = (
        _num(effect["coef"].iloc[0]) if ok else None,
        "log-odds",
        "adjusted effect of doubling the wait on MQL to SQL conversion",
    )
    ok = not missing(found) and len(found)
    m["funnel.bottlenecks.flagged"] = (
        int(found["flagged"].sum()) if ok else None,
        "stages",
        "group-stages departing significantly from their own history",
    )
    ok = not missing(flow) and len(flow)
    for step in ("start", "created", "pulled_in", "pushed_out", "slipped", "won", "lost", "end"):
        v = flow.loc[flow["step"].eq(step), "amount"].sum() if ok else None
        m[f"funnel.flow.{step}"] = (
            _num(v),
            "currency",
            f"pipeline flow of the quarter: {step.replace('_', ' ')}",
        )
    m["funnel.flow.amount_change"] = (
        _num(flow.loc[flow["step"].isin(["amount_increase", "amount_decrease"]), "amount"].sum())
        if ok
        else None,
        "currency",
        "pipeline flow of the quarter: net amount changes",
    )
    return m
