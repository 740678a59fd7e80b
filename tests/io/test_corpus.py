"""The malformed-input corpus: every case in ``tests/io/corpus/`` gives exactly the outcome that
``tests/io/corpus/expected.yaml`` states for it (an error naming file, column and expectation, or exact
counts and problems), and every load keeps rows read = rows accepted + rows rejected for every table."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

import salesops
from salesops.io import LoadError, ValidationError
from salesops.schema.tables import TABLES

CORPUS = Path(__file__).parent / "corpus"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))["cases"]
AS_OF = "2024-06-30"
DEFAULT_STAGES = {"read": 6, "accepted": 6, "rejected": 0}
ERRORS = {"LoadError": LoadError, "ValidationError": ValidationError}


def test_corpus_is_complete():
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert folders == set(EXPECTED), "every corpus folder needs an entry in expected.yaml, and vice versa"
    assert len(EXPECTED) >= 24
    for name, case in EXPECTED.items():
        assert case.get("fault"), f"{name}: say what the fault is"
        assert ("error" in case) or ("counts" in case), f"{name}: state an error or the counts"


def _to_xlsx(csv_path: Path) -> Path:
    """Write ``csv_path`` as a one-sheet workbook with typed cells (dates, numbers, booleans, text ids)."""
    table = csv_path.name.split(".")[0]
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    typed = {}
    for column in frame.columns:
        kind = TABLES[table].column(column).kind
        values = frame[column]
        if kind in ("date", "timestamp"):
            typed[column] = [date.fromisoformat(v) if v else None for v in values]
        elif kind == "float":
            typed[column] = [float(v) if v else None for v in values]
        elif kind == "bool":
            typed[column] = [v.lower() == "true" if v else None for v in values]
        else:
            typed[column] = [v or None for v in values]
    target = csv_path.with_suffix(".xlsx")
    pd.DataFrame(typed).to_excel(target, index=False, engine="openpyxl")
    csv_path.unlink()
    return target


def _prepare(name: str, case: dict, tmp_path: Path) -> Path:
    folder = CORPUS / name
    if not case.get("xlsx"):
        return folder
    copy = tmp_path / name
    shutil.copytree(folder, copy)
    for file in case["xlsx"]:
        _to_xlsx(copy / file)
    return copy


def _load(folder: Path, case: dict):
    mapping = folder / "mapping.yaml"
    return salesops.load(
        folder,
        mapping=mapping if mapping.exists() else None,
        strict=bool(case.get("strict")),
        as_of=case.get("as_of", AS_OF),
    )


def _problems(report) -> list[tuple]:
    rows = report.rejected
    return sorted(
        (r.table, int(r.row), None if pd.isna(r.column) else r.column, r.check) for r in rows.itertuples(index=False)
    )


def _expected_problems(case: dict) -> list[tuple]:
    return sorted((p["table"], p["row"], p["column"], p["check"]) for p in case.get("rejected", []))


def _check_counts(report, case: dict) -> None:
    counts = report.table_counts().set_index("table")[["read", "accepted", "rejected"]]
    # read = accepted + rejected for every table, whatever the case
    assert (counts["read"] == counts["accepted"] + counts["rejected"]).all(), counts
    per_source = report.counts
    assert (per_source["read"] == per_source["accepted"] + per_source["rejected"]).all(), per_source
    expected = dict(case["counts"])
    expected.setdefault("stages", DEFAULT_STAGES)
    actual = {t: {k: int(v) for k, v in row.items()} for t, row in counts.to_dict("index").items()}
    assert actual == expected
    # rejected rows counted once each, however many problems they have
    assert int(counts["rejected"].sum()) == report.rejected.groupby(["table", "source", "row"]).ngroups


def _cell(data, spec: dict):
    frame = getattr(data, spec["table"])
    if "key" in spec:
        key = TABLES[spec["table"]].primary_key[0]
        match = frame[frame[key] == spec["key"]]
        assert len(match) == 1, f"{spec['table']} has no single row with {key} = {spec['key']!r}"
        return match.iloc[0][spec["column"]]
    return frame.iloc[spec["index"]][spec["column"]]


def _check_values(data, case: dict) -> None:
    for spec in case.get("values", []):
        value = _cell(data, spec)
        wanted = spec["equals"]
        if wanted is None:
            assert pd.isna(value), spec
        elif isinstance(value, pd.Timestamp) and value.tz is not None:
            assert value.isoformat() == wanted, spec
        elif isinstance(value, pd.Timestamp):
            assert value.strftime("%Y-%m-%d") == wanted, spec
        elif isinstance(wanted, float):
            assert value == pytest.approx(wanted), spec
        else:
            assert value == wanted, spec


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_case(name, tmp_path):
    case = EXPECTED[name]
    folder = _prepare(name, case, tmp_path)
    if "error" in case:
        error = ERRORS[case["error"]["type"]]
        with pytest.raises(error) as info:
            _load(folder, case)
        assert type(info.value) is error
        message = str(info.value)
        for text in case["error"]["contains"]:
            assert text in message, f"{text!r} not in: {message}"
        if isinstance(info.value, ValidationError):
            report = info.value.report
            _check_counts(report, case)
            assert _problems(report) == _expected_problems(case)
            lines = message.splitlines()[1:]
            assert len(lines) == len(report.rejected)  # the message lists every problem, one per line
            for table, row, column, check in _expected_problems(case):
                assert any(
                    line.strip().startswith(f"{table} ") and f" row {row} " in line and f"{column} [{check}]" in line
                    for line in lines
                ), (table, row, column, check)
        return
    data = _load(folder, case)
    _check_counts(data.quality, case)
    assert _problems(data.quality) == _expected_problems(case)
    _check_values(data, case)
    for text in case.get("ignored", []):
        assert any(text in entry for entry in data.quality.ignored), data.quality.ignored
    # the quarantine holds every rejected row, as read, with its problems
    rejected = int(data.quality.counts["rejected"].sum())
    quarantined = sum(len(q) for q in data.quality.quarantine.values())
    assert quarantined == rejected
    for frame in data.quality.quarantine.values():
        assert frame["_problems"].str.len().gt(0).all()
