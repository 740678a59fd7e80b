"""Figures of the leads and routing page, in the house style.

Each function takes a table of :mod:`salesops.leads`, returns a :class:`matplotlib.figure.Figure` detached from
pyplot and never shows it. Given an empty table (or ``missing``, the sentence naming what the data lack) it
returns a small figure carrying that sentence.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from salesops.plots import PALETTE, _empty, _finish, error_extent

__all__ = [
    "plot_calibration",
    "plot_drivers",
    "plot_k_choice",
    "plot_lift",
    "plot_personas",
    "plot_routing_load",
    "plot_speed_to_lead",
]


def _unavailable(table: pd.DataFrame | None, missing: str | None, title: str) -> Figure | None:
    if table is None or len(table) == 0:
        return _empty(title, "\n".join(textwrap.wrap(missing or "nothing to show for this selection", 100)))
    return None


def plot_lift(lift: pd.DataFrame, title: str = "Conversion by score decile", missing: str | None = None) -> Figure:
    """Bars of the conversion rate per score decile (1 = best) with Wilson intervals, the overall rate as a
    dashed line, and the lift written on each bar.

    Parameters
    ----------
    lift : DataFrame
        :func:`salesops.leads.lift_table`.
    """
    if (fig := _unavailable(lift, missing, title)) is not None:
        return fig
    fig, ax = plt.subplots(figsize=(9, 4.2))
    x = lift["decile"].to_numpy()
    rate = lift["rate"].to_numpy()
    err = error_extent(rate, lift["lower"], lift["upper"])
    ax.bar(x, rate, color=PALETTE[0], yerr=err, capsize=3, ecolor="#52606d")
    base = float((lift["conversions"].sum()) / lift["leads"].sum())
    ax.axhline(base, color=PALETTE[2], linestyle="--", linewidth=1.2, label=f"all leads {base:.1%}")
    for xi, r, lf in zip(x, lift["upper"], lift["lift"]):
        ax.annotate(f"{lf:.1f}×", (xi, r), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=8,
                    color="#52606d")
    ax.set_xticks(x)
    ax.set_xlabel("score decile (1 = highest scores)")
    ax.set_ylabel("conversion rate")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(frameon=False, loc="upper right")
    ax.set_title(title)
    ax.grid(axis="x", visible=False)
    return _finish(fig)


def plot_calibration(calibration: pd.DataFrame, title: str = "Predicted against observed conversion",
                     missing: str | None = None) -> Figure:
    """Observed rate (with Wilson interval) against mean predicted probability per bin; the diagonal is
    perfect calibration.

    Parameters
    ----------
    calibration : DataFrame
        :func:`salesops.leads.calibration_table`.
    """
    if (fig := _unavailable(calibration, missing, title)) is not None:
        return fig
    fig, ax = plt.subplots(figsize=(5.6, 5))
    p = calibration["mean_predicted"].to_numpy()
    o = calibration["observed_rate"].to_numpy()
    err = error_extent(o, calibration["lower"], calibration["upper"])
    top = float(max(p.max(), calibration["upper"].max()) * 1.1)
    ax.plot([0, top], [0, top], color="#9aa5b1", linestyle="--", linewidth=1, label="perfect calibration")
    ax.errorbar(p, o, yerr=err, fmt="o", color=PALETTE[0], capsize=3, label="bins of leads (95% interval)")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed conversion")
    brier = calibration.attrs.get("brier")
    if brier is not None:
        ax.text(0.98, 0.04, f"Brier {brier:.3f} · ECE {calibration.attrs.get('ece', float('nan')):.3f}",
                transform=ax.transAxes, ha="right", fontsize=9, color="#52606d")
    ax.legend(frameon=False, loc="upper left", fontsize=9)
    ax.set_title(title)
    return _finish(fig)


def plot_drivers(drivers: pd.DataFrame, title: str = "What drives the score", missing: str | None = None) -> Figure:
    """Horizontal bars of each feature's permutation importance (drop in test AUC) with its interval.

    Parameters
    ----------
    drivers : DataFrame
        ``LeadScoring.drivers``.
    """
    if (fig := _unavailable(drivers, missing, title)) is not None:
        return fig
    df = drivers.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(df) + 1.4))
    y = np.arange(len(df))
    err = np.vstack([df["auc_drop"] - df["lower"], df["upper"] - df["auc_drop"]]).clip(min=0)
    ax.barh(y, df["auc_drop"], xerr=err, color=PALETTE[1], capsize=3, ecolor="#52606d")
    ax.set_yticks(y, df["label"])
    ax.axvline(0, color="#52606d", linewidth=0.8)
    ax.set_xlabel("drop in AUC when the feature is shuffled")
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    return _finish(fig)


def plot_k_choice(table: pd.DataFrame, title: str = "How many personas?", missing: str | None = None) -> Figure:
    """Silhouette and bootstrap stability against k, the chosen k marked.

    Parameters
    ----------
    table : DataFrame
        :func:`salesops.leads.choose_k`.
    """
    if (fig := _unavailable(table, missing, title)) is not None:
        return fig
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(table["k"], table["silhouette"], marker="o", color=PALETTE[0], label="silhouette (separation)")
    ax.plot(table["k"], table["stability"], marker="s", color=PALETTE[1], label="stability (bootstrap ARI)")
    chosen = table.loc[table["chosen"], "k"]
    for k in chosen:
        ax.axvline(k, color=PALETTE[2], linestyle="--", linewidth=1.2, label=f"chosen k = {k}")
    ax.set_xticks(table["k"])
    ax.set_xlabel("number of personas k")
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False, loc="lower left", fontsize=9)
    ax.set_title(title)
    return _finish(fig)


def plot_personas(profiles: pd.DataFrame, title: str = "Personas: win rate, cycle and deal size",
                  missing: str | None = None) -> Figure:
    """Three panels per persona: shrunk win rate, median sales cycle and median won deal, with intervals.

    Parameters
    ----------
    profiles : DataFrame
        :func:`salesops.leads.find_personas` profiles.
    """
    if (fig := _unavailable(profiles, missing, title)) is not None:
        return fig
    panels = [("win_rate", "win_rate_lower", "win_rate_upper", "win rate of closed deals", True),
              ("cycle_median_days", "cycle_lower", "cycle_upper", "median days to win", False),
              ("deal_size_mean", "deal_size_lower", "deal_size_upper", "mean won new-business deal", False)]
    panels = [p for p in panels if p[0] in profiles.columns]
    if not panels:
        return _empty(title, "the opportunities table is needed for win rates, cycles and deal sizes")
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels) + 1, 0.55 * len(profiles) + 2), sharey=True)
    axes = np.atleast_1d(axes)
    y = np.arange(len(profiles))
    for ax, (col, lo, hi, label, pct) in zip(axes, panels):
        v = profiles[col].to_numpy(dtype=float)
        err = np.vstack([v - profiles[lo].to_numpy(dtype=float), profiles[hi].to_numpy(dtype=float) - v]).clip(min=0)
        ax.barh(y, v, xerr=err, color=[PALETTE[i % len(PALETTE)] for i in range(len(v))], capsize=3,
                ecolor="#52606d")
        ax.set_title(label, fontsize=11, fontweight="normal")
        if pct:
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.grid(axis="y", visible=False)
    axes[0].set_yticks(y, profiles["persona"])
    axes[0].invert_yaxis()
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=13)
    return _finish(fig)


def plot_routing_load(load: pd.DataFrame, title: str = "Leads per rep against target share",
                      missing: str | None = None) -> Figure:
    """Per pool, each member's share of the pool's leads (bars) and its target share (markers).

    Parameters
    ----------
    load : DataFrame
        :func:`salesops.leads.pool_load` (or ``ReplayResult.load`` of one scenario).
    """
    df = None if load is None else load[load["leads"] + load["expected_leads"] > 0]
    if (fig := _unavailable(df, missing, title)) is not None:
        return fig
    pools = list(dict.fromkeys(df["pool"]))
    fig, axes = plt.subplots(1, len(pools), figsize=(max(5.0 * len(pools), 7), 0.32 * df.groupby("pool").size().max()
                                                      + 1.8), squeeze=False)
    for ax, pool in zip(axes[0], pools):
        g = df[df["pool"] == pool].iloc[::-1]
        y = np.arange(len(g))
        ax.barh(y, g["share"], color=PALETTE[0], alpha=0.75, label="share of the pool's leads")
        ax.scatter(g["target_share"], y, marker="|", s=260, linewidths=2.5, color=PALETTE[5], label="target share",
                   zorder=3)
        ax.set_yticks(y, g["rep_id"])
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_title(f"pool {pool}", fontsize=11, fontweight="normal")
        ax.grid(axis="y", visible=False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, frameon=False, fontsize=9, loc="upper right", ncol=2)
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=13)
    return _finish(fig)


def plot_speed_to_lead(assignments: pd.DataFrame, title: str = "Speed to lead by scenario",
                       missing: str | None = None) -> Figure:
    """Share of leads touched within a given number of hours (cumulative curves, log scale) per scenario.

    Parameters
    ----------
    assignments : DataFrame
        ``ReplayResult.assignments``.
    """
    if (fig := _unavailable(assignments, missing, title)) is not None:
        return fig
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, (name, g) in enumerate(assignments.groupby("scenario", sort=False)):
        h = np.sort(g["speed_to_lead_hours"].dropna().to_numpy())
        if h.size == 0:
            continue
        ax.step(np.maximum(h, 0.01), np.arange(1, h.size + 1) / h.size, where="post", color=PALETTE[i % len(PALETTE)],
                label=f"{name} (median {np.median(h):.1f} h)")
    ax.set_xscale("log")
    ax.set_xlabel("hours from creation to first touch (log scale)")
    ax.set_ylabel("share of leads touched")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    for hours in (1, 24):
        ax.axvline(hours, color="#cbd2d9", linewidth=1)
    ax.legend(frameon=False, loc="upper left", fontsize=9)
    ax.set_title(title)
    return _finish(fig)
