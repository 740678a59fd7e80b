"""Lead qualification: lead -> MQL -> SQL -> opportunity -> won, and speed-to-lead.

Conversions are measured **within a window**: a lead that became an MQL converts to SQL when it does so
within ``windows["mql_to_sql"]`` days. A lead that entered a step less than that window before ``as_of``
has not had its full chance yet; it is counted as ``immature`` and left out of the rate, so the latest
periods are not biased low by leads still in progress (nor high by counting only the quick ones).

Stage moments: ``created_at``, ``mql_at``, ``sql_at``, the opportunity's creation (its ``created_date``) and
its close (``close_date`` of a won deal). A lead that reaches a later stage without a recorded earlier one
passed the earlier one at that later moment (an SQL without ``mql_at`` was an MQL when it became an SQL).
Only moments at or before ``as_of`` count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from salesops.engine import Engine, engine_for
from salesops.engine.leads import DEFAULT_WINDOWS, STEPS, lead_funnel_counts
from salesops.funnel._common import (
    PERIODS,
    MissingDataError,
    as_list,
    data_moment,
    days_between,
    period_labels,
    require_columns,
    require_table,
    shrink_within,
    to_dt,
    utc,
)
from salesops.stats import km_median, wilson_interval
from salesops.stats.comparisons import adjust_pvalues, two_proportion_test
from salesops.stats.logit import logit_fit

__all__ = [
    "DEFAULT_WINDOWS",
    "SPEED_BANDS",
    "STEPS",
    "lead_funnel",
    "lead_funnel_change",
    "lead_moments",
    "rates_table",
    "speed_to_lead",
    "speed_to_lead_effect",
    "speed_to_lead_bands",
]

#: Speed-to-lead bands (hours from creation to first touch): label -> (from, to).
SPEED_BANDS: dict[str, tuple[float, float]] = {
    "<1h": (0.0, 1.0),
    "1-4h": (1.0, 4.0),
    "4-24h": (4.0, 24.0),
    "24-72h": (24.0, 72.0),
    ">72h": (72.0, np.inf),
}
_PREVENTS = "the lead funnel"
#: Columns of a :func:`lead_funnel` table that are not group keys.
_VALUE_COLUMNS = frozenset(
    [
        "period",
        "step",
        "reached",
        "immature",
        "mature",
        "converted",
        "rate",
        "lower",
        "upper",
        "window_days",
        "shrunk_rate",
        "shrunk_lower",
        "shrunk_upper",
    ]
)


def lead_moments(data: Any, as_of: Any = None, by: list[str] | None = None) -> pd.DataFrame:
    """When each lead reached each stage, as known at ``as_of`` (NaT: not reached by then).

    Returns
    -------
    DataFrame
        Indexed by ``lead_id``: ``lead, mql, sql, opportunity, won`` (tz-aware UTC moments) and the ``by``
        columns (``source``, ``segment`` from the account, or any leads column).

    Raises
    ------
    MissingDataError
        Without the leads table, or a column a stage or ``by`` needs.
    """
    leads = require_table(data, "leads", _PREVENTS)
    require_columns(leads, "leads", ["lead_id", "created_at"], _PREVENTS)
    moment = data_moment(data, as_of)
    out = pd.DataFrame(index=pd.Index(leads["lead_id"].to_numpy(), name="lead_id"))
    out["lead"] = utc(leads["created_at"]).to_numpy()
    for stage, col in (("mql", "mql_at"), ("sql", "sql_at")):
        out[stage] = utc(leads[col]).to_numpy() if col in leads.columns else pd.NaT
    opps = getattr(data, "opportunities", None)
    if "opportunity_id" in leads.columns and opps is not None:
        o = opps.set_index("opportunity_id")
        oid = leads["opportunity_id"]
        out["opportunity"] = oid.map(utc(o["created_date"])).to_numpy()
        won_at = utc(o["close_date"]).where(o["is_won"].astype(bool))
        out["won"] = oid.map(won_at).to_numpy()
    else:
        out["opportunity"] = pd.NaT
        out["won"] = pd.NaT
    stages = ["lead", "mql", "sql", "opportunity", "won"]
    for s in stages:
        out[s] = to_dt(out[s], utc=True)
        out.loc[out[s] > moment, s] = pd.NaT
    # a later stage implies the earlier ones, reached no later than it
    for i in range(len(stages) - 2, 0, -1):
        later, here = out[stages[i + 1]], out[stages[i]]
        out[stages[i]] = here.where(here.notna(), later)
    for col in by or []:
        out[col] = _lead_attribute(data, leads, col).to_numpy()
    out.attrs["as_of"] = moment
    return out


def _lead_attribute(data: Any, leads: pd.DataFrame, col: str) -> pd.Series:
    if col == "segment":
        accounts = getattr(data, "accounts", None)
        if "account_id" not in leads.columns or accounts is None or "segment" not in accounts.columns:
            raise MissingDataError("leads.account_id with accounts.segment", "a lead breakdown by segment")
        return (
            leads["account_id"]
            .map(accounts.set_index("account_id")["segment"])
            .astype(object)
            .fillna("(none)")
        )
    if col not in leads.columns:
        raise MissingDataError(f"the column leads.{col}", f"a lead breakdown by {col}")
    return leads[col].astype(object).fillna("(none)")


def lead_funnel(
    data: Any,
    by: str | list[str] | None = None,
    period: str | None = "quarter",
    as_of: Any = None,
    windows: Mapping[str, int] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Conversion of each funnel step, by group and by period of entry into the step's first stage.

    For step :math:`k \to k'` with window :math:`w` days, among leads that reached :math:`k` at
    :math:`t_k` with :math:`t_k + w \le` ``as_of`` (*mature*):

    .. math::

        \text{rate} = \frac{\#\{t_{k'} - t_k \le w\}}{\#\text{mature}},

    with a Wilson interval. Leads that reached :math:`k` later are ``immature`` and not in the rate. With
    ``by``, each group's rate is also shrunk toward the other groups' of the same step and period
    (empirical-Bayes beta-binomial, :func:`salesops.stats.shrink_rates`): small campaigns are not ranked on
    noise. The counts come from the engine (:func:`salesops.engine.leads.lead_funnel_counts`, the stage
    moments of :func:`lead_moments`); the intervals and shrinkage are computed here on that aggregate.

    Parameters
    ----------
    data : SalesData or Engine
        Needs ``leads`` (``mql_at``, ``sql_at``, ``opportunity_id`` for the later steps; ``opportunities`` for
        opportunity and won).
    by : str or list of str, optional
        ``source``, ``segment`` (via ``leads.account_id`` and ``accounts.segment``), ``campaign_id``, ...
    period : {"month", "quarter", "year"} or None
        Period of :math:`t_k`.
    as_of : str, date or Timestamp, optional
        Moment (default ``data.as_of``).
    windows : mapping, optional
        Days per step, overriding :data:`DEFAULT_WINDOWS`.
    confidence : float
        Interval level.

    Returns
    -------
    DataFrame
        ``[by..., period,] step, reached, immature, mature, converted, rate, lower, upper, window_days`` (and
        ``shrunk_rate, shrunk_lower, shrunk_upper`` with ``by``);
        steps whose stages the data does not record are left out and listed in ``.attrs["missing_steps"]``.
    """
    keys = as_list(by)
    _check_lead_data(data, keys)
    moment = data_moment(data, as_of)
    if period is not None and period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}; got {period!r}")
    engine = engine_for(data, tables=["leads", "opportunities", "accounts"])
    counts = lead_funnel_counts(engine, keys, period, moment, windows)
    win = counts.attrs["windows"]
    groups = [*keys, *(["period"] if period is not None else []), "step"]
    cols = [*groups, "reached", "immature", "mature", "converted", "rate", "lower", "upper", "window_days"]
    if counts.empty:
        table = pd.DataFrame(columns=cols)
    else:
        table = counts.copy()
        table["immature"] = table["reached"] - table["mature"]
        with np.errstate(divide="ignore", invalid="ignore"):
            table["rate"] = np.where(table["mature"] > 0, table["converted"] / table["mature"], np.nan)
        lo, hi = wilson_interval(
            table["converted"].to_numpy(float), table["mature"].to_numpy(float), confidence
        )
        table["lower"], table["upper"] = lo, hi
        if keys:
            family = [c for c in groups if c not in keys]
            table = shrink_within(table, "converted", "mature", family, confidence)
            cols += ["shrunk_rate", "shrunk_lower", "shrunk_upper"]
        table = table[cols]
    table.attrs.update(
        as_of=moment, missing_steps=list(counts.attrs["missing_steps"]), windows={s: win[s] for s in STEPS}
    )
    return table


