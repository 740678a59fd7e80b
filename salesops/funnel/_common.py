"""Shared plumbing of the funnel modules: missing-data errors, moments, periods, stage semantics, segments.

Nothing here is an analysis; every function is small and exact, so the analyses read as their formulas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from salesops.periods import Quarter, as_moment, day_end, parse_quarter

__all__ = [
    "MissingDataError",
    "PERIODS",
    "StageInfo",
    "as_moment",
    "data_moment",
    "as_quarter",
    "as_start",
    "day_end",
    "opportunity_attributes",
    "period_labels",
    "quarter_moments",
    "require_columns",
    "require_table",
    "shrink_within",
    "stage_info",
    "to_dt",
]

#: ``period=`` values understood by every function that groups by period.
PERIODS = ("month", "quarter", "year")


class MissingDataError(ValueError):
    """An analysis needs a table or column the data does not have; the message names it and says what it
    prevents, so a notebook can print it as a sentence instead of a stack trace."""

    def __init__(self, what: str, prevents: str):
        self.what = what
        self.prevents = prevents
        super().__init__(f"{prevents} needs {what}, which this data does not have")


def require_table(data: Any, name: str, prevents: str) -> pd.DataFrame:
    """``data.<name>`` or :class:`MissingDataError` naming the table."""
    table = getattr(data, name, None) if not isinstance(data, dict) else data.get(name)
    if table is None:
        raise MissingDataError(f"the {name} table", prevents)
    return table


def require_columns(frame: pd.DataFrame, table: str, columns: Iterable[str], prevents: str) -> None:
    """Raise :class:`MissingDataError` naming every column of ``columns`` that ``frame`` lacks (or holds no
    value in)."""
    missing = [c for c in columns if c not in frame.columns or (len(frame) and frame[c].isna().all())]
    if missing:
        cols = ", ".join(f"{table}.{c}" for c in missing)
        raise MissingDataError(f"the column{'s' if len(missing) > 1 else ''} {cols}", prevents)


# --- moments ------------------------------------------------------------------------------------------------

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def data_moment(data: Any, as_of: Any) -> pd.Timestamp:
    """``as_of`` as a moment (:func:`as_moment`), else the data's own as-of moment."""
    if as_of is not None:
        return as_moment(as_of)
    if getattr(data, "as_of", None) is None:
        raise ValueError("give as_of: the data carries no as-of moment")
    return data.as_of


def as_start(value: Any) -> pd.Timestamp:
    """A "from" moment as a tz-aware UTC Timestamp: a date alone means the *start* of that day."""
    if isinstance(value, str) and _DATE_RE.match(value.strip()):
        return pd.Timestamp(value.strip()).tz_localize("UTC")
    if isinstance(value, date) and not isinstance(value, pd.Timestamp) and not hasattr(value, "hour"):
        return pd.Timestamp(value).tz_localize("UTC")
    return as_moment(value)


def as_quarter(quarter: Quarter | str) -> Quarter:
    """A :class:`~salesops.periods.Quarter` from itself or ``"2025Q4"``."""
    return quarter if isinstance(quarter, Quarter) else parse_quarter(str(quarter))


def quarter_moments(quarter: Quarter | str, as_of: Any = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, end)`` moments of a quarter: the end of the day before its first day, and the end of its last
    day, the latter capped at ``as_of`` (a quarter still running ends now). Changes in ``(start, end]`` belong
    to the quarter."""
    q = as_quarter(quarter)
    start = day_end(pd.Timestamp(q.start) - pd.Timedelta(days=1))
    end = day_end(pd.Timestamp(q.end))
    if as_of is not None:
        cap = as_moment(as_of)
        if cap <= start:
            raise ValueError(f"quarter {q} starts after the as-of moment {cap}")
        end = min(end, cap)
    return start, end


def to_dt(values: pd.Series, utc: bool = False) -> pd.Series:
    """``values`` as datetimes, without the per-element pass ``pd.to_datetime`` makes over a column that is
    already of a datetime type (``utc=True``: tz-aware UTC, naive values read as UTC)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC") if utc else values
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.dt.tz_localize("UTC") if utc else values
    return pd.to_datetime(values, utc=utc)


