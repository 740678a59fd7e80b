"""The executive summary on whatever tables exist: transactions only, no segment, only won deals."""

from __future__ import annotations

import math

import pandas as pd

from salesops.io.data import SalesData
from salesops.summary import data_limits, executive_summary, summary_dimension


def _tables(data: SalesData, **changes) -> SalesData:
    tables = {k: v for k, v in data.tables.items() if v is not None}
    for name, value in changes.items():
        if value is None:
            tables.pop(name, None)
        else:
            tables[name] = value
    return SalesData(tables=tables, as_of=data.as_of, source="test")


def test_the_full_tiny_crm_has_no_limit_sentence_about_deals(tiny):
    s = executive_summary(tiny, "2025Q4")
    assert s.by_group is not None and s.movers is not None
    assert not any("lost deal" in x for x in s.limits)
    assert any(p.startswith("**Bookings**") for p in s.paragraphs)


def test_without_segment_the_summary_runs_for_the_whole_company(tiny):
    accounts = tiny.accounts.drop(columns="segment")
    reps = tiny.reps.drop(columns="segment")
    data = _tables(tiny, accounts=accounts, reps=reps)
    assert summary_dimension(data) is None
    s = executive_summary(data, "2025Q4")
    assert s.by_group is None and s.movers is None
    assert s.headline.loc[s.headline["kpi"].eq("bookings"), "value"].iloc[0] == 400.0
    assert any("no segment" in x for x in s.limits)
    assert "What these data cannot show" in s.markdown


def test_only_won_deals_say_lost_deals_are_absent_not_none_flagged(tiny):
    opps = tiny.opportunities
    data = _tables(tiny, opportunities=opps[~(opps["is_closed"] & ~opps["is_won"])].reset_index(drop=True))
    s = executive_summary(data, "2025Q4")
    w = s.headline[s.headline["kpi"].eq("win_rate")].iloc[0]
    assert w["value"] == 1.0 and "no lost deal" in w["note"]
    risks = next(p for p in s.paragraphs if p.startswith("**Risks**"))
    assert "none flagged" not in risks and "cannot be judged" in risks
    assert "no lost deal" in s.markdown


def test_transactions_only(tiny):
    tx = pd.DataFrame({"customer_id": ["c1", "c1", "c2", "c3"],
                       "date": pd.to_datetime(["2025-10-02", "2025-11-20", "2025-12-31", "2025-09-30"]),
                       "amount": [10.0, 20.0, 5.0, 99.0], "transaction_id": ["t1", "t2", "t3", "t4"]})
    data = SalesData(tables={"transactions": tx}, as_of=pd.Timestamp("2025-12-31 23:59", tz="UTC"), source="test")
    s = executive_summary(data, "2025Q4")
    b = s.headline[s.headline["kpi"].eq("bookings")].iloc[0]
    assert b["value"] == 35.0 and b["n"] == 3
    win = s.headline[s.headline["kpi"].eq("win_rate")].iloc[0]
    assert math.isnan(win["value"]) and "no opportunities" in win["note"]
    assert any("transactions (orders) but no opportunities" in x for x in data_limits(data))
    assert "3 orders" in s.markdown
    prev = s.headline.loc[s.headline["kpi"].eq("bookings"), "previous"].iloc[0]
    assert prev == 99.0


def test_only_won_deals_without_other_risks(tiny):
    opps = tiny.opportunities
    only_won = opps[~(opps["is_closed"] & ~opps["is_won"])].reset_index(drop=True)
    data = _tables(tiny, opportunities=only_won, quotas=None)
    s = executive_summary(data, "2025Q4")
    risks = next(p for p in s.paragraphs if p.startswith("**Risks**"))
    assert risks.startswith("**Risks**: none flagged by the headline numbers that these data allow")
    assert "no quotas table" in s.markdown and "no lost deal" in s.markdown


def test_the_page_keeps_the_tests_behind_its_words(tiny):
    s = executive_summary(tiny, "2025Q4")
    t = s.tests.set_index(["scope", "group"])
    assert list(s.tests.columns[:3]) == ["scope", "group", "kpi"]
    company = t.loc[("company", "all")]  # 2 of 3 against 1 of 1 a year ago: Fisher, p = 1, not significant
    assert company["test"] == "Fisher exact test" and company["p_value"] == 1.0 and not company["significant"]
    assert company["family"] == 1
    assert set(t.loc["segment"].index) == {"ENT", "SMB"}
    assert "Fisher exact test p = 1.000" in s.markdown and "significantly below" not in s.markdown


def test_without_quotas_the_page_says_there_is_no_target(tiny):
    s = executive_summary(_tables(tiny, quotas=None), "2025Q4")
    bookings = s.headline.set_index("kpi").loc["bookings"]
    assert math.isnan(bookings["target"]) and bookings["note"].startswith("no bookings target: ")
    first = s.paragraphs[0]
    assert first.startswith("**Bookings**") and "there is no quota to compare with (Quota needs the table quotas" in first


def test_the_tests_table_for_the_page(tiny):
    from salesops.summary import tests_table

    s = executive_summary(tiny, "2025Q4")
    table = tests_table(s.tests).set_index("Compared")
    company = table.loc["Company win rate"]
    assert company["This quarter (won of closed)"] == "2 of 3 (66.7%)"
    assert company["Same quarter last year"] == "1 of 1 (100.0%)"
    assert company["Test"] == "Fisher exact test" and company["p"] == "1.000"
    assert company["p adjusted"] == "(single test)" and company["Verdict"] == "not significant at 5%"
    assert company["Difference, pts [95% interval]"].startswith("-33.3 [")
    no_rates = s.tests.assign(trials=float("nan"))
    assert tests_table(no_rates) is None and tests_table(s.tests.iloc[:0]) is None


def test_the_trend_figure_leaves_out_kpis_the_data_cannot_give(tiny):
    import pandas as pd

    from salesops.plots.summary import plot_kpi_trends
    from salesops.summary import KPI_LABELS, KPI_UNITS

    trend = pd.DataFrame({"period": ["2025Q3", "2025Q4"] * 2, "kpi": ["bookings"] * 2 + ["win_rate"] * 2,
                          "value": [1e6, 2e6, float("nan"), float("nan")], "lower": float("nan"),
                          "upper": float("nan")})
    fig = plot_kpi_trends(trend, ["bookings", "win_rate"], KPI_LABELS, KPI_UNITS, highlight="2025Q4")
    titles = [ax.get_title("left") or ax.get_title() for ax in fig.axes if ax.get_visible() and ax.lines]
    assert len(titles) == 1 and titles[0].startswith("Bookings")
