"""The what-if model against the payout engine, and the widget callbacks driven without a browser."""

from __future__ import annotations

import numpy as np
import pytest

from salesops.comp.engine import compute_payouts
from salesops.whatif import Levers, WhatIfModel
from salesops.whatif.app import WhatIfApp


def test_baseline_equals_the_engine(sample):
    r = compute_payouts("ae_standard", sample, period="2025")
    m = WhatIfModel.from_result(r)
    s = m.evaluate()
    engine = (r.payouts["commission"] + r.payouts["spif"]).sum()
    assert s.total_payout == pytest.approx(engine, abs=0.005)
    assert np.allclose(s.reps["change"], 0)
    assert s.bookings == pytest.approx(r.payouts["achieved"].sum())


def test_levers_by_hand(tiny):
    m = WhatIfModel.from_data(tiny, "ae_standard", period="2025")
    a1 = lambda s: s.reps.set_index("rep_id").loc["A1", "payout"]  # noqa: E731
    # baseline 2025 for A1: Q2 2,500 + 500 SPIF, Q3 62,500 (capped), Q4 28,750 (clawback left out)
    assert a1(m.evaluate()) == 94_250.0
    # no cap: Q3 pays 4.75 x 25k
    assert a1(m.evaluate(cap=0)) == 2_500 + 500 + 118_750 + 28_750
    # accelerator 1: Q4 G(1.2) = 0.25 + 0.5 + 0.2 = 0.95; Q3 G(3) = 2.75 (capped at 2.5)
    assert a1(m.evaluate(accelerator=1.0)) == 2_500 + 500 + 62_500 + 23_750
    # quota level 1.2: Q4 attainment 1.0 -> 0.75 x 25k
    assert a1(m.evaluate(quota_level=1.2)) == pytest.approx(
        25_000 * 0.5 * (0.2 / 1.2) + 500 + 62_500 + 18_750)
    # SPIF 1,000 per deal: +500 on the one Add-on deal
    assert a1(m.evaluate(spif_amount=1000)) == 94_750.0
    s = m.evaluate(Levers(accelerator=1.0))
    assert s.reps.set_index("rep_id").loc["A1", "change"] == -5_000.0  # Q4 28,750 -> 23,750; Q3 stays capped


def test_cost_of_sales_by_hand(tiny):
    m = WhatIfModel.from_data(tiny, "ae_standard", period="2025")
    s = m.evaluate()
    # A1 alone (A2 has no quota): base 3 quarters x 25k; bookings 20k + 300k + 120k
    assert s.cost_of_sales == pytest.approx((75_000 + 94_250) / 440_000)


def test_widget_callbacks_recompute(tiny):
    app = WhatIfApp(WhatIfModel.from_data(tiny, "ae_standard", period="2025"), draw_figure=False)
    before = app.cost.value
    assert "$94,250" in before
    app.controls["cap"].value = 0.0
    assert "$150,500" in app.cost.value
    assert app.scenario.total_payout == 150_500.0
    assert "A1" in app.movers.value and "+56,250" in app.movers.value
    app.controls["quota_level"].value = 1.2
    assert app.scenario.total_payout < 150_500.0
    # a setting the plan validation refuses is reported, not raised
    app.controls["accelerator"].value = 0.0
    assert app.error.value == "" and app.scenario.total_payout < 150_500.0


def test_widget_draws_the_figure(tiny):
    app = WhatIfApp(WhatIfModel.from_data(tiny, "ae_standard", period="2025"))
    first = bytes(app.figure.value)
    assert first.startswith(b"\x89PNG")
    app.controls["spif_amount"].value = 2000
    assert "$95,750" in app.cost.value
    assert bytes(app.figure.value).startswith(b"\x89PNG") and bytes(app.figure.value) != first
