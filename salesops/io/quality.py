"""The data-quality report every load returns: what was read, accepted and rejected, and why."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

COUNT_COLUMNS = ["table", "source", "read", "accepted", "rejected"]
REJECTED_COLUMNS = ["table", "source", "row", "record_id", "column", "check", "value", "message"]


@dataclass
class DataQualityReport:
    """Counts and problems of one load.

    Attributes
    ----------
    counts : pandas.DataFrame
        One row per table and source: ``read``, ``accepted``, ``rejected``; ``read == accepted + rejected``.
    rejected : pandas.DataFrame
        One row per problem: ``table``, ``source`` (file), ``row`` (1-based data row in that file, header
        not counted), ``record_id``, ``column``, ``check``, ``value`` (the offending value, as text) and
        ``message``. A row with two problems appears twice here and counts once in ``counts``.
    quarantine : dict of str to pandas.DataFrame
        The rejected rows as read, per table, with ``_source``, ``_row`` and ``_problems`` columns.
    ignored : list of str
        What the source holds that was not read, with the reason: files that are not tables (README,
        JSON...), files a mapping declares ``ignore:``, rows a mapping's ``where:`` leaves out.
    unreadable : list of str
        Files named like a table that could not be read, with the reason (a dangling symbolic link, a link
        loop, a folder, no read permission). Their tables are absent from the load.
    missing_tables : list of str
        Tables that are absent but that loaded tables refer to, with the referring columns: their
        foreign-key checks could not run, so those references are unchecked.
    as_of : pandas.Timestamp
        The data's as-of moment: the one given to the loader, else the latest event recorded in the data
        (never the clock; future-dated events are checked against the later of the two).
    """

    counts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COUNT_COLUMNS))
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECTED_COLUMNS))
    quarantine: dict[str, pd.DataFrame] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)
    as_of: pd.Timestamp | None = None

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return int(self.counts["rejected"].sum()) == 0 if len(self.counts) else True

    @property
    def complete(self) -> bool:
        """True when every table file could be read and no loaded table refers to an absent one."""
        return not self.unreadable and not self.missing_tables

    def table_counts(self) -> pd.DataFrame:
        """Counts summed per table (a table may come from several files)."""
        if self.counts.empty:
            return pd.DataFrame(columns=["table", "read", "accepted", "rejected"])
        return self.counts.groupby("table", as_index=False, sort=False)[["read", "accepted", "rejected"]].sum()

    def problem_summary(self) -> pd.DataFrame:
        """Problems counted by table, column and check, most frequent first."""
        if self.rejected.empty:
            return pd.DataFrame(columns=["table", "column", "check", "problems", "example", "example_value",
                                         "example_row"])
        grouped = self.rejected.fillna({"column": "(row)"}).groupby(["table", "column", "check"], sort=False)
        out = grouped.agg(problems=("row", "size"), example=("message", "first"), example_value=("value", "first"),
                          example_row=("row", "first")).reset_index()
        return out.sort_values(["problems", "table"], ascending=[False, True], kind="stable").reset_index(drop=True)

    def summary(self) -> str:
        """A short human-readable report, as ``salesops validate`` prints it."""
        lines = [f"as of {self.as_of:%Y-%m-%d %H:%M} UTC" if self.as_of is not None else "as of: unknown"]
        counts = self.table_counts()
        width = max([len(t) for t in counts["table"]] + [5])
        lines.append(f"{'table':<{width}}  {'read':>10}  {'accepted':>10}  {'rejected':>10}")
        for row in counts.itertuples(index=False):
            lines.append(f"{row.table:<{width}}  {row.read:>10,}  {row.accepted:>10,}  {row.rejected:>10,}")
        if self.ignored:
            lines.append("not read: " + "; ".join(self.ignored))
        if self.unreadable:
            lines.append("UNREADABLE (their tables are absent): " + "; ".join(self.unreadable))
        if self.missing_tables:
            lines.append("absent but referred to (references unchecked): " + "; ".join(self.missing_tables))
        if self.ok:
            lines.append("no rows rejected")
        else:
            total = int(counts["rejected"].sum())
            lines.append(f"{total:,} row(s) rejected; problems by table, column and check:")
            for p in self.problem_summary().itertuples(index=False):
                shown = "" if pd.isna(p.example_value) else f"; e.g. row {p.example_row}: {str(p.example_value)[:60]!r}"
                lines.append(f"  {p.table}.{p.column} [{p.check}] x{p.problems}: {p.example}{shown}")
        return "\n".join(lines)

    def write_quarantine(self, directory: str | Path) -> list[Path]:
        """Write the rejected rows (``<table>.csv``) and the problem list (``problems.csv``) to ``directory``.

        Written by :func:`write_safe_csv` (formulas neutralised, numbers kept, every cell quoted as CSV
        requires); the quarterly review writes its ``quarantine/`` folder through this method too.
        """
        if self.ok:
            return []
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for table, frame in self.quarantine.items():
            if frame is not None and not frame.empty:
                written.append(write_safe_csv(frame, directory / f"{table}.csv"))
        written.append(write_safe_csv(self.rejected, directory / "problems.csv"))
        return written


#: First characters that make a spreadsheet evaluate a cell (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise(value: object) -> object:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run as a formula.

    Risky: text starting with ``= + - @``, tab or carriage return, or with spaces / line breaks before
    one of ``= + - @``. Non-text values and text that is a plain number without a ``+`` (``-5``,
    ``3.2e4``) are returned unchanged, so numbers stay numbers; ``+1`` is neutralised, as OWASP has it.
    """
    if not isinstance(value, str) or (_PLAIN_NUMBER.match(value) and not value.startswith("+")):
        return value
    if value.startswith(FORMULA_PREFIXES) or value.lstrip(" \t\r\n").startswith(("=", "+", "-", "@")):
        return "'" + value
    return value


def safe_for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and column names cannot run as spreadsheet formulas (see :func:`neutralise`).

    Numeric columns are never touched, and neither are text cells that are plain numbers.
    """
    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype) or isinstance(column.dtype, pd.CategoricalDtype):
            out.isetitem(i, column.astype(object).map(neutralise, na_action="ignore"))
    out.columns = [neutralise(c) for c in out.columns]
    return out


def write_safe_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as UTF-8 CSV that is safe to open in a spreadsheet and reads back as written.

    Cells are neutralised (:func:`safe_for_spreadsheet`); lines end in CRLF as RFC 4180 has it, so every
    cell holding a delimiter, a quote, a line feed or a bare carriage return is quoted. The one writer of
    the quarantine, for :meth:`DataQualityReport.write_quarantine` and the quarterly review alike.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe_for_spreadsheet(frame).to_csv(path, index=False, lineterminator="\r\n", encoding="utf-8")
    return path
