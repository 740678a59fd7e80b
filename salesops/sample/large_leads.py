"""Leads for the big-data generator, chunk by chunk in order of creation.

Funnel: every lead is created; almost all get a first touch from their SDR; about a third become MQLs;
the ones matched to an opportunity become SQLs (first touch, MQL and SQL fall between the lead's creation
and the opportunity's creation day); most of the others are disqualified after their last milestone, the
rest are still being worked at the as-of moment. ``created_at <= first_touch_at <= mql_at <= sql_at``
and every moment lies on or before the as-of moment.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .large_deals import LEAD_SOURCE_MIX, LEAD_SOURCES, Opportunities, opportunity_ids
from .large_people import COUNTRIES, INDUSTRIES, Accounts, Reps, account_ids, rep_ids
from .large_util import (
    AS_OF_SECOND,
    allocate,
    choice,
    floats,
    id_array,
    labels,
    month_index,
    pick_active,
    seasonal_day_weights,
    timestamps,
)

PERSONAS = ("Economic Buyer", "Champion", "Technical Evaluator", "End User")
PERSONA_MIX = (0.20, 0.35, 0.25, 0.20)
LEAD_SEGMENT_MIX = (0.55, 0.30, 0.15)
SOURCE_CODES = ("WEB", "PPC", "REF", "EVT", "OUT", "PRT")
DQ_REASONS = ("No response", "Not a fit", "Bad contact data", "No budget", "Student or job seeker",
              "Not decision maker", "Bad timing", "Competitor")
DQ_MIX = (0.33, 0.19, 0.10, 0.08, 0.06, 0.07, 0.09, 0.08)
CAMPAIGNS = tuple(f"CMP-{2023 + q // 4}Q{q % 4 + 1}-{code}" for q in range(12) for code in SOURCE_CODES)
SDR_GROUP = 8


def lead_ids(index: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return id_array("L", np.asarray(index) + 1, 8, valid)


def lead_day_counts(n: int) -> np.ndarray:
    """Leads created per window day (weekends at 35%, 15% yearly growth), summing to exactly ``n``."""
    return allocate(n, seasonal_day_weights(weekend=0.35, growth_per_year=0.15))


def leads_chunk(
    rng: np.random.Generator,
    a: int,
    b: int,
    day: np.ndarray,
    conv_opp: np.ndarray,
    opps: Opportunities,
    accounts: Accounts,
    reps: Reps,
) -> tuple[dict[str, pa.Array], np.ndarray, np.ndarray]:
    """Leads ``[a, b)`` created on ``day``; ``conv_opp`` is the matched opportunity index or -1.

    Returns the columns, the owner rep index and the account index of each lead.
    """
    m = b - a
    conv = conv_opp >= 0
    j = np.maximum(conv_opp, 0)
    created = day * 86_400 + rng.integers(0, 86_400, m)
    source = np.where(conv, opps.source[j], choice(rng, LEAD_SOURCE_MIX, m))
    region = np.where(conv, opps.region[j], rng.integers(0, 2, m))
    segment = choice(rng, LEAD_SEGMENT_MIX, m)
    account = np.where(conv, opps.account[j], accounts.pick_created_by(rng, segment * 2 + region, day))
    owner = pick_active(rng, reps.pools, SDR_GROUP + region, day, reps.hire_day, reps.end_day, reps.permanent)

    # non-converted funnel: first touch after hours, MQL after days, disqualification later still
    touch = created + np.round(rng.lognormal(np.log(4 * 3600), 1.2, m)).astype("int64")
    touched = (touch <= AS_OF_SECOND) & (rng.random(m) < 0.998)
    mql = touch + np.round(rng.lognormal(np.log(3 * 86_400), 1.0, m)).astype("int64")
    is_mql = touched & (rng.random(m) < 0.32) & (mql <= AS_OF_SECOND)
    last = np.where(is_mql, mql, np.where(touched, touch, created))
    dq = last + np.round(rng.lognormal(np.log(10 * 86_400), 0.8, m)).astype("int64")
    is_dq = touched & (rng.random(m) < 0.92) & (dq <= AS_OF_SECOND)

    # converted: first touch <= MQL <= SQL between creation and the opportunity's creation day
    opp_start = opps.created_day[j] * 86_400
    u = np.sort(rng.random((m, 3)), axis=1)
    span = np.maximum(opp_start - created, 0)
    milestones = created[:, None] + np.floor(u * span[:, None]).astype("int64")
    touch = np.where(conv, milestones[:, 0], touch)
    mql = np.where(conv, milestones[:, 1], mql)
    sql = milestones[:, 2]
    touched |= conv
    is_mql |= conv
    is_dq &= ~conv

    quarter = month_index(day) // 3
    emp = accounts.employees[account]
    columns = {
        "lead_id": lead_ids(np.arange(a, b)),
        "created_at": timestamps(created),
        "source": labels(LEAD_SOURCES, source),
        "campaign_id": labels(CAMPAIGNS, quarter * len(SOURCE_CODES) + source),
        "account_id": account_ids(account),
        "industry": labels(INDUSTRIES, accounts.industry[account]),
        "employees": floats(emp),
        "country": labels(COUNTRIES, accounts.country[account]),
        "persona": labels(PERSONAS, choice(rng, PERSONA_MIX, m)),
        "owner_rep_id": rep_ids(owner),
        "first_touch_at": timestamps(touch, touched),
        "mql_at": timestamps(mql, is_mql),
        "sql_at": timestamps(sql, conv),
        "disqualified_at": timestamps(dq, is_dq),
        "disqualification_reason": labels(DQ_REASONS, choice(rng, DQ_MIX, m), is_dq),
        "opportunity_id": opportunity_ids(j, conv),
    }
    return columns, owner, account
