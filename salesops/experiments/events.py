"""Events to evaluate (the ``events`` table) and the outcome series measured around them.

* :func:`list_events`, :func:`find_event` — what happened when: process changes, launches, campaigns, trainings.
* :func:`conversion_series` — a funnel conversion (MQL to SQL, say) per period, counting only cohorts old
  enough to have converted, optionally adjusted to a fixed mix of lead sources.
* :func:`count_panel` — records per period and group (leads per week and channel), zeros included.
* :func:`process_change_study` — the interrupted time series of a lead-conversion rate around a
  ``process_change`` event, with its placebo a year earlier.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesops.experiments.common import MissingData, NotEnoughData, cutoff_of, known_at, require_table
from salesops.experiments.its import ItsStudy, its_study
from salesops.experiments.result import Estimate

__all__ = [
    "conversion_series",
    "count_panel",
    "find_event",
    "list_events",
    "process_change_study",
]

_EVENT_COLUMNS = ("event_id", "name", "date", "kind")


def list_events(events: pd.DataFrame | None, kind: str | None = None, until: Any = None) -> pd.DataFrame:
    """The events on record, oldest first.

    Parameters
    ----------
    events : DataFrame or None
        The ``events`` table (event_id, name, date, kind, scope).
    kind : str, optional
        Keep one kind (``process_change``, ``product_launch``, ``campaign``, ``training``).
    until : date-like, optional
        Keep events dated on or before it.

    Returns
    -------
    DataFrame
        ``event_id, name, date, kind, scope``.

    Raises
    ------
    MissingData
        When there is no ``events`` table.
    """
    ev = require_table({"events": events}, "events", _EVENT_COLUMNS, "to know what to evaluate")
    out = ev.copy()
    if "scope" not in out.columns:
        out["scope"] = None
    if kind is not None:
        out = out[out["kind"] == kind]
    if until is not None:
        day = pd.Timestamp(until)
        day = day.tz_convert("UTC").tz_localize(None) if day.tzinfo is not None else day
        out = out[out["date"] <= day]
    return out.sort_values(["date", "event_id"]).reset_index(drop=True)[["event_id", "name", "date", "kind", "scope"]]


def find_event(events: pd.DataFrame | None, event: str | None = None, kind: str | None = None,
               until: Any = None) -> pd.Series:
    """One event: by id or name (case-insensitive), else the latest of ``kind`` on or before ``until``.

    Raises
    ------
    MissingData
        When there is no ``events`` table.
    NotEnoughData
        When no event matches, listing the ones there are.
    """
    ev = list_events(events, kind=None if event else kind, until=None if event else until)
    if event:
        key = str(event).strip().lower()
        hit = ev[(ev["event_id"].str.lower() == key) | (ev["name"].str.lower() == key)]
    else:
        hit = ev
    if hit.empty:
        have = "; ".join(f"{r.event_id} {r.name} ({r.kind}, {r.date.date()})" for r in list_events(events).itertuples())
        day = f" on or before {pd.Timestamp(until).date()}" if until is not None else ""
        what = f"event {event!r}" if event else f"{kind or 'any'} event{day}"
        raise NotEnoughData(f"no {what} in the `events` table; it holds: {have or 'nothing'}")
    return hit.iloc[-1]


def _naive(ts: pd.Series) -> pd.Series:
    """Moments as naive UTC (dates stay as they are)."""
    return ts.dt.tz_convert("UTC").dt.tz_localize(None) if isinstance(ts.dtype, pd.DatetimeTZDtype) else ts


def conversion_series(
    frame: pd.DataFrame,
    start: str = "mql_at",
    end: str = "sql_at",
    window_days: int = 30,
    freq: str = "MS",
    cutoff: pd.Timestamp | None = None,
    adjust_by: str | None = "source",
    by: str | None = None,
) -> pd.DataFrame:
    r"""Share of records that reach ``end`` within ``window_days`` of ``start``, per period of ``start``.

    For the records of period :math:`t` (by their ``start`` moment), with :math:`x_t` converted within the
    window among :math:`n_t`, the raw rate is :math:`r_t = x_t / n_t`. Only **mature** periods count: a
    period enters when its last day plus the window lies on or before ``cutoff``, so every record in it had
    the whole window to convert (no right-censoring, and nothing after the cutoff is used).

    With ``adjust_by`` (a stratum column such as the lead source) the rate is directly standardised to the
    stratum mix of the whole series, so a shift in the mix (a campaign flooding one channel) is not read as
    a change in conversion:

    .. math::

        r^{adj}_t = \frac{\sum_s w_s\, r_{t,s}}{\sum_{s \text{ seen in } t} w_s},
        \qquad w_s = \frac{n_s}{\sum_s n_s}.

    Parameters
    ----------
    frame : DataFrame
        Records with ``start`` and ``end`` timestamps (``end`` blank when not reached), e.g. ``leads``.
    start, end : str
        Column names of the two milestones.
    window_days : int
        Conversion window.
    freq : str
        Period (pandas frequency of period starts: ``MS`` months, ``W-MON`` weeks).
    cutoff : Timestamp, optional
        The moment of the export (default: the latest ``start``); ``end`` after it does not count.
    adjust_by : str or None
        Stratum column for the mix adjustment (skipped with a note when the column is absent).
    by : str, optional
        One series per value of this column.

    Returns
    -------
    DataFrame
        ``[by,] period, n, converted, rate, adjusted_rate`` (``adjusted_rate`` equals ``rate`` without
        ``adjust_by``); ``.attrs["note"]`` says what was left out.
    """
    missing = [c for c in [start, end] + ([by] if by else []) if c not in frame.columns]
    if missing:
        raise MissingData(f"conversion needs column(s) {', '.join(f'`{c}`' for c in missing)}")
    cols = [start, end] + ([adjust_by] if adjust_by and adjust_by in frame.columns else []) + ([by] if by else [])
    df = frame.loc[frame[start].notna(), cols].copy()
    s, e = _naive(df[start]), _naive(df[end])
    cut = s.max() if cutoff is None else pd.Timestamp(cutoff).tz_convert("UTC").tz_localize(None)
    window = pd.Timedelta(days=window_days)
    df["_converted"] = (e.notna() & (e <= s + window) & (e <= cut)).astype(float)
    df["period"] = s.dt.to_period(_period_alias(freq)).dt.start_time
    period_end = df["period"] + pd.tseries.frequencies.to_offset(freq) - pd.Timedelta(microseconds=1)
    mature = period_end + window <= cut
    dropped = int((~mature).sum())
    df = df[mature]
    keys = ([by] if by else []) + ["period"]
    g = df.groupby(keys, observed=True)["_converted"]
    out = g.agg(n="size", converted="sum").reset_index()
    out["rate"] = out["converted"] / out["n"]
    note = f"{dropped} record(s) of periods too recent to have had {window_days} days to convert were left out"
    if adjust_by and adjust_by in df.columns:
        strat = df.groupby(keys + [adjust_by], observed=True)["_converted"].mean().rename("r").reset_index()
        mix = df[adjust_by].value_counts(normalize=True)
        strat["w"] = strat[adjust_by].map(mix)
        strat["wr"] = strat["w"] * strat["r"]
        adj = strat.groupby(keys, observed=True).agg(wr=("wr", "sum"), w=("w", "sum"))
        out = out.merge((adj["wr"] / adj["w"]).rename("adjusted_rate").reset_index(), on=keys, how="left")
    else:
        out["adjusted_rate"] = out["rate"]
        if adjust_by:
            note += f"; no `{adjust_by}` column, so the rate is not mix-adjusted"
    out.attrs["note"] = note
    return out


def _period_alias(freq: str) -> str:
    f = freq.upper()
    if f in ("MS", "M", "ME"):
        return "M"
    if f in ("QS", "Q", "QE"):
        return "Q"
    if f.startswith("W"):
        return freq if "-" in freq else "W-SUN"
    return freq


def count_panel(
    frame: pd.DataFrame,
    time: str,
    group: str,
    start: Any,
    end: Any,
    freq_days: int = 7,
) -> pd.DataFrame:
    """Records per group and period of ``freq_days`` days counted from ``start``, zeros included.

    Period :math:`k` covers ``[start + k d, start + (k+1) d)``; periods before ``start`` are negative. Only
    whole periods inside ``[start_of_first, end)`` are returned.

    Parameters
    ----------
    frame : DataFrame
        Records (e.g. ``leads``) with a moment column ``time`` and a group column ``group``.
    time, group : str
        Column names.
    start, end : date-like
        Anchor (first day of period 0) and the end (exclusive) of the last period.
    freq_days : int
        Period length in days.

    Returns
    -------
    DataFrame
        ``group, period, period_start, count``.
    """
    for c in (time, group):
        if c not in frame.columns:
            raise MissingData(f"counting needs column `{c}`")
    day = _naive(frame[time]).dt.normalize()
    s0 = pd.Timestamp(start)
    k = np.floor((day - s0).dt.days / freq_days).astype("Int64")
    end_ts = pd.Timestamp(end)
    keep = day < end_ts
    df = pd.DataFrame({"group": frame[group], "period": k})[keep & k.notna()]
    counts = df.groupby(["group", "period"], observed=True).size()
    groups = sorted(frame[group].dropna().unique())
    lo = int(df["period"].min()) if len(df) else 0
    hi = int(np.floor(((end_ts - s0).days) / freq_days)) - 1
    periods = range(lo, hi + 1)
    full = pd.MultiIndex.from_product([groups, periods], names=["group", "period"])
    out = counts.reindex(full, fill_value=0).rename("count").reset_index()
    out["period_start"] = s0 + pd.to_timedelta(out["period"] * freq_days, unit="D")
    return out[["group", "period", "period_start", "count"]]


def process_change_study(
    data: Any,
    event: str | None = None,
    quarter: str | None = None,
    as_of: Any = None,
    start: str = "mql_at",
    end: str = "sql_at",
    window_days: int = 30,
    adjust_by: str | None = "source",
    placebo_years: int = 1,
    confidence: float = 0.95,
) -> ItsStudy:
    """Monthly lead conversion around a ``process_change`` event: interrupted time series and placebo.

    The outcome is :func:`conversion_series` (``start`` to ``end`` within ``window_days``, mix-adjusted by
    ``adjust_by``) per calendar month; the study is :func:`salesops.experiments.its.its_study` with the break
    at the first month starting on or after the event (a month the change falls inside is left out, being
    half before and half after) and a placebo ``placebo_years`` earlier on the months before the change.
    Data after the end of ``quarter`` (or ``as_of``) are not used.

    Parameters
    ----------
    data : SalesData or dict of DataFrame
        Needs ``events`` and ``leads`` (with ``start`` and ``end`` columns).
    event : str, optional
        Event id or name; default the latest ``process_change`` on or before the cutoff.
    quarter, as_of : optional
        The cutoff (see :func:`salesops.experiments.common.cutoff_of`).
    start, end, window_days, adjust_by
        As in :func:`conversion_series`.
    placebo_years : int
        How far back the placebo break goes.
    confidence : float
        Interval level.

    Returns
    -------
    ItsStudy
        Level change of the conversion rate (unit ``share``); when the tables are missing or too short the
        estimates are NaN and ``message`` says what is missing.
    """
    name = "change in conversion at the process change"
    try:
        cutoff = cutoff_of(quarter, as_of if as_of is not None else getattr(data, "as_of", None))
        tables = known_at(data, cutoff, ("events", "leads"))
        ev = find_event(tables.get("events"), event, kind="process_change", until=cutoff)
        name = f"{ev['name']}: change in {start.removesuffix('_at').upper()} to {end.removesuffix('_at').upper()} rate"
        leads = require_table(tables, "leads", [start, end], "to measure conversion around the change")
        series = conversion_series(leads, start, end, window_days, "MS", cutoff, adjust_by)
    except (MissingData, NotEnoughData) as exc:
        msg = str(exc)
        empty = pd.DataFrame(columns=["period", "value", "fitted", "counterfactual", "post"])
        return ItsStudy(name, pd.NaT, Estimate.unavailable(name, msg, "share"),
                        Estimate.unavailable("slope change per period", msg, "share"), empty, None, None, msg)
    s = series.set_index("period")
    when = pd.Timestamp(ev["date"])
    s = s[s.index != when.to_period("M").start_time] if when != when.to_period("M").start_time else s
    study = its_study(s["adjusted_rate"], when, name=name, unit="share",
                      placebo_offset=pd.DateOffset(years=placebo_years), confidence=confidence, counts=s["n"])
    return study
