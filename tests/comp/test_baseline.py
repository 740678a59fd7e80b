"""The current plan's year and its totals: the one computation the comp page, metrics.json and the what-if
app share."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from salesops.comp.baseline import PlanCost, plan_cost, plan_year
from salesops.comp.engine import MissingCompInput, compute_payouts


def test_plan_cost_by_hand(tiny):
    year = plan_year("ae_standard", tiny, period="2025")
    # A1 alone (A2 has no quota): base 3 quarters x 25k; variable 2,500 + 500 SPIF + 62,500 + 28,750 - 5,000
    # clawback; bookings 20k + 300k + 120k
    assert year.cost == PlanCost(75_000.0, 89_250.0, 440_000.0, (75_000 + 89_250) / 440_000)
    assert year.cost.total_cost == 164_250.0
    assert year.period == "2025" and year.notes == []


def test_default_period_is_the_latest_year(tiny):
    assert plan_year("ae_standard", tiny).period == "2025"


def test_the_plan_is_fitted_to_the_data(tiny):
    no_revenue = replace(tiny, tables={k: v for k, v in tiny.tables.items() if k != "revenue"})
    with pytest.raises(ValueError, match="revenue"):
        compute_payouts("ae_standard", no_revenue, period="2025")
    year = plan_year("ae_standard", no_revenue, period="2025")
    assert year.plan.clawback is None and "clawback" in year.notes[0]
    assert year.cost.variable_pay == 94_250.0


def test_plan_cost_rounds_to_the_cent_before_the_ratio():
    c = PlanCost.of(1_000.004, 499.996, 3_000.0)
    assert (c.base_pay, c.variable_pay, c.total_cost) == (1_000.0, 500.0, 1_500.0)
    assert c.cost_of_sales == 0.5
    assert math.isnan(PlanCost.of(1.0, 1.0, 0.0).cost_of_sales)


def test_plan_cost_is_the_sum_of_the_payouts(sample):
    r = compute_payouts("ae_standard", sample, period="2025")
    c = plan_cost(r)
    assert c.variable_pay == round(r.payouts["payout"].sum(), 2)
    assert c.base_pay == round(r.payouts["base_pay"].sum(), 2)
    assert c.bookings == round(r.payouts["achieved"].sum(), 2)


@pytest.mark.parametrize(("table", "message"), [("reps", "the reps table is missing"),
                                                 ("quotas", "the quotas table is missing")])
def test_a_missing_table_the_plan_needs_is_a_missing_input_not_a_bug(tiny, table, message):
    without = replace(tiny, tables={k: v for k, v in tiny.tables.items() if k != table})
    with pytest.raises(MissingCompInput, match=message):
        plan_year("ae_standard", without, period="2025")
