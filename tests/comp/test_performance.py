from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.comp.engine import compute_payouts
from salesops.comp.performance import (
    attainment_distribution,
    flag_reps,
    late_stages,
    performance_index,
    what_separates,
)
from salesops.funnel import find_bottlenecks
from salesops.io.data import SalesData
from salesops.stats.stratified_shrinkage import fit_shared_concentration, shrink_within_strata


@pytest.fixture(scope="module")
def index(sample):
    return performance_index(sample, period="2025Q4")


def test_planted_low_and_high_skill_aes_are_the_ones_flagged(index, truth):
    flags = flag_reps(index)
    skill = truth["rep_skill"]
    assert sorted(flags.loc[flags["flagged"], "rep_id"]) == sorted(skill["low_skill_rep_ids"])
    assert sorted(flags.loc[flags["recognised"], "rep_id"]) == sorted(skill["high_skill_rep_ids"])
    # raw win rates match the realised figures of the generator
    f = flags.set_index("rep_id")
    for rep, real in skill["realised"].items():
        assert f.loc[rep, "raw_rate"] == pytest.approx(real["win_rate"], abs=1e-5)
        assert f.loc[rep, "closed"] == real["closed"]


def test_index_uses_no_future_deals(sample, index):
    early = index[index["period"] == pd.Period("2024Q2", "Q")]
    opp = sample.opportunities
    closed = opp[opp["is_closed"] & (opp["close_date"] <= "2024-06-30")]
    r = early.set_index("rep_id").loc["R0004"]
    assert r["closed"] == (closed["owner_rep_id"] == "R0004").sum()


def test_flag_streak_by_hand():
    idx = pd.DataFrame({
        "rep_id": ["a"] * 4 + ["b"] * 4, "segment": "s",
        "period": list(pd.period_range("2025Q1", "2025Q4", freq="Q")) * 2,
        "closed": 10, "won": 3, "raw_rate": 0.3, "shrunk_rate": 0.3, "segment_rate": 0.3,
        "index": [0.8, 0.9, 0.85, 0.91, 0.85, 0.85, 0.95, 0.85],
    })
    f = flag_reps(idx, threshold=0.08, consecutive=3).set_index("rep_id")
    assert f.loc["a", "quarters_below"] == 4 and f.loc["a", "flagged"]
    assert f.loc["b", "quarters_below"] == 1 and not f.loc["b", "flagged"]


def test_shared_concentration_recovers_a_known_prior():
    rng = np.random.default_rng(1)
    strata = np.repeat(["x", "y", "z"], 300)
    mu = np.select([strata == "x", strata == "y"], [0.3, 0.15], 0.5)
    kappa = 40.0
    theta = rng.beta(kappa * mu, kappa * (1 - mu))
    n = rng.integers(50, 200, size=theta.size)
    x = rng.binomial(n, theta)
    assert fit_shared_concentration(x, n, strata) == pytest.approx(kappa, rel=0.25)
    out = shrink_within_strata(pd.Series(x), pd.Series(n), pd.Series(strata))
    # the shrunk estimates are closer to the true rates than the raw ones
    assert np.mean((out["shrunk_rate"] - theta) ** 2) < np.mean((x / n - theta) ** 2)


def test_shrink_by_hand():
    # two strata with equal rates and no spread: kappa at its upper bound, every rep at the pooled rate
    x, n = pd.Series([10, 10, 20, 20]), pd.Series([100, 100, 100, 100])
    out = shrink_within_strata(x, n, pd.Series(["a", "a", "b", "b"]))
    np.testing.assert_allclose(out["shrunk_rate"], [0.1, 0.1, 0.2, 0.2], atol=1e-4)
    np.testing.assert_allclose(out["index"], 1.0, atol=1e-3)


def test_attainment_distribution_by_hand():
    p = pd.DataFrame({"period": ["q"] * 4, "attainment": [0.2, 0.6, 1.0, 1.4]})
    d = attainment_distribution(p).iloc[0]
    assert d["reps"] == 4 and d["mean"] == pytest.approx(0.8) and d["p50"] == pytest.approx(0.8)
    assert d["share_at_quota"] == 0.5 and d["share_below_half"] == 0.25


def test_attainment_on_sample_against_planted_quota_rule(sample, truth):
    # quotas are 1.15 x mean bookings of tenured AEs: mean attainment of full-quarter AEs is about 1 / 1.15
    r = compute_payouts("ae_standard", sample)
    full = r.payouts[r.payouts["employed_share"] == 1]
    assert full["attainment"].mean() == pytest.approx(1 / 1.15, abs=0.05)


def test_what_separates(sample, index):
    flags = flag_reps(index)
    w = what_separates(sample, flags, period="2025Q4").set_index("group")
    assert w.loc["recognised", "win_rate"] > w.loc["others", "win_rate"] > w.loc["flagged", "win_rate"]
    assert w.loc["recognised", "reached_late_stage"] > w.loc["flagged", "reached_late_stage"]
    assert w["reps"].sum() == len(flags)


def _renamed(data: SalesData, rename) -> SalesData:
    """``data`` with every stage renamed by ``rename`` in the stage table, the history and the opportunities."""
    tables = dict(data.tables)
    for name in ("stages", "opportunity_history", "opportunities"):
        frame = tables[name].copy()
        frame["stage"] = frame["stage"].map(rename)
        tables[name] = frame
    return SalesData(tables=tables, quality=data.quality, as_of=data.as_of, source=data.source)


def test_late_stages_come_from_order_and_category_not_names(sample):
    assert late_stages(sample.stages) == {"Proposal", "Negotiation", "Closed Won"}
    # reversed names, shuffled rows: the order column decides, not the name or the row position
    table = sample.stages.sample(frac=1.0, random_state=3).assign(stage=lambda t: "S" + (10 - t["order"]).astype(str))
    assert late_stages(table) == {"S7", "S6", "S5"}
    # three open stages: the later half is the last two (k // 2 = 1 dropped)
    three = pd.DataFrame({"stage": ["a", "b", "c", "won", "lost"], "order": [1, 2, 3, 4, 5],
                          "is_closed": [False, False, False, True, True], "is_won": [False, False, False, True, False]})
    assert late_stages(three) == {"b", "c", "won"}
    with pytest.raises(ValueError, match="stages.order"):
        late_stages(three.drop(columns="order"))


def test_renamed_stages_give_identical_comp_and_funnel_results(sample, index):
    """Every stage renamed (``"X " + name``) in the stage table, the history and the opportunities: the comp and
    funnel figures are the same number for number (stage labels mapped back)."""
    renamed = _renamed(sample, lambda s: f"X {s}")
    flags = flag_reps(index)
    before = what_separates(sample, flags, period="2025Q4")
    after = what_separates(renamed, flag_reps(performance_index(renamed, period="2025Q4")), period="2025Q4")
    pd.testing.assert_frame_equal(before, after)
    assert before["reached_late_stage"].between(0.05, 0.95).all()  # a real share, not all or nothing
    b0 = find_bottlenecks(sample, "2025Q4")
    b1 = find_bottlenecks(renamed, "2025Q4")
    assert len(b0) > 0
    b1 = b1.assign(stage=b1["stage"].str.removeprefix("X "))
    pd.testing.assert_frame_equal(b0.reset_index(drop=True), b1.reset_index(drop=True), check_like=True)
