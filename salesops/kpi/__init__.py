"""KPIs sales operations runs on: activity, win rate, sales cycle, bookings and Q4 seasonality, CAC, churn,
cohort retention and lifetime value.

One module per job, pure functions on a :class:`~salesops.io.SalesData`; each returns a tidy DataFrame,
takes ``by=`` and ``period=`` where they make sense and states its formula in its docstring:

==================  ==========================================================================================
``calendar``        working days: weekdays minus a holiday calendar (US federal by default)
``activity``        calls, emails, meetings per rep per working day, and their spread across reps
``win_rate``        win rate by count and value with intervals; empirical-Bayes shrunk win rates per rep
``cycle``           sales-cycle length by Kaplan–Meier (open deals censored), the naive figure beside it
``seasonality``     bookings per period; Q4 against the rest of the year
``cac``             new customers, CAC blended and by channel, CAC payback
``churn``           monthly revenue and logo churn
``retention``       cohort retention curves
``ltv``             subscription LTV, LTV:CAC; transactional LTV with BG/NBD and Gamma-Gamma
``panels``          the KPI page's sections: tables, sentences (also for missing data) and review metrics
==================  ==========================================================================================

A KPI whose data lack a table or column raises :class:`MissingDataError` (a ``ValueError``) naming it.
"""

from salesops.kpi._common import MissingDataError
from salesops.kpi.activity import activity_distribution, activity_per_working_day
from salesops.kpi.cac import cac, cac_payback, new_customers
from salesops.kpi.calendar import count_working_days, holiday_dates, working_days
from salesops.kpi.churn import monthly_churn
from salesops.kpi.cycle import cycle_curves, cycle_durations, sales_cycle
from salesops.kpi.ltv import ClvFit, fit_clv, ltv_to_cac, rfm, subscription_ltv, transactional_ltv
from salesops.kpi.retention import cohort_retention, repeat_purchase_retention
from salesops.kpi.seasonality import bookings, q4_uplift
from salesops.kpi.win_rate import rep_win_rates, win_rates

__all__ = [
    "ClvFit",
    "MissingDataError",
    "activity_distribution",
    "activity_per_working_day",
    "bookings",
    "cac",
    "cac_payback",
    "cohort_retention",
    "count_working_days",
    "cycle_curves",
    "cycle_durations",
    "fit_clv",
    "holiday_dates",
    "ltv_to_cac",
    "monthly_churn",
    "new_customers",
    "q4_uplift",
    "rep_win_rates",
    "repeat_purchase_retention",
    "rfm",
    "sales_cycle",
    "subscription_ltv",
    "transactional_ltv",
    "win_rates",
    "working_days",
]
