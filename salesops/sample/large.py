"""``write_large``: a big synthetic CRM written straight to Parquet, vectorised and in chunks.

Unlike :func:`salesops.sample.generate` it plants no known effects and writes no ``truth.json``; it exists
to measure the engines at scale. It writes exactly the requested rows per table, in the canonical model
(3 years, 2023-01-01 to 2025-12-31, as of 2025-12-31 23:59:59 UTC), with referential integrity, and the
same seed and size always give byte-identical files. Memory stays flat: the big tables are produced chunk by
chunk (about a million rows, one Parquet row group each) from per-chunk random generators; only a few
integer arrays per rep, account, opportunity and lead stay in memory.

The folder is whole: beside the big tables it holds every table ``data/sample`` has (quotas, trainings, events,
marketing spend and sales costs, from :mod:`.large_extra`) and the routing rules and territory settings naming
only its own reps (``routing.yaml``, ``territories.yaml``, from :mod:`.large_configs`), so the quarterly review
runs every page on it.

Usage::

    from salesops.sample.large import write_large
    write_large("/tmp/large", size="large")      # 1M opportunities, 8M history rows, 50M activities, 5M leads
    write_large("/tmp/bench/10x", size="10x")    # ten times the committed sample's row counts
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

from salesops.paths import templates_dir

from .large_activity import activities_chunk, activity_counts
from .large_configs import routing_config, territory_config
from .large_deals import assign_history_rows, history_chunk, make_opportunities, opportunities_chunk
from .large_extra import (
    MonthlyLeads,
    events_table,
    marketing_spend_table,
    quotas_table,
    sales_costs_table,
    trainings_table,
)
from .large_leads import lead_day_counts, leads_chunk
from .large_people import MIN_REPS, accounts_chunk, make_accounts, make_reps, reps_table
from .large_revenue import revenue_chunk, revenue_runs
from .large_util import N_MONTHS, ROW_GROUP, ParquetSink, Pools, arrow_schema, row_chunks

__all__ = ["CONFIG_FILES", "LargeCounts", "LARGE_PRESETS", "write_large", "TABLE_ORDER", "SMALL_TABLES"]

#: the big tables, in order (stages first; parents before children); their rows are :class:`LargeCounts`
BIG_TABLES = ("stages", "reps", "accounts", "opportunities", "opportunity_history", "leads", "revenue", "activities")
#: the small tables the review also reads; their rows follow from the big ones (``large_extra``)
SMALL_TABLES = ("quotas", "trainings", "events", "marketing_spend", "sales_costs")
#: every table written, in order
TABLE_ORDER = BIG_TABLES + SMALL_TABLES
#: settings files written beside the tables, naming only this data set's reps (``large_configs``)
CONFIG_FILES = ("routing.yaml", "territories.yaml")


@dataclass(frozen=True)
class LargeCounts:
    """Exact row counts of a big synthetic CRM.

    Parameters
    ----------
    reps, accounts, opportunities, history, activities, leads, revenue : int
        Rows of ``reps``, ``accounts``, ``opportunities``, ``opportunity_history``, ``activities``, ``leads``
        and ``revenue``. Bounds: at least 21 reps, 6 accounts, 1 opportunity; ``history`` at least two per
        opportunity; ``revenue`` at most 36 months per account.
    """

    reps: int
    accounts: int
    opportunities: int
    history: int
    activities: int
    leads: int
    revenue: int

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 0:
                raise ValueError(f"LargeCounts.{f.name}: expected a non-negative integer, got {value!r}")
        if self.reps < MIN_REPS:
            raise ValueError(f"LargeCounts.reps: expected at least {MIN_REPS}, got {self.reps}")
        if self.accounts < 6:
            raise ValueError(f"LargeCounts.accounts: expected at least 6 (one per segment and region), got {self.accounts}")
        if self.opportunities < 1:
            raise ValueError(f"LargeCounts.opportunities: expected at least 1, got {self.opportunities}")
        if self.history < 2 * self.opportunities:
            raise ValueError(
                f"LargeCounts.history: expected at least two rows per opportunity "
                f"({2 * self.opportunities:,}), got {self.history:,}"
            )
        if self.revenue > N_MONTHS * self.accounts:
            raise ValueError(
                f"LargeCounts.revenue: expected at most {N_MONTHS} months per account "
                f"({N_MONTHS * self.accounts:,}), got {self.revenue:,}"
            )

    def scaled(self, factor: float) -> LargeCounts:
        """These counts times ``factor`` (rounded), e.g. ``LARGE_PRESETS["1x"].scaled(10)``."""
        return LargeCounts(**{k: round(v * factor) for k, v in asdict(self).items()})

    def rows(self) -> dict[str, int]:
        """Rows per table name (``stages`` excluded)."""
        return {
            "reps": self.reps,
            "accounts": self.accounts,
            "opportunities": self.opportunities,
            "opportunity_history": self.history,
            "leads": self.leads,
            "revenue": self.revenue,
            "activities": self.activities,
        }


_ONE_X = LargeCounts(
    reps=66, accounts=4_000, opportunities=7_836, history=31_240, activities=897_104, leads=29_958, revenue=28_886
)

#: ``"large"`` is issue 9's size; ``"1x"`` the committed sample's row counts, ``"10x"`` and ``"100x"`` multiples.
#: For ``"large"`` the reps are chosen so activities per rep and working day stay near the sample's (SDR ~50,
#: AE ~20): 3,000 reps; accounts (500,000) and revenue rows (3,700,000) follow the opportunities.
LARGE_PRESETS: dict[str, LargeCounts] = {
    "large": LargeCounts(
        reps=3_000,
        accounts=500_000,
        opportunities=1_000_000,
        history=8_000_000,
        activities=50_000_000,
        leads=5_000_000,
        revenue=3_700_000,
    ),
    "1x": _ONE_X,
    "10x": _ONE_X.scaled(10),
    "100x": _ONE_X.scaled(100),
}


def _resolve(size: str | LargeCounts) -> tuple[str, LargeCounts]:
    if isinstance(size, LargeCounts):
        return "custom", size
    if isinstance(size, str) and size in LARGE_PRESETS:
        return size, LARGE_PRESETS[size]
    raise ValueError(f"size: expected one of {', '.join(LARGE_PRESETS)} or a LargeCounts, got {size!r}")


def _stages_table() -> pa.Table:
    rows = yaml.safe_load((templates_dir() / "stages.yaml").read_text(encoding="utf-8"))["stages"]
    cols = {
        "stage": pa.array([r["stage"] for r in rows], pa.string()),
        "order": pa.array([int(r["order"]) for r in rows], pa.int64()),
        "probability": pa.array([float(r["probability"]) for r in rows], pa.float64()),
        "is_closed": pa.array([bool(r["is_closed"]) for r in rows], pa.bool_()),
        "is_won": pa.array([bool(r["is_won"]) for r in rows], pa.bool_()),
    }
    return pa.Table.from_arrays([cols[n] for n in arrow_schema("stages").names], schema=arrow_schema("stages"))


def _readme(label: str, seed: int, counts: dict[str, int]) -> str:
    lines = [
        "# Large synthetic CRM (for benchmarks)",
        "",
        f"Written by `salesops.sample.large.write_large(out_dir, size={label!r}, seed={seed})`; the same seed and",
        "size give byte-identical files. Synthetic: random, plausible data in the canonical model",
        "(`salesops/schema/tables.py`), 2023-01-01 to 2025-12-31, as of 2025-12-31 23:59:59 UTC. Unlike",
        "`data/sample/` it has NO planted truths and no `truth.json`: use it to measure speed and memory, not to",
        "check analyses. Every referenced rep, account, opportunity and lead exists; open deals carry expected",
        "close dates after the as-of day, nothing else lies after it. The small tables (quotas, trainings, events,",
        "marketing spend, sales costs) follow from the big ones; `routing.yaml` and `territories.yaml` are the",
        "templates' settings naming only this folder's reps, and the review reads them from here.",
        "",
        "| file | rows |",
        "|---|---:|",
    ]
    lines += [f"| `{t}.parquet` | {n:,} |" for t, n in counts.items()]
    return "\n".join(lines + [""])


def _write_chunked(
    out: Path, name: str, row_counts: np.ndarray, seeds: np.random.SeedSequence, progress: bool,
    make_chunk: Callable[[int, int, np.random.Generator], Any],
) -> int:
    """Write table ``name`` in chunks of items ``[a, b)`` (``row_counts`` rows per item), each built by
    ``make_chunk(a, b, rng)`` with a generator of its own spawned from ``seeds``; returns the rows written."""
    total = int(np.sum(row_counts))
    chunks = row_chunks(row_counts)
    with ParquetSink(out, name, total, progress) as sink:
        for (a, b), ss in zip(chunks, seeds.spawn(len(chunks)), strict=True):
            sink.write(make_chunk(a, b, np.random.default_rng(ss)))
    return total


def write_large(
    out_dir: str | Path, size: str | LargeCounts = "large", seed: int = 2025, progress: bool = True
) -> dict[str, int]:
    """Write a big synthetic CRM as one Parquet file per table, plus ``README.md``.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write (created if missing); existing files of these tables are replaced.
    size : {"large", "1x", "10x", "100x"} or LargeCounts
        Row counts, see :data:`LARGE_PRESETS`.
    seed : int
        Seed of every random draw (each chunk draws from its own ``SeedSequence(seed)`` child).
    progress : bool
        Show a tqdm progress bar per table on stderr.

    Returns
    -------
    dict of str to int
        Rows written per table: the big tables exactly the requested counts (``stages``: the 6 default
        stages), then the small tables (:data:`SMALL_TABLES`), whose rows follow from the big ones.
    """
    label, counts = _resolve(size)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for table in TABLE_ORDER:  # never leave a stale CSV beside a fresh Parquet file of the same table
        for stale in out.glob(f"{table}.*"):
            if stale.is_file():
                stale.unlink()
            elif stale.is_dir():
                shutil.rmtree(stale)
    root = np.random.SeedSequence(seed)
    s_reps, s_acc, s_opp, s_hist, s_leads, s_rev, s_act = root.spawn(7)
    s_train, s_spend = root.spawn(2)  # spawned after the first seven, so those draw as before
    written: dict[str, int] = {}

    stages = _stages_table()
    import pyarrow.parquet as pq

    pq.write_table(stages, out / "stages.parquet", compression="zstd")
    written["stages"] = stages.num_rows

    reps = make_reps(np.random.default_rng(s_reps), counts.reps)
    with ParquetSink(out, "reps", counts.reps, progress) as sink:
        sink.write(reps_table(reps))
    written["reps"] = counts.reps

    acc_rng = np.random.default_rng(s_acc.spawn(1)[0])
    accounts = make_accounts(acc_rng, counts.accounts, reps)
    written["accounts"] = _write_chunked(
        out, "accounts", np.ones(counts.accounts, dtype="int64"), s_acc, progress,
        lambda a, b, rng: accounts_chunk(accounts, a, b, rng),
    )

    lead_per_day = lead_day_counts(counts.leads)
    lead_day_start = np.concatenate(([0], np.cumsum(lead_per_day)))
    opp_rng = np.random.default_rng(s_opp.spawn(1)[0])
    opps = make_opportunities(opp_rng, counts.opportunities, accounts, reps, lead_day_start)
    assign_history_rows(opp_rng, opps, counts.history)
    written["opportunities"] = _write_chunked(
        out, "opportunities", np.ones(counts.opportunities, dtype="int64"), s_opp, progress,
        lambda a, b, rng: opportunities_chunk(opps, a, b, rng),
    )
    written["opportunity_history"] = _write_chunked(
        out, "opportunity_history", opps.history_rows, s_hist, progress,
        lambda a, b, rng: history_chunk(opps, a, b, rng),
    )

    conv_opp = np.full(counts.leads, -1, dtype="int64")
    has_lead = np.flatnonzero(opps.lead >= 0)
    conv_opp[opps.lead[has_lead]] = has_lead
    lead_day = np.repeat(np.arange(len(lead_per_day)), lead_per_day)
    lead_owner = np.empty(counts.leads, dtype="int64")
    lead_account = np.empty(counts.leads, dtype="int64")
    chunks = row_chunks(np.ones(counts.leads, dtype="int64"))
    monthly = MonthlyLeads()
    with ParquetSink(out, "leads", counts.leads, progress) as sink:
        for (a, b), ss in zip(chunks, s_leads.spawn(len(chunks)), strict=True):
            cols, owner, account = leads_chunk(
                np.random.default_rng(ss), a, b, lead_day[a:b], conv_opp[a:b], opps, accounts, reps
            )
            sink.write(cols)
            monthly.add(lead_day[a:b], cols)
            lead_owner[a:b], lead_account[a:b] = owner, account
    written["leads"] = counts.leads
    del conv_opp

    cust, first, length, mrr = revenue_runs(np.random.default_rng(s_rev.spawn(1)[0]), counts.revenue, accounts, opps)
    if length.size and (first + length > N_MONTHS).any():
        raise RuntimeError("table 'revenue': a customer's months run past December 2025; expected none")
    chunks = row_chunks(length)
    with ParquetSink(out, "revenue", counts.revenue, progress) as sink:
        for a, b in chunks:
            sink.write(revenue_chunk(cust[a:b], first[a:b], length[a:b], mrr[a:b]))
    written["revenue"] = counts.revenue

    act_seeds = s_act.spawn(1)
    per_cell = activity_counts(np.random.default_rng(act_seeds[0]), reps, counts.activities)
    opps_by_owner = Pools(opps.owner, len(reps), opps.created_day)
    leads_by_owner = Pools(lead_owner, len(reps), lead_day)
    del lead_owner, lead_day
    chunks = row_chunks(per_cell.sum(axis=1), ROW_GROUP)
    offset = 0
    with ParquetSink(out, "activities", counts.activities, progress) as sink:
        for (a, b), ss in zip(chunks, s_act.spawn(len(chunks)), strict=True):
            block = per_cell[a:b]
            if block.sum() == 0:
                continue
            sink.write(
                activities_chunk(
                    np.random.default_rng(ss), a, block, offset, reps, accounts, opps, opps_by_owner,
                    leads_by_owner, lead_account,
                )
            )
            offset += int(block.sum())
    written["activities"] = counts.activities

    trainings, trained, eligible = trainings_table(np.random.default_rng(s_train), reps)
    small = {
        "quotas": quotas_table(reps, opps),
        "trainings": trainings,
        "events": events_table(trained, eligible),
        "marketing_spend": marketing_spend_table(np.random.default_rng(s_spend), monthly),
        "sales_costs": sales_costs_table(reps, opps, monthly),
    }
    for table in SMALL_TABLES:
        n = len(next(iter(small[table].values())))
        with ParquetSink(out, table, n, progress=False) as sink:
            sink.write(small[table])
        written[table] = n
    (out / "routing.yaml").write_text(routing_config(reps), encoding="utf-8")
    (out / "territories.yaml").write_text(territory_config(), encoding="utf-8")

    (out / "README.md").write_text(_readme(label, seed, {t: written[t] for t in TABLE_ORDER}), encoding="utf-8")
    return {t: written[t] for t in TABLE_ORDER}
