"""The open pipeline at a moment: its size, coverage of the quota still open, velocity, age and stale deals.

Every figure reads the pipeline as it stood at the moment (:func:`~salesops.funnel.snapshot.pipeline_at`),
so a review of a past quarter sees what its managers saw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesops.funnel._common import (
    MissingDataError,
    as_list,
    as_moment,
    as_quarter,
    data_moment,
    opportunity_attributes,
    quarter_moments,
    require_columns,
    require_table,
    stage_info,
    to_dt,
)
from salesops.funnel.snapshot import pipeline_at
from salesops.periods import Quarter
from salesops.stats import wilson_interval

__all__ = ["coverage", "pipeline_age", "pipeline_size", "sales_velocity", "stale_deals"]

_STATE = {"stage", "amount", "close_date", "forecast_category"}


def _check_by(snap: pd.DataFrame, data: Any, keys: list[str], prevents: str) -> None:
    for k in keys:
        if k in snap.columns and snap[k].notna().any():
            continue
        if k in _STATE:
            table = (
                "opportunity_history"
                if getattr(data, "opportunity_history", None) is not None
                else "opportunities"
            )
            raise MissingDataError(f"the column {table}.{k}", prevents)
        opportunity_attributes(data, [k])  # raises naming what is missing
        raise MissingDataError(f"values in {k}", prevents)


def _stage_sorted(table: pd.DataFrame, data: Any, keys: list[str]) -> pd.DataFrame:
    if "stage" not in keys or table.empty:
        return table.sort_values(keys, kind="stable").reset_index(drop=True) if keys else table
    order = stage_info(getattr(data, "stages", None), seen=table["stage"].unique()).order
    sort = ["_o" if k == "stage" else k for k in keys]  # stages in sales order, keys in the order given
    return (
        table.assign(_o=table["stage"].map(order))
        .sort_values(sort, kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def _group_keys(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """One tuple per row of the row's values of ``keys`` (missing values as ``"(none)"``)."""
    cols = [frame[k].astype(object).fillna("(none)").to_numpy() for k in keys]
    return pd.Series(list(zip(*cols)) if keys else [()] * len(frame), index=frame.index, dtype=object)


def pipeline_size(data: Any, by: str | list[str] | None = "stage", as_of: Any = None) -> pd.DataFrame:
    r"""Open pipeline at ``as_of`` by stage, segment, forecast category or any other attribute.

    For each group :math:`g`: ``deals`` = number of open opportunities, ``amount`` = :math:`\sum a_o`,
    ``weighted_amount`` = :math:`\sum a_o\,p_{s(o)}` with :math:`p_s` the stage's CRM win probability, and
    ``share`` = the group's amount over the whole open pipeline.

    Parameters
    ----------
    data : SalesData
    by : str or list of str, optional
        ``stage``, ``segment``, ``forecast_category``, ``team``, ``type``, ... (None: one total row).
    as_of : str, date or Timestamp, optional
        Moment (default ``data.as_of``); before the export's own as-of it needs ``opportunity_history``.

    Returns
    -------
    DataFrame
        ``[by...,] deals, amount, weighted_amount, share`` (stages in sales order).
    """
    keys = as_list(by)
    snap = pipeline_at(data, data_moment(data, as_of))
    _check_by(snap, data, keys, f"the pipeline by {', '.join(keys)}")
    open_ = snap[snap["is_open"]].copy()
    info = stage_info(getattr(data, "stages", None), seen=snap["stage"].unique())
    open_["weighted"] = open_["amount"] * open_["stage"].map(info.probability)
    if keys:
        grouped = open_.groupby([open_[k].astype(object).fillna("(none)") for k in keys], sort=False)
        table = grouped.agg(
            deals=("amount", "size"), amount=("amount", "sum"), weighted_amount=("weighted", "sum")
        )
        table = table.reset_index()
    else:
        table = pd.DataFrame(
            {
                "deals": [len(open_)],
                "amount": [open_["amount"].sum()],
                "weighted_amount": [open_["weighted"].sum()],
            }
        )
    total = open_["amount"].sum()
    table["share"] = table["amount"] / total if total else np.nan
    table = _stage_sorted(table, data, keys)
    table.attrs["as_of"] = snap.attrs.get("as_of")
    return table


