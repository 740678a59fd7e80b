"""Pipeline size, coverage, velocity, age and stale deals: by hand on the tiny CRM; consistency on the sample;
the Maven reference win rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesops as so
from salesops.funnel import (
    MissingDataError,
    coverage,
    pipeline_age,
    pipeline_size,
    sales_velocity,
    stale_deals,
)

from .conftest import MAVEN, tiny_data, ts


def test_size_by_stage_by_hand(tiny):
    size = pipeline_size(tiny, by="stage", as_of=ts("04-30")).set_index("stage")
    assert list(size.index) == ["Qualification", "Proposal"]  # stage order, only stages with open deals
    assert (size.loc["Qualification", "deals"], size.loc["Qualification", "amount"]) == (4, 18000.0)
    assert (size.loc["Proposal", "deals"], size.loc["Proposal", "amount"]) == (2, 3500.0)
    assert size.loc["Qualification", "weighted_amount"] == pytest.approx(1800.0)  # x 0.10
    assert size.loc["Proposal", "weighted_amount"] == pytest.approx(1750.0)  # x 0.50
    assert size["share"].sum() == pytest.approx(1.0)
    by_seg = pipeline_size(tiny, by=["segment", "forecast_category"], as_of=ts("04-30"))
    smb = by_seg[by_seg["segment"] == "SMB"].set_index("forecast_category")["amount"]
    assert smb.to_dict() == {"best_case": 3500.0, "pipeline": 3000.0}


def test_coverage_by_hand(tiny):
    start = coverage(tiny, "2025Q2", by="segment").set_index("segment")
    assert start.loc["SMB", "quota"] == 10000.0
    assert start.loc["Mid-Market", "quota"] == pytest.approx(36500.0 * 91 / 365)  # annual quota, pro rata
    assert start.loc["SMB", "pipeline"] == 6000.0 and start.loc["SMB", "coverage"] == pytest.approx(0.6)
    assert start.loc["Mid-Market", "pipeline"] == 0.0 and start.loc["Mid-Market", "coverage"] == 0.0
    mid = coverage(tiny, "2025Q2", by="segment", as_of=ts("05-20")).set_index("segment").loc["SMB"]
    assert (mid["won"], mid["quota_open"], mid["pipeline"]) == (1500.0, 8500.0, 4500.0)
    assert mid["coverage"] == pytest.approx(4500 / 8500)
    assert mid["weighted_pipeline"] == pytest.approx(2000 * 0.5 + 2500 * 0.25)
    total = coverage(tiny, "2025Q2", by=None)
    assert total["quota"].item() == pytest.approx(10000 + 9100) and total["pipeline"].item() == 6000.0


def test_coverage_needs_quotas():
    with pytest.raises(MissingDataError, match="quotas table"):
        coverage(tiny_data(drop=("quotas",)), "2025Q2")


def test_velocity_by_hand(tiny):
    v = sales_velocity(tiny, by=None, n_boot=0).iloc[0]
    # open: C; closed in the year: A won (61 days, 1,500), E won (59 days, 5,000), B, D, F lost
    assert (v["open_deals"], v["closed"], v["won"]) == (1, 5, 2)
    assert v["win_rate"] == pytest.approx(0.4)
    assert v["avg_won_amount"] == 3250.0 and v["avg_cycle_days"] == 60.0
    assert v["velocity_per_day"] == pytest.approx(1 * 0.4 * 3250 / 60)
    seg = sales_velocity(tiny, by="segment", n_boot=0).set_index("segment")
    assert seg.loc["SMB", "velocity_per_day"] == pytest.approx(1 * 0.5 * 1500 / 61)
    assert seg.loc["Mid-Market", "velocity_per_day"] == 0.0  # no open deal


def test_velocity_interval_covers_the_estimate(sample):
    v = sales_velocity(sample, by="segment")
    assert (v["velocity_lower"] < v["velocity_per_day"]).all() and (
        v["velocity_per_day"] < v["velocity_upper"]
    ).all()
    assert (v["win_rate_lower"] < v["win_rate"]).all() and (v["win_rate"] < v["win_rate_upper"]).all()


def test_age_and_stale_by_hand(tiny):
    age = pipeline_age(tiny, by="stage")
    assert age.to_dict("records")[0]["median_days"] == pytest.approx(152.0)  # C, created 03-01
    stale = stale_deals(tiny, stale_days=30)
    row = stale.set_index("opportunity_id").loc["C"]
    # an activity on 07-20 keeps C from being idle; its close date (06-25) has passed
    assert row["reasons"] == "past_due" and row["days_idle"] == pytest.approx(11.0)
    assert row["days_past_due"] == 36.0 and stale.attrs["basis"] == "opportunity_history and activities"
    no_acts = stale_deals(tiny_data(drop=("activities",)), stale_days=30).set_index("opportunity_id")
    assert no_acts.loc["C", "reasons"] == "no_change, past_due" and no_acts.loc["C", "days_idle"] == 72.0


def test_sample_pipeline_now_is_the_open_opportunities(sample):
    size = pipeline_size(sample, by=["segment", "stage"])
    opps = sample.opportunities[~sample.opportunities["is_closed"]]
    assert size["deals"].sum() == len(opps)
    assert size["amount"].sum() == pytest.approx(opps["amount"].sum())
    seg = opps["account_id"].map(sample.accounts.set_index("account_id")["segment"])
    assert size.groupby("segment")["amount"].sum().to_dict() == pytest.approx(
        opps.groupby(seg)["amount"].sum().to_dict()
    )


def test_sample_coverage_quota_is_the_quarters_quotas(sample):
    cov = coverage(sample, "2025Q4", by="segment")
    q = sample.quotas
    in_q = q[pd.to_datetime(q["period_start"]).eq("2025-10-01")]
    seg = in_q["rep_id"].map(sample.reps.set_index("rep_id")["segment"])
    assert cov.set_index("segment")["quota"].to_dict() == pytest.approx(
        in_q.groupby(seg)["amount"].sum().to_dict()
    )
    assert (cov["won"] == 0).all() and (cov["coverage"] > 0).all()


def test_maven_win_rate_reference():
    """Maven CRM (real export, no stage history): closed deals 6,711, won 4,238, win rate 0.6315."""
    if not MAVEN.is_dir():
        pytest.skip(f"real data not found at {MAVEN} (it sits beside the checkout)")
    data = so.load(MAVEN, mapping="maven_crm")
    # data.as_of is the last engage date (2017-12-27); deals closed up to 2017-12-31
    v = sales_velocity(data, by=None, as_of="2017-12-31", window_days=100_000, n_boot=0).iloc[0]
    assert (v["closed"], v["won"]) == (6711, 4238)
    assert v["win_rate"] == pytest.approx(0.6315, abs=5e-5)
    assert v["open_deals"] == 0 and v["velocity_per_day"] == 0.0  # open deals have no close date: rejected
    with pytest.raises(MissingDataError, match="opportunity_history"):
        pipeline_size(data, as_of="2017-06-30")
    assert np.isfinite(pipeline_size(data, by=None)["deals"].item())
