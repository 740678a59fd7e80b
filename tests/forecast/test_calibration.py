import math

import numpy as np
import pandas as pd
import pytest

from salesops.forecast import (
    apply_factor,
    backtest,
    backtest_scores,
    calibrate_backtest,
    calibration_factors,
    conformal_factor,
    coverage_by_level,
    interval_scores,
)


def test_interval_scores_by_hand():
    # forecast 100, P10 80 (20 below), P90 130 (30 above)
    k = interval_scores([100] * 5, [80] * 5, [130] * 5, [70, 145, 110, 100, 80])
    assert k == pytest.approx([30 / 20, 45 / 30, 10 / 30, 0.0, 1.0])  # inside the interval: k <= 1
    # a side of zero width: infinite beyond it, 0 on it; a missing interval gives NaN
    k = interval_scores([100, 100, 100], [100, 100, np.nan], [120, 120, 120], [90, 100, 90])
    assert k[0] == math.inf and k[1] == 0.0 and np.isnan(k[2])


def test_conformal_factor_by_hand():
    # n = 5: rank ceil(6 x 0.8) = 5, the largest; n = 4: rank 4; n = 3: rank 4 > 3, no finite factor
    assert conformal_factor([2.0, 0.5, 3.0, 1.0, 1.5]) == 3.0
    assert conformal_factor([2.0, 0.5, 1.0, 1.5]) == 2.0
    assert conformal_factor([2.0, 0.5, 1.0]) == math.inf
    # n = 9: rank ceil(10 x 0.8) = 8; NaN scores are dropped
    assert conformal_factor([*np.arange(1, 10) / 10, np.nan]) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="coverage"):
        conformal_factor([1.0], coverage=1.0)


def test_apply_factor_keeps_the_forecast():
    t = pd.DataFrame({"forecast": [100.0, 10.0], "p10": [80.0, 5.0], "p90": [130.0, 12.0]})
    out = apply_factor(t, 3.0)
    assert out["forecast"].tolist() == [100.0, 10.0]
    assert out["p10"].tolist() == [40.0, 0.0]  # 100 - 3 x 20; 10 - 3 x 5 < 0 is clipped at 0
    assert out["p90"].tolist() == [190.0, 16.0]


def _rows(quarter: str, dimension: str, actuals: list[float]) -> pd.DataFrame:
    n = len(actuals)
    r = pd.DataFrame({"quarter": quarter, "point": "week 4", "method": "gbm", "dimension": dimension,
                      "group": [f"g{i}" for i in range(n)], "forecast": 100.0, "p10": 80.0, "p90": 130.0,
                      "actual": actuals})
    r["error"] = r["forecast"] - r["actual"]
    r["covered"] = ((r["p10"] <= r["actual"]) & (r["actual"] <= r["p90"])).astype(float)
    return r


def test_calibrate_backtest_by_hand():
    # segment scores: 2024Q1 -> 1.5, 0.5, 1.0, 2.0 (actuals 70, 90, 130, 160); 2024Q2 -> 0, 3.0 (100, 40)
    r = pd.concat([_rows("2024Q1", "segment", [70, 90, 130, 160]), _rows("2024Q2", "segment", [100, 40]),
                   _rows("2024Q3", "segment", [45, 150]), _rows("2024Q3", "total", [100])], ignore_index=True)
    c = calibrate_backtest(r)
    q1, q2, q3 = (c.loc[(c["quarter"] == q) & (c["dimension"] == "segment")] for q in ("2024Q1", "2024Q2", "2024Q3"))
    # 2024Q1: nothing before it, raw interval kept
    assert not q1["calibrated"].any() and (q1["p10"] == 80).all() and (q1["n_scores"] == 0).all()
    # 2024Q2: the 4 scores of 2024Q1, rank ceil(5 x 0.8) = 4 -> factor 2.0 -> [100 - 40, 100 + 60]
    assert q2["calibrated"].all() and (q2["factor"] == 2.0).all() and (q2["n_scores"] == 4).all()
    assert (q2["p10"] == 60).all() and (q2["p90"] == 160).all()
    assert q2["covered"].tolist() == [1.0, 0.0] and q2["raw_covered"].tolist() == [1.0, 0.0]
    # 2024Q3: 6 scores 0, 0.5, 1, 1.5, 2, 3, rank ceil(7 x 0.8) = 6 -> factor 3.0 -> [40, 190]
    assert (q3["factor"] == 3.0).all() and (q3["p10"] == 40).all() and (q3["p90"] == 190).all()
    assert q3["covered"].tolist() == [1.0, 1.0] and q3["raw_covered"].tolist() == [0.0, 0.0]
    # the total level has no earlier quarter of its own: not calibrated
    assert not c.loc[c["dimension"] == "total", "calibrated"].any()
    # point forecasts and errors are untouched
    assert c["forecast"].equals(r["forecast"]) and c["error"].equals(r["error"])
    cov = coverage_by_level(c).set_index("dimension")
    assert cov.loc["segment", "quarters"] == 2 and cov.loc["segment", "forecasts"] == 4
    assert cov.loc["segment", "coverage"] == 0.75 and cov.loc["segment", "coverage_raw"] == 0.25
    f = calibration_factors(r).set_index("dimension")
    assert f.loc["segment", "n_scores"] == 8 and f.loc["segment", "quarters"] == 3
    assert f.loc["total", "factor"] == math.inf


