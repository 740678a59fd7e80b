"""The big-data generator: exact counts, byte-determinism, zero rejected rows, time ordering, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import salesops
from salesops.cli import build_parser, main
from salesops.sample.large import (
    CONFIG_FILES,
    LARGE_PRESETS,
    SMALL_TABLES,
    TABLE_ORDER,
    LargeCounts,
    write_large,
)

SMALL = LargeCounts(reps=40, accounts=400, opportunities=900, history=4_500, activities=30_000, leads=3_000, revenue=2_900)
AS_OF = pd.Timestamp("2025-12-31 23:59:59", tz="UTC")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("large")
    write_large(out, size=SMALL, seed=7, progress=False)
    return out


@pytest.fixture(scope="module")
def data(folder):
    return salesops.load(folder, as_of="2025-12-31")


def test_presets_match_the_issue_and_the_sample():
    large = LARGE_PRESETS["large"]
    assert (large.opportunities, large.history, large.activities, large.leads) == (1_000_000, 8_000_000, 50_000_000, 5_000_000)
    one = LARGE_PRESETS["1x"]
    assert one.rows() == {
        "reps": 66, "accounts": 4_000, "opportunities": 7_836, "opportunity_history": 31_240, "leads": 29_958,
        "revenue": 28_886, "activities": 897_104,
    }
    assert LARGE_PRESETS["10x"].activities == 8_971_040 and LARGE_PRESETS["100x"].leads == 2_995_800


@pytest.mark.parametrize(
    ("change", "message"),
    [({"reps": 5}, "reps"), ({"history": 10}, "two rows per opportunity"), ({"revenue": 10**6}, "months per account"),
     ({"leads": -1}, "non-negative")],
)
def test_counts_out_of_bounds_are_refused_with_the_reason(change, message):
    values = {**SMALL.__dict__, **change}
    with pytest.raises(ValueError, match=message):
        LargeCounts(**values)


def test_unknown_size_names_the_presets(tmp_path):
    with pytest.raises(ValueError, match="large, 1x, 10x, 100x"):
        write_large(tmp_path, size="huge", progress=False)


def test_one_parquet_file_per_table_with_exact_rows_and_canonical_types(folder):
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted([f"{t}.parquet" for t in TABLE_ORDER] + ["README.md", *CONFIG_FILES])
    expected = {**SMALL.rows(), "stages": 6}
    for table in TABLE_ORDER:
        meta = pq.ParquetFile(folder / f"{table}.parquet")
        if table in SMALL_TABLES:
            assert meta.metadata.num_rows > 0, table
        else:
            assert meta.metadata.num_rows == expected[table], table
    schema = pq.read_schema(folder / "activities.parquet")
    assert str(schema.field("occurred_at").type) == "timestamp[us, tz=UTC]"
    assert str(pq.read_schema(folder / "opportunities.parquet").field("close_date").type) == "date32[day]"
    assert "no planted truths" in (folder / "README.md").read_text().lower()


def test_same_seed_and_size_give_identical_bytes_and_another_seed_does_not(folder, tmp_path):
    again = tmp_path / "again"
    written = write_large(again, size=SMALL, seed=7, progress=False)
    assert {t: n for t, n in written.items() if t not in SMALL_TABLES} == {**SMALL.rows(), "stages": 6}
    for name in CONFIG_FILES:
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name
    for table in TABLE_ORDER:
        assert (again / f"{table}.parquet").read_bytes() == (folder / f"{table}.parquet").read_bytes(), table
    other = tmp_path / "other"
    write_large(other, size=SMALL, seed=8, progress=False)
    assert (other / "activities.parquet").read_bytes() != (folder / "activities.parquet").read_bytes()


def test_the_loader_rejects_no_row(data):
    counts = data.quality.counts.set_index("table")
    assert int(counts["rejected"].sum()) == 0, data.quality.rejected.head(10).to_string()
    for table, n in SMALL.rows().items():
        assert counts.loc[table, "accepted"] == n


def test_opportunities_and_history_tell_one_story(data):
    o = data.opportunities.set_index("opportunity_id")
    h = data.opportunity_history.sort_values(["opportunity_id", "changed_at"], kind="stable")
    assert (h["changed_at"] <= AS_OF).all() and (o["close_date"] >= o["created_date"]).all()
    assert o["created_date"].min() >= pd.Timestamp("2023-01-01")
    stages = data.stages.set_index("stage")
    assert (o["is_closed"] == o["stage"].map(stages["is_closed"])).all()
    assert (o["is_won"] == o["stage"].map(stages["is_won"])).all()
    assert (h.groupby("opportunity_id")["changed_at"].diff().dropna() > pd.Timedelta(0)).all()
    first = h.groupby("opportunity_id").first()
    last = h.groupby("opportunity_id").last()
    assert (first["stage"] == "Qualification").all()
    assert (first["changed_at"].dt.tz_localize(None).dt.normalize() == o.loc[first.index, "created_date"]).all()
    assert (last["stage"] == o.loc[last.index, "stage"]).all()
    assert (last["amount"] == o.loc[last.index, "amount"]).all()
    closed = o.loc[last.index, "is_closed"]
    closed_on = last.loc[closed, "changed_at"].dt.tz_localize(None).dt.normalize()
    assert (closed_on == o.loc[closed_on.index, "close_date"]).all()
    open_ids = o.index[~o["is_closed"]]
    assert not h[h["opportunity_id"].isin(open_ids)]["stage"].isin(["Closed Won", "Closed Lost"]).any()
    order = h["stage"].map(stages["order"]).groupby(h["opportunity_id"]).diff().dropna()
    assert (order > 0).any() and (order > 1).any() and (order < 0).any() and (order == 0).any()  # moves, skips, regressions, changes


def test_leads_funnel_is_ordered_and_converted_leads_point_to_their_opportunity(data):
    leads, opps = data.leads, data.opportunities
    steps = ["created_at", "first_touch_at", "mql_at", "sql_at"]
    for earlier, later in zip(steps, steps[1:]):
        assert not (leads[later] < leads[earlier]).any(), (earlier, later)
        assert leads[later].notna().sum() < leads[earlier].notna().sum()
    assert not (leads["disqualified_at"] < leads["first_touch_at"]).any()
    assert leads["disqualified_at"].notna().any() and leads[steps + ["disqualified_at"]].max().max() <= AS_OF
    linked = opps.dropna(subset=["lead_id"]).merge(leads, on="lead_id", suffixes=("", "_lead"))
    assert len(linked) == opps["lead_id"].notna().sum() > 0
    assert (linked["opportunity_id"] == linked["opportunity_id_lead"]).all()
    assert (linked["sql_at"].dt.tz_localize(None) <= linked["created_date"]).all()
    assert set(leads["opportunity_id"].dropna()) == set(linked["opportunity_id"])


def test_activities_fall_within_employment_on_working_days_and_reference_real_records(data):
    a = data.activities.merge(data.reps[["rep_id", "role", "hire_date", "end_date"]], on="rep_id")
    day = a["occurred_at"].dt.tz_localize(None).dt.normalize()
    assert (day >= a["hire_date"]).all() and (a["end_date"].isna() | (day <= a["end_date"])).all()
    assert (a["occurred_at"].dt.dayofweek < 5).all() and (a["occurred_at"] <= AS_OF).all()
    assert set(a["role"]) == {"AE", "SDR", "AM", "manager"}
    assert a["lead_id"].dropna().isin(data.leads["lead_id"]).all()
    assert a["opportunity_id"].dropna().isin(data.opportunities["opportunity_id"]).all()
    assert a["account_id"].notna().all() and a["opportunity_id"].notna().any() and a["lead_id"].notna().any()
    per_day = a.groupby(["role", "rep_id", day]).size().groupby("role").mean()
    assert per_day["SDR"] > per_day["AE"] > per_day["manager"]


def test_revenue_runs_are_consecutive_months_of_accounts_with_churn(data):
    r = data.revenue.sort_values(["account_id", "month"])
    gaps = r.groupby("account_id")["month"].diff().dropna().dt.days
    assert gaps.between(28, 31).all()
    assert r["month"].max() <= pd.Timestamp("2025-12-01") and (r["month"].dt.day == 1).all()
    last_month = r.groupby("account_id")["month"].max()
    assert (last_month < pd.Timestamp("2025-12-01")).any()  # some churn
    won_accounts = set(data.opportunities.loc[data.opportunities["is_won"], "account_id"])
    assert len(won_accounts & set(r["account_id"])) > 0


def test_reps_have_every_role_teams_hires_and_leavers(data):
    reps = data.reps
    assert set(reps["role"]) == {"AE", "SDR", "AM", "manager"}
    assert set(reps["segment"].dropna()) == {"SMB", "Mid-Market", "Enterprise"}
    assert (reps["hire_date"] >= pd.Timestamp("2023-01-01")).any() and reps["end_date"].notna().any()
    assert reps["manager_id"].dropna().isin(reps.loc[reps["role"] == "manager", "rep_id"]).all()


def test_cli_routes_big_sizes_to_parquet(tmp_path, capsys, monkeypatch):
    args = build_parser().parse_args(["sample", "--size", "100x", "--out", str(tmp_path)])
    assert args.size == "100x"
    calls = {}

    def fake_write_large(out, size, seed, progress):  # the real writer is tested above; 1x takes ~5 s
        calls.update(out=Path(out), size=size, seed=seed)
        return {t: 1 for t in TABLE_ORDER}

    monkeypatch.setattr("salesops.sample.large.write_large", fake_write_large)
    assert main(["sample", "--size", "10x", "--seed", "3", "--out", str(tmp_path / "x")]) == 0
    assert calls == {"out": tmp_path / "x", "size": "10x", "seed": 3}
    assert "Parquet" in capsys.readouterr().out


def test_cli_writes_1x_parquet(tmp_path, capsys):
    assert main(["sample", "--size", "1x", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "897,104" in out and str(tmp_path.resolve()) in out
    assert pq.ParquetFile(tmp_path / "activities.parquet").metadata.num_rows == 897_104
    assert pq.ParquetFile(tmp_path / "activities.parquet").metadata.num_row_groups == 1
    ids = pq.read_table(tmp_path / "opportunities.parquet", columns=["opportunity_id"]).column(0).to_pylist()
    assert ids[0] == "O0000001" and len(set(ids)) == 7_836 and np.all(np.diff([int(i[1:]) for i in ids]) == 1)
