"""Customer lifetime value: BG/NBD for the number of repeat purchases, Gamma-Gamma for their value.

* :class:`BGNBD` — Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
  Pareto/NBD model", *Marketing Science* 24(2). While alive a customer buys at Poisson rate
  :math:`\\lambda \\sim \\mathrm{Gamma}(r, \\alpha)`; after each repeat purchase they drop out with probability
  :math:`p \\sim \\mathrm{Beta}(a, b)`.
* :class:`GammaGamma` — Fader & Hardie (2013), "The Gamma-Gamma model of monetary value". Each purchase amount
  is :math:`\\mathrm{Gamma}(p, \\nu)` with :math:`\\nu \\sim \\mathrm{Gamma}(q, \\gamma)` across customers (assumes
  spend is independent of purchase frequency; ``corr_frequency_spend_`` lets you check).
* :func:`customer_lifetime_value` — discounted expected value of a customer's future purchases.
* :func:`rfm_summary` (from :mod:`salesops.stats.rfm`) — a transaction log turned into the models' input.

Both models are fitted by maximum likelihood over log-parameters with the analytic log-likelihood and its
gradient (``scipy.special`` gammaln/betaln/digamma), by L-BFGS-B, then polished by BFGS unless the
gradient already vanishes.
They follow scikit-learn's conventions (parameters in ``__init__``, ``fit`` returns ``self``, fitted state in
attributes ending in ``_``), but ``fit`` takes the model's own columns instead of ``X, y``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from salesops.stats._checks import as_float_array, critical_value, wrap_like
from salesops.stats.rfm import rfm_summary

__all__ = ["BGNBD", "GammaGamma", "customer_lifetime_value", "rfm_summary"]


# --------------------------------------------------------------------------------------------- helpers


def _rfm_arrays(frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = as_float_array(frequency, "frequency", nonnegative=True)
    t_x = as_float_array(recency, "recency", nonnegative=True)
    big_t = as_float_array(T, "T", nonnegative=True)
    try:
        x, t_x, big_t = np.broadcast_arrays(x, t_x, big_t)
    except ValueError:
        raise ValueError(f"frequency, recency and T have different shapes: {x.shape}, {t_x.shape}, {big_t.shape}") from None
    if np.any(x != np.round(x)):
        raise ValueError("frequency must be whole numbers of repeat purchases")
    if np.any(t_x > big_t + 1e-9):
        raise ValueError(f"recency exceeds T for {int(np.sum(t_x > big_t + 1e-9))} customer(s); recency <= T is required")
    if np.any((x == 0) & (t_x > 0)):
        raise ValueError(
            f"{int(np.sum((x == 0) & (t_x > 0)))} customer(s) have frequency 0 but recency > 0; "
            "recency is the time of the last *repeat* purchase and must be 0 without one"
        )
    return x, t_x, big_t


def _weights(weights: Any, size: int) -> np.ndarray:
    if weights is None:
        return np.ones(size)
    w = np.ravel(as_float_array(weights, "weights", nonnegative=True))
    if w.size != size:
        raise ValueError(f"weights has {w.size} values for {size} customers")
    return w


def _compress(*columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Merge identical rows, summing their weights (the last column): the likelihood is a weighted sum.

    Customers who never came back differ only in T, so real data shrink a lot (CDNOW: 23,570 -> 8,685 rows).
    """
    *data, w = columns
    keep = w > 0
    stacked = np.column_stack([c[keep] for c in data])
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    weights = np.bincount(np.ravel(inverse), weights=w[keep], minlength=unique.shape[0])
    return (*(unique[:, j] for j in range(unique.shape[1])), weights)


def _maximise(
    negll: Callable[[np.ndarray], tuple[float, np.ndarray]], start: np.ndarray
) -> tuple[np.ndarray, bool]:
    """Minimise a (value, gradient) objective over log-parameters: L-BFGS-B, then BFGS to polish.

    Returns the minimiser and whether it converged (an optimiser reported success, or the largest gradient
    component of the per-customer objective is below 1e-6).
    """
    bounds = [(-20.0, 20.0)] * start.size
    best = optimize.minimize(negll, start, jac=True, method="L-BFGS-B", bounds=bounds,
                             options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9})
    ok = bool(best.success)
    if not ok or np.max(np.abs(best.jac)) > 1e-6:
        polish = optimize.minimize(negll, best.x, jac=True, method="BFGS", options={"gtol": 1e-9, "maxiter": 500})
        if np.isfinite(polish.fun) and polish.fun <= best.fun:
            ok = ok or bool(polish.success)
            best = polish
    ok = ok or bool(np.max(np.abs(negll(best.x)[1])) < 1e-6)
    if not np.all(np.isfinite(best.x)) or not np.isfinite(best.fun):
        raise RuntimeError("maximum likelihood failed: the log-likelihood is not finite at any point tried")
    return best.x, ok


