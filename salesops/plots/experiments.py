"""Figures of the process-evaluation page: interrupted time series, campaign lift, campaign ROI, benchmarks.

Every function returns a closed :class:`~matplotlib.figure.Figure` and draws a message when there is nothing to show.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from salesops.plots import PALETTE, _empty, _finish

__all__ = ["plot_benchmarks", "plot_campaign_lift", "plot_campaign_roi", "plot_its"]


def plot_its(study, title: str | None = None, percent: bool = True) -> Figure:
    """Observed series, the fitted segmented line and the counterfactual after the break; the placebo break
    (when there is one) is marked in the pre-period.

    Parameters
    ----------
    study : ItsStudy
        :func:`salesops.experiments.its.its_study` or :func:`salesops.experiments.events.process_change_study`.
    percent : bool
        Show the values as percentages.
    """
    title = title or study.name
    s = study.series
    if s is None or s.empty:
        return _empty(title, study.message or "no series")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot(s["period"], s["value"], "o", color=PALETTE[4], markersize=4, label="observed")
    pre, post = s[~s["post"]], s[s["post"]]
    ax.plot(pre["period"], pre["fitted"], color=PALETTE[0], linewidth=2, label="fitted trend")
    ax.plot(post["period"], post["fitted"], color=PALETTE[0], linewidth=2)
    ax.plot(post["period"], post["counterfactual"], color=PALETTE[0], linestyle="--", linewidth=1.5,
            label="without the change (pre-trend extended)")
    ax.axvline(study.break_date, color=PALETTE[5], linestyle="--", linewidth=1)
    ax.annotate("change", (study.break_date, 1.0), xycoords=("data", "axes fraction"), xytext=(4, -12),
                textcoords="offset points", color=PALETTE[5], fontsize=9)
    if study.placebo is not None and pd.notna(study.placebo.break_date):
        ax.axvline(study.placebo.break_date, color=PALETTE[2], linestyle=":", linewidth=1)
        ax.annotate("placebo", (study.placebo.break_date, 1.0), xycoords=("data", "axes fraction"), xytext=(4, -12),
                    textcoords="offset points", color=PALETTE[2], fontsize=9)
    e = study.effect
    if e.available:
        fmt = (lambda v: f"{100 * v:+.1f} pts") if percent else (lambda v: f"{v:+.3g}")
        ax.annotate(f"level change {fmt(e.value)} ({fmt(e.lower)} to {fmt(e.upper)})", (0.01, 0.04),
                    xycoords="axes fraction", fontsize=10, color=PALETTE[0])
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(title)
    ax.legend(loc="upper left", frameon=False, fontsize=9, bbox_to_anchor=(0.0, 0.93))
    return _finish(fig)


def plot_campaign_lift(study, title: str | None = None) -> Figure:
    """Weekly log-leads of the campaign channel and the other channels' average, before and during the campaign.

    Parameters
    ----------
    study : DidStudy
        From :func:`salesops.experiments.campaigns.campaign_lift_study` (``means``: period, group, mean ...).
    """
    title = title or study.name
    m = study.means
    if m is None or m.empty:
        return _empty(title, study.message or "no weekly leads")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    colors = {"treated": PALETTE[0], "control": PALETTE[4]}
    labels = {"treated": "campaign channel", "control": "other channels (mean)"}
    for group, g in m.sort_values("period").groupby("group"):
        ax.plot(g["period"], np.expm1(g["mean"]), "o-", color=colors.get(group, PALETTE[1]),
                label=labels.get(group, group), markersize=4)
    ax.axvspan(-0.5, m["period"].max() + 0.5, color=PALETTE[2], alpha=0.15, label="campaign")
    e = study.effect
    if e.available:
        ax.annotate(f"lift {e.value:.2f}x ({e.lower:.2f}x to {e.upper:.2f}x)", (0.01, 0.04), xycoords="axes fraction",
                    fontsize=10, color=PALETTE[0])
    ax.set_xlabel("week relative to the campaign start")
    ax.set_ylabel("leads per week (geometric mean)")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=9, loc="upper left")
    return _finish(fig)


def _money(v: float, _pos: object = None) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1e3:
        return f"{v / 1e3:.0f}K"
    return f"{v:.0f}"


def plot_campaign_roi(roi: pd.DataFrame, by: str = "channel", title: str = "Spend, pipeline and bookings") -> Figure:
    """Spend, pipeline created and bookings won per channel (or campaign), with pipeline per dollar of spend.

    Parameters
    ----------
    roi : DataFrame
        :func:`salesops.experiments.campaigns.campaign_roi` (its ``total`` row is left out).
    """
    if roi is None or roi.empty:
        return _empty(title, "no spend or leads")
    df = roi[roi[by] != "total"].sort_values("pipeline", ascending=True)
    if df.empty:
        return _empty(title, "no spend or leads")
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(df) + 1.8))
    y = np.arange(len(df))
    h = 0.26
    ax.barh(y + h, df["spend"], height=h, color=PALETTE[5], label="spend")
    ax.barh(y, df["pipeline"], height=h, color=PALETTE[1], label="pipeline created")
    ax.barh(y - h, df["bookings"], height=h, color=PALETTE[0], label="bookings won so far")
    for yi, pps in enumerate(df["pipeline_per_spend"]):
        if np.isfinite(pps):
            ax.annotate(f"{pps:.0f}x pipeline / spend", (df["pipeline"].iloc[yi], yi), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=8, color="#616e7c")
    ax.set_yticks(y, df[by])
    ax.xaxis.set_major_formatter(FuncFormatter(_money))
    ax.margins(x=0.25)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=9, loc="lower right")
    ax.grid(axis="y", visible=False)
    return _finish(fig)


_UNIT_FMT = {"share": lambda v: f"{100 * v:.0f}%", "days": lambda v: f"{v:.0f} d", "months": lambda v: f"{v:.1f} mo",
             "ratio": lambda v: f"{v:.1f}x"}


def plot_benchmarks(comparison: pd.DataFrame, title: str = "Our figures beside published benchmarks") -> Figure:
    """One small panel per metric: the company's figure against each benchmark of that metric.

    Parameters
    ----------
    comparison : DataFrame
        :func:`salesops.experiments.benchmarks.compare_to_benchmarks`.
    """
    if comparison is None or comparison.empty:
        return _empty(title, "no benchmark")
    metrics = list(dict.fromkeys(comparison["metric"]))
    ncols = 3
    nrows = int(np.ceil(len(metrics) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(11, 2.6 * nrows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        g = comparison[comparison["metric"] == metric]
        unit = g["unit"].iat[0]
        fmt = _UNIT_FMT.get(unit, lambda v: f"{v:.3g}")
        labels = [f"{src[:28]}{'…' if len(src) > 28 else ''} ({'n.d.' if pd.isna(y) else int(y)})"
                  for src, y in zip(g["source"], g["year"])]
        y = np.arange(len(g))
        ax.barh(y, g["benchmark"], color=PALETTE[4], height=0.5)
        company = g["company"].iat[0]
        if pd.notna(company):
            ax.axvline(company, color=PALETTE[0], linewidth=2.5)
            ax.annotate(f"us: {fmt(company)}", (company, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -10),
                        textcoords="offset points", color=PALETTE[0], fontsize=9, fontweight="bold")
        else:
            ax.annotate("our figure: n/a", (0.02, 0.9), xycoords="axes fraction", fontsize=9, color=PALETTE[5])
        for yi, v in zip(y, g["benchmark"]):
            ax.annotate(fmt(v), (v, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        ax.set_yticks(y, labels, fontsize=7)
        ax.set_title(metric.replace("_", " "), fontsize=11)
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.3)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_axis_off()
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    return _finish(fig)
