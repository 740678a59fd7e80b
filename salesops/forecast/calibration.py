r"""Split-conformal calibration of the P10-P90 interval per level of roll-up, from past backtest quarters only.

The simulated P10/P90 of a segment or a team are too narrow: per-group totals move together and vary more than
the deal-level simulation says. Each backtest row (forecast :math:`F`, interval :math:`[P10, P90]`, actual
:math:`A`) gives the smallest factor :math:`k` by which the interval, stretched about the point forecast, holds
the actual:

.. math:: k = \max\left(\frac{F - A}{F - P10},\ \frac{A - F}{P90 - F},\ 0\right)

(a side of zero width gives :math:`k = \infty` when the actual lies beyond it, 0 when it lies on it). With the
scores :math:`k_1 \le \dots \le k_n` of the calibration rows, the split-conformal factor for a nominal coverage
:math:`1 - \alpha` (0.8 for P10-P90) is the :math:`\lceil (n + 1)(1 - \alpha) \rceil`-th smallest score
(:math:`\infty` when that rank exceeds :math:`n`), and the calibrated interval is

.. math:: [\max(0,\ F - \hat k\,(F - P10)),\ F + \hat k\,(P90 - F)].

The point forecast :math:`F` is unchanged, so WAPE and bias are too. The calibration is per method and level
(``dimension``: total, segment, team), pooled over the as-of points, and for a quarter :math:`q` it uses only
backtest quarters that ended before :math:`q` started (an expanding window: no information from :math:`q` or
later). A quarter with too few earlier scores for a finite factor keeps its raw interval and is flagged
``calibrated = False``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["NOMINAL_COVERAGE", "interval_scores", "conformal_factor", "calibrate_backtest", "calibration_factors",
           "apply_factor", "coverage_by_level"]

#: Nominal coverage of the P10-P90 interval.
NOMINAL_COVERAGE = 0.8
_KEYS = ("method", "dimension")


def interval_scores(forecast: Sequence[float] | np.ndarray, p10: Sequence[float] | np.ndarray,
                    p90: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray) -> np.ndarray:
    """Each row's conformity score: the smallest stretch factor ``k`` of ``[P10, P90]`` about the forecast that
    holds the actual (formula in the module docstring). NaN where the interval is missing."""
    f, lo, hi, a = (np.asarray(x, float) for x in (forecast, p10, p90, actual))
    below, above = f - lo, hi - f
    with np.errstate(divide="ignore", invalid="ignore"):
        k_lo = np.where(a < f, np.where(below > 0, (f - a) / below, np.inf), 0.0)
        k_hi = np.where(a > f, np.where(above > 0, (a - f) / above, np.inf), 0.0)
    k = np.maximum(k_lo, k_hi)
    return np.where(np.isnan(lo) | np.isnan(hi) | np.isnan(f) | np.isnan(a), np.nan, k)


def conformal_factor(scores: Sequence[float] | np.ndarray, coverage: float = NOMINAL_COVERAGE) -> float:
    """The split-conformal quantile of ``scores``: the ``ceil((n + 1) * coverage)``-th smallest of the ``n``
    non-NaN scores, ``inf`` when that rank exceeds ``n`` (too few scores to promise the coverage)."""
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must lie strictly between 0 and 1, got {coverage}")
    s = np.sort(np.asarray(scores, float)[~np.isnan(np.asarray(scores, float))])
    rank = math.ceil((len(s) + 1) * coverage)
    return float(s[rank - 1]) if rank <= len(s) else math.inf


def apply_factor(table: pd.DataFrame, factor: float) -> pd.DataFrame:
    """``table`` (columns ``forecast, p10, p90``) with the interval stretched by ``factor`` about the forecast:
    ``p10 = max(0, F - factor (F - P10))``, ``p90 = F + factor (P90 - F)``; the forecast is untouched."""
    out = table.copy()
    f = out["forecast"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        out["p10"] = np.maximum(0.0, f - factor * (f - out["p10"].to_numpy(float)))
        out["p90"] = f + factor * (out["p90"].to_numpy(float) - f)
    return out


def _check(results: pd.DataFrame) -> None:
    need = ["quarter", *_KEYS, "forecast", "p10", "p90", "actual"]
    missing = [c for c in need if c not in results.columns]
    if missing:
        raise ValueError(f"backtest results lack column(s) {', '.join(missing)}; expected the output of "
                         "salesops.forecast.backtest")


def calibration_factors(results: pd.DataFrame, before: str | None = None,
                        coverage: float = NOMINAL_COVERAGE) -> pd.DataFrame:
    """The conformal factor per method and level from the backtest rows of quarters before ``before``
    (``YYYYQn``; all rows when None).

    Returns
    -------
    DataFrame
        ``method, dimension, factor, n_scores, quarters`` (``quarters`` = number of calibration quarters).
    """
    _check(results)
    part = results if before is None else results.loc[results["quarter"].astype(str) < str(before)]
    part = part.assign(score=interval_scores(part["forecast"], part["p10"], part["p90"], part["actual"]))
    part = part.loc[part["score"].notna()]
    rows = []
    for key, g in part.groupby(list(_KEYS), sort=False):
        rows.append(dict(zip(_KEYS, key, strict=True)) | {
            "factor": conformal_factor(g["score"], coverage), "n_scores": len(g),
            "quarters": g["quarter"].nunique()})
    return pd.DataFrame(rows, columns=[*_KEYS, "factor", "n_scores", "quarters"])


def calibrate_backtest(results: pd.DataFrame, coverage: float = NOMINAL_COVERAGE) -> pd.DataFrame:
    """Backtest rows with their interval calibrated from earlier quarters only.

    For the rows of quarter ``q``, the factor of their method and level comes from :func:`calibration_factors`
    on the rows of quarters before ``q``. Adds ``raw_p10, raw_p90, raw_covered`` (the simulated interval),
    ``factor``, ``n_scores``, ``calibrated`` (False where no finite factor was available yet: the raw interval
    is kept) and replaces ``p10, p90, covered`` by the calibrated ones. ``forecast`` and ``error`` are unchanged.
    """
    _check(results)
    out = results.copy()
    out["raw_p10"], out["raw_p90"] = out["p10"], out["p90"]
    if "covered" in out.columns:
        out["raw_covered"] = out["covered"]
    out["factor"], out["n_scores"], out["calibrated"] = 1.0, 0, False
    q_str = out["quarter"].astype(str)
    for q in sorted(q_str.unique()):
        factors = calibration_factors(results, before=q, coverage=coverage)
        for _, f in factors.iterrows():
            m = (q_str == q).to_numpy() & (out["method"] == f["method"]).to_numpy() \
                & (out["dimension"] == f["dimension"]).to_numpy()
            out.loc[m, "n_scores"] = int(f["n_scores"])
            if np.isfinite(f["factor"]):
                out.loc[m, ["p10", "p90"]] = apply_factor(out.loc[m], float(f["factor"]))[["p10", "p90"]]
                out.loc[m, "factor"] = float(f["factor"])
                out.loc[m, "calibrated"] = True
    out["covered"] = np.where(out["p10"].notna() & out["p90"].notna(),
                              ((out["p10"] <= out["actual"]) & (out["actual"] <= out["p90"])).astype(float), np.nan)
    return out


def coverage_by_level(results: pd.DataFrame, method: str = "gbm") -> pd.DataFrame:
    """P10-P90 coverage per level of ``method``'s calibrated backtest rows (:func:`calibrate_backtest` output),
    over the rows that could be calibrated, beside the raw simulated interval's coverage on the same rows.

    Returns
    -------
    DataFrame
        ``dimension, quarters, first, last, forecasts, coverage_raw, coverage`` (``forecasts`` = rows: quarters
        x as-of points x groups).
    """
    part = results.loc[(results["method"] == method) & results["calibrated"].astype(bool)]
    rows = []
    for dim, g in part.groupby("dimension", sort=False):
        qs = sorted(g["quarter"].astype(str).unique())
        rows.append({"dimension": dim, "quarters": len(qs), "first": qs[0], "last": qs[-1], "forecasts": len(g),
                     "coverage_raw": float(g["raw_covered"].mean()), "coverage": float(g["covered"].mean())})
    return pd.DataFrame(rows, columns=["dimension", "quarters", "first", "last", "forecasts", "coverage_raw",
                                       "coverage"])
