"""The plain-pandas baseline of the engine benchmark: the KPI set read with ``pandas.read_parquet`` (only the
columns needed) and computed with ``groupby``, the way an analyst would without an engine. Same frames as
:func:`salesops.engine.kpis.kpi_set` and the SQL floor, so the benchmark can check all three agree."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

_SEGMENT_UNKNOWN = "(unknown)"
#: (open, won, lost) stage names.
StageSets = tuple[Sequence[str], Sequence[str], Sequence[str]]


def _read(folder: Path, table: str, columns: list[str]) -> pd.DataFrame:
    path = folder / table
    return pd.read_parquet(path if path.is_dir() else folder / f"{table}.parquet", columns=columns)


def _naive(values: pd.Series) -> pd.Series:
    values = pd.to_datetime(values)
    return values.dt.tz_convert("UTC").dt.tz_localize(None) if values.dt.tz is not None else values


def _month(values: pd.Series) -> pd.Series:
    return _naive(values).dt.to_period("M").dt.start_time


def activity(folder: Path) -> pd.DataFrame:
    """Activities per rep, month and type."""
    a = _read(folder, "activities", ["rep_id", "occurred_at", "type"])
    a["period_start"] = _month(a.pop("occurred_at"))
    return a.groupby(["rep_id", "type", "period_start"]).size().rename("activities").reset_index()


def snapshots(folder: Path, moments: Sequence[pd.Timestamp], stage_sets: StageSets) -> pd.DataFrame:
    """Open / won / lost deals and amount per moment and stage: each deal's latest history row at each moment
    (a blank amount keeps the deal's previous one); ``stage_sets`` = (open, won, lost) stage names."""
    open_, won, lost = stage_sets
    h = _read(folder, "opportunity_history", ["opportunity_id", "changed_at", "stage", "amount"])
    h["changed_at"] = _naive(h["changed_at"])
    h = h.sort_values(["opportunity_id", "changed_at", "stage"], kind="stable")
    deal = h.groupby("opportunity_id", sort=False)
    h["next_at"] = deal["changed_at"].shift(-1)
    h["amount"] = deal["amount"].ffill()
    parts = []
    for moment in moments:
        m = pd.Timestamp(moment)
        live = h[(h["changed_at"] <= m) & (h["next_at"].isna() | (h["next_at"] > m))]
        live = live.assign(**{f"_{k}": live["stage"].isin(v) for k, v in (("open", open_), ("won", won),
                                                                          ("lost", lost))})
        for k in ("open", "won", "lost"):
            live[f"_{k}_amount"] = live["amount"].where(live[f"_{k}"], 0.0)
        g = live.groupby("stage").agg(
            deals=("opportunity_id", "size"), open_deals=("_open", "sum"), open_amount=("_open_amount", "sum"),
            won_deals=("_won", "sum"), won_amount=("_won_amount", "sum"), lost_deals=("_lost", "sum"),
            lost_amount=("_lost_amount", "sum")).reset_index()
        parts.append(g.assign(as_of=m))
    out = pd.concat(parts, ignore_index=True)
    return out[["as_of", "stage", *[c for c in out.columns if c not in ("as_of", "stage")]]]


def lead_funnel(folder: Path, as_of: pd.Timestamp) -> pd.DataFrame:
    """Leads created, MQLs, SQLs, opportunities and wins per month of each stage's moment (a moment after
    ``as_of`` unknown; a later stage fills the earlier ones)."""
    leads = _read(folder, "leads", ["created_at", "mql_at", "sql_at", "opportunity_id"])
    opps = _read(folder, "opportunities", ["opportunity_id", "created_date", "close_date", "is_won"])
    opps = opps.drop_duplicates("opportunity_id").set_index("opportunity_id")
    won_at = _naive(opps["close_date"]).where(opps["is_won"].astype(bool))

    def known(values: pd.Series) -> pd.Series:
        values = _naive(values)
        return values.where(values <= as_of)

    won = known(leads["opportunity_id"].map(won_at))
    opportunity = known(leads["opportunity_id"].map(_naive(opps["created_date"]))).fillna(won)
    sql = known(leads["sql_at"]).fillna(opportunity)
    mql = known(leads["mql_at"]).fillna(sql)
    stages = {"leads": known(leads["created_at"]), "mqls": mql, "sqls": sql, "opportunities": opportunity,
              "wins": won}
    counts = {name: values.dropna().dt.to_period("M").astype(str).value_counts() for name, values in stages.items()}
    out = pd.DataFrame(counts).fillna(0).astype("int64").sort_index()
    return out.rename_axis("period").reset_index()


def _closed(folder: Path, as_of_day: pd.Timestamp) -> pd.DataFrame:
    o = _read(folder, "opportunities", ["account_id", "owner_rep_id", "created_date", "close_date", "is_closed",
                                         "is_won", "amount"])
    close, created = _naive(o["close_date"]).dt.normalize(), _naive(o["created_date"]).dt.normalize()
    keep = o["is_closed"].astype(bool) & (close <= as_of_day) & (created <= as_of_day)
    o = o[keep].assign(days=(close[keep] - created[keep]).dt.days.astype(float), is_won=o["is_won"][keep].astype(bool))
    acc = _read(folder, "accounts", ["account_id", "segment"]).groupby("account_id")["segment"].min()
    reps = _read(folder, "reps", ["rep_id", "segment"]).groupby("rep_id")["segment"].min()
    segment = o["account_id"].map(acc).fillna(o["owner_rep_id"].map(reps)).fillna(_SEGMENT_UNKNOWN)
    return o.assign(segment=segment)


def win_rate(folder: Path, as_of_day: pd.Timestamp) -> pd.DataFrame:
    """Win rate by count and value per segment."""
    c = _closed(folder, as_of_day)
    c["won_amount"] = c["amount"].where(c["is_won"], 0.0)
    g = c.groupby("segment").agg(closed=("is_won", "size"), won=("is_won", "sum"), closed_value=("amount", "sum"),
                                 won_value=("won_amount", "sum")).reset_index()
    g["win_rate"] = g["won"] / g["closed"]
    g["value_win_rate"] = g["won_value"] / g["closed_value"]
    return g[["segment", "closed", "won", "win_rate", "closed_value", "won_value", "value_win_rate"]]


def sales_cycle(folder: Path, as_of_day: pd.Timestamp) -> pd.DataFrame:
    """Median cycle days per segment, closed and won."""
    c = _closed(folder, as_of_day)
    g = c.groupby("segment").agg(closed=("days", "size"), median_days=("days", "median"), won=("is_won", "sum"))
    g["median_won_days"] = c[c["is_won"]].groupby("segment")["days"].median()
    return g.reset_index()


def revenue_cohorts(folder: Path, as_of: pd.Timestamp) -> pd.DataFrame:
    """Logo retention by quarter of the first paying month and months since it (see the SQL floor)."""
    r = _read(folder, "revenue", ["account_id", "month", "mrr"])
    r["month"] = _naive(r["month"]).dt.to_period("M")
    cells = r.groupby(["account_id", "month"], as_index=False)["mrr"].sum()
    first = cells["month"].min()
    last = min(cells["month"].max(), pd.Timestamp(as_of).to_period("M"))
    last_idx = (last - first).n
    cells["idx"] = (cells["month"] - first).apply(lambda d: d.n)
    cells = cells[cells["idx"] <= last_idx]
    paying = cells[cells["mrr"] > 0]
    starts = paying.groupby("account_id").agg(s=("idx", "min"), start=("month", "min"))
    starts = starts[starts["s"] > 0]
    starts["cohort"] = starts["start"].dt.asfreq("Q").astype(str)
    j = paying.merge(starts, left_on="account_id", right_index=True)
    j["k"] = j["idx"] - j["s"]
    retained = j.groupby(["cohort", "k"]).size()
    rows = []
    for cohort, group in starts.groupby("cohort"):
        s_counts = group["s"].value_counts()
        for k in range(last_idx + 1):
            n = int(s_counts[s_counts.index <= last_idx - k].sum())
            if n:
                kept = int(retained.get((cohort, k), 0))
                rows.append((cohort, k, n, kept, kept / n))
    return pd.DataFrame(rows, columns=["cohort", "months_since_start", "accounts", "retained", "retention"])


def kpi_set(folder: Path, as_of: pd.Timestamp, moments: Sequence[pd.Timestamp],
            stage_sets: StageSets) -> dict[str, pd.DataFrame]:
    """Every frame of the KPI set in plain pandas; ``as_of`` naive UTC, ``stage_sets`` (open, won, lost)."""
    folder = Path(folder)
    as_of_day = pd.Timestamp(as_of).normalize()
    out = {
        "activity": activity(folder),
        "pipeline": snapshots(folder, moments, stage_sets),
        "lead_funnel": lead_funnel(folder, as_of),
        "win_rate": win_rate(folder, as_of_day),
        "sales_cycle": sales_cycle(folder, as_of_day),
    }
    if (folder / "revenue.parquet").exists() or (folder / "revenue").is_dir():
        out["revenue_cohorts"] = revenue_cohorts(folder, as_of)
    return out
