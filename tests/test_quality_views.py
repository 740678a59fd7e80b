"""The tables behind the data-quality page."""

from __future__ import annotations

import pandas as pd
import pytest
from _render import rendered_html, rendered_text

from salesops import quality_views as qv
from salesops.periods import Quarter


def counts_frame():
    return pd.DataFrame(
        {
            "table": ["opportunities", "reps", "opportunities", "stages"],
            "source": ["opps_2024.csv", "reps.csv", "opps_2025.csv", "default"],
            "read": [10, 4, 5, 6],
            "accepted": [9, 4, 3, 6],
            "rejected": [1, 0, 2, 0],
        }
    )


def rejected_frame():
    return pd.DataFrame(
        {
            "table": ["opportunities", "opportunities", "opportunities", "accounts"],
            "source": ["a.csv", "a.csv", "b.csv", "acc.csv"],
            "row": [3, 3, 7, 1],
            "record_id": ["O3", "O3", "O7", "A1"],
            "column": ["amount", "stage", "amount", None],
            "check": ["min_value", "allowed", "min_value", "duplicate"],
            "value": [-5.0, "Won?", -1.0, None],
            "message": ["amount must be >= 0", "unknown stage", "amount must be >= 0", "duplicate key"],
        }
    )


def test_load_counts_sums_sources_in_load_order():
    out = qv.load_counts(counts_frame())
    assert out["table"].tolist() == ["stages", "reps", "opportunities"]
    opp = out.set_index("table").loc["opportunities"]
    assert (opp["read"], opp["accepted"], opp["rejected"]) == (15, 12, 3)
    assert opp["rejected_share"] == pytest.approx(0.2)
    assert (out["read"] == out["accepted"] + out["rejected"]).all()


def test_load_counts_of_nothing():
    out = qv.load_counts(pd.DataFrame(columns=["table", "source", "read", "accepted", "rejected"]))
    assert out.empty and "rejected_share" in out.columns


def test_problem_summary_counts_distinct_rows():
    out = qv.problem_summary(rejected_frame())
    assert out.columns.tolist() == ["table", "column", "check", "rows", "example_value", "example_message"]
    first = out.iloc[0]
    assert (first["table"], first["column"], first["check"], first["rows"]) == ("opportunities", "amount", "min_value", 2)
    assert first["example_value"] == "-5.0"
    assert "(row)" in out["column"].tolist()  # a problem of the whole row
    assert len(qv.problem_summary(rejected_frame(), top=1)) == 1
    assert qv.problem_summary(rejected_frame().iloc[0:0]).empty


def test_rejected_examples():
    quarantine = {
        "opportunities": pd.DataFrame({"_row": [7, 3], "_problems": ["b", "a"], "_source": ["x", "x"], "amount": ["-1", "-5"]})
    }
    ex = qv.rejected_examples(quarantine, "opportunities", n=1)
    assert ex.columns.tolist()[:3] == ["_row", "_problems", "_source"] and ex["_row"].tolist() == [3]
    assert qv.rejected_examples(quarantine, "reps").empty
    assert list(qv.rejected_examples_by_table(quarantine)) == ["opportunities"]


def tables():
    return {
        "stages": pd.DataFrame({"stage": ["A"]}),
        "reps": pd.DataFrame({"rep_id": ["R1"], "hire_date": pd.to_datetime(["2020-01-05"])}),
        "opportunities": pd.DataFrame(
            {"created_date": pd.to_datetime(["2025-01-10", "2025-01-20", "2025-03-05", "2025-10-02"])}
        ),
        "activities": pd.DataFrame(
            {"occurred_at": pd.to_datetime(["2025-09-30T23:30:00Z", "2025-12-30T08:00:00Z"], utc=True)}
        ),
        "accounts": None,
    }


def test_date_column():
    assert qv.date_column("opportunities") == "created_date"
    assert qv.date_column("activities") == "occurred_at"
    assert qv.date_column("revenue") == "month"
    assert qv.date_column("stages") is None
    assert qv.date_column("nonsense") is None


def test_monthly_records_fills_empty_months_with_zero():
    out = qv.monthly_records(tables())
    assert set(out["table"]) == {"opportunities", "activities"}  # event streams only by default
    opp = out[out["table"] == "opportunities"].set_index("month")["records"]
    assert opp.index.min() == pd.Timestamp("2025-01-01") and opp.index.max() == pd.Timestamp("2025-10-01")
    assert opp[pd.Timestamp("2025-01-01")] == 2 and opp[pd.Timestamp("2025-02-01")] == 0
    assert opp.sum() == 4
    gaps = qv.missing_months(out)
    assert pd.Timestamp("2025-02-01") in set(gaps[gaps["table"] == "opportunities"]["month"])
    assert "reps" in set(qv.monthly_records(tables(), only=None)["table"])


