"""The figures of page 08 on the sample: each returns a Figure with axes."""

from __future__ import annotations

from matplotlib.figure import Figure

from salesops.plots import people as pp


def test_people_figures(sample, ramp, training, signals_36m):
    r, t, s = ramp, training, signals_36m
    for fig in (pp.plot_ramp_curve(r.curve, r.tau, 0.9, r.months_to_target.value), pp.plot_first_deal(r.first_deal_curves),
                pp.plot_training_trends(t.did.means, t.effect.value), pp.plot_coaching_map(s)):
        assert isinstance(fig, Figure) and fig.axes
