"""Point-in-time pipeline snapshots rebuilt from ``opportunity_history``.

A snapshot as of a moment ``t`` holds one row per opportunity whose first history row is dated at or before
``t``, with its stage, amount, close date and forecast category as the CRM showed them at ``t`` (the last
history row at or before ``t``), plus features that only use rows at or before ``t``: age, days in the current
stage, close-date pushes so far, days since the last change and activities logged on the deal in the 30 days
before ``t``. Static attributes (owner, account segment, team, manager, source, type) come from the
opportunity, account and rep tables. Nothing dated after ``t`` is read, so deleting every record dated after
``t`` changes no snapshot at ``t`` (the as-of invariance the tests check).

The per-deal state at ``t`` (stage, amount, close date, forecast category, created_at, stage_entered_at,
pushes, first_amount) comes from the engine, :func:`salesops.engine.history.deal_states` (the one place a
deal's state at a moment is computed; blanks in the history keep the previous value); the features on top of
it (ages, stage semantics, static attributes, recent activities) are pandas on the per-deal frame. A
:class:`SnapshotBuilder` over a SalesData computes the history's per-row window features once (a temporary
table in its own DuckDB) and reads many moments in one query.

Opportunities without any history row are not in any snapshot: their past states are unknown.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesops.engine import Engine, engine_for
from salesops.engine.history import cache_history_rows, deal_states
from salesops.engine.snapshots import recent_activity_counts
from salesops.io.data import SalesData
from salesops.periods import Quarter, quarter_of

from ._common import MissingDataError, as_utc, quarter_end, quarter_start, require

__all__ = ["SnapshotBuilder", "snapshot"]

_DAY = pd.Timedelta(days=1)
#: The deal states before the first history row: none (with the columns and types of deal_states).
_NO_STATES = pd.DataFrame({
    "opportunity_id": pd.Series(dtype=object), "stage": pd.Series(dtype=object),
    "amount": pd.Series(dtype=float), "close_date": pd.Series(dtype="datetime64[ns]"),
    "forecast_category": pd.Series(dtype=object), "created_at": pd.Series(dtype="datetime64[ns, UTC]"),
    "last_change_at": pd.Series(dtype="datetime64[ns, UTC]"), "stage_entered_at": pd.Series(dtype="datetime64[ns, UTC]"),
    "pushes": pd.Series(dtype="int64"), "first_amount": pd.Series(dtype=float), "changes": pd.Series(dtype="int64"),
})


class SnapshotBuilder:
    """Reads the per-deal states of one :class:`SalesData` (or :class:`~salesops.engine.Engine`) at any
    moments from the engine (:func:`salesops.engine.history.deal_states`), adds the forecast features and
    caches each snapshot.

    Parameters
    ----------
    data : SalesData or Engine
        Needs ``opportunity_history`` (opportunity_id, changed_at, stage, amount, close_date), ``stages``
        (stage, order, probability, is_closed, is_won) and ``opportunities`` (opportunity_id, owner_rep_id).
        ``forecast_category`` (history), ``accounts.segment``, ``reps.team/manager_id/segment`` and
        ``activities.opportunity_id`` are optional: missing ones leave their feature empty. With an Engine,
        the small tables (stages, opportunities, accounts, reps) come to pandas and the history and
        activities stay in the engine.
    activity_window_days : int
        Trailing window of the ``recent_activities`` feature.
    """

    def __init__(self, data: SalesData | Engine, activity_window_days: int = 30) -> None:
        purpose = "a pipeline snapshot"
        self._engine = data if isinstance(data, Engine) else None
        tables = _EngineTables(data) if isinstance(data, Engine) else data
        hist = require(tables, "opportunity_history",
                       ["opportunity_id", "changed_at", "stage", "amount", "close_date"], purpose=purpose)
        stages = require(tables, "stages", ["stage", "order", "probability", "is_closed", "is_won"], purpose=purpose)
        opps = require(tables, "opportunities", ["opportunity_id", "owner_rep_id"], purpose=purpose)
        self.activity_window_days = int(activity_window_days)
        self.data_as_of = tables.as_of
        self.stages = stages.sort_values("order").reset_index(drop=True)
        seen = hist.stage_names() if isinstance(hist, _HistoryInEngine) else hist["stage"].dropna().unique()
        unknown = sorted(set(seen) - set(self.stages["stage"]))
        if unknown:
            raise MissingDataError(f"opportunity_history.stage has stages missing from the stages table: {unknown}")
        self._cache: dict[pd.Timestamp, pd.DataFrame] = {}
        self._states: dict[pd.Timestamp, tuple[pd.DataFrame, pd.Series | None]] = {}
        if self._engine is None:
            # a private engine over this data's history: its per-row window features are computed once
            self._engine = cache_history_rows(engine_for(data, tables=["opportunity_history"]))
            changed = pd.to_datetime(hist["changed_at"], utc=True)
            self._first, self._last = changed.min(), changed.max()
        else:
            self._first, self._last = hist.first_last()
        self._meta = self.stages.set_index("stage")

        static = opps[["opportunity_id", "owner_rep_id"]].copy()
        for col in ("account_id", "type", "source"):
            static[col] = opps[col] if col in opps.columns else None
        static["segment"] = None
        accounts, reps = tables.accounts, tables.reps
        if accounts is not None and "segment" in accounts.columns and "account_id" in opps.columns:
            static["segment"] = static["account_id"].map(accounts.set_index("account_id")["segment"])
        for col in ("team", "manager_id"):
            static[col] = None
            if reps is not None and col in reps.columns:
                static[col] = static["owner_rep_id"].map(reps.set_index("rep_id")[col])
        if reps is not None and "segment" in reps.columns:
            static["segment"] = static["segment"].fillna(static["owner_rep_id"].map(reps.set_index("rep_id")["segment"]))
        for col in ("type", "source", "segment", "team", "manager_id"):
            static[col] = static[col].fillna("(unknown)").astype(str)
        self._static = static.set_index("opportunity_id")

        self._act_times = self._act_opps = None
        self._act_in_engine = False
        if isinstance(data, Engine):
            self._act_in_engine = data.has("activities", ["opportunity_id", "occurred_at"])
        else:
            acts = data.activities
            if acts is not None and "opportunity_id" in acts.columns:
                a = acts.loc[acts["opportunity_id"].notna(), ["opportunity_id", "occurred_at"]]
                a = a.assign(occurred_at=pd.to_datetime(a["occurred_at"], utc=True)).sort_values("occurred_at")
                self._act_times = a["occurred_at"].dt.tz_convert(None).to_numpy()
                self._act_opps = a["opportunity_id"].to_numpy()

    @property
    def has_activities(self) -> bool:
        """Whether activities linked to opportunities are available for the ``recent_activities`` feature."""
        return self._act_times is not None or self._act_in_engine

    def first_moment(self) -> pd.Timestamp:
        """The earliest history row."""
        return pd.Timestamp(self._first)

    def last_moment(self) -> pd.Timestamp:
        """The data's as-of moment, else the latest history row."""
        last = pd.Timestamp(self._last)
        return max(as_utc(self.data_as_of), last) if self.data_as_of is not None else last

    def at(self, as_of: object) -> pd.DataFrame:
        """The snapshot as of ``as_of`` (see :func:`snapshot`); cached per moment."""
        t = as_utc(as_of)
        if t not in self._cache:
            if t not in self._states:
                # a miss also reads the moments forecasts go on to ask for: the same point of every other
                # quarter (training rows, quarter ends); one engine query for them all
                self.prefetch([t, *self.same_point_each_quarter(t)])
            rows, counts = self._states.pop(t)
            self._cache[t] = self._build(t, rows, counts)
        return self._cache[t]

    def prefetch(self, moments: Sequence[object]) -> SnapshotBuilder:
        """Read the deal states at every moment of ``moments`` not read yet, in one engine query (the
        snapshots are built from them when :meth:`at` asks)."""
        todo = list(dict.fromkeys(t for t in (as_utc(m) for m in moments)
                                  if t not in self._cache and t not in self._states))
        before = [t for t in todo if t < self.first_moment()]  # nothing had happened yet: no query
        todo = [t for t in todo if t >= self.first_moment()]
        for t in before:
            self._states[t] = (_NO_STATES, None)
        if not todo:
            return self
        states = deal_states(self._engine, todo)
        counts = self._engine_activity_counts(todo) if self._act_in_engine else {}
        parts = dict(iter(states.groupby("as_of", sort=False)))
        for t in todo:
            rows = parts.get(t, states.iloc[:0]).drop(columns="as_of").reset_index(drop=True)
            self._states[t] = (rows, counts.get(t))
        return self

    def _quarters(self) -> list[Quarter]:
        q, end = quarter_of(as_utc(self.first_moment())), quarter_of(as_utc(self.last_moment()))
        out = []
        while q <= end:
            out.append(q)
            q = q.next()
        return out

    def same_point_each_quarter(self, t: object) -> list[pd.Timestamp]:
        """``t``'s place in its quarter (its offset from the quarter's start, or the quarter's end) in every
        quarter from the first history row to :meth:`last_moment` (offsets beyond a quarter's end are left
        out)."""
        t = as_utc(t)
        q = quarter_of(t)
        last = self.last_moment()
        if t == quarter_end(q):
            out = [quarter_end(p) for p in self._quarters()]
        else:
            out = [m for p in self._quarters() if (m := quarter_start(p) + (t - quarter_start(q))) <= quarter_end(p)]
        return [m for m in out if m <= last]

    def _engine_activity_counts(self, moments: list[pd.Timestamp]) -> dict[pd.Timestamp, pd.Series]:
        window = pd.Timedelta(days=self.activity_window_days)
        counts = recent_activity_counts(self._engine, moments, window)
        return {t: part.set_index("opportunity_id")["activities"] for t, part in counts.groupby("as_of", sort=False)}

    def _build(self, t: pd.Timestamp, rows: pd.DataFrame, engine_counts: pd.Series | None) -> pd.DataFrame:
        meta = self._meta
        snap = pd.DataFrame({
            "opportunity_id": rows["opportunity_id"],
            "as_of": pd.Series(t, index=rows.index, dtype="datetime64[ns, UTC]"),
            "last_change_at": rows["last_change_at"],
            "stage": rows["stage"],
            "amount": rows["amount"],
            "close_date": rows["close_date"],
            "forecast_category": rows["forecast_category"],
            "created_at": rows["created_at"],
            "pushes": rows["pushes"],
            "stage_entered_at": rows["stage_entered_at"],
            "first_amount": rows["first_amount"],
            "stage_order": rows["stage"].map(meta["order"]).astype(float),
            "probability": rows["stage"].map(meta["probability"]).astype(float),
            "is_closed": rows["stage"].map(meta["is_closed"]).astype(bool),
            "is_won": rows["stage"].map(meta["is_won"]).astype(bool),
        })
        snap = snap.join(self._static, on="opportunity_id").reset_index(drop=True)
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
        elif self._act_in_engine:
            counts = engine_counts if engine_counts is not None else pd.Series(dtype=float)
            snap["recent_activities"] = snap["opportunity_id"].map(counts).fillna(0).astype(float)
        else:
            snap["recent_activities"] = np.nan
        return snap


