"""The planted truths, measured back on the generated tables with plain pandas.

Each test recomputes a figure directly from the canonical tables (not through salesops.sample.truth), checks
it against the planted value within a stated tolerance, and checks that truth.json reports the same
realised figure.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pandas.tseries.holiday import USFederalHolidayCalendar
from sklearn.metrics import roc_auc_score

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")


def close(a, b, tol=1e-6):
    return a is not None and b is not None and abs(a - b) <= tol


@pytest.fixture(scope="module")
def t(full):
    return full.tables


@pytest.fixture(scope="module")
def truth(full):
    return full.truth


@pytest.fixture(scope="module")
def opps(t):
    seg = t["accounts"].set_index("account_id")["segment"]
    return t["opportunities"].assign(segment=t["opportunities"]["account_id"].map(seg))


def test_segment_win_rates(opps, truth):
    closed = opps[opps["is_closed"]]
    for seg, planted in zip(SEGMENTS, (0.30, 0.22, 0.15), strict=True):
        rate = closed.loc[closed["segment"].eq(seg), "is_won"].mean()
        assert abs(rate - planted) <= 0.03, (seg, rate)
        assert truth["win_rates"]["planted"][seg] == planted
        assert close(truth["win_rates"]["realised"][seg], rate)
    # the same holds for new business alone
    nb = closed[closed["type"].eq("new_business")]
    for seg, planted in zip(SEGMENTS, (0.30, 0.22, 0.15), strict=True):
        assert abs(nb.loc[nb["segment"].eq(seg), "is_won"].mean() - planted) <= 0.04, seg


def test_median_sales_cycle(opps, truth):
    won = opps[opps["is_won"]]
    days = (won["close_date"] - won["created_date"]).dt.days
    for seg, planted in zip(SEGMENTS, (30, 60, 120), strict=True):
        med = days[won["segment"].eq(seg)].median()
        assert abs(med / planted - 1) <= 0.20, (seg, med)
        assert close(truth["sales_cycle"]["realised_median_days"][seg], med)


def test_q4_bookings_uplift(opps, truth):
    won = opps[opps["is_won"]]
    b = won.groupby([won["close_date"].dt.year, won["close_date"].dt.quarter])["amount"].sum()
    q4 = sum(b[(y, 4)] for y in (2023, 2024, 2025))
    rest = sum(b[(y, q)] for y in (2023, 2024, 2025) for q in (1, 2, 3))
    uplift = q4 / (rest / 3) - 1
    assert 0.20 <= uplift <= 0.40
    assert close(truth["seasonality"]["realised"]["pooled"], uplift)
    for y in (2023, 2024, 2025):
        assert 0.20 <= b[(y, 4)] / np.mean([b[(y, q)] for q in (1, 2, 3)]) - 1 <= 0.40, y


def _stage_exits(t, opps, segment, stage="Proposal"):
    ids = set(opps.loc[opps["segment"].eq(segment), "opportunity_id"])
    h = t["opportunity_history"]
    h = h[h["opportunity_id"].isin(ids)].sort_values(["opportunity_id", "changed_at"])
    entered = h[h["stage"].eq(stage)].groupby("opportunity_id")["changed_at"].min().rename("entered")
    h = h.join(entered, on="opportunity_id", how="inner")
    nxt = h[(h["changed_at"] > h["entered"]) & h["stage"].ne(stage)].groupby("opportunity_id").first()
    x = entered.to_frame().join(nxt[["changed_at", "stage"]].rename(columns={"changed_at": "exited"}))
    x = x[x["exited"].notna()]
    x["advanced"] = x["stage"].isin(["Negotiation", "Closed Won"])
    x["days"] = (x["exited"] - x["entered"]).dt.total_seconds() / 86400
    x["after"] = x["entered"] >= pd.Timestamp("2025-04-01", tz="UTC")
    return x


def test_mid_market_proposal_bottleneck(t, opps, truth):
    x = _stage_exits(t, opps, "Mid-Market")
    before, after = x[~x["after"]], x[x["after"]]
    assert abs(before["advanced"].mean() - 0.60) <= 0.05
    assert abs(after["advanced"].mean() - 0.40) <= 0.05
    ratio = after["days"].median() / before["days"].median()
    assert 1.6 <= ratio <= 2.4, ratio
    r = truth["bottleneck"]["realised"]
    assert close(r["conversion_before"], before["advanced"].mean())
    assert close(r["conversion_after"], after["advanced"].mean())
    assert close(r["time_in_stage_ratio"], ratio, 1e-4)
    # the other segments have no such break
    for seg in ("SMB", "Enterprise"):
        y = _stage_exits(t, opps, seg)
        assert abs(y.loc[y["after"], "advanced"].mean() - y.loc[~y["after"], "advanced"].mean()) <= 0.06, seg
        assert y.loc[y["after"], "days"].median() / y.loc[~y["after"], "days"].median() < 1.3, seg


def test_training_diff_in_diff(t, truth):
    tr = t["trainings"]
    prog = truth["training"]["program"]
    boot = tr[tr["program"].eq(prog)]
    start, end = boot["start_date"].min(), boot["end_date"].max()
    assert start == pd.Timestamp("2024-07-15") and end == pd.Timestamp("2024-08-09")
    treated = set(boot["rep_id"])
    control = set(truth["training"]["control_rep_ids"])
    reps = t["reps"].set_index("rep_id")
    eligible = reps[
        reps["role"].eq("AE")
        & (reps["hire_date"] <= start - pd.Timedelta(days=180))
        & (reps["end_date"].isna() | (reps["end_date"] >= end))
    ].index
    assert treated | control <= set(eligible) and not treated & control
    assert len(set(eligible) - treated - control) <= 3
    for seg in SEGMENTS:  # a random half within each segment
        assert (reps.loc[list(treated), "segment"] == seg).sum() == (
            reps.loc[list(control), "segment"] == seg
        ).sum()
    o = t["opportunities"]
    closed = o[o["is_closed"]]

    def rate(ids, when):
        d = closed[closed["owner_rep_id"].isin(ids)]
        m = d["created_date"] < start if when == "before" else d["created_date"] > end
        return d.loc[m, "is_won"].mean()

    did = (rate(treated, "after") - rate(treated, "before")) - (
        rate(control, "after") - rate(control, "before")
    )
    assert abs(did - 0.05) <= 0.025, did
    assert close(truth["training"]["realised"]["diff_in_diff"], did)


def test_process_change_lift(t, truth):
    ld = t["leads"]
    mql = ld[ld["mql_at"].notna()]
    after = mql["mql_at"] >= pd.Timestamp("2025-01-01", tz="UTC")
    before_rate = mql.loc[~after, "sql_at"].notna().mean()
    after_rate = mql.loc[after, "sql_at"].notna().mean()
    assert abs(before_rate - 0.35) <= 0.03
    assert abs(after_rate - 0.45) <= 0.03
    assert 0.07 <= after_rate - before_rate <= 0.13
    pc = truth["process_change"]
    assert pc["planted_lift"] == pytest.approx(0.10)
    assert close(pc["realised"]["before"], before_rate) and close(pc["realised"]["after"], after_rate)


def _monthly_matrix(t):
    r = t["revenue"]
    m = r.pivot_table(index="account_id", columns="month", values="mrr", aggfunc="sum", fill_value=0.0)
    m = m.reindex(columns=pd.date_range("2023-01-01", "2025-12-01", freq="MS"), fill_value=0.0)
    seg = t["accounts"].set_index("account_id")["segment"].reindex(m.index)
    return m.to_numpy(), seg.to_numpy()


def test_churn_by_segment(t, truth):
    m, seg = _monthly_matrix(t)
    prev, cur = m[:, :-1], m[:, 1:]
    gone = (prev > 0) & (cur <= 0)
    for s, planted in zip(SEGMENTS, (0.02, 0.01, 0.005), strict=True):
        k = seg == s
        revenue_churn = prev[k][gone[k]].sum() / prev[k].sum()
        logo_churn = gone[k].sum() / (prev[k] > 0).sum()
        assert abs(revenue_churn / planted - 1) <= 0.20, (s, revenue_churn)
        assert abs(logo_churn / planted - 1) <= 0.15, (s, logo_churn)
        assert close(truth["churn"]["realised_monthly"][s], revenue_churn)


def test_revenue_comes_from_won_deals(t):
    won = t["opportunities"]
    won = won[won["is_won"] & won["type"].isin(["new_business", "expansion"])]
    first_mrr = t["revenue"].groupby("account_id")["month"].min()
    first_won = won.groupby("account_id")["close_date"].min()
    new = first_mrr[first_mrr > pd.Timestamp("2023-01-01")]
    # an account's revenue starts the month after its first won deal
    starts = (first_won.reindex(new.index) + pd.offsets.MonthBegin(1)).to_numpy()
    assert (starts == new.to_numpy()).mean() > 0.99


def test_new_hire_ramp(t, truth):
    reps, o = t["reps"], t["opportunities"]
    routed = o[o["source"].ne("Existing Customer")]
    ae = reps[reps["role"].eq("AE")]
    hires = ae[ae["hire_date"] >= pd.Timestamp("2023-01-01")]
    month = pd.Timedelta(days=30.4375)
    num, den = np.zeros(12), np.zeros(12)
    for _, h in hires.iterrows():
        team = ae[ae["team"].eq(h["team"]) & ae["rep_id"].ne(h["rep_id"])]
        for k in range(12):
            w0, w1 = h["hire_date"] + k * month, h["hire_date"] + (k + 1) * month
            if w1 > pd.Timestamp("2026-01-01") or (pd.notna(h["end_date"]) and h["end_date"] < w1):
                break
            tenured = team[
                (team["hire_date"] <= w0 - pd.Timedelta(days=365))
                & (team["end_date"].isna() | (team["end_date"] >= w1))
            ]
            if tenured.empty:
                continue
            win = routed[(routed["created_date"] >= w0) & (routed["created_date"] < w1)]
            num[k] += win["owner_rep_id"].eq(h["rep_id"]).sum()
            den[k] += win["owner_rep_id"].isin(tenured["rep_id"]).sum() / len(tenured)
    ratio = num / den
    assert len(hires) >= 5
    assert ratio[0] < 0.45 and ratio[9:].mean() > 0.85
    k = np.arange(12)
    taus = np.linspace(0.5, 6, 1101)
    sse = [np.sum((ratio - (1 - tau * (np.exp(-k / tau) - np.exp(-(k + 1) / tau)))) ** 2) for tau in taus]
    tau = taus[int(np.argmin(sse))]
    months_to_90 = tau * math.log(10)
    assert 4.0 <= months_to_90 <= 6.0, months_to_90
    r = truth["ramp"]
    assert r["months_to_90pct"] == 5.0
    assert abs(r["realised"]["months_to_90pct"] - months_to_90) <= 0.05


def test_activity_rates_per_working_day(t, truth):
    reps = t["reps"]
    days = pd.date_range("2023-01-01", "2025-12-31")
    hol = USFederalHolidayCalendar().holidays("2023-01-01", "2025-12-31")
    work = days[(days.dayofweek < 5) & ~days.isin(hol)]
    counts = t["activities"]["rep_id"].value_counts()
    for role, planted in (("SDR", 50), ("AE", 20)):
        people = reps[reps["role"].eq(role)]
        n_days = sum(
            ((work >= r.hire_date) & (work <= (r.end_date if pd.notna(r.end_date) else work[-1]))).sum()
            for r in people.itertuples()
        )
        rate = counts.reindex(people["rep_id"]).fillna(0).sum() / n_days
        assert abs(rate / planted - 1) <= 0.05, (role, rate)
        assert close(truth["activities"]["realised_per_working_day"][role], rate, 1e-3)


def test_low_and_high_skill_reps(opps, t, truth):
    rs = truth["rep_skill"]
    assert len(rs["low_skill_rep_ids"]) == 3 and len(rs["high_skill_rep_ids"]) == 2
    reps = t["reps"].set_index("rep_id")
    closed = opps[opps["is_closed"]]
    seg_rate = closed.groupby("segment")["is_won"].mean()
    effects = {}
    for group in ("low", "high"):
        diffs = []
        for r in rs[f"{group}_skill_rep_ids"]:
            assert reps.loc[r, "role"] == "AE" and pd.isna(reps.loc[r, "end_date"])
            assert reps.loc[r, "hire_date"] < pd.Timestamp("2022-01-01")
            mine = closed[closed["owner_rep_id"].eq(r)]
            diffs.append(mine["is_won"].mean() - seg_rate[reps.loc[r, "segment"]])
        effects[group] = np.array(diffs)
    assert (effects["low"] < -0.03).all() and (effects["high"] > 0.03).all()
    assert abs(effects["low"].mean() - rs["effects"]["low"]) <= 0.04
    assert abs(effects["high"].mean() - rs["effects"]["high"]) <= 0.04


def test_cac_follows_the_stated_formula(t, truth):
    o = t["opportunities"]
    won = o[o["is_won"]].sort_values(["close_date", "opportunity_id"])
    first = won.groupby("account_id").head(1)
    first = first[first["type"].eq("new_business")]
    channel = first["lead_id"].map(t["leads"].set_index("lead_id")["source"]).fillna(first["source"])
    n_total = len(first)
    sales = t["sales_costs"]["amount"].sum()
    spend = t["marketing_spend"].groupby("channel")["amount"].sum()
    for ch, row in truth["cac"]["by_channel"].items():
        n = int((channel == ch).sum())
        assert row["new_customers"] == n
        cac = (spend[ch] + sales * n / n_total) / n
        assert row["cac"] == pytest.approx(cac, abs=0.01)
    assert truth["cac"]["new_customers_total"] == n_total


def test_lead_conversion_truths(t, full, truth):
    ld = t["leads"].merge(full.hidden["leads"], on="lead_id")
    assert len(ld) == len(t["leads"])
    sql = ld["sql_at"].notna()
    won_ids = set(t["opportunities"].loc[t["opportunities"]["is_won"], "opportunity_id"])
    won = ld["opportunity_id"].isin(won_ids)
    auc_sql = roc_auc_score(sql, ld["p_sql"])
    auc_won = roc_auc_score(won, ld["p_won"])
    auc = truth["lead_model"]["auc_best_achievable"]
    assert close(auc["lead_to_sql"], auc_sql) and close(auc["lead_to_won"], auc_won)
    assert 0.65 < auc_sql < 0.85 and 0.6 < auc_won < 0.85
    # the true probabilities are calibrated against what happened
    by_source = ld.groupby("source").agg(p=("p_mql", "mean"), r=("mql_at", lambda s: s.notna().mean()))
    assert (by_source["p"] - by_source["r"]).abs().max() < 0.03
    coef = truth["lead_model"]["sql_given_mql"]
    assert coef["speed_to_lead_per_log2_hour"] < 0
    assert coef["source"]["Referral"] > coef["source"]["Outbound"]
