"""Activities: calls, emails and meetings logged by SDRs and AEs on their working days.

Each rep logs a Poisson number of activities per working day of employment (about ``ACTIVITIES_PER_DAY``).
An SDR's activities are the first touch of each new lead (at the lead's ``first_touch_at``) plus follow-ups
on leads first touched in the last four weeks; an AE's activities go to their open deals or, when none is
picked, to prospect accounts of their segment. All of it is vectorised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import params as P
from ._random import choice_codes, lognormal, stream
from .people import working_rep_days
from .timeline import to_timestamps

TYPES = ("call", "email", "meeting")
DIRECTIONS = ("outbound", "inbound")
OUTCOMES = (
    "connected",
    "voicemail",
    "no_answer",
    "sent",
    "replied",
    "received",
    "held",
    "no_show",
    "rescheduled",
)
_KEY = 10_000.0


def _details(rng: np.random.Generator, typ: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Direction code (-1 none), outcome code and duration in seconds (NaN for emails) per activity."""
    n = len(typ)
    call, email, meeting = typ == 0, typ == 1, typ == 2
    inbound = rng.random(n) < np.where(call, 0.08, 0.20)
    direction = np.where(meeting, -1, inbound.astype(int))
    call_out = choice_codes(rng, (0.45, 0.35, 0.20), n)
    email_out = np.where(inbound, 5, np.where(rng.random(n) < 0.15, 4, 3))
    meet_out = 6 + choice_codes(rng, (0.85, 0.10, 0.05), n)
    outcome = np.where(call, call_out, np.where(email, email_out, meet_out))
    talk = np.round(lognormal(rng, 300.0, 0.7, n))
    vm = np.round(rng.uniform(20, 60, n))
    call_d = np.where(call_out == 0, talk, np.where(call_out == 1, vm, 0.0))
    meet_len = np.asarray([900.0, 1800.0, 2700.0, 3600.0])[choice_codes(rng, (0.1, 0.45, 0.15, 0.3), n)]
    meet_d = np.where(meet_out == 6, meet_len, 0.0)
    duration = np.where(call, call_d, np.where(meeting, meet_d, np.nan))
    return direction, outcome, duration


def _sdr(
    seed: int, staff: pd.DataFrame, leads: pd.DataFrame, accounts: pd.DataFrame
) -> dict[str, np.ndarray]:
    rng = stream(seed, "activities.sdr")
    rep_rows, days = working_rep_days(staff, "SDR")
    rate = P.ACTIVITIES_PER_DAY["SDR"] * rng.uniform(0.9, 1.1, len(staff))
    n_day = rng.poisson(rate[rep_rows])

    touched = np.flatnonzero(leads["_touch"].notna().to_numpy())
    ft_rep = leads["_owner"].to_numpy()[touched]
    ft_t = leads["_touch"].to_numpy()[touched]
    rd_key = rep_rows * _KEY + days
    pos = np.searchsorted(rd_key, ft_rep * _KEY + np.floor(ft_t))
    if not np.array_equal(rd_key[np.minimum(pos, len(rd_key) - 1)], ft_rep * _KEY + np.floor(ft_t)):
        raise RuntimeError("a first touch falls outside its SDR's working days")
    n_follow = np.maximum(n_day - np.bincount(pos, minlength=len(rd_key)), 0)
    f_rep = np.repeat(rep_rows, n_follow)
    f_day = np.repeat(days, n_follow)
    f_t = f_day + rng.uniform(13.0, 23.0, len(f_day)) / 24.0

    # follow-ups go to leads the SDR first touched in the four weeks before that day
    order = np.argsort(ft_rep * _KEY + ft_t, kind="stable")
    l_key = (ft_rep * _KEY + ft_t)[order]
    l_idx = touched[order]
    lo = np.searchsorted(l_key, f_rep * _KEY + f_day - 28)
    hi = np.searchsorted(l_key, f_rep * _KEY + f_day)
    has = hi > lo
    dq = leads["_dq"].to_numpy()
    lead = np.full(len(f_t), -1)
    for _ in range(2):
        j = lo + np.floor(rng.random(len(f_t)) * (hi - lo)).astype(np.int64)
        cand = np.where(has, l_idx[np.minimum(j, len(l_idx) - 1)], -1)
        fresh = (cand >= 0) & ~(dq[np.maximum(cand, 0)] < f_t)
        lead = np.where((lead < 0) & fresh, cand, lead)
    lead = np.where((lead < 0) & has, cand, lead)
    w = accounts["_weight"].to_numpy()
    random_acc = rng.choice(len(accounts), len(f_t), p=w / w.sum())
    lead_acc = leads["_acc"].to_numpy()
    f_acc = np.where(lead >= 0, lead_acc[np.maximum(lead, 0)], random_acc)

    rep = np.r_[ft_rep, f_rep]
    t = np.r_[ft_t, f_t]
    typ = np.r_[
        choice_codes(rng, (0.55, 0.45, 0.0), len(ft_t)), choice_codes(rng, (0.5, 0.45, 0.05), len(f_t))
    ]
    return {
        "rep": rep,
        "t": t,
        "type": typ,
        "lead": np.r_[touched, lead],
        "account": np.r_[lead_acc[touched], f_acc],
        "deal": np.full(len(t), -1),
    }


