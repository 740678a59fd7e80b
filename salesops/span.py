"""The date span a data source covers, found cheaply, and the latest complete quarter in it.

Used by :mod:`salesops.review` to check the quarter before any notebook runs.

For a folder of exports in the canonical model the span comes from the opportunities file alone
(three columns read); any other source (DuckDB file, database URL, a folder that needs a mapping) is
loaded with :func:`salesops.load` and the span taken from the loaded tables.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from salesops.periods import Quarter, quarter_of
from salesops.periods import latest_complete_quarter as _latest_complete

__all__ = ["DataSpan", "cheap_span", "data_span", "is_database_url", "latest_complete_quarter", "loaded_span"]

_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_SPAN_COLUMNS = ("created_date", "close_date", "is_closed")
_TRUE = {"true", "t", "yes", "y", "1"}


def is_database_url(source: Any) -> bool:
    """Whether ``source`` is a database URL (``postgresql://...``) rather than a path."""
    return isinstance(source, str) and re.match(r"^[a-z][a-z0-9+]*://", source) is not None


@dataclass(frozen=True)
class DataSpan:
    """First and last day the data records something on (tz-naive, midnight).

    Attributes
    ----------
    start, end : pandas.Timestamp
        Inclusive bounds.
    basis : str
        What the span was computed from, for messages.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    basis: str

    def covers(self, quarter: Quarter) -> bool:
        """Whether the quarter overlaps the span."""
        return pd.Timestamp(quarter.start) <= self.end and pd.Timestamp(quarter.end) >= self.start

    @property
    def quarters(self) -> tuple[Quarter, Quarter]:
        """First and last quarter touched by the span."""
        return quarter_of(self.start), quarter_of(self.end)


def _days(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.dt.normalize()
    out = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    return out.dt.tz_localize(None).dt.normalize()


def _as_flag(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).astype(bool)
    return values.astype(str).str.strip().str.lower().isin(_TRUE)


def _span_from_opportunities(opps: pd.DataFrame, basis: str) -> DataSpan | None:
    if "created_date" not in opps.columns:
        return None
    created = _days(opps["created_date"]).dropna()
    if created.empty:
        return None
    end = created.max()
    if "close_date" in opps.columns and "is_closed" in opps.columns:
        closed = _days(opps["close_date"])[_as_flag(opps["is_closed"])].dropna()
        if not closed.empty:
            end = max(end, closed.max())
    return DataSpan(created.min(), end, basis)


def _opportunities_file(folder: Path) -> Path | None:
    for file in sorted(folder.iterdir()):
        name = file.name.lower()
        if not file.is_file() or not name.startswith("opportunities."):
            continue
        if name.endswith(_CSV_SUFFIXES) or name.endswith(_PARQUET_SUFFIXES):
            return file
    return None


def _sniff_sep(file: Path) -> str:
    import gzip

    opener = gzip.open if file.name.lower().endswith(".gz") else open
    with opener(file, "rt", encoding="utf-8-sig", errors="replace") as fh:
        header = fh.readline()
    counts = {sep: header.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _folder_span(folder: Path) -> DataSpan | None:
    file = _opportunities_file(folder)
    if file is None:
        return None
    try:
        if file.name.lower().endswith(_PARQUET_SUFFIXES):
            import pyarrow.parquet as pq

            present = [c for c in _SPAN_COLUMNS if c in pq.read_schema(file).names]
            opps = pd.read_parquet(file, columns=present)
        else:
            opps = pd.read_csv(
                file,
                sep=_sniff_sep(file),
                dtype=str,
                usecols=lambda c: str(c).strip() in _SPAN_COLUMNS,
                encoding="utf-8-sig",
            )
            opps.columns = [str(c).strip() for c in opps.columns]
    except Exception:  # noqa: BLE001 - any trouble: the full loader will explain it properly
        return None
    if "is_closed" not in opps.columns:
        # without is_closed the file alone cannot tell a closed deal's close date from an open deal's forecast;
        # the loader derives it from the stages, so the full load decides (the same rule for every layout)
        return None
    return _span_from_opportunities(opps, f"{file.name} (created and close dates)")


def cheap_span(source: str | os.PathLike[str], mapping: str | None = None) -> DataSpan | None:
    """The span read from a canonical folder's opportunities file alone, or None when that is not possible
    (not a folder, a mapping is needed, no such file, unreadable)."""
    if mapping is not None or is_database_url(source) or not Path(source).is_dir():
        return None
    return _folder_span(Path(source))


def loaded_span(data: Any) -> DataSpan | None:
    """The span of loaded data: opportunities' created and close dates, else every dated table but quotas."""
    opps = getattr(data, "opportunities", None)
    if opps is not None and not opps.empty:
        span = _span_from_opportunities(opps, "opportunities (created and close dates)")
        if span is not None:
            return span
    from salesops.quality_views import coverage

    cov = coverage(getattr(data, "tables", {}) or {}).dropna(subset=["first", "last"])
    cov = cov[cov["table"] != "quotas"]  # quotas are set ahead of time
    if cov.empty:
        return None
    return DataSpan(cov["first"].min(), cov["last"].max(), "all dated tables")


def data_span(source: str | os.PathLike[str], mapping: str | None = None, data: Any = None) -> DataSpan:
    """The span of ``source``: cheaply from a canonical folder, else from the loaded data.

    Parameters
    ----------
    source : str or path-like
        Folder, DuckDB file or database URL, as :func:`salesops.load` takes it.
    mapping : str, optional
        Mapping file; forces a full load, since column names differ.
    data : SalesData, optional
        Already loaded data, used instead of loading again.

    Raises
    ------
    salesops.io.LoadError
        When the source has to be loaded and cannot be.
    ValueError
        When the data holds no dates at all.
    """
    if data is None:
        span = cheap_span(source, mapping)
        if span is not None:
            return span
        import salesops

        data = salesops.load(source, mapping=mapping)
    span = loaded_span(data)
    if span is None:
        raise ValueError(f"{source}: the data holds no dated records, so no quarter can be reviewed")
    return span


def latest_complete_quarter(data_path: str | os.PathLike[str], mapping: str | None = None) -> Quarter:
    """The latest quarter the data at ``data_path`` covers to its end (see :func:`salesops.periods.latest_complete_quarter`)."""
    return _latest_complete(data_span(data_path, mapping=mapping).end)
