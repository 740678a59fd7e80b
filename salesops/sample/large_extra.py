"""The small tables of the big-data generator: quotas, trainings, events, marketing spend and sales costs.

They are what the quarterly review reads besides the big tables, so a scaled data set reviews with every page
(``data/sample`` has them; :func:`salesops.sample.large.write_large` writes them from the arrays it keeps in
memory). Like the rest of the big-data generator they plant no effect: the training programme and the
campaign are there so the pages that evaluate them have something to evaluate, not to be found effective.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from . import params as P
from .large_deals import LEAD_SOURCES, Opportunities
from .large_leads import CAMPAIGNS, SOURCE_CODES
from .large_people import AE, AM, MANAGER, NO_END, Reps, rep_ids
from .large_util import (
    AS_OF_DAY,
    N_MONTHS,
    WINDOW_START,
    dates,
    floats,
    id_array,
    labels,
    month_index,
    month_start_day,
)

__all__ = [
    "BOOTCAMP",
    "MonthlyLeads",
    "events_table",
    "marketing_spend_table",
    "quotas_table",
    "sales_costs_table",
    "trainings_table",
]

N_QUARTERS = N_MONTHS // 3


def _day(iso: str) -> int:
    return (dt.date.fromisoformat(iso) - WINDOW_START).days


#: the training programme of the events table: every AE employed 180 days before and after it is eligible,
#: half of them (at random) attend
BOOTCAMP = {"program": "Value Selling Bootcamp", "day": _day("2024-07-15"), "days": 5}
ONBOARDING = "New Hire Onboarding"
CHANNEL_FIXED_MONTHLY = (1500.0, 800.0, 300.0, 1000.0, 1200.0, 600.0)  # per source, in LEAD_SOURCES order


class MonthlyLeads:
    """Leads per month and source, and SQLs per month, counted chunk by chunk while the leads are written."""

    def __init__(self) -> None:
        self.by_source = np.zeros((N_MONTHS, len(LEAD_SOURCES)), dtype="int64")
        self.sqls = np.zeros(N_MONTHS, dtype="int64")

    def add(self, days: np.ndarray, columns: dict[str, pa.Array]) -> None:
        """Count one chunk: ``days`` are the leads' creation days, ``columns`` the chunk's Arrow columns."""
        import pyarrow.compute as pc

        source = pc.index_in(columns["source"], value_set=pa.array(LEAD_SOURCES)).to_numpy(zero_copy_only=False)
        np.add.at(self.by_source, (month_index(days), source.astype("int64")), 1)
        sql = columns["sql_at"].drop_null().to_numpy(zero_copy_only=False).astype("datetime64[D]")
        sql_day = (sql - np.datetime64(WINDOW_START, "D")).astype("int64")
        self.sqls += np.bincount(month_index(sql_day), minlength=N_MONTHS)[:N_MONTHS]


def _quarter_days() -> tuple[np.ndarray, np.ndarray]:
    """First day of each quarter and the day after its last (window days)."""
    qs = month_start_day(np.arange(0, N_MONTHS + 1, 3))
    return qs[:-1], qs[1:]


def _employed_days(reps: Reps, idx: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Days each rep ``idx`` was employed in each period ``[start, end)`` (rows: reps, columns: periods)."""
    hire = reps.hire_day[idx][:, None]
    last = np.minimum(reps.end_day[idx], AS_OF_DAY)[:, None] + 1  # end_date is the last day employed
    return np.clip(np.minimum(end[None, :], last) - np.maximum(start[None, :], hire), 0, None)


