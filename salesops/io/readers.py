"""Readers: turn a source (folder, DuckDB file, database URL, Ibis connection) into raw frames.

A raw frame is what the export holds, untouched but for reading: CSV cells stay strings (so identifiers
keep their leading zeros and dates keep their format for the coercer), Parquet/Excel/database columns keep
their types. Each raw frame remembers where it came from, so every later problem can name its file and row.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from salesops.io.errors import LoadError
from salesops.io.urls import expand_env, redact_url, scrub

CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
DUCKDB_SUFFIXES = (".duckdb", ".ddb")
TABULAR_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES
DELIMITERS = ",;\t|"


class Malformed(NamedTuple):
    """A source row that could not be read as the header's fields; it counts as read and is rejected.

    Attributes
    ----------
    row : int
        1-based data-row number in the file (header not counted), as for any other row.
    text : str
        The physical line where the fault starts, as read (undecodable bytes shown as ``\\xNN``).
    message : str
        What was found, naming the line (``line 7202: ...``).
    check : str
        ``field_count``, ``unbalanced_quote``, ``field_too_long``, ``nul_byte`` or ``undecodable``.
    column : str, optional
        The column where the fault is, when it can be told.
    """

    row: int
    text: str
    message: str
    check: str = "field_count"
    column: str | None = None


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
    malformed : list of Malformed
        Rows that could not be read as the header's fields; they count as read and are rejected.
    """

    stem: str
    origin: str
    frame: pd.DataFrame
    row_numbers: np.ndarray | None = None
    malformed: list[Malformed] = field(default_factory=list)

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


#: Longest field accepted, in characters (Python's csv default); a longer one is a rejected row, as it
#: usually means an unclosed quote swallowed the lines after it.
FIELD_LIMIT = 131_072

_C0_CONTROLS = bytes(c for c in range(32) if c not in (9, 10, 12, 13))
_UNDECODED = re.compile(r"[\udc80-\udcff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f\udc80-\udcff]")
_PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    """Decode a text file; return the text and the encoding it was read in.

    UTF-16 when it starts with a BOM, else UTF-8 (BOM or not), else Windows-1252. Bytes that are not valid
    in the chosen encoding are never replaced by U+FFFD: they become lone surrogates (``surrogateescape``)
    so that the rows holding them can be rejected, naming the byte. A file with bad UTF-8 bytes but also
    valid non-ASCII UTF-8 text is read as UTF-8 (its other rows are right); one without is Windows-1252.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            raise LoadError(f"{path}: not valid UTF-16 at byte {exc.start} ({exc.reason}); expected UTF-16 text after its BOM") from exc
    head = data[:4096]
    if sum(head.count(bytes([c])) for c in _C0_CONTROLS) > max(3, len(head) // 20):
        raise LoadError(
            f"{path}: binary content, not a text CSV file; expected comma-, semicolon- or tab-separated text "
            "(UTF-8, UTF-16 or Windows-1252), or a name ending in .xlsx / .parquet if it is one of those"
        )
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    if _NON_ASCII.search(text):
        return text, "UTF-8"
    return data.decode("cp1252", errors="surrogateescape"), "Windows-1252"


def _open_text(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise LoadError(f"{path}: looks gzip-compressed but cannot be decompressed ({exc})") from exc
    return _decode(path, data)


def shown(text: str, limit: int | None = None) -> str:
    """``text`` fit for a report: undecodable bytes as ``\\xNN``, NUL as ``\\x00``, at most ``limit`` characters."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
    if limit is not None and len(text) > limit:
        return text[:limit] + f"... ({len(text):,} characters)"
    return text


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


