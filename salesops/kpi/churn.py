"""Monthly churn of recurring revenue and of customers (logos), from the ``revenue`` table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from salesops.io.data import SalesData
from salesops.kpi._common import MissingDataError, as_day, as_naive_days, group_keys, period_label, require
from salesops.stats import weighted_rate_interval, wilson_interval

__all__ = ["account_dimension", "account_months", "monthly_churn"]

Kind = Literal["revenue", "logo"]
_PURPOSE = "Churn"


def account_dimension(data: SalesData, accounts: pd.Series, name: str, purpose: str) -> pd.Series:
    """A dimension of each account: a column of the ``accounts`` table, or ``channel`` (the acquisition
    channel of accounts won as new customers, ``existing`` for the others; see
    :func:`salesops.kpi.cac.new_customers`).

    Parameters
    ----------
    data : SalesData
        Needs ``accounts`` (or ``opportunities`` for ``channel``).
    accounts : Series
        Account ids.
    name : str
        The dimension.
    purpose : str
        Named in the missing-data message.
    """
    if name == "channel":
        from salesops.kpi.cac import new_customers

        ch = new_customers(data).drop_duplicates("account_id").set_index("account_id")["channel"]
        return accounts.map(ch).fillna("existing")
    table = require(data, "accounts", [name], purpose=f"{purpose} by {name}")
    return accounts.map(table.drop_duplicates("account_id").set_index("account_id")[name])


def account_months(data: SalesData, *, end: Any = None, purpose: str = _PURPOSE) -> pd.DataFrame:
    """MRR per account and month as a dense grid (accounts x every month from the first to the last), zeros
    where an account booked nothing.

    Parameters
    ----------
    data : SalesData
        Needs ``revenue`` (account_id, month, mrr).
    end : date-like, optional
        Last month counted (default: the last month of the revenue table, capped at the data's as-of month).
    """
    revenue = require(data, "revenue", ["account_id", "month", "mrr"], purpose=purpose)
    month = as_naive_days(revenue["month"]).dt.to_period("M").dt.start_time
    last = month.max()
    if end is not None:
        last = min(last, as_day(end).to_period("M").start_time)
    elif data.as_of is not None:
        last = min(last, as_day(data.as_of).to_period("M").start_time)
    keep = month <= last
    grid = pd.pivot_table(revenue[keep].assign(month=month[keep]), index="account_id", columns="month",
                          values="mrr", aggfunc="sum", fill_value=0.0)
    months = pd.date_range(month.min(), last, freq="MS")
    return grid.reindex(columns=months, fill_value=0.0)


def _transitions(data: SalesData, end: Any, purpose: str) -> pd.DataFrame:
    grid = account_months(data, end=end, purpose=purpose)
    if grid.shape[1] < 2:
        until = f" up to {as_day(end).strftime('%Y-%m')}" if end is not None else ""
        raise MissingDataError(f"{purpose} needs at least two months of revenue{until}, which this data does not have.")
    values = grid.to_numpy()
    prev, cur = values[:, :-1], values[:, 1:]
    rows, cols = np.nonzero(prev > 0)
    return pd.DataFrame({
        "account_id": grid.index.to_numpy()[rows],
        "month": grid.columns[1:].to_numpy()[cols],
        "prev_mrr": prev[rows, cols],
        "churned": cur[rows, cols] <= 0,
    })


def monthly_churn(
    data: SalesData,
    by: str | Sequence[str] | None = "segment",
    period: str | None = None,
    *,
    kind: Kind = "revenue",
    start: Any = None,
    end: Any = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Monthly gross churn: the share of last month's recurring revenue (or customers) gone this month.

    An account churns in month :math:`m` when it had MRR in :math:`m - 1` and none in :math:`m` (no row or
    zero). Over the months :math:`m` of the group (and period),

    .. math::

        c^{\text{revenue}} = \frac{\sum_{a,m} \mathrm{MRR}_{a,m-1} [\mathrm{MRR}_{a,m} = 0]}
                                  {\sum_{a,m} \mathrm{MRR}_{a,m-1}}, \qquad
        c^{\text{logo}} = \frac{\#\{(a, m) : \mathrm{MRR}_{a,m-1} > 0,\ \mathrm{MRR}_{a,m} = 0\}}
                               {\#\{(a, m) : \mathrm{MRR}_{a,m-1} > 0\}}.

    Contraction short of zero is not churn here (gross logo churn of revenue). Intervals: Wilson for the logo
    rate; for the revenue rate the ratio-estimator normal interval over account-months
    (:func:`salesops.stats.weighted_rate_interval`), which ignores that months of one account are related.

    Parameters
    ----------
    data : SalesData
        Needs ``revenue``; ``accounts`` for account dimensions.
    by : str, list of str or None
        Account dimensions (``segment``, ``industry``, ``region``..., or ``channel``).
    period : {"month", "quarter", "year"} or None
        Per period of the churn month; otherwise over every month.
    kind : {"revenue", "logo"}
        Revenue-weighted or customer-count churn.
    start, end : date-like, optional
        Churn months counted (default all but the first month, to the last revenue month capped at as-of).
    confidence : float
        Interval level.

    Returns
    -------
    DataFrame
        keys, ``accounts`` (distinct accounts at risk), ``at_risk`` (account-months), ``churned``
        (account-months), ``mrr_at_risk``, ``mrr_churned``, ``churn``, ``lower``, ``upper``.
    """
    if kind not in ("revenue", "logo"):
        raise ValueError(f"kind must be 'revenue' or 'logo', got {kind!r}")
    tr = _transitions(data, end, _PURPOSE)
    if start is not None:
        tr = tr[tr["month"] >= as_day(start)]
    keys = group_keys(by, None)
    for k in keys:
        tr[k] = account_dimension(data, tr["account_id"], k, _PURPOSE).to_numpy()
    if period is not None:
        tr["period"] = period_label(tr["month"], period)
    keys = group_keys(by, period)
    if not keys:
        tr = tr.assign(_all="all")
        keys = ["_all"]
    rows = []
    for key, g in tr.groupby(keys, dropna=False, observed=True, sort=True):
        churned = g["churned"].to_numpy()
        prev = g["prev_mrr"].to_numpy()
        row = {
            **dict(zip(keys, key if isinstance(key, tuple) else (key,))),
            "accounts": int(g["account_id"].nunique()),
            "at_risk": int(len(g)),
            "churned": int(churned.sum()),
            "mrr_at_risk": float(prev.sum()),
            "mrr_churned": float(prev[churned].sum()),
        }
        if kind == "revenue":
            ri = weighted_rate_interval(prev, churned, confidence=confidence, method="normal")
            row.update(churn=ri.rate, lower=ri.lower, upper=ri.upper)
        else:
            lo, hi = wilson_interval(int(churned.sum()), int(len(g)), confidence)
            row.update(churn=churned.mean(), lower=lo, upper=hi)
        rows.append(row)
    columns = [*keys, "accounts", "at_risk", "churned", "mrr_at_risk", "mrr_churned", "churn", "lower", "upper"]
    out = pd.DataFrame(rows, columns=columns)
    return out.drop(columns="_all") if "_all" in out.columns else out
