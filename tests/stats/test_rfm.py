"""Transaction log → frequency / recency / T / monetary value, by hand and on CDNOW."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.stats.rfm import rfm_summary


@pytest.fixture
def log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["007", "007", "007", "007", "042", "100", "007"],
            "date": pd.to_datetime(
                ["2024-01-01 09:00", "2024-01-01 17:00", "2024-01-08 12:00", "2024-01-22 08:30", "2024-01-15 10:00",
                 "2024-02-10 11:00", "2024-02-20 16:45"]
            ),
            "amount": [10.0, 5.0, 20.0, 40.0, 8.0, 1.0, 99.0],
        }
    )


def test_rfm_by_hand(log):
    out = rfm_summary(log, observation_end="2024-01-29")
    # 007: purchase days Jan 1 (two purchases, merged), Jan 8, Jan 22; Feb 20 is after the end
    #   frequency 2, recency 21 days = 3 weeks, T 28 days = 4 weeks, monetary (20 + 40) / 2 = 30
    # 042: one purchase Jan 15: frequency 0, recency 0, T 14 days = 2 weeks, monetary 0
    # 100: first purchase after the end: absent
    assert out.index.tolist() == ["007", "042"]  # ids stay strings, leading zeros kept
    assert out.index.name == "customer_id"
    assert out.loc["007"].tolist() == pytest.approx([2, 3.0, 4.0, 30.0])
    assert out.loc["042"].tolist() == pytest.approx([0, 0.0, 2.0, 0.0])
    assert out.frequency.dtype == np.int64


def test_rfm_units_and_default_end(log):
    days = rfm_summary(log, freq="D")
    assert days.loc["007", "T"] == 50.0  # default end: last transaction day, Feb 20
    assert days.loc["007", "recency"] == 50.0 and days.loc["007", "frequency"] == 3
    months = rfm_summary(log, freq="M", observation_end="2024-01-29")
    assert months.loc["007", "T"] == pytest.approx(28 / (365.25 / 12))
    fortnights = rfm_summary(log, freq=14, observation_end="2024-01-29")
    assert fortnights.loc["007", "T"] == 2.0


def test_rfm_without_amounts_and_with_time_zones(log):
    aware = log.assign(date=log.date.dt.tz_localize("UTC"))
    out = rfm_summary(aware, amount_col=None, observation_end="2024-01-29")
    assert list(out.columns) == ["frequency", "recency", "T"]
    assert out.loc["007", "T"] == 4.0


def test_rfm_parses_integer_dates():
    raw = pd.DataFrame({"c": ["1", "1", "2"], "d": [19970101, 19970115, 19970102], "v": [1.0, 2.0, 3.0]})
    out = rfm_summary(raw, "c", "d", "v", observation_end="1997-01-29", date_format="%Y%m%d")
    assert out.loc["1"].tolist() == pytest.approx([1, 2.0, 4.0, 2.0])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"customer_col": "customer"}, KeyError, "'customer' column"),
        ({"amount_col": "value"}, KeyError, "'value' column"),
        ({"freq": "Q"}, ValueError, "freq"),
        ({"freq": 0}, ValueError, "freq"),
    ],
)
def test_rfm_errors_name_the_problem(log, kwargs, error, message):
    with pytest.raises(error, match=message):
        rfm_summary(log, **kwargs)


def test_rfm_rejects_missing_values(log):
    with pytest.raises(ValueError, match="missing"):
        rfm_summary(log.assign(amount=[1.0, None, 2.0, 3.0, 4.0, 5.0, 6.0]))
    with pytest.raises(ValueError, match="missing"):
        rfm_summary(log.assign(customer_id=[None, "1", "1", "1", "2", "3", "1"]))
    with pytest.raises(TypeError, match="DataFrame"):
        rfm_summary(log.to_numpy())


@pytest.mark.real
def test_cdnow_sample_reproduces_the_published_summary(cdnow_sample_transactions, cdnow_summary_spend):
    # The 2,357 customers' transaction log, summarised over the 39-week calibration period ending 1997-09-30,
    # gives back Fader & Hardie's summary file (rounded there to 2 decimals), in master-id order.
    out = rfm_summary(
        cdnow_sample_transactions, "master_customer_id", "date", "dollar_value",
        observation_end="1997-09-30", date_format="%Y%m%d",
    )
    ref = cdnow_summary_spend
    assert len(out) == len(ref) == 2357
    assert out.index[0] == "0001"
    assert (out.frequency.to_numpy() == ref.x.to_numpy()).all()
    assert np.abs(out.recency.to_numpy() - ref.t_x.to_numpy()).max() <= 0.005
    assert np.abs(out["T"].to_numpy() - ref["T"].to_numpy()).max() <= 0.005
    assert np.abs(out.monetary_value.to_numpy() - ref.zbar.to_numpy()).max() <= 0.0051
