"""The checks of the canonical model: pandera column checks (``models``), row rules (``rules``) and the
checks across rows and tables (``relations``), each on small frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from salesops.schema import RULES, ValidationContext, build_schema, relations
from salesops.schema.models import CHECK_ALLOWED, CHECK_AS_OF, CHECK_MIN, CHECK_STAGE, column_checks
from salesops.schema.tables import TABLES

AS_OF = pd.Timestamp("2024-06-30 23:59:59.999999", tz="UTC")
STAGES = frozenset({"Qualification", "Closed Won", "Closed Lost"})
CTX = ValidationContext(as_of=AS_OF, stages=STAGES)


def _opportunities(**changes) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O2"],
            "account_id": ["A1", "A2"],
            "owner_rep_id": ["R1", "R1"],
            "created_date": pd.to_datetime(["2024-01-10", "2024-02-01"]),
            "close_date": pd.to_datetime(["2024-03-28", "2024-09-30"]),
            "stage": ["Closed Won", "Qualification"],
            "is_closed": pd.array([True, False], dtype="boolean"),
            "is_won": pd.array([True, False], dtype="boolean"),
            "amount": [48000.0, 0.0],
            "type": ["new_business", None],
        }
    )
    for column, values in changes.items():
        frame[column] = values
    return frame


def _failures(table: str, frame: pd.DataFrame, ctx: ValidationContext = CTX) -> set[tuple]:
    """(row index, column or rule, our check name) of every failure."""
    names = {(c.name, check.error): name for c in TABLES[table].columns for check, name in column_checks(c, table, ctx)}
    try:
        build_schema(table, ctx, present=list(frame.columns)).validate(frame, lazy=True)
        return set()
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    out = set()
    for case in cases.itertuples(index=False):
        if case.schema_context == "Column":
            check = "not_null" if case.check == "not_nullable" else names.get((case.column, case.check), case.check)
            out.add((int(case.index), case.column, check))
        elif case.schema_context == "DataFrameSchema" and pd.notna(case.index):
            out.add((int(case.index), None, case.check))
    return out


# --------------------------------------------------------------------------- column checks (models)


def test_a_clean_frame_passes():
    assert _failures("opportunities", _opportunities()) == set()


def test_not_null_on_required_columns_only():
    frame = _opportunities(account_id=["A1", None], type=[None, None])
    assert _failures("opportunities", frame) == {(1, "account_id", "not_null")}


def test_min_value():
    assert _failures("opportunities", _opportunities(amount=[-0.01, 0.0])) == {(0, "amount", CHECK_MIN)}


def test_allowed_values_ignore_missing_optional_values():
    frame = _opportunities(type=["upsell", None])
    assert _failures("opportunities", frame) == {(0, "type", CHECK_ALLOWED)}


def test_known_stage_only_when_a_stage_table_is_known():
    frame = _opportunities(stage=["Closed Won", "Negotiating"])
    assert _failures("opportunities", frame) == {(1, "stage", CHECK_STAGE)}
    assert _failures("opportunities", frame, ValidationContext(as_of=AS_OF)) == set()


def test_not_after_as_of_for_dates_and_timestamps():
    frame = _opportunities(created_date=pd.to_datetime(["2024-03-01", "2024-07-01"]))
    assert _failures("opportunities", frame) == {(1, "created_date", CHECK_AS_OF)}
    frame = _opportunities(created_date=pd.to_datetime(["2024-03-01", "2024-06-30"]))  # the as-of day itself
    assert _failures("opportunities", frame) == set()
    activities = pd.DataFrame(
        {
            "activity_id": ["T1", "T2"],
            "rep_id": ["R1", "R1"],
            "occurred_at": pd.to_datetime(["2024-06-30 23:59:59", "2024-07-01 00:00:00"], utc=True),
            "type": ["call", "email"],
        }
    )
    assert _failures("activities", activities) == {(1, "occurred_at", CHECK_AS_OF)}


def test_absent_optional_columns_are_not_checked_but_required_ones_are():
    frame = _opportunities().drop(columns=["type"])
    assert "type" not in build_schema("opportunities", CTX, present=list(frame.columns)).columns
    with pytest.raises(pa.errors.SchemaErrors):
        build_schema("opportunities", CTX).validate(frame.drop(columns=["amount"]), lazy=True)


def test_check_messages_say_what_is_expected():
    checks = {name: check.error for check, name in column_checks(TABLES["reps"].column("role"), "reps", CTX)}
    assert checks == {CHECK_ALLOWED: "role must be one of AE, SDR, AM, manager"}
    checks = {name: check.error for check, name in column_checks(TABLES["opportunities"].column("stage"), "opportunities", CTX)}
    assert checks[CHECK_STAGE] == "stage is not in the stage table (Closed Lost, Closed Won, Qualification)"


def test_as_of_date_is_the_utc_calendar_day():
    ctx = ValidationContext(as_of=pd.Timestamp("2024-06-30 23:30", tz="America/New_York"))
    assert ctx.as_of_date == pd.Timestamp("2024-07-01")


# --------------------------------------------------------------------------- row rules


def _rule(table: str, name: str):
    return next(r for r in RULES[table] if r.name == name)


def test_close_after_created():
    rule = _rule("opportunities", "close_after_created")
    frame = _opportunities(close_date=pd.to_datetime(["2024-01-09", None]))
    assert rule.test(frame, CTX).tolist() == [False, True]  # a missing date is the not-null check's business
    assert _rule("opportunities", "close_after_created").test(_opportunities(close_date=pd.to_datetime(["2024-01-10", "2024-02-01"])), CTX).all()


def test_won_implies_closed():
    rule = _rule("opportunities", "won_implies_closed")
    frame = pd.DataFrame({"is_won": pd.array([True, True, False, None], dtype="boolean"),
                          "is_closed": pd.array([False, True, False, None], dtype="boolean")})
    assert rule.test(frame, CTX).tolist() == [False, True, True, True]
    assert _rule("stages", "won_implies_closed").columns == ("is_won", "is_closed")


def test_a_closed_deal_cannot_close_after_the_as_of_date():
    rule = _rule("opportunities", "closed_not_after_as_of")
    frame = _opportunities(close_date=pd.to_datetime(["2024-07-01", "2024-09-30"]))
    assert rule.test(frame, CTX).tolist() == [False, True]  # the open deal's close date is a forecast
    frame = _opportunities(close_date=pd.to_datetime(["2024-06-30", "2024-09-30"]))
    assert rule.test(frame, CTX).all()


@pytest.mark.parametrize(
    ("table", "rule", "earlier", "later"),
    [
        ("reps", "end_after_hire", "hire_date", "end_date"),
        ("quotas", "period_end_after_start", "period_start", "period_end"),
        ("trainings", "end_after_start", "start_date", "end_date"),
        ("leads", "sql_after_created", "created_at", "sql_at"),
        ("leads", "mql_after_created", "created_at", "mql_at"),
    ],
)
def test_date_order_rules(table, rule, earlier, later):
    tz = "UTC" if table == "leads" else None
    frame = pd.DataFrame({
        earlier: pd.to_datetime(["2024-01-10", "2024-01-10", "2024-01-10", None]).tz_localize(tz),
        later: pd.to_datetime(["2024-01-09", "2024-01-10", None, "2024-01-01"]).tz_localize(tz),
    })
    assert _rule(table, rule).test(frame, CTX).tolist() == [False, True, True, True]


def test_rules_run_through_the_schema():
    frame = _opportunities(is_won=pd.array([True, True], dtype="boolean"), close_date=pd.to_datetime(["2024-01-01", "2024-09-30"]))
    assert _failures("opportunities", frame) == {(0, None, "close_after_created"), (1, None, "won_implies_closed")}
    # a rule whose columns are absent is not built
    schema = build_schema("reps", CTX, present=["rep_id", "name", "role", "hire_date"])
    assert schema.checks == []


# --------------------------------------------------------------------------- relations


def test_duplicate_keys_keep_the_first_and_say_where_it_was():
    frame = pd.DataFrame({"account_id": ["A1", "A2", "A1", None, None], "name": list("abcde")})
    problems = relations.duplicate_keys("accounts", frame, np.array([1, 2, 5, 6, 7]))
    assert problems["index"].tolist() == [2]
    assert problems["check"].tolist() == ["unique"] and problems["column"].tolist() == ["account_id"]
    assert problems["message"].tolist() == ["duplicate account_id 'A1'; first seen in row 1"]


def test_duplicate_composite_keys():
    frame = pd.DataFrame({
        "rep_id": ["R1", "R1", "R1", "R2"],
        "period_start": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01"]),
        "measure": ["bookings", "meetings", "bookings", "bookings"],
    })
    problems = relations.duplicate_keys("quotas", frame, np.arange(1, 5))
    assert problems["index"].tolist() == [2]
    assert problems["value"].tolist() == ["R1|2024-01-01|bookings"]
    assert problems["column"].tolist() == ["rep_id/period_start/measure"]


def test_duplicate_rows_compare_the_source_rows():
    canonical = pd.DataFrame({"customer_id": ["C1", "C1", "C1"], "amount": [1.0, 1.0, 1.0]})
    raw = pd.DataFrame({"cust": ["C1", "C1", "C1"], "amount": ["1", "1", "1"], "time": ["10:00", "10:00", "11:00"]})
    assert relations.duplicate_rows("transactions", canonical, None)["index"].tolist() == [1, 2]
    assert relations.duplicate_rows("transactions", canonical, None, raw=raw)["index"].tolist() == [1]
    # list cells (a JSON column from a database) compare by value
    lists = pd.DataFrame({"tags": [[1], [1], [2]]})
    assert relations.duplicate_rows("transactions", canonical, None, raw=lists)["index"].tolist() == [1]
    # a table with a primary key is checked by duplicate_keys instead
    assert relations.duplicate_rows("accounts", pd.DataFrame({"account_id": ["A", "A"]}), None).empty


def test_foreign_keys():
    frame = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"], "account_id": ["A1", "A9", None], "owner_rep_id": ["R1", "R1", "R1"]})
    accepted = {"accounts": pd.DataFrame({"account_id": ["A1", "A2"]})}
    problems = relations.foreign_keys("opportunities", frame, accepted)
    assert problems[["index", "column", "check", "value"]].values.tolist() == [[1, "account_id", "foreign_key", "A9"]]
    assert problems["message"].iloc[0] == "account_id 'A9' matches no accepted row of accounts.account_id"
    # reps were not loaded at all: owner_rep_id is not checked
    assert "owner_rep_id" not in set(problems["column"])
