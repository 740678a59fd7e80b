"""The engine layer: heavy aggregations written once as Ibis expressions, run where the data lives.

Embedded DuckDB by default (over in-memory pandas frames or out of core over Parquet/CSV files); the same
expressions run on PySpark or a warehouse through an Ibis connection. Only aggregated frames come back to
pandas; the area modules (:mod:`salesops.kpi`, :mod:`salesops.funnel`, :mod:`salesops.forecast`) call these
functions for their heavy part, so their numbers are the same whichever engine runs them.
"""

from salesops.engine.backend import Engine, EngineError, connect, engine_for, naive_utc

__all__ = ["Engine", "EngineError", "connect", "engine_for", "naive_utc"]
