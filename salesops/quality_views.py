"""Tables behind the data-quality page: what was loaded, what was rejected and why, coverage and freshness.

Pure functions over a :class:`~salesops.io.SalesData` (or anything with ``tables``, ``as_of`` and
``quality``) and its :class:`~salesops.io.DataQualityReport`. Each returns a small DataFrame the
notebook shows as it is and :mod:`salesops.plots` draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from salesops.escape import md, md_code
from salesops.periods import Quarter
from salesops.schema.tables import LOAD_ORDER, TABLES

__all__ = [
    "STREAM_TABLES",
    "describe_completeness",
    "describe_ignored",
    "quality_metrics",
    "rejected_examples_by_table",
    "describe_load",
    "describe_problems",
    "describe_freshness",
    "describe_gaps",
    "date_column",
    "load_counts",
    "problem_summary",
    "rejected_examples",
    "monthly_records",
    "coverage",
    "missing_months",
]


#: Tables that record a stream of events: a healthy export has records in every month of their span, and
#: their latest record says how fresh the export is. Other dated tables (reps by hire date, accounts by
#: creation, quotas set ahead) have natural gaps and are shown but not judged.
STREAM_TABLES = (
    "opportunities",
    "opportunity_history",
    "leads",
    "activities",
    "revenue",
    "transactions",
    "marketing_spend",
    "sales_costs",
)


def _table_order(name: str) -> int:
    return LOAD_ORDER.index(name) if name in LOAD_ORDER else len(LOAD_ORDER)


def _sort_by_table(df: pd.DataFrame, *others: str) -> pd.DataFrame:
    if df.empty:
        return df.reset_index(drop=True)
    key = df["table"].map(_table_order)
    return df.assign(_order=key).sort_values(["_order", "table", *others]).drop(columns="_order").reset_index(drop=True)


def date_column(table: str) -> str | None:
    """The column that dates a record of ``table``: its first date or timestamp column in the model.

    ``opportunities`` -> ``created_date``, ``activities`` -> ``occurred_at``, ``revenue`` -> ``month``;
    ``None`` for a table without dates (``stages``) or not in the model.
    """
    spec = TABLES.get(table)
    if spec is None:
        return None
    for col in spec.columns:
        if col.kind in ("date", "timestamp"):
            return col.name
    return None


def load_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Rows read, accepted and rejected per table (summed over its source files), in load order.

    Parameters
    ----------
    counts : pandas.DataFrame
        ``DataQualityReport.counts`` (columns table, source, read, accepted, rejected).

    Returns
    -------
    pandas.DataFrame
        Columns table, read, accepted, rejected, rejected_share (0..1; 0 for an empty table).
    """
    cols = ["read", "accepted", "rejected"]
    if counts is None or counts.empty:
        return pd.DataFrame({"table": pd.Series(dtype=object), **{c: pd.Series(dtype="int64") for c in cols},
                             "rejected_share": pd.Series(dtype=float)})
    out = counts.groupby("table", as_index=False)[cols].sum()
    out[cols] = out[cols].astype("int64")
    out["rejected_share"] = (out["rejected"] / out["read"].where(out["read"] > 0)).fillna(0.0)
    return _sort_by_table(out)


def problem_summary(rejected: pd.DataFrame, top: int | None = 10) -> pd.DataFrame:
    """The most frequent problems: one line per table, column and check.

    Parameters
    ----------
    rejected : pandas.DataFrame
        ``DataQualityReport.rejected`` (one row per problem).
    top : int or None
        Keep this many lines (most rows first); None keeps all.

    Returns
    -------
    pandas.DataFrame
        Columns table, column, check, rows (distinct source rows with the problem), example_value,
        example_message; sorted by rows descending, then table, column, check.
    """
    cols = ["table", "column", "check", "rows", "example_value", "example_message"]
    if rejected is None or rejected.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "rows" else object) for c in cols})
    df = rejected.copy()
    for c in ("column", "check"):
        df[c] = df[c].fillna("(row)").astype(str)
    df["_where"] = df["source"].astype(str) + "#" + df["row"].astype(str)
    grouped = df.sort_values(["table", "column", "check", "source", "row"], kind="stable").groupby(
        ["table", "column", "check"], sort=True
    )
    out = grouped.agg(
        rows=("_where", "nunique"),
        example_value=("value", "first"),
        example_message=("message", "first"),
    ).reset_index()
    out["example_value"] = out["example_value"].map(lambda v: None if pd.isna(v) else str(v))
    out = out.sort_values(["rows", "table", "column", "check"], ascending=[False, True, True, True], kind="stable")
    out = out.reset_index(drop=True)[cols]
    return out if top is None else out.head(top).reset_index(drop=True)


