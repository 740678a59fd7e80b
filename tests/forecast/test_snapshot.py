import numpy as np
import pandas as pd
import pytest

from salesops.forecast import MissingDataError, SnapshotBuilder, snapshot


def test_tiny_snapshot_by_hand(tiny):
    s = snapshot(tiny, "2025-02-10").set_index("opportunity_id")
    assert sorted(s.index) == ["A", "B", "C", "D"]
    assert s.loc["A", "stage"] == "Proposal" and s.loc["A", "close_date"] == pd.Timestamp("2025-03-15")
    assert s.loc["A", "pushes"] == 1 and s.loc["A", "forecast_category"] == "best_case"
    assert s.loc["A", "age_days"] == pytest.approx((pd.Timestamp("2025-02-10", tz="UTC")
                                                    - pd.Timestamp("2025-01-02 10:00", tz="UTC")).total_seconds() / 86400)
    assert s.loc["A", "days_in_stage"] == pytest.approx(20 + 14 / 24)  # Proposal since 2025-01-20 10:00
    assert s.loc["A", "days_to_close"] == 33
    assert s.loc["B", "stage"] == "Negotiation" and not s.loc["B", "is_closed"]
    assert s.loc["D", "is_won"] and s.loc["D", "segment"] == "SMB" and s.loc["D", "team"] == "West"
    early = snapshot(tiny, "2025-01-03")
    assert sorted(early["opportunity_id"]) == ["A", "D"]  # B and C do not exist yet
    assert early.set_index("opportunity_id").loc["D", "stage"] == "Proposal"  # won only on 01-10


def test_snapshot_at_the_end_matches_the_opportunities_table(sample, builder):
    s = builder.at(sample.as_of).set_index("opportunity_id")
    o = sample.opportunities.set_index("opportunity_id").loc[s.index]
    assert len(s) == len(sample.opportunities)
    assert (s["stage"] == o["stage"]).all()
    assert np.allclose(s["amount"], o["amount"])
    assert (s["close_date"] == o["close_date"]).all()
    assert (s["is_won"] == o["is_won"]).all()


def test_snapshot_only_shows_the_past(builder):
    t = pd.Timestamp("2024-06-15", tz="UTC")
    s = builder.at(t)
    assert (s["last_change_at"] <= t).all() and (s["created_at"] <= t).all()
    assert (s["age_days"] >= 0).all()


def test_missing_history_is_named(tiny):
    tiny.tables.pop("opportunity_history")
    with pytest.raises(MissingDataError, match="opportunity_history"):
        SnapshotBuilder(tiny)
