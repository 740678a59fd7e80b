"""CAC blended and by channel, and CAC payback: a hand-made case and the sample's planted CAC."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.kpi import MissingDataError, cac, cac_payback, new_customers


@pytest.fixture
def acquisition(crm):
    # accounts A, B, C won as new customers (A from a Web lead, B and C from Events leads), D an old customer
    # whose first win is an expansion, E won by an AE on their own
    opps = pd.DataFrame({
        "opportunity_id": ["O1", "O2", "O3", "O4", "O5", "O6", "O7"],
        "account_id": ["A", "B", "C", "D", "E", "A", "B"],
        "owner_rep_id": "R",
        "created_date": "2025-01-02",
        "close_date": ["2025-01-20", "2025-02-10", "2025-04-15", "2025-01-05", "2025-04-20", "2025-03-01", "2025-01-05"],
        "stage": "x", "is_closed": True,
        "is_won": [True, True, True, True, True, True, False],
        "amount": 1200.0,
        "type": ["new_business", "new_business", "new_business", "expansion", "new_business", "expansion",
                 "new_business"],
        "source": ["Inbound Web", "Events", "Events", "Existing Customer", "AE Sourced", "Existing Customer", "Events"],
        "lead_id": ["L1", "L2", "L3", None, None, None, "L4"],
    })
    leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4"], "created_at": "2025-01-01 10:00:00",
                          "source": ["Inbound Web", "Events", "Events", "Events"]})
    spend = pd.DataFrame({"month": ["2025-01-01", "2025-01-01", "2025-04-01", "2025-04-01"],
                          "channel": ["Inbound Web", "Events", "Inbound Web", "Events"],
                          "amount": [400.0, 900.0, 200.0, 300.0]})
    costs = pd.DataFrame({"month": ["2025-01-01", "2025-04-01"], "category": "salaries", "amount": [2000.0, 2000.0]})
    revenue = pd.DataFrame({"account_id": ["A", "A", "B", "C", "E", "D"],
                            "month": ["2025-02-01", "2025-03-01", "2025-03-01", "2025-05-01", "2025-06-01", "2025-01-01"],
                            "mrr": [100.0, 150.0, 200.0, 300.0, 400.0, 50.0]})
    return crm(as_of="2025-06-30", opportunities=opps, leads=leads, marketing_spend=spend, sales_costs=costs,
               revenue=revenue)


def test_new_customers_and_their_channel(acquisition):
    nc = new_customers(acquisition).set_index("account_id")
    assert list(nc.index) == ["A", "B", "C", "E"]  # D's first win is an expansion
    assert dict(nc["channel"]) == {"A": "Inbound Web", "B": "Events", "C": "Events", "E": "AE Sourced"}


def test_cac_by_hand(acquisition):
    blended = cac(acquisition, None).iloc[0]
    # (1,800 marketing + 4,000 sales) / 4 new customers
    assert blended["new_customers"] == 4 and blended["cac"] == pytest.approx(5800 / 4)
    assert blended["lower"] < blended["cac"] < blended["upper"]
    ch = cac(acquisition, "channel").set_index("channel")
    # CAC(c) = (M_c + S n_c / N) / n_c = M_c / n_c + S / N, with S / N = 1,000
    assert ch.loc["Events", "cac"] == pytest.approx(1200 / 2 + 1000)
    assert ch.loc["Inbound Web", "cac"] == pytest.approx(600 / 1 + 1000)
    assert ch.loc["AE Sourced", "cac"] == pytest.approx(1000)
    assert ch["sales_costs"].sum() == pytest.approx(4000)
    assert ch["total_cost"].sum() == pytest.approx(blended["total_cost"])
    q = cac(acquisition, None, "quarter").set_index("period")
    assert q.loc["2025Q1", "cac"] == pytest.approx((1300 + 2000) / 2)
    assert q.loc["2025Q2", "cac"] == pytest.approx((500 + 2000) / 2)


def test_cac_payback_by_hand(acquisition):
    pay = cac_payback(acquisition, 0.5, None, end="2025-06-30").iloc[0]
    # first month of revenue on or after the win: A 100 (Feb), B 200, C 300 (May), E 400 (June) -> mean 250
    assert pay["new_mrr"] == pytest.approx(250) and pay["customers_with_revenue"] == 4
    assert pay["payback_months"] == pytest.approx(1450 / (0.5 * 250))
    # the default window ends with the last month of costs (April): revenue booked later is not used
    early = cac_payback(acquisition, 0.5, None).iloc[0]
    assert early["new_mrr"] == pytest.approx(150) and early["customers_with_revenue"] == 2
    with pytest.raises(ValueError, match="gross_margin"):
        cac_payback(acquisition, 0)


def test_missing_tables_are_named(acquisition, crm):
    no_spend = crm(opportunities=acquisition.opportunities, sales_costs=acquisition.sales_costs)
    with pytest.raises(MissingDataError, match="needs the marketing_spend table"):
        cac(no_spend)
    no_costs = crm(opportunities=acquisition.opportunities, marketing_spend=acquisition.marketing_spend)
    with pytest.raises(MissingDataError, match="needs the sales_costs table"):
        cac(no_costs)
    untyped = crm(opportunities=acquisition.opportunities.drop(columns="type"),
                  marketing_spend=acquisition.marketing_spend, sales_costs=acquisition.sales_costs)
    with pytest.raises(MissingDataError, match="opportunities.type"):
        cac(untyped)
    no_rev = crm(**{k: v for k, v in acquisition.tables.items() if k != "revenue"})
    with pytest.raises(MissingDataError, match="CAC payback needs the revenue table"):
        cac_payback(no_rev, 0.8)


def test_sample_cac_by_channel(sample, truth):
    t = truth["cac"]
    ch = cac(sample, "channel").set_index("channel")
    for channel, expected in t["by_channel"].items():
        assert abs(ch.loc[channel, "cac"] / expected["cac"] - 1) <= 0.10, channel
        assert ch.loc[channel, "cac"] == pytest.approx(expected["cac"], rel=1e-6)
        assert ch.loc[channel, "new_customers"] == expected["new_customers"]
        assert ch.loc[channel, "lower"] <= ch.loc[channel, "cac"] <= ch.loc[channel, "upper"]
    blended = cac(sample, None).iloc[0]
    assert blended["cac"] == pytest.approx(t["blended_cac"], rel=1e-6)
    assert blended["new_customers"] == t["new_customers_total"]
    # planted cost per lead: Events leads are the dearest, Referral the cheapest marketing per customer
    marketing = ch["marketing_spend"] / ch["new_customers"]
    assert marketing.drop("AE Sourced").idxmax() == "Events" and marketing.drop("AE Sourced").idxmin() == "Referral"


def test_blended_cac_needs_no_channel(acquisition, crm):
    opps = acquisition.opportunities.drop(columns=["source", "lead_id"])
    data = crm(opportunities=opps, marketing_spend=acquisition.marketing_spend, sales_costs=acquisition.sales_costs)
    assert cac(data, None)["cac"].iloc[0] == pytest.approx(5800 / 4)
    with pytest.raises(MissingDataError, match="CAC by channel needs an acquisition channel"):
        cac(data, "channel")
