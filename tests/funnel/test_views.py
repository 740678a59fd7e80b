"""The page around the numbers: figures, sentences, availability, headline metrics, and the notebook run on
an export that lacks most optional tables."""

from __future__ import annotations

import json
import math

import matplotlib
import pandas as pd
import pytest
from _render import notebook_markdown_text
from matplotlib.figure import Figure

import salesops as so
from salesops import funnel as fn
from salesops.funnel import summary as fs
from salesops.plots import funnel as fp

from .conftest import MAVEN, MINI_CRM, ROOT, tiny_data, ts

matplotlib.use("Agg")


def _texts(fig: Figure) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts + [ax.title])


def test_every_figure_draws_the_tiny_crm(tiny):
    q = "2025Q2"
    figs = [
        fp.plot_pipeline_size(fn.pipeline_size(tiny, by=["segment", "stage"], as_of=ts("04-30"))),
        fp.plot_pipeline_size(fn.pipeline_size(tiny, by="stage", as_of=ts("04-30"))),
        fp.plot_coverage(fn.coverage(tiny, q)),
        fp.plot_pipeline_age(fn.pipeline_age(tiny, as_of=ts("04-30"))),
        fp.plot_lead_funnel(fn.lead_funnel(tiny), mark="2025Q1"),
        fp.plot_speed_to_lead(fn.speed_to_lead_bands(tiny)),
        fp.plot_bottleneck_map(fn.bottleneck_scan(tiny, observed_from="2025-01-01")),
        fp.plot_pipeline_flow(fn.pipeline_flow(tiny, q)),
    ]
    assert all(isinstance(f, Figure) and f.axes for f in figs)
    waterfall = figs[-1].axes[0]
    # start, created, pulled in, pushed out, slipped, won, lost, amount up, amount down, end
    # (zero steps are dropped)
    assert len(waterfall.patches) == 10
    assert [t.get_text() for t in waterfall.get_xticklabels()][0] == "start"
    assert "0.6×" in _texts(figs[2])  # SMB coverage at the quarter's start


def test_figures_of_missing_data_say_what_is_missing():
    data = tiny_data(drop=("opportunity_history", "leads"))
    flow = fs.attempt(fn.pipeline_flow, data, "2025Q2")
    assert flow.empty and "opportunity_history table" in flow.attrs["missing"]
    fig = fp.plot_pipeline_flow(flow)
    assert "opportunity_history table" in _texts(fig)
    assert "leads table" in _texts(fp.plot_lead_funnel(fs.attempt(fn.lead_funnel, data)))


def test_sentences_carry_the_tables_numbers(tiny):
    flow = fn.pipeline_flow(tiny, "2025Q2")
    text = fs.describe_flow(flow)
    assert "**6k**" in text and "4k created (1)" in text and "to the cent" in text
    cov = fn.coverage(tiny, "2025Q2", as_of=ts("05-20"))
    assert "Mid-Market at 0.0×" in fs.describe_coverage(cov)
    size = fn.pipeline_size(tiny, by=["segment", "stage"], as_of=ts("04-30"))
    assert "6 deals worth 22k" in fs.describe_pipeline(size, size)
    stale = fn.stale_deals(tiny)
    assert "1 of 1 open deals" in fs.describe_stale(stale)
    v = fn.sales_velocity(tiny, by=None, n_boot=0)
    assert "22 a day" in fs.describe_velocity(v)


def test_describing_the_sample_bottleneck(sample):
    found = fn.find_bottlenecks(sample, "2025Q3")
    text = fs.describe_bottlenecks(found)
    assert (
        text.startswith("Flagged in 2025Q3") and "Mid-Market · Proposal" in text and text.count("- **") == 1
    )
    calm = fs.describe_bottlenecks(fn.find_bottlenecks(sample, "2024Q3"))
    assert "no stage departs significantly" in calm


def test_availability_of_the_mini_export():
    data = so.load(MINI_CRM)
    av = fs.availability(data).set_index("analysis")["available"]
    assert av["open pipeline, velocity and age"] and av["quota coverage"] and av["breakdowns by segment"]
    assert not av["pipeline flow"] and not av["lead funnel"] and not av["speed-to-lead"]
    text = fs.describe_availability(fs.availability(data))
    assert "opportunity_history" in text and "leads.mql_at" in text


