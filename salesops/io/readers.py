"""Readers: turn a source (folder, DuckDB file, database URL, Ibis connection) into raw frames.

A raw frame is what the export holds, untouched but for reading: CSV cells stay strings (so identifiers
keep their leading zeros and dates keep their format for the coercer), Parquet/Excel/database columns keep
their types. Each raw frame remembers where it came from, so every later problem can name its file and row.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesops.io.errors import LoadError

CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
DUCKDB_SUFFIXES = (".duckdb", ".ddb")
TABULAR_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES
DELIMITERS = ",;\t|"


@dataclass
class RawFrame:
    """One file, sheet or database table as read.

    Attributes
    ----------
    stem : str
        Name used to match a table (file name without suffixes, sheet or table name).
    origin : str
        Where it came from, for messages: a file path, ``file.xlsx[Sheet]`` or ``db:table``.
    frame : pandas.DataFrame
        The cells of the well-formed rows.
    row_numbers : numpy.ndarray
        1-based data-row number in the source of each row of ``frame`` (header not counted).
    malformed : list of (row number, raw line, message)
        Lines that could not be split into the header's fields; they count as read and are rejected.
    """

    stem: str
    origin: str
    frame: pd.DataFrame
    row_numbers: np.ndarray | None = None
    malformed: list[tuple[int, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.row_numbers is None:
            self.row_numbers = np.arange(1, len(self.frame) + 1)


def split_suffix(path: Path) -> tuple[str, str]:
    """``accounts.csv.gz`` -> (``accounts``, ``.csv.gz``)."""
    name = path.name
    lower = name.lower()
    for suffix in sorted(TABULAR_SUFFIXES + DUCKDB_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return name[: -len(suffix)], suffix
    return path.stem, path.suffix.lower()


def is_database_url(source: Any) -> bool:
    return isinstance(source, str) and re.match(r"^[a-z][a-z0-9+]*://", source) is not None


def iter_source(source: Any) -> Iterator[RawFrame]:
    """Yield the raw frames of a folder, a single file, a DuckDB file, a database URL or an Ibis connection."""
    if hasattr(source, "list_tables") and hasattr(source, "table"):
        yield from _read_ibis(source)
        return
    if is_database_url(source):
        yield from _read_sql_url(source)
        return
    path = Path(source)
    if not path.exists():
        raise LoadError(f"source {str(source)!r} does not exist; expected a folder of exports, a DuckDB file or a database URL")
    if path.is_dir():
        for file in sorted(path.iterdir(), key=lambda p: p.name.lower()):
            if file.is_file() and split_suffix(file)[1] in TABULAR_SUFFIXES:
                yield from read_file(file)
        return
    if split_suffix(path)[1] in DUCKDB_SUFFIXES:
        yield from _read_duckdb(path)
        return
    yield from read_file(path)


def ignored_files(folder: Path) -> list[str]:
    """Files in a folder that are not tabular (README, truth.json...), reported as ignored, never read."""
    if not folder.is_dir():
        return []
    return sorted(
        f.name for f in folder.iterdir() if f.is_file() and split_suffix(f)[1] not in TABULAR_SUFFIXES
    )


def read_file(path: Path) -> Iterator[RawFrame]:
    """Read one tabular file; an unreadable or non-tabular file raises :class:`LoadError` naming it."""
    stem, suffix = split_suffix(path)
    try:
        if suffix in CSV_SUFFIXES:
            frame, row_numbers, malformed = read_csv(path)
            yield RawFrame(stem, str(path), frame, row_numbers, malformed)
        elif suffix in PARQUET_SUFFIXES:
            yield RawFrame(stem, str(path), pd.read_parquet(path))
        elif suffix in EXCEL_SUFFIXES:
            sheets = pd.read_excel(path, sheet_name=None, dtype=object)
            if len(sheets) == 1:
                yield RawFrame(stem, str(path), next(iter(sheets.values())))
            else:
                for sheet, frame in sheets.items():
                    yield RawFrame(str(sheet), f"{path}[{sheet}]", frame)
        else:
            raise LoadError(f"{path}: not a tabular file; expected one of {', '.join(TABULAR_SUFFIXES)}")
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader failure becomes one clear message
        raise LoadError(f"{path}: cannot be read as a {suffix} file ({type(exc).__name__}: {exc})") from exc


def _open_text(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except OSError as exc:
            raise LoadError(f"{path}: looks gzip-compressed but cannot be decompressed ({exc})") from exc
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError(f"{path}: binary content, not a text CSV file")
    for encoding in ("utf-8-sig", "utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return data.decode("cp1252", errors="replace")


def sniff_delimiter(sample: str) -> str:
    """The delimiter among ``, ; TAB |`` that splits the first lines most consistently."""
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def read_csv(path: Path) -> tuple[pd.DataFrame, np.ndarray, list[tuple[int, str, str]]]:
    """Read a CSV as strings: any delimiter, BOM, CRLF or CR line ends, gzip; empty cells are NA.

    Returns the frame, the 1-based data-row number of each of its rows, and the malformed lines (a row
    with more or fewer fields than the header) with their row number and a message; those are kept
    apart, not dropped.
    """
    text = _open_text(path)
    if not text.strip():
        raise LoadError(f"{path}: empty file; expected a header row naming the columns")
    delimiter = sniff_delimiter(text[:65536])
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, na_values=[""], engine="c"
        )
        row_numbers = np.arange(1, len(frame) + 1)
        malformed: list[tuple[int, str, str]] = []
    except pd.errors.ParserError:
        frame, row_numbers, malformed = _read_csv_ragged(text, delimiter)
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.columns.duplicated().any():
        dupes = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise LoadError(f"{path}: the header names column(s) {dupes} more than once")
    unnamed = [c for c in frame.columns if c.startswith("Unnamed: ")]
    if unnamed and frame[unnamed].isna().all().all():
        frame = frame.drop(columns=unnamed)  # a trailing delimiter on every line
    return frame, row_numbers, malformed


def _read_csv_ragged(text: str, delimiter: str) -> tuple[pd.DataFrame, np.ndarray, list[tuple[int, str, str]]]:
    """Slow path for a CSV with lines of the wrong width: keep the good rows, report the others."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader)
    good: list[list[str]] = []
    numbers: list[int] = []
    malformed: list[tuple[int, str, str]] = []
    for number, fields in enumerate(reader, start=1):
        if len(fields) == len(header):
            good.append(fields)
            numbers.append(number)
        elif fields:
            message = f"{len(fields)} fields where the header has {len(header)}"
            malformed.append((number, delimiter.join(fields), message))
    frame = pd.DataFrame(good, columns=header, dtype=object).replace({"": None})
    return frame, np.asarray(numbers, dtype=int), malformed


