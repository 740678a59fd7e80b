"""The payout engine: attainment and payout per rep and period for a :class:`~salesops.comp.plan.CompPlan`.

Everything is computed in whole minor units (cents for money, units for counts) so that statements and
payouts agree to the cent:

* commission per rep, period and measure: ``round(100 x S x G(achieved / quota))`` cents, with ``G`` the
  plan's capped payout curve (:func:`salesops.comp.plan.payout_multiple`) and ``S`` the measure's scale;
* a statement line for a credited item is the increase of that quantity from the cumulative value before
  the item to the cumulative value after it (items in close order), so the lines telescope to the total;
* SPIF lines (fixed amount per qualifying deal), clawback lines (minus the deal's commission, in the
  period its account churned, when that is within ``clawback.days`` of the close) and a draw adjustment
  complete the statement: ``payout = commission + spif + clawback + draw_adjustment``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from salesops.comp.credit import credit_deals
from salesops.comp.plan import CompPlan, load_plan
from salesops.periods import COMPLETE_SLACK_DAYS

__all__ = [
    "DEAL_TYPES",
    "PayoutResult",
    "commission_cents",
    "compute_payouts",
    "cost_of_sales",
    "employment",
    "fit_plan_to_data",
    "plan_periods",
]

#: Opportunity types each money measure counts.
DEAL_TYPES = {
    "bookings": ("new_business", "expansion", "renewal"),
    "new_business": ("new_business",),
    "expansion": ("expansion",),
}
_FREQ = {"month": "M", "quarter": "Q", "year": "Y"}
_DAYS_PER_MONTH = 30.4375


class MissingCompInput(ValueError):
    """The data lack a table or column the plan needs (reps, quotas, deals...): the page cannot be computed.

    A :class:`ValueError`, so callers that caught one before still do; the comp page reads it as "not
    applicable to these data" rather than as a failure.
    """


@dataclass
class PayoutResult:
    """What :func:`compute_payouts` returns.

    Attributes
    ----------
    plan : CompPlan
    payouts : DataFrame
        One row per rep and period: ``rep_id, period, employed_share, target_incentive, base_pay,
        quota, achieved, attainment, commission, spif, clawback, draw_adjustment, payout``.
    measures : DataFrame
        One row per rep, period and measure: ``achieved, quota, attainment, scale, commission``.
    statements : DataFrame
        One row per statement line; grouped by rep and period its ``amount`` sums exactly to ``payout``.
    """

    plan: CompPlan
    payouts: pd.DataFrame
    measures: pd.DataFrame
    statements: pd.DataFrame


def commission_cents(plan: CompPlan, achieved: np.ndarray, denominator: np.ndarray,
                     scale: np.ndarray) -> np.ndarray:
    """Vectorised commission in cents: ``rint(100 x scale x G(achieved / denominator))``.

    ``achieved`` and ``denominator`` are in the same unit (cents of money or units); where the denominator
    is not positive the commission is 0. Arrays broadcast; any shape.
    """
    achieved = np.asarray(achieved, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    x = np.divide(achieved, denominator, out=np.zeros(np.broadcast(achieved, denominator).shape),
                  where=denominator > 0)
    return np.rint(100.0 * np.asarray(scale, dtype=float) * plan.multiple(x)).astype(np.int64)


def _naive(ts: pd.Series) -> pd.Series:
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        return ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return pd.to_datetime(ts)


def plan_periods(plan: CompPlan, first: pd.Timestamp, as_of: pd.Timestamp, period: str | None = None
                 ) -> pd.PeriodIndex:
    """Complete plan periods from ``first``'s period; ``period`` narrows them to a year (``"2025"``) or one
    period (``"2025Q4"``, ``"2025-03"``). A period is complete when ``as_of`` is at most
    :data:`salesops.periods.COMPLETE_SLACK_DAYS` days before its last day (as for the review's quarters)."""
    freq = _FREQ[plan.period]
    as_of = pd.Timestamp(as_of)
    if as_of.tzinfo is not None:
        as_of = as_of.tz_convert("UTC").tz_localize(None)
    last = pd.Period(as_of, freq)
    if (last.end_time.normalize() - as_of.normalize()).days > COMPLETE_SLACK_DAYS:
        last = last - 1
    periods = pd.period_range(pd.Period(pd.Timestamp(first), freq), last, freq=freq)
    if period:
        text = str(period)
        if len(text) == 4 and text.isdigit():
            periods = periods[periods.year == int(text)]
        else:
            try:
                wanted = pd.Period(text, freq)
            except ValueError as exc:
                raise ValueError(f"period {text!r} is neither a year nor a {plan.period}") from exc
            periods = periods[periods == wanted]
        if len(periods) == 0:
            raise ValueError(f"period {text!r} holds no complete {plan.period} of the data (as of {as_of.date()})")
    return periods


def employment(reps: pd.DataFrame, periods: pd.PeriodIndex, ramp: tuple[float, ...] = ()) -> pd.DataFrame:
    """Share of each period a rep was employed and the ramp-weighted share.

    ``employed_share = days employed / days in period``;
    ``ramped_share = sum over employed days of r(k) / days in period`` with ``k`` the tenure month
    (``floor((day - hire_date) / 30.4375)``), ``r(k) = ramp[k]`` for ``k < len(ramp)`` else 1. Missing
    ``hire_date`` means employed (and ramped) before the first period; missing ``end_date`` still employed.

    Returns
    -------
    DataFrame
        ``rep_id, period, employed_share, ramped_share``.
    """
    hire = pd.to_datetime(reps["hire_date"]) if "hire_date" in reps else pd.Series(pd.NaT, index=reps.index)
    end = pd.to_datetime(reps["end_date"]) if "end_date" in reps else pd.Series(pd.NaT, index=reps.index)
    h = hire.fillna(pd.Timestamp("1900-01-01")).to_numpy("datetime64[D]").astype(np.int64)
    e = end.fillna(pd.Timestamp("2200-01-01")).to_numpy("datetime64[D]").astype(np.int64)
    r = np.asarray(ramp, dtype=float)
    frames = []
    for p in periods:
        days = np.arange(np.datetime64(p.start_time.date(), "D").astype(np.int64),
                         np.datetime64(p.end_time.date(), "D").astype(np.int64) + 1)
        tenure = days[None, :] - h[:, None]
        on = (tenure >= 0) & (days[None, :] <= e[:, None])
        k = np.floor(tenure / _DAYS_PER_MONTH).astype(np.int64)
        factor = np.ones_like(tenure, dtype=float)
        if r.size:
            early = (k >= 0) & (k < r.size)
            factor[early] = r[k[early]]
        frames.append(pd.DataFrame({
            "rep_id": reps["rep_id"].to_numpy(), "period": p,
            "employed_share": on.sum(axis=1) / days.size,
            "ramped_share": (factor * on).sum(axis=1) / days.size,
        }))
    return pd.concat(frames, ignore_index=True)


def _ledger(plan: CompPlan, data, reps: pd.DataFrame, freq: str, splits, rollup: bool) -> pd.DataFrame:
    """Credited items: rep_id, period, measure, item_id, date, value (cents or units), deal columns."""
    in_scope = set(reps["rep_id"])
    parts = []
    credits = None
    for m in plan.measures:
        if m.name in DEAL_TYPES:
            if data.opportunities is None:
                raise MissingCompInput(f"the opportunities table is missing: measure {m.name!r} needs it")
            if credits is None:
                credits = credit_deals(data.opportunities, data.reps, splits=splits, rollup=rollup)
            c = credits[credits["type"].isin(DEAL_TYPES[m.name]) & credits["rep_id"].isin(in_scope)]
            parts.append(pd.DataFrame({
                "rep_id": c["rep_id"].to_numpy(), "measure": m.name, "item_id": c["opportunity_id"].to_numpy(),
                "date": pd.to_datetime(c["close_date"]).to_numpy(),
                "value": np.rint(c["amount"].to_numpy() * 100).astype(np.int64),
                "credited": c["amount"].to_numpy(), "credit_role": c["credit_role"].to_numpy(),
                "account_id": c["account_id"].to_numpy(), "type": c["type"].to_numpy(),
                "product": c["product"].to_numpy(),
            }))
        elif m.name == "sqls":
            leads = data.leads
            if leads is None or "sql_at" not in leads.columns or "owner_rep_id" not in leads.columns:
                raise MissingCompInput("leads.sql_at and leads.owner_rep_id are missing: measure 'sqls' needs them")
            q = leads.dropna(subset=["sql_at", "owner_rep_id"])
            q = q[q["owner_rep_id"].isin(in_scope)]
            parts.append(pd.DataFrame({
                "rep_id": q["owner_rep_id"].to_numpy(), "measure": "sqls", "item_id": q["lead_id"].to_numpy(),
                "date": _naive(q["sql_at"]).to_numpy(), "value": np.ones(len(q), dtype=np.int64),
                "credited": np.ones(len(q)), "credit_role": "owner",
            }))
        elif m.name == "meetings":
            act = data.activities
            if act is None or "outcome" not in act.columns:
                raise MissingCompInput("activities.outcome is missing: measure 'meetings' (meetings held) needs it")
            q = act[(act["type"] == "meeting") & (act["outcome"] == "held") & act["rep_id"].isin(in_scope)]
            parts.append(pd.DataFrame({
                "rep_id": q["rep_id"].to_numpy(), "measure": "meetings", "item_id": q["activity_id"].to_numpy(),
                "date": _naive(q["occurred_at"]).to_numpy(), "value": np.ones(len(q), dtype=np.int64),
                "credited": np.ones(len(q)), "credit_role": "owner",
            }))
    ledger = pd.concat(parts, ignore_index=True)
    ledger["period"] = pd.PeriodIndex(pd.DatetimeIndex(ledger["date"]), freq=freq)
    return ledger


def _denominators(plan: CompPlan, data, emp: pd.DataFrame) -> pd.DataFrame:
    """Per rep, period and measure: denominator (cents or units) and scale (dollars)."""
    ppy = plan.periods_per_year
    share = emp["employed_share"] if plan.prorate else (emp["employed_share"] > 0).astype(float)
    frames = []
    for m in plan.measures:
        d = emp[["rep_id", "period"]].copy()
        d["measure"] = m.name
        if plan.kind == "per_unit":
            d["denominator"] = plan.unit_quota * share.to_numpy()
            d["scale"] = m.weight * plan.unit_rate * d["denominator"]
        else:
            d["scale"] = m.weight * plan.variable_annual / ppy * share.to_numpy()
            if plan.quota is not None:
                ramped = emp["ramped_share"] if plan.prorate else emp["ramped_share"] / emp["employed_share"]
                d["denominator"] = plan.quota * (m.quota_share or 1.0) * ramped.fillna(0).to_numpy() * 100
            else:
                d["denominator"] = _table_quota(plan, data, m, d) * 100
        frames.append(d)
    out = pd.concat(frames, ignore_index=True)
    out["denominator"] = out["denominator"].fillna(0.0)
    return out


def _table_quota(plan: CompPlan, data, m, d: pd.DataFrame) -> np.ndarray:
    quotas = data.quotas
    if quotas is None:
        raise MissingCompInput("the quotas table is missing: a quota plan without its own `quota` needs it")
    measure_col = quotas["measure"] if "measure" in quotas else pd.Series("bookings", index=quotas.index)
    q = quotas[measure_col == m.name]
    factor = 1.0
    if q.empty:
        if m.quota_share is None:
            raise ValueError(f"quotas has no row with measure {m.name!r} and the plan gives no quota_share "
                             f"for it (measures[].quota_share)")
        q = quotas[measure_col == "bookings"]
        factor = m.quota_share
    q = q.assign(period=pd.PeriodIndex(pd.DatetimeIndex(q["period_start"]), freq=_FREQ[plan.period]))
    amount = q.groupby(["rep_id", "period"])["amount"].sum() * factor
    idx = pd.MultiIndex.from_arrays([d["rep_id"], d["period"]])
    return amount.reindex(idx).to_numpy()


def _tier_labels(plan: CompPlan) -> list[str]:
    labels = []
    for t in plan.tiers:
        upper = "+" if t.upper is None else f"-{t.upper:.0%}"
        labels.append(f"{t.lower:.0%}{upper} @ {t.rate:g}")
    return labels


def _churn_month(revenue: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per account, months whose MRR fell to zero after a positive month (churn months up to as_of)."""
    rev = revenue[["account_id", "month", "mrr"]].copy()
    rev["month"] = pd.to_datetime(rev["month"]).dt.to_period("M")
    rev = rev[rev["mrr"] > 0].sort_values(["account_id", "month"])
    nxt = rev.groupby("account_id")["month"].shift(-1)
    gap = nxt.isna() | (nxt != rev["month"] + 1)
    churn = rev.loc[gap, ["account_id"]].assign(churn_month=(rev.loc[gap, "month"] + 1))
    churn = churn[churn["churn_month"] <= pd.Period(as_of, "M")]
    return churn


def fit_plan_to_data(plan: CompPlan | str, data) -> tuple[CompPlan, list[str]]:
    """The plan without the parts the data cannot support, and a note for each part left out.

    A clawback needs the ``revenue`` table (churn); a SPIF on a product needs ``opportunities.product``.
    Measures cannot be left out: :func:`compute_payouts` raises a ValueError naming what a measure needs.

    Returns
    -------
    (CompPlan, list of str)
    """
    plan = load_plan(plan) if isinstance(plan, str) else plan
    notes, changes = [], {}
    if plan.clawback is not None and data.revenue is None:
        changes["clawback"] = None
        notes.append(f"clawback within {plan.clawback.days} days left out: the revenue table is missing")
    opp = data.opportunities
    if plan.spif is not None and plan.spif.product is not None and (opp is None or "product" not in opp.columns):
        changes["spif"] = None
        notes.append("SPIF left out: opportunities.product is missing")
    return (replace(plan, **changes) if changes else plan), notes


def compute_payouts(
    plan: CompPlan | str,
    data,
    period: str | None = None,
    splits: pd.DataFrame | None = None,
    rollup: bool = False,
    quota_scale: float = 1.0,
) -> PayoutResult:
    """Attainment, payout and statements per rep and period under ``plan``.

    For rep :math:`r`, period :math:`p` and measure :math:`m`: attainment
    :math:`x = \\text{achieved} / \\text{quota}`; commission :math:`S \\cdot G(x)` (see
    :mod:`salesops.comp.plan`); ``payout = commission + spif + clawback + draw_adjustment``. A recoverable
    draw :math:`D` pays :math:`\\max(D, e - b)` on earnings :math:`e` with balance :math:`b` owed, and the
    balance becomes :math:`b + \\text{paid} - e`; a non-recoverable draw pays :math:`\\max(D, e)`.

    Parameters
    ----------
    plan : CompPlan or str
        A plan or a template name.
    data : SalesData
        Needs ``reps`` and, per measure, ``opportunities`` (+ ``quotas`` unless the plan sets ``quota``),
        ``leads`` (sqls) or ``activities`` (meetings); ``revenue`` for a clawback.
    period : str, optional
        A year (``"2025"``) or one plan period (``"2025Q4"``); default every complete period.
    splits : DataFrame, optional
        Deal splits (``opportunity_id, rep_id, share``), see :func:`salesops.comp.credit.credit_deals`.
    rollup : bool
        Credit managers with their team's deals.
    quota_scale : float
        Multiply every quota (what-if).

    Returns
    -------
    PayoutResult
    """
    plan = load_plan(plan) if isinstance(plan, str) else plan
    if data.reps is None:
        raise MissingCompInput("the reps table is missing: the payout engine needs it")
    freq = _FREQ[plan.period]
    reps = data.reps[data.reps["role"] == plan.role]
    as_of = data.as_of if data.as_of is not None else pd.Timestamp.now(tz="UTC")
    ledger = _ledger(plan, data, reps, freq, splits, rollup)
    first = ledger["date"].min() if len(ledger) else pd.Timestamp(as_of).tz_localize(None)
    periods = plan_periods(plan, first, as_of, period)
    emp = employment(reps, periods, plan.ramp)
    dens = _denominators(plan, data, emp)
    dens["denominator"] = dens["denominator"] * (quota_scale if plan.kind == "quota" else 1.0)
    # a rep-period is in scope when the rep was employed and every measure has a quota
    ok = dens.assign(ok=dens["denominator"] > 0).groupby(["rep_id", "period"])["ok"].all()
    emp = emp.set_index(["rep_id", "period"])
    scope = emp.index[(emp["employed_share"] > 0).to_numpy() & ok.reindex(emp.index).fillna(False).to_numpy()]
    dens = dens.set_index(["rep_id", "period"]).loc[scope].reset_index()

    ledger = ledger[ledger["period"].isin(periods)]
    key = ["rep_id", "period", "measure"]
    ledger = ledger.merge(dens[key + ["denominator", "scale"]], on=key, how="inner")
    ledger = ledger.sort_values(key + ["date", "item_id", "credit_role"], kind="stable").reset_index(drop=True)

    # totals and commission per measure (independent of the statement lines)
    achieved = ledger.groupby(key)["value"].sum()
    meas = dens.copy()
    meas["achieved"] = achieved.reindex(pd.MultiIndex.from_frame(meas[key])).fillna(0).astype(np.int64).to_numpy()
    meas["commission_cents"] = commission_cents(plan, meas["achieved"], meas["denominator"], meas["scale"])
    meas["attainment"] = meas["achieved"] / meas["denominator"]

    # statement lines: commission increments, tier applied
    cum = ledger.groupby(key)["value"].cumsum().to_numpy()
    before = cum - ledger["value"].to_numpy()
    den, scale = ledger["denominator"].to_numpy(), ledger["scale"].to_numpy()
    line = commission_cents(plan, cum, den, scale) - commission_cents(plan, before, den, scale)
    x_after = cum / den
    lowers = np.array([t.lower for t in plan.tiers])
    tier_idx = np.searchsorted(lowers, x_after, side="left") - 1
    tier_idx = np.clip(tier_idx, 0, len(lowers) - 1)
    labels = np.array(_tier_labels(plan), dtype=object)[tier_idx]
    if plan.cap is not None:
        capped = plan.multiple(x_after) >= plan.cap - 1e-12
        labels = np.where(capped, f"capped at {plan.cap:g}x", labels)
    stm = pd.DataFrame({
        "rep_id": ledger["rep_id"], "period": ledger["period"], "line": "commission",
        "measure": ledger["measure"], "item_id": ledger["item_id"], "date": ledger["date"],
        "credited": ledger["credited"], "attainment_before": before / den, "attainment_after": x_after,
        "tier": labels, "cents": line,
    })
    lines = [stm]
    sellers = ledger["credit_role"].isin(["owner", "split"]).to_numpy()

    if plan.spif is not None and "product" in ledger:
        s = plan.spif
        hit = sellers & ledger["measure"].isin(list(DEAL_TYPES)).to_numpy()
        if s.product is not None:
            hit &= (ledger["product"] == s.product).to_numpy()
        if s.type is not None:
            hit &= (ledger["type"] == s.type).to_numpy()
        if s.start is not None:
            hit &= (ledger["date"] >= pd.Timestamp(s.start)).to_numpy()
        if s.end is not None:
            hit &= (ledger["date"] <= pd.Timestamp(s.end)).to_numpy()
        # one SPIF per deal and rep even when the deal counts for two measures
        sp = ledger.loc[hit].drop_duplicates(["rep_id", "item_id"])
        lines.append(pd.DataFrame({
            "rep_id": sp["rep_id"], "period": sp["period"], "line": "spif", "measure": sp["measure"],
            "item_id": sp["item_id"], "date": sp["date"], "credited": sp["credited"],
            "tier": f"SPIF {s.amount:g} per deal", "cents": np.int64(round(s.amount * 100)),
        }))

    if plan.clawback is not None and "account_id" in ledger:
        if data.revenue is None:
            raise ValueError("the revenue table is missing: the clawback (churn within N days) needs it")
        churn = _churn_month(data.revenue, pd.Timestamp(as_of))
        deals = stm.loc[sellers & ledger["measure"].isin(list(DEAL_TYPES)).to_numpy()].copy()
        deals["account_id"] = ledger.loc[deals.index, "account_id"]
        cand = deals.merge(churn, on="account_id")
        cand = cand[cand["churn_month"] > cand["date"].dt.to_period("M")]
        cand = cand.sort_values("churn_month").drop_duplicates(["rep_id", "item_id", "measure"])
        gap = (cand["churn_month"].dt.start_time - cand["date"]).dt.days
        cand = cand[gap <= plan.clawback.days]
        cand = cand.assign(period=pd.PeriodIndex(cand["churn_month"].dt.start_time, freq=freq))
        in_scope = pd.MultiIndex.from_frame(cand[["rep_id", "period"]]).isin(scope)
        cand = cand[in_scope & cand["period"].isin(periods).to_numpy()]
        lines.append(pd.DataFrame({
            "rep_id": cand["rep_id"], "period": cand["period"], "line": "clawback", "measure": cand["measure"],
            "item_id": cand["item_id"], "date": cand["churn_month"].dt.start_time, "credited": cand["credited"],
            "tier": f"churned within {plan.clawback.days} days", "cents": -cand["cents"].to_numpy(),
        }))

    stm = pd.concat([x for x in lines if len(x)] or [stm], ignore_index=True)
    per = pd.DataFrame(index=scope)
    for kind in ("commission", "spif", "clawback"):
        per[kind] = stm[stm["line"] == kind].groupby(["rep_id", "period"])["cents"].sum().reindex(scope)
    per = per.fillna(0).astype(np.int64)
    # commission from the totals (the statements must agree; tests check it)
    per["commission"] = meas.groupby(["rep_id", "period"])["commission_cents"].sum().reindex(scope).to_numpy()
    per["draw_adjustment"] = _draws(plan, per)
    if plan.draw is not None:
        adj = per.loc[per["draw_adjustment"] != 0, ["draw_adjustment"]].reset_index()
        lines2 = pd.DataFrame({
            "rep_id": adj["rep_id"], "period": adj["period"], "line": "draw",
            "tier": "recoverable draw" if plan.draw.recoverable else "non-recoverable draw",
            "cents": adj["draw_adjustment"].to_numpy(),
        })
        stm = pd.concat([stm, lines2], ignore_index=True)
    per["payout"] = per[["commission", "spif", "clawback", "draw_adjustment"]].sum(axis=1)

    emp_s = emp.loc[scope]
    share = emp_s["employed_share"].to_numpy() if plan.prorate else np.ones(len(scope))
    weights = {m.name: m.weight for m in plan.measures}
    meas["weighted"] = meas["attainment"] * meas["measure"].map(weights)
    agg = meas.groupby(["rep_id", "period"]).agg(quota=("denominator", "sum"), achieved=("achieved", "sum"),
                                                 attainment=("weighted", "sum")).reindex(scope)
    money = 100.0 if plan.kind == "quota" else 1.0
    payouts = pd.DataFrame({
        "rep_id": scope.get_level_values(0), "period": scope.get_level_values(1),
        "employed_share": emp_s["employed_share"].to_numpy(),
        "target_incentive": plan.variable_annual / plan.periods_per_year * share,
        "base_pay": plan.base_annual / plan.periods_per_year * share,
        "quota": agg["quota"].to_numpy() / money, "achieved": agg["achieved"].to_numpy() / money,
        "attainment": agg["attainment"].to_numpy(),
    })
    for col in ("commission", "spif", "clawback", "draw_adjustment", "payout"):
        payouts[col] = per[col].to_numpy() / 100.0
    payouts = payouts.sort_values(["rep_id", "period"]).reset_index(drop=True)
    stm["amount"] = stm["cents"] / 100.0
    stm = stm.sort_values(["rep_id", "period", "line", "date", "item_id"], kind="stable").reset_index(drop=True)
    meas = meas.assign(achieved=meas["achieved"] / money, quota=meas["denominator"] / money,
                       commission=meas["commission_cents"] / 100.0)
    meas = meas[["rep_id", "period", "measure", "achieved", "quota", "attainment", "scale", "commission"]]
    return PayoutResult(plan, payouts, meas.sort_values(key).reset_index(drop=True), stm)


def _draws(plan: CompPlan, per: pd.DataFrame) -> np.ndarray:
    """Draw adjustment (cents) per rep-period, sequentially per rep; see :func:`compute_payouts`."""
    adj = np.zeros(len(per), dtype=np.int64)
    if plan.draw is None:
        return adj
    draw = int(round(plan.draw.amount * 100))
    earned = (per["commission"] + per["spif"] + per["clawback"]).to_numpy()
    reps = per.index.get_level_values(0).to_numpy()
    start = 0
    for i in range(1, len(per) + 1):
        if i < len(per) and reps[i] == reps[start]:
            continue
        balance = 0
        for j, idx in enumerate(range(start, i)):
            e = int(earned[idx])
            eligible = plan.draw.periods is None or j < plan.draw.periods
            if plan.draw.recoverable:
                paid = max(draw, e - balance) if eligible else e - min(balance, max(e, 0))
                balance = balance + paid - e
            else:
                paid = max(draw, e) if eligible else e
            adj[idx] = paid - e
        start = i
    return adj


def cost_of_sales(result: PayoutResult, by: str | None = "period") -> pd.DataFrame:
    """Cost of sales of a plan: ``(base pay + payout) / credited bookings`` (and variable pay alone).

    Parameters
    ----------
    result : PayoutResult
    by : str or None
        ``"period"``, ``"rep_id"`` or None for one total row.

    Returns
    -------
    DataFrame
        ``base_pay, variable_pay, total_cost, achieved, cost_of_sales, variable_cost_of_sales``
        (the ratios are NaN where nothing was achieved; for per-unit plans ``achieved`` counts units and
        the ratios are cost per unit).
    """
    p = result.payouts
    grouped = p.groupby(by) if by else p.assign(_all="all").groupby("_all")
    out = grouped.agg(base_pay=("base_pay", "sum"), variable_pay=("payout", "sum"), achieved=("achieved", "sum"))
    out["total_cost"] = out["base_pay"] + out["variable_pay"]
    ach = out["achieved"].where(out["achieved"] > 0)
    out["cost_of_sales"] = out["total_cost"] / ach
    out["variable_cost_of_sales"] = out["variable_pay"] / ach
    return out.reset_index(drop=by is None)
