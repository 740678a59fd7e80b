"""Dimension tables as the distinct rows of a source that repeats them (``distinct: true``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import salesops
from salesops.io import LoadError
from salesops.io.distinct import distinct_rows


def test_one_row_per_key_conflicts_nulled_missing_keys_skipped():
    frame = pd.DataFrame(
        {
            "account_id": ["A1", "A2", None, "A1", "A2", "A3"],
            "country": ["FR", "DE", "IT", None, "AT", "ES"],
            "segment": ["SMB", "SMB", "SMB", "SMB", "SMB", None],
        }
    )
    failed = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    result = distinct_rows(frame, ("account_id",), failed, "orders.csv", "accounts")
    assert result.frame["account_id"].tolist() == ["A1", "A2", "A3"]
    # A1: FR and a missing cell agree; A2: DE and AT disagree -> missing, never one of them
    assert result.frame["country"].tolist()[0] == "FR" and pd.isna(result.frame["country"].tolist()[1])
    assert result.frame["country"].tolist()[2] == "ES"
    assert result.frame["segment"].tolist()[:2] == ["SMB", "SMB"] and pd.isna(result.frame["segment"].iloc[2])
    assert result.positions.tolist() == [0, 1, 5]  # each key's first row in the source
    assert "1 row(s) of orders.csv have no account_id" in result.note
    assert "accounts.country: 1 account_id(s)" in result.note and "A2: 'DE', 'AT'" in result.note


def test_dtypes_are_kept_when_nothing_conflicts():
    frame = pd.DataFrame({"rep_id": ["R1", "R1", "R2"],
                          "hire_date": pd.to_datetime(["2024-01-02", "2024-01-02", "2023-05-01"])})
    failed = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    result = distinct_rows(frame, ("rep_id",), failed, "x", "reps")
    assert result.note is None
    assert result.frame["hire_date"].dtype == frame["hire_date"].dtype
    assert np.array_equal(result.positions, [0, 2])


def _orders(folder: Path) -> Path:
    (folder / "orders.csv").write_text(
        "order_id,customer,customer_name,country,order_date,total\n"
        "T1,C1,Acme,FR,2024-01-05,100\n"
        "T2,C2,Borealis,DE,2024-01-06,200\n"
        "T3,C1,Acme,FR,2024-02-01,50\n"
        "T4,C2,Borealis,AT,2024-02-03,70\n"
        "T5,,Walk-in,FR,2024-02-04,10\n",
        encoding="utf-8",
    )
    (folder / "mapping.yaml").write_text(
        "name: orders\n"
        "tables:\n"
        "  transactions:\n"
        "    from: orders\n"
        "    columns: {transaction_id: order_id, customer_id: customer, date: order_date, amount: total}\n"
        "  accounts:\n"
        "    from: orders\n"
        "    distinct: true\n"
        "    columns: {account_id: customer, name: customer_name, country: country}\n",
        encoding="utf-8",
    )
    return folder


def test_a_mapping_takes_accounts_from_order_lines(tmp_path):
    folder = _orders(tmp_path)
    data = salesops.load(folder, mapping=folder / "mapping.yaml", as_of="2024-06-30")
    counts = data.quality.table_counts().set_index("table")
    assert counts.loc["accounts", ["read", "accepted", "rejected"]].tolist() == [2, 2, 0]
    assert counts.loc["transactions", "read"] == 5  # the fact table still sees every line
    accounts = data.accounts.set_index("account_id")
    assert accounts.loc["C1", "name"] == "Acme" and accounts.loc["C1", "country"] == "FR"
    assert pd.isna(accounts.loc["C2", "country"])
    notes = " ".join(data.quality.ignored)
    assert "accounts.country: 1 account_id(s)" in notes and "'DE', 'AT'" in notes
    assert "1 row(s) of" in notes and "have no account_id" in notes


@pytest.mark.parametrize(("value", "message"), [("maybe", "'distinct' must be true or false"),
                                                 ("true", "needs a table with a key")])
def test_distinct_is_checked_when_the_mapping_is_read(tmp_path, value, message):
    table = "accounts" if value == "maybe" else "transactions"
    text = (f"name: m\ntables:\n  {table}:\n    from: orders\n    distinct: {value}\n")
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "orders.csv").write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(LoadError, match=message):
        salesops.load(tmp_path, mapping=tmp_path / "m.yaml")
