"""Sales-cycle length by survival analysis: open deals count as censored, not ignored.

A deal open for 40 days has a cycle of *at least* 40 days. Dropping open deals (the naive "median of
closed deals") biases cycle length down, the more so the more recent the deals; the Kaplan–Meier estimator
uses each open deal for as long as it has been observed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from salesops.io.data import SalesData
from salesops.kpi._common import (
    BY_SEGMENT,
    MissingDataError,
    as_day,
    as_naive_days,
    cut_at,
    group_keys,
    opportunities_with,
    period_label,
    resolve_by,
)
from salesops.stats import kaplan_meier, km_median

__all__ = ["cycle_curves", "cycle_durations", "sales_cycle"]

Outcome = Literal["won", "closed"]
_PURPOSE = "Sales-cycle length"


def cycle_durations(
    data: SalesData,
    by: str | Sequence[str] | None = None,
    period: str | None = None,
    *,
    outcome: Outcome = "won",
    as_of: Any = None,
    created_from: Any = None,
    types: Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""One row per deal at risk: ``days`` of cycle (or so far) and whether the cycle ``ended``.

    ``days`` is ``close_date - created_date`` for a closed deal and ``as_of - created_date`` for an open one
    (censored). With ``outcome="closed"`` every close (won or lost) ends a cycle; with ``outcome="won"`` only
    a win does, and lost deals leave the population (they will never close won), so the curve describes the
    cycle of deals that are won. ``period`` groups deals by the period of their *created* date (cohorts).

    Parameters
    ----------
    data : SalesData
        Needs ``opportunities`` (created_date, close_date, is_closed, is_won).
    by, period, types
        Grouping dimensions, cohort period, opportunity types kept.
    outcome : {"won", "closed"}
        What ends a cycle.
    as_of : date-like, optional
        Evaluation day: later-created deals are left out, deals closed later are open and censored there.
        Default: the data as they are, open deals censored at the data's as-of day (else the latest
        created date).
    created_from : date-like, optional
        Only deals created on or after this day (a cohort window, e.g. the last four quarters).
    """
    if outcome not in ("won", "closed"):
        raise ValueError(f"outcome must be 'won' or 'closed', got {outcome!r}")
    keys = group_keys(by, None)
    opps = opportunities_with(data, keys, purpose=_PURPOSE)
    if as_of is None:  # the data as they are; open deals censored at the data's as-of day
        created_max = as_naive_days(opps["created_date"]).max()
        day = max(as_day(data.as_of), created_max) if data.as_of is not None else created_max
    else:
        day = as_day(as_of)
        opps = cut_at(opps, day)
    if created_from is not None:
        opps = opps[as_naive_days(opps["created_date"]) >= as_day(created_from)]
    if types is not None:
        if "type" not in opps.columns:
            raise MissingDataError(
                f"{_PURPOSE} of types {list(types)} needs the column opportunities.type, which this data does not have.")
        opps = opps[opps["type"].isin(list(types))]
    closed = opps["is_closed"].astype(bool)
    won = opps["is_won"].astype(bool)
    if outcome == "won":
        opps, closed, won = opps[~closed | won], closed[~closed | won], won[~closed | won]
    created = as_naive_days(opps["created_date"])
    end = as_naive_days(opps["close_date"]).where(closed, day)
    days = (end - created).dt.days.clip(lower=0).astype(float)
    out = opps[keys].copy() if keys else pd.DataFrame(index=opps.index)
    if period is not None:
        out["period"] = period_label(opps["created_date"], period)
    out["opportunity_id"] = opps["opportunity_id"]
    out["days"] = days
    out["ended"] = (won if outcome == "won" else closed).to_numpy()
    return out.reset_index(drop=True)


