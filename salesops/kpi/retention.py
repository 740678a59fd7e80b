"""Cohort retention curves: of the customers who started paying in a period, how many (or how much of
their revenue) are still there k months later."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd

from salesops.engine import Engine, engine_for
from salesops.engine.cohorts import revenue_cohorts
from salesops.io.data import SalesData
from salesops.kpi._common import (
    PERIODS,
    MissingDataError,
    as_day,
    as_naive_days,
    group_keys,
    period_label,
    require,
)
from salesops.kpi.churn import account_dimension

__all__ = ["cohort_retention", "repeat_purchase_retention"]

_PURPOSE = "Cohort retention"


def cohort_retention(
    data: SalesData | Engine,
    cohort: Literal["month", "quarter", "year"] = "quarter",
    by: str | Sequence[str] | None = None,
    *,
    kind: Literal["logo", "revenue"] = "logo",
    max_months: int | None = None,
    end: Any = None,
    include_first_month: bool = False,
) -> pd.DataFrame:
    r"""Retention by months since a customer's first month of revenue, per start cohort (long format).

    For the accounts :math:`a` of a cohort whose month :math:`s_a + k` is observed (not after the last month),

    .. math::

        R^{\text{logo}}_k = \frac{\#\{a : \mathrm{MRR}_{a, s_a + k} > 0\}}{\#\{a\}}, \qquad
        R^{\text{revenue}}_k = \frac{\sum_a \mathrm{MRR}_{a, s_a + k}}{\sum_a \mathrm{MRR}_{a, s_a}}

    (net revenue retention: expansion counts, so it may exceed 1). :math:`s_a` is the account's first month
    with MRR. Accounts already paying in the revenue table's first month started before the data and their
    true start is unknown; they are left out unless ``include_first_month``. The months are the dense grid of
    :func:`salesops.kpi.churn.account_months` (a month without a row holds zero MRR); the table is computed in
    the engine (:func:`salesops.engine.cohorts.revenue_cohorts`).

    Parameters
    ----------
    data : SalesData or Engine
        Needs ``revenue``; ``accounts`` for ``by`` dimensions (``channel`` needs a SalesData).
    cohort : {"month", "quarter", "year"}
        Cohort period of the first month.
    by : str, list of str or None
        Account dimensions splitting the cohorts (``segment``...).
    kind : {"logo", "revenue"}
        Customer count or revenue retention.
    max_months : int, optional
        Largest ``k`` reported.
    end : date-like, optional
        Last month observed (see :func:`salesops.kpi.churn.account_months`).
    include_first_month : bool
        Keep the accounts already paying in the first month as a cohort of their own.

    Returns
    -------
    DataFrame
        keys, ``cohort``, ``months_since_start`` (k), ``accounts`` (observed at k), ``retained`` (accounts
        with MRR at k), ``retention``.
    """
    if cohort not in PERIODS:
        raise ValueError(f"cohort must be one of {', '.join(PERIODS)}, got {cohort!r}")
    if kind not in ("logo", "revenue"):
        raise ValueError(f"kind must be 'logo' or 'revenue', got {kind!r}")
    keys = group_keys(by, None)
    dimensions = _check_and_dimensions(data, keys)
    engine = engine_for(data, tables=["revenue", "accounts"])
    return revenue_cohorts(engine, cohort, keys, kind=kind, max_months=max_months, end=end,
                           include_first_month=include_first_month, dimensions=dimensions)


def _check_and_dimensions(data: SalesData | Engine, keys: list[str]) -> pd.DataFrame | None:
    """Raise :class:`MissingDataError` naming what the cohorts need and the data lack; the account dimensions
    the engine cannot derive itself (``channel``, from the new customers' first wins) as a small frame."""
    if isinstance(data, Engine):
        if not data.has("revenue", ["account_id", "month", "mrr"]):
            raise MissingDataError(f"{_PURPOSE} needs the revenue table (account_id, month, mrr), which "
                                   f"{data.source or 'the engine'} does not have.")
        for k in keys:
            if k == "channel":
                raise MissingDataError(f"{_PURPOSE} by channel needs the opportunities and leads in memory (a "
                                       "SalesData, see salesops.kpi.new_customers); an Engine does not give them.")
            if not data.has("accounts", ["account_id", k]):
                raise MissingDataError(f"{_PURPOSE} by {k} needs the column accounts.{k}, which "
                                       f"{data.source or 'the engine'} does not have.")
        return None
    revenue = require(data, "revenue", ["account_id", "month", "mrr"], purpose=_PURPOSE)
    dimensions = None
    for k in keys:
        if k == "channel":
            ids = pd.Series(pd.unique(revenue["account_id"]), dtype=object)
            dimensions = pd.DataFrame({"account_id": ids,
                                       "channel": account_dimension(data, ids, k, _PURPOSE).to_numpy()})
        else:
            require(data, "accounts", [k], purpose=f"{_PURPOSE} by {k}")
    return dimensions


def repeat_purchase_retention(
    data: SalesData, cohort: Literal["month", "quarter", "year"] = "quarter", *, max_months: int | None = None,
    end: Any = None,
) -> pd.DataFrame:
    r"""Repeat-purchase retention of a transactional business, by months since each customer's first purchase.

    Customers :math:`c` of a cohort (the period of their first purchase month :math:`s_c`) whose month
    :math:`s_c + k` is observed (not after the last month, ``end`` or the data's last purchase):

    .. math:: R_k = \frac{\#\{c : c \text{ bought in month } s_c + k\}}{\#\{c\}}, \qquad k \ge 1.

    This is not subscription churn: a customer who skips a month has not left; :math:`R_k` is the share who
    buy again in that month (BG/NBD, :func:`salesops.kpi.transactional_ltv`, models who is still alive).

    Returns
    -------
    DataFrame
        ``cohort, months_since_start, customers, retained, retention``.
    """
    if cohort not in PERIODS:
        raise ValueError(f"cohort must be one of {', '.join(PERIODS)}, got {cohort!r}")
    tx = require(data, "transactions", ["customer_id", "date"], purpose="Repeat-purchase retention")
    month = as_naive_days(tx["date"]).dt.to_period("M")
    frame = pd.DataFrame({"customer_id": tx["customer_id"].to_numpy(), "month": month.to_numpy()}).drop_duplicates()
    last = frame["month"].max() if end is None else min(frame["month"].max(), as_day(end).to_period("M"))
    frame = frame[frame["month"] <= last]
    first = frame.groupby("customer_id")["month"].min().rename("start")
    frame = frame.join(first, on="customer_id")
    frame["k"] = (frame["month"] - frame["start"]).apply(lambda d: d.n)
    starts = first.to_frame()
    starts["cohort"] = period_label(starts["start"].dt.to_timestamp(), cohort).to_numpy()
    starts["observed"] = (last - starts["start"]).apply(lambda d: d.n)
    horizon = int(starts["observed"].max()) if len(starts) else 0
    if max_months is not None:
        horizon = min(horizon, int(max_months))
    rows = []
    bought = frame[frame["k"] >= 1].join(starts["cohort"], on="customer_id")
    for label, group in starts.groupby("cohort", sort=True):
        hits = bought[bought["cohort"] == label].groupby("k")["customer_id"].nunique()
        for k in range(1, horizon + 1):
            n = int((group["observed"] >= k).sum())
            if n == 0:
                break
            retained = int(hits.get(k, 0))
            rows.append({"cohort": label, "months_since_start": k, "customers": n, "retained": retained,
                         "retention": retained / n})
    return pd.DataFrame(rows, columns=["cohort", "months_since_start", "customers", "retained", "retention"])
