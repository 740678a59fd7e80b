"""The quarterly review end to end on the tiny CRM, and its parameter checks."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from salesops.periods import Quarter
from salesops.report.metrics import markdown_rows
from salesops.review import ReviewParameterError, data_span, latest_complete_quarter, run_review
from salesops.span import cheap_span, loaded_span

SCRIPT = "<script>alert(1)</script>"


# --- parameters are checked before any kernel starts ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quarter": "Q4-2025"}, "not of the form YYYYQn"),
        ({"quarter": "2024Q4"}, "not covered by the data, which runs from 2025-04-02 to 2025-12-30"),
        ({"quarter": "2025Q4", "only": ["kpi"]}, "unknown area(s): kpi"),
        ({"quarter": "2025Q4", "jobs": 0}, "jobs must be a whole number"),
        ({"quarter": "2025Q4", "mapping": "nowhere/mine.yaml"}, "mapping file nowhere/mine.yaml does not exist"),
    ],
)
def test_bad_parameters_raise_before_anything_runs(mini_crm, tmp_path, kwargs, message):
    with pytest.raises(ReviewParameterError, match=re.escape(message)):
        run_review(mini_crm, out=tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_missing_data_and_missing_notebooks(tmp_path, mini_crm):
    with pytest.raises(ReviewParameterError, match="does not exist"):
        run_review(tmp_path / "nowhere", "2025Q4", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReviewParameterError, match="no notebook"):
        run_review(mini_crm, "2025Q4", tmp_path / "out", notebooks_dir=tmp_path / "empty")


def test_url_with_a_password_is_refused_and_env_reference_is_not(tmp_path):
    from salesops.io import LoadError

    with pytest.raises(ReviewParameterError, match="carries a password"):
        run_review("postgresql://ann:s3cret@127.0.0.1:1/crm", "2025Q4", tmp_path / "out")
    # ${VAR} passes the check; nothing listens on port 1, so the loader then fails to connect
    with pytest.raises(LoadError, match=r"\*\*\*"):
        run_review("postgresql://ann:${SALESOPS_NO_SUCH_VAR}@127.0.0.1:1/crm", "2025Q4", tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --- the data's span and the latest complete quarter ---------------------------------------------------------


def test_latest_complete_quarter_of_the_tiny_crm(mini_crm):
    assert latest_complete_quarter(mini_crm) == Quarter(2025, 4)
    span = data_span(mini_crm)
    assert (str(span.start.date()), str(span.end.date())) == ("2025-04-02", "2025-12-30")
    assert "opportunities.csv" in span.basis


def test_span_from_gzip_and_parquet(mini_crm_copy):
    import pandas as pd

    csv = mini_crm_copy / "opportunities.csv"
    frame = pd.read_csv(csv, dtype=str)
    csv.unlink()
    frame.to_csv(mini_crm_copy / "opportunities.csv.gz", index=False)
    assert cheap_span(mini_crm_copy).end == pd.Timestamp("2025-12-30")
    (mini_crm_copy / "opportunities.csv.gz").unlink()
    typed = frame.assign(
        created_date=pd.to_datetime(frame["created_date"]),
        close_date=pd.to_datetime(frame["close_date"]),
        is_closed=frame["is_closed"] == "true",
    )
    typed.to_parquet(mini_crm_copy / "opportunities.parquet")
    assert cheap_span(mini_crm_copy).end == pd.Timestamp("2025-12-30")


def test_span_falls_back_to_the_loader_for_a_duckdb_file(mini_crm, tmp_path):
    import duckdb

    db = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(db))
    for table in ("reps", "accounts", "opportunities"):
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{mini_crm / (table + '.csv')}', all_varchar=true)")
    con.close()
    assert cheap_span(db) is None
    assert latest_complete_quarter(db) == Quarter(2025, 4)


def test_loaded_span_without_opportunities():
    import pandas as pd

    class Data:
        opportunities = None
        tables = {"activities": pd.DataFrame({"occurred_at": pd.to_datetime(["2024-02-03", "2024-06-30"], utc=True)})}

    span = loaded_span(Data())
    assert (span.start, span.end) == (pd.Timestamp("2024-02-03"), pd.Timestamp("2024-06-30"))


# --- end to end ----------------------------------------------------------------------------------------------


def test_review_writes_index_pages_notebooks_metrics_and_quarantine(reviewed):
    run, out = reviewed
    assert run.code == 0, run.stderr
    index = (out / "index.html").read_text()
    assert 'href="01_data_quality.html"' in index
    assert 'href="notebooks/01_data_quality.ipynb"' in index
    assert 'href="metrics.json"' in index and 'href="quarantine/"' in index
    assert "so-badge so-ok" in index and "so-badge so-failed" not in index
    page = (out / "01_data_quality.html").read_text()
    assert "Data quality" in page and 'href="index.html"' in page
    assert "import salesops" not in page, "code cells must not be rendered"
    assert "<script src=" not in page, "pages load no external script"
    assert "data:image/png;base64," in page, "figures are embedded"

    executed = nbformat.read(out / "notebooks" / "01_data_quality.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'quarter = "2025Q4"' in injected[0].source
    assert str(Path("tests/fixtures/mini_crm")) in injected[0].source  # absolute data path
    assert all(c.get("execution_count") for c in executed.cells if c.cell_type == "code" and c.source.strip())

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["quarter"] == "2025Q4"
    assert metrics["notebooks"]["00_executive_summary"] == "ok"
    assert metrics["notebooks"]["01_data_quality"] == "ok"
    assert list(metrics["notebooks"])[0] == "00_executive_summary"
    values = {k: v["value"] for k, v in metrics["metrics"].items()}
    assert values["data_quality.rows_rejected"] == 1
    assert values["data_quality.rows_read"] == values["data_quality.rows_accepted"] + 1
    # the tiny CRM by hand: 2025Q4 won O006 (EUR 6,000) and O007 (EUR 30,000) (O010 is rejected); quota 80,000
    assert values["summary.bookings"] == 36000 and values["summary.bookings_vs_quota"] == pytest.approx(0.45)
    ours = {k: v for k, v in values.items() if k.startswith(("data_quality.", "summary."))}
    assert all(isinstance(v, int | float) and math.isfinite(v) for v in ours.values()), ours
    # other areas may record None where the tiny CRM lacks a table; never NaN or infinity
    assert all(v is None or isinstance(v, bool | str) or math.isfinite(v) for v in values.values())
    assert list(metrics["metrics"]) == sorted(metrics["metrics"])

    assert (out / "quarantine" / "opportunities.csv").read_text().count("O010") == 1
    assert "min_value" in (out / "quarantine" / "problems.csv").read_text()


def test_metrics_json_is_byte_identical_across_runs(reviewed, mini_crm, tmp_path):
    run, first = reviewed
    second = run_review(mini_crm, "2025Q4", tmp_path / "again", jobs=1)
    assert second.exit_code == 0
    assert (first / "metrics.json").read_bytes() == (tmp_path / "again" / "metrics.json").read_bytes()


def test_a_broken_notebook_fails_its_page_and_the_others_still_render(mini_crm, fixture_notebooks, tmp_path):
    result = run_review(mini_crm, "latest", tmp_path / "out", jobs=2, notebooks_dir=fixture_notebooks)
    assert result.exit_code == 1
    assert [(p.name, p.status) for p in result.pages] == [("01_tiny", "ok"), ("02_broken", "failed")]
    broken = result.pages[1]
    assert broken.message.startswith("RuntimeError: deliberately broken for the test")
    out = tmp_path / "out"
    # both pages and both executed notebooks exist; the failed one keeps its error
    assert (out / "01_tiny.html").exists() and (out / "02_broken.html").exists()
    executed = nbformat.read(out / "notebooks" / "02_broken.ipynb", as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors and errors[0].ename == "RuntimeError"
    index = (out / "index.html").read_text()
    assert "so-badge so-failed" in index and "deliberately broken for the test" in index
    assert 'href="01_tiny.html"' in index and 'href="02_broken.html"' in index
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["notebooks"] == {"01_tiny": "ok", "02_broken": "failed"}
    assert metrics["metrics"]["tiny.opportunities"]["value"] == 9
    assert metrics["metrics"]["broken.before_failure"]["value"] == 1  # recorded before the failure


def test_only_runs_the_chosen_area_and_clears_stale_pages(mini_crm, fixture_notebooks, tmp_path):
    out = tmp_path / "out"
    first = run_review(mini_crm, "2025Q4", out, notebooks_dir=fixture_notebooks, jobs=2)
    assert [p.name for p in first.pages] == ["01_tiny", "02_broken"]
    assert (out / "02_broken.html").exists() and (out / "notebooks" / "02_broken.ipynb").exists()
    (out / "keep.txt").write_text("not ours")
    (out / "03_custom.html").write_text("not ours either")  # named like a page, but no manifest lists it
    result = run_review(mini_crm, "2025Q4", out, only=["tiny"], notebooks_dir=fixture_notebooks)
    assert result.exit_code == 0
    assert [p.name for p in result.pages] == ["01_tiny"]
    assert not (out / "02_broken.html").exists() and not (out / "notebooks" / "02_broken.ipynb").exists()
    assert (out / "keep.txt").read_text() == "not ours"
    assert (out / "03_custom.html").read_text() == "not ours either"
    assert "02_broken.html" not in (out / ".salesops-manifest.json").read_text()


def test_data_values_are_escaped_in_the_pages(mini_crm_copy, tmp_path):
    accounts = mini_crm_copy / "accounts.csv"
    accounts.write_text(
        accounts.read_text()
        + f"A006,{SCRIPT},Software,-3,DE,EMEA,SMB,R01,2025-06-01\n"
        + "A007,=HYPERLINK(\"http://evil\"),Software,-1,DE,EMEA,SMB,R01,2025-06-02\n"
    )
    result = run_review(mini_crm_copy, "2025Q4", tmp_path / "out", only=["data_quality"])
    assert result.exit_code == 0, [p.message for p in result.pages]
    page = (tmp_path / "out" / "01_data_quality.html").read_text()
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    quarantined = (tmp_path / "out" / "quarantine" / "accounts.csv").read_text()
    assert "'=HYPERLINK" in quarantined
    assert SCRIPT in quarantined  # CSV keeps the value as it was; only formulas are neutralised


def test_copied_notebooks_dir_is_used(mini_crm, fixture_notebooks, tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    shutil.copy(fixture_notebooks / "01_tiny.ipynb", folder / "07_tiny.ipynb")
    (folder / "notes.ipynb").write_text("{}")  # not NN_area: ignored
    result = run_review(mini_crm, "2025Q4", tmp_path / "out", notebooks_dir=folder, jobs=1)
    assert [p.name for p in result.pages] == ["07_tiny"]


# --- a real export, through a mapping ------------------------------------------------------------------------

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "maven_crm_sales_opportunities"


@pytest.mark.real
@pytest.mark.slow
def test_review_of_the_real_maven_export_with_its_mapping(tmp_path):
    if not REAL.is_dir():
        pytest.skip(f"real data not found at {REAL} (it sits beside the clone on CI)")
    result = run_review(REAL, "latest", tmp_path / "out", only=["data_quality"], mapping="maven_crm")
    assert result.exit_code == 0, [p.message for p in result.pages]
    assert result.quarter == Quarter(2017, 4)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())["metrics"]
    # open deals lack close date / value / account and are rejected, never dropped
    assert metrics["data_quality.rows_rejected"]["value"] > 0
    assert (tmp_path / "out" / "quarantine" / "opportunities.csv").exists()
    executed = nbformat.read(tmp_path / "out" / "notebooks" / "01_data_quality.ipynb", as_version=4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'mapping = "maven_crm"' in injected.source


REAL_SETS = {  # data set: (source inside ../shared/data/real, mapping, pages not applicable to it)
    "cdnow": ("cdnow_lifetimes/cdnow_master_transactions.csv", "io/fixtures/mappings/cdnow.yaml", {"06_comp_whatif"}),
    "online_retail": ("uci_online_retail/online_retail_raw.parquet", "io/fixtures/mappings/online_retail.yaml",
                      {"06_comp_whatif"}),
    "maven_crm": ("maven_crm_sales_opportunities", "maven_crm", {"06_comp_whatif"}),
}


@pytest.mark.real
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REAL_SETS))
def test_the_whole_review_runs_on_each_real_export(name, tmp_path):
    """Every page ok, or (the comp page, on data without reps or quotas) not applicable with its reason."""
    source, mapping, not_applicable = REAL_SETS[name]
    data = REAL.parent / source
    if not data.exists():
        pytest.skip(f"real data not found at {data} (it sits beside the clone on CI)")
    mapping_arg = str(Path(__file__).parent / mapping) if mapping.endswith(".yaml") else mapping
    result = run_review(data, "latest", tmp_path / "out", mapping=mapping_arg, jobs=2)
    statuses = {p.name: p.status for p in result.pages}
    assert result.exit_code == 0, [(p.name, p.message) for p in result.pages if not p.ok]
    assert {n for n, s in statuses.items() if s == "not_applicable"} == not_applicable
    assert all(s == "ok" for n, s in statuses.items() if n not in not_applicable), statuses
    comp = next(p for p in result.pages if p.name == "06_comp_whatif")
    assert "table is missing" in comp.message


# --- the committed sample, as `make review` runs it ----------------------------------------------------------

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"
_DOC_KEY = re.compile(r"^\|\s*`([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)`\s*\|")


@pytest.fixture(scope="session")
def sample_reviewed(tmp_path_factory):
    from _sample_review import sample_review

    return sample_review(tmp_path_factory)


def documented_keys() -> list[str]:
    """Keys listed in docs/metrics.md: table rows starting with a back-quoted key."""
    return [m.group(1) for line in DOCS.read_text(encoding="utf-8").splitlines() if (m := _DOC_KEY.match(line))]


def nullable_keys() -> set[str]:
    """Keys of the list under "## Values that may be null" in docs/metrics.md."""
    text = DOCS.read_text(encoding="utf-8").split("## Values that may be null", 1)
    return set(re.findall(r"^- `([a-z0-9_.]+)`", text[1], flags=re.M)) if len(text) == 2 else set()


def test_docs_metrics_lists_keys():
    keys = documented_keys()
    assert "summary.bookings" in keys and "data_quality.rows_read" in keys
    assert nullable_keys() <= set(keys), "a key that may be null is documented in its area's table too"


@pytest.mark.slow
def test_review_of_the_committed_sample(sample_reviewed):
    result, out = sample_reviewed
    assert result.quarter == Quarter(2025, 4), "the sample runs 2023-01-01 to 2025-12-31"
    assert result.exit_code == 0, [(p.name, p.message) for p in result.failed]
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["notebooks"].values()) == {"ok"}
    assert metrics["metrics"]["data_quality.rows_read"]["value"] > 10_000
    # the executive summary comes first, on the index and in reading order
    assert result.pages[0].name == "00_executive_summary"
    index = (out / "index.html").read_text()
    assert index.index('href="00_executive_summary.html"') < min(
        index.index(f'href="{p.name}.html"') for p in result.pages[1:]
    )
    truth = json.loads((SAMPLE / "truth.json").read_text())
    bookings = truth["seasonality"]["realised"]["bookings_by_quarter"]
    assert metrics["metrics"]["summary.bookings"]["value"] == pytest.approx(bookings["2025Q4"])
    assert metrics["metrics"]["summary.bookings_change_vs_previous"]["value"] == pytest.approx(
        bookings["2025Q4"] / bookings["2025Q3"] - 1
    )


@pytest.mark.slow
def test_every_documented_metric_is_recorded_with_a_finite_value(sample_reviewed):
    _, out = sample_reviewed
    recorded = json.loads((out / "metrics.json").read_text())["metrics"]
    documented = documented_keys()
    assert len(documented) == len(set(documented)), "docs/metrics.md lists a key twice"
    missing = [k for k in documented if k not in recorded]
    assert not missing, f"documented in docs/metrics.md but not recorded by the review of the sample: {missing}"
    nullable = nullable_keys()
    bad = {k: recorded[k]["value"] for k in documented
           if not (k in nullable and recorded[k]["value"] is None)
           and not (isinstance(recorded[k]["value"], int | float) and math.isfinite(recorded[k]["value"]))}
    assert not bad, f"documented metrics without a finite value: {bad}"
    undocumented = sorted(set(recorded) - set(documented))
    assert not undocumented, (
        f"metrics recorded by the notebooks but not documented: {undocumented}. Add one row per key to the "
        "table of its area in docs/metrics.md: | `area.name` | unit | what it measures | NN_notebook |; "
        "salesops.report.metrics.markdown_rows(json.load(open('review/metrics.json')), keys) writes them:\n"
        + markdown_rows(json.loads((out / "metrics.json").read_text()), undocumented)
    )


# --- notebook parameters, --compare and progress -------------------------------------------------------------


def _param_notebook(path: Path) -> Path:
    """A notebook declaring ``horizon: int`` and ``label: str`` besides the usual three; records them."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    params = new_code_cell(
        'data_path: str = "../data/sample"  # CRM export\n'
        'quarter: str = "2025Q4"  # quarter under review\n'
        'as_of: str = ""  # as-of day\n'
        "horizon: int = 4  # quarters ahead\n"
        'label: str = "plain"  # a label',
        metadata={"tags": ["parameters"]},
    )
    record = new_code_cell(
        "from salesops.report import record\n"
        'record("param.horizon", horizon, unit="quarters")\n'
        'record("param.label_length", len(label))'
    )
    nb = new_notebook(cells=[new_markdown_cell("# Parameters"), params, record])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_extra_parameters_are_checked_against_the_parameters_cells(tmp_path, fixture_notebooks):
    from salesops.execution.parameters import ParameterError, check_extra_parameters, parse_assignments

    nbs = [fixture_notebooks / "01_tiny.ipynb", _param_notebook(tmp_path / "03_param.ipynb")]
    split = check_extra_parameters({"horizon": "7", "label": "x=y"}, nbs)
    assert split == {"01_tiny": {}, "03_param": {"horizon": 7, "label": "x=y"}}
    assert parse_assignments(["horizon=7", "label=x=y"]) == {"horizon": "7", "label": "x=y"}
    with pytest.raises(ParameterError, match=r"unknown parameter\(s\): horizn; accepted: horizon, label"):
        check_extra_parameters({"horizn": "7"}, nbs)
    with pytest.raises(ParameterError, match=r"quarter \(use --quarter\)"):
        check_extra_parameters({"quarter": "2025Q3"}, nbs)
    with pytest.raises(ParameterError, match="declared int"):
        check_extra_parameters({"horizon": "soon"}, nbs)
    with pytest.raises(ParameterError, match="key=value"):
        parse_assignments(["horizon"])


