"""Building blocks of the big-data generator: the calendar, exact integer allocation, pool sampling and
Arrow column builders, and a chunked Parquet sink with a progress bar.

Days are integers counted from 2023-01-01 (day 0) to 2025-12-31 (day 1095); a negative day lies before
the window (a hire or an account created earlier). Times of day are whole seconds.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from salesops.schema.tables import TABLES

WINDOW_START = dt.date(2023, 1, 1)
N_DAYS = (dt.date(2025, 12, 31) - WINDOW_START).days + 1  # 1096
AS_OF_DAY = N_DAYS - 1
#: the as-of moment, 2025-12-31 23:59:59 UTC, in seconds from day 0
AS_OF_SECOND = AS_OF_DAY * 86_400 + 86_399
EPOCH_DAY0 = (WINDOW_START - dt.date(1970, 1, 1)).days
#: earliest day anything (a hire, an account) may date from: 2015-01-05
EARLIEST_DAY = (dt.date(2015, 1, 5) - WINDOW_START).days
N_MONTHS = 36
ROW_GROUP = 1_000_000

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
REGIONS = ("East", "West")


def weekday(days: np.ndarray) -> np.ndarray:
    """0 = Monday ... 6 = Sunday (2023-01-01 was a Sunday)."""
    return (np.asarray(days) + 6) % 7


def is_working_day(days: np.ndarray) -> np.ndarray:
    """Monday to Friday."""
    return weekday(days) < 5


def month_index(days: np.ndarray) -> np.ndarray:
    """Month of a window day, 0 = January 2023 ... 35 = December 2025."""
    d = np.asarray(days, dtype="int64") + EPOCH_DAY0
    months = d.astype("datetime64[D]").astype("datetime64[M]").astype("int64")
    return months - (2023 - 1970) * 12


def month_start_day(months: np.ndarray) -> np.ndarray:
    """Window day of the first of month ``months`` (0 = January 2023)."""
    m = (np.asarray(months, dtype="int64") + (2023 - 1970) * 12).astype("datetime64[M]")
    return m.astype("datetime64[D]").astype("int64") - EPOCH_DAY0


def seasonal_day_weights(weekend: float, growth_per_year: float) -> np.ndarray:
    """Relative volume of each window day: working days 1, weekends ``weekend``, compound yearly growth,
    a busier end of quarter and a quiet late December."""
    days = np.arange(N_DAYS)
    w = np.where(is_working_day(days), 1.0, weekend) * (1.0 + growth_per_year) ** (days / 365.0)
    month = month_index(days) % 12
    w = w * np.where(np.isin(month, (2, 5, 8, 11)), 1.15, 1.0)
    dec_late = (month == 11) & (((days + EPOCH_DAY0).astype("datetime64[D]") - (days + EPOCH_DAY0).astype("datetime64[M]")).astype(int) >= 22)
    return w * np.where(dec_late, 0.4, 1.0)


def allocate(total: int, weights: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Split ``total`` into non-negative integers proportional to ``weights`` that sum exactly to ``total``.

    With ``x = total * w / sum(w)``, each share is ``floor(x)`` or ``ceil(x)``. Without ``rng`` the units
    left over after flooring go one each to the largest fractional parts (ties to the lower index). With
    ``rng`` the shares are systematic rounding, ``floor(X_i + u) - floor(X_{i-1} + u)`` of the running sum
    ``X`` with one uniform ``u``: unbiased, so many small shares (a manager's 0.1 activity a day) still add up.
    """
    w = np.asarray(weights, dtype="float64")
    if total == 0 or w.size == 0:
        return np.zeros(w.size, dtype="int64")
    s = w.sum()
    if not s > 0:
        raise ValueError(f"cannot allocate {total} rows: every weight is zero")
    x = w * (total / s)
    if rng is not None:
        running = np.cumsum(x)
        running = np.minimum(running, total)
        running[-1] = total  # exact despite rounding error
        edges = np.floor(running + rng.random()).astype("int64")
        shares = np.diff(np.concatenate(([0], edges)))
        return shares
    base = np.floor(x).astype("int64")
    left = int(total - base.sum())
    if left > 0:
        frac = x - base
        top = np.argsort(-frac, kind="stable")[:left]
        base[top] += 1
    return base


