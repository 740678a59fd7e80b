"""A scaled data set is whole: every table and setting data/sample gives the review, naming only its own reps.

The 10x preset takes about a minute to write, so the tests run the same code path on a few-rep version of
it (``LARGE_PRESETS["10x"]`` with the reps of 1x and a fiftieth of the rows); the CLI test checks that
``--size 10x`` reaches that path.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import salesops
from salesops import leads, territory
from salesops.paths import config_file
from salesops.sample.large import CONFIG_FILES, LARGE_PRESETS, SMALL_TABLES, LargeCounts, write_large
from salesops.sample.large_configs import ROUTING_STANDINS
from salesops.territory import page as territory_page

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
TEN = LARGE_PRESETS["10x"]
SCALED = LargeCounts(
    reps=LARGE_PRESETS["1x"].reps, accounts=TEN.accounts // 50, opportunities=TEN.opportunities // 50,
    history=TEN.history // 50, activities=TEN.activities // 50, leads=TEN.leads // 50, revenue=TEN.revenue // 50,
)


def _table_names(folder: Path) -> set[str]:
    return {re.sub(r"\.(csv|csv\.gz|parquet)$", "", p.name) for p in folder.iterdir()
            if re.search(r"\.(csv|csv\.gz|parquet)$", p.name)}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scaled")
    write_large(out, size=SCALED, seed=11, progress=False)
    return out


@pytest.fixture(scope="module")
def data(folder):
    return salesops.load(folder)


def test_the_scaled_set_has_every_table_of_the_sample_and_the_settings(folder):
    assert _table_names(folder) == _table_names(SAMPLE)
    assert set(SMALL_TABLES) <= _table_names(folder)
    for name in CONFIG_FILES:
        assert (folder / name).is_file(), name
        assert config_file(name, "", folder) == folder / name


def test_the_loader_rejects_nothing_and_every_small_table_has_rows(data):
    counts = data.quality.counts.set_index("table")
    assert int(counts["rejected"].sum()) == 0, data.quality.rejected.head(10).to_string()
    for table in SMALL_TABLES:
        assert counts.loc[table, "accepted"] > 0, table
    assert data.quality.ignored and all("not a table file" in x for x in data.quality.ignored)


def test_routing_rules_name_only_reps_of_this_reps_table_and_route_the_quarter(folder, data):
    text = (folder / "routing.yaml").read_text(encoding="utf-8")
    named = set(re.findall(r"\bR\d+\b", text.split("\nversion:", 1)[1]))
    reps = data.reps.set_index("rep_id")
    assert named and named <= set(reps.index), named - set(reps.index)
    for old in ROUTING_STANDINS:
        assert re.search(rf"\b{old}\b", text.split("\nversion:", 1)[1]) is None, old
    rules = leads.load_rules(folder / "routing.yaml")
    raw = yaml.safe_load(text)
    ramping = raw["pools"]["sdr_west"]["members"][0]["rep_id"]
    assert (reps.loc[ramping, "role"], reps.loc[ramping, "region"]) == ("SDR", "West")
    assert pd.isna(reps.loc[ramping, "end_date"])
    quarter = data.leads[data.leads["created_at"] >= pd.Timestamp("2025-10-01", tz="UTC")]
    routed = leads.route(quarter, data.reps, rules, accounts=data.accounts)
    assert len(routed) == len(quarter) and routed["owner_rep_id"].isin(reps.index).all()


def test_territory_settings_design_territories_on_the_scaled_set(folder, data):
    settings = territory.load_settings(folder / "territories.yaml")
    result = territory_page.review(data, settings, as_of=pd.Timestamp("2025-12-31", tz="UTC"))
    assert not isinstance(result, territory_page.Unavailable), getattr(result, "reason", "")
    assert result.design.summary["meets_tolerance"]


def test_quotas_trainings_events_and_costs_fit_the_reps_and_the_window(data):
    reps = data.reps.set_index("rep_id")
    q = data.quotas
    assert set(reps.loc[q["rep_id"], "role"]) == {"AE", "AM"} and (q["amount"] > 0).all()
    won = data.opportunities[data.opportunities["is_won"]]
    assert won["owner_rep_id"].isin(q["rep_id"]).mean() > 0.95  # the quotas cover the bookings
    assert set(q["period_start"].dt.month) == {1, 4, 7, 10}
    t = data.trainings
    boot = t[t["program"] == "Value Selling Bootcamp"]
    assert boot["start_date"].nunique() == 1 and len(boot) > t.groupby("start_date").size().drop(
        boot["start_date"].iloc[0]).max()
    hired = reps.loc[t["rep_id"], "hire_date"].to_numpy()
    assert (t["start_date"].to_numpy() >= hired).all() and (t["end_date"] >= t["start_date"]).all()
    ev = data.events.set_index("event_id")
    campaign = re.search(r"campaign_id (\S+)", ev.loc[ev["kind"] == "campaign", "scope"].iloc[0]).group(1)
    assert (data.leads["campaign_id"] == campaign).any() and campaign in set(data.marketing_spend["campaign_id"])
    assert {"process_change", "campaign", "training"} <= set(ev["kind"])
    assert len(data.marketing_spend) == 36 * 6 and len(data.sales_costs) == 36 * 3
    salaries = data.sales_costs[data.sales_costs["category"] == "salaries"]["amount"]
    assert np.isclose(salaries.max(), reps["base_salary"].sum() / 12, rtol=0.3)
