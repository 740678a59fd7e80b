"""Shape and integrity of the generated CRM: row counts, dtypes, dates, ids, links, and business rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pandas.tseries.holiday import USFederalHolidayCalendar

from salesops.schema.tables import TABLES

REPO = Path(__file__).resolve().parents[2]

AS_OF = pd.Timestamp("2025-12-31 23:59:00", tz="UTC")
LAST_DAY = pd.Timestamp("2025-12-31")
FIRST_DAY = pd.Timestamp("2023-01-01")
EXPECTED_TABLES = {
    "stages", "reps", "accounts", "quotas", "opportunities", "opportunity_history", "leads", "activities",
    "revenue", "marketing_spend", "sales_costs", "trainings", "events",
}  # fmt: skip

# (low, high) row counts of the default sample
FULL_ROWS = {
    "reps": (50, 80),
    "accounts": (3800, 4200),
    "leads": (27_000, 33_000),
    "opportunities": (7_000, 9_000),
    "activities": (800_000, 1_200_000),
    "opportunity_history": (25_000, 50_000),
}
KIND_DTYPES = {
    "date": "datetime64[ns]",
    "timestamp": "datetime64[ns, UTC]",
    "float": "float64",
    "int": "Int64",
    "bool": "bool",
    "id": "object",
    "str": "object",
}


@pytest.fixture(params=["small", "full"])
def crm(request):
    return request.getfixturevalue(request.param)


def test_row_counts_of_default_sample(full):
    for name, (lo, hi) in FULL_ROWS.items():
        assert lo <= len(full.tables[name]) <= hi, (name, len(full.tables[name]))
    reps = full.tables["reps"]
    assert set(reps["role"]) == {"AE", "SDR", "manager"}
    assert set(reps.loc[reps["role"].eq("AE"), "segment"]) == {"SMB", "Mid-Market", "Enterprise"}
    assert full.truth["row_counts"] == {k: len(v) for k, v in sorted(full.tables.items())}


def test_small_size_scales_down(small, full):
    for name in ("accounts", "leads", "opportunities"):
        ratio = len(small.tables[name]) / len(full.tables[name])
        assert 0.07 < ratio < 0.13, (name, ratio)


def test_tables_follow_the_canonical_model(crm):
    assert set(crm.tables) == EXPECTED_TABLES
    for name, df in crm.tables.items():
        spec = TABLES[name]
        assert list(df.columns) == spec.column_names, name
        for col in spec.columns:
            assert str(df[col.name].dtype) == KIND_DTYPES[col.kind], (name, col.name, df[col.name].dtype)
            if col.required:
                assert df[col.name].notna().all(), (name, col.name)
            if col.kind in ("id", "str"):
                values = df[col.name].dropna()
                assert values.map(type).eq(str).all(), (name, col.name)
            if col.kind == "date":
                s = df[col.name].dropna()
                assert (s == s.dt.normalize()).all(), (name, col.name)
            if col.min_value is not None:
                assert (df[col.name].dropna() >= col.min_value).all(), (name, col.name)
            if col.allowed is not None:
                assert set(df[col.name].dropna()) <= set(col.allowed), (name, col.name)
        if spec.primary_key:
            assert not df.duplicated(list(spec.primary_key)).any(), name


def test_nothing_happens_after_as_of(crm):
    for name, df in crm.tables.items():
        for col in TABLES[name].columns:
            if not col.not_after_as_of:
                continue
            s = df[col.name].dropna()
            if col.kind == "timestamp":
                assert (s <= AS_OF).all(), (name, col.name)
            else:
                assert (s <= LAST_DAY).all(), (name, col.name)
    assert crm.tables["activities"]["occurred_at"].min() >= pd.Timestamp(FIRST_DAY, tz="UTC")
    assert crm.tables["leads"]["created_at"].min() >= pd.Timestamp(FIRST_DAY, tz="UTC")
    for name in ("quotas", "trainings"):
        df = crm.tables[name]
        assert (df.select_dtypes("datetime64[ns]") <= LAST_DAY).all().all(), name


def test_open_pipeline_reaches_into_2026(crm):
    o = crm.tables["opportunities"]
    open_ = o[~o["is_closed"]]
    assert len(open_) > 0
    assert (open_["close_date"] >= LAST_DAY).all()
    assert (open_["close_date"].dt.year == 2026).mean() > 0.5


def test_activities_on_working_days_within_employment(crm):
    a = crm.tables["activities"]
    day = a["occurred_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    holidays = USFederalHolidayCalendar().holidays("2023-01-01", "2025-12-31")
    assert (day.dt.dayofweek < 5).all()
    assert not day.isin(holidays).any()
    hour = a["occurred_at"].dt.hour
    assert hour.between(13, 22).all()
    reps = crm.tables["reps"].set_index("rep_id")
    hire = a["rep_id"].map(reps["hire_date"])
    end = a["rep_id"].map(reps["end_date"]).fillna(LAST_DAY)
    assert (day >= hire).all() and (day <= end).all()
    assert set(a["rep_id"]) <= set(reps.index[reps["role"].isin(["AE", "SDR"])])
    assert set(a["type"]) == {"call", "email", "meeting"}
    emails = a["type"].eq("email")
    assert a.loc[emails, "duration_s"].isna().all() and a.loc[~emails, "duration_s"].notna().all()
    assert a["activity_id"].is_unique and a["activity_id"].str.len().max() <= 12


def test_foreign_keys_hold(crm):
    t = crm.tables
    reps = set(t["reps"]["rep_id"])
    accounts = set(t["accounts"]["account_id"])
    opps = set(t["opportunities"]["opportunity_id"])
    leads = set(t["leads"]["lead_id"])
    assert set(t["reps"]["manager_id"].dropna()) <= reps
    assert set(t["accounts"]["owner_rep_id"]) <= reps
    assert set(t["opportunities"]["account_id"]) <= accounts
    assert set(t["opportunities"]["owner_rep_id"]) <= reps
    assert set(t["opportunities"]["lead_id"].dropna()) <= leads
    assert set(t["opportunity_history"]["opportunity_id"]) == opps
    assert set(t["leads"]["owner_rep_id"]) <= reps
    assert set(t["leads"]["account_id"].dropna()) <= accounts
    assert set(t["leads"]["opportunity_id"].dropna()) <= opps
    assert set(t["activities"]["account_id"].dropna()) <= accounts
    assert set(t["activities"]["lead_id"].dropna()) <= leads
    assert set(t["activities"]["opportunity_id"].dropna()) <= opps
    assert set(t["revenue"]["account_id"]) <= accounts
    assert set(t["quotas"]["rep_id"]) <= reps
    assert set(t["trainings"]["rep_id"]) <= reps


def test_people(crm):
    reps = crm.tables["reps"]
    workers = reps[reps["role"].isin(["AE", "SDR"])]
    managers = set(reps.loc[reps["role"].eq("manager"), "rep_id"])
    assert workers["manager_id"].isin(managers).all()
    assert workers["team"].notna().all()
    assert (reps["end_date"].dropna() >= reps.loc[reps["end_date"].notna(), "hire_date"]).all()
    assert (workers["hire_date"] >= FIRST_DAY).any(), "no hires during the period"
    assert workers["end_date"].notna().any(), "no leavers during the period"
    assert (reps["ote"] >= reps["base_salary"]).all()


def test_segments_follow_the_employee_rule(crm):
    acc = crm.tables["accounts"]
    rule = np.select([acc["employees"] < 200, acc["employees"] < 2000], ["SMB", "Mid-Market"], "Enterprise")
    assert (acc["segment"] == rule).all()
    o = crm.tables["opportunities"]
    reps = crm.tables["reps"].set_index("rep_id")
    assert (
        o["account_id"].map(acc.set_index("account_id")["segment"]) == o["owner_rep_id"].map(reps["segment"])
    ).all()
    assert (o["owner_rep_id"].map(reps["role"]) == "AE").all()


def test_opportunity_row_is_last_history_state(crm):
    o = crm.tables["opportunities"].set_index("opportunity_id")
    h = crm.tables["opportunity_history"]
    assert (
        h.groupby("opportunity_id")["changed_at"]
        .apply(lambda s: s.is_monotonic_increasing and s.is_unique)
        .all()
    )
    last = h.groupby("opportunity_id").tail(1).set_index("opportunity_id").loc[o.index]
    for col in ("stage", "amount", "close_date", "forecast_category"):
        assert (last[col] == o[col]).all(), col
    first = h.groupby("opportunity_id").head(1).set_index("opportunity_id").loc[o.index]
    assert (first["stage"] == "Qualification").all()
    assert (first["changed_at"].dt.tz_localize(None).dt.normalize() == o["created_date"]).all()
    closed = o["is_closed"]
    assert (closed == o["stage"].isin(["Closed Won", "Closed Lost"])).all()
    assert (o["is_won"] == o["stage"].eq("Closed Won")).all()
    assert (o["close_date"] >= o["created_date"]).all()
    won_close = last.loc[closed, "changed_at"].dt.tz_localize(None).dt.normalize()
    assert (won_close == o.loc[closed, "close_date"]).all()
    assert o.loc[o["stage"].eq("Closed Lost"), "loss_reason"].notna().all()
    assert o.loc[~o["stage"].eq("Closed Lost"), "loss_reason"].isna().all()
    assert set(o["currency"]) == {"USD"}
    assert set(o["type"]) == {"new_business", "expansion", "renewal"}


def test_history_has_the_usual_crm_changes(full):
    h = full.tables["opportunity_history"]
    order = {"Qualification": 1, "Discovery": 2, "Proposal": 3, "Negotiation": 4}
    h = h.assign(o=h["stage"].map(order), prev=h.groupby("opportunity_id")["stage"].shift())
    h["prev_o"] = h["prev"].map(order)
    same_stage = h["prev"].eq(h["stage"])
    assert (h["o"] < h["prev_o"]).any(), "no stage regressions"
    assert ((h["o"] - h["prev_o"]) > 1).any(), "no skipped stages"
    pushes = same_stage & h["close_date"].ne(h.groupby("opportunity_id")["close_date"].shift())
    assert pushes.sum() > 1000
    changes = same_stage & h["amount"].ne(h.groupby("opportunity_id")["amount"].shift())
    assert changes.sum() > 500
    fc = same_stage & h["forecast_category"].ne(h.groupby("opportunity_id")["forecast_category"].shift())
    assert fc.sum() > 300


def test_lead_milestones_are_ordered_and_linked(crm):
    ld = crm.tables["leads"]
    assert (ld["first_touch_at"].dropna() >= ld.loc[ld["first_touch_at"].notna(), "created_at"]).all()
    assert (ld["mql_at"].dropna() >= ld.loc[ld["mql_at"].notna(), "created_at"]).all()
    sql = ld[ld["sql_at"].notna()]
    assert (sql["sql_at"] > sql["mql_at"]).all() and (sql["sql_at"] > sql["first_touch_at"]).all()
    assert sql["disqualified_at"].isna().all()
    dq = ld["disqualified_at"].notna()
    assert (
        ld.loc[dq, "disqualification_reason"].notna().all()
        and ld.loc[~dq, "disqualification_reason"].isna().all()
    )
    assert (ld["opportunity_id"].notna() == ld["sql_at"].notna()).all()
    o = crm.tables["opportunities"].set_index("opportunity_id")
    assert (
        o.loc[sql["opportunity_id"], "created_date"].to_numpy()
        == sql["sql_at"].dt.tz_localize(None).dt.normalize().to_numpy()
    ).all()
    assert (o.loc[sql["opportunity_id"], "lead_id"].to_numpy() == sql["lead_id"].to_numpy()).all()
    assert set(ld["source"]) == {"Inbound Web", "Paid Search", "Referral", "Events", "Outbound", "Partner"}
    reps = crm.tables["reps"].set_index("rep_id")
    assert (ld["owner_rep_id"].map(reps["role"]) == "SDR").all()
    touched = ld[ld["first_touch_at"].notna()]
    first_act = crm.tables["activities"].dropna(subset=["lead_id"]).groupby("lead_id")["occurred_at"].min()
    assert (first_act.reindex(touched["lead_id"]).to_numpy() == touched["first_touch_at"].to_numpy()).all()


def test_money_tables(crm):
    t = crm.tables
    assert (t["revenue"]["mrr"] > 0).all()
    assert t["revenue"]["month"].dt.is_month_start.all()
    ms = t["marketing_spend"]
    assert set(ms["channel"]) == set(t["leads"]["source"])
    assert ms["campaign_id"].notna().all()
    assert set(t["leads"]["campaign_id"]) <= set(ms["campaign_id"])
    assert set(t["sales_costs"]["category"]) == {"salaries", "commissions", "tools"}
    assert len(t["sales_costs"]) == 36 * 3
    q = t["quotas"]
    assert set(q["measure"]) == {"bookings"}
    assert (q["period_end"] >= q["period_start"]).all()
    assert set(q["rep_id"]) <= set(t["reps"].loc[t["reps"]["role"].eq("AE"), "rep_id"])


def test_stages_match_the_template(crm):
    spec = yaml.safe_load((REPO / "templates" / "stages.yaml").read_text())["stages"]
    expected = pd.DataFrame(spec)[["stage", "order", "probability", "is_closed", "is_won"]]
    got = crm.tables["stages"]
    assert got["stage"].tolist() == expected["stage"].tolist()
    assert got["order"].astype(int).tolist() == expected["order"].tolist()
    assert np.allclose(got["probability"], expected["probability"])
    assert got["is_closed"].tolist() == expected["is_closed"].tolist()
    assert got["is_won"].tolist() == expected["is_won"].tolist()


def test_events_and_trainings(crm):
    ev = crm.tables["events"]
    assert {"process_change", "training", "product_launch", "campaign"} <= set(ev["kind"])
    pc = ev[ev["kind"].eq("process_change")]
    assert pd.Timestamp("2025-01-01") in set(pc["date"])
    tr = crm.tables["trainings"]
    boot = tr[tr["program"].eq(crm.truth["training"]["program"])]
    assert sorted(boot["rep_id"]) == crm.truth["training"]["treated_rep_ids"]
    assert (boot["start_date"].dt.to_period("Q") == pd.Period("2024Q3")).all()


def test_truth_is_plain_json(full):
    text = json.dumps(full.truth, allow_nan=False)
    assert json.loads(text) == full.truth
    for key in (
        "as_of",
        "period_start",
        "period_end",
        "latest_complete_quarter",
        "seed",
        "size",
        "row_counts",
    ):
        assert key in full.truth
    assert full.truth["latest_complete_quarter"] == "2025Q4"
    assert full.truth["as_of"] == "2025-12-31T23:59:00Z"


def test_committed_folder_size(sample_dir):
    total = sum(p.stat().st_size for p in sample_dir.iterdir() if p.is_file())
    assert total <= 25 * 1024 * 1024
    assert json.loads((sample_dir / "truth.json").read_text())["seed"] == 2025


def test_committed_files_read_back_as_the_model(full, sample_dir):
    acts = pd.read_parquet(sample_dir / "activities.parquet")
    pd.testing.assert_frame_equal(acts, full.tables["activities"])
    opps = pd.read_csv(sample_dir / "opportunities.csv.gz", dtype=str)
    assert opps["opportunity_id"].tolist() == full.tables["opportunities"]["opportunity_id"].tolist()


def test_command_line(tmp_path):
    out = tmp_path / "s"
    run = subprocess.run(
        [sys.executable, "-m", "salesops.sample", "--out", str(out), "--seed", "5", "--size", "0.05"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert (out / "truth.json").exists() and (out / "activities.parquet").exists()
    assert json.loads((out / "truth.json").read_text())["seed"] == 5
    bad = subprocess.run(
        [sys.executable, "-m", "salesops.sample", "--out", str(out), "--size", "lots"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2


def test_owners_are_employed_and_in_segment(crm):
    reps = crm.tables["reps"].set_index("rep_id")
    o = crm.tables["opportunities"]
    hire = o["owner_rep_id"].map(reps["hire_date"])
    end = o["owner_rep_id"].map(reps["end_date"]).fillna(pd.Timestamp("2100-01-01"))
    assert ((o["created_date"] >= hire) & (o["created_date"] <= end)).all()
    acc = crm.tables["accounts"]
    owner = acc["owner_rep_id"]
    assert (owner.map(reps["role"]) == "AE").all()
    assert owner.map(reps["end_date"]).isna().all(), "accounts are owned by AEs employed at the as-of date"
    assert (owner.map(reps["segment"]) == acc["segment"]).all()


def test_hidden_truths_cover_every_record(crm):
    h = crm.hidden
    assert set(h) >= {"leads", "reps", "opportunities"}
    assert h["leads"]["lead_id"].tolist() == crm.tables["leads"]["lead_id"].tolist()
    assert h["leads"][["p_mql", "p_sql", "p_won"]].apply(lambda s: s.between(0, 1).all()).all()
    assert (h["leads"]["p_won"] <= h["leads"]["p_sql"]).all()
    assert sorted(h["reps"]["rep_id"]) == sorted(crm.tables["reps"]["rep_id"])
    assert sorted(h["opportunities"]["opportunity_id"]) == sorted(
        crm.tables["opportunities"]["opportunity_id"]
    )
    assert h["opportunities"]["p_win"].between(0, 1).all()
