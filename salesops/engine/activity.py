"""Activity aggregations on the engine: how many calls, emails and meetings, per rep, key and period.

The activities table is the biggest a CRM keeps (hundreds of millions of rows at a large organisation), so
it is only ever counted where it lives: :func:`activity_counts` groups it by the activities table's own keys
and a calendar period inside a window of UTC days, and returns one row per group that holds activities.
Rep attributes (role, team, ...) and working days are joined on afterwards, on the small aggregate, by
:func:`salesops.kpi.activity.activity_per_working_day`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import numpy as np
import pandas as pd

from salesops.engine.backend import Engine, EngineError, naive_utc

__all__ = ["ACTIVITY_COLUMNS", "PERIOD_UNITS", "activity_counts", "activity_window", "daily_activity"]

#: Keys :func:`activity_counts` groups by: the rep key and the activity keys of the activities table.
ACTIVITY_COLUMNS = ("rep_id", "type", "direction", "outcome")
#: ``period=`` values and the Ibis truncation unit behind each (weeks start on Monday, ISO).
PERIOD_UNITS: dict[str, str] = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
_PURPOSE = "activity counts"


def _keys(by: str | Sequence[str] | None) -> list[str]:
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    unknown = [k for k in keys if k not in ACTIVITY_COLUMNS]
    if unknown:
        raise EngineError(
            f"activity counts group by columns of the activities table ({', '.join(ACTIVITY_COLUMNS)}); "
            f"got {unknown} (rep attributes such as role or team are joined on the counts by "
            "salesops.kpi.activity_per_working_day)"
        )
    if len(set(keys)) != len(keys):
        raise EngineError(f"activity counts: a key is repeated in by={keys}")
    return keys


def _day(value: Any) -> pd.Timestamp:
    """A date-like as the naive midnight of its UTC day (a tz-aware moment is converted to UTC first)."""
    return naive_utc(value).normalize()


def activity_counts(
    engine: Engine,
    by: str | Sequence[str] | None = ("rep_id",),
    period: str | None = None,
    *,
    start: Any = None,
    end: Any = None,
    types: Sequence[str] | None = None,
    rep_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""Number of activities per group (keys of the activities table, and calendar period), counted in the engine.

    For a group :math:`g` (values of the ``by`` keys) and period :math:`p`,

    .. math::

        A_{g,p} = \#\{a \in \text{activities} : \text{key}(a) = g,\;
        \text{day}(a) \in p \cap [\text{start}, \text{end}],\; \text{type}(a) \in T,\; \text{rep}(a) \in R\}

    where :math:`\text{day}(a)` is the UTC calendar day of ``occurred_at``, :math:`T` the ``types`` and
    :math:`R` the ``rep_ids`` (every type and rep when None). A missing key value (e.g. an activity without a
    ``direction``) is a group of its own, never dropped. Only groups with :math:`A_{g,p} \ge 1` are
    returned; :math:`\sum_{g,p} A_{g,p}` is the number of activities in the window that pass the filters.

    Parameters
    ----------
    engine : Engine
        Needs ``activities`` (``occurred_at`` and the ``by`` columns; ``type`` with ``types``, ``rep_id`` with
        ``rep_ids``).
    by : str, list of str or None
        Keys among ``rep_id``, ``type``, ``direction``, ``outcome`` (None or ``()``: no split).
    period : {"day", "week", "month", "quarter", "year"} or None
        Split by calendar period too: column ``period_start``, the period's first day (weeks start on Monday).
    start, end : date-like, optional
        The window of UTC days, both inclusive (a tz-aware moment counts as its UTC day); default unbounded.
    types : list of str, optional
        Activity types counted.
    rep_ids : list of str, optional
        Reps counted.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``period_start`` (naive midnight ``datetime64[ns]``) when a period is asked for,
        and ``activities`` (int64); sorted by the keys (missing values last).

    Raises
    ------
    EngineError
        For an unknown key, period, a table or column missing from the engine (named), or ``start > end``.
    """
    keys = _keys(by)
    if period is not None and period not in PERIOD_UNITS:
        raise EngineError(f"period must be one of {', '.join(PERIOD_UNITS)} or None, got {period!r}")
    needed = ["occurred_at", *keys]
    needed += [c for c, given in (("type", types), ("rep_id", rep_ids)) if given is not None and c not in needed]
    t = engine.table("activities", needed, purpose=_PURPOSE)
    lo = _day(start) if start is not None else None
    hi = _day(end) if end is not None else None
    if lo is not None and hi is not None and hi < lo:
        raise EngineError(f"activity counts: the window starts on {lo.date()}, after its end {hi.date()}")

    conditions = []
    if lo is not None:
        conditions.append(t.occurred_at >= ibis.literal(lo.to_pydatetime(), type="timestamp"))
    if hi is not None:  # up to the end of the last day
        after = (hi + pd.Timedelta(days=1)).to_pydatetime()
        conditions.append(t.occurred_at < ibis.literal(after, type="timestamp"))
    if types is not None:
        conditions.append(t.type.isin(list(types)) if len(types) else ibis.literal(False))
    if rep_ids is not None:
        conditions.append(t.rep_id.isin(list(rep_ids)) if len(rep_ids) else ibis.literal(False))
    if conditions:
        t = t.filter(*conditions)

    groups = {k: t[k] for k in keys}
    if period == "day":
        groups["period_start"] = t.occurred_at.date()
    elif period is not None:
        groups["period_start"] = t.occurred_at.truncate(PERIOD_UNITS[period]).date()
    expr = t.group_by(**groups).aggregate(activities=t.count()) if groups else t.aggregate(activities=t.count())
    frame = engine.execute(expr)

    out_cols = [*groups, "activities"]
    frame = frame[out_cols] if len(frame.columns) else pd.DataFrame(columns=out_cols)
    if "period_start" in frame.columns:
        frame["period_start"] = pd.to_datetime(frame["period_start"]).astype("datetime64[ns]")
    frame["activities"] = frame["activities"].astype(np.int64)
    for k in keys:  # missing values read the same from every backend
        frame[k] = frame[k].astype(object).where(frame[k].notna(), None)
    order = list(groups)
    if order:
        frame = frame.sort_values(order, na_position="last", kind="stable")
    return frame.reset_index(drop=True)


