"""Customer acquisition cost: (marketing spend + sales costs) / new customers won, blended and by channel;
and CAC payback in months."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from salesops.io.data import SalesData
from salesops.kpi._common import (
    MissingDataError,
    as_day,
    as_naive_days,
    cut_at,
    group_keys,
    lead_channel,
    period_label,
    require,
)

__all__ = ["cac", "cac_payback", "new_customers"]

_PURPOSE = "CAC"


def new_customers(data: SalesData, *, as_of: Any = None) -> pd.DataFrame:
    """Accounts won as new customers: those whose first won opportunity (by close date, then id) is new business.

    Their acquisition ``channel`` is the source of that deal's lead (``leads.source`` via
    ``opportunities.lead_id``), else the deal's own ``source`` (``AE Sourced`` and the like), else
    ``unknown``. Accounts whose
    first win is an expansion or renewal were customers before the data begin and are not new.

    Parameters
    ----------
    data : SalesData
        Needs ``opportunities`` with ``type``; ``leads`` or ``opportunities.source`` for the channel.
    as_of : date-like, optional
        Wins after it are not counted.

    Returns
    -------
    DataFrame
        ``account_id, opportunity_id, close_date, channel, amount`` sorted by close date.
    """
    opps = cut_at(require(data, "opportunities", ["type"], purpose="New customers (and so CAC)"), as_of)
    won = opps[opps["is_won"].astype(bool)].sort_values(["close_date", "opportunity_id"], kind="stable")
    first = won.drop_duplicates("account_id", keep="first")
    first = first[first["type"].eq("new_business")]
    try:
        channel = lead_channel(data, first, "CAC by channel") if len(first) else pd.Series(dtype=object)
    except MissingDataError:  # blended CAC needs no channel; cac(by="channel") says what is missing
        channel = pd.Series(None, index=first.index, dtype=object)
    out = first.assign(channel=channel.fillna("unknown"))
    return out[["account_id", "opportunity_id", "close_date", "channel", "amount"]].reset_index(drop=True)


def _garwood(n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson interval for counts ``n``."""
    a = 1.0 - confidence
    lo = np.where(n > 0, sps.chi2.ppf(a / 2, 2 * n) / 2, 0.0)
    hi = sps.chi2.ppf(1 - a / 2, 2 * (n + 1)) / 2
    return lo, hi


