"""Figures of the executive summary: headline KPIs by quarter as small multiples."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from salesops.plots import PALETTE, _finish

__all__ = ["plot_kpi_trends"]

_SCALE = {"currency": (1e6, "M"), "share": (0.01, "%"), "ratio": (1.0, "x")}


def plot_kpi_trends(
    by_quarter: pd.DataFrame,
    kpis: Sequence[str],
    labels: dict[str, str],
    units: dict[str, str],
    *,
    highlight: str | None = None,
    currency: str = "",
    ncols: int = 3,
) -> Figure:
    """One small panel per KPI: its value by quarter, the quarter under review highlighted.

    Parameters
    ----------
    by_quarter : DataFrame
        :func:`salesops.summary.kpis_by_quarter` without ``by`` (``period, kpi, value, lower, upper``).
    kpis : sequence of str
        KPIs to show, in order.
    labels, units : dict
        Title and unit of each KPI (``salesops.summary.KPI_LABELS`` / ``KPI_UNITS``).
    highlight : str, optional
        The quarter to mark (``2025Q4``).
    currency : str
        Currency shown in the titles of money panels.
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    shown = set(by_quarter.loc[by_quarter["value"].notna(), "kpi"])  # a KPI the data cannot give has no panel
    kpis = [k for k in kpis if k in shown]
    if not kpis:
        fig, ax = plt.subplots(figsize=(3.4 * ncols, 2.4))
        ax.axis("off")
        ax.text(0.5, 0.5, "No headline number can be computed from these data", ha="center", va="center")
        return fig
    nrows = max(1, int(np.ceil(len(kpis) / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.4 * nrows), squeeze=False)
    periods = sorted(by_quarter["period"].unique())
    x = np.arange(len(periods))
    for ax, kpi in zip(axes.flat, kpis, strict=False):
        part = by_quarter[by_quarter["kpi"] == kpi].set_index("period").reindex(periods)
        div, suffix = _SCALE.get(units.get(kpi, ""), (1.0, ""))
        if suffix == "M" and part["value"].abs().max() < 1e6:
            div, suffix = 1e3, "k"
        y = part["value"].to_numpy(float) / div
        ax.plot(x, y, marker="o", color=PALETTE[0], lw=1.6, ms=3.5)
        if part["lower"].notna().any():
            ax.fill_between(x, part["lower"].to_numpy(float) / div, part["upper"].to_numpy(float) / div,
                            color=PALETTE[0], alpha=0.15, lw=0)
        if highlight in periods:
            i = periods.index(highlight)
            ax.plot([x[i]], [y[i]], marker="o", color=PALETTE[2], ms=7, zorder=3)
        cur = currency + " " if currency else ""
        unit = {"M": f" ({cur}M)", "k": f" ({cur}k)", "%": " (%)", "x": " (x quota)"}.get(suffix, "")
        ax.set_title(labels.get(kpi, kpi) + unit, fontsize=10)
        ax.set_xticks(x[::4] if len(x) > 6 else x)
        ax.set_xticklabels([periods[i] for i in (range(0, len(x), 4) if len(x) > 6 else range(len(x)))],
                           fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
    for ax in list(axes.flat)[len(kpis):]:
        ax.set_visible(False)
    return _finish(fig)
