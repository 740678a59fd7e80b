"""Helpers shared by the KPI modules: what a KPI needs from the data, periods, group keys, dimensions.

Not part of the public surface, except :class:`MissingDataError` (a ``ValueError`` whose message names the
missing table or column), which :mod:`salesops.kpi` re-exports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from salesops.io.data import SalesData
from salesops.schema.tables import TABLES

__all__ = [
    "BY_SEGMENT",
    "PERIODS",
    "DefaultBy",
    "MissingDataError",
    "Period",
    "add_dimension",
    "as_day",
    "as_naive_days",
    "cut_at",
    "group_keys",
    "lead_channel",
    "opportunities_with",
    "period_label",
    "require",
    "resolve_by",
    "slug",
    "whole_company_note",
]

Period = Literal["month", "quarter", "year"]
#: ``period=`` values and the pandas period frequency behind them; labels read ``2025-12``, ``2025Q4``, ``2025``.
PERIODS: dict[str, str] = {"month": "M", "quarter": "Q", "year": "Y"}


class MissingDataError(ValueError):
    """The data lack a table or column a KPI needs; the message names it and what it prevents."""


class DefaultBy(str):
    """A grouping used by default: when the data lack it, the KPI covers the whole company and says so.

    A plain string passed by the caller is a request, and its absence an error; this subclass marks the
    function's own default (``by=BY_SEGMENT``), which gives way to "no grouping" with a note in
    ``result.attrs["note"]`` (see :func:`resolve_by`).
    """

    __slots__ = ()


#: The default breakdown of the win-rate, cycle and churn KPIs: the account's (else the owner's) segment.
BY_SEGMENT = DefaultBy("segment")


def whole_company_note(name: str, reason: str) -> str:
    """The sentence a KPI result carries when its default grouping ``name`` fell back to the whole company."""
    return f"Shown for the whole company, not by {name.replace('_', ' ')}: {reason.rstrip('.')}."


def resolve_by(
    data: SalesData, by: str | Sequence[str] | None, *, purpose: str, table: pd.DataFrame | None = None
) -> tuple[str | Sequence[str] | None, str]:
    """``(by, note)``: ``by`` as given, or ``(None, sentence)`` when it is a :class:`DefaultBy` the data lack.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    by : str, list of str or None
        The caller's grouping. Only a :class:`DefaultBy` may fall back; anything else is returned unchanged
        (and raises :class:`MissingDataError` later when absent, as asked).
    purpose : str
        What the grouping is for, in the note.
    table : DataFrame, optional
        The opportunities (default ``data.opportunities``) the dimension is added to.
    """
    if not isinstance(by, DefaultBy):
        return by, ""
    opps = table if table is not None else getattr(data, "opportunities", None)
    if opps is None:
        return by, ""  # the KPI itself will say the table is missing
    try:
        add_dimension(data, opps, str(by), purpose)
    except MissingDataError as err:
        return None, whole_company_note(str(by), str(err))
    return str(by), ""


def require(data: SalesData, table: str, columns: Sequence[str] = (), *, purpose: str) -> pd.DataFrame:
    """``data.<table>``, checked to exist, hold rows and carry ``columns`` with at least one value each.

    Raises
    ------
    MissingDataError
        Naming the table or the column(s) and ``purpose`` (what cannot be computed without them).
    """
    frame = getattr(data, table, None)
    if frame is None:
        raise MissingDataError(f"{purpose} needs the {table} table, which this data does not have.")
    if len(frame) == 0:
        raise MissingDataError(f"{purpose} needs the {table} table, which is empty in this data.")
    spec = TABLES.get(table)
    required = set(spec.required_columns) if spec is not None else set()
    absent = [c for c in columns
              if c not in frame.columns or (c not in required and frame[c].first_valid_index() is None)]
    if absent:
        named = ", ".join(f"{table}.{c}" for c in absent)
        word = "column" if len(absent) == 1 else "columns"
        raise MissingDataError(f"{purpose} needs the {word} {named}, which this data does not have.")
    return frame


def as_day(value: object) -> pd.Timestamp:
    """A date-like (string, date, tz-aware or naive timestamp) as a naive midnight Timestamp (UTC day)."""
    ts = pd.Timestamp(value)  # type: ignore[arg-type]
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()


def as_naive_days(values: pd.Series) -> pd.Series:
    """Dates or tz-aware timestamps as naive midnight datetimes (UTC days)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    elif not pd.api.types.is_datetime64_dtype(values.dtype):
        values = pd.to_datetime(values)
    return values.dt.normalize()


def period_label(dates: pd.Series, period: str) -> pd.Series:
    """The period of each date as text: ``2025-12`` (month), ``2025Q4`` (quarter), ``2025`` (year).

    Raises
    ------
    ValueError
        For a ``period`` other than month, quarter or year.
    """
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)} or None, got {period!r}")
    days = as_naive_days(dates)
    codes, uniques = pd.factorize(days, use_na_sentinel=True)
    labels = np.asarray(pd.DatetimeIndex(uniques).to_period(PERIODS[period]).astype(str), dtype=object)
    out = np.where(codes >= 0, labels[np.clip(codes, 0, None)] if labels.size else None, None)
    return pd.Series(out, index=dates.index, dtype=object)


