"""Headline KPIs: hand-computed figures on the tiny CRM, and the sample's planted truths."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from salesops.summary import (
    headline_kpis,
    kpis_by_quarter,
    next_quarter_pipeline,
    quarter_kpis,
    quarter_quota,
)

Z95 = 1.959963984540054


def wilson(x: int, n: int) -> tuple[float, float]:
    p = x / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 / (1 + Z95**2 / n) * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2))
    return centre - half, centre + half


def as_dict(frame: pd.DataFrame, column: str = "value", group: str = "all") -> dict[str, float]:
    part = frame[frame["group"] == group]
    return dict(zip(part["kpi"], part[column], strict=True))


# --- hand computations on the tiny CRM -------------------------------------------------------------------------


def test_quarter_kpis_by_hand(tiny):
    k = quarter_kpis(tiny, "2025Q4")
    v = as_dict(k)
    assert v["bookings"] == 400.0
    assert v["deals_won"] == 2
    assert v["win_rate"] == pytest.approx(2 / 3)
    lo, hi = wilson(2, 3)
    assert as_dict(k, "lower")["win_rate"] == pytest.approx(lo)
    assert as_dict(k, "upper")["win_rate"] == pytest.approx(hi)
    assert v["avg_deal_size"] == 200.0
    assert v["median_cycle_days"] == 50.0  # 40 and 60 days
    assert v["new_pipeline"] == 250 + 80 + 400  # A2 at creation (250, not its won 300), A3, D1
    assert v["next_quarter_pipeline"] == 400.0  # D1 expected 2026-02-01 as of 2025-12-31 (pushed only in 2026)
    assert v["next_quarter_coverage"] == pytest.approx(400 / 200)
    assert v["activities_per_rep_day"] == pytest.approx(3 / (62 + 22))


def test_by_segment_by_hand(tiny):
    k = quarter_kpis(tiny, "2025Q4", by="segment")
    assert set(k["group"]) == {"ENT", "SMB"}
    smb, ent = as_dict(k, group="SMB"), as_dict(k, group="ENT")
    assert (smb["bookings"], ent["bookings"]) == (100.0, 300.0)
    assert (smb["win_rate"], ent["win_rate"]) == (0.5, 1.0)
    assert smb["activities_per_rep_day"] == pytest.approx(2 / 62)
    assert ent["activities_per_rep_day"] == pytest.approx(1 / 22)
    assert ent["next_quarter_pipeline"] == 400.0 and smb["next_quarter_pipeline"] == 0.0
    assert quarter_quota(tiny, "2025Q4", by="segment").to_dict() == {"ENT": 250.0, "SMB": 150.0}


def test_headline_against_previous_last_year_and_target(tiny):
    h = headline_kpis(tiny, "2025Q4")
    b = h[h["kpi"] == "bookings"].iloc[0]
    assert (b["previous"], b["last_year"], b["target"]) == (200.0, 50.0, 400.0)
    assert b["change_vs_previous"] == pytest.approx(1.0)
    assert b["change_vs_last_year"] == pytest.approx(7.0)
    assert b["vs_target"] == pytest.approx(1.0)
    w = h[h["kpi"] == "win_rate"].iloc[0]
    assert w["change_vs_previous"] == pytest.approx(2 / 3 - 1 / 2)  # share points for rates
    assert np.isnan(h.loc[h["kpi"] == "deals_won", "target"]).all()  # only bookings have a target


def test_pipeline_as_seen_at_quarter_end_uses_no_later_change(tiny):
    pipe = next_quarter_pipeline(tiny, "2025Q4")
    assert pipe["amount"].tolist() == [400.0]
    # seen from the end of 2026Q1 D1 is expected in 2026Q2 (pushed on 2026-01-10)
    assert next_quarter_pipeline(tiny, "2026Q1")["amount"].sum() == 400.0


def test_missing_tables_are_named(tiny):
    from salesops.io.data import SalesData

    no_history = SalesData(tables={k: v for k, v in tiny.tables.items() if k != "opportunity_history"})
    k = quarter_kpis(no_history, "2025Q4")
    row = k[k["kpi"] == "next_quarter_pipeline"].iloc[0]
    assert np.isnan(row["value"]) and "opportunity_history" in row["note"]
    with pytest.raises(ValueError, match="opportunity_history"):
        next_quarter_pipeline(no_history, "2025Q4")
    with pytest.raises(ValueError, match="opportunities"):
        quarter_kpis(SalesData(tables={}), "2025Q4")
    with pytest.raises(ValueError, match="'nowhere'"):
        quarter_kpis(tiny, "2025Q4", by="nowhere")


def test_coverage_falls_back_to_this_quarters_quota_and_says_so(tiny):
    from salesops.io.data import SalesData

    quotas = tiny.quotas[tiny.quotas["period_start"] < pd.Timestamp("2026-01-01")]
    data = SalesData(tables={**tiny.tables, "quotas": quotas})
    row = quarter_kpis(data, "2025Q4").set_index("kpi").loc["next_quarter_coverage"]
    assert row["value"] == pytest.approx(400 / 400)
    assert "no bookings quota for 2026Q1" in row["note"]


def test_missing_quota_target_is_said_on_the_bookings_row(tiny, monkeypatch):
    from salesops.io.data import SalesData
    from salesops.summary import kpis as kpis_module

    no_quotas = SalesData(tables={k: v for k, v in tiny.tables.items() if k != "quotas"})
    b = headline_kpis(no_quotas, "2025Q4").set_index("kpi").loc["bookings"]
    assert np.isnan(b["target"]) and b["note"].startswith("no bookings target: ") and "quotas" in b["note"]
    # a quotas table without a bookings quota for the quarter: said too, per group
    later = SalesData(tables={**tiny.tables, "quotas": tiny.quotas[tiny.quotas["period_start"] >= "2026-01-01"]})
    b = headline_kpis(later, "2025Q4", by="segment")
    b = b[b["kpi"] == "bookings"]
    assert b["target"].isna().all()
    assert b["note"].str.contains("no bookings quota for 2025Q4").all()
    # a quota for one group only: the other group's row says it has none, the first keeps its target and no note
    one = SalesData(tables={**tiny.tables, "quotas": tiny.quotas[tiny.quotas["rep_id"] == "r1"]})
    b = headline_kpis(one, "2025Q4", by="segment").query("kpi == 'bookings'").set_index("group")
    assert b.loc["SMB", "target"] == 150.0 and b.loc["SMB", "note"] == ""
    assert np.isnan(b.loc["ENT", "target"]) and "no bookings quota" in b.loc["ENT", "note"]
    # a grouping the quotas cannot be split by (an account column): said, not swallowed
    accounts = tiny.accounts.assign(industry=["Retail", "Banking"])
    by_industry = headline_kpis(SalesData(tables={**tiny.tables, "accounts": accounts}), "2025Q4", by="industry")
    notes = by_industry.loc[by_industry["kpi"] == "bookings", "note"]
    assert notes.str.contains("no bookings target: Quota by 'industry'").all()
    # any other error is not caught
    def broken(*args, **kwargs):
        raise ValueError("a bug, not a missing table")

    monkeypatch.setattr(kpis_module, "quarter_quota", broken)
    with pytest.raises(ValueError, match="a bug"):
        headline_kpis(tiny, "2025Q4")


# --- the sample's planted truths -------------------------------------------------------------------------------

QUARTERS = [f"{y}Q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)]


@pytest.fixture(scope="module")
def by_quarter(sample):
    return kpis_by_quarter(sample, QUARTERS, by="segment")


def test_bookings_by_quarter_equal_a_direct_sum_and_the_truth(sample, truth):
    k = kpis_by_quarter(sample, QUARTERS)
    ours = k[k["kpi"] == "bookings"].set_index("period")["value"]
    o = sample.opportunities
    won = o[o["is_won"]]
    direct = won.groupby(won["close_date"].dt.to_period("Q").astype(str).str.replace("Q", "Q"))["amount"].sum()
    for q in QUARTERS:
        assert ours[q] == pytest.approx(direct[q])
        assert ours[q] == pytest.approx(truth["seasonality"]["realised"]["bookings_by_quarter"][q])
    for year in (2023, 2024, 2025):  # planted Q4 seasonality: Q4 above each other quarter of its year
        assert ours[f"{year}Q4"] > max(ours[f"{year}Q{i}"] for i in (1, 2, 3))
        uplift = ours[f"{year}Q4"] / np.mean([ours[f"{year}Q{i}"] for i in (1, 2, 3)]) - 1
        assert uplift == pytest.approx(truth["seasonality"]["planted_q4_uplift"], abs=0.01)


def test_win_rates_by_segment_recover_the_truth(by_quarter, truth):
    wr = by_quarter[by_quarter["kpi"] == "win_rate"]
    won = by_quarter[by_quarter["kpi"] == "deals_won"].groupby("group")["value"].sum()
    closed = wr.groupby("group")["n"].sum()
    for segment, planted in truth["win_rates"]["planted"].items():
        assert won[segment] / closed[segment] == pytest.approx(truth["win_rates"]["realised"][segment], abs=0.01)
        assert won[segment] / closed[segment] == pytest.approx(planted, abs=0.015)


def test_sales_cycle_and_bottleneck(by_quarter, truth):
    cyc = by_quarter[(by_quarter["kpi"] == "median_cycle_days") & by_quarter["period"].str.startswith("2024")]
    planted = truth["sales_cycle"]["planted_median_days"]
    for segment in ("SMB", "Enterprise"):
        median = cyc.loc[cyc["group"] == segment, "value"].median()
        assert median == pytest.approx(planted[segment], rel=0.1)
    # the planted Mid-Market Proposal bottleneck (from 2025-04-01) lengthens its cycle in 2025H2
    mm = by_quarter[(by_quarter["kpi"] == "median_cycle_days") & (by_quarter["group"] == "Mid-Market")]
    mm = mm.set_index("period")["value"]
    assert mm[["2025Q3", "2025Q4"]].min() > planted["Mid-Market"] * 1.1


def test_activities_per_ae_day_recover_the_truth(by_quarter, sample, truth):
    k = quarter_kpis(sample, "2025Q4")
    value = k.set_index("kpi").loc["activities_per_rep_day", "value"]
    assert value == pytest.approx(truth["activities"]["planted_per_working_day"]["AE"], abs=0.5)


def test_quota_and_attainment_of_the_sample(sample):
    q = sample.quotas
    direct = q[(q["period_start"] >= "2025-10-01") & (q["period_end"] <= "2025-12-31")]["amount"].sum()
    assert quarter_quota(sample, "2025Q4").sum() == pytest.approx(direct)
    h = headline_kpis(sample, "2025Q4").set_index("kpi")
    assert h.loc["bookings", "vs_target"] == pytest.approx(h.loc["bookings", "value"] / direct)
    assert h.loc["next_quarter_coverage", "value"] > 0


def test_reporting_currency(tiny, sample):
    from salesops.summary import reporting_currency

    assert reporting_currency(tiny) == ""  # no currency column
    assert reporting_currency(sample) == "USD"
