import pandas as pd
import pytest

from salesops.forecast import (
    InsufficientHistoryError,
    actual_bookings,
    forecast_quarter,
    quota_comparison,
    rollup,
    slippage,
    top_deals,
)


def test_pipeline_baselines_by_hand(tiny):
    # as of 2025-02-10: D won 80 in Q1; open A (Proposal 0.5, 100, best_case, close 03-15), B (Negotiation 0.75,
    # 200, commit, close 02-20), C (Discovery 0.25, 50, close 03-30)
    wp = forecast_quarter(tiny, "2025Q1", "2025-02-10", method="weighted_pipeline").summary()
    assert wp["closed"].iloc[0] == 80
    assert wp["forecast"].iloc[0] == pytest.approx(80 + 0.5 * 100 + 0.75 * 200 + 0.25 * 50)
    assert wp["p10"].iloc[0] <= wp["p50"].iloc[0] <= wp["p90"].iloc[0]
    commit = forecast_quarter(tiny, "2025Q1", "2025-02-10", method="commit").summary()
    assert commit["forecast"].iloc[0] == 80 + 200
    best = forecast_quarter(tiny, "2025Q1", "2025-02-10", method="best_case").summary("team")
    assert best.set_index("team")["forecast"].to_dict() == {"East": 300.0, "West": 80.0}


def test_actual_bookings_and_slippage_by_hand(tiny):
    assert actual_bookings(tiny, "2025Q1")["actual"].iloc[0] == 200  # A at 120 + D at 80
    s = slippage(tiny, "2025Q1", by=None).iloc[0]
    # open at 2025-01-01 with a close date in Q1: D only (A, B, C created later)
    assert (s["deals"], s["won"], s["slipped"]) == (1, 1, 0)


def test_actual_bookings_match_the_planted_seasonality_figures(builder, truth):
    for q, value in truth["seasonality"]["realised"]["bookings_by_quarter"].items():
        assert actual_bookings(builder, q)["actual"].iloc[0] == pytest.approx(value)


def test_too_little_history_says_how_much_is_needed(builder):
    with pytest.raises(InsufficientHistoryError, match="at least 4 complete quarters.*hold 2"):
        forecast_quarter(builder, "2023Q3", "2023-07-01", method="gbm")
    with pytest.raises(InsufficientHistoryError, match="weighted_pipeline, commit and best_case"):
        forecast_quarter(builder, "2023Q2", "2023-04-01", method="seasonal_naive")
    assert forecast_quarter(builder, "2023Q3", "2023-07-01", method="weighted_pipeline").summary()["forecast"].iloc[0] > 0


def test_seasonal_naive_and_run_rate_by_definition(builder, truth):
    books = truth["seasonality"]["realised"]["bookings_by_quarter"]
    sn = forecast_quarter(builder, "2025Q3", "2025-07-01", method="seasonal_naive").summary()
    assert sn["forecast"].iloc[0] == pytest.approx(books["2024Q3"])
    rr = forecast_quarter(builder, "2025Q3", "2025-07-01", method="run_rate").summary()
    trailing = sum(books[q] for q in ("2024Q3", "2024Q4", "2025Q1", "2025Q2"))
    days = (pd.Timestamp("2025-07-01") - pd.Timestamp("2024-07-01")).days
    assert rr["forecast"].iloc[0] == pytest.approx(trailing / days * 92)


def test_rollups_add_up(builder):
    fc = forecast_quarter(builder, "2025Q3", "2025-07-29", method="stage_age", n_sims=400)
    r = rollup(fc)
    total = r.loc[r["level"] == "total", ["closed", "open_expected", "not_yet_created", "forecast"]].iloc[0]
    for level, part in r.loc[r["level"] != "total"].groupby("level"):
        sums = part[["closed", "open_expected", "not_yet_created", "forecast"]].sum()
        assert sums.to_numpy() == pytest.approx(total.to_numpy(), rel=1e-9), level
    top = top_deals(fc, 5)
    assert len(top) == 5 and top["expected"].is_monotonic_decreasing
    assert top["expected"].iloc[0] == pytest.approx(fc.deals["expected"].max())


def test_quota_comparison_by_hand(tiny):
    fc = forecast_quarter(tiny, "2025Q1", "2025-02-10", method="commit")
    q = quota_comparison(fc, tiny)
    assert q["quota"].iloc[0] == 400 and q["attainment"].iloc[0] == pytest.approx(280 / 400)
    by = quota_comparison(fc, tiny, by="team").set_index("team")
    assert by.loc["East", "quota"] == 300 and by.loc["East", "forecast"] == 200


def test_readiness_names_what_is_missing(tiny):
    from salesops.forecast import readiness

    r = readiness(tiny, "2025Q2", "2025-03-31 23:00")
    assert not r.ok and "at least 4 complete quarters" in r.message and "hold 0" in r.message
    tiny.tables.pop("stages")
    r = readiness(tiny, "2025Q2", "2025-03-31 23:00")
    assert not r.ok and "stages" in r.message and r.builder is None


def test_readiness_on_the_sample(sample):
    from salesops.forecast import readiness

    r = readiness(sample, "2026Q1", sample.as_of)
    assert r.ok and r.quarters == 12