def quotas_table(reps: Reps, opps: Opportunities) -> dict[str, pa.Array]:
    """Quarterly ``bookings`` quota of every AE and AM employed in a quarter of the window.

    AEs of a segment and the AMs (who own most expansions and renewals) each form a quota group. The full
    quota of a group for a year is ``QUOTA_HEADROOM`` (1.15) times the average won bookings per quarter of its
    tenured members (employed the whole quarter, hired at least 365 days before it), rounded to $5,000 (at
    least $5,000). A rep's quota is ``full * ramp * employed_days / quarter_days`` rounded to $100, with
    ``ramp = clip(tenure at mid-quarter / 180 days, 0.25, 1)``. Together the quotas cover the bookings of the
    deals the forecast counts (managers own none).
    """
    ae = np.flatnonzero((reps.role == AE) | (reps.role == AM))
    start, end = _quarter_days()
    days = end - start
    emp = _employed_days(reps, ae, start, end)
    pos = np.full(len(reps), -1, dtype="int64")
    pos[ae] = np.arange(ae.size)
    won = np.flatnonzero(opps.won)
    who = pos[opps.owner[won]]
    keep = who >= 0
    booked = np.zeros((ae.size, N_QUARTERS))
    np.add.at(booked, (who[keep], month_index(opps.close_day[won][keep]) // 3), opps.amount[won][keep])
    hire = reps.hire_day[ae]
    tenured = (emp >= days[None, :]) & (hire[:, None] <= start[None, :] - 365)
    seg = np.where(reps.role[ae] == AE, reps.segment[ae], 3)  # quota group: AE segment 0-2, AMs 3
    full = np.zeros((4, N_QUARTERS // 4))
    for s in range(4):
        for y in range(N_QUARTERS // 4):
            cols = slice(4 * y, 4 * y + 4)
            values = booked[:, cols][tenured[:, cols] & (seg == s)[:, None]]
            avg = values.mean() if values.size else 2 * float(np.median(opps.amount))
            full[s, y] = max(5000.0, round(P.QUOTA_HEADROOM * avg / 5000.0) * 5000.0)
    mid = (start + end) / 2.0
    ramp = np.clip((mid[None, :] - hire[:, None]) / 180.0, 0.25, 1.0)
    amount = np.round(full[seg][:, np.arange(N_QUARTERS) // 4] * ramp * emp / days[None, :], -2)
    r, q = np.nonzero(emp > 0)  # row-major: by rep, then quarter
    return {
        "rep_id": rep_ids(ae[r]),
        "period_start": dates(start[q]),
        "period_end": dates(end[q] - 1),
        "amount": floats(amount[r, q]),
        "measure": labels(("bookings",), np.zeros(r.size, dtype="int64")),
    }


def trainings_table(rng: np.random.Generator, reps: Reps) -> tuple[dict[str, pa.Array], int, int]:
    """Onboarding of the sellers hired in the window, and the bootcamp (:data:`BOOTCAMP`).

    Onboarding starts 0-9 days after the hire and lasts 25 days (cut at the as-of day). Returns the columns
    (sorted by start date and rep), the AEs trained and the AEs eligible for the bootcamp.
    """
    seller = reps.role != MANAGER
    new = np.flatnonzero(seller & (reps.hire_day >= 0) & (reps.hire_day <= AS_OF_DAY))
    on_start = reps.hire_day[new] + rng.integers(0, 10, new.size)
    on_end = np.minimum(on_start + 24, np.minimum(reps.end_day[new], AS_OF_DAY))
    keep = on_start <= on_end
    new, on_start, on_end = new[keep], on_start[keep], on_end[keep]

    day = BOOTCAMP["day"]
    eligible = np.flatnonzero((reps.role == AE) & (reps.hire_day <= day - 180)
                              & ((reps.end_day == NO_END) | (reps.end_day >= day + 180)))
    trained = np.sort(rng.permutation(eligible)[: eligible.size // 2])
    boot_start = np.full(trained.size, day)
    boot_end = boot_start + BOOTCAMP["days"] - 1

    who = np.concatenate([new, trained])
    start = np.concatenate([on_start, boot_start])
    end = np.concatenate([on_end, boot_end])
    program = np.concatenate([np.zeros(new.size, dtype="int64"), np.ones(trained.size, dtype="int64")])
    order = np.lexsort((program, who, start))
    columns = {
        "rep_id": rep_ids(who[order]),
        "program": labels((ONBOARDING, BOOTCAMP["program"]), program[order]),
        "start_date": dates(start[order]),
        "end_date": dates(end[order]),
    }
    return columns, int(trained.size), int(eligible.size)


def events_table(trained: int, eligible: int) -> dict[str, pa.Array]:
    """Five events: two launches, the bootcamp, a process change and a campaign (one per kind the review
    evaluates); the campaign is the Paid Search campaign of 2025Q1, whose leads carry its ``campaign_id``."""
    campaign = CAMPAIGNS[8 * len(SOURCE_CODES) + LEAD_SOURCES.index("Paid Search")]
    rows = [
        ("SOC 2 Type II certification announced", "2023-09-12", "product_launch", "all segments"),
        ("Analytics Add-on launch", "2024-04-15", "product_launch", "product: Analytics Add-on"),
        (BOOTCAMP["program"], (WINDOW_START + dt.timedelta(days=BOOTCAMP["day"])).isoformat(), "training",
         f"AE: {trained} of {eligible} eligible AEs trained (see trainings); the rest are the control group"),
        ("Lead qualification process v2", "2025-01-01", "process_change",
         "leads: MQL to SQL qualification by the SDR teams"),
        ("Paid Search push", "2025-01-01", "campaign", f"channel: Paid Search; campaign_id {campaign}"),
    ]
    n = len(rows)
    return {
        "event_id": id_array("EV", np.arange(1, n + 1), 3),
        "name": pa.array([r[0] for r in rows], pa.string()),
        "date": dates(np.array([_day(r[1]) for r in rows])),
        "kind": pa.array([r[2] for r in rows], pa.string()),
        "scope": pa.array([r[3] for r in rows], pa.string()),
    }


def marketing_spend_table(rng: np.random.Generator, leads: MonthlyLeads) -> dict[str, pa.Array]:
    """Spend per month and channel (= lead source) on the channel's quarterly campaign.

    ``amount = fixed_channel + cost_per_lead_channel * leads * u``, ``u ~ U(0.9, 1.1)``, rounded to cents;
    cost per lead as in the sample (``params.COST_PER_LEAD``).
    """
    m, s = np.meshgrid(np.arange(N_MONTHS), np.arange(len(LEAD_SOURCES)), indexing="ij")
    m, s = m.ravel(), s.ravel()
    cpl = np.array([P.COST_PER_LEAD[x] for x in LEAD_SOURCES])
    amount = np.array(CHANNEL_FIXED_MONTHLY)[s] + cpl[s] * leads.by_source[m, s] * rng.uniform(0.9, 1.1, m.size)
    order = np.lexsort((s, m))  # by month, then channel name (LEAD_SOURCES order)
    m, s, amount = m[order], s[order], amount[order]
    return {
        "month": dates(month_start_day(m)),
        "channel": labels(LEAD_SOURCES, s),
        "campaign_id": labels(CAMPAIGNS, (m // 3) * len(SOURCE_CODES) + s),
        "amount": floats(np.round(amount, 2)),
    }


def sales_costs_table(reps: Reps, opps: Opportunities, leads: MonthlyLeads) -> dict[str, pa.Array]:
    """Commissions, salaries and tools per month.

    ``salaries = sum_r base_r / 12 * employed share of the month``; ``commissions = COMMISSION_RATE *
    won bookings (by close month) + SDR_BONUS_PER_SQL * SQLs``; ``tools = TOOLS_PER_REP_MONTH * headcount +
    TOOLS_PLATFORM_MONTH`` with headcount the summed employed shares (rates from ``params``, as the sample).
    """
    ms = month_start_day(np.arange(N_MONTHS + 1))
    share = _employed_days(reps, np.arange(len(reps)), ms[:-1], ms[1:]) / np.diff(ms)[None, :]
    salaries = (share * reps.base_salary[:, None] / 12.0).sum(axis=0)
    won = np.flatnonzero(opps.won)
    bookings = np.bincount(month_index(opps.close_day[won]), weights=opps.amount[won], minlength=N_MONTHS)[:N_MONTHS]
    commissions = P.COMMISSION_RATE * bookings + P.SDR_BONUS_PER_SQL * leads.sqls
    tools = P.TOOLS_PER_REP_MONTH * share.sum(axis=0) + P.TOOLS_PLATFORM_MONTH
    values = np.stack([commissions, salaries, tools], axis=1).ravel()  # by month, then category
    month = np.repeat(np.arange(N_MONTHS), 3)
    return {
        "month": dates(month_start_day(month)),
        "category": labels(("commissions", "salaries", "tools"), np.tile(np.arange(3), N_MONTHS)),
        "amount": floats(np.round(values, 2)),
    }
