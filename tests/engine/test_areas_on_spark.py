"""The acceptance test of the engine layer: the area modules' KPI, funnel and forecast numbers are the same
whichever engine runs their heavy part — the sample as a SalesData (pandas into embedded DuckDB) and the same
tables in local Spark through Ibis."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.forecast.quarter import forecast_quarter
from salesops.forecast.snapshot import SnapshotBuilder
from salesops.funnel.leads import lead_funnel
from salesops.funnel.snapshot import pipeline_at
from salesops.kpi.activity import activity_per_working_day
from salesops.kpi.retention import cohort_retention

pytestmark = pytest.mark.slow

MOMENTS = ("2024-03-31", "2025-06-30", "2025-11-15")


def _same(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> None:
    left = left.sort_values(keys).reset_index(drop=True)
    right = right.sort_values(keys).reset_index(drop=True)[list(left.columns)]
    pd.testing.assert_frame_equal(left, right, check_dtype=False, check_exact=False, rtol=1e-9)


def test_kpi_numbers_are_the_same_on_spark(sample, spark_engine):
    for by, period in (("role", None), (["segment", "type"], "quarter")):
        pandas_side = activity_per_working_day(sample, by=by, period=period)
        spark_side = activity_per_working_day(spark_engine, by=by, period=period)
        _same(pandas_side, spark_side, [c for c in pandas_side.columns if c not in ("reps", "working_days",
                                                                                   "activities", "per_day")])
    pandas_side = cohort_retention(sample, kind="revenue", by="segment")
    spark_side = cohort_retention(spark_engine, kind="revenue", by="segment")
    _same(pandas_side, spark_side, ["segment", "cohort", "months_since_start"])


def test_funnel_numbers_are_the_same_on_spark(sample, spark_engine):
    for moment in MOMENTS:
        pandas_side = pipeline_at(sample, moment).reset_index()
        spark_side = pipeline_at(spark_engine, moment).reset_index()
        assert len(pandas_side) == len(spark_side) > 100
        cols = ["opportunity_id", "stage", "amount", "close_date", "is_open", "is_won", "created_at", "age_days",
                "segment"]
        _same(pandas_side[cols], spark_side[cols], ["opportunity_id"])
        open_amount = pandas_side.loc[pandas_side["is_open"], "amount"].sum()
        assert spark_side.loc[spark_side["is_open"], "amount"].sum() == pytest.approx(open_amount, rel=1e-12)
    pandas_side = lead_funnel(sample, by="source")
    spark_side = lead_funnel(spark_engine, by="source")
    _same(pandas_side, spark_side, ["source", "period", "step"])


def test_forecast_numbers_are_the_same_on_spark(sample, spark_engine):
    on_pandas, on_spark = SnapshotBuilder(sample), SnapshotBuilder(spark_engine)
    for moment in MOMENTS:
        a = on_pandas.at(moment)
        b = on_spark.at(moment)
        cols = ["opportunity_id", "stage", "amount", "close_date", "created_at", "stage_entered_at", "pushes",
                "first_amount", "age_days", "days_in_stage", "recent_activities", "probability", "segment"]
        _same(a[cols], b[cols], ["opportunity_id"])
    for method in ("weighted_pipeline", "commit"):
        x = forecast_quarter(on_pandas, "2025Q3", as_of="2025-08-01", method=method)
        y = forecast_quarter(on_spark, "2025Q3", as_of="2025-08-01", method=method)
        pd.testing.assert_frame_equal(x.summary(), y.summary(), check_dtype=False)
        assert x.summary()["forecast"].iloc[0] > x.summary()["closed"].iloc[0] > 0
