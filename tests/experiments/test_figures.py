"""The figures of page 09 (and the empty cases of page 08): a closed Figure with axes, or a message."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from salesops.experiments import campaign_roi
from salesops.experiments.benchmarks import company_figures, compare_to_benchmarks
from salesops.experiments.its import DidStudy
from salesops.experiments.result import Estimate
from salesops.plots import experiments as xp
from salesops.plots import people as pp


def _texts(fig: Figure) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_experiment_figures(process, webinar, sample):
    for fig in (xp.plot_its(process), xp.plot_campaign_lift(webinar[1]),
                xp.plot_campaign_roi(campaign_roi(sample, by="channel", quarter="2025Q4", months=12)),
                xp.plot_benchmarks(compare_to_benchmarks(company_figures(sample, quarter="2025Q4", ramp_months=5)))):
        assert isinstance(fig, Figure) and fig.axes
    assert "level change +9." in _texts(xp.plot_its(process))


def test_empty_inputs_draw_a_message():
    msg = "too little data: 2 weeks"
    empty = DidStudy("x", Estimate.unavailable("x", msg), Estimate.unavailable("y", msg),
                     pd.DataFrame(columns=["period", "group", "n", "mean", "lower", "upper"]), message=msg)
    assert msg in _texts(xp.plot_campaign_lift(empty))
    assert "no spend" in _texts(xp.plot_campaign_roi(None))
    assert "no hire" in _texts(pp.plot_ramp_curve(pd.DataFrame()))
    assert "no hire" in _texts(pp.plot_first_deal(pd.DataFrame()))
    assert "no deal" in _texts(pp.plot_training_trends(pd.DataFrame()))
    assert "no rep" in _texts(pp.plot_coaching_map(pd.DataFrame()))
