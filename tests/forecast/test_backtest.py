import numpy as np
import pandas as pd
import pytest

from salesops.forecast import backtest, backtest_quarters, backtest_scores


def test_scores_by_hand():
    r = pd.DataFrame({"method": "m", "dimension": "total", "forecast": [90.0, 230.0], "actual": [100.0, 200.0],
                      "p10": [80.0, 100.0], "p90": [95.0, 210.0]})
    r["error"] = r["forecast"] - r["actual"]
    r["covered"] = ((r["p10"] <= r["actual"]) & (r["actual"] <= r["p90"])).astype(float)
    s = backtest_scores(r).iloc[0]
    assert s["wape"] == pytest.approx(40 / 300) and s["bias"] == pytest.approx(20 / 300)
    assert s["coverage"] == 0.5


def test_backtest_quarters_need_four_quarters_of_history(builder):
    qs = [str(q) for q in backtest_quarters(builder)]
    assert qs == [f"{y}Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)]


def test_backtest_on_the_sample(builder, truth):
    r = backtest(builder, quarters=["2024Q2"], points={"day 1": 0, "week 4": 28},
                 methods=("weighted_pipeline", "commit", "gbm"), n_sims=400)
    total = r.loc[r["dimension"] == "total"]
    assert len(total) == 6
    actual = truth["seasonality"]["realised"]["bookings_by_quarter"]["2024Q2"]
    assert (total["actual"] == actual).all()
    for dim in ("segment", "team"):
        part = r.loc[r["dimension"] == dim].groupby(["point", "method"])[["actual", "forecast"]].sum()
        assert np.allclose(part["actual"], actual)
        tot = total.set_index(["point", "method"])["forecast"].reindex(part.index)
        assert np.allclose(part["forecast"], tot)  # groups add up to the total
    s = backtest_scores(total, by=["method"]).set_index("method")
    assert s.loc["gbm", "wape"] < s.loc["commit", "wape"]
    assert s.loc["commit", "bias"] < 0 and np.isnan(s.loc["commit", "coverage"])
