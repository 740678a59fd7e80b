"""Campaigns: what they cost, what they brought (spend to leads to pipeline to bookings), and whether they
brought anything extra (a difference-in-differences of lead volume against the other channels).

* :func:`campaign_roi` — per campaign or channel: spend, leads, MQLs, SQLs, opportunities, pipeline, bookings
  won so far, pipeline still open, cost per lead / opportunity, pipeline per dollar, ROI.
* :func:`resolve_campaign` — which campaign an ``events`` entry or a campaign id means: channel and dates.
* :func:`campaign_lift_study` — weekly leads of the campaign's channel against the other channels, before and
  during the campaign, with the parallel-trends check and a placebo a year earlier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesops.experiments.common import MissingData, NotEnoughData, cutoff_of, known_at, require_table
from salesops.experiments.events import count_panel, find_event
from salesops.experiments.its import DidStudy, did_study
from salesops.experiments.result import Estimate

__all__ = ["Campaign", "campaign_lift_study", "campaign_roi", "resolve_campaign"]

_ROI_COLUMNS = [
    "spend", "leads", "mqls", "sqls", "opportunities", "pipeline", "won_deals", "bookings", "open_pipeline",
    "cost_per_lead", "cost_per_opportunity", "pipeline_per_spend", "bookings_per_spend", "roi", "closed_share",
]


def campaign_roi(
    data: Any,
    by: str = "campaign_id",
    period: tuple[Any, Any] | None = None,
    quarter: str | None = None,
    as_of: Any = None,
    months: int | None = None,
) -> pd.DataFrame:
    r"""Spend, funnel and return per campaign (or channel), as known at the cutoff.

    Leads are attributed to the campaign (``leads.campaign_id``) or channel (``leads.source``, matched with
    ``marketing_spend.channel``) they came from; an opportunity to the lead it was created from
    (``leads.opportunity_id``). With :math:`S` the spend, :math:`P` the amount of those opportunities, :math:`B`
    the amount of the ones won by the cutoff and :math:`O` of the ones still open:

    .. math::

        \mathrm{ROI} = \frac{B - S}{S}, \quad \text{pipeline per \$} = P / S, \quad
        \text{cost per lead} = S / \#\text{leads}, \quad
        \text{closed share} = 1 - O / P.

    ROI counts bookings won so far (first-contract value, not lifetime revenue); a recent campaign has much of
    its pipeline still open (low ``closed_share``), so its ROI is a floor, not a verdict.

    Parameters
    ----------
    data : SalesData or dict of DataFrame
        Needs ``marketing_spend`` and ``leads``; ``opportunities`` for pipeline and bookings.
    by : {"campaign_id", "channel"}
        Grouping.
    period : (start, end), optional
        Keep spend months and leads created within these dates (inclusive).
    quarter, as_of : optional
        Cutoff (see :func:`salesops.experiments.common.cutoff_of`): nothing after it is used.
    months : int, optional
        Keep the ``months`` before the cutoff (spend months and lead creation); ignored with ``period``.

    Returns
    -------
    DataFrame
        One row per campaign or channel (``channel`` beside ``campaign_id``) and a ``total`` row:
        ``spend, leads, mqls, sqls, opportunities, pipeline, won_deals, bookings, open_pipeline,
        cost_per_lead, cost_per_opportunity, pipeline_per_spend, bookings_per_spend, roi, closed_share``.

    Raises
    ------
    MissingData
        Without ``marketing_spend`` or ``leads`` (or their grouping column).
    """
    if by not in ("campaign_id", "channel"):
        raise ValueError(f"by must be 'campaign_id' or 'channel', got {by!r}")
    cutoff = cutoff_of(quarter, as_of)
    tables = known_at(data, cutoff, ("marketing_spend", "leads", "opportunities"))
    spend = require_table(tables, "marketing_spend", ["month", "amount"] + (["campaign_id"] if by == "campaign_id"
                          else ["channel"]), "for the spend side of ROI")
    lead_key = "campaign_id" if by == "campaign_id" else "source"
    leads = require_table(tables, "leads", ["lead_id", "created_at", lead_key], "for the leads each campaign brought")
    if period is None and months is not None:
        end = (cutoff.tz_convert("UTC").tz_localize(None).normalize() if cutoff is not None
               else spend["month"].max().to_period("M").end_time.normalize())
        period = (end + pd.Timedelta(days=1) - pd.DateOffset(months=months), end)
    if period is not None:
        lo, hi = (pd.Timestamp(p) for p in period)
        spend = spend[(spend["month"] >= lo.to_period("M").start_time) & (spend["month"] <= hi)]
        day = _naive_day(leads["created_at"])
        leads = leads[(day >= lo) & (day <= hi)]
    key = "group"
    s = spend.assign(group=spend["campaign_id" if by == "campaign_id" else "channel"])
    out = s.groupby(key)["amount"].sum().rename("spend").to_frame()
    ld = leads.assign(group=leads[lead_key])
    funnel = ld.groupby(key).agg(leads=("lead_id", "size"))
    for col, name in (("mql_at", "mqls"), ("sql_at", "sqls")):
        if col in ld.columns:
            funnel[name] = ld[col].notna().groupby(ld[key]).sum()
    opps = tables.get("opportunities")
    if opps is not None and "opportunity_id" in ld.columns:
        linked = ld.loc[ld["opportunity_id"].notna(), [key, "opportunity_id"]].drop_duplicates("opportunity_id")
        o = linked.merge(opps[["opportunity_id", "amount", "is_closed", "is_won"]], on="opportunity_id", how="inner")
        o["won_amount"] = np.where(o["is_won"], o["amount"], 0.0)
        o["open_amount"] = np.where(~o["is_closed"].astype(bool), o["amount"], 0.0)
        agg = o.groupby(key).agg(opportunities=("opportunity_id", "size"), pipeline=("amount", "sum"),
                                 won_deals=("is_won", "sum"), bookings=("won_amount", "sum"),
                                 open_pipeline=("open_amount", "sum"))
        funnel = funnel.join(agg, how="left")
    out = out.join(funnel, how="outer").fillna(0.0)
    if by == "campaign_id":
        chan = spend.groupby("campaign_id")["channel"].first() if "channel" in spend.columns else None
        src = leads.groupby("campaign_id")["source"].agg(lambda v: v.mode().iat[0]) if "source" in leads else None
        channel = chan.reindex(out.index) if chan is not None else pd.Series(index=out.index, dtype=object)
        if src is not None:
            channel = channel.fillna(src.reindex(out.index))
    out.loc["total"] = out.sum(numeric_only=True)
    for col in _ROI_COLUMNS[:9]:
        if col not in out.columns:
            out[col] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        sp = out["spend"].where(out["spend"] > 0)
        out["cost_per_lead"] = sp / out["leads"].where(out["leads"] > 0)
        out["cost_per_opportunity"] = sp / out["opportunities"].where(out["opportunities"] > 0)
        out["pipeline_per_spend"] = out["pipeline"] / sp
        out["bookings_per_spend"] = out["bookings"] / sp
        out["roi"] = (out["bookings"] - out["spend"]) / sp
        out["closed_share"] = 1.0 - out["open_pipeline"] / out["pipeline"].where(out["pipeline"] > 0)
    for col in ("leads", "mqls", "sqls", "opportunities", "won_deals"):
        out[col] = out[col].astype("Int64")
    out = out.rename_axis(by).reset_index()
    if by == "campaign_id":
        out.insert(1, "channel", out[by].map(channel.to_dict()))
    return out[[by] + (["channel"] if by == "campaign_id" else []) + _ROI_COLUMNS]


@dataclass(frozen=True)
class Campaign:
    """A campaign to evaluate: its name, id, channel and dates (``end`` inclusive)."""

    name: str
    campaign_id: str | None
    channel: str
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def days(self) -> int:
        """Length in days."""
        return int((self.end - self.start).days) + 1


_ID_RE = re.compile(r"campaign_id[\s:=]+([A-Za-z0-9_.\-]+)", re.I)
_CHANNEL_RE = re.compile(r"channel[\s:=]+([^;,]+)", re.I)


def resolve_campaign(tables: Any, campaign: str | None = None, until: Any = None, default_days: int = 28) -> Campaign:
    """The campaign meant by an event id or name, a ``campaign_id``, or (empty) the latest ``campaign`` event.

    An event's ``scope`` may name the campaign (``campaign_id CMP-...``) and the channel (``channel: ...``).
    With a campaign id and ``leads.campaign_id``, the channel is the campaign leads' most common source and the
    dates are those of its first and last lead; otherwise the event date starts a ``default_days`` window.

    Raises
    ------
    MissingData, NotEnoughData
        When neither the events nor the leads say which campaign, channel or dates are meant.
    """
    src = tables.tables if hasattr(tables, "tables") else tables
    leads = src.get("leads")
    events = src.get("events")
    name, cid, channel, start = None, None, None, None
    if campaign and leads is not None and "campaign_id" in leads.columns and (leads["campaign_id"] == campaign).any():
        cid, name = campaign, campaign
    else:
        ev = find_event(events, campaign or None, kind="campaign", until=until)
        name, start = str(ev["name"]), pd.Timestamp(ev["date"])
        scope = str(ev.get("scope") or "")
        m = _ID_RE.search(scope)
        cid = m.group(1) if m else None
        m = _CHANNEL_RE.search(scope)
        channel = m.group(1).strip() if m else None
    if cid is not None and leads is not None and "campaign_id" in leads.columns:
        mine = leads[leads["campaign_id"] == cid]
        if len(mine):
            day = mine["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
            if "source" in mine.columns and channel is None:
                channel = str(mine["source"].mode().iat[0])
            return Campaign(name or cid, cid, channel or "", day.min(), day.max())
    if channel is None or start is None:
        raise NotEnoughData(
            f"cannot tell which channel campaign {name or campaign!r} ran in: give its campaign_id in "
            "`leads.campaign_id` or write `channel: NAME` in the event's scope"
        )
    return Campaign(name or "", cid, channel, start, start + pd.Timedelta(days=default_days - 1))


def _lift_panel(leads: pd.DataFrame, camp: Campaign, start: pd.Timestamp, pre_weeks: int) -> pd.DataFrame:
    weeks = max(1, camp.days // 7)
    end = start + pd.Timedelta(weeks=weeks)
    lo = start - pd.Timedelta(weeks=pre_weeks)
    counts = count_panel(leads[_naive_day(leads["created_at"]) >= lo], "created_at", "source", start, end)
    counts = counts[counts["period"] >= -pre_weeks]
    counts["treated"] = (counts["group"] == camp.channel).astype(int)
    counts["post"] = (counts["period"] >= 0).astype(int)
    counts["log_leads"] = np.log1p(counts["count"].astype(float))
    return counts


def _naive_day(ts: pd.Series) -> pd.Series:
    t = ts.dt.tz_convert("UTC").dt.tz_localize(None) if isinstance(ts.dtype, pd.DatetimeTZDtype) else ts
    return t.dt.normalize()


def _as_ratio(study: DidStudy) -> DidStudy:
    e = study.effect
    if not e.available:
        return study
    ratio = Estimate(e.name, float(np.exp(e.value)), float(np.exp(e.lower)), float(np.exp(e.upper)), e.p_value,
                     e.confidence, "ratio", e.n, e.method + "; outcome log(1 + weekly leads), shown as a ratio",
                     e.message, null=1.0)
    return DidStudy(study.name, ratio, study.pretrend, study.means, study.placebo, study.result, study.n_treated,
                    study.n_control, study.message)


def campaign_lift_study(
    data: Any,
    campaign: str | None = None,
    quarter: str | None = None,
    as_of: Any = None,
    pre_weeks: int = 13,
    placebo_years: int = 1,
    confidence: float = 0.95,
) -> tuple[Campaign | None, DidStudy]:
    r"""Did the campaign bring extra leads? Weekly leads of its channel against the other channels.

    Panel: one row per lead source (channel) and week, weeks counted from the campaign's first day, ``pre_weeks``
    weeks before it and the campaign's whole weeks; outcome :math:`\log(1 + \text{leads})`. The
    difference-in-differences (:func:`salesops.experiments.its.did_study`, channel and week fixed effects, errors
    clustered by channel) gives the campaign channel's extra log-volume, reported as a ratio
    :math:`e^{\hat\delta}` (1.4 = 40 % more leads than the other channels' trend implies). With a single treated
    channel the clustered interval is optimistic; the placebo (the same weeks ``placebo_years`` earlier, on data
    before the campaign) shows how large an "effect" noise alone produces.

    Returns
    -------
    (Campaign or None, DidStudy)
        The campaign evaluated and the study (``message`` says what is missing when there is no estimate).
    """
    name = "lead lift of the campaign's channel"
    try:
        cutoff = cutoff_of(quarter, as_of if as_of is not None else getattr(data, "as_of", None))
        tables = known_at(data, cutoff, ("events", "leads"))
        camp = resolve_campaign(tables, campaign, until=cutoff)
        leads = require_table(tables, "leads", ["created_at", "source"], "to count leads per channel and week")
    except (MissingData, NotEnoughData) as exc:
        msg = str(exc)
        return None, DidStudy(name, Estimate.unavailable(name, msg, "ratio"), Estimate.unavailable("pre-trend", msg),
                              pd.DataFrame(columns=["period", "group", "n", "mean", "lower", "upper"]), message=msg)
    name = f"{camp.name}: lead lift in {camp.channel}"
    first = _naive_day(leads["created_at"]).min()
    avail_pre = int((camp.start - first).days // 7)
    problems = []
    if avail_pre < pre_weeks:
        problems.append(f"{avail_pre} whole week(s) of leads before the campaign, {pre_weeks} needed")
    if camp.channel not in set(leads["source"]):
        problems.append(f"no lead from channel {camp.channel!r}")
    if camp.days < 7:
        problems.append(f"the campaign lasted {camp.days} day(s), under a week")
    if problems:
        msg = "too little data: " + "; ".join(problems) + "."
        return camp, DidStudy(name, Estimate.unavailable(name, msg, "ratio"), Estimate.unavailable("pre-trend", msg),
                              pd.DataFrame(columns=["period", "group", "n", "mean", "lower", "upper"]), message=msg)
    panel = _lift_panel(leads, camp, camp.start, pre_weeks)
    kw = dict(outcome="log_leads", unit="group", period="period", unit_label="log", confidence=confidence,
              min_treated=1, min_control=2, min_pre_periods=pre_weeks // 2)
    study = _as_ratio(did_study(panel, name, **kw))
    p_start = camp.start - pd.DateOffset(years=placebo_years)
    before = leads[_naive_day(leads["created_at"]) < camp.start]
    if (p_start - first).days // 7 >= pre_weeks:
        placebo = _as_ratio(did_study(_lift_panel(before, camp, p_start, pre_weeks), f"placebo: {name}", **kw))
    else:
        msg = f"too little data for a placebo {placebo_years} year(s) earlier: leads start {first.date()}"
        placebo = DidStudy(f"placebo: {name}", Estimate.unavailable(f"placebo: {name}", msg, "ratio"),
                           Estimate.unavailable("pre-trend", msg),
                           pd.DataFrame(columns=["period", "group", "n", "mean", "lower", "upper"]), message=msg)
    return camp, study.with_placebo(placebo)
