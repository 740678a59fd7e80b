"""Fixtures of the people tests: the committed sample (loaded once per session), its planted truths, and the
studies the tests share (each computed once)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


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
