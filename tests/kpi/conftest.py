"""Fixtures of the KPI tests: the committed sample (loaded once), its planted truths, the real data sets
beside the checkout, and a builder of tiny hand-made CRMs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import salesops
from salesops.io.data import SalesData

ROOT = Path(__file__).resolve().parents[2]
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
MAVEN = REAL / "maven_crm_sales_opportunities"
CDNOW = REAL / "cdnow_lifetimes"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data set not found at {path} (the real data sets live beside the checkout, never in it)")
    return path


@pytest.fixture(scope="session")
def maven() -> SalesData:
    """The Maven CRM export loaded through its mapping preset."""
    return salesops.load(_need(MAVEN), mapping="maven_crm")


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """Fader, Hardie & Lee's 2,357 customers: frequency, recency, T (weeks) and mean repeat spend, in the
    column names of :func:`salesops.kpi.rfm`."""
    frame = pd.read_csv(_need(CDNOW / "cdnow_customers_summary_with_transactions.csv"), dtype={"ID": str})
    return frame.rename(columns={"ID": "customer_id", "x": "frequency", "t_x": "recency",
                                 "zbar": "monetary_value"}).set_index("customer_id")


@pytest.fixture(scope="session")
def cdnow_sample_transactions() -> pd.DataFrame:
    """Transactions of those 2,357 customers as a canonical ``transactions`` table; the customer id is the
    master id without its leading zeros, which is the summary's ``ID``."""
    raw = pd.read_csv(_need(CDNOW / "cdnow_sample_transactions.csv"), dtype={"master_customer_id": str})
    return pd.DataFrame({"customer_id": raw["master_customer_id"].str.lstrip("0"),
                         "date": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
                         "amount": raw["dollar_value"].astype(float)})


def make_data(as_of: str | None = None, **tables: pd.DataFrame) -> SalesData:
    """A SalesData of hand-made tables (date columns given as strings are parsed)."""
    parsed = {}
    for name, frame in tables.items():
        frame = frame.copy()
        for col in frame.columns:
            if col.endswith(("_date", "_at")) or col in ("month", "date"):
                values = pd.to_datetime(frame[col])
                if col.endswith("_at"):
                    values = values.dt.tz_localize("UTC") if values.dt.tz is None else values
                frame[col] = values
        parsed[name] = frame
    stamp = None if as_of is None else pd.Timestamp(as_of, tz="UTC")
    return SalesData(tables=parsed, as_of=stamp, source="test")


@pytest.fixture
def crm():
    """``crm(as_of=..., opportunities=..., ...)`` -> SalesData of tiny tables."""
    return make_data


@pytest.fixture(scope="session")
def sample_panels(sample):
    """The KPI page's sections for the sample's latest complete quarter."""
    from salesops.kpi.panels import kpi_panels

    return kpi_panels(sample, "2025Q4")
