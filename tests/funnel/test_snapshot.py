"""Point-in-time snapshots: exact states on the tiny CRM, as-of invariance on the sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.funnel import MissingDataError, pipeline_at, snapshot

from .conftest import TINY_AS_OF, d, tiny_data, tiny_tables, ts


def test_tiny_snapshot_is_the_last_row_at_or_before_the_moment():
    t = tiny_tables()
    snap = snapshot(t["opportunity_history"], t["opportunities"], "2025-04-30")
    assert sorted(snap.index) == ["A", "B", "C", "D", "E", "F"]
    expected = {  # stage, amount, close date
        "A": ("Proposal", 1500.0, "05-15"),
        "B": ("Proposal", 2000.0, "06-15"),
        "C": ("Qualification", 3000.0, "09-15"),
        "D": ("Qualification", 4000.0, "06-30"),
        "E": ("Qualification", 5000.0, "08-15"),
        "F": ("Qualification", 6000.0, "09-30"),
    }
    for opp, (stage, amount, close) in expected.items():
        row = snap.loc[opp]
        assert (row["stage"], row["amount"], row["close_date"]) == (stage, amount, d(close)), opp
    assert snap["is_open"].all() and not snap["is_won"].any()
    assert snap.loc["C", "created_at"] == ts("03-01")
    assert snap.loc["C", "last_change_at"] == ts("04-10")
    assert snap.loc["A", "account_id"] == "AC1"  # static attributes joined
    assert snap.attrs["without_history"] == 0


def test_a_change_at_the_moment_itself_counts_and_later_ones_do_not():
    t = tiny_tables()
    at = snapshot(t["opportunity_history"], None, ts("05-10"))
    assert at.loc["A", "stage"] == "Closed Won" and at.loc["A", "is_won"]
    before = snapshot(t["opportunity_history"], None, ts("05-10") - pd.Timedelta(microseconds=1))
    assert before.loc["A", "stage"] == "Proposal" and before.loc["A", "is_open"]
    # a date alone means the end of that day
    assert set(snapshot(t["opportunity_history"], None, "2025-04-01").index) == {"A", "B", "C"}
    assert "D" in snapshot(t["opportunity_history"], None, "2025-04-02").index


def test_derived_ages_and_past_due():
    t = tiny_tables()
    snap = snapshot(t["opportunity_history"], None, TINY_AS_OF)
    c = snap.loc["C"]
    assert c["age_days"] == pytest.approx(152.0)  # 03-01 noon to 07-31 noon
    assert c["days_since_change"] == pytest.approx(72.0)  # last change 05-20
    assert c["days_past_due"] == 36.0  # due 06-25
    assert snap.loc["B", "stage"] == "Closed Lost" and snap.loc["B", "is_closed"]


def test_blank_state_cells_keep_the_previous_value():
    t = tiny_tables()
    h = t["opportunity_history"].copy()
    later = h["opportunity_id"].eq("C") & h["changed_at"].gt(ts("03-01"))
    h.loc[later, "amount"] = np.nan  # a CRM that logs only what changed
    snap = snapshot(h, None, "2025-05-06")
    assert snap.loc["C", "amount"] == 3000.0 and snap.loc["C", "stage"] == "Discovery"


def test_opportunities_without_history_are_counted_not_invented():
    t = tiny_tables()
    h = t["opportunity_history"]
    snap = snapshot(h[h["opportunity_id"] != "F"], t["opportunities"], TINY_AS_OF)
    assert "F" not in snap.index and snap.attrs["without_history"] == 1


def test_unknown_stage_names_are_named():
    t = tiny_tables()
    h = t["opportunity_history"].copy()
    h.loc[0, "stage"] = "Demo"
    with pytest.raises(ValueError, match="'Demo'"):
        snapshot(h, None, TINY_AS_OF)


@pytest.mark.parametrize("as_of", ["2023-03-31", "2024-02-29 13:45", "2024-12-31", "2025-06-30"])
def test_snapshot_is_invariant_to_rows_after_the_moment(sample, as_of):
    """Deleting every history row after as_of, and scrambling what the opportunities table says about the
    deals' current state, changes no snapshot at as_of."""
    h, opps = sample.opportunity_history, sample.opportunities
    full = snapshot(h, opps, as_of, sample.stages)
    moment = full.attrs["as_of"]
    truncated_history = h[h["changed_at"] <= moment].sample(frac=1.0, random_state=1)  # order must not matter
    scrambled = opps.copy()
    scrambled["stage"] = "Closed Won"
    scrambled["amount"] = -1.0
    scrambled["close_date"] = pd.Timestamp("2099-01-01")
    scrambled["is_closed"] = True
    scrambled["is_won"] = True
    scrambled["forecast_category"] = "closed"
    cut = snapshot(truncated_history, scrambled, as_of, sample.stages)
    pd.testing.assert_frame_equal(full.sort_index(), cut.sort_index())
    assert len(full) > 500 and full["is_open"].sum() > 100


def test_snapshot_at_the_export_moment_is_the_opportunities_table(sample):
    """At the export's own as-of moment the rebuilt state is the CRM's current state, deal by deal."""
    snap = snapshot(sample.opportunity_history, None, sample.as_of, sample.stages)
    opps = sample.opportunities.set_index("opportunity_id").loc[snap.index]
    assert len(snap) == len(sample.opportunities)
    assert (snap["stage"] == opps["stage"]).all()
    assert np.allclose(snap["amount"], opps["amount"])
    assert (snap["is_won"] == opps["is_won"]).all() and (snap["is_open"] != opps["is_closed"]).all()


def test_pipeline_at_without_history_serves_now_only():
    data = tiny_data(drop=("opportunity_history",))
    now = pipeline_at(data)
    assert now.loc["C", "is_open"] and now.loc["C", "segment"] == "SMB"
    assert now["last_change_at"].isna().all()
    with pytest.raises(MissingDataError, match="opportunity_history"):
        pipeline_at(data, "2025-05-01")
