"""Library warnings become one plain sentence; no warning text or file path is left for a page."""

from __future__ import annotations

import warnings

import numpy as np

from salesops.caught import caught_warnings
from salesops.kpi.panels import Panel, quiet_panel


def test_numerical_warnings_become_a_sentence():
    with caught_warnings() as caught:
        with np.errstate(over="warn", divide="warn"):
            np.exp(np.array([1000.0]))
            np.array([1.0]) / np.array([0.0])
        warnings.warn("overflow encountered in exp", RuntimeWarning, stacklevel=1)  # a duplicate kind
    assert len(caught.messages) == 2
    (sentence,) = caught.sentences("the CLV figures")
    assert "overflow" in sentence and "division by zero" in sentence and "the CLV figures" in sentence
    assert "RuntimeWarning" not in sentence and ".py" not in sentence


def test_nothing_caught_means_no_sentence():
    with caught_warnings() as caught:
        pass
    assert not caught and caught.sentences() == []


def test_a_panel_keeps_its_figures_and_gains_the_sentence(recwarn):
    def build() -> Panel:
        warnings.warn("overflow encountered in exp", RuntimeWarning, stacklevel=1)
        return Panel("clv", "Transactional lifetime value", text="figures")

    panel = quiet_panel(build)
    assert panel.text == "figures" and "overflow" in panel.note
    assert len(recwarn) == 0  # nothing escaped to be printed in the notebook


def test_deprecation_warnings_are_not_about_the_figures():
    import warnings

    with caught_warnings() as caught:
        warnings.warn("fetch_arrow_table() is deprecated", DeprecationWarning, stacklevel=1)
        warnings.warn("a default will change", FutureWarning, stacklevel=1)
    assert not caught and caught.sentences() == []