def read_csv(path: Path) -> tuple[pd.DataFrame, np.ndarray, list[Malformed]]:
    """Read a CSV as strings: any delimiter, BOM, CRLF or CR line ends, gzip; empty cells are NA.

    Returns the frame, the 1-based data-row number of each of its rows (blank lines are not rows), and
    the malformed rows, kept apart, never dropped and never merged into their neighbours: a row with
    more or fewer fields than the header, a quote that does not close where a field ends (the row where
    it opens is rejected and reading resumes on the next line), a field longer than
    :data:`FIELD_LIMIT`, a NUL byte, bytes not valid in the file's encoding. A header naming a column
    twice raises :class:`LoadError`.

    A clean file is read by Arrow's parser; one that shows any of these faults is read record by record
    (Python's csv module, strict quoting) so each fault can name its line.
    """
    text, encoding = _open_text(path)
    if not text.strip():
        raise LoadError(f"{path}: empty file; expected a header row naming the columns")
    delimiter = sniff_delimiter(text[:65536])
    feed = _LineFeed(_PHYSICAL_LINE.findall(text[: 1 << 20]))  # the header is on the first lines
    try:
        header = next(csv.reader(feed, delimiter=delimiter, strict=True), [])
    except csv.Error as exc:
        raise LoadError(f"{path}: the header row cannot be read ({exc}); expected one line naming the columns") from exc
    names = [h.strip() for h in header if h.strip()]
    dupes = sorted({h for h in names if names.count(h) > 1})
    if dupes:  # checked here: pandas would silently rename the second copy to "name.1"
        raise LoadError(
            f"{path}: the header names column(s) {', '.join(repr(d) for d in dupes)} more than once; "
            "expected each column named once"
        )
    if _UNDECODED.search(header_text := "".join(header)) or "\x00" in header_text:
        raise LoadError(
            f"{path}: the header holds bytes that are not valid {encoding} ({shown(header_text, 200)}); "
            "expected column names in UTF-8, UTF-16 or Windows-1252"
        )
    columns = [h.strip() or f"Unnamed: {i}" for i, h in enumerate(header)]
    header_lines = feed.pos
    frame = None
    if not _needs_checked_read(text, delimiter, len(columns), encoding):
        frame = _read_arrow(text, delimiter, columns, header_lines)
    if frame is not None:
        row_numbers = np.arange(1, len(frame) + 1)
        malformed: list[Malformed] = []
    else:
        lines = _PHYSICAL_LINE.findall(text)
        frame, row_numbers, malformed = _read_checked(lines, header_lines, delimiter, columns, encoding)
    unnamed = [c for c in frame.columns if c.startswith("Unnamed: ")]
    if unnamed and frame[unnamed].isna().all().all():
        frame = frame.drop(columns=unnamed)  # a trailing delimiter on every line
    return frame, row_numbers, malformed


class _LineFeed:
    """The physical lines of a file, handed to :func:`csv.reader` one at a time from a position that
    can be moved back (to resume reading on the line after a fault)."""

    def __init__(self, lines: list[str], pos: int = 0) -> None:
        self.lines, self.pos = lines, pos

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def _quote_pattern(delimiter: str) -> re.Pattern:
    """A quote that opens a field, with (group ``ok``) the rest of the field when it closes as RFC 4180
    has it: ``""`` inside, and the closing quote followed by the delimiter, a line end or the end."""
    d = re.escape(delimiter)
    return re.compile(rf'(?<![^{d}\r\n])"(?P<ok>[^"]*(?:""[^"]*)*"(?=[{d}\r\n]|\Z))?')


def _swallows_rows(field: str, delimiter: str, width: int) -> bool:
    """True when a multi-line field holds a line that looks like a whole row of this file (a quote
    left open swallowed it): at least ``width - 1`` delimiters on one of its later lines."""
    if width < 3 or ("\n" not in field and "\r" not in field):
        return False
    return any(line.count(delimiter) >= width - 1 for line in re.split(r"\r\n|\r|\n", field)[1:])


def _needs_checked_read(text: str, delimiter: str, width: int, encoding: str) -> bool:
    """Whether a file shows any sign of a structural fault, so it must be read record by record."""
    if "\x00" in text or (encoding != "UTF-16" and _UNDECODED.search(text)):
        return True
    if '"' in text:
        for match in _quote_pattern(delimiter).finditer(text):
            rest = match.group("ok")
            if rest is None or _swallows_rows(rest, delimiter, width):
                return True
    return False


