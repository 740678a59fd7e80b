"""Reading and mapping: each source (file or database table) becomes a :class:`Part` of a canonical table.

A part holds the source rows as read, the canonical columns after the mapping (renames, recodes, constants,
derived columns, joins, ``where:`` filters, ``distinct:``) and coercion, and the coercion problems found;
:mod:`salesops.io.load` then validates the parts of each table together.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesops.io import decimals
from salesops.io.coerce import EXPECTED, ColumnFormat, coerce, null_mask
from salesops.io.distinct import distinct_rows
from salesops.io.era import failure_messages
from salesops.io.errors import LoadError
from salesops.io.expressions import ExpressionError, columns_in, compile_expression, evaluate
from salesops.io.mapping import Mapping, SourceMapping, find_column
from salesops.io.readers import RawFrame, is_database_url, iter_source
from salesops.paths import templates_dir
from salesops.safe_yaml import YamlLimitError, load_yaml
from salesops.schema import relations
from salesops.schema.tables import TABLES

#: Columns the loader can fill in when an export lacks them.
DERIVABLE = {("opportunities", "is_closed"), ("opportunities", "is_won")}


@dataclass
class Part:
    """One source's contribution to a canonical table, after mapping and coercion."""

    origin: str
    raw: pd.DataFrame  # the source rows as read (for the quarantine)
    frame: pd.DataFrame  # canonical columns, coerced
    row_numbers: np.ndarray
    problems: pd.DataFrame  # positional index within this part
    malformed: list  # salesops.io.readers.Malformed
    skipped: str | None = None  # rows a mapping's ``where:`` left out, described for the report


def collect_parts(source: Any, mapping: Mapping) -> dict[str, list[Part]]:
    parts: dict[str, list[Part]] = defaultdict(list)
    from_database = is_database_url(source) or not isinstance(source, str | Path) or str(source).endswith((".duckdb", ".ddb"))
    joined = mapping.joined_stems
    right_sides: dict[str, RawFrame] = {}
    pending: list[tuple[RawFrame, SourceMapping]] = []
    for raw in iter_source(source, skip=mapping.ignores):
        if raw.stem.lower() in joined:
            right_sides[raw.stem.lower()] = raw
        targets = mapping.for_stem(raw.stem)
        if not targets and raw.stem.lower() in joined:
            continue
        if not targets:
            if from_database:
                continue  # a database holds other tables too; only the mapped ones are read
            raise LoadError(
                f"{raw.origin}: {raw.stem!r} is not a known table; name files after a table or map them in a "
                f"mapping file. Expected one of: {', '.join(mapping.expected_stems)}"
            )
        for target in targets:
            if target.join is not None:
                pending.append((raw, target))  # its right side may come later in the folder
            else:
                parts[target.table].append(_map_part(raw, target))
    for raw, target in pending:
        right = right_sides.get(target.join.source.lower())
        if right is None:
            raise LoadError(f"{raw.origin}: the mapping joins {target.join.source!r} onto it, and the source has no "
                            f"file or table of that name")
        joined_raw, note = _join_sources(raw, right, target)
        part = _map_part(joined_raw, target)
        part.skipped = "; ".join(x for x in (part.skipped, note) if x) or None
        parts[target.table].append(part)
    return parts


