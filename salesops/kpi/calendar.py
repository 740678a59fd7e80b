"""Working days: weekdays minus a holiday calendar (US federal holidays by default, overridable).

The calendars themselves live in :mod:`salesops.calendars` (country and subdivision holidays from the
``holidays`` package, plus company closures); this module counts working days inside spans.

>>> from salesops.kpi.calendar import working_days
>>> len(working_days("2025-12-22", "2025-12-31"))  # 25 December is a holiday
7
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.holiday import AbstractHolidayCalendar

from salesops.calendars import US_FEDERAL, WorkCalendar

__all__ = ["Holidays", "count_working_days", "holiday_dates", "working_days"]

#: A holiday calendar: None (US federal holidays, as observed), a :class:`salesops.calendars.WorkCalendar`
#: (any country, subdivision and company closures), a pandas ``AbstractHolidayCalendar``, or an iterable of
#: dates (an empty list means weekends only).
Holidays = WorkCalendar | AbstractHolidayCalendar | Iterable[Any] | None


def holiday_dates(start: Any, end: Any, holidays: Holidays = None) -> pd.DatetimeIndex:
    """Holiday dates between ``start`` and ``end`` (inclusive), as naive midnight timestamps.

    Parameters
    ----------
    start, end : date-like
        The span.
    holidays : None, WorkCalendar, AbstractHolidayCalendar or iterable of dates
        ``None``: :data:`salesops.calendars.US_FEDERAL` (US federal holidays as observed, so a holiday on a
        Saturday is taken on the Friday before). A calendar object: its ``holidays(start, end)``. An
        iterable: those dates (a company's own list; ``[]`` for none).
    """
    lo, hi = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if holidays is None:
        holidays = US_FEDERAL
    if isinstance(holidays, WorkCalendar | AbstractHolidayCalendar):
        days = holidays.holidays(lo, hi)
    else:
        days = pd.DatetimeIndex(pd.to_datetime(list(holidays))).normalize()
    if days.tz is not None:
        days = days.tz_localize(None)
    return days[(days >= lo) & (days <= hi)].unique().sort_values()


def working_days(start: Any, end: Any, holidays: Holidays = None) -> pd.DatetimeIndex:
    """Working days from ``start`` to ``end`` inclusive: not a weekend day (the ``WorkCalendar``'s weekend,
    else Saturday and Sunday), not a holiday.

    Parameters
    ----------
    start, end : date-like
        The span (times of day are ignored).
    holidays : see :func:`holiday_dates`

    Returns
    -------
    DatetimeIndex
        Naive midnight timestamps, sorted (empty when ``end < start``).
    """
    lo, hi = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if hi < lo:
        return pd.DatetimeIndex([])
    if holidays is None or isinstance(holidays, WorkCalendar):
        return (US_FEDERAL if holidays is None else holidays).working_days(lo, hi)
    days = pd.date_range(lo, hi, freq="D")
    return days[(days.dayofweek < 5) & ~days.isin(holiday_dates(lo, hi, holidays))]


def count_working_days(starts: Any, ends: Any, calendar: pd.DatetimeIndex) -> np.ndarray:
    r"""Working days of ``calendar`` inside each span ``[start, end]`` (inclusive), vectorised.

    .. math:: n_i = \#\{d \in \text{calendar} : \text{start}_i \le d \le \text{end}_i\}

    computed by two binary searches per span. Missing bounds (NaT) count as open: an unknown start is the
    calendar's first day, an unknown end its last. Spans with ``end < start`` count 0.

    Parameters
    ----------
    starts, ends : array-like of datetime64
        Span bounds, naive.
    calendar : DatetimeIndex
        Sorted working days (from :func:`working_days`).
    """
    cal = np.asarray(calendar.values, dtype="datetime64[ns]")
    s = pd.to_datetime(pd.Series(starts)).dt.normalize().to_numpy(dtype="datetime64[ns]")
    e = pd.to_datetime(pd.Series(ends)).dt.normalize().to_numpy(dtype="datetime64[ns]")
    if cal.size:
        s = np.where(np.isnat(s), cal[0], s)
        e = np.where(np.isnat(e), cal[-1], e)
    n = np.searchsorted(cal, e, side="right") - np.searchsorted(cal, s, side="left")
    return np.clip(n, 0, None).astype(np.int64)
