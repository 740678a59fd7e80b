"""The CRM presets in ``templates/mappings/``: small exports in each CRM's own column names and value
formats (tests/io/fixtures/salesforce, tests/io/fixtures/hubspot) load with the expected canonical values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import salesops
from salesops.io import resolve_mapping
from salesops.paths import templates_dir

FIXTURES = Path(__file__).parent / "fixtures"
AS_OF = "2024-06-30"


def _counts(data) -> dict[str, tuple[int, int, int]]:
    counts = data.quality.table_counts()
    assert (counts["read"] == counts["accepted"] + counts["rejected"]).all()
    return {r.table: (int(r.read), int(r.accepted), int(r.rejected)) for r in counts.itertuples(index=False)}


def _by_id(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.set_index(key)


@pytest.mark.parametrize("preset", ["salesforce", "hubspot", "maven_crm"])
def test_preset_parses(preset):
    mapping = resolve_mapping(preset)
    assert mapping.name == preset
    assert mapping.path == templates_dir() / "mappings" / f"{preset}.yaml"
    assert mapping.stages, "each preset states its stage table"


# --------------------------------------------------------------------------- Salesforce


@pytest.fixture(scope="module")
def salesforce():
    return salesops.load(FIXTURES / "salesforce", mapping="salesforce", as_of=AS_OF)


def test_salesforce_counts(salesforce):
    assert _counts(salesforce) == {
        "stages": (10, 10, 0),
        "reps": (4, 4, 0),
        "accounts": (2, 2, 0),
        "opportunities": (5, 5, 0),
        "opportunity_history": (6, 6, 0),
        "leads": (3, 2, 1),
        "activities": (7, 7, 0),
    }
    # the one rejected lead is owned by a queue (00G...), not a user: reported, not dropped
    problem = salesforce.quality.rejected.iloc[0]
    assert (problem["table"], problem["row"], problem["column"], problem["check"]) == (
        "leads", 3, "owner_rep_id", "foreign_key"
    )
    assert problem["value"] == "00G5e00000Queue1AAA"
    # OpportunityFieldHistory rows of other fields than StageName are listed as not read
    assert any("OpportunityFieldHistory.csv: 2 row(s) not read" in e for e in salesforce.quality.ignored)


def test_salesforce_opportunities(salesforce):
    opps = _by_id(salesforce.opportunities, "opportunity_id")
    won = opps.loc["0065e00000Opp1AAA"]
    assert won["account_id"] == "0015e00000AcmeAAA"
    assert won["owner_rep_id"] == "0055e000001AbCeAAK"
    assert won["created_date"] == pd.Timestamp("2024-01-10")  # from 2024-01-10T09:15:00.000+0000
    assert won["close_date"] == pd.Timestamp("2024-03-28")
    assert (won["stage"], bool(won["is_closed"]), bool(won["is_won"])) == ("Closed Won", True, True)
    assert won["amount"] == 48000.0
    assert (won["currency"], won["source"]) == ("USD", "Web")
    assert opps["type"].to_dict() == {
        "0065e00000Opp1AAA": "new_business",
        "0065e00000Opp2AAA": "expansion",
        "0065e00000Opp3AAA": "renewal",
        "0065e00000Opp4AAA": "renewal",
        "0065e00000Opp5AAA": "new_business",
    }
    assert opps["forecast_category"].to_dict() == {
        "0065e00000Opp1AAA": "closed",
        "0065e00000Opp2AAA": "omitted",
        "0065e00000Opp3AAA": "commit",
        "0065e00000Opp4AAA": "pipeline",
        "0065e00000Opp5AAA": "best_case",
    }
    assert opps.loc["0065e00000Opp2AAA", "loss_reason"] == "Price"
    assert opps.loc["0065e00000Opp2AAA", "amount"] == 15000.5
    assert pd.isna(opps.loc["0065e00000Opp3AAA", "source"])
    # ...000Z and ...000+0000 are both UTC
    assert opps.loc["0065e00000Opp4AAA", "created_date"] == pd.Timestamp("2024-04-02")
    assert opps["is_closed"].dtype == bool and opps["is_won"].dtype == bool


def test_salesforce_history(salesforce):
    history = salesforce.opportunity_history
    assert str(history["changed_at"].dtype) == "datetime64[ns, UTC]"
    opp1 = history[history["opportunity_id"] == "0065e00000Opp1AAA"].sort_values("changed_at")
    assert opp1["stage"].tolist() == ["Prospecting", "Negotiation/Review", "Closed Won"]
    assert opp1["forecast_category"].tolist() == ["pipeline", "commit", "closed"]
    assert opp1["changed_at"].iloc[-1] == pd.Timestamp("2024-03-28T17:30:00Z")
    # from OpportunityFieldHistory: the StageName changes only, NewValue as the stage
    opp2 = history[history["opportunity_id"] == "0065e00000Opp2AAA"].sort_values("changed_at")
    assert opp2["stage"].tolist() == ["Value Proposition", "Closed Lost"]
    assert opp2["amount"].isna().all()


def test_salesforce_activities(salesforce):
    acts = _by_id(salesforce.activities, "activity_id")
    assert acts["type"].to_dict() == {
        "00U5e00000Evt1AAA": "meeting",
        "00U5e00000Evt2AAA": "meeting",  # no Type: an event is a meeting
        "00T5e00000Tsk1AAA": "call",
        "00T5e00000Tsk2AAA": "email",
        "00T5e00000Tsk3AAA": "email",  # ListEmail
        "00T5e00000Tsk4AAA": "task",
        "00T5e00000Tsk5AAA": "task",  # no subtype: a plain task
    }
    call = acts.loc["00T5e00000Tsk1AAA"]
    assert (call["direction"], call["duration_s"], call["outcome"]) == ("outbound", 300.0, "Connected")
    assert call["occurred_at"] == pd.Timestamp("2024-01-12T15:02:00Z")
    assert acts.loc["00U5e00000Evt1AAA", "duration_s"] == 3600.0  # DurationInMinutes * 60
    assert acts.loc["00U5e00000Evt2AAA", "occurred_at"] == pd.Timestamp("2024-04-10T09:30:00Z")


def test_salesforce_reps_accounts_leads(salesforce):
    # User.csv has Data Loader's upper-case headers (ID, USERROLE.NAME ...)
    reps = _by_id(salesforce.reps, "rep_id")
    assert reps["role"].to_dict() == {
        "0055e000001AbCdAAK": "manager",
        "0055e000001AbCeAAK": "AE",
        "0055e000001AbCfAAK": "SDR",
        "0055e000001AbCgAAK": "AM",
    }
    assert reps.loc["0055e000001AbCeAAK", "manager_id"] == "0055e000001AbCdAAK"
    assert pd.isna(reps.loc["0055e000001AbCdAAK", "manager_id"])
    assert reps.loc["0055e000001AbCgAAK", "team"] == "Customer Success"

    accounts = _by_id(salesforce.accounts, "account_id")
    globex = accounts.loc["0015e00000GlbxAAA"]
    assert (globex["name"], globex["industry"], globex["employees"], globex["country"]) == (
        "Globex, Inc.", "Manufacturing", 1200.0, "Germany"
    )
    assert pd.isna(globex["annual_revenue"])
    assert globex["created_date"] == pd.Timestamp("2023-02-01")  # 23:30 UTC is still 1 February
    assert accounts.loc["0015e00000AcmeAAA", "annual_revenue"] == 12_000_000.0

    leads = _by_id(salesforce.leads, "lead_id")
    converted = leads.loc["00Q5e00000Led1AAA"]
    assert (converted["account_id"], converted["opportunity_id"]) == ("0015e00000AcmeAAA", "0065e00000Opp1AAA")
    assert (converted["source"], converted["persona"], converted["employees"]) == ("Web", "VP Engineering", 250.0)
    assert converted["created_at"] == pd.Timestamp("2024-01-02T08:00:00Z")
    assert leads.loc["00Q5e00000Led2AAA", "source"] == "Unknown"  # blank LeadSource


def test_salesforce_opportunity_stage_export_replaces_default(tmp_path):
    """An OpportunityStage export (percent probabilities) replaces the preset's stage list."""
    folder = tmp_path / "sf"
    folder.mkdir()
    for name in ("User.csv", "Account.csv"):
        (folder / name).write_bytes((FIXTURES / "salesforce" / name).read_bytes())
    (folder / "OpportunityStage.csv").write_text(
        "Id,MasterLabel,ApiName,SortOrder,DefaultProbability,IsClosed,IsWon,IsActive\n"
        "01J1,Discover,Discover,1,20,false,false,true\n"
        "01J2,Won,Won,2,100,true,true,true\n"
        "01J3,Lost,Lost,3,0,true,false,true\n",
        encoding="utf-8",
    )
    (folder / "Opportunity.csv").write_text(
        "Id,AccountId,OwnerId,CreatedDate,CloseDate,StageName,IsClosed,IsWon,Amount\n"
        "006A,0015e00000AcmeAAA,0055e000001AbCeAAK,2024-01-10T09:15:00.000+0000,2024-03-28,Won,true,true,100\n"
        "006B,0015e00000AcmeAAA,0055e000001AbCeAAK,2024-01-10T09:15:00.000+0000,2024-09-28,Prospecting,false,false,100\n",
        encoding="utf-8",
    )
    data = salesops.load(folder, mapping="salesforce", as_of=AS_OF)
    stages = data.stages.set_index("stage")
    assert stages["probability"].to_dict() == {"Discover": 0.2, "Won": 1.0, "Lost": 0.0}
    assert stages["order"].tolist() == [1, 2, 3]
    problems = data.quality.rejected
    assert problems[["table", "row", "column", "check"]].values.tolist() == [["opportunities", 2, "stage", "known_stage"]]


