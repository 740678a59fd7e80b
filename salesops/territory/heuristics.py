"""The numeric steps of territory design around the solver: rounding the LP's fractional groups, warm starts
from the current assignment, repair of balance and of moves, and the score that picks between candidates
(:func:`salesops.territory.design.design_territories` calls them)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _classes(x: np.ndarray, bins: int) -> np.ndarray:
    """Quantile class (0..bins-1) of each value, on the log scale."""
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64)
    r = pd.Series(np.log1p(x)).rank(method="first").to_numpy()
    return np.minimum((r - 1) * bins // len(x), bins - 1).astype(np.int64)


def _repair(assign: np.ndarray, bucket_idx: np.ndarray, cur: np.ndarray, vals: np.ndarray, mu: np.ndarray,
            terr_bucket: np.ndarray, cap: np.ndarray | None, tol: float, budget: float | None,
            max_iter: int = 20000) -> np.ndarray:
    """Single moves and swaps that shrink deviations beyond ``0.98 * tol`` without breaking budget or capacity."""
    T, K = mu.shape
    tau = 0.98 * tol
    safe_mu = np.where(mu > 0, mu, 1.0)
    load = np.zeros((T, K))
    for k in range(K):
        load[:, k] = np.bincount(assign, vals[:, k], minlength=T)
    count = np.bincount(assign, minlength=T).astype(float)
    moved = int(((cur >= 0) & (assign != cur)).sum())
    limit = np.inf if budget is None else budget

    def pen(r: np.ndarray) -> np.ndarray:
        return np.maximum(np.abs(r) - tau, 0.0) ** 2

    for _ in range(max_iter):
        r = load / safe_mu - 1.0
        viol = pen(r).sum(axis=1)
        t_star = int(np.argmax(viol))
        if viol[t_star] <= 0:
            break
        same = np.flatnonzero(terr_bucket == terr_bucket[t_star])
        others = same[same != t_star]
        if others.size == 0:
            break
        best = (0.0, None)
        # single moves out of t_star (to every other territory) and into t_star (from every other territory)
        a_out = np.flatnonzero(assign == t_star)
        a_in = np.flatnonzero((bucket_idx == terr_bucket[t_star]) & (assign != t_star))
        for src_acc, direction in ((a_out, "out"), (a_in, "in")):
            if src_acc.size == 0:
                continue
            if direction == "out":
                s = np.full(src_acc.size, t_star)[:, None].repeat(others.size, 1)
                u = np.broadcast_to(others, s.shape)
                acc = np.broadcast_to(src_acc[:, None], s.shape)
            else:
                s = assign[src_acc][:, None]
                u = np.full_like(s, t_star)
                acc = src_acc[:, None]
            v = vals[acc]  # (..., K)
            rs_new = (load[s] - v) / safe_mu[s] - 1.0
            ru_new = (load[u] + v) / safe_mu[u] - 1.0
            delta = (pen(rs_new).sum(-1) + pen(ru_new).sum(-1)) - (pen(r[s]).sum(-1) + pen(r[u]).sum(-1))
            dmove = ((cur[acc] >= 0) & (u != cur[acc])).astype(int) - ((cur[acc] >= 0) & (s != cur[acc])).astype(int)
            ok = moved + dmove <= limit
            if cap is not None:
                ok &= count[u] + 1 <= cap[u]
            score = np.where(ok, delta + 1e-9 * dmove, np.inf)
            j = np.unravel_index(np.argmin(score), score.shape)
            if score[j] < best[0] - 1e-15:
                best = (float(score[j]), ("move", int(np.broadcast_to(acc, s.shape)[j]), int(s[j]), int(u[j]),
                                          int(dmove[j])))
        if best[1] is None:
            # swaps between t_star and each other territory of the bucket
            a_t = np.flatnonzero(assign == t_star)
            for u_t in others:
                b_u = np.flatnonzero(assign == u_t)
                if a_t.size == 0 or b_u.size == 0:
                    continue
                diff = vals[a_t][:, None, :] - vals[b_u][None, :, :]  # leaves t_star, enters u
                rs_new = (load[t_star] - diff) / safe_mu[t_star] - 1.0
                ru_new = (load[u_t] + diff) / safe_mu[u_t] - 1.0
                delta = pen(rs_new).sum(-1) + pen(ru_new).sum(-1) - pen(r[t_star]).sum() - pen(r[u_t]).sum()
                ca, cb = cur[a_t][:, None], cur[b_u][None, :]
                dmove = (((ca >= 0) & (ca != u_t)).astype(int) - ((ca >= 0) & (ca != t_star)).astype(int)
                         + ((cb >= 0) & (cb != t_star)).astype(int) - ((cb >= 0) & (cb != u_t)).astype(int))
                score = np.where(moved + dmove <= limit, delta + 1e-9 * dmove, np.inf)
                j = np.unravel_index(np.argmin(score), score.shape)
                if score[j] < best[0] - 1e-15:
                    best = (float(score[j]), ("swap", int(a_t[j[0]]), int(b_u[j[1]]), int(u_t), int(dmove[j])))
        if best[1] is None:
            break
        kind, a, x, y, dm = best[1]
        if kind == "move":
            assign[a] = y
            load[x] -= vals[a]
            load[y] += vals[a]
            count[x] -= 1
            count[y] += 1
        else:
            b, u_t = x, y
            assign[a], assign[b] = u_t, t_star
            load[t_star] += vals[b] - vals[a]
            load[u_t] += vals[a] - vals[b]
        moved += dm
    return _undo_moves(assign, cur, vals, safe_mu, load, count, cap, tau)


def _undo_moves(assign: np.ndarray, cur: np.ndarray, vals: np.ndarray, mu: np.ndarray, load: np.ndarray,
                count: np.ndarray, cap: np.ndarray | None, tau: float, rounds: int = 3) -> np.ndarray:
    """Send moved accounts back to their current territory, singly or by swapping two movers back, whenever
    every value of both territories stays within ``tau``: fewer moves, balance kept."""
    def ok(t: int, new_load: np.ndarray) -> bool:
        return bool(np.all(np.abs(new_load / mu[t] - 1.0) <= tau))

    for _ in range(rounds):
        changed = False
        movers = np.flatnonzero((cur >= 0) & (assign != cur))
        # smallest accounts first: they disturb the balance least
        movers = movers[np.argsort((vals[movers] / mu.mean(axis=0)).sum(axis=1), kind="stable")]
        for a in movers:
            s, u = assign[a], cur[a]
            if s == u or (cap is not None and count[u] + 1 > cap[u]):
                continue
            if ok(s, load[s] - vals[a]) and ok(u, load[u] + vals[a]):
                load[s] -= vals[a]
                load[u] += vals[a]
                count[s] -= 1
                count[u] += 1
                assign[a] = u
                changed = True
        # pairs of movers that sit in each other's home territory: swap both back
        movers = np.flatnonzero((cur >= 0) & (assign != cur))
        home = {}
        for a in movers:
            home.setdefault((int(cur[a]), int(assign[a])), []).append(a)
        for (h, at), group in home.items():
            back = home.get((at, h), [])
            for a, b in zip(group, back):
                if assign[a] != at or assign[b] != h:
                    continue
                d = vals[a] - vals[b]  # a returns to h, b returns to at
                if ok(h, load[h] + d) and ok(at, load[at] - d):
                    load[h] += d
                    load[at] -= d
                    assign[a], assign[b] = h, at
                    changed = True
        if not changed:
            break
    return assign


def _warm_start(bucket_idx: np.ndarray, cur: np.ndarray, vals: np.ndarray, mu: np.ndarray,
                terr_bucket: np.ndarray, cap: np.ndarray | None) -> np.ndarray:
    r"""The current assignment, with the accounts that have no current territory dealt out largest first.

    An account with a current territory keeps it. The others, in decreasing order of their normalised size
    :math:`\sum_k v_{ka} / \bar\mu_k`, each go to the territory of their bucket with the smallest normalised
    load :math:`\sum_k L_{kt} / \mu_{kt}` that has room (capacity overflows of the current assignment are left to
    :func:`_finish`). No account moves, so the disruption is zero before the repair.
    """
    T, K = mu.shape
    safe = np.where(mu > 0, mu, 1.0)
    assign = cur.copy()
    owned = cur >= 0
    load = np.stack([np.bincount(cur[owned], vals[owned, k], minlength=T) for k in range(K)], axis=1) / safe
    total = load.sum(axis=1)
    count = np.bincount(cur[owned], minlength=T).astype(float)
    room = np.full(T, np.inf) if cap is None else cap.astype(float)
    per_bucket = [np.flatnonzero(terr_bucket == b) for b in range(int(terr_bucket.max()) + 1)]
    free = np.flatnonzero(~owned)
    size = (vals[free] / np.where(mu.mean(axis=0) > 0, mu.mean(axis=0), 1.0)).sum(axis=1)
    for a in free[np.argsort(-size, kind="stable")]:
        ts = per_bucket[bucket_idx[a]]
        open_ = count[ts] < room[ts]
        j = int(ts[np.argmin(np.where(open_, total[ts], np.inf))] if open_.any() else ts[np.argmin(count[ts])])
        assign[a] = j
        total[j] += float((vals[a] / safe[j]).sum())
        count[j] += 1
    return assign


def _round_groups(x: np.ndarray, vg: np.ndarray, vt: np.ndarray, n_g: np.ndarray, gc: np.ndarray) -> np.ndarray:
    """Integer counts per (group, territory) from the relaxation: floors, then the largest remainders (staying
    in the current territory first), so each group's counts add up to its size."""
    y = np.floor(x + 1e-9).astype(np.int64)
    frac = x - y
    frac = frac + np.where(vt == gc[vg], 1.0, 0.0)  # stay first
    short = n_g - np.bincount(vg, y, minlength=len(n_g)).astype(np.int64)
    order = np.lexsort((-frac, vg))
    pos = np.searchsorted(vg[order], np.arange(len(n_g)))
    for g in np.flatnonzero(short > 0):
        idx = order[pos[g]:pos[g] + short[g]]
        y[idx] += 1
    return y


