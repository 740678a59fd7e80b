"""Coaching signals: stage exits by hand, the planted low- and high-skill reps, shrinkage against noise, topics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _render import rendered_text

from salesops.people import coaching_signals, coaching_topics, stage_exits
from salesops.people.page import describe_coaching

STAGES = pd.DataFrame({
    "stage": ["Qualification", "Discovery", "Proposal", "Closed Won", "Closed Lost"],
    "order": [1, 2, 3, 4, 5],
    "is_closed": [False, False, False, True, True],
    "is_won": [False, False, False, True, False],
})


def test_stage_exits_by_hand():
    t = pd.Timestamp("2025-01-01", tz="UTC")
    d = pd.Timedelta(days=1)
    history = pd.DataFrame([
        ("O1", t, "Qualification"), ("O1", t + d, "Qualification"), ("O1", t + 2 * d, "Discovery"),
        ("O1", t + 3 * d, "Closed Won"),
        ("O2", t, "Qualification"), ("O2", t + d, "Closed Lost"),
        ("O3", t, "Qualification"), ("O3", t + d, "Proposal"), ("O3", t + 2 * d, "Discovery"),
        ("O3", t + 3 * d, "Closed Lost"),
        ("O4", t, "Qualification"),
    ], columns=["opportunity_id", "changed_at", "stage"])
    ex = stage_exits(history, STAGES).set_index(["opportunity_id", "stage"])
    assert ex.loc[("O1", "Qualification"), "advanced"] and ex.loc[("O1", "Qualification"), "exited_at"] == t + 2 * d
    assert ex.loc[("O1", "Discovery"), "advanced"]  # on to Closed Won
    assert not ex.loc[("O2", "Qualification"), "advanced"]
    assert ex.loc[("O3", "Qualification"), "advanced"]  # reached Proposal, even if it went back later
    assert not ex.loc[("O3", "Proposal"), "advanced"]  # back to Discovery, then lost
    assert pd.isna(ex.loc[("O4", "Qualification"), "exited_at"])  # still there: censored


def test_planted_low_skill_reps_are_flagged_before_the_training(sample, truth):
    low = set(truth["rep_skill"]["low_skill_rep_ids"])
    high = set(truth["rep_skill"]["high_skill_rep_ids"])
    s = coaching_signals(sample, as_of="2024-07-14", months=18)  # before the training lifted half of them
    wr = s[s["metric"] == "win_rate"]
    below = set(wr.loc[wr["flag"] == "below", "rep_id"])
    above = set(wr.loc[wr["flag"] == "above", "rep_id"])
    assert below <= low and len(below) >= 2, below
    assert above <= high and len(above) >= 1, above


def test_planted_high_skill_reps_stand_out_over_three_years(signals_36m, truth):
    high = set(truth["rep_skill"]["high_skill_rep_ids"])
    low = set(truth["rep_skill"]["low_skill_rep_ids"])
    wr = signals_36m[signals_36m["metric"] == "win_rate"].set_index("rep_id")
    assert high <= set(wr.index[wr["flag"] == "above"])
    assert not set(wr.index[wr["flag"] == "below"]) & high
    # the lowest shrunk gap of each segment belongs to a low-skill rep where one works there
    worst = wr.groupby("peer_group")["gap"].idxmin()
    assert worst["SMB"] in low and worst["Mid-Market"] in low


def test_shrinkage_keeps_activity_noise_quiet(signals_36m):
    # the generator gives every AE the same activity mix: any flag there would be noise
    act = signals_36m[signals_36m["kind"] == "activity"]
    assert len(act) > 0 and (act["flag"] == "").all()
    # and raw shares do spread: shrinkage, not identical data, is what keeps them quiet
    assert act.groupby("metric")["raw_rate"].agg(lambda r: r.max() - r.min()).max() > 0.02


def test_shrunk_rates_sit_between_raw_and_peers(signals_36m):
    s = signals_36m.dropna(subset=["shrunk_rate"])
    lo = np.minimum(s["raw_rate"], s["peer_rate"]) - 1e-12
    hi = np.maximum(s["raw_rate"], s["peer_rate"]) + 1e-12
    assert ((s["shrunk_rate"] >= lo) & (s["shrunk_rate"] <= hi)).all()


def test_topics_prefer_the_stage_over_the_overall_win_rate():
    signals = pd.DataFrame([
        ("R1", "G", "outcome", "win_rate", "win rate", 20, 100, -0.06, 0.99, "below", 6.0),
        ("R1", "G", "funnel", "stage:Proposal", "Proposal → next stage", 40, 100, -0.05, 0.97, "below", 5.0),
        ("R1", "G", "funnel", "stage:Discovery", "Discovery → next stage", 60, 100, -0.03, 0.9, "below", 3.0),
        ("R2", "G", "outcome", "win_rate", "win rate", 20, 100, -0.05, 0.95, "below", 5.0),
        ("R3", "G", "outcome", "win_rate", "win rate", 40, 100, 0.05, 0.01, "above", -5.0),
    ], columns=["rep_id", "peer_group", "kind", "metric", "label", "successes", "trials", "gap", "p_below", "flag",
                "impact"])
    signals["shrunk_rate"] = signals["successes"] / signals["trials"]
    signals["peer_rate"] = signals["shrunk_rate"] - signals["gap"]
    topics = coaching_topics(signals, top=3)
    r1 = topics[topics["rep_id"] == "R1"]
    assert list(r1["metric"]) == ["stage:Proposal", "stage:Discovery"]
    assert "proposal" in r1["topic"].iat[0].lower()
    assert list(topics.loc[topics["rep_id"] == "R2", "metric"]) == ["win_rate"]
    assert "R3" not in set(topics["rep_id"])


def test_small_peer_groups_get_no_flags_and_a_message(sample):
    tables = dict(sample.tables)
    reps = tables["reps"].copy()
    reps["segment"] = reps["rep_id"]  # every rep its own group
    tables["reps"] = reps
    s = coaching_signals(tables, quarter="2025Q4", months=12)
    assert (s["flag"] == "").all() and s["gap"].isna().all()
    assert "too few reps" in describe_coaching(s, coaching_topics(s)).lower()


def test_missing_history_is_noted_not_fatal(sample):
    tables = {k: v for k, v in sample.tables.items() if k not in ("opportunity_history", "activities")}
    s = coaching_signals(tables, quarter="2025Q4", months=24)
    assert set(s["kind"]) == {"outcome"}
    notes = " ".join(s.attrs["notes"])
    assert "opportunity_history" in notes and "activities" in notes


@pytest.mark.parametrize("metric", ["win_rate", "stage:Qualification"])
def test_counts_are_counts(signals_36m, metric):
    s = signals_36m[signals_36m["metric"] == metric]
    assert (s["successes"] <= s["trials"]).all() and (s["trials"] > 0).all()


def test_without_a_reps_table_the_signals_are_empty_and_say_why(sample):
    tables = {name: frame for name, frame in sample.tables.items() if name != "reps"}
    signals = coaching_signals(tables, quarter="2025Q4")
    assert signals.empty and list(signals.columns)[:2] == ["rep_id", "peer_group"]
    text = rendered_text(describe_coaching(signals, coaching_topics(signals)))
    assert text.startswith("No coaching signals. The data have no `reps` table")
    assert "too few reps" not in text.lower()
