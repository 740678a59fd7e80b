"""Buddhist-era dates in inputs: era: buddhist converts exactly; detection proposes it; mixed eras rejected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import salesops
from salesops.io import LoadError
from salesops.io.era import BUDDHIST_OFFSET, to_common_era

AS_OF = "2025-12-31"
COLUMNS = {"rep_id": "Id", "name": "Name", "role": "Role", "hire_date": "Hired"}


def _load(tmp_path: Path, hired: list[str], formats: dict | None = None, top: dict | None = None):
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    rows = "".join(f"U{i},Rep {i},AE,{h}\n" for i, h in enumerate(hired))
    (folder / "users.csv").write_text("Id,Name,Role,Hired\n" + rows, encoding="utf-8")
    table = {"from": "users", "columns": COLUMNS}
    if formats:
        table["formats"] = {"hire_date": formats}
    return salesops.load(folder, mapping={**(top or {}), "tables": {"reps": table}}, as_of=AS_OF)


def test_buddhist_dates_convert_exactly_including_the_leap_day(tmp_path):
    data = _load(tmp_path, ["31/03/2568", "29/02/2567", "01/01/2540"], {"era": "buddhist", "date_format": "dayfirst"})
    assert data.reps["hire_date"].tolist() == [pd.Timestamp("2025-03-31"), pd.Timestamp("2024-02-29"),
                                               pd.Timestamp("1997-01-01")]
    assert data.quality.rejected.empty
    # and back: 2024-02-29 is written 29/02/2567 in the Buddhist era
    back = data.reps["hire_date"].iloc[1]
    assert f"{back.day:02d}/{back.month:02d}/{back.year + BUDDHIST_OFFSET}" == "29/02/2567"


def test_29_february_of_a_non_leap_year_is_rejected(tmp_path):
    data = _load(tmp_path, ["29/02/2566", "28/02/2566"], {"era": "buddhist", "date_format": "dayfirst"})
    rejected = data.quality.rejected
    assert rejected["value"].tolist() == ["29/02/2566"]  # 2023 CE has no 29 February
    assert "2566 = 2023 CE" in rejected["message"].iloc[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2568-03-31", "2025-03-31"), ("25680331", "2025-03-31"), ("31.03.2568", "2025-03-31"),
     ("3/31/2568", "2025-03-31")],
)
def test_every_date_spelling_and_the_mapping_wide_option(tmp_path, text, expected):
    data = _load(tmp_path, [text], top={"era": "buddhist"})
    assert data.reps["hire_date"].tolist() == [pd.Timestamp(expected)]


def test_a_column_of_buddhist_years_proposes_the_option(tmp_path):
    data = _load(tmp_path, ["31/03/2568", "15/01/2567"])
    rejected = data.quality.rejected
    assert len(rejected) == 2 and set(rejected["column"]) == {"hire_date"}
    message = rejected["message"].iloc[0]
    for text in ("hire_date", "2568", "2025 CE", "era: buddhist", "'31/03/2025'"):
        assert text in message


def test_mixed_eras_in_one_column_are_rejected_with_both_readings(tmp_path):
    declared = _load(tmp_path, ["31/03/2568", "31/03/2025"], {"era": "buddhist", "date_format": "dayfirst"})
    assert declared.reps["hire_date"].iloc[0] == pd.Timestamp("2025-03-31")
    (row,) = declared.quality.rejected.to_dict("records")
    assert row["value"] == "31/03/2025" and "mixes eras" in row["message"]
    assert "'31/03/1482'" in row["message"] and "year 2025" in row["message"]  # both readings

    undeclared = _load(tmp_path, ["31/03/2568", "30/03/2025", "29/03/2025"])
    (row,) = undeclared.quality.rejected.to_dict("records")
    assert row["value"] == "31/03/2568" and "mixes eras" in row["message"]
    assert "'31/03/2025'" in row["message"] and "year 2568" in row["message"]


def test_unknown_era_names_the_mapping_and_column():
    with pytest.raises(LoadError, match=r"formats of 'hire_date': unknown era 'thai'; expected one of: common, buddhist"):
        salesops.io.mapping.parse_mapping(
            {"tables": {"reps": {"columns": COLUMNS, "formats": {"hire_date": {"era": "thai"}}}}}, origin="m.yaml")
    with pytest.raises(LoadError, match=r"mapping file m.yaml: unknown era 'BE'"):
        salesops.io.mapping.parse_mapping({"era": "BE", "tables": {"reps": {"columns": COLUMNS}}}, origin="m.yaml")


def test_large_columns_take_the_same_path():
    # coerce() reads a long column with repeated values once per distinct value
    from salesops.io.coerce import ColumnFormat, coerce

    raw = pd.Series(["31/03/2568", "29/02/2567", "31/03/2025"] * 5000, dtype=object)
    out, failed = coerce(raw, "date", ColumnFormat(date_format="dayfirst", era="buddhist"))
    assert out.iloc[:2].tolist() == [pd.Timestamp("2025-03-31"), pd.Timestamp("2024-02-29")]
    assert int(failed.sum()) == 5000 and bool(failed.iloc[2])
    assert to_common_era(pd.Series(["1743379200000"])).isna().all()  # epoch milliseconds hold no year