def _join_sources(left: RawFrame, right: RawFrame, target: SourceMapping) -> tuple[RawFrame, str | None]:
    """``left`` with the columns of ``right`` whose ``join.right`` key equals the row's ``join.left`` (a left
    join: every left row is kept, once). Right keys held by several rows are not joined, and reported."""
    join = target.join
    lkey = find_column(join.left, list(left.frame.columns))
    rkey = find_column(join.right, list(right.frame.columns))
    for key, raw, name in ((lkey, left, join.left), (rkey, right, join.right)):
        if key is None:
            raise LoadError(f"{raw.origin}: join key {name!r} (table {target.table!r}) is missing; the file has: "
                            f"{', '.join(map(str, raw.frame.columns))}")
    rframe = right.frame.copy()
    keys = coerce(rframe[rkey], "str")[0]
    dup = keys.notna() & keys.duplicated(keep=False)
    note = None
    if dup.any():
        shared = sorted(keys[dup].unique())
        note = (f"{right.origin}: {int(dup.sum()):,} row(s) share {len(shared):,} {join.right} value(s) with another "
                f"row (e.g. {shared[0]!r}), so the join key is not unique there; those rows were not joined onto "
                f"{left.origin}")
    rframe = rframe.loc[~dup.to_numpy()]
    rframe["_join_key"] = keys[~dup].to_numpy()
    clash = {c: f"{c}_{right.stem}" for c in rframe.columns if c in left.frame.columns and c != "_join_key"}
    rframe = rframe.rename(columns=clash)
    lframe = left.frame.reset_index(drop=True)
    merged = lframe.assign(_join_key=coerce(lframe[lkey], "str")[0].to_numpy()).merge(
        rframe, on="_join_key", how="left", sort=False, validate="many_to_one")
    merged = merged.drop(columns="_join_key")
    return RawFrame(left.stem, left.origin, merged, left.row_numbers, left.malformed), note


def _normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def _map_part(raw: RawFrame, target: SourceMapping) -> Part:
    spec = TABLES[target.table]
    frame = raw.frame.reset_index(drop=True)
    row_numbers = np.asarray(raw.row_numbers)
    frame, row_numbers, skipped = _apply_where(raw, target, frame, row_numbers)
    by_normal = {_normalise(c): c for c in frame.columns}
    selected: dict[str, pd.Series] = {}
    for column in spec.columns:
        name = column.name
        if name in target.derive:
            derived = _derive(frame, target.derive[name], raw.origin, name, column.required, target.origin)
            if derived is not None:
                selected[name] = derived
        elif name in target.columns:
            src = target.source_column(name, list(frame.columns))
            if src is None:
                derivable = (target.table, name) in DERIVABLE
                if column.required and name not in target.constants and not derivable:
                    wanted = " or ".join(repr(c) for c in target.columns[name])
                    raise LoadError(
                        f"{raw.origin}: column {wanted} (mapped to {target.table}.{name}) is missing; "
                        f"the file has: {', '.join(map(str, frame.columns))}"
                    )
            else:
                selected[name] = frame[src]
        elif name in by_normal and not _claimed(by_normal[name], target):
            selected[name] = frame[by_normal[name]]
        if name in target.constants:
            constant = target.constants[name]
            if name in selected:
                selected[name] = selected[name].where(~null_mask(selected[name]), constant)
            else:
                selected[name] = pd.Series([constant] * len(frame), index=frame.index, dtype=object)
        if name in target.values and name in selected:
            recode = {str(k): v for k, v in target.values[name].items()}
            col = selected[name]
            as_text = col.astype(object).where(col.isna(), col.astype(str).str.strip())
            selected[name] = as_text.map(lambda v, r=recode: r.get(v, v) if isinstance(v, str) else v)
    missing = [c for c in spec.required_columns if c not in selected and (target.table, c) not in DERIVABLE]
    if missing:
        hint = "" if not target.columns else f" (mapping {target.sources})"
        raise LoadError(
            f"{raw.origin}: required column(s) {', '.join(missing)} of table {target.table!r} missing{hint}; "
            f"expected columns: {', '.join(spec.required_columns)} (required), "
            f"{', '.join(c for c in spec.column_names if c not in spec.required_columns)} (optional); "
            f"the file has: {', '.join(map(str, frame.columns))}"
        )
    coerced: dict[str, pd.Series] = {}
    failed_cells: dict[str, pd.Series] = {}
    problems = []
    nulled: list[str] = []
    for name, values in selected.items():
        column = spec.column(name)
        out, failed = coerce(values, column.kind, target.formats.get(name))
        if name in target.null_invalid:  # on_invalid: null: keep the row, null the cell, report it
            out, failed, note = _null_invalid(out, failed, values, column, raw.origin, target.table)
            if note:
                nulled.append(note)
        coerced[name] = out
        failed_cells[name] = failed
        if target.distinct:
            continue  # judged per key below; the fact table sharing the source reports the row
        if failed.any():
            positions = failed.to_numpy().nonzero()[0]
            bad = values.iloc[positions].astype(str)
            far = bad.str.match(r"^\s*(?:\d{5,}|1[0-6]\d\d|2[3-9]\d\d|[3-9]\d{3})-\d\d-\d\d") if column.kind in ("date", "timestamp") else None
            expected = f"{name}: expected {EXPECTED[column.kind]}"
            fmt = target.formats.get(name) or ColumnFormat()
            if column.kind in ("date", "timestamp"):
                messages = failure_messages(name, bad, values, fmt.era, expected)
            elif column.kind in ("float", "int"):
                messages = decimals.failure_messages(name, bad, values, fmt.decimal, expected)
            else:
                messages = np.full(len(bad), expected, dtype=object)
            implausible = None if far is None else far.to_numpy() & (messages == expected)
            if implausible is not None:
                messages = np.where(
                    implausible, f"{name}: implausible date (outside 1677-2262, let alone the plausible window)", messages)
            problems.append(
                pd.DataFrame(
                    {
                        "index": positions,
                        "column": name,
                        "check": "type" if implausible is None else np.where(implausible, "implausible_date", "type"),
                        "value": bad.to_numpy(),
                        "message": messages,
                    }
                )
            )
    canonical = pd.DataFrame(coerced, index=frame.index)
    if target.distinct:
        result = distinct_rows(canonical, spec.primary_key, pd.DataFrame(failed_cells, index=frame.index), raw.origin,
                               target.table)
        return Part(
            origin=raw.origin,
            raw=frame.iloc[result.positions].reset_index(drop=True),
            frame=result.frame,
            row_numbers=row_numbers[result.positions],
            problems=pd.DataFrame(columns=relations.PROBLEM_COLUMNS),
            malformed=raw.malformed,
            skipped="; ".join([x for x in (skipped, *nulled, result.note) if x]) or None,
        )
    return Part(
        origin=raw.origin,
        raw=frame,
        frame=canonical,
        row_numbers=row_numbers,
        problems=pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(columns=relations.PROBLEM_COLUMNS),
        malformed=raw.malformed,
        skipped="; ".join([x for x in (skipped, *nulled) if x]) or None,
    )


