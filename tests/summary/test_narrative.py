"""Biggest movers, their drivers, the narrative and the summary metrics."""

from __future__ import annotations

import sys
import types

import pandas as pd
import pytest

from salesops.summary import (
    Insights,
    biggest_movers,
    decompose_change,
    format_value,
    headline_kpis,
    narrative,
    optional_insights,
    summary_metrics,
)


def test_decompose_change_by_hand():
    assert decompose_change(10, 20, 5, 5) == pytest.approx((1.0, 0.0))
    assert decompose_change(2, 4, 3, 6) == pytest.approx((0.5, 0.5))
    sa, sb = decompose_change(0, 4, 3, 6)
    assert pd.isna(sa) and pd.isna(sb)


def test_movers_by_hand(tiny):
    m = biggest_movers(tiny, "2025Q4", against="previous")
    smb = m[(m["group"] == "SMB") & (m["kpi"] == "bookings")].iloc[0]
    assert (smb["value"], smb["base"], smb["relative_change"]) == (100.0, 200.0, -0.5)
    assert smb["driver"] == "smaller deals" and smb["driver_share"] == pytest.approx(1.0)
    # ENT had no bookings and a 0 % win rate in 2025Q3: no relative change, left out
    assert m[(m["group"] == "ENT") & m["kpi"].isin(["bookings", "win_rate"])].empty
    assert m["rank"].tolist() == list(range(1, len(m) + 1))
    assert m["relative_change"].abs().is_monotonic_decreasing


def test_movers_of_the_sample_name_the_planted_mid_market_slowdown(sample):
    hs = headline_kpis(sample, "2025Q4", by="segment")
    m = biggest_movers(sample, "2025Q4", headline=hs)
    mm = m[(m["group"] == "Mid-Market") & (m["kpi"] == "win_rate")].iloc[0]
    assert mm["relative_change"] < -0.15  # the Proposal bottleneck (from 2025-04-01) cuts Mid-Market wins
    # 52 of 293 against 51 of 205: the two-proportion test's p is 0.053 (0.160 after Holm over three segments)
    assert mm["test"] == "two-proportion test" and mm["p_value"] == pytest.approx(0.0532, abs=1e-4)
    assert mm["p_adjusted"] == pytest.approx(0.1595, abs=1e-4) and mm["family"] == 3 and not mm["significant"]
    assert (mm["lower"], mm["upper"]) == pytest.approx((-0.1460, 0.0010), abs=1e-4)
    h = headline_kpis(sample, "2025Q4")
    text = "\n".join(narrative(h, m, quarter="2025Q4", by_segment=hs, insights=Insights(), currency="USD"))
    assert "$9.36M" in text
    assert ("the Mid-Market win rate (17.7%) is lower than last year's 24.9%, but not significantly at the 5% level "
            "(two-proportion test p = 0.053, Holm-adjusted p = 0.160 over 3 segments, difference -7.1 pts "
            "[-14.6, +0.1])") in text
    assert "significantly below" not in text
    assert "-1.8 pts on a year ago (two-proportion test p = 0.439, difference -1.8 pts [-6.2, +2.7]; " \
           "not significant at 5%)" in text


def test_narrative_by_hand_and_escaped(tiny):
    h = headline_kpis(tiny, "2025Q4")
    bad = "<script>alert(1)</script>"
    m = biggest_movers(tiny, "2025Q4", against="previous").replace({"group": {"SMB": bad}})
    paras = narrative(h, m, quarter="2025Q4", insights=Insights(notes=["No forecast against quota: gone."]))
    text = "\n".join(paras)
    assert "**Bookings** in 2025Q4 were $400 from 2 deals won, +100.0% on 2025Q3 and +700.0% on 2024Q4" in text
    assert "100% of the $400 quota" in text
    assert "66.7% (95% interval" in text
    assert "$400 of open pipeline (1 deals)" in text and "2.00x the quota" in text
    assert "pipeline coverage for 2026Q1 is 2.00x, below the 3x rule of thumb" in text  # a risk
    # 2024Q4 won 1 of 1; this quarter's Wilson upper bound for 2 of 3 (0.94) lies below it, but Fisher's exact
    # test (expected counts below 5) gives p = 1: said, and not called significant
    assert ("the win rate (66.7%) is lower than last year's 100.0%, but not significantly at the 5% level "
            "(Fisher exact test p = 1.000, difference -33.3 pts [") in text
    assert "significantly below" not in text
    assert bad not in text and "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in text
    assert "against the previous quarter" in text
    assert paras[-1] == "No forecast against quota: gone."


def test_format_value():
    assert format_value(9361700, "currency", "USD") == "$9.36M"
    assert format_value(1500, "currency", "EUR") == "EUR 1.5k"
    assert format_value(0.2288, "share") == "22.9%"
    assert format_value(float("nan"), "share") == "n/a"


