"""Activity and pipeline-generation forecasts for the next quarter, from quarterly series known at ``as_of``.

Each series (activities of one type and team per quarter; pipeline created per quarter and segment) is fitted
with :class:`~salesops.forecast.models.SeasonalQuarterly`; the forecast is its lognormal mean and the interval
its P10 and P90 (:math:`\\exp(\\hat\\mu \\pm 1.2816\\,\\hat\\sigma) - c`). Only complete quarters that ended by
``as_of`` are used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesops.io.data import SalesData
from salesops.periods import Quarter

from ._common import InsufficientHistoryError, as_quarter, as_utc, quarter_end, require
from .models import SeasonalQuarterly

__all__ = ["activity_forecast", "pipeline_generation_forecast", "quarterly_series_forecast"]

_Z90 = 1.2815515655446004


def quarterly_series_forecast(series: pd.DataFrame, quarter: Quarter | str, by: Sequence[str] = (),
                              value: str = "value", min_quarters: int = 4) -> pd.DataFrame:
    """Fit one :class:`SeasonalQuarterly` per group of a ``[*by, quarter, value]`` frame and forecast ``quarter``.

    Groups with fewer than ``min_quarters`` quarters get NaN and a note saying how many they have.

    Returns
    -------
    DataFrame
        ``[*by, quarter, forecast, p10, p90, quarters_used, note]``.
    """
    q = str(as_quarter(quarter))
    rows = []
    groups = series.groupby(list(by), sort=True) if by else [((), series)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        g = g.groupby("quarter")[value].sum().sort_index()
        row = dict(zip(by, key, strict=True)) | {"quarter": q, "quarters_used": len(g)}
        if len(g) < min_quarters:
            rows.append(row | {"forecast": np.nan, "p10": np.nan, "p90": np.nan,
                               "note": f"needs {min_quarters} complete quarters, has {len(g)}"})
            continue
        m = SeasonalQuarterly(min_quarters=min_quarters).fit(list(g.index), g.to_numpy(float))
        mu = float(m.predict_log([q])[0])
        rows.append(row | {"forecast": float(m.predict([q])[0]),
                           "p10": max(np.exp(mu - _Z90 * m.sigma_) - m.offset_, 0.0),
                           "p90": np.exp(mu + _Z90 * m.sigma_) - m.offset_, "note": ""})
    return pd.DataFrame(rows)[[*by, "quarter", "forecast", "p10", "p90", "quarters_used", "note"]]


def _complete(ts: pd.Series, as_of: pd.Timestamp) -> pd.DataFrame:
    quarters = pd.PeriodIndex(pd.DatetimeIndex(ts), freq="Q")
    labels = quarters.astype(str)
    ends = pd.Series([quarter_end(as_quarter(x)) for x in labels.unique()], index=labels.unique())
    return pd.DataFrame({"quarter": labels, "ok": labels.map(ends <= as_of)})


def activity_forecast(data: SalesData, quarter: Quarter | str, as_of: object | None = None,
                      by: str | Sequence[str] = "team", min_quarters: int = 4) -> pd.DataFrame:
    """Calls, emails, meetings (every activity type) expected in ``quarter``, per ``by`` (a reps column).

    Series: activities per type, group and complete quarter with ``occurred_at <= as_of`` (default: the data's
    as-of). Model and interval: see the module docstring. Teams that stopped logging in the last complete quarter
    are still forecast from their history; read the ``quarters_used`` column.

    Returns
    -------
    DataFrame
        ``[*by, type, quarter, forecast, p10, p90, quarters_used, note]``.

    Raises
    ------
    MissingDataError
        Without activities (rep_id, occurred_at, type) or the ``by`` column of reps.
    InsufficientHistoryError
        When no group has ``min_quarters`` complete quarters.
    """
    acts = require(data, "activities", ["rep_id", "occurred_at", "type"], purpose="an activity forecast")
    cols = [by] if isinstance(by, str) else list(by)
    reps = require(data, "reps", ["rep_id", *cols], purpose=f"an activity forecast by {', '.join(cols)}")
    t = as_utc(as_of) if as_of else (data.as_of if data.as_of is not None else acts["occurred_at"].max())
    a = acts.loc[acts["occurred_at"] <= t, ["rep_id", "occurred_at", "type"]]
    a = a.join(reps.set_index("rep_id")[cols], on="rep_id")
    naive = a["occurred_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    qs = _complete(naive, t)
    a = a.assign(quarter=qs["quarter"].to_numpy())[qs["ok"].to_numpy()]
    series = a.groupby([*cols, "type", "quarter"]).size().rename("value").reset_index()
    out = quarterly_series_forecast(series, quarter, by=[*cols, "type"], min_quarters=min_quarters)
    if out["forecast"].isna().all():
        raise InsufficientHistoryError(f"an activity forecast needs {min_quarters} complete quarters of activities "
                                       f"before {t.date()}; the data hold {series['quarter'].nunique()}")
    return out


def pipeline_generation_forecast(data: SalesData, quarter: Quarter | str, as_of: object | None = None,
                                 by: str | Sequence[str] | None = "segment", min_quarters: int = 4) -> pd.DataFrame:
    """New pipeline expected to be created in ``quarter``: amount and number of opportunities per ``by``
    (``segment`` from accounts, or an opportunities column), from opportunities created in complete quarters
    before ``as_of`` (the amount at creation, from the first history row when available), starting with the
    quarter of the first won deal (earlier quarters hold only the pipeline carried into the data's period).

    Returns
    -------
    DataFrame
        ``[*by, measure (amount | deals), quarter, forecast, p10, p90, quarters_used, note]``.
    """
    opps = require(data, "opportunities", ["opportunity_id", "created_date", "amount"],
                   purpose="a pipeline-generation forecast")
    t = as_utc(as_of) if as_of else (data.as_of if data.as_of is not None else as_utc(opps["created_date"].max()))
    cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    o = opps[["opportunity_id", "created_date", "amount", "account_id"]].copy()
    hist = data.opportunity_history
    if hist is not None and len(hist):
        first = hist.sort_values("changed_at").drop_duplicates("opportunity_id")
        o["amount"] = o["opportunity_id"].map(first.set_index("opportunity_id")["amount"]).fillna(o["amount"])
    for c in cols:
        if c == "segment" and "segment" not in opps.columns:
            acc = require(data, "accounts", ["account_id", "segment"], purpose="pipeline generation by segment")
            o["segment"] = o["account_id"].map(acc.set_index("account_id")["segment"]).fillna("(unknown)")
        elif c not in o.columns:
            if c not in opps.columns:
                raise ValueError(f"pipeline generation by {c} needs opportunities.{c}, which this data does not have")
            o[c] = opps[c].fillna("(unknown)")
    qs = _complete(o["created_date"], t)
    o = o.assign(quarter=qs["quarter"].to_numpy())[qs["ok"].to_numpy()]
    won = opps.loc[opps["is_won"].astype(bool) & (opps["close_date"] <= t.tz_localize(None)), "close_date"] \
        if "is_won" in opps.columns and "close_date" in opps.columns else pd.Series(dtype="datetime64[ns]")
    if len(won):  # quarters before the first booking hold only the pipeline carried into the data's period
        first = str(pd.Period(won.min(), freq="Q"))
        o = o.loc[o["quarter"] >= first]
    amount = o.groupby([*cols, "quarter"])["amount"].sum().rename("value").reset_index()
    deals = o.groupby([*cols, "quarter"]).size().rename("value").reset_index()
    out = pd.concat([
        quarterly_series_forecast(amount, quarter, by=cols, min_quarters=min_quarters).assign(measure="amount"),
        quarterly_series_forecast(deals, quarter, by=cols, min_quarters=min_quarters).assign(measure="deals"),
    ], ignore_index=True)
    if out["forecast"].isna().all():
        raise InsufficientHistoryError(f"a pipeline-generation forecast needs {min_quarters} complete quarters of "
                                       f"created opportunities before {t.date()}")
    return out[[*cols, "measure", "quarter", "forecast", "p10", "p90", "quarters_used", "note"]]
