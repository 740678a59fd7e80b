"""The CSV reading path: structural faults in real-sized exports (the sample's opportunities and reps,
damaged the way real exports are) each give one rejected row naming the line, and never swallow, merge
or drop the rows around them."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

import salesops
from salesops.io.readers import _PHYSICAL_LINE, FIELD_LIMIT, _read_checked, read_csv

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="module")
def opportunity_lines() -> list[str]:
    with gzip.open(SAMPLE / "opportunities.csv.gz", "rt", encoding="utf-8", newline="") as handle:
        return handle.read().splitlines(keepends=True)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return path


def _damage(lines: list[str], row: int, old: str, new: str) -> list[str]:
    out = list(lines)
    assert old in out[row], (row, old)
    out[row] = out[row].replace(old, new, 1)
    return out


def test_unclosed_quote_rejects_its_row_and_keeps_every_row_after_it(opportunity_lines, tmp_path):
    total = len(opportunity_lines) - 1
    lines = _damage(opportunity_lines, 7200, "Analytics Add-on", '"Analytics Add-on')
    frame, numbers, malformed = read_csv(_write(tmp_path / "opportunities.csv", lines))
    assert len(frame) + len(malformed) == total == 7836
    [fault] = malformed
    assert (fault.row, fault.check, fault.column) == (7200, "unbalanced_quote", "product")
    assert fault.message.startswith("line 7201, column product: unclosed quote")
    assert frame["opportunity_id"].iloc[-1] == "OP007836"
    assert 7200 not in set(numbers) and numbers[-1] == 7836


def test_unclosed_quote_before_a_10_mb_field_names_both_lines(opportunity_lines, tmp_path):
    lines = _damage(opportunity_lines, 7200, "Analytics Add-on", '"Analytics Add-on')
    lines = _damage(lines, 7300, "Inbound Web", "x" * 10_000_000)
    frame, _, malformed = read_csv(_write(tmp_path / "opportunities.csv", lines))
    assert len(frame) + len(malformed) == 7836
    assert [(m.row, m.check, m.column) for m in malformed] == [
        (7200, "unbalanced_quote", "product"),
        (7300, "field_too_long", None),
    ]
    assert malformed[1].message.startswith(f"line 7301: a field longer than {FIELD_LIMIT:,} characters")
    assert len(malformed[1].text) < FIELD_LIMIT + 100  # the report holds the start of the line, not 10 MB


def test_unclosed_quote_in_reps_loses_one_rep_not_the_rest(tmp_path):
    lines = (SAMPLE / "reps.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines = _damage(lines, 5, ",Noah Lee,", ',"Noah Lee,')
    folder = tmp_path / "crm"
    folder.mkdir()
    _write(folder / "reps.csv", lines)
    data = salesops.load(folder, as_of="2026-01-01")
    counts = data.quality.table_counts().set_index("table").loc["reps"]
    assert (counts["read"], counts["accepted"], counts["rejected"]) == (66, 65, 1)
    problem = data.quality.rejected.iloc[0]
    assert (problem["row"], problem["column"], problem["check"]) == (5, "name", "unbalanced_quote")
    assert "line 6" in problem["message"] and "reps.csv" in problem["source"]


def test_ragged_nul_and_undecodable_rows_each_name_their_line(opportunity_lines, tmp_path):
    lines = _damage(opportunity_lines, 100, ",USD,", ",USD,extra,")
    lines = _damage(lines, 200, ",USD,", ",")
    lines = _damage(lines, 300, ",USD,", ",U\x00SD,")
    lines = _damage(lines, 500, "Core Platform", "Core Plattform für Händler")  # so the file is UTF-8
    data = "".join(lines).encode("utf-8").replace(b"OP000400,", b"OP000400\xff,")
    path = tmp_path / "opportunities.csv"
    path.write_bytes(data)
    frame, _, malformed = read_csv(path)
    assert len(frame) + len(malformed) == 7836
    assert [(m.row, m.check, m.column) for m in malformed] == [
        (100, "field_count", None),
        (200, "field_count", None),
        (300, "nul_byte", "currency"),
        (400, "undecodable", "opportunity_id"),
    ]
    assert malformed[0].message == "line 101: 17 fields where the header has 16"
    assert "0xFF not valid in UTF-8" in malformed[3].message and "\\xff" in malformed[3].text


def test_a_legitimate_multiline_field_is_one_row(tmp_path):
    text = 'account_id,name,industry,owner_rep_id\nA1,"Acme\nWest, Inc.",software,R1\nA2,Globex,retail,R2\n'
    frame, numbers, malformed = read_csv(_write(tmp_path / "accounts.csv", [text]))
    assert malformed == [] and numbers.tolist() == [1, 2]
    assert frame["name"].tolist() == ["Acme\nWest, Inc.", "Globex"]


def test_an_over_long_unquoted_field_is_rejected_not_raised(tmp_path):
    text = "account_id,name\nA1,Acme\nA2," + "y" * (FIELD_LIMIT + 1) + "\nA3,Initech\n"
    frame, _, malformed = read_csv(_write(tmp_path / "accounts.csv", [text]))
    assert frame["account_id"].tolist() == ["A1", "A3"]
    assert [(m.row, m.check) for m in malformed] == [(2, "field_too_long")]


def test_the_fast_and_the_checked_reads_agree_on_a_clean_file(opportunity_lines, tmp_path):
    path = _write(tmp_path / "opportunities.csv", opportunity_lines)
    fast, numbers, malformed = read_csv(path)
    lines = _PHYSICAL_LINE.findall("".join(opportunity_lines))
    checked, checked_numbers, checked_malformed = _read_checked(lines, 1, ",", list(fast.columns), "UTF-8")
    assert malformed == checked_malformed == []
    assert numbers.tolist() == checked_numbers.tolist()
    pd.testing.assert_frame_equal(fast.fillna("<NA>"), checked.fillna("<NA>"), check_dtype=False)


# --------------------------------------------------------------------------- every file accounted for


def _with_broken_accounts(mini_crm_copy: Path, how: str) -> Path:
    accounts = mini_crm_copy / "accounts.csv"
    accounts.unlink()
    if how == "dangling":
        accounts.symlink_to(mini_crm_copy / "gone" / "accounts.csv")
    elif how == "loop":
        (mini_crm_copy / "other.csv.lnk").symlink_to(accounts)
        accounts.symlink_to(mini_crm_copy / "other.csv.lnk")
    else:
        accounts.mkdir()
    return mini_crm_copy


@pytest.mark.parametrize(
    ("how", "reason"),
    [("dangling", "dangling symbolic link to"), ("loop", "symbolic link loop"), ("folder", "a folder, not a file")],
)
def test_an_unreadable_table_file_is_named_with_its_reason_and_its_references_flagged(mini_crm_copy, how, reason):
    folder = _with_broken_accounts(mini_crm_copy, how)
    data = salesops.load(folder)
    report = data.quality
    assert data.tables.get("accounts") is None
    assert len(report.unreadable) == 1 and report.unreadable[0].startswith("accounts.csv (")
    assert reason in report.unreadable[0]
    (missing,) = report.missing_tables
    n_opportunities = len(pd.read_csv(folder / "opportunities.csv"))  # counted without the loader
    assert missing.startswith("accounts (") and "opportunities.account_id" in missing
    assert f"{n_opportunities - 1:,} value(s) unchecked" in missing  # the one rejected opportunity aside
    assert not report.complete and "UNREADABLE" in report.summary()
    with pytest.raises(salesops.ValidationError, match="unreadable file"):
        salesops.load(folder, strict=True)


def test_validate_strict_fails_on_an_unreadable_table_file(cli, mini_crm_copy):
    folder = _with_broken_accounts(mini_crm_copy, "dangling")
    assert cli("validate", "--data", folder).code == 0
    run = cli("validate", "--data", folder, "--strict")
    assert run.code == 1
    assert "accounts.csv (dangling symbolic link" in run.stderr


def test_a_clean_folder_is_complete(mini_crm):
    report = salesops.load(mini_crm).quality
    assert report.complete and report.unreadable == [] and report.missing_tables == []