def rejected_examples(quarantine: Mapping[str, pd.DataFrame], table: str, n: int = 5) -> pd.DataFrame:
    """The first ``n`` rejected raw rows of ``table``: row number and problems first, then the raw cells.

    Returns an empty frame when nothing of ``table`` was rejected.
    """
    frame = quarantine.get(table) if quarantine else None
    if frame is None or frame.empty:
        return pd.DataFrame()
    first = [c for c in ("_row", "_problems", "_source") if c in frame.columns]
    rest = [c for c in frame.columns if c not in first]
    if "_row" in frame.columns:
        frame = frame.sort_values("_row", kind="stable")
    return frame.head(n)[first + rest].reset_index(drop=True)


def rejected_examples_by_table(quarantine: Mapping[str, pd.DataFrame], n: int = 5) -> dict[str, pd.DataFrame]:
    """:func:`rejected_examples` of every table that has rejected rows, in load order."""
    names = sorted((t for t, f in (quarantine or {}).items() if f is not None and not f.empty),
                   key=lambda t: (_table_order(t), t))
    return {t: rejected_examples(quarantine, t, n) for t in names}


def quality_metrics(counts: pd.DataFrame, rejected: pd.DataFrame | None) -> dict[str, tuple[Any, str, str]]:
    """The data-quality figures the review tracks from quarter to quarter.

    Parameters
    ----------
    counts : pandas.DataFrame
        :func:`load_counts`.
    rejected : pandas.DataFrame
        ``DataQualityReport.rejected``.

    Returns
    -------
    dict
        ``name -> (value, unit, description)``: tables_loaded, rows_read, rows_accepted, rows_rejected,
        rejected_share, problems.
    """
    read = int(counts["read"].sum()) if not counts.empty else 0
    rejected_rows = int(counts["rejected"].sum()) if not counts.empty else 0
    return {
        "tables_loaded": (int(len(counts)), "tables", "tables of the data model found in the source"),
        "rows_read": (read, "rows", "rows read from the source, all tables"),
        "rows_accepted": (int(counts["accepted"].sum()) if not counts.empty else 0, "rows",
                          "rows that passed every check"),
        "rows_rejected": (rejected_rows, "rows", "rows rejected and kept in quarantine"),
        "rejected_share": (round(rejected_rows / read, 6) if read else 0.0, "share",
                           "rows rejected / rows read"),
        "problems": (0 if rejected is None else int(len(rejected)), "problems",
                     "problems found (a rejected row may have several)"),
    }


def _as_naive_days(values: pd.Series) -> pd.Series:
    """Dates or timestamps as tz-naive ``datetime64`` (UTC wall time), invalid values as NaT."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values
    out = pd.to_datetime(values, errors="coerce", utc=True)
    return out.dt.tz_localize(None)


def _dated(tables: Mapping[str, pd.DataFrame | None]) -> dict[str, tuple[str, pd.Series]]:
    out: dict[str, tuple[str, pd.Series]] = {}
    for name in sorted(tables, key=lambda t: (_table_order(t), t)):
        frame = tables[name]
        col = date_column(name)
        if frame is None or col is None or col not in frame.columns:
            continue
        out[name] = (col, _as_naive_days(frame[col]).dropna())
    return out


def monthly_records(
    tables: Mapping[str, pd.DataFrame | None], only: tuple[str, ...] | None = STREAM_TABLES
) -> pd.DataFrame:
    """Records per calendar month of every dated table, months without records included as 0.

    Parameters
    ----------
    tables : mapping
        ``SalesData.tables``.
    only : tuple of str or None
        Tables to count; default the event streams (:data:`STREAM_TABLES`); None: every dated table.

    Returns
    -------
    pandas.DataFrame
        Long format: table, month (first day of the month), records; each table from its first to its
        last month.
    """
    parts = []
    for name, (_, days) in _dated(tables).items():
        if days.empty or (only is not None and name not in only):
            continue
        months = days.dt.to_period("M")
        counts = months.value_counts()
        full = pd.period_range(months.min(), months.max(), freq="M")
        counts = counts.reindex(full, fill_value=0)
        parts.append(pd.DataFrame({"table": name, "month": full.to_timestamp(), "records": counts.to_numpy()}))
    if not parts:
        return pd.DataFrame({"table": pd.Series(dtype=object), "month": pd.Series(dtype="datetime64[ns]"),
                             "records": pd.Series(dtype="int64")})
    out = pd.concat(parts, ignore_index=True)
    out["records"] = out["records"].astype("int64")
    return out


def missing_months(monthly: pd.DataFrame) -> pd.DataFrame:
    """Months inside a table's span that hold no record: table, month."""
    gaps = monthly[monthly["records"] == 0]
    return gaps[["table", "month"]].reset_index(drop=True)


