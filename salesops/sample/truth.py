"""Realised figures: every planted effect measured back on the generated tables.

These functions read only canonical tables (plus the per-record truths in ``hidden`` for the AUCs), so
they double as reference implementations of each measurement; the tests recompute the same figures with
their own code.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from sklearn.metrics import roc_auc_score

from . import params as P
from .timeline import AS_OF, PERIOD_END, PERIOD_START, SAMPLE_CALENDAR

Tables = dict[str, pd.DataFrame]


def _f(x: float, nd: int = 6) -> float | None:
    """A plain JSON float (``None`` for NaN)."""
    x = float(x)
    return None if math.isnan(x) else round(x, nd)


def opportunities_with_segment(t: Tables) -> pd.DataFrame:
    """Opportunities with their account's segment."""
    seg = t["accounts"].set_index("account_id")["segment"]
    return t["opportunities"].assign(segment=lambda d: d["account_id"].map(seg))


def win_rates(t: Tables) -> dict:
    """Won / closed per segment, over closed opportunities of every type."""
    o = opportunities_with_segment(t)
    closed = o[o["is_closed"]]
    return {s: _f(closed.loc[closed["segment"].eq(s), "is_won"].mean()) for s in P.SEGMENTS}


def cycle_medians(t: Tables) -> dict:
    """Median days from created_date to close_date of won opportunities, per segment."""
    o = opportunities_with_segment(t)
    won = o[o["is_won"]]
    days = (won["close_date"] - won["created_date"]).dt.days
    return {s: _f(days[won["segment"].eq(s)].median()) for s in P.SEGMENTS}


def q4_uplift(t: Tables) -> dict:
    """Bookings (won amount by close quarter) of Q4 relative to the mean of Q1-Q3 of the same year."""
    o = t["opportunities"]
    won = o[o["is_won"]]
    q = won["close_date"].dt.quarter
    y = won["close_date"].dt.year
    b = won.groupby([y, q])["amount"].sum()
    by_year = {}
    q4_sum, rest_sum = 0.0, 0.0
    for year in (2023, 2024, 2025):
        rest = [b.get((year, k), 0.0) for k in (1, 2, 3)]
        by_year[str(year)] = _f(b.get((year, 4), 0.0) / np.mean(rest) - 1.0)
        q4_sum += b.get((year, 4), 0.0)
        rest_sum += sum(rest)
    return {
        "pooled": _f(q4_sum / (rest_sum / 3.0) - 1.0),
        "by_year": by_year,
        "bookings_by_quarter": {f"{yy}Q{qq}": _f(v, 2) for (yy, qq), v in b.items()},
    }


def stage_exits(t: Tables, stage: str, segment: str) -> pd.DataFrame:
    """First entry into ``stage`` of each opportunity of ``segment`` and how/when it left the stage.

    Columns: ``opportunity_id``, ``entered``, ``exited`` (NaT while still there), ``next_stage``.
    """
    o = opportunities_with_segment(t)
    ids = set(o.loc[o["segment"].eq(segment), "opportunity_id"])
    h = t["opportunity_history"]
    h = h[h["opportunity_id"].isin(ids)].sort_values(["opportunity_id", "changed_at"], kind="stable")
    entry = h[h["stage"].eq(stage)].groupby("opportunity_id")["changed_at"].min().rename("entered")
    h = h.join(entry, on="opportunity_id", how="inner")
    after = h[(h["changed_at"] > h["entered"]) & h["stage"].ne(stage)]
    nxt = after.groupby("opportunity_id").first()[["changed_at", "stage"]]
    nxt.columns = ["exited", "next_stage"]
    return entry.to_frame().join(nxt).reset_index()


def bottleneck(t: Tables) -> dict:
    """Proposal-stage conversion and median days in stage for Mid-Market, before and after 2025-04-01."""
    order = {s: i for i, s in enumerate(P.STAGE_NAMES)}
    x = stage_exits(t, P.BOTTLENECK["stage"], P.BOTTLENECK["segment"])
    x = x[x["exited"].notna()]
    advanced = x["next_stage"].map(order) > order[P.BOTTLENECK["stage"]]
    advanced &= x["next_stage"].ne("Closed Lost")
    days = (x["exited"] - x["entered"]).dt.total_seconds() / 86_400.0
    cut = pd.Timestamp(P.BOTTLENECK["start"], tz="UTC")
    out = {}
    for name, m in (("before", x["entered"] < cut), ("after", x["entered"] >= cut)):
        out[f"conversion_{name}"] = _f(advanced[m].mean())
        out[f"median_days_in_stage_{name}"] = _f(days[m].median())
        out[f"n_{name}"] = int(m.sum())
    out["time_in_stage_ratio"] = _f(out["median_days_in_stage_after"] / out["median_days_in_stage_before"])
    return out


