"""Figures of the comp area: attainment histogram, payout distribution, performance index, simulated cost."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from salesops.plots import PALETTE, _finish

__all__ = ["money_tick", "plot_whatif", "plot_attainment", "plot_performance_index", "plot_simulated_cost"]


def money_tick(value: float, _pos: object = None) -> str:
    """Axis label for dollars: ``$1.2M``, ``$140k``, ``$950``, ``-$20k``."""
    sign, a = ("-" if value < 0 else ""), abs(value)
    if a >= 1e6:
        return f"{sign}${a / 1e6:.1f}M"
    if a >= 1e3:
        return f"{sign}${a / 1e3:.0f}k"
    return f"{sign}${a:.0f}"


def plot_attainment(attainment, ax=None, title: str = "Attainment per rep and period") -> Figure:
    """Histogram of attainment (1.0 = quota) with the quota line; NaN values are ignored."""
    a = np.asarray(attainment, dtype=float).ravel()
    a = a[np.isfinite(a)]
    own = ax is None
    fig, ax = plt.subplots(figsize=(6, 3.5)) if own else (ax.figure, ax)
    bins = np.arange(0, max(2.6, a.max() + 0.1 if a.size else 2.6), 0.1)
    ax.hist(np.minimum(a, bins[-1] - 1e-9), bins=bins, color=PALETTE[0], edgecolor="white")
    ax.axvline(1.0, color=PALETTE[5], linestyle="--", linewidth=1.2)
    ax.set_xlabel("attainment (1 = quota)")
    ax.set_ylabel("rep-periods")
    ax.set_title(title)
    return _finish(fig) if own else fig


def plot_whatif(scenario, title: str = "") -> Figure:
    """Two panels for a what-if :class:`~salesops.whatif.model.Scenario`: payout per rep (sorted, with the
    baseline plan in grey) and the attainment histogram."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    r = scenario.reps.sort_values("payout")
    x = np.arange(len(r))
    left.bar(x, r["baseline_payout"], color="#cbd2d9", label="current plan", width=0.9)
    left.bar(x, r["payout"], color=PALETTE[1], alpha=0.8, label="what-if", width=0.5)
    left.set_xticks([])
    left.set_xlabel("reps, by what-if payout")
    left.set_ylabel("variable pay per rep")
    left.yaxis.set_major_formatter(FuncFormatter(money_tick))
    left.set_title("Payout per rep")
    left.legend(frameon=False, fontsize=9)
    plot_attainment(scenario.attainment, ax=right, title="Attainment")
    if title:
        fig.suptitle(title)
    return _finish(fig)


def plot_performance_index(flags: pd.DataFrame, threshold: float = 0.08,
                           title: str = "Win rate vs segment, shrunk") -> Figure:
    """One dot per rep: shrunk win-rate index (1 = segment rate), flagged reps in red, recognised in teal."""
    f = flags.sort_values("index")
    fig, ax = plt.subplots(figsize=(9, 0.22 * len(f) + 1.5))
    colors = np.where(f["flagged"], PALETTE[5], np.where(f["recognised"], PALETTE[1], PALETTE[4]))
    y = np.arange(len(f))
    ax.scatter(f["index"], y, c=colors, zorder=3)
    ax.scatter(f["raw_rate"] / f["segment_rate"], y, facecolors="none", edgecolors="#9aa5b1", s=18, zorder=2,
               label="raw (unshrunk)")
    ax.set_yticks(y, f["rep_id"], fontsize=8)
    for v in (1 - threshold, 1 + threshold):
        ax.axvline(v, color="#9aa5b1", linestyle=":", linewidth=1)
    ax.axvline(1.0, color="#616e7c", linewidth=1)
    ax.set_xlabel("win rate / segment win rate")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=9, loc="lower right")
    return _finish(fig)


def plot_simulated_cost(results: dict, title: str = "Simulated cost of next year") -> Figure:
    """Histograms of simulated total cost per plan (``{name: SimulationResult}``), P90 marked."""
    fig, ax = plt.subplots(figsize=(9, 3.8))
    for i, (name, res) in enumerate(results.items()):
        c = PALETTE[i % len(PALETTE)]
        ax.hist(res.cost / 1e6, bins=50, alpha=0.55, color=c, label=name)
        ax.axvline(np.quantile(res.cost, 0.9) / 1e6, color=c, linestyle="--", linewidth=1.2)
    ax.set_xlabel("total cost (millions; dashed: P90)")
    ax.set_ylabel("simulated years")
    ax.set_title(title)
    ax.legend(frameon=False)
    return _finish(fig)
