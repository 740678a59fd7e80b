"""The committed sample CRM loads through the public loader with every table and nothing rejected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import salesops as so
from salesops.schema.tables import TABLES

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
GENERATED = {
    "stages", "reps", "accounts", "quotas", "opportunities", "opportunity_history", "leads", "activities",
    "revenue", "marketing_spend", "sales_costs", "trainings", "events",
}


def test_sample_loads_every_table_with_zero_rejected_rows():
    data = so.load(SAMPLE)
    assert set(data.tables) == GENERATED
    counts = data.quality.table_counts().set_index("table")
    assert (counts["rejected"] == 0).all(), data.quality.summary()
    assert (counts["read"] == counts["accepted"] + counts["rejected"]).all()
    assert data.quality.ok and data.quality.rejected.empty
    assert data.as_of == pd.Timestamp("2025-12-31 23:59:59.999999", tz="UTC")
    for name, frame in data.tables.items():
        spec = TABLES[name]
        assert list(frame.columns) == [c for c in spec.column_names if c in frame.columns]
        for column in spec.required_columns:
            assert frame[column].notna().all(), f"{name}.{column} has nulls"
    assert isinstance(data.opportunities.loc[0, "opportunity_id"], str)
    assert isinstance(data.activities["occurred_at"].dtype, pd.DatetimeTZDtype)
