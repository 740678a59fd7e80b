"""Type coercion of raw export columns into the canonical kinds.

Each coercer takes a raw column (strings from CSV, or already-typed values from Parquet, Excel or a
database) and returns ``(values, failed)``: the coerced column and a boolean mask of the cells that held
something but could not be read as the expected kind. Nothing is dropped here; the validator turns the
``failed`` cells into rejected rows with their offending value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesops.io import decimals
from salesops.io.era import to_common_era
from salesops.schema.tables import Kind

NULL_TOKENS = frozenset({"", "null", "none", "nan", "nat", "n/a", "#n/a", "na"})

TRUE_TOKENS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_TOKENS = frozenset({"false", "f", "no", "n", "0", "0.0"})

#: Date formats tried, in order of preference, when a column's format is not given. Month-first wins a tie
#: with day-first (US CRM exports); a column where some day exceeds 12 picks day-first by itself.
DATE_FORMATS: dict[str, tuple[str, ...]] = {
    "iso": ("ISO8601",),
    "yyyymmdd": ("%Y%m%d",),
    "mdy": ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p", "%m/%d/%y",
            "%m-%d-%Y", "%m-%d-%Y %H:%M", "%m-%d-%Y %H:%M:%S"),
    "dmy": ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d-%m-%Y",
            "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S"),
    # Unix epoch, as HubSpot's APIs and many JSON exports give it: 13 digits are milliseconds, 10 seconds.
    "epoch": ("epoch_ms", "epoch_s"),
}

_EPOCH = {"epoch_ms": (re.compile(r"^\d{13}$"), "ms"), "epoch_s": (re.compile(r"^\d{10}(?:\.\d+)?$"), "s")}

EXPECTED: dict[str, str] = {
    "id": "an identifier",
    "str": "text",
    "date": "a date (ISO 2024-03-31, M/D/YYYY, YYYYMMDD, day-first D.M.YYYY / D/M/YYYY or epoch milliseconds)",
    "timestamp": "a date-time (ISO 8601, M/D/YYYY h:mm, YYYYMMDD, day-first or epoch milliseconds)",
    "float": "a number (money such as $1,200.50 or 1.200,50 € is fine)",
    "int": "a whole number",
    "bool": "a boolean (true/false, 1/0, yes/no)",
}


@dataclass(frozen=True)
class ColumnFormat:
    """Hints from a mapping file for one column.

    Parameters
    ----------
    date_format : str, optional
        ``"dayfirst"``, ``"monthfirst"``, ``"iso"``, ``"yyyymmdd"``, ``"epoch_ms"``, ``"epoch_s"`` or an
        explicit strftime pattern.
    decimal : str, optional
        ``","`` when numbers use a decimal comma (``1.200,50``), ``"."`` for a decimal point; default:
        decided once for the column from its values (:mod:`salesops.io.decimals`).
    timezone : str
        Time zone of naive timestamps (default UTC).
    era : str
        ``"common"`` (default) or ``"buddhist"``: years of text dates are Buddhist-era years
        (:mod:`salesops.io.era`).
    """

    date_format: str | None = None
    decimal: str | None = None
    timezone: str = "UTC"
    era: str = "common"


def _is_all_text(values: pd.Series) -> bool:
    return values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def _trimmed(values: pd.Series) -> pa.Array:
    return pc.utf8_trim_whitespace(pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True))


def null_mask(raw: pd.Series) -> pd.Series:
    """True where a raw cell is empty: NA, or a string that is blank or a null token (``NULL``, ``N/A``...)."""
    if _is_all_text(raw):
        lowered = pc.utf8_lower(_trimmed(raw))
        empty = pc.or_kleene(pc.is_null(lowered), pc.is_in(lowered, value_set=pa.array(sorted(NULL_TOKENS))))
        return pd.Series(empty.to_numpy(zero_copy_only=False), index=raw.index)
    mask = raw.isna()
    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        as_str = raw[~mask].astype(str).str.strip().str.lower()
        mask.loc[as_str.index] = as_str.isin(NULL_TOKENS).to_numpy()
    return mask


def coerce(raw: pd.Series, kind: Kind, fmt: ColumnFormat | None = None) -> tuple[pd.Series, pd.Series]:
    """Coerce a raw column to ``kind``; return the values and the mask of unreadable non-empty cells.

    A text column with many repeated values (rep ids, types, dates) is coerced once per distinct value.
    """
    fmt = fmt or ColumnFormat()
    if raw.dtype == object and len(raw) > 10_000:
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        if len(uniques) < len(raw) // 2:
            out_u, failed_u = _coerce(pd.Series(uniques, dtype=object), kind, fmt)
            taken = out_u.take(np.where(codes < 0, 0, codes)) if len(out_u) else out_u.reindex(range(len(raw)))
            out = pd.Series(taken.to_numpy(), index=raw.index, dtype=out_u.dtype)
            out[codes < 0] = None if out.dtype == object else pd.NA if out.dtype.name in ("boolean", "Int64") else np.nan
            failed = pd.Series(np.where(codes < 0, False, failed_u.to_numpy()[np.where(codes < 0, 0, codes)])
                               if len(failed_u) else np.zeros(len(raw), dtype=bool), index=raw.index)
            return out, failed
    return _coerce(raw, kind, fmt)


def _coerce(raw: pd.Series, kind: Kind, fmt: ColumnFormat) -> tuple[pd.Series, pd.Series]:
    empty = null_mask(raw)
    values = raw.where(~empty)
    if kind == "id":
        out = _to_id(values)
    elif kind == "str":
        out = _to_str(values)
    elif kind in ("date", "timestamp"):
        out = _to_datetime(values, kind, fmt)
    elif kind == "float":
        out = _to_float(values, fmt)
    elif kind == "int":
        out = _to_float(values, fmt)
        fractional = out.notna() & (out != np.floor(out.fillna(0)))
        out = out.where(~fractional).round().astype("Int64")
    elif kind == "bool":
        out = _to_bool(values)
    else:  # pragma: no cover - guarded by the Kind literal
        raise ValueError(f"unknown column kind {kind!r}")
    failed = out.isna() & ~empty
    return out, failed


def _to_str(values: pd.Series) -> pd.Series:
    if _is_all_text(values):
        return pd.Series(_trimmed(values).to_numpy(zero_copy_only=False), index=values.index, dtype=object)
    out = values.astype(object)
    present = out.notna()
    is_text = out.map(lambda v: isinstance(v, str))
    out.loc[is_text] = out.loc[is_text].str.strip()
    other = present & ~is_text
    if other.any():
        out.loc[other] = out.loc[other].map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else v)
        out.loc[other] = out.loc[other].astype(str)
    return out


def _to_id(values: pd.Series) -> pd.Series:
    """Identifiers are strings; a float column of whole numbers (``17850.0``) loses its ``.0``."""
    if pd.api.types.is_float_dtype(values.dtype):
        whole = values.notna() & (values == np.floor(values.fillna(0)))
        out = values.astype(object)
        out.loc[whole] = values.loc[whole].astype("int64").astype(str)
        out.loc[values.notna() & ~whole] = values.loc[values.notna() & ~whole].astype(str)
        return out.where(values.notna(), None)
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.astype(object).where(values.notna(), None).map(lambda v: None if v is None else str(v))
    out = _to_str(values)
    if _is_all_text(values):
        return out
    floats = out.map(lambda v: isinstance(v, float) and v.is_integer())
    if floats.any():  # Excel hands whole-number cells over as floats
        out.loc[floats] = out.loc[floats].map(lambda v: str(int(v)))
    return out


def _to_bool(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    text = values.astype(object).where(values.isna(), values.astype(str).str.strip().str.lower())
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(TRUE_TOKENS)] = True
    out[text.isin(FALSE_TOKENS)] = False
    return out


_CURRENCY = re.compile(r"[€$£¥₹฿]|\b(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|INR|THB)\b|[\s\u00a0\u202f']", re.IGNORECASE)
_THOUSANDS_COMMA = re.compile(r"^[-+]?\d{1,3}(,\d{3})+$")
_THOUSANDS_DOT_MANY = re.compile(r"^[-+]?\d{1,3}(\.\d{3}){2,}$")
_THOUSANDS_DOT = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+$")


def _to_float(values: pd.Series, fmt: ColumnFormat) -> pd.Series:
    """Numbers as floats; infinities are not amounts and come out missing (so reported as unreadable)."""
    out = _read_float(values, fmt)
    return out.where(np.isfinite(out.to_numpy(dtype=float, na_value=np.nan)))


def _read_float(values: pd.Series, fmt: ColumnFormat) -> pd.Series:
    """Numbers from typed columns as they are; text through ``pd.to_numeric``, else as money strings."""
    if pd.api.types.is_bool_dtype(values.dtype) or (
        values.dtype == object and values.map(lambda v: isinstance(v, bool | np.bool_)).any()
    ):
        # a typed source with booleans where a number belongs: every cell is unreadable, never 1.0 / 0.0
        return pd.Series(np.nan, index=values.index, dtype=float)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype(float)
    present = values.notna()
    out = pd.Series(np.nan, index=values.index, dtype=float)
    if not present.any():
        return out
    text = values[present].astype(str).str.strip()
    classes = text.map(decimals.classify)
    verdict = decimals.decide(classes, fmt.decimal)  # one convention per column, never a guess per value
    per_cell = decimals.cell_decimals(classes, verdict)
    # plain numbers and self-evident decimal points read alike under both conventions: the fast reader
    easy = classes.isin(("plain", "point")) | ((classes == "ambiguous_dot") & (per_cell == "."))
    fast = pd.to_numeric(text.where(easy), errors="coerce")
    out.loc[text.index] = fast.astype(float)
    slow = fast.isna()
    if slow.any():
        out.loc[text.index[slow.to_numpy()]] = [
            _parse_money(v, d) for v, d in zip(text[slow], per_cell[slow], strict=True)]
    out.loc[text.index[decimals.rejected(classes, verdict).to_numpy()]] = np.nan
    return out


def _parse_money(text: str, decimal: str | None) -> float:
    """Read one money string: ``$1,200.50``, ``1.200,50 €``, ``(300.00)``, ``-1 200,5``.

    The decimal separator is the last of ``,`` and ``.`` when both appear; a lone ``,`` is a thousands
    separator only in the ``1,234,567`` shape (unless the mapping says ``decimal: ","``).
    """
    if "_" in text:  # Python would read 1_000 as 1000; no export writes numbers that way
        return np.nan
    s = _CURRENCY.sub("", text)
    negative = s.startswith("(") and s.endswith(")")
    if negative:
        s = s[1:-1]
    if s.endswith("-") and s[:-1].replace(",", "").replace(".", "").isdigit():
        negative, s = True, s[:-1]
    has_comma, has_dot = "," in s, "." in s
    if has_comma and has_dot:
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif has_comma:
        if decimal != "," and _THOUSANDS_COMMA.match(s):
            s = s.replace(",", "")
        else:
            s = s.replace(",", ".")
    elif has_dot:
        if _THOUSANDS_DOT_MANY.match(s) or (decimal == "," and _THOUSANDS_DOT.match(s)):
            s = s.replace(".", "")
    try:
        number = float(s)
    except ValueError:
        return np.nan
    if not np.isfinite(number):
        return np.nan
    return -number if negative else number


def _as_nanoseconds(values: pd.Series) -> pd.Series:
    """Datetimes in nanoseconds, the canonical unit; databases and Parquet hand over micro- or seconds.

    A value outside the nanosecond range (years before 1677 or after 2262, such as a ``4000-12-31``
    "never" date) becomes missing, and so is reported as unreadable rather than overflowing.
    """
    tz = getattr(values.dtype, "tz", None)
    target = pd.DatetimeTZDtype("ns", tz) if tz is not None else np.dtype("datetime64[ns]")
    if values.dtype == target:
        return values
    naive = values.dt.tz_localize(None) if tz is not None else values
    within = naive.isna() | ((naive >= pd.Timestamp.min) & (naive <= pd.Timestamp.max))
    return values.where(within).astype(target)


def _to_datetime(values: pd.Series, kind: Kind, fmt: ColumnFormat) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        values = _as_nanoseconds(values)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        parsed = values.dt.tz_localize(fmt.timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    else:
        parsed = _parse_datetime_text(values, fmt)
    if kind == "date":
        return parsed.dt.tz_convert(None).dt.normalize() if parsed.dt.tz is not None else parsed.dt.normalize()
    return parsed


def _parse_datetime_text(values: pd.Series, fmt: ColumnFormat) -> pd.Series:
    present = values.notna()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if not present.any():
        return out
    raw = values[present]
    if pd.api.types.is_numeric_dtype(raw.dtype):  # YYYYMMDD or epoch stored as numbers
        whole = raw == np.floor(raw)
        raw = raw.astype("int64").astype(str) if whole.all() else raw.astype(str)
    else:
        raw = raw.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)).str.strip()
    if fmt.era == "buddhist":
        raw = to_common_era(raw).dropna()
    for fmt_list in _format_candidates(raw, fmt):
        todo = out.loc[raw.index].isna()
        if not todo.any():
            break
        chunk = raw[todo.to_numpy()]
        for f in fmt_list:
            parsed = _parse_with(chunk, f, fmt.timezone)
            hit = parsed.notna()
            if hit.any():
                out.loc[chunk.index[hit.to_numpy()]] = parsed[hit]
                chunk = chunk[~hit.to_numpy()]
            if chunk.empty:
                break
    return out


# A UTC offset written after a time of day: ...T10:00:00Z, ...10:00+01:00, ...10:00:00.000+0000.
_HAS_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)


def _parse_with(text: pd.Series, f: str, timezone: str) -> pd.Series:
    """Parse with one format; naive values are read in ``timezone``, values with an offset keep it.

    ``epoch_ms`` / ``epoch_s`` read Unix time (always UTC) from 13-digit / 10-digit numbers. Values
    with and without an offset are parsed apart: pandas 2.x reads a naive value that follows one with
    an offset in that offset (``["10:00+01:00", "09:00"]`` gave 08:00 UTC for the second).
    """
    if f in _EPOCH:
        pattern, unit = _EPOCH[f]
        numbers = pd.to_numeric(text.where(text.str.match(pattern, na=False)), errors="coerce")
        return pd.to_datetime(numbers, unit=unit, utc=True, errors="coerce")
    with_offset = text.str.contains(_HAS_OFFSET, na=False)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if with_offset.any():
        parsed.loc[with_offset] = pd.to_datetime(text[with_offset], format=f, errors="coerce", utc=True)
    naive = ~with_offset
    if naive.any():
        try:
            local = pd.to_datetime(text[naive], format=f, errors="coerce")
        except ValueError:  # offsets in a spelling the pattern above does not know: read them as such
            local = pd.to_datetime(text[naive], format=f, errors="coerce", utc=True)
        if isinstance(local.dtype, pd.DatetimeTZDtype):  # a format with %z that matched after all
            local = local.dt.tz_convert("UTC")
        else:
            local = local.astype("datetime64[ns]").dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        parsed.loc[naive] = local.dt.tz_convert("UTC")
    return parsed


def _format_candidates(raw: pd.Series, fmt: ColumnFormat) -> list[tuple[str, ...]]:
    """Order the format families for a column: an explicit hint first, else by how many sample values parse."""
    hint = (fmt.date_format or "").lower()
    if hint in ("dayfirst", "dmy"):
        return [DATE_FORMATS["dmy"], DATE_FORMATS["iso"], DATE_FORMATS["yyyymmdd"]]
    if hint in ("monthfirst", "mdy"):
        return [DATE_FORMATS["mdy"], DATE_FORMATS["iso"], DATE_FORMATS["yyyymmdd"]]
    if hint in DATE_FORMATS:
        return [DATE_FORMATS[hint]]
    if hint in _EPOCH:
        return [(hint,)]
    if fmt.date_format:
        return [(fmt.date_format,)]
    sample = raw.drop_duplicates()
    if len(sample) > 500:
        sample = sample.sample(500, random_state=0)
    scores = []
    for rank, (name, formats) in enumerate(DATE_FORMATS.items()):
        ok = pd.Series(False, index=sample.index)
        for f in formats:
            ok |= _parse_with(sample, f, "UTC").notna()
        scores.append((-int(ok.sum()), rank, name))
    # ISO and YYYYMMDD never clash with each other; M/D vs D/M is decided by which reads more values.
    # M/D and D/M exclude each other: a column is read one way, and values that only parse the other way
    # are rejected rather than silently mixing two conventions.
    ordered: list[tuple[str, ...]] = []
    slash_family_taken = False
    for score, _, name in sorted(scores):
        if score == 0:
            continue
        if name in ("mdy", "dmy"):
            if slash_family_taken:
                continue
            slash_family_taken = True
        ordered.append(DATE_FORMATS[name])
    return ordered or [DATE_FORMATS["iso"]]