def training_did(t: Tables, treated: list[str], control: list[str]) -> dict:
    """Win-rate difference-in-differences of the training (deals created before start vs after end)."""
    o = t["opportunities"]
    closed = o[o["is_closed"]]
    start, end = pd.Timestamp(P.TRAINING["start"]), pd.Timestamp(P.TRAINING["end"])
    out = {}
    for g, ids in (("treated", treated), ("control", control)):
        mine = closed[closed["owner_rep_id"].isin(ids)]
        for p, m in (("before", mine["created_date"] < start), ("after", mine["created_date"] > end)):
            out[f"{g}_{p}"] = _f(mine.loc[m, "is_won"].mean())
            out[f"n_{g}_{p}"] = int(m.sum())
    out["diff_in_diff"] = _f(
        (out["treated_after"] - out["treated_before"]) - (out["control_after"] - out["control_before"])
    )
    return out


def process_change(t: Tables) -> dict:
    """MQL-to-SQL rate of leads that became MQL before vs on/after the change date."""
    ld = t["leads"]
    mql = ld[ld["mql_at"].notna()]
    cut = pd.Timestamp(P.PROCESS_CHANGE_DATE, tz="UTC")
    before = mql.loc[mql["mql_at"] < cut, "sql_at"].notna().mean()
    after = mql.loc[mql["mql_at"] >= cut, "sql_at"].notna().mean()
    return {"before": _f(before), "after": _f(after), "lift": _f(after - before)}


def churn(t: Tables, logo: bool = False) -> dict:
    """Monthly gross revenue churn per segment: MRR of accounts that drop to zero / MRR a month before.

    With ``logo`` the same with accounts counted instead of MRR summed.
    """
    r = t["revenue"]
    m = r.pivot_table(index="account_id", columns="month", values="mrr", aggfunc="sum", fill_value=0.0)
    months = pd.date_range(PERIOD_START, PERIOD_END, freq="MS")
    m = m.reindex(columns=months, fill_value=0.0)
    seg = t["accounts"].set_index("account_id")["segment"].reindex(m.index)
    prev, cur = m.to_numpy()[:, :-1], m.to_numpy()[:, 1:]
    if logo:
        prev = (prev > 0).astype(float)
    lost = np.where((prev > 0) & (cur <= 0), prev, 0.0)
    out = {}
    for s in P.SEGMENTS:
        k = (seg == s).to_numpy()
        out[s] = _f(lost[k].sum() / prev[k].sum()) if prev[k].sum() > 0 else None
    return out


def working_days_employed(reps: pd.DataFrame) -> pd.Series:
    """Working days (Mon-Fri, not a US federal holiday) each rep was employed in the period."""
    work = SAMPLE_CALENDAR.working_days(PERIOD_START, PERIOD_END).to_numpy()
    hire = reps["hire_date"].fillna(PERIOD_START).to_numpy()
    end = reps["end_date"].fillna(PERIOD_END).to_numpy()
    counts = np.searchsorted(work, end, side="right") - np.searchsorted(work, hire, side="left")
    return pd.Series(np.clip(counts, 0, None), index=reps["rep_id"].to_numpy())


def activity_rates(t: Tables) -> dict:
    """Activities per working day of employment, per role."""
    reps = t["reps"]
    days = working_days_employed(reps)
    n = t["activities"]["rep_id"].value_counts()
    out = {}
    for role in ("SDR", "AE"):
        ids = reps.loc[reps["role"].eq(role), "rep_id"]
        out[role] = _f(n.reindex(ids).fillna(0).sum() / days.reindex(ids).sum(), 3)
    return out


def _window_ramp(k: np.ndarray, tau: float) -> np.ndarray:
    """Mean of ``1 - exp(-m / tau)`` over tenure month ``m`` in ``[k, k+1)``."""
    return 1.0 - tau * (np.exp(-k / tau) - np.exp(-(k + 1) / tau))


