"""Quarters and as-of parameters."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from salesops.periods import (
    Quarter,
    QuarterError,
    latest_complete_quarter,
    parse_as_of,
    parse_quarter,
    quarter_of,
)


def test_parse_and_bounds():
    q = parse_quarter(" 2025q4 ")
    assert q == Quarter(2025, 4) and str(q) == "2025Q4"
    assert (q.start, q.end) == (date(2025, 10, 1), date(2025, 12, 31))
    assert Quarter(2024, 1).end == date(2024, 3, 31)
    assert q.next() == Quarter(2026, 1) and Quarter(2026, 1).previous() == q
    assert q.contains(pd.Timestamp("2025-12-31 23:00")) and not q.contains(date(2026, 1, 1))


@pytest.mark.parametrize("text", ["2025Q0", "2025Q5", "25Q1", "2025-Q1", "Q1 2025", "", "latest"])
def test_parse_rejects(text):
    with pytest.raises(QuarterError, match="YYYYQn"):
        parse_quarter(text)


def test_quarter_of_and_latest_complete():
    assert quarter_of(date(2025, 2, 14)) == Quarter(2025, 1)
    assert latest_complete_quarter(date(2025, 12, 31)) == Quarter(2025, 4)
    assert latest_complete_quarter(pd.Timestamp("2025-12-26")) == Quarter(2025, 4)  # within a week of the end
    assert latest_complete_quarter(date(2025, 12, 1)) == Quarter(2025, 3)
    assert latest_complete_quarter(date(2025, 1, 3)) == Quarter(2024, 4)


def test_parse_as_of():
    assert parse_as_of("") is None and parse_as_of(None) is None
    assert parse_as_of("2025-12-31") == pd.Timestamp("2025-12-31", tz="UTC")
    assert parse_as_of("2025-12-31T10:00:00+01:00") == pd.Timestamp("2025-12-31T09:00:00Z")
    with pytest.raises(ValueError, match="not a date"):
        parse_as_of("soon")
