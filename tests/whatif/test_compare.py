"""The static what-if comparison (the review's comp page): the app's numbers as tables."""

from __future__ import annotations

import pandas as pd

from salesops.whatif import Levers, WhatIfModel
from salesops.whatif.compare import (
    app_command,
    compare_levers,
    format_comparison,
    format_movers,
    movers_table,
)


def test_comparison_by_hand(tiny):
    m = WhatIfModel.from_data(tiny, "ae_standard", period="2025")
    table, scenarios = compare_levers(m, {"no cap": Levers(cap=0), "accelerator 1": Levers(accelerator=1.0)})
    assert list(table.index) == ["current plan", "no cap", "accelerator 1"]
    # A1: 89,250 under the plan; no cap pays Q3 at 4.75 x 25k (+56,250); accelerator 1 takes 5,000 off Q4
    assert table["variable_pay"].tolist() == [89_250.0, 145_500.0, 84_250.0]
    assert table["change_variable_pay"].tolist() == [0.0, 56_250.0, -5_000.0]
    assert table.loc["no cap", "change_cost_of_sales"] == (75_000 + 145_500) / 440_000 - (75_000 + 89_250) / 440_000
    text = format_comparison(table)
    assert text.loc["current plan"].tolist() == ["37.33%", "±0.00 pt", "$89,250", "±$0", "$75,000", "$440,000"]
    assert text.loc["no cap", "change"] == "+12.78 pt" and text.loc["accelerator 1", "change in variable pay"] == "−$5,000"
    assert scenarios["no cap"].cost == m.evaluate(cap=0).cost


def test_movers_by_name(tiny):
    m = WhatIfModel.from_data(tiny, "ae_standard", period="2025")
    movers = movers_table(m.evaluate(accelerator=1.0))
    assert movers[["side", "name", "rep_id", "change"]].values.tolist() == [["loses", "a1", "A1", -5_000.0]]
    text = format_movers(movers)
    assert text.loc[("loses", "a1")].tolist() == ["$89,250", "$84,250", "−$5,000"]
    assert movers_table(m.evaluate()).empty and isinstance(movers_table(m.evaluate()), pd.DataFrame)


def test_app_command(tmp_path):
    assert app_command(tmp_path, "ae_standard", "2025") == (
        f"salesops whatif --data {tmp_path} --plan ae_standard --period 2025")
    assert app_command("postgresql://u:${PW}@db/crm", "my plan.yaml") == "salesops whatif --data DATA --plan 'my plan.yaml'"
