"""``salesops.load``: read → map columns → coerce types → validate → :class:`SalesData`.

Rows read = rows accepted + rows rejected, for every table and source; a rejected row is kept in the
quarantine with every problem it has, never silently dropped.
"""

from __future__ import annotations

import re
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from salesops.io.cache import cache_key, read_cache
from salesops.io.data import SalesData
from salesops.io.errors import ValidationError
from salesops.io.mapping import Mapping, resolve_mapping
from salesops.io.parts import Part, collect_parts, default_stages
from salesops.io.quality import COUNT_COLUMNS, REJECTED_COLUMNS, DataQualityReport
from salesops.io.readers import (
    TABULAR_SUFFIXES,
    ignored_files,
    is_database_url,
    redact_url,
    split_suffix,
    unreadable_files,
)
from salesops.schema import relations
from salesops.schema.models import CHECK_NOT_NULL, build_schema, column_checks
from salesops.schema.rules import RULES, ValidationContext
from salesops.schema.tables import LOAD_ORDER, TABLES


def load(
    source: Any,
    mapping: str | Path | dict | Mapping | None = None,
    strict: bool = False,
    as_of: str | pd.Timestamp | None = None,
    date_window: tuple[str | pd.Timestamp | None, str | pd.Timestamp | None] = (None, None),
) -> SalesData:
    """Load a CRM export into validated canonical tables.

    Parameters
    ----------
    source : str, Path or Ibis connection
        A folder of CSV / Parquet / Excel files named after the tables (or after the export's objects,
        with a mapping), a single such file, a DuckDB file, a database URL (``postgresql://user@host/db``;
        ``${VAR}`` in it is read from the environment, so passwords never travel as parameters), or an
        Ibis connection.
    mapping : str, Path, dict or Mapping, optional
        A preset (``"salesforce"``, ``"hubspot"``, ``"maven_crm"``), a mapping YAML file or its parsed
        content; ``None`` reads the canonical model as it is.
    strict : bool
        Raise :class:`~salesops.io.ValidationError` listing every problem when any row is rejected.
    as_of : str or Timestamp, optional
        When the export was taken. Nothing that already happened may lie after it. A date alone means the
        end of that day (UTC). Default: the checks use the current time, and ``SalesData.as_of`` is the
        latest event recorded in the data.
    date_window : (earliest, latest), optional
        Plausible dates; a date or timestamp outside is rejected as ``implausible_date``. Default
        1990-01-01 to the as-of date plus ten years; ``None`` keeps a bound's default.

    Returns
    -------
    SalesData
        Validated tables (absent ones ``None``) and ``quality``: counts per table and source (read =
        accepted + rejected), one row per problem, the quarantined rows.

    Raises
    ------
    LoadError
        The source is missing, a file cannot be read or is not tabular, a file matches no table, or a
        required column is missing (the message names the file and the column and lists what was expected).
    """
    if not strict:
        cached = read_cache(cache_key(source, mapping, as_of)) if date_window == (None, None) else None
        if cached is not None:
            return cached
    the_mapping = resolve_mapping(mapping)
    given_as_of = _parse_as_of(as_of)
    check_as_of = given_as_of if given_as_of is not None else pd.Timestamp.now(tz="UTC")

    parts = collect_parts(source, the_mapping)
    if "stages" not in parts:
        parts["stages"] = [default_stages(the_mapping)]

    accepted: dict[str, pd.DataFrame] = {}
    counts, problems, quarantine = [], [], {}
    for table in LOAD_ORDER:
        if table not in parts:
            continue
        stages = frozenset(accepted["stages"]["stage"]) if "stages" in accepted else frozenset()
        status = {r.stage: (bool(r.is_closed), bool(r.is_won)) for r in accepted["stages"].itertuples()} if "stages" in accepted else {}
        ctx = ValidationContext(as_of=check_as_of, stages=stages, stage_status=status, earliest=date_window[0], latest=date_window[1])
        result = _validate_table(table, parts[table], ctx, accepted)
        accepted[table] = result.accepted
        counts.append(result.counts)
        problems.append(result.problems)
        if result.quarantine is not None:
            quarantine[table] = result.quarantine

    # as of: the moment given, else the latest event recorded in the data (never the clock, which only bounds
    # the checks): the same rule for validate, load and review
    data_as_of = given_as_of if given_as_of is not None else _latest_event(accepted, check_as_of)
    report = DataQualityReport(
        counts=pd.concat(counts, ignore_index=True) if counts else pd.DataFrame(columns=COUNT_COLUMNS),
        rejected=_concat_problems(problems),
        quarantine=quarantine,
        ignored=_ignored(source, the_mapping) + [p.skipped for ps in parts.values() for p in ps if p.skipped],
        unreadable=_unreadable(source, the_mapping),
        missing_tables=_missing_tables(accepted),
        as_of=data_as_of,
    )
    data = SalesData(
        tables=accepted,
        quality=report,
        as_of=data_as_of,
        source=redact_url(str(source)) if is_database_url(source) else str(source),
    )
    if strict and not (report.ok and report.complete):
        raise ValidationError(_strict_message(report, data.source), report)
    return data


