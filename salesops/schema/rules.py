"""Row-level rules that involve more than one column of a table.

Each rule returns True where a row is fine. A rule whose inputs are missing (a null date, say) does not
apply and passes; missing required values are caught by the not-null checks instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class ValidationContext:
    """What the checks need to know beyond the table itself.

    Attributes
    ----------
    as_of : pandas.Timestamp
        The moment the export was taken (tz-aware UTC); nothing that already happened may lie after it.
    stages : frozenset of str
        Stage names known to the stage table.
    stage_status : mapping of str to (bool, bool)
        ``(is_closed, is_won)`` of each stage of the stage table: a deal's flags must agree with its stage.
    earliest, latest : pandas.Timestamp, optional
        The plausible-date window (see :attr:`date_window`).
    """

    as_of: pd.Timestamp
    stages: frozenset[str] = frozenset()
    stage_status: Mapping[str, tuple[bool, bool]] = field(default_factory=dict, compare=False, hash=False)
    earliest: pd.Timestamp | None = None
    latest: pd.Timestamp | None = None

    @property
    def as_of_date(self) -> pd.Timestamp:
        return self.as_of.tz_convert("UTC").tz_localize(None).normalize()

    @property
    def date_window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The plausible dates, as naive midnights: ``earliest`` (default 1990-01-01) to ``latest``
        (default the as-of date plus :data:`YEARS_AHEAD` years). A date outside is ``implausible_date``."""
        earliest = _naive(self.earliest) if self.earliest is not None else EARLIEST
        latest = _naive(self.latest) if self.latest is not None else self.as_of_date + pd.DateOffset(years=YEARS_AHEAD)
        return earliest, latest


#: Default plausible-date window: from 1990-01-01 to the as-of date plus ten years.
EARLIEST = pd.Timestamp("1990-01-01")
YEARS_AHEAD = 10


def _naive(ts: pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return (ts.tz_convert("UTC").tz_localize(None) if ts.tz is not None else ts).normalize()


@dataclass(frozen=True)
class RowRule:
    """A named rule over ``columns`` of one table; ``test(frame, context)`` is True where a row passes."""

    name: str
    columns: tuple[str, ...]
    message: str
    test: Callable[[pd.DataFrame, ValidationContext], pd.Series]


def _not_before(later: str, earlier: str) -> Callable[[pd.DataFrame, ValidationContext], pd.Series]:
    def test(frame: pd.DataFrame, _: ValidationContext) -> pd.Series:
        a, b = frame[later], frame[earlier]
        return a.isna() | b.isna() | (a >= b)

    return test


def _won_implies_closed(frame: pd.DataFrame, _: ValidationContext) -> pd.Series:
    won = frame["is_won"].fillna(False).astype(bool)
    closed = frame["is_closed"].fillna(False).astype(bool)
    return ~won | closed


def _status_matches_stage(frame: pd.DataFrame, ctx: ValidationContext) -> pd.Series:
    """``is_closed`` and ``is_won`` agree with the stage's category in the stage table (a ``Closed Lost``
    deal is closed and not won); a stage the table does not know is reported by its own check."""
    if not ctx.stage_status:
        return pd.Series(True, index=frame.index)
    closed = frame["stage"].map({k: v[0] for k, v in ctx.stage_status.items()}).astype("boolean")
    won = frame["stage"].map({k: v[1] for k, v in ctx.stage_status.items()}).astype("boolean")
    agree = (frame["is_closed"].astype("boolean") == closed) & (frame["is_won"].astype("boolean") == won)
    return agree.fillna(True).astype(bool)


def _closed_not_in_future(frame: pd.DataFrame, ctx: ValidationContext) -> pd.Series:
    closed = frame["is_closed"].fillna(False).astype(bool)
    return ~closed | frame["close_date"].isna() | (frame["close_date"] <= ctx.as_of_date)


RULES: dict[str, tuple[RowRule, ...]] = {
    "opportunities": (
        RowRule(
            "close_after_created",
            ("created_date", "close_date"),
            "close_date is before created_date",
            _not_before("close_date", "created_date"),
        ),
        RowRule("won_implies_closed", ("is_won", "is_closed"), "is_won is true but is_closed is false", _won_implies_closed),
        RowRule(
            "status_matches_stage",
            ("stage", "is_closed", "is_won"),
            "is_closed / is_won contradict the stage's category in the stage table",
            _status_matches_stage,
        ),
        RowRule(
            "closed_not_after_as_of",
            ("is_closed", "close_date"),
            "a closed deal's close_date lies after the data's as-of date",
            _closed_not_in_future,
        ),
    ),
    "reps": (RowRule("end_after_hire", ("hire_date", "end_date"), "end_date is before hire_date", _not_before("end_date", "hire_date")),),
    "quotas": (
        RowRule(
            "period_end_after_start",
            ("period_start", "period_end"),
            "period_end is before period_start",
            _not_before("period_end", "period_start"),
        ),
    ),
    "trainings": (
        RowRule("end_after_start", ("start_date", "end_date"), "end_date is before start_date", _not_before("end_date", "start_date")),
    ),
    "stages": (RowRule("won_implies_closed", ("is_won", "is_closed"), "is_won is true but is_closed is false", _won_implies_closed),),
    "leads": (
        RowRule("sql_after_created", ("created_at", "sql_at"), "sql_at is before created_at", _not_before("sql_at", "created_at")),
        RowRule("mql_after_created", ("created_at", "mql_at"), "mql_at is before created_at", _not_before("mql_at", "created_at")),
    ),
}
