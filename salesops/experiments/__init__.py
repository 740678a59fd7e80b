"""Experiments: did a process change, a launch, a campaign or a training work? Measured with causal care.

========================  ===================================================================================
``common``                the two "cannot answer" errors, table checks, the data as known at a cutoff
``result``                :class:`Estimate`: a number with its interval, or the reason there is none
``its``                   interrupted-time-series and difference-in-differences studies with placebo checks
``events``                the ``events`` table and outcome series around an event; the process-change study
``campaigns``             campaign ROI (spend, pipeline, bookings) and the lead lift of a campaign
``benchmarks``            ``templates/benchmarks.yaml`` and the company's own figures beside it
``page``                  the headline numbers notebook 09 records
========================  ===================================================================================
"""

from salesops.experiments.benchmarks import company_figures, compare_to_benchmarks, load_benchmarks
from salesops.experiments.campaigns import Campaign, campaign_lift_study, campaign_roi, resolve_campaign
from salesops.experiments.common import MissingData, NotEnoughData, cutoff_of, data_start, known_at
from salesops.experiments.events import conversion_series, find_event, list_events, process_change_study
from salesops.experiments.its import DidStudy, ItsStudy, did_study, its_study, study_table
from salesops.experiments.result import Estimate

__all__ = [
    "Campaign",
    "DidStudy",
    "Estimate",
    "ItsStudy",
    "MissingData",
    "NotEnoughData",
    "campaign_lift_study",
    "campaign_roi",
    "company_figures",
    "compare_to_benchmarks",
    "conversion_series",
    "cutoff_of",
    "data_start",
    "did_study",
    "find_event",
    "its_study",
    "known_at",
    "list_events",
    "load_benchmarks",
    "process_change_study",
    "resolve_campaign",
    "study_table",
]
