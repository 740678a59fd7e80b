"""Activity: calls, emails and meetings per rep per working day.

A rep's working days are the Monday-to-Friday days, minus holidays (:mod:`salesops.kpi.calendar`), on which
the rep was employed (``reps.hire_date`` to ``reps.end_date``) inside the window the activity data covers;
a rep hired or leaving inside a period counts only the working days employed there (pro-rating).

The activities themselves are counted where they live (:func:`salesops.engine.activity.activity_counts`, on
embedded DuckDB for a SalesData, or on the Engine given: Parquet files out of core, Spark, a warehouse); the
working-day denominators (reps x periods) and the rates are worked out here on that small aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from salesops.engine.activity import activity_counts, activity_window
from salesops.engine.backend import Engine, engine_for
from salesops.io.data import SalesData
from salesops.kpi._common import PERIODS, MissingDataError, as_day, as_naive_days, group_keys, require
from salesops.kpi.calendar import Holidays, count_working_days, working_days
from salesops.schema.tables import TABLES

__all__ = ["ACTIVITY_KEYS", "REP_KEYS", "activity_distribution", "activity_per_working_day"]

#: Grouping keys read from the reps table (``rep`` is an alias of ``rep_id``).
REP_KEYS = ("rep_id", "rep", "role", "team", "segment", "region", "manager_id", "name")
#: Grouping keys read from the activities table.
ACTIVITY_KEYS = ("type", "direction", "outcome")
_PURPOSE = "Activity per rep per working day"


def _require_activities(data: SalesData | Engine, columns: Sequence[str]) -> None:
    """The checks of :func:`~salesops.kpi._common.require` on the activities table, wherever it lives: a
    SalesData's frame, or an engine's table (its schema; values of optional columns counted in one query)."""
    if not isinstance(data, Engine):
        require(data, "activities", columns, purpose=_PURPOSE)
        return
    if not data.has("activities"):
        raise MissingDataError(f"{_PURPOSE} needs the activities table, which this data does not have.")
    t = data.table("activities")
    absent = [c for c in columns if c not in t.columns]
    required = set(TABLES["activities"].required_columns)
    optional = [c for c in columns if c in t.columns and c not in required]
    if optional:
        filled = data.execute(t.aggregate(**{c: t[c].count() for c in optional})).iloc[0]
        absent += [c for c in optional if int(filled[c]) == 0]
    if absent:
        named = ", ".join(f"activities.{c}" for c in absent)
        word = "column" if len(absent) == 1 else "columns"
        raise MissingDataError(f"{_PURPOSE} needs the {word} {named}, which this data does not have.")


def _reps(data: SalesData | Engine, columns: Sequence[str]) -> pd.DataFrame:
    """The reps table (small: read whole from an engine), checked as :func:`require` does."""
    if isinstance(data, Engine):
        frame = data.to_pandas("reps") if data.has("reps") else None
        return require(SimpleNamespace(reps=frame), "reps", columns, purpose=_PURPOSE)  # type: ignore[arg-type]
    return require(data, "reps", columns, purpose=_PURPOSE)


def _window(engine: Engine, start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    first, last = activity_window(engine)
    if first is None or last is None:
        raise MissingDataError(f"{_PURPOSE} needs the activities table, which is empty in this data.")
    lo = as_day(start) if start is not None else first
    if end is not None:
        hi = as_day(end)
    elif engine.as_of is not None:
        hi = as_day(engine.as_of)
    else:
        hi = last
    if hi < lo:
        raise MissingDataError(f"{_PURPOSE} needs activities between {lo.date()} and {hi.date()}, and the "
                               "activities table holds none there.")
    return lo, hi


def activity_per_working_day(
    data: SalesData | Engine,
    by: str | Sequence[str] | None = "role",
    period: str | None = None,
    *,
    roles: Sequence[str] | None = ("AE", "SDR", "AM"),
    types: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    holidays: Holidays = None,
) -> pd.DataFrame:
    r"""Activities per rep per working day, by rep attributes, activity attributes and period.

    For a group :math:`g` of reps (and period),

    .. math::

        \text{per\_day}_g = \frac{\sum_{r \in g} A_r}{\sum_{r \in g} W_r}

    where :math:`A_r` counts rep :math:`r`'s activities inside the window (and period) and :math:`W_r` the
    working days (Mon-Fri, not a holiday) on which the rep was employed there: from
    :math:`\max(\text{hire\_date}, \text{period start}, \text{window start})` to
    :math:`\min(\text{end\_date}, \text{period end}, \text{window end})`. A missing hire or end date counts as
    employed throughout. With ``by="rep_id"`` and a ``period`` each row is one rep-period: the distribution
    :func:`activity_distribution` summarises.

    Parameters
    ----------
    data : SalesData or Engine
        Needs ``activities`` (rep_id, occurred_at, type) and ``reps`` (rep_id, role; hire_date and end_date
        when present). The activities are counted in the engine (:func:`salesops.engine.activity.activity_counts`:
        a SalesData's frame in embedded DuckDB, or any :class:`~salesops.engine.Engine` given, e.g. over
        Parquet files or Spark); only the counts per rep, period and activity key reach pandas.
    by : str, list of str or None
        Rep keys (``rep_id``/``rep``, ``role``, ``team``, ``segment``, ``region``, ``manager_id``, ``name``)
        and/or activity keys (``type``, ``direction``, ``outcome``). Activity keys split the numerator only:
        each type's rate is over the same working days.
    period : {"month", "quarter", "year"} or None
        Split by calendar period too (column ``period``).
    roles : list of str or None
        Reps counted (default AE, SDR, AM: managers are left out); None for every rep.
    types : list of str or None
        Activity types counted (default all).
    start, end : date-like, optional
        The window; default from the first activity day to the data's as-of day (else the last activity day).
    holidays : None, calendar or list of dates
        Holiday calendar (default US federal holidays), see :func:`salesops.kpi.calendar.holiday_dates`.

    Returns
    -------
    DataFrame
        One row per group: the keys, ``reps`` (reps with at least one working day), ``working_days``,
        ``activities`` and ``per_day`` (NaN where there is no working day).

    Raises
    ------
    ValueError
        When ``activities`` or ``reps`` (or a column a key needs) is missing, naming it.
    """
    _require_activities(data, ["rep_id", "occurred_at"])
    need_rep_cols = ["role"] if roles is not None else []
    keys = group_keys(by, None)
    rep_keys = [k for k in keys if k in REP_KEYS]
    act_keys = [k for k in keys if k in ACTIVITY_KEYS]
    unknown = [k for k in keys if k not in REP_KEYS and k not in ACTIVITY_KEYS]
    if unknown:
        raise ValueError(f"cannot group activity by {unknown}; use rep keys {REP_KEYS} or activity keys {ACTIVITY_KEYS}")
    reps = _reps(data, need_rep_cols + [k for k in rep_keys if k not in ("rep", "rep_id")]).drop_duplicates("rep_id")
    if act_keys or types is not None:
        _require_activities(data, act_keys + (["type"] if types is not None else []))
    if roles is not None:
        reps = reps[reps["role"].isin(list(roles))]
    if reps.empty:
        raise MissingDataError(f"{_PURPOSE} needs reps of the roles {list(roles or [])}, and the reps table has none.")
    reps = reps.assign(rep=reps["rep_id"])
    engine = engine_for(data, tables=["activities"])
    lo, hi = _window(engine, start, end)
    calendar = working_days(lo, hi, holidays)

    # working days of each rep (and period): employment span clipped to the window (and the period)
    hire = as_naive_days(reps["hire_date"]) if "hire_date" in reps.columns else pd.Series(pd.NaT, index=reps.index)
    leave = as_naive_days(reps["end_date"]) if "end_date" in reps.columns else pd.Series(pd.NaT, index=reps.index)
    rep_lo = hire.fillna(lo).clip(lower=lo).to_numpy()
    rep_hi = leave.fillna(hi).clip(upper=hi).to_numpy()
    if period is not None:
        group_keys(None, period)  # checks the name
        periods = pd.period_range(lo, hi, freq=PERIODS[period])
        p_lo = periods.start_time.normalize().to_numpy()
        p_hi = periods.end_time.normalize().to_numpy()
        labels = list(periods.astype(str))
    else:
        p_lo, p_hi, labels = np.array([lo.to_datetime64()]), np.array([hi.to_datetime64()]), ["all"]
    span_lo = np.maximum(rep_lo[:, None], p_lo[None, :])
    span_hi = np.minimum(rep_hi[:, None], p_hi[None, :])
    days = count_working_days(span_lo.ravel(), span_hi.ravel(), calendar).reshape(span_lo.shape)

    # activities counted in the engine per rep x period x activity key; laid out here on integer codes
    found = activity_counts(engine, ("rep_id", *act_keys), period, start=lo, end=hi, types=types)
    rep_code = pd.Index(reps["rep_id"]).get_indexer(found["rep_id"])
    found, rep_code = found[rep_code >= 0], rep_code[rep_code >= 0]  # activities of reps not counted (roles)
    codes = [rep_code]
    if period is not None:
        period_code = pd.Index(p_lo).get_indexer(found["period_start"].to_numpy())
        if (period_code < 0).any():
            stray = found.loc[period_code < 0, "period_start"].iloc[0]
            raise RuntimeError(f"activity counts came back for a {period} starting {stray.date()}, outside the "
                               f"window {lo.date()}..{hi.date()} (engine {engine.backend_name})")
        codes.append(period_code)
    else:
        codes.append(np.zeros(len(found), dtype=np.int64))
    levels = []
    for k in act_keys:
        code, uniques = pd.factorize(found[k].to_numpy(), use_na_sentinel=False)
        codes.append(code)
        levels.append(list(uniques))
    shape = (len(reps), len(labels), *(len(u) for u in levels))
    counts = np.bincount(np.ravel_multi_index(codes, shape), weights=found["activities"].to_numpy(dtype=np.float64),
                         minlength=int(np.prod(shape))).reshape(shape)
    index = pd.MultiIndex.from_product([list(reps["rep_id"]), labels, *levels], names=["rep_id", "period", *act_keys])
    table = pd.DataFrame({
        "working_days": np.broadcast_to(days.reshape(days.shape + (1,) * len(levels)), shape).ravel(),
        "activities": np.rint(counts.ravel()).astype(np.int64),
    }, index=index).reset_index()
    if period is None:
        table = table.drop(columns="period")
    attrs = [k for k in rep_keys if k != "rep_id"]
    if attrs:
        table = table.merge(reps[["rep_id", *attrs]], on="rep_id", how="left")
    out_keys = group_keys(by, period)
    if not out_keys:
        table = table.assign(_all="all")
        out_keys = ["_all"]
    worked = table["working_days"] > 0
    grouped = table.assign(_rep=table["rep_id"].where(worked)).groupby(out_keys, dropna=False, observed=True, sort=True)
    result = grouped.agg(reps=("_rep", "nunique"), working_days=("working_days", "sum"), activities=("activities", "sum"))
    result = result.reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        result["per_day"] = np.where(result["working_days"] > 0, result["activities"] / result["working_days"], np.nan)
    if "_all" in result.columns:
        result = result.drop(columns="_all")
    result.attrs.update(window=(lo, hi), working_days_in_window=int(len(calendar)))
    return result


def activity_distribution(per_rep: pd.DataFrame, by: str | Sequence[str] | None = "role", min_days: int = 5) -> pd.DataFrame:
    r"""Spread of activity per working day across reps (or rep-periods), per group.

    Summarises the rows of :func:`activity_per_working_day` with ``by`` including ``rep_id`` (one row per
    rep or rep-period) that have at least ``min_days`` working days:
    count, mean, quantiles :math:`q_{0.10}, q_{0.25}, q_{0.50}, q_{0.75}, q_{0.90}` (linear interpolation) of
    ``per_day``, and the pooled rate :math:`\sum A / \sum W`.

    Parameters
    ----------
    per_rep : DataFrame
        Output of :func:`activity_per_working_day` with ``rep_id`` and the ``by`` columns among its keys.
    by : str, list of str or None
        Groups to summarise within.
    min_days : int
        Rows with fewer working days are left out (a rep who joined on the period's last day).

    Returns
    -------
    DataFrame
        One row per group: ``rows, mean, p10, p25, median, p75, p90, pooled``.
    """
    keys = group_keys(by, None)
    missing = [k for k in [*keys, "per_day", "working_days", "activities"] if k not in per_rep.columns]
    if missing:
        raise ValueError(f"per_rep lacks column(s) {missing}; pass activity_per_working_day(..., by=['rep_id', ...])")
    rows = per_rep[per_rep["working_days"] >= min_days]
    if not keys:
        rows = rows.assign(_all="all")
        keys = ["_all"]
    g = rows.groupby(keys, dropna=False, observed=True, sort=True)
    out = g["per_day"].agg(
        rows="size",
        mean="mean",
        p10=lambda s: s.quantile(0.10),
        p25=lambda s: s.quantile(0.25),
        median="median",
        p75=lambda s: s.quantile(0.75),
        p90=lambda s: s.quantile(0.90),
    )
    out["pooled"] = g["activities"].sum() / g["working_days"].sum()
    out = out.reset_index()
    return out.drop(columns="_all") if "_all" in out.columns else out
