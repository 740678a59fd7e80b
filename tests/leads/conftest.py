"""Fixtures of the lead tests: the committed sample (loaded once), its planted truths, the generator's
per-lead probabilities, and the fitted lead scores (fitted once per session)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import salesops as so

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"


@pytest.fixture(scope="session")
def sample():
    """``salesops.load("data/sample")``."""
    return so.load(SAMPLE)


@pytest.fixture(scope="session")
def truth() -> dict:
    """The planted truths of the sample (tests may read them; the package may not)."""
    return json.loads((SAMPLE / "truth.json").read_text())


@pytest.fixture(scope="session")
def hidden_leads() -> pd.DataFrame:
    """Per-lead true probabilities, regenerated with the committed sample's seed and size."""
    from salesops.sample import generate

    return generate().hidden["leads"]


@pytest.fixture(scope="session")
def sql_score(sample):
    from salesops.leads import score_leads

    return score_leads(sample.leads, sample.opportunities, sample.accounts, target="sql", as_of=sample.as_of)


@pytest.fixture(scope="session")
def won_score(sample):
    from salesops.leads import score_leads

    return score_leads(sample.leads, sample.opportunities, sample.accounts, target="won", as_of=sample.as_of)
