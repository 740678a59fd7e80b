"""Shared test set-up: seeded randomness, the Agg backend, figures closed after each test, the fixture
folders, the committed sample loaded once per session (``sample``, ``truth``), one review run shared by the
tests that only read its output, and "a skip is a failure" on CI."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the checkout is importable even before `pip install -e .`
    sys.path.insert(0, str(ROOT))

FIXTURES = ROOT / "tests" / "fixtures"
MINI_CRM = FIXTURES / "mini_crm"
FIXTURE_NOTEBOOKS = FIXTURES / "notebooks"
NOTEBOOKS = ROOT / "notebooks"
ON_CI = os.environ.get("CI", "").strip().lower() == "true"
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def sample():
    """``salesops.load("data/sample")``, once for the whole session (every area's tests read it, none writes)."""
    if not any(SAMPLE.glob("opportunities.*")):
        pytest.fail(f"the committed sample is missing from {SAMPLE}")
    import salesops

    return salesops.load(SAMPLE)


@pytest.fixture(scope="session")
def truth() -> dict:
    """The sample's planted truths (tests may read them; no package or notebook code does)."""
    return json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _seeded_and_tidy():
    """Seed every random generator before a test; close every figure after it."""
    random.seed(12345)
    np.random.seed(12345)  # noqa: NPY002 - the legacy global generator is what unseeded code draws from
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def mini_crm() -> Path:
    """The tiny canonical CRM folder (one opportunity rejected on purpose)."""
    return MINI_CRM


@pytest.fixture
def mini_crm_copy(tmp_path: Path) -> Path:
    """A writable copy of the tiny CRM, for tests that add mistakes."""
    import shutil

    target = tmp_path / "mini_crm"
    shutil.copytree(MINI_CRM, target)
    return target


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str


def run_cli(*argv: str) -> CliRun:
    """Run ``salesops.cli.main`` in-process, capturing its output."""
    from salesops.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return CliRun(code, out.getvalue(), err.getvalue())


@pytest.fixture
def fixture_notebooks() -> Path:
    """``01_tiny.ipynb`` (works, records ``tiny.opportunities``) and ``02_broken.ipynb`` (fails on purpose)."""
    return FIXTURE_NOTEBOOKS


@pytest.fixture
def cli():
    """``cli("validate", "--data", path)`` -> CliRun(code, stdout, stderr)."""
    return run_cli


@pytest.fixture(scope="session")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> tuple[CliRun, Path]:
    """``salesops review`` of the tiny CRM with the real notebooks, run once for the session."""
    out = tmp_path_factory.mktemp("review") / "out"
    run = run_cli("review", "--data", MINI_CRM, "--quarter", "2025Q4", "--out", out, "--jobs", "2")
    return run, out


# --- on CI a skip is a failure ------------------------------------------------------------------------------

_collection_skips: list[str] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if ON_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped with CI=true, which counts as a failure here: {reason}"


def pytest_collectreport(report):
    if ON_CI and report.skipped:
        _collection_skips.append(f"{report.nodeid}: {report.longrepr}")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _collection_skips:
        terminalreporter.section("skipped at collection with CI=true (counted as failures)")
        for line in _collection_skips:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session, exitstatus):
    if _collection_skips and session.exitstatus == 0:
        session.exitstatus = 1
