"""The what-if comparison without widgets: the current plan beside alternative lever settings, as tables for a
static page (the review's comp page) and the command that opens the live app.

Every figure comes from :meth:`WhatIfModel.evaluate <salesops.whatif.model.WhatIfModel.evaluate>`, so a row
here is what the app shows for the same settings; the current plan's row is
:func:`~salesops.comp.baseline.plan_cost` (the review's ``comp.cost_of_sales`` and ``comp.variable_pay``).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from salesops.whatif.model import Levers, Scenario, WhatIfModel

__all__ = ["app_command", "compare_levers", "format_comparison", "format_movers", "movers_table"]


def compare_levers(model: WhatIfModel, alternatives: Mapping[str, Levers]) -> tuple[pd.DataFrame, dict[str, Scenario]]:
    """The current plan and each alternative: totals and change from the current plan.

    Returns
    -------
    (DataFrame, dict of str to Scenario)
        One row per plan (``current plan`` first), columns ``cost_of_sales, variable_pay, base_pay, bookings,
        change_cost_of_sales`` (in points of bookings: proposed − current ratio) and ``change_variable_pay``;
        and the scenario of each alternative.
    """
    current = model.current
    rows = {"current plan": current}
    scenarios = {}
    for name, levers in alternatives.items():
        scenarios[name] = model.evaluate(levers)
        rows[name] = scenarios[name].cost
    table = pd.DataFrame({
        name: {"cost_of_sales": c.cost_of_sales, "variable_pay": c.variable_pay, "base_pay": c.base_pay,
               "bookings": c.bookings, "change_cost_of_sales": c.cost_of_sales - current.cost_of_sales,
               "change_variable_pay": round(c.variable_pay - current.variable_pay, 2)}
        for name, c in rows.items()
    }).T
    table.index.name = "plan"
    return table, scenarios


def format_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare_levers`'s table as text: ratios in %, changes in points, money in whole dollars."""
    def money(x: float) -> str:
        return f"-${-x:,.0f}" if x < 0 else f"${x:,.0f}"

    def signed(x: float) -> str:
        return "±$0" if round(x) == 0 else (f"+${x:,.0f}" if x > 0 else f"−${-x:,.0f}")

    return pd.DataFrame({
        "cost of sales": table["cost_of_sales"].map(lambda x: f"{x:.2%}"),
        "change": table["change_cost_of_sales"].map(
            lambda x: "±0.00 pt" if round(x * 1e4) == 0 else f"{x * 100:+.2f} pt".replace("-", "−")),
        "variable pay": table["variable_pay"].map(money),
        "change in variable pay": table["change_variable_pay"].map(signed),
        "base pay": table["base_pay"].map(money),
        "bookings": table["bookings"].map(money),
    }, index=table.index)


def movers_table(scenario: Scenario, n: int = 5) -> pd.DataFrame:
    """The ``n`` reps who gain most and the ``n`` who lose most, by name: ``side, name, rep_id,
    current_payout, proposed_payout, change`` (dollars), gainers first."""
    gain, lose = scenario.movers(n)
    parts = [df.assign(side=side) for side, df in (("gains", gain), ("loses", lose)) if len(df)]
    if not parts:
        return pd.DataFrame(columns=["side", "name", "rep_id", "current_payout", "proposed_payout", "change"])
    out = pd.concat(parts, ignore_index=True)
    return out.rename(columns={"baseline_payout": "current_payout", "payout": "proposed_payout"})[
        ["side", "name", "rep_id", "current_payout", "proposed_payout", "change"]]


def format_movers(movers: pd.DataFrame) -> pd.DataFrame:
    """:func:`movers_table` as text (whole dollars, signed change), indexed by side and name (no ids)."""
    out = movers.assign(
        current_payout=movers["current_payout"].map(lambda x: f"${x:,.0f}"),
        proposed_payout=movers["proposed_payout"].map(lambda x: f"${x:,.0f}"),
        change=movers["change"].map(lambda x: f"+${x:,.0f}" if x >= 0 else f"−${-x:,.0f}"),
    ).rename(columns={"current_payout": "current plan", "proposed_payout": "proposed"})
    return out.set_index(["side", "name"])[["current plan", "proposed", "change"]]


def app_command(source: str | Path, plan: str, period: str | None = None) -> str:
    """The ``salesops whatif`` command that opens the live app on ``source`` (shell-quoted). A source that is
    not a local file or folder (a database URL) is written as ``DATA``: credentials belong in ``${VAR}``
    references the reader types, not in a page."""
    path = Path(str(source))
    data = shlex.quote(str(path)) if path.exists() else "DATA"
    cmd = f"salesops whatif --data {data} --plan {shlex.quote(str(plan))}"
    return cmd + (f" --period {shlex.quote(str(period))}" if period else "")
