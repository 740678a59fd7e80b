"""Property test of the input gate: a clean opportunities table, random corruptions from a catalogue, written
as CSV (several dialects and encodings), Parquet or Excel, then loaded.

Asserted on every example: the loader read exactly the rows the test wrote (counted by the test, not by the
loader); read = accepted + rejected; the rejected rows are exactly the corrupted ones, each named with a check
its fault can cause; and every accepted value is the value the test intended.

CI runs a fixed, derandomised profile of 150 examples. For a longer local run:

    SALESOPS_HYPOTHESIS=long .venv/bin/python -m pytest tests/io/test_gate_properties.py

(``long``: 2,000 examples, random seeds; about an hour on two cores.)
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salesops

settings.register_profile(
    "salesops-ci", max_examples=150, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "salesops-long", max_examples=2_000, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PROFILE = "salesops-long" if os.environ.get("SALESOPS_HYPOTHESIS") == "long" else "salesops-ci"

STAGES = [  # the default stages (templates/stages.yaml): name, is_closed, is_won
    ("Qualification", False, False), ("Discovery", False, False), ("Proposal", False, False),
    ("Negotiation", False, False), ("Closed Won", True, True), ("Closed Lost", True, False),
]
PRODUCTS = ["Analytics Add-on", "Café Suite", "Señor Plan", 'Quote "Pro"', "Data, Sync"]
COLUMNS = ["opportunity_id", "account_id", "owner_rep_id", "created_date", "close_date", "stage", "is_closed",
           "is_won", "amount", "product"]
AS_OF = "2025-12-31"

#: fault -> (checks the loader may name for it, whether only a CSV file can carry it)
FAULTS: dict[str, tuple[set[str], bool]] = {
    "negative_amount": ({"min_value"}, False),
    "underscore_amount": ({"type"}, False),
    "bool_amount": ({"type"}, False),
    "won_and_lost": ({"status_matches_stage"}, False),
    "closed_flag_false": ({"status_matches_stage"}, False),
    "year_1900": ({"implausible_date"}, False),
    "missing_owner": ({"not_null"}, False),
    "unknown_stage": ({"known_stage"}, False),
    "unclosed_quote": ({"unbalanced_quote"}, True),
    "extra_field": ({"field_count"}, True),
    "missing_field": ({"field_count"}, True),
    "nul_byte": ({"nul_byte"}, True),
}
DIALECTS = [  # (delimiter, decimal comma?, encoding)
    (",", False, "utf-8"), (";", True, "utf-8-sig"), (",", False, "cp1252"), (";", True, "utf-16"),
]


@dataclass
class Deal:
    opportunity_id: str
    owner_rep_id: str
    created: pd.Timestamp
    close: pd.Timestamp
    stage: str
    is_closed: bool
    is_won: bool
    cents: int
    product: str


@st.composite
def deals(draw) -> list[Deal]:
    n = draw(st.integers(3, 14))
    out = []
    for i in range(n):
        created = pd.Timestamp("2021-01-01") + pd.Timedelta(days=draw(st.integers(0, 1500)))
        close = created + pd.Timedelta(days=draw(st.integers(0, 300)))
        stage, closed, won = draw(st.sampled_from(STAGES))
        out.append(Deal(f"O{i + 1:04d}", f"R{draw(st.integers(1, 9)):02d}", created, close, stage, closed, won,
                        draw(st.integers(0, 5_000_000_00)), draw(st.sampled_from(PRODUCTS))))
    return out


def _amount_text(cents: int, decimal_comma: bool) -> str:
    text = f"{cents / 100:,.2f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".") if decimal_comma else text


def _cells(deal: Deal, decimal_comma: bool) -> list[str]:
    return [deal.opportunity_id, "A001", deal.owner_rep_id, f"{deal.created:%Y-%m-%d}", f"{deal.close:%Y-%m-%d}",
            deal.stage, str(deal.is_closed).lower(), str(deal.is_won).lower(), _amount_text(deal.cents, decimal_comma),
            deal.product]


def _corrupt_cells(cells: list[str], fault: str) -> list[str]:
    cells = list(cells)
    if fault == "negative_amount":  # -0.00 is no negative amount: a zero deal gets -5
        cells[8] = "-" + cells[8] if any(ch in "123456789" for ch in cells[8]) else "-5"
    elif fault == "underscore_amount":
        cells[8] = "1_000"
    elif fault == "bool_amount":
        cells[8] = "true"
    elif fault == "won_and_lost":
        cells[5], cells[6], cells[7] = "Closed Lost", "true", "true"
    elif fault == "closed_flag_false":
        cells[5], cells[6], cells[7] = "Closed Won", "false", "true"
    elif fault == "year_1900":
        cells[3] = "1900-01-01"
    elif fault == "missing_owner":
        cells[2] = ""
    elif fault == "unknown_stage":
        cells[5] = "Verbal Yes (not a stage)"
    return cells


def _csv_line(cells: list[str], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


def _structural(line: str, cells: list[str], fault: str, delimiter: str) -> str:
    if fault == "unclosed_quote":
        return line.replace(cells[0], f'"{cells[0]}', 1)  # an opening quote that never closes on this line
    if fault == "extra_field":
        return line.rstrip("\r\n") + f"{delimiter}surplus\r\n"
    if fault == "missing_field":
        return _csv_line(cells[:-1], delimiter)
    if fault == "nul_byte":
        return line.replace(cells[0], cells[0] + "\x00", 1)
    return line


def _write(folder: Path, rows: list[Deal], faults: dict[int, str], kind: str, dialect: tuple) -> None:
    delimiter, decimal_comma, encoding = dialect if kind == "csv" else (",", False, "utf-8")
    cells = [_cells(d, decimal_comma) for d in rows]
    cells = [_corrupt_cells(c, faults[i]) if i in faults else c for i, c in enumerate(cells)]
    if kind == "csv":
        lines = [_csv_line(COLUMNS, delimiter)]
        for i, row in enumerate(cells):
            line = _csv_line(row, delimiter)
            lines.append(_structural(line, row, faults[i], delimiter) if i in faults else line)
        (folder / "opportunities.csv").write_bytes("".join(lines).encode(encoding))
    else:
        frame = pd.DataFrame(cells, columns=COLUMNS, dtype=object)
        if kind == "parquet":
            frame.to_parquet(folder / "opportunities.parquet", index=False)
        else:
            frame.to_excel(folder / "opportunities.xlsx", index=False)


@st.composite
def cases(draw):
    rows = draw(deals())
    kind = draw(st.sampled_from(["csv", "csv", "parquet", "xlsx"]))
    dialect = draw(st.sampled_from(DIALECTS))
    allowed = [f for f, (_, csv_only) in FAULTS.items() if kind == "csv" or not csv_only]
    damaged = draw(st.lists(st.integers(0, len(rows) - 1), unique=True, max_size=min(3, len(rows))))
    faults = {i: draw(st.sampled_from(allowed)) for i in damaged}
    return rows, kind, dialect, faults


@settings(settings.get_profile(PROFILE))
@given(case=cases())
def test_every_row_is_read_once_and_every_accepted_value_is_the_intended_one(case, tmp_path_factory):
    rows, kind, dialect, faults = case
    folder = tmp_path_factory.mktemp("gate")
    _write(folder, rows, faults, kind, dialect)

    data = salesops.load(folder, as_of=AS_OF)
    counts = data.quality.table_counts().set_index("table").loc["opportunities"]
    assert counts["read"] == len(rows), (kind, dialect, faults)
    assert counts["read"] == counts["accepted"] + counts["rejected"]

    rejected = data.quality.rejected.query("table == 'opportunities'")
    rejected_rows = {int(r) - 1 for r in rejected["row"]}  # the report's rows are 1-based data rows
    assert rejected_rows == set(faults), (kind, dialect, faults, rejected[["row", "check", "message"]])
    for i, fault in faults.items():
        named = set(rejected.loc[rejected["row"] == i + 1, "check"])
        assert named & FAULTS[fault][0], (fault, kind, dialect, named)

    accepted = data.tables["opportunities"].set_index("opportunity_id")
    intended = [d for i, d in enumerate(rows) if i not in faults]
    assert sorted(accepted.index) == sorted(d.opportunity_id for d in intended)
    for deal in intended:
        got = accepted.loc[deal.opportunity_id]
        assert round(float(got["amount"]) * 100) == deal.cents, (deal, got["amount"], kind, dialect)
        assert pd.Timestamp(got["created_date"]) == deal.created
        assert pd.Timestamp(got["close_date"]) == deal.close
        assert got["stage"] == deal.stage and bool(got["is_won"]) == deal.is_won
        assert got["owner_rep_id"] == deal.owner_rep_id and got["product"] == deal.product


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_alone_is_caught_in_a_comma_csv(fault, tmp_path):
    """The catalogue, one fault at a time, so a regression names the fault that slipped through."""
    rows = [Deal(f"O{i:04d}", "R01", pd.Timestamp("2024-03-01"), pd.Timestamp("2024-04-01"), "Proposal", False,
                 False, 1_234_56 * (i + 1), PRODUCTS[i % len(PRODUCTS)]) for i in range(1, 5)]
    _write(tmp_path, rows, {1: fault}, "csv", DIALECTS[0])
    data = salesops.load(tmp_path, as_of=AS_OF)
    rejected = data.quality.rejected
    assert set(rejected["row"]) == {2}, rejected
    assert set(rejected["check"]) & FAULTS[fault][0], rejected
    assert len(data.tables["opportunities"]) == 3
