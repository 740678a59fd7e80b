"""Deal states, pipeline totals and stage changes on the engine: a tiny history by hand, the sample against a
plain pandas reading of its history, as-of invariance, and DuckDB against Spark."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from salesops.engine import Engine, EngineError
from salesops.engine.history import STATE_COLUMNS, deal_states, history_engine, stage_changes
from salesops.engine.snapshots import pipeline_totals

from ._tiny_history import NAN, NAT, d, tiny_history, ts

# opportunity -> (stage, amount, close_date, forecast_category, created_at, last_change_at, stage_entered_at,
#                 pushes, first_amount, changes)
EXPECTED = {
    "2025-01-15": {
        "X": ("Discovery", 100.0, d("2025-03-01"), "pipeline", ts("2025-01-01 10:00"), ts("2025-01-10 10:00"),
              ts("2025-01-10 10:00"), 0, 100.0, 2),
        "Y": ("Negotiation", 200.0, d("2025-02-01"), "commit", ts("2025-01-05 09:00"), ts("2025-01-05 09:00"),
              ts("2025-01-05 09:00"), 0, 200.0, 1),
    },
    "2025-02-10": {
        "X": ("Proposal", 150.0, d("2025-03-15"), "best_case", ts("2025-01-01 10:00"), ts("2025-01-20 10:00"),
              ts("2025-01-20 10:00"), 1, 100.0, 4),
        "Y": ("Closed Lost", 200.0, d("2025-02-01"), "omitted", ts("2025-01-05 09:00"), ts("2025-02-01 09:00"),
              ts("2025-02-01 09:00"), 0, 200.0, 2),
    },
    "2025-03-02": {
        "X": ("Proposal", 150.0, d("2025-03-15"), "best_case", ts("2025-01-01 10:00"), ts("2025-01-20 10:00"),
              ts("2025-01-20 10:00"), 1, 100.0, 4),
        "Y": ("Negotiation", 250.0, d("2025-03-31"), "commit", ts("2025-01-05 09:00"), ts("2025-02-15 09:00"),
              ts("2025-02-15 09:00"), 1, 200.0, 3),
        "Z": ("Discovery", NAN, d("2025-05-01"), None, ts("2025-03-01 08:00"), ts("2025-03-01 08:00"),
              ts("2025-03-01 08:00"), 0, NAN, 1),
    },
    "2025-03-10": {
        "X": ("Proposal", 150.0, d("2025-03-15"), "best_case", ts("2025-01-01 10:00"), ts("2025-01-20 10:00"),
              ts("2025-01-20 10:00"), 1, 100.0, 4),
        "Y": ("Negotiation", 250.0, d("2025-03-31"), "commit", ts("2025-01-05 09:00"), ts("2025-02-15 09:00"),
              ts("2025-02-15 09:00"), 1, 200.0, 3),
        "Z": ("Discovery", 80.0, d("2025-05-01"), None, ts("2025-03-01 08:00"), ts("2025-03-05 08:00"),
              ts("2025-03-01 08:00"), 0, 80.0, 2),
    },
}


def expected_frame() -> pd.DataFrame:
    rows = []
    for day, deals in EXPECTED.items():
        moment = pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
        rows += [(moment, opp, *values) for opp, values in sorted(deals.items())]
    out = pd.DataFrame(rows, columns=list(STATE_COLUMNS))
    out["as_of"] = out["as_of"].astype("datetime64[ns, UTC]")
    return out


def test_tiny_history_states_by_hand():
    got = deal_states(history_engine(tiny_history()), list(EXPECTED))
    pd.testing.assert_frame_equal(got, expected_frame(), check_dtype=False)
    assert isinstance(got["as_of"].dtype, pd.DatetimeTZDtype) and str(got["last_change_at"].dt.tz) == "UTC"


def test_a_change_at_the_moment_counts_and_one_after_it_does_not():
    e = history_engine(tiny_history())
    at = deal_states(e, ts("2025-02-01 09:00")).set_index("opportunity_id")
    before = deal_states(e, ts("2025-02-01 09:00") - pd.Timedelta(microseconds=1)).set_index("opportunity_id")
    assert at.loc["Y", "stage"] == "Closed Lost" and before.loc["Y", "stage"] == "Negotiation"
    assert deal_states(e, "2024-12-31").empty  # nothing had happened yet


def test_ties_in_changed_at_follow_file_order():
    h = tiny_history()
    swapped = h.iloc[[0, 1, 2, 3, 4, 6, 5, 7, 8]].reset_index(drop=True)  # Proposal row now before
    x = deal_states(history_engine(swapped), "2025-02-10").set_index("opportunity_id").loc["X"]
    assert x["stage"] == "Qualification" and x["close_date"] == d("2025-04-01") and x["amount"] == 150.0
    assert x["forecast_category"] == "best_case"  # the later Qualification row is blank: kept from Proposal
    assert x["pushes"] == 2  # 03-01 -> 03-15 (Proposal row, now first) -> 04-01: both later
    # without a file order (a folder of Parquet files) ties go by stage name: Qualification after Proposal
    e = history_engine(tiny_history())
    e.tables["opportunity_history"] = e.tables["opportunity_history"].drop("_row")
    assert deal_states(e, "2025-02-10").set_index("opportunity_id").loc["X", "stage"] == "Qualification"


def test_history_without_value_columns_gives_empty_values():
    h = tiny_history()[["opportunity_id", "changed_at", "stage"]]
    got = deal_states(history_engine(h), "2025-03-10").set_index("opportunity_id")
    assert got["amount"].isna().all() and got["close_date"].isna().all() and got["pushes"].eq(0).all()
    assert got.loc["Y", "stage_entered_at"] == ts("2025-02-15 09:00")


def test_missing_history_is_named():
    e = history_engine(tiny_history())
    del e.tables["opportunity_history"]
    with pytest.raises(EngineError, match="opportunity_history"):
        deal_states(e, "2025-03-10")
    e = history_engine(tiny_history().drop(columns="stage"))
    with pytest.raises(EngineError, match="opportunity_history.stage"):
        deal_states(e, "2025-03-10")


def test_tiny_stage_changes_by_hand():
    got = stage_changes(history_engine(tiny_history()))
    rows = [
        ("X", ts("2025-01-01 10:00"), "Qualification", "Discovery", ts("2025-01-10 10:00")),
        ("X", ts("2025-01-10 10:00"), "Discovery", "Qualification", ts("2025-01-20 10:00")),
        ("X", ts("2025-01-20 10:00"), "Qualification", "Proposal", ts("2025-01-20 10:00")),
        ("X", ts("2025-01-20 10:00"), "Proposal", None, NAT),
        ("Y", ts("2025-01-05 09:00"), "Negotiation", "Closed Lost", ts("2025-02-01 09:00")),
        ("Y", ts("2025-02-01 09:00"), "Closed Lost", "Negotiation", ts("2025-02-15 09:00")),
        ("Y", ts("2025-02-15 09:00"), "Negotiation", None, NAT),
        ("Z", ts("2025-03-01 08:00"), "Discovery", None, NAT),
    ]
    want = pd.DataFrame(rows, columns=["opportunity_id", "changed_at", "stage", "next_stage", "next_changed_at"])
    want["next_changed_at"] = want["next_changed_at"].astype("datetime64[ns, UTC]")
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    cut = stage_changes(history_engine(tiny_history()), as_of="2025-02-10")
    assert list(cut.loc[cut["opportunity_id"].eq("Y"), "next_stage"].fillna("-")) == ["Closed Lost", "-"]
    assert "Z" not in set(cut["opportunity_id"])


# --- the sample: the engine against a plain pandas reading of the history ------------------------------------


def pandas_states(history: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    """The reference: history sorted stably by (opportunity, changed_at), blanks filled forward per deal,
    row features by pandas group-wise shifts, then the last row at or before the moment."""
    h = history.sort_values(["opportunity_id", "changed_at"], kind="stable").reset_index(drop=True)
    g = h.groupby("opportunity_id", sort=False)
    h[["amount", "close_date", "forecast_category"]] = g[["amount", "close_date", "forecast_category"]].ffill()
    g = h.groupby("opportunity_id", sort=False)
    h["created_at"] = g["changed_at"].transform("first")
    h["pushes"] = (h["close_date"] > g["close_date"].shift()).astype(int).groupby(h["opportunity_id"]).cumsum()
    new_stage = h["stage"].ne(g["stage"].shift())
    h["stage_entered_at"] = h["changed_at"].where(new_stage).groupby(h["opportunity_id"]).ffill()
    h["first_amount"] = g["amount"].transform("first")
    h["changes"] = g.cumcount() + 1
    upto = h[h["changed_at"] <= moment]
    out = upto.groupby("opportunity_id", sort=True).tail(1).rename(columns={"changed_at": "last_change_at"})
    return out.set_index("opportunity_id")


MOMENTS = ["2023-03-31", "2024-06-30", "2025-02-14", "2025-12-31"]


def test_sample_states_equal_a_pandas_reading_and_the_funnel_snapshot(sample, duckdb_engine):
    from salesops.funnel._common import as_moment

    got = deal_states(duckdb_engine, MOMENTS)
    assert list(got["as_of"].unique()) == [as_moment(m) for m in MOMENTS]
    for m in MOMENTS:
        t = as_moment(m)
        mine = got[got["as_of"].eq(t)].set_index("opportunity_id")
        ref = pandas_states(sample.opportunity_history, t)
        assert list(mine.index) == list(ref.index) and len(mine) > 100
        cols = [c for c in STATE_COLUMNS if c not in ("as_of", "opportunity_id")]
        pd.testing.assert_frame_equal(mine[cols], ref[cols], check_dtype=False, check_names=False)
    final = got[got["as_of"].eq(as_moment(MOMENTS[-1]))].set_index("opportunity_id")
    opps = sample.opportunities.set_index("opportunity_id").loc[final.index]
    assert (final["stage"] == opps["stage"]).all() and np.allclose(final["amount"], opps["amount"])


def test_sample_states_are_as_of_invariant(sample):
    t = pd.Timestamp("2024-09-30 23:59:59.999999", tz="UTC")
    h = sample.opportunity_history
    full = deal_states(history_engine(h), t)
    cut = deal_states(history_engine(h[h["changed_at"] <= t]), t)
    pd.testing.assert_frame_equal(full, cut)
    assert (full["last_change_at"] <= t).all() and (full["created_at"] <= full["last_change_at"]).all()


def test_sample_stage_changes_equal_the_pandas_events(sample, duckdb_engine):
    h = sample.opportunity_history.sort_values(["opportunity_id", "changed_at"], kind="stable")
    first = h["opportunity_id"].ne(h["opportunity_id"].shift())
    ref = h[first | h["stage"].ne(h["stage"].shift())].reset_index(drop=True)
    got = stage_changes(duckdb_engine)
    pd.testing.assert_frame_equal(got[["opportunity_id", "changed_at", "stage"]],
                                  ref[["opportunity_id", "changed_at", "stage"]])
    same = got["opportunity_id"].eq(got["opportunity_id"].shift(-1))
    assert got.loc[same, "next_stage"].tolist() == got["stage"].shift(-1)[same].tolist()
    assert got.loc[same, "next_changed_at"].tolist() == got["changed_at"].shift(-1)[same].tolist()
    assert got.loc[~same, "next_stage"].isna().all() and got.loc[~same, "next_changed_at"].isna().all()


def test_funnel_and_forecast_snapshots_accept_an_engine(sample, duckdb_engine):
    from salesops.forecast import SnapshotBuilder
    from salesops.funnel import pipeline_at

    t = "2025-06-30"
    from_engine = pipeline_at(duckdb_engine, t)
    from_data = pipeline_at(sample, t)
    pd.testing.assert_frame_equal(from_engine, from_data, check_dtype=False)
    moment = pd.Timestamp("2025-06-30", tz="UTC")
    a = SnapshotBuilder(duckdb_engine).at(moment)
    b = SnapshotBuilder(sample).at(moment)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert a["recent_activities"].sum() > 0


# --- DuckDB and Spark ----------------------------------------------------------------------------------------


def quarter_ends() -> list[pd.Timestamp]:
    return [pd.Timestamp(f"{y}-{m:02d}-{dd}", tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
            for y in (2023, 2024, 2025) for m, dd in ((3, 31), (6, 30), (9, 30), (12, 31))]


@pytest.mark.slow
def test_duckdb_and_spark_give_the_same_states_totals_and_changes(duckdb_engine, spark_engine):
    moments = ["2023-06-30", "2024-12-31", "2025-12-31"]
    duck, spark = deal_states(duckdb_engine, moments), deal_states(spark_engine, moments)
    assert len(duck) > 1000
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False)
    by = ("stage", "segment")
    duck_t = pipeline_totals(duckdb_engine, quarter_ends(), by=by)
    spark_t = pipeline_totals(spark_engine, quarter_ends(), by=by)
    assert duck_t["as_of"].nunique() == 12
    pd.testing.assert_frame_equal(duck_t, spark_t, check_dtype=False)
    pd.testing.assert_frame_equal(stage_changes(duckdb_engine, "2024-12-31"), stage_changes(spark_engine, "2024-12-31"),
                                  check_dtype=False)


def test_engine_from_a_frame_holder_keeps_file_order():
    h = tiny_history()
    e = Engine.from_data(SimpleNamespace(tables={"opportunity_history": h}, as_of=None, source="t"))
    assert deal_states(e, "2025-02-10").set_index("opportunity_id").loc["X", "stage"] == "Proposal"


def test_states_from_the_sample_files_equal_those_from_the_loaded_data(duckdb_engine):
    from salesops.paths import project_root

    files = Engine.from_files(project_root() / "data" / "sample")
    assert "_row" not in files.table("opportunity_history").columns  # ties would go by stage: the sample has none
    moments = ["2024-03-31", "2025-09-30"]
    pd.testing.assert_frame_equal(deal_states(files, moments), deal_states(duckdb_engine, moments))
    pd.testing.assert_frame_equal(stage_changes(files), stage_changes(duckdb_engine))
