"""Biggest movers: which segment's KPIs changed most against a base quarter, and what drove the change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from salesops.io.data import SalesData
from salesops.periods import Quarter
from salesops.summary.kpis import KPI_LABELS, KPI_UNITS, as_quarter, headline_kpis
from salesops.summary.significance import ALPHA, rate_tests

__all__ = ["MOVER_KPIS", "biggest_movers", "decompose_change"]

#: KPIs ranked by default.
MOVER_KPIS = ("bookings", "deals_won", "win_rate", "avg_deal_size", "new_pipeline")

#: A product KPI and its two factors: bookings = deals won x average deal size; deals won = closed x win rate.
_FACTORS = {
    "bookings": ("deals_won", "avg_deal_size"),
    "deals_won": ("closed", "win_rate"),
}
_FACTOR_WORDS = {
    ("deals_won", 1): "more deals won",
    ("deals_won", -1): "fewer deals won",
    ("avg_deal_size", 1): "larger deals",
    ("avg_deal_size", -1): "smaller deals",
    ("closed", 1): "more deals closed",
    ("closed", -1): "fewer deals closed",
    ("win_rate", 1): "a higher win rate",
    ("win_rate", -1): "a lower win rate",
}


_TEST_COLS = ("test", "p_value", "p_adjusted", "adjustment", "family", "lower", "upper", "alpha", "significant")


def decompose_change(a0: float, a1: float, b0: float, b1: float) -> tuple[float, float]:
    r"""Split the change of a product :math:`y = a b` into the shares due to each factor (log decomposition).

    .. math::

        \log\frac{y_1}{y_0} = \log\frac{a_1}{a_0} + \log\frac{b_1}{b_0}, \qquad
        s_a = \frac{\log(a_1/a_0)}{\log(y_1/y_0)},\; s_b = 1 - s_a

    Returns
    -------
    tuple of float
        ``(s_a, s_b)``, summing to 1; NaN when a value is not positive or :math:`y` did not change.
    """
    if min(a0, a1, b0, b1) <= 0 or not np.isfinite([a0, a1, b0, b1]).all():
        return np.nan, np.nan
    la, lb = np.log(a1 / a0), np.log(b1 / b0)
    total = la + lb
    if abs(total) < 1e-12:
        return np.nan, np.nan
    return float(la / total), float(lb / total)


def _driver(kpi: str, values: dict[str, float], bases: dict[str, float]) -> tuple[str, float]:
    if kpi not in _FACTORS:
        return "", np.nan
    fa, fb = _FACTORS[kpi]
    sa, _ = decompose_change(bases.get(fa, np.nan), values.get(fa, np.nan), bases.get(fb, np.nan),
                             values.get(fb, np.nan))
    if not np.isfinite(sa):
        return "", np.nan
    la = np.log(values[fa] / bases[fa])
    lb = np.log(values[fb] / bases[fb])
    if abs(la + lb) < 0.02:  # the product hardly moved: its factors' shares mean nothing
        return "", np.nan
    main, other, share = (fa, fb, sa) if abs(la) >= abs(lb) else (fb, fa, 1 - sa)
    parts = [_FACTOR_WORDS[(main, int(np.sign(la if main == fa else lb) or 1))]]
    minor = lb if main == fa else la
    if abs(minor) > 0.02:
        parts.append(_FACTOR_WORDS[(other, int(np.sign(minor)))])
    return " and ".join(parts), float(share)


def biggest_movers(
    data: SalesData,
    quarter: str | Quarter,
    by: str = "segment",
    *,
    against: Literal["previous", "last_year"] = "last_year",
    kpis: Sequence[str] = MOVER_KPIS,
    top: int | None = None,
    headline: pd.DataFrame | None = None,
    alpha: float = ALPHA,
    adjust: Literal["holm", "bh", "bonferroni"] = "holm",
) -> pd.DataFrame:
    r"""Rank the ``by`` groups' KPIs by how much they moved against a base quarter.

    ``change = value - base`` (for a rate, its difference: shown in points), ``relative_change = value / base - 1``
    (shown in % for amounts and counts); the ranking is by :math:`|\text{relative\_change}|`, largest first, so
    moves of different units compare on one scale.
    For bookings and deals won the change is split into its factors with :func:`decompose_change`
    (bookings = deals won x average deal size; deals won = deals closed x win rate); ``driver`` names the factor
    that moved most (and the other when it moved more than 2 %), ``driver_share`` is that factor's share of the
    change in log terms (both empty when the product moved less than 2 %). ``attrs["against"]`` keeps the base.

    Parameters
    ----------
    data : SalesData
        As for :func:`salesops.summary.quarter_kpis`.
    quarter : str or Quarter
        Quarter under review.
    by : str
        Grouping column (default ``segment``).
    against : {"last_year", "previous"}
        The same quarter last year (default, free of seasonality) or the previous quarter.
    kpis : sequence of str
        KPIs to rank.
    top : int, optional
        Keep the first ``top`` rows.
    headline : DataFrame, optional
        A ready :func:`salesops.summary.headline_kpis` frame with this ``by`` (saves recomputing it).
    alpha : float
        Level of the rate tests.
    adjust : {"holm", "bh", "bonferroni"}
        Multiple-comparison adjustment over the groups.

    Returns
    -------
    pandas.DataFrame
        ``rank, group, kpi, label, value, base, change, relative_change, driver, driver_share``, then the rate
        tests' ``test, p_value, p_adjusted, adjustment, family, lower, upper, alpha, significant``.
    """
    q = as_quarter(quarter)
    h = headline if headline is not None else headline_kpis(data, q, by)
    base_col = "last_year" if against == "last_year" else "previous"
    wide_v = h.pivot(index="group", columns="kpi", values="value")
    wide_b = h.pivot(index="group", columns="kpi", values=base_col)
    n = h.pivot(index="group", columns="kpi", values="n")
    # deals closed = trials of the win rate; its base is deals won / win rate of the base quarter
    wide_v["closed"] = n.get("win_rate")
    wide_b["closed"] = wide_b["deals_won"] / wide_b["win_rate"]
    rows = []
    for group in wide_v.index:
        values = wide_v.loc[group].to_dict()
        bases = wide_b.loc[group].to_dict()
        for kpi in kpis:
            v, b = float(values.get(kpi, np.nan)), float(bases.get(kpi, np.nan))
            rel = v / b - 1.0 if np.isfinite(b) and b != 0 and np.isfinite(v) else np.nan
            driver, share = _driver(kpi, values, bases)
            rows.append({"group": group, "kpi": kpi, "label": KPI_LABELS.get(kpi, kpi), "value": v, "base": b,
                         "change": v - b, "relative_change": rel, "driver": driver, "driver_share": share})
    out = pd.DataFrame(rows, columns=["group", "kpi", "label", "value", "base", "change", "relative_change",
                                      "driver", "driver_share"])
    out = out.dropna(subset=["relative_change"])
    out = out.assign(_abs=out["relative_change"].abs()).sort_values(
        ["_abs", "group", "kpi"], ascending=[False, True, True], kind="mergesort").drop(columns="_abs")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out = out.reset_index(drop=True)
    tests = (rate_tests(h, against=against, alpha=alpha, adjust=adjust)
             if {"n_previous", "n_last_year"} <= set(h.columns) else pd.DataFrame(columns=["group", "kpi"]))
    keyed = tests.set_index(["group", "kpi"]) if not tests.empty else None
    is_rate = out["kpi"].map(KPI_UNITS).eq("share")
    for col in _TEST_COLS:
        values = [keyed[col].get((g, k), np.nan) if keyed is not None and r else np.nan
                  for g, k, r in zip(out["group"], out["kpi"], is_rate, strict=True)]
        out[col] = values
    out["test"] = out["test"].where(out["test"].notna(), "")
    out["adjustment"] = out["adjustment"].where(out["adjustment"].notna(), "")
    out["significant"] = out["significant"].eq(True)
    out = out.head(top) if top else out
    out.attrs["against"] = against
    return out