def test_availability_of_the_real_maven_export():
    if not MAVEN.is_dir():
        pytest.skip(f"real data not found at {MAVEN} (it sits beside the checkout)")
    data = so.load(MAVEN, mapping="maven_crm")
    av = fs.availability(data).set_index("analysis")["available"]
    assert av["open pipeline, velocity and age"] and not av["pipeline flow"] and not av["quota coverage"]
    flow = fs.attempt(fn.pipeline_flow, data, "2017Q4")
    assert flow.attrs["missing"] == (
        "The pipeline flow needs the opportunity_history table, which this data does not have."
    )


def test_metrics_have_fixed_keys_and_finite_or_empty_values(tiny):
    q = "2025Q2"
    leads = fn.lead_funnel(tiny)
    m = fs.funnel_metrics(
        fn.pipeline_size(tiny, by=["segment", "stage"]),
        fn.coverage(tiny, q),
        fn.sales_velocity(tiny, by=None),
        fn.stale_deals(tiny),
        leads,
        q,
        fn.speed_to_lead(tiny, by=None),
        fs.attempt(fn.speed_to_lead_effect, tiny),
        fn.find_bottlenecks(tiny, q, observed_from="2025-01-01"),
        fn.pipeline_flow(tiny, q),
    )
    assert m["funnel.flow.start"][0] == 6000.0 and m["funnel.flow.end"][0] == 2500.0
    assert m["funnel.flow.amount_change"][0] == 0.0 and m["funnel.coverage.start_of_quarter"][
        0
    ] == pytest.approx(6000 / 19100)
    assert m["funnel.leads.mql_to_sql"][0] is None  # the tiny CRM's Q2 MQL (L4) is still inside its window
    empty = pd.DataFrame()
    empty.attrs["missing"] = "x"
    none = fs.funnel_metrics(*([empty] * 4), empty, q, empty, empty, empty, empty)
    assert set(none) == set(m) and all(v[0] is None for v in none.values())
    for key, (value, _unit, _text) in m.items():
        assert key.startswith("funnel.") and (value is None or math.isfinite(value)), key


@pytest.mark.slow
def test_notebook_runs_on_an_export_without_history_or_leads(tmp_path, monkeypatch):
    papermill = pytest.importorskip("papermill")
    from salesops.report.metrics import METRICS_ENV, read_records

    metrics = tmp_path / "metrics.jsonl"
    monkeypatch.setenv(METRICS_ENV, str(metrics))
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "03_pipeline_and_funnel.ipynb"),
        str(out),
        parameters={"data_path": str(MINI_CRM), "quarter": "2025Q4"},
        kernel_name="python3",
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
    )
    text = out.read_text()
    shown = notebook_markdown_text(out)
    assert "needs the opportunity_history table, which this data does not have" in shown
    assert "Traceback" not in text
    recorded = read_records(metrics)
    assert recorded["funnel.pipeline.open_deals"].value == 2  # O008 and O009 of the mini export
    assert recorded["funnel.flow.start"].value is None
    assert all(r.value is None or math.isfinite(r.value) for r in recorded.values())
    json.dumps({k: r.value for k, r in recorded.items()}, allow_nan=False)


def test_every_table_prints_and_concatenates(tiny):
    """attrs hold only plain values: pandas compares them when it prints a truncated frame or concatenates."""
    tables = [
        fn.pipeline_size(tiny, by=["segment", "stage"]),
        fn.coverage(tiny, "2025Q2"),
        fn.sales_velocity(tiny, n_boot=0),
        fn.pipeline_age(tiny, by=["stage", "segment"]),
        fn.stale_deals(tiny),
        fn.lead_funnel(tiny, by="source"),
        fn.speed_to_lead(tiny),
        fn.speed_to_lead_effect(tiny, min_mqls=1),
        fn.stage_conversion(tiny, by="segment", observed_from="2025-01-01"),
        fn.time_in_stage(tiny, observed_from="2025-01-01"),
        fn.bottleneck_scan(tiny, observed_from="2025-01-01"),
        fn.flow_events(tiny.opportunity_history, "2025Q2"),
        fn.pipeline_flow(tiny, "2025Q2", by="segment"),
    ]
    with pd.option_context("display.width", 60, "display.max_columns", 4):
        for t in tables:
            assert repr(t) and len(pd.concat([t, t])) == 2 * len(t)
