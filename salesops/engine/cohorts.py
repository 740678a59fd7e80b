"""Revenue cohorts in the engine: of the accounts that started paying in a period, how many (or how much of
their recurring revenue) are still there k months later.

The ``revenue`` table (``account_id, month, mrr``) is read as the dense grid of
:func:`salesops.kpi.churn.account_months`: every account that booked something by the last month, every month
from the table's first to the last (the revenue table's last month, capped at ``end`` or at the as-of month),
a month without a row holding zero MRR and rows of one month summed. An account's start :math:`s_a` is its
first month with MRR > 0. The engine sends back two small aggregates in one query (accounts and starting MRR
per group, cohort and start month; accounts paying and MRR per group, cohort and month since start); the
dense "observed at k" counts are cumulative sums over that aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import ibis
import numpy as np
import pandas as pd

from salesops.engine.backend import Engine, EngineError, naive_utc
from salesops.engine.leads import PERIOD_UNITS, period_labels

__all__ = ["COHORT_COLUMNS", "revenue_cohorts"]

#: Value columns of :func:`revenue_cohorts` after the group keys.
COHORT_COLUMNS = ("cohort", "months_since_start", "accounts", "retained", "retention")
_PURPOSE = "revenue cohorts"


def _month_start(value: Any) -> pd.Timestamp:
    """The first day of the (UTC) month of a date-like, as a naive Timestamp."""
    return naive_utc(value).normalize().to_period("M").start_time


def _month_index(month: Any, first: Any) -> Any:
    return (month.year() - first.year()) * 12 + (month.month() - first.month())


def _dimensions(engine: Engine, keys: list[str], dimensions: pd.DataFrame | None) -> Any:
    """``account_id`` and the ``keys`` columns: from ``dimensions`` where it has them, else ``accounts``."""
    given = [] if dimensions is None else [k for k in keys if k in dimensions.columns]
    from_accounts = [k for k in keys if k not in given]
    parts = []
    if given:
        if "account_id" not in dimensions.columns:
            raise EngineError("the dimensions frame for revenue cohorts needs an account_id column")
        if dimensions["account_id"].duplicated().any():
            dup = dimensions.loc[dimensions["account_id"].duplicated(), "account_id"].iloc[0]
            raise EngineError(f"the dimensions frame for revenue cohorts repeats account_id {dup!r}")
        parts.append(ibis.memtable(dimensions[["account_id", *given]].reset_index(drop=True)))
    if from_accounts:
        a = engine.table("accounts", ["account_id", *from_accounts], purpose=f"{_PURPOSE} by {', '.join(from_accounts)}")
        parts.append(a.select("account_id", *from_accounts))
    return parts


def revenue_cohorts(
    engine: Engine,
    cohort: Literal["month", "quarter", "year"] = "quarter",
    by: str | Sequence[str] | None = (),
    *,
    kind: Literal["logo", "revenue"] = "logo",
    max_months: int | None = None,
    end: Any = None,
    include_first_month: bool = False,
    dimensions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    r"""Retention by months since each account's first month of revenue, per start cohort (long format).

    For the accounts :math:`a` of a cohort whose month :math:`s_a + k` is observed (:math:`s_a + k \le`
    the last month),

    .. math::

        \text{accounts}_k = \#\{a\}, \qquad \text{retained}_k = \#\{a : \mathrm{MRR}_{a, s_a + k} > 0\},

        R^{\text{logo}}_k = \frac{\text{retained}_k}{\text{accounts}_k}, \qquad
        R^{\text{revenue}}_k = \frac{\sum_a \mathrm{MRR}_{a, s_a + k}}{\sum_a \mathrm{MRR}_{a, s_a}}

    (net revenue retention: expansion counts). Accounts paying in the revenue table's first month started
    before the data; they are left out unless ``include_first_month``. The same table as
    :func:`salesops.kpi.cohort_retention`, computed in the engine.

    Parameters
    ----------
    engine : Engine
        Needs ``revenue`` (``account_id, month, mrr``); ``accounts`` for ``by`` columns not in ``dimensions``.
    cohort : {"month", "quarter", "year"}
        Cohort period of the first paying month.
    by : str or sequence of str, optional
        Account dimensions splitting the cohorts: ``accounts`` columns, or columns of ``dimensions``.
    kind : {"logo", "revenue"}
        Customer count or revenue retention.
    max_months : int, optional
        Largest ``k`` reported.
    end : date-like, optional
        Last month observed (default the revenue table's last month, capped at the engine's as-of month).
    include_first_month : bool
        Keep the accounts already paying in the first month.
    dimensions : DataFrame, optional
        ``account_id`` and account dimensions computed outside the engine (e.g. the acquisition channel); a
        small table, put into the engine; accounts it lacks get a missing value.

    Returns
    -------
    DataFrame
        ``[by...,] cohort, months_since_start, accounts, retained, retention``, sorted by group (missing values
        last), cohort and k; only the k at which some account of the cohort is observed.
    """
    if cohort not in PERIOD_UNITS:
        raise ValueError(f"cohort must be one of {', '.join(PERIOD_UNITS)}, got {cohort!r}")
    if kind not in ("logo", "revenue"):
        raise ValueError(f"kind must be 'logo' or 'revenue', got {kind!r}")
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    rev = engine.table("revenue", ["account_id", "month", "mrr"], purpose=_PURPOSE)
    cap = end if end is not None else engine.as_of
    r = rev.select(
        account_id=rev.account_id.cast("string"),
        _month=rev.month.cast("timestamp").truncate("M"),
        _mrr=rev.mrr.cast("float64"),
    )
    bounds = r.aggregate(_first=r._month.min(), _max=r._month.max())
    if cap is not None:
        cap_lit = ibis.literal(_month_start(cap).to_pydatetime(), type="timestamp")
        bounds = bounds.mutate(_last=ibis.ifelse(bounds._max > cap_lit, cap_lit, bounds._max))
    else:
        bounds = bounds.mutate(_last=bounds._max)
    r = r.cross_join(bounds)
    r = r.mutate(_idx=_month_index(r._month, r._first), _last_idx=_month_index(r._last, r._first))
    r = r.filter(r._idx <= r._last_idx)
    # the dense grid's cells that hold a row: MRR per account and month (rows of a month summed)
    cells = r.group_by("account_id", "_month", "_idx", "_last_idx").aggregate(mrr=r._mrr.sum())
    paying = cells.filter(cells.mrr > 0)
    starts = paying.group_by(_start_id=paying.account_id).aggregate(_s=paying._idx.min(), _start=paying._month.min())
    if not include_first_month:
        starts = starts.filter(starts._s > 0)
    starts = starts.mutate(_cohort=starts._start.truncate(PERIOD_UNITS[cohort]))
    for i, part in enumerate(_dimensions(engine, keys, dimensions)):
        dims = {c: part[c] for c in part.columns if c != "account_id"}
        part = part.select(**{f"_dim_id_{i}": part.account_id.cast("string")}, **dims)
        starts = starts.left_join(part, starts._start_id == part[f"_dim_id_{i}"]).drop(f"_dim_id_{i}")
    j = cells.join(starts, cells.account_id == starts._start_id)
    j = j.mutate(_k=j._idx - j._s)
    if max_months is not None:
        j = j.filter(j._k <= int(max_months))
    group = [*keys, "_cohort"]
    # part 0: accounts and their starting MRR per start month; part 1: paying accounts and MRR at k
    first = j.filter(j._k == 0)
    part0 = first.group_by(*group, _i=first._s, _last_idx=first._last_idx).aggregate(
        _n=first.count(), _mrr=first.mrr.sum()
    ).mutate(_part=ibis.literal(0))
    part1 = j.group_by(*group, _i=j._k, _last_idx=j._last_idx).aggregate(
        _n=j.count(where=j.mrr > 0), _mrr=j.mrr.sum()
    ).mutate(_part=ibis.literal(1))
    cols = [*group, "_i", "_last_idx", "_n", "_mrr", "_part"]
    both = part0.select(*cols).union(part1.select(*cols), distinct=False)
    frame = engine.execute(both.order_by([*group, "_part", "_i"]))
    return _retention_table(frame, keys, cohort, kind, max_months)


def _retention_table(
    frame: pd.DataFrame, keys: list[str], cohort: str, kind: str, max_months: int | None
) -> pd.DataFrame:
    r"""The dense "observed at k" counts from the two aggregates, and the retention rates.

    With :math:`n_{g,s}` accounts of group and cohort :math:`g` starting in month :math:`s` (starting MRR
    :math:`b_{g,s}`) and :math:`L` the last month's index, :math:`\text{accounts}_{g,k} = \sum_{s \le L - k}
    n_{g,s}` and the revenue base is :math:`\sum_{s \le L - k} b_{g,s}`; ``retained`` and the MRR at
    :math:`k` come from the second aggregate (months without a row add nothing).
    """
    columns = [*keys, *COHORT_COLUMNS]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = frame.copy()
    frame["cohort"] = period_labels(frame["_cohort"], cohort).to_numpy()
    for k in keys:
        if frame[k].dtype == object:
            frame[k] = frame[k].where(frame[k].notna(), np.nan)
    group = [*keys, "cohort"]
    gid = frame.groupby(group, dropna=False, sort=True).ngroup().to_numpy()
    n_groups = int(gid.max()) + 1
    last = int(frame["_last_idx"].iloc[0])
    horizon = last if max_months is None else min(int(max_months), last)
    i = frame["_i"].to_numpy(np.int64)
    n = frame["_n"].to_numpy(np.int64)
    mrr = frame["_mrr"].to_numpy(float)
    start = frame["_part"].to_numpy() == 0
    by_start = np.zeros((n_groups, last + 1), np.int64)
    base_by_start = np.zeros((n_groups, last + 1))
    np.add.at(by_start, (gid[start], i[start]), n[start])
    np.add.at(base_by_start, (gid[start], i[start]), mrr[start])
    # observed at k: the accounts whose start s has s + k <= last
    ks = np.arange(horizon + 1)
    accounts = np.cumsum(by_start, axis=1)[:, last - ks]
    base = np.cumsum(base_by_start, axis=1)[:, last - ks]
    retained = np.zeros((n_groups, horizon + 1), np.int64)
    mrr_k = np.zeros((n_groups, horizon + 1))
    np.add.at(retained, (gid[~start], i[~start]), n[~start])
    np.add.at(mrr_k, (gid[~start], i[~start]), mrr[~start])
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = retained / accounts if kind == "logo" else mrr_k / base
    g, k = np.nonzero(accounts > 0)
    labels = frame.groupby(gid, sort=True)[group].first()
    out = labels.iloc[g].reset_index(drop=True)
    out["months_since_start"] = ks[k].astype(np.int64)
    out["accounts"] = accounts[g, k].astype(np.int64)
    out["retained"] = retained[g, k].astype(np.int64)
    out["retention"] = rate[g, k].astype(float)
    return out[columns]
