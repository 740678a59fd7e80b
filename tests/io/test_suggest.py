"""``salesops map suggest``: a draft mapping from an export's headers and sample values.

The presets' own source column names are written to tiny CSV folders and the suggestion must map every
required column the way the preset does; the real Maven export (``../shared/data/real``) must come out as
its preset maps it, and load to the same counts after the few edits the draft marks TODO.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

import salesops
from salesops.cli import main
from salesops.io.mapping import PRESETS, parse_mapping, resolve_mapping
from salesops.io.suggest import name_score, profile, render, suggest
from salesops.schema.tables import TABLES

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
MAVEN = REAL / "maven_crm_sales_opportunities"
CDNOW = REAL / "cdnow_lifetimes"
RETAIL = REAL / "uci_online_retail"
SALVIRT = REAL / "salvirt_b2b_win_loss"
needs_real = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"real data sets not found at {REAL} (they live beside the checkout, never in it)")


def _values(kind: str, column: str, allowed: tuple[str, ...] | None, n: int = 6) -> list[str]:
    """Plausible cells of a canonical kind, as an export writes them."""
    if kind == "id":
        return [f"{column[:3].upper()}{i:04d}" for i in range(n)]
    if kind == "date":
        return [f"2024-03-{i + 10:02d}" for i in range(n)]
    if kind == "timestamp":
        return [f"2024-03-{i + 10:02d}T10:{i:02d}:00Z" for i in range(n)]
    if kind == "float":
        return [f"{1200.5 + 10 * i}" for i in range(n)]
    if kind == "int":
        return [str(i + 1) for i in range(n)]
    if kind == "bool":
        return ["true" if i % 2 else "false" for i in range(n)]
    words = list(allowed or ("Alpha one", "Beta two", "Gamma three"))
    return [words[i % len(words)] for i in range(n)]


def _preset_folder(preset: str, folder: Path) -> dict[str, list]:
    """Write one CSV per file stem the preset reads, headed by its first-choice source names."""
    blocks: dict[str, list] = {}
    frames: dict[str, dict[str, list[str]]] = {}
    for source in resolve_mapping(preset).sources:
        stem = source.sources[0]
        blocks.setdefault(stem, []).append(source)
        cells = frames.setdefault(stem, {})
        for column, alternatives in source.columns.items():
            spec = TABLES[source.table].column(column)
            cells.setdefault(alternatives[0], _values(spec.kind, column, spec.allowed))
        for column, accepted in source.where.items():
            cells.setdefault(column, [accepted[0]] * 6)
    for stem, cells in frames.items():
        pd.DataFrame(cells).to_csv(folder / f"{stem}.csv", index=False)
    return blocks


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_headers_map_as_the_preset_does(preset, tmp_path):
    blocks = _preset_folder(preset, tmp_path)
    guesses = {g.stem: g for g in suggest(tmp_path)}
    assert set(guesses) == set(blocks)
    checked = 0
    for stem, sources in blocks.items():
        guess = guesses[stem]
        assert guess.table == sources[0].table, (stem, guess.table, guess.alternatives)
        for source in sources:
            for column in TABLES[source.table].required_columns:
                if column in source.columns:
                    assert guess.assigned.get(column, (None,))[0] == source.columns[column][0], (stem, column)
                    checked += 1
    assert checked >= 10
    text = render(list(guesses.values()), name=preset)
    mapping = parse_mapping(yaml.safe_load(text), origin=f"suggested {preset}")
    assert {m.table for m in mapping.sources} == {s.table for sources in blocks.values() for s in sources}


def test_synonyms_come_from_the_presets():
    for spelling in ("Deal Stage", "dealstage", "StageName", "deal_stage"):
        assert name_score(spelling, "opportunities", "stage") == 1.0
    assert name_score("close_value", "opportunities", "amount") == 1.0
    assert name_score("CloseDate", "opportunities", "close_date") == 1.0
    assert name_score("sales_agent", "opportunities", "owner_rep_id") == 1.0
    assert name_score("Favourite colour", "opportunities", "stage") < 0.5


def test_values_decide_kind_and_date_convention():
    day_first = profile(pd.Series(["26-02-2018 19:58", "03-04-2018 08:00", "13-01-2018 10:15", None]))
    assert (day_first.kind, day_first.convention, day_first.ambiguous) == ("date", "dayfirst", False)
    month_first = profile(pd.Series(["02/26/2018", "04/03/2018"]))
    assert (month_first.kind, month_first.convention, month_first.ambiguous) == ("date", "monthfirst", False)
    undecided = profile(pd.Series(["02/03/2018", "04/05/2018"]))
    assert undecided.convention in ("dayfirst", "monthfirst") and undecided.ambiguous
    assert profile(pd.Series(["2024-03-31T17:00:00Z"])).convention == "iso"
    assert profile(pd.Series(["1711904400000", "1711990800000"])).convention == "epoch_ms"
    assert profile(pd.Series(["19970101", "19970112"])).convention == "yyyymmdd"
    assert profile(pd.Series(["1054", "0", "4514"])).kind == "number"
    assert profile(pd.Series(["Won", "Lost"])).kind == "text"
    assert profile(pd.Series([None, ""])).kind == "empty"


def test_a_date_column_is_never_an_amount(tmp_path):
    """Named like an amount but holding dates: it may only feed a date column."""
    pd.DataFrame({"Id": ["a", "b"], "Amount": ["2024-01-05", "2024-02-06"], "Value": ["10", "20"],
                  "StageName": ["Won", "Lost"]}).to_csv(tmp_path / "Opportunity.csv", index=False)
    [guess] = suggest(tmp_path)
    assert guess.table == "opportunities"
    assert guess.assigned.get("amount", ("",))[0] != "Amount"
    amount_column = next(c for c in guess.columns if c.source == "Amount")
    assert amount_column.column in (None, "created_date", "close_date")
    assert "TODO" in render([guess])


@needs_real
def test_maven_real_export():
    guesses = {g.stem: g for g in suggest(MAVEN)}
    deals = guesses["sales_pipeline"]
    assert deals.table == "opportunities"
    mapped = {c: v[0] for c, v in deals.assigned.items()}
    assert mapped["stage"] == "deal_stage"
    assert mapped["amount"] == "close_value"
    assert mapped["owner_rep_id"] == "sales_agent"
    assert mapped["created_date"] == "engage_date" and mapped["close_date"] == "close_date"
    assert guesses["sales_teams"].table == "reps" and guesses["accounts"].table == "accounts"
    assert guesses["products"].table is None
    text = render(list(guesses.values()), name="maven")
    doc = yaml.safe_load(text)
    mapping = resolve_mapping(doc)
    opps = next(m for m in mapping.sources if m.table == "opportunities")
    for column in ("created_date", "close_date"):
        assert TABLES["opportunities"].column(column).kind == "date"
        assert opps.formats[column].date_format == "iso"
    assert mapping.ignore == ("products",)
    assert "# TODO role (required)" in text and "#   - {stage: Won" in text
    # the edits the draft asks for (stages, a role), nothing else: the preset's counts
    doc["stages"] = [
        {"stage": "Prospecting", "order": 1, "probability": 0.1, "is_closed": False, "is_won": False},
        {"stage": "Engaging", "order": 2, "probability": 0.4, "is_closed": False, "is_won": False},
        {"stage": "Won", "order": 3, "probability": 1.0, "is_closed": True, "is_won": True},
        {"stage": "Lost", "order": 4, "probability": 0.0, "is_closed": True, "is_won": False},
    ]
    doc["tables"]["reps"]["constants"] = {"role": "AE"}
    counts = salesops.load(MAVEN, mapping=doc).quality.table_counts().set_index("table")
    assert counts.loc["opportunities", ["read", "accepted", "rejected"]].tolist() == [8_800, 6_711, 2_089]
    assert counts.loc["reps", "accepted"] == 35 and counts.loc["accounts", "accepted"] == 85


@needs_real
def test_cdnow_real_export():
    guesses = {g.stem: g for g in suggest(CDNOW)}
    master = guesses["cdnow_master_transactions"]
    assert master.table == "transactions"
    assert {c: v[0] for c, v in master.assigned.items() if c in ("customer_id", "date", "amount")} == {
        "customer_id": "customer_id", "date": "date", "amount": "dollar_value"}
    assert "date: {date_format: yyyymmdd}" in render([master])
    assert guesses["cdnow_customers_summary"].table is None
    # the one edit: the sample file (a subset of the master file) moves from its block to ignore:
    doc = yaml.safe_load(render(list(guesses.values()), name="cdnow"))
    doc["tables"]["transactions"] = [b for b in doc["tables"]["transactions"]
                                     if b["from"] == "cdnow_master_transactions"]
    doc["ignore"].append("cdnow_sample_transactions")
    counts = salesops.load(CDNOW, mapping=doc).quality.table_counts().set_index("table")
    assert counts.loc["transactions", ["read", "rejected"]].tolist() == [69_659, 255]


@needs_real
def test_retail_and_salvirt_real_exports():
    [retail] = suggest(RETAIL)
    assert retail.table == "transactions"
    assert {c: v[0] for c, v in retail.assigned.items()}.items() >= {
        "customer_id": "CustomerID", "date": "InvoiceDate", "quantity": "Quantity", "country": "Country"}.items()
    assert retail.missing == ["amount"]  # Quantity * UnitPrice: a derive the user writes
    assert "# TODO amount (required)" in render([retail])
    [salvirt] = suggest(SALVIRT)  # no dates, no amounts: no canonical table fits
    assert salvirt.table is None
    assert "ignore:" in render([salvirt])


def test_cli_prints_yaml(tmp_path, capsys):
    _preset_folder("maven_crm", tmp_path)
    assert main(["map", "suggest", str(tmp_path)]) == 0
    doc = yaml.safe_load(capsys.readouterr().out)
    assert set(doc["tables"]) == {"opportunities", "reps", "accounts"}
    out = tmp_path / "draft.yaml"
    assert main(["map", "suggest", str(tmp_path / "sales_pipeline.csv"), "--out", str(out)]) == 0
    assert resolve_mapping(out).sources[0].table == "opportunities"
    assert main(["map", "suggest", str(tmp_path / "missing")]) == 2
