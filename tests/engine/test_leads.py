"""Lead funnel counts in the engine: a tiny CRM counted by hand, the sample against the per-lead moments of
:func:`salesops.funnel.lead_moments` (pandas), and DuckDB against Spark.

The tiny CRM (as of 2025-07-31 12:00 UTC; lead moments at noon, opportunity dates at midnight):

* L1 (Web): created 01-10, MQL 01-20, SQL 02-15, opportunity O1 created 02-20, won 05-01.
* L2 (Web): created 01-15, MQL 03-01; nothing more.
* L3 (Event): created 02-01, SQL 02-10 without an MQL (so an MQL then), opportunity O2 created 04-01, lost.
* L4 (Event): created 07-15, MQL 07-20: too recent to be mature in either step.
* L5 (Event): created 08-05 and MQL 08-06, after the as-of moment: not reached at all.
* L6 (no source): created 03-01, MQL 03-05, SQL 08-10 (after as-of: not an SQL yet).
* L7 (Web): created 01-05, no MQL or SQL recorded, opportunity O3 created 03-01 (so SQL and MQL then), won 04-01.
"""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.engine import Engine, EngineError
from salesops.engine.leads import DEFAULT_WINDOWS, STEPS, lead_funnel_counts, lead_stage_counts
from salesops.funnel import lead_moments
from salesops.funnel._common import days_between, period_labels
from salesops.io import SalesData

AS_OF = pd.Timestamp("2025-07-31 12:00", tz="UTC")


def noon(day: str | None) -> pd.Timestamp:
    return pd.NaT if day is None else pd.Timestamp(f"2025-{day} 12:00", tz="UTC")


def tiny_data(leads: pd.DataFrame | None = None) -> SalesData:
    rows = [  # lead, created, mql, sql, opportunity, source
        ("L1", "01-10", "01-20", "02-15", "O1", "Web"),
        ("L2", "01-15", "03-01", None, None, "Web"),
        ("L3", "02-01", None, "02-10", "O2", "Event"),
        ("L4", "07-15", "07-20", None, None, "Event"),
        ("L5", "08-05", "08-06", None, None, "Event"),
        ("L6", "03-01", "03-05", "08-10", None, None),
        ("L7", "01-05", None, None, "O3", "Web"),
    ]
    if leads is None:
        leads = pd.DataFrame(
            {
                "lead_id": [r[0] for r in rows],
                "created_at": pd.to_datetime([noon(r[1]) for r in rows], utc=True),
                "mql_at": pd.to_datetime([noon(r[2]) for r in rows], utc=True),
                "sql_at": pd.to_datetime([noon(r[3]) for r in rows], utc=True),
                "opportunity_id": [r[4] for r in rows],
                "source": [r[5] for r in rows],
                "account_id": ["A1", "A1", "A2", "A2", "A2", "A3", "A1"],
            }
        )
    opportunities = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O2", "O3"],
            "account_id": ["A1", "A2", "A1"],
            "created_date": pd.to_datetime(["2025-02-20", "2025-04-01", "2025-03-01"]),
            "close_date": pd.to_datetime(["2025-05-01", "2025-05-15", "2025-04-01"]),
            "is_closed": [True, True, True],
            "is_won": [True, False, True],
            "amount": [1000.0, 2000.0, 3000.0],
        }
    )
    accounts = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "name": ["a", "b", "c"],
                             "segment": ["SMB", "Enterprise", None]})
    return SalesData(tables={"leads": leads, "opportunities": opportunities, "accounts": accounts}, as_of=AS_OF)


@pytest.fixture(scope="module")
def tiny() -> Engine:
    return Engine.from_data(tiny_data())


def counts_of(frame: pd.DataFrame, index: list[str]) -> dict:
    return {tuple(r[c] for c in index): (r["reached"], r["mature"], r["converted"]) for _, r in frame.iterrows()}


