"""Activities for the big-data generator: calls, emails and meetings of reps on working days within
their employment, between 13:00 and 23:00 UTC, chunked by day.

Volume per rep and working day is proportional to the role (SDR 50, AE 20, AM 15, manager 3) with noise,
scaled so the table has exactly the requested rows. SDR touches go to one of their own leads created in
the last 30 days (else their latest lead) and that lead's account; AE and AM touches to one of their own
opportunities created in the last 120 days (the opportunity is named while it is still open) or else to
an account of their segment and region; managers join meetings with accounts of their region.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .large_deals import Opportunities, opportunity_ids
from .large_leads import lead_ids
from .large_people import AE, AM, MANAGER, SDR, Accounts, Reps, account_ids, rep_ids
from .large_util import (
    AS_OF_DAY,
    N_DAYS,
    Pools,
    allocate,
    choice,
    floats,
    id_array,
    is_working_day,
    labels,
    pick_from_ranges,
    timestamps,
)

ROLE_RATE = np.array([20.0, 50.0, 15.0, 3.0])  # AE, SDR, AM, manager: touches per working day
TYPES = ("call", "email", "meeting")
TYPE_MIX = {AE: (0.35, 0.40, 0.25), SDR: (0.60, 0.40, 0.0), AM: (0.35, 0.40, 0.25), MANAGER: (0.0, 0.3, 0.7)}
DIRECTIONS = ("inbound", "outbound")
OUTCOMES = ("connected", "voicemail", "no_answer", "sent", "replied", "received", "held", "no_show", "rescheduled")


def activity_ids(index: np.ndarray) -> pa.Array:
    return id_array("AT", np.asarray(index) + 1, 10)


def activity_counts(rng: np.random.Generator, reps: Reps, total: int) -> np.ndarray:
    """Activities per (window day, rep), zero off working days and outside employment, summing to ``total``."""
    days = np.arange(N_DAYS)[:, None]
    employed = (reps.hire_day[None, :] <= days) & (days <= np.minimum(reps.end_day, AS_OF_DAY)[None, :])
    expected = np.where(employed & is_working_day(days), ROLE_RATE[reps.role][None, :], 0.0)
    expected = expected * rng.gamma(25.0, 1 / 25.0, expected.shape)
    if total and not expected.sum() > 0:
        raise ValueError("table 'activities': no rep is employed on any working day; expected at least one")
    return allocate(total, expected.ravel(), rng).reshape(expected.shape)


def activities_chunk(
    rng: np.random.Generator,
    first_day: int,
    counts: np.ndarray,
    offset: int,
    reps: Reps,
    accounts: Accounts,
    opps: Opportunities,
    opps_by_owner: Pools,
    leads_by_owner: Pools,
    lead_account: np.ndarray,
) -> dict[str, pa.Array]:
    """Activities of days ``first_day ..`` with ``counts[day, rep]`` rows each; ids from ``offset``."""
    flat = counts.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    day = first_day + cell // counts.shape[1]
    rep = cell % counts.shape[1]
    t = day * 86_400 + rng.integers(13 * 3600, 23 * 3600, cell.size)
    order = np.argsort(t, kind="stable")
    day, rep, t = day[order], rep[order], t[order]
    n = cell.size
    role = reps.role[rep]

    typ = np.zeros(n, dtype="int64")
    for r, mix in TYPE_MIX.items():
        idx = np.flatnonzero(role == r)
        typ[idx] = choice(rng, mix, idx.size)
    call, email, meeting = typ == 0, typ == 1, typ == 2
    direction = np.where(call, rng.random(n) < 0.92, rng.random(n) < 0.8).astype("int64")  # 1 outbound
    outcome = np.where(
        call,
        choice(rng, (0.47, 0.35, 0.18), n),
        np.where(email, np.where(direction == 1, 3 + choice(rng, (0.85, 0.15), n), 5), 6 + choice(rng, (0.85, 0.10, 0.05), n)),
    )
    duration = np.select(
        [outcome == 0, outcome == 1, outcome == 6],
        [np.round(rng.lognormal(np.log(300), 0.7, n)), rng.integers(20, 61, n).astype(float),
         rng.choice(np.array([1800.0, 2700.0, 3600.0]), n)],
        0.0,
    )

    # links
    lead = np.full(n, -1, dtype="int64")
    opp = np.full(n, -1, dtype="int64")
    account = np.full(n, -1, dtype="int64")
    sdr = np.flatnonzero(role == SDR)
    if sdr.size:
        lo, hi = leads_by_owner.range_by_day(rep[sdr], day[sdr] - 30, day[sdr])
        first, _ = leads_by_owner.range_by_day(rep[sdr], np.full(sdr.size, -1), day[sdr])
        pos = np.where(hi > lo, pick_from_ranges(rng, lo, hi), hi - 1)
        ok = hi > first
        lead[sdr[ok]] = leads_by_owner.order[pos[ok]]
        account[sdr[ok]] = lead_account[lead[sdr[ok]]]
    sellers = np.flatnonzero((role == AE) | (role == AM))
    if sellers.size:
        lo, hi = opps_by_owner.range_by_day(rep[sellers], day[sellers] - 120, day[sellers])
        ok = hi > lo
        j = opps_by_owner.order[pick_from_ranges(rng, lo[ok], hi[ok])]
        account[sellers[ok]] = opps.account[j]
        opp[sellers[ok]] = np.where(opps.close_day[j] >= day[sellers[ok]], j, -1)
    rest = np.flatnonzero(account < 0)
    if rest.size:
        seg = np.where(reps.segment[rep[rest]] >= 0, reps.segment[rep[rest]], rng.integers(0, 3, rest.size))
        reg = np.where(reps.region[rep[rest]] >= 0, reps.region[rep[rest]], rng.integers(0, 2, rest.size))
        account[rest] = accounts.pick_created_by(rng, seg * 2 + reg, day[rest])

    return {
        "activity_id": activity_ids(offset + np.arange(n)),
        "rep_id": rep_ids(rep),
        "occurred_at": timestamps(t),
        "type": labels(TYPES, typ),
        "direction": labels(DIRECTIONS, direction, ~meeting),
        "account_id": account_ids(account),
        "lead_id": lead_ids(np.maximum(lead, 0), lead >= 0),
        "opportunity_id": opportunity_ids(np.maximum(opp, 0), opp >= 0),
        "duration_s": floats(duration, ~email),
        "outcome": labels(OUTCOMES, outcome),
    }
