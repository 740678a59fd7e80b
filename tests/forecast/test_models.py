import numpy as np
import pandas as pd
import pytest

from salesops.forecast import SeasonalQuarterly, StageAgeConversion, WinTimingModel


def test_seasonal_model_recovers_a_planted_series():
    quarters = [f"{y}Q{q}" for y in (2022, 2023, 2024) for q in (1, 2, 3, 4)]
    t = np.arange(12)
    season = np.tile([1.0, 1.0, 1.0, 1.3], 3)
    y = 1000 * 1.05 ** t * season
    m = SeasonalQuarterly(ridge=1e-9, min_sigma=1e-6).fit(quarters, y)
    expected = 1000 * 1.05 ** 12 * 1.0  # 2025Q1
    assert m.predict(["2025Q1"])[0] == pytest.approx(expected, rel=0.02)
    assert m.predict(["2025Q4"])[0] / m.predict(["2025Q3"])[0] == pytest.approx(1.3 * 1.05, rel=0.02)


def test_seasonal_model_needs_enough_quarters():
    with pytest.raises(ValueError, match="at least 4 quarters, got 3"):
        SeasonalQuarterly().fit(["2024Q1", "2024Q2", "2024Q3"], [1.0, 2.0, 3.0])


def test_seasonal_model_recovers_the_planted_q4_uplift(truth):
    books = truth["seasonality"]["realised"]["bookings_by_quarter"]
    m = SeasonalQuarterly(ridge=1e-9).fit(list(books), list(books.values()))
    # the truth's definition: fitted Q4 / mean(fitted Q1..Q3) of the same year - 1 (growth inside the year included)
    fitted = np.exp(m.predict_log(["2024Q1", "2024Q2", "2024Q3", "2024Q4"]))
    uplift = fitted[3] / fitted[:3].mean() - 1
    assert uplift == pytest.approx(truth["seasonality"]["planted_q4_uplift"], abs=0.08)


def test_stage_age_conversion_by_hand():
    X = pd.DataFrame({"stage_order": [1.0] * 10 + [4.0] * 10, "age_days": 10.0, "days_to_close": 5.0,
                      "days_left": 80.0})
    y = [1] * 2 + [0] * 8 + [1] * 8 + [0] * 2
    m = StageAgeConversion().fit(X, y)
    p = m.predict_proba(X.iloc[[0, 10]])[:, 1]
    # one cell per stage: the beta prior cannot be fitted from one cell, so the fallback prior (strength 20 at the
    # stage's own rate) leaves the rate unchanged
    assert p == pytest.approx([0.2, 0.8])
    unseen = pd.DataFrame({"stage_order": [2.0], "age_days": [10.0], "days_to_close": [5.0], "days_left": [80.0]})
    assert m.predict_proba(unseen)[0, 1] == pytest.approx(0.5)  # overall rate


def test_win_timing_model_is_calibrated_and_follows_sklearn():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4000, 3))
    p = 1 / (1 + np.exp(-(X[:, 0] - 1)))
    y = (rng.random(4000) < p).astype(int)
    m = WinTimingModel(max_iter=40)
    assert m.fit(X[:3000], y[:3000]) is m and hasattr(m, "model_")
    q = m.predict_proba(X[3000:])[:, 1]
    assert q.mean() == pytest.approx(y[3000:].mean(), abs=0.03)
    for lo, hi in ((0, 0.2), (0.2, 0.5), (0.5, 1.0)):
        sel = (q >= lo) & (q < hi)
        assert y[3000:][sel].mean() == pytest.approx(p[3000:][sel].mean(), abs=0.07)
    with pytest.raises(ValueError, match="one class"):
        WinTimingModel().fit(X[:10], np.zeros(10, int))


def test_win_timing_model_passes_selected_sklearn_checks():
    # the full check_estimator(WinTimingModel(max_iter=10, min_samples_leaf=5)) passes too (54 checks, ~15 s)
    from sklearn.utils.estimator_checks import (
        check_classifiers_classes,
        check_estimators_unfitted,
        check_fit_check_is_fitted,
        check_get_params_invariance,
        check_non_transformer_estimators_n_iter,
    )

    est = WinTimingModel(max_iter=10, min_samples_leaf=5)
    for check in (check_estimators_unfitted, check_non_transformer_estimators_n_iter, check_fit_check_is_fitted,
                  check_get_params_invariance, check_classifiers_classes):
        check("WinTimingModel", est)
