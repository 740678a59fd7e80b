"""AUC, lift and calibration against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from salesops.leads import auc_interval, auc_table, calibration_table, lift_table


def test_auc_and_delong_se_by_hand():
    # positives 0.35 (beats 1 of 2 negatives) and 0.8 (beats both): AUC 0.75;
    # V10 = [0.5, 1.0], V01 = [1.0, 0.5]: S10 = S01 = 0.125, var = 0.125/2 + 0.125/2 = 0.125
    auc, se, lo, hi = auc_interval([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert auc == pytest.approx(0.75)
    assert se == pytest.approx(np.sqrt(0.125))
    assert lo < 0.75 < hi and 0 < lo and hi < 1


def test_auc_counts_ties_as_half_and_matches_sklearn():
    assert auc_interval([0, 1], [0.5, 0.5])[0] == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.3
    s = np.round(rng.random(500) + 0.3 * y, 1)  # many ties
    assert auc_interval(y, s)[0] == pytest.approx(roc_auc_score(y, s))


def test_auc_is_nan_without_both_classes_and_rejects_bad_input():
    assert np.isnan(auc_interval([1, 1], [0.2, 0.3])[0])
    with pytest.raises(ValueError, match="0/1"):
        auc_interval([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="one length"):
        auc_interval([0, 1, 1], [0.1, 0.2])


def test_auc_table_by_group():
    df = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 2, "y": [0, 0, 1, 1, 0, 1], "s": [0.1, 0.4, 0.35, 0.8, 0.9, 0.2]})
    out = auc_table(df, "y", "s", by="g").set_index("g")
    assert out.loc["a", "auc"] == pytest.approx(0.75)
    assert out.loc["b", "auc"] == pytest.approx(0.0)
    assert out.loc["a", "positives"] == 2 and out.loc["b", "leads"] == 2
    with pytest.raises(ValueError, match="'nope'"):
        auc_table(df, "y", "nope")


def test_lift_table_by_hand():
    # 10 leads, 5 bins of 2; scores descending; conversions in the top bin only (2) and one in bin 3
    score = np.arange(10, 0, -1) / 10
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    out = lift_table(y, score, bins=5)
    assert out["leads"].tolist() == [2] * 5
    assert out["conversions"].tolist() == [2, 0, 1, 0, 0]
    assert out["lift"].tolist() == pytest.approx([1.0 / 0.3, 0, 0.5 / 0.3, 0, 0])
    assert out["cumulative_conversions_share"].tolist() == pytest.approx([2 / 3, 2 / 3, 1, 1, 1])
    assert (out["lower"] <= out["rate"]).all() and (out["rate"] <= out["upper"]).all()


def test_calibration_table_by_hand():
    p = np.array([0.1, 0.1, 0.2, 0.2, 0.8, 0.8])
    y = np.array([0, 0, 0, 1, 1, 1])
    out = calibration_table(y, p, bins=3)
    assert out["mean_predicted"].tolist() == pytest.approx([0.1, 0.2, 0.8])
    assert out["observed_rate"].tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert out.attrs["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert out.attrs["ece"] == pytest.approx((0.1 + 0.3 + 0.2) / 3)
    with pytest.raises(ValueError, match="strategy"):
        calibration_table(y, p, strategy="nope")
