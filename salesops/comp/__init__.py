"""Compensation: plans as YAML, the payout engine, rep statements, performance management and simulation.

========================  ===================================================================================
``plan``                  the plan schema, validation (errors name the field) and the payout curve
``credit``                won deals credited to owners, splits and managers
``engine``                attainment, payout and statement lines per rep and period; cost of sales
``statements``            one rep's statement as a readable table
``performance``           attainment distribution, flagged and recognised reps, what separates them
``simulate``              Monte Carlo of next year's attainment and plan cost, plans side by side
========================  ===================================================================================
"""

from salesops.comp.engine import MissingCompInput, PayoutResult, compute_payouts, cost_of_sales
from salesops.comp.plan import CompPlan, PlanError, list_templates, load_plan, parse_plan

__all__ = [
    "CompPlan",
    "MissingCompInput",
    "PayoutResult",
    "PlanError",
    "compute_payouts",
    "cost_of_sales",
    "list_templates",
    "load_plan",
    "parse_plan",
]
