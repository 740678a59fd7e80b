from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.comp.engine import compute_payouts
from salesops.comp.plan import load_plan, parse_plan
from salesops.comp.simulate import AttainmentSampler, compare_plans, simulate_cost

LINEAR = parse_plan({"name": "linear", "role": "AE", "kind": "quota", "pay": {"ote": 80_000, "base_share": 0.5},
                     "measures": [{"name": "bookings"}], "tiers": [{"from": 0, "to": None, "rate": 1.0}]})


def test_constant_history_gives_a_known_cost():
    # each rep always attains the same: no randomness left; shrinkage strength 0 keeps reps on their own record
    h = pd.DataFrame({"rep_id": ["a", "a", "b", "b"], "attainment": [0.5, 0.5, 1.5, 1.5]})
    s = AttainmentSampler(strength=0.0).fit(h)
    r = simulate_cost(LINEAR, s, n_runs=50)
    # target 10,000 a quarter: a earns 4 x 5,000, b 4 x 15,000; base 2 x 40,000
    np.testing.assert_allclose(r.variable, 80_000.0)
    np.testing.assert_allclose(r.cost, 160_000.0)
    np.testing.assert_allclose(r.share_above_quota, 0.5)


def test_expected_cost_matches_the_shrunk_mixture_mean():
    h = pd.DataFrame({"rep_id": ["a"] * 4 + ["b"] * 12, "attainment": [0.2, 0.4, 0.6, 0.8] + [1.0, 2.0] * 6})
    s = AttainmentSampler(strength=4.0, seed=3).fit(h)
    pool = h["attainment"].mean()
    w = 4 / (4 + np.array([4, 12]))
    mean_att = (1 - w) * np.array([0.5, 1.5]) + w * pool
    r = simulate_cost(LINEAR, s, n_runs=20_000)
    assert r.variable.mean() == pytest.approx(10_000 * 4 * mean_att.sum(), rel=0.01)
    summary = r.summary()
    assert summary["p90_cost"] == pytest.approx(np.quantile(r.cost, 0.9))
    assert summary["p10_cost"] < summary["expected_cost"] < summary["p90_cost"]


def test_plans_side_by_side_on_the_same_draws(sample):
    res = compute_payouts("ae_standard", sample)
    hist = res.payouts[(res.payouts["employed_share"] == 1) & (res.payouts["period"].dt.year >= 2024)]
    s = AttainmentSampler(seed=7).fit(hist)
    plan = load_plan("ae_standard")
    richer = plan.with_changes(accelerator=3.0)
    table = compare_plans({"standard": plan, "accelerator 3": richer}, s, n_runs=2_000).set_index("plan")
    # a higher accelerator never costs less on the same draws; the share above quota does not depend on pay
    assert table.loc["accelerator 3", "expected_cost"] > table.loc["standard", "expected_cost"]
    assert table.loc["accelerator 3", "share_above_quota"] == table.loc["standard", "share_above_quota"]
    # the bootstrap keeps the historical attainment level: simulated quarterly mean ~ historical mean
    draws = s.sample(2_000, 4, np.random.default_rng(0))
    assert draws.mean() == pytest.approx(hist["attainment"].mean(), rel=0.05)
    # a 10 % higher quota lowers the cost
    hi = compare_plans({"a": plan, "b": plan}, s, n_runs=2_000, quota_scale={"b": 1.1}).set_index("plan")
    assert hi.loc["b", "expected_cost"] < hi.loc["a", "expected_cost"]


def test_history_needs_attainment():
    with pytest.raises(ValueError, match="history.attainment"):
        AttainmentSampler().fit(pd.DataFrame({"rep_id": ["a"]}))
