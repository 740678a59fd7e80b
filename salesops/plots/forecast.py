"""Figures of the forecast area: the quarter forecast against quota, and the backtest."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from . import PALETTE, _empty, _finish, error_extent

__all__ = ["plot_forecast_vs_quota", "plot_backtest_scores", "plot_backtest_track"]

_MONEY = FuncFormatter(lambda v, _: f"{v / 1e6:.1f}M" if abs(v) >= 1e6 else f"{v / 1e3:.0f}k")


def plot_forecast_vs_quota(table: pd.DataFrame, by: str | None = None,
                           title: str = "Quarter forecast against quota") -> Figure:
    """Stacked bars (closed, open pipeline expected, not yet created) per group with the P10-P90 interval as a
    whisker and the quota as a black tick.

    Parameters
    ----------
    table : DataFrame
        :meth:`QuarterForecast.summary` joined with ``quota`` (e.g. from
        :func:`salesops.forecast.quota_comparison` merged back), columns ``closed, open_expected,
        not_yet_created, p10, p90`` and optionally ``quota``.
    by : str, optional
        The group column (one bar per value); one bar when None.
    """
    if table.empty:
        return _empty(title, "nothing to forecast")
    labels = table[by].astype(str).tolist() if by else [str(table["quarter"].iloc[0])]
    x = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(table) + 3), 4.5))
    bottom = np.zeros(len(table))
    for col, colour, name in (("closed", PALETTE[0], "closed"), ("open_expected", PALETTE[1], "open pipeline"),
                              ("not_yet_created", PALETTE[2], "not yet created")):
        vals = table[col].fillna(0).to_numpy(float)
        ax.bar(x, vals, bottom=bottom, color=colour, label=name, width=0.6)
        bottom += vals
    if table["p10"].notna().any():
        ax.errorbar(x, bottom, yerr=error_extent(bottom, table["p10"], table["p90"]),
                    fmt="none", ecolor="#323f4b", capsize=6, label="P10-P90")
    if "quota" in table.columns and table["quota"].notna().any():
        ax.scatter(x, table["quota"], marker="_", s=900, color="black", linewidths=2.5, label="quota", zorder=3)
    ax.set_xticks(x, labels)
    ax.yaxis.set_major_formatter(_MONEY)
    ax.set_ylabel("bookings")
    ax.set_title(title, pad=24)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=5, frameon=False, fontsize=9)
    ax.grid(axis="x", visible=False)
    return _finish(fig)


def plot_backtest_scores(scores: pd.DataFrame, title: str = "Backtest: error and interval coverage") -> Figure:
    """WAPE per method (bars, one colour per as-of point when ``point`` is a column) and P10-P90 coverage
    written on the bars.

    Parameters
    ----------
    scores : DataFrame
        :func:`salesops.forecast.backtest_scores` with columns ``method, wape, coverage`` (and ``point``).
    """
    if scores.empty:
        return _empty(title, "no backtest quarter")
    methods = list(dict.fromkeys(scores["method"]))
    points = list(dict.fromkeys(scores["point"])) if "point" in scores.columns else [None]
    width = 0.8 / len(points)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for i, pt in enumerate(points):
        s = scores if pt is None else scores.loc[scores["point"] == pt]
        s = s.set_index("method").reindex(methods)
        xs = np.arange(len(methods)) + (i - (len(points) - 1) / 2) * width
        ax.bar(xs, s["wape"], width=width, color=PALETTE[i % len(PALETTE)], label=pt or "all points")
        for xv, w, c in zip(xs, s["wape"], s["coverage"], strict=True):
            if pd.notna(c):
                ax.annotate(f"{c:.0%}", (xv, w), xytext=(0, 2), textcoords="offset points", ha="center",
                            fontsize=7, color="#323f4b")
    ax.set_xticks(np.arange(len(methods)), [m.replace("_", " ") for m in methods])
    ax.set_ylabel("WAPE (lower is better)")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_title(title + " (labels: P10-P90 coverage)", pad=24)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(points), frameon=False, fontsize=9)
    ax.grid(axis="x", visible=False)
    return _finish(fig)


def plot_backtest_track(results: pd.DataFrame, method: str, point: str,
                        baseline: str | None = "weighted_pipeline", title: str | None = None) -> Figure:
    """Actual bookings per backtest quarter against one method's forecast and P10-P90 band (and a baseline).

    Parameters
    ----------
    results : DataFrame
        :func:`salesops.forecast.backtest` rows (the ``total`` dimension is used).
    """
    tot = results.loc[(results["dimension"] == "total") & (results["point"] == point)]
    if tot.empty:
        return _empty(title or "Backtest", "no backtest quarter")
    m = tot.loc[tot["method"] == method].sort_values("quarter")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = np.arange(len(m))
    if m["p10"].notna().any():
        ax.fill_between(x, m["p10"], m["p90"], color=PALETTE[1], alpha=0.25, label=f"{method} P10-P90")
    ax.plot(x, m["forecast"], marker="o", color=PALETTE[1], label=method)
    if baseline:
        b = tot.loc[tot["method"] == baseline].set_index("quarter").reindex(m["quarter"])
        ax.plot(x, b["forecast"], marker="s", linestyle="--", color=PALETTE[4], label=baseline.replace("_", " "))
    ax.plot(x, m["actual"], marker="D", color="black", label="actual")
    ax.set_xticks(x, m["quarter"])
    ax.yaxis.set_major_formatter(_MONEY)
    ax.set_ylabel("bookings")
    ax.set_title(title or f"Forecast at {point} against actual bookings", pad=24)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=4, frameon=False, fontsize=9)
    return _finish(fig)
