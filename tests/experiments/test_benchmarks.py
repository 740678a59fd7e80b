"""Benchmarks file, the company's own figures against the sample's truths, the real export and hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.experiments import benchmarks as bm
from salesops.experiments.page import describe_benchmarks

METRICS = {"win_rate", "sales_cycle_days", "ramp_months", "ltv_to_cac", "cac_payback_months", "quota_attainment"}


def test_every_benchmark_has_a_source_a_year_and_a_definition():
    b = bm.load_benchmarks()
    assert METRICS <= set(b["metric"])
    assert b["source"].str.len().gt(5).all() and b["url"].str.startswith("http").all()
    assert b["definition"].str.len().gt(20).all() and b["statistic"].str.len().gt(3).all()
    assert (b["year"].notna() | b["year_note"].notna()).all()
    assert set(b["kind"]) <= {"survey", "rule_of_thumb"}
    shares = b[b["unit"] == "share"]["value"]
    assert ((shares > 0) & (shares < 1)).all()


def test_a_benchmark_without_source_is_refused(tmp_path):
    good = bm.load_benchmarks().iloc[0].to_dict()
    good["year"] = None if pd.isna(good["year"]) else int(good["year"])
    bad = dict(good, source="")
    import yaml

    path = tmp_path / "b.yaml"
    path.write_text(yaml.safe_dump({"benchmarks": [good, bad]}))
    with pytest.raises(ValueError, match="benchmark 2 \\(win_rate\\).*source"):
        bm.load_benchmarks(path)
    path.write_text(yaml.safe_dump({"benchmarks": [dict(good, year=None, year_note=None)]}))
    with pytest.raises(ValueError, match="no year and no year_note"):
        bm.load_benchmarks(path)


def test_win_rate_and_cycle_match_the_planted_segments(sample, truth):
    wr = bm.win_rate(sample, by="segment", months=None).set_index("segment")
    for seg, v in truth["win_rates"]["realised"].items():
        assert wr.loc[seg, "win_rate"] == pytest.approx(v, abs=1e-6)
        assert wr.loc[seg, "lower"] < v < wr.loc[seg, "upper"]
    cy = bm.sales_cycle(sample, by="segment", months=None).set_index("segment")
    for seg, v in truth["sales_cycle"]["realised_median_days"].items():
        assert cy.loc[seg, "median_days"] == pytest.approx(v)


def test_cac_matches_the_sample(sample, truth):
    c = bm.cac(sample, months=None)
    assert c["new_customers"] == truth["cac"]["new_customers_total"]
    assert c["cac"] == pytest.approx(truth["cac"]["blended_cac"], abs=0.01)


@pytest.mark.parametrize("logo,key", [(True, "realised_monthly_logo"), (False, "realised_monthly")])
def test_churn_matches_the_sample(sample, truth, logo, key):
    ch = bm.monthly_churn(sample.revenue, sample.accounts, by="segment", start="2023-01-01", end="2025-12-01",
                          logo=logo).set_index("segment")
    for seg, v in truth["churn"][key].items():
        assert ch.loc[seg, "churn"] == pytest.approx(v, abs=1e-6)


def test_real_export_matches_its_reference_figures(maven):
    wr = bm.win_rate(maven, months=None)
    assert wr["win_rate"].iat[0] == pytest.approx(0.6315, abs=5e-5)
    assert wr["won"].iat[0] == 4238 and wr["closed"].iat[0] == 4238 + 2473
    assert bm.sales_cycle(maven, months=None)["median_days"].iat[0] == 57


def _tiny():
    ts = pd.Timestamp
    revenue = pd.DataFrame({
        "account_id": ["A", "A", "A", "B", "B", "C"],
        "month": [ts("2025-01-01"), ts("2025-02-01"), ts("2025-03-01"), ts("2025-02-01"), ts("2025-03-01"),
                  ts("2025-03-01")],
        "mrr": [100.0, 100.0, 100.0, 50.0, 0.0, 80.0],
    })
    opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"], "account_id": ["A", "B", "C"],
                         "owner_rep_id": ["R1", "R1", "R2"],
                         "created_date": [ts("2024-12-01"), ts("2025-01-05"), ts("2025-02-01")],
                         "close_date": [ts("2024-12-20"), ts("2025-01-20"), ts("2025-02-25")],
                         "is_closed": [True, True, True], "is_won": [True, True, True],
                         "amount": [1200.0, 600.0, 960.0], "type": ["expansion", "new_business", "new_business"]})
    spend = pd.DataFrame({"month": [ts("2025-01-01"), ts("2025-02-01"), ts("2025-03-01")], "channel": ["W"] * 3,
                          "amount": [100.0, 100.0, 100.0]})
    costs = pd.DataFrame({"month": [ts("2025-01-01"), ts("2025-02-01"), ts("2025-03-01")], "category": ["s"] * 3,
                          "amount": [200.0, 200.0, 200.0]})
    quotas = pd.DataFrame({"rep_id": ["R1", "R2"], "period_start": [ts("2025-01-01")] * 2,
                           "period_end": [ts("2025-03-31")] * 2, "amount": [500.0, 1000.0], "measure": "bookings"})
    return {"revenue": revenue, "opportunities": opps, "marketing_spend": spend, "sales_costs": costs,
            "quotas": quotas}


def test_unit_economics_by_hand():
    t = _tiny()
    c = bm.cac(t, as_of="2025-03-31", months=3)
    # new customers: B and C (A's first won deal is an expansion); costs 900
    assert c["new_customers"] == 2 and c["cac"] == 450.0
    ue = bm.unit_economics(t, as_of="2025-03-31", months=3, gross_margin=0.5)
    # account-months with MRR: A x3 (100), B x1 (50), C x1 (80): ARPA = 430 / 5
    assert ue["arpa"] == pytest.approx(430 / 5)
    # churn: Jan->Feb A active, kept; Feb->Mar A, B active, B lost: 1 / 3
    assert ue["churn"] == pytest.approx(1 / 3)
    assert ue["ltv"] == pytest.approx(430 / 5 * 0.5 * 3)
    # new MRR: B 50 (Feb), C 80 (Mar); A's first month is the grid's first, so not new
    assert ue["new_mrr"] == pytest.approx(65.0)
    assert ue["cac_payback_months"] == pytest.approx(450 / (65 * 0.5))
    assert ue["ltv_to_cac"] == pytest.approx(ue["ltv"] / 450)


def test_quota_attainment_by_hand():
    qa = bm.quota_attainment(_tiny(), as_of="2025-03-31", months=3).set_index("rep_id")
    assert qa.loc["R1", "bookings"] == 600.0 and qa.loc["R1", "attainment"] == pytest.approx(1.2)
    assert qa.loc["R2", "attainment"] == pytest.approx(0.96) and not qa.loc["R2", "made_quota"]
    # a quarter that has not ended by the cutoff does not count yet
    assert bm.quota_attainment(_tiny(), as_of="2025-03-15", months=3).empty


def test_comparison_marks_better_and_worse(sample):
    figures = bm.company_figures(sample, quarter="2025Q4", ramp_months=5.5)
    assert set(figures["metric"]) == METRICS and figures["value"].notna().all()
    cmp = bm.compare_to_benchmarks(figures)
    row = cmp[(cmp["metric"] == "ramp_months")].iloc[0]
    assert row["status"] == "worse" and row["gap"] == pytest.approx(0.5)
    wr = cmp[cmp["metric"] == "win_rate"]
    assert set(wr["status"]) == {"better", "worse"}  # 24% sits between the 21% and 47% benchmarks
    assert "win rate" in describe_benchmarks(cmp)


def test_missing_tables_leave_a_note_not_a_crash(sample):
    tables = {k: v for k, v in sample.tables.items() if k not in ("revenue", "quotas")}
    figures = bm.company_figures(tables, quarter="2025Q4", ramp_months=np.nan).set_index("metric")
    assert np.isnan(figures.loc["ltv_to_cac", "value"]) and "`revenue` table" in figures.loc["ltv_to_cac", "note"]
    assert np.isnan(figures.loc["quota_attainment", "value"]) and "`quotas`" in figures.loc["quota_attainment", "note"]
    assert np.isfinite(figures.loc["win_rate", "value"])
    cmp = bm.compare_to_benchmarks(figures.reset_index())
    assert (cmp.loc[cmp["metric"] == "ltv_to_cac", "status"] == "n/a").all()
