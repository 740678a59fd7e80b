"""The sample's calendar: its period, working days and hours, and day numbers.

Inside the generator every moment is a float number of days since ``PERIOD_START`` (2023-01-01 00:00 UTC);
moment ``t`` lies on calendar day ``floor(t)``. Working days are Monday to Friday minus US federal holidays
(:data:`SAMPLE_CALENDAR`, the kit's :data:`salesops.calendars.US_FEDERAL`); working hours are 13:00 to 23:00 UTC, so a working
moment never changes its date between UTC and US time zones.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from salesops.calendars import US_FEDERAL, WorkCalendar

PERIOD_START = pd.Timestamp("2023-01-01")
PERIOD_END = pd.Timestamp("2025-12-31")
AS_OF = pd.Timestamp("2025-12-31 23:59:00", tz="UTC")
N_DAYS = (PERIOD_END - PERIOD_START).days + 1
AS_OF_DAY = (AS_OF.tz_localize(None) - PERIOD_START) / pd.Timedelta(days=1)
N_MONTHS = 36
N_QUARTERS = 12
WORK_START_H = 13.0
WORK_END_H = 23.0

#: The sample's working-day calendar (US federal holidays, as observed).
SAMPLE_CALENDAR: WorkCalendar = US_FEDERAL

_CAL_START = pd.Timestamp("2015-01-01")
_CAL_END = pd.Timestamp("2028-12-31")
_NS_PER_DAY = 86_400 * 10**9


def day_of(date: str | pd.Timestamp) -> int:
    """Day number of a calendar date (``0`` for 2023-01-01)."""
    return int((pd.Timestamp(date) - PERIOD_START).days)


class Calendar:
    """Working days and month/quarter lookups over 2015-2028, indexed by day number."""

    def __init__(self) -> None:
        dates = pd.date_range(_CAL_START, _CAL_END, freq="D")
        self.offset = int((PERIOD_START - _CAL_START).days)
        self.first_day = -self.offset
        self.last_day = len(dates) - 1 - self.offset
        self.working = SAMPLE_CALENDAR.is_working(dates)
        idx = np.arange(len(dates))
        nxt = np.where(self.working, idx, len(dates) - 1)
        self._next = np.minimum.accumulate(nxt[::-1])[::-1]
        prv = np.where(self.working, idx, 0)
        self._prev = np.maximum.accumulate(prv)
        self._month = np.asarray((dates.year - 2023) * 12 + dates.month - 1)
        months = np.arange(self._month.min(), self._month.max() + 1)
        self._month_min = int(months[0])
        self._month_start = np.array(
            [day_of(pd.Timestamp(2023 + m // 12, m % 12 + 1, 1)) for m in months], dtype=np.int64
        )

    def _i(self, day: np.ndarray) -> np.ndarray:
        d = np.floor(np.asarray(day, dtype=float)).astype(np.int64) + self.offset
        return np.clip(d, 0, len(self.working) - 1)

    def is_working(self, day: np.ndarray) -> np.ndarray:
        """True where the calendar day of ``day`` is a working day."""
        return self.working[self._i(day)]

    def next_working(self, day: np.ndarray) -> np.ndarray:
        """First working day number on or after ``floor(day)``."""
        return self._next[self._i(day)] - self.offset

    def prev_working(self, day: np.ndarray) -> np.ndarray:
        """Last working day number on or before ``floor(day)``."""
        return self._prev[self._i(day)] - self.offset

    def working_days(self, start: int, end: int) -> np.ndarray:
        """Working day numbers in ``[start, end]`` (inclusive)."""
        days = np.arange(start, end + 1)
        return days[self.is_working(days)] if len(days) else days

    def month_of(self, t: np.ndarray) -> np.ndarray:
        """Month index of moments ``t`` (``0`` for January 2023, negative before)."""
        return self._month[self._i(t)]

    def month_start(self, month: np.ndarray) -> np.ndarray:
        """Day number of the first day of month index ``month``."""
        return self._month_start[np.asarray(month, dtype=np.int64) - self._month_min]

    def snap(self, t: np.ndarray, rng: np.random.Generator, spread_h: float = 2.5) -> np.ndarray:
        """Move moments outside working time to the next working morning (13:00 + up to ``spread_h``).

        Moments already inside working hours of a working day are returned unchanged.
        """
        t = np.asarray(t, dtype=float)
        jitter = rng.random(len(t))
        day = np.floor(t)
        hour = (t - day) * 24.0
        working = self.is_working(day)
        ok = working & (hour >= WORK_START_H) & (hour < WORK_END_H)
        same_day = working & (hour < WORK_START_H)
        new_day = np.where(same_day, day, self.next_working(day + 1))
        new_t = new_day + (WORK_START_H + jitter * spread_h) / 24.0
        return np.where(ok, t, new_t)


@lru_cache(maxsize=1)
def calendar() -> Calendar:
    """The (cached) calendar."""
    return Calendar()


def to_timestamps(t: np.ndarray) -> pd.Series:
    """Moments (day numbers, NaN for none) as a ``datetime64[ns, UTC]`` Series, truncated to the second."""
    t = np.asarray(t, dtype=float)
    missing = ~np.isfinite(t)
    secs = np.floor(np.where(missing, 0.0, t) * 86_400.0).astype(np.int64)
    ns = PERIOD_START.value + secs * 10**9
    ns[missing] = np.iinfo(np.int64).min
    return pd.Series(ns.view("datetime64[ns]")).dt.tz_localize("UTC")


def to_dates(t: np.ndarray) -> pd.Series:
    """Calendar dates of moments (NaN for none) as a naive ``datetime64[ns]`` Series at midnight."""
    t = np.asarray(t, dtype=float)
    missing = ~np.isfinite(t)
    days = np.floor(np.where(missing, 0.0, t)).astype(np.int64)
    ns = PERIOD_START.value + days * _NS_PER_DAY
    ns[missing] = np.iinfo(np.int64).min
    return pd.Series(ns.view("datetime64[ns]"))


def days_from_timestamps(ts: pd.Series) -> np.ndarray:
    """Inverse of :func:`to_timestamps` / :func:`to_dates`: day numbers as floats (NaN for NaT)."""
    s = pd.Series(ts)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    ns = s.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(float)
    out = (ns - PERIOD_START.value) / _NS_PER_DAY
    out[s.isna().to_numpy()] = np.nan
    return out


def quarter_label(month: np.ndarray) -> np.ndarray:
    """``"2024Q3"``-style labels for month indices."""
    month = np.asarray(month)
    year = 2023 + month // 12
    q = (month % 12) // 3 + 1
    return np.char.add(np.char.add(year.astype(str), "Q"), q.astype(str))