# --------------------------------------------------------------------------- HubSpot


@pytest.fixture(scope="module")
def hubspot():
    return salesops.load(FIXTURES / "hubspot", mapping="hubspot", as_of=AS_OF)


def test_hubspot_counts(hubspot):
    assert _counts(hubspot) == {
        "stages": (7, 7, 0),
        "reps": (3, 3, 0),
        "accounts": (2, 2, 0),
        "opportunities": (4, 4, 0),
        "leads": (3, 3, 0),
        "activities": (7, 7, 0),
    }
    assert hubspot.quality.ok


def test_hubspot_deals(hubspot):
    deals = _by_id(hubspot.opportunities, "opportunity_id")
    assert deals["stage"].to_dict() == {
        "9001": "Closed Won",
        "9002": "Closed Lost",
        "9003": "Contract Sent",
        "9004": "Appointment Scheduled",
    }
    won = deals.loc["9001"]
    assert won["close_date"] == pd.Timestamp("2024-03-29")  # epoch ms 1711728000000
    assert won["created_date"] == pd.Timestamp("2024-01-15")
    assert (bool(won["is_closed"]), bool(won["is_won"]), won["amount"]) == (True, True, 48000.0)
    assert (won["account_id"], won["owner_rep_id"], won["source"]) == ("5001", "101", "ORGANIC_SEARCH")
    lost = deals.loc["9002"]
    assert lost["created_date"] == pd.Timestamp("2024-02-10")  # epoch ms 1707557400000
    assert lost["close_date"] == pd.Timestamp("2024-04-20")  # ISO with Z
    assert (lost["amount"], lost["loss_reason"]) == (1200.5, "Chose a competitor")
    assert deals["type"].to_dict() == {"9001": "new_business", "9002": "expansion", "9003": "expansion", "9004": "renewal"}
    assert deals["forecast_category"].to_dict() == {"9001": "closed", "9002": "omitted", "9003": "commit", "9004": "pipeline"}
    assert deals.loc["9004", "currency"] == "EUR"


