"""Churn, cohort retention, subscription and transactional LTV: hand-made cases, the sample's planted churn,
and CDNOW's published BG/NBD and Gamma-Gamma fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops.kpi import (
    MissingDataError,
    cohort_retention,
    fit_clv,
    ltv_to_cac,
    monthly_churn,
    rfm,
    subscription_ltv,
    transactional_ltv,
)

FHL = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
FH_SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture
def subscriptions(crm):
    # months Jan..May 2025. A: 100 Jan-May. B: 200 Jan-Feb, gone from Mar. C: starts Feb at 50, 80 from Apr,
    # gone in May. D: starts Mar at 40 to the end.
    rows = [("A", m, 100.0) for m in range(1, 6)] + [("B", 1, 200.0), ("B", 2, 200.0)]
    rows += [("C", 2, 50.0), ("C", 3, 50.0), ("C", 4, 80.0)] + [("D", m, 40.0) for m in range(3, 6)]
    revenue = pd.DataFrame({"account_id": [r[0] for r in rows],
                            "month": [f"2025-{r[1]:02d}-01" for r in rows], "mrr": [r[2] for r in rows]})
    accounts = pd.DataFrame({"account_id": list("ABCD"), "name": list("abcd"), "segment": ["X", "Y", "X", "X"]})
    return crm(as_of="2025-05-31", revenue=revenue, accounts=accounts)


def test_monthly_churn_by_hand(subscriptions):
    # account-months at risk (MRR in the month before): Feb A,B; Mar A,B,C; Apr A,C,D; May A,C,D = 11
    # churned: B in March (200 lost), C in May (80 lost); MRR at risk: 300 + 350 + 190 + 220 = 1,060
    rev = monthly_churn(subscriptions, None).iloc[0]
    assert (rev["at_risk"], rev["churned"]) == (11, 2)
    assert rev["churn"] == pytest.approx(280 / 1060)
    logo = monthly_churn(subscriptions, None, kind="logo").iloc[0]
    assert logo["churn"] == pytest.approx(2 / 11)
    seg = monthly_churn(subscriptions, "segment", kind="logo").set_index("segment")
    assert seg.loc["Y", "churn"] == pytest.approx(1 / 2) and seg.loc["X", "churn"] == pytest.approx(1 / 9)
    months = monthly_churn(subscriptions, None, "month").set_index("period")
    assert list(months.index) == ["2025-02", "2025-03", "2025-04", "2025-05"]
    assert months.loc["2025-03", "churn"] == pytest.approx(200 / 350)
    # the last month's customers are not churned: the next month is not observed
    cut = monthly_churn(subscriptions, None, end="2025-04-30").iloc[0]
    assert cut["churned"] == 1


def test_cohort_retention_by_hand(subscriptions):
    out = cohort_retention(subscriptions, "month")
    # A and B paid in the first month: their start is unknown, so they are left out
    assert set(out["cohort"]) == {"2025-02", "2025-03"}
    c = out[out["cohort"].eq("2025-02")].set_index("months_since_start")
    assert list(c["retention"]) == [1.0, 1.0, 1.0, 0.0]  # C: Feb, Mar, Apr, gone in May
    rev = cohort_retention(subscriptions, "month", kind="revenue")
    c = rev[rev["cohort"].eq("2025-02")].set_index("months_since_start")
    assert c.loc[2, "retention"] == pytest.approx(80 / 50)  # net revenue retention counts expansion
    with_first = cohort_retention(subscriptions, "quarter", include_first_month=True)
    q1 = with_first[with_first["cohort"].eq("2025Q1")].set_index("months_since_start")
    assert q1.loc[0, "accounts"] == 4 and q1.loc[3, "accounts"] == 3  # D (March) is observed 2 more months only
    assert q1.loc[3, "retained"] == 1  # A still pays in April; B left in March, C is gone by May


def test_subscription_ltv_and_ratio_by_hand(subscriptions):
    out = subscription_ltv(subscriptions, 0.5, None).iloc[0]
    # ARPA = 1,200 MRR (A 500, B 400, C 180, D 120) / 13 paying account-months; logo churn 2 / 11
    arpa = 1200 / 13
    assert out["arpa"] == pytest.approx(arpa)
    assert out["ltv"] == pytest.approx(arpa * 0.5 / (2 / 11))
    assert out["lifetime_months"] == pytest.approx(11 / 2)
    assert out["lower"] < out["ltv"] < out["upper"]
    cac = pd.DataFrame({"cac": [100.0], "lower": [80.0], "upper": [125.0]})
    ratio = ltv_to_cac(subscription_ltv(subscriptions, 0.5, None), cac).iloc[0]
    assert ratio["ltv_to_cac"] == pytest.approx(out["ltv"] / 100)
    assert ratio["lower"] == pytest.approx(out["lower"] / 125)


def test_missing_revenue_is_named(crm):
    with pytest.raises(MissingDataError, match="Churn needs the revenue table"):
        monthly_churn(crm())
    with pytest.raises(MissingDataError, match="Subscription LTV needs the revenue table"):
        subscription_ltv(crm(), 0.8)
    with pytest.raises(MissingDataError, match="Transactional LTV needs the transactions table"):
        rfm(crm())


def test_sample_monthly_churn_by_segment(sample, truth):
    churn = truth["churn"]
    for kind, realised_key in (("revenue", "realised_monthly"), ("logo", "realised_monthly_logo")):
        out = monthly_churn(sample, "segment", kind=kind).set_index("segment")
        for segment, planted in churn["planted_monthly"].items():
            assert abs(out.loc[segment, "churn"] - planted) <= 0.003, (kind, segment)
            assert out.loc[segment, "churn"] == pytest.approx(churn[realised_key][segment], abs=1e-6)
            assert out.loc[segment, "lower"] < planted < out.loc[segment, "upper"]


def test_sample_retention_follows_the_planted_churn(sample, truth):
    # a monthly churn c leaves about (1 - c)^12 of a cohort after a year: SMB least, Enterprise most
    ret = cohort_retention(sample, "year", "segment")
    at12 = ret[ret["months_since_start"].eq(12)].groupby("segment")[["retained", "accounts"]].sum()
    share = at12["retained"] / at12["accounts"]
    planted = truth["churn"]["planted_monthly"]
    for segment, c in planted.items():
        assert share[segment] == pytest.approx((1 - c) ** 12, abs=0.08), segment
    assert share["SMB"] < share["Mid-Market"] < share["Enterprise"]
    first = ret[ret["months_since_start"].eq(0)]
    assert (first["retention"] == 1).all()


def test_cdnow_published_fits_through_kpi_ltv(cdnow_summary):
    fit = fit_clv(cdnow_summary)
    assert fit.customers == 2357 and fit.repeat_customers == 946
    bg = fit.transactions
    for name, value in FHL.items():
        assert getattr(bg, f"{name}_") == pytest.approx(value, rel=0.01), name
    gg = fit.spend
    assert gg.p_ == pytest.approx(FH_SPEND["p"], rel=0.02)
    assert gg.q_ == pytest.approx(FH_SPEND["q"], rel=0.02)
    assert gg.v_ == pytest.approx(FH_SPEND["gamma"], rel=0.02)
    params = fit.params().set_index(["model", "parameter"])
    assert params.loc[("gamma_gamma", "gamma"), "estimate"] == pytest.approx(gg.v_)
    assert (params["lower"] < params["estimate"]).all() and (params["estimate"] < params["upper"]).all()
    assert fit.reliability() == []  # the published fit is an interior optimum with finite intervals
    clv = transactional_ltv(cdnow_summary, fit=fit, horizon_months=12, annual_discount_rate=0.0)
    # with no discounting, CLV = expected purchases over 12 months x expected spend
    assert clv["clv"].to_numpy() == pytest.approx((clv["expected_purchases"] * clv["expected_spend"]).to_numpy(),
                                                  rel=1e-6)
    assert 0 < clv["prob_alive"].min() and clv["prob_alive"].max() <= 1


def test_rfm_of_cdnow_transactions_matches_the_published_summary(cdnow_sample_transactions, cdnow_summary):
    summary = rfm(cdnow_sample_transactions, observation_end="1997-09-30")
    assert len(summary) == 2357
    joined = summary.join(cdnow_summary, rsuffix="_pub", how="inner")
    assert len(joined) == 2357
    assert (joined["frequency"] == joined["frequency_pub"]).all()
    assert np.allclose(joined["recency"], joined["recency_pub"], atol=0.01)
    assert np.allclose(joined["T"], joined["T_pub"], atol=0.01)
    repeat = joined["frequency"] > 0
    assert np.allclose(joined.loc[repeat, "monetary_value"], joined.loc[repeat, "monetary_value_pub"], atol=0.01)


def test_a_fit_at_its_boundary_is_flagged_in_words():
    # everyone keeps buying to the end of the observation: nobody seems to drop out, a runs to 0
    rng = np.random.default_rng(0)
    n = 200
    x = rng.poisson(5, n).astype(float)
    summary = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, 52.0 - rng.uniform(0, 0.5, n), 0.0),
                            "T": 52.0, "monetary_value": rng.gamma(5.0, 10.0, n)})
    fit = fit_clv(summary)
    doubts = " ".join(fit.reliability())
    assert fit.transactions.a_ < 1e-4
    assert "a = " in doubts and "boundary" in doubts and "unreliable" in doubts


def test_repeat_purchase_retention_by_hand(crm):
    from salesops.kpi import repeat_purchase_retention

    # cohort 2024-01: c1 (buys again in months 1 and 3), c2 (month 1 twice), c3 (never again); c4 starts 2024-03
    tx = pd.DataFrame({"customer_id": ["c1", "c1", "c1", "c2", "c2", "c2", "c3", "c4", "c4"],
                       "date": ["2024-01-03", "2024-02-01", "2024-04-09", "2024-01-20", "2024-02-02", "2024-02-20",
                                "2024-01-31", "2024-03-01", "2024-04-01"],
                       "amount": 1.0})
    out = repeat_purchase_retention(crm(transactions=tx), "month").set_index(["cohort", "months_since_start"])
    jan = out.loc["2024-01"]
    assert jan.loc[1, "customers"] == 3 and jan.loc[1, "retained"] == 2
    assert jan.loc[2, "retained"] == 0 and jan.loc[3, "retained"] == 1
    assert jan.loc[3, "retention"] == pytest.approx(1 / 3)
    mar = out.loc["2024-03"]
    assert list(mar.index) == [1] and mar.loc[1, "retained"] == 1  # April is the last month observed
