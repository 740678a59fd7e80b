"""Personas: the choice of k on separable data, and on the sample the size segments with their planted win
rates and cycles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.leads import MissingDataError, choose_k, find_personas


def test_three_separated_groups_give_k_3():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 0.3, size=(150, 2)) for c in ((0, 0), (4, 0), (0, 4))])
    table = choose_k(X, range(2, 6))
    assert table.loc[table["chosen"], "k"].item() == 3
    assert table.set_index("k").loc[3, "stability"] > 0.95


@pytest.fixture(scope="module")
def three(sample):
    return find_personas(sample.accounts, sample.opportunities, sample.leads, k=3, as_of=sample.as_of)


def test_three_personas_recover_the_size_segments(three, sample, truth):
    profiles, table, model = three
    persona = model.assign(sample.accounts)
    purity = pd.crosstab(persona, sample.accounts["segment"]).max(axis=1).sum() / len(sample.accounts)
    assert purity > 0.85
    # ordered by size: SMB-like, Mid-Market-like, Enterprise-like
    segs = ["SMB", "Mid-Market", "Enterprise"]
    rates = truth["win_rates"]["realised"]
    cycles = truth["sales_cycle"]["realised_median_days"]
    for (_, row), seg in zip(profiles.iterrows(), segs):
        assert row["win_rate"] == pytest.approx(rates[seg], abs=0.03), (seg, row["win_rate"])
        assert row["cycle_median_days"] == pytest.approx(cycles[seg], rel=0.15), (seg, row["cycle_median_days"])
        assert row["win_rate_lower"] <= row["win_rate"] <= row["win_rate_upper"]
    assert profiles["deal_size_median"].is_monotonic_increasing
    assert table.loc[table["chosen"], "k"].item() == 3


def test_default_k_is_the_best_separated_stable_one(sample):
    profiles, table, _ = find_personas(sample.accounts, sample.opportunities, sample.leads, as_of=sample.as_of)
    stable = table[table["stability"] >= 0.8]
    assert table.loc[table["chosen"], "k"].item() == stable.loc[stable["silhouette"].idxmax(), "k"]
    assert len(profiles) == table.loc[table["chosen"], "k"].item()
    assert profiles["persona"].is_unique and profiles["companies"].sum() > 1000


def test_missing_data_is_named(sample):
    with pytest.raises(MissingDataError, match="employees"):
        find_personas(sample.accounts.drop(columns="employees"), sample.opportunities)
    with pytest.raises(MissingDataError, match="both missing"):
        find_personas(sample.accounts)
