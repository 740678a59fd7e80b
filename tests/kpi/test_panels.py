"""The KPI page's sections: sentences built from their tables, metrics fit for metrics.json, a sentence for
every missing table or column, and nothing after the quarter under review used."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from _render import rendered_text

import salesops
from salesops.io.data import SalesData
from salesops.kpi.panels import describe_missing, kpi_panels, panel_metrics, review_window
from salesops.report import record

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_crm"


def _metrics(panels) -> dict[str, float]:
    return {m.key: m.value for m in panel_metrics(panels)}


def test_sample_sections_answer_from_their_tables(sample_panels, truth):
    p = sample_panels
    assert [k for k, v in p.items() if v.missing] == ["clv"]  # the sample is a subscription business
    assert "transactions table" in p["clv"].note
    win = p["win_rate"].table.set_index("group")
    assert list(win.index) == ["all", "Enterprise", "Mid-Market", "SMB"]
    assert f"{100 * win.loc['all', 'win_rate']:.1f}%" in p["win_rate"].text
    assert f"SMB {100 * win.loc['SMB', 'win_rate']:.1f}%" in p["win_rate"].text
    cyc = p["cycle"].table.set_index("group")
    assert f"Enterprise {cyc.loc['Enterprise', 'median']:,.0f} days" in p["cycle"].text
    act = p["activity"].table.set_index("role")
    assert f"{act.loc['SDR', 'per_day']:.1f} activities per working day" in p["activity"].text
    pooled = p["bookings"].table.set_index("year").loc["all", "uplift"]
    assert pooled == pytest.approx(truth["seasonality"]["realised"]["pooled"], abs=1e-4)
    assert f"{100 * pooled:.0f}% more" in p["bookings"].text
    assert "markdown" and p["cac"].markdown().startswith("In 2025Q4")
    assert "*" in p["clv"].markdown()


def test_sample_metrics_are_recordable_and_match_the_tables(sample_panels):
    metrics = panel_metrics(sample_panels)
    keys = [m.key for m in metrics]
    assert len(keys) == len(set(keys)) and all(k.startswith("kpi.") for k in keys)
    for m in metrics:
        assert math.isfinite(m.value)
        record(m.key, m.value, unit=m.unit, description=m.description)  # valid key and value
    values = _metrics(sample_panels)
    win = sample_panels["win_rate"].table.set_index("group")
    assert values["kpi.win_rate.mid_market"] == pytest.approx(win.loc["Mid-Market", "win_rate"])
    churn = sample_panels["churn"].table.set_index("group")
    assert values["kpi.churn.revenue_monthly.smb"] == pytest.approx(churn.loc["SMB", "churn"])
    for key in ("kpi.activity.per_day.sdr", "kpi.sales_cycle.won_median_days.enterprise", "kpi.cac.referral",
                "kpi.ltv_to_cac.blended", "kpi.q4_uplift.pooled", "kpi.cac_payback_months.blended"):
        assert key in values


def _truncate(data: SalesData, cut: str) -> SalesData:
    """The sample as an export taken at the end of ``cut`` would have held it."""
    day = pd.Timestamp(cut)
    ts = pd.Timestamp(cut, tz="UTC") + pd.Timedelta(days=1)
    t = dict(data.tables)
    o = t["opportunities"]
    o = o[o["created_date"] <= day].copy()
    later = o["close_date"] > day
    o.loc[later, "is_closed"] = False
    o.loc[later, "is_won"] = False
    t["opportunities"] = o
    t["activities"] = t["activities"][t["activities"]["occurred_at"] < ts]
    t["leads"] = t["leads"][t["leads"]["created_at"] < ts]
    for name in ("revenue", "marketing_spend", "sales_costs"):
        t[name] = t[name][t[name]["month"] <= day]
    reps = t["reps"][t["reps"]["hire_date"] <= day].copy()
    reps.loc[reps["end_date"] > day, "end_date"] = pd.NaT
    t["reps"] = reps
    return SalesData(tables=t, as_of=ts - pd.Timedelta(microseconds=1), source="truncated")


def test_a_past_quarter_uses_no_later_information(sample):
    full = _metrics(kpi_panels(sample, "2025Q2"))
    cut = _metrics(kpi_panels(_truncate(sample, "2025-06-30"), "2025Q2"))
    assert set(full) == set(cut)
    for key, value in full.items():
        assert cut[key] == pytest.approx(value, rel=1e-9), key
    assert review_window(sample, "2025Q2").as_of == pd.Timestamp("2025-06-30")


def test_missing_tables_get_a_sentence_not_an_error():
    data = salesops.load(MINI)
    panels = kpi_panels(data, "2025Q4")
    text = rendered_text(describe_missing(panels))
    for name in ("marketing_spend table", "revenue table", "transactions table", "no complete calendar year"):
        assert name in text
    assert panels["cac"].table is None and panels["win_rate"].table is not None
    assert "CAC payback" in panels["cac"].note
    for m in panel_metrics(panels):
        assert math.isfinite(m.value)
    # the tiny CRM's deals closed in 2025Q4 up to its as-of day
    o = data.opportunities
    day = data.as_of.tz_convert("UTC").tz_localize(None).normalize()
    q4 = o[o["is_closed"] & (o["close_date"] >= "2025-10-01") & (o["close_date"] <= day)]
    assert len(q4) >= 1
    assert panels["win_rate"].table.set_index("group").loc["all", "closed"] == len(q4)


def test_maven_names_the_missing_segment_and_still_reports(maven):
    panels = kpi_panels(maven, "2017Q4")
    assert "accounts.segment" in panels["win_rate"].note
    assert "activities table" in panels["activity"].note
    total = panels["win_rate"].table.set_index("group").loc["all"]
    o = maven.opportunities
    day = min(pd.Timestamp("2017-12-31"), maven.as_of.tz_convert("UTC").tz_localize(None).normalize())
    q4 = o[o["is_closed"] & (o["close_date"] >= "2017-10-01") & (o["close_date"] <= day)]
    assert total["closed"] == len(q4) and total["won"] == int(q4["is_won"].sum())
    assert "say nothing" in panels["win_rate"].text or "says nothing" in panels["win_rate"].text
    by_region = kpi_panels(maven, "2017Q4", by="region")
    assert len(by_region["win_rate"].table) > 1 and not by_region["win_rate"].missing


def test_a_quarter_outside_the_data(sample):
    panels = kpi_panels(sample, "2020Q1")  # before the data: every section says why it is empty
    assert all(p.missing for p in panels.values())
    assert "No deal closed in 2020Q1" in panels["win_rate"].note
    assert "revenue up to 2020-03" in panels["churn"].note
    with pytest.raises(ValueError, match="starts after the data's as-of day"):
        kpi_panels(sample, "2026Q2")


def test_view_rounds_rates_finely_and_money_coarsely(sample_panels):
    view = sample_panels["ltv"].view().set_index("group")
    table = sample_panels["ltv"].table.set_index("group")
    assert view.loc["SMB", "churn"] == pytest.approx(table.loc["SMB", "churn"], abs=5e-5) and view.loc["SMB", "churn"] > 0
    assert view.loc["SMB", "ltv"] == round(table.loc["SMB", "ltv"], 1)
    assert sample_panels["clv"].view().empty


def test_rep_flags_come_from_the_posterior_and_name_only_planted_reps(sample_panels, sample, truth):
    """Flags on every deal to 2025Q4: the 90% posterior interval excludes the segment's prior mean.

    Four of the five planted AEs are flagged, each in its planted direction, and nobody else. The fifth,
    R0024 (Enterprise, 18 wins of 186), has P(below) of about 0.91 < 0.95: the sample's strongest
    non-planted departure, R0025 (Mid-Market, 84 of 319, in the training group), is as strong (P(above)
    about 0.945), so no interval level flags R0024 without also flagging R0025.
    """
    from salesops.comp.performance import flag_reps, performance_index

    panel = sample_panels["rep_win_rate"]
    flags = panel.frames["flags"].set_index("rep_id")
    low, high = truth["rep_skill"]["low_skill_rep_ids"], truth["rep_skill"]["high_skill_rep_ids"]
    flagged = flags[flags["flag"] != ""]["flag"].to_dict()
    assert flagged == {"R0004": "under", "R0041": "under", "R0014": "over", "R0033": "over"}
    assert all(rep in low for rep, f in flagged.items() if f == "under")
    assert all(rep in high for rep, f in flagged.items() if f == "over")
    # the flag is the interval, and the interval is the posterior's, against the segment's prior mean
    under = flags["upper"] < flags["prior_mean"]
    over = flags["lower"] > flags["prior_mean"]
    assert ((flags["flag"] == "under") == under).all() and ((flags["flag"] == "over") == over).all()
    assert ((flags["prob_below"] > 0.95) == under).all()
    # R0024 is no longer pooled away: Enterprise's own spread is zero by likelihood, so it borrows the spread
    # of reps around their own segment (was: prior weight 1.0 on every Enterprise rep)
    priors = panel.frames["priors"].set_index("group")
    ent = priors.loc["Enterprise"]
    assert ent["variance_source"] == "pooled" and ent["own_between_sd"] == 0
    assert 0.015 < ent["between_sd"] < 0.04 and ent["weight_on_prior"] < 0.7
    assert (priors["between_sd"] > 0.015).all() and (priors["between_sd"] < 0.04).all()
    assert flags.loc["R0024", "prob_below"] > 0.9
    assert flags.loc["R0024", "shrunk_rate"] == flags[flags["group"] == "Enterprise"]["shrunk_rate"].min()
    # the five planted AEs are the posterior extremes of their segments
    for seg, g in flags.groupby("group"):
        ordered = g.sort_values("shrunk_rate").index
        assert ordered[0] in low or seg == "Enterprise" and ordered[0] == "R0024"
        if seg != "Enterprise":
            assert ordered[-1] in high
    # the page says so, and the trailing table carries the flags
    for rep in flagged:
        assert f"**{flags.loc[rep, 'name']}**" in panel.text
    assert "reps truly differ by 2.4 points" in panel.text
    assert dict(zip(panel.table["rep_id"], panel.table["flag"])).get("R0041") == "under"
    values = _metrics({"rep_win_rate": panel})
    assert (values["kpi.rep_flags.under"], values["kpi.rep_flags.over"]) == (2, 2)
    # every flag of the page is one of comp.flag_reps's, in the same direction
    comp = flag_reps(performance_index(sample)).set_index("rep_id")
    for rep, f in flagged.items():
        assert comp.loc[rep, "flagged" if f == "under" else "recognised"]
