"""``salesops.load``: sources (folder, single file, Parquet, Excel workbook, Ibis-like connection), the
as-of moment, strict mode, the quality report and its quarantine."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import salesops
from salesops.io import LoadError, SalesData, ValidationError

AS_OF = "2024-06-30"
REPS = "rep_id,name,role,hire_date\nR1,Ana Silva,AE,2022-01-10\nR2,Ben Owusu,SDR,2023-03-01\n"
ACCOUNTS = "account_id,name,owner_rep_id\nA1,Acme,R1\nA2,Globex,R2\n"
OPPS = (
    "opportunity_id,account_id,owner_rep_id,created_date,close_date,stage,is_closed,is_won,amount\n"
    "O1,A1,R1,2024-01-10,2024-03-28,Closed Won,true,true,48000\n"
    "O2,A9,R1,2024-02-01,2024-01-15,Closed Lost,true,false,-5\n"  # three problems in one row
    "O3,A1,R2,2024-03-05,2024-09-30,Proposal,false,false,=HYPERLINK(\"http://x\")\n"
)


@pytest.fixture
def crm(tmp_path) -> Path:
    folder = tmp_path / "crm"
    folder.mkdir()
    (folder / "reps.csv").write_text(REPS, encoding="utf-8")
    (folder / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (folder / "opportunities.csv").write_text(OPPS, encoding="utf-8")
    return folder


def test_missing_source():
    with pytest.raises(LoadError, match=r"source 'no/such/folder' does not exist; expected a folder"):
        salesops.load("no/such/folder")


def test_single_file_source(crm):
    data = salesops.load(crm / "reps.csv", as_of=AS_OF)
    assert data.reps["rep_id"].tolist() == ["R1", "R2"]
    assert data.accounts is None and data.opportunities is None
    assert data.source == str(crm / "reps.csv")


def test_salesdata_attributes(crm):
    data = salesops.load(crm, as_of=AS_OF)
    assert isinstance(data, SalesData)
    assert data.leads is None  # a table that was not in the source
    with pytest.raises(AttributeError, match=r"SalesData has no attribute 'deals'; tables: reps, quotas"):
        _ = data.deals
    assert "opportunities=1" in repr(data)


def test_as_of(crm):
    end_of_day = pd.Timestamp("2024-06-30 23:59:59.999999", tz="UTC")
    assert salesops.load(crm, as_of="2024-06-30").as_of == end_of_day
    assert salesops.load(crm, as_of=pd.Timestamp("2024-06-30 12:00")).as_of == pd.Timestamp("2024-06-30 12:00", tz="UTC")
    berlin = pd.Timestamp("2024-06-30 12:00", tz="Europe/Berlin")
    assert salesops.load(crm, as_of=berlin).as_of == pd.Timestamp("2024-06-30 10:00", tz="UTC")
    # by default: the end of the day of the latest event among the accepted rows: O1's close date (a
    # closed deal's close date is an event; O3, created later, is rejected)
    data = salesops.load(crm)
    assert data.as_of == pd.Timestamp("2024-03-28 23:59:59.999999", tz="UTC")
    assert data.quality.as_of == data.as_of  # the data's own as-of is reported, never the clock


def test_a_row_with_three_problems_counts_once(crm):
    data = salesops.load(crm, as_of=AS_OF)
    counts = data.quality.table_counts().set_index("table").loc["opportunities"]
    assert (counts["read"], counts["accepted"], counts["rejected"]) == (3, 1, 2)
    o2 = data.quality.rejected.query("record_id == 'O2'")
    assert sorted(o2["check"]) == ["close_after_created", "foreign_key", "min_value"]
    assert set(o2["row"]) == {2} and set(o2["source"]) == {str(crm / "opportunities.csv")}
    summary = data.quality.problem_summary()
    assert set(summary.columns) == {"table", "column", "check", "problems", "example", "example_value", "example_row"}
    # validate's summary shows an offending value for every problem group
    text = data.quality.summary()
    lines = [line for line in text.splitlines() if line.startswith("  opportunities.")]
    assert lines and all("e.g. row " in line for line in lines)
    assert "e.g. row 2: " in text and "e.g. row 3: '=HYPERLINK" in text


def test_quarantine_keeps_rows_as_read(crm, tmp_path):
    data = salesops.load(crm, as_of=AS_OF)
    quarantine = data.quality.quarantine["opportunities"]
    assert quarantine["_row"].tolist() == [2, 3]
    assert quarantine["opportunity_id"].tolist() == ["O2", "O3"]
    assert quarantine.loc[0, "amount"] == "-5"  # as the file had it, not coerced
    assert "account_id: account_id 'A9' matches no accepted row" in quarantine.loc[0, "_problems"]
    written = data.quality.write_quarantine(tmp_path / "q")
    assert sorted(p.name for p in written) == ["opportunities.csv", "problems.csv"]
    text = (tmp_path / "q" / "opportunities.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text  # neutralised for spreadsheets


def test_strict(crm):
    with pytest.raises(ValidationError) as info:
        salesops.load(crm, strict=True, as_of=AS_OF)
    assert isinstance(info.value, LoadError)
    assert int(info.value.report.counts["rejected"].sum()) == 2
    message = str(info.value)
    assert message.startswith(f"2 row(s) rejected loading {crm}:")
    assert message.count("\n") == len(info.value.report.rejected)  # one line per problem
    (crm / "opportunities.csv").write_text(OPPS.splitlines()[0] + "\n" + OPPS.splitlines()[1] + "\n", encoding="utf-8")
    assert salesops.load(crm, strict=True, as_of=AS_OF).quality.ok


def test_parquet_and_excel_workbook(crm, tmp_path):
    folder = tmp_path / "typed"
    folder.mkdir()
    reps = pd.read_csv(crm / "reps.csv", dtype=str)
    reps["hire_date"] = pd.to_datetime(reps["hire_date"])
    reps.to_parquet(folder / "reps.parquet")
    with pd.ExcelWriter(folder / "crm.xlsx") as book:  # one workbook, one sheet per table
        pd.read_csv(crm / "accounts.csv", dtype=str).to_excel(book, sheet_name="accounts", index=False)
        opps = pd.read_csv(crm / "opportunities.csv", dtype=str).iloc[:1]
        opps["amount"] = opps["amount"].astype(float)
        opps.to_excel(book, sheet_name="opportunities", index=False)
    data = salesops.load(folder, as_of=AS_OF)
    assert data.quality.ok, data.quality.rejected
    assert data.reps["hire_date"].tolist() == [pd.Timestamp("2022-01-10"), pd.Timestamp("2023-03-01")]
    assert data.opportunities["amount"].tolist() == [48000.0]
    sources = set(data.quality.counts["source"])
    assert f"{folder / 'crm.xlsx'}[accounts]" in sources and f"{folder / 'reps.parquet'}" in sources


def test_unreadable_parquet_names_the_file(tmp_path):
    (tmp_path / "reps.parquet").write_text("not parquet at all", encoding="utf-8")
    with pytest.raises(LoadError, match=r"reps.parquet: cannot be read as a .parquet file"):
        salesops.load(tmp_path)


class _FakeTable:
    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def to_pandas(self) -> pd.DataFrame:
        return self._frame


class _FakeIbis:
    """What the loader needs of an Ibis connection: ``list_tables()`` and ``table(name).to_pandas()``."""

    def __init__(self, tables: dict[str, pd.DataFrame]) -> None:
        self._tables = tables

    def list_tables(self) -> list[str]:
        return list(self._tables)

    def table(self, name: str) -> _FakeTable:
        return _FakeTable(self._tables[name])


def test_ibis_like_connection(crm):
    con = _FakeIbis({"reps": pd.read_csv(crm / "reps.csv", dtype=str), "web_events": pd.DataFrame({"x": [1]})})
    data = salesops.load(con, as_of=AS_OF)
    assert data.reps["rep_id"].tolist() == ["R1", "R2"]
    assert set(data.quality.counts["source"]) >= {"ibis:reps"}
