"""Opportunities and their stage history for the big-data generator.

An opportunity is created on a window day, lives ``cycle`` days (log-normal by segment) and is closed when
that falls on or before the as-of day, open otherwise (its close date then is the expected one). Its history
has exactly ``k`` rows: the first at creation in Qualification, then stage moves (forward, with skips and
the odd regression) and amount / close-date changes, the last in the current stage; a closed deal's last
row is its Closed Won / Closed Lost move on the close date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .large_people import Accounts, Reps, account_ids, rep_ids
from .large_util import (
    AS_OF_DAY,
    AS_OF_SECOND,
    N_DAYS,
    allocate,
    choice,
    dates,
    floats,
    group_cumsum,
    id_array,
    labels,
    pick_active,
    pick_from_ranges,
    seasonal_day_weights,
    timestamps,
)

STAGES = ("Qualification", "Discovery", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
FORECAST = ("pipeline", "best_case", "commit", "closed", "omitted")
STAGE_FORECAST = np.array([0, 0, 1, 2, 3, 4])
TYPES = ("new_business", "expansion", "renewal")
TYPE_MIX = (0.50, 0.38, 0.12)
LEAD_SOURCES = ("Inbound Web", "Paid Search", "Referral", "Events", "Outbound", "Partner")
LEAD_SOURCE_MIX = (0.28, 0.20, 0.07, 0.12, 0.25, 0.08)
SOURCES = LEAD_SOURCES + ("AE Sourced", "Existing Customer")
AE_SOURCED, EXISTING = 6, 7
LOSS_REASONS = ("No decision", "Budget", "Product fit", "Timing", "Competitor", "Price")
LOSS_MIX = (0.26, 0.25, 0.17, 0.16, 0.08, 0.08)
PRODUCTS = ("Core Platform", "Analytics Add-on", "Integrations Pack")
PRODUCT_MIX = (0.67, 0.13, 0.20)
OPP_SEGMENT_MIX = (0.46, 0.33, 0.21)
CYCLE_MEDIAN = np.array([25.0, 45.0, 75.0])
WIN_RATE = np.array([0.30, 0.22, 0.15])
ACV_MEDIAN = np.array([12_000.0, 42_000.0, 140_000.0])


def opportunity_ids(index: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return id_array("O", np.asarray(index) + 1, 7, valid)


@dataclass
class Opportunities:
    """Opportunity arrays; index ``j`` is id ``O{j + 1:07d}``, in order of creation."""

    created_day: np.ndarray
    close_day: np.ndarray
    account: np.ndarray
    owner: np.ndarray
    segment: np.ndarray
    region: np.ndarray
    type: np.ndarray
    source: np.ndarray
    closed: np.ndarray
    won: np.ndarray
    last_open: np.ndarray  # 1-4: the last open stage reached (the current one while open)
    amount: np.ndarray
    lead: np.ndarray  # lead index or -1
    history_rows: np.ndarray  # k, exact history rows per opportunity

    def __len__(self) -> int:
        return len(self.created_day)

    @property
    def stage(self) -> np.ndarray:
        """Current stage code into STAGES."""
        return np.where(self.closed, np.where(self.won, 4, 5), self.last_open - 1)


def make_opportunities(
    rng: np.random.Generator, n: int, accounts: Accounts, reps: Reps, lead_day_start: np.ndarray
) -> Opportunities:
    """``n`` opportunities over the window; lead-sourced ones are matched to distinct leads created 2-60
    days earlier (``lead_day_start[d]`` = index of the first lead created on day ``d``)."""
    per_day = allocate(n, seasonal_day_weights(weekend=0.08, growth_per_year=0.15))
    created = np.repeat(np.arange(N_DAYS), per_day)
    segment = choice(rng, OPP_SEGMENT_MIX, n)
    region = rng.integers(0, 2, n)
    pool = segment * 2 + region
    account = accounts.pick_created_by(rng, pool, created)
    typ = choice(rng, TYPE_MIX, n)
    owner_group = np.where((typ > 0) & (rng.random(n) < 0.7), 6 + region, pool)
    owner = pick_active(rng, reps.pools, owner_group, created, reps.hire_day, reps.end_day, reps.permanent)
    lead_sourced = (typ == 0) & (rng.random(n) < 0.7)
    source = np.where(typ > 0, EXISTING, np.where(lead_sourced, choice(rng, LEAD_SOURCE_MIX, n), AE_SOURCED))

    cycle = np.ceil(rng.lognormal(np.log(CYCLE_MEDIAN[segment]), 0.7)).astype("int64")
    close = created + cycle
    closed = close <= AS_OF_DAY
    win_p = np.where(typ == 0, WIN_RATE[segment], np.where(typ == 1, 0.45, 0.75))
    won = closed & (rng.random(n) < win_p)
    last_open = np.where(won, np.where(rng.random(n) < 0.85, 4, 3), 1 + choice(rng, (0.3, 0.3, 0.25, 0.15), n))
    progress = np.minimum((AS_OF_DAY - created) / np.maximum(cycle, 1), 0.999)
    last_open = np.where(closed, last_open, 1 + np.floor(progress * 4).astype("int64"))
    amount = ACV_MEDIAN[segment] * rng.lognormal(0.0, 0.6, n) * np.array([1.0, 0.5, 0.8])[typ]
    amount = np.maximum(np.round(amount, -2), 500.0)

    lead = _match_leads(rng, created, lead_sourced, lead_day_start)
    source = np.where(lead_sourced & (lead < 0), AE_SOURCED, source)
    return Opportunities(
        created_day=created, close_day=close, account=account, owner=owner, segment=segment, region=region,
        type=typ, source=source, closed=closed, won=won, last_open=last_open, amount=amount, lead=lead,
        history_rows=np.zeros(n, dtype="int64"),
    )


def _match_leads(rng: np.random.Generator, created: np.ndarray, wanted: np.ndarray, lead_day_start: np.ndarray) -> np.ndarray:
    """A distinct lead created 2-60 days before the opportunity for each wanted one; -1 where none is left."""
    n_leads = int(lead_day_start[-1])
    lead = np.full(len(created), -1, dtype="int64")
    lo = lead_day_start[np.clip(created - 60, 0, N_DAYS)]
    hi = lead_day_start[np.clip(created - 1, 0, N_DAYS)]
    todo = np.flatnonzero(wanted & (hi > lo))
    taken = np.zeros(n_leads, dtype=bool)
    for _ in range(12):
        if todo.size == 0:
            break
        cand = pick_from_ranges(rng, lo[todo], hi[todo])
        free = ~taken[cand]
        _, first = np.unique(cand, return_index=True)
        keep = np.zeros(todo.size, dtype=bool)
        keep[first] = True
        keep &= free
        lead[todo[keep]] = cand[keep]
        taken[cand[keep]] = True
        todo = todo[~keep]
    return lead


def assign_history_rows(rng: np.random.Generator, opps: Opportunities, total: int) -> None:
    """Set ``opps.history_rows`` so that they sum to exactly ``total``.

    Every opportunity gets its minimum (one row for an open deal still in Qualification, two otherwise:
    creation and the current or closing stage); the rest is spread in proportion to a natural path length
    (stages passed, plus a few amount or close-date changes, more for long cycles).
    """
    minimum = np.where(~opps.closed & (opps.last_open == 1), 1, 2)
    spare = total - int(minimum.sum())
    if spare < 0:
        raise ValueError(
            f"table 'opportunity_history': {total:,} rows cannot hold {len(opps):,} opportunities; "
            f"expected at least {int(minimum.sum()):,} (one or two rows per opportunity)"
        )
    days = np.where(opps.closed, opps.close_day, AS_OF_DAY) - opps.created_day
    natural = opps.last_open + opps.closed + rng.poisson(1.2 + days / 45.0)
    weight = (np.maximum(natural - minimum, 0) + 0.3) * rng.gamma(4.0, 0.25, len(opps))
    opps.history_rows = minimum + allocate(spare, weight)


def opportunities_chunk(opps: Opportunities, a: int, b: int, rng: np.random.Generator) -> dict[str, pa.Array]:
    """Rows ``[a, b)`` of the opportunities table."""
    m = b - a
    sl = slice(a, b)
    stage = opps.stage[sl]
    lost = opps.closed[sl] & ~opps.won[sl]
    return {
        "opportunity_id": opportunity_ids(np.arange(a, b)),
        "account_id": account_ids(opps.account[sl]),
        "owner_rep_id": rep_ids(opps.owner[sl]),
        "created_date": dates(opps.created_day[sl]),
        "close_date": dates(opps.close_day[sl]),
        "stage": labels(STAGES, stage),
        "is_closed": pa.array(opps.closed[sl], type=pa.bool_()),
        "is_won": pa.array(opps.won[sl], type=pa.bool_()),
        "amount": floats(opps.amount[sl]),
        "currency": labels(("USD",), np.zeros(m, dtype="int64")),
        "type": labels(TYPES, opps.type[sl]),
        "source": labels(SOURCES, opps.source[sl]),
        "lead_id": id_array("L", np.maximum(opps.lead[sl], 0) + 1, 8, opps.lead[sl] >= 0),
        "forecast_category": labels(FORECAST, STAGE_FORECAST[stage]),
        "loss_reason": labels(LOSS_REASONS, choice(rng, LOSS_MIX, m), lost),
        "product": labels(PRODUCTS, choice(rng, PRODUCT_MIX, m)),
    }


def history_chunk(opps: Opportunities, a: int, b: int, rng: np.random.Generator) -> dict[str, pa.Array]:
    """The history rows of opportunities ``[a, b)``, grouped by opportunity, in time order."""
    k = opps.history_rows[a:b]
    m = b - a
    g = np.repeat(np.arange(m), k)
    starts = np.concatenate(([0], np.cumsum(k)[:-1]))
    i = np.arange(len(g)) - starts[g]
    closed = opps.closed[a:b]
    p = opps.last_open[a:b]
    n_open = k - closed
    close_row = closed[g] & (i == k[g] - 1)
    last_open_row = i == n_open[g] - 1

    # stages: evenly spread from Qualification to the last open stage (skips when rows are few)
    c = rng.random(m)
    v = np.where(n_open[g] > 1, i / np.maximum(n_open[g] - 1, 1), 0.0)
    stage = np.minimum(1 + np.floor(v * (p[g] - 1) + c[g]).astype("int64"), p[g])
    skip = np.where((p >= 3) & (rng.random(m) < 0.15), 2 + (rng.random(m) * np.maximum(p - 2, 1)).astype("int64"), 0)
    stage = np.where((stage == skip[g]) & (skip[g] > 0), stage - 1, stage)
    prev = np.concatenate(([0], stage[:-1]))
    regress = (i > 0) & ~last_open_row & ~close_row & (prev >= 2) & (rng.random(len(g)) < 0.05)
    regress &= ~np.concatenate(([False], regress[:-1]))
    stage = np.where(regress, prev - 1, stage)
    stage = np.where(close_row, np.where(opps.won[a:b][g], 5, 6), stage)
    prev = np.concatenate(([0], stage[:-1]))

    # changes: a same-stage row changes the amount and/or pushes the close date
    same = (i > 0) & (stage == prev) & ~close_row
    moved = (i > 0) & (stage != prev) & ~close_row
    r = rng.random(len(g))
    amount_change = (same & (r < 0.6)) | (moved & (r < 0.1))
    push = (same & (r >= 0.4)) | (moved & (r > 0.85))
    f = np.where(amount_change, rng.uniform(0.08, 0.3, len(g)) * np.where(rng.random(len(g)) < 0.6, 1, -1), 0.0)
    after_f = np.add.reduceat(f, starts)[g] - group_cumsum(f, starts, g)  # log change still to come
    amount = np.maximum(np.round(opps.amount[a:b][g] * np.exp(-after_f), -2), 100.0)
    pushes = np.where(push, rng.integers(7, 46, len(g)), 0)
    after_push = np.add.reduceat(pushes, starts)[g] - group_cumsum(pushes, starts, g)
    created = opps.created_day[a:b]
    close_date = np.maximum(opps.close_day[a:b][g] - after_push, created[g])

    # times: creation at 08-12h, closing at 14-22h of the close day, the rest strictly in between
    t0 = created * 86_400 + rng.integers(8 * 3600, 12 * 3600, m)
    t_end = np.where(closed, opps.close_day[a:b] * 86_400 + rng.integers(14 * 3600, 22 * 3600, m), AS_OF_SECOND + 1)
    e = rng.exponential(1.0, len(g))
    inner = (i > 0) & ~close_row
    e = np.where(inner, e, 0.0)
    cum = group_cumsum(e, starts, g)
    tot = np.add.reduceat(e, starts) + rng.exponential(1.0, m)
    u = cum / tot[g]
    span = t_end - t0 - k
    t = t0[g] + i + np.floor(u * span[g]).astype("int64")
    t = np.where(close_row, t_end[g], t)

    return {
        "opportunity_id": opportunity_ids(a + g),
        "changed_at": timestamps(t),
        "stage": labels(STAGES, stage - 1),
        "amount": floats(amount),
        "close_date": dates(close_date),
        "forecast_category": labels(FORECAST, STAGE_FORECAST[stage - 1]),
    }
