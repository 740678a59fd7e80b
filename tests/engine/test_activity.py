"""Activity counts on the engine: hand-made cases near midnight, the sample against pandas, Parquet files,
the KPI's working-day rates through an engine, and DuckDB against Spark."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.engine import Engine, EngineError
from salesops.engine.activity import activity_counts, activity_window, daily_activity
from salesops.io.data import SalesData
from salesops.kpi import MissingDataError, activity_per_working_day


def _data(activities: pd.DataFrame, reps: pd.DataFrame | None = None, as_of: str | None = "2025-04-30") -> SalesData:
    tables = {"activities": activities}
    if reps is not None:
        tables["reps"] = reps
    return SalesData(tables=tables, as_of=None if as_of is None else pd.Timestamp(as_of, tz="UTC"), source="test")


@pytest.fixture(scope="module")
def tiny() -> SalesData:
    rows = [  # id, rep, moment (any offset: counted on its UTC day), type, direction
        ("A1", "R1", "2025-01-31 23:59:59.999999+00:00", "call", "outbound"),  # Fri 31 Jan
        ("A2", "R1", "2025-02-01 00:00:00+00:00", "call", "outbound"),  # Sat 1 Feb
        ("A3", "R1", "2025-02-01 00:30:00+01:00", "email", "outbound"),  # 31 Jan 23:30 UTC
        ("A4", "R3", "2025-03-31 23:59:00+00:00", "meeting", None),  # Mon 31 Mar, last day of Q1
        ("A5", "R3", "2025-04-01 00:00:01+00:00", "call", "inbound"),  # Tue 1 Apr, Q2
        ("A6", "R3", "2024-12-31 23:59:59+00:00", "email", "outbound"),  # Tue 31 Dec 2024, week of Mon 30 Dec
        ("A7", "R1", "2025-01-31 12:00:00+00:00", "call", "outbound"),
    ]
    acts = pd.DataFrame(rows, columns=["activity_id", "rep_id", "occurred_at", "type", "direction"])
    acts["occurred_at"] = pd.to_datetime(acts["occurred_at"], utc=True, format="ISO8601")
    reps = pd.DataFrame({
        "rep_id": ["R1", "R2", "R3"],  # R2 logged nothing
        "name": ["Ann", "Bo", "Cy"],
        "role": ["AE", "SDR", "AE"],
        "hire_date": pd.to_datetime(["2025-01-01", "2020-01-01", "2020-01-01"]),
        "end_date": pd.to_datetime([None, None, None]),
    })
    return _data(acts, reps)


@pytest.fixture(scope="module")
def tiny_engine(tiny) -> Engine:
    return Engine.from_data(tiny)


def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    if "period_start" in frame.columns:
        frame["period_start"] = pd.to_datetime(frame["period_start"])
    if "day" in frame.columns:
        frame["day"] = pd.to_datetime(frame["day"])
    return frame.astype({"activities": "int64"})


# --- hand computations ----------------------------------------------------------------------------------------


def test_counts_fall_on_the_utc_day_of_each_activity(tiny_engine):
    got = activity_counts(tiny_engine, ("rep_id", "type"), "day")
    expected = _frame([
        ("R1", "call", "2025-01-31", 2), ("R1", "call", "2025-02-01", 1), ("R1", "email", "2025-01-31", 1),
        ("R3", "call", "2025-04-01", 1), ("R3", "email", "2024-12-31", 1), ("R3", "meeting", "2025-03-31", 1),
    ], ["rep_id", "type", "period_start", "activities"])
    pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(daily_activity(tiny_engine), expected.rename(columns={"period_start": "day"}))


@pytest.mark.parametrize(("period", "expected"), [
    ("week", [("2024-12-30", 1), ("2025-01-27", 4), ("2025-03-31", 2)]),  # weeks start on Monday
    ("month", [("2024-12-01", 1), ("2025-01-01", 3), ("2025-02-01", 1), ("2025-03-01", 1), ("2025-04-01", 1)]),
    ("quarter", [("2024-10-01", 1), ("2025-01-01", 5), ("2025-04-01", 1)]),
    ("year", [("2024-01-01", 1), ("2025-01-01", 6)]),
])
def test_periods_start_on_their_first_day(tiny_engine, period, expected):
    got = activity_counts(tiny_engine, None, period)
    pd.testing.assert_frame_equal(got, _frame(expected, ["period_start", "activities"]))


def test_window_filters_and_missing_keys(tiny_engine):
    # [31 Jan, 31 Mar] inclusive: A5 (1 Apr 00:00:01) and A6 (2024) fall outside; A4 has no direction
    got = activity_counts(tiny_engine, "direction", start="2025-01-31", end="2025-03-31")
    pd.testing.assert_frame_equal(got, _frame([("outbound", 4), (None, 1)], ["direction", "activities"]))
    # a tz-aware start counts as its UTC day: 1 Feb 00:30 +01:00 is 31 Jan
    later = activity_counts(tiny_engine, "direction", start=pd.Timestamp("2025-02-01 00:30", tz="Europe/Paris"),
                            end="2025-03-31")
    pd.testing.assert_frame_equal(later, got)
    calls = activity_counts(tiny_engine, "rep_id", types=["call"], rep_ids=["R1", "R2"])
    pd.testing.assert_frame_equal(calls, _frame([("R1", 3)], ["rep_id", "activities"]))  # R2 logged nothing
    none = activity_counts(tiny_engine, ("rep_id", "type"), "month", types=[])
    assert list(none.columns) == ["rep_id", "type", "period_start", "activities"] and none.empty
    total = activity_counts(tiny_engine, None)
    assert total["activities"].tolist() == [7]


def test_window_of_activity_days(tiny_engine):
    assert activity_window(tiny_engine) == (pd.Timestamp("2024-12-31"), pd.Timestamp("2025-04-01"))
    nothing = pd.DataFrame({
        "activity_id": pd.Series([], dtype=object), "rep_id": pd.Series([], dtype=object),
        "occurred_at": pd.Series([], dtype="datetime64[ns, UTC]"), "type": pd.Series([], dtype=object)})
    empty = Engine.from_data(_data(nothing, pd.DataFrame({"rep_id": ["R1"], "role": ["AE"]})))
    assert activity_window(empty) == (None, None)
    with pytest.raises(MissingDataError, match="activities table, which is empty"):
        activity_per_working_day(empty)


def test_errors_name_what_is_wrong(tiny_engine):
    with pytest.raises(EngineError, match=r"activities table .*got \['role'\]"):
        activity_counts(tiny_engine, ("rep_id", "role"))
    with pytest.raises(EngineError, match="period must be one of"):
        activity_counts(tiny_engine, "rep_id", "fortnight")
    with pytest.raises(EngineError, match="starts on 2025-02-01, after its end 2025-01-31"):
        activity_counts(tiny_engine, start="2025-02-01", end="2025-01-31")
    with pytest.raises(EngineError, match=r"activities\.outcome"):
        activity_counts(tiny_engine, "outcome")
    with pytest.raises(EngineError, match="the activities table is needed"):
        activity_counts(Engine(tiny_engine.con, {}, source="nothing"))


# --- activity per working day through an engine ------------------------------------------------------------


def test_working_day_rates_through_an_engine_by_hand(tiny, tiny_engine):
    got = activity_per_working_day(tiny_engine, "rep_id", "month", start="2025-01-27", end="2025-02-28", holidays=[])
    # 27-31 Jan: 5 working days, February 2025: 20; R1 logged 3 on 31 Jan and 1 on Sat 1 Feb; R2, R3 nothing there
    expected = pd.DataFrame({
        "rep_id": ["R1", "R1", "R2", "R2", "R3", "R3"],
        "period": ["2025-01", "2025-02"] * 3,
        "reps": [1] * 6,
        "working_days": [5, 20] * 3,
        "activities": [3, 1, 0, 0, 0, 0],
        "per_day": [0.6, 0.05, 0.0, 0.0, 0.0, 0.0],
    })
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got.attrs["window"] == (pd.Timestamp("2025-01-27"), pd.Timestamp("2025-02-28"))
    same = activity_per_working_day(tiny, "rep_id", "month", start="2025-01-27", end="2025-02-28", holidays=[])
    pd.testing.assert_frame_equal(got, same)
    # activity keys, a type filter and the default window (first activity day to the as-of day)
    for kw in ({"by": ["role", "direction"]}, {"by": ["rep_id", "type"], "period": "quarter", "types": ["call", "email"]}):
        pd.testing.assert_frame_equal(activity_per_working_day(tiny_engine, **kw), activity_per_working_day(tiny, **kw))


def test_engine_path_names_missing_tables_and_columns(tiny):
    no_reps = Engine.from_data(_data(tiny.activities))
    with pytest.raises(MissingDataError, match="needs the reps table"):
        activity_per_working_day(no_reps)
    blank = Engine.from_data(_data(tiny.activities.assign(direction=None), tiny.reps))
    with pytest.raises(MissingDataError, match=r"activities\.direction"):
        activity_per_working_day(blank, ["role", "direction"])
    with pytest.raises(MissingDataError, match="needs the activities table"):
        activity_per_working_day(Engine.from_data(_data(tiny.activities, tiny.reps), tables=["reps"]))


# --- the sample ----------------------------------------------------------------------------------------------


def test_sample_counts_equal_a_pandas_groupby(sample, duckdb_engine):
    acts = sample.activities
    day = acts["occurred_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    keep = day.between(pd.Timestamp("2024-03-15"), pd.Timestamp("2025-06-30")) & acts["type"].isin(["call", "meeting"])
    sub = acts[keep].assign(period_start=day[keep].dt.to_period("M").dt.start_time)
    keys = ["rep_id", "direction", "period_start"]
    expected = sub.groupby(keys, dropna=False).size().rename("activities").reset_index()
    expected["direction"] = expected["direction"].astype(object).where(expected["direction"].notna(), None)
    expected = expected.sort_values(keys, na_position="last").reset_index(drop=True)
    got = activity_counts(duckdb_engine, ("rep_id", "direction"), "month", start="2024-03-15", end="2025-06-30",
                          types=["call", "meeting"])
    assert got["direction"].isna().any()  # meetings carry no direction: a group of its own, not dropped
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert activity_counts(duckdb_engine, None)["activities"].tolist() == [len(acts)]


def test_sample_rates_through_the_engine_keep_the_planted_figures(sample, truth, duckdb_engine):
    by_role = activity_per_working_day(duckdb_engine, "role").set_index("role")
    realised = truth["activities"]["realised_per_working_day"]
    for role in ("SDR", "AE"):
        assert by_role.loc[role, "per_day"] == pytest.approx(realised[role], abs=0.001)
    pd.testing.assert_frame_equal(activity_per_working_day(duckdb_engine, ["role", "type"], "month"),
                                  activity_per_working_day(sample, ["role", "type"], "month"))


def test_parquet_files_give_the_same_counts(sample, duckdb_engine, tmp_path):
    sample.activities.to_parquet(tmp_path / "activities.parquet")
    sample.reps.assign(hire_date=sample.reps["hire_date"].dt.date, end_date=sample.reps["end_date"].dt.date).to_parquet(
        tmp_path / "reps.parquet")
    files = Engine.from_files(tmp_path, as_of=sample.as_of)
    assert files.table("reps").hire_date.type().is_date()
    args = {"by": ("rep_id", "type"), "period": "week"}
    pd.testing.assert_frame_equal(activity_counts(files, **args), activity_counts(duckdb_engine, **args))
    pd.testing.assert_frame_equal(activity_per_working_day(files, ["rep_id", "role"], "quarter"),
                                  activity_per_working_day(sample, ["rep_id", "role"], "quarter"))


# --- Spark -----------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_spark_gives_the_same_counts_and_rates(sample, duckdb_engine, spark_engine):
    args = {"by": ("rep_id", "type"), "period": "month"}
    spark = activity_counts(spark_engine, **args)
    assert len(spark) > 1000
    pd.testing.assert_frame_equal(spark, activity_counts(duckdb_engine, **args), check_dtype=False)
    windowed = {"by": ("direction",), "start": "2024-02-29", "end": "2024-03-31", "types": ["meeting", "call"]}
    pd.testing.assert_frame_equal(activity_counts(spark_engine, **windowed), activity_counts(duckdb_engine, **windowed),
                                  check_dtype=False)
    pd.testing.assert_frame_equal(activity_per_working_day(spark_engine, by="role"),
                                  activity_per_working_day(sample, by="role"), check_dtype=False)
