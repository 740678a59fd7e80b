import pytest

from salesops.forecast import activity_forecast, pipeline_generation_forecast
from salesops.forecast._common import InsufficientHistoryError


def test_activity_forecast_tracks_the_next_quarter(sample):
    fc = activity_forecast(sample, "2025Q4", as_of="2025-09-30 23:59:59")
    a = sample.activities
    actual = a.loc[(a["occurred_at"] >= "2025-10-01") & (a["occurred_at"] < "2026-01-01")]
    assert set(fc["type"]) == {"call", "email", "meeting"}
    assert fc["forecast"].sum() == pytest.approx(len(actual), rel=0.1)
    by_type = actual.groupby("type").size()
    for t, part in fc.groupby("type"):
        assert part["forecast"].sum() == pytest.approx(by_type[t], rel=0.12)
    assert (fc["p10"] <= fc["forecast"]).all() and (fc["forecast"] <= fc["p90"]).all()


def test_pipeline_generation_tracks_the_next_quarter(sample):
    fc = pipeline_generation_forecast(sample, "2025Q4", as_of="2025-09-30 23:59:59", by=None)
    o = sample.opportunities
    created = o.loc[(o["created_date"] >= "2025-10-01") & (o["created_date"] <= "2025-12-31")]
    deals = fc.loc[fc["measure"] == "deals", "forecast"].iloc[0]
    assert deals == pytest.approx(len(created), rel=0.15)


def test_activity_forecast_says_how_much_history_it_needs(sample):
    with pytest.raises(InsufficientHistoryError, match="needs 4 complete quarters"):
        activity_forecast(sample, "2023Q3", as_of="2023-06-30 23:59:59")
