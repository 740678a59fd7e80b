"""Credit won deals to reps: the owner (or the reps of a split) and, by roll-up, their managers."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["credit_deals"]

_KEEP = ["opportunity_id", "account_id", "close_date", "type", "product", "amount"]


def credit_deals(
    opportunities: pd.DataFrame,
    reps: pd.DataFrame | None = None,
    splits: pd.DataFrame | None = None,
    rollup: bool = False,
) -> pd.DataFrame:
    """One row per (won deal, credited rep).

    A deal without a split credits its owner with the whole amount (share 1). A deal listed in ``splits``
    credits each listed rep with ``share x amount`` instead (shares of a deal must sum to 1). With
    ``rollup`` every credited rep's managers (``reps.manager_id``, up the whole chain) are credited with
    the same amount again, as ``credit_role = "manager"`` (manager credit is overlay: it does not reduce the
    sellers' credit).

    Parameters
    ----------
    opportunities : DataFrame
        Canonical opportunities; only ``is_won`` rows are credited.
    reps : DataFrame, optional
        Canonical reps; needed for ``rollup``.
    splits : DataFrame, optional
        ``opportunity_id, rep_id, share``.
    rollup : bool
        Credit managers too.

    Returns
    -------
    DataFrame
        ``opportunity_id, account_id, close_date, type, product, rep_id, credit_role (owner, split,
        manager), share, amount`` (credited amount = share x deal amount), sorted by rep, close date, deal.
    """
    for col in ("opportunity_id", "owner_rep_id", "is_won", "amount", "close_date"):
        if col not in opportunities.columns:
            raise ValueError(f"opportunities.{col} is missing: crediting deals needs it")
    won = opportunities.loc[opportunities["is_won"].fillna(False).astype(bool)].copy()
    for col in ("account_id", "type", "product"):
        if col not in won.columns:
            won[col] = None
    won = won[_KEEP + ["owner_rep_id"]].rename(columns={"amount": "deal_amount"})
    if splits is not None and len(splits):
        for col in ("opportunity_id", "rep_id", "share"):
            if col not in splits.columns:
                raise ValueError(f"splits.{col} is missing: a split needs opportunity_id, rep_id and share")
        totals = splits.groupby("opportunity_id")["share"].sum()
        bad = totals[(totals - 1.0).abs() > 1e-9]
        if len(bad):
            raise ValueError(f"splits.share of opportunity {bad.index[0]} sums to {bad.iloc[0]:g}, not 1")
        split_rows = won.merge(splits[["opportunity_id", "rep_id", "share"]], on="opportunity_id")
        split_rows["credit_role"] = "split"
        owner_rows = won.loc[~won["opportunity_id"].isin(totals.index)].copy()
    else:
        split_rows = won.iloc[:0].assign(rep_id=pd.Series(dtype=object), share=pd.Series(dtype=float),
                                         credit_role=pd.Series(dtype=object))
        owner_rows = won.copy()
    owner_rows["rep_id"] = owner_rows["owner_rep_id"]
    owner_rows["share"] = 1.0
    owner_rows["credit_role"] = "owner"
    credited = pd.concat([owner_rows, split_rows], ignore_index=True)
    if rollup:
        if reps is None or "manager_id" not in reps.columns:
            raise ValueError("reps.manager_id is missing: the manager roll-up needs it")
        boss = reps.set_index("rep_id")["manager_id"].dropna()
        level = credited
        extra = []
        for _ in range(20):  # manager chains are short; 20 guards against a cycle
            up = level.assign(rep_id=level["rep_id"].map(boss)).dropna(subset=["rep_id"])
            if up.empty:
                break
            keys = [c for c in up.columns if c not in ("share", "credit_role", "owner_rep_id")]
            up = up.groupby(keys, as_index=False, dropna=False)["share"].sum()
            up = up.assign(share=up["share"].clip(upper=1.0), credit_role="manager", owner_rep_id=None)
            extra.append(up)
            level = up
        if extra:
            managers = pd.concat(extra, ignore_index=True)
            # a manager reached along two paths (two split reps at different levels) is credited once
            keys = [c for c in managers.columns if c not in ("share", "credit_role", "owner_rep_id")]
            managers = managers.groupby(keys, as_index=False, dropna=False)["share"].sum()
            managers = managers.assign(share=managers["share"].clip(upper=1.0), credit_role="manager",
                                       owner_rep_id=None)
            credited = pd.concat([credited, managers], ignore_index=True)
    credited["amount"] = np.round(credited["deal_amount"] * credited["share"], 2)
    out = credited[["opportunity_id", "account_id", "close_date", "type", "product", "rep_id", "credit_role",
                    "share", "amount"]]
    return out.sort_values(["rep_id", "close_date", "opportunity_id"], kind="stable").reset_index(drop=True)
