"""Snapshot builds on the engine: pipeline totals per moment and group, recent activity per deal.

Both read many moments in one query: the deal states of :mod:`salesops.engine.history` (a range join of
the per-row history with a small table of moments), then a group-by; only the small aggregate reaches
pandas. :func:`pipeline_totals` is the snapshot build the big-data benchmark times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from salesops.engine.backend import Engine, EngineError
from salesops.engine.history import _execute, _moments_table, _states_at, to_moments

__all__ = ["pipeline_totals", "recent_activity_counts"]

_STATIC = ("type", "source", "owner_rep_id", "account_id")
_NONE = "(none)"


def _stage_sets(engine: Engine) -> tuple[list[str], list[str], list[str]]:
    """Open, won and lost stage names from the engine's ``stages`` table (default ``templates/stages.yaml``)."""
    if engine.has("stages", ["stage", "is_closed", "is_won"]):
        stages = engine.to_pandas("stages")
    else:
        from salesops.paths import templates_dir
        from salesops.safe_yaml import load_yaml

        stages = pd.DataFrame(load_yaml(templates_dir() / "stages.yaml")["stages"])
    if "order" in stages.columns:
        stages = stages.sort_values("order", kind="stable")
    closed, won = stages["is_closed"].astype(bool), stages["is_won"].astype(bool)
    names = stages["stage"].astype(str)
    return list(names[~closed]), list(names[closed & won]), list(names[closed & ~won])


def pipeline_totals(engine: Engine, moments: Any, by: Sequence[str] = ("stage",)) -> pd.DataFrame:
    r"""The pipeline at each moment, per group: open deals and amount, deals won and lost so far.

    With the deal states :math:`s_o(t)` of :func:`deal_states`, per moment :math:`t` and group :math:`g`:

    * ``open_deals`` = :math:`\#\{o \in g : s_o(t) \text{ open}\}`, ``open_amount`` = :math:`\sum` of their
      amounts;
    * ``won_deals`` / ``won_amount`` (``lost_deals`` / ``lost_amount``) = the same over deals whose stage at
      :math:`t` is a won (lost) stage: closed at or before :math:`t` and not reopened since;
    * ``deals`` = every deal with a history row at or before :math:`t`.

    One query (the range join of :func:`deal_states`, then a group-by); only this frame reaches pandas.

    Parameters
    ----------
    engine : Engine
        ``opportunity_history``; ``stages`` (default ``templates/stages.yaml``); ``opportunities`` for
        ``type``, ``source``, ``owner_rep_id``, ``account_id``; ``accounts`` (else ``reps``) for ``segment``.
    moments : moment or sequence of moments
        As :func:`deal_states`.
    by : sequence of str
        Group columns among ``stage``, ``forecast_category``, ``type``, ``source``, ``owner_rep_id``,
        ``account_id``, ``segment``; a missing value is the group ``"(none)"``.

    Returns
    -------
    DataFrame
        ``as_of, *by, deals, open_deals, open_amount, won_deals, won_amount, lost_deals, lost_amount``,
        sorted by ``(as_of, *by)``.

    Raises
    ------
    EngineError
        Naming a ``by`` column that cannot be had, or a history stage not in the stage table.
    """
    by = [by] if isinstance(by, str) else list(by)
    ts = to_moments(moments)
    j = _states_at(engine, ts)
    static = [c for c in by if c in (*_STATIC, "segment")]
    bad = [c for c in by if c not in (*static, "stage", "forecast_category")]
    if bad:
        raise EngineError(f"pipeline totals cannot be grouped by {bad}; choose among stage, forecast_category, "
                          f"{', '.join(_STATIC)}, segment")
    if static:
        need = [c for c in static if c != "segment"] + (["account_id"] if "segment" in static else [])
        opps = engine.table("opportunities", ["opportunity_id", *dict.fromkeys(need)],
                            purpose=f"pipeline totals by {', '.join(static)}")
        attrs = opps.select("opportunity_id", *[c for c in static if c != "segment" and c != "account_id"],
                            **({"account_id": opps.account_id} if "account_id" in need else {}))
        if "segment" in static:
            attrs = _with_segment(engine, attrs, opps)
        j = j.left_join(attrs, j.opportunity_id == attrs.opportunity_id).select(
            *[c for c in j.columns], *[c for c in static if c not in j.columns])
    open_, won, lost = _stage_sets(engine)
    is_open, is_won, is_lost = j.stage.isin(open_), j.stage.isin(won), j.stage.isin(lost)
    keys = {c: j[c].cast("string").fill_null(_NONE) if c != "stage" else j[c] for c in by}
    expr = j.group_by(_m=j._m, **keys).aggregate(
        deals=j.count(),
        open_deals=j.count(where=is_open),
        open_amount=j.amount.sum(where=is_open),
        won_deals=j.count(where=is_won),
        won_amount=j.amount.sum(where=is_won),
        lost_deals=j.count(where=is_lost),
        lost_amount=j.amount.sum(where=is_lost),
        _unknown=j.count(where=~(is_open | is_won | is_lost)),
    ).order_by(["_m", *by])
    out = _execute(engine, expr)
    if out["_unknown"].sum():
        known = set(open_) | set(won) | set(lost)
        h = engine.table("opportunity_history")
        names = engine.execute(h.select("stage").distinct())["stage"]
        unknown = sorted(str(s) for s in names if s not in known)
        raise EngineError(f"opportunity_history.stage has stage(s) {unknown} that the stages table does not define "
                          f"({', '.join([*open_, *won, *lost])})")
    out.insert(0, "as_of", pd.to_datetime(pd.Series(ts, dtype="datetime64[ns, UTC]").to_numpy()[out["_m"].to_numpy(int)],
                                          utc=True))
    for col in ("open_amount", "won_amount", "lost_amount"):
        out[col] = out[col].astype(float).fillna(0.0)
    for col in ("deals", "open_deals", "won_deals", "lost_deals"):
        out[col] = out[col].astype("int64")
    out = out.sort_values(["_m", *by], kind="stable").reset_index(drop=True)
    return out.drop(columns=["_m", "_unknown"])


