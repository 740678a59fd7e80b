"""Confidence intervals for rates: win rate, conversion rate, rate by value.

Three intervals for three questions:

* :func:`wilson_interval` — frequentist interval for a binomial proportion (counts of deals).
* :func:`beta_interval` — Bayesian (equal-tailed posterior) interval under a beta prior; Jeffreys with
  ``prior=(0.5, 0.5)``, uniform with the default ``(1, 1)``.
* :func:`weighted_rate_interval` — win rate by value (won value / closed value), a ratio of two sums, by
  percentile bootstrap over deals (default) or by the linearised ratio-estimator normal approximation.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np
from scipy import special

from salesops.stats._checks import as_float_array, check_confidence, critical_value, same_shape, wrap_like

__all__ = ["Interval", "RateInterval", "beta_interval", "weighted_rate_interval", "wilson_interval"]


class Interval(NamedTuple):
    """Lower and upper bound (floats, arrays or Series, following the input)."""

    lower: Any
    upper: Any


class RateInterval(NamedTuple):
    """A rate with its confidence interval and the method that produced it."""

    rate: float
    lower: float
    upper: float
    method: str


def _counts(successes: Any, trials: Any) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(successes, "successes", nonnegative=True)
    n = as_float_array(trials, "trials", nonnegative=True)
    same_shape(successes=x, trials=n)
    x, n = np.broadcast_arrays(x, n)
    if np.any(x > n):
        i = np.flatnonzero(np.ravel(x > n))[0]
        raise ValueError(
            f"successes exceed trials ({np.ravel(x)[i]:g} > {np.ravel(n)[i]:g} at position {i}); "
            "pass counts of successes and of trials, not rates"
        )
    return x, n


def wilson_interval(successes: Any, trials: Any, confidence: float = 0.95) -> Interval:
    r"""Wilson score interval for a binomial proportion, vectorised.

    With :math:`\hat p = x / n` and :math:`z` the two-sided normal critical value,

    .. math::

        \frac{\hat p + z^2 / (2n)}{1 + z^2 / n} \pm
        \frac{z}{1 + z^2 / n} \sqrt{\frac{\hat p (1 - \hat p)}{n} + \frac{z^2}{4 n^2}}

    The interval stays inside [0, 1] and behaves well for small ``n`` and for rates near 0 or 1, where the
    Wald interval does not.

    Parameters
    ----------
    successes, trials : array-like
        Counts, broadcast together; ``0 <= successes <= trials``.
    confidence : float
        Coverage level, default 0.95.

    Returns
    -------
    Interval
        ``(lower, upper)``: floats for scalar input, a Series (index of ``successes``) for a Series, else arrays.
        Where ``trials == 0`` both bounds are NaN (no information).
    """
    x, n = _counts(successes, trials)
    z = critical_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1.0 + z**2 / n
        centre = (p + z**2 / (2.0 * n)) / denom
        half = z / denom * np.sqrt(p * (1.0 - p) / n + z**2 / (4.0 * n**2))
    lower = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    upper = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return Interval(wrap_like(successes, lower, "lower"), wrap_like(successes, upper, "upper"))


def beta_interval(
    successes: Any, trials: Any, prior: tuple[float, float] = (1.0, 1.0), confidence: float = 0.95
) -> Interval:
    r"""Equal-tailed Bayesian interval for a proportion under a beta prior, vectorised.

    With prior :math:`\mathrm{Beta}(\alpha_0, \beta_0)` the posterior after ``x`` successes in ``n`` trials is
    :math:`\mathrm{Beta}(\alpha_0 + x, \beta_0 + n - x)`; the interval runs between its
    :math:`(1 - c)/2` and :math:`(1 + c)/2` quantiles. ``prior=(0.5, 0.5)`` is the Jeffreys interval (with its
    usual boundary rule: lower bound 0 when ``x = 0``, upper bound 1 when ``x = n``); ``(1, 1)`` is the
    uniform prior. An empirical-Bayes prior comes from :func:`salesops.stats.shrinkage.fit_beta_prior`.

    Parameters
    ----------
    successes, trials : array-like
        Counts, broadcast together.
    prior : (float, float)
        Beta prior parameters ``(alpha0, beta0)``, both > 0.
    confidence : float
        Posterior probability inside the interval.

    Returns
    -------
    Interval
        ``(lower, upper)`` shaped like the input. With ``trials == 0`` the interval is the prior's own.
    """
    x, n = _counts(successes, trials)
    a0, b0 = (float(v) for v in prior)
    if not (a0 > 0 and b0 > 0):
        raise ValueError(f"prior parameters must be > 0, got {prior!r}")
    tail = (1.0 - check_confidence(confidence)) / 2.0
    a, b = a0 + x, b0 + n - x
    lower = special.betaincinv(a, b, tail)
    upper = special.betaincinv(a, b, 1.0 - tail)
    if a0 == 0.5 and b0 == 0.5:  # Jeffreys interval boundary modification (Brown, Cai & DasGupta 2001)
        lower = np.where(x == 0, 0.0, lower)
        upper = np.where(x == n, 1.0, upper)
    return Interval(wrap_like(successes, np.asarray(lower), "lower"), wrap_like(successes, np.asarray(upper), "upper"))


def weighted_rate_interval(
    values: Any,
    won: Any,
    confidence: float = 0.95,
    method: Literal["bootstrap", "normal"] = "bootstrap",
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = 0,
) -> RateInterval:
    r"""Win rate by value, :math:`R = \sum_i v_i w_i / \sum_i v_i`, with a confidence interval.

    Deals are the sampling units: ``values`` are the closed deals' amounts :math:`v_i` and ``won`` their
    outcomes :math:`w_i \in \{0, 1\}` (or a fraction won). Two intervals:

    ``method="bootstrap"`` (default)
        Percentile bootstrap: resample deals with replacement ``n_boot`` times, recompute :math:`R`, take the
        :math:`(1 \mp c)/2` quantiles. Seeded, so reproducible.
    ``method="normal"``
        Ratio-estimator (delta method) normal approximation, with :math:`y_i = v_i w_i`:
        :math:`\widehat{\mathrm{Var}}(R) = \frac{n}{n - 1} \sum_i (y_i - R v_i)^2 / (\sum_i v_i)^2`,
        interval :math:`R \pm z\,\mathrm{se}` clipped to [0, 1].

    Parameters
    ----------
    values : array-like
        Non-negative deal values (one reporting currency).
    won : array-like
        Won indicator (bool or 0/1) or won fraction per deal, same length.
    confidence : float
        Coverage level.
    method : {"bootstrap", "normal"}
        Which interval (see above).
    n_boot : int
        Bootstrap resamples.
    seed : int, Generator or None
        Seed of the bootstrap.

    Returns
    -------
    RateInterval
        ``(rate, lower, upper, method)``; all NaN when the total value is 0.
    """
    v = np.ravel(as_float_array(values, "values", nonnegative=True))
    w = np.ravel(as_float_array(won, "won", nonnegative=True))
    if v.shape != w.shape:
        raise ValueError(f"values and won differ in length ({v.size} and {w.size})")
    if np.any(w > 1):
        raise ValueError("won must be 0/1 (or a fraction in [0, 1]) per deal")
    conf = check_confidence(confidence)
    total = v.sum()
    if v.size == 0 or total <= 0:
        return RateInterval(np.nan, np.nan, np.nan, method)
    y = v * w
    rate = float(y.sum() / total)
    if method == "normal":
        n = v.size
        if n < 2:
            return RateInterval(rate, np.nan, np.nan, method)
        se = np.sqrt(n / (n - 1) * np.sum((y - rate * v) ** 2)) / total
        z = critical_value(conf)
        return RateInterval(rate, float(max(rate - z * se, 0.0)), float(min(rate + z * se, 1.0)), method)
    if method != "bootstrap":
        raise ValueError(f"method must be 'bootstrap' or 'normal', got {method!r}")
    if int(n_boot) < 10:
        raise ValueError(f"n_boot must be at least 10, got {n_boot}")
    rng = np.random.default_rng(seed)
    n = v.size
    chunk = max(1, 2_000_000 // n)  # bound memory: at most ~2e6 resampled indices at once
    stats = np.empty(int(n_boot))
    for start in range(0, int(n_boot), chunk):
        stop = min(start + chunk, int(n_boot))
        idx = rng.integers(0, n, size=(stop - start, n))
        with np.errstate(divide="ignore", invalid="ignore"):
            stats[start:stop] = y[idx].sum(axis=1) / v[idx].sum(axis=1)
    stats = stats[np.isfinite(stats)]
    tail = (1.0 - conf) / 2.0
    lower, upper = np.quantile(stats, [tail, 1.0 - tail])
    return RateInterval(rate, float(lower), float(upper), method)

