"""Fixtures for the sample-generator tests: the default sample (generated once per session) and a small one."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesops.sample import SampleCRM, generate

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DIR = REPO / "data" / "sample"


@pytest.fixture(scope="session")
def full() -> SampleCRM:
    """The committed sample: default seed and size."""
    return generate()


@pytest.fixture(scope="session")
def small() -> SampleCRM:
    """A small, fast version."""
    return generate(size=0.1)


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE_DIR
