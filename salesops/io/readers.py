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
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

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


def iter_source(source: Any, skip: Callable[[str], bool] | None = None) -> Iterator[RawFrame]:
    """Yield the raw frames of a folder, a single file, a DuckDB file, a database URL or an Ibis connection.

    Parameters
    ----------
    source : str, Path or Ibis connection
        See :func:`salesops.load`.
    skip : callable, optional
        ``skip(stem)`` is True for files or tables not to read at all (a mapping's ``ignore:`` list).
    """
    skip = skip or (lambda stem: False)
    if hasattr(source, "list_tables") and hasattr(source, "table"):
        yield from _read_ibis(source, skip)
        return
    if is_database_url(source):
        yield from _read_sql_url(source, skip)
        return
    path = Path(source)
    if not path.exists():
        raise LoadError(f"source {str(source)!r} does not exist; expected a folder of exports, a DuckDB file or a database URL")
    if path.is_dir():
        for file in sorted(path.iterdir(), key=lambda p: p.name.lower()):
            stem, suffix = split_suffix(file)
            if file.is_file() and suffix in TABULAR_SUFFIXES and not skip(stem):
                yield from read_file(file)
        return
    if split_suffix(path)[1] in DUCKDB_SUFFIXES:
        yield from _read_duckdb(path, skip)
        return
    yield from read_file(path)


def ignored_files(folder: Path) -> list[str]:
    """Files in a folder that are not tabular (a README, JSON notes...), reported as ignored, never read."""
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
        raise LoadError(
            f"{path}: binary content, not a text CSV file; expected comma-, semicolon- or tab-separated text "
            "(UTF-8, UTF-16 or Windows-1252), or a name ending in .xlsx / .parquet if it is one of those"
        )
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

    Returns the frame, the 1-based data-row number of each of its rows (blank lines are not rows), and
    the malformed lines (a row with more fields than the header) with their row number and a message;
    those are kept apart, not dropped. A row with fewer fields reads as missing trailing values. A
    header naming a column twice raises :class:`LoadError`.
    """
    text = _open_text(path)
    if not text.strip():
        raise LoadError(f"{path}: empty file; expected a header row naming the columns")
    delimiter = sniff_delimiter(text[:65536])
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    names = [h.strip() for h in header if h.strip()]
    dupes = sorted({h for h in names if names.count(h) > 1})
    if dupes:  # checked here: pandas would silently rename the second copy to "name.1"
        raise LoadError(
            f"{path}: the header names column(s) {', '.join(repr(d) for d in dupes)} more than once; "
            "expected each column named once"
        )
    try:
        with warnings.catch_warnings():
            # index_col=False: a first row with an extra field must not turn the first column into the
            # index (pandas' default); pandas then warns instead of failing, and the slow path takes over.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                engine="c",
                index_col=False,
            )
        row_numbers = np.arange(1, len(frame) + 1)
        malformed: list[tuple[int, str, str]] = []
    except (pd.errors.ParserError, pd.errors.ParserWarning):
        frame, row_numbers, malformed = _read_csv_ragged(text, delimiter)
    frame.columns = [str(c).strip() for c in frame.columns]
    unnamed = [c for c in frame.columns if c.startswith("Unnamed: ")]
    if unnamed and frame[unnamed].isna().all().all():
        frame = frame.drop(columns=unnamed)  # a trailing delimiter on every line
    return frame, row_numbers, malformed


def _read_csv_ragged(text: str, delimiter: str) -> tuple[pd.DataFrame, np.ndarray, list[tuple[int, str, str]]]:
    """Slow path for a CSV with rows wider than its header: keep the good rows, report the others."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader)
    good: list[list[str]] = []
    numbers: list[int] = []
    malformed: list[tuple[int, str, str]] = []
    number = 0
    for fields in reader:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # blank lines are not rows, as in the fast path
        number += 1
        if len(fields) <= len(header):  # a short row reads as missing trailing values, as pandas does
            good.append(fields + [""] * (len(header) - len(fields)))
            numbers.append(number)
        else:
            message = f"{len(fields)} fields where the header has {len(header)}"
            malformed.append((number, delimiter.join(fields), message))
    frame = pd.DataFrame(good, columns=header, dtype=object).replace({"": None})
    return frame, np.asarray(numbers, dtype=int), malformed


def _read_duckdb(path: Path, skip: Callable[[str], bool]) -> Iterator[RawFrame]:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except Exception as exc:  # noqa: BLE001
        raise LoadError(f"{path}: cannot be opened as a DuckDB database ({exc})") from exc
    try:
        for (name,) in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall():
            if skip(name):
                continue
            yield RawFrame(name, f"{path}:{name}", con.execute(f'SELECT * FROM "{name}"').df())
    finally:
        con.close()


def _expand_env(url: str) -> tuple[str, list[str]]:
    """Expand ``${VAR}`` in a database URL, so credentials stay in the environment, never in parameters.

    Returns the URL and the expanded values (to scrub from any message). A value inside the user-info
    part (``user:password@``) is percent-encoded, so a password may hold ``@``, ``:`` or ``/``. An unset
    variable raises :class:`LoadError` naming it.
    """
    values: list[str] = []
    scheme_end = url.find("://") + 3
    # placeholders hold no "/", "?" or "#", so the unexpanded authority ends at the first of them
    tail = re.search(r"[/?#]", url[scheme_end:])
    authority = url[scheme_end:] if tail is None else url[scheme_end : scheme_end + tail.start()]
    at = scheme_end + authority.rfind("@") if "@" in authority else -1

    def expand(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise LoadError(
                f"database {redact_url(url)}: environment variable {name} is not set; "
                f"expected it to hold the value that ${{{name}}} stands for"
            )
        value = os.environ[name]
        values.append(value)
        return quote(value, safe="") if match.start() < at else value

    return re.sub(r"\$\{(\w+)\}", expand, url), values


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***``, for messages and reports."""
    return re.sub(r"(://[^:/@]+:)[^?#]*@", r"\1***@", url)


def sqlalchemy_url(url: str) -> str:
    """A URL SQLAlchemy can open with the drivers at hand.

    ``postgres://`` (Heroku and others) is read as ``postgresql://``; a plain ``postgresql://`` picks
    psycopg (3) when it is installed and psycopg2 otherwise (SQLAlchemy 2.1 defaults to psycopg 3).
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        import importlib.util

        if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is not None:
            url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def _scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret (as given and percent-encoded) replaced by ``***``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


def _read_sql_url(url: str, skip: Callable[[str], bool]) -> Iterator[RawFrame]:
    import sqlalchemy as sa

    expanded, secrets = _expand_env(url)
    engine = None
    try:
        engine = sa.create_engine(sqlalchemy_url(expanded))
        with engine.connect() as con:
            names = sa.inspect(con).get_table_names()
            for name in sorted(names):
                if skip(name):
                    continue
                frame = pd.read_sql_table(name, con)
                yield RawFrame(name, f"{redact_url(url)}:{name}", frame)
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001
        detail = _scrub(f"{type(exc).__name__}: {exc}", secrets)
        raise LoadError(f"database {redact_url(url)}: cannot be read ({detail})") from None
    finally:
        if engine is not None:
            engine.dispose()


def _read_ibis(con: Any, skip: Callable[[str], bool]) -> Iterator[RawFrame]:
    for name in sorted(con.list_tables()):
        if skip(name):
            continue
        yield RawFrame(name, f"ibis:{name}", con.table(name).to_pandas())
