"""The floor of the engine benchmark: the KPI set and the snapshot build written by hand in DuckDB SQL.

The same aggregations as :func:`salesops.engine.kpis.kpi_set` (same groups, same figures, same order), as
plain SQL over ``read_parquet`` of the canonical files, run in one DuckDB connection with the engine's
settings (UTC, memory limit, no insertion order). :func:`run_floor` returns the frames so the benchmark
can check that the floor and the engine agree before it compares their times.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

_SEGMENT_UNKNOWN = "(unknown)"


def _src(folder: Path, table: str) -> str:
    path = folder / table
    target = path / "*.parquet" if path.is_dir() else folder / f"{table}.parquet"
    return "read_parquet('" + str(target).replace("'", "''") + "')"


def connect(memory_limit: str = "4GB", threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the engine's settings."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = false")
    return con


def _moments_sql(moments: Sequence[pd.Timestamp]) -> str:
    rows = ", ".join(f"(TIMESTAMP '{pd.Timestamp(m).strftime('%Y-%m-%d %H:%M:%S.%f')}')" for m in moments)
    return f"(VALUES {rows}) AS m(moment)"


def stage_sets(folder: Path) -> tuple[list[str], list[str], list[str]]:
    """Open, won and lost stage names: from ``stages.parquet`` when the folder has it, else the template."""
    from salesops.funnel._common import stage_info

    path = folder / "stages.parquet"
    info = stage_info(pd.read_parquet(path) if path.exists() else None)
    return list(info.open_stages), sorted(info.won), sorted(info.lost)


def _in(names: Sequence[str]) -> str:
    return "(" + ", ".join("'" + n.replace("'", "''") + "'" for n in names) + ")" if names else "(NULL)"


def has_blank_amounts(folder: Path, con: duckdb.DuckDBPyConnection | None = None) -> bool:
    """Whether the history has a blank amount (one scan of one column; without blanks the fill is skipped)."""
    con = con or duckdb.connect()
    sql = f"SELECT count(*) > count(amount) FROM {_src(folder, 'opportunity_history')}"
    return bool(con.execute(sql).fetchall()[0][0])


def snapshot_sql(folder: Path, moments: Sequence[pd.Timestamp], fill: bool = True) -> str:
    """Open pipeline / won / lost per moment and stage: each deal's latest history row at the moment.

    Each history row holds from its ``changed_at`` until the deal's next change (ties in ``changed_at``
    broken by stage, as the engine does for files), so the snapshot is a range join, not a cross join. With
    ``fill`` a blank amount keeps the deal's previous amount (``last_value ... IGNORE NULLS``), as the
    engine's states; without blanks (:func:`has_blank_amounts`) the fill is left out, as the engine does.
    """
    open_, won, lost = stage_sets(folder)
    amount = "last_value(CAST(amount AS DOUBLE) IGNORE NULLS) OVER w" if fill else "CAST(amount AS DOUBLE)"
    return f"""
    WITH h AS (
        SELECT opportunity_id, stage, CAST(changed_at AS TIMESTAMP) AS changed_at,
               {amount} AS amount,
               lead(CAST(changed_at AS TIMESTAMP)) OVER w AS next_at
        FROM {_src(folder, 'opportunity_history')}
        WINDOW w AS (PARTITION BY opportunity_id ORDER BY CAST(changed_at AS TIMESTAMP), stage
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    SELECT m.moment AS as_of, h.stage, count(*) AS deals,
           count(*) FILTER (WHERE h.stage IN {_in(open_)}) AS open_deals,
           coalesce(sum(h.amount) FILTER (WHERE h.stage IN {_in(open_)}), 0) AS open_amount,
           count(*) FILTER (WHERE h.stage IN {_in(won)}) AS won_deals,
           coalesce(sum(h.amount) FILTER (WHERE h.stage IN {_in(won)}), 0) AS won_amount,
           count(*) FILTER (WHERE h.stage IN {_in(lost)}) AS lost_deals,
           coalesce(sum(h.amount) FILTER (WHERE h.stage IN {_in(lost)}), 0) AS lost_amount
    FROM h JOIN {_moments_sql(moments)}
      ON h.changed_at <= m.moment AND (h.next_at IS NULL OR m.moment < h.next_at)
    GROUP BY ALL ORDER BY as_of, h.stage
    """


def activity_sql(folder: Path) -> str:
    """Activities per rep, month (of ``occurred_at``, UTC) and type."""
    return f"""
    SELECT rep_id, type, CAST(date_trunc('month', CAST(occurred_at AS TIMESTAMP)) AS DATE) AS period_start,
           count(*) AS activities
    FROM {_src(folder, 'activities')}
    GROUP BY ALL ORDER BY rep_id, type, period_start
    """


def _ts(moment: pd.Timestamp) -> str:
    return f"TIMESTAMP '{pd.Timestamp(moment).strftime('%Y-%m-%d %H:%M:%S.%f')}'"


def lead_funnel_sql(folder: Path, as_of: pd.Timestamp) -> str:
    """Leads created, MQLs, SQLs, opportunities and wins per month of each stage's moment.

    A moment after ``as_of`` is not known yet; a later stage implies the earlier ones (won fills
    opportunity, which fills sql, which fills mql), as :func:`salesops.engine.leads.lead_stage_moments`.
    """
    at = _ts(as_of)

    def known(col: str) -> str:
        return f"CASE WHEN {col} <= {at} THEN {col} END"

    return f"""
    WITH l AS (
        SELECT CAST(l.created_at AS TIMESTAMP) AS created_at, CAST(l.mql_at AS TIMESTAMP) AS mql_at,
               CAST(l.sql_at AS TIMESTAMP) AS sql_at, CAST(o.created_date AS TIMESTAMP) AS opp_at,
               CASE WHEN CAST(o.is_won AS BOOLEAN) THEN CAST(o.close_date AS TIMESTAMP) END AS won_at
        FROM {_src(folder, 'leads')} AS l
        LEFT JOIN (SELECT opportunity_id, created_date, close_date, is_won FROM {_src(folder, 'opportunities')}) AS o
          ON l.opportunity_id = o.opportunity_id
    ), w AS (
        SELECT {known('created_at')} AS lead, {known('mql_at')} AS mql_at, {known('sql_at')} AS sql_at,
               {known('won_at')} AS won, coalesce({known('opp_at')}, {known('won_at')}) AS opportunity
        FROM l
    ), s AS (
        SELECT lead, won, opportunity, coalesce(sql_at, opportunity) AS sql,
               coalesce(mql_at, sql_at, opportunity) AS mql
        FROM w
    ), u AS (UNPIVOT s ON lead, mql, sql, opportunity, won INTO NAME stage VALUE moment)
    SELECT strftime(date_trunc('month', moment), '%Y-%m') AS period,
           count(*) FILTER (WHERE stage = 'lead') AS leads, count(*) FILTER (WHERE stage = 'mql') AS mqls,
           count(*) FILTER (WHERE stage = 'sql') AS sqls,
           count(*) FILTER (WHERE stage = 'opportunity') AS opportunities,
           count(*) FILTER (WHERE stage = 'won') AS wins
    FROM u GROUP BY 1 ORDER BY 1
    """


def _closed_sql(folder: Path, as_of_day: pd.Timestamp) -> str:
    day = f"DATE '{as_of_day:%Y-%m-%d}'"
    return f"""
    SELECT coalesce(a.segment, r.segment, '{_SEGMENT_UNKNOWN}') AS segment, CAST(o.is_won AS BOOLEAN) AS is_won,
           CAST(o.amount AS DOUBLE) AS amount,
           CAST(CAST(o.close_date AS DATE) - CAST(o.created_date AS DATE) AS DOUBLE) AS days
    FROM {_src(folder, 'opportunities')} AS o
    LEFT JOIN (SELECT account_id, min(segment) AS segment FROM {_src(folder, 'accounts')} GROUP BY 1) AS a
      USING (account_id)
    LEFT JOIN (SELECT rep_id, min(segment) AS segment FROM {_src(folder, 'reps')} GROUP BY 1) AS r
      ON o.owner_rep_id = r.rep_id
    WHERE CAST(o.is_closed AS BOOLEAN) AND CAST(o.close_date AS DATE) <= {day}
      AND CAST(o.created_date AS DATE) <= {day}
    """


def win_rate_sql(folder: Path, as_of_day: pd.Timestamp) -> str:
    """Win rate by count and value per segment of the closed deals."""
    return f"""
    SELECT segment, count(*) AS closed, sum(CAST(is_won AS BIGINT)) AS won,
           sum(CAST(is_won AS BIGINT)) / count(*) AS win_rate,
           sum(amount) AS closed_value, coalesce(sum(amount) FILTER (WHERE is_won), 0) AS won_value,
           coalesce(sum(amount) FILTER (WHERE is_won), 0) / sum(amount) AS value_win_rate
    FROM ({_closed_sql(folder, as_of_day)})
    GROUP BY segment ORDER BY segment
    """


def sales_cycle_sql(folder: Path, as_of_day: pd.Timestamp) -> str:
    """Median cycle (days from created to close) per segment, of all closed deals and of the won ones."""
    return f"""
    SELECT segment, count(*) AS closed, median(days) AS median_days, sum(CAST(is_won AS BIGINT)) AS won,
           median(days) FILTER (WHERE is_won) AS median_won_days
    FROM ({_closed_sql(folder, as_of_day)})
    GROUP BY segment ORDER BY segment
    """


def revenue_cohorts_sql(folder: Path, as_of: pd.Timestamp) -> str:
    """Logo retention by quarter of first paying month and months since it, over the dense account-month grid.

    MRR per account and month (rows of a month summed; months from the table's first to its last, capped at
    the as-of month); an account starts in its first month with MRR > 0 (accounts paying in the first month
    started before the data and are left out); at ``k`` months since start, ``accounts`` counts the accounts
    whose month ``start + k`` is observed and ``retained`` those with MRR > 0 then.
    """
    cap = f"DATE '{pd.Timestamp(as_of).strftime('%Y-%m')}-01'"
    return f"""
    WITH r AS (
        SELECT account_id, CAST(date_trunc('month', CAST(month AS DATE)) AS DATE) AS m, sum(mrr) AS mrr
        FROM {_src(folder, 'revenue')} GROUP BY ALL
    ), b AS (SELECT min(m) AS first_m, least(max(m), {cap}) AS last_m FROM r),
    c AS (
        SELECT r.account_id, r.m, datediff('month', b.first_m, r.m) AS idx, r.mrr,
               datediff('month', b.first_m, b.last_m) AS last_idx
        FROM r, b WHERE r.m <= b.last_m
    ), s AS (
        SELECT account_id, min(idx) AS s, min(m) AS start, any_value(last_idx) AS last_idx
        FROM c WHERE mrr > 0 GROUP BY account_id HAVING min(idx) > 0
    ), g AS (
        SELECT account_id, s, CAST(year(start) AS VARCHAR) || 'Q' || CAST(quarter(start) AS VARCHAR) AS cohort,
               unnest(range(0, last_idx - s + 1)) AS k
        FROM s
    )
    SELECT g.cohort,
           g.k AS months_since_start, count(*) AS accounts, count(*) FILTER (WHERE c.mrr > 0) AS retained,
           count(*) FILTER (WHERE c.mrr > 0) / count(*) AS retention
    FROM g LEFT JOIN c ON c.account_id = g.account_id AND c.idx = g.s + g.k
    GROUP BY 1, 2 ORDER BY 1, 2
    """


def kpi_queries(folder: Path, as_of: pd.Timestamp, moments: Sequence[pd.Timestamp],
                con: duckdb.DuckDBPyConnection | None = None) -> dict[str, str]:
    """The SQL of every frame of the KPI set (``revenue_cohorts`` only when the revenue file is there);
    ``as_of`` a naive UTC moment; ``con`` runs the check for blank amounts (:func:`has_blank_amounts`)."""
    folder = Path(folder)
    as_of_day = pd.Timestamp(as_of).normalize()
    out = {
        "activity": activity_sql(folder),
        "pipeline": snapshot_sql(folder, moments, fill=has_blank_amounts(folder, con)),
        "lead_funnel": lead_funnel_sql(folder, as_of),
        "win_rate": win_rate_sql(folder, as_of_day),
        "sales_cycle": sales_cycle_sql(folder, as_of_day),
    }
    if (folder / "revenue.parquet").exists() or (folder / "revenue").is_dir():
        out["revenue_cohorts"] = revenue_cohorts_sql(folder, as_of)
    return out


def run_floor(con: duckdb.DuckDBPyConnection, queries: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Run each query; each result is fetched as a pandas frame (as the engine's are)."""
    return {name: con.execute(sql).df() for name, sql in queries.items()}
