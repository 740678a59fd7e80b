"""Fixtures of the people tests: the committed sample (loaded once per session), its planted truths, and the
studies the tests share (each computed once)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def sample(request):
    """``salesops.load("data/sample")``, shared with the experiments tests when both run in one session."""
    cached = getattr(request.config, "_salesops_sample", None)
    if cached is None:
        import salesops as so

        cached = so.load(SAMPLE)
        request.config._salesops_sample = cached
    return cached


@pytest.fixture(scope="session")
def truth() -> dict:
    """The planted truths of the sample (tests may read them; the package may not)."""
    return json.loads((SAMPLE / "truth.json").read_text())


@pytest.fixture(scope="session")
def ramp(sample):
    from salesops.people import ramp_study

    return ramp_study(sample, quarter="2025Q4")


@pytest.fixture(scope="session")
def training(sample):
    from salesops.people import training_study

    return training_study(sample, quarter="2025Q4")


@pytest.fixture(scope="session")
def signals_36m(sample):
    from salesops.people import coaching_signals

    return coaching_signals(sample, as_of="2025-12-31", months=36)
