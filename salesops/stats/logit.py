"""Logistic regression by maximum likelihood, with Wald intervals: the adjusted effect of one attribute on a
conversion when others (source, industry, period) confound it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as sps

from salesops.stats._checks import check_confidence, critical_value

__all__ = ["logit_fit"]


def logit_fit(
    X: Any,
    y: Any,
    names: list[str] | None = None,
    intercept: bool = True,
    confidence: float = 0.95,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> pd.DataFrame:
    r"""Fit :math:`\operatorname{logit} P(y_i = 1) = x_i^\top \beta` by maximum likelihood (Newton-Raphson).

    The log-likelihood :math:`\ell(\beta) = \sum_i y_i \eta_i - \log(1 + e^{\eta_i})`, with
    :math:`\eta = X\beta`, is
    maximised by Newton steps :math:`\beta \leftarrow \beta + (X^\top W X)^{-1} X^\top (y - \mu)` with
    :math:`\mu = \sigma(\eta)`, :math:`W = \operatorname{diag}(\mu (1 - \mu))` (halved while the likelihood
    does not rise). Standard errors are the square roots of the diagonal of :math:`(X^\top W X)^{-1}` at the
    optimum; the Wald interval is :math:`\hat\beta \pm z\,\mathrm{se}` and the p-value
    :math:`2\Phi(-|\hat\beta / \mathrm{se}|)`.

    Parameters
    ----------
    X : array-like or DataFrame
        Covariates, one row per observation (a DataFrame gives the names).
    y : array-like
        0/1 outcomes.
    names : list of str, optional
        Names of the columns of ``X``.
    intercept : bool
        Add a constant column named ``intercept`` first.
    confidence : float
        Level of the intervals.
    max_iter, tol : int, float
        Newton iterations and convergence tolerance on the largest step.

    Returns
    -------
    DataFrame
        Indexed by coefficient name: ``coef, se, z, p_value, lower, upper``. ``.attrs`` holds ``n``,
        ``log_likelihood``, ``iterations`` and ``converged``.

    Raises
    ------
    ValueError
        When outcomes are not 0/1, covariates are not finite, or the design is rank deficient (a category
        with no observation, a column that repeats another).
    """
    if isinstance(X, pd.DataFrame):
        names = list(X.columns) if names is None else names
        Xa = X.to_numpy(dtype=float)
    else:
        Xa = np.asarray(X, dtype=float)
        if Xa.ndim == 1:
            Xa = Xa[:, None]
        names = [f"x{i}" for i in range(Xa.shape[1])] if names is None else names
    ya = np.asarray(y, dtype=float).ravel()
    if Xa.shape[0] != ya.size:
        raise ValueError(f"X has {Xa.shape[0]} rows for {ya.size} outcomes")
    if not np.all(np.isfinite(Xa)):
        raise ValueError("X has missing or infinite values")
    if not np.all((ya == 0) | (ya == 1)):
        raise ValueError("y must be 0/1")
    if intercept:
        Xa = np.column_stack([np.ones(len(ya)), Xa])
        names = ["intercept", *names]
    if len(names) != Xa.shape[1]:
        raise ValueError(f"{len(names)} names for {Xa.shape[1]} columns")
    if np.linalg.matrix_rank(Xa) < Xa.shape[1]:
        raise ValueError(
            "the design is rank deficient: a column is constant or repeats a combination of others"
        )
    z_crit = critical_value(check_confidence(confidence))

    def loglik(beta: np.ndarray) -> float:
        eta = Xa @ beta
        return float(np.sum(ya * eta - np.logaddexp(0.0, eta)))

    beta = np.zeros(Xa.shape[1])
    ll = loglik(beta)
    converged, it = False, 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        mu = special.expit(Xa @ beta)
        w = mu * (1.0 - mu)
        info = Xa.T @ (Xa * w[:, None])
        step = np.linalg.solve(info, Xa.T @ (ya - mu))
        t = 1.0
        while t > 1e-8:
            new = beta + t * step
            new_ll = loglik(new)
            if new_ll >= ll - 1e-12:
                break
            t /= 2.0
        beta, ll = new, new_ll
        if np.max(np.abs(t * step)) < tol:
            converged = True
            break
    mu = special.expit(Xa @ beta)
    info = Xa.T @ (Xa * (mu * (1.0 - mu))[:, None])
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    zval = beta / se
    table = pd.DataFrame(
        {
            "coef": beta,
            "se": se,
            "z": zval,
            "p_value": 2.0 * sps.norm.sf(np.abs(zval)),
            "lower": beta - z_crit * se,
            "upper": beta + z_crit * se,
        },
        index=pd.Index(names, name="term"),
    )
    table.attrs.update(n=int(ya.size), log_likelihood=ll, iterations=it, converged=converged)
    return table
