"""Figures are returned (closed, never shown) and cope with empty input."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from salesops import plots
from salesops import quality_views as qv


def test_helpers_return_closed_figures(tmp_path):
    plots.set_style()
    counts = qv.load_counts(pd.DataFrame({"table": ["reps", "activities"], "source": ["a", "b"],
                                          "read": [4, 100_000], "accepted": [4, 99_000], "rejected": [0, 1_000]}))
    monthly = pd.DataFrame({"table": ["activities"] * 3, "month": pd.date_range("2025-01-01", periods=3, freq="MS"),
                            "records": [5, 0, 7]})
    cov = pd.DataFrame({"table": ["activities"], "first": [pd.Timestamp("2025-01-02")],
                        "last": [pd.Timestamp("2025-03-30")]})
    problems = pd.DataFrame({"table": ["activities"], "column": ["rep_id"], "check": ["foreign_key"], "rows": [1000]})
    figures = [
        plots.plot_load_counts(counts),
        plots.plot_problems(problems),
        plots.plot_monthly_records(monthly),
        plots.plot_spans(cov, as_of=pd.Timestamp("2025-03-31T10:00Z"),
                         quarter=(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-31"))),
    ]
    assert plt.get_fignums() == [], "figures are closed, so a notebook shows each exactly once"
    for i, fig in enumerate(figures):
        assert isinstance(fig, Figure)
        fig.savefig(tmp_path / f"{i}.png")
    assert figures[0].axes[0].get_xscale() == "log"


def test_helpers_cope_with_nothing():
    empty = pd.DataFrame(columns=["table", "read", "accepted", "rejected", "column", "check", "rows", "month",
                                  "records", "first", "last"])
    for fig in (plots.plot_load_counts(empty), plots.plot_problems(empty), plots.plot_monthly_records(empty),
                plots.plot_spans(empty)):
        assert isinstance(fig, Figure)
