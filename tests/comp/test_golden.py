"""Hand-computed payouts for every template plan on the tiny CRM of conftest.py."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.comp.engine import compute_payouts, cost_of_sales
from salesops.comp.plan import list_templates


def _row(result, rep, period):
    p = result.payouts
    return p[(p["rep_id"] == rep) & (p["period"] == pd.Period(period, "Q"))].iloc[0]


def _lines(result, rep, period, line="commission"):
    s = result.statements
    return s[(s["rep_id"] == rep) & (s["period"] == pd.Period(period, "Q")) & (s["line"] == line)]


def test_every_template_has_a_golden_test():
    assert set(list_templates()) == {"ae_standard", "ae_two_measure", "ae_new_hire", "sdr_sql"}


def test_ae_standard_tiers_statements_and_clawback(tiny):
    r = compute_payouts("ae_standard", tiny)
    q4 = _row(r, "A1", "2025Q4")
    # quota 100k, bookings 40k + 50k + 30k = 120k (the lost 10k D4 does not count): x = 1.2
    # G(1.2) = 0.5 x 0.5 + 1.0 x 0.5 + 2.0 x 0.2 = 1.15; target 200k x 0.5 / 4 = 25k -> 28,750
    assert q4["attainment"] == pytest.approx(1.2)
    assert q4["commission"] == 28_750.0
    lines = _lines(r, "A1", "2025Q4")
    assert lines["item_id"].tolist() == ["D1", "D2", "D3"]
    # D1: 0 -> 0.4: 0.2 x 25k; D2: 0.4 -> 0.9: 0.65 x 25k - 5k; D3: 0.9 -> 1.2: 28,750 - 16,250
    assert lines["amount"].tolist() == [5_000.0, 11_250.0, 12_500.0]
    assert lines["tier"].tolist() == ["0%-50% @ 0.5", "50%-100% @ 1", "100%+ @ 2"]
    # AC1 (deal D1, closed 2025-10-10) has no MRR from 2025-12: churned 52 days after close -> D1's 5,000 back
    claw = _lines(r, "A1", "2025Q4", "clawback")
    assert claw["item_id"].tolist() == ["D1"] and claw["amount"].tolist() == [-5_000.0]
    assert q4["payout"] == 23_750.0
    # Q3: 300k on a 100k quota: G = 0.25 + 0.5 + 2 x 2 = 4.75, capped at 2.5 -> 62,500
    q3 = _row(r, "A1", "2025Q3")
    assert q3["commission"] == 62_500.0 and q3["payout"] == 62_500.0
    assert _lines(r, "A1", "2025Q3")["tier"].iloc[0] == "capped at 2.5x"
    # Q2: 20k Analytics Add-on deal: G(0.2) = 0.1 -> 2,500, plus the 500 SPIF
    q2 = _row(r, "A1", "2025Q2")
    assert (q2["commission"], q2["spif"], q2["payout"]) == (2_500.0, 500.0, 3_000.0)
    # A2 has no quota row: not in scope of a plan that reads the quotas table
    assert "A2" not in set(r.payouts["rep_id"])


def test_ae_two_measure_weights(tiny):
    r = compute_payouts("ae_two_measure", tiny, period="2025Q4")
    # new business 70k vs 0.7 x 100k: x = 1 -> 1.0 x (0.7 x 22,500) = 15,750
    # expansion 50k vs 0.3 x 100k: x = 5/3 -> (1 + 1.5 x 2/3) x (0.3 x 22,500) = 13,500
    m = r.measures.set_index("measure")
    assert m.loc["new_business", "commission"] == 15_750.0
    assert m.loc["expansion", "commission"] == 13_500.0
    assert _row(r, "A1", "2025Q4")["payout"] == 29_250.0


def test_ae_new_hire_ramp_proration_and_recoverable_draw(tiny):
    r = compute_payouts("ae_new_hire", tiny)
    q3 = _row(r, "A2", "2025Q3")
    # hired 2025-08-16: 46 of 92 days employed; tenure month 0 for 31 days (x0.25), month 1 for 15 (x0.5)
    assert q3["employed_share"] == pytest.approx(0.5)
    assert q3["quota"] == pytest.approx(150_000 * (31 * 0.25 + 15 * 0.5) / 92)
    assert q3["target_incentive"] == pytest.approx(10_000.0)
    x = 30_000 / (150_000 * 15.25 / 92)
    assert q3["commission"] == round(10_000 * (1 + 1.5 * (x - 1)), 2)
    q4 = _row(r, "A2", "2025Q4")
    # months 1 (15 days x 0.5), 2 (31 days x 0.75), then full: quota 150k x 76.75 / 92
    assert q4["quota"] == pytest.approx(150_000 * 76.75 / 92)
    # nothing earned in the second period: the draw pays 6,000 and the rep owes it back
    assert (q4["commission"], q4["draw_adjustment"], q4["payout"]) == (0.0, 6_000.0, 6_000.0)


def test_sdr_per_sql_with_non_recoverable_draw(tiny):
    r = compute_payouts("sdr_sql", tiny)
    q3, q4 = _row(r, "S1", "2025Q3"), _row(r, "S1", "2025Q4")
    # Q3: 10 SQLs x 150 = 1,500, topped up to the 3,000 draw
    assert (q3["commission"], q3["draw_adjustment"], q3["payout"]) == (1_500.0, 1_500.0, 3_000.0)
    # Q4: 45 x 150 + 5 x 225 = 7,875 (no recovery: the draw is non-recoverable)
    assert (q4["commission"], q4["draw_adjustment"], q4["payout"]) == (7_875.0, 0.0, 7_875.0)


@pytest.mark.parametrize("name", ["ae_standard", "ae_two_measure", "ae_new_hire", "sdr_sql"])
def test_statements_sum_exactly_to_payouts(tiny, sample, name):
    for data in (tiny, sample):
        r = compute_payouts(name, data)
        total = r.statements.groupby(["rep_id", "period"])["cents"].sum()
        idx = pd.MultiIndex.from_frame(r.payouts[["rep_id", "period"]])
        cents = (r.payouts["payout"] * 100).round().astype("int64").to_numpy()
        assert (total.reindex(idx).fillna(0).astype("int64").to_numpy() == cents).all()


def test_cost_of_sales_by_hand(tiny):
    r = compute_payouts("ae_standard", tiny, period="2025Q4")
    cos = cost_of_sales(r, by=None).iloc[0]
    # base 25,000 + payout 23,750 over 120,000 booked
    assert cos["total_cost"] == 48_750.0
    assert cos["cost_of_sales"] == pytest.approx(48_750 / 120_000)


def test_missing_table_is_named(tiny):
    tiny.tables.pop("revenue")
    with pytest.raises(ValueError, match="revenue table is missing"):
        compute_payouts("ae_standard", tiny)
    tiny.tables.pop("leads")
    with pytest.raises(ValueError, match="leads.sql_at"):
        compute_payouts("sdr_sql", tiny)


def test_rep_statement_and_totals(tiny):
    from salesops.comp.statements import rep_statement, statement_totals

    r = compute_payouts("ae_standard", tiny)
    st = rep_statement(r, "A1", "2025Q4")
    assert st["line"].tolist() == ["commission"] * 3 + ["clawback"]
    assert st["amount"].sum() == 23_750.0
    totals = statement_totals(r)
    assert (totals["difference"] == 0).all()
    q2 = totals[(totals["rep_id"] == "A1") & (totals["period"] == pd.Period("2025Q2", "Q"))].iloc[0]
    assert (q2["commission"], q2["spif"], q2["statement_total"]) == (2_500.0, 500.0, 3_000.0)
    with pytest.raises(ValueError, match="no payout"):
        rep_statement(r, "nobody")


def test_plan_parts_the_data_cannot_support_are_left_out_with_a_note(tiny):
    from salesops.comp.engine import fit_plan_to_data

    tiny.tables.pop("revenue")
    tiny.tables["opportunities"] = tiny.opportunities.drop(columns="product")
    plan, notes = fit_plan_to_data("ae_standard", tiny)
    assert plan.clawback is None and plan.spif is None
    assert notes == ["clawback within 90 days left out: the revenue table is missing",
                     "SPIF left out: opportunities.product is missing"]
    r = compute_payouts(plan, tiny, period="2025Q4")
    assert r.payouts.set_index("rep_id").loc["A1", "payout"] == 28_750.0


def test_leaver_is_prorated(tiny):
    reps = tiny.reps.copy()
    reps.loc[reps["rep_id"] == "A1", "end_date"] = pd.Timestamp("2025-11-15")
    tiny.tables["reps"] = reps
    r = compute_payouts("ae_new_hire", tiny, period="2025Q4")
    row = r.payouts.set_index("rep_id").loc["A1"]
    # employed 2025-10-01..2025-11-15: 46 of 92 days; tenured, so the ramp is done
    assert row["employed_share"] == pytest.approx(0.5)
    assert row["quota"] == pytest.approx(75_000.0) and row["target_incentive"] == pytest.approx(10_000.0)
    # deals after the leaving day still credit the rep (they closed them); 120k booked on a 75k quota:
    # x = 1.6 -> (1 + 1.5 x 0.6) x 10,000 = 19,000, under the 2x cap
    assert row["commission"] == 19_000.0