def _quota_for(data: Any, q: Quarter, keys: list[str]) -> pd.DataFrame:
    quotas = require_table(data, "quotas", "pipeline coverage")
    require_columns(quotas, "quotas", ["rep_id", "period_start", "period_end", "amount"], "pipeline coverage")
    qt = quotas
    if "measure" in qt.columns:
        qt = qt[qt["measure"].fillna("bookings").eq("bookings")]
    start, end = pd.Timestamp(q.start), pd.Timestamp(q.end)
    ps, pe = to_dt(qt["period_start"]), to_dt(qt["period_end"])
    overlap = ((pe.clip(upper=end) - ps.clip(lower=start)).dt.days + 1).clip(lower=0)
    length = (pe - ps).dt.days + 1
    part = qt.assign(quota=qt["amount"] * overlap / length)
    part = part[overlap > 0]
    if keys:
        reps = getattr(data, "reps", None)
        for k in keys:
            if k == "owner_rep_id":
                part[k] = part["rep_id"]
            elif reps is not None and k in reps.columns:
                part[k] = part["rep_id"].map(reps.set_index("rep_id")[k])
            else:
                raise MissingDataError(f"the column reps.{k}", f"quota coverage by {k}")
        return part.groupby([part[k].astype(object).fillna("(none)") for k in keys])["quota"].sum()
    return pd.Series({(): part["quota"].sum()}, name="quota")


COVERAGE_VALUES = ("quota", "won", "quota_open", "pipeline", "weighted_pipeline", "coverage", "weighted_coverage")


def coverage_groups(cov: pd.DataFrame) -> list[str]:
    """The grouping columns of a :func:`coverage` table (every column that is not one of its values)."""
    return [c for c in cov.columns if c not in COVERAGE_VALUES]


