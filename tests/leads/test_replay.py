"""Replay: simulated speed to lead from waits and measured reaction times, load against targets, expected
conversion against what was realised."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from salesops.leads import MissingDataError, replay
from salesops.periods import parse_quarter

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "routing.yaml"


def test_speed_to_lead_is_wait_plus_the_reaction_time_measured_on_history():
    reps = pd.DataFrame({"rep_id": ["R1", "R2"], "name": ["a", "b"], "role": "SDR"})
    created = pd.to_datetime(["2025-03-03 10:00", "2025-03-04 11:00",        # history, in office hours
                              "2025-03-04 20:00",                            # history, after hours
                              "2025-03-10 10:00", "2025-03-10 19:00"], utc=True)  # the period
    leads = pd.DataFrame({
        "lead_id": ["H1", "H2", "H3", "P1", "P2"], "created_at": created, "source": "Web",
        "first_touch_at": created + pd.to_timedelta([2, 4, 14, 1, 14], unit="h"),
        "owner_rep_id": ["R1", "R2", "R1", "R1", "R2"],
    })
    rules = {"calendars": {"office": {"hours": ["09:00", "18:00"]}},
             "pools": {"p": {"members": ["R1", "R2"], "calendar": "office"}}, "rules": [{"name": "all", "pool": "p"}]}
    out = replay(leads, reps, rules, period=("2025-03-10", "2025-03-11"), history_days=30)
    # reaction time: median actual speed of the history leads the rules route without waiting (H1, H2): 3 h
    assert out.reaction_hours["reaction_hours"].tolist() == [3.0]
    cand = out.assignments[out.assignments["scenario"] == "candidate"].set_index("lead_id")
    assert cand.loc["P1", "speed_to_lead_hours"] == pytest.approx(3.0)
    assert cand.loc["P2", "speed_to_lead_hours"] == pytest.approx(14.0 + 3.0)  # waits 19:00 -> 09:00
    actual = out.assignments[out.assignments["scenario"] == "actual"].set_index("lead_id")
    assert actual["speed_to_lead_hours"].tolist() == [1.0, 14.0]
    assert out.speed.set_index("scenario").loc["candidate", "median_hours"] == pytest.approx(10.0)


def test_history_touched_after_the_period_started_is_not_used():
    reps = pd.DataFrame({"rep_id": ["R1"], "name": ["a"], "role": "SDR"})
    created = pd.to_datetime(["2025-03-09 23:00", "2025-03-10 10:00"], utc=True)
    leads = pd.DataFrame({"lead_id": ["H1", "P1"], "created_at": created, "source": "Web",
                          "first_touch_at": created + pd.Timedelta(hours=5)})
    with pytest.raises(ValueError, match="no touched lead"):
        replay(leads, reps, {"pools": {"p": {"members": ["R1"]}}, "rules": [{"name": "a", "pool": "p"}]},
               period=("2025-03-10", "2025-03-11"))


def test_replay_of_the_sample_quarter(sample, sql_score):
    out = replay(sample.leads, sample.reps, TEMPLATE, period=parse_quarter("2025Q3"), accounts=sample.accounts,
                 scoring=sql_score)
    conv = out.conversion.set_index("scenario")
    # the calibrated score's expected SQLs of what actually happened cover the SQLs realised
    actual = conv.loc["actual"]
    assert actual["lower"] <= actual["realised_sqls"] <= actual["upper"]
    assert conv.loc["candidate", "leads"] == actual["leads"] == out.speed["leads"].iloc[0]
    load = out.load
    assert (load["leads"] - load["expected_leads"]).abs().max() < 3  # within a couple of leads of the target
    assert (load["busiest_day"] <= 30).all()  # the template's cap


def test_missing_first_touch_is_named(sample):
    with pytest.raises(MissingDataError, match="first_touch_at"):
        replay(sample.leads.drop(columns="first_touch_at"), sample.reps, TEMPLATE, period=parse_quarter("2025Q3"),
               accounts=sample.accounts)


def test_nothing_after_the_as_of_moment_is_used():
    reps = pd.DataFrame({"rep_id": ["R1"], "name": ["a"], "role": "SDR"})
    created = pd.to_datetime(["2025-03-03 10:00", "2025-03-10 10:00", "2025-03-10 19:00"], utc=True)
    leads = pd.DataFrame({"lead_id": ["H1", "P1", "P2"], "created_at": created, "source": "Web",
                          "first_touch_at": created + pd.to_timedelta([2, 1, 14], unit="h"),
                          "sql_at": [pd.NaT, created[1] + pd.Timedelta(hours=5), created[2] + pd.Timedelta(days=3)]})
    rules = {"pools": {"p": {"members": ["R1"]}}, "rules": [{"name": "all", "pool": "p"}]}
    out = replay(leads, reps, rules, period=("2025-03-10", "2025-03-11"), as_of="2025-03-11 00:00")
    actual = out.assignments[out.assignments["scenario"] == "actual"].set_index("lead_id")
    assert actual.loc["P1", "speed_to_lead_hours"] == 1.0
    assert pd.isna(actual.loc["P2", "speed_to_lead_hours"])  # touched after the as-of moment: unknown then
