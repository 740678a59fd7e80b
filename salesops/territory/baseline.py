"""Baselines to judge an optimised territory design against: the greedy split and the current assignment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from salesops.territory.design import _targets, evaluate_assignment

__all__ = ["compare_designs", "greedy_assignment"]


def greedy_assignment(accounts: pd.DataFrame, territories: pd.DataFrame,
                      values: Sequence[str] = ("potential", "workload"), bucket: str | None = "bucket") -> pd.Series:
    r"""Largest-first greedy split, ignoring current owners.

    Within each bucket, accounts are taken in decreasing order of their normalised size
    :math:`\sum_k v_{ka} / \mu_{k}` (:math:`\mu_k` the bucket's mean target) and each goes to the territory with
    the smallest normalised load :math:`\sum_k L_{kt} / \mu_{kt}` that still has capacity (ties: territory
    order). This is the classic LPT heuristic: good balance, no regard for disruption.

    Returns
    -------
    Series
        Territory id per account, indexed like ``accounts``.
    """
    values = list(values)
    terr = _targets(accounts, territories.reset_index(drop=True), values, bucket)
    mu = terr[[f"target_{v}" for v in values]].to_numpy(dtype=float)
    mu = np.where(mu > 0, mu, 1.0)
    cap = terr["capacity"].to_numpy(dtype=float) if "capacity" in terr.columns else np.full(len(terr), np.inf)
    ids = terr["territory_id"].astype(str).to_numpy()
    out = np.empty(len(accounts), dtype=object)
    vals = accounts[values].to_numpy(dtype=float)
    groups = accounts.groupby(bucket, observed=True).indices if bucket else {None: np.arange(len(accounts))}
    for b, idx in groups.items():
        ts = np.flatnonzero(terr["bucket"].to_numpy() == b) if bucket else np.arange(len(terr))
        if ts.size == 0:
            raise ValueError(f"bucket {b!r} has accounts but no territory")
        size = (vals[idx] / mu[ts].mean(axis=0)).sum(axis=1)
        load = np.zeros(ts.size)
        count = np.zeros(ts.size)
        for a in idx[np.argsort(-size, kind="stable")]:
            free = count < cap[ts]
            if not free.any():
                raise ValueError(f"bucket {b!r}: the territories' capacity is smaller than its {idx.size} accounts")
            j = int(np.argmin(np.where(free, load, np.inf)))
            out[a] = ids[ts[j]]
            load[j] += (vals[a] / mu[ts[j]]).sum()
            count[j] += 1
    return pd.Series(out, index=accounts.index, name="territory_id")


def compare_designs(accounts: pd.DataFrame, territories: pd.DataFrame, designs: Mapping[str, Any],
                    values: Sequence[str] = ("potential", "workload"), bucket: str | None = "bucket",
                    current: str | None = "current_territory") -> pd.DataFrame:
    """Balance and disruption of several assignments side by side (current, greedy, optimised ...).

    Parameters
    ----------
    designs : mapping of name to territory per account
        Each a Series or array aligned with ``accounts``.

    Returns
    -------
    DataFrame
        One row per design: ``design, max_abs_deviation_<value>`` for each value, ``moved_accounts``,
        ``moved_share``, ``smallest_territory`` and ``largest_territory`` (accounts).
    """
    rows = []
    for name, asg in designs.items():
        arr = np.asarray(asg, dtype=object)
        by_t, summary = evaluate_assignment(accounts, territories, arr, values, bucket, current)
        row = {"design": name}
        row.update({f"max_abs_deviation_{v}": summary[f"max_abs_deviation_{v}"] for v in values})
        if "moved_share" in summary:
            row["moved_accounts"] = summary["moved_accounts"]
            row["moved_share"] = summary["moved_share"]
        row["smallest_territory"] = int(by_t["accounts"].min())
        row["largest_territory"] = int(by_t["accounts"].max())
        rows.append(row)
    return pd.DataFrame(rows)
