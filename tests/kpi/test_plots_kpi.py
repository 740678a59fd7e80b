"""The KPI figures: drawn from the sections' tables, and a sentence instead of a chart when data are missing."""

from __future__ import annotations

from matplotlib.figure import Figure

from salesops.plots import kpi as kp


def _texts(fig: Figure) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_every_figure_draws_the_sample(sample_panels):
    p = sample_panels
    figs = [
        kp.plot_activity(p["activity"].frames["per_rep"], p["activity"].frames["trend"]),
        kp.plot_win_rates(p["win_rate"].table, p["win_rate"].frames["trend"]),
        kp.plot_rep_win_rates(p["rep_win_rate"].table),
        kp.plot_cycle(p["cycle"].frames["curves"], p["cycle"].table, by="segment"),
        kp.plot_bookings(p["bookings"].frames["quarterly"], highlight="2025Q4"),
        kp.plot_cac(p["cac"].table, p["cac"].frames["trend"]),
        kp.plot_churn(p["churn"].table, p["churn"].frames["retention"]),
        kp.plot_ltv_to_cac(p["ltv"].frames["ratio_by_channel"]),
    ]
    for fig in figs:
        assert isinstance(fig, Figure) and fig.axes
        assert not _texts(fig)  # no "missing" message on a full data set
    win = figs[1].axes[0]
    assert len(win.get_yticklabels()) == len(p["win_rate"].table)
    cycle = figs[3].axes[0]
    assert len(cycle.get_legend().get_texts()) == 3  # one curve per segment


def test_missing_data_draw_the_sentence(sample_panels):
    note = sample_panels["clv"].note
    fig = kp.plot_clv(None, missing=note)
    assert "transactions table" in _texts(fig).replace("\n", " ")
    for fn in (kp.plot_activity, kp.plot_win_rates, kp.plot_rep_win_rates, kp.plot_cycle, kp.plot_bookings,
               kp.plot_cac, kp.plot_churn, kp.plot_ltv_to_cac, kp.plot_clv):
        fig = fn(None, missing="This data has no revenue table.")
        assert "no revenue table" in _texts(fig)
