"""Leads: arrivals by source, their company, the SDR's first touch, and the MQL and SQL decisions.

Conversion follows two logistic models with known coefficients (``params.MQL_COEF`` and ``params.SQL_COEF``):
``P(MQL)`` from source, industry, company size (segment) and persona (no effect), and ``P(SQL | MQL)`` from
the same plus speed-to-lead (hours from creation to the first touch) and the 2025-01-01 process change. The
intercepts and the process-change shift are solved so that the MQL rate is ``MQL_TARGET_RATE`` and the
MQL-to-SQL rate is ``SQL_RATE_BEFORE`` before and ``SQL_RATE_AFTER`` after the change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import params as P
from ._random import choice_codes, lognormal, stratified_uniform, stream
from .people import pick
from .timeline import AS_OF_DAY, N_DAYS, calendar, day_of

INBOUND_SOURCES = ("Inbound Web", "Paid Search", "Referral", "Partner")
DQ_REASONS_UNENGAGED = ("No response", "Not a fit", "Bad contact data", "Student or job seeker", "Competitor")
DQ_UNENGAGED_MIX = (0.45, 0.25, 0.15, 0.1, 0.05)
DQ_REASONS_MQL = (
    "No budget",
    "Not decision maker",
    "Bad timing",
    "Chose competitor",
    "No response",
    "Not a fit",
)
DQ_MQL_MIX = (0.25, 0.2, 0.2, 0.1, 0.15, 0.1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _solve_shift(x: np.ndarray, target: float) -> float:
    """Scalar ``c`` with ``mean(sigmoid(x + c)) == target`` (bisection)."""
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _sigmoid(x + mid).mean() < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _linear(coef: dict, src: np.ndarray, ind: np.ndarray, seg: np.ndarray, persona: np.ndarray) -> np.ndarray:
    return (
        np.array([coef["source"][s] for s in P.SOURCES])[src]
        + np.array([coef["industry"][i] for i in P.INDUSTRIES])[ind]
        + np.array([coef["segment"][s] for s in P.SEGMENTS])[seg]
        + np.array([coef["persona"][p] for p in P.PERSONAS])[persona]
    )


def campaign_id(src: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Campaign id of the channel's quarterly campaign: ``CMP-2024Q3-PPC``."""
    year = 2023 + month // 12
    q = (month % 12) // 3 + 1
    code = np.asarray(P.SOURCE_CODES, dtype=object)[src]
    return np.array([f"CMP-{y}Q{k}-{c}" for y, k, c in zip(year, q, code, strict=True)], dtype=object)


