"""Intervals for rates: Wilson against its formula and SciPy, beta posteriors, win rate by value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from salesops.stats.proportions import beta_interval, weighted_rate_interval, wilson_interval

Z95 = 1.959963984540054


def test_wilson_by_hand():
    # 45 wins in 100 deals: p = 0.45, z^2 = 3.841459
    # centre = (0.45 + 3.841459 / 200) / (1 + 3.841459 / 100) = 0.4692073 / 1.0384146 = 0.4518497
    # half   = 1.959964 / 1.0384146 * sqrt(0.45 * 0.55 / 100 + 3.841459 / 40000) = 1.887457 * 0.0507054 = 0.0957043
    lo, hi = wilson_interval(45, 100)
    assert lo == pytest.approx(0.4518497 - 0.0957043, abs=2e-7)
    assert hi == pytest.approx(0.4518497 + 0.0957043, abs=2e-7)
    assert isinstance(lo, float)


@pytest.mark.parametrize(("x", "n"), [(0, 10), (1, 10), (10, 10), (3, 7), (450, 1000), (1, 1)])
@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_wilson_matches_scipy(x, n, confidence):
    ref = sps.binomtest(x, n).proportion_ci(confidence_level=confidence, method="wilson")
    lo, hi = wilson_interval(x, n, confidence)
    assert lo == pytest.approx(ref.low, abs=1e-12)
    assert hi == pytest.approx(ref.high, abs=1e-12)


def test_wilson_is_vectorised_and_keeps_series_index():
    x = pd.Series([0, 5, 3, 0], index=["a", "b", "c", "d"])
    n = pd.Series([0, 10, 3, 4], index=x.index)
    lo, hi = wilson_interval(x, n)
    assert list(lo.index) == ["a", "b", "c", "d"]
    assert np.isnan(lo["a"]) and np.isnan(hi["a"])  # no trials: no information
    assert hi["c"] == 1.0 and lo["d"] == 0.0
    arr_lo, arr_hi = wilson_interval(np.array([[1, 2], [3, 4]]), 10)
    assert arr_lo.shape == (2, 2) and np.all(arr_lo < arr_hi)


@pytest.mark.parametrize(
    ("x", "n", "message"),
    [(5, 3, "exceed"), (-1, 3, ">= 0"), (1, np.nan, "missing"), ([1, 2], [2, 3, 4], "incompatible shapes")],
)
def test_wilson_rejects_bad_counts(x, n, message):
    with pytest.raises(ValueError, match=message):
        wilson_interval(x, n)


def test_wilson_rejects_bad_confidence():
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 2, confidence=95)


def test_beta_interval_is_the_posterior_quantiles():
    lo, hi = beta_interval([3, 0], [10, 5], prior=(2.0, 5.0), confidence=0.9)
    assert lo[0] == pytest.approx(sps.beta.ppf(0.05, 2 + 3, 5 + 7))
    assert hi[1] == pytest.approx(sps.beta.ppf(0.95, 2 + 0, 5 + 5))


def test_jeffreys_interval_and_its_boundary_rule():
    lo, hi = beta_interval([0, 4, 10], [10, 10, 10], prior=(0.5, 0.5))
    assert lo[0] == 0.0 and hi[2] == 1.0
    assert lo[1] == pytest.approx(sps.beta.ppf(0.025, 4.5, 6.5))
    assert hi[1] == pytest.approx(sps.beta.ppf(0.975, 4.5, 6.5))


def test_beta_interval_without_trials_is_the_prior():
    lo, hi = beta_interval(0, 0)  # uniform prior
    assert (lo, hi) == pytest.approx((0.025, 0.975))
    with pytest.raises(ValueError, match="prior"):
        beta_interval(1, 2, prior=(0, 1))


def test_weighted_rate_normal_by_hand():
    values = np.array([100.0, 200.0, 300.0, 400.0] * 10)
    won = np.array([1, 0, 1, 0] * 10)
    res = weighted_rate_interval(values, won, method="normal")
    rate = 4000.0 / 10000.0
    # residuals y - R v: 100 - 40, 0 - 80, 300 - 120, 0 - 160 -> 60, -80, 180, -160, ten times each
    se = np.sqrt(40 / 39 * 10 * (60**2 + 80**2 + 180**2 + 160**2)) / 10000.0
    assert res.rate == pytest.approx(rate)
    assert res.lower == pytest.approx(rate - Z95 * se)
    assert res.upper == pytest.approx(rate + Z95 * se)
    assert res.method == "normal"


def test_weighted_rate_normal_interval_is_clipped_to_zero_one():
    res = weighted_rate_interval([100.0, 200.0, 300.0, 400.0], [1, 0, 1, 0], method="normal")
    assert res.lower == 0.0 and res.upper < 1.0


def test_weighted_rate_bootstrap_is_seeded_and_agrees_with_normal():
    rng = np.random.default_rng(7)
    values = rng.lognormal(8, 1, size=600)
    won = rng.random(600) < 0.4
    a = weighted_rate_interval(values, won, seed=3)
    b = weighted_rate_interval(values, won, seed=3)
    c = weighted_rate_interval(values, won, method="normal")
    assert a == b
    assert a.rate == pytest.approx(values[won].sum() / values.sum())
    assert a.lower < a.rate < a.upper
    assert a.lower == pytest.approx(c.lower, abs=0.015) and a.upper == pytest.approx(c.upper, abs=0.015)


def test_weighted_rate_intervals_cover_the_truth():
    # deals of lognormal value, won with probability rising with value: the value-weighted rate of the
    # population is E[v p(v)] / E[v], computed on a huge draw
    rng = np.random.default_rng(11)

    def draw(n):
        v = rng.lognormal(8, 0.8, size=n)
        p = 0.3 + 0.4 * (v > np.exp(8))
        return v, rng.random(n) < p

    big_v, big_w = draw(2_000_000)
    truth = big_v[big_w].sum() / big_v.sum()
    covered = {"normal": 0, "bootstrap": 0}
    for seed in range(100):
        v, w = draw(150)
        for method in covered:
            res = weighted_rate_interval(v, w, method=method, n_boot=400, seed=seed)
            covered[method] += res.lower <= truth <= res.upper
    assert covered["normal"] >= 88, covered
    assert covered["bootstrap"] >= 88, covered


def test_weighted_rate_edge_cases():
    assert np.isnan(weighted_rate_interval([0.0, 0.0], [1, 0]).rate)
    assert np.isnan(weighted_rate_interval([], []).rate)
    with pytest.raises(ValueError, match="length"):
        weighted_rate_interval([1.0, 2.0], [1])
    with pytest.raises(ValueError, match="0/1"):
        weighted_rate_interval([1.0, 2.0], [1, 2])
    with pytest.raises(ValueError, match="method"):
        weighted_rate_interval([1.0, 2.0], [1, 0], method="wald")
