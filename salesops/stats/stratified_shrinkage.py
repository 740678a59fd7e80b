"""Beta-binomial shrinkage within strata that share one prior concentration (reps within segments).

Segments differ in their typical rate (an Enterprise win rate of 15 %, an SMB one of 30 %), so reps should
shrink towards their own segment's rate; but a segment holds only a handful of reps, too few to estimate
how much reps differ within it. The stratified model lets every stratum :math:`s` keep its pooled mean
:math:`\\mu_s` and estimates one concentration :math:`\\kappa` from all strata together:

.. math::

    \\theta_j \\sim \\mathrm{Beta}(\\kappa \\mu_{s(j)}, \\kappa (1 - \\mu_{s(j)})), \\qquad
    \\hat\\kappa = \\arg\\max_\\kappa \\sum_j \\log B(x_j + \\kappa\\mu_{s(j)}, n_j - x_j + \\kappa(1-\\mu_{s(j)}))
    - \\log B(\\kappa\\mu_{s(j)}, \\kappa(1-\\mu_{s(j)})).

(Not in :mod:`salesops.stats.shrinkage`, which fits one mean; written for the comp area's rep flags.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from salesops.stats.shrinkage import BetaPrior, shrink_rates

__all__ = ["fit_shared_concentration", "shrink_within_strata"]

_BOUNDS = (np.log(1e-2), np.log(1e7))


def fit_shared_concentration(successes: Any, trials: Any, strata: Any) -> float:
    """Maximum-likelihood :math:`\\kappa` shared by all strata, each at its pooled mean (see module docstring).

    Parameters
    ----------
    successes, trials, strata : array-like
        One entry per group; ``strata`` labels each group's stratum.

    Returns
    -------
    float
        :math:`\\hat\\kappa`, bounded to [0.01, 1e7] (the upper bound means: no overdispersion found).
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    s = pd.Series(np.asarray(strata)).astype(str).to_numpy()
    if not (x.shape == n.shape == s.shape):
        raise ValueError("successes, trials and strata differ in length")
    if np.any(x < 0) or np.any(x > n):
        raise ValueError("need 0 <= successes <= trials in every group")
    keep = n > 0
    x, n, s = x[keep], n[keep], s[keep]
    pooled = pd.DataFrame({"x": x, "n": n, "s": s}).groupby("s")[["x", "n"]].sum()
    mu = (pooled["x"] / pooled["n"]).reindex(s).to_numpy()
    ok = (mu > 0) & (mu < 1)
    if ok.sum() < 2:
        raise ValueError("need at least 2 groups in strata whose pooled rate is strictly between 0 and 1")
    x, n, mu = x[ok], n[ok], mu[ok]

    def nll(log_k: float) -> float:
        k = np.exp(log_k)
        a, b = k * mu, k * (1.0 - mu)
        return -float(np.sum(special.betaln(x + a, n - x + b) - special.betaln(a, b)))

    grid = np.linspace(*_BOUNDS, 60)
    best = grid[np.argmin([nll(g) for g in grid])]
    lo, hi = max(_BOUNDS[0], best - 0.5), min(_BOUNDS[1], best + 0.5)
    res = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x if res.fun <= nll(best) else best))


def shrink_within_strata(successes: pd.Series, trials: pd.Series, strata: pd.Series,
                         confidence: float = 0.9) -> pd.DataFrame:
    """Shrunk rate per group towards its stratum's pooled rate, with the shared :math:`\\hat\\kappa`.

    Each group's posterior is :math:`\\mathrm{Beta}(\\kappa\\mu_s + x_j, \\kappa(1-\\mu_s) + n_j - x_j)`
    (via :func:`salesops.stats.shrinkage.shrink_rates`).

    Returns
    -------
    DataFrame
        Index of ``successes``; the columns of :func:`~salesops.stats.shrinkage.shrink_rates` plus
        ``stratum``, ``stratum_rate`` and ``index`` (shrunk rate / stratum rate). ``attrs["kappa"]``;
        when :math:`\\kappa` cannot be estimated (fewer than two usable groups) every group is shrunk to its
        stratum (:math:`\\kappa = 10^7`) and ``attrs["note"]`` says why.
    """
    note = ""
    try:
        kappa = fit_shared_concentration(successes, trials, strata)
    except ValueError as exc:  # too few groups to measure the spread: shrink every group to its stratum
        kappa, note = float(np.exp(_BOUNDS[1])), f"spread between groups not estimable ({exc}); fully shrunk"
    parts = []
    frame = pd.DataFrame({"x": successes, "n": trials, "s": strata})
    for stratum, g in frame.groupby("s", sort=True):
        mu = g["x"].sum() / g["n"].sum()
        mu = min(max(mu, 1e-6), 1 - 1e-6)
        out = shrink_rates(g["x"], g["n"], prior=BetaPrior(kappa * mu, kappa * (1 - mu)), confidence=confidence)
        out["stratum"] = stratum
        out["stratum_rate"] = mu
        parts.append(out)
    res = pd.concat(parts).reindex(frame.index)
    res["index"] = res["shrunk_rate"] / res["stratum_rate"]
    res.attrs["kappa"] = kappa
    res.attrs["note"] = note
    return res