def daily_activity(
    engine: Engine,
    by: str | Sequence[str] | None = ("rep_id", "type"),
    *,
    start: Any = None,
    end: Any = None,
    types: Sequence[str] | None = None,
    rep_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""Activities per rep (and type) per calendar day: the raw "calls and emails per rep per day" table.

    :math:`A_{g,d}` of :func:`activity_counts` with ``period="day"``: the number of activities of group
    :math:`g` whose ``occurred_at`` falls on UTC day :math:`d`; days without activity have no row.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``day`` (naive midnight) and ``activities``, sorted by the keys.
    """
    counts = activity_counts(engine, by, "day", start=start, end=end, types=types, rep_ids=rep_ids)
    return counts.rename(columns={"period_start": "day"})


def activity_window(engine: Engine) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    r"""First and last activity day (UTC), in one query.

    :math:`(\min_a \text{day}(a), \max_a \text{day}(a))` over every row of the activities table, as naive
    midnight Timestamps; ``(None, None)`` when the table holds no row.

    Raises
    ------
    EngineError
        When the engine has no activities table (or no ``occurred_at``).
    """
    t = engine.table("activities", ["occurred_at"], purpose="the activity window")
    row = engine.execute(t.aggregate(first=t.occurred_at.min(), last=t.occurred_at.max())).iloc[0]
    first, last = row["first"], row["last"]
    if pd.isna(first) or pd.isna(last):
        return None, None
    return _day(first), _day(last)
