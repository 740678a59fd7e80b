"""Territory design: exact optimum on a hand-made problem, conflicts named, the aggregated path, the sample
with owners kept, and the baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.territory import (
    TerritoryInfeasibleError,
    account_workload,
    assign_buckets,
    compare_designs,
    design_territories,
    evaluate_assignment,
    greedy_assignment,
    territories_from_reps,
)
from salesops.territory.design import MissingDataError


def problem(potential, workload=None, current=None, buckets=None, n_terr=2):
    n = len(potential)
    acc = pd.DataFrame({"account_id": [f"A{i}" for i in range(n)], "potential": np.asarray(potential, float),
                        "workload": np.asarray(workload if workload is not None else [1.0] * n, float),
                        "bucket": buckets or ["all"] * n, "current_territory": current or ["T0"] * n})
    terr = pd.DataFrame({"territory_id": [f"T{i}" for i in range(n_terr)], "bucket": "all"})
    return acc, terr


def test_exact_optimum_by_hand():
    # six equal accounts all in T0: ±5% on both values needs a 3/3 split, so exactly three move
    acc, terr = problem([10] * 6)
    d = design_territories(acc, terr, tolerance=0.05, max_moved_share=0.5)
    assert d.summary["method"] == "exact"
    assert d.summary["moved_accounts"] == 3
    assert d.assignment["territory_id"].value_counts().to_dict() == {"T0": 3, "T1": 3}
    assert d.summary["max_abs_deviation_potential"] == 0 and d.summary["meets_tolerance"]
    # the linear relaxation may move fractions of accounts: 6 x (0.5 - 0.05 / 2) = 2.85 of them
    assert d.summary["moved_share_lower_bound"] == pytest.approx(2.85 / 6)


def test_a_balanced_assignment_is_left_alone():
    # T0 holds 30 + 10 + 10 = 50 and T1 20 + 20 + 10 = 50: exact balance without a single move
    acc, terr = problem([30, 10, 10, 20, 20, 10], current=["T0", "T0", "T0", "T1", "T1", "T1"])
    d = design_territories(acc, terr, values=["potential"], tolerance=0.0, max_moved_share=1.0)
    assert d.summary["max_abs_deviation_potential"] == 0  # 50 / 50
    assert d.summary["moved_accounts"] == 0  # 30+10+10 = 20+20+10 already


def test_exact_minimum_moves_against_brute_force():
    rng = np.random.default_rng(4)
    pot = rng.integers(1, 20, 8).astype(float)
    cur = ["T0"] * 5 + ["T1"] * 3
    acc, terr = problem(pot, current=cur)
    d = design_territories(acc, terr, values=["potential"], tolerance=0.10, max_moved_share=1.0)
    best = None
    half = pot.sum() / 2
    for mask in range(2 ** 8):
        side = np.array([(mask >> i) & 1 for i in range(8)])
        load = np.array([pot[side == 0].sum(), pot[side == 1].sum()])
        if np.all(np.abs(load / half - 1) <= 0.10 + 1e-12):
            moves = int(((side == 1) != (np.array(cur) == "T1")).sum())
            best = moves if best is None else min(best, moves)
    assert d.summary["moved_accounts"] == best


def test_an_account_too_large_for_any_balanced_territory_is_named():
    acc, terr = problem([100, 10, 10, 10])
    with pytest.raises(TerritoryInfeasibleError, match="balance_potential: 1 account\\(s\\).*largest A0") as exc:
        design_territories(acc, terr)
    assert "balance_potential" in exc.value.conflicts


def test_capacity_and_segment_conflicts_are_named():
    acc, terr = problem([10] * 6)
    with pytest.raises(TerritoryInfeasibleError, match="capacity: 6 accounts in 'all' but the territories hold 4"):
        design_territories(acc, terr.assign(capacity=2))
    acc2 = acc.assign(bucket=["all"] * 5 + ["other"])
    with pytest.raises(TerritoryInfeasibleError, match="bucket 'other' has 1 accounts but no territory") as exc:
        design_territories(acc2, terr)
    assert exc.value.conflicts == ["segment_match"]


def test_balance_against_disruption_budget_is_named():
    acc, terr = problem([10] * 10)  # all in T0; balance needs 5 moves, the budget allows 1
    with pytest.raises(TerritoryInfeasibleError, match="disruption") as exc:
        design_territories(acc, terr, tolerance=0.05, max_moved_share=0.1)
    assert set(exc.value.conflicts) >= {"disruption", "balance_potential"} or set(exc.value.conflicts) >= {
        "disruption", "balance_workload"}


def test_aggregated_path_meets_the_tolerance_within_the_budget():
    rng = np.random.default_rng(2)
    n = 1500
    seg = rng.choice(["S", "M"], n, p=[0.6, 0.4])
    acc = pd.DataFrame({"account_id": [f"A{i}" for i in range(n)], "bucket": seg,
                        "potential": np.round(np.where(seg == "S", 30e3, 120e3) * np.exp(rng.normal(0, 0.5, n)), -2),
                        "workload": np.maximum(4, np.round(np.where(seg == "S", 10, 25) * np.exp(rng.normal(0, .4, n))))})
    terr = pd.DataFrame({"territory_id": [f"T{i}" for i in range(10)], "bucket": ["S"] * 6 + ["M"] * 4})
    acc["current_territory"] = [rng.choice(terr.loc[terr["bucket"] == b, "territory_id"]) for b in seg]
    d = design_territories(acc, terr, tolerance=0.05, max_moved_share=0.25, method="aggregate")
    s = d.summary
    assert s["method"] == "aggregate+repair" and s["meets_tolerance"]
    assert s["max_abs_deviation_potential"] <= 0.05 and s["max_abs_deviation_workload"] <= 0.05
    assert s["moved_share"] <= 0.25 and s["moved_share"] >= s["moved_share_lower_bound"] - 1e-9
    merged = d.assignment.merge(terr, on="territory_id", suffixes=("", "_t"))
    assert (merged["bucket"] == merged["bucket_t"]).all()  # segment match
    again = design_territories(acc, terr, tolerance=0.05, max_moved_share=0.25, method="aggregate")
    assert again.assignment["territory_id"].equals(d.assignment["territory_id"])


def _unowned_problem(seed: int = 5, n: int = 3000):
    """Two buckets, 16 territories, 15% of the accounts without a current territory (owner left)."""
    rng = np.random.default_rng(seed)
    seg = rng.choice(["S", "M"], n, p=[0.6, 0.4])
    acc = pd.DataFrame({"account_id": [f"A{i}" for i in range(n)], "bucket": seg,
                        "potential": np.round(np.where(seg == "S", 30e3, 120e3) * np.exp(rng.normal(0, 0.5, n)), -2),
                        "workload": np.maximum(4, np.round(np.where(seg == "S", 10, 25) * np.exp(rng.normal(0, .4, n))))})
    terr = pd.DataFrame({"territory_id": [f"T{i}" for i in range(16)], "bucket": ["S"] * 9 + ["M"] * 7})
    cur = [rng.choice(terr.loc[terr["bucket"] == b, "territory_id"]) for b in seg]
    acc["current_territory"] = np.where(rng.random(n) < 0.15, None, np.array(cur, dtype=object))
    return acc, terr


def test_warm_start_keeps_owners_deals_out_the_rest_and_meets_the_tolerance():
    acc, terr = _unowned_problem()
    d = design_territories(acc, terr, tolerance=0.05, max_moved_share=0.2, method="warm")
    s = d.summary
    assert s["method"] == "warm+repair" and s["meets_tolerance"] and s["milp_variables"] == 0
    assert s["max_abs_deviation_potential"] <= 0.05 and s["max_abs_deviation_workload"] <= 0.05
    assert s["moved_share"] <= 0.2 and s["unowned_accounts"] == acc["current_territory"].isna().sum()
    merged = d.assignment.merge(terr, on="territory_id", suffixes=("", "_t"))
    assert (merged["bucket"] == merged["bucket_t"]).all()
    assert "warm start" in " ".join(d.notes) and "not proven minimal" in " ".join(d.notes)
    # auto starts warm once the aggregated model is over aggregate_limit, and solves it below
    auto = design_territories(acc, terr, tolerance=0.05, max_moved_share=0.2, aggregate_limit=100)
    assert auto.summary["method"] == "warm+repair"
    assert auto.assignment["territory_id"].equals(d.assignment["territory_id"])
    small = design_territories(acc, terr, tolerance=0.05, max_moved_share=0.2)
    assert small.summary["method"] == "aggregate+repair"


def test_a_solver_out_of_time_is_not_called_infeasible(monkeypatch):
    import salesops.territory.design as design

    acc, terr = _unowned_problem(seed=6)
    real = design.milp

    def out_of_time(*args, **kwargs):  # what HiGHS returns when the time limit ends it before a solution
        res = real(*args, **kwargs)
        res.x, res.status, res.message = None, 1, "Time limit reached. (HiGHS Status 13: Time limit reached)"
        return res

    monkeypatch.setattr(design, "milp", out_of_time)
    d = design_territories(acc, terr, tolerance=0.05, max_moved_share=0.2, method="aggregate", time_limit=1)
    assert d.summary["method"] == "warm+repair" and d.summary["meets_tolerance"]
    assert "within 1 s" in " ".join(d.notes) and "Time limit reached" in " ".join(d.notes)


def test_greedy_by_hand():
    acc, terr = problem([5, 4, 3, 3, 3])
    g = greedy_assignment(acc, terr, values=["potential"])
    # largest first to the lightest territory: 5->T0, 4->T1, 3->T1 (4<5), 3->T0 (5<7), 3->T0 (8... T1 7<8) -> T1
    assert g.tolist() == ["T0", "T1", "T1", "T0", "T1"]
    by_t, summary = evaluate_assignment(acc, terr, g, values=["potential"])
    assert by_t.set_index("territory_id")["potential"].to_dict() == {"T0": 8.0, "T1": 10.0}
    assert summary["max_abs_deviation_potential"] == pytest.approx(1 / 9)


@pytest.fixture(scope="module")
def sample_design(sample):
    acc = sample.accounts.copy()
    acc["bucket"] = assign_buckets(acc)
    aes = sample.reps.loc[sample.reps["role"] == "AE", "rep_id"]
    acc["workload"] = account_workload(acc, sample.activities, as_of=sample.as_of, roles_rep_ids=aes).to_numpy()
    terr = territories_from_reps(sample.reps, as_of=sample.as_of)
    acc["current_territory"] = acc["owner_rep_id"].where(acc["owner_rep_id"].isin(terr["territory_id"]))
    return acc, terr, design_territories(acc, terr, tolerance=0.05, max_moved_share=0.20)


def test_sample_design_keeps_owners_within_budget_and_balances(sample_design):
    acc, terr, d = sample_design
    s = d.summary
    assert len(terr) == 32 and s["accounts"] == 4000
    assert s["max_abs_deviation_potential"] <= 0.05 and s["max_abs_deviation_workload"] <= 0.05
    assert s["moved_share"] <= 0.20
    table = compare_designs(acc, terr, {"current": acc["current_territory"],
                                         "greedy": greedy_assignment(acc, terr),
                                         "optimised": d.assignment["territory_id"]}).set_index("design")
    assert table.loc["current", "moved_share"] == 0 and table.loc["current", "max_abs_deviation_potential"] > 0.3
    assert table.loc["greedy", "moved_share"] > 0.5 > table.loc["optimised", "moved_share"]
    by_t = d.by_territory.set_index("territory_id")
    assert (by_t["gained"] - by_t["lost"]).sum() == 0


def test_workload_and_territories_from_the_sample(sample, sample_design):
    acc, terr, _ = sample_design
    assert set(terr["bucket"]) == {"SMB", "Mid-Market", "Enterprise"}
    assert terr["owner_rep_id"].isin(sample.reps.loc[sample.reps["end_date"].isna(), "rep_id"]).all()
    assert acc["workload"].min() >= 4
    window = sample.activities[(sample.activities["occurred_at"] > sample.as_of - pd.Timedelta(days=365))]
    aes = set(sample.reps.loc[sample.reps["role"] == "AE", "rep_id"])
    one = acc.sort_values("workload").iloc[-1]
    n = ((window["account_id"] == one["account_id"]) & window["rep_id"].isin(aes)).sum()
    assert one["workload"] == pytest.approx(n)
    with pytest.raises(MissingDataError, match="activities table is missing"):
        account_workload(acc, None)
    with pytest.raises(MissingDataError, match="accounts lack column 'potential'"):
        design_territories(acc.drop(columns="potential"), terr)
