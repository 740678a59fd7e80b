from __future__ import annotations

import pandas as pd
import pytest

from salesops.comp.credit import credit_deals
from salesops.comp.engine import compute_payouts


def test_owner_split_and_manager_rollup(tiny):
    splits = pd.DataFrame({"opportunity_id": ["D2", "D2"], "rep_id": ["A1", "A2"], "share": [0.6, 0.4]})
    c = credit_deals(tiny.opportunities, tiny.reps, splits=splits, rollup=True)
    d2 = c[c["opportunity_id"] == "D2"].set_index("rep_id")
    assert d2.loc["A1", "amount"] == 30_000.0 and d2.loc["A2", "amount"] == 20_000.0
    assert d2.loc["A1", "credit_role"] == "split"
    # the manager of both split reps is credited once with the whole deal
    assert d2.loc["M1", "amount"] == 50_000.0 and d2.loc["M1", "credit_role"] == "manager"
    d1 = c[c["opportunity_id"] == "D1"].set_index("rep_id")
    assert set(d1.index) == {"A1", "M1"} and d1.loc["A1", "credit_role"] == "owner"


def test_split_shares_must_sum_to_one(tiny):
    splits = pd.DataFrame({"opportunity_id": ["D2"], "rep_id": ["A1"], "share": [0.6]})
    with pytest.raises(ValueError, match="D2 sums to 0.6"):
        credit_deals(tiny.opportunities, splits=splits)


def test_rollup_needs_manager_id(tiny):
    with pytest.raises(ValueError, match="reps.manager_id"):
        credit_deals(tiny.opportunities, tiny.reps.drop(columns="manager_id"), rollup=True)


def test_split_changes_the_payout(tiny):
    splits = pd.DataFrame({"opportunity_id": ["D2", "D2"], "rep_id": ["A1", "A2"], "share": [0.6, 0.4]})
    r = compute_payouts("ae_standard", tiny, period="2025Q4", splits=splits)
    row = r.payouts.set_index("rep_id").loc["A1"]
    # 40k + 30k (60 % of 50k) + 30k = 100k: x = 1 -> G = 0.75 -> 18,750, less the 5,000 D1 clawback
    assert row["achieved"] == 100_000.0 and row["commission"] == 18_750.0 and row["payout"] == 13_750.0
