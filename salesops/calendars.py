"""Working-day calendars: a country's public holidays (from the maintained ``holidays`` package), by
subdivision, plus a company's own closures.

This is the one calendar entry point of the kit: activity per working day (:mod:`salesops.kpi.calendar`,
the executive summary), lead-routing availability (:mod:`salesops.leads.routing`) and the sample generator
all take their days off from a :class:`WorkCalendar`.

A working day is a day that is neither a weekend day of the calendar (the country's weekend by default,
Saturday and Sunday for the United States and Thailand) nor a holiday:

.. math:: \\text{working}(d) = d \\notin \\text{weekend} \\wedge d \\notin H_{\\text{country, subdivision}} \\cup C

where :math:`H` are the holidays of the chosen categories (``public`` by default) as the ``holidays``
package lists them, observed days and substitution days included (a US holiday on a Saturday is taken on
the Friday before; Thailand's Songkran days that fall on a weekend are made up on the next working day),
and :math:`C` the company closures.

>>> from salesops.calendars import work_calendar
>>> len(work_calendar("TH").working_days("2025-04-01", "2025-04-30"))  # Chakri Day and Songkran in lieu
18

A company calendar file (YAML, read by :func:`load_calendar`)::

    country: US                  # ISO 3166 code the holidays package knows (US, TH, GB, DE, ...)
    subdivision: CA              # optional: a state or province of that country (Thailand has none)
    categories: [public]         # optional: holiday categories of the holidays package (default: public)
    weekend: [sat, sun]          # optional: default the country's weekend
    closures:                    # optional: the company's extra days off
      - 2025-12-31                               # one day
      - {date: 2025-05-02, name: Company day}    # one day, named
      - {from: 2025-12-24, to: 2025-12-26, name: Year-end shutdown}   # a span, both ends included

Unknown keys, countries, subdivisions or categories are errors that name the file and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import holidays as _holidays
import numpy as np
import pandas as pd
import yaml

from salesops.safe_yaml import YamlLimitError, load_yaml

__all__ = [
    "CalendarError",
    "US_FEDERAL",
    "WorkCalendar",
    "load_calendar",
    "work_calendar",
]

_DAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_FILE_KEYS = ("country", "subdivision", "categories", "weekend", "closures")


class CalendarError(ValueError):
    """A calendar that cannot be built: unknown country, subdivision, category, or a malformed file."""


@dataclass(frozen=True)
class WorkCalendar:
    """A working-day calendar: weekends, a country's holidays and company closures.

    Build it with :func:`work_calendar` (checks the arguments) or :func:`load_calendar` (from a file).

    Attributes
    ----------
    country : str or None
        ISO 3166-1 alpha-2 code known to the ``holidays`` package; ``None`` for no public holidays.
    subdivision : str or None
        A subdivision of that country (``"CA"`` for California), whose own holidays are added.
    categories : tuple of str
        Holiday categories of the ``holidays`` package (``public``, ``government``, ``bank``, ...).
    weekend : tuple of int
        Weekend weekdays, Monday = 0.
    closures : tuple of datetime.date
        Company days off, beside the holidays.
    closure_names : tuple of str
        A name per closure (``""`` when unnamed).
    """

    country: str | None = "US"
    subdivision: str | None = None
    categories: tuple[str, ...] = ("public",)
    weekend: tuple[int, ...] = (5, 6)
    closures: tuple[dt.date, ...] = ()
    closure_names: tuple[str, ...] = field(default=(), compare=False)

    def holiday_names(self, start: Any, end: Any) -> pd.Series:
        """Holidays and closures between ``start`` and ``end`` (inclusive), weekends included.

        Returns
        -------
        Series
            Names (several joined by ``"; "``) indexed by naive midnight timestamps, sorted.
        """
        lo, hi = _day(start), _day(end)
        names: dict[dt.date, list[str]] = {}
        if self.country is not None and hi >= lo:
            table = _country_table(self.country, self.subdivision, self.categories, lo.year - 1, hi.year + 1)
            for d, name in table:
                if lo <= d <= hi:
                    names.setdefault(d, []).append(name)
        labels = self.closure_names or ("",) * len(self.closures)
        for d, name in zip(self.closures, labels, strict=False):
            if lo <= d <= hi:
                names.setdefault(d, []).append(name or "company closure")
        days = sorted(names)
        return pd.Series(["; ".join(names[d]) for d in days], index=pd.DatetimeIndex(days, dtype="datetime64[ns]"),
                         dtype=object)

    def holidays(self, start: Any, end: Any) -> pd.DatetimeIndex:
        """Dates of the holidays and closures between ``start`` and ``end`` inclusive (naive, sorted)."""
        return pd.DatetimeIndex(self.holiday_names(start, end).index)

    def is_working(self, days: Any) -> np.ndarray:
        """Boolean mask: which of ``days`` (date-likes, times ignored) are working days."""
        idx = pd.DatetimeIndex(pd.to_datetime(days))
        if idx.tz is not None:
            idx = idx.tz_localize(None)
        idx = idx.normalize()
        if len(idx) == 0:
            return np.zeros(0, dtype=bool)
        off = self.holidays(idx.min(), idx.max())
        return np.asarray(~np.isin(idx.dayofweek, self.weekend) & ~idx.isin(off))

    def working_days(self, start: Any, end: Any) -> pd.DatetimeIndex:
        """Working days from ``start`` to ``end`` inclusive, as naive midnight timestamps (empty if reversed)."""
        lo, hi = pd.Timestamp(_day(start)), pd.Timestamp(_day(end))
        if hi < lo:
            return pd.DatetimeIndex([], dtype="datetime64[ns]")
        days = pd.date_range(lo, hi, freq="D")
        return days[self.is_working(days)]


def work_calendar(
    country: str | None = "US",
    subdivision: str | None = None,
    *,
    categories: Iterable[str] = ("public",),
    weekend: Iterable[int | str] | None = None,
    closures: Iterable[Any] = (),
) -> WorkCalendar:
    """A checked :class:`WorkCalendar`.

    Parameters
    ----------
    country : str or None
        ISO code (``"TH"``, ``"US"``); ``None`` for weekends and closures only.
    subdivision : str, optional
        Subdivision code of the country.
    categories : iterable of str
        Holiday categories (default ``public``).
    weekend : iterable of int or day names, optional
        Default: the country's weekend as the ``holidays`` package knows it (Saturday and Sunday when unknown).
    closures : iterable
        Extra days off: dates, ``{date, name}`` or ``{from, to, name}`` mappings (see the module docstring).

    Raises
    ------
    CalendarError
        An unknown country, subdivision, category or weekday, or an unreadable closure.
    """
    cats = tuple(str(c).strip().lower() for c in categories)
    code = None if country is None else str(country).strip().upper()
    sub = None if subdivision in (None, "") else str(subdivision).strip()
    if code is not None:
        supported = _holidays.list_supported_countries(include_aliases=False)
        if code not in supported:
            raise CalendarError(f"unknown country {country!r}; the holidays package knows e.g. US, TH, GB, DE, JP")
        cls = _holidays.country_holidays(code).__class__
        if sub is not None and sub not in supported[code]:
            subs = ", ".join(map(str, supported[code])) or "(none)"
            raise CalendarError(f"unknown subdivision {subdivision!r} of {code}; known: {subs}")
        known = set(getattr(cls, "supported_categories", ("public",)))
        bad = sorted(set(cats) - known)
        if bad:
            raise CalendarError(f"unknown holiday categories {bad} for {code}; known: {', '.join(sorted(known))}")
        default_weekend = tuple(sorted(getattr(cls, "weekend", {5, 6})))
    else:
        default_weekend = (5, 6)
    days = default_weekend if weekend is None else tuple(sorted({_weekday(w) for w in weekend}))
    dates, names = _closures(closures, "closures")
    return WorkCalendar(code, sub, cats, days, dates, names)


def load_calendar(path: str | os.PathLike[str]) -> WorkCalendar:
    """Read a company calendar file (format in the module docstring).

    Raises
    ------
    CalendarError
        Naming the file and the key at fault.
    """
    p = Path(path)
    try:
        doc = load_yaml(p, f"calendar file {p}")
    except YamlLimitError as exc:
        raise CalendarError(str(exc)) from None
    except (OSError, yaml.YAMLError) as exc:
        raise CalendarError(f"calendar file {p}: cannot be read: {exc}") from exc
    if not isinstance(doc, dict):
        raise CalendarError(f"calendar file {p}: expected a mapping with country, subdivision, closures")
    extra = sorted(set(doc) - set(_FILE_KEYS))
    if extra:
        raise CalendarError(f"calendar file {p}: unknown key(s) {extra}; expected: {', '.join(_FILE_KEYS)}")
    cats = doc.get("categories", ["public"])
    try:
        return work_calendar(
            doc.get("country", "US"),
            doc.get("subdivision"),
            categories=[cats] if isinstance(cats, str) else cats,
            weekend=doc.get("weekend"),
            closures=doc.get("closures") or [],
        )
    except CalendarError as exc:
        raise CalendarError(f"calendar file {p}: {exc}") from None


#: The United States' federal (public) holidays, as observed: the kit's default calendar and the sample's.
#: On weekdays it gives the same days as pandas' ``USFederalHolidayCalendar`` (checked in the tests).
US_FEDERAL = WorkCalendar("US")


@lru_cache(maxsize=64)
def _country_table(
    country: str, subdivision: str | None, categories: tuple[str, ...], first: int, last: int
) -> tuple[tuple[dt.date, str], ...]:
    table = _holidays.country_holidays(
        country, subdiv=subdivision, years=range(first, last + 1), categories=categories
    )
    return tuple(sorted(table.items()))


def _day(value: Any) -> dt.date:
    ts = pd.Timestamp(value)
    if ts.tz is not None:
        ts = ts.tz_localize(None)
    return ts.date()


def _weekday(value: int | str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    key = str(value).strip().lower()[:3]
    if key not in _DAY_NAMES:
        raise CalendarError(f"weekend: unknown day {value!r}; use mon, tue, wed, thu, fri, sat, sun")
    return _DAY_NAMES[key]


def _closures(raw: Iterable[Any], where: str) -> tuple[tuple[dt.date, ...], tuple[str, ...]]:
    if isinstance(raw, str | dt.date) or not isinstance(raw, Iterable):
        raise CalendarError(f"{where}: expected a list of dates or {{from, to, name}} spans")
    days: dict[dt.date, str] = {}
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if isinstance(item, dict):
            extra = sorted(set(item) - {"date", "from", "to", "name"})
            if extra:
                raise CalendarError(f"{at}: unknown key(s) {extra}; expected date, or from and to, and name")
            name = str(item.get("name") or "")
            if "date" in item:
                lo = hi = _closure_day(item["date"], at)
            elif "from" in item and "to" in item:
                lo, hi = _closure_day(item["from"], at), _closure_day(item["to"], at)
                if hi < lo:
                    raise CalendarError(f"{at}: 'to' ({hi}) is before 'from' ({lo})")
            else:
                raise CalendarError(f"{at}: a closure is a date, {{date, name}} or {{from, to, name}}")
        else:
            lo = hi = _closure_day(item, at)
            name = ""
        for d in pd.date_range(lo, hi, freq="D").date:
            days[d] = "; ".join(x for x in (days.get(d, ""), name) if x)
    ordered = sorted(days)
    return tuple(ordered), tuple(days[d] for d in ordered)


def _closure_day(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise CalendarError(f"{where}: {value!r} is not a date (expected YYYY-MM-DD)") from None
