"""Calendar quarters: parse ``2025Q4``, find its bounds, and pick the latest complete one.

A quarter is written ``YYYYQn`` (``n`` in 1..4), the form the command line and the notebooks' ``quarter``
parameter use. Bounds are calendar dates: ``2025Q4`` runs from 2025-10-01 to 2025-12-31 inclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

__all__ = [
    "COMPLETE_SLACK_DAYS",
    "Quarter",
    "QuarterError",
    "as_moment",
    "day_end",
    "latest_complete_quarter",
    "parse_as_of",
    "parse_quarter",
    "quarter_of",
]

_QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")

#: A quarter counts as complete when the data reaches within this many days of its last day: exports are
#: taken on working days, and the last days of December or of a quarter often carry no record at all.
COMPLETE_SLACK_DAYS = 7


class QuarterError(ValueError):
    """A quarter string that is not of the form ``YYYYQn``."""


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter.

    Parameters
    ----------
    year : int
        Calendar year.
    q : int
        Quarter number, 1 to 4.
    """

    year: int
    q: int

    def __post_init__(self) -> None:
        if not 1 <= self.q <= 4:
            raise QuarterError(f"quarter number must be 1 to 4, got {self.q}")

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def start(self) -> date:
        """First day of the quarter."""
        return date(self.year, 3 * (self.q - 1) + 1, 1)

    @property
    def end(self) -> date:
        """Last day of the quarter (inclusive)."""
        return self.next().start - timedelta(days=1)

    def next(self) -> Quarter:
        """The following quarter."""
        return Quarter(self.year + 1, 1) if self.q == 4 else Quarter(self.year, self.q + 1)

    def previous(self) -> Quarter:
        """The preceding quarter."""
        return Quarter(self.year - 1, 4) if self.q == 1 else Quarter(self.year, self.q - 1)

    def contains(self, day: date | pd.Timestamp) -> bool:
        """Whether ``day`` falls inside the quarter."""
        d = _as_date(day)
        return self.start <= d <= self.end


def parse_quarter(text: str) -> Quarter:
    """Parse ``YYYYQn`` (case-insensitive, surrounding blanks ignored).

    Raises
    ------
    QuarterError
        When ``text`` is not of that form, with the expected form in the message.
    """
    m = _QUARTER_RE.match(str(text).strip().upper())
    if m is None:
        raise QuarterError(f"quarter {text!r} is not of the form YYYYQn (for example 2025Q4)")
    return Quarter(int(m.group(1)), int(m.group(2)))


def quarter_of(day: date | pd.Timestamp) -> Quarter:
    """The quarter that contains ``day``."""
    d = _as_date(day)
    return Quarter(d.year, (d.month - 1) // 3 + 1)


def latest_complete_quarter(last_day: date | pd.Timestamp, slack_days: int = COMPLETE_SLACK_DAYS) -> Quarter:
    """The latest quarter that the data, reaching ``last_day``, covers to its end.

    Parameters
    ----------
    last_day : date or Timestamp
        The latest day the data records something on.
    slack_days : int
        The data may stop this many days before the quarter's last day and still count as complete.

    Returns
    -------
    Quarter
    """
    d = _as_date(last_day)
    current = quarter_of(d)
    if (current.end - d).days <= slack_days:
        return current
    return current.previous()


def _as_date(day: date | pd.Timestamp) -> date:
    if isinstance(day, pd.Timestamp):
        return day.date()
    if isinstance(day, date):
        return day.date() if hasattr(day, "hour") else day  # datetime is a date subclass
    raise TypeError(f"expected a date or Timestamp, got {type(day).__name__}")


def parse_as_of(text: str | None) -> pd.Timestamp | None:
    """An as-of parameter (``""`` or None for "the loader's default", else an ISO date or moment) as a
    timezone-aware UTC timestamp.

    Raises
    ------
    ValueError
        When ``text`` is not a date.
    """
    if text is None or not str(text).strip():
        return None
    try:
        ts = pd.Timestamp(str(text).strip())
    except (ValueError, TypeError) as exc:
        raise ValueError(f"as-of {text!r} is not a date (expected e.g. 2025-12-31)") from exc
    if ts is pd.NaT:
        raise ValueError(f"as-of {text!r} is not a date (expected e.g. 2025-12-31)")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


# --- moments ------------------------------------------------------------------------------------------------

_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def day_end(day: date | pd.Timestamp) -> pd.Timestamp:
    """The last microsecond of a calendar day, tz-aware UTC."""
    d = pd.Timestamp(day)
    d = d.tz_convert("UTC").tz_localize(None) if d.tzinfo is not None else d
    return (d.normalize() + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)).tz_localize("UTC")


def as_moment(value: Any) -> pd.Timestamp:
    """A moment as a tz-aware UTC Timestamp.

    A date alone (``"2025-06-30"`` or a :class:`datetime.date`) means the end of that day, as in
    :func:`salesops.load`; a naive timestamp is read as UTC.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("a moment (as-of) is needed, e.g. '2025-12-31'")
    if isinstance(value, str) and _DAY_RE.match(value.strip()):
        return day_end(pd.Timestamp(value.strip()))
    if isinstance(value, date) and not isinstance(value, pd.Timestamp) and not hasattr(value, "hour"):
        return day_end(pd.Timestamp(value))
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        raise ValueError(f"{value!r} is not a moment")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
