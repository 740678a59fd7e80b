"""Ramp: the planted ramp of the sample, hand-computed panels, survival-aware times, and the messages."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salesops.experiments.common import MissingData
from salesops.people import ramp as rp


def test_ramp_time_recovers_the_planted_one(ramp, truth):
    planted = truth["ramp"]["months_to_90pct"]
    est = ramp.months_to_target
    assert est.available, est.message
    assert abs(est.value - planted) <= 1.0, (est.value, planted)
    assert est.lower <= planted <= est.upper
    assert est.n == truth["ramp"]["realised"]["hires"]  # every AE hired inside the data's span


def test_ramp_curve_rises_from_about_a_fifth_to_parity(ramp, truth):
    curve = ramp.curve.set_index("k")
    realised = truth["ramp"]["realised"]["ratio_by_tenure_month"]
    # first month: the planted window mean of 1 - exp(-m / tau) is about 0.2; the last months sit near 1
    assert abs(curve.loc[0, "ratio"] - realised[0]) < 0.1
    assert curve.loc[8:, "ratio"].mean() == pytest.approx(1.0, abs=0.12)
    assert (curve["lower"] <= curve["ratio"]).all() and (curve["ratio"] <= curve["upper"]).all()


def _tiny(peer_counts=(4, 2), hire_counts=(1, 2, 3, 3), hire_end=None):
    """A team of two tenured AEs and one hire on 2024-01-01; each opens `n` new-business deals per tenure month."""
    reps = pd.DataFrame({
        "rep_id": ["P1", "P2", "H1"], "name": ["p1", "p2", "h1"], "role": ["AE"] * 3, "team": ["T"] * 3,
        "segment": ["SMB"] * 3,
        "hire_date": pd.to_datetime(["2020-01-01", "2020-01-01", "2024-01-01"]),
        "end_date": pd.to_datetime([None, None, hire_end]),
    })
    rows = []
    start = pd.Timestamp("2024-01-01")
    for k in range(len(hire_counts)):
        day = start + pd.Timedelta(days=rp.DAYS_PER_MONTH * k + 3)
        for rep, n in (("P1", peer_counts[0]), ("P2", peer_counts[1]), ("H1", hire_counts[k])):
            rows += [{"owner_rep_id": rep, "created_date": day}] * n
    opps = pd.DataFrame(rows)
    opps["opportunity_id"] = [f"O{i}" for i in range(len(opps))]
    opps["account_id"] = "A1"
    opps["close_date"] = opps["created_date"] + pd.Timedelta(days=20)
    opps["is_closed"] = True
    opps["is_won"] = [i % 2 == 0 for i in range(len(opps))]
    opps["amount"] = 100.0
    opps["type"] = "new_business"
    opps["stage"] = np.where(opps["is_won"], "Closed Won", "Closed Lost")
    first_close = pd.DataFrame([{"opportunity_id": "OLD", "account_id": "A1", "owner_rep_id": "P1",
                                 "created_date": pd.Timestamp("2023-06-01"), "close_date": pd.Timestamp("2023-07-01"),
                                 "is_closed": True, "is_won": True, "amount": 1.0, "type": "renewal",
                                 "stage": "Closed Won"}])
    return {"reps": reps, "opportunities": pd.concat([first_close, opps], ignore_index=True)}


def test_tenure_panel_by_hand():
    tables = _tiny()
    panel = rp.tenure_panel(tables, as_of="2024-05-31", observed_from="2023-07-01")
    assert list(panel["k"]) == [0, 1, 2, 3]
    # peers open 4 and 2 a month: median 3; the hire 1, 2, 3, 3
    assert list(panel["peer_value"]) == [3.0, 3.0, 3.0, 3.0]
    assert list(panel["ratio"]) == pytest.approx([1 / 3, 2 / 3, 1.0, 1.0])
    assert (panel["n_peers"] == 2).all()
    mean_panel = rp.tenure_panel(tables, as_of="2024-05-31", observed_from="2023-07-01", peer_stat="mean")
    assert list(mean_panel["peer_value"]) == [3.0] * 4


def test_only_complete_months_while_employed_count():
    # the cutoff falls inside month 3: months 0-2 only
    panel = rp.tenure_panel(_tiny(), as_of="2024-04-15", observed_from="2023-07-01")
    assert list(panel["k"]) == [0, 1, 2]
    # the hire leaves in month 2: months 0-1 only
    panel = rp.tenure_panel(_tiny(hire_end="2024-03-10"), as_of="2024-05-31", observed_from="2023-07-01")
    assert list(panel["k"]) == [0, 1]
    # hired before the data start: not a ramp case
    panel = rp.tenure_panel(_tiny(), as_of="2024-05-31", observed_from="2024-02-01")
    assert panel.empty


def test_fit_recovers_an_exact_curve():
    tau = 2.0
    k = np.arange(12)
    rows = []
    for rep in ("A", "B", "C", "D"):
        for kk in k:
            rows.append({"rep_id": rep, "k": kk, "value": 100 * rp._window_curve(np.array([kk]), tau)[0],
                         "peer_value": 100.0})
    est, fitted = rp.fit_ramp(pd.DataFrame(rows), target=0.9, n_boot=20)
    assert fitted == pytest.approx(tau, rel=1e-3)
    assert est.value == pytest.approx(tau * math.log(10), rel=1e-3)
    assert est.lower == pytest.approx(est.value, rel=1e-3) and est.upper == pytest.approx(est.value, rel=1e-3)


def test_too_few_hires_gives_a_message():
    panel = rp.tenure_panel(_tiny(), as_of="2024-05-31", observed_from="2023-07-01")
    est, tau = rp.fit_ramp(panel)
    assert not est.available and math.isnan(tau)
    assert "1 hire(s)" in est.message and "at least 3" in est.message
    study = rp.ramp_study(_tiny(), as_of="2024-05-31")
    assert not study.available and "at least 3" in study.months_to_target.message


def test_time_to_productivity_by_hand():
    panel = pd.DataFrame({
        "rep_id": ["A"] * 5 + ["B"] * 3,
        "cohort": ["2024"] * 5 + ["2025"] * 3,
        "k": [0, 1, 2, 3, 4, 0, 1, 2],
        "value": [1, 2, 3, 3, 3, 1, 1, 1],
        "peer_value": [3.0] * 8,
    })
    per_rep, summary = rp.time_to_productivity(panel, target=0.9, rolling=3)
    a = per_rep.set_index("rep_id")
    # A: rolling sums 6/9, 8/9, 9/9 -> first at k = 4, i.e. 5 months; B never: censored at 3 months
    assert a.loc["A", "months"] == 5.0 and a.loc["A", "ramped"]
    assert a.loc["B", "months"] == 3.0 and not a.loc["B", "ramped"]
    s = summary.set_index("group")
    assert s.loc["2024", "median_months"] == 5.0
    assert math.isnan(s.loc["2025", "median_months"]) and "censored" in s.loc["2025", "note"]


def test_time_to_first_deal_is_censored_at_the_end_of_observation():
    tables = _tiny()
    reps = tables["reps"]
    extra = pd.DataFrame({"rep_id": ["H2", "H3"], "name": ["h2", "h3"], "role": ["AE", "AE"], "team": ["T", "T"],
                          "segment": ["SMB", "SMB"], "hire_date": pd.to_datetime(["2024-02-01", "2024-03-01"]),
                          "end_date": pd.to_datetime(["2024-04-01", None])})
    tables["reps"] = pd.concat([reps, extra], ignore_index=True)
    per_rep, summary, curves = rp.time_to_first_deal(tables, as_of="2024-05-31", by=None)
    r = per_rep.set_index("rep_id")
    # H1 opens deals from day 3; its first (won) closes 20 days later
    assert r.loc["H1", "won"] and r.loc["H1", "days"] == 23
    assert not r.loc["H2", "won"] and r.loc["H2", "days"] == (pd.Timestamp("2024-04-01") - pd.Timestamp("2024-02-01")).days
    assert not r.loc["H3", "won"] and r.loc["H3", "days"] == (pd.Timestamp("2024-05-31") - pd.Timestamp("2024-03-01")).days
    assert set(curves["group"]) == {"all"} and curves["survival"].iloc[0] == 1.0
    assert summary.set_index("group").loc["all", "events"] == 1


def test_sample_first_deal_by_cohort(ramp):
    s = ramp.first_deal_summary.set_index("group")
    assert {"2023", "2024", "2025", "all"} <= set(s.index)
    assert s.loc["all", "hires"] == 11
    # the hires of late 2025 have not all won yet: censored, counted for as long as they were seen
    assert s.loc["2025", "events"] < s.loc["2025", "hires"]
    assert 30 <= s.loc["all", "median_days"] <= 200


def test_missing_hire_date_is_named():
    tables = _tiny()
    tables["reps"] = tables["reps"].drop(columns=["hire_date"])
    with pytest.raises(MissingData, match="hire_date"):
        rp.tenure_panel(tables)
    study = rp.ramp_study(tables)
    assert not study.available and "hire_date" in study.message


def test_real_export_without_hire_dates_says_so():
    import salesops as so

    maven = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "maven_crm_sales_opportunities"
    if not maven.is_dir():
        pytest.skip(f"real data set not found at {maven} (the real data sets live beside the checkout)")
    data = so.load(maven, mapping="maven_crm")
    study = rp.ramp_study(data)
    assert not study.available and "hire_date" in study.message
