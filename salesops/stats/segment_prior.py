r"""Hierarchical (empirical-Bayes beta-binomial) priors per segment, each with its own between-rep spread.

Rep :math:`j` of segment :math:`s` wins :math:`x_j` of :math:`n_j` closed deals,
:math:`x_j \mid \theta_j \sim \mathrm{Bin}(n_j, \theta_j)`, and the reps' true rates spread around their
segment's mean, :math:`\theta_j \sim \mathrm{Beta}` with mean :math:`\mu_s` and variance :math:`\tau_s^2`
(the between-rep variance: how much reps of the segment truly differ). :math:`\mu_s` is the segment's pooled
rate and :math:`\tau_s^2` is estimated from the segment's reps by beta-binomial marginal likelihood
(:func:`likelihood_variance`) or the method of moments (:func:`moment_spread`), with a pooled fallback when
the segment's own estimate is zero (:func:`fit_segment_priors`), so a segment whose reps differ keeps that spread
instead of being pooled into one rate, and the prior is shown as mean, between-rep SD and the number of
deals it weighs (:func:`priors_table`). The posterior of each rep is
:math:`\mathrm{Beta}(\kappa_s\mu_s + x_j, \kappa_s(1-\mu_s) + n_j - x_j)` (:func:`rep_posteriors`), with an
equal-tailed credible interval and a flag when that interval excludes :math:`\mu_s`.

(:mod:`salesops.stats.shrinkage` fits one beta-binomial prior by maximum likelihood, which with ten reps
often finds no spread at all and shrinks every rep onto the mean; :mod:`salesops.stats.stratified_shrinkage`
shares one concentration across segments.)
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, special

from salesops.stats._checks import as_float_array, check_confidence
from salesops.stats.shrinkage import BetaPrior

__all__ = [
    "SegmentPrior", "fit_segment_priors", "likelihood_variance", "moment_spread", "priors_table", "rep_posteriors",
]

#: Prior concentration used when reps vary no more than chance (between-rep variance 0): the prior then
#: weighs ten million deals and every rep sits on the mean. The lower bound keeps the prior proper when the
#: measured spread is as large as a rate's can be.
MAX_CONCENTRATION = 1e7
MIN_CONCENTRATION = 1e-3


@dataclass(frozen=True)
class Spread:
    r"""Method-of-moments pieces of one segment (see :func:`moment_spread`).

    Attributes
    ----------
    mean : float
        :math:`\bar p = \sum x_j / \sum n_j`.
    excess : float
        :math:`S - (k-1)\bar p(1-\bar p)`, the spread beyond chance (numerator of :math:`\hat\tau^2`).
    scale : float
        :math:`N - \sum n_j^2 / N - (k-1)` (denominator of :math:`\hat\tau^2`; 0 when not estimable).
    groups, trials : int
        :math:`k` reps with a deal, :math:`N` deals.
    """

    mean: float
    excess: float
    scale: float
    groups: int
    trials: int

    @property
    def variance(self) -> float:
        """:math:`\\hat\\tau^2 = ` ``excess / scale`` (NaN when ``scale <= 0``; may be negative)."""
        return self.excess / self.scale if self.scale > 0 else float("nan")


def moment_spread(successes: Any, trials: Any) -> Spread:
    r"""Method-of-moments mean and between-group variance of rates (beta-binomial, weighted by trials).

    With :math:`k` groups, :math:`N = \sum n_j`, :math:`\bar p = \sum x_j / N`, :math:`\hat p_j = x_j/n_j` and
    :math:`S = \sum_j n_j(\hat p_j - \bar p)^2`: since
    :math:`\mathrm{Var}(\hat p_j) = \tau^2 + (\mu(1-\mu) - \tau^2)/n_j`,

    .. math::

        E[S] = (k-1)\,\mu(1-\mu) + \tau^2\Big(N - \frac{\sum_j n_j^2}{N} - (k-1)\Big), \qquad
        \hat\tau^2 = \frac{S - (k-1)\,\bar p(1-\bar p)}{N - \sum_j n_j^2 / N - (k-1)}.

    (With equal :math:`n` the denominator is :math:`(k-1)(n-1)`.) :math:`\hat\tau^2 \le 0` means the rates
    vary no more than chance would make them.

    Parameters
    ----------
    successes, trials : array-like
        Per group; groups with no trial are left out.

    Returns
    -------
    Spread
    """
    x = as_float_array(successes, "successes", nonnegative=True).ravel()
    n = as_float_array(trials, "trials", nonnegative=True).ravel()
    if x.shape != n.shape:
        raise ValueError(f"successes ({x.size}) and trials ({n.size}) differ in length")
    if np.any(x > n):
        raise ValueError(f"successes exceed trials in {int(np.sum(x > n))} group(s)")
    keep = n > 0
    x, n = x[keep], n[keep]
    k, total = int(x.size), float(n.sum())
    if k == 0:
        return Spread(float("nan"), float("nan"), 0.0, 0, 0)
    p = float(x.sum() / total)
    s = float(np.sum(n * (x / n - p) ** 2))
    scale = total - float(np.sum(n**2)) / total - (k - 1)
    return Spread(p, s - (k - 1) * p * (1 - p), scale if k >= 2 else 0.0, k, int(round(total)))


@dataclass(frozen=True)
class SegmentPrior:
    r"""The fitted prior of one segment: :math:`\mathrm{Beta}(\kappa\mu, \kappa(1-\mu))`.

    Attributes
    ----------
    mean : float
        :math:`\mu`, the segment's pooled rate.
    between_var : float
        :math:`\tau^2` used (0: reps do not differ beyond chance).
    source : str
        ``"segment"`` (its own :math:`\hat\tau^2`), ``"pooled"`` (its own estimate was not positive or not
        estimable, so the variance of reps around their segments' means over every segment is used) or
        ``"none"`` (no positive spread anywhere: every rep sits on the mean).
    groups, trials : int
        Reps and deals of the segment.
    own_var : float
        The segment's own :math:`\hat\tau^2` (NaN when not estimable), shown even when not used.
    """

    mean: float
    between_var: float
    source: str
    groups: int
    trials: int
    own_var: float = float("nan")

    @property
    def between_sd(self) -> float:
        """:math:`\\tau`, the between-rep standard deviation of true rates."""
        return float(np.sqrt(max(self.between_var, 0.0)))

    @property
    def concentration(self) -> float:
        r""":math:`\kappa = \mu(1-\mu)/\tau^2 - 1` (the prior weighs as much as :math:`\kappa` deals), bounded
        to [1e-3, 1e7]; 1e7 when :math:`\tau^2 = 0`."""
        if not self.between_var > 0:
            return MAX_CONCENTRATION
        k = self.mean * (1 - self.mean) / self.between_var - 1.0
        return float(min(max(k, MIN_CONCENTRATION), MAX_CONCENTRATION))

    def weight(self, trials: Any) -> Any:
        """Weight of the prior mean in the posterior mean of a rep with ``trials`` deals,
        :math:`\\kappa / (\\kappa + n)`."""
        return self.concentration / (self.concentration + np.asarray(trials, dtype=float))

    def beta(self) -> BetaPrior:
        """As a :class:`~salesops.stats.shrinkage.BetaPrior` (``method="moments"``)."""
        k, m = self.concentration, min(max(self.mean, 1e-9), 1 - 1e-9)
        return BetaPrior(k * m, k * (1 - m), method="moments", n_groups=self.groups)


def _clip_mean(spread: Spread) -> float:
    # a segment with no win (or no loss) gets (x + 1/2) / (N + 1) so that its Beta prior stays proper
    if spread.mean <= 0 or spread.mean >= 1:
        return (spread.mean * spread.trials + 0.5) / (spread.trials + 1)
    return spread.mean


def likelihood_variance(successes: Any, trials: Any, means: Any) -> float:
    r"""Between-group variance :math:`\tau^2` maximising the beta-binomial marginal likelihood, each group at
    its stratum's mean :math:`\mu_j` (one stratum: all the same).

    .. math::

        \hat\tau^2 = \arg\max_{\tau^2} \sum_j \log B\big(x_j + \kappa_j\mu_j, n_j - x_j + \kappa_j(1-\mu_j)\big)
        - \log B\big(\kappa_j\mu_j, \kappa_j(1-\mu_j)\big), \qquad
        \kappa_j = \frac{\mu_j(1-\mu_j)}{\tau^2} - 1,

    searched on a grid of :math:`\log\tau^2` from :math:`\max_j \mu_j(1-\mu_j)/10^7` (a prior of ten
    million deals) to :math:`0.99\min_j \mu_j(1-\mu_j)`, then refined. Unlike the moments, a rep with three
    deals and three wins counts for what three deals can show. Returns 0 when the likelihood is highest at
    the lower end (no spread beyond chance), NaN when no group has two deals.
    """
    x = as_float_array(successes, "successes", nonnegative=True).ravel()
    n = as_float_array(trials, "trials", nonnegative=True).ravel()
    mu = as_float_array(means, "means").ravel()
    keep = (n > 0) & (mu > 0) & (mu < 1)
    x, n, mu = x[keep], n[keep], mu[keep]
    if x.size < 2 or not np.any(n >= 2):
        return float("nan")
    v = mu * (1 - mu)
    lo, hi = np.log(v.max() / MAX_CONCENTRATION), np.log(0.99 * v.min())

    def nll(log_t2: float) -> float:
        k = v / np.exp(log_t2) - 1.0
        a, b = k * mu, k * (1.0 - mu)
        return -float(np.sum(special.betaln(x + a, n - x + b) - special.betaln(a, b)))

    grid = np.linspace(lo, hi, 80)
    values = [nll(g) for g in grid]
    i = int(np.argmin(values))
    if i == 0:
        return 0.0
    step = grid[1] - grid[0]
    res = optimize.minimize_scalar(nll, bounds=(grid[i] - step, min(grid[i] + step, hi)), method="bounded",
                                   options={"xatol": 1e-8})
    return float(np.exp(res.x if res.fun <= values[i] else grid[i]))


def fit_segment_priors(successes: Any, trials: Any, segments: Any,
                       method: Literal["likelihood", "moments"] = "likelihood") -> dict[Hashable, SegmentPrior]:
    r"""One prior per segment, its between-rep variance estimated from its own reps.

    Each segment :math:`s` gets :math:`\mu_s = \bar p_s` (its pooled rate) and its own
    :math:`\hat\tau_s^2`: by marginal likelihood (:func:`likelihood_variance`, the default) or by the method
    of moments (:func:`moment_spread`). When that is not positive (reps vary no more than chance) or not
    estimable (one rep), the segment borrows the pooled within-segment variance, every rep around its own
    segment's mean: the likelihood over all segments together, or the moment equations summed,

    .. math::

        \hat\tau^2_{\text{pooled}} = \frac{\sum_s \big(S_s - (k_s-1)\bar p_s(1-\bar p_s)\big)}
        {\sum_s \big(N_s - \sum_{j\in s} n_j^2/N_s - (k_s-1)\big)}

    (``source`` = ``"pooled"``): a segment with one weak rep among steady ones is not declared spread-free
    on ten reps. When that is not positive either, :math:`\tau^2 = 0` (``"none"``): every rep of the segment
    sits on :math:`\mu_s` and nobody is flagged there.

    Parameters
    ----------
    successes, trials, segments : array-like
        One entry per rep (per group); ``segments`` labels each rep's segment.
    method : {"likelihood", "moments"}
        Estimator of the between-rep variances.

    Returns
    -------
    dict
        Segment label -> :class:`SegmentPrior`.
    """
    if method not in ("likelihood", "moments"):
        raise ValueError(f"method must be 'likelihood' or 'moments', got {method!r}")
    frame = pd.DataFrame({"x": as_float_array(successes, "successes", nonnegative=True).ravel(),
                          "n": as_float_array(trials, "trials", nonnegative=True).ravel()})
    labels = pd.Series(segments).reset_index(drop=True)
    if len(labels) != len(frame):
        raise ValueError(f"segments ({len(labels)}) and trials ({len(frame)}) differ in length")
    frame["s"] = labels
    groups = dict(list(frame.groupby("s", dropna=False, sort=True)))
    spreads = {key: moment_spread(g["x"], g["n"]) for key, g in groups.items()}
    if method == "moments":
        usable = [sp for sp in spreads.values() if sp.scale > 0 and np.isfinite(sp.excess)]
        scale = sum(sp.scale for sp in usable)
        pooled = sum(sp.excess for sp in usable) / scale if scale > 0 else float("nan")
        owns = {key: sp.variance for key, sp in spreads.items()}
    else:
        means = frame["s"].map({key: _clip_mean(sp) for key, sp in spreads.items() if sp.groups})
        pooled = likelihood_variance(frame["x"], frame["n"], means.fillna(0.0))
        owns = {key: likelihood_variance(g["x"], g["n"], np.full(len(g), _clip_mean(spreads[key])))
                if spreads[key].groups else float("nan") for key, g in groups.items()}
    out = {}
    for key, sp in spreads.items():
        own = owns[key]
        if own > 0:
            var, source = own, "segment"
        elif pooled > 0:
            var, source = pooled, "pooled"
        else:
            var, source = 0.0, "none"
        out[key] = SegmentPrior(_clip_mean(sp) if sp.groups else float("nan"), float(var), source, sp.groups,
                                sp.trials, float(own))
    return out


def priors_table(priors: dict[Hashable, SegmentPrior], trials: Any = None, segments: Any = None,
                 name: str = "segment") -> pd.DataFrame:
    r"""The priors as a table: ``segment, reps, deals, prior_mean, between_sd, own_between_sd, prior_deals,
    weight_on_prior, variance_source``.

    ``prior_deals`` is :math:`\kappa`; ``weight_on_prior`` is :math:`\kappa/(\kappa + \tilde n)` for the
    segment's median rep (:math:`\tilde n` the median of ``trials`` within the segment, or
    :math:`N_s / k_s` without ``trials``): how far the typical rep is pulled to the mean.
    """
    medians = None
    if trials is not None and segments is not None:
        medians = pd.Series(np.asarray(trials, dtype=float)).groupby(
            pd.Series(segments).reset_index(drop=True)).median()
    rows = []
    for key, p in priors.items():
        typical = medians.get(key, np.nan) if medians is not None else p.trials / max(p.groups, 1)
        rows.append({name: key, "reps": p.groups, "deals": p.trials, "prior_mean": p.mean,
                     "between_sd": p.between_sd,
                     "own_between_sd": float(np.sign(p.own_var) * np.sqrt(abs(p.own_var))),
                     "prior_deals": p.concentration, "weight_on_prior": float(p.weight(typical)),
                     "variance_source": p.source})
    return pd.DataFrame(rows, columns=[name, "reps", "deals", "prior_mean", "between_sd", "own_between_sd",
                                       "prior_deals", "weight_on_prior", "variance_source"])


def rep_posteriors(successes: Any, trials: Any, prior: SegmentPrior, level: float = 0.9) -> pd.DataFrame:
    r"""Posterior of each rep's rate under ``prior``, its credible interval and the flag.

    .. math::

        \theta_j \mid x_j \sim \mathrm{Beta}(a_j, b_j), \quad a_j = \kappa\mu + x_j, \;
        b_j = \kappa(1-\mu) + n_j - x_j, \qquad
        \tilde\theta_j = \frac{a_j}{a_j + b_j} = w_j\,\mu + (1-w_j)\frac{x_j}{n_j}, \;
        w_j = \frac{\kappa}{\kappa + n_j};

    ``[lower, upper]`` are the :math:`(1 \mp \text{level})/2` quantiles of that Beta;
    ``prob_below`` :math:`= P(\theta_j < \mu \mid x_j)` and ``prob_above`` its complement. ``flag`` is
    ``"under"`` when ``upper`` :math:`< \mu` (equivalently ``prob_below`` :math:`> (1+\text{level})/2`),
    ``"over"`` when ``lower`` :math:`> \mu`, else ``""``.

    Returns
    -------
    DataFrame
        ``raw_rate, shrunk_rate, lower, upper, weight_on_prior, prob_below, prob_above, flag``, one row per
        rep in the order given.
    """
    check_confidence(level)
    x = as_float_array(successes, "successes", nonnegative=True).ravel()
    n = as_float_array(trials, "trials", nonnegative=True).ravel()
    if x.shape != n.shape or np.any(x > n):
        raise ValueError("need successes and trials of the same length with 0 <= successes <= trials")
    beta = prior.beta()
    a, b = beta.alpha + x, beta.beta + n - x
    tail = (1.0 - level) / 2.0
    lower, upper = special.betaincinv(a, b, tail), special.betaincinv(a, b, 1.0 - tail)
    mu = prior.mean
    below = special.betainc(a, b, mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(n > 0, x / n, np.nan)
    flag = np.where(upper < mu, "under", np.where(lower > mu, "over", ""))
    return pd.DataFrame({"raw_rate": raw, "shrunk_rate": a / (a + b), "lower": lower, "upper": upper,
                         "weight_on_prior": beta.concentration / (beta.concentration + n),
                         "prob_below": below, "prob_above": 1.0 - below, "flag": flag})