def test_calibrate_backtest_needs_the_backtest_columns():
    with pytest.raises(ValueError, match="lack column.*p90"):
        calibrate_backtest(pd.DataFrame({"quarter": ["2024Q1"], "method": "gbm", "dimension": "total",
                                         "forecast": [1.0], "p10": [0.5], "actual": [1.0]}))


def test_calibration_of_a_quarter_uses_nothing_from_it_or_later():
    rng = np.random.default_rng(3)
    quarters = [f"{y}Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)]
    r = pd.concat([_rows(q, dim, list(rng.uniform(40, 200, n)))
                   for q in quarters for dim, n in (("total", 1), ("segment", 3), ("team", 5))], ignore_index=True)
    base = calibrate_backtest(r)
    for cut in quarters[1:]:
        later = r["quarter"] >= cut
        changed = r.copy()
        changed.loc[later, "actual"] = rng.uniform(0, 1000, int(later.sum()))
        changed.loc[later, "p90"] = changed.loc[later, "p90"] * rng.uniform(1, 3, int(later.sum()))
        out = calibrate_backtest(changed)
        upto = (r["quarter"] <= cut).to_numpy()
        # the quarter's own factor and every earlier quarter's interval are as before
        assert out.loc[upto, "factor"].equals(base.loc[upto, "factor"])
        assert out.loc[upto, "n_scores"].equals(base.loc[upto, "n_scores"])
        before = (r["quarter"] < cut).to_numpy()
        assert out.loc[before, ["p10", "p90", "covered"]].equals(base.loc[before, ["p10", "p90", "covered"]])
    assert base.loc[base["quarter"] == "2025Q4", "calibrated"].all()


@pytest.mark.slow
def test_calibrated_coverage_on_the_sample_backtest(builder):
    """The full backtest as the Forecast page runs it for gbm (every quarter with four quarters of history,
    day 1 / week 4 / week 8, by segment and team, 1000 draws): 220 s on the loaded shared 2-core machine."""
    raw = backtest(builder, methods=("gbm",))
    c = calibrate_backtest(raw)
    cov = coverage_by_level(c).set_index("dimension")
    assert set(cov.index) == {"total", "segment", "team"}
    for dim in ("total", "segment", "team"):
        assert 0.70 <= cov.loc[dim, "coverage"] <= 0.90, (dim, cov.loc[dim].to_dict())
        assert cov.loc[dim, "quarters"] >= 6
    # the raw simulated interval is too narrow below the total (0.61 by segment, 0.60 by team in issue 17)
    assert cov.loc["segment", "coverage_raw"] < 0.70 and cov.loc["team", "coverage_raw"] < 0.70
    # the point forecast, hence WAPE and bias, are unchanged
    s_raw = backtest_scores(raw).set_index("dimension")
    s_cal = backtest_scores(c).set_index("dimension")
    assert np.allclose(s_raw["wape"], s_cal["wape"]) and np.allclose(s_raw["bias"], s_cal["bias"])