def ramp_curve(t: Tables, months: int = 12) -> dict:
    """Routed opportunities (source other than Existing Customer) per AE by tenure month, relative to tenured
    AEs of the same team."""
    reps = t["reps"]
    ae = reps[reps["role"].eq("AE")]
    o = t["opportunities"]
    nb = o[o["source"].ne(P.EXISTING_CUSTOMER)]
    created = nb["created_date"].to_numpy()
    owner = nb["owner_rep_id"].to_numpy()
    as_of = PERIOD_END + pd.Timedelta(days=1)
    hires = ae[ae["hire_date"] >= PERIOD_START]
    num = np.zeros(months)
    den = np.zeros(months)
    for _, h in hires.iterrows():
        team = ae[ae["team"].eq(h["team"]) & ae["rep_id"].ne(h["rep_id"])]
        for k in range(months):
            w0 = h["hire_date"] + pd.Timedelta(days=P.DAYS_PER_MONTH * k)
            w1 = h["hire_date"] + pd.Timedelta(days=P.DAYS_PER_MONTH * (k + 1))
            if w1 > as_of or (pd.notna(h["end_date"]) and h["end_date"] < w1):
                break
            ten = team[
                (team["hire_date"] <= w0 - pd.Timedelta(days=365))
                & (team["end_date"].isna() | (team["end_date"] >= w1))
            ]
            if len(ten) == 0:
                continue
            inwin = (created >= np.datetime64(w0)) & (created < np.datetime64(w1))
            num[k] += np.sum(inwin & (owner == h["rep_id"]))
            den[k] += np.sum(inwin & np.isin(owner, ten["rep_id"].to_numpy())) / len(ten)
    ratio = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    k = np.arange(months)
    ok = ~np.isnan(ratio)
    res = minimize_scalar(
        lambda tau: np.sum((ratio[ok] - _window_ramp(k[ok], tau)) ** 2), bounds=(0.2, 12.0), method="bounded"
    )
    tau = float(res.x)
    return {
        "ratio_by_tenure_month": [_f(v, 4) for v in ratio],
        "fitted_tau_months": _f(tau, 4),
        "months_to_90pct": _f(tau * math.log(10.0), 4),
        "hires": int(len(hires)),
    }


def new_customers(t: Tables) -> pd.DataFrame:
    """Accounts whose first won opportunity (by close date) is new business, with that deal's channel."""
    o = t["opportunities"]
    won = o[o["is_won"]].sort_values(["close_date", "opportunity_id"], kind="stable")
    first = won.groupby("account_id").head(1)
    first = first[first["type"].eq("new_business")]
    src = t["leads"].set_index("lead_id")["source"]
    channel = first["lead_id"].map(src).fillna(first["source"])
    return first.assign(channel=channel.to_numpy())[["account_id", "opportunity_id", "close_date", "channel"]]


def cac(t: Tables) -> dict:
    """CAC per channel = (marketing spend of the channel + sales costs x channel's share of new customers)
    / new customers won from the channel's leads, over the whole period."""
    nc = new_customers(t)
    n_total = len(nc)
    sales = float(t["sales_costs"]["amount"].sum())
    mkt = t["marketing_spend"].groupby("channel")["amount"].sum()
    by = {}
    counts = nc["channel"].value_counts()
    for ch in P.SOURCES:
        n = int(counts.get(ch, 0))
        m = float(mkt.get(ch, 0.0))
        by[ch] = {
            "new_customers": n,
            "marketing_spend": _f(m, 2),
            "allocated_sales_costs": _f(sales * n / n_total, 2) if n_total else None,
            "cac": _f((m + sales * n / n_total) / n, 2) if n else None,
        }
    return {
        "by_channel": by,
        "new_customers_total": n_total,
        "new_customers_ae_sourced": int(counts.get(P.AE_SOURCED, 0)),
        "sales_costs_total": _f(sales, 2),
        "marketing_spend_total": _f(float(mkt.sum()), 2),
        "blended_cac": _f((float(mkt.sum()) + sales) / n_total, 2) if n_total else None,
    }


