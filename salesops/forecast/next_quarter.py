"""The forecast a quarterly review shows: the quarter after the one under review, made at its end.

The Forecast page and the executive summary both call :func:`next_quarter_forecast`, so the review quotes one
number for next quarter.
"""

from __future__ import annotations

from salesops.io.data import SalesData
from salesops.periods import Quarter

from ._common import as_quarter, as_utc, quarter_end
from .quarter import METHODS, QuarterForecast, forecast_quarter
from .readiness import Readiness, readiness

__all__ = ["next_quarter_forecast"]


def next_quarter_forecast(
    data: SalesData,
    quarter: Quarter | str,
    method: str = "gbm",
    fallback: str | None = None,
) -> tuple[QuarterForecast | None, Readiness]:
    """Forecast the bookings of the quarter after ``quarter``, as of the end of ``quarter`` (or the data's as-of
    moment when that is earlier: an export taken mid-quarter forecasts from what it holds).

    Parameters
    ----------
    data : SalesData
        Needs ``opportunity_history``, ``stages`` and ``opportunities`` (see :func:`readiness`).
    quarter : Quarter or ``YYYYQn``
        The quarter under review.
    method : str
        One of :data:`METHODS`; the models (``gbm``, ``stage_age``) need four complete quarters of history.
    fallback : str, optional
        A method that needs no history (``weighted_pipeline``, ``commit``, ``best_case``) to use when
        ``method`` cannot run for lack of history; None gives no forecast then.

    Returns
    -------
    (QuarterForecast or None, Readiness)
        The forecast (its ``method`` says which ran) and the readiness check, whose ``message`` says what is
        missing when the forecast is None or fell back.
    """
    for name in (method, fallback):
        if name is not None and name not in METHODS:
            raise ValueError(f"unknown forecast method {name!r}; choose from {', '.join(METHODS)}")
    q = as_quarter(quarter)
    target = q.next()
    made_at = quarter_end(q) if data.as_of is None else min(as_utc(data.as_of), quarter_end(q))
    ready = readiness(data, target, made_at)
    if ready.ok:
        return forecast_quarter(ready.builder, target, as_of=made_at, method=method), ready
    if fallback is not None and ready.builder is not None:
        return forecast_quarter(ready.builder, target, as_of=made_at, method=fallback), ready
    return None, ready
