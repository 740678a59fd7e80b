"""Locale-aware formatting of the numbers, money, percentages and dates that pages show, through Babel.

One function, :func:`format_value`, is what report pages call to put a value in a sentence or a table: the
reader's locale decides the digits, grouping, currency symbol, month names and calendar era, and the data's
currency (never assumed) decides the symbol::

    >>> format_value(9_360_000, "currency", locale="en_US", currency="USD")
    '$9.36M'
    >>> format_value(1_234_567.5, "money", locale="th_TH", currency="THB")
    '฿1,234,567.50'
    >>> format_value("2025-03-31", "date", locale="th_TH", era="buddhist", width="long")
    '31 มีนาคม พ.ศ. 2568'

Units (``unit``):

* ``currency`` — compact money for sentences: in English the house style ``$9.36M``, ``$12.3k``, ``$950``
  (exactly what the executive narrative writes today); in other languages the symbol and Babel's long
  compact form (``฿9.36 ล้าน``).
* ``money`` — full money with the currency's decimals and the locale's grouping (``฿1,234,567.50``).
* ``share`` — a fraction as a percentage, ``digits`` decimals (default 1): ``0.229`` -> ``22.9%``.
* ``number`` — a decimal with ``digits`` decimals (default 1); ``count`` / ``deals`` — a whole number with
  grouping; ``ratio`` — ``2.10x``; ``days`` — a duration in days in the locale's words (``36 days``,
  ``36 วัน``).
* ``date`` — a calendar date in the locale's month names; ``width`` is Babel's ``short``, ``medium``
  (default), ``long`` or ``full``; ``era="buddhist"`` writes the year in the Buddhist era,
  :math:`y_{BE} = y_{CE} + 543`, with the era's name where the pattern shows one (``พ.ศ.``).

Missing or non-finite values are ``n/a``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pandas as pd
from babel import Locale, dates, numbers, units

__all__ = ["BUDDHIST_OFFSET", "UNITS", "format_value"]

#: Years between the Buddhist and the Common Era.
BUDDHIST_OFFSET = 543
#: The units :func:`format_value` knows.
UNITS = ("currency", "money", "share", "number", "count", "deals", "ratio", "days", "date")

_BUDDHIST_ERA_NAME = {"th": "พ.ศ."}
_PATTERN_TOKEN = re.compile(r"'(?:[^']|'')*'|G+|y+|[^'Gy]+")


def format_value(
    value: Any,
    unit: str,
    *,
    locale: str = "en_US",
    currency: str | None = None,
    digits: int | None = None,
    era: str = "common",
    width: str = "medium",
) -> str:
    """A value as text for a reader of ``locale``.

    Parameters
    ----------
    value : number, date-like or None
        The value; ``None``, NaN and infinities give ``n/a``.
    unit : str
        One of :data:`UNITS` (see the module docstring).
    locale : str
        A CLDR locale (``en_US``, ``th_TH``, ``th``).
    currency : str, optional
        ISO 4217 code of the data's money (``THB``, ``USD``); required for ``currency`` and ``money``.
    digits : int, optional
        Decimals for ``share``, ``number`` and ``money``.
    era : str
        ``common`` or ``buddhist``, for ``date``.
    width : str
        Babel date width for ``date``.

    Raises
    ------
    ValueError
        An unknown unit, locale or era, or money without a currency.
    """
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; expected one of: {', '.join(UNITS)}")
    if era not in ("common", "buddhist"):
        raise ValueError(f"unknown era {era!r}; expected common or buddhist")
    loc = Locale.parse(locale.replace("-", "_"))
    if unit == "date":
        return _date(value, loc, era, width)
    if value is None or pd.isna(value) or not math.isfinite(float(value)):
        return "n/a"
    v = float(value)
    if unit in ("currency", "money"):
        if not currency:
            raise ValueError(f"unit {unit!r} needs the data's currency (an ISO code such as THB or USD)")
        code = str(currency).upper()
        if unit == "money":
            return numbers.format_currency(v, code, locale=loc, **_fraction(digits))
        return _compact_money(v, code, loc)
    if unit == "share":
        return _with_digits(loc.percent_formats[None], 1 if digits is None else digits).apply(v, loc)
    if unit == "number":
        return _with_digits(loc.decimal_formats[None], 1 if digits is None else digits).apply(v, loc)
    if unit in ("count", "deals"):
        return numbers.format_decimal(round(v), "#,##0", locale=loc)
    if unit == "ratio":
        return numbers.format_decimal(v, "#,##0.00", locale=loc) + "x"
    return units.format_unit(round(v), "duration-day", length="long", locale=loc)  # days


def _with_digits(pattern: numbers.NumberPattern, digits: int) -> numbers.NumberPattern:
    """The locale's own pattern (grouping, sign, spacing) with exactly ``digits`` decimals."""
    out = numbers.parse_pattern(pattern.pattern)
    out.frac_prec = (digits, digits)
    return out


def _fraction(digits: int | None) -> dict[str, Any]:
    if digits is None:
        return {}
    return {"format": "¤#,##0" + ("." + "0" * digits if digits else ""), "currency_digits": False}


def _compact_money(v: float, code: str, loc: Locale) -> str:
    symbol = numbers.get_currency_symbol(code, locale=loc)
    sign = "-" if v < 0 else ""
    a = abs(v)
    if loc.language == "en":  # the house style of the English pages: $9.36M, $12.3k, $950
        prefix = "$" if code == "USD" else symbol if symbol != code else f"{code} "
        if a >= 1e6:
            return f"{sign}{prefix}{a / 1e6:.2f}M"
        if a >= 1e3:
            return f"{sign}{prefix}{a / 1e3:.1f}k"
        return f"{sign}{prefix}{a:.0f}"
    digits = 2 if a >= 1e6 else 1 if a >= 1e3 else 0
    body = numbers.format_compact_decimal(a, format_type="long", locale=loc, fraction_digits=digits)
    pattern = loc.currency_formats["standard"].pattern
    return f"{sign}{symbol}{body}" if pattern.lstrip("-").startswith("¤") else f"{sign}{body}\u00a0{symbol}"


def _date(value: Any, loc: Locale, era: str, width: str) -> str:
    if value is None or (not isinstance(value, dt.date) and pd.isna(value)):
        return "n/a"
    day = pd.Timestamp(value).date()
    if era == "common":
        return dates.format_date(day, width, locale=loc)
    pattern = str(dates.get_date_format(width, locale=loc).pattern)
    be_year = str(day.year + BUDDHIST_OFFSET)
    era_name = _BUDDHIST_ERA_NAME.get(loc.language, "BE")
    parts = []
    for token in _PATTERN_TOKEN.findall(pattern):
        if token.startswith("G"):
            parts.append(f"'{era_name}'")
        elif token.startswith("y"):
            parts.append(f"'{be_year}'")
        else:
            parts.append(token)
    return dates.format_date(day, "".join(parts), locale=loc)
