"""Comparing two rates, and keeping many comparisons honest.

* :func:`two_proportion_test` — pooled two-sample z test of :math:`p_1 = p_2`, with Newcombe's hybrid-score
  interval for the difference :math:`p_1 - p_2` (built from the two Wilson intervals).
* :func:`fisher_exact_test` — Fisher's exact test of :math:`p_1 = p_2` on the 2x2 table, same interval.
* :func:`compare_rates` — the z test, or Fisher's exact test when an expected count is below 5 (the usual
  validity rule of the z test), naming the test it used.
* :func:`adjust_pvalues` — Holm's step-down (family-wise error), Bonferroni, or Benjamini-Hochberg (false
  discovery rate) adjustment of a family of p-values.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np
from scipy import stats as sps

from salesops.stats._checks import as_float_array, check_confidence
from salesops.stats.proportions import wilson_interval

__all__ = [
    "EXPECTED_COUNT_RULE",
    "FISHER",
    "RateComparison",
    "TWO_PROPORTION",
    "TwoProportionTest",
    "adjust_pvalues",
    "compare_rates",
    "fisher_exact_test",
    "two_proportion_test",
]

#: The z test's normal approximation is used only when every expected count of the 2x2 table is at least this.
EXPECTED_COUNT_RULE = 5.0
#: Names of the tests, as a sentence quotes them.
TWO_PROPORTION = "two-proportion test"
FISHER = "Fisher exact test"


class TwoProportionTest(NamedTuple):
    """Result of :func:`two_proportion_test` (floats, or arrays for array input)."""

    rate_1: Any
    rate_2: Any
    difference: Any
    lower: Any
    upper: Any
    statistic: Any
    p_value: Any


def two_proportion_test(
    successes_1: Any, trials_1: Any, successes_2: Any, trials_2: Any, confidence: float = 0.95
) -> TwoProportionTest:
    r"""Two-sided test that two binomial proportions are equal, vectorised.

    With :math:`\hat p_i = x_i / n_i` and the pooled rate :math:`\bar p = (x_1 + x_2) / (n_1 + n_2)`,

    .. math::

        z = \frac{\hat p_1 - \hat p_2}{\sqrt{\bar p (1 - \bar p) (1/n_1 + 1/n_2)}}, \qquad
        p = 2\,\Phi(-|z|).

    The interval for :math:`d = \hat p_1 - \hat p_2` is Newcombe's (1998, method 10): with
    :math:`[l_i, u_i]` the Wilson interval of :math:`\hat p_i`,
    lower :math:`d - \sqrt{(\hat p_1 - l_1)^2 + (u_2 - \hat p_2)^2}`, upper
    :math:`d + \sqrt{(u_1 - \hat p_1)^2 + (\hat p_2 - l_2)^2}`.

    Parameters
    ----------
    successes_1, trials_1, successes_2, trials_2 : array-like
        Counts of the two groups, broadcast together.
    confidence : float
        Level of the interval.

    Returns
    -------
    TwoProportionTest
        ``(rate_1, rate_2, difference, lower, upper, statistic, p_value)``. Where a group has no trials
        everything is NaN; where both rates are 0 or both 1 (no variance) the statistic is 0 and p is 1.
    """
    check_confidence(confidence)
    x1 = as_float_array(successes_1, "successes_1", nonnegative=True)
    n1 = as_float_array(trials_1, "trials_1", nonnegative=True)
    x2 = as_float_array(successes_2, "successes_2", nonnegative=True)
    n2 = as_float_array(trials_2, "trials_2", nonnegative=True)
    x1, n1, x2, n2 = np.broadcast_arrays(x1, n1, x2, n2)
    if np.any(x1 > n1) or np.any(x2 > n2):
        raise ValueError("successes exceed trials; pass counts, not rates")
    ok = (n1 > 0) & (n2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
        z = np.where(se > 0, (p1 - p2) / se, 0.0)
    p = np.where(ok, 2.0 * sps.norm.sf(np.abs(z)), np.nan)
    z = np.where(ok, z, np.nan)
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p1 - p2
    lower = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)

    def out(v: np.ndarray) -> Any:
        v = np.where(ok, v, np.nan)
        return float(v) if v.ndim == 0 else v

    return TwoProportionTest(out(p1), out(p2), out(d), out(lower), out(upper), out(z), out(p))


def fisher_exact_test(
    successes_1: float, trials_1: float, successes_2: float, trials_2: float, confidence: float = 0.95
) -> TwoProportionTest:
    r"""Two-sided Fisher exact test that two binomial proportions are equal (one comparison).

    The p-value is that of :func:`scipy.stats.fisher_exact` on the table
    :math:`\begin{pmatrix} x_1 & n_1 - x_1 \\ x_2 & n_2 - x_2 \end{pmatrix}` (conditional on the margins: the
    sum of the hypergeometric probabilities of the tables no more likely than the one observed). The interval for
    :math:`d = \hat p_1 - \hat p_2` is Newcombe's, as in :func:`two_proportion_test`; ``statistic`` is the
    sample odds ratio.

    Returns
    -------
    TwoProportionTest
        As :func:`two_proportion_test`; all NaN when a group has no trials.
    """
    z = two_proportion_test(successes_1, trials_1, successes_2, trials_2, confidence)
    if not np.isfinite(z.p_value):
        return z
    x1, n1, x2, n2 = (int(round(float(v))) for v in (successes_1, trials_1, successes_2, trials_2))
    odds, p = sps.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="two-sided")
    return z._replace(statistic=float(odds), p_value=float(min(1.0, p)))


class RateComparison(NamedTuple):
    """Result of :func:`compare_rates`: the test used, the two rates, their difference with its interval, p."""

    test: str
    rate_1: float
    rate_2: float
    difference: float
    lower: float
    upper: float
    p_value: float


def compare_rates(
    successes_1: float, trials_1: float, successes_2: float, trials_2: float, confidence: float = 0.95
) -> RateComparison:
    r"""Compare two rates with the test their counts allow: the z test, else Fisher's exact test.

    With the pooled rate :math:`\bar p = (x_1 + x_2) / (n_1 + n_2)`, the expected counts of the 2x2 table are
    :math:`n_i \bar p` and :math:`n_i (1 - \bar p)`; when all are at least :data:`EXPECTED_COUNT_RULE` (5) the
    pooled two-proportion z test is used (:func:`two_proportion_test`), otherwise :func:`fisher_exact_test`.
    The difference interval (Newcombe) is the same either way.

    Returns
    -------
    RateComparison
        ``test`` is :data:`TWO_PROPORTION` or :data:`FISHER` (``""`` with NaN values when a group has no trials).
    """
    n1, n2 = float(trials_1), float(trials_2)
    if n1 <= 0 or n2 <= 0:
        z = two_proportion_test(successes_1, trials_1, successes_2, trials_2, confidence)
        return RateComparison("", np.nan, np.nan, np.nan, np.nan, np.nan, np.nan)._replace(
            rate_1=z.rate_1, rate_2=z.rate_2)
    pooled = (float(successes_1) + float(successes_2)) / (n1 + n2)
    expected = min(n1, n2) * min(pooled, 1.0 - pooled)
    if expected < EXPECTED_COUNT_RULE:
        name, r = FISHER, fisher_exact_test(successes_1, trials_1, successes_2, trials_2, confidence)
    else:
        name, r = TWO_PROPORTION, two_proportion_test(successes_1, trials_1, successes_2, trials_2, confidence)
    return RateComparison(name, float(r.rate_1), float(r.rate_2), float(r.difference), float(r.lower),
                          float(r.upper), float(r.p_value))


def adjust_pvalues(p_values: Any, method: Literal["holm", "bonferroni", "bh"] = "holm") -> np.ndarray:
    r"""Adjust a family of p-values for multiple comparisons; NaN entries are not part of the family.

    With :math:`m` p-values sorted :math:`p_{(1)} \le \dots \le p_{(m)}`:

    * ``holm``: :math:`\tilde p_{(i)} = \max_{j \le i} \min(1, (m - j + 1)\, p_{(j)})` — controls the
      family-wise error rate (the chance of any false flag) at the level compared with;
    * ``bonferroni``: :math:`\min(1, m\, p_i)`;
    * ``bh`` (Benjamini-Hochberg): :math:`\tilde p_{(i)} = \min_{j \ge i} \min(1, m\, p_{(j)} / j)` — controls
      the expected share of false flags among the flags.

    Parameters
    ----------
    p_values : array-like
        P-values in [0, 1] (NaN allowed: left as NaN and not counted in :math:`m`).
    method : {"holm", "bonferroni", "bh"}
        Adjustment.

    Returns
    -------
    ndarray
        Adjusted p-values in the input's order and shape.
    """
    p = np.asarray(p_values, dtype=float)
    flat = p.ravel()
    valid = ~np.isnan(flat)
    if np.any((flat[valid] < 0) | (flat[valid] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    out = np.full(flat.shape, np.nan)
    v = flat[valid]
    m = v.size
    if m == 0:
        return out.reshape(p.shape)
    order = np.argsort(v, kind="stable")
    s = v[order]
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * s))
    elif method == "bonferroni":
        adj = np.minimum(1.0, m * s)
    elif method == "bh":
        adj = np.minimum.accumulate((np.minimum(1.0, m * s / np.arange(1, m + 1)))[::-1])[::-1]
    else:
        raise ValueError(f"method must be 'holm', 'bonferroni' or 'bh', got {method!r}")
    res = np.empty(m)
    res[order] = adj
    out[valid] = res
    return out.reshape(p.shape)
