"""Working days: weekdays minus holidays, counted inside spans."""

from __future__ import annotations

import pandas as pd
from pandas.tseries.holiday import AbstractHolidayCalendar, Holiday

from salesops.kpi.calendar import count_working_days, holiday_dates, working_days


def test_us_federal_holidays_by_default_and_overridable():
    # 2025-01-06 (Mon) .. 2025-01-24 (Fri): 15 weekdays, Martin Luther King Day on Monday 20 January
    assert len(working_days("2025-01-06", "2025-01-24")) == 14
    assert pd.Timestamp("2025-01-20") not in working_days("2025-01-06", "2025-01-24")
    assert len(working_days("2025-01-06", "2025-01-24", holidays=[])) == 15
    assert len(working_days("2025-01-06", "2025-01-24", holidays=["2025-01-07", "2025-01-11"])) == 14  # 11th: Sat

    class Company(AbstractHolidayCalendar):
        rules = [Holiday("Founders day", month=1, day=9)]

    days = working_days("2025-01-06", "2025-01-24", holidays=Company())
    assert len(days) == 14 and pd.Timestamp("2025-01-09") not in days
    # Christmas 2021 fell on a Saturday and was observed on Friday 24 December
    assert pd.Timestamp("2021-12-24") in holiday_dates("2021-12-01", "2021-12-31")


def test_working_days_of_a_year_and_an_empty_span():
    # 2023-2025: 783 weekdays minus 33 federal holidays on weekdays = 750
    assert len(working_days("2023-01-01", "2025-12-31")) == 750
    assert len(working_days("2025-02-01", "2025-01-01")) == 0
    assert len(working_days("2025-01-04", "2025-01-05")) == 0  # a weekend


def test_count_working_days_in_spans():
    cal = working_days("2025-01-01", "2025-01-31")  # 1 Jan and 20 Jan are holidays: 23 weekdays - 2 = 21
    assert len(cal) == 21
    starts = pd.to_datetime(["2025-01-08", None, "2025-01-20", "2025-01-25"])
    ends = pd.to_datetime(["2025-01-10", "2025-01-03", "2025-01-21", "2025-01-24"])
    # Wed-Fri = 3; open start -> 2 and 3 Jan = 2; holiday 20th + 21st = 1; end before start = 0
    assert list(count_working_days(starts, ends, cal)) == [3, 2, 1, 0]
