"""Fixtures of the summary tests: the committed sample (loaded once) with its planted truths, and a tiny CRM."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.io.data import SalesData


def _d(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


@pytest.fixture
def tiny() -> SalesData:
    """Six deals, two segments, a quota per quarter, a short history and a few activities.

    2025Q4 (Oct-Dec): A1 won 100 (SMB, created 2025-09-01, closed 2025-10-11: 40 days), A2 won 300 (ENT, created
    2025-10-01, closed 2025-11-30: 60 days), A3 lost (SMB, closed 2025-12-01). 2025Q3: B1 won 200 (SMB), B2 lost
    (ENT). 2024Q4: C1 won 50 (SMB). Open at 2025-12-31: D1 (ENT, 400 expected 2026-02-01 as of then; it was
    pushed to 2026-05-01 only in 2026).
    """
    opps = pd.DataFrame(
        {
            "opportunity_id": ["A1", "A2", "A3", "B1", "B2", "C1", "D1"],
            "account_id": ["s1", "e1", "s1", "s1", "e1", "s1", "e1"],
            "owner_rep_id": ["r1", "r2", "r1", "r1", "r2", "r1", "r2"],
            "created_date": [_d(x) for x in ["2025-09-01", "2025-10-01", "2025-10-05", "2025-07-01", "2025-07-02",
                                              "2024-10-01", "2025-11-15"]],
            "close_date": [_d(x) for x in ["2025-10-11", "2025-11-30", "2025-12-01", "2025-08-01", "2025-09-01",
                                            "2024-11-01", "2026-05-01"]],
            "stage": ["Closed Won", "Closed Won", "Closed Lost", "Closed Won", "Closed Lost", "Closed Won", "Proposal"],
            "is_closed": [True, True, True, True, True, True, False],
            "is_won": [True, True, False, True, False, True, False],
            "amount": [100.0, 300.0, 80.0, 200.0, 90.0, 50.0, 400.0],
        }
    )
    accounts = pd.DataFrame({"account_id": ["s1", "e1"], "name": ["Small", "Big"], "segment": ["SMB", "ENT"]})
    reps = pd.DataFrame(
        {
            "rep_id": ["r1", "r2"], "name": ["Ann", "Bob"], "role": ["AE", "AE"], "segment": ["SMB", "ENT"],
            "hire_date": [_d("2020-01-01"), _d("2025-12-01")], "end_date": [pd.NaT, pd.NaT],
        }
    )
    quotas = pd.DataFrame(
        {
            "rep_id": ["r1", "r2", "r1"],
            "period_start": [_d("2025-10-01"), _d("2025-10-01"), _d("2026-01-01")],
            "period_end": [_d("2025-12-31"), _d("2025-12-31"), _d("2026-03-31")],
            "amount": [150.0, 250.0, 200.0],
            "measure": ["bookings", "bookings", "bookings"],
        }
    )
    utc = lambda x: pd.Timestamp(x, tz="UTC")  # noqa: E731
    history = pd.DataFrame(
        {
            "opportunity_id": ["A2", "A2", "D1", "D1", "D1"],
            "changed_at": [utc("2025-10-01 10:00"), utc("2025-11-30 10:00"), utc("2025-11-15 10:00"),
                           utc("2025-12-31 20:00"), utc("2026-01-10 10:00")],
            "stage": ["Qualification", "Closed Won", "Qualification", "Proposal", "Proposal"],
            "amount": [250.0, 300.0, 400.0, None, None],
            "close_date": [_d("2025-12-15"), _d("2025-11-30"), _d("2026-02-01"), None, _d("2026-05-01")],
        }
    )
    # r1 works all 62 working days of 2025Q4 (Mon-Fri minus Columbus, Veterans, Thanksgiving and Christmas Day);
    # r2 joins on 2025-12-01: 22 working days (December minus Christmas Day)
    activities = pd.DataFrame(
        {
            "activity_id": [f"a{i}" for i in range(5)],
            "rep_id": ["r1", "r1", "r2", "r1", "r2"],
            "occurred_at": [utc("2025-10-02 14:00"), utc("2025-12-31 22:00"), utc("2025-12-05 15:00"),
                            utc("2025-09-30 15:00"), utc("2026-01-02 15:00")],
            "type": ["call"] * 5,
        }
    )
    return SalesData(tables={"opportunities": opps, "accounts": accounts, "reps": reps, "quotas": quotas,
                             "opportunity_history": history, "activities": activities})
