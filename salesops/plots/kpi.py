"""Figures of the KPI page, in the house style.

Each function takes the tables of :mod:`salesops.kpi` (or of a :class:`salesops.kpi.panels.Panel`), returns
a :class:`matplotlib.figure.Figure` detached from pyplot, and never shows it. Given ``missing`` (the
sentence naming what the data lack) or an empty table, it returns a small figure carrying that sentence.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from salesops.plots import PALETTE, _empty, _finish

__all__ = [
    "plot_activity",
    "plot_bookings",
    "plot_cac",
    "plot_churn",
    "plot_clv",
    "plot_cycle",
    "plot_ltv_to_cac",
    "plot_rep_win_rates",
    "plot_win_rates",
]

HIGHLIGHT = PALETTE[2]


def _unavailable(table: pd.DataFrame | None, missing: str, title: str) -> Figure | None:
    if table is None or len(table) == 0:
        message = missing or "nothing to show for this selection"
        return _empty(title, "\n".join(textwrap.wrap(message, 100)))
    return None


def _money_axis(ax, axis: str = "y") -> None:
    def fmt(v, _pos):
        if abs(v) >= 1e6:
            return f"{v / 1e6:,.1f}M"
        if abs(v) >= 1e3:
            return f"{v / 1e3:,.0f}k"
        return f"{v:,.0f}"

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(fmt))


def _period_ticks(ax, labels: list[str], every: int | None = None) -> None:
    step = every or max(1, -(-len(labels) // 6))
    ax.set_xticks(np.arange(len(labels))[::step], labels[::step], rotation=0, fontsize=9)


def plot_activity(per_rep: pd.DataFrame | None, trend: pd.DataFrame | None = None, *, missing: str = "",
                  title: str = "Activities per rep per working day") -> Figure:
    """Spread of per-rep activity per working day by role (box and points; diamond: pooled rate), and beside
    it the pooled rate per role and quarter.

    Parameters
    ----------
    per_rep : DataFrame
        :func:`salesops.kpi.activity_per_working_day` with ``by=["rep_id", "role"]``.
    trend : DataFrame, optional
        The same with ``by="role", period="quarter"``.
    """
    empty = _unavailable(per_rep, missing, title)
    if empty is not None:
        return empty
    df = per_rep[per_rep["working_days"] > 0]
    roles = sorted(df["role"].dropna().unique())
    ncols = 2 if trend is not None and len(trend) else 1
    fig, axes = plt.subplots(1, ncols, figsize=(11 if ncols == 2 else 8, 1.1 * len(roles) + 2.4), squeeze=False,
                             gridspec_kw={"width_ratios": [1.1, 1][:ncols]})
    ax = axes[0, 0]
    values = [df.loc[df["role"].eq(r), "per_day"].to_numpy() for r in roles]
    ax.boxplot(values, positions=np.arange(len(roles)), orientation="horizontal", widths=0.5, showfliers=False,
               patch_artist=True, boxprops={"facecolor": "#dfe6ee", "edgecolor": "#7b8794"},
               medianprops={"color": "#1f2933"}, whiskerprops={"color": "#7b8794"}, capprops={"color": "#7b8794"})
    rng = np.random.default_rng(0)  # fixed jitter: the same data draw the same figure
    for i, v in enumerate(values):
        ax.scatter(v, i + rng.uniform(-0.18, 0.18, v.size), color=PALETTE[0], s=14, alpha=0.7, zorder=3)
    ax.set_yticks(np.arange(len(roles)), roles)
    ax.invert_yaxis()
    pooled = df.groupby("role")["activities"].sum() / df.groupby("role")["working_days"].sum()
    ax.scatter(pooled.reindex(roles), np.arange(len(roles)), marker="D", color=HIGHLIGHT, s=60, zorder=5,
               label="all reps pooled")
    ax.set_xlabel("activities per working day (one point per rep)")
    ax.set_ylabel("")
    ax.legend(loc="upper center", frameon=False, fontsize=9)
    ax.set_title("Spread across reps")
    if ncols == 2:
        ax2 = axes[0, 1]
        labels = sorted(trend["period"].unique())
        for i, (role, g) in enumerate(trend.groupby("role", sort=True)):
            g = g.set_index("period").reindex(labels)
            ax2.plot(np.arange(len(labels)), g["per_day"], marker="o", ms=3, color=PALETTE[i % len(PALETTE)], label=role)
        _period_ticks(ax2, labels)
        ax2.set_ylim(bottom=0)
        ax2.set_ylabel("per working day")
        ax2.legend(frameon=False, fontsize=9)
        ax2.set_title("Per quarter")
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    return _finish(fig)


def plot_win_rates(table: pd.DataFrame | None, trend: pd.DataFrame | None = None, *, missing: str = "",
                   title: str = "Win rate") -> Figure:
    """Win rate by group with 95% intervals (circles: by count, diamonds: by value), and per quarter with
    its interval band.

    Parameters
    ----------
    table : DataFrame
        ``group, win_rate, lower, upper, value_win_rate`` (the win-rate panel's table).
    trend : DataFrame, optional
        :func:`salesops.kpi.win_rates` with ``by=None, period="quarter"``.
    """
    empty = _unavailable(table, missing, title)
    if empty is not None:
        return empty
    ncols = 2 if trend is not None and len(trend) else 1
    fig, axes = plt.subplots(1, ncols, figsize=(11 if ncols == 2 else 7, 0.45 * len(table) + 2.8), squeeze=False)
    ax = axes[0, 0]
    y = np.arange(len(table))[::-1]
    colors = [HIGHLIGHT if g == "all" else PALETTE[0] for g in table["group"]]
    ax.hlines(y, table["lower"], table["upper"], color=colors, linewidth=2.5)
    ax.scatter(table["win_rate"], y, color=colors, s=45, zorder=3, label="by count (95% interval)")
    ax.scatter(table["value_win_rate"], y, color=PALETTE[3], marker="D", s=30, zorder=3, label="by value")
    ax.set_yticks(y, table["group"])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlim(left=0)
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    ax.set_title("This quarter")
    if ncols == 2:
        ax2 = axes[0, 1]
        x = np.arange(len(trend))
        ax2.fill_between(x, trend["lower"], trend["upper"], color=PALETTE[0], alpha=0.15, linewidth=0)
        ax2.plot(x, trend["win_rate"], marker="o", ms=3, color=PALETTE[0])
        ax2.scatter(x[-1:], trend["win_rate"].iloc[-1:], color=HIGHLIGHT, s=60, zorder=4)
        _period_ticks(ax2, list(trend["period"]))
        ax2.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax2.set_ylim(bottom=0)
        ax2.set_title("Per quarter (band: 95% interval)")
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    return _finish(fig)


def plot_rep_win_rates(table: pd.DataFrame | None, *, missing: str = "", max_reps: int = 20,
                       title: str = "Win rate per rep: raw and shrunk") -> Figure:
    """One row per rep and one panel per group: the raw rate (hollow), the shrunk rate (filled) with its
    posterior interval, and the group's prior mean (dashed). Reps are ordered by shrunk rate; a rep flagged
    on the deals to date (``flag`` column: ``under`` / ``over``) has it after their name.

    Parameters
    ----------
    table : DataFrame
        :func:`salesops.kpi.rep_win_rates` renamed as in the per-rep panel (``group``, ``name``).
    max_reps : int
        Reps shown per group (the top and bottom halves when there are more).
    """
    empty = _unavailable(table, missing, title)
    if empty is not None:
        return empty
    groups = list(dict.fromkeys(table["group"]))
    n = min(max(table.groupby("group").size()), max_reps)
    fig, axes = plt.subplots(1, len(groups), figsize=(min(4.2 * len(groups), 14), 0.32 * n + 2.0), squeeze=False)
    for ax, group in zip(axes[0], groups):
        g = table[table["group"].eq(group)].sort_values("shrunk_rate", ascending=True)
        if len(g) > max_reps:
            g = pd.concat([g.head(max_reps // 2), g.tail(max_reps - max_reps // 2)])
        y = np.arange(len(g))
        label = g["name"] if "name" in g.columns else g["rep_id"]
        ax.hlines(y, g["lower"], g["upper"], color=PALETTE[0], alpha=0.35, linewidth=3)
        ax.scatter(g["raw_rate"], y, facecolors="none", edgecolors=PALETTE[4], s=30, label="raw")
        ax.scatter(g["shrunk_rate"], y, color=PALETTE[0], s=30, zorder=3, label="shrunk")
        ax.axvline(g["prior_mean"].iloc[0], color=HIGHLIGHT, linestyle="--", linewidth=1)
        flag = g["flag"].fillna("") if "flag" in g.columns else pd.Series("", index=g.index)
        ax.set_yticks(y, [f"{name} ({int(c)}){' ' + f if f else ''}" for name, c, f in zip(label, g["closed"], flag)],
                      fontsize=8)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_title(str(group), fontsize=11)
        ax.grid(axis="y", visible=False)
    axes[0, 0].legend(loc="lower right", frameon=False, fontsize=8)
    fig.suptitle(title + " (deals closed in brackets)", x=0.01, ha="left", fontweight="bold")
    return _finish(fig)


def plot_cycle(curves: pd.DataFrame | None, table: pd.DataFrame | None = None, *, by: str | None = None,
               missing: str = "", title: str = "Share of deals won by days since creation") -> Figure:
    """Kaplan–Meier curves :math:`1 - \\hat S(t)` per group (band: 95% interval), with the Kaplan–Meier median
    (dot) and the naive median of won deals only (cross).

    Parameters
    ----------
    curves : DataFrame
        :func:`salesops.kpi.cycle_curves`.
    table : DataFrame, optional
        The cycle panel's table (``group, median, naive_median``).
    by : str, optional
        The grouping column of ``curves`` (None: one curve).
    """
    empty = _unavailable(curves, missing, title)
    if empty is not None:
        return empty
    fig, ax = plt.subplots(figsize=(9, 4.6))
    groups = [(None, curves)] if by is None or by not in curves.columns else list(curves.groupby(by, sort=True))
    for i, (name, g) in enumerate(groups):
        color = PALETTE[i % len(PALETTE)]
        label = "all" if name is None else str(name)
        ax.step(g["time"], 1 - g["survival"], where="post", color=color, label=label)
        ax.fill_between(g["time"], 1 - g["upper"], 1 - g["lower"], step="post", color=color, alpha=0.12, linewidth=0)
        if table is not None:
            row = table[table["group"].eq(label)]
            if len(row) and np.isfinite(row["median"].iloc[0]):
                ax.scatter(row["median"], [1 - 0.5 * 1.0], color=color, s=40, zorder=4)
                ax.scatter(row["naive_median"], [0.5], color=color, marker="x", s=40, zorder=4)
    top = max(float(np.nanmax(1 - g["survival"])) for _, g in groups) if groups else 1.0
    ax.axhline(0.5, color="#9aa5b1", linewidth=0.8, linestyle=":")
    ax.set_xlabel("days since the deal was created")
    ax.set_ylabel("share of eventual wins closed")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(0, max(1.0, top) * 1.02)
    ax.set_xlim(left=0)
    ax.legend(frameon=False, fontsize=9, loc="lower right",
              title="dot: Kaplan-Meier median, cross: won deals only", title_fontsize=8)
    ax.set_title(title)
    return _finish(fig)


def plot_bookings(quarterly: pd.DataFrame | None, *, missing: str = "", highlight: str | None = None,
                  title: str = "Bookings per quarter (Q4 in amber)") -> Figure:
    """Bookings per quarter, fourth quarters in amber and the quarter under review outlined.

    Parameters
    ----------
    quarterly : DataFrame
        :func:`salesops.kpi.bookings` with ``period="quarter"`` and no ``by``.
    highlight : str, optional
        Quarter label to outline (``2025Q4``).
    """
    empty = _unavailable(quarterly, missing, title)
    if empty is not None:
        return empty
    labels = list(quarterly["period"])
    colors = [HIGHLIGHT if p.endswith("Q4") else PALETTE[0] for p in labels]
    fig, ax = plt.subplots(figsize=(9, 4))
    bars = ax.bar(np.arange(len(labels)), quarterly["bookings"], color=colors, width=0.75)
    if highlight in labels:
        bars[labels.index(highlight)].set_edgecolor("#1f2933")
        bars[labels.index(highlight)].set_linewidth(1.5)
    _period_ticks(ax, labels, every=1 if len(labels) <= 12 else None)
    ax.tick_params(axis="x", labelsize=8)
    _money_axis(ax)
    ax.set_ylabel("won amount")
    ax.set_title(title)
    ax.grid(axis="x", visible=False)
    return _finish(fig)


def plot_cac(by_channel: pd.DataFrame | None, trend: pd.DataFrame | None = None, *, missing: str = "",
             title: str = "Customer acquisition cost") -> Figure:
    """CAC by channel split into marketing and sales cost per customer (line: 95% interval), and blended CAC
    per quarter.

    Parameters
    ----------
    by_channel : DataFrame
        :func:`salesops.kpi.cac` with ``by="channel"``.
    trend : DataFrame, optional
        :func:`salesops.kpi.cac` with ``by=None, period="quarter"``.
    """
    empty = _unavailable(by_channel, missing, title)
    if empty is not None:
        return empty
    df = by_channel[by_channel["new_customers"] > 0].sort_values("cac")
    if df.empty:
        return _empty(title, "no new customer was won in this window")
    ncols = 2 if trend is not None and len(trend) else 1
    fig, axes = plt.subplots(1, ncols, figsize=(11 if ncols == 2 else 7, 0.45 * len(df) + 2.4), squeeze=False)
    ax = axes[0, 0]
    y = np.arange(len(df))
    marketing = df["marketing_spend"] / df["new_customers"]
    sales = df["sales_costs"] / df["new_customers"]
    ax.barh(y, marketing, color=PALETTE[1], label="marketing per customer")
    ax.barh(y, sales, left=marketing, color=PALETTE[0], label="sales per customer")
    ax.hlines(y, df["lower"], df["upper"], color="#1f2933", linewidth=1.2)
    ax.set_yticks(y, [f"{c} ({n})" for c, n in zip(df["channel"], df["new_customers"])])
    _money_axis(ax, "x")
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    ax.set_title("By channel (new customers)")
    ax.grid(axis="y", visible=False)
    if ncols == 2:
        ax2 = axes[0, 1]
        x = np.arange(len(trend))
        ax2.fill_between(x, trend["lower"], trend["upper"], color=PALETTE[0], alpha=0.15, linewidth=0)
        ax2.plot(x, trend["cac"], marker="o", ms=3, color=PALETTE[0])
        _period_ticks(ax2, list(trend["period"]))
        _money_axis(ax2)
        ax2.set_ylim(bottom=0)
        ax2.set_title("Blended, per quarter")
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    return _finish(fig)


def plot_churn(table: pd.DataFrame | None, retention: pd.DataFrame | None = None, *, missing: str = "",
               min_accounts: int = 10, title: str = "Churn and retention") -> Figure:
    """Monthly churn by group (revenue and customers, lines: 95% intervals), and logo retention curves of
    the quarterly start cohorts.

    Parameters
    ----------
    table : DataFrame
        The churn panel's table (``group, churn, lower, upper, logo_churn, logo_lower, logo_upper``).
    retention : DataFrame, optional
        :func:`salesops.kpi.cohort_retention`.
    min_accounts : int
        Points of a cohort observed on fewer accounts are not drawn.
    """
    empty = _unavailable(table, missing, title)
    if empty is not None:
        return empty
    ncols = 2 if retention is not None and len(retention) else 1
    fig, axes = plt.subplots(1, ncols, figsize=(11 if ncols == 2 else 7, 0.5 * len(table) + 2.8), squeeze=False)
    ax = axes[0, 0]
    y = np.arange(len(table))[::-1]
    ax.hlines(y + 0.12, table["lower"], table["upper"], color=PALETTE[0], linewidth=2)
    ax.scatter(table["churn"], y + 0.12, color=PALETTE[0], s=35, label="revenue", zorder=3)
    if "logo_churn" in table.columns:
        ax.hlines(y - 0.12, table["logo_lower"], table["logo_upper"], color=PALETTE[3], linewidth=2)
        ax.scatter(table["logo_churn"], y - 0.12, color=PALETTE[3], marker="s", s=30, label="customers", zorder=3)
    ax.set_yticks(y, table["group"])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_xlim(left=0)
    ax.legend(loc="upper right", frameon=False, fontsize=9, ncol=2, bbox_to_anchor=(1.0, 1.08))
    ax.set_title("Monthly churn", pad=16)
    if ncols == 2:
        ax2 = axes[0, 1]
        cohorts = sorted(retention["cohort"].unique())
        cmap = plt.get_cmap("Blues")
        for i, c in enumerate(cohorts):
            g = retention[retention["cohort"].eq(c) & (retention["accounts"] >= min_accounts)]
            ax2.plot(g["months_since_start"], g["retention"], color=cmap(0.35 + 0.6 * i / max(1, len(cohorts) - 1)),
                     linewidth=1.2, label=c if i in (0, len(cohorts) - 1) else None)
        ax2.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax2.set_xlabel("months since first revenue")
        ax2.set_ylabel("customers still paying")
        ax2.legend(frameon=False, fontsize=8, title="start cohort", title_fontsize=8)
        ax2.set_title("Retention by start cohort")
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    return _finish(fig)


def plot_ltv_to_cac(ratio: pd.DataFrame | None, *, missing: str = "", on: str = "channel",
                    title: str = "LTV:CAC by acquisition channel") -> Figure:
    """LTV:CAC per channel with its interval, against the usual bar of 3.

    Parameters
    ----------
    ratio : DataFrame
        :func:`salesops.kpi.ltv_to_cac` with ``on``.
    """
    empty = _unavailable(ratio, missing, title)
    if empty is not None:
        return empty
    df = ratio[np.isfinite(ratio["ltv_to_cac"])].sort_values("ltv_to_cac")
    if df.empty:
        return _empty(title, "no channel has both an LTV and a CAC")
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(df) + 1.8))
    y = np.arange(len(df))
    ax.barh(y, df["ltv_to_cac"], color=PALETTE[1])
    upper = df["upper"].where(np.isfinite(df["upper"]), df["ltv_to_cac"])
    ax.hlines(y, df["lower"], upper, color="#1f2933", linewidth=1.2)
    ax.axvline(3, color=HIGHLIGHT, linestyle="--", linewidth=1.2, label="3:1")
    ax.set_yticks(y, df[on])
    ax.set_xlabel("lifetime value / acquisition cost")
    ax.legend(frameon=False, loc="lower right", fontsize=9)
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    return _finish(fig)


def plot_clv(customers: pd.DataFrame | None, *, missing: str = "",
             title: str = "Expected value of each customer over the next months") -> Figure:
    """Histogram of per-customer transactional CLV (log-spaced bins), mean marked.

    Parameters
    ----------
    customers : DataFrame
        :func:`salesops.kpi.transactional_ltv`.
    """
    empty = _unavailable(customers, missing, title)
    if empty is not None:
        return empty
    clv = customers["clv"].to_numpy(dtype=float)
    clv = clv[np.isfinite(clv) & (clv > 0)]
    if clv.size == 0:
        return _empty(title, "no customer has a positive expected value")
    fig, ax = plt.subplots(figsize=(9, 4))
    bins = np.geomspace(max(clv.min(), 1e-2), clv.max() * 1.01, 40)
    ax.hist(clv, bins=bins, color=PALETTE[0])
    ax.set_xscale("log")
    ax.axvline(clv.mean(), color=HIGHLIGHT, linestyle="--", label=f"mean {clv.mean():,.2f}")
    ax.set_xlabel("expected value (log scale)")
    ax.set_ylabel("customers")
    ax.legend(frameon=False)
    ax.set_title(title)
    return _finish(fig)
