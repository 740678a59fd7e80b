"""Funnel bottlenecks: a stage where a group's conversion falls or its time in stage grows, against its own
recent history, beyond what chance explains.

For each quarter :math:`Q`, group :math:`g` (a segment, say) and open stage :math:`S`, evaluated at the end
of :math:`Q` (never later: nothing after it is read):

* **current cohort**: opportunities of :math:`g` that first entered :math:`S` during :math:`Q`;
* **baseline**: those that first entered it during the ``baseline_quarters`` latest earlier quarters in
  which :math:`(g, S)` was *not* flagged (looking back at most ``max_lookback`` quarters) — its own recent
  normal; a bottleneck that persists stays a departure rather than becoming the norm (the reference period
  of a control chart leaves out its out-of-control points);
* **conversion** (advanced among resolved, :mod:`salesops.funnel.stages`): two-sided two-proportion z test,
  current against baseline;
* **time in stage** (first entry to resolution, unresolved entries censored at the end of :math:`Q`):
  two-sided log-rank test; the Kaplan-Meier medians and their ratio say how much;
* every p-value of the quarter (all groups, stages and both measures) is Holm-adjusted together, and a stage
  is **flagged** when conversion is significantly *lower* or time significantly *longer*
  (adjusted p < ``alpha``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesops.funnel._common import (
    as_list,
    as_moment,
    as_quarter,
    as_start,
    opportunity_attributes,
    quarter_moments,
    quarters_between,
    require_table,
    stage_info,
)
from salesops.funnel.snapshot import prepare_history
from salesops.funnel.stages import observation_start, stage_outcomes
from salesops.periods import Quarter, quarter_of
from salesops.stats import km_median, logrank_test, wilson_interval
from salesops.stats.comparisons import adjust_pvalues, two_proportion_test

__all__ = ["bottleneck_scan", "find_bottlenecks", "select_quarter"]

_PREVENTS = "the bottleneck scan"

_COLUMNS = [
    "quarter",
    "group",
    "stage",
    "entered",
    "resolved",
    "conversion",
    "conversion_lower",
    "conversion_upper",
    "baseline_entered",
    "baseline_resolved",
    "baseline_conversion",
    "conversion_change",
    "p_conversion",
    "p_conversion_adj",
    "median_days",
    "median_days_lower",
    "median_days_upper",
    "baseline_median_days",
    "time_ratio",
    "p_time",
    "p_time_adj",
    "slower",
    "flag_conversion",
    "flag_time",
    "flagged",
    "baseline_quarters",
    "note",
]


def _censor(out: pd.DataFrame, moment: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resolved flag, advanced flag and days of outcomes as they stood at ``moment``."""
    resolved = out["resolved"].to_numpy(bool) & (out["resolved_at"] <= moment).to_numpy()
    advanced = resolved & out["outcome"].eq("advanced").to_numpy()
    end = out["resolved_at"].where(resolved, moment)
    days = ((end - out["entered_at"]) / pd.Timedelta(days=1)).to_numpy(float)
    return resolved, advanced, days