def _null_invalid(
    out: pd.Series, failed: pd.Series, values: pd.Series, column: Any, origin: str, table: str
) -> tuple[pd.Series, pd.Series, str | None]:
    """Null the cells of an ``on_invalid: null`` column that failed coercion, lie outside the allowed set or
    below the minimum; describe them (count and an example) for the quality report."""
    bad = failed.to_numpy(dtype=bool).copy()
    present = out.notna().to_numpy()
    if column.allowed is not None:
        bad |= present & ~out.isin(list(column.allowed)).to_numpy()
    if column.min_value is not None:
        bad |= present & (pd.to_numeric(out, errors="coerce") < column.min_value).fillna(False).to_numpy()
    if not bad.any():
        return out, failed, None
    example = values[bad].astype(str).iloc[0]
    out = out.where(~bad)
    note = (f"{origin}: {int(bad.sum()):,} value(s) of {table}.{column.name} nulled (on_invalid: null), "
            f"e.g. {example!r}; the rows are kept")
    return out, pd.Series(False, index=failed.index), note


def _apply_where(
    raw: RawFrame, target: SourceMapping, frame: pd.DataFrame, row_numbers: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, str | None]:
    """Keep the rows that match the mapping's ``where:``; describe the others for the report."""
    if not target.where:
        return frame, row_numbers, None
    keep = np.ones(len(frame), dtype=bool)
    for column, accepted in target.where.items():
        src = find_column(column, list(frame.columns))
        if src is None:
            raise LoadError(
                f"{raw.origin}: column {column!r} (in 'where' of table {target.table!r}) is missing; "
                f"the file has: {', '.join(map(str, frame.columns))}"
            )
        keep &= coerce(frame[src], "str")[0].isin(accepted).to_numpy()
    left_out = int((~keep).sum())
    condition = " and ".join(f"{c} in ({', '.join(v)})" for c, v in target.where.items())
    note = f"{raw.origin}: {left_out:,} row(s) not read into {target.table} (kept: {condition})" if left_out else None
    return frame.loc[keep].reset_index(drop=True), row_numbers[keep], note


