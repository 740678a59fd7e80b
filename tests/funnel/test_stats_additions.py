"""The two statistics modules written for the funnel (salesops.stats.comparisons, salesops.stats.logit),
checked against hand computations and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from salesops.stats.comparisons import adjust_pvalues, two_proportion_test
from salesops.stats.logit import logit_fit


def test_two_proportion_test_by_hand():
    r = two_proportion_test(24, 60, 192, 240)
    pooled = 216 / 300
    z = (0.4 - 0.8) / math.sqrt(pooled * (1 - pooled) * (1 / 60 + 1 / 240))
    assert r.statistic == pytest.approx(z)
    assert r.p_value == pytest.approx(2 * sps.norm.sf(abs(z)))
    assert (r.rate_1, r.rate_2, r.difference) == pytest.approx((0.4, 0.8, -0.4))
    assert r.lower < -0.4 < r.upper


def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998), Table II example (56/70 vs 48/80): method 10 gives 0.0524 to 0.3339
    r = two_proportion_test(56, 70, 48, 80)
    assert (r.lower, r.upper) == pytest.approx((0.0524, 0.3339), abs=5e-4)


def test_two_proportion_edge_cases():
    same = two_proportion_test(0, 10, 0, 20)
    assert same.statistic == 0.0 and same.p_value == 1.0
    none = two_proportion_test(0, 0, 3, 10)
    assert math.isnan(none.p_value)
    arr = two_proportion_test(np.array([5, 10]), np.array([10, 20]), np.array([5, 2]), np.array([10, 20]))
    assert arr.p_value.shape == (2,) and arr.p_value[0] == 1.0
    with pytest.raises(ValueError, match="exceed"):
        two_proportion_test(11, 10, 1, 10)


def test_holm_bonferroni_and_bh_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005 x4 = 0.02, 0.01 x3 = 0.03, 0.03 x2 = 0.06, 0.04 x1 -> max-accumulated 0.06
    assert adjust_pvalues(p, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert adjust_pvalues(p, "bonferroni") == pytest.approx([0.04, 0.16, 0.12, 0.02])
    # BH: 0.005 x4/1 = 0.02, 0.01 x4/2 = 0.02, 0.03 x4/3 = 0.04, 0.04 x4/4 = 0.04
    assert adjust_pvalues(p, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    with_nan = adjust_pvalues([0.01, np.nan, 0.04], "holm")
    assert np.isnan(with_nan[1]) and with_nan[[0, 2]] == pytest.approx([0.02, 0.04])
    with pytest.raises(ValueError):
        adjust_pvalues([1.5])


def test_logit_with_one_binary_covariate_is_the_log_odds_ratio():
    # 2 x 2 table: x=0: 30 successes of 100; x=1: 45 of 90
    a, b, c, dd = 30, 70, 45, 45
    x = np.r_[np.zeros(a + b), np.ones(c + dd)]
    y = np.r_[np.ones(a), np.zeros(b), np.ones(c), np.zeros(dd)]
    fit = logit_fit(x[:, None], y, names=["x"])
    assert fit.loc["intercept", "coef"] == pytest.approx(math.log(a / b), abs=1e-8)
    assert fit.loc["x", "coef"] == pytest.approx(math.log((c / dd) / (a / b)), abs=1e-8)
    assert fit.loc["x", "se"] == pytest.approx(math.sqrt(1 / a + 1 / b + 1 / c + 1 / dd), rel=1e-6)
    z = 1.959963984540054
    assert fit.loc["x", "lower"] == pytest.approx(fit.loc["x", "coef"] - z * fit.loc["x", "se"])
    assert fit.attrs["converged"]


def test_logit_recovers_a_simulated_slope_and_refuses_bad_designs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=20_000)
    y = (rng.random(20_000) < 1 / (1 + np.exp(-(-0.5 + 0.8 * x)))).astype(float)
    fit = logit_fit(x, y)
    assert fit.loc["x0", "lower"] < 0.8 < fit.loc["x0", "upper"]
    with pytest.raises(ValueError, match="rank deficient"):
        logit_fit(np.column_stack([x, 2 * x]), y)
    with pytest.raises(ValueError, match="0/1"):
        logit_fit(x, y + 1)
