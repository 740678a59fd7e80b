"""``Engine``: an Ibis backend holding the canonical tables, where the heavy aggregations run.

Three ways in, one object out:

* :meth:`Engine.from_data` puts the tables of a :class:`~salesops.io.SalesData` (pandas, in memory) into an
  embedded DuckDB (or any Ibis backend given, e.g. PySpark) without copying what DuckDB can scan in place;
* :meth:`Engine.from_files` opens a folder of ``<table>.parquet`` / ``<table>.csv`` exports in the canonical
  model as DuckDB views: nothing is read until a query runs, and DuckDB streams the files (out of core, with
  a memory limit);
* :meth:`Engine.from_ibis` wraps an Ibis connection whose tables carry the canonical names (a Spark session,
  Snowflake, BigQuery, a DuckDB file ...).

Inside the engine every timestamp is a naive UTC timestamp (tz-aware columns are converted on the way in) so
the same expression means the same thing on every backend; results come back to pandas through
:meth:`Engine.execute`, which turns them back into tz-aware UTC where asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from salesops.periods import as_moment
from salesops.schema.tables import TABLES

__all__ = ["Engine", "EngineError", "connect", "engine_for", "naive_utc"]

#: Suffixes :meth:`Engine.from_files` reads, in order of preference.
FILE_SUFFIXES = (".parquet", ".csv", ".csv.gz")
#: Name of the file-order column added to the history table (ties in ``changed_at`` keep file order).
ROW_ORDER = "_row"


class EngineError(ValueError):
    """A table or column an aggregation needs is not in the engine (the message names it)."""


def _is_ibis_backend(obj: Any) -> bool:
    try:
        from ibis.backends import BaseBackend
    except ImportError:  # pragma: no cover - ibis is a dependency
        return False
    return isinstance(obj, BaseBackend)


def _duckdb_backend(memory_limit: str | None = None, threads: int | None = None, temp_directory: str | None = None):
    import ibis

    con = ibis.duckdb.connect()
    raw = con.con
    raw.execute("SET TimeZone = 'UTC'")
    if memory_limit:
        raw.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        raw.execute(f"SET threads = {int(threads)}")
    if temp_directory:
        raw.execute(f"SET temp_directory = '{Path(temp_directory).as_posix()}'")
    # results are aggregates: keep insertion order off so DuckDB may stream and parallelise freely
    raw.execute("SET preserve_insertion_order = false")
    return con


def _naive_utc(frame: pd.DataFrame) -> pd.DataFrame:
    """Tz-aware columns as naive UTC, nullable integer columns as float (every backend reads those).

    A shallow copy with the converted columns swapped in: ``DataFrame.assign`` would deep-copy and
    consolidate the whole frame (7.6 s of 8.5 s for 9M activities)."""
    out = None
    for col, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.DatetimeTZDtype):
            value = frame[col].dt.tz_convert("UTC").dt.tz_localize(None)
        elif isinstance(dtype, pd.Int64Dtype | pd.Int32Dtype | pd.BooleanDtype):
            value = frame[col].astype("float64" if not isinstance(dtype, pd.BooleanDtype) else "object")
        else:
            continue
        if out is None:
            out = frame.copy(deep=False)
        out[col] = value
    return frame if out is None else out


class Engine:
    """The canonical tables in an Ibis backend, and where aggregations over them run.

    Parameters
    ----------
    con : ibis backend
        The connection (DuckDB, PySpark, ...).
    tables : dict of str to ibis.Table
        Canonical table name to table expression.
    as_of : Timestamp, optional
        The moment the data describes (tz-aware UTC), as :attr:`salesops.io.SalesData.as_of`.
    source : str
        Where the tables came from, for messages.
    """

    def __init__(self, con: Any, tables: dict[str, Any], as_of: pd.Timestamp | None = None, source: str = ""):
        self.con = con
        self.tables = dict(tables)
        self.as_of = as_of
        self.source = source

    # --- ways in -------------------------------------------------------------------------------------------
    @classmethod
    def from_data(
        cls, data: Any, backend: Any = None, *, tables: Iterable[str] | None = None
    ) -> Engine:
        """The tables of a :class:`~salesops.io.SalesData` in DuckDB (default) or in ``backend``.

        On DuckDB the pandas frames are scanned in place (no copy beyond the tz conversion of timestamp
        columns); other backends receive a copy as temporary views (nothing is written to their storage).
        ``tables`` limits which are put in.
        """
        names = [n for n in (tables if tables is not None else data.tables) if data.tables.get(n) is not None]
        con = backend if backend is not None else _duckdb_backend()
        is_duckdb = getattr(con, "name", "") == "duckdb"
        out = {}
        for name in names:
            frame = _naive_utc(data.tables[name])
            if name == "opportunity_history" and ROW_ORDER not in frame.columns:
                frame = frame.copy(deep=False) if frame is data.tables[name] else frame
                frame[ROW_ORDER] = range(len(frame))
            if is_duckdb:
                con.con.register(name, frame)
                out[name] = con.table(name)
            else:  # a temporary view over the uploaded frame: nothing is written to the backend's storage
                import ibis

                out[name] = con.create_view(name, ibis.memtable(frame), overwrite=True)
        return cls(con, out, as_of=getattr(data, "as_of", None), source=getattr(data, "source", ""))

    @classmethod
    def from_files(
        cls,
        folder: str | Path,
        *,
        as_of: Any = None,
        memory_limit: str | None = "4GB",
        threads: int | None = None,
        temp_directory: str | Path | None = None,
    ) -> Engine:
        """A folder of canonical ``<table>.parquet`` (or ``.csv``) files as DuckDB views, read out of core.

        A table may also be a folder ``<table>/`` of Parquet parts. ``memory_limit`` caps DuckDB's memory
        (it spills to ``temp_directory``, default a folder in the system temp); ``as_of`` defaults to the
        latest event in the files (:meth:`latest_event`).
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise EngineError(f"{folder}: not a folder of exports (expected <table>.parquet or <table>.csv files)")
        con = _duckdb_backend(memory_limit, threads, str(temp_directory) if temp_directory else None)
        out = {}
        for name in TABLES:
            path = _table_file(folder, name)
            if path is not None:
                out[name] = _file_view(con, name, path)
        if not out:
            raise EngineError(f"{folder}: no canonical table found (expected e.g. activities.parquet or opportunities.csv)")
        engine = cls(con, out, source=str(folder))
        engine.as_of = as_moment(as_of) if as_of is not None else engine.latest_event()
        return engine

    @classmethod
    def from_ibis(cls, con: Any, *, as_of: Any = None, tables: dict[str, str] | None = None) -> Engine:
        """An Ibis connection whose tables carry the canonical names (or ``tables`` maps canonical name to
        the backend's table name), e.g. ``ibis.pyspark.connect(spark)`` or ``ibis.snowflake.connect(...)``.
        """
        available = set(con.list_tables())
        mapping = tables or {n: n for n in TABLES if n in available}
        missing = [f"{k} -> {v}" for k, v in mapping.items() if v not in available]
        if missing:
            raise EngineError(f"the connection has no table(s) {missing}; it has {sorted(available)}")
        out = {name: _canonical_types(con.table(table)) for name, table in mapping.items()}
        engine = cls(con, out, source=f"ibis:{getattr(con, 'name', type(con).__name__)}")
        engine.as_of = as_moment(as_of) if as_of is not None else engine.latest_event()
        return engine

    # --- use -----------------------------------------------------------------------------------------------
    @property
    def backend_name(self) -> str:
        """``duckdb``, ``pyspark``, ... (the Ibis backend's name)."""
        return str(getattr(self.con, "name", type(self.con).__name__))

    def has(self, name: str, columns: Iterable[str] = ()) -> bool:
        """Whether table ``name`` is present with every column in ``columns``."""
        if name not in self.tables:
            return False
        have = set(self.tables[name].columns)
        return all(c in have for c in columns)

    def table(self, name: str, columns: Iterable[str] = (), purpose: str = "") -> Any:
        """The Ibis table ``name``; raises :class:`EngineError` naming the table or columns missing."""
        why = f" for {purpose}" if purpose else ""
        if name not in self.tables:
            raise EngineError(f"the {name} table is needed{why}, and {self.source or 'the engine'} has none "
                              f"(tables: {', '.join(sorted(self.tables)) or 'none'})")
        t = self.tables[name]
        missing = [c for c in columns if c not in t.columns]
        if missing:
            raise EngineError(f"the column(s) {', '.join(f'{name}.{c}' for c in missing)} are needed{why}, "
                              f"and {self.source or 'the engine'} lacks them")
        return t

    def execute(self, expr: Any, *, utc: Iterable[str] = ()) -> Any:
        """Run ``expr``: a table expression gives a pandas frame (the ``utc`` columns tz-aware UTC), a
        scalar expression its value."""
        frame = self.con.execute(expr)
        if not isinstance(frame, pd.DataFrame):
            return frame
        for col in utc:
            if col in frame.columns:
                values = pd.to_datetime(frame[col])
                frame[col] = values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
        return frame

    def to_pandas(self, name: str) -> pd.DataFrame:
        """A whole (small) table as pandas: reps, stages, accounts. Not for activities or history at scale."""
        return self.execute(self.table(name))

    def latest_event(self) -> pd.Timestamp | None:
        """The latest thing that happened in the data, by the rule of :func:`salesops.load`: the maximum of
        every past-event column of the canonical model and of closed deals' close dates; a date counts as the
        end of its day."""
        latest: pd.Timestamp | None = None
        for name, t in self.tables.items():
            spec = TABLES.get(name)
            if spec is None:
                continue
            aggs = {c.name: t[c.name].max() for c in spec.columns if c.not_after_as_of and c.name in t.columns}
            if name == "opportunities" and {"close_date", "is_closed"} <= set(t.columns):
                aggs["_closed_close"] = t.close_date.max(where=t.is_closed.cast("boolean"))
            if not aggs:
                continue
            row = self.con.execute(t.aggregate(**aggs)).iloc[0]
            for col, value in row.items():
                if pd.isna(value):
                    continue
                ts = pd.Timestamp(value)
                if col == "_closed_close" or spec.column(col).kind == "date":
                    ts = ts.normalize() + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
                ts = as_moment(ts)
                latest = ts if latest is None or ts > latest else latest
        return latest

    def __repr__(self) -> str:
        return f"Engine({self.backend_name}, source={self.source!r}, tables={sorted(self.tables)}, as_of={self.as_of})"