def _strict_message(report: DataQualityReport, source: str) -> str:
    parts = []
    if not report.ok:
        parts.append(f"{int(report.counts['rejected'].sum()):,} row(s) rejected loading {source}:\n" + _list_problems(report))
    if report.unreadable:
        parts.append(f"unreadable file(s) in {source}: " + "; ".join(report.unreadable))
    if report.missing_tables:
        parts.append("absent table(s) that loaded tables refer to: " + "; ".join(report.missing_tables))
    return "\n".join(parts)


def _unreadable(source: Any, mapping: Mapping) -> list[str]:
    """Table files in a source folder that cannot be read (dangling link, loop, folder, permission)."""
    if isinstance(source, str | Path) and not is_database_url(source) and Path(source).is_dir():
        return unreadable_files(Path(source), skip=mapping.ignores)
    return []


def _missing_tables(accepted: dict[str, pd.DataFrame]) -> list[str]:
    """Absent tables that loaded ones refer to, with the referring columns and how many values go unchecked."""
    referrers: dict[str, list[str]] = defaultdict(list)
    for table, frame in accepted.items():
        for fk in TABLES[table].foreign_keys:
            if fk.ref_table in accepted or fk.column not in frame.columns:
                continue
            n = int(frame[fk.column].notna().sum())
            if n:
                referrers[fk.ref_table].append(f"{table}.{fk.column}: {n:,} value(s) unchecked")
    return [f"{ref} (referred to by {', '.join(cols)})" for ref, cols in referrers.items()]


def _concat_problems(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=REJECTED_COLUMNS)
    return pd.concat(frames, ignore_index=True)[REJECTED_COLUMNS]


def _list_problems(report: DataQualityReport) -> str:
    lines = [
        f"  {r.table} {r.source} row {r.row} (id {r.record_id}): {r.column} [{r.check}] {r.message}; value {r.value!r}"
        for r in report.rejected.itertuples(index=False)
    ]
    return "\n".join(lines)


def _parse_as_of(as_of: str | pd.Timestamp | None) -> pd.Timestamp | None:
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        return None
    ts = pd.Timestamp(as_of)
    if isinstance(as_of, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of.strip()):
        ts = ts + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


