"""External benchmarks (``templates/benchmarks.yaml``) and the company's own figures beside them.

* :func:`load_benchmarks` — the reference values with their source, year and definition.
* The company's figures, each computed as known at a cutoff over a trailing window:
  :func:`win_rate`, :func:`sales_cycle`, :func:`new_customers`, :func:`cac`, :func:`monthly_churn`,
  :func:`unit_economics` (LTV, LTV:CAC, CAC payback), :func:`quota_attainment`.
* :func:`company_figures` gathers them; :func:`compare_to_benchmarks` sets them beside the benchmarks.

The KPI package (``salesops.kpi``) was not there when this was written, so the few KPIs the comparison needs
are computed here, each with its formula and a test. A figure that cannot be computed (no quota table, no
revenue) comes back as NaN with a note saying which table is missing.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesops.experiments.common import MissingData, NotEnoughData, cutoff_of, known_at, require_table
from salesops.paths import templates_dir
from salesops.safe_yaml import YamlLimitError, load_yaml
from salesops.stats import wilson_interval

__all__ = [
    "BENCHMARK_FIELDS",
    "cac",
    "company_figures",
    "compare_to_benchmarks",
    "load_benchmarks",
    "monthly_churn",
    "new_customers",
    "quota_attainment",
    "sales_cycle",
    "unit_economics",
    "win_rate",
]

#: Fields every entry of ``benchmarks.yaml`` carries.
BENCHMARK_FIELDS = (
    "metric", "label", "value", "unit", "statistic", "direction", "definition", "population", "source", "url",
    "year", "year_note", "kind", "cited_by", "note",
)
_UNITS = {"share", "days", "months", "ratio"}


def load_benchmarks(path: str | Path | None = None) -> pd.DataFrame:
    """The external reference values.

    Parameters
    ----------
    path : str or Path, optional
        A benchmarks YAML file (default ``templates/benchmarks.yaml``).

    Returns
    -------
    DataFrame
        One row per benchmark with the columns of :data:`BENCHMARK_FIELDS`.

    Raises
    ------
    ValueError
        When an entry lacks a field, has a non-numeric value or an unknown unit, or has neither a year nor a
        ``year_note`` saying why not (the message names the entry).
    """
    path = Path(path) if path is not None else templates_dir() / "benchmarks.yaml"
    try:
        doc = load_yaml(Path(path), f"benchmarks file {path}") or {}
    except YamlLimitError as exc:
        raise ValueError(str(exc)) from None
    entries = doc.get("benchmarks")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: no `benchmarks:` list")
    rows = []
    for i, e in enumerate(entries, start=1):
        where = f"{path}, benchmark {i} ({e.get('metric', '?')})"
        missing = [f for f in BENCHMARK_FIELDS if f not in e]
        if missing:
            raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
        if not isinstance(e["value"], int | float) or isinstance(e["value"], bool) or not math.isfinite(e["value"]):
            raise ValueError(f"{where}: value {e['value']!r} is not a number")
        if e["unit"] not in _UNITS:
            raise ValueError(f"{where}: unit {e['unit']!r} is not one of {sorted(_UNITS)}")
        if not e["source"] or not e["url"]:
            raise ValueError(f"{where}: every benchmark needs a source and a url")
        if e["year"] is None and not e["year_note"]:
            raise ValueError(f"{where}: no year and no year_note saying why")
        if e["direction"] not in ("higher_is_better", "lower_is_better"):
            raise ValueError(f"{where}: direction must be higher_is_better or lower_is_better")
        rows.append({f: e[f] for f in BENCHMARK_FIELDS})
    out = pd.DataFrame(rows, columns=list(BENCHMARK_FIELDS))
    out["year"] = out["year"].astype("Int64")
    return out


# --- the company's own figures -----------------------------------------------------------------------------


def _window(cutoff: pd.Timestamp | None, months: int | None, frame_dates: pd.Series,
            monthly: bool = False) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(first day, last day) of the trailing window of ``months`` ending on the cutoff day.

    Without a cutoff the window ends on the latest date of ``frame_dates`` (the end of its month when the dates
    are ``monthly`` month starts); ``months=None`` starts it on the earliest.
    """
    if cutoff is not None:
        end = cutoff.tz_convert("UTC").tz_localize(None).normalize()
    else:
        end = pd.Timestamp(frame_dates.max()).normalize()
        if monthly:
            end = end.to_period("M").end_time.normalize()
    start = pd.Timestamp(frame_dates.min()).normalize() if months is None else (
        end + pd.Timedelta(days=1) - pd.DateOffset(months=months))
    return start, end


