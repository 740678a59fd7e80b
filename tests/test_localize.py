"""Locale formatting through Babel: money in the data's currency, percentages, Thai dates, Buddhist era."""

from __future__ import annotations

import datetime as dt

import pytest
from babel import Locale

from salesops.localize import BUDDHIST_OFFSET, format_value
from salesops.summary.narrative import format_value as narrative_value


@pytest.mark.parametrize(
    ("unit", "values"),
    [("currency", [9_364_210.0, 12_345.0, 950.0, -2_500_000.0, 0.0, 999_999.0]),
     ("share", [0.229, 0.0, 1.0, -0.031, 0.99951]),
     ("ratio", [2.1, 0.456, 12.0]),
     ("days", [36.0, 120.4, 0.0]),
     ("deals", [189.0, 0.0, 999.0])],
)
def test_english_usd_is_what_the_pages_write_today(unit, values):
    # the narrative's formatter, which the pages will replace by this one (values below 1,000: the
    # narrative does not group thousands except in money)
    for value in values:
        assert format_value(value, unit, locale="en_US", currency="USD") == narrative_value(value, unit)


def test_baht_with_thai_grouping_and_the_data_currency():
    assert format_value(1_234_567.5, "money", locale="th_TH", currency="THB") == "฿1,234,567.50"
    assert format_value(1_234_567.5, "money", locale="th_TH", currency="THB", digits=0) == "฿1,234,568"
    assert format_value(9_360_000, "currency", locale="th_TH", currency="THB") == "฿9.36 ล้าน"
    assert format_value(1_234_567.5, "money", locale="en_US", currency="USD") == "$1,234,567.50"
    # the currency comes from the data, never assumed: a Thai reader of US dollars sees US$
    assert format_value(1000, "money", locale="th_TH", currency="USD") == "US$1,000.00"
    with pytest.raises(ValueError, match="needs the data's currency"):
        format_value(1000, "money", locale="th_TH")


def test_numbers_and_percentages():
    assert format_value(0.2291, "share", locale="th_TH") == "22.9%"
    assert format_value(0.2291, "share", locale="de_DE", digits=2) == "22,91\u00a0%"
    assert format_value(1234.56, "number", locale="de_DE") == "1.234,6"
    assert format_value(12_345.6, "count", locale="th_TH") == "12,346"
    assert format_value(36, "days", locale="th_TH") == "36 วัน"
    assert format_value(float("nan"), "share") == "n/a" and format_value(None, "money", currency="THB") == "n/a"


def test_thai_month_names_and_buddhist_era_years():
    months = Locale.parse("th_TH").months["format"]["wide"]
    day = dt.date(2025, 3, 31)
    assert format_value(day, "date", locale="th_TH", width="long") == f"31 {months[3]} ค.ศ. 2025"
    assert format_value(day, "date", locale="th_TH", width="long", era="buddhist") == f"31 {months[3]} พ.ศ. 2568"
    # the leap day keeps its day: 2024-02-29 is 29 February 2567 B.E.
    assert format_value("2024-02-29", "date", locale="th_TH", width="short", era="buddhist") == "29/2/2567"
    assert str(2024 + BUDDHIST_OFFSET) in format_value("2024-02-29", "date", locale="en_US", era="buddhist")
    assert format_value(day, "date", locale="en_US") == "Mar 31, 2025"
    assert format_value(None, "date") == "n/a"


def test_bad_arguments_name_what_is_allowed():
    with pytest.raises(ValueError, match="unknown unit 'percent'"):
        format_value(1, "percent")
    with pytest.raises(ValueError, match="unknown era 'thai'"):
        format_value(dt.date(2025, 1, 1), "date", era="thai")
