"""Customer lifetime value: subscription (ARPA x gross margin / churn) and transactional (BG/NBD with
Gamma-Gamma, from :mod:`salesops.stats.clv`), and LTV:CAC."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from salesops.io.data import SalesData
from salesops.kpi._common import as_day, group_keys, require
from salesops.kpi.churn import account_dimension, account_months, monthly_churn
from salesops.stats import BGNBD, GammaGamma, customer_lifetime_value, rfm_summary

__all__ = ["ClvFit", "fit_clv", "ltv_to_cac", "rfm", "subscription_ltv", "transactional_ltv"]

#: Weeks per month, to turn the monthly horizon of transactional LTV into the weeks BG/NBD is fitted in.
WEEKS_PER_MONTH = 365.25 / 12 / 7


# --- subscription -----------------------------------------------------------------------------------------------


def subscription_ltv(
    data: SalesData,
    gross_margin: float,
    by: str | Sequence[str] | None = "segment",
    *,
    churn_kind: Literal["logo", "revenue"] = "logo",
    start: Any = None,
    end: Any = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Subscription lifetime value per customer: average revenue per account times margin over churn.

    .. math::

        \mathrm{ARPA} = \frac{\sum_{a,m} \mathrm{MRR}_{a,m}}{\#\{(a, m) : \mathrm{MRR}_{a,m} > 0\}}, \qquad
        \mathrm{LTV} = \frac{\mathrm{ARPA} \cdot m}{c}, \qquad \text{lifetime} = 1 / c \text{ months},

    with :math:`m` the gross margin and :math:`c` the monthly churn (:func:`salesops.kpi.churn.monthly_churn`,
    logo churn by default: the expected lifetime of a customer under a constant churn rate is :math:`1/c`
    months). The interval maps the churn interval: :math:`[\mathrm{ARPA}\,m / c^+,\ \mathrm{ARPA}\,m / c^-]`.

    Parameters
    ----------
    data : SalesData
        Needs ``revenue``; ``accounts`` for account dimensions.
    gross_margin : float
        Gross margin of recurring revenue, in (0, 1].
    by : str, list of str or None
        Account dimensions (``segment``, ``channel``...).
    churn_kind : {"logo", "revenue"}
        Which churn rate divides.
    start, end : date-like, optional
        Months counted.
    confidence : float
        Interval level.

    Returns
    -------
    DataFrame
        keys, ``accounts, arpa, churn, churn_lower, churn_upper, lifetime_months, ltv, lower, upper``.
    """
    if not 0.0 < float(gross_margin) <= 1.0:
        raise ValueError(f"gross_margin must be in (0, 1], got {gross_margin!r}")
    require(data, "revenue", ["account_id", "month", "mrr"], purpose="Subscription LTV")
    churn = monthly_churn(data, by, None, kind=churn_kind, start=start, end=end, confidence=confidence)
    grid = account_months(data, end=end, purpose="Subscription LTV")
    if start is not None:
        grid = grid.loc[:, grid.columns >= as_day(start)]
    long = pd.DataFrame({"account_id": np.repeat(grid.index.to_numpy(), grid.shape[1]),
                         "mrr": grid.to_numpy().ravel()})
    long = long[long["mrr"] > 0]
    keys = group_keys(by, None)
    for k in keys:
        long[k] = account_dimension(data, long["account_id"], k, "Subscription LTV").to_numpy()
    if keys:
        arpa = long.groupby(keys, dropna=False)["mrr"].agg(arpa="mean").reset_index()
        out = churn.merge(arpa, on=keys, how="left")
    else:
        out = churn.assign(arpa=long["mrr"].mean())
    out = out.rename(columns={"lower": "churn_lower", "upper": "churn_upper"})
    m = float(gross_margin)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["lifetime_months"] = 1.0 / out["churn"]
        out["ltv"] = out["arpa"] * m / out["churn"]
        out["lower"] = out["arpa"] * m / out["churn_upper"]
        out["upper"] = out["arpa"] * m / out["churn_lower"]
    columns = [*keys, "accounts", "arpa", "churn", "churn_lower", "churn_upper", "lifetime_months", "ltv",
               "lower", "upper"]
    return out[columns]