def _log_hessian(negll: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """Hessian by central differences of the analytic gradient."""
    h = 1e-5
    cols = []
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        cols.append((negll(x + step)[1] - negll(x - step)[1]) / (2 * h))
    hess = np.array(cols)
    return (hess + hess.T) / 2


def _summary(names: list[str], log_params: np.ndarray, hess_total: np.ndarray, confidence: float = 0.95) -> pd.DataFrame:
    """Estimates with delta-method standard errors and Wald intervals on the log scale."""
    try:
        cov = np.linalg.inv(hess_total)
        se_log = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    except np.linalg.LinAlgError:
        se_log = np.full(log_params.size, np.nan)
    est = np.exp(log_params)
    z = critical_value(confidence)
    return pd.DataFrame(
        {"estimate": est, "se": est * se_log, "lower": np.exp(log_params - z * se_log),
         "upper": np.exp(log_params + z * se_log)},
        index=pd.Index(names, name="parameter"),
    )


# --------------------------------------------------------------------------------------------- BG/NBD


class BGNBD(BaseEstimator):
    r"""Beta-geometric / negative binomial distribution model of repeat purchasing (Fader, Hardie & Lee 2005).

    For a customer with :math:`x` repeat purchases, the last at :math:`t_x`, observed for :math:`T`
    (all measured from the first purchase), the likelihood is

    .. math::

        L = \frac{B(a, b + x)}{B(a, b)} \frac{\Gamma(r + x)\, \alpha^r}{\Gamma(r)\,(\alpha + T)^{r + x}}
          + \delta_{x > 0} \frac{B(a + 1, b + x - 1)}{B(a, b)}
            \frac{\Gamma(r + x)\, \alpha^r}{\Gamma(r)\,(\alpha + t_x)^{r + x}}.

    ``fit`` maximises :math:`\sum_i w_i \log L_i` over :math:`\log(r, \alpha, a, b)`; the objective minimised is
    :math:`-\sum_i w_i \log L_i / \sum_i w_i + \text{penalizer} \cdot (r^2 + \alpha^2 + a^2 + b^2)`.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the parameters (0: plain maximum likelihood). Helps small or degenerate data.

    Attributes
    ----------
    r_, alpha_, a_, b_ : float
        Fitted parameters (``alpha_`` is in the time unit of ``T``).
    log_likelihood_ : float
        Total (weighted, unpenalised) log-likelihood at the fit.
    summary_ : DataFrame
        Estimates, standard errors (inverse Hessian of the objective, delta method; of the penalised objective
        when ``penalizer > 0``) and 95 % Wald intervals on the log scale.
    n_customers_ : int
        Customers fitted on (sum of weights).
    n_distinct_ : int
        Distinct ``(frequency, recency, T)`` rows the likelihood was evaluated on (identical customers are
        merged into one weighted row).
    converged_ : bool
        Whether an optimiser reported success or the gradient of the per-customer objective vanished (< 1e-6).
    """

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    # -- likelihood
    @staticmethod
    def _loglik_terms(
        params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, with_grad: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-row log-likelihood and, with ``with_grad``, its gradient in (r, alpha, a, b) (4 x n)."""
        r, alpha, a, b = params
        rx = r + x
        common = special.gammaln(rx) - special.gammaln(r) + r * np.log(alpha)
        b0 = special.betaln(a, b)
        t1 = special.betaln(a, b + x) - b0 - rx * np.log(alpha + big_t)
        rep = x > 0
        xm = np.where(rep, x, 1.0)  # avoid b + x - 1 <= 0 where the second term is absent
        t2 = np.where(rep, special.betaln(a + 1.0, b + xm - 1.0) - b0 - rx * np.log(alpha + t_x), -np.inf)
        top = np.maximum(t1, t2)
        e1, e2 = np.exp(t1 - top), np.exp(t2 - top)
        ll = common + top + np.log(e1 + e2)
        if not with_grad:
            return ll, None
        w1 = e1 / (e1 + e2)
        w2 = 1.0 - w1
        psi_ab = special.digamma(a + b)
        psi_abx = special.digamma(a + b + x)
        db0_da = special.digamma(a) - psi_ab
        db0_db = special.digamma(b) - psi_ab
        d_r = special.digamma(rx) - special.digamma(r) + np.log(alpha) - w1 * np.log(alpha + big_t) - w2 * np.log(
            alpha + t_x
        )
        d_alpha = r / alpha - w1 * rx / (alpha + big_t) - w2 * rx / (alpha + t_x)
        d_a = w1 * (special.digamma(a) - psi_abx) + w2 * (special.digamma(a + 1.0) - psi_abx) - db0_da
        d_b = w1 * (special.digamma(b + x) - psi_abx) + w2 * (special.digamma(b + xm - 1.0) - psi_abx) - db0_db
        return ll, np.stack([d_r, d_alpha, d_a, d_b])

    def _objective(self, log_params: np.ndarray, x, t_x, big_t, w) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            ll, grad = self._loglik_terms(params, x, t_x, big_t, True)
        total_w = w.sum()
        value = -np.dot(w, ll) / total_w + self.penalizer * np.sum(params**2)
        g = -(grad @ w) / total_w + 2.0 * self.penalizer * params
        if not np.isfinite(value) or not np.all(np.isfinite(g)):
            return np.inf, np.zeros_like(log_params)
        return float(value), g * params  # chain rule: d/d log(theta) = theta * d/d theta

    def fit(self, frequency: Any, recency: Any, T: Any, weights: Any = None) -> BGNBD:
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency, recency, T : array-like
            Repeat purchases :math:`x`, time of last repeat purchase :math:`t_x`, and observation length
            :math:`T`, per customer (see :func:`rfm_summary`).
        weights : array-like or None
            Number of customers sharing each row (for compressed data).

        Returns
        -------
        BGNBD
            ``self``, fitted.
        """
        if float(self.penalizer) < 0:
            raise ValueError(f"penalizer must be >= 0, got {self.penalizer!r}")
        x, t_x, big_t = (np.ravel(v) for v in _rfm_arrays(frequency, recency, T))
        w = _weights(weights, x.size)
        if x.size == 0 or w.sum() == 0:
            raise ValueError("no customers to fit on")
        if np.all(big_t == 0):
            raise ValueError("every customer has T = 0: there is no observation time to learn from")
        x, t_x, big_t, w = _compress(x, t_x, big_t, w)
        mean_x, mean_t = np.average(x, weights=w), np.average(big_t, weights=w)
        start = np.log([1.0, max(mean_t / max(mean_x, 0.1), 1e-3), 1.0, 1.0])

        def negll(lp):
            return self._objective(lp, x, t_x, big_t, w)

        log_params, converged = _maximise(negll, start)
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in np.exp(log_params))
        ll, _ = self._loglik_terms(np.exp(log_params), x, t_x, big_t, False)
        self.log_likelihood_ = float(np.dot(w, ll))
        self.n_customers_ = int(round(w.sum()))
        self.n_distinct_ = int(x.size)
        self.converged_ = converged
        self.summary_ = _summary(["r", "alpha", "a", "b"], log_params, _log_hessian(negll, log_params) * w.sum())
        return self

    # -- predictions
    def _params(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "r_"):
            raise NotFittedError("this BGNBD is not fitted yet; call fit(frequency, recency, T) first")
        return self.r_, self.alpha_, self.a_, self.b_

    @property
    def params_(self) -> dict[str, float]:
        """Fitted parameters as a dict."""
        r, alpha, a, b = self._params()
        return {"r": r, "alpha": alpha, "a": a, "b": b}

    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Each customer's log-likelihood at the fitted parameters."""
        x, t_x, big_t = _rfm_arrays(frequency, recency, T)
        ll, _ = self._loglik_terms(np.array(self._params()), x, t_x, big_t, False)
        return wrap_like(frequency, ll, "log_likelihood")

    def prob_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        r"""Probability that the customer is still active at :math:`T`.

        .. math::

            P(\text{alive} \mid x, t_x, T) = \Bigl[1 + \delta_{x>0} \frac{a}{b + x - 1}
            \Bigl(\frac{\alpha + T}{\alpha + t_x}\Bigr)^{r + x}\Bigr]^{-1}
        """
        r, alpha, a, b = self._params()
        x, t_x, big_t = _rfm_arrays(frequency, recency, T)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            odds = a / (b + np.maximum(x, 1.0) - 1.0) * np.exp((r + x) * np.log((alpha + big_t) / (alpha + t_x)))
            p = np.where(x > 0, 1.0 / (1.0 + odds), 1.0)
        return wrap_like(frequency, p, "prob_alive")

    def predict_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        r"""Conditional expected number of purchases in :math:`(T, T + t]` (FHL 2005, eq. 10).

        .. math::

            E[Y(t) \mid x, t_x, T] =
            \frac{\frac{a + b + x - 1}{a - 1}\Bigl[1 - \bigl(\frac{\alpha + T}{\alpha + T + t}\bigr)^{r + x}
            {}_2F_1\bigl(r + x, b + x; a + b + x - 1; \frac{t}{\alpha + T + t}\bigr)\Bigr]}
            {1 + \delta_{x>0} \frac{a}{b + x - 1} \bigl(\frac{\alpha + T}{\alpha + t_x}\bigr)^{r + x}}

        The hypergeometric term is evaluated through Euler's transformation,
        :math:`(1 - z)^{r + x} {}_2F_1(r + x, b + x; c; z) = (1 - z)^{a - 1} {}_2F_1(a + b - 1 - r, a - 1; c; z)`
        with :math:`c = a + b + x - 1`, which stays accurate for heavy buyers. (Undefined at exactly
        :math:`a = 1`.)

        Parameters
        ----------
        t : float or array-like
            Length of the future window, in the unit of ``T``; broadcast against the customers.
        frequency, recency, T : array-like
            The customers' summary.
        """
        r, alpha, a, b = self._params()
        x, t_x, big_t = _rfm_arrays(frequency, recency, T)
        tt = as_float_array(t, "t", nonnegative=True)
        z = tt / (alpha + big_t + tt)
        c = a + b + x - 1.0
        head = c / (a - 1.0) * (1.0 - (1.0 - z) ** (a - 1.0) * special.hyp2f1(a + b - 1.0 - r, a - 1.0, c, z))
        expected = head * self.prob_alive(x, t_x, big_t)
        return wrap_like(frequency, np.asarray(expected, dtype=float), "expected_purchases")

    def expected_purchases(self, t: Any) -> Any:
        r"""Expected repeat purchases in :math:`(0, t]` of a customer who has just made a first purchase.

        .. math::

            E[X(t)] = \frac{a + b - 1}{a - 1}\Bigl[1 - \bigl(\tfrac{\alpha}{\alpha + t}\bigr)^r
            {}_2F_1\bigl(r, b; a + b - 1; \tfrac{t}{\alpha + t}\bigr)\Bigr]
        """
        self._params()
        tt = as_float_array(t, "t", nonnegative=True)
        out = self.predict_purchases(tt, np.zeros_like(tt), np.zeros_like(tt), np.zeros_like(tt))
        return wrap_like(t, np.asarray(out, dtype=float), "expected_purchases")


# --------------------------------------------------------------------------------------------- Gamma-Gamma


class GammaGamma(BaseEstimator):
    r"""Gamma-Gamma model of the average value of a customer's purchases (Fader & Hardie 2013).

    For a customer with :math:`x > 0` repeat purchases of mean value :math:`\bar z`,

    .. math::

        f(\bar z \mid x) = \frac{\Gamma(p x + q)}{\Gamma(p x)\,\Gamma(q)}
        \frac{\gamma^q\, x^{p x}\, \bar z^{p x - 1}}{(\gamma + x \bar z)^{p x + q}}.

    ``fit`` maximises the log of this over :math:`\log(p, q, \gamma)` (customers with :math:`x = 0` carry no
    information and are left out); penalty as in :class:`BGNBD`.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the parameters.

    Attributes
    ----------
    p_, q_, v_ : float
        Fitted parameters (``v_`` is the scale :math:`\gamma`, in money units).
    log_likelihood_ : float
        Total log-likelihood at the fit (customers with ``x > 0``).
    summary_ : DataFrame
        Estimates with standard errors and 95 % intervals (as in :class:`BGNBD`).
    corr_frequency_spend_ : float
        Pearson correlation of frequency and mean spend among the fitted customers; the model assumes none.
    n_customers_ : int
        Customers fitted on.
    converged_ : bool
        Whether an optimiser reported success or the gradient of the per-customer objective vanished (< 1e-6).
    """

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    @staticmethod
    def _loglik_terms(
        params: np.ndarray, x: np.ndarray, m: np.ndarray, with_grad: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-row log-likelihood and, with ``with_grad``, its gradient in (p, q, v) (3 x n)."""
        p, q, v = params
        px = p * x
        ll = (
            special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(v)
            + px * np.log(x) + (px - 1.0) * np.log(m) - (px + q) * np.log(v + x * m)
        )
        if not with_grad:
            return ll, None
        psi = special.digamma(px + q)
        log_vxm = np.log(v + x * m)
        d_p = x * (psi - special.digamma(px) + np.log(x) + np.log(m) - log_vxm)
        d_q = psi - special.digamma(q) + np.log(v) - log_vxm
        d_v = q / v - (px + q) / (v + x * m)
        return ll, np.stack([d_p, d_q, d_v])

    @staticmethod
    def _data(frequency: Any, monetary_value: Any) -> tuple[np.ndarray, np.ndarray]:
        x = np.ravel(as_float_array(frequency, "frequency", nonnegative=True))
        m = np.ravel(as_float_array(monetary_value, "monetary_value"))
        if x.size != m.size:
            raise ValueError(f"frequency and monetary_value differ in length ({x.size} and {m.size})")
        return x, m

    def fit(self, frequency: Any, monetary_value: Any, weights: Any = None) -> GammaGamma:
        """Fit by maximum likelihood on the customers with ``frequency > 0``.

        Parameters
        ----------
        frequency : array-like
            Repeat purchases :math:`x`.
        monetary_value : array-like
            Mean value :math:`\\bar z` of the repeat purchases (must be > 0 where ``frequency > 0``).
        weights : array-like or None
            Number of customers sharing each row.

        Returns
        -------
        GammaGamma
            ``self``, fitted.
        """
        if float(self.penalizer) < 0:
            raise ValueError(f"penalizer must be >= 0, got {self.penalizer!r}")
        x, m = self._data(frequency, monetary_value)
        w = _weights(weights, x.size)
        rep = (x > 0) & (w > 0)
        if np.any(m[rep] <= 0):
            raise ValueError(
                f"monetary_value must be > 0 for customers with repeat purchases; {int(np.sum(m[rep] <= 0))} are <= 0 "
                "(zero-value or refunded purchases): drop or fix them before fitting"
            )
        x, m, w = x[rep], m[rep], w[rep]
        if x.size < 2:
            raise ValueError(f"need at least 2 customers with repeat purchases, got {x.size}")
        start = np.log([1.0, 1.0, float(np.average(m, weights=w))])

        def negll(lp):
            params = np.exp(lp)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                ll, grad = self._loglik_terms(params, x, m, True)
            value = -np.dot(w, ll) / w.sum() + self.penalizer * np.sum(params**2)
            g = -(grad @ w) / w.sum() + 2.0 * self.penalizer * params
            if not np.isfinite(value) or not np.all(np.isfinite(g)):
                return np.inf, np.zeros_like(lp)
            return float(value), g * params

        log_params, converged = _maximise(negll, start)
        self.p_, self.q_, self.v_ = (float(v) for v in np.exp(log_params))
        ll, _ = self._loglik_terms(np.exp(log_params), x, m, False)
        self.log_likelihood_ = float(np.dot(w, ll))
        self.n_customers_ = int(round(w.sum()))
        self.converged_ = converged
        self.corr_frequency_spend_ = float(np.corrcoef(x, m)[0, 1]) if np.ptp(x) > 0 and np.ptp(m) > 0 else np.nan
        self.summary_ = _summary(["p", "q", "v"], log_params, _log_hessian(negll, log_params) * w.sum())
        return self

    @property
    def params_(self) -> dict[str, float]:
        """Fitted parameters as a dict."""
        p, q, v = self._params()
        return {"p": p, "q": q, "v": v}

    def _params(self) -> tuple[float, float, float]:
        if not hasattr(self, "p_"):
            raise NotFittedError("this GammaGamma is not fitted yet; call fit(frequency, monetary_value) first")
        return self.p_, self.q_, self.v_

    def population_mean(self) -> float:
        r"""Mean purchase value across customers, :math:`p \gamma / (q - 1)` (infinite when :math:`q \le 1`)."""
        p, q, v = self._params()
        return p * v / (q - 1.0) if q > 1 else float("inf")

    def conditional_expected_average_profit(self, frequency: Any = None, monetary_value: Any = None) -> Any:
        r"""Expected mean purchase value of each customer given their history.

        .. math::

            E[Z \mid x, \bar z] = \frac{p(\gamma + x \bar z)}{p x + q - 1}
            = \frac{q - 1}{p x + q - 1} \frac{p \gamma}{q - 1} + \frac{p x}{p x + q - 1} \bar z,

        a weighted mean of the population mean and the customer's own mean; with ``x = 0`` (or no arguments)
        it is the population mean :math:`p\gamma/(q - 1)`. Needs :math:`q > 1`.
        """
        p, q, v = self._params()
        if q <= 1:
            raise ValueError(f"q = {q:.3g} <= 1: the population mean spend is infinite under this fit")
        if frequency is None and monetary_value is None:
            return self.population_mean()
        x = as_float_array(frequency, "frequency", nonnegative=True)
        m = as_float_array(monetary_value, "monetary_value")
        m = np.where(x > 0, m, 0.0)
        return wrap_like(frequency, np.asarray(p * (v + x * m) / (p * x + q - 1.0)), "expected_average_profit")


# --------------------------------------------------------------------------------------------- CLV


def customer_lifetime_value(
    transaction_model: BGNBD,
    spend_model: GammaGamma | None,
    frequency: Any,
    recency: Any,
    T: Any,
    monetary_value: Any,
    horizon: int = 12,
    period_length: float = 1.0,
    discount_rate: float = 0.01,
    margin: float = 1.0,
) -> Any:
    r"""Discounted expected value of each customer's purchases over the next ``horizon`` periods.

    .. math::

        \mathrm{CLV} = m \sum_{i=1}^{H} \frac{E[Y(iL) \mid \cdot] - E[Y((i - 1)L) \mid \cdot]}{(1 + d)^i}
        \; E[Z \mid x, \bar z]

    with :math:`L` = ``period_length`` (in the time unit of ``T``: 52/12 ≈ 4.345 for monthly periods when
    ``T`` is in weeks), :math:`d` the discount rate per period and :math:`m` the margin. :math:`E[Y]` comes
    from the BG/NBD model, :math:`E[Z]` from the Gamma-Gamma model when ``spend_model`` is given (otherwise
    ``monetary_value`` is taken as the expected value of a purchase).

    Returns
    -------
    array, float or Series
        Shaped like ``frequency``.
    """
    if int(horizon) < 1:
        raise ValueError(f"horizon must be at least 1 period, got {horizon!r}")
    if not float(period_length) > 0:
        raise ValueError(f"period_length must be > 0, got {period_length!r}")
    if not float(discount_rate) > -1:
        raise ValueError(f"discount_rate must be > -1, got {discount_rate!r}")
    x, t_x, big_t = _rfm_arrays(frequency, recency, T)
    if spend_model is None:
        value = as_float_array(monetary_value, "monetary_value")
    else:
        value = np.asarray(spend_model.conditional_expected_average_profit(x, as_float_array(monetary_value, "monetary_value")))
    clv = np.zeros(np.broadcast_shapes(x.shape, np.shape(value)))
    previous = np.zeros_like(clv)
    for i in range(1, int(horizon) + 1):
        cumulative = np.asarray(transaction_model.predict_purchases(i * float(period_length), x, t_x, big_t))
        clv = clv + (cumulative - previous) * value / (1.0 + float(discount_rate)) ** i
        previous = cumulative
    return wrap_like(frequency, float(margin) * clv, "clv")
