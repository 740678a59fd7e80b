"""Fixtures of the lead tests: the committed sample (loaded once), its planted truths, the generator's
per-lead probabilities, and the fitted lead scores (fitted once per session)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]


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
