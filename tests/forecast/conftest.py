"""Fixtures of the forecast tests: the sample CRM loaded once, its snapshot builder, its truth, and a tiny CRM."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.forecast import SnapshotBuilder
from salesops.io.data import SalesData


@pytest.fixture(scope="session")
def builder(sample: SalesData) -> SnapshotBuilder:
    return SnapshotBuilder(sample)


STAGES = pd.DataFrame({
    "stage": ["Qualification", "Discovery", "Proposal", "Negotiation", "Closed Won", "Closed Lost"],
    "order": [1, 2, 3, 4, 5, 6], "probability": [0.1, 0.25, 0.5, 0.75, 1.0, 0.0],
    "is_closed": [False, False, False, False, True, True], "is_won": [False, False, False, False, True, False],
})


def tiny_crm() -> SalesData:
    """Four deals in 2025Q1, written by hand.

    - A: created 2025-01-02 Qualification 100, Proposal 2025-01-20 (best_case), close date pushed 02-10 -> 03-15
      on 2025-02-05, won 2025-03-15 at 120.
    - B: created 2025-01-05 Negotiation 200 (commit), close 2025-02-20, lost 2025-02-21.
    - C: created 2025-02-01 Discovery 50, close 2025-03-30, still open.
    - D: created 2024-12-20 Proposal 80 (best_case), close 2025-01-10, won 2025-01-10 at 80.
    """
    ts = lambda s: pd.Timestamp(s, tz="UTC")  # noqa: E731
    d = pd.Timestamp
    hist = pd.DataFrame([
        ("A", ts("2025-01-02 10:00"), "Qualification", 100.0, d("2025-02-10"), "pipeline"),
        ("A", ts("2025-01-20 10:00"), "Proposal", 100.0, d("2025-02-10"), "best_case"),
        ("A", ts("2025-02-05 10:00"), "Proposal", 100.0, d("2025-03-15"), "best_case"),
        ("A", ts("2025-03-15 10:00"), "Closed Won", 120.0, d("2025-03-15"), "closed"),
        ("B", ts("2025-01-05 10:00"), "Negotiation", 200.0, d("2025-02-20"), "commit"),
        ("B", ts("2025-02-21 10:00"), "Closed Lost", 200.0, d("2025-02-21"), "omitted"),
        ("C", ts("2025-02-01 10:00"), "Discovery", 50.0, d("2025-03-30"), "pipeline"),
        ("D", ts("2024-12-20 10:00"), "Proposal", 80.0, d("2025-01-10"), "best_case"),
        ("D", ts("2025-01-10 10:00"), "Closed Won", 80.0, d("2025-01-10"), "closed"),
    ], columns=["opportunity_id", "changed_at", "stage", "amount", "close_date", "forecast_category"])
    opps = pd.DataFrame({
        "opportunity_id": ["A", "B", "C", "D"], "account_id": ["a1", "a2", "a3", "a1"],
        "owner_rep_id": ["r1", "r1", "r2", "r2"], "created_date": [d("2025-01-02"), d("2025-01-05"),
                                                                 d("2025-02-01"), d("2024-12-20")],
        "close_date": [d("2025-03-15"), d("2025-02-21"), d("2025-03-30"), d("2025-01-10")],
        "stage": ["Closed Won", "Closed Lost", "Discovery", "Closed Won"], "is_closed": [True, True, False, True],
        "is_won": [True, False, False, True], "amount": [120.0, 200.0, 50.0, 80.0],
        "type": "new_business", "source": ["Referral", "Outbound", "Referral", "Partner"],
    })
    accounts = pd.DataFrame({"account_id": ["a1", "a2", "a3"], "name": ["x", "y", "z"],
                             "segment": ["SMB", "Enterprise", "SMB"]})
    reps = pd.DataFrame({"rep_id": ["r1", "r2", "m1"], "name": ["one", "two", "boss"], "role": ["AE", "AE", "manager"],
                         "team": ["East", "West", "Lead"], "manager_id": ["m1", "m1", None]})
    quotas = pd.DataFrame({"rep_id": ["r1", "r2"], "period_start": [d("2025-01-01")] * 2,
                           "period_end": [d("2025-03-31")] * 2, "amount": [300.0, 100.0], "measure": "bookings"})
    return SalesData(tables={"opportunity_history": hist, "opportunities": opps, "accounts": accounts, "reps": reps,
                             "stages": STAGES.copy(), "quotas": quotas}, as_of=ts("2025-03-31 23:00"))


@pytest.fixture
def tiny() -> SalesData:
    return tiny_crm()
