"""``generate``: build the whole synthetic CRM for a seed and size."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import params as P
from ._random import stream
from .accounts import build_accounts
from .activities import build_activities
from .catalog import build_events, build_stages, build_trainings
from .conform import conform
from .deals import (
    EXP,
    calibrate_q4,
    customer_seeds,
    expected_win,
    history_events,
    new_business_seeds,
    opportunity_tables,
    simulate,
)
from .leads import build_leads
from .people import build_staff, pick
from .quotas import build_quotas
from .revenue import assign_spells, churn_strata, draw_lifetimes, mrr_matrix, preexisting_lines, revenue_table
from .spend import build_marketing_spend, build_sales_costs
from .timeline import AS_OF_DAY, calendar, to_dates, to_timestamps
from .truth import assemble_truth

TABLE_ORDER = (
    "stages",
    "reps",
    "accounts",
    "quotas",
    "opportunities",
    "opportunity_history",
    "leads",
    "activities",
    "revenue",
    "marketing_spend",
    "sales_costs",
    "trainings",
    "events",
)


@dataclass
class SampleCRM:
    """A generated CRM.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        The canonical tables (see :mod:`salesops.schema.tables`), keyed by table name.
    truth : dict
        JSON-serialisable planted parameters and the figures realised in ``tables`` (``truth.json``).
    hidden : dict of str to pandas.DataFrame
        Per-record truths for tests only: ``leads`` (true conversion probabilities), ``reps`` (skill,
        training group), ``opportunities`` (true win probability and stage conversions), ``spells``
        (customer spells and churn months).
    """

    tables: dict[str, pd.DataFrame]
    truth: dict
    hidden: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __repr__(self) -> str:
        rows = ", ".join(f"{k}={len(v)}" for k, v in self.tables.items())
        return f"SampleCRM(seed={self.truth.get('seed')}, size={self.truth.get('size')}, {rows})"


def _lines(deals: pd.DataFrame) -> pd.DataFrame:
    cal = calendar()
    won = deals[deals["_won"] & (deals["_tclose"] <= AS_OF_DAY)]
    return pd.DataFrame(
        {
            "_acc": won["_acc"].to_numpy(),
            "start_month": cal.month_of(won["_tclose"].to_numpy()) + 1,
            "close_day": won["_tclose"].to_numpy(),
            "acv": won["_amount_final"].to_numpy(),
            "owner": won["_owner"].to_numpy(),
            "_deal": won.index.to_numpy(),
        }
    )


def _active_customer(acc: np.ndarray, t: np.ndarray, spells: pd.DataFrame) -> np.ndarray:
    """True where account ``acc`` is a customer at moment ``t`` (between its first win and its churn)."""
    cal = calendar()
    s_acc = spells["_acc"].to_numpy()
    s_first = spells["first_close_day"].to_numpy(float)
    s_churn = cal.month_start(np.minimum(spells["churn_month"].to_numpy(), 60)).astype(float)
    order = np.lexsort((s_first, s_acc))
    key = s_acc[order] * 1e5 + s_first[order] + 5000.0
    pos = np.searchsorted(key, acc * 1e5 + t + 5000.0, side="right") - 1
    ok = pos >= 0
    pos = np.maximum(pos, 0)
    return ok & (s_acc[order][pos] == acc) & (t < s_churn[order][pos])


def generate(seed: int = 2025, size: str | float = "sample") -> SampleCRM:
    """Generate the synthetic CRM.

    Parameters
    ----------
    seed : int, default 2025
        Seed of every random draw; the same seed and size always give the same CRM.
    size : str or float, default "sample"
        ``"sample"`` (the committed ``data/sample``: about 60 reps, 4,000 accounts, 30,000 leads, 8,000
        opportunities and a million activities) or a positive float scaling the row counts (0.1 for a small
        fast version). Team sizes never fall below three AEs per segment and two SDRs.

    Returns
    -------
    SampleCRM
        The canonical tables, ``truth`` (planted and realised figures) and ``hidden`` per-record truths.
    """
    scale = P.Scale.of(size)
    seed = int(seed)
    cal = calendar()
    staff = build_staff(seed, scale)
    accounts = build_accounts(seed, scale)
    leads, lead_model = build_leads(seed, scale, accounts, staff)

    # phase 1: new business (from SQL leads, AE-sourced, and the pipeline open on 2023-01-01)
    seeds1 = new_business_seeds(seed, leads, accounts, staff)
    d1, calib1 = simulate(seed, "new_business", seeds1, staff)
    d1 = d1[d1["_tclose"] >= 0].reset_index(drop=True)
    pre = preexisting_lines(seed, scale, accounts, staff)
    lines1 = pd.concat([pre, _lines(d1)], ignore_index=True)
    strata = churn_strata(lines1, accounts["_seg"].to_numpy())
    lifetimes = draw_lifetimes(seed, accounts["_seg"].to_numpy(), strata)
    _, spells1 = assign_spells(lines1, lifetimes)
    relabel = _active_customer(d1["_acc"].to_numpy(), d1["_t0"].to_numpy(), spells1)
    d1.loc[relabel, "_type"] = EXP

    # phase 2: expansions and renewals of customers
    seeds2 = customer_seeds(seed, spells1, accounts, staff)
    d2, calib2 = simulate(seed, "customers", seeds2, staff)
    d2 = d2[d2["_tclose"] >= 0]

    deals = pd.concat([d1, d2], ignore_index=True)
    deals = deals.sort_values("_t0", kind="stable").reset_index(drop=True)
    q4_multiplier = calibrate_q4(deals)
    width = max(6, len(str(len(deals))))
    deals["opportunity_id"] = [f"OP{i + 1:0{width}d}" for i in range(len(deals))]

    # revenue from all won new-business and expansion lines
    lines = pd.concat([pre, _lines(deals[deals["_type"] != 2])], ignore_index=True)
    spell_of, spells = assign_spells(lines, lifetimes)
    matrix = mrr_matrix(lines, spell_of, spells, len(accounts))
    revenue = revenue_table(matrix, accounts["account_id"].to_numpy(dtype=object))

    ev = history_events(deals)
    opps, hist = opportunity_tables(deals, ev, accounts, staff, leads)
    activities, first_activity = build_activities(seed, staff, leads, deals, accounts)

    # leads table
    opp_of_lead = np.full(len(leads), None, dtype=object)
    with_lead = deals["_lead"].to_numpy() >= 0
    opp_of_lead[deals["_lead"].to_numpy()[with_lead]] = deals["opportunity_id"].to_numpy()[with_lead]
    acc_ids = accounts["account_id"].to_numpy(dtype=object)
    leads_t = pd.DataFrame(
        {
            "lead_id": leads["lead_id"],
            "created_at": to_timestamps(leads["_created"].to_numpy()),
            "source": np.asarray(P.SOURCES, dtype=object)[leads["_src"].to_numpy()],
            "campaign_id": leads["_campaign"],
            "account_id": acc_ids[leads["_acc"].to_numpy()],
            "industry": accounts["industry"].to_numpy()[leads["_acc"].to_numpy()],
            "employees": accounts["employees"].to_numpy()[leads["_acc"].to_numpy()],
            "country": accounts["country"].to_numpy()[leads["_acc"].to_numpy()],
            "persona": np.asarray(P.PERSONAS, dtype=object)[leads["_persona"].to_numpy()],
            "owner_rep_id": staff["rep_id"].to_numpy(dtype=object)[leads["_owner"].to_numpy()],
            "first_touch_at": to_timestamps(leads["_touch"].to_numpy()),
            "mql_at": to_timestamps(leads["_mql"].to_numpy()),
            "sql_at": to_timestamps(leads["_sql"].to_numpy()),
            "disqualified_at": to_timestamps(leads["_dq"].to_numpy()),
            "disqualification_reason": leads["_dq_reason"],
            "opportunity_id": opp_of_lead,
        }
    )

    # accounts: created when first seen, owned by the AE of their latest deal (or a current AE of the team)
    n_acc = len(accounts)
    first_seen = np.full(n_acc, np.inf)
    np.minimum.at(first_seen, leads["_acc"].to_numpy(), leads["_created"].to_numpy())
    np.minimum.at(first_seen, deals["_acc"].to_numpy(), deals["_t0"].to_numpy())
    first_seen = np.fmin(first_seen, np.nan_to_num(first_activity, nan=np.inf))
    base = accounts["_base_created"].to_numpy(float)
    rng = stream(seed, "accounts.final")
    never = rng.uniform(0, AS_OF_DAY - 1, n_acc)
    created = np.fmin(np.nan_to_num(base, nan=np.inf), first_seen)
    created = np.where(np.isinf(created), never, created)
    latest = deals.groupby("_acc")["_owner"].last()
    owner = np.full(n_acc, -1)
    owner[latest.index.to_numpy()] = latest.to_numpy()
    still = (owner >= 0) & (staff["_end"].to_numpy(float)[np.maximum(owner, 0)] >= AS_OF_DAY - 1)
    fresh = pick(
        rng,
        staff,
        np.full(n_acc, AS_OF_DAY - 0.5),
        "AE",
        segment=accounts["_seg"].to_numpy(),
        region=accounts["_reg"].to_numpy(),
    )
    owner = np.where(still, owner, fresh)
    accounts_t = accounts.assign(
        owner_rep_id=staff["rep_id"].to_numpy(dtype=object)[owner],
        created_date=to_dates(np.floor(created)).to_numpy(),
    )

    # quotas and costs
    won = deals[deals["_won"] & (deals["_tclose"] <= AS_OF_DAY)]
    won_months = cal.month_of(won["_tclose"].to_numpy())
    won_frame = pd.DataFrame(
        {
            "_owner": won["_owner"].to_numpy(),
            "month": won_months,
            "quarter": won_months // 3,
            "amount": won["_amount_final"].to_numpy(),
        }
    )
    quotas, quota_full = build_quotas(staff, won_frame)
    marketing = build_marketing_spend(seed, leads)
    sales_costs = build_sales_costs(staff, won_frame, leads)

    raw = {
        "stages": build_stages(),
        "reps": staff,
        "accounts": accounts_t,
        "quotas": quotas,
        "opportunities": opps,
        "opportunity_history": hist,
        "leads": leads_t,
        "activities": activities,
        "revenue": revenue,
        "marketing_spend": marketing,
        "sales_costs": sales_costs,
        "trainings": build_trainings(staff),
        "events": build_events(int(staff["_trained"].sum()), int(staff["_eligible"].sum())),
    }
    tables = {name: conform(name, raw[name]) for name in TABLE_ORDER}

    lead_src = leads["_src"].to_numpy()
    p_win_lead = expected_win(calib1, leads["_seg"].to_numpy(), lead_src, leads["_created"].to_numpy() + 10.0)
    hidden = {
        "leads": pd.DataFrame(
            {
                "lead_id": leads["lead_id"].to_numpy(dtype=object),
                "p_mql": leads["p_mql"].to_numpy(),
                "p_sql_given_mql": leads["p_sql_given_mql"].to_numpy(),
                "p_sql_given_mql_without_change": leads["p_sql_given_mql_without_change"].to_numpy(),
                "p_sql": leads["p_sql"].to_numpy(),
                "p_won": leads["p_sql"].to_numpy() * p_win_lead,
                "speed_to_lead_hours": leads["_speed_h"].to_numpy(),
            }
        ),
        "reps": pd.DataFrame(
            {
                "rep_id": staff["rep_id"].to_numpy(dtype=object),
                "role": staff["role"].to_numpy(dtype=object),
                "skill": staff["_skill"].to_numpy(),
                "skill_group": staff["_skill_group"]
                .where(staff["role"].eq("AE"), None)
                .to_numpy(dtype=object),
                "training_eligible": staff["_eligible"].to_numpy(bool),
                "trained": staff["_trained"].to_numpy(bool),
            }
        ),
        "opportunities": pd.DataFrame(
            {
                "opportunity_id": deals["opportunity_id"].to_numpy(dtype=object),
                "p_win": deals["_p"].to_numpy(),
                "bottleneck_exposed": deals["_exposed"].to_numpy(bool),
                **{f"conv_{s.lower()}": deals[f"_c{k}"].to_numpy() for k, s in enumerate(P.OPEN_STAGES)},
            }
        ),
        "spells": pd.DataFrame(
            {
                "account_id": acc_ids[spells["_acc"].to_numpy()],
                "spell": spells["k"].to_numpy(),
                "start_month": spells["start_month"].to_numpy(),
                "churn_month": spells["churn_month"].to_numpy(),
            }
        ),
    }
    ctx = {
        "seed": seed,
        "scale": scale,
        "lead_model": lead_model,
        "calibration": {"new_business": calib1, "customers": calib2},
        "quota_full": quota_full,
        "q4_multiplier": q4_multiplier,
    }
    truth = assemble_truth(tables, hidden, ctx)
    return SampleCRM(tables=tables, truth=truth, hidden=hidden)
