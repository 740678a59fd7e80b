"""Did the training (or mentoring) work? Difference-in-differences of win rates, untrained reps as controls.

A before/after comparison of the trained reps mixes the programme with everything else that changed (season,
market, pricing). The untrained reps lived through the same changes; the difference of the two differences
isolates the programme, provided both groups were on parallel paths before it, which the parallel-trends check
tests on the quarters before the programme.

* :func:`main_program` — the programme a review evaluates by default: the largest group of reps starting it
  on the same day (rolling onboarding, one rep at a time, has no common date and is a ramp question).
* :func:`training_groups` — trained reps and eligible untrained controls.
* :func:`training_panel` — one row per closed deal of those reps: won or not, before or after, period.
* :func:`training_study` — the estimate with its interval, the pre-trend check, the placebo a year earlier,
  or a message saying what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesops.experiments.common import (
    MissingData,
    NotEnoughData,
    cutoff_of,
    data_start,
    known_at,
    require_table,
)
from salesops.experiments.its import DidStudy, did_study
from salesops.experiments.result import Estimate

__all__ = [
    "Program",
    "TrainingStudy",
    "main_program",
    "training_groups",
    "training_panel",
    "training_study",
]


@dataclass(frozen=True)
class Program:
    """A training session: programme name, first and last day (the end is the start when unknown)."""

    name: str
    start: pd.Timestamp
    end: pd.Timestamp


def main_program(trainings: pd.DataFrame | None, program: str | None = None, until: Any = None) -> Program:
    """The session to evaluate: ``program`` (by name, case-insensitive) or, by default, the programme session
    with the most reps starting on the same day (the latest such when tied), on or before ``until``.

    Raises
    ------
    MissingData
        Without a ``trainings`` table.
    NotEnoughData
        When no session matches (the message lists the programmes there are).
    """
    tr = require_table({"trainings": trainings}, "trainings", ["rep_id", "program", "start_date"],
                       "to know who was trained and when")
    if until is not None:
        day = pd.Timestamp(until)
        day = day.tz_convert("UTC").tz_localize(None) if day.tzinfo is not None else day
        tr = tr[tr["start_date"] <= day]
    have = sorted(tr["program"].dropna().unique())
    if program:
        tr = tr[tr["program"].str.lower() == str(program).strip().lower()]
    if tr.empty:
        what = f"programme {program!r}" if program else "training session"
        raise NotEnoughData(f"no {what} in the `trainings` table; it holds: {', '.join(have) or 'nothing'}")
    sessions = tr.groupby(["program", "start_date"]).agg(reps=("rep_id", "nunique")).reset_index()
    best = sessions.sort_values(["reps", "start_date"]).iloc[-1]
    mine = tr[(tr["program"] == best["program"]) & (tr["start_date"] == best["start_date"])]
    end = mine["end_date"].max() if "end_date" in mine.columns and mine["end_date"].notna().any() else best[
        "start_date"]
    return Program(str(best["program"]), pd.Timestamp(best["start_date"]), pd.Timestamp(end))


def training_groups(data: Any, program: Program, role: str = "AE", min_tenure_days: int = 180) -> pd.DataFrame:
    """Trained reps of the session and the untrained controls.

    Treated: reps who started ``program`` on its start day. Controls: reps of ``role`` who never attended the
    programme, hired at least ``min_tenure_days`` before it started and employed until at least its end (so they
    were there before and after, like the trained). Reps who attended another session of the programme are in
    neither group.

    Returns
    -------
    DataFrame
        ``rep_id, group`` (``treated`` / ``control``), ``treated`` (0/1), ``hire_date``, ``end_date``.
    """
    tables = data.tables if hasattr(data, "tables") else data
    tr = require_table(tables, "trainings", ["rep_id", "program", "start_date"])
    reps = require_table(tables, "reps", ["rep_id", "hire_date"], "controls must have been hired before the programme")
    attended = tr.loc[tr["program"] == program.name]
    treated_ids = set(attended.loc[attended["start_date"] == program.start, "rep_id"])
    anyone = set(attended["rep_id"])
    r = reps.copy()
    if "end_date" not in r.columns:
        r["end_date"] = pd.NaT
    pool = r[r["role"] == role] if "role" in r.columns else r
    eligible = (pool["hire_date"] <= program.start - pd.Timedelta(days=min_tenure_days)) & (
        pool["end_date"].isna() | (pool["end_date"] >= program.end))
    control = pool[eligible & ~pool["rep_id"].isin(anyone)]
    treated = r[r["rep_id"].isin(treated_ids)]
    out = pd.concat([treated.assign(group="treated", treated=1), control.assign(group="control", treated=0)])
    return out[["rep_id", "group", "treated", "hire_date", "end_date"]].reset_index(drop=True)


def training_panel(data: Any, program: Program, groups: pd.DataFrame, period_days: int = 91,
                   before: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per closed deal of the treated and control reps, placed before or after the programme.

    A deal is ``pre`` when created before the programme's first day and ``post`` when created after its last day
    (deals created during the programme are left out, and so are deals created before the data start,
    :func:`salesops.experiments.common.data_start`, a biased remnant). ``period`` counts ``period_days`` blocks back from the
    start (-1, -2, ...) and forward from the day after the end (0, 1, ...), so every period is wholly before or
    wholly after. ``before`` drops deals created on or after it (the placebo uses data before the real programme
    only).

    Returns
    -------
    DataFrame
        ``opportunity_id, rep_id, treated, post, period, won`` (``won`` 0/1).
    """
    tables = data.tables if hasattr(data, "tables") else data
    opps = require_table(tables, "opportunities", ["opportunity_id", "owner_rep_id", "created_date", "is_closed",
                                                   "is_won"], "for the win rates before and after")
    o = opps[opps["is_closed"].astype(bool) & opps["owner_rep_id"].isin(groups["rep_id"])]
    o = o[o["created_date"] >= data_start(tables)]
    if before is not None:
        o = o[o["created_date"] < before]
    after_day = program.end + pd.Timedelta(days=1)
    pre = o["created_date"] < program.start
    post = o["created_date"] >= after_day
    o = o[pre | post]
    pre, post = pre[o.index], post[o.index]
    days = np.where(post, (o["created_date"] - after_day).dt.days, (o["created_date"] - program.start).dt.days)
    treated = o["owner_rep_id"].map(groups.set_index("rep_id")["treated"])
    return pd.DataFrame({
        "opportunity_id": o["opportunity_id"].to_numpy(),
        "rep_id": o["owner_rep_id"].to_numpy(),
        "treated": treated.to_numpy(int),
        "post": post.to_numpy(int),
        "period": np.floor(days / period_days).astype(int),
        "won": o["is_won"].astype(bool).to_numpy(float),
    })


