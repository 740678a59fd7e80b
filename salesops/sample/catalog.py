"""Small reference tables: ``stages`` (the defaults of templates/stages.yaml), ``events`` and ``trainings``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import params as P
from .timeline import N_DAYS, calendar, to_dates

#: the same rows as templates/stages.yaml (a test checks they agree)
STAGES = (
    ("Qualification", 1, 0.10, False, False),
    ("Discovery", 2, 0.25, False, False),
    ("Proposal", 3, 0.50, False, False),
    ("Negotiation", 4, 0.75, False, False),
    ("Closed Won", 5, 1.00, True, True),
    ("Closed Lost", 6, 0.00, True, False),
)


def build_stages() -> pd.DataFrame:
    """The ``stages`` table."""
    return pd.DataFrame(STAGES, columns=["stage", "order", "probability", "is_closed", "is_won"])


def build_events(n_trained: int, n_eligible: int) -> pd.DataFrame:
    """The ``events`` table: what happened when, for the analyses that evaluate changes."""
    rows = [
        ("SOC 2 Type II certification announced", "2023-09-12", "product_launch", "all segments"),
        ("Analytics Add-on launch", P.ANALYTICS_LAUNCH, "product_launch", "product: Analytics Add-on"),
        (
            P.TRAINING["program"],
            P.TRAINING["start"],
            "training",
            f"AE: {n_trained} of {n_eligible} eligible AEs trained (see trainings); the rest are the control group",
        ),
        (
            "Lead qualification process v2",
            P.PROCESS_CHANGE_DATE,
            "process_change",
            "leads: MQL to SQL qualification by the SDR teams",
        ),
        (
            P.WEBINAR["name"],
            P.WEBINAR["start"],
            "campaign",
            f"channel: {P.WEBINAR['channel']}; campaign_id {P.WEBINAR['campaign_id']}",
        ),
    ]
    df = pd.DataFrame(rows, columns=["name", "date", "kind", "scope"])
    df["date"] = pd.to_datetime(df["date"])
    df = df.sort_values("date", kind="stable").reset_index(drop=True)
    df.insert(0, "event_id", [f"EV{i + 1:03d}" for i in range(len(df))])
    return df


def build_trainings(staff: pd.DataFrame) -> pd.DataFrame:
    """Bootcamp attendance of the trained AEs, and onboarding of everyone hired during the period."""
    cal = calendar()
    trained = staff[staff["_trained"]]
    boot = pd.DataFrame(
        {
            "rep_id": trained["rep_id"].to_numpy(dtype=object),
            "program": P.TRAINING["program"],
            "start_date": pd.Timestamp(P.TRAINING["start"]),
            "end_date": pd.Timestamp(P.TRAINING["end"]),
        }
    )
    hires = staff[staff["role"].isin(["AE", "SDR"]) & (staff["_hire"] >= 0) & (staff["_hire"] < N_DAYS)]
    hire = hires["_hire"].to_numpy(float)
    end = np.minimum(cal.prev_working(hire + 25), N_DAYS - 1).astype(float)
    onboard = pd.DataFrame(
        {
            "rep_id": hires["rep_id"].to_numpy(dtype=object),
            "program": P.ONBOARDING_PROGRAM,
            "start_date": to_dates(hire).to_numpy(),
            "end_date": to_dates(end).to_numpy(),
        }
    )
    out = pd.concat([boot, onboard], ignore_index=True)
    return out.sort_values(["start_date", "rep_id", "program"], kind="stable").reset_index(drop=True)