def _segment(opps: pd.DataFrame, tables: dict, by: str | None) -> pd.DataFrame:
    if by is None or by in opps.columns:
        return opps
    if by == "segment" and tables.get("accounts") is not None and "segment" in tables["accounts"].columns:
        seg = tables["accounts"].set_index("account_id")["segment"]
        return opps.assign(segment=opps["account_id"].map(seg))
    reps = tables.get("reps")
    if reps is not None and by in reps.columns:
        return opps.assign(**{by: opps["owner_rep_id"].map(reps.set_index("rep_id")[by])})
    raise MissingData(f"cannot group by {by!r}: no such column in opportunities, accounts or reps")


def win_rate(data: Any, by: str | None = None, quarter: str | None = None, as_of: Any = None,
             months: int | None = 12, confidence: float = 0.95) -> pd.DataFrame:
    r"""Win rate of the opportunities closed in the trailing window, with a Wilson interval.

    :math:`\text{win rate} = \#\text{won} / \#\text{closed}` over opportunities whose ``close_date`` falls in the
    ``months`` before the cutoff (all of them with ``months=None``); deals closed after the cutoff count as open.

    Parameters
    ----------
    data : SalesData or dict of DataFrame
    by : str, optional
        Group column of opportunities, reps, or ``segment`` (the account's).
    quarter, as_of : optional
        Cutoff (see :func:`salesops.experiments.common.cutoff_of`).
    months : int or None
        Trailing window length.
    confidence : float
        Interval level.

    Returns
    -------
    DataFrame
        ``[by,] closed, won, win_rate, lower, upper``.
    """
    cutoff = cutoff_of(quarter, as_of)
    tables = known_at(data, cutoff, ("opportunities", "accounts", "reps"))
    opps = require_table(tables, "opportunities", ["close_date", "is_closed", "is_won"], "for the win rate")
    closed = opps[opps["is_closed"].astype(bool)]
    lo, hi = _window(cutoff, months, closed["close_date"] if len(closed) else opps["close_date"])
    closed = closed[(closed["close_date"] >= lo) & (closed["close_date"] <= hi)]
    closed = _segment(closed, tables, by)
    keys = [by] if by else []
    g = closed.assign(_won=closed["is_won"].astype(bool)).groupby(keys or (lambda _: "all"))["_won"]
    out = g.agg(closed="size", won="sum").reset_index(drop=not keys)
    out["win_rate"] = out["won"] / out["closed"]
    lo_, hi_ = wilson_interval(out["won"].to_numpy(float), out["closed"].to_numpy(float), confidence)
    out["lower"], out["upper"] = lo_, hi_
    return out[keys + ["closed", "won", "win_rate", "lower", "upper"]]


