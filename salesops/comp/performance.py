"""Performance management: the attainment distribution, reps flagged for consistent under-performance,
top performers recognised, and what separates the two groups.

Quarterly attainment is dominated by deal-size luck, so the flags rest on each AE's win rate relative to
their segment, shrunk (empirical Bayes, strata = segments sharing one prior concentration, see
:mod:`salesops.stats.stratified_shrinkage`) so that a rep with few closed deals is not flagged on noise,
and computed at every quarter end from the deals closed up to then (nothing from the future). A rep is
flagged when the shrunk index stays below ``1 - threshold`` for ``consecutive`` quarters in a row ending
at the quarter under review, and recognised when it stays above ``1 + threshold`` the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesops.funnel._common import stage_info
from salesops.periods import latest_complete_quarter
from salesops.stats.stratified_shrinkage import shrink_within_strata

__all__ = ["attainment_distribution", "late_stages", "performance_index", "flag_reps", "what_separates"]


def late_stages(stages: pd.DataFrame | None = None) -> frozenset[str]:
    """The stages that count as "late or won", read from the stage table's ``order`` and category columns.

    With the open stages (``is_closed`` false) sorted by ``order`` as :math:`o_1, \\dots, o_k`, the late ones are
    :math:`o_i` with :math:`i > \\lfloor k/2 \\rfloor` (the later half of the open funnel); the won stages
    (``is_closed`` and ``is_won``) are added. On the default table (four open stages) that is the third and
    fourth open stage and the won stage; no stage name is assumed.

    Parameters
    ----------
    stages : DataFrame, optional
        Columns ``stage, order, is_closed, is_won`` (default ``templates/stages.yaml``).

    Raises
    ------
    ValueError
        When the table lacks one of those columns.
    """
    info = stage_info(stages)
    k = len(info.open_stages)
    return frozenset(info.open_stages[k // 2:]) | info.won


def attainment_distribution(payouts: pd.DataFrame, by: str = "period",
                            quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> pd.DataFrame:
    """Distribution of attainment per ``by`` group: reps, quantiles, mean, share at or above quota
    (attainment >= 1) and share below 50 %.

    Parameters
    ----------
    payouts : DataFrame
        ``PayoutResult.payouts`` (``attainment`` and the ``by`` column).
    by : str
        Grouping column (``"period"`` by default).

    Returns
    -------
    DataFrame
        One row per group: ``reps, mean, p10 ... p90, share_at_quota, share_below_half``.
    """
    if "attainment" not in payouts.columns:
        raise ValueError("payouts.attainment is missing")
    g = payouts.groupby(by)["attainment"]
    out = pd.DataFrame({"reps": g.size(), "mean": g.mean()})
    for q in quantiles:
        out[f"p{round(q * 100)}"] = g.quantile(q)
    out["share_at_quota"] = g.apply(lambda s: float((s >= 1).mean()))
    out["share_below_half"] = g.apply(lambda s: float((s < 0.5).mean()))
    return out.reset_index()


def performance_index(data, period: str | None = None, role: str = "AE", first: str | None = None
                      ) -> pd.DataFrame:
    """Shrunk win rate relative to the segment, per AE and quarter end, from deals closed up to then.

    For quarter :math:`q`, rep :math:`j` in segment :math:`s`: :math:`x_j` won and :math:`n_j` closed
    deals with ``close_date <= end of q``; shrunk rate
    :math:`\\hat\\theta_j = (\\kappa\\mu_s + x_j) / (\\kappa + n_j)` with :math:`\\mu_s` the segment's
    pooled rate and :math:`\\kappa` fitted across segments; ``index`` :math:`= \\hat\\theta_j / \\mu_s`.

    Parameters
    ----------
    data : SalesData
        Needs ``opportunities`` (is_closed, is_won, close_date, owner_rep_id) and ``reps`` (role, segment).
    period : str, optional
        Last quarter (``"2025Q4"``); default the last complete quarter of ``data.as_of``.
    role : str
        Reps of this role.
    first : str, optional
        First quarter (default: the fourth quarter of the data, so every index rests on a year of deals).

    Returns
    -------
    DataFrame
        ``rep_id, segment, period, closed, won, raw_rate, shrunk_rate, lower, upper, segment_rate, index``.
    """
    if data.reps is None or "segment" not in data.reps.columns:
        raise ValueError("reps.segment is missing: win rates are compared within segments")
    opp = data.opportunities
    if opp is None:
        raise ValueError("the opportunities table is missing")
    reps = data.reps[(data.reps["role"] == role) & data.reps["segment"].notna()]
    seg = reps.set_index("rep_id")["segment"]
    closed = opp[opp["is_closed"].astype(bool) & opp["owner_rep_id"].isin(seg.index)]
    q_of = pd.PeriodIndex(pd.DatetimeIndex(closed["close_date"]), freq="Q")
    as_of = pd.Timestamp(data.as_of).tz_convert(None) if data.as_of is not None else closed["close_date"].max()
    last = pd.Period(period, "Q") if period else pd.Period(str(latest_complete_quarter(as_of)), "Q")
    if len(closed) == 0:
        raise ValueError("no closed opportunity of a rep with a segment: nothing to compare")
    start = pd.Period(first, "Q") if first else min(q_of.min() + 3, last)
    rows = []
    for q in pd.period_range(start, last, freq="Q"):
        sub = closed[q_of <= q]
        counts = sub.groupby("owner_rep_id")["is_won"].agg(["sum", "count"])
        counts = counts[counts["count"] > 0]
        if len(counts) < 2:
            continue
        res = shrink_within_strata(counts["sum"], counts["count"], seg.reindex(counts.index), confidence=0.9)
        rows.append(pd.DataFrame({
            "rep_id": counts.index, "segment": res["stratum"].to_numpy(), "period": q,
            "closed": counts["count"].to_numpy(), "won": counts["sum"].to_numpy(),
            "raw_rate": res["raw_rate"].to_numpy(), "shrunk_rate": res["shrunk_rate"].to_numpy(),
            "lower": res["lower"].to_numpy(), "upper": res["upper"].to_numpy(),
            "segment_rate": res["stratum_rate"].to_numpy(), "index": res["index"].to_numpy(),
        }))
    if not rows:
        raise ValueError("too few closed deals to compare reps")
    return pd.concat(rows, ignore_index=True)


def _streak(flags: np.ndarray) -> int:
    """Length of the run of True at the end of ``flags``."""
    n = 0
    for f in flags[::-1]:
        if not f:
            break
        n += 1
    return n


def flag_reps(index: pd.DataFrame, threshold: float = 0.08, consecutive: int = 3,
              period: str | None = None) -> pd.DataFrame:
    """Flag under-performers and recognise top performers from :func:`performance_index`.

    A rep is ``flagged`` when ``index < 1 - threshold`` in each of the ``consecutive`` quarters ending at
    ``period`` (default: the last quarter in ``index``), ``recognised`` when ``index > 1 + threshold``
    likewise. A rep employed for fewer quarters cannot be flagged.

    Returns
    -------
    DataFrame
        One row per rep at ``period``: ``rep_id, segment, closed, won, raw_rate, shrunk_rate, segment_rate,
        index, quarters_below, quarters_above, flagged, recognised``, sorted by index.
    """
    last = pd.Period(period, "Q") if period else index["period"].max()
    idx = index[index["period"] <= last].sort_values(["rep_id", "period"])
    out = []
    for rep, g in idx.groupby("rep_id"):
        if g["period"].iloc[-1] != last:
            continue
        below = _streak((g["index"] < 1 - threshold).to_numpy())
        above = _streak((g["index"] > 1 + threshold).to_numpy())
        row = g.iloc[-1]
        out.append({"rep_id": rep, "segment": row["segment"], "closed": int(row["closed"]), "won": int(row["won"]),
                    "raw_rate": row["raw_rate"], "shrunk_rate": row["shrunk_rate"],
                    "segment_rate": row["segment_rate"], "index": row["index"],
                    "quarters_below": below, "quarters_above": above,
                    "flagged": below >= consecutive, "recognised": above >= consecutive})
    cols = ["rep_id", "segment", "closed", "won", "raw_rate", "shrunk_rate", "segment_rate", "index",
            "quarters_below", "quarters_above", "flagged", "recognised"]
    return pd.DataFrame(out, columns=cols).sort_values("index").reset_index(drop=True)


def what_separates(data, flags: pd.DataFrame, period: str | None = None) -> pd.DataFrame:
    """Compare flagged, recognised and other reps: activity mix and stage conversion.

    Per rep, over deals and activities up to the end of ``period``: activities per employed working day
    and the share of calls / emails / meetings; win rate of closed deals; share of closed deals that
    reached a late stage or was won (:func:`late_stages` of ``data.stages``; from ``opportunity_history``, when
    present); the shrunk win-rate index of ``flags``
    (1 = segment rate). Then the mean of each per group.

    Returns
    -------
    DataFrame
        One row per group (``flagged``, ``recognised``, ``others``) and one column per measure, plus
        ``reps``.
    """
    group = np.where(flags["flagged"], "flagged", np.where(flags["recognised"], "recognised", "others"))
    g = pd.Series(group, index=flags["rep_id"])
    end = (pd.Period(period, "Q") if period else pd.Period(flags.attrs.get("period", "2100Q1"), "Q")).end_time
    per = pd.DataFrame(index=g.index)
    opp = data.opportunities
    opp = opp[opp["owner_rep_id"].isin(g.index) & (opp["close_date"] <= end)]
    closed = opp[opp["is_closed"].astype(bool)]
    per["win_rate"] = closed.groupby("owner_rep_id")["is_won"].mean()
    per["win_rate_vs_segment"] = flags.set_index("rep_id")["index"]
    if data.opportunity_history is not None:
        h = data.opportunity_history
        late = late_stages(getattr(data, "stages", None))
        reached = set(h.loc[h["stage"].isin(late), "opportunity_id"])
        per["reached_late_stage"] = closed.assign(r=closed["opportunity_id"].isin(reached)).groupby(
            "owner_rep_id")["r"].mean()
    if data.activities is not None:
        act = data.activities
        act = act[act["rep_id"].isin(g.index)]
        ts = act["occurred_at"]
        act = act[(ts.dt.tz_convert(None) if isinstance(ts.dtype, pd.DatetimeTZDtype) else ts) <= end]
        counts = act.groupby(["rep_id", "type"]).size().unstack(fill_value=0)
        total = counts.sum(axis=1)
        for t in counts.columns:
            per[f"share_{t}"] = counts[t] / total
        days = act.assign(day=act["occurred_at"].dt.floor("D")).groupby("rep_id")["day"].nunique()
        per["activities_per_day"] = total / days
    per["group"] = g
    out = per.groupby("group").mean(numeric_only=True)
    out.insert(0, "reps", per.groupby("group").size())
    return out.reindex([x for x in ("flagged", "recognised", "others") if x in out.index]).reset_index()