def ltv_to_cac(ltv: pd.DataFrame, cac: pd.DataFrame, on: str | None = None) -> pd.DataFrame:
    r"""LTV:CAC, the lifetime value of a customer over what it cost to win one.

    .. math:: \text{ratio}_g = \mathrm{LTV}_g / \mathrm{CAC}_g

    Parameters
    ----------
    ltv : DataFrame
        :func:`subscription_ltv` (``ltv`` column), by ``on`` or blended.
    cac : DataFrame
        :func:`salesops.kpi.cac.cac` (``cac`` column), by ``on`` or blended.
    on : str or None
        Shared key (``channel``); None for one blended row each.

    Returns
    -------
    DataFrame
        ``on`` (when given), ``ltv, cac, ltv_to_cac``; the bounds ``lower, upper`` combine LTV's bounds with
        CAC's (lower LTV over upper CAC, and the reverse).
    """
    lt = ltv[[c for c in ([on] if on else []) + ["ltv", "lower", "upper"]]].rename(
        columns={"lower": "ltv_lower", "upper": "ltv_upper"})
    ca = cac[[c for c in ([on] if on else []) + ["cac", "lower", "upper"]]].rename(
        columns={"lower": "cac_lower", "upper": "cac_upper"})
    if on is None:
        if len(lt) != 1 or len(ca) != 1:
            raise ValueError("blended LTV:CAC needs one LTV row and one CAC row; pass on= for a breakdown")
        out = pd.concat([lt.reset_index(drop=True), ca.reset_index(drop=True)], axis=1)
    else:
        out = lt.merge(ca, on=on, how="inner")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ltv_to_cac"] = out["ltv"] / out["cac"]
        out["lower"] = out["ltv_lower"] / out["cac_upper"]
        out["upper"] = out["ltv_upper"] / out["cac_lower"]
    return out[[c for c in ([on] if on else []) + ["ltv", "cac", "ltv_to_cac", "lower", "upper"]]]


# --- transactional ------------------------------------------------------------------------------------------------


def rfm(
    transactions: SalesData | pd.DataFrame,
    *,
    observation_end: Any = None,
    freq: str | float = "W",
) -> pd.DataFrame:
    """Frequency, recency, T and mean repeat spend per customer, from a transaction log.

    A thin front of :func:`salesops.stats.rfm_summary` on the canonical ``transactions`` table (customer_id,
    date, amount): purchases on one day merge into one; the first purchase starts the clock; ``frequency`` is
    the number of repeat purchase days, ``recency`` the time from first to last purchase, ``T`` from first
    purchase to ``observation_end``, in weeks by default; ``monetary_value`` the mean repeat spend.

    Parameters
    ----------
    transactions : SalesData or DataFrame
        ``SalesData`` with a ``transactions`` table, or such a table.
    observation_end : date-like, optional
        End of the calibration period (default the data's as-of day, else the last purchase).
    freq : {"D", "W", "M", "Y"} or float
        Time unit.
    """
    if isinstance(transactions, SalesData):
        end = observation_end if observation_end is not None else transactions.as_of
        table = require(transactions, "transactions", ["customer_id", "date", "amount"], purpose="Transactional LTV")
    else:
        end, table = observation_end, transactions
        missing = [c for c in ("customer_id", "date", "amount") if c not in table.columns]
        if missing:
            raise ValueError(f"Transactional LTV needs the column(s) {', '.join('transactions.' + c for c in missing)}")
    if end is not None:
        end = as_day(end)
    return rfm_summary(table, "customer_id", "date", "amount", observation_end=end, freq=freq)


@dataclass
class ClvFit:
    """BG/NBD and Gamma-Gamma models fitted on one RFM summary.

    Attributes
    ----------
    transactions : BGNBD
        The purchase-count model (``r_, alpha_, a_, b_``).
    spend : GammaGamma or None
        The spend model (``p_, q_, v_``); None when no monetary value was given.
    customers, repeat_customers : int
        Customers fitted on, and those with repeat purchases (the spend model's sample).
    """

    transactions: BGNBD
    spend: GammaGamma | None
    customers: int
    repeat_customers: int

    def params(self) -> pd.DataFrame:
        """Tidy table of every fitted parameter: ``model, parameter, estimate, se, lower, upper``."""
        parts = [self.transactions.summary_.reset_index().assign(model="bgnbd")]
        if self.spend is not None:
            parts.append(self.spend.summary_.reset_index().assign(model="gamma_gamma"))
        out = pd.concat(parts, ignore_index=True)
        out["parameter"] = out["parameter"].replace({"v": "gamma"})
        return out[["model", "parameter", "estimate", "se", "lower", "upper"]]

    def reliability(self) -> list[str]:
        """Sentences naming why the fit should not be trusted; empty when nothing is wrong.

        Flagged: an optimiser that did not converge; a shape parameter (r, a, b, p, q) that ran to the edge
        of what the model expresses (below 1e-4 or above 1e4: the likelihood kept improving towards a limit,
        e.g. a = 2e-8 with b = 434,520 means "nobody drops out", a boundary and not an estimate); an interval
        that is unbounded, not computable, or spans more than four orders of magnitude.
        """
        out: list[str] = []
        models = {"bgnbd": ("BG/NBD purchase model", self.transactions),
                  "gamma_gamma": ("Gamma-Gamma spend model", self.spend)}
        for label, fitted in models.values():
            if fitted is not None and not getattr(fitted, "converged_", True):
                out.append(f"The {label} did not converge, so its parameters are not maximum-likelihood estimates.")
        for r in self.params().itertuples(index=False):
            label = models[r.model][0]
            est, lo, hi, se = (float(v) for v in (r.estimate, r.lower, r.upper, r.se))
            shape = r.parameter in ("r", "a", "b", "p", "q")
            if shape and (est < 1e-4 or est > 1e4):
                out.append(f"In the {label}, {r.parameter} = {est:.3g} lies at the boundary of what the model can "
                           "express: the fit ran to a limit instead of settling on a value, so its predictions "
                           "are unreliable.")
            elif not (np.isfinite(se) and np.isfinite(hi) and lo > 0):
                out.append(f"In the {label}, the interval of {r.parameter} is unbounded or cannot be computed "
                           f"({lo:.3g} to {hi:.3g}): the data do not pin it down, so the predictions are unreliable.")
            elif hi / lo > 1e4:
                out.append(f"In the {label}, the interval of {r.parameter} spans {lo:.3g} to {hi:.3g}: the data "
                           "barely pin it down, so the predictions are unreliable.")
        return out


