"""The data-quality report every load returns: what was read, accepted and rejected, and why."""

from __future__ import annotations

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
    as_of : pandas.Timestamp
        The as-of moment the checks used.
    """

    counts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COUNT_COLUMNS))
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECTED_COLUMNS))
    quarantine: dict[str, pd.DataFrame] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    as_of: pd.Timestamp | None = None

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return int(self.counts["rejected"].sum()) == 0 if len(self.counts) else True

    def table_counts(self) -> pd.DataFrame:
        """Counts summed per table (a table may come from several files)."""
        if self.counts.empty:
            return pd.DataFrame(columns=["table", "read", "accepted", "rejected"])
        return self.counts.groupby("table", as_index=False, sort=False)[["read", "accepted", "rejected"]].sum()

    def problem_summary(self) -> pd.DataFrame:
        """Problems counted by table, column and check, most frequent first."""
        if self.rejected.empty:
            return pd.DataFrame(columns=["table", "column", "check", "problems", "example"])
        grouped = self.rejected.fillna({"column": "(row)"}).groupby(["table", "column", "check"], sort=False)
        out = grouped.agg(problems=("row", "size"), example=("message", "first")).reset_index()
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
        if self.ok:
            lines.append("no rows rejected")
        else:
            total = int(counts["rejected"].sum())
            lines.append(f"{total:,} row(s) rejected; problems by table, column and check:")
            for p in self.problem_summary().itertuples(index=False):
                lines.append(f"  {p.table}.{p.column} [{p.check}] x{p.problems}: {p.example}")
        return "\n".join(lines)

    def write_quarantine(self, directory: str | Path) -> list[Path]:
        """Write the rejected rows (``<table>.csv``) and the problem list (``problems.csv``) to ``directory``.

        Cells that a spreadsheet would run as a formula are neutralised (see :func:`safe_for_spreadsheet`).
        """
        if self.ok:
            return []
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for table, frame in self.quarantine.items():
            path = directory / f"{table}.csv"
            safe_for_spreadsheet(frame).to_csv(path, index=False)
            written.append(path)
        path = directory / "problems.csv"
        safe_for_spreadsheet(self.rejected).to_csv(path, index=False)
        written.append(path)
        return written


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas (CSV/Excel injection).

    A string cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading
    apostrophe; numbers (numeric dtypes) are never touched, so ``-5`` stays the number -5.
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            col = out[column]
            is_text = col.map(lambda v: isinstance(v, str))
            risky = is_text & col.astype(str).str.startswith(FORMULA_PREFIXES)
            if risky.any():
                out.loc[risky, column] = "'" + col[risky].astype(str)
    return out