def _latest_event(tables: dict[str, pd.DataFrame], fallback: pd.Timestamp) -> pd.Timestamp:
    """The latest thing that happened in the data: the max of every past-event column, and of the close
    dates of closed deals (an open deal's close date is a forecast and does not count)."""
    candidates: list[pd.Series] = []
    for name, frame in tables.items():
        for spec in TABLES[name].columns:
            if spec.not_after_as_of and spec.name in frame.columns:
                candidates.append(frame[spec.name])
    opportunities = tables.get("opportunities")
    if opportunities is not None and {"close_date", "is_closed"} <= set(opportunities.columns):
        candidates.append(opportunities.loc[opportunities["is_closed"].astype(bool), "close_date"])
    latest = None
    for values in candidates:
        if values.notna().any():
            value = values.max()
            if value.tz is None:  # a date: the event may have happened at any time of that day
                value = value.tz_localize("UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
            latest = value if latest is None or value > latest else latest
    return latest if latest is not None else fallback


def _ignored(source: Any, mapping: Mapping) -> list[str]:
    """Files in a source folder that were not read: not tabular, or declared ``ignore:`` by the mapping."""
    if isinstance(source, str | Path) and not is_database_url(source) and Path(source).is_dir():
        out = [f"{name} (not a table file)" for name in ignored_files(Path(source))]
        for file in sorted(Path(source).iterdir(), key=lambda p: p.name.lower()):
            stem, suffix = split_suffix(file)
            if file.is_file() and suffix in TABULAR_SUFFIXES and mapping.ignores(stem):
                out.append(f"{file.name} (ignored by mapping {mapping.name})")
        return out
    return []


# --------------------------------------------------------------------------- validation


@dataclass
class _TableResult:
    accepted: pd.DataFrame
    counts: pd.DataFrame
    problems: pd.DataFrame
    quarantine: pd.DataFrame | None


def _validate_table(table: str, parts: list[Part], ctx: ValidationContext, accepted: dict[str, pd.DataFrame]) -> _TableResult:
    spec = TABLES[table]
    columns = [c for c in spec.column_names if any(c in p.frame.columns for p in parts)]
    frame = pd.concat([_with_columns(p.frame, table, columns) for p in parts], ignore_index=True)
    frame = _restore_dtypes(frame, table)
    frame = _fill_defaults(frame, table)
    offsets = np.cumsum([0] + [len(p.frame) for p in parts])
    origin = np.repeat([p.origin for p in parts], [len(p.frame) for p in parts])
    rows = np.concatenate([p.row_numbers for p in parts]) if parts else np.array([], dtype=int)

    if table == "opportunities":
        frame = _derive_status(frame, accepted.get("stages"))
        columns = list(frame.columns)

    found = [p.problems.assign(index=p.problems["index"].astype(int) + offsets[i]) for i, p in enumerate(parts) if len(p.problems)]
    type_failed = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=relations.PROBLEM_COLUMNS)
    found.append(_pandera_problems(table, frame, ctx, type_failed))
    found.append(relations.duplicate_keys(table, frame, rows))
    found.append(relations.duplicate_rows(table, frame, rows, raw=_raw_rows(table, parts)))
    found.append(relations.foreign_keys(table, frame, accepted))
    found = [f.astype(object) for f in found if len(f)]
    problems = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=relations.PROBLEM_COLUMNS)

    bad = np.zeros(len(frame), dtype=bool)
    if len(problems):
        bad[problems["index"].astype(int).to_numpy()] = True
    good = frame.loc[~bad].reset_index(drop=True)
    good = _final_dtypes(good, table)

    record_ids = _record_ids(table, frame)
    rejected = pd.DataFrame(columns=REJECTED_COLUMNS)
    if len(problems):
        idx = problems["index"].astype(int).to_numpy()
        rejected = pd.DataFrame(
            {
                "table": table,
                "source": origin[idx],
                "row": rows[idx],
                "record_id": record_ids[idx],
                "column": problems["column"].to_numpy(),
                "check": problems["check"].to_numpy(),
                "value": [None if _isna(v) else str(v) for v in problems["value"]],
                "message": problems["message"].to_numpy(),
            }
        ).sort_values(["source", "row", "column"], kind="stable", na_position="first")

    malformed_rows = []
    for p in parts:
        for m in p.malformed:
            malformed_rows.append(
                {"table": table, "source": p.origin, "row": m.row, "record_id": None, "column": m.column,
                 "check": m.check, "value": m.text[:500], "message": m.message}
            )
    if malformed_rows:
        rejected = pd.concat([rejected, pd.DataFrame(malformed_rows)], ignore_index=True)

    count_rows = []
    for i, p in enumerate(parts):
        part_bad = int(bad[offsets[i] : offsets[i + 1]].sum()) + len(p.malformed)
        read = len(p.frame) + len(p.malformed)
        count_rows.append({"table": table, "source": p.origin, "read": read, "accepted": read - part_bad, "rejected": part_bad})

    quarantine = _quarantine(parts, bad, offsets, rejected) if (bad.any() or malformed_rows) else None
    return _TableResult(good, pd.DataFrame(count_rows, columns=COUNT_COLUMNS), rejected.reset_index(drop=True), quarantine)