def _with_segment(engine: Engine, attrs: Any, opps: Any) -> Any:
    """``attrs`` with ``segment``: the account's, else the owner rep's."""
    import ibis

    seg = None
    if engine.has("accounts", ["account_id", "segment"]):
        acc = engine.table("accounts").select(_acc="account_id", _acc_segment="segment")
        attrs = attrs.left_join(acc, attrs.account_id == acc._acc).drop("_acc")
        seg = attrs._acc_segment
    if engine.has("reps", ["rep_id", "segment"]) and "owner_rep_id" in opps.columns:
        reps = engine.table("reps").select(_rep="rep_id", _rep_segment="segment")
        owners = opps.select(_oid="opportunity_id", _owner="owner_rep_id")
        attrs = attrs.left_join(owners, attrs.opportunity_id == owners._oid).drop("_oid")
        attrs = attrs.left_join(reps, attrs._owner == reps._rep).drop("_rep", "_owner")
        seg = attrs._rep_segment if seg is None else ibis.coalesce(attrs._acc_segment, attrs._rep_segment)
    if seg is None:
        raise EngineError("pipeline totals by segment need accounts.segment (or reps.segment), which the engine lacks")
    return attrs.mutate(segment=seg).drop(*[c for c in ("_acc_segment", "_rep_segment") if c in attrs.columns])


def recent_activity_counts(engine: Engine, moments: Any, window: pd.Timedelta) -> pd.DataFrame:
    r"""Activities logged on each opportunity in the window before each moment.

    ``activities`` = :math:`\#\{a : o_a = o,\ t - w < t_a \le t\}` for moment :math:`t`, window :math:`w`;
    only (moment, opportunity) pairs with at least one activity are returned (one query: a range join of
    the activities with the moments, then a group-by).

    Returns
    -------
    DataFrame
        ``as_of, opportunity_id, activities``, sorted by ``(as_of, opportunity_id)``.
    """
    ts = to_moments(moments)
    a = engine.table("activities", ["opportunity_id", "occurred_at"], purpose="recent activities per deal")
    a = a.filter(a.opportunity_id.notnull()).select("opportunity_id", "occurred_at")
    m = _moments_table(engine, ts, before=pd.Timedelta(window))
    j = a.cross_join(m)
    j = j.filter(j.occurred_at > j._start, j.occurred_at <= j._t)
    expr = j.group_by(["_m", "opportunity_id"]).aggregate(activities=j.count()).order_by(["_m", "opportunity_id"])
    out = _execute(engine, expr)
    out.insert(0, "as_of", pd.to_datetime(pd.Series(ts, dtype="datetime64[ns, UTC]").to_numpy()[out["_m"].to_numpy(int)],
                                          utc=True))
    out["activities"] = out["activities"].astype("int64")
    return out.drop(columns="_m").reset_index(drop=True)
