"""Ramp of new hires: how long until a new rep sells like the tenured ones, by hire cohort.

* :func:`hires` — the reps hired inside the observed period, with their cohort.
* :func:`tenure_panel` — each hire's output in tenure month 1, 2, ... beside the tenured peers' output in the
  same calendar window (the ratio removes seasonality and growth: both sides live through the same month).
* :func:`ramp_curve` — the pooled ratio by tenure month with a bootstrap interval (resampling hires).
* :func:`fit_ramp` — the saturating curve :math:`1 - e^{-m/\\tau}` fitted to it: months to 90 % of peers.
* :func:`time_to_productivity` — per hire, the first month the rolling ratio reaches 90 %; Kaplan–Meier by
  cohort, so reps still ramping or gone before ramping count for as long as they were seen.
* :func:`time_to_first_deal` — days from hire to the first won deal, Kaplan–Meier by cohort.
* :func:`ramp_study` — all of it, or a message saying what is missing.

The default output measure is the number of new-business opportunities a rep opens: pipeline is what a new
hire builds first, and it is what routing and territory hand over gradually. Bookings follow the same curve
one sales cycle later and far noisier (``measure="bookings"`` gives them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from salesops.experiments.common import (
    MissingData,
    NotEnoughData,
    cutoff_of,
    data_start,
    known_at,
    require_table,
)
from salesops.experiments.result import Estimate
from salesops.stats import kaplan_meier, km_by_group

__all__ = [
    "DAYS_PER_MONTH",
    "RampStudy",
    "fit_ramp",
    "hires",
    "ramp_curve",
    "ramp_study",
    "tenure_panel",
    "time_to_first_deal",
    "time_to_productivity",
]

#: Average month length; tenure month k covers days [k, k+1) x this from the hire date.
DAYS_PER_MONTH = 30.4375
Measure = Literal["opportunities", "pipeline", "bookings", "wins"]


def _day(ts: pd.Timestamp | None) -> pd.Timestamp | None:
    return None if ts is None else ts.tz_convert("UTC").tz_localize(None).normalize()


def hires(reps: pd.DataFrame | None, role: str | None = "AE", observed_from: Any = None, cutoff: Any = None,
          cohort: str = "Y") -> pd.DataFrame:
    """Reps of ``role`` hired on or after ``observed_from`` (and on or before ``cutoff``).

    A rep hired before the data start has early months nobody can see, so only hires inside the observed
    period enter ramp analyses.

    Parameters
    ----------
    reps : DataFrame
        The ``reps`` table (needs ``hire_date``).
    role : str or None
        Keep one role (None: every role).
    observed_from, cutoff : date-like, optional
        The observed period.
    cohort : str
        Pandas period frequency naming the cohort (``Y`` hire year, ``Q`` hire quarter).

    Returns
    -------
    DataFrame
        ``rep_id, role, team, segment, hire_date, end_date, cohort``.

    Raises
    ------
    MissingData
        Without ``reps`` or its ``hire_date``.
    """
    r = require_table({"reps": reps}, "reps", ["rep_id", "hire_date"], "ramp is measured from the hire date")
    if role is not None and "role" in r.columns:
        r = r[r["role"] == role]
    r = r[r["hire_date"].notna()]
    if observed_from is not None:
        r = r[r["hire_date"] >= pd.Timestamp(observed_from)]
    if cutoff is not None:
        r = r[r["hire_date"] <= pd.Timestamp(cutoff)]
    out = r.copy()
    for col in ("role", "team", "segment", "end_date"):
        if col not in out.columns:
            out[col] = pd.NaT if col == "end_date" else None
    out["cohort"] = out["hire_date"].dt.to_period(cohort).astype(str)
    return out[["rep_id", "role", "team", "segment", "hire_date", "end_date", "cohort"]].reset_index(drop=True)


def _events(opps: pd.DataFrame, measure: str, types: tuple[str, ...] | None) -> pd.DataFrame:
    """(owner_rep_id, day, value) of the measure's events."""
    o = opps
    if types is not None and "type" in o.columns:
        o = o[o["type"].isin(types)]
    if measure in ("opportunities", "pipeline"):
        day, val = o["created_date"], (np.ones(len(o)) if measure == "opportunities" else o["amount"].to_numpy())
    elif measure in ("bookings", "wins"):
        o = o[o["is_won"].astype(bool)]
        day, val = o["close_date"], (np.ones(len(o)) if measure == "wins" else o["amount"].to_numpy())
    else:
        raise ValueError(f"measure must be opportunities, pipeline, bookings or wins, got {measure!r}")
    return pd.DataFrame({"rep": o["owner_rep_id"].to_numpy(), "day": pd.to_datetime(day).to_numpy(),
                         "value": np.asarray(val, dtype=float)})


