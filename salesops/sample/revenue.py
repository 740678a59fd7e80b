"""Subscription revenue: MRR lines from won deals, customer spells ended by churn, and the ``revenue`` table.

Every won new-business or expansion deal adds a line of ``amount / 12`` MRR from the month after it closes.
A customer's lines form a *spell* that ends when the customer churns: from the spell's first month (or from
January 2023 for customers that predate the sample) the customer survives each month with probability
``1 - CHURN_MONTHLY[segment]``, so its lifetime is geometric. A line that starts after its account churned
opens a new spell (a win-back).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import params as P
from ._random import lognormal, stratified_uniform, stream
from .people import pick
from .timeline import N_MONTHS, calendar, to_dates

MAX_SPELLS = 6


def churn_strata(lines: pd.DataFrame, account_seg: np.ndarray, block: int = 8) -> np.ndarray:
    """Stratum of each customer's first spell (-1 for accounts without lines).

    Customers of a segment are ranked by their MRR exposure in the period (first ACV x months from the start
    of revenue to December 2025) and cut into blocks of ``block``; balancing lifetimes inside blocks of
    similar exposure keeps the realised revenue churn close to the planted rate.
    """
    first = lines.sort_values(["_acc", "start_month", "close_day"], kind="stable").groupby("_acc").head(1)
    acc = first["_acc"].to_numpy()
    seg = account_seg[acc]
    months = N_MONTHS - np.clip(first["start_month"].to_numpy(), 0, N_MONTHS - 1)
    exposure = first["acv"].to_numpy() * months
    out = np.full(len(account_seg), -1, dtype=np.int64)
    for s in range(3):
        m = np.flatnonzero(seg == s)
        rank = np.empty(len(m), dtype=np.int64)
        rank[np.argsort(exposure[m], kind="stable")] = np.arange(len(m))
        out[acc[m]] = s * 1_000_000 + rank // block
    return out


def draw_lifetimes(seed: int, account_seg: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Lifetime in months of each account's ``k``-th spell, shape ``(n_accounts, MAX_SPELLS)``.

    The first spell's uniforms are stratified over the customer accounts (``strata >= 0``, see
    :func:`churn_strata`), so the realised churn rate sits close to the planted one.
    """
    rng = stream(seed, "revenue.churn")
    n = len(account_seg)
    u = rng.random((n, MAX_SPELLS))
    cust = np.flatnonzero(strata >= 0)
    u[cust, 0] = stratified_uniform(rng, strata[cust])
    u = np.clip(u, 1e-12, 1.0 - 1e-12)
    c = np.asarray(P.CHURN_MONTHLY)[account_seg][:, None]
    return (np.floor(np.log(u) / np.log1p(-c)) + 1).astype(np.int64)


