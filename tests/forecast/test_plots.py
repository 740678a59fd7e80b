import pandas as pd
from matplotlib.figure import Figure

from salesops.forecast import forecast_quarter, quota_comparison
from salesops.plots.forecast import plot_backtest_scores, plot_backtest_track, plot_forecast_vs_quota


def test_figures(tiny):
    fc = forecast_quarter(tiny, "2025Q1", "2025-02-10", method="weighted_pipeline")
    table = fc.summary("team").merge(quota_comparison(fc, tiny, by="team")[["team", "quota"]], on="team")
    assert isinstance(plot_forecast_vs_quota(table, by="team"), Figure)
    assert isinstance(plot_forecast_vs_quota(fc.summary().assign(quota=400.0)), Figure)
    r = pd.DataFrame({"quarter": ["2025Q1", "2025Q1"], "point": "day 1", "method": ["gbm", "weighted_pipeline"],
                      "dimension": "total", "group": "all", "forecast": [10.0, 8.0], "p10": [8.0, 7.0],
                      "p90": [12.0, 9.0], "actual": [11.0, 11.0]})
    scores = pd.DataFrame({"method": ["gbm", "commit"], "point": "day 1", "wape": [0.1, 0.3],
                           "coverage": [0.8, float("nan")]})
    assert isinstance(plot_backtest_scores(scores), Figure)
    assert isinstance(plot_backtest_track(r, "gbm", "day 1"), Figure)
    assert isinstance(plot_backtest_scores(scores.iloc[0:0]), Figure)
