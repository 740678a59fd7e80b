"""The canonical model (``salesops.schema.tables``) is consistent with itself and with DESIGN.md."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import salesops
from salesops.schema.tables import (
    EVENT_KINDS,
    FORECAST_CATEGORIES,
    LOAD_ORDER,
    OPPORTUNITY_TYPES,
    ROLES,
    TABLES,
)

CANONICAL = Path(__file__).resolve().parents[1] / "io" / "fixtures" / "canonical"
DTYPES = {
    "date": "datetime64[ns]",
    "timestamp": "datetime64[ns, UTC]",
    "float": "float64",
    "int": "Int64",
    "id": "object",
    "str": "object",
}


def test_every_table_loads_after_its_parents():
    assert set(LOAD_ORDER) == set(TABLES)
    position = {t: i for i, t in enumerate(LOAD_ORDER)}
    for table, spec in TABLES.items():
        for fk in spec.foreign_keys:
            assert fk.ref_table in TABLES, (table, fk)
            assert fk.ref_column in TABLES[fk.ref_table].column_names, (table, fk)
            assert fk.column in spec.column_names, (table, fk)
            assert position[fk.ref_table] < position[table], f"{table} must load after {fk.ref_table}"
            assert TABLES[fk.ref_table].column(fk.ref_column).kind == spec.column(fk.column).kind == "id"


def test_keys_are_columns_and_names_are_unique():
    for table, spec in TABLES.items():
        assert spec.name == table
        assert len(set(spec.column_names)) == len(spec.column_names), table
        assert set(spec.primary_key) <= set(spec.column_names), table
        for column in spec.primary_key:
            c = spec.column(column)
            assert c.required or c.default is not None, f"{table}.{column} is a key but may be missing"
        for c in spec.columns:
            assert c.name == c.name.lower() and " " not in c.name
            if c.not_after_as_of:
                assert c.kind in ("date", "timestamp"), (table, c.name)
            if c.min_value is not None:
                assert c.kind in ("float", "int"), (table, c.name)


@pytest.mark.parametrize(
    ("table", "required"),
    [
        ("reps", ["rep_id", "name", "role"]),  # hire_date optional: CRM user exports rarely carry it
        ("quotas", ["rep_id", "period_start", "period_end", "amount"]),
        ("accounts", ["account_id", "name"]),
        ("leads", ["lead_id", "created_at", "source"]),
        ("opportunities", ["opportunity_id", "account_id", "owner_rep_id", "created_date", "close_date", "stage",
                           "is_closed", "is_won", "amount"]),
        ("opportunity_history", ["opportunity_id", "changed_at", "stage"]),
        ("activities", ["activity_id", "rep_id", "occurred_at", "type"]),
        ("revenue", ["account_id", "month", "mrr"]),
        ("transactions", ["customer_id", "date", "amount"]),
        ("marketing_spend", ["month", "channel", "amount"]),
        ("sales_costs", ["month", "category", "amount"]),
        ("stages", ["stage", "order", "probability", "is_closed", "is_won"]),
        ("trainings", ["rep_id", "program", "start_date"]),
        ("events", ["event_id", "name", "date", "kind"]),
        ("fx_rates", ["date", "currency", "rate_to_reporting"]),
    ],
)
def test_required_columns_match_the_design(table, required):
    assert TABLES[table].required_columns == required


def test_closed_vocabularies():
    assert ROLES == ("AE", "SDR", "AM", "manager")
    assert OPPORTUNITY_TYPES == ("new_business", "expansion", "renewal")
    assert FORECAST_CATEGORIES == ("pipeline", "best_case", "commit", "closed", "omitted")
    assert EVENT_KINDS == ("process_change", "product_launch", "campaign", "training")
    assert TABLES["reps"].column("role").allowed == ROLES
    assert TABLES["opportunities"].column("forecast_category").allowed == FORECAST_CATEGORIES
    assert TABLES["opportunity_history"].column("forecast_category").allowed == FORECAST_CATEGORIES
    assert TABLES["quotas"].column("measure").default == "bookings"


def test_an_open_deal_close_date_may_lie_ahead():
    """The close date of an open deal is a forecast: not checked against the as-of date."""
    assert not TABLES["opportunities"].column("close_date").not_after_as_of
    assert TABLES["opportunities"].column("created_date").not_after_as_of


def test_unknown_column_names_the_table_and_its_columns():
    with pytest.raises(KeyError, match=r"table 'reps' has no column 'salary'; columns: rep_id, name"):
        TABLES["reps"].column("salary")


def test_loaded_tables_have_the_canonical_dtypes():
    data = salesops.load(CANONICAL, as_of="2024-06-30")
    assert data.quality.ok
    for table, frame in data.tables.items():
        spec = TABLES[table]
        assert list(frame.columns) == [c for c in spec.column_names if c in frame.columns], table
        for column in frame.columns:
            c = spec.column(column)
            if c.kind == "bool":
                assert str(frame[column].dtype) == ("bool" if c.required else "boolean"), (table, column)
            else:
                assert str(frame[column].dtype) == DTYPES[c.kind], (table, column)
            if c.kind in ("id", "str"):
                assert frame[column].dropna().map(type).eq(str).all(), (table, column)
    assert isinstance(data.reps["hire_date"].iloc[0], pd.Timestamp)
