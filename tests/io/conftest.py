"""Fixtures of the loader tests: a private PostgreSQL 15 server on loopback, and writers that put the
canonical tables into a database with real column types (DATE, TIMESTAMPTZ, BOOLEAN, DOUBLE...)."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from salesops.io.readers import sqlalchemy_url
from salesops.schema.tables import TABLES

FIXTURES = Path(__file__).parent / "fixtures"
CANONICAL = FIXTURES / "canonical"
PG_BIN = Path(os.environ.get("SALESOPS_PG_BIN", "/usr/lib/postgresql/15/bin"))

#: SQL column type of each canonical kind.
SQL_TYPES = {
    "id": "VARCHAR",
    "str": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "float": "DOUBLE PRECISION",
    "int": "BIGINT",
    "bool": "BOOLEAN",
}


@pytest.fixture(scope="session")
def canonical_folder() -> Path:
    """A small, clean CRM in the canonical model (CSV), with leading-zero ids and some empty cells."""
    return CANONICAL


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(argv: list[str]) -> list[str]:
    """``initdb`` refuses to run as root: as root, run the server binaries as the ``postgres`` user."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a private PostgreSQL 15 server on 127.0.0.1 (trust auth, socket in its temp dir).

    Yields the base URL ``postgresql://postgres@127.0.0.1:PORT``; the server is stopped and its directory
    removed at the end of the session. Skips, with the reason, when the server binaries are missing.
    """
    initdb, pg_ctl = PG_BIN / "initdb", PG_BIN / "pg_ctl"
    if not (initdb.exists() and pg_ctl.exists()):
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN} (apt-get install postgresql-15)")
    root = os.geteuid() == 0 if hasattr(os, "geteuid") else False
    if root and shutil.which("runuser") is None:
        pytest.skip("running as root, and runuser (to run initdb as postgres) is missing")
    base = Path(tempfile.mkdtemp(prefix="salesops-pg-"))
    data = base / "data"
    if root:
        shutil.chown(base, user="postgres", group="postgres")
    port = _free_port()
    try:
        subprocess.run(
            _as_postgres([str(initdb), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]),
            check=True, capture_output=True, text=True,
        )
        subprocess.run(
            _as_postgres([
                str(pg_ctl), "-D", str(data), "-l", str(base / "server.log"), "-w",
                "-o", f"-k {base} -h 127.0.0.1 -p {port} -c fsync=off", "start",
            ]),
            check=True, capture_output=True, text=True,
        )
    except subprocess.CalledProcessError as exc:
        log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc.stderr}\n{log}") from exc
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([str(pg_ctl), "-D", str(data), "-m", "fast", "-w", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


_database_numbers = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the private server, dropped after the test."""
    import sqlalchemy as sa

    name = f"salesops_test_{next(_database_numbers)}"
    admin = sa.create_engine(sqlalchemy_url(f"{postgres_server}/postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{postgres_server}/{name}"
    finally:
        with admin.connect() as con:
            con.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _create_sql(table: str, frame: pd.DataFrame) -> str:
    columns = ", ".join(f'"{c}" {SQL_TYPES[TABLES[table].column(c).kind]}' for c in frame.columns)
    return f'CREATE TABLE "{table}" ({columns})'


def write_duckdb(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Write canonical frames into a DuckDB file, one typed table each."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        for table, frame in tables.items():
            con.execute(_create_sql(table, frame))
            con.register("frame_view", frame)
            con.execute(f'INSERT INTO "{table}" SELECT * FROM frame_view')
            con.unregister("frame_view")
    finally:
        con.close()


def write_sql(url: str, tables: dict[str, pd.DataFrame]) -> None:
    """Write canonical frames into a SQL database through SQLAlchemy, one typed table each."""
    import sqlalchemy as sa

    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as con:
            for table, frame in tables.items():
                con.execute(sa.text(_create_sql(table, frame)))
                rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
                if rows:
                    names = ", ".join(f'"{c}"' for c in frame.columns)
                    params = ", ".join(f":p{i}" for i in range(len(frame.columns)))
                    statement = sa.text(f'INSERT INTO "{table}" ({names}) VALUES ({params})')
                    con.execute(statement, [{f"p{i}": r[c] for i, c in enumerate(frame.columns)} for r in rows])
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def duckdb_writer():
    """``duckdb_writer(path, {table: frame})`` writes canonical frames into a DuckDB file."""
    return write_duckdb


@pytest.fixture(scope="session")
def sql_writer():
    """``sql_writer(url, {table: frame})`` writes canonical frames into a SQL database."""
    return write_sql