#: Event columns whose maximum is the data's as-of moment when none is given.
_EVENT_COLUMNS = {
    "opportunity_history": ("changed_at",),
    "activities": ("occurred_at",),
    "leads": ("created_at",),
}


def _table_file(folder: Path, name: str) -> Path | None:
    if (folder / name).is_dir() and any((folder / name).glob("*.parquet")):
        return folder / name
    for suffix in FILE_SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _file_view(con: Any, name: str, path: Path) -> Any:
    """A DuckDB view over one table's file(s) with canonical types: ids and text as VARCHAR (leading zeros
    kept), dates as DATE, timestamps as naive UTC TIMESTAMP. Nothing is read but the header."""
    raw = con.con
    if path.is_dir() or path.name.endswith(".parquet"):
        source = f"read_parquet({_sql_string(str(path / '*.parquet') if path.is_dir() else str(path))})"
    else:
        header = raw.execute(f"DESCRIBE SELECT * FROM read_csv({_sql_string(str(path))}, all_varchar = true)").fetchall()
        spec = TABLES[name]
        text = {c.name for c in spec.columns if c.kind in ("id", "str")}
        types = ", ".join(f"{_sql_string(col)}: 'VARCHAR'" for col, *_ in header if col in text)
        source = f"read_csv({_sql_string(str(path))}, header = true" + (f", types = {{{types}}})" if types else ")")
    columns = raw.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    kinds = {c.name: c.kind for c in TABLES[name].columns}
    select = []
    for col, sql_type, *_ in columns:
        quoted = '"' + col.replace('"', '""') + '"'
        kind = kinds.get(col)
        if kind == "timestamp" and sql_type != "TIMESTAMP":
            expr = f"CAST(CAST({quoted} AS TIMESTAMPTZ) AS TIMESTAMP)" if "TIME ZONE" in sql_type or sql_type == "VARCHAR" \
                else f"CAST({quoted} AS TIMESTAMP)"
        elif kind == "date" and sql_type != "DATE":
            expr = f"CAST({quoted} AS DATE)"
        elif kind in ("id", "str") and sql_type != "VARCHAR":
            expr = f"CAST({quoted} AS VARCHAR)"
        else:
            select.append(quoted)
            continue
        select.append(f"{expr} AS {quoted}")
    raw.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT {", ".join(select)} FROM {source}')
    return con.table(name)


