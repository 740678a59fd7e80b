"""Can this data carry a quarter forecast? One check the forecast notebook runs before anything else."""

from __future__ import annotations

from dataclasses import dataclass

from salesops.io.data import SalesData
from salesops.periods import Quarter

from ._common import MissingDataError, as_quarter, as_utc
from .quarter import history_quarters
from .snapshot import SnapshotBuilder

__all__ = ["Readiness", "readiness"]


@dataclass(frozen=True)
class Readiness:
    """``ok`` when the models can run; otherwise ``message`` says what is missing or how much history is needed.

    ``builder`` is the prepared :class:`SnapshotBuilder` (None when the tables it needs are missing).
    """

    ok: bool
    message: str
    builder: SnapshotBuilder | None = None
    quarters: int = 0


def readiness(data: SalesData, quarter: Quarter | str, as_of: object, min_history_quarters: int = 4) -> Readiness:
    """Check that ``data`` has the tables a forecast needs (opportunity_history, stages, opportunities) and at
    least ``min_history_quarters`` complete quarters of bookings before ``as_of``.

    Returns
    -------
    Readiness
        With a message naming the missing table or column, or saying how many quarters are needed and held.
    """
    q = as_quarter(quarter)
    try:
        builder = SnapshotBuilder(data)
    except MissingDataError as exc:
        return Readiness(False, f"No forecast for {q}: {exc}")
    n = len([h for h in history_quarters(builder, as_utc(as_of)) if h < q])
    if n < min_history_quarters:
        return Readiness(False, f"No model forecast for {q}: the models need at least {min_history_quarters} "
                                f"complete quarters of history before {as_utc(as_of).date()}, the data hold {n}. "
                                "The weighted_pipeline, commit and best_case baselines still run "
                                "(salesops.forecast.forecast_quarter).", builder, n)
    return Readiness(True, f"{n} complete quarters of history before {q}.", builder, n)
