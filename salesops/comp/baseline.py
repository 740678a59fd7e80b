"""The current plan's year: one computation behind every place that shows what the plan costs.

The review's comp page (``notebooks/06_comp_whatif.ipynb``), the ``comp.cost_of_sales`` and
``comp.variable_pay`` entries of ``metrics.json`` and the what-if app's "current plan" figures all come from
:func:`plan_year` and :func:`plan_cost`, so they agree to the cent.

.. math::

    \\text{cost of sales} = \\frac{\\text{base pay} + \\text{variable pay}}{\\text{credited bookings}},

with variable pay = commission + SPIF + clawback + draw adjustment, every amount summed over the reps and
periods of the plan year and rounded to the cent before the ratio is taken.
"""

from __future__ import annotations

from dataclasses import dataclass

from salesops.comp.engine import PayoutResult, compute_payouts, fit_plan_to_data
from salesops.comp.plan import CompPlan, load_plan

__all__ = ["PlanCost", "PlanYear", "plan_cost", "plan_year"]


@dataclass(frozen=True)
class PlanCost:
    """What a plan costs over its year (money rounded to the cent).

    Attributes
    ----------
    base_pay, variable_pay : float
        Summed over the reps and periods.
    bookings : float
        Credited bookings (units for per-unit plans).
    cost_of_sales : float
        ``(base_pay + variable_pay) / bookings``; NaN when nothing was booked.
    """

    base_pay: float
    variable_pay: float
    bookings: float
    cost_of_sales: float

    @classmethod
    def of(cls, base_pay: float, variable_pay: float, bookings: float) -> PlanCost:
        """Round the amounts to the cent and take the ratio (the one place the ratio is computed)."""
        base, var, booked = round(float(base_pay), 2), round(float(variable_pay), 2), round(float(bookings), 2)
        cos = (base + var) / booked if booked > 0 else float("nan")
        return cls(base, var, booked, cos)

    @property
    def total_cost(self) -> float:
        """``base_pay + variable_pay``."""
        return round(self.base_pay + self.variable_pay, 2)


def plan_cost(result: PayoutResult) -> PlanCost:
    """The totals of a payout result: base pay, variable pay (``payout``), bookings (``achieved``)."""
    p = result.payouts
    return PlanCost.of(p["base_pay"].sum(), p["payout"].sum(), p["achieved"].sum())


@dataclass(frozen=True)
class PlanYear:
    """A plan fitted to the data and computed over one year.

    Attributes
    ----------
    plan : CompPlan
        The plan without the parts the data cannot support (see
        :func:`~salesops.comp.engine.fit_plan_to_data`).
    notes : list of str
        One note per part left out.
    period : str
        The year (or period) computed.
    result : PayoutResult
    cost : PlanCost
    """

    plan: CompPlan
    notes: list[str]
    period: str
    result: PayoutResult
    cost: PlanCost


def plan_year(plan: CompPlan | str, data, period: str | None = None) -> PlanYear:
    """Fit ``plan`` to ``data`` and compute its payouts over ``period``.

    Parameters
    ----------
    plan : CompPlan or str
        A plan, a template name or a plan YAML file.
    data : SalesData
    period : str, optional
        A year (``"2025"``) or one plan period; default the latest year with a complete period.

    Returns
    -------
    PlanYear
    """
    plan = load_plan(plan) if isinstance(plan, str) else plan
    plan, notes = fit_plan_to_data(plan, data)
    if period is None:
        every = compute_payouts(plan, data)
        if every.payouts.empty:
            raise ValueError(f"plan {plan.name!r}: no complete period with reps of role {plan.role!r} and quotas")
        period = str(every.payouts["period"].max().year)
    result = compute_payouts(plan, data, period=period)
    return PlanYear(plan, notes, period, result, plan_cost(result))
