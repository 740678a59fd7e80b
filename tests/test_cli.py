"""The command line: exit codes 0 / 1 / 2 and the messages that go with them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest


def test_review_of_the_tiny_crm_exits_0(reviewed):
    run, out = reviewed
    assert run.code == 0, run.stderr
    assert "ok     01_data_quality" in run.stdout
    assert f"index: {out.resolve() / 'index.html'}" in run.stdout
    assert "rejected rows:" in run.stdout  # mini_crm has one bad opportunity
    # progress on stderr, one line per event and notebook
    assert "[review] 00_executive_summary: started" in run.stderr
    assert re.search(r"\[review\] 01_data_quality: done in \d+\.\d s", run.stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quarter", "2025-Q4"], "is not of the form YYYYQn"),
        (["--quarter", "2025Q5"], "is not of the form YYYYQn"),
        (["--quarter", "2019Q1"], "is not covered by the data"),
        (["--quarter", "2027Q1"], "is not covered by the data"),
        (["--only", "no_such_area"], "unknown area(s): no_such_area; known areas: executive_summary, data_quality"),
        (["--param", "no_such_parameter=1"], "unknown parameter(s): no_such_parameter; accepted:"),
        (["--param", "quarter=2025Q3"], "quarter (use --quarter)"),
        (["--param", "novalue"], "is not of the form key=value"),
        (["--param", "n_runs=0"], "--param n_runs=0: expected a whole number in [1, 1000000]"),
        (["--param", "stale_days=-5"], "--param stale_days=-5: expected a whole number in [0, 3650]"),
        (["--param", "stale_days=soon"], "--param stale_days=soon: expected a whole number"),
        (["--compare", "no/such/review"], "--compare: no/such/review does not exist"),
        (["--jobs", "0"], "--jobs must be at least 1"),
        (["--as-of", "yesterday-ish"], "is not a date"),
    ],
)
def test_review_bad_arguments_exit_2(cli, mini_crm, tmp_path, args, message):
    run = cli("review", "--data", mini_crm, "--out", tmp_path / "out", *args)
    assert run.code == 2
    assert message in run.stderr
    assert run.stderr.startswith("salesops: error: ")
    assert not (tmp_path / "out").exists(), "nothing may be written before the parameters are checked"


def test_review_missing_data_folder_exits_2(cli, tmp_path):
    run = cli("review", "--data", tmp_path / "nowhere", "--quarter", "2025Q4", "--out", tmp_path / "out")
    assert run.code == 2
    assert "data folder" in run.stderr and "does not exist" in run.stderr


def test_review_refuses_a_password_in_the_url(cli, tmp_path):
    run = cli("review", "--data", "postgresql://ann:hunter2@localhost/crm", "--out", tmp_path / "out")
    assert run.code == 2
    assert "${VARIABLE}" in run.stderr
    assert "hunter2" not in run.stderr


def test_review_with_a_failed_notebook_exits_1(cli, mini_crm, fixture_notebooks, tmp_path):
    run = cli("review", "--data", mini_crm, "--quarter", "2025Q4", "--out", tmp_path / "out",
              "--notebooks", fixture_notebooks, "--only", "broken")
    assert run.code == 1
    assert "failed 02_broken: RuntimeError: deliberately broken for the test" in run.stdout
    assert "1 page(s) failed" in run.stderr


def test_validate_prints_the_summary_and_exits_0(cli, mini_crm):
    run = cli("validate", "--data", mini_crm)
    assert run.code == 0, run.stderr
    assert "opportunities" in run.stdout
    assert "1 row(s) rejected" in run.stdout


def test_validate_strict_exits_1_when_rows_were_rejected(cli, mini_crm):
    run = cli("validate", "--data", mini_crm, "--strict")
    assert run.code == 1
    assert "rows were rejected (--strict)" in run.stderr
    assert "O010" in run.stderr  # the problem list names the record


def test_validate_strict_exits_0_on_clean_data(cli, mini_crm_copy):
    path = mini_crm_copy / "opportunities.csv"
    path.write_text(path.read_text().replace(",-500,", ",500,"))
    run = cli("validate", "--data", mini_crm_copy, "--strict")
    assert run.code == 0, run.stderr
    assert "no rows rejected" in run.stdout


def test_validate_exits_1_with_the_loader_message(cli, mini_crm_copy):
    path = mini_crm_copy / "accounts.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line.split(",", 1)[1] for line in lines) + "\n")  # drop account_id
    run = cli("validate", "--data", mini_crm_copy)
    assert run.code == 1
    assert "account_id" in run.stderr
    assert "accounts.csv" in run.stderr


def test_validate_missing_folder_exits_2(cli, tmp_path):
    run = cli("validate", "--data", tmp_path / "nowhere")
    assert run.code == 2
    assert "does not exist" in run.stderr


def test_validate_missing_mapping_file_exits_2(cli, mini_crm, tmp_path):
    run = cli("validate", "--data", mini_crm, "--mapping", tmp_path / "mine.yaml")
    assert run.code == 2
    assert "mapping file" in run.stderr


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["review", "--jobs", "many"], ["validate"]])
def test_usage_errors_exit_2(cli, argv):
    run = cli(*argv)
    assert run.code == 2
    assert "usage: salesops" in run.stderr


def test_help_exits_0(cli):
    run = cli("--help")
    assert run.code == 0
    assert "review" in run.stdout and "validate" in run.stdout and "sample" in run.stdout


def test_python_dash_m_salesops(tmp_path):
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "salesops", "review", "--quarter", "2025Q9", "--data", "tests/fixtures/mini_crm",
         "--out", str(tmp_path / "out")],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert "2025Q9" in done.stderr


def test_sample_writes_a_loadable_crm(cli, tmp_path):
    run = cli("sample", "--out", tmp_path / "crm", "--seed", "7", "--size", "0.01")
    assert run.code == 0, run.stderr
    assert (tmp_path / "crm" / "truth.json").exists()
    check = cli("validate", "--data", tmp_path / "crm", "--strict")
    assert check.code == 0, check.stderr


def test_sample_bad_size_exits_2(cli, tmp_path):
    run = cli("sample", "--out", tmp_path / "crm", "--size", "huge")
    assert run.code == 2
    assert "size" in run.stderr


def test_review_quiet_and_compare(cli, reviewed, mini_crm, fixture_notebooks, tmp_path):
    _, previous = reviewed
    run = cli("review", "--data", mini_crm, "--quarter", "2025Q4", "--out", tmp_path / "out", "--quiet",
              "--notebooks", fixture_notebooks, "--only", "tiny", "--compare", previous)
    assert run.code == 0, run.stderr
    assert "[review]" not in run.stderr
    assert f"comparison: {(tmp_path / 'out' / 'comparison.html').resolve()}" in run.stdout
