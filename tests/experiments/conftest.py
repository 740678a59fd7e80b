"""Fixtures of the experiments tests: the committed sample (loaded once per session), its planted truths, the
real data folder, and the studies the tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
MAVEN = REAL / "maven_crm_sales_opportunities"


@pytest.fixture(scope="session")
def maven(request):
    """The Maven CRM export loaded through its mapping (skips, visibly, when the real data are absent)."""
    if not MAVEN.is_dir():
        pytest.skip(f"real data set not found at {MAVEN} (the real data sets live beside the checkout, never in it)")
    import salesops as so

    return so.load(MAVEN, mapping="maven_crm")


@pytest.fixture(scope="session")
def process(sample):
    from salesops.experiments import process_change_study

    return process_change_study(sample, quarter="2025Q4")


@pytest.fixture(scope="session")
def webinar(sample):
    from salesops.experiments import campaign_lift_study

    return campaign_lift_study(sample, quarter="2025Q4")
