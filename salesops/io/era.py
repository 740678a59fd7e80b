"""Buddhist-era dates: read ``31/03/2568`` as 2025-03-31, propose the option when a column looks like it.

Thai systems and spreadsheets often write years in the Buddhist era (B.E.), 543 years ahead of the Common
Era: :math:`y_{CE} = y_{BE} - 543`. A mapping declares it for every column (``era: buddhist`` at the top)
or per column (``formats: {close_date: {era: buddhist}}``). The year is converted in the text *before*
the date is parsed, so the day and month are kept exactly: ``29/02/2567`` becomes ``29/02/2024``, a leap
day (2567 B.E. itself is not a leap year number, 2024 is).

In a Buddhist-era column a year must fall in 2400-2700 (1857-2157 CE); a value with any other four-digit
year mixes eras and is rejected with both readings. In a Common-Era column (the default) a value whose year
falls in 2400-2700 cannot be a date the kit holds; its rejection message proposes ``era: buddhist`` when the
whole column's years fall in that range, and gives both readings when the column mixes eras.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BUDDHIST_OFFSET", "BUDDHIST_YEARS", "ERAS", "check_era", "failure_messages", "to_common_era"]

#: Years between the Buddhist and the Common Era.
BUDDHIST_OFFSET = 543
#: Four-digit years read as Buddhist-era years (inclusive bounds).
BUDDHIST_YEARS = (2400, 2700)
#: The eras a mapping may name.
ERAS = ("common", "buddhist")

# The year of a date written as text: the first run of exactly four digits (31/03/2568, 2568-03-31,
# 31.03.2568 14:30), or the first four of eight digits (25680331).
_YEAR = re.compile(r"^(?P<pre>.*?)(?<!\d)(?P<year>\d{4})(?P<post>(?!\d).*|\d{4}(?!\d).*)$", re.DOTALL)


def check_era(value: Any, where: str) -> str:
    """The era named in a mapping (``None`` is ``common``); a ``ValueError`` naming ``where`` otherwise."""
    if value is None:
        return "common"
    era = str(value).strip().lower()
    if era not in ERAS:
        raise ValueError(f"{where}: unknown era {value!r}; expected one of: {', '.join(ERAS)}")
    return era


def _split(text: pd.Series) -> pd.DataFrame:
    parts = text.astype(str).str.extract(_YEAR)
    parts["year"] = pd.to_numeric(parts["year"], errors="coerce")
    return parts


def _is_buddhist(years: pd.Series) -> pd.Series:
    lo, hi = BUDDHIST_YEARS
    return years.between(lo, hi)


def to_common_era(text: pd.Series) -> pd.Series:
    """Rewrite Buddhist-era years as Common-Era years in date texts.

    .. math:: y \\mapsto y - 543 \\quad \\text{for } 2400 \\le y \\le 2700

    Parameters
    ----------
    text : Series of str
        Date texts of a column declared ``era: buddhist``.

    Returns
    -------
    Series
        The texts with the year replaced (``31/03/2568`` -> ``31/03/2025``); ``None`` where the text holds no
        four-digit year in that range, so that the value fails to parse and is rejected.
    """
    parts = _split(text)
    ok = _is_buddhist(parts["year"])
    out = pd.Series(None, index=text.index, dtype=object)
    if ok.any():
        year = (parts.loc[ok, "year"] - BUDDHIST_OFFSET).astype(int).astype(str).str.zfill(4)
        out.loc[ok] = parts.loc[ok, "pre"] + year + parts.loc[ok, "post"]
    return out


def failure_messages(column: str, bad: pd.Series, values: pd.Series, era: str, default: str) -> np.ndarray:
    """Rejection messages for the unreadable cells ``bad`` of a date column whose raw cells are ``values``.

    Cells whose trouble is the era get a message naming the column, the option and both readings; the
    others get ``default``.
    """
    out = np.full(len(bad), default, dtype=object)
    if bad.empty:
        return out
    bad_parts = _split(bad.astype(str).str.strip())
    present = values[values.notna()].astype(str).str.strip()
    years = _split(present)["year"].dropna()
    n_be = int(_is_buddhist(years).sum())
    n_ce = int((~_is_buddhist(years)).sum())
    for i, (text, (pre, year, post)) in enumerate(
        zip(bad.astype(str).str.strip(), bad_parts[["pre", "year", "post"]].itertuples(index=False), strict=True)
    ):
        if pd.isna(year):
            if era == "buddhist":
                out[i] = f"{default}, with a four-digit Buddhist-era year (era: buddhist), such as 31/03/2568"
            continue
        y = int(year)
        as_ce = f"{pre}{y - BUDDHIST_OFFSET:04d}{post}"
        if era == "buddhist" and not _is_buddhist(pd.Series([y])).iloc[0]:
            out[i] = (f"{column}: {text!r} mixes eras in a column declared era: buddhist ({n_be} value(s) with "
                      f"Buddhist-era years 2400-2700, {n_ce} other): read in the Buddhist era it is {as_ce!r} "
                      f"(year {y - BUDDHIST_OFFSET} CE), read in the Common Era it is {text!r} (year {y})")
        elif era == "buddhist":
            out[i] = f"{default}; read with Buddhist-era year {y} = {y - BUDDHIST_OFFSET} CE as {as_ce!r}"
        elif _is_buddhist(pd.Series([y])).iloc[0]:
            if n_ce == 0:
                out[i] = (f"{column}: {text!r} has the year {y}, a Buddhist-era year ({y} B.E. = "
                          f"{y - BUDDHIST_OFFSET} CE), as every year of this column: set era: buddhist for "
                          f"{column} in the mapping (formats: {{{column}: {{era: buddhist}}}}, or era: buddhist "
                          f"at its top level) to read it as {as_ce!r}")
            else:
                out[i] = (f"{column}: {text!r} mixes eras ({n_be} value(s) with years 2400-2700, {n_ce} in the "
                          f"Common Era): read in the Buddhist era it is {as_ce!r} (year {y - BUDDHIST_OFFSET} CE), "
                          f"read in the Common Era its year {y} is out of range; one column holds one era")
    return out