def sales_cycle(data: Any, by: str | None = None, quarter: str | None = None, as_of: Any = None,
                months: int | None = 12) -> pd.DataFrame:
    r"""Median sales cycle of the deals won in the trailing window.

    Cycle of a won deal = ``close_date - created_date`` in days; the median is over deals won (by close date) in
    the ``months`` before the cutoff. Won deals only, so no censoring arises (open deals are not in it); the
    figure describes how long winning takes, comparable with survey medians of "average sales cycle".

    Returns
    -------
    DataFrame
        ``[by,] won, median_days, q25_days, q75_days``.
    """
    cutoff = cutoff_of(quarter, as_of)
    tables = known_at(data, cutoff, ("opportunities", "accounts", "reps"))
    opps = require_table(tables, "opportunities", ["created_date", "close_date", "is_won"], "for the sales cycle")
    won = opps[opps["is_won"].astype(bool)]
    lo, hi = _window(cutoff, months, won["close_date"] if len(won) else opps["close_date"])
    won = _segment(won[(won["close_date"] >= lo) & (won["close_date"] <= hi)], tables, by)
    won = won.assign(_days=(won["close_date"] - won["created_date"]).dt.days.astype(float))
    keys = [by] if by else []
    g = won.groupby(keys or (lambda _: "all"))["_days"]
    out = g.agg(won="size", median_days="median", q25_days=lambda s: s.quantile(0.25),
                q75_days=lambda s: s.quantile(0.75)).reset_index(drop=not keys)
    return out[keys + ["won", "median_days", "q25_days", "q75_days"]]


def new_customers(opportunities: pd.DataFrame) -> pd.DataFrame:
    """Accounts whose first won opportunity (by close date) is ``new_business``, with that deal.

    Accounts whose first won deal in the data is an expansion or renewal were customers before the data start
    and are not new. Without a ``type`` column every account's first won deal counts.

    Returns
    -------
    DataFrame
        ``account_id, opportunity_id, close_date, amount``.
    """
    won = opportunities[opportunities["is_won"].astype(bool)].sort_values(["close_date", "opportunity_id"],
                                                                           kind="stable")
    first = won.groupby("account_id").head(1)
    if "type" in first.columns:
        first = first[first["type"] == "new_business"]
    return first[["account_id", "opportunity_id", "close_date", "amount"]].reset_index(drop=True)


def cac(data: Any, quarter: str | None = None, as_of: Any = None, months: int | None = 12) -> dict[str, float]:
    r"""Blended customer acquisition cost over the trailing window.

    .. math::

        \mathrm{CAC} = \frac{\text{marketing spend} + \text{sales costs}}{\#\text{new customers}}

    with spend and costs of the months in the window and new customers (:func:`new_customers`) won in it.

    Returns
    -------
    dict
        ``marketing_spend, sales_costs, new_customers, cac`` (NaN CAC without new customers).

    Raises
    ------
    MissingData
        Without ``marketing_spend`` or ``sales_costs``.
    """
    cutoff = cutoff_of(quarter, as_of)
    tables = known_at(data, cutoff, ("marketing_spend", "sales_costs", "opportunities"))
    spend = require_table(tables, "marketing_spend", ["month", "amount"], "the marketing half of CAC")
    costs = require_table(tables, "sales_costs", ["month", "amount"], "the sales half of CAC")
    opps = require_table(tables, "opportunities", ["account_id", "close_date", "is_won"], "to count new customers")
    lo, hi = _window(cutoff, months, pd.concat([spend["month"], costs["month"]]), monthly=True)
    lo = lo.to_period("M").start_time
    m = spend.loc[(spend["month"] >= lo) & (spend["month"] <= hi), "amount"].sum()
    s = costs.loc[(costs["month"] >= lo) & (costs["month"] <= hi), "amount"].sum()
    new = new_customers(opps)
    n = int(((new["close_date"] >= lo) & (new["close_date"] <= hi)).sum())
    return {"marketing_spend": float(m), "sales_costs": float(s), "new_customers": n,
            "cac": float((m + s) / n) if n else math.nan}


