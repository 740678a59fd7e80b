"""Pipeline flow: the tiny CRM by hand (skip, regression, push, slip, pull-in, amount changes), and exact
reconciliation of every quarter of the sample."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.funnel import FLOW_STEPS, MissingDataError, flow_events, pipeline_flow, snapshot
from salesops.funnel._common import quarter_moments
from salesops.periods import Quarter

from .conftest import tiny_data, tiny_tables, ts

QUARTERS = [Quarter(y, q) for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)]


def test_tiny_flow_of_2025q2_by_hand(tiny):
    flow = pipeline_flow(tiny, "2025Q2").set_index("step")
    expected = {  # step: (amount, deals)
        "start": (6000.0, 3),  # A 1,000 + B 2,000 + C 3,000 due in the quarter on 03-31
        "created": (4000.0, 1),  # D; E and F are due after the quarter
        "pulled_in": (8000.0, 2),  # C back to 06-25 (3,000); E won on 06-01 ahead of 08-15 (5,000)
        "reopened": (0.0, 0),
        "pushed_out": (-3000.0, 1),  # C moved to 09-15 on 04-10, before its date
        "slipped": (-2000.0, 1),  # B moved on 06-15, the day it was due
        "won": (-6500.0, 2),  # A 1,500 (after its increase) + E 5,000
        "lost": (-4000.0, 1),  # D; F was due after the quarter and changes nothing here
        "amount_increase": (500.0, 1),  # A 1,000 -> 1,500
        "amount_decrease": (-500.0, 1),  # C 3,000 -> 2,500
        "end": (2500.0, 1),  # C, still open and due 06-25
    }
    assert list(flow.index) == list(FLOW_STEPS)
    for step, (amount, deals) in expected.items():
        assert (flow.loc[step, "amount"], flow.loc[step, "deals"]) == (amount, deals), step
    assert flow.attrs["reconciled"]


def test_tiny_flow_events_are_attributed_to_rows():
    ev = flow_events(tiny_tables()["opportunity_history"], "2025Q2")
    got = {(r.opportunity_id, r.step): (r.changed_at, r.amount) for r in ev.itertuples()}
    assert got[("C", "pushed_out")] == (ts("04-10"), -3000.0)
    assert got[("C", "pulled_in")] == (ts("05-05"), 3000.0)
    assert got[("B", "slipped")] == (ts("06-15"), -2000.0)
    assert got[("E", "pulled_in")] == (ts("06-01"), 5000.0) and got[("E", "won")] == (ts("06-01"), -5000.0)
    assert not any(opp == "F" for opp, _ in got)
    assert ev.attrs["start_cents"] + ev["cents"].sum() == ev.attrs["end_cents"] == 250_000


def test_tiny_flow_by_segment_and_a_running_quarter(tiny):
    flow = pipeline_flow(tiny, "2025Q2", by="segment")
    for seg, part in flow.groupby("segment"):
        steps = part[part["kind"] != "level"]["amount"].sum()
        assert (
            part.loc[part["step"] == "start", "amount"].item() + steps
            == part.loc[part["step"] == "end", "amount"].item()
        ), seg
    mm = flow[flow["segment"] == "Mid-Market"].set_index("step")["amount"]
    assert (mm["created"], mm["won"], mm["lost"], mm["end"]) == (4000.0, -5000.0, -4000.0, 0.0)
    # the quarter seen on 05-12: A won, D lost, C pushed and pulled back, B still due
    mid = pipeline_flow(tiny, "2025Q2", as_of="2025-05-12").set_index("step")["amount"]
    assert mid["end"] == 2000.0 + 3000.0  # B due 06-15, C due 06-25 (its decrease comes on 05-20)
    assert mid["won"] == -1500.0 and mid["slipped"] == 0.0


def test_tiny_quarter_after_the_history_ends(tiny):
    flow = pipeline_flow(tiny, "2025Q3").set_index("step")["amount"]
    # start: C was due 06-25 (in Q2), so nothing is due in Q3 on 06-30 but B (due 08-31 since 06-15)
    assert flow["start"] == 2000.0 and flow["lost"] == -2000.0 and flow["end"] == 0.0


def test_reopened_deals_come_back_into_the_flow():
    h = tiny_tables()["opportunity_history"]
    reopen = pd.DataFrame(
        {
            "opportunity_id": ["D"],
            "changed_at": [ts("05-08")],
            "stage": ["Qualification"],
            "amount": [3500.0],
            "close_date": [pd.Timestamp("2025-06-10")],
            "forecast_category": ["pipeline"],
        }
    )
    data = tiny_data(opportunity_history=pd.concat([h, reopen], ignore_index=True))
    flow = pipeline_flow(data, "2025Q2").set_index("step")
    assert flow.loc["reopened", "amount"] == 3500.0 and flow.attrs["reconciled"]
    assert flow.loc["end", "amount"] == 2500.0 + 3500.0


def test_missing_amount_or_history_is_named():
    h = tiny_tables()["opportunity_history"].drop(columns=["amount"])
    with pytest.raises(MissingDataError, match=r"opportunity_history\.amount"):
        pipeline_flow(tiny_data(opportunity_history=h), "2025Q2")
    with pytest.raises(MissingDataError, match="the opportunity_history table"):
        pipeline_flow(tiny_data(drop=("opportunity_history",)), "2025Q2")


@pytest.fixture(scope="module")
def flows(sample):
    return {q: pipeline_flow(sample, q) for q in QUARTERS}


def test_every_sample_quarter_reconciles_to_the_cent(sample, flows):
    for q, flow in flows.items():
        cents = flow.set_index("step")["cents"]
        assert cents["start"] + cents.drop(["start", "end"]).sum() == cents["end"], q
        assert flow.attrs["reconciled"]
        # the levels are the snapshots at the quarter's start and end, computed independently
        for level, moment in zip(("start", "end"), quarter_moments(q, sample.as_of), strict=True):
            snap = snapshot(sample.opportunity_history, None, moment, sample.stages)
            due = snap["is_open"] & pd.to_datetime(snap["close_date"]).between(
                pd.Timestamp(q.start), pd.Timestamp(q.end)
            )
            assert round(snap.loc[due, "amount"].sum() * 100) == cents[level], (q, level)
    assert sum(flow.set_index("step").loc["created", "amount"] for flow in flows.values()) > 0


def test_won_in_the_flow_is_the_quarters_bookings(flows, truth):
    """Won pipeline = amounts of the deals won in the quarter; in Q4 the sample closes deals at the year's
    Q4 multiplier, so the flow (which counts the value the deal carried before closing) sits below it by that
    factor."""
    bookings = truth["seasonality"]["realised"]["bookings_by_quarter"]
    mult = truth["seasonality"]["q4_won_amount_multiplier_by_year"]
    for q, flow in flows.items():
        won = -flow.set_index("step").loc["won", "amount"]
        if q.q < 4:
            assert won == pytest.approx(bookings[str(q)], abs=0.005), q
        else:
            assert won * mult[str(q.year)] == pytest.approx(bookings[str(q)], rel=0.002), q


def test_sample_flow_by_segment_adds_up_to_the_total(sample, flows):
    by = pipeline_flow(sample, "2025Q2", by="segment")
    total = flows[Quarter(2025, 2)].set_index("step")["cents"]
    assert (by.groupby("step")["cents"].sum().reindex(total.index) == total).all()
