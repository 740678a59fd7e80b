"""Reps and accounts of the big-data generator, as arrays (kept in memory: thousands of reps, at most a
few hundred thousand accounts) and as Arrow chunks.

Sellers work in ten groups: AEs per segment and region (groups 0-5, ``segment * 2 + region``), AMs per
region (6-7) and SDRs per region (8-9). Each group has teams of about nine sellers, each team a manager;
every manager reports to the head of sales (``R00001``). The first seller of every group is hired before
2023 and never leaves, so every group has someone employed on every day of the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .large_util import (
    AS_OF_DAY,
    EARLIEST_DAY,
    N_DAYS,
    REGIONS,
    SEGMENTS,
    Pools,
    allocate,
    choice,
    dates,
    floats,
    id_array,
    labels,
    pick_from_ranges,
)

ROLES = ("AE", "SDR", "AM", "manager")
AE, SDR, AM, MANAGER = 0, 1, 2, 3
N_GROUPS = 10
#: share of sellers per group: AEs by segment (SMB, MM, ENT) and region, then AMs and SDRs by region
GROUP_MIX = np.array([0.40, 0.40, 0.33, 0.33, 0.27, 0.27]) * 0.52 / 2
GROUP_MIX = np.concatenate([GROUP_MIX, [0.09, 0.09, 0.15, 0.15]])
MIN_REPS = 21
NO_END = 1 << 30

FIRST_NAMES = (
    "Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Zoe", "Ethan", "Aria", "Leo", "Nora", "Omar", "Iris",
    "Hugo", "Maya", "Ravi", "Lena", "Theo", "Sara", "Kai", "Elena", "Marco", "Priya", "Jonas", "Chloe",
    "Diego", "Amara", "Felix", "Hana", "Owen", "Yara", "Ruben", "Tessa", "Ivan", "Nia", "Samir",
)
LAST_NAMES = (
    "Smith", "Garcia", "Chen", "Müller", "Patel", "Okafor", "Rossi", "Novak", "Kim", "Silva", "Dubois",
    "Johansson", "Nguyen", "Cohen", "Murphy", "Kowalski", "Tanaka", "Haddad", "Larsen", "Moreau", "Brown",
    "Santos", "Fischer", "Ahmed", "Costa", "Walsh", "Ivanova", "Reyes", "Berg", "Mendes",
)
INDUSTRIES = ("Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Education",
              "Media", "Logistics")
INDUSTRY_MIX = (0.22, 0.12, 0.13, 0.14, 0.12, 0.08, 0.07, 0.12)
COUNTRIES = ("United States", "Canada", "United Kingdom", "Germany", "France", "Australia")
COUNTRY_MIX = (0.66, 0.06, 0.11, 0.065, 0.045, 0.06)
ACCOUNT_SEGMENT_MIX = (0.50, 0.32, 0.18)
NAME_WORDS = ("Apex", "Blue", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iron", "Juniper",
              "Keystone", "Lumen", "Maple", "North", "Orbit", "Pioneer", "Quartz", "River", "Summit", "Tidal",
              "Union", "Vertex", "Willow", "Zenith")
NAME_NOUNS = ("Analytics", "Bank", "Clinic", "Foods", "Freight", "Health", "Labs", "Logistics", "Media",
              "Motors", "Networks", "Partners", "Retail", "Robotics", "Shipping", "Software", "Systems",
              "Textiles", "Works")
NAME_SUFFIXES = ("Inc", "LLC", "Ltd", "GmbH", "SA", "plc", "Pty", "Group", "Co")


@dataclass(frozen=True)
class Reps:
    """Rep arrays, index ``i`` is rep id ``R{i + 1:05d}``."""

    role: np.ndarray  # code into ROLES
    group: np.ndarray  # seller group 0-9; managers: their team's group; the head: -1
    segment: np.ndarray  # 0-2 or -1
    region: np.ndarray  # 0-1 or -1
    team: np.ndarray  # code into team_names
    team_names: tuple[str, ...]
    manager: np.ndarray  # rep index of the manager, -1 for the head
    hire_day: np.ndarray
    end_day: np.ndarray  # NO_END when still employed
    base_salary: np.ndarray
    ote: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    pools: Pools  # sellers by group
    permanent: np.ndarray  # per group, a seller employed throughout

    def __len__(self) -> int:
        return len(self.role)


def make_reps(rng: np.random.Generator, n: int) -> Reps:
    """``n`` reps: one head of sales, about one manager per ten reps, the rest sellers in ten groups."""
    if n < MIN_REPS:
        raise ValueError(f"table 'reps': need at least {MIN_REPS} reps (one per seller group and team), got {n}")
    n_teams = max(N_GROUPS, round((n - 1) / 10))
    n_sellers = n - 1 - n_teams
    per_group = allocate(n_sellers - N_GROUPS, GROUP_MIX) + 1
    teams_per_group = allocate(n_teams - N_GROUPS, per_group.astype(float)) + 1

    def label(g: int) -> str:
        region = REGIONS[g % 2]
        if g < 6:
            return f"{SEGMENTS[g // 2]} {region}"
        return f"{'AM' if g < 8 else 'SDR'} {region}"

    team_names = ["Sales Leadership"]
    team_group = [-1]
    for g in range(N_GROUPS):
        t = int(teams_per_group[g])
        for k in range(t):
            team_names.append(label(g) + (f" {k + 1}" if t > 1 else ""))
            team_group.append(g)
    team_group_arr = np.array(team_group)
    # rows: head, managers (one per team, in team order), sellers by group
    mgr_team = np.arange(1, len(team_names))
    seller_group = np.repeat(np.arange(N_GROUPS), per_group)
    pos_in_group = np.arange(n_sellers) - np.repeat(np.cumsum(per_group) - per_group, per_group)
    team_first = np.concatenate(([1], 1 + np.cumsum(teams_per_group)[:-1]))
    seller_team = team_first[seller_group] + pos_in_group % teams_per_group[seller_group]
    team = np.concatenate(([0], mgr_team, seller_team))
    group = np.concatenate(([-1], team_group_arr[mgr_team], seller_group))
    role = np.full(n, MANAGER)
    seller = np.arange(n) >= 1 + n_teams
    role[seller] = np.where(group[seller] < 6, AE, np.where(group[seller] < 8, AM, SDR))
    segment = np.where((group >= 0) & (group < 6), group // 2, -1)
    region = np.where(group >= 0, group % 2, -1)
    manager = np.where(seller, team, 0)  # the team's manager is rep index == team number
    manager[0] = -1

    permanent_pos = (1 + n_teams) + np.cumsum(per_group) - per_group
    hire_pre = rng.integers(EARLIEST_DAY, 0, n)
    hire_in = rng.integers(0, N_DAYS - 45, n)
    hired_in_window = seller & (rng.random(n) < 0.28)
    hired_in_window[permanent_pos] = False
    hire_day = np.where(hired_in_window, hire_in, hire_pre)
    leaves = np.where(seller, rng.random(n) < 0.18, rng.random(n) < 0.05)
    leaves[permanent_pos] = False
    leaves[0] = False
    first_end = np.maximum(hire_day + 90, 0)
    can_leave = leaves & (first_end < AS_OF_DAY)
    end_day = np.full(n, NO_END, dtype="int64")
    end_day[can_leave] = pick_from_ranges(rng, first_end[can_leave], np.full(can_leave.sum(), AS_OF_DAY))

    base_by_role = np.array([0.0, 55_000, 78_000, 140_000])
    ae_base = np.array([62_000.0, 80_000, 112_000])
    base = np.where(role == AE, ae_base[np.maximum(segment, 0)], base_by_role[role])
    base = np.round(base * rng.lognormal(0.0, 0.08, n) / 500) * 500
    base[0] = np.round(base[0] * 1.4 / 500) * 500
    ote = base * np.array([2.0, 1.35, 1.6, 1.5])[role]

    pools = Pools(np.maximum(group, 0)[seller], N_GROUPS)
    # Pools hold seller positions; map them back to rep indices
    seller_idx = np.flatnonzero(seller)
    pools.order = seller_idx[pools.order]
    return Reps(
        role=role, group=group, segment=segment, region=region, team=team, team_names=tuple(team_names),
        manager=manager, hire_day=hire_day.astype("int64"), end_day=end_day, base_salary=base, ote=ote,
        first_name=rng.integers(0, len(FIRST_NAMES), n), last_name=rng.integers(0, len(LAST_NAMES), n),
        pools=pools, permanent=permanent_pos,
    )


def rep_ids(index: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return id_array("R", np.asarray(index) + 1, 5, valid)


def reps_table(reps: Reps) -> dict[str, pa.Array]:
    n = len(reps)
    names = pc.binary_join_element_wise(labels(FIRST_NAMES, reps.first_name), labels(LAST_NAMES, reps.last_name), " ")
    return {
        "rep_id": rep_ids(np.arange(n)),
        "name": names,
        "role": labels(ROLES, reps.role),
        "team": labels(reps.team_names, reps.team),
        "segment": labels(SEGMENTS, np.maximum(reps.segment, 0), reps.segment >= 0),
        "region": labels(REGIONS, np.maximum(reps.region, 0), reps.region >= 0),
        "manager_id": rep_ids(np.maximum(reps.manager, 0), reps.manager >= 0),
        "hire_date": dates(reps.hire_day),
        "end_date": dates(np.minimum(reps.end_day, AS_OF_DAY), reps.end_day != NO_END),
        "base_salary": floats(reps.base_salary),
        "ote": floats(reps.ote),
    }


@dataclass(frozen=True)
class Accounts:
    """Account arrays, index ``i`` is account id ``A{i + 1:07d}``; ``pool = segment * 2 + region``."""

    segment: np.ndarray
    region: np.ndarray
    created_day: np.ndarray
    industry: np.ndarray
    country: np.ndarray
    employees: np.ndarray
    owner: np.ndarray
    pools: Pools  # by pool, sorted by created_day within a pool

    def __len__(self) -> int:
        return len(self.segment)

    @property
    def pool(self) -> np.ndarray:
        return self.segment * 2 + self.region

    def pick_created_by(self, rng: np.random.Generator, pool: np.ndarray, day: np.ndarray) -> np.ndarray:
        """A uniform account of ``pool`` created on or before ``day`` (each pool has one from before 2023)."""
        lo = self.pools.start[pool]
        _, hi = self.pools.range_by_day(pool, np.full(len(pool), EARLIEST_DAY - 1), day)
        return self.pools.order[pick_from_ranges(rng, lo, hi)]


def make_accounts(rng: np.random.Generator, n: int, reps: Reps) -> Accounts:
    """``n`` accounts; 55% existed before 2023, the rest were created during the window."""
    if n < 6:
        raise ValueError(f"table 'accounts': need at least 6 accounts (one per segment and region), got {n}")
    segment = choice(rng, ACCOUNT_SEGMENT_MIX, n)
    region = rng.integers(0, 2, n)
    segment[:6] = np.arange(6) // 2
    region[:6] = np.arange(6) % 2
    pre = rng.random(n) < 0.55
    pre[:6] = True
    created = np.where(pre, rng.integers(EARLIEST_DAY, 0, n), rng.integers(0, N_DAYS, n))
    low = np.array([10.0, 200, 2000])[segment]
    high = np.array([199.0, 1999, 60_000])[segment]
    employees = np.floor(np.exp(rng.uniform(np.log(low), np.log(high + 1)))).clip(low, high)
    owner = reps.pools.pick(rng, segment * 2 + region)  # AE groups 0-5 match the account pools
    return Accounts(
        segment=segment, region=region, created_day=created, industry=choice(rng, INDUSTRY_MIX, n),
        country=choice(rng, COUNTRY_MIX, n), employees=employees, owner=owner,
        pools=Pools(segment * 2 + region, 6, created),
    )


def account_ids(index: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return id_array("A", np.asarray(index) + 1, 7, valid)


def accounts_chunk(acc: Accounts, a: int, b: int, rng: np.random.Generator) -> dict[str, pa.Array]:
    """Rows ``[a, b)`` of the accounts table."""
    m = b - a
    seg = acc.segment[a:b]
    names = pc.binary_join_element_wise(
        labels(NAME_WORDS, rng.integers(0, len(NAME_WORDS), m)),
        labels(NAME_NOUNS, rng.integers(0, len(NAME_NOUNS), m)),
        labels(NAME_SUFFIXES, rng.integers(0, len(NAME_SUFFIXES), m)),
        " ",
    )
    employees = acc.employees[a:b]
    revenue = np.round(employees * rng.lognormal(np.log(150_000), 0.5, m), -3)
    potential = np.round(np.array([30_000.0, 100_000, 350_000])[seg] * rng.lognormal(0, 0.5, m), -3)
    return {
        "account_id": account_ids(np.arange(a, b)),
        "name": names,
        "industry": labels(INDUSTRIES, acc.industry[a:b]),
        "employees": floats(employees),
        "annual_revenue": floats(revenue),
        "country": labels(COUNTRIES, acc.country[a:b]),
        "region": labels(REGIONS, acc.region[a:b]),
        "segment": labels(SEGMENTS, seg),
        "owner_rep_id": rep_ids(acc.owner[a:b]),
        "created_date": dates(acc.created_day[a:b]),
        "potential": floats(potential),
    }
