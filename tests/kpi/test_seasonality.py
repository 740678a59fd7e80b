"""Bookings per period and the Q4 effect: a hand-made year and the sample's planted seasonality."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.kpi import bookings, q4_uplift


@pytest.fixture
def year(crm):
    # one won deal per quarter of 2024: 100, 200, 300 and 260 in Q4; one lost deal; data from January
    closes = ["2024-02-01", "2024-05-01", "2024-08-01", "2024-11-01", "2024-12-01"]
    opps = pd.DataFrame({
        "opportunity_id": [f"O{i}" for i in range(5)], "account_id": "A", "owner_rep_id": "R",
        "created_date": ["2024-01-02"] * 5, "close_date": closes, "stage": "x",
        "is_closed": True, "is_won": [True, True, True, True, False], "amount": [100.0, 200.0, 300.0, 260.0, 999.0],
        "type": ["new_business", "expansion", "new_business", "new_business", "new_business"],
    })
    return crm(as_of="2024-12-31", opportunities=opps)


def test_bookings_by_hand(year):
    q = bookings(year).set_index("period")
    assert list(q.index) == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert list(q["bookings"]) == [100, 200, 300, 260] and list(q["won_deals"]) == [1, 1, 1, 1]
    by_type = bookings(year, "type", "year").set_index("type")
    assert by_type.loc["new_business", "bookings"] == 660
    months = bookings(year, None, "month")
    assert len(months) == 10 and months["bookings"].sum() == 860  # zero-filled months between


def test_q4_uplift_by_hand(year):
    out = q4_uplift(year, n_boot=200)
    assert list(out["year"]) == ["2024", "all"]
    assert out["uplift"].iloc[0] == pytest.approx(260 / 200 - 1)
    assert out["q4_bookings"].iloc[0] == 260 and out["q1_q3_mean"].iloc[0] == 200
    # an incomplete year is not judged
    assert q4_uplift(year, as_of="2024-11-30").empty


def test_sample_q4_seasonality(sample, truth):
    out = q4_uplift(sample).set_index("year")
    planted = truth["seasonality"]["planted_q4_uplift"]
    for y, realised in truth["seasonality"]["realised"]["by_year"].items():
        assert out.loc[y, "uplift"] == pytest.approx(realised, abs=1e-4)
        assert abs(out.loc[y, "uplift"] - planted) <= 0.05
    pooled = out.loc["all"]
    assert pooled["lower"] < planted < pooled["upper"] and pooled["lower"] > 0  # Q4 is significantly higher
    q = bookings(sample)
    q = q[q["period"] >= "2023"]
    expected = truth["seasonality"]["realised"]["bookings_by_quarter"]
    assert dict(zip(q["period"], q["bookings"])) == pytest.approx(expected)
    # Q4 is each year's biggest quarter
    for y in ("2023", "2024", "2025"):
        year = q[q["period"].str.startswith(y)].set_index("period")["bookings"]
        assert year.idxmax() == f"{y}Q4"


def test_bookings_and_q4_from_transactions(crm):
    # two order lines of one order in Q1, one order in each of Q2 and Q3, two orders in Q4 (a complete year)
    tx = pd.DataFrame({
        "customer_id": ["c1", "c1", "c2", "c3", "c1", "c2"],
        "transaction_id": ["i1", "i1", "i2", "i3", "i4", "i5"],
        "date": ["2024-01-05", "2024-01-05", "2024-05-01", "2024-08-01", "2024-11-01", "2024-12-20"],
        "amount": [10.0, 20.0, 30.0, 30.0, 50.0, 40.0],
    })
    data = crm(as_of="2024-12-31", transactions=tx)
    out = bookings(data, None, "quarter").set_index("period")
    assert out.loc["2024Q1", "won_deals"] == 1 and out.loc["2024Q1", "bookings"] == 30.0
    assert out.loc["2024Q4", "won_deals"] == 2 and out.loc["2024Q4", "bookings"] == 90.0
    uplift = q4_uplift(data, n_boot=50)
    assert str(uplift["year"].iloc[0]) == "2024" and uplift["won_deals"].iloc[0] == 5
    assert uplift["uplift"].iloc[0] == pytest.approx(90.0 / 30.0 - 1.0)
