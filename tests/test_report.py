"""salesops.report: metrics recording and merging, safe CSV, HTML pages and index escaping."""

from __future__ import annotations

import csv
import json
import math

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from salesops.report import (
    METRICS_ENV,
    PageEntry,
    QualityHeadline,
    merge_records,
    metrics_document,
    neutralise_cell,
    read_records,
    record,
    render_index,
    render_notebook_html,
    to_safe_csv,
    write_metrics,
)

SCRIPT = "<script>alert(1)</script>"


# --- record / merge / write ----------------------------------------------------------------------------------


def test_record_without_a_review_only_returns(monkeypatch):
    monkeypatch.delenv(METRICS_ENV, raising=False)
    metric = record("kpi.win_rate", np.float64(0.25), unit="share", description="won / closed")
    assert (metric.key, metric.value, metric.unit) == ("kpi.win_rate", 0.25, "share")
    assert type(metric.value) is float


def test_record_appends_to_the_metrics_file(monkeypatch, tmp_path):
    target = tmp_path / "m.jsonl"
    monkeypatch.setenv(METRICS_ENV, str(target))
    record("a.rows", np.int64(3), unit="rows")
    record("a.flag", np.bool_(True))
    record("a.label", "EMEA")
    record("a.missing", pd.NA)
    record("a.rows", 4)  # recorded again: the last value wins
    got = read_records(target)
    assert {k: m.value for k, m in got.items()} == {"a.rows": 4, "a.flag": True, "a.label": "EMEA", "a.missing": None}
    assert type(got["a.rows"].value) is int


@pytest.mark.parametrize("value", [float("nan"), float("inf"), np.float32("nan"), -math.inf])
def test_record_refuses_non_finite_values(value):
    with pytest.raises(ValueError, match="not a finite number"):
        record("a.value", value)


@pytest.mark.parametrize("key", ["", "Rows", "a..b", "a.b-c", "1a", "a.b "])
def test_record_refuses_malformed_keys(key):
    with pytest.raises(ValueError, match="dotted snake case"):
        record(key, 1)


def test_record_refuses_objects():
    with pytest.raises(TypeError, match="list"):
        record("a.value", [1, 2])


def test_merge_sorts_and_refuses_a_key_from_two_notebooks(tmp_path, monkeypatch):
    files = {}
    for name, key in [("02_b", "b.x"), ("01_a", "a.x")]:
        files[name] = tmp_path / f"{name}.jsonl"
        monkeypatch.setenv(METRICS_ENV, str(files[name]))
        record(key, 1)
    merged = merge_records({n: read_records(f) for n, f in files.items()})
    assert list(merged) == ["a.x", "b.x"] and merged["b.x"]["notebook"] == "02_b"
    with pytest.raises(ValueError, match="recorded by both 01_a and 02_b"):
        merge_records({"01_a": read_records(files["01_a"]), "02_b": read_records(files["01_a"])})


def test_read_records_of_a_missing_file_is_empty(tmp_path):
    assert read_records(tmp_path / "none.jsonl") == {}


def test_write_metrics_is_byte_stable(tmp_path):
    doc_a = metrics_document("2025Q4", {"z.x": {"value": 1.5}, "a.x": {"value": 2}}, {"02": "ok", "01": "failed"})
    doc_b = metrics_document("2025Q4", {"a.x": {"value": 2}, "z.x": {"value": 1.5}}, {"01": "failed", "02": "ok"})
    a, b = write_metrics(tmp_path / "a.json", doc_a), write_metrics(tmp_path / "b.json", doc_b)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_text().endswith("}\n")
    assert json.loads(a.read_text())["schema_version"] == 1
    with pytest.raises(ValueError):
        write_metrics(tmp_path / "c.json", {"metrics": {"x": {"value": float("nan")}}})


# --- safe CSV ------------------------------------------------------------------------------------------------


