"""The KPI set as engine aggregations: what a sales organisation's KPI page needs from the big tables.

:func:`kpi_set` runs, on one :class:`~salesops.engine.Engine`, every heavy aggregation behind the KPI page
and returns the small frames (one row per group) that the statistics in :mod:`salesops.kpi` work on:

* ``activity``: activities per rep, type and month (:func:`salesops.engine.activity.activity_counts`);
* ``pipeline``: open pipeline, won and lost per quarter end and stage
  (:func:`salesops.engine.snapshots.pipeline_totals`);
* ``lead_funnel``: leads created, MQLs, SQLs, opportunities and wins per month
  (:func:`salesops.engine.leads.lead_stage_counts`);
* ``win_rate`` and ``sales_cycle``: win rate and median sales cycle per segment of the closed opportunities
  (:func:`win_rates`, :func:`sales_cycles`, here);
* ``revenue_cohorts``: logo retention by quarterly start cohort and months since start
  (:func:`salesops.engine.cohorts.revenue_cohorts`), when the data have a revenue table.

Every frame comes back sorted by its keys, so two engines' results compare row by row.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from salesops.engine.activity import activity_counts
from salesops.engine.backend import Engine, EngineError, naive_utc
from salesops.engine.cohorts import revenue_cohorts
from salesops.engine.leads import lead_stage_counts
from salesops.engine.snapshots import pipeline_totals

__all__ = ["SEGMENT_UNKNOWN", "closed_opportunities", "kpi_set", "quarter_ends", "sales_cycles", "win_rates"]

#: Segment of a deal whose account and owner carry none (kept and counted, never dropped).
SEGMENT_UNKNOWN = "(unknown)"
_SECONDS_PER_DAY = 86_400


def _as_of_day(engine: Engine, as_of: Any) -> pd.Timestamp:
    moment = as_of if as_of is not None else engine.as_of
    if moment is None:
        raise EngineError(f"{engine.source or 'the engine'} has no as-of moment; pass as_of")
    return naive_utc(moment).normalize()


def _lookup(engine: Engine, table: str, key: str, column: str):
    """``key -> column`` of a small table, one row per key (the smallest value where a key repeats), or None."""
    if not engine.has(table, [key, column]):
        return None
    t = engine.table(table, [key, column])
    return t.group_by(t[key].name(f"_{table}_key")).aggregate(**{f"_{table}_{column}": t[column].min()})


def closed_opportunities(engine: Engine, as_of: Any = None):
    """The opportunities closed by the end of day ``as_of`` (default the engine's), with their segment.

    ``segment`` is the account's (``accounts.segment`` through ``account_id``), else the owner's
    (``reps.segment`` through ``owner_rep_id``), else ``"(unknown)"``. A deal created after ``as_of`` is
    unknown then; a deal closed after it was still open then; both are left out, as in
    :func:`salesops.kpi.win_rates` with ``as_of``.

    Returns
    -------
    ibis.Table
        ``opportunity_id, segment, is_won (bool), amount, days`` with
        ``days = close_date - created_date`` in whole days.
    """
    cols = ["opportunity_id", "account_id", "owner_rep_id", "created_date", "close_date", "is_closed",
            "is_won", "amount"]
    o = engine.table("opportunities", cols, purpose="win rate and sales cycle per segment")
    day = ibis.literal(_as_of_day(engine, as_of).date())
    close = o.close_date.cast("date")
    created = o.created_date.cast("date")
    o = o.filter(o.is_closed.cast("boolean"), close <= day, created <= day)
    o = o.mutate(
        _close=close.cast("timestamp").epoch_seconds(),
        _created=created.cast("timestamp").epoch_seconds(),
    )
    segment = ibis.null("string")
    accounts = _lookup(engine, "accounts", "account_id", "segment")
    if accounts is not None:
        o = o.left_join(accounts, o.account_id == accounts._accounts_key)
        segment = o._accounts_segment
    reps = _lookup(engine, "reps", "rep_id", "segment")
    if reps is not None:
        o = o.left_join(reps, o.owner_rep_id == reps._reps_key)
        segment = segment.coalesce(o._reps_segment)
    return o.select(
        "opportunity_id",
        segment=segment.coalesce(ibis.literal(SEGMENT_UNKNOWN)),
        is_won=o.is_won.cast("boolean"),
        amount=o.amount.cast("float64"),
        days=((o._close - o._created) / _SECONDS_PER_DAY).round().cast("int64"),
    )


def win_rates(engine: Engine, as_of: Any = None) -> pd.DataFrame:
    r"""Win rate by count and by value per segment, over the deals closed by ``as_of``.

    .. math::

        \text{win\_rate}_s = \frac{\#\{\text{won}\}}{\#\{\text{closed}\}}, \qquad
        \text{value\_win\_rate}_s = \frac{\sum_{\text{won}} \text{amount}}{\sum_{\text{closed}} \text{amount}}

    Parameters
    ----------
    engine : Engine
        Needs ``opportunities``; ``accounts`` and/or ``reps`` for the segment (see :func:`closed_opportunities`).
    as_of : moment, optional
        Default the engine's ``as_of``.

    Returns
    -------
    DataFrame
        One row per segment, sorted: ``segment, closed, won, win_rate, closed_value, won_value, value_win_rate``.
    """
    c = closed_opportunities(engine, as_of)
    agg = c.group_by("segment").aggregate(
        closed=c.count(),
        won=c.is_won.cast("int64").sum(),
        closed_value=c.amount.sum(),
        won_value=c.amount.sum(where=c.is_won),
    )
    frame = engine.execute(agg.order_by("segment"))
    frame["won_value"] = frame["won_value"].fillna(0.0)
    frame["win_rate"] = frame["won"] / frame["closed"]
    frame["value_win_rate"] = frame["won_value"] / frame["closed_value"]
    return frame[["segment", "closed", "won", "win_rate", "closed_value", "won_value", "value_win_rate"]]


def sales_cycles(engine: Engine, as_of: Any = None) -> pd.DataFrame:
    r"""Median sales cycle per segment of the deals closed by ``as_of``, all closed and won only.

    .. math::

        \text{days}_i = \text{close\_date}_i - \text{created\_date}_i, \qquad
        \text{median\_days}_s = \operatorname{median}_{i \in s,\ \text{closed}} \text{days}_i, \qquad
        \text{median\_won\_days}_s = \operatorname{median}_{i \in s,\ \text{won}} \text{days}_i

    (the median of an even count is the mean of the two middle values). This is the closed-deal median,
    which ignores open deals; :func:`salesops.kpi.sales_cycle` gives the survival-analysis cycle.

    Returns
    -------
    DataFrame
        One row per segment, sorted: ``segment, closed, median_days, won, median_won_days``
        (``median_won_days`` is NaN for a segment without a win).
    """
    c = closed_opportunities(engine, as_of)
    days = c.days.cast("float64")
    # not ``median(where=...)``: Ibis compiles it for Spark as percentile(if(w, x), if(w, 0.5)), which Spark
    # rejects (the percentage must be a constant); a median ignores nulls, so null out the lost deals instead
    won_days = ibis.ifelse(c.is_won, days, ibis.null("float64"))
    agg = c.group_by("segment").aggregate(
        closed=c.count(),
        median_days=days.median(),
        won=c.is_won.cast("int64").sum(),
        median_won_days=won_days.median(),
    )
    frame = engine.execute(agg.order_by("segment"))
    return frame[["segment", "closed", "median_days", "won", "median_won_days"]]


def quarter_ends(engine: Engine, as_of: Any = None, count: int = 12) -> list[pd.Timestamp]:
    """The last ``count`` quarter ends up to ``as_of`` (each the last microsecond of its quarter, naive UTC).

    A quarter whose end is after ``as_of`` is not yet over and is left out, except that ``as_of`` itself
    counts when it is the last moment of a quarter (the sample's as-of is 2025-12-31 23:59:59.999999).
    """
    moment = naive_utc(as_of if as_of is not None else engine.as_of)
    end = (moment + pd.Timedelta(microseconds=1)).to_period("Q").start_time - pd.Timedelta(microseconds=1)
    ends = pd.period_range(end=end.to_period("Q"), periods=count, freq="Q")
    return [p.end_time.floor("us") for p in ends]


def kpi_set(engine: Engine, as_of: Any = None) -> dict[str, pd.DataFrame]:
    """Every heavy aggregation of the KPI page on ``engine``, as of ``as_of`` (default the engine's).

    Returns
    -------
    dict of str to DataFrame
        ``activity`` (up to the day of ``as_of``), ``pipeline`` (at the 12 quarter ends up to ``as_of``), ``lead_funnel``, ``win_rate``,
        ``sales_cycle`` and, when the engine has a revenue table, ``revenue_cohorts`` (see the module
        docstring). A table the data lack raises :class:`~salesops.engine.EngineError` naming it, except
        ``revenue`` which is optional.
    """
    out = {
        "activity": activity_counts(engine, ["rep_id", "type"], "month", end=as_of),
        "pipeline": pipeline_totals(engine, quarter_ends(engine, as_of)),
        "lead_funnel": lead_stage_counts(engine, "month", as_of=as_of),
        "win_rate": win_rates(engine, as_of),
        "sales_cycle": sales_cycles(engine, as_of),
    }
    if engine.has("revenue"):
        out["revenue_cohorts"] = revenue_cohorts(engine, "quarter", end=as_of)
    return out
