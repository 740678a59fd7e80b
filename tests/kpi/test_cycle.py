"""Sales-cycle length by Kaplan–Meier: a hand-made case, the sample's planted medians, Maven's reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.kpi import MissingDataError, cycle_curves, cycle_durations, sales_cycle


@pytest.fixture
def deals(crm):
    # created 1 Jan; won after 10, 12, 30, 40 days; lost after 5 days; two still open on 17 January (16 days)
    created = pd.Timestamp("2025-01-01")
    days = [10, 12, 30, 40, 5, None, None]
    opps = pd.DataFrame({
        "opportunity_id": [f"O{i}" for i in range(7)],
        "account_id": ["A"] * 4 + ["B"] * 3,
        "owner_rep_id": "R1",
        "created_date": [created] * 6 + [created + pd.Timedelta(days=1)],
        "close_date": [created + pd.Timedelta(days=d) if d is not None else pd.Timestamp("2025-03-01") for d in days],
        "stage": ["Won"] * 4 + ["Lost", "Open", "Open"],
        "is_closed": [True] * 5 + [False, False],
        "is_won": [True] * 4 + [False] * 3,
        "amount": 1.0,
    })
    accounts = pd.DataFrame({"account_id": ["A", "B"], "name": ["a", "b"], "segment": ["SMB", "SMB"]})
    return crm(as_of="2025-02-15", opportunities=opps, accounts=accounts)


def test_open_deals_are_censored_not_dropped(deals):
    d = cycle_durations(deals, as_of="2025-01-17").sort_values("opportunity_id")
    # as of 17 January the deals won after 30 and 40 days are still open: censored at 16 and 16 days
    assert list(d["days"]) == [10, 12, 16, 16, 16, 15]
    assert list(d["ended"]) == [True, True, False, False, False, False]
    out = sales_cycle(deals, None, as_of="2025-01-17").iloc[0]
    assert (out["deals"], out["ended"], out["censored"]) == (6, 2, 4)
    assert np.isnan(out["median"]) and "not reached" in out["note"]
    assert out["naive_median"] == 11  # the naive figure looks only at the two quick wins


def test_kaplan_meier_median_by_hand(deals):
    # as of 15 February: won 10, 12, 30, 40; open deals censored at 45 and 44 days; the lost deal leaves
    # S(10) = 5/6, S(12) = 4/6, S(30) = 4/6 * 3/4 = 1/2 -> median 30; naive median of won deals = 21
    out = sales_cycle(deals, "segment").set_index("segment").loc["SMB"]
    assert out["median"] == 30 and out["naive_median"] == 21 and out["censored"] == 2
    assert out["lower"] <= 30 <= out["upper"] or np.isnan(out["upper"])
    closed = sales_cycle(deals, None, outcome="closed").iloc[0]
    # every close ends a cycle: 5, 10, 12, 30, 40 and two censored -> S(12) = 4/7, S(30) = 4/7 * 3/4 = 3/7
    assert closed["median"] == 30 and closed["ended"] == 5
    curves = cycle_curves(deals, None)
    assert curves["time"].iloc[0] == 0 and curves["survival"].iloc[0] == 1
    assert curves.loc[curves["time"].eq(30), "survival"].iloc[0] == pytest.approx(0.5)


def test_cohorts_and_missing_columns(deals, crm):
    out = sales_cycle(deals, None, "month")
    assert list(out["period"]) == ["2025-01"]
    with pytest.raises(ValueError, match="outcome"):
        sales_cycle(deals, outcome="lost")
    with pytest.raises(MissingDataError, match="accounts.segment"):
        sales_cycle(crm(opportunities=deals.opportunities), "segment")


def test_sample_median_cycles_by_segment(sample, truth):
    out = sales_cycle(sample, "segment").set_index("segment")
    for segment, planted in truth["sales_cycle"]["planted_median_days"].items():
        realised = truth["sales_cycle"]["realised_median_days"][segment]
        assert abs(out.loc[segment, "median"] / realised - 1) <= 0.15, segment
        assert abs(out.loc[segment, "median"] / planted - 1) <= 0.15, segment
        assert out.loc[segment, "censored"] > 0  # open deals took part


def test_sample_cycle_as_of_a_past_quarter_end_uses_no_later_information(sample, truth):
    # deals of 2025H1 judged at 30 June: censoring corrects the naive figure's downward bias
    out = sales_cycle(sample, "segment", as_of="2025-06-30", created_from="2025-01-01").set_index("segment")
    for segment, planted in truth["sales_cycle"]["planted_median_days"].items():
        row = out.loc[segment]
        if np.isfinite(row["median"]):
            assert row["median"] >= row["naive_median"]
            assert abs(row["median"] / planted - 1) <= 0.25, segment
    ent = out.loc["Enterprise"]
    assert ent["naive_median"] < 0.85 * truth["sales_cycle"]["planted_median_days"]["Enterprise"]


def test_maven_median_cycle(maven):
    closed = sales_cycle(maven, None, outcome="closed").iloc[0]
    assert closed["median"] == 45 and closed["naive_median"] == 45 and closed["censored"] == 0
    won = sales_cycle(maven, None, outcome="won").iloc[0]
    assert won["median"] == 57


def test_default_segment_falls_back_to_the_whole_company(deals, crm):
    bare = crm(as_of="2025-02-15", opportunities=deals.opportunities)
    out = sales_cycle(bare)
    assert len(out) == 1 and "segment" not in out.columns and out["deals"].iloc[0] == 6
    assert "whole company" in out.attrs["note"]
    curves = cycle_curves(bare)
    assert "segment" not in curves.columns and "whole company" in curves.attrs["note"]
    with pytest.raises(MissingDataError):
        sales_cycle(bare, "segment")