def fit_clv(summary: pd.DataFrame, *, penalizer: float = 0.0) -> ClvFit:
    r"""Fit BG/NBD (repeat purchases) and, with ``monetary_value``, Gamma-Gamma (spend) by maximum likelihood.

    BG/NBD (Fader, Hardie & Lee 2005): while alive a customer buys at Poisson rate
    :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` and after each purchase drops out with probability
    :math:`p \sim \mathrm{Beta}(a, b)`. Gamma-Gamma (Fader & Hardie 2013): purchase values are
    :math:`\mathrm{Gamma}(p, \nu)`, :math:`\nu \sim \mathrm{Gamma}(q, \gamma)`, fitted on customers with
    repeat purchases. See :class:`salesops.stats.BGNBD` and :class:`salesops.stats.GammaGamma`.

    Parameters
    ----------
    summary : DataFrame
        :func:`rfm` output: ``frequency, recency, T`` and optionally ``monetary_value``.
    penalizer : float
        L2 penalty on both models' parameters (0: plain maximum likelihood).

    Returns
    -------
    ClvFit
    """
    missing = [c for c in ("frequency", "recency", "T") if c not in summary.columns]
    if missing:
        raise ValueError(f"the RFM summary lacks column(s) {missing}; build it with salesops.kpi.ltv.rfm")
    bg = BGNBD(penalizer=penalizer).fit(summary["frequency"], summary["recency"], summary["T"])
    gg = None
    repeat = int((summary["frequency"] > 0).sum())
    if "monetary_value" in summary.columns:
        keep = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
        gg = GammaGamma(penalizer=penalizer).fit(summary.loc[keep, "frequency"], summary.loc[keep, "monetary_value"])
    return ClvFit(bg, gg, int(len(summary)), repeat)


def transactional_ltv(
    data: SalesData | pd.DataFrame,
    *,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
    observation_end: Any = None,
    fit: ClvFit | None = None,
) -> pd.DataFrame:
    r"""Expected value of each customer's purchases over the next ``horizon_months`` (BG/NBD x Gamma-Gamma).

    .. math::

        \mathrm{CLV}_i = m \sum_{k=1}^{H} \frac{E[Y_i(kL)] - E[Y_i((k - 1)L)]}{(1 + d)^k}\,
        E[Z_i \mid x_i, \bar z_i]

    with :math:`L` one month in weeks, :math:`d = (1 + \text{annual rate})^{1/12} - 1` the monthly discount
    rate, :math:`E[Y]` the BG/NBD conditional expected purchases and :math:`E[Z]` the Gamma-Gamma expected
    spend (:func:`salesops.stats.customer_lifetime_value`).

    Parameters
    ----------
    data : SalesData or DataFrame
        With a ``transactions`` table (customer_id, date, amount), or an RFM summary from :func:`rfm`.
    horizon_months : int
        Months ahead.
    annual_discount_rate : float
        Yearly discount rate.
    margin : float
        Share of revenue kept (gross margin).
    observation_end : date-like, optional
        End of the observation (see :func:`rfm`).
    fit : ClvFit, optional
        Models already fitted (else fitted here).

    Returns
    -------
    DataFrame
        Per customer: ``frequency, recency, T, monetary_value, prob_alive, expected_purchases, expected_spend,
        clv``; the fit is in ``.attrs["fit"]``.
    """
    if isinstance(data, pd.DataFrame) and {"frequency", "recency", "T"} <= set(data.columns):
        summary = data
    else:
        summary = rfm(data, observation_end=observation_end)
    if "monetary_value" not in summary.columns:
        raise ValueError("Transactional LTV needs transactions.amount (the monetary value of purchases)")
    fit = fit or fit_clv(summary)
    x, t_x, big_t = summary["frequency"], summary["recency"], summary["T"]
    out = summary[["frequency", "recency", "T", "monetary_value"]].copy()
    bg, gg = fit.transactions, fit.spend
    out["prob_alive"] = np.asarray(bg.prob_alive(x, t_x, big_t))
    out["expected_purchases"] = np.asarray(bg.predict_purchases(horizon_months * WEEKS_PER_MONTH, x, t_x, big_t))
    out["expected_spend"] = np.asarray(gg.conditional_expected_average_profit(x, summary["monetary_value"]))
    monthly = (1.0 + float(annual_discount_rate)) ** (1.0 / 12.0) - 1.0
    out["clv"] = np.asarray(customer_lifetime_value(
        bg, gg, x, t_x, big_t, summary["monetary_value"], horizon=horizon_months, period_length=WEEKS_PER_MONTH,
        discount_rate=monthly, margin=margin))
    out.attrs["fit"] = fit
    return out
