"""The inputs of territory design: each account's workload from its activities, and the territories (one per rep,
with its bucket) from the reps table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from salesops.leads._common import MissingDataError

# --- inputs --------------------------------------------------------------------------------------------------


def account_workload(accounts: pd.DataFrame, activities: pd.DataFrame | None, as_of: Any = None,
                     window_days: float = 365.0, floor: float = 4.0, roles_rep_ids: Sequence[str] | None = None
                     ) -> pd.Series:
    """Yearly workload of each account: rep activities on it over the last ``window_days``, at least ``floor``.

    ``workload_a = max(floor, n_a * 365 / window_days)`` with :math:`n_a` the activities (calls, emails,
    meetings) logged on the account in ``(as_of - window_days, as_of]`` (by the reps in ``roles_rep_ids`` when
    given); ``floor`` is the minimum coverage any account gets (4: a quarterly touch).

    Parameters
    ----------
    accounts : DataFrame
        Canonical ``accounts``.
    activities : DataFrame
        Canonical ``activities`` with ``account_id``.
    as_of : timestamp, optional
        End of the window; default the latest activity.
    window_days : float
        Length of the window.
    floor : float
        Smallest workload.
    roles_rep_ids : list of str, optional
        Only count these reps' activities (e.g. the AEs').

    Returns
    -------
    Series
        Indexed by ``account_id``, named ``workload`` (activities per year).
    """
    if activities is None:
        raise MissingDataError("the activities table is missing; account workload needs it (or pass a workload column)")
    missing = [c for c in ("account_id", "occurred_at") if c not in activities.columns]
    if missing:
        raise MissingDataError(f"activities lack column(s) {', '.join(missing)}; account workload needs them")
    occurred = activities["occurred_at"]
    end = occurred.max() if as_of is None else pd.Timestamp(as_of)
    if end.tzinfo is None and occurred.dt.tz is not None:
        end = end.tz_localize("UTC")
    start = end - pd.Timedelta(days=window_days)
    keep = (occurred > start) & (occurred <= end) & activities["account_id"].notna()
    if roles_rep_ids is not None:
        keep &= activities["rep_id"].isin(list(roles_rep_ids))
    counts = activities.loc[keep, "account_id"].value_counts()
    per_year = accounts["account_id"].map(counts).fillna(0.0).to_numpy(dtype=float) * 365.0 / window_days
    return pd.Series(np.maximum(per_year, floor), index=pd.Index(accounts["account_id"], name="account_id"),
                     name="workload")


def territories_from_reps(reps: pd.DataFrame, as_of: Any = None, role: str = "AE", bucket_column: str = "segment",
                          capacity: int | None = None) -> pd.DataFrame:
    """One territory per rep of ``role`` employed at ``as_of``, in the bucket of the rep's ``bucket_column``.

    Returns
    -------
    DataFrame
        ``territory_id`` (= the rep id), ``owner_rep_id``, ``bucket``, ``region`` (if known), ``share`` (1.0) and
        ``capacity`` (when given).
    """
    missing = [c for c in ("rep_id", "role") if c not in reps.columns]
    if missing:
        raise MissingDataError(f"reps lack column(s) {', '.join(missing)}; territories from reps need them")
    sel = reps["role"].eq(role)
    if as_of is not None:
        day = pd.Timestamp(as_of)
        day = (day.tz_convert("UTC").tz_localize(None) if day.tzinfo else day).normalize()
        if "hire_date" in reps.columns:
            sel &= reps["hire_date"].isna() | (reps["hire_date"] <= day)
        if "end_date" in reps.columns:
            sel &= reps["end_date"].isna() | (reps["end_date"] >= day)
    r = reps[sel]
    if r.empty:
        raise ValueError(f"no rep with role {role!r} is employed at {as_of}; no territory to design")
    out = pd.DataFrame({"territory_id": r["rep_id"].astype(str).to_numpy(), "owner_rep_id": r["rep_id"].astype(str).to_numpy()})
    if bucket_column:
        if bucket_column not in reps.columns:
            raise MissingDataError(f"reps lack column {bucket_column!r}, which names each territory's bucket")
        out["bucket"] = r[bucket_column].to_numpy()
    if "region" in reps.columns:
        out["region"] = r["region"].to_numpy()
    out["share"] = 1.0
    if capacity is not None:
        out["capacity"] = int(capacity)
    return out