def _as_of_day(as_of: Any) -> pd.Timestamp | None:
    if as_of is None or (not isinstance(as_of, str) and pd.isna(as_of)):
        return None
    ts = pd.Timestamp(as_of)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()


def coverage(
    tables: Mapping[str, pd.DataFrame | None], as_of: Any = None, quarter: Quarter | None = None
) -> pd.DataFrame:
    """How far every table reaches and how fresh it is.

    Parameters
    ----------
    tables : mapping
        ``SalesData.tables``.
    as_of : Timestamp, optional
        The data's as-of moment (``SalesData.as_of``); gives ``days_behind``.
    quarter : Quarter, optional
        Quarter under review; gives ``in_quarter``, the records dated inside it.

    Returns
    -------
    pandas.DataFrame
        One row per table present: table, stream (an event table, see :data:`STREAM_TABLES`), rows,
        date_column (None for undated tables), first, last (dates), months (calendar months from first to
        last), empty_months (months in that span without a record; streams only), days_behind (as-of day
        minus last day, or minus the end of the last month for monthly tables; negative when the table
        reaches past as-of, as quotas set ahead do), in_quarter.
    """
    as_of_day = _as_of_day(as_of)
    dated = _dated(tables)
    rows = []
    for name in sorted((t for t, f in tables.items() if f is not None), key=lambda t: (_table_order(t), t)):
        frame = tables[name]
        row: dict[str, Any] = {"table": name, "stream": name in STREAM_TABLES, "rows": len(frame), "date_column": None, "first": pd.NaT,
                               "last": pd.NaT, "months": 0, "empty_months": 0, "days_behind": pd.NA,
                               "in_quarter": pd.NA}
        if name in dated:
            col, days = dated[name]
            row["date_column"] = col
            if not days.empty:
                first, last = days.min().normalize(), days.max().normalize()
                months = days.dt.to_period("M")
                span = pd.period_range(months.min(), months.max(), freq="M")
                row.update(first=first, last=last, months=len(span),
                           empty_months=len(span) - months.nunique() if name in STREAM_TABLES else 0)
                if as_of_day is not None:
                    # a monthly table (revenue, spend, costs) dated by its month's first day covers that month
                    covered = last + pd.offsets.MonthEnd(0) if col == "month" else last
                    row["days_behind"] = int((as_of_day - covered).days)
            if quarter is not None:
                start, end = pd.Timestamp(quarter.start), pd.Timestamp(quarter.end) + pd.Timedelta(days=1)
                row["in_quarter"] = int(((days >= start) & (days < end)).sum())
        rows.append(row)
    out = pd.DataFrame(rows, columns=["table", "stream", "rows", "date_column", "first", "last", "months", "empty_months",
                                      "days_behind", "in_quarter"])
    for c in ("rows", "months", "empty_months"):
        out[c] = out[c].astype("int64")
    for c in ("days_behind", "in_quarter"):
        out[c] = out[c].astype("Int64")
    for c in ("first", "last"):
        out[c] = pd.to_datetime(out[c])
    return out


# --- answers in words -------------------------------------------------------------------------------------
# Markdown sentences for the notebook's answers. Every interpolated name goes through salesops.escape (md for
# text, md_code for a name shown as code): the text is rendered as Markdown, and a name may come from an export.


def _n(value: int) -> str:
    return f"{int(value):,}"


def _rows(value: int) -> str:
    return f"{_n(value)} row" + ("" if int(value) == 1 else "s")


def describe_load(counts: pd.DataFrame) -> str:
    """One paragraph on what was loaded, from :func:`load_counts`."""
    if counts.empty:
        return "No table was loaded: the source holds no file or table that matches the data model."
    read, accepted, rejected = (int(counts[c].sum()) for c in ("read", "accepted", "rejected"))
    text = (
        f"**{len(counts)} tables** were loaded: {_n(read)} rows read, {_n(accepted)} accepted and "
        f"{_n(rejected)} rejected ({rejected / read:.1%} of all rows)." if read else
        f"**{len(counts)} tables** were loaded, all of them empty."
    )
    worst = counts[counts["rejected"] > 0].sort_values(["rejected_share", "table"], ascending=[False, True])
    if worst.empty:
        return text + " Every row passed every check."
    top = worst.iloc[0]
    return text + (
        f" The table with the largest share rejected is {md_code(top['table'])}: "
        f"{_n(top['rejected'])} of {_n(top['read'])} rows ({top['rejected_share']:.1%})."
    )


