"""The KPI set on the engine: each frame against a plain pandas computation on the sample, and Spark = DuckDB."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.engine import Engine, EngineError
from salesops.engine.kpis import SEGMENT_UNKNOWN, kpi_set, quarter_ends, sales_cycles, win_rates


def _segments(sample) -> pd.DataFrame:
    """Closed deals with their segment (the account's, else the owner's) and cycle days, in plain pandas."""
    opps = sample.opportunities
    closed = opps[opps["is_closed"].astype(bool)].copy()
    acc = sample.accounts.set_index("account_id")["segment"]
    reps = sample.reps.set_index("rep_id")["segment"]
    closed["segment"] = closed["account_id"].map(acc).fillna(closed["owner_rep_id"].map(reps)).fillna(SEGMENT_UNKNOWN)
    closed["is_won"] = closed["is_won"].astype(bool)
    closed["days"] = (closed["close_date"].dt.normalize() - closed["created_date"].dt.normalize()).dt.days
    return closed


@pytest.fixture(scope="module")
def kpis(duckdb_engine):
    return kpi_set(duckdb_engine)


def test_win_rates_equal_plain_pandas(sample, duckdb_engine):
    closed = _segments(sample)
    g = closed.groupby("segment")
    expected = pd.DataFrame({
        "closed": g.size(),
        "won": g["is_won"].sum(),
        "closed_value": g["amount"].sum(),
        "won_value": closed[closed["is_won"]].groupby("segment")["amount"].sum(),
    }).reset_index()
    expected["win_rate"] = expected["won"] / expected["closed"]
    expected["value_win_rate"] = expected["won_value"] / expected["closed_value"]
    got = win_rates(duckdb_engine)
    assert list(got["segment"]) == ["Enterprise", "Mid-Market", "SMB"]
    pd.testing.assert_frame_equal(got, expected[got.columns], check_dtype=False)
    assert got["closed"].sum() == int(sample.opportunities["is_closed"].sum())


def test_sales_cycles_equal_plain_pandas(sample, duckdb_engine):
    closed = _segments(sample)
    won = closed[closed["is_won"]]
    expected = pd.DataFrame({
        "closed": closed.groupby("segment").size(),
        "median_days": closed.groupby("segment")["days"].median(),
        "won": closed.groupby("segment")["is_won"].sum(),
        "median_won_days": won.groupby("segment")["days"].median(),
    }).reset_index()
    got = sales_cycles(duckdb_engine)
    pd.testing.assert_frame_equal(got, expected[got.columns], check_dtype=False)
    # the planted order: enterprise deals take longest to win, SMB the shortest
    days = got.set_index("segment")["median_won_days"]
    assert days["Enterprise"] > days["Mid-Market"] > days["SMB"]


def test_as_of_leaves_out_deals_created_or_closed_later(sample, duckdb_engine):
    day = pd.Timestamp("2024-06-30")
    closed = _segments(sample)
    closed = closed[(closed["close_date"] <= day) & (closed["created_date"] <= day)]
    got = win_rates(duckdb_engine, as_of="2024-06-30 12:00")
    expected = closed.groupby("segment").agg(closed=("is_won", "size"), won=("is_won", "sum")).reset_index()
    pd.testing.assert_frame_equal(got[["segment", "closed", "won"]], expected, check_dtype=False)
    assert got["closed"].sum() < win_rates(duckdb_engine)["closed"].sum()
    cycles = sales_cycles(duckdb_engine, as_of="2024-06-30")
    assert cycles.set_index("segment")["median_days"].to_dict() == closed.groupby("segment")["days"].median().to_dict()


def test_segment_falls_back_to_the_owner_then_to_unknown(sample):
    with_reps = Engine.from_data(sample, tables=["opportunities", "reps"])
    closed = _segments(sample)
    by_owner = closed["owner_rep_id"].map(sample.reps.set_index("rep_id")["segment"]).fillna(SEGMENT_UNKNOWN)
    got = win_rates(with_reps).set_index("segment")["closed"]
    assert got.to_dict() == by_owner.value_counts().to_dict()
    alone = Engine.from_data(sample, tables=["opportunities"])
    got = win_rates(alone)
    assert list(got["segment"]) == [SEGMENT_UNKNOWN]
    assert got["closed"].iloc[0] == len(closed)


def test_missing_opportunities_table_is_named(sample):
    engine = Engine.from_data(sample, tables=["accounts", "reps"])
    with pytest.raises(EngineError, match="opportunities table"):
        win_rates(engine)
    with pytest.raises(EngineError, match="opportunities table"):
        kpi_set(Engine.from_data(sample, tables=["activities", "opportunity_history", "leads"]))


def test_quarter_ends(duckdb_engine):
    ends = quarter_ends(duckdb_engine)
    assert len(ends) == 12
    assert ends[0] == pd.Timestamp("2023-03-31 23:59:59.999999")
    assert ends[-1] == pd.Timestamp("2025-12-31 23:59:59.999999")
    # a quarter not yet over is left out
    assert quarter_ends(duckdb_engine, as_of="2025-11-15", count=2) == [
        pd.Timestamp("2025-06-30 23:59:59.999999"), pd.Timestamp("2025-09-30 23:59:59.999999")]
    assert quarter_ends(duckdb_engine, as_of=pd.Timestamp("2025-10-01", tz="UTC"), count=1) == [
        pd.Timestamp("2025-09-30 23:59:59.999999")]


def test_kpi_set_frames(kpis):
    assert set(kpis) == {"activity", "pipeline", "lead_funnel", "win_rate", "sales_cycle", "revenue_cohorts"}
    assert all(len(frame) for frame in kpis.values())


def test_kpi_set_activity_equals_plain_pandas(sample, kpis):
    a = sample.activities
    month = a["occurred_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M").dt.start_time
    expected = a.assign(period_start=month).groupby(["rep_id", "type", "period_start"]).size()
    got = kpis["activity"].set_index(["rep_id", "type", "period_start"])["activities"]
    pd.testing.assert_series_equal(got, expected.rename("activities"), check_dtype=False)


def test_kpi_set_pipeline_equals_plain_pandas(sample, kpis):
    h = sample.opportunity_history.assign(_row=range(len(sample.opportunity_history)))
    h["changed_at"] = h["changed_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    h = h.sort_values(["opportunity_id", "changed_at", "_row"])
    rows = []
    for moment in quarter_ends(Engine.from_data(sample, tables=["opportunities"])):
        latest = h[h["changed_at"] <= moment].groupby("opportunity_id").tail(1)
        for stage, g in latest.groupby("stage"):
            rows.append((moment, stage, len(g), g["amount"].sum()))
    expected = pd.DataFrame(rows, columns=["as_of", "stage", "deals", "amount"])
    got = kpis["pipeline"]
    assert got["as_of"].nunique() == 12
    assert list(got["as_of"].dt.tz_localize(None)) == list(expected["as_of"])
    assert list(got["stage"]) == list(expected["stage"])
    assert list(got["deals"]) == list(expected["deals"])
    amount = got[["open_amount", "won_amount", "lost_amount"]].sum(axis=1)
    pd.testing.assert_series_equal(amount, expected["amount"], check_names=False)
    # at the as-of moment, every won deal of the opportunities table sits in the won column
    last = got[got["as_of"] == got["as_of"].max()]
    assert last["won_deals"].sum() == int(sample.opportunities["is_won"].sum())


def test_kpi_set_lead_funnel_counts_leads_per_month(sample, kpis):
    created = sample.leads["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M").astype(str)
    got = kpis["lead_funnel"].set_index("period")["leads"]
    expected = created.value_counts().sort_index()
    assert got[got > 0].to_dict() == expected.to_dict()
    assert kpis["lead_funnel"]["wins"].sum() <= int(sample.opportunities["is_won"].sum())


@pytest.mark.slow
def test_spark_gives_the_same_win_rates_and_cycles(duckdb_engine, spark_engine):
    assert spark_engine.backend_name == "pyspark"
    for fn in (win_rates, sales_cycles):
        duck = fn(duckdb_engine).sort_values("segment").reset_index(drop=True)
        spark = fn(spark_engine).sort_values("segment").reset_index(drop=True)
        pd.testing.assert_frame_equal(spark, duck, check_dtype=False)
    duck = win_rates(duckdb_engine, as_of="2024-06-30")
    spark = win_rates(spark_engine, as_of="2024-06-30")
    pd.testing.assert_frame_equal(spark, duck, check_dtype=False)


def test_kpi_set_as_of_cuts_every_frame(sample, duckdb_engine):
    day = pd.Timestamp("2024-06-30")
    early = kpi_set(duckdb_engine, as_of="2024-06-30 23:59:59.999999")
    occurred = sample.activities["occurred_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    assert early["activity"]["activities"].sum() == int((occurred < day + pd.Timedelta(days=1)).sum())
    assert early["pipeline"]["as_of"].max() == pd.Timestamp("2024-06-30 23:59:59.999999", tz="UTC")
    assert early["lead_funnel"]["period"].max() == "2024-06"
    assert early["revenue_cohorts"]["cohort"].max() <= "2024Q2"
    pd.testing.assert_frame_equal(early["win_rate"], win_rates(duckdb_engine, as_of=day))