class _Sums:
    """Sum of a rep's event values in [lo, hi) by binary search over cumulative sums."""

    def __init__(self, events: pd.DataFrame) -> None:
        self._by: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for rep, g in events.sort_values("day", kind="stable").groupby("rep", sort=False):
            self._by[rep] = (g["day"].to_numpy("datetime64[ns]"), np.concatenate([[0.0], np.cumsum(g["value"])]))

    def total(self, rep: str, lo: np.datetime64, hi: np.datetime64) -> float:
        if rep not in self._by:
            return 0.0
        days, cum = self._by[rep]
        return float(cum[np.searchsorted(days, hi, "left")] - cum[np.searchsorted(days, lo, "left")])


def tenure_panel(
    data: Any,
    role: str = "AE",
    measure: Measure = "opportunities",
    types: tuple[str, ...] | None = ("new_business",),
    peer_by: str = "team",
    tenured_months: int = 12,
    months: int = 12,
    peer_stat: Literal["median", "mean"] = "median",
    quarter: str | None = None,
    as_of: Any = None,
    observed_from: Any = None,
    cohort: str = "Y",
) -> pd.DataFrame:
    r"""Each hire's output per tenure month beside that of the tenured peers in the same window.

    Tenure month :math:`k = 0, 1, \dots` of a hire covers :math:`[h + k\,d, h + (k+1)\,d)` with :math:`h` the
    hire date and :math:`d` = 30.44 days. For that window, :math:`y_{ik}` is the hire's output (``measure``) and
    :math:`p_{ik}` the median (or mean) output of the **tenured peers**: reps of the same ``role`` and
    ``peer_by`` group hired at least ``tenured_months`` before the window and employed through it. The ratio
    :math:`y_{ik} / p_{ik}` is the hire's productivity relative to a seasoned rep in the same calendar weeks.
    A window enters only when it ended on or before the cutoff and the hire was still employed at its end, so
    reps still ramping or gone contribute the months they were seen, no more.

    Parameters
    ----------
    data : SalesData or dict of DataFrame
        Needs ``reps`` (``hire_date``) and ``opportunities``.
    role : str
        Role whose hires are measured.
    measure : {"opportunities", "pipeline", "bookings", "wins"}
        Opportunities created (count or amount), or deals won by close date (amount or count).
    types : tuple of str or None
        Opportunity types counted (default new business; None: all).
    peer_by : str
        ``reps`` column defining the peer group (``team``, ``segment``).
    tenured_months : int
        Tenure that makes a peer "tenured".
    months : int
        Tenure months followed.
    peer_stat : {"median", "mean"}
        Statistic of the peers' outputs.
    quarter, as_of : optional
        Cutoff (see :func:`salesops.experiments.common.cutoff_of`).
    observed_from : date-like, optional
        Data start (default: the earliest close date of a closed deal); earlier hires are left out.
    cohort : str
        Cohort period of the hire date (``Y``, ``Q``).

    Returns
    -------
    DataFrame
        ``rep_id, cohort, <peer_by>, k, window_start, window_end, value, peer_value, n_peers, ratio``.
    """
    cutoff = cutoff_of(quarter, as_of if as_of is not None else getattr(data, "as_of", None))
    tables = known_at(data, cutoff, ("reps", "opportunities"))
    reps = require_table(tables, "reps", ["rep_id", "hire_date", peer_by], "for hires and their tenured peers")
    opps = require_table(tables, "opportunities", ["owner_rep_id", "created_date", "close_date", "is_won"],
                         "for the new hires' output")
    start = pd.Timestamp(observed_from) if observed_from is not None else data_start(tables)
    end_day = _day(cutoff) if cutoff is not None else opps["created_date"].max().normalize()
    new = hires(reps, role, start, end_day, cohort)
    if peer_by not in new.columns:
        new = new.merge(reps[["rep_id", peer_by]], on="rep_id", how="left")
    pool = reps[reps["role"] == role] if "role" in reps.columns else reps
    pool = pool[pool["hire_date"].notna()]
    if "end_date" not in pool.columns:
        pool = pool.assign(end_date=pd.NaT)
    sums = _Sums(_events(opps, measure, types))
    step = pd.Timedelta(days=DAYS_PER_MONTH)
    limit = end_day + pd.Timedelta(days=1)
    rows = []
    for h in new.itertuples(index=False):
        group = getattr(h, peer_by)
        peers = pool[(pool[peer_by] == group) & (pool["rep_id"] != h.rep_id)]
        for k in range(months):
            w0, w1 = h.hire_date + step * k, h.hire_date + step * (k + 1)
            if w1 > limit or (pd.notna(h.end_date) and h.end_date < w1):
                break
            ten = peers[(peers["hire_date"] <= w0 - pd.DateOffset(months=tenured_months))
                        & (peers["end_date"].isna() | (peers["end_date"] >= w1))]
            lo, hi = np.datetime64(w0, "ns"), np.datetime64(w1, "ns")
            peer_vals = np.array([sums.total(p, lo, hi) for p in ten["rep_id"]])
            pv = (float(np.median(peer_vals)) if peer_stat == "median" else float(peer_vals.mean())) if len(
                peer_vals) else math.nan
            v = sums.total(h.rep_id, lo, hi)
            rows.append({"rep_id": h.rep_id, "cohort": h.cohort, peer_by: group, "k": k, "window_start": w0,
                         "window_end": w1, "value": v, "peer_value": pv, "n_peers": int(len(peer_vals)),
                         "ratio": v / pv if pv and pv > 0 else math.nan})
    cols = ["rep_id", "cohort", peer_by, "k", "window_start", "window_end", "value", "peer_value", "n_peers", "ratio"]
    out = pd.DataFrame(rows, columns=cols)
    out.attrs.update(measure=measure, peer_stat=peer_stat, observed_from=start, hires=int(len(new)))
    return out


