"""Costs: marketing spend by month, channel and campaign; sales costs by month and category."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import params as P
from ._random import stream
from .leads import campaign_id
from .timeline import N_MONTHS, calendar, to_dates

CHANNEL_FIXED_MONTHLY = dict(zip(P.SOURCES, (1500.0, 800.0, 300.0, 1000.0, 1200.0, 600.0), strict=True))


def build_marketing_spend(seed: int, leads: pd.DataFrame) -> pd.DataFrame:
    """Spend per month and channel: a fixed monthly fee plus a cost per lead, on the channel's quarterly
    campaign (and the webinar campaign in March 2025)."""
    rng = stream(seed, "spend.marketing")
    cal = calendar()
    month = cal.month_of(leads["_created"].to_numpy())
    counts = (
        pd.DataFrame({"m": month, "s": leads["_src"].to_numpy(), "c": leads["_campaign"].to_numpy()})
        .groupby(["m", "s", "c"])
        .size()
        .rename("n")
        .reset_index()
    )
    mm, ss = np.meshgrid(np.arange(N_MONTHS), np.arange(len(P.SOURCES)), indexing="ij")
    grid = pd.DataFrame({"m": mm.ravel(), "s": ss.ravel()})
    grid["c"] = campaign_id(grid["s"].to_numpy(), grid["m"].to_numpy())
    rows = grid.merge(counts, on=["m", "s", "c"], how="outer").fillna({"n": 0})
    rows = rows.sort_values(["m", "s", "c"], kind="stable").reset_index(drop=True)
    cpl = np.array([P.COST_PER_LEAD[s] for s in P.SOURCES])[rows["s"].to_numpy()]
    webinar = rows["c"].eq(P.WEBINAR["campaign_id"]).to_numpy()
    fixed = np.where(
        webinar, 5000.0, np.array([CHANNEL_FIXED_MONTHLY[s] for s in P.SOURCES])[rows["s"].to_numpy()]
    )
    amount = fixed + cpl * rows["n"].to_numpy() * rng.uniform(0.9, 1.1, len(rows))
    return pd.DataFrame(
        {
            "month": to_dates(cal.month_start(rows["m"].to_numpy()).astype(float)).to_numpy(),
            "channel": np.asarray(P.SOURCES, dtype=object)[rows["s"].to_numpy()],
            "campaign_id": rows["c"].to_numpy(dtype=object),
            "amount": np.round(amount, 2),
        }
    )


def employed_fraction(staff: pd.DataFrame) -> np.ndarray:
    """Share of each month (columns 0..35) each person (rows) was employed."""
    cal = calendar()
    ms = cal.month_start(np.arange(N_MONTHS + 1)).astype(float)
    start, end = ms[:-1], ms[1:]
    hire = staff["_hire"].to_numpy(float)[:, None]
    last = staff["_end"].to_numpy(float)[:, None] + 1.0
    overlap = np.clip(np.minimum(end[None, :], last) - np.maximum(start[None, :], hire), 0, None)
    return overlap / (end - start)[None, :]


def build_sales_costs(staff: pd.DataFrame, opps_won: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
    """Salaries (pro-rated base pay), commissions (on bookings and SQLs) and tools, per month.

    ``opps_won`` has one row per won deal with ``month`` (close month index) and ``amount``.
    """
    cal = calendar()
    frac = employed_fraction(staff)
    salaries = (frac * staff["base_salary"].to_numpy()[:, None] / 12.0).sum(axis=0)
    bookings = np.bincount(
        opps_won["month"].to_numpy(), weights=opps_won["amount"].to_numpy(), minlength=N_MONTHS
    )[:N_MONTHS]
    sql_t = leads["_sql"].dropna().to_numpy()
    sqls = np.bincount(cal.month_of(sql_t), minlength=N_MONTHS)[:N_MONTHS]
    commissions = P.COMMISSION_RATE * bookings + P.SDR_BONUS_PER_SQL * sqls
    headcount = frac.sum(axis=0)
    tools = P.TOOLS_PER_REP_MONTH * headcount + P.TOOLS_PLATFORM_MONTH
    month = to_dates(cal.month_start(np.arange(N_MONTHS)).astype(float)).to_numpy()
    parts = [
        pd.DataFrame({"month": month, "category": cat, "amount": np.round(v, 2)})
        for cat, v in (("commissions", commissions), ("salaries", salaries), ("tools", tools))
    ]
    return (
        pd.concat(parts, ignore_index=True)
        .sort_values(["month", "category"], kind="stable")
        .reset_index(drop=True)
    )
