"""Choosing the test for two rates: the z test, or Fisher's exact test when an expected count is below 5."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from salesops.stats.comparisons import (
    FISHER,
    TWO_PROPORTION,
    compare_rates,
    fisher_exact_test,
    two_proportion_test,
)


def test_large_counts_use_the_z_test_by_hand():
    r = compare_rates(52, 293, 102, 410)
    assert r.test == TWO_PROPORTION
    pooled = 154 / 703
    z = (52 / 293 - 102 / 410) / np.sqrt(pooled * (1 - pooled) * (1 / 293 + 1 / 410))
    assert r.p_value == pytest.approx(2 * sps.norm.sf(abs(z)))
    assert r.difference == pytest.approx(52 / 293 - 102 / 410)
    assert r.lower < r.difference < r.upper


def test_small_expected_counts_use_fisher():
    # 2 of 3 against 1 of 1: expected counts below 5, Fisher's p is 1 (the z test would be meaningless)
    r = compare_rates(2, 3, 1, 1)
    assert r.test == FISHER and r.p_value == pytest.approx(1.0)
    assert r.lower < 0 < r.upper
    # 1 of 20 against 9 of 20: min expected count = 20 * 10/40 = 5 -> z test; 1 of 18 vs 8 of 18: 4.5 -> Fisher
    assert compare_rates(1, 20, 9, 20).test == TWO_PROPORTION
    f = compare_rates(1, 18, 8, 18)
    assert f.test == FISHER
    assert f.p_value == pytest.approx(sps.fisher_exact([[1, 17], [8, 10]])[1])


def test_fisher_keeps_the_newcombe_interval_and_no_trials_give_nan():
    f = fisher_exact_test(3, 10, 7, 10)
    z = two_proportion_test(3, 10, 7, 10)
    assert (f.lower, f.upper, f.difference) == (z.lower, z.upper, z.difference)
    assert f.statistic == pytest.approx((3 * 3) / (7 * 7))  # odds ratio
    r = compare_rates(0, 0, 1, 1)
    assert r.test == "" and np.isnan(r.p_value) and np.isnan(r.difference)
