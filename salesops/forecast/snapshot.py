"""Point-in-time pipeline snapshots rebuilt from ``opportunity_history``.

A snapshot as of a moment ``t`` holds one row per opportunity whose first history row is dated at or before
``t``, with its stage, amount, close date and forecast category as the CRM showed them at ``t`` (the last
history row at or before ``t``), plus features that only use rows at or before ``t``: age, days in the current
stage, close-date pushes so far, days since the last change and activities logged on the deal in the 30 days
before ``t``. Static attributes (owner, account segment, team, manager, source, type) come from the
opportunity, account and rep tables. Nothing dated after ``t`` is read, so deleting every record dated after
``t`` changes no snapshot at ``t`` (the as-of invariance the tests check).

Opportunities without any history row are not in any snapshot: their past states are unknown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesops.io.data import SalesData

from ._common import MissingDataError, as_utc, require

__all__ = ["SnapshotBuilder", "snapshot"]

_DAY = pd.Timedelta(days=1)


class SnapshotBuilder:
    """Prepares the history of one :class:`SalesData` once, then rebuilds snapshots at any moment quickly.

    Parameters
    ----------
    data : SalesData
        Needs ``opportunity_history`` (opportunity_id, changed_at, stage, amount, close_date), ``stages``
        (stage, order, probability, is_closed, is_won) and ``opportunities`` (opportunity_id, owner_rep_id).
        ``forecast_category`` (history), ``accounts.segment``, ``reps.team/manager_id/segment`` and
        ``activities.opportunity_id`` are optional: missing ones leave their feature empty.
    activity_window_days : int
        Trailing window of the ``recent_activities`` feature.
    """

    def __init__(self, data: SalesData, activity_window_days: int = 30) -> None:
        purpose = "a pipeline snapshot"
        hist = require(data, "opportunity_history", ["opportunity_id", "changed_at", "stage", "amount", "close_date"],
                       purpose=purpose)
        stages = require(data, "stages", ["stage", "order", "probability", "is_closed", "is_won"], purpose=purpose)
        opps = require(data, "opportunities", ["opportunity_id", "owner_rep_id"], purpose=purpose)
        self.activity_window_days = int(activity_window_days)
        self.data_as_of = data.as_of
        self.stages = stages.sort_values("order").reset_index(drop=True)
        unknown = sorted(set(hist["stage"].dropna()) - set(self.stages["stage"]))
        if unknown:
            raise MissingDataError(f"opportunity_history.stage has stages missing from the stages table: {unknown}")
        self._cache: dict[pd.Timestamp, pd.DataFrame] = {}

        h = hist.copy()
        h["changed_at"] = pd.to_datetime(h["changed_at"], utc=True)
        if "forecast_category" not in h.columns:
            h["forecast_category"] = None
        h = h.sort_values(["opportunity_id", "changed_at"], kind="mergesort").reset_index(drop=True)
        g = h.groupby("opportunity_id", sort=False)
        # every row-level feature below depends only on this row and earlier rows of the same deal
        h["created_at"] = g["changed_at"].transform("first")
        prev_close = g["close_date"].shift()
        h["pushes"] = (h["close_date"] > prev_close).astype(int).groupby(h["opportunity_id"]).cumsum()
        new_stage = h["stage"].ne(g["stage"].shift())
        h["stage_entered_at"] = h["changed_at"].where(new_stage).groupby(h["opportunity_id"]).ffill()
        h["first_amount"] = g["amount"].transform("first")
        h = h.rename(columns={"changed_at": "last_change_at"})
        meta = self.stages.set_index("stage")
        h["stage_order"] = h["stage"].map(meta["order"]).astype(float)
        h["probability"] = h["stage"].map(meta["probability"]).astype(float)
        h["is_closed"] = h["stage"].map(meta["is_closed"]).astype(bool)
        h["is_won"] = h["stage"].map(meta["is_won"]).astype(bool)
        self._hist = h

        static = opps[["opportunity_id", "owner_rep_id"]].copy()
        for col in ("account_id", "type", "source"):
            static[col] = opps[col] if col in opps.columns else None
        static["segment"] = None
        if data.accounts is not None and "segment" in data.accounts.columns and "account_id" in opps.columns:
            static["segment"] = static["account_id"].map(data.accounts.set_index("account_id")["segment"])
        reps = data.reps
        for col in ("team", "manager_id"):
            static[col] = None
            if reps is not None and col in reps.columns:
                static[col] = static["owner_rep_id"].map(reps.set_index("rep_id")[col])
        if reps is not None and "segment" in reps.columns:
            static["segment"] = static["segment"].fillna(static["owner_rep_id"].map(reps.set_index("rep_id")["segment"]))
        for col in ("type", "source", "segment", "team", "manager_id"):
            static[col] = static[col].fillna("(unknown)").astype(str)
        self._static = static.set_index("opportunity_id")

        acts = data.activities
        if acts is not None and "opportunity_id" in acts.columns:
            a = acts.loc[acts["opportunity_id"].notna(), ["opportunity_id", "occurred_at"]]
            a = a.assign(occurred_at=pd.to_datetime(a["occurred_at"], utc=True)).sort_values("occurred_at")
            self._act_times = a["occurred_at"].dt.tz_convert(None).to_numpy()
            self._act_opps = a["opportunity_id"].to_numpy()
        else:
            self._act_times = None
            self._act_opps = None

    @property
    def has_activities(self) -> bool:
        """Whether activities linked to opportunities are available for the ``recent_activities`` feature."""
        return self._act_times is not None

    def first_moment(self) -> pd.Timestamp:
        """The earliest history row."""
        return pd.Timestamp(self._hist["last_change_at"].min())

    def last_moment(self) -> pd.Timestamp:
        """The data's as-of moment, else the latest history row."""
        last = pd.Timestamp(self._hist["last_change_at"].max())
        return max(as_utc(self.data_as_of), last) if self.data_as_of is not None else last

    def at(self, as_of: object) -> pd.DataFrame:
        """The snapshot as of ``as_of`` (see :func:`snapshot`); cached per moment."""
        t = as_utc(as_of)
        if t not in self._cache:
            self._cache[t] = self._build(t)
        return self._cache[t]

    def _build(self, t: pd.Timestamp) -> pd.DataFrame:
        h = self._hist
        mask = (h["last_change_at"] <= t).to_numpy()
        rows = h.loc[mask].drop_duplicates("opportunity_id", keep="last")
        snap = rows.join(self._static, on="opportunity_id").reset_index(drop=True)
        snap.insert(1, "as_of", t)
        day = t.tz_localize(None).normalize()
        snap["age_days"] = (t - snap["created_at"]) / _DAY
        snap["days_in_stage"] = (t - snap["stage_entered_at"]) / _DAY
        snap["days_since_change"] = (t - snap["last_change_at"]) / _DAY
        snap["days_to_close"] = (snap["close_date"] - day) / _DAY
        if self._act_times is not None:
            naive = t.tz_convert(None)
            start = naive - pd.Timedelta(days=self.activity_window_days)
            lo = np.searchsorted(self._act_times, start.to_datetime64(), side="right")
            hi = np.searchsorted(self._act_times, naive.to_datetime64(), side="right")
            counts = pd.Series(self._act_opps[lo:hi]).value_counts()
            snap["recent_activities"] = snap["opportunity_id"].map(counts).fillna(0).astype(float)
        else:
            snap["recent_activities"] = np.nan
        return snap


def snapshot(data: SalesData | SnapshotBuilder, as_of: object) -> pd.DataFrame:
    """The pipeline as the CRM showed it at ``as_of``.

    For each opportunity with a history row at or before ``as_of``, the last such row gives ``stage``,
    ``amount``, ``close_date`` and ``forecast_category``; derived columns are

    - ``age_days = (as_of - created_at) / 1 day`` with ``created_at`` the first history row,
    - ``days_in_stage = (as_of - stage_entered_at) / 1 day``,
    - ``pushes`` = number of history rows so far that moved the close date later,
    - ``days_to_close = close_date - as_of's day`` (negative: overdue),
    - ``recent_activities`` = activities on the deal in the trailing 30 days (NaN without activities),
    - ``probability``, ``stage_order``, ``is_closed``, ``is_won`` from the stages table.

    Parameters
    ----------
    data : SalesData or SnapshotBuilder
        The CRM (a builder reuses its prepared history across many moments).
    as_of : date-like
        The moment (a bare date means 00:00 UTC of that day).

    Returns
    -------
    DataFrame
        One row per opportunity known at ``as_of``.
    """
    builder = data if isinstance(data, SnapshotBuilder) else SnapshotBuilder(data)
    return builder.at(as_of).copy()
