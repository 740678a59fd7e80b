"""Figures of the people page: ramp curve, time to first deal, training difference-in-differences, coaching map.

Every function returns a closed :class:`~matplotlib.figure.Figure` (house style from :func:`salesops.plots.set_style`)
and draws a message instead of axes when there is nothing to show.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from salesops.plots import PALETTE, _empty, _finish, error_extent

__all__ = ["plot_coaching_map", "plot_first_deal", "plot_ramp_curve", "plot_training_trends"]


def plot_ramp_curve(curve: pd.DataFrame, tau: float | None = None, target: float = 0.9,
                    months_to_target: float | None = None,
                    title: str = "New hires' output relative to tenured peers") -> Figure:
    """Pooled productivity ratio by tenure month with its interval, the fitted curve and the target line.

    Parameters
    ----------
    curve : DataFrame
        :func:`salesops.people.ramp.ramp_curve` (k, ratio, lower, upper, hires).
    tau : float, optional
        Fitted time constant; draws :math:`1 - e^{-m/\\tau}`.
    target : float
        Productivity target (horizontal line).
    months_to_target : float, optional
        Marked on the axis.
    """
    if curve is None or curve.empty:
        return _empty(title, "no hire observed against tenured peers")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = curve["k"].to_numpy() + 0.5
    ax.fill_between(x, curve["lower"], curve["upper"], color=PALETTE[0], alpha=0.15, label="95% interval (bootstrap)")
    ax.plot(x, curve["ratio"], "o-", color=PALETTE[0], label="new hires / tenured peers")
    if tau is not None and np.isfinite(tau):
        m = np.linspace(0, x.max() + 0.5, 200)
        ax.plot(m, 1 - np.exp(-m / tau), color=PALETTE[2], linewidth=2, label="fitted ramp 1 - exp(-m/τ)")
    ax.axhline(target, color=PALETTE[5], linestyle="--", linewidth=1, label=f"{target:.0%} of tenured")
    if months_to_target is not None and np.isfinite(months_to_target):
        ax.axvline(months_to_target, color=PALETTE[5], linestyle=":", linewidth=1)
        ax.annotate(f"{months_to_target:.1f} months", (months_to_target, 0.05), xytext=(4, 0),
                    textcoords="offset points", color=PALETTE[5], fontsize=9)
    for xi, n in zip(x, curve["hires"]):
        ax.annotate(f"n={n}", (xi, 0), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7,
                    color="#616e7c")
    ax.set_ylim(0, max(1.3, float(np.nanmax(curve["upper"])) + 0.05))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("months since hire")
    ax.set_ylabel("output vs tenured peers")
    ax.set_title(title)
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    return _finish(fig)


def plot_first_deal(curves: pd.DataFrame, title: str = "Hires without a first won deal, by hire cohort") -> Figure:
    """Kaplan–Meier curves of "no won deal yet" by days since hire, one per cohort, with their bands.

    Parameters
    ----------
    curves : DataFrame
        ``first_deal_curves`` of :func:`salesops.people.ramp.time_to_first_deal` (group, time, survival, lower,
        upper).
    """
    if curves is None or curves.empty:
        return _empty(title, "no hire inside the observed period")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, (group, g) in enumerate(curves.groupby("group", sort=True)):
        color = PALETTE[i % len(PALETTE)]
        ax.step(g["time"], g["survival"], where="post", color=color, label=str(group), linewidth=2)
        ax.fill_between(g["time"], g["lower"], g["upper"], step="post", color=color, alpha=0.12)
    ax.axhline(0.5, color="#9aa5b1", linestyle=":", linewidth=1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("days since hire")
    ax.set_ylabel("share still without a win")
    ax.set_title(title)
    ax.legend(title="hired in", frameon=False, fontsize=9)
    return _finish(fig)


def plot_training_trends(means: pd.DataFrame, effect: float | None = None, period_days: int = 91,
                         title: str = "Win rate of trained and untrained reps, before and after") -> Figure:
    """Win rate by period for the treated and control reps, with intervals; the programme sits between
    period -1 and period 0.

    Parameters
    ----------
    means : DataFrame
        ``DidStudy.means`` (period, group, n, mean, lower, upper).
    effect : float, optional
        The estimated effect, written on the figure.
    """
    if means is None or means.empty:
        return _empty(title, "no deal of trained or untrained reps to compare")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    colors = {"treated": PALETTE[0], "control": PALETTE[4]}
    for i, (group, g) in enumerate(means.sort_values("period").groupby("group")):
        off = -0.08 if group == "treated" else 0.08
        x = g["period"].to_numpy() + off
        ax.errorbar(x, g["mean"], yerr=error_extent(g["mean"], g["lower"], g["upper"]), fmt="o-",
                    color=colors.get(group, PALETTE[i]), capsize=2, label=f"{group} reps", linewidth=1.5)
    ax.axvline(-0.5, color=PALETTE[5], linestyle="--", linewidth=1)
    ax.annotate("programme", (-0.5, 1.0), xycoords=("data", "axes fraction"), xytext=(4, -12),
                textcoords="offset points", color=PALETTE[5], fontsize=9)
    if effect is not None and np.isfinite(effect):
        ax.annotate(f"difference-in-differences: {100 * effect:+.1f} pts", (0.99, 0.04), xycoords="axes fraction",
                    ha="right", fontsize=10, color=PALETTE[0])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"period of {period_days} days (negative: before the programme)")
    ax.set_ylabel("win rate of closed deals")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=9)
    return _finish(fig)


def plot_coaching_map(signals: pd.DataFrame, kinds: tuple[str, ...] = ("outcome", "funnel"),
                      title: str = "Departures from peers (shrunk), points of rate") -> Figure:
    """Heatmap of each rep's shrunk gap to peers per metric; flagged cells are outlined.

    Parameters
    ----------
    signals : DataFrame
        :func:`salesops.people.coaching.coaching_signals`.
    kinds : tuple of str
        Metric kinds shown (``outcome``, ``funnel``, ``activity``).
    """
    if signals is None or signals.empty:
        return _empty(title, "no rep with enough deals to compare")
    s = signals[signals["kind"].isin(kinds) & signals["gap"].notna()]
    if s.empty:
        return _empty(title, "no peer group large enough to compare reps")
    order = list(dict.fromkeys(s["label"]))
    grid = s.pivot_table(index=["peer_group", "rep_id"], columns="label", values="gap").reindex(columns=order) * 100
    flags = s.pivot_table(index=["peer_group", "rep_id"], columns="label", values="flag",
                          aggfunc="first").reindex(index=grid.index, columns=order)
    lim = max(2.0, float(np.nanmax(np.abs(grid.to_numpy()))))
    fig, ax = plt.subplots(figsize=(1.3 * len(order) + 3, 0.32 * len(grid) + 1.6))
    mesh = ax.pcolormesh(grid.to_numpy(), cmap="RdBu", norm=TwoSlopeNorm(0, -lim, lim), edgecolors="white",
                         linewidth=0.5)
    for (i, j), f in np.ndenumerate(flags.to_numpy()):
        if f in ("below", "above"):
            ax.add_patch(plt.Rectangle((j, i), 1, 1, fill=False, edgecolor="#1f2933", linewidth=1.5))
    ax.set_xticks(np.arange(len(order)) + 0.5, order, rotation=30, ha="right")
    ax.set_yticks(np.arange(len(grid)) + 0.5, [f"{g} · {r}" for g, r in grid.index])
    ax.invert_yaxis()
    ax.grid(False)
    cbar = fig.colorbar(mesh, ax=ax, pad=0.01)
    cbar.set_label("shrunk rate - peers (points)")
    ax.set_title(title + " (outlined: flagged)")
    return _finish(fig)
