"""Figures are returned (closed, never shown) and cope with empty input."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
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


def test_thai_names_render_with_a_font_that_has_their_glyphs(recwarn):
    import pytest
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    plots.set_style()
    families = plt.rcParams["font.family"]
    thai = [f for f in families if f in plots.THAI_FONTS]
    if not thai:
        pytest.skip("no Thai-capable font installed (apt-get install fonts-thai-tlwg; .ci/run does)")
    text = "ยอดขายของ สมชาย ใจดี — บริษัท ไทยเจริญ จำกัด ฿1,234"
    fig, ax = plt.subplots()
    ax.bar(["สมชาย", "Ana"], [3, 4])
    ax.set_title(text)  # bold, as the house style sets titles
    ax.set_xlabel(text)
    fig.canvas.draw()
    missing = [str(w.message) for w in recwarn if "missing from font" in str(w.message)]
    assert missing == []
    # and every character has a glyph in the font chain, regular and bold
    for weight in ("normal", "bold"):
        paths = font_manager.fontManager._find_fonts_by_props(
            font_manager.FontProperties(family=families, weight=weight))
        fonts = [FT2Font(str(p)) for p in paths]
        for ch in set(text) - {" "}:
            assert any(f.get_char_index(ord(ch)) for f in fonts), (ch, weight)
    plt.close(fig)


def test_error_extent_never_negative():
    from salesops.plots import error_extent

    # 38 of 38 converted: the Wilson upper bound comes out a hair under the rate
    out = error_extent([1.0, 0.5, np.nan], [0.9, 0.6, 0.1], [1.0 - 1e-16, 0.7, 0.2])
    assert out.shape == (2, 3) and (out >= 0).all()
    assert out[0, 0] == pytest.approx(0.1) and out[1, 0] == 0.0 and out[0, 1] == 0.0 and out[1, 1] == pytest.approx(0.2)


def test_lead_funnel_draws_when_every_lead_converted():
    from salesops.plots.funnel import plot_lead_funnel

    funnel = pd.DataFrame({"period": ["2018Q1", "2018Q2"], "step": "lead_to_mql", "mature": [38, 10],
                           "rate": [1.0, 0.5], "lower": [0.908, 0.2], "upper": [1.0 - 1e-16, 0.8]})
    fig = plot_lead_funnel(funnel, steps=("lead_to_mql",))
    assert fig.axes


def test_names_with_dollars_and_underscores_are_drawn_as_typed():
    """A rep called ``$\\frac{x$`` would fail the figure under mathtext; the house style draws it literally."""
    plots.set_style()
    names = ["$\\frac{x$ costs $5", "a_b $c_d$"]
    fig, ax = plt.subplots()
    ax.bar(names, [3, 4])
    ax.set_title(names[0])
    fig.canvas.draw()  # mathtext would raise ValueError here on the unbalanced $\frac{x$
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    plt.close(fig)