def _canonical_types(t: Any) -> Any:
    """Tz-aware timestamp columns as naive UTC timestamps (the engine's one convention)."""
    changes = {}
    for col, dtype in t.schema().items():
        if dtype.is_timestamp() and dtype.timezone is not None:
            changes[col] = t[col].cast("timestamp")
    return t.mutate(**changes) if changes else t


def connect(source: Any = None, **options: Any) -> Engine:
    """An :class:`Engine` for ``source``: a SalesData, an Ibis connection, a folder of canonical files, or an
    Engine (returned as it is). ``options`` go to the matching constructor."""
    if isinstance(source, Engine):
        return source
    if source is None:
        from salesops.paths import project_root

        source = project_root() / "data" / "sample"
    if _is_ibis_backend(source):
        return Engine.from_ibis(source, **options)
    if hasattr(source, "tables") and hasattr(source, "quality"):
        return Engine.from_data(source, **options)
    return Engine.from_files(source, **options)


def engine_for(data: Any, tables: Iterable[str] | None = None) -> Engine:
    """The engine an area function runs its heavy part on: ``data`` itself when it is an :class:`Engine`,
    else the (needed) tables of a :class:`~salesops.io.SalesData` put into a fresh embedded DuckDB (the
    frames are scanned in place; building it costs milliseconds, so nothing is cached that could go stale
    when a table is replaced)."""
    if isinstance(data, Engine):
        return data
    if hasattr(data, "tables") and hasattr(data, "quality"):
        return Engine.from_data(data, tables=tables)
    return connect(data)


def naive_utc(value: Any) -> pd.Timestamp:
    """A moment as the engine compares it: a naive UTC Timestamp (a naive input is taken as UTC)."""
    ts = pd.Timestamp(value)
    return ts if ts.tzinfo is None else ts.tz_convert("UTC").tz_localize(None)
