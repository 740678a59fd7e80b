"""Fixtures of the statistics tests: the real public data sets beside the checkout (``../shared/data/real``).

A test that needs one asks for its fixture; when the folder is absent (a user's fresh clone) the fixture skips
the test with the path it looked at, and under CI=true the project's conftest turns that skip into a failure.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
CDNOW = REAL / "cdnow_lifetimes"
MAVEN = REAL / "maven_crm_sales_opportunities"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data set not found at {path} (the real data sets live beside the checkout, never in it)")
    return path


@pytest.fixture(scope="session")
def maven_pipeline() -> pd.DataFrame:
    """Maven CRM deals with parsed engage and close dates."""
    return pd.read_csv(
        _need(MAVEN / "sales_pipeline.csv"), dtype={"opportunity_id": str}, parse_dates=["engage_date", "close_date"]
    )


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """Fader, Hardie & Lee's 2,357-customer calibration summary: ID, frequency, recency, T (weeks)."""
    return pd.read_csv(_need(CDNOW / "cdnow_customers_summary.csv"))


@pytest.fixture(scope="session")
def cdnow_summary_spend() -> pd.DataFrame:
    """The same customers with x, t_x, T and zbar (mean repeat spend)."""
    return pd.read_csv(_need(CDNOW / "cdnow_customers_summary_with_transactions.csv"))


@pytest.fixture(scope="session")
def cdnow_sample_transactions() -> pd.DataFrame:
    """Transactions of the 2,357 sampled customers; ids are strings with leading zeros."""
    return pd.read_csv(
        _need(CDNOW / "cdnow_sample_transactions.csv"), dtype={"sample_customer_id": str, "master_customer_id": str}
    )


@pytest.fixture(scope="session")
def cdnow_master_transactions() -> pd.DataFrame:
    """All 69,659 transactions of the 23,570 customers; ids are strings with leading zeros."""
    return pd.read_csv(_need(CDNOW / "cdnow_master_transactions.csv"), dtype={"customer_id": str})