def pick_from_ranges(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A uniform integer in ``[lo, hi)`` per row (``hi > lo`` where it matters; elsewhere ``lo``)."""
    span = np.maximum(hi - lo, 1)
    return lo + np.minimum((rng.random(len(lo)) * span).astype("int64"), span - 1)


class Pools:
    """Members grouped by pool (CSR layout), optionally sorted by a day within each pool.

    ``keys`` sorts by (pool, day) so :meth:`range_by_day` finds, per query, the members of a pool whose
    day lies in a window with two binary searches.
    """

    SHIFT = 1 << 14
    OFFSET = 8192

    def __init__(self, pool: np.ndarray, n_pools: int, day: np.ndarray | None = None) -> None:
        pool = np.asarray(pool, dtype="int64")
        day = np.zeros(len(pool), dtype="int64") if day is None else np.asarray(day, dtype="int64")
        keys = pool * self.SHIFT + (day + self.OFFSET)
        self.order = np.argsort(keys, kind="stable")
        self.keys = keys[self.order]
        counts = np.bincount(pool, minlength=n_pools)
        self.start = np.concatenate(([0], np.cumsum(counts)))
        self.n_pools = n_pools

    def size(self, pool: np.ndarray) -> np.ndarray:
        return self.start[pool + 1] - self.start[pool]

    def range_by_day(self, pool: np.ndarray, first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sorted positions ``[lo, hi)`` of the members of ``pool`` with ``first <= day <= last``."""
        base = np.asarray(pool, dtype="int64") * self.SHIFT + self.OFFSET
        lo = np.searchsorted(self.keys, base + first, side="left")
        hi = np.searchsorted(self.keys, base + last, side="right")
        return lo, hi

    def pick(self, rng: np.random.Generator, pool: np.ndarray) -> np.ndarray:
        """A uniform member of each row's pool (every pool asked for must be non-empty)."""
        pool = np.asarray(pool, dtype="int64")
        return self.order[pick_from_ranges(rng, self.start[pool], self.start[pool + 1])]


def pick_active(
    rng: np.random.Generator,
    pools: Pools,
    pool: np.ndarray,
    day: np.ndarray,
    hire_day: np.ndarray,
    end_day: np.ndarray,
    fallback: np.ndarray,
    tries: int = 30,
) -> np.ndarray:
    """A member of each row's pool employed on ``day`` (hire <= day <= end), by redrawing the misses;
    rows still unlucky after ``tries`` get ``fallback[pool]``, a member employed throughout."""
    pool = np.asarray(pool, dtype="int64")
    out = pools.pick(rng, pool)
    bad = (hire_day[out] > day) | (end_day[out] < day)
    for _ in range(tries):
        idx = np.flatnonzero(bad)
        if idx.size == 0:
            break
        out[idx] = pools.pick(rng, pool[idx])
        bad[idx] = (hire_day[out[idx]] > day[idx]) | (end_day[out[idx]] < day[idx])
    idx = np.flatnonzero(bad)
    out[idx] = fallback[pool[idx]]
    return out


def choice(rng: np.random.Generator, p: Sequence[float], n: int) -> np.ndarray:
    """``n`` category codes drawn with probabilities ``p`` (normalised)."""
    cdf = np.cumsum(np.asarray(p, dtype="float64"))
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1).astype("int64")