def test_tiny_counts_by_hand(tiny):
    c = lead_funnel_counts(tiny, period=None).set_index("step")
    assert list(c.index) == list(STEPS)
    # lead -> MQL (30 days): L4 not mature; L1 (10 days), L3 (9), L6 (4) converted; L2 (45) and L7 (54.5) not
    assert tuple(c.loc["lead_to_mql", ["reached", "mature", "converted"]]) == (6, 5, 3)
    # MQL -> SQL (60 days): L1 (26 days), L3 and L7 (MQL at the SQL moment) converted; L4 not mature
    assert tuple(c.loc["mql_to_sql", ["reached", "mature", "converted"]]) == (6, 5, 3)
    # SQL -> opportunity (30 days): L1 (4.5 days), L7 (0) converted; L3 (50 days) not
    assert tuple(c.loc["sql_to_opportunity", ["reached", "mature", "converted"]]) == (3, 3, 2)
    # opportunity -> won (180 days) and lead -> won (270 days): nobody has had the time yet
    assert tuple(c.loc["opportunity_to_won", ["reached", "mature", "converted"]]) == (3, 0, 0)
    assert tuple(c.loc["lead_to_won", ["reached", "mature", "converted"]]) == (6, 0, 0)
    assert c["window_days"].to_dict() == DEFAULT_WINDOWS
    assert c.attrs["missing_steps"] == [] and c.attrs["as_of"] == AS_OF


def test_tiny_counts_by_period_group_and_window(tiny):
    q = lead_funnel_counts(tiny, period="quarter", windows={"opportunity_to_won": 60})
    got = counts_of(q, ["step", "period"])
    assert got[("lead_to_mql", "2025Q1")] == (5, 5, 3) and got[("lead_to_mql", "2025Q3")] == (1, 0, 0)
    assert got[("mql_to_sql", "2025Q1")] == (5, 5, 3) and got[("mql_to_sql", "2025Q3")] == (1, 0, 0)
    # opportunity -> won within 60 days: O1 (70 days) no, O3 (31 days) yes, both created in Q1; O2 (Q2) lost
    assert got[("opportunity_to_won", "2025Q1")] == (2, 2, 1) and got[("opportunity_to_won", "2025Q2")] == (1, 1, 0)
    assert ("lead_to_won", "2025Q2") not in got  # no lead created in Q2: no row
    assert list(q["period"]) == sorted(q["period"])  # sorted by period, then step
    by = counts_of(lead_funnel_counts(tiny, by="source", period=None), ["source", "step"])
    assert by[("Web", "lead_to_mql")] == (3, 3, 1)
    assert by[("Event", "lead_to_mql")] == (2, 1, 1)
    assert by[("(none)", "lead_to_mql")] == (1, 1, 1)  # a missing source is a group of its own
    seg = counts_of(lead_funnel_counts(tiny, by="segment", period=None), ["segment", "step"])
    assert seg[("SMB", "lead_to_mql")] == (3, 3, 1) and seg[("(none)", "mql_to_sql")] == (1, 1, 0)


def test_tiny_as_of_and_missing_steps():
    engine = Engine.from_data(tiny_data())
    early = counts_of(lead_funnel_counts(engine, period=None, as_of="2025-02-12"), ["step"])
    # by 02-12: L1, L2, L3, L7 created; MQLs L1 and L3 (its SQL of 02-10); L1's SQL of 02-15 not yet
    assert early[("lead_to_mql",)] == (4, 2, 1)  # L1 and L7 are 30 days old; L1 converted, L7 had no MQL
    assert early[("mql_to_sql",)] == (2, 0, 0)
    # no opportunity was created by then: the steps to or from one cannot be measured
    assert list(early) == [("lead_to_mql",), ("mql_to_sql",)]
    no_opps = tiny_data().leads.drop(columns=["opportunity_id", "sql_at"])
    c = lead_funnel_counts(Engine.from_data(tiny_data(no_opps)), period=None)
    assert list(c["step"]) == ["lead_to_mql"]
    assert c.attrs["missing_steps"] == ["mql_to_sql", "sql_to_opportunity", "opportunity_to_won", "lead_to_won"]
    nobody = Engine.from_data(tiny_data(tiny_data().leads.iloc[:0]))
    assert lead_funnel_counts(nobody).empty and lead_funnel_counts(nobody).attrs["missing_steps"] == list(STEPS)
    assert lead_stage_counts(nobody, period=None).iloc[0].tolist() == [0, 0, 0, 0, 0]