def test_optional_insights_use_the_modules_only_when_present(tiny, monkeypatch):
    for name in ("salesops.forecast", "salesops.forecast.quarter", "salesops.funnel", "salesops.funnel.bottlenecks"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails
    ins = optional_insights(tiny, "2025Q4")
    assert ins.forecast is None and ins.bottlenecks is None
    assert any("salesops.forecast is not available" in n for n in ins.notes)
    assert any("salesops.funnel is not available" in n for n in ins.notes)

    forecast = types.ModuleType("salesops.forecast")
    forecast.forecast_quarter = lambda data, quarter, **kw: {"expected": 123.0, "lower": 100.0, "upper": 150.0}
    funnel = types.ModuleType("salesops.funnel")
    funnel.find_bottlenecks = lambda data, quarter: pd.DataFrame(
        {"stage": ["Proposal", "Discovery"], "segment": ["Mid-Market", "SMB"], "flagged": [True, False],
         "conversion": [0.4, 0.7], "baseline_conversion": [0.6, 0.7], "time_ratio": [2.0, 1.0]})
    monkeypatch.setitem(sys.modules, "salesops.forecast", forecast)
    monkeypatch.setitem(sys.modules, "salesops.funnel", funnel)
    ins = optional_insights(tiny, "2025Q4")
    assert ins.forecast == {"expected": 123.0, "lower": 100.0, "upper": 150.0, "method": ""} and not ins.notes
    text = "\n".join(narrative(headline_kpis(tiny, "2025Q4"), None, quarter="2025Q4", insights=ins))
    # next-quarter quota of the tiny CRM: 200
    assert "The forecast for 2026Q1 is $123 (80% range $100 to $150), 62% of the $200 quota." in text
    assert "Proposal in Mid-Market (conversion 40.0% against 60.0% before, 2.0x as long in the stage)" in text
    assert "Discovery" not in text  # not flagged


def test_the_real_forecast_and_funnel_modules_when_present(sample):
    """With the project's own forecast and funnel modules: the planted Mid-Market Proposal bottleneck is named."""
    import importlib.util

    if importlib.util.find_spec("salesops.funnel") is None or importlib.util.find_spec("salesops.forecast") is None:
        pytest.fail("salesops.funnel and salesops.forecast are part of the project; the summary expects them")
    ins = optional_insights(sample, "2025Q4")
    assert not ins.notes, ins.notes
    assert ins.forecast["expected"] > 0 and ins.forecast["lower"] <= ins.forecast["expected"] <= ins.forecast["upper"]
    flagged = ins.bottlenecks
    assert ((flagged["stage"] == "Proposal") & (flagged["segment"] == "Mid-Market")).any()


def test_summary_metrics_keys_and_values(tiny):
    h = headline_kpis(tiny, "2025Q4")
    hs = headline_kpis(tiny, "2025Q4", by="segment")
    m = summary_metrics(h, hs, currency="USD")
    assert m["summary.bookings"] == (400.0, "USD", "won amount closed in the quarter")
    assert m["summary.bookings.smb"][0] == 100.0 and m["summary.win_rate.ent"][0] == 1.0
    assert m["summary.bookings_vs_quota"][0] == pytest.approx(1.0)
    assert m["summary.bookings_change_vs_last_year"][0] == pytest.approx(7.0)
    assert list(m) == sorted(m)


def test_headline_table_by_hand(tiny):
    from salesops.summary import headline_table

    t = headline_table(headline_kpis(tiny, "2025Q4"), currency="USD").set_index("KPI")
    assert t.loc["Bookings", "This quarter"] == "$400"
    assert t.loc["Bookings", "vs last quarter (rates in pts, others in %)"] == "+100.0%"
    assert t.loc["Bookings", "vs target"] == "100%"
    assert t.loc["Win rate", "This quarter"].startswith("66.7% (")
    # one rule: a rate's change in points, an amount's or count's in %; the header says so
    assert t.loc["Win rate", "vs last quarter (rates in pts, others in %)"] == "+16.7 pts"
    assert t.loc["Win rate", "vs last year (rates in pts, others in %)"] == "-33.3 pts"
    assert t.loc["Deals won", "vs last year (rates in pts, others in %)"] == "+100.0%"
    assert t.loc["Deals won", "Target"] == ""


def test_trend_figure(sample):
    from matplotlib.figure import Figure

    from salesops.plots.summary import plot_kpi_trends
    from salesops.summary import KPI_LABELS, KPI_UNITS, kpis_by_quarter, trailing_quarters

    qs = trailing_quarters("2025Q4", 4)
    assert [str(q) for q in qs] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    k = kpis_by_quarter(sample, qs)
    fig = plot_kpi_trends(k, ["bookings", "win_rate", "deals_won", "avg_deal_size"], KPI_LABELS, KPI_UNITS,
                          highlight="2025Q4", currency="USD")
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    # the house style (plots.set_style) puts titles on the left; without it they are centred
    assert len(visible) == 4 and "Bookings (USD M)" in (visible[0].get_title("left"), visible[0].get_title())
    assert visible[0].lines[0].get_ydata()[-1] == pytest.approx(9.3617)


def test_movers_table_by_hand(tiny):
    from salesops.summary import movers_table

    t = movers_table(biggest_movers(tiny, "2025Q4", against="previous"), currency="USD")
    change = "Change (rates in pts, others in %)"
    row = t[(t["Segment"] == "SMB") & (t["KPI"] == "Bookings")].iloc[0]
    assert (row["Base"], row["Now"], row[change], row["Driven by"]) == ("$200", "$100", "-50.0%", "smaller deals")
    assert row["Test"] == ""
    # SMB's win rate went from 1 of 1 to 1 of 2: -50.0 pts (not the relative -50%), with its Fisher test
    rate = t[(t["Segment"] == "SMB") & (t["KPI"] == "Win rate")].iloc[0]
    assert rate[change] == "-50.0 pts"
    assert rate["Test"].startswith("Fisher exact test p = 1.000, Holm-adjusted p = 1.000 over 2 segments, "
                                   "difference -50.0 pts [")
    assert rate["Test"].endswith("; not significant at 5%")


def test_movers_of_the_sample_give_rates_in_points(sample):
    hs = headline_kpis(sample, "2025Q4", by="segment")
    m = biggest_movers(sample, "2025Q4", headline=hs)
    text = " ".join(narrative(headline_kpis(sample, "2025Q4"), m, quarter="2025Q4", by_segment=hs, top=len(m)))
    # Enterprise's win rate: 9.2% to 13.8% is +4.7 pts (relative +50.9%, which the page no longer shows)
    assert "Enterprise win rate +4.7 pts (9.2% to 13.8%; two-proportion test p = 0.232" in text
    assert "+50.9%" not in text
    # a driver naming the win rate carries its change and test too
    assert ("Enterprise deals won +100.0% (11 to 22), driven by a higher win rate (+4.7 pts; two-proportion test "
            "p = 0.232, Holm-adjusted p = 0.464 over 3 segments, difference +4.7 pts [-3.2, +12.1]; not significant "
            "at 5%) and more deals closed") in text


def test_narrative_says_which_table_is_missing(tiny):
    from salesops.io.data import SalesData

    data = SalesData(tables={k: v for k, v in tiny.tables.items() if k != "opportunity_history"})
    text = "\n".join(narrative(headline_kpis(data, "2025Q4"), None, quarter="2025Q4"))
    assert "**Next quarter**: no pipeline figure (Next-quarter pipeline needs the table opportunity\\_history" in text


def test_markdown_in_data_values_stays_text(tiny):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    h = headline_kpis(tiny, "2025Q4")
    link = "[click](javascript:alert(1))"
    m = biggest_movers(tiny, "2025Q4", against="previous").replace({"group": {"SMB": link}})
    html = markdown2html_mistune("\n\n".join(narrative(h, m, quarter="2025Q4")))
    assert "<a " not in html and "[click](javascript:alert(1))" in html


def test_the_summary_quotes_the_forecast_pages_number(sample):
    """The executive summary and the Forecast page make the same call, so the review shows one number for next
    quarter: the model's (gbm), not the open-pipeline baseline."""
    from salesops.forecast import next_quarter_forecast

    ins = optional_insights(sample, "2025Q4")
    page, ready = next_quarter_forecast(sample, "2025Q4", method="gbm")
    assert ready.ok and page.method == "gbm"
    row = page.summary().iloc[0]
    assert ins.forecast == {"expected": row["forecast"], "lower": row["p10"], "upper": row["p90"], "method": "gbm"}
    # the model counts pipeline not yet created, so it is above the weighted pipeline of open deals alone
    assert row["not_yet_created"] > 0
    h = headline_kpis(sample, "2025Q4")
    m = biggest_movers(sample, "2025Q4", against="previous")
    text = " ".join(narrative(h, m, quarter="2025Q4", insights=ins))
    assert "The model forecast for 2026Q1 is" in text and "open deals only" not in text


def test_too_little_history_falls_back_to_the_weighted_pipeline(sample):
    from salesops.forecast import next_quarter_forecast

    model, ready = next_quarter_forecast(sample, "2023Q2")
    assert model is None and not ready.ok and "4 complete quarters" in ready.message
    baseline, _ = next_quarter_forecast(sample, "2023Q2", fallback="weighted_pipeline")
    assert baseline.method == "weighted_pipeline" and baseline.summary()["forecast"].iloc[0] > 0
    with pytest.raises(ValueError, match="unknown forecast method 'magic'"):
        next_quarter_forecast(sample, "2025Q4", method="magic")
