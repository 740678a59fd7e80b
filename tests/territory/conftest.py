"""Fixtures of the territory tests: the committed sample (loaded once) and its planted truths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import salesops as so

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="session")
def sample():
    return so.load(SAMPLE)


@pytest.fixture(scope="session")
def truth() -> dict:
    return json.loads((SAMPLE / "truth.json").read_text())
