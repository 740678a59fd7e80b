"""Pipeline and funnel analytics: where the pipeline stands, how leads qualify, where deals get stuck, and
how a quarter's pipeline moved.

One job per module:

==================  ==========================================================================================
``snapshot``        the pipeline at a moment, rebuilt from ``opportunity_history`` (no future information)
``pipeline``        open pipeline by stage / segment / forecast category, coverage of the quota still open,
                    sales velocity, age distribution, stale deals
``leads``           lead -> MQL -> SQL -> opportunity -> won conversion within windows; speed-to-lead
``stages``          stage spells (skips, regressions), stage conversion and time in stage (Kaplan-Meier)
``bottlenecks``     a group's stage departing from its own history: two-proportion and log-rank tests, Holm
``flow``            a quarter's pipeline flow (created, pulled in, pushed out, slipped, won, lost, amount
                    changes), reconciled to the cent
``summary``         the sentences, availability checks and headline metrics of the notebook
==================  ==========================================================================================

An analysis that needs a table or column the data lacks raises :class:`MissingDataError` (a ValueError) that
names it; :func:`summary.attempt` turns it into an empty result carrying that sentence.

>>> import salesops as so
>>> from salesops import funnel
>>> data = so.load("data/sample")                                    # doctest: +SKIP
>>> funnel.pipeline_flow(data, "2025Q4")                             # doctest: +SKIP
"""

from salesops.funnel._common import MissingDataError
from salesops.funnel.bottlenecks import bottleneck_scan, find_bottlenecks, select_quarter
from salesops.funnel.flow import FLOW_STEPS, flow_events, pipeline_flow
from salesops.funnel.leads import (
    DEFAULT_WINDOWS,
    SPEED_BANDS,
    lead_funnel,
    lead_funnel_change,
    lead_moments,
    rates_table,
    speed_to_lead,
    speed_to_lead_bands,
    speed_to_lead_effect,
)
from salesops.funnel.pipeline import coverage, pipeline_age, pipeline_size, sales_velocity, stale_deals
from salesops.funnel.snapshot import pipeline_at, prepare_history, snapshot
from salesops.funnel.stages import (
    observation_start,
    stage_conversion,
    stage_move_summary,
    stage_moves,
    stage_outcomes,
    stage_spells,
    time_in_stage,
)

__all__ = [
    "DEFAULT_WINDOWS",
    "FLOW_STEPS",
    "MissingDataError",
    "SPEED_BANDS",
    "bottleneck_scan",
    "coverage",
    "find_bottlenecks",
    "flow_events",
    "lead_funnel",
    "lead_funnel_change",
    "lead_moments",
    "observation_start",
    "pipeline_age",
    "pipeline_at",
    "pipeline_flow",
    "pipeline_size",
    "prepare_history",
    "rates_table",
    "sales_velocity",
    "select_quarter",
    "snapshot",
    "speed_to_lead",
    "speed_to_lead_bands",
    "speed_to_lead_effect",
    "stage_conversion",
    "stage_move_summary",
    "stage_moves",
    "stage_outcomes",
    "stage_spells",
    "stale_deals",
    "time_in_stage",
]
