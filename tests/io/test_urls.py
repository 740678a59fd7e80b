"""Database URLs: a password or token written anywhere in one is refused, ``${VAR}`` is expanded with the value
percent-encoded where the URL would split on it, and no output of a review (pages, metrics, executed notebooks,
quarantine, progress lines, error messages) shows a secret in any form."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy.engine import make_url

from salesops.io.urls import (
    SecretInUrlError,
    check_url_secrets,
    expand_env,
    literal_secrets,
    redact_url,
    scrub,
)

ROOT = Path(__file__).resolve().parents[2]
LITERAL = "Hunter2xQ"

LITERAL_FORMS = [
    (f"postgresql://analyst:{LITERAL}@db.example/crm", "user-info"),
    (f"postgresql://analyst:{LITERAL}/x@db.example/crm", "user-info"),
    (f"postgresql://analyst@db.example/crm?password={LITERAL}", "password="),
    (f"postgresql://analyst@db.example:5432/crm?sslmode=require&pwd={LITERAL}", "pwd="),
    (f"postgresql://analyst@db.example/crm?PASSWORD={LITERAL}", "PASSWORD="),
    (f"postgresql://analyst@db.example/crm?token={LITERAL}", "token="),
    (f"postgresql://analyst@db.example/crm?secret={LITERAL}", "secret="),
    (f"postgresql://analyst@db.example/crm?sslpassword={LITERAL}", "sslpassword="),
    (f"snowflake://analyst@account/crm?api_key={LITERAL}", "api_key="),
    (f"postgresql://analyst@db.example/crm?access_token={LITERAL}&x=1", "access_token="),
    (f"postgresql://analyst@db.example/crm#{LITERAL}", "#fragment"),
    (f"postgresql://analyst@db.example/crm#password={LITERAL}", "#fragment"),
    (f"mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BUID%3Du%3BPWD%3D{LITERAL}", "PWD="),
]


@pytest.mark.parametrize(("url", "where"), LITERAL_FORMS)
def test_a_literal_secret_anywhere_is_refused_and_never_shown(url, where):
    assert any(where in found for found in literal_secrets(url)), literal_secrets(url)
    with pytest.raises(SecretInUrlError, match=r"\$\{VARIABLE\}") as info:
        check_url_secrets(url)
    assert LITERAL not in str(info.value)
    assert LITERAL not in redact_url(url)


@pytest.mark.parametrize(("url", "where"), LITERAL_FORMS)
@pytest.mark.parametrize("command", ["review", "validate"])
def test_the_command_line_refuses_every_form_with_exit_2(cli, tmp_path, url, where, command):
    args = ["--out", tmp_path / "out"] if command == "review" else []
    run = cli(command, "--data", url, *args)
    assert run.code == 2
    assert "carries a password or token" in run.stderr and where.lstrip("#") in run.stderr
    assert LITERAL not in run.stderr + run.stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://analyst:${PGPASSWORD}@db.example/crm",
        "postgresql://analyst@db.example/crm?password=${PGPASSWORD}&sslmode=require",
        "postgresql://analyst@db.example/crm?sslpassword=${KEY_PASS}&application_name=review",
        "postgresql://analyst@db.example:5432/crm",
        "postgresql://analyst:@db.example/crm?password=",
        "duckdb:///:memory:",
    ],
)
def test_placeholders_and_urls_without_secrets_pass(url):
    assert literal_secrets(url) == []
    assert check_url_secrets(url) == url


def test_redaction_hides_placeholders_and_expanded_values_too():
    url = "postgresql://a:${PW}@h:5/db?password=${PW}&application_name=x"
    assert redact_url(url) == "postgresql://a:***@h:5/db?password=***&application_name=x"
    assert redact_url("postgresql://h/Zq7@pa%41ss", secrets=["Zq7@pa%41ss"]) == "postgresql://h/***"


SECRET = "Zq7@pa%41ss:w/o?r#d&k"  # '@' and '%' (and every other character a URL splits on)


def test_expansion_percent_encodes_in_the_user_info_and_the_query():
    expanded, values = expand_env("postgresql://a:${PW}@h:5/db?password=${PW}&x=1", {"PW": SECRET})
    assert values == [SECRET, SECRET]
    url = make_url(expanded)
    assert (url.password, url.host, url.port, url.database) == (SECRET, "h", 5, "db")
    assert url.query == {"password": SECRET, "x": "1"}
    with pytest.raises(KeyError, match="NOPE"):
        expand_env("postgresql://a:${NOPE}@h/db", {})


def test_scrub_removes_raw_and_encoded_forms():
    text = f"a {SECRET} b {quote(SECRET, safe='')} c {quote_plus(SECRET)} d {quote(SECRET)}"
    assert scrub(text, [SECRET]) == "a *** b *** c *** d ***"


# --- a review over PostgreSQL with a ${VAR} secret ----------------------------------------------------------


def _forms(secret: str) -> list[str]:
    """The secret as it could leak: raw, percent- and form-encoded, its pieces around '@', base64 at any offset."""
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), *(p for p in secret.split("@") if len(p) > 3)}
    forms.add(secret.replace("%41", "A"))  # percent-decoded once
    raw = secret.encode()
    for skip in range(3):  # whatever precedes it, base64 of the secret holds one of these three runs
        forms.add(base64.b64encode(raw[skip:]).decode()[: (len(raw) - skip) // 3 * 4])
    return sorted(f for f in forms if len(f) > 3)


def _texts(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_bytes().decode("utf-8", "replace")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _review(url: str, out: Path, secret: str, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PW_FOR_TEST": secret, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "salesops", "review", "--data", url, "--quarter", "2025Q4", "--out", str(out),
         "--only", "data_quality", "--jobs", "1", *extra],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
    )


@pytest.mark.postgres
def test_a_review_over_postgres_never_shows_the_secret(postgres_url, sql_writer, tmp_path, mini_crm):
    import salesops

    loaded = salesops.load(mini_crm)
    tables = dict(loaded.tables)
    bad = tables["opportunities"].iloc[[0]].assign(opportunity_id="O010", amount=-500.0)
    tables["opportunities"] = tables["opportunities"]._append(bad, ignore_index=True)
    sql_writer(postgres_url, tables)
    forms = _forms(SECRET)
    assert SECRET in forms and "pa%41ss:w/o?r#d&k" in forms

    # the secret in the query string (the form that split on '@' before) and in the user-info part
    url = postgres_url + "?password=${PW_FOR_TEST}"
    run = _review(url, tmp_path / "out", SECRET)
    assert run.returncode == 0, run.stderr
    texts = _texts(tmp_path / "out")
    assert {"index.html", "metrics.json", "01_data_quality.html", "notebooks/01_data_quality.ipynb",
            "quarantine/problems.csv"} <= set(texts)
    assert "password=***" in texts["index.html"]
    assert "${PW_FOR_TEST}" in texts["notebooks/01_data_quality.ipynb"]  # the parameter is the placeholder
    texts["stdout"], texts["stderr"] = run.stdout, run.stderr

    # a database that does not exist: the error reaches stderr (and names the database)
    wrong = url.replace("postgresql://postgres@", "postgresql://postgres:${PW_FOR_TEST}@").replace(
        postgres_url.rsplit("/", 1)[1], "no_such_database")
    failed = _review(wrong, tmp_path / "failed", SECRET)
    assert failed.returncode == 1 and "no_such_database" in failed.stderr and "***" in failed.stderr
    texts["failed stderr"], texts["failed stdout"] = failed.stderr, failed.stdout
    check = subprocess.run([sys.executable, "-m", "salesops", "validate", "--data", wrong], capture_output=True,
                           text=True, env={**os.environ, "PW_FOR_TEST": SECRET, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    assert check.returncode == 1
    texts["validate stderr"] = check.stderr + check.stdout

    leaks = [(name, form) for name, text in texts.items() for form in forms if form in text]
    assert leaks == []
