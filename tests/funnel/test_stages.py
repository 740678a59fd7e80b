"""Stage spells, stage outcomes, conversion and time in stage: by hand on the tiny CRM, against the planted
bottleneck on the sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.funnel import (
    MissingDataError,
    observation_start,
    stage_conversion,
    stage_move_summary,
    stage_moves,
    stage_outcomes,
    stage_spells,
    time_in_stage,
)

from .conftest import TINY_AS_OF, tiny_data, tiny_tables, ts


def test_spells_of_a_skip_and_a_regression():
    h = tiny_tables()["opportunity_history"]
    sp = stage_spells(h, as_of=TINY_AS_OF)
    got = [(r.opportunity_id, r.stage, r.move, r.skipped, r.days) for r in sp.itertuples()]
    assert got[:6] == [
        ("A", "Qualification", "advance", 1, 26.0),  # skipped Discovery
        ("A", "Proposal", "won", 1, 35.0),  # won straight from Proposal: Negotiation skipped
        ("A", "Closed Won", "final", 0, pytest.approx(np.nan, nan_ok=True)),
        ("B", "Qualification", "advance", 0, 10.0),
        ("B", "Discovery", "regression", 0, 10.0),
        ("B", "Qualification", "advance", 0, 10.0),
    ]
    by_opp = sp.groupby("opportunity_id")["move"].apply(list).to_dict()
    assert by_opp["B"] == ["advance", "regression", "advance", "advance", "lost", "final"]
    assert by_opp["C"] == ["advance", "open"]
    assert by_opp["E"] == ["won", "final"]
    c_open = sp[(sp["opportunity_id"] == "C") & (sp["move"] == "open")].iloc[0]
    assert c_open["days"] == 87.0 and pd.isna(c_open["exited_at"])  # censored at as_of (05-05 to 07-31)
    # a row that changes no stage (B's close date push, C's amount change) starts no spell
    assert len(sp[sp["opportunity_id"] == "B"]) == 6 and len(sp[sp["opportunity_id"] == "C"]) == 2


def test_outcomes_resolve_a_stage_only_when_the_deal_moves_past_it():
    out = stage_outcomes(tiny_tables()["opportunity_history"], as_of=TINY_AS_OF).set_index(
        ["opportunity_id", "stage"]
    )
    expected = {
        ("A", "Qualification"): ("advanced", 26.0),
        ("A", "Proposal"): ("advanced", 35.0),
        ("B", "Qualification"): ("advanced", 10.0),
        ("B", "Discovery"): ("advanced", 63.0),  # 02-11 to Proposal on 04-15, through the regression
        ("B", "Proposal"): ("lost", 86.0),
        ("C", "Qualification"): ("advanced", 65.0),
        ("C", "Discovery"): ("open", 87.0),
        ("D", "Qualification"): ("lost", 29.0),
        ("E", "Qualification"): ("advanced", 59.0),  # won straight away
        ("F", "Qualification"): ("lost", 41.0),
    }
    assert set(out.index) == set(expected)  # no Discovery for A (skipped), no Negotiation at all
    for key, (outcome, days) in expected.items():
        assert (out.loc[key, "outcome"], out.loc[key, "days"]) == (outcome, days), key
    assert out.loc[("B", "Discovery"), "entered_at"] == ts("02-11")  # the first entry counts
    assert not out.loc[("C", "Discovery"), "resolved"]


def test_an_earlier_moment_sees_only_its_own_past():
    out = stage_outcomes(tiny_tables()["opportunity_history"], as_of=ts("04-30")).set_index(
        ["opportunity_id", "stage"]
    )
    assert out.loc[("A", "Proposal"), "outcome"] == "open" and out.loc[("A", "Proposal"), "days"] == 25.0
    assert ("C", "Discovery") not in out.index


def test_conversion_and_time_in_stage_by_hand(tiny):
    conv = stage_conversion(tiny, observed_from="2025-01-01").set_index("stage")
    assert list(conv.index) == ["Qualification", "Discovery", "Proposal"]
    q = conv.loc["Qualification"]
    assert (q["entered"], q["advanced"], q["lost"], q["open"]) == (6, 4, 2, 0)
    assert q["conversion"] == pytest.approx(4 / 6)
    assert conv.loc["Discovery", "conversion"] == 1.0 and conv.loc["Discovery", "open"] == 1
    assert conv.loc["Proposal", "conversion"] == 0.5
    z = 1.959963984540054  # Wilson interval of 4 / 6 by its formula
    p, n = 4 / 6, 6
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert (q["lower"], q["upper"]) == pytest.approx((centre - half, centre + half))

    tis = time_in_stage(tiny, observed_from="2025-01-01").set_index("stage")
    # Qualification days 10, 26, 29, 41, 59, 65, all resolved: the KM median is the lower median
    assert tis.loc["Qualification", "median_days"] == 29.0
    assert tis.loc["Qualification", "naive_median_days"] == 35.0
    # Discovery: 63 resolved, 87 still open -> S(63) = 1/2
    assert tis.loc["Discovery", "median_days"] == 63.0 and tis.loc["Discovery", "resolved"] == 1


def test_by_segment_and_period(tiny):
    conv = stage_conversion(tiny, by="segment", period="quarter", observed_from="2025-01-01")
    mm = conv[(conv["segment"] == "Mid-Market") & (conv["stage"] == "Qualification")].iloc[0]
    assert (mm["period"], mm["entered"], mm["advanced"], mm["lost"]) == ("2025Q2", 3, 1, 2)
    smb_q1 = conv[
        (conv["segment"] == "SMB") & (conv["period"] == "2025Q1") & (conv["stage"] == "Qualification")
    ]
    assert smb_q1["entered"].item() == 3 and smb_q1["conversion"].item() == 1.0


def test_observation_start_is_the_first_close(tiny):
    assert observation_start(tiny.opportunity_history) == ts("05-01")
    conv = stage_conversion(tiny)  # only entries from 05-01 on: C's Discovery
    assert conv["entered"].sum() == 1 and conv.attrs["observed_from"] == ts("05-01")


def test_moves_count_skips_and_regressions():
    sp = stage_spells(tiny_tables()["opportunity_history"], as_of=TINY_AS_OF)
    moves = stage_moves(sp).set_index("stage")
    q = moves.loc["Qualification"]
    assert (q["advance"], q["skip"], q["won"], q["lost"]) == (4, 1, 1, 2)
    assert moves.loc["Discovery", "regression"] == 1 and moves.loc["Discovery", "open"] == 1
    assert moves.loc["Closed Lost", "final"] == 3


def test_missing_history_is_named():
    data = tiny_data(drop=("opportunity_history",))
    for fn in (stage_conversion, time_in_stage, stage_move_summary):
        with pytest.raises(MissingDataError, match="opportunity_history table"):
            fn(data)


def test_sample_mid_market_proposal_before_and_after_the_bottleneck(sample, truth):
    """Stage conversion and days in stage of Mid-Market Proposal entries before / after the planted date."""
    b = truth["bottleneck"]
    out = stage_outcomes(sample.opportunity_history, sample.stages, sample.as_of)
    seg = sample.opportunities.set_index("opportunity_id")["account_id"].map(
        sample.accounts.set_index("account_id")["segment"]
    )
    mm = out[out["stage"].eq(b["stage"]) & out["opportunity_id"].map(seg).eq(b["segment"]).to_numpy()]
    cut = pd.Timestamp(b["start"], tz="UTC")
    for name, part in (("before", mm[mm["entered_at"] < cut]), ("after", mm[mm["entered_at"] >= cut])):
        res = part[part["resolved"]]
        assert (res["outcome"] == "advanced").mean() == pytest.approx(
            b["realised"][f"conversion_{name}"], abs=1e-6
        )
        assert res["days"].median() == pytest.approx(b["realised"][f"median_days_in_stage_{name}"], rel=1e-4)
        assert len(res) == b["realised"][f"n_{name}"]
    # through the public function: conversion by quarter of entry shows the planted drop
    conv = stage_conversion(sample, by="segment", period="year")
    row = conv[(conv["segment"] == b["segment"]) & (conv["stage"] == b["stage"])].set_index("period")
    assert row.loc["2024", "conversion"] == pytest.approx(b["conversion_before"], abs=0.05)
    assert row.loc["2025", "upper"] < row.loc["2024", "lower"]  # intervals apart
    tis = time_in_stage(sample, by="segment", period="year")
    t = tis[(tis["segment"] == b["segment"]) & (tis["stage"] == b["stage"])].set_index("period")
    ratio = t.loc["2025", "median_days"] / t.loc["2024", "median_days"]
    assert 1.4 < ratio < 2.4  # 2025 mixes Q1 (before) with Q2-Q4 (after: x2)


def test_group_rates_are_shrunk_within_their_stage(tiny):
    from salesops.stats import shrink_rates

    conv = stage_conversion(tiny, by="segment", observed_from="2025-01-01")
    q = conv[conv["stage"] == "Qualification"].set_index("segment")
    # SMB advanced 3 of 3 (A, B, C), Mid-Market 1 of 3 (E; D and F lost)
    expected = shrink_rates(
        pd.Series([3, 1], index=["SMB", "Mid-Market"]), pd.Series([3, 3], index=["SMB", "Mid-Market"])
    )
    assert q.loc["SMB", "shrunk_rate"] == pytest.approx(expected.loc["SMB", "shrunk_rate"])
    assert q.loc["Mid-Market", "shrunk_lower"] == pytest.approx(expected.loc["Mid-Market", "lower"])
    assert (
        q.loc["Mid-Market", "conversion"]
        < q.loc["Mid-Market", "shrunk_rate"]
        < q.loc["SMB", "shrunk_rate"]
        < 1
    )
    # Discovery was entered by SMB deals only: nothing to shrink toward
    assert conv.loc[conv["stage"] == "Discovery", "shrunk_rate"].isna().all()
