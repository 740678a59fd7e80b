"""Lead routing rules engine: who gets each lead, and which rule decided it.

Rules come from a YAML file (``templates/routing.yaml`` is a documented example) or the same structure as a
dict. They are read top to bottom; the first rule that matches a lead *and can place it* fires:

``account_owner``
    the owner of the lead's account, when that owner is employed at the lead's time (and, optionally, has
    one of ``roles`` and is available on a ``calendar``);
``pool``
    weighted round robin among the pool's members who are available at the lead's time (working hours,
    holidays, leave, employment) and still under their daily cap. A lead that arrives when nobody is
    working waits for the next member to start (``when_unavailable: wait``, the default) or goes on to the
    next rule (``next_rule``). When every available member is capped, the lead goes on to the next rule;
``owner``
    a fixed owner (a queue, a named-account rep).

Leads no rule places go to ``fallback``; without one, :class:`UnroutableLeadError` names them. Malformed rules
raise :class:`RoutingRuleError` naming the rule (or pool, calendar) and what is wrong.

Weighted round robin is stride scheduling: member :math:`i` with weight :math:`w_i` has a pass value
:math:`p_i` and stride :math:`1 / w_i`; each lead goes to the available member with the smallest pass (ties:
member order), whose pass then grows by its stride. Over any stretch where the same members are available,
member :math:`i` receives :math:`w_i / \\sum_{j \\in S} w_j` of the leads, to within one lead. A member who
comes back (shift start, end of leave, cap reset) starts at the current pass level, so nobody receives a
catch-up burst. The engine works on blocks of consecutive leads with the same available members, in numpy,
and is deterministic: the same leads, reps and rules give the same owners (ties in ``created_at`` keep the
input order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesops.leads._common import MissingDataError
from salesops.leads.routing_rules import (
    Calendar,
    Member,
    Pool,
    RoutingRuleError,
    RoutingRules,
    Rule,
    UnroutableLeadError,
    load_rules,
)
from salesops.territory.buckets import RuleError, assign_buckets, condition_mask

__all__ = [
    "Calendar",
    "Member",
    "Pool",
    "Rule",
    "RoutingRuleError",
    "RoutingRules",
    "UnroutableLeadError",
    "load_rules",
    "pool_load",
    "route",
]

_NS_PER_HOUR = 3_600_000_000_000
_NS_PER_DAY = 24 * _NS_PER_HOUR
_NEVER = np.iinfo(np.int64).max


# --- availability ------------------------------------------------------------------------------------------------


def _ns(values: Any) -> np.ndarray:
    """UTC nanoseconds of timestamps (naive ones are taken as UTC)."""
    idx = pd.DatetimeIndex(values)
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
    return idx.tz_convert("UTC").as_unit("ns").asi8


def _calendar_intervals(cal: Calendar | None, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray]:
    """Working intervals [start, end) in UTC ns covering [t0, t1]."""
    if cal is None or cal.always:
        return np.array([t0 - _NS_PER_DAY], dtype=np.int64), np.array([t1 + _NS_PER_DAY], dtype=np.int64)
    tz = cal.timezone
    first = pd.Timestamp(t0, tz="UTC").tz_convert(tz).normalize().tz_localize(None) - pd.Timedelta(days=2)
    last = pd.Timestamp(t1, tz="UTC").tz_convert(tz).normalize().tz_localize(None) + pd.Timedelta(days=2)
    days = pd.date_range(first, last, freq="D")
    keep = np.isin(days.dayofweek, cal.days)
    off = set(cal.holidays)
    for public in cal.public_holidays:
        off |= {d.date() for d in public.holidays(first, last)}
    if off:
        keep &= ~np.isin(days.date, list(off))
    days = days[keep]
    start_off = pd.Timedelta(hours=cal.start.hour, minutes=cal.start.minute)
    end_off = pd.Timedelta(hours=cal.end.hour, minutes=cal.end.minute)
    if cal.end <= cal.start:
        end_off += pd.Timedelta(days=1)
    starts = (days + start_off).tz_localize(tz, ambiguous=np.zeros(len(days), bool), nonexistent="shift_forward")
    ends = (days + end_off).tz_localize(tz, ambiguous=np.zeros(len(days), bool), nonexistent="shift_forward")
    return starts.tz_convert("UTC").asi8.copy(), ends.tz_convert("UTC").asi8.copy()


def _clip(starts: np.ndarray, ends: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    s, e = np.maximum(starts, lo), np.minimum(ends, hi)
    keep = s < e
    return s[keep], e[keep]


def _subtract(starts: np.ndarray, ends: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Remove [lo, hi) from sorted, disjoint intervals."""
    left_s, left_e = _clip(starts, ends, np.iinfo(np.int64).min, lo)
    right_s, right_e = _clip(starts, ends, hi, _NEVER)
    return np.concatenate([left_s, right_s]), np.concatenate([left_e, right_e])