def _score(assign: np.ndarray, cur: np.ndarray, vals: np.ndarray, mu: np.ndarray, tol: float | None) -> tuple:
    """(largest deviation beyond the tolerance, moved accounts, largest deviation): smaller is better."""
    T, K = mu.shape
    load = np.stack([np.bincount(assign, vals[:, k], minlength=T) for k in range(K)], axis=1)
    dev = float(np.abs(load / np.where(mu > 0, mu, 1.0) - 1.0).max())
    moved = int(((cur >= 0) & (assign != cur)).sum())
    return (max(dev - (tol if tol is not None else np.inf), 0.0), moved, dev)


def _finish(assign: np.ndarray, bucket_idx: np.ndarray, cur: np.ndarray, vals: np.ndarray, mu: np.ndarray,
            terr_bucket: np.ndarray, cap: np.ndarray | None, tol: float | None, budget: float | None) -> np.ndarray:
    """Fix capacity overflows left by rounding (move the accounts nearest the mean to the emptiest territory with
    room), then repair the balance."""
    T = len(mu)
    if cap is not None:
        count = np.bincount(assign, minlength=T).astype(float)
        for t in np.flatnonzero(count > cap):
            same = np.flatnonzero((terr_bucket == terr_bucket[t]) & (np.arange(T) != t))
            members = np.flatnonzero(assign == t)
            members = members[np.argsort(np.abs(vals[members, 0] - vals[members, 0].mean()), kind="stable")]
            for a in members[: int(count[t] - cap[t])]:
                room = same[count[same] < cap[same]]
                if room.size == 0:
                    break
                u = room[np.argmin(count[room] / cap[room])]
                assign[a] = u
                count[u] += 1
                count[t] -= 1
    if tol is not None:
        assign = _repair(assign, bucket_idx, cur, vals, mu, terr_bucket, cap, tol, budget)
    return assign


