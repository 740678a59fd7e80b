"""Kaplan–Meier, its median and the log-rank test: hand computations, edge cases, the Maven CRM cycle times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from salesops.stats.survival import kaplan_meier, km_by_group, km_median, logrank_test

Z95 = 1.959963984540054

# Seven deals: closed at days 1, 2, 3 and 4; still open (censored) at days 2, 4 and 5.
DURATIONS = [1, 2, 2, 3, 4, 4, 5]
OBSERVED = [1, 1, 0, 1, 0, 1, 0]


def test_kaplan_meier_by_hand():
    km = kaplan_meier(DURATIONS, OBSERVED)
    # t  at risk  events  censored   S(t)
    # 1     7       1        0       6/7
    # 2     6       1        1       6/7 * 5/6 = 5/7         (the deal censored at 2 is at risk at 2)
    # 3     4       1        0       5/7 * 3/4 = 15/28
    # 4     3       1        1       15/28 * 2/3 = 5/14
    # 5     1       0        1       5/14
    assert km.time.tolist() == [1, 2, 3, 4, 5]
    assert km.at_risk.tolist() == [7, 6, 4, 3, 1]
    assert km.events.tolist() == [1, 1, 1, 1, 0]
    assert km.censored.tolist() == [0, 1, 0, 1, 1]
    assert km.survival.tolist() == pytest.approx([6 / 7, 5 / 7, 15 / 28, 5 / 14, 5 / 14])
    # Greenwood at t = 3: S^2 * (1/(7*6) + 1/(6*5) + 1/(4*3))
    g3 = 1 / 42 + 1 / 30 + 1 / 12
    assert km.variance[2] == pytest.approx((15 / 28) ** 2 * g3)
    # log-log band at t = 3: sigma = sqrt(g3) / |log S|, bounds S ** exp(+-z sigma)
    s3 = 15 / 28
    sigma = np.sqrt(g3) / abs(np.log(s3))
    assert km.lower[2] == pytest.approx(s3 ** np.exp(Z95 * sigma))
    assert km.upper[2] == pytest.approx(s3 ** np.exp(-Z95 * sigma))
    assert km.attrs == {"n": 7, "events": 4, "confidence": 0.95}


def test_median_and_its_interval_by_hand():
    med = km_median(DURATIONS, OBSERVED)
    assert med.median == 4.0  # first time S <= 0.5: S(3) = 0.536, S(4) = 0.357
    km = kaplan_meier(DURATIONS, OBSERVED)
    # lower limit: first time the band's lower edge is <= 0.5; upper: first time its upper edge is
    assert med.lower == km.time[km.lower <= 0.5].min()
    assert np.isnan(med.upper)  # the upper edge stays above 0.5 (0.70 at the end)
    assert "upper confidence limit" in med.note
    assert (med.n, med.events) == (7, 4)


def test_band_stays_in_unit_interval_and_brackets_the_curve():
    rng = np.random.default_rng(1)
    t = rng.exponential(30, size=300).round()
    e = rng.random(300) < 0.7
    km = kaplan_meier(t, e, confidence=0.9)
    assert ((0 <= km.lower) & (km.lower <= km.survival) & (km.survival <= km.upper) & (km.upper <= 1)).all()
    assert km.survival.is_monotonic_decreasing


def test_without_censoring_the_median_is_the_lower_empirical_median():
    # n even and the two middle values differ: numpy.median averages them, the KM median does not
    x = [3, 1, 4, 1, 5, 9, 2, 6]  # sorted 1 1 2 3 4 5 6 9: middle values 3 and 4
    assert km_median(x).median == 3.0 == np.quantile(x, 0.5, method="inverted_cdf")
    assert np.median(x) == 3.5
    y = [3, 1, 4, 1, 5, 9, 2]  # odd n: all definitions agree
    assert km_median(y).median == np.median(y) == 3.0
    rng = np.random.default_rng(0)
    for _ in range(20):
        z = rng.integers(0, 50, size=rng.integers(1, 60))
        assert km_median(z).median == np.quantile(z, 0.5, method="inverted_cdf")


def test_a_curve_that_drops_to_exactly_one_half():
    # 1 - 1/2 must count as reaching 0.5 although cumulated products carry rounding
    assert km_median(list(range(1, 101))).median == 50.0
    km = kaplan_meier([1, 1, 2, 2])
    assert km.survival.tolist() == [0.5, 0.0]
    assert np.isnan(km.variance[1]) and km.lower[1] == km.upper[1] == 0.0  # S = 0: Greenwood undefined


def test_all_censored_group_has_a_nan_median_with_an_explanation():
    med = km_median([5, 8, 13], [0, 0, 0])
    assert np.isnan(med.median) and np.isnan(med.lower) and np.isnan(med.upper)
    assert "all 3 durations are censored" in med.note
    km = kaplan_meier([5, 8, 13], [False, False, False])
    assert (km.survival == 1.0).all() and (km.lower == 1.0).all() and (km.variance == 0).all()


def test_median_not_reached():
    med = km_median([1, 2, 3, 4, 5, 6], [1, 0, 0, 0, 0, 0])
    assert np.isnan(med.median)
    assert "median not reached" in med.note and "0.833" in med.note


def test_left_truncation_by_hand():
    # deal A enters at 0, closes at 4; B enters at 2, closes at 3; C enters at 3, censored at 6
    km = kaplan_meier([4, 3, 6], [1, 1, 0], entry=[0, 2, 3])
    # at t = 3: A, B, C at risk (entry <= 3 <= duration), one event -> S = 2/3
    # at t = 4: A and C at risk, one event -> S = 2/3 * 1/2 = 1/3
    assert km.at_risk.tolist() == [3, 2, 1]
    assert km.survival.tolist() == pytest.approx([2 / 3, 1 / 3, 1 / 3])
    with pytest.raises(ValueError, match="entry is after"):
        kaplan_meier([1, 2], [1, 1], entry=[2, 0])


def test_timedelta_durations_are_days():
    start = pd.to_datetime(pd.Series(["2024-01-01", "2024-01-01", "2024-01-05"]))
    end = pd.to_datetime(pd.Series(["2024-01-11", "2024-01-03", "2024-01-06"]))
    km = kaplan_meier(end - start)
    assert km.time.tolist() == [1.0, 2.0, 10.0]


@pytest.mark.parametrize(
    ("durations", "observed", "message"),
    [
        ([1, -2], None, "negative"),
        ([1, np.nan], None, "missing"),
        ([1, 2], [1, 2], "0/1"),
        ([1, 2], [1], "2 durations"),
        ([1, 2], [1.0, np.nan], "missing"),
    ],
)
def test_bad_input_is_named(durations, observed, message):
    with pytest.raises(ValueError, match=message):
        kaplan_meier(durations, observed)


def test_km_by_group():
    frame = pd.DataFrame(
        {
            "days": [1, 2, 2, 3, 4, 4, 5, 10, 20, 30],
            "closed": [1, 1, 0, 1, 0, 1, 0, 0, 0, 0],
            "segment": ["smb"] * 7 + ["ent"] * 3,
        }
    )
    out = km_by_group(frame, "days", "closed", "segment")
    assert out.index.tolist() == ["ent", "smb"]
    assert out.loc["smb", "median"] == 4.0 and out.loc["smb", "n"] == 7 and out.loc["smb", "events"] == 4
    assert np.isnan(out.loc["ent", "median"]) and "censored" in out.loc["ent", "note"]
    assert out.loc["ent", "censored"] == 3
    two = km_by_group(frame.assign(region=["n", "s"] * 5), "days", None, ["segment", "region"])
    assert two.index.names == ["segment", "region"] and len(two) == 4
    with pytest.raises(KeyError, match="missing"):
        km_by_group(frame, "days", "won", "segment")


def test_logrank_by_hand():
    # group a closes at 1, 2, 3; group b closes at 2 and is still open at 4
    #  t   n_a n_b  d_a d_b   n  d   E_a = d n_a / n   V = d (n_a/n)(n_b/n)(n-d)/(n-1)
    #  1    3   2    1   0    5  1   3/5               1 * 3/5 * 2/5 * 4/4   = 6/25
    #  2    2   2    1   1    4  2   2*2/4 = 1         2 * 1/2 * 1/2 * 2/3   = 1/3
    #  3    1   1    1   0    2  1   1/2               1 * 1/2 * 1/2 * 1/1   = 1/4
    res = logrank_test([1, 2, 3], [1, 1, 1], [2, 4], [1, 0])
    o_a, e_a, v = 3, 3 / 5 + 1 + 1 / 2, 6 / 25 + 1 / 3 + 1 / 4
    assert res.observed_a == o_a and res.expected_a == pytest.approx(e_a)
    assert res.observed_b == 1 and res.expected_b == pytest.approx(4 - e_a)
    assert res.statistic == pytest.approx((o_a - e_a) ** 2 / v)
    assert res.p_value == pytest.approx(sps.chi2.sf((o_a - e_a) ** 2 / v, 1))


def test_logrank_size_and_power():
    rng = np.random.default_rng(3)
    null_rejections = power = 0
    for _ in range(200):
        a, b, c = rng.exponential(10, 60), rng.exponential(10, 60), rng.exponential(20, 60)
        censor = rng.exponential(30, 60)
        obs = a < censor
        null_rejections += logrank_test(np.minimum(a, censor), obs, b, None).p_value < 0.05
        power += logrank_test(a, None, c, None).p_value < 0.05
    assert null_rejections <= 20  # nominal 5 % of 200 = 10
    assert power >= 150


def test_logrank_without_events():
    res = logrank_test([1, 2], [0, 0], [3], [0])
    assert np.isnan(res.statistic) and np.isnan(res.p_value)


@pytest.mark.real
def test_maven_cycle_time_medians(maven_pipeline):
    closed = maven_pipeline[maven_pipeline.deal_stage.isin(["Won", "Lost"])]
    days = (closed.close_date - closed.engage_date).dt.days
    assert len(days) == 6711
    everything = km_median(days)  # no censoring: all closed
    won = km_median(days[closed.deal_stage == "Won"])
    assert everything.median == 45 == np.quantile(days, 0.5, method="inverted_cdf")  # README: 45 days
    assert won.median == 57 == np.quantile(days[closed.deal_stage == "Won"], 0.5, method="inverted_cdf")  # 57
    assert everything.lower <= 45 <= everything.upper and won.lower <= 57 <= won.upper
    # won deals take longer than lost ones
    lost = closed.deal_stage == "Lost"
    test = logrank_test(days[~lost], None, days[lost], None)
    assert test.p_value < 1e-6 and test.observed_a < test.expected_a


@pytest.mark.real
def test_maven_open_deals_are_censored(maven_pipeline):
    engaged = maven_pipeline[maven_pipeline.engage_date.notna()].copy()
    snapshot = maven_pipeline.close_date.max()  # the export's last day
    engaged["days"] = (engaged.close_date.fillna(snapshot) - engaged.engage_date).dt.days
    engaged["closed"] = engaged.close_date.notna()
    by_stage = km_by_group(engaged, "days", "closed", "deal_stage")
    assert by_stage.loc["Engaging", "n"] == 1589 and np.isnan(by_stage.loc["Engaging", "median"])
    assert "all 1589 durations are censored" in by_stage.loc["Engaging", "note"]
    assert by_stage.loc["Won", "median"] == 57
    # open deals count as "not closed yet": the time to close of an engaged deal is longer than that of the
    # closed deals alone, which is exactly the bias of dropping them
    overall = km_median(engaged.days, engaged.closed)
    assert overall.median > 45
