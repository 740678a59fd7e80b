"""Territory design: assign accounts to territories balanced on potential and workload, under constraints.

The problem, for accounts :math:`a` with values :math:`v_{ka}` (potential, workload) and territories :math:`t`::

    minimise    moved accounts  (+ a small weight on the largest deviation)
    subject to  every account in exactly one territory of its bucket           (segment_match)
                |sum_a v_ka x_at / mu_kt - 1| <= tolerance  for every k, t     (balance_<k>)
                sum_a x_at <= capacity_t                                       (capacity)
                accounts that leave their current territory <= budget         (disruption)

where :math:`\\mu_{kt}` is territory :math:`t`'s fair part of its bucket's total (the bucket total split in
proportion to the territories' ``share``, equal by default). It is a mixed-integer linear programme solved
with HiGHS (:func:`scipy.optimize.milp`). Small problems are solved exactly, one binary per account and
territory. Large ones (more than ``exact_limit`` binaries) are aggregated first: the accounts of each current
territory are grouped into classes of similar potential and workload, the MILP decides how many accounts of
each group go where (integers, a few thousand variables, with a tighter tolerance to leave room), the groups
are split back into accounts (those nearest the group's mean move), and a repair step of single moves and
swaps, which never exceeds the disruption budget or a capacity, removes what is left of the deviations.
Very large ones (an aggregated model of more than ``aggregate_limit`` variables: 40,000 accounts in 265
territories make 580,000, a linear programme HiGHS needs minutes for) start warm instead: every account keeps its
current territory, the accounts without one are dealt out largest first to the least loaded territory of their
bucket, and the same repair step balances the rest within the budget. That design is feasible but its moves are not
proven minimal; when it misses the tolerance the aggregated model is solved after all, and when HiGHS runs out of
time (``time_limit``) the best design in hand is kept and the notes say so, instead of calling the problem infeasible.

When the constraints cannot all hold, :class:`TerritoryInfeasibleError` names the ones that conflict: first by
direct checks (an account larger than a balanced territory, more accounts than capacity, a bucket without a
territory), then by dropping constraint groups from the linear relaxation until it becomes feasible.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from salesops.leads._common import MissingDataError
from salesops.territory.heuristics import _classes, _finish, _round_groups, _score, _split_groups, _warm_start
from salesops.territory.inputs import account_workload, territories_from_reps

__all__ = [
    "TerritoryDesign",
    "TerritoryInfeasibleError",
    "account_workload",
    "design_territories",
    "evaluate_assignment",
    "territories_from_reps",
]

NO_TERRITORY = ""


class TerritoryInfeasibleError(ValueError):
    """The constraints of a territory design cannot all hold; ``conflicts`` lists the constraint groups."""

    def __init__(self, message: str, conflicts: Sequence[str] = ()):
        super().__init__(message)
        self.conflicts = list(conflicts)


# --- evaluation ------------------------------------------------------------------------------------------------


def _targets(accounts: pd.DataFrame, territories: pd.DataFrame, values: Sequence[str], bucket: str | None
             ) -> pd.DataFrame:
    """mu_kt: each territory's fair part of its bucket's totals."""
    terr = territories.copy()
    if "share" not in terr.columns:
        terr["share"] = 1.0
    if bucket:
        tot = accounts.groupby(bucket, observed=True)[list(values)].sum()
        share_sum = terr.groupby("bucket")["share"].transform("sum")
        for v in values:
            terr[f"target_{v}"] = terr["bucket"].map(tot[v]).fillna(0.0) * terr["share"] / share_sum
    else:
        for v in values:
            terr[f"target_{v}"] = accounts[v].sum() * terr["share"] / terr["share"].sum()
    return terr


def evaluate_assignment(accounts: pd.DataFrame, territories: pd.DataFrame, assignment: pd.Series | np.ndarray,
                        values: Sequence[str] = ("potential", "workload"), bucket: str | None = "bucket",
                        current: str | None = "current_territory") -> tuple[pd.DataFrame, dict[str, float]]:
    """Balance and disruption of an assignment of accounts to territories.

    Per territory: accounts, each value's load :math:`L_{kt}`, its target :math:`\\mu_{kt}` and relative
    deviation :math:`L_{kt}/\\mu_{kt} - 1`; accounts gained and lost against ``current``. Summary: the largest
    absolute deviation per value (the balance), the accounts that changed territory and their share of those
    that had one (the disruption).

    Returns
    -------
    (by_territory, summary) : (DataFrame, dict)
    """
    asg = np.asarray(assignment, dtype=object)
    df = accounts.assign(_t=asg)
    terr = _targets(accounts, territories, values, bucket)
    g = df.groupby("_t", observed=True)
    out = terr[["territory_id"] + [c for c in ("owner_rep_id", "bucket") if c in terr.columns]].copy()
    out["accounts"] = out["territory_id"].map(g.size()).fillna(0).astype(int)
    summary: dict[str, float] = {}
    for v in values:
        out[v] = out["territory_id"].map(g[v].sum()).fillna(0.0)
        out[f"target_{v}"] = terr[f"target_{v}"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"deviation_{v}"] = out[v] / out[f"target_{v}"] - 1.0
        summary[f"max_abs_deviation_{v}"] = float(np.nanmax(np.abs(out[f"deviation_{v}"]))) if len(out) else np.nan
    if current and current in accounts.columns:
        cur = accounts[current].fillna(NO_TERRITORY).astype(str).to_numpy()
        had = cur != NO_TERRITORY
        moved = had & (cur != asg.astype(str))
        out["gained"] = out["territory_id"].map(pd.Series(asg[moved]).value_counts()).fillna(0).astype(int)
        out["lost"] = out["territory_id"].map(pd.Series(cur[moved]).value_counts()).fillna(0).astype(int)
        summary["moved_accounts"] = int(moved.sum())
        summary["moved_share"] = float(moved.sum() / max(had.sum(), 1))
        summary["unowned_accounts"] = int((~had).sum())
    summary["territories"] = len(out)
    summary["accounts"] = len(accounts)
    return out, summary


# --- the optimisation --------------------------------------------------------------------------------------------


@dataclass
class TerritoryDesign:
    """A territory design and how it was found.

    Attributes
    ----------
    assignment : DataFrame
        One row per account: ``account_id, bucket, current_territory, territory_id, moved``.
    by_territory : DataFrame
        :func:`evaluate_assignment` per territory.
    summary : dict
        Balance (largest deviations), disruption (moved share), ``meets_tolerance``, ``method``, ``status``,
        ``solve_seconds``, ``milp_variables``.
    notes : list of str
        What the reader should know (tolerance not met, aggregation used ...).
    """

    assignment: pd.DataFrame
    by_territory: pd.DataFrame
    summary: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Model:
    groups_bucket: np.ndarray          # bucket index of each group
    groups_current: np.ndarray         # current territory index or -1
    groups_n: np.ndarray               # accounts per group
    groups_sum: np.ndarray             # (g, k) value sums
    allowed: list[np.ndarray]          # territories allowed per group


def _check_inputs(accounts: pd.DataFrame, territories: pd.DataFrame, values: Sequence[str], bucket: str | None) -> None:
    for col in ["account_id", *values] + ([bucket] if bucket else []):
        if col not in accounts.columns:
            raise MissingDataError(f"accounts lack column {col!r}; territory design needs it")
    for col in ["territory_id"] + (["bucket"] if bucket else []):
        if col not in territories.columns:
            raise MissingDataError(f"territories lack column {col!r}; territory design needs it")
    if territories["territory_id"].duplicated().any():
        raise ValueError("territory_id values must be unique")
    for v in values:
        x = accounts[v].to_numpy(dtype=float)
        if not np.isfinite(x).all() or (x < 0).any():
            raise ValueError(f"accounts.{v} must be finite and >= 0 for every account")


def _prechecks(accounts: pd.DataFrame, terr: pd.DataFrame, values: Sequence[str], bucket: str | None,
               tolerance: float | None) -> None:
    problems, conflicts = [], set()
    if bucket:
        have = set(terr["bucket"])
        for b, n in accounts[bucket].value_counts().items():
            if b not in have:
                problems.append(f"bucket {b!r} has {n} accounts but no territory")
                conflicts.add("segment_match")
    if "capacity" in terr.columns:
        cap = terr.groupby("bucket")["capacity"].sum() if bucket else pd.Series({None: terr["capacity"].sum()})
        need = accounts[bucket].value_counts() if bucket else pd.Series({None: len(accounts)})
        for b, n in need.items():
            c = cap.get(b, 0)
            if c < n:
                problems.append(f"capacity: {n} accounts{f' in {b!r}' if bucket else ''} but the territories hold "
                                f"{int(c)}")
                conflicts |= {"capacity", "segment_match"} if bucket else {"capacity"}
    if tolerance is not None:
        for v in values:
            upper = terr.set_index("territory_id")[f"target_{v}"] * (1 + tolerance)
            lim = (terr.groupby("bucket")[f"target_{v}"].max() * (1 + tolerance)) if bucket else None
            for b, g in (accounts.groupby(bucket, observed=True) if bucket else [(None, accounts)]):
                if bucket and b not in lim.index:
                    continue  # a bucket without territory: named above
                cap_b = lim[b] if bucket else upper.max()
                big = g[g[v] > cap_b]
                if len(big):
                    a = big.sort_values(v, ascending=False).iloc[0]
                    problems.append(
                        f"balance_{v}: {len(big)} account(s){f' in {b!r}' if bucket else ''} are larger alone than a "
                        f"territory may hold at ±{tolerance:.0%} (largest {a['account_id']}: {a[v]:,.0f} > {cap_b:,.0f})"
                    )
                    conflicts |= {f"balance_{v}"} | ({"segment_match"} if bucket else set())
    if problems:
        raise TerritoryInfeasibleError("territory design is infeasible: " + "; ".join(problems)
                                       + f". Conflicting constraints: {', '.join(sorted(conflicts))}.", sorted(conflicts))


def _build(model: _Model, mu: np.ndarray, cap: np.ndarray | None, tol: float | None, budget: float | None,
           objective: str, drop: frozenset[str] = frozenset(), integral: bool = True):
    """The MILP in scipy form; returns (c, constraints, integrality, bounds, var_group, var_terr, n_y)."""
    G = len(model.groups_n)
    T, K = mu.shape
    vg = np.concatenate([np.full(len(a), g) for g, a in enumerate(model.allowed)]).astype(np.int64)
    vt = np.concatenate(model.allowed).astype(np.int64)
    ny = vg.size
    nv = ny + K  # one deviation variable per value
    moved_coef = ((model.groups_current[vg] >= 0) & (vt != model.groups_current[vg])).astype(float)
    n_total = max(model.groups_n.sum(), 1)
    c = np.zeros(nv)
    if objective == "disruption":
        c[:ny] = moved_coef / n_total
        c[ny:] = 1e-3
    else:
        c[:ny] = moved_coef / n_total * 1e-3
        c[ny:] = 1.0
    cons = [LinearConstraint(sp.csr_matrix((np.ones(ny), (vg, np.arange(ny))), shape=(G, nv)),
                             model.groups_n, model.groups_n)]
    names = ["segment_match"]
    for k in range(K):
        if f"balance_{k}" in drop:
            continue
        mean = model.groups_sum[vg, k] / np.maximum(model.groups_n[vg], 1)
        coef = mean / np.where(mu[vt, k] > 0, mu[vt, k], 1.0)
        base = sp.csr_matrix((coef, (vt, np.arange(ny))), shape=(T, nv)).tolil()
        up, lo = base.copy(), base.copy()
        up[:, ny + k] = -1.0
        lo[:, ny + k] = 1.0
        cons.append(LinearConstraint(up.tocsr(), -np.inf, 1.0))
        cons.append(LinearConstraint(lo.tocsr(), 1.0, np.inf))
        names += [f"balance_{k}", f"balance_{k}"]
    if cap is not None and "capacity" not in drop:
        cons.append(LinearConstraint(sp.csr_matrix((np.ones(ny), (vt, np.arange(ny))), shape=(T, nv)), -np.inf, cap))
        names.append("capacity")
    if budget is not None and "disruption" not in drop:
        cons.append(LinearConstraint(sp.csr_matrix(np.concatenate([moved_coef, np.zeros(K)])[None, :]), -np.inf, budget))
        names.append("disruption")
    lb = np.zeros(nv)
    ub = np.concatenate([model.groups_n[vg].astype(float), np.full(K, np.inf)])
    if tol is not None:
        for k in range(K):
            if f"balance_{k}" not in drop:
                ub[ny + k] = tol
    integ = np.concatenate([np.ones(ny) if integral else np.zeros(ny), np.zeros(K)])
    return c, cons, integ, Bounds(lb, ub), vg, vt, ny


def _solve(model: _Model, mu: np.ndarray, cap: np.ndarray | None, tol: float | None, budget: float | None,
           objective: str, time_limit: float, gap: float, integral: bool = True):
    c, cons, integ, bounds, vg, vt, ny = _build(model, mu, cap, tol, budget, objective, integral=integral)
    res = milp(c, constraints=cons, integrality=integ, bounds=bounds,
               options={"time_limit": float(time_limit), "mip_rel_gap": gap, "disp": False})
    return res, vg, vt, ny


def _conflicts(model: _Model, mu: np.ndarray, cap: np.ndarray | None, tol: float | None, budget: float | None,
               value_names: Sequence[str]) -> list[str]:
    """Deletion filter over constraint groups on the linear relaxation: a minimal set that cannot hold together."""
    groups = [f"balance_{k}" for k in range(mu.shape[1])] + (["capacity"] if cap is not None else []) + (
        ["disruption"] if budget is not None else [])

    def feasible(active: list[str]) -> bool:
        drop = frozenset(g for g in groups if g not in active)
        c, cons, integ, bounds, *_ = _build(model, mu, cap, tol, budget, "balance", drop, integral=False)
        return milp(np.zeros_like(c), constraints=cons, integrality=integ, bounds=bounds,
                    options={"time_limit": 30.0}).status == 0

    if feasible(groups):
        return []
    needed = list(groups)
    for g in groups:
        trial = [x for x in needed if x != g]
        if not feasible(trial):
            needed = trial
    rename = {f"balance_{k}": f"balance_{v}" for k, v in enumerate(value_names)}
    return ["segment_match"] + [rename.get(g, g) for g in needed]


def design_territories(
    accounts: pd.DataFrame,
    territories: pd.DataFrame,
    *,
    values: Sequence[str] = ("potential", "workload"),
    bucket: str | None = "bucket",
    current: str | None = "current_territory",
    tolerance: float | None = 0.05,
    keep_owners: bool = True,
    max_moved_share: float | None = 0.20,
    objective: str = "disruption",
    method: str = "auto",
    exact_limit: int = 4000,
    aggregate_limit: int = 100_000,
    classes: tuple[int, int] = (8, 3),
    time_limit: float = 30.0,
    mip_gap: float = 0.02,
    polish: bool = False,
    bound_limit: int = 200_000,
) -> TerritoryDesign:
    """Assign accounts to territories, balanced on ``values``, with HiGHS (see the module docstring).

    Parameters
    ----------
    accounts : DataFrame
        ``account_id``, the ``values`` columns (>= 0), the ``bucket`` column and, to keep owners, the ``current``
        territory (NaN for an account without one).
    territories : DataFrame
        ``territory_id``, ``bucket`` (when ``bucket`` is set), optional ``capacity`` (max accounts) and ``share``
        (relative size; equal by default).
    values : list of str
        Columns to balance.
    bucket : str or None
        Account column that must match ``territories.bucket`` (segment match); None: any territory.
    current : str or None
        Account column with the current territory.
    tolerance : float or None
        Largest allowed relative deviation from the target on every value (0.05: ±5%); None: no hard bound.
    keep_owners : bool
        Minimise moves away from the current territory and cap them at ``max_moved_share``.
    max_moved_share : float or None
        Disruption budget: largest share of the accounts with a current territory that may move.
    objective : {"disruption", "balance"}
        Minimise moved accounts (within the tolerance) or the largest deviation (within the budget).
    method : {"auto", "exact", "aggregate", "warm"}
        Exact account-level MILP, aggregated MILP and repair, or warm start from the current assignment and repair;
        ``auto`` picks exact when the account-level model has at most ``exact_limit`` binaries, else aggregate when
        the aggregated model has at most ``aggregate_limit`` variables, else warm (falling back to aggregate when
        the warm start misses the tolerance).
    aggregate_limit : int
        Largest aggregated model (variables) ``auto`` solves; beyond it the design starts warm.
    classes : (int, int)
        Potential and workload classes per current territory in the aggregated model.
    time_limit : float
        Seconds HiGHS may spend (the best solution found by then is used).
    mip_gap : float
        Relative optimality gap at which HiGHS stops.
    polish : bool
        In the aggregated path, after rounding the relaxation, also run the aggregated MILP for the time left
        and keep its design when it moves fewer accounts (or balances better). Off by default: on the sample and
        the benchmark it cost seconds and never beat the rounded relaxation after repair.
    bound_limit : int
        Compute ``moved_share_lower_bound`` (the account-level linear relaxation's moves, a bound no design within
        the tolerance can beat) when that model has at most this many variables.

    Returns
    -------
    TerritoryDesign

    Raises
    ------
    TerritoryInfeasibleError
        When the constraints conflict; the message and ``.conflicts`` name them.
    """
    started = time.perf_counter()
    values = list(values)
    _check_inputs(accounts, territories, values, bucket)
    if objective not in ("disruption", "balance"):
        raise ValueError(f"objective must be 'disruption' or 'balance', got {objective!r}")
    if method not in ("auto", "exact", "aggregate", "warm"):
        raise ValueError(f"method must be 'auto', 'exact', 'aggregate' or 'warm', got {method!r}")
    if keep_owners and (current is None or current not in accounts.columns):
        raise ValueError(f"keep_owners needs the accounts' current territory (column {current!r}), which is missing")
    if objective == "disruption" and tolerance is None:
        raise ValueError("objective 'disruption' needs a tolerance (the balance to reach with as few moves as possible)")
    acc = accounts.reset_index(drop=True)
    terr = _targets(acc, territories.reset_index(drop=True), values, bucket)
    _prechecks(acc, terr, values, bucket, tolerance)

    t_index = {t: i for i, t in enumerate(terr["territory_id"].astype(str))}
    T, K, N = len(terr), len(values), len(acc)
    mu = terr[[f"target_{v}" for v in values]].to_numpy(dtype=float)
    vals = acc[values].to_numpy(dtype=float)
    buckets = sorted(terr["bucket"].unique(), key=str) if bucket else [None]
    b_index = {b: i for i, b in enumerate(buckets)}
    terr_bucket = terr["bucket"].map(b_index).to_numpy() if bucket else np.zeros(T, dtype=np.int64)
    acc_bucket = acc[bucket].map(b_index).to_numpy().astype(np.int64) if bucket else np.zeros(N, dtype=np.int64)
    if current and current in acc.columns:
        cur = acc[current].map(lambda x: t_index.get(str(x), -1) if pd.notna(x) else -1).to_numpy(dtype=np.int64)
    else:
        cur = np.full(N, -1, dtype=np.int64)
    # an account whose current territory is in another bucket cannot stay: it has no current territory here
    cur = np.where((cur >= 0) & (terr_bucket[np.maximum(cur, 0)] == acc_bucket), cur, -1)
    if not keep_owners:
        cur_for_model = np.full(N, -1, dtype=np.int64)
    else:
        cur_for_model = cur
    cap = terr["capacity"].to_numpy(dtype=float) if "capacity" in terr.columns else None
    had = int((cur_for_model >= 0).sum())
    budget = None if (not keep_owners or max_moved_share is None) else float(np.floor(max_moved_share * had + 1e-9))
    per_bucket_terr = np.bincount(terr_bucket, minlength=len(buckets))
    exact_vars = int(per_bucket_terr[acc_bucket].sum())
    use_exact = method == "exact" or (method == "auto" and exact_vars <= exact_limit)
    notes: list[str] = []

    what = {"segment_match": "accounts stay in their bucket's territories",
            "capacity": "territory capacity",
            "disruption": f"at most {max_moved_share:.0%} of accounts change owner" if max_moved_share else "",
            **{f"balance_{v}": f"{v} within ±{tolerance:.0%} of the target" for v in values if tolerance}}

    def infeasible(model: _Model, tol: float | None) -> TerritoryInfeasibleError:
        conflicts = _conflicts(model, mu, cap, tol, budget, values)
        detail = "; ".join(f"{c} ({what.get(c, c)})" for c in conflicts) or "the integer restriction"
        return TerritoryInfeasibleError(
            f"territory design is infeasible: these constraints cannot hold together: {detail}. Relax one of "
            "them (a wider tolerance, a larger disruption budget, more capacity or territories).", conflicts)

    assign = None
    status, gap_found, n_vars = "", None, 0
    if use_exact:
        model = _Model(acc_bucket, cur_for_model, np.ones(N, dtype=np.int64), vals.copy(),
                       [np.flatnonzero(terr_bucket == acc_bucket[a]) for a in range(N)])
        res, vg, vt, ny = _solve(model, mu, cap, tolerance, budget, objective, time_limit, mip_gap)
        n_vars, status = ny, str(res.message).split(".")[0]
        if res.x is not None:
            y = np.rint(res.x[:ny]).astype(np.int64)
            assign = np.full(N, -1, dtype=np.int64)
            assign[vg[y > 0]] = vt[y > 0]
            found = getattr(res, "mip_gap", None)
            gap_found = float(found) if found is not None and np.isfinite(found) else None
        elif res.status == 2 or "infeasible" in str(res.message).lower():
            raise infeasible(model, tolerance)
        else:
            notes.append(f"the exact MILP found no solution within {time_limit:.0f} s; the aggregated model was used")
            use_exact = False
    warm = None
    if not use_exact:
        qp, qw = classes
        group_key = np.zeros(N, dtype=np.int64)
        for b in range(len(buckets)):
            sel = np.flatnonzero(acc_bucket == b)
            cp = _classes(vals[sel, 0], qp)
            cw = _classes(vals[sel, 1], qw) if K > 1 else np.zeros(sel.size, dtype=np.int64)
            group_key[sel] = ((b * (T + 1) + (cur_for_model[sel] + 1)) * qp + cp) * qw + cw
        keys, group_of = np.unique(group_key, return_inverse=True)
        G = len(keys)
        n_g = np.bincount(group_of, minlength=G)
        sums = np.stack([np.bincount(group_of, vals[:, k], minlength=G) for k in range(K)], axis=1)
        gb = np.zeros(G, dtype=np.int64)
        gc = np.full(G, -1, dtype=np.int64)
        gb[group_of] = acc_bucket
        gc[group_of] = cur_for_model
        model = _Model(gb, gc, n_g, sums, [np.flatnonzero(terr_bucket == gb[g]) for g in range(G)])
        agg_vars = int(per_bucket_terr[gb].sum())
        if method == "warm" or (method == "auto" and agg_vars > aggregate_limit):
            warm = _finish(_warm_start(acc_bucket, cur_for_model, vals, mu, terr_bucket, cap), acc_bucket,
                           cur_for_model, vals, mu, terr_bucket, cap, tolerance, budget)
            if method == "warm" or _score(warm, cur_for_model, vals, mu, tolerance)[0] == 0.0:
                assign, status = warm, "warm start repaired"
                notes.append(
                    f"warm start: {had:,} of {N:,} accounts kept their current territory, the {N - had:,} without one "
                    "were dealt out largest first to the least loaded territory of their bucket, and single moves and "
                    "swaps within "
                    f"the budget balanced the rest (the aggregated model would have {agg_vars:,} variables, over the "
                    f"{aggregate_limit:,} solved directly); the moves are not proven minimal")
            else:
                notes.append("the warm start missed the tolerance, so the aggregated model was solved")
    if not use_exact and assign is None:
        model_tol = None if tolerance is None else 0.6 * tolerance
        # 1) the aggregated model's linear relaxation (HiGHS), rounded group by group
        lp, vg, vt, ny = _solve(model, mu, cap, model_tol, budget, objective, time_limit, mip_gap, integral=False)
        if lp.x is None and model_tol is not None and lp.status == 2:
            model_tol = tolerance  # the tighter aggregated tolerance may be what fails
            lp, vg, vt, ny = _solve(model, mu, cap, model_tol, budget, objective, time_limit, mip_gap, integral=False)
        if lp.x is None and lp.status == 2:
            raise infeasible(model, model_tol)
        n_vars = ny
        if lp.x is None:  # out of time (or another solver stop): not a proof of infeasibility
            if warm is None:
                warm = _finish(_warm_start(acc_bucket, cur_for_model, vals, mu, terr_bucket, cap), acc_bucket,
                               cur_for_model, vals, mu, terr_bucket, cap, tolerance, budget)
            assign, status = warm, "warm start repaired (aggregated model out of time)"
            notes.append(f"HiGHS found no solution of the aggregated model ({ny:,} variables) within {time_limit:.0f} s "
                         f"({str(lp.message).split('.')[0]}); the warm start from the current assignment, repaired "
                         "by single moves and swaps, was used instead")
        else:
            status = "linear relaxation rounded"
            y = _round_groups(lp.x[:ny], vg, vt, n_g, gc)
            assign = _finish(_split_groups(group_of, vals, mu, vg, vt, y, cur_for_model), acc_bucket, cur_for_model,
                             vals, mu, terr_bucket, cap, tolerance, budget)
            notes.append(f"aggregated model: {N:,} accounts in {G:,} groups of similar potential and workload per "
                         f"current territory (HiGHS, {ny:,} variables), split into accounts and repaired by single "
                         "moves and swaps")
        # 2) the aggregated MILP within the remaining time, kept when it moves fewer accounts
        left = time_limit - (time.perf_counter() - started)
        if polish and left > 1.0 and status == "linear relaxation rounded":
            res, vg, vt, ny = _solve(model, mu, cap, model_tol, budget, objective, left, mip_gap)
            if res.x is not None:
                y2 = np.rint(res.x[:ny]).astype(np.int64)
                cand = _finish(_split_groups(group_of, vals, mu, vg, vt, y2, cur_for_model), acc_bucket,
                               cur_for_model, vals, mu, terr_bucket, cap, tolerance, budget)
                if _score(cand, cur_for_model, vals, mu, tolerance) < _score(assign, cur_for_model, vals, mu, tolerance):
                    assign, status = cand, "aggregated MILP: " + str(res.message).split(".")[0]
                    found = getattr(res, "mip_gap", None)
                    gap_found = float(found) if found is not None and np.isfinite(found) else None
    bound = None
    if objective == "disruption" and had and exact_vars <= bound_limit:
        # the account-level linear relaxation bounds the moves any design within the tolerance needs
        full = _Model(acc_bucket, cur_for_model, np.ones(N, dtype=np.int64), vals.copy(),
                      [np.flatnonzero(terr_bucket == acc_bucket[a]) for a in range(N)])
        c_, cons_, integ_, bounds_, *_ = _build(full, mu, cap, tolerance, budget, objective, integral=False)
        rel = milp(c_, constraints=cons_, integrality=integ_, bounds=bounds_, options={"time_limit": 60.0})
        if rel.x is not None:
            bound = float(c_[: len(c_) - K] @ rel.x[: len(c_) - K]) * N / had
    ids = terr["territory_id"].astype(str).to_numpy()
    assignment = acc[["account_id"]].copy()
    if bucket:
        assignment["bucket"] = acc[bucket].to_numpy()
    cur_ids = np.where(cur >= 0, ids[np.maximum(cur, 0)], None)
    if current and current in acc.columns:
        raw_cur = acc[current].astype(object).where(acc[current].notna(), None).to_numpy()
        cur_ids = raw_cur
    assignment["current_territory"] = cur_ids
    assignment["territory_id"] = ids[assign]
    assignment["moved"] = (cur >= 0) & (assign != cur)
    eval_acc = acc.assign(current_territory=np.where(cur >= 0, ids[np.maximum(cur, 0)], None))
    by_territory, summary = evaluate_assignment(eval_acc, terr, assignment["territory_id"].to_numpy(), values,
                                                bucket, "current_territory")
    worst = max(summary[f"max_abs_deviation_{v}"] for v in values)
    meets = tolerance is None or worst <= tolerance + 1e-9
    if not meets:
        notes.append(f"the largest deviation is {worst:.1%}, beyond the ±{tolerance:.0%} tolerance: the budget or the "
                     "account sizes leave no better split")
    summary.update({
        "meets_tolerance": bool(meets),
        "tolerance": tolerance,
        "max_moved_share": max_moved_share if keep_owners else None,
        "method": "exact" if use_exact else ("warm+repair" if status.startswith("warm") else "aggregate+repair"),
        "status": status,
        "mip_gap": gap_found,
        "milp_variables": int(n_vars),
        "moved_share_lower_bound": bound,
        "solve_seconds": time.perf_counter() - started,
    })
    return TerritoryDesign(assignment, by_territory, summary, notes)