def naive_days(values: pd.Series) -> pd.Series:
    """Dates or timestamps as naive midnight timestamps (UTC calendar days)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    return to_dt(values).dt.normalize()


def utc(values: pd.Series) -> pd.Series:
    """Dates (naive, midnight) or timestamps as tz-aware UTC timestamps."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    return to_dt(values).dt.tz_localize("UTC")


# --- periods ------------------------------------------------------------------------------------------------


def period_labels(moments: pd.Series, period: str) -> pd.Series:
    """Label of each moment's calendar period: ``2025-03`` (month), ``2025Q1`` (quarter), ``2025`` (year).

    Missing moments give missing labels.
    """
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}; got {period!r}")
    days = naive_days(moments)
    out = pd.Series(pd.NA, index=moments.index, dtype="string")
    ok = days.notna()
    if not ok.any():
        return out
    d = days[ok]
    if period == "month":
        out[ok] = d.dt.strftime("%Y-%m")
    elif period == "quarter":
        out[ok] = d.dt.year.astype(str) + "Q" + d.dt.quarter.astype(str)
    else:
        out[ok] = d.dt.year.astype(str)
    return out


def quarters_between(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from ``first`` to ``last`` inclusive."""
    out, q = [], first
    while q <= last:
        out.append(q)
        q = q.next()
    return out


# --- shrinkage ----------------------------------------------------------------------------------------------


def shrink_within(
    table: pd.DataFrame, successes: str, trials: str, family: list[str], confidence: float = 0.95
) -> pd.DataFrame:
    """Add ``shrunk_rate, shrunk_lower, shrunk_upper``: each row's rate shrunk toward its family's (rows
    sharing the ``family`` columns: the same stage and period across reps, say) by empirical-Bayes
    beta-binomial (:func:`salesops.stats.shrink_rates`). A family whose prior cannot be fitted (fewer than two
    groups with trials, every trial a success or a failure) keeps NaN."""
    from salesops.stats import shrink_rates

    out = table.copy()
    for col in ("shrunk_rate", "shrunk_lower", "shrunk_upper"):
        out[col] = np.nan
    groups = out.groupby(family, sort=False).groups.values() if family else [out.index]
    for idx in groups:
        part = out.loc[idx]
        try:
            sh = shrink_rates(
                part[successes].to_numpy(float), part[trials].to_numpy(float), confidence=confidence
            )
        except ValueError:
            continue
        out.loc[idx, "shrunk_rate"] = sh["shrunk_rate"].to_numpy()
        out.loc[idx, "shrunk_lower"] = sh["lower"].to_numpy()
        out.loc[idx, "shrunk_upper"] = sh["upper"].to_numpy()
    return out


# --- stages -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageInfo:
    """What each stage name means.

    Attributes
    ----------
    order : dict
        Stage name -> position (open stages first, in sales order).
    open_stages : tuple of str
        Open stages in order.
    won, lost : frozenset of str
        Closed-won and closed-lost stage names.
    probability : dict
        Stage name -> CRM win probability.
    """

    order: dict[str, int]
    open_stages: tuple[str, ...]
    won: frozenset[str]
    lost: frozenset[str]
    probability: dict[str, float]

    @property
    def closed(self) -> frozenset[str]:
        return self.won | self.lost

    def open_rank(self, stages: pd.Series) -> pd.Series:
        """Position of each open stage among the open stages (0, 1, ...); won stages rank after every open
        stage, lost stages and unknown names are NaN."""
        rank = {s: i for i, s in enumerate(self.open_stages)}
        rank.update({s: len(self.open_stages) for s in self.won})
        return stages.map(rank).astype(float)


def _default_stage_rows() -> list[dict]:
    from salesops.paths import templates_dir
    from salesops.safe_yaml import load_yaml

    return load_yaml(templates_dir() / "stages.yaml")["stages"]


def stage_info(stages: pd.DataFrame | None = None, seen: Sequence[str] = ()) -> StageInfo:
    """Stage semantics from a ``stages`` table (default: ``templates/stages.yaml``).

    Parameters
    ----------
    stages : DataFrame, optional
        Columns ``stage, order, probability, is_closed, is_won``.
    seen : sequence of str
        Stage names found in the data; a name the table does not define raises a ValueError naming it.
    """
    table = pd.DataFrame(_default_stage_rows()) if stages is None else stages
    require_columns(table, "stages", ["stage", "order", "is_closed", "is_won"], "reading stage semantics")
    table = table.sort_values("order", kind="stable")
    closed = table["is_closed"].astype(bool).to_numpy()
    won = table["is_won"].astype(bool).to_numpy()
    names = table["stage"].astype(str).to_numpy()
    unknown = sorted(set(seen) - set(names))
    if unknown:
        raise ValueError(
            f"stage(s) {', '.join(map(repr, unknown))} are not in the stages table ({', '.join(names)}); "
            "add them to stages.csv or the mapping's stages:"
        )
    prob = (
        table["probability"].astype(float).to_numpy()
        if "probability" in table
        else np.full(len(table), np.nan)
    )
    return StageInfo(
        order={s: i for i, s in enumerate(names)},
        open_stages=tuple(names[~closed]),
        won=frozenset(names[closed & won]),
        lost=frozenset(names[closed & ~won]),
        probability=dict(zip(names, prob.tolist(), strict=True)),
    )


# --- opportunity attributes ---------------------------------------------------------------------------------


def opportunity_attributes(data: Any, by: Sequence[str] = ()) -> pd.DataFrame:
    """Static attributes of each opportunity, indexed by ``opportunity_id``: the opportunity's own columns
    that do not change over its life (account, owner, created date, type, source, product), its ``segment``
    (the account's, else the owner's), and the owner's ``team``, ``region`` and ``role``.

    Raises
    ------
    MissingDataError
        When a column of ``by`` is neither an opportunity column nor derivable (``segment`` needs
        ``accounts.segment`` or ``reps.segment``; ``team`` and ``region`` need the reps table).
    """
    opps = require_table(data, "opportunities", "every pipeline figure")
    keep = [
        c
        for c in ("account_id", "owner_rep_id", "created_date", "type", "source", "product", "lead_id")
        if c in opps.columns
    ]
    out = opps.set_index("opportunity_id")[keep].copy()
    accounts = getattr(data, "accounts", None)
    reps = getattr(data, "reps", None)
    seg = pd.Series(np.nan, index=out.index, dtype=object)
    if accounts is not None and "segment" in accounts.columns and "account_id" in out.columns:
        seg = out["account_id"].map(accounts.set_index("account_id")["segment"])
    if reps is not None and "owner_rep_id" in out.columns:
        r = reps.set_index("rep_id")
        if "segment" in r.columns:
            seg = seg.fillna(out["owner_rep_id"].map(r["segment"]))
        for col in ("team", "region", "role"):
            if col in r.columns:
                out[col] = out["owner_rep_id"].map(r[col])
    if seg.notna().any():
        out["segment"] = seg
    for col in by:
        if col not in out.columns:
            if col == "segment":
                raise MissingDataError("accounts.segment or reps.segment", "a breakdown by segment")
            if col in ("team", "region", "role"):
                raise MissingDataError(f"the reps table with reps.{col}", f"a breakdown by {col}")
            raise MissingDataError(f"the column opportunities.{col}", f"a breakdown by {col}")
    return out


def as_list(by: str | Sequence[str] | None) -> list[str]:
    """``by=`` as a list (None: no grouping)."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def days_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """``later - earlier`` in days (float)."""
    return (later - earlier) / pd.Timedelta(days=1)
