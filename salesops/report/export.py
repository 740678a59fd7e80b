"""Exports that are safe to open in a spreadsheet.

A CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula ("CSV injection"). CRM exports carry free text typed by anyone,
so every CSV this kit writes goes through :func:`to_safe_csv`, which prefixes such cells with an
apostrophe. Numbers stay numbers: numeric columns are never touched, and a text cell that is just a
number (``-5``, ``+3.2e4``) is left as it is, since a spreadsheet reads it as that number.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "neutralise_cell", "neutralise_frame", "to_safe_csv"]

#: First characters that make a spreadsheet evaluate a cell.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise_cell(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is a string a spreadsheet would run as a formula.

    Non-strings are returned unchanged, and so are strings that are plain numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names are neutralised; numeric columns untouched."""
    out = df.copy()
    for i in range(out.shape[1]):
        series = out.iloc[:, i]
        if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
            out.isetitem(i, series.map(neutralise_cell, na_action="ignore"))
        elif isinstance(series.dtype, pd.CategoricalDtype):
            out.isetitem(i, series.astype(object).map(neutralise_cell, na_action="ignore"))
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out


def to_safe_csv(df: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = False, **kwargs: Any) -> Path:
    """Write ``df`` as CSV with formula injection neutralised.

    Parameters
    ----------
    df : pandas.DataFrame
        The frame to write; it is not modified.
    path : str or path-like
        Target file; parent folders are created.
    index : bool
        Write the index as a first column (neutralised like any text).
    **kwargs
        Passed to :meth:`pandas.DataFrame.to_csv` (``sep``, ``encoding`` ...). Lines end in CRLF as
        RFC 4180 has it, which also makes the writer quote any cell holding a carriage return (with
        pandas' default ``\n`` a bare CR inside a cell is written unquoted and splits the row).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = neutralise_frame(df.reset_index() if index else df)
    kwargs.setdefault("lineterminator", "\r\n")
    safe.to_csv(path, index=False, **kwargs)
    return path
