"""Figures of the territory page, in the house style.

Each function takes a table of :mod:`salesops.territory`, returns a :class:`matplotlib.figure.Figure`
detached from pyplot and never shows it; an empty table (or ``missing``) gives a small figure with the
sentence saying why.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from salesops.plots import PALETTE, _empty, _finish

__all__ = ["plot_design_comparison", "plot_territory_balance"]


def _unavailable(table: pd.DataFrame | None, missing: str | None, title: str) -> Figure | None:
    if table is None or len(table) == 0:
        return _empty(title, "\n".join(textwrap.wrap(missing or "nothing to show for this selection", 100)))
    return None


def plot_territory_balance(designs: Mapping[str, pd.DataFrame] | pd.DataFrame, values: Sequence[str] = ("potential", "workload"),
                           tolerance: float | None = 0.05, title: str = "Deviation of each territory from its target",
                           missing: str | None = None) -> Figure:
    """One panel per value: each territory's deviation from its target under each design (dots), territories
    grouped by bucket, with the ±tolerance band shaded.

    Parameters
    ----------
    designs : mapping of name to DataFrame
        ``by_territory`` tables of :func:`salesops.territory.evaluate_assignment` (same territories, same order).
    values : list of str
        Values whose ``deviation_<value>`` columns are drawn.
    tolerance : float, optional
        Half-width of the shaded band.
    """
    if isinstance(designs, pd.DataFrame):  # an empty table: nothing was designed
        designs = {}
    first = next(iter(designs.values()), None) if designs else None
    if (fig := _unavailable(first, missing, title)) is not None:
        return fig
    order = first.sort_values(["bucket", "territory_id"] if "bucket" in first.columns else ["territory_id"])
    ids = order["territory_id"].tolist()
    fig, axes = plt.subplots(len(values), 1, figsize=(max(9, 0.3 * len(ids) + 2), 2.8 * len(values) + 0.8),
                             sharex=True, squeeze=False)
    x = np.arange(len(ids))
    for ax, v in zip(axes[:, 0], values):
        if tolerance is not None:
            ax.axhspan(-tolerance, tolerance, color=PALETTE[1], alpha=0.12, label=f"±{tolerance:.0%}")
        for i, (name, table) in enumerate(designs.items()):
            dev = table.set_index("territory_id").loc[ids, f"deviation_{v}"].to_numpy()
            ax.scatter(x, dev, s=22, color=PALETTE[[4, 2, 0, 3, 5][i % 5]], label=name, zorder=3)
        ax.axhline(0, color="#52606d", linewidth=0.8)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylabel(f"{v} vs target")
        if "bucket" in order.columns:
            for b, g in order.reset_index(drop=True).groupby("bucket", sort=False):
                ax.axvline(g.index.min() - 0.5, color="#cbd2d9", linewidth=1)
                if ax is axes[0, 0]:
                    ax.text(g.index.min(), 1.02, str(b), transform=ax.get_xaxis_transform(), fontsize=9,
                            color="#52606d")
    axes[-1, 0].set_xticks(x, ids, rotation=90, fontsize=8)
    axes[0, 0].legend(frameon=False, fontsize=9, ncol=4, loc="lower right", bbox_to_anchor=(1.0, 1.06))
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=13)
    return _finish(fig)


def plot_design_comparison(table: pd.DataFrame, values: Sequence[str] = ("potential", "workload"),
                           tolerance: float | None = 0.05, title: str = "Balance and disruption of each design",
                           missing: str | None = None) -> Figure:
    """Bars of each design's largest deviation per value (left) and share of accounts moved (right).

    Parameters
    ----------
    table : DataFrame
        :func:`salesops.territory.compare_designs`.
    """
    if (fig := _unavailable(table, missing, title)) is not None:
        return fig
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 0.5 * len(table) + 2.4),
                                   gridspec_kw={"width_ratios": [2, 1]}, sharey=True)
    y = np.arange(len(table))
    h = 0.8 / len(values)
    for i, v in enumerate(values):
        yy = y + (i - (len(values) - 1) / 2) * h
        ax1.barh(yy, table[f"max_abs_deviation_{v}"], height=h, color=PALETTE[i], label=v)
        for yi, d in zip(yy, table[f"max_abs_deviation_{v}"]):
            ax1.annotate(f"{d:.1%}", (d, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8,
                         color="#52606d")
    if tolerance is not None:
        ax1.axvline(tolerance, color=PALETTE[5], linestyle="--", linewidth=1.2, label=f"tolerance {tolerance:.0%}")
    ax1.set_yticks(y, table["design"])
    ax1.invert_yaxis()
    ax1.margins(x=0.12)
    ax1.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax1.set_xlabel("largest deviation from target")
    ax1.legend(frameon=False, fontsize=9, loc="lower right")
    if "moved_share" in table.columns:
        ax2.barh(y, table["moved_share"], color=PALETTE[3])
        for yi, m in zip(y, table["moved_share"]):
            ax2.annotate(f"{m:.0%}", (m, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8,
                         color="#52606d")
        ax2.margins(x=0.15)
        ax2.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax2.set_xlabel("accounts changing owner")
    for ax in (ax1, ax2):
        ax.grid(axis="y", visible=False)
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=13)
    return _finish(fig)
