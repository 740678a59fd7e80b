"""The computation behind the what-if app: a plan's payouts precomputed as arrays, re-evaluated in
microseconds when a lever moves.

Levers: quota level (every quota times ``quota_level``), the rates of the base (50-100 %), accelerator
(100 % and up) and decelerator (below 50 %) tiers, the cap and the SPIF amount. Per rep :math:`r`, period
:math:`p` and measure :math:`m`:

.. math::

    \\text{pay}_r = \\sum_{p,m} S_{rpm}\\, G'(\\text{achieved}_{rpm} / (\\lambda\\, \\text{quota}_{rpm}))
    + \\text{spif}' \\cdot n^{\\text{spif}}_{r},

with :math:`G'` the changed payout curve and :math:`\\lambda` the quota level, plus the clawbacks of the
current plan (held at their amounts) and, for a plan with a draw, the draw adjustment recomputed per rep
and period on the new earnings (:func:`salesops.comp.engine.compute_payouts`). With no lever moved the
totals are the current plan's, computed by :func:`salesops.comp.baseline.plan_cost`, to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesops.comp.baseline import PlanCost, plan_cost, plan_year
from salesops.comp.engine import PayoutResult, _draws, commission_cents
from salesops.comp.plan import CompPlan

__all__ = ["Levers", "Scenario", "WhatIfModel", "rep_names"]


def rep_names(data) -> dict[str, str]:
    """Rep names by id from ``data.reps`` (empty when the table or its ``name`` column is missing)."""
    reps = data.reps
    if reps is None or "name" not in reps.columns:
        return {}
    return reps.dropna(subset=["name"]).set_index("rep_id")["name"].astype(str).to_dict()


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
        ``rep_id, name, attainment`` (annual: achieved / quota over the periods), ``payout``,
        ``baseline_payout``, ``change``.
    cost : PlanCost
        Totals through :meth:`PlanCost.of <salesops.comp.baseline.PlanCost.of>`:
        ``cost_of_sales = (base_pay + variable_pay) / bookings``.
    current : PlanCost
        The current plan's totals (:func:`~salesops.comp.baseline.plan_cost` of the engine's result).
    attainment : ndarray
        Attainment per rep and period (for the histogram), NaN where the rep had no quota.
    """

    reps: pd.DataFrame
    cost: PlanCost
    current: PlanCost
    attainment: np.ndarray

    @property
    def total_payout(self) -> float:
        """Variable pay of the scenario."""
        return self.cost.variable_pay

    @property
    def base_pay(self) -> float:
        return self.cost.base_pay

    @property
    def bookings(self) -> float:
        return self.cost.bookings

    @property
    def cost_of_sales(self) -> float:
        return self.cost.cost_of_sales

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
    clawback : ndarray, optional
        Shape ``(reps, periods)``: clawback of the current plan (negative dollars), held as it is.
    in_scope : ndarray of bool, optional
        Shape ``(reps, periods)``: the rep-periods the plan pays (the draw runs over these); default all.
    names : mapping of str to str, optional
        Rep names by id (shown instead of ids); default the ids.
    current : PlanCost, optional
        The current plan's totals; default the model's own evaluation with no lever moved.
    """

    def __init__(self, plan: CompPlan, achieved: np.ndarray, quota: np.ndarray, scale: np.ndarray,
                 spif_deals: np.ndarray, base_pay: np.ndarray, rep_ids, clawback: np.ndarray | None = None,
                 in_scope: np.ndarray | None = None, names=None, current: PlanCost | None = None) -> None:
        self.plan = plan
        self.achieved = np.asarray(achieved, dtype=float)
        self.quota = np.asarray(quota, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.spif_deals = np.asarray(spif_deals, dtype=float)
        self.base_pay = np.asarray(base_pay, dtype=float)
        self.rep_ids = np.asarray(rep_ids)
        shape = self.spif_deals.shape
        self.clawback = np.zeros(shape) if clawback is None else np.asarray(clawback, dtype=float)
        self.in_scope = np.ones(shape, dtype=bool) if in_scope is None else np.asarray(in_scope, dtype=bool)
        names = dict(names or {})
        self.names = np.array([str(names.get(r) or r) for r in self.rep_ids], dtype=object)
        self._money = 100.0 if plan.kind == "quota" else 1.0
        self.period: str | None = None
        self._baseline = self._pay(plan, 1.0, self._spif(plan))
        self.current = current if current is not None else self._cost(self._baseline)

    @classmethod
    def from_result(cls, result: PayoutResult, names=None) -> WhatIfModel:
        """Arrays from :func:`~salesops.comp.engine.compute_payouts` (its ``measures``, statements and
        payouts); the current plan's totals are :func:`~salesops.comp.baseline.plan_cost` of ``result``."""
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
        grid = pd.MultiIndex.from_product([reps, periods])
        per = result.payouts.set_index(["rep_id", "period"])
        clawback = per["clawback"].reindex(grid).fillna(0).to_numpy().reshape(shape[:2])
        in_scope = grid.isin(per.index).reshape(shape[:2])
        return cls(result.plan, achieved, quota, scale, spif, base, reps, clawback=clawback, in_scope=in_scope,
                   names=names, current=plan_cost(result))

    @classmethod
    def from_data(cls, data, plan: CompPlan | str = "ae_standard", period: str | None = None) -> WhatIfModel:
        """The current plan's year on ``data`` (:func:`~salesops.comp.baseline.plan_year`: the plan fitted to
        the data, ``period`` by default the latest year with a complete period), kept as arrays."""
        year = plan_year(plan, data, period=period)
        model = cls.from_result(year.result, names=rep_names(data))
        model.period = year.period
        return model

    # --- evaluation ------------------------------------------------------------------------------------

    def _spif(self, plan: CompPlan) -> float:
        return plan.spif.amount if plan.spif is not None else 0.0

    def _pay(self, plan: CompPlan, quota_level: float, spif_amount: float) -> np.ndarray:
        """Variable pay per rep in dollars: commission + SPIF + clawback (+ draw adjustment)."""
        commission = commission_cents(plan, self.achieved, self.quota * quota_level, self.scale).sum(axis=2)
        spif = np.rint(spif_amount * 100.0) * self.spif_deals
        clawback = np.rint(self.clawback * 100.0)
        cents = commission + spif + clawback
        if plan.draw is not None:
            r, p = np.nonzero(self.in_scope)  # row-major: per rep, periods in order
            per = pd.DataFrame({"commission": commission[r, p], "spif": spif[r, p], "clawback": clawback[r, p]},
                               index=pd.MultiIndex.from_arrays([r, p]))
            cents = cents.astype(float)
            cents[r, p] += _draws(plan, per.astype(np.int64))
        return np.where(self.in_scope, cents, 0).sum(axis=1) / 100.0

    def _cost(self, pay: np.ndarray) -> PlanCost:
        return PlanCost.of(self.base_pay.sum(), pay.sum(), self.achieved.sum() / self._money)

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
        reps = pd.DataFrame({"rep_id": self.rep_ids, "name": self.names, "attainment": annual, "payout": pay,
                             "baseline_payout": self._baseline, "change": pay - self._baseline})
        return Scenario(reps, self._cost(pay), self.current, per_period)
