"""Training impact: the planted +5 points, the groups, the 2x2 by hand, and the too-little-data messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.experiments import did_study
from salesops.people import main_program, training_groups, training_study
from salesops.people.page import describe_training, page_metrics


def test_training_effect_recovers_the_planted_one(training, truth):
    planted = truth["training"]["planted_effect"]
    e = training.effect
    assert e.available, training.message
    assert abs(e.value - planted) <= 0.025, e.value
    assert e.lower <= planted <= e.upper
    assert e.significant


def test_parallel_trends_hold_and_the_placebo_finds_nothing(training):
    assert training.did.pretrend.available
    assert training.did.pretrend.p_value > 0.05
    placebo = training.did.placebo.effect
    assert placebo.available and not placebo.significant


def test_groups_are_the_trained_and_the_eligible_untrained(training, truth):
    t = truth["training"]
    assert training.program.name == t["program"]
    assert str(training.program.start.date()) == t["start_date"] and str(training.program.end.date()) == t["end_date"]
    g = training.groups.groupby("group")["rep_id"].apply(set)
    assert g["treated"] == set(t["treated_rep_ids"])
    # every control of the design is a control here; the one extra AE sat out of the randomisation (odd count)
    assert set(t["control_rep_ids"]) <= g["control"]
    assert len(g["control"] - set(t["control_rep_ids"])) <= 1
    assert not g["control"] & g["treated"]


def test_2x2_is_the_difference_of_differences_by_hand():
    # rep-level win rates: treated 0.2 -> 0.5, control 0.3 -> 0.4: effect 0.2
    rows = []
    for rep, treated, pre, post in (("T1", 1, 0.2, 0.5), ("T2", 1, 0.2, 0.5), ("T3", 1, 0.2, 0.5),
                                    ("C1", 0, 0.3, 0.4), ("C2", 0, 0.3, 0.4), ("C3", 0, 0.3, 0.4)):
        for period, rate in ((-2, pre), (-1, pre), (0, post)):
            wins = int(round(rate * 10))
            rows += [{"rep_id": rep, "treated": treated, "post": int(period >= 0), "period": period,
                      "won": float(i < wins)} for i in range(10)]
    panel = pd.DataFrame(rows)
    study = did_study(panel, "t", outcome="won", unit="rep_id", fixed_effects=False, binary=True)
    assert study.effect.value == pytest.approx((0.5 - 0.2) - (0.4 - 0.3))
    means = study.means.pivot(index="period", columns="group", values="mean")
    assert means.loc[0, "treated"] == pytest.approx(0.5) and means.loc[-1, "control"] == pytest.approx(0.3)


def test_too_few_controls_gives_a_message(sample):
    study = training_study(sample, quarter="2025Q4", min_controls=20)
    assert not study.available
    assert "control unit(s), at least 20 needed" in study.message
    assert np.isnan(study.effect.value)
    assert "no training estimate" in describe_training(study).lower()


def test_too_short_a_pre_period_gives_a_message(sample):
    study = training_study(sample, quarter="2025Q4", period_days=400, min_pre_periods=3)
    assert not study.available and "before the change, at least 3 needed" in study.message


def test_no_trainings_table_is_named(sample):
    tables = {k: v for k, v in sample.tables.items() if k != "trainings"}
    study = training_study(tables, quarter="2025Q4")
    assert not study.available and "`trainings` table" in study.message


def test_rolling_onboarding_has_no_common_date(sample):
    study = training_study(sample, quarter="2025Q4", program="New Hire Onboarding")
    assert not study.available and "treated unit(s)" in study.message


def test_nothing_after_the_cutoff_is_used(sample):
    study = training_study(sample, quarter="2024Q4")
    closes = sample.opportunities.set_index("opportunity_id").loc[study.panel["opportunity_id"], "close_date"]
    assert closes.max() <= pd.Timestamp("2024-12-31")
    assert study.effect.n < 4000


def test_main_program_picks_the_largest_session(sample):
    p = main_program(sample.trainings)
    assert p.name == "Value Selling Bootcamp"
    groups = training_groups(sample.tables, p)
    assert set(groups["group"]) == {"treated", "control"}


def test_page_metrics_are_finite_and_named(training, ramp, signals_36m):
    from salesops.people import coaching_topics

    metrics = page_metrics(ramp, training, signals_36m, coaching_topics(signals_36m))
    assert metrics["people.training.effect"][0] == pytest.approx(training.effect.value)
    assert metrics["people.ramp.months_to_90pct"][0] == pytest.approx(ramp.months_to_target.value)
    assert all(k.startswith("people.") for k in metrics)
    assert all(np.isfinite(v) for v, _unit, _desc in metrics.values())
    assert "+5." in describe_training(training) or "+4." in describe_training(training)
