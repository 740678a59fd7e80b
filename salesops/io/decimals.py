"""The decimal convention of a number column, decided once per column as date formats are.

An export writes numbers either with a decimal point and comma thousands (``1,234.50``) or with a decimal
comma and dot thousands (``1.234,50``). Guessing per value misreads a column that mixes ``49.400,00`` and
``84.500``: the second is 84,500 in that column, not 84.5. So each text cell is classified first:

* **comma evidence**: a comma after the last dot (``49.400,00``), a comma that cannot be a thousands group
  (``12,5``, ``0,125``, ``1234,56``), or two or more dot groups (``1.234.567``);
* **point evidence**: a dot after the last comma (``1,234.50``), a dot that cannot be a thousands group
  (``12.5``, ``0.125``, ``84500.0``), or two or more comma groups (``1,234,567``);
* **ambiguous**: one group of three digits after a non-zero lead, ``84.500`` or ``45,000``;
* **plain**: digits only (``84500``), which read the same under both.

A cell with evidence reads as it shows itself (``1,200.50`` and ``1.200,50 €`` are both 1,200.50, as a
multi-currency export writes them). An ambiguous cell takes its column's convention: the one the mapping
declares (``decimal:``), else the one its other cells show. When the column shows both conventions, an
ambiguous cell cannot be decided and is rejected with both readings; when it shows none, ``45,000`` is
45,000 (a comma before exactly three digits is the thousands separator of US exports), while ``84.500`` is
rejected as ambiguous (84.5 or 84,500?) with a message naming the option, never read as 84.5 on a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DecimalVerdict", "cell_decimals", "classify", "decide", "failure_messages", "rejected"]

_CURRENCY = re.compile(r"[€$£¥₹฿]|\b(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|INR|THB)\b|[\s\u00a0\u202f']", re.IGNORECASE)
_SIGNS = re.compile(r"^[-+(]+|[-)]+$")
_AMBIGUOUS_DOT = re.compile(r"^[1-9]\d{0,2}\.\d{3}$")
_AMBIGUOUS_COMMA = re.compile(r"^[1-9]\d{0,2},\d{3}$")
_DOT_GROUPS = re.compile(r"^\d{1,3}(\.\d{3}){2,}$")
_COMMA_GROUPS = re.compile(r"^\d{1,3}(,\d{3}){2,}$")
_NUMBERISH = re.compile(r"^[\d.,]+$")


def _core(text: str) -> str:
    """The digits and separators of a cell: no currency, spaces, signs or accounting parentheses."""
    return _SIGNS.sub("", _CURRENCY.sub("", text))


def classify(text: str) -> str:
    """``"comma"``, ``"point"``, ``"ambiguous_dot"``, ``"ambiguous_comma"`` or ``"plain"`` for one cell.

    Cells that are not numbers at all (``twelve``, ``1e3``) are ``"plain"``: the reader decides them.
    """
    s = _core(text)
    if not _NUMBERISH.match(s):
        return "plain"
    has_comma, has_dot = "," in s, "." in s
    if has_comma and has_dot:
        return "comma" if s.rfind(",") > s.rfind(".") else "point"
    if has_dot:
        if _AMBIGUOUS_DOT.match(s):
            return "ambiguous_dot"
        return "comma" if _DOT_GROUPS.match(s) else "point"
    if has_comma:
        if _AMBIGUOUS_COMMA.match(s):
            return "ambiguous_comma"
        return "point" if _COMMA_GROUPS.match(s) else "comma"
    return "plain"


@dataclass(frozen=True)
class DecimalVerdict:
    """The convention of one column and the evidence behind it.

    Attributes
    ----------
    decimal : str or None
        ``","`` or ``"."``; ``None`` when no cell shows either (the column is read the US way, except
        that an ambiguous ``84.500`` is rejected).
    declared : bool
        The mapping named the convention.
    n_comma, n_point : int
        Cells showing a decimal comma, a decimal point.
    """

    @property
    def mixed(self) -> bool:
        """Both conventions appear and the mapping names none."""
        return not self.declared and bool(self.n_comma) and bool(self.n_point)

    decimal: str | None
    declared: bool
    n_comma: int
    n_point: int


def decide(classes: pd.Series, declared: str | None) -> DecimalVerdict:
    """The convention of a column whose cells have the classes ``classes`` (see :func:`classify`).

    ``decimal`` is the declared convention, else the only one the cells show, else ``None`` (none shown,
    or both: see :attr:`DecimalVerdict.mixed`).
    """
    n_comma, n_point = int((classes == "comma").sum()), int((classes == "point").sum())
    if declared in (",", "."):
        return DecimalVerdict(declared, True, n_comma, n_point)
    if n_comma and not n_point:
        return DecimalVerdict(",", False, n_comma, n_point)
    if n_point and not n_comma:
        return DecimalVerdict(".", False, n_comma, n_point)
    return DecimalVerdict(None, False, n_comma, n_point)


def cell_decimals(classes: pd.Series, verdict: DecimalVerdict) -> pd.Series:
    """The decimal separator each cell is read with: its own evidence, else the column's convention.

    Cells that cannot be decided (see :func:`rejected`) get the US reading; :func:`rejected` masks them.
    """
    column = verdict.decimal or "."
    return pd.Series(np.select([classes == "comma", classes == "point"], [",", "."], column),
                     index=classes.index, dtype=object)


def rejected(classes: pd.Series, verdict: DecimalVerdict) -> pd.Series:
    """Ambiguous cells the column cannot decide: any in a column showing both conventions, and ``84.500``
    in a column showing none."""
    if verdict.decimal is not None:
        return pd.Series(False, index=classes.index)
    if verdict.n_comma and verdict.n_point:
        return classes.isin(("ambiguous_dot", "ambiguous_comma"))
    return classes == "ambiguous_dot"


def failure_messages(column: str, bad: pd.Series, values: pd.Series, declared: str | None, default: str) -> np.ndarray:
    """Rejection messages for the unreadable cells ``bad`` of a number column whose raw cells are ``values``.

    Cells rejected for the decimal convention get a message naming the column, both readings and the
    mapping option; the others get ``default``.
    """
    out = np.full(len(bad), default, dtype=object)
    present = values[values.notna()]
    if bad.empty or present.empty or not pd.api.types.is_object_dtype(present.dtype):
        return out
    classes = present.astype(str).map(classify)
    verdict = decide(classes, declared)
    option = (f"set decimal: ',' or '.' for {column} in the mapping (formats: {{{column}: {{decimal: ','}}}}, "
              "or decimal: at its top level)")
    for i, text in enumerate(bad.astype(str).str.strip()):
        kind = classify(text)
        if not kind.startswith("ambiguous"):
            continue
        readings = f"read with a decimal comma it is {_reading(text, ',')}, with a decimal point {_reading(text, '.')}"
        if verdict.mixed:
            out[i] = (f"{column}: {text!r} is ambiguous and this column shows both conventions ({verdict.n_comma} "
                      f"value(s) with a decimal comma, {verdict.n_point} with a decimal point), so neither can be "
                      f"assumed ({readings}); {option}")
        elif verdict.decimal is None and kind == "ambiguous_dot":
            out[i] = (f"{column}: {text!r} is ambiguous and no value of this column shows its decimal convention "
                      f"({readings}); {option}")
    return out


def _reading(text: str, decimal: str) -> str:
    """``text`` read under one convention, for messages (``?`` when it does not read)."""
    s = _core(text)
    thousands = "." if decimal == "," else ","
    try:
        return f"{float(s.replace(thousands, '').replace(decimal, '.')):.15g}"
    except ValueError:
        return "?"