def test_coverage_and_freshness():
    cov = qv.coverage(tables(), as_of=pd.Timestamp("2025-12-31T12:00:00Z"), quarter=Quarter(2025, 4)).set_index("table")
    assert "accounts" not in cov.index  # absent table
    assert pd.isna(cov.loc["stages", "last"]) and cov.loc["stages", "rows"] == 1
    opp = cov.loc["opportunities"]
    assert (opp["first"], opp["last"]) == (pd.Timestamp("2025-01-10"), pd.Timestamp("2025-10-02"))
    assert (opp["months"], opp["empty_months"], opp["days_behind"], opp["in_quarter"]) == (10, 7, 90, 1)
    act = cov.loc["activities"]
    assert act["days_behind"] == 1 and act["in_quarter"] == 1  # 2025-09-30 23:30 UTC is Q3
    assert bool(act["stream"]) and not bool(cov.loc["reps", "stream"])
    assert cov.loc["reps", "empty_months"] == 0  # not judged
    no_as_of = qv.coverage(tables())
    assert no_as_of["days_behind"].isna().all() and no_as_of["in_quarter"].isna().all()


def test_quality_metrics_are_plain_numbers():
    metrics = qv.quality_metrics(qv.load_counts(counts_frame()), rejected_frame())
    assert {k: v[0] for k, v in metrics.items()} == {
        "tables_loaded": 3, "rows_read": 25, "rows_accepted": 22, "rows_rejected": 3,
        "rejected_share": 0.12, "problems": 4,
    }
    assert all(type(v[0]) in (int, float) for v in metrics.values())


def test_descriptions_escape_names():
    counts = qv.load_counts(counts_frame().assign(table=["<b>x</b>", "reps", "<b>x</b>", "stages"]))
    text = qv.describe_load(counts)
    assert "<b>" not in rendered_html(text).replace("<code>&lt;b&gt;x&lt;/b&gt;</code>", "")
    assert "<b>x</b>" in rendered_text(text), "the name is shown as typed"
    assert "3 tables" in text and "25 rows read" in text
    problems = qv.problem_summary(rejected_frame())
    assert "failed by 2 rows" in qv.describe_problems(problems) and "&gt;=" in qv.describe_problems(problems)
    assert qv.describe_problems(problems.iloc[0:0]).startswith("Nothing was rejected")
    assert qv.describe_ignored(["README.md (not a table file)"]).startswith("1 file(s)")
    assert qv.describe_ignored([]) == "No file in the source was skipped."
    cov = qv.coverage(tables(), as_of=pd.Timestamp("2025-12-31T12:00:00Z"))
    fresh = qv.describe_freshness(cov)
    assert "2025-01-10" in fresh and "`opportunities`" in fresh and "(7)" in fresh


def test_describe_gaps():
    monthly = qv.monthly_records(tables())
    text = qv.describe_gaps(monthly)
    assert text.startswith("Months without a single record:") and "`opportunities`: 2025-02, 2025-04" in text
    assert qv.describe_gaps(monthly[monthly["records"] > 0]).startswith("Every event table")


def test_monthly_tables_are_fresh_to_their_month_end():
    t = {"revenue": pd.DataFrame({"month": pd.to_datetime(["2025-11-01", "2025-12-01"])})}
    cov = qv.coverage(t, as_of=pd.Timestamp("2025-12-31T23:59:59Z")).set_index("table")
    assert cov.loc["revenue", "last"] == pd.Timestamp("2025-12-01")
    assert cov.loc["revenue", "days_behind"] == 0


def test_describe_completeness_names_unreadable_files_and_unchecked_references():
    assert qv.describe_completeness([], []) == ""
    text = rendered_text(qv.describe_completeness(
        ["accounts.csv (dangling symbolic link to /gone/a.csv)"],
        ["accounts (referred to by opportunities.account_id: 12 value(s) unchecked)"],
    ))
    assert "1 table file(s) could not be read" in text
    assert "dangling symbolic link" in text and "opportunities.account_id: 12 value(s) unchecked" in text
