"""Revenue cohorts in the engine: a tiny revenue table counted by hand, the sample against the dense grid of
:func:`salesops.kpi.churn.account_months` (pandas), and DuckDB against Spark.

The tiny revenue table (months January to May 2025, as of 2025-05-31):

* A: 100 every month; B: 200 in January and February (both paying in the first month: start unknown).
* C: starts in February at 50, 50 in March, 80 in April, nothing in May.
* D: starts in March at 40, to May. F: two rows in March (10 and 15, one month of 25), nothing after.
* E: a zero row in March (not paying), starts in April at 30, nothing in May; no segment.
* G: a single row in June, after the as-of month: outside the grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.engine import Engine, EngineError
from salesops.engine.cohorts import revenue_cohorts
from salesops.io import SalesData
from salesops.kpi.churn import account_months

AS_OF = pd.Timestamp("2025-05-31 23:59:59.999999", tz="UTC")


def tiny_data() -> SalesData:
    rows = [("A", f"2025-{m:02d}-01", 100.0) for m in range(1, 6)] + [("B", "2025-01-01", 200.0),
                                                                     ("B", "2025-02-01", 200.0)]
    rows += [("C", "2025-02-01", 50.0), ("C", "2025-03-01", 50.0), ("C", "2025-04-01", 80.0)]
    rows += [("D", f"2025-{m:02d}-01", 40.0) for m in (3, 4, 5)]
    rows += [("F", "2025-03-05", 10.0), ("F", "2025-03-20", 15.0)]
    rows += [("E", "2025-03-01", 0.0), ("E", "2025-04-01", 30.0), ("G", "2025-06-01", 70.0)]
    revenue = pd.DataFrame({"account_id": [r[0] for r in rows], "month": pd.to_datetime([r[1] for r in rows]),
                            "mrr": [r[2] for r in rows]})
    accounts = pd.DataFrame({"account_id": list("ABCDEFG"), "name": list("abcdefg"),
                             "segment": ["X", "Y", "X", "X", None, "Y", "X"]})
    return SalesData(tables={"revenue": revenue, "accounts": accounts}, as_of=AS_OF)


@pytest.fixture(scope="module")
def tiny() -> Engine:
    return Engine.from_data(tiny_data())


def curve(table: pd.DataFrame, cohort: str, column: str, **keys) -> list:
    sel = table["cohort"].eq(cohort)
    for k, v in keys.items():
        sel &= table[k].isna() if v is None else table[k].eq(v)
    return table.loc[sel].sort_values("months_since_start")[column].tolist()


def test_tiny_logo_cohorts_by_hand(tiny):
    out = revenue_cohorts(tiny, "month")
    assert list(out.columns) == ["cohort", "months_since_start", "accounts", "retained", "retention"]
    assert list(out["cohort"].unique()) == ["2025-02", "2025-03", "2025-04"]  # A and B started before the data
    assert curve(out, "2025-02", "retained") == [1, 1, 1, 0]  # C: Feb, Mar, Apr, gone in May
    assert curve(out, "2025-03", "accounts") == [2, 2, 2]  # D and F, observed to May (k = 2)
    assert curve(out, "2025-03", "retained") == [2, 1, 1]  # F's two March rows are one month; gone in April
    assert curve(out, "2025-04", "retained") == [1, 0]  # E starts at its first month with MRR > 0
    assert curve(out, "2025-03", "retention") == [1.0, 0.5, 0.5]
    assert out["months_since_start"].dtype == np.int64 and out["accounts"].dtype == np.int64


def test_tiny_revenue_cohorts_with_the_first_month(tiny):
    out = revenue_cohorts(tiny, "quarter", kind="revenue", include_first_month=True)
    # Q1: A, B (January), C (February), D and F (March); E starts in Q2
    assert curve(out, "2025Q1", "accounts") == [5, 5, 5, 3, 2]  # k = 3 observed for s <= Feb, k = 4 for Jan
    assert curve(out, "2025Q1", "retained") == [5, 4, 3, 1, 1]
    rates = curve(out, "2025Q1", "retention")
    assert rates[1] == pytest.approx(390 / 415)  # A 100 + B 200 + C 50 + D 40 + F 0 over 415 at start
    assert rates[3] == pytest.approx(100 / 350)  # observed at k = 3: A, B, C (350 at start); A still pays
    assert rates[4] == pytest.approx(100 / 300)
    assert curve(out, "2025Q2", "accounts") == [1, 1]


def test_tiny_options_groups_and_dimensions(tiny):
    short = revenue_cohorts(tiny, "month", max_months=1)
    assert short["months_since_start"].max() == 1 and curve(short, "2025-02", "retained") == [1, 1]
    april = revenue_cohorts(tiny, "month", end="2025-04-15")  # the grid ends in April
    assert curve(april, "2025-02", "retained") == [1, 1, 1] and curve(april, "2025-04", "accounts") == [1]
    seg = revenue_cohorts(tiny, "month", "segment")
    assert curve(seg, "2025-03", "retained", segment="X") == [1, 1, 1]  # D
    assert curve(seg, "2025-03", "retained", segment="Y") == [1, 0, 0]  # F
    assert curve(seg, "2025-04", "accounts", segment=None) == [1, 1]  # E has no segment: a group of its own
    assert pd.isna(seg["segment"].iloc[-1])  # missing values sort last
    dims = pd.DataFrame({"account_id": ["C", "D", "F"], "channel": ["Web", "Web", "Partner"]})
    ch = revenue_cohorts(tiny, "quarter", ["segment", "channel"], dimensions=dims)
    assert curve(ch, "2025Q1", "accounts", segment="X", channel="Web") == [2, 2, 2, 1]  # C (Feb), D (Mar)
    assert curve(ch, "2025Q2", "accounts", segment=None, channel=None) == [1, 1]  # E: in neither


def test_bad_arguments_and_missing_data_are_named(tiny):
    with pytest.raises(ValueError, match="cohort must be one of"):
        revenue_cohorts(tiny, "week")
    with pytest.raises(ValueError, match="kind must be"):
        revenue_cohorts(tiny, kind="arr")
    with pytest.raises(EngineError, match=r"accounts\.industry"):
        revenue_cohorts(tiny, by="industry")
    with pytest.raises(EngineError, match="needs an account_id column"):
        revenue_cohorts(tiny, by="channel", dimensions=pd.DataFrame({"channel": ["Web"]}))
    after = tiny_data().revenue.query("account_id == 'G'")  # only a month after the as-of month: no grid
    assert revenue_cohorts(Engine.from_data(SalesData(tables={"revenue": after}, as_of=AS_OF))).empty
    with pytest.raises(EngineError, match="the revenue table is needed"):
        revenue_cohorts(Engine.from_data(SalesData(tables={}, as_of=AS_OF)))


def _reference(sample, cohort: str, kind: str) -> pd.DataFrame:
    """The cohort table by segment as salesops.kpi.cohort_retention computed it in pandas over the dense grid."""
    grid = account_months(sample)
    values = grid.to_numpy()
    paying = values > 0
    first = paying.argmax(axis=1)
    keep = paying.any(axis=1) & (first > 0)
    values, paying, first, ids = values[keep], paying[keep], first[keep], grid.index.to_numpy()[keep]
    n = grid.shape[1]
    ks = np.arange(n)
    cols = first[:, None] + ks[None, :]
    observed = cols < n
    safe = np.where(observed, cols, 0)
    rows = np.arange(len(ids))[:, None]
    mrr = np.where(observed, values[rows, safe], 0.0)
    alive = observed & paying[rows, safe]
    start = values[np.arange(len(ids)), first]
    freq = {"month": "M", "quarter": "Q", "year": "Y"}[cohort]
    frame = pd.DataFrame({"cohort": pd.PeriodIndex(grid.columns[first], freq=freq).astype(str),
                          "segment": pd.Series(ids).map(sample.accounts.set_index("account_id")["segment"])})
    parts = []
    for (segment, label), idx in frame.groupby(["segment", "cohort"], sort=True).indices.items():
        obs = observed[idx].sum(axis=0)
        retained = alive[idx].sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            base = (start[idx, None] * observed[idx]).sum(axis=0)
            rate = retained / obs if kind == "logo" else mrr[idx].sum(axis=0) / base
        ok = obs > 0
        parts.append(pd.DataFrame({"segment": segment, "cohort": label, "months_since_start": ks[ok],
                                   "accounts": obs[ok], "retained": retained[ok], "retention": rate[ok]}))
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize(("cohort", "kind"), [("quarter", "revenue"), ("month", "logo")])
def test_sample_equals_the_dense_grid(sample, duckdb_engine, cohort, kind):
    got = revenue_cohorts(duckdb_engine, cohort, "segment", kind=kind)
    ref = _reference(sample, cohort, kind)
    assert len(got) > 200
    pd.testing.assert_frame_equal(got, ref, check_dtype=False, rtol=1e-12)


@pytest.mark.slow
def test_duckdb_and_spark_give_the_same_cohorts(duckdb_engine, spark_engine):
    assert spark_engine.backend_name == "pyspark"
    duck = revenue_cohorts(duckdb_engine, "quarter", "segment", kind="revenue")
    spark = revenue_cohorts(spark_engine, "quarter", "segment", kind="revenue")
    assert len(duck) > 200
    pd.testing.assert_frame_equal(spark, duck, check_dtype=False)


def test_cohort_retention_takes_an_engine_or_a_sales_data(sample, duckdb_engine):
    from salesops.kpi import MissingDataError, cohort_retention

    pd.testing.assert_frame_equal(cohort_retention(duckdb_engine, "year", "segment", kind="revenue"),
                                  cohort_retention(sample, "year", "segment", kind="revenue"))
    with pytest.raises(MissingDataError, match="by channel needs the opportunities"):
        cohort_retention(duckdb_engine, by="channel")
