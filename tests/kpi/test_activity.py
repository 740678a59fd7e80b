"""Activity per rep per working day: hand-made cases and the sample's planted rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.kpi import MissingDataError, activity_distribution, activity_per_working_day


def _activities(counts: dict[str, list[tuple[str, str]]]) -> pd.DataFrame:
    rows = []
    for rep, items in counts.items():
        for day, kind in items:
            rows.append({"rep_id": rep, "occurred_at": f"{day} 15:00:00", "type": kind})
    frame = pd.DataFrame(rows)
    frame.insert(0, "activity_id", [f"T{i:04d}" for i in range(len(frame))])
    return frame


@pytest.fixture
def tiny(crm):
    reps = pd.DataFrame({
        "rep_id": ["A1", "A2", "S1", "M1"],
        "name": ["Ann", "Bo", "Cy", "Di"],
        "role": ["AE", "AE", "SDR", "manager"],
        "team": ["East", "West", "East", "East"],
        "hire_date": ["2025-01-08", None, "2020-01-01", "2020-01-01"],
        "end_date": [None, None, "2025-01-10", None],
    })
    acts = _activities({
        "A1": [("2025-01-08", "call")] * 12 + [("2025-01-22", "email")] * 12,  # 24
        "A2": [("2025-01-06", "call")] * 14 + [("2025-01-23", "meeting")] * 14,  # 28
        "S1": [("2025-01-07", "call")] * 10,
        "M1": [("2025-01-07", "call")] * 5,  # managers are left out by default
    })
    return crm(as_of="2025-01-24", reps=reps, activities=acts)


def test_pooled_rate_by_role_by_hand(tiny):
    out = activity_per_working_day(tiny, "role", start="2025-01-06", end="2025-01-24").set_index("role")
    # window: 15 weekdays minus MLK day (20 Jan) = 14; A1 hired Wed 8 Jan -> 12, A2 -> 14, S1 left Fri 10 Jan -> 5
    assert out.loc["AE", "working_days"] == 26 and out.loc["AE", "activities"] == 52
    assert out.loc["AE", "per_day"] == pytest.approx(2.0)
    assert out.loc["SDR", "working_days"] == 5 and out.loc["SDR", "per_day"] == pytest.approx(2.0)
    assert "manager" not in out.index
    assert out.attrs["working_days_in_window"] == 14
    # without the holiday every AE gains one day
    flat = activity_per_working_day(tiny, "role", start="2025-01-06", end="2025-01-24", holidays=[]).set_index("role")
    assert flat.loc["AE", "working_days"] == 28


def test_per_rep_period_and_type_split(tiny):
    per_rep = activity_per_working_day(tiny, ["rep_id", "role"], "month", start="2025-01-06", end="2025-01-24")
    a1 = per_rep.set_index("rep_id").loc["A1"]
    assert a1["working_days"] == 12 and a1["per_day"] == pytest.approx(2.0) and a1["period"] == "2025-01"
    by_type = activity_per_working_day(tiny, ["role", "type"], start="2025-01-06", end="2025-01-24")
    ae = by_type[by_type["role"].eq("AE")].set_index("type")
    # each type's rate is over the same 26 AE working days; a type an SDR never logged still shows as 0
    assert ae.loc["call", "activities"] == 26 and ae.loc["call", "working_days"] == 26
    assert ae.loc["meeting", "per_day"] == pytest.approx(14 / 26)
    sdr = by_type[by_type["role"].eq("SDR")].set_index("type")
    assert sdr.loc["email", "activities"] == 0 and sdr.loc["email", "working_days"] == 5
    assert ae["per_day"].sum() == pytest.approx(2.0)
    everyone = activity_per_working_day(tiny, None, start="2025-01-06", end="2025-01-24", roles=None)
    assert everyone["activities"].iloc[0] == 67 and everyone["working_days"].iloc[0] == 26 + 5 + 14


def test_distribution_summary(tiny):
    per_rep = activity_per_working_day(tiny, ["rep_id", "role"], start="2025-01-06", end="2025-01-24")
    spread = activity_distribution(per_rep, "role", min_days=1).set_index("role")
    assert spread.loc["AE", "rows"] == 2
    assert spread.loc["AE", "median"] == pytest.approx(np.median([24 / 12, 28 / 14]))
    assert spread.loc["AE", "pooled"] == pytest.approx(52 / 26)
    with pytest.raises(ValueError, match="lacks column"):
        activity_distribution(per_rep.drop(columns="role"), "role")


def test_missing_tables_are_named(crm, tiny):
    with pytest.raises(MissingDataError, match="needs the activities table"):
        activity_per_working_day(crm(reps=tiny.reps))
    with pytest.raises(MissingDataError, match="needs the reps table"):
        activity_per_working_day(crm(activities=tiny.activities))
    with pytest.raises(MissingDataError, match="reps.segment"):
        activity_per_working_day(tiny, "segment")


def test_sample_recovers_planted_activity_rates(sample, truth):
    out = activity_per_working_day(sample, "role").set_index("role")
    realised = truth["activities"]["realised_per_working_day"]
    planted = truth["activities"]["planted_per_working_day"]
    for role in ("SDR", "AE"):
        assert out.loc[role, "per_day"] == pytest.approx(realised[role], abs=0.001)
        assert out.loc[role, "per_day"] == pytest.approx(planted[role], rel=0.03)
    # the spread across rep-quarters sits around the planted rate too
    per_rep = activity_per_working_day(sample, ["rep_id", "role"], "quarter")
    spread = activity_distribution(per_rep, "role").set_index("role")
    assert spread.loc["SDR", "p25"] < planted["SDR"] < spread.loc["SDR", "p75"]
    assert spread.loc["AE", "p25"] < planted["AE"] < spread.loc["AE", "p75"]