def aucs(t: Tables, hidden: dict[str, pd.DataFrame]) -> dict:
    """AUC of each lead's true P(SQL) and P(won) on the realised outcomes: the best any model can do."""
    ld = t["leads"].merge(hidden["leads"], on="lead_id", how="left")
    sql = ld["sql_at"].notna()
    won_ids = set(t["opportunities"].loc[t["opportunities"]["is_won"], "opportunity_id"])
    won = ld["opportunity_id"].isin(won_ids)
    return {
        "lead_to_sql": _f(roc_auc_score(sql, ld["p_sql"])),
        "lead_to_won": _f(roc_auc_score(won, ld["p_won"])),
        "lead_to_sql_base_rate": _f(sql.mean()),
        "lead_to_won_base_rate": _f(won.mean()),
    }


def lead_rates_by_source(t: Tables) -> dict:
    """Realised MQL rate, MQL-to-SQL rate and lead-to-SQL rate per source."""
    ld = t["leads"]
    out = {}
    for s, g in ld.groupby("source"):
        mql = g["mql_at"].notna()
        out[str(s)] = {
            "leads": int(len(g)),
            "mql_rate": _f(mql.mean()),
            "sql_given_mql": _f(g.loc[mql, "sql_at"].notna().mean()),
            "sql_rate": _f(g["sql_at"].notna().mean()),
        }
    return out


def sql_by_speed(t: Tables) -> dict:
    """Realised MQL-to-SQL rate by hours from created_at to first_touch_at."""
    ld = t["leads"]
    mql = ld[ld["mql_at"].notna() & ld["first_touch_at"].notna()]
    hours = (mql["first_touch_at"] - mql["created_at"]).dt.total_seconds() / 3600.0
    bins = [0, 1, 4, 24, 72, np.inf]
    labels = ["<1h", "1-4h", "4-24h", "24-72h", ">72h"]
    band = pd.cut(hours, bins, labels=labels, right=False)
    out = {}
    for b in labels:
        m = band == b
        out[b] = {
            "mqls": int(m.sum()),
            "sql_given_mql": _f(mql.loc[m, "sql_at"].notna().mean()) if m.any() else None,
        }
    return out


def rep_win_rates(t: Tables, rep_ids: list[str]) -> dict:
    """Win rate of each rep's closed deals next to their segment's."""
    o = opportunities_with_segment(t)
    closed = o[o["is_closed"]]
    seg_rate = closed.groupby("segment")["is_won"].mean()
    out = {}
    for r in rep_ids:
        mine = closed[closed["owner_rep_id"].eq(r)]
        s = mine["segment"].mode().iloc[0] if len(mine) else None
        out[r] = {
            "segment": s,
            "closed": int(len(mine)),
            "win_rate": _f(mine["is_won"].mean()) if len(mine) else None,
            "segment_win_rate": _f(seg_rate.get(s, np.nan)) if s else None,
        }
    return out


def row_counts(t: Tables) -> dict:
    """Rows per table."""
    return {k: int(len(v)) for k, v in sorted(t.items())}


def as_of_iso() -> str:
    """The as-of moment as ISO text."""
    return AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ")


def _coef(d: dict) -> dict:
    return {k: {kk: _f(vv) for kk, vv in v.items()} for k, v in d.items()}


