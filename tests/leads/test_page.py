"""The leads page: graceful degradation on a CRM without leads, the sentences quote the results, the metrics
keep their keys, and every figure renders (also empty)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

import salesops as so
from salesops import leads
from salesops.leads import page
from salesops.periods import parse_quarter
from salesops.plots import leads as lp

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_crm"
TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "routing.yaml"
Q = parse_quarter("2025Q4")


def test_a_crm_without_leads_degrades_to_named_gaps():
    data = so.load(MINI)
    avail = page.availability(data).set_index("analysis")
    assert not avail.loc["lead -> SQL score", "available"]
    assert avail.loc["lead -> SQL score", "needs"] == "the leads table"
    sql = page.attempt(leads.score_leads, data.leads, data.opportunities, data.accounts, target="sql")
    assert isinstance(sql, page.Unavailable) and not sql
    assert "leads table is missing" in page.describe_scoring(sql)
    found = page.attempt(leads.find_personas, data.accounts, data.opportunities, data.leads)
    assert "too few" in page.missing(found)
    routed = page.attempt(leads.route, page.leads_in(data, Q), data.reps, leads.load_rules(TEMPLATE),
                          accounts=data.accounts)
    replayed = page.attempt(leads.replay, data.leads, data.reps, TEMPLATE, period=Q)
    m = page.metrics(sql, sql, found, routed, page.load_of(routed), replayed)
    assert all(v is None for v, _, _ in m.values())
    for fig in (lp.plot_lift(page.table(sql, "lift"), missing=page.missing(sql)),
                lp.plot_personas(page.table(found, 0), missing=page.missing(found)),
                lp.plot_routing_load(page.load_of(routed)), lp.plot_speed_to_lead(page.table(replayed, "assignments"))):
        assert isinstance(fig, Figure)


def test_attempt_lets_real_errors_through():
    def broken():
        raise ValueError("a bug, not missing data")

    with pytest.raises(ValueError, match="a bug"):
        page.attempt(broken)


def test_sentences_quote_the_results(sample, sql_score):
    text = page.describe_scoring(sql_score, "SQL")
    auc = sql_score.auc.iloc[0]
    assert f"{auc['auc']:.3f}" in text and f"{auc['lower']:.3f}" in text
    assert f"{sql_score.lift.loc[0, 'lift']:.1f}×" in text
    assert "persona, country add nothing beyond chance" in text
    counts = sql_score.counts.set_index("part")
    assert f"{counts.loc['test', 'leads']:,}" in text


def test_page_on_the_sample_quarter(sample, sql_score):
    rules = leads.load_rules(TEMPLATE)
    quarter_leads = page.leads_in(sample, Q)
    assert len(quarter_leads) == (sample.leads["created_at"] >= "2025-10-01").sum()
    routed = page.attempt(leads.route, quarter_leads, sample.reps, rules, accounts=sample.accounts)
    load = page.load_of(routed)
    text = page.describe_routing(routed, load)
    assert f"all {len(routed):,} leads" in text
    for rule, n in routed["rule"].value_counts().items():
        assert f"{n:,} by *{rule}*" in text
    top = page.top_leads(sql_score, quarter_leads, sample.accounts, n=5)
    assert len(top) == 5 and top["probability"].is_monotonic_decreasing
    assert top["reasons"].str.count(";").eq(2).all()
    replayed = page.attempt(leads.replay, sample.leads, sample.reps, {"rules": rules}, period=Q,
                            accounts=sample.accounts, scoring=sql_score)
    assert "rules" in replayed.conversion["scenario"].tolist()
    assert f"{replayed.conversion['expected_sqls'].iloc[0]:,.0f} SQLs" in page.describe_replay(replayed)
    m = page.metrics(sql_score, sql_score, page.Unavailable("no personas"), routed, load, replayed)
    assert m["sql_auc"][0] == pytest.approx(sql_score.test_auc) and m["personas"][0] is None
    assert m["quarter_leads"][0] == len(quarter_leads)
    assert all(v is None or isinstance(v, bool) or math.isfinite(v) for v, _, _ in m.values())


def test_figures_render_closed(sql_score, sample, tmp_path):
    import matplotlib.pyplot as plt

    table = pd.DataFrame({"k": [2, 3], "silhouette": [0.5, 0.6], "stability": [0.9, 0.95], "chosen": [False, True]})
    profiles = pd.DataFrame({"persona": ["Small", "Large"], "win_rate": [0.3, 0.15], "win_rate_lower": [0.28, 0.12],
                             "win_rate_upper": [0.32, 0.18], "cycle_median_days": [30, 120], "cycle_lower": [29, 110],
                             "cycle_upper": [31, 130], "deal_size_mean": [1e4, 1e5], "deal_size_lower": [9e3, 9e4],
                             "deal_size_upper": [1.1e4, 1.1e5]})
    routed = leads.route(page.leads_in(sample, Q), sample.reps, TEMPLATE, accounts=sample.accounts)
    replayed = leads.replay(sample.leads, sample.reps, TEMPLATE, period=Q, accounts=sample.accounts)
    figures = [lp.plot_lift(sql_score.lift), lp.plot_calibration(sql_score.calibration),
               lp.plot_drivers(sql_score.drivers), lp.plot_k_choice(table), lp.plot_personas(profiles),
               lp.plot_routing_load(page.load_of(routed)), lp.plot_speed_to_lead(replayed.assignments),
               lp.plot_calibration(pd.DataFrame(), missing="no leads")]
    assert plt.get_fignums() == [], "figures are closed, so a notebook shows each exactly once"
    for i, fig in enumerate(figures):
        assert isinstance(fig, Figure)
        fig.savefig(tmp_path / f"{i}.png")
