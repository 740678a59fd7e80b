"""Win rate by count and by value with confidence intervals, and empirical-Bayes shrunk win rates per rep."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from salesops.io.data import SalesData
from salesops.kpi._common import (
    BY_SEGMENT,
    MissingDataError,
    as_day,
    as_naive_days,
    cut_at,
    group_keys,
    opportunities_with,
    period_label,
    resolve_by,
)
from salesops.stats import weighted_rate_interval, wilson_interval
from salesops.stats.segment_prior import fit_segment_priors, priors_table, rep_posteriors

__all__ = ["closed_deals", "rep_win_rates", "win_rates"]

_PURPOSE = "Win rate"


def closed_deals(
    data: SalesData,
    by: str | Sequence[str] | None = None,
    period: str | None = None,
    *,
    period_on: str = "close_date",
    as_of: Any = None,
    start: Any = None,
    types: Sequence[str] | None = None,
    purpose: str = _PURPOSE,
) -> pd.DataFrame:
    """Closed opportunities with the ``by`` dimensions and, with ``period``, the period of ``period_on``.

    Parameters
    ----------
    data : SalesData
        Needs ``opportunities``.
    by, period, period_on
        Dimensions added, and the period (of ``period_on``) in a ``period`` column.
    as_of : date-like, optional
        Deals closed after it count as open then and are left out (see :func:`salesops.kpi._common.cut_at`).
    start : date-like, optional
        Only deals closed on or after it are kept.
    types : list of str, optional
        Only these opportunity types (e.g. ``["new_business"]``).
    purpose : str
        What the deals are for, named in a missing-data message.

    Returns
    -------
    DataFrame
        The closed opportunities with their dimensions.
    """
    keys = group_keys(by, None)
    opps = cut_at(opportunities_with(data, keys, purpose=purpose), as_of)
    if types is not None:
        if "type" not in opps.columns:
            raise MissingDataError(
                f"{purpose} of types {list(types)} needs the column opportunities.type, which this data does not have.")
        opps = opps[opps["type"].isin(list(types))]
    closed = opps[opps["is_closed"].astype(bool)].copy()
    if start is not None:
        closed = closed[as_naive_days(closed["close_date"]) >= as_day(start)]
    closed["is_won"] = closed["is_won"].astype(bool)
    if period is not None:
        closed["period"] = period_label(closed[period_on], period)
    return closed


def win_rates(
    data: SalesData,
    by: str | Sequence[str] | None = BY_SEGMENT,
    period: str | None = None,
    *,
    period_on: str = "close_date",
    as_of: Any = None,
    start: Any = None,
    types: Sequence[str] | None = None,
    confidence: float = 0.95,
    value_method: Literal["normal", "bootstrap"] = "normal",
) -> pd.DataFrame:
    r"""Win rate of closed deals by count and by value, with confidence intervals.

    .. math::

        \text{win\_rate}_g = \frac{\#\{\text{won}\}}{\#\{\text{closed}\}}, \qquad
        \text{value\_win\_rate}_g = \frac{\sum_{\text{won}} \text{amount}}{\sum_{\text{closed}} \text{amount}}

    over the closed opportunities of group :math:`g`. The count rate's interval is Wilson's score interval
    (:func:`salesops.stats.wilson_interval`); the value rate's is the ratio-estimator normal interval or a
    percentile bootstrap over deals (:func:`salesops.stats.weighted_rate_interval`).

    Parameters
    ----------
    data : SalesData
        Needs ``opportunities``; ``accounts`` / ``reps`` / ``leads`` for derived dimensions.
    by : str, list of str or None
        Dimensions: opportunity columns or ``segment`` (account's), ``team``, ``role``, ``rep``, ``channel``,
        ``industry``, ``region``... (see :func:`salesops.kpi._common.add_dimension`). The default, the
        segment, gives way to the whole company when the data have no segment; ``attrs["note"]`` says so.
    period : {"month", "quarter", "year"} or None
        Split by the period of ``period_on`` (default the close date).
    period_on : str
        Date column placing a deal in a period.
    as_of : date-like, optional
        Evaluate as of the end of that day: later deals are unknown, deals closed later are still open.
    start : date-like, optional
        Count only deals closed on or after this day.
    types : list of str, optional
        Opportunity types counted (default all).
    confidence : float
        Level of both intervals.
    value_method : {"normal", "bootstrap"}
        Interval of the value rate.

    Returns
    -------
    DataFrame
        One row per group: keys, ``closed, won, win_rate, lower, upper, closed_value, won_value,
        value_win_rate, value_lower, value_upper``.
    """
    by, note = resolve_by(data, by, purpose=_PURPOSE)
    closed = closed_deals(data, by, period, period_on=period_on, as_of=as_of, start=start, types=types)
    keys = group_keys(by, period)
    if not keys:
        closed = closed.assign(_all="all")
        keys = ["_all"]
    rows = []
    for key, g in closed.groupby(keys, dropna=False, observed=True, sort=True):
        won = g["is_won"].to_numpy()
        amount = g["amount"].to_numpy(dtype=float)
        value = weighted_rate_interval(amount, won, confidence=confidence, method=value_method)
        rows.append({
            **dict(zip(keys, key if isinstance(key, tuple) else (key,))),
            "closed": int(len(g)),
            "won": int(won.sum()),
            "closed_value": float(amount.sum()),
            "won_value": float(amount[won].sum()),
            "value_win_rate": value.rate,
            "value_lower": value.lower,
            "value_upper": value.upper,
        })
    out = pd.DataFrame(rows, columns=[*keys, "closed", "won", "closed_value", "won_value", "value_win_rate",
                                      "value_lower", "value_upper"])
    lower, upper = wilson_interval(out["won"].to_numpy(), out["closed"].to_numpy(), confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        out.insert(len(keys) + 2, "win_rate", out["won"] / out["closed"])
    out.insert(len(keys) + 3, "lower", lower)
    out.insert(len(keys) + 4, "upper", upper)
    out = out.drop(columns="_all") if "_all" in out.columns else out
    if note:
        out.attrs["note"] = note
    return out


def rep_win_rates(
    data: SalesData,
    within: str | Sequence[str] | None = BY_SEGMENT,
    period: str | None = None,
    *,
    period_on: str = "close_date",
    as_of: Any = None,
    start: Any = None,
    types: Sequence[str] | None = None,
    prior_start: Any = None,
    confidence: float = 0.95,
    spread: Literal["likelihood", "moments"] = "likelihood",
) -> pd.DataFrame:
    r"""Per-rep win rates shrunk by empirical Bayes towards their group's rate, with each group's own
    between-rep spread, a posterior interval and an under/over-performer flag; ranked within the group.

    Within each group (segment, say, and period) rep :math:`j` won :math:`x_j` of :math:`n_j` closed deals,
    :math:`x_j \sim \mathrm{Bin}(n_j, \theta_j)`, and the reps' true rates spread around the group's mean
    :math:`\mu` with a between-rep variance :math:`\tau^2` of the group's own: :math:`\hat\mu` the pooled
    rate and :math:`\hat\tau^2` maximising the beta-binomial marginal likelihood (``spread="likelihood"``)
    or, with ``spread="moments"``, solving the moment equation
    (:func:`salesops.stats.segment_prior.moment_spread`):

    .. math::

        \hat\mu = \frac{\sum x_j}{N}, \qquad
        \hat\tau^2 = \frac{\sum_j n_j(x_j/n_j - \hat\mu)^2 - (k-1)\hat\mu(1-\hat\mu)}
        {N - \sum_j n_j^2/N - (k-1)},

    with :math:`k` reps and :math:`N = \sum n_j`. The prior is :math:`\mathrm{Beta}(\kappa\mu,
    \kappa(1-\mu))` with :math:`\kappa = \mu(1-\mu)/\tau^2 - 1` (it weighs as much as :math:`\kappa`
    deals). A group whose :math:`\hat\tau^2` is not positive, or cannot be estimated (one rep), borrows the
    variance of reps around their own group's mean over every group (``prior_source`` = ``pooled``); when
    that is not positive either, reps do not differ beyond chance and all sit on the mean (``none``). Each
    rep's shrunk rate is the posterior mean

    .. math::

        \tilde\theta_j = \frac{\kappa\mu + x_j}{\kappa + n_j}
        = w_j \mu + (1 - w_j) \frac{x_j}{n_j}, \qquad w_j = \frac{\kappa}{\kappa + n_j},

    ``[lower, upper]`` its equal-tailed posterior interval of level ``confidence`` from
    :math:`\mathrm{Beta}(\kappa\mu + x_j, \kappa(1-\mu) + n_j - x_j)`, and ``prob_below`` the posterior
    probability :math:`P(\theta_j < \mu)`. ``flag`` is ``"under"`` when ``upper`` :math:`< \mu`
    (``prob_below`` :math:`> (1 + \text{confidence})/2`), ``"over"`` when ``lower`` :math:`> \mu`, else
    empty (:func:`salesops.stats.segment_prior.rep_posteriors`). A rep with three deals stays near the
    group's mean; one with three hundred keeps most of their own rate. ``vs_group`` is
    :math:`\tilde\theta_j - \mu`; ranks are 1 for the best rep of the group. ``attrs["priors"]`` shows
    each group's prior: mean, between-rep SD (its own estimate beside the one used), :math:`\kappa` and the
    weight on the prior of its median rep (:func:`salesops.stats.segment_prior.priors_table`).

    Parameters
    ----------
    data : SalesData
        Needs ``opportunities`` (owner_rep_id, is_closed, is_won) and what ``within`` needs.
    within : str, list of str or None
        Groups reps are compared within (default ``segment``: an Enterprise rep is not ranked against SMB;
        without segments in the data, every rep is compared with every other and ``attrs["note"]`` says so).
    period, period_on, as_of, start, types
        As in :func:`win_rates`.
    prior_start : date-like or "all", optional
        Fit each group's prior on the reps' deals closed from this day (``"all"``: from the first) to
        ``as_of``, one count per rep, instead of on the counts being shrunk. How much reps truly differ is
        better measured on a long history, while the rates shrunk stay those of the window: with a few dozen
        deals per rep, a quarter alone often cannot tell the spread from chance.
    confidence : float
        Posterior probability inside ``[lower, upper]``; the flag's level.
    spread : {"likelihood", "moments"}
        Estimator of each group's between-rep variance: beta-binomial marginal likelihood with the mean at
        the group's pooled rate (:func:`salesops.stats.segment_prior.likelihood_variance`; the default, as a
        rep with three deals then counts for what three deals show) or the moment equation above.

    Returns
    -------
    DataFrame
        One row per group and rep: keys, ``rep_id, closed, won, raw_rate, shrunk_rate, lower, upper,
        weight_on_prior, prior_mean, between_sd, prior_deals, vs_group, prob_below, flag, rank_raw,
        rank_shrunk, prior_source``; ``attrs["priors"]`` one record per group of the prior (keys, ``reps, deals,
        prior_mean, between_sd, own_between_sd, prior_deals, weight_on_prior, variance_source``).
    """
    within, note = resolve_by(data, within, purpose="Per-rep win rate")
    group = group_keys(within, period)
    closed = closed_deals(data, within, period, period_on=period_on, as_of=as_of, start=start, types=types,
                          purpose="Per-rep win rate")
    if not group:
        closed = closed.assign(_all="all")
        group = ["_all"]
    counts = (
        closed.groupby([*group, "owner_rep_id"], dropna=False, observed=True, sort=True)["is_won"]
        .agg(won="sum", closed="size").reset_index().rename(columns={"owner_rep_id": "rep_id"})
    )
    prior_counts = counts
    prior_group = group
    if prior_start is not None:
        history = closed_deals(data, within, None, as_of=as_of, types=types, purpose="Per-rep win rate",
                               start=None if prior_start == "all" else prior_start)
        prior_group = [k for k in group if k not in ("period", "_all")]
        if not prior_group:
            history = history.assign(_all="all")
            prior_group = ["_all"]
        prior_counts = (history.groupby([*prior_group, "owner_rep_id"], dropna=False, observed=True)["is_won"]
                        .agg(won="sum", closed="size").reset_index())
    prior_keys = [tuple(k) for k in prior_counts[prior_group].itertuples(index=False, name=None)]
    codes = {k: i for i, k in enumerate(dict.fromkeys(prior_keys))}
    fitted = fit_segment_priors(prior_counts["won"].to_numpy(float), prior_counts["closed"].to_numpy(float),
                                [codes[k] for k in prior_keys], method=spread)
    priors = {k: fitted[i] for k, i in codes.items()}
    parts = []
    for key, g in counts.groupby(group, dropna=False, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        prior = priors.get(tuple(v for k, v in zip(group, key) if k in prior_group))
        if prior is None:  # a group absent from the prior's history (a rep new in the window): its own counts
            prior = fit_segment_priors(g["won"], g["closed"], np.zeros(len(g)), method=spread)[0]
        s = rep_posteriors(g["won"].to_numpy(float), g["closed"].to_numpy(float), prior, level=confidence)
        part = g.reset_index(drop=True).copy()
        for col in ("raw_rate", "shrunk_rate", "lower", "upper", "weight_on_prior"):
            part[col] = s[col].to_numpy()
        part["prior_mean"] = prior.mean
        part["between_sd"] = prior.between_sd
        part["prior_deals"] = prior.concentration
        part["vs_group"] = part["shrunk_rate"] - prior.mean
        part["prob_below"] = s["prob_below"].to_numpy()
        part["flag"] = s["flag"].to_numpy()
        part["rank_raw"] = part["raw_rate"].rank(ascending=False, method="min").astype(int)
        part["rank_shrunk"] = part["shrunk_rate"].rank(ascending=False, method="min").astype(int)
        part["prior_source"] = prior.source
        parts.append(part)
    columns = [*group, "rep_id", "closed", "won", "raw_rate", "shrunk_rate", "lower", "upper", "weight_on_prior",
               "prior_mean", "between_sd", "prior_deals", "vs_group", "prob_below", "flag", "rank_raw",
               "rank_shrunk", "prior_source"]
    out = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    table = priors_table(fitted, prior_counts["closed"].to_numpy(float), [codes[k] for k in prior_keys],
                         name="_code")
    keys = pd.DataFrame(list(codes), columns=prior_group)
    table = pd.concat([keys, table.drop(columns="_code").reset_index(drop=True)], axis=1)
    out = out.drop(columns="_all") if "_all" in out.columns else out
    # records, not a frame: pandas compares attrs when frames are concatenated, and a frame cannot be compared
    out.attrs["priors"] = (table.drop(columns="_all") if "_all" in table.columns else table).to_dict("records")
    if note:
        out.attrs["note"] = note
    return out
