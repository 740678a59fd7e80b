"""The tests behind the summary's words about rates: when a sentence says a win rate is above or below a base,
it quotes the test that says so.

Each rate of :func:`salesops.summary.headline_kpis` (unit ``share``: the win rate) is compared with its base
quarter by :func:`salesops.stats.compare_rates` (pooled two-proportion z test, or Fisher's exact test when an
expected count is below 5). When several groups are scanned at once (segments), their p-values are one family,
adjusted by Holm's step-down method (or Benjamini-Hochberg) with :func:`salesops.stats.adjust_pvalues`; a
change is called significant when the adjusted p-value is below ``alpha`` (default 5%).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from salesops.stats.comparisons import adjust_pvalues, compare_rates
from salesops.summary.kpis import KPI_UNITS

__all__ = ["ALPHA", "ADJUSTMENTS", "TEST_COLUMNS", "evidence_text", "rate_tests", "tests_table"]

#: Level of the tests (two-sided).
ALPHA = 0.05
#: How an adjustment is named in a sentence.
ADJUSTMENTS = {"holm": "Holm", "bh": "Benjamini-Hochberg", "bonferroni": "Bonferroni"}
#: Columns of :func:`rate_tests`.
TEST_COLUMNS = ["group", "kpi", "against", "value", "base", "successes", "trials", "base_successes",
                "base_trials", "test", "difference", "lower", "upper", "p_value", "adjustment", "family",
                "p_adjusted", "alpha", "significant"]


def rate_tests(
    headline: pd.DataFrame,
    *,
    against: Literal["last_year", "previous"] = "last_year",
    alpha: float = ALPHA,
    adjust: Literal["holm", "bh", "bonferroni"] = "holm",
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Test every rate of ``headline`` against its base quarter, adjusting over the groups scanned.

    For group :math:`g` with :math:`x_g = \mathrm{round}(\hat p_g n_g)` won of :math:`n_g` closed this quarter
    and :math:`x'_g` of :math:`n'_g` in the base quarter, :func:`~salesops.stats.compare_rates` gives the test,
    the difference :math:`\hat p_g - \hat p'_g` with its Newcombe interval at ``confidence``, and the p-value.
    The :math:`m` groups of one KPI with a test form one family: ``p_adjusted`` is Holm's (``adjust``) adjusted
    p-value when :math:`m > 1`, the p-value itself when :math:`m = 1`; ``significant`` is
    :math:`\tilde p < \alpha`.

    Parameters
    ----------
    headline : DataFrame
        :func:`salesops.summary.headline_kpis` (with ``n``, ``previous``/``n_previous``,
        ``last_year``/``n_last_year``), for the company or by a dimension.
    against : {"last_year", "previous"}
        Base quarter.
    alpha : float
        Level of the tests.
    adjust : {"holm", "bh", "bonferroni"}
        Multiple-comparison adjustment across the groups.
    confidence : float
        Level of the difference interval.

    Returns
    -------
    pandas.DataFrame
        :data:`TEST_COLUMNS`, one row per group and rate KPI; ``test`` is ``""`` and the figures NaN when either
        quarter closed no deal (then it is not part of the family).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    base_col, base_n = ("last_year", "n_last_year") if against == "last_year" else ("previous", "n_previous")
    missing = [c for c in ("group", "kpi", "value", "n", base_col, base_n) if c not in headline.columns]
    if missing:
        raise ValueError(f"rate_tests needs the headline columns {', '.join(missing)} (from headline_kpis)")
    units = headline["unit"] if "unit" in headline.columns else headline["kpi"].map(KPI_UNITS)
    rates = headline[units.eq("share")]
    rows: list[dict[str, Any]] = []
    for _, r in rates.iterrows():
        n, n0 = float(r["n"]), float(r[base_n])
        ok = all(math.isfinite(v) for v in (float(r["value"]), n, float(r[base_col]), n0)) and n > 0 and n0 > 0
        x = round(float(r["value"]) * n) if ok else np.nan
        x0 = round(float(r[base_col]) * n0) if ok else np.nan
        c = compare_rates(x, n, x0, n0, confidence) if ok else None
        rows.append({
            "group": r["group"], "kpi": r["kpi"], "against": against, "value": float(r["value"]),
            "base": float(r[base_col]), "successes": x, "trials": n if ok else np.nan, "base_successes": x0,
            "base_trials": n0 if ok else np.nan, "test": c.test if c else "",
            "difference": c.difference if c else np.nan, "lower": c.lower if c else np.nan,
            "upper": c.upper if c else np.nan, "p_value": c.p_value if c else np.nan,
        })
    out = pd.DataFrame(rows, columns=TEST_COLUMNS[:14])
    out["adjustment"], out["family"], out["p_adjusted"] = "", 0, np.nan
    for _, idx in out.groupby("kpi").groups.items():
        p = out.loc[idx, "p_value"].to_numpy(dtype=float)
        m = int(np.isfinite(p).sum())
        out.loc[idx, "family"] = m
        if m > 1:
            out.loc[idx, "p_adjusted"] = adjust_pvalues(p, adjust)
            out.loc[idx, "adjustment"] = np.where(np.isfinite(p), adjust, "")
        else:
            out.loc[idx, "p_adjusted"] = p
    out["alpha"] = alpha
    out["significant"] = out["p_adjusted"].lt(alpha)
    out.attrs.update(against=against, alpha=alpha, adjust=adjust, confidence=confidence)
    return out[TEST_COLUMNS]


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _pts(d: float) -> str:
    return f"{100 * d:+.1f}"


def evidence_text(test: Mapping[str, Any], *, what: str = "groups") -> str:
    """The test beside a sentence: ``two-proportion test p = 0.053, difference -7.1 pts [-14.6, +0.1]``; with an
    adjustment ``..., Holm-adjusted p = 0.160 over 3 segments, ...`` (``what`` names the family's members).
    ``""`` when there is no test."""
    if not test.get("test") or not math.isfinite(float(test.get("p_value", math.nan))):
        return ""
    text = f"{test['test']} p {_p(float(test['p_value']))}"
    if test.get("adjustment") and int(test.get("family", 0)) > 1:
        text += (f", {ADJUSTMENTS.get(str(test['adjustment']), test['adjustment'])}-adjusted p "
                 f"{_p(float(test['p_adjusted']))} over {int(test['family'])} {what}")
    return (text + f", difference {_pts(float(test['difference']))} pts "
            f"[{_pts(float(test['lower']))}, {_pts(float(test['upper']))}]")


def tests_table(tests: pd.DataFrame) -> pd.DataFrame | None:
    """The tests behind the narrative's words, formatted for the page; None when there is nothing tested.

    One row per rate compared (from :func:`rate_tests`): what was compared, the counts, the test, the
    difference in points with its interval, the p-value and the adjusted one, and the verdict at the level
    used. Rows whose rate could not be computed (no closed deals) are left out.
    """
    if tests is None or tests.empty:
        return None
    rows = tests[tests["trials"].notna() & tests["base_trials"].notna()]
    if rows.empty:
        return None

    def _p_cell(v: float) -> str:
        return "n/a" if not math.isfinite(float(v)) else ("< 0.001" if v < 0.001 else f"{v:.3f}")

    def counts(x: float, n: float) -> str:
        return f"{int(x):,} of {int(n):,} ({x / n:.1%})" if n else "n/a"

    out = pd.DataFrame({
        "Compared": [f"{g} win rate" if s != "company" else "Company win rate"
                     for s, g in zip(rows["scope"], rows["group"], strict=True)],
        "This quarter (won of closed)": [counts(x, n) for x, n in zip(rows["successes"], rows["trials"], strict=True)],
        "Same quarter last year": [counts(x, n) for x, n in zip(rows["base_successes"], rows["base_trials"],
                                                                  strict=True)],
        "Test": rows["test"].to_numpy(),
        "Difference, pts [95% interval]": [f"{_pts(d)} [{_pts(lo)}, {_pts(hi)}]"
                                           for d, lo, hi in zip(rows["difference"], rows["lower"], rows["upper"],
                                                                strict=True)],
        "p": [_p_cell(v) for v in rows["p_value"]],
        "p adjusted": [_p_cell(v) if a else "(single test)" for v, a in zip(rows["p_adjusted"], rows["adjustment"],
                                                                            strict=True)],
        "Verdict": [("significant" if sig else "not significant") + f" at {a:.0%}"
                    for sig, a in zip(rows["significant"], rows["alpha"], strict=True)],
    })
    return out

