"""The engine's ways in: SalesData in DuckDB or Spark, folders of files, Ibis connections."""

from __future__ import annotations

import pandas as pd
import pytest

import salesops
from salesops.engine import Engine, EngineError, connect


def test_from_data_holds_every_table_with_the_same_rows(sample, duckdb_engine):
    for name, frame in sample.tables.items():
        assert duckdb_engine.execute(duckdb_engine.table(name).count()) == len(frame), name
    assert duckdb_engine.as_of == sample.as_of
    assert duckdb_engine.backend_name == "duckdb"


def test_timestamps_are_naive_utc_inside(sample, duckdb_engine):
    t = duckdb_engine.table("activities")
    assert t.occurred_at.type().timezone is None
    first = duckdb_engine.execute(t.occurred_at.min())
    assert pd.Timestamp(first).tz_localize("UTC") == sample.activities["occurred_at"].min()


def test_latest_event_follows_the_loader_rule(sample, duckdb_engine):
    # closed deals' close dates count as the end of their day, as in salesops.load
    assert duckdb_engine.latest_event() == sample.as_of


def test_files_open_as_views_with_canonical_types(tmp_path):
    folder = tmp_path / "crm"
    folder.mkdir()
    pd.DataFrame({"customer_id": ["00012", "00007"], "date": ["2025-01-02", "2025-02-03"], "amount": [1.5, 2.0]}).to_csv(
        folder / "transactions.csv", index=False)
    pd.DataFrame({"activity_id": ["A1"], "rep_id": ["R1"], "occurred_at": [pd.Timestamp("2025-03-01 10:00", tz="Europe/Paris")],
                  "type": ["call"]}).to_parquet(folder / "activities.parquet")
    engine = Engine.from_files(folder)
    tx = engine.execute(engine.table("transactions"))
    assert list(tx["customer_id"]) == ["00012", "00007"]  # ids keep their leading zeros
    assert engine.table("transactions").date.type().is_date()
    acts = engine.execute(engine.table("activities"), utc=["occurred_at"])
    assert acts.loc[0, "occurred_at"] == pd.Timestamp("2025-03-01 09:00", tz="UTC")
    assert engine.as_of == pd.Timestamp("2025-03-01 09:00", tz="UTC")


def test_missing_table_and_column_are_named(duckdb_engine, tmp_path):
    with pytest.raises(EngineError, match="the fx_rates table is needed for currency conversion"):
        duckdb_engine.table("fx_rates", purpose="currency conversion")
    with pytest.raises(EngineError, match=r"activities\.nope"):
        duckdb_engine.table("activities", ["rep_id", "nope"])
    with pytest.raises(EngineError, match="no canonical table"):
        Engine.from_files(tmp_path)


def test_connect_dispatches(sample, mini_crm):
    assert connect(sample).backend_name == "duckdb"
    engine = connect(mini_crm)
    assert "opportunities" in engine.tables
    assert connect(engine) is engine


@pytest.mark.slow
def test_spark_holds_the_same_tables(sample, spark_engine):
    assert spark_engine.backend_name == "pyspark"
    for name in ("activities", "opportunity_history", "leads", "opportunities"):
        assert spark_engine.execute(spark_engine.table(name).count()) == len(sample.tables[name]), name


@pytest.mark.slow
def test_load_reads_an_ibis_spark_connection(sample, spark_engine):
    # salesops.load accepts an Ibis connection: the same validated tables come out of Spark
    data = salesops.load(spark_engine.con, as_of=sample.as_of)
    assert data.quality.counts.set_index("table")["rejected"].sum() == 0
    for name in ("opportunities", "reps", "stages"):
        assert len(data.tables[name]) == len(sample.tables[name])
