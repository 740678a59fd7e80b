"""Campaign ROI by hand and against the sample's spend, the webinar's lead lift and its placebo."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.experiments import campaign_lift_study, campaign_roi, resolve_campaign
from salesops.experiments.common import MissingData, NotEnoughData, attempt
from salesops.experiments.page import describe_campaign, describe_roi, page_metrics


def _tiny():
    ts = pd.Timestamp
    spend = pd.DataFrame({"month": [ts("2025-01-01"), ts("2025-01-01"), ts("2025-02-01")],
                          "channel": ["Web", "Events", "Web"], "campaign_id": ["C1", "C2", "C1"],
                          "amount": [1000.0, 500.0, 1000.0]})
    leads = pd.DataFrame({
        "lead_id": ["L1", "L2", "L3", "L4", "L5"],
        "created_at": pd.to_datetime(["2025-01-03", "2025-01-04", "2025-01-05", "2025-01-06", "2025-02-02"], utc=True),
        "source": ["Web", "Web", "Web", "Events", "Web"],
        "campaign_id": ["C1", "C1", "C1", "C2", "C1"],
        "mql_at": pd.to_datetime(["2025-01-04", "2025-01-05", None, "2025-01-07", None], utc=True),
        "sql_at": pd.to_datetime(["2025-01-06", None, None, "2025-01-09", None], utc=True),
        "opportunity_id": ["O1", None, None, "O2", None],
    })
    opps = pd.DataFrame({"opportunity_id": ["O1", "O2"], "account_id": ["A1", "A2"], "owner_rep_id": ["R1", "R1"],
                         "created_date": [ts("2025-01-07"), ts("2025-01-10")],
                         "close_date": [ts("2025-02-15"), ts("2025-06-30")],
                         "is_closed": [True, False], "is_won": [True, False], "amount": [20000.0, 8000.0]})
    return {"marketing_spend": spend, "leads": leads, "opportunities": opps}


def test_roi_by_hand():
    roi = campaign_roi(_tiny(), by="channel", as_of="2025-03-31").set_index("channel")
    web, ev = roi.loc["Web"], roi.loc["Events"]
    assert (web["spend"], web["leads"], web["mqls"], web["sqls"], web["opportunities"]) == (2000.0, 4, 2, 1, 1)
    assert web["pipeline"] == 20000.0 and web["bookings"] == 20000.0 and web["open_pipeline"] == 0.0
    assert web["cost_per_lead"] == 500.0 and web["roi"] == pytest.approx((20000 - 2000) / 2000)
    assert web["pipeline_per_spend"] == 10.0 and web["closed_share"] == 1.0
    assert ev["bookings"] == 0.0 and ev["open_pipeline"] == 8000.0 and ev["closed_share"] == 0.0
    assert roi.loc["total", "spend"] == 2500.0 and roi.loc["total", "pipeline"] == 28000.0


def test_roi_as_known_at_a_cutoff():
    # on 2025-01-31 the Web deal was still open and February's spend not yet made
    roi = campaign_roi(_tiny(), by="campaign_id", as_of="2025-01-31").set_index("campaign_id")
    assert roi.loc["C1", "spend"] == 1000.0 and roi.loc["C1", "bookings"] == 0.0
    assert roi.loc["C1", "open_pipeline"] == 20000.0 and roi.loc["C1", "channel"] == "Web"


def test_roi_spend_matches_the_sample_by_channel(sample, truth):
    roi = campaign_roi(sample, by="channel").set_index("channel")
    for channel, row in truth["cac"]["by_channel"].items():
        assert roi.loc[channel, "spend"] == pytest.approx(row["marketing_spend"], abs=0.01)
    assert roi.loc["total", "spend"] == pytest.approx(truth["cac"]["marketing_spend_total"], abs=0.01)
    leads = roi.loc[[c for c in roi.index if c != "total"], "leads"]
    assert leads.to_dict() == {s: v["leads"] for s, v in truth["lead_model"]["realised_by_source"].items()}
    assert "pipeline" in describe_roi(roi.reset_index())


def test_missing_spend_is_named(sample):
    tables = {k: v for k, v in sample.tables.items() if k != "marketing_spend"}
    with pytest.raises(MissingData, match="`marketing_spend` table"):
        campaign_roi(tables)
    roi, note = attempt(campaign_roi, tables)
    assert roi is None and "marketing_spend" in note


def test_the_webinar_is_resolved_from_its_event(sample, truth):
    w = truth["webinar_campaign"]
    camp = resolve_campaign(sample, None)
    assert (camp.campaign_id, camp.channel) == (w["campaign_id"], w["channel"])
    assert str(camp.start.date()) == w["start"] and str(camp.end.date()) == w["end"]
    assert resolve_campaign(sample, w["campaign_id"]).channel == w["channel"]
    with pytest.raises(NotEnoughData, match="no event 'nope'"):
        resolve_campaign(sample, "nope")


def test_the_webinar_lift_is_found_and_its_placebo_is_not(webinar, truth):
    camp, study = webinar
    e = study.effect
    assert camp is not None and e.available, study.message
    assert e.value > 1 and e.significant
    assert e.covers(truth["webinar_campaign"]["lead_volume_factor"])
    assert study.pretrend.p_value > 0.05
    placebo = study.placebo.effect
    assert placebo.available and not placebo.significant
    assert "finds no lift" in describe_campaign(camp, study)


def test_too_short_a_history_before_the_campaign_gives_a_message(sample):
    camp, study = campaign_lift_study(sample, quarter="2025Q4", pre_weeks=200)
    assert camp is not None and not study.available
    assert "week(s) of leads before the campaign, 200 needed" in study.message


def test_page_metrics_of_the_sample(process, webinar, sample):
    roi = campaign_roi(sample, by="channel", quarter="2025Q4", months=12)
    m = page_metrics(process, webinar[1], roi, None)
    assert m["experiments.process_change.level_change"][0] == pytest.approx(process.effect.value)
    assert m["experiments.campaign.lead_lift"][0] == pytest.approx(webinar[1].effect.value)
    assert m["experiments.marketing.pipeline_per_spend"][0] > 1
    assert all(k.startswith("experiments.") for k in m)