def monthly_churn(revenue: pd.DataFrame, accounts: pd.DataFrame | None = None, by: str | None = None,
                  start: Any = None, end: Any = None, logo: bool = True) -> pd.DataFrame:
    r"""Pooled monthly churn: accounts (or MRR) lost / accounts (or MRR) active the month before.

    On the account x month grid of MRR (missing months are 0), an account churns in month :math:`m` when it had
    MRR in :math:`m-1` and none in :math:`m`:

    .. math::

        \text{logo churn} = \frac{\sum_m \#\{\text{churned in } m\}}{\sum_m \#\{\text{active in } m-1\}}, \qquad
        \text{revenue churn} = \frac{\sum_m \mathrm{MRR}_{m-1}(\text{churned in } m)}{\sum_m \mathrm{MRR}_{m-1}}.

    Parameters
    ----------
    revenue : DataFrame
        ``account_id, month, mrr``.
    accounts : DataFrame, optional
        For ``by`` (an accounts column such as ``segment``).
    by : str, optional
        Group column.
    start, end : date-like, optional
        First and last month of the grid (default: those of ``revenue``).
    logo : bool
        Count accounts (True) or sum MRR (False).

    Returns
    -------
    DataFrame
        ``[by,] churned, at_risk, churn`` (churned and at-risk are account counts or MRR sums).
    """
    require_columns = [c for c in ("account_id", "month", "mrr") if c not in revenue.columns]
    if require_columns:
        raise MissingData(f"the `revenue` table lacks column(s) {require_columns}")
    grid = revenue.pivot_table(index="account_id", columns="month", values="mrr", aggfunc="sum", fill_value=0.0)
    months = pd.date_range(pd.Timestamp(start) if start is not None else grid.columns.min(),
                           pd.Timestamp(end) if end is not None else grid.columns.max(), freq="MS")
    grid = grid.reindex(columns=months, fill_value=0.0)
    prev, cur = grid.to_numpy()[:, :-1], grid.to_numpy()[:, 1:]
    base = (prev > 0).astype(float) if logo else prev
    lost = np.where((prev > 0) & (cur <= 0), base, 0.0)
    frame = pd.DataFrame({"churned": lost.sum(axis=1), "at_risk": base.sum(axis=1)}, index=grid.index)
    if by is not None:
        if accounts is None or by not in accounts.columns:
            raise MissingData(f"churn by {by!r} needs the `accounts` table with a `{by}` column")
        frame[by] = frame.index.map(accounts.set_index("account_id")[by])
        out = frame.groupby(by)[["churned", "at_risk"]].sum().reset_index()
    else:
        out = frame[["churned", "at_risk"]].sum().to_frame().T
    out["churn"] = out["churned"] / out["at_risk"].where(out["at_risk"] > 0)
    return out


def unit_economics(data: Any, quarter: str | None = None, as_of: Any = None, months: int | None = 12,
                   gross_margin: float = 1.0) -> dict[str, float]:
    r"""LTV, LTV:CAC and CAC payback over the trailing window.

    .. math::

        \mathrm{ARPA} = \frac{\sum \mathrm{MRR}}{\#\text{account-months with MRR}}, \quad
        \mathrm{LTV} = \frac{\mathrm{ARPA} \cdot g}{c}, \quad
        \text{payback} = \frac{\mathrm{CAC}}{\overline{\mathrm{MRR}}_{new} \cdot g}

    with :math:`g` the gross margin, :math:`c` the pooled monthly logo churn (:func:`monthly_churn`) and
    :math:`\overline{\mathrm{MRR}}_{new}` the mean first-month MRR of accounts whose first revenue month lies in
    the window (not the grid's first month, which also holds older customers). ``gross_margin=1`` gives a
    revenue-based LTV, which overstates LTV:CAC against gross-margin benchmarks.

    Returns
    -------
    dict
        ``arpa, churn, ltv, cac, ltv_to_cac, new_mrr, cac_payback_months`` (NaN where a part is missing).
    """
    if not 0 < gross_margin <= 1:
        raise ValueError(f"gross_margin must be in (0, 1], got {gross_margin!r}")
    cutoff = cutoff_of(quarter, as_of)
    tables = known_at(data, cutoff, ("revenue", "marketing_spend", "sales_costs", "opportunities"))
    rev = require_table(tables, "revenue", ["account_id", "month", "mrr"], "for LTV")
    lo, hi = _window(cutoff, months, rev["month"], monthly=True)
    lo = lo.to_period("M").start_time
    first_month = rev["month"].min()
    win = rev[(rev["month"] >= lo) & (rev["month"] <= hi)]
    active = win[win["mrr"] > 0]
    arpa = float(active["mrr"].mean()) if len(active) else math.nan
    churn = monthly_churn(rev[rev["month"] <= hi], start=max(lo - pd.DateOffset(months=1), first_month),
                          end=hi.to_period("M").start_time)
    c = float(churn["churn"].iat[0]) if len(churn) else math.nan
    ltv = arpa * gross_margin / c if c and c > 0 else math.nan
    firsts = rev[rev["mrr"] > 0].sort_values("month").groupby("account_id").head(1)
    firsts = firsts[(firsts["month"] > first_month) & (firsts["month"] >= lo) & (firsts["month"] <= hi)]
    new_mrr = float(firsts["mrr"].mean()) if len(firsts) else math.nan
    acq = cac(tables, as_of=cutoff, months=months)
    cost = acq["cac"]
    return {
        "arpa": arpa, "churn": c, "ltv": ltv, "cac": cost,
        "ltv_to_cac": ltv / cost if cost and math.isfinite(cost) and math.isfinite(ltv) else math.nan,
        "new_mrr": new_mrr,
        "cac_payback_months": cost / (new_mrr * gross_margin) if math.isfinite(new_mrr) and new_mrr > 0 else math.nan,
    }


