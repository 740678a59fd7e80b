"""The computation behind the what-if app: a plan's payouts precomputed as arrays, re-evaluated in
microseconds when a lever moves.

Levers: quota level (every quota times ``quota_level``), the rates of the base (50-100 %), accelerator
(100 % and up) and decelerator (below 50 %) tiers, the cap and the SPIF amount. Per rep :math:`r`, period
:math:`p` and measure :math:`m`:

.. math::

    \\text{pay}_r = \\sum_{p,m} S_{rpm}\\, G'(\\text{achieved}_{rpm} / (\\lambda\\, \\text{quota}_{rpm}))
    + \\text{spif}' \\cdot n^{\\text{spif}}_{r},

with :math:`G'` the changed payout curve and :math:`\\lambda` the quota level. Draws and clawbacks are left
out (they move cash between periods rather than change what the plan costs over the year).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesops.comp.engine import PayoutResult, commission_cents, compute_payouts
from salesops.comp.plan import CompPlan, load_plan

__all__ = ["Levers", "Scenario", "WhatIfModel"]


@dataclass(frozen=True)
class Levers:
    """Settings of the what-if controls (None keeps the plan's value; ``cap`` 0 means no cap)."""

    quota_level: float = 1.0
    base_rate: float | None = None
    accelerator: float | None = None
    decelerator: float | None = None
    cap: float | None = None
    spif_amount: float | None = None


@dataclass
class Scenario:
    """One evaluation: per-rep figures and totals.

    Attributes
    ----------
    reps : DataFrame
        ``rep_id, attainment`` (annual: achieved / quota over the periods), ``payout``, ``baseline_payout``,
        ``change``.
    total_payout, base_pay, bookings, cost_of_sales : float
        ``cost_of_sales = (base_pay + total_payout) / bookings``.
    attainment : ndarray
        Attainment per rep and period (for the histogram), NaN where the rep had no quota.
    """

    reps: pd.DataFrame
    total_payout: float
    base_pay: float
    bookings: float
    cost_of_sales: float
    attainment: np.ndarray

    def movers(self, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The ``n`` reps who gain most and the ``n`` who lose most against the baseline plan."""
        r = self.reps.sort_values("change", kind="stable")
        gain = r[r["change"] > 0].iloc[::-1].head(n)
        lose = r[r["change"] < 0].head(n)
        return gain, lose


class WhatIfModel:
    """A plan's payouts as arrays, re-evaluated for new lever settings.

    Parameters
    ----------
    plan : CompPlan
    achieved, quota, scale : ndarray
        Shape ``(reps, periods, measures)``: achieved and quota in the same unit (cents or units) and the
        dollar scale of each measure (see :func:`salesops.comp.engine.commission_cents`).
    spif_deals : ndarray
        Shape ``(reps, periods)``: deals that earn the SPIF.
    base_pay : ndarray
        Shape ``(reps,)``: base pay over the periods.
    rep_ids : sequence of str
    """

    def __init__(self, plan: CompPlan, achieved: np.ndarray, quota: np.ndarray, scale: np.ndarray,
                 spif_deals: np.ndarray, base_pay: np.ndarray, rep_ids) -> None:
        self.plan = plan
        self.achieved = np.asarray(achieved, dtype=float)
        self.quota = np.asarray(quota, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.spif_deals = np.asarray(spif_deals, dtype=float)
        self.base_pay = np.asarray(base_pay, dtype=float)
        self.rep_ids = np.asarray(rep_ids)
        self._money = 100.0 if plan.kind == "quota" else 1.0
        self._baseline = self._pay(plan, 1.0, self._spif(plan))

    @classmethod
    def from_result(cls, result: PayoutResult) -> WhatIfModel:
        """Arrays from :func:`~salesops.comp.engine.compute_payouts` (its ``measures`` and statements)."""
        m = result.measures
        reps = np.array(sorted(m["rep_id"].unique()))
        periods = np.array(sorted(m["period"].unique()))
        measures = [x.name for x in result.plan.measures]
        full = pd.MultiIndex.from_product([reps, periods, measures], names=["rep_id", "period", "measure"])
        mm = m.set_index(["rep_id", "period", "measure"]).reindex(full)
        shape = (len(reps), len(periods), len(measures))
        money = 100.0 if result.plan.kind == "quota" else 1.0
        achieved = (mm["achieved"].fillna(0).to_numpy() * money).round().reshape(shape)
        quota = (mm["quota"].fillna(0).to_numpy() * money).reshape(shape)
        scale = mm["scale"].fillna(0).to_numpy().reshape(shape)
        s = result.statements
        spif = s[s["line"] == "spif"].groupby(["rep_id", "period"]).size()
        spif = spif.reindex(pd.MultiIndex.from_product([reps, periods])).fillna(0).to_numpy().reshape(shape[:2])
        base = result.payouts.groupby("rep_id")["base_pay"].sum().reindex(reps).fillna(0).to_numpy()
        return cls(result.plan, achieved, quota, scale, spif, base, reps)

    @classmethod
    def from_data(cls, data, plan: CompPlan | str = "ae_standard", period: str | None = None) -> WhatIfModel:
        """Compute the plan's payouts on ``data`` for ``period`` (a year by default: the latest complete one,
        else the last four periods) and keep them as arrays."""
        plan = load_plan(plan) if isinstance(plan, str) else plan
        if period is None:
            full = compute_payouts(plan, data)
            years = full.payouts["period"].dt.year
            period = str(years.max())
            result = compute_payouts(plan, data, period=period)
        else:
            result = compute_payouts(plan, data, period=period)
        return cls.from_result(result)

    # --- evaluation ------------------------------------------------------------------------------------

    def _spif(self, plan: CompPlan) -> float:
        return plan.spif.amount if plan.spif is not None else 0.0

    def _pay(self, plan: CompPlan, quota_level: float, spif_amount: float) -> np.ndarray:
        cents = commission_cents(plan, self.achieved, self.quota * quota_level, self.scale)
        return cents.sum(axis=(1, 2)) / 100.0 + spif_amount * self.spif_deals.sum(axis=1)

    def plan_for(self, levers: Levers) -> CompPlan:
        """The plan with the levers applied (validated)."""
        cap: float | None | str = "keep"
        if levers.cap is not None:
            cap = None if levers.cap <= 0 else levers.cap
        return self.plan.with_changes(base_rate=levers.base_rate, accelerator=levers.accelerator,
                                      decelerator=levers.decelerator, cap=cap)

    def evaluate(self, levers: Levers | None = None, **kw) -> Scenario:
        """Payouts, cost of sales and attainment under ``levers`` (or keyword levers).

        ``cost_of_sales = (base pay + commission + SPIF) / achieved bookings``.
        """
        levers = levers or Levers(**kw)
        plan = self.plan_for(levers)
        spif = self._spif(self.plan) if levers.spif_amount is None else levers.spif_amount
        pay = self._pay(plan, levers.quota_level, spif)
        quota = self.quota * levers.quota_level
        with np.errstate(divide="ignore", invalid="ignore"):
            annual = self.achieved.sum(axis=(1, 2)) / quota.sum(axis=(1, 2))
            per_period = np.where(quota[:, :, 0] > 0, self.achieved[:, :, 0] / quota[:, :, 0], np.nan)
        bookings = self.achieved.sum() / self._money
        total, base = float(pay.sum()), float(self.base_pay.sum())
        reps = pd.DataFrame({"rep_id": self.rep_ids, "attainment": annual, "payout": pay,
                             "baseline_payout": self._baseline, "change": pay - self._baseline})
        cos = (base + total) / bookings if bookings > 0 else float("nan")
        return Scenario(reps, total, base, bookings, cos, per_period)
