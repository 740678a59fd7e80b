"""Fixtures of the comp tests: a tiny hand-made CRM whose payouts are computed by hand in the tests, and the
committed sample (loaded once per session) with its planted truths."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from salesops.io.data import SalesData

ROOT = Path(__file__).resolve().parents[2]


def _d(text):
    return pd.Timestamp(text)


def tiny_crm() -> SalesData:
    """Reps A1 (tenured AE), A2 (AE hired 2025-08-16), S1 (SDR), M1 (manager of A1 and A2)."""
    reps = pd.DataFrame({
        "rep_id": ["A1", "A2", "S1", "M1"], "name": ["a1", "a2", "s1", "m1"],
        "role": ["AE", "AE", "SDR", "manager"], "manager_id": ["M1", "M1", None, None],
        "hire_date": [_d("2020-01-01"), _d("2025-08-16"), _d("2020-01-01"), _d("2019-01-01")],
        "end_date": [pd.NaT] * 4,
    })
    opps = pd.DataFrame([
        # id, account, owner, close, type, product, amount
        ("D5", "AC5", "A1", "2025-05-01", "new_business", "Analytics Add-on", 20_000.0),
        ("D6", "AC6", "A1", "2025-08-01", "new_business", "Core Platform", 300_000.0),
        ("D7", "AC7", "A2", "2025-09-10", "new_business", "Core Platform", 30_000.0),
        ("D1", "AC1", "A1", "2025-10-10", "new_business", "Core Platform", 40_000.0),
        ("D2", "AC2", "A1", "2025-11-05", "expansion", "Core Platform", 50_000.0),
        ("D3", "AC3", "A1", "2025-12-01", "new_business", "Core Platform", 30_000.0),
        ("D4", "AC4", "A1", "2025-12-15", "renewal", "Core Platform", 10_000.0),
    ], columns=["opportunity_id", "account_id", "owner_rep_id", "close_date", "type", "product", "amount"])
    opps["close_date"] = pd.to_datetime(opps["close_date"])
    opps["is_won"] = opps["opportunity_id"] != "D4"  # D4 was lost: it counts for nothing
    opps["is_closed"] = True
    quotas = pd.DataFrame({
        "rep_id": ["A1"] * 3, "period_start": pd.to_datetime(["2025-04-01", "2025-07-01", "2025-10-01"]),
        "period_end": pd.to_datetime(["2025-06-30", "2025-09-30", "2025-12-31"]),
        "amount": [100_000.0] * 3, "measure": "bookings",
    })
    sql_q3 = pd.date_range("2025-07-02", periods=10, freq="D", tz="UTC")
    sql_q4 = pd.date_range("2025-10-02", periods=50, freq="D", tz="UTC")
    sql = sql_q3.append(sql_q4)
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(len(sql))], "owner_rep_id": "S1", "sql_at": sql})
    revenue = pd.DataFrame({
        "account_id": ["AC1", "AC6", "AC6", "AC6", "AC6"],
        "month": pd.to_datetime(["2025-11-01", "2025-09-01", "2025-10-01", "2025-11-01", "2025-12-01"]),
        "mrr": [3333.0, 25_000.0, 25_000.0, 25_000.0, 25_000.0],
    })
    tables = {"reps": reps, "opportunities": opps, "quotas": quotas, "leads": leads, "revenue": revenue}
    return SalesData(tables=tables, as_of=pd.Timestamp("2025-12-31 23:59", tz="UTC"))


@pytest.fixture
def tiny() -> SalesData:
    return tiny_crm()