def _check_lead_data(data: Any, keys: list[str]) -> None:
    """Raise :class:`MissingDataError` naming the leads table, column or breakdown the funnel cannot have."""
    if isinstance(data, Engine):
        if not data.has("leads"):
            raise MissingDataError("the leads table", _PREVENTS)
        missing = [c for c in ("lead_id", "created_at") if not data.has("leads", [c])]
        if missing:
            raise MissingDataError(f"the column(s) {', '.join(f'leads.{c}' for c in missing)}", _PREVENTS)
        has_segment = data.has("leads", ["account_id"]) and data.has("accounts", ["account_id", "segment"])
        has_column = lambda col: data.has("leads", [col])  # noqa: E731
    else:
        leads = require_table(data, "leads", _PREVENTS)
        require_columns(leads, "leads", ["lead_id", "created_at"], _PREVENTS)
        accounts = getattr(data, "accounts", None)
        has_segment = (
            "account_id" in leads.columns and accounts is not None and "segment" in accounts.columns
        )
        has_column = lambda col: col in leads.columns  # noqa: E731
    for col in keys:
        if col == "segment" and not has_segment:
            raise MissingDataError("leads.account_id with accounts.segment", "a lead breakdown by segment")
        if col != "segment" and not has_column(col):
            raise MissingDataError(f"the column leads.{col}", f"a lead breakdown by {col}")


