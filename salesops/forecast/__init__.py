"""Forecasting: point-in-time pipeline snapshots, baselines, models, the quarter forecast with its interval,
activity and pipeline-generation forecasts, roll-ups, the backtest harness and the
per-level calibration of its interval.

>>> import salesops as so
>>> from salesops import forecast
>>> data = so.load("data/sample")
>>> fc = forecast.forecast_quarter(data, "2026Q1", as_of=data.as_of, method="gbm")
>>> fc.summary(by="segment")  # doctest: +SKIP
"""

from ._common import AS_OF_POINTS, InsufficientHistoryError, MissingDataError, quarter_end, quarter_start
from .activity import activity_forecast, pipeline_generation_forecast, quarterly_series_forecast
from .backtest import actual_bookings, backtest, backtest_quarters, backtest_scores
from .calibration import (
    NOMINAL_COVERAGE,
    apply_factor,
    calibrate_backtest,
    calibration_factors,
    conformal_factor,
    coverage_by_level,
    interval_scores,
)
from .deals import quota_comparison, rollup, slippage, top_deals
from .models import SeasonalQuarterly, StageAgeConversion, WinTimingModel
from .next_quarter import next_quarter_forecast
from .quarter import (
    BASELINES,
    METHODS,
    MODELS,
    QuarterForecast,
    bookings_history,
    deal_features,
    forecast_quarter,
    history_quarters,
    training_frame,
)
from .readiness import Readiness, readiness
from .snapshot import SnapshotBuilder, snapshot

__all__ = [
    "AS_OF_POINTS", "BASELINES", "METHODS", "MODELS", "NOMINAL_COVERAGE", "InsufficientHistoryError", "MissingDataError",
    "QuarterForecast", "SeasonalQuarterly", "SnapshotBuilder", "StageAgeConversion", "WinTimingModel",
    "activity_forecast", "actual_bookings", "apply_factor", "calibrate_backtest", "calibration_factors",
    "conformal_factor", "coverage_by_level", "interval_scores", "backtest", "backtest_quarters", "backtest_scores", "bookings_history",
    "deal_features", "forecast_quarter", "history_quarters", "next_quarter_forecast", "pipeline_generation_forecast",
    "quarter_end", "quarter_start", "quarterly_series_forecast", "quota_comparison", "Readiness", "readiness", "rollup", "slippage", "snapshot", "top_deals", "training_frame",
]