def test_tiny_stage_counts_by_hand(tiny):
    s = lead_stage_counts(tiny, period="quarter").set_index("period")
    assert list(s.columns) == ["leads", "mqls", "sqls", "opportunities", "wins"]
    assert s.loc["2025Q1"].tolist() == [5, 5, 3, 2, 0]  # L1, L2, L3, L6, L7; SQLs L1, L3, L7; opps O1, O3
    assert s.loc["2025Q2"].tolist() == [0, 0, 0, 1, 2]  # O2 created; O1 and O3 won
    assert s.loc["2025Q3"].tolist() == [1, 1, 0, 0, 0]  # L4
    total = lead_stage_counts(tiny, period=None, by="source").set_index("source")
    assert total.loc["Web"].tolist() == [3, 3, 2, 2, 2]
    assert total.loc["(none)"].tolist() == [1, 1, 0, 0, 0]


def test_bad_arguments_and_missing_columns_are_named(tiny):
    with pytest.raises(ValueError, match="period must be one of"):
        lead_funnel_counts(tiny, period="week")
    with pytest.raises(ValueError, match="unknown step"):
        lead_funnel_counts(tiny, windows={"lead_to_sale": 10})
    with pytest.raises(ValueError, match="whole number of days"):
        lead_funnel_counts(tiny, windows={"mql_to_sql": 1.5})
    with pytest.raises(EngineError, match=r"leads\.persona"):
        lead_funnel_counts(tiny, by="persona")
    with pytest.raises(EngineError, match="the leads table is needed"):
        lead_stage_counts(Engine.from_data(SalesData(tables={}, as_of=AS_OF)))


def _reference_counts(sample, by: str, period: str) -> pd.DataFrame:
    """The counts as lead_funnel made them in pandas, from the per-lead moments."""
    m = lead_moments(sample, by=[by])
    rows = []
    for step, (a, b) in STEPS.items():
        w = DEFAULT_WINDOWS[step]
        r = m[m[a].notna()]
        mature = (r[a] + pd.Timedelta(days=w)) <= sample.as_of
        f = pd.DataFrame({by: r[by], "period": period_labels(r[a], period).astype(object), "step": step,
                          "mature": mature, "converted": mature & (days_between(r[b], r[a]) <= w)})
        rows.append(f.groupby([by, "period", "step"]).agg(reached=("mature", "size"), mature=("mature", "sum"),
                                                          converted=("converted", "sum")).reset_index())
    return pd.concat(rows)


def test_sample_counts_equal_the_per_lead_moments(sample, duckdb_engine):
    got = lead_funnel_counts(duckdb_engine, by="source", period="quarter")
    ref = _reference_counts(sample, "source", "quarter")
    key = ["source", "period", "step"]
    merged = got.merge(ref, on=key, how="outer", suffixes=("", "_ref"), indicator=True)
    assert (merged["_merge"] == "both").all()
    for col in ("reached", "mature", "converted"):
        assert (merged[col] == merged[f"{col}_ref"]).all(), col
    assert got["reached"].sum() > 50_000


def test_sample_stage_counts_equal_the_per_lead_moments(sample, duckdb_engine):
    got = lead_stage_counts(duckdb_engine, period="month").set_index("period")
    m = lead_moments(sample)
    for stage, col in (("lead", "leads"), ("mql", "mqls"), ("sql", "sqls"), ("opportunity", "opportunities"),
                       ("won", "wins")):
        ref = period_labels(m[stage], "month").value_counts()
        assert got[col][got[col] > 0].to_dict() == ref.to_dict(), col


@pytest.mark.slow
def test_duckdb_and_spark_give_the_same_counts(duckdb_engine, spark_engine):
    assert spark_engine.backend_name == "pyspark"
    for fn in (lambda e: lead_funnel_counts(e, by="source"), lambda e: lead_stage_counts(e, by="segment")):
        duck, spark = fn(duckdb_engine), fn(spark_engine)
        assert len(duck) > 100
        pd.testing.assert_frame_equal(spark, duck, check_dtype=False)


def test_lead_funnel_takes_an_engine_or_a_sales_data(sample, duckdb_engine):
    from salesops.funnel import MissingDataError, lead_funnel

    from_engine = lead_funnel(duckdb_engine, by="source", period="year")
    pd.testing.assert_frame_equal(from_engine, lead_funnel(sample, by="source", period="year"))
    assert from_engine.attrs["as_of"] == sample.as_of
    with pytest.raises(MissingDataError, match=r"leads\.nope"):
        lead_funnel(duckdb_engine, by="nope")