def quota_attainment(data: Any, quarter: str | None = None, as_of: Any = None, months: int | None = 12,
                     measure: str = "bookings") -> pd.DataFrame:
    r"""Attainment of each quota period that ended in the trailing window.

    :math:`\text{attainment} = \text{bookings} / \text{quota}` per rep and period, bookings being the amount of
    deals the rep won with ``close_date`` inside the period. Only periods that ended on or before the cutoff
    (and started within the window) count, and quotas of zero are left out.

    Returns
    -------
    DataFrame
        ``rep_id, period_start, period_end, quota, bookings, attainment, made_quota``.

    Raises
    ------
    MissingData
        Without a ``quotas`` table.
    """
    cutoff = cutoff_of(quarter, as_of)
    tables = known_at(data, cutoff, ("quotas", "opportunities"))
    q = require_table(tables, "quotas", ["rep_id", "period_start", "period_end", "amount"], "for quota attainment")
    if "measure" in q.columns:
        q = q[q["measure"].fillna("bookings") == measure]
    opps = require_table(tables, "opportunities", ["owner_rep_id", "close_date", "is_won", "amount"],
                         "for the bookings against quota")
    lo, hi = _window(cutoff, months, q["period_end"])
    q = q[(q["period_end"] <= hi) & (q["period_start"] >= lo) & (q["amount"] > 0)].copy()
    won = opps[opps["is_won"].astype(bool)]
    merged = q[["rep_id", "period_start", "period_end", "amount"]].merge(
        won[["owner_rep_id", "close_date", "amount"]].rename(columns={"owner_rep_id": "rep_id", "amount": "won"}),
        on="rep_id", how="left")
    inside = (merged["close_date"] >= merged["period_start"]) & (merged["close_date"] <= merged["period_end"])
    merged["won"] = np.where(inside, merged["won"], 0.0)
    out = merged.groupby(["rep_id", "period_start", "period_end"], as_index=False).agg(
        quota=("amount", "first"), bookings=("won", "sum"))
    out["attainment"] = out["bookings"] / out["quota"]
    out["made_quota"] = out["attainment"] >= 1.0
    return out


