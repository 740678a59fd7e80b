"""What the people and experiments analyses share: their two errors, table checks, and the data as known at a cutoff.

Two kinds of "cannot answer":

* :class:`MissingData` — a table or column the analysis needs is absent from the export; the message names it.
* :class:`NotEnoughData` — the tables are there but hold too little for an estimate (too few control reps, too
  short a pre-period); the message says what is missing, in numbers.

Both are :class:`ValueError`. The ``*_study`` functions catch them and return a result whose ``message`` says
what is missing instead of a number, so a notebook page still renders.

Evaluating the past must not use the future: :func:`known_at` cuts the tables back to what a CRM export
taken at the cutoff would have shown (deals closed later are still open then, leads that qualify later have not
qualified yet, reps who leave later are still employed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pandas as pd

from salesops.periods import parse_as_of, parse_quarter

__all__ = [
    "MissingData",
    "NotEnoughData",
    "attempt",
    "cutoff_of",
    "data_start",
    "known_at",
    "require_columns",
    "require_table",
]


class MissingData(ValueError):
    """A table or column the analysis needs is not in the data; the message names it."""


class NotEnoughData(ValueError):
    """The data hold too little for an estimate; the message says what is missing."""


def require_table(data: Any, name: str, columns: Iterable[str] = (), purpose: str = "") -> pd.DataFrame:
    """The table ``name`` of a :class:`~salesops.io.SalesData` (or a dict of tables), checked for ``columns``.

    Raises
    ------
    MissingData
        When the table is absent or empty, or lacks a column, naming the table, the columns and ``purpose``.
    """
    tables = data.tables if hasattr(data, "tables") else data
    frame = tables.get(name) if isinstance(tables, dict) else None
    why = f" ({purpose})" if purpose else ""
    if frame is None:
        cols = ", ".join(columns)
        article = "an" if name[:1] in "aeiou" else "a"
        raise MissingData(f"the data have no `{name}` table{why}; it needs {article} `{name}` table with {cols}")
    if len(frame) == 0:
        raise MissingData(f"the `{name}` table is empty{why}")
    return require_columns(frame, columns, name, purpose)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], table: str, purpose: str = "") -> pd.DataFrame:
    """``frame`` itself, after checking it has every column of ``columns`` with at least one value.

    Raises
    ------
    MissingData
        Naming the table and every missing (or entirely empty) column.
    """
    missing = [c for c in columns if c not in frame.columns]
    empty = [c for c in columns if c in frame.columns and len(frame) and frame[c].isna().all()]
    if missing or empty:
        parts = []
        if missing:
            parts.append(f"lacks column(s) {', '.join(f'`{c}`' for c in missing)}")
        if empty:
            parts.append(f"has no value in column(s) {', '.join(f'`{c}`' for c in empty)}")
        why = f" ({purpose})" if purpose else ""
        raise MissingData(f"the `{table}` table {' and '.join(parts)}{why}")
    return frame


def cutoff_of(quarter: str | None = None, as_of: Any = None) -> pd.Timestamp | None:
    """The last moment an analysis may look at: the end of ``quarter`` or ``as_of``, whichever is earlier.

    Parameters
    ----------
    quarter : str, optional
        ``YYYYQn``; its last day, 23:59:59.999999 UTC.
    as_of : str or Timestamp, optional
        A moment (a date alone means the end of that day, UTC).

    Returns
    -------
    Timestamp (UTC) or None
        None when neither is given (no cutoff).
    """
    ends = []
    if quarter:
        q = parse_quarter(quarter)
        ends.append(pd.Timestamp(q.end, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1))
    if as_of is not None and str(as_of).strip():
        ts = pd.Timestamp(as_of) if isinstance(as_of, pd.Timestamp) else parse_as_of(str(as_of))
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        if isinstance(as_of, str) and len(as_of.strip()) == 10:
            ts = ts + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
        ends.append(ts)
    return min(ends) if ends else None


def _day(cutoff: pd.Timestamp) -> pd.Timestamp:
    """The calendar day (naive midnight) of a UTC cutoff: dates on or before it are known."""
    return cutoff.tz_convert("UTC").tz_localize(None).normalize()


def known_at(tables: Any, cutoff: pd.Timestamp | None, only: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """The tables as an export taken at ``cutoff`` would have shown them.

    * ``opportunities``: created on or before the cutoff day; a deal that closes after it is open
      (``is_closed`` and ``is_won`` False, and a closed ``stage`` blank).
    * ``opportunity_history``, ``activities``: rows on or before the cutoff.
    * ``leads``: created on or before the cutoff; milestones (``mql_at``, ``sql_at``, ``disqualified_at``,
      ``first_touch_at``) after it are blank, and so is ``opportunity_id`` of a lead whose deal is not yet created.
    * ``reps``: hired on or before the cutoff day; an ``end_date`` after it is blank (still employed).
    * ``trainings``, ``events``: starting on or before the cutoff day.
    * dated monthly tables (``marketing_spend``, ``sales_costs``, ``revenue``, ``quotas``): months or periods
      starting on or before the cutoff day.

    Parameters
    ----------
    tables : SalesData or dict of DataFrame
    cutoff : Timestamp (UTC) or None
        None returns the tables unchanged.
    only : iterable of str, optional
        Return (and cut) only these tables: a large table the analysis does not need is not copied.

    Returns
    -------
    dict of DataFrame
        The cut tables (absent tables stay absent).
    """
    full = dict(tables.tables if hasattr(tables, "tables") else tables)
    src = full
    if only is not None:
        keep = set(only)
        src = {k: v for k, v in src.items() if k in keep}
    if cutoff is None:
        return src
    day = _day(cutoff)
    out: dict[str, pd.DataFrame] = {}
    for name, frame in src.items():
        if frame is None:
            continue
        f = frame
        if name == "opportunities":
            f = f[f["created_date"] <= day].copy()
            late = f["close_date"] > day
            if "stage" in f.columns:  # a deal closed after the cutoff was open then, at a stage not recorded here
                f.loc[late & f["is_closed"].astype(bool), "stage"] = None
            f.loc[late, "is_closed"] = False
            f.loc[late, "is_won"] = False
        elif name == "opportunity_history":
            f = f[f["changed_at"] <= cutoff]
        elif name == "activities":
            f = f[f["occurred_at"] <= cutoff]
        elif name == "leads":
            f = f[f["created_at"] <= cutoff].copy()
            for col in ("first_touch_at", "mql_at", "sql_at", "disqualified_at"):
                if col in f.columns:
                    f.loc[f[col] > cutoff, col] = pd.NaT
            opps = full.get("opportunities")
            if "opportunity_id" in f.columns and opps is not None:
                known = set(opps.loc[opps["created_date"] <= day, "opportunity_id"])
                f.loc[~f["opportunity_id"].isin(known), "opportunity_id"] = None
        elif name == "reps":
            if "hire_date" in f.columns:
                f = f[f["hire_date"].isna() | (f["hire_date"] <= day)].copy()
            if "end_date" in f.columns:
                f = f.copy()
                f.loc[f["end_date"] > day, "end_date"] = pd.NaT
        elif name == "trainings":
            f = f[f["start_date"] <= day]
        elif name == "events":
            f = f[f["date"] <= day]
        elif name in ("marketing_spend", "sales_costs", "revenue"):
            f = f[f["month"] <= day]
        elif name == "quotas":
            f = f[f["period_start"] <= day]
        elif name == "transactions":
            f = f[f["date"] <= day]
        out[name] = f
    return out


def data_start(tables: Any) -> pd.Timestamp:
    """First day the export records deals completely: the earliest close date of a closed opportunity.

    Deals created before it are in the data only when they were still open then (a biased sample: the quick
    wins and losses of that time are missing), and reps hired before it have early months nobody can see.
    """
    src = tables.tables if hasattr(tables, "tables") else tables
    opps = require_table(src, "opportunities", ["created_date", "close_date", "is_closed"])
    closed = opps.loc[opps["is_closed"].astype(bool), "close_date"]
    return pd.Timestamp((closed if len(closed) else opps["created_date"]).min()).normalize()


T = TypeVar("T")


def attempt(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T | None, str]:
    """``(fn(*args, **kwargs), "")``, or ``(None, message)`` when it raises :class:`MissingData` or
    :class:`NotEnoughData`: for a notebook page that shows what is missing instead of failing. Other errors
    (bugs, bad arguments) propagate.
    """
    try:
        return fn(*args, **kwargs), ""
    except (MissingData, NotEnoughData) as exc:
        return None, str(exc)
