"""Bottleneck scan: the planted Mid-Market Proposal bottleneck of the sample, and a synthetic history whose
tests are recomputed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.funnel import MissingDataError, bottleneck_scan, find_bottlenecks, select_quarter
from salesops.io import SalesData
from salesops.stats import logrank_test
from salesops.stats.comparisons import two_proportion_test

from .conftest import tiny_data


@pytest.fixture(scope="module")
def scan(sample):
    return bottleneck_scan(sample, by="segment")


def test_sample_flags_mid_market_proposal_from_2025q2_and_nothing_else(scan, truth):
    b = truth["bottleneck"]
    flagged = scan[scan["flagged"]]
    got = sorted(zip(flagged["quarter"], flagged["segment"], flagged["stage"], strict=True))
    assert got == [(q, b["segment"], b["stage"]) for q in ("2025Q2", "2025Q3", "2025Q4")]
    # every quarter before the planted start was scanned and none is flagged
    earlier = scan[scan["quarter"] < "2025Q2"]
    assert earlier["quarter"].nunique() >= 8 and not earlier["flagged"].any()
    assert earlier["p_time"].notna().mean() > 0.9  # tested, not skipped


def test_sample_flagged_sizes_match_the_planted_ones(scan, truth):
    b = truth["bottleneck"]
    rows = scan[scan["flagged"]]
    assert rows["flag_time"].all() and rows["slower"].all()
    assert rows["time_ratio"].between(b["time_in_stage_factor"] * 0.8, b["time_in_stage_factor"] * 1.25).all()
    assert rows["baseline_conversion"].sub(b["conversion_before"]).abs().max() < 0.05
    # pooled over the three flagged quarters, conversion is the planted 40%
    pooled = (rows["conversion"] * rows["resolved"]).sum() / rows["resolved"].sum()
    assert pooled == pytest.approx(b["conversion_after"], abs=0.05)
    assert (rows["conversion_upper"] < b["conversion_before"]).all()
    # a persisting bottleneck does not become its own baseline
    assert set(rows["baseline_quarters"]) == {"2024Q2, 2024Q3, 2024Q4, 2025Q1"}


def test_find_bottlenecks_reads_only_the_past(sample):
    """The quarter's result at its own end is the same whether or not later history exists."""
    h = sample.opportunity_history
    cut = pd.Timestamp("2025-06-30 23:59:59.999999", tz="UTC")
    past = SalesData(tables={**sample.tables, "opportunity_history": h[h["changed_at"] <= cut]}, as_of=cut)
    now = find_bottlenecks(sample, "2025Q2")
    then = find_bottlenecks(past, "2025Q2")
    pd.testing.assert_frame_equal(now, then)
    assert now["flagged"].sum() == 1 and now.iloc[0]["stage"] == "Proposal"


def _synthetic(n: int = 60, slow_from: str = "2025Q1") -> SalesData:
    """Deals entering Proposal, 60 a quarter from 2024Q1 to 2025Q1: 80% advance after 10 days; from
    ``slow_from`` on, 40% advance after 30 days."""
    rows, opps = [], []
    rng = np.random.default_rng(3)
    k = 0
    for q in pd.period_range("2024Q1", "2025Q1", freq="Q"):
        slow = str(q) >= slow_from
        for i in range(n):
            k += 1
            oid = f"O{k:04d}"
            start = q.start_time.tz_localize("UTC") + pd.Timedelta(days=int(rng.integers(0, 50)), hours=12)
            advance = i < (0.4 if slow else 0.8) * n
            stay = pd.Timedelta(days=30 if slow else 10) + pd.Timedelta(hours=int(rng.integers(0, 48)))
            rows.append((oid, start - pd.Timedelta(days=5), "Qualification"))
            rows.append((oid, start, "Proposal"))
            rows.append((oid, start + stay, "Negotiation" if advance else "Closed Lost"))
            opps.append((oid, "new_business"))
    h = pd.DataFrame(rows, columns=["opportunity_id", "changed_at", "stage"])
    h["amount"], h["close_date"] = 100.0, pd.Timestamp("2025-12-31")
    o = pd.DataFrame(opps, columns=["opportunity_id", "type"])
    o["account_id"], o["owner_rep_id"], o["created_date"] = "AC", "R", pd.Timestamp("2024-01-01")
    return SalesData(
        tables={"opportunity_history": h, "opportunities": o},
        as_of=pd.Timestamp("2025-06-30 23:59:59", tz="UTC"),
    )


def test_synthetic_change_is_flagged_with_the_tests_recomputed():
    data = _synthetic()
    scan = bottleneck_scan(
        data, by="type", quarters=["2024Q3", "2024Q4", "2025Q1"], observed_from="2024-01-01"
    )
    prop = scan[scan["stage"] == "Proposal"].set_index("quarter")
    assert list(prop["flagged"]) == [False, False, True]
    r = prop.loc["2025Q1"]
    assert (r["resolved"], r["baseline_resolved"]) == (60, 240)  # every stay lasts under 13 days
    expected = two_proportion_test(24, 60, 192, 240).p_value
    assert r["p_conversion"] == pytest.approx(expected)
    assert r["conversion"] == pytest.approx(0.4) and r["baseline_conversion"] == pytest.approx(0.8)
    assert r["flag_conversion"] and r["flag_time"] and r["time_ratio"] > 2.5
    # Holm over the quarter's family: the smallest p-value is multiplied by the number of tests run, the
    # second smallest by one less
    family = scan[scan["quarter"] == "2025Q1"][["p_conversion", "p_time"]].to_numpy().ravel()
    family = np.sort(family[np.isfinite(family)])
    m = family.size
    assert r["p_time_adj"] == pytest.approx(min(1.0, family[0] * m))
    assert r["p_conversion_adj"] == pytest.approx(min(1.0, max(family[0] * m, family[1] * (m - 1))))


def test_synthetic_time_test_is_the_log_rank_of_the_two_cohorts():
    data = _synthetic()
    scan = bottleneck_scan(data, by=None, quarters=["2024Q2"], observed_from="2024-01-01")
    r = scan[scan["stage"] == "Proposal"].iloc[0]
    h = data.opportunity_history
    entry = h[h["stage"] == "Proposal"].set_index("opportunity_id")["changed_at"]
    leave = h[h["stage"].isin(["Negotiation", "Closed Lost"])].set_index("opportunity_id")["changed_at"]
    days = (leave - entry) / pd.Timedelta(days=1)
    q = entry.dt.tz_localize(None).dt.to_period("Q").astype(str)
    cur, base = days[q == "2024Q2"], days[q == "2024Q1"]
    lr = logrank_test(cur, np.ones(len(cur)), base, np.ones(len(base)))
    assert r["p_time"] == pytest.approx(lr.p_value)
    assert not r["flagged"] and r["baseline_quarters"] == "2024Q1"


def test_too_small_samples_are_not_tested_and_say_so(tiny):
    scan = bottleneck_scan(tiny, by="segment", observed_from="2025-01-01")
    assert not scan["flagged"].any() and scan["p_time"].isna().all()
    assert scan["note"].str.contains("at least 20").all()


def test_missing_history_is_named():
    with pytest.raises(MissingDataError, match="opportunity_history"):
        bottleneck_scan(tiny_data(drop=("opportunity_history",)))


def test_select_quarter_passes_missing_results_through():
    empty = pd.DataFrame()
    empty.attrs["missing"] = "x"
    assert select_quarter(empty, "2025Q1") is empty
