"""What the lead score learns from: each lead's features and outcomes, the conversion labels at a horizon, and
the split in time into training, calibration and test leads (:mod:`salesops.leads.scoring` fits and judges the
model)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from salesops.leads._common import MissingDataError

Target = Literal["sql", "won"]

#: Categorical lead attributes the model can use, in the order they are reported.
CATEGORICAL = ("source", "industry", "persona", "country")
#: Numeric lead attributes: company size and speed to lead (hours from creation to first touch).
NUMERIC = ("employees", "speed_to_lead_hours")
#: Readable names of the features (reason codes and driver tables use them).
FEATURE_LABELS = {
    "source": "source",
    "industry": "industry",
    "persona": "persona",
    "country": "country",
    "employees": "company size",
    "speed_to_lead_hours": "speed to lead",
}
#: Days after creation within which a conversion counts: SQL within 45 days, won within 180 days.
DEFAULT_HORIZON_DAYS = {"sql": 45, "won": 180}
MISSING = "(missing)"


def _utc(ts: Any) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _require(frame: pd.DataFrame | None, table: str, columns: list[str], why: str) -> pd.DataFrame:
    if frame is None:
        raise MissingDataError(f"the {table} table is missing; {why} needs it")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingDataError(f"{table} lacks column(s) {', '.join(missing)}; {why} needs them")
    return frame


def lead_features(leads: pd.DataFrame, accounts: pd.DataFrame | None = None) -> pd.DataFrame:
    """The model's inputs, one row per lead (indexed by ``lead_id``).

    Columns, where the data has them: ``source``, ``industry``, ``persona``, ``country`` (missing values become
    ``"(missing)"``), ``employees`` and ``speed_to_lead_hours`` = (``first_touch_at`` - ``created_at``) in hours,
    NaN for a lead not yet touched. Industry, employees and country missing on a lead are taken from its
    account when ``accounts`` is given.

    Parameters
    ----------
    leads : DataFrame
        Canonical ``leads`` (``lead_id``, ``created_at`` and ``source`` required).
    accounts : DataFrame, optional
        Canonical ``accounts``, to fill firmographics from ``leads.account_id``.

    Returns
    -------
    DataFrame
        Indexed by ``lead_id``; ``created_at`` plus the feature columns found.
    """
    _require(leads, "leads", ["lead_id", "created_at", "source"], "lead scoring")
    out = pd.DataFrame({"created_at": leads["created_at"].to_numpy()}, index=pd.Index(leads["lead_id"], name="lead_id"))
    acc = None
    if accounts is not None and "account_id" in leads.columns and "account_id" in accounts.columns:
        acc = accounts.drop_duplicates("account_id").set_index("account_id")
    for col in ("source", "industry", "persona", "country", "employees"):
        values = leads[col] if col in leads.columns else None
        if acc is not None and col in acc.columns and col != "source":
            from_acc = leads["account_id"].map(acc[col])
            values = from_acc if values is None else values.where(values.notna(), from_acc)
        if values is None:
            continue
        if col == "employees":
            out[col] = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        else:
            out[col] = values.astype(object).where(values.notna(), MISSING).astype(str).to_numpy()
    if "first_touch_at" in leads.columns:
        hours = (leads["first_touch_at"] - leads["created_at"]).dt.total_seconds() / 3600.0
        out["speed_to_lead_hours"] = hours.clip(lower=0.0).to_numpy(dtype=float)
    return out


def lead_outcomes(leads: pd.DataFrame, opportunities: pd.DataFrame | None = None) -> pd.DataFrame:
    """When each lead became an SQL and when its deal was won.

    ``sql_at`` is ``leads.sql_at``; ``won_at`` is the ``close_date`` (UTC midnight) of the lead's won opportunity,
    found through ``leads.opportunity_id`` or ``opportunities.lead_id``.

    Parameters
    ----------
    leads : DataFrame
        Canonical ``leads``.
    opportunities : DataFrame, optional
        Canonical ``opportunities``; without it ``won_at`` is absent.

    Returns
    -------
    DataFrame
        Indexed by ``lead_id``: ``created_at``, ``sql_at`` (if known), ``won_at`` (if opportunities are given).
    """
    _require(leads, "leads", ["lead_id", "created_at"], "lead outcomes")
    out = pd.DataFrame({"created_at": leads["created_at"].to_numpy()}, index=pd.Index(leads["lead_id"], name="lead_id"))
    if "sql_at" in leads.columns:
        out["sql_at"] = leads["sql_at"].to_numpy()
    if opportunities is not None:
        _require(opportunities, "opportunities", ["opportunity_id", "is_won", "close_date"], "the lead -> won outcome")
        won = opportunities[opportunities["is_won"].fillna(False).astype(bool)]
        close = pd.to_datetime(won["close_date"])
        close = close.dt.tz_localize("UTC") if close.dt.tz is None else close.dt.tz_convert("UTC")
        by_opp = pd.Series(close.to_numpy(), index=won["opportunity_id"].to_numpy())
        won_at = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns, UTC]")
        if "opportunity_id" in leads.columns:
            won_at[:] = leads["opportunity_id"].map(by_opp).to_numpy()
        if "lead_id" in won.columns:
            by_lead = pd.Series(close.to_numpy(), index=won["lead_id"].to_numpy())
            by_lead = by_lead[by_lead.index.notna()]
            by_lead = by_lead[~by_lead.index.duplicated()]
            extra = out.index.to_series().map(by_lead)
            won_at = won_at.where(won_at.notna(), extra)
        out["won_at"] = won_at.to_numpy()
    return out


def conversion_labels(outcomes: pd.DataFrame, target: Target, horizon_days: float,
                      observed_until: Any) -> tuple[pd.Series, pd.Series]:
    """Fixed-horizon conversion labels as they could be seen at ``observed_until``.

    ``y = 1`` when the event (SQL or won) happened within ``horizon_days`` of creation and no later than
    ``observed_until``; ``matured`` is True when ``created_at + horizon_days <= observed_until``, i.e. the label
    is final. Only matured labels should be used to learn or evaluate.

    Returns
    -------
    (y, matured) : tuple of boolean Series indexed like ``outcomes``
    """
    col = {"sql": "sql_at", "won": "won_at"}.get(target)
    if col is None:
        raise ValueError(f"target must be 'sql' or 'won', got {target!r}")
    if col not in outcomes.columns:
        need = "leads.sql_at" if target == "sql" else "the opportunities table (is_won, close_date)"
        raise MissingDataError(f"the lead -> {target} outcome needs {need}, which is missing")
    until = _utc(observed_until)
    horizon = pd.Timedelta(days=float(horizon_days))
    event = outcomes[col]
    y = event.notna() & (event - outcomes["created_at"] <= horizon) & (event <= until)
    matured = outcomes["created_at"] + horizon <= until
    return y.astype(bool), matured.astype(bool)


@dataclass(frozen=True)
class TimeSplit:
    """Dates of a time split (UTC timestamps).

    Attributes
    ----------
    train_end : Timestamp
        Leads created before it train the model (their horizon ends by the cut-off).
    calibration_start : Timestamp
        Leads created in [calibration_start, train_end) calibrate the probabilities instead.
    cutoff : Timestamp
        Outcomes are observed up to here for training; the test leads are created from here on.
    test_end : Timestamp
        Test leads are created before it; their horizon ends by ``as_of``.
    as_of : Timestamp
        When the outcomes of the test leads are read.
    horizon_days : float
        Days after creation within which a conversion counts.
    """

    train_end: pd.Timestamp
    calibration_start: pd.Timestamp
    cutoff: pd.Timestamp
    test_end: pd.Timestamp
    as_of: pd.Timestamp
    horizon_days: float

    def as_frame(self) -> pd.DataFrame:
        """The split as a two-column table (what, date) for display."""
        rows = [
            ("training leads created before", self.calibration_start),
            ("calibration leads created before", self.train_end),
            ("outcomes of training leads seen until", self.cutoff),
            ("test leads created from", self.cutoff),
            ("test leads created before", self.test_end),
            ("test outcomes seen until", self.as_of),
        ]
        return pd.DataFrame(rows, columns=["what", "when"])


def time_split(as_of: Any, horizon_days: float, test_days: float = 182.0, calibration_days: float = 90.0) -> TimeSplit:
    """Dates of the time split ending at ``as_of`` (see the module docstring's picture).

    ``test_end = as_of - horizon``, ``cutoff = test_end - test_days``, ``train_end = cutoff - horizon``,
    ``calibration_start = train_end - calibration_days``.
    """
    if horizon_days <= 0 or test_days <= 0 or calibration_days < 0:
        raise ValueError("horizon_days and test_days must be > 0 and calibration_days >= 0")
    end = _utc(as_of)
    h = pd.Timedelta(days=float(horizon_days))
    test_end = end - h
    cutoff = test_end - pd.Timedelta(days=float(test_days))
    train_end = cutoff - h
    return TimeSplit(train_end, train_end - pd.Timedelta(days=float(calibration_days)), cutoff, test_end, end,
                     float(horizon_days))