@dataclass(frozen=True)
class TrainingStudy:
    """The training evaluation.

    Attributes
    ----------
    program : Program or None
        The session evaluated.
    did : DidStudy
        Effect on the win rate (unit ``share``), the pre-trend check, group means by period and the placebo.
    groups : DataFrame
        :func:`training_groups`.
    panel : DataFrame
        :func:`training_panel`.
    message : str
        What is missing, when there is no estimate.
    """

    program: Program | None
    did: DidStudy
    groups: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    panel: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    message: str = ""

    @property
    def effect(self) -> Estimate:
        """The training effect on the win rate."""
        return self.did.effect

    @property
    def available(self) -> bool:
        """True when the effect could be estimated."""
        return self.did.available


def _empty_did(name: str, msg: str) -> DidStudy:
    return DidStudy(name, Estimate.unavailable(name, msg, "share"), Estimate.unavailable("pre-trend", msg),
                    pd.DataFrame(columns=["period", "group", "n", "mean", "lower", "upper"]), message=msg)


def training_study(
    data: Any,
    program: str | None = None,
    quarter: str | None = None,
    as_of: Any = None,
    role: str = "AE",
    min_tenure_days: int = 180,
    period_days: int = 91,
    min_controls: int = 5,
    min_treated: int = 3,
    min_pre_periods: int = 2,
    placebo_years: int = 1,
    confidence: float = 0.95,
) -> TrainingStudy:
    r"""Effect of a training programme on the win rate: difference-in-differences with untrained controls.

    On closed deals of the treated and control reps (:func:`training_panel`), the linear probability model

    .. math::

        \mathrm{won}_{d} = \alpha_{i(d)} + \lambda_{t(d)} + \delta\, \mathrm{treated}_{i(d)}\,\mathrm{post}_{t(d)}
        + \varepsilon_d

    with rep effects :math:`\alpha_i` and period effects :math:`\lambda_t` gives :math:`\delta`, the change in
    win rate the programme caused (points of probability), with standard errors clustered by rep
    (:func:`salesops.experiments.its.did_study`). Without rep effects this is exactly
    :math:`(\bar w_{T,post} - \bar w_{T,pre}) - (\bar w_{C,post} - \bar w_{C,pre})` of pooled win rates. The
    parallel-trends check fits a treated x period slope on the pre-period; the placebo repeats the design with
    the programme moved ``placebo_years`` earlier, on deals created before the real one.

    Too few controls (``min_controls``) or treated reps, or too short a pre-period (``min_pre_periods`` blocks of
    ``period_days``), give a message instead of a number.

    Parameters
    ----------
    data : SalesData or dict of DataFrame
        Needs ``trainings``, ``reps`` and ``opportunities``.
    program : str, optional
        Programme name (default: :func:`main_program`).
    quarter, as_of : optional
        Cutoff: deals closed after it count as open, so they are not in the win rates.

    Returns
    -------
    TrainingStudy
    """
    name = "training effect on win rate"
    try:
        cutoff = cutoff_of(quarter, as_of if as_of is not None else getattr(data, "as_of", None))
        tables = known_at(data, cutoff, ("trainings", "reps", "opportunities"))
        prog = main_program(tables.get("trainings"), program, until=cutoff)
        name = f"{prog.name}: effect on win rate"
        groups = training_groups(tables, prog, role, min_tenure_days)
        panel = training_panel(tables, prog, groups, period_days)
    except (MissingData, NotEnoughData) as exc:
        return TrainingStudy(None, _empty_did(name, str(exc)), message=str(exc))
    kw = dict(outcome="won", treated="treated", post="post", unit="rep_id", period="period", unit_label="share",
              binary=True, confidence=confidence, min_treated=min_treated, min_control=min_controls,
              min_pre_periods=min_pre_periods)
    study = did_study(panel, name, **kw)
    shift = pd.DateOffset(years=placebo_years)
    fake = Program(prog.name, prog.start - shift, prog.end - shift)
    placebo_panel = training_panel(tables, fake, groups, period_days, before=prog.start)
    placebo = did_study(placebo_panel, f"placebo: {name}", **kw)
    return TrainingStudy(prog, study.with_placebo(placebo), groups, panel, study.message if not study.available
                         else "")