def lead_funnel_change(
    funnel: pd.DataFrame,
    period: str,
    baseline_periods: int = 4,
    alpha: float = 0.05,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Each step's conversion in one period against the ``baseline_periods`` periods before it.

    From a :func:`lead_funnel` table with a ``period`` column: the period's mature counts against the pooled
    mature counts of the preceding periods (labels sort in time order), compared by a two-sided
    two-proportion z test (:func:`salesops.stats.comparisons.two_proportion_test`, Newcombe interval for the
    change); the p-values of all steps and groups are Holm-adjusted together and ``significant`` means
    adjusted p < ``alpha``.

    Parameters
    ----------
    funnel : DataFrame
        :func:`lead_funnel` output with ``period`` (a missing-data result passes through unchanged).
    period : str
        The period label to test (``"2025Q1"``).
    baseline_periods : int
        How many earlier periods form the baseline.
    alpha, confidence : float
        Family-wise error rate and interval level.

    Returns
    -------
    DataFrame
        ``[by...,] step, mature, rate, baseline_mature, baseline_rate, change, change_lower, change_upper,
        p_value, p_adjusted, significant, baseline_periods``.
    """
    if funnel.attrs.get("missing"):
        return funnel
    if "period" not in funnel.columns:
        raise ValueError(
            "the funnel table has no period column; build it with period='quarter' (or month, year)"
        )
    keys = [c for c in funnel.columns if c not in _VALUE_COLUMNS]
    labels = sorted(funnel["period"].dropna().unique())
    if period not in labels:
        raise MissingDataError(
            f"leads that entered a step in {period}", f"comparing {period}'s lead conversion"
        )
    before = labels[max(0, labels.index(period) - baseline_periods) : labels.index(period)]
    cur = funnel[funnel["period"].eq(period)]
    base = (
        funnel[funnel["period"].isin(before)]
        .groupby([*keys, "step"], sort=False)[["mature", "converted"]]
        .sum()
        .rename(columns={"mature": "baseline_mature", "converted": "baseline_converted"})
    )
    table = cur.join(base, on=[*keys, "step"]).fillna({"baseline_mature": 0, "baseline_converted": 0})
    test = two_proportion_test(
        table["converted"].to_numpy(float),
        table["mature"].to_numpy(float),
        table["baseline_converted"].to_numpy(float),
        table["baseline_mature"].to_numpy(float),
        confidence,
    )
    out = table[[*keys, "step", "mature", "rate"]].copy()
    out["baseline_mature"] = table["baseline_mature"].astype(int).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["baseline_rate"] = np.where(
            table["baseline_mature"] > 0, table["baseline_converted"] / table["baseline_mature"], np.nan
        )
    out["change"] = test.difference
    out["change_lower"], out["change_upper"] = test.lower, test.upper
    out["p_value"] = test.p_value
    out["p_adjusted"] = adjust_pvalues(out["p_value"].to_numpy(float), "holm")
    out["significant"] = out["p_adjusted"] < alpha
    out["baseline_periods"] = ", ".join(before)
    out = out.reset_index(drop=True)
    out.attrs.update(period=period, baseline=before, alpha=alpha)
    return out


def rates_table(funnel: pd.DataFrame, index: str = "source") -> pd.DataFrame:
    """A :func:`lead_funnel` table (``by=index``, no period) as one row per group and one column per step's
    rate, steps in funnel order; a missing-data result is returned as it is."""
    if funnel.attrs.get("missing") or funnel.empty:
        return funnel
    table = funnel.pivot_table(index=index, columns="step", values="rate", aggfunc="first")
    table = table.reindex(columns=[s for s in STEPS if s in table.columns])
    table.columns.name = None
    table.attrs.update(funnel.attrs)
    return table


def _speed_hours(data: Any, moment: pd.Timestamp) -> pd.DataFrame:
    leads = require_table(data, "leads", "speed-to-lead")
    require_columns(leads, "leads", ["created_at", "first_touch_at"], "speed-to-lead")
    created = utc(leads["created_at"])
    touch = utc(leads["first_touch_at"])
    touch = touch.where(touch <= moment)
    keep = created <= moment
    touched = touch.notna()
    end = touch.where(touched, moment)
    hours = ((end - created) / pd.Timedelta(hours=1)).clip(lower=0.0)
    return pd.DataFrame({"hours": hours, "touched": touched}, index=leads.index)[keep]


def speed_to_lead(
    data: Any, by: str | list[str] | None = "source", as_of: Any = None, confidence: float = 0.95
) -> pd.DataFrame:
    r"""Hours from a lead's creation to its first touch, by group.

    The median is the Kaplan-Meier median of the hours, leads not touched by ``as_of`` censored at their age
    (so slow groups are not flattered by ignoring leads still waiting), with its interval; ``within_1h`` and
    ``within_24h`` are the shares of leads touched within an hour / a day among leads at least that old.

    Parameters
    ----------
    data : SalesData
        Needs ``leads.created_at`` and ``leads.first_touch_at``.
    by : str or list of str, optional
        ``source``, ``segment``, ``owner_rep_id``, ... (None: all leads).
    as_of : str, date or Timestamp, optional
        Moment (default ``data.as_of``).
    confidence : float
        Level of the median's interval.

    Returns
    -------
    DataFrame
        ``[by...,] leads, touched, median_hours, lower, upper, within_1h, within_24h``.
    """
    keys = as_list(by)
    moment = data_moment(data, as_of)
    sp = _speed_hours(data, moment)
    leads = data.leads.loc[sp.index]
    for k in keys:
        sp[k] = _lead_attribute(data, leads, k).to_numpy()
    rows = []
    grouped = sp.groupby(keys, sort=True) if keys else [((), sp)]
    for g, f in grouped:
        med = km_median(f["hours"], f["touched"], confidence=confidence)
        age = f["hours"]  # for untouched leads the censored value is their age
        row = dict(zip(keys, g if isinstance(g, tuple) else (g,), strict=True))
        row.update(
            leads=len(f),
            touched=int(f["touched"].sum()),
            median_hours=med.median,
            lower=med.lower,
            upper=med.upper,
        )
        for label, h in (("within_1h", 1.0), ("within_24h", 24.0)):
            old = f["touched"] | (age >= h)
            row[label] = float((f["touched"] & (f["hours"] <= h))[old].mean()) if old.any() else np.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs["as_of"] = moment
    return table


def _mql_sql(data: Any, moment: pd.Timestamp, window: int) -> pd.DataFrame:
    m = lead_moments(data, moment)
    if m["mql"].isna().all() or m["sql"].isna().all():
        raise MissingDataError("leads.mql_at and leads.sql_at", "speed-to-lead against MQL to SQL conversion")
    sp = _speed_hours(data, moment)
    idx = data.leads.loc[sp.index, "lead_id"].to_numpy()
    hours = pd.Series(sp["hours"].to_numpy(), index=idx).where(sp["touched"].to_numpy())
    f = m[m["mql"].notna() & ((m["mql"] + pd.Timedelta(days=window)) <= moment)].copy()
    f["hours"] = f.index.map(hours)
    f["converted"] = days_between(f["sql"], f["mql"]) <= window
    return f[f["hours"].notna()]


def speed_to_lead_bands(
    data: Any,
    as_of: Any = None,
    window: int | None = None,
    bands: Mapping[str, tuple[float, float]] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """MQL -> SQL conversion (within ``window`` days, mature MQLs only, see :func:`lead_funnel`) by
    speed-to-lead band, with Wilson intervals. These raw rates mix the effect of speed with whatever makes
    some leads both fast and good (their source); :func:`speed_to_lead_effect` separates them.

    Returns
    -------
    DataFrame
        ``band, mqls, converted, rate, lower, upper``.
    """
    moment = data_moment(data, as_of)
    w = DEFAULT_WINDOWS["mql_to_sql"] if window is None else window
    f = _mql_sql(data, moment, w)
    bands = SPEED_BANDS if bands is None else bands
    rows = []
    for label, (lo_h, hi_h) in bands.items():
        sel = f[(f["hours"] >= lo_h) & (f["hours"] < hi_h)]
        n, k = len(sel), int(sel["converted"].sum())
        lo, hi = wilson_interval(k, n, confidence)
        rows.append(
            {
                "band": label,
                "mqls": n,
                "converted": k,
                "rate": k / n if n else np.nan,
                "lower": lo,
                "upper": hi,
            }
        )
    table = pd.DataFrame(rows)
    table.attrs.update(as_of=moment, window_days=w)
    return table


def speed_to_lead_effect(
    data: Any,
    as_of: Any = None,
    window: int | None = None,
    adjust_for: tuple[str, ...] = ("source", "segment", "industry", "persona"),
    confidence: float = 0.95,
    min_mqls: int = 200,
    min_level: int = 20,
) -> pd.DataFrame:
    r"""The effect of speed-to-lead on MQL -> SQL conversion, adjusted for what confounds it.

    Logistic regression over mature MQLs (see :func:`lead_funnel`):

    .. math::

        \operatorname{logit} P(\text{SQL within } w \mid \text{MQL}) = \beta_0
        + \beta\,\log_2(1 + \text{hours to first touch}) + \text{attributes} + \text{quarter of the MQL},

    attributes being those of ``adjust_for`` the data has (as categories: the most frequent level is the
    reference, levels with fewer than ``min_level`` MQLs join it), the MQL's quarter absorbing any change over
    time (a new qualification process). :math:`\beta` is the change in log-odds per doubling of
    :math:`1 + \text{hours}`; ``odds_ratio`` = :math:`e^\beta`. With fewer than ``min_mqls`` mature MQLs, or
    a design the data cannot identify, the estimate is NaN and ``note`` says why.

    Returns
    -------
    DataFrame
        One row: ``coef, lower, upper, p_value, odds_ratio, mqls, adjusted_for, note``; the full fit (every
        term's ``coef, se, z, p_value, lower, upper``) is in ``.attrs["fit"]`` as a dict by term.
    """
    moment = data_moment(data, as_of)
    w = DEFAULT_WINDOWS["mql_to_sql"] if window is None else window
    f = _mql_sql(data, moment, w)
    leads = data.leads.set_index("lead_id").loc[f.index]
    used = []
    cats = {}
    for col in adjust_for:
        try:
            values = _lead_attribute(data, leads.reset_index(), col)
        except MissingDataError:
            continue
        if values.nunique() > 1:
            cats[col] = values.to_numpy()
            used.append(col)
    cats["quarter"] = period_labels(f["mql"], "quarter").to_numpy()
    X = pd.DataFrame({"speed_log2": np.log2(1.0 + f["hours"].to_numpy(float))})
    for col, values in cats.items():
        s = pd.Series(values, dtype=object)
        counts = s.value_counts()
        # the most frequent level is the reference; levels too rare to estimate join it
        for lv in sorted(counts.index[1:][counts.iloc[1:] >= min_level], key=str):
            X[f"{col}={lv}"] = (s == lv).to_numpy(float)
    row = {
        "coef": np.nan,
        "lower": np.nan,
        "upper": np.nan,
        "p_value": np.nan,
        "odds_ratio": np.nan,
        "mqls": len(f),
        "adjusted_for": ", ".join([*used, "quarter"]),
        "note": "",
    }
    fit = None
    y = f["converted"].to_numpy(float)
    if len(f) < min_mqls or y.min() == y.max():
        row["note"] = (
            f"{len(f)} mature MQLs with a first touch, at least {min_mqls} with both outcomes needed"
        )
    else:
        try:
            fit = logit_fit(X, y, confidence=confidence)
        except ValueError as exc:  # a design the data cannot identify (e.g. speed constant)
            row["note"] = f"the adjusted model cannot be fitted: {exc}"
        else:
            r = fit.loc["speed_log2"]
            row.update(
                coef=r["coef"],
                lower=r["lower"],
                upper=r["upper"],
                p_value=r["p_value"],
                odds_ratio=float(np.exp(r["coef"])),
            )
    table = pd.DataFrame([row])
    table.attrs.update(as_of=moment, window_days=w, fit=None if fit is None else fit.to_dict("index"))
    return table
