"""The quarantine writer: spreadsheet-safe, numbers kept as numbers, every cell quoted as CSV requires,
and what it writes reads back as the same records."""

from __future__ import annotations

import csv

import pandas as pd

from salesops.io.quality import DataQualityReport, neutralise, write_safe_csv


def test_neutralise_follows_the_owasp_list_and_keeps_numbers():
    for risky in ("=1+1", "+1", "-A1", "@SUM(A1)", "\tx", "\rx", " =cmd", "\n=cmd", "  \n+x"):
        assert neutralise(risky) == "'" + risky
    for plain in ("-5", "1.5e3", "Acme", " Acme", "a=b", 5, -5.0, None):
        assert neutralise(plain) == plain


def test_quarantine_round_trip(tmp_path):
    frame = pd.DataFrame(
        {
            "_source": ["x.csv"] * 5,
            "_row": [1, 2, 3, 4, 5],
            "amount": [-5.0, 3.5, 0.0, 1e6, -0.25],
            "note": ["line\rbreak", 'say "hi", then', "=HYPERLINK(\"http://x\")", " @evil", "multi\nline"],
            "text_number": ["-5", "+3", "7", "-1.5", "0"],
        }
    )
    report = DataQualityReport(
        counts=pd.DataFrame([{"table": "accounts", "source": "x.csv", "read": 5, "accepted": 0, "rejected": 5}]),
        quarantine={"accounts": frame},
    )
    [path, problems] = report.write_quarantine(tmp_path / "q")
    assert problems.name == "problems.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    assert len(records) == 6  # header + 5 rows: the bare CR and the line feed stay inside their cells
    back = pd.read_csv(path, dtype={"note": str, "text_number": str}, keep_default_na=False)
    assert back["amount"].tolist() == [-5.0, 3.5, 0.0, 1e6, -0.25]  # numbers stay numbers
    assert back["text_number"].tolist() == ["-5", "'+3", "7", "-1.5", "0"]
    restored = [v[1:] if neutralise(v[1:]) != v[1:] else v for v in back["note"]]
    assert restored == frame["note"].tolist()
    assert back["note"][2].startswith("'=") and back["note"][3] == "' @evil"
    raw = path.read_bytes()
    assert b'"line\rbreak"' in raw and raw.count(b"\r\n") == 6


def test_write_safe_csv_creates_folders(tmp_path):
    path = write_safe_csv(pd.DataFrame({"a": ["=x"]}), tmp_path / "a" / "b.csv")
    assert path.read_text(encoding="utf-8").splitlines() == ["a", "'=x"]
