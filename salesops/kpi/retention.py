"""Cohort retention curves: of the customers who started paying in a period, how many (or how much of
their revenue) are still there k months later."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from salesops.io.data import SalesData
from salesops.kpi._common import PERIODS, group_keys
from salesops.kpi.churn import account_dimension, account_months

__all__ = ["cohort_retention"]

_PURPOSE = "Cohort retention"


def cohort_retention(
    data: SalesData,
    cohort: Literal["month", "quarter", "year"] = "quarter",
    by: str | Sequence[str] | None = None,
    *,
    kind: Literal["logo", "revenue"] = "logo",
    max_months: int | None = None,
    end: Any = None,
    include_first_month: bool = False,
) -> pd.DataFrame:
    r"""Retention by months since a customer's first month of revenue, per start cohort (long format).

    For the accounts :math:`a` of a cohort whose month :math:`s_a + k` is observed (not after the last month),

    .. math::

        R^{\text{logo}}_k = \frac{\#\{a : \mathrm{MRR}_{a, s_a + k} > 0\}}{\#\{a\}}, \qquad
        R^{\text{revenue}}_k = \frac{\sum_a \mathrm{MRR}_{a, s_a + k}}{\sum_a \mathrm{MRR}_{a, s_a}}

    (net revenue retention: expansion counts, so it may exceed 1). :math:`s_a` is the account's first month
    with MRR. Accounts already paying in the revenue table's first month started before the data and their
    true start is unknown; they are left out unless ``include_first_month``.

    Parameters
    ----------
    data : SalesData
        Needs ``revenue``; ``accounts`` for ``by`` dimensions.
    cohort : {"month", "quarter", "year"}
        Cohort period of the first month.
    by : str, list of str or None
        Account dimensions splitting the cohorts (``segment``...).
    kind : {"logo", "revenue"}
        Customer count or revenue retention.
    max_months : int, optional
        Largest ``k`` reported.
    end : date-like, optional
        Last month observed (see :func:`salesops.kpi.churn.account_months`).
    include_first_month : bool
        Keep the accounts already paying in the first month as a cohort of their own.

    Returns
    -------
    DataFrame
        keys, ``cohort``, ``months_since_start`` (k), ``accounts`` (observed at k), ``retained`` (accounts
        with MRR at k), ``retention``.
    """
    if cohort not in PERIODS:
        raise ValueError(f"cohort must be one of {', '.join(PERIODS)}, got {cohort!r}")
    if kind not in ("logo", "revenue"):
        raise ValueError(f"kind must be 'logo' or 'revenue', got {kind!r}")
    grid = account_months(data, end=end, purpose=_PURPOSE)
    values = grid.to_numpy()
    paying = values > 0
    has = paying.any(axis=1)
    values, paying, ids = values[has], paying[has], grid.index.to_numpy()[has]
    first = paying.argmax(axis=1)
    keep = np.ones(ids.size, bool) if include_first_month else first > 0
    values, paying, ids, first = values[keep], paying[keep], ids[keep], first[keep]
    n_months = grid.shape[1]
    horizon = n_months - 1 if max_months is None else min(int(max_months), n_months - 1)
    ks = np.arange(horizon + 1)
    cols = first[:, None] + ks[None, :]
    observed = cols < n_months
    safe = np.where(observed, cols, 0)
    rows = np.arange(ids.size)[:, None]
    mrr_k = np.where(observed, values[rows, safe], 0.0)
    alive_k = observed & paying[rows, safe]
    start_mrr = values[np.arange(ids.size), first]
    months = grid.columns[first]
    frame = pd.DataFrame({"account_id": ids, "cohort": pd.PeriodIndex(months, freq=PERIODS[cohort]).astype(str)})
    keys = group_keys(by, None)
    for k in keys:
        frame[k] = account_dimension(data, frame["account_id"], k, _PURPOSE).to_numpy()
    parts = []
    for key, idx in frame.groupby([*keys, "cohort"], dropna=False, observed=True, sort=True).indices.items():
        obs = observed[idx]
        n_obs = obs.sum(axis=0)
        ok = n_obs > 0
        retained = alive_k[idx].sum(axis=0)
        if kind == "logo":
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = retained / n_obs
        else:
            base = (start_mrr[idx, None] * obs).sum(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = mrr_k[idx].sum(axis=0) / base
        part = pd.DataFrame({"months_since_start": ks[ok], "accounts": n_obs[ok].astype(np.int64),
                             "retained": retained[ok].astype(np.int64), "retention": rate[ok]})
        for name, value in zip([*keys, "cohort"], key if isinstance(key, tuple) else (key,)):
            part.insert(len(part.columns) - 4, name, value)
        parts.append(part)
    columns = [*keys, "cohort", "months_since_start", "accounts", "retained", "retention"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]
