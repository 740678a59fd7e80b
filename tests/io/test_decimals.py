"""The decimal convention of a number column is decided per column (``salesops.io.decimals``): a
semicolon export mixing ``49.400,00`` and ``84.500`` loads every amount right; an ambiguous ``84.500``
with no evidence, or in a column showing both conventions, is rejected with both readings, never guessed."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd
import pytest

import salesops
from salesops.io.coerce import ColumnFormat, coerce
from salesops.io.decimals import classify, decide, failure_messages

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("49.400,00", "comma"), ("12,5", "comma"), ("0,125", "comma"), ("1.234.567", "comma"), ("€ 1.234,5", "comma"),
        ("1,234.50", "point"), ("12.5", "point"), ("0.125", "point"), ("84500.0", "point"), ("1,234,567", "point"),
        ("84.500", "ambiguous_dot"), ("€ 1.234", "ambiguous_dot"), ("-1.200", "ambiguous_dot"),
        ("45,000", "ambiguous_comma"), ("$8,500", "ambiguous_comma"),
        ("84500", "plain"), ("1e3", "plain"), ("twelve", "plain"),
    ],
)
def test_each_cell_is_classified_by_what_it_shows(text, kind):
    assert classify(text) == kind


def _floats(values, fmt=None):
    out, failed = coerce(pd.Series(values, dtype=object), "float", fmt)
    return [None if pd.isna(v) else v for v in out], failed.tolist()


def test_ambiguous_cells_follow_the_column_not_a_per_value_guess():
    assert _floats(["49.400,00", "84.500", "1.200"]) == ([49400.0, 84500.0, 1200.0], [False] * 3)
    assert _floats(["1,234.50", "84.500"]) == ([1234.5, 84.5], [False, False])
    assert _floats(["45,000", "$8,500"]) == ([45000.0, 8500.0], [False, False])  # US thousands, no evidence needed


def test_ambiguity_the_column_cannot_decide_is_rejected():
    assert _floats(["84.500", "12"]) == ([None, 12.0], [True, False])
    assert _floats(["€ 1.234"]) == ([None], [True])
    mixed = ["1,234.50", "49.400,00", "84.500", "45,000"]
    assert _floats(mixed) == ([1234.5, 49400.0, None, None], [False, False, True, True])


def test_a_declared_convention_decides_ambiguous_cells():
    assert _floats(["84.500", "€ 1.234"], ColumnFormat(decimal=",")) == ([84500.0, 1234.0], [False, False])
    assert _floats(["84.500", "45,000"], ColumnFormat(decimal=".")) == ([84.5, 45000.0], [False, False])
    assert decide(pd.Series(["comma", "point"]), ",").decimal == ","


def test_messages_give_both_readings_and_the_option():
    (msg,) = failure_messages("amount", pd.Series(["84.500"]), pd.Series(["84.500", "12"]), None, "default")
    assert "'84.500' is ambiguous" in msg and "84500" in msg and "84.5" in msg and "decimal: ','" in msg
    (msg,) = failure_messages("amount", pd.Series(["84.500"]), pd.Series(["1,234.50", "49.400,00", "84.500"]), None, "d")
    assert "both conventions (1 value(s) with a decimal comma, 1 with a decimal point)" in msg
    assert failure_messages("amount", pd.Series(["abc"]), pd.Series(["abc"]), None, "default").tolist() == ["default"]


def _german(amount: float, with_cents: bool) -> str:
    whole = f"{amount:,.2f}" if with_cents else f"{round(amount):,}"
    return whole.replace(",", "X").replace(".", ",").replace("X", ".")


def test_a_semicolon_export_mixing_49_400_00_and_84_500_loads_every_amount(tmp_path, sample):
    """The issue's case: half the amounts written with cents, half without (``84.500``); nothing misread."""
    target = tmp_path / "crm"
    shutil.copytree(SAMPLE, target)
    with gzip.open(SAMPLE / "opportunities.csv.gz", "rt", encoding="utf-8") as handle:
        opportunities = pd.read_csv(handle, dtype=str, keep_default_na=False)
    (target / "opportunities.csv.gz").unlink()
    amounts = pd.to_numeric(opportunities["amount"].replace("", None))
    german = [("" if pd.isna(a) else _german(a, i % 2 == 0)) for i, a in enumerate(amounts)]
    assert sum(bool(pd.Series([g]).str.fullmatch(r"[1-9]\d{0,2}\.\d{3}").iloc[0]) for g in german) > 100
    opportunities.assign(amount=german).to_csv(target / "opportunities.csv", sep=";", index=False)
    data = salesops.load(target)
    loaded = data.opportunities.set_index("opportunity_id")["amount"]
    expected = amounts.set_axis(opportunities["opportunity_id"]).round(2)
    counts = data.quality.table_counts().set_index("table").loc["opportunities"]
    before = sample.quality.table_counts().set_index("table").loc["opportunities"]
    assert (counts["read"], counts["rejected"]) == (before["read"], before["rejected"])
    pd.testing.assert_series_equal(loaded.reindex(expected.index).round(2), expected, check_names=False)