class _HistoryInEngine:
    """Stands for the history table of an Engine where :func:`require` wants a frame (columns, emptiness)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._table = engine.table("opportunity_history")
        self.columns = list(self._table.columns)

    def __len__(self) -> int:
        return int(self._engine.execute(self._table.count()))

    def __getitem__(self, col: str) -> pd.Series:
        # require() asks whether a column holds any value: answer with one value (or none)
        t = self._table
        return pd.Series([self._engine.execute(t[col].max())])

    def stage_names(self) -> list[str]:
        return list(self._engine.execute(self._table.select("stage").distinct())["stage"])

    def first_last(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        t = self._table
        row = self._engine.execute(t.aggregate(lo=t.changed_at.min(), hi=t.changed_at.max()), utc=["lo", "hi"])
        return pd.Timestamp(row["lo"].iloc[0]), pd.Timestamp(row["hi"].iloc[0])


class _EngineTables:
    """The tables of an Engine as :func:`require` reads them: small ones as pandas, the history as a proxy."""

    def __init__(self, engine: Engine) -> None:
        self.as_of = engine.as_of
        self.opportunity_history = _HistoryInEngine(engine) if engine.has("opportunity_history") else None
        for name in ("stages", "opportunities", "accounts", "reps"):
            setattr(self, name, engine.to_pandas(name) if engine.has(name) else None)


def snapshot(data: SalesData | Engine | SnapshotBuilder, as_of: object) -> pd.DataFrame:
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
    data : SalesData, Engine or SnapshotBuilder
        The CRM (a builder caches its snapshots across calls).
    as_of : date-like
        The moment (a bare date means 00:00 UTC of that day).

    Returns
    -------
    DataFrame
        One row per opportunity known at ``as_of``.
    """
    builder = data if isinstance(data, SnapshotBuilder) else SnapshotBuilder(data)
    return builder.at(as_of).copy()
