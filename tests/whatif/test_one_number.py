"""One number everywhere: the what-if app with no lever moved, the review's comp page (06) and the review's
metrics.json show the same cost of sales and variable pay, to the cent, for the same plan and year."""

from __future__ import annotations

import json

import pytest

from salesops.comp.baseline import plan_year
from salesops.whatif.app import WhatIfApp

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample_reviewed(tmp_path_factory):
    from _sample_review import sample_review

    return sample_review(tmp_path_factory)


def test_app_page_and_metrics_agree_to_the_cent(sample_reviewed, sample):
    result, out = sample_reviewed
    assert result.exit_code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["quarter"] == "2025Q4"
    cos = metrics["metrics"]["comp.cost_of_sales"]["value"]
    variable = metrics["metrics"]["comp.variable_pay"]["value"]

    # the app as `salesops whatif --data data/sample` builds it: default plan, default period
    app = WhatIfApp.from_data(sample, plan="ae_standard", period=None, draw_figure=False)
    assert app.model.period == "2025"
    shown = app.scenario.cost
    assert round(shown.variable_pay * 100) == round(variable * 100)
    assert shown.cost_of_sales == pytest.approx(cos, rel=1e-12)
    assert app.model.current == shown == plan_year("ae_standard", sample, period="2025").cost

    # the same figures, formatted, on the page and in the app's labels
    page = (out / "06_comp_whatif.html").read_text()
    for text in (f"{cos:.2%}", f"${variable:,.0f}"):
        assert text in app.cost.value, text
        assert text in page, text
