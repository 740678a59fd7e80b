from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from salesops.comp.engine import compute_payouts
from salesops.comp.plan import parse_plan
from salesops.comp.simulate import AttainmentSampler, simulate_cost
from salesops.plots import comp as cp
from salesops.whatif import WhatIfModel


def test_meetings_measure_by_hand(tiny):
    held = pd.date_range("2025-10-01", periods=12, freq="D", tz="UTC")
    tiny.tables["activities"] = pd.DataFrame({
        "activity_id": [f"X{i}" for i in range(14)], "rep_id": "S1", "type": "meeting",
        "occurred_at": held.append(pd.DatetimeIndex(["2025-10-20", "2025-10-21"], tz="UTC")),
        "outcome": ["held"] * 12 + ["no_show", "held"],
    })
    tiny.tables["activities"].loc[13, "type"] = "call"
    plan = parse_plan({"name": "m", "role": "SDR", "kind": "per_unit", "unit_rate": 100, "unit_quota": 10,
                       "measures": [{"name": "meetings"}],
                       "tiers": [{"from": 0, "to": 1, "rate": 1}, {"from": 1, "to": None, "rate": 2}]})
    r = compute_payouts(plan, tiny, period="2025Q4")
    # 12 meetings held (the no-show and the call do not count): 10 x 100 + 2 x 200
    row = r.payouts.iloc[0]
    assert (row["rep_id"], row["achieved"], row["payout"]) == ("S1", 12.0, 1_400.0)


def test_figures(tiny):
    r = compute_payouts("ae_standard", tiny)
    assert isinstance(cp.plot_attainment(r.payouts["attainment"]), Figure)
    assert isinstance(cp.plot_whatif(WhatIfModel.from_result(r).evaluate(accelerator=3.0)), Figure)
    flags = pd.DataFrame({"rep_id": ["a", "b"], "index": [0.8, 1.2], "raw_rate": [0.2, 0.4],
                          "segment_rate": [0.3, 0.3], "flagged": [True, False], "recognised": [False, True]})
    assert isinstance(cp.plot_performance_index(flags), Figure)
    s = AttainmentSampler().fit(pd.DataFrame({"rep_id": ["a", "a", "b"], "attainment": [0.5, 1.0, 1.5]}))
    res = simulate_cost(r.plan, s, n_runs=100)
    fig = cp.plot_simulated_cost({"p": res})
    assert isinstance(fig, Figure) and np.isfinite(res.cost).all()
