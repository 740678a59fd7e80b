"""Replay simulation: run a past period's leads through candidate routing rules before they go live.

For each candidate rule set the period's leads are routed (:func:`salesops.leads.routing.route`) and judged on

* **load**: leads per rep against the rep's target share (the share its weight gives it among the members
  available for each lead), and the busiest day against the cap;
* **speed to lead**: hours from creation to the first touch, simulated as the wait until the assigned rep is
  at work plus the reps' reaction time once at work. The reaction time per source is measured on history:
  the median actual speed to lead of the leads of the ``history_days`` before the period that the *same
  candidate rules* would have routed without any wait (they arrived in working time);
* **expected conversion**: the sum over leads of the lead -> SQL probability from a fitted
  :class:`~salesops.leads.scoring.LeadScoring` model with each lead's speed to lead replaced by the simulated
  one, with a normal interval from the Poisson-binomial variance :math:`\\sum_i p_i (1 - p_i)`. Only the speed
  to lead changes between scenarios, so the difference is what the routing does to conversion through speed.

The ``actual`` scenario is what happened: the leads' recorded owners and speeds, scored by the same model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from salesops.leads._common import MissingDataError
from salesops.leads.routing import load_rules, pool_load, route
from salesops.leads.scoring import LeadScoring, lead_features
from salesops.periods import Quarter

__all__ = ["ReplayResult", "replay"]


@dataclass
class ReplayResult:
    """What a replay found, one row per scenario (and rep, rule ...) in tidy frames.

    Attributes
    ----------
    assignments : DataFrame
        Per scenario and lead: ``scenario, lead_id, source, owner_rep_id, rule, pool, wait_hours,
        speed_to_lead_hours, p_sql``.
    load : DataFrame
        Per candidate scenario and pool member: :func:`~salesops.leads.routing.pool_load` plus ``busiest_day``.
    speed : DataFrame
        Per scenario: ``leads, median_hours, p75_hours, p90_hours, share_within_1h, share_within_24h``.
    conversion : DataFrame
        Per scenario: ``leads, expected_sqls, lower, upper, expected_rate, change_vs_actual``; and
        ``realised_sqls`` for the actual scenario.
    reaction_hours : DataFrame
        Per candidate scenario and source: the reaction time used and the history leads behind it.
    """

    assignments: pd.DataFrame
    load: pd.DataFrame
    speed: pd.DataFrame
    conversion: pd.DataFrame
    reaction_hours: pd.DataFrame


def _bounds(period: Quarter | tuple[Any, Any]) -> tuple[pd.Timestamp, pd.Timestamp]:
    if isinstance(period, Quarter):
        start, end = pd.Timestamp(period.start), pd.Timestamp(period.end) + pd.Timedelta(days=1)
    else:
        start, end = pd.Timestamp(period[0]), pd.Timestamp(period[1])
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    return start, end


def _speed_table(frame: pd.DataFrame) -> pd.DataFrame:
    g = frame.groupby("scenario", sort=False)["speed_to_lead_hours"]
    return pd.DataFrame({
        "leads": g.size(),
        "median_hours": g.median(),
        "p75_hours": g.quantile(0.75),
        "p90_hours": g.quantile(0.90),
        "share_within_1h": g.apply(lambda s: float((s <= 1.0).mean())),
        "share_within_24h": g.apply(lambda s: float((s <= 24.0).mean())),
    }).reset_index()


def replay(
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    rules: Any,
    *,
    period: Quarter | tuple[Any, Any],
    accounts: pd.DataFrame | None = None,
    leave: pd.DataFrame | None = None,
    scoring: LeadScoring | None = None,
    history_days: float = 180.0,
    confidence: float = 0.95,
    as_of: Any = None,
) -> ReplayResult:
    """Replay the leads created in ``period`` through one or more candidate rule sets.

    Parameters
    ----------
    leads, reps : DataFrame
        Canonical tables; ``leads.first_touch_at`` for the reaction times and the actual speeds.
    rules : rules or mapping of scenario name to rules
        Anything :func:`~salesops.leads.routing.load_rules` reads; a mapping compares several.
    period : Quarter or (start, end)
        Leads created in ``[start, end)`` are replayed.
    accounts, leave : DataFrame, optional
        As for :func:`~salesops.leads.routing.route`.
    scoring : LeadScoring, optional
        A fitted lead -> SQL score (:func:`~salesops.leads.scoring.score_leads`); without it the conversion table
        is empty.
    history_days : float
        Length of the history before the period from which reaction times are measured.
    confidence : float
        Coverage of the expected-conversion intervals.
    as_of : timestamp, optional
        When the replay is made: first touches and SQLs after it are not known (the actual speed to lead of a
        lead not yet touched then is missing, and only SQLs by then count as realised). Default: all the data.

    Returns
    -------
    ReplayResult
    """
    if leads is None:
        raise MissingDataError("the leads table is missing; the replay needs it")
    if reps is None:
        raise MissingDataError("the reps table is missing; the replay routes leads to reps")
    if "first_touch_at" not in leads.columns:
        raise MissingDataError("leads.first_touch_at is missing; the replay measures speed to lead from it")
    start, end = _bounds(period)
    in_period = (leads["created_at"] >= start) & (leads["created_at"] < end)
    hist_start = start - pd.Timedelta(days=history_days)
    in_history = (leads["created_at"] >= hist_start) & (leads["created_at"] < start) & leads["first_touch_at"].notna()
    # history leads count only if they were touched before the period starts: nothing from the future
    in_history &= leads["first_touch_at"] < start
    now = leads[in_period].reset_index(drop=True)
    if as_of is not None:
        cut = pd.Timestamp(as_of)
        cut = cut.tz_localize("UTC") if cut.tzinfo is None else cut.tz_convert("UTC")
        now = now.assign(**{c: now[c].where(now[c] <= cut) for c in ("first_touch_at", "sql_at") if c in now.columns})
    hist = leads[in_history].reset_index(drop=True)
    if now.empty:
        raise ValueError(f"no lead was created between {start:%Y-%m-%d} and {end:%Y-%m-%d}; nothing to replay")
    if hist.empty:
        raise ValueError(f"no touched lead in the {history_days:.0f} days before {start:%Y-%m-%d}; reaction times "
                         "cannot be measured")
    # a mapping of scenario name to rules, unless it is itself a rule set (whose "rules" is a list)
    is_rule_set = not isinstance(rules, Mapping) or isinstance(rules.get("rules"), list)
    scenarios = {"candidate": rules} if is_rule_set else dict(rules)
    source = now["source"] if "source" in now.columns else pd.Series("all", index=now.index)
    hist_source = hist["source"] if "source" in hist.columns else pd.Series("all", index=hist.index)
    hist_speed = (hist["first_touch_at"] - hist["created_at"]).dt.total_seconds() / 3600.0

    frames, loads, reactions = [], [], []
    actual_speed = (now["first_touch_at"] - now["created_at"]).dt.total_seconds() / 3600.0
    frames.append(pd.DataFrame({
        "scenario": "actual", "lead_id": now["lead_id"].to_numpy(), "source": source.to_numpy(),
        "owner_rep_id": now["owner_rep_id"].to_numpy() if "owner_rep_id" in now.columns else None,
        "rule": None, "pool": None, "wait_hours": np.nan, "speed_to_lead_hours": actual_speed.to_numpy(),
    }))
    for name, raw in scenarios.items():
        rs = load_rules(raw)
        routed = route(now, reps, rs, accounts=accounts, leave=leave)
        past = route(hist, reps, rs, accounts=accounts, leave=leave)
        no_wait = past["wait_hours"].to_numpy() == 0
        med = hist_speed[no_wait].groupby(hist_source[no_wait].to_numpy()).agg(["median", "size"])
        overall = float(hist_speed[no_wait].median()) if no_wait.any() else float(hist_speed.median())
        react = source.map(med["median"]).fillna(overall).to_numpy(dtype=float)
        reactions.append(med.rename(columns={"median": "reaction_hours", "size": "history_leads"})
                         .rename_axis("source").reset_index().assign(scenario=name))
        frames.append(pd.DataFrame({
            "scenario": name, "lead_id": routed["lead_id"].to_numpy(), "source": source.to_numpy(),
            "owner_rep_id": routed["owner_rep_id"].to_numpy(), "rule": routed["rule"].to_numpy(),
            "pool": routed["pool"].to_numpy(), "wait_hours": routed["wait_hours"].to_numpy(),
            "speed_to_lead_hours": routed["wait_hours"].to_numpy() + react,
        }))
        load = pool_load(routed)
        day = routed["routed_at"].dt.floor("D")
        busiest = routed[routed["pool"].notna()].groupby(["pool", "owner_rep_id", day]).size()
        busiest = busiest.groupby(level=[0, 1]).max().rename("busiest_day").reset_index()
        busiest = busiest.rename(columns={"owner_rep_id": "rep_id"})
        load = load.merge(busiest, on=["pool", "rep_id"], how="left").assign(scenario=name)
        load["busiest_day"] = load["busiest_day"].fillna(0).astype(int)
        loads.append(load[(load["leads"] > 0) | (load["expected_leads"] > 0)])  # not members who had left
    assignments = pd.concat(frames, ignore_index=True)

    conversion = pd.DataFrame(columns=["scenario", "leads", "expected_sqls", "lower", "upper", "expected_rate",
                                       "change_vs_actual"])
    assignments["p_sql"] = np.nan
    if scoring is not None:
        X = lead_features(now, accounts)
        z = float(sps.norm.ppf(0.5 + confidence / 2.0))
        rows = []
        for name, g in assignments.groupby("scenario", sort=False):
            Xs = X.copy()
            if "speed_to_lead_hours" in scoring.model.feature_names_in_:
                Xs["speed_to_lead_hours"] = g["speed_to_lead_hours"].to_numpy()
            p = scoring.model.predict_proba(Xs)[:, 1]
            assignments.loc[g.index, "p_sql"] = p
            mean, sd = float(p.sum()), float(np.sqrt((p * (1 - p)).sum()))
            rows.append({"scenario": name, "leads": len(p), "expected_sqls": mean, "lower": mean - z * sd,
                         "upper": mean + z * sd, "expected_rate": mean / len(p)})
        conversion = pd.DataFrame(rows)
        base = conversion.loc[conversion["scenario"] == "actual", "expected_sqls"].iloc[0]
        conversion["change_vs_actual"] = conversion["expected_sqls"] - base
        if "sql_at" in now.columns:  # by the as-of moment
            conversion["realised_sqls"] = np.where(conversion["scenario"] == "actual",
                                                   float(now["sql_at"].notna().sum()), np.nan)
    return ReplayResult(
        assignments=assignments,
        load=pd.concat(loads, ignore_index=True)[["scenario", "pool", "rep_id", "leads", "share", "expected_leads",
                                                   "target_share", "deviation", "busiest_day"]],
        speed=_speed_table(assignments),
        conversion=conversion,
        reaction_hours=pd.concat(reactions, ignore_index=True)[["scenario", "source", "reaction_hours",
                                                                 "history_leads"]],
    )