def sales_cycle(
    data: SalesData,
    by: str | Sequence[str] | None = BY_SEGMENT,
    period: str | None = None,
    *,
    outcome: Outcome = "won",
    as_of: Any = None,
    created_from: Any = None,
    types: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Median sales cycle per group by Kaplan–Meier, with the naive closed-only median beside it.

    With deals :math:`i` of the group, durations :math:`t_i` (days from created to close, or to ``as_of``
    while open) and event indicators :math:`\delta_i` (see :func:`cycle_durations`),

    .. math::

        \hat S(t) = \prod_{t_j \le t} \Bigl(1 - \frac{d_j}{n_j}\Bigr), \qquad
        \text{median} = \min\{t : \hat S(t) \le 1/2\},

    with a Brookmeyer–Crowley interval from the log-log band (:func:`salesops.stats.km_median`).
    ``naive_median`` is the plain median of the ended cycles only (open deals ignored) and ``mean_ended``
    their mean.

    Parameters
    ----------
    data : SalesData
        Needs ``opportunities``.
    by : str, list of str or None
        Dimensions (default the account's ``segment``; without segments in the data, the whole company,
        and ``attrs["note"]`` says so).
    period : {"month", "quarter", "year"} or None
        Cohorts by created date.
    outcome : {"won", "closed"}
        ``won``: the cycle of won deals (lost deals leave the population); ``closed``: time to a decision.
    as_of, created_from, types
        See :func:`cycle_durations`.
    confidence : float
        Level of the median's interval.

    Returns
    -------
    DataFrame
        One row per group: keys, ``deals, ended, censored, median, lower, upper, naive_median, mean_ended,
        note`` (``note`` explains a missing median, e.g. too few cycles ended yet).
    """
    by, note = resolve_by(data, by, purpose=_PURPOSE)
    frame = cycle_durations(data, by, period, outcome=outcome, as_of=as_of, created_from=created_from, types=types)
    keys = group_keys(by, period)
    if not keys:
        frame = frame.assign(_all="all")
        keys = ["_all"]
    rows = []
    for key, g in frame.groupby(keys, dropna=False, observed=True, sort=True):
        med = km_median(g["days"].to_numpy(), g["ended"].to_numpy(), confidence=confidence)
        ended = g.loc[g["ended"], "days"]
        rows.append({
            **dict(zip(keys, key if isinstance(key, tuple) else (key,))),
            "deals": int(len(g)),
            "ended": int(g["ended"].sum()),
            "censored": int((~g["ended"]).sum()),
            "median": med.median,
            "lower": med.lower,
            "upper": med.upper,
            "naive_median": float(ended.median()) if len(ended) else np.nan,
            "mean_ended": float(ended.mean()) if len(ended) else np.nan,
            "note": med.note,
        })
    columns = [*keys, "deals", "ended", "censored", "median", "lower", "upper", "naive_median", "mean_ended", "note"]
    out = pd.DataFrame(rows, columns=columns)
    out = out.drop(columns="_all") if "_all" in out.columns else out
    if note:
        out.attrs["note"] = note
    return out


def cycle_curves(
    data: SalesData,
    by: str | Sequence[str] | None = BY_SEGMENT,
    *,
    outcome: Outcome = "won",
    as_of: Any = None,
    created_from: Any = None,
    types: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Kaplan–Meier curves of the share of deals still open after :math:`t` days, per group (long format).

    .. math:: \hat S(t) = \prod_{t_j \le t} (1 - d_j / n_j)

    with its pointwise log-log band (:func:`salesops.stats.kaplan_meier`); :math:`1 - \hat S(t)` is the
    share of cycles ended by day :math:`t`. Arguments as in :func:`sales_cycle`.

    Returns
    -------
    DataFrame
        keys, ``time, at_risk, events, survival, lower, upper``, starting at ``time`` 0 with survival 1.
    """
    by, note = resolve_by(data, by, purpose=_PURPOSE)
    frame = cycle_durations(data, by, None, outcome=outcome, as_of=as_of, created_from=created_from, types=types)
    keys = group_keys(by, None)
    if not keys:
        frame = frame.assign(_all="all")
        keys = ["_all"]
    parts = []
    for key, g in frame.groupby(keys, dropna=False, observed=True, sort=True):
        km = kaplan_meier(g["days"].to_numpy(), g["ended"].to_numpy(), confidence=confidence)
        km = km[["time", "at_risk", "events", "survival", "lower", "upper"]]
        if km.empty or km["time"].iloc[0] > 0:
            start = pd.DataFrame({"time": [0.0], "at_risk": [len(g)], "events": [0], "survival": [1.0],
                                  "lower": [1.0], "upper": [1.0]})
            km = pd.concat([start, km], ignore_index=True)
        for k, v in zip(keys, key if isinstance(key, tuple) else (key,)):
            km[k] = v
        parts.append(km)
    out = pd.concat(parts, ignore_index=True)
    out = out[[*keys, "time", "at_risk", "events", "survival", "lower", "upper"]]
    out = out.drop(columns="_all") if "_all" in out.columns else out
    if note:
        out.attrs["note"] = note
    return out
