"""How good is a score? AUC with a DeLong interval, lift by decile, calibration by bin.

Pure functions on arrays of outcomes (0/1) and scores; every rate comes with a Wilson interval
(:func:`salesops.stats.wilson_interval`) and the AUC with DeLong's standard error, so two scores (or two
periods) can be compared with their uncertainty in view.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from salesops.stats import wilson_interval

__all__ = ["auc_interval", "auc_table", "calibration_table", "lift_table"]


def _arrays(y: Any, score: Any) -> tuple[np.ndarray, np.ndarray]:
    yy = np.asarray(y)
    s = np.asarray(score, dtype=float)
    if yy.shape != s.shape or yy.ndim != 1:
        raise ValueError(f"outcomes and scores must be 1-d arrays of one length, got {yy.shape} and {s.shape}")
    if yy.dtype == bool:
        yy = yy.astype(np.int8)
    yy = yy.astype(float)
    if not np.isin(yy, (0.0, 1.0)).all():
        raise ValueError("outcomes must be 0/1 (or booleans)")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite numbers")
    return yy.astype(np.int8), s


def _midranks(x: np.ndarray) -> np.ndarray:
    return sps.rankdata(x, method="average")


def auc_interval(y: Any, score: Any, confidence: float = 0.95) -> tuple[float, float, float, float]:
    r"""Area under the ROC curve with DeLong's standard error and a logit-scale interval.

    AUC is the probability that a random positive outscores a random negative (ties count one half),
    computed from mid-ranks: :math:`\mathrm{AUC} = (\bar R_1 - (m + 1)/2) / n`, with :math:`m` positives,
    :math:`n` negatives and :math:`\bar R_1` the mean rank of the positives among all. DeLong's variance is
    :math:`S_{10}/m + S_{01}/n`, where :math:`S_{10}` and :math:`S_{01}` are the variances of the structural
    components :math:`V_{10}(x_i) = (R_i - R^{(1)}_i)/n` and :math:`V_{01}(y_j) = 1 - (R_j - R^{(0)}_j)/m`
    (ranks among all minus ranks within the own class). The interval is built on the logit scale,
    :math:`\operatorname{logit}\mathrm{AUC} \pm z\,\mathrm{se} / (\mathrm{AUC}(1-\mathrm{AUC}))`, so it stays
    inside (0, 1).

    Parameters
    ----------
    y : array-like of 0/1
        Outcomes.
    score : array-like of float
        Scores; higher means more likely positive.
    confidence : float
        Coverage of the interval.

    Returns
    -------
    (auc, se, lower, upper) : tuple of float
        NaN everywhere when one class is absent.
    """
    yy, s = _arrays(y, score)
    pos, neg = s[yy == 1], s[yy == 0]
    m, n = pos.size, neg.size
    if m == 0 or n == 0:
        return (float("nan"),) * 4
    r_all = _midranks(np.concatenate([pos, neg]))
    r_pos, r_neg = _midranks(pos), _midranks(neg)
    v10 = (r_all[:m] - r_pos) / n
    v01 = 1.0 - (r_all[m:] - r_neg) / m
    auc = float(v10.mean())
    var = (v10.var(ddof=1) / m if m > 1 else 0.0) + (v01.var(ddof=1) / n if n > 1 else 0.0)
    se = float(np.sqrt(max(var, 0.0)))
    z = float(sps.norm.ppf(0.5 + confidence / 2.0))
    if 0.0 < auc < 1.0 and se > 0:
        centre = np.log(auc / (1.0 - auc))
        half = z * se / (auc * (1.0 - auc))
        lower, upper = 1.0 / (1.0 + np.exp(-(centre - half))), 1.0 / (1.0 + np.exp(-(centre + half)))
    else:
        lower = upper = auc
    return auc, se, float(lower), float(upper)


def auc_table(frame: pd.DataFrame, outcome: str, score: str, by: str | list[str] | None = None,
              confidence: float = 0.95) -> pd.DataFrame:
    """AUC of ``score`` for ``outcome``, overall or per group, with DeLong intervals.

    Parameters
    ----------
    frame : DataFrame
        One row per lead with the outcome (0/1) and score columns.
    outcome, score : str
        Column names.
    by : str or list of str, optional
        Grouping columns (source, quarter ...); None: one row for all.
    confidence : float
        Coverage of the intervals.

    Returns
    -------
    DataFrame
        ``[by...,] leads, positives, base_rate, auc, se, lower, upper`` (see :func:`auc_interval`).
    """
    for col in [outcome, score, *([by] if isinstance(by, str) else (by or []))]:
        if col not in frame.columns:
            raise ValueError(f"column {col!r} is missing from the frame; columns: {', '.join(map(str, frame.columns))}")
    groups = [((), frame)] if by is None else list(frame.groupby(by, observed=True, dropna=False))
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        auc, se, lo, hi = auc_interval(g[outcome].to_numpy(), g[score].to_numpy(), confidence)
        y = g[outcome].astype(float)
        rows.append({**dict(zip(keys, key)), "leads": len(g), "positives": int(y.sum()),
                     "base_rate": float(y.mean()) if len(g) else float("nan"),
                     "auc": auc, "se": se, "lower": lo, "upper": hi})
    return pd.DataFrame(rows, columns=[*keys, "leads", "positives", "base_rate", "auc", "se", "lower", "upper"])


def lift_table(y: Any, score: Any, bins: int = 10, confidence: float = 0.95) -> pd.DataFrame:
    r"""Conversion and lift by score decile (or any number of equal-count bins), best bin first.

    Leads are sorted by score (ties keep their input order) and cut into ``bins`` groups of (nearly) equal
    size; bin 1 holds the highest scores. For bin :math:`b`: rate :math:`r_b = x_b / n_b` with a Wilson
    interval, lift :math:`r_b / \bar r` (:math:`\bar r` the overall rate), and the cumulative share of all
    conversions captured by bins :math:`1..b` (the gains curve).

    Parameters
    ----------
    y : array-like of 0/1
        Outcomes.
    score : array-like of float
        Scores.
    bins : int
        Number of bins (10: deciles).
    confidence : float
        Coverage of the rate intervals.

    Returns
    -------
    DataFrame
        ``decile, leads, conversions, rate, lower, upper, lift, lift_lower, lift_upper, min_score, max_score,
        cumulative_leads_share, cumulative_conversions_share``.
    """
    yy, s = _arrays(y, score)
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    if yy.size < bins:
        raise ValueError(f"need at least {bins} leads to cut {bins} bins, got {yy.size}")
    order = np.argsort(-s, kind="stable")
    idx = np.array_split(order, bins)
    base = yy.mean()
    n = np.array([len(i) for i in idx], dtype=float)
    x = np.array([yy[i].sum() for i in idx], dtype=float)
    lo, hi = wilson_interval(x, n, confidence)
    rate = x / n
    total = max(yy.sum(), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift, lift_lo, lift_hi = rate / base, np.asarray(lo) / base, np.asarray(hi) / base
    return pd.DataFrame(
        {
            "decile": np.arange(1, bins + 1),
            "leads": n.astype(int),
            "conversions": x.astype(int),
            "rate": rate,
            "lower": lo,
            "upper": hi,
            "lift": lift,
            "lift_lower": lift_lo,
            "lift_upper": lift_hi,
            "min_score": [s[i].min() for i in idx],
            "max_score": [s[i].max() for i in idx],
            "cumulative_leads_share": np.cumsum(n) / n.sum(),
            "cumulative_conversions_share": np.cumsum(x) / total,
        }
    )


def calibration_table(y: Any, prob: Any, bins: int = 10, strategy: str = "quantile",
                      confidence: float = 0.95) -> pd.DataFrame:
    r"""Predicted against observed conversion by probability bin.

    Bins are equal-count (``strategy="quantile"``) or equal-width on [0, 1] (``"uniform"``); per bin the mean
    predicted probability, the observed rate with a Wilson interval, and whether the prediction lies inside
    it. Summary figures in ``.attrs``: Brier score :math:`\frac1N\sum(p_i - y_i)^2`, expected calibration
    error :math:`\sum_b \frac{n_b}{N}|\bar p_b - r_b|` and calibration-in-the-large :math:`\bar p - \bar y`.

    Parameters
    ----------
    y : array-like of 0/1
        Outcomes.
    prob : array-like of float in [0, 1]
        Predicted probabilities.
    bins : int
        Number of bins.
    strategy : {"quantile", "uniform"}
        How bins are cut.
    confidence : float
        Coverage of the intervals.

    Returns
    -------
    DataFrame
        ``bin, leads, mean_predicted, observed_rate, lower, upper, inside``; attrs ``brier``, ``ece``,
        ``mean_predicted``, ``observed_rate``.
    """
    yy, p = _arrays(y, prob)
    if ((p < 0) | (p > 1)).any():
        raise ValueError("probabilities must lie in [0, 1]")
    if strategy == "quantile":
        order = np.argsort(p, kind="stable")
        groups = [g for g in np.array_split(order, bins) if len(g)]
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, bins + 1)
        which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
        groups = [np.flatnonzero(which == b) for b in range(bins)]
        groups = [g for g in groups if len(g)]
    else:
        raise ValueError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}")
    n = np.array([len(g) for g in groups], dtype=float)
    x = np.array([yy[g].sum() for g in groups], dtype=float)
    mp = np.array([p[g].mean() for g in groups])
    lo, hi = wilson_interval(x, n, confidence)
    lo, hi = np.asarray(lo), np.asarray(hi)
    out = pd.DataFrame(
        {
            "bin": np.arange(1, len(groups) + 1),
            "leads": n.astype(int),
            "mean_predicted": mp,
            "observed_rate": x / n,
            "lower": lo,
            "upper": hi,
            "inside": (mp >= lo) & (mp <= hi),
        }
    )
    out.attrs.update(
        brier=float(np.mean((p - yy) ** 2)),
        ece=float(np.sum(n / n.sum() * np.abs(mp - x / n))),
        mean_predicted=float(p.mean()),
        observed_rate=float(yy.mean()),
    )
    return out
