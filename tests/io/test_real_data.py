"""Real public exports (``../shared/data/real``, see its README) through the loader.

Every expected figure is computed here a second time with plain pandas on the raw file, and the README's
reference number is asserted too, so a loader bug cannot hide behind a figure it computed itself. The
folder is absent in a user's fresh clone: then these tests skip with the reason (and fail under CI=true).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import salesops

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
MAPPINGS = Path(__file__).parent / "fixtures" / "mappings"

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(
        not REAL.is_dir(),
        reason=f"real data sets not found at {REAL} (they live beside the checkout, never in it)",
    ),
]


def _read_equals_accepted_plus_rejected(data) -> None:
    for counts in (data.quality.counts, data.quality.table_counts()):
        assert (counts["read"] == counts["accepted"] + counts["rejected"]).all(), counts


def _counts(data, table: str) -> dict[str, int]:
    row = data.quality.table_counts().set_index("table").loc[table]
    return {k: int(row[k]) for k in ("read", "accepted", "rejected")}


# --------------------------------------------------------------------------- Maven CRM

MAVEN = REAL / "maven_crm_sales_opportunities"


@pytest.fixture(scope="module")
def maven_raw() -> pd.DataFrame:
    return pd.read_csv(MAVEN / "sales_pipeline.csv", dtype=str, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def maven():
    return salesops.load(MAVEN, mapping="maven_crm")


def test_maven_counts(maven, maven_raw):
    _read_equals_accepted_plus_rejected(maven)
    assert len(maven_raw) == 8_800
    assert _counts(maven, "opportunities") == {"read": 8_800, "accepted": 6_711, "rejected": 2_089}
    assert _counts(maven, "reps") == {"read": 35, "accepted": 35, "rejected": 0}
    assert _counts(maven, "accounts") == {"read": 85, "accepted": 85, "rejected": 0}
    assert _counts(maven, "stages") == {"read": 4, "accepted": 4, "rejected": 0}
    assert "products.csv (ignored by mapping maven_crm)" in maven.quality.ignored


def test_maven_stages_as_read(maven, maven_raw):
    """Rows read per stage = accepted + quarantined, and both match the README and plain pandas."""
    readme = {"Won": 4_238, "Lost": 2_473, "Engaging": 1_589, "Prospecting": 500}
    assert maven_raw["deal_stage"].value_counts().to_dict() == readme
    accepted = maven.opportunities["stage"].value_counts()
    quarantined = maven.quality.quarantine["opportunities"]["deal_stage"].value_counts()
    as_read = accepted.add(quarantined, fill_value=0).astype(int).to_dict()
    assert as_read == readme
    # closed deals accepted, every open deal rejected
    assert accepted.to_dict() == {"Won": 4_238, "Lost": 2_473}
    assert quarantined.to_dict() == {"Engaging": 1_589, "Prospecting": 500}


def test_maven_reference_figures(maven, maven_raw):
    opps = maven.opportunities
    closed = opps[opps["is_closed"]]
    win_rate = closed["is_won"].mean()
    won_value = opps.loc[opps["is_won"], "amount"].sum()
    cycle = (closed["close_date"] - closed["created_date"]).dt.days
    won_cycle = cycle[closed["is_won"]]
    # README reference figures
    assert round(win_rate, 4) == 0.6315
    assert won_value == 10_005_534
    assert cycle.median() == 45
    assert won_cycle.median() == 57
    # the same with plain pandas on the raw file
    raw_closed = maven_raw[maven_raw["deal_stage"].isin(["Won", "Lost"])]
    assert win_rate == pytest.approx((raw_closed["deal_stage"] == "Won").mean())
    assert won_value == raw_closed.loc[raw_closed["deal_stage"] == "Won", "close_value"].astype(float).sum()
    raw_days = (pd.to_datetime(raw_closed["close_date"]) - pd.to_datetime(raw_closed["engage_date"])).dt.days
    assert cycle.median() == raw_days.median()
    assert won_cycle.median() == raw_days[raw_closed["deal_stage"] == "Won"].median()


def test_maven_open_deals_rejected_with_reasons(maven, maven_raw):
    """Each open deal is rejected, and exactly its missing values are named."""
    reason = {"close_date": "close_date", "close_value": "amount", "account": "account_id", "engage_date": "created_date"}
    open_deals = maven_raw[maven_raw["deal_stage"].isin(["Engaging", "Prospecting"])]
    expected = {
        (row.opportunity_id, canonical)
        for row in open_deals.itertuples(index=False)
        for raw_column, canonical in reason.items()
        if pd.isna(getattr(row, raw_column))
    }
    problems = maven.quality.rejected
    problems = problems[problems["table"] == "opportunities"]
    assert set(problems["check"]) == {"not_null"}
    assert set(zip(problems["record_id"], problems["column"])) == expected
    assert len(problems) == len(expected)
    assert problems["record_id"].nunique() == len(open_deals) == 2_089
    # the README's quirks, counted from the raw file
    assert open_deals["close_date"].isna().all() and open_deals["close_value"].isna().all()
    assert open_deals["account"].isna().sum() == 1_425 == (problems["column"] == "account_id").sum()
    assert (problems["column"] == "created_date").sum() == 500
    # the row numbers point at the right lines of the file
    first = problems.iloc[0]
    assert maven_raw.iloc[int(first["row"]) - 1]["opportunity_id"] == first["record_id"]


def test_maven_recodes(maven, maven_raw):
    products = maven.opportunities["product"]
    assert "GTX Pro" in set(products) and "GTXPro" not in set(products)
    raw_closed = maven_raw[maven_raw["deal_stage"].isin(["Won", "Lost"])]
    assert (products == "GTX Pro").sum() == (raw_closed["product"] == "GTXPro").sum()
    accounts = maven.accounts.set_index("account_id")
    assert "technolgy" not in set(accounts["industry"])
    assert accounts.loc["Acme Corporation", "industry"] == "technology"
    assert "Philippines" in set(accounts["country"]) and "Philipines" not in set(accounts["country"])
    reps = maven.reps.set_index("rep_id")
    assert set(reps["role"]) == {"AE"}
    assert reps.loc["Moses Frase", "manager_id"] == "Dustin Brinkmann"
    assert reps.loc["Moses Frase", "region"] == "Central"
    # five agents have no deals; they are reps all the same
    assert len(set(reps.index) - set(maven.opportunities["owner_rep_id"])) == 5


# --------------------------------------------------------------------------- CDNOW

CDNOW = REAL / "cdnow_lifetimes" / "cdnow_master_transactions.csv"


@pytest.fixture(scope="module")
def cdnow_raw() -> pd.DataFrame:
    return pd.read_csv(CDNOW, dtype=str)


@pytest.fixture(scope="module")
def cdnow():
    return salesops.load(CDNOW, mapping=MAPPINGS / "cdnow.yaml")


def test_cdnow(cdnow, cdnow_raw):
    _read_equals_accepted_plus_rejected(cdnow)
    duplicates = int(cdnow_raw.duplicated().sum())
    zero_value = int((cdnow_raw["dollar_value"].astype(float) == 0).sum())
    assert (len(cdnow_raw), cdnow_raw["customer_id"].nunique(), duplicates, zero_value) == (69_659, 23_570, 255, 80)
    assert _counts(cdnow, "transactions") == {"read": 69_659, "accepted": 69_659 - 255, "rejected": 255}
    tx = cdnow.transactions
    assert tx["customer_id"].nunique() == 23_570
    assert tx["customer_id"].iloc[0] == "00001"
    assert tx["customer_id"].str.fullmatch(r"\d{5}").all()
    assert set(tx["customer_id"]) == set(cdnow_raw["customer_id"])
    problems = cdnow.quality.rejected
    assert problems["check"].tolist() == ["duplicate_row"] * 255
    assert (tx["amount"] == 0).sum() == 80  # zero-value purchases are accepted
    assert tx["date"].min() == pd.Timestamp("1997-01-01") and tx["date"].max() == pd.Timestamp("1998-06-30")
    assert tx["amount"].sum() == pytest.approx(cdnow_raw.drop_duplicates()["dollar_value"].astype(float).sum())
    assert tx["quantity"].sum() == cdnow_raw.drop_duplicates()["number_of_cds"].astype(int).sum()


# --------------------------------------------------------------------------- UCI Online Retail

RETAIL = REAL / "uci_online_retail" / "online_retail_raw.parquet"


@pytest.fixture(scope="module")
def retail_raw() -> pd.DataFrame:
    return pd.read_parquet(RETAIL)


@pytest.fixture(scope="module")
def retail():
    return salesops.load(RETAIL, mapping=MAPPINGS / "online_retail.yaml")


@pytest.mark.slow
def test_online_retail(retail, retail_raw):
    _read_equals_accepted_plus_rejected(retail)
    missing = retail_raw["CustomerID"].isna()
    duplicate = retail_raw.duplicated()
    negative = (retail_raw["Quantity"] * retail_raw["UnitPrice"]) < 0
    assert (len(retail_raw), int(missing.sum()), int(duplicate.sum())) == (541_909, 135_080, 5_268)
    bad = missing | duplicate | negative
    assert _counts(retail, "transactions") == {
        "read": 541_909,
        "accepted": int((~bad).sum()),
        "rejected": int(bad.sum()),
    }
    problems = retail.quality.rejected.fillna({"column": "(row)"})
    assert problems.groupby(["column", "check"]).size().to_dict() == {
        ("customer_id", "not_null"): 135_080,
        ("amount", "min_value"): int(negative.sum()),
        ("(row)", "duplicate_row"): 5_268,
    }
    # cancellations (invoice numbers starting with C) are all among the negative amounts
    cancelled = retail_raw["InvoiceNo"].astype(str).str.startswith("C")
    assert cancelled.sum() > 9_000 and not (cancelled & ~negative).any()
    tx = retail.transactions
    assert tx["customer_id"].str.fullmatch(r"\d+").all()  # 17850.0 -> "17850"
    assert "17850" in set(tx["customer_id"])
    assert (tx["amount"] >= 0).all()
    assert not tx["transaction_id"].str.startswith("C").any()
    expected_amount = (retail_raw.loc[~bad, "Quantity"] * retail_raw.loc[~bad, "UnitPrice"]).sum()
    assert tx["amount"].sum() == pytest.approx(expected_amount)


@pytest.mark.slow
def test_online_retail_accounts_are_the_distinct_customers_of_the_order_lines(retail, retail_raw):
    with_id = retail_raw.dropna(subset=["CustomerID"])
    countries = with_id.groupby("CustomerID")["Country"].nunique()
    accounts = retail.accounts.set_index("account_id")
    assert len(accounts) == with_id["CustomerID"].nunique() == 4_372
    assert _counts(retail, "accounts") == {"read": 4_372, "accepted": 4_372, "rejected": 0}
    torn = {str(int(c)) for c in countries[countries > 1].index}
    assert len(torn) == 8 and set(accounts.index[accounts["country"].isna()]) == torn  # nulled, never picked
    single = with_id.groupby("CustomerID")["Country"].first()
    assert accounts.loc["17850", "country"] == single.loc[17850.0] == "United Kingdom"
    notes = " ".join(retail.quality.ignored)
    assert "135,080 row(s)" in notes and "accounts.country: 8 account_id(s)" in notes
