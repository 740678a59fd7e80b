"""Every effect the generator plants, with its size, in one place.

The names here are what ``truth.json`` reports as "planted"; the realised figures are computed from the
generated tables by :mod:`salesops.sample.truth`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .timeline import day_of

# --- categories -------------------------------------------------------------------------------------------

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
SMB, MM, ENT = 0, 1, 2
#: accounts.segment from accounts.employees: SMB < 200 <= Mid-Market < 2000 <= Enterprise
SEGMENT_THRESHOLDS = (200, 2000)
REGIONS = ("East", "West")
SOURCES = ("Inbound Web", "Paid Search", "Referral", "Events", "Outbound", "Partner")
SOURCE_CODES = ("WEB", "PPC", "REF", "EVT", "OUT", "PRT")
#: opportunity sources besides the lead sources
AE_SOURCED = "AE Sourced"
EXISTING_CUSTOMER = "Existing Customer"
DEAL_SOURCES = SOURCES + (AE_SOURCED, EXISTING_CUSTOMER)
INDUSTRIES = (
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Media",
    "Logistics",
)
PERSONAS = ("Economic Buyer", "Champion", "Technical Evaluator", "End User")
COUNTRIES = ("United States", "Canada", "United Kingdom", "Germany", "France", "Australia")
PRODUCTS = ("Core Platform", "Analytics Add-on", "Integrations Pack")
OPEN_STAGES = ("Qualification", "Discovery", "Proposal", "Negotiation")
STAGE_NAMES = OPEN_STAGES + ("Closed Won", "Closed Lost")
FORECAST = ("pipeline", "best_case", "commit", "closed", "omitted")
#: forecast category each stage sets when it is entered
STAGE_FORECAST = (0, 0, 1, 2, 3, 4)
DEAL_TYPES = ("new_business", "expansion", "renewal")


def segment_of_employees(employees):
    """Segment code (0 SMB, 1 Mid-Market, 2 Enterprise) from employee counts, by ``SEGMENT_THRESHOLDS``."""
    import numpy as np

    e = np.asarray(employees, dtype=float)
    return (e >= SEGMENT_THRESHOLDS[0]).astype(int) + (e >= SEGMENT_THRESHOLDS[1]).astype(int)


# --- sizes at size 1 ("sample") ------------------------------------------------------------------------------

BASE_ACCOUNTS = 4000
BASE_LEADS = 30000
BASE_AE_SEATS = (11, 9, 8)
BASE_SDR_SEATS = 11
BASE_PREEXISTING_CUSTOMERS = 600
GROWTH_SEAT_SHARE = 0.15
ANNUAL_ATTRITION = {"AE": 0.12, "SDR": 0.22}
ACCOUNT_SEGMENT_MIX = (0.50, 0.32, 0.18)

# --- leads ----------------------------------------------------------------------------------------------------

SOURCE_MIX = (0.28, 0.20, 0.07, 0.12, 0.25, 0.08)
LEAD_GROWTH_PER_YEAR = 0.15
LEAD_MONTH_SEASON = (1.05, 1.05, 1.10, 1.00, 1.00, 0.95, 0.85, 0.85, 1.05, 1.10, 1.00, 0.80)
INBOUND_WEEKEND_FACTOR = 0.35
#: hours from lead creation to the SDR's first touch (log-normal median by source), before working-hours snap
SPEED_MEDIAN_HOURS = (2.0, 2.0, 6.0, 30.0, 1.0, 12.0)
SPEED_SIGMA = 1.1
PERSONA_MIX = (0.20, 0.35, 0.25, 0.20)

MQL_TARGET_RATE = 0.40
MQL_COEF = {
    "source": dict(zip(SOURCES, (0.5, 0.0, 1.3, 0.3, -1.0, 0.8), strict=True)),
    "industry": dict(zip(INDUSTRIES, (0.35, 0.2, 0.05, -0.15, -0.1, -0.45, 0.0, -0.1), strict=True)),
    "segment": dict(zip(SEGMENTS, (0.0, 0.15, 0.3), strict=True)),
    "persona": dict(zip(PERSONAS, (0.0, 0.0, 0.0, 0.0), strict=True)),
}
SQL_COEF = {
    "source": dict(zip(SOURCES, (0.2, -0.15, 0.9, 0.0, -0.35, 0.45), strict=True)),
    "industry": dict(zip(INDUSTRIES, (0.3, 0.25, 0.1, -0.1, -0.25, -0.5, 0.0, -0.05), strict=True)),
    "segment": dict(zip(SEGMENTS, (0.0, 0.2, 0.35), strict=True)),
    "persona": dict(zip(PERSONAS, (0.0, 0.0, 0.0, 0.0), strict=True)),
}
#: logit effect on P(SQL | MQL) per doubling of (1 + hours from creation to first touch)
SPEED_COEF_PER_LOG2_HOUR = -0.08
PROCESS_CHANGE_DATE = "2025-01-01"
PROCESS_CHANGE_DAY = day_of(PROCESS_CHANGE_DATE)
SQL_RATE_BEFORE = 0.35
SQL_RATE_AFTER = 0.45

WEBINAR = {
    "campaign_id": "CMP-2025Q1-WEBINAR",
    "name": "Spring Webinar Series",
    "channel": "Inbound Web",
    "start": "2025-03-03",
    "end": "2025-03-31",
    "lead_volume_factor": 1.4,
}

# --- deals ----------------------------------------------------------------------------------------------------

WIN_RATE = (0.30, 0.22, 0.15)
#: nominal stage-to-next conversions (Qualification, Discovery, Proposal, Negotiation) per segment; the
#: generator rescales the three non-Proposal ones per segment so the realised closed win rate hits WIN_RATE
STAGE_CONVERSION = (
    (0.75, 0.70, 0.70, 0.8165),
    (0.72, 0.68, 0.60, 0.82),
    (0.60, 0.55, 0.65, 0.70),
)
CYCLE_MEDIAN_DAYS = (30.0, 60.0, 120.0)
STAGE_TIME_SHARE = (0.15, 0.25, 0.30, 0.30)
STAGE_TIME_SIGMA = 0.5

BOTTLENECK = {
    "segment": "Mid-Market",
    "stage": "Proposal",
    "start": "2025-04-01",
    "conversion_before": 0.60,
    "conversion_after": 0.40,
    "time_in_stage_factor": 2.0,
}
BOTTLENECK_DAY = day_of(BOTTLENECK["start"])

SKILL = {"low": -0.08, "high": 0.08, "normal_sd": 0.015, "normal_cap": 0.03}
TRAINING = {
    "program": "Value Selling Bootcamp",
    "start": "2024-07-15",
    "end": "2024-08-09",
    "effect": 0.05,
    "min_tenure_days": 180,
}
TRAINING_START_DAY = day_of(TRAINING["start"])
TRAINING_END_DAY = day_of(TRAINING["end"])
ONBOARDING_PROGRAM = "New Hire Onboarding"

#: additive win-probability effect of the deal source
SOURCE_WIN_EFFECT = dict(zip(DEAL_SOURCES, (0.01, -0.01, 0.05, 0.0, -0.03, 0.03, 0.0, 0.0), strict=True))

RAMP_MONTHS_TO_90 = 5.0
RAMP_TAU_MONTHS = RAMP_MONTHS_TO_90 / math.log(10.0)
DAYS_PER_MONTH = 30.4375

ACV_MEDIAN = (12_000.0, 42_000.0, 140_000.0)
ACV_SIGMA = 0.45
EXPANSION_ACV_FACTOR = 0.35
#: first guess of the Q4 multiplier; the generator solves one per year so each year's uplift is Q4_UPLIFT_TARGET
Q4_WON_AMOUNT_MULTIPLIER = 1.24
Q4_UPLIFT_TARGET = 0.30
AE_SOURCED_SHARE = 0.10
WARMUP_DAYS = 184
EXPANSIONS_PER_CUSTOMER_MONTH = 0.065
RENEWAL_OPPORTUNITY_PROB = 0.4
AMOUNT_CHANGE_PROB = 0.25
SKIP_DISCOVERY_PROB = 0.03
REGRESSION_PROB = 0.04
FORECAST_UPGRADE_PROB = 0.20
ANALYTICS_LAUNCH = "2024-04-15"
ANALYTICS_LAUNCH_DAY = day_of(ANALYTICS_LAUNCH)

CHURN_MONTHLY = (0.02, 0.01, 0.005)

# --- activities, costs ------------------------------------------------------------------------------------------

ACTIVITIES_PER_DAY = {"SDR": 50.0, "AE": 20.0}
COST_PER_LEAD = dict(zip(SOURCES, (90.0, 160.0, 60.0, 320.0, 45.0, 140.0), strict=True))
COMMISSION_RATE = 0.10
SDR_BONUS_PER_SQL = 150.0
TOOLS_PER_REP_MONTH = 150.0
TOOLS_PLATFORM_MONTH = 4000.0
QUOTA_HEADROOM = 1.15


@dataclass(frozen=True)
class Scale:
    """Row-count knobs for one ``size``."""

    size: float
    label: str
    accounts: int
    leads: float
    ae_seats: tuple[int, int, int]
    sdr_seats: int
    preexisting_customers: int

    @classmethod
    def of(cls, size: str | float) -> Scale:
        """Parse ``size``: ``"sample"`` (1.0) or a positive float scaling the row counts."""
        label = str(size)
        if isinstance(size, str):
            if size == "sample":
                value = 1.0
            elif size == "large":
                raise ValueError(
                    "size 'large' has no planted truths and is written by salesops.sample.large.write_large "
                    "(salesops sample --size large --out DIR); generate() takes 'sample' or a float such as 0.1 or 5"
                )
            else:
                try:
                    value = float(size)
                except ValueError:
                    raise ValueError(f"size must be 'sample' or a positive number, got {size!r}") from None
                label = repr(value)
        else:
            value = float(size)
            label = repr(value)
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"size must be a positive number, got {size!r}")
        return cls(
            size=value,
            label=label,
            accounts=max(150, round(BASE_ACCOUNTS * value)),
            leads=BASE_LEADS * value,
            ae_seats=tuple(max(3, round(n * value)) for n in BASE_AE_SEATS),  # type: ignore[arg-type]
            sdr_seats=max(2, round(BASE_SDR_SEATS * value)),
            preexisting_customers=max(10, round(BASE_PREEXISTING_CUSTOMERS * value)),
        )