def _split_groups(group_of: np.ndarray, vals: np.ndarray, mu: np.ndarray, vg: np.ndarray, vt: np.ndarray,
                  y: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Accounts of each group to territories by the MILP's counts; movers are the accounts nearest the mean."""
    N = len(group_of)
    assign = np.full(N, -1, dtype=np.int64)
    scale = np.where(mu.mean(axis=0) > 0, mu.mean(axis=0), 1.0)
    order = np.argsort(group_of, kind="stable")
    starts = np.searchsorted(group_of[order], np.arange(group_of.max() + 1))
    ends = np.append(starts[1:], N)
    by_group: dict[int, list[tuple[int, int]]] = {}
    for g, t, k in zip(vg, vt, y):
        if k > 0:
            by_group.setdefault(int(g), []).append((int(t), int(k)))
    for g, parts in by_group.items():
        members = order[starts[g]:ends[g]]
        c = cur[members[0]]
        if c < 0:  # no current territory: deal the accounts out so every part gets a like mix
            members = members[np.argsort(-vals[members, 0], kind="stable")]
            targets = np.array([t for t, _ in parts])
            quota = np.array([k for _, k in parts], dtype=float)
            given = np.zeros(len(parts))
            for a in members:
                j = int(np.argmax((quota - given) / quota))
                assign[a] = targets[j]
                given[j] += 1
            continue
        mean = vals[members].mean(axis=0)
        dist = (np.abs(vals[members] - mean) / scale).sum(axis=1)
        members = members[np.argsort(dist, kind="stable")]
        stay = [k for t, k in parts if t == c]
        movers = [(t, k) for t, k in parts if t != c]
        pos = 0
        for t, k in movers:
            assign[members[pos:pos + k]] = t
            pos += k
        if stay:
            assign[members[pos:pos + stay[0]]] = c
            pos += stay[0]
        assert pos == len(members), "group counts do not add up"
    return assign
