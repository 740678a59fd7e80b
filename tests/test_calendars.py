"""Working-day calendars from the holidays package, by country and subdivision, plus company closures."""

from __future__ import annotations

import datetime as dt

import holidays
import pandas as pd
import pytest
from pandas.tseries.holiday import USFederalHolidayCalendar

from salesops.calendars import US_FEDERAL, CalendarError, load_calendar, work_calendar
from salesops.kpi.calendar import working_days


def test_thailand_april_2025_matches_the_holidays_package():
    # independent count: weekdays of April 2025 that the holidays package does not list for Thailand
    th = holidays.country_holidays("TH", years=2025)
    days = [dt.date(2025, 4, d) for d in range(1, 31)]
    expected = [d for d in days if d.weekday() < 5 and d not in th]
    got = work_calendar("TH").working_days("2025-04-01", "2025-04-30")
    assert [d.date() for d in got] == expected
    # Songkran (13-15 April, the 13th a Sunday) and its substitution day, and Chakri Day in lieu, are off
    for off in ("2025-04-07", "2025-04-14", "2025-04-15", "2025-04-16"):
        assert pd.Timestamp(off) not in got
    # the same calendar through the KPI module's entry point
    assert len(working_days("2025-04-01", "2025-04-30", holidays=work_calendar("TH"))) == len(expected)


def test_us_default_matches_pandas_federal_calendar_on_weekdays():
    # the sample's calendar before this module: pandas' USFederalHolidayCalendar over the generator's span
    lo, hi = "2015-01-01", "2028-12-31"
    days = pd.date_range(lo, hi, freq="D")
    pandas_work = days[(days.dayofweek < 5) & ~days.isin(USFederalHolidayCalendar().holidays(lo, hi))]
    assert US_FEDERAL.working_days(lo, hi).equals(pandas_work)
    assert pd.Timestamp("2021-12-31") in US_FEDERAL.holidays("2021-12-01", "2021-12-31")  # 1 Jan 2022 observed


def test_subdivision_adds_its_own_holidays():
    # Cesar Chavez Day (31 March) is a California state holiday, not a federal one
    assert pd.Timestamp("2025-03-31") in work_calendar("US").working_days("2025-03-31", "2025-03-31")
    assert len(work_calendar("US", "CA").working_days("2025-03-31", "2025-03-31")) == 0


def test_company_calendar_file(tmp_path):
    path = tmp_path / "company.yaml"
    path.write_text(
        "country: TH\n"
        "closures:\n"
        "  - 2025-04-17\n"
        "  - {date: 2025-04-18, name: Company day}\n"
        "  - {from: 2025-04-21, to: 2025-04-22, name: Offsite}\n",
        encoding="utf-8",
    )
    cal = load_calendar(path)
    base = work_calendar("TH").working_days("2025-04-01", "2025-04-30")
    got = cal.working_days("2025-04-01", "2025-04-30")
    assert len(base) - len(got) == 4
    names = cal.holiday_names("2025-04-17", "2025-04-22")
    assert names[pd.Timestamp("2025-04-18")] == "Company day"
    assert names[pd.Timestamp("2025-04-22")] == "Offsite"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("country: XX\n", "unknown country 'XX'"),
        ("country: US\nsubdivision: ZZ\n", "unknown subdivision 'ZZ' of US"),
        ("country: TH\ncategories: [nonsense]\n", "unknown holiday categories ['nonsense']"),
        ("country: TH\nclosure: [2025-01-02]\n", "unknown key(s) ['closure']"),
        ("country: TH\nclosures: [31/12/2025]\n", "closures[0]: '31/12/2025' is not a date"),
        ("country: TH\nclosures: [{from: 2025-01-05, to: 2025-01-02}]\n", "'to' (2025-01-02) is before"),
    ],
)
def test_bad_calendar_files_name_file_and_key(tmp_path, text, needle):
    path = tmp_path / "cal.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError) as info:
        load_calendar(path)
    assert str(path) in str(info.value) and needle in str(info.value)


def test_weekend_follows_the_country_or_the_file():
    assert work_calendar("US").weekend == (5, 6)
    six_days = work_calendar("TH", weekend=["sun"])
    assert pd.Timestamp("2025-04-19") in six_days.working_days("2025-04-19", "2025-04-20")  # a Saturday
    assert len(six_days.working_days("2025-04-20", "2025-04-20")) == 0