def company_figures(data: Any, quarter: str | None = None, as_of: Any = None, months: int = 12,
                    gross_margin: float = 1.0, ramp_months: float | None = None) -> pd.DataFrame:
    """The company's figures for every benchmark metric, over the trailing ``months`` to the cutoff.

    ``win_rate`` (:func:`win_rate`), ``sales_cycle_days`` (:func:`sales_cycle`), ``ltv_to_cac`` and
    ``cac_payback_months`` (:func:`unit_economics`), ``quota_attainment`` (share of quota periods made,
    :func:`quota_attainment`) and ``ramp_months`` (given, or fitted by :func:`salesops.people.ramp.fit_ramp`).
    A figure that cannot be computed is NaN with ``note`` naming what is missing.

    Returns
    -------
    DataFrame
        ``metric, value, unit, n, note``.
    """
    rows: list[dict[str, Any]] = []

    def add(metric: str, unit: str, fn) -> None:
        try:
            value, n, note = fn()
        except (MissingData, NotEnoughData) as exc:
            value, n, note = math.nan, 0, str(exc)
        rows.append({"metric": metric, "value": value, "unit": unit, "n": n, "note": note})

    def _wr():
        w = win_rate(data, quarter=quarter, as_of=as_of, months=months)
        return float(w["win_rate"].iat[0]) if len(w) else math.nan, int(w["closed"].sum()), "won / closed deals"

    def _cy():
        c = sales_cycle(data, quarter=quarter, as_of=as_of, months=months)
        return float(c["median_days"].iat[0]) if len(c) else math.nan, int(c["won"].sum()), "median, won deals"

    def _ue(key: str):
        def f():
            u = unit_economics(data, quarter=quarter, as_of=as_of, months=months, gross_margin=gross_margin)
            note = f"gross margin {gross_margin:g}" + (" (revenue-based)" if gross_margin == 1 else "")
            return u[key], 0, note
        return f

    def _qa():
        a = quota_attainment(data, quarter=quarter, as_of=as_of, months=months)
        return (float(a["made_quota"].mean()) if len(a) else math.nan, int(len(a)),
                "share of rep-quarters at or above quota")

    add("win_rate", "share", _wr)
    add("sales_cycle_days", "days", _cy)
    add("ltv_to_cac", "ratio", _ue("ltv_to_cac"))
    add("cac_payback_months", "months", _ue("cac_payback_months"))
    add("quota_attainment", "share", _qa)
    if ramp_months is None:
        # imported here: people builds on experiments, not the reverse
        from salesops.people.ramp import fit_ramp, tenure_panel

        def _rm():
            est, _tau = fit_ramp(tenure_panel(data, quarter=quarter, as_of=as_of), n_boot=0)
            return est.value, est.n, ("months to 90% of tenured peers' new pipeline (fitted ramp curve)"
                                      if est.available else est.message)
        add("ramp_months", "months", _rm)
    else:
        rows.append({"metric": "ramp_months", "value": float(ramp_months), "unit": "months", "n": 0,
                     "note": "months to 90% of tenured peers' new pipeline"})
    return pd.DataFrame(rows, columns=["metric", "value", "unit", "n", "note"])


def compare_to_benchmarks(figures: pd.DataFrame, benchmarks: pd.DataFrame | None = None) -> pd.DataFrame:
    """The company's figures beside every benchmark of the same metric.

    ``status`` is ``better``, ``worse`` (per the benchmark's ``direction``) or ``n/a`` when the company figure
    is missing; ``gap`` is company minus benchmark, in the metric's unit.

    Returns
    -------
    DataFrame
        ``metric, label, company, benchmark, unit, gap, status, statistic, source, year, kind, definition``.
    """
    bench = load_benchmarks() if benchmarks is None else benchmarks
    merged = bench.merge(figures[["metric", "value", "note"]].rename(columns={"value": "company",
                                                                             "note": "company_note"}),
                         on="metric", how="left")
    merged = merged.rename(columns={"value": "benchmark"})
    merged["gap"] = merged["company"] - merged["benchmark"]
    better = np.where(merged["direction"] == "higher_is_better", merged["gap"] >= 0, merged["gap"] <= 0)
    merged["status"] = np.where(merged["company"].isna(), "n/a", np.where(better, "better", "worse"))
    cols = ["metric", "label", "company", "benchmark", "unit", "gap", "status", "statistic", "source", "year",
            "kind", "definition", "company_note"]
    return merged[cols]