def test_unknown_parameter_and_missing_comparison_fail_before_anything_runs(mini_crm, fixture_notebooks, tmp_path):
    with pytest.raises(ReviewParameterError, match="unknown parameter"):
        run_review(mini_crm, "2025Q4", tmp_path / "out", notebooks_dir=fixture_notebooks, params={"nope": "1"})
    with pytest.raises(ReviewParameterError, match="--compare: .*earlier review"):
        run_review(mini_crm, "2025Q4", tmp_path / "out", notebooks_dir=fixture_notebooks, compare=tmp_path)
    assert not (tmp_path / "out").exists()


def test_parameters_compare_and_progress_end_to_end(reviewed, mini_crm, fixture_notebooks, tmp_path):
    _, previous = reviewed
    folder = tmp_path / "nbs"
    folder.mkdir()
    shutil.copy(fixture_notebooks / "01_tiny.ipynb", folder / "01_tiny.ipynb")
    _param_notebook(folder / "03_param.ipynb")
    events = []
    result = run_review(mini_crm, "2025Q4", tmp_path / "out", notebooks_dir=folder, jobs=2,
                        params={"horizon": "7"}, compare=previous,
                        progress=lambda *event: events.append(event))
    assert result.exit_code == 0, [p.message for p in result.pages]
    out = tmp_path / "out"
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    assert metrics["param.horizon"]["value"] == 7 and metrics["param.label_length"]["value"] == len("plain")
    # progress: each notebook started, then done with its time
    for name in ("01_tiny", "03_param"):
        kinds = [e[0] for e in events if e[1] == name]
        assert kinds == ["started", "done"], events
    assert all(e[2] > 0 for e in events if e[0] == "done")
    assert all(p.seconds > 0 and p.kernel_seconds is not None and p.kernel_seconds < p.seconds
               for p in result.pages)
    # comparison with the tiny CRM's review by the real notebooks
    comparison = json.loads((out / "comparison.json").read_text())
    assert comparison["metrics"]["param.horizon"]["status"] == "added"
    assert comparison["metrics"]["data_quality.rows_read"]["status"] == "removed"
    assert result.comparison == out / "comparison.html"
    assert 'href="comparison.html"' in (out / "index.html").read_text()


