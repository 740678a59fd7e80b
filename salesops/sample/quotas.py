"""Quotas: quarterly bookings quota per AE, ramped for new hires and pro-rated for partial quarters."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import params as P
from .people import ramp
from .timeline import N_QUARTERS, calendar, to_dates


def build_quotas(staff: pd.DataFrame, won: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Quarterly ``bookings`` quotas for every AE employed in a quarter.

    The full quota of a segment for a year is ``QUOTA_HEADROOM`` times the average bookings of its tenured
    AEs (employed the whole quarter, hired at least a year before it) per quarter of that year, rounded to
    $5,000. A rep's quota is that times their average ramp over their employed days in the quarter, times
    the share of the quarter they were employed.

    ``won`` has one row per won deal with ``_owner`` (staff row), ``quarter`` (index 0..11) and ``amount``.
    """
    cal = calendar()
    qs = cal.month_start(np.arange(0, 3 * N_QUARTERS + 1, 3)).astype(float)
    ae = np.flatnonzero(staff["role"].to_numpy() == "AE")
    hire = staff["_hire"].to_numpy(float)[ae]
    last = staff["_end"].to_numpy(float)[ae] + 1.0
    seg = staff["_seg"].to_numpy()[ae]
    booked = np.zeros((len(staff), N_QUARTERS))
    np.add.at(booked, (won["_owner"].to_numpy(), won["quarter"].to_numpy()), won["amount"].to_numpy())
    booked = booked[ae]

    start, end = qs[:-1], qs[1:]
    days = end - start
    emp = np.clip(
        np.minimum(end[None, :], last[:, None]) - np.maximum(start[None, :], hire[:, None]), 0, None
    )
    tenured = (emp >= days[None, :]) & (hire[:, None] <= start[None, :] - 365)
    full = {}
    for s in range(3):
        for y in range(3):
            cols = slice(4 * y, 4 * y + 4)
            m = tenured[:, cols] & (seg == s)[:, None]
            values = booked[:, cols][m]
            if len(values) == 0:
                m = tenured & (seg == s)[:, None]
                values = booked[m]
            avg = values.mean() if len(values) else P.ACV_MEDIAN[s] * 2
            full[(s, y)] = max(5000.0, round(P.QUOTA_HEADROOM * avg / 5000.0) * 5000.0)

    rows = []
    for q in range(N_QUARTERS):
        d = np.arange(start[q], end[q])
        for i in np.flatnonzero(emp[:, q] > 0):
            on = d[(d >= hire[i]) & (d < last[i])]
            r = ramp((on - hire[i]) / P.DAYS_PER_MONTH).mean()
            amount = full[(seg[i], q // 4)] * r * len(on) / days[q]
            rows.append((ae[i], q, round(amount, -2)))
    arr = np.array(rows, dtype=float).reshape(-1, 3)
    who = arr[:, 0].astype(int)
    qq = arr[:, 1].astype(int)
    table = pd.DataFrame(
        {
            "rep_id": staff["rep_id"].to_numpy(dtype=object)[who],
            "period_start": to_dates(start[qq]).to_numpy(),
            "period_end": to_dates(end[qq] - 1).to_numpy(),
            "amount": arr[:, 2],
            "measure": "bookings",
        }
    )
    table = table.sort_values(["rep_id", "period_start"], kind="stable").reset_index(drop=True)
    full_json = {
        P.SEGMENTS[s]: {str(2023 + y): float(v) for (s2, y), v in full.items() if s2 == s} for s in range(3)
    }
    return table, full_json
