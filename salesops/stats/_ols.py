"""Least squares with the robust covariance estimators the causal modules need (numpy only; no statsmodels).

* :func:`wls` — (weighted) least-squares fit.
* :func:`cluster_vcov` — cluster-robust (Liang–Zeger) sandwich with the CR1 small-sample factor.
* :func:`hac_vcov` — Newey–West heteroskedasticity- and autocorrelation-consistent sandwich (Bartlett kernel).
* :func:`coef_table` — estimates, standard errors, t statistics, p-values and intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from salesops.stats._checks import critical_value

__all__ = ["LinearFit", "cluster_vcov", "coef_table", "hac_vcov", "newey_west_lags", "wls"]


@dataclass(frozen=True)
class LinearFit:
    """A least-squares fit: coefficients, residuals, and the bread :math:`(X^\\top W X)^{-1}`."""

    coef: np.ndarray
    resid: np.ndarray
    bread: np.ndarray
    X: np.ndarray
    weights: np.ndarray

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def k(self) -> int:
        return int(self.X.shape[1])


def wls(X: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> LinearFit:
    r"""Weighted least squares :math:`\hat\beta = (X^\top W X)^{-1} X^\top W y`.

    Raises when :math:`X^\top W X` is singular (a regressor is constant or collinear with others), since the
    caller then asks a question the data cannot answer.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(y.size) if weights is None else np.asarray(weights, dtype=float)
    xtwx = X.T @ (X * w[:, None])
    if np.linalg.matrix_rank(xtwx) < X.shape[1]:
        raise np.linalg.LinAlgError("design matrix is rank deficient")
    bread = np.linalg.inv(xtwx)
    coef = bread @ (X.T @ (w * y))
    return LinearFit(coef, y - X @ coef, bread, X, w)


def cluster_vcov(fit: LinearFit, clusters: np.ndarray, n_params: int | None = None) -> tuple[np.ndarray, int]:
    r"""Cluster-robust covariance and its degrees of freedom.

    .. math::

        \hat V = c\, B \Bigl(\sum_g s_g s_g^\top\Bigr) B, \qquad s_g = \sum_{i \in g} x_i w_i e_i, \qquad
        c = \frac{G}{G - 1} \frac{N - 1}{N - K}

    with :math:`B = (X^\top W X)^{-1}`, :math:`G` clusters, :math:`N` observations and :math:`K` parameters
    (``n_params``; defaults to the columns of :math:`X`). Inference uses Student t with :math:`G - 1` degrees of
    freedom (returned).
    """
    codes, _ = pd.factorize(pd.Series(clusters), sort=False)
    n_clusters = int(codes.max()) + 1
    if n_clusters < 2:
        raise ValueError("cluster-robust standard errors need at least 2 clusters")
    scores = fit.X * (fit.weights * fit.resid)[:, None]
    sums = np.zeros((n_clusters, fit.k))
    np.add.at(sums, codes, scores)
    meat = sums.T @ sums
    k = fit.k if n_params is None else int(n_params)
    c = n_clusters / (n_clusters - 1) * (fit.n - 1) / max(fit.n - k, 1)
    return c * fit.bread @ meat @ fit.bread, n_clusters - 1


def newey_west_lags(n: int) -> int:
    r"""Newey & West (1994) rule of thumb :math:`\lfloor 4 (n / 100)^{2/9} \rfloor`."""
    return int(np.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


def hac_vcov(fit: LinearFit, maxlags: int) -> np.ndarray:
    r"""Newey–West covariance with Bartlett weights and the :math:`N / (N - K)` small-sample factor.

    .. math::

        \hat V = \frac{N}{N - K} B \Bigl(\hat\Gamma_0 + \sum_{l=1}^{L} \bigl(1 - \tfrac{l}{L + 1}\bigr)
        (\hat\Gamma_l + \hat\Gamma_l^\top)\Bigr) B, \qquad
        \hat\Gamma_l = \sum_{t = l + 1}^{N} u_t u_{t-l}^\top, \quad u_t = x_t w_t e_t

    Rows must be in time order. ``maxlags = 0`` gives White's heteroskedasticity-robust (HC1) covariance.
    """
    u = fit.X * (fit.weights * fit.resid)[:, None]
    meat = u.T @ u
    for lag in range(1, int(maxlags) + 1):
        gamma = u[lag:].T @ u[:-lag]
        meat += (1.0 - lag / (maxlags + 1.0)) * (gamma + gamma.T)
    return fit.n / max(fit.n - fit.k, 1) * fit.bread @ meat @ fit.bread


def coef_table(names: list[str], coef: np.ndarray, vcov: np.ndarray, df: float, confidence: float) -> pd.DataFrame:
    """Estimates with standard errors, t statistics, two-sided p-values (Student t, ``df``) and intervals."""
    se = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / se
    crit = critical_value(confidence, df)
    return pd.DataFrame(
        {
            "estimate": coef,
            "se": se,
            "t": t,
            "p_value": 2.0 * sps.t.sf(np.abs(t), df),
            "lower": coef - crit * se,
            "upper": coef + crit * se,
        },
        index=pd.Index(names, name="term"),
    )
