"""Database sources: a DuckDB file and a PostgreSQL server (started privately on loopback) give the same
canonical frames as the CSV folder they were written from; credentials stay in the environment."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import salesops
from salesops.io import LoadError
from salesops.schema.tables import TABLES

AS_OF = "2024-06-30"


@pytest.fixture(scope="module")
def from_csv(canonical_folder: Path):
    data = salesops.load(canonical_folder, as_of=AS_OF)
    assert data.quality.ok, data.quality.rejected
    return data


def _sorted(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    key = list(TABLES[table].primary_key) or list(frame.columns)
    return frame.sort_values(key, kind="stable").reset_index(drop=True)


def assert_same_tables(loaded, expected) -> None:
    assert set(loaded.tables) == set(expected.tables)
    for table, frame in expected.tables.items():
        pd.testing.assert_frame_equal(_sorted(loaded.tables[table], table), _sorted(frame, table), obj=table)
    counts = loaded.quality.table_counts().set_index("table")
    assert (counts["read"] == counts["accepted"]).all() and (counts["rejected"] == 0).all()


def test_duckdb_file_gives_the_same_frames(tmp_path, from_csv, duckdb_writer):
    path = tmp_path / "crm.duckdb"
    duckdb_writer(path, from_csv.tables)
    loaded = salesops.load(path, as_of=AS_OF)
    assert_same_tables(loaded, from_csv)
    assert loaded.reps["rep_id"].tolist()[:2] == ["007", "0042"]
    assert loaded.source == str(path)


def test_duckdb_file_rejects_like_csv(tmp_path, from_csv, duckdb_writer):
    """Typed database columns go through the same checks: a negative amount is rejected, row numbered."""
    tables = {k: v.copy() for k, v in from_csv.tables.items()}
    tables["opportunities"].loc[1, "amount"] = -1.0
    path = tmp_path / "crm.duckdb"
    duckdb_writer(path, tables)
    loaded = salesops.load(path, as_of=AS_OF)
    problems = loaded.quality.rejected
    assert problems[["table", "row", "record_id", "column", "check"]].values.tolist() == [
        ["opportunities", 2, "O-002", "amount", "min_value"]
    ]
    assert problems["source"].iloc[0] == f"{path}:opportunities"


def test_duckdb_other_tables_are_left_alone(tmp_path, from_csv, duckdb_writer):
    path = tmp_path / "warehouse.duckdb"
    duckdb_writer(path, {"reps": from_csv.reps})
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE web_sessions (id INTEGER, started TIMESTAMP)")
    loaded = salesops.load(path, as_of=AS_OF)
    assert set(loaded.tables) == {"stages", "reps"}


@pytest.mark.postgres
def test_postgres_gives_the_same_frames(postgres_url, from_csv, sql_writer):
    sql_writer(postgres_url, from_csv.tables)
    loaded = salesops.load(postgres_url, as_of=AS_OF)
    assert_same_tables(loaded, from_csv)
    assert loaded.source == postgres_url
    assert loaded.quality.counts["source"].str.startswith(f"{postgres_url}:").all()


@pytest.mark.postgres
def test_postgres_password_comes_from_the_environment(postgres_url, from_csv, monkeypatch, tmp_path, sql_writer):
    secret = "s3cr3t:p@ss/word"  # characters that must be escaped inside a URL
    monkeypatch.setenv("PGPASSWORD_TEST", secret)
    sql_writer(postgres_url, {"reps": from_csv.reps, "accounts": from_csv.accounts})
    url = postgres_url.replace("postgresql://postgres@", "postgresql://postgres:${PGPASSWORD_TEST}@")
    data = salesops.load(url, as_of=AS_OF)
    pd.testing.assert_frame_equal(_sorted(data.reps, "reps"), _sorted(from_csv.reps, "reps"))

    texts = [data.source, repr(data), data.quality.summary(), data.quality.counts.to_csv()]
    assert data.source == postgres_url.replace("postgresql://postgres@", "postgresql://postgres:***@")
    # a rejected row: its source is named in the problem list and the quarantine
    sql_writer(postgres_url, {"opportunities": from_csv.opportunities.assign(amount=-1.0)})
    bad = salesops.load(url, as_of=AS_OF)
    assert not bad.quality.ok
    out = tmp_path / "quarantine"
    bad.quality.write_quarantine(out)
    texts += [bad.quality.summary(), bad.quality.rejected.to_csv(), *(p.read_text() for p in out.iterdir())]
    with pytest.raises(LoadError) as strict_error:
        salesops.load(url, as_of=AS_OF, strict=True)
    texts.append(str(strict_error.value))
    # an error reaching the server: the message names the database, never the password
    with pytest.raises(LoadError) as info:
        salesops.load(url.replace(postgres_url.rsplit("/", 1)[1], "no_such_database"))
    texts.append(str(info.value))
    assert "no_such_database" in str(info.value) and "***" in str(info.value)
    for text in texts:
        assert secret not in text
        assert "s3cr3t" not in text


@pytest.mark.postgres
def test_postgres_unset_variable_is_an_error(postgres_url, monkeypatch):
    monkeypatch.delenv("PGPASSWORD_TEST_MISSING", raising=False)
    url = postgres_url.replace("postgresql://postgres@", "postgresql://postgres:${PGPASSWORD_TEST_MISSING}@")
    with pytest.raises(LoadError, match=r"PGPASSWORD_TEST_MISSING.*not set"):
        salesops.load(url)
