"""Empirical-Bayes shrinkage: the beta-binomial fit recovers a known prior, small reps move, big reps do not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from salesops.stats.shrinkage import BetaPrior, _neg_loglik_and_grad, fit_beta_prior, shrink_rates


def _reps(rng: np.random.Generator, k: int, a: float, b: float, low: int = 5, high: int = 120):
    n = rng.integers(low, high, size=k)
    return rng.binomial(n, rng.beta(a, b, size=k)), n


def test_three_deal_rep_is_pulled_in_and_three_hundred_deal_rep_barely_moves():
    rng = np.random.default_rng(2)
    x, n = _reps(rng, 40, 12.0, 8.0)  # team win rates around 0.6
    x = np.append(x, [3, 270])  # rep "new": 3 of 3; rep "veteran": 270 of 300
    n = np.append(n, [3, 300])
    index = [f"r{i}" for i in range(40)] + ["new", "veteran"]
    out = shrink_rates(pd.Series(x, index=index), pd.Series(n, index=index))
    prior = out.attrs["prior"]
    assert 0.5 < prior.mean < 0.7
    new, veteran = out.loc["new"], out.loc["veteran"]
    assert new.raw_rate == 1.0 and new.raw_rate - new.shrunk_rate > 0.25
    assert abs(veteran.raw_rate - veteran.shrunk_rate) < 0.03
    assert new.weight_on_prior > 0.8 > 0.1 > veteran.weight_on_prior
    # the posterior mean is the weighted average of the prior mean and the raw rate
    w = out.weight_on_prior
    assert np.allclose(out.shrunk_rate, w * prior.mean + (1 - w) * out.raw_rate)
    assert (out.lower <= out.shrunk_rate).all() and (out.shrunk_rate <= out.upper).all()


def test_mle_recovers_a_known_prior():
    rng = np.random.default_rng(5)
    x, n = _reps(rng, 3000, 6.0, 4.0, low=10, high=80)
    prior = fit_beta_prior(x, n)
    assert prior.method == "mle" and prior.n_groups == 3000 and prior.note == ""
    assert prior.mean == pytest.approx(0.6, abs=0.01)
    assert prior.concentration == pytest.approx(10.0, rel=0.2)
    moments = fit_beta_prior(x, n, method="moments")
    assert moments.method == "moments"
    assert moments.concentration == pytest.approx(10.0, rel=0.3)
    assert prior.log_likelihood >= moments.log_likelihood  # the MLE is the maximum


def test_log_likelihood_includes_the_binomial_coefficients():
    x, n = np.array([1, 4, 2]), np.array([5, 6, 3])
    prior = fit_beta_prior(x, n)
    direct = sps.betabinom.logpmf(x, n, prior.alpha, prior.beta).sum()
    assert prior.log_likelihood == pytest.approx(direct)


def test_analytic_gradient_matches_finite_differences():
    x, n = np.array([3.0, 10.0, 0.0, 7.0]), np.array([10.0, 12.0, 4.0, 30.0])
    point = np.array([0.3, 1.2])
    _, grad = _neg_loglik_and_grad(point, x, n)
    h = 1e-6
    numeric = [
        (_neg_loglik_and_grad(point + step, x, n)[0] - _neg_loglik_and_grad(point - step, x, n)[0]) / (2 * h)
        for step in np.eye(2) * h
    ]
    assert grad == pytest.approx(numeric, rel=1e-5)


def test_no_overdispersion_shrinks_everyone_to_the_pooled_rate():
    x, n = np.full(20, 5), np.full(20, 10)  # every rep exactly 50 %: less spread than chance
    prior = fit_beta_prior(x, n)
    assert "no overdispersion" in prior.note
    assert prior.concentration > 1e6
    out = shrink_rates([0, 5, 10], [10, 10, 10], prior=prior)
    assert np.allclose(out.shrunk_rate, 0.5, atol=1e-4)


def test_given_prior_and_posterior_quantiles():
    out = shrink_rates([2, 0], [8, 0], prior=(3.0, 7.0), confidence=0.9)
    assert out.attrs["prior"] == BetaPrior(3.0, 7.0)
    assert out.shrunk_rate.tolist() == pytest.approx([5 / 18, 0.3])
    assert out.lower[0] == pytest.approx(sps.beta.ppf(0.05, 5, 13))
    assert out.upper[1] == pytest.approx(sps.beta.ppf(0.95, 3, 7))
    assert np.isnan(out.raw_rate[1]) and out.weight_on_prior[1] == 1.0  # no deals: the prior alone


@pytest.mark.parametrize(
    ("x", "n", "message"),
    [
        ([1], [3], "at least 2 groups"),
        ([0, 0, 0], [3, 4, 5], "failures"),
        ([3, 4], [3, 4], "successes"),
        ([1, 0, 1], [1, 1, 1], "single trial"),
        ([4, 1], [3, 5], "exceed"),
        ([1, 2], [3], "length"),
    ],
)
def test_fit_beta_prior_explains_what_it_cannot_do(x, n, message):
    with pytest.raises(ValueError, match=message):
        fit_beta_prior(x, n)


def test_bad_method_and_prior():
    with pytest.raises(ValueError, match="method"):
        fit_beta_prior([1, 2], [3, 4], method="bayes")
    with pytest.raises(ValueError, match="prior"):
        shrink_rates([1], [2], prior=(0.0, 1.0))


@pytest.mark.real
def test_maven_win_rate_by_agent(maven_pipeline):
    closed = maven_pipeline[maven_pipeline.deal_stage.isin(["Won", "Lost"])]
    counts = closed.groupby("sales_agent").deal_stage.agg(won=lambda s: (s == "Won").sum(), closed="size")
    assert counts.won.sum() / counts.closed.sum() == pytest.approx(0.6315, abs=5e-5)  # README reference
    out = shrink_rates(counts.won, counts.closed)
    prior = out.attrs["prior"]
    assert prior.mean == pytest.approx(0.6315, abs=0.01)
    # the fictional company's agents differ little beyond chance: the prior weighs like ~3,000 deals, so even
    # the agent with most closed deals (553) is pulled more than 80 % of the way to the mean
    assert prior.concentration > 1000
    assert (out.weight_on_prior > 0.8).all()
    # shrinking keeps every agent between their raw rate and the prior mean, and the order of the big ones
    between = (out.shrunk_rate - out.raw_rate) * (out.shrunk_rate - prior.mean) <= 1e-12
    assert between.all()
    assert out.shrunk_rate.between(out.raw_rate.min(), out.raw_rate.max()).all()


def test_prior_does_not_depend_on_the_order_of_the_groups():
    rng = np.random.default_rng(7)
    n = rng.integers(5, 400, size=60).astype(float)
    x = rng.binomial(n.astype(int), rng.beta(3, 9, size=60)).astype(float)
    first = fit_beta_prior(x, n)
    perm = rng.permutation(60)
    again = fit_beta_prior(x[perm], n[perm])
    assert (first.alpha, first.beta) == (again.alpha, again.beta)
