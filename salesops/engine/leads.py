"""Lead funnel counts in the engine: how many leads reached each stage, matured and converted, per group and period.

A lead's stage moments (:func:`lead_stage_moments`) follow :func:`salesops.funnel.lead_moments`: ``lead`` is
``leads.created_at``, ``mql`` and ``sql`` are ``leads.mql_at`` and ``leads.sql_at``, ``opportunity`` is the
``created_date`` of the lead's opportunity (``leads.opportunity_id``) and ``won`` that opportunity's
``close_date`` when it is won (dates as midnight UTC). Moments after ``as_of`` are not known yet; a lead that
reached a later stage without a recorded earlier one passed the earlier one at the later moment (``won``
fills ``opportunity``, which fills ``sql``, which fills ``mql``).

:func:`lead_funnel_counts` gives, per funnel step (:data:`STEPS`), group and period of entry into the step's
first stage, the counts :func:`salesops.funnel.lead_funnel` turns into rates; :func:`lead_stage_counts` gives the
plain count of leads created, MQLs, SQLs, opportunities and wins per period. Each is one query; only the
aggregate reaches pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ibis
import pandas as pd

from salesops.engine.backend import Engine, EngineError, naive_utc

__all__ = [
    "DEFAULT_WINDOWS",
    "PERIOD_UNITS",
    "STAGES",
    "STAGE_COUNT_COLUMNS",
    "STEPS",
    "lead_funnel_counts",
    "lead_stage_counts",
    "lead_stage_moments",
    "period_labels",
]

#: The lead stages in funnel order.
STAGES: tuple[str, ...] = ("lead", "mql", "sql", "opportunity", "won")
#: The funnel's steps: name -> (from stage, to stage).
STEPS: dict[str, tuple[str, str]] = {
    "lead_to_mql": ("lead", "mql"),
    "mql_to_sql": ("mql", "sql"),
    "sql_to_opportunity": ("sql", "opportunity"),
    "opportunity_to_won": ("opportunity", "won"),
    "lead_to_won": ("lead", "won"),
}
#: Days within which each step counts as converted.
DEFAULT_WINDOWS: dict[str, int] = {
    "lead_to_mql": 30,
    "mql_to_sql": 60,
    "sql_to_opportunity": 30,
    "opportunity_to_won": 180,
    "lead_to_won": 270,
}
#: ``period=`` values and the truncation unit behind each.
PERIOD_UNITS: dict[str, str] = {"month": "M", "quarter": "Q", "year": "Y"}
#: Columns of :func:`lead_stage_counts`, one per stage of :data:`STAGES`.
STAGE_COUNT_COLUMNS: dict[str, str] = {
    "lead": "leads",
    "mql": "mqls",
    "sql": "sqls",
    "opportunity": "opportunities",
    "won": "wins",
}
_PURPOSE = "the lead funnel"


def period_labels(starts: pd.Series, period: str) -> pd.Series:
    """Labels of period starts (naive timestamps): ``2025-03`` (month), ``2025Q1`` (quarter), ``2025`` (year).

    Missing starts give missing labels (object dtype).
    """
    if period not in PERIOD_UNITS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_UNITS)} or None; got {period!r}")
    days = pd.to_datetime(starts)
    if isinstance(days.dtype, pd.DatetimeTZDtype):
        days = days.dt.tz_convert("UTC").dt.tz_localize(None)
    out = pd.Series(None, index=starts.index, dtype=object)
    ok = days.notna()
    if ok.any():
        out[ok] = pd.PeriodIndex(days[ok], freq=PERIOD_UNITS[period]).astype(str)
    return out


def _moment(engine: Engine, as_of: Any) -> pd.Timestamp:
    moment = as_of if as_of is not None else engine.as_of
    if moment is None:
        raise EngineError(f"{engine.source or 'the engine'} has no as-of moment; pass as_of")
    if isinstance(moment, str) and len(moment.strip()) == 10:  # a date alone: the end of that day
        return naive_utc(moment).normalize() + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return naive_utc(moment)


def _null_timestamp() -> Any:
    return ibis.null("timestamp")


def lead_stage_moments(engine: Engine, as_of: Any = None, by: Sequence[str] = ()) -> Any:
    """When each lead reached each stage, as known at ``as_of`` (null: not reached by then), as an Ibis table.

    Parameters
    ----------
    engine : Engine
        Needs ``leads`` (``lead_id``, ``created_at``; ``mql_at``, ``sql_at``, ``opportunity_id`` where
        recorded); ``opportunities`` (``opportunity_id, created_date, close_date, is_won``) for the
        opportunity and won moments; ``accounts.segment`` for ``by="segment"``.
    as_of : moment, optional
        Default the engine's ``as_of``; a date alone means the end of that day.
    by : sequence of str
        Lead attributes carried along: any leads column, or ``segment`` (the lead's account's).

    Returns
    -------
    ibis.Table
        ``lead_id, lead, mql, sql, opportunity, won`` (naive UTC timestamps) and the ``by`` columns.

    Raises
    ------
    EngineError
        Naming the table or column that is missing.
    """
    leads = engine.table("leads", ["lead_id", "created_at"], purpose=_PURPOSE)
    moment = ibis.literal(_moment(engine, as_of).to_pydatetime(), type="timestamp")
    keys = list(by)
    for col in keys:
        if col == "segment":
            engine.table("leads", ["account_id"], purpose="a lead breakdown by segment")
            engine.table("accounts", ["account_id", "segment"], purpose="a lead breakdown by segment")
        else:
            engine.table("leads", [col], purpose=f"a lead breakdown by {col}")

    t = leads
    opp_at = won_at = _null_timestamp()
    if "opportunity_id" in leads.columns and engine.has(
        "opportunities", ["opportunity_id", "created_date", "close_date", "is_won"]
    ):
        o = engine.table("opportunities")
        o = o.select(
            _opp_id=o.opportunity_id.cast("string"),
            _opp_at=o.created_date.cast("timestamp"),
            _won_at=ibis.ifelse(o.is_won.cast("boolean"), o.close_date.cast("timestamp"), _null_timestamp()),
        )
        t = t.left_join(o, t.opportunity_id.cast("string") == o._opp_id)
        opp_at, won_at = t._opp_at, t._won_at
    if "segment" in keys:
        a = engine.table("accounts")
        a = a.select(_acc_id=a.account_id.cast("string"), _acc_segment=a.segment)
        t = t.left_join(a, t.account_id.cast("string") == a._acc_id)

    def known(value: Any) -> Any:  # a moment after as_of is not known yet
        return ibis.ifelse(value <= moment, value, _null_timestamp())

    lead = known(t.created_at.cast("timestamp"))
    mql = known(t.mql_at.cast("timestamp")) if "mql_at" in leads.columns else _null_timestamp()
    sql = known(t.sql_at.cast("timestamp")) if "sql_at" in leads.columns else _null_timestamp()
    won = known(won_at)
    # a later stage implies the earlier ones: reached at the later moment when no earlier one is recorded
    opportunity = ibis.coalesce(known(opp_at), won)
    sql = ibis.coalesce(sql, opportunity)
    mql = ibis.coalesce(mql, sql)
    attrs = {col: (t._acc_segment if col == "segment" else t[col]) for col in keys}
    return t.select(lead_id=t.lead_id, lead=lead, mql=mql, sql=sql, opportunity=opportunity, won=won, **attrs)


def _check_period(period: str | None) -> None:
    if period is not None and period not in PERIOD_UNITS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_UNITS)} or None; got {period!r}")


def _keys(by: str | Iterable[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _whole_days(step: str, days: Any) -> int:
    value = float(days)
    if not value.is_integer() or value < 0:
        raise ValueError(f"the window of step {step} must be a whole number of days >= 0; got {days!r}")
    return int(value)


def lead_funnel_counts(
    engine: Engine,
    by: str | Sequence[str] | None = (),
    period: str | None = "quarter",
    as_of: Any = None,
    windows: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    r"""Leads that reached, matured in and converted through each funnel step, by group and period.

    For step :math:`k \to k'` with window :math:`w` days (:data:`STEPS`, :data:`DEFAULT_WINDOWS`) and the
    stage moments :math:`t_k` of :func:`lead_stage_moments`, per group and period of :math:`t_k`:

    .. math::

        \text{reached} = \#\{t_k \text{ known}\}, \quad
        \text{mature} = \#\{t_k + w \le \text{as\_of}\}, \quad
        \text{converted} = \#\{t_k + w \le \text{as\_of},\ t_{k'} \le t_k + w\}.

    A step is left out (and named in ``.attrs["missing_steps"]``) when no lead reached its first stage or
    none its second. One query (the leads crossed with the five steps, grouped); only the aggregate comes
    back.

    Parameters
    ----------
    engine : Engine
        See :func:`lead_stage_moments`.
    by : str or sequence of str, optional
        ``source``, ``campaign_id``, ``persona``, any leads column, or ``segment`` (through accounts).
    period : {"month", "quarter", "year"} or None
        Period of :math:`t_k`.
    as_of : moment, optional
        Default the engine's ``as_of``.
    windows : mapping, optional
        Whole days per step, overriding :data:`DEFAULT_WINDOWS`.

    Returns
    -------
    DataFrame
        ``[by...,] [period,] step, reached, mature, converted, window_days``, sorted by the group, the period
        and the step's place in the funnel; missing group values read ``(none)``. ``.attrs``: ``as_of``
        (tz-aware UTC), ``missing_steps``, ``windows``.
    """
    keys = _keys(by)
    _check_period(period)
    unknown = sorted(set(windows or {}) - set(STEPS))
    if unknown:
        raise ValueError(f"windows names unknown step(s) {unknown}; the steps are {list(STEPS)}")
    win = {s: _whole_days(s, w) for s, w in {**DEFAULT_WINDOWS, **(windows or {})}.items()}
    moment = _moment(engine, as_of)
    m = lead_stage_moments(engine, moment, keys)
    steps = ibis.memtable(pd.DataFrame({"_step_no": range(len(STEPS))}))
    x = m.cross_join(steps)
    names = list(STEPS)

    def per_step(values: dict[str, Any]) -> Any:
        return ibis.cases(*[(x._step_no == i, values[s]) for i, s in enumerate(names)])

    ta = per_step({s: x[a] for s, (a, _) in STEPS.items()})
    tb = per_step({s: x[b] for s, (_, b) in STEPS.items()})
    deadline = per_step({s: x[a] + ibis.interval(days=win[s]) for s, (a, _) in STEPS.items()})
    x = x.mutate(_ta=ta, _tb=tb, _deadline=deadline)
    mature = x._deadline <= ibis.literal(moment.to_pydatetime(), type="timestamp")
    groups = {k: x[k] for k in keys}
    if period is not None:
        groups["_period"] = x._ta.truncate(PERIOD_UNITS[period])
    groups["_step_no"] = x._step_no
    agg = x.group_by(**groups).aggregate(
        reached=x._ta.count(),
        mature=x._ta.count(where=mature),
        converted=x._ta.count(where=mature & (x._tb <= x._deadline)),
        _to_stage=x._tb.count(),
    )
    frame = engine.execute(agg.order_by(list(groups)))
    # a step is measurable when some lead reached its first stage and some lead its second
    to_stage = frame.groupby("_step_no")["_to_stage"].sum()
    reached = frame.groupby("_step_no")["reached"].sum()
    present = [i for i in range(len(names)) if to_stage.get(i, 0) > 0 and reached.get(i, 0) > 0]
    frame = frame[frame["_step_no"].isin(present) & frame["reached"].gt(0)].copy()
    for k in keys:
        frame[k] = frame[k].astype(object).where(frame[k].notna(), "(none)")
    cols = list(keys)
    if period is not None:
        frame["period"] = period_labels(frame["_period"], period).to_numpy()
        cols.append("period")
    frame["step"] = [names[i] for i in frame["_step_no"]]
    frame["window_days"] = [win[names[i]] for i in frame["_step_no"]]
    for c in ("reached", "mature", "converted"):
        frame[c] = frame[c].astype("int64")
    frame = frame.sort_values([*cols, "_step_no"], kind="stable").reset_index(drop=True)
    out = frame[[*cols, "step", "reached", "mature", "converted", "window_days"]]
    out.attrs.update(
        as_of=moment.tz_localize("UTC"),
        missing_steps=[s for i, s in enumerate(names) if i not in present],
        windows=win,
    )
    return out


def lead_stage_counts(
    engine: Engine, period: str | None = "month", by: str | Sequence[str] | None = (), as_of: Any = None
) -> pd.DataFrame:
    r"""Leads created, MQLs, SQLs, opportunities and wins per period (and group): the plain lead funnel counts.

    With the stage moments :math:`t_{l,s}` of :func:`lead_stage_moments` (known by ``as_of``, later stages
    implying earlier ones), for stage :math:`s` and period :math:`p`:

    .. math::

        n_{s,p} = \#\{l : t_{l,s} \in p\}

    (``leads`` counts creations, ``mqls`` leads becoming MQLs in the period, and so on). One query.

    Parameters
    ----------
    engine : Engine
        See :func:`lead_stage_moments`.
    period : {"month", "quarter", "year"} or None
        Period of each stage's moment (None: totals).
    by : str or sequence of str, optional
        Lead attributes (``source``, ``segment``...).
    as_of : moment, optional
        Default the engine's ``as_of``.

    Returns
    -------
    DataFrame
        ``[by...,] [period,] leads, mqls, sqls, opportunities, wins`` (int), one row per group and period in
        which something happened, sorted; missing group values read ``(none)``.
    """
    keys = _keys(by)
    _check_period(period)
    moment = _moment(engine, as_of)
    m = lead_stage_moments(engine, moment, keys)
    stages = ibis.memtable(pd.DataFrame({"_stage_no": range(len(STAGES))}))
    x = m.cross_join(stages)
    at = ibis.cases(*[(x._stage_no == i, x[s]) for i, s in enumerate(STAGES)])
    x = x.mutate(_at=at).filter(lambda t: t._at.notnull())
    groups = {k: x[k] for k in keys}
    if period is not None:
        groups["_period"] = x._at.truncate(PERIOD_UNITS[period])
    groups["_stage_no"] = x._stage_no
    frame = engine.execute(x.group_by(**groups).aggregate(n=x.count()).order_by(list(groups)))
    index = list(keys)
    for k in keys:
        frame[k] = frame[k].astype(object).where(frame[k].notna(), "(none)")
    if period is not None:
        frame["period"] = period_labels(frame["_period"], period).to_numpy()
        index.append("period")
    frame["_stage"] = [STAGE_COUNT_COLUMNS[STAGES[i]] for i in frame["_stage_no"]]
    columns = list(STAGE_COUNT_COLUMNS.values())
    if not index:
        counts = frame.groupby("_stage")["n"].sum().reindex(columns, fill_value=0)
        out = pd.DataFrame([counts.to_numpy()], columns=columns)
    else:
        out = (
            frame.pivot_table(index=index, columns="_stage", values="n", aggfunc="sum", fill_value=0)
            .reindex(columns=columns, fill_value=0)
            .reset_index()
        )
        out.columns.name = None
        out = out.sort_values(index, kind="stable").reset_index(drop=True)
    for c in columns:
        out[c] = out[c].astype("int64")
    out.attrs["as_of"] = moment.tz_localize("UTC")
    return out
