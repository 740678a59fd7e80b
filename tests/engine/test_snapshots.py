"""Pipeline totals and recent activity counts on the engine: the tiny history by hand, the sample against its
deal states grouped in pandas, the forecast feature against a count in pandas."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.engine import EngineError
from salesops.engine.history import deal_states, history_engine
from salesops.engine.snapshots import pipeline_totals, recent_activity_counts

from ._tiny_history import tiny_history

MOMENTS = ["2023-03-31", "2024-06-30"]


def test_tiny_pipeline_totals_by_hand():
    got = pipeline_totals(history_engine(tiny_history()), ["2025-02-10", "2025-03-10"])
    rows = [
        ("2025-02-10", "Closed Lost", 1, 0, 0.0, 0, 0.0, 1, 200.0),
        ("2025-02-10", "Proposal", 1, 1, 150.0, 0, 0.0, 0, 0.0),
        ("2025-03-10", "Discovery", 1, 1, 80.0, 0, 0.0, 0, 0.0),
        ("2025-03-10", "Negotiation", 1, 1, 250.0, 0, 0.0, 0, 0.0),
        ("2025-03-10", "Proposal", 1, 1, 150.0, 0, 0.0, 0, 0.0),
    ]
    want = pd.DataFrame(rows, columns=["as_of", "stage", "deals", "open_deals", "open_amount", "won_deals",
                                       "won_amount", "lost_deals", "lost_amount"])
    want["as_of"] = pd.to_datetime(want["as_of"]).dt.tz_localize("UTC") + pd.Timedelta(days=1) \
        - pd.Timedelta(microseconds=1)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_pipeline_totals_name_what_is_wrong():
    e = history_engine(tiny_history())
    with pytest.raises(EngineError, match="grouped by"):
        pipeline_totals(e, "2025-03-10", by=("colour",))
    with pytest.raises(EngineError, match="opportunities"):
        pipeline_totals(e, "2025-03-10", by=("type",))
    h = tiny_history()
    h.loc[2, "stage"] = "Demo"  # Y's state on 03-10
    with pytest.raises(EngineError, match="'Demo'"):
        pipeline_totals(history_engine(h), "2025-03-10")



def test_sample_pipeline_totals_equal_the_states_grouped(sample, duckdb_engine):
    got = pipeline_totals(duckdb_engine, MOMENTS, by=("segment", "type"))
    states = deal_states(duckdb_engine, MOMENTS)
    opps = sample.opportunities.set_index("opportunity_id")
    seg = opps["account_id"].map(sample.accounts.set_index("account_id")["segment"])
    states["segment"] = states["opportunity_id"].map(seg).fillna("(none)")
    states["type"] = states["opportunity_id"].map(opps["type"]).fillna("(none)")
    is_open = ~states["stage"].isin(["Closed Won", "Closed Lost"])
    ref = states.assign(
        deals=1, open_deals=is_open.astype(int), open_amount=states["amount"].where(is_open, 0.0),
        won_deals=states["stage"].eq("Closed Won").astype(int),
        won_amount=states["amount"].where(states["stage"].eq("Closed Won"), 0.0),
        lost_deals=states["stage"].eq("Closed Lost").astype(int),
        lost_amount=states["amount"].where(states["stage"].eq("Closed Lost"), 0.0),
    ).groupby(["as_of", "segment", "type"], as_index=False)[
        ["deals", "open_deals", "open_amount", "won_deals", "won_amount", "lost_deals", "lost_amount"]].sum()
    pd.testing.assert_frame_equal(got, ref, check_dtype=False)
    assert got["won_deals"].sum() > 0 and got["open_amount"].sum() > 0




def test_recent_activity_counts_equal_a_pandas_count(sample, duckdb_engine):
    moments = [pd.Timestamp("2024-03-31 12:00", tz="UTC"), pd.Timestamp("2025-06-30 23:59:59.999999", tz="UTC")]
    got = recent_activity_counts(duckdb_engine, moments, pd.Timedelta(days=30))
    acts = sample.activities[sample.activities["opportunity_id"].notna()]
    for t in moments:
        inside = acts[(acts["occurred_at"] > t - pd.Timedelta(days=30)) & (acts["occurred_at"] <= t)]
        ref = inside.groupby("opportunity_id").size()
        mine = got[got["as_of"].eq(t)].set_index("opportunity_id")["activities"]
        assert len(ref) > 50
        pd.testing.assert_series_equal(mine, ref, check_names=False, check_dtype=False)