def _raw_rows(table: str, parts: list[Part]) -> pd.DataFrame | None:
    """The source rows of every part, told apart by part, for the exact-duplicate check of a keyless table."""
    if TABLES[table].primary_key or not parts:
        return None
    frames = [p.raw.reset_index(drop=True).assign(_part=i) for i, p in enumerate(parts)]
    return pd.concat(frames, ignore_index=True)


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


_NA_DTYPES = {"date": "datetime64[ns]", "timestamp": "datetime64[ns, UTC]", "float": float, "int": "Int64", "bool": "boolean"}


def _with_columns(frame: pd.DataFrame, table: str, columns: list[str]) -> pd.DataFrame:
    """``frame`` with exactly ``columns``; a column this part lacks is all-missing, in its canonical dtype."""
    out = {}
    for column in columns:
        if column in frame.columns:
            out[column] = frame[column]
        else:
            dtype = _NA_DTYPES.get(TABLES[table].column(column).kind, object)
            out[column] = pd.Series([None] * len(frame), index=frame.index, dtype=dtype)
    return pd.DataFrame(out, index=frame.index, columns=columns)


def _fill_defaults(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Columns with a default (``quotas.measure``): missing cells and absent columns take it."""
    spec = TABLES[table]
    defaults = {c.name: c.default for c in spec.columns if c.default is not None}
    if not defaults:
        return frame
    for name, value in defaults.items():
        if name in frame.columns:
            frame[name] = frame[name].where(frame[name].notna(), value)
        else:
            frame[name] = pd.Series([value] * len(frame), index=frame.index, dtype=object)
    return frame[[c for c in spec.column_names if c in frame.columns]]


def _restore_dtypes(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Concatenating parts with empty columns can lose dtypes; put the canonical ones back."""
    for column in frame.columns:
        kind = TABLES[table].column(column).kind
        if kind == "timestamp" and not isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        elif kind == "date" and not pd.api.types.is_datetime64_dtype(frame[column].dtype):
            frame[column] = pd.to_datetime(frame[column])
        elif kind == "float":
            frame[column] = frame[column].astype(float)
        elif kind == "bool":
            frame[column] = frame[column].astype("boolean")
        elif kind == "int":
            frame[column] = frame[column].astype("Int64")
    return frame


def _derive_status(frame: pd.DataFrame, stages: pd.DataFrame | None) -> pd.DataFrame:
    """Fill ``is_closed`` / ``is_won`` from the stage table where the export does not carry them."""
    if stages is None or "stage" not in frame.columns:
        return frame
    lookup = stages.set_index("stage")
    for column in ("is_closed", "is_won"):
        from_stage = frame["stage"].map(lookup[column]).astype("boolean")
        if column not in frame.columns:
            frame[column] = from_stage
        else:
            frame[column] = frame[column].fillna(from_stage)
    order = [c for c in TABLES["opportunities"].column_names if c in frame.columns]
    return frame[order]


def _pandera_problems(table: str, frame: pd.DataFrame, ctx: ValidationContext, type_failed: pd.DataFrame) -> pd.DataFrame:
    """Run the pandera schema; a cell that already failed coercion is not reported again as null."""
    schema = build_schema(table, ctx, present=list(frame.columns))
    try:
        with warnings.catch_warnings():
            # pandera concatenates its failure cases with all-NA columns, which pandas 2.x warns about
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"pandera\.")
            warnings.filterwarnings("ignore", message=".*concatenation with empty or all-NA.*", category=FutureWarning)
            schema.validate(frame, lazy=True)
        return pd.DataFrame(columns=relations.PROBLEM_COLUMNS)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    cases = cases[cases["index"].notna()].copy()
    cases["index"] = cases["index"].astype(int)
    out = []
    names = {
        (c.name, check.error): name for c in TABLES[table].columns for check, name in column_checks(c, table, ctx)
    }
    rules = {rule.name: rule for rule in RULES.get(table, ())}
    column_level = cases[cases["schema_context"] == "Column"]
    if len(column_level):
        raw_check = column_level["check"].astype(str)
        check = [
            CHECK_NOT_NULL if ch == "not_nullable" else names.get((col, ch), ch)
            for col, ch in zip(column_level["column"], raw_check)
        ]
        msg = [
            f"{col}: required value missing" if ch == "not_nullable" else ch
            for col, ch in zip(column_level["column"], raw_check)
        ]
        out.append(pd.DataFrame({"index": column_level["index"].to_numpy(), "column": column_level["column"].to_numpy(),
                                 "check": check, "value": column_level["failure_case"].to_numpy(), "message": msg}))
    wide = cases[cases["schema_context"] == "DataFrameSchema"].drop_duplicates(["check", "index"])
    if len(wide):
        cols = [rules[ch].columns for ch in wide["check"]]
        values = [_row_values(frame, int(i), c) for i, c in zip(wide["index"], cols)]
        out.append(pd.DataFrame({"index": wide["index"].to_numpy(), "column": [", ".join(c) for c in cols],
                                 "check": wide["check"].to_numpy(), "value": values,
                                 "message": [rules[ch].message for ch in wide["check"]]}))
    result = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=relations.PROBLEM_COLUMNS)
    if len(type_failed) and len(result):
        seen = set(zip(type_failed["index"].astype(int), type_failed["column"]))
        keep = [not (ch == CHECK_NOT_NULL and (i, c) in seen) for i, c, ch in zip(result["index"], result["column"], result["check"])]
        result = result[keep]
    return result


