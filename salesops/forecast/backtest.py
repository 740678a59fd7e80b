"""The backtest harness: forecast past quarters as of several points and compare with what was booked.

For every quarter with at least ``min_history_quarters`` complete quarters before it, at each as-of point
(day 1, week 4, week 8: 0, 28 and 56 days after the quarter's first day, 00:00 UTC), every method forecasts
from the snapshot at that moment (models trained only on quarters that ended by then), and the forecast is
compared with the actual bookings (won amount by close date in the quarter, from the latest snapshot).

Scores over a set of forecasts :math:`F_k` with actuals :math:`A_k`:

.. math:: \\mathrm{WAPE} = \\frac{\\sum_k |F_k - A_k|}{\\sum_k A_k},\\quad
          \\mathrm{bias} = \\frac{\\sum_k (F_k - A_k)}{\\sum_k A_k},\\quad
          \\mathrm{coverage} = \\frac{1}{K}\\sum_k [P10_k \\le A_k \\le P90_k].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesops.io.data import SalesData
from salesops.periods import Quarter, latest_complete_quarter

from ._common import AS_OF_POINTS, as_of_point, as_utc, group_list
from .quarter import METHODS, bookings_history, forecast_quarter, history_quarters
from .snapshot import SnapshotBuilder

__all__ = ["actual_bookings", "backtest_quarters", "backtest", "backtest_scores"]


def actual_bookings(data: SalesData | SnapshotBuilder, quarter: Quarter | str, by: str | Sequence[str] | None = None,
                    as_of: object | None = None) -> pd.DataFrame:
    """Bookings of a quarter: ``sum(amount)`` of deals won with a close date in it, as known at ``as_of``
    (default: the latest history row).

    Returns
    -------
    DataFrame
        Columns ``[*by, actual]``.
    """
    builder = data if isinstance(data, SnapshotBuilder) else SnapshotBuilder(data)
    cols = group_list(by)
    t = builder.last_moment() if as_of is None else as_utc(as_of)
    books = bookings_history(builder, t, by=cols)
    part = books.loc[books["quarter"] == str(quarter)]
    if not cols:
        return pd.DataFrame({"actual": [float(part["bookings"].sum())]})
    return part[cols + ["bookings"]].rename(columns={"bookings": "actual"}).reset_index(drop=True)


def backtest_quarters(data: SalesData | SnapshotBuilder, min_history_quarters: int = 4,
                      as_of: object | None = None) -> list[Quarter]:
    """Complete quarters (ended by ``as_of``, default the latest history row) with at least
    ``min_history_quarters`` complete quarters before them."""
    builder = data if isinstance(data, SnapshotBuilder) else SnapshotBuilder(data)
    t = builder.last_moment() if as_of is None else as_utc(as_of)
    qs = history_quarters(builder, t)
    last = latest_complete_quarter(t.tz_convert("UTC").tz_localize(None))
    q = qs[-1].next() if qs else None
    while q is not None and q <= last:  # a quarter the data reach within a few days of its end is complete
        qs.append(q)
        q = q.next()
    return [q for i, q in enumerate(qs) if i >= min_history_quarters]


def backtest(
    data: SalesData | SnapshotBuilder,
    quarters: Sequence[Quarter | str] | None = None,
    points: dict[str, int] | None = None,
    methods: Sequence[str] = METHODS,
    by: Sequence[str] = ("segment", "team"),
    n_sims: int = 1000,
    seed: int = 0,
    min_history_quarters: int = 4,
) -> pd.DataFrame:
    """Every method's forecast of every backtest quarter at every as-of point, with the actual.

    Parameters
    ----------
    data : SalesData or SnapshotBuilder
    quarters : sequence, optional
        Default :func:`backtest_quarters`.
    points : dict, optional
        As-of point name -> days after the quarter's first day; default day 1, week 4, week 8.
    methods : sequence of str
    by : sequence of str
        Group dimensions scored besides the total (each on its own).
    n_sims, seed, min_history_quarters :
        Passed to :func:`~salesops.forecast.quarter.forecast_quarter`.

    Returns
    -------
    DataFrame
        One row per quarter, point, method, dimension (``total`` or a ``by`` column) and group: ``forecast``,
        ``p10``, ``p90``, ``actual``, ``error = forecast - actual``, ``covered``.
    """
    builder = data if isinstance(data, SnapshotBuilder) else SnapshotBuilder(data)
    points = dict(AS_OF_POINTS) if points is None else dict(points)
    qs = backtest_quarters(builder, min_history_quarters) if quarters is None else [str(q) for q in quarters]
    rows = []
    for q in qs:
        actual = {dim: actual_bookings(builder, q, None if dim == "total" else dim) for dim in ("total", *by)}
        for name, offset in points.items():
            t = as_of_point(Quarter(int(str(q)[:4]), int(str(q)[-1])), offset)
            for m in methods:
                fc = forecast_quarter(builder, q, t, method=m, n_sims=n_sims, seed=seed,
                                      min_history_quarters=min_history_quarters)
                for dim in ("total", *by):
                    s = fc.summary(None if dim == "total" else dim)
                    if dim == "total":
                        s = s.assign(group="all", actual=float(actual["total"]["actual"].iloc[0]))
                    else:
                        s = s.merge(actual[dim], on=dim, how="outer").rename(columns={dim: "group"})
                        s["actual"] = s["actual"].fillna(0.0)
                        s["forecast"] = s["forecast"].fillna(0.0)
                        s["method"], s["quarter"] = m, str(q)
                    rows.append(s.assign(dimension=dim, point=name)[
                        ["quarter", "point", "method", "dimension", "group", "forecast", "p10", "p90", "actual"]])
    out = pd.concat(rows, ignore_index=True)
    out["error"] = out["forecast"] - out["actual"]
    out["covered"] = np.where(out["p10"].notna() & out["p90"].notna(),
                              ((out["p10"] <= out["actual"]) & (out["actual"] <= out["p90"])).astype(float), np.nan)
    return out


def backtest_scores(results: pd.DataFrame, by: Sequence[str] = ("dimension", "method")) -> pd.DataFrame:
    """WAPE, bias and P10-P90 coverage (formulas in the module docstring) of backtest rows, grouped by ``by``.

    Returns
    -------
    DataFrame
        ``[*by, n, wape, bias, coverage]`` (coverage NaN for methods without an interval).
    """
    def score(g: pd.DataFrame) -> pd.Series:
        total = g["actual"].sum()
        cov = g["covered"].dropna()
        return pd.Series({
            "n": float(len(g)),
            "wape": float(g["error"].abs().sum() / total) if total > 0 else np.nan,
            "bias": float(g["error"].sum() / total) if total > 0 else np.nan,
            "coverage": float(cov.mean()) if len(cov) else np.nan,
        })
    return results.groupby(list(by), sort=False).apply(score, include_groups=False).reset_index()
