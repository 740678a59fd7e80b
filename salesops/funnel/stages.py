"""Stage-to-stage conversion and time in stage, from ``opportunity_history``.

A CRM's history is a list of changes; most do not touch the stage (a new amount, a pushed close date). Two
readings of it serve every stage figure:

* **spells** (:func:`stage_spells`): each uninterrupted stay in one stage, with how it ended: ``advance`` to
  a later open stage (``skipped`` counts the open stages jumped over), ``regression`` to an earlier one,
  ``won``, ``lost``, ``reopened`` (a closed deal back to an open stage), or still there (``open``).
* **stage outcomes** (:func:`stage_outcomes`): for each opportunity and each open stage it entered, the
  *first* entry and how the stage was resolved: ``advanced`` when the deal first reaches any later open stage
  or a won stage, ``lost`` when it closes lost before that, ``open`` when neither has happened yet. A
  regression does not resolve a stage: a deal that goes Discovery -> Qualification -> Discovery -> Proposal
  advanced from Discovery once, and its days in Discovery run from the first entry to Proposal. A skipped
  stage was never entered, so it counts in no cohort of that stage.

Outcomes still open at the moment of evaluation are censored: time in stage uses Kaplan-Meier, and
conversion is computed among resolved entries (``advanced / (advanced + lost)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesops.engine.history import history_engine, stage_changes
from salesops.funnel._common import (
    StageInfo,
    as_list,
    as_moment,
    as_start,
    days_between,
    opportunity_attributes,
    period_labels,
    require_table,
    shrink_within,
    stage_info,
)
from salesops.funnel.snapshot import prepare_history
from salesops.stats import km_by_group, wilson_interval

__all__ = [
    "observation_start",
    "stage_conversion",
    "stage_move_summary",
    "stage_moves",
    "stage_outcomes",
    "stage_spells",
    "time_in_stage",
]

_PREVENTS = "stage conversion and time in stage"


def _stage_events(h: pd.DataFrame) -> pd.DataFrame:
    """The rows of a prepared history where the stage changes (each opportunity's first row included), each
    with the opportunity's next stage change (``next_stage``, ``next_changed_at``; missing for its last),
    read by the engine (:func:`salesops.engine.history.stage_changes`); ties in ``changed_at`` keep the
    frame's row order."""
    return stage_changes(history_engine(h[["opportunity_id", "changed_at", "stage"]]))


def _truncate(
    history: pd.DataFrame, stages: pd.DataFrame | None, as_of: Any, prepared: bool
) -> tuple[pd.DataFrame, StageInfo, pd.Timestamp | None]:
    h = history if prepared else prepare_history(history, stages)
    info = stage_info(stages, seen=h["stage"].dropna().unique())
    moment = None
    if as_of is not None:
        moment = as_moment(as_of)
        h = h[h["changed_at"] <= moment]
    return h, info, moment


def observation_start(history: pd.DataFrame, stages: pd.DataFrame | None = None) -> pd.Timestamp:
    """The moment from which the export holds every deal: its first close (the earliest history row in a
    closed stage), or its first row when nothing has closed.

    An export that starts with the pipeline open on some day carries no deal that closed before it, so a
    cohort that entered a stage earlier is missing its quickest and its lost deals; cohorts are counted from
    this moment on.
    """
    info = stage_info(stages, seen=history["stage"].dropna().unique())
    closed = history.loc[history["stage"].isin(info.closed), "changed_at"]
    return closed.min() if len(closed) else history["changed_at"].min()


def stage_spells(
    history: pd.DataFrame, stages: pd.DataFrame | None = None, as_of: Any = None, *, prepared: bool = False
) -> pd.DataFrame:
    """Each uninterrupted stay of an opportunity in one stage, and how it ended.

    A spell starts at a history row whose stage differs from the previous row's (or the opportunity's first
    row) and ends at the next such row. With :math:`r(s)` the position of open stage :math:`s` among the open
    stages (won stages rank after all of them), a spell of open stage :math:`a` ending in :math:`b` is

    * ``advance`` when :math:`b` is open and :math:`r(b) > r(a)`, with ``skipped`` = :math:`r(b) - r(a) - 1`;
    * ``regression`` when :math:`b` is open and :math:`r(b) < r(a)`;
    * ``won`` (``skipped`` = open stages after :math:`a` never visited on the way) or ``lost``;

    a spell of a closed stage ending in an open one is ``reopened`` (in another closed one: ``reclosed``); a
    spell with no later stage change is ``open`` (open stage, censored at ``as_of``) or ``final`` (closed).
    ``days`` = exit - entry, or ``as_of`` - entry for an ``open`` spell (NaN for ``final``).

    Parameters
    ----------
    history : DataFrame
        ``opportunity_history`` (or :func:`~salesops.funnel.snapshot.prepare_history` with ``prepared=True``).
    stages : DataFrame, optional
        Stage table (default ``templates/stages.yaml``).
    as_of : str, date or Timestamp, optional
        Use only rows changed at or before this moment (default: every row; open spells then run to the
        last change in the history).

    Returns
    -------
    DataFrame
        ``opportunity_id, stage, entered_at, exited_at, next_stage, move, skipped, days``, in history order.
    """
    h, info, moment = _truncate(history, stages, as_of, prepared)
    if moment is None:
        moment = h["changed_at"].max() if len(h) else pd.Timestamp.now(tz="UTC")
    ev = _stage_events(h)
    last = ev["next_changed_at"].isna().to_numpy()
    nxt_stage = ev["next_stage"]
    nxt_time = ev["next_changed_at"]
    a_rank = info.open_rank(ev["stage"])
    b_rank = info.open_rank(nxt_stage)
    a_open = ~ev["stage"].isin(info.closed)
    b_open = nxt_stage.notna() & ~nxt_stage.isin(info.closed)
    b_won = nxt_stage.isin(info.won)
    b_lost = nxt_stage.isin(info.lost)
    move = np.select(
        [
            last & a_open,
            last & ~a_open,
            a_open & b_won,
            a_open & b_lost,
            a_open & b_open & (b_rank > a_rank),
            a_open & b_open & (b_rank < a_rank),
            ~a_open & b_open,
            ~a_open & ~b_open,
        ],
        ["open", "final", "won", "lost", "advance", "regression", "reopened", "reclosed"],
        default="advance",
    )
    skipped = np.where(np.isin(move, ["advance", "won"]), b_rank - a_rank - 1, 0)
    end = nxt_time.where(~last, pd.Series(moment, index=ev.index).where(a_open))
    out = pd.DataFrame(
        {
            "opportunity_id": ev["opportunity_id"],
            "stage": ev["stage"],
            "entered_at": ev["changed_at"],
            "exited_at": nxt_time,
            "next_stage": nxt_stage,
            "move": move,
            "skipped": np.nan_to_num(skipped).astype(int),
            "days": days_between(end, ev["changed_at"]),
        }
    )
    out.attrs["as_of"] = moment
    return out


def stage_outcomes(
    history: pd.DataFrame, stages: pd.DataFrame | None = None, as_of: Any = None, *, prepared: bool = False
) -> pd.DataFrame:
    r"""For each opportunity and each open stage it entered: first entry, resolution and days to resolve.

    With :math:`e` the first entry of opportunity :math:`o` into open stage :math:`S`, the stage is resolved
    at the first later stage change into a stage :math:`b` with :math:`r(b) > r(S)` (a later open stage or a
    won stage: ``advanced``) or into a lost stage (``lost``); regressions in between do not resolve it.
    ``days`` = resolution - :math:`e`, or ``as_of`` - :math:`e` when unresolved (``outcome = "open"``,
    censored: ``resolved`` is False).

    Parameters
    ----------
    history, stages, as_of
        As in :func:`stage_spells`; ``as_of`` defaults to the last change in the history.

    Returns
    -------
    DataFrame
        ``opportunity_id, stage, entered_at, resolved_at, next_stage, outcome, resolved, days``.
    """
    h, info, moment = _truncate(history, stages, as_of, prepared)
    if moment is None:
        moment = h["changed_at"].max() if len(h) else pd.Timestamp.now(tz="UTC")
    ev = _stage_events(h)
    ev["seq"] = np.arange(len(ev))
    ev["rank"] = info.open_rank(ev["stage"])
    ev["lost"] = ev["stage"].isin(info.lost)
    parts = []
    for r, stage in enumerate(info.open_stages):
        entries = ev[ev["stage"].eq(stage)].groupby("opportunity_id", sort=False).head(1)
        later = ev[ev["opportunity_id"].isin(entries["opportunity_id"]) & ((ev["rank"] > r) | ev["lost"])]
        later = later.merge(entries[["opportunity_id", "seq"]], on="opportunity_id", suffixes=("", "_entry"))
        first = later[later["seq"] > later["seq_entry"]].groupby("opportunity_id", sort=False).head(1)
        res = entries[["opportunity_id", "changed_at"]].rename(columns={"changed_at": "entered_at"})
        res = res.merge(
            first[["opportunity_id", "changed_at", "stage", "lost"]].rename(
                columns={"changed_at": "resolved_at", "stage": "next_stage"}
            ),
            on="opportunity_id",
            how="left",
        )
        res.insert(1, "stage", stage)
        parts.append(res)
    cols = [
        "opportunity_id",
        "stage",
        "entered_at",
        "resolved_at",
        "next_stage",
        "outcome",
        "resolved",
        "days",
    ]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    resolved = out["resolved_at"].notna()
    lost = out["lost"].astype("boolean").fillna(False).to_numpy(bool)
    out["outcome"] = np.where(~resolved, "open", np.where(lost, "lost", "advanced"))
    out["resolved"] = resolved.to_numpy()
    end = out["resolved_at"].where(resolved, moment)
    out["days"] = days_between(end, out["entered_at"])
    out = out[cols]
    out.attrs["as_of"] = moment
    return out


def stage_moves(spells: pd.DataFrame) -> pd.DataFrame:
    """How spells end, per stage: counts of ``advance`` (of which ``skip``: at least one stage jumped),
    ``regression``, ``won``, ``lost``, ``reopened`` and ``open``.

    Parameters
    ----------
    spells : DataFrame
        :func:`stage_spells`.

    Returns
    -------
    DataFrame
        One row per stage (in the order spells first show it) and one column per move.
    """
    kinds = ["advance", "skip", "regression", "won", "lost", "reopened", "reclosed", "open", "final"]
    m = spells.assign(
        kind=np.where(spells["skipped"].gt(0) & spells["move"].eq("advance"), "skip", spells["move"])
    )
    table = m.groupby(["stage", "kind"], sort=False).size().unstack(fill_value=0)
    table = table.reindex(columns=[k for k in kinds if k in table.columns])
    if "skip" in table.columns:
        table["advance"] = table.get("advance", 0) + table["skip"]
    return table.reset_index()


def stage_move_summary(data: Any, as_of: Any = None) -> pd.DataFrame:
    """:func:`stage_moves` of a :class:`~salesops.io.SalesData`'s history up to ``as_of`` (default
    ``data.as_of``).

    Raises
    ------
    MissingDataError
        Without ``opportunity_history``.
    """
    history = require_table(data, "opportunity_history", "counting how stage stays end")
    moment = as_of if as_of is not None else getattr(data, "as_of", None)
    return stage_moves(stage_spells(history, getattr(data, "stages", None), moment))


def _enriched_outcomes(data: Any, as_of: Any, by: list[str], observed_from: Any) -> pd.DataFrame:
    history = require_table(data, "opportunity_history", _PREVENTS)
    moment = as_moment(as_of) if as_of is not None else getattr(data, "as_of", None)
    stages = getattr(data, "stages", None)
    h = prepare_history(history, stages)
    out = stage_outcomes(h, stages, moment, prepared=True)
    start = as_start(observed_from) if observed_from is not None else observation_start(h, stages)
    out = out[out["entered_at"] >= start].copy()
    out.attrs.update(observed_from=start, as_of=out.attrs.get("as_of", moment))
    if by:
        attrs = opportunity_attributes(data, by)
        for col in by:
            out[col] = out["opportunity_id"].map(attrs[col]).astype(object).fillna("(none)").to_numpy()
    return out


def stage_conversion(
    data: Any,
    by: str | list[str] | None = None,
    period: str | None = None,
    as_of: Any = None,
    confidence: float = 0.95,
    observed_from: Any = None,
) -> pd.DataFrame:
    r"""Conversion of each open stage to any later stage, by group and period of first entry.

    Among opportunities that first entered stage :math:`S` (in the group and period), with outcomes read at
    ``as_of`` (see :func:`stage_outcomes`):

    .. math::

        \text{conversion}(S) = \frac{\text{advanced}}{\text{advanced} + \text{lost}},

    with a Wilson interval; entries still ``open`` are censored and reported, not counted. Entries before
    ``observed_from`` (default :func:`observation_start`) are left out. With ``by``, each group's conversion
    is also shrunk toward the others' of the same stage and period (empirical-Bayes beta-binomial,
    :func:`salesops.stats.shrink_rates`), so a rep with four deals is not ranked on noise.

    Parameters
    ----------
    data : SalesData
        Needs ``opportunity_history``; ``by`` may need ``accounts`` / ``reps``.
    by : str or list of str, optional
        Opportunity attribute(s): ``segment``, ``team``, ``type``, ``source``, ...
    period : {"month", "quarter", "year"}, optional
        Period of the first entry into the stage.
    as_of : str, date or Timestamp, optional
        Moment of evaluation (default ``data.as_of``): only history up to it is read.
    confidence : float
        Level of the interval.
    observed_from : str, date or Timestamp, optional
        First entry moment counted.

    Returns
    -------
    DataFrame
        ``[by..., period,] stage, entered, advanced, lost, open, conversion, lower, upper`` and, with ``by``,
        ``shrunk_rate, shrunk_lower, shrunk_upper`` (the posterior mean and interval).

    Raises
    ------
    MissingDataError
        Without ``opportunity_history`` (or a ``by`` column).
    """
    keys = as_list(by)
    out = _enriched_outcomes(data, as_of, keys, observed_from)
    stages = getattr(data, "stages", None)
    order = {s: i for i, s in enumerate(stage_info(stages, seen=out["stage"].unique()).open_stages)}
    groups = list(keys)
    if period is not None:
        out["period"] = period_labels(out["entered_at"], period).to_numpy()
        groups.append("period")
    groups.append("stage")
    counts = (
        out.assign(n=1)
        .pivot_table(index=groups, columns="outcome", values="n", aggfunc="sum", fill_value=0)
        .reindex(columns=["advanced", "lost", "open"], fill_value=0)
        .reset_index()
    )
    counts.columns.name = None
    counts["entered"] = counts[["advanced", "lost", "open"]].sum(axis=1)
    resolved = counts["advanced"] + counts["lost"]
    with np.errstate(divide="ignore", invalid="ignore"):
        counts["conversion"] = np.where(resolved > 0, counts["advanced"] / resolved, np.nan)
    lo, hi = wilson_interval(counts["advanced"].to_numpy(float), resolved.to_numpy(float), confidence)
    counts["lower"], counts["upper"] = lo, hi
    counts["_o"] = counts["stage"].map(order)
    counts = counts.sort_values([*groups[:-1], "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    cols = [*groups, "entered", "advanced", "lost", "open", "conversion", "lower", "upper"]
    if keys:
        counts["resolved"] = counts["advanced"] + counts["lost"]
        family = [c for c in groups if c not in keys]
        counts = shrink_within(counts, "advanced", "resolved", family, confidence)
        cols += ["shrunk_rate", "shrunk_lower", "shrunk_upper"]
    counts = counts[cols]
    counts.attrs.update(out.attrs)
    return counts


def time_in_stage(
    data: Any,
    by: str | list[str] | None = None,
    period: str | None = None,
    as_of: Any = None,
    confidence: float = 0.95,
    observed_from: Any = None,
) -> pd.DataFrame:
    r"""Days from first entry into each open stage to its resolution (see :func:`stage_outcomes`).

    The median is the Kaplan-Meier median :math:`\min\{t : \hat S(t) \le 1/2\}`, entries not yet resolved at
    ``as_of`` censored at their age, with the log-log interval of :func:`salesops.stats.km_median`; the naive
    median of resolved entries only is given beside it (it runs short: the slow ones are still open).

    Parameters
    ----------
    data, by, period, as_of, confidence, observed_from
        As in :func:`stage_conversion`.

    Returns
    -------
    DataFrame
        ``[by..., period,] stage, entered, resolved, median_days, lower, upper, naive_median_days, note``.
    """
    keys = as_list(by)
    out = _enriched_outcomes(data, as_of, keys, observed_from)
    stages = getattr(data, "stages", None)
    order = {s: i for i, s in enumerate(stage_info(stages, seen=out["stage"].unique()).open_stages)}
    groups = list(keys)
    if period is not None:
        out["period"] = period_labels(out["entered_at"], period).to_numpy()
        groups.append("period")
    groups.append("stage")
    cols = [*groups, "entered", "resolved", "median_days", "lower", "upper", "naive_median_days", "note"]
    if out.empty:
        return pd.DataFrame(columns=cols)
    km = km_by_group(out, "days", "resolved", groups, confidence=confidence).reset_index()
    naive = out[out["resolved"]].groupby(groups)["days"].median().rename("naive_median_days").reset_index()
    table = km.merge(naive, on=groups, how="left").rename(
        columns={
            "n": "entered",
            "events": "resolved",
            "median": "median_days",
            "median_lower": "lower",
            "median_upper": "upper",
        }
    )
    table["_o"] = table["stage"].map(order)
    table = table.sort_values([*groups[:-1], "_o"], kind="stable").reset_index(drop=True)
    table = table[cols]
    table.attrs.update(out.attrs)
    return table
