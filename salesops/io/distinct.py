"""A dimension table taken as the distinct rows of a source that repeats it (``distinct: true`` in a mapping).

Order lines name their customer and its country on every line; the ``accounts`` table wants one row per
customer. Taking the distinct rows by the table's key:

* rows whose key is missing carry no entity: they are skipped and counted in the report (the fact table
  that shares the file judges them);
* for every other column, the one value the key's rows agree on (missing cells do not disagree); a key
  whose rows hold two or more different values in a column gets a missing value there, and the conflict
  is reported with the key and the values, never silently resolved by picking one;
* a cell the loader could not read is treated as missing for this purpose and counted in the same note
  (its row is judged by the fact table).

The derived row keeps the source row number of the key's first row, so a problem found later (a missing
required value, a foreign key) still names a real line of the file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class DistinctRows:
    """Result of :func:`distinct_rows`.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per key, the columns of the input.
    positions : numpy.ndarray
        For each output row, the position (in the input) of the key's first row.
    note : str or None
        What was skipped, unreadable or in conflict, for the report; None when nothing was.
    """

    frame: pd.DataFrame
    positions: np.ndarray
    note: str | None


def distinct_rows(frame: pd.DataFrame, key: tuple[str, ...], failed: pd.DataFrame, origin: str, table: str) -> DistinctRows:
    """Collapse ``frame`` to one row per ``key``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical columns, coerced (a cell that failed coercion is missing).
    key : tuple of str
        The table's primary key columns.
    failed : pandas.DataFrame
        Boolean, same shape as ``frame``: True where a cell could not be read.
    origin, table : str
        Source and canonical table, for the note.

    Returns
    -------
    DistinctRows
    """
    missing_key = frame[list(key)].isna().any(axis=1).to_numpy()
    kept = frame.loc[~missing_key]
    positions = np.flatnonzero(~missing_key)
    notes = []
    if missing_key.any():
        notes.append(f"{int(missing_key.sum()):,} row(s) of {origin} have no {'/'.join(key)}, so no {table} row")
    unreadable = int(failed.loc[~missing_key, [c for c in frame.columns if c not in key]].to_numpy().sum())
    if unreadable:
        notes.append(f"{unreadable:,} unreadable cell(s) of {origin} left out of {table}'s distinct values")
    if kept.empty:
        return DistinctRows(frame.iloc[:0].copy(), positions[:0], "; ".join(notes) or None)

    groups = kept.groupby(list(key), sort=False, dropna=False)
    first = groups.ngroup().to_numpy()
    _, first_rows = np.unique(first, return_index=True)
    out = kept.iloc[first_rows].reset_index(drop=True)
    conflicts = []
    for column in frame.columns:
        if column in key:
            continue
        n_values = groups[column].nunique(dropna=True).to_numpy()
        value = groups[column].first().reset_index(drop=True)  # the first non-missing value of the key's rows
        clash = n_values > 1
        if clash.any():
            labels = kept[list(key)].astype(str).agg("/".join, axis=1)
            example_key = out.loc[clash, list(key)].astype(str).agg("/".join, axis=1).iloc[0]
            shown = ", ".join(repr(str(v)) for v in kept.loc[labels == example_key, column].dropna().unique()[:3])
            conflicts.append(
                f"{table}.{column}: {int(clash.sum()):,} {'/'.join(key)}(s) whose rows in {origin} disagree (e.g. "
                f"{example_key}: {shown}), nulled for those keys"
            )
            value = value.where(~pd.Series(clash))
        out[column] = value
    notes.extend(conflicts)
    order = np.argsort(first_rows, kind="stable")
    return DistinctRows(out.iloc[order].reset_index(drop=True), positions[first_rows[order]], "; ".join(notes) or None)
