"""Interrupted time series around the qualification change, its placebo, the series builders and the cutoff."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.experiments import (
    Estimate,
    MissingData,
    NotEnoughData,
    conversion_series,
    cutoff_of,
    find_event,
    its_study,
    known_at,
    list_events,
    process_change_study,
    study_table,
)
from salesops.experiments.page import describe_its


def test_qualification_change_is_detected(process, truth):
    planted = truth["process_change"]["planted_lift"]
    e = process.effect
    assert e.available, process.message
    assert e.value > 0 and e.significant
    assert e.lower <= planted <= e.upper
    assert e.lower <= truth["process_change"]["realised"]["lift"] <= e.upper
    assert str(process.break_date.date()) == truth["process_change"]["date"]


def test_placebo_a_year_earlier_finds_nothing(process):
    p = process.placebo
    assert p is not None and p.effect.available
    assert str(p.break_date.date()) == "2024-01-01"
    assert not p.effect.significant and p.effect.p_value > 0.05
    assert p.series["period"].max() < process.break_date  # the placebo sees only the months before the change
    text = describe_its(process)
    assert "finds no jump" in text and "+9." in text


def test_study_table_lists_actual_and_placebo(process):
    table = study_table(process)
    assert list(table["check"]) == ["actual", "actual", "placebo"]
    assert table["value"].iloc[0] == pytest.approx(process.effect.value)


def test_its_recovers_a_known_jump_and_refuses_a_short_series():
    idx = pd.date_range("2022-01-01", periods=24, freq="MS")
    rng = np.random.default_rng(1)
    y = pd.Series(0.3 + 0.002 * np.arange(24) + 0.1 * (idx >= "2023-01-01") + rng.normal(0, 0.005, 24), index=idx)
    st = its_study(y, "2023-01-01", unit="share")
    assert st.effect.value == pytest.approx(0.1, abs=0.01) and st.effect.significant
    assert st.placebo is not None and not st.placebo.effect.available  # 12 months before: too few for a placebo
    short = its_study(y.iloc[:14], "2023-01-01", unit="share")
    assert not short.available
    assert "2 period(s) on or after 2023-01-01; the analysis needs at least 3" in short.message


def test_conversion_series_by_hand():
    t0 = pd.Timestamp("2025-01-05", tz="UTC")
    leads = pd.DataFrame({
        "mql_at": [t0, t0, t0, t0, t0 + pd.Timedelta(days=31), t0 + pd.Timedelta(days=60)],
        "sql_at": [t0 + pd.Timedelta(days=2), t0 + pd.Timedelta(days=40), pd.NaT, t0 + pd.Timedelta(days=3),
                   t0 + pd.Timedelta(days=33), t0 + pd.Timedelta(days=61)],
        "source": ["A", "A", "B", "B", "A", "A"],
    })
    cut = pd.Timestamp("2025-03-31 23:59", tz="UTC")
    s = conversion_series(leads, window_days=30, cutoff=cut)
    jan = s.set_index("period").loc[pd.Timestamp("2025-01-01")]
    # January: 4 MQLs; converted within 30 days: the first (2 days) and the fourth (3 days); 40 days is too late
    assert (jan["n"], jan["converted"], jan["rate"]) == (4, 2.0, 0.5)
    # mix-adjusted: A 1/2, B 1/2 -> 0.5 whatever the weights
    assert jan["adjusted_rate"] == pytest.approx(0.5)
    # March (2025-03-06) ends on 03-31; 03-31 + 30 days is after the cutoff: not mature, left out
    assert pd.Timestamp("2025-03-01") not in set(s["period"])
    assert "left out" in s.attrs["note"]


def test_a_month_too_recent_to_have_converted_is_left_out_not_reported_low():
    t0 = pd.Timestamp("2025-01-05", tz="UTC")
    leads = pd.DataFrame({"mql_at": [t0, t0], "sql_at": [t0 + pd.Timedelta(days=5), pd.NaT], "source": ["A", "A"]})
    # on 2025-02-28 a January MQL may not have had its 30 days yet: January is left out
    assert conversion_series(leads, window_days=30, cutoff=pd.Timestamp("2025-02-28", tz="UTC")).empty
    s = conversion_series(leads, window_days=30, cutoff=pd.Timestamp("2025-03-05", tz="UTC"))
    assert s["rate"].iat[0] == 0.5


def test_events_are_listed_and_found(sample):
    ev = list_events(sample.events)
    assert list(ev["date"]) == sorted(ev["date"])
    assert find_event(sample.events, kind="process_change")["event_id"] == "EV004"
    assert find_event(sample.events, "lead qualification process v2")["event_id"] == "EV004"
    with pytest.raises(NotEnoughData, match="holds: EV001"):
        find_event(sample.events, kind="process_change", until="2024-12-31")
    with pytest.raises(MissingData, match="no `events` table"):
        list_events(None)


def test_no_events_table_gives_a_message(sample):
    tables = {k: v for k, v in sample.tables.items() if k != "events"}
    st = process_change_study(tables, quarter="2025Q4")
    assert not st.available and "`events` table" in st.message
    assert describe_its(st).startswith("**No estimate.**")


def test_a_quarter_too_soon_after_the_change_gives_a_message(sample):
    st = process_change_study(sample, quarter="2025Q1")
    assert not st.available and "needs at least 3" in st.message


def test_cutoff_and_known_at(sample):
    cut = cutoff_of("2024Q4")
    assert cut == pd.Timestamp("2024-12-31 23:59:59.999999", tz="UTC")
    assert cutoff_of("2025Q4", "2025-06-30") == pd.Timestamp("2025-06-30 23:59:59.999999", tz="UTC")
    t = known_at(sample, cut)
    o = t["opportunities"]
    assert o["created_date"].max() <= pd.Timestamp("2024-12-31")
    closed_later = sample.opportunities["close_date"] > pd.Timestamp("2024-12-31")
    ids = set(sample.opportunities.loc[closed_later, "opportunity_id"]) & set(o["opportunity_id"])
    assert not o.loc[o["opportunity_id"].isin(ids), "is_closed"].any()
    assert (t["leads"]["sql_at"].dropna() <= cut).all()
    assert t["reps"]["end_date"].dropna().max() <= pd.Timestamp("2024-12-31")
    assert len(known_at(sample, None)["opportunities"]) == len(sample.opportunities)


def test_estimate_describes_itself():
    e = Estimate("lift", 1.3, 1.1, 1.5, 0.01, unit="ratio", n=10, null=1.0)
    assert e.significant and e.covers(1.4) and not e.covers(1.0)
    assert "1.30x" in e.describe()
    ratio_null = Estimate("lift", 1.1, 0.9, 1.3, 0.4, unit="ratio", null=1.0)
    assert not ratio_null.significant
    none = Estimate.unavailable("lift", "too little data: 2 weeks", "ratio")
    assert not none.available and "no estimate" in none.describe() and "2 weeks" in none.describe()
    assert list(none.to_frame().columns)[:4] == ["name", "value", "lower", "upper"]