def _row_values(frame: pd.DataFrame, index: int, columns: tuple[str, ...]) -> str:
    return ", ".join(f"{c}={_fmt(frame.at[index, c])}" for c in columns)


def _fmt(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    return str(value)


def _record_ids(table: str, frame: pd.DataFrame) -> np.ndarray:
    key = [c for c in TABLES[table].primary_key if c in frame.columns] or [
        c for c in TABLES[table].column_names if TABLES[table].column(c).kind == "id" and c in frame.columns
    ][:1]
    if not key:
        return np.full(len(frame), None, dtype=object)
    if len(key) == 1:
        return frame[key[0]].astype(object).where(frame[key[0]].notna(), None).to_numpy()
    return frame[key].astype(str).agg("|".join, axis=1).to_numpy()


def _final_dtypes(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Required booleans become plain ``bool`` (no nulls remain); everything else keeps its canonical dtype."""
    for column in frame.columns:
        spec = TABLES[table].column(column)
        if spec.kind == "bool" and spec.required:
            frame[column] = frame[column].astype(bool)
    return frame


def _quarantine(parts: list[Part], bad: np.ndarray, offsets: np.ndarray, rejected: pd.DataFrame) -> pd.DataFrame:
    """The rejected rows as the source had them, with where they came from and what is wrong."""
    reasons = (
        rejected.assign(text=rejected["column"].fillna("(row)").astype(str) + ": " + rejected["message"].astype(str))
        .groupby(["source", "row"])["text"]
        .agg("; ".join)
    )
    frames = []
    for i, p in enumerate(parts):
        mask = bad[offsets[i] : offsets[i + 1]]
        raw = p.raw.loc[mask].copy()
        raw.insert(0, "_row", p.row_numbers[mask])
        raw.insert(0, "_source", p.origin)
        for m in p.malformed:
            raw = pd.concat([raw, pd.DataFrame([{"_source": p.origin, "_row": m.row, "_raw_line": m.text}])], ignore_index=True)
        frames.append(raw)
    out = pd.concat(frames, ignore_index=True)
    out["_problems"] = [reasons.get((s, r), "") for s, r in zip(out["_source"], out["_row"])]
    return out
