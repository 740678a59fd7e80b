"""Checks across rows and tables: unique keys, exact duplicate rows, foreign keys.

Each function returns a frame of problems with the positional ``index`` of the offending row, the
``column``, the ``check`` name, the offending ``value`` and a ``message``.
"""

from __future__ import annotations

import pandas as pd

from salesops.schema.tables import TABLES

PROBLEM_COLUMNS = ["index", "column", "check", "value", "message"]


def _problems(index, column: str | None, check: str, values, message) -> pd.DataFrame:
    return pd.DataFrame({"index": index, "column": column, "check": check, "value": values, "message": message})


def duplicate_keys(table: str, frame: pd.DataFrame, row_numbers) -> pd.DataFrame:
    """Rows whose primary key repeats an earlier row's; the first occurrence is kept."""
    key = list(TABLES[table].primary_key)
    if not key or not set(key) <= set(frame.columns):
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    complete = frame[key].notna().all(axis=1)
    dup = frame.duplicated(subset=key, keep="first") & complete
    if not dup.any():
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    firsts = frame[complete & ~dup].reset_index()[["index", *key]].rename(columns={"index": "_first"})
    hits = frame[dup].reset_index().merge(firsts, on=key, how="left")
    values = hits[key].astype(str).agg("|".join, axis=1) if len(key) > 1 else hits[key[0]].astype(str)
    first_rows = pd.Series(row_numbers)[hits["_first"].to_numpy()].to_numpy()
    messages = [f"duplicate {'/'.join(key)} {v!r}; first seen in row {r}" for v, r in zip(values, first_rows)]
    return _problems(hits["index"].to_numpy(), "/".join(key), "unique", values.to_numpy(), messages)


def duplicate_rows(table: str, frame: pd.DataFrame, row_numbers, raw: pd.DataFrame | None = None) -> pd.DataFrame:
    """Exact duplicate rows in a table without a primary key (the first copy is kept).

    Parameters
    ----------
    table : str
        Canonical table name; tables with a primary key are checked by :func:`duplicate_keys` instead.
    frame : pandas.DataFrame
        The canonical rows.
    row_numbers : array-like
        Source row number of each row (unused here; kept for a uniform signature).
    raw : pandas.DataFrame, optional
        The same rows as the source had them (every source column, plus anything telling sources
        apart). When given, a duplicate is a row identical to an earlier one *in the source*: two
        purchases that differ only in a column the mapping leaves out (a time of day, a description)
        are different rows, not duplicates.
    """
    if TABLES[table].primary_key:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    basis = frame
    if raw is not None and len(raw) == len(frame):
        basis = raw
    try:
        dup = basis.duplicated(keep="first")
    except TypeError:  # unhashable cells (lists from a JSON column): compare the canonical rows
        dup = frame.duplicated(keep="first")
    if not dup.any():
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    positions = dup.to_numpy().nonzero()[0]
    return _problems(positions, None, "duplicate_row", None, "exact duplicate of an earlier row")


def foreign_keys(table: str, frame: pd.DataFrame, accepted: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Values of a foreign-key column that match no accepted row of the referenced table.

    A reference to a table that was not loaded at all is not checked (optional tables stay optional).
    """
    out = []
    for fk in TABLES[table].foreign_keys:
        parent = accepted.get(fk.ref_table)
        if parent is None or fk.column not in frame.columns or fk.ref_column not in parent.columns:
            continue
        values = frame[fk.column]
        known = set(parent[fk.ref_column].dropna())
        missing = values.notna() & ~values.isin(known)
        if missing.any():
            positions = missing.to_numpy().nonzero()[0]
            bad = values.iloc[positions]
            out.append(
                _problems(
                    positions,
                    fk.column,
                    "foreign_key",
                    bad.to_numpy(),
                    [f"{fk.column} {v!r} matches no accepted row of {fk.ref_table}.{fk.ref_column}" for v in bad],
                )
            )
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=PROBLEM_COLUMNS)