def _pooled(panel: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    ok = panel[panel["peer_value"] > 0]
    g = ok.groupby(keys + ["k"], observed=True)
    out = g.agg(hires=("rep_id", "nunique"), value=("value", "sum"), peer_value=("peer_value", "sum")).reset_index()
    out["ratio"] = out["value"] / out["peer_value"]
    return out


def ramp_curve(panel: pd.DataFrame, by: str | None = None, confidence: float = 0.95, n_boot: int = 400,
               seed: int = 0) -> pd.DataFrame:
    r"""Pooled productivity ratio by tenure month, with a bootstrap interval over hires.

    :math:`R_k = \sum_i y_{ik} / \sum_i p_{ik}` over the hires observed in month :math:`k` (a ratio of sums, so
    a hire with few peers' output does not swing it). The interval resamples hires with replacement
    (``n_boot`` times) and takes percentiles of :math:`R_k`.

    Parameters
    ----------
    panel : DataFrame
        :func:`tenure_panel`.
    by : str, optional
        Separate curves per value of a panel column (``cohort``, ``team``).

    Returns
    -------
    DataFrame
        ``[by,] k, hires, value, peer_value, ratio, lower, upper``.
    """
    keys = [by] if by else []
    cols = keys + ["k", "hires", "value", "peer_value", "ratio", "lower", "upper"]
    if panel.empty:
        return pd.DataFrame(columns=cols)
    base = _pooled(panel, keys)
    rng = np.random.default_rng(seed)
    tail = (1 - confidence) / 2
    parts = []
    for key, sub in (panel.groupby(by) if by else [(None, panel)]):
        sub = sub[sub["peer_value"] > 0]
        codes, ids = pd.factorize(sub["rep_id"])
        kk = sub["k"].to_numpy(int)
        n_k = int(kk.max()) + 1 if len(kk) else 0
        value, peer = sub["value"].to_numpy(float), sub["peer_value"].to_numpy(float)
        boots = np.full((n_boot, n_k), np.nan)
        for b in range(n_boot):
            w = np.bincount(rng.integers(0, ids.size, ids.size), minlength=ids.size)[codes].astype(float)
            num = np.bincount(kk, weights=value * w, minlength=n_k)
            den = np.bincount(kk, weights=peer * w, minlength=n_k)
            with np.errstate(divide="ignore", invalid="ignore"):
                boots[b] = np.where(den > 0, num / den, np.nan)
        with np.errstate(all="ignore"):
            lower = np.nanquantile(boots, tail, axis=0) if n_boot else np.full(n_k, np.nan)
            upper = np.nanquantile(boots, 1 - tail, axis=0) if n_boot else np.full(n_k, np.nan)
        q = pd.DataFrame({"k": np.arange(n_k), "lower": lower, "upper": upper})
        if by:
            q[by] = key
        parts.append(q)
    out = base.merge(pd.concat(parts, ignore_index=True), on=keys + ["k"], how="left")
    return out[cols]


def _window_curve(k: np.ndarray, tau: float) -> np.ndarray:
    """Mean of :math:`1 - e^{-m/\\tau}` over tenure month :math:`m \\in [k, k+1)`."""
    return 1.0 - tau * (np.exp(-k / tau) - np.exp(-(k + 1) / tau))


def _fit_tau(k: np.ndarray, ratio: np.ndarray, weight: np.ndarray) -> float:
    ok = np.isfinite(ratio) & (weight > 0)
    res = optimize.minimize_scalar(lambda t: float(np.sum(weight[ok] * (ratio[ok] - _window_curve(k[ok], t)) ** 2)),
                                   bounds=(0.05, 36.0), method="bounded")
    return float(res.x)


def fit_ramp(panel: pd.DataFrame, target: float = 0.9, confidence: float = 0.95, n_boot: int = 400, seed: int = 0,
             min_hires: int = 3, min_months: int = 3) -> tuple[Estimate, float]:
    r"""Months until new hires reach ``target`` of tenured productivity, from the fitted ramp curve.

    The model is the saturating curve :math:`r(m) = 1 - e^{-m/\tau}` (:math:`m` in months since hire); a
    tenure-month window :math:`[k, k+1)` averages it to
    :math:`\bar r_k = 1 - \tau (e^{-k/\tau} - e^{-(k+1)/\tau})`. :math:`\tau` minimises
    :math:`\sum_k n_k (R_k - \bar r_k)^2` with :math:`R_k` the pooled ratio (:func:`ramp_curve`) and
    :math:`n_k` the hires seen in month :math:`k`; then

    .. math::

        m_{target} = -\tau \ln(1 - \text{target}) \quad (= \tau \ln 10 \text{ for 90 \%}).

    The interval is the percentile bootstrap over hires (resampled with replacement, curve refitted);
    ``n_boot=0`` skips it (NaN bounds).

    Returns
    -------
    (Estimate, float)
        Months to target (unit ``months``; NaN with a message when fewer than ``min_hires`` hires were seen for
        ``min_months`` months) and the fitted :math:`\tau`.
    """
    name = f"months to {round(100 * target)}% of tenured productivity"
    if not 0 < target < 1:
        raise ValueError(f"target must be in (0, 1), got {target!r}")
    seen = panel[panel["peer_value"] > 0].groupby("rep_id")["k"].nunique() if len(panel) else pd.Series(dtype=int)
    enough = int((seen >= min_months).sum())
    if enough < min_hires:
        msg = (f"too little data: {enough} hire(s) observed for at least {min_months} months against tenured "
               f"peers; the ramp fit needs at least {min_hires}")
        return Estimate.unavailable(name, msg, "months"), math.nan
    pooled = _pooled(panel, [])
    tau = _fit_tau(pooled["k"].to_numpy(float), pooled["ratio"].to_numpy(float), pooled["hires"].to_numpy(float))
    factor = -math.log(1 - target)
    rng = np.random.default_rng(seed)
    ok = panel[panel["peer_value"] > 0]
    codes, ids = pd.factorize(ok["rep_id"])
    kk = ok["k"].to_numpy(int)
    n_k = int(kk.max()) + 1
    value, peer = ok["value"].to_numpy(float), ok["peer_value"].to_numpy(float)
    grid = np.arange(n_k, dtype=float)
    boots = []
    for _ in range(n_boot):
        w = np.bincount(rng.integers(0, ids.size, ids.size), minlength=ids.size)[codes].astype(float)
        num = np.bincount(kk, weights=value * w, minlength=n_k)
        den = np.bincount(kk, weights=peer * w, minlength=n_k)
        n = np.bincount(kk, weights=w, minlength=n_k)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(den > 0, num / den, np.nan)
        boots.append(_fit_tau(grid, r, n) * factor)
    tail = (1 - confidence) / 2
    lo, hi = np.quantile(boots, [tail, 1 - tail]) if boots else (math.nan, math.nan)
    n_hires = int(panel["rep_id"].nunique())
    method = (f"saturating curve 1 - exp(-m/tau) fitted to the pooled ratio of {n_hires} hires "
              f"({panel.attrs.get('measure', 'output')} vs tenured peers' {panel.attrs.get('peer_stat', '')}), "
              f"bootstrap over hires")
    return Estimate(name, tau * factor, float(lo), float(hi), math.nan, confidence, "months", n_hires, method), tau


def time_to_productivity(panel: pd.DataFrame, target: float = 0.9, rolling: int = 3, by: str | None = "cohort",
                         confidence: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    r"""Months from hire until the rolling productivity ratio first reaches ``target``, survival-aware.

    For hire :math:`i` and tenure month :math:`k \ge` ``rolling`` - 1, the rolling ratio is
    :math:`\sum_{j=k-r+1}^{k} y_{ij} / \sum_{j=k-r+1}^{k} p_{ij}`. The event time is :math:`k + 1` months (the end
    of the first window where it reaches ``target``); a hire who never does is censored at the last month seen
    (still ramping at the cutoff, or gone). Kaplan–Meier medians per ``by`` group and overall, with intervals.

    Returns
    -------
    (per_rep, summary)
        ``per_rep``: ``rep_id, cohort, months, ramped``; ``summary``: ``group, hires, ramped, median_months,
        lower, upper, note`` (``note`` explains a missing median, e.g. too few hires ramped yet).
    """
    rows = []
    for rep, g in panel[panel["peer_value"] > 0].sort_values("k").groupby("rep_id"):
        v = g["value"].rolling(rolling).sum().to_numpy()
        p = g["peer_value"].rolling(rolling).sum().to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            r = v / p
        hit = np.flatnonzero(r >= target)
        k = g["k"].to_numpy()
        if hit.size:
            rows.append({"rep_id": rep, "cohort": g["cohort"].iat[0], "months": float(k[hit[0]] + 1), "ramped": True})
        else:
            rows.append({"rep_id": rep, "cohort": g["cohort"].iat[0], "months": float(k[-1] + 1), "ramped": False})
    per_rep = pd.DataFrame(rows, columns=["rep_id", "cohort", "months", "ramped"])
    return per_rep, _km_summary(per_rep, "months", "ramped", by, confidence, "median_months")


def _km_summary(frame: pd.DataFrame, duration: str, event: str, by: str | None, confidence: float,
                label: str) -> pd.DataFrame:
    cols = ["group", "hires", "events", label, "lower", "upper", "note"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    parts = []
    if by:
        g = km_by_group(frame, duration, event, by, confidence=confidence).reset_index()
        g = g.rename(columns={by: "group"})
        g["group"] = g["group"].astype(str)
        parts.append(g)
    allg = km_by_group(frame.assign(_all="all"), duration, event, "_all", confidence=confidence).reset_index()
    parts.append(allg.rename(columns={"_all": "group"}))
    out = pd.concat(parts, ignore_index=True).rename(columns={"n": "hires", "median": label, "median_lower": "lower",
                                                              "median_upper": "upper"})
    return out[cols]


def time_to_first_deal(data: Any, role: str = "AE", by: str | None = "cohort", quarter: str | None = None,
                       as_of: Any = None, observed_from: Any = None, cohort: str = "Y",
                       confidence: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    r"""Days from hire to the first won deal, Kaplan–Meier by hire cohort.

    Duration :math:`T_i` = close date of the hire's first won deal - hire date; a hire with no win yet is
    censored at :math:`\min(\text{end date}, \text{cutoff}) - \text{hire date}`. The Kaplan–Meier estimator uses
    every hire for as long as they were observed, so a cohort hired last quarter does not look fast because only
    its quick winners are done.

    Returns
    -------
    (per_rep, summary, curves)
        ``per_rep``: ``rep_id, cohort, days, won``; ``summary``: ``group, hires, events, median_days, lower, upper,
        note``; ``curves``: ``group, time, survival, lower, upper`` (share of hires without a win by day ``time``).
    """
    cutoff = cutoff_of(quarter, as_of if as_of is not None else getattr(data, "as_of", None))
    tables = known_at(data, cutoff, ("reps", "opportunities"))
    reps = require_table(tables, "reps", ["rep_id", "hire_date"], "time to first deal is counted from the hire date")
    opps = require_table(tables, "opportunities", ["owner_rep_id", "close_date", "is_won"], "for the first wins")
    start = pd.Timestamp(observed_from) if observed_from is not None else data_start(tables)
    end_day = _day(cutoff) if cutoff is not None else opps["close_date"].max().normalize()
    h = hires(reps, role, start, end_day, cohort)
    won = opps[opps["is_won"].astype(bool)].groupby("owner_rep_id")["close_date"].min()
    first = h["rep_id"].map(won)
    stop = h["end_date"].where(h["end_date"].notna() & (h["end_date"] < end_day), end_day)
    got = first.notna() & (first <= stop)
    days = np.where(got, (first - h["hire_date"]).dt.days, (stop - h["hire_date"]).dt.days).astype(float)
    per_rep = pd.DataFrame({"rep_id": h["rep_id"], "cohort": h["cohort"], "days": np.maximum(days, 0.0),
                            "won": got.to_numpy()})
    summary = _km_summary(per_rep, "days", "won", by, confidence, "median_days")
    curves = []
    groups = per_rep.groupby(by) if by else [("all", per_rep)]
    for key, g in groups:
        km = kaplan_meier(g["days"], g["won"], confidence=confidence)
        start_row = pd.DataFrame({"time": [0.0], "survival": [1.0], "lower": [1.0], "upper": [1.0]})
        km = pd.concat([start_row, km[["time", "survival", "lower", "upper"]]], ignore_index=True)
        curves.append(km.assign(group=str(key)))
    curve = (pd.concat(curves, ignore_index=True)[["group", "time", "survival", "lower", "upper"]] if curves
             else pd.DataFrame(columns=["group", "time", "survival", "lower", "upper"]))
    return per_rep, summary, curve


@dataclass(frozen=True)
class RampStudy:
    """Everything the ramp page shows.

    Attributes
    ----------
    months_to_target : Estimate
        :func:`fit_ramp` (NaN with a message when there are too few hires).
    tau : float
        Fitted time constant (months).
    panel, curve : DataFrame
        :func:`tenure_panel` and :func:`ramp_curve`.
    productivity, productivity_summary : DataFrame
        :func:`time_to_productivity`.
    first_deal, first_deal_summary, first_deal_curves : DataFrame
        :func:`time_to_first_deal`.
    message : str
        What is missing, when the study could not run at all.
    """

    months_to_target: Estimate
    tau: float = math.nan
    panel: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    curve: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    productivity: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    productivity_summary: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    first_deal: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    first_deal_summary: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    first_deal_curves: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    message: str = ""
    target: float = 0.9

    @property
    def available(self) -> bool:
        """True when the ramp time could be estimated."""
        return self.months_to_target.available


def ramp_study(data: Any, quarter: str | None = None, as_of: Any = None, role: str = "AE",
               measure: Measure = "opportunities", target: float = 0.9, peer_by: str = "team",
               months: int = 12, n_boot: int = 400, seed: int = 0) -> RampStudy:
    """Ramp curve, months to ``target``, time to productivity and to first deal, by hire cohort.

    Calls :func:`tenure_panel`, :func:`ramp_curve`, :func:`fit_ramp`, :func:`time_to_productivity` and
    :func:`time_to_first_deal`. When a table or column is missing, or there are too few hires, the estimates are
    NaN and ``message`` says what is missing.
    """
    name = f"months to {round(100 * target)}% of tenured productivity"
    try:
        panel = tenure_panel(data, role, measure, peer_by=peer_by, months=months, quarter=quarter, as_of=as_of)
        if panel.empty:
            raise NotEnoughData(f"no {role} hired inside the observed period has a complete tenure month with "
                                "tenured peers to compare with")
    except (MissingData, NotEnoughData) as exc:
        return RampStudy(Estimate.unavailable(name, str(exc), "months"), message=str(exc), target=target)
    curve = ramp_curve(panel, n_boot=n_boot, seed=seed)
    est, tau = fit_ramp(panel, target, n_boot=n_boot, seed=seed)
    per_rep, summary = time_to_productivity(panel, target)
    fd, fd_summary, fd_curves = time_to_first_deal(data, role, quarter=quarter, as_of=as_of)
    return RampStudy(est, tau, panel, curve, per_rep, summary, fd, fd_summary, fd_curves, est.message, target)
