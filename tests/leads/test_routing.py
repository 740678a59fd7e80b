"""The routing rules engine: weighted round robin, availability, caps, owner match, rule errors, determinism,
shares on large inputs, and the template on the sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salesops.leads import RoutingRuleError, UnroutableLeadError, load_rules, pool_load, route
from salesops.leads.routing import MissingDataError

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "routing.yaml"


def reps(n: int = 3, **extra) -> pd.DataFrame:
    df = pd.DataFrame({"rep_id": [f"R{i}" for i in range(1, n + 1)], "name": [f"Rep {i}" for i in range(1, n + 1)],
                       "role": "SDR", "hire_date": pd.Timestamp("2020-01-01"), "end_date": pd.NaT})
    for k, v in extra.items():
        df[k] = v
    return df


def leads_at(times, **cols) -> pd.DataFrame:
    t = pd.to_datetime(list(times), utc=True)
    return pd.DataFrame({"lead_id": [f"L{i:05d}" for i in range(len(t))], "created_at": t, **cols})


def rr(members, **pool) -> dict:
    return {"pools": {"p": {"members": members, **pool}}, "rules": [{"name": "all", "pool": "p"}]}


def test_weighted_round_robin_by_hand():
    leads = leads_at(pd.date_range("2025-03-03", periods=8, freq="min"))
    out = route(leads, reps(), rr([{"rep_id": "R1"}, {"rep_id": "R2", "weight": 2}, "R3"]))
    # stride scheduling: passes start at 0; strides 1, 0.5, 1; smallest pass first, ties by member order
    assert out["owner_rep_id"].tolist() == ["R1", "R2", "R3", "R2", "R1", "R2", "R3", "R2"]
    assert (out["rule"] == "all").all() and (out["pool"] == "p").all() and (out["wait_hours"] == 0).all()


def test_shares_are_exact_over_whole_cycles():
    leads = leads_at(pd.date_range("2025-03-03", periods=4000, freq="min"))
    out = route(leads, reps(), rr([{"rep_id": "R1"}, {"rep_id": "R2", "weight": 2}, "R3"]))
    assert out["owner_rep_id"].value_counts().to_dict() == {"R2": 2000, "R1": 1000, "R3": 1000}
    load = pool_load(out).set_index("rep_id")
    assert load["target_share"].to_dict() == pytest.approx({"R1": 0.25, "R2": 0.5, "R3": 0.25})
    assert load["deviation"].abs().max() < 1e-9


def test_weighted_shares_within_one_percent_on_a_large_input():
    rng = np.random.default_rng(5)
    t = np.sort(pd.Timestamp("2025-01-01", tz="UTC").value + rng.integers(0, 90 * 86400 * 10**9, 200_000))
    leads = leads_at(pd.DatetimeIndex(t, tz="UTC"))
    weights = [0.5, 1.0, 1.5, 2.0, 2.5, 0.75, 1.25, 3.0]
    rules = {
        "calendars": {"ny": {"timezone": "America/New_York", "hours": ["09:00", "17:00"], "holidays": ["us_federal"]}},
        "pools": {"p": {"members": [{"rep_id": f"R{i + 1}", "weight": w} for i, w in enumerate(weights)],
                        "calendar": "ny", "cap_per_day": 1200}},
        "rules": [{"name": "all", "pool": "p"}],
        "fallback": "R1",
        "leave": [{"rep_id": "R2", "from": "2025-02-03", "to": "2025-02-14"}],
    }
    out = route(leads, reps(8), rules)
    assert (out["rule"] == "fallback").mean() < 0.05  # Monday backlogs reach a few caps
    load = pool_load(out)
    assert (load["share"] / load["target_share"] - 1).abs().max() < 0.01
    # R2 was on leave for two of thirteen weeks: its target accounts for that
    r2 = load.set_index("rep_id").loc["R2"]
    assert r2["target_share"] < 1.0 / sum(weights) * 0.95
    # and nobody exceeds the daily cap, counted on New York days
    day = out["routed_at"].dt.tz_convert("America/New_York").dt.date
    pooled = out["pool"].notna()
    assert out[pooled].groupby([out.loc[pooled, "owner_rep_id"], day[pooled]]).size().max() == 1200


def test_working_hours_holidays_and_leave():
    cal = {"office": {"timezone": "America/New_York", "days": ["mon", "tue", "wed", "thu", "fri"],
                      "hours": ["09:00", "17:00"], "holidays": ["2025-07-04"]}}
    rules = {"calendars": cal, "pools": {"p": {"members": ["R1", "R2"], "calendar": "office"}},
             "rules": [{"name": "all", "pool": "p"}], "leave": [{"rep_id": "R1", "from": "2025-07-07", "to": "2025-07-07"}]}
    leads = leads_at(["2025-07-03 15:00",   # Thursday 11:00 in New York: at work
                      "2025-07-03 23:30",   # 19:30: waits; Friday the 4th is a holiday, so Monday 09:00 (13:00 UTC)
                      "2025-07-07 14:00",   # Monday 10:00: R1 is on leave that day
                      "2025-07-07 14:05"])
    out = route(leads, reps(2), rules)
    assert out.loc[0, "wait_hours"] == 0
    assert out.loc[1, "routed_at"] == pd.Timestamp("2025-07-07 13:00", tz="UTC")
    assert out.loc[1, "wait_hours"] == pytest.approx(85.5)
    assert out.loc[1:, "owner_rep_id"].tolist() == ["R2", "R2", "R2"]


def test_employment_bounds_availability():
    r = reps(2)
    r.loc[0, "end_date"] = pd.Timestamp("2025-03-01")
    leads = leads_at(pd.date_range("2025-03-01", periods=48, freq="h"))
    out = route(leads, r, rr(["R1", "R2"]))
    first_day = out["routed_at"] < pd.Timestamp("2025-03-02", tz="UTC")
    assert set(out.loc[first_day, "owner_rep_id"]) == {"R1", "R2"}
    assert set(out.loc[~first_day, "owner_rep_id"]) == {"R2"}  # R1 left at the end of 2025-03-01


def test_caps_overflow_to_the_next_rule_and_then_the_fallback():
    rules = {"pools": {"p": {"members": ["R1", "R2"], "cap_per_day": 2}, "q": {"members": ["R3"], "cap_per_day": 1}},
             "rules": [{"name": "team", "pool": "p"}, {"name": "overflow", "pool": "q"}], "fallback": "R4"}
    leads = leads_at(pd.date_range("2025-03-03 10:00", periods=7, freq="min"))
    out = route(leads, reps(4), rules)
    assert out["rule"].tolist() == ["team"] * 4 + ["overflow", "fallback", "fallback"]
    assert out["owner_rep_id"].tolist() == ["R1", "R2", "R1", "R2", "R3", "R4", "R4"]
    nxt = route(leads_at(["2025-03-04 00:01"]), reps(4), rules)  # a new day: caps reset
    assert nxt["rule"].tolist() == ["team"]


def test_account_owner_match_and_conditions():
    r = reps(4)
    r["role"] = ["AE", "AE", "SDR", "SDR"]
    r.loc[1, "end_date"] = pd.Timestamp("2024-12-31")  # R2 has left: its accounts' leads fall through
    accounts = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "name": ["a", "b", "c"],
                             "owner_rep_id": ["R1", "R2", "R3"], "region": ["East", "East", "West"]})
    rules = {
        "derive": {"segment": [{"name": "Enterprise", "when": {"employees": {"min": 2000}}}, {"name": "SMB"}]},
        "account_columns": ["region"],
        "pools": {"east": {"select": {"role": "SDR"}, "members": []}},
        "rules": [
            {"name": "owner", "type": "account_owner", "roles": ["AE"], "when": {"segment": "Enterprise"}},
            {"name": "east", "when": {"account_region": "East"}, "pool": "east"},
            {"name": "rest", "type": "owner", "owner": "R4"},
        ],
    }
    leads = leads_at(["2025-03-03 10:00"] * 4, account_id=["A1", "A2", "A3", "A1"],
                     employees=[5000.0, 5000.0, 5000.0, 50.0])
    out = route(leads, r, rules, accounts=accounts)
    # A1 (owner R1, an active AE) -> owner; A2 (owner left) -> east pool; A3 (owner is an SDR, West) -> rest;
    # the small A1 lead is not Enterprise -> east pool
    assert out["rule"].tolist() == ["owner", "east", "rest", "east"]
    assert out["owner_rep_id"].tolist() == ["R1", "R3", "R4", "R4"]


def test_unroutable_leads_are_named():
    rules = {"pools": {"p": {"members": ["R1"]}}, "rules": [{"name": "east", "when": {"region": "East"}, "pool": "p"}]}
    leads = leads_at(["2025-03-03 10:00", "2025-03-03 10:01"], region=["East", "West"])
    with pytest.raises(UnroutableLeadError, match="L00001") as exc:
        route(leads, reps(1), rules)
    assert "1 matched no rule" in str(exc.value)


@pytest.mark.parametrize(("rules", "message"), [
    ({"rules": [{"name": "x", "pool": "nope"}]}, "rule 'x' \\(rules\\[0\\]\\): unknown pool 'nope'"),
    ({"pools": {"p": {"members": [{"rep_id": "R1", "weight": 0}]}}, "rules": [{"name": "x", "pool": "p"}]},
     "pool 'p', members\\[0\\]: weight of 'R1' must be a number > 0"),
    ({"pools": {"p": {"members": ["R1"], "calendar": "cal"}}, "rules": [{"name": "x", "pool": "p"}]},
     "pool 'p': unknown calendar 'cal'"),
    ({"calendars": {"c": {"hours": ["9am", "17:00"]}}, "rules": [{"name": "x", "type": "owner", "owner": "R1"}]},
     "calendar 'c', hours: '9am' is not a time of day"),
    ({"pools": {"p": {"members": ["R1"]}}, "rules": [{"name": "a", "pool": "p"}, {"name": "b", "pool": "p"}]},
     "rule 'b': pool 'p' already serves rule 'a'"),
    ({"rules": [{"name": "a", "type": "owner", "owner": "R1"}, {"name": "a", "type": "owner", "owner": "R1"}]},
     "rule name\\(s\\) 'a' used twice"),
    ({"rules": [{"name": "a", "type": "robin"}]}, "rule 'a' \\(rules\\[0\\]\\): type must be"),
    ({"rules": [{"name": "a", "type": "owner", "owner": "R1", "when": {"employees": {"over": 3}}}]},
     "rule 'a' \\(rules\\[0\\]\\): unknown operator\\(s\\) over on 'employees'"),
    ({"rules": [{"name": "a", "type": "owner", "owner": "R1"}], "colour": "blue"}, "unknown key\\(s\\) colour"),
    ("rules: [oops", "not valid YAML"),
])
def test_malformed_rules_name_what_is_wrong(rules, message):
    with pytest.raises(RoutingRuleError, match=message):
        load_rules(rules)


def test_rules_that_only_data_can_refute_name_the_rule():
    leads = leads_at(["2025-03-03 10:00"])
    with pytest.raises(RoutingRuleError, match="rule 'a': unknown column 'segment'"):
        route(leads, reps(1), {"rules": [{"name": "a", "type": "owner", "owner": "R1", "when": {"segment": "SMB"}}]})
    with pytest.raises(RoutingRuleError, match="pool 'p': member 'R9' is not in the reps table"):
        route(leads, reps(1), rr(["R9"]))
    with pytest.raises(RoutingRuleError, match="select .* matches no rep"):
        route(leads, reps(1), {"pools": {"p": {"select": {"role": "AE"}}}, "rules": [{"name": "a", "pool": "p"}]})
    with pytest.raises(MissingDataError, match="accounts table with owner_rep_id"):
        route(leads, reps(1), {"rules": [{"name": "a", "type": "account_owner"}], "fallback": "R1"})


def test_routing_is_deterministic_and_independent_of_input_order():
    rng = np.random.default_rng(3)
    t = pd.Timestamp("2025-03-03", tz="UTC").value + rng.choice(10**12, 3000, replace=False)
    leads = leads_at(pd.DatetimeIndex(t, tz="UTC"))
    rules = rr([{"rep_id": "R1", "weight": 1.5}, "R2", {"rep_id": "R3", "weight": 0.5}], cap_per_day=300)
    rules["fallback"] = "R1"
    a = route(leads, reps(), rules)
    b = route(leads, reps(), rules)
    pd.testing.assert_frame_equal(a, b)
    shuffled = route(leads.sample(frac=1.0, random_state=1), reps(), rules)
    assert shuffled.set_index("lead_id")["owner_rep_id"].sort_index().equals(
        a.set_index("lead_id")["owner_rep_id"].sort_index())


def test_the_template_routes_every_sample_lead(sample):
    rules = load_rules(TEMPLATE)
    out = route(sample.leads, sample.reps, rules, accounts=sample.accounts)
    assert out["owner_rep_id"].notna().all() and len(out) == len(sample.leads)
    seg = sample.leads["account_id"].map(sample.accounts.set_index("account_id")["segment"])
    owner = sample.leads["account_id"].map(sample.accounts.set_index("account_id")["owner_rep_id"])
    staff = sample.reps.set_index("rep_id")
    day = sample.leads["created_at"].dt.tz_localize(None)
    employed = (owner.map(staff["hire_date"]) <= day) & ~(owner.map(staff["end_date"]) < day.dt.normalize())
    ent = ((seg == "Enterprise") & employed).to_numpy()
    assert ent.sum() > 3000
    assert (out.loc[ent, "owner_rep_id"].to_numpy() == owner[ent].to_numpy()).all()
    assert (out.loc[ent, "rule"] == "enterprise account owner").all()
    load = pool_load(out)
    placed = load[load["leads"] > 100]
    assert (placed["share"] / placed["target_share"] - 1).abs().max() < 0.01
    # only reps employed at a lead's time receive it
    hired = out["owner_rep_id"].map(sample.reps.set_index("rep_id")["hire_date"])
    assert (out["routed_at"].dt.tz_localize(None) >= hired).all()


def test_calendar_takes_a_countrys_public_holidays():
    # Bangkok office: Songkran 2025 is 13-15 April (the 13th a Sunday), so 14, 15 and 16 (in lieu) are off
    cal = {"bkk": {"timezone": "Asia/Bangkok", "hours": ["09:00", "17:00"], "holidays": ["TH", "2025-04-17"]}}
    rules = {"calendars": cal, "pools": {"p": {"members": ["R1"], "calendar": "bkk"}},
             "rules": [{"name": "all", "pool": "p"}]}
    out = route(leads_at(["2025-04-11 12:00"]), reps(1), rules)  # Friday 19:00 in Bangkok: after hours
    # waits over the weekend, Songkran, its substitution day and the company closure: Friday 18th 09:00
    assert out.loc[0, "routed_at"] == pd.Timestamp("2025-04-18 02:00", tz="UTC")
    with pytest.raises(RoutingRuleError, match="calendar 'bkk', holidays: unknown country 'QQ'"):
        load_rules({"calendars": {"bkk": {"holidays": ["QQ"]}}, "rules": [{"name": "all", "type": "owner",
                                                                             "owner": "R1"}]})