def test_to_safe_csv_neutralises_formulas_and_keeps_numbers(tmp_path):
    df = pd.DataFrame(
        {
            "name": ["=SUM(A1:A2)", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\tTAB", "\rCR", "plain", None, "-5"],
            "amount": [-5.0, 1.0, -0.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            "count": pd.array([-1, 2, 3, 4, 5, 6, 7, None, 9], dtype="Int64"),
        }
    )
    path = to_safe_csv(df, tmp_path / "sub" / "out.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    back = {c: [r[c] for r in rows] for c in rows[0]}
    assert back["name"] == [
        "'=SUM(A1:A2)", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(1)", "'\tTAB", "'\rCR", "plain", "", "-5",
    ]
    assert back["amount"][:3] == ["-5.0", "1.0", "-0.5"]
    assert back["count"][0] == "-1"
    assert df.loc[0, "name"] == "=SUM(A1:A2)", "the input frame is not modified"


def test_to_safe_csv_touches_only_strings_in_mixed_columns(tmp_path):
    df = pd.DataFrame({"=bad header": [-3, "=1+1", 2.5, "-7.25", "ok"]}, dtype=object)
    back = pd.read_csv(to_safe_csv(df, tmp_path / "x.csv"), dtype=str)
    assert back.columns.tolist() == ["'=bad header"]
    assert back.iloc[:, 0].tolist() == ["-3", "'=1+1", "2.5", "-7.25", "ok"]


def test_neutralise_cell_leaves_non_strings_alone():
    assert neutralise_cell(-1) == -1
    assert neutralise_cell(None) is None
    assert neutralise_cell("-1e5") == "-1e5"
    assert neutralise_cell("-") == "'-"


def test_to_safe_csv_with_index_and_categories(tmp_path):
    df = pd.DataFrame({"c": pd.Categorical(["=x", "y"])}, index=pd.Index(["=i", "j"], name="id"))
    back = pd.read_csv(to_safe_csv(df, tmp_path / "x.csv", index=True), dtype=str)
    assert back["id"].tolist() == ["'=i", "j"] and back["c"].tolist() == ["'=x", "y"]


# --- HTML ----------------------------------------------------------------------------------------------------


def test_render_index_escapes_everything():
    html = render_index(
        [
            PageEntry("01_a", f"A {SCRIPT}", "ok", "01_a.html", "notebooks/01_a.ipynb"),
            PageEntry("02_b", "B", "failed", None, None, message=f"ValueError: bad account {SCRIPT}"),
        ],
        quarter="2025Q4",
        source=f"/data/{SCRIPT}",
        as_of="2025-12-31",
        quality=QualityHeadline(10, 9, 1, "quarantine/"),
        problems=[SCRIPT],
    )
    assert SCRIPT not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 4
    assert "so-badge so-failed" in html and "some parts failed" in html
    assert 'href="quarantine/"' in html and "10 rows read, 9 accepted, 1 rejected" in html


def test_render_index_all_ok():
    html = render_index([PageEntry("01_a", "A", "ok", "01_a.html")], quarter="2025Q4", source="data")
    assert "all pages ok" in html and "so-badge so-failed" not in html


def _notebook():
    df = pd.DataFrame({"account": [SCRIPT, "Acme"], "amount": [1.0, 2.0]})
    code = new_code_cell("secret_code_marker = 1\ndf", execution_count=1)
    code.outputs = [
        new_output("execute_result", data={"text/html": df.to_html(), "text/plain": repr(df)}, execution_count=1)
    ]
    return new_notebook(cells=[new_markdown_cell("# Pipeline health\n\nSome prose."), code])


def test_render_notebook_html_hides_code_and_keeps_escaping(tmp_path):
    path = render_notebook_html(_notebook(), tmp_path / "page.html", review_title="Quarterly review 2025Q4",
                                status="ok")
    html = path.read_text()
    assert "secret_code_marker" not in html
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<title>Pipeline health</title>" in html
    assert "Quarterly review 2025Q4" in html and 'href="index.html"' in html
    assert "so-badge so-ok" in html
    assert "<script" not in html, "no scripts at all on a page without widgets"


def test_render_notebook_html_from_a_file(tmp_path):
    nb_path = tmp_path / "03_pipeline.ipynb"
    nbformat.write(_notebook(), nb_path)
    html = render_notebook_html(nb_path, tmp_path / "p.html", title=f"T {SCRIPT}").read_text()
    assert f"T {SCRIPT}" not in html and "T &lt;script&gt;" in html
    assert "03_pipeline.ipynb" in html


def test_metrics_table_keeps_values_as_recorded(monkeypatch):
    from salesops.report import metrics_table

    monkeypatch.delenv(METRICS_ENV, raising=False)
    table = metrics_table([record("a.n", 6), record("a.share", 0.25, unit="share")])
    assert table.index.tolist() == ["a.n", "a.share"]
    assert table.loc["a.n", "value"] == 6 and type(table.loc["a.n", "value"]) is int


# --- comparison with an earlier review -----------------------------------------------------------------------


def _doc(quarter, **values):
    return {"quarter": quarter, "metrics": {k: {"value": v, "unit": "u", "description": "d"} for k, v in values.items()}}


def test_compare_documents_by_hand():
    from salesops.report import compare_documents

    prev = _doc("2025Q3", **{"a.up": 100, "a.same": 5, "a.zero": 0, "a.gone": 1, "a.text": "x"})
    cur = _doc("2025Q4", **{"a.up": 125.0, "a.same": 5, "a.zero": 3, "a.new": 2, "a.text": "y"})
    c = compare_documents(cur, prev)
    m = c["metrics"]
    assert (c["quarter"], c["previous_quarter"]) == ("2025Q4", "2025Q3")
    assert m["a.up"]["change"] == 25.0 and m["a.up"]["relative_change"] == pytest.approx(0.25)
    assert m["a.up"]["status"] == "changed"
    assert m["a.same"]["status"] == "unchanged" and m["a.same"]["change"] == 0.0
    assert m["a.zero"]["change"] == 3.0 and m["a.zero"]["relative_change"] is None
    assert m["a.new"]["status"] == "added" and m["a.gone"]["status"] == "removed"
    assert m["a.text"]["status"] == "not_numeric"
    assert c["counts"] == {"added": 1, "changed": 2, "not_numeric": 1, "removed": 1, "unchanged": 1}
    assert list(m) == sorted(m)


def test_write_comparison_escapes_and_is_byte_stable(tmp_path):
    from salesops.report import write_comparison

    prev = _doc("2025Q3", **{"a.label": "old", "a.n": 1})
    cur = _doc("2025Q4", **{"a.label": SCRIPT, "a.n": 2})
    j1, h1 = write_comparison(tmp_path, cur, prev, previous_label=f"reviews/{SCRIPT}")
    first = j1.read_bytes()
    write_comparison(tmp_path, cur, prev, previous_label=f"reviews/{SCRIPT}")
    assert j1.read_bytes() == first
    page = h1.read_text()
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "+100.0%" in page and 'href="index.html"' in page
    assert json.loads(first)["metrics"]["a.n"]["relative_change"] == 1.0


def test_read_metrics_document_refuses_what_is_not_one(tmp_path):
    from salesops.report import read_metrics_document

    with pytest.raises(FileNotFoundError, match="earlier review"):
        read_metrics_document(tmp_path)
    (tmp_path / "metrics.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a review's metrics.json"):
        read_metrics_document(tmp_path)
    (tmp_path / "metrics.json").write_text(json.dumps(_doc("2025Q4", **{"a.b": 1})))
    assert read_metrics_document(tmp_path / "metrics.json")["quarter"] == "2025Q4"


def test_render_index_links_the_comparison():
    html = render_index([PageEntry("00_executive_summary", "Executive summary", "ok", "00_executive_summary.html")],
                        quarter="2025Q4", source="data", comparison_href="comparison.html",
                        comparison_label=SCRIPT)
    assert 'href="comparison.html"' in html and SCRIPT not in html
    assert 'href="comparison.html"' not in render_index([], quarter="2025Q4", source="data")


def test_markdown_rows_for_docs_metrics():
    from salesops.report.metrics import markdown_rows

    doc = {"metrics": {"b.x": {"unit": "u", "description": "a|b", "notebook": "01_x", "value": 1},
                       "a.y": {"value": 2}}}
    assert markdown_rows(doc) == "| `a.y` |  |  |  |\n| `b.x` | u | a\\|b | 01_x |"
    assert markdown_rows(doc, ["b.x"]) == "| `b.x` | u | a\\|b | 01_x |"


def test_pages_declare_their_language(tmp_path):
    html = render_notebook_html(_notebook(), tmp_path / "page.html").read_text()
    assert '<html lang="en">' in html
    html = render_notebook_html(_notebook(), tmp_path / "page_th.html", lang="th").read_text()
    assert '<html lang="th">' in html
    index = render_index([], quarter="2025Q4", source="data/sample", lang="th")
    assert '<html lang="th">' in index
    assert '<html lang="en">' in render_index([], quarter="2025Q4", source="data/sample")