def cac(
    data: SalesData,
    by: str | None = "channel",
    period: str | None = None,
    *,
    start: Any = None,
    end: Any = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""CAC, blended (``by=None``) or by acquisition channel, over the whole span or per period.

    With :math:`n_c` new customers won from channel :math:`c` (:func:`new_customers`, by close date),
    :math:`N = \sum_c n_c` all new customers (AE-sourced ones included), :math:`M_c` the channel's
    marketing spend and :math:`S` all sales costs of the same months,

    .. math::

        \mathrm{CAC} = \frac{\sum_c M_c + S}{N}, \qquad
        \mathrm{CAC}_c = \frac{M_c + S \, n_c / N}{n_c} = \frac{M_c}{n_c} + \frac{S}{N}:

    sales costs are shared among channels in proportion to the customers they brought, so every channel
    carries the same sales cost per customer and its own marketing cost per customer. A channel without
    spend (AE-sourced deals) carries sales costs only. The interval treats the channel's count as Poisson
    (exact Garwood limits :math:`n^-, n^+`): :math:`[M_c / n^+ + S/N,\ M_c / n^- + S/N]` (spend fixed).

    Parameters
    ----------
    data : SalesData
        Needs ``opportunities`` (with ``type``), ``marketing_spend`` (month, channel, amount) and
        ``sales_costs`` (month, amount); ``leads`` for lead channels.
    by : {"channel", None}
        By acquisition channel, or blended.
    period : {"month", "quarter", "year"} or None
        Per period (spend by month, customers by close date), else over the whole span.
    start, end : date-like, optional
        The span (default: from the first to the last month with marketing spend or sales costs).
    confidence : float
        Level of the interval.

    Returns
    -------
    DataFrame
        keys, ``new_customers, marketing_spend, sales_costs, total_cost, cac, lower, upper`` (``cac`` NaN
        where no customer was won).
    """
    if by not in (None, "channel"):
        raise ValueError(f"CAC is computed blended (by=None) or by='channel', got by={by!r}")
    spend = require(data, "marketing_spend", ["month", "channel", "amount"], purpose=_PURPOSE)
    costs = require(data, "sales_costs", ["month", "amount"], purpose=_PURPOSE)
    months_m, months_s = as_naive_days(spend["month"]), as_naive_days(costs["month"])
    lo = as_day(start) if start is not None else min(months_m.min(), months_s.min())
    hi = as_day(end) if end is not None else (max(months_m.max(), months_s.max()) + pd.offsets.MonthEnd(0))
    nc = new_customers(data, as_of=hi)
    if by == "channel" and len(nc) and nc["channel"].eq("unknown").all():
        raise MissingDataError(
            "CAC by channel needs an acquisition channel: opportunities.lead_id with the leads table, or "
            "opportunities.source, which this data does not have.")
    nc = nc[as_naive_days(nc["close_date"]) >= lo]
    spend = spend[(months_m >= lo) & (months_m <= hi)].assign(channel=lambda f: f["channel"])
    costs = costs[(months_s >= lo) & (months_s <= hi)]
    unit = group_keys(None, period)
    if period is not None:
        nc = nc.assign(period=period_label(nc["close_date"], period))
        spend = spend.assign(period=period_label(spend["month"], period))
        costs = costs.assign(period=period_label(costs["month"], period))
    else:
        nc, spend, costs = (f.assign(_all="all") for f in (nc, spend, costs))
        unit = ["_all"]
    s_total = costs.groupby(unit)["amount"].sum()
    n_total = nc.groupby(unit).size()
    if by is None:
        m = spend.groupby(unit)["amount"].sum()
        frame = pd.concat([n_total.rename("new_customers"), m.rename("marketing_spend"),
                           s_total.rename("sales_costs")], axis=1)
    else:
        n = nc.groupby([*unit, "channel"]).size().rename("new_customers")
        m = spend.groupby([*unit, "channel"])["amount"].sum().rename("marketing_spend")
        frame = pd.concat([n, m], axis=1)
        frame["_n_total"] = n_total.reindex(frame.index.droplevel("channel")).to_numpy()
        frame["_s_total"] = s_total.reindex(frame.index.droplevel("channel")).to_numpy()
    if by is None and period is None:  # one row, even for a window without spend or customers
        frame = frame.reindex(pd.Index(["all"], name="_all"))
    frame = frame.reset_index()
    frame["new_customers"] = frame["new_customers"].fillna(0).astype(np.int64)
    frame["marketing_spend"] = frame["marketing_spend"].fillna(0.0)
    if by is None:
        frame["sales_costs"] = frame["sales_costs"].fillna(0.0)
        n_all, s_all = frame["new_customers"].to_numpy(float), frame["sales_costs"].to_numpy(float)
    else:
        n_all, s_all = frame["_n_total"].fillna(0).to_numpy(float), frame["_s_total"].fillna(0.0).to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["sales_costs"] = np.where(n_all > 0, s_all * frame["new_customers"] / n_all, 0.0)
    frame["total_cost"] = frame["marketing_spend"] + frame["sales_costs"]
    n_c = frame["new_customers"].to_numpy(float)
    n_lo, n_hi = _garwood(n_c, confidence)
    m_c = frame["marketing_spend"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sales_per = np.where(n_all > 0, s_all / n_all, np.nan)
        frame["cac"] = np.where(n_c > 0, m_c / n_c + sales_per, np.nan)
        if by is None:  # blended: the whole cost over the Poisson limits of N
            total = frame["total_cost"].to_numpy(float)
            frame["lower"] = np.where(n_c > 0, total / n_hi, np.nan)
            frame["upper"] = np.where(n_lo > 0, total / n_lo, np.nan)
        else:
            frame["lower"] = np.where(n_c > 0, m_c / n_hi + sales_per, np.nan)
            frame["upper"] = np.where(n_lo > 0, m_c / n_lo + sales_per, np.nan)
    keys = group_keys(by, period)
    frame = frame.drop(columns=[c for c in ("_all", "_n_total", "_s_total") if c in frame.columns])
    columns = [*keys, "new_customers", "marketing_spend", "sales_costs", "total_cost", "cac", "lower", "upper"]
    return frame[columns].sort_values(keys).reset_index(drop=True) if keys else frame[columns]


def cac_payback(
    data: SalesData,
    gross_margin: float,
    by: str | None = "channel",
    period: str | None = None,
    *,
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    r"""CAC payback: months of gross-margin recurring revenue a new customer needs to repay its CAC.

    .. math::

        \text{payback}_g = \frac{\mathrm{CAC}_g}{m \cdot \overline{\mathrm{MRR}}^{\text{new}}_g}

    with :math:`m` the gross margin and :math:`\overline{\mathrm{MRR}}^{\text{new}}_g` the mean MRR of the
    group's new customers in their first month of revenue on or after the win and inside the window
    (``revenue`` table); customers without revenue yet are left out of that mean.

    Parameters
    ----------
    data : SalesData
        As :func:`cac`, plus ``revenue`` (account_id, month, mrr).
    gross_margin : float
        Gross margin of recurring revenue, in (0, 1].
    by, period, start, end
        As in :func:`cac`.

    Returns
    -------
    DataFrame
        The :func:`cac` columns plus ``new_mrr`` (mean first-month MRR), ``customers_with_revenue`` and
        ``payback_months``.
    """
    if not 0.0 < float(gross_margin) <= 1.0:
        raise ValueError(f"gross_margin must be in (0, 1], got {gross_margin!r}")
    revenue = require(data, "revenue", ["account_id", "month", "mrr"], purpose="CAC payback")
    table = cac(data, by, period, start=start, end=end)
    costs_end = as_naive_days(data.sales_costs["month"]).max() + pd.offsets.MonthEnd(0)
    last = as_day(end) if end is not None else costs_end
    nc = new_customers(data, as_of=last)
    rev = revenue[revenue["mrr"] > 0].assign(_month=as_naive_days(revenue["month"]))
    rev = rev[rev["_month"] <= last]  # no revenue booked after the window
    merged = nc.assign(_won=as_naive_days(nc["close_date"]).dt.to_period("M").dt.start_time).merge(
        rev[["account_id", "_month", "mrr"]], on="account_id", how="inner")
    merged = merged[merged["_month"] >= merged["_won"]].sort_values(["account_id", "_month"])
    first = merged.drop_duplicates("account_id", keep="first")
    if period is not None:
        first = first.assign(period=period_label(first["close_date"], period))
    keys = group_keys(by, period)
    if keys:
        mrr = first.groupby(keys)["mrr"].agg(new_mrr="mean", customers_with_revenue="size").reset_index()
        table = table.merge(mrr, on=keys, how="left")
    else:
        table = table.assign(new_mrr=first["mrr"].mean() if len(first) else np.nan,
                             customers_with_revenue=len(first))
    table["customers_with_revenue"] = table["customers_with_revenue"].fillna(0).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["payback_months"] = table["cac"] / (float(gross_margin) * table["new_mrr"])
    return table
