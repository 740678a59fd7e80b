"""The engine layer: heavy aggregations written once as Ibis expressions, run where the data lives.

Embedded DuckDB by default (over in-memory pandas frames, or out of core over Parquet/CSV files); the same
expressions run on PySpark or a warehouse through an Ibis connection. Only aggregated frames come back to
pandas. The area modules call these functions for their heavy part (:func:`salesops.kpi.activity_per_working_day`,
:func:`salesops.funnel.snapshot` / ``pipeline_at`` / ``stage_spells``, the forecast's ``SnapshotBuilder``,
:func:`salesops.funnel.lead_funnel`, :func:`salesops.kpi.cohort_retention`), so their numbers are the same
whichever engine runs them.

==========================  ===========================================================================
``Engine`` / ``connect``    the canonical tables in an Ibis backend (:mod:`salesops.engine.backend`)
``activity_counts``         activities per rep / type / period (:mod:`salesops.engine.activity`)
``deal_states``             every deal's state at given moments (:mod:`salesops.engine.history`)
``stage_changes``           the history rows where the stage changes, with the next stage
``pipeline_totals``         open / won / lost deals and amounts per moment and group (:mod:`.snapshots`)
``lead_funnel_counts``      reached / mature / converted per funnel step (:mod:`salesops.engine.leads`)
``lead_stage_counts``       leads, MQLs, SQLs, opportunities, wins per period
``revenue_cohorts``         retention per start cohort and months since start (:mod:`.cohorts`)
``kpi_set``                 the KPI set of a whole CRM as small frames (:mod:`salesops.engine.kpis`)
==========================  ===========================================================================
"""

from salesops.engine.activity import activity_counts, activity_window, daily_activity
from salesops.engine.backend import Engine, EngineError, connect, engine_for, naive_utc
from salesops.engine.cohorts import revenue_cohorts
from salesops.engine.history import deal_states, stage_changes
from salesops.engine.kpis import kpi_set
from salesops.engine.leads import lead_funnel_counts, lead_stage_counts
from salesops.engine.snapshots import pipeline_totals, recent_activity_counts

__all__ = [
    "Engine",
    "EngineError",
    "activity_counts",
    "activity_window",
    "connect",
    "daily_activity",
    "deal_states",
    "engine_for",
    "kpi_set",
    "lead_funnel_counts",
    "lead_stage_counts",
    "naive_utc",
    "pipeline_totals",
    "recent_activity_counts",
    "revenue_cohorts",
    "stage_changes",
]
