"""Hierarchical per-segment priors: the moment and likelihood estimates of the between-rep variance, the
pooled fallback for a segment without spread, and the posterior interval and flag."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from salesops.stats.segment_prior import (
    MAX_CONCENTRATION,
    SegmentPrior,
    fit_segment_priors,
    likelihood_variance,
    moment_spread,
    priors_table,
    rep_posteriors,
)

# segment A: 2/10, 5/10, 8/10; B: 1/4, 6/12, 3/20; C: three reps at exactly 3/10 (no spread at all)
A = ([2, 5, 8], [10, 10, 10])
B = ([1, 6, 3], [4, 12, 20])
C = ([3, 3, 3], [10, 10, 10])


def test_moment_spread_matches_a_hand_computation():
    # A: p = 15/30 = 1/2; S = 10 (0.3^2 + 0 + 0.3^2) = 1.8; (k-1) p(1-p) = 0.5; scale = 30 - 300/30 - 2 = 18
    a = moment_spread(*A)
    assert a.mean == pytest.approx(0.5)
    assert a.excess == pytest.approx(1.3)
    assert a.scale == pytest.approx(18.0)
    assert a.variance == pytest.approx(1.3 / 18)
    # B: p = 10/36 = 5/18; S = (4 (0.5/18)^2 + 12 (4/18)^2 + 20 (2.3/18)^2) = 298.8 / 324;
    # (k-1) p (1-p) = 2 * 5 * 13 / 324 = 130 / 324; scale = 36 - (16 + 144 + 400)/36 - 2 = 18.4444...
    b = moment_spread(*B)
    assert b.mean == pytest.approx(5 / 18)
    assert b.excess == pytest.approx(168.8 / 324)
    assert b.scale == pytest.approx(36 - 560 / 36 - 2)
    assert b.variance == pytest.approx((168.8 / 324) / (36 - 560 / 36 - 2))
    # equal n: the scale is (k - 1)(n - 1)
    assert moment_spread([1, 4, 7, 2], [9, 9, 9, 9]).scale == pytest.approx(3 * 8)


def test_prior_from_the_moments_matches_mean_and_variance():
    prior = fit_segment_priors([*A[0], *B[0]], [*A[1], *B[1]], ["A"] * 3 + ["B"] * 3, method="moments")
    a = prior["A"]
    assert a.source == "segment" and a.between_var == pytest.approx(1.3 / 18)
    # kappa = mu (1 - mu) / tau^2 - 1 = 0.25 * 18 / 1.3 - 1
    assert a.concentration == pytest.approx(0.25 * 18 / 1.3 - 1)
    beta = a.beta()
    assert beta.mean == pytest.approx(0.5)
    assert stats.beta(beta.alpha, beta.beta).var() == pytest.approx(1.3 / 18)
    assert a.weight(10) == pytest.approx(a.concentration / (a.concentration + 10))


def test_a_segment_without_spread_borrows_the_pooled_variance():
    x = [*A[0], *B[0], *C[0]]
    n = [*A[1], *B[1], *C[1]]
    seg = ["A"] * 3 + ["B"] * 3 + ["C"] * 3
    priors = fit_segment_priors(x, n, seg, method="moments")
    c = priors["C"]
    # C's own: S = 0, so excess = -2 * 0.3 * 0.7 = -0.42 over a scale of 18: negative
    assert c.own_var == pytest.approx(-0.42 / 18)
    pooled = (1.3 + 168.8 / 324 - 0.42) / (18 + (36 - 560 / 36 - 2) + 18)
    assert c.source == "pooled" and c.between_var == pytest.approx(pooled)
    assert c.mean == pytest.approx(0.3)
    assert priors["A"].source == "segment" and priors["B"].source == "segment"
    table = priors_table(priors, n, seg)
    row = table.set_index("segment").loc["C"]
    assert row["variance_source"] == "pooled" and row["between_sd"] == pytest.approx(np.sqrt(pooled))
    assert row["own_between_sd"] < 0  # shown signed: the moment estimate fell below zero
    # by likelihood, too: C alone has no spread (the likelihood peaks at tau^2 -> 0) and borrows the pooled one
    lik = fit_segment_priors(x, n, seg)
    assert lik["C"].own_var == 0.0 and lik["C"].source == "pooled" and lik["C"].between_var > 0


def test_no_spread_anywhere_puts_every_rep_on_the_mean_and_flags_nobody():
    x, n = [30, 31, 29, 30], [100, 100, 100, 100]
    for method in ("moments", "likelihood"):
        prior = fit_segment_priors(x, n, ["S"] * 4, method=method)["S"]
        assert prior.source == "none" and prior.between_var == 0.0
        assert prior.concentration == MAX_CONCENTRATION
        post = rep_posteriors(x, n, prior)
        assert post["shrunk_rate"].to_numpy() == pytest.approx(np.full(4, 0.3), abs=1e-5)
        assert (post["flag"] == "").all()


def test_one_rep_segments_use_the_pooled_variance():
    priors = fit_segment_priors([*A[0], 4], [*A[1], 20], ["A"] * 3 + ["solo"], method="moments")
    assert np.isnan(priors["solo"].own_var) and priors["solo"].source == "pooled"
    assert priors["solo"].between_var == pytest.approx(1.3 / 18)


def test_likelihood_variance_recovers_a_known_spread():
    rng = np.random.default_rng(7)
    mu, sd = 0.25, 0.05
    kappa = mu * (1 - mu) / sd**2 - 1
    theta = rng.beta(kappa * mu, kappa * (1 - mu), size=400)
    n = rng.integers(50, 300, size=400)
    x = rng.binomial(n, theta)
    t2 = likelihood_variance(x, n, np.full(400, x.sum() / n.sum()))
    assert np.sqrt(t2) == pytest.approx(sd, rel=0.15)
    # a rep with 3 wins out of 3 deals barely moves it, unlike the moments
    x2, n2 = np.append(x[:10], 3), np.append(n[:10], 3)
    base = likelihood_variance(x[:10], n[:10], np.full(10, x[:10].sum() / n[:10].sum()))
    with_lucky = likelihood_variance(x2, n2, np.full(11, x2.sum() / n2.sum()))
    assert abs(with_lucky - base) < abs(moment_spread(x2, n2).variance - moment_spread(x[:10], n[:10]).variance)


def test_posterior_interval_and_flag_follow_the_beta_posterior():
    prior = SegmentPrior(mean=0.2, between_var=0.0016, source="segment", groups=3, trials=600)
    kappa = 0.2 * 0.8 / 0.0016 - 1  # 99
    x, n = np.array([10, 40, 70]), np.array([200, 200, 200])
    post = rep_posteriors(x, n, prior, level=0.9)
    a, b = kappa * 0.2 + x, kappa * 0.8 + n - x
    assert post["shrunk_rate"].to_numpy() == pytest.approx(a / (a + b))
    assert post["lower"].to_numpy() == pytest.approx(stats.beta.ppf(0.05, a, b))
    assert post["upper"].to_numpy() == pytest.approx(stats.beta.ppf(0.95, a, b))
    assert post["prob_below"].to_numpy() == pytest.approx(stats.beta.cdf(0.2, a, b))
    w = kappa / (kappa + n)
    assert post["shrunk_rate"].to_numpy() == pytest.approx(w * 0.2 + (1 - w) * x / n)
    assert list(post["flag"]) == ["under", "", "over"]
    # the flag is the interval excluding the mean, i.e. a one-sided probability beyond (1 + level) / 2
    assert ((post["prob_below"] > 0.95) == (post["flag"] == "under")).all()
    assert ((post["prob_above"] > 0.95) == (post["flag"] == "over")).all()


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="successes exceed trials"):
        moment_spread([5], [3])
    with pytest.raises(ValueError, match="segments"):
        fit_segment_priors([1, 2], [3, 4], ["a"])
    with pytest.raises(ValueError, match="method"):
        fit_segment_priors([1, 2], [3, 4], ["a", "a"], method="mle")
