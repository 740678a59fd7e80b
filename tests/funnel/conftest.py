"""Fixtures of the funnel tests: the committed sample (loaded once), its planted truths, and a tiny CRM whose
every figure is computed by hand in the tests.

The tiny CRM (all changes at noon UTC, so days come out whole) holds six opportunities:

* A (SMB, R1): Qualification 03-10 (1,000, due 05-15) -> Proposal 04-05 (skips Discovery) -> amount 1,500 on
  04-20 -> Closed Won 05-10.
* B (SMB, R1): Qualification 02-01 (2,000, due 06-15) -> Discovery 02-11 -> back to Qualification 02-21 ->
  Discovery 03-03 -> Proposal 04-15 -> close date moved on 06-15 (the day it was due) to 08-31 -> Closed Lost
  07-10.
* C (SMB, R1): Qualification 03-01 (3,000, due 06-20) -> close date moved on 04-10 (ahead of time) to 09-15 ->
  Discovery 05-05 with the close date back to 06-25 -> amount 2,500 on 05-20; still open.
* D (Mid-Market, R2): created 04-02 (4,000, due 06-30) -> Closed Lost 05-01.
* E (Mid-Market, R2): created 04-03 (5,000, due 08-15) -> Closed Won 06-01.
* F (Mid-Market, R2): created 04-04 (6,000, due 09-30) -> Closed Lost 05-15.

The data is as of 2025-07-31 12:00 UTC.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from salesops.io import SalesData

ROOT = Path(__file__).resolve().parents[2]
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
MAVEN = REAL / "maven_crm_sales_opportunities"
MINI_CRM = ROOT / "tests" / "fixtures" / "mini_crm"
TINY_AS_OF = pd.Timestamp("2025-07-31 12:00", tz="UTC")


def ts(day: str) -> pd.Timestamp:
    """Noon UTC of a 2025 day given as MM-DD."""
    return pd.Timestamp(f"2025-{day} 12:00", tz="UTC")


def d(day: str) -> pd.Timestamp:
    return pd.Timestamp(f"2025-{day}")


def _history() -> pd.DataFrame:
    rows = [
        # opportunity, changed (MM-DD), stage, amount, close (MM-DD), forecast category
        ("A", "03-10", "Qualification", 1000, "05-15", "pipeline"),
        ("A", "04-05", "Proposal", 1000, "05-15", "best_case"),
        ("A", "04-20", "Proposal", 1500, "05-15", "best_case"),
        ("A", "05-10", "Closed Won", 1500, "05-10", "closed"),
        ("B", "02-01", "Qualification", 2000, "06-15", "pipeline"),
        ("B", "02-11", "Discovery", 2000, "06-15", "pipeline"),
        ("B", "02-21", "Qualification", 2000, "06-15", "pipeline"),
        ("B", "03-03", "Discovery", 2000, "06-15", "pipeline"),
        ("B", "04-15", "Proposal", 2000, "06-15", "best_case"),
        ("B", "06-15", "Proposal", 2000, "08-31", "best_case"),
        ("B", "07-10", "Closed Lost", 2000, "07-10", "omitted"),
        ("C", "03-01", "Qualification", 3000, "06-20", "pipeline"),
        ("C", "04-10", "Qualification", 3000, "09-15", "pipeline"),
        ("C", "05-05", "Discovery", 3000, "06-25", "pipeline"),
        ("C", "05-20", "Discovery", 2500, "06-25", "pipeline"),
        ("D", "04-02", "Qualification", 4000, "06-30", "pipeline"),
        ("D", "05-01", "Closed Lost", 4000, "05-01", "omitted"),
        ("E", "04-03", "Qualification", 5000, "08-15", "pipeline"),
        ("E", "06-01", "Closed Won", 5000, "06-01", "closed"),
        ("F", "04-04", "Qualification", 6000, "09-30", "pipeline"),
        ("F", "05-15", "Closed Lost", 6000, "05-15", "omitted"),
    ]
    return pd.DataFrame(
        {
            "opportunity_id": [r[0] for r in rows],
            "changed_at": pd.to_datetime([ts(r[1]) for r in rows], utc=True),
            "stage": [r[2] for r in rows],
            "amount": [float(r[3]) for r in rows],
            "close_date": pd.to_datetime([d(r[4]) for r in rows]),
            "forecast_category": [r[5] for r in rows],
        }
    )


def _opportunities() -> pd.DataFrame:
    rows = [
        ("A", "AC1", "R1", "03-10", "05-10", "Closed Won", True, True, 1500),
        ("B", "AC1", "R1", "02-01", "07-10", "Closed Lost", True, False, 2000),
        ("C", "AC1", "R1", "03-01", "06-25", "Discovery", False, False, 2500),
        ("D", "AC2", "R2", "04-02", "05-01", "Closed Lost", True, False, 4000),
        ("E", "AC2", "R2", "04-03", "06-01", "Closed Won", True, True, 5000),
        ("F", "AC2", "R2", "04-04", "05-15", "Closed Lost", True, False, 6000),
    ]
    return pd.DataFrame(
        {
            "opportunity_id": [r[0] for r in rows],
            "account_id": [r[1] for r in rows],
            "owner_rep_id": [r[2] for r in rows],
            "created_date": pd.to_datetime([d(r[3]) for r in rows]),
            "close_date": pd.to_datetime([d(r[4]) for r in rows]),
            "stage": [r[5] for r in rows],
            "is_closed": [r[6] for r in rows],
            "is_won": [r[7] for r in rows],
            "amount": [float(r[8]) for r in rows],
            "type": "new_business",
        }
    )


def _leads() -> pd.DataFrame:
    nat = pd.NaT
    rows = [
        # lead, created, first touch, mql, sql, disqualified, opportunity, source
        ("L1", ts("03-01"), ts("03-01") + pd.Timedelta(hours=2), ts("03-02"), ts("03-20"), nat, "D", "Web"),
        ("L2", ts("03-05"), ts("03-06"), nat, nat, ts("03-30"), None, "Web"),
        ("L3", ts("03-10"), ts("03-10") + pd.Timedelta(hours=1), nat, ts("03-25"), nat, "E", "Referral"),
        ("L4", ts("06-20"), ts("06-20") + pd.Timedelta(minutes=30), ts("06-21"), nat, nat, None, "Referral"),
        ("L5", ts("07-25"), nat, nat, nat, nat, None, "Web"),
        ("L6", ts("08-05"), ts("08-05"), nat, nat, nat, None, "Web"),
        (
            "L7",
            ts("01-10"),
            ts("01-10") + pd.Timedelta(minutes=30),
            ts("01-11"),
            ts("04-20"),
            nat,
            None,
            "Web",
        ),
    ]
    cols = [
        "lead_id",
        "created_at",
        "first_touch_at",
        "mql_at",
        "sql_at",
        "disqualified_at",
        "opportunity_id",
        "source",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("created_at", "first_touch_at", "mql_at", "sql_at", "disqualified_at"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    frame["account_id"] = ["AC2", "AC1", "AC2", "AC1", "AC1", "AC1", "AC1"]
    return frame


def tiny_tables() -> dict[str, pd.DataFrame]:
    """A fresh copy of every table of the tiny CRM."""
    return {
        "opportunity_history": _history(),
        "opportunities": _opportunities(),
        "accounts": pd.DataFrame(
            {"account_id": ["AC1", "AC2"], "name": ["One", "Two"], "segment": ["SMB", "Mid-Market"]}
        ),
        "reps": pd.DataFrame(
            {
                "rep_id": ["R1", "R2"],
                "name": ["Ann", "Bob"],
                "role": ["AE", "AE"],
                "segment": ["SMB", "Mid-Market"],
                "team": ["T1", "T2"],
            }
        ),
        "quotas": pd.DataFrame(
            {
                "rep_id": ["R1", "R2"],
                "period_start": pd.to_datetime(["2025-04-01", "2025-01-01"]),
                "period_end": pd.to_datetime(["2025-06-30", "2025-12-31"]),
                "amount": [10000.0, 36500.0],
                "measure": ["bookings", "bookings"],
            }
        ),
        "activities": pd.DataFrame(
            {
                "activity_id": ["T1"],
                "rep_id": ["R1"],
                "occurred_at": pd.to_datetime([ts("07-20")], utc=True),
                "type": ["call"],
                "opportunity_id": ["C"],
            }
        ),
        "leads": _leads(),
    }


def tiny_data(drop: tuple[str, ...] = (), **replace: pd.DataFrame) -> SalesData:
    """The tiny CRM as SalesData, without the tables in ``drop`` and with tables replaced by keyword."""
    tables = {k: v for k, v in tiny_tables().items() if k not in drop}
    tables.update(replace)
    return SalesData(tables=tables, as_of=TINY_AS_OF, source="tiny")


@pytest.fixture
def tiny() -> SalesData:
    return tiny_data()
