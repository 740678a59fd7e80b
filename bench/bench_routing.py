"""Benchmark: routing 1,000,000 leads with ``salesops.leads.route``.

Two synthetic scenarios over one year of leads arriving around the clock:

* ``weights``: one pool of 20 reps with weights from 0.5 to 2.5, no hours, no caps; every rep's share is
  compared with its weight share ``w_i / sum(w)``.
* ``full``: account-owner matching (named accounts), four regional pools in their own time zones with
  working hours, US federal / own holidays, leave, daily caps, a round-the-clock overflow pool and a
  fallback; every rep's share is compared with its availability-adjusted target (each lead split among the
  members available for it, in proportion to their weights), and no rep may exceed its daily cap.

Prints wall time (median of ``--repeat`` runs), peak traced memory (tracemalloc, a separate run), the
largest relative deviation of a share from its target, and whether two runs give identical owners.

    .venv/bin/python bench/bench_routing.py [--leads 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc

import numpy as np
import pandas as pd

from salesops.leads.routing import load_rules, pool_load, route

REGIONS = {"na_east": ("United States", 0.40), "na_west": ("Canada", 0.25), "emea": ("Germany", 0.20),
           "apac": ("Australia", 0.15)}


def make_leads(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01", tz="UTC").value
    year = 365 * 24 * 3600 * 10**9
    created = np.sort(start + rng.integers(0, year, n))
    region = rng.choice(list(REGIONS), size=n, p=[v[1] for v in REGIONS.values()])
    account = np.where(rng.random(n) < 0.6, rng.integers(0, 20_000, n), -1)
    return pd.DataFrame({
        "lead_id": [f"L{i:07d}" for i in range(n)],
        "created_at": pd.DatetimeIndex(created, tz="UTC"),
        "region": region,
        "employees": np.floor(np.exp(rng.uniform(np.log(5), np.log(50_000), n))),
        "account_id": pd.Series(np.where(account >= 0, np.char.add("A", account.astype(str)), None)),
    })


def make_reps() -> pd.DataFrame:
    rows = []
    k = 0
    for region, size in (("na_east", 16), ("na_west", 12), ("emea", 10), ("apac", 8), ("weights", 20),
                         ("overflow", 4)):
        for _ in range(size):
            k += 1
            rows.append({"rep_id": f"R{k:03d}", "name": f"Rep {k}", "role": "SDR", "team": region,
                         "hire_date": pd.Timestamp("2020-01-01"), "end_date": pd.NaT})
    for j in range(30):
        k += 1
        rows.append({"rep_id": f"R{k:03d}", "name": f"AE {j}", "role": "AE", "team": "enterprise",
                     "hire_date": pd.Timestamp("2020-01-01"), "end_date": pd.NaT})
    reps = pd.DataFrame(rows)
    # one leaver and one joiner in the middle of the year
    reps.loc[reps["rep_id"] == "R003", "end_date"] = pd.Timestamp("2025-06-30")
    reps.loc[reps["rep_id"] == "R020", "hire_date"] = pd.Timestamp("2025-04-01")
    return reps


def make_accounts(reps: pd.DataFrame) -> pd.DataFrame:
    aes = reps.loc[reps["role"] == "AE", "rep_id"].to_numpy()
    rng = np.random.default_rng(3)
    n = 20_000
    return pd.DataFrame({"account_id": [f"A{i}" for i in range(n)], "name": [f"Acc {i}" for i in range(n)],
                         "segment": np.where(rng.random(n) < 0.1, "Enterprise", "Other"),
                         "owner_rep_id": rng.choice(aes, n)})


def weights_rules() -> dict:
    members = [{"rep_id": f"R{47 + i:03d}", "weight": float(w)}
               for i, w in enumerate(np.round(np.linspace(0.5, 2.5, 20), 2))]
    return {"pools": {"all": {"members": members}}, "rules": [{"name": "round robin", "pool": "all"}]}


def full_rules() -> dict:
    def members(first: int, count: int) -> list[dict]:
        return [{"rep_id": f"R{first + i:03d}", "weight": [1.0, 1.5, 2.0, 0.5][i % 4]} for i in range(count)]

    return {
        "account_columns": ["segment"],
        "calendars": {
            "ny": {"timezone": "America/New_York", "hours": ["08:00", "18:00"], "holidays": ["us_federal"]},
            "la": {"timezone": "America/Los_Angeles", "hours": ["08:00", "18:00"], "holidays": ["us_federal"]},
            "berlin": {"timezone": "Europe/Berlin", "hours": ["09:00", "17:30"],
                       "holidays": ["2025-01-01", "2025-04-18", "2025-04-21", "2025-05-01", "2025-12-25"]},
            "sydney": {"timezone": "Australia/Sydney", "hours": ["09:00", "17:00"], "holidays": ["2025-01-27"]},
        },
        "pools": {
            "na_east": {"members": members(1, 16), "calendar": "ny", "cap_per_day": 180},
            "na_west": {"members": members(17, 12), "calendar": "la", "cap_per_day": 180},
            "emea": {"members": members(29, 10), "calendar": "berlin", "cap_per_day": 140},
            "apac": {"members": members(39, 8), "calendar": "sydney", "cap_per_day": 110},
            "overflow": {"members": [f"R{67 + i:03d}" for i in range(4)]},
        },
        "rules": [
            {"name": "named account", "type": "account_owner", "roles": ["AE"],
             "when": {"account_segment": "Enterprise"}},
            {"name": "na east", "when": {"region": "na_east"}, "pool": "na_east"},
            {"name": "na west", "when": {"region": "na_west"}, "pool": "na_west"},
            {"name": "emea", "when": {"region": "emea"}, "pool": "emea"},
            {"name": "apac", "when": {"region": "apac"}, "pool": "apac"},
            {"name": "overflow", "pool": "overflow"},
        ],
        "fallback": "R067",
        "leave": [{"rep_id": "R005", "from": "2025-07-01", "to": "2025-07-21"},
                  {"rep_id": "R030", "from": "2025-03-10", "to": "2025-03-28"},
                  {"rep_id": "R040", "from": "2025-12-15", "to": "2025-12-31"}],
    }


def timed(fn, repeat: int) -> tuple[float, float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    leads = make_leads(args.leads)
    reps = make_reps()
    accounts = make_accounts(reps)
    print(f"{len(leads):,} leads over 2025, {len(reps)} reps, {len(accounts):,} accounts")

    rules = load_rules(weights_rules())
    secs, mib, out = timed(lambda: route(leads, reps, rules), args.repeat)
    load = pool_load(out)
    w = np.array([m.weight for m in rules.pools["all"].members])
    target = pd.Series(w / w.sum(), index=[m.rep_id for m in rules.pools["all"].members])
    rel = (load.set_index("rep_id")["share"] / target - 1.0).abs()
    print(f"weights: {secs:.2f} s median, {mib:.0f} MiB peak; largest |share / weight share - 1| = {rel.max():.4%} "
          f"(shares {load['share'].min():.4f}..{load['share'].max():.4f})")

    rules = load_rules(full_rules())
    secs, mib, out = timed(lambda: route(leads, reps, rules, accounts=accounts), args.repeat)
    again = route(leads, reps, rules, accounts=accounts)
    same = out["owner_rep_id"].equals(again["owner_rep_id"]) and out["rule"].equals(again["rule"])
    load = pool_load(out)
    rel = (load["share"] / load["target_share"] - 1.0).abs()
    pooled = out[out["pool"].notna()].copy()
    tz = {"na_east": "America/New_York", "na_west": "America/Los_Angeles", "emea": "Europe/Berlin",
          "apac": "Australia/Sydney", "overflow": "UTC"}
    caps = {"na_east": 180, "na_west": 180, "emea": 140, "apac": 110}
    worst = 0.0
    for pool, g in pooled.groupby("pool"):
        if pool not in caps:
            continue
        day = g["routed_at"].dt.tz_convert(tz[pool]).dt.date
        per_day = g.groupby([g["owner_rep_id"], day]).size()
        worst = max(worst, per_day.max() / caps[pool])
    print(f"full:    {secs:.2f} s median, {mib:.0f} MiB peak; rules fired: "
          + ", ".join(f"{k} {v:,}" for k, v in out["rule"].value_counts().items()))
    print(f"         largest |share / target share - 1| = {rel.max():.4%} over {len(load)} pool members; "
          f"busiest rep-day at {worst:.0%} of its cap; deterministic: {same}")
    print(f"         median wait for a working rep {out['wait_hours'].median():.2f} h, "
          f"mean {out['wait_hours'].mean():.2f} h")
    print(f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
          "(whole run: synthetic data, both scenarios, tracemalloc runs)")


if __name__ == "__main__":
    main()