def describe_ignored(ignored: Any) -> str:
    """One paragraph on the files the loader skipped (``DataQualityReport.ignored``)."""
    items = list(ignored or [])
    if not items:
        return "No file in the source was skipped."
    def text(item: Any) -> str:
        if isinstance(item, Mapping):
            return ": ".join(str(v) for v in item.values())
        if isinstance(item, tuple | list):
            return ": ".join(str(v) for v in item)
        return str(item)

    shown = "; ".join(md(text(item)) for item in items[:10])
    more = f" and {len(items) - 10} more" if len(items) > 10 else ""
    return f"{len(items)} file(s) were skipped as not part of the data model: {shown}{more}."


def describe_completeness(unreadable: Any, missing_tables: Any) -> str:
    """One paragraph on table files that could not be read and absent tables that others refer to.

    From ``DataQualityReport.unreadable`` and ``DataQualityReport.missing_tables``; empty when the load is
    complete, so the page says nothing where there is nothing to say.
    """
    unreadable, missing = list(unreadable or []), list(missing_tables or [])
    parts = []
    if unreadable:
        parts.append(
            f"**{len(unreadable)} table file(s) could not be read**, so their tables are absent from every page: "
            + "; ".join(md(str(item)) for item in unreadable)
            + "."
        )
    if missing:
        parts.append(
            "**References that could not be checked**: these tables are absent although loaded tables refer to "
            "them, so those references are unchecked: " + "; ".join(md(str(item)) for item in missing) + "."
        )
    return " ".join(parts)


def describe_problems(summary: pd.DataFrame) -> str:
    """One paragraph on the most frequent problems, from :func:`problem_summary`."""
    if summary.empty:
        return "Nothing was rejected, so there is nothing to explain."
    top = summary.iloc[0]
    where = f"{top['table']}.{top['column']}"
    return (
        f"The most frequent problem is the {md_code(top['check'])} check on {md_code(where)}, "
        f"failed by {_rows(top['rows'])} (for example: {md(top['example_message'])}). "
        "Rejected rows are not lost: the review writes them, with their problems, to `quarantine/`; "
        "fix them in the CRM or in a mapping file and load again."
    )


def describe_freshness(cov: pd.DataFrame) -> str:
    """One paragraph on span and freshness, from :func:`coverage`."""
    dated = cov[cov["stream"]].dropna(subset=["last"])
    if dated.empty:
        return "No event table (opportunities, activities, leads, revenue...) carries dates, so coverage and " \
            "freshness cannot be judged."
    first, last = dated["first"].min(), dated["last"].max()
    text = f"The event tables run from **{first:%Y-%m-%d}** to **{last:%Y-%m-%d}**."
    behind = dated.dropna(subset=["days_behind"])
    if not behind.empty:
        stale = behind.sort_values(["days_behind", "table"], ascending=[False, True]).iloc[0]
        text += (
            f" The least fresh is {md_code(stale['table'])}, whose latest record is "
            f"{_n(stale['days_behind'])} day(s) before the as-of day."
        )
    gaps = dated[dated["empty_months"] > 0]
    if gaps.empty:
        text += " No event table has a month without records inside its span."
    else:
        names = ", ".join(f"{md_code(t)} ({_n(g)})" for t, g in zip(gaps["table"], gaps["empty_months"], strict=True))
        text += f" Months without a single record inside the span: {names}."
    return text


def describe_gaps(monthly: pd.DataFrame, limit: int = 12) -> str:
    """One paragraph listing the months without a record inside each event table's span."""
    gaps = missing_months(monthly)
    if gaps.empty:
        return "Every event table has records in every month of its span."
    parts = []
    for table, months in gaps.groupby("table", sort=False)["month"]:
        shown = ", ".join(f"{m:%Y-%m}" for m in months.head(limit))
        more = f" and {len(months) - limit} more" if len(months) > limit else ""
        parts.append(f"{md_code(table)}: {shown}{more}")
    return "Months without a single record: " + "; ".join(parts) + "."