def _ae(seed: int, staff: pd.DataFrame, deals: pd.DataFrame, accounts: pd.DataFrame) -> dict[str, np.ndarray]:
    rng = stream(seed, "activities.ae")
    rep_rows, days = working_rep_days(staff, "AE")
    rate = P.ACTIVITIES_PER_DAY["AE"] * rng.uniform(0.9, 1.1, len(staff))
    n_day = rng.poisson(rate[rep_rows])
    rep = np.repeat(rep_rows, n_day)
    t = np.repeat(days, n_day) + rng.uniform(13.0, 23.0, int(n_day.sum())) / 24.0
    n = len(t)
    seg = staff["_seg"].to_numpy()[rep]

    owner = deals["_owner"].to_numpy()
    t0 = deals["_t0"].to_numpy()
    order = np.argsort(owner * _KEY + t0, kind="stable")
    d_key = (owner * _KEY + t0)[order]
    window = 2.5 * np.asarray(P.CYCLE_MEDIAN_DAYS)[seg]
    lo = np.searchsorted(d_key, rep * _KEY + t - window)
    hi = np.searchsorted(d_key, rep * _KEY + t)
    has = (hi > lo) & (rng.random(n) < 0.75)
    t_close = deals["_tclose"].to_numpy()
    deal = np.full(n, -1)
    for _ in range(3):
        j = lo + np.floor(rng.random(n) * (hi - lo)).astype(np.int64)
        cand = order[np.minimum(j, len(order) - 1)]
        ok = has & (deal < 0) & (t_close[cand] > t)
        deal = np.where(ok, cand, deal)

    acc_seg = accounts["_seg"].to_numpy()
    by_seg = np.argsort(acc_seg, kind="stable")
    start = np.searchsorted(acc_seg[by_seg], np.arange(3))
    count = np.bincount(acc_seg, minlength=3)
    prospect = by_seg[start[seg] + np.floor(rng.random(n) * count[seg]).astype(np.int64)]
    account = np.where(deal >= 0, deals["_acc"].to_numpy()[np.maximum(deal, 0)], prospect)
    typ = choice_codes(rng, (0.30, 0.45, 0.25), n)
    return {"rep": rep, "t": t, "type": typ, "lead": np.full(n, -1), "account": account, "deal": deal}


def build_activities(
    seed: int, staff: pd.DataFrame, leads: pd.DataFrame, deals: pd.DataFrame, accounts: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """The canonical ``activities`` table (sorted by time) and each account's first activity day (NaN if none)."""
    sdr = _sdr(seed, staff, leads, accounts)
    ae = _ae(seed, staff, deals, accounts)
    a = {k: np.r_[sdr[k], ae[k]] for k in sdr}
    order = np.lexsort((a["rep"], a["t"]))
    a = {k: v[order] for k, v in a.items()}
    rng = stream(seed, "activities.details")
    direction, outcome, duration = _details(rng, a["type"])
    n = len(a["t"])
    width = max(8, len(str(n)))
    ids = np.char.add("AT", np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)

    def ref(idx: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(idx >= 0, np.asarray(values, dtype=object)[np.maximum(idx, 0)], None)

    table = pd.DataFrame(
        {
            "activity_id": ids,
            "rep_id": staff["rep_id"].to_numpy(dtype=object)[a["rep"]],
            "occurred_at": to_timestamps(a["t"]).array,
            "type": np.asarray(TYPES, dtype=object)[a["type"]],
            "direction": ref(direction, np.asarray(DIRECTIONS, dtype=object)),
            "account_id": ref(a["account"], accounts["account_id"].to_numpy()),
            "lead_id": ref(a["lead"], leads["lead_id"].to_numpy()),
            "opportunity_id": ref(a["deal"], deals["opportunity_id"].to_numpy()),
            "duration_s": duration,
            "outcome": np.asarray(OUTCOMES, dtype=object)[outcome],
        }
    )
    first = np.full(len(accounts), np.inf)
    np.minimum.at(first, a["account"], a["t"])
    first[np.isinf(first)] = np.nan
    return table, first
