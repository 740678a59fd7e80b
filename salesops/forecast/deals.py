"""What drives a quarter forecast: roll-ups that add up, the deals that carry it, and deal slippage."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from salesops.io.data import SalesData
from salesops.periods import Quarter

from ._common import as_quarter, as_utc, quarter_end, quarter_start
from .quarter import QuarterForecast
from .snapshot import SnapshotBuilder

__all__ = ["rollup", "top_deals", "slippage", "quota_comparison"]


def rollup(fc: QuarterForecast, levels: Sequence[str] = ("owner_rep_id", "manager_id", "team", "segment"))\
        -> pd.DataFrame:
    """The forecast at every level of a hierarchy, plus the total, in one long table.

    Each level's rows partition the deals, the closed deals and the not-yet-created shares, so at every level
    ``sum(forecast) = total forecast`` (and the same for ``closed``, ``open_expected``, ``not_yet_created``); the
    P10/P90 of a group are that group's own quantiles and do not add up.

    Returns
    -------
    DataFrame
        ``level, group, closed, open_expected, not_yet_created, forecast, p10, p50, p90``.
    """
    frames = [fc.summary().assign(level="total", group="all")]
    for lv in levels:
        s = fc.summary(lv)
        frames.append(s.assign(level=lv).rename(columns={lv: "group"}))
    out = pd.concat(frames, ignore_index=True)
    return out[["level", "group", "closed", "open_expected", "not_yet_created", "forecast", "p10", "p50", "p90"]]


def top_deals(fc: QuarterForecast, n: int = 10) -> pd.DataFrame:
    """The ``n`` open deals with the largest expected contribution ``p_win x ratio x amount``, with their share
    of the open pipeline's expected value."""
    d = fc.deals.sort_values("expected", ascending=False).head(n).copy()
    total = float(fc.deals["expected"].sum())
    d["share_of_open"] = d["expected"] / total if total > 0 else 0.0
    cols = ["opportunity_id", "owner_rep_id", "team", "segment", "stage", "forecast_category", "amount", "close_date",
            "pushes", "p_win", "expected", "share_of_open"]
    return d[cols].reset_index(drop=True)


def slippage(data: SalesData | SnapshotBuilder, quarter: Quarter | str, as_of: object | None = None,
             by: str | None = "segment") -> pd.DataFrame:
    """Fate of the deals that were expected to close in ``quarter`` at its start.

    Deals open at the quarter's first instant with a close date inside the quarter are followed to the quarter's
    end (or ``as_of`` if earlier): ``won`` (won with a close date in the quarter), ``lost``, ``slipped`` (still
    open, or won later, with a close date after the quarter) or ``open`` (still open with a close date in the
    quarter, only before its end). Shares are of deal counts; ``slipped_amount`` sums their starting amounts.

    Returns
    -------
    DataFrame
        ``[by, deals, won, lost, slipped, open, slip_rate, slipped_amount]``.
    """
    builder = data if isinstance(data, SnapshotBuilder) else SnapshotBuilder(data)
    q = as_quarter(quarter)
    start = builder.at(quarter_start(q))
    end_t = quarter_end(q) if as_of is None else min(as_utc(as_of), quarter_end(q))
    end = builder.at(end_t).set_index("opportunity_id")
    due = start.loc[~start["is_closed"] & start["close_date"].between(pd.Timestamp(q.start), pd.Timestamp(q.end))]
    later = end.reindex(due["opportunity_id"])
    in_q = later["close_date"].between(pd.Timestamp(q.start), pd.Timestamp(q.end)).to_numpy()
    won = later["is_won"].to_numpy(bool) & in_q
    lost = later["is_closed"].to_numpy(bool) & ~later["is_won"].to_numpy(bool)
    slipped = ~won & ~lost & ~in_q
    fate = pd.DataFrame({"group": due[by].to_numpy() if by else "all", "won": won, "lost": lost, "slipped": slipped,
                         "open": ~won & ~lost & ~slipped, "amount": due["amount"].to_numpy()})
    out = fate.groupby("group").agg(deals=("won", "size"), won=("won", "sum"), lost=("lost", "sum"),
                                    slipped=("slipped", "sum"), open=("open", "sum"))
    out["slip_rate"] = out["slipped"] / out["deals"]
    out["slipped_amount"] = fate.loc[fate["slipped"]].groupby("group")["amount"].sum().reindex(out.index).fillna(0.0)
    return out.reset_index().rename(columns={"group": by or "group"})


def quota_comparison(fc: QuarterForecast, data: SalesData, by: str | None = None) -> pd.DataFrame:
    """The forecast against quota, per ``by`` (a reps column such as ``team`` or ``segment``) or in total.

    Quota = sum of ``quotas.amount`` (measure ``bookings``) of periods starting inside the forecast quarter. When no
    quota is loaded for that quarter, the latest quarter that has quotas stands in and ``quota_quarter`` says which.
    ``attainment = forecast / quota``, with ``p10_attainment``/``p90_attainment`` from the interval.

    Raises
    ------
    MissingDataError
        Without the quotas table.
    """
    from ._common import require

    quotas = require(data, "quotas", ["rep_id", "period_start", "amount"], purpose="a forecast against quota")
    if "measure" in quotas.columns:
        quotas = quotas.loc[quotas["measure"].fillna("bookings") == "bookings"]
    q = as_quarter(fc.quarter)
    starts = pd.PeriodIndex(pd.DatetimeIndex(quotas["period_start"]), freq="Q").astype(str)
    which = str(q) if (starts == str(q)).any() else (max(s for s in starts if s <= str(q)) if len(starts) else None)
    if which is None:
        raise ValueError(f"no bookings quota at or before {q} in the quotas table")
    part = quotas.loc[starts == which]
    if by:
        reps = require(data, "reps", ["rep_id", by], purpose=f"quota by {by}")
        part = part.assign(**{by: part["rep_id"].map(reps.set_index("rep_id")[by]).fillna("(unknown)")})
        quota = part.groupby(by)["amount"].sum()
        s = fc.summary(by).set_index(by)
        s = s.join(quota.rename("quota"), how="outer").reset_index()
    else:
        s = fc.summary().assign(quota=float(part["amount"].sum()))
    s["quota_quarter"] = which
    s["attainment"] = s["forecast"] / s["quota"]
    s["p10_attainment"] = s["p10"] / s["quota"]
    s["p90_attainment"] = s["p90"] / s["quota"]
    cols = ([by] if by else []) + ["quarter", "quota_quarter", "quota", "forecast", "p10", "p90", "attainment",
                                   "p10_attainment", "p90_attainment"]
    return s[cols]
