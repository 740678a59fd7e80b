"""Statistical building blocks shared by the area modules (KPIs, funnel, forecast, comp, people, experiments).

One job per module; pure functions and small scikit-learn-style estimators on numpy and pandas:

========================  ===================================================================================
``proportions``           Wilson and Bayesian (beta) intervals for rates; win rate by value with an interval
``shrinkage``             empirical-Bayes beta-binomial shrinkage of per-group rates (reps, sources)
``survival``              Kaplan–Meier curves and medians with confidence intervals, log-rank test
``rfm``                   transaction log → frequency / recency / T / monetary value per customer
``clv``                   BG/NBD and Gamma-Gamma models, customer lifetime value
``did``                   difference-in-differences with cluster-robust errors, pre-trend test,
                          interrupted time series with Newey–West errors
========================  ===================================================================================

>>> from salesops.stats import wilson_interval
>>> lo, hi = wilson_interval(45, 100)
>>> round(lo, 3), round(hi, 3)
(0.356, 0.548)
"""

from salesops.stats.clv import BGNBD, GammaGamma, customer_lifetime_value
from salesops.stats.did import (
    DidResult,
    ItsResult,
    TrendTest,
    diff_in_diff,
    interrupted_time_series,
    parallel_trends_test,
)
from salesops.stats.proportions import (
    Interval,
    RateInterval,
    beta_interval,
    weighted_rate_interval,
    wilson_interval,
)
from salesops.stats.rfm import rfm_summary
from salesops.stats.shrinkage import BetaPrior, fit_beta_prior, shrink_rates
from salesops.stats.survival import (
    LogrankResult,
    MedianSurvival,
    kaplan_meier,
    km_by_group,
    km_median,
    logrank_test,
)

__all__ = [
    "BGNBD",
    "BetaPrior",
    "DidResult",
    "GammaGamma",
    "Interval",
    "ItsResult",
    "LogrankResult",
    "MedianSurvival",
    "RateInterval",
    "TrendTest",
    "beta_interval",
    "customer_lifetime_value",
    "diff_in_diff",
    "fit_beta_prior",
    "interrupted_time_series",
    "kaplan_meier",
    "km_by_group",
    "km_median",
    "logrank_test",
    "parallel_trends_test",
    "rfm_summary",
    "shrink_rates",
    "weighted_rate_interval",
    "wilson_interval",
]
