"""Monthly recurring revenue for the big-data generator.

Each customer has one run of consecutive months: accounts with a won deal start the month after their
first win, and customers from before 2023 (accounts created earlier) start in January 2023. A run ends
at churn (monthly hazard SMB 2.5%, Mid-Market 1.2%, Enterprise 0.6%) or in December 2025. Run lengths
are then fitted to the exact row count: shortened in proportion, or extended with more earlier
customers (and, if still short, towards December 2025).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .large_deals import ACV_MEDIAN, Opportunities
from .large_people import Accounts, account_ids
from .large_util import N_MONTHS, allocate, dates, floats, month_index, month_start_day

CHURN_HAZARD = np.array([0.025, 0.012, 0.006])


def revenue_runs(
    rng: np.random.Generator, total: int, accounts: Accounts, opps: Opportunities
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Customers (account index, sorted), first month, number of months and MRR; months sum to ``total``."""
    n_acc = len(accounts)
    never = np.iinfo("int64").max
    first_win = np.full(n_acc, never, dtype="int64")
    won = np.flatnonzero(opps.won)
    np.minimum.at(first_win, opps.account[won], opps.close_day[won])
    acv = np.zeros(n_acc)
    acv[opps.account[won]] = opps.amount[won]
    has_win = first_win < never
    start = np.where(has_win, month_index(np.where(has_win, first_win, 0)) + 1, 0)
    winners = np.flatnonzero(has_win & (start < N_MONTHS))
    earlier = np.flatnonzero(~has_win & (accounts.created_day < 0))
    earlier = earlier[rng.permutation(earlier.size)]

    def natural(idx: np.ndarray, first: np.ndarray) -> np.ndarray:
        life = rng.geometric(CHURN_HAZARD[accounts.segment[idx]])
        return np.minimum(life, N_MONTHS - first)

    w_start = start[winners]
    w_len = natural(winners, w_start)
    if w_len.sum() >= total:
        if winners.size > total:
            keep = np.sort(rng.permutation(winners.size)[:total])
            winners, w_start, w_len = winners[keep], w_start[keep], np.ones(total, dtype="int64")
        else:
            w_len = 1 + allocate(total - winners.size, (w_len - 1).astype(float) + 1e-9)
        cust, first, length = winners, w_start, w_len
    else:
        e_len = natural(earlier, np.zeros(earlier.size, dtype="int64"))
        need = total - int(w_len.sum())
        cs = np.cumsum(e_len)
        if cs.size and cs[-1] >= need:
            j = int(np.searchsorted(cs, need))
            e_len = e_len[: j + 1].copy()
            e_len[-1] = need - (cs[j - 1] if j else 0)
            earlier = earlier[: j + 1]
        cust = np.concatenate([winners, earlier])
        first = np.concatenate([w_start, np.zeros(earlier.size, dtype="int64")])
        length = np.concatenate([w_len, e_len]).astype("int64")
        short = total - int(length.sum())
        if short > 0:  # every candidate used: lengthen runs towards December 2025
            room = N_MONTHS - first - length
            if room.sum() < short:
                raise ValueError(
                    f"table 'revenue': {total:,} rows exceed what {len(accounts):,} accounts can hold "
                    f"({int(length.sum() + room.sum()):,} customer-months); expected fewer rows or more accounts"
                )
            cum = np.cumsum(room)
            j = int(np.searchsorted(cum, short))
            add = room.copy()
            add[j + 1 :] = 0
            add[j] = short - (cum[j - 1] if j else 0)
            length = length + add
    order = np.argsort(cust, kind="stable")
    cust, first, length = cust[order], first[order], length[order]
    base = np.where(acv[cust] > 0, acv[cust], ACV_MEDIAN[accounts.segment[cust]] * rng.lognormal(0, 0.6, cust.size))
    mrr = np.round(base / 12.0, 2)
    return cust, first, length, mrr


def revenue_chunk(cust: np.ndarray, first: np.ndarray, length: np.ndarray, mrr: np.ndarray) -> dict[str, pa.Array]:
    """The monthly rows of a slice of customers."""
    g = np.repeat(np.arange(cust.size), length)
    starts = np.concatenate(([0], np.cumsum(length)[:-1]))
    month = first[g] + np.arange(g.size) - starts[g]
    return {
        "account_id": account_ids(cust[g]),
        "month": dates(month_start_day(month)),
        "mrr": floats(mrr[g]),
    }
