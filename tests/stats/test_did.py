"""Difference-in-differences, the pre-trend test and interrupted time series on data with known effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.stats._ols import cluster_vcov, hac_vcov, newey_west_lags, wls
from salesops.stats.did import diff_in_diff, interrupted_time_series, parallel_trends_test


def panel(
    rng: np.random.Generator,
    effect: float = 2.0,
    units: int = 40,
    periods: int = 8,
    first_post: int = 4,
    rho: float = 0.5,
    pre_trend: float = 0.0,
) -> pd.DataFrame:
    """Reps (half treated) over periods: rep effects, common period shocks, AR(1) noise within rep.

    outcome = 5 + rep + period shock + effect * treated * post + pre_trend * treated * period + noise.
    """
    unit = np.repeat(np.arange(units), periods)
    period = np.tile(np.arange(periods), units)
    treated = (unit < units // 2).astype(int)
    post = (period >= first_post).astype(int)
    noise = np.empty((units, periods))
    shocks = rng.normal(0, 1, (units, periods))
    noise[:, 0] = shocks[:, 0]
    for t in range(1, periods):
        noise[:, t] = rho * noise[:, t - 1] + np.sqrt(1 - rho**2) * shocks[:, t]
    outcome = (
        5 + rng.normal(0, 2, units)[unit] + rng.normal(0, 1, periods)[period] + effect * treated * post
        + pre_trend * treated * period + noise.ravel()
    )
    return pd.DataFrame(
        {"rep": [f"r{u:03d}" for u in unit], "month": period, "trained": treated, "after": post, "deals": outcome}
    )


COLUMNS = {"outcome": "deals", "treated": "trained", "post": "after", "unit": "rep", "period": "month"}


def test_two_by_two_is_the_difference_of_differences():
    df = panel(np.random.default_rng(0))
    res = diff_in_diff(df, **COLUMNS)
    m = df.groupby(["trained", "after"]).deals.mean()
    assert res.effect == pytest.approx((m[1, 1] - m[1, 0]) - (m[0, 1] - m[0, 0]))
    assert res.means.loc[1, 1] == pytest.approx(m[1, 1])
    assert res.method == "2x2" and res.df == 39 and res.n_units == 40 and res.n_treated_units == 20
    assert res.n_obs == 320 and res.lower < res.effect < res.upper
    assert res.pretrend is not None and res.pretrend.n_periods == 4
    twfe = diff_in_diff(df, **COLUMNS, fixed_effects=True)
    assert twfe.method == "twfe"
    assert twfe.effect == pytest.approx(res.effect)  # balanced panel: the same estimate


def test_cluster_robust_error_by_hand():
    # balanced 2x2 panel: the DiD is a difference of per-unit changes, so its cluster-robust variance is the
    # two-sample variance of those changes (times the CR1 factor G/(G-1) (N-1)/(N-K))
    df = panel(np.random.default_rng(1), units=12, periods=2, first_post=1)
    res = diff_in_diff(df, **COLUMNS)
    change = df.pivot(index="rep", columns="month", values="deals").diff(axis=1)[1]
    trained = df.groupby("rep").trained.first()
    a, b = change[trained == 1], change[trained == 0]
    var = ((a - a.mean()) ** 2).sum() / len(a) ** 2 + ((b - b.mean()) ** 2).sum() / len(b) ** 2
    factor = 12 / 11 * (24 - 1) / (24 - 4)
    assert res.effect == pytest.approx(a.mean() - b.mean())
    assert res.se == pytest.approx(np.sqrt(factor * var))
    assert "few clusters" in res.note and "no pre-trend test" in res.note and res.pretrend is None


def test_confidence_interval_covers_the_known_effect_and_placebo_is_quiet():
    covered = significant_placebo = flagged_trend = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        covered += (res := diff_in_diff(panel(rng, effect=2.0), **COLUMNS)).lower <= 2.0 <= res.upper
        placebo = diff_in_diff(panel(rng, effect=0.0), **COLUMNS)
        significant_placebo += placebo.p_value < 0.05
        flagged_trend += placebo.pretrend.p_value < 0.05
    assert covered >= 90
    assert significant_placebo <= 10  # not significant in most runs (nominal 5 of 100)
    assert flagged_trend <= 10  # parallel trends by construction


def test_twfe_coverage_with_unbalanced_panels():
    covered = 0
    for seed in range(100):
        rng = np.random.default_rng(1000 + seed)
        df = panel(rng, effect=1.5)
        df = df[rng.random(len(df)) > 0.2]  # a fifth of rep-months missing
        res = diff_in_diff(df, **COLUMNS, fixed_effects=True)
        covered += res.lower <= 1.5 <= res.upper
    assert covered >= 90


def test_parallel_trends_test_flags_a_diverging_pre_period():
    df = panel(np.random.default_rng(3), effect=0.0, pre_trend=0.6, periods=10, first_post=6)
    trend = parallel_trends_test(df, **COLUMNS)
    assert trend.p_value < 0.01 and trend.lower <= 0.6 <= trend.upper
    assert diff_in_diff(df, **COLUMNS).pretrend == trend


def test_weights_equal_repeated_rows():
    df = panel(np.random.default_rng(4))
    w = np.random.default_rng(5).integers(1, 4, size=len(df))
    weighted = diff_in_diff(df.assign(w=w), **COLUMNS, weights="w")
    repeated = diff_in_diff(df.loc[df.index.repeat(w)], **COLUMNS)
    assert weighted.effect == pytest.approx(repeated.effect)
    twfe_w = diff_in_diff(df.assign(w=w), **COLUMNS, weights="w", fixed_effects=True)
    twfe_r = diff_in_diff(df.loc[df.index.repeat(w)], **COLUMNS, fixed_effects=True)
    assert twfe_w.effect == pytest.approx(twfe_r.effect)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda d: d.drop(columns="after"), KeyError, "'after' \\(post\\)"),
        (lambda d: d.assign(trained=(d.month > 3).astype(int)), ValueError, "varies within"),
        (lambda d: d.assign(after=(d.rep < "r010") & (d.month > 3)), ValueError, "staggered"),
        (lambda d: d[~((d.trained == 1) & (d.after == 1))], ValueError, "all four"),
        (lambda d: d.assign(deals=np.where(d.month == 2, np.nan, d.deals)), ValueError, "missing values"),
        (lambda d: d.assign(trained=d.trained * 2), ValueError, "0/1"),
    ],
)
def test_did_errors_say_what_is_wrong(change, error, message):
    with pytest.raises(error, match=message):
        diff_in_diff(change(panel(np.random.default_rng(0))), **COLUMNS)


def test_parallel_trends_needs_two_pre_periods():
    df = panel(np.random.default_rng(0), periods=3, first_post=1)
    with pytest.raises(ValueError, match="at least 2"):
        parallel_trends_test(df, **COLUMNS)


# ------------------------------------------------------------------------------------------ robust covariances


def test_hac_with_no_lags_is_singleton_cluster_robust_and_matches_a_loop():
    rng = np.random.default_rng(6)
    X = np.column_stack([np.ones(50), rng.normal(size=50)])
    y = X @ [1.0, 2.0] + rng.normal(size=50) * (1 + np.abs(X[:, 1]))
    fit = wls(X, y)
    singleton, df = cluster_vcov(fit, np.arange(50))
    assert df == 49
    assert hac_vcov(fit, 0) == pytest.approx(singleton)  # G/(G-1) (N-1)/(N-K) = N/(N-K) when G = N
    lags = 3
    u = X * fit.resid[:, None]
    meat = sum(np.outer(u[t], u[t]) for t in range(50))
    for lag in range(1, lags + 1):
        for t in range(lag, 50):
            meat += (1 - lag / (lags + 1)) * (np.outer(u[t], u[t - lag]) + np.outer(u[t - lag], u[t]))
    by_loop = 50 / 48 * fit.bread @ meat @ fit.bread
    assert hac_vcov(fit, lags) == pytest.approx(by_loop)
    assert newey_west_lags(100) == 4 and newey_west_lags(50) == 3


# ------------------------------------------------------------------------------------------ interrupted series


def series(rng, n=120, level=3.0, slope=0.1, rho=0.0) -> pd.Series:
    shocks = rng.normal(0, 1, n)
    noise = np.empty(n)
    noise[0] = shocks[0] / np.sqrt(1 - rho**2)
    for t in range(1, n):
        noise[t] = rho * noise[t - 1] + shocks[t]
    t = np.arange(n)
    after = t >= n // 2
    y = 10 + 0.05 * t + level * after + slope * (t - n // 2) * after + noise
    return pd.Series(y, index=pd.date_range("2022-01-02", periods=n, freq="W"))


def test_its_recovers_a_noiseless_break():
    s = series(np.random.default_rng(0)) - series(np.random.default_rng(0), level=0, slope=0) + 7.0
    res = interrupted_time_series(s, s.index[60])
    assert res.level_change == pytest.approx(3.0) and res.slope_change == pytest.approx(0.1)
    assert res.coef.loc["pre_slope", "estimate"] == pytest.approx(0.0, abs=1e-12)
    assert res.n_pre == 60 and res.n_post == 60 and res.maxlags == 4
    assert res.counterfactual.iloc[-1] == pytest.approx(7.0)
    assert res.fitted.iloc[-1] == pytest.approx(7.0 + 3.0 + 0.1 * 59)


def test_its_intervals_cover_the_known_changes():
    level = slope = placebo = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        s = series(rng)
        c = interrupted_time_series(s, s.index[60]).coef
        level += c.loc["level_change", "lower"] <= 3.0 <= c.loc["level_change", "upper"]
        slope += c.loc["slope_change", "lower"] <= 0.1 <= c.loc["slope_change", "upper"]
        s0 = series(rng, level=0.0, slope=0.0)
        placebo += interrupted_time_series(s0, s0.index[60]).coef.loc["level_change", "p_value"] < 0.05
    assert level >= 90 and slope >= 90
    assert placebo <= 10


def test_its_hac_errors_widen_with_autocorrelation():
    # AR(1) noise (rho = 0.3, three years of weeks): Newey-West errors are wider than plain OLS ones and
    # cover nearly as often as they should (Newey-West is known to under-cover a little in short series)
    widened = covered = 0
    for seed in range(100):
        s = series(np.random.default_rng(seed), n=156, rho=0.3)
        hac = interrupted_time_series(s, s.index[78])
        white = interrupted_time_series(s, s.index[78], maxlags=0)
        widened += hac.coef.loc["level_change", "se"] > white.coef.loc["level_change", "se"]
        covered += hac.coef.loc["level_change", "lower"] <= 3.0 <= hac.coef.loc["level_change", "upper"]
    assert widened >= 80
    assert covered >= 85


def test_its_errors():
    s = series(np.random.default_rng(0), n=10)
    with pytest.raises(ValueError, match="at least 3"):
        interrupted_time_series(s, s.index[-2])
    with pytest.raises(ValueError, match="missing"):
        interrupted_time_series(s.where(s.index != s.index[4]), s.index[5])
    with pytest.raises(ValueError, match="duplicated"):
        interrupted_time_series(pd.concat([s, s.iloc[:1]]), s.index[5])
    with pytest.raises(TypeError, match="Series"):
        interrupted_time_series(s.to_numpy(), 5)
    with pytest.raises(ValueError, match="maxlags"):
        interrupted_time_series(s, s.index[5], maxlags=-1)
    # unsorted input is sorted, string dates compare with a DatetimeIndex
    assert interrupted_time_series(s.iloc[::-1], str(s.index[5].date())).n_post == 5
