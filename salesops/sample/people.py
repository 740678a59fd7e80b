"""Reps: seats, hires and leavers, managers, skill, the training groups, and routing work to active reps.

Each AE or SDR *seat* is held by a sequence of people: a tenured incumbent on 2023-01-01 (or, for growth
seats, a new hire during the period), who may leave; a replacement is hired 30-75 days later. The first three
AE seats of each segment and the first two SDR seats are held for the whole period, so every team always has
someone to route work to; the low- and high-skill AEs sit on those seats.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import params as P
from ._random import stream
from .timeline import AS_OF_DAY, N_DAYS, calendar, day_of, to_dates

FIRST_NAMES = (
    "Avery Jordan Riley Morgan Casey Taylor Quinn Harper Rowan Emerson Parker Reese Skyler Dakota Hayden "
    "Jamie Logan Cameron Drew Elliot Finley Sage Blake Kendall Alexis Marisol Priya Omar Hana Diego Leila "
    "Mateo Aisha Kenji Sofia Tariq Ingrid Nadia Lucas Chloe Ethan Maya Noah Zara Isaac Amara Julian Nora "
    "Felix Ada Theo Iris Simon Lena Victor Mina Oscar Ruth Hugo Tessa"
).split()
LAST_NAMES = (
    "Patel Nguyen Garcia Smith Johnson Okafor Kowalski Rossi Muller Dubois Tanaka Kim Lopez Brown Wilson "
    "Anderson Thomas Moore Martin Lee Clark Lewis Walker Young Allen King Wright Scott Green Baker Adams "
    "Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner Torres Parker Collins Edwards "
    "Stewart Morris Murphy Cook Rogers Morgan Peterson Cooper Reed Bailey Bell Gomez Kelly Howard Ward Cox"
).split()

INF = math.inf


def ramp(months: np.ndarray | float) -> np.ndarray:
    """Productivity of a new hire relative to a tenured rep: ``1 - exp(-months / tau)``."""
    m = np.clip(np.asarray(months, dtype=float), 0.0, None)
    return 1.0 - np.exp(-m / P.RAMP_TAU_MONTHS)


def _layout(n: int, label: str, team_max: int = 8) -> tuple[list[int], list[str], bool]:
    """Region code and team name of each of ``n`` seats; teams split East/West from ten seats up."""
    regions = [i % 2 for i in range(n)]
    split = n >= 10
    if not split:
        return regions, [label] * n, False
    teams = []
    rank = [0, 0]
    per_region = [regions.count(0), regions.count(1)]
    for r in regions:
        k = math.ceil(per_region[r] / team_max)
        name = f"{label} {P.REGIONS[r]}"
        if k > 1:
            name += f" {rank[r] % k + 1}"
        teams.append(name)
        rank[r] += 1
    return regions, teams, True


def _occupants(
    rng: np.random.Generator, first_hire: int, protected: bool, attrition: float
) -> list[tuple[int, float]]:
    """(hire day, last working day or inf) of each person holding one seat."""
    cal = calendar()
    out: list[tuple[int, float]] = []
    hire = first_hire
    rate = -math.log(1.0 - attrition) / 365.0
    while True:
        if protected:
            out.append((hire, INF))
            break
        leave = max(hire + 120, 0) + rng.exponential(1.0 / rate)
        if leave >= N_DAYS - 1:
            out.append((hire, INF))
            break
        end = int(cal.prev_working(leave))
        out.append((hire, float(end)))
        nxt = int(cal.next_working(end + rng.uniform(30, 75)))
        if nxt > N_DAYS - 15:
            break
        hire = nxt
    return out


def _hire_between(rng: np.random.Generator, start: str, end: str) -> int:
    return int(calendar().next_working(rng.integers(day_of(start), day_of(end) + 1)))


def build_staff(seed: int, scale: P.Scale) -> pd.DataFrame:
    """All people: the canonical ``reps`` columns plus internal ``_``-prefixed columns used by the generator.

    Internal columns: ``_hire`` (day number), ``_end`` (last working day, ``inf`` if still employed),
    ``_seg`` (segment code, -1 if none), ``_reg`` (region code), ``_split`` (team routes by region),
    ``_skill`` (additive win-probability effect), ``_skill_group``, ``_eligible`` (in the training
    experiment) and ``_trained``.
    """
    rng = stream(seed, "people")
    rows: list[dict] = []
    teams: dict[str, dict] = {}

    def add_seats(role: str, seg: int, n_base: int, label: str, n_protected: int) -> None:
        n_growth = max(1, round(P.GROWTH_SEAT_SHARE * n_base))
        n = n_base + n_growth
        regions, team_names, split = _layout(n, label)
        for s in range(n):
            team = team_names[s]
            teams.setdefault(
                team, {"segment": seg, "region": regions[s] if split else -1, "role": role, "split": split}
            )
            protected = s < n_protected
            group = "normal"
            if role == "AE" and s == 0:
                group = "low"
            elif role == "AE" and s == 1 and seg in (P.SMB, P.MM):
                group = "high"
            if s >= n_base:
                first = _hire_between(rng, "2023-02-01", "2025-06-30")
            elif protected:
                first = _hire_between(rng, "2017-01-01", "2021-06-30")
            else:
                first = _hire_between(rng, "2018-01-01", "2022-06-30")
            for k, (hire, end) in enumerate(_occupants(rng, first, protected, P.ANNUAL_ATTRITION[role])):
                rows.append(
                    {
                        "role": role,
                        "_seg": seg,
                        "_reg": regions[s],
                        "_split": split,
                        "team": team,
                        "_hire": hire,
                        "_end": end,
                        "_skill_group": group if k == 0 else "normal",
                        "_seat": f"{label}:{s}",
                    }
                )

    for seg, n in enumerate(scale.ae_seats):
        add_seats("AE", seg, n, P.SEGMENTS[seg], n_protected=3)
    add_seats("SDR", -1, scale.sdr_seats, "SDR", n_protected=2)

    for name, team in teams.items():
        rows.append(
            {
                "role": "manager",
                "_seg": team["segment"],
                "_reg": max(team["region"], 0),
                "_split": False,
                "team": name,
                "_hire": _hire_between(rng, "2015-06-01", "2021-12-31"),
                "_end": INF,
                "_skill_group": "normal",
                "_seat": f"manager:{name}",
                "_team_region": team["region"],
            }
        )
    rows.append(
        {
            "role": "manager",
            "_seg": -1,
            "_reg": 0,
            "_split": False,
            "team": "Sales Leadership",
            "_hire": day_of("2015-03-02"),
            "_end": INF,
            "_skill_group": "normal",
            "_seat": "vp",
            "_team_region": -1,
        }
    )
    staff = pd.DataFrame(rows)
    role_order = staff["role"].map({"manager": 0, "AE": 1, "SDR": 2})
    staff = (
        staff.assign(_ro=role_order)
        .sort_values(["_hire", "_ro", "_seat"], kind="stable")
        .drop(columns="_ro")
        .reset_index(drop=True)
    )
    n = len(staff)
    width = max(4, len(str(n)))
    staff.insert(0, "rep_id", [f"R{i + 1:0{width}d}" for i in range(n)])
    combos = rng.choice(len(FIRST_NAMES) * len(LAST_NAMES), size=n, replace=False)
    staff.insert(
        1,
        "name",
        [f"{FIRST_NAMES[c // len(LAST_NAMES)]} {LAST_NAMES[c % len(LAST_NAMES)]}" for c in combos],
    )
    staff["_seg"] = staff["_seg"].astype(int)
    staff["segment"] = [P.SEGMENTS[s] if s >= 0 else None for s in staff["_seg"]]
    team_region = staff["_team_region"].fillna(0).astype(int)
    is_mgr = staff["role"].eq("manager")
    staff["region"] = [
        None if (m and tr < 0) else P.REGIONS[r]
        for m, tr, r in zip(is_mgr, team_region, staff["_reg"], strict=True)
    ]
    vp_id = staff.loc[staff["_seat"].eq("vp"), "rep_id"].iloc[0]
    manager_of_team = dict(zip(staff.loc[is_mgr, "team"], staff.loc[is_mgr, "rep_id"], strict=True))
    staff["manager_id"] = [
        (None if seat == "vp" else vp_id) if m else manager_of_team[t]
        for m, t, seat in zip(is_mgr, staff["team"], staff["_seat"], strict=True)
    ]
    staff["hire_date"] = to_dates(staff["_hire"].to_numpy(float))
    end = staff["_end"].to_numpy(float)
    staff["end_date"] = to_dates(np.where(np.isinf(end), np.nan, end))

    # pay
    base = np.select(
        [
            staff["role"].eq("AE") & staff["_seg"].eq(0),
            staff["role"].eq("AE") & staff["_seg"].eq(1),
            staff["role"].eq("AE") & staff["_seg"].eq(2),
            staff["role"].eq("SDR"),
            staff["_seat"].eq("vp"),
        ],
        [65_000.0, 85_000.0, 115_000.0, 55_000.0, 200_000.0],
        140_000.0,
    )
    base = np.round(base * rng.uniform(0.92, 1.08, n) / 500.0) * 500.0
    ote_factor = np.select(
        [staff["role"].eq("AE"), staff["role"].eq("SDR"), staff["_seat"].eq("vp")], [2.0, 1.35, 1.6], 1.5
    )
    staff["base_salary"] = base
    staff["ote"] = np.round(base * ote_factor / 500.0) * 500.0

    # skill: additive effect on the win probability of the AE's deals
    skill = np.clip(rng.normal(0.0, P.SKILL["normal_sd"], n), -P.SKILL["normal_cap"], P.SKILL["normal_cap"])
    group = staff["_skill_group"].to_numpy()
    skill = np.where(group == "low", P.SKILL["low"], np.where(group == "high", P.SKILL["high"], skill))
    is_ae = staff["role"].eq("AE").to_numpy()
    staff["_skill"] = np.where(is_ae, skill, 0.0)

    # training: a random half (within each segment) of the AEs employed through the programme, randomised in
    # pairs matched on skill; when a segment has an odd number of them, its most recent hire sits out
    eligible = (
        is_ae
        & (staff["_hire"].to_numpy() <= P.TRAINING_START_DAY - P.TRAINING["min_tenure_days"])
        & (end >= P.TRAINING_END_DAY)
    )
    trained = np.zeros(n, dtype=bool)
    hire_day = staff["_hire"].to_numpy()
    for seg in range(3):
        members = np.flatnonzero(eligible & (staff["_seg"].to_numpy() == seg))
        if len(members) % 2:
            out = members[np.argmax(hire_day[members])]
            eligible[out] = False
            members = members[members != out]
        members = members[np.argsort(skill[members], kind="stable")]
        for a, b in members.reshape(-1, 2):
            trained[a if rng.random() < 0.5 else b] = True
    staff["_eligible"] = eligible
    staff["_trained"] = trained
    return staff.drop(columns=["_team_region"])


def active_mask(staff: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    """``(len(t), len(staff))`` boolean matrix: person employed at moment ``t``."""
    hire = staff["_hire"].to_numpy(float)
    end = staff["_end"].to_numpy(float)
    tt = np.asarray(t, dtype=float)[:, None]
    return (hire[None, :] <= tt) & (tt < end[None, :] + 1.0)


def pick(
    rng: np.random.Generator,
    staff: pd.DataFrame,
    t: np.ndarray,
    role: str,
    segment: np.ndarray | None = None,
    region: np.ndarray | None = None,
    use_ramp: bool = False,
    chunk: int = 20_000,
) -> np.ndarray:
    """Route each item at moment ``t`` to an employed person of ``role`` (row positions into ``staff``).

    Candidates are restricted to the item's segment and, where the segment's teams are split by region, to
    the item's region (falling back to the whole segment, then to the whole role, when nobody is employed).
    With ``use_ramp`` the draw is weighted by each candidate's ramp (new hires get less work).

    Routing is a weighted round robin: inside each routing group (segment and region), items taken in time
    order draw their uniforms from a Weyl sequence (``frac(v + k * 0.618...)``), so each person's share of
    any stretch of consecutive items is close to their weight's share.
    """
    t = np.asarray(t, dtype=float)
    n = len(t)
    cand = np.flatnonzero(staff["role"].to_numpy() == role)
    hire = staff["_hire"].to_numpy(float)[cand]
    end = staff["_end"].to_numpy(float)[cand]
    seg_c = staff["_seg"].to_numpy()[cand]
    reg_c = staff["_reg"].to_numpy()[cand]
    split_c = staff["_split"].to_numpy(bool)[cand]
    group = np.zeros(n, dtype=np.int64)
    if segment is not None:
        group += (np.asarray(segment) + 1) * 2
    if region is not None:
        group += np.asarray(region)
    order = np.lexsort((t, group))
    g_sorted = group[order]
    starts = np.r_[0, np.flatnonzero(g_sorted[1:] != g_sorted[:-1]) + 1]
    rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    u = np.empty(n)
    u[order] = np.mod(rng.random() + rank * 0.6180339887498949, 1.0)
    out = np.empty(n, dtype=np.int64)
    for lo in range(0, n, chunk):
        sl = slice(lo, min(n, lo + chunk))
        tt = t[sl][:, None]
        active = (hire[None, :] <= tt) & (tt < end[None, :] + 1.0)
        w = active.astype(float)
        if use_ramp:
            w = w * ramp((tt - hire[None, :]) / P.DAYS_PER_MONTH)
            w = np.where(active, np.maximum(w, 1e-3), 0.0)
        if segment is not None:
            ws = w * (seg_c[None, :] == np.asarray(segment)[sl][:, None])
            if region is not None:
                wr = ws * ((reg_c[None, :] == np.asarray(region)[sl][:, None]) | ~split_c[None, :])
                ws = np.where(wr.sum(1, keepdims=True) > 0, wr, ws)
            w = np.where(ws.sum(1, keepdims=True) > 0, ws, w)
        total = w.sum(1)
        if np.any(total <= 0):
            raise RuntimeError(f"no {role} employed at some moment; cannot route")
        cum = np.cumsum(w, axis=1)
        idx = (cum < (u[sl] * total)[:, None]).sum(1)
        out[sl] = cand[np.minimum(idx, len(cand) - 1)]
    return out


def working_rep_days(staff: pd.DataFrame, role: str) -> tuple[np.ndarray, np.ndarray]:
    """(row position, day number) of every working day in the period each person of ``role`` was employed."""
    cal = calendar()
    days = cal.working_days(0, N_DAYS - 1)
    rows = np.flatnonzero(staff["role"].to_numpy() == role)
    hire = staff["_hire"].to_numpy(float)[rows]
    end = np.minimum(staff["_end"].to_numpy(float)[rows], AS_OF_DAY)
    m = (days[None, :] >= hire[:, None]) & (days[None, :] <= end[:, None])
    r, d = np.nonzero(m)
    return rows[r], days[d]
