"""Lead qualification: the tiny CRM's leads by hand; the sample's planted process change, source effects and
speed-to-lead coefficient."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.funnel import (
    MissingDataError,
    lead_funnel,
    lead_funnel_change,
    lead_moments,
    rates_table,
    speed_to_lead,
    speed_to_lead_bands,
    speed_to_lead_effect,
)

from .conftest import tiny_data, ts


def test_tiny_funnel_by_hand(tiny):
    f = lead_funnel(tiny, period=None).set_index("step")
    # lead -> MQL (30 days): L1, L2, L3, L4, L7 had 30 days; L5 (07-25) did not; L6 is after as_of
    assert tuple(f.loc["lead_to_mql", ["reached", "immature", "mature", "converted"]]) == (6, 1, 5, 4)
    # MQL -> SQL (60 days): L1 (18 days), L3 (MQL at its SQL, 0 days), L7 (99 days: too late); L4 immature
    assert tuple(f.loc["mql_to_sql", ["reached", "immature", "mature", "converted"]]) == (4, 1, 3, 2)
    # SQL -> opportunity (30 days): L1 -> D, L3 -> E; L7 has no opportunity
    assert tuple(f.loc["sql_to_opportunity", ["mature", "converted"]]) == (3, 2)
    # opportunity -> won (180 days): D and E were created in April, not 180 days ago yet
    assert tuple(f.loc["opportunity_to_won", ["reached", "mature"]]) == (2, 0)
    assert np.isnan(f.loc["opportunity_to_won", "rate"])
    assert f.loc["mql_to_sql", "rate"] == pytest.approx(2 / 3)


def test_tiny_windows_periods_and_moments(tiny):
    f = lead_funnel(tiny, period="quarter", windows={"opportunity_to_won": 60})
    won = f[f["step"] == "opportunity_to_won"].set_index("period")
    assert won.loc["2025Q2", "mature"] == 2 and won.loc["2025Q2", "converted"] == 1  # E won 06-01
    mql = f[f["step"] == "mql_to_sql"].set_index("period")
    assert mql.loc["2025Q1", "mature"] == 3 and mql.loc["2025Q2", "immature"] == 1
    m = lead_moments(tiny)
    assert m.loc["L3", "mql"] == ts("03-25")  # an SQL without MQL passed MQL when it became an SQL
    assert "L6" in m.index and m["lead"].notna().sum() == 6  # created after as_of: not reached
    early = lead_moments(tiny, as_of="2025-03-15")
    assert pd.isna(early.loc["L1", "sql"]) and early.loc["L1", "mql"] == ts("03-02")


def test_tiny_speed_to_lead(tiny):
    s = speed_to_lead(tiny, by=None).iloc[0]
    # hours 0.5, 0.5, 1, 2, 24 touched; L5 untouched, censored at 144 h: KM median 1 h
    assert (s["leads"], s["touched"]) == (6, 5)
    assert s["median_hours"] == pytest.approx(1.0)
    assert s["within_1h"] == pytest.approx(3 / 6)
    by_source = speed_to_lead(tiny, by="source").set_index("source")
    assert by_source.loc["Referral", "median_hours"] == pytest.approx(0.5)


def test_missing_lead_data_is_named(tiny):
    with pytest.raises(MissingDataError, match="leads table"):
        lead_funnel(tiny_data(drop=("leads",)))
    leads = tiny.leads.drop(columns=["first_touch_at"])
    with pytest.raises(MissingDataError, match=r"leads\.first_touch_at"):
        speed_to_lead(tiny_data(leads=leads))
    with pytest.raises(MissingDataError, match="accounts.segment"):
        lead_funnel(tiny_data(drop=("accounts",)), by="segment")


@pytest.fixture(scope="module")
def quarterly(sample):
    return lead_funnel(sample, period="quarter")


def test_sample_mql_to_sql_lift_after_the_process_change(quarterly, truth):
    pc = truth["process_change"]
    m = quarterly[quarterly["step"] == "mql_to_sql"].set_index("period")
    before = m.loc[[p for p in m.index if p < "2025Q1"]]
    after = m.loc[[p for p in m.index if p >= "2025Q1"]]
    rate_before = before["converted"].sum() / before["mature"].sum()
    rate_after = after["converted"].sum() / after["mature"].sum()
    assert rate_before == pytest.approx(pc["realised"]["before"], abs=0.01)
    assert rate_after == pytest.approx(pc["realised"]["after"], abs=0.015)
    assert rate_after - rate_before == pytest.approx(pc["realised"]["lift"], abs=0.02)
    # every quarter after the change sits above every quarter before it, intervals apart on average
    assert after["rate"].min() > before["rate"].max()
    assert after["lower"].mean() > before["upper"].mean()


def test_sample_lift_is_flagged_when_it_happens_and_not_before(quarterly):
    first = lead_funnel_change(quarterly, "2025Q1").set_index("step")
    assert first.loc["mql_to_sql", "significant"]
    assert first.loc["mql_to_sql", "change_lower"] > 0.05
    assert not first.loc["lead_to_mql", "significant"]
    for q in ("2024Q1", "2024Q2", "2024Q3", "2024Q4"):
        ch = lead_funnel_change(quarterly, q)
        assert not ch["significant"].any(), q


def test_sample_rates_by_source_match_the_realised_ones(sample, truth):
    real = truth["lead_model"]["realised_by_source"]
    table = rates_table(lead_funnel(sample, by="source", period=None), index="source")
    for source, r in real.items():
        assert table.loc[source, "lead_to_mql"] == pytest.approx(r["mql_rate"], abs=0.01), source
        assert table.loc[source, "mql_to_sql"] == pytest.approx(r["sql_given_mql"], abs=0.015), source
    assert table["mql_to_sql"].idxmax() == "Referral" and table["lead_to_mql"].idxmin() == "Outbound"


def test_sample_speed_bands_and_adjusted_effect(sample, truth):
    bands = speed_to_lead_bands(sample).set_index("band")
    real = truth["lead_model"]["realised_sql_given_mql_by_speed_to_lead"]
    for band, r in real.items():
        assert bands.loc[band, "rate"] == pytest.approx(r["sql_given_mql"], abs=0.02), band
    effect = speed_to_lead_effect(sample).iloc[0]
    planted = truth["lead_model"]["sql_given_mql"]["speed_to_lead_per_log2_hour"]  # per doubling of 1 + hours
    assert effect["lower"] < planted < effect["upper"]
    assert effect["upper"] < 0 and effect["coef"] == pytest.approx(planted, abs=0.03)
    assert "source" in effect["adjusted_for"] and "quarter" in effect["adjusted_for"]


def test_sample_small_groups_are_shrunk(sample):
    f = lead_funnel(sample, by="campaign_id", period=None)
    m = f[f["step"] == "mql_to_sql"]
    pooled = m["converted"].sum() / m["mature"].sum()
    # every shrunk rate lies between the group's raw rate and the pooled one
    lo = np.minimum(m["rate"], pooled) - 1e-9
    hi = np.maximum(m["rate"], pooled) + 1e-9
    assert m["shrunk_rate"].between(lo, hi).all()
    # and the smallest campaigns move the most
    move = (m["shrunk_rate"] - m["rate"]).abs()
    small, large = m["mature"] <= m["mature"].quantile(0.25), m["mature"] >= m["mature"].quantile(0.75)
    assert move[small].mean() > move[large].mean()


def test_changes_of_a_period_without_leads_say_so(tiny):
    f = lead_funnel(tiny)
    with pytest.raises(MissingDataError, match="leads that entered a step in 2023Q1"):
        lead_funnel_change(f, "2023Q1")
    ch = lead_funnel_change(f, "2025Q2").set_index("step")
    assert ch.attrs["baseline"] == ["2025Q1"] and ch.loc["lead_to_mql", "mature"] == 1
