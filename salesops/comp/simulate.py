"""Forward Monte Carlo of next year's attainment per rep, and what a plan would cost.

Each simulated quarter of rep :math:`r` draws one of the rep's own past quarterly attainments (bootstrap)
with probability :math:`1 - w_r` and one of all reps' past attainments with probability
:math:`w_r = k / (k + n_r)`, where :math:`n_r` is the number of quarters the rep has on record and
:math:`k` the shrinkage strength: a rep with two quarters of history leans on the team, one with twelve on
their own record. Payout per quarter is ``target x G(attainment)`` of the plan (:mod:`salesops.comp.plan`);
a run's cost is the sum over reps and quarters (plus base pay). Two plans are compared on the same draws
(common random numbers), so their difference is not simulation noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesops.comp.plan import CompPlan

__all__ = ["AttainmentSampler", "SimulationResult", "attainment_history", "compare_plans", "simulate_cost"]


class AttainmentSampler:
    """Bootstrap sampler of quarterly attainment per rep, shrunk towards the pooled history.

    Parameters
    ----------
    strength : float
        :math:`k` in :math:`w_r = k / (k + n_r)`.
    seed : int
        Seed of the random generator.
    """

    def __init__(self, strength: float = 4.0, seed: int = 0):
        self.strength = strength
        self.seed = seed

    def fit(self, history: pd.DataFrame) -> AttainmentSampler:
        """Learn from ``history``: one row per rep and past period with ``rep_id`` and ``attainment``."""
        for col in ("rep_id", "attainment"):
            if col not in history.columns:
                raise ValueError(f"history.{col} is missing")
        h = history.dropna(subset=["attainment"])
        if h.empty:
            raise ValueError("history holds no attainment")
        groups = h.groupby("rep_id")["attainment"]
        self.rep_ids_ = np.array(list(groups.groups))
        self.n_ = groups.size().reindex(self.rep_ids_).to_numpy()
        width = int(self.n_.max())
        self.history_ = np.zeros((len(self.rep_ids_), width))
        for i, (_, values) in enumerate(groups):
            self.history_[i, : len(values)] = values.to_numpy()
        self.pool_ = h["attainment"].to_numpy(dtype=float)
        self.weight_on_pool_ = self.strength / (self.strength + self.n_)
        return self

    def sample(self, n_runs: int, periods: int = 4, rng: np.random.Generator | None = None) -> np.ndarray:
        """Attainment draws of shape ``(n_runs, reps, periods)``."""
        rng = rng if rng is not None else np.random.default_rng(self.seed)
        shape = (n_runs, len(self.rep_ids_), periods)
        # one uniform u per draw: u < w picks the pool (index from u / w), else the rep's own record
        # (index from (u - w) / (1 - w)); both indices are uniform given the branch
        u = rng.random(shape)
        w = self.weight_on_pool_[None, :, None]
        use_pool = u < w
        with np.errstate(divide="ignore", invalid="ignore"):
            pool_idx = np.minimum((u / w * self.pool_.size).astype(np.int64), self.pool_.size - 1)
            own_idx = np.minimum(((u - w) / (1.0 - w) * self.n_[None, :, None]).astype(np.int64),
                                 self.n_[None, :, None] - 1)
        flat = self.history_.ravel()
        own_flat = np.arange(len(self.rep_ids_))[None, :, None] * self.history_.shape[1] + np.maximum(own_idx, 0)
        return np.where(use_pool, self.pool_[np.maximum(pool_idx, 0)], flat[own_flat])


@dataclass
class SimulationResult:
    """Per-run totals of a simulation.

    Attributes
    ----------
    cost : ndarray
        Total plan cost (variable pay + base) per run.
    variable : ndarray
        Variable pay per run.
    share_above_quota : ndarray
        Share of reps whose annual attainment (mean of the quarters) is at least 1, per run.
    """

    cost: np.ndarray
    variable: np.ndarray
    share_above_quota: np.ndarray

    def summary(self) -> dict[str, float]:
        """Expected cost, P10/P50/P90 cost, expected variable pay and share of reps above quota."""
        return {
            "expected_cost": float(self.cost.mean()),
            "p10_cost": float(np.quantile(self.cost, 0.1)),
            "p50_cost": float(np.quantile(self.cost, 0.5)),
            "p90_cost": float(np.quantile(self.cost, 0.9)),
            "expected_variable": float(self.variable.mean()),
            "share_above_quota": float(self.share_above_quota.mean()),
        }


def simulate_cost(plan: CompPlan, sampler: AttainmentSampler, n_runs: int = 10_000, periods: int | None = None,
                  quota_scale: float = 1.0, chunk: int = 1_000, seed: int | None = None) -> SimulationResult:
    """Monte Carlo cost of ``plan`` over next year for the reps of a fitted ``sampler``.

    Per run: :math:`\\sum_{r,q} T\\, G(a_{rq} / s) + B`, with :math:`T` the plan's target incentive per
    period, :math:`G` its payout curve, :math:`a` simulated attainment, :math:`s` the quota scale (a 10 %
    higher quota divides attainment by 1.1) and :math:`B` the reps' base pay for the year.

    Parameters
    ----------
    plan : CompPlan
    sampler : AttainmentSampler
        Fitted.
    n_runs : int
        Simulated years.
    periods : int, optional
        Periods per year (default the plan's).
    quota_scale : float
        Quota multiplier.
    chunk : int
        Runs simulated at once (memory: ``chunk x reps x periods`` floats, three times).
    seed : int, optional
        Default the sampler's seed.

    Returns
    -------
    SimulationResult
    """
    periods = periods or plan.periods_per_year
    rng = np.random.default_rng(sampler.seed if seed is None else seed)
    target = plan.variable_annual / plan.periods_per_year
    base = plan.base_annual * len(sampler.rep_ids_)
    variable, share = np.empty(n_runs), np.empty(n_runs)
    for start in range(0, n_runs, chunk):
        m = min(chunk, n_runs - start)
        att = sampler.sample(m, periods, rng) / quota_scale
        pay = plan.multiple(att) * target
        variable[start:start + m] = pay.sum(axis=(1, 2))
        share[start:start + m] = (att.mean(axis=2) >= 1.0).mean(axis=1)
    return SimulationResult(variable + base, variable, share)


def compare_plans(plans: dict[str, CompPlan], sampler: AttainmentSampler, n_runs: int = 10_000,
                  quota_scale: dict[str, float] | None = None, seed: int | None = None) -> pd.DataFrame:
    """Simulate several plans on the same draws and summarise them side by side.

    Returns
    -------
    DataFrame
        One row per plan: the :meth:`SimulationResult.summary` figures and ``expected_cost_vs_first``
        (expected cost minus the first plan's); ``attrs["results"]`` holds each plan's
        :class:`SimulationResult`.
    """
    rows, results = [], {}
    for name, plan in plans.items():
        scale = (quota_scale or {}).get(name, 1.0)
        res = simulate_cost(plan, sampler, n_runs=n_runs, quota_scale=scale, seed=seed)
        results[name] = res
        rows.append({"plan": name, **res.summary()})
    out = pd.DataFrame(rows)
    out.attrs["results"] = results
    out["expected_cost_vs_first"] = out["expected_cost"] - out["expected_cost"].iloc[0]
    return out


def attainment_history(payouts: pd.DataFrame, through: str | pd.Period | None = None, periods: int = 8,
                       full_only: bool = True) -> pd.DataFrame:
    """The history a sampler learns from: the last ``periods`` periods up to ``through`` (no later period
    enters), only periods the rep was employed in full when ``full_only`` (partial periods are prorated and
    would understate a rep).

    Returns
    -------
    DataFrame
        ``rep_id, period, attainment``.
    """
    p = payouts
    if through is not None:
        last = pd.Period(through, p["period"].dtype.freq) if len(p) else None
        p = p[p["period"] <= last]
    if len(p):
        first = p["period"].max() - (periods - 1)
        p = p[p["period"] >= first]
    if full_only and "employed_share" in p:
        p = p[p["employed_share"] >= 1.0]
    return p[["rep_id", "period", "attainment"]].reset_index(drop=True)