def assign_spells(lines: pd.DataFrame, lifetimes: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Group MRR lines into customer spells.

    Parameters
    ----------
    lines : pandas.DataFrame
        One row per line with ``_acc``, ``start_month`` (first month with revenue), ``close_day``,
        ``acv`` and ``owner``.
    lifetimes : numpy.ndarray
        Output of :func:`draw_lifetimes`.

    Returns
    -------
    (numpy.ndarray, pandas.DataFrame)
        The spell number of each line (``lines.start_month`` is moved to the month after a churn for lines
        that would otherwise restart revenue in the churn month), and one row per spell: ``_acc``, ``k``, ``start_month``,
        ``churn_month`` (first month without revenue), ``first_close_day``, ``acv`` and ``owner`` of its
        first line.
    """
    acc = lines["_acc"].to_numpy()
    start = lines["start_month"].to_numpy().copy()
    order = np.lexsort((lines["close_day"].to_numpy(), start, acc))
    spell_of = np.full(len(lines), -1, dtype=np.int64)
    churn_acc = np.zeros(lifetimes.shape[0], dtype=np.int64)
    rows = []
    remaining = np.ones(len(lines), dtype=bool)
    for k in range(MAX_SPELLS):
        idx = order[remaining[order]]
        if len(idx) == 0:
            break
        a = acc[idx]
        first = idx[np.r_[True, a[1:] != a[:-1]]]
        s_acc = acc[first]
        s_start = start[first]
        churn = np.maximum(s_start, 0) + lifetimes[s_acc, k]
        if k == MAX_SPELLS - 1:
            churn = np.full_like(churn, 10**6)
        churn_acc[:] = np.iinfo(np.int64).min
        churn_acc[s_acc] = churn
        take = remaining & (start < churn_acc[acc])
        spell_of[take] = k
        remaining &= ~take
        # a win-back starts at the earliest the month after the churn, so every churn shows as a month at zero
        bump = remaining & (start <= churn_acc[acc])
        start[bump] = churn_acc[acc][bump] + 1
        rows.append(
            pd.DataFrame(
                {
                    "_acc": s_acc,
                    "k": k,
                    "start_month": s_start,
                    "churn_month": churn,
                    "first_close_day": lines["close_day"].to_numpy()[first],
                    "acv": lines["acv"].to_numpy()[first],
                    "owner": lines["owner"].to_numpy()[first],
                }
            )
        )
    lines["start_month"] = start
    spells = pd.concat(rows, ignore_index=True).sort_values(["_acc", "k"], kind="stable")
    return spell_of, spells.reset_index(drop=True)


def mrr_matrix(
    lines: pd.DataFrame, spell_of: np.ndarray, spells: pd.DataFrame, n_accounts: int
) -> np.ndarray:
    """MRR per account (rows) and month 0..35 (columns)."""
    churn = spells.set_index(["_acc", "k"])["churn_month"]
    key = pd.MultiIndex.from_arrays([lines["_acc"].to_numpy(), spell_of])
    end = churn.reindex(key).to_numpy()
    start = np.maximum(lines["start_month"].to_numpy(), 0)
    end = np.minimum(end, N_MONTHS)
    mrr = lines["acv"].to_numpy() / 12.0
    ok = start < end
    diff = np.zeros((n_accounts, N_MONTHS + 1))
    np.add.at(diff, (lines["_acc"].to_numpy()[ok], start[ok]), mrr[ok])
    np.add.at(diff, (lines["_acc"].to_numpy()[ok], end[ok]), -mrr[ok])
    return np.cumsum(diff, axis=1)[:, :N_MONTHS]


def revenue_table(matrix: np.ndarray, account_ids: np.ndarray) -> pd.DataFrame:
    """The canonical ``revenue`` rows (account_id, month, mrr) where MRR is positive."""
    a, m = np.nonzero(matrix > 0.005)
    month_days = calendar().month_start(np.arange(N_MONTHS))
    return pd.DataFrame(
        {
            "account_id": account_ids[a],
            "month": to_dates(month_days[m].astype(float)).to_numpy(),
            "mrr": np.round(matrix[a, m], 2),
        }
    )


def preexisting_lines(seed: int, scale: P.Scale, accounts: pd.DataFrame, staff: pd.DataFrame) -> pd.DataFrame:
    """MRR lines of customers that signed before 2023 (their deals predate the CRM export)."""
    rng = stream(seed, "revenue.preexisting")
    cal = calendar()
    pool = np.flatnonzero((accounts["_base_created"] < -60).to_numpy())
    w = accounts["_weight"].to_numpy()[pool]
    k = min(scale.preexisting_customers, len(pool))
    acc = np.sort(rng.choice(pool, size=k, replace=False, p=w / w.sum()))
    seg = accounts["_seg"].to_numpy()[acc]
    created = accounts["_base_created"].to_numpy()[acc]
    close_day = np.floor(rng.uniform(np.maximum(created, -3 * 365) + 1, -30))
    acv = np.round(lognormal(rng, np.asarray(P.ACV_MEDIAN)[seg], P.ACV_SIGMA, k), -2)
    owner = pick(rng, staff, np.zeros(k), "AE", segment=seg, region=accounts["_reg"].to_numpy()[acc])
    return pd.DataFrame(
        {
            "_acc": acc,
            "start_month": cal.month_of(close_day) + 1,
            "close_day": close_day,
            "acv": np.maximum(acv, 1000.0),
            "owner": owner,
            "_deal": -1,
        }
    )