def test_span_is_the_same_whatever_the_layout(mini_crm_copy):
    """Without is_closed the file alone cannot tell closed deals' close dates from open deals' forecasts: the
    cheap scan gives way to the loader, which derives is_closed from the stages, so both layouts give one span."""
    import pandas as pd

    with_flags = data_span(mini_crm_copy)
    csv = mini_crm_copy / "opportunities.csv"
    frame = pd.read_csv(csv, dtype=str)
    frame.drop(columns=["is_closed", "is_won"]).to_csv(csv, index=False)
    assert cheap_span(mini_crm_copy) is None
    without = data_span(mini_crm_copy)
    assert without.end == with_flags.end
    assert latest_complete_quarter(mini_crm_copy) == Quarter(2025, 4)


def test_a_page_not_applicable_to_the_data_says_why_and_does_not_fail_the_review(mini_crm, fixture_notebooks,
                                                                                  tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    shutil.copy(fixture_notebooks / "01_tiny.ipynb", folder / "01_tiny.ipynb")
    nb = nbformat.read(fixture_notebooks / "01_tiny.ipynb", as_version=4)
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Needs reps"),
        nb.cells[1],  # the parameters cell
        nbformat.v4.new_code_cell('from salesops.report import page_not_applicable\n'
                                  'page_not_applicable("the data have no reps table, so no payout can be computed")'),
        nbformat.v4.new_markdown_cell("## A section after the stop"),
        nbformat.v4.new_code_cell('raise RuntimeError("a cell after the stop ran")'),
    ]
    nbformat.write(nb, folder / "02_needs_reps.ipynb")
    out = tmp_path / "out"
    result = run_review(mini_crm, "2025Q4", out, notebooks_dir=folder, jobs=2)
    assert result.exit_code == 0
    assert [(p.name, p.status) for p in result.pages] == [("01_tiny", "ok"), ("02_needs_reps", "not_applicable")]
    assert result.pages[1].message == "the data have no reps table, so no payout can be computed"
    page = (out / "02_needs_reps.html").read_text()
    assert "This page cannot be shown for these data." in page and "The data have no reps table" in page
    assert "Traceback" not in page and "PageNotApplicable" not in page and "a cell after the stop ran" not in page
    assert "A section after the stop" not in page and "papermill" not in page.lower()
    index = (out / "index.html").read_text()
    assert "so-badge so-not_applicable" in index and "no page failed" in index
    assert json.loads((out / "metrics.json").read_text())["notebooks"]["02_needs_reps"] == "not_applicable"