def _claimed(source_column: str, target: SourceMapping) -> bool:
    """A source column already mapped to another canonical column is not taken a second time by name."""
    return source_column in target.mapped_columns


def _derive(frame: pd.DataFrame, expression: str, origin: str, name: str, required: bool = True,
            mapping: str | None = None) -> pd.Series | None:
    """Compute a canonical column from source columns.

    ``expression`` is either a text template (``"{FirstName} {LastName}"``: each ``{column}`` is replaced
    by that column's text, a missing value by nothing) or an arithmetic expression over numeric source
    columns (``"Quantity * UnitPrice"``; the columns are read as numbers first, so money strings work),
    checked and evaluated by :mod:`salesops.io.expressions` (a whitelist: arithmetic, comparisons,
    and/or/not, column names and a few functions; never attribute access or other calls). A cell whose
    inputs are missing or unreadable comes out missing, and is then reported by the checks of the canonical
    column like any other missing value. An optional column whose inputs the file lacks altogether is left
    out (``None``); a required one raises :class:`LoadError`, as does an expression outside the whitelist.
    """
    if re.search(r"\{[^{}]+\}", expression):
        fields = re.findall(r"\{([^{}]+)\}", expression)
        if not required and not any(f in frame.columns for f in fields):
            return None
        return _derive_text(frame, expression, origin, name)
    where = f"mapping file {mapping}, derive: {name}" if mapping else f"derive: {name}"
    columns = ", ".join(map(str, frame.columns))
    try:
        compiled = compile_expression(expression, list(map(str, frame.columns)))
    except ExpressionError as exc:
        if exc.unknown and not required and not columns_in(expression, list(map(str, frame.columns))):
            return None
        if exc.unknown and not columns_in(expression, list(map(str, frame.columns))):
            raise LoadError(f"{origin}: cannot compute {name} = {expression!r} ({where}): it names none of the "
                            f"columns; columns: {columns}") from None
        raise LoadError(f"{origin}: cannot compute {name} = {expression!r} ({where}): {exc.reason}; "
                        f"columns: {columns}") from None
    frame = frame.set_axis(list(map(str, frame.columns)), axis=1)
    return evaluate(compiled, frame, number=lambda s: coerce(s, "float")[0])


def _derive_text(frame: pd.DataFrame, template: str, origin: str, name: str) -> pd.Series:
    """Fill a ``{column}`` template per row; a result that is empty or only blanks is missing."""
    fields = re.findall(r"\{([^{}]+)\}", template)
    missing = [f for f in fields if f not in frame.columns]
    if missing:
        raise LoadError(
            f"{origin}: cannot compute {name} = {template!r}: column(s) {', '.join(missing)} missing; "
            f"columns: {', '.join(map(str, frame.columns))}"
        )
    parts = {f: coerce(frame[f], "str")[0].fillna("") for f in fields}
    out = pd.Series([template] * len(frame), index=frame.index, dtype=object)
    for f, values in parts.items():
        out = pd.Series([o.replace("{" + f + "}", v) for o, v in zip(out, values.astype(str))], index=frame.index)
    out = out.str.strip().str.replace(r"\s{2,}", " ", regex=True)
    return out.where(out != "", None)


def default_stages(mapping: Mapping) -> Part:
    if mapping.stages is not None:
        rows, origin = mapping.stages, f"{mapping.path or mapping.name} (stages)"
    else:
        path = templates_dir() / "stages.yaml"
        try:
            rows, origin = load_yaml(path)["stages"], str(path)
        except YamlLimitError as exc:
            raise LoadError(str(exc)) from None
    raw = RawFrame("stages", origin, pd.DataFrame(rows))
    return _map_part(raw, SourceMapping("stages", ("stages",)))