def _read_arrow(text: str, delimiter: str, columns: list[str], header_lines: int) -> pd.DataFrame | None:
    """Read a file that passed :func:`_needs_checked_read` with Arrow; ``None`` when any row has a
    field count other than the header's or a field is too long (the checked read then names them)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    invalid = []

    def on_invalid(row: Any) -> str:
        invalid.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=columns, skip_rows=header_lines, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in columns}, strings_can_be_null=True, null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid:
        return None
    if invalid:
        return None
    if len(text) > FIELD_LIMIT:
        import pyarrow.compute as pc

        for chunked in table.columns:
            longest = pc.max(pc.utf8_length(chunked)).as_py()
            if longest is not None and longest > FIELD_LIMIT:
                return None
    return table.to_pandas()


def _bad_quote_column(line: str, delimiter: str) -> int | None:
    """Position of the field on ``line`` whose quote does not close as RFC 4180 has it, if any."""
    i, col, n = 0, 0, len(line.rstrip("\r\n"))
    while i < n:
        if line[i] == '"':
            j = i + 1
            while True:
                k = line.find('"', j, n)
                if k < 0:
                    return col  # opened, and not closed on this line
                if line[k + 1 : k + 2] == '"':
                    j = k + 2
                    continue
                if k + 1 < n and line[k + 1] != delimiter:
                    return col  # text after the closing quote
                i = k + 1
                break
        else:
            k = line.find(delimiter, i, n)
            if k < 0:
                return None
            i = k
        if i < n and line[i] == delimiter:
            col, i = col + 1, i + 1
        else:
            return None
    return None


def _read_checked(
    lines: list[str], start: int, delimiter: str, columns: list[str], encoding: str
) -> tuple[pd.DataFrame, np.ndarray, list[Malformed]]:
    """Read record by record from physical line ``start`` (0-based), rejecting every faulty row.

    A record that fails the strict quoting rules, or whose fields run over several lines and either
    do not match the header or hold a line shaped like a whole row, is an unbalanced quote: the line
    where it opens is rejected and reading resumes on the next physical line, so the rows after it are
    read as rows, never merged into one field.
    """
    width = len(columns)
    feed = _LineFeed(lines, start)
    reader = csv.reader(feed, delimiter=delimiter, strict=True)
    good: list[list[str]] = []
    numbers: list[int] = []
    malformed: list[Malformed] = []
    number = 0

    def reject(first: int, message: str, check: str, column: int | None = None) -> None:
        text = lines[first].rstrip("\r\n")
        name = columns[column] if column is not None and column < width else None
        where = f"line {first + 1}" + (f", column {name}" if name else "")
        malformed.append(Malformed(number, shown(text, FIELD_LIMIT), f"{where}: {message}", check, name))

    while True:
        first = feed.pos
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            number += 1
            column = _bad_quote_column(lines[first], delimiter)
            if "field limit" in str(exc) and column is not None:
                reject(first, f"unclosed quote: the quoted field opened here runs past {FIELD_LIMIT:,} characters; "
                       f"reading resumes on line {first + 2}", "unbalanced_quote", column)
            elif "field limit" in str(exc):
                reject(first, f"a field longer than {FIELD_LIMIT:,} characters (an unclosed quote?); "
                       f"reading resumes on line {first + 2}", "field_too_long", column)
            elif "end of data" in str(exc):
                reject(first, "unclosed quote: the quoted field opened here runs to the end of the file; "
                       f"reading resumes on line {first + 2}", "unbalanced_quote", column)
            else:
                reject(first, f"unbalanced quote ({exc}, on line {feed.pos}); the line is rejected and reading "
                       f"resumes on line {first + 2}", "unbalanced_quote", column)
            feed.pos = first + 1
            continue
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # blank lines are not rows
        number += 1
        span = feed.pos - first
        if span > 1 and (len(fields) != width or any(_swallows_rows(f, delimiter, width) for f in fields)):
            column = _bad_quote_column(lines[first], delimiter)
            reject(first, f"unbalanced quote: a quoted field opened here would run over lines {first + 1}-{feed.pos} "
                   f"and swallow them; the line is rejected and reading resumes on line {first + 2}",
                   "unbalanced_quote", column)
            feed.pos = first + 1
            continue
        if len(fields) != width:
            reject(first, f"{len(fields)} fields where the header has {width}", "field_count")
            continue
        problem = next((i for i, f in enumerate(fields) if "\x00" in f), None)
        if problem is not None:
            reject(first, f"NUL byte in the field '{shown(fields[problem], 80)}'", "nul_byte", problem)
            continue
        problem = next((i for i, f in enumerate(fields) if _UNDECODED.search(f)), None)
        if problem is not None:
            bad = sorted({f"0x{ord(c) - 0xDC00:02X}" for c in _UNDECODED.findall(fields[problem])})
            reject(first, f"byte(s) {', '.join(bad)} not valid in {encoding} in '{shown(fields[problem], 80)}'",
                   "undecodable", problem)
            continue
        good.append(fields)
        numbers.append(number)
    frame = pd.DataFrame(good, columns=columns, dtype=object).replace({"": None})
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
    """Expand ``${VAR}`` in a database URL (:func:`salesops.io.urls.expand_env`); an unset variable raises
    :class:`LoadError` naming it."""
    try:
        return expand_env(url)
    except KeyError as exc:
        name = exc.args[0]
        raise LoadError(
            f"database {redact_url(url)}: environment variable {name} is not set; "
            f"expected it to hold the value that ${{{name}}} stands for"
        ) from None


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
        detail = scrub(f"{type(exc).__name__}: {exc}", secrets)
        raise LoadError(f"database {redact_url(url)}: cannot be read ({detail})") from None
    finally:
        if engine is not None:
            engine.dispose()


def _read_ibis(con: Any, skip: Callable[[str], bool]) -> Iterator[RawFrame]:
    for name in sorted(con.list_tables()):
        if skip(name):
            continue
        yield RawFrame(name, f"ibis:{name}", con.table(name).to_pandas())