def assemble_truth(t: Tables, hidden: dict[str, pd.DataFrame], ctx: dict) -> dict:
    """The ``truth.json`` content: planted parameters next to the figures realised in the tables."""
    scale = ctx["scale"]
    reps = hidden["reps"]
    ae = reps[reps["role"].eq("AE")]
    treated = sorted(ae.loc[ae["trained"], "rep_id"])
    control = sorted(ae.loc[ae["training_eligible"] & ~ae["trained"], "rep_id"])
    low = sorted(ae.loc[ae["skill_group"].eq("low"), "rep_id"])
    high = sorted(ae.loc[ae["skill_group"].eq("high"), "rep_id"])
    lm = ctx["lead_model"]
    calib = ctx["calibration"]
    return {
        "generator": "salesops.sample",
        "seed": int(ctx["seed"]),
        "size": scale.size,
        "size_label": scale.label,
        "as_of": as_of_iso(),
        "period_start": PERIOD_START.strftime("%Y-%m-%d"),
        "period_end": PERIOD_END.strftime("%Y-%m-%d"),
        "latest_complete_quarter": "2025Q4",
        "currency": "USD",
        "row_counts": row_counts(t),
        "segments": {
            "rule": "accounts.segment from accounts.employees: SMB < 200 <= Mid-Market < 2000 <= Enterprise",
            "thresholds": {"Mid-Market": P.SEGMENT_THRESHOLDS[0], "Enterprise": P.SEGMENT_THRESHOLDS[1]},
            "opportunity_segment": "the segment of the opportunity's account (equal to its owner AE's segment)",
        },
        "win_rates": {
            "definition": "won / closed over closed opportunities of every type, by account segment",
            "planted": dict(zip(P.SEGMENTS, P.WIN_RATE, strict=True)),
            "realised": win_rates(t),
            "stage_conversions_new_business": calib["new_business"]["stage_conversions"],
            "stage_conversions_note": (
                "per-segment conversion of each stage to the next for an owner without skill, training or "
                "source effects; the effects (additive on the win probability) are spread over the three "
                "non-Proposal stages; Mid-Market Proposal converts at 0.40 from 2025-04-01"
            ),
            "source_effects": {k: _f(v) for k, v in P.SOURCE_WIN_EFFECT.items()},
        },
        "sales_cycle": {
            "definition": "median of close_date - created_date in days over Closed Won opportunities, by segment",
            "planted_median_days": dict(zip(P.SEGMENTS, P.CYCLE_MEDIAN_DAYS, strict=True)),
            "realised_median_days": cycle_medians(t),
            "stage_time_shares": dict(zip(P.OPEN_STAGES, P.STAGE_TIME_SHARE, strict=True)),
        },
        "seasonality": {
            "definition": (
                "bookings = sum of amount of Closed Won opportunities by close_date quarter; uplift = Q4 / "
                "mean(Q1, Q2, Q3) of the same year - 1; 'pooled' sums the three years"
            ),
            "planted_q4_uplift": P.Q4_UPLIFT_TARGET,
            "q4_won_amount_multiplier_by_year": {k: _f(v) for k, v in ctx["q4_multiplier"].items()},
            "mechanism": (
                "deals won in October-December close at the year's multiplier x their amount (year-end "
                "budgets; the history shows the amount change on the Closed Won row); each year's multiplier is "
                "solved so that year's uplift is the planted one (growth inside the year included)"
            ),
            "realised": q4_uplift(t),
        },
        "bottleneck": {
            **P.BOTTLENECK,
            "definition": (
                "opportunities of Mid-Market accounts, grouped by the first time they entered Proposal "
                "(before / on or after 2025-04-01); conversion = share of those that left Proposal which moved "
                "on to Negotiation or Closed Won; days in stage = first entry to the next change of stage"
            ),
            "realised": bottleneck(t),
        },
        "training": {
            "program": P.TRAINING["program"],
            "start_date": P.TRAINING["start"],
            "end_date": P.TRAINING["end"],
            "planted_effect": P.TRAINING["effect"],
            "effect_unit": "additive win probability of deals created after end_date by trained AEs",
            "assignment": (
                f"random half, within each segment, of the AEs hired at least {P.TRAINING['min_tenure_days']} "
                "days before start_date and employed through end_date, randomised within pairs of AEs matched "
                "on skill (when a segment has an odd number, its most recent hire sits out); the other half is "
                "the control group"
            ),
            "treated_rep_ids": treated,
            "control_rep_ids": control,
            "definition": (
                "diff_in_diff = (treated_after - treated_before) - (control_after - control_before) of the win "
                "rate of closed opportunities owned by the group, before = created_date < start_date, after = "
                "created_date > end_date"
            ),
            "realised": training_did(t, treated, control),
        },
        "process_change": {
            "date": P.PROCESS_CHANGE_DATE,
            "name": "Lead qualification process v2",
            "metric": "MQL to SQL conversion (leads.sql_at not null among leads with mql_at)",
            "planted_before": P.SQL_RATE_BEFORE,
            "planted_after": P.SQL_RATE_AFTER,
            "planted_lift": _f(P.SQL_RATE_AFTER - P.SQL_RATE_BEFORE),
            "logit_shift": _f(lm["process_change_logit_shift"]),
            "definition": "leads grouped by mql_at before / on or after the date",
            "realised": process_change(t),
        },
        "rep_skill": {
            "low_skill_rep_ids": low,
            "high_skill_rep_ids": high,
            "effects": {"low": P.SKILL["low"], "high": P.SKILL["high"]},
            "effect_unit": "additive win probability of every deal the AE owns",
            "others": f"normal AEs ~ N(0, {P.SKILL['normal_sd']}) clipped to +/-{P.SKILL['normal_cap']}",
            "note": "the low- and high-skill AEs are tenured (hired before 2021-07) and employed the whole period",
            "realised": rep_win_rates(t, low + high),
        },
        "ramp": {
            "curve": "productivity(m) = 1 - exp(-m / tau_months), m = months since hire_date",
            "tau_months": _f(P.RAMP_TAU_MONTHS),
            "months_to_90pct": P.RAMP_MONTHS_TO_90,
            "applies_to": (
                "the share of routed opportunities (from leads and AE-sourced) an AE receives; win rates do "
                "not ramp; quotas are ramped with the same curve"
            ),
            "definition": (
                "opportunities with source other than 'Existing Customer' created per AE in tenure month k "
                "(30.44-day windows from hire_date) relative to the mean of AEs of the same team hired at least "
                "a year before the window; tau fitted to the window means of the curve"
            ),
            "realised": ramp_curve(t),
        },
        "churn": {
            "planted_monthly": dict(zip(P.SEGMENTS, P.CHURN_MONTHLY, strict=True)),
            "mechanism": "each customer churns (all MRR to zero) in a month with the segment's probability",
            "definition": (
                "sum over months of MRR of accounts whose MRR drops to zero / sum of MRR a month before, by segment"
            ),
            "realised_monthly": churn(t),
            "realised_monthly_logo": churn(t, logo=True),
            "revenue_rule": "each won new_business or expansion deal adds amount / 12 MRR from the month after close",
        },
        "lead_model": {
            "mql": {
                "model": "logit P(MQL) = intercept + source + industry + segment + persona",
                "intercept": _f(lm["mql_intercept"]),
                "target_rate": P.MQL_TARGET_RATE,
                **_coef(P.MQL_COEF),
            },
            "sql_given_mql": {
                "model": (
                    "logit P(SQL | MQL) = intercept + source + industry + segment + persona "
                    "+ speed * log2(1 + hours from created_at to first_touch_at) + process_change * [mql_at >= date]"
                ),
                "intercept": _f(lm["sql_intercept"]),
                "speed_to_lead_per_log2_hour": P.SPEED_COEF_PER_LOG2_HOUR,
                "process_change": _f(lm["process_change_logit_shift"]),
                **_coef(P.SQL_COEF),
            },
            "segment_from": "the lead's employees (same rule as accounts)",
            "p_won": "P(SQL) x win probability of a new deal of the lead's segment and source (owner effects 0)",
            "auc_best_achievable": aucs(t, hidden),
            "realised_by_source": lead_rates_by_source(t),
            "realised_sql_given_mql_by_speed_to_lead": sql_by_speed(t),
            "speed_to_lead_note": (
                "raw rates by speed band are confounded by source (Outbound leads are touched fastest and "
                "convert least); a model with source, industry and size recovers the planted coefficient"
            ),
        },
        "cac": {
            "formula": (
                "CAC(channel) = (marketing_spend(channel) + sales_costs_total x n(channel) / N) / n(channel), "
                "over 2023-01..2025-12; n(channel) = new customers whose first won opportunity is new_business "
                "from a lead of that channel; N = all new customers (including AE-sourced deals)"
            ),
            "planted_cost_per_lead": P.COST_PER_LEAD,
            **cac(t),
        },
        "activities": {
            "planted_per_working_day": P.ACTIVITIES_PER_DAY,
            "realised_per_working_day": activity_rates(t),
            "working_day": "Monday-Friday except US federal holidays, between hire_date and end_date",
        },
        "quotas": {
            "measure": "bookings",
            "rule": (
                "1.15 x mean bookings per tenured AE-quarter of the segment and year, rounded to $5,000, x the "
                "AE's mean ramp over the quarter x share of the quarter employed"
            ),
            "full_quarter_quota": ctx["quota_full"],
        },
        "webinar_campaign": {k: v for k, v in P.WEBINAR.items()},
        "calibration": {
            name: {
                "segment_win_scale": [_f(x) for x in c["segment_win_scale"]],
                "duration_scale_days": [_f(x) for x in c["duration_scale_days"]],
            }
            for name, c in calib.items()
        },
    }