def test_hubspot_companies_owners_contacts(hubspot):
    accounts = _by_id(hubspot.accounts, "account_id")
    assert accounts.loc["5001", "industry"] == "COMPUTER_SOFTWARE"
    assert accounts.loc["5002", "created_date"] == pd.Timestamp("2023-06-01")  # epoch ms in an ISO column
    assert accounts.loc["5002", "owner_rep_id"] == "102"

    reps = _by_id(hubspot.reps, "rep_id")
    assert reps["name"].to_dict() == {"101": "Ana Silva", "102": "Ben Owusu", "103": "Chloé Martin"}
    assert set(reps["role"]) == {"AE"}

    leads = _by_id(hubspot.leads, "lead_id")
    pat = leads.loc["301"]
    assert pat["mql_at"] == pd.Timestamp("2024-01-15T11:20:00Z")  # epoch ms
    assert pat["sql_at"] == pd.Timestamp("2024-01-15T12:00:00Z")
    assert pat["first_touch_at"] == pd.Timestamp("2024-01-05T09:00:00Z")
    assert (pat["account_id"], pat["owner_rep_id"], pat["persona"]) == ("5001", "101", "VP Engineering")
    assert pd.isna(leads.loc["302", "sql_at"])
    assert leads.loc["303", "source"] == "UNKNOWN"


def test_hubspot_engagements(hubspot):
    acts = _by_id(hubspot.activities, "activity_id")
    assert acts["type"].to_dict() == {
        "80001": "call",
        "80002": "call",
        "70001": "call",
        "70002": "email",
        "70003": "email",
        "70004": "meeting",
        "70005": "note",
    }
    assert acts.loc["70002", "direction"] == "outbound"
    assert acts.loc["70003", "direction"] == "inbound"
    assert pd.isna(acts.loc["70001", "direction"])
    assert acts.loc["70001", "duration_s"] == 300.0  # metadata.durationMilliseconds / 1000
    assert acts.loc["70001", "occurred_at"] == pd.Timestamp("2024-01-15T11:20:00Z")
    assert (acts.loc["80001", "direction"], acts.loc["80001", "duration_s"]) == ("outbound", 125.0)
    assert acts.loc["80002", "occurred_at"] == pd.Timestamp("2024-03-05T10:00:00Z")


def test_hubspot_ui_export_labels(tmp_path):
    """A deals export from the HubSpot UI (labels as headers) loads with the same preset."""
    folder = tmp_path / "hs"
    folder.mkdir()
    for name in ("owners.csv", "companies.csv"):
        (folder / name).write_bytes((FIXTURES / "hubspot" / name).read_bytes())
    (folder / "deals.csv").write_text(
        "Record ID,Deal Name,Deal Stage,Close Date,Create Date,Amount,hubspot_owner_id,Associated Company IDs (Primary)\n"
        "9101,Acme - UI,Closed Won,2024-03-29 16:00,2024-01-15 11:20,\"1,250.00\",101,5001\n",
        encoding="utf-8",
    )
    data = salesops.load(folder, mapping="hubspot", as_of=AS_OF)
    assert data.quality.ok, data.quality.rejected
    deal = data.opportunities.iloc[0]
    assert (deal["opportunity_id"], deal["stage"], deal["amount"], deal["account_id"]) == ("9101", "Closed Won", 1250.0, "5001")
    assert bool(deal["is_won"]) and bool(deal["is_closed"])  # from the stage table
