"""Stage history on the engine: the state of every deal at any moment, stage changes, pipeline totals.

``opportunity_history`` holds one row per change. Everything point-in-time is read from it in two steps:

1. **per history row, once** (window functions per opportunity, ordered by ``changed_at`` and file order
   ``_row`` when present, else ``stage``): the state *after* the row — blanks in ``amount``, ``close_date``
   and ``forecast_category`` keep the previous value —, whether the row enters a new stage, whether it
   pushed the close date later, the running counts (changes, pushes), and ``_next_at``, the time of the
   deal's next row: the row's state holds on ``[changed_at, _next_at)``;
2. **per moment**: a cross join with a small table of moments keeps, for each moment ``t``, the one row of
   each deal with ``changed_at <= t < _next_at`` (a range join; rows tied in ``changed_at`` hold for an
   empty interval except the last of the file).

Only the per-deal states (sample-sized) reach pandas here; the aggregates over them (pipeline totals,
recent activity counts) are in :mod:`salesops.engine.snapshots`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from salesops.engine.backend import ROW_ORDER, Engine, naive_utc
from salesops.periods import as_moment

__all__ = [
    "CACHED_ROWS", "STATE_COLUMNS", "cache_history_rows", "deal_states", "history_engine", "history_rows",
    "stage_changes", "to_moments",
]

#: Columns of :func:`deal_states`, in order.
STATE_COLUMNS = (
    "as_of", "opportunity_id", "stage", "amount", "close_date", "forecast_category", "created_at",
    "last_change_at", "stage_entered_at", "pushes", "first_amount", "changes",
)
_VALUES = ("amount", "close_date", "forecast_category")
_VALUE_TYPES = {"amount": "float64", "close_date": "date", "forecast_category": "string"}
_moment_ids = itertools.count()


def to_moments(moments: Any) -> list[pd.Timestamp]:
    """Moments as tz-aware UTC Timestamps, in the order given, duplicates removed.

    A date alone (``"2025-06-30"``, a :class:`datetime.date`) means the end of that day (the rule of
    :func:`salesops.load` and the funnel's ``as_moment``); a naive timestamp is read as UTC. One moment may be
    given alone.
    """
    if isinstance(moments, str | pd.Timestamp) or not isinstance(moments, Iterable):
        moments = [moments]
    out: list[pd.Timestamp] = []
    for m in moments:
        t = as_moment(m).as_unit("ns")
        if t not in out:
            out.append(t)
    if not out:
        raise ValueError("at least one moment (as-of) is needed, e.g. '2025-12-31'")
    return out


def history_engine(history: pd.DataFrame) -> Engine:
    """An engine over one ``opportunity_history`` frame (embedded DuckDB, the frame scanned in place; the
    frame's row order is the file order ``_row`` that breaks ties in ``changed_at``)."""
    from types import SimpleNamespace

    holder = SimpleNamespace(tables={"opportunity_history": history}, as_of=None, source="an opportunity_history frame")
    return Engine.from_data(holder)


def _order_keys(h: Any) -> list[Any]:
    return [h.changed_at, h[ROW_ORDER]] if ROW_ORDER in h.columns else [h.changed_at, h.stage]


def _blank_columns(engine: Engine, h: Any) -> list[str]:
    """The value columns of the history with at least one blank (one aggregate query)."""
    present = [c for c in _VALUES if c in engine.tables["opportunity_history"].columns]
    if not present:
        return []
    row = engine.execute(h.aggregate(_n=h.count(), **{c: h[c].count() for c in present})).iloc[0]
    return [c for c in present if int(row[c]) < int(row["_n"])]


def history_rows(engine: Engine) -> Any:
    """The history with each row's state after it (Ibis table, one row per history row).

    Columns: ``opportunity_id, changed_at, stage, amount, close_date, forecast_category`` (blanks filled with
    the deal's previous value), ``created_at`` (the deal's first row), ``stage_entered_at`` (the latest row
    at or before this one that entered a new stage: first row, or a stage different from the previous
    row's), ``pushes`` (rows so far whose filled close date is later than the previous row's),
    ``first_amount`` (the first amount logged, once logged), ``changes`` (rows so far), ``_next_at`` (the
    deal's next row's time, null for its last row). Columns the history lacks come back null.
    """
    import ibis

    h = engine.table("opportunity_history", ["opportunity_id", "changed_at", "stage"],
                     purpose="point-in-time deal states")
    blanks = _blank_columns(engine, h)
    fill = {c: (h[c] if c in h.columns else ibis.null(_VALUE_TYPES[c])).cast(_VALUE_TYPES[c]) for c in _VALUES}
    h = h.mutate(**fill)
    order = _order_keys(h)
    deal = ibis.window(group_by=h.opportunity_id, order_by=order)
    upto = ibis.window(group_by=h.opportunity_id, order_by=order, rows=(None, 0))
    first: dict[str, Any] = {}
    if "amount" not in blanks:
        first["first_amount"] = h.amount.first().over(upto)
    if "close_date" not in blanks:
        first["_prev_close"] = h.close_date.lag().over(deal)
    # one pass (one partition and order): row number, neighbours, running counts of values
    s = h.mutate(
        _seq=ibis.row_number().over(deal),
        _prev_stage=h.stage.lag().over(deal),
        _next_at=h.changed_at.lead().over(deal),
        created_at=h.changed_at.min().over(upto),
        **{f"_n_{c}": h[c].count().over(upto) for c in blanks},
        **first,
    ).view()  # a boundary: the next windows read these columns, and windows cannot nest
    if blanks:
        # a blank keeps the previous value: each value opens a run of rows (same running count of values)
        filled = {c: s[c].max().over(ibis.window(group_by=[s.opportunity_id, s[f"_n_{c}"]])) for c in blanks}
        if "amount" in blanks:
            logged = ibis.ifelse(s._n_amount == 1, s.amount, ibis.null("float64")).max().over(
                ibis.window(group_by=s.opportunity_id))
            filled["first_amount"] = ibis.ifelse(s._n_amount >= 1, logged, ibis.null("float64"))
        s = s.mutate(**filled).view()
        if "close_date" in blanks:
            deal = ibis.window(group_by=s.opportunity_id, order_by=_order_keys(s))
            s = s.mutate(_prev_close=s.close_date.lag().over(deal)).view()
    new_stage = s._prev_stage.isnull() | (s.stage != s._prev_stage)
    pushed = (s.close_date > s._prev_close).fill_null(False)
    upto = ibis.window(group_by=s.opportunity_id, order_by=_order_keys(s), rows=(None, 0))
    s = s.mutate(
        stage_entered_at=ibis.ifelse(new_stage, s.changed_at, ibis.null("timestamp")).max().over(upto),
        pushes=pushed.cast("int64").sum().over(upto),
        changes=s._seq + 1,
    )
    return s.select(
        "opportunity_id", "changed_at", "stage", *_VALUES, "created_at", "stage_entered_at", "pushes",
        "first_amount", "changes", "_next_at",
    )


#: Name under which :func:`cache_history_rows` keeps the materialised :func:`history_rows` in an engine.
CACHED_ROWS = "_history_rows"


def cache_history_rows(engine: Engine) -> Engine:
    """Compute :func:`history_rows` once and keep it as a table of the engine's backend (a temporary table
    on DuckDB), so that :func:`deal_states` and :func:`pipeline_totals` called moment after moment skip the
    window functions. For an engine whose history will not change (the caller owns it); returns it."""
    if CACHED_ROWS not in engine.tables:
        name = f"_salesops_history_rows_{next(_moment_ids)}"
        rows = history_rows(engine)
        temp = engine.backend_name == "duckdb"
        engine.tables[CACHED_ROWS] = engine.con.create_table(name, rows, temp=temp or None, overwrite=True)
    return engine


def _rows(engine: Engine) -> Any:
    return engine.tables[CACHED_ROWS] if CACHED_ROWS in engine.tables else history_rows(engine)


def _moments_table(engine: Engine, moments: Sequence[pd.Timestamp], before: pd.Timedelta | None = None) -> Any:
    """A tiny table ``_m`` (position), ``_t`` (naive UTC moment) and, with ``before``, ``_start`` = ``_t`` -
    ``before``, in the engine's own backend."""
    import ibis

    t = pd.to_datetime([naive_utc(m) for m in moments]).astype("datetime64[us]")
    frame = pd.DataFrame({"_m": range(len(moments)), "_t": t})
    if before is not None:
        frame["_start"] = t - before
    if engine.backend_name == "duckdb":
        return ibis.memtable(frame)
    name = f"_salesops_moments_{next(_moment_ids)}"
    engine.__dict__.setdefault("_moment_tables", []).append(name)
    # a temporary view over the uploaded frame: nothing is written to the backend's storage
    return engine.con.create_view(name, ibis.memtable(frame), overwrite=True)


def _execute(engine: Engine, expr: Any, utc: Sequence[str] = ()) -> Any:
    """:meth:`Engine.execute`, then drop the moments views created for it in a backend other than DuckDB."""
    try:
        return engine.execute(expr, utc=utc)
    finally:
        pending = engine.__dict__.pop("_moment_tables", [])
        for name in pending:
            engine.con.drop_view(name, force=True)


def _states_at(engine: Engine, moments: Sequence[pd.Timestamp]) -> Any:
    """Each deal's history row in force at each moment: ``changed_at <= t < _next_at``."""
    rows = _rows(engine)
    m = _moments_table(engine, moments)
    j = rows.cross_join(m)
    return j.filter(j.changed_at <= j._t, j._next_at.isnull() | (j._next_at > j._t))


def deal_states(engine: Engine, moments: Any) -> pd.DataFrame:
    r"""The state of every deal at each moment, from its history rows changed at or before the moment.

    For a moment :math:`t` and an opportunity :math:`o` with at least one history row :math:`r` with
    :math:`t_r \le t` (rows ordered by ``changed_at``, ties by file order ``_row`` when present, else by
    ``stage``):

    * ``stage`` = the stage of :math:`o`'s latest such row; ``amount``, ``close_date``,
      ``forecast_category`` = the value of the latest such row *that has one* (a blank keeps the previous
      value, as :func:`salesops.funnel.snapshot.prepare_history`);
    * ``created_at`` = :math:`\min t_r` (first row); ``last_change_at`` = :math:`\max_{t_r \le t} t_r`;
    * ``stage_entered_at`` = the time of the latest row at or before :math:`t` whose stage differs from the
      previous row's (or the first row): when the current uninterrupted stay in the stage began;
    * ``pushes`` = :math:`\#\{r : t_r \le t,\ c_r > c_{r-1}\}` with :math:`c` the (filled) close date;
    * ``first_amount`` = the first amount logged; ``changes`` = :math:`\#\{r : t_r \le t\}`.

    One query for every moment (window features once per history row, then a range join with the moments).

    Parameters
    ----------
    engine : Engine
        Needs ``opportunity_history`` (``opportunity_id, changed_at, stage``; ``amount, close_date,
        forecast_category`` optional: missing ones come back empty).
    moments : moment or sequence of moments
        Tz-aware timestamps, naive ones (read as UTC) or dates (the end of that day).

    Returns
    -------
    DataFrame
        :data:`STATE_COLUMNS`, sorted by ``(as_of, opportunity_id)``; ``as_of`` and the ``*_at`` columns
        tz-aware UTC, ``close_date`` naive ``datetime64[ns]`` (a date).
    """
    ts = to_moments(moments)
    j = _states_at(engine, ts)
    expr = j.select(
        "_m", "opportunity_id", "stage", *_VALUES, "created_at", last_change_at=j.changed_at,
        stage_entered_at=j.stage_entered_at, pushes=j.pushes, first_amount=j.first_amount, changes=j.changes,
    ).order_by(["_m", "opportunity_id"])
    out = _execute(engine, expr, utc=["created_at", "last_change_at", "stage_entered_at"])
    out["as_of"] = pd.Series(ts, dtype="datetime64[ns, UTC]").to_numpy()[out["_m"].to_numpy(int)]
    out["as_of"] = pd.to_datetime(out["as_of"], utc=True)
    out["close_date"] = pd.to_datetime(out["close_date"]).astype("datetime64[ns]")
    out["amount"] = out["amount"].astype(float)
    out["first_amount"] = out["first_amount"].astype(float)
    out["forecast_category"] = out["forecast_category"].astype(object).where(out["forecast_category"].notna(), None)
    for col in ("pushes", "changes"):
        out[col] = out[col].astype("int64")
    for col in ("created_at", "last_change_at", "stage_entered_at"):
        out[col] = out[col].astype("datetime64[ns, UTC]")
    out = out.sort_values(["_m", "opportunity_id"], kind="stable").reset_index(drop=True)
    return out[list(STATE_COLUMNS)]


def stage_changes(engine: Engine, as_of: Any = None) -> pd.DataFrame:
    """The history rows where the stage changes (each opportunity's first row included), with the next one.

    A row is a stage change when it is the deal's first row or its stage differs from the previous row's
    (rows ordered as in :func:`deal_states`); ``next_stage`` / ``next_changed_at`` are the deal's next stage
    change (null for its last). With ``as_of``, only rows changed at or before it are read (the next change
    is then also at or before it). These are the spells of :func:`salesops.funnel.stages.stage_spells`
    before their classification: a stay in ``stage`` from ``changed_at`` to ``next_changed_at``.

    Returns
    -------
    DataFrame
        ``opportunity_id, changed_at, stage, next_stage, next_changed_at``, in history order (by
        opportunity, then time); times tz-aware UTC.
    """
    import ibis

    h = engine.table("opportunity_history", ["opportunity_id", "changed_at", "stage"], purpose="stage changes")
    if as_of is not None:
        h = h.filter(h.changed_at <= naive_utc(to_moments(as_of)[0]))
    tie = ROW_ORDER if ROW_ORDER in h.columns else "stage"
    h = h.select("opportunity_id", "changed_at", "stage", _tie=h[tie])
    deal = ibis.window(group_by=h.opportunity_id, order_by=[h.changed_at, h._tie])
    h = h.mutate(_prev=h.stage.lag().over(deal))
    ev = h.filter(h._prev.isnull() | (h.stage != h._prev)).drop("_prev")
    deal = ibis.window(group_by=ev.opportunity_id, order_by=[ev.changed_at, ev._tie])
    ev = ev.mutate(next_stage=ev.stage.lead().over(deal), next_changed_at=ev.changed_at.lead().over(deal))
    expr = ev.order_by(["opportunity_id", "changed_at", "_tie"])
    out = engine.execute(expr, utc=["changed_at", "next_changed_at"])
    out = out.sort_values(["opportunity_id", "changed_at", "_tie"], kind="stable").reset_index(drop=True)
    out["next_changed_at"] = out["next_changed_at"].astype("datetime64[ns, UTC]")
    out["changed_at"] = out["changed_at"].astype("datetime64[ns, UTC]")
    out["next_stage"] = out["next_stage"].astype(object).where(out["next_stage"].notna(), None)
    return out[["opportunity_id", "changed_at", "stage", "next_stage", "next_changed_at"]]
