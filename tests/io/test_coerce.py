"""Unit tests of ``salesops.io.coerce``: every kind from text (CSV) and from typed columns (Parquet,
Excel, databases); what cannot be read is flagged, never silently turned into a value."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from salesops.io.coerce import ColumnFormat, coerce, null_mask


def _coerce(values, kind, fmt=None, dtype=object):
    return coerce(pd.Series(values, dtype=dtype), kind, fmt)


def _dates(values, kind="date", fmt=None, dtype=object) -> tuple[list, list]:
    out, failed = _coerce(values, kind, fmt, dtype)
    shown = [None if pd.isna(v) else (v.isoformat() if kind == "timestamp" else v.strftime("%Y-%m-%d")) for v in out]
    return shown, failed.tolist()


# --------------------------------------------------------------------------- dates and timestamps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-31", "2024-03-31"),  # ISO
        ("2024-03-31T23:30:00Z", "2024-03-31"),
        ("2024-01-05T23:30:00.000+0000", "2024-01-05"),  # Salesforce
        ("3/31/2024", "2024-03-31"),  # M/D/YYYY
        ("03/31/2024 14:05", "2024-03-31"),
        ("20240331", "2024-03-31"),  # YYYYMMDD
        ("31.03.2024", "2024-03-31"),  # day-first with dots
        ("1711904400000", "2024-03-31"),  # epoch milliseconds (HubSpot)
        ("1711904400", "2024-03-31"),  # epoch seconds
    ],
)
def test_date_formats(text, expected):
    assert _dates([text]) == ([expected], [False])


def test_date_column_is_a_date_at_midnight():
    out, failed = _coerce(["2024-03-31T18:00:00Z", None], "date")
    assert str(out.dtype) == "datetime64[ns]"
    assert out.iloc[0] == pd.Timestamp("2024-03-31")
    assert failed.tolist() == [False, False]


def test_month_first_wins_a_tie_and_day_first_needs_evidence():
    assert _dates(["3/4/2024"]) == (["2024-03-04"], [False])
    # one day above 12 makes the whole column day-first
    assert _dates(["03/04/2024", "13/04/2024"]) == (["2024-04-03", "2024-04-13"], [False, False])
    # ... and one month above 12 keeps it month-first
    assert _dates(["03/04/2024", "04/13/2024"]) == (["2024-03-04", "2024-04-13"], [False, False])


def test_a_column_is_not_read_two_ways():
    """M/D and D/M exclude each other: the value that only fits the other convention is flagged."""
    shown, failed = _dates(["13/04/2024", "04/13/2024"])
    assert shown == [None, "2024-04-13"]
    assert failed == [True, False]


@pytest.mark.parametrize(("hint", "expected"), [("dayfirst", "2024-04-03"), ("monthfirst", "2024-03-04"), ("%d/%m/%Y", "2024-04-03")])
def test_date_format_hint(hint, expected):
    assert _dates(["3/4/2024"], fmt=ColumnFormat(date_format=hint)) == ([expected], [False])


def test_iso_and_yyyymmdd_and_epoch_mix_in_one_column():
    assert _dates(["2024-03-31", "20240401", "1712016000000"]) == (
        ["2024-03-31", "2024-04-01", "2024-04-02"],
        [False, False, False],
    )


def test_timestamps_are_utc():
    shown, failed = _dates(
        ["2024-01-10T09:00:00.000+0000", "2024-01-10T10:00:00+01:00", "2024-01-10 09:00", "1704877200000"], "timestamp"
    )
    assert shown == ["2024-01-10T09:00:00+00:00"] * 4
    assert failed == [False] * 4
    out, _ = _coerce(["2024-01-10 09:00"], "timestamp")
    assert str(out.dtype) == "datetime64[ns, UTC]"


def test_naive_timestamps_in_the_mapping_time_zone():
    berlin = ColumnFormat(timezone="Europe/Berlin")
    shown, failed = _dates(["2024-01-10 09:00", "2024-07-10 09:00", "2024-01-10T09:00:00Z"], "timestamp", berlin)
    assert shown == ["2024-01-10T08:00:00+00:00", "2024-07-10T07:00:00+00:00", "2024-01-10T09:00:00+00:00"]
    # a local time that does not exist (the spring-forward gap) is flagged
    assert _dates(["2024-03-31 02:30"], "timestamp", berlin) == ([None], [True])


@pytest.mark.parametrize("text", ["next tuesday", "2024-13-45", "31/31/2024", "2024/99", "yesterday"])
def test_unreadable_dates_are_flagged(text):
    assert _dates([text]) == ([None], [True])


def test_typed_datetime_columns():
    """Parquet, Excel and databases hand over typed values, in other units than nanoseconds too."""
    micro = pd.Series(pd.to_datetime(["2024-03-31 10:00", None])).astype("datetime64[us]")
    out, failed = coerce(micro, "timestamp")
    assert str(out.dtype) == "datetime64[ns, UTC]" and out.iloc[0] == pd.Timestamp("2024-03-31T10:00Z")
    assert failed.tolist() == [False, False]
    aware = pd.Series(pd.to_datetime(["2024-03-31 12:00"]).tz_localize("Europe/Berlin"))
    assert coerce(aware, "timestamp")[0].iloc[0] == pd.Timestamp("2024-03-31T10:00Z")
    assert _dates([date(2024, 3, 31), datetime(2024, 4, 1, 9, 30)]) == (["2024-03-31", "2024-04-01"], [False, False])
    assert _dates([20240331, 19970101], dtype="int64") == (["2024-03-31", "1997-01-01"], [False, False])


def test_out_of_range_database_date_is_flagged_not_overflowing():
    never = pd.Series(np.array(["4000-12-31", "2024-01-01"], dtype="datetime64[s]"))
    out, failed = coerce(never, "date")
    assert pd.isna(out.iloc[0]) and out.iloc[1] == pd.Timestamp("2024-01-01")
    assert failed.tolist() == [True, False]
    assert _dates(["4000-12-31"]) == ([None], [True])


# --------------------------------------------------------------------------- booleans


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("TRUE", True), ("t", True), ("Yes", True), ("y", True), ("1", True), ("1.0", True),
     ("false", False), ("False", False), ("f", False), ("no", False), ("N", False), ("0", False), (" 0.0 ", False)],
)
def test_booleans(text, expected):
    out, failed = _coerce([text], "bool")
    assert out.iloc[0] == expected and not failed.iloc[0]
    assert str(out.dtype) == "boolean"


@pytest.mark.parametrize("text", ["perhaps", "2", "-1", "ja", "x"])
def test_bad_booleans_are_flagged(text):
    out, failed = _coerce([text], "bool")
    assert pd.isna(out.iloc[0]) and failed.iloc[0]


def test_typed_booleans():
    assert _coerce([True, False, None], "bool")[0].tolist() == [True, False, pd.NA]
    out, failed = coerce(pd.Series([1, 0, 2, None], dtype="Int64"), "bool")
    assert out.tolist()[:2] == [True, False] and failed.tolist() == [False, False, True, False]


# --------------------------------------------------------------------------- money and numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1200.50", 1200.5),
        ("$1,200.50", 1200.5),
        ("1.200,50 €", 1200.5),
        ("€ 1.200,50", 1200.5),
        ("EUR 2 500,00", 2500.0),
        ("USD 1,000", 1000.0),
        ("£3,000,000", 3_000_000.0),
        ("1'234.50", 1234.5),  # Swiss
        ("1\u00a0234,5", 1234.5),  # no-break space as thousands separator
        ("(300.00)", -300.0),  # accounting negative
        ("500-", -500.0),  # trailing minus (SAP)
        ("-1 200,5", -1200.5),
        ("1,234,567", 1_234_567.0),
        ("1.234.567", 1_234_567.0),
        ("12,5", 12.5),  # a lone comma that is not a thousands group is a decimal comma
        ("1,234", 1234.0),  # ... and one that is, is a thousands separator
        ("1.234,5", 1234.5),
        ("1e3", 1000.0),
        ("0", 0.0),
    ],
)
def test_money_strings(text, expected):
    out, failed = _coerce([text], "float")
    assert out.iloc[0] == pytest.approx(expected) and not failed.iloc[0]


def test_decimal_comma_hint():
    out, failed = _coerce(["1.234", "1,5", "1.234.567,89"], "float", ColumnFormat(decimal=","))
    assert out.tolist() == [1234.0, 1.5, pytest.approx(1234567.89)]
    assert not failed.any()


@pytest.mark.parametrize("text", ["twelve hundred", "12..5", "1,2,3.4.5", "inf", "-Infinity", "NaN%", "$"])
def test_unreadable_numbers_are_flagged(text):
    out, failed = _coerce([text], "float")
    assert pd.isna(out.iloc[0]) and failed.iloc[0]


def test_typed_numbers():
    out, failed = coerce(pd.Series([1, 2, None], dtype="Int64"), "float")
    assert out.tolist()[:2] == [1.0, 2.0] and not failed.any()
    out, failed = coerce(pd.Series([np.inf, 1.0]), "float")
    assert pd.isna(out.iloc[0]) and failed.tolist() == [True, False]


def test_whole_numbers():
    out, failed = _coerce(["3", "3.0", "1,200", "2.5", "x"], "int")
    assert str(out.dtype) == "Int64"
    assert out.tolist()[:3] == [3, 3, 1200]
    assert failed.tolist() == [False, False, False, True, True]


# --------------------------------------------------------------------------- identifiers and text


def test_ids_keep_leading_zeros():
    out, failed = _coerce(["00001", "007", " 0042 ", "A-01"], "id")
    assert out.tolist() == ["00001", "007", "0042", "A-01"] and not failed.any()


def test_float_ids_lose_their_point_zero():
    """A float id column (pandas reads CustomerID with gaps as 17850.0) becomes "17850"."""
    out, failed = coerce(pd.Series([17850.0, np.nan, 12.5]), "id")
    assert out.tolist()[0] == "17850" and pd.isna(out.iloc[1]) and out.iloc[2] == "12.5"
    assert not failed.any()
    out, _ = coerce(pd.Series([42, 7], dtype="int64"), "id")
    assert out.tolist() == ["42", "7"]
    out, _ = coerce(pd.Series([42, None], dtype="Int64"), "id")
    assert out.iloc[0] == "42" and pd.isna(out.iloc[1])
    # Excel hands whole-number cells over as floats inside a text column
    out, _ = _coerce(["00017", 18.0, "A1"], "id")
    assert out.tolist() == ["00017", "18", "A1"]


def test_text_is_stripped():
    out, failed = _coerce(["  Acme  ", 5.0, None], "str")
    assert out.tolist()[:2] == ["Acme", "5"] and pd.isna(out.iloc[2]) and not failed.any()


@pytest.mark.parametrize("token", ["", "  ", "NULL", "null", "None", "nan", "NaT", "N/A", "#N/A", "na"])
def test_null_tokens_are_missing_not_failed(token):
    assert null_mask(pd.Series([token], dtype=object)).iloc[0]
    for kind in ("id", "str", "date", "timestamp", "float", "int", "bool"):
        out, failed = _coerce([token], kind)
        assert pd.isna(out.iloc[0]) and not failed.iloc[0], kind


def test_underscore_grouping_and_typed_booleans_are_not_amounts():
    out, failed = coerce(pd.Series(["1_000", "1,000", "1000"], dtype=object), "float")
    assert failed.tolist() == [True, False, False] and out.tolist()[1:] == [1000.0, 1000.0]
    out, failed = coerce(pd.Series([True, False, True]), "float")
    assert failed.all() and out.isna().all()  # a Parquet bool column in an amount is never 1.0
    out, failed = coerce(pd.Series([1.5, True], dtype=object), "float")
    assert failed.all()
