"""The what-if model against the payout engine, and the widget callbacks driven without a browser."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from salesops.comp.baseline import plan_cost, plan_year
from salesops.comp.engine import compute_payouts
from salesops.comp.plan import Draw, load_plan
from salesops.whatif import Levers, WhatIfModel
from salesops.whatif.app import WhatIfApp


def test_baseline_equals_the_engine(sample):
    year = plan_year("ae_standard", sample, period="2025")
    r = year.result
    m = WhatIfModel.from_result(r)
    s = m.evaluate()
    # commission + SPIF + clawback + draw: the engine's payout, to the cent, per rep and in total
    per_rep = r.payouts.groupby("rep_id")["payout"].sum()
    assert np.allclose(s.reps.set_index("rep_id")["payout"].reindex(per_rep.index), per_rep, atol=0.005)
    assert s.cost == year.cost == m.current == plan_cost(r)
    assert r.payouts["clawback"].sum() < 0, "the sample's plan year has clawbacks: the test must cover them"
    assert np.allclose(s.reps["change"], 0)
    assert s.bookings == pytest.approx(r.payouts["achieved"].sum())


def test_default_period_is_the_latest_year_and_names_replace_ids(sample):
    m = WhatIfModel.from_data(sample, "ae_standard")
    assert m.period == "2025"
    names = sample.reps.set_index("rep_id")["name"]
    reps = m.evaluate().reps
    assert (reps["name"].to_numpy() == names.reindex(reps["rep_id"]).to_numpy()).all()


@pytest.mark.parametrize("draw", [Draw(20_000.0, recoverable=True), Draw(20_000.0, recoverable=False, periods=2)])
@pytest.mark.parametrize("accelerator", [None, 1.0, 4.0])
def test_a_draw_is_recomputed_on_the_new_earnings(tiny, draw, accelerator):
    plan = replace(load_plan("ae_standard"), draw=draw, clawback=None)
    m = WhatIfModel.from_result(compute_payouts(plan, tiny, period="2025"))
    changed = plan if accelerator is None else plan.with_changes(accelerator=accelerator)
    engine = compute_payouts(changed, tiny, period="2025").payouts
    assert engine["draw_adjustment"].abs().sum() > 0, "the draw must bite in this case"
    s = m.evaluate(accelerator=accelerator)
    assert s.reps.set_index("rep_id")["payout"].to_dict() == engine.groupby("rep_id")["payout"].sum().to_dict()


def test_levers_by_hand(tiny):
    m = WhatIfModel.from_data(tiny, "ae_standard", period="2025")
    a1 = lambda s: s.reps.set_index("rep_id").loc["A1", "payout"]  # noqa: E731
    # baseline 2025 for A1: Q2 2,500 + 500 SPIF, Q3 62,500 (capped), Q4 28,750 less the 5,000 clawback of D1
    # (AC1 churned within 90 days; held at the current plan's amount under every lever)
    assert a1(m.evaluate()) == 89_250.0
    # no cap: Q3 pays 4.75 x 25k
    assert a1(m.evaluate(cap=0)) == 2_500 + 500 + 118_750 + 28_750 - 5_000
    # accelerator 1: Q4 G(1.2) = 0.25 + 0.5 + 0.2 = 0.95; Q3 G(3) = 2.75 (capped at 2.5)
    assert a1(m.evaluate(accelerator=1.0)) == 2_500 + 500 + 62_500 + 23_750 - 5_000
    # quota level 1.2: Q4 attainment 1.0 -> 0.75 x 25k
    assert a1(m.evaluate(quota_level=1.2)) == pytest.approx(
        25_000 * 0.5 * (0.2 / 1.2) + 500 + 62_500 + 18_750 - 5_000, abs=0.005)
    # SPIF 1,000 per deal: +500 on the one Add-on deal
    assert a1(m.evaluate(spif_amount=1000)) == 89_750.0
    s = m.evaluate(Levers(accelerator=1.0))
    assert s.reps.set_index("rep_id").loc["A1", "change"] == -5_000.0  # Q4 28,750 -> 23,750; Q3 stays capped


def test_cost_of_sales_by_hand(tiny):
    m = WhatIfModel.from_data(tiny, "ae_standard", period="2025")
    s = m.evaluate()
    # A1 alone (A2 has no quota): base 3 quarters x 25k; bookings 20k + 300k + 120k
    assert s.cost_of_sales == pytest.approx((75_000 + 89_250) / 440_000)


def test_widget_callbacks_recompute(tiny):
    app = WhatIfApp(WhatIfModel.from_data(tiny, "ae_standard", period="2025"), draw_figure=False)
    before = app.cost.value
    assert "$89,250" in before
    app.controls["cap"].value = 0.0
    assert "$145,500" in app.cost.value
    assert app.scenario.total_payout == 145_500.0
    assert "a1" in app.movers.value and "+$56,250" in app.movers.value
    app.controls["quota_level"].value = 1.2
    assert app.scenario.total_payout < 145_500.0
    # a setting the plan validation refuses is reported, not raised
    app.controls["accelerator"].value = 0.0
    assert app.error.value == "" and app.scenario.total_payout < 145_500.0


def test_widget_draws_the_figure(tiny):
    app = WhatIfApp(WhatIfModel.from_data(tiny, "ae_standard", period="2025"))
    first = bytes(app.figure.value)
    assert first.startswith(b"\x89PNG")
    app.controls["spif_amount"].value = 2000
    assert "$90,750" in app.cost.value
    assert bytes(app.figure.value).startswith(b"\x89PNG") and bytes(app.figure.value) != first


def test_an_unexpected_error_is_logged_not_shown(tiny, caplog, monkeypatch):
    from salesops.whatif.app import log

    app = WhatIfApp(WhatIfModel.from_data(tiny, "ae_standard", period="2025"), draw_figure=False)

    def broken(levers):
        raise RuntimeError("secret detail /srv/data")

    monkeypatch.setattr(app.model, "evaluate", broken)
    log.addHandler(caplog.handler)
    try:
        app.controls["cap"].value = 0.0
    finally:
        log.removeHandler(caplog.handler)
    assert "could not be computed" in app.error.value
    assert "secret detail" not in app.error.value and "Traceback" not in app.error.value
    assert "secret detail /srv/data" in caplog.text and "RuntimeError" in caplog.text


def test_reset_restores_the_current_plan_in_one_update(tiny):
    app = WhatIfApp(WhatIfModel.from_data(tiny, "ae_standard", period="2025"), draw_figure=False)
    first = app.cost.value
    app.controls["cap"].value = 0.0
    app.controls["quota_level"].value = 1.2
    assert app.cost.value != first
    calls = []
    original = app.model.evaluate
    app.model.evaluate = lambda levers: calls.append(levers) or original(levers)
    app.reset()
    assert len(calls) == 1 and app.cost.value == first
    assert {k: c.value for k, c in app.controls.items()} == app.initial
    assert "±$0" in app.cost.value and "±0.00 pt" in app.cost.value


def test_comparison_rows_show_units_and_signed_changes():
    from salesops.comp.baseline import PlanCost
    from salesops.whatif.app import comparison_rows

    rows = comparison_rows(PlanCost.of(100, 50, 1000), PlanCost.of(100, 40, 1000))
    assert rows[0] == ("Cost of sales", "15.00%", "14.00%", "−1.00 pt")
    assert rows[1] == ("Variable pay", "$50", "$40", "−$10")
    assert comparison_rows(PlanCost.of(100, 50, 1000), PlanCost.of(100, 2050, 1000))[1][3] == "+$2,000"


def test_money_axis():
    from salesops.plots.comp import money_tick

    assert [money_tick(v) for v in (140_000, 1_250_000, 950, -20_000, 0)] == [
        "$140k", "$1.2M", "$950", "-$20k", "$0"]