def build_leads(
    seed: int, scale: P.Scale, accounts: pd.DataFrame, staff: pd.DataFrame
) -> tuple[pd.DataFrame, dict]:
    """Generate the leads (internal frame, times as day numbers) and the fitted model constants."""
    cal = calendar()
    rng = stream(seed, "leads.arrivals")

    # arrivals: Poisson per day and source
    days = np.arange(N_DAYS)
    month = cal.month_of(days)
    working = cal.is_working(days)
    base = (1.0 + P.LEAD_GROWTH_PER_YEAR) ** (days / 365.25) * np.asarray(P.LEAD_MONTH_SEASON)[month % 12]
    lam = np.empty((N_DAYS, len(P.SOURCES)))
    for s, name in enumerate(P.SOURCES):
        weekday = np.where(working, 1.0, P.INBOUND_WEEKEND_FACTOR if name in INBOUND_SOURCES else 0.0)
        lam[:, s] = P.SOURCE_MIX[s] * base * weekday
    web = P.SOURCES.index(P.WEBINAR["channel"])
    in_webinar = (days >= day_of(P.WEBINAR["start"])) & (days <= day_of(P.WEBINAR["end"]))
    lam[in_webinar, web] *= P.WEBINAR["lead_volume_factor"]
    lam *= scale.leads / lam.sum()
    counts = rng.poisson(lam)
    day = np.repeat(np.repeat(days, len(P.SOURCES)), counts.ravel())
    src = np.repeat(np.tile(np.arange(len(P.SOURCES)), N_DAYS), counts.ravel())
    n = len(day)
    anytime = np.isin(src, [P.SOURCES.index(s) for s in INBOUND_SOURCES])
    hour = np.where(anytime, rng.uniform(0.0, 23.9, n), rng.uniform(13.0, 23.0, n))
    created = day + hour / 24.0
    order = np.argsort(created, kind="stable")
    created, src, day = created[order], src[order], day[order]

    # the company behind the lead
    w = accounts["_weight"].to_numpy()
    acc = rng.choice(len(accounts), size=n, p=w / w.sum())
    seg = accounts["_seg"].to_numpy()[acc]
    ind = accounts["_ind"].to_numpy()[acc]
    reg = accounts["_reg"].to_numpy()[acc]
    persona = choice_codes(rng, P.PERSONA_MIX, n)
    cmonth = cal.month_of(created)
    campaign = campaign_id(src, cmonth)
    webinar_lead = (src == web) & in_webinar[day] & (rng.random(n) < 1 - 1 / P.WEBINAR["lead_volume_factor"])
    campaign[webinar_lead] = P.WEBINAR["campaign_id"]

    # SDR first touch and owner
    rng = stream(seed, "leads.touch")
    med = np.asarray(P.SPEED_MEDIAN_HOURS)[src]
    touch = cal.snap(created + lognormal(rng, med, P.SPEED_SIGMA, n) / 24.0, rng)
    speed_h = (touch - created) * 24.0
    owner_t = np.where(touch <= AS_OF_DAY, touch, created)
    # SDRs have no segment (code -1); where SDR teams are split by region, leads go to their region's team
    owner = pick(rng, staff, owner_t, "SDR", segment=np.full(n, -1), region=reg)

    # MQL
    rng = stream(seed, "leads.mql")
    x_mql = _linear(P.MQL_COEF, src, ind, seg, persona)
    a_mql = _solve_shift(x_mql, P.MQL_TARGET_RATE)
    p_mql = _sigmoid(x_mql + a_mql)
    half = np.clip(np.floor(created / 182.625), 0, 5).astype(np.int64)
    is_mql = stratified_uniform(rng, src * 10 + half) < p_mql
    outbound = src == P.SOURCES.index("Outbound")
    mql_t = np.where(
        outbound,
        touch + lognormal(rng, 4.0, 0.8, n),
        created + lognormal(rng, 3.0, 1.0, n) / 24.0,
    )
    would_be_mql_t = mql_t  # when each lead would turn MQL: latent, known before the outcome
    mql_t = np.where(is_mql, mql_t, np.nan)

    # SQL given MQL
    rng = stream(seed, "leads.sql")
    after = mql_t >= P.PROCESS_CHANGE_DAY
    x_sql = _linear(P.SQL_COEF, src, ind, seg, persona) + P.SPEED_COEF_PER_LOG2_HOUR * np.log2(1.0 + speed_h)
    seen = is_mql & (mql_t <= AS_OF_DAY)
    g_sql = _solve_shift(x_sql[seen & ~after], P.SQL_RATE_BEFORE)
    d_pc = _solve_shift(x_sql[seen & after] + g_sql, P.SQL_RATE_AFTER)
    p_sqlmql_before = _sigmoid(x_sql + g_sql)
    p_sqlmql = _sigmoid(x_sql + g_sql + d_pc * after)
    # The recorded true probability must not depend on the outcome it predicts: the process-change flag is
    # taken from the would-be MQL time of every lead, not from the realised (masked) MQL time. For MQLs the
    # two agree, so the draws below, and the data, are the same either way.
    p_sqlmql_ex_ante = _sigmoid(x_sql + g_sql + d_pc * (would_be_mql_t >= P.PROCESS_CHANGE_DAY))
    mhalf = np.clip(np.floor(np.nan_to_num(mql_t) / 182.625), 0, 5).astype(np.int64)
    is_sql = is_mql & (stratified_uniform(rng, src * 100 + after * 10 + mhalf) < p_sqlmql)
    ready = np.fmax(mql_t, touch)
    sql_t = np.where(is_sql, cal.snap(ready + lognormal(rng, 5.0, 0.7, n), rng), np.nan)

    # disqualification of the rest
    rng = stream(seed, "leads.dq")
    dq_mql = cal.snap(ready + lognormal(rng, 9.0, 0.6, n), rng)
    dq_raw = cal.snap(touch + lognormal(rng, 12.0, 0.6, n), rng)
    dq_t = np.where(is_sql, np.nan, np.where(is_mql, dq_mql, dq_raw))
    reason_mql = np.asarray(DQ_REASONS_MQL, dtype=object)[choice_codes(rng, DQ_MQL_MIX, n)]
    reason_raw = np.asarray(DQ_REASONS_UNENGAGED, dtype=object)[choice_codes(rng, DQ_UNENGAGED_MIX, n)]
    reason = np.where(is_mql, reason_mql, reason_raw)

    # nothing after the as-of moment
    def seen_by(t: np.ndarray) -> np.ndarray:
        return np.where(t <= AS_OF_DAY, t, np.nan)

    touch_s, mql_s, sql_s, dq_s = seen_by(touch), seen_by(mql_t), seen_by(sql_t), seen_by(dq_t)
    reason = np.where(np.isnan(dq_s), None, reason)

    width = max(7, len(str(n)))
    leads = pd.DataFrame(
        {
            "lead_id": [f"LD{i + 1:0{width}d}" for i in range(n)],
            "_created": created,
            "_src": src,
            "_acc": acc,
            "_seg": seg,
            "_ind": ind,
            "_reg": reg,
            "_persona": persona,
            "_campaign": campaign,
            "_owner": owner,
            "_touch": touch_s,
            "_mql": mql_s,
            "_sql": sql_s,
            "_dq": dq_s,
            "_dq_reason": reason,
            "_speed_h": speed_h,
            "p_mql": p_mql,
            "p_sql_given_mql": p_sqlmql_ex_ante,
            "p_sql_given_mql_without_change": p_sqlmql_before,
            "p_sql": p_mql * p_sqlmql_ex_ante,
        }
    )
    model = {
        "mql_intercept": a_mql,
        "sql_intercept": g_sql,
        "process_change_logit_shift": d_pc,
    }
    return leads, model
