"""Bookings per period and the Q4 effect: how much more is booked in the year's last quarter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from salesops.io.data import SalesData
from salesops.kpi._common import (
    MissingDataError,
    as_day,
    as_naive_days,
    cut_at,
    group_keys,
    opportunities_with,
    period_label,
)
from salesops.periods import COMPLETE_SLACK_DAYS

__all__ = ["bookings", "q4_uplift"]

_PURPOSE = "Bookings"


def _orders(data: SalesData, by: Sequence[str], as_of: Any, types: Sequence[str] | None, purpose: str) -> pd.DataFrame:
    """The ``transactions`` of a business without deals as won "deals": one per order (``transaction_id``, else
    per row), booked on its date (``close_date`` = ``created_date`` = the order's first date), amount summed."""
    if by or types is not None:
        raise MissingDataError(f"{purpose} by {', '.join(by) or 'type'} needs the opportunities table; this data "
                               "holds transactions only.")
    tx = data.transactions
    day = as_naive_days(tx["date"])
    frame = pd.DataFrame({"order": tx["transaction_id"] if "transaction_id" in tx.columns else pd.RangeIndex(len(tx)),
                          "close_date": day, "amount": tx["amount"].astype(float)})
    frame["order"] = frame["order"].fillna(pd.Series(np.arange(len(frame)), index=frame.index).astype(str))
    if as_of is not None:
        frame = frame[frame["close_date"] <= as_day(as_of)]
    orders = frame.groupby("order", sort=False).agg(close_date=("close_date", "min"), amount=("amount", "sum"))
    orders = orders.reset_index(drop=True)
    orders["created_date"] = orders["close_date"]
    orders["is_won"] = True
    return orders


def _transactional(data: SalesData) -> bool:
    """True when the data hold transactions and no opportunities: bookings then come from orders."""
    return getattr(data, "opportunities", None) is None and getattr(data, "transactions", None) is not None


def _won(data: SalesData, by: Sequence[str], as_of: Any, types: Sequence[str] | None, purpose: str) -> pd.DataFrame:
    if _transactional(data):
        return _orders(data, by, as_of, types, purpose)
    opps = cut_at(opportunities_with(data, by, purpose=purpose), as_of)
    if types is not None:
        if "type" not in opps.columns:
            raise MissingDataError(
                f"{purpose} of types {list(types)} needs the column opportunities.type, which this data does not have.")
        opps = opps[opps["type"].isin(list(types))]
    return opps[opps["is_won"].astype(bool)]


def bookings(
    data: SalesData,
    by: str | Sequence[str] | None = None,
    period: str = "quarter",
    *,
    as_of: Any = None,
    types: Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""Bookings per period: the amount of the deals won, placed by close date (for data holding
    ``transactions`` and no opportunities: the amount of the orders, by order date, ``won_deals`` counting
    orders).

    .. math:: B_{g,p} = \sum_{i \in g,\ \text{won},\ \text{close\_date}_i \in p} \text{amount}_i

    Parameters
    ----------
    data : SalesData
        Needs ``opportunities``.
    by : str, list of str or None
        Dimensions (``segment``, ``type``, ``channel``...).
    period : {"month", "quarter", "year"}
        Period of the close date.
    as_of : date-like, optional
        Deals won after it are not counted.
    types : list of str, optional
        Opportunity types counted (default all).

    Returns
    -------
    DataFrame
        keys, ``period``, ``won_deals``, ``bookings`` (every period from the first to the last, zero-filled).
    """
    keys = group_keys(by, None)
    won = _won(data, keys, as_of, types, _PURPOSE).copy()
    won["period"] = period_label(won["close_date"], period)
    out = won.groupby([*keys, "period"], dropna=False, observed=True, sort=True).agg(
        won_deals=("amount", "size"), bookings=("amount", "sum")).reset_index()
    if out.empty:
        return out
    freq = {"month": "M", "quarter": "Q", "year": "Y"}[period]
    span = pd.period_range(pd.Period(out["period"].min(), freq), pd.Period(out["period"].max(), freq), freq=freq)
    labels = pd.Series(span.astype(str), name="period")
    grid = out[keys].drop_duplicates().merge(labels, how="cross") if keys else labels.to_frame()
    out = grid.merge(out, on=[*keys, "period"], how="left")
    out["won_deals"] = out["won_deals"].fillna(0).astype(np.int64)
    out["bookings"] = out["bookings"].fillna(0.0)
    return out


def q4_uplift(
    data: SalesData,
    *,
    as_of: Any = None,
    types: Sequence[str] | None = None,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Q4 bookings against the mean of Q1-Q3 of the same year, per complete year and pooled.

    .. math::

        u_y = \frac{B_{y,Q4}}{\tfrac13 (B_{y,Q1} + B_{y,Q2} + B_{y,Q3})} - 1, \qquad
        u_{\text{pooled}} = \frac{\sum_y B_{y,Q4}}{\tfrac13 \sum_y (B_{y,Q1} + B_{y,Q2} + B_{y,Q3})} - 1

    over the calendar years the data cover from January to December (the last year counts when the data
    reach within :data:`salesops.periods.COMPLETE_SLACK_DAYS` days of its end). The interval is a percentile
    bootstrap over won deals, resampled within each year (amounts and quarters together), seeded.
    Growth inside a year inflates :math:`u_y` somewhat; compare years with each other.

    Parameters
    ----------
    data : SalesData
        Needs ``opportunities``.
    as_of : date-like, optional
        Evaluation day (default: the data's as-of day, else the last close date).
    types : list of str, optional
        Opportunity types counted.
    confidence, n_boot, seed
        Bootstrap interval settings.

    Returns
    -------
    DataFrame
        One row per complete year and one ``all`` (pooled): ``year, q4_bookings, q1_q3_mean, uplift, lower,
        upper, won_deals``. Empty when no year is complete.
    """
    won = _won(data, [], as_of, types, "Q4 seasonality")
    close = as_naive_days(won["close_date"])
    if as_of is not None:
        end = as_day(as_of)
    elif data.as_of is not None:
        end = as_day(data.as_of)
    else:
        end = close.max()
    if _transactional(data):
        start = as_naive_days(data.transactions["date"]).min()
    else:
        start = as_naive_days(opportunities_with(data, [], purpose="Q4 seasonality")["created_date"]).min()
    years = [y for y in range(start.year, end.year + 1)
             if pd.Timestamp(y, 1, 1) >= start - pd.Timedelta(days=COMPLETE_SLACK_DAYS)
             and pd.Timestamp(y, 12, 31) <= end + pd.Timedelta(days=COMPLETE_SLACK_DAYS)]
    rng = np.random.default_rng(seed)
    tail = (1.0 - confidence) / 2.0
    rows, boots = [], []
    totals = np.zeros(2)
    for y in years:
        m = (close.dt.year == y).to_numpy()
        amount = won["amount"].to_numpy(dtype=float)[m]
        q4 = (close.dt.quarter.to_numpy()[m] == 4)
        if amount.size == 0 or not np.any(~q4):
            continue
        num, den = amount[q4].sum(), amount[~q4].sum() / 3.0
        idx = rng.integers(0, amount.size, size=(int(n_boot), amount.size))
        b_num = (amount[idx] * q4[idx]).sum(axis=1)
        b_den = (amount[idx] * ~q4[idx]).sum(axis=1) / 3.0
        boots.append((b_num, b_den))
        totals += (num, den)
        with np.errstate(divide="ignore", invalid="ignore"):
            lo, hi = np.quantile(b_num / b_den - 1.0, [tail, 1.0 - tail])
        rows.append({"year": str(y), "q4_bookings": num, "q1_q3_mean": den, "uplift": num / den - 1.0,
                     "lower": lo, "upper": hi, "won_deals": int(amount.size)})
    columns = ["year", "q4_bookings", "q1_q3_mean", "uplift", "lower", "upper", "won_deals"]
    if not rows:
        return pd.DataFrame(columns=columns)
    b_num = np.sum([b[0] for b in boots], axis=0)
    b_den = np.sum([b[1] for b in boots], axis=0)
    lo, hi = np.quantile(b_num / b_den - 1.0, [tail, 1.0 - tail])
    rows.append({"year": "all", "q4_bookings": totals[0], "q1_q3_mean": totals[1],
                 "uplift": totals[0] / totals[1] - 1.0, "lower": lo, "upper": hi,
                 "won_deals": int(sum(r["won_deals"] for r in rows))})
    return pd.DataFrame(rows, columns=columns)
