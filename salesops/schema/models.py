"""Pandera schemas of the canonical tables, built from :mod:`salesops.schema.tables` and :mod:`.rules`.

The schemas check values after coercion: required values present, amounts not negative, closed sets of
values, stages known to the stage table, nothing after the as-of date, and the multi-column row rules.
Keys (uniqueness, foreign keys) are checked across rows and tables by :mod:`salesops.schema.relations`.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from salesops.schema.rules import RULES, ValidationContext
from salesops.schema.tables import TABLES, ColumnSpec

#: Our check names, used in ``SalesData.quality.rejected["check"]``.
CHECK_NOT_NULL = "not_null"
CHECK_MIN = "min_value"
CHECK_ALLOWED = "allowed_values"
CHECK_STAGE = "known_stage"
CHECK_AS_OF = "not_after_as_of"
CHECK_PLAUSIBLE = "implausible_date"


def column_checks(spec: ColumnSpec, table: str, ctx: ValidationContext) -> list[tuple[pa.Check, str]]:
    """The value checks of one column, each with our check name; the check's ``error`` is the message."""
    checks: list[tuple[pa.Check, str]] = []
    if spec.min_value is not None:
        checks.append((pa.Check.ge(spec.min_value, error=f"{spec.name} must be >= {spec.min_value:g}"), CHECK_MIN))
    if spec.allowed is not None:
        checks.append((pa.Check.isin(list(spec.allowed), error=f"{spec.name} must be one of {', '.join(spec.allowed)}"), CHECK_ALLOWED))
    if spec.name == "stage" and table in ("opportunities", "opportunity_history") and ctx.stages:
        known = ", ".join(sorted(ctx.stages))
        checks.append((pa.Check.isin(sorted(ctx.stages), error=f"stage is not in the stage table ({known})"), CHECK_STAGE))
    if spec.kind in ("date", "timestamp"):
        lo, hi = ctx.date_window
        if spec.kind == "timestamp":
            lo, hi = lo.tz_localize("UTC"), (hi + pd.Timedelta(days=1)).tz_localize("UTC") - pd.Timedelta(microseconds=1)
        error = f"{spec.name}: implausible date; expected between {lo:%Y-%m-%d} and {hi:%Y-%m-%d}"
        checks.append((pa.Check.in_range(lo, hi, error=error), CHECK_PLAUSIBLE))
    if spec.not_after_as_of:
        bound = ctx.as_of if spec.kind == "timestamp" else ctx.as_of_date
        checks.append((pa.Check.le(bound, error=f"{spec.name} lies after the as-of date {ctx.as_of:%Y-%m-%d %H:%M} UTC"), CHECK_AS_OF))
    return checks


def build_schema(table: str, ctx: ValidationContext, present: list[str] | None = None) -> pa.DataFrameSchema:
    """The pandera schema of ``table`` for this load (the stage list and the as-of date vary per load).

    Parameters
    ----------
    table : str
        Canonical table name.
    ctx : ValidationContext
        As-of moment and known stages.
    present : list of str, optional
        Columns the frame has; optional columns that are absent are not checked.
    """
    spec = TABLES[table]
    columns = {
        c.name: pa.Column(
            None,
            nullable=not c.required,
            required=c.required,
            checks=[check for check, _ in column_checks(c, table, ctx)],
            title=c.name,
        )
        for c in spec.columns
        if present is None or c.name in present
    }
    wide = [
        pa.Check(lambda frame, rule=rule: rule.test(frame, ctx), name=rule.name)
        for rule in RULES.get(table, ())
        if present is None or all(col in present for col in rule.columns)
    ]
    return pa.DataFrameSchema(columns, checks=wide, name=table, strict=False, coerce=False)