def bottleneck_scan(
    data: Any,
    quarters: list[Quarter | str] | None = None,
    by: str | None = "segment",
    baseline_quarters: int = 4,
    max_lookback: int = 8,
    alpha: float = 0.05,
    min_resolved: int = 20,
    as_of: Any = None,
    observed_from: Any = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Test every (group, open stage) of every quarter against its own recent history (module docstring).

    Quarters are evaluated in order (a quarter's baseline depends on the flags of the quarters before it).
    A test needs at least ``min_resolved`` resolved entries (conversion) or entries (time) in both the
    current cohort and the baseline; otherwise its p-value is NaN, it is not flagged, and ``note`` says why.

    Parameters
    ----------
    data : SalesData
        Needs ``opportunity_history``; ``by`` may need ``accounts`` or ``reps``.
    quarters : list of Quarter or str, optional
        Quarters to report (default: every quarter from the one after the observation start to the quarter
        of ``as_of``). Earlier quarters are evaluated too when their flags shape a baseline.
    by : str or None
        Opportunity attribute whose groups are tested separately (None: all opportunities together).
    baseline_quarters, max_lookback : int
        Size of the baseline and how far back it may reach.
    alpha : float
        Family-wise error rate per quarter (Holm).
    min_resolved : int
        Smallest sample a test is run on.
    as_of : str, date or Timestamp, optional
        The latest moment read (default ``data.as_of``); a quarter running at that moment ends there.
    observed_from : str, date or Timestamp, optional
        First entries before it are never used (default :func:`~salesops.funnel.stages.observation_start`).
    confidence : float
        Level of the conversion and median intervals.

    Returns
    -------
    DataFrame
        One row per quarter, group and stage: counts, ``conversion`` with its Wilson interval,
        ``baseline_conversion``, ``conversion_change``, ``p_conversion`` and its Holm-adjusted
        ``p_conversion_adj``; ``median_days`` (Kaplan-Meier, with interval), ``baseline_median_days``,
        ``time_ratio``, ``p_time`` (log-rank), ``p_time_adj``, ``slower`` (the cohort resolves later than the
        baseline would predict); ``flag_conversion``, ``flag_time``, ``flagged``; the ``baseline_quarters``
        used and a ``note``.
    """
    history = require_table(data, "opportunity_history", _PREVENTS)
    stages = getattr(data, "stages", None)
    h = prepare_history(history, stages)
    moment = as_moment(as_of) if as_of is not None else getattr(data, "as_of", None)
    if moment is None:
        moment = h["changed_at"].max()
    start = as_start(observed_from) if observed_from is not None else observation_start(h, stages)
    out = stage_outcomes(h, stages, moment, prepared=True)
    out = out[out["entered_at"] >= start].reset_index(drop=True)
    keys = as_list(by)
    if keys:
        attrs = opportunity_attributes(data, keys)
        out["group"] = out["opportunity_id"].map(attrs[keys[0]]).astype(object).fillna("(none)").to_numpy()
    else:
        out["group"] = "all"
    info = stage_info(stages, seen=h["stage"].dropna().unique())
    first_q = quarter_of(start.tz_convert("UTC").tz_localize(None)).next()
    last_q = quarter_of(moment.tz_convert("UTC").tz_localize(None))
    wanted = [as_quarter(q) for q in quarters] if quarters is not None else quarters_between(first_q, last_q)
    if not wanted:
        return pd.DataFrame(columns=_COLUMNS)
    scan_from = min(first_q, min(wanted))
    to_scan = quarters_between(scan_from, max(wanted))
    entered = out["entered_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    entry_q = (entered.dt.year * 4 + entered.dt.quarter - 1).to_numpy()  # quarter ordinal

    def ordinal(qq: Quarter) -> int:
        return qq.year * 4 + qq.q - 1

    groups = sorted(out["group"].unique(), key=str)
    group_mask = {g: out["group"].eq(g).to_numpy() for g in groups}
    stage_mask = {st: out["stage"].eq(st).to_numpy() for st in info.open_stages}
    flags: dict[tuple[str, str, str], bool] = {}
    rows = []
    for q in to_scan:
        q_start, q_end = quarter_moments(q, moment)
        resolved, advanced, days = _censor(out, q_end)
        in_q = entry_q == ordinal(q)
        earlier = []
        p = q.previous()
        for _ in range(max_lookback):
            if pd.Timestamp(p.end) < pd.Timestamp(start.tz_convert("UTC").tz_localize(None).normalize()):
                break
            earlier.append(p)
            p = p.previous()
        q_rows = []
        for g in groups:
            in_g = group_mask[g]
            for stage in info.open_stages:
                in_s = in_g & stage_mask[stage]
                base_qs = [b for b in earlier if not flags.get((str(b), str(g), stage), False)][
                    :baseline_quarters
                ]
                base = in_s & np.isin(entry_q, [ordinal(b) for b in base_qs])
                cur = in_s & in_q
                q_rows.append(
                    _compare(
                        q, g, stage, cur, base, base_qs, resolved, advanced, days, min_resolved, confidence
                    )
                )
        adj_c = adjust_pvalues([r["p_conversion"] for r in q_rows] + [r["p_time"] for r in q_rows], "holm")
        for i, r in enumerate(q_rows):
            r["p_conversion_adj"] = adj_c[i]
            r["p_time_adj"] = adj_c[len(q_rows) + i]
            r["flag_conversion"] = bool(r["p_conversion_adj"] < alpha and r["conversion_change"] < 0)
            r["flag_time"] = bool(r["p_time_adj"] < alpha and r["slower"])
            r["flagged"] = r["flag_conversion"] or r["flag_time"]
            flags[(str(q), str(r["group"]), r["stage"])] = r["flagged"]
        rows.extend(q_rows)
    table = pd.DataFrame(rows, columns=_COLUMNS)
    table = table[table["quarter"].isin([str(q) for q in wanted])].reset_index(drop=True)
    if keys:
        table = table.rename(columns={"group": keys[0]})
    table.attrs.update(observed_from=start, as_of=moment, alpha=alpha, by=by)
    return table


def _compare(
    q: Quarter,
    g: Any,
    stage: str,
    cur: np.ndarray,
    base: np.ndarray,
    base_qs: list[Quarter],
    resolved: np.ndarray,
    advanced: np.ndarray,
    days: np.ndarray,
    min_resolved: int,
    confidence: float,
) -> dict:
    n_cur, n_base = int(cur.sum()), int(base.sum())
    r_cur, r_base = int((cur & resolved).sum()), int((base & resolved).sum())
    a_cur, a_base = int((cur & advanced).sum()), int((base & advanced).sum())
    notes = []
    row: dict[str, Any] = {
        "quarter": str(q),
        "group": g,
        "stage": stage,
        "entered": n_cur,
        "resolved": r_cur,
        "baseline_entered": n_base,
        "baseline_resolved": r_base,
        "baseline_quarters": ", ".join(str(b) for b in sorted(base_qs)),
    }
    lo, hi = wilson_interval(a_cur, r_cur, confidence)
    row["conversion"] = a_cur / r_cur if r_cur else np.nan
    row["conversion_lower"], row["conversion_upper"] = lo, hi
    row["baseline_conversion"] = a_base / r_base if r_base else np.nan
    row["conversion_change"] = row["conversion"] - row["baseline_conversion"]
    if r_cur >= min_resolved and r_base >= min_resolved:
        row["p_conversion"] = two_proportion_test(a_cur, r_cur, a_base, r_base, confidence).p_value
    else:
        row["p_conversion"] = np.nan
        notes.append(
            f"conversion not tested: {r_cur} resolved in the quarter, {r_base} in the baseline "
            f"(at least {min_resolved} each needed)"
        )
    med = km_median(days[cur], resolved[cur], confidence=confidence) if n_cur else None
    row["median_days"] = med.median if med else np.nan
    row["median_days_lower"] = med.lower if med else np.nan
    row["median_days_upper"] = med.upper if med else np.nan
    row["baseline_median_days"] = km_median(days[base], resolved[base]).median if n_base else np.nan
    row["time_ratio"] = row["median_days"] / row["baseline_median_days"] if n_cur and n_base else np.nan
    if n_cur >= min_resolved and n_base >= min_resolved:
        lr = logrank_test(days[cur], resolved[cur], days[base], resolved[base])
        row["p_time"] = lr.p_value
        row["slower"] = bool(lr.observed_a < lr.expected_a)
    else:
        row["p_time"], row["slower"] = np.nan, False
        notes.append(
            f"time in stage not tested: {n_cur} entries in the quarter, {n_base} in the baseline "
            f"(at least {min_resolved} each needed)"
        )
    row["note"] = "; ".join(notes)
    return row


def find_bottlenecks(
    data: Any, quarter: Quarter | str, by: str | None = "segment", **kwargs: Any
) -> pd.DataFrame:
    """The rows of :func:`bottleneck_scan` for one quarter, flagged first (then by group and stage order).

    Parameters
    ----------
    data : SalesData
    quarter : Quarter or str
        The quarter under review.
    by : str or None
        As in :func:`bottleneck_scan`.
    **kwargs
        Passed to :func:`bottleneck_scan`.
    """
    return select_quarter(bottleneck_scan(data, quarters=[quarter], by=by, **kwargs), quarter)


def select_quarter(scan: pd.DataFrame, quarter: Quarter | str) -> pd.DataFrame:
    """The rows of a :func:`bottleneck_scan` table for one quarter, flagged first; a table that came back
    empty for missing data (``attrs["missing"]``) is returned as it is."""
    if scan.attrs.get("missing") or scan.empty:
        return scan
    rows = scan[scan["quarter"].eq(str(as_quarter(quarter)))]
    rows = rows.sort_values("flagged", ascending=False, kind="stable").reset_index(drop=True)
    rows.attrs.update(scan.attrs)
    return rows
