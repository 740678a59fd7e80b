"""Point-in-time pipeline: every opportunity as it stood at a moment, rebuilt from ``opportunity_history``.

The ``opportunities`` table holds each deal's *latest* state; a pipeline as of an earlier moment read from
it would use the future (a deal won in May looks won in March). :func:`snapshot` uses only history rows
changed at or before the moment, so deleting every later row changes nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesops.engine import Engine
from salesops.engine.history import deal_states, history_engine
from salesops.funnel._common import (
    MissingDataError,
    StageInfo,
    as_moment,
    days_between,
    opportunity_attributes,
    require_columns,
    require_table,
    stage_info,
    to_dt,
)

__all__ = ["MUTABLE_COLUMNS", "pipeline_at", "prepare_history", "snapshot"]

#: Columns of ``opportunities`` that change over a deal's life: a snapshot never reads them.
MUTABLE_COLUMNS = ("stage", "amount", "close_date", "is_closed", "is_won", "forecast_category", "loss_reason")
_STATE_COLUMNS = ("amount", "close_date", "forecast_category")


def prepare_history(history: pd.DataFrame, stages: pd.DataFrame | None = None) -> pd.DataFrame:
    """History rows in order (by opportunity, then ``changed_at``, ties in file order) with the state after
    each change filled in: a blank ``amount``, ``close_date`` or ``forecast_category`` keeps the opportunity's
    previous value (CRMs that log only what changed), and ``is_open`` / ``is_won`` / ``is_closed`` come from
    the stage table.

    Raises
    ------
    MissingDataError
        When ``opportunity_id``, ``changed_at`` or ``stage`` is missing.
    ValueError
        When a stage name is not in ``stages``.
    """
    require_columns(
        history,
        "opportunity_history",
        ["opportunity_id", "changed_at", "stage"],
        "rebuilding the pipeline at a moment",
    )
    info = stage_info(stages, seen=history["stage"].dropna().unique())
    h = history.sort_values(["opportunity_id", "changed_at"], kind="stable").reset_index(drop=True)
    present = [c for c in _STATE_COLUMNS if c in h.columns]
    if present and h[present].isna().any().any():
        h[present] = h.groupby("opportunity_id", sort=False)[present].ffill()
    stage = h["stage"]
    h["is_won"] = stage.isin(info.won).to_numpy()
    h["is_closed"] = stage.isin(info.closed).to_numpy()
    h["is_open"] = ~h["is_closed"]
    return h


def _at(history: pd.DataFrame | Engine, moment: pd.Timestamp, info: StageInfo, state: list[str]) -> pd.DataFrame:
    """Each opportunity's state at ``moment`` from the engine (:func:`salesops.engine.history.deal_states`),
    indexed by opportunity, in the columns of :func:`prepare_history` (``changed_at`` as ``last_change_at``)."""
    engine = history if isinstance(history, Engine) else history_engine(history)
    states = deal_states(engine, [moment]).set_index("opportunity_id")
    out = states[["last_change_at", "stage", *state]].copy()
    stage = out["stage"]
    out["is_won"] = stage.isin(info.won).to_numpy()
    out["is_closed"] = stage.isin(info.closed).to_numpy()
    out["is_open"] = ~out["is_closed"]
    out["created_at"] = states["created_at"]
    return out


def _history_ids(history: pd.DataFrame | Engine) -> Any:
    """Every opportunity id with a history row (at any time)."""
    if isinstance(history, Engine):
        h = history.table("opportunity_history")
        return history.execute(h.select("opportunity_id").distinct())["opportunity_id"].to_numpy()
    return history["opportunity_id"].unique()


class _SmallTables:
    """The small tables of an Engine as pandas attributes (what :func:`opportunity_attributes` reads); the
    history stays in the engine."""

    def __init__(self, engine: Engine) -> None:
        self.as_of = engine.as_of
        self.opportunity_history = engine if engine.has("opportunity_history") else None
        for name in ("opportunities", "accounts", "reps", "stages"):
            setattr(self, name, engine.to_pandas(name) if engine.has(name) else None)


def snapshot(
    history: pd.DataFrame | Engine,
    opportunities: pd.DataFrame | None,
    as_of: Any,
    stages: pd.DataFrame | None = None,
    *,
    prepared: bool = False,
) -> pd.DataFrame:
    r"""Every opportunity as it stood at ``as_of``, from history rows changed at or before that moment.

    For each opportunity :math:`o` with at least one row :math:`r` with :math:`t_r \le` ``as_of``, the state
    is that of its latest such row (ties in ``changed_at``: the later row of the file), blanks filled by
    earlier rows; ``created_at`` is its first row's time. Derived columns:

    * ``is_open`` = the stage is not closed; ``is_won`` / ``is_closed`` from the stage table;
    * ``age_days`` = ``as_of`` - ``created_at``; ``days_since_change`` = ``as_of`` - ``last_change_at``;
    * ``days_past_due`` = ``as_of`` day - ``close_date`` (positive: the expected close has passed).

    Static attributes (account, owner, segment, type, source ...) are joined from ``opportunities``; its
    columns that change over a deal's life (:data:`MUTABLE_COLUMNS`) are never read.

    Parameters
    ----------
    history : DataFrame or Engine
        ``opportunity_history`` (``opportunity_id, changed_at, stage`` and optionally ``amount, close_date,
        forecast_category``), or its :func:`prepare_history` output with ``prepared=True``, or an
        :class:`~salesops.engine.Engine` holding it. The states are read by
        :func:`salesops.engine.history.deal_states` either way.
    opportunities : DataFrame or None
        Static attributes by ``opportunity_id`` (the ``opportunities`` table, or a richer frame of
        attributes); None joins nothing.
    as_of : str, date or Timestamp
        The moment; a date alone means the end of that day (UTC).
    stages : DataFrame, optional
        The stage table (default ``templates/stages.yaml``).

    Returns
    -------
    DataFrame
        One row per opportunity that existed at ``as_of``, indexed by ``opportunity_id``. ``.attrs`` holds
        ``as_of`` and ``without_history``: opportunities created by then that have no history row (they are
        left out; a CRM that logs no creation row makes them invisible to every point-in-time figure).
    """
    moment = as_moment(as_of)
    if isinstance(history, Engine):
        h = history.table("opportunity_history", ["opportunity_id", "changed_at", "stage"],
                          purpose="rebuilding the pipeline at a moment")
        seen = history.execute(h.select("stage").distinct())["stage"].dropna().unique()
        columns = list(h.columns)
    else:
        if not prepared:
            require_columns(history, "opportunity_history", ["opportunity_id", "changed_at", "stage"],
                            "rebuilding the pipeline at a moment")
        seen, columns = history["stage"].dropna().unique(), list(history.columns)
    info = stage_info(stages, seen=seen)
    snap = _at(history, moment, info, [c for c in _STATE_COLUMNS if c in columns])
    snap["age_days"] = days_between(pd.Series(moment, index=snap.index), snap["created_at"])
    snap["days_since_change"] = days_between(pd.Series(moment, index=snap.index), snap["last_change_at"])
    if "close_date" in snap.columns:
        today = moment.tz_localize(None).normalize()
        snap["days_past_due"] = (today - to_dt(snap["close_date"])).dt.days.astype(float)
    without = 0
    if opportunities is not None:
        attrs = (
            opportunities.set_index("opportunity_id")
            if "opportunity_id" in opportunities.columns
            else opportunities
        )
        static = [c for c in attrs.columns if c not in MUTABLE_COLUMNS and c not in snap.columns]
        snap = snap.join(attrs[static], how="left")
        if "created_date" in attrs.columns:
            created = to_dt(attrs["created_date"])
            existed = attrs.index[(created <= moment.tz_localize(None)).to_numpy()]
            without = int((~existed.isin(_history_ids(history))).sum())
    snap.index.name = "opportunity_id"
    snap.attrs.update(as_of=moment, without_history=without)
    return snap


def pipeline_at(data: Any, as_of: Any = None) -> pd.DataFrame:
    """The state of every opportunity at ``as_of`` for a :class:`~salesops.io.SalesData` (or an
    :class:`~salesops.engine.Engine`), with its attributes (segment, team, ...): :func:`snapshot` of
    ``opportunity_history`` when the data has it.

    Without history, the ``opportunities`` table is the state at the export's own as-of moment only, so it
    serves an ``as_of`` at or after ``data.as_of`` (or None); ``last_change_at`` is then unknown.

    Raises
    ------
    MissingDataError
        For an earlier ``as_of`` without ``opportunity_history``.
    """
    if isinstance(data, Engine):
        data = _SmallTables(data)
    attrs = opportunity_attributes(data)
    moment = as_moment(as_of) if as_of is not None else getattr(data, "as_of", None)
    history = getattr(data, "opportunity_history", None)
    if history is not None and moment is not None:
        return snapshot(history, attrs.reset_index(), moment, getattr(data, "stages", None))
    data_as_of = getattr(data, "as_of", None)
    if moment is not None and data_as_of is not None and moment < data_as_of:
        raise MissingDataError(
            "the opportunity_history table",
            f"the pipeline as of {moment:%Y-%m-%d}, before the export was taken ({data_as_of:%Y-%m-%d}),",
        )
    opps = require_table(data, "opportunities", "every pipeline figure")
    info = stage_info(getattr(data, "stages", None), seen=opps["stage"].dropna().unique())
    snap = opps.set_index("opportunity_id").copy()
    snap["is_won"] = snap["stage"].isin(info.won).to_numpy()
    snap["is_closed"] = snap["stage"].isin(info.closed).to_numpy()
    snap["is_open"] = ~snap["is_closed"]
    if moment is None:
        moment = pd.Timestamp.now(tz="UTC")
    created = to_dt(snap["created_date"]).dt.tz_localize("UTC")
    snap["created_at"] = created
    snap["last_change_at"] = pd.Series(pd.NaT, index=snap.index, dtype="datetime64[ns, UTC]")
    snap["age_days"] = days_between(pd.Series(moment, index=snap.index), created)
    snap["days_since_change"] = np.nan
    today = moment.tz_localize(None).normalize()
    snap["days_past_due"] = (today - to_dt(snap["close_date"])).dt.days.astype(float)
    for col in attrs.columns:
        if col not in snap.columns:
            snap[col] = attrs[col]
    snap.attrs.update(as_of=moment, without_history=0)
    return snap
