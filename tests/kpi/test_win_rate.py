"""Win rates with intervals, and shrunk per-rep rates: hand-made cases, the sample's planted truths, Maven."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from salesops.io.data import SalesData
from salesops.kpi import MissingDataError, rep_win_rates, win_rates
from salesops.periods import Quarter


def _wilson(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.fixture
def deals(crm):
    accounts = pd.DataFrame({"account_id": ["A", "B", "C"], "name": ["a", "b", "c"],
                             "segment": ["SMB", "SMB", "Enterprise"]})
    opps = pd.DataFrame({
        "opportunity_id": [f"O{i}" for i in range(8)],
        "account_id": ["A", "A", "B", "B", "B", "C", "C", "C"],
        "owner_rep_id": ["R1", "R1", "R2", "R2", "R2", "R3", "R3", "R3"],
        "created_date": ["2025-01-02"] * 8,
        "close_date": ["2025-02-01", "2025-02-10", "2025-03-01", "2025-03-05", "2025-04-02", "2025-02-01",
                       "2025-05-01", "2025-06-30"],
        "stage": ["Won", "Lost", "Won", "Won", "Lost", "Won", "Lost", "Open"],
        "is_closed": [True, True, True, True, True, True, True, False],
        "is_won": [True, False, True, True, False, True, False, False],
        "amount": [100.0, 300.0, 50.0, 50.0, 100.0, 1000.0, 1000.0, 500.0],
    })
    reps = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "name": ["r1", "r2", "r3"], "role": ["AE"] * 3,
                         "team": ["East", "East", "West"]})
    return crm(as_of="2025-06-30", opportunities=opps, accounts=accounts, reps=reps)


def test_win_rate_by_segment_by_hand(deals):
    out = win_rates(deals, "segment").set_index("segment")
    smb = out.loc["SMB"]
    assert (smb["closed"], smb["won"]) == (5, 3) and smb["win_rate"] == pytest.approx(0.6)
    lo, hi = _wilson(3, 5)
    assert (smb["lower"], smb["upper"]) == (pytest.approx(lo), pytest.approx(hi))
    assert smb["value_win_rate"] == pytest.approx(200 / 600)
    assert smb["value_lower"] <= smb["value_win_rate"] <= smb["value_upper"]
    ent = out.loc["Enterprise"]  # the open deal is not closed
    assert (ent["closed"], ent["won"]) == (2, 1)
    total = win_rates(deals, None)
    assert total["closed"].iloc[0] == 7 and total["win_rate"].iloc[0] == pytest.approx(4 / 7)
    by_team = win_rates(deals, "team").set_index("team")
    assert by_team.loc["West", "closed"] == 2


def test_periods_as_of_and_start(deals):
    q = win_rates(deals, None, "quarter").set_index("period")
    assert q.loc["2025Q1", "closed"] == 5 and q.loc["2025Q2", "closed"] == 2
    # as of 15 March: deals closed later are still open, so they are not counted
    early = win_rates(deals, None, as_of="2025-03-15")
    assert early["closed"].iloc[0] == 5 and early["won"].iloc[0] == 4
    late = win_rates(deals, None, start="2025-03-01")
    assert late["closed"].iloc[0] == 4


def test_missing_dimension_is_named(crm, deals):
    bare = crm(opportunities=deals.opportunities)
    with pytest.raises(MissingDataError, match=r"accounts\.segment \(or reps\.segment\)"):
        win_rates(bare, "segment")
    with pytest.raises(MissingDataError, match="opportunities.channel_x"):
        win_rates(deals, "channel_x")
    with pytest.raises(MissingDataError, match="needs the opportunities table"):
        win_rates(crm(accounts=deals.accounts))


def test_shrunk_rep_rates_follow_the_posterior_formula(deals):
    out = rep_win_rates(deals, None).set_index("rep_id")
    prior = out["prior_mean"].iloc[0]
    assert set(out.index) == {"R1", "R2", "R3"}
    for rep, (x, n) in {"R1": (1, 2), "R2": (2, 3), "R3": (1, 2)}.items():
        row = out.loc[rep]
        assert (row["won"], row["closed"]) == (x, n)
        w = row["weight_on_prior"]
        assert row["shrunk_rate"] == pytest.approx(w * prior + (1 - w) * x / n)
        assert row["lower"] <= row["shrunk_rate"] <= row["upper"]
    assert out["rank_shrunk"].min() == 1


def test_a_rep_with_three_deals_is_not_ranked_on_noise(crm):
    # ten reps with 100 deals at about 30%, one lucky rep with 3 of 3
    rng = np.random.default_rng(3)
    rows = []
    for r in range(10):
        wins = rng.random(100) < 0.25 + 0.01 * r
        rows += [(f"R{r}", bool(w)) for w in wins]
    rows += [("LUCKY", True)] * 3
    opps = pd.DataFrame({
        "opportunity_id": [f"O{i}" for i in range(len(rows))], "account_id": "A",
        "owner_rep_id": [r for r, _ in rows], "created_date": "2025-01-01", "close_date": "2025-02-01",
        "stage": "x", "is_closed": True, "is_won": [w for _, w in rows], "amount": 1.0,
    })
    out = rep_win_rates(crm(opportunities=opps), None).set_index("rep_id")
    assert out.loc["LUCKY", "rank_raw"] == 1
    assert out.loc["LUCKY", "rank_shrunk"] > 3
    assert out.loc["LUCKY", "weight_on_prior"] > 0.5


def test_sample_win_rates_by_segment(sample, truth):
    out = win_rates(sample, "segment").set_index("segment")
    for segment, planted in truth["win_rates"]["planted"].items():
        assert abs(out.loc[segment, "win_rate"] - planted) <= 0.03, segment
        assert out.loc[segment, "win_rate"] == pytest.approx(truth["win_rates"]["realised"][segment], abs=1e-6)
        assert out.loc[segment, "lower"] < planted < out.loc[segment, "upper"] + 0.01


def _separation(frame: pd.DataFrame, keys: list[str], low: list[str], high: list[str]) -> dict[str, tuple]:
    """Per ranking: (mean rank percentile of the low-skill reps, of the high-skill reps, share of low-skill
    rows in the bottom 3, share of high-skill rows in the top 3); percentile 0 = best, 1 = worst."""
    n = frame.groupby(keys)["rep_id"].transform("size")
    out = {}
    for col in ("rank_raw", "rank_shrunk"):
        pct = (frame[col] - 1) / (n - 1)
        lo, hi = frame["rep_id"].isin(low), frame["rep_id"].isin(high)
        out[col] = (pct[lo].mean(), pct[hi].mean(), (frame[col][lo] > n[lo] - 3).mean(), (frame[col][hi] <= 3).mean())
    return out


def test_shrinkage_ranks_planted_low_and_high_skill_reps_more_reliably(sample, truth):
    low, high = truth["rep_skill"]["low_skill_rep_ids"], truth["rep_skill"]["high_skill_rep_ids"]
    # as a quarterly review would: each quarter, the four quarters to its end, prior from every deal to date
    panels = []
    for year in (2023, 2024, 2025):
        for k in (1, 2, 3, 4):
            q = Quarter(year, k)
            first = q.previous().previous().previous()
            r = rep_win_rates(sample, "segment", as_of=q.end, start=first.start, prior_start="all")
            panels.append(r.assign(period=str(q)))
    s = _separation(pd.concat(panels, ignore_index=True), ["segment", "period"], low, high)
    raw, shrunk = s["rank_raw"], s["rank_shrunk"]
    assert shrunk[0] > raw[0] and shrunk[1] < raw[1]  # low-skill lower down, high-skill higher up
    assert shrunk[2] >= raw[2] and shrunk[3] >= raw[3]
    assert shrunk[0] > 0.85 and shrunk[1] < 0.1
    # month by month, where reps close a handful of deals, raw rates put noise at the ends
    monthly = rep_win_rates(sample, "segment", "month")
    m = _separation(monthly, ["segment", "period"], low, high)
    assert m["rank_shrunk"][0] - m["rank_shrunk"][1] > m["rank_raw"][0] - m["rank_raw"][1] + 0.03
    assert m["rank_shrunk"][2] > m["rank_raw"][2]


def test_maven_win_rate(maven):
    out = win_rates(maven, None)
    assert out["closed"].iloc[0] == 4238 + 2473
    assert out["win_rate"].iloc[0] == pytest.approx(0.6315, abs=5e-5)
    assert out["won_value"].iloc[0] == pytest.approx(10_005_534)


def test_default_segment_falls_back_to_the_whole_company_and_says_so(crm, deals):
    bare = crm(as_of="2025-06-30", opportunities=deals.opportunities)  # no accounts: no segment anywhere
    out = win_rates(bare)
    assert list(out["closed"]) == [7] and "segment" not in out.columns
    assert "whole company" in out.attrs["note"] and "segment" in out.attrs["note"]
    reps = rep_win_rates(bare)
    assert set(reps["rep_id"]) == {"R1", "R2", "R3"} and "whole company" in reps.attrs["note"]
    # with segments the default still breaks down, silently
    with_segments = win_rates(deals)
    assert set(with_segments["segment"]) == {"SMB", "Enterprise"} and "note" not in with_segments.attrs
    # a grouping asked for by name is not silently dropped
    with pytest.raises(MissingDataError):
        win_rates(bare, "segment")


def test_each_segment_keeps_its_own_spread_and_shows_it(sample):
    out = rep_win_rates(sample, "segment", as_of="2025-12-31", confidence=0.9)
    priors = pd.DataFrame(out.attrs["priors"]).set_index("segment")
    assert list(priors.index) == ["Enterprise", "Mid-Market", "SMB"]
    for seg, g in out.groupby("segment"):
        p = priors.loc[seg]
        assert (g["prior_mean"] == p["prior_mean"]).all() and (g["between_sd"] == p["between_sd"]).all()
        assert p["prior_mean"] == pytest.approx(g["won"].sum() / g["closed"].sum())
        kappa = p["prior_mean"] * (1 - p["prior_mean"]) / p["between_sd"] ** 2 - 1
        assert p["prior_deals"] == pytest.approx(kappa)
        assert g["weight_on_prior"].to_numpy() == pytest.approx(kappa / (kappa + g["closed"].to_numpy()))
        assert p["weight_on_prior"] == pytest.approx(kappa / (kappa + g["closed"].median()))
    assert priors.loc["Mid-Market", "variance_source"] == "segment"
    assert priors.loc["Enterprise", "variance_source"] == "pooled"
    # the moment estimator gives each segment a positive spread of its own on this sample
    moments = pd.DataFrame(rep_win_rates(sample, "segment", as_of="2025-12-31", spread="moments")
                           .attrs["priors"]).set_index("segment")
    assert (moments["variance_source"] == "segment").all() and (moments["between_sd"] > 0.01).all()


def test_maven_agents_differ_and_their_flags_are_stable(maven):
    """Maven CRM: 30 agents, win rate 63%; agents do differ (a positive between-agent SD, overall and per
    regional office), but no agent's 90% posterior interval excludes the mean, whichever estimator or
    grouping, and shuffling the deals changes nothing."""
    base = rep_win_rates(maven, None, as_of="2017-12-31", confidence=0.9)
    prior = pd.DataFrame(base.attrs["priors"]).iloc[0]
    assert prior["reps"] == 30 and prior["prior_mean"] == pytest.approx(0.6315, abs=5e-5)
    assert 0.003 < prior["between_sd"] < 0.03 and prior["variance_source"] == "segment"
    opps = maven.opportunities.sample(frac=1.0, random_state=5).reset_index(drop=True)
    shuffled = rep_win_rates(SalesData(tables={**maven.tables, "opportunities": opps}, as_of=maven.as_of,
                                       source="shuffled"), None, as_of="2017-12-31", confidence=0.9)
    pd.testing.assert_frame_equal(base.reset_index(drop=True), shuffled.reset_index(drop=True))
    for spread in ("likelihood", "moments"):
        for within in (None, "region"):
            out = rep_win_rates(maven, within, as_of="2017-12-31", confidence=0.9, spread=spread)
            assert (pd.DataFrame(out.attrs["priors"])["between_sd"] > 0).all()
            assert (out["flag"] == "").all()