def coverage(
    data: Any, quarter: Quarter | str, by: str | list[str] | None = "segment", as_of: Any = None
) -> pd.DataFrame:
    r"""Pipeline coverage of the quota still open in a quarter, at a moment of it.

    At moment :math:`t` (default: the start of the quarter, the end of the day before its first day):

    .. math::

        \text{coverage} = \frac{\text{open pipeline due in } Q}{\max(\text{quota}_Q - \text{won}_Q(t),\ 0)},

    where the open pipeline due in :math:`Q` sums the amounts of deals open at :math:`t` with an expected
    close date in :math:`Q`; :math:`\text{quota}_Q` sums the ``bookings`` quotas of the quarter (a quota whose
    period overlaps the quarter only in part counts pro rata of days); :math:`\text{won}_Q(t)` sums the
    deals won from the quarter's start to :math:`t`. ``weighted_coverage`` uses the pipeline weighted by stage
    probability. Quotas are grouped by their rep's attribute (``reps.segment``, ``reps.team``), deals by
    theirs (the account's segment, the owner's team).

    Parameters
    ----------
    data : SalesData
        Needs ``quotas``; before the export's own as-of, ``opportunity_history``.
    quarter : Quarter or str
    by : str or list of str, optional
        ``segment``, ``team``, ``region``, ``owner_rep_id`` (None: the whole company).
    as_of : str, date or Timestamp, optional
        Moment inside the quarter (default its start).

    Returns
    -------
    DataFrame
        ``[by...,] quota, won, quota_open, pipeline, weighted_pipeline, coverage, weighted_coverage``
        (coverage NaN where the quota is met). ``.attrs["as_of"]`` is the moment.
    """
    q = as_quarter(quarter)
    keys = as_list(by)
    t0, t1 = quarter_moments(q)
    moment = as_moment(as_of) if as_of is not None else t0
    quota = _quota_for(data, q, keys)
    snap = pipeline_at(data, moment)
    _check_by(snap, data, keys, f"pipeline coverage by {', '.join(keys)}")
    info = stage_info(getattr(data, "stages", None), seen=snap["stage"].unique())
    close = to_dt(snap["close_date"])
    due = snap["is_open"] & close.between(pd.Timestamp(q.start), pd.Timestamp(q.end))
    won = snap["is_won"] & close.between(pd.Timestamp(q.start), moment.tz_localize(None))
    s = snap.assign(
        pipeline=snap["amount"].where(due, 0.0),
        weighted_pipeline=(snap["amount"] * snap["stage"].map(info.probability)).where(due, 0.0),
        won=snap["amount"].where(won, 0.0),
    )
    if keys:
        deals = s.groupby([s[k].astype(object).fillna("(none)") for k in keys])[
            ["won", "pipeline", "weighted_pipeline"]
        ].sum()
        table = pd.concat([quota.rename("quota"), deals], axis=1).fillna(0.0)
        table.index.names = keys
        table = table.reset_index()
    else:
        table = pd.DataFrame(
            {
                "quota": [float(quota.sum())],
                "won": [s["won"].sum()],
                "pipeline": [s["pipeline"].sum()],
                "weighted_pipeline": [s["weighted_pipeline"].sum()],
            }
        )
    table["quota_open"] = (table["quota"] - table["won"]).clip(lower=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["coverage"] = np.where(table["quota_open"] > 0, table["pipeline"] / table["quota_open"], np.nan)
        table["weighted_coverage"] = np.where(
            table["quota_open"] > 0, table["weighted_pipeline"] / table["quota_open"], np.nan
        )
    table = table[
        [
            *keys,
            "quota",
            "won",
            "quota_open",
            "pipeline",
            "weighted_pipeline",
            "coverage",
            "weighted_coverage",
        ]
    ]
    table.attrs.update(as_of=moment, quarter=str(q))
    return table


def sales_velocity(
    data: Any,
    by: str | list[str] | None = "segment",
    as_of: Any = None,
    window_days: int = 365,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Sales velocity: how much won business the open pipeline produces per day.

    .. math::

        v = \frac{n_{\text{open}} \times w \times \bar a}{\bar c}

    with :math:`n_{\text{open}}` the open opportunities at ``as_of``, and over the deals closed in the
    ``window_days`` before it: :math:`w` = won / closed (Wilson interval), :math:`\bar a` = mean amount of won
    deals, :math:`\bar c` = mean days from creation to close of won deals. The interval of :math:`v` is a
    percentile bootstrap over the closed deals (``n_boot`` resamples, seeded), :math:`n_{\text{open}}` held
    fixed.

    Parameters
    ----------
    data : SalesData
    by : str or list of str, optional
        ``segment``, ``team``, ``type``, ... (None: all).
    as_of : str, date or Timestamp, optional
        Moment (default ``data.as_of``).
    window_days : int
        Length of the look-back window of closed deals.
    confidence, n_boot, seed
        Interval level, bootstrap resamples and seed.

    Returns
    -------
    DataFrame
        ``[by...,] open_deals, closed, won, win_rate, win_rate_lower, win_rate_upper, avg_won_amount,
        avg_cycle_days, velocity_per_day, velocity_lower, velocity_upper``.
    """
    keys = as_list(by)
    moment = data_moment(data, as_of)
    snap = pipeline_at(data, moment)
    _check_by(snap, data, keys, f"sales velocity by {', '.join(keys)}")
    close = to_dt(snap["close_date"])
    day = moment.tz_localize(None).normalize()
    closed = snap[snap["is_closed"] & (close > day - pd.Timedelta(days=window_days)) & (close <= day)].copy()
    closed["cycle"] = (
        to_dt(closed["close_date"]) - closed["created_at"].dt.tz_localize(None).dt.normalize()
    ).dt.days.astype(float)
    rng = np.random.default_rng(seed)
    tail = (1.0 - confidence) / 2.0
    rows = []
    open_groups = _group_keys(snap[snap["is_open"]], keys).value_counts()
    closed_groups = dict(iter(closed.groupby(_group_keys(closed, keys), sort=False)))
    names = sorted(set(closed_groups) | set(open_groups.index), key=str)
    for g in names:
        c = closed_groups.get(g, closed.iloc[:0])
        n_open = int(open_groups.get(g, 0))
        won = c["is_won"].to_numpy(bool)
        amt, cyc = c["amount"].to_numpy(float), c["cycle"].to_numpy(float)
        n, k = len(c), int(won.sum())
        rate = k / n if n else np.nan
        lo, hi = wilson_interval(k, n, confidence)
        avg_amt = amt[won].mean() if k else np.nan
        avg_cyc = max(cyc[won].mean(), 1.0) if k else np.nan
        v = n_open * rate * avg_amt / avg_cyc if k else np.nan
        v_lo = v_hi = np.nan
        if k >= 2 and n_boot:
            idx = rng.integers(0, n, size=(n_boot, n))
            wb = won[idx]
            kb = wb.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                amt_b = (amt[idx] * wb).sum(axis=1) / kb
                cyc_b = np.maximum((cyc[idx] * wb).sum(axis=1) / kb, 1.0)
                vb = n_open * (kb / n) * amt_b / cyc_b
            vb = vb[np.isfinite(vb)]
            if vb.size:
                v_lo, v_hi = np.quantile(vb, [tail, 1.0 - tail])
        rows.append(
            {
                **dict(zip(keys, g, strict=True)),
                "open_deals": n_open,
                "closed": n,
                "won": k,
                "win_rate": rate,
                "win_rate_lower": lo,
                "win_rate_upper": hi,
                "avg_won_amount": avg_amt,
                "avg_cycle_days": avg_cyc,
                "velocity_per_day": v,
                "velocity_lower": v_lo,
                "velocity_upper": v_hi,
            }
        )
    table = pd.DataFrame(rows)
    table.attrs.update(as_of=moment, window_days=window_days)
    return table


def pipeline_age(data: Any, by: str | list[str] | None = "stage", as_of: Any = None) -> pd.DataFrame:
    """Age of the open deals (days since creation) at ``as_of``, by group: ``deals``, ``mean_days``, and the
    10th, 25th, 50th, 75th and 90th percentiles (``p10_days, p25_days, median_days, p75_days, p90_days``).

    Parameters
    ----------
    data : SalesData
    by : str or list of str, optional
        ``stage``, ``segment``, ... (None: all open deals).
    as_of : str, date or Timestamp, optional
        Moment (default ``data.as_of``).

    Returns
    -------
    DataFrame
        One row per group (stages in sales order).
    """
    keys = as_list(by)
    snap = pipeline_at(data, data_moment(data, as_of))
    _check_by(snap, data, keys, f"the pipeline age by {', '.join(keys)}")
    open_ = snap[snap["is_open"]]
    age = open_["age_days"]
    grouped = (
        age.groupby([open_[k].astype(object).fillna("(none)") for k in keys], sort=False) if keys else None
    )

    def summary(a: pd.Series) -> dict:
        return {
            "deals": int(a.size),
            "mean_days": a.mean(),
            "p10_days": a.quantile(0.1),
            "p25_days": a.quantile(0.25),
            "median_days": a.median(),
            "p75_days": a.quantile(0.75),
            "p90_days": a.quantile(0.9),
        }

    if keys:
        rows = [
            {**dict(zip(keys, g if isinstance(g, tuple) else (g,), strict=True)), **summary(a)}
            for g, a in grouped
        ]
        table = _stage_sorted(pd.DataFrame(rows), data, keys)
    else:
        table = pd.DataFrame([summary(age)])
    table.attrs["as_of"] = snap.attrs.get("as_of")
    return table


def stale_deals(data: Any, as_of: Any = None, stale_days: float = 30.0) -> pd.DataFrame:
    r"""Open deals at ``as_of`` that look abandoned.

    A deal is stale when

    * ``no_change``: nothing happened to it for more than ``stale_days`` days — no history row (stage, amount,
      close date, forecast category) and, when ``activities`` carry ``opportunity_id``, no activity:
      :math:`t - \max(\text{last change}, \text{last activity}) > \text{stale\_days}`; or
    * ``past_due``: its expected close date lies before the day of ``as_of``.

    Parameters
    ----------
    data : SalesData
    as_of : str, date or Timestamp, optional
        Moment (default ``data.as_of``).
    stale_days : float
        Days without a change or activity after which a deal is stale.

    Returns
    -------
    DataFrame
        One row per stale deal, largest amount first: ``opportunity_id``, its ``segment`` / ``owner_rep_id``
        when known, ``stage, amount, close_date, age_days, days_idle, days_past_due, reasons``.
        ``.attrs``: ``open_deals``, ``open_amount``, ``stale_amount`` and ``basis`` (what "idle" was read
        from).
    """
    moment = data_moment(data, as_of)
    snap = pipeline_at(data, moment)
    open_ = snap[snap["is_open"]].copy()
    last = open_["last_change_at"]
    basis = ["opportunity_history"] if last.notna().any() else []
    acts = getattr(data, "activities", None)
    if acts is not None and "opportunity_id" in acts.columns and acts["opportunity_id"].notna().any():
        a = acts[acts["opportunity_id"].isin(open_.index) & (acts["occurred_at"] <= moment)]
        last_act = a.groupby("opportunity_id")["occurred_at"].max()
        last = pd.concat([last, open_.index.to_series().map(last_act)], axis=1).max(axis=1)
        basis.append("activities")
    if not basis:
        raise MissingDataError("opportunity_history or activities.opportunity_id", "finding idle deals")
    open_["days_idle"] = (moment - to_dt(last, utc=True)) / pd.Timedelta(days=1)
    idle = open_["days_idle"] > stale_days
    past_due = open_["days_past_due"] > 0
    reasons = np.where(idle & past_due, "no_change, past_due", np.where(idle, "no_change", "past_due"))
    open_["reasons"] = reasons
    stale = open_[idle | past_due]
    cols = [
        c
        for c in [
            "segment",
            "owner_rep_id",
            "stage",
            "amount",
            "close_date",
            "age_days",
            "days_idle",
            "days_past_due",
            "reasons",
        ]
        if c in stale.columns
    ]
    out = stale[cols].sort_values("amount", ascending=False, kind="stable").reset_index()
    out.attrs.update(
        as_of=moment,
        open_deals=int(len(open_)),
        open_amount=float(open_["amount"].sum()),
        stale_amount=float(stale["amount"].sum()),
        basis=" and ".join(basis),
        stale_days=stale_days,
    )
    return out