def _read_duckdb(path: Path) -> Iterator[RawFrame]:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except Exception as exc:  # noqa: BLE001
        raise LoadError(f"{path}: cannot be opened as a DuckDB database ({exc})") from exc
    try:
        for (name,) in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall():
            yield RawFrame(name, f"{path}:{name}", con.execute(f'SELECT * FROM "{name}"').df())
    finally:
        con.close()


def _expand_env(url: str) -> str:
    """Expand ``${VAR}`` in a database URL, so credentials stay in the environment, never in parameters."""
    return re.sub(r"\$\{(\w+)\}", lambda m: os.environ.get(m.group(1), ""), url)


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***``, for messages and reports."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def _read_sql_url(url: str) -> Iterator[RawFrame]:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(_expand_env(url))
        with engine.connect() as con:
            names = sa.inspect(con).get_table_names()
            for name in sorted(names):
                frame = pd.read_sql_table(name, con)
                yield RawFrame(name, f"{redact_url(url)}:{name}", frame)
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise LoadError(f"database {redact_url(url)}: cannot be read ({type(exc).__name__}: {exc})") from exc
    finally:
        if "engine" in locals():
            engine.dispose()


def _read_ibis(con: Any) -> Iterator[RawFrame]:
    for name in sorted(con.list_tables()):
        yield RawFrame(name, f"ibis:{name}", con.table(name).to_pandas())