def group_cumsum(values: np.ndarray, starts: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Inclusive cumulative sum of ``values`` within consecutive groups (``starts`` = first row of each)."""
    cs = np.cumsum(values)
    before = np.concatenate(([0], cs))[starts]
    return cs - before[group]


# --- Arrow columns ---------------------------------------------------------------------------------------


_DIGITS4 = np.array([list(f"{i:04d}".encode()) for i in range(10_000)], dtype="uint8")


def id_array(prefix: str, numbers: np.ndarray, width: int, valid: np.ndarray | None = None) -> pa.Array:
    """Fixed-width string ids ``prefix`` + zero-padded ``numbers`` (``R00001``), null where not ``valid``."""
    num = np.asarray(numbers, dtype="int64").copy()
    n = len(num)
    if n and (num.min() < 0 or num.max() >= 10**width):
        raise ValueError(f"ids with prefix {prefix!r} need numbers in [0, {10**width}); got {num.min()}..{num.max()}")
    p = np.frombuffer(prefix.encode("ascii"), dtype="uint8")
    length = len(p) + width
    mat = np.empty((n, length), dtype="uint8")
    mat[:, : len(p)] = p
    end = length
    while end > len(p):  # four digits at a time from the right, through a lookup table
        take = min(4, end - len(p))
        mat[:, end - take : end] = _DIGITS4[num % 10_000][:, 4 - take :]
        num //= 10_000
        end -= take
    offsets = np.arange(n + 1, dtype="int32") * length
    arr = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(mat.tobytes()))
    if valid is not None:
        arr = pc.if_else(pa.array(np.asarray(valid, dtype=bool)), arr, pa.scalar(None, pa.string()))
    return arr


def labels(values: Sequence[str], codes: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Strings ``values[codes]``; null where not ``valid``."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pc.take(pa.array(list(values), type=pa.string()), pa.array(np.asarray(codes, dtype="int32"), mask=mask))


def dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``date32`` from window days."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array((np.asarray(days, dtype="int64") + EPOCH_DAY0).astype("int32"), type=pa.date32(), mask=mask)


def timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``timestamp[us, tz=UTC]`` from seconds since the start of day 0."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    us = (np.asarray(seconds, dtype="int64") + EPOCH_DAY0 * 86_400) * 1_000_000
    return pa.array(us, type=pa.timestamp("us", tz="UTC"), mask=mask)


def floats(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.asarray(values, dtype="float64"), type=pa.float64(), mask=mask)


_ARROW_TYPES = {
    "id": pa.string(),
    "str": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "float": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
}


def arrow_schema(table: str) -> pa.Schema:
    """The Parquet schema of a canonical table, columns in model order."""
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.kind]) for c in TABLES[table].columns])


class ParquetSink:
    """Write one canonical table to ``<out>/<table>.parquet`` chunk by chunk, with a tqdm bar on stderr.

    Each :meth:`write` call becomes one row group (zstd). The columns must be exactly the table's
    canonical columns with the canonical Arrow types.
    """

    def __init__(self, out_dir: Path, table: str, total: int, progress: bool) -> None:
        from tqdm.auto import tqdm

        self.table = table
        self.schema = arrow_schema(table)
        self.path = Path(out_dir) / f"{table}.parquet"
        self.total = total
        self.rows = 0
        self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd", write_statistics=True)
        self._bar = tqdm(total=total, desc=table, unit="rows", unit_scale=True, file=sys.stderr,
                         disable=not progress, leave=True)

    def write(self, columns: dict[str, pa.Array]) -> None:
        names = self.schema.names
        if sorted(columns) != sorted(names):
            raise ValueError(
                f"table {self.table!r}: chunk columns {sorted(columns)} differ from the canonical {sorted(names)}"
            )
        arrays = [columns[n] for n in names]
        for field, arr in zip(self.schema, arrays, strict=True):
            if arr.type != field.type:
                raise TypeError(f"table {self.table!r}, column {field.name!r}: expected {field.type}, got {arr.type}")
        chunk = pa.Table.from_arrays(arrays, schema=self.schema)
        self._writer.write_table(chunk, row_group_size=max(len(chunk), 1))
        self.rows += len(chunk)
        self._bar.update(len(chunk))

    def close(self) -> int:
        self._writer.close()
        self._bar.close()
        if self.rows != self.total:
            raise RuntimeError(f"table {self.table!r}: wrote {self.rows:,} rows, expected exactly {self.total:,}")
        return self.rows

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._writer.close()
            self._bar.close()


def row_chunks(row_counts: np.ndarray, target: int = ROW_GROUP) -> list[tuple[int, int]]:
    """Split consecutive items with ``row_counts`` rows each into ranges ``[a, b)`` of about ``target``
    rows (at least one item per range)."""
    n = len(row_counts)
    if n == 0:
        return []
    cs = np.cumsum(row_counts)
    bounds = [0]
    while bounds[-1] < n:
        a = bounds[-1]
        already = cs[a - 1] if a else 0
        b = int(np.searchsorted(cs, already + target, side="left")) + 1
        bounds.append(min(max(b, a + 1), n))
    return list(zip(bounds[:-1], bounds[1:], strict=True))
