"""Empirical-Bayes shrinkage of rates (win rate per rep, conversion per source) with a beta-binomial prior.

A rep with 3 deals and 3 wins does not have a 100 % win rate; one with 300 deals and 180 wins has about
60 %. The beta-binomial model puts each group's true rate :math:`\\theta_j` under a common
:math:`\\mathrm{Beta}(\\alpha, \\beta)` prior estimated from all groups (:func:`fit_beta_prior`), and
:func:`shrink_rates` reports each group's posterior mean, which pulls small groups towards the pooled mean
and leaves large ones almost where they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, special

from salesops.stats._checks import as_float_array, check_confidence

__all__ = ["BetaPrior", "fit_beta_prior", "shrink_rates"]

#: Bounds on the prior's concentration alpha + beta ("prior sample size"). The upper one is reached when
#: the groups' rates vary no more than chance alone would make them (no overdispersion).
_MIN_CONCENTRATION = 1e-3
_MAX_CONCENTRATION = 1e7


@dataclass(frozen=True)
class BetaPrior:
    """A fitted :math:`\\mathrm{Beta}(\\alpha, \\beta)` prior for rates.

    Attributes
    ----------
    alpha, beta : float
        Shape parameters.
    method : str
        ``"mle"`` (beta-binomial maximum likelihood), ``"moments"`` (method of moments) or ``"given"``.
    log_likelihood : float
        Beta-binomial log-likelihood of the data at (alpha, beta), binomial coefficients included
        (NaN for a given prior).
    n_groups : int
        Groups with at least one trial that entered the fit.
    note : str
        Anything the reader should know (e.g. no overdispersion detected), else empty.
    """

    alpha: float
    beta: float
    method: str = "given"
    log_likelihood: float = float("nan")
    n_groups: int = 0
    note: str = ""

    @property
    def mean(self) -> float:
        """Prior mean rate :math:`\\alpha / (\\alpha + \\beta)`."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def concentration(self) -> float:
        """:math:`\\alpha + \\beta`: the prior weighs as much as this many trials."""
        return self.alpha + self.beta


def _betabinom_loglik(a: float, b: float, x: np.ndarray, n: np.ndarray) -> float:
    const = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
    return float(np.sum(const + special.betaln(x + a, n - x + b) - special.betaln(a, b)))


def _neg_loglik_and_grad(params: np.ndarray, x: np.ndarray, n: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative beta-binomial log-likelihood (without the binomial coefficients) in (logit mu, log kappa)."""
    u, v = params
    mu = special.expit(u)
    kappa = np.exp(v)
    a, b = mu * kappa, (1.0 - mu) * kappa
    ll = np.sum(special.betaln(x + a, n - x + b)) - x.size * special.betaln(a, b)
    psi_nab = special.digamma(n + a + b)
    psi_ab = special.digamma(a + b)
    dlda = np.sum(special.digamma(x + a) - psi_nab) - x.size * (special.digamma(a) - psi_ab)
    dldb = np.sum(special.digamma(n - x + b) - psi_nab) - x.size * (special.digamma(b) - psi_ab)
    dmu = kappa * mu * (1.0 - mu)
    grad = np.array([dlda * dmu - dldb * dmu, dlda * a + dldb * b])
    return -float(ll), -grad


def _moments(x: np.ndarray, n: np.ndarray) -> tuple[float, float, str]:
    r"""Method-of-moments (mean, concentration).

    Pooled mean :math:`\hat\mu = \sum x_j / N`; with :math:`S = \sum_j n_j (x_j / n_j - \hat\mu)^2`,
    :math:`E[S] = \mu (1 - \mu) [(k - 1) + \rho (N - \sum_j n_j^2 / N - (k - 1))]`, where
    :math:`\rho = 1 / (\alpha + \beta + 1)` is the intra-group correlation; solve for :math:`\rho`.
    """
    big_n, k = n.sum(), n.size
    mu = x.sum() / big_n
    s = np.sum(n * (x / n - mu) ** 2)
    denom = big_n - np.sum(n**2) / big_n - (k - 1)
    rho = (s / (mu * (1.0 - mu)) - (k - 1)) / denom
    if not np.isfinite(rho) or rho <= 1.0 / (_MAX_CONCENTRATION + 1.0):
        return mu, _MAX_CONCENTRATION, "no overdispersion: the groups' rates vary no more than chance would make them"
    rho = min(rho, 1.0 / (_MIN_CONCENTRATION + 1.0))
    return mu, 1.0 / rho - 1.0, ""


def _counts(successes: Any, trials: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-group successes and trials as flat float arrays, checked: same length, none negative, x <= n."""
    x = np.ravel(as_float_array(successes, "successes", nonnegative=True))
    n = np.ravel(as_float_array(trials, "trials", nonnegative=True))
    if x.shape != n.shape:
        raise ValueError(f"successes and trials differ in length ({x.size} and {n.size})")
    if np.any(x > n):
        raise ValueError("successes exceed trials in some group; pass counts, not rates")
    return x, n


def fit_beta_prior(
    successes: Any, trials: Any, method: Literal["mle", "moments"] = "mle"
) -> BetaPrior:
    r"""Estimate a beta prior for group rates from per-group counts (empirical Bayes).

    Model: :math:`x_j \mid \theta_j \sim \mathrm{Binomial}(n_j, \theta_j)`,
    :math:`\theta_j \sim \mathrm{Beta}(\alpha, \beta)`, so :math:`x_j` is beta-binomial with log-likelihood

    .. math::

        \ell(\alpha, \beta) = \sum_j \log\binom{n_j}{x_j} + \log B(x_j + \alpha, n_j - x_j + \beta)
        - \log B(\alpha, \beta).

    ``method="mle"`` maximises :math:`\ell` over :math:`(\operatorname{logit}\mu, \log\kappa)`, with
    :math:`\mu = \alpha / (\alpha + \beta)` and :math:`\kappa = \alpha + \beta`, by L-BFGS-B with the analytic
    gradient (digamma functions), starting from the method-of-moments estimate, which is also the fallback
    when the optimiser fails. When the groups vary no more than binomial noise would make them, the
    likelihood keeps rising as :math:`\kappa \to \infty`; the fit then stops at :math:`\kappa = 10^7`
    (say so in ``note``) and every group shrinks to the pooled rate.

    Parameters
    ----------
    successes, trials : array-like
        One entry per group (rep, source, ...). Groups with no trials are ignored.
    method : {"mle", "moments"}
        Estimator.

    Returns
    -------
    BetaPrior
    """
    x, n = _counts(successes, trials)
    keep = n > 0
    x, n = x[keep], n[keep]
    # a fixed order of the groups: float sums (and so the optimiser's path) would otherwise depend on the
    # order the rows arrive in, and the same counts from two engines could give priors 1e-5 apart
    order = np.lexsort((x, n))
    x, n = x[order], n[order]
    if x.size < 2:
        raise ValueError(f"need at least 2 groups with trials to fit a prior, got {x.size}")
    if x.sum() == 0 or x.sum() == n.sum():
        what = "failures" if x.sum() == 0 else "successes"
        raise ValueError(f"every trial in every group is one of the {what}: the prior's mean is at the boundary")
    if not np.any(n >= 2):
        raise ValueError("every group has a single trial: the spread of rates between groups cannot be estimated")
    if method not in ("mle", "moments"):
        raise ValueError(f"method must be 'mle' or 'moments', got {method!r}")

    mu0, kappa0, note = _moments(x, n)
    fitted, mu, kappa = "moments", mu0, kappa0
    if method == "mle":
        start = np.array([special.logit(mu0), np.log(np.clip(kappa0, 1.0, 1e4))])
        bounds = [(None, None), (np.log(_MIN_CONCENTRATION), np.log(_MAX_CONCENTRATION))]
        res = optimize.minimize(
            _neg_loglik_and_grad, start, args=(x, n), jac=True, method="L-BFGS-B", bounds=bounds,
            options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 500},
        )
        if np.all(np.isfinite(res.x)) and np.isfinite(res.fun):
            fitted, mu, kappa = "mle", float(special.expit(res.x[0])), float(np.exp(res.x[1]))
            note = ""
            if kappa >= _MAX_CONCENTRATION * 0.999:
                note = "no overdispersion: the groups' rates vary no more than chance would make them"
        else:
            note = f"maximum likelihood failed ({res.message}); method-of-moments estimate used"
    a, b = mu * kappa, (1.0 - mu) * kappa
    return BetaPrior(float(a), float(b), fitted, _betabinom_loglik(a, b, x, n), int(x.size), note)


