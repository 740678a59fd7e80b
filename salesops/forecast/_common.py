"""Shared helpers of the forecast area: checks that name what is missing, quarter moments, group keys."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from salesops.io.data import SalesData
from salesops.periods import Quarter, parse_quarter

#: Offsets (days after the quarter's first day, at 00:00 UTC) of the standard as-of points.
AS_OF_POINTS: dict[str, int] = {"day 1": 0, "week 4": 28, "week 8": 56}
#: Group columns a forecast can be split by.
GROUP_COLUMNS = ("owner_rep_id", "team", "manager_id", "segment", "source", "type")


class MissingDataError(ValueError):
    """The data lack a table or column a forecast needs; the message names it."""


class InsufficientHistoryError(ValueError):
    """Too little history for a model; the message says how much is needed and how much there is."""


def require(data: SalesData, table: str, columns: Sequence[str] = (), *, purpose: str) -> pd.DataFrame:
    """``data.<table>``, checked to exist, hold rows and carry ``columns``.

    Raises
    ------
    MissingDataError
        Naming the table or column(s) and what cannot be computed without them.
    """
    frame = getattr(data, table, None)
    if frame is None or len(frame) == 0:
        raise MissingDataError(f"{purpose} needs the {table} table, which this data does not have (or is empty).")
    absent = [c for c in columns if c not in frame.columns or frame[c].isna().all()]
    if absent:
        named = ", ".join(f"{table}.{c}" for c in absent)
        raise MissingDataError(f"{purpose} needs {named}, which this data does not have.")
    return frame


def as_utc(value: object) -> pd.Timestamp:
    """A date-like as a tz-aware UTC timestamp (a bare date means its 00:00 UTC)."""
    ts = pd.Timestamp(value)  # type: ignore[arg-type]
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.as_unit("ns")


def as_quarter(quarter: Quarter | str) -> Quarter:
    """A :class:`Quarter` from itself or ``YYYYQn``."""
    return quarter if isinstance(quarter, Quarter) else parse_quarter(str(quarter))


def quarter_start(q: Quarter) -> pd.Timestamp:
    """00:00 UTC of the quarter's first day."""
    return pd.Timestamp(q.start, tz="UTC").as_unit("ns")


def quarter_end(q: Quarter) -> pd.Timestamp:
    """The last instant of the quarter (1 microsecond before the next quarter starts, the finest resolution CRM
    exports carry), UTC."""
    return pd.Timestamp(q.next().start, tz="UTC").as_unit("ns") - pd.Timedelta(1, "us")


def as_of_point(q: Quarter, offset_days: int) -> pd.Timestamp:
    """``offset_days`` after 00:00 UTC of the quarter's first day."""
    return quarter_start(q) + pd.Timedelta(days=int(offset_days))


def group_list(by: str | Sequence[str] | None) -> list[str]:
    """``by`` as a list of known group columns.

    Raises
    ------
    ValueError
        For a column the forecast cannot split by.
    """
    cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    aliases = {"rep": "owner_rep_id", "manager": "manager_id"}
    cols = [aliases.get(c, c) for c in cols]
    bad = [c for c in cols if c not in GROUP_COLUMNS]
    if bad:
        raise ValueError(f"cannot group a forecast by {bad}; choose among {', '.join(GROUP_COLUMNS)}")
    return cols

