"""Statistical building blocks shared by the area modules (KPIs, funnel, forecast, comp, people, experiments).

One job per module; pure functions and small scikit-learn-style estimators on numpy and pandas:

========================  ===================================================================================
``proportions``           Wilson and Bayesian (beta) intervals for rates; win rate by value with an interval
``shrinkage``             empirical-Bayes beta-binomial shrinkage of per-group rates (reps, sources)
``stratified_shrinkage``  the same within strata (segments) sharing one concentration
``segment_prior``         per-segment beta-binomial priors, each with its own between-rep variance (likelihood
                          or moments, pooled fallback); posterior intervals and flags per rep
``comparisons``           two-proportion tests; Holm, Bonferroni or Benjamini-Hochberg adjusted p-values
``logit``                 logistic regression with coefficient intervals
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
from salesops.stats.comparisons import TwoProportionTest, adjust_pvalues, two_proportion_test
from salesops.stats.did import (
    DidResult,
    ItsResult,
    TrendTest,
    diff_in_diff,
    interrupted_time_series,
    parallel_trends_test,
)
from salesops.stats.logit import logit_fit
from salesops.stats.proportions import (
    Interval,
    RateInterval,
    beta_interval,
    weighted_rate_interval,
    wilson_interval,
)
from salesops.stats.rfm import rfm_summary
from salesops.stats.shrinkage import BetaPrior, fit_beta_prior, shrink_rates
from salesops.stats.stratified_shrinkage import fit_shared_concentration, shrink_within_strata
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
    "TwoProportionTest",
    "adjust_pvalues",
    "beta_interval",
    "customer_lifetime_value",
    "diff_in_diff",
    "fit_beta_prior",
    "fit_shared_concentration",
    "interrupted_time_series",
    "kaplan_meier",
    "km_by_group",
    "km_median",
    "logit_fit",
    "logrank_test",
    "parallel_trends_test",
    "rfm_summary",
    "shrink_rates",
    "shrink_within_strata",
    "two_proportion_test",
    "weighted_rate_interval",
    "wilson_interval",
]