def shrink_rates(
    successes: Any,
    trials: Any,
    prior: BetaPrior | tuple[float, float] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Raw and shrunk (posterior mean) rate per group, with a posterior interval.

    With prior :math:`\mathrm{Beta}(\alpha, \beta)`, group :math:`j`'s posterior is
    :math:`\mathrm{Beta}(\alpha + x_j, \beta + n_j - x_j)`, so

    .. math::

        \hat\theta_j = \frac{\alpha + x_j}{\alpha + \beta + n_j}
        = w_j \frac{\alpha}{\alpha + \beta} + (1 - w_j) \frac{x_j}{n_j},
        \qquad w_j = \frac{\alpha + \beta}{\alpha + \beta + n_j},

    and the interval is the posterior's equal-tailed ``confidence`` quantiles.

    Parameters
    ----------
    successes, trials : array-like
        Counts per group; a Series keeps its index (rep ids, say) in the result.
    prior : BetaPrior, (alpha, beta) or None
        The prior; fitted by :func:`fit_beta_prior` from these counts when None.
    confidence : float
        Posterior probability inside ``[lower, upper]``.

    Returns
    -------
    DataFrame
        Columns ``successes, trials, raw_rate`` (NaN with no trials), ``shrunk_rate``, ``lower``, ``upper`` and
        ``weight_on_prior`` (:math:`w_j`). The prior is in ``.attrs["prior"]``.
    """
    x, n = _counts(successes, trials)
    if prior is None:
        prior = fit_beta_prior(x, n)
    elif not isinstance(prior, BetaPrior):
        a0, b0 = (float(p) for p in prior)
        if not (a0 > 0 and b0 > 0):
            raise ValueError(f"prior parameters must be > 0, got {prior!r}")
        prior = BetaPrior(a0, b0)
    tail = (1.0 - check_confidence(confidence)) / 2.0
    a, b = prior.alpha + x, prior.beta + n - x
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(n > 0, x / n, np.nan)
    index = successes.index if isinstance(successes, pd.Series) else None
    out = pd.DataFrame(
        {
            "successes": x,
            "trials": n,
            "raw_rate": raw,
            "shrunk_rate": a / (a + b),
            "lower": special.betaincinv(a, b, tail),
            "upper": special.betaincinv(a, b, 1.0 - tail),
            "weight_on_prior": prior.concentration / (prior.concentration + n),
        },
        index=index,
    )
    out.attrs["prior"] = prior
    return out