def _availability(t: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(available at t, next moment of availability >= t, _NEVER when none)."""
    if len(ends) == 0:
        return np.zeros(len(t), bool), np.full(len(t), _NEVER, dtype=np.int64)
    idx = np.searchsorted(ends, t, side="right")
    inside = idx < len(ends)
    nxt = np.where(inside, starts[np.minimum(idx, len(ends) - 1)], _NEVER)
    avail = inside & (nxt <= t)
    return avail, np.where(avail, t, nxt)


@dataclass
class _RepBook:
    """Employment and leave per rep, in UTC ns."""

    ids: set[str]
    role: dict[str, str]
    hired: dict[str, int]
    left: dict[str, int]
    leave: dict[str, list[tuple[int, int]]]

    def intervals(self, rep: str, cal: Calendar | None, t0: int, t1: int, cache: dict) -> tuple[np.ndarray, np.ndarray]:
        key = (cal.name if cal else None, t0, t1)
        if key not in cache:
            cache[key] = _calendar_intervals(cal, t0, t1)
        s, e = cache[key]
        s, e = _clip(s, e, self.hired.get(rep, np.iinfo(np.int64).min), self.left.get(rep, _NEVER))
        for lo, hi in self.leave.get(rep, []):
            s, e = _subtract(s, e, lo, hi)
        return s, e


def _rep_book(reps: pd.DataFrame, leave: pd.DataFrame | None, rules: RoutingRules) -> _RepBook:
    if reps is None or "rep_id" not in reps.columns:
        raise MissingDataError("the reps table (with rep_id) is missing; routing needs it")
    ids = reps["rep_id"].astype(str)
    role = dict(zip(ids, reps["role"].astype(str))) if "role" in reps.columns else {}
    hired, left = {}, {}
    if "hire_date" in reps.columns:
        h = reps["hire_date"].notna()
        hired = dict(zip(ids[h], _ns(reps.loc[h, "hire_date"])))
    if "end_date" in reps.columns:
        e = reps["end_date"].notna()
        # employed through end_date (inclusive)
        left = dict(zip(ids[e], _ns(reps.loc[e, "end_date"]) + _NS_PER_DAY))
    periods: dict[str, list[tuple[int, int]]] = {}
    rows = [(r, a, b) for r, a, b in rules.leave]
    if leave is not None:
        missing = {"rep_id", "start", "end"} - set(leave.columns)
        if missing:
            raise ValueError(f"the leave table lacks column(s) {', '.join(sorted(missing))} (rep_id, start, end)")
        rows += list(zip(leave["rep_id"].astype(str), leave["start"], leave["end"]))
    for r, a, b in rows:
        lo = int(_ns([pd.Timestamp(a)])[0])
        hi = int(_ns([pd.Timestamp(b)])[0])
        if pd.Timestamp(b) == pd.Timestamp(b).normalize():  # a date: the whole day is off
            hi += _NS_PER_DAY
        periods.setdefault(r, []).append((lo, hi))
    return _RepBook(set(ids), role, hired, left, periods)


# --- weighted round robin ---------------------------------------------------------------------------------------


def _local_day(t: np.ndarray, tz: str) -> np.ndarray:
    if tz == "UTC":
        return t // _NS_PER_DAY
    local = pd.DatetimeIndex(t, tz="UTC").tz_convert(tz).tz_localize(None).asi8
    return local // _NS_PER_DAY


def _allocate(t: np.ndarray, intervals: list[tuple[np.ndarray, np.ndarray]], weights: np.ndarray,
              caps: np.ndarray, tz: str, wait: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Assign leads at times ``t`` (sorted) to members; returns (member or -1, effective time, expected counts)."""
    n, m = len(t), len(weights)
    member = np.full(n, -1, dtype=np.int64)
    expected = np.zeros(m)
    if n == 0 or m == 0:
        return member, t.copy(), expected
    # availability of every member as bit words (62 members per int64 word), built member by member
    nwords = (m + 61) // 62
    words = np.zeros((nwords, n), dtype=np.int64)
    first_next = np.full(n, _NEVER, dtype=np.int64)
    for j, (s, e) in enumerate(intervals):
        a, nx = _availability(t, s, e)
        words[j // 62] |= a.astype(np.int64) << (j % 62)
        np.minimum(first_next, nx, out=first_next)
    t_eff = t.copy()
    if wait:
        later = np.flatnonzero((words == 0).all(axis=0) & (first_next != _NEVER))
        if later.size:
            t_eff[later] = first_next[later]
            for j, (s, e) in enumerate(intervals):
                a = _availability(t_eff[later], s, e)[0]
                words[j // 62, later] |= a.astype(np.int64) << (j % 62)
    placeable = (words != 0).any(axis=0)
    order = np.argsort(t_eff, kind="stable")
    order = order[placeable[order]]
    if order.size == 0:
        return member, t_eff, expected
    words = words[:, order]
    day = _local_day(t_eff[order], tz)
    changed = np.diff(day) != 0
    for w in words:
        changed |= np.diff(w) != 0
    bounds = np.concatenate([[0], np.flatnonzero(changed) + 1, [order.size]])
    shifts = np.arange(m, dtype=np.int64) % 62
    word_of = np.arange(m) // 62

    stride = 1.0 / weights
    passes = np.zeros(m)
    vt = 0.0
    used = np.zeros(m, dtype=np.int64)
    capped = np.zeros(m, dtype=bool)
    big = np.iinfo(np.int64).max // 4
    cap_left_all = np.where(caps >= 0, caps, big)
    cur_day = None
    ranks = np.arange(m)
    out = np.full(order.size, -1, dtype=np.int64)
    for b in range(len(bounds) - 1):
        b0, b1 = bounds[b], bounds[b + 1]
        if day[b0] != cur_day:
            cur_day = day[b0]
            used[:] = 0
            capped[:] = cap_left_all == 0
        active = ((words[word_of, b0] >> shifts) & 1).astype(bool) & ~capped
        pos = b0
        while pos < b1:
            S = np.flatnonzero(active)
            if S.size == 0:
                break
            p = np.maximum(passes[S], vt)
            passes[S] = p
            L = b1 - pos
            w = weights[S]
            W = w.sum()
            rem = cap_left_all[S] - used[S]
            k_need = np.floor((p.max() + L / W - p) * w).astype(np.int64) + 1
            k = np.minimum(k_need, rem + 1)
            cand_member = np.repeat(np.arange(S.size), k)
            starts = np.repeat(np.cumsum(k) - k, k)
            cand_k = np.arange(cand_member.size) - starts
            values = p[cand_member] + cand_k * stride[S][cand_member]
            pick = np.lexsort((ranks[S][cand_member], values))[:L]
            pm, pk = cand_member[pick], cand_k[pick]
            over = pk >= rem[pm]
            q = int(np.argmax(over)) if over.any() else pick.size
            if q:
                out[pos:pos + q] = S[pm[:q]]
                counts = np.bincount(pm[:q], minlength=S.size)
                passes[S] += counts * stride[S]
                used[S] += counts
                vt = float(values[pick[q - 1]])
                expected[S] += q * w / W
            newly = used[S] >= cap_left_all[S]
            capped[S[newly]] = True
            active[S[newly]] = False
            pos += q
            if q == 0 and not newly.any():  # cannot happen; guard against an endless loop
                break
    member[order] = out
    return member, t_eff, expected


# --- routing ---------------------------------------------------------------------------------------------------


def _lead_frame(leads: pd.DataFrame, accounts: pd.DataFrame | None, rules: RoutingRules) -> pd.DataFrame:
    if leads is None:
        raise MissingDataError("the leads table is missing; routing needs it")
    missing = [c for c in ("lead_id", "created_at") if c not in leads.columns]
    if missing:
        raise MissingDataError(f"leads lack column(s) {', '.join(missing)}; routing needs them")
    frame = leads.reset_index(drop=True)
    needs_owner = any(r.kind == "account_owner" for r in rules.rules)
    if accounts is not None:
        if "account_id" not in accounts.columns:
            raise MissingDataError("the accounts table lacks account_id; routing matches leads to accounts by it")
        if "account_id" not in frame.columns:
            raise MissingDataError("leads lack account_id, so accounts cannot be matched to them")
        acc = accounts.drop_duplicates("account_id").set_index("account_id")
        extra = {}
        for col in rules.account_columns:
            if col not in acc.columns:
                raise RoutingRuleError(f"account_columns: the accounts table has no column {col!r}")
            extra[f"account_{col}"] = frame["account_id"].map(acc[col])
        if "owner_rep_id" in acc.columns:
            extra["account_owner"] = frame["account_id"].map(acc["owner_rep_id"])
        frame = frame.assign(**extra)
    elif rules.account_columns:
        raise MissingDataError(f"account_columns {list(rules.account_columns)} need the accounts table, which is missing")
    if needs_owner and "account_owner" not in frame.columns:
        rule = next(r.name for r in rules.rules if r.kind == "account_owner")
        raise MissingDataError(f"rule {rule!r} (account_owner) needs the accounts table with owner_rep_id, which is "
                               "missing")
    for col, brules in rules.derive.items():
        try:
            frame[col] = assign_buckets(frame, brules, context=f"derive {col!r}").to_numpy()
        except RuleError as exc:
            raise RoutingRuleError(str(exc)) from None
    return frame


def _members(pool: Pool, reps: pd.DataFrame, book: _RepBook) -> list[Member]:
    members: dict[str, Member] = {}
    if pool.select:
        try:
            hit = condition_mask(reps, pool.select, f"pool {pool.name!r}, select")
        except RuleError as exc:
            raise RoutingRuleError(str(exc)) from None
        for rid in reps.loc[hit, "rep_id"].astype(str):
            members[rid] = Member(rid)
    for mem in pool.members:
        if mem.rep_id not in book.ids:
            raise RoutingRuleError(f"pool {pool.name!r}: member {mem.rep_id!r} is not in the reps table")
        members[mem.rep_id] = mem
    if not members:
        raise RoutingRuleError(f"pool {pool.name!r}: select {dict(pool.select or {})} matches no rep")
    return list(members.values())


def route(leads: pd.DataFrame, reps: pd.DataFrame, rules: Any, accounts: pd.DataFrame | None = None,
          leave: pd.DataFrame | None = None) -> pd.DataFrame:
    """Route leads to owners by the rules; deterministic for the same inputs.

    Each lead goes through the rules in order (see the module docstring); a pool places the leads that match
    its rule in order of arrival by weighted round robin among the members available at that moment and under
    their daily cap (a member's day is the local day of the member's calendar, else of ``timezone``).

    Parameters
    ----------
    leads : DataFrame
        ``lead_id``, ``created_at`` and the columns the rules test (``account_id`` to match accounts).
    reps : DataFrame
        Canonical ``reps`` (``rep_id``; ``role``, ``hire_date``, ``end_date`` and other columns that pool ``select``
        conditions test).
    rules : RoutingRules, dict, YAML text or path
        See :func:`load_rules`.
    accounts : DataFrame, optional
        Canonical ``accounts``: owner (``account_owner``) and ``account_columns`` for the rules.
    leave : DataFrame, optional
        ``rep_id, start, end``: leave periods (a date ``end`` is inclusive).

    Returns
    -------
    DataFrame
        In the leads' order: ``lead_id, owner_rep_id, rule, pool, routed_at, wait_hours`` (``routed_at`` is when
        the owner can take the lead: its creation, or the start of the next shift for a lead that waited).
        ``attrs["expected_leads"]`` maps ``(pool, rep_id)`` to the leads the member would receive if each lead were
        split among the members available for it in proportion to their weights (the share targets).

    Raises
    ------
    RoutingRuleError
        Malformed rules, unknown reps in pools, conditions on missing columns.
    UnroutableLeadError
        Leads no rule places when there is no fallback owner.
    """
    rules = load_rules(rules)
    frame = _lead_frame(leads, accounts, rules)
    book = _rep_book(reps, leave, rules)
    t = _ns(frame["created_at"])
    if len(t) and (pd.isna(frame["created_at"]).any()):
        bad = frame.loc[frame["created_at"].isna(), "lead_id"].head(5).tolist()
        raise ValueError(f"leads without created_at cannot be routed: {bad}")
    n = len(frame)
    owner = np.full(n, None, dtype=object)
    fired = np.full(n, None, dtype=object)
    pool_of = np.full(n, None, dtype=object)
    routed = t.copy()
    open_ = np.ones(n, dtype=bool)
    matched_any = np.zeros(n, dtype=bool)
    t0 = int(t.min()) if n else 0
    t1 = int(t.max()) + 60 * _NS_PER_DAY if n else 0
    cache: dict = {}
    expected: dict[tuple[str, str], float] = {}
    for rule in rules.rules:
        if not open_.any():
            break
        idx = np.flatnonzero(open_)
        try:
            hit = condition_mask(frame.iloc[idx], rule.when, f"rule {rule.name!r}")
        except RuleError as exc:
            raise RoutingRuleError(str(exc)) from None
        idx = idx[hit]
        if idx.size == 0:
            continue
        matched_any[idx] = True
        if rule.kind == "owner":
            if rule.owner not in book.ids:
                raise RoutingRuleError(f"rule {rule.name!r}: owner {rule.owner!r} is not in the reps table")
            place, who = idx, np.full(idx.size, rule.owner, dtype=object)
        elif rule.kind == "account_owner":
            own = frame["account_owner"].to_numpy(dtype=object)[idx]
            ok = pd.notna(own) & np.isin(own.astype(str), list(book.ids))
            if rule.roles is not None:
                ok &= np.isin(np.array([book.role.get(str(o), "") for o in own], dtype=object), list(rule.roles))
            cal = rules.calendars.get(rule.calendar) if rule.calendar else None
            codes, uniq = pd.factorize(pd.Series(own).where(ok, None))
            for c, rep in enumerate(uniq):
                sel = np.flatnonzero(codes == c)
                s, e = book.intervals(str(rep), cal, t0, t1, cache)
                ok[sel] = _availability(t[idx[sel]], s, e)[0]
            place, who = idx[ok], own[ok].astype(str).astype(object)
        else:
            pool = rules.pools[rule.pool]
            members = _members(pool, reps, book)
            cals = [rules.calendars.get(mem.calendar or pool.calendar) if (mem.calendar or pool.calendar) else None
                    for mem in members]
            intervals = [book.intervals(mem.rep_id, c, t0, t1, cache) for mem, c in zip(members, cals)]
            weights = np.array([mem.weight for mem in members], dtype=float)
            caps = np.array([mem.cap_per_day if mem.cap_per_day is not None else
                             (pool.cap_per_day if pool.cap_per_day is not None else -1) for mem in members])
            tz = rules.calendars[pool.calendar].timezone if pool.calendar else rules.timezone
            sub = np.argsort(t[idx], kind="stable")
            idx = idx[sub]
            who_i, t_eff, exp = _allocate(t[idx], intervals, weights, caps, tz, pool.when_unavailable == "wait")
            for mem, x in zip(members, exp):
                expected[(pool.name, mem.rep_id)] = expected.get((pool.name, mem.rep_id), 0.0) + float(x)
            ok = who_i >= 0
            place = idx[ok]
            who = np.array([members[j].rep_id for j in who_i[ok]], dtype=object)
            routed[place] = t_eff[ok]
            pool_of[place] = pool.name
        owner[place] = who
        fired[place] = rule.name
        open_[place] = False
    if open_.any():
        if rules.fallback is None:
            ids = frame.loc[open_, "lead_id"].astype(str).tolist()
            no_rule = open_ & ~matched_any
            why = (f"{int(no_rule.sum())} matched no rule" if no_rule.any() else "") + (
                (", " if no_rule.any() else "") + f"{int((open_ & matched_any).sum())} matched rules whose pools had "
                "no available rep under cap" if (open_ & matched_any).any() else "")
            raise UnroutableLeadError(
                f"{len(ids)} lead(s) cannot be placed by any rule and no fallback owner is set ({why}); first: "
                f"{', '.join(ids[:5])}. Add a last rule without conditions or a fallback: rep id."
            )
        if rules.fallback not in book.ids:
            raise RoutingRuleError(f"fallback owner {rules.fallback!r} is not in the reps table")
        owner[open_] = rules.fallback
        fired[open_] = "fallback"
    out = pd.DataFrame({
        "lead_id": frame["lead_id"].to_numpy(),
        "owner_rep_id": owner,
        "rule": fired,
        "pool": pool_of,
        "routed_at": pd.DatetimeIndex(routed, tz="UTC") if n else pd.DatetimeIndex([], tz="UTC"),
        "wait_hours": (routed - t) / _NS_PER_HOUR,
    })
    out.attrs["expected_leads"] = expected
    return out


def pool_load(routed: pd.DataFrame) -> pd.DataFrame:
    """Leads per pool member against the member's target, from :func:`route`'s output.

    Target share of member :math:`i`: :math:`E_i / N_p` where :math:`E_i` is its expected leads
    (``attrs["expected_leads"]``: each lead of the pool split among the members available for it in proportion
    to their weights) and :math:`N_p` the pool's leads; ``deviation = share - target_share`` (in share points).

    Parameters
    ----------
    routed : DataFrame
        Output of :func:`route`.

    Returns
    -------
    DataFrame
        ``pool, rep_id, leads, share, expected_leads, target_share, deviation``.
    """
    expected = routed.attrs.get("expected_leads", {})
    pooled = routed[routed["pool"].notna()]
    counts = pooled.groupby(["pool", "owner_rep_id"], observed=True).size().rename("leads").reset_index()
    counts = counts.rename(columns={"owner_rep_id": "rep_id"})
    exp = pd.DataFrame([(p, r, v) for (p, r), v in expected.items()], columns=["pool", "rep_id", "expected_leads"])
    out = exp.merge(counts, on=["pool", "rep_id"], how="outer")
    out["leads"] = out["leads"].fillna(0).astype(int)
    out["expected_leads"] = out["expected_leads"].fillna(0.0)
    total = out.groupby("pool")["leads"].transform("sum")
    out["share"] = out["leads"] / total.where(total > 0)
    out["target_share"] = out["expected_leads"] / total.where(total > 0)
    out["deviation"] = out["share"] - out["target_share"]
    return out[["pool", "rep_id", "leads", "share", "expected_leads", "target_share", "deviation"]].sort_values(
        ["pool", "rep_id"], kind="stable").reset_index(drop=True)
