"""Firmographic bucket rules (segments such as start-ups vs enterprise) and the condition language they share
with the routing rules.

A condition (``when``) is a mapping of column to test, all of which must hold::

    {segment: Enterprise}                      equal
    {country: [Germany, France]}               one of
    {employees: {min: 200, below: 2000}}       range: min / max inclusive, above / below exclusive
    {industry: {not_in: [Education]}}          none of
    {postal_code: {startswith: ["8", "9"]}}    text prefix
    {account_id: {missing: false}}             present (or absent with true)
    {any: [{source: Referral}, {employees: {min: 2000}}]}   at least one of several conditions

Bucket rules are read top to bottom and the first that matches names the bucket; a rule without ``when``
catches the rest::

    - {name: Enterprise, when: {employees: {min: 2000}}}
    - {name: Mid-Market, when: {employees: {min: 200}}}
    - {name: SMB}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_SEGMENT_RULES", "RuleError", "assign_buckets", "bucket_summary", "check_condition",
           "condition_mask"]

#: Segments by employees, a common convention (and the sample CRM's): SMB < 200 <= Mid-Market < 2000 <= Enterprise.
DEFAULT_SEGMENT_RULES: tuple[dict[str, Any], ...] = (
    {"name": "Enterprise", "when": {"employees": {"min": 2000}}},
    {"name": "Mid-Market", "when": {"employees": {"min": 200}}},
    {"name": "SMB"},
)

_RANGE_OPS = {"min", "max", "above", "below"}
_OPS = _RANGE_OPS | {"in", "not_in", "equals", "not", "startswith", "missing"}


class RuleError(ValueError):
    """A rule or condition is malformed; the message names the rule and what is wrong."""


def check_condition(when: Any, context: str, columns: Sequence[str] | None = None) -> None:
    """Validate a condition without data: its shape, operators and (when given) column names.

    Raises
    ------
    RuleError
        Naming ``context`` (e.g. ``"rule 'enterprise'"``) and the offending part.
    """
    if when is None:
        return
    if not isinstance(when, Mapping):
        raise RuleError(f"{context}: 'when' must be a mapping of column to value, got {type(when).__name__}")
    for col, test in when.items():
        if col == "any":
            if not isinstance(test, Sequence) or isinstance(test, str) or not test:
                raise RuleError(f"{context}: 'any' must be a non-empty list of conditions")
            for i, sub in enumerate(test):
                check_condition(sub, f"{context}, any[{i}]", columns)
            continue
        if columns is not None and col not in columns:
            raise RuleError(f"{context}: unknown column {col!r}; available: {', '.join(sorted(map(str, columns)))}")
        if isinstance(test, Mapping):
            bad = set(test) - _OPS
            if bad:
                raise RuleError(f"{context}: unknown operator(s) {', '.join(sorted(bad))} on {col!r}; "
                                f"use {', '.join(sorted(_OPS))}")
            for op in _RANGE_OPS & set(test):
                if isinstance(test[op], bool) or not isinstance(test[op], int | float):
                    raise RuleError(f"{context}: {col}.{op} must be a number, got {test[op]!r}")
            if "missing" in test and not isinstance(test["missing"], bool):
                raise RuleError(f"{context}: {col}.missing must be true or false")


def _as_list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, list | tuple | set) else [v]


def _test(series: pd.Series, test: Any, context: str, col: str) -> np.ndarray:
    if isinstance(test, Mapping):
        ok = np.ones(len(series), dtype=bool)
        if "missing" in test:
            ok &= series.isna().to_numpy() == bool(test["missing"])
        if _RANGE_OPS & set(test):
            x = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
            if series.notna().any() and np.isnan(x[series.notna().to_numpy()]).all():
                raise RuleError(f"{context}: {col!r} holds no numbers, so min/max/above/below cannot apply")
            with np.errstate(invalid="ignore"):
                if "min" in test:
                    ok &= x >= float(test["min"])
                if "max" in test:
                    ok &= x <= float(test["max"])
                if "above" in test:
                    ok &= x > float(test["above"])
                if "below" in test:
                    ok &= x < float(test["below"])
        if "in" in test:
            ok &= series.isin(_as_list(test["in"])).to_numpy()
        if "equals" in test:
            ok &= series.isin(_as_list(test["equals"])).to_numpy()
        if "not_in" in test:
            ok &= ~series.isin(_as_list(test["not_in"])).to_numpy()
        if "not" in test:
            ok &= ~series.isin(_as_list(test["not"])).to_numpy()
        if "startswith" in test:
            prefixes = tuple(str(p) for p in _as_list(test["startswith"]))
            ok &= series.astype("string").str.startswith(prefixes).fillna(False).to_numpy(dtype=bool)
        return ok
    return series.isin(_as_list(test)).to_numpy()


def condition_mask(frame: pd.DataFrame, when: Mapping[str, Any] | None, context: str = "condition") -> np.ndarray:
    """Rows of ``frame`` that satisfy ``when`` (all columns must pass; ``any`` is a disjunction).

    Parameters
    ----------
    frame : DataFrame
        Rows to test.
    when : mapping or None
        The condition (see the module docstring); None matches every row.
    context : str
        Named in error messages (``"rule 'enterprise'"``).

    Returns
    -------
    numpy.ndarray of bool
    """
    check_condition(when, context, list(frame.columns) + ["any"])
    ok = np.ones(len(frame), dtype=bool)
    if not when:
        return ok
    for col, test in when.items():
        if col == "any":
            alt = np.zeros(len(frame), dtype=bool)
            for sub in test:
                alt |= condition_mask(frame, sub, context)
            ok &= alt
        else:
            ok &= _test(frame[col], test, context, col)
    return ok


def _check_rules(rules: Sequence[Mapping[str, Any]], context: str) -> None:
    if isinstance(rules, str | bytes) or not isinstance(rules, Sequence) or not rules:
        raise RuleError(f"{context}: bucket rules must be a non-empty list of {{name, when}} entries")
    names = set()
    for i, r in enumerate(rules):
        if not isinstance(r, Mapping) or "name" not in r:
            raise RuleError(f"{context}: entry {i} must be a mapping with a 'name' (and optionally 'when')")
        extra = set(r) - {"name", "when"}
        if extra:
            raise RuleError(f"{context}: bucket {r['name']!r} has unknown key(s) {', '.join(sorted(extra))}")
        if r["name"] in names:
            raise RuleError(f"{context}: bucket {r['name']!r} is defined twice")
        names.add(r["name"])


def assign_buckets(frame: pd.DataFrame, rules: Sequence[Mapping[str, Any]] = DEFAULT_SEGMENT_RULES,
                   default: str | None = None, context: str = "buckets") -> pd.Series:
    """Bucket of each row: the name of the first rule whose ``when`` matches.

    Parameters
    ----------
    frame : DataFrame
        Accounts or leads with the columns the rules test.
    rules : list of {name, when}
        Ordered rules; a rule without ``when`` matches everything left.
    default : str, optional
        Bucket of rows no rule matches; without it such rows raise.
    context : str
        Named in error messages.

    Returns
    -------
    Series of str
        Indexed like ``frame``.

    Raises
    ------
    RuleError
        For malformed rules, an unknown column, or rows no rule matches (naming how many and the first ids).
    """
    _check_rules(rules, context)
    out = np.full(len(frame), None, dtype=object)
    left = np.ones(len(frame), dtype=bool)
    for r in rules:
        hit = left & condition_mask(frame, r.get("when"), f"{context}, bucket {r['name']!r}")
        out[hit] = r["name"]
        left &= ~hit
    if left.any():
        if default is None:
            idx = frame.index[left][:5].tolist()
            raise RuleError(f"{context}: {int(left.sum())} row(s) match no bucket rule (first: {idx}); "
                            "add a last rule without 'when' or pass default=")
        out[left] = default
    return pd.Series(out, index=frame.index, name="bucket")


def bucket_summary(accounts: pd.DataFrame, bucket: pd.Series, value_columns: Sequence[str] = ("potential",),
                   by: str | None = None) -> pd.DataFrame:
    """Accounts and the sum, mean and median of each value column per bucket (optionally per ``by`` too).

    Returns
    -------
    DataFrame
        ``bucket[, by], accounts, <col>_sum, <col>_mean, <col>_median`` for each value column, and
        ``share_of_accounts``.
    """
    missing = [c for c in value_columns if c not in accounts.columns]
    if missing:
        raise ValueError(f"accounts lack column(s) {', '.join(missing)}")
    df = accounts.assign(bucket=bucket.to_numpy())
    keys = ["bucket"] + ([by] if by else [])
    g = df.groupby(keys, observed=True, dropna=False)
    out = g.size().rename("accounts").to_frame()
    for c in value_columns:
        out[f"{c}_sum"] = g[c].sum()
        out[f"{c}_mean"] = g[c].mean()
        out[f"{c}_median"] = g[c].median()
    out["share_of_accounts"] = out["accounts"] / out["accounts"].sum()
    return out.reset_index()