def group_keys(by: str | Sequence[str] | None, period: str | None) -> list[str]:
    """Group columns of a result: ``by`` (as a list) followed by ``period`` when one is asked for."""
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if period is not None:
        if period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)} or None, got {period!r}")
        keys.append("period")
    return keys


def slug(text: object) -> str:
    """A metric-key fragment: ``Mid-Market`` -> ``mid_market``, ``Inbound Web`` -> ``inbound_web``."""
    out = "".join(ch if ch.isalnum() else "_" for ch in str(text).strip().lower())
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_") or "blank"


# --- dimensions of an opportunity -----------------------------------------------------------------------------

#: Derived dimensions: name -> (table, column) it is read from, joined on the opportunity's account or owner.
_ACCOUNT_DIMS = ("industry", "country")
_REP_DIMS = ("team", "role", "manager_id", "rep_region", "rep_segment")


def _rep_lookup(data: SalesData, column: str, purpose: str) -> pd.Series:
    reps = require(data, "reps", [column], purpose=purpose)
    return reps.drop_duplicates("rep_id").set_index("rep_id")[column]


def _account_lookup(data: SalesData, column: str, purpose: str) -> pd.Series:
    accounts = require(data, "accounts", [column], purpose=purpose)
    return accounts.drop_duplicates("account_id").set_index("account_id")[column]


def lead_channel(data: SalesData, opps: pd.DataFrame, purpose: str) -> pd.Series:
    """Acquisition channel of each opportunity: its lead's ``source`` (``leads.source`` through
    ``opportunities.lead_id``), else the opportunity's own ``source``."""
    channel = pd.Series(None, index=opps.index, dtype=object)
    leads = data.leads
    if leads is not None and "lead_id" in opps.columns and len(leads):
        channel = opps["lead_id"].map(leads.drop_duplicates("lead_id").set_index("lead_id")["source"])
    if "source" in opps.columns:
        channel = channel.fillna(opps["source"])
    if channel.isna().all():
        raise MissingDataError(
            f"{purpose} needs an acquisition channel: opportunities.lead_id with the leads table, or "
            "opportunities.source, which this data does not have."
        )
    return channel


def add_dimension(data: SalesData, opps: pd.DataFrame, name: str, purpose: str) -> pd.DataFrame:
    """``opps`` with column ``name`` added when it is not already there.

    Known names: ``segment`` and ``region`` (the account's, else the owner's), ``industry``, ``country``
    (the account's), ``team``, ``role``, ``manager_id`` (the owner's), ``rep_region``, ``rep_segment``,
    ``rep`` (= ``owner_rep_id``), ``channel`` (see :func:`lead_channel`). Any other name must be a column of
    the opportunities table.
    """
    if name in opps.columns:
        return opps
    opps = opps.copy()
    what = f"{purpose} by {name}"
    if name == "rep":
        opps["rep"] = opps["owner_rep_id"]
    elif name == "channel":
        opps["channel"] = lead_channel(data, opps, what)
    elif name in ("segment", "region"):  # the account's, else the owner's
        value = pd.Series(None, index=opps.index, dtype=object)
        acc, reps = data.accounts, data.reps
        if acc is not None and name in acc.columns and acc[name].notna().any():
            value = opps["account_id"].map(acc.drop_duplicates("account_id").set_index("account_id")[name])
        if reps is not None and name in reps.columns and reps[name].notna().any():
            owner = opps["owner_rep_id"].map(reps.drop_duplicates("rep_id").set_index("rep_id")[name])
            value = value.fillna(owner)
        if value.isna().all():
            raise MissingDataError(f"{what} needs accounts.{name} (or reps.{name}), which this data does not have.")
        opps[name] = value
    elif name in _ACCOUNT_DIMS:
        opps[name] = opps["account_id"].map(_account_lookup(data, name, what))
    elif name in _REP_DIMS:
        column = name.removeprefix("rep_") if name.startswith("rep_") else name
        opps[name] = opps["owner_rep_id"].map(_rep_lookup(data, column, what))
    else:
        raise MissingDataError(f"{what} needs the column opportunities.{name}, which this data does not have.")
    return opps


def opportunities_with(data: SalesData, dims: Iterable[str], *, purpose: str) -> pd.DataFrame:
    """The opportunities table with the dimensions ``dims`` added (see :func:`add_dimension`)."""
    opps = require(data, "opportunities", purpose=purpose)
    for name in dims:
        if name != "period":
            opps = add_dimension(data, opps, name, purpose)
    return opps


def cut_at(opps: pd.DataFrame, as_of: object | None) -> pd.DataFrame:
    """Opportunities as they stood at the end of day ``as_of``: those created later are dropped, and deals
    closed after it are open again (``is_closed`` and ``is_won`` False). ``None`` keeps the table as it is."""
    if as_of is None:
        return opps
    day = as_day(as_of)
    out = opps[as_naive_days(opps["created_date"]) <= day].copy()
    later = out["is_closed"].astype(bool) & (as_naive_days(out["close_date"]) > day)
    out["is_closed"] = out["is_closed"].astype(bool) & ~later
    out["is_won"] = out["is_won"].astype(bool) & ~later
    return out
